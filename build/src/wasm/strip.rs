//! Dropping custom sections (debug info, names, producers, …) from modules and components.
//! A component's core modules are stripped too, except for the sections a component needs
//! (`component-type:*`, which describe the types its core modules were built against).

use wasm_encoder::{ComponentSectionId, RawSection};
use wasmparser::{BinaryReader, Parser};

/// What was removed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stripped {
    /// Names of the removed custom sections (nested modules' included), with their sizes.
    pub removed: Vec<(String, u64)>,
}

/// Whether a custom section is kept: named with `--keep`, or needed by a component.
fn keep(name: &str, keep: &[String]) -> bool {
    name.starts_with("component-type") || keep.iter().any(|k| k == name)
}

/// How much a release build strips, with cargo's names and meanings for `strip`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Keep everything the compiler wrote.
    None,
    /// Drop DWARF (`.debug_*` sections); the `name` section stays, so traps stay symbolised.
    Debuginfo,
    /// Drop DWARF and the `name` section.
    Symbols,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Debuginfo => "debuginfo",
            Level::Symbols => "symbols",
        }
    }

    /// Whether a custom section named `name` goes at this level.
    pub fn drops(self, name: &str) -> bool {
        match self {
            Level::None => false,
            Level::Debuginfo => is_debug_info(name),
            Level::Symbols => is_debug_info(name) || name == "name",
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" | "false" => Ok(Level::None),
            "debuginfo" => Ok(Level::Debuginfo),
            "symbols" | "true" => Ok(Level::Symbols),
            _ => Err(format!(
                "`{s}` is not a strip level: use none, debuginfo or symbols"
            )),
        }
    }
}

/// DWARF's sections (`.debug_info`, `.debug_line`, …).
pub fn is_debug_info(name: &str) -> bool {
    name.starts_with(".debug_")
}

/// Returns `bytes` without the custom sections `level` drops, in nested modules too (a
/// component keeps what it needs).
pub fn strip_level(
    bytes: &[u8],
    level: Level,
) -> Result<(Vec<u8>, Stripped), wasmparser::BinaryReaderError> {
    let mut stripped = Stripped::default();
    let drop = |name: &str| !name.starts_with("component-type") && level.drops(name);
    let out = strip_where(bytes, &drop, &mut stripped)?;
    Ok((out, stripped))
}

/// Whether `bytes` (or a nested module) has a custom section `level` drops; cheap enough to
/// call on every release artifact.
pub fn has_droppable(bytes: &[u8], level: Level) -> bool {
    level != Level::None
        && Parser::new(0).parse_all(bytes).any(
            |p| matches!(p, Ok(wasmparser::Payload::CustomSection(c)) if level.drops(c.name())),
        )
}

/// Returns `bytes` without the custom sections named in `names` (everything else kept).
pub fn strip_named(bytes: &[u8], names: &[&str]) -> Result<Vec<u8>, wasmparser::BinaryReaderError> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(bytes.get(..8).unwrap_or_default());
    let mut reader = BinaryReader::new(bytes.get(8..).unwrap_or_default(), 8);
    while !reader.eof() {
        let start = reader.original_position();
        let id = reader.read_u8()?;
        let size = reader.read_var_u32()? as usize;
        let contents = reader.read_bytes(size)?;
        let end = reader.original_position();
        if id == 0 && names.contains(&BinaryReader::new(contents, 0).read_string()?) {
            continue;
        }
        out.extend_from_slice(&bytes[start..end]);
    }
    Ok(out)
}

/// Returns `bytes` without custom sections other than `keep`.
pub fn strip(
    bytes: &[u8],
    keep_names: &[String],
) -> Result<(Vec<u8>, Stripped), wasmparser::BinaryReaderError> {
    let mut stripped = Stripped::default();
    let drop = |name: &str| !keep(name, keep_names);
    let out = strip_where(bytes, &drop, &mut stripped)?;
    Ok((out, stripped))
}

/// Drops the custom sections `drop` names, recursing into a component's modules.
fn strip_where(
    bytes: &[u8],
    drop: &dyn Fn(&str) -> bool,
    stripped: &mut Stripped,
) -> Result<Vec<u8>, wasmparser::BinaryReaderError> {
    // Sections are walked by hand (id, LEB128 size, contents): nested modules and components
    // are stripped recursively and re-encoded with their new size.
    let component = Parser::is_component(bytes);
    if !component && !Parser::is_core_wasm(bytes) {
        // Let the parser say what is wrong with the header.
        Parser::new(0).parse(bytes, true)?;
        return Ok(bytes.to_vec());
    }
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..8]);
    let mut reader = BinaryReader::new(&bytes[8..], 8);
    while !reader.eof() {
        let start = reader.original_position() - 8;
        let id = reader.read_u8()?;
        let size = reader.read_var_u32()? as usize;
        let contents_start = reader.original_position() - 8;
        let contents = reader.read_bytes(size)?;
        let whole = &bytes[8 + start..8 + contents_start + size];
        let nested = component
            && (id == ComponentSectionId::CoreModule as u8
                || id == ComponentSectionId::Component as u8);
        if id == 0 {
            let name = BinaryReader::new(contents, 0).read_string()?;
            if !drop(name) {
                out.extend_from_slice(whole);
            } else {
                stripped
                    .removed
                    .push((name.to_string(), whole.len() as u64));
            }
        } else if nested {
            let inner = strip_where(contents, drop, stripped)?;
            wasm_encoder::Section::append_to(&RawSection { id, data: &inner }, &mut out);
        } else {
            out.extend_from_slice(whole);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmparser::Payload;

    #[test]
    fn removes_custom_sections_and_stays_valid() {
        let bytes = wat::parse_str(
            r#"(module $named (func $f (export "f") (result i32) i32.const 7)
                 (@custom "producers" "\01\08language\01\04Rust\061.95.0")
                 (@custom "keepme" "x"))"#,
        )
        .expect("wat");
        let (out, stripped) = strip(&bytes, &["keepme".to_string()]).expect("strip");
        let names: Vec<&str> = stripped.removed.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"producers") && names.contains(&"name"),
            "{names:?}"
        );
        assert!(out.len() < bytes.len());
        wasmparser::Validator::new()
            .validate_all(&out)
            .expect("still valid");
        let customs: Vec<String> = Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p {
                Ok(Payload::CustomSection(c)) => Some(c.name().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(customs, ["keepme"]);
    }

    #[test]
    fn components_keep_what_they_need() {
        let bytes = wat::parse_str(
            r#"(component
                 (core module $m (func (export "f")) (@custom "component-type:x" "t") (@custom "junk" "j"))
                 (core instance (instantiate $m))
                 (@custom "producers" "\00"))"#,
        )
        .expect("wat");
        let (out, stripped) = strip(&bytes, &[]).expect("strip");
        let names: Vec<&str> = stripped.removed.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"junk") && names.contains(&"producers"),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.starts_with("component-type")));
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&out)
            .expect("valid");
    }
}
