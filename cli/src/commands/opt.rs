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
    /// Optimize for speed, level 1
    #[arg(long = "O1", group = "level")]
    o1: bool,
    /// Optimize for speed, level 2
    #[arg(long = "O2", group = "level")]
    o2: bool,
    /// Optimize for speed, level 3
    #[arg(long = "O3", group = "level")]
    o3: bool,
    /// Optimize for speed, level 4
    #[arg(long = "O4", group = "level")]
    o4: bool,
    /// Optimize for size
    #[arg(long = "Os", group = "level")]
    os: bool,
    /// Optimize for size, aggressively (the default)
    #[arg(long = "Oz", group = "level")]
    oz: bool,
    /// Drop the name section and DWARF debug info
    #[arg(long)]
    strip_debug: bool,
    /// Drop the producers section
    #[arg(long)]
    strip_producers: bool,
}

impl Args {
    fn level(&self) -> Level {
        [
            (self.o1, Level::O1),
            (self.o2, Level::O2),
            (self.o3, Level::O3),
            (self.o4, Level::O4),
            (self.os, Level::Os),
        ]
        .into_iter()
        .find_map(|(on, level)| on.then_some(level))
        .unwrap_or(Level::Oz)
    }
}

/// Rewrites `-O3`-style single-dash levels (as Binaryen's CLI takes them) to clap's `--O3`.
pub fn normalize_level_flags(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let command = args
        .iter()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'));
    if command.is_none_or(|c| c != "opt") {
        return args;
    }
    args.into_iter()
        .map(|arg| match arg.to_str() {
            Some(flag @ ("-O1" | "-O2" | "-O3" | "-O4" | "-Os" | "-Oz")) => {
                format!("-{flag}").into()
            }
            _ => arg,
        })
        .collect()
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let bytes = super::read_input(&args.input)?;
    let level = args.level();
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
