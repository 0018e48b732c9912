//! Typed errors of the build library. Every variant names the thing that is wrong (a path, a
//! tool, a toolchain, a package) and knows the hint that tells the user how to fix it.

use std::path::PathBuf;

use crate::project::Lang;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether an error is the user's invocation (exit 2) or the checked thing failing (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad flag, bad value, a path that does not exist.
    Usage,
    /// The project, toolchain or compile failed.
    Failure,
}

/// Errors from detecting, probing and building a project.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("path `{}` does not exist", path.display())]
    PathNotFound { path: PathBuf },

    #[error("no such file `{}`", path.display())]
    NoSuchFile {
        path: PathBuf,
        did_you_mean: Option<PathBuf>,
    },

    #[error("`{}` is not a project wasmforge can build", path.display())]
    NotAProject { path: PathBuf },

    #[error("`{}` holds more than one kind of project: {}", path.display(), found.join(", "))]
    AmbiguousProject { path: PathBuf, found: Vec<String> },

    #[error("`{}` is not valid", path.display())]
    ConfigInvalid {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },

    /// A flag the project's language does not take (WF6001, exit 2).
    #[error("{flag} does not apply to {} projects: it is for {takers}", lang.display_name())]
    FlagNotForLanguage {
        flag: String,
        lang: Lang,
        takers: String,
        instead: String,
    },

    /// Flags, or a flag and the project, that do not go together (WF6002, exit 2).
    #[error("{message}")]
    FlagConflict { message: String, hint: String },

    /// A value in wasmforge.toml that is not valid (WF6003).
    #[error("wasmforge.toml: {key}: {message}")]
    ConfigValue {
        /// The table and key: `[build] opt`.
        key: &'static str,
        message: String,
        hint: String,
    },

    /// A table of wasmforge.toml that neither wasmforge nor a language reads (WF6003).
    #[error("`{}` has an unknown table `[{name}]`", path.display())]
    UnknownConfigTable {
        path: PathBuf,
        name: String,
        known: Vec<String>,
    },

    /// A name that is no toolchain of the project's language (WF6004; from `--toolchain` exit
    /// 2, from wasmforge.toml the file is wrong).
    #[error(
        "{}`{given}`{} is not a {} toolchain",
        if *from_config { "wasmforge.toml: [build] toolchain " } else { "--toolchain " },
        owner.map(|o| format!(" (a {} toolchain)", o.display_name())).unwrap_or_default(),
        if *lang == Lang::Rust { "rustup" } else { lang.display_name() }
    )]
    UnknownToolchain {
        given: String,
        lang: Lang,
        /// The language whose toolchain it is, if any.
        owner: Option<Lang>,
        from_config: bool,
        hint: String,
    },

    /// What the project asks for is beyond its language's toolchain for that target (WF6006):
    /// a Go module for the bare target, a C plugin built by CMake.
    #[error("{message}")]
    TargetNotSupported { message: String, hint: String },

    /// Two artifacts of one build would be the same file (WF6007).
    #[error("{message}")]
    ArtifactClash { message: String, hint: String },

    /// A library, or a bare module, whose project lists nothing to export (WF3011).
    #[error("{}", if *bare { "a bare `--target unknown` module has no `_start`: only its exports are reachable, and wasmforge.toml lists none" } else { "a C library must say which functions it exports, and wasmforge.toml lists none" })]
    NoExports { bare: bool },

    /// No C source file matches the project's patterns (WF3012).
    #[error("no C sources match {} in `{}`", patterns.join(", "), dir.display())]
    NoCSources { patterns: Vec<String>, dir: PathBuf },

    /// make finished and wasmforge cannot tell which file is the module (WF3013).
    #[error("make linked nothing, and wasmforge does not know which file is the module")]
    MakeLinkedNothing,

    /// The C toolchain cannot build setjmp/longjmp (WF3009).
    #[error("{version} cannot build setjmp/longjmp: {why}")]
    Setjmp {
        version: String,
        why: String,
        hint: &'static str,
    },

    /// A WIT world wasmforge's Go bindings cannot express (WF2010).
    #[error("{message}")]
    GoBindings { message: String, hint: String },

    /// `opt` was given a component; Binaryen reads core modules only (WF4003).
    #[error("Binaryen cannot read components, only core modules")]
    OptimizeComponent,

    /// A C project that makes several programs, none chosen: the pipeline builds each
    /// (`names`, each a `--bin`), as cargo builds every binary.
    #[error("{what}: {}", names.join(", "))]
    SeveralExecutables { what: String, names: Vec<String> },

    /// A project's WIT does not parse or resolve, names no such world, or a component does not
    /// fit its world; `detail` is wit-parser's own text (with `file:line:column`).
    #[error("{message}{}", if detail.is_empty() { String::new() } else { format!("\n{}", indent(detail)) })]
    Wit {
        /// WF5001 (does not resolve), WF5002 (no such world), WF5003 (the component does not
        /// export its world).
        code: &'static str,
        message: String,
        detail: String,
        hint: String,
    },

    /// Components cannot be composed as asked: a plug that fits nothing, an import nothing
    /// provides, a type that does not fit.
    #[error("{message}")]
    Compose { message: String, hint: String },

    /// A binary that is in the workspace, but in a package the selection leaves out (exit 2).
    #[error("binary `{name}` is in package `{package}`, which {selection} does not select")]
    BinaryNotSelected {
        name: String,
        package: String,
        selection: String,
    },

    #[error("{tool} {found} is too old for {what}: it needs {needed} or newer")]
    ToolTooOld {
        tool: String,
        found: String,
        needed: String,
        what: String,
        hint: String,
    },

    #[error("no C compiler for WebAssembly was found")]
    NoCToolchain { looked: Vec<String> },

    #[error("could not wrap `{}` into a WASI 0.2 component", path.display())]
    Componentize {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("the module is not valid WebAssembly: {message} (at byte offset {offset})")]
    InvalidWasm { offset: usize, message: String },

    #[error("the optimizer failed: {message}")]
    OptimizerFailed {
        message: String,
        /// Whether a build was optimizing (its hint is `--no-opt`; `opt`'s is not).
        in_build: bool,
    },

    #[error("`{}` does not fit the {profile} profile:\n  - {}", path.display(), problems.join("\n  - "))]
    ValidationFailed {
        path: PathBuf,
        profile: String,
        problems: Vec<String>,
    },

    #[error("unknown target `{given}`")]
    UnknownTarget { given: String, hint: String },

    #[error("{what} `{name}` is not in this workspace")]
    NotInWorkspace {
        what: &'static str,
        name: String,
        available: Vec<String>,
    },

    #[error("no WebAssembly-capable target in {}", describe_packages(packages))]
    NoWasmTarget { packages: Vec<String> },

    /// A wasip2 library of a Go or C project without a WIT world (WF6005).
    #[error(
        "a {} library for `--target wasip2` needs a WIT world: wrapping it into a component without one would silently drop its exports",
        lang.display_name()
    )]
    LibraryNeedsWorld { lang: Lang, instead: String },

    #[error(
        "package `{package}` is a library (cdylib) without a WIT world, and a `--target wasip2` component of it would export nothing"
    )]
    LibraryNotSupported { package: String },

    #[error("the Rust toolchain `{toolchain}` (from {source_desc}) is not installed")]
    ToolchainNotInstalled {
        toolchain: String,
        source_desc: String,
        triple: String,
    },

    #[error(
        "the Rust target `{triple}` is not installed for toolchain `{toolchain}` (from {source_desc})"
    )]
    TargetNotInstalled {
        toolchain: String,
        source_desc: String,
        triple: String,
        rustup: bool,
    },

    #[error("`{tool}` was not found on PATH")]
    ToolNotFound { tool: String, install: String },

    #[error("could not run `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },

    #[error("`{command}` failed ({status})")]
    ToolFailed {
        command: String,
        status: String,
        stderr: String,
    },

    #[error("could not read the Cargo project at `{}`", manifest.display())]
    CargoMetadata {
        manifest: PathBuf,
        #[source]
        source: cargo_metadata::Error,
    },

    #[error("{}", describe_compile(what, status))]
    CompileFailed {
        what: String,
        status: String,
        /// What to do, when the step that failed knows better than "fix the compiler errors"
        /// (a CMake configure).
        hint: Option<String>,
        /// Known failures recognised in the compiler's output.
        diagnostics: Vec<crate::diagnostics::Diagnostic>,
    },

    #[error("{}", describe_preflight(diagnostics))]
    Preflight {
        diagnostics: Vec<crate::diagnostics::Diagnostic>,
        /// Found by the source checks, which `--no-checks` skips (else a fact that makes the
        /// build impossible).
        skippable: bool,
    },

    #[error("the compiler reported success but produced no WebAssembly file for {what}")]
    NoArtifact { what: String },

    #[error("`{}` is not a WebAssembly file: {why}", path.display())]
    NotWasm { path: PathBuf, why: String },

    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn describe_preflight(diagnostics: &[crate::diagnostics::Diagnostic]) -> String {
    match diagnostics {
        [one] => format!("this project cannot build for its target: {}", one.message),
        many => format!(
            "this project cannot build for its target: {} problems (nothing was compiled)",
            many.len()
        ),
    }
}

/// Whether a tool's exit status says it was stopped by a signal someone sent (Ctrl-C, a CI
/// cancelling the job), not that it failed.
pub fn interrupted(status: &str) -> bool {
    ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"]
        .iter()
        .any(|s| status.contains(s))
}

fn describe_compile(what: &str, status: &str) -> String {
    if interrupted(status) {
        format!("the build was interrupted: {what} was stopped ({status})")
    } else {
        format!("{what} failed ({status})")
    }
}

fn describe_packages(packages: &[String]) -> String {
    match packages {
        [one] => format!("package `{one}`"),
        many => format!(
            "packages {}",
            many.iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl Error {
    /// Whether this is a usage error (exit 2) or a failure of the checked thing (exit 1).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::PathNotFound { .. }
            | Error::NoSuchFile { .. }
            | Error::UnknownTarget { .. }
            | Error::FlagNotForLanguage { .. }
            | Error::FlagConflict { .. }
            | Error::UnknownToolchain {
                from_config: false, ..
            }
            | Error::BinaryNotSelected { .. }
            | Error::NotInWorkspace { .. } => ErrorKind::Usage,
            _ => ErrorKind::Failure,
        }
    }

    /// The diagnostic code of this error, when the catalog has one.
    pub fn code(&self) -> Option<&'static str> {
        Some(match self {
            Error::TargetNotInstalled { .. } => "WF1001",
            Error::ToolchainNotInstalled { .. } => "WF1002",
            Error::NoWasmTarget { .. } => "WF1005",
            Error::ToolNotFound { tool, .. } if tool == "cargo" => "WF1014",
            Error::ToolNotFound { tool, .. } if tool == "go" || tool.ends_with("/go") => "WF2001",
            Error::ToolNotFound { tool, .. } if tool == "tinygo" => "WF2008",
            Error::NoCToolchain { .. } => "WF3001",
            Error::Setjmp { .. } => "WF3009",
            Error::NoExports { .. } => "WF3011",
            Error::NoCSources { .. } => "WF3012",
            Error::MakeLinkedNothing => "WF3013",
            Error::GoBindings { .. } => "WF2010",
            Error::OptimizeComponent => "WF4003",
            Error::FlagNotForLanguage { .. } => "WF6001",
            Error::FlagConflict { .. } => "WF6002",
            Error::ConfigValue { .. } | Error::UnknownConfigTable { .. } => "WF6003",
            Error::UnknownToolchain { .. } => "WF6004",
            Error::LibraryNotSupported { .. } | Error::LibraryNeedsWorld { .. } => "WF6005",
            Error::TargetNotSupported { .. } => "WF6006",
            Error::ArtifactClash { .. } => "WF6007",
            Error::Wit { code, .. } => code,
            Error::Preflight { diagnostics, .. } | Error::CompileFailed { diagnostics, .. } => {
                return diagnostics
                    .first()
                    .map(|d| crate::diagnostics::lookup(&d.code).map_or("", |e| e.code));
            }
            _ => return None,
        })
    }

    /// Diagnostics attached to the error (pre-flight findings, or known compiler failures).
    pub fn diagnostics(&self) -> &[crate::diagnostics::Diagnostic] {
        match self {
            Error::Preflight { diagnostics, .. } | Error::CompileFailed { diagnostics, .. } => {
                diagnostics
            }
            _ => &[],
        }
    }

    /// What the user can do about it: usually the exact command that fixes it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::PathNotFound { .. } => "check the path, or run wasmforge inside the project folder".into(),
            Error::NoSuchFile { did_you_mean: Some(other), .. } => format!(
                "did you mean {}? (a registry reference names its registry — `docker.io/library/app:1`, \
                 `ghcr.io/acme/app:1` — or a layout folder, `oci:DIR`)",
                other.display()
            ),
            Error::NoSuchFile { .. } => "check the path; a registry reference names its registry \
                 (`docker.io/library/app:1`, `ghcr.io/acme/app:1`) or a layout folder (`oci:DIR`)"
                .into(),
            Error::NotAProject { .. } => "wasmforge builds Rust (Cargo.toml), Go (go.mod) and C projects (CMakeLists.txt, \
                 a Makefile or .c files); point it at the project's folder"
                .into(),
            Error::AmbiguousProject { .. } => "say which: `--lang rust|go|c`, or `[package] lang = \"…\"` in wasmforge.toml".into(),
            Error::ConfigInvalid { .. } => "fix the key named above; the keys are listed in the README (wasmforge.toml)".into(),
            Error::SeveralExecutables { .. } => "wasmforge builds each of them; choose one with `--bin NAME`, or `[c] bin = \"NAME\"` in wasmforge.toml".into(),
            Error::Wit { hint, .. }
            | Error::Compose { hint, .. }
            | Error::FlagConflict { hint, .. }
            | Error::ConfigValue { hint, .. }
            | Error::UnknownToolchain { hint, .. }
            | Error::TargetNotSupported { hint, .. }
            | Error::ArtifactClash { hint, .. }
            | Error::GoBindings { hint, .. }
            | Error::ToolTooOld { hint, .. } => hint.clone(),
            Error::FlagNotForLanguage { instead, .. } | Error::LibraryNeedsWorld { instead, .. } => {
                instead.clone()
            }
            Error::UnknownConfigTable { known, .. } => format!(
                "the tables are {}; a language's own is read only by it (the README lists every key)",
                known.iter().map(|t| format!("[{t}]")).collect::<Vec<_>>().join(", ")
            ),
            Error::BinaryNotSelected { package, .. } => {
                format!("add `-p {package}`, or leave out -p to build from the whole workspace")
            }
            Error::NoExports { bare: true } => {
                "list the functions to export in wasmforge.toml: `[c] exports = [\"add\"]`".into()
            }
            Error::NoExports { bare: false } => {
                "add them to wasmforge.toml: `[c] exports = [\"add\", \"mul\"]`".into()
            }
            Error::NoCSources { .. } => "put .c files under src/ (or the folder), or list them in \
                 wasmforge.toml: `[c] sources = [\"lib/*.c\"]`"
                .into(),
            Error::MakeLinkedNothing => "say where make leaves it in wasmforge.toml: `[c] artifact = \
                 \"out/app.wasm\"`, or run `wasmforge build` again after `make clean`"
                .into(),
            Error::Setjmp { hint, .. } => (*hint).into(),
            Error::OptimizeComponent => "optimize the core module before it becomes a component: \
                 `wasmforge build --release --target wasip2` does that"
                .into(),
            Error::NoCToolchain { looked } => format!(
                "looked for: {}. On Debian/Ubuntu: `apt-get install clang lld wasi-libc libclang-rt-dev-wasm32` \
                 (versioned names like clang-16 work too), or `pip install ziglang`, or set WASI_SDK_PATH to a wasi-sdk",
                looked.join("; ")
            ),
            Error::UnknownTarget { hint, .. } => hint.clone(),
            Error::NotInWorkspace { available, .. } if !available.is_empty() => {
                format!("available: {}", available.join(", "))
            }
            Error::NotInWorkspace { .. } => return None,
            Error::NoWasmTarget { .. } => "a WebAssembly artifact comes from a binary (src/main.rs or [[bin]]) or a \
                 library with `crate-type = [\"cdylib\"]` under [lib] in Cargo.toml"
                .into(),
            Error::LibraryNotSupported { .. } => "give it a world: a `wit/` folder and `wit_bindgen::generate!` \
                 (`wasmforge new NAME --lang rust --kind plugin` shows how); or build a core module: \
                 `--target wasip1` (`--target unknown` for browsers)"
                .into(),
            Error::ToolchainNotInstalled { toolchain, triple, .. } if triple.is_empty() => {
                format!("rustup toolchain install {toolchain}")
            }
            Error::ToolchainNotInstalled { toolchain, triple, .. } => {
                format!("rustup toolchain install {toolchain} --target {triple}")
            }
            Error::TargetNotInstalled { toolchain, triple, rustup: true, .. } => {
                format!("rustup target add {triple} --toolchain {toolchain}")
            }
            Error::TargetNotInstalled { triple, .. } => format!(
                "this rustc is not managed by rustup: install the standard library for {triple} \
                 (your distribution's rust-std package for it), or install Rust with rustup"
            ),
            Error::ToolNotFound { install, .. } => install.clone(),
            Error::Spawn { .. } => "check that the program exists and is executable".into(),
            Error::ToolFailed { .. } => "run the command above by hand to see its full output".into(),
            Error::CargoMetadata { .. } => "fix the Cargo.toml error above; `cargo metadata` shows the same message".into(),
            Error::CompileFailed { diagnostics, .. } if !diagnostics.is_empty() => {
                "the diagnostics above say what went wrong and how to fix it".into()
            }
            Error::CompileFailed {
                hint: Some(hint), ..
            } => hint.clone(),
            Error::CompileFailed { status, .. } if interrupted(status) => {
                "nothing was wrong with the code as far as wasmforge saw: build again".into()
            }
            Error::CompileFailed { .. } => "fix the compiler errors above, then build again".into(),
            Error::Preflight { skippable: true, .. } => "fix what is listed above; or, if the compiler \
                 would build it after all, skip the source checks with `wasmforge build --no-checks` \
                 (`[build] checks = false` in wasmforge.toml)"
                .into(),
            Error::Preflight { .. } => "fix what is listed above (`wasmforge doctor` checks everything, \
                 `wasmforge doctor --fix` runs the safe fixes)"
                .into(),
            Error::NoArtifact { .. } => "run the build again with -v to see the compiler invocation".into(),
            Error::Componentize { .. } => "the module must be a WASI preview 1 command (exports `_start` and \
                 `memory`) or, for a plugin, a reactor whose exports match its WIT world (`wasmforge wit .` \
                 prints it); it may import only wasi_snapshot_preview1 and the world's imports"
                .into(),
            Error::ValidationFailed { .. } => "fix what is listed, choose another profile with `[validate] profile` in \
                 wasmforge.toml, or build without --release to skip the check"
                .into(),
            Error::InvalidWasm { .. } => "`wasmforge validate FILE` shows the error in context; rebuild the module".into(),
            Error::OptimizerFailed { in_build: true, .. } => "build with --no-opt to skip optimizing, and please report this with the module".into(),
            Error::OptimizerFailed { .. } => "nothing was written: try another level (-O1), keep the module as it is, \
                 and please report this with the module"
                .into(),
            Error::NotWasm { .. } => "give a .wasm module or component (binary), or WebAssembly text \
                 (.wat); a project folder is built with `wasmforge build`"
                .into(),
            Error::Io(_) => return None,
        })
    }
}

/// Every line of `text` indented by two spaces.
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
