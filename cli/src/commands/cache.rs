//! `wasmforge cache`: where the cache is, how big, and emptying it.

use std::io::Write as _;

use anyhow::Context as _;

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::host::cache::folder_size;
use crate::output::{Ctx, human_size};

/// Show or clean wasmforge's cache (compiled code, build metadata)
#[derive(Debug, clap::Subcommand)]
pub enum CacheCommand {
    /// Print the cache folder
    Dir,
    /// Print how much space the cache takes
    Size,
    /// Delete everything in the cache
    Clean,
}

pub fn run(command: CacheCommand, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let dir = wasmforge_build::cache::cache_dir()
        .context("no cache folder: set WASMFORGE_CACHE_DIR or HOME")?;
    let size = folder_size(&dir);
    let mut out = std::io::stdout().lock();
    match command {
        CacheCommand::Dir => match ctx.format {
            Format::Json => crate::output::print_json(&serde_json::json!({ "path": dir }))?,
            Format::Human => writeln!(out, "{}", dir.display())?,
        },
        CacheCommand::Size => match ctx.format {
            Format::Json => {
                crate::output::print_json(&serde_json::json!({ "path": dir, "size": size }))?
            }
            Format::Human => writeln!(
                out,
                "{} ({} bytes) in {}",
                human_size(size),
                size,
                dir.display()
            )?,
        },
        CacheCommand::Clean => {
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("could not remove `{}`", dir.display()))?;
            }
            match ctx.format {
                Format::Json => {
                    crate::output::print_json(&serde_json::json!({ "path": dir, "removed": size }))?
                }
                Format::Human => {
                    writeln!(out, "removed {} from {}", human_size(size), dir.display())?
                }
            }
        }
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}
