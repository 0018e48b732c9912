//! Rust checks: the toolchain and its target, rustc's version, the removed `wasm32-wasi` name,
//! and crates in the resolved dependency graph that cannot work on the chosen target.

use std::path::{Path, PathBuf};

use cargo_metadata::{DependencyKind, Metadata, Package, PackageId};

use crate::diagnostics::check::Check;
use crate::diagnostics::{Diagnostic, Severity, plural};
use crate::lang::rust::toolchain::RustToolchain;
use crate::target::Target;

/// A rustc version, `rustc 1.95.0 (…)` → (1, 95, 0).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct RustcVersion(pub u32, pub u32, pub u32);

impl std::fmt::Display for RustcVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl RustcVersion {
    /// Parses `rustc 1.95.0 (59807616e 2026-04-14)`, `rustc 1.97.0-nightly (…)`, or `1.78`.
    pub fn parse(text: &str) -> Option<RustcVersion> {
        let word = text
            .split_whitespace()
            .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
        let number = word.split('-').next()?;
        let mut parts = number.split('.').map(|p| p.parse::<u32>().ok());
        Some(RustcVersion(
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
            parts.next().flatten().unwrap_or(0),
        ))
    }
}

/// The first Rust release that knows each target.
pub fn minimum_rustc(target: Target) -> RustcVersion {
    match target {
        Target::Wasip1 => RustcVersion(1, 78, 0),
        Target::Wasip2 => RustcVersion(1, 82, 0),
        Target::Unknown => RustcVersion(1, 0, 0),
    }
}

/// What the checks need to know about the workspace, taken from one `cargo metadata` call
/// (resolved for the target platform, with the selected features) and cached with the plan.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RustFacts {
    /// The packages the build selects.
    pub packages: Vec<PackageFact>,
    /// Every package in the resolved graph for the target.
    pub deps: Vec<DepFact>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PackageFact {
    pub name: String,
    pub version: String,
    pub rust_version: Option<String>,
    pub manifest: PathBuf,
    /// Has a bin or cdylib target.
    pub wasm_capable: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DepFact {
    pub name: String,
    pub version: String,
    /// Features enabled in the resolved graph.
    pub features: Vec<String>,
    /// Its build script compiles C (a build-dependency on `cc` or `cmake`).
    pub builds_c: bool,
    /// Packages that depend on it directly ("name version").
    pub required_by: Vec<String>,
}

impl DepFact {
    fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }

    fn via(&self) -> String {
        match self.required_by.as_slice() {
            [] => String::new(),
            [one] => format!(" (required by {one})"),
            many => format!(" (required by {})", many.join(", ")),
        }
    }
}

/// Extracts the facts from `metadata` for the `selected` packages.
pub fn facts(metadata: &Metadata, selected: &[&Package]) -> RustFacts {
    let packages = selected
        .iter()
        .map(|p| PackageFact {
            name: p.name.to_string(),
            version: p.version.to_string(),
            rust_version: p.rust_version.as_ref().map(|v| v.to_string()),
            manifest: p.manifest_path.clone().into_std_path_buf(),
            wasm_capable: p.targets.iter().any(|t| t.is_bin() || t.is_cdylib()),
        })
        .collect();
    let mut deps = Vec::new();
    if let Some(resolve) = &metadata.resolve {
        let compiled = target_graph(metadata, resolve, selected);
        let package_of = |id: &PackageId| metadata.packages.iter().find(|p| &p.id == id);
        for node in resolve.nodes.iter().filter(|n| compiled.contains(&n.id)) {
            let Some(package) = package_of(&node.id) else {
                continue;
            };
            let required_by: Vec<String> = resolve
                .nodes
                .iter()
                .filter(|n| compiled.contains(&n.id))
                .filter(|n| {
                    n.deps.iter().any(|d| {
                        d.pkg == node.id
                            && d.dep_kinds.iter().any(|k| k.kind == DependencyKind::Normal)
                    })
                })
                .filter_map(|n| package_of(&n.id))
                .map(|p| format!("{} {}", p.name, p.version))
                .collect();
            let builds_c = package
                .dependencies
                .iter()
                .any(|d| d.kind == DependencyKind::Build && (d.name == "cc" || d.name == "cmake"));
            deps.push(DepFact {
                name: package.name.to_string(),
                version: package.version.to_string(),
                features: node.features.iter().map(|f| f.to_string()).collect(),
                builds_c,
                required_by,
            });
        }
    }
    deps.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    RustFacts { packages, deps }
}

/// The packages compiled for the target when the `selected` packages are built: reached from
/// them through normal dependencies only. Dev-dependencies are compiled only for tests and
/// examples; build-dependencies and proc-macros (and all they pull in) are compiled for the
/// host, where a `-sys` crate or a C compiler is no WebAssembly problem. `cargo metadata` has
/// already dropped other platforms' dependencies (`--filter-platform`) and resolved the selected
/// features, so this is the graph `cargo build --target` compiles for wasm32 (issue 27).
fn target_graph(
    metadata: &Metadata,
    resolve: &cargo_metadata::Resolve,
    selected: &[&Package],
) -> std::collections::HashSet<PackageId> {
    normal_closure(
        metadata,
        resolve,
        selected.iter().map(|p| p.id.clone()).collect(),
    )
}

/// `start` and every package reached from it through normal dependencies, proc-macros left
/// out (host code).
pub(crate) fn normal_closure(
    metadata: &Metadata,
    resolve: &cargo_metadata::Resolve,
    start: Vec<PackageId>,
) -> std::collections::HashSet<PackageId> {
    let is_proc_macro = |id: &PackageId| {
        metadata
            .packages
            .iter()
            .find(|p| &p.id == id)
            .is_some_and(|p| p.targets.iter().any(|t| t.is_proc_macro()))
    };
    let mut seen: std::collections::HashSet<PackageId> = start.iter().cloned().collect();
    let mut queue = start;
    while let Some(id) = queue.pop() {
        let Some(node) = resolve.nodes.iter().find(|n| n.id == id) else {
            continue;
        };
        for dep in &node.deps {
            let normal = dep
                .dep_kinds
                .iter()
                .any(|k| k.kind == DependencyKind::Normal);
            if normal && !is_proc_macro(&dep.pkg) && seen.insert(dep.pkg.clone()) {
                queue.push(dep.pkg.clone());
            }
        }
    }
    seen
}

/// The toolchain check: the toolchain the project resolves to, and its target.
pub fn toolchain_check(resolved: &crate::Result<RustToolchain>, target: Target) -> Check {
    let triple = target.rust_triple();
    match resolved {
        Ok(toolchain) if toolchain.has_target(triple) => Check::ok(
            "rust-target",
            format!(
                "toolchain `{}` (from {}) has {triple}",
                toolchain.name, toolchain.source
            ),
        ),
        Ok(toolchain) => {
            let d = if toolchain.rustup {
                let (argv, safe) =
                    crate::lang::rust::toolchain::target_add(triple, Some(&toolchain.name));
                let command = crate::diagnostics::shell_line(&argv);
                Diagnostic::new(
                    "WF1001",
                    format!(
                        "`{triple}` is not installed for toolchain `{}` (from {})",
                        toolchain.name, toolchain.source
                    ),
                    format!("run `{command}`"),
                )
                .commands(vec![argv], safe)
            } else {
                Diagnostic::new(
                    "WF1001",
                    format!(
                        "`{triple}` is not installed for the rustc at {}",
                        toolchain.sysroot.display()
                    ),
                    format!(
                        "this rustc is not managed by rustup: install its standard library for {triple} (your distribution's rust-std package), or install Rust with rustup"
                    ),
                )
            };
            Check::from("rust-target", vec![d])
        }
        Err(crate::Error::ToolchainNotInstalled {
            toolchain,
            source_desc,
            ..
        }) => {
            // The name comes from the project (rust-toolchain.toml): only a name rustup's
            // grammar allows becomes a command `--fix` may run.
            let argv: Vec<String> = [
                "rustup",
                "toolchain",
                "install",
                toolchain,
                "--target",
                triple,
            ]
            .map(String::from)
            .to_vec();
            let safe = crate::lang::rust::toolchain::valid_toolchain_name(toolchain);
            let command = crate::diagnostics::shell_line(&argv);
            Check::from(
                "rust-target",
                vec![
                    Diagnostic::new(
                        "WF1002",
                        format!(
                            "the toolchain `{toolchain}` (from {source_desc}) is not installed"
                        ),
                        format!("run `{command}`"),
                    )
                    .commands(vec![argv], safe),
                ],
            )
        }
        Err(crate::Error::ToolNotFound { .. }) => Check::from(
            "rust-target",
            vec![Diagnostic::new(
                "WF1014",
                "cargo was not found on PATH",
                "install Rust with rustup (https://rustup.rs)",
            )],
        ),
        Err(other) => Check::from(
            "rust-target",
            vec![Diagnostic::new(
                "WF1002",
                format!("the Rust toolchain could not be resolved: {other}"),
                other.hint().unwrap_or_default(),
            )],
        ),
    }
}

/// rustc new enough to know the target.
pub fn rustc_check(toolchain: &str, version: Option<RustcVersion>, target: Target) -> Check {
    let needed = minimum_rustc(target);
    match version {
        None => Check::note("rustc", format!("could not read the version of toolchain `{toolchain}`")),
        Some(v) if v < needed => Check::from(
            "rustc",
            vec![Diagnostic::new(
                "WF1003",
                format!("rustc {v} (toolchain `{toolchain}`) does not know `{}`: it needs Rust {}.{} or newer", target.rust_triple(), needed.0, needed.1),
                "run `rustup update` (or raise the version in rust-toolchain.toml), then add the target",
            )
            .commands(crate::diagnostics::rustup_update(), false)],
        ),
        Some(v) => Check::ok("rustc", format!("rustc {v} knows {}", target.rust_triple())),
    }
}

/// Whether `text` uses the removed target name (`wasm32-wasi` not followed by `p1`, `p2`, …).
fn mentions_removed_name(text: &str) -> bool {
    text.match_indices("wasm32-wasi").any(|(i, m)| {
        let next = text[i + m.len()..].chars().next();
        !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// The files in which `wasm32-wasi` would matter: cargo's config files from the project folder up
/// (cargo reads them all), and the project's own scripts and CI files.
fn files_to_scan(project_dir: &Path, scripts: bool) -> Vec<(PathBuf, bool)> {
    let mut files = Vec::new();
    for dir in project_dir.ancestors() {
        for name in [".cargo/config.toml", ".cargo/config"] {
            let path = dir.join(name);
            if path.is_file() {
                files.push((path, true));
            }
        }
    }
    if scripts {
        let mut candidates: Vec<PathBuf> = [
            "Makefile",
            "makefile",
            "justfile",
            "Justfile",
            "Makefile.toml",
            "build.sh",
        ]
        .iter()
        .map(|n| project_dir.join(n))
        .collect();
        for dir in [
            project_dir.to_path_buf(),
            project_dir.join("scripts"),
            project_dir.join(".github/workflows"),
        ] {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                    if matches!(ext, "sh" | "yml" | "yaml" | "bash" | "ps1") {
                        candidates.push(path);
                    }
                }
            }
        }
        candidates.sort();
        candidates.dedup();
        files.extend(
            candidates
                .into_iter()
                .filter(|p| p.is_file())
                .map(|p| (p, false)),
        );
    }
    files
}

/// `wasm32-wasi` in cargo configuration, scripts, CI files and CARGO_BUILD_TARGET. In cargo's
/// configuration it is an error on toolchains that removed the name (1.84+); elsewhere, and on
/// older toolchains, a warning. `scripts` adds the project's scripts (doctor; builds skip them).
pub fn renamed_target_check(
    project_dir: &Path,
    scripts: bool,
    rustc: Option<RustcVersion>,
    build_target_env: Option<&str>,
) -> Check {
    let removed = rustc.is_some_and(|v| v >= RustcVersion(1, 84, 0));
    let mut found = Vec::new();
    for (file, is_config) in files_to_scan(project_dir, scripts) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if mentions_removed_name(line) {
                let severity = if is_config && removed {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                let shown = file
                    .strip_prefix(project_dir)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                found.push(
                    Diagnostic::new(
                        "WF1004",
                        format!(
                            "{shown}:{} uses the removed target name `wasm32-wasi`: {}",
                            n + 1,
                            line.trim()
                        ),
                        format!(
                            "replace `wasm32-wasi` by `wasm32-wasip1` on line {} of {shown}",
                            n + 1
                        ),
                    )
                    .severity(severity)
                    .at(&file, Some(n as u32 + 1)),
                );
            }
        }
    }
    if let Some(value) = build_target_env.filter(|v| mentions_removed_name(v)) {
        found.push(
            Diagnostic::new(
                "WF1004",
                format!("CARGO_BUILD_TARGET={value} uses the removed target name `wasm32-wasi`"),
                "set CARGO_BUILD_TARGET=wasm32-wasip1 (or unset it: wasmforge passes --target itself)",
            )
            .severity(if removed { Severity::Error } else { Severity::Warning }),
        );
    }
    if found.is_empty() {
        Check::ok(
            "target-names",
            "no use of the removed `wasm32-wasi` name".to_string(),
        )
    } else {
        Check::from("target-names", found)
    }
}

/// The selected packages: something to build (bin or cdylib), and a `rust-version` this rustc meets.
pub fn packages_check(facts: &RustFacts, rustc: Option<RustcVersion>) -> Check {
    let mut found = Vec::new();
    // In a workspace, library-only members are fine as long as something becomes a .wasm.
    let nothing_to_build = !facts.packages.iter().any(|p| p.wasm_capable);
    for package in &facts.packages {
        if nothing_to_build {
            found.push(
                Diagnostic::new(
                    "WF1005",
                    format!("package `{}` has no binary and no cdylib library: nothing becomes a .wasm", package.name),
                    format!("add src/main.rs for a command, or `[lib] crate-type = [\"cdylib\"]` in {} for a library", package.manifest.display()),
                )
                .at(&package.manifest, None),
            );
        }
        if let (Some(wanted), Some(have)) = (
            package
                .rust_version
                .as_deref()
                .and_then(RustcVersion::parse),
            rustc,
        ) && wanted > have
        {
            found.push(
                Diagnostic::new(
                    "WF1006",
                    format!(
                        "package `{}` needs rustc {} (rust-version), the toolchain has {have}",
                        package.name,
                        package.rust_version.as_deref().unwrap_or_default()
                    ),
                    "run `rustup update`, or pin a newer toolchain in rust-toolchain.toml",
                )
                .commands(crate::diagnostics::rustup_update(), false)
                .at(
                    &package.manifest,
                    line_of(&package.manifest, "rust-version"),
                ),
            );
        }
    }
    if found.is_empty() {
        let names: Vec<&str> = facts.packages.iter().map(|p| p.name.as_str()).collect();
        Check::ok("packages", format!("{} can be built", names.join(", ")))
    } else {
        Check::from("packages", found)
    }
}

/// The manifest's edition (`[package] edition`, or the workspace's through
/// `edition.workspace = true`) against the rustc that will build it: cargo cannot even read a
/// manifest of an edition newer than itself ("feature `edition2024` is required").
pub fn edition_check(manifest: &Path, rustc: Option<RustcVersion>) -> Check {
    let Some(have) = rustc else {
        return Check::ok("edition", "no rustc version to compare".into());
    };
    let Some(doc) = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
    else {
        return Check::ok("edition", "no manifest to read".into());
    };
    let workspace = doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("edition"))
        .and_then(|e| e.as_str());
    let edition = match doc.get("package").and_then(|p| p.get("edition")) {
        Some(toml::Value::String(e)) => Some(e.as_str()),
        Some(toml::Value::Table(_)) => workspace,
        _ => workspace,
    };
    let Some(edition) = edition else {
        return Check::ok("edition", "edition 2015 (none given)".into());
    };
    match crate::diagnostics::catalog::EDITIONS
        .iter()
        .find(|(e, _)| *e == edition)
    {
        Some((_, (major, minor))) if RustcVersion(*major, *minor, 0) > have => Check::from(
            "edition",
            vec![
                edition_diagnostic(edition, (*major, *minor), &format!("rustc {have}"))
                    .at(manifest, line_of(manifest, "edition")),
            ],
        ),
        _ => Check::ok("edition", format!("edition {edition}, rustc {have} has it")),
    }
}

/// WF1006 for an edition newer than the toolchain (`has`: "rustc 1.81.0", "cargo 1.81.0").
pub fn edition_diagnostic(edition: &str, (major, minor): (u32, u32), has: &str) -> Diagnostic {
    Diagnostic::new(
        "WF1006",
        format!(
            "the package is edition {edition}, which needs Rust {major}.{minor} or newer; the toolchain has {has}"
        ),
        format!(
            "use Rust {major}.{minor} or newer: `rustup update`, and a newer `channel` in rust-toolchain.toml where one pins this toolchain; or, if the code allows, an older `edition` in Cargo.toml"
        ),
    )
}

/// The 1-based line of the first line of `file` that starts with `key`.
fn line_of(file: &Path, key: &str) -> Option<u32> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .position(|l| l.trim_start().starts_with(key))
        .map(|i| i as u32 + 1)
}

/// Crates that wrap C libraries with no WASI preview 1 port, and what to use instead.
const NO_WASM_PORT: &[(&str, &str)] = &[
    (
        "openssl-sys",
        "use rustls (e.g. reqwest's `rustls-tls` feature instead of `native-tls`)",
    ),
    (
        "curl-sys",
        "use a pure-Rust HTTP client, or wasi:http on wasip2",
    ),
    ("libgit2-sys", "use gix (gitoxide)"),
    ("libssh2-sys", "use a pure-Rust SSH implementation (russh)"),
];

/// What the dependency checks read besides the graph.
#[derive(Debug, Clone, Default)]
pub struct DepEnv {
    /// RUSTFLAGS / CARGO_ENCODED_RUSTFLAGS and every `rustflags` in cargo's config files, as text.
    pub rustflags: String,
    /// `CC_<triple>`, `TARGET_CC` or `CC` is set.
    pub cc_set: bool,
    /// The C toolchain wasmforge found, as the variables cc-rs reads (`CC_wasm32_wasip1=… CFLAGS_…`).
    pub c_compiler: Option<String>,
    /// Cargo's target folder, where the build scripts that ran left their output.
    pub target_dir: Option<PathBuf>,
}

/// What a package's build script did the last time it ran for `triple` (cargo keeps its output
/// in `<target-dir>/<triple>/<profile>/build/<name>-<hash>/output`): `Some(true)` when it told
/// cargo to link a library (what cc-rs and cmake do for the C they compile), `Some(false)` when
/// it ran and linked nothing — a build-dependency on `cc` is not C compiled for every target
/// (blake3 compiles C only for x86 and Arm) —, `None` when it never ran for this target.
pub fn script_linked_c(target_dir: &Path, triple: &str, name: &str) -> Option<bool> {
    let prefix = format!("{name}-");
    let mut seen = None;
    let profiles = std::fs::read_dir(target_dir.join(triple)).ok()?;
    for profile in profiles.flatten() {
        let Ok(scripts) = std::fs::read_dir(profile.path().join("build")) else {
            continue;
        };
        for script in scripts.flatten() {
            let file_name = script.file_name();
            let Some(hash) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
                continue;
            };
            if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                continue;
            }
            // Output a build script wrote: read at most 1 MiB of it.
            let Ok(file) = std::fs::File::open(script.path().join("output")) else {
                continue;
            };
            let mut text = String::new();
            use std::io::Read as _;
            if file.take(1 << 20).read_to_string(&mut text).is_err() {
                continue;
            }
            let links = text.lines().any(|l| {
                l.starts_with("cargo:rustc-link-lib=") || l.starts_with("cargo::rustc-link-lib=")
            });
            seen = Some(seen.unwrap_or(false) || links);
        }
    }
    seen
}

impl DepEnv {
    /// Reads the environment and cargo's config files for `project_dir` and `target`.
    pub fn read(project_dir: &Path, target: Target) -> DepEnv {
        let mut rustflags = String::new();
        for var in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
        ] {
            if let Ok(v) = std::env::var(var) {
                rustflags.push_str(&v.replace('\u{1f}', " "));
                rustflags.push(' ');
            }
        }
        let triple_var = target.rust_triple().replace('-', "_").to_ascii_uppercase();
        if let Ok(v) = std::env::var(format!("CARGO_TARGET_{triple_var}_RUSTFLAGS")) {
            rustflags.push_str(&v);
        }
        for (file, is_config) in files_to_scan(project_dir, false) {
            if is_config && let Ok(text) = std::fs::read_to_string(&file) {
                rustflags.push_str(&text);
                rustflags.push('\n');
            }
        }
        let cc_var = format!("CC_{}", target.rust_triple().replace('-', "_"));
        let cc_set = [cc_var.as_str(), "TARGET_CC", "CC"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
        DepEnv {
            rustflags,
            cc_set,
            c_compiler: None,
            target_dir: None,
        }
    }
}

fn version_of(dep: &DepFact) -> (u64, u64, u64) {
    let mut parts = dep
        .version
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// The fix for getrandom 0.2 on the bare target: a browser gets randomness through JavaScript,
/// anything else registers its own source.
pub const GETRANDOM_02_FIX: &str = "in a browser or Node.js: `getrandom = { version = \"0.2\", features = [\"js\"] }` in [dependencies] (cargo unifies the feature into the graph); for another host: the `custom` feature and `getrandom::register_custom_getrandom!(your_fn)`; or build for wasip1, where WASI provides randomness";

/// The fix for getrandom 0.3 on the bare target.
pub const GETRANDOM_03_FIX: &str = "in a browser or Node.js: `[target.wasm32-unknown-unknown] rustflags = ['--cfg', 'getrandom_backend=\"wasm_js\"']` in .cargo/config.toml and `getrandom = { version = \"0.3\", features = [\"wasm_js\"] }` in Cargo.toml; for another host: `--cfg getrandom_backend=\"custom\"` and an `extern \"Rust\" fn __getrandom_v03_custom`; or build for wasip1";

/// The value of the `getrandom_backend` cfg in rustflags text (`--cfg getrandom_backend="custom"`,
/// quotes escaped or not), if it is set.
fn getrandom_backend(rustflags: &str) -> Option<String> {
    let at = rustflags.find("getrandom_backend")? + "getrandom_backend".len();
    let rest = rustflags[at..].trim_start().strip_prefix('=')?;
    let value: String = rest
        .trim_start_matches(['\\', '"', '\'', ' '])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!value.is_empty()).then_some(value)
}

/// Crates in the resolved graph that cannot work on `target`.
pub fn dependency_check(facts: &RustFacts, target: Target, env: &DepEnv) -> Check {
    let mut found = Vec::new();
    let triple = target.rust_triple();
    let has = |dep: &DepFact, feature: &str| dep.features.iter().any(|f| f == feature);
    for dep in &facts.deps {
        let (major, minor, patch) = version_of(dep);
        match dep.name.as_str() {
            // getrandom's own backends for the bare target: `js`/`wasm_js` (a browser or Node.js
            // through wasm-bindgen) or a custom one the program registers. Either builds.
            "getrandom"
                if target == Target::Unknown
                    && (major, minor) == (0, 2)
                    && !has(dep, "js")
                    && !has(dep, "custom") =>
            {
                found.push(Diagnostic::new(
                    "WF1007",
                    format!("{}{} has no randomness source on {triple}: neither its `js` nor its `custom` feature is on", dep.label(), dep.via()),
                    GETRANDOM_02_FIX,
                ));
            }
            "getrandom" if target == Target::Unknown && (major, minor) == (0, 3) => {
                match getrandom_backend(&env.rustflags).as_deref() {
                    // Another backend (custom, unsupported, …): the crate's own business.
                    Some(backend) if backend != "wasm_js" => {}
                    Some(_) if has(dep, "wasm_js") => {}
                    backend => {
                        let missing = if backend.is_some() {
                            "the `wasm_js` feature (the `getrandom_backend=\"wasm_js\"` cfg is set)"
                        } else {
                            "a backend: `getrandom_backend` is not set (`\"wasm_js\"` with the `wasm_js` feature, or `\"custom\"`)"
                        };
                        found.push(Diagnostic::new(
                            "WF1008",
                            format!("{}{} on {triple} needs {missing}", dep.label(), dep.via()),
                            GETRANDOM_03_FIX,
                        ));
                    }
                }
            }
            "tokio" => {
                // tokio/src/lib.rs: compile_error! unless tokio_unstable, for these features.
                let unstable =
                    env.rustflags.contains("tokio_unstable") && target != Target::Unknown;
                let bad: Vec<&str> = [
                    "fs",
                    "io-std",
                    "net",
                    "process",
                    "rt-multi-thread",
                    "signal",
                ]
                .into_iter()
                .filter(|f| has(dep, f))
                .collect();
                if !bad.is_empty() && !unstable {
                    found.push(Diagnostic::new(
                        "WF1009",
                        format!("{}{} is built with {} — WebAssembly supports only sync, macros, io-util, rt and time", dep.label(), dep.via(), bad.join(", ")),
                        "use `tokio = { version = \"1\", default-features = false, features = [\"rt\", \"macros\", \"sync\", \"time\", \"io-util\"] }` and `#[tokio::main(flavor = \"current_thread\")]`; if another crate enables them, turn off its feature that needs them",
                    ));
                }
            }
            "mio" => {
                let too_old = (major, minor, patch) < (0, 8, 5);
                if target == Target::Unknown || too_old {
                    let why = if target == Target::Unknown {
                        format!(
                            "mio has no event source on {triple} (it supports only WASI among Wasm targets)"
                        )
                    } else {
                        "mio supports WASI from 0.8.5".to_string()
                    };
                    found.push(Diagnostic::new(
                        "WF1010",
                        format!("{}{}: {why}", dep.label(), dep.via()),
                        if target == Target::Unknown {
                            "drop the crate that needs sockets for this target (for tokio: disable its `net` feature), or build for wasip1".to_string()
                        } else {
                            "run `cargo update -p mio`".to_string()
                        },
                    ));
                }
            }
            name if dep.builds_c => {
                if let Some((_, instead)) = NO_WASM_PORT.iter().find(|(n, _)| *n == name) {
                    found.push(Diagnostic::new(
                        "WF1012",
                        format!(
                            "{}{} wraps a C library with no WebAssembly port",
                            dep.label(),
                            dep.via()
                        ),
                        (*instead).to_string(),
                    ));
                } else if !env.cc_set && target != Target::Unknown {
                    let evidence = env
                        .target_dir
                        .as_deref()
                        .and_then(|dir| script_linked_c(dir, triple, name));
                    let (does, severity_without) = match evidence {
                        // It ran for this target and compiled nothing to link: nothing to say.
                        Some(false) => continue,
                        Some(true) => (
                            "compiles C in its build script".to_string(),
                            Severity::Error,
                        ),
                        None => (
                            format!(
                                "has a build script that may compile C (it build-depends on cc or cmake; whether it does for {triple} shows when it runs)"
                            ),
                            Severity::Warning,
                        ),
                    };
                    let var = format!("CC_{}", triple.replace('-', "_"));
                    let (message, fix, severity) = match &env.c_compiler {
                        Some(cc) => (
                            format!(
                                "{}{} {does}; cargo alone finds no WebAssembly C compiler (it tries `clang`)",
                                dep.label(),
                                dep.via()
                            ),
                            format!(
                                "wasmforge build sets {cc} by itself; for plain cargo: `export {cc}`"
                            ),
                            Severity::Warning,
                        ),
                        None => (
                            format!(
                                "{}{} {does}, and there is no C compiler for WebAssembly",
                                dep.label(),
                                dep.via()
                            ),
                            format!(
                                "install one (`wasmforge explain WF3001`), then `export {var}=<it>`"
                            ),
                            severity_without,
                        ),
                    };
                    found.push(Diagnostic::new("WF1011", message, fix).severity(severity));
                }
            }
            _ => {}
        }
        // Crates known to have no code for Wasm targets, before anything compiles.
        if let Some(d) = super::targetless::preflight(&dep.name, &dep.version, &dep.via(), triple) {
            found.push(d);
        }
    }
    if found.is_empty() {
        Check::ok(
            "dependencies",
            format!(
                "{} in the graph for {triple}, none known to fail there",
                plural(facts.deps.len(), "crate")
            ),
        )
    } else {
        Check::from("dependencies", found)
    }
}

/// The version a `wasm-bindgen --version` line names (`wasm-bindgen 0.2.92`, `wasm-bindgen 0.2.100 (abc)`).
pub fn wasm_bindgen_cli_version(text: &str) -> Option<String> {
    let rest = text.trim().strip_prefix("wasm-bindgen ")?;
    let v = rest.split_whitespace().next()?;
    v.starts_with(|c: char| c.is_ascii_digit())
        .then(|| v.to_string())
}

/// The wasm-bindgen crate in the graph and the CLI on PATH must be the same version.
pub fn wasm_bindgen_check(facts: &RustFacts, cli: Option<(PathBuf, String)>) -> Option<Check> {
    let krate = facts.deps.iter().find(|d| d.name == "wasm-bindgen")?;
    let Some((path, version)) = cli else {
        return Some(Check::ok(
            "wasm-bindgen",
            format!("crate {}; no wasm-bindgen CLI on PATH", krate.version),
        ));
    };
    if version == krate.version {
        return Some(Check::ok(
            "wasm-bindgen",
            format!("crate and CLI ({}) are both {version}", path.display()),
        ));
    }
    let argv: Vec<String> = [
        "cargo",
        "install",
        "-f",
        "wasm-bindgen-cli",
        "--version",
        &krate.version,
    ]
    .map(String::from)
    .to_vec();
    let command = crate::diagnostics::shell_line(&argv);
    Some(Check::from(
        "wasm-bindgen",
        vec![
            Diagnostic::new(
                "WF1013",
                format!(
                    "the wasm-bindgen crate is {} but the CLI at {} is {version}",
                    krate.version,
                    path.display()
                ),
                format!("run `{command}` (or `cargo update -p wasm-bindgen --precise {version}`)"),
            )
            .commands(vec![argv], false),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_script_compiles_c_when_its_output_links_a_library() {
        let tmp = tempfile::tempdir().unwrap();
        let build = |profile: &str, dir: &str, output: &str| {
            let d = tmp
                .path()
                .join("wasm32-wasip1")
                .join(profile)
                .join("build")
                .join(dir);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("output"), output).unwrap();
        };
        let dir = tmp.path();
        assert_eq!(script_linked_c(dir, "wasm32-wasip1", "blake3"), None);
        // blake3's script ran for wasm32 and compiled nothing (its C is for x86 and Arm).
        build(
            "debug",
            "blake3-0123456789abcdef",
            "cargo:rustc-check-cfg=cfg(blake3_neon)\n",
        );
        assert_eq!(script_linked_c(dir, "wasm32-wasip1", "blake3"), Some(false));
        // Not read for another target, nor for a crate whose name only starts the same.
        assert_eq!(script_linked_c(dir, "wasm32-wasip2", "blake3"), None);
        build(
            "debug",
            "blake3-extra-0123456789abcdef",
            "cargo:rustc-link-lib=static=x\n",
        );
        assert_eq!(script_linked_c(dir, "wasm32-wasip1", "blake3"), Some(false));
        // zstd-sys compiled its C (cc-rs's lines; the 2024 `cargo::` spelling too).
        build(
            "release",
            "zstd-sys-fedcba9876543210",
            "cargo:rustc-link-lib=static=zstd\n",
        );
        assert_eq!(
            script_linked_c(dir, "wasm32-wasip1", "zstd-sys"),
            Some(true)
        );
        build(
            "debug",
            "answer-00000000000000aa",
            "cargo::rustc-link-lib=static=answer\n",
        );
        assert_eq!(script_linked_c(dir, "wasm32-wasip1", "answer"), Some(true));
    }

    #[test]
    fn rustc_versions_from_real_output() {
        assert_eq!(
            RustcVersion::parse("rustc 1.95.0 (59807616e 2026-04-14)"),
            Some(RustcVersion(1, 95, 0))
        );
        assert_eq!(
            RustcVersion::parse("rustc 1.97.0-nightly (0b1ab9b5f 2026-05-20)"),
            Some(RustcVersion(1, 97, 0))
        );
        assert_eq!(RustcVersion::parse("1.78"), Some(RustcVersion(1, 78, 0)));
        assert_eq!(RustcVersion::parse("nonsense"), None);
    }

    #[test]
    fn old_rustc_is_refused_per_target() {
        let old = rustc_check(
            "1.80-x86_64-unknown-linux-gnu",
            Some(RustcVersion(1, 80, 1)),
            Target::Wasip2,
        );
        assert_eq!(old.diagnostics[0].code, "WF1003");
        assert!(old.diagnostics[0].message.contains("1.82"));
        assert!(
            rustc_check("x", Some(RustcVersion(1, 80, 1)), Target::Wasip1)
                .diagnostics
                .is_empty()
        );
        assert!(
            !rustc_check("x", Some(RustcVersion(1, 77, 0)), Target::Wasip1)
                .diagnostics
                .is_empty()
        );
    }

    #[test]
    fn the_removed_name_is_told_from_its_successors() {
        assert!(mentions_removed_name("target = \"wasm32-wasi\""));
        assert!(mentions_removed_name("[target.wasm32-wasi]"));
        assert!(mentions_removed_name(
            "cargo build --target wasm32-wasi --release"
        ));
        assert!(!mentions_removed_name("target = \"wasm32-wasip1\""));
        assert!(!mentions_removed_name(
            "wasm32-wasip2 wasm32-wasip1-threads"
        ));
        assert!(!mentions_removed_name("wasm32-wasi-preview1-threads"));
    }

    #[test]
    fn wasm_bindgen_versions_from_recorded_output() {
        // `wasm-bindgen --version` of wasm-bindgen-cli 0.2.92 and 0.2.100.
        assert_eq!(
            wasm_bindgen_cli_version("wasm-bindgen 0.2.92\n").as_deref(),
            Some("0.2.92")
        );
        assert_eq!(
            wasm_bindgen_cli_version("wasm-bindgen 0.2.100 (2405ec2b4)").as_deref(),
            Some("0.2.100")
        );
        assert_eq!(wasm_bindgen_cli_version("cargo 1.95.0"), None);
        let facts = RustFacts {
            packages: vec![],
            deps: vec![DepFact {
                name: "wasm-bindgen".into(),
                version: "0.2.100".into(),
                features: vec![],
                builds_c: false,
                required_by: vec![],
            }],
        };
        let bad = wasm_bindgen_check(
            &facts,
            Some((PathBuf::from("/usr/bin/wasm-bindgen"), "0.2.92".into())),
        )
        .expect("check");
        assert_eq!(bad.diagnostics[0].code, "WF1013");
        assert_eq!(
            bad.diagnostics[0].fix.commands,
            ["cargo install -f wasm-bindgen-cli --version 0.2.100"]
        );
        let good = wasm_bindgen_check(&facts, Some((PathBuf::from("/x"), "0.2.100".into())))
            .expect("check");
        assert!(good.diagnostics.is_empty());
        assert!(wasm_bindgen_check(&RustFacts::default(), None).is_none());
        // The crate without the CLI (the CLI cannot be installed here: the real "missing" path).
        let cli = which::which("wasm-bindgen")
            .ok()
            .map(|p| (p, "0.0.0".to_string()));
        if cli.is_none() {
            let check = wasm_bindgen_check(&facts, None).expect("check");
            assert!(
                check.diagnostics.is_empty()
                    && check.detail.contains("no wasm-bindgen CLI on PATH")
            );
        }
    }
}
