//! What is inside a module or component: sections and their sizes, imports and exports with
//! their types, memories, tables, globals, the features used, who produced it, and for a
//! component its WIT world.

use std::collections::BTreeMap;

use wasmparser::{CompositeInnerType, ExternalKind, FuncType, Parser, Payload, TypeRef};

use super::features;

/// The report of `wasmforge inspect`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    /// `module` or `component`.
    pub kind: &'static str,
    pub size: u64,
    /// Every top-level section in file order.
    pub sections: Vec<Section>,
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
    pub memories: Vec<Memory>,
    pub tables: Vec<Table>,
    pub globals: Vec<Global>,
    /// Proposals the code uses beyond the MVP (core modules; for components, their modules').
    pub features: Vec<String>,
    /// The `producers` section: field (`language`, `processed-by`, `sdk`) → name → version.
    pub producers: BTreeMap<String, BTreeMap<String, String>>,
    /// Components only: the WIT world they import and export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wit: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Section {
    /// `type`, `import`, `function`, …, `code`, `data`, or `custom`.
    pub id: String,
    /// The custom section's name; for standard sections the same as `id`.
    pub name: String,
    /// Bytes, including the section header.
    pub size: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: String,
    /// The function signature, global type, memory or table limits.
    #[serde(rename = "type")]
    pub ty: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Export {
    pub name: String,
    pub kind: String,
    #[serde(rename = "type")]
    pub ty: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Memory {
    pub imported: bool,
    /// In pages (64 KiB unless a custom page size is set).
    pub initial: u64,
    pub maximum: Option<u64>,
    pub memory64: bool,
    pub shared: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Table {
    pub imported: bool,
    pub element: String,
    pub initial: u64,
    pub maximum: Option<u64>,
}

impl Memory {
    fn new(m: &wasmparser::MemoryType, imported: bool) -> Memory {
        Memory {
            imported,
            initial: m.initial,
            maximum: m.maximum,
            memory64: m.memory64,
            shared: m.shared,
        }
    }
}

impl Table {
    fn new(t: &wasmparser::TableType, imported: bool) -> Table {
        Table {
            imported,
            element: t.element_type.to_string(),
            initial: t.initial,
            maximum: t.maximum,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Global {
    pub imported: bool,
    #[serde(rename = "type")]
    pub ty: String,
    pub mutable: bool,
}

fn section_id(payload: &Payload<'_>) -> Option<(&'static str, String)> {
    let id = match payload {
        Payload::TypeSection(_) => "type",
        Payload::ImportSection(_) => "import",
        Payload::FunctionSection(_) => "function",
        Payload::TableSection(_) => "table",
        Payload::MemorySection(_) => "memory",
        Payload::TagSection(_) => "tag",
        Payload::GlobalSection(_) => "global",
        Payload::ExportSection(_) => "export",
        Payload::StartSection { .. } => "start",
        Payload::ElementSection(_) => "element",
        Payload::DataCountSection { .. } => "datacount",
        Payload::DataSection(_) => "data",
        Payload::CodeSectionStart { .. } => "code",
        Payload::CustomSection(c) => return Some(("custom", c.name().to_string())),
        Payload::ModuleSection { .. } => "core-module",
        Payload::InstanceSection(_) => "core-instance",
        Payload::CoreTypeSection(_) => "core-type",
        Payload::ComponentSection { .. } => "component",
        Payload::ComponentInstanceSection(_) => "instance",
        Payload::ComponentAliasSection(_) => "alias",
        Payload::ComponentTypeSection(_) => "component-type",
        Payload::ComponentCanonicalSection(_) => "canonical",
        Payload::ComponentStartSection { .. } => "component-start",
        Payload::ComponentImportSection(_) => "component-import",
        Payload::ComponentExportSection(_) => "component-export",
        _ => return None,
    };
    Some((id, id.to_string()))
}

fn func_sig(ty: &FuncType) -> String {
    let list = |types: &[wasmparser::ValType]| {
        types
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(ty.params()), list(ty.results()))
}

fn limits(initial: u64, maximum: Option<u64>) -> String {
    match maximum {
        Some(max) => format!("{initial}..{max}"),
        None => format!("{initial}.."),
    }
}

/// Inspects a module or component.
pub fn inspect(bytes: &[u8]) -> Result<Inspection, wasmparser::BinaryReaderError> {
    let is_component = Parser::is_component(bytes);
    let mut report = Inspection {
        kind: if is_component { "component" } else { "module" },
        size: bytes.len() as u64,
        sections: Vec::new(),
        imports: Vec::new(),
        exports: Vec::new(),
        memories: Vec::new(),
        tables: Vec::new(),
        globals: Vec::new(),
        features: Vec::new(),
        producers: BTreeMap::new(),
        wit: None,
    };
    // Function signatures by type index, and the type of each function in index space.
    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut parser = Parser::new(0);
    let mut offset = 0usize;
    let mut core_features = std::collections::BTreeSet::new();
    loop {
        let chunk = parser.parse(&bytes[offset..], true)?;
        let (consumed, payload) = match chunk {
            wasmparser::Chunk::Parsed { consumed, payload } => (consumed, payload),
            wasmparser::Chunk::NeedMoreData(_) => break,
        };
        offset += consumed;
        if let (Some((id, name)), Some((_, range))) = (section_id(&payload), payload.as_section()) {
            // Section size including its id byte and LEB length.
            let start = section_start(bytes, range.start);
            report.sections.push(Section {
                id: id.to_string(),
                name,
                size: (range.end - start) as u64,
            });
        }
        match payload {
            // Nested modules and components are not descended into (the manual `parse` loop
            // leaves them to their own parser): their bytes are skipped.
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                // A component's features are those of its core modules.
                if let Ok(used) = features::detect(&bytes[unchecked_range.clone()]) {
                    core_features.extend(used);
                }
                offset = unchecked_range.end;
            }
            Payload::ComponentSection {
                unchecked_range, ..
            } => offset = unchecked_range.end,
            Payload::End(_) => break,
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group?.into_types() {
                        types.push(match sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let (kind, ty) = match import.ty {
                        TypeRef::Func(index) | TypeRef::FuncExact(index) => {
                            funcs.push(index);
                            (
                                "func",
                                types
                                    .get(index as usize)
                                    .cloned()
                                    .flatten()
                                    .map(|f| func_sig(&f))
                                    .unwrap_or_default(),
                            )
                        }
                        TypeRef::Memory(m) => {
                            report.memories.push(Memory::new(&m, true));
                            ("memory", limits(m.initial, m.maximum))
                        }
                        TypeRef::Table(t) => {
                            report.tables.push(Table::new(&t, true));
                            (
                                "table",
                                format!("{} {}", t.element_type, limits(t.initial, t.maximum)),
                            )
                        }
                        TypeRef::Global(g) => {
                            report.globals.push(Global {
                                imported: true,
                                ty: g.content_type.to_string(),
                                mutable: g.mutable,
                            });
                            (
                                "global",
                                format!(
                                    "{}{}",
                                    if g.mutable { "mut " } else { "" },
                                    g.content_type
                                ),
                            )
                        }
                        TypeRef::Tag(_) => ("tag", String::new()),
                    };
                    report.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind: kind.to_string(),
                        ty,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for index in reader {
                    funcs.push(index?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    report.tables.push(Table::new(&table?.ty, false));
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    report.memories.push(Memory::new(&memory?, false));
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let g = global?.ty;
                    report.globals.push(Global {
                        imported: false,
                        ty: g.content_type.to_string(),
                        mutable: g.mutable,
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let (kind, ty) = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => (
                            "func",
                            funcs
                                .get(export.index as usize)
                                .and_then(|t| types.get(*t as usize).cloned().flatten())
                                .map(|f| func_sig(&f))
                                .unwrap_or_default(),
                        ),
                        ExternalKind::Memory => ("memory", String::new()),
                        ExternalKind::Table => ("table", String::new()),
                        ExternalKind::Global => (
                            "global",
                            report
                                .globals
                                .get(export.index as usize)
                                .map(|g| g.ty.clone())
                                .unwrap_or_default(),
                        ),
                        ExternalKind::Tag => ("tag", String::new()),
                    };
                    report.exports.push(Export {
                        name: export.name.to_string(),
                        kind: kind.to_string(),
                        ty,
                    });
                }
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import?;
                    report.imports.push(Import {
                        module: String::new(),
                        name: import.name.name.to_string(),
                        kind: component_kind(&import.ty).into(),
                        ty: String::new(),
                    });
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = match export.kind {
                        wasmparser::ComponentExternalKind::Module => "module",
                        wasmparser::ComponentExternalKind::Func => "func",
                        wasmparser::ComponentExternalKind::Value => "value",
                        wasmparser::ComponentExternalKind::Type => "type",
                        wasmparser::ComponentExternalKind::Instance => "instance",
                        wasmparser::ComponentExternalKind::Component => "component",
                    };
                    report.exports.push(Export {
                        name: export.name.name.to_string(),
                        kind: kind.into(),
                        ty: String::new(),
                    });
                }
            }
            Payload::CustomSection(section) if section.name() == "producers" => {
                if let wasmparser::KnownCustom::Producers(reader) = section.as_known() {
                    for field in reader {
                        let field = field?;
                        let entry = report.producers.entry(field.name.to_string()).or_default();
                        for value in field.values {
                            let value = value?;
                            entry.insert(value.name.to_string(), value.version.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if is_component {
        report.wit = wit_world(bytes);
    } else {
        core_features = features::detect(bytes)?;
    }
    report.features = core_features.into_iter().map(str::to_string).collect();
    Ok(report)
}

fn component_kind(ty: &wasmparser::ComponentTypeRef) -> &'static str {
    match ty {
        wasmparser::ComponentTypeRef::Module(_) => "module",
        wasmparser::ComponentTypeRef::Func(_) => "func",
        wasmparser::ComponentTypeRef::Value(_) => "value",
        wasmparser::ComponentTypeRef::Type(_) => "type",
        wasmparser::ComponentTypeRef::Instance(_) => "instance",
        wasmparser::ComponentTypeRef::Component(_) => "component",
    }
}

/// Where the section whose content starts at `content_start` begins: back over the LEB128
/// size and the id byte.
fn section_start(bytes: &[u8], content_start: usize) -> usize {
    let mut start = content_start.saturating_sub(1);
    // The byte before the content ends the LEB (high bit clear); earlier LEB bytes have it set.
    while start > 0 && bytes[start - 1] & 0x80 != 0 {
        start -= 1;
    }
    start.saturating_sub(1)
}

/// The component's world in WIT, as wit-component decodes and prints it.
pub fn wit_world(bytes: &[u8]) -> Option<String> {
    let decoded = wit_component::decode(bytes).ok()?;
    let mut printer = wit_component::WitPrinter::default();
    printer
        .print(decoded.resolve(), decoded.package(), &[])
        .ok()?;
    Some(printer.output.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_module_inside_out() {
        let bytes = wat::parse_str(
            r#"(module
                 (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
                 (memory (export "memory") 1 2)
                 (global (mut i32) (i32.const 0))
                 (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
                 (@custom "producers" "\01\08language\01\04Rust\061.95.0"))"#,
        )
        .expect("wat");
        let report = inspect(&bytes).expect("inspect");
        assert_eq!(report.kind, "module");
        assert_eq!(report.imports[0].ty, "(i32, i32, i32, i32) -> (i32)");
        let add = report
            .exports
            .iter()
            .find(|e| e.name == "add")
            .expect("add");
        assert_eq!(
            (add.kind.as_str(), add.ty.as_str()),
            ("func", "(i32, i32) -> (i32)")
        );
        assert_eq!(report.memories[0].maximum, Some(2));
        assert_eq!(report.globals.len(), 1);
        assert_eq!(report.producers["language"]["Rust"], "1.95.0");
        let total: u64 = report.sections.iter().map(|s| s.size).sum();
        assert_eq!(
            total + 8,
            report.size,
            "sections plus the 8-byte header are the whole file"
        );
        assert!(
            report
                .sections
                .iter()
                .any(|s| s.id == "custom" && s.name == "producers")
        );
    }
}

/// The `wasi:http/incoming-handler@0.2.x` export of a component (its own, not a nested
/// component's), as named: an HTTP component of the `wasi:http/proxy` world.
pub fn http_handler_export(bytes: &[u8]) -> Option<String> {
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentExportSection(exports) if depth == 1 => {
                for export in exports.into_iter().flatten() {
                    if export
                        .name
                        .name
                        .starts_with("wasi:http/incoming-handler@0.2")
                    {
                        return Some(export.name.name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod http_tests {
    #[test]
    fn the_http_handler_export_is_found_at_the_top_level_only() {
        let top = wat::parse_str(
            r#"(component
                 (core module $m (func (export "f")))
                 (core instance $i (instantiate $m))
                 (func $f (canon lift (core func $i "f")))
                 (instance $h (export "handle" (func $f)))
                 (export "wasi:http/incoming-handler@0.2.6" (instance $h)))"#,
        )
        .expect("wat");
        assert_eq!(
            super::http_handler_export(&top).as_deref(),
            Some("wasi:http/incoming-handler@0.2.6")
        );
        let nested = wat::parse_str(
            r#"(component
                 (component
                   (core module $m (func (export "f")))
                   (core instance $i (instantiate $m))
                   (func $f (canon lift (core func $i "f")))
                   (instance $h (export "handle" (func $f)))
                   (export "wasi:http/incoming-handler@0.2.6" (instance $h))))"#,
        )
        .expect("wat");
        assert_eq!(super::http_handler_export(&nested), None);
        assert_eq!(super::http_handler_export(b"\0asm\x01\0\0\0"), None);
    }
}
