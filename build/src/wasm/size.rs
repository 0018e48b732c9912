//! Where a module's bytes are: code, data, custom sections by name, everything else, and the
//! largest functions by body size with their names (twiggy's "top" view). A component's core
//! modules are counted, each function named with its module's number.

use wasmparser::{KnownCustom, Name, Parser, Payload, TypeRef};

/// The bytes of a module or component, by what they hold.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Breakdown {
    pub total: u64,
    /// Code sections (function bodies), headers included.
    pub code: u64,
    /// Data sections (memory's initial contents).
    pub data: u64,
    /// Custom sections by name (a component's modules' summed), largest first.
    pub custom: Vec<Part>,
    /// Everything else: types, imports, exports, tables, globals, element segments, headers, a
    /// component's own sections.
    pub other: u64,
    /// How many functions have bodies.
    pub functions: u64,
    /// The largest function bodies, largest first.
    pub largest: Vec<Function>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Part {
    pub name: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Function {
    /// From the name section (demangled), else `func[INDEX]`; in a component prefixed with
    /// `module N:`.
    pub name: String,
    /// Body bytes (locals and instructions).
    pub size: u64,
}

impl Breakdown {
    /// Custom sections' bytes in all.
    pub fn custom_total(&self) -> u64 {
        self.custom.iter().map(|p| p.size).sum()
    }
}

/// One core module being read: its function bodies by index, and names once the name section
/// comes (after the code).
#[derive(Default)]
struct ModuleState {
    number: Option<usize>,
    imported_funcs: u32,
    bodies: Vec<(u32, u64)>,
    names: std::collections::HashMap<u32, String>,
}

/// Section size including its id byte and LEB128 length, from where its contents start.
fn with_header(content: std::ops::Range<usize>) -> u64 {
    let len = content.len();
    let mut leb = 1;
    let mut rest = len >> 7;
    while rest > 0 {
        leb += 1;
        rest >>= 7;
    }
    (len + leb + 1) as u64
}

/// Breaks `bytes` down, keeping the `top` largest functions.
pub fn breakdown(bytes: &[u8], top: usize) -> Result<Breakdown, wasmparser::BinaryReaderError> {
    let mut code = 0u64;
    let mut data = 0u64;
    let mut custom: std::collections::BTreeMap<String, u64> = Default::default();
    let mut functions: Vec<Function> = Vec::new();
    let mut function_count = 0u64;
    let component = Parser::is_component(bytes);
    // A stack: one entry per module or component being read (components have no functions).
    let mut stack: Vec<Option<ModuleState>> = Vec::new();
    let mut modules_seen = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        match &payload {
            Payload::Version { encoding, .. } => {
                stack.push(match encoding {
                    wasmparser::Encoding::Module => {
                        modules_seen += 1;
                        Some(ModuleState {
                            number: component.then_some(modules_seen - 1),
                            ..Default::default()
                        })
                    }
                    wasmparser::Encoding::Component => None,
                });
            }
            Payload::ImportSection(reader) => {
                if let Some(Some(state)) = stack.last_mut() {
                    for import in reader.clone().into_imports() {
                        if matches!(import?.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                            state.imported_funcs += 1;
                        }
                    }
                }
            }
            Payload::CodeSectionStart { range, .. } => code += with_header(range.clone()),
            Payload::CodeSectionEntry(body) => {
                if let Some(Some(state)) = stack.last_mut() {
                    let index = state.imported_funcs + state.bodies.len() as u32;
                    state.bodies.push((index, body.range().len() as u64));
                }
            }
            Payload::DataSection(reader) => data += with_header(reader.range()),
            Payload::CustomSection(section) => {
                let size = with_header(section.range());
                *custom.entry(section.name().to_string()).or_default() += size;
                if let (KnownCustom::Name(reader), Some(Some(state))) =
                    (section.as_known(), stack.last_mut())
                {
                    // A malformed name section only costs the names.
                    for name in reader.into_iter().flatten() {
                        if let Name::Function(map) = name {
                            for naming in map.into_iter().flatten() {
                                state.names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            Payload::End(_) => {
                if let Some(Some(mut state)) = stack.pop() {
                    function_count += state.bodies.len() as u64;
                    for (index, size) in state.bodies.drain(..) {
                        let name = match state.names.remove(&index) {
                            Some(name) => demangle(&name),
                            None => format!("func[{index}]"),
                        };
                        let name = match state.number {
                            Some(n) => format!("module {n}: {name}"),
                            None => name,
                        };
                        functions.push(Function { name, size });
                    }
                    // Keep only what can still be among the largest.
                    functions.sort_by(|a, b| b.size.cmp(&a.size).then(a.name.cmp(&b.name)));
                    functions.truncate(top);
                }
            }
            _ => {}
        }
    }
    let mut custom: Vec<Part> = custom
        .into_iter()
        .map(|(name, size)| Part { name, size })
        .collect();
    custom.sort_by(|a, b| b.size.cmp(&a.size).then(a.name.cmp(&b.name)));
    let total = bytes.len() as u64;
    let custom_total: u64 = custom.iter().map(|p| p.size).sum();
    Ok(Breakdown {
        total,
        code,
        data,
        other: total.saturating_sub(code + data + custom_total),
        custom,
        functions: function_count,
        largest: functions,
    })
}

/// Rust's mangled names read as paths (`core::fmt::write`), without the hash.
fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(d) => format!("{d:#}"),
        Err(_) => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_and_functions_are_named_largest_first() {
        let bytes = wat::parse_str(
            r#"(module
                 (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                 (memory 1)
                 (func $small (result i32) i32.const 1)
                 (func $_ZN4core3fmt5write17h0123456789abcdefE (result i32)
                   i32.const 1 i32.const 2 i32.add i32.const 3 i32.add i32.const 4 i32.add)
                 (func (result i32) i32.const 1 i32.const 2 i32.add)
                 (data (i32.const 0) "hello, world")
                 (@custom ".debug_info" "0123456789"))"#,
        )
        .expect("wat");
        let b = breakdown(&bytes, 2).expect("breakdown");
        assert_eq!(b.total, bytes.len() as u64);
        assert_eq!(b.code + b.data + b.custom_total() + b.other, b.total);
        assert!(b.data >= 12 && b.code > 0, "{b:?}");
        assert_eq!(b.functions, 3);
        let names: Vec<&str> = b.largest.iter().map(|f| f.name.as_str()).collect();
        // The unnamed one is index 3 (after one import and two named functions).
        assert_eq!(names, ["core::fmt::write", "func[3]"]);
        let customs: Vec<&str> = b.custom.iter().map(|p| p.name.as_str()).collect();
        assert!(
            customs.contains(&".debug_info") && customs.contains(&"name"),
            "{customs:?}"
        );
    }

    #[test]
    fn a_components_modules_are_counted_and_numbered() {
        let bytes = wat::parse_str(
            r#"(component
                 (core module $a (func $f (export "f") i32.const 7 drop))
                 (core module $b (func $g (export "g")))
                 (core instance (instantiate $a))
                 (core instance (instantiate $b)))"#,
        )
        .expect("wat");
        let b = breakdown(&bytes, 10).expect("breakdown");
        assert_eq!(b.functions, 2);
        let names: Vec<&str> = b.largest.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["module 0: f", "module 1: g"]);
        assert_eq!(b.code + b.data + b.custom_total() + b.other, b.total);
    }
}
