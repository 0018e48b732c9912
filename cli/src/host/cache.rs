//! The compiled-code cache: Wasmtime's serialized code on disk, keyed by the module's sha256,
//! the Wasmtime version and the engine's settings.
//!
//! Loading compiled code trusts it (Wasmtime's deserialize is `unsafe`: the bytes become machine
//! code), so an entry is used only when
//! - the cache folder, `compiled/` and the entry are the user's own and nobody else can write
//!   them (the folders are created 0700); otherwise the module is compiled and nothing is
//!   stored, with a warning;
//! - it is bound to this module: it carries the sha256 of the module it was compiled from, which
//!   must be the sha256 of the module being run (an entry copied over another is refused);
//! - the sha256 of its payload matches (a damaged entry is refused).
//!
//! A refused entry is compiled again and replaced.

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use wasmforge_build::artifact::{Encoding, write_atomic};
use wasmforge_build::cache::Section;
use wasmtime::component::Component;
use wasmtime::{Engine, Module, Precompiled};

use super::{HostError, Loaded};

const MAGIC: &[u8; 8] = b"WFCODE02";

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
        }
    }
}

/// The folder holding compiled code.
pub fn compiled_dir() -> Option<PathBuf> {
    Some(wasmforge_build::cache::cache_dir()?.join(Section::Compiled.name()))
}

/// The entry for a module (by its sha256) under this engine's settings.
fn entry_path(engine: &Engine, module_sha256: &[u8]) -> Option<PathBuf> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let hex: String = module_sha256.iter().map(|b| format!("{b:02x}")).collect();
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
        super::http::engine(&limits, 1)?
    } else {
        super::engine(&limits)?
    };
    let (_, event) = load_or_compile(&engine, &bytes, encoding, true, &|_| {})?;
    Ok(event)
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
    let module_sha256: [u8; 32] = Sha256::digest(bytes).into();
    load_or_compile_hashed(engine, bytes, &module_sha256, encoding, use_cache, warn)
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
/// sha256 is `module_sha256` (a cache folder that is not private holds none).
pub fn lookup(engine: &Engine, module_sha256: &[u8; 32], encoding: Encoding) -> Option<Loaded> {
    let entry = entry_path(engine, module_sha256)?;
    let dir = wasmforge_build::cache::section_dir(Section::Compiled)?;
    private(&dir).ok()?;
    let stored = std::fs::read(&entry).ok()?;
    let payload = verified_payload(&stored, module_sha256).filter(|_| private(&entry).is_ok())?;
    deserialize(engine, encoding, payload).ok()
}

/// [`load_or_compile`] for a module whose sha256 is known.
pub fn load_or_compile_hashed(
    engine: &Engine,
    bytes: &[u8],
    module_sha256: &[u8; 32],
    encoding: Encoding,
    use_cache: bool,
    warn: &dyn Fn(&str),
) -> anyhow::Result<(Loaded, CacheEvent)> {
    let module_sha256 = module_sha256.as_slice();
    let entry = if use_cache {
        entry_path(engine, module_sha256)
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
    let mut event = CacheEvent::Miss;
    if let Ok(stored) = std::fs::read(&entry) {
        match verified_payload(&stored, module_sha256).filter(|_| private(&entry).is_ok()) {
            Some(payload) => match deserialize(engine, encoding, payload) {
                Ok(loaded) => return Ok((loaded, CacheEvent::Hit)),
                Err(_) => event = CacheEvent::Rebuilt,
            },
            None => event = CacheEvent::Rebuilt,
        }
    }
    let loaded = compile(engine, bytes, encoding)?;
    let payload = match &loaded {
        Loaded::Module(module) => module.serialize(),
        Loaded::Component(component) => component.serialize(),
    };
    if let Ok(payload) = payload {
        let mut file = Vec::with_capacity(payload.len() + 72);
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(module_sha256);
        file.extend_from_slice(&Sha256::digest(&payload));
        file.extend_from_slice(&payload);
        // A cache that cannot be written only costs time next run.
        let _ = write_atomic(&entry, &file);
    }
    Ok((loaded, event))
}

/// The payload of a cache file compiled from the module whose sha256 is `module`, when its
/// checksum matches; else `None`.
fn verified_payload<'a>(stored: &'a [u8], module: &[u8]) -> Option<&'a [u8]> {
    let rest = stored.strip_prefix(MAGIC.as_slice())?;
    let (bound, rest) = rest.split_at_checked(32)?;
    let (sum, payload) = rest.split_at_checked(32)?;
    (bound == module && Sha256::digest(payload).as_slice() == sum).then_some(payload)
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
pub fn warm_in_background(path: &Path, epoch: bool) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["-q", "cache", "warm"]);
    if epoch {
        cmd.arg("--epoch-interruption");
    }
    cmd.arg("--")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let _ = cmd.spawn();
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
    // - our own cache entry, read from a folder only this user can write (checked by
    //   `private`), bound to the sha256 of the module being run and with its own sha256 verified:
    //   exactly what this program serialized for this module; or
    // - a .cwasm the user vouched for with --allow-precompiled.
    // Wasmtime itself rejects code from another version or configuration.
    Ok(match encoding {
        Encoding::Module => Loaded::Module(unsafe { Module::deserialize(engine, payload)? }),
        Encoding::Component => {
            Loaded::Component(unsafe { Component::deserialize(engine, payload)? })
        }
    })
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

    #[test]
    fn damaged_or_rebound_entries_are_refused() {
        let module = Sha256::digest(b"module a");
        let payload = b"compiled code".to_vec();
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&module);
        file.extend_from_slice(&Sha256::digest(&payload));
        file.extend_from_slice(&payload);
        assert_eq!(verified_payload(&file, &module), Some(payload.as_slice()));
        let other = Sha256::digest(b"module b");
        assert_eq!(
            verified_payload(&file, &other),
            None,
            "another module's code"
        );
        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(verified_payload(&flipped, &module), None);
        assert_eq!(verified_payload(&file[..20], &module), None);
        assert_eq!(verified_payload(b"ELF something else", &module), None);
    }
}
