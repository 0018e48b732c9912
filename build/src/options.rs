//! What to build: the options a command gives the pipeline (`BuildOptions`) and the choices in
//! them (profile, features, optimization).

use std::path::PathBuf;

use crate::artifact::ArtifactKind;
use crate::project::Lang;
use crate::target::Target;
use crate::wasm::optimize::Level;
use crate::wasm::strip::Level as Strip;

/// A build profile, as cargo names them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Profile {
    #[default]
    Dev,
    Release,
    Custom(String),
}

impl Profile {
    /// The folder name cargo uses for this profile's outputs (`dev` builds land in `debug`).
    pub fn dir_name(&self) -> &str {
        match self {
            Profile::Dev => "debug",
            Profile::Release => "release",
            Profile::Custom(name) if name == "dev" || name == "test" => "debug",
            Profile::Custom(name) if name == "bench" => "release",
            Profile::Custom(name) => name,
        }
    }
}

/// Feature selection, as cargo takes it.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
}

impl Features {
    /// The same selection as cargo's flags (`--features a,b`, `--all-features`,
    /// `--no-default-features`), for every cargo command that must see the build's graph.
    pub fn cargo_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if !self.features.is_empty() {
            args.extend(["--features".to_string(), self.features.join(",")]);
        }
        if self.all_features {
            args.push("--all-features".into());
        }
        if self.no_default_features {
            args.push("--no-default-features".into());
        }
        args
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The project folder (or manifest).
    pub path: PathBuf,
    /// The target; `None` means `wasmforge.toml`'s, else wasip1.
    pub target: Option<Target>,
    /// The language, when the folder alone does not say (`--lang`).
    pub lang: Option<Lang>,
    /// Command or library, for languages where the sources do not say (Go, C).
    pub kind: Option<ArtifactKind>,
    /// Which toolchain of the language: `go`/`tinygo`, `wasi-sdk`/`clang`/`zig`.
    pub toolchain: Option<String>,
    /// Parallel compile jobs (C); `None` means one per core.
    pub jobs: Option<usize>,
    pub profile: Profile,
    /// Packages to build (`-p`; for Go the main package, e.g. `./cmd/x`); empty means what the
    /// compiler would build by default.
    pub packages: Vec<String>,
    /// Binaries to build (`--bin`); empty means all.
    pub bins: Vec<String>,
    pub features: Features,
    /// `--locked`, `--frozen`, `--offline`: passed to cargo as they are.
    pub locked: bool,
    pub frozen: bool,
    pub offline: bool,
    /// Whether the compiler's own diagnostics may use colour.
    pub color: bool,
    /// Fewer status lines from the compiler.
    pub quiet: bool,
    /// Extra arguments passed to the compiler driver as they are.
    pub extra_args: Vec<String>,
    /// Optimization after compiling (release builds optimize with `Oz` by default).
    pub opt: OptChoice,
    /// `Some(false)` (`--no-checks`) skips the source checks; `None` means wasmforge.toml's
    /// `[build] checks`, else on. The facts that make a build impossible are always checked.
    pub checks: Option<bool>,
    /// `--size`: the smallest release artifact the toolchain allows (`[build] size`).
    pub size: bool,
    /// `--simd`: compile with WebAssembly SIMD (`[build] simd`).
    pub simd: bool,
    /// `--strip`: what custom sections go (`[build] strip`; release default `debuginfo`).
    pub strip: Option<Strip>,
    /// `wasmforge test` of a CMake project: build its tests for CTest in a folder of their own,
    /// with this command (a `wasmforge run` with the test's grants) as
    /// `CMAKE_CROSSCOMPILING_EMULATOR` and every executable a launcher of its module run by it.
    pub test_runner: Option<Vec<String>>,
}

/// What the user said about optimizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptChoice {
    /// `wasmforge.toml`'s `[build] opt`, else `Oz` for release builds and nothing for debug.
    #[default]
    Default,
    /// `--opt LEVEL`.
    Level(Level),
    /// `--no-opt` or `--opt none`.
    Off,
}

impl BuildOptions {
    /// Defaults for `path`: wasip1, dev profile, everything the project builds by default.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        BuildOptions {
            path: path.into(),
            target: None,
            lang: None,
            kind: None,
            toolchain: None,
            jobs: None,
            profile: Profile::Dev,
            packages: Vec::new(),
            bins: Vec::new(),
            features: Features::default(),
            locked: false,
            frozen: false,
            offline: false,
            color: false,
            quiet: false,
            extra_args: Vec::new(),
            opt: OptChoice::Default,
            checks: None,
            size: false,
            simd: false,
            strip: None,
            test_runner: None,
        }
    }
}
