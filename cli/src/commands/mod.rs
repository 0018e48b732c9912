//! One module per subcommand, each with its `Args` and `run`.

pub mod build;
pub mod cache;
pub mod completions;
pub mod precompile;
pub mod run;

use crate::cli::Command;
use crate::exit::ExitStatus;
use crate::output::Ctx;

pub fn run(command: Command, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Build(args) => build::run(args, ctx),
        Command::Run(args) => run::run(args, ctx),
        Command::Precompile(args) => precompile::run(args, ctx),
        Command::Cache(command) => cache::run(command, ctx),
        Command::Completions(args) => completions::run(args, ctx),
    }
}
