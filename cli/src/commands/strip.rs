//! `wasmforge strip`: drop custom sections.

use std::io::Write as _;
use std::path::PathBuf;

use wasmforge_build::wasm::strip;

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::output::{Ctx, human_size, untrusted};

/// Drop custom sections (debug info, names, producers)
///
/// A component's core modules are stripped too; the sections a component needs
/// (`component-type:*`) stay. The result is validated before it is written.
///
/// Examples:
///   wasmforge strip app.wasm                  in place
///   wasmforge strip app.wasm -o small.wasm --keep producers
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The module or component
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where to write the result (default: replace FILE)
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// A custom section to keep (repeatable)
    #[arg(long = "keep", value_name = "NAME")]
    keep: Vec<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let bytes = super::read_input(&args.file)?;
    let invalid = |e: wasmparser::BinaryReaderError| wasmforge_build::Error::InvalidWasm {
        offset: e.offset(),
        message: e.message().to_string(),
    };
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .map_err(invalid)?;
    let (out_bytes, stripped) = strip::strip(&bytes, &args.keep).map_err(invalid)?;
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&out_bytes)
        .map_err(invalid)?;
    let output = args.output.unwrap_or_else(|| args.file.clone());
    super::write_binary(&output, &out_bytes)?;
    match ctx.format {
        Format::Json => crate::output::print_json(&serde_json::json!({
            "output": output,
            "before": bytes.len(),
            "after": out_bytes.len(),
            "removed": stripped.removed.iter().map(|(name, size)| serde_json::json!({"name": name, "size": size})).collect::<Vec<_>>(),
        }))?,
        Format::Human => {
            let mut out = anstream::stdout().lock();
            for (name, size) in &stripped.removed {
                writeln!(out, "removed custom \"{}\" ({size} bytes)", untrusted(name))?;
            }
            writeln!(
                out,
                "{}: {} -> {}",
                output.display(),
                human_size(bytes.len() as u64),
                human_size(out_bytes.len() as u64)
            )?;
        }
    }
    Ok(ExitStatus::Success)
}
