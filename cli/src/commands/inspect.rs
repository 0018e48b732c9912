//! `wasmforge inspect`: what is inside a module or component.

use std::io::Write as _;
use std::path::PathBuf;

use wasmforge_build::wasm::{inspect, size};

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::output::{BOLD, Ctx, DIM, human_size, untrusted};

/// Show what is inside a module or component
///
/// Kind, size of each section (custom sections by name), imports and exports with their types,
/// memories, tables, globals, the features the code uses, the producers section (language and
/// compiler that made it), and for a component its WIT world.
///
/// With --top N: where the bytes are (code, data, custom sections, the rest) and the N largest
/// functions by body size, named from the name section (twiggy's "top" view).
///
/// Examples:
///   wasmforge inspect app.wasm
///   wasmforge inspect --top 20 app.wasm
///   wasmforge inspect --format json app.wasm | jq .features
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The module or component
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where the bytes are, and the N largest functions
    #[arg(long, value_name = "N")]
    top: Option<usize>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let bytes = super::read_input(&args.file)?;
    let report = inspect::inspect(&bytes).map_err(|e| wasmforge_build::Error::InvalidWasm {
        offset: e.offset(),
        message: e.message().to_string(),
    })?;
    let breakdown =
        match args.top {
            Some(n) => Some(size::breakdown(&bytes, n).map_err(|e| {
                wasmforge_build::Error::InvalidWasm {
                    offset: e.offset(),
                    message: e.message().to_string(),
                }
            })?),
            None => None,
        };
    if ctx.format == Format::Json {
        let mut value = serde_json::to_value(&report)?;
        if let (Some(b), Some(map)) = (&breakdown, value.as_object_mut()) {
            map.insert("breakdown".into(), serde_json::to_value(b)?);
        }
        crate::output::print_json(&value)?;
        return Ok(ExitStatus::Success);
    }
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "{BOLD}{}{BOLD:#}: {} ({} bytes, {})",
        args.file.display(),
        report.kind,
        report.size,
        human_size(report.size)
    )?;
    writeln!(out, "{BOLD}sections{BOLD:#}")?;
    for section in &report.sections {
        let label = if section.id == "custom" {
            format!("custom \"{}\"", untrusted(&section.name))
        } else {
            section.id.clone()
        };
        writeln!(
            out,
            "  {label:<28} {:>10}  {DIM}{:>5.1}%{DIM:#}",
            section.size,
            100.0 * section.size as f64 / report.size as f64
        )?;
    }
    if !report.imports.is_empty() {
        writeln!(out, "{BOLD}imports{BOLD:#}")?;
        for import in &report.imports {
            let name = if import.module.is_empty() {
                import.name.clone()
            } else {
                format!("{}::{}", import.module, import.name)
            };
            writeln!(
                out,
                "  {:<8} {} {DIM}{}{DIM:#}",
                import.kind,
                untrusted(&name),
                untrusted(&import.ty)
            )?;
        }
    }
    if !report.exports.is_empty() {
        writeln!(out, "{BOLD}exports{BOLD:#}")?;
        for export in &report.exports {
            writeln!(
                out,
                "  {:<8} {} {DIM}{}{DIM:#}",
                export.kind,
                untrusted(&export.name),
                untrusted(&export.ty)
            )?;
        }
    }
    for memory in &report.memories {
        writeln!(
            out,
            "{BOLD}memory{BOLD:#}    {} pages initial, {} max{}{}{}",
            memory.initial,
            memory.maximum.map_or("no".to_string(), |m| m.to_string()),
            if memory.memory64 { ", 64-bit" } else { "" },
            if memory.shared { ", shared" } else { "" },
            if memory.imported { " (imported)" } else { "" }
        )?;
    }
    for table in &report.tables {
        writeln!(
            out,
            "{BOLD}table{BOLD:#}     {} {}..{}",
            table.element,
            table.initial,
            table.maximum.map_or(String::new(), |m| m.to_string())
        )?;
    }
    if !report.globals.is_empty() {
        writeln!(out, "{BOLD}globals{BOLD:#}   {}", report.globals.len())?;
    }
    let features = if report.features.is_empty() {
        "none beyond the MVP".to_string()
    } else {
        report.features.join(", ")
    };
    writeln!(out, "{BOLD}features{BOLD:#}  {features}")?;
    for (field, values) in &report.producers {
        let list: Vec<String> = values
            .iter()
            .map(|(n, v)| {
                if v.is_empty() {
                    untrusted(n).into_owned()
                } else {
                    format!("{} {}", untrusted(n), untrusted(v))
                }
            })
            .collect();
        writeln!(
            out,
            "{BOLD}{}{BOLD:#}  {}",
            untrusted(field),
            list.join(", ")
        )?;
    }
    if let Some(wit) = &report.wit {
        writeln!(out, "{BOLD}WIT{BOLD:#}")?;
        for line in wit.lines() {
            writeln!(out, "  {}", untrusted(line))?;
        }
    }
    if let Some(b) = &breakdown {
        writeln!(out, "{BOLD}where the bytes are{BOLD:#}")?;
        super::build::print_breakdown(&mut out, b, 0)?;
        writeln!(
            out,
            "{BOLD}largest functions{BOLD:#} {DIM}({} of {}; body bytes){DIM:#}",
            b.largest.len(),
            b.functions
        )?;
        for f in &b.largest {
            writeln!(
                out,
                "  {:>10}  {DIM}{:>5.1}%{DIM:#}  {}",
                f.size,
                100.0 * f.size as f64 / b.total.max(1) as f64,
                untrusted(&f.name)
            )?;
        }
    }
    Ok(ExitStatus::Success)
}
