//! Apps: several HTTP services in one process (`[[app.service]]` in wasmforge.toml), served by
//! `serve APPDIR` and `dev APPDIR`, pushed by `push APPDIR`.
//!
//! Loading checks the whole app before anything is built: names (DNS labels, once each), routes
//! (one service per route), the services each may call (known ones, no cycle), and each
//! service's grants and limits, which are `serve`'s own flags ([`ServiceFlags`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use wasmforge_build::Profile;
use wasmforge_build::config::{AppConfig, Config, ServiceConfig};

use super::flags::ServiceFlags;
use super::serve::ServeArgs;
use crate::host::http::{self, Route, Service, Settings};
use crate::output::Ctx;

/// An app as its wasmforge.toml describes it, checked.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// The app's folder (sources are relative to it).
    pub dir: PathBuf,
    pub services: Vec<ServiceSpec>,
    pub max_call_depth: u32,
    /// As written (a push stores it, each source replaced by its component's digest).
    pub config: AppConfig,
}

#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    pub source: Source,
    pub route: Route,
    pub calls: Vec<String>,
    pub flags: ServiceFlags,
}

/// Where a service's component comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A project folder: built.
    Project(PathBuf),
    /// A component file.
    File(PathBuf),
    /// An OCI reference: pulled (the file is named by its digest).
    Oci(wasmforge_registry::Ref),
}

/// The app in `dir`'s wasmforge.toml; `None` when it describes no app.
pub fn load(dir: &Path) -> anyhow::Result<Option<AppSpec>> {
    let config = Config::load(dir)?;
    if !config.app.is_app() {
        return Ok(None);
    }
    let file = dir.join(wasmforge_build::config::FILE_NAME);
    from_app(dir, dir, &config.app)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

/// The keys of a service that reach the host: a pulled app may not give them to itself.
const HOST_GRANTS: &[&str] = &["dir", "dir-ro", "env-inherit", "allow-http"];

/// A pulled app: its config (JSON, as `push` stored it) with each service's component at the
/// path given, in order. What reaches past the sandbox — host folders, host variables, outgoing
/// HTTP — is what whoever serves it grants (on the command line), never what the artifact asks
/// for: those keys are dropped, and said (the second value: one line per service that asked).
pub fn pulled(
    config: &[u8],
    components: &[PathBuf],
    reference: &str,
) -> anyhow::Result<(AppSpec, Vec<String>)> {
    let bad = |why: String| anyhow::anyhow!("the app at `{reference}` cannot be served: {why}");
    let mut app: AppConfig = serde_json::from_slice(config)
        .map_err(|e| bad(format!("its config is not an app's ({e})")))?;
    if app.service.len() != components.len() {
        return Err(bad(format!(
            "its config lists {} services and it holds {} components",
            app.service.len(),
            components.len()
        )));
    }
    let mut asked = Vec::new();
    for (service, path) in app.service.iter_mut().zip(components) {
        service.source = path.display().to_string();
        let mut flags = Vec::new();
        for key in HOST_GRANTS {
            if let Some(value) = service.flags.remove(*key) {
                let values = match value {
                    toml::Value::Array(items) => items,
                    other => vec![other],
                };
                for v in values {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    flags.push(format!("--{key} {}", crate::output::untrusted(&text)));
                }
            }
        }
        if !flags.is_empty() {
            asked.push(format!(
                "service `{}` of `{reference}` asks for {}: a pulled app is not given host \
                 folders, host variables or outgoing HTTP by itself; grant them on the command \
                 line (they apply to every service)",
                service.name,
                flags.join(", ")
            ));
        }
    }
    let here = std::env::current_dir()?;
    let dir = components
        .first()
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.clone());
    let spec = from_app(&dir, &here, &app).map_err(bad)?;
    Ok((spec, asked))
}

/// `dir`: where sources are; `grants_base`: what relative folder grants are relative to.
fn from_app(dir: &Path, grants_base: &Path, config: &AppConfig) -> Result<AppSpec, String> {
    let max_call_depth = config
        .max_call_depth
        .unwrap_or(http::DEFAULT_MAX_CALL_DEPTH);
    if !(1..=64).contains(&max_call_depth) {
        return Err(format!(
            "`[app] max-call-depth = {max_call_depth}`: give a number from 1 to 64"
        ));
    }
    let mut services: Vec<ServiceSpec> = Vec::new();
    for service in &config.service {
        let spec = service_spec(dir, grants_base, service)
            .map_err(|e| format!("[[app.service]] `{}`: {e}", service.name))?;
        if services.iter().any(|s| s.name == spec.name) {
            return Err(format!(
                "two services are named `{}`: each service needs a name of its own",
                spec.name
            ));
        }
        if let Some(other) = services
            .iter()
            .find(|s| s.route != Route::default() && s.route == spec.route)
        {
            return Err(format!(
                "services `{}` and `{}` both have the route `{}`: a request could go to either; \
                 give one another `route` (or `host`)",
                other.name,
                spec.name,
                spec.route.describe()
            ));
        }
        services.push(spec);
    }
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    for service in &services {
        for called in &service.calls {
            if !names.contains(&called.as_str()) {
                return Err(format!(
                    "service `{}` calls `{called}`, which is not a service of this app (its \
                     services: {})",
                    service.name,
                    names.join(", ")
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(&services) {
        return Err(format!(
            "the calls services may make go round in a cycle: {}; a request could go round it \
             until the chain's bound stops it — remove one of these calls",
            cycle.join(" \u{2192} ")
        ));
    }
    if services.iter().all(|s| s.route == Route::default()) {
        return Err(
            "no service has a `route` or a `host`: nothing would answer a client; give the \
             service that faces clients `route = \"/\"`"
                .into(),
        );
    }
    Ok(AppSpec {
        dir: dir.to_path_buf(),
        services,
        max_call_depth,
        config: config.clone(),
    })
}

/// A DNS label (RFC 1123, as Kubernetes names are): lower-case letters, digits and `-`, at most
/// 63, starting and ending with a letter or digit.
pub(crate) fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn service_spec(
    dir: &Path,
    grants_base: &Path,
    service: &ServiceConfig,
) -> Result<ServiceSpec, String> {
    let name = service.name.as_str();
    if !is_dns_label(name) {
        return Err(format!(
            "`{name}` is not a service name: use lowercase letters, digits and `-` (other \
             services call it at http://NAME.internal/)"
        ));
    }
    let prefix = match &service.route {
        None => None,
        Some(route) => {
            if !route.starts_with('/') || route.contains(['?', '#', ' ']) {
                return Err(format!(
                    "route `{route}` is not a path prefix: write it like \"/users\" (or \"/\" for \
                     every path)"
                ));
            }
            let trimmed = route.trim_end_matches('/');
            Some(if trimmed.is_empty() { "/" } else { trimmed }.to_string())
        }
    };
    let host = match &service.host {
        None => None,
        Some(host) => {
            let lower = host.to_ascii_lowercase();
            if lower.is_empty() || lower.contains(['/', ':', ' ']) {
                return Err(format!(
                    "host `{host}` is not a host name: write it like \"api.example.com\" (no \
                     scheme, no port)"
                ));
            }
            Some(lower)
        }
    };
    let flags = ServiceFlags::from_table(&service.flags)?;
    let flags = ServiceFlags {
        grants: flags.grants.relative_to(grants_base),
        ..flags
    };
    let text = service.source.as_str();
    let local = dir.join(text);
    let source = if local.is_dir() {
        Source::Project(local)
    } else if super::run::looks_like_path(text) || local.exists() {
        if !local.is_file() {
            return Err(format!("source `{text}`: there is no such file or folder"));
        }
        Source::File(local)
    } else if let Some(reference) = super::run::as_reference(Path::new(text)) {
        Source::Oci(reference)
    } else {
        return Err(format!(
            "source `{text}` is not a project folder, a .wasm file or an OCI reference \
             (registry/repository:tag)"
        ));
    };
    Ok(ServiceSpec {
        name: name.to_string(),
        source,
        route: Route { prefix, host },
        calls: service.calls.clone(),
        flags,
    })
}

/// A cycle of allowed calls (`a → b → a`), if there is one.
fn find_cycle(services: &[ServiceSpec]) -> Option<Vec<String>> {
    let calls: BTreeMap<&str, &[String]> = services
        .iter()
        .map(|s| (s.name.as_str(), s.calls.as_slice()))
        .collect();
    // 0: not seen, 1: on the current path, 2: done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        name: &'a str,
        calls: &BTreeMap<&'a str, &'a [String]>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(name, 1);
        path.push(name);
        for next in calls.get(name).copied().unwrap_or_default() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let from = path.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[from..].iter().map(|n| n.to_string()).collect();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(2) => {}
                _ => {
                    if let Some(cycle) = visit(next.as_str(), calls, state, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        state.insert(name, 2);
        None
    }
    for service in services {
        if !state.contains_key(service.name.as_str())
            && let Some(cycle) = visit(&service.name, &calls, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

impl AppSpec {
    /// Every service's limits, with the command line's where the service sets none.
    pub fn limits(&self, cli: &ServeArgs) -> Vec<crate::host::limits::Limits> {
        self.services
            .iter()
            .map(|s| {
                let mut limits = s.flags.limits.clone();
                limits.fill_from(cli.limits.clone());
                limits.limits()
            })
            .collect()
    }

    /// Instances one request may hold at once: its service and each service down its longest
    /// chain of calls.
    pub fn instances_per_request(&self) -> u32 {
        let services = u32::try_from(self.services.len()).unwrap_or(u32::MAX);
        services.min(self.max_call_depth.saturating_add(1)).max(1)
    }

    /// The service called `name`.
    #[cfg(test)]
    fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// Builds (a project), pulls (an OCI reference) or finds (a file) one service's component.
pub fn artifact(spec: &ServiceSpec, profile: Profile, ctx: &Ctx) -> anyhow::Result<PathBuf> {
    match &spec.source {
        Source::Project(dir) => {
            let built = super::serve::build_project(
                dir,
                None,
                Some(wasmforge_build::Target::Wasip2),
                profile,
                None,
                None,
                ctx,
            )
            .with_context(|| format!("building service `{}` ({})", spec.name, dir.display()))?;
            Ok(built.path)
        }
        Source::File(path) => Ok(path.clone()),
        Source::Oci(reference) => super::run::pull_to_cache(reference, ctx)
            .with_context(|| format!("pulling service `{}`", spec.name)),
    }
}

/// One service's settings: its grants (its own and the command line's) and limits (its own,
/// else the command line's), checked (granted folders exist).
fn settings(spec: &ServiceSpec, cli: &ServeArgs, ctx: &Ctx) -> anyhow::Result<Settings> {
    let mut grants = spec.flags.grants.clone();
    grants.extend(cli.grants.clone());
    let mut limits = spec.flags.limits.clone();
    limits.fill_from(cli.limits.clone());
    let mut allow_http = spec.flags.http.allow_http.clone();
    allow_http.extend(cli.http.allow_http.iter().cloned());
    let settings = Settings {
        grants: grants
            .grants()
            .with_context(|| format!("service `{}`", spec.name))?,
        allow_http,
        limits: limits.limits(),
        ..cli.settings(ctx)?
    };
    settings
        .grants
        .builder(&[], crate::host::grants::Blocking::OffTheExecutor)
        .with_context(|| format!("service `{}`", spec.name))?;
    Ok(settings)
}

/// Loads (compiles, or takes from the cache) one service's component at `path`.
pub fn component(
    engine: &wasmtime::Engine,
    spec: &ServiceSpec,
    path: &Path,
    cli: &ServeArgs,
    loaded: Option<&mut super::serve::Loaded>,
    ctx: &Ctx,
) -> anyhow::Result<http::App> {
    let settings = settings(spec, cli, ctx)?;
    super::serve::load_app(engine, path, &settings, !cli.no_cache, loaded, ctx)
        .with_context(|| format!("service `{}` ({})", spec.name, path.display()))
}

/// Loads one service for serving: its component, grants and limits.
fn service(
    engine: &wasmtime::Engine,
    spec: &ServiceSpec,
    path: &Path,
    cli: &ServeArgs,
    loaded: &mut super::serve::Loaded,
    ctx: &Ctx,
) -> anyhow::Result<Service> {
    let settings = settings(spec, cli, ctx)?;
    let app = component(engine, spec, path, cli, Some(loaded), ctx)?;
    Ok(Service::new(
        &spec.name,
        spec.route.clone(),
        spec.calls.clone(),
        settings.grants,
        settings.allow_http,
        settings.limits,
        app,
    ))
}

/// The service whose project folder holds `changed` (for `dev`).
pub fn owner_of<'a>(app: &'a AppSpec, changed: &Path) -> Option<&'a ServiceSpec> {
    app.services.iter().find(|s| match &s.source {
        Source::Project(dir) => std::path::absolute(dir).is_ok_and(|dir| changed.starts_with(dir)),
        _ => false,
    })
}

/// Builds or pulls every service, loads them and returns the server (not yet listening).
pub fn server(
    app: &AppSpec,
    cli: &ServeArgs,
    profile: Profile,
    ctx: &Ctx,
) -> anyhow::Result<(Arc<http::Server>, Vec<PathBuf>)> {
    let mut settings = cli.settings(ctx)?;
    let limits = app.limits(cli);
    let engine = http::engine(
        &http::widest_limits(&limits),
        settings.max_concurrency,
        app.instances_per_request(),
    )?;
    settings.max_connections = http::connection_limit(&settings)?;
    let mut paths = Vec::new();
    for spec in &app.services {
        paths.push(artifact(spec, profile.clone(), ctx)?);
    }
    let mut services = Vec::new();
    let mut loaded = super::serve::Loaded::new();
    for (spec, path) in app.services.iter().zip(&paths) {
        services.push(service(&engine, spec, path, cli, &mut loaded, ctx)?);
    }
    Ok((
        http::Server::new_app(engine, services, app.max_call_depth, settings),
        paths,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(text: &str) -> Result<AppSpec, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.wasm"), b"\0asm").expect("write");
        std::fs::write(dir.path().join("wasmforge.toml"), text).expect("write");
        let config = Config::load(dir.path()).map_err(|e| {
            format!(
                "{e}: {}",
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            )
        })?;
        from_app(dir.path(), dir.path(), &config.app)
    }

    const TWO: &str = r#"
[[app.service]]
name = "gateway"
source = "a.wasm"
route = "/"
calls = ["users"]
timeout = "2s"
env = { LEVEL = "debug" }
dir-ro = ["data::/data"]
[[app.service]]
name = "users"
source = "a.wasm"
route = "/users/"
max-memory = "64MiB"
allow-http = ["api.example.com"]
"#;

    #[test]
    fn a_service_reads_its_grants_and_limits_as_serve_flags() {
        let app = app(TWO).expect("valid");
        assert_eq!(app.max_call_depth, http::DEFAULT_MAX_CALL_DEPTH);
        let gateway = app.service("gateway").expect("gateway");
        assert_eq!(
            gateway.flags.limits.timeout,
            Some(std::time::Duration::from_secs(2))
        );
        assert_eq!(gateway.flags.grants.env, [("LEVEL".into(), "debug".into())]);
        assert!(gateway.flags.grants.dirs_ro[0].ends_with("/data::/data"));
        assert!(std::path::Path::new(&gateway.flags.grants.dirs_ro[0]).is_absolute());
        let users = app.service("users").expect("users");
        assert_eq!(users.route.prefix.as_deref(), Some("/users"));
        assert_eq!(users.flags.limits.max_memory, Some(64 << 20));
        assert_eq!(users.flags.http.allow_http.len(), 1);
        assert_eq!(app.instances_per_request(), 2);
    }

    #[test]
    fn a_bad_app_is_refused_naming_both_sides() {
        let service = |name: &str, route: &str, calls: &str| {
            format!(
                "[[app.service]]\nname = \"{name}\"\nsource = \"a.wasm\"\n{route}calls = [{calls}]\n"
            )
        };
        for (text, says) in [
            (
                service("a", "route = \"/x\"\n", "") + &service("b", "route = \"/x/\"\n", ""),
                "services `a` and `b` both have the route `/x`",
            ),
            (
                service("a", "route = \"/\"\n", "") + &service("a", "route = \"/b\"\n", ""),
                "two services are named `a`",
            ),
            (
                service("a", "route = \"/\"\n", "\"nope\""),
                "service `a` calls `nope`, which is not a service of this app",
            ),
            (
                service("a", "route = \"/\"\n", "\"b\"")
                    + &service("b", "", "\"c\"")
                    + &service("c", "", "\"a\""),
                "cycle: a \u{2192} b \u{2192} c \u{2192} a",
            ),
            (
                service("a", "route = \"/\"\n", "\"a\""),
                "cycle: a \u{2192} a",
            ),
            (service("a", "", ""), "no service has a `route`"),
            (
                service("A_b", "route = \"/\"\n", ""),
                "`A_b` is not a service name",
            ),
            (service("a", "route = \"x\"\n", ""), "is not a path prefix"),
            (
                service("a", "route = \"/\"\n", "") + "timeouts = \"1s\"\n",
                "`timeouts` is not a key of a service",
            ),
            (
                service("a", "route = \"/\"\n", "") + "timeout = \"soon\"\n",
                "--timeout",
            ),
            (
                "[app]\nmax-call-depth = 0\n".to_string() + &service("a", "route = \"/\"\n", ""),
                "give a number from 1 to 64",
            ),
        ] {
            let error = app(&text).expect_err(&text);
            assert!(error.contains(says), "{text}\n→ {error}");
        }
    }
}
