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
    let target = options
        .target
        .or(config.package.target)
        .unwrap_or(Target::Wasip1);
    let kind = options.kind.or(config.package.kind);
    let toolchain_name = options
        .toolchain
        .clone()
        .or_else(|| config.build.toolchain.clone());
    let mut checks = match project.lang {
        Lang::Rust => rust_checks(&project, target, reporter),
        Lang::Go => go_checks(&project, &config, kind, toolchain_name.as_deref(), reporter),
        Lang::C => c_checks(&project, &config, toolchain_name.as_deref(), reporter),
    };
    checks.push(diagnostics::wasm::wasm_opt_check(
        std::env::var_os("PATH").as_deref(),
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

fn rust_checks(project: &project::Project, target: Target, reporter: &dyn Reporter) -> Vec<Check> {
    use diagnostics::rust as r;
    let mut checks = Vec::new();
    let resolved = toolchain::rust::resolve(
        &project.dir,
        &toolchain::rust::RustupEnv::from_process(),
        reporter,
    );
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
        ..crate::BuildOptions::new(&project.dir)
    };
    match crate::driver::rust::workspace_facts(project, &options, reporter) {
        Ok(facts) => {
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
                let out = std::process::Command::new(&path)
                    .arg("--version")
                    .output()
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

fn go_checks(
    project: &project::Project,
    _config: &Config,
    kind: Option<ArtifactKind>,
    toolchain_name: Option<&str>,
    reporter: &dyn Reporter,
) -> Vec<Check> {
    use diagnostics::go as g;
    let go = toolchain::go::probe_go(reporter);
    let mut checks = vec![g::go_check(&go, kind == Some(ArtifactKind::Library))];
    let tinygo = toolchain::go::probe_tinygo(reporter);
    let wants_tinygo = toolchain_name == Some("tinygo");
    if wants_tinygo || tinygo.is_ok() {
        checks.push(g::tinygo_check(
            &tinygo,
            go.as_ref().ok().map(|g| g.version),
            wants_tinygo,
        ));
    }
    checks.push(g::env_check(&|k| std::env::var(k).ok()));
    let (cgo, imports) = g::source_checks(&project.dir);
    checks.push(cgo);
    checks.push(imports);
    checks
}

fn c_checks(
    project: &project::Project,
    config: &Config,
    toolchain_name: Option<&str>,
    reporter: &dyn Reporter,
) -> Vec<Check> {
    use diagnostics::c;
    let found = toolchain::c::discover(
        toolchain_name,
        &toolchain::c::SearchEnv::from_process(),
        reporter,
    );
    let mut checks = vec![c::toolchain_check(&found)];
    if let Ok(tc) = &found {
        checks.push(c::builtins_check(tc, reporter));
    }
    let include = found.as_ref().ok().and_then(sysroot_include);
    checks.push(c::headers_check(
        &c::source_files(&project.dir),
        &config.c,
        include.as_deref(),
    ));
    checks
}

/// The include folder of the toolchain's WASI sysroot, when it is known.
pub fn sysroot_include(tc: &toolchain::c::CToolchain) -> Option<PathBuf> {
    match &tc.sysroot {
        Some(root) => Some(root.join("include")),
        None if tc.flavor == toolchain::c::CFlavor::Clang => {
            Some(PathBuf::from("/usr/include/wasm32-wasi"))
        }
        None => None,
    }
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
    ));
    checks
}
