//! `wasmforge compose`: plug components' exports into another component's imports.

use std::io::Write as _;
use std::path::PathBuf;

use wasmforge_build::compose::{self, Input};

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::output::{Ctx, human_size, untrusted};

/// Plug components' exports into another component's imports
///
/// Each export of a plug that HOST imports (the same interface, at a compatible version) is
/// wired to it, as `wac plug` does; the result exports what HOST exports. An import that
/// neither a plug nor the runtime (WASI) provides is an error unless --allow-imports. The
/// result is validated before it is written.
///
/// Examples:
///   wasmforge compose host.wasm --plug plugin.wasm -o app.wasm && wasmforge run app.wasm
///   wasmforge compose host.wasm --plug a.wasm --plug b.wasm --allow-imports
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The component whose imports are plugged (a .wasm or .wat component)
    #[arg(value_name = "HOST")]
    host: PathBuf,
    /// A component whose exports plug HOST's imports (repeatable)
    #[arg(long = "plug", value_name = "PLUG", required = true)]
    plugs: Vec<PathBuf>,
    /// Where to write the composition (default: HOST.composed.wasm beside HOST)
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Leave imports nothing provides as imports of the result (for a host that provides them)
    #[arg(long)]
    allow_imports: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let read = |path: &PathBuf| -> anyhow::Result<Input> {
        Ok(Input {
            path: path.clone(),
            bytes: super::read_input(path)?,
        })
    };
    let host = read(&args.host)?;
    let plugs = args
        .plugs
        .iter()
        .map(read)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let composed = compose::compose(host, plugs, args.allow_imports)?;
    let output = args
        .output
        .unwrap_or_else(|| compose::default_output(&args.host));
    super::write_binary(&output, &composed.bytes)?;
    match ctx.format {
        Format::Json => crate::output::print_json(&serde_json::json!({
            "output": output,
            "size": composed.bytes.len(),
            "plugged": composed.plugged.iter().map(|(import, plug)| serde_json::json!({"import": import, "plug": plug})).collect::<Vec<_>>(),
            "imports": composed.imports,
            "exports": composed.exports,
        }))?,
        Format::Human => {
            for (import, plug) in &composed.plugged {
                ctx.status(
                    "Plugged",
                    &format!(
                        "{} ← {}",
                        untrusted(import),
                        untrusted(&plug.display().to_string())
                    ),
                );
            }
            let left: Vec<String> = composed
                .imports
                .iter()
                .filter(|n| !compose::runtime_provides(n))
                .map(|n| untrusted(n).into_owned())
                .collect();
            if !left.is_empty() {
                ctx.warning(&format!(
                    "left as imports (--allow-imports): {}",
                    left.join(", ")
                ));
            }
            ctx.status(
                "Composed",
                &format!(
                    "{} ({}; exports {})",
                    output.display(),
                    human_size(composed.bytes.len() as u64),
                    composed
                        .exports
                        .iter()
                        .map(|e| untrusted(e).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            let mut out = anstream::stdout().lock();
            writeln!(out, "{}", output.display())?;
        }
    }
    Ok(ExitStatus::Success)
}
