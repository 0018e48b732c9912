//! Everything the binary prints: data to stdout, status and errors to stderr, colour only where
//! it belongs (a terminal, no `NO_COLOR`, not `--color never`).

use std::io::{IsTerminal as _, Write as _};

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};

use crate::cli::{CiFormat, ColorWhen, Format, GlobalArgs};
use crate::exit::ExitStatus;

pub const ERROR: Style = AnsiColor::Red.on_default().bold();
pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
pub const HINT: Style = AnsiColor::Cyan.on_default().bold();
pub const GOOD: Style = AnsiColor::Green.on_default().bold();
pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();

/// What every command knows about how to talk to the user.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub format: Format,
    /// `--format sarif|github|gitlab` (doctor's CI reports).
    pub ci_format: Option<CiFormat>,
    /// What `--format auto` means for doctor here (the CI's own format, or none).
    pub ci_auto: Option<CiFormat>,
    pub verbose: u8,
    pub quiet: bool,
    /// Whether stderr gets colour (also passed to compilers for their diagnostics).
    pub color_stderr: bool,
    /// Whether stderr is an interactive terminal that can show progress bars.
    pub interactive: bool,
}

impl Ctx {
    pub fn new(global: &GlobalArgs) -> Self {
        let choice = match global.color {
            ColorWhen::Always => ColorChoice::Always,
            ColorWhen::Never => ColorChoice::Never,
            ColorWhen::Auto => ColorChoice::Auto,
        };
        choice.write_global();
        let color_stderr = !matches!(
            anstream::AutoStream::choice(&std::io::stderr()),
            ColorChoice::Never
        );
        let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        Ctx {
            format: global.format.base(),
            ci_format: global.format.ci(),
            ci_auto: global.format.ci_auto(),
            verbose: global.verbose,
            quiet: global.quiet,
            color_stderr,
            interactive: std::io::stderr().is_terminal() && !in_ci && !global.quiet,
        }
    }

    /// A status line on stderr, cargo style: a right-aligned verb, then the message.
    pub fn status(&self, verb: &str, message: &str) {
        if !self.quiet {
            anstream::eprintln!("{GOOD}{verb:>12}{GOOD:#} {message}");
        }
    }

    pub fn warning(&self, message: &str) {
        anstream::eprintln!("{WARN}warning{WARN:#}: {message}");
    }
}

/// Prints `value` as one JSON document on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)?;
    stdout.flush()?;
    Ok(())
}

/// True when the error is only a closed stdout (`wasmforge … | head`): exit quietly. A broken
/// pipe anywhere else — a registry's connection cut in the middle of an upload — is a failure
/// like any other, never a quiet success.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                .is_some_and(|k| k == std::io::ErrorKind::BrokenPipe)
    }) && stdout_closed()
}

/// Whether whoever read stdout has gone (the write end of a pipe whose read end is closed).
fn stdout_closed() -> bool {
    #[cfg(unix)]
    {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let stdout = std::io::stdout();
        let mut fds = [PollFd::new(&stdout, PollFlags::OUT)];
        let now = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&now)).is_ok() && fds[0].revents().contains(PollFlags::ERR)
    }
    #[cfg(not(unix))]
    true
}

/// A folder that is not a project but an app (`[[app.service]]`): where its projects are.
fn app_folder_hint(err: &wasmforge_build::Error) -> Option<String> {
    let wasmforge_build::Error::NotAProject { path } = err else {
        return None;
    };
    let config = wasmforge_build::config::Config::load(path).ok()?;
    config.app.is_app().then(|| {
        format!(
            "this folder is an app of {} services (`[[app.service]]` in its wasmforge.toml): \
             `wasmforge serve`, `dev` and `push` take it whole; build, test or doctor one service \
             in its own folder ({})",
            config.app.service.len(),
            config
                .app
                .service
                .iter()
                .map(|s| format!("`{}`", s.source))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Prints an error with its cause chain and hint, and picks the exit status for it.
pub fn report_error(ctx: &Ctx, err: &anyhow::Error) -> ExitStatus {
    let build_err = err
        .chain()
        .find_map(|c| c.downcast_ref::<wasmforge_build::Error>());
    let registry_err = err
        .chain()
        .find_map(|c| c.downcast_ref::<wasmforge_registry::Error>());
    let stopped = err
        .chain()
        .find_map(|c| c.downcast_ref::<crate::exit::GuestStopped>());
    let usage = err
        .chain()
        .find_map(|c| c.downcast_ref::<crate::exit::UsageError>());
    let status = match build_err.map(|e| e.kind()) {
        _ if stopped.is_some() => ExitStatus::Code(stopped.map_or(1, |s| s.code)),
        _ if usage.is_some() => ExitStatus::Usage,
        Some(wasmforge_build::ErrorKind::Usage) => ExitStatus::Usage,
        _ if registry_err.is_some_and(|e| e.is_usage()) => ExitStatus::Usage,
        _ => ExitStatus::Failure,
    };
    let host_err = err
        .chain()
        .find_map(|c| c.downcast_ref::<crate::host::HostError>());
    let refused = err
        .chain()
        .find_map(|c| c.downcast_ref::<crate::exit::Refused>());
    let hint = usage
        .map(|u| u.hint.clone())
        .or_else(|| refused.map(|r| r.hint.clone()))
        .or_else(|| stopped.and_then(|s| s.hint.clone()))
        .or_else(|| build_err.and_then(|e| app_folder_hint(e).or_else(|| e.hint())))
        .or_else(|| host_err.and_then(|e| e.hint()))
        .or_else(|| registry_err.and_then(|e| e.hint()));
    let details = build_err.and_then(|e| match e {
        wasmforge_build::Error::ToolFailed { stderr, .. } if !stderr.trim().is_empty() => {
            Some(stderr.clone())
        }
        _ => None,
    });
    let causes: Vec<String> = err.chain().skip(1).map(|c| c.to_string()).collect();
    let code = build_err
        .and_then(|e| e.code())
        .or_else(|| stopped.and_then(|s| s.explain));
    let diagnostics = build_err.map(|e| e.diagnostics()).unwrap_or_default();

    // Diagnostics come after the compiler's own output, each with its fix.
    for diagnostic in diagnostics {
        if CiLog::detect() == Some(CiLog::Github) {
            github_annotation(diagnostic);
        }
        render_diagnostic(diagnostic);
    }
    let mut stderr = anstream::stderr().lock();
    // Messages can quote what a module or a registry said (an import's name, a server's error).
    let message = untrusted_lines(&err.to_string()).into_owned();
    match code {
        Some(code) if diagnostics.is_empty() => {
            let _ = writeln!(stderr, "{ERROR}error[{code}]{ERROR:#}: {message}");
        }
        _ => {
            let _ = writeln!(stderr, "{ERROR}error{ERROR:#}: {message}");
        }
    }
    for cause in &causes {
        let _ = writeln!(
            stderr,
            "  {BOLD}caused by{BOLD:#}: {}",
            indent_rest(&untrusted_lines(cause))
        );
    }
    let frames = stopped.map(|s| s.backtrace.as_slice()).unwrap_or_default();
    if !frames.is_empty() {
        let _ = writeln!(stderr, "  {BOLD}backtrace{BOLD:#}:");
        for frame in frames {
            let _ = writeln!(stderr, "    {}", untrusted(frame));
        }
    }
    if let Some(details) = &details {
        for line in details.trim_end().lines() {
            let _ = writeln!(stderr, "  {DIM}|{DIM:#} {line}");
        }
    }
    if let Some(hint) = &hint {
        let _ = writeln!(stderr, "{HINT}hint{HINT:#}: {hint}");
    }
    if let Some(code) = code.filter(|_| diagnostics.is_empty()) {
        let _ = writeln!(stderr, "{DIM}explain: wasmforge explain {code}{DIM:#}");
    }
    drop(stderr);

    if ctx.format == Format::Json {
        let doc = serde_json::json!({
            "error": {
                "message": err.to_string(),
                "causes": causes,
                "hint": hint,
                "code": code,
                "diagnostics": diagnostics,
                "exit_code": status.code(),
            }
        });
        let mut doc = doc;
        if let Some(stopped) = stopped.filter(|s| !s.backtrace.is_empty()) {
            doc["error"]["backtrace"] = serde_json::json!(stopped.backtrace);
        }
        let _ = print_json(&doc);
    }
    status
}

/// One diagnostic on stderr, rustc style: the code and message, where, the fix, and how to
/// read more.
pub fn render_diagnostic(d: &wasmforge_build::diagnostics::Diagnostic) {
    let style = if d.is_error() { ERROR } else { WARN };
    let mut out = anstream::stderr().lock();
    let _ = writeln!(
        out,
        "{style}{}[{}]{style:#}{BOLD}: {}{BOLD:#}",
        d.severity.name(),
        d.code,
        d.message
    );
    if let Some(location) = &d.location {
        let line = location.line.map(|l| format!(":{l}")).unwrap_or_default();
        let _ = writeln!(out, "  {HINT}-->{HINT:#} {}{line}", location.file.display());
    }
    let _ = writeln!(out, "  {HINT}= fix{HINT:#}: {}", d.fix.text);
    for command in &d.fix.commands {
        let _ = writeln!(out, "  {HINT}= run{HINT:#}: {command}");
    }
    let _ = writeln!(
        out,
        "  {DIM}= {}: wasmforge explain {}{DIM:#}",
        d.title, d.code
    );
}

/// A CI whose log understands folding and annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiLog {
    Github,
    Gitlab,
}

impl CiLog {
    /// `GITHUB_ACTIONS=true` or `GITLAB_CI=true`.
    pub fn detect() -> Option<CiLog> {
        let set = |var: &str| std::env::var(var).is_ok_and(|v| v == "true");
        if set("GITHUB_ACTIONS") {
            Some(CiLog::Github)
        } else if set("GITLAB_CI") {
            Some(CiLog::Gitlab)
        } else {
            None
        }
    }

    /// Starts a folded group titled `title`; returns its id (for GitLab's section end).
    pub fn open(self, title: &str) -> String {
        let title = title.replace(['\r', '\n'], " ");
        match self {
            CiLog::Github => {
                anstream::eprintln!("::group::{title}");
                String::new()
            }
            CiLog::Gitlab => {
                let id = format!("wasmforge_{}", unix_now());
                anstream::eprintln!(
                    "\u{1b}[0Ksection_start:{}:{id}[collapsed=true]\r\u{1b}[0K{title}",
                    unix_now()
                );
                id
            }
        }
    }

    pub fn close(self, id: &str) {
        match self {
            CiLog::Github => anstream::eprintln!("::endgroup::"),
            CiLog::Gitlab => {
                anstream::eprintln!("\u{1b}[0Ksection_end:{}:{id}\r\u{1b}[0K", unix_now())
            }
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A diagnostic as a GitHub Actions workflow command, so it shows on the file and line.
pub fn github_annotation(d: &wasmforge_build::diagnostics::Diagnostic) {
    let escape = |t: &str| {
        t.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |t: &str| escape(t).replace(':', "%3A").replace(',', "%2C");
    let mut props = Vec::new();
    if let Some(location) = &d.location {
        let cwd = std::env::current_dir().unwrap_or_default();
        let file = location.file.strip_prefix(&cwd).unwrap_or(&location.file);
        props.push(format!("file={}", property(&file.display().to_string())));
        if let Some(line) = location.line {
            props.push(format!("line={line}"));
        }
    }
    props.push(format!(
        "title={}",
        property(&format!("{} {}", d.code, d.title))
    ));
    let kind = if d.is_error() { "error" } else { "warning" };
    let text = escape(&format!("{}\nFix: {}", d.message, d.fix.text));
    // Workflow commands are read from the step's output; stderr keeps stdout's data clean.
    anstream::eprintln!("::{kind} {}::{text}", props.join(","));
}

fn indent_rest(text: &str) -> String {
    text.trim_end().replace('\n', "\n    ")
}

/// Text a module, a component or a registry chose, made safe for a terminal (newlines too):
/// the one escaping path, [`wasmforge_build::text`].
pub fn untrusted(text: &str) -> std::borrow::Cow<'_, str> {
    wasmforge_build::text::escape(text)
}

/// [`untrusted`] for text that may hold lines of its own (WIT): newlines stay.
pub fn untrusted_lines(text: &str) -> std::borrow::Cow<'_, str> {
    wasmforge_build::text::escape_lines(text)
}

/// A byte count for people: `1.92 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.2} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.00 KiB");
        assert_eq!(human_size(2_011_323), "1.92 MiB");
    }
}
