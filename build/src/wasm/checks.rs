//! Checks of WebAssembly tools and artifacts: a `wasm-opt` on PATH that rejects what compilers
//! emit, and imports a WASI host will not provide.

use std::path::{Path, PathBuf};

use crate::cache::{self, Stamp};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::check::Check;

/// Features current compilers emit, a module using each (without a `target_features` section,
/// as Go writes them), and the flag that enables it in wasm-opt.
const FEATURE_PROBES: &[(&str, &str, &str)] = &[
    (
        "sign-ext",
        "(module (func (param i32) (result i32) local.get 0 i32.extend8_s))",
        "--enable-sign-ext",
    ),
    (
        "bulk-memory",
        "(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))",
        "--enable-bulk-memory",
    ),
    (
        "nontrapping-fptoint",
        "(module (func (param f32) (result i32) local.get 0 i32.trunc_sat_f32_s))",
        "--enable-nontrapping-float-to-int",
    ),
    (
        "multivalue",
        "(module (func (result i32 i32) i32.const 1 i32.const 2))",
        "--enable-multivalue",
    ),
    (
        "reference-types",
        "(module (func (result funcref) ref.null func))",
        "--enable-reference-types",
    ),
];

/// What probing a `wasm-opt` found; cached against the binary.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct WasmOptFacts {
    version: String,
    /// (feature, flag) pairs it rejected without flags.
    rejected: Vec<(String, String)>,
}

/// The file of a project's own build that calls `wasm-opt` (a Makefile, a script, wasm-pack's
/// settings in Cargo.toml), if one does: only then does the `wasm-opt` on PATH matter to it —
/// wasmforge's own builds never run it (its optimizer is in-process, and clang's link gets a
/// `wasm-opt` that does nothing). The project folder and the folders in it, not deeper; files
/// over 1 MiB, `target/`, `.git/` and `node_modules/` are not read.
pub fn project_calls_wasm_opt(dir: &Path) -> Option<PathBuf> {
    fn build_file(name: &str) -> bool {
        matches!(
            name,
            "Makefile"
                | "makefile"
                | "GNUmakefile"
                | "CMakeLists.txt"
                | "build.rs"
                | "Cargo.toml"
                | "package.json"
                | "justfile"
                | "Justfile"
                | "build.zig"
        ) || [".mk", ".cmake", ".sh", ".bash", ".py"]
            .iter()
            .any(|ext| name.ends_with(ext))
    }
    let calls = |path: &Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= 1 << 20)
            && std::fs::read_to_string(path).is_ok_and(|text| text.contains("wasm-opt"))
    };
    let mut folders = vec![dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut subs: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| {
                !matches!(
                    e.file_name().to_str(),
                    Some("target" | ".git" | "node_modules")
                )
            })
            .map(|e| e.path())
            .collect();
        subs.sort();
        folders.extend(subs);
    }
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_str().is_some_and(build_file))
            .map(|e| e.path())
            .collect();
        files.sort();
        if let Some(file) = files.into_iter().find(|f| calls(f)) {
            return Some(file);
        }
    }
    None
}

/// The `wasm-opt` on PATH (what wasm-pack and scripts call), tried on one small module per feature.
pub fn wasm_opt_check(
    path_var: Option<&std::ffi::OsStr>,
    reporter: &dyn crate::report::Reporter,
) -> Check {
    let found = path_var
        .map(|p| {
            std::env::split_paths(p)
                .map(|d| d.join("wasm-opt"))
                .find(|p| p.is_file())
        })
        .unwrap_or(None);
    let Some(wasm_opt) = found else {
        return Check::ok(
            "wasm-opt",
            "no wasm-opt on PATH (wasmforge optimizes in-process)".into(),
        );
    };
    let facts = match probe_wasm_opt(&wasm_opt, reporter) {
        Ok(facts) => facts,
        Err(why) => {
            return Check::note(
                "wasm-opt",
                format!("{} could not be probed: {why}", wasm_opt.display()),
            );
        }
    };
    wasm_opt_verdict(&wasm_opt, &facts.version, &facts.rejected)
}

fn wasm_opt_verdict(wasm_opt: &Path, version: &str, rejected: &[(String, String)]) -> Check {
    if rejected.is_empty() {
        return Check::ok(
            "wasm-opt",
            format!(
                "{} ({version}) accepts what compilers emit",
                wasm_opt.display()
            ),
        );
    }
    let features: Vec<&str> = rejected.iter().map(|(f, _)| f.as_str()).collect();
    let flags: Vec<&str> = rejected.iter().map(|(_, f)| f.as_str()).collect();
    Check::from(
        "wasm-opt",
        vec![Diagnostic::new(
            "WF4001",
            format!(
                "{} ({version}) rejects modules using {} unless told: `wasm-opt -Oz` fails on Go output and on scripts that pass no flags",
                wasm_opt.display(),
                features.join(", ")
            ),
            format!(
                "use `wasmforge opt` (features read from the code), or call it with `{}`, or upgrade Binaryen",
                flags.join(" ")
            ),
        )],
    )
}

fn probe_wasm_opt(
    wasm_opt: &Path,
    reporter: &dyn crate::report::Reporter,
) -> Result<WasmOptFacts, String> {
    let key = format!("wasm-opt {}", wasm_opt.display());
    if let Some(facts) = cache::load::<WasmOptFacts>(crate::cache::Section::Probes, &key) {
        return Ok(facts);
    }
    let out = crate::process::Tool::new(wasm_opt, "")
        .arg("--version")
        .output(reporter)
        .map_err(|e| e.to_string())?;
    let version = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("wasm-opt ")
        .to_string();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut rejected = Vec::new();
    for (feature, wat, flag) in FEATURE_PROBES {
        let bytes = wat::parse_str(wat).map_err(|e| e.to_string())?;
        let input = dir.path().join(format!("{feature}.wasm"));
        std::fs::write(&input, bytes).map_err(|e| e.to_string())?;
        let status = crate::process::Tool::new(wasm_opt, "")
            .arg(&input)
            .arg("-o")
            .arg(dir.path().join("out.wasm"))
            .capture(reporter)
            .map_err(|e| e.to_string())?
            .status;
        if !status.success() {
            rejected.push((feature.to_string(), flag.to_string()));
        }
    }
    let facts = WasmOptFacts { version, rejected };
    cache::store(
        crate::cache::Section::Probes,
        &key,
        vec![Stamp::of(wasm_opt)],
        &facts,
    );
    Ok(facts)
}

/// The functions of `wasi_snapshot_preview1`.
const PREVIEW1: &[&str] = &crate::wasm::validate::WASI_P1_FUNCTIONS;

/// Imports of a WASI preview 1 core module that no standard WASI host provides.
pub fn imports_check(bytes: &[u8], file: &Path) -> Check {
    let mut found = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let reader = match payload {
            Ok(wasmparser::Payload::ImportSection(reader)) => reader,
            // Imports come before functions: stop before walking the code.
            Ok(
                wasmparser::Payload::FunctionSection(_)
                | wasmparser::Payload::CodeSectionStart { .. },
            )
            | Err(_) => break,
            Ok(_) => continue,
        };
        for import in reader.into_imports().flatten() {
            let ok = import.module == "wasi_snapshot_preview1" && PREVIEW1.contains(&import.name);
            if !ok {
                let why = if import.module == "wasi_snapshot_preview1" {
                    "WASI preview 1 has no function of that name".to_string()
                } else {
                    format!(
                        "WASI hosts provide only `wasi_snapshot_preview1`, not `{}`",
                        import.module
                    )
                };
                found.push(
                    Diagnostic::new(
                        "WF4002",
                        format!("{} imports `{}::{}`: {why}", file.display(), import.module, import.name),
                        format!("define `{}` in the program or link the library that has it; if a plugin host provides it, build a library (`--kind library`) or validate with the profile of that host", import.name),
                    )
                    .at(file, None),
                );
            }
        }
    }
    if found.is_empty() {
        Check::ok(
            "imports",
            format!("{} imports only WASI preview 1", file.display()),
        )
    } else {
        Check::from("imports", found)
    }
}

/// The artifacts a project's last builds left, newest first.
pub fn built_artifacts(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "wasm")
                && let Ok(meta) = entry.metadata()
            {
                out.push((meta.modified().unwrap_or(std::time::UNIX_EPOCH), path));
            }
        }
    }
    out.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    out.into_iter().map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_outside_preview1_are_named() {
        let bytes = wat::parse_str(
            r#"(module
                (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "fd_frobnicate" (func))
                (import "env" "host_log" (func (param i32)))
                (memory (export "memory") 1)
                (func (export "_start")))"#,
        )
        .expect("wat");
        let check = imports_check(&bytes, Path::new("app.wasm"));
        let messages: Vec<&str> = check
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("`wasi_snapshot_preview1::fd_frobnicate`"));
        assert!(messages[1].contains("`env::host_log`"));
        assert!(check.diagnostics.iter().all(|d| d.code == "WF4002"));
    }

    #[test]
    fn a_wasm_opt_that_accepts_everything_is_ok() {
        let check = wasm_opt_verdict(Path::new("/usr/bin/wasm-opt"), "version 123", &[]);
        assert!(check.diagnostics.is_empty());
    }
}
