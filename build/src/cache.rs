//! wasmforge's own cache folder and file stamps.
//!
//! A no-op build must cost little more than the compiler's own no-op, so what is slow to learn
//! and rarely changes (the resolved workspace, an artifact's digest) is kept here, keyed by the
//! inputs it came from and checked against file stamps (size and mtime) before it is trusted.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Serialize, de::DeserializeOwned};

use crate::files::sha256_hex;

/// The cache folder: `$WASMFORGE_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmforge`, else
/// `~/.cache/wasmforge` (`~/Library/Caches/wasmforge` on macOS).
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("WASMFORGE_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("wasmforge"));
    }
    let home = std::env::home_dir()?;
    if cfg!(target_os = "macos") {
        Some(home.join("Library/Caches/wasmforge"))
    } else {
        Some(home.join(".cache/wasmforge"))
    }
}

/// The folders wasmforge keeps in its cache; `cache clean` removes these and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Artifact digests, checked against file stamps.
    Artifacts,
    /// The headers each C compile includes.
    CScan,
    /// Findings of the checks after a build (imports), by artifact digest.
    Checks,
    /// Wasmtime's compiled code (`wasmforge run`).
    Compiled,
    /// `go list -deps` answers.
    GoList,
    /// Modules `run REF` pulled, by sha256.
    Oci,
    /// Binaryen's output, by input and settings.
    Optimized,
    /// What toolchain probes learned (versions, search lists).
    Probes,
    /// Resolved Rust workspaces (`cargo metadata`).
    RustPlans,
}

impl Section {
    pub const ALL: [Section; 9] = [
        Section::Artifacts,
        Section::CScan,
        Section::Checks,
        Section::Compiled,
        Section::GoList,
        Section::Oci,
        Section::Optimized,
        Section::Probes,
        Section::RustPlans,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Artifacts => "artifacts",
            Section::CScan => "c-scan",
            Section::Checks => "checks",
            Section::Compiled => "compiled",
            Section::GoList => "go-list",
            Section::Oci => "oci",
            Section::Optimized => "optimized",
            Section::Probes => "probes",
            Section::RustPlans => "rust-plans",
        }
    }
}

/// The Cache Directory Tagging Specification's tag: backup tools skip the folder, and
/// `cache clean` removes only a folder that carries it.
pub const TAG_FILE: &str = "CACHEDIR.TAG";
const TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by wasmforge.\n\
# For information about cache directory tags, see https://bford.info/cachedir/\n";

/// Whether `dir` carries wasmforge's (or any) cache directory tag.
pub fn is_tagged(dir: &Path) -> bool {
    std::fs::read(dir.join(TAG_FILE))
        .is_ok_and(|t| t.starts_with(b"Signature: 8a477f597d28d172789f06886806bc55"))
}

/// What the cache folder is to wasmforge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootState {
    /// Tagged: a cache folder (wasmforge's, or one made as one).
    Tagged,
    /// Not there yet: wasmforge creates and tags it.
    Missing,
    /// There and empty: wasmforge tags it.
    Empty,
    /// There, holding things, untagged (or not a folder): somebody else's. wasmforge neither
    /// tags it nor writes into it, so `cache clean` can never remove what it holds.
    Foreign,
}

/// What `root` is to wasmforge (see [`RootState`]).
pub fn root_state(root: &Path) -> RootState {
    if is_tagged(root) {
        return RootState::Tagged;
    }
    match std::fs::read_dir(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => RootState::Missing,
        Err(_) => RootState::Foreign,
        // wasmforge's own temporary files (another process writing the tag) are not content.
        Ok(mut entries) => {
            let others = entries.any(|e| match e {
                Ok(e) => !e.file_name().to_string_lossy().starts_with(TEMP_PREFIX),
                Err(_) => true,
            });
            if others {
                RootState::Foreign
            } else {
                RootState::Empty
            }
        }
    }
}

/// The cache folder when it is somebody else's (not empty, not tagged): wasmforge runs
/// without a cache then, and the binary says so.
pub fn foreign_root() -> Option<PathBuf> {
    let root = cache_dir()?;
    (root_state(&root) == RootState::Foreign).then_some(root)
}

/// The cache folder, when wasmforge may use it: tagged, or created (missing or empty) and
/// tagged now. `None` when there is none, or it is somebody else's.
fn usable_root() -> Option<PathBuf> {
    let root = cache_dir()?;
    match root_state(&root) {
        RootState::Tagged => Some(root),
        RootState::Missing | RootState::Empty => {
            create_private(&root).ok()?;
            write_private(&root.join(TAG_FILE), TAG.as_bytes()).ok()?;
            Some(root)
        }
        RootState::Foreign => None,
    }
}

/// The folder of `section`, created (with the cache folder, 0700 and tagged) when missing.
/// `None` when there is no cache folder, it cannot be made, or it is somebody else's.
pub fn section_dir(section: Section) -> Option<PathBuf> {
    let root = usable_root()?;
    let dir = root.join(section.name());
    create_private(&dir).ok()?;
    Some(dir)
}

/// The prefix of wasmforge's temporary files.
const TEMP_PREFIX: &str = ".wasmforge-";

/// Writes a cache file whole and private: a new temporary file (mode 0600) in the same folder,
/// renamed over `dest`. Whatever was at `dest` is replaced, not written through — a symbolic
/// link is not followed, and an old file's mode is not kept (an entry refused for its mode is
/// not rewritten with that mode).
pub fn write_private(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// Removes a cache section folder even while other processes write into it (a background
/// compile finishing): it is first renamed aside, so nothing new lands in it under its own
/// name, then removed, again if a writer's temporary file appeared meanwhile.
pub fn remove_section(dir: &Path) -> std::io::Result<()> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = dir.with_file_name(format!(
        "{TEMP_PREFIX}{name}-{}-{}.removing",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let target = match std::fs::rename(dir, &aside) {
        Ok(()) => aside,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(_) => dir.to_path_buf(),
    };
    let mut tries = 0;
    loop {
        match std::fs::remove_dir_all(&target) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(_) if tries < 20 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Creates `dir` (and its parents) readable and writable by the user only, as code loaded from
/// it is trusted.
fn create_private(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// What a file looked like: its size and modification time, or that it did not exist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    pub path: PathBuf,
    /// `(size, mtime in ns)`, or `None` when the path did not exist.
    pub state: Option<(u64, u128)>,
}

impl Stamp {
    pub fn of(path: &Path) -> Stamp {
        let state = std::fs::metadata(path).ok().map(|m| {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            (m.len(), mtime)
        });
        Stamp {
            path: path.to_owned(),
            state,
        }
    }

    /// Whether the file still looks the same.
    pub fn is_current(&self) -> bool {
        Stamp::of(&self.path) == *self
    }
}

/// A JSON value stored under a key, valid while its stamps are current.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Entry<T> {
    key: String,
    stamps: Vec<Stamp>,
    value: T,
}

/// The name of the entry for `key` in a section.
fn entry_name(key: &str) -> String {
    format!("{}.json", &sha256_hex(key.as_bytes())[..32])
}

/// Reads the value stored for `key`, if every stamp recorded with it is still current (never
/// from a folder that is not a cache).
pub fn load<T: DeserializeOwned>(section: Section, key: &str) -> Option<T> {
    let root = cache_dir()?;
    if !is_tagged(&root) {
        return None;
    }
    let path = root.join(section.name()).join(entry_name(key));
    let bytes = std::fs::read(path).ok()?;
    let entry: Entry<T> = serde_json::from_slice(&bytes).ok()?;
    (entry.key == key && entry.stamps.iter().all(Stamp::is_current)).then_some(entry.value)
}

/// Stores `value` for `key` with the stamps that must stay current. Failures are ignored: the
/// cache only ever saves time.
pub fn store<T: Serialize>(section: Section, key: &str, stamps: Vec<Stamp>, value: &T) {
    let Some(path) = section_dir(section).map(|d| d.join(entry_name(key))) else {
        return;
    };
    let entry = Entry {
        key: key.to_string(),
        stamps,
        value,
    };
    if let Ok(bytes) = serde_json::to_vec(&entry) {
        let _ = write_private(&path, &bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_notice_changes_creation_and_removal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        let missing = Stamp::of(&file);
        assert!(missing.is_current());
        std::fs::write(&file, "a").expect("write");
        assert!(!missing.is_current(), "creation is a change");
        let one = Stamp::of(&file);
        std::fs::write(&file, "bb").expect("write");
        assert!(!one.is_current(), "a size change is a change");
        let two = Stamp::of(&file);
        std::fs::remove_file(&file).expect("rm");
        assert!(!two.is_current(), "removal is a change");
    }
}
