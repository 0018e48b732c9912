//! `wasmforge opt`: optimize a module with Binaryen, in-process.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use wasmforge_build::wasm::optimize::{self, Level};
use wasmforge_build::wasm::strip::Level as Strip;

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
/// As Binaryen's `wasm-opt` does, debug info (DWARF) and the name section are dropped unless
/// -g is given; a name section is never added to a module that had none.
///
/// Examples:
///   wasmforge opt app.wasm                 writes app.opt.wasm, -Oz
///   wasmforge opt -O3 app.wasm -o fast.wasm
///   wasmforge opt -g --in-place app.wasm   keeps names and DWARF
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
    /// Keep debug info: the name section and DWARF (dropped by default, as wasm-opt does)
    #[arg(short = 'g', long = "debuginfo")]
    debuginfo: bool,
    /// Drop the name section and DWARF (the default; kept for scripts written before it was)
    #[arg(long, conflicts_with = "debuginfo", hide = true)]
    strip_debug: bool,
    /// Drop the producers section
    #[arg(long)]
    strip_producers: bool,
    /// Run the passes again while the module keeps shrinking (as wasm-opt --converge)
    #[arg(long)]
    converge: bool,
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
        strip: if args.debuginfo {
            Strip::None
        } else {
            Strip::Symbols
        },
        strip_producers: args.strip_producers,
        converge: args.converge,
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
    match ctx.format {
        Format::Json => crate::output::print_json(&serde_json::json!({
            "input": args.input,
            "output": output,
            "level": level.name(),
            "debuginfo": args.debuginfo,
            "converge": args.converge,
            "before": result.before,
            "after": result.after,
            "features": result.features,
            "skipped": result.skipped,
        }))?,
        Format::Human => {
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "{}: {} -> {} ({}, -{})",
                output.display(),
                human_size(result.before),
                human_size(result.after),
                change(result.before, result.after),
                level.name()
            )?;
        }
    }
    Ok(ExitStatus::Success)
}

/// "12.3% smaller", "23.2% larger" or "the same size": growth is reported as growth.
pub(crate) fn change(before: u64, after: u64) -> String {
    if after == before {
        return "the same size".into();
    }
    let ratio = 100.0 * (after as f64 - before as f64).abs() / before.max(1) as f64;
    if after < before {
        format!("{ratio:.1}% smaller")
    } else {
        format!("{ratio:.1}% larger")
    }
}

fn default_output(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    input.with_file_name(format!("{stem}.opt.wasm"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn growth_is_reported_as_growth() {
        assert_eq!(super::change(82, 101), "23.2% larger");
        assert_eq!(super::change(100, 75), "25.0% smaller");
        assert_eq!(super::change(7, 7), "the same size");
    }
}
