//! The WebAssembly targets wasmforge builds for, and how users may name them.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A WebAssembly target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Core module, WASI preview 1 (the default).
    Wasip1,
    /// Component, WASI 0.2.
    Wasip2,
    /// Bare core module for browsers and plugin hosts.
    Unknown,
}

impl Target {
    /// Every target, in the order they are documented.
    pub const ALL: [Target; 3] = [Target::Wasip1, Target::Wasip2, Target::Unknown];

    /// The short name used on the command line and in output paths.
    pub fn name(self) -> &'static str {
        match self {
            Target::Wasip1 => "wasip1",
            Target::Wasip2 => "wasip2",
            Target::Unknown => "unknown",
        }
    }

    /// The Rust target triple.
    pub fn rust_triple(self) -> &'static str {
        match self {
            Target::Wasip1 => "wasm32-wasip1",
            Target::Wasip2 => "wasm32-wasip2",
            Target::Unknown => "wasm32-unknown-unknown",
        }
    }

    /// Whether the output of this target is a component rather than a core module.
    pub fn is_component(self) -> bool {
        self == Target::Wasip2
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Target {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        for target in Target::ALL {
            if wanted == target.name() || wanted == target.rust_triple() {
                return Ok(target);
            }
        }
        let hint = match wanted.as_str() {
            "wasi" | "wasm32-wasi" | "wasip0" => {
                "`wasm32-wasi` was renamed `wasm32-wasip1` (and removed in Rust 1.84): \
                 use `--target wasip1`"
                    .to_string()
            }
            "wasm32-wasip2-component" | "component" | "p2" => {
                "use `--target wasip2` for a component".into()
            }
            "wasip1-threads" | "wasm32-wasip1-threads" | "wasm32-wasi-threads" | "wasi-threads" => {
                "wasmforge does not build wasm32-wasip1-threads: its modules need `wasi::thread-spawn` \
                 (the wasi-threads proposal, which WASI 0.2 did not adopt), and Wasmtime — the \
                 sandbox `run`, `serve` and `test` use — dropped it (its CLI 49 refuses `-S threads` \
                 as no longer supported); build for wasip1 or wasip2 and keep threads out of the \
                 Wasm build (`#[cfg(not(target_os = \"wasi\"))]`): `wasmforge explain WF7001`"
                    .into()
            }
            "js" | "wasm32-unknown-emscripten" | "emscripten" => {
                "wasmforge builds wasip1, wasip2 and unknown; \
                 for browsers use `--target unknown`"
                    .into()
            }
            _ => "valid targets: wasip1 (default), wasip2, unknown (or the triples wasm32-wasip1, \
                  wasm32-wasip2, wasm32-unknown-unknown)"
                .into(),
        };
        Err(Error::UnknownTarget {
            given: s.to_string(),
            hint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_names_and_triples() {
        for target in Target::ALL {
            assert_eq!(target.name().parse::<Target>().ok(), Some(target));
            assert_eq!(target.rust_triple().parse::<Target>().ok(), Some(target));
        }
        assert_eq!("WASIP2".parse::<Target>().ok(), Some(Target::Wasip2));
    }

    #[test]
    fn wasip1_threads_is_refused_with_the_reason() {
        for name in [
            "wasip1-threads",
            "wasm32-wasip1-threads",
            "wasm32-wasi-threads",
        ] {
            let err = name.parse::<Target>().expect_err(name);
            let hint = err.hint().unwrap_or_default();
            assert!(hint.contains("`wasi::thread-spawn`"), "{hint}");
            assert!(hint.contains("WF7001"), "{hint}");
        }
    }

    #[test]
    fn old_wasi_name_gets_a_rename_hint() {
        let err = "wasm32-wasi"
            .parse::<Target>()
            .expect_err("old name must be refused");
        assert!(
            err.hint().unwrap_or_default().contains("wasm32-wasip1"),
            "{err:?}"
        );
    }
}
