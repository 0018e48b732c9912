//! Language drivers: each turns a detected project into WebAssembly artifacts for one target.
//! They share one entry point, [`build`], and one options type; a language is one module here.

use std::path::{Path, PathBuf};

use crate::artifact::{self, Artifact, ArtifactKind, Identity};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::project::{self, Lang, Project};
use crate::report::Reporter;
use crate::target::Target;

pub mod c;
pub mod go;
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

/// One build, with every setting resolved (flag > environment > wasmforge.toml > default).
#[derive(Debug)]
pub struct Job<'a> {
    pub project: &'a Project,
    pub config: &'a Config,
    pub options: &'a BuildOptions,
    pub target: Target,
    pub kind: Option<ArtifactKind>,
    pub toolchain: Option<String>,
}

impl Job<'_> {
    /// Where artifacts of languages without their own target folder go:
    /// `<project>/target/wasmforge/<target>/<profile>`.
    pub fn out_dir(&self) -> PathBuf {
        self.work_dir()
            .join(self.target.name())
            .join(self.options.profile.dir_name())
    }

    /// `<project>/target/wasmforge`: wasmforge's own build folder for Go and C projects.
    pub fn work_dir(&self) -> PathBuf {
        self.project.dir.join("target").join("wasmforge")
    }

    /// Publishes a preview 1 core module built at `core_path` as `<out_dir>/<name>.wasm`;
    /// for `wasip2` (when `wrap`) it is first wrapped into a command component.
    pub fn publish_core(
        &self,
        core_path: &Path,
        wrap: bool,
        name: &str,
        kind: ArtifactKind,
    ) -> Result<Artifact> {
        let core = fs_err::read(core_path)?;
        let bytes = if wrap && self.target == Target::Wasip2 {
            crate::componentize::command_component(&core, core_path)?
        } else {
            core
        };
        let id = Identity {
            package: name,
            name,
            target: self.target,
            kind,
            profile: self.options.profile.dir_name(),
        };
        artifact::publish_bytes(&bytes, self.out_dir().join(format!("{name}.wasm")), id)
    }

    /// Go and C know only debug and release builds.
    pub fn require_plain_profile(&self) -> Result<()> {
        match &self.options.profile {
            Profile::Custom(name) => Err(Error::Unsupported {
                message: format!(
                    "the profile `{name}` is a Cargo feature; {} projects build debug or release",
                    self.project.lang.name()
                ),
                hint: "use --release, or no profile flag for a debug build".into(),
            }),
            _ => Ok(()),
        }
    }
}

/// A language driver: turns a project into WebAssembly artifacts for one target.
pub trait Driver {
    fn build(&self, job: &Job<'_>, reporter: &dyn Reporter) -> Result<BuildOutput>;
}

/// Detects the project at `options.path` and builds it with its language's driver.
pub fn build(options: &BuildOptions, reporter: &dyn Reporter) -> Result<BuildOutput> {
    let config_dir = if options.path.is_file() {
        options.path.parent().map(PathBuf::from).unwrap_or_default()
    } else {
        options.path.clone()
    };
    let config = Config::load(&config_dir)?;
    let project = project::detect(&options.path, options.lang.or(config.package.lang))?;
    let job = Job {
        project: &project,
        config: &config,
        options,
        target: options
            .target
            .or(config.package.target)
            .unwrap_or(Target::Wasip1),
        kind: options.kind.or(config.package.kind),
        toolchain: options
            .toolchain
            .clone()
            .or_else(|| config.build.toolchain.clone()),
    };
    let driver: &dyn Driver = match project.lang {
        Lang::Rust => &rust::RustDriver,
        Lang::Go => &go::GoDriver,
        Lang::C => &c::CDriver,
    };
    driver.build(&job, reporter)
}
