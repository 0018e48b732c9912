//! Language drivers: each turns a detected project into WebAssembly artifacts for one target.
//! They share one entry point, [`build`], and one options type; a language is one module here.

use std::path::{Path, PathBuf};

use crate::artifact::{self, Artifact, ArtifactKind, Encoding, Identity};
use crate::config::Config;
use crate::diagnostics::Diagnostic;
use crate::doctor::Check;
use crate::error::{Error, Result};
use crate::project::{self, Lang, Project};
use crate::report::Reporter;
use crate::target::Target;
use crate::wasm::optimize::{self, Level};
use crate::wasm::strip::Level as Strip;
use crate::wasm::validate::Profile as ValidationProfile;

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
    /// Optimization after compiling (release builds optimize with `Oz` by default).
    pub opt: OptChoice,
    /// `Some(false)` (`--no-checks`) skips the source checks; `None` means wasmforge.toml's
    /// `[build] checks`, else on. The facts that make a build impossible are always checked.
    pub checks: Option<bool>,
    /// `--size`: the smallest release artifact the toolchain allows (`[build] size`).
    pub size: bool,
    /// `--strip`: what custom sections go (`[build] strip`; release default `debuginfo`).
    pub strip: Option<Strip>,
}

/// An optimization that happened.
#[derive(Debug, Clone, Copy)]
pub struct Optimization {
    pub level: Level,
    /// The size the compiler wrote.
    pub before: u64,
    /// The strip level, when it dropped something on the way.
    pub stripped: Option<Strip>,
}

impl Optimization {
    /// Notes on `artifact` what was done to it.
    pub fn record(&self, artifact: &mut Artifact) {
        artifact.opt_level = Some(self.level.name().to_string());
        artifact.unoptimized_size = Some(self.before);
        artifact.compiled_size = Some(self.before);
        artifact.stripped = self.stripped.map(|s| s.name().to_string());
    }
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
            strip: None,
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
    /// The optimization level, when this build optimizes.
    pub opt: Option<Level>,
    /// Whether the source checks run (`--no-checks`, `[build] checks`).
    pub checks: bool,
    /// `--size` / `[build] size` on a release build: size first, run speed second.
    pub size: bool,
    /// What custom sections artifacts keep.
    pub strip: Strip,
    /// Error findings of the source checks, held back: shown as warnings before the compile,
    /// they become the diagnosis if the compile fails.
    pub evidence: std::sync::Mutex<Vec<Diagnostic>>,
}

impl<'a> Job<'a> {
    /// One build of `project`, every setting resolved (flag > environment > wasmforge.toml >
    /// default).
    pub fn new(
        project: &'a Project,
        config: &'a Config,
        options: &'a BuildOptions,
    ) -> Result<Job<'a>> {
        check_options(project.lang, options, config)?;
        let release = options.profile == Profile::Release;
        if options.size && !release {
            return Err(Error::BadUsage {
                message: "--size shrinks release artifacts, and this is not a release build".into(),
                hint: "add --release: `wasmforge build --release --size`".into(),
            });
        }
        let size = release && (options.size || config.build.size == Some(true));
        let strip = match options.strip {
            Some(level) => level,
            None if !release => Strip::None,
            None => config.build.strip.unwrap_or(if size {
                Strip::Symbols
            } else {
                Strip::Debuginfo
            }),
        };
        Ok(Job {
            size,
            strip,
            project,
            config,
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
            opt: resolve_opt(options, config)?,
            checks: options.checks.or(config.build.checks).unwrap_or(true),
            evidence: std::sync::Mutex::new(Vec::new()),
        })
    }
}

/// The toolchains each language takes (`--toolchain`, `[build] toolchain`); Rust takes a
/// rustup toolchain's name instead.
const GO_TOOLCHAINS: [&str; 2] = ["go", "tinygo"];
const C_TOOLCHAINS: [&str; 3] = ["wasi-sdk", "clang", "zig"];

/// Every flag works for the project's language or is refused (exit 2) saying who takes it;
/// none passes silently.
fn check_options(lang: Lang, options: &BuildOptions, config: &Config) -> Result<()> {
    let refuse = |flag: &str, takers: &str, instead: &str| {
        Err(Error::BadUsage {
            message: format!(
                "{flag} does not apply to {} projects: it is for {takers}",
                lang_label(lang)
            ),
            hint: instead.to_string(),
        })
    };
    let cargo_only = |flag: &str| {
        refuse(
            flag,
            "Rust (cargo)",
            match lang {
                Lang::Go => {
                    "Go builds choose code with build tags: `wasmforge build -- -tags NAME`"
                }
                _ => {
                    "C builds choose code with defines: `[c] defines` in wasmforge.toml, or `-- -DNAME` for CMake"
                }
            },
        )
    };
    let features = &options.features;
    if lang != Lang::Rust {
        if !features.features.is_empty() {
            return cargo_only("-F/--features");
        }
        if features.all_features {
            return cargo_only("--all-features");
        }
        if features.no_default_features {
            return cargo_only("--no-default-features");
        }
        for (flag, set) in [
            ("--locked", options.locked),
            ("--frozen", options.frozen),
            ("--offline", options.offline),
        ] {
            if set {
                return refuse(
                    flag,
                    "Rust (Cargo.lock)",
                    match lang {
                        Lang::Go => {
                            "Go checks go.sum on every build; `-- -mod=readonly` or `-- -mod=vendor` go to `go build`"
                        }
                        _ => "a C build has no lock file: what it compiles is in the project",
                    },
                );
            }
        }
        if let Profile::Custom(name) = &options.profile {
            return refuse(
                &format!("--profile {name}"),
                "Rust (Cargo profiles)",
                "Go and C build debug or release: use --release, or no profile flag",
            );
        }
    }
    match lang {
        Lang::Rust => {
            if options.kind.is_none() && config.package.kind.is_some() {
                return Err(Error::Unsupported {
                    message: "wasmforge.toml: [package] kind is for Go and C projects".into(),
                    hint: "a Rust package's kind is in Cargo.toml: a binary is a command, \
                           `[lib] crate-type = [\"cdylib\"]` a library; remove `kind`"
                        .into(),
                });
            }
            if options.kind.is_some() {
                return refuse(
                    "--kind",
                    "Go and C",
                    "a Rust package's kind is in Cargo.toml: a binary (src/main.rs, [[bin]]) is a \
                     command, `[lib] crate-type = [\"cdylib\"]` a library; choose with --bin or -p",
                );
            }
            if let Some(name) = &options.toolchain {
                check_rust_toolchain_name(name)?;
            } else if let Some(name) = &config.build.toolchain {
                check_rust_toolchain_name(name).map_err(|e| Error::Unsupported {
                    message: format!("wasmforge.toml: [build] toolchain: {e}"),
                    hint: e.hint().unwrap_or_default(),
                })?;
            }
        }
        Lang::Go | Lang::C => {
            // Go chooses main packages (-p), C executables (--bin): the other one is refused.
            let (given, flag, takers, instead, toolchains) = if lang == Lang::Go {
                (
                    !options.bins.is_empty(),
                    "--bin",
                    "Rust and C (CMake, Make)",
                    "a Go build makes one main package: choose it with `-p ./cmd/NAME`",
                    &GO_TOOLCHAINS[..],
                )
            } else {
                (
                    !options.packages.is_empty(),
                    "-p/--package",
                    "Rust and Go",
                    "a C project's executable is chosen with `--bin NAME` (CMake, Make)",
                    &C_TOOLCHAINS[..],
                )
            };
            if given {
                return refuse(flag, takers, instead);
            }
            check_toolchain_name(lang, options.toolchain.as_deref(), toolchains, false)?;
            check_toolchain_name(lang, config.build.toolchain.as_deref(), toolchains, true)?;
        }
    }
    Ok(())
}

fn lang_label(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "Rust",
        Lang::Go => "Go",
        Lang::C => "C",
    }
}

/// A Go or C toolchain name: one the language has (from the flag: a usage error; from
/// wasmforge.toml: the file is wrong).
fn check_toolchain_name(
    lang: Lang,
    name: Option<&str>,
    known: &[&str],
    from_config: bool,
) -> Result<()> {
    let Some(name) = name else { return Ok(()) };
    if known.contains(&name) {
        return Ok(());
    }
    let owner = if GO_TOOLCHAINS.contains(&name) {
        " (a Go toolchain)".to_string()
    } else if C_TOOLCHAINS.contains(&name) {
        " (a C toolchain)".to_string()
    } else {
        String::new()
    };
    let message = format!(
        "{}`{name}`{owner} is not a {} toolchain",
        if from_config {
            "wasmforge.toml: [build] toolchain "
        } else {
            "--toolchain "
        },
        lang_label(lang)
    );
    let names: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
    let hint = format!(
        "{} builds with {} or {}",
        lang_label(lang),
        names[..names.len() - 1].join(", "),
        names[names.len() - 1]
    );
    Err(if from_config {
        Error::Unsupported { message, hint }
    } else {
        Error::BadUsage { message, hint }
    })
}

/// `--toolchain` for Rust names a rustup toolchain (`nightly`, `1.82.0`, a linked one).
fn check_rust_toolchain_name(name: &str) -> Result<()> {
    let well_formed = !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if well_formed && !GO_TOOLCHAINS.contains(&name) && !C_TOOLCHAINS.contains(&name) {
        return Ok(());
    }
    Err(Error::BadUsage {
        message: format!("--toolchain `{name}` is not a rustup toolchain"),
        hint: "for Rust, --toolchain selects a rustup toolchain as `cargo +NAME` does: stable, \
               nightly, 1.82.0 (`rustup toolchain list` shows what is installed)"
            .into(),
    })
}

impl Job<'_> {
    /// rustup's view for this build: the toolchain `--toolchain` or `[build] toolchain` chose,
    /// else rustup's own rules (RUSTUP_TOOLCHAIN, rust-toolchain.toml, the default).
    pub fn rustup_env(&self) -> crate::toolchain::rust::RustupEnv {
        let chosen_by = if self.options.toolchain.is_some() {
            "--toolchain"
        } else {
            "wasmforge.toml [build] toolchain"
        };
        crate::toolchain::rust::RustupEnv::choosing(self.toolchain.as_deref(), chosen_by)
    }

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
        reporter: &dyn Reporter,
    ) -> Result<Artifact> {
        let core = fs_err::read(core_path)?;
        // TinyGo's wasip2 output is already a component, optimized by TinyGo's own wasm-opt:
        // Binaryen cannot read components, so it is published as it is.
        let (core, optimized) = if wasmparser::Parser::is_component(&core) {
            (core, None)
        } else {
            self.maybe_optimize(core, name, reporter)?
        };
        let bytes = if wrap && self.target == Target::Wasip2 {
            match kind {
                ArtifactKind::Command => crate::componentize::command_component(&core, core_path)?,
                // A plugin: its core module carries its world (wit-bindgen's component-type
                // sections), which wit-component turns into the component's exports.
                ArtifactKind::Library => crate::componentize::library_component(
                    &core,
                    core_path,
                    self.project.lang == crate::project::Lang::Go,
                )?,
            }
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
        let dest = self.out_dir().join(format!("{name}.wasm"));
        let mut artifact = artifact::publish_bytes(&bytes, dest, id)?;
        if let Some(optimization) = optimized {
            optimization.record(&mut artifact);
        }
        Ok(artifact)
    }

    /// Optimizes a core module when this build optimizes; returns the bytes and, when it
    /// did, the level and the size before.
    pub fn maybe_optimize(
        &self,
        core: Vec<u8>,
        name: &str,
        reporter: &dyn Reporter,
    ) -> Result<(Vec<u8>, Option<Optimization>)> {
        let Some(level) = self.opt else {
            return Ok((core, None));
        };
        let options = optimize::Options {
            level,
            strip: self.strip,
            strip_producers: self.size,
            converge: self.size,
        };
        let shown = if self.size {
            format!("-{} --converge", level.name())
        } else {
            format!("-{}", level.name())
        };
        let stripped = crate::wasm::strip::has_droppable(&core, self.strip).then_some(self.strip);
        let result = match optimize::cached(&core, options) {
            Some(hit) => {
                reporter.status("Optimized", &format!("{name}.wasm ({shown}, cached)"));
                hit
            }
            None => {
                reporter.status("Optimizing", &format!("{name}.wasm ({shown})"));
                optimize::optimize(&core, options).map_err(|e| match e {
                    Error::OptimizerFailed { message, .. } => Error::OptimizerFailed {
                        message,
                        in_build: true,
                    },
                    other => other,
                })?
            }
        };
        if let Some(reason) = &result.skipped {
            reporter.warning(reason);
            return Ok((result.bytes, None));
        }
        Ok((
            result.bytes,
            Some(Optimization {
                level,
                before: result.before,
                stripped,
            }),
        ))
    }

    /// Shows what the source checks found without stopping the build: a finding the compiler
    /// may disagree with is at most a warning before the compile; the errors among them are kept
    /// and become the diagnosis if the compile fails.
    pub fn evidence(&self, checks: impl IntoIterator<Item = Check>, reporter: &dyn Reporter) {
        let mut held = self.evidence.lock().unwrap_or_else(|p| p.into_inner());
        for check in checks {
            for d in check.diagnostics {
                if d.is_error() {
                    let mut shown = d.clone().severity(crate::diagnostics::Severity::Warning);
                    shown.message = format!("{} (the compile will likely fail)", shown.message);
                    reporter.diagnostic(&shown);
                    held.push(d);
                } else {
                    reporter.diagnostic(&d);
                }
            }
        }
    }
}

/// Whether the language's toolchain can build this target and kind at all, before anything is
/// probed or compiled. `doctor` reports the same errors, so the two never disagree.
pub fn support_error(
    lang: Lang,
    config: &Config,
    target: Target,
    kind: Option<ArtifactKind>,
    toolchain: Option<&str>,
    has_world: bool,
) -> Option<Error> {
    let kind = kind.unwrap_or(ArtifactKind::Command);
    let library_for_wasip2 = |instead: &str| Error::Unsupported {
        message: format!(
            "a {} library for `--target wasip2` needs a WIT world: wrapping it into a component \
             without one would silently drop its exports",
            lang.display_name()
        ),
        hint: instead.into(),
    };
    match lang {
        Lang::Rust => None,
        Lang::Go => {
            if let Err(e) = go::GoToolchain::from_name(toolchain) {
                return Some(e);
            }
            if target == Target::Wasip2 && kind == ArtifactKind::Library {
                if toolchain == Some("tinygo") {
                    return Some(Error::Unsupported {
                        message: "wasmforge builds Go plugins (wasip2 libraries for a WIT world) with the \
                                  standard Go toolchain, not TinyGo"
                            .into(),
                        hint: "build without `--toolchain tinygo` (Go 1.24 or newer), or run TinyGo \
                               yourself: `tinygo build -target=wasip2 -wit-package wit -wit-world NAME`"
                            .into(),
                    });
                }
                if !has_world {
                    return Some(library_for_wasip2(
                        "give it a world: a `wit/` folder with the WIT it exports (`wasmforge new NAME --lang go \
                         --kind plugin` shows how); or build a core module: `--target wasip1` (a reactor with \
                         its //go:wasmexport functions)",
                    ));
                }
            }
            if target == Target::Unknown && toolchain != Some("tinygo") {
                return Some(Error::Unsupported {
                    message: "the standard Go toolchain has no bare `wasm32-unknown-unknown` target: its \
                              GOOS=js GOARCH=wasm output is a different ABI that needs Go's wasm_exec.js glue"
                        .into(),
                    hint: "build for `--target wasip1`, or use TinyGo's bare target: \
                           `wasmforge build --toolchain tinygo --target unknown`"
                        .into(),
                });
            }
            None
        }
        Lang::C => {
            if target == Target::Wasip2 && kind == ArtifactKind::Library {
                if has_world {
                    return None;
                }
                return Some(library_for_wasip2(
                    "give it a world: a `wit/` folder with the WIT it exports (`wasmforge new NAME --lang c \
                     --kind plugin` shows how); or build a core module: `--target wasip1` (a reactor \
                     exporting `[c] exports`) or `--target unknown`",
                ));
            }
            c::exports_error(config, target, kind)
        }
    }
}

/// Shows the warnings of pre-flight checks and stops the build on their errors, before any
/// compiler runs.
pub fn preflight(checks: impl IntoIterator<Item = Check>, reporter: &dyn Reporter) -> Result<()> {
    let mut errors = Vec::new();
    for check in checks {
        for d in check.diagnostics {
            if d.is_error() {
                errors.push(d);
            } else {
                reporter.diagnostic(&d);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Preflight {
            diagnostics: errors,
            skippable: false,
        })
    }
}

/// Passes everything through to the user's reporter and keeps the compiler's stderr, so a
/// failed compile can be matched against the diagnostics catalog.
struct Capture<'a> {
    inner: &'a dyn Reporter,
    lines: std::sync::Mutex<Vec<String>>,
}

/// The most compiler output kept for matching (the known failures are short).
const CAPTURE_LINES: usize = 20_000;

impl Reporter for Capture<'_> {
    fn command(&self, line: &str) {
        self.inner.command(line)
    }
    fn status(&self, verb: &str, message: &str) {
        self.inner.status(verb, message)
    }
    fn progress_start(&self, total: u64) {
        self.inner.progress_start(total)
    }
    fn progress_step(&self, name: &str) {
        self.inner.progress_step(name)
    }
    fn progress_finish(&self) {
        self.inner.progress_finish()
    }
    fn tool_output(&self, line: &str) {
        self.inner.tool_output(line);
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() < CAPTURE_LINES {
            lines.push(line.to_string());
        }
    }
    fn warning(&self, message: &str) {
        self.inner.warning(message)
    }
    fn diagnostic(&self, diagnostic: &Diagnostic) {
        self.inner.diagnostic(diagnostic)
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
    // Go compiles one main package and C links one executable at a time: several asked for are
    // several builds, each named after what it builds (not `[package] name`, which names one).
    let mut each: Vec<BuildOptions> = Vec::new();
    let (list, is_packages) = match project.lang {
        Lang::Go => (&options.packages, true),
        Lang::C => (&options.bins, false),
        Lang::Rust => (&Vec::new(), false),
    };
    let mut seen = std::collections::BTreeSet::new();
    for item in list.iter().filter(|i| seen.insert(i.as_str())) {
        let mut one = options.clone();
        if is_packages {
            one.packages = vec![item.clone()];
        } else {
            one.bins = vec![item.clone()];
        }
        each.push(one);
    }
    if each.len() < 2 {
        return build_one(&project, &config, options, reporter);
    }
    let mut config = config;
    config.package.name = None;
    let mut merged: Option<BuildOutput> = None;
    for one in &each {
        let output = build_one(&project, &config, one, reporter)?;
        match &mut merged {
            Some(all) => all.artifacts.extend(output.artifacts),
            None => merged = Some(output),
        }
    }
    merged.ok_or_else(|| Error::NoArtifact {
        what: project.dir.display().to_string(),
    })
}

/// One build: one compile of the project (a Go main package, a C executable, a cargo build).
fn build_one(
    project: &Project,
    config: &Config,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<BuildOutput> {
    let job = Job::new(project, config, options)?;
    let driver: &dyn Driver = match project.lang {
        Lang::Rust => &rust::RustDriver,
        Lang::Go => &go::GoDriver,
        Lang::C => &c::CDriver,
    };
    let capture = Capture {
        inner: reporter,
        lines: std::sync::Mutex::new(Vec::new()),
    };
    let mut output = match driver.build(&job, &capture) {
        // Stopped by a signal, the compiler's output proves nothing: no diagnosis.
        Err(Error::CompileFailed { what, status, .. }) if crate::error::interrupted(&status) => {
            return Err(Error::CompileFailed {
                what,
                status,
                diagnostics: Vec::new(),
            });
        }
        Err(Error::CompileFailed { what, status, .. }) => {
            let text = capture
                .lines
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .join("\n");
            let toolchain = (project.lang == Lang::Rust)
                .then(|| {
                    crate::toolchain::rust::resolve(&project.dir, &job.rustup_env(), reporter).ok()
                })
                .flatten()
                .filter(|tc| tc.rustup)
                .map(|tc| tc.name);
            let context = crate::diagnostics::stderr::Context {
                toolchain: toolchain.as_deref(),
                triple: job.target.rust_triple(),
            };
            let mut diagnostics = crate::diagnostics::stderr::diagnose(&text, &context);
            // A function `[c] stubs` stands in for is no longer missing.
            diagnostics.retain(|d| {
                !(d.code == "WF3008"
                    && config
                        .c
                        .stubs
                        .iter()
                        .any(|s| d.message.starts_with(&format!("`{s}` "))))
            });
            // What the checks held back is the diagnosis too, unless the compiler's own output
            // already said the same.
            let held = std::mem::take(&mut *job.evidence.lock().unwrap_or_else(|p| p.into_inner()));
            for d in held {
                if !diagnostics.iter().any(|f| f.code == d.code) {
                    diagnostics.push(d);
                }
            }
            // The scan's "includes <pthread.h>" (with its place) says what clang's fall into the
            // host's headers (WF3007) says, once.
            let scanned: Vec<Diagnostic> = diagnostics
                .iter()
                .filter(|d| d.code == "WF3006")
                .cloned()
                .collect();
            diagnostics.retain(|d| {
                !(d.code == "WF3007"
                    && scanned
                        .iter()
                        .any(|s| crate::diagnostics::same_header(s, d)))
            });
            return Err(Error::CompileFailed {
                what,
                status,
                diagnostics,
            });
        }
        other => other?,
    };
    for artifact in &mut output.artifacts {
        finish_artifact(&job, artifact, reporter)?;
    }
    Ok(output)
}

/// Flag > `WASMFORGE_OPT` (through the flag) > `wasmforge.toml` > `Oz` for release, off for debug.
fn resolve_opt(options: &BuildOptions, config: &Config) -> Result<Option<Level>> {
    match options.opt {
        OptChoice::Off => Ok(None),
        OptChoice::Level(level) => Ok(Some(level)),
        OptChoice::Default if options.profile != Profile::Release => Ok(None),
        OptChoice::Default => match config.build.opt.as_deref() {
            None => Ok(Some(Level::Oz)),
            Some("none") => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|message: String| Error::Unsupported {
                    message: format!("wasmforge.toml: [build] opt: {message}"),
                    hint: "use one of O1, O2, O3, O4, Os, Oz, or \"none\"".into(),
                }),
        },
    }
}

/// An artifact's bytes, read when first needed.
struct ArtifactBytes {
    path: PathBuf,
    bytes: Option<Vec<u8>>,
}

impl ArtifactBytes {
    fn get(&mut self) -> Result<&Vec<u8>> {
        match &mut self.bytes {
            Some(bytes) => Ok(bytes),
            slot @ None => Ok(slot.insert(fs_err::read(&self.path)?)),
        }
    }

    /// Writes `new` over the file and notes the artifact's new size and digest.
    fn rewrite(&mut self, artifact: &mut Artifact, new: Vec<u8>) -> Result<()> {
        artifact::write_atomic(&self.path, &new)?;
        artifact.size = new.len() as u64;
        artifact.sha256 = artifact::sha256_hex(&new);
        self.bytes = Some(new);
        Ok(())
    }
}

/// How many of the largest functions a build reports.
pub const BREAKDOWN_FUNCTIONS: usize = 10;

/// After the driver: optimize core modules it did not optimize itself, and validate release
/// builds (or any build whose wasmforge.toml has a [validate] table) against their profile.
fn finish_artifact(job: &Job<'_>, artifact: &mut Artifact, reporter: &dyn Reporter) -> Result<()> {
    // The file is read at most once, and only by a stage that needs it (a no-op debug rebuild
    // whose import check is cached reads nothing); a stage that rewrites it keeps it current.
    let mut file = ArtifactBytes {
        path: artifact.path.clone(),
        bytes: None,
    };
    if job.opt.is_some() && artifact.opt_level.is_none() && artifact.encoding == Encoding::Module {
        let core = file.get()?.clone();
        if let (optimized, Some(optimization)) =
            job.maybe_optimize(core, &artifact.name, reporter)?
        {
            file.rewrite(artifact, optimized)?;
            optimization.record(artifact);
        }
    }
    // What was not optimized (--no-opt, components, Binaryen skipped) is stripped all the same.
    if job.strip != Strip::None && crate::wasm::strip::has_droppable(file.get()?, job.strip) {
        let bytes = file.get()?;
        let (stripped, _) =
            crate::wasm::strip::strip_level(bytes, job.strip).map_err(|e| Error::InvalidWasm {
                offset: e.offset(),
                message: e.message().to_string(),
            })?;
        artifact.compiled_size.get_or_insert(bytes.len() as u64);
        file.rewrite(artifact, stripped)?;
        artifact.stripped = Some(job.strip.name().to_string());
    }
    // A plugin: the component must export the world its WIT says.
    let mut world_imports = Vec::new();
    // A command with a world (a host of plugins, say) imports what its world imports: those are
    // for `compose` or the embedding host to provide, not validation errors.
    if job.target == Target::Wasip2
        && artifact.kind == ArtifactKind::Command
        && artifact.encoding == Encoding::Component
        && let Some(dir) = crate::wit::dir_of(&job.project.dir, job.config)
        && let Ok(world) = crate::wit::load(&dir, job.config.component.world.as_deref())
    {
        world_imports = world.imports();
    }
    // An HTTP component (a Rust bin on wstd, say) is a command by its source, served by its
    // export: its world is named so `serve` and people know.
    if job.target == Target::Wasip2
        && artifact.kind == ArtifactKind::Command
        && artifact.encoding == Encoding::Component
        && let Some(export) = crate::wasm::inspect::http_handler_export(file.get()?)
    {
        let version = export.rsplit_once('@').map_or("", |(_, v)| v);
        artifact.world = Some(format!("wasi:http/proxy@{version}"));
        reporter.status(
            "World",
            &format!(
                "{}.wasm is an HTTP component (it exports {export}): `wasmforge serve` serves it",
                artifact.name
            ),
        );
    }
    if job.target == Target::Wasip2
        && artifact.kind == ArtifactKind::Library
        && artifact.encoding == Encoding::Component
        && let Some(dir) = crate::wit::dir_of(&job.project.dir, job.config)
    {
        let world = crate::wit::load(&dir, job.config.component.world.as_deref())?;
        let beyond = crate::wit::check_component(&world, file.get()?, &artifact.path)?;
        // What the world imports is the host's to provide, WASI or not.
        world_imports = world.imports();
        let name = world.qualified_name();
        let mut said = format!("{}.wasm exports world {name}", artifact.name);
        if !beyond.is_empty() {
            // Grouped by package: a runtime's WASI imports are a dozen interfaces.
            let mut packages: Vec<&str> = beyond
                .iter()
                .map(|i| i.split_once('/').map_or(i.as_str(), |(p, _)| p))
                .collect();
            packages.sort_unstable();
            packages.dedup();
            said.push_str(&format!(
                " (and imports {} of {} beyond it)",
                crate::diagnostics::plural(beyond.len(), "interface"),
                packages.join(", ")
            ));
        }
        reporter.status("World", &said);
        artifact.world = Some(name);
    }
    if job.options.profile == Profile::Release {
        artifact.breakdown = crate::wasm::size::breakdown(file.get()?, BREAKDOWN_FUNCTIONS).ok();
    }
    // After the build: imports a WASI host will not provide, said now rather than at run time.
    if job.checks
        && job.target == Target::Wasip1
        && artifact.kind == ArtifactKind::Command
        && artifact.encoding == Encoding::Module
    {
        // Keyed by content and place, so a no-op rebuild does not read the module again.
        let key = format!("imports {} {}", artifact.sha256, artifact.path.display());
        let found = match crate::cache::load::<Vec<Diagnostic>>(crate::cache::Section::Checks, &key)
        {
            Some(found) => found,
            None => {
                let found = crate::diagnostics::wasm::imports_check(file.get()?, &artifact.path)
                    .diagnostics;
                crate::cache::store(crate::cache::Section::Checks, &key, Vec::new(), &found);
                found
            }
        };
        for d in &found {
            reporter.diagnostic(d);
        }
    }
    // Release builds are validated; `[validate]` says against what, never whether.
    if job.options.profile != Profile::Release {
        return Ok(());
    }
    let profile = job
        .config
        .validate
        .profile
        .unwrap_or(match (job.target, artifact.kind) {
            (Target::Wasip2, ArtifactKind::Command) => ValidationProfile::Wasip2,
            (Target::Wasip2, ArtifactKind::Library) => ValidationProfile::Wasip2Library,
            (Target::Unknown, _) => ValidationProfile::Unknown,
            (Target::Wasip1, ArtifactKind::Command) => ValidationProfile::Wasip1Command,
            (Target::Wasip1, ArtifactKind::Library) => ValidationProfile::Wasip1Library,
        });
    let max_size = job.config.validate.max_size;
    let options = crate::wasm::validate::Options {
        profile: Some(profile),
        max_size,
        allow_imports: world_imports,
        ..Default::default()
    };
    let report = crate::wasm::validate::validate(file.get()?, &options);
    let mut problems = report.problems.clone();
    if let Some(error) = &report.error {
        problems.insert(
            0,
            format!("{} (at byte offset {})", error.message, error.offset),
        );
    }
    if !problems.is_empty() {
        return Err(Error::ValidationFailed {
            path: artifact.path.clone(),
            profile: profile.name().into(),
            problems,
        });
    }
    artifact.validated = Some(profile.name().to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TinyGo's wasip2 release output is a component: it is published as it is, never handed
    /// to Binaryen (which cannot read components).
    #[test]
    fn a_component_from_the_compiler_is_published_without_the_core_optimizer() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("go.mod"),
            "module example.com/t\n\ngo 1.21\n",
        )
        .expect("go.mod");
        let project = Project {
            lang: Lang::Go,
            dir: dir.path().to_owned(),
            manifest: dir.path().join("go.mod"),
            within: None,
        };
        let config = Config::default();
        let mut options = BuildOptions::new(dir.path());
        options.profile = Profile::Release;
        options.target = Some(Target::Wasip2);
        let job = Job::new(&project, &config, &options).expect("job");
        assert_eq!(job.opt, Some(Level::Oz));
        let component = wat::parse_str("(component (core module))").expect("wat");
        let core_path = dir.path().join("tinygo-out.wasm");
        std::fs::write(&core_path, &component).expect("write");
        let artifact = job
            .publish_core(
                &core_path,
                false,
                "t",
                ArtifactKind::Command,
                &crate::NullReporter,
            )
            .expect("published");
        assert_eq!(artifact.encoding, Encoding::Component);
        assert_eq!(artifact.opt_level, None);
        assert_eq!(std::fs::read(&artifact.path).expect("read"), component);
    }
}
