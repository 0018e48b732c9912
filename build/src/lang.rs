//! The languages: everything wasmforge knows about Rust, Go and C lives in one folder each.
//! The pipeline and doctor reach a language only through this module.

pub mod c;
pub mod go;
pub mod rust;

#[cfg(test)]
mod stderr_tests;

use std::path::{Path, PathBuf};

use crate::artifact::ArtifactKind;
use crate::config::Config;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::check::Check;
use crate::diagnostics::stderr::Context;
use crate::error::{Error, Result};
use crate::job::{BuildOutput, Job};
use crate::options::BuildOptions;
use crate::project::{Lang, Project};
use crate::report::Reporter;
use crate::target::Target;

/// What the pipeline, doctor and `new` ask of a language. One implementation per folder;
/// [`all`] lists them.
pub trait Language: Sync {
    fn lang(&self) -> Lang;

    /// The files that make a folder this language's project when a command names one
    /// (`Cargo.toml`, `go.mod`, `CMakeLists.txt`).
    fn manifests(&self) -> &'static [&'static str];

    /// The project a manifest file names.
    fn project_of_manifest(&self, file: &Path) -> Project {
        Project {
            lang: self.lang(),
            dir: file.parent().map(Path::to_owned).unwrap_or_default(),
            manifest: file.to_owned(),
            within: None,
        }
    }

    /// What in `dir` says this language, for messages (`Cargo.toml`; `CMakeLists.txt, *.c`).
    fn signal(&self, dir: &Path) -> Option<String>;

    /// The manifest cargo or go find from a folder inside the project.
    fn upward_manifest(&self) -> Option<&'static str> {
        None
    }

    /// Whether this language's projects may hold `other`'s files as their own (a Cargo
    /// package's build script compiles C).
    fn hosts(&self, _other: Lang) -> bool {
        false
    }

    /// The project at the folder `dir`, known to be this language's.
    fn locate(&self, dir: &Path) -> Result<Project>;

    /// Why `name` cannot name a new project of this language (`wasmforge new`), if it cannot.
    fn check_name(&self, name: &str) -> std::result::Result<(), String>;

    /// Whether the bindings this language's plugins are built with cover `world`: `Some(what
    /// covers it)` when wasmforge generates them (and checked), `None` when a tool of the
    /// language's own does (wit-bindgen: it says so at build time).
    fn bindings_cover(&self, _world: &crate::wit::World) -> Result<Option<&'static str>> {
        Ok(None)
    }

    /// The table of wasmforge.toml that holds this language's own settings (`c` for `[c]`).
    fn config_table(&self) -> Option<&'static str> {
        None
    }

    /// Reads this language's table of `config` and says what is wrong with it, with the line.
    fn check_config(&self, _config: &Config) -> Result<()> {
        Ok(())
    }

    /// The target the project's own build settings ask for (cargo's `[build] target`), which a
    /// build uses unless `--target` or wasmforge.toml says otherwise.
    fn project_target(&self, _project: &Project) -> Option<ProjectTarget> {
        None
    }

    /// The toolchains `--toolchain` names for this language (none: Rust names rustup's).
    fn toolchain_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Every flag and `wasmforge.toml` key works for this language or is refused (exit 2 for a
    /// flag) saying who takes it; none passes silently.
    fn check_options(&self, options: &BuildOptions, config: &Config) -> Result<()>;

    /// Whether this language's toolchain can build the target and kind at all, before anything
    /// is probed or compiled (`doctor` reports the same error).
    fn support_error(&self, need: &Need<'_>) -> Option<Error>;

    /// Builds the project of `job` into WebAssembly artifacts.
    fn build(&self, job: &Job<'_>, reporter: &dyn Reporter) -> Result<BuildOutput>;

    /// `doctor`'s checks of this language for the project of `job`: toolchain, packages,
    /// sources.
    fn doctor_checks(&self, job: &Job<'_>, reporter: &dyn Reporter) -> Vec<Check>;

    /// Without a project: what is installed of this language and what it can build.
    fn survey(&self, reporter: &dyn Reporter) -> Vec<Check>;

    /// The folder under which this language's builds for `target` leave their artifacts.
    fn artifact_dir(&self, project: &Project, target: Target) -> PathBuf {
        project.dir.join("target/wasmforge").join(target.name())
    }

    /// The toolchain that built (a rustup toolchain's name), for the fix commands of a failed
    /// compile's diagnosis.
    fn built_with(&self, _job: &Job<'_>, _reporter: &dyn Reporter) -> Option<String> {
        None
    }

    /// The rules that recognise this language's known failures in compiler output.
    fn rules(&self) -> &'static [crate::diagnostics::stderr::Rule];

    /// Settles a failed build's diagnosis (what the rules recognised and what the source checks
    /// held back) with what this language knows of the job: a finding the project's own settings
    /// answer, or one that two sources found, goes.
    fn refine_diagnosis(&self, _job: &Job<'_>, _diagnostics: &mut Vec<Diagnostic>) {}
}

/// A target named by the project's own build settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectTarget {
    /// As written (`wasm32-wasip2`).
    pub triple: String,
    /// Where: `.cargo/config.toml ([build] target)`, `CARGO_BUILD_TARGET`.
    pub source: String,
}

/// What a build asks of a language's toolchain, for [`Language::support_error`].
#[derive(Debug, Clone, Copy)]
pub struct Need<'a> {
    pub config: &'a Config,
    pub target: Target,
    pub kind: Option<ArtifactKind>,
    pub toolchain: Option<&'a str>,
    /// The project has a WIT world (`wit/`), so a wasip2 library is a plugin component.
    pub has_world: bool,
}

impl Need<'_> {
    /// What `job` asks.
    pub fn of<'j>(job: &'j Job<'_>) -> Need<'j> {
        Need {
            config: job.config,
            target: job.target,
            kind: job.kind,
            toolchain: job.toolchain.as_deref(),
            has_world: crate::wit::dir_of(&job.project.dir, job.config).is_some(),
        }
    }
}

/// A wasip2 library of `lang` without a WIT world.
pub(crate) fn library_needs_world(lang: Lang, instead: &str) -> Error {
    Error::LibraryNeedsWorld {
        lang,
        instead: instead.into(),
    }
}

/// `flag` refused for `lang`, saying who takes it and what to do instead.
pub(crate) fn refuse(lang: Lang, flag: &str, takers: &str, instead: &str) -> Error {
    Error::FlagNotForLanguage {
        flag: flag.into(),
        lang,
        takers: takers.into(),
        instead: instead.into(),
    }
}

/// What only cargo takes (features, lock flags, custom profiles), refused for `lang` with the
/// language's own way to say it.
pub(crate) fn refuse_cargo_flags(
    lang: Lang,
    options: &BuildOptions,
    select_code: &str,
    lock: &str,
) -> Result<()> {
    let features = &options.features;
    for (flag, set) in [
        ("-F/--features", !features.features.is_empty()),
        ("--all-features", features.all_features),
        ("--no-default-features", features.no_default_features),
    ] {
        if set {
            return Err(refuse(lang, flag, "Rust (cargo)", select_code));
        }
    }
    for (flag, set) in [
        ("--locked", options.locked),
        ("--frozen", options.frozen),
        ("--offline", options.offline),
    ] {
        if set {
            return Err(refuse(lang, flag, "Rust (Cargo.lock)", lock));
        }
    }
    if let crate::options::Profile::Custom(name) = &options.profile {
        return Err(refuse(
            lang,
            &format!("--profile {name}"),
            "Rust (Cargo profiles)",
            "Go and C build debug or release: use --release, or no profile flag",
        ));
    }
    Ok(())
}

/// The option rules of a language built without cargo (Go, C): cargo's flags refused with the
/// language's own way to say the same (`select_code`, `lock`), the other selector refused
/// (`wrong`: the flag, whether it was given, who takes it, what to do instead), and toolchain
/// names checked, from the flag and from wasmforge.toml.
pub(crate) fn check_non_cargo_options(
    lang: Lang,
    options: &BuildOptions,
    config: &Config,
    select_code: &str,
    lock: &str,
    wrong: (&str, bool, &str, &str),
) -> Result<()> {
    refuse_cargo_flags(lang, options, select_code, lock)?;
    let (flag, given, takers, instead) = wrong;
    if given {
        return Err(refuse(lang, flag, takers, instead));
    }
    check_toolchain_name(lang, options.toolchain.as_deref(), false)?;
    check_toolchain_name(lang, config.build.toolchain.as_deref(), true)
}

/// A toolchain name for `lang`: one it has (from the flag: a usage error; from wasmforge.toml:
/// the file is wrong), else which language's it is.
pub(crate) fn check_toolchain_name(
    lang: Lang,
    name: Option<&str>,
    from_config: bool,
) -> Result<()> {
    let Some(name) = name else { return Ok(()) };
    let known = of(lang).toolchain_names();
    if known.contains(&name) {
        return Ok(());
    }
    let owner = all()
        .into_iter()
        .find(|l| l.toolchain_names().contains(&name))
        .map(|l| l.lang());
    let names: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
    let hint = match names.split_last() {
        Some((last, [])) => format!("{} builds with {last}", lang.display_name()),
        Some((last, rest)) => format!(
            "{} builds with {} or {last}",
            lang.display_name(),
            rest.join(", ")
        ),
        None => format!("{} takes no --toolchain name", lang.display_name()),
    };
    Err(Error::UnknownToolchain {
        given: name.into(),
        lang,
        owner,
        from_config,
        hint,
    })
}

/// Reads `wasmforge.toml` in `dir` (the defaults when there is none): the tables the config
/// layer knows, and each language's own table checked by its language; any other table is an
/// error.
pub fn load_config(dir: &Path) -> Result<Config> {
    let config = Config::load(dir)?;
    for name in &config.other_tables {
        match all()
            .into_iter()
            .find(|l| l.config_table() == Some(name.as_str()))
        {
            Some(language) => language.check_config(&config)?,
            None => {
                let mut known: Vec<String> = crate::config::TABLES
                    .iter()
                    .map(|t| t.to_string())
                    .collect();
                known.extend(
                    all()
                        .into_iter()
                        .filter_map(|l| l.config_table())
                        .map(String::from),
                );
                return Err(Error::UnknownConfigTable {
                    path: config.path.clone().unwrap_or_default(),
                    name: name.clone(),
                    known,
                });
            }
        }
    }
    Ok(config)
}

/// Detects the project at `path` (a folder or a manifest file) and its language. `lang` (from
/// `--lang` or `wasmforge.toml`) settles folders that hold more than one language's files.
pub fn detect(path: &Path, lang: Option<Lang>) -> Result<Project> {
    if !path.exists() {
        return Err(Error::PathNotFound {
            path: path.to_owned(),
        });
    }
    let path = fs_err::canonicalize(path)?;
    if path.is_file() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        return match all().into_iter().find(|l| l.manifests().contains(&name)) {
            Some(language) => Ok(language.project_of_manifest(&path)),
            None => Err(Error::NotAProject { path }),
        };
    }
    let language = match lang {
        Some(lang) => of(lang),
        None => {
            let found: Vec<(&dyn Language, String)> = all()
                .into_iter()
                .filter_map(|l| l.signal(&path).map(|why| (l, why)))
                .collect();
            match found.as_slice() {
                [] => match found_above(&path) {
                    Some(language) => language,
                    None => return Err(Error::NotAProject { path }),
                },
                [(language, _)] => *language,
                _ => match found.iter().find(|(l, _)| {
                    found
                        .iter()
                        .all(|(other, _)| other.lang() == l.lang() || l.hosts(other.lang()))
                }) {
                    // A Cargo package may hold C sources that its build script compiles.
                    Some((language, _)) => *language,
                    None => {
                        return Err(Error::AmbiguousProject {
                            path,
                            found: found
                                .iter()
                                .map(|(l, why)| format!("{} ({why})", l.lang().name()))
                                .collect(),
                        });
                    }
                },
            }
        }
    };
    language.locate(&path)
}

/// Like cargo and go, a folder inside a project finds the manifest above it.
fn found_above(dir: &Path) -> Option<&'static dyn Language> {
    dir.ancestors().skip(1).find_map(|d| {
        all().into_iter().find(|l| {
            l.upward_manifest()
                .is_some_and(|manifest| d.join(manifest).is_file())
        })
    })
}

/// Every language, in the order their compiler-output rules are tried.
pub fn all() -> [&'static dyn Language; 3] {
    [&rust::Rust, &go::Go, &c::C]
}

/// The language `lang` names.
pub fn of(lang: Lang) -> &'static dyn Language {
    match lang {
        Lang::Rust => &rust::Rust,
        Lang::Go => &go::Go,
        Lang::C => &c::C,
    }
}

/// Diagnostics for the known failures in `text`, each once, in the order they appear.
pub fn diagnose(text: &str, ctx: &Context<'_>) -> Vec<Diagnostic> {
    let plain = crate::diagnostics::stderr::strip_ansi(text);
    // A build script's compiler speaks through cargo: the compiler's lines are what the rules
    // read, not cargo's words around them.
    let lines: Vec<&str> = plain
        .lines()
        .map(crate::diagnostics::stderr::relayed)
        .collect();
    let mut found: Vec<Diagnostic> = Vec::new();
    // make runs in subfolders (`make[1]: Entering directory '…/programs'`): a compiler's
    // `util.c:257` is relative to the folder make was in.
    let folders: std::cell::RefCell<Vec<PathBuf>> = Default::default();
    let mut push = |mut d: Diagnostic| {
        // Parallel makes interleave their folders: the latest folder that has the file.
        if let Some(location) = &mut d.location
            && location.file.is_relative()
            && let Some(folder) = folders
                .borrow()
                .iter()
                .rev()
                .find(|f| f.join(&location.file).is_file())
        {
            location.file = crate::files::lexically_normal(&folder.join(&location.file));
        }
        if !found
            .iter()
            .any(|f| f.code == d.code && f.message == d.message)
        {
            found.push(d);
        }
    };
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("make")
            && let Some((_, said)) = rest.split_once("]: ").or_else(|| rest.split_once(": "))
            && let Some(folder) = said
                .strip_prefix("Entering directory '")
                .and_then(|f| f.strip_suffix('\''))
        {
            folders.borrow_mut().push(PathBuf::from(folder));
        }
        // rustc quotes the offending source (`516 | compile_error!("…")`): not a second error.
        let gutter = line
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start();
        if gutter.starts_with('|') {
            continue;
        }
        let at = crate::diagnostics::stderr::Line {
            lines: &lines,
            i,
            text: line,
        };
        for rule in all().into_iter().flat_map(|l| l.rules()) {
            rule(&at, ctx, &mut push);
        }
    }
    found
}

#[cfg(test)]
mod detect_tests {
    use super::*;

    fn touch(dir: &Path, rel: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, "").expect("write");
    }

    #[test]
    fn finds_the_manifest_above_a_subfolder() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").expect("write");
        std::fs::create_dir(dir.path().join("src")).expect("mkdir");
        let project = detect(&dir.path().join("src"), None).expect("detect");
        assert_eq!(project.lang, Lang::Rust);
        assert_eq!(
            project.manifest,
            dir.path().canonicalize().expect("canon").join("Cargo.toml")
        );
    }

    #[test]
    fn each_language_by_its_signals() {
        for (files, lang) in [
            (&["go.mod", "main.go"][..], Lang::Go),
            (&["CMakeLists.txt", "main.c"], Lang::C),
            (&["Makefile"], Lang::C),
            (&["src/a.c", "include/a.h"], Lang::C),
            (&["hello.c"], Lang::C),
            (&["Cargo.toml", "src/main.rs", "src/shim.c"], Lang::Rust),
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            for f in files {
                touch(dir.path(), f);
            }
            assert_eq!(
                detect(dir.path(), None).map(|p| p.lang).ok(),
                Some(lang),
                "{files:?}"
            );
        }
    }

    #[test]
    fn ambiguous_folders_need_a_choice() {
        let dir = tempfile::tempdir().expect("tempdir");
        touch(dir.path(), "go.mod");
        touch(dir.path(), "native.c");
        match detect(dir.path(), None) {
            Err(Error::AmbiguousProject { found, .. }) => {
                assert_eq!(found, ["go (go.mod)", "c (*.c)"]);
            }
            other => panic!("expected ambiguity, got {other:?}"),
        }
        assert_eq!(
            detect(dir.path(), Some(Lang::C)).map(|p| p.lang).ok(),
            Some(Lang::C)
        );
    }

    #[test]
    fn missing_path_and_non_project_are_distinct_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            detect(&dir.path().join("nope"), None),
            Err(Error::PathNotFound { .. })
        ));
        assert!(matches!(
            detect(dir.path(), None),
            Err(Error::NotAProject { .. })
        ));
    }
}
