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
    let out = strip_one(bytes, keep_names, &mut stripped)?;
    Ok((out, stripped))
}

fn strip_one(
    bytes: &[u8],
    keep_names: &[String],
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
            if keep(name, keep_names) {
                out.extend_from_slice(whole);
            } else {
                stripped
                    .removed
                    .push((name.to_string(), whole.len() as u64));
            }
        } else if nested {
            let inner = strip_one(contents, keep_names, stripped)?;
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
