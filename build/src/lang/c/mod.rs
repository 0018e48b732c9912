//! The C driver: plain sources (parallel, incremental, with depfiles), CMake projects (with a
//! WASI toolchain file and platform module wasmforge writes) and Make projects (through a
//! compiler wrapper), on wasi-sdk, a system clang or zig. wasip2 commands are wrapped into
//! components in-process.
//!
//! Before compiling, the source checks read the build graph ([`graph`]): the files this build
//! really compiles, with its real flags, and the headers the preprocessor really includes. What
//! they find decides three things and stops nothing the compiler would build:
//! - wasi-libc's emulations (signals, mmap, process clocks, getpid) are on unless `[c] emulate`
//!   says otherwise; the headers that use them are named;
//! - code that includes <setjmp.h> is built with WebAssembly exception handling, on a toolchain
//!   that can (zig, when none was pinned and the first one found cannot);
//! - a header only the host has is a warning before the compile and the diagnosis after it.

pub mod checks;
pub mod config;
mod doctor;
mod stderr;
pub mod toolchain;

pub use cmake::TEST_LAUNCHER_MARK;

use std::path::{Path, PathBuf};

use crate::artifact::ArtifactKind;
use crate::config::Config;
use crate::diagnostics::check::Check;
use crate::diagnostics::{self, Diagnostic};
use crate::error::{Error, Result};
use crate::job::{BuildOutput, Job};
use crate::lang::c::config::CConfig;
use crate::lang::c::toolchain::{self as probe, CToolchain, SearchEnv};
use crate::options::Profile;
use crate::process::Tool;
use crate::project::{Lang, Project};
use crate::report::Reporter;
use crate::target::Target;

mod cmake;
pub mod graph;
mod make;
mod plugin;
mod sources;
mod support;
pub mod sysroot;

pub use sources::parse_depfile;

/// The C language.
#[derive(Debug)]
pub struct C;

/// How the project is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Sources,
    CMake,
    Make,
}

impl Style {
    pub fn of(dir: &Path) -> Style {
        if dir.join("CMakeLists.txt").is_file() {
            Style::CMake
        } else if ["Makefile", "makefile", "GNUmakefile"]
            .iter()
            .any(|m| dir.join(m).is_file())
        {
            Style::Make
        } else {
            Style::Sources
        }
    }
}

/// Flags for one build, from wasmforge.toml, the target, the kind, the profile and what the
/// source checks decided.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// Target selection (and sysroot).
    pub target: Vec<String>,
    /// Optimisation and debug info (CMake takes these from its build type instead).
    pub profile: Vec<String>,
    /// The project's include folders, defines and cflags from wasmforge.toml.
    pub project: Vec<String>,
    /// wasmforge's own: emulation defines, exception handling for setjmp.
    pub extra: Vec<String>,
    /// Kind-specific link flags, ldflags, libs, emulation libraries, support objects.
    pub link: Vec<String>,
    /// Sources wasmforge generated (a plugin's bindings), compiled with the project's.
    pub sources: Vec<PathBuf>,
}

impl Flags {
    /// Everything a compile gets.
    pub fn compile(&self) -> Vec<String> {
        [&self.target, &self.profile, &self.project, &self.extra]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }
}

/// What the checks decided for this build.
#[derive(Debug, Clone, Default)]
struct Decisions {
    /// The compiled code includes <setjmp.h> and the toolchain builds it with exception handling.
    setjmp: bool,
}

/// The error for a library or bare module that says nothing about what it exports (doctor
/// reports the same).
pub fn exports_error(config: &Config, target: Target, kind: ArtifactKind) -> Option<Error> {
    let c = match config::of(config) {
        Ok(c) => c,
        Err(e) => return Some(e),
    };
    if target == Target::Unknown && c.exports.is_empty() {
        return Some(Error::NoExports { bare: true });
    }
    if target != Target::Unknown && kind == ArtifactKind::Library && c.exports.is_empty() {
        return Some(Error::NoExports { bare: false });
    }
    None
}

/// The functions `[c] stubs` names, checked.
fn stubs_of(c: &CConfig) -> Result<Vec<String>> {
    for name in &c.stubs {
        if !crate::lang::c::checks::STUBBABLE.contains(&name.as_str()) {
            return Err(Error::ConfigValue {
                key: "[c] stubs",
                message: format!("`{name}` has no stub in wasmforge"),
                hint: format!(
                    "stubs exist for the functions wasi-libc declares but cannot define: {}",
                    crate::lang::c::checks::STUBBABLE.join(", ")
                ),
            });
        }
    }
    let mut names = c.stubs.clone();
    names.sort();
    names.dedup();
    Ok(names)
}

/// A wasip2 library of a project with a WIT world: its exports are the world's.
fn is_plugin(job: &Job<'_>, kind: ArtifactKind) -> bool {
    job.target == Target::Wasip2
        && kind == ArtifactKind::Library
        && crate::wit::dir_of(&job.project.dir, job.config).is_some()
}

fn flags(
    job: &Job<'_>,
    toolchain: &CToolchain,
    kind: ArtifactKind,
    decisions: &Decisions,
    bindings: Option<&plugin::Bindings>,
    reporter: &dyn Reporter,
) -> Result<Flags> {
    let c = &config::of(job.config)?;
    let unknown = job.target == Target::Unknown;
    let triple = if unknown {
        "wasm32-unknown-unknown"
    } else {
        toolchain.wasi_triple.as_str()
    };
    let mut profile: Vec<String> = match job.options.profile {
        Profile::Release if job.size => vec!["-Oz".into()],
        Profile::Release => vec!["-O2".into()],
        _ => vec!["-g".into(), "-O0".into()],
    };
    if toolchain.flavor == probe::CFlavor::Zig && job.options.profile != Profile::Release {
        // `zig cc` turns UBSan on in unoptimised builds, and its runtime panics on what every
        // other toolchain builds silently (e.g. Lua's 4-byte aligned allocations of doubles):
        // a debug build means the same on every toolchain.
        profile.push("-fno-sanitize=undefined".into());
    }
    let mut project = Vec::new();
    for include in &c.include {
        project.push(format!("-I{}", job.project.dir.join(include).display()));
    }
    project.extend(c.defines.iter().map(|d| format!("-D{d}")));
    project.extend(c.cflags.iter().cloned());

    let mut extra = Vec::new();
    let mut link = Vec::new();
    if job.simd {
        // WebAssembly SIMD: clang's vector code and its auto-vectorizer (at -O2 and above).
        extra.push("-msimd128".into());
    }
    let mut sources = Vec::new();
    if is_plugin(job, kind) {
        // The generated header's folder, for every compile (doctor's syntax-only pass too).
        project.push(format!("-I{}", plugin::include_dir(job).display()));
    }
    if let Some(b) = bindings {
        // The world's exports carry `export_name` attributes in the generated source.
        sources.push(b.source.clone());
        link.push(b.object.display().to_string());
    } else if !is_plugin(job, kind)
        && let Some(error) = exports_error(job.config, job.target, kind)
    {
        return Err(error);
    }
    if job.size {
        // Each function and datum in its own section, so the linker's garbage collection
        // (on by default in wasm-ld) drops everything unreachable.
        extra.extend(["-ffunction-sections".into(), "-fdata-sections".into()]);
        // Link-time optimization, except with setjmp/longjmp: their lowering is chosen by
        // compile-time `-mllvm` options that LTO's link-time code generation would not see.
        if !decisions.setjmp {
            extra.push("-flto".into());
        }
        link.push("-Wl,--gc-sections".into());
        match job.strip {
            crate::wasm::strip::Level::Symbols => link.push("-Wl,--strip-all".into()),
            crate::wasm::strip::Level::Debuginfo => link.push("-Wl,--strip-debug".into()),
            crate::wasm::strip::Level::None => {}
        }
    }
    let exports = c.exports.iter().map(|e| format!("-Wl,--export={e}"));
    if unknown {
        link.extend(["-nostdlib".to_string(), "-Wl,--no-entry".to_string()]);
        link.extend(exports);
    } else {
        if kind == ArtifactKind::Library {
            link.push("-mexec-model=reactor".into());
            link.extend(exports);
        }

        // wasi-libc's emulations: the define unlocks the declarations, the library (static:
        // only what the program calls is linked) implements them.
        for emulation in c.emulate.enabled() {
            extra.push(format!("-D{}", emulation.define()));
            link.push(format!("-l{}", emulation.lib()));
        }
        link.push(
            support::compat_object(job, toolchain, triple, reporter)?
                .display()
                .to_string(),
        );
        // A component: its adapter allocates from the C heap, never beside it.
        if job.target == Target::Wasip2 && bindings.is_none() {
            link.push(
                support::cabi_realloc_object(job, toolchain, triple, reporter)?
                    .display()
                    .to_string(),
            );
        }
    }
    // A stack of `[c] stack-size` (1 MiB, as Rust's), placed first: running out of it is a
    // trap at an address just below 0, never a silent write over the program's data.
    link.push(format!("-Wl,-z,stack-size={}", c.stack_size()));
    if toolchain.flavor != probe::CFlavor::Zig {
        // zig's own wasm linker takes no `--stack-first` (and runs no `wasm-opt`).
        link.push("-Wl,--stack-first".into());
        link.push(format!("-B{}", support::no_wasm_opt_dir(job)?.display()));
    }
    link.extend(c.ldflags.iter().cloned());
    link.extend(c.libs.iter().map(|l| format!("-l{l}")));
    if decisions.setjmp {
        let sjlj = support::setjmp_flags(toolchain, reporter).map_err(|why| Error::Setjmp {
            version: toolchain.version.clone(),
            why,
            hint: crate::lang::c::checks::SETJMP_FIX,
        })?;
        extra.extend(sjlj.compile.iter().cloned());
        link.extend(sjlj.link.iter().cloned());
        let tag = support::longjmp_tag_object(job, toolchain, triple, &sjlj.compile, reporter)?;
        link.push(tag.display().to_string());
    }
    let stubs = stubs_of(c)?;
    if !stubs.is_empty() && !unknown {
        let object = support::stubs_object(job, toolchain, triple, &stubs, reporter)?;
        link.push(object.display().to_string());
    }
    Ok(Flags {
        target: toolchain.target_args(triple),
        profile,
        project,
        extra,
        link,
        sources,
    })
}

fn jobs(job: &Job<'_>) -> usize {
    job.options
        .jobs
        .filter(|j| *j > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn cc_tool(toolchain: &CToolchain) -> Tool {
    let mut tool = Tool::new(
        &toolchain.cc[0],
        "see `wasmforge doctor` for the C toolchain",
    );
    tool.args(&toolchain.cc[1..]);
    tool
}

/// The build's own folder for a toolchain, target and profile: nothing built with one toolchain
/// or profile is ever reused by another.
fn build_dir(job: &Job<'_>, toolchain: &CToolchain, what: &str) -> PathBuf {
    job.work_dir()
        .join(what)
        .join(format!("{}-{}", toolchain.flavor.name(), job.target.name()))
        .join(job.options.profile.dir_name())
}

/// The name of the artifact before the build knows better (CMake: the executable chosen).
/// An executable asked for by name (`--bin`) is published under that name, as cargo names a
/// binary: `[package] name` names the project's default one (else two programs of one project
/// would overwrite each other's artifact).
fn artifact_name(job: &Job<'_>, style: Style) -> String {
    let asked = match style {
        Style::Sources => None,
        _ => job.options.bins.first().cloned(),
    };
    let configured = asked
        .or_else(|| job.config.package.name.clone())
        .or_else(|| match style {
            Style::Sources => None,
            _ => config::checked(job.config).bin,
        });
    configured.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        job.project
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "main".into())
    })
}

/// The compile commands this build runs (configuring CMake first when it must).
fn commands(
    job: &Job<'_>,
    style: Style,
    toolchain: &CToolchain,
    flags: &Flags,
    scratch: Option<&Path>,
    reporter: &dyn Reporter,
) -> Result<Vec<graph::CompileCommand>> {
    match style {
        Style::Sources => sources::commands(job, toolchain, flags),
        Style::CMake if job.options.test_runner.is_some() => {
            // A test build compiles every target of the project: all are checked.
            let dir = build_dir(job, toolchain, "cmake-test");
            let configured = cmake::configure(job, toolchain, flags, &dir, false, reporter)?;
            graph::from_compile_commands(&configured.dir.join("compile_commands.json"), |_, _| true)
        }
        Style::CMake => {
            // doctor reuses the build's own folder when a build configured it (configuring
            // costs seconds; it is a no-op while the flags are the same), else a scratch one.
            let own = build_dir(job, toolchain, "cmake-build");
            let dir = match scratch {
                Some(s) if !own.join("CMakeCache.txt").is_file() => s.join("cmake"),
                _ => own,
            };
            let configured =
                cmake::configure(job, toolchain, flags, &dir, scratch.is_some(), reporter)?;
            let (name, _) = cmake::choose(job, &configured)?;
            cmake::commands(&configured, &name)
        }
        Style::Make => {
            // The dry run writes only its log, in the build's own folder (and its mirror of
            // the project, which the build uses too).
            let dir = build_dir(job, toolchain, "make");
            Ok(make::plan(job, toolchain, flags, &dir, reporter)?.compiles)
        }
    }
}

/// What the source checks found, for a build and for doctor alike.
struct Findings {
    toolchain: CToolchain,
    decisions: Decisions,
    /// The emulations in use and where (notes).
    emulated: Vec<(crate::lang::c::config::Emulation, String)>,
    /// Refusals the user asked for (`[c] emulate` leaving out one the code needs).
    refusals: Vec<Check>,
    /// Findings the compiler decides on (a warning before, the diagnosis after).
    evidence: Vec<Check>,
    /// The compile commands of the build, as checked.
    commands: Vec<graph::CompileCommand>,
}

/// Reads the build graph and the headers it includes; may switch to a toolchain that can build
/// setjmp/longjmp when none was pinned. `scratch` is where doctor configures CMake.
fn inspect(
    job: &Job<'_>,
    style: Style,
    mut toolchain: CToolchain,
    kind: ArtifactKind,
    scratch: Option<&Path>,
    reporter: &dyn Reporter,
) -> Result<Findings> {
    let dir = &job.project.dir;
    let flags0 = flags(job, &toolchain, kind, &Decisions::default(), None, reporter)?;
    let mut cmds = commands(job, style, &toolchain, &flags0, scratch, reporter)?;
    let roots =
        crate::lang::c::checks::IncludeRoots::probe(&toolchain, &toolchain.wasi_triple, reporter);
    let scans = graph::scan_all(&cmds, jobs(job), reporter);
    let uses = crate::lang::c::checks::header_uses(&scans, &roots, dir);
    let (emulations, emulated) =
        crate::lang::c::checks::emulation_check(&uses, &config::of(job.config)?.emulate, dir);
    let mut decisions = Decisions::default();
    let mut evidence = Vec::new();
    if let Some(use_) = crate::lang::c::checks::setjmp_use(&uses) {
        match support::setjmp_flags(&toolchain, reporter) {
            Ok(_) => decisions.setjmp = true,
            Err(why) => {
                let pinned = job.toolchain.is_some();
                match (!pinned)
                    .then(|| support::setjmp_toolchain(reporter))
                    .flatten()
                {
                    Some(capable) => {
                        reporter.status(
                            "Using",
                            &format!(
                                "{} for setjmp/longjmp ({} cannot: {why})",
                                capable.version, toolchain.version
                            ),
                        );
                        toolchain = capable;
                        decisions.setjmp = true;
                        let flags1 = flags(job, &toolchain, kind, &decisions, None, reporter)?;
                        cmds = commands(job, style, &toolchain, &flags1, scratch, reporter)?;
                    }
                    None => evidence.push(Check::from(
                        "c-setjmp",
                        vec![crate::lang::c::checks::setjmp_diagnostic(
                            use_,
                            dir,
                            &toolchain.version,
                            &why,
                        )],
                    )),
                }
            }
        }
    }
    evidence.push(crate::lang::c::checks::fallthrough_check(&uses, dir, &cmds));
    let refusals = if emulations.status == crate::diagnostics::check::Status::Error {
        vec![emulations]
    } else {
        Vec::new()
    };
    Ok(Findings {
        toolchain,
        decisions,
        emulated,
        refusals,
        evidence,
        commands: cmds,
    })
}

impl crate::lang::Language for C {
    fn lang(&self) -> crate::project::Lang {
        crate::project::Lang::C
    }

    /// A name that works as a file and target name in every build system.
    fn check_name(&self, name: &str) -> std::result::Result<(), String> {
        let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        let chars_ok = |extra: &str| {
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
        };
        if !first_ok || !chars_ok("-_") {
            return Err(
                "a C project name starts with a letter and has only letters, digits, `-` and `_`"
                    .into(),
            );
        }
        Ok(())
    }

    fn toolchain_names(&self) -> &'static [&'static str] {
        &["wasi-sdk", "clang", "zig"]
    }

    fn manifests(&self) -> &'static [&'static str] {
        &["CMakeLists.txt", "Makefile", "makefile", "GNUmakefile"]
    }

    /// A C project is its folder: the manifest is the folder itself.
    fn project_of_manifest(&self, file: &Path) -> Project {
        let dir = file.parent().map(Path::to_owned).unwrap_or_default();
        Project {
            lang: Lang::C,
            manifest: dir.clone(),
            dir,
            within: None,
        }
    }

    fn signal(&self, dir: &Path) -> Option<String> {
        let mut found: Vec<String> = self
            .manifests()
            .iter()
            .filter(|name| dir.join(name).is_file())
            .map(|name| name.to_string())
            .collect();
        for (sub, shown) in [(dir.to_owned(), "*.c"), (dir.join("src"), "src/*.c")] {
            let has_c = std::fs::read_dir(&sub).is_ok_and(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .any(|e| e.path().extension().is_some_and(|x| x == "c"))
            });
            if has_c {
                found.push(shown.to_string());
            }
        }
        (!found.is_empty()).then(|| found.join(", "))
    }

    fn locate(&self, dir: &Path) -> Result<Project> {
        Ok(Project {
            lang: Lang::C,
            dir: dir.to_owned(),
            manifest: dir.to_owned(),
            within: None,
        })
    }

    fn check_options(&self, options: &crate::options::BuildOptions, config: &Config) -> Result<()> {
        crate::lang::check_non_cargo_options(
            Lang::C,
            options,
            config,
            "C builds choose code with defines: `[c] defines` in wasmforge.toml, or `-- -DNAME` for CMake",
            "a C build has no lock file: what it compiles is in the project",
            (
                "-p/--package",
                !options.packages.is_empty(),
                "Rust and Go",
                "a C project's executable is chosen with `--bin NAME` (CMake, Make)",
            ),
        )
    }

    fn support_error(&self, need: &crate::lang::Need<'_>) -> Option<Error> {
        let kind = need.kind.unwrap_or(ArtifactKind::Command);
        if need.target == Target::Wasip2 && kind == ArtifactKind::Library {
            if need.has_world {
                return None;
            }
            return Some(crate::lang::library_needs_world(
                Lang::C,
                "give it a world: a `wit/` folder with the WIT it exports (`wasmforge new NAME --lang c \
                 --kind plugin` shows how); or build a core module: `--target wasip1` (a reactor \
                 exporting `[c] exports`) or `--target unknown`",
            ));
        }
        exports_error(need.config, need.target, kind)
    }

    fn doctor_checks(
        &self,
        job: &Job<'_>,
        reporter: &dyn Reporter,
    ) -> Vec<crate::diagnostics::check::Check> {
        doctor::checks(job, reporter)
    }

    fn survey(&self, reporter: &dyn Reporter) -> Vec<crate::diagnostics::check::Check> {
        let env = SearchEnv::from_process();
        let found = probe::discover(None, &env, reporter);
        let mut found_checks = vec![checks::toolchain_check(&found)];
        if let Ok(tc) = &found {
            found_checks.push(checks::builtins_check(tc, reporter));
        }
        // Every toolchain `--toolchain` can choose, not only the one a build takes first.
        let default = found.as_ref().ok().map(|tc| tc.flavor);
        for flavor in [
            probe::CFlavor::WasiSdk,
            probe::CFlavor::Clang,
            probe::CFlavor::Zig,
        ] {
            if Some(flavor) == default {
                continue;
            }
            let name = format!("c ({})", flavor.name());
            found_checks.push(match probe::discover(Some(flavor.name()), &env, reporter) {
                Ok(tc) => Check::ok(
                    &name,
                    format!(
                        "{} ({}), target {}: `--toolchain {}`",
                        tc.version,
                        tc.cc.join(" "),
                        tc.wasi_triple,
                        flavor.name()
                    ),
                ),
                Err(_) => Check::note(&name, "not installed".into()),
            });
        }
        found_checks
    }

    fn config_table(&self) -> Option<&'static str> {
        Some("c")
    }

    fn check_config(&self, config: &Config) -> Result<()> {
        config::of(config).map(|_| ())
    }

    fn rules(&self) -> &'static [crate::diagnostics::stderr::Rule] {
        stderr::RULES
    }

    fn refine_diagnosis(&self, job: &Job<'_>, diagnostics: &mut Vec<Diagnostic>) {
        // make ran in a mirror of the project: places are the project's files.
        for d in diagnostics.iter_mut() {
            if let Some(location) = &mut d.location {
                location.file = make::unmirror(&job.project.dir, &location.file);
            }
        }
        // A function `[c] stubs` stands in for is no longer missing.
        let stubs = config::checked(job.config).stubs;
        diagnostics.retain(|d| {
            !(d.code == "WF3008" && d.subject.as_ref().is_some_and(|f| stubs.contains(f)))
        });
        // Whether WASI lacks a function the build did not find is the sysroot's to say.
        if diagnostics.iter().any(|d| d.code == "WF3008") {
            let quiet = crate::report::NullReporter;
            let sysroot =
                probe::discover(job.toolchain.as_deref(), &SearchEnv::from_process(), &quiet)
                    .map(|tc| sysroot::Sysroot::of(&tc, &tc.wasi_triple, &quiet))
                    .unwrap_or_default();
            let mut verified = Vec::new();
            for d in std::mem::take(diagnostics) {
                let d = if d.code == "WF3008" {
                    match crate::lang::c::checks::verify_missing(d, &sysroot) {
                        Some(d) => d,
                        None => continue,
                    }
                } else {
                    d
                };
                if !verified
                    .iter()
                    .any(|v: &Diagnostic| v.code == d.code && v.message == d.message)
                {
                    verified.push(d);
                }
            }
            *diagnostics = verified;
        }
        // The scan's "includes <pthread.h>" (with its place) says what clang's fall into the
        // host's headers (WF3007) says, once.
        let scanned: Vec<Option<String>> = diagnostics
            .iter()
            .filter(|d| d.code == "WF3006")
            .map(|d| d.subject.clone())
            .collect();
        diagnostics.retain(|d| {
            !(d.code == "WF3007" && d.subject.is_some() && scanned.contains(&d.subject))
        });
    }

    fn build(&self, job: &Job<'_>, reporter: &dyn Reporter) -> Result<BuildOutput> {
        let kind = job.kind.unwrap_or(ArtifactKind::Command);
        let target = job.target;
        let need = crate::lang::Need {
            kind: Some(kind),
            ..crate::lang::Need::of(job)
        };
        if let Some(error) = self.support_error(&need) {
            return Err(error);
        }
        stubs_of(&config::of(job.config)?)?;
        let style = Style::of(&job.project.dir);
        // A plugin: a wasip2 library built for the project's WIT world.
        let world_dir = (target == Target::Wasip2 && kind == ArtifactKind::Library)
            .then(|| crate::wit::dir_of(&job.project.dir, job.config))
            .flatten();
        if let Some(dir) = &world_dir {
            crate::wit::load(dir, job.config.component.world.as_deref())?;
            if style != Style::Sources {
                return Err(Error::TargetNotSupported {
                    message: "a C plugin (a wasip2 library with a WIT world) builds from plain sources; \
                              this project builds with CMake or make"
                        .into(),
                    hint: "list the sources in wasmforge.toml (`[c] sources = [\"src/*.c\"]`) and build \
                           without the CMakeLists.txt/Makefile, or build a wasip1 library"
                        .into(),
                });
            }
        }
        // Generated first: the source checks preprocess the user's files, which include it.
        let bindings = match &world_dir {
            Some(dir) => Some(plugin::bindings(job, dir, reporter)?),
            None => None,
        };
        let found = probe::discover(
            job.toolchain.as_deref(),
            &SearchEnv::from_process(),
            reporter,
        );
        if found.is_err() {
            crate::job::preflight([crate::lang::c::checks::toolchain_check(&found)], reporter)?;
        }
        let mut toolchain = found?;
        let _lock = support::BuildLock::acquire(&job.work_dir(), reporter)?;

        let mut decisions = Decisions::default();
        // The build graph decides how to build (setjmp needs a toolchain that can), so it is
        // read even with `--no-checks`, which only silences what it finds — and lets the build
        // go on when the graph cannot be read.
        if target != Target::Unknown {
            match inspect(job, style, toolchain.clone(), kind, None, reporter) {
                Ok(findings) => {
                    if job.checks {
                        if !findings.refusals.is_empty() {
                            let diagnostics = findings
                                .refusals
                                .into_iter()
                                .flat_map(|c| c.diagnostics)
                                .collect();
                            return Err(Error::Preflight {
                                diagnostics,
                                skippable: true,
                            });
                        }
                        job.evidence(findings.evidence, reporter);
                    }
                    for (emulation, at) in &findings.emulated {
                        reporter.status(
                            "Emulating",
                            &format!("{} for {at}: {}", emulation.name(), emulation.meaning()),
                        );
                    }
                    toolchain = findings.toolchain;
                    decisions = findings.decisions;
                }
                Err(error) if job.checks => return Err(error),
                Err(error) => reporter.warning(&format!(
                    "the build graph could not be read ({error}); building as configured"
                )),
            }
        }
        if decisions.setjmp {
            reporter.status(
                "Using",
                "WebAssembly exception handling for setjmp/longjmp (`wasmforge run` turns it on; wasmtime: -W exceptions=y)",
            );
        }
        let flags = flags(
            job,
            &toolchain,
            kind,
            &decisions,
            bindings.as_ref(),
            reporter,
        )?;
        if job.options.test_runner.is_some() {
            return test_build(job, style, &toolchain, &flags, reporter);
        }
        let name = artifact_name(job, style);
        reporter.status(
            "Building",
            &format!(
                "{name} ({}, {target}, {})",
                toolchain.version,
                job.options.profile.dir_name()
            ),
        );
        let (core_path, name) = match style {
            Style::Sources => (
                sources::build(job, &toolchain, &flags, &name, reporter)?,
                name,
            ),
            Style::CMake => cmake::build(
                job,
                &toolchain,
                &flags,
                &build_dir(job, &toolchain, "cmake-build"),
                reporter,
            )?,
            Style::Make => make::build(
                job,
                &toolchain,
                &flags,
                &build_dir(job, &toolchain, "make"),
                &name,
                reporter,
            )?,
        };
        // Builds with different toolchains publish to the same path: the replacement is said
        // (each toolchain's own build stays in its folder under target/wasmforge).
        let stamp = job.out_dir().join(format!(".{name}.toolchain"));
        if job.out_dir().join(format!("{name}.wasm")).is_file()
            && let Ok(previous) = std::fs::read_to_string(&stamp)
            && previous.trim() != toolchain.version
        {
            reporter.status(
                "Replacing",
                &format!(
                    "{name}.wasm built with {} by this build with {} (each toolchain's build is kept apart under {})",
                    previous.trim(),
                    toolchain.version,
                    job.work_dir()
                        .strip_prefix(&job.project.dir)
                        .unwrap_or(&job.work_dir())
                        .display()
                ),
            );
        }
        let artifact = job.publish_core(&core_path, true, &name, kind, reporter)?;
        crate::files::write_atomic(&stamp, toolchain.version.as_bytes())?;
        Ok(BuildOutput {
            lang: Lang::C,
            toolchain: toolchain.version.clone(),
            artifacts: vec![artifact],
            test_dir: None,
            test_env: Vec::new(),
        })
    }
}

/// `wasmforge test` of a CMake project: every target built in the test folder, each
/// executable's module beside its launcher (wrapped into a command component for wasip2).
fn test_build(
    job: &Job<'_>,
    style: Style,
    toolchain: &CToolchain,
    flags: &Flags,
    reporter: &dyn Reporter,
) -> Result<BuildOutput> {
    let runner = job.options.test_runner.as_deref().unwrap_or_default();
    match style {
        Style::CMake => {}
        Style::Make => {
            let dir = build_dir(job, toolchain, "make-test");
            let (tree, env) = make::test_tree(job, toolchain, flags, &dir, runner)?;
            return Ok(BuildOutput {
                lang: Lang::C,
                toolchain: toolchain.version.clone(),
                artifacts: Vec::new(),
                test_dir: Some(tree),
                test_env: env,
            });
        }
        Style::Sources => {
            return Err(Error::ConfigValue {
                key: "[test] commands",
                message: "test commands run in a Make project's tree: this project has no \
                          Makefile"
                    .into(),
                hint: "declare its tests as `[[test.case]]` entries (a program the build makes, \
                       run with arguments)"
                    .into(),
            });
        }
    }
    let dir = build_dir(job, toolchain, "cmake-test");
    reporter.status(
        "Building",
        &format!(
            "tests of {} ({}, {}, {})",
            job.project.dir.display(),
            toolchain.version,
            job.target,
            job.options.profile.dir_name()
        ),
    );
    let modules = cmake::build_tests(job, toolchain, flags, &dir, reporter)?;
    if job.target == Target::Wasip2 {
        for (_, module) in &modules {
            let core = fs_err::read(module)?;
            // Already a component: a build before this one wrapped it, and CMake did not relink.
            if wasmparser::Parser::is_component(&core) {
                continue;
            }
            let component = crate::componentize::command_component(&core, module)?;
            crate::files::write_atomic(module, &component)?;
        }
    }
    Ok(BuildOutput {
        lang: Lang::C,
        toolchain: toolchain.version.clone(),
        artifacts: Vec::new(),
        test_dir: Some(dir),
        test_env: Vec::new(),
    })
}

/// doctor's C checks beyond the toolchain: the source checks of the build, then the
/// compiler's syntax-only pass over every file the build compiles, read with the same catalog
/// as a failed build. CMake is configured in a scratch folder.
pub fn doctor_checks(job: &Job<'_>, toolchain: &CToolchain, reporter: &dyn Reporter) -> Vec<Check> {
    let kind = job.kind.unwrap_or(ArtifactKind::Command);
    // A plugin's sources include the generated header: generate it as the build would (an
    // error in the WIT is the `wit` check's to report).
    if is_plugin(job, kind)
        && let Some(dir) = crate::wit::dir_of(&job.project.dir, job.config)
    {
        let _ = plugin::bindings(job, &dir, reporter);
    }
    let style = Style::of(&job.project.dir);
    let scratch = match tempfile::Builder::new()
        .prefix("wasmforge-doctor-")
        .tempdir()
    {
        Ok(dir) => dir,
        Err(e) => return vec![Check::note("c-sources", format!("no scratch folder: {e}"))],
    };
    let findings = match inspect(
        job,
        style,
        toolchain.clone(),
        kind,
        Some(scratch.path()),
        reporter,
    ) {
        Ok(findings) => findings,
        // Each is built (and so checked) by the build that gives doctor's verdict.
        Err(e @ Error::SeveralExecutables { .. }) => {
            return vec![Check::note(
                "c-sources",
                format!("{e}: the build builds each of them"),
            )];
        }
        Err(e) => return vec![Check::from_error("c-sources", &e)],
    };
    let mut checks = Vec::new();
    checks.push(Check::ok(
        "c-build-graph",
        format!(
            "{} compiled by this build ({})",
            diagnostics::plural(findings.commands.len(), "file"),
            match style {
                Style::Sources => "sources",
                Style::CMake => "CMake compile commands",
                Style::Make => "make -n",
            }
        ),
    ));
    if findings.toolchain != *toolchain {
        checks.push(Check::ok(
            "c-setjmp",
            format!(
                "<setjmp.h> is compiled: the build uses {} (WebAssembly exception handling)",
                findings.toolchain.version
            ),
        ));
    }
    checks.extend(findings.refusals);
    checks.push(Check::ok(
        "c-emulations",
        if findings.emulated.is_empty() {
            "no header needs a wasi-libc emulation".into()
        } else {
            format!(
                "on: {}",
                findings
                    .emulated
                    .iter()
                    .map(|(e, at)| format!("{} ({at}: {})", e.name(), e.meaning()))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        },
    ));
    // The compiler has the last word: its syntax-only pass, read like a failed build.
    let objects = (findings.toolchain.flavor == probe::CFlavor::Zig).then(|| scratch.path());
    let results = graph::syntax_check_all(&findings.commands, jobs(job), objects, reporter);
    let mut found: Vec<Diagnostic> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let context = diagnostics::stderr::Context::default();
    let stubs = config::checked(job.config).stubs;
    for (source, ok, text) in &results {
        let mut recognised = crate::lang::diagnose(text, &context);
        recognised.retain(|d| !d.subject.as_ref().is_some_and(|f| stubs.contains(f)));
        if !ok && recognised.iter().all(|d| !d.is_error()) {
            let first = text
                .lines()
                .find(|l| l.contains("error"))
                .unwrap_or("the compiler rejected it");
            unknown.push(format!(
                "{}: {first}",
                source
                    .strip_prefix(&job.project.dir)
                    .unwrap_or(source)
                    .display()
            ));
        }
        for d in recognised {
            if !found
                .iter()
                .any(|f| f.code == d.code && f.message == d.message)
            {
                found.push(d);
            }
        }
    }
    // What the scan saw and the compiler confirmed is said once, with the include's place.
    let evidence: Vec<Diagnostic> = findings
        .evidence
        .into_iter()
        .flat_map(|c| c.diagnostics)
        .collect();
    let said_already = |d: &Diagnostic| match d.code.as_str() {
        "WF3007" => evidence
            .iter()
            .any(|e| e.code == "WF3006" && e.subject.is_some() && e.subject == d.subject),
        "WF3009" => evidence.iter().any(|e| e.code == "WF3009"),
        _ => false,
    };
    found.retain(|d| !said_already(d));
    let mut all = evidence;
    all.extend(found);
    checks.push(if all.is_empty() && unknown.is_empty() {
        Check::ok(
            "c-compile",
            format!(
                "{} pass the compiler's syntax-only check",
                diagnostics::plural(results.len(), "file")
            ),
        )
    } else if all.is_empty() {
        Check::failed("c-compile", unknown.join("; "))
    } else {
        let mut check = Check::from("c-compile", all);
        if !unknown.is_empty() {
            check.status = crate::diagnostics::check::Status::Error;
            check.detail = format!("{}; {}", check.detail, unknown.join("; "));
        }
        check
    });
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::c::toolchain::CFlavor;

    #[test]
    fn build_folders_are_separate_per_toolchain_target_and_profile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = crate::project::Project {
            lang: Lang::C,
            dir: dir.path().to_owned(),
            manifest: dir.path().to_owned(),
            within: None,
        };
        let config = Config::default();
        let options = crate::BuildOptions::new(dir.path());
        let job = Job::new(&project, &config, &options).expect("job");
        let tc = |flavor| CToolchain {
            flavor,
            cc: vec!["cc".into()],
            ar: vec!["ar".into()],
            ranlib: vec!["ranlib".into()],
            version: "x".into(),
            sysroot: None,
            wasi_triple: "wasm32-wasi".into(),
        };
        let a = build_dir(&job, &tc(CFlavor::Clang), "cmake-build");
        let b = build_dir(&job, &tc(CFlavor::Zig), "cmake-build");
        assert_ne!(a, b);
        let release = crate::BuildOptions {
            profile: Profile::Release,
            ..crate::BuildOptions::new(dir.path())
        };
        let job_r = Job::new(&project, &config, &release).expect("job");
        assert_ne!(a, build_dir(&job_r, &tc(CFlavor::Clang), "cmake-build"));
    }
}
