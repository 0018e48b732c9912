//! `wasmforge push`: ship a module or component to an OCI registry or layout folder.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use wasmforge_build::{BuildOptions, Profile};
use wasmforge_registry::manifest::{self, Layout};
use wasmforge_registry::{Ref, layout, remote};

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::output::{Ctx, DIM, human_size};
use crate::reporter::TermReporter;

/// Push a Wasm module or component to an OCI registry (or an `oci:DIR` layout folder)
///
/// Writes the CNCF Wasm OCI artifact (one `application/wasm` layer, config
/// `application/vnd.wasm.config.v0+json`) for core modules and components alike, or with
/// `--layout image` a single-layer `wasi/wasm` OCI image that containerd Wasm shims run.
/// A project folder is built first, in release. The same bytes give the same digest:
/// `created` comes from SOURCE_DATE_EPOCH, else the last git commit. Blobs the registry
/// already has are not uploaded again.
///
/// An app's folder (`[[app.service]]`) is pushed as one artifact: each service built in release
/// (or pulled), its component a layer, the app's description as the config, naming each
/// component by digest; `wasmforge serve REF` serves it.
///
/// Examples:
///   wasmforge push app.wasm ghcr.io/acme/app:1.0
///   wasmforge push . localhost:5000/app --tag 1.0 --tag latest
///   wasmforge push app.wasm oci:out/layout:1.0
///   wasmforge push app.wasm ghcr.io/acme/app:1.0 --layout image
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A .wasm file, a project folder (built in release first), or an app's folder
    #[arg(value_name = "FILE|DIR")]
    input: PathBuf,
    /// Where to: `registry/repository[:tag]`, or `oci:DIR[:TAG]` (default for a project folder:
    /// wasmforge.toml's `[push] reference`, `{version}` being the package's version)
    #[arg(value_name = "REF")]
    reference: Option<String>,
    /// Also tag it (repeatable); the reference's own tag is used when none is given
    #[arg(long = "tag", value_name = "TAG", value_parser = parse_tag)]
    tags: Vec<String>,
    /// A manifest annotation (repeatable), e.g. org.opencontainers.image.version=1.0
    #[arg(long = "annotation", value_name = "KEY=VALUE", value_parser = parse_annotation)]
    annotations: Vec<(String, String)>,
    /// What to write: wasm (the CNCF Wasm artifact) or image (a wasi/wasm OCI image)
    #[arg(long, value_name = "LAYOUT", default_value = "wasm", value_parser = parse_layout)]
    layout: Layout,
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    credentials: Credentials,
}

/// Flags for talking to a registry.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// A registry (host[:port]) to reach over plain HTTP (localhost always is; repeatable)
    #[arg(long = "insecure", value_name = "REGISTRY")]
    pub insecure: Vec<String>,
    /// A CA certificate (PEM) to trust, for registries with a private CA
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

/// Credentials given on the command line (push and pull).
#[derive(Debug, Clone, clap::Args)]
pub struct Credentials {
    /// User name for the registry (with --password-stdin); otherwise WASMFORGE_REGISTRY_*,
    /// then the docker config (`wasmforge login`, credential helpers)
    #[arg(short, long, value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the password or token from stdin
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
}

impl Credentials {
    /// The explicit credentials, then the environment and the docker config for `registry`.
    pub fn resolve(&self, registry: &str, ctx: &Ctx) -> anyhow::Result<remote::Auth> {
        if let Some(username) = &self.username {
            let mut password = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            if password.is_empty() {
                anyhow::bail!("the password read from stdin is empty");
            }
            return Ok(remote::Auth::Basic {
                username: username.clone(),
                password,
            });
        }
        let found = wasmforge_registry::auth::lookup(registry)?;
        if let Some(note) = &found.note {
            ctx.warning(note);
        }
        if ctx.verbose > 0 {
            ctx.status("Credentials", &format!("for {registry}: {}", found.source));
        }
        Ok(found.auth)
    }
}

impl Connection {
    /// Options for talking to a registry with `auth` (anonymous when `None`).
    pub fn options_for(&self, auth: Option<remote::Auth>) -> remote::Options {
        remote::Options {
            insecure: self.insecure.clone(),
            ca_file: self.ca_file.clone(),
            auth: auth.unwrap_or_default(),
            ..remote::Options::default()
        }
    }
}

fn parse_annotation(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

fn parse_layout(s: &str) -> Result<Layout, String> {
    match s {
        "wasm" => Ok(Layout::Wasm),
        "image" => Ok(Layout::Image),
        other => Err(format!("unknown layout `{other}`: use wasm or image")),
    }
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    if !args.input.exists() {
        return Err(wasmforge_build::Error::PathNotFound {
            path: args.input.clone(),
        }
        .into());
    }
    // A reference given is checked before anything is built; one from wasmforge.toml may need
    // the version the build reads.
    let given = args.reference.as_deref().map(Ref::parse).transpose()?;
    if args.input.is_dir()
        && let Some(app) = super::app::load(&args.input)?
    {
        return push_app(&args, app, given, ctx);
    }
    let configured = match &args.reference {
        Some(_) => None,
        None => Some(configured_reference(&args.input)?),
    };
    let (wasm_path, version) = if args.input.is_dir() {
        build_release(&args.input, ctx)?
    } else {
        (args.input.clone(), None)
    };
    let reference = match (given, configured) {
        (Some(reference), _) => reference,
        (None, Some(template)) => expand_reference(&template, version.as_deref())?,
        (None, None) => unreachable!("a reference is given or configured"),
    };
    let wasm = super::read_input(&wasm_path)?;
    let file_name = wasm_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "module.wasm".into());
    let file_name = match file_name.strip_suffix(".wat") {
        Some(stem) => format!("{stem}.wasm"),
        None if file_name.ends_with(".wasm") => file_name,
        None => format!("{file_name}.wasm"),
    };
    let source_dir = wasm_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let (mut annotations, last_commit) = git_facts(&source_dir, &TermReporter::new(ctx));
    let created = wasmforge_registry::time::rfc3339(created_at(last_commit));
    if let Some(version) = version {
        annotations.insert("org.opencontainers.image.version".into(), version);
    }
    annotations.extend(args.annotations.iter().cloned());
    let size = wasm.len() as u64;
    let input = manifest::Input {
        wasm: bytes::Bytes::from(wasm),
        file_name: &file_name,
        created: &created,
        annotations: &annotations,
    };
    let artifact = manifest::build(&input, args.layout)?;

    ctx.status(
        "Pushing",
        &format!("{file_name} ({}) to {reference}", human_size(size)),
    );
    let report = push_to(&reference, &artifact, &args, ctx)?;
    print_report(&report, ctx)?;
    Ok(ExitStatus::Success)
}

/// An app: every service built (release) or pulled, then one artifact holding each service's
/// component as a layer (a component the registry has already is not uploaded again) and, as
/// its config, the app's description with each source replaced by its component's digest.
fn push_app(
    args: &Args,
    app: super::app::AppSpec,
    given: Option<Ref>,
    ctx: &Ctx,
) -> anyhow::Result<ExitStatus> {
    if args.layout != Layout::Wasm {
        return Err(crate::exit::UsageError {
            message: "an app is pushed as one artifact of its services' components; \
                      `--layout image` makes a single-module image"
                .into(),
            hint: "leave out --layout, or push one service's folder with --layout image".into(),
        }
        .into());
    }
    let reference = match given {
        Some(reference) => reference,
        None => expand_reference(&configured_reference(&args.input)?, None)?,
    };
    let mut components = Vec::new();
    let mut config = app.config.clone();
    for (spec, written) in app.services.iter().zip(config.service.iter_mut()) {
        let path = super::app::artifact(spec, Profile::Release, ctx)?;
        let wasm = super::read_input(&path)?;
        written.source = wasmforge_registry::digest_of(&wasm);
        components.push((spec.name.clone(), bytes::Bytes::from(wasm)));
    }
    let (mut annotations, last_commit) = git_facts(&app.dir, &TermReporter::new(ctx));
    let created = wasmforge_registry::time::rfc3339(created_at(last_commit));
    annotations.extend(args.annotations.iter().cloned());
    let config = serde_json::to_vec(&config)?;
    let artifact = manifest::build_app(config, &components, &created, &annotations)?;
    let size: u64 = components.iter().map(|(_, w)| w.len() as u64).sum();
    ctx.status(
        "Pushing",
        &format!(
            "an app of {} services ({}) to {reference}",
            components.len(),
            human_size(size)
        ),
    );
    let report = push_to(&reference, &artifact, args, ctx)?;
    print_report(&report, ctx)?;
    Ok(ExitStatus::Success)
}

/// Writes `artifact` to a layout folder or a registry, under `--tag`s (else the reference's).
fn push_to(
    reference: &Ref,
    artifact: &manifest::Artifact,
    args: &Args,
    ctx: &Ctx,
) -> anyhow::Result<wasmforge_registry::PushReport> {
    Ok(match reference {
        Ref::Layout { dir, tag, .. } => {
            let tags = if args.tags.is_empty() {
                vec![tag.clone()]
            } else {
                args.tags.clone()
            };
            layout::push(dir, &tags, artifact)?
        }
        Ref::Registry(r) => {
            let auth = args.credentials.resolve(r.registry(), ctx)?;
            remote::push(
                r,
                &args.tags,
                artifact,
                &args.connection.options_for(Some(auth)),
            )?
        }
    })
}

/// The references written and the digest on stdout (JSON with --format json).
fn print_report(report: &wasmforge_registry::PushReport, ctx: &Ctx) -> anyhow::Result<()> {
    match ctx.format {
        Format::Json => crate::output::print_json(report)?,
        Format::Human => {
            let mut out = anstream::stdout().lock();
            for r in &report.references {
                writeln!(out, "{r}")?;
            }
            writeln!(out, "{}", report.digest)?;
            drop(out);
            if !ctx.quiet {
                anstream::eprintln!(
                    "{DIM}{} blob(s) uploaded, {} already there{DIM:#}",
                    report.uploaded,
                    report.skipped
                );
            }
        }
    }
    Ok(())
}

/// `[push] reference` of the project at `input` (a folder): the template to push to.
fn configured_reference(input: &Path) -> anyhow::Result<String> {
    let missing = || {
        anyhow::Error::new(crate::exit::UsageError {
            message: "no reference: where should it go?".into(),
            hint: "give one (`wasmforge push PATH ghcr.io/acme/app:1.0`), or set `[push] \
                   reference = \"ghcr.io/acme/app:{version}\"` in the project's wasmforge.toml"
                .into(),
        })
    };
    if !input.is_dir() {
        return Err(missing());
    }
    let config = wasmforge_build::lang::load_config(input)?;
    config.push.reference.ok_or_else(missing)
}

/// A `[push] reference` with `{version}` replaced by the package's version.
fn expand_reference(template: &str, version: Option<&str>) -> anyhow::Result<Ref> {
    let text = if template.contains("{version}") {
        let Some(version) = version else {
            return Err(crate::exit::UsageError {
                message: format!(
                    "wasmforge.toml: [push] reference `{template}` uses {{version}}, and this project has no version"
                ),
                hint: "only Cargo packages have a version: write the tag in the reference, or give REF".into(),
            }
            .into());
        };
        // A SemVer build suffix (`1.0.0+abc`) is not allowed in a tag.
        template.replace("{version}", &version.replace('+', "_"))
    } else {
        template.to_string()
    };
    Ok(Ref::parse(&text)?)
}

fn parse_tag(tag: &str) -> Result<String, String> {
    wasmforge_registry::reference::check_tag(tag)
        .map(|()| tag.to_string())
        .map_err(|why| format!("`{}` is not a tag: {why}", tag.escape_debug()))
}

/// Builds the project in release and returns its one artifact (and the package version).
fn build_release(dir: &Path, ctx: &Ctx) -> anyhow::Result<(PathBuf, Option<String>)> {
    let options = BuildOptions {
        profile: Profile::Release,
        quiet: ctx.quiet,
        color: ctx.color_stderr,
        ..BuildOptions::new(dir)
    };
    let reporter = TermReporter::new(ctx);
    let output = wasmforge_build::build(&options, &reporter)?;
    match output.artifacts.as_slice() {
        [one] => Ok((one.path.clone(), package_version(dir))),
        many => anyhow::bail!(
            "`{}` builds {} artifacts ({}); push one of the files: `wasmforge push FILE REF`",
            dir.display(),
            many.len(),
            many.iter()
                .map(|a| a.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A Rust package's `version` (Cargo.toml), for the `version` annotation.
fn package_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let table: toml::Table = text.parse().ok()?;
    table
        .get("package")?
        .get("version")?
        .as_str()
        .map(str::to_string)
}

/// The repository `dir` is in, if any (no git process runs outside one).
fn in_git_repository(dir: &Path) -> bool {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    dir.ancestors().any(|d| d.join(".git").exists())
}

/// SOURCE_DATE_EPOCH, else the last commit's time, else now.
fn created_at(last_commit: Option<i64>) -> i64 {
    if let Some(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
    {
        return epoch;
    }
    last_commit.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    })
}

fn git(dir: &Path, args: &[&str], reporter: &dyn wasmforge_build::Reporter) -> Option<String> {
    let out = wasmforge_build::process::Tool::new("git", "")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output(reporter)
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

/// `source` (the origin remote as an https URL, credentials removed) and `revision`, and the
/// last commit's time, from two git calls (none outside a repository).
fn git_facts(
    dir: &Path,
    reporter: &dyn wasmforge_build::Reporter,
) -> (BTreeMap<String, String>, Option<i64>) {
    let mut out = BTreeMap::new();
    if !in_git_repository(dir) {
        return (out, None);
    }
    let mut time = None;
    if let Some(line) = git(dir, &["log", "-1", "--format=%H %ct"], reporter)
        && let Some((revision, ct)) = line.split_once(' ')
    {
        out.insert(
            "org.opencontainers.image.revision".into(),
            revision.to_string(),
        );
        time = ct.trim().parse().ok();
    }
    if let Some(url) =
        git(dir, &["config", "--get", "remote.origin.url"], reporter).map(|u| public_url(&u))
    {
        out.insert("org.opencontainers.image.source".into(), url);
    }
    (out, time)
}

/// `git@github.com:acme/app.git` → `https://github.com/acme/app`; `https://user:token@host/x` →
/// `https://host/x` (a token in a remote URL must never reach a registry).
fn public_url(url: &str) -> String {
    let url = url.trim().trim_end_matches(".git");
    if let Some(rest) = url.strip_prefix("git@")
        && let Some((host, path)) = rest.split_once(':')
    {
        return format!("https://{host}/{path}");
    }
    if let Some((scheme, rest)) = url.split_once("://") {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
        let scheme = if scheme == "ssh" || scheme == "git" {
            "https"
        } else {
            scheme
        };
        return format!("{scheme}://{rest}");
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_urls_are_public() {
        assert_eq!(
            public_url("git@github.com:acme/app.git"),
            "https://github.com/acme/app"
        );
        assert_eq!(
            public_url("https://ci:ghp_secret@github.com/acme/app.git"),
            "https://github.com/acme/app"
        );
        assert_eq!(
            public_url("ssh://git@gitlab.com/acme/app"),
            "https://gitlab.com/acme/app"
        );
        assert_eq!(
            public_url("https://github.com/acme/app"),
            "https://github.com/acme/app"
        );
    }
}
