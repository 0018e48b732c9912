//! The command-line interface: global flags and the list of subcommands.

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands;

/// Build, check, optimise, run and ship WebAssembly from Rust, Go and C projects.
#[derive(Debug, Parser)]
#[command(
    name = "wasmforge",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Examples:\n  wasmforge build                      build the project in this folder for wasm32-wasip1\n  \
     wasmforge build --target wasip2      build a WASI 0.2 component\n  \
     wasmforge build --release --format json\n\nSee `wasmforge <COMMAND> --help` for each command."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Show more: the exact commands run (-v), and more detail (-vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Show only errors and the data asked for
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to use colour (also honours NO_COLOR)
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
    /// Output format of reports on stdout (sarif, github, gitlab: `doctor` only)
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Human, value_name = "FORMAT")]
    pub format: FormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// Every value `--format` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Text for people
    Human,
    /// One JSON document on stdout, for scripts
    Json,
    /// SARIF 2.1.0 (code scanning), doctor only
    Sarif,
    /// GitHub Actions workflow commands (annotations), doctor only
    Github,
    /// GitLab Code Quality report, doctor only
    Gitlab,
    /// doctor: github on GitHub Actions, gitlab on GitLab CI, else human; others: human
    Auto,
}

/// The CI report formats, which only `doctor` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiFormat {
    Sarif,
    Github,
    Gitlab,
}

impl FormatArg {
    /// The everyday format (CI formats print their report on stdout and messages as `human`).
    pub fn base(self) -> Format {
        match self {
            FormatArg::Json => Format::Json,
            _ => Format::Human,
        }
    }

    pub fn ci(self) -> Option<CiFormat> {
        match self {
            FormatArg::Sarif => Some(CiFormat::Sarif),
            FormatArg::Github => Some(CiFormat::Github),
            FormatArg::Gitlab => Some(CiFormat::Gitlab),
            _ => None,
        }
    }

    /// `auto` for doctor: the report format of the CI it runs in, if any.
    pub fn ci_auto(self) -> Option<CiFormat> {
        let set = |var: &str| std::env::var(var).is_ok_and(|v| v == "true");
        match self {
            FormatArg::Auto if set("GITHUB_ACTIONS") => Some(CiFormat::Github),
            FormatArg::Auto if set("GITLAB_CI") => Some(CiFormat::Gitlab),
            other => other.ci(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text for people
    Human,
    /// One JSON document on stdout, for scripts
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    New(commands::new::Args),
    Build(commands::build::Args),
    Run(commands::run::Args),
    Test(commands::test::Args),
    Serve(commands::serve::Args),
    Dev(commands::dev::Args),
    Opt(commands::opt::Args),
    Validate(commands::validate::Args),
    Inspect(commands::inspect::Args),
    Wit(commands::wit::Args),
    Compose(commands::compose::Args),
    Strip(commands::strip::Args),
    Precompile(commands::precompile::Args),
    #[command(subcommand)]
    Cache(commands::cache::CacheCommand),
    Doctor(commands::doctor::Args),
    Push(commands::push::Args),
    Pull(commands::pull::Args),
    Deploy(commands::deploy::Args),
    Login(commands::login::LoginArgs),
    Logout(commands::login::LogoutArgs),
    Explain(commands::explain::Args),
    Completions(commands::completions::Args),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
