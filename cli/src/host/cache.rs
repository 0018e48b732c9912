//! The compiled-code cache: Wasmtime's serialized code on disk, keyed by the module's BLAKE3
//! digest, the Wasmtime version and the engine's settings.
//!
//! Loading compiled code trusts it (Wasmtime's deserialize is `unsafe`: the bytes become machine
//! code), so an entry is used only when
//! - the cache folder, `compiled/` and the entry are the user's own and nobody else can write
//!   them (the folders are created 0700); otherwise the module is compiled and nothing is
//!   stored, with a warning;
//! - it is bound to this module: it carries the digest of the module it was compiled from, which
//!   must be the digest of the module being run (an entry copied over another is refused);
//! - the digest of its payload matches (a damaged entry is refused).
//!
//! A refused entry is compiled again and replaced.
//!
//! An entry is Wasmtime's artifact followed by an 80-byte trailer (module digest, payload
//! digest, payload length, magic), so a sound entry is mapped straight from the file by
//! Wasmtime (no copy; only the pages the guest's code touches are read), through the same open
//! file that was verified. BLAKE3 rather than sha256: a warm start hashes the module and the
//! whole entry (ivy: 6.5 MB and 14 MB), and BLAKE3 does that several times faster.

use std::fs::File;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use wasmforge_build::artifact::Encoding;
use wasmforge_build::cache::Section;
use wasmtime::component::Component;
use wasmtime::{Engine, Module, Precompiled};

use super::{HostError, Loaded};

const MAGIC: &[u8; 8] = b"WFCODE03";
/// Module digest, payload digest, payload length (u64 little-endian), magic.
const TRAILER: usize = 32 + 32 + 8 + 8;

/// The BLAKE3 digest of `bytes` (on several threads when they are large).
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    if bytes.len() >= 1 << 20 {
        hasher.update_rayon(bytes);
    } else {
        hasher.update(bytes);
    }
    hasher.finalize().into()
}

/// What the cache did for one load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheEvent {
    /// Loaded compiled code from the cache.
    Hit,
    /// Compiled and stored.
    Miss,
    /// An entry was there but damaged or unusable: compiled again and replaced.
    Rebuilt,
    /// `--no-cache` (or no cache folder): compiled, nothing stored.
    Disabled,
    /// A `.cwasm` given on the command line.
    Precompiled,
    /// The cache folder is not the user's alone: compiled, nothing loaded or stored.
    Untrusted,
    /// No entry: compiled with Winch, Wasmtime's baseline compiler, to start at once, while a
    /// process of its own compiles it with Cranelift into the cache for the next run.
    Baseline,
    /// Compiled with Winch as asked (`--compiler winch`, or `--no-cache`): nothing stored.
    BaselineOnly,
    /// `cache warm`: another process is compiling the same entry; left to it.
    Busy,
}

impl CacheEvent {
    pub fn describe(self) -> &'static str {
        match self {
            CacheEvent::Hit => "cache hit",
            CacheEvent::Miss => "compiled, cached",
            CacheEvent::Rebuilt => "cache entry damaged or stale: compiled again",
            CacheEvent::Disabled => "compiled, cache off",
            CacheEvent::Precompiled => "precompiled code",
            CacheEvent::Untrusted => "cache folder not private: compiled without it",
            CacheEvent::Baseline => {
                "not cached: compiled with Winch to start now; Cranelift caches it in the background"
            }
            CacheEvent::BaselineOnly => "compiled with Winch, not cached",
            CacheEvent::Busy => "another process is compiling it into the cache",
        }
    }
}

/// The folder holding compiled code.
pub fn compiled_dir() -> Option<PathBuf> {
    Some(wasmforge_build::cache::cache_dir()?.join(Section::Compiled.name()))
}

/// The entry for a module (by its digest) under this engine's settings.
fn entry_path(engine: &Engine, module_digest: &[u8; 32]) -> Option<PathBuf> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let hex = wasmforge_build::files::hex(module_digest);
    // The compatibility hash covers the Wasmtime version and every setting that changes the
    // generated code; Wasmtime also checks both again when it deserializes.
    let name = format!("{hex}-{:016x}.cwasm", hasher.finish());
    Some(compiled_dir()?.join(name))
}

/// Whether native code may be loaded from `path`: it and the folders from the cache root down
/// belong to the user running wasmforge and nobody else can write them.
#[cfg(unix)]
pub fn private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt as _;
    let Some(root) = wasmforge_build::cache::cache_dir() else {
        return Err("no cache folder".into());
    };
    let me = rustix::process::geteuid().as_raw();
    let mut places: Vec<&Path> = path
        .ancestors()
        .take_while(|p| p.starts_with(&root))
        .collect();
    places.reverse();
    for place in places {
        let meta =
            std::fs::symlink_metadata(place).map_err(|e| format!("{}: {e}", place.display()))?;
        if meta.file_type().is_symlink() {
            return Err(format!("{} is a symbolic link", place.display()));
        }
        if meta.uid() != me {
            return Err(format!(
                "{} belongs to user {}, not to you ({me})",
                place.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "{} can be written by other users (mode {:o})",
                place.display(),
                meta.mode() & 0o777
            ));
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn private(_path: &Path) -> Result<(), String> {
    Ok(())
}

/// Fills the cache with `path`'s compiled code for the engine `wasmforge run` uses without limits
/// (and, for an HTTP component, the one `wasmforge serve` uses), so the first run starts warm.
/// `epoch`: for runs with `--timeout` (their code checks an epoch counter).
pub fn warm(path: &Path, epoch: bool) -> anyhow::Result<CacheEvent> {
    let raw = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("could not read `{}`: {e}", path.display()))?;
    let bytes = crate::commands::parse_input(path, raw)?;
    let encoding = Encoding::of(&bytes, path)?;
    let limits = super::Limits {
        timeout: epoch.then(|| std::time::Duration::from_secs(1)),
        ..super::Limits::default()
    };
    let engine = if encoding == Encoding::Component
        && wasmforge_build::wasm::inspect::http_handler_export(&bytes).is_some()
    {
        super::http::engine(&limits, 1, 1)?
    } else {
        super::engine(&limits)?
    };
    let module_digest = digest(&bytes);
    // One compile per entry: runs that start together each start a `cache warm`, and all but
    // the first find the entry's lock taken and leave the work to it.
    let _lock = match entry_path(&engine, &module_digest)
        .filter(|_| wasmforge_build::cache::section_dir(Section::Compiled).is_some())
    {
        Some(entry) => match lock_entry(&entry) {
            Locked::Held(file) => Some(file),
            Locked::Busy => return Ok(CacheEvent::Busy),
            Locked::Unavailable => None,
        },
        None => None,
    };
    let (_, event) =
        load_or_compile_hashed(&engine, &bytes, &module_digest, encoding, true, &|_| {})?;
    Ok(event)
}

/// The lock of one cache entry's compile.
enum Locked {
    /// Held until the file is dropped.
    Held(File),
    /// Another process holds it.
    Busy,
    /// It cannot be made (a read-only folder, no locks there): compiling without it only risks
    /// doing the work twice.
    Unavailable,
}

/// Takes `ENTRY.lock` beside the entry (an advisory lock on the open file). The file stays:
/// removing it would let a third process lock a new file while a second still holds the old.
fn lock_entry(entry: &Path) -> Locked {
    let Some(name) = entry.file_name() else {
        return Locked::Unavailable;
    };
    let mut name = name.to_os_string();
    name.push(".lock");
    let file = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(entry.with_file_name(name))
    {
        Ok(file) => file,
        Err(_) => return Locked::Unavailable,
    };
    match file.try_lock() {
        Ok(()) => Locked::Held(file),
        Err(std::fs::TryLockError::WouldBlock) => Locked::Busy,
        Err(std::fs::TryLockError::Error(_)) => Locked::Unavailable,
    }
}

/// Compiles `bytes`, or loads the compiled code from the cache when it holds a sound entry.
/// `warn` hears why the cache was not used when it is not private.
pub fn load_or_compile(
    engine: &Engine,
    bytes: &[u8],
    encoding: Encoding,
    use_cache: bool,
    warn: &dyn Fn(&str),
) -> anyhow::Result<(Loaded, CacheEvent)> {
    load_or_compile_hashed(engine, bytes, &digest(bytes), encoding, use_cache, warn)
}

/// Whether native code may come from (and go to) the compiled-code folder `dir`; `warn` hears
/// why not.
pub fn trusted(dir: &Path, warn: &dyn Fn(&str)) -> bool {
    match private(dir) {
        Ok(()) => true,
        Err(why) => {
            warn(&format!(
                "compiled code is loaded only from a cache folder that is yours alone: {why}; compiling without the cache (make it private, or set WASMFORGE_CACHE_DIR)"
            ));
            false
        }
    }
}

/// The compiled code for `engine` when the cache holds a sound entry for the module whose
/// digest is `module_digest` (a cache folder that is not private holds none).
pub fn lookup(engine: &Engine, module_digest: &[u8; 32], encoding: Encoding) -> Option<Loaded> {
    let entry = entry_path(engine, module_digest)?;
    let dir = wasmforge_build::cache::section_dir(Section::Compiled)?;
    private(&dir).ok()?;
    match read_entry(engine, &entry, module_digest, encoding) {
        Stored::Sound(loaded) => Some(loaded),
        Stored::Absent | Stored::Refused => None,
    }
}

/// What the cache holds for one module.
enum Stored {
    Absent,
    /// There, but damaged, bound to another module, not private, or not loadable.
    Refused,
    Sound(Loaded),
}

/// Opens the entry, checks that it is private, bound to `module_digest` and whole (its payload's
/// digest), and loads it from the same open file.
fn read_entry(
    engine: &Engine,
    entry: &Path,
    module_digest: &[u8; 32],
    encoding: Encoding,
) -> Stored {
    let file = match File::open(entry) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Stored::Absent,
        Err(_) => return Stored::Refused,
    };
    let Some(payload_len) = verified_len(&file, module_digest) else {
        return Stored::Refused;
    };
    // Checked after opening: a symbolic link or a file others can write is refused.
    if private(entry).is_err() {
        return Stored::Refused;
    }
    match deserialize_entry(engine, encoding, file, entry, payload_len) {
        Ok(loaded) => Stored::Sound(loaded),
        Err(_) => Stored::Refused,
    }
}

/// The payload length of an open cache entry compiled from the module whose digest is `module`,
/// when its trailer is ours and the payload's digest matches; else `None`.
fn verified_len(file: &File, module: &[u8; 32]) -> Option<u64> {
    let len = file.metadata().ok()?.len();
    let payload_len = len.checked_sub(TRAILER as u64)?;
    let mut trailer = [0u8; TRAILER];
    read_exact_at(file, &mut trailer, payload_len)?;
    let (bound, rest) = trailer.split_at(32);
    let (sum, rest) = rest.split_at(32);
    let (stated, magic) = rest.split_at(8);
    if magic != MAGIC || bound != module || stated != payload_len.to_le_bytes() {
        return None;
    }
    // Read in slices into one buffer (the entry is never held in memory whole): 64 KiB ones for
    // a small entry, 4 MiB ones hashed on several threads for a large one.
    let slice: u64 = if payload_len >= 8 << 20 {
        4 << 20
    } else {
        64 << 10
    };
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; payload_len.min(slice) as usize];
    let mut offset = 0u64;
    while offset < payload_len {
        let n = (payload_len - offset).min(buffer.len() as u64) as usize;
        read_exact_at(file, &mut buffer[..n], offset)?;
        if n >= 1 << 20 {
            hasher.update_rayon(&buffer[..n]);
        } else {
            hasher.update(&buffer[..n]);
        }
        offset += n as u64;
    }
    (hasher.finalize().as_bytes() == sum).then_some(payload_len)
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> Option<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset).ok()
}

#[cfg(not(unix))]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> Option<()> {
    use std::io::{Read as _, Seek as _};
    let mut file = file;
    file.seek(std::io::SeekFrom::Start(offset)).ok()?;
    file.read_exact(buf).ok()
}

/// An entry's bytes: Wasmtime's artifact, then the trailer.
fn entry_bytes(module_digest: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(payload.len() + TRAILER);
    file.extend_from_slice(payload);
    file.extend_from_slice(module_digest);
    file.extend_from_slice(&digest(payload));
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(MAGIC);
    file
}

/// [`load_or_compile`] for a module whose digest ([`digest`]) is known.
pub fn load_or_compile_hashed(
    engine: &Engine,
    bytes: &[u8],
    module_digest: &[u8; 32],
    encoding: Encoding,
    use_cache: bool,
    warn: &dyn Fn(&str),
) -> anyhow::Result<(Loaded, CacheEvent)> {
    let entry = if use_cache {
        entry_path(engine, module_digest)
    } else {
        None
    };
    let Some(entry) = entry else {
        return Ok((compile(engine, bytes, encoding)?, CacheEvent::Disabled));
    };
    let Some(dir) = wasmforge_build::cache::section_dir(Section::Compiled) else {
        return Ok((compile(engine, bytes, encoding)?, CacheEvent::Disabled));
    };
    if !trusted(&dir, warn) {
        return Ok((compile(engine, bytes, encoding)?, CacheEvent::Untrusted));
    }
    let event = match read_entry(engine, &entry, module_digest, encoding) {
        Stored::Sound(loaded) => return Ok((loaded, CacheEvent::Hit)),
        Stored::Absent => CacheEvent::Miss,
        Stored::Refused => CacheEvent::Rebuilt,
    };
    let loaded = compile(engine, bytes, encoding)?;
    let payload = match &loaded {
        Loaded::Module(module) => module.serialize(),
        Loaded::Component(component) => component.serialize(),
    };
    if let Ok(payload) = payload {
        // A cache that cannot be written only costs time next run. Written private and new
        // (an entry refused for its mode or for being a link is replaced, not written through).
        let _ =
            wasmforge_build::cache::write_private(&entry, &entry_bytes(module_digest, &payload));
    }
    Ok((loaded, event))
}

fn invalid(err: wasmtime::Error, what: &str) -> anyhow::Error {
    anyhow::Error::from(err).context(format!("the {what} is not valid WebAssembly"))
}

/// Compiles without the cache (Winch's code is never stored: the cache holds Cranelift's).
pub fn compile_with(engine: &Engine, bytes: &[u8], encoding: Encoding) -> anyhow::Result<Loaded> {
    compile(engine, bytes, encoding)
}

/// Starts `wasmforge cache warm FILE` as a process of its own (its own process group, no
/// terminal), which compiles `path` with Cranelift into the cache and outlives this one. Its
/// entry is written whole and renamed into place, so a run reading the cache meanwhile sees
/// either no entry or a complete one.
pub fn warm_in_background(path: &Path, epoch: bool, reporter: &dyn wasmforge_build::Reporter) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut warm = wasmforge_build::process::Tool::new(exe, "");
    warm.args(["-q", "cache", "warm"]);
    if epoch {
        warm.arg("--epoch-interruption");
    }
    warm.arg("--").arg(path);
    let _ = warm.spawn(reporter, wasmforge_build::process::Io::Detached);
}

fn compile(engine: &Engine, bytes: &[u8], encoding: Encoding) -> anyhow::Result<Loaded> {
    Ok(match encoding {
        Encoding::Module => {
            Loaded::Module(Module::new(engine, bytes).map_err(|e| invalid(e, "module"))?)
        }
        Encoding::Component => {
            Loaded::Component(Component::new(engine, bytes).map_err(|e| invalid(e, "component"))?)
        }
    })
}

#[expect(
    unsafe_code,
    reason = "deserializing compiled code is unsafe by design; callers vouch for the bytes"
)]
fn deserialize(engine: &Engine, encoding: Encoding, payload: &[u8]) -> anyhow::Result<Loaded> {
    // SAFETY: the payload is either
    // - a cache entry verified by `verified_len` (see `deserialize_entry`); or
    // - a .cwasm the user vouched for with --allow-precompiled.
    // Wasmtime itself rejects code from another version or configuration.
    Ok(match encoding {
        Encoding::Module => Loaded::Module(unsafe { Module::deserialize(engine, payload)? }),
        Encoding::Component => {
            Loaded::Component(unsafe { Component::deserialize(engine, payload)? })
        }
    })
}

/// Loads a verified cache entry: mapped from the open file by Wasmtime (the trailer after its
/// artifact is ignored by Wasmtime's ELF reader); read into memory when mapping fails (a cache
/// folder on a `noexec` file system cannot be mapped executable).
#[expect(
    unsafe_code,
    reason = "deserializing compiled code is unsafe by design; callers vouch for the bytes"
)]
fn deserialize_entry(
    engine: &Engine,
    encoding: Encoding,
    file: File,
    entry: &Path,
    payload_len: u64,
) -> anyhow::Result<Loaded> {
    // SAFETY: `file` is our own cache entry, opened once from a folder only this user can write
    // (checked by `private`), bound to the digest of the module being run and with the digest
    // of its payload verified through this same open file: exactly what this program serialized
    // for this module. Entries are replaced by renaming, never written in place, so the file
    // stays what was verified. Wasmtime itself rejects code from another version or
    // configuration.
    let mapped = match encoding {
        Encoding::Module => {
            let copy = file.try_clone()?;
            unsafe { Module::deserialize_open_file(engine, copy) }.map(Loaded::Module)
        }
        Encoding::Component => {
            // Components are mapped by path: the open file's own, where the system has one.
            let path = open_file_path(&file).unwrap_or_else(|| entry.to_path_buf());
            unsafe { Component::deserialize_file(engine, path) }.map(Loaded::Component)
        }
    };
    if let Ok(loaded) = mapped {
        return Ok(loaded);
    }
    let mut payload = vec![0u8; usize::try_from(payload_len)?];
    read_exact_at(&file, &mut payload, 0)
        .ok_or_else(|| anyhow::anyhow!("could not read `{}`", entry.display()))?;
    deserialize(engine, encoding, &payload)
}

/// A path that opens the same file as `file` (Linux: `/proc/self/fd/N`).
#[cfg(target_os = "linux")]
fn open_file_path(file: &File) -> Option<PathBuf> {
    use std::os::fd::AsRawFd as _;
    let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    path.exists().then_some(path)
}

#[cfg(not(target_os = "linux"))]
fn open_file_path(_file: &File) -> Option<PathBuf> {
    None
}

/// Loads a `.cwasm` the user allowed with `--allow-precompiled`.
pub fn deserialize_trusted(
    engine: &Engine,
    kind: Precompiled,
    bytes: &[u8],
    path: &Path,
) -> anyhow::Result<Loaded> {
    let encoding = match kind {
        Precompiled::Module => Encoding::Module,
        Precompiled::Component => Encoding::Component,
    };
    deserialize(engine, encoding, bytes).map_err(|source| {
        HostError::PrecompiledIncompatible {
            path: path.display().to_string(),
            source,
        }
        .into()
    })
}

/// Compiles `bytes` ahead of time for the default engine (what `run` uses without limits).
pub fn precompile(engine: &Engine, bytes: &[u8], encoding: Encoding) -> anyhow::Result<Vec<u8>> {
    match encoding {
        Encoding::Module => engine
            .precompile_module(bytes)
            .map_err(|e| invalid(e, "module")),
        Encoding::Component => engine
            .precompile_component(bytes)
            .map_err(|e| invalid(e, "component")),
    }
}

/// Total size in bytes of the files under `dir` (0 when it does not exist).
pub fn folder_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => folder_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(bytes: &[u8], module: &[u8; 32]) -> Option<u64> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("entry");
        std::fs::write(&path, bytes).expect("write");
        verified_len(&File::open(&path).expect("open"), module)
    }

    #[test]
    fn damaged_or_rebound_entries_are_refused() {
        let module = digest(b"module a");
        // Large enough to be read in several slices, hashed on several threads.
        let payload: Vec<u8> = (0..9u32 << 20).map(|i| (i * 7 + i / 4096) as u8).collect();
        let file = entry_bytes(&module, &payload);
        assert_eq!(verified(&file, &module), Some(payload.len() as u64));
        assert_eq!(
            verified(&file, &digest(b"module b")),
            None,
            "another module's code"
        );
        for at in [0, payload.len() / 2, payload.len() - 1, payload.len() + 40] {
            let mut flipped = file.clone();
            flipped[at] ^= 1;
            assert_eq!(verified(&flipped, &module), None, "byte {at} flipped");
        }
        assert_eq!(verified(&file[..file.len() - 1], &module), None);
        assert_eq!(verified(&file[1..], &module), None);
        assert_eq!(verified(&file[..20], &module), None);
        assert_eq!(verified(b"", &module), None);
        let small = entry_bytes(&module, b"compiled code");
        assert_eq!(verified(&small, &module), Some(13));
    }
}
