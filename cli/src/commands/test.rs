//! `wasmforge test`: a project's own tests, compiled for the Wasm target and run in the sandbox.
//!
//! Rust: `cargo test --no-run` builds the test harnesses for the target and
//! names them (cargo's JSON messages); each runs in-process in the same host as `run` (cache,
//! tiered start, grants, limits). A Rust Wasm target aborts on panic, so a failing test ends its
//! harness: the harness is run again from the next test (`--skip NAME --exact`), so one failure
//! never hides the tests after it. Go: `go test -json` with wasmforge as `-exec`. C: CTest (a
//! CMake project), or wasmforge.toml's `[test]` (commands, cases). One summary at the end; `--format
//! json` and `--junit FILE`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::exit::ExitStatus;
use crate::host::{self, Outcome, RunRequest, Timings};
use crate::output::{BOLD, Ctx, DIM, ERROR, GOOD, WARN};
use crate::reporter::TermReporter;

/// Build a project's tests for WebAssembly and run them in the sandbox
///
/// Rust: unit, integration and example tests, selected as `cargo test` selects them, built for
/// the target and run by wasmforge's host (as `run` runs a module). Each test binary runs with
/// its package folder readable, at its own path and as the current folder (cargo runs tests in
/// the package folder, and tests read their fixtures through `CARGO_MANIFEST_DIR`); nothing else
/// is granted unless asked. `-- ARGS` reach the test harness (filters, `--nocapture`).
/// Doc-tests are not run: rustdoc compiles them for the host.
///
/// Go: `go test -json` with GOOS=wasip1 and wasmforge as `-exec`: each package's test binary
/// runs with its package folder (and so `testdata/`) readable and as the working folder, as
/// `go test` runs a native one; the host's time-zone database is readable (ZONEINFO), and the
/// Wasm stack is 64MiB (Go's stacks grow natively; `--max-wasm-stack` to change). `-p PKG`
/// picks packages (default `./...`); `-- ARGS` reach `go test` after them (`-run NAME`, `-v`).
///
/// C with CMake: CTest's suite. The project is configured in a test folder of its own with
/// tests on and wasmforge as CMAKE_CROSSCOMPILING_EMULATOR, every executable a launcher of its
/// module, so each test runs in the sandbox however it names its program; the project folder
/// is readable and the test's working folder writable. `-- -DNAME=VALUE` reach the configure,
/// other arguments ctest (`-R REGEX`, `-j 2`, `-V`).
///
/// C without CMake: wasmforge.toml's `[test]`. Its `commands` (`make check`) run in the build's
/// tree with make given wasmforge's compiler, every program they link a launcher that runs it
/// in the sandbox; each passes when it exits 0. Its `[[test.case]]` entries are programs the
/// build makes (`bin`, a make target) run with `args` (or an export called, `invoke`); one
/// passes when it exits with `exit-code` (0) and prints `stdout`. `-- NAME` picks by name.
///
/// Exit 0 when every test passed, 1 when one failed (a trap, a timeout or a memory limit in a
/// test is that test's failure; the run goes on with the next test).
///
/// Examples:
///   wasmforge test
///   wasmforge test --target wasip2 -- --nocapture
///   wasmforge test --lib -- parser::
///   wasmforge test --junit report.xml --timeout 30s
///   wasmforge test --release -- -R '^parse' -j 2       (CMake: CTest)
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Project folder (default: the current folder)
    #[arg(value_name = "PATH")]
    path: Option<PathBuf>,

    #[command(flatten)]
    target: super::flags::TargetArgs,

    /// Build the tests with the release profile
    #[arg(short, long)]
    release: bool,

    /// Package to test (repeatable; Go: a package pattern, default ./...)
    #[arg(short, long = "package", value_name = "SPEC")]
    packages: Vec<String>,

    /// Test only the library's unit tests
    #[arg(long)]
    lib: bool,

    /// Test only the binaries' unit tests
    #[arg(long)]
    bins: bool,

    /// Test only this binary's unit tests (repeatable)
    #[arg(long = "bin", value_name = "NAME")]
    bin: Vec<String>,

    /// Test only this integration test (repeatable)
    #[arg(long = "test", value_name = "NAME")]
    tests: Vec<String>,

    /// Test the examples (as `cargo test --examples`: a selection, like --lib and --test)
    #[arg(long)]
    examples: bool,

    #[command(flatten)]
    features: super::flags::FeatureArgs,

    #[command(flatten)]
    grants: super::flags::GrantArgs,

    #[command(flatten)]
    limits: super::flags::LimitArgs,

    /// Write the results as JUnit XML (GitHub's and GitLab's test reports read it)
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    /// Arguments for the test harness (a filter, `--nocapture`, `--include-ignored`)
    #[arg(last = true, value_name = "ARGS")]
    harness_args: Vec<String>,
}

/// One test's result.
#[derive(Debug, Clone, serde::Serialize)]
struct TestResult {
    name: String,
    /// passed, failed or ignored.
    status: &'static str,
    /// What it printed, for a failure (its panic message, the trap).
    #[serde(skip_serializing_if = "String::is_empty")]
    output: String,
}

/// One test binary's results.
#[derive(Debug, Clone, serde::Serialize)]
struct Binary {
    /// "rt (lib)", "rt (test it)".
    name: String,
    path: PathBuf,
    passed: usize,
    failed: usize,
    ignored: usize,
    seconds: f64,
    tests: Vec<TestResult>,
}

/// A test harness cargo built: its executable, the package folder, what it is.
#[derive(Debug)]
struct Harness {
    name: String,
    wasm: PathBuf,
    package_dir: PathBuf,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let dir = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !dir.exists() {
        return Err(wasmforge_build::Error::PathNotFound { path: dir }.into());
    }
    let project = wasmforge_build::lang::detect(&dir, None)?;
    if project.lang == wasmforge_build::project::Lang::Go {
        return go_tests(&args, &project, ctx);
    }
    if project.lang == wasmforge_build::project::Lang::C {
        return ctest(&args, &project, ctx);
    }
    // As `build`: the flag, else wasmforge.toml's `[package] target`, else wasip1.
    let config = wasmforge_build::lang::load_config(&project.dir)?;
    let target = test_target(&args, &config)?;
    let started = Instant::now();
    let harnesses = build_harnesses(&args, &project, target, ctx)?;
    ctx.status(
        "Doc-tests",
        "not run: rustdoc compiles them for the host, not for WebAssembly",
    );

    let mut binaries = Vec::new();
    for harness in &harnesses {
        binaries.push(run_harness(harness, &args, ctx)?);
    }
    report(
        &args,
        ctx,
        target,
        &binaries,
        started.elapsed(),
        "wasmforge test -- NAME --exact --nocapture",
    )
}

/// The one report: the summary (or the JSON document), the JUnit file, the exit status.
fn report(
    args: &Args,
    ctx: &Ctx,
    target: wasmforge_build::Target,
    binaries: &[Binary],
    elapsed: Duration,
    again: &str,
) -> anyhow::Result<ExitStatus> {
    let passed: usize = binaries.iter().map(|b| b.passed).sum();
    let failed: usize = binaries.iter().map(|b| b.failed).sum();
    let ignored: usize = binaries.iter().map(|b| b.ignored).sum();
    if let Some(path) = &args.junit {
        write_junit(path, binaries)?;
    }
    match ctx.format {
        crate::cli::Format::Json => crate::output::print_json(&serde_json::json!({
            "target": target.rust_triple(),
            "passed": passed,
            "failed": failed,
            "ignored": ignored,
            "seconds": elapsed.as_secs_f64(),
            "binaries": binaries,
        }))?,
        crate::cli::Format::Human => summary(binaries, (passed, failed, ignored), elapsed, again),
    }
    Ok(if failed == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// C: a CMake project's CTest suite (see `cmake::build_tests` in the build crate): built in a
/// test folder of its own with tests on and wasmforge as `CMAKE_CROSSCOMPILING_EMULATOR`, every
/// executable a launcher of its module, so each test runs in the sandbox however the project
/// names its program; then `ctest --output-on-failure`. Each test runs with the project folder
/// read-only and its working folder read-write (CTest's tests write beside their build).
/// `-- -DNAME=VALUE` reach CMake's configure, every other argument `ctest` (`-R`, `-E`, `-j`).
fn ctest(
    args: &Args,
    project: &wasmforge_build::project::Project,
    ctx: &Ctx,
) -> anyhow::Result<ExitStatus> {
    if !project.dir.join("CMakeLists.txt").is_file() {
        return declared_tests(args, project, ctx);
    }
    refuse_selection(
        args,
        false,
        "this is a CMake project",
        "choose CTest's tests with `-- -R REGEX` (or `-E REGEX` to leave some out)",
    )?;
    let started = Instant::now();
    let config = wasmforge_build::lang::load_config(&project.dir)?;
    let target = test_target(args, &config)?;
    let me = std::env::current_exe().context("could not find wasmforge's own path")?;
    // The runner as CMake and the launchers hold it: the grants and limits of this run reach
    // it through the environment instead (`RunnerArgs`), never a file.
    let runner: Vec<std::ffi::OsString> = vec![
        me.into(),
        "run".into(),
        "--ctest-exec".into(),
        "--dir-ro".into(),
        project.dir.clone().into(),
    ];
    let runner: Vec<String> = runner
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (configure, ctest_args) = split_ctest_args(&args.harness_args);
    let options = wasmforge_build::BuildOptions {
        target: Some(target),
        profile: if args.release {
            wasmforge_build::Profile::Release
        } else {
            wasmforge_build::Profile::Dev
        },
        color: ctx.color_stderr,
        quiet: ctx.quiet,
        extra_args: configure,
        test_runner: Some(runner),
        ..wasmforge_build::BuildOptions::new(&project.dir)
    };
    let built = wasmforge_build::build(&options, &TermReporter::new(ctx))?;
    let dir = built
        .test_dir
        .context("the C build made no test folder (a wasmforge bug)")?;
    ctx.status("Testing", &format!("{} (ctest)", dir.display()));
    let output = std::process::Command::new("ctest")
        .arg("--test-dir")
        .arg(&dir)
        .arg("--output-on-failure")
        .args(&ctest_args)
        .env(
            super::flags::RUNNER_ARGS_VAR,
            super::flags::RunnerArgs::encode(&args.grants, &args.limits),
        )
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("could not run `ctest` (it comes with CMake: `apt-get install cmake`)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if ctx.format == crate::cli::Format::Json {
        anstream::eprint!("{text}");
    } else {
        print!("{text}");
    }
    let mut tests = read_ctest(&text);
    if tests.is_empty() {
        if !output.status.success() {
            bail!(
                "ctest failed ({}) without running a test: its messages are above",
                output.status
            );
        }
        if !text.contains("No tests were found") {
            bail!("ctest ran, but wasmforge could not read its results: its output is above");
        }
    }
    if !output.status.success() && !tests.iter().any(|t| t.status == "failed") {
        tests.push(TestResult {
            name: "(ctest)".into(),
            status: "failed",
            output: format!(
                "ctest ended with {} and named no failed test",
                output.status
            ),
        });
    }
    let binary = Binary::of(
        format!("{} (ctest)", folder_name(&project.dir)),
        dir,
        started.elapsed(),
        tests,
    );
    report(
        args,
        ctx,
        target,
        &[binary],
        started.elapsed(),
        "wasmforge test -- -R '^NAME$'",
    )
}

/// C without CMake (Make or plain sources): wasmforge.toml's `[test]`. Its `commands` run in
/// the build's test tree of a Make project (`make check`), make given wasmforge's compiler, so
/// every program they link is a launcher that runs its module in the sandbox; each command is
/// a test that passes when it exits 0. Its `[[test.case]]` entries are programs the build makes
/// (`bin`, a make target; default the project's own), each run in-process with its `args` (or
/// an export called, `invoke`), the project folder read-only at its path and as `.`, plus the
/// grants of `[test]`, of the case and of the command line; a case passes when it exits with
/// `exit-code` (0) and its standard output holds `stdout`.
fn declared_tests(
    args: &Args,
    project: &wasmforge_build::project::Project,
    ctx: &Ctx,
) -> anyhow::Result<ExitStatus> {
    let config = wasmforge_build::lang::load_config(&project.dir)?;
    if config.test.is_empty() {
        return Err(crate::exit::UsageError {
            message: format!(
                "`{}` is a C project without CMakeLists.txt and declares no tests",
                project.dir.display()
            ),
            hint: "declare them in wasmforge.toml's [test]: commands a Make project runs its \
                   tests with, or programs the build makes and what they must do:\n  [test]\n  \
                   commands = [\"make check\"]\n  [[test.case]]\n  name = \"greets\"\n  \
                   args = [\"world\"]\n  stdout = \"Hello, world\"\n(or give the project a \
                   CMakeLists.txt with add_test: CTest's suite then runs)"
                .into(),
        }
        .into());
    }
    refuse_selection(
        args,
        true,
        "this C project's tests are wasmforge.toml's [test]",
        "choose them by name: `wasmforge test -- NAME` (`--bin NAME`: those of one program)",
    )?;
    let target = test_target(args, &config)?;
    // `-- NAME…` picks tests by name (a substring, as cargo's filters); `--bin` by program.
    let cases: Vec<&wasmforge_build::config::TestCase> = config
        .test
        .case
        .iter()
        .filter(|c| {
            args.harness_args.is_empty() || args.harness_args.iter().any(|f| c.name.contains(f))
        })
        .filter(|c| args.bin.is_empty() || c.bin.as_ref().is_some_and(|b| args.bin.contains(b)))
        .collect();
    let started = Instant::now();
    let profile = if args.release {
        wasmforge_build::Profile::Release
    } else {
        wasmforge_build::Profile::Dev
    };
    // The grants each case is given (the command line's, [test]'s, its own), read before
    // anything is built: a mistake in them is said first.
    let shared = toml_grants(
        project,
        &config.test.dir,
        &config.test.dir_ro,
        &config.test.env,
    )
    .context("wasmforge.toml, [test]")?;
    let mut case_grants = Vec::new();
    for case in &cases {
        let mut flags = args.grants.clone();
        flags.extend(shared.clone());
        flags.extend(
            toml_grants(project, &case.dir, &case.dir_ro, &case.env)
                .with_context(|| format!("wasmforge.toml, [[test.case]] `{}`", case.name))?,
        );
        case_grants.push(flags);
    }
    let json = ctx.format == crate::cli::Format::Json;
    let limits = args.limits.limits();
    // Each program built and loaded once, for all its cases.
    let mut programs: Vec<(Option<String>, PathBuf, host::RunCode)> = Vec::new();
    for case in &cases {
        if programs.iter().any(|(bin, _, _)| *bin == case.bin) {
            continue;
        }
        let options = wasmforge_build::BuildOptions {
            target: Some(target),
            profile: profile.clone(),
            bins: case.bin.iter().cloned().collect(),
            color: ctx.color_stderr,
            quiet: ctx.quiet,
            ..wasmforge_build::BuildOptions::new(&project.dir)
        };
        let built = wasmforge_build::build(&options, &TermReporter::new(ctx))?;
        let artifact = built
            .artifacts
            .first()
            .context("the build made no artifact to test")?;
        let wasm = artifact.path.clone();
        let bytes =
            std::fs::read(&wasm).with_context(|| format!("could not read `{}`", wasm.display()))?;
        let code = host::load_for_run(
            &wasm,
            &bytes,
            &limits,
            host::Compiler::Auto,
            true,
            false,
            &TermReporter::new(ctx),
        )?;
        programs.push((case.bin.clone(), wasm, code));
    }
    let project_dir = project.dir.display().to_string();
    let mut tests = Vec::new();
    let commands: Vec<&String> = config
        .test
        .commands
        .iter()
        .filter(|c| args.harness_args.is_empty() || args.harness_args.iter().any(|f| c.contains(f)))
        .filter(|_| args.bin.is_empty())
        .collect();
    if !commands.is_empty() {
        tests.extend(test_commands(
            args, project, &config, &commands, target, &profile, ctx,
        )?);
    }
    for (case, flags) in cases.iter().zip(&case_grants) {
        let Some((_, wasm, code)) = programs.iter().find(|(bin, _, _)| *bin == case.bin) else {
            continue;
        };
        let mut grants = flags.grants()?;
        for spec in [
            format!("{project_dir}::{project_dir}"),
            format!("{project_dir}::."),
        ] {
            grants
                .dirs
                .push(host::grants::DirGrant::parse(&spec, true).map_err(anyhow::Error::msg)?);
        }
        grants.inherit_stdin = false;
        if !ctx.quiet {
            anstream::eprintln!("{GOOD}{:>12}{GOOD:#} {}", "Running", case.name);
        }
        let tails = host::tail::Tails::keeping(1 << 20, json);
        let req = test_request(
            wasm,
            case.args.clone(),
            case.invoke.clone(),
            grants,
            &limits,
            &tails,
        );
        let outcome = host::run(
            &code.engine,
            &code.loaded,
            &req,
            &mut Timings::default(),
            ctx,
        )?;
        let (mut stdout, stderr) = tails.take();
        let wanted = case.exit_code;
        let why = match &outcome {
            Outcome::Exited(code) if *code == wanted => None,
            Outcome::Exited(code) => Some(format!("exit code {code}, not {wanted}")),
            Outcome::ComponentResult(ok) if *ok == (wanted == 0) => None,
            Outcome::ComponentResult(ok) => Some(format!(
                "the component's run returned {}, not {}",
                if *ok { "ok" } else { "an error" },
                if wanted == 0 { "ok" } else { "an error" }
            )),
            Outcome::Returned(values) => {
                stdout.push_str(&values.join("\n"));
                stdout.push('\n');
                if !json {
                    for value in values {
                        println!("{value}");
                    }
                }
                None
            }
            stopped => stopped_by(stopped),
        };
        let why = why.or_else(|| {
            case.stdout
                .as_ref()
                .filter(|want| !stdout.contains(want.as_str()))
                .map(|want| format!("its output does not contain `{want}`"))
        });
        let status = if why.is_some() { "failed" } else { "passed" };
        let line = format!(
            "test {} ... {}",
            case.name,
            if why.is_some() { "FAILED" } else { "ok" }
        );
        if json {
            anstream::eprintln!("{line}");
        } else {
            println!("{line}");
        }
        tests.push(TestResult {
            name: case.name.clone(),
            status,
            output: why
                .map(|why| {
                    let printed = format!("{stdout}{stderr}");
                    if printed.trim().is_empty() {
                        why
                    } else {
                        format!("{why}\n{}", printed.trim_end())
                    }
                })
                .unwrap_or_default(),
        });
    }
    let binary = Binary::of(
        format!("{} (wasmforge.toml)", folder_name(&project.dir)),
        project.dir.clone(),
        started.elapsed(),
        tests,
    );
    report(
        args,
        ctx,
        target,
        &[binary],
        started.elapsed(),
        "wasmforge test -- NAME",
    )
}

/// `[test] commands` of a Make project: each run by `sh -c` in the build's test tree, make
/// given wasmforge's compiler (whose links leave launchers), the grants and limits handed to
/// the launched programs through the environment. A command is a test: exit 0 passes.
fn test_commands(
    args: &Args,
    project: &wasmforge_build::project::Project,
    config: &wasmforge_build::config::Config,
    commands: &[&String],
    target: wasmforge_build::Target,
    profile: &wasmforge_build::Profile,
    ctx: &Ctx,
) -> anyhow::Result<Vec<TestResult>> {
    let me = std::env::current_exe().context("could not find wasmforge's own path")?;
    let runner = vec![
        me.display().to_string(),
        "run".into(),
        "--ctest-exec".into(),
        "--dir-ro".into(),
        project.dir.display().to_string(),
    ];
    let options = wasmforge_build::BuildOptions {
        target: Some(target),
        profile: profile.clone(),
        color: ctx.color_stderr,
        quiet: ctx.quiet,
        test_runner: Some(runner),
        ..wasmforge_build::BuildOptions::new(&project.dir)
    };
    let built = wasmforge_build::build(&options, &TermReporter::new(ctx))?;
    let tree = built
        .test_dir
        .context("the C build made no test tree (a wasmforge bug)")?;
    // [test]'s grants join the command line's.
    let mut grants = args.grants.clone();
    grants.extend(
        toml_grants(
            project,
            &config.test.dir,
            &config.test.dir_ro,
            &config.test.env,
        )
        .context("wasmforge.toml, [test]")?,
    );
    let json = ctx.format == crate::cli::Format::Json;
    let mut results = Vec::new();
    for command in commands {
        if !ctx.quiet {
            anstream::eprintln!("{GOOD}{:>12}{GOOD:#} {command}", "Running");
        }
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&tree)
            .envs(built.test_env.iter().map(|(k, v)| (k, v)))
            .env(
                super::flags::RUNNER_ARGS_VAR,
                super::flags::RunnerArgs::encode(&grants, &args.limits),
            )
            .env(super::run::TEST_TARGET_VAR, target.name())
            .stdin(std::process::Stdio::null())
            .output()
            .with_context(|| format!("could not run `{command}` (sh)"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if json {
            anstream::eprint!("{text}");
        } else {
            print!("{text}");
        }
        let passed = output.status.success();
        let line = format!(
            "test {command} ... {}",
            if passed { "ok" } else { "FAILED" }
        );
        if json {
            anstream::eprintln!("{line}");
        } else {
            println!("{line}");
        }
        results.push(TestResult {
            name: (*command).clone(),
            status: if passed { "passed" } else { "failed" },
            output: if passed {
                String::new()
            } else {
                format!(
                    "`{command}` ended with {}\n{}",
                    output.status,
                    text.trim_end()
                )
            },
        });
    }
    Ok(results)
}

/// Grants written in wasmforge.toml (`dir`, `dir-ro`: `HOST[::GUEST]`, HOST relative to the
/// project, the guest seeing it as written; `env`: `NAME=VALUE`) as the command line's flags.
fn toml_grants(
    project: &wasmforge_build::project::Project,
    dirs: &[String],
    dirs_ro: &[String],
    env: &[String],
) -> anyhow::Result<super::flags::GrantArgs> {
    let folder = |spec: &String| {
        let (host_path, guest) = spec.split_once("::").unwrap_or((spec, spec));
        format!("{}::{guest}", project.dir.join(host_path).display())
    };
    Ok(super::flags::GrantArgs {
        dirs: dirs.iter().map(folder).collect(),
        dirs_ro: dirs_ro.iter().map(folder).collect(),
        env: env
            .iter()
            .map(|pair| super::flags::parse_env(pair).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?,
        env_inherit: Vec::new(),
    })
}

/// `-- ARGS` of a CMake project: `-DNAME=VALUE` (or `-D NAME=VALUE`) and `-UNAME` for the
/// configure, the rest for `ctest`.
fn split_ctest_args(args: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut configure, mut ctest) = (Vec::new(), Vec::new());
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word == "-D" || word == "-U" {
            configure.push(format!("{word}{}", words.next().map_or("", |w| w.as_str())));
        } else if word.starts_with("-D") || word.starts_with("-U") {
            configure.push(word.clone());
        } else {
            ctest.push(word.clone());
        }
    }
    (configure, ctest)
}

/// CTest's result lines (` 1/2 Test  #1: runtests ....   Passed    0.21 sec`), with what
/// `--output-on-failure` prints after a failed one.
fn read_ctest(text: &str) -> Vec<TestResult> {
    let mut tests: Vec<TestResult> = Vec::new();
    let mut in_failure = false;
    // The lines printed after the current failure's verdict.
    let mut printed: Vec<&str> = Vec::new();
    for line in text.lines() {
        let result = line
            .split_once(" Test ")
            .filter(|(head, _)| head.trim().contains('/'))
            .and_then(|(_, rest)| rest.trim_start().strip_prefix('#'))
            .and_then(|rest| rest.split_once(": "));
        if let Some((_, rest)) = result {
            let name = rest.split(" .").next().unwrap_or(rest).trim().to_string();
            let verdict = rest.trim_end();
            let status = if verdict.contains("   Passed") {
                "passed"
            } else if verdict.contains("***Skipped") || verdict.contains("***Not Run (Disabled)") {
                "ignored"
            } else {
                "failed"
            };
            in_failure = status == "failed";
            printed.clear();
            // "***Failed    0.01 sec" → "Failed"; "***Exception: Illegal  0.01 sec" too: the
            // output when the test printed nothing.
            let output = if in_failure {
                verdict
                    .rsplit_once("***")
                    .map(|(_, why)| {
                        why.trim()
                            .trim_end_matches("sec")
                            .trim_end()
                            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
                            .trim()
                            .to_string()
                    })
                    .unwrap_or_default()
            } else {
                String::new()
            };
            tests.push(TestResult {
                name,
                status,
                output,
            });
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("Start ") || trimmed.contains("% tests passed") {
            in_failure = false;
            continue;
        }
        if in_failure && let Some(last) = tests.last_mut() {
            printed.push(line);
            if !line.trim().is_empty() {
                // What the test printed replaces the bare verdict.
                if printed.iter().filter(|l| !l.trim().is_empty()).count() == 1 {
                    last.output.clear();
                } else {
                    last.output.push('\n');
                }
                last.output.push_str(line);
            }
        }
    }
    tests
}

/// The Wasm stack Go's tests get by default (`--max-wasm-stack`).
const GO_TEST_STACK: &str = "64MiB";

impl Binary {
    /// A test binary's report from its tests.
    fn of(name: String, path: PathBuf, took: Duration, tests: Vec<TestResult>) -> Binary {
        let count = |status: &str| tests.iter().filter(|t| t.status == status).count();
        Binary {
            name,
            path,
            passed: count("passed"),
            failed: count("failed"),
            ignored: count("ignored"),
            seconds: took.as_secs_f64(),
            tests,
        }
    }
}

/// A run of a test program in the host: the compile cache on, no precompiled code.
fn test_request(
    wasm: &Path,
    args: Vec<String>,
    invoke: Option<String>,
    grants: host::grants::Grants,
    limits: &host::Limits,
    tails: &host::tail::Tails,
) -> RunRequest {
    RunRequest {
        program: wasm
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: wasm.display().to_string(),
        args,
        invoke,
        grants,
        limits: limits.clone(),
        cache: true,
        allow_precompiled: false,
        tails: tails.clone(),
    }
}

/// Why a test stopped before it ended by itself: a trap or a limit (`None` for an ending).
fn stopped_by(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Exited(_) | Outcome::ComponentResult(_) | Outcome::Returned(_) => None,
        Outcome::Trapped { message, .. } => Some(format!("the test trapped: {message}")),
        Outcome::TimedOut(limit) => Some(format!(
            "the test ran longer than --timeout {}",
            crate::host::limits::format_duration(*limit)
        )),
        Outcome::OutOfFuel(fuel) => Some(format!("the test used all its fuel (--fuel {fuel})")),
        Outcome::LimitHit(message) => Some(message.clone()),
    }
}

/// A folder's own name (`.` resolved), for a report's binary name.
fn folder_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// As `build`: the flag, else wasmforge.toml's `[package] target`, else wasip1; never
/// wasm32-unknown-unknown, which has no WASI to run tests with.
fn test_target(
    args: &Args,
    config: &wasmforge_build::config::Config,
) -> anyhow::Result<wasmforge_build::Target> {
    let target = args
        .target
        .target
        .or(config.package.target)
        .unwrap_or(wasmforge_build::Target::Wasip1);
    if target == wasmforge_build::Target::Unknown {
        return Err(crate::exit::UsageError {
            message:
                "tests are run under WASI: wasm32-unknown-unknown has no WASI to run them with"
                    .into(),
            hint: "test with `--target wasip1` (or wasip2); the code under test is the same".into(),
        }
        .into());
    }
    Ok(target)
}

/// Refuses cargo's selections (`--lib`, `--test`, …; `--bin` too unless `bin_is_ok`) for a
/// project whose tests are chosen otherwise: `what` says why, `hint` how to choose.
fn refuse_selection(args: &Args, bin_is_ok: bool, what: &str, hint: &str) -> anyhow::Result<()> {
    let rust_only = [
        ("--lib", args.lib),
        ("--bins", args.bins),
        ("--examples", args.examples),
        ("--bin", !bin_is_ok && !args.bin.is_empty()),
        ("--test", !args.tests.is_empty()),
        ("-p", !args.packages.is_empty()),
    ];
    match rust_only.iter().find(|(_, on)| *on) {
        Some((flag, _)) => Err(crate::exit::UsageError {
            message: format!("{flag} selects Rust or Go tests; {what}"),
            hint: hint.into(),
        }
        .into()),
        None => Ok(()),
    }
}

/// Go: `go test -json` with GOOS=wasip1 and wasmforge as `-exec` (`run --go-test-exec`: the
/// package folder, which holds `testdata/`, readable at its path and the working folder, as
/// `go test` gives a native test binary). go's events make the report: a package whose test
/// binary trapped or timed out fails with the test it was in.
fn go_tests(
    args: &Args,
    project: &wasmforge_build::project::Project,
    ctx: &Ctx,
) -> anyhow::Result<ExitStatus> {
    let target = args
        .target
        .target
        .unwrap_or(wasmforge_build::Target::Wasip1);
    if target != wasmforge_build::Target::Wasip1 {
        return Err(crate::exit::UsageError {
            message: format!(
                "Go builds for wasip1 only (GOOS=wasip1); `--target {}` has no Go port",
                target.name()
            ),
            hint: "test with `--target wasip1`".into(),
        }
        .into());
    }
    let rust_only = [
        ("--lib", args.lib),
        ("--bins", args.bins),
        ("--examples", args.examples),
        ("--bin", !args.bin.is_empty()),
        ("--test", !args.tests.is_empty()),
        ("--release", args.release),
    ];
    if let Some((flag, _)) = rust_only.iter().find(|(_, on)| *on) {
        return Err(crate::exit::UsageError {
            message: format!("{flag} selects Rust test targets; this is a Go project"),
            hint: "choose Go packages with -p (`-p ./parser`), and tests with `-- -run NAME`"
                .into(),
        }
        .into());
    }
    let started = Instant::now();
    let me = std::env::current_exe().context("could not find wasmforge's own path")?;
    let mut exec: Vec<std::ffi::OsString> = vec![me.into(), "run".into(), "--go-test-exec".into()];
    exec.extend(args.grants.to_args());
    exec.extend(args.limits.to_args());
    // Go's stacks grow as deep as a program needs (to 1 GiB natively), and Go's tests count on
    // it (ivy's TestAll needs 64 MiB): its tests get that much Wasm stack unless told otherwise.
    if args.limits.max_wasm_stack.is_none() {
        exec.extend(["--max-wasm-stack".into(), GO_TEST_STACK.into()]);
    }
    let exec: Vec<String> = exec
        .iter()
        .map(|a| {
            let a = a.to_string_lossy();
            // go splits -exec into fields, honouring quotes.
            if a.contains([' ', '\'', '"']) {
                format!("'{}'", a.replace('\'', "'\"'\"'"))
            } else {
                a.into_owned()
            }
        })
        .collect();
    ctx.status(
        "Testing",
        &format!("{} (go test, GOOS=wasip1)", project.dir.display()),
    );
    let packages: Vec<String> = if args.packages.is_empty() {
        vec!["./...".into()]
    } else {
        args.packages.clone()
    };
    let mut go = std::process::Command::new("go");
    go.args(["test", "-json", "-exec", &exec.join(" ")])
        .args(&packages)
        .args(&args.harness_args)
        .current_dir(&project.dir)
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    let mut child = go
        .spawn()
        .context("could not run `go` (install Go 1.21 or newer: https://go.dev/dl)")?;
    let stdout = child.stdout.take().context("go's output")?;
    let json = ctx.format == crate::cli::Format::Json;
    let mut binaries: Vec<Binary> = Vec::new();
    // (package, test) → output so far, for the tests that fail.
    let mut outputs: std::collections::HashMap<(String, String), String> = Default::default();
    let mut running: Vec<(String, String)> = Vec::new();
    use std::io::BufRead as _;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading go test's output")?;
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            // Not an event (a build error go printed as text): show it.
            anstream::eprintln!("{line}");
            continue;
        };
        let action = event["Action"].as_str().unwrap_or_default();
        let package = event["Package"].as_str().unwrap_or_default().to_string();
        let test = event["Test"].as_str().map(str::to_string);
        if action == "output"
            && let Some(text) = event["Output"].as_str()
        {
            if json {
                anstream::eprint!("{text}");
            } else {
                print!("{text}");
            }
            outputs
                .entry((package.clone(), test.clone().unwrap_or_default()))
                .or_default()
                .push_str(text);
            continue;
        }
        let index = match binaries.iter().position(|b| b.name == package) {
            Some(i) => i,
            None if package.is_empty() => continue,
            None => {
                binaries.push(Binary {
                    name: package.clone(),
                    path: project.dir.clone(),
                    passed: 0,
                    failed: 0,
                    ignored: 0,
                    seconds: 0.0,
                    tests: Vec::new(),
                });
                binaries.len() - 1
            }
        };
        let binary = &mut binaries[index];
        let status = match action {
            "pass" => "passed",
            "fail" => "failed",
            "skip" => "ignored",
            "run" => {
                if let Some(test) = test {
                    running.push((package, test));
                }
                continue;
            }
            _ => continue,
        };
        match test {
            Some(test) => {
                running.retain(|r| *r != (package.clone(), test.clone()));
                let output = if status == "failed" {
                    outputs
                        .remove(&(package.clone(), test.clone()))
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                binary.tests.push(TestResult {
                    name: test,
                    status,
                    output,
                });
            }
            None => {
                binary.seconds = event["Elapsed"].as_f64().unwrap_or_default();
                // The package failed: tests it began and never finished (the binary trapped
                // or hit a limit in them) are failures; with none, the package itself is one.
                let unfinished: Vec<String> = running
                    .iter()
                    .filter(|(p, _)| *p == package)
                    .map(|(_, t)| t.clone())
                    .collect();
                running.retain(|(p, _)| *p != package);
                let package_output = outputs
                    .remove(&(package.clone(), String::new()))
                    .unwrap_or_default();
                if status == "failed" {
                    for test in &unfinished {
                        binary.tests.push(TestResult {
                            name: test.clone(),
                            status: "failed",
                            output: format!(
                                "{}{}",
                                outputs
                                    .remove(&(package.clone(), test.clone()))
                                    .unwrap_or_default(),
                                package_output
                            ),
                        });
                    }
                    if unfinished.is_empty() && !binary.tests.iter().any(|t| t.status == "failed") {
                        binary.tests.push(TestResult {
                            name: "(package)".into(),
                            status: "failed",
                            output: package_output,
                        });
                    }
                }
            }
        }
    }
    let status = child.wait()?;
    // go test failing without a failed test or package in its events is still a failure.
    if !status.success()
        && !binaries
            .iter()
            .flat_map(|b| &b.tests)
            .any(|t| t.status == "failed")
        && let Some(first) = binaries.first_mut()
    {
        first.tests.push(TestResult {
            name: "(go test)".into(),
            status: "failed",
            output: format!("go test ended with {status} and named no failed test"),
        });
    }
    // Packages without test files are not test binaries.
    binaries.retain(|b| !b.tests.is_empty());
    for b in &mut binaries {
        // Subtests are reported by go as tests of their own (`TestX/case`): counted as such.
        b.passed = b.tests.iter().filter(|t| t.status == "passed").count();
        b.failed = b.tests.iter().filter(|t| t.status == "failed").count();
        b.ignored = b.tests.iter().filter(|t| t.status == "ignored").count();
    }
    if binaries.is_empty() && !status.success() {
        bail!("go test failed ({status}) before any package was tested: its messages are above");
    }
    report(
        args,
        ctx,
        target,
        &binaries,
        started.elapsed(),
        "wasmforge test -p PACKAGE -- -run '^NAME$' -v",
    )
}

/// `cargo test --no-run` for the target, with cargo's JSON messages: the test harnesses built.
fn build_harnesses(
    args: &Args,
    project: &wasmforge_build::project::Project,
    target: wasmforge_build::Target,
    ctx: &Ctx,
) -> anyhow::Result<Vec<Harness>> {
    let triple = target.rust_triple();
    ctx.status(
        "Building",
        &format!("tests of {} ({triple})", project.dir.display()),
    );
    let mut cargo = std::process::Command::new("cargo");
    cargo
        .args([
            "test",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--target", triple, "--manifest-path"])
        .arg(&project.manifest)
        .current_dir(&project.dir)
        .env_remove("RUSTUP_TOOLCHAIN")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    if args.release {
        cargo.arg("--release");
    }
    if ctx.quiet {
        cargo.arg("--quiet");
    }
    for p in &args.packages {
        cargo.args(["-p", p]);
    }
    for (flag, on) in [
        ("--lib", args.lib),
        ("--bins", args.bins),
        ("--examples", args.examples),
    ] {
        if on {
            cargo.arg(flag);
        }
    }
    for b in &args.bin {
        cargo.args(["--bin", b]);
    }
    for t in &args.tests {
        cargo.args(["--test", t]);
    }
    cargo.args(args.features.features().cargo_args());
    let output = cargo
        .output()
        .context("could not run `cargo` (install Rust with rustup: https://rustup.rs)")?;
    let mut harnesses = Vec::new();
    for message in cargo_metadata::Message::parse_stream(output.stdout.as_slice()).flatten() {
        if let cargo_metadata::Message::CompilerArtifact(artifact) = message
            && artifact.profile.test
            && let Some(wasm) = artifact.executable
        {
            let kind = artifact
                .target
                .kind
                .first()
                .map(|k| k.to_string())
                .unwrap_or_default();
            let what = match kind.as_str() {
                "lib" | "cdylib" | "rlib" | "staticlib" | "dylib" => "lib".to_string(),
                other => format!("{other} {}", artifact.target.name),
            };
            let package_dir = artifact
                .manifest_path
                .parent()
                .map(|p| p.as_std_path().to_path_buf())
                .unwrap_or_else(|| project.dir.clone());
            harnesses.push(Harness {
                name: format!("{} ({what})", package_name(&artifact.package_id.repr)),
                wasm: wasm.into_std_path_buf(),
                package_dir,
            });
        }
    }
    if !output.status.success() {
        bail!(
            "building the tests for {triple} failed ({}): cargo's messages are above",
            output.status
        );
    }
    if harnesses.is_empty() {
        bail!("cargo built no test harness: the selection has no tests");
    }
    Ok(harnesses)
}

/// A package's name from cargo's package id: `path+file:///tmp/rt#0.1.0` → `rt` (the folder's
/// name, when the package is named as its folder), `path+file:///tmp/dir#app@0.1.0` → `app`,
/// and the old form `rt 0.1.0 (path+file:///tmp/rt)` → `rt`.
fn package_name(id: &str) -> String {
    match id.split_once('#') {
        Some((_, fragment)) if fragment.contains('@') => {
            fragment.split('@').next().unwrap_or(fragment).to_string()
        }
        Some((head, _)) => head.rsplit('/').next().unwrap_or(head).to_string(),
        None => id.split(' ').next().unwrap_or(id).to_string(),
    }
}

/// Runs one harness until every selected test has run: after a test aborts the harness (a
/// panic, a trap, a limit), the harness runs again skipping the tests already done.
fn run_harness(harness: &Harness, args: &Args, ctx: &Ctx) -> anyhow::Result<Binary> {
    let json = ctx.format == crate::cli::Format::Json;
    if !ctx.quiet {
        anstream::eprintln!(
            "{GOOD}{:>12}{GOOD:#} {} ({})",
            "Running",
            harness.name,
            harness.wasm.display()
        );
    }
    let bytes = std::fs::read(&harness.wasm)
        .with_context(|| format!("could not read `{}`", harness.wasm.display()))?;
    let mut grants = args.grants.grants()?;
    // cargo runs tests in the package folder, and tests find their files through
    // CARGO_MANIFEST_DIR (compiled in): both see the package folder, read-only.
    let package = harness.package_dir.display().to_string();
    for spec in [format!("{package}::{package}"), format!("{package}::.")] {
        grants
            .dirs
            .push(host::grants::DirGrant::parse(&spec, true).map_err(anyhow::Error::msg)?);
    }
    grants.inherit_stdin = false;
    let limits = args.limits.limits();
    let code = host::load_for_run(
        &harness.wasm,
        &bytes,
        &limits,
        host::Compiler::Auto,
        true,
        false,
        &TermReporter::new(ctx),
    )?;
    let started = Instant::now();
    let mut results: Vec<TestResult> = Vec::new();
    let mut skip: Vec<String> = Vec::new();
    loop {
        // Keep the harness's whole output (bounded) to read its lines.
        let tails = host::tail::Tails::keeping(16 << 20, json);
        let mut harness_args = args.harness_args.clone();
        for name in &skip {
            harness_args.extend(["--skip".to_string(), name.clone()]);
        }
        if !skip.is_empty() {
            harness_args.push("--exact".into());
        }
        let req = test_request(
            &harness.wasm,
            harness_args,
            None,
            grants.clone(),
            &limits,
            &tails,
        );
        let outcome = host::run(
            &code.engine,
            &code.loaded,
            &req,
            &mut Timings::default(),
            ctx,
        )?;
        let (stdout, stderr) = tails.take();
        let lines = read_harness(&stdout);
        let mut unfinished = None;
        let failed_now = lines.iter().any(|(_, status)| *status == Some("failed"));
        for (name, status) in lines {
            match status {
                Some(status) => {
                    let output = if status == "failed" {
                        failure_output(&stdout, &name)
                    } else {
                        String::new()
                    };
                    results.push(TestResult {
                        name: name.clone(),
                        status,
                        output,
                    });
                    skip.push(name);
                }
                None => unfinished = Some(name),
            }
        }
        let ended = match &outcome {
            // A test that ends its harness itself (`process::exit`) never reports: it failed.
            Outcome::Exited(code) if unfinished.is_some() => Some(format!(
                "the test ended its harness (exit code {code}) before it finished"
            )),
            Outcome::ComponentResult(_) if unfinished.is_some() => {
                Some("the test ended its harness before it finished".into())
            }
            // A harness that fails without naming a failed test: its own failure, not a pass.
            Outcome::Exited(code) if *code != 0 && !failed_now => Some(format!(
                "the test harness exited with code {code} and named no failed test"
            )),
            Outcome::ComponentResult(false) if !failed_now => {
                Some("the test harness failed and named no failed test".into())
            }
            other => stopped_by(other),
        };
        match (ended, unfinished) {
            // The harness stopped inside a test: that test failed; go on after it.
            (Some(why), Some(name)) => {
                // libtest's `test NAME ... ` has no line end yet: give it one.
                if !stdout.ends_with('\n') {
                    if json {
                        anstream::eprintln!();
                    } else {
                        println!();
                    }
                }
                if !ctx.quiet {
                    anstream::eprintln!("{ERROR}FAILED{ERROR:#} {name}: {why}");
                }
                // libtest had captured the test's output (its panic message) and the abort lost
                // it: the test alone again, uncaptured and unshown, says it (not for a limit:
                // that would only hit it again).
                let told = if matches!(outcome, Outcome::Trapped { .. }) {
                    let alone = host::tail::Tails::silent(1 << 20);
                    let again = RunRequest {
                        args: vec![name.clone(), "--exact".into(), "--nocapture".into()],
                        tails: alone.clone(),
                        ..req
                    };
                    let _ = host::run(
                        &code.engine,
                        &code.loaded,
                        &again,
                        &mut Timings::default(),
                        ctx,
                    );
                    alone.take().1
                } else {
                    String::new()
                };
                let said = if told.trim().is_empty() {
                    stderr.trim()
                } else {
                    told.trim()
                };
                results.push(TestResult {
                    name: name.clone(),
                    status: "failed",
                    output: if said.is_empty() {
                        why
                    } else {
                        format!("{said}\n{why}")
                    },
                });
                skip.push(name);
            }
            // Stopped outside any test (before the first, or a harness that is not libtest).
            (Some(why), None) => {
                results.push(TestResult {
                    name: "(harness)".into(),
                    status: "failed",
                    output: format!("{}\n{why}", stderr.trim()),
                });
                break;
            }
            (None, _) => break,
        }
    }
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    Ok(Binary {
        name: harness.name.clone(),
        path: harness.wasm.clone(),
        passed: count("passed"),
        failed: count("failed"),
        ignored: count("ignored"),
        seconds: started.elapsed().as_secs_f64(),
        tests: results,
    })
}

/// libtest's lines, in order: `test NAME ... ok` (`FAILED`, `ignored`, `ignored, reason`), and
/// a `test NAME ... ` the harness began and never finished (`None`: it aborted in it).
fn read_harness(stdout: &str) -> Vec<(String, Option<&'static str>)> {
    let mut found = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, result)) = rest.split_once(" ... ") else {
            if let Some(name) = rest.strip_suffix(" ...") {
                found.push((name.to_string(), None));
            }
            continue;
        };
        let status = match result.trim() {
            "ok" => Some("passed"),
            "FAILED" => Some("failed"),
            r if r.starts_with("ignored") => Some("ignored"),
            // Nothing yet, or output the test printed on the same line (`--nocapture`): it is
            // still running.
            _ => None,
        };
        found.push((name.to_string(), status));
    }
    found
}

/// The `---- NAME stdout ----` section libtest prints for a failed test (it returns instead of
/// aborting when the test's failure is not a panic, e.g. `Result::Err`).
fn failure_output(stdout: &str, name: &str) -> String {
    let header = format!("---- {name} stdout ----");
    let Some(start) = stdout.find(&header) else {
        return String::new();
    };
    stdout[start + header.len()..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("---- ") && *l != "failures:")
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn summary(
    binaries: &[Binary],
    (passed, failed, ignored): (usize, usize, usize),
    elapsed: Duration,
    again: &str,
) {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err);
    for b in binaries {
        let mark = if b.failed > 0 {
            format!("{ERROR}FAILED{ERROR:#}")
        } else {
            format!("{GOOD}ok{GOOD:#}")
        };
        let _ = writeln!(
            err,
            "  {mark:<6} {} — {} passed, {} failed, {} ignored ({:.2}s)",
            b.name, b.passed, b.failed, b.ignored, b.seconds
        );
        for t in b.tests.iter().filter(|t| t.status == "failed") {
            let _ = writeln!(
                err,
                "    {ERROR}failed{ERROR:#} {}: {}",
                t.name,
                wasmforge_build::text::Untrusted(first_words(&t.output))
            );
        }
    }
    let (color, word) = if failed > 0 {
        (ERROR, "FAILED")
    } else {
        (GOOD, "ok")
    };
    let _ = writeln!(
        err,
        "{color}{word}{color:#}: {BOLD}{passed} passed{BOLD:#}, {failed} failed, {ignored} ignored in {} test binar{} {DIM}({:.2}s){DIM:#}",
        binaries.len(),
        if binaries.len() == 1 { "y" } else { "ies" },
        elapsed.as_secs_f64()
    );
    if failed > 0 {
        let _ = writeln!(err, "{WARN}hint{WARN:#}: run one again with `{again}`");
    }
}

/// JUnit XML as GitHub's and GitLab's test reporters read it: a testsuite per test binary, a
/// testcase per test (`classname` the module path, `name` the test), failures with their output.
fn write_junit(path: &Path, binaries: &[Binary]) -> anyhow::Result<()> {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for b in binaries {
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
            escape(&b.name),
            b.tests.len(),
            b.failed,
            b.ignored,
            b.seconds
        ));
        for t in &b.tests {
            let (class, name) = match t.name.rsplit_once("::") {
                Some((class, name)) => (format!("{}::{class}", b.name), name.to_string()),
                None => (b.name.clone(), t.name.clone()),
            };
            xml.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(&class),
                escape(&name)
            ));
            match t.status {
                "failed" => {
                    let message = first_words(&t.output);
                    xml.push_str(&format!(
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                        escape(message),
                        escape(&t.output)
                    ));
                }
                "ignored" => xml.push_str(">\n      <skipped/>\n    </testcase>\n"),
                _ => xml.push_str("/>\n"),
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    wasmforge_build::files::write_atomic(path, xml.as_bytes())
        .with_context(|| format!("could not write the JUnit report `{}`", path.display()))
}

/// A failure's one line: what the panic said (the line after `panicked at`), else its first.
fn first_words(output: &str) -> &str {
    // Go's `=== RUN` / `--- FAIL` framing says nothing the test's name does not.
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("=== ") && !l.starts_with("--- "))
        .collect();
    // A Rust panic's message is the line after "panicked at"; a trap or a limit is
    // wasmforge's own `error: the guest …` line, whatever the test printed before it.
    lines
        .iter()
        .position(|l| l.contains("panicked at"))
        .and_then(|i| lines.get(i + 1))
        .or(lines.iter().find(|l| l.starts_with("error: the guest")))
        .or(lines.first())
        .copied()
        .unwrap_or("failed")
}

/// XML text: the five escapes, and control characters (which XML 1.0 does not allow) dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_say_which_tests_ran_and_which_one_aborted() {
        let out = "\nrunning 4 tests\ntest tests::adds ... ok\ntest tests::slow ... ignored\ntest tests::fails ... ";
        assert_eq!(
            read_harness(out),
            [
                ("tests::adds".to_string(), Some("passed")),
                ("tests::slow".to_string(), Some("ignored")),
                ("tests::fails".to_string(), None),
            ]
        );
    }

    #[test]
    fn package_names_from_cargos_ids() {
        assert_eq!(package_name("path+file:///tmp/rt#0.1.0"), "rt");
        assert_eq!(package_name("path+file:///tmp/dir#app@0.1.0"), "app");
        assert_eq!(package_name("rt 0.1.0 (path+file:///tmp/rt)"), "rt");
    }

    #[test]
    fn junit_text_is_escaped() {
        assert_eq!(escape("a<b & \"c\"\u{1b}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
