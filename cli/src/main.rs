//! `wasmforge`: the command-line front end. It parses arguments, turns them into library
//! options, calls one library function per command and renders the result. The work itself
//! lives in `wasmforge-build` and `wasmforge-registry`.

mod cli;
mod commands;
mod exit;
mod host;
mod output;
mod reporter;
#[cfg(all(target_os = "linux", feature = "containerd"))]
mod shim;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::Cli;
use crate::exit::ExitStatus;
use crate::output::Ctx;

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", feature = "containerd"))]
    if shim::invoked() {
        shim::main();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            if err.use_stderr() && wants_json(std::env::args_os()) {
                // The promise of --format json holds for a command line clap refused too.
                let rendered = err.render().to_string();
                let message = rendered
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_string();
                let _ = output::print_json(&serde_json::json!({
                    "error": {
                        "message": message,
                        "causes": [],
                        "hint": rendered.lines().skip(1).map(str::trim).find(|l| l.starts_with("tip:")).map(|l| l.trim_start_matches("tip: ")),
                        "code": null,
                        "diagnostics": [],
                        "exit_code": ExitStatus::Usage.code(),
                    }
                }));
            }
            return ExitCode::from(if err.use_stderr() {
                ExitStatus::Usage.code()
            } else {
                0
            });
        }
    };
    let ctx = Ctx::new(&cli.global);
    if ctx.verbose > 0 {
        // The registry crate's commands (credential helpers) are shown as the build's are.
        wasmforge_registry::observe_commands(|line| {
            anstream::eprintln!("{}     Running `{line}`{:#}", output::DIM, output::DIM);
        });
    }
    let status = match commands::run(cli.command, &ctx) {
        Ok(status) => status,
        Err(err) if output::is_broken_pipe(&err) => ExitStatus::Success,
        Err(err) => output::report_error(&ctx, &err),
    };
    ExitCode::from(status.code())
}

/// Whether the raw command line asks for `--format json` (read before clap could parse it).
fn wants_json(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    args.iter().enumerate().any(|(i, a)| {
        a == "--format=json" || (a == "--format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}
