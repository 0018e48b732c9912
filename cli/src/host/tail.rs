//! The guest's stdout and stderr go to the host's as they are, and the last few KiB of each are
//! kept: when a guest that opens files fails, `run` reads what it said last for the path it
//! could not open (WF7002).

use std::collections::VecDeque;
use std::io::Write as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// How much of each stream is kept.
const KEPT: usize = 4096;

/// The last bytes the guest wrote to stdout and to stderr.
#[derive(Debug, Clone)]
pub struct Tails {
    stdout: Arc<Mutex<VecDeque<u8>>>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    /// How many bytes of each are kept.
    limit: usize,
    /// The guest's stdout goes to this process's stderr (when stdout is a JSON document's).
    stdout_to_stderr: bool,
    /// Kept only, not passed on (a run whose output is read, not shown).
    silent: bool,
}

impl Default for Tails {
    fn default() -> Tails {
        Tails::keeping(KEPT, false)
    }
}

impl Tails {
    /// Keeping the last `limit` bytes of each stream (`test` keeps a test binary's whole
    /// output, bounded, to read its harness's lines).
    pub fn keeping(limit: usize, stdout_to_stderr: bool) -> Tails {
        Tails {
            stdout: Arc::default(),
            stderr: Arc::default(),
            limit,
            stdout_to_stderr,
            silent: false,
        }
    }

    /// Keeping the output only: nothing reaches this process's stdout or stderr.
    pub fn silent(limit: usize) -> Tails {
        Tails {
            silent: true,
            ..Tails::keeping(limit, false)
        }
    }

    /// A stream for the guest's stdout that writes to this process's and keeps its tail.
    pub fn stdout(&self) -> TeeOutput {
        TeeOutput {
            to: if self.stdout_to_stderr {
                To::Stderr
            } else {
                To::Stdout
            },
            tail: self.stdout.clone(),
            limit: self.limit,
            silent: self.silent,
        }
    }

    pub fn stderr(&self) -> TeeOutput {
        TeeOutput {
            to: To::Stderr,
            tail: self.stderr.clone(),
            limit: self.limit,
            silent: self.silent,
        }
    }

    /// What the guest wrote to stdout and to stderr (lossy UTF-8), emptying both.
    pub fn take(&self) -> (String, String) {
        let take = |tail: &Arc<Mutex<VecDeque<u8>>>| {
            let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
            let bytes: Vec<u8> = tail.drain(..).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        (take(&self.stdout), take(&self.stderr))
    }

    /// What the guest wrote last, stderr's lines then stdout's (lossy UTF-8).
    pub fn text(&self) -> String {
        let read = |tail: &Arc<Mutex<VecDeque<u8>>>| {
            let tail = tail.lock().unwrap_or_else(|p| p.into_inner());
            String::from_utf8_lossy(&tail.iter().copied().collect::<Vec<u8>>()).into_owned()
        };
        format!("{}\n{}", read(&self.stderr), read(&self.stdout))
    }
}

#[derive(Debug, Clone, Copy)]
enum To {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone)]
pub struct TeeOutput {
    to: To,
    tail: Arc<Mutex<VecDeque<u8>>>,
    limit: usize,
    silent: bool,
}

impl TeeOutput {
    fn write_all(&self, bytes: &[u8]) -> std::io::Result<()> {
        match self.to {
            _ if self.silent => {}
            To::Stdout => std::io::stdout().write_all(bytes)?,
            To::Stderr => std::io::stderr().write_all(bytes)?,
        }
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        let keep = &bytes[bytes.len().saturating_sub(self.limit)..];
        tail.extend(keep);
        let excess = tail.len().saturating_sub(self.limit);
        tail.drain(..excess);
        Ok(())
    }

    fn flush_now(&self) -> std::io::Result<()> {
        match self.to {
            To::Stdout => std::io::stdout().flush(),
            To::Stderr => std::io::stderr().flush(),
        }
    }
}

impl IsTerminal for TeeOutput {
    fn is_terminal(&self) -> bool {
        match self.to {
            To::Stdout => std::io::IsTerminal::is_terminal(&std::io::stdout()),
            To::Stderr => std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }
}

impl StdoutStream for TeeOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for TeeOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_all(&bytes)
            .map_err(|e| StreamError::LastOperationFailed(e.into()))
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.flush_now()
            .map_err(|e| StreamError::LastOperationFailed(e.into()))
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // As Wasmtime's own stdio streams: always ready, writes block this thread.
        Ok(1 << 20)
    }
}

#[async_trait::async_trait]
impl Pollable for TeeOutput {
    async fn ready(&mut self) {}
}

impl AsyncWrite for TeeOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.write_all(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.flush_now())
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_bytes_are_kept() {
        let tails = Tails::default();
        let out = tails.stderr();
        out.write_all(&vec![b'a'; KEPT]).unwrap();
        out.write_all(b"\nopening `/data/x.txt` failed\n").unwrap();
        let text = tails.text();
        assert!(text.len() <= 2 * KEPT + 1);
        assert!(text.contains("opening `/data/x.txt` failed"));
        out.write_all(&vec![b'b'; 3 * KEPT]).unwrap();
        assert!(!tails.text().contains("opening"));
    }
}
