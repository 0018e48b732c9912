//! `wasmforge doctor`: every toolchain and compatibility check for a project (or a survey of the
//! toolchains), each with its fix; `--fix` runs the safe fixes and checks again.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use wasmforge_build::ArtifactKind;
use wasmforge_build::diagnostics::{Diagnostic, Severity, lookup};
use wasmforge_build::doctor::{self, DoctorOptions, DoctorReport, Status};
use wasmforge_build::project::Lang;

use crate::cli::{CiFormat, Format};
use crate::exit::ExitStatus;
use crate::output::{BOLD, Ctx, DIM, ERROR, GOOD, HINT, WARN};
use crate::reporter::TermReporter;

/// Check toolchains and a project for everything that stops a WebAssembly build
///
/// With a project (PATH, or the current folder when it is one): every check that applies —
/// the toolchain the project resolves to and its target, compiler versions, dependencies that
/// cannot work on the target, headers and imports WASI lacks, tools on PATH that break. Without
/// one: a survey of the installed toolchains and the targets each can build.
///
/// Each check prints ok, warning or error; each problem has a code (`wasmforge explain CODE`)
/// and the exact fix. Exit 1 when any error remains.
///
/// Examples:
///   wasmforge doctor
///   wasmforge doctor examples/hello-rust --target wasip2
///   wasmforge doctor --fix
///   wasmforge doctor --format sarif > doctor.sarif
///   wasmforge doctor --format github      (annotations in a GitHub Actions log)
///   wasmforge doctor --format gitlab > gl-code-quality-report.json
///   wasmforge doctor --format auto        (github on GitHub Actions, gitlab on GitLab CI)
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Project folder or manifest (default: the current folder if it is a project, else a survey)
    #[arg(value_name = "PATH")]
    path: Option<PathBuf>,
    #[command(flatten)]
    target: super::flags::TargetArgs,
    /// Language, when the folder holds more than one (rust, go, c)
    #[arg(long, value_name = "LANG")]
    lang: Option<Lang>,
    /// Command or library (Go and C)
    #[arg(long, value_name = "KIND", value_parser = super::build::parse_kind)]
    kind: Option<ArtifactKind>,
    /// Toolchain of the language: go or tinygo; wasi-sdk, clang or zig
    #[arg(long, value_name = "NAME")]
    toolchain: Option<String>,
    /// Run the fixes that are safe unattended (e.g. `rustup target add`), then check again
    #[arg(long)]
    fix: bool,
    /// The executable the build makes (as `build --bin`: CMake and Make targets, Rust binaries)
    #[arg(long = "bin", value_name = "NAME")]
    bins: Vec<String>,
    /// The package the build makes (as `build -p`: Rust packages, the Go main package)
    #[arg(short, long = "package", value_name = "SPEC")]
    packages: Vec<String>,
    /// Rust: the features the build activates (doctor judges the graph they pull in)
    #[command(flatten)]
    features: super::flags::FeatureArgs,
    /// What `build -- ARGS` would pass on (Go `-tags`, CMake `-D` options, make variables)
    #[arg(last = true, value_name = "ARGS")]
    extra_args: Vec<String>,
    /// Check this machine for running Wasm containers instead: containerd, the shim
    /// (containerd-shim-wasmforge-v1) and containerd's CRI configuration
    #[arg(long, conflicts_with_all = ["path", "fix"])]
    containerd: bool,
    /// With --containerd: containerd's config file
    #[arg(long, value_name = "FILE", requires = "containerd", default_value = super::containerd::DEFAULT_CONFIG)]
    containerd_config: PathBuf,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    if args.containerd {
        let report = super::containerd::report(Some(&args.containerd_config));
        return finish(&report, Vec::new(), "containerd (Wasm containers)", ctx);
    }
    let path = match &args.path {
        Some(path) if !path.exists() => {
            return Err(wasmforge_build::Error::PathNotFound { path: path.clone() }.into());
        }
        Some(path) => Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())),
        None => {
            let cwd = std::env::current_dir()?;
            wasmforge_build::lang::detect(&cwd, args.lang)
                .ok()
                .map(|_| cwd)
        }
    };
    let options = DoctorOptions {
        path,
        target: args.target.target,
        lang: args.lang,
        kind: args.kind,
        toolchain: args.toolchain.clone(),
        bins: args.bins.clone(),
        packages: args.packages.clone(),
        features: args.features.features(),
        extra_args: args.extra_args.clone(),
    };
    let reporter = TermReporter::new(ctx);
    let mut report = doctor::doctor(&options, &reporter)?;
    let mut fixed = Vec::new();
    if args.fix {
        let commands = safe_fixes(&report);
        if commands.is_empty() {
            ctx.status("Fix", "nothing to fix unattended");
        }
        for argv in &commands {
            let command = wasmforge_build::diagnostics::shell_line(argv);
            ctx.status("Running", &command);
            let status = wasmforge_build::process::Tool::new(&argv[0], "")
                .args(&argv[1..])
                .inherit(&reporter);
            match status {
                Ok(s) if s.success() => fixed.push(command),
                Ok(s) => ctx.warning(&format!("`{command}` failed ({s})")),
                Err(e) => ctx.warning(&format!("could not run `{command}`: {e}")),
            }
        }
        if !commands.is_empty() {
            ctx.status("Checking", "again");
            report = doctor::doctor(&options, &reporter)?;
        }
    }

    finish(&report, fixed, "Toolchains for WebAssembly", ctx)
}

/// Writes the report as the format asks; exit 1 when a check has errors.
fn finish(
    report: &DoctorReport,
    fixed: Vec<String>,
    title: &str,
    ctx: &Ctx,
) -> anyhow::Result<ExitStatus> {
    let root = repository_root(report.project.as_ref().map(|p| p.path.as_path()));
    match (ctx.ci_auto, ctx.format) {
        (Some(CiFormat::Sarif), _) => crate::output::print_json(&sarif(report, &root))?,
        (Some(CiFormat::Gitlab), _) => crate::output::print_json(&code_quality(report, &root))?,
        (Some(CiFormat::Github), _) => print_github(report, &root)?,
        (None, Format::Json) => crate::output::print_json(&serde_json::json!({
            "project": report.project,
            "checks": report.checks,
            "summary": summary_json(report),
            "fixed": fixed,
        }))?,
        (None, Format::Human) => print_human(report, ctx, title)?,
    }
    Ok(if report.has_errors() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// The commands of safe fixes, each once, in report order.
/// The commands `--fix` may run unattended, word by word (each once).
fn safe_fixes(report: &DoctorReport) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    for d in report.checks.iter().flat_map(|c| &c.diagnostics) {
        if d.fix.safe {
            for argv in &d.fix.argv {
                if !argv.is_empty() && !commands.contains(argv) {
                    commands.push(argv.clone());
                }
            }
        }
    }
    commands
}

fn summary_json(report: &DoctorReport) -> serde_json::Value {
    serde_json::json!({
        "errors": report.count(Status::Error),
        "warnings": report.count(Status::Warning),
        "ok": report.count(Status::Ok),
        "skipped": report.count(Status::Skipped),
    })
}

fn print_human(report: &DoctorReport, ctx: &Ctx, title: &str) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    match &report.project {
        Some(p) => writeln!(
            out,
            "{BOLD}{}{BOLD:#} ({}, {})",
            p.path.display(),
            p.lang.name(),
            p.target
        )?,
        None => writeln!(out, "{BOLD}{title}{BOLD:#}")?,
    }
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        let (style, word) = status_style(check.status);
        writeln!(
            out,
            "  {style}{word:<7}{style:#} {:<width$}  {}",
            check.name, check.detail
        )?;
    }
    drop(out);
    let diagnostics = report.diagnostics();
    if !diagnostics.is_empty() {
        anstream::eprintln!();
        for d in &diagnostics {
            crate::output::render_diagnostic(d);
        }
    }
    let errors = report.count(Status::Error);
    let warnings = report.count(Status::Warning);
    let summary = format!(
        "{} checks: {} ok, {errors} with errors, {warnings} with warnings",
        report.checks.len(),
        report.count(Status::Ok)
    );
    if errors > 0 {
        anstream::eprintln!("{ERROR}error{ERROR:#}: {summary}");
        if report
            .checks
            .iter()
            .flat_map(|c| &c.diagnostics)
            .any(|d| d.fix.safe)
        {
            anstream::eprintln!(
                "{HINT}hint{HINT:#}: `wasmforge doctor --fix` runs the fixes marked safe"
            );
        }
    } else if !ctx.quiet {
        anstream::eprintln!("{GOOD}{:>12}{GOOD:#} {summary}", "Done");
    }
    Ok(())
}

fn status_style(status: Status) -> (anstyle::Style, &'static str) {
    match status {
        Status::Ok => (GOOD, "ok"),
        Status::Warning => (WARN, "warning"),
        Status::Error => (ERROR, "error"),
        Status::Skipped => (DIM, "-"),
    }
}

/// The repository root (the nearest folder with `.git`) above `project`, else the current
/// folder: CI annotations and reports name files relative to it.
fn repository_root(project: Option<&Path>) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    let start = project.unwrap_or(&cwd);
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(cwd)
}

/// Every diagnostic with the file it belongs to: its own location, else the project's manifest
/// (CI systems attach annotations to files), relative to `root` with forward slashes.
fn located<'r>(
    report: &'r DoctorReport,
    root: &Path,
) -> Vec<(&'r Diagnostic, Option<String>, Option<u32>)> {
    let manifest = report.project.as_ref().and_then(|p| {
        let name = match p.lang {
            Lang::Rust => "Cargo.toml",
            Lang::Go => "go.mod",
            Lang::C => "",
        };
        let file = p.path.join(name);
        (!name.is_empty() && file.is_file()).then_some(file)
    });
    report
        .diagnostics()
        .into_iter()
        .map(|d| {
            let (file, line) = match &d.location {
                Some(l) => (Some(l.file.clone()), l.line),
                None => (manifest.clone(), None),
            };
            let rel = file.map(|f| {
                f.strip_prefix(root)
                    .map(Path::to_path_buf)
                    .unwrap_or(f)
                    .to_string_lossy()
                    .replace('\\', "/")
            });
            (d, rel, line)
        })
        .collect()
}

/// SARIF 2.1.0: one run, the catalog entries that fired as rules, one result per diagnostic.
fn sarif(report: &DoctorReport, root: &Path) -> serde_json::Value {
    let found = located(report, root);
    let mut rule_ids: Vec<&str> = found.iter().map(|(d, _, _)| d.code.as_str()).collect();
    rule_ids.sort();
    rule_ids.dedup();
    let rules: Vec<serde_json::Value> = rule_ids
        .iter()
        .filter_map(|id| lookup(id))
        .map(|e| {
            serde_json::json!({
                "id": e.code,
                "name": e.title,
                "shortDescription": { "text": e.title },
                "fullDescription": { "text": e.explanation.trim() },
                "help": { "text": e.fix.trim() },
                "defaultConfiguration": { "level": level(e.severity) },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = found
        .iter()
        .map(|(d, file, line)| {
            let mut result = serde_json::json!({
                "ruleId": d.code,
                "ruleIndex": rule_ids.iter().position(|r| *r == d.code).unwrap_or(0),
                "level": level(d.severity),
                "message": { "text": format!("{}\nFix: {}", d.message, d.fix.text) },
            });
            if let Some(file) = file {
                let mut physical = serde_json::json!({
                    "artifactLocation": { "uri": file, "uriBaseId": "%SRCROOT%" },
                });
                if let Some(line) = line {
                    physical["region"] = serde_json::json!({ "startLine": line });
                }
                result["locations"] = serde_json::json!([{ "physicalLocation": physical }]);
            }
            if !d.fix.commands.is_empty() {
                result["properties"] = serde_json::json!({ "fixCommands": d.fix.commands });
            }
            result
        })
        .collect();
    let root_uri = format!(
        "file://{}/",
        root.display().to_string().trim_end_matches('/')
    );
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "wasmforge",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/wasmforge/wasmforge/blob/main/docs/diagnostics.md",
                "rules": rules,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root_uri } },
            "results": results,
        }]
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// GitLab Code Quality: a JSON array of issues with a stable fingerprint.
fn code_quality(report: &DoctorReport, root: &Path) -> serde_json::Value {
    use sha2::Digest as _;
    let issues: Vec<serde_json::Value> = located(report, root)
        .iter()
        .map(|(d, file, line)| {
            let path = file.clone().unwrap_or_else(|| ".".into());
            let fingerprint = wasmforge_build::files::hex(&sha2::Sha256::digest(format!("{}\0{path}\0{}", d.code, d.message)));
            serde_json::json!({
                "type": "issue",
                "check_name": d.code,
                "description": format!("{} [{}] — fix: {}", d.message, d.code, d.fix.text),
                "categories": ["Compatibility"],
                "severity": match d.severity { Severity::Error => "critical", Severity::Warning => "minor" },
                "fingerprint": fingerprint,
                "location": { "path": path, "lines": { "begin": line.unwrap_or(1) } },
            })
        })
        .collect();
    serde_json::Value::Array(issues)
}

/// GitHub Actions workflow commands: `::error file=…,line=…,title=…::message`.
fn print_github(report: &DoctorReport, root: &Path) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for (d, file, line) in located(report, root) {
        let mut props = Vec::new();
        if let Some(file) = &file {
            props.push(format!("file={}", escape_property(file)));
        }
        if let Some(line) = line {
            props.push(format!("line={line}"));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("{} {}", d.code, d.title))
        ));
        let command = if d.is_error() { "error" } else { "warning" };
        let text = format!(
            "{}\nFix: {}{}",
            d.message,
            d.fix.text,
            d.fix
                .commands
                .iter()
                .map(|c| format!("\nRun: {c}"))
                .collect::<String>()
        );
        writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            escape_data(&text)
        )?;
    }
    for check in report
        .checks
        .iter()
        .filter(|c| c.status == Status::Error && c.diagnostics.is_empty())
    {
        writeln!(
            out,
            "::error title={}::{}",
            escape_property(&check.name),
            escape_data(&check.detail)
        )?;
    }
    Ok(())
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmforge_build::doctor::Check;

    #[test]
    fn workflow_command_escapes() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a,b: c"), "a%2Cb%3A c");
    }

    #[test]
    fn check_ordering_is_stable() {
        let report = DoctorReport {
            project: None,
            checks: vec![Check::ok("a", "fine".into())],
        };
        assert!(located(&report, Path::new("/")).is_empty());
        assert_eq!(summary_json(&report)["ok"], 1);
    }
}
