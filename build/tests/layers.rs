//! The layers of ARCHITECTURE.md, kept: every `crate::` path in `build/src` (outside comments and
//! unit tests) names a module of its own layer or a lower one (so no lower layer names a
//! language), and no files import each other round a circle (a language folder counts as one).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer of each top-level module (ARCHITECTURE.md's table).
const LAYERS: &[(&str, u8)] = &[
    ("pipeline", 5),
    ("doctor", 5),
    ("lang", 4),
    ("options", 3),
    ("job", 3),
    ("config", 2),
    ("artifact", 2),
    ("wit", 2),
    ("componentize", 2),
    ("compose", 2),
    ("wasm", 2),
    ("diagnostics", 1),
    ("process", 1),
    ("cache", 1),
    ("report", 1),
    ("project", 1),
    ("target", 1),
    ("files", 1),
    ("text", 1),
    ("error", 1),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The node a file is: its module path (`diagnostics::check`), or `lang::<name>` for every file
/// of a language folder (a folder is one unit).
fn node_of(relative: &Path) -> String {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    match parts.as_slice() {
        [first, second, ..] if first == "lang" => format!("lang::{second}"),
        _ => parts.join("::"),
    }
}

/// The module paths a source names with `crate::…` (`files`, `lang::c::config`, `Error`), outside
/// comments and `#[cfg(test)] mod tests`.
fn references(source: &str) -> BTreeSet<String> {
    let code = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let path: Vec<&str> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default()
                .split("::")
                .filter(|p| !p.is_empty())
                .collect();
            match path.as_slice() {
                [first, ..] => {
                    let resolved = REEXPORTS
                        .iter()
                        .find(|(name, _)| name == first)
                        .map_or(path.join("::"), |(_, module)| module.to_string());
                    found.insert(resolved)
                }
                [] => false,
            };
        }
    }
    found
}

/// What `lib.rs` re-exports at the crate's root, and the module it comes from.
const REEXPORTS: &[(&str, &str)] = &[
    ("Artifact", "artifact"),
    ("ArtifactKind", "artifact"),
    ("Error", "error"),
    ("ErrorKind", "error"),
    ("Result", "error"),
    ("BuildOutput", "job"),
    ("BuildOptions", "options"),
    ("OptChoice", "options"),
    ("Profile", "options"),
    ("build", "pipeline"),
    ("NullReporter", "report"),
    ("Reporter", "report"),
    ("Target", "target"),
];

fn layer(node: &str) -> Option<u8> {
    let top = node.split("::").next().unwrap_or_default();
    LAYERS.iter().find(|(m, _)| *m == top).map(|(_, l)| *l)
}

#[test]
fn modules_import_only_their_layer_or_lower_and_never_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut raw = Vec::new();
    for file in &all {
        let relative = file.strip_prefix(&src).expect("under src");
        let node = node_of(relative);
        if node == "lib" || node == "main" {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read");
        graph.insert(node.clone(), BTreeSet::new());
        raw.push((node, references(&text)));
    }
    // A path names the longest module that exists (`diagnostics::check::Check` is
    // `diagnostics::check`; `lang::c::config::of` is the C folder).
    for (node, paths) in raw {
        for path in paths {
            let parts: Vec<&str> = path.split("::").collect();
            let to = (1..=parts.len())
                .rev()
                .map(|n| parts[..n].join("::"))
                .find(|p| graph.contains_key(p))
                .unwrap_or_else(|| parts[0].to_string());
            if to != node {
                graph.get_mut(&node).expect("node").insert(to);
            }
        }
    }
    assert!(graph.len() > 20, "read {} modules", graph.len());
    let mut upward = Vec::new();
    for (from, tos) in &graph {
        let from_layer = layer(from).unwrap_or_else(|| panic!("`{from}` is in no layer"));
        for to in tos {
            let to_layer = layer(to).unwrap_or_else(|| panic!("`{to}` is in no layer"));
            if to_layer > from_layer {
                upward.push(format!(
                    "{from} (layer {from_layer}) -> {to} (layer {to_layer})"
                ));
            }
        }
    }
    assert!(upward.is_empty(), "imports reaching up: {upward:#?}");

    // A circle: a node that reaches itself.
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = graph[start].iter().collect();
        while let Some(next) = stack.pop() {
            assert!(next != start, "`{start}` imports itself round a circle");
            if seen.insert(next) {
                stack.extend(graph.get(next).into_iter().flatten());
            }
        }
    }
}

#[test]
fn the_reader_sees_imports_and_skips_comments() {
    let refs = references(
        "use crate::files::write_atomic;\n// crate::pipeline in a comment\nfn f() { crate::lang::c::config::of(x); crate::lang::all(); }\n",
    );
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        ["files::write_atomic", "lang::all", "lang::c::config::of"]
    );
}
