//! `wasmforge compose`: plugging components' exports into another component's imports, on
//! `wac-graph` (as `wac plug` does), with the checks a user needs — which plug satisfied which
//! import, a plug that satisfies nothing, two plugs for one import, a type that does not fit, and
//! imports left for the runtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wac_graph::types::{Package, SubtypeChecker};
use wac_graph::{CompositionGraph, EncodeOptions};

use crate::error::{Error, Result};

/// A component given to `compose`.
#[derive(Debug)]
pub struct Input {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// What a composition did.
#[derive(Debug)]
pub struct Composed {
    pub bytes: Vec<u8>,
    /// Each plugged import of the host and the plug (by path) that provides it.
    pub plugged: Vec<(String, PathBuf)>,
    /// Imports of the composition: left for the runtime (WASI) or, with `allow_imports`, anything.
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

/// Whether a runtime (wasmforge `run`, Wasmtime) provides an import: WASI's interfaces.
pub fn runtime_provides(name: &str) -> bool {
    name.starts_with("wasi:")
}

fn fail(message: String, hint: &str) -> Error {
    Error::Compose {
        message,
        hint: hint.to_string(),
    }
}

/// `pkg:ns/iface@1.2.3` → (`pkg:ns/iface`, Some(1.2.3)).
fn split_version(name: &str) -> (&str, Option<semver::Version>) {
    match name.rsplit_once('@') {
        Some((base, v)) => (base, semver::Version::parse(v).ok()),
        None => (name, None),
    }
}

/// An export satisfies an import of the same interface at a compatible version (same major; for
/// 0.x the same minor), as wac does.
fn compatible(export: &str, import: &str) -> bool {
    let ((a, va), (b, vb)) = (split_version(export), split_version(import));
    match (va, vb) {
        _ if a != b => false,
        (Some(x), Some(y)) => x.major == y.major && (x.major != 0 || x.minor == y.minor) && x >= y,
        (None, None) => true,
        _ => false,
    }
}

/// Plugs each of `plugs` into `host`'s imports. `allow_imports`: imports that neither a plug nor
/// the runtime provides are left as imports of the result instead of an error.
pub fn compose(host: Input, plugs: Vec<Input>, allow_imports: bool) -> Result<Composed> {
    let mut graph = CompositionGraph::new();
    // The bytes move into the graph; the paths stay for messages.
    let mut register = |input: Input, n: usize| -> Result<_> {
        if !wasmparser::Parser::is_component(&input.bytes) {
            return Err(fail(
                format!(
                    "`{}` is a core module: compose plugs components together",
                    input.path.display()
                ),
                "build it as a component (`wasmforge build --target wasip2`)",
            ));
        }
        let package = Package::from_bytes(
            &format!("wasmforge:input{n}"),
            None,
            input.bytes,
            graph.types_mut(),
        )
        .map_err(|e| {
            fail(
                format!(
                    "`{}` cannot be read as a component: {e:#}",
                    input.path.display()
                ),
                "`wasmforge validate FILE` shows what is wrong with it",
            )
        })?;
        graph.register_package(package).map_err(|e| {
            fail(
                format!("`{}`: {e}", input.path.display()),
                "please report this with the components",
            )
        })
    };
    let host_path = host.path.clone();
    let plug_paths: Vec<PathBuf> = plugs.iter().map(|p| p.path.clone()).collect();
    let host_id = register(host, 0)?;
    let plug_ids = plugs
        .into_iter()
        .enumerate()
        .map(|(i, p)| register(p, i + 1))
        .collect::<Result<Vec<_>>>()?;

    let host_ty = graph[host_id].ty();
    let host_imports: Vec<String> = graph.types()[host_ty].imports.keys().cloned().collect();
    let host_exports: Vec<String> = graph.types()[host_ty].exports.keys().cloned().collect();
    let host_node = graph.instantiate(host_id);

    // Which import each plug satisfies, checked before anything is wired.
    let mut plugged: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut cache = Default::default();
    for (i, &plug) in plug_ids.iter().enumerate() {
        let plug_ty = graph[plug].ty();
        let exports: Vec<(String, _)> = graph.types()[plug_ty]
            .exports
            .iter()
            .map(|(n, k)| (n.clone(), *k))
            .collect();
        let mut any = false;
        for (export, kind) in &exports {
            let Some(import) = host_imports
                .iter()
                .find(|i| *i == export)
                .or_else(|| host_imports.iter().find(|i| compatible(export, i)))
            else {
                continue;
            };
            let import_kind = graph.types()[host_ty].imports[import];
            let mut checker = SubtypeChecker::new(&mut cache);
            if let Err(e) = checker.is_subtype(*kind, graph.types(), import_kind, graph.types()) {
                return Err(fail(
                    format!(
                        "`{}` exports `{export}`, but not of the type `{}` imports: {e:#}",
                        plug_paths[i].display(),
                        host_path.display()
                    ),
                    "build both against the same WIT (the same package version)",
                ));
            }
            if let Some((other, _)) = plugged.get(import) {
                return Err(fail(
                    format!(
                        "both `{}` and `{}` export `{import}`, which `{}` imports once",
                        plug_paths[*other].display(),
                        plug_paths[i].display(),
                        host_path.display()
                    ),
                    "plug one of them (compose the other into a host of its own)",
                ));
            }
            plugged.insert(import.clone(), (i, export.clone()));
            any = true;
        }
        if !any {
            let exports: Vec<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
            let wanted: Vec<&str> = host_imports
                .iter()
                .filter(|n| !runtime_provides(n))
                .map(String::as_str)
                .collect();
            return Err(fail(
                format!(
                    "`{}` satisfies none of `{}`'s imports: it exports {}; the host imports {}",
                    plug_paths[i].display(),
                    host_path.display(),
                    list(&exports),
                    list(&wanted)
                ),
                "plug a component that exports one of the host's imports (`wasmforge wit FILE` \
                 shows a component's world)",
            ));
        }
    }

    // Wire: one instance per plug that is used, its export as the host's argument.
    let mut instances = BTreeMap::new();
    for (import, (i, export)) in &plugged {
        let node = *instances
            .entry(*i)
            .or_insert_with(|| graph.instantiate(plug_ids[*i]));
        let graph_error = |e: &dyn std::fmt::Display| {
            fail(
                format!("wiring `{import}`: {e}"),
                "please report this with the components",
            )
        };
        let alias = graph
            .alias_instance_export(node, export)
            .map_err(|e| graph_error(&e))?;
        graph
            .set_instantiation_argument(host_node, import, alias)
            .map_err(|e| graph_error(&e))?;
    }
    for name in &host_exports {
        let exporting = |e: &dyn std::fmt::Display| {
            fail(
                format!("exporting `{name}`: {e}"),
                "please report this with the components",
            )
        };
        let alias = graph
            .alias_instance_export(host_node, name)
            .map_err(|e| exporting(&e))?;
        graph
            .export(alias, name.clone())
            .map_err(|e| exporting(&e))?;
    }

    // What stays an import: the host's unplugged ones and the used plugs' own.
    let mut imports: Vec<String> = host_imports
        .iter()
        .filter(|n| !plugged.contains_key(*n))
        .cloned()
        .collect();
    for i in instances.keys() {
        for name in graph.types()[graph[plug_ids[*i]].ty()].imports.keys() {
            if !imports.contains(name) {
                imports.push(name.clone());
            }
        }
    }
    let missing: Vec<&str> = imports
        .iter()
        .filter(|n| !runtime_provides(n))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() && !allow_imports {
        return Err(fail(
            format!(
                "nothing provides {} (neither a plug nor the runtime's WASI)",
                list(&missing)
            ),
            "add `--plug COMPONENT` exporting it, or `--allow-imports` to leave it for the host \
             that will run the composition",
        ));
    }

    let bytes = graph
        .encode(EncodeOptions {
            define_components: true,
            validate: true,
            processor: None,
        })
        .map_err(|e| {
            fail(
                format!("the composition cannot be encoded: {e:#}"),
                "please report this with the components",
            )
        })?;
    Ok(Composed {
        bytes,
        plugged: plugged
            .into_iter()
            .map(|(import, (i, _))| (import, plug_paths[i].clone()))
            .collect(),
        imports,
        exports: host_exports,
    })
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "nothing".into()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The default output: `<host>.composed.wasm` beside the host.
pub fn default_output(host: &Path) -> PathBuf {
    let stem = host
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "composed".into());
    host.with_file_name(format!("{stem}.composed.wasm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_match_as_wac_matches_them() {
        assert!(compatible("a:b/c@0.1.0", "a:b/c@0.1.0"));
        assert!(compatible("a:b/c@0.1.2", "a:b/c@0.1.0"));
        assert!(!compatible("a:b/c@0.2.0", "a:b/c@0.1.0"));
        assert!(compatible("a:b/c@1.3.0", "a:b/c@1.0.0"));
        assert!(!compatible("a:b/c@1.0.0", "a:b/c@1.3.0"));
        assert!(!compatible("a:b/c", "a:b/c@1.0.0"));
        assert!(!compatible("a:b/d@0.1.0", "a:b/c@0.1.0"));
    }
}
