//! Language drivers: each turns a detected project into WebAssembly artifacts for one target.
//! They share one entry point, [`build`], and one options type; a language is one module here.

use std::path::PathBuf;

use crate::artifact::Artifact;
use crate::error::Result;
use crate::project::{self, Lang};
use crate::report::Reporter;
use crate::target::Target;

pub mod rust;

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

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The project folder (or manifest).
    pub path: PathBuf,
    pub target: Target,
    pub profile: Profile,
    /// Packages to build (`-p`); empty means what the compiler would build by default.
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
}

impl BuildOptions {
    /// Defaults for `path`: wasip1, dev profile, everything the project builds by default.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        BuildOptions {
            path: path.into(),
            target: Target::Wasip1,
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
        }
    }
}

/// What a build produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildOutput {
    pub lang: Lang,
    /// The toolchain that built it (e.g. `stable-x86_64-unknown-linux-gnu`).
    pub toolchain: String,
    pub artifacts: Vec<Artifact>,
}

/// Detects the project at `options.path` and builds it with its language's driver.
pub fn build(options: &BuildOptions, reporter: &dyn Reporter) -> Result<BuildOutput> {
    let project = project::detect(&options.path)?;
    match project.lang {
        Lang::Rust => rust::build(&project, options, reporter),
    }
}
