//! `wasmforge validate`: is it valid WebAssembly, and does it fit where it will run?

use std::io::Write as _;
use std::path::PathBuf;

use wasmforge_build::wasm::validate::{self, Profile};

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::host::limits::parse_file_size;
use crate::output::{Ctx, ERROR, GOOD, untrusted};

/// Validate a module or component, optionally against a target profile
///
/// Full validation with every standard feature of Wasm 3.0 (narrow with --features). A profile
/// checks the module against where it will run; every problem is listed, not only the first:
///   wasip1-command   exports `_start` and `memory`, imports only wasi_snapshot_preview1
///   wasip1-library   no `_start`, exports functions, imports only wasi_snapshot_preview1
///   wasip2           a component importing only wasi:*@0.2.x and exporting wasi:cli/run
///   unknown          a core module with no WASI imports
///
/// Examples:
///   wasmforge validate app.wasm
///   wasmforge validate --profile wasip1-command --max-size 1MiB app.wasm
///   wasmforge validate --profile unknown --allow-import env plugin.wasm
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The module or component
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where it will run: wasip1-command, wasip1-library, wasip2 (a command), wasip2-library (a plugin), unknown
    #[arg(long, value_name = "PROFILE")]
    profile: Option<Profile>,
    /// Size budget (e.g. 1MiB; at most 64GiB)
    #[arg(long, value_name = "SIZE", value_parser = parse_file_size)]
    max_size: Option<u64>,
    /// Features to allow instead of all of Wasm 3.0 (e.g. wasm2,simd or mutable_global,bulk_memory)
    #[arg(long, value_name = "LIST", value_parser = validate::parse_features)]
    features: Option<wasmparser::WasmFeatures>,
    /// An import module (or component interface prefix) the profile also allows (repeatable)
    #[arg(long = "allow-import", value_name = "MODULE")]
    allow_imports: Vec<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let bytes = super::read_input(&args.file)?;
    let options = validate::Options {
        features: args.features,
        profile: args.profile,
        max_size: args.max_size,
        allow_imports: args.allow_imports,
    };
    let report = validate::validate(&bytes, &options);
    match ctx.format {
        Format::Json => crate::output::print_json(&report)?,
        Format::Human => {
            let mut out = anstream::stdout().lock();
            let name = args.file.display();
            match &report.error {
                Some(error) => writeln!(
                    out,
                    "{ERROR}invalid{ERROR:#}: {name}: {} (at byte offset {:#x} = {})",
                    untrusted(&error.message),
                    error.offset,
                    error.offset
                )?,
                None => writeln!(
                    out,
                    "{GOOD}valid{GOOD:#}: {name} ({}, {} bytes)",
                    report.kind, report.size
                )?,
            }
            if !report.features.is_empty() {
                writeln!(out, "uses: {}", report.features.join(", "))?;
            }
            for problem in &report.problems {
                let profile = report.profile.map(|p| p.name()).unwrap_or("budget");
                writeln!(out, "{ERROR}{profile}{ERROR:#}: {}", untrusted(problem))?;
            }
            if report.ok()
                && let Some(profile) = report.profile
            {
                writeln!(out, "{GOOD}fits{GOOD:#} the {} profile", profile.name())?;
            }
        }
    }
    Ok(if report.ok() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
