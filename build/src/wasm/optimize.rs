//! Optimizing with Binaryen, in-process (the `wasm-opt` crate, Binaryen 116).
//!
//! Binaryen trusts a module's `target_features` section, and aborts the whole process on some
//! bad input. So the input is validated with wasmparser first, the feature set is read from the
//! code itself and exactly those features are enabled, and the output is validated again.

use std::collections::BTreeSet;
use std::str::FromStr;

use wasm_opt::{Feature, OptimizationOptions};

use super::features;
use super::strip::{self, Level as Strip};
use crate::error::{Error, Result};
use crate::files::{sha256_hex, write_atomic};

/// Binaryen's optimization levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Level {
    O1,
    O2,
    O3,
    O4,
    Os,
    Oz,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::O1 => "O1",
            Level::O2 => "O2",
            Level::O3 => "O3",
            Level::O4 => "O4",
            Level::Os => "Os",
            Level::Oz => "Oz",
        }
    }

    fn options(self) -> OptimizationOptions {
        match self {
            Level::O1 => OptimizationOptions::new_opt_level_1(),
            Level::O2 => OptimizationOptions::new_opt_level_2(),
            Level::O3 => OptimizationOptions::new_opt_level_3(),
            Level::O4 => OptimizationOptions::new_opt_level_4(),
            Level::Os => OptimizationOptions::new_optimize_for_size(),
            Level::Oz => OptimizationOptions::new_optimize_for_size_aggressively(),
        }
    }
}

impl FromStr for Level {
    type Err = String;

    /// `Oz`, `-Oz`, `z`, `O2`, `2`, … (case-insensitive).
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let t = s.trim().trim_start_matches('-').to_ascii_lowercase();
        let t = t.strip_prefix('o').unwrap_or(&t);
        Ok(match t {
            "1" => Level::O1,
            "2" => Level::O2,
            "3" => Level::O3,
            "4" => Level::O4,
            "s" => Level::Os,
            "z" => Level::Oz,
            _ => {
                return Err(format!(
                    "unknown optimization level `{s}`: use O1, O2, O3, O4, Os or Oz"
                ));
            }
        })
    }
}

/// Options of one optimization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub level: Level,
    /// What goes before Binaryen sees the module: DWARF (`debuginfo`), and names (`symbols`,
    /// Binaryen's own default without `-g`). A name section is never invented: output gets one
    /// only when the input had one and it is kept.
    pub strip: Strip,
    /// Drop the `producers` section.
    pub strip_producers: bool,
    /// Run the passes again while the module keeps shrinking (`wasm-opt --converge`).
    pub converge: bool,
}

impl Options {
    /// `level` with Binaryen's defaults: names and DWARF dropped, passes run once.
    pub fn new(level: Level) -> Options {
        Options {
            level,
            strip: Strip::Symbols,
            strip_producers: false,
            converge: false,
        }
    }
}

/// What an optimization did.
#[derive(Debug, Clone)]
pub struct Optimized {
    pub bytes: Vec<u8>,
    pub before: u64,
    pub after: u64,
    /// The features enabled for Binaryen (read from the code).
    pub features: Vec<String>,
    /// Why nothing was done, when Binaryen could not be used (the bytes are the input's).
    pub skipped: Option<String>,
}

fn binaryen_feature(name: &str) -> Option<Feature> {
    Some(match name {
        features::SIGN_EXT => Feature::SignExt,
        features::MUTABLE_GLOBALS => Feature::MutableGlobals,
        features::TRUNC_SAT => Feature::TruncSat,
        features::SIMD => Feature::Simd,
        features::BULK_MEMORY => Feature::BulkMemory,
        features::EXCEPTION_HANDLING => Feature::ExceptionHandling,
        features::TAIL_CALL => Feature::TailCall,
        features::REFERENCE_TYPES => Feature::ReferenceTypes,
        features::MULTIVALUE => Feature::Multivalue,
        features::GC => Feature::Gc,
        features::MEMORY64 => Feature::Memory64,
        features::RELAXED_SIMD => Feature::RelaxedSimd,
        features::EXTENDED_CONST => Feature::ExtendedConst,
        features::MULTI_MEMORY => Feature::MultiMemory,
        features::THREADS => Feature::Atomics,
        _ => return None,
    })
}

/// Checks that `bytes` is a valid core module Binaryen can read.
fn check_input(bytes: &[u8]) -> Result<()> {
    if wasmparser::Parser::is_component(bytes) {
        return Err(Error::OptimizeComponent);
    }
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
        .map(|_| ())
        .map_err(|e| Error::InvalidWasm {
            offset: e.offset(),
            message: e.message().to_string(),
        })
}

/// The features Binaryen must be told of for those the code uses: it refuses some alone
/// (`--enable-gc requires --enable-reference-types`).
fn with_implied(mut used: BTreeSet<&'static str>) -> BTreeSet<&'static str> {
    if used.contains(features::GC) {
        used.insert(features::REFERENCE_TYPES);
    }
    if used.contains(features::RELAXED_SIMD) {
        used.insert(features::SIMD);
    }
    used
}

fn invalid(e: wasmparser::BinaryReaderError) -> Error {
    Error::InvalidWasm {
        offset: e.offset(),
        message: e.message().to_string(),
    }
}

/// Whether a core module has a custom section named `name`.
fn has_custom(bytes: &[u8], name: &str) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(bytes)
        .any(|p| matches!(p, Ok(wasmparser::Payload::CustomSection(c)) if c.name() == name))
}

/// Optimizes a core module. Results are cached by the input's sha256 and the options, so the
/// same module is never optimized twice.
pub fn optimize(bytes: &[u8], options: Options) -> Result<Optimized> {
    check_input(bytes)?;
    // What is stripped goes first: Binaryen then neither carries DWARF it cannot update through
    // its passes (it keeps `.debug_*` as opaque sections) nor spends time on it.
    let (input, _) = strip::strip_level(bytes, options.strip).map_err(invalid)?;
    let used = with_implied(features::detect(&input).map_err(invalid)?);
    let names: Vec<String> = used.iter().map(|f| f.to_string()).collect();
    let unknown: Vec<&str> = used
        .iter()
        .copied()
        .filter(|f| binaryen_feature(f).is_none())
        .collect();
    if !unknown.is_empty() {
        return Ok(Optimized {
            before: bytes.len() as u64,
            after: input.len() as u64,
            bytes: input,
            features: names,
            skipped: Some(format!(
                "the module uses {}, which Binaryen 116 does not know; it was left as it is",
                unknown.join(", ")
            )),
        });
    }

    let cache_entry = cache_entry(bytes, options, &names);
    if let Some(cached) = cache_entry.as_ref().and_then(read_cached) {
        return Ok(Optimized {
            before: bytes.len() as u64,
            after: cached.len() as u64,
            bytes: cached,
            features: names,
            skipped: None,
        });
    }

    let mut out = run_binaryen(&input, options, &used)?;
    // Binaryen drops custom sections it does not know about in some passes; the ones a
    // component build needs (`component-type:*`) are carried over.
    out = carry_component_types(&input, out);
    let mut drop: Vec<&str> = Vec::new();
    if options.strip_producers {
        drop.push("producers");
    }
    // With debug info on, Binaryen writes a name section even for a module that had none.
    if !has_custom(&input, "name") {
        drop.push("name");
    }
    if !drop.is_empty() {
        out = strip::strip_named(&out, &drop).map_err(invalid)?;
    }
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&out)
        .map_err(|e| Error::OptimizerFailed {
            message: format!(
                "Binaryen produced an invalid module ({} at offset {})",
                e.message(),
                e.offset()
            ),
            in_build: false,
        })?;
    if let Some(entry) = &cache_entry {
        write_cached(entry, &out);
    }
    Ok(Optimized {
        before: bytes.len() as u64,
        after: out.len() as u64,
        bytes: out,
        features: names,
        skipped: None,
    })
}

/// Where the result for `bytes` and the settings is cached, and the key it is bound to.
struct CacheEntry {
    path: std::path::PathBuf,
    key: String,
}

fn cache_entry(bytes: &[u8], options: Options, features: &[String]) -> Option<CacheEntry> {
    // Bound to Binaryen's version, to our passes around it (v2: bump when they change) and to
    // wasmforge's version.
    let key = format!(
        "binaryen-116 v2 wasmforge-{} {} {} strip={} producers={} converge={} {}",
        env!("CARGO_PKG_VERSION"),
        sha256_hex(bytes),
        options.level.name(),
        options.strip.name(),
        !options.strip_producers,
        options.converge,
        features.join(",")
    );
    let path = crate::cache::cache_dir()?
        .join(crate::cache::Section::Optimized.name())
        .join(format!("{}.wasm", &sha256_hex(key.as_bytes())[..32]));
    Some(CacheEntry { path, key })
}

/// An entry is the key's sha256 followed by the module: a file copied over another entry (the
/// output for other input) is refused, not used.
const ENTRY_MAGIC: &[u8; 8] = b"WFOPT001";

fn write_cached(entry: &CacheEntry, out: &[u8]) {
    if crate::cache::section_dir(crate::cache::Section::Optimized).is_none() {
        return;
    }
    let mut file = Vec::with_capacity(out.len() + 40);
    file.extend_from_slice(ENTRY_MAGIC);
    file.extend_from_slice(&sha256_bytes(entry.key.as_bytes()));
    file.extend_from_slice(out);
    let _ = write_atomic(&entry.path, &file);
}

fn sha256_bytes(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

/// A cached result is used only when it is bound to this input and settings and is still a
/// valid module.
fn read_cached(entry: &CacheEntry) -> Option<Vec<u8>> {
    let stored = std::fs::read(&entry.path).ok()?;
    let rest = stored.strip_prefix(ENTRY_MAGIC.as_slice())?;
    let (bound, cached) = rest.split_at_checked(32)?;
    if bound != sha256_bytes(entry.key.as_bytes()) {
        return None;
    }
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(cached)
        .ok()?;
    Some(cached.to_vec())
}

/// The cached result of optimizing `bytes` with `options`, when there is a sound one. Callers
/// that report progress use it to tell a cache hit from a Binaryen run without doing the work twice.
pub fn cached(bytes: &[u8], options: Options) -> Option<Optimized> {
    let (input, _) = strip::strip_level(bytes, options.strip).ok()?;
    let used = with_implied(features::detect(&input).ok()?);
    let names: Vec<String> = used.iter().map(|f| f.to_string()).collect();
    let hit = read_cached(&cache_entry(bytes, options, &names)?)?;
    Some(Optimized {
        before: bytes.len() as u64,
        after: hit.len() as u64,
        bytes: hit,
        features: names,
        skipped: None,
    })
}

fn run_binaryen(bytes: &[u8], options: Options, used: &BTreeSet<&'static str>) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.wasm");
    let output = dir.path().join("out.wasm");
    fs_err::write(&input, bytes)?;
    let mut opts = options.level.options();
    opts.mvp_features_only();
    for feature in used.iter().filter_map(|f| binaryen_feature(f)) {
        opts.enable_feature(feature);
    }
    // Binaryen's `-g`: keep the name section (and DWARF, when it was not stripped above).
    opts.debug_info(options.strip != Strip::Symbols);
    if options.converge {
        opts.set_converge();
    }
    opts.run(&input, &output).map_err(|e| {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        Error::OptimizerFailed {
            message,
            in_build: false,
        }
    })?;
    Ok(fs_err::read(&output)?)
}

/// Appends to `out` the `component-type:*` custom sections of `input` that `out` lacks.
fn carry_component_types(input: &[u8], mut out: Vec<u8>) -> Vec<u8> {
    let sections = |bytes: &[u8]| -> Vec<(String, Vec<u8>)> {
        wasmparser::Parser::new(0)
            .parse_all(bytes)
            .filter_map(|p| match p {
                Ok(wasmparser::Payload::CustomSection(c))
                    if c.name().starts_with("component-type") =>
                {
                    Some((c.name().to_string(), c.data().to_vec()))
                }
                _ => None,
            })
            .collect()
    };
    let have = sections(&out);
    for (name, data) in sections(input) {
        if !have.iter().any(|(n, _)| *n == name) {
            let section = wasm_encoder::CustomSection {
                name: name.into(),
                data: data.into(),
            };
            wasm_encoder::Section::append_to(&section, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_like_the_cli() {
        for (text, level) in [
            ("Oz", Level::Oz),
            ("-O3", Level::O3),
            ("s", Level::Os),
            ("2", Level::O2),
            ("o4", Level::O4),
        ] {
            assert_eq!(text.parse::<Level>().ok(), Some(level), "{text}");
        }
        assert!("O9".parse::<Level>().is_err());
    }

    #[test]
    fn components_are_refused_with_a_reason() {
        let component = wat::parse_str("(component)").expect("wat");
        let err = optimize(&component, Options::new(Level::Oz))
            .expect_err("components are not for Binaryen");
        assert!(err.to_string().contains("cannot read components"));
    }

    #[test]
    fn unknown_features_skip_with_a_reason() {
        let bytes = wat::parse_str(
            "(module (func (export \"f\") (param i64 i64 i64 i64) (result i64 i64) local.get 0 local.get 1 local.get 2 local.get 3 i64.add128))",
        )
        .expect("wat");
        let result = optimize(&bytes, Options::new(Level::O2)).expect("ok");
        assert!(
            result
                .skipped
                .unwrap_or_default()
                .contains("wide-arithmetic")
        );
        assert_eq!(result.bytes, bytes);
    }
}
