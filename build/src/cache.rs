//! wasmforge's own cache folder and file stamps.
//!
//! A no-op build must cost little more than the compiler's own no-op, so what is slow to learn
//! and rarely changes (the resolved workspace, an artifact's digest) is kept here, keyed by the
//! inputs it came from and checked against file stamps (size and mtime) before it is trusted.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Serialize, de::DeserializeOwned};

use crate::artifact::{sha256_hex, write_atomic};

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

/// Where the entry for `key` lives in `section`.
fn entry_path(section: &str, key: &str) -> Option<PathBuf> {
    Some(
        cache_dir()?
            .join(section)
            .join(format!("{}.json", &sha256_hex(key.as_bytes())[..32])),
    )
}

/// Reads the value stored for `key`, if every stamp recorded with it is still current.
pub fn load<T: DeserializeOwned>(section: &str, key: &str) -> Option<T> {
    let bytes = std::fs::read(entry_path(section, key)?).ok()?;
    let entry: Entry<T> = serde_json::from_slice(&bytes).ok()?;
    (entry.key == key && entry.stamps.iter().all(Stamp::is_current)).then_some(entry.value)
}

/// Stores `value` for `key` with the stamps that must stay current. Failures are ignored: the
/// cache only ever saves time.
pub fn store<T: Serialize>(section: &str, key: &str, stamps: Vec<Stamp>, value: &T) {
    let Some(path) = entry_path(section, key) else {
        return;
    };
    let entry = Entry {
        key: key.to_string(),
        stamps,
        value,
    };
    if let Ok(bytes) = serde_json::to_vec(&entry) {
        let _ = write_atomic(&path, &bytes);
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
