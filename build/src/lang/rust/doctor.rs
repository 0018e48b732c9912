//! `doctor` for Rust projects.

use crate::diagnostics::Diagnostic;
use crate::diagnostics::check::{Check, Status};
use crate::job::Job;
use crate::report::Reporter;

/// `doctor`'s checks of a Rust project: toolchain and target, rustc, the workspace's packages
/// and dependencies for the target, wasm-bindgen.
pub(crate) fn checks(job: &Job<'_>, reporter: &dyn Reporter) -> Vec<Check> {
    use crate::lang::rust::checks as r;
    let (project, target) = (job.project, job.target);
    let mut checks = Vec::new();
    let resolved = crate::lang::rust::toolchain::resolve(
        &project.dir,
        &crate::lang::rust::rustup_env(job),
        reporter,
    );
    checks.push(r::toolchain_check(&resolved, target));
    let rustc = resolved
        .as_ref()
        .ok()
        .and_then(|tc| crate::lang::rust::toolchain::rustc_version(tc, reporter));
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
    let toolchain = resolved.as_ref().ok().map(|tc| tc.name.as_str());
    match crate::lang::rust::workspace_facts(project, &options, toolchain, reporter) {
        Ok((facts, refused)) => {
            if let Some(error) = refused {
                checks.push(Check::from_error("artifacts", &error));
            }
            checks.push(r::packages_check(&facts, rustc));
            let mut env = r::DepEnv::read(&project.dir, target);
            env.target_dir = crate::lang::rust::artifact_root(project)
                .parent()
                .map(std::path::Path::to_path_buf);
            if facts.deps.iter().any(|d| d.builds_c) {
                env.c_compiler = crate::lang::c::toolchain::discover(
                    None,
                    &crate::lang::c::toolchain::SearchEnv::from_process(),
                    reporter,
                )
                .ok()
                .filter(|tc| tc.flavor != crate::lang::c::toolchain::CFlavor::Zig)
                .map(|tc| {
                    super::render_env(&super::script_c_env(&tc, target.rust_triple(), job.simd))
                });
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
