//! What a build produces: a WebAssembly file with its identity (package, target, kind) and its
//! fingerprint (size, sha256), written atomically to a stable place.

use std::path::{Path, PathBuf};

use crate::cache::{self, Stamp};
use crate::error::{Error, Result};
use crate::files::{sha256_hex, write_atomic};
use crate::target::Target;

/// What kind of artifact a module is (see DESIGN.md, "Kinds of artifact").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// Has `_start`: a program to run.
    Command,
    /// Exports functions for a host or plugin system.
    Library,
}

impl ArtifactKind {
    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::Command => "command",
            ArtifactKind::Library => "library",
        }
    }
}

/// The binary encoding a file holds, read from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// A core WebAssembly module.
    Module,
    /// A component (component model).
    Component,
}

impl Encoding {
    /// Reads the header of `bytes`; anything that is not WebAssembly is an error for `path`.
    pub fn of(bytes: &[u8], path: &Path) -> Result<Encoding> {
        if !bytes.starts_with(b"\0asm") {
            return Err(Error::NotWasm {
                path: path.to_owned(),
                why: format!(
                    "it does not start with WebAssembly's magic bytes `\\0asm` (it starts with {})",
                    describe_start(bytes)
                ),
            });
        }
        let mut parser = wasmparser::Parser::new(0);
        match parser.parse(bytes, true) {
            Ok(wasmparser::Chunk::Parsed {
                payload: wasmparser::Payload::Version { encoding, .. },
                ..
            }) => Ok(match encoding {
                wasmparser::Encoding::Module => Encoding::Module,
                wasmparser::Encoding::Component => Encoding::Component,
            }),
            Ok(_) => unreachable_header(path),
            Err(source) => Err(Error::NotWasm {
                path: path.to_owned(),
                why: source
                    .message()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            }),
        }
    }
}

/// The first bytes of a file, for a message: as text when they are printable, else in hex.
fn describe_start(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing: the file is empty".into();
    }
    let head = &bytes[..bytes.len().min(8)];
    if head.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("`{}`", String::from_utf8_lossy(head))
    } else {
        let hex: Vec<String> = head.iter().map(|b| crate::files::hex(&[*b])).collect();
        format!("the bytes {}", hex.join(" "))
    }
}

fn unreachable_header(path: &Path) -> Result<Encoding> {
    // `parse` on a complete buffer always yields the version header first; treat anything
    // else as a malformed file rather than trusting it.
    Err(Error::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("`{}` has no WebAssembly header", path.display()),
    )))
}

/// One WebAssembly file produced by a build.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Artifact {
    /// The package (crate, Go module, C project) it came from.
    pub package: String,
    /// The artifact's own name (binary or library name); the file is `<name>.wasm`.
    pub name: String,
    pub target: Target,
    pub kind: ArtifactKind,
    /// Core module or component, read from the bytes.
    pub encoding: Encoding,
    /// Build profile: `debug`, `release` or a custom profile's name.
    pub profile: String,
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// When optimized: the level, and the size before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unoptimized_size: Option<u64>,
    /// When wasmforge changed what the compiler wrote (stripped or optimized it): the size the
    /// compiler wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compiled_size: Option<u64>,
    /// When custom sections were dropped: the strip level (`debuginfo`, `symbols`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripped: Option<String>,
    /// Release builds: where the bytes are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<crate::wasm::size::Breakdown>,
    /// A library component built for a WIT world: the world (`pkg:ns/name@version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
    /// When validated against a profile: its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validated: Option<String>,
}

/// What a driver knows about an artifact before it has the bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity<'a> {
    pub package: &'a str,
    pub name: &'a str,
    pub target: Target,
    pub kind: ArtifactKind,
    pub profile: &'a str,
}

impl Identity<'_> {
    fn artifact(self, path: PathBuf, encoding: Encoding, size: u64, sha256: String) -> Artifact {
        Artifact {
            package: self.package.to_string(),
            name: self.name.to_string(),
            target: self.target,
            kind: self.kind,
            encoding,
            profile: self.profile.to_string(),
            path,
            size,
            sha256,
            opt_level: None,
            unoptimized_size: None,
            compiled_size: None,
            stripped: None,
            breakdown: None,
            world: None,
            validated: None,
        }
    }
}

/// Copies a compiler's output to `dest` atomically and describes it.
///
/// When neither the compiler's output nor the published copy changed since the last publish
/// (same size and mtime), the recorded digest is reused and nothing is read or written.
pub(crate) fn publish(source: &Path, dest: PathBuf, id: Identity<'_>) -> Result<Artifact> {
    let cache_key = format!("publish\n{}\n{}", source.display(), dest.display());
    if let Some((encoding, size, sha256)) =
        cache::load::<(Encoding, u64, String)>(crate::cache::Section::Artifacts, &cache_key)
    {
        return Ok(id.artifact(dest, encoding, size, sha256));
    }
    let bytes = fs_err::read(source)?;
    let artifact = publish_bytes(&bytes, dest, id)?;
    let known = (artifact.encoding, artifact.size, artifact.sha256.clone());
    cache::store(
        crate::cache::Section::Artifacts,
        &cache_key,
        vec![Stamp::of(source), Stamp::of(&artifact.path)],
        &known,
    );
    Ok(artifact)
}

/// Writes freshly built `bytes` to `dest` (atomically, and not at all when the file already
/// holds them, which keeps mtimes stable for tools watching the output) and describes them.
pub(crate) fn publish_bytes(bytes: &[u8], dest: PathBuf, id: Identity<'_>) -> Result<Artifact> {
    let encoding = Encoding::of(bytes, &dest)?;
    let same = fs_err::metadata(&dest).is_ok_and(|m| m.len() == bytes.len() as u64)
        && std::fs::read(&dest).is_ok_and(|old| old == bytes);
    if !same {
        write_atomic(&dest, bytes)?;
    }
    Ok(id.artifact(dest, encoding, bytes.len() as u64, sha256_hex(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn encoding_is_read_from_the_header() {
        let module = b"\0asm\x01\0\0\0";
        let component = b"\0asm\x0d\0\x01\0";
        assert_eq!(
            Encoding::of(module, Path::new("m")).ok(),
            Some(Encoding::Module)
        );
        assert_eq!(
            Encoding::of(component, Path::new("c")).ok(),
            Some(Encoding::Component)
        );
        assert!(Encoding::of(b"MZ\x90\0 not wasm", Path::new("x")).is_err());
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("sub/out.wasm");
        write_atomic(&dest, b"one").expect("first write");
        write_atomic(&dest, b"two").expect("second write");
        assert_eq!(std::fs::read(&dest).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(dest.parent().expect("parent"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.wasm")]);
    }
}
