//! C toolchains for WebAssembly, found in this order unless one is named: wasi-sdk
//! (`WASI_SDK_PATH`, `/opt/wasi-sdk`), a system clang (`clang`, `clang-NN`) with the WebAssembly
//! backend, `wasm-ld` and a WASI sysroot, then zig (`zig`, or PyPI's `python3 -m ziglang`).

use std::path::{Path, PathBuf};

use crate::cache::{self, Stamp};
use crate::error::{Error, Result};
use crate::process::Tool;
use crate::report::Reporter;

/// Which kind of C toolchain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CFlavor {
    WasiSdk,
    Clang,
    Zig,
}

impl CFlavor {
    pub fn name(self) -> &'static str {
        match self {
            CFlavor::WasiSdk => "wasi-sdk",
            CFlavor::Clang => "clang",
            CFlavor::Zig => "zig",
        }
    }
}

/// A usable C toolchain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CToolchain {
    pub flavor: CFlavor,
    /// The compiler as a command line prefix (zig from PyPI is `python3 -m ziglang cc`).
    pub cc: Vec<String>,
    pub ar: Vec<String>,
    pub ranlib: Vec<String>,
    /// e.g. `clang 16.0.6`, `wasi-sdk 25.0`, `zig 0.17.1`.
    pub version: String,
    /// `--sysroot` to pass, when the compiler does not find the WASI sysroot by itself.
    pub sysroot: Option<PathBuf>,
    /// The WASI preview 1 triple this compiler knows: clang before 18 says `wasm32-wasi`.
    pub wasi_triple: String,
}

impl CToolchain {
    /// The compiler flags that select `triple` (zig spells it `-target`).
    pub fn target_args(&self, triple: &str) -> Vec<String> {
        let mut args = match self.flavor {
            CFlavor::Zig => vec!["-target".to_string(), triple.to_string()],
            _ => vec![format!("--target={triple}")],
        };
        if let Some(sysroot) = &self.sysroot
            && triple != "wasm32-unknown-unknown"
        {
            args.push(format!("--sysroot={}", sysroot.display()));
        }
        args
    }
}

/// Where the search looks, separated out so tests can build one.
#[derive(Debug, Clone)]
pub struct SearchEnv {
    pub wasi_sdk_path: Option<PathBuf>,
    pub wasi_sysroot: Option<PathBuf>,
    pub path: Vec<PathBuf>,
}

impl SearchEnv {
    pub fn from_process() -> SearchEnv {
        SearchEnv {
            wasi_sdk_path: std::env::var_os("WASI_SDK_PATH").map(PathBuf::from),
            wasi_sysroot: std::env::var_os("WASI_SYSROOT").map(PathBuf::from),
            path: std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default(),
        }
    }
}

/// Finds a C toolchain: the named one (`wasi-sdk`, `clang`, `zig`) or the first that works.
pub fn discover(
    requested: Option<&str>,
    env: &SearchEnv,
    reporter: &dyn Reporter,
) -> Result<CToolchain> {
    let wanted: Vec<CFlavor> = match requested {
        None => vec![CFlavor::WasiSdk, CFlavor::Clang, CFlavor::Zig],
        Some("wasi-sdk") => vec![CFlavor::WasiSdk],
        Some("clang") => vec![CFlavor::Clang],
        Some("zig") => vec![CFlavor::Zig],
        Some(other) => {
            return Err(Error::UnknownToolchain {
                given: other.into(),
                lang: crate::project::Lang::C,
                owner: None,
                from_config: false,
                hint: "use `--toolchain wasi-sdk`, `clang` or `zig`".into(),
            });
        }
    };
    let mut looked = Vec::new();
    for flavor in wanted {
        let found = match flavor {
            CFlavor::WasiSdk => find_wasi_sdk(env, &mut looked),
            CFlavor::Clang => find_clang(env, reporter, &mut looked)?,
            CFlavor::Zig => find_zig(env, reporter, &mut looked),
        };
        if let Some(toolchain) = found {
            return Ok(toolchain);
        }
    }
    Err(Error::NoCToolchain { looked })
}

/// wasi-sdk: `bin/clang` with `share/wasi-sysroot` beside it; the version from its VERSION file.
pub fn find_wasi_sdk(env: &SearchEnv, looked: &mut Vec<String>) -> Option<CToolchain> {
    let candidates: Vec<PathBuf> = env
        .wasi_sdk_path
        .iter()
        .cloned()
        .chain(std::iter::once(PathBuf::from("/opt/wasi-sdk")))
        .collect();
    for root in candidates {
        let clang = root.join("bin/clang");
        let sysroot = root.join("share/wasi-sysroot");
        if !clang.is_file() || !sysroot.is_dir() {
            looked.push(format!(
                "wasi-sdk at {} (no bin/clang and share/wasi-sysroot)",
                root.display()
            ));
            continue;
        }
        let version = std::fs::read_to_string(root.join("VERSION"))
            .ok()
            .and_then(|v| v.lines().next().map(|l| l.trim().to_string()))
            .unwrap_or_else(|| "unknown".into());
        let major: u32 = version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        // wasi-sdk 22 (clang 18) and newer know wasm32-wasip1.
        let triple = if major >= 22 {
            "wasm32-wasip1"
        } else {
            "wasm32-wasi"
        };
        let tool = |name: &str| vec![root.join("bin").join(name).display().to_string()];
        return Some(CToolchain {
            flavor: CFlavor::WasiSdk,
            cc: vec![clang.display().to_string()],
            ar: tool("llvm-ar"),
            ranlib: tool("llvm-ranlib"),
            version: format!("wasi-sdk {version}"),
            sysroot: Some(sysroot),
            wasi_triple: triple.into(),
        });
    }
    None
}

/// What a clang probe learned; cached against the binary.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct ClangFacts {
    version: String,
    major: u32,
    wasm_backend: bool,
    wasm_ld: Option<PathBuf>,
    install_dir: PathBuf,
}

/// `clang` and every `clang-NN` on PATH, newest first.
fn clang_candidates(env: &SearchEnv) -> Vec<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = Vec::new();
    for dir in &env.path {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rank = if name == "clang" {
                Some(u32::MAX)
            } else {
                name.strip_prefix("clang-")
                    .and_then(|v| v.parse::<u32>().ok())
            };
            if let Some(rank) = rank
                && !found
                    .iter()
                    .any(|(_, p)| p.file_name() == entry.path().file_name())
            {
                found.push((rank, entry.path()));
            }
        }
    }
    found.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
    found.into_iter().map(|(_, p)| p).collect()
}

fn probe_clang(clang: &Path, reporter: &dyn Reporter) -> Result<ClangFacts> {
    let key = format!("clang {}", clang.display());
    if let Some(facts) = cache::load::<ClangFacts>(crate::cache::Section::Probes, &key) {
        return Ok(facts);
    }
    let run = |args: &[&str]| -> Result<String> {
        let mut tool = Tool::new(clang, "");
        tool.args(args);
        Ok(String::from_utf8_lossy(&tool.output(reporter)?.stdout).into_owned())
    };
    let version_text = run(&["--version"])?;
    let version = version_text
        .lines()
        .next()
        .and_then(|l| l.split("version ").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or("0")
        .to_string();
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    // The real binary's folder holds its own llvm-ar and wasm-ld (clang-16 → /usr/lib/llvm-16/bin);
    // clang's "InstalledDir" names the symlink's folder instead.
    let install_dir = std::fs::canonicalize(clang)
        .ok()
        .and_then(|p| p.parent().map(Path::to_owned))
        .unwrap_or_default();
    let wasm_backend = run(&["-print-targets"])?
        .lines()
        .any(|l| l.trim_start().starts_with("wasm32"));
    let ld = run(&["-print-prog-name=wasm-ld"])?;
    let ld = PathBuf::from(ld.trim());
    let wasm_ld = if ld.is_absolute() && ld.is_file() {
        Some(ld)
    } else {
        // Debian names it wasm-ld-NN on PATH; clang finds it through -fuse-ld then.
        which::which(format!("wasm-ld-{major}"))
            .ok()
            .or_else(|| which::which("wasm-ld").ok())
    };
    let facts = ClangFacts {
        version,
        major,
        wasm_backend,
        wasm_ld,
        install_dir,
    };
    cache::store(
        crate::cache::Section::Probes,
        &key,
        vec![Stamp::of(clang)],
        &facts,
    );
    Ok(facts)
}

/// Where a WASI sysroot is: WASI_SYSROOT, /usr/share/wasi-sysroot, or Debian's wasi-libc layout
/// under /usr, which Debian's clang finds by itself (`None` then means "no flag needed").
pub fn find_sysroot(env: &SearchEnv) -> std::result::Result<Option<PathBuf>, String> {
    if let Some(root) = &env.wasi_sysroot {
        return if root.join("include").is_dir() {
            Ok(Some(root.clone()))
        } else {
            Err(format!(
                "WASI_SYSROOT={} has no include/ folder",
                root.display()
            ))
        };
    }
    let share = PathBuf::from("/usr/share/wasi-sysroot");
    if share.join("include").is_dir() {
        return Ok(Some(share));
    }
    if Path::new("/usr/include/wasm32-wasi/stdio.h").is_file() {
        return Ok(None);
    }
    Err(
        "no WASI sysroot (WASI_SYSROOT, /usr/share/wasi-sysroot, or Debian's wasi-libc in /usr)"
            .into(),
    )
}

fn find_clang(
    env: &SearchEnv,
    reporter: &dyn Reporter,
    looked: &mut Vec<String>,
) -> Result<Option<CToolchain>> {
    let candidates = clang_candidates(env);
    if candidates.is_empty() {
        looked.push("clang / clang-NN on PATH (none found)".into());
    }
    for clang in candidates {
        let facts = probe_clang(&clang, reporter)?;
        let name = clang.display();
        if !facts.wasm_backend {
            looked.push(format!(
                "{name} {} (no WebAssembly backend in -print-targets)",
                facts.version
            ));
            continue;
        }
        let Some(wasm_ld) = &facts.wasm_ld else {
            looked.push(format!(
                "{name} {} (no wasm-ld: install lld-{})",
                facts.version, facts.major
            ));
            continue;
        };
        let sysroot = match find_sysroot(env) {
            Ok(sysroot) => sysroot,
            Err(why) => {
                looked.push(format!(
                    "{name} {} ({why}: install wasi-libc)",
                    facts.version
                ));
                continue;
            }
        };
        let llvm_tool = |tool: &str| -> Vec<String> {
            let beside = facts.install_dir.join(tool);
            let path = if beside.is_file() {
                beside
            } else {
                which::which(format!("{tool}-{}", facts.major))
                    .or_else(|_| which::which(tool))
                    .unwrap_or_else(|_| PathBuf::from(tool))
            };
            vec![path.display().to_string()]
        };
        let mut cc = vec![clang.display().to_string()];
        if wasm_ld.parent() != Some(facts.install_dir.as_path()) {
            cc.push(format!("-fuse-ld={}", wasm_ld.display()));
        }
        return Ok(Some(CToolchain {
            flavor: CFlavor::Clang,
            cc,
            ar: llvm_tool("llvm-ar"),
            ranlib: llvm_tool("llvm-ranlib"),
            version: format!("clang {}", facts.version),
            sysroot,
            wasi_triple: if facts.major >= 18 {
                "wasm32-wasip1"
            } else {
                "wasm32-wasi"
            }
            .into(),
        }));
    }
    Ok(None)
}

/// What a zig probe learned; cached against the launcher and the zig binary.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct ZigFacts {
    version: String,
    /// The zig binary itself (PyPI's `python3 -m ziglang` is a launcher in front of it).
    exe: Option<PathBuf>,
}

/// A field of `zig env` (ZON since zig 0.14, JSON before): `.version = "0.17.1"`.
fn zig_env_field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim().trim_start_matches(['.', '"']);
        let rest = line.strip_prefix(name)?;
        let rest = rest.trim_start_matches('"').trim_start();
        let rest = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':'))?;
        let value = rest.trim().strip_prefix('"')?;
        Some(value[..value.find('"')?].to_string())
    })
}

fn find_zig(
    env: &SearchEnv,
    reporter: &dyn Reporter,
    looked: &mut Vec<String>,
) -> Option<CToolchain> {
    let on_path = |name: &str| env.path.iter().map(|d| d.join(name)).find(|p| p.is_file());
    let prefix: Vec<String> = if let Some(zig) = on_path("zig") {
        vec![zig.display().to_string()]
    } else if let Some(python) = on_path("python3") {
        vec![python.display().to_string(), "-m".into(), "ziglang".into()]
    } else {
        looked.push("zig (not on PATH, and no python3 for `python3 -m ziglang`)".into());
        return None;
    };
    // `zig env` says the version and where the binary is: every later call goes to the binary
    // itself, not through Python (about 40 ms a compile).
    let key = format!("zig {prefix:?}");
    let facts = match cache::load::<ZigFacts>(crate::cache::Section::Probes, &key) {
        Some(facts) => facts,
        None => {
            let mut probe = Tool::new(&prefix[0], "");
            probe.args(&prefix[1..]).arg("env");
            let text = match probe.output(reporter) {
                Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
                Err(_) => {
                    looked.push(format!(
                        "zig via `{} env` (failed: `pip install ziglang` provides it)",
                        prefix.join(" ")
                    ));
                    return None;
                }
            };
            let facts = ZigFacts {
                version: zig_env_field(&text, "version").unwrap_or_else(|| "unknown".into()),
                exe: zig_env_field(&text, "zig_exe")
                    .map(PathBuf::from)
                    .filter(|p| p.is_file()),
            };
            // Without the binary's path nothing would tell an upgrade: then ask every time.
            if let Some(exe) = &facts.exe {
                let stamps = vec![Stamp::of(Path::new(&prefix[0])), Stamp::of(exe)];
                cache::store(crate::cache::Section::Probes, &key, stamps, &facts);
            }
            facts
        }
    };
    let launcher = match &facts.exe {
        Some(exe) => vec![exe.display().to_string()],
        None => prefix,
    };
    let with = |sub: &str| {
        launcher
            .iter()
            .cloned()
            .chain(std::iter::once(sub.to_string()))
            .collect::<Vec<_>>()
    };
    Some(CToolchain {
        flavor: CFlavor::Zig,
        cc: with("cc"),
        ar: with("ar"),
        ranlib: with("ranlib"),
        version: format!("zig {}", facts.version),
        sysroot: None,
        // zig ships its own wasi-libc and names the target wasm32-wasi.
        wasi_triple: "wasm32-wasi".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::NullReporter;

    fn env(sdk: Option<&Path>) -> SearchEnv {
        SearchEnv {
            wasi_sdk_path: sdk.map(Path::to_owned),
            wasi_sysroot: None,
            path: vec![],
        }
    }

    #[test]
    fn wasi_sdk_is_found_from_its_layout() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(root.path().join("bin")).expect("mkdir");
        std::fs::create_dir_all(root.path().join("share/wasi-sysroot/include")).expect("mkdir");
        std::fs::write(root.path().join("bin/clang"), "").expect("write");
        std::fs::write(root.path().join("VERSION"), "25.0\nwasi-libc: abc\n").expect("write");
        let tc = discover(Some("wasi-sdk"), &env(Some(root.path())), &NullReporter).expect("found");
        assert_eq!(tc.flavor, CFlavor::WasiSdk);
        assert_eq!(tc.version, "wasi-sdk 25.0");
        assert_eq!(tc.wasi_triple, "wasm32-wasip1");
        assert_eq!(tc.sysroot, Some(root.path().join("share/wasi-sysroot")));
        assert_eq!(
            tc.target_args("wasm32-wasip1"),
            [
                "--target=wasm32-wasip1".to_string(),
                format!(
                    "--sysroot={}",
                    root.path().join("share/wasi-sysroot").display()
                )
            ]
        );

        std::fs::write(root.path().join("VERSION"), "20.0\n").expect("write");
        let tc = discover(Some("wasi-sdk"), &env(Some(root.path())), &NullReporter).expect("found");
        assert_eq!(
            tc.wasi_triple, "wasm32-wasi",
            "clang 17 (wasi-sdk 20) predates wasm32-wasip1"
        );
    }

    #[test]
    fn zig_env_in_zon_and_json() {
        // `zig env` of zig 0.17.1 (ZON) and of zig 0.13 (JSON), excerpts.
        let zon = ".{\n    .zig_exe = \"/p/ziglang/zig\",\n    .lib_dir = \"/p/ziglang/lib\",\n    .version = \"0.17.1\",\n}\n";
        assert_eq!(zig_env_field(zon, "version").as_deref(), Some("0.17.1"));
        assert_eq!(
            zig_env_field(zon, "zig_exe").as_deref(),
            Some("/p/ziglang/zig")
        );
        let json = "{\n \"zig_exe\": \"/usr/bin/zig\",\n \"lib_dir\": \"/usr/lib/zig\",\n \"version\": \"0.13.0\"\n}\n";
        assert_eq!(zig_env_field(json, "version").as_deref(), Some("0.13.0"));
        assert_eq!(
            zig_env_field(json, "zig_exe").as_deref(),
            Some("/usr/bin/zig")
        );
    }

    #[test]
    fn nothing_found_lists_where_it_looked() {
        let empty = tempfile::tempdir().expect("tempdir");
        let search = SearchEnv {
            wasi_sdk_path: Some(empty.path().join("sdk")),
            wasi_sysroot: None,
            path: vec![empty.path().to_owned()],
        };
        match discover(None, &search, &NullReporter) {
            Err(Error::NoCToolchain { looked }) => {
                let all = looked.join("\n");
                assert!(all.contains("wasi-sdk at"), "{all}");
                assert!(all.contains("clang"), "{all}");
                assert!(all.contains("zig"), "{all}");
            }
            other => panic!("expected NoCToolchain, got {other:?}"),
        }
    }
}
