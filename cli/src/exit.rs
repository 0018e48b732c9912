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
}
