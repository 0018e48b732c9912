//! `doctor` for Go projects.

use crate::artifact::ArtifactKind;
use crate::diagnostics::check::Check;
use crate::job::Job;
use crate::report::Reporter;

/// `doctor`'s checks of a Go project: go (and TinyGo), go.mod, the sources (the build itself
/// gives the verdict).
pub(crate) fn checks(job: &Job<'_>, reporter: &dyn Reporter) -> Vec<Check> {
    use crate::lang::go as g;
    let kind = job.kind.unwrap_or(ArtifactKind::Command);
    let go = crate::lang::go::toolchain::probe_go(reporter);
    let mut checks = g::fact_checks(&go, &job.project.manifest, kind);
    let tinygo = crate::lang::go::toolchain::probe_tinygo(reporter);
    let wants_tinygo = job.toolchain.as_deref() == Some("tinygo");
    if wants_tinygo || tinygo.is_ok() {
        checks.push(crate::lang::go::checks::tinygo_check(
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
            g::is_http_service(job),
            reporter,
        ));
    }
    checks
}
