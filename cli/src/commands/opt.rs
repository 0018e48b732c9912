//! `wasmforge opt`: optimize a module with Binaryen, in-process.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use wasmforge_build::wasm::optimize::{self, Level};

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::output::{Ctx, human_size};

/// Optimize a module with Binaryen (in-process)
///
/// The input is validated first and the features Binaryen may use are read from the code itself
/// (not trusted from a `target_features` section), so valid compiler output never fails to
/// optimize. The output is validated again. Components cannot be optimized after the fact:
/// `wasmforge build --release --target wasip2` optimizes the core module before wrapping it.
///
/// Examples:
///   wasmforge opt app.wasm                 writes app.opt.wasm, -Oz
///   wasmforge opt -O3 app.wasm -o fast.wasm
///   wasmforge opt --in-place --strip-debug app.wasm
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The module to optimize
    #[arg(value_name = "IN")]
    input: PathBuf,
    /// Where to write the result (default: IN with `.opt.wasm`)
    #[arg(short, long, value_name = "OUT", conflicts_with = "in_place")]
    output: Option<PathBuf>,
    /// Replace the input file
    #[arg(long)]
    in_place: bool,
    /// The level, as Binaryen and C compilers write it: -O1, -O2, -O3, -O4 (speed), -Os, -Oz
    /// (size; the default). The last one given wins
    #[arg(short = 'O', value_name = "LEVEL", value_parser = parse_level, overrides_with = "level")]
    level: Option<Level>,
    /// Drop the name section and DWARF debug info
    #[arg(long)]
    strip_debug: bool,
    /// Drop the producers section
    #[arg(long)]
    strip_producers: bool,
}

/// `-O3` reaches here as `3`, `-Oz` as `z`.
fn parse_level(text: &str) -> Result<Level, String> {
    let bare = text.trim_start_matches(['O', 'o']);
    format!("O{bare}").parse::<Level>().map_err(|_| {
        format!("`-O{bare}` is not an optimization level: use -O1, -O2, -O3, -O4 (speed), -Os or -Oz (size)")
    })
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let bytes = super::read_input(&args.input)?;
    let level = args.level.unwrap_or(Level::Oz);
    let options = optimize::Options {
        level,
        strip_debug: args.strip_debug,
        strip_producers: args.strip_producers,
    };
    let result = optimize::optimize(&bytes, options)?;
    let output = if args.in_place {
        args.input.clone()
    } else {
        args.output
            .clone()
            .unwrap_or_else(|| default_output(&args.input))
    };
    if let Some(reason) = &result.skipped {
        ctx.warning(reason);
    }
    super::write_binary(&output, &result.bytes)?;
    let reduction = 100.0 * (1.0 - result.after as f64 / result.before.max(1) as f64);
    match ctx.format {
        Format::Json => crate::output::print_json(&serde_json::json!({
            "input": args.input,
            "output": output,
            "level": level.name(),
            "before": result.before,
            "after": result.after,
            "features": result.features,
            "skipped": result.skipped,
        }))?,
        Format::Human => {
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "{}: {} -> {} ({reduction:.1}% smaller, -{})",
                output.display(),
                human_size(result.before),
                human_size(result.after),
                level.name()
            )?;
        }
    }
    Ok(ExitStatus::Success)
}

fn default_output(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    input.with_file_name(format!("{stem}.opt.wasm"))
}
