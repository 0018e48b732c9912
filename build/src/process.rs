//! The one way wasmforge runs a program (its tools, its compilers, credential helpers, its own
//! child processes): resolve the program on PATH first (so a missing tool is a typed error
//! naming it), show the exact command line — environment changes and working folder included —
//! to the reporter (`-v`), and run it in one of a few modes:
//! - [`Tool::output`]: captured; a non-zero exit is an error carrying stderr;
//! - [`Tool::capture`] / [`Tool::capture_with_input`]: captured whatever the exit (a compile
//!   whose failure is data, a probe, a credential helper);
//! - [`Tool::run_streaming`] / [`Tool::run_with`]: lines passed on as they come;
//! - [`Tool::inherit`]: on this process's terminal (a fix the user watches);
//! - [`Tool::spawn`]: started and left running (a child wasmforge watches or leaves behind).

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::error::{Error, Result};
use crate::report::Reporter;
use crate::text::shell_quote;

/// How a spawned program's stdio is set up ([`Tool::spawn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Io {
    /// This process's stdin, stdout and stderr.
    Inherit,
    /// None, and a process group of its own.
    Detached,
}

/// A command line to run, built up like [`std::process::Command`].
#[derive(Debug, Clone)]
pub struct Tool {
    program: OsString,
    install_hint: String,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    cwd: Option<PathBuf>,
}

impl Tool {
    /// A program by name (looked up on PATH) or path; `install_hint` says how to get it.
    pub fn new(program: impl AsRef<OsStr>, install_hint: impl Into<String>) -> Self {
        Tool {
            program: program.as_ref().to_owned(),
            install_hint: install_hint.into(),
            args: Vec::new(),
            envs: Vec::new(),
            cwd: None,
        }
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.envs
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.envs.push((key.as_ref().to_owned(), None));
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// The program's name as given.
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// Finds the program: a path is taken as it is, a bare name is looked up on PATH.
    pub fn resolve(&self) -> Result<PathBuf> {
        let name = Path::new(&self.program);
        if name.components().count() > 1 {
            return if name.exists() {
                Ok(name.to_owned())
            } else {
                Err(self.not_found())
            };
        }
        which::which(&self.program).map_err(|_| self.not_found())
    }

    fn not_found(&self) -> Error {
        Error::ToolNotFound {
            tool: self.program.to_string_lossy().into_owned(),
            install: self.install_hint.clone(),
        }
    }

    /// The command line as a user could paste it into a shell (working folder and environment
    /// changes first).
    pub fn display(&self) -> String {
        let mut line = String::new();
        if let Some(dir) = &self.cwd {
            let _ = write!(line, "cd {} && ", shell_quote(dir.as_os_str()));
        }
        for (key, value) in &self.envs {
            if value.is_none() {
                let _ = write!(line, "env -u {} ", key.to_string_lossy());
            }
        }
        for (key, value) in &self.envs {
            if let Some(value) = value {
                let _ = write!(line, "{}={} ", key.to_string_lossy(), shell_quote(value));
            }
        }
        line.push_str(&shell_quote(&self.program));
        for arg in &self.args {
            line.push(' ');
            line.push_str(&shell_quote(arg));
        }
        line
    }

    /// A [`Command`] ready to spawn, with the program resolved; the line goes to the reporter.
    /// Private: every caller runs a program through one of the modes.
    fn command(&self, reporter: &dyn Reporter) -> Result<Command> {
        let program = self.resolve()?;
        reporter.command(&self.display());
        let mut cmd = Command::new(program);
        cmd.args(&self.args);
        for (key, value) in &self.envs {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        Ok(cmd)
    }

    /// Runs to completion with stdout and stderr captured; a non-zero exit is an error that
    /// carries stderr.
    pub fn output(&self, reporter: &dyn Reporter) -> Result<Output> {
        let output = self
            .command(reporter)?
            .stdin(Stdio::null())
            .output()
            .map_err(|source| Error::Spawn {
                command: self.display(),
                source,
            })?;
        if !output.status.success() {
            return Err(Error::ToolFailed {
                command: self.display(),
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        Ok(output)
    }
}

impl Tool {
    /// Runs to completion with stdin closed and stdout and stderr captured, whatever the exit
    /// status (the caller reads it): a compile whose failure is data, a probe.
    pub fn capture(&self, reporter: &dyn Reporter) -> Result<Output> {
        self.command(reporter)?
            .stdin(Stdio::null())
            .output()
            .map_err(|source| self.spawn_error(source))
    }

    /// [`Tool::capture`] with `input` written to the program's stdin (a credential helper).
    /// The input is never shown.
    pub fn capture_with_input(&self, reporter: &dyn Reporter, input: &[u8]) -> Result<Output> {
        use std::io::Write as _;
        let mut child = self
            .command(reporter)?
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| self.spawn_error(source))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input)
                .map_err(|source| self.spawn_error(source))?;
        }
        child
            .wait_with_output()
            .map_err(|source| self.spawn_error(source))
    }

    /// Runs to completion on this process's terminal: stdin closed, stdout and stderr shown as
    /// the program writes them (a fix the user watches).
    pub fn inherit(&self, reporter: &dyn Reporter) -> Result<std::process::ExitStatus> {
        self.command(reporter)?
            .stdin(Stdio::null())
            .status()
            .map_err(|source| self.spawn_error(source))
    }

    /// Starts the program and leaves it running: with this process's stdio (`Io::Inherit`), or
    /// none at all and in a process group of its own (`Io::Detached`: it outlives a Ctrl-C).
    pub fn spawn(&self, reporter: &dyn Reporter, io: Io) -> Result<std::process::Child> {
        let mut cmd = self.command(reporter)?;
        if io == Io::Detached {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        cmd.spawn().map_err(|source| self.spawn_error(source))
    }

    fn spawn_error(&self, source: std::io::Error) -> Error {
        Error::Spawn {
            command: self.display(),
            source,
        }
    }

    /// Runs to completion, passing every line the tool prints (stdout and stderr) to the
    /// reporter as it comes, so compiler diagnostics appear as the compiler shows them.
    pub fn run_streaming(&self, reporter: &dyn Reporter) -> Result<std::process::ExitStatus> {
        self.run_with(reporter, |line| reporter.tool_output(line))
    }

    /// Runs to completion: stderr lines go to the reporter as they come, stdout lines to
    /// `on_stdout` (e.g. cargo's JSON messages).
    pub fn run_with(
        &self,
        reporter: &dyn Reporter,
        mut on_stdout: impl FnMut(&str),
    ) -> Result<std::process::ExitStatus> {
        use std::io::{BufRead as _, BufReader};
        let mut child = self
            .command(reporter)?
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::Spawn {
                command: self.display(),
                source,
            })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(Error::Spawn {
                command: self.display(),
                source: std::io::Error::other("no pipes"),
            });
        };
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for line in BufReader::new(stderr)
                    .lines()
                    .map_while(std::result::Result::ok)
                {
                    reporter.tool_output(&line);
                }
            });
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
            {
                on_stdout(&line);
            }
        });
        child.wait().map_err(|source| Error::Spawn {
            command: self.display(),
            source,
        })
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::NullReporter;

    #[test]
    fn missing_tool_is_a_typed_error_naming_it() {
        let tool = Tool::new("wasmforge-no-such-tool", "install it from somewhere");
        match tool.output(&NullReporter) {
            Err(Error::ToolNotFound { tool, install }) => {
                assert_eq!(tool, "wasmforge-no-such-tool");
                assert_eq!(install, "install it from somewhere");
            }
            other => panic!("expected ToolNotFound, got {other:?}"),
        }
    }

    #[test]
    fn display_quotes_what_a_shell_would_split() {
        let mut tool = Tool::new("cargo", "");
        tool.args(["build", "--features", "a b", "it's"])
            .env("RUSTFLAGS", "-C x");
        assert_eq!(
            tool.display(),
            r#"RUSTFLAGS='-C x' cargo build --features 'a b' 'it'\''s'"#
        );
    }

    #[test]
    fn failing_tool_carries_its_stderr() {
        let mut tool = Tool::new("sh", "");
        tool.args(["-c", "echo boom >&2; exit 3"]);
        match tool.output(&NullReporter) {
            Err(Error::ToolFailed { stderr, .. }) => assert_eq!(stderr.trim(), "boom"),
            other => panic!("expected ToolFailed, got {other:?}"),
        }
    }
}
