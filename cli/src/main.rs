//! `wasmforge`: the command-line front end. It parses arguments, turns them into library
//! options, calls one library function per command and renders the result. The work itself
//! lives in `wasmforge-build` and `wasmforge-registry`.

mod cli;
mod commands;
mod exit;
mod host;
mod output;
mod reporter;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::Cli;
use crate::exit::ExitStatus;
use crate::output::Ctx;

fn main() -> ExitCode {
    let args = commands::opt::normalize_level_flags(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                ExitStatus::Usage.code()
            } else {
                0
            });
        }
    };
    let ctx = Ctx::new(&cli.global);
    let status = match commands::run(cli.command, &ctx) {
        Ok(status) => status,
        Err(err) if output::is_broken_pipe(&err) => ExitStatus::Success,
        Err(err) => output::report_error(&ctx, &err),
    };
    ExitCode::from(status.code())
}
