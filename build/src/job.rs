//! One build with every setting resolved (flag > environment > wasmforge.toml > default), and
//! what every language's build shares: where artifacts go, publishing a core module (optimized,
//! wrapped into a component for wasip2), the source checks' evidence and the pre-flight stop.

use std::path::{Path, PathBuf};

use crate::artifact::{self, Artifact, ArtifactKind, Identity};
use crate::config::Config;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::check::Check;
use crate::error::{Error, Result};
use crate::options::{BuildOptions, OptChoice, Profile};
use crate::project::{Lang, Project};
use crate::report::Reporter;
use crate::target::Target;
use crate::wasm::optimize::{self, Level};
use crate::wasm::strip::Level as Strip;

/// What a build produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildOutput {
    pub lang: Lang,
    /// The toolchain that built it (e.g. `stable-x86_64-unknown-linux-gnu`).
    pub toolchain: String,
    pub artifacts: Vec<Artifact>,
    /// A CMake test build (`BuildOptions::test_runner`): its folder, where `ctest` runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_dir: Option<PathBuf>,
    /// The environment a Make project's test commands run with in `test_dir`.
    #[serde(skip)]
    pub test_env: Vec<(String, String)>,
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
    /// `--simd` / `[build] simd`: the compiler may use WebAssembly SIMD.
    pub simd: bool,
    /// What custom sections artifacts keep.
    pub strip: Strip,
    /// Error findings of the source checks, held back: shown as warnings before the compile,
    /// they become the diagnosis if the compile fails.
    pub evidence: std::sync::Mutex<Vec<Diagnostic>>,
    /// Which target won, when the project's own settings named one (said before the build).
    pub target_note: Option<String>,
}

impl<'a> Job<'a> {
    /// One build of `project`, every setting resolved (flag > environment > wasmforge.toml >
    /// default).
    pub fn new(
        project: &'a Project,
        config: &'a Config,
        options: &'a BuildOptions,
    ) -> Result<Job<'a>> {
        let release = options.profile == Profile::Release;
        if options.size && !release {
            return Err(Error::FlagConflict {
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
            simd: options.simd || config.build.simd == Some(true),
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
            target_note: None,
        })
    }
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
                ArtifactKind::Library => crate::componentize::library_component(&core, core_path)?,
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
                .map_err(|message: String| Error::ConfigValue {
                    key: "[build] opt",
                    message,
                    hint: "use one of O1, O2, O3, O4, Os, Oz, or \"none\"".into(),
                }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::Encoding;

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
