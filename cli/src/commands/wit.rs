//! `wasmforge wit`: the WIT world of a project (its `wit/` folder) or of a component.

use std::io::Write as _;
use std::path::PathBuf;

use wasmforge_build::wasm::inspect;

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::output::{Ctx, untrusted_lines};

/// Show the WIT world of a project or a component
///
/// For a project folder (default: the current one): the world its `wit/` folder defines —
/// `[component] world` in wasmforge.toml, else the only one — resolved with `wit/deps/`. For a
/// component (.wasm or .wat): the world it imports and exports, decoded from the binary (as
/// `inspect` shows it).
///
/// Examples:
///   wasmforge wit
///   wasmforge wit target/wasmforge/wasip2/debug/plugin.wasm
///   wasmforge wit --format json . | jq .exports
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A project folder or a component (default: the current folder)
    #[arg(value_name = "PATH|FILE")]
    path: Option<PathBuf>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let path = args.path.unwrap_or_else(|| PathBuf::from("."));
    let (world, wit, imports, exports) = if path.is_dir() {
        let config = wasmforge_build::lang::load_config(&path)?;
        let Some(dir) = wasmforge_build::wit::dir_of(&path, &config) else {
            return Err(crate::exit::UsageError {
                message: format!("`{}` has no `wit/` folder", path.display()),
                hint: "a plugin's world lives in wit/*.wit (`wasmforge new NAME --kind plugin` \
                       makes one); for a component, give its .wasm file"
                    .into(),
            }
            .into());
        };
        let world = wasmforge_build::wit::load(&dir, config.component.world.as_deref())?;
        (
            Some(world.qualified_name()),
            world.wit(),
            world.imports(),
            world.exports(),
        )
    } else {
        let bytes = super::read_input(&path)?;
        if !wasmparser::Parser::is_component(&bytes) {
            return Err(crate::exit::UsageError {
                message: format!(
                    "`{}` is a core module: only components have a WIT world",
                    path.display()
                ),
                hint: "`wasmforge inspect FILE` lists a module's imports and exports".into(),
            }
            .into());
        }
        let found = wasmforge_build::wit::component_world(&bytes).unwrap_or_default();
        let wit = inspect::wit_world(&bytes).ok_or_else(|| {
            anyhow::anyhow!(
                "`{}`: the component's world cannot be decoded",
                path.display()
            )
        })?;
        (None, wit, found.imports, found.exports)
    };
    match ctx.format {
        Format::Json => crate::output::print_json(&serde_json::json!({
            "world": world,
            "imports": imports,
            "exports": exports,
            "wit": wit,
        }))?,
        Format::Human => {
            let mut out = anstream::stdout().lock();
            write!(out, "{}", untrusted_lines(&wit))?;
            if !wit.ends_with('\n') {
                writeln!(out)?;
            }
        }
    }
    Ok(ExitStatus::Success)
}
