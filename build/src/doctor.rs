//! `doctor`: every check relevant to a project (or, without one, a survey of the toolchains),
//! each ok / warning / error with the fix. Builds run the cheap part of the same checks first.

use std::path::{Path, PathBuf};

use crate::artifact::ArtifactKind;
use crate::diagnostics::Diagnostic;
use crate::error::Result;
use crate::project::{self, Lang};
use crate::report::Reporter;
use crate::target::Target;

pub use crate::diagnostics::check::{Check, Status};

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct DoctorOptions {
    /// A project folder; `None` surveys the toolchains (or checks the current folder when it is
    /// a project — the caller decides).
    pub path: Option<PathBuf>,
    pub target: Option<Target>,
    pub lang: Option<Lang>,
    pub kind: Option<ArtifactKind>,
    pub toolchain: Option<String>,
    /// `--bin`: which executable (CMake, Make, Rust) the build makes.
    pub bins: Vec<String>,
    /// `-p`: Rust packages, or the Go main package.
    pub packages: Vec<String>,
    /// Rust features, as `build -F/--all-features/--no-default-features`.
    pub features: crate::options::Features,
    /// What `build -- ARGS` would pass on (Go tags, CMake options, make variables).
    pub extra_args: Vec<String>,
}

/// The project a report is about.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectSummary {
    pub path: PathBuf,
    pub lang: Lang,
    pub target: Target,
}

/// Everything doctor found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DoctorReport {
    pub project: Option<ProjectSummary>,
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// Every finding, errors first.
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        let mut all: Vec<&Diagnostic> = Vec::new();
        // The build's diagnosis repeats what a check found before it: each once.
        for d in self.checks.iter().flat_map(|c| &c.diagnostics) {
            if !all
                .iter()
                .any(|o| o.code == d.code && o.message == d.message && o.location == d.location)
            {
                all.push(d);
            }
        }
        all.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.code.cmp(&b.code))
        });
        all
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// Errors: failed checks (a check can fail without a code, e.g. an unreadable Cargo.toml).
    pub fn has_errors(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Error)
    }
}

/// What `wasmforge test` needs for this project and whether it is here. Never an error: the
/// tests do not decide whether the build works (a finding is a warning, for the test run).
fn tests_check(
    project: &crate::project::Project,
    config: &crate::config::Config,
    options: &crate::BuildOptions,
    target: Target,
    reporter: &dyn Reporter,
) -> Check {
    use crate::project::Lang;
    const NAME: &str = "tests";
    if target == Target::Unknown {
        return Check::note(
            NAME,
            "`wasmforge test` runs tests under WASI: test with `--target wasip1` or wasip2".into(),
        );
    }
    match project.lang {
        Lang::Rust => {
            let options = crate::BuildOptions {
                target: Some(target),
                ..options.clone()
            };
            match crate::lang::rust::test_only_dependencies(project, &options, reporter) {
                Ok(deps) => {
                    let native: Vec<String> = deps
                        .iter()
                        .filter_map(|(name, version, links)| {
                            links
                                .as_ref()
                                .map(|lib| format!("{name} {version} (links `{lib}`)"))
                        })
                        .collect();
                    if native.is_empty() {
                        Check::ok(
                            NAME,
                            format!(
                                "`wasmforge test` builds the tests with cargo for {} ({} only \
                                 the tests use); doc-tests are not run (rustdoc compiles them \
                                 for the host)",
                                target.rust_triple(),
                                match deps.len() {
                                    0 => "no crate".to_string(),
                                    n => crate::diagnostics::plural(n, "crate"),
                                }
                            ),
                        )
                    } else {
                        warning(
                            NAME,
                            format!(
                                "the tests (not the build) compile {} for {}: a crate that \
                                 links a native library has none for WebAssembly, so \
                                 `wasmforge test` will likely fail to build them; keep it to \
                                 native tests with `[target.'cfg(not(target_family = \"wasm\"))'.dev-dependencies]`",
                                native.join(", "),
                                target.rust_triple()
                            ),
                        )
                    }
                }
                Err(error) => Check::note(NAME, format!("the tests' dependencies: {error}")),
            }
        }
        Lang::Go => Check::ok(
            NAME,
            "`wasmforge test` runs `go test` with GOOS=wasip1 and wasmforge as -exec (each \
             package's folder and testdata/ readable, a 64 MiB Wasm stack)"
                .into(),
        ),
        Lang::C if project.dir.join("CMakeLists.txt").is_file() => {
            let declares = cmake_declares_tests(&project.dir);
            match (which::which("ctest"), declares) {
                (Err(_), _) => warning(
                    NAME,
                    "`wasmforge test` runs CMake projects' tests with ctest, which is not on PATH \
                     (it comes with CMake: `apt-get install cmake`)"
                        .into(),
                ),
                (Ok(_), false) => Check::note(
                    NAME,
                    "no add_test in the project's CMakeLists.txt files: `wasmforge test` would \
                     run no test"
                        .into(),
                ),
                (Ok(ctest), true) => Check::ok(
                    NAME,
                    format!(
                        "`wasmforge test` runs the CTest suite ({}) with BUILD_TESTING on and \
                         wasmforge as CMAKE_CROSSCOMPILING_EMULATOR, every test program in the \
                         sandbox",
                        ctest.display()
                    ),
                ),
            }
        }
        Lang::C if config.test.is_empty() => Check::note(
            NAME,
            "no [test] in wasmforge.toml: `wasmforge test` has nothing to run (a C project \
             without CMake declares its tests there)"
                .into(),
        ),
        Lang::C => Check::ok(
            NAME,
            format!(
                "`wasmforge test` runs wasmforge.toml's [test]: {} and {}",
                crate::diagnostics::plural(config.test.commands.len(), "command"),
                match config.test.case.len() {
                    1 => "1 case".to_string(),
                    n => format!("{n} cases"),
                }
            ),
        ),
    }
}

/// A warning with no code: what `wasmforge test` will meet (the build is not concerned).
fn warning(name: &str, detail: String) -> Check {
    Check {
        status: crate::diagnostics::check::Status::Warning,
        ..Check::note(name, detail)
    }
}

/// Whether a CMake project declares tests: `add_test` in one of its CMakeLists.txt or .cmake
/// files (not under target/, build/ or hidden folders; six levels at most).
fn cmake_declares_tests(dir: &Path) -> bool {
    fn walk(dir: &Path, depth: usize) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|entry| {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                depth < 6
                    && !(name.starts_with('.') || name == "target" || name == "build")
                    && walk(&path, depth + 1)
            } else if name == "CMakeLists.txt" || name.ends_with(".cmake") {
                std::fs::read_to_string(&path)
                    .is_ok_and(|text| text.to_ascii_lowercase().contains("add_test"))
            } else {
                false
            }
        })
    }
    walk(dir, 0)
}

/// Runs the checks.
pub fn doctor(options: &DoctorOptions, reporter: &dyn Reporter) -> Result<DoctorReport> {
    let Some(path) = &options.path else {
        return Ok(DoctorReport {
            project: None,
            checks: survey(reporter),
        });
    };
    let config_dir = if path.is_file() {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        path.clone()
    };
    let config = crate::lang::load_config(&config_dir)?;
    let project = crate::lang::detect(path, options.lang.or(config.package.lang))?;
    let build_options = crate::BuildOptions {
        target: options.target,
        lang: options.lang,
        kind: options.kind,
        toolchain: options.toolchain.clone(),
        bins: options.bins.clone(),
        packages: options.packages.clone(),
        features: options.features.clone(),
        extra_args: options.extra_args.clone(),
        ..crate::BuildOptions::new(path)
    };
    let job = crate::pipeline::job(&project, &config, &build_options)?;
    let (target, kind) = (job.target, job.kind);
    let mut checks = Vec::new();
    // What build refuses before probing anything, doctor reports the same way.
    if let Some(error) = crate::lang::of(project.lang).support_error(&crate::lang::Need::of(&job)) {
        checks.push(Check::from_error("target", &error));
    }
    // A plugin's world: it resolves, and the world named exists (with wit-parser's file:line).
    if let Some(dir) = crate::wit::dir_of(&project.dir, &config) {
        checks.push(
            match crate::wit::load(&dir, config.component.world.as_deref()) {
                // The world must also be one the language's bindings cover (Go's are wasmforge's).
                Ok(world) if target == Target::Wasip2 => {
                    match crate::lang::of(project.lang).bindings_cover(&world) {
                        Ok(Some(how)) => Check::ok(
                            "wit",
                            format!(
                                "world {} resolves, and {how} cover it; it exports {}",
                                world.qualified_name(),
                                world.exports().join(", ")
                            ),
                        ),
                        Ok(None) => Check::ok(
                            "wit",
                            format!(
                                "world {} resolves; it exports {}",
                                world.qualified_name(),
                                world.exports().join(", ")
                            ),
                        ),
                        Err(error) => Check::from_error("wit", &error),
                    }
                }
                Ok(world) => Check::ok(
                    "wit",
                    format!(
                        "world {} resolves; it exports {}",
                        world.qualified_name(),
                        world.exports().join(", ")
                    ),
                ),
                Err(error) => match crate::wit::diagnostic(&error) {
                    Some(d) => Check::from("wit", vec![d]),
                    None => Check::from_error("wit", &error),
                },
            },
        );
    }
    checks.extend(crate::lang::of(project.lang).doctor_checks(&job, reporter));
    // The `wasm-opt` on PATH matters only where the project's own build runs it.
    if crate::wasm::checks::project_calls_wasm_opt(&project.dir).is_some() {
        checks.push(crate::wasm::checks::wasm_opt_check(
            std::env::var_os("PATH").as_deref(),
            reporter,
        ));
    }
    drop(job);
    // The verdict is the build's own: the same pipeline with the same options, configure step,
    // build graph and toolchain, through the compile and the link (cached as any build is, so a
    // second doctor is cheap). What the checks above found is evidence: when the build
    // succeeds, their errors are warnings — a diagnosis never fails a build the compiler
    // completes.
    let quiet = Quiet::new(reporter);
    match crate::pipeline::build(&build_options, &quiet) {
        Ok(output) => {
            for check in &mut checks {
                check.downgrade("the build succeeds all the same");
            }
            let names: Vec<String> = output
                .artifacts
                .iter()
                .map(|a| format!("{}.wasm", a.name))
                .collect();
            checks.push(Check::ok(
                "build",
                format!("the build succeeds: {}", names.join(", ")),
            ));
            if target == Target::Wasip1 && kind != Some(ArtifactKind::Library) {
                checks.extend(artifact_checks(&project, target));
            }
            // What the tests need: once the build works (before, it is the build's to fix).
            checks.push(tests_check(
                &project,
                &config,
                &build_options,
                target,
                reporter,
            ));
        }
        Err(error) => {
            // The compiler's own words first, as the build shows them.
            quiet.replay(reporter);
            let verdict = Check::from_build_error(&error, &checks);
            checks.insert(0, verdict);
        }
    }
    Ok(DoctorReport {
        project: Some(ProjectSummary {
            path: project.dir.clone(),
            lang: project.lang,
            target,
        }),
        checks,
    })
}

/// What a build shows, held back: doctor shows the compiler's output only when the build fails.
struct Quiet<'a> {
    inner: &'a dyn Reporter,
    lines: std::sync::Mutex<Vec<String>>,
}

impl<'a> Quiet<'a> {
    fn new(inner: &'a dyn Reporter) -> Quiet<'a> {
        Quiet {
            inner,
            lines: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Shows the compiler output held back (its last 200 lines).
    fn replay(&self, to: &dyn Reporter) {
        let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        for line in &lines[lines.len().saturating_sub(200)..] {
            to.tool_output(line);
        }
    }
}

impl Reporter for Quiet<'_> {
    fn command(&self, line: &str) {
        self.inner.command(line)
    }
    fn tool_output(&self, line: &str) {
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(line.to_string());
    }
}

/// Imports of the modules the project's last build left (wasip1 commands).
fn artifact_checks(project: &project::Project, target: Target) -> Vec<Check> {
    let dir = crate::lang::of(project.lang).artifact_dir(project, target);
    let Some(newest) = crate::wasm::checks::built_artifacts(&dir)
        .into_iter()
        .next()
    else {
        return Vec::new();
    };
    match std::fs::read(&newest) {
        Ok(bytes)
            if matches!(
                crate::artifact::Encoding::of(&bytes, &newest),
                Ok(crate::artifact::Encoding::Module)
            ) =>
        {
            vec![crate::wasm::checks::imports_check(&bytes, &newest)]
        }
        _ => Vec::new(),
    }
}

/// Without a project: what is installed and which targets each toolchain can build.
fn survey(reporter: &dyn Reporter) -> Vec<Check> {
    let mut checks = Vec::new();
    for language in [Lang::Rust, Lang::Go, Lang::C] {
        checks.extend(crate::lang::of(language).survey(reporter));
    }
    checks.push(crate::wasm::checks::wasm_opt_check(
        std::env::var_os("PATH").as_deref(),
        reporter,
    ));
    checks
}
