//! `wasmforge precompile`: compile ahead of time to a `.cwasm` that `run --allow-precompiled`
//! loads without compiling.

use std::io::Write as _;
use std::path::PathBuf;

use wasmforge_build::artifact::Encoding;
use wasmforge_build::files::sha256_hex;

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::host::{self, Limits};
use crate::output::{Ctx, human_size};

/// Compile a module or component ahead of time (.cwasm)
///
/// The output is native code for this machine, this wasmforge's Wasmtime and `run`'s default
/// settings (no --fuel or --timeout). Loading it trusts it completely, so `run` takes a .cwasm
/// only with --allow-precompiled.
///
/// Examples:
///   wasmforge precompile hello.wasm
///   wasmforge run --allow-precompiled hello.cwasm
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The .wasm file
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where to write the compiled code (default: FILE with the extension .cwasm)
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    // .wat is accepted as `run`, `opt` and `validate` accept it.
    let bytes = super::read_input(&args.file)?;
    let encoding = Encoding::of(&bytes, &args.file)?;
    let engine = host::engine(&Limits::default())?;
    let compiled = host::cache::precompile(&engine, &bytes, encoding)?;
    let output = args
        .output
        .unwrap_or_else(|| args.file.with_extension("cwasm"));
    super::write_binary(&output, &compiled)?;
    match ctx.format {
        Format::Json => crate::output::print_json(&serde_json::json!({
            "path": output,
            "size": compiled.len(),
            "sha256": sha256_hex(&compiled),
        }))?,
        Format::Human => {
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "{} ({} bytes, {})",
                output.display(),
                compiled.len(),
                human_size(compiled.len() as u64)
            )?;
        }
    }
    Ok(ExitStatus::Success)
}
