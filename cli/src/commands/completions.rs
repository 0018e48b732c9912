//! `wasmforge completions SHELL`: shell completion scripts.

use std::io::Write as _;

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::exit::ExitStatus;
use crate::output::Ctx;

/// Print a shell completion script
///
/// Examples:
///   wasmforge completions bash > ~/.local/share/bash-completion/completions/wasmforge
///   wasmforge completions zsh > "${fpath[1]}/_wasmforge"
///   wasmforge completions fish > ~/.config/fish/completions/wasmforge.fish
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The shell to generate completions for
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: Args, _ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "wasmforge", &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script)?;
    stdout.flush()?;
    Ok(ExitStatus::Success)
}
