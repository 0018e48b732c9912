//! The Go driver: `GOOS=wasip1 GOARCH=wasm go build` for commands, `-buildmode=c-shared` for
//! `//go:wasmexport` libraries, TinyGo when asked, and WASI 0.2 components by wrapping the
//! preview 1 command in-process.

use std::path::{Path, PathBuf};

use super::{BuildOutput, Driver, Job, Profile};
use crate::artifact::ArtifactKind;
use crate::diagnostics;
use crate::error::{Error, Result};
use crate::process::Tool;
use crate::project::Lang;
use crate::report::Reporter;
use crate::target::Target;
use crate::toolchain::go as probe;

#[derive(Debug)]
pub struct GoDriver;

/// Which Go compiler builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoToolchain {
    Go,
    TinyGo,
}

impl GoToolchain {
    fn from_name(name: Option<&str>) -> Result<GoToolchain> {
        match name {
            None | Some("go") => Ok(GoToolchain::Go),
            Some("tinygo") => Ok(GoToolchain::TinyGo),
            Some(other) => Err(Error::Unsupported {
                message: format!("unknown Go toolchain `{other}`"),
                hint: "use `--toolchain go` (the default) or `--toolchain tinygo`".into(),
            }),
        }
    }
}

/// The command line that builds `package` into `out`, for the standard Go toolchain.
pub fn go_build_args(package: &str, out: &Path, kind: ArtifactKind, release: bool) -> Vec<String> {
    let mut args = vec!["build".to_string(), "-trimpath".to_string()];
    if release {
        args.push("-ldflags=-s -w".into());
    }
    if kind == ArtifactKind::Library {
        args.push("-buildmode=c-shared".into());
    }
    args.extend(["-o".into(), out.display().to_string(), package.to_string()]);
    args
}

/// The command line for TinyGo.
pub fn tinygo_build_args(
    package: &str,
    out: &Path,
    target: Target,
    kind: ArtifactKind,
    release: bool,
) -> Vec<String> {
    let tinygo_target = match target {
        Target::Wasip1 => "wasip1",
        Target::Wasip2 => "wasip2",
        Target::Unknown => "wasm-unknown",
    };
    let mut args = vec!["build".to_string(), format!("-target={tinygo_target}")];
    args.push(if release {
        "-opt=z".into()
    } else {
        "-opt=1".into()
    });
    if kind == ArtifactKind::Library {
        args.push("-buildmode=c-shared".into());
    }
    args.extend(["-o".into(), out.display().to_string(), package.to_string()]);
    args
}

impl Driver for GoDriver {
    fn build(&self, job: &Job<'_>, reporter: &dyn Reporter) -> Result<BuildOutput> {
        job.require_plain_profile()?;
        let toolchain = GoToolchain::from_name(job.toolchain.as_deref())?;
        let kind = job.kind.unwrap_or(ArtifactKind::Command);
        let release = job.options.profile == Profile::Release;
        let target = job.target;

        job.refuse_wasip2_library(kind, "build the library for `--target wasip1` (a reactor with its //go:wasmexport functions)")?;
        if target == Target::Unknown && toolchain == GoToolchain::Go {
            return Err(Error::Unsupported {
                message: "the standard Go toolchain has no bare `wasm32-unknown-unknown` target: its \
                          GOOS=js GOARCH=wasm output is a different ABI that needs Go's wasm_exec.js glue"
                    .into(),
                hint: "build for `--target wasip1`, or use TinyGo's bare target: \
                       `wasmforge build --toolchain tinygo --target unknown`"
                    .into(),
            });
        }

        let package = job
            .options
            .packages
            .first()
            .cloned()
            .or_else(|| job.config.build.package.clone())
            .unwrap_or_else(|| ".".into());
        let name = job
            .config
            .package
            .name
            .clone()
            .unwrap_or_else(|| artifact_name(job.project.manifest.as_path(), &package));
        let scratch = job
            .work_dir()
            .join("go")
            .join(target.name())
            .join(job.options.profile.dir_name());
        fs_err::create_dir_all(&scratch)?;
        let core_out = scratch.join(format!("{name}.wasm"));

        let (toolchain_name, mut tool) = match toolchain {
            GoToolchain::Go => {
                let probe = probe::probe_go(reporter);
                let (cgo, imports) = diagnostics::go::source_checks(&job.project.dir);
                super::preflight(
                    [
                        diagnostics::go::go_check(&probe, kind == ArtifactKind::Library),
                        diagnostics::go::env_check(&|k| std::env::var(k).ok()),
                        cgo,
                        imports,
                    ],
                    reporter,
                )?;
                let go = probe?;
                let mut tool = Tool::new(&go.path, probe::GO_HINT);
                // The core module is always wasip1: a wasip2 component wraps it below.
                tool.args(go_build_args(&package, &core_out, kind, release))
                    .env("GOOS", "wasip1")
                    .env("GOARCH", "wasm");
                (format!("go {}", go.version), tool)
            }
            GoToolchain::TinyGo => {
                let probe = probe::probe_tinygo(reporter);
                let go = probe::probe_go(reporter).ok().map(|g| g.version);
                super::preflight(
                    [
                        diagnostics::go::tinygo_check(&probe, go, true),
                        diagnostics::go::env_check(&|k| std::env::var(k).ok()),
                    ],
                    reporter,
                )?;
                let (path, version) = probe?;
                let mut tool = Tool::new(&path, probe::TINYGO_HINT);
                tool.args(tinygo_build_args(
                    &package, &core_out, target, kind, release,
                ));
                (format!("tinygo {}", version.tinygo), tool)
            }
        };
        tool.current_dir(&job.project.dir);
        reporter.status(
            "Building",
            &format!(
                "{name} ({toolchain_name}, {target}, {})",
                job.options.profile.dir_name()
            ),
        );
        let status = tool.run_streaming(reporter)?;
        if !status.success() {
            return Err(Error::CompileFailed {
                diagnostics: Vec::new(),
                what: format!("the Go package `{package}`"),
                status: status.to_string(),
            });
        }
        // TinyGo builds wasip2 components itself; the standard toolchain's output is wrapped.
        let artifact = job.publish_core(
            &core_out,
            toolchain == GoToolchain::Go,
            &name,
            kind,
            reporter,
        )?;
        Ok(BuildOutput {
            lang: Lang::Go,
            toolchain: toolchain_name,
            artifacts: vec![artifact],
        })
    }
}

/// `./cmd/server` → `server`; `.` → the last element of the module path in go.mod.
fn artifact_name(go_mod: &Path, package: &str) -> String {
    let trimmed = package.trim_end_matches('/').trim_end_matches("/...");
    if trimmed != "."
        && !trimmed.is_empty()
        && let Some(last) = PathBuf::from(trimmed).file_name()
    {
        return last.to_string_lossy().into_owned();
    }
    let module = std::fs::read_to_string(go_mod)
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.trim()
                    .strip_prefix("module ")
                    .map(|m| m.trim().trim_matches('"').to_string())
            })
        })
        .unwrap_or_default();
    module
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("main")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines() {
        let out = Path::new("/o/x.wasm");
        assert_eq!(
            go_build_args(".", out, ArtifactKind::Command, false),
            ["build", "-trimpath", "-o", "/o/x.wasm", "."]
        );
        assert_eq!(
            go_build_args("./cmd/x", out, ArtifactKind::Library, true),
            [
                "build",
                "-trimpath",
                "-ldflags=-s -w",
                "-buildmode=c-shared",
                "-o",
                "/o/x.wasm",
                "./cmd/x"
            ]
        );
        assert_eq!(
            tinygo_build_args(".", out, Target::Wasip2, ArtifactKind::Command, true),
            ["build", "-target=wasip2", "-opt=z", "-o", "/o/x.wasm", "."]
        );
        assert_eq!(
            tinygo_build_args(".", out, Target::Unknown, ArtifactKind::Library, false),
            [
                "build",
                "-target=wasm-unknown",
                "-opt=1",
                "-buildmode=c-shared",
                "-o",
                "/o/x.wasm",
                "."
            ]
        );
    }

    #[test]
    fn artifact_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let go_mod = dir.path().join("go.mod");
        std::fs::write(&go_mod, "module example.com/acme/hello-go\n\ngo 1.21\n").expect("write");
        assert_eq!(artifact_name(&go_mod, "."), "hello-go");
        assert_eq!(artifact_name(&go_mod, "./cmd/server"), "server");
        assert_eq!(artifact_name(&go_mod, "./cmd/tool/"), "tool");
    }
}
