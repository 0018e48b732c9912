//! `wasmforge explain`: the long explanation of a diagnostic code, like `rustc --explain`.

use std::io::Write as _;

use wasmforge_build::diagnostics::{CATALOG, lookup};

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::output::{BOLD, Ctx, DIM, ERROR, HINT, WARN};

/// Explain a diagnostic code (WFxxxx), or list them all
///
/// Every problem `wasmforge doctor` and `wasmforge build` diagnose carries a code; this prints
/// what it means, why it happens and how to fix it. docs/diagnostics.md has the same text.
///
/// Examples:
///   wasmforge explain WF1001
///   wasmforge explain --list
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The code, e.g. WF1001 (case does not matter)
    #[arg(
        value_name = "CODE",
        required_unless_present = "list",
        conflicts_with = "list"
    )]
    code: Option<String>,
    /// List every code with its severity and title
    #[arg(long)]
    list: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let mut out = anstream::stdout().lock();
    if args.list {
        match ctx.format {
            Format::Json => {
                let list: Vec<_> = CATALOG.iter().map(entry_json).collect();
                crate::output::print_json(&list)?;
            }
            Format::Human => {
                for entry in CATALOG {
                    let style = if entry.severity == wasmforge_build::diagnostics::Severity::Error {
                        ERROR
                    } else {
                        WARN
                    };
                    writeln!(
                        out,
                        "{BOLD}{}{BOLD:#}  {style}{:<7}{style:#}  {}",
                        entry.code,
                        entry.severity.name(),
                        entry.title
                    )?;
                }
            }
        }
        return Ok(ExitStatus::Success);
    }
    let code = args.code.unwrap_or_default();
    let Some(entry) = lookup(code.trim()) else {
        return Err(crate::exit::UsageError {
            message: format!(
                "`{}` is not a wasmforge diagnostic code",
                crate::output::untrusted(&code)
            ),
            hint: "codes look like WF1001; `wasmforge explain --list` lists them all".into(),
        }
        .into());
    };
    match ctx.format {
        Format::Json => crate::output::print_json(&entry_json(entry))?,
        Format::Human => {
            writeln!(
                out,
                "{BOLD}{}: {}{BOLD:#} {DIM}({}){DIM:#}\n",
                entry.code,
                entry.title,
                entry.severity.name()
            )?;
            writeln!(out, "{}\n", entry.explanation.trim())?;
            writeln!(out, "{HINT}Fix{HINT:#}: {}", entry.fix.trim())?;
        }
    }
    Ok(ExitStatus::Success)
}

fn entry_json(entry: &wasmforge_build::diagnostics::Entry) -> serde_json::Value {
    serde_json::json!({
        "code": entry.code,
        "severity": entry.severity,
        "title": entry.title,
        "explanation": entry.explanation.trim(),
        "fix": entry.fix.trim(),
    })
}
