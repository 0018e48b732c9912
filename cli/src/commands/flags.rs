//! Flags several commands take, declared once and flattened into each (`--target`; the grants
//! and the limits of `run`, `serve` and `dev`). A child command line (`dev` runs its command as
//! `wasmforge run`) is built from the same structs, so a flag cannot be forgotten on the way.

use std::ffi::OsString;
use std::time::Duration;

use wasmforge_build::Target;

use crate::host::grants::{DirGrant, Grants, HostPattern};
use crate::host::limits::{self, Limits, format_duration};

/// `--target`, for every command that builds.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetArgs {
    /// Target: wasip1 (core module, WASI preview 1), wasip2 (WASI 0.2 component) or unknown (bare
    /// module); the triples wasm32-wasip1, wasm32-wasip2, wasm32-unknown-unknown work too
    /// (default: wasmforge.toml's, else wasip1; `serve`: wasip2)
    #[arg(id = "build-target", short = 't', long = "target", value_name = "TARGET", env = "WASMFORGE_TARGET", value_parser = parse_target)]
    pub target: Option<Target>,
}

/// Cargo's feature selection, for every command that builds Rust or judges what a build compiles
/// (`build`, `doctor`): doctor must look at the graph the build will compile.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FeatureArgs {
    /// Features to activate (comma or space separated, repeatable)
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,

    /// Activate all features
    #[arg(long)]
    pub all_features: bool,

    /// Do not activate the `default` feature
    #[arg(long)]
    pub no_default_features: bool,
}

impl FeatureArgs {
    pub fn features(&self) -> wasmforge_build::options::Features {
        wasmforge_build::options::Features {
            features: self
                .features
                .iter()
                .flat_map(|f| f.split([',', ' ']))
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect(),
            all_features: self.all_features,
            no_default_features: self.no_default_features,
        }
    }
}

pub(crate) fn parse_target(s: &str) -> Result<Target, String> {
    s.parse::<Target>().map_err(|e| match e.hint() {
        Some(hint) => format!("{e}\n  hint: {hint}"),
        None => e.to_string(),
    })
}

/// What a guest is given: folders and environment variables (nothing unless asked).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GrantArgs {
    /// Grant a host folder read-write, at GUEST inside the sandbox (default: the same path)
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,

    /// Grant a host folder read-only
    #[arg(long = "dir-ro", value_name = "HOST[::GUEST]")]
    pub dirs_ro: Vec<String>,

    /// Set an environment variable for the guest
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,

    /// Pass this host environment variable through to the guest
    #[arg(long = "env-inherit", value_name = "KEY")]
    pub env_inherit: Vec<String>,
}

pub(crate) fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!(
            "`{text}` is not KEY=VALUE (use --env-inherit KEY to pass a host variable)"
        )),
    }
}

/// The grants and limits of `wasmforge test`, handed to the runs CTest starts through the
/// environment ([`RUNNER_ARGS_VAR`], a JSON list of flags), never written into the test
/// folder: CMake's cache and the launchers hold only the runner itself, so an `--env` value
/// (a token) stays out of files, and new grants need no reconfigure.
#[derive(Debug, Default, clap::Parser)]
#[command(no_binary_name = true)]
pub struct RunnerArgs {
    #[command(flatten)]
    pub grants: GrantArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// See [`RunnerArgs`].
pub const RUNNER_ARGS_VAR: &str = "WASMFORGE_TEST_RUNNER_ARGS";

impl RunnerArgs {
    /// The flags as the variable's value.
    pub fn encode(grants: &GrantArgs, limits: &LimitArgs) -> String {
        let mut args = grants.to_args();
        args.extend(limits.to_args());
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        serde_json::to_string(&args).unwrap_or_default()
    }

    /// The flags from the variable, when it is set.
    pub fn from_env() -> anyhow::Result<Option<RunnerArgs>> {
        let Some(value) = std::env::var_os(RUNNER_ARGS_VAR) else {
            return Ok(None);
        };
        RunnerArgs::decode(&value.to_string_lossy()).map(Some)
    }

    /// The flags from the variable's value.
    fn decode(value: &str) -> anyhow::Result<RunnerArgs> {
        let args: Vec<String> = serde_json::from_str(value)
            .map_err(|e| anyhow::anyhow!("{RUNNER_ARGS_VAR} is not a JSON list of flags: {e}"))?;
        use clap::Parser as _;
        RunnerArgs::try_parse_from(args).map_err(|e| anyhow::anyhow!("{RUNNER_ARGS_VAR}: {e}"))
    }
}

/// What a served guest may reach over HTTP (`serve`, `dev`, an app's services).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HttpArgs {
    /// Allow outgoing HTTP requests to hosts matching PATTERN: api.example.com, *.example.com,
    /// 127.0.0.1:8080, * (anywhere)
    #[arg(long = "allow-http", value_name = "PATTERN")]
    pub allow_http: Vec<HostPattern>,
}

/// A service's grants and limits in an app (`[[app.service]]` keys), read as `serve`'s flags:
/// `dir = ["data"]` is `--dir data`, `timeout = "2s"` is `--timeout 2s`.
#[derive(Debug, Clone, Default, clap::Parser)]
#[command(no_binary_name = true)]
pub struct ServiceFlags {
    #[command(flatten)]
    pub grants: GrantArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

impl ServiceFlags {
    /// The flags a table of keys says (`key = value`, `key = [values]`, `key = true`;
    /// `env = { K = "v" }` too). A key that is not one of the flags is an error listing them.
    pub fn from_table(table: &toml::Table) -> Result<ServiceFlags, String> {
        use clap::{CommandFactory as _, Parser as _};
        let known: Vec<String> = ServiceFlags::command()
            .get_arguments()
            .filter_map(|a| a.get_long().map(str::to_string))
            .collect();
        let scalar = |key: &str, value: &toml::Value| -> Result<String, String> {
            match value {
                toml::Value::String(s) => Ok(s.clone()),
                toml::Value::Integer(n) => Ok(n.to_string()),
                toml::Value::Float(f) => Ok(f.to_string()),
                other => Err(format!(
                    "`{key}` takes strings or numbers, not {}",
                    other.type_str()
                )),
            }
        };
        let mut args: Vec<String> = Vec::new();
        for (key, value) in table {
            if !known.iter().any(|k| k == key) {
                return Err(format!(
                    "`{key}` is not a key of a service; besides name, source, route, host and \
                     calls, its keys are the flags of `serve`: {}",
                    known.join(", ")
                ));
            }
            let flag = format!("--{key}");
            match value {
                toml::Value::Array(items) => {
                    for item in items {
                        args.extend([flag.clone(), scalar(key, item)?]);
                    }
                }
                toml::Value::Table(pairs) if key == "env" => {
                    for (name, item) in pairs {
                        args.extend([flag.clone(), format!("{name}={}", scalar(key, item)?)]);
                    }
                }
                toml::Value::Boolean(true) => args.push(flag),
                toml::Value::Boolean(false) => {}
                other => args.extend([flag, scalar(key, other)?]),
            }
        }
        ServiceFlags::try_parse_from(&args).map_err(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            first.trim_start_matches("error: ").to_string()
        })
    }
}

impl GrantArgs {
    /// Folder grants whose host path is relative are taken as relative to `base` (the folder
    /// of the wasmforge.toml that says them), not to wherever wasmforge runs.
    pub fn relative_to(mut self, base: &std::path::Path) -> GrantArgs {
        let folder = |spec: &String| {
            let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
            if std::path::Path::new(host).is_absolute() {
                spec.clone()
            } else {
                format!("{}::{guest}", base.join(host).display())
            }
        };
        self.dirs = self.dirs.iter().map(folder).collect();
        self.dirs_ro = self.dirs_ro.iter().map(folder).collect();
        self
    }

    /// Adds `other`'s grants to these.
    pub fn extend(&mut self, other: GrantArgs) {
        self.dirs.extend(other.dirs);
        self.dirs_ro.extend(other.dirs_ro);
        self.env.extend(other.env);
        self.env_inherit.extend(other.env_inherit);
    }

    /// The grants these flags ask for (a malformed folder grant is an error naming it).
    pub fn grants(&self) -> anyhow::Result<Grants> {
        let mut grants = Grants::default();
        for spec in &self.dirs {
            grants
                .dirs
                .push(DirGrant::parse(spec, false).map_err(anyhow::Error::msg)?);
        }
        for spec in &self.dirs_ro {
            grants
                .dirs
                .push(DirGrant::parse(spec, true).map_err(anyhow::Error::msg)?);
        }
        grants.env = self.env.clone();
        for key in &self.env_inherit {
            if let Ok(value) = std::env::var(key) {
                grants.env.push((key.clone(), value));
            }
        }
        Ok(grants)
    }

    /// The same flags, for a child's command line.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        for dir in &self.dirs {
            args.extend(["--dir".into(), dir.into()]);
        }
        for dir in &self.dirs_ro {
            args.extend(["--dir-ro".into(), dir.into()]);
        }
        for (key, value) in &self.env {
            args.extend(["--env".into(), format!("{key}={value}").into()]);
        }
        for key in &self.env_inherit {
            args.extend(["--env-inherit".into(), key.into()]);
        }
        args
    }
}

/// What stops a guest (`serve`: a request, with 504 or 500; the server stays up).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitArgs {
    /// Stop the guest after this long (e.g. 500ms, 10s, 2m; at most 7d), even when blocked in a
    /// host call (`serve`: the request gets 504)
    #[arg(long, value_name = "DURATION", value_parser = limits::parse_timeout)]
    pub timeout: Option<Duration>,

    /// Stop the guest after it has used this much fuel (roughly, Wasm instructions; at most
    /// 2^63-1)
    #[arg(long, value_name = "N", value_parser = limits::parse_fuel)]
    pub fuel: Option<u64>,

    /// Most linear memory the guest may have, all its memories together (e.g. 64MiB; at most
    /// 1TiB)
    #[arg(long, value_name = "SIZE", value_parser = limits::parse_max_memory)]
    pub max_memory: Option<u64>,

    /// Most table elements the guest may have, all its tables together (at most 2^32)
    #[arg(long, value_name = "N", value_parser = limits::parse_table_elements)]
    pub max_table_elements: Option<u64>,

    /// The guest's call stack (default Wasmtime's 512KiB; at most 1GiB): deep but finite
    /// recursion (Go's, whose stacks grow natively) traps "call stack exhausted" below its need
    #[arg(long, value_name = "SIZE", value_parser = limits::parse_wasm_stack)]
    pub max_wasm_stack: Option<u64>,
}

impl LimitArgs {
    /// Takes `other`'s limits where these set none.
    pub fn fill_from(&mut self, other: LimitArgs) {
        self.timeout = self.timeout.or(other.timeout);
        self.fuel = self.fuel.or(other.fuel);
        self.max_memory = self.max_memory.or(other.max_memory);
        self.max_table_elements = self.max_table_elements.or(other.max_table_elements);
        self.max_wasm_stack = self.max_wasm_stack.or(other.max_wasm_stack);
    }

    pub fn limits(&self) -> Limits {
        Limits {
            timeout: self.timeout,
            fuel: self.fuel,
            max_memory: self.max_memory,
            max_table_elements: self.max_table_elements,
            max_wasm_stack: self.max_wasm_stack,
        }
    }

    /// The same flags, for a child's command line.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(timeout) = self.timeout {
            args.extend(["--timeout".into(), format_duration(timeout).into()]);
        }
        if let Some(fuel) = self.fuel {
            args.extend(["--fuel".into(), fuel.to_string().into()]);
        }
        if let Some(max) = self.max_memory {
            args.extend(["--max-memory".into(), max.to_string().into()]);
        }
        if let Some(max) = self.max_table_elements {
            args.extend(["--max-table-elements".into(), max.to_string().into()]);
        }
        if let Some(max) = self.max_wasm_stack {
            args.extend(["--max-wasm-stack".into(), max.to_string().into()]);
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn runner_args_cross_the_environment_whole() {
        let both = Both::try_parse_from([
            "x",
            "--dir",
            "/a b::/data",
            "--env",
            "TOKEN=s3cret=x",
            "--timeout",
            "3s",
            "--max-wasm-stack",
            "8MiB",
        ])
        .expect("parse");
        let value = RunnerArgs::encode(&both.grants, &both.limits);
        let back = RunnerArgs::decode(&value).expect("decode");
        assert_eq!(back.grants.dirs, ["/a b::/data"]);
        assert_eq!(
            back.grants.env,
            [("TOKEN".to_string(), "s3cret=x".to_string())]
        );
        assert_eq!(back.limits.timeout, Some(Duration::from_secs(3)));
        assert_eq!(back.limits.max_wasm_stack, Some(8 << 20));
        // What is not a list of flags wasmforge knows is an error naming the variable.
        for bad in ["--dir", "[\"--no-such-flag\"]"] {
            let error = RunnerArgs::decode(bad).expect_err("refused").to_string();
            assert!(error.contains(RUNNER_ARGS_VAR), "{error}");
        }
    }

    #[derive(Debug, clap::Parser)]
    struct Both {
        #[command(flatten)]
        grants: GrantArgs,
        #[command(flatten)]
        limits: LimitArgs,
    }

    #[test]
    fn a_child_command_line_says_what_the_flags_said() {
        let given = [
            "x",
            "--dir",
            "/a::/b",
            "--dir-ro",
            "/c",
            "--env",
            "K=v=w",
            "--env-inherit",
            "HOME",
            "--timeout",
            "1.5s",
            "--fuel",
            "9",
            "--max-memory",
            "64MiB",
            "--max-table-elements",
            "7",
        ];
        let parsed = Both::parse_from(given);
        let mut again: Vec<OsString> = vec!["x".into()];
        again.extend(parsed.grants.to_args());
        again.extend(parsed.limits.to_args());
        let reparsed = Both::parse_from(again);
        assert_eq!(format!("{:?}", parsed), format!("{:?}", reparsed));
        assert_eq!(reparsed.limits.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(reparsed.limits.max_memory, Some(64 << 20));
    }
}
