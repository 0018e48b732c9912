//! A project's WIT world: the `wit/` folder (WIT packages, with `wit/deps/` as wit-deps and wkg
//! lay them out), the world `[component] world` names (default: the only one), and the checks that
//! a component built from it exports that world.

use std::path::{Path, PathBuf};

use wit_parser::{Resolve, WorldId, WorldItem, WorldKey};

use crate::config::Config;
use crate::error::{Error, Result};

/// The default folder of a project's WIT packages.
pub const DIR: &str = "wit";

/// A resolved world of a project.
#[derive(Debug)]
pub struct World {
    pub resolve: Resolve,
    pub id: WorldId,
    /// The folder it was read from.
    pub dir: PathBuf,
}

impl World {
    /// `pkg:ns/name@version` of the world.
    pub fn qualified_name(&self) -> String {
        let world = &self.resolve.worlds[self.id];
        match world.package {
            Some(pkg) => {
                let name = &self.resolve.packages[pkg].name;
                let version = name
                    .version
                    .as_ref()
                    .map(|v| format!("@{v}"))
                    .unwrap_or_default();
                format!("{}:{}/{}{version}", name.namespace, name.name, world.name)
            }
            None => world.name.clone(),
        }
    }

    /// The world's exports as their names in a component (`pkg:ns/iface@v` or `name`).
    pub fn exports(&self) -> Vec<String> {
        names(&self.resolve, self.id, true)
    }

    /// The world's imports, named the same way.
    pub fn imports(&self) -> Vec<String> {
        names(&self.resolve, self.id, false)
    }

    /// The world as WIT text.
    pub fn wit(&self) -> String {
        world_wit(&self.resolve, self.id)
    }
}

/// The names of a world's exports (or imports), types left out.
fn names(resolve: &Resolve, world: WorldId, exports: bool) -> Vec<String> {
    let world = &resolve.worlds[world];
    let side = if exports {
        &world.exports
    } else {
        &world.imports
    };
    side.iter()
        .filter(|(_, item)| !matches!(item, WorldItem::Type { .. }))
        .map(|(key, _): (&WorldKey, _)| resolve.name_world_key(key))
        .collect()
}

/// Where the project's WIT lives, when it has any: `[component] wit`, else `wit/`.
pub fn dir_of(project_dir: &Path, config: &Config) -> Option<PathBuf> {
    let dir = project_dir.join(config.component.wit.as_deref().unwrap_or(DIR));
    dir.is_dir().then_some(dir)
}

/// Reads the WIT packages in `dir` (and `dir/deps`) and selects the world `name`, or the only
/// one. Parse and resolution errors keep wit-parser's `file:line:column` and source excerpt.
pub fn load(dir: &Path, name: Option<&str>) -> Result<World> {
    let mut resolve = Resolve::default();
    let pushed = resolve.push_dir(dir);
    let (package, _) = pushed.map_err(|e| Error::Wit {
        code: "WF5001",
        message: format!("the WIT in `{}` does not resolve", dir.display()),
        // wit-parser renders its own errors with `file:line:column` and the source line.
        detail: resolve.render_error(&e),
        hint: "fix the WIT at the place shown; packages it uses belong in `wit/deps/` \
               (`wkg wit fetch` or wit-deps put them there)"
            .into(),
    })?;
    let id = resolve.select_world(&[package], name).map_err(|e| {
        let pkg = &resolve.packages[package];
        let worlds: Vec<String> = pkg.worlds.keys().map(|w| format!("`{w}`")).collect();
        Error::Wit {
            code: "WF5002",
            message: match name {
                Some(name) => format!("no world `{name}` in the WIT package `{}`", pkg.name),
                None => format!("which world of the WIT package `{}`?", pkg.name),
            },
            detail: chain(&e),
            hint: if worlds.is_empty() {
                "add a world to the package: `world plugin { export transform; }`".into()
            } else {
                format!(
                    "its worlds: {}; name one in wasmforge.toml: `[component] world = \"NAME\"`",
                    worlds.join(", ")
                )
            },
        }
    })?;
    Ok(World {
        resolve,
        id,
        dir: dir.to_owned(),
    })
}

/// An error and its causes, one per line.
fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A world printed as WIT (its package, with the world and the interfaces it uses).
pub fn world_wit(resolve: &Resolve, world: WorldId) -> String {
    let mut printer = wit_component::WitPrinter::default();
    match resolve.worlds[world].package {
        Some(pkg) => match printer.print(resolve, pkg, &[]) {
            Ok(()) => printer.output.to_string(),
            Err(e) => format!("// cannot print the world: {e}"),
        },
        None => String::new(),
    }
}

/// What a component's own world is: its imports and exports by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ComponentWorld {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

/// Reads a component's world.
pub fn component_world(bytes: &[u8]) -> Option<ComponentWorld> {
    match wit_component::decode(bytes).ok()? {
        wit_parser::decoding::DecodedWasm::Component(resolve, world) => Some(ComponentWorld {
            imports: names(&resolve, world, false),
            exports: names(&resolve, world, true),
        }),
        wit_parser::decoding::DecodedWasm::WitPackage(..) => None,
    }
}

/// Checks that a component built for `world` exports all of it and imports nothing of the
/// world's packages that the world does not; returns the imports beyond the world (WASI the
/// language's runtime uses).
pub fn check_component(world: &World, bytes: &[u8], path: &Path) -> Result<Vec<String>> {
    let Some(found) = component_world(bytes) else {
        return Err(Error::Wit {
            code: "WF5003",
            message: format!("`{}` is not a component with a world", path.display()),
            detail: String::new(),
            hint: "build it with `--target wasip2`".into(),
        });
    };
    let missing: Vec<String> = world
        .exports()
        .into_iter()
        .filter(|e| !found.exports.contains(e))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Wit {
            code: "WF5003",
            message: format!(
                "`{}` does not export {} of the world `{}`",
                path.display(),
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                world.qualified_name()
            ),
            detail: format!("it exports: {}", found.exports.join(", ")),
            hint: "implement the world's exports (Rust: `wit_bindgen::generate!` and `export!`; \
                   C: the functions the generated header declares)"
                .into(),
        });
    }
    let expected = world.imports();
    Ok(found
        .imports
        .into_iter()
        .filter(|i| !expected.contains(i))
        .collect())
}

/// A WIT error as a coded diagnostic for `doctor`, placed at the `file:line` wit-parser named.
pub fn diagnostic(error: &Error) -> Option<crate::diagnostics::Diagnostic> {
    let Error::Wit {
        code,
        message,
        detail,
        hint,
    } = error
    else {
        return None;
    };
    let text = if detail.is_empty() {
        message.clone()
    } else {
        format!("{message}: {detail}")
    };
    let mut d = crate::diagnostics::Diagnostic::new(code, text, hint.clone());
    let place = detail
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .and_then(|rest| {
            let mut parts = rest.rsplitn(3, ':');
            let _column = parts.next()?;
            let line = parts.next()?.parse::<u32>().ok()?;
            Some((PathBuf::from(parts.next()?), line))
        });
    if let Some((file, line)) = place {
        d = d.at(file, Some(line));
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIT: &str = r#"
        package test:plugin@0.1.0;
        interface transform { transform: func(input: string) -> string; }
        interface extra { more: func(); }
        world small { export transform; }
        world large { export transform; export extra; }
    "#;

    fn world(name: &str) -> World {
        let mut resolve = Resolve::default();
        let package = resolve.push_str("test.wit", WIT).expect("wit");
        let id = resolve.select_world(&[package], Some(name)).expect("world");
        World {
            resolve,
            id,
            dir: PathBuf::from("wit"),
        }
    }

    /// A component for the world `small`, made by wit-component from a module exporting its
    /// one function with the canonical ABI's names.
    fn component_for(world: &World) -> Vec<u8> {
        let mut module = wat::parse_str(
            r#"(module
                 (memory (export "memory") 1)
                 (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
                 (func (export "test:plugin/transform@0.1.0#transform") (param i32 i32) (result i32)
                   i32.const 16))"#,
        )
        .expect("wat");
        wit_component::embed_component_metadata(
            &mut module,
            &world.resolve,
            world.id,
            wit_component::StringEncoding::UTF8,
        )
        .expect("embed");
        wit_component::ComponentEncoder::default()
            .module(&module)
            .expect("module")
            .encode()
            .expect("component")
    }

    #[test]
    fn a_component_of_its_world_passes_and_one_missing_an_export_is_wf5003() {
        let small = world("small");
        let large = world("large");
        assert_eq!(small.qualified_name(), "test:plugin/small@0.1.0");
        let bytes = component_for(&small);
        assert_eq!(
            check_component(&small, &bytes, Path::new("p.wasm")).expect("fits"),
            Vec::<String>::new()
        );
        let err = check_component(&large, &bytes, Path::new("p.wasm")).expect_err("missing");
        assert!(matches!(err, Error::Wit { code: "WF5003", .. }), "{err}");
        assert!(
            err.to_string().contains("`test:plugin/extra@0.1.0`"),
            "{err}"
        );
        let core = wat::parse_str("(module)").expect("wat");
        assert!(check_component(&small, &core, Path::new("m.wasm")).is_err());
    }

    #[test]
    fn a_missing_world_lists_the_worlds_and_errors_are_placed() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("w.wit"), WIT).expect("write");
        let err = load(dir.path(), Some("nope")).expect_err("no such world");
        assert!(matches!(err, Error::Wit { code: "WF5002", .. }));
        assert!(err.hint().unwrap_or_default().contains("`small`"));
        std::fs::write(
            dir.path().join("w.wit"),
            "package a:b;\nworld w { export x:y/z; }\n",
        )
        .expect("write");
        let err = load(dir.path(), None).expect_err("missing package");
        let d = diagnostic(&err).expect("a diagnostic");
        assert_eq!(d.code, "WF5001");
        let place = d.location.expect("placed");
        assert_eq!(place.line, Some(2));
        assert!(place.file.ends_with("w.wit"), "{}", place.file.display());
    }
}
