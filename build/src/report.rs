//! How the library tells the outside world what it is doing, without drawing anything itself.

/// Progress and output sink. The `wasmforge` binary implements it with indicatif bars on a
/// terminal and plain lines elsewhere; tests and library users can use [`NullReporter`].
pub trait Reporter: Sync {
    /// A command about to be run, as a shell-like line (shown with `-v`).
    fn command(&self, _line: &str) {}
    /// A step of the build starts: `verb` is a short word ("Building"), `message` the subject.
    fn status(&self, _verb: &str, _message: &str) {}
    /// Work with a known number of units begins (e.g. crates to compile).
    fn progress_start(&self, _total: u64) {}
    /// One unit is done; `name` says which.
    fn progress_step(&self, _name: &str) {}
    /// The counted work is over (successfully or not).
    fn progress_finish(&self) {}
    /// A line the compiler printed on its stderr, passed through as it was.
    fn tool_output(&self, _line: &str) {}
    /// Something the user should know that does not stop the work.
    fn warning(&self, _message: &str) {}
    /// A diagnostic (from the catalog) that does not stop the work.
    fn diagnostic(&self, _diagnostic: &crate::diagnostics::Diagnostic) {}
}

/// A reporter that drops everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullReporter;

impl Reporter for NullReporter {}
