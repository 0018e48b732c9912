//! `doctor` for C projects.

use crate::diagnostics::check::Check;
use crate::job::Job;
use crate::report::Reporter;
use crate::target::Target;

/// `doctor`'s checks of a C project: the toolchain, its builtins, and the build graph's checks.
pub(crate) fn checks(job: &Job<'_>, reporter: &dyn Reporter) -> Vec<Check> {
    use crate::lang::c::checks as c;
    let found = crate::lang::c::toolchain::discover(
        job.toolchain.as_deref(),
        &crate::lang::c::toolchain::SearchEnv::from_process(),
        reporter,
    );
    let mut checks = vec![c::toolchain_check(&found)];
    if let Ok(tc) = &found {
        checks.push(c::builtins_check(tc, reporter));
        if job.target != Target::Unknown {
            checks.extend(crate::lang::c::doctor_checks(job, tc, reporter));
        }
    }
    checks
}
