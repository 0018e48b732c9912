//! `wasmforge login` / `logout`: registry credentials, kept where docker keeps them.

use std::io::{IsTerminal as _, Read as _};

use wasmforge_registry::{auth, remote};

use crate::exit::ExitStatus;
use crate::output::Ctx;

/// Log in to a registry: check the credentials against it, then store them
///
/// They go where docker keeps them: the registry's credential helper (`credHelpers`), the
/// default store (`credsStore`), or `auths` in ~/.docker/config.json ($DOCKER_CONFIG). push and
/// pull find them there, as do docker, skopeo and oras. The password is read from stdin (never
/// from a flag, where it would land in shell history and process lists).
///
/// Examples:
///   echo "$GITHUB_TOKEN" | wasmforge login ghcr.io -u octocat --password-stdin
///   wasmforge login localhost:5000 -u ci --password-stdin < password.txt
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct LoginArgs {
    /// The registry (host[:port]), e.g. ghcr.io or localhost:5000
    #[arg(value_name = "REGISTRY")]
    registry: String,
    /// User name (default: WASMFORGE_REGISTRY_USERNAME)
    #[arg(short, long, value_name = "USER")]
    username: Option<String>,
    /// Read the password or token from stdin
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    connection: super::push::Connection,
}

/// Log out of a registry: remove its stored credentials
///
/// Examples:
///   wasmforge logout ghcr.io
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct LogoutArgs {
    /// The registry (host[:port])
    #[arg(value_name = "REGISTRY")]
    registry: String,
}

pub fn login(args: LoginArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let username = args
        .username
        .clone()
        .or_else(|| std::env::var("WASMFORGE_REGISTRY_USERNAME").ok())
        .filter(|u| !u.is_empty());
    let Some(username) = username else {
        anyhow::bail!("no user name: pass `--username USER` (or set WASMFORGE_REGISTRY_USERNAME)");
    };
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text.trim_end_matches(['\n', '\r']).to_string()
    } else if let Ok(password) = std::env::var("WASMFORGE_REGISTRY_PASSWORD") {
        // Login names its registry; a password WASMFORGE_REGISTRY ties to another one stays
        // where it belongs.
        if let Ok(meant) = std::env::var("WASMFORGE_REGISTRY")
            && !meant.trim().is_empty()
            && auth::normalize(&meant) != auth::normalize(&args.registry)
        {
            anyhow::bail!(
                "WASMFORGE_REGISTRY_PASSWORD is for {}, not {}: pass this registry's password with --password-stdin",
                auth::normalize(&meant),
                auth::normalize(&args.registry)
            );
        }
        password
    } else if std::io::stdin().is_terminal() {
        anyhow::bail!(
            "no password: pipe it in with --password-stdin (`echo \"$TOKEN\" | wasmforge login {} -u {username} --password-stdin`)",
            args.registry
        );
    } else {
        anyhow::bail!(
            "no password: pass --password-stdin and write it to stdin, or set WASMFORGE_REGISTRY_PASSWORD"
        );
    };
    if password.is_empty() {
        anyhow::bail!("the password read from stdin is empty");
    }
    let registry = auth::normalize(&args.registry);
    if registry.is_empty() {
        anyhow::bail!("`{}` is not a registry name (host[:port])", args.registry);
    }
    let mut options = args.connection.options_for(None);
    options.auth = remote::Auth::Basic {
        username: username.clone(),
        password: password.clone(),
    };
    let check = if registry == "index.docker.io" {
        "registry-1.docker.io".to_string()
    } else {
        registry.clone()
    };
    remote::check_credentials(&check, &options)?;
    let place = auth::store(&args.registry, &username, &password)?;
    ctx.status(
        "Logged in",
        &format!("to {registry} as {username} (stored in {place})"),
    );
    Ok(ExitStatus::Success)
}

pub fn logout(args: LogoutArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let registry = auth::normalize(&args.registry);
    if auth::erase(&args.registry)? {
        ctx.status("Logged out", &format!("of {registry}"));
    } else {
        ctx.status(
            "Logged out",
            &format!("of {registry} (no credentials were stored)"),
        );
    }
    Ok(ExitStatus::Success)
}
