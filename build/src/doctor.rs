//! `doctor`: every check relevant to a project (or, without one, a survey of the toolchains),
//! each ok / warning / error with the fix. Builds run the cheap part of the same checks first.

use std::path::{Path, PathBuf};

use crate::artifact::ArtifactKind;
use crate::config::Config;
use crate::diagnostics::{self, Diagnostic, Severity};
use crate::error::Result;
use crate::project::{self, Lang};
use crate::report::Reporter;
use crate::target::Target;
use crate::toolchain;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing to check, or could not be checked (said in the detail); never a failure.
    Skipped,
    Ok,
    Warning,
    Error,
}

/// One check: its name, outcome, a line of detail, and the findings behind a warning or error.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl Check {
    pub fn ok(name: &str, detail: String) -> Check {
        Check {
            name: name.into(),
            status: Status::Ok,
            detail,
            diagnostics: Vec::new(),
        }
    }

    /// A check that could not run or has nothing to say (never a failure).
    pub fn note(name: &str, detail: String) -> Check {
        Check {
            name: name.into(),
            status: Status::Skipped,
            detail,
            diagnostics: Vec::new(),
        }
    }

    /// A check whose outcome is its findings (ok when there are none).
    pub fn from(name: &str, diagnostics: Vec<Diagnostic>) -> Check {
        let status = match diagnostics.iter().map(|d| d.severity).max() {
            None => Status::Ok,
            Some(Severity::Warning) => Status::Warning,
            Some(Severity::Error) => Status::Error,
        };
        let detail = match diagnostics.as_slice() {
            [] => "ok".to_string(),
            [one] => one.message.clone(),
            [first, rest @ ..] => format!("{} (and {} more)", first.message, rest.len()),
        };
        Check {
            name: name.into(),
            status,
            detail,
            diagnostics,
        }
    }

    /// A check that failed with an error of the build (its message and hint).
    pub fn from_error(name: &str, error: &crate::Error) -> Check {
        Check::failed(
            name,
            format!(
                "{error}{}",
                error
                    .hint()
                    .map(|h| format!(" (hint: {h})"))
                    .unwrap_or_default()
            ),
        )
    }

    /// A check that failed without a catalogued cause (e.g. `cargo metadata` rejected Cargo.toml).
    pub fn failed(name: &str, detail: String) -> Check {
        Check {
            name: name.into(),
            status: Status::Error,
            detail,
            diagnostics: Vec::new(),
        }
    }
}

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// A project folder; `None` surveys the toolchains (or checks the current folder when it is
    /// a project — the caller decides).
    pub path: Option<PathBuf>,
    pub target: Option<Target>,
    pub lang: Option<Lang>,
    pub kind: Option<ArtifactKind>,
    pub toolchain: Option<String>,
    /// `--bin`: which executable (CMake, Make, Rust) the build makes.
    pub bins: Vec<String>,
    /// `-p`: Rust packages, or the Go main package.
    pub packages: Vec<String>,
    /// What `build -- ARGS` would pass on (Go tags, CMake options, make variables).
    pub extra_args: Vec<String>,
}

/// The project a report is about.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectSummary {
    pub path: PathBuf,
    pub lang: Lang,
    pub target: Target,
}

/// Everything doctor found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DoctorReport {
    pub project: Option<ProjectSummary>,
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// Every finding, errors first.
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        let mut all: Vec<&Diagnostic> = self.checks.iter().flat_map(|c| &c.diagnostics).collect();
        all.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.code.cmp(&b.code))
        });
        all
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// Errors: failed checks (a check can fail without a code, e.g. an unreadable Cargo.toml).
    pub fn has_errors(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Error)
    }
}

/// Runs the checks.
pub fn doctor(options: &DoctorOptions, reporter: &dyn Reporter) -> Result<DoctorReport> {
    let Some(path) = &options.path else {
        return Ok(DoctorReport {
            project: None,
            checks: survey(reporter),
        });
    };
    let config_dir = if path.is_file() {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        path.clone()
    };
    let config = Config::load(&config_dir)?;
    let project = project::detect(path, options.lang.or(config.package.lang))?;
    let build_options = crate::BuildOptions {
        target: options.target,
        lang: options.lang,
        kind: options.kind,
        toolchain: options.toolchain.clone(),
        bins: options.bins.clone(),
        packages: options.packages.clone(),
        extra_args: options.extra_args.clone(),
        ..crate::BuildOptions::new(path)
    };
    let job = crate::driver::Job::new(&project, &config, &build_options)?;
    let (target, kind) = (job.target, job.kind);
    let mut checks = Vec::new();
    // What build refuses before probing anything, doctor reports the same way.
    if let Some(error) = crate::driver::support_error(
        project.lang,
        &config,
        target,
        kind,
        job.toolchain.as_deref(),
        crate::wit::dir_of(&project.dir, &config).is_some(),
    ) {
        checks.push(Check::from_error("target", &error));
    }
    // A plugin's world: it resolves, and the world named exists (with wit-parser's file:line).
    if let Some(dir) = crate::wit::dir_of(&project.dir, &config) {
        checks.push(
            match crate::wit::load(&dir, config.component.world.as_deref()) {
                // Go: the world must also be one wasmforge's Go bindings cover.
                Ok(world) if project.lang == Lang::Go && target == Target::Wasip2 => {
                    match crate::driver::go::plugin::generate(&world) {
                        Ok(_) => Check::ok(
                            "wit",
                            format!(
                                "world {} resolves, and the Go bindings cover it; it exports {}",
                                world.qualified_name(),
                                world.exports().join(", ")
                            ),
                        ),
                        Err(error) => Check::from_error("wit", &error),
                    }
                }
                Ok(world) => Check::ok(
                    "wit",
                    format!(
                        "world {} resolves; it exports {}",
                        world.qualified_name(),
                        world.exports().join(", ")
                    ),
                ),
                Err(error) => match crate::wit::diagnostic(&error) {
                    Some(d) => Check::from("wit", vec![d]),
                    None => Check::from_error("wit", &error),
                },
            },
        );
    }
    checks.extend(match project.lang {
        Lang::Rust => rust_checks(&job, reporter),
        Lang::Go => go_checks(&job, reporter),
        Lang::C => c_checks(&job, reporter),
    });
    checks.push(diagnostics::wasm::wasm_opt_check(
        std::env::var_os("PATH").as_deref(),
        reporter,
    ));
    if target == Target::Wasip1 && kind != Some(ArtifactKind::Library) {
        checks.extend(artifact_checks(&project, project.lang, target));
    }
    Ok(DoctorReport {
        project: Some(ProjectSummary {
            path: project.dir.clone(),
            lang: project.lang,
            target,
        }),
        checks,
    })
}

fn rust_checks(job: &crate::driver::Job<'_>, reporter: &dyn Reporter) -> Vec<Check> {
    use diagnostics::rust as r;
    let (project, target) = (job.project, job.target);
    let mut checks = Vec::new();
    let resolved = toolchain::rust::resolve(&project.dir, &job.rustup_env(), reporter);
    checks.push(r::toolchain_check(&resolved, target));
    let rustc = resolved
        .as_ref()
        .ok()
        .and_then(|tc| toolchain::rust::rustc_version(tc, reporter));
    if let Ok(tc) = &resolved {
        let check = r::rustc_check(&tc.name, rustc, target);
        if check.status == Status::Error {
            // `rustup target add` cannot help a rustc that predates the target.
            checks[0] = Check::note(
                "rust-target",
                format!(
                    "`{}` needs a newer rustc first (below)",
                    target.rust_triple()
                ),
            );
        }
        checks.push(check);
    }
    checks.push(r::renamed_target_check(
        &project.dir,
        true,
        rustc,
        std::env::var("CARGO_BUILD_TARGET").ok().as_deref(),
    ));
    if let Err(crate::Error::ToolchainNotInstalled { toolchain, .. }) = &resolved {
        // cargo would run (or download) that toolchain just to read the manifest.
        checks.push(Check::note(
            "packages",
            format!("not checked: the toolchain `{toolchain}` is not installed"),
        ));
        return checks;
    }
    let options = crate::BuildOptions {
        target: Some(target),
        ..job.options.clone()
    };
    match crate::driver::rust::workspace_facts(project, &options, reporter) {
        Ok((facts, refused)) => {
            if let Some(error) = refused {
                checks.push(Check::from_error("artifacts", &error));
            }
            checks.push(r::packages_check(&facts, rustc));
            let mut env = r::DepEnv::read(&project.dir, target);
            if facts.deps.iter().any(|d| d.builds_c) {
                env.c_compiler = toolchain::c::discover(
                    None,
                    &toolchain::c::SearchEnv::from_process(),
                    reporter,
                )
                .ok()
                .map(|tc| tc.cc[0].clone());
            }
            checks.push(r::dependency_check(&facts, target, &env));
            let cli = which::which("wasm-bindgen").ok().and_then(|path| {
                let out = crate::process::Tool::new(&path, "")
                    .arg("--version")
                    .output(reporter)
                    .ok()?;
                let version = r::wasm_bindgen_cli_version(&String::from_utf8_lossy(&out.stdout))?;
                Some((path, version))
            });
            checks.extend(r::wasm_bindgen_check(&facts, cli));
        }
        Err(crate::Error::ToolNotFound { .. }) => checks.push(Check::from(
            "packages",
            vec![Diagnostic::new(
                "WF1014",
                "cargo was not found on PATH",
                "install Rust with rustup (https://rustup.rs), or put ~/.cargo/bin on PATH",
            )],
        )),
        Err(err) => checks.push(Check::failed(
            "packages",
            format!(
                "{err}{}",
                err.hint().map(|h| format!(" ({h})")).unwrap_or_default()
            ),
        )),
    }
    checks
}

fn go_checks(job: &crate::driver::Job<'_>, reporter: &dyn Reporter) -> Vec<Check> {
    use crate::driver::go as g;
    let kind = job.kind.unwrap_or(ArtifactKind::Command);
    let go = toolchain::go::probe_go(reporter);
    let mut checks = g::fact_checks(&go, &job.project.manifest, kind);
    let tinygo = toolchain::go::probe_tinygo(reporter);
    let wants_tinygo = job.toolchain.as_deref() == Some("tinygo");
    if wants_tinygo || tinygo.is_ok() {
        checks.push(diagnostics::go::tinygo_check(
            &tinygo,
            go.as_ref().ok().map(|g| g.version),
            wants_tinygo,
        ));
    }
    if let Ok(go) = &go {
        let package = g::main_package(job);
        checks.extend(g::evidence_checks(
            go,
            &job.project.dir,
            &package,
            &g::list_flags(&job.options.extra_args),
            reporter,
        ));
        // The compiler has the last word, once nothing above already says the build fails.
        if !wants_tinygo && checks.iter().all(|c| c.status != Status::Error) {
            checks.push(g::compile_check(
                go,
                &job.project.dir,
                &package,
                kind,
                &job.options.extra_args,
                reporter,
            ));
        }
    }
    checks
}

fn c_checks(job: &crate::driver::Job<'_>, reporter: &dyn Reporter) -> Vec<Check> {
    use diagnostics::c;
    let found = toolchain::c::discover(
        job.toolchain.as_deref(),
        &toolchain::c::SearchEnv::from_process(),
        reporter,
    );
    let mut checks = vec![c::toolchain_check(&found)];
    if let Ok(tc) = &found {
        checks.push(c::builtins_check(tc, reporter));
        if job.target != Target::Unknown {
            checks.extend(crate::driver::c::doctor_checks(job, tc, reporter));
        }
    }
    checks
}

/// Imports of the modules the project's last build left (wasip1 commands).
fn artifact_checks(project: &project::Project, lang: Lang, target: Target) -> Vec<Check> {
    let dir = match lang {
        Lang::Rust => crate::driver::rust::artifact_root(project).join(target.name()),
        _ => project.dir.join("target/wasmforge").join(target.name()),
    };
    let Some(newest) = diagnostics::wasm::built_artifacts(&dir).into_iter().next() else {
        return Vec::new();
    };
    match std::fs::read(&newest) {
        Ok(bytes)
            if matches!(
                crate::artifact::Encoding::of(&bytes, &newest),
                Ok(crate::artifact::Encoding::Module)
            ) =>
        {
            vec![diagnostics::wasm::imports_check(&bytes, &newest)]
        }
        _ => Vec::new(),
    }
}

/// Without a project: what is installed and which targets each toolchain can build.
fn survey(reporter: &dyn Reporter) -> Vec<Check> {
    let mut checks = Vec::new();
    checks.extend(toolchain::rust::survey(reporter));
    let go = toolchain::go::probe_go(reporter);
    checks.push(diagnostics::go::go_check(&go, false));
    let tinygo = toolchain::go::probe_tinygo(reporter);
    checks.push(diagnostics::go::tinygo_check(
        &tinygo,
        go.as_ref().ok().map(|g| g.version),
        false,
    ));
    let found = toolchain::c::discover(None, &toolchain::c::SearchEnv::from_process(), reporter);
    checks.push(diagnostics::c::toolchain_check(&found));
    if let Ok(tc) = &found {
        checks.push(diagnostics::c::builtins_check(tc, reporter));
    }
    checks.push(diagnostics::wasm::wasm_opt_check(
        std::env::var_os("PATH").as_deref(),
        reporter,
    ));
    checks
}
