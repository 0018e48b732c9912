//! The one exit status type every command returns.

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything worked.
    Success,
    /// 1: the checked thing failed (build error, invalid module, …).
    Failure,
    /// 2: the invocation was wrong (bad flag, a path that does not exist).
    Usage,
    /// Any other code: a guest's own exit code, or one of `run`'s documented codes.
    Code(u8),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Code(code) => code,
        }
    }
}

/// A failure that ends with a code of its own: the guest was stopped (a trap, `--timeout`,
/// `--fuel`, `--max-memory`). Reported like every other error, in text and in JSON.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct GuestStopped {
    pub code: u8,
    pub message: String,
    /// The guest's backtrace, a frame a line (function names come from the module).
    pub backtrace: Vec<String>,
    /// What to do about it, when the stop says more than itself (it ran out of stack).
    pub hint: Option<String>,
    /// The catalog's code for what the hint explains (`wasmforge explain WF7001`).
    pub explain: Option<&'static str>,
}

/// A command line that cannot be carried out as given (exit 2): a folder where a module
/// belongs, a flag value this machine or this module cannot honour, a setting that names
/// nothing. The CLI's own; the build library's errors carry their own kind and code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    /// How to say it instead: usually the exact command.
    pub hint: String,
}

/// What the command was pointed at is not what it may work on, and wasmforge refuses to touch
/// it (exit 1): a folder that is not its cache, a text file a binary would overwrite.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub message: String,
    pub hint: String,
}
