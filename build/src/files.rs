//! Files as wasmforge writes them, and digests: the one place for writing a file whole
//! (a temporary file renamed into place), following links as editors do, and hex encoding.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Writes `bytes` to `dest` through a temporary file in the same folder and a rename, so a
/// reader (or a crash) never sees half a file. Creates the folder when needed.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_mode(dest, bytes, 0o666)
}

/// [`write_atomic`], a new file getting `new_mode` (minus the umask; a replaced file keeps its
/// own): 0600 for a file that holds credentials.
pub fn write_atomic_mode(dest: &Path, bytes: &[u8], new_mode: u32) -> Result<()> {
    let dest = &through_links(dest);
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    // A file written in place keeps its mode; a new one gets the usual 0666 minus the umask
    // (tempfile's own default, 0600, would hide artifacts from every other user).
    let kept = std::fs::metadata(dest).ok().map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".wasmforge-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(
            kept.clone()
                .unwrap_or_else(|| std::fs::Permissions::from_mode(new_mode)),
        );
    }
    let mut tmp = builder.tempfile_in(dir).map_err(|e| with_path(e, dir))?;
    if let Some(mode) = kept {
        tmp.as_file()
            .set_permissions(mode)
            .map_err(|e| with_path(e, tmp.path()))?;
    }
    tmp.write_all(bytes).map_err(|e| with_path(e, tmp.path()))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| with_path(e, tmp.path()))?;
    tmp.persist(dest).map_err(|e| with_path(e.error, dest))?;
    #[cfg(not(unix))]
    let _ = new_mode;
    Ok(())
}

/// Where writing to `path` really writes: a symlink is followed (as `cp` and editors write
/// through one) to the file it names, even when that file does not exist yet.
pub fn through_links(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&path) {
            Ok(target) if target.is_absolute() => path = target,
            Ok(target) => path = path.parent().map(|p| p.join(&target)).unwrap_or(target),
            Err(_) => break,
        }
    }
    path
}

fn with_path(err: std::io::Error, path: &Path) -> Error {
    Error::Io(std::io::Error::new(
        err.kind(),
        format!("{err} (path: {})", path.display()),
    ))
}

/// `path` with `.` and `name/..` folded away and doubled separators gone, without asking the
/// file system (`lib//compress/../common/threading.h` → `lib/common/threading.h`).
pub fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod normal_tests {
    #[test]
    fn folds_dots_and_doubled_separators() {
        let n = |p: &str| super::lexically_normal(std::path::Path::new(p));
        assert_eq!(
            n("lib//compress/../common/threading.h"),
            n("lib/common/threading.h")
        );
        assert_eq!(
            n("/p/programs/./util.c").to_str(),
            Some("/p/programs/util.c")
        );
        assert_eq!(n("../x/../y").to_str(), Some("../y"));
    }
}
