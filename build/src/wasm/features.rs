//! Which WebAssembly proposals a module uses, read from the code itself: every instruction
//! (function bodies and constant expressions), the types, the memories and tables, and the
//! sections. A `target_features` section is not trusted (Go's output has none but uses
//! bulk memory; a stripped module has none at all).

use std::collections::BTreeSet;

use wasmparser::{
    CompositeInnerType, ConstExpr, Operator, Parser, Payload, RefType, TypeRef, ValType,
};

/// Feature names, as Binaryen spells them where it knows them.
pub const SIGN_EXT: &str = "sign-ext";
pub const MUTABLE_GLOBALS: &str = "mutable-globals";
pub const TRUNC_SAT: &str = "nontrapping-float-to-int";
pub const SIMD: &str = "simd";
pub const BULK_MEMORY: &str = "bulk-memory";
pub const EXCEPTION_HANDLING: &str = "exception-handling";
pub const TAIL_CALL: &str = "tail-call";
pub const REFERENCE_TYPES: &str = "reference-types";
pub const MULTIVALUE: &str = "multivalue";
pub const GC: &str = "gc";
pub const MEMORY64: &str = "memory64";
pub const RELAXED_SIMD: &str = "relaxed-simd";
pub const EXTENDED_CONST: &str = "extended-const";
pub const MULTI_MEMORY: &str = "multi-memory";
pub const THREADS: &str = "threads";
/// Proposals newer than Binaryen 116.
pub const EXNREF: &str = "exnref";
pub const WIDE_ARITHMETIC: &str = "wide-arithmetic";
pub const STACK_SWITCHING: &str = "stack-switching";
pub const CUSTOM_PAGE_SIZES: &str = "custom-page-sizes";
/// `table.init`, `elem.drop`, `table.copy`: bulk memory's table half, which Binaryen 116
/// cannot read (LLVM does not emit them).
pub const TABLE_BULK: &str = "bulk-table-ops";
/// 64-bit tables (the memory64 proposal's second half; Binaryen 116 reads only 64-bit memories).
pub const TABLE64: &str = "table64";
pub const OTHER: &str = "other-proposal";

/// The proposal an instruction comes from (wasmparser's own tagging).
fn proposal(op: &Operator<'_>) -> &'static str {
    macro_rules! define_match {
        ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
            match op {
                $( Operator::$op { .. } => stringify!($proposal), )*
                _ => "unknown",
            }
        };
    }
    wasmparser::for_each_operator!(define_match)
}

/// What the instruction adds to the feature set, beyond the MVP.
fn feature_of(op: &Operator<'_>) -> Option<&'static str> {
    Some(match proposal(op) {
        "mvp" => return None,
        "sign_extension" => SIGN_EXT,
        "saturating_float_to_int" => TRUNC_SAT,
        "bulk_memory" => BULK_MEMORY,
        "reference_types" => REFERENCE_TYPES,
        "simd" => SIMD,
        "relaxed_simd" => RELAXED_SIMD,
        "threads" => THREADS,
        "tail_call" => TAIL_CALL,
        "legacy_exceptions" => EXCEPTION_HANDLING,
        "exceptions" => EXNREF,
        "gc" | "function_references" => GC,
        "wide_arithmetic" => WIDE_ARITHMETIC,
        "stack_switching" => STACK_SWITCHING,
        _ => OTHER,
    })
}

/// The features a core module uses. Components are not analysed here (their core modules are).
pub fn detect(bytes: &[u8]) -> Result<BTreeSet<&'static str>, wasmparser::BinaryReaderError> {
    let mut used = BTreeSet::new();
    let mut memories = 0usize;
    let mut tables = 0usize;
    // Mutability of each global in index space order (imports first).
    let mut globals: Vec<bool> = Vec::new();
    let const_expr = |expr: &ConstExpr<'_>,
                      used: &mut BTreeSet<&'static str>|
     -> Result<(), wasmparser::BinaryReaderError> {
        let mut reader = expr.get_operators_reader();
        while !reader.eof() {
            let op = reader.read()?;
            if matches!(
                op,
                Operator::I32Add
                    | Operator::I32Sub
                    | Operator::I32Mul
                    | Operator::I64Add
                    | Operator::I64Sub
                    | Operator::I64Mul
            ) {
                used.insert(EXTENDED_CONST);
            } else if let Some(feature) = feature_of(&op) {
                used.insert(feature);
            }
        }
        Ok(())
    };
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    let group = group?;
                    if group.is_explicit_rec_group() {
                        used.insert(GC);
                    }
                    for sub in group.types() {
                        if !sub.is_final || sub.supertype_idx.is_some() {
                            used.insert(GC);
                        }
                        match &sub.composite_type.inner {
                            CompositeInnerType::Func(func) => {
                                if func.results().len() > 1 {
                                    used.insert(MULTIVALUE);
                                }
                                for ty in func.params().iter().chain(func.results()) {
                                    val_type(ty, &mut used);
                                }
                            }
                            CompositeInnerType::Array(_) | CompositeInnerType::Struct(_) => {
                                used.insert(GC);
                            }
                            CompositeInnerType::Cont(_) => {
                                used.insert(STACK_SWITCHING);
                            }
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    match import?.ty {
                        TypeRef::Memory(memory) => {
                            memories += 1;
                            memory_type(&memory, &mut used);
                        }
                        TypeRef::Table(table) => {
                            tables += 1;
                            table_type(&table, &mut used);
                        }
                        TypeRef::Global(global) => {
                            globals.push(global.mutable);
                            if global.mutable {
                                used.insert(MUTABLE_GLOBALS);
                            }
                            val_type(&global.content_type, &mut used);
                        }
                        TypeRef::Tag(_) => {
                            used.insert(EXCEPTION_HANDLING);
                        }
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => {}
                    }
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    tables += 1;
                    table_type(&table.ty, &mut used);
                    if let wasmparser::TableInit::Expr(expr) = &table.init {
                        used.insert(GC);
                        const_expr(expr, &mut used)?;
                    }
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    memories += 1;
                    memory_type(&memory?, &mut used);
                }
            }
            Payload::TagSection(_) => {
                used.insert(EXCEPTION_HANDLING);
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    globals.push(global.ty.mutable);
                    val_type(&global.ty.content_type, &mut used);
                    const_expr(&global.init_expr, &mut used)?;
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let mutable = globals.get(export.index as usize).copied().unwrap_or(false);
                    if export.kind == wasmparser::ExternalKind::Global && mutable {
                        used.insert(MUTABLE_GLOBALS);
                    }
                }
            }
            Payload::DataCountSection { .. } => {
                used.insert(BULK_MEMORY);
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    match data?.kind {
                        wasmparser::DataKind::Passive => {
                            used.insert(BULK_MEMORY);
                        }
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => {
                            if memory_index != 0 {
                                used.insert(MULTI_MEMORY);
                            }
                            const_expr(&offset_expr, &mut used)?;
                        }
                    }
                }
            }
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element?;
                    match &element.kind {
                        wasmparser::ElementKind::Passive | wasmparser::ElementKind::Declared => {
                            // Segments without a table came with bulk memory and reference
                            // types; Binaryen wants the latter for them.
                            used.insert(BULK_MEMORY);
                            used.insert(REFERENCE_TYPES);
                        }
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => {
                            if table_index.is_some_and(|t| t != 0) {
                                used.insert(REFERENCE_TYPES);
                            }
                            const_expr(offset_expr, &mut used)?;
                        }
                    }
                    if let wasmparser::ElementItems::Expressions(ty, exprs) = element.items {
                        ref_type(&ty, &mut used);
                        for expr in exprs {
                            const_expr(&expr?, &mut used)?;
                        }
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut locals = body.get_locals_reader()?;
                for _ in 0..locals.get_count() {
                    let (_, ty) = locals.read()?;
                    val_type(&ty, &mut used);
                }
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    let op = ops.read()?;
                    if let Some(feature) = feature_of(&op) {
                        used.insert(feature);
                    }
                    if matches!(
                        op,
                        Operator::TableInit { .. }
                            | Operator::ElemDrop { .. }
                            | Operator::TableCopy { .. }
                    ) {
                        used.insert(TABLE_BULK);
                    }
                    match &op {
                        Operator::CallIndirect { table_index, .. } if *table_index != 0 => {
                            used.insert(REFERENCE_TYPES);
                        }
                        Operator::Block { blockty }
                        | Operator::Loop { blockty }
                        | Operator::If { blockty } => {
                            if let wasmparser::BlockType::FuncType(_) = blockty {
                                used.insert(MULTIVALUE);
                            }
                        }
                        Operator::MemorySize { mem, .. } | Operator::MemoryGrow { mem, .. }
                            if *mem != 0 =>
                        {
                            used.insert(MULTI_MEMORY);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if memories > 1 {
        used.insert(MULTI_MEMORY);
    }
    if tables > 1 {
        used.insert(REFERENCE_TYPES);
    }
    Ok(used)
}

fn val_type(ty: &ValType, used: &mut BTreeSet<&'static str>) {
    match ty {
        ValType::V128 => {
            used.insert(SIMD);
        }
        ValType::Ref(r) => ref_type(r, used),
        _ => {}
    }
}

fn ref_type(ty: &RefType, used: &mut BTreeSet<&'static str>) {
    if *ty == RefType::FUNCREF {
        return;
    }
    if *ty == RefType::EXTERNREF {
        used.insert(REFERENCE_TYPES);
    } else if *ty == RefType::EXNREF || *ty == RefType::EXNREF.nullable() {
        used.insert(EXNREF);
    } else {
        used.insert(REFERENCE_TYPES);
        used.insert(GC);
    }
}

fn table_type(table: &wasmparser::TableType, used: &mut BTreeSet<&'static str>) {
    ref_type(&table.element_type, used);
    if table.table64 {
        used.insert(TABLE64);
    }
}

fn memory_type(memory: &wasmparser::MemoryType, used: &mut BTreeSet<&'static str>) {
    if memory.memory64 {
        used.insert(MEMORY64);
    }
    if memory.shared {
        used.insert(THREADS);
    }
    if memory.page_size_log2.is_some() {
        used.insert(CUSTOM_PAGE_SIZES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(wat: &str) -> Vec<&'static str> {
        detect(&wat::parse_str(wat).expect("valid wat"))
            .expect("valid module")
            .into_iter()
            .collect()
    }

    #[test]
    fn mvp_module_uses_nothing_extra() {
        assert!(
            features("(module (func (export \"f\") (param i32) (result i32) local.get 0))")
                .is_empty()
        );
    }

    #[test]
    fn features_from_instructions_types_and_sections() {
        assert_eq!(
            features(
                "(module (memory 1) (func (memory.copy (i32.const 0) (i32.const 0) (i32.const 0))))"
            ),
            [BULK_MEMORY]
        );
        assert_eq!(
            features("(module (func (result i32 i32) i32.const 1 i32.const 2))"),
            [MULTIVALUE]
        );
        assert_eq!(
            features("(module (func (param i32) (result i32) local.get 0 i32.extend8_s))"),
            [SIGN_EXT]
        );
        assert_eq!(
            features("(module (func (param f32) (result i32) local.get 0 i32.trunc_sat_f32_s))"),
            [TRUNC_SAT]
        );
        assert_eq!(
            features("(module (func (result v128) v128.const i32x4 0 0 0 0))"),
            [SIMD]
        );
        assert_eq!(features("(module (memory 1 1 shared))"), [THREADS]);
        assert_eq!(features("(module (memory i64 1))"), [MEMORY64]);
        assert_eq!(features("(module (table 1 externref))"), [REFERENCE_TYPES]);
        assert_eq!(
            features("(module (func $f) (func (return_call $f)))"),
            [TAIL_CALL]
        );
        assert_eq!(
            features("(module (global i32 (i32.add (i32.const 1) (i32.const 2))))"),
            [EXTENDED_CONST]
        );
        assert_eq!(features("(module (type (struct (field i32))))"), [GC]);
        assert_eq!(
            features("(module (global (export \"g\") (mut i32) (i32.const 0)))"),
            [MUTABLE_GLOBALS]
        );
        assert_eq!(
            features(
                "(module (func (param i64 i64 i64 i64) (result i64 i64) local.get 0 local.get 1 local.get 2 local.get 3 i64.add128))"
            ),
            [MULTIVALUE, WIDE_ARITHMETIC]
        );
    }
}
