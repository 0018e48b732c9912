//! Crates with no code for the target (WF1016), recognised from the compiler's own evidence: an
//! item rustc says was configured out (and the `cfg` that gates it), a `compile_error!` the crate
//! raises, a nightly-only `#![feature]` (E0554), `std::os::unix`, or items missing from the
//! crate's platform module. Crates known to be like this (`TARGETLESS`) add the way out that
//! exists, and are found before compiling too, from the dependency graph.

use crate::diagnostics::Diagnostic;
use crate::diagnostics::catalog::{TARGETLESS, Targetless};
use crate::diagnostics::stderr::{Context, Line, between};

/// Crates other rules explain better (WF1007–WF1010, WF1015).
const EXPLAINED_ELSEWHERE: &[&str] = &["tokio", "getrandom", "mio", "rustix"];

/// What the compiler showed about one crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Evidence {
    /// An item configured out, and the `cfg(…)` rustc points at (or `feature = "x"`).
    ConfiguredOut { item: String, cfg: String },
    /// The crate's own `compile_error!` message.
    CompileError(String),
    /// A nightly-only feature the crate enables.
    FeatureGate(String),
    /// It uses `std::os::unix`.
    StdOsUnix,
    /// Items its code for this target lacks (the first one rustc names).
    Missing(String),
    /// Its build script stops on this target, with these words.
    ScriptRefuses(String),
}

impl Evidence {
    fn why(&self) -> String {
        match self {
            Evidence::ConfiguredOut { item, cfg } => {
                format!("`{item}` is configured out: rustc says it is gated by `{cfg}`")
            }
            Evidence::CompileError(message) => {
                format!("it stops the build itself: compile_error!(\"{message}\")")
            }
            Evidence::FeatureGate(feature) => format!(
                "it enables `#![feature({feature})]`, which only nightly Rust allows (E0554 on stable)"
            ),
            Evidence::StdOsUnix => {
                "it uses `std::os::unix`, which WASI's standard library does not have (it has `std::os::wasi`)".into()
            }
            Evidence::Missing(what) => {
                format!("its code has no part for this target ({what})")
            }
            Evidence::ScriptRefuses(said) => {
                format!("its build script refuses the target: \"{said}\"")
            }
        }
    }
}

/// The rule: at cargo's `error: could not compile `NAME` …`, the evidence the errors before it
/// give about that crate, as one WF1016.
pub(crate) fn wf1016(at: &Line<'_>, ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { lines, i, text } = *at;
    // cargo: "failed to run custom build command for `jemalloc-sys v0.5.4+5.3.0-patched`", and
    // the script's panic says it does not support the target.
    if let Some(unit) = between(text, "failed to run custom build command for `", "`")
        && let Some((name, version)) = unit.split_once(" v")
        && !EXPLAINED_ELSEWHERE.contains(&name)
        && let Some(said) = script_refusal(&lines[i + 1..], ctx.triple)
    {
        push(diagnostic(
            name,
            Some(version),
            &Evidence::ScriptRefuses(said),
            ctx.triple,
            None,
        ));
        return;
    }
    let Some(name) = between(text, "error: could not compile `", "`") else {
        return;
    };
    if EXPLAINED_ELSEWHERE.contains(&name) {
        return;
    }
    let Some((evidence, place, version)) = evidence_for(lines, i, name) else {
        return;
    };
    push(diagnostic(
        name,
        version.as_deref(),
        &evidence,
        ctx.triple,
        place,
    ));
}

fn diagnostic(
    name: &str,
    version: Option<&str>,
    evidence: &Evidence,
    triple: &str,
    place: Option<(std::path::PathBuf, Option<u32>)>,
) -> Diagnostic {
    let label = match version {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    };
    let known = known(name, version);
    let why = match (known, evidence) {
        (Some(row), Evidence::Missing(_)) => row.why.to_string(),
        (Some(row), _) => format!("{}; {}", evidence.why(), row.why),
        (None, _) => evidence.why(),
    };
    let fix = match (known, evidence) {
        (Some(row), _) => row.fix.to_string(),
        (None, Evidence::ConfiguredOut { cfg, .. }) if cfg.starts_with("feature") => format!(
            "turn on the crate's feature (`{cfg}`) in Cargo.toml, or {}",
            generic_fix(name, triple)
        ),
        (None, _) => generic_fix(name, triple),
    };
    let d = Diagnostic::new(
        "WF1016",
        format!("{label} has no code for {triple}: {why}"),
        fix,
    )
    .commands(vec![tree_command(name, triple)], false)
    .about(name);
    crate::diagnostics::stderr::with_place(d, place)
}

fn generic_fix(name: &str, triple: &str) -> String {
    format!(
        "find what pulls it in (`{}`) and turn that dependency or feature off for Wasm (`[target.'cfg(not(target_family = \"wasm\"))'.dependencies]`), use a crate with WASI code instead, or `[patch.crates-io]` a fork that adds it; in your own crate, gate the code with the same `cfg`",
        crate::diagnostics::shell_line(&tree_command(name, triple))
    )
}

fn tree_command(name: &str, triple: &str) -> Vec<String> {
    [
        "cargo", "tree", "-i", name, "-e", "features", "--target", triple,
    ]
    .map(String::from)
    .to_vec()
}

/// The catalog's row for this crate and version, if it has one.
pub(crate) fn known(name: &str, version: Option<&str>) -> Option<&'static Targetless> {
    TARGETLESS.iter().find(|row| {
        row.krate == name
            && match (
                row.fixed_in,
                version.and_then(|v| semver::Version::parse(v).ok()),
            ) {
                (None, _) => true,
                (Some((a, b, c)), Some(v)) => v < semver::Version::new(a, b, c),
                (Some(_), None) => true,
            }
    })
}

/// The pre-flight form: a crate of the table in the graph the build compiles for a Wasm target.
pub(crate) fn preflight(name: &str, version: &str, via: &str, triple: &str) -> Option<Diagnostic> {
    let row = known(name, Some(version))?;
    Some(
        Diagnostic::new(
            "WF1016",
            format!(
                "{name} {version}{via} has no code for {triple}: {}",
                row.why
            ),
            row.fix,
        )
        .commands(vec![tree_command(name, triple)], false)
        .about(name),
    )
}

/// What brings a crate into the build, from `cargo tree --invert NAME -e features --prefix
/// depth`: one chain of packages from the crate's dependent up to the workspace's package
/// (`[("jemallocator", "0.5.4"), ("fd-find", "10.2.0")]`; the tree's first branch). Empty when
/// the tree names none (the crate is a workspace member itself). Which feature enables each
/// step the tree cannot say (it lists every feature of a package above it): the manifests do
/// ([`enabled_by`]).
pub(crate) fn dependents(tree: &str) -> Vec<(String, String)> {
    let lines: Vec<(usize, &str)> = tree
        .lines()
        .filter_map(|l| {
            let digits = l.chars().take_while(char::is_ascii_digit).count();
            Some((l[..digits].parse().ok()?, l[digits..].trim()))
        })
        .collect();
    let package = |text: &str| !text.contains(" feature \"");
    let mut chain: Vec<(String, String)> = Vec::new();
    let mut depth = 0;
    for (d, text) in lines.iter().skip(1) {
        if *d <= depth {
            // Another branch: the first one is the chain.
            if chain.is_empty() {
                continue;
            }
            break;
        }
        if !package(text) {
            continue;
        }
        let mut words = text.split_whitespace();
        if let (Some(name), Some(version)) = (words.next(), words.next()) {
            chain.push((
                name.to_string(),
                version.trim_start_matches('v').to_string(),
            ));
            depth = *d;
        }
    }
    chain
}

/// The features of `dependent` that turn on its optional dependency `krate` (`legacy =
/// ["dep:nowasm"]`, `["nowasm"]`, `["nowasm/x"]`), and whether its default features include one.
/// Empty when the dependency is not optional.
pub(crate) fn enabled_by(dependent: &cargo_metadata::Package, krate: &str) -> (Vec<String>, bool) {
    let optional: Vec<&str> = dependent
        .dependencies
        .iter()
        .filter(|d| d.optional && d.name == krate)
        .map(|d| d.rename.as_deref().unwrap_or(&d.name))
        .collect();
    if optional.is_empty() {
        return (Vec::new(), false);
    }
    let enables = |value: &str| {
        let value = value.strip_prefix("dep:").unwrap_or(value);
        let head = value
            .split('/')
            .next()
            .unwrap_or(value)
            .trim_end_matches('?');
        optional.contains(&head)
    };
    let mut features: Vec<String> = dependent
        .features
        .iter()
        .filter(|(name, values)| *name != "default" && values.iter().any(|v| enables(v)))
        .map(|(name, _)| name.clone())
        .collect();
    features.sort();
    // The implicit feature an optional dependency gets (`jemallocator = ["dep:jemallocator"]`)
    // says nothing when a feature of the package's own turns it on.
    if features.len() > 1 {
        features.retain(|f| !optional.contains(&f.as_str()));
    }
    // On by default: `default` lists it, or lists a feature that does (followed a few steps).
    let mut on = dependent
        .features
        .get("default")
        .cloned()
        .unwrap_or_default();
    let mut by_default = false;
    for _ in 0..8 {
        if on.iter().any(|v| features.contains(v) || enables(v)) {
            by_default = true;
            break;
        }
        on = on
            .iter()
            .filter_map(|f| dependent.features.get(f))
            .flatten()
            .cloned()
            .collect();
    }
    (features, by_default)
}

/// "pulled in by app 0.1.0 through its feature `legacy` (on by default)"; along a chain, "pulled
/// in by jemallocator 0.5.4, from fd-find 10.2.0 through its feature `use-jemalloc` (on by
/// default)".
pub(crate) fn pulled_in(by: &[(String, String, Vec<String>, bool)]) -> Option<String> {
    let said: Vec<String> = by
        .iter()
        .map(
            |(name, version, features, by_default)| match features.as_slice() {
                [] => format!("{name} {version}"),
                features => format!(
                    "{name} {version} through its feature{} {}{}",
                    if features.len() > 1 { "s" } else { "" },
                    features
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if *by_default { " (on by default)" } else { "" }
                ),
            },
        )
        .collect();
    (!said.is_empty()).then(|| format!("pulled in by {}", said.join(", from ")))
}

/// Does this ` --> PATH:L:C` belong to crate `name`? A registry or git checkout folder
/// `NAME-VERSION`, or a path dependency's folder named as the crate.
fn crate_dir_version(path: &str, name: &str) -> Option<Option<String>> {
    let dashed = name.replace('_', "-");
    for component in std::path::Path::new(path).components() {
        let Some(c) = component.as_os_str().to_str() else {
            continue;
        };
        for n in [name, dashed.as_str()] {
            if c == n {
                return Some(None);
            }
            if let Some(v) = c.strip_prefix(n).and_then(|r| r.strip_prefix('-'))
                && v.starts_with(|ch: char| ch.is_ascii_digit())
            {
                return Some(Some(v.to_string()));
            }
        }
    }
    None
}

/// The evidence about crate `name` in the error blocks before line `end`, the place of the first
/// error, and the crate's version.
pub(crate) fn evidence_for(
    lines: &[&str],
    end: usize,
    name: &str,
) -> Option<(
    Evidence,
    Option<(std::path::PathBuf, Option<u32>)>,
    Option<String>,
)> {
    let mut found: Vec<(u8, Evidence)> = Vec::new();
    let mut place = None;
    let mut version = None;
    // Each `error…` line, with its ` --> ` line among the next three.
    for start in (0..end).filter(|&j| lines[j].starts_with("error")) {
        let header = lines[start];
        if header.starts_with("error: could not compile") {
            continue;
        }
        let Some(arrow) = lines[start + 1..end.min(start + 4)]
            .iter()
            .find_map(|l| l.trim().strip_prefix("--> "))
        else {
            continue;
        };
        let Some(v) = crate_dir_version(arrow, name) else {
            continue;
        };
        if version.is_none() {
            version = v;
        }
        if place.is_none() {
            place = crate::diagnostics::stderr::split_file_line(arrow);
        }
        // The block: up to the next line that starts another message.
        let block_end = (start + 1..end)
            .find(|&j| {
                lines[j].starts_with("error")
                    || lines[j].starts_with("warning")
                    || lines[j].starts_with("For more information")
            })
            .unwrap_or(end);
        let block = &lines[start..block_end];
        if let Some(e) = classify(block) {
            found.push(e);
        }
    }
    if version.is_none() {
        version = lines[..end].iter().find_map(|l| {
            let rest = l.trim().strip_prefix("Compiling ")?;
            let rest = rest.strip_prefix(name)?.strip_prefix(" v")?;
            Some(rest.split_whitespace().next()?.to_string())
        });
    }
    found.sort_by_key(|(rank, _)| *rank);
    let (_, evidence) = found.into_iter().next()?;
    Some((evidence, place, version))
}

/// A build script's panic message that refuses the target: the line after `panicked at`, when
/// it names the target or says it is not supported. Read up to the next message of cargo's.
fn script_refusal(after: &[&str], triple: &str) -> Option<String> {
    let block = after
        .iter()
        .take_while(|l| !(l.starts_with("error") || l.starts_with("warning: build failed")));
    let mut lines = block.map(|l| l.trim());
    while let Some(line) = lines.next() {
        if line.contains("panicked at") {
            let message = lines.next()?.to_string();
            let lower = message.to_ascii_lowercase();
            let refuses = lower.contains(triple)
                || lower.contains("wasm")
                || lower.contains("not support")
                || lower.contains("unsupported");
            return refuses.then_some(message);
        }
    }
    None
}

/// One error block's evidence, ranked (lower is more telling).
fn classify(block: &[&str]) -> Option<(u8, Evidence)> {
    let header = block[0];
    if block
        .iter()
        .any(|l| l.contains("found an item that was configured out"))
    {
        let item = between(header, "cannot find function `", "`")
            .or_else(|| between(header, "cannot find type `", "`"))
            .or_else(|| between(header, "cannot find value `", "`"))
            .or_else(|| between(header, "cannot find `", "`"))
            .or_else(|| between(header, "unresolved import `", "`"))
            .or_else(|| between(header, "cannot find macro `", "`"))
            .unwrap_or("an item");
        let cfg = gated_cfg(block).unwrap_or_else(|| "a cfg".into());
        return Some((
            0,
            Evidence::ConfiguredOut {
                item: item.to_string(),
                cfg,
            },
        ));
    }
    if header.starts_with("error: ") && block.iter().any(|l| l.contains("compile_error!(")) {
        let message = header.trim_start_matches("error: ").trim().to_string();
        return Some((1, Evidence::CompileError(message)));
    }
    if header.starts_with("error[E0554]") {
        let feature = block
            .iter()
            .find_map(|l| l.split("feature(").nth(1))
            .and_then(|rest| rest.split([')', ',']).next())
            .map(|f| f.trim().to_string())
            .unwrap_or_else(|| "…".into());
        return Some((2, Evidence::FeatureGate(feature)));
    }
    if header.contains("could not find `unix` in `os`")
        || header.contains("`std::os::unix`")
        || header.contains("unresolved import `std::os::unix")
    {
        return Some((3, Evidence::StdOsUnix));
    }
    for code in ["E0425", "E0432", "E0433", "E0412", "E0422", "E0423"] {
        if header.starts_with(&format!("error[{code}]")) {
            let what = header
                .split_once("]: ")
                .map(|(_, w)| w.trim().to_string())
                .unwrap_or_default();
            return Some((4, Evidence::Missing(what)));
        }
    }
    None
}

/// The `cfg` rustc's "the item is gated here" underlines: the attribute on the source line above
/// the marker (`#[cfg(any(unix, windows))]` → `cfg(any(unix, windows))`), or "gated behind the
/// `x` feature" → `feature = "x"`.
fn gated_cfg(block: &[&str]) -> Option<String> {
    for (k, line) in block.iter().enumerate() {
        if let Some(feature) = between(line, "gated behind the `", "` feature") {
            return Some(format!("feature = \"{feature}\""));
        }
        if line.contains("the item is gated here") && k > 0 {
            let source = block[k - 1].split_once('|').map(|(_, s)| s)?;
            let from = source.find("cfg(")?;
            let mut depth = 0usize;
            for (n, ch) in source[from..].char_indices() {
                match ch {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(source[from..from + n + 1].to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_table_is_found_before_compiling_with_its_way_out() {
        for row in TARGETLESS {
            let below = match row.fixed_in {
                Some((a, b, c)) if c > 0 => format!("{a}.{b}.{}", c - 1),
                Some((a, b, _)) if b > 0 => format!("{a}.{}.99", b - 1),
                Some((a, _, _)) => format!("{}.99.99", a - 1),
                None => "3.5.3".to_string(),
            };
            for triple in ["wasm32-wasip1", "wasm32-wasip2", "wasm32-unknown-unknown"] {
                let d = preflight(row.krate, &below, " (required by app 0.1.0)", triple)
                    .unwrap_or_else(|| panic!("{}: not found", row.krate));
                assert_eq!(d.code, "WF1016");
                assert_eq!(
                    d.message,
                    format!(
                        "{} {below} (required by app 0.1.0) has no code for {triple}: {}",
                        row.krate, row.why
                    )
                );
                assert_eq!(d.fix.text, row.fix, "{}", row.krate);
            }
            if let Some((a, b, c)) = row.fixed_in {
                let fixed = format!("{a}.{b}.{c}");
                assert!(preflight(row.krate, &fixed, "", "wasm32-wasip1").is_none());
            }
        }
        assert!(preflight("serde", "1.0.0", "", "wasm32-wasip1").is_none());
    }

    #[test]
    fn cargo_tree_names_the_dependents_and_the_manifest_the_feature() {
        // cargo 1.95's `cargo tree --invert … -e features --prefix depth`: every feature of
        // the dependent is listed above it, the one that enables the crate or not.
        let tree = "0nowasm v0.1.0 (/tmp/tl/nowasm)\n1nowasm feature \"default\"\n2app v0.1.0 (/tmp/tl/app)\n3app feature \"default\" (command-line)\n3app feature \"legacy\"\n4app feature \"default\" (command-line)\n";
        assert_eq!(dependents(tree), [("app".to_string(), "0.1.0".to_string())]);
        // A chain: the crate's dependent, then what depends on that, up to the workspace.
        let chain = "0jemalloc-sys v0.5.4+5.3.0-patched\n1jemalloc-sys feature \"default\"\n2jemallocator v0.5.4\n3jemallocator feature \"default\"\n4fd-find v10.2.0 (/tmp/fd)\n5fd-find feature \"default\" (command-line)\n5fd-find feature \"use-jemalloc\"\n6fd-find feature \"base\"\n1jemalloc-sys feature \"background_threads_runtime_support\"\n2jemallocator v0.5.4\n";
        assert_eq!(
            dependents(chain),
            [
                ("jemallocator".to_string(), "0.5.4".to_string()),
                ("fd-find".to_string(), "10.2.0".to_string())
            ]
        );
        assert!(dependents("0app v0.1.0 (/tmp/tl/app)\n").is_empty());
        let package: cargo_metadata::Package = serde_json::from_value(serde_json::json!({
            "name": "app", "version": "0.1.0", "id": "app 0.1.0", "license": null,
            "license_file": null, "description": null, "source": null,
            "dependencies": [
                {"name": "nowasm", "source": null, "req": "*", "kind": null, "rename": null,
                 "optional": true, "uses_default_features": true, "features": [],
                 "target": null, "registry": null},
                {"name": "ctrlc", "source": null, "req": "^3", "kind": null, "rename": null,
                 "optional": false, "uses_default_features": true, "features": [],
                 "target": null, "registry": null}
            ],
            "targets": [], "features": {"default": ["legacy"], "legacy": ["dep:nowasm"], "other": []},
            "manifest_path": "/tmp/tl/app/Cargo.toml", "metadata": null, "publish": null,
            "authors": [], "categories": [], "keywords": [], "readme": null,
            "repository": null, "homepage": null, "documentation": null, "edition": "2021",
            "links": null, "default_run": null, "rust_version": null
        }))
        .expect("a package");
        assert_eq!(
            enabled_by(&package, "nowasm"),
            (vec!["legacy".to_string()], true)
        );
        assert_eq!(enabled_by(&package, "ctrlc"), (vec![], false));
        let by = [(
            "app".to_string(),
            "0.1.0".to_string(),
            vec!["legacy".to_string()],
            true,
        )];
        assert_eq!(
            pulled_in(&by).as_deref(),
            Some("pulled in by app 0.1.0 through its feature `legacy` (on by default)")
        );
    }

    /// rustc 1.95's words (recorded from the fixture rust-targetless).
    const CONFIGURED_OUT: &str = "\
error[E0425]: cannot find function `home_dir` in this scope
 --> /tmp/tl/unixonly/src/lib.rs:5:5
  |
5 |     home_dir().map(|h| h.join(\".config\"))
  |     ^^^^^^^^ not found in this scope
  |
note: found an item that was configured out
 --> /tmp/tl/unixonly/src/lib.rs:2:8
  |
1 | #[cfg(any(unix, windows))]
  |          --------------- the item is gated here
2 | pub fn home_dir() -> Option<std::path::PathBuf> { None }
  |        ^^^^^^^^

For more information about this error, try `rustc --explain E0425`.
error: could not compile `unixonly` (lib) due to 1 previous error";

    #[test]
    fn the_evidence_names_the_cfg_the_message_and_the_feature() {
        let lines: Vec<&str> = CONFIGURED_OUT.lines().collect();
        let (evidence, place, _) = evidence_for(&lines, lines.len() - 1, "unixonly").unwrap();
        assert_eq!(
            evidence,
            Evidence::ConfiguredOut {
                item: "home_dir".into(),
                cfg: "cfg(any(unix, windows))".into()
            }
        );
        assert_eq!(place, Some(("/tmp/tl/unixonly/src/lib.rs".into(), Some(5))));
        // Another crate's errors are not this crate's evidence.
        assert!(evidence_for(&lines, lines.len() - 1, "other").is_none());

        let refusal = "\
error: failed to run custom build command for `jemalloc-sys v0.5.4+5.3.0-patched`

Caused by:
  --- stderr

  thread 'main' (24840) panicked at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/jemalloc-sys-0.5.4+5.3.0-patched/build.rs:76:9:
  jemalloc does not support target: wasm32-wasip1
  stack backtrace:
warning: build failed, waiting for other jobs to finish...";
        let lines: Vec<&str> = refusal.lines().collect();
        let mut found = Vec::new();
        let ctx = Context {
            toolchain: None,
            triple: "wasm32-wasip1",
        };
        wf1016(
            &Line {
                lines: &lines,
                i: 0,
                text: lines[0],
            },
            &ctx,
            &mut |d| found.push(d),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "jemalloc-sys 0.5.4+5.3.0-patched has no code for wasm32-wasip1: its build script refuses the target: \"jemalloc does not support target: wasm32-wasip1\""
        );

        let gate = "\
error[E0554]: `#![feature]` may not be used on the stable release channel
 --> /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/path_abs-0.5.1/src/lib.rs:1:33
  |
1 | #![cfg_attr(target_os = \"wasi\", feature(wasi_ext))]
  |                                 ^^^^^^^^^^^^^^^^^
error: could not compile `path_abs` (lib) due to 1 previous error";
        let lines: Vec<&str> = gate.lines().collect();
        let (evidence, _, version) = evidence_for(&lines, lines.len() - 1, "path_abs").unwrap();
        assert_eq!(evidence, Evidence::FeatureGate("wasi_ext".into()));
        assert_eq!(version.as_deref(), Some("0.5.1"));

        let unix = "\
error[E0433]: failed to resolve: could not find `unix` in `os`
 --> /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/nix-like-1.0.0/src/fd.rs:3:14
error: could not compile `nix-like` (lib) due to 1 previous error";
        let lines: Vec<&str> = unix.lines().collect();
        let (evidence, _, _) = evidence_for(&lines, lines.len() - 1, "nix-like").unwrap();
        assert_eq!(evidence, Evidence::StdOsUnix);
    }
}
