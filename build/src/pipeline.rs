//! The pipeline: one build from a project folder to checked artifacts. It detects the project,
//! resolves the job, hands it to its language ([`crate::lang`]), diagnoses a failed compile with
//! the languages' rules, then optimizes, strips, validates and measures each artifact.

use std::path::PathBuf;

use crate::artifact::{Artifact, ArtifactKind, Encoding};
use crate::config::Config;
use crate::diagnostics::Diagnostic;
use crate::error::{Error, Result};
use crate::job::{BuildOutput, Job};
use crate::options::{BuildOptions, Profile};
use crate::project::{Lang, Project};
use crate::report::Reporter;
use crate::target::Target;
use crate::wasm::strip::Level as Strip;
use crate::wasm::validate::Profile as ValidationProfile;

/// The job of one build of `project`, after its language has checked every option.
pub fn job<'a>(
    project: &'a Project,
    config: &'a Config,
    options: &'a BuildOptions,
) -> Result<Job<'a>> {
    let language = crate::lang::of(project.lang);
    language.check_options(options, config)?;
    let mut job = Job::new(project, config, options)?;
    // The project's own settings (cargo's `[build] target`) choose the target when neither
    // `--target` nor wasmforge.toml does; either way the build says which won.
    if let Some(asked) = language.project_target(project) {
        let chosen_by = if options.target.is_some() {
            Some("--target")
        } else if config.package.target.is_some() {
            Some("wasmforge.toml's [package] target")
        } else {
            None
        };
        let wasm = asked.triple.parse::<crate::target::Target>().ok();
        job.target_note = match (chosen_by, wasm) {
            (None, Some(target)) => {
                job.target = target;
                Some(format!(
                    "{} ({} = `{}`)",
                    target.name(),
                    asked.source,
                    asked.triple
                ))
            }
            (Some(by), Some(target)) if target != job.target => Some(format!(
                "{} ({by}; {} says `{}`)",
                job.target.name(),
                asked.source,
                asked.triple
            )),
            (None, None) if !asked.triple.starts_with("wasm32-") => Some(format!(
                "{} ({} = `{}` is not a WebAssembly target; choose one with --target)",
                job.target.name(),
                asked.source,
                asked.triple
            )),
            _ => None,
        };
    }
    Ok(job)
}

/// Passes everything through to the user's reporter and keeps the compiler's stderr, so a
/// failed compile can be matched against the diagnostics catalog.
struct Capture<'a> {
    inner: &'a dyn Reporter,
    lines: std::sync::Mutex<Vec<String>>,
}

/// The most compiler output kept for matching (the known failures are short).
const CAPTURE_LINES: usize = 20_000;

impl Reporter for Capture<'_> {
    fn command(&self, line: &str) {
        self.inner.command(line)
    }
    fn status(&self, verb: &str, message: &str) {
        self.inner.status(verb, message)
    }
    fn progress_start(&self, total: u64) {
        self.inner.progress_start(total)
    }
    fn progress_step(&self, name: &str) {
        self.inner.progress_step(name)
    }
    fn progress_finish(&self) {
        self.inner.progress_finish()
    }
    fn tool_output(&self, line: &str) {
        self.inner.tool_output(line);
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() < CAPTURE_LINES {
            lines.push(line.to_string());
        }
    }
    fn warning(&self, message: &str) {
        self.inner.warning(message)
    }
    fn diagnostic(&self, diagnostic: &Diagnostic) {
        self.inner.diagnostic(diagnostic)
    }
}

/// Detects the project at `options.path` and builds it with its language's driver.
pub fn build(options: &BuildOptions, reporter: &dyn Reporter) -> Result<BuildOutput> {
    let config_dir = if options.path.is_file() {
        options.path.parent().map(PathBuf::from).unwrap_or_default()
    } else {
        options.path.clone()
    };
    let config = crate::lang::load_config(&config_dir)?;
    let project = crate::lang::detect(&options.path, options.lang.or(config.package.lang))?;
    // Go compiles one main package and C links one executable at a time: several asked for are
    // several builds, each named after what it builds (not `[package] name`, which names one).
    let mut each: Vec<BuildOptions> = Vec::new();
    let (list, is_packages) = match project.lang {
        Lang::Go => (&options.packages, true),
        Lang::C => (&options.bins, false),
        Lang::Rust => (&Vec::new(), false),
    };
    let mut seen = std::collections::BTreeSet::new();
    for item in list.iter().filter(|i| seen.insert(i.as_str())) {
        let mut one = options.clone();
        if is_packages {
            one.packages = vec![item.clone()];
        } else {
            one.bins = vec![item.clone()];
        }
        each.push(one);
    }
    if each.len() < 2 {
        match build_one(&project, &config, options, reporter) {
            // Several programs and none chosen: each is built, as cargo builds every binary.
            Err(Error::SeveralExecutables { names, .. }) if options.bins.is_empty() => {
                each = names
                    .into_iter()
                    .map(|name| BuildOptions {
                        bins: vec![name],
                        ..options.clone()
                    })
                    .collect();
            }
            other => return other,
        }
    }
    let mut config = config;
    config.package.name = None;
    let mut merged: Option<BuildOutput> = None;
    for one in &each {
        let output = build_one(&project, &config, one, reporter)?;
        match &mut merged {
            Some(all) => all.artifacts.extend(output.artifacts),
            None => merged = Some(output),
        }
    }
    merged.ok_or_else(|| Error::NoArtifact {
        what: project.dir.display().to_string(),
    })
}

/// One build: one compile of the project (a Go main package, a C executable, a cargo build).
fn build_one(
    project: &Project,
    config: &Config,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<BuildOutput> {
    let job = job(project, config, options)?;
    if let Some(note) = &job.target_note {
        reporter.status("Target", note);
    }
    let language = crate::lang::of(project.lang);
    let capture = Capture {
        inner: reporter,
        lines: std::sync::Mutex::new(Vec::new()),
    };
    let mut output = match language.build(&job, &capture) {
        // Stopped by a signal, the compiler's output proves nothing: no diagnosis.
        Err(Error::CompileFailed { what, status, .. }) if crate::error::interrupted(&status) => {
            return Err(Error::CompileFailed {
                hint: None,
                what,
                status,
                diagnostics: Vec::new(),
            });
        }
        Err(Error::CompileFailed {
            what,
            status,
            hint,
            diagnostics: carried,
        }) => {
            let text = capture
                .lines
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .join("\n");
            let toolchain = language.built_with(&job, reporter);
            let context = crate::diagnostics::stderr::Context {
                toolchain: toolchain.as_deref(),
                triple: job.target.rust_triple(),
            };
            // What the checks held back comes first, as they said it before the compile; then
            // what the compiler's output adds. (Which crates cargo reached before it stopped
            // varies from run to run: the diagnosis must not.)
            let mut diagnostics =
                std::mem::take(&mut *job.evidence.lock().unwrap_or_else(|p| p.into_inner()));
            // What the failed step diagnosed itself (from output it captured), then the rest.
            diagnostics.extend(carried);
            // Held per code, and per crate or file where a diagnosis names one (WF1016 for
            // ctrlc before the compile does not hide the one the compiler shows for `home`).
            let held: Vec<(String, Option<String>)> = diagnostics
                .iter()
                .map(|d| (d.code.clone(), d.subject.clone()))
                .collect();
            for d in crate::lang::diagnose(&text, &context) {
                let same = |(code, subject): &(String, Option<String>)| {
                    *code == d.code
                        && (subject.is_none() || d.subject.is_none() || *subject == d.subject)
                };
                if !held.iter().any(same) {
                    diagnostics.push(d);
                }
            }
            language.refine_diagnosis(&job, &mut diagnostics);
            return Err(Error::CompileFailed {
                hint,
                what,
                status,
                diagnostics,
            });
        }
        other => other?,
    };
    for artifact in &mut output.artifacts {
        finish_artifact(&job, artifact, reporter)?;
    }
    Ok(output)
}

/// An artifact's bytes, read when first needed.
struct ArtifactBytes {
    path: PathBuf,
    bytes: Option<Vec<u8>>,
}

impl ArtifactBytes {
    fn get(&mut self) -> Result<&Vec<u8>> {
        match &mut self.bytes {
            Some(bytes) => Ok(bytes),
            slot @ None => Ok(slot.insert(fs_err::read(&self.path)?)),
        }
    }

    /// Writes `new` over the file and notes the artifact's new size and digest.
    fn rewrite(&mut self, artifact: &mut Artifact, new: Vec<u8>) -> Result<()> {
        crate::files::write_atomic(&self.path, &new)?;
        artifact.size = new.len() as u64;
        artifact.sha256 = crate::files::sha256_hex(&new);
        self.bytes = Some(new);
        Ok(())
    }
}

/// How many of the largest functions a build reports.
pub const BREAKDOWN_FUNCTIONS: usize = 10;

/// After the driver: optimize core modules it did not optimize itself, and validate release
/// builds (or any build whose wasmforge.toml has a [validate] table) against their profile.
fn finish_artifact(job: &Job<'_>, artifact: &mut Artifact, reporter: &dyn Reporter) -> Result<()> {
    // The file is read at most once, and only by a stage that needs it (a no-op debug rebuild
    // whose import check is cached reads nothing); a stage that rewrites it keeps it current.
    let mut file = ArtifactBytes {
        path: artifact.path.clone(),
        bytes: None,
    };
    if job.opt.is_some() && artifact.opt_level.is_none() && artifact.encoding == Encoding::Module {
        let core = file.get()?.clone();
        if let (optimized, Some(optimization)) =
            job.maybe_optimize(core, &artifact.name, reporter)?
        {
            file.rewrite(artifact, optimized)?;
            optimization.record(artifact);
        }
    }
    // What was not optimized (--no-opt, components, Binaryen skipped) is stripped all the same.
    if job.strip != Strip::None && crate::wasm::strip::has_droppable(file.get()?, job.strip) {
        let bytes = file.get()?;
        let (stripped, _) =
            crate::wasm::strip::strip_level(bytes, job.strip).map_err(|e| Error::InvalidWasm {
                offset: e.offset(),
                message: e.message().to_string(),
            })?;
        artifact.compiled_size.get_or_insert(bytes.len() as u64);
        file.rewrite(artifact, stripped)?;
        artifact.stripped = Some(job.strip.name().to_string());
    }
    // A plugin: the component must export the world its WIT says.
    let mut world_imports = Vec::new();
    // A command with a world (a host of plugins, say) imports what its world imports: those are
    // for `compose` or the embedding host to provide, not validation errors.
    if job.target == Target::Wasip2
        && artifact.kind == ArtifactKind::Command
        && artifact.encoding == Encoding::Component
        && let Some(dir) = crate::wit::dir_of(&job.project.dir, job.config)
        && let Ok(world) = crate::wit::load(&dir, job.config.component.world.as_deref())
    {
        world_imports = world.imports();
    }
    // An HTTP component (a Rust bin on wstd, say) is a command by its source, served by its
    // export: its world is named so `serve` and people know.
    if job.target == Target::Wasip2
        && artifact.kind == ArtifactKind::Command
        && artifact.encoding == Encoding::Component
        && let Some(export) = crate::wasm::inspect::http_handler_export(file.get()?)
    {
        let version = export.rsplit_once('@').map_or("", |(_, v)| v);
        artifact.world = Some(format!("wasi:http/proxy@{version}"));
        reporter.status(
            "World",
            &format!(
                "{}.wasm is an HTTP component (it exports {export}): `wasmforge serve` serves it",
                artifact.name
            ),
        );
    }
    // A WIT the build did not need (C and Go plugins load theirs before compiling; a Rust crate
    // names its own to wit-bindgen) cannot stop a build the compiler completed: when it does not
    // resolve, the world check is skipped and the build says so. A component that fails a world
    // that resolves is an error.
    let world = if job.target == Target::Wasip2
        && artifact.kind == ArtifactKind::Library
        && artifact.encoding == Encoding::Component
        && let Some(dir) = crate::wit::dir_of(&job.project.dir, job.config)
    {
        match crate::wit::load(&dir, job.config.component.world.as_deref()) {
            Ok(world) => Some(world),
            Err(e) => {
                let detail = match &e {
                    Error::Wit { detail, .. } if !detail.is_empty() => {
                        let first = detail.lines().next().unwrap_or_default().trim();
                        format!(
                            ": {}",
                            first
                                .trim_end_matches(" known packages:")
                                .trim_end_matches('.')
                        )
                    }
                    _ => String::new(),
                };
                reporter.warning(&format!(
                    "{} (the build did not use it: {}.wasm was not checked against a world){detail}",
                    e.to_string().lines().next().unwrap_or_default(),
                    artifact.name
                ));
                None
            }
        }
    } else {
        None
    };
    if let Some(world) = world {
        let beyond = crate::wit::check_component(&world, file.get()?, &artifact.path)?;
        // What the world imports is the host's to provide, WASI or not.
        world_imports = world.imports();
        let name = world.qualified_name();
        let mut said = format!("{}.wasm exports world {name}", artifact.name);
        if !beyond.is_empty() {
            // Grouped by package: a runtime's WASI imports are a dozen interfaces.
            let mut packages: Vec<&str> = beyond
                .iter()
                .map(|i| i.split_once('/').map_or(i.as_str(), |(p, _)| p))
                .collect();
            packages.sort_unstable();
            packages.dedup();
            said.push_str(&format!(
                " (and imports {} of {} beyond it)",
                crate::diagnostics::plural(beyond.len(), "interface"),
                packages.join(", ")
            ));
        }
        reporter.status("World", &said);
        artifact.world = Some(name);
    }
    if job.options.profile == Profile::Release {
        artifact.breakdown = crate::wasm::size::breakdown(file.get()?, BREAKDOWN_FUNCTIONS).ok();
    }
    // After the build: imports a WASI host will not provide, said now rather than at run time.
    if job.checks
        && job.target == Target::Wasip1
        && artifact.kind == ArtifactKind::Command
        && artifact.encoding == Encoding::Module
    {
        // Keyed by content and place, so a no-op rebuild does not read the module again.
        let key = format!("imports {} {}", artifact.sha256, artifact.path.display());
        let found = match crate::cache::load::<Vec<Diagnostic>>(crate::cache::Section::Checks, &key)
        {
            Some(found) => found,
            None => {
                let found =
                    crate::wasm::checks::imports_check(file.get()?, &artifact.path).diagnostics;
                crate::cache::store(crate::cache::Section::Checks, &key, Vec::new(), &found);
                found
            }
        };
        for d in &found {
            reporter.diagnostic(d);
        }
    }
    // Release builds are validated; `[validate]` says against what, never whether.
    if job.options.profile != Profile::Release {
        return Ok(());
    }
    let profile = job
        .config
        .validate
        .profile
        .unwrap_or(match (job.target, artifact.kind) {
            (Target::Wasip2, ArtifactKind::Command) => ValidationProfile::Wasip2,
            (Target::Wasip2, ArtifactKind::Library) => ValidationProfile::Wasip2Library,
            (Target::Unknown, _) => ValidationProfile::Unknown,
            (Target::Wasip1, ArtifactKind::Command) => ValidationProfile::Wasip1Command,
            (Target::Wasip1, ArtifactKind::Library) => ValidationProfile::Wasip1Library,
        });
    let max_size = job.config.validate.max_size;
    let options = crate::wasm::validate::Options {
        profile: Some(profile),
        max_size,
        allow_imports: world_imports,
        ..Default::default()
    };
    let report = crate::wasm::validate::validate(file.get()?, &options);
    let mut problems = report.problems.clone();
    if let Some(error) = &report.error {
        problems.insert(
            0,
            format!("{} (at byte offset {})", error.message, error.offset),
        );
    }
    if !problems.is_empty() {
        return Err(Error::ValidationFailed {
            path: artifact.path.clone(),
            profile: profile.name().into(),
            problems,
        });
    }
    artifact.validated = Some(profile.name().to_string());
    Ok(())
}
