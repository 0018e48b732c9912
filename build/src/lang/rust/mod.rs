//! The Rust driver: `cargo build --target wasm32-*` with cargo's JSON messages.
//!
//! One `cargo metadata` call resolves the workspace (which packages, which targets, how many
//! crates to compile); cargo's `compiler-artifact` messages then say exactly which files it
//! wrote, so no output path is ever guessed.

pub mod checks;
mod doctor;
mod stderr;
mod targetless;
pub mod toolchain;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use cargo_metadata::{Message, Metadata, MetadataCommand, Package, PackageId};

use crate::artifact::{self, ArtifactKind, Identity};
use crate::cache::Stamp;
use crate::diagnostics;
use crate::error::{Error, Result};
use crate::job::{BuildOutput, Job};
use crate::lang::rust::checks::RustFacts;
use crate::lang::rust::toolchain as rust_toolchain;
use crate::options::{BuildOptions, Profile};
use crate::process::Tool;
use crate::project::{Lang, Project};
use crate::report::Reporter;
use crate::target::Target;

const CARGO_HINT: &str = "install Rust with rustup (https://rustup.rs), which provides cargo";

/// One Wasm-capable target of a package that this build will produce.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Planned {
    package: String,
    package_id: PackageId,
    /// Cargo's target name (binary name, or library name).
    target_name: String,
    kind: ArtifactKind,
}

/// The Rust driver.
/// The Rust language.
#[derive(Debug)]
pub struct Rust;

impl crate::lang::Language for Rust {
    fn lang(&self) -> crate::project::Lang {
        crate::project::Lang::Rust
    }

    /// A package name cargo takes, not a keyword, a standard crate or a folder cargo uses.
    fn check_name(&self, name: &str) -> std::result::Result<(), String> {
        let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        let chars_ok = |extra: &str| {
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
        };
        const KEYWORDS: &[&str] = &[
            "as",
            "async",
            "await",
            "break",
            "const",
            "continue",
            "crate",
            "dyn",
            "else",
            "enum",
            "extern",
            "false",
            "fn",
            "for",
            "if",
            "impl",
            "in",
            "let",
            "loop",
            "match",
            "mod",
            "move",
            "mut",
            "pub",
            "ref",
            "return",
            "self",
            "static",
            "struct",
            "super",
            "trait",
            "true",
            "type",
            "unsafe",
            "use",
            "where",
            "while",
            "test",
            "core",
            "std",
            "alloc",
            // Folder names of cargo's target directory, which cargo refuses for binaries.
            "deps",
            "build",
            "examples",
            "incremental",
        ];
        if !first_ok || !chars_ok("-_") {
            return Err("a Rust package name starts with a letter and has only letters, digits, `-` and `_`".into());
        }
        if KEYWORDS.contains(&name) {
            return Err(format!(
                "`{name}` is reserved: a Rust keyword, a standard crate, or a folder cargo uses"
            ));
        }
        Ok(())
    }

    fn manifests(&self) -> &'static [&'static str] {
        &["Cargo.toml"]
    }

    fn signal(&self, dir: &Path) -> Option<String> {
        dir.join("Cargo.toml")
            .is_file()
            .then(|| "Cargo.toml".to_string())
    }

    fn upward_manifest(&self) -> Option<&'static str> {
        Some("Cargo.toml")
    }

    fn hosts(&self, other: crate::project::Lang) -> bool {
        other == crate::project::Lang::C
    }

    fn locate(&self, dir: &Path) -> Result<Project> {
        let manifest = crate::project::nearest(dir, "Cargo.toml").ok_or_else(|| {
            crate::Error::NotAProject {
                path: dir.to_owned(),
            }
        })?;
        Ok(Project {
            lang: crate::project::Lang::Rust,
            dir: dir.to_owned(),
            manifest,
            within: None,
        })
    }

    fn check_options(
        &self,
        options: &crate::options::BuildOptions,
        config: &crate::config::Config,
    ) -> Result<()> {
        if options.kind.is_none() && config.package.kind.is_some() {
            return Err(crate::Error::ConfigValue {
                key: "[package] kind",
                message: "a kind is for Go and C projects".into(),
                hint: "a Rust package's kind is in Cargo.toml: a binary is a command, \
                       `[lib] crate-type = [\"cdylib\"]` a library; remove `kind`"
                    .into(),
            });
        }
        if options.kind.is_some() {
            return Err(crate::lang::refuse(
                crate::project::Lang::Rust,
                "--kind",
                "Go and C",
                "a Rust package's kind is in Cargo.toml: a binary (src/main.rs, [[bin]]) is a \
                 command, `[lib] crate-type = [\"cdylib\"]` a library; choose with --bin or -p",
            ));
        }
        if let Some(name) = &options.toolchain {
            check_toolchain_name(name, false)?;
        } else if let Some(name) = &config.build.toolchain {
            check_toolchain_name(name, true)?;
        }
        Ok(())
    }

    fn project_target(&self, project: &Project) -> Option<crate::lang::ProjectTarget> {
        cargo_build_target(&project.dir)
    }

    fn support_error(&self, _need: &crate::lang::Need<'_>) -> Option<crate::Error> {
        None
    }

    fn doctor_checks(
        &self,
        job: &Job<'_>,
        reporter: &dyn Reporter,
    ) -> Vec<crate::diagnostics::check::Check> {
        doctor::checks(job, reporter)
    }

    fn survey(&self, reporter: &dyn Reporter) -> Vec<crate::diagnostics::check::Check> {
        rust_toolchain::survey(reporter)
    }

    fn artifact_dir(&self, project: &Project, target: Target) -> PathBuf {
        artifact_root(project).join(target.name())
    }

    fn built_with(&self, job: &Job<'_>, reporter: &dyn Reporter) -> Option<String> {
        rust_toolchain::resolve(&job.project.dir, &rustup_env(job), reporter)
            .ok()
            .filter(|tc| tc.rustup)
            .map(|tc| tc.name)
    }

    fn rules(&self) -> &'static [crate::diagnostics::stderr::Rule] {
        stderr::RULES
    }

    /// A crate with no code for the target (WF1016) is followed by what pulls it in, as cargo's
    /// own `cargo tree -i` says: the crate that depends on it, and the feature that enables it.
    fn refine_diagnosis(
        &self,
        job: &Job<'_>,
        diagnostics: &mut Vec<crate::diagnostics::Diagnostic>,
    ) {
        let mut metadata_read: Option<Option<Metadata>> = None;
        for d in diagnostics.iter_mut().filter(|d| d.code == "WF1016") {
            let Some(name) = d.subject.clone() else {
                continue;
            };
            let mut cargo = Tool::new("cargo", CARGO_HINT);
            cargo
                .args([
                    "tree", "--invert", &name, "-e", "features", "--prefix", "depth",
                ])
                .args(["--target", job.target.rust_triple(), "--manifest-path"])
                .arg(&job.project.manifest)
                .current_dir(&job.project.dir)
                .env("CARGO_TERM_COLOR", "never");
            if let Some(toolchain) = &job.toolchain {
                cargo.env("RUSTUP_TOOLCHAIN", toolchain);
            }
            for (flag, on) in [
                ("--offline", job.options.offline || job.options.frozen),
                ("--locked", job.options.locked || job.options.frozen),
            ] {
                if on {
                    cargo.arg(flag);
                }
            }
            cargo.args(job.options.features.cargo_args());
            let Ok(output) = cargo.capture(&crate::report::NullReporter) else {
                continue;
            };
            if !output.status.success() {
                continue;
            }
            let dependents = targetless::dependents(&String::from_utf8_lossy(&output.stdout));
            // The dependents' manifests say which of their features turn the crate on.
            if metadata_read.is_none() && !dependents.is_empty() {
                metadata_read =
                    Some(metadata(job.project, job.options, &crate::report::NullReporter).ok());
            }
            // Each step's child: the crate itself, then the step before.
            let children: Vec<String> = std::iter::once(name.clone())
                .chain(dependents.iter().map(|(n, _)| n.clone()))
                .collect();
            let by: Vec<(String, String, Vec<String>, bool)> = dependents
                .into_iter()
                .zip(children)
                .map(|((dependent, version), child)| {
                    let package = metadata_read
                        .as_ref()
                        .and_then(Option::as_ref)
                        .and_then(|m| {
                            m.packages.iter().find(|p| {
                                p.name.as_str() == dependent && p.version.to_string() == version
                            })
                        });
                    let (features, by_default) = package
                        .map(|p| targetless::enabled_by(p, &child))
                        .unwrap_or_default();
                    (dependent, version, features, by_default)
                })
                .collect();
            if let Some(via) = targetless::pulled_in(&by)
                && (!d.message.contains("(required by ") || via.contains("through its feature"))
            {
                d.message.push_str(&format!(" — {via}"));
            }
            // A newer release may have the code: the registry's index says whether there is
            // one (when it can be reached; never with --offline).
            let version = d
                .message
                .strip_prefix(&format!("{name} "))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| semver::Version::parse(v).ok());
            if let Some(version) = version
                && !(job.options.offline || job.options.frozen)
                && let Some(newest) = newest_on_registry(&name, job.toolchain.as_deref())
            {
                if newest > version {
                    d.fix.text.push_str(&format!(
                        " — crates.io has a newer {name}, {newest}: whether it has code for this target shows when it builds (`cargo update -p {name}`, or raise the requirement in Cargo.toml)"
                    ));
                } else {
                    d.fix.text.push_str(&format!(
                        " — {name} {version} is the newest on crates.io: no newer release to try"
                    ));
                }
            }
        }
    }

    fn build(&self, job: &Job<'_>, reporter: &dyn Reporter) -> Result<BuildOutput> {
        build(job, reporter)
    }
}

/// `--toolchain` for Rust names a rustup toolchain (`nightly`, `1.82.0`, a linked one), never
/// another language's toolchain.
fn check_toolchain_name(name: &str, from_config: bool) -> Result<()> {
    let well_formed = !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let owner = crate::lang::all()
        .into_iter()
        .find(|l| l.toolchain_names().contains(&name))
        .map(|l| l.lang());
    if well_formed && owner.is_none() {
        return Ok(());
    }
    Err(crate::Error::UnknownToolchain {
        given: name.into(),
        lang: crate::project::Lang::Rust,
        owner,
        from_config,
        hint: "for Rust, --toolchain selects a rustup toolchain as `cargo +NAME` does: stable, \
               nightly, 1.82.0 (`rustup toolchain list` shows what is installed)"
            .into(),
    })
}

/// rustup's view for this build: the toolchain `--toolchain` or `[build] toolchain` chose,
/// else rustup's own rules (RUSTUP_TOOLCHAIN, rust-toolchain.toml, the default).
pub fn rustup_env(job: &Job<'_>) -> rust_toolchain::RustupEnv {
    let chosen_by = if job.options.toolchain.is_some() {
        "--toolchain"
    } else {
        "wasmforge.toml [build] toolchain"
    };
    rust_toolchain::RustupEnv::choosing(job.toolchain.as_deref(), chosen_by)
}

/// The flag that makes Rust's wasip2 linker leave the core module alone, so it can be optimized
/// before wit-component turns it into a component (Binaryen cannot read components).
const SKIP_WIT_COMPONENT: &str = "-Clink-arg=--skip-wit-component";

/// Builds a Rust project.
fn build(job: &Job<'_>, reporter: &dyn Reporter) -> Result<BuildOutput> {
    let (project, options, target) = (job.project, job.options, job.target);
    // The driver's helpers read the target from the options: pin the resolved one there.
    let options = &BuildOptions {
        target: Some(target),
        toolchain: job.toolchain.clone(),
        ..options.clone()
    };
    let triple = target.rust_triple();
    let toolchain =
        rust_toolchain::resolve(&project.dir, &rustup_env(job), reporter).map_err(|e| match e {
            Error::ToolchainNotInstalled {
                toolchain,
                source_desc,
                ..
            } => Error::ToolchainNotInstalled {
                toolchain,
                source_desc,
                triple: triple.to_string(),
            },
            other => other,
        })?;
    // Fail before cargo runs: its own message for a missing target is a wall of
    // "can't find crate for `core`" errors that never names the fix.
    // A rustc older than the target cannot get it with `rustup target add`: say that first.
    let rustc = rust_toolchain::rustc_version(&toolchain, reporter);
    crate::job::preflight(
        [
            crate::lang::rust::checks::rustc_check(&toolchain.name, rustc, target),
            crate::lang::rust::checks::edition_check(&project.manifest, rustc),
        ],
        reporter,
    )?;
    toolchain.require_target(triple)?;

    let resolved = resolve_workspace(project, options, &toolchain.name, reporter)?;
    let plan = &resolved.plan;
    check_file_names(plan, job.config.package.name.as_deref())?;

    // Pre-flight: what would make cargo fail, said before it runs.
    let mut dep_env = crate::lang::rust::checks::DepEnv::read(&project.dir, target);
    dep_env.target_dir = Some(resolved.target_directory.clone());
    let c_for_scripts = (target != Target::Unknown
        && !dep_env.cc_set
        && resolved.facts.deps.iter().any(|d| d.builds_c))
    .then(|| {
        crate::lang::c::toolchain::discover(
            None,
            &crate::lang::c::toolchain::SearchEnv::from_process(),
            reporter,
        )
        .ok()
    })
    .flatten()
    .filter(|tc| tc.flavor != crate::lang::c::toolchain::CFlavor::Zig);
    dep_env.c_compiler = c_for_scripts
        .as_ref()
        .map(|tc| render_env(&script_c_env(tc, triple, job.simd)));
    // Facts cargo would stop on: no artifact to build, a package needing a newer rustc.
    crate::job::preflight(
        [crate::lang::rust::checks::packages_check(
            &resolved.facts,
            rustc,
        )],
        reporter,
    )?;
    // Evidence: what the graph says about crates on this target. The compiler decides.
    if job.checks {
        let build_target = std::env::var("CARGO_BUILD_TARGET").ok();
        let mut checks = vec![
            crate::lang::rust::checks::renamed_target_check(
                &project.dir,
                false,
                rustc,
                build_target.as_deref(),
            ),
            crate::lang::rust::checks::dependency_check(&resolved.facts, target, &dep_env),
        ];
        for check in &mut checks {
            // wasmforge passes `--target` itself and sets CC for build scripts: for this build
            // the old target name and a C-building crate are worth knowing, not stopping for.
            check
                .diagnostics
                .retain(|d| !(d.code == "WF1011" && c_for_scripts.is_some()));
            for d in &mut check.diagnostics {
                if d.code == "WF1004" {
                    d.severity = diagnostics::Severity::Warning;
                }
            }
        }
        job.evidence(checks, reporter);
    }

    let mut cargo = Tool::new("cargo", CARGO_HINT);
    cargo
        .current_dir(&project.dir)
        .args(cargo_args(project, options, &resolved));
    // `--toolchain NAME` is `cargo +NAME`: rustup's proxies read the variable.
    if let Some(name) = &options.toolchain {
        cargo.env("RUSTUP_TOOLCHAIN", name);
    }
    if let Some(tc) = &c_for_scripts {
        let var = triple.replace('-', "_");
        for (name, value) in script_c_env(tc, triple, job.simd) {
            cargo.env(name, value);
        }
        reporter.status(
            "Using",
            &format!("{} for C in build scripts (CC_{var})", tc.cc[0]),
        );
    }
    if job.size {
        let root = if resolved.workspace_root.as_os_str().is_empty() {
            project.dir.clone()
        } else {
            resolved.workspace_root.clone()
        };
        let (applied, kept) = size_overrides(&root.join("Cargo.toml"), "release");
        for (var, value, _) in &applied {
            cargo.env(var, value);
        }
        let said: Vec<String> = applied
            .iter()
            .map(|(_, _, setting)| setting.clone())
            .collect();
        let mut message = if said.is_empty() {
            "the project's [profile.release] already sets every size key".to_string()
        } else {
            format!("[profile.release] {}", said.join(", "))
        };
        if !kept.is_empty() {
            message.push_str(&format!(" (the project's own: {})", kept.join(", ")));
        }
        reporter.status("Sizing", &message);
    }
    // A release wasip2 build is optimized as a core module, then componentized here.
    let core_then_component = target == Target::Wasip2 && job.opt.is_some();
    let mut own_flags: Vec<&str> = Vec::new();
    if job.simd {
        // WebAssembly SIMD for this crate and every dependency (std stays as shipped).
        own_flags.push("-Ctarget-feature=+simd128");
    }
    if core_then_component {
        own_flags.push(SKIP_WIT_COMPONENT);
    }
    if !own_flags.is_empty() {
        // Flags add to the user's own: RUSTFLAGS when set (it replaces config rustflags),
        // else a --config entry, which cargo merges with the config files' arrays.
        match (
            std::env::var("CARGO_ENCODED_RUSTFLAGS"),
            std::env::var("RUSTFLAGS"),
        ) {
            (Ok(encoded), _) => {
                cargo.env(
                    "CARGO_ENCODED_RUSTFLAGS",
                    format!("{encoded}\u{1f}{}", own_flags.join("\u{1f}")),
                );
            }
            (_, Ok(flags)) => {
                cargo.env("RUSTFLAGS", format!("{flags} {}", own_flags.join(" ")));
            }
            _ => {
                // A target-level entry makes cargo ignore `build.rustflags`: carry those over.
                let mut flags = inherited_build_rustflags(&project.dir, triple);
                flags.extend(own_flags.iter().map(|f| f.to_string()));
                let array =
                    toml::Value::Array(flags.into_iter().map(toml::Value::String).collect());
                cargo.args(["--config", &format!("target.{triple}.rustflags={array}")]);
            }
        }
    }

    let package_names: BTreeSet<&str> = plan.iter().map(|p| p.package.as_str()).collect();
    let names: Vec<&str> = package_names.into_iter().collect();
    reporter.status(
        "Building",
        &format!(
            "{} ({triple}, {})",
            names.join(", "),
            options.profile.dir_name()
        ),
    );

    let produced = run_cargo(&cargo, resolved.units, reporter)?;

    let out_dir = resolved
        .target_directory
        .join("wasmforge")
        .join(target_of(options).name())
        .join(options.profile.dir_name());
    let mut artifacts = Vec::new();
    for planned in plan {
        let Some(source) = produced.get(&(
            planned.package_id.clone(),
            planned.target_name.clone(),
            planned.kind,
        )) else {
            return Err(Error::NoArtifact {
                what: format!("`{}` of package `{}`", planned.target_name, planned.package),
            });
        };
        // `[package] name` names the one artifact (check_file_names made sure there is one).
        let stem = match &job.config.package.name {
            Some(name) => name.clone(),
            None => source
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let dest = out_dir.join(format!("{stem}.wasm"));
        let id = Identity {
            package: &planned.package,
            name: &stem,
            target: target_of(options),
            kind: planned.kind,
            profile: options.profile.dir_name(),
        };
        if core_then_component {
            let (core, optimized) = job.maybe_optimize(fs_err::read(source)?, &stem, reporter)?;
            let component = match planned.kind {
                ArtifactKind::Command => crate::componentize::command_component(&core, source)?,
                ArtifactKind::Library => crate::componentize::library_component(&core, source)?,
            };
            let mut artifact = artifact::publish_bytes(&component, dest, id)?;
            if let Some(optimization) = optimized {
                optimization.record(&mut artifact);
            }
            artifacts.push(artifact);
        } else {
            artifacts.push(artifact::publish(source, dest, id)?);
        }
    }
    Ok(BuildOutput {
        lang: Lang::Rust,
        toolchain: toolchain.name,
        artifacts,
        test_dir: None,
        test_env: Vec::new(),
    })
}

/// What `--size` asks of cargo's profile, key by key.
const SIZE_PROFILE: [(&str, &str); 5] = [
    ("opt-level", "\"z\""),
    ("lto", "\"fat\""),
    ("codegen-units", "1"),
    ("panic", "\"abort\""),
    ("strip", "\"symbols\""),
];

/// The `CARGO_PROFILE_<NAME>_<KEY>` variables `--size` sets — those for keys neither the
/// workspace's `[profile.<name>]` nor the environment sets already — as (variable, value, key);
/// and the keys the project sets itself, which win.
fn size_overrides(manifest: &Path, profile: &str) -> (Vec<(String, String, String)>, Vec<String>) {
    let table: Option<toml::Table> = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse().ok());
    let own = table
        .as_ref()
        .and_then(|t| t.get("profile"))
        .and_then(|p| p.get(profile))
        .and_then(|p| p.as_table());
    let mut applied = Vec::new();
    let mut kept = Vec::new();
    for (key, value) in SIZE_PROFILE {
        let var = format!(
            "CARGO_PROFILE_{}_{}",
            profile.to_ascii_uppercase().replace('-', "_"),
            key.to_ascii_uppercase().replace('-', "_")
        );
        // The environment beats Cargo.toml in cargo, so it is named first.
        if let Ok(set) = std::env::var(&var) {
            kept.push(format!("{var}={set}"));
        } else if let Some(set) = own.and_then(|t| t.get(key)) {
            kept.push(format!("{key} = {set}"));
        } else {
            applied.push((
                var,
                value.trim_matches('"').to_string(),
                format!("{key} = {value}"),
            ));
        }
    }
    (applied, kept)
}

fn target_of(options: &BuildOptions) -> Target {
    options.target.unwrap_or(Target::Wasip1)
}

/// What `cargo metadata` told us that the build needs.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Resolved {
    plan: Vec<Planned>,
    /// Crates to compile, for the progress bar.
    units: u64,
    target_directory: PathBuf,
    /// Where the workspace's Cargo.toml (with its `[profile]` tables) is.
    #[serde(default)]
    workspace_root: PathBuf,
    /// The user pointed at a package manifest and named no packages: build it as cargo would.
    whole_root: bool,
    /// What the pre-flight checks read (the resolved graph for the target).
    facts: RustFacts,
}

/// Every artifact gets a file of its own. On WebAssembly a binary and a cdylib of the same name
/// are the same file (cargo warns of an "output filename collision" and keeps one), and
/// `[package] name` can name only one artifact.
fn check_file_names(plan: &[Planned], configured: Option<&str>) -> Result<()> {
    for lib in plan.iter().filter(|p| p.kind == ArtifactKind::Library) {
        let file = lib.target_name.replace('-', "_");
        if let Some(bin) = plan.iter().find(|p| {
            p.kind == ArtifactKind::Command && p.package == lib.package && p.target_name == file
        }) {
            return Err(Error::ArtifactClash {
                message: format!(
                    "package `{}` has a binary and a library (cdylib) that are both `{file}.wasm` on \
                     WebAssembly: one would overwrite the other",
                    lib.package
                ),
                hint: format!(
                    "rename the library in Cargo.toml (`[lib] name = \"{file}_lib\"`), or build only \
                     the binary: `--bin {}`",
                    bin.target_name
                ),
            });
        }
    }
    if let Some(name) = configured
        && plan.len() > 1
    {
        let names: Vec<&str> = plan.iter().map(|p| p.target_name.as_str()).collect();
        return Err(Error::ArtifactClash {
            message: format!(
                "wasmforge.toml: [package] name = \"{name}\" names one artifact, and this build makes {} ({})",
                plan.len(),
                names.join(", ")
            ),
            hint: "choose one with `--bin NAME` or `-p PACKAGE`, or remove `name`".into(),
        });
    }
    Ok(())
}

/// Resolves the workspace with one `cargo metadata` call, or reuses the last answer while the
/// manifests, lock file and cargo configuration it came from are unchanged.
fn resolve_workspace(
    project: &Project,
    options: &BuildOptions,
    toolchain: &str,
    reporter: &dyn Reporter,
) -> Result<Resolved> {
    let key = format!(
        "rust-plan {}\n{}\n{}\n{toolchain}\n{}\n{:?} {:?} {:?} {} {} {}\n{:?} {:?}",
        env!("CARGO_PKG_VERSION"),
        project.manifest.display(),
        project.dir.display(),
        target_of(options),
        options.packages,
        options.bins,
        options.features,
        options.locked,
        options.frozen,
        options.offline,
        std::env::var_os("CARGO_TARGET_DIR"),
        std::env::var_os("CARGO_BUILD_TARGET_DIR"),
    );
    if let Some(resolved) = crate::cache::load::<Resolved>(crate::cache::Section::RustPlans, &key) {
        return Ok(resolved);
    }
    let metadata = metadata(project, options, reporter)?;
    let selected = select_packages(&metadata, project, options)?;
    let facts = crate::lang::rust::checks::facts(&metadata, &selected);
    let plan = plan(&selected, options).map_err(|e| bin_elsewhere(e, &metadata, options))?;
    let roots: Vec<&PackageId> = plan.iter().map(|p| &p.package_id).collect();
    let resolved = Resolved {
        units: count_units(&metadata, &roots),
        target_directory: metadata.target_directory.clone().into_std_path_buf(),
        workspace_root: metadata.workspace_root.clone().into_std_path_buf(),
        whole_root: package_at(&metadata, &project.manifest).is_some()
            && options.packages.is_empty(),
        plan,
        facts,
    };
    crate::cache::store(
        crate::cache::Section::RustPlans,
        &key,
        inputs_of(&metadata, project),
        &resolved,
    );
    Ok(resolved)
}

/// The `build.rustflags` cargo would use for `project_dir` (CARGO_BUILD_RUSTFLAGS, else the
/// config files' arrays joined, lower precedence first), when no config file has target-level
/// rustflags (`[target.<triple>]` or `[target.'cfg(…)']`), which already replace them. Adding
/// wasmforge's own target-level flag would otherwise silently drop these.
fn inherited_build_rustflags(project_dir: &Path, triple: &str) -> Vec<String> {
    let words = |v: &toml::Value| -> Vec<String> {
        match v {
            toml::Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
            toml::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut files: Vec<PathBuf> = Vec::new();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".cargo")));
    if let Some(home) = &cargo_home {
        files.extend([home.join("config.toml"), home.join("config")]);
    }
    let mut ancestors: Vec<&Path> = project_dir.ancestors().collect();
    ancestors.reverse();
    for dir in ancestors {
        let cargo_dir = dir.join(".cargo");
        if cargo_home.as_deref() == Some(cargo_dir.as_path()) {
            continue;
        }
        files.extend([cargo_dir.join("config.toml"), cargo_dir.join("config")]);
    }
    let mut flags = Vec::new();
    for file in files.iter().filter(|f| f.is_file()) {
        let Ok(table) = fs_err::read_to_string(file)
            .map_err(|_| ())
            .and_then(|t| t.parse::<toml::Table>().map_err(|_| ()))
        else {
            continue;
        };
        if let Some(targets) = table.get("target").and_then(|t| t.as_table())
            && targets.iter().any(|(key, t)| {
                (key == triple || key.starts_with("cfg(")) && t.get("rustflags").is_some()
            })
        {
            return Vec::new();
        }
        if let Some(value) = table.get("build").and_then(|b| b.get("rustflags")) {
            flags.extend(words(value));
        }
    }
    if let Ok(env) = std::env::var("CARGO_BUILD_RUSTFLAGS") {
        return env.split_whitespace().map(str::to_string).collect();
    }
    flags
}

/// What cc-rs (and the crates built on it: `-sys` crates, `cmake`) reads to compile C for
/// `triple`: the compiler, its flags and the archiver. cc-rs passes `--target=<rust triple>`
/// first; the toolchain's own triple after it wins (clang 16 knows `wasm32-wasi`, not
/// `wasm32-wasip1`, and finds Debian's WASI headers only through it), with its sysroot.
pub(crate) fn script_c_env(
    tc: &crate::lang::c::toolchain::CToolchain,
    triple: &str,
    simd: bool,
) -> Vec<(String, String)> {
    let var = triple.replace('-', "_");
    let mut cflags = tc.target_args(&tc.wasi_triple);
    if simd {
        cflags.push("-msimd128".into());
    }
    vec![
        (format!("CC_{var}"), tc.cc.join(" ")),
        (format!("CFLAGS_{var}"), cflags.join(" ")),
        (format!("AR_{var}"), tc.ar.join(" ")),
    ]
}

/// `NAME=value …` for a shell.
pub(crate) fn render_env(env: &[(String, String)]) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={}", crate::text::shell_quote(std::ffi::OsStr::new(v))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The target cargo itself would build for (`CARGO_BUILD_TARGET`, else `[build] target` of the
/// nearest `.cargo/config.toml` from the project folder up, else CARGO_HOME's), as cargo reads
/// them; a list of several targets names none.
fn cargo_build_target(dir: &Path) -> Option<crate::lang::ProjectTarget> {
    if let Ok(triple) = std::env::var("CARGO_BUILD_TARGET")
        && !triple.trim().is_empty()
    {
        return Some(crate::lang::ProjectTarget {
            triple: triple.trim().to_string(),
            source: "CARGO_BUILD_TARGET".into(),
        });
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".cargo")));
    let files = dir
        .ancestors()
        .flat_map(|d| [d.join(".cargo/config.toml"), d.join(".cargo/config")])
        .chain(
            cargo_home
                .into_iter()
                .flat_map(|h| [h.join("config.toml"), h.join("config")]),
        );
    for file in files {
        // Bounded: a configuration file is small; a huge one is not read.
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if !meta.is_file() || meta.len() > 1 << 20 {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(value) = toml::from_str::<toml::Table>(&text) else {
            continue;
        };
        let target = value.get("build").and_then(|b| b.get("target"));
        let triple = match target {
            Some(toml::Value::String(t)) => t.clone(),
            Some(toml::Value::Array(list)) => match list.as_slice() {
                [toml::Value::String(t)] => t.clone(),
                _ => return None,
            },
            _ => continue,
        };
        let shown = file
            .strip_prefix(dir)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| file.clone());
        return Some(crate::lang::ProjectTarget {
            triple,
            source: format!("{} [build] target", shown.display()),
        });
    }
    None
}

/// The files whose change can change the plan: every member's manifest and the places where
/// cargo discovers targets, the lock file, and cargo's configuration files from the project
/// folder up and in CARGO_HOME.
fn inputs_of(metadata: &Metadata, project: &Project) -> Vec<Stamp> {
    let root = metadata.workspace_root.as_std_path();
    let mut paths: Vec<PathBuf> = vec![
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        project.manifest.clone(),
    ];
    for package in metadata.workspace_packages() {
        let manifest = package.manifest_path.as_std_path();
        paths.push(manifest.to_owned());
        if let Some(dir) = manifest.parent() {
            for sub in ["src", "src/bin", "src/main.rs", "src/lib.rs"] {
                paths.push(dir.join(sub));
            }
        }
    }
    for dir in project.dir.ancestors() {
        paths.extend([dir.join(".cargo/config.toml"), dir.join(".cargo/config")]);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|h| h.join(".cargo")));
    if let Some(home) = cargo_home {
        paths.extend([home.join("config.toml"), home.join("config")]);
    }
    paths.sort();
    paths.dedup();
    paths.iter().map(|p| Stamp::of(p)).collect()
}

/// `cargo metadata` for the project and the options' target, run through the process wrapper as
/// every other command is (shown with `-v`, `cargo` resolved on PATH as the build resolves it),
/// read by `cargo_metadata`.
fn metadata(
    project: &Project,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Metadata> {
    let mut cargo = Tool::new("cargo", CARGO_HINT);
    cargo
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&project.manifest)
        .current_dir(&project.dir);
    if let Some(name) = &options.toolchain {
        cargo.env("RUSTUP_TOOLCHAIN", name);
    }
    cargo.args(options.features.cargo_args());
    cargo
        .arg("--filter-platform")
        .arg(target_of(options).rust_triple());
    for (flag, on) in [
        ("--locked", options.locked),
        ("--frozen", options.frozen),
        ("--offline", options.offline),
    ] {
        if on {
            cargo.arg(flag);
        }
    }
    let output = cargo.capture(reporter)?;
    let failed = |source| Error::CargoMetadata {
        manifest: project.manifest.clone(),
        source,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        // cargo refusing the manifest may be the toolchain's doing (an edition newer than it):
        // the rules that read a failed build say so, and then that is the error.
        let context = crate::diagnostics::stderr::Context {
            toolchain: options.toolchain.as_deref(),
            triple: target_of(options).rust_triple(),
        };
        let diagnostics = crate::lang::diagnose(&stderr, &context);
        if !diagnostics.is_empty() {
            return Err(Error::CompileFailed {
                what: "reading the Cargo project (`cargo metadata`)".into(),
                status: output.status.to_string(),
                hint: None,
                diagnostics,
            });
        }
        return Err(failed(cargo_metadata::Error::CargoMetadata { stderr }));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = stdout
        .lines()
        .find(|line| line.starts_with('{'))
        .unwrap_or_default();
    MetadataCommand::parse(json).map_err(failed)
}

/// The workspace facts doctor checks: the build's own resolution of the workspace for the
/// options' target (cached as the build caches it, so doctor after a build asks cargo nothing),
/// else one `cargo metadata` call. Also says why the build would refuse the packages for this
/// target, as build does (a library for wasip2), apart from "nothing to build", which the facts
/// report themselves.
pub fn workspace_facts(
    project: &Project,
    options: &BuildOptions,
    toolchain: Option<&str>,
    reporter: &dyn Reporter,
) -> Result<(RustFacts, Option<Error>)> {
    if let Some(toolchain) = toolchain
        && let Ok(resolved) = resolve_workspace(project, options, toolchain, reporter)
    {
        return Ok((resolved.facts, None));
    }
    let metadata = metadata(project, options, reporter)?;
    let selected = select_packages(&metadata, project, options)?;
    let refused = match plan(&selected, options).map_err(|e| bin_elsewhere(e, &metadata, options)) {
        Err(Error::NoWasmTarget { .. }) | Ok(_) => None,
        Err(other) => Some(other),
    };
    Ok((
        crate::lang::rust::checks::facts(&metadata, &selected),
        refused,
    ))
}

/// What `cargo test` compiles for the target beyond the build: the selected packages'
/// dev-dependencies and what they pull in through normal dependencies (not proc-macros, which
/// are host code), as (name, version, the native library it links, if any).
pub fn test_only_dependencies(
    project: &Project,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Vec<(String, String, Option<String>)>> {
    use cargo_metadata::DependencyKind;
    let metadata = metadata(project, options, reporter)?;
    let selected = select_packages(&metadata, project, options)?;
    let Some(resolve) = &metadata.resolve else {
        return Ok(Vec::new());
    };
    let package = |id: &cargo_metadata::PackageId| metadata.packages.iter().find(|p| &p.id == id);
    let is_proc_macro = |id: &cargo_metadata::PackageId| {
        package(id).is_some_and(|p| p.targets.iter().any(|t| t.is_proc_macro()))
    };
    let node = |id: &cargo_metadata::PackageId| resolve.nodes.iter().find(|n| &n.id == id);
    // The build's graph (normal edges), then the tests' (dev edges of the selected packages).
    let closure = |start: Vec<cargo_metadata::PackageId>| {
        crate::lang::rust::checks::normal_closure(&metadata, resolve, start)
    };
    let built = closure(selected.iter().map(|p| p.id.clone()).collect());
    let dev: Vec<cargo_metadata::PackageId> = selected
        .iter()
        .filter_map(|p| node(&p.id))
        .flat_map(|n| &n.deps)
        .filter(|d| {
            d.dep_kinds
                .iter()
                .any(|k| k.kind == DependencyKind::Development)
        })
        .filter(|d| !is_proc_macro(&d.pkg))
        .map(|d| d.pkg.clone())
        .collect();
    let mut tested: Vec<(String, String, Option<String>)> = closure(dev)
        .into_iter()
        .filter(|id| !built.contains(id))
        .filter_map(|id| package(&id))
        .map(|p| (p.name.to_string(), p.version.to_string(), p.links.clone()))
        .collect();
    tested.sort();
    Ok(tested)
}

/// The newest version of `name` on crates.io, as `cargo info` reads it from the registry's index
/// (asked from outside the project, so the lock file's version is not the answer). `None` when
/// the index cannot be reached or the crate is not there (a path dependency).
fn newest_on_registry(name: &str, toolchain: Option<&str>) -> Option<semver::Version> {
    let mut cargo = Tool::new("cargo", CARGO_HINT);
    cargo
        .args(["info", "--quiet", name])
        .current_dir(std::env::temp_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_NET_RETRY", "0")
        .env("CARGO_HTTP_TIMEOUT", "10");
    if let Some(toolchain) = toolchain {
        cargo.env("RUSTUP_TOOLCHAIN", toolchain);
    }
    let output = cargo.capture(&crate::report::NullReporter).ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| semver::Version::parse(v).ok())
}

/// Where wasmforge puts a Rust project's artifacts (`<target-dir>/wasmforge`), without asking
/// cargo: CARGO_TARGET_DIR, else the nearest `target/wasmforge` from the project folder up.
pub fn artifact_root(project: &Project) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("wasmforge");
    }
    project
        .dir
        .ancestors()
        .map(|d| d.join("target/wasmforge"))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| project.dir.join("target/wasmforge"))
}

/// The packages a build selects: `-p`, the package pointed at, or the default members.
fn select_packages<'m>(
    metadata: &'m Metadata,
    project: &Project,
    options: &BuildOptions,
) -> Result<Vec<&'m Package>> {
    let members: Vec<&Package> = metadata.workspace_packages();
    Ok(if !options.packages.is_empty() {
        let mut chosen = Vec::new();
        for name in &options.packages {
            let found = members
                .iter()
                .find(|p| p.name.as_str() == name)
                .ok_or_else(|| Error::NotInWorkspace {
                    what: "package",
                    name: name.clone(),
                    available: members.iter().map(|p| p.name.to_string()).collect(),
                })?;
            chosen.push(*found);
        }
        chosen
    } else if let Some(root) = package_at(metadata, &project.manifest) {
        vec![root]
    } else if metadata.workspace_default_members.is_available() {
        metadata.workspace_default_packages()
    } else {
        members.clone()
    })
}

/// A `--bin` that is not among the selected packages but is in another member of the
/// workspace: say which package has it, not that it does not exist.
fn bin_elsewhere(err: Error, metadata: &Metadata, options: &BuildOptions) -> Error {
    let Error::NotInWorkspace {
        what: "binary",
        name,
        ..
    } = &err
    else {
        return err;
    };
    let owner = metadata.workspace_packages().into_iter().find(|p| {
        p.targets
            .iter()
            .any(|t| t.is_bin() && t.name.as_str() == name.as_str())
    });
    match owner {
        Some(package) => Error::BinaryNotSelected {
            name: name.clone(),
            package: package.name.to_string(),
            selection: options
                .packages
                .iter()
                .map(|p| format!("`-p {p}`"))
                .collect::<Vec<_>>()
                .join(" "),
        },
        None => err,
    }
}

/// Which packages and targets this build produces, checked before cargo runs.
fn plan(selected: &[&Package], options: &BuildOptions) -> Result<Vec<Planned>> {
    let mut plan = Vec::new();
    for package in selected {
        for target in &package.targets {
            let kind = if target.is_bin() {
                ArtifactKind::Command
            } else if target.is_cdylib() {
                ArtifactKind::Library
            } else {
                continue;
            };
            if kind == ArtifactKind::Command
                && !options.bins.is_empty()
                && !options.bins.contains(&target.name)
            {
                continue;
            }
            if kind == ArtifactKind::Library && !options.bins.is_empty() {
                continue;
            }
            plan.push(Planned {
                package: package.name.to_string(),
                package_id: package.id.clone(),
                target_name: target.name.clone(),
                kind,
            });
        }
    }

    for bin in &options.bins {
        if !plan
            .iter()
            .any(|p| p.kind == ArtifactKind::Command && &p.target_name == bin)
        {
            let available = selected
                .iter()
                .flat_map(|p| {
                    p.targets
                        .iter()
                        .filter(|t| t.is_bin())
                        .map(|t| t.name.clone())
                })
                .collect();
            return Err(Error::NotInWorkspace {
                what: "binary",
                name: bin.clone(),
                available,
            });
        }
    }
    if plan.is_empty() {
        return Err(Error::NoWasmTarget {
            packages: selected.iter().map(|p| p.name.to_string()).collect(),
        });
    }
    if target_of(options) == Target::Wasip2 {
        // A library component says what it exports with a WIT world: a cdylib that uses
        // wit-bindgen (or has a `wit/` folder) is a plugin; any other would come out as a
        // component exporting nothing, so it is left out (and refused when it is all there is).
        let plugin = |package: &Package| {
            package.dependencies.iter().any(|d| d.name == "wit-bindgen")
                || package
                    .manifest_path
                    .parent()
                    .is_some_and(|dir| dir.join(crate::wit::DIR).is_dir())
        };
        for package in selected {
            let has_bin = plan
                .iter()
                .any(|p| p.package_id == package.id && p.kind == ArtifactKind::Command);
            if !has_bin && !plugin(package) {
                return Err(Error::LibraryNotSupported {
                    package: package.name.to_string(),
                });
            }
        }
        plan.retain(|p| {
            p.kind == ArtifactKind::Command
                || selected
                    .iter()
                    .any(|package| package.id == p.package_id && plugin(package))
        });
    }
    Ok(plan)
}

/// The workspace member whose manifest is `manifest`, when the user pointed at a package.
fn package_at<'a>(metadata: &'a Metadata, manifest: &Path) -> Option<&'a Package> {
    metadata
        .workspace_packages()
        .into_iter()
        .find(|p| p.manifest_path.as_std_path() == manifest)
}

fn cargo_args(project: &Project, options: &BuildOptions, resolved: &Resolved) -> Vec<String> {
    let plan = &resolved.plan;
    let mut args: Vec<String> = vec![
        "build".into(),
        "--manifest-path".into(),
        project.manifest.display().to_string(),
        "--target".into(),
        target_of(options).rust_triple().into(),
        "--message-format=json-render-diagnostics".into(),
        format!("--color={}", if options.color { "always" } else { "never" }),
    ];
    match &options.profile {
        Profile::Dev => {}
        Profile::Release => args.push("--release".into()),
        Profile::Custom(name) => args.extend(["--profile".into(), name.clone()]),
    }
    if options.quiet {
        args.push("--quiet".into());
    }
    if let Some(jobs) = options.jobs {
        args.extend(["--jobs".into(), jobs.to_string()]);
    }
    // Select exactly what the plan holds, so cargo builds no test-only or non-Wasm targets.
    let packages: BTreeSet<&str> = plan.iter().map(|p| p.package.as_str()).collect();
    if !resolved.whole_root {
        for package in &packages {
            args.extend(["-p".into(), (*package).to_string()]);
        }
    }
    let has_lib = plan.iter().any(|p| p.kind == ArtifactKind::Library);
    for planned in plan.iter().filter(|p| p.kind == ArtifactKind::Command) {
        args.extend(["--bin".into(), planned.target_name.clone()]);
    }
    if has_lib {
        args.push("--lib".into());
    }
    args.extend(options.features.cargo_args());
    for (flag, on) in [
        ("--locked", options.locked),
        ("--frozen", options.frozen),
        ("--offline", options.offline),
    ] {
        if on {
            args.push(flag.into());
        }
    }
    args.extend(options.extra_args.iter().cloned());
    args
}

/// How many crates cargo compiles for `roots`: every package reachable through normal and build
/// dependencies in the resolved graph (already filtered to the Wasm platform).
fn count_units(metadata: &Metadata, roots: &[&PackageId]) -> u64 {
    let Some(resolve) = &metadata.resolve else {
        return roots.len() as u64;
    };
    let nodes: HashMap<&PackageId, &cargo_metadata::Node> =
        resolve.nodes.iter().map(|n| (&n.id, n)).collect();
    let mut seen: HashSet<&PackageId> = HashSet::new();
    let mut stack: Vec<&PackageId> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        if let Some(node) = nodes.get(id) {
            for dep in &node.deps {
                let used = dep
                    .dep_kinds
                    .iter()
                    .any(|k| k.kind != cargo_metadata::DependencyKind::Development);
                if used {
                    stack.push(&dep.pkg);
                }
            }
        }
    }
    seen.len() as u64
}

type Produced = HashMap<(PackageId, String, ArtifactKind), PathBuf>;

/// Runs cargo, forwarding its stderr to the reporter line by line and reading its JSON
/// messages from stdout; returns the Wasm files it reported.
fn run_cargo(cargo: &Tool, total: u64, reporter: &dyn Reporter) -> Result<Produced> {
    reporter.progress_start(total);
    let mut produced = Produced::new();
    let mut counted: HashSet<PackageId> = HashSet::new();
    let status = cargo.run_with(reporter, |line| {
        let Ok(Message::CompilerArtifact(art)) = serde_json::from_str::<Message>(line) else {
            return;
        };
        if art.target.is_custom_build() {
            return;
        }
        if counted.insert(art.package_id.clone()) {
            reporter.progress_step(&art.target.name);
        }
        let Some(wasm) = art.filenames.iter().find(|f| f.extension() == Some("wasm")) else {
            return;
        };
        let kind = if art.target.is_bin() {
            ArtifactKind::Command
        } else if art.target.is_cdylib() {
            ArtifactKind::Library
        } else {
            return;
        };
        produced.insert(
            (art.package_id.clone(), art.target.name.clone(), kind),
            wasm.clone().into_std_path_buf(),
        );
    });
    reporter.progress_finish();
    let status = status?;
    if !status.success() {
        return Err(Error::CompileFailed {
            hint: None,
            diagnostics: Vec::new(),
            what: "compiling the Rust project".into(),
            status: status.to_string(),
        });
    }
    Ok(produced)
}
