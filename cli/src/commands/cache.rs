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
    /// Delete wasmforge's folders in the cache (only in a folder tagged with CACHEDIR.TAG)
    Clean,
    /// Compile modules or components into the run cache, so their first `run` (or `serve`)
    /// starts warm (`build` does this for what it builds)
    Warm {
        /// .wasm files
        #[arg(value_name = "FILE", required = true)]
        files: Vec<std::path::PathBuf>,
        /// For runs with --timeout (code that checks the epoch)
        #[arg(long, hide = true)]
        epoch_interruption: bool,
    },
}

pub fn run(command: CacheCommand, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let dir = wasmforge_build::cache::cache_dir()
        .context("no cache folder: set WASMFORGE_CACHE_DIR or HOME")?;
    let mut out = std::io::stdout().lock();
    match command {
        CacheCommand::Warm {
            files,
            epoch_interruption,
        } => return warm(&files, epoch_interruption, ctx),
        CacheCommand::Dir => match ctx.format {
            Format::Json => crate::output::print_json(&serde_json::json!({ "path": dir }))?,
            Format::Human => writeln!(out, "{}", dir.display())?,
        },
        CacheCommand::Size => match (ctx.format, folder_size(&dir)) {
            (Format::Json, size) => {
                crate::output::print_json(&serde_json::json!({ "path": dir, "size": size }))?
            }
            (Format::Human, size) => writeln!(
                out,
                "{} ({} bytes) in {}",
                human_size(size),
                size,
                dir.display()
            )?,
        },
        CacheCommand::Clean => {
            // WASMFORGE_CACHE_DIR can name any folder: only one wasmforge tagged as its cache is
            // cleaned, and only of wasmforge's own folders.
            if dir.exists() && !wasmforge_build::cache::is_tagged(&dir) {
                return Err(crate::exit::Refused {
                    message: format!(
                        "`{}` has no {} file: it is not a cache folder wasmforge made, and nothing in it was removed",
                        dir.display(),
                        wasmforge_build::cache::TAG_FILE
                    ),
                    hint: "point WASMFORGE_CACHE_DIR (or XDG_CACHE_HOME) at wasmforge's cache folder, or remove the folder yourself if it is one".into(),
                }
                .into());
            }
            let mut removed = 0;
            for section in wasmforge_build::cache::Section::ALL {
                let sub = dir.join(section.name());
                if sub.exists() {
                    removed += folder_size(&sub);
                    // Renamed aside first: a background compile writing meanwhile cannot make
                    // the removal fail ("Directory not empty").
                    wasmforge_build::cache::remove_section(&sub)
                        .with_context(|| format!("could not remove `{}`", sub.display()))?;
                }
            }
            match ctx.format {
                Format::Json => crate::output::print_json(
                    &serde_json::json!({ "path": dir, "removed": removed }),
                )?,
                Format::Human => writeln!(
                    out,
                    "removed {} from {}",
                    human_size(removed),
                    dir.display()
                )?,
            }
        }
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

fn warm(files: &[std::path::PathBuf], epoch: bool, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let mut warmed = Vec::new();
    for file in files {
        if !file.is_file() {
            return Err(wasmforge_build::Error::PathNotFound { path: file.clone() }.into());
        }
        let event = crate::host::cache::warm(file, epoch)?;
        ctx.status(
            "Warmed",
            &format!("{} ({})", file.display(), event.describe()),
        );
        warmed.push(serde_json::json!({ "path": file, "cache": event }));
    }
    if ctx.format == Format::Json {
        crate::output::print_json(&serde_json::json!({ "warmed": warmed }))?;
    }
    Ok(ExitStatus::Success)
}
