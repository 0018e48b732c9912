//! One module per subcommand, each with its `Args` and `run`.

pub mod build;
pub mod completions;

use crate::cli::Command;
use crate::exit::ExitStatus;
use crate::output::Ctx;

pub fn run(command: Command, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Build(args) => build::run(args, ctx),
        Command::Completions(args) => completions::run(args, ctx),
    }
}
