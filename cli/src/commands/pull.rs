//! `wasmforge pull`: fetch a module or component from an OCI registry or layout folder.

use std::io::Write as _;
use std::path::PathBuf;

use wasmforge_registry::{Ref, layout, remote};

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::output::{Ctx, human_size, untrusted};

/// Pull a Wasm module or component from an OCI registry (or an `oci:DIR` layout folder)
///
/// Accepts the CNCF Wasm artifact, the legacy Spin/wash layer types, `wasi/wasm` images and
/// image indexes (the `wasi/wasm` entry). Every manifest and blob is checked against its
/// digest before anything is written; the file is written atomically.
///
/// Examples:
///   wasmforge pull ghcr.io/acme/app:1.0
///   wasmforge pull localhost:5000/app:1.0 -o app.wasm
///   wasmforge pull oci:out/layout:1.0 -o app.wasm
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// `registry/repository[:tag][@sha256:…]`, or `oci:DIR[:TAG]`
    #[arg(value_name = "REF")]
    reference: String,
    /// Where to write the module (default: the repository's last name + .wasm, here)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The largest module (or decompressed image layer) to accept (at most 64GiB); manifests are
    /// capped at 4 MiB
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = crate::host::limits::parse_file_size)]
    max_size: u64,
    #[command(flatten)]
    connection: super::push::Connection,
    #[command(flatten)]
    credentials: super::push::Credentials,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let reference = Ref::parse(&args.reference)?;
    let (wasm, report) = match &reference {
        Ref::Layout { dir, tag, digest } => {
            layout::pull(dir, tag, digest.as_deref(), args.max_size)?
        }
        Ref::Registry(r) => {
            let auth = args.credentials.resolve(r.registry(), ctx)?;
            let options = remote::Options {
                max_size: args.max_size,
                ..args.connection.options_for(Some(auth))
            };
            remote::pull(r, &options)?
        }
    };
    let output = args.output.clone().unwrap_or_else(|| {
        let name = match &reference {
            Ref::Registry(r) => r
                .repository()
                .rsplit('/')
                .next()
                .unwrap_or("module")
                .to_string(),
            Ref::Layout { dir, .. } => dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "module".into()),
        };
        PathBuf::from(format!("{name}.wasm"))
    });
    super::write_binary(&output, &wasm)?;
    match ctx.format {
        Format::Json => crate::output::print_json(&serde_json::json!({
            "path": output,
            "reference": report.reference,
            "digest": report.digest,
            "layer_media_type": report.layer_media_type,
            "size": report.size,
            "sha256": report.sha256,
        }))?,
        Format::Human => {
            ctx.status(
                "Pulled",
                &format!(
                    "{} ({})",
                    untrusted(&report.reference),
                    untrusted(&report.digest)
                ),
            );
            writeln!(
                anstream::stdout().lock(),
                "{} ({})",
                output.display(),
                human_size(report.size)
            )?;
        }
    }
    Ok(ExitStatus::Success)
}
