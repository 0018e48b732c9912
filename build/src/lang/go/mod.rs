//! The Go driver: `GOOS=wasip1 GOARCH=wasm go build` for commands, `-buildmode=c-shared` for
//! `//go:wasmexport` libraries, TinyGo when asked, and WASI 0.2 components by wrapping the
//! preview 1 command in-process.

pub mod checks;
mod doctor;
mod stderr;
pub mod toolchain;

use std::path::{Path, PathBuf};

use crate::artifact::ArtifactKind;
use crate::diagnostics::Diagnostic;
use crate::error::{Error, Result};
use crate::job::{BuildOutput, Job};
use crate::lang::go::toolchain as probe;
use crate::options::Profile;
use crate::process::Tool;
use crate::project::{Lang, Project};
use crate::report::Reporter;
use crate::target::Target;

pub mod http;
pub mod plugin;

/// The Go language.
#[derive(Debug)]
pub struct Go;

/// Which Go compiler builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoToolchain {
    Go,
    TinyGo,
}

impl GoToolchain {
    pub fn from_name(name: Option<&str>) -> Result<GoToolchain> {
        match name {
            None | Some("go") => Ok(GoToolchain::Go),
            Some("tinygo") => Ok(GoToolchain::TinyGo),
            Some(other) => Err(Error::UnknownToolchain {
                given: other.into(),
                lang: Lang::Go,
                owner: crate::lang::all()
                    .into_iter()
                    .find(|l| l.toolchain_names().contains(&other))
                    .map(|l| l.lang()),
                from_config: false,
                hint: "use `--toolchain go` (the default) or `--toolchain tinygo`".into(),
            }),
        }
    }
}

/// The command line that builds `package` into `out`, for the standard Go toolchain.
pub fn go_build_args(
    package: &str,
    out: &Path,
    kind: ArtifactKind,
    release: bool,
    glue: bool,
    extra: &[String],
) -> Vec<String> {
    let mut args = vec!["build".to_string(), "-trimpath".to_string()];
    // The linker flags wasmforge needs come first inside the user's own -ldflags, if any
    // (go build keeps only the last -ldflags): `-s -w` for releases; for generated glue,
    // `-checklinkname=0` (its cabi_realloc takes the adapter's memory from `runtime.sbrk`).
    let mut ldflags: Vec<&str> = Vec::new();
    if release {
        ldflags.extend(["-s", "-w"]);
    }
    if glue {
        ldflags.push("-checklinkname=0");
    }
    let mut extra = extra.to_vec();
    if !ldflags.is_empty() {
        let ours = ldflags.join(" ");
        let position = extra.iter().position(|a| {
            a == "-ldflags"
                || a == "--ldflags"
                || a.starts_with("-ldflags=")
                || a.starts_with("--ldflags=")
        });
        match position {
            Some(i) => {
                if let Some((flag, theirs)) = extra[i].split_once('=') {
                    extra[i] = format!("{flag}={ours} {theirs}");
                } else if let Some(theirs) = extra.get_mut(i + 1) {
                    *theirs = format!("{ours} {theirs}");
                }
            }
            None => args.push(format!("-ldflags={ours}")),
        }
    }
    if kind == ArtifactKind::Library {
        args.push("-buildmode=c-shared".into());
    }
    args.extend(extra);
    args.extend(["-o".into(), out.display().to_string(), package.to_string()]);
    args
}

/// The main package a build makes: `-p`, `[build] package`, the module folder the build was
/// started in, else the module's root.
pub fn main_package(job: &Job<'_>) -> String {
    job.options
        .packages
        .first()
        .cloned()
        .or_else(|| job.config.build.package.clone())
        .or_else(|| {
            job.project
                .within
                .as_ref()
                .map(|w| format!("./{}", w.display()))
        })
        .unwrap_or_else(|| ".".into())
}

/// A main package given as a path (`./cmd/x`) must be a folder of the module: `go build` would
/// say "directory not found" among its compile errors.
pub fn check_package(job: &Job<'_>, package: &str) -> Result<()> {
    let relative = package == "." || package.starts_with("./") || package.starts_with("../");
    if !relative || job.project.dir.join(package).is_dir() {
        return Ok(());
    }
    let mut available: Vec<String> = Vec::new();
    for parent in ["cmd", "."] {
        let Ok(entries) = std::fs::read_dir(job.project.dir.join(parent)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_main = path.is_dir()
                && std::fs::read_dir(&path).is_ok_and(|files| {
                    files.flatten().any(|f| {
                        f.path().extension().is_some_and(|e| e == "go")
                            && std::fs::read_to_string(f.path())
                                .is_ok_and(|t| t.lines().any(|l| l.trim() == "package main"))
                    })
                });
            if is_main {
                let name = entry.file_name().to_string_lossy().into_owned();
                available.push(if parent == "." {
                    format!("./{name}")
                } else {
                    format!("./{parent}/{name}")
                });
            }
        }
    }
    available.sort();
    Err(Error::NotInWorkspace {
        what: "Go package",
        name: package.to_string(),
        available,
    })
}

/// The facts that make a Go build impossible: no Go or one too old for what is built, an
/// environment that forces another platform or cgo, a go.mod that asks for a newer Go.
pub fn fact_checks(
    probe: &Result<probe::Go>,
    go_mod: &Path,
    kind: ArtifactKind,
) -> Vec<crate::diagnostics::check::Check> {
    let mut checks = vec![
        crate::lang::go::checks::go_check(probe, kind == ArtifactKind::Library),
        crate::lang::go::checks::env_check(&|k| std::env::var(k).ok()),
    ];
    if let Ok(go) = probe {
        checks.push(crate::lang::go::checks::go_mod_check(go_mod, go, &|k| {
            std::env::var(k).ok()
        }));
    }
    checks
}

/// Whether the job builds a Go HTTP service: a wasip2 library whose world exports
/// `wasi:http/incoming-handler` (its `net/http` works through the bridge).
pub fn is_http_service(job: &Job<'_>) -> bool {
    job.target == Target::Wasip2
        && job.kind == Some(ArtifactKind::Library)
        && crate::wit::dir_of(&job.project.dir, job.config)
            .and_then(|dir| crate::wit::load(&dir, job.config.component.world.as_deref()).ok())
            .is_some_and(|world| http::is_http(&world))
}

/// What the sources of the packages in the build say: cgo, and standard packages that fail at
/// run time under wasip1. Only packages `go list -deps` puts in the build are read.
pub fn evidence_checks(
    go: &probe::Go,
    project_dir: &Path,
    package: &str,
    flags: &[String],
    http_service: bool,
    reporter: &dyn Reporter,
) -> Vec<crate::diagnostics::check::Check> {
    match probe::list_packages(go, project_dir, package, flags, reporter) {
        Ok(packages) => {
            let (cgo, imports) =
                crate::lang::go::checks::source_checks(&packages, project_dir, http_service);
            vec![cgo, imports]
        }
        Err(e) => vec![crate::diagnostics::check::Check::note(
            "go-packages",
            format!("could not list the packages of the build: {e}"),
        )],
    }
}

/// The flags of `go build` arguments that change which files are in the build (`-tags`).
pub fn list_flags(extra: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut words = extra.iter();
    while let Some(word) = words.next() {
        if word.starts_with("-tags=") || word.starts_with("--tags=") {
            out.push(word.clone());
        } else if (word == "-tags" || word == "--tags")
            && let Some(value) = words.next()
        {
            out.extend([word.clone(), value.clone()]);
        }
    }
    out
}

/// The command line for TinyGo.
pub fn tinygo_build_args(
    package: &str,
    out: &Path,
    target: Target,
    kind: ArtifactKind,
    release: bool,
    no_debug: bool,
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
    if no_debug {
        // Release builds carry no DWARF (`[build] strip`): TinyGo then does not write it at all.
        args.push("-no-debug".into());
    }
    if kind == ArtifactKind::Library {
        args.push("-buildmode=c-shared".into());
    }
    args.extend(["-o".into(), out.display().to_string(), package.to_string()]);
    args
}

impl crate::lang::Language for Go {
    fn lang(&self) -> crate::project::Lang {
        crate::project::Lang::Go
    }

    /// A module name `go` takes that does not shadow a standard package.
    fn check_name(&self, name: &str) -> std::result::Result<(), String> {
        let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        let chars_ok = |extra: &str| {
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
        };
        if !first_ok || !chars_ok("-_.") || name.chars().any(|c| c.is_ascii_uppercase()) {
            return Err("a Go module name here is lowercase letters, digits, `-`, `_` and `.`, starting with a letter".into());
        }
        // A module path without a dot that is a standard package's would shadow it.
        const STD: &[&str] = &[
            "std",
            "cmd",
            "archive",
            "bufio",
            "builtin",
            "bytes",
            "cmp",
            "compress",
            "container",
            "context",
            "crypto",
            "database",
            "debug",
            "embed",
            "encoding",
            "errors",
            "expvar",
            "flag",
            "fmt",
            "go",
            "hash",
            "html",
            "image",
            "index",
            "internal",
            "io",
            "iter",
            "log",
            "maps",
            "math",
            "mime",
            "net",
            "os",
            "path",
            "plugin",
            "reflect",
            "regexp",
            "runtime",
            "slices",
            "sort",
            "strconv",
            "strings",
            "structs",
            "sync",
            "syscall",
            "testing",
            "text",
            "time",
            "unicode",
            "unique",
            "unsafe",
            "vendor",
            "weak",
        ];
        if STD.contains(&name) {
            return Err(format!(
                "`{name}` is a Go standard library name, and a module of that name cannot build"
            ));
        }
        Ok(())
    }

    fn toolchain_names(&self) -> &'static [&'static str] {
        &["go", "tinygo"]
    }

    fn manifests(&self) -> &'static [&'static str] {
        &["go.mod"]
    }

    fn bindings_cover(&self, world: &crate::wit::World) -> Result<Option<&'static str>> {
        plugin::generate(world).map(|_| Some("the Go bindings"))
    }

    fn signal(&self, dir: &Path) -> Option<String> {
        dir.join("go.mod").is_file().then(|| "go.mod".to_string())
    }

    fn upward_manifest(&self) -> Option<&'static str> {
        Some("go.mod")
    }

    /// Inside a module's subfolder, the module root is the project and the folder its package
    /// (as `go build` in `cmd/x` builds that package).
    fn locate(&self, dir: &Path) -> Result<Project> {
        let manifest =
            crate::project::nearest(dir, "go.mod").ok_or_else(|| crate::Error::NotAProject {
                path: dir.to_owned(),
            })?;
        if let Some(root) = manifest.parent()
            && root != dir
            && let Ok(relative) = dir.strip_prefix(root)
        {
            return Ok(Project {
                lang: Lang::Go,
                dir: root.to_path_buf(),
                within: Some(relative.to_path_buf()),
                manifest,
            });
        }
        Ok(Project {
            lang: Lang::Go,
            dir: dir.to_owned(),
            manifest,
            within: None,
        })
    }

    fn check_options(
        &self,
        options: &crate::options::BuildOptions,
        config: &crate::config::Config,
    ) -> Result<()> {
        // Go's compiler writes no WebAssembly SIMD (GOWASM has only satconv and signext).
        const NO_SIMD: &str = "build without it: Go's compiler writes no WebAssembly SIMD (GOWASM \
                               knows only satconv and signext)";
        if options.simd {
            return Err(crate::lang::refuse(
                Lang::Go,
                "--simd",
                "Rust and C",
                NO_SIMD,
            ));
        }
        if config.build.simd == Some(true) {
            return Err(crate::Error::ConfigValue {
                key: "[build] simd",
                message: "Go has no WebAssembly SIMD".into(),
                hint: NO_SIMD.into(),
            });
        }
        crate::lang::check_non_cargo_options(
            Lang::Go,
            options,
            config,
            "Go builds choose code with build tags: `wasmforge build -- -tags NAME`",
            "Go checks go.sum on every build; `-- -mod=readonly` or `-- -mod=vendor` go to `go build`",
            (
                "--bin",
                !options.bins.is_empty(),
                "Rust and C (CMake, Make)",
                "a Go program is a main package: choose it with `-p ./cmd/NAME` (repeat -p for several)",
            ),
        )
    }

    fn support_error(&self, need: &crate::lang::Need<'_>) -> Option<crate::Error> {
        let (target, toolchain) = (need.target, need.toolchain);
        let kind = need.kind.unwrap_or(ArtifactKind::Command);
        if let Err(e) = GoToolchain::from_name(toolchain) {
            return Some(e);
        }
        if target == Target::Wasip2 && kind == ArtifactKind::Library {
            if toolchain == Some("tinygo") {
                return Some(crate::Error::TargetNotSupported {
                    message:
                        "wasmforge builds Go plugins (wasip2 libraries for a WIT world) with the \
                              standard Go toolchain, not TinyGo"
                            .into(),
                    hint: "build without `--toolchain tinygo` (Go 1.24 or newer), or run TinyGo \
                           yourself: `tinygo build -target=wasip2 -wit-package wit -wit-world NAME`"
                        .into(),
                });
            }
            if !need.has_world {
                return Some(crate::lang::library_needs_world(
                    Lang::Go,
                    "give it a world: a `wit/` folder with the WIT it exports (`wasmforge new NAME --lang go \
                     --kind plugin` shows how); or build a core module: `--target wasip1` (a reactor with \
                     its //go:wasmexport functions)",
                ));
            }
        }
        if target == Target::Unknown && toolchain != Some("tinygo") {
            return Some(crate::Error::TargetNotSupported {
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

    fn doctor_checks(
        &self,
        job: &Job<'_>,
        reporter: &dyn Reporter,
    ) -> Vec<crate::diagnostics::check::Check> {
        doctor::checks(job, reporter)
    }

    fn survey(&self, reporter: &dyn Reporter) -> Vec<crate::diagnostics::check::Check> {
        let go = probe::probe_go(reporter);
        let tinygo = probe::probe_tinygo(reporter);
        vec![
            checks::go_check(&go, false),
            checks::tinygo_check(&tinygo, go.as_ref().ok().map(|g| g.version), false),
        ]
    }

    fn rules(&self) -> &'static [crate::diagnostics::stderr::Rule] {
        stderr::RULES
    }

    /// An identifier the compile did not find is WASI's only when `go doc` finds it for the host
    /// and not for GOOS=wasip1: the standard library's own answer, not a list.
    fn refine_diagnosis(&self, job: &Job<'_>, diagnostics: &mut Vec<Diagnostic>) {
        if !diagnostics.iter().any(|d| d.code == "WF2011") {
            return;
        }
        let quiet = crate::report::NullReporter;
        let go = probe::probe_go(&quiet).ok();
        let documented = |name: &str, wasip1: bool| {
            let Some(go) = &go else { return None };
            let mut tool = Tool::new(&go.path, probe::GO_HINT);
            tool.current_dir(&job.project.dir)
                .args(["doc", "-short", name]);
            if wasip1 {
                tool.env("GOOS", "wasip1").env("GOARCH", "wasm");
            } else {
                tool.env_remove("GOOS").env_remove("GOARCH");
            }
            tool.capture(&quiet).ok().map(|o| o.status.success())
        };
        let mut asked = 0;
        diagnostics.retain_mut(|d| {
            if d.code != "WF2011" {
                return true;
            }
            let Some(name) = d.subject.clone() else {
                return false;
            };
            // Each asks the go tool twice: the first few say enough.
            asked += 1;
            if asked > 6 || documented(&name, true) != Some(false) || documented(&name, false) != Some(true) {
                return false;
            }
            d.message = format!(
                "`{name}` does not exist for GOOS=wasip1: `go doc` finds it for the host, not for wasip1 (the standard library's WASI port leaves it out)"
            );
            if let Some(location) = &mut d.location
                && location.file.is_relative()
            {
                location.file = crate::files::lexically_normal(&job.project.dir.join(&location.file));
            }
            true
        });
    }

    fn build(&self, job: &Job<'_>, reporter: &dyn Reporter) -> Result<BuildOutput> {
        let toolchain = GoToolchain::from_name(job.toolchain.as_deref())?;
        let kind = job.kind.unwrap_or(ArtifactKind::Command);
        let release = job.options.profile == Profile::Release;
        let target = job.target;

        let need = crate::lang::Need {
            kind: Some(kind),
            ..crate::lang::Need::of(job)
        };
        if let Some(error) = self.support_error(&need) {
            return Err(error);
        }
        let package = main_package(job);
        check_package(job, &package)?;
        // A plugin: a wasip2 library built for the project's WIT world.
        let world = (target == Target::Wasip2
            && kind == ArtifactKind::Library
            && toolchain == GoToolchain::Go)
            .then(|| crate::wit::dir_of(&job.project.dir, job.config))
            .flatten()
            .map(|dir| crate::wit::load(&dir, job.config.component.world.as_deref()))
            .transpose()?;
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
        // A go.mod makes wasmforge's folder a module of its own, so the project's `go test
        // ./...`, `go build ./...` and `go vet ./...` do not take the generated bindings in it
        // for a package of the project.
        let fence = job.work_dir().join("go.mod");
        if !fence.is_file() {
            crate::files::write_atomic(
                &fence,
                b"// Written by wasmforge: its build folder is not part of the project's module.\nmodule wasmforge.invalid/build\n",
            )?;
        }
        let core_out = scratch.join(format!("{name}.wasm"));

        let (toolchain_name, mut tool) = match toolchain {
            GoToolchain::Go => {
                let probe = probe::probe_go(reporter);
                crate::job::preflight(fact_checks(&probe, &job.project.manifest, kind), reporter)?;
                let go = probe?;
                if job.checks {
                    let flags = list_flags(&job.options.extra_args);
                    job.evidence(
                        evidence_checks(
                            &go,
                            &job.project.dir,
                            &package,
                            &flags,
                            world.as_ref().is_some_and(http::is_http),
                            reporter,
                        ),
                        reporter,
                    );
                }
                let mut tool = Tool::new(&go.path, probe::GO_HINT);
                // The core module is always wasip1: a wasip2 component wraps it below.
                let mut extra = job.options.extra_args.clone();
                if let Some(world) = &world {
                    let out = job.work_dir().join("wit-bindgen").join("go");
                    let (glue, changed) =
                        plugin::prepare(world, &out, &job.project.dir.join(&package))?;
                    if changed {
                        reporter.status(
                            "Generated",
                            &format!(
                                "Go bindings for world `{}` ({})",
                                world.qualified_name(),
                                glue.file.display()
                            ),
                        );
                    }
                    extra.insert(0, format!("-overlay={}", glue.overlay.display()));
                }
                if let Some(jobs) = job.options.jobs {
                    // go build's own -p: how many packages compile at once.
                    extra.splice(0..0, ["-p".to_string(), jobs.to_string()]);
                }
                tool.args(go_build_args(
                    &package,
                    &core_out,
                    kind,
                    release,
                    world.is_some(),
                    &extra,
                ))
                .env("GOOS", "wasip1")
                .env("GOARCH", "wasm");
                (format!("go {}", go.version), tool)
            }
            GoToolchain::TinyGo => {
                let probe = probe::probe_tinygo(reporter);
                let go = probe::probe_go(reporter).ok().map(|g| g.version);
                crate::job::preflight(
                    [
                        crate::lang::go::checks::tinygo_check(&probe, go, true),
                        crate::lang::go::checks::env_check(&|k| std::env::var(k).ok()),
                    ],
                    reporter,
                )?;
                let (path, version) = probe?;
                let mut tool = Tool::new(&path, probe::TINYGO_HINT);
                tool.args(tinygo_build_args(
                    &package,
                    &core_out,
                    target,
                    kind,
                    release,
                    job.strip != crate::wasm::strip::Level::None,
                ))
                .args(&job.options.extra_args);
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
                hint: None,
                diagnostics: Vec::new(),
                what: format!("compiling the Go package `{package}`"),
                status: status.to_string(),
            });
        }
        if let Some(world) = &world {
            let mut core = fs_err::read(&core_out)?;
            plugin::embed(world, &mut core, &core_out)?;
            crate::files::write_atomic(&core_out, &core)?;
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
            test_dir: None,
            test_env: Vec::new(),
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
            go_build_args(".", out, ArtifactKind::Command, false, false, &[]),
            ["build", "-trimpath", "-o", "/o/x.wasm", "."]
        );
        assert_eq!(
            go_build_args("./cmd/x", out, ArtifactKind::Library, true, false, &[]),
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
        // Generated glue needs its linker flag inside the user's own -ldflags.
        let extra = ["-ldflags=-X main.v=1".to_string()];
        assert_eq!(
            go_build_args(".", out, ArtifactKind::Library, true, true, &extra)[2..4],
            [
                "-buildmode=c-shared",
                "-ldflags=-s -w -checklinkname=0 -X main.v=1"
            ]
        );
        let extra = ["-ldflags".to_string(), "-X main.v=1".to_string()];
        assert_eq!(
            go_build_args(".", out, ArtifactKind::Library, false, true, &extra)[3..5],
            ["-ldflags", "-checklinkname=0 -X main.v=1"]
        );
        assert_eq!(
            tinygo_build_args(".", out, Target::Wasip2, ArtifactKind::Command, true, true),
            [
                "build",
                "-target=wasip2",
                "-opt=z",
                "-no-debug",
                "-o",
                "/o/x.wasm",
                "."
            ]
        );
        assert_eq!(
            tinygo_build_args(
                ".",
                out,
                Target::Unknown,
                ArtifactKind::Library,
                false,
                false
            ),
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
