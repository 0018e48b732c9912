//! The `[c]` table of `wasmforge.toml`: C's own settings, read from the file's text by the C
//! language (the config layer knows no language).

use crate::config::Config;
use crate::error::{Error, Result};

/// The `[c]` table of `config` (the defaults when there is none); an invalid key or value is
/// the file's error, with its line, as for any other table.
pub fn of(config: &Config) -> Result<CConfig> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        c: CConfig,
    }
    if config.text.is_empty() {
        return Ok(CConfig::default());
    }
    toml::from_str::<File>(&config.text)
        .map(|f| f.c)
        .map_err(|source| Error::ConfigInvalid {
            path: config.path.clone().unwrap_or_default(),
            source,
        })
}

/// The `[c]` table of wasmforge.toml (see DESIGN.md).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CConfig {
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub defines: Vec<String>,
    #[serde(default)]
    pub cflags: Vec<String>,
    #[serde(default)]
    pub ldflags: Vec<String>,
    #[serde(default)]
    pub libs: Vec<String>,
    #[serde(default)]
    pub exports: Vec<String>,
    /// CMake or Make: which target to build.
    pub bin: Option<String>,
    /// Make: where make leaves the module (default: what the one link command writes).
    pub artifact: Option<String>,
    /// wasi-libc emulations to compile and link (default: all of them).
    #[serde(default)]
    pub emulate: Emulate,
    /// Functions wasi-libc declares but does not define that get a stub failing at run time.
    #[serde(default)]
    pub stubs: Vec<String>,
    /// The stack of a program, in bytes (wasm-ld's own default is 64 KiB; native programs get
    /// 8 MiB, Rust on WebAssembly 1 MiB).
    #[serde(default, rename = "stack-size", deserialize_with = "stack_size")]
    pub stack_size: Option<u64>,
}

/// The stack a C program gets unless `[c] stack-size` says otherwise.
pub const DEFAULT_STACK_SIZE: u64 = 1 << 20;

impl CConfig {
    /// The stack size to link with.
    pub fn stack_size(&self) -> u64 {
        self.stack_size.unwrap_or(DEFAULT_STACK_SIZE)
    }
}

/// `[c] stack-size`: a number of bytes or a size (`"2MiB"`), a multiple of 16 (the stack's
/// alignment), at least 4 KiB and below 4 GiB (a 32-bit memory).
fn stack_size<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<u64>, D::Error> {
    let expected = "a stack size: a number of bytes, or a string like \"1MiB\"";
    let size = match <toml::Value as serde::Deserialize>::deserialize(d)? {
        toml::Value::Integer(n) => u64::try_from(n).map_err(|_| {
            serde::de::Error::custom(format!("{n} is negative: expected {expected}"))
        })?,
        toml::Value::String(text) => {
            crate::wasm::validate::parse_size(&text).map_err(serde::de::Error::custom)?
        }
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected {expected}, found {}",
                other.type_str()
            )));
        }
    };
    if !(4096..1 << 32).contains(&size) || size % 16 != 0 {
        return Err(serde::de::Error::custom(format!(
            "{size} bytes is not a stack size wasm-ld can lay out: use a multiple of 16 from 4KiB \
             to below 4GiB (e.g. \"1MiB\")"
        )));
    }
    Ok(Some(size))
}

/// The `[c]` table of a `config` that [`crate::lang::load_config`] checked when it read the file
/// (the defaults for one made in code).
pub fn checked(config: &Config) -> CConfig {
    of(config).unwrap_or_default()
}

/// The emulation libraries wasi-libc ships, off by default in the compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Emulation {
    /// `signal.h`: `signal()` and `raise()`; no signal ever arrives from outside.
    Signal,
    /// `sys/mman.h`: `mmap` of anonymous memory and reading files into memory; no sharing.
    Mman,
    /// `clock()`, `times()`, `getrusage()` from the wall clock, not CPU time.
    ProcessClocks,
    /// `getpid()` returns a placeholder.
    Getpid,
}

impl Emulation {
    pub const ALL: [Emulation; 4] = [
        Emulation::Signal,
        Emulation::Mman,
        Emulation::ProcessClocks,
        Emulation::Getpid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Emulation::Signal => "signal",
            Emulation::Mman => "mman",
            Emulation::ProcessClocks => "process-clocks",
            Emulation::Getpid => "getpid",
        }
    }

    /// The define that unlocks wasi-libc's declarations.
    pub fn define(self) -> &'static str {
        match self {
            Emulation::Signal => "_WASI_EMULATED_SIGNAL",
            Emulation::Mman => "_WASI_EMULATED_MMAN",
            Emulation::ProcessClocks => "_WASI_EMULATED_PROCESS_CLOCKS",
            Emulation::Getpid => "_WASI_EMULATED_GETPID",
        }
    }

    /// The library that implements it (`-l` name).
    pub fn lib(self) -> &'static str {
        match self {
            Emulation::Signal => "wasi-emulated-signal",
            Emulation::Mman => "wasi-emulated-mman",
            Emulation::ProcessClocks => "wasi-emulated-process-clocks",
            Emulation::Getpid => "wasi-emulated-getpid",
        }
    }

    /// What it means at run time.
    pub fn meaning(self) -> &'static str {
        match self {
            Emulation::Signal => {
                "signal handlers run only for raise(); no signal ever arrives from outside"
            }
            Emulation::Mman => {
                "mmap gives anonymous or read-only copied memory; nothing is shared or written back"
            }
            Emulation::ProcessClocks => {
                "clock(), times() and getrusage() measure wall time, not CPU time"
            }
            Emulation::Getpid => "getpid() returns a placeholder, not the host's process id",
        }
    }

    /// The header that needs it, when one does (the others are single functions).
    pub fn header(self) -> Option<&'static str> {
        match self {
            Emulation::Signal => Some("signal.h"),
            Emulation::Mman => Some("sys/mman.h"),
            Emulation::ProcessClocks => Some("sys/times.h"),
            Emulation::Getpid => None,
        }
    }

    /// The emulation a header needs (`sys/resource.h` is process clocks too).
    pub fn for_header(header: &str) -> Option<Emulation> {
        match header {
            "signal.h" => Some(Emulation::Signal),
            "sys/mman.h" => Some(Emulation::Mman),
            "sys/times.h" | "sys/resource.h" => Some(Emulation::ProcessClocks),
            _ => None,
        }
    }
}

impl std::str::FromStr for Emulation {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Emulation::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| {
                format!("unknown emulation `{s}`: use signal, mman, process-clocks or getpid")
            })
    }
}

/// `[c] emulate`: absent or `true` for all, `false` for none, or a list of names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Emulate {
    #[default]
    All,
    Only(Vec<Emulation>),
}

impl Emulate {
    pub fn enabled(&self) -> Vec<Emulation> {
        match self {
            Emulate::All => Emulation::ALL.to_vec(),
            Emulate::Only(list) => list.clone(),
        }
    }

    pub fn allows(&self, emulation: Emulation) -> bool {
        match self {
            Emulate::All => true,
            Emulate::Only(list) => list.contains(&emulation),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Emulate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            List(Vec<String>),
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected true, false or a list of signal, mman, process-clocks, getpid",
            )
        })? {
            Raw::Flag(true) => Ok(Emulate::All),
            Raw::Flag(false) => Ok(Emulate::Only(Vec::new())),
            Raw::List(names) => names
                .iter()
                .map(|n| n.parse::<Emulation>())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(|mut list| {
                    list.sort();
                    list.dedup();
                    Emulate::Only(list)
                })
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<CConfig> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(crate::config::FILE_NAME), text).expect("write");
        of(&Config::load(dir.path()).expect("the file parses"))
    }

    #[test]
    fn reads_every_key_of_the_c_table_and_refuses_typos() {
        let c = load(
            r#"
[package]
lang = "c"
[c]
sources = ["src/**/*.c"]
include = ["include"]
defines = ["NDEBUG", "LEVEL=2"]
cflags = ["-Wall"]
ldflags = []
libs = ["m"]
exports = ["add"]
bin = "minigzip"
artifact = "out/app.wasm"
emulate = ["signal", "mman"]
stubs = ["getpwuid"]
"#,
        )
        .expect("valid");
        assert_eq!(c.defines, ["NDEBUG", "LEVEL=2"]);
        assert_eq!(c.artifact.as_deref(), Some("out/app.wasm"));
        assert_eq!(c.emulate.enabled(), [Emulation::Signal, Emulation::Mman]);
        assert_eq!(c.stack_size(), DEFAULT_STACK_SIZE);
        assert_eq!(
            load("[c]\nstack-size = \"8MiB\"\n")
                .expect("valid")
                .stack_size(),
            8 << 20
        );
        assert_eq!(
            load("[c]\nstack-size = 65536\n")
                .expect("valid")
                .stack_size(),
            65536
        );
        for (text, says) in [
            ("[c]\nsource = [\"a.c\"]\n", "unknown field `source`"),
            ("[c]\nemulate = [\"fork\"]\n", "unknown emulation `fork`"),
            ("[c]\nexports = \"add\"\n", "expected a sequence"),
            ("[c]\nstack-size = 1000\n", "a multiple of 16"),
            ("[c]\nstack-size = \"8GiB\"\n", "below 4GiB"),
        ] {
            let err = load(text).expect_err(text);
            assert!(matches!(err, Error::ConfigInvalid { .. }));
            let shown = std::error::Error::source(&err)
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(shown.contains(says), "{text}: {shown}");
            assert!(shown.contains("line 2"), "where: {shown}");
        }
    }

    #[test]
    fn loading_checks_the_c_table_and_refuses_tables_nobody_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(crate::config::FILE_NAME);
        std::fs::write(&file, "[c]\nsorces = [\"a.c\"]\n").expect("write");
        let err = crate::lang::load_config(dir.path()).expect_err("a typo in [c]");
        assert!(matches!(err, Error::ConfigInvalid { .. }), "{err}");
        std::fs::write(&file, "[bild]\nopt = \"Oz\"\n").expect("write");
        let err = crate::lang::load_config(dir.path()).expect_err("an unknown table");
        assert!(
            matches!(&err, Error::UnknownConfigTable { name, .. } if name == "bild"),
            "{err}"
        );
        assert!(err.hint().unwrap_or_default().contains("[c]"));
        std::fs::write(&file, "[c]\nexports = [\"add\"]\n").expect("write");
        let config = crate::lang::load_config(dir.path()).expect("valid");
        assert_eq!(checked(&config).exports, ["add"]);
    }
}
