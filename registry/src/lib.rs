//! `wasmforge-registry`: Wasm artifacts to and from OCI registries and OCI image layout folders.
//!
//! [`reference::Ref`] says where (a registry repository, or `oci:DIR[:TAG]`); [`manifest`]
//! builds the CNCF Wasm artifact (and the `wasi/wasm` image) from a module's bytes and reads
//! manifests back; [`layout`] and [`remote`] store and fetch them, verifying every digest.

pub mod auth;
pub mod error;
pub mod layout;
pub mod manifest;
pub mod reference;
pub mod remote;
pub mod time;

pub use error::{Error, Result};
pub use reference::Ref;

/// What was pushed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PushReport {
    /// Every reference written (one per tag), e.g. `localhost:5000/hello:1.0`.
    pub references: Vec<String>,
    /// The manifest digest (`sha256:…`).
    pub digest: String,
    /// Media type of the manifest's config: which layout was written.
    pub config_media_type: String,
    /// Blobs uploaded, and blobs the destination already had.
    pub uploaded: usize,
    pub skipped: usize,
    pub size: u64,
}

/// What a reference holds.
#[derive(Debug, Clone)]
pub enum Pulled {
    /// A module or component.
    Module(Vec<u8>),
    /// An app: its config (JSON) and its services' components, in the config's order.
    App {
        config: Vec<u8>,
        components: Vec<Vec<u8>>,
    },
}

/// What was pulled.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PullReport {
    pub reference: String,
    /// The manifest digest.
    pub digest: String,
    /// The media type of the Wasm layer that was found.
    pub layer_media_type: String,
    pub size: u64,
    pub sha256: String,
}

/// The most a manifest may hold (as containerd caps them): a manifest is small JSON.
pub const MANIFEST_LIMIT: u64 = 4 * 1024 * 1024;

/// The default cap on a pulled blob and on a decompressed image layer (`--max-size`).
pub const DEFAULT_MAX_SIZE: u64 = 1 << 30;

/// Reads at most `limit` bytes; more is an error (what a registry, a layout folder or an archive
/// says about sizes is never trusted for allocation).
pub fn read_bounded(mut reader: impl std::io::Read, limit: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let mut out = Vec::new();
    (&mut reader)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: what.to_string(),
            size: None,
            limit,
        });
    }
    Ok(out)
}

/// Fails unless `bytes` are a WebAssembly module or component that parses: nothing else is
/// written as a `.wasm`.
pub fn check_wasm(bytes: &[u8], reference: &str) -> Result<()> {
    let not_wasm = |found: String| Error::NotWasm {
        reference: reference.to_string(),
        found,
    };
    if !bytes.starts_with(b"\0asm") {
        return Err(not_wasm(format!(
            "its layer is {} bytes that do not start with the WebAssembly header",
            bytes.len()
        )));
    }
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        payload.map_err(|e| {
            not_wasm(format!(
                "its layer does not parse as WebAssembly: {} (at byte offset {})",
                e.message(),
                e.offset()
            ))
        })?;
    }
    Ok(())
}

/// sha256 of `bytes` as an OCI digest (`sha256:<hex>`).
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", wasmforge_build::files::sha256_hex(bytes))
}

/// Fails unless `bytes` hash to `expected`.
pub fn verify(bytes: &[u8], expected: &str, what: &str) -> Result<()> {
    let actual = digest_of(bytes);
    if actual == expected {
        Ok(())
    } else {
        Err(Error::DigestMismatch {
            what: what.to_string(),
            expected: expected.to_string(),
            actual,
        })
    }
}

/// What `observe_commands` was given.
type Observer = Box<dyn Fn(&str) + Send + Sync>;

static COMMAND_OBSERVER: std::sync::OnceLock<Observer> = std::sync::OnceLock::new();

/// Shows every external command this crate runs (credential helpers) to `observer` before it
/// runs, as the build crate shows its commands to the reporter: `wasmforge -v` prints them.
pub fn observe_commands(observer: impl Fn(&str) + Send + Sync + 'static) {
    let _ = COMMAND_OBSERVER.set(Box::new(observer));
}

/// A file error of the build crate's file helpers, as this crate's I/O error.
pub(crate) fn io_error(error: wasmforge_build::Error) -> Error {
    match error {
        wasmforge_build::Error::Io(io) => Error::Io(io),
        other => Error::Io(std::io::Error::other(other.to_string())),
    }
}

/// Where this crate's commands are shown before they run: the observer, as a reporter for the
/// one process wrapper (`wasmforge_build::process::Tool`).
pub(crate) struct Observed;

impl wasmforge_build::Reporter for Observed {
    fn command(&self, line: &str) {
        if let Some(observer) = COMMAND_OBSERVER.get() {
            observer(line);
        }
    }
}
