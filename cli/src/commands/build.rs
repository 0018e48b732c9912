//! `wasmforge build`: compile a project to WebAssembly and report the artifacts.

use std::io::Write as _;
use std::path::PathBuf;

use wasmforge_build::project::Lang;
use wasmforge_build::wasm::optimize::Level;
use wasmforge_build::{ArtifactKind, BuildOptions, BuildOutput, OptChoice, Profile};

use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::output::{BOLD, Ctx, DIM, human_size};
use crate::reporter::TermReporter;

/// Compile a project to WebAssembly
///
/// Detects the project in PATH (default: the current folder): Rust (Cargo.toml), Go (go.mod) or
/// C (CMakeLists.txt, a Makefile or .c files). Checks that the toolchain can build the target,
/// compiles, and prints where each .wasm is, its size and its sha256. Artifacts land in
/// <target-dir>/wasmforge/<target>/<profile>/<name>.wasm (Go and C: <project>/target/...).
///
/// Rust binaries become command modules (with `_start`) and `cdylib` libraries become library
/// modules; Go and C build a command unless `--kind library` (or wasmforge.toml) says so.
///
/// Examples:
///   wasmforge build
///   wasmforge build examples/hello-rust --target wasip2 --release
///   wasmforge build -p app --bin server -F metrics
///   wasmforge build examples/hello-go --target wasip2
///   wasmforge build examples/hello-c --toolchain zig --release
///   wasmforge build --format json -- --config 'profile.dev.debug=0'
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Project folder or manifest (default: current folder)
    #[arg(value_name = "PATH")]
    path: Option<PathBuf>,

    #[command(flatten)]
    target: super::flags::TargetArgs,

    /// Language of the project, when the folder holds more than one (rust, go, c)
    #[arg(long, value_name = "LANG")]
    lang: Option<Lang>,

    /// What to build for Go and C projects: a command (with `_start`) or a library (exports)
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    kind: Option<ArtifactKind>,

    /// Toolchain of the language: go or tinygo for Go; wasi-sdk, clang or zig for C
    #[arg(long, value_name = "NAME")]
    toolchain: Option<String>,

    /// Parallel compile jobs (cargo --jobs, go build -p, C compiles; default: one per core; at
    /// most 1024)
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: Option<u16>,

    /// Build with the release profile (optimized with -Oz and validated, unless told otherwise)
    #[arg(short, long, conflicts_with = "profile")]
    release: bool,

    /// Optimize with Binaryen at this level: O1, O2, O3, O4, Os, Oz, or none (release default: Oz;
    /// WASMFORGE_OPT sets it when neither --opt nor --no-opt is given)
    #[arg(long, value_name = "LEVEL", value_parser = parse_opt, conflicts_with = "no_opt")]
    opt: Option<OptChoice>,

    /// Do not optimize, not even a release build
    #[arg(long)]
    no_opt: bool,

    /// With --release: the smallest artifact the toolchain allows, trading run speed for it
    /// (Rust opt-level "z", fat LTO, one codegen unit, panic "abort"; C -Oz with LTO; Binaryen
    /// -Oz --converge; names stripped). Also `[build] size = true`
    #[arg(long)]
    size: bool,

    /// Compile with WebAssembly SIMD (128-bit vectors: C `-msimd128`, Rust `+simd128`); every
    /// current engine runs it. Go has none. Also `[build] simd = true`
    #[arg(long)]
    simd: bool,

    /// Custom sections to drop, with cargo's names: none, debuginfo (DWARF; the release
    /// default), symbols (DWARF and the name section; the --size default). Also `[build] strip`
    #[arg(long, value_name = "LEVEL", value_parser = parse_strip)]
    strip: Option<wasmforge_build::wasm::strip::Level>,

    /// Skip the source checks (dependency graph, headers, Go imports): the compiler decides.
    /// Missing targets and toolchains are still checked
    #[arg(long)]
    no_checks: bool,

    /// Build with the named profile
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,

    /// Package to build (repeatable); for Go, the main package (e.g. ./cmd/server)
    #[arg(short, long = "package", value_name = "SPEC")]
    packages: Vec<String>,

    /// Binary to build (repeatable)
    #[arg(long = "bin", value_name = "NAME")]
    bins: Vec<String>,

    #[command(flatten)]
    features: super::flags::FeatureArgs,

    /// Require Cargo.lock to be up to date
    #[arg(long)]
    locked: bool,

    /// Require Cargo.lock and the cache to be up to date (implies --locked --offline)
    #[arg(long)]
    frozen: bool,

    /// Run without accessing the network
    #[arg(long)]
    offline: bool,

    /// Arguments passed on as they are: to cargo, to `go build`, to make (e.g. `VAR=value`), or
    /// to CMake's configure step (e.g. `-DOPTION=ON`)
    #[arg(last = true, value_name = "ARGS")]
    cargo_args: Vec<String>,
}

fn parse_opt(s: &str) -> Result<OptChoice, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(OptChoice::Off);
    }
    s.parse::<Level>().map(OptChoice::Level)
}

fn parse_strip(s: &str) -> Result<wasmforge_build::wasm::strip::Level, String> {
    match s {
        "none" | "debuginfo" | "symbols" => s.parse(),
        _ => Err(format!(
            "`{s}` is not a strip level: use none, debuginfo or symbols"
        )),
    }
}

pub(crate) fn parse_kind(s: &str) -> Result<ArtifactKind, String> {
    match s {
        "command" | "bin" => Ok(ArtifactKind::Command),
        "library" | "lib" | "reactor" => Ok(ArtifactKind::Library),
        _ => Err(format!("unknown kind `{s}`: use command or library")),
    }
}

/// `WASMFORGE_OPT`, read only when no flag said anything (flags win over variables).
fn opt_from_env() -> anyhow::Result<OptChoice> {
    match std::env::var("WASMFORGE_OPT") {
        Ok(text) if !text.is_empty() => parse_opt(&text).map_err(|why| {
            crate::exit::UsageError {
                message: format!("WASMFORGE_OPT=`{text}`: {why}"),
                hint: "set it to O1, O2, O3, O4, Os, Oz or none, or unset it".into(),
            }
            .into()
        }),
        _ => Ok(OptChoice::Default),
    }
}

impl Args {
    fn options(self, ctx: &Ctx) -> anyhow::Result<BuildOptions> {
        let profile = match (self.release, self.profile) {
            (true, _) => Profile::Release,
            (false, Some(name)) if name == "release" => Profile::Release,
            (false, Some(name)) if name == "dev" => Profile::Dev,
            (false, Some(name)) => Profile::Custom(name),
            (false, None) => Profile::Dev,
        };
        Ok(BuildOptions {
            path: self.path.unwrap_or_else(|| PathBuf::from(".")),
            target: self.target.target,
            lang: self.lang,
            kind: self.kind,
            toolchain: self.toolchain,
            jobs: self.jobs.map(usize::from),
            profile,
            packages: self.packages,
            bins: self.bins,
            features: self.features.features(),
            locked: self.locked,
            frozen: self.frozen,
            offline: self.offline,
            color: ctx.color_stderr,
            quiet: ctx.quiet,
            extra_args: self.cargo_args,
            opt: match (self.no_opt, self.opt) {
                (true, _) => OptChoice::Off,
                (false, Some(choice)) => choice,
                (false, None) => opt_from_env()?,
            },
            checks: self.no_checks.then_some(false),
            size: self.size,
            simd: self.simd,
            strip: self.strip,
            test_runner: None,
        })
    }
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let started = std::time::Instant::now();
    let options = args.options(ctx)?;
    let reporter = TermReporter::new(ctx);
    let output = wasmforge_build::build(&options, &reporter)?;
    warm(
        &output,
        options.profile == wasmforge_build::Profile::Release,
        ctx,
    );
    ctx.status(
        "Finished",
        &format!(
            "{} artifact(s) in {:.2}s",
            output.artifacts.len(),
            started.elapsed().as_secs_f64()
        ),
    );
    match ctx.format {
        Format::Json => crate::output::print_json(&output)?,
        Format::Human => print_human(&output)?,
    }
    Ok(ExitStatus::Success)
}

/// Where the bytes are, as `build` and `inspect --top` show it.
pub(crate) fn print_breakdown(
    out: &mut impl std::io::Write,
    b: &wasmforge_build::wasm::size::Breakdown,
    functions: usize,
) -> std::io::Result<()> {
    let share = |n: u64| 100.0 * n as f64 / b.total.max(1) as f64;
    let mut parts = vec![
        format!("code {} ({:.0}%)", human_size(b.code), share(b.code)),
        format!("data {} ({:.0}%)", human_size(b.data), share(b.data)),
    ];
    let custom = b.custom_total();
    if custom > 0 {
        let named: Vec<String> = b
            .custom
            .iter()
            .take(3)
            .map(|p| {
                format!(
                    "{} {}",
                    crate::output::untrusted(&p.name),
                    human_size(p.size)
                )
            })
            .collect();
        let more = if b.custom.len() > 3 { ", …" } else { "" };
        parts.push(format!(
            "custom {} ({:.0}%: {}{more})",
            human_size(custom),
            share(custom),
            named.join(", ")
        ));
    }
    parts.push(format!(
        "other {} ({:.0}%)",
        human_size(b.other),
        share(b.other)
    ));
    let separator = format!(" {DIM}·{DIM:#} ");
    writeln!(out, "  bytes   {}", parts.join(&separator))?;
    if !b.largest.is_empty() && functions > 0 {
        writeln!(
            out,
            "  largest {} {DIM}of {} functions{DIM:#}",
            b.largest
                .iter()
                .take(functions)
                .map(|f| format!(
                    "{} {}",
                    crate::output::untrusted(&f.name),
                    human_size(f.size)
                ))
                .collect::<Vec<_>>()
                .join(", "),
            b.functions
        )?;
    }
    Ok(())
}

/// Puts the artifacts' compiled code in the run cache, so `build` then `run` starts warm: a
/// release build waits for it, a debug build (the edit-build-run loop) leaves it to a process of
/// its own that outlives this one. `WASMFORGE_NO_WARM=1` turns it off. Never fails the build.
fn warm(output: &BuildOutput, release: bool, ctx: &Ctx) {
    if std::env::var_os("WASMFORGE_NO_WARM").is_some_and(|v| v == "1") {
        return;
    }
    for artifact in &output.artifacts {
        if release {
            let started = std::time::Instant::now();
            match crate::host::cache::warm(&artifact.path, false) {
                Ok(event) => ctx.status(
                    "Warmed",
                    &format!(
                        "{}.wasm for `run` ({}, {:.2}s)",
                        artifact.name,
                        event.describe(),
                        started.elapsed().as_secs_f64()
                    ),
                ),
                Err(err) => ctx.warning(&format!(
                    "{}.wasm was not compiled for `run` ahead of time: {err:#}",
                    artifact.name
                )),
            }
        } else {
            crate::host::cache::warm_in_background(
                &artifact.path,
                false,
                &crate::reporter::TermReporter::new(ctx),
            );
        }
    }
}

fn print_human(output: &BuildOutput) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    for artifact in &output.artifacts {
        writeln!(
            out,
            "{BOLD}{}.wasm{BOLD:#}  {} {DIM}·{DIM:#} {} {DIM}·{DIM:#} {} {DIM}·{DIM:#} {}",
            artifact.name,
            if artifact
                .world
                .as_deref()
                .is_some_and(|w| w.starts_with("wasi:http/proxy@"))
            {
                "http"
            } else {
                artifact.kind.name()
            },
            artifact.target.rust_triple(),
            artifact.profile,
            match artifact.encoding {
                wasmforge_build::artifact::Encoding::Module => "core module",
                wasmforge_build::artifact::Encoding::Component => "component",
            },
        )?;
        writeln!(out, "  path    {}", artifact.path.display())?;
        if let Some(world) = &artifact.world {
            writeln!(out, "  world   {world}")?;
        }
        writeln!(
            out,
            "  size    {} bytes ({})",
            artifact.size,
            human_size(artifact.size)
        )?;
        if let Some(compiled) = artifact.compiled_size {
            let mut done = Vec::new();
            if let Some(level) = &artifact.stripped {
                done.push(format!("strip {level}"));
            }
            if let Some(level) = &artifact.opt_level {
                done.push(format!("-{level}"));
            }
            writeln!(
                out,
                "  from    {compiled} bytes ({}) as compiled: {} {DIM}({}){DIM:#}",
                human_size(compiled),
                super::opt::change(compiled, artifact.size),
                done.join(", ")
            )?;
        }
        if let Some(b) = &artifact.breakdown {
            print_breakdown(&mut out, b, 5)?;
        }
        writeln!(out, "  sha256  {}", artifact.sha256)?;
        if let Some(profile) = &artifact.validated {
            writeln!(out, "  valid   fits the {profile} profile")?;
        }
    }
    out.flush()?;
    Ok(())
}
