//! Limits on a guest: memory and table growth (a store limiter that traps and remembers which
//! limit it was), and the timeout watchdog.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use wasmtime::{Engine, ResourceLimiter};

/// The limits asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    pub timeout: Option<Duration>,
    pub fuel: Option<u64>,
    pub max_memory: Option<u64>,
    pub max_table_elements: Option<u64>,
    /// The guest's call stack (Wasmtime's `max_wasm_stack`); `None`: Wasmtime's 512 KiB.
    pub max_wasm_stack: Option<u64>,
}

/// Wasmtime's own call-stack limit for a guest.
pub const DEFAULT_WASM_STACK: u64 = 512 * 1024;
/// The most `--max-wasm-stack` allows: the stack is the thread's, reserved up front.
pub const MAX_WASM_STACK: u64 = 1 << 30;

impl Limits {
    /// The Wasm call stack a Cranelift-compiled guest gets.
    pub fn wasm_stack(&self) -> usize {
        usize::try_from(self.max_wasm_stack.unwrap_or(DEFAULT_WASM_STACK)).unwrap_or(usize::MAX)
    }
}

/// `--max-wasm-stack`: 64 KiB to [`MAX_WASM_STACK`].
pub fn parse_wasm_stack(text: &str) -> Result<u64, String> {
    let value = size_at_most(text, MAX_WASM_STACK)?;
    if value < 64 * 1024 {
        return Err(format!("`{}` is less than the minimum, 64KiB", text.trim()));
    }
    Ok(value)
}

/// Exit code when the timeout stops the guest (as coreutils `timeout` uses).
pub const EXIT_TIMEOUT: u8 = 124;
/// Exit code when the fuel runs out.
pub const EXIT_FUEL: u8 = 125;
/// Exit code when the guest hits --max-memory or --max-table-elements.
pub const EXIT_LIMIT: u8 = 123;
/// Exit code for a trap (as the Wasmtime CLI: the abort signal's 128 + 6).
pub const EXIT_TRAP: u8 = 134;

/// Sets a store up for the fuel and timeout limits (the engine was configured for them).
pub fn arm<T>(store: &mut wasmtime::Store<T>, limits: &Limits) -> wasmtime::Result<()> {
    if let Some(fuel) = limits.fuel {
        store.set_fuel(fuel)?;
    }
    if limits.timeout.is_some() {
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
    }
    Ok(())
}

/// The store limiter: refuses growth past a limit by trapping, and records the limit so the
/// message can name it. The limits are the guest's totals: all its memories (and all its tables)
/// together, however many a module (or the modules of a component) declares.
#[derive(Debug, Default)]
pub struct StoreLimiter {
    max_memory: Option<u64>,
    max_table_elements: Option<u64>,
    /// Bytes of every memory of the store, as granted so far.
    memory_total: u64,
    /// Elements of every table of the store, as granted so far.
    table_total: u64,
    pub hit: Option<String>,
}

impl StoreLimiter {
    pub fn new(limits: &Limits) -> Self {
        StoreLimiter {
            max_memory: limits.max_memory,
            max_table_elements: limits.max_table_elements,
            ..StoreLimiter::default()
        }
    }

    /// Accounts for one memory (or table, `tables`) going from `current` to `desired` against
    /// its flag: an error (the guest traps) when the total would pass it, with the message kept
    /// in `hit` for the run's report.
    fn grow(&mut self, tables: bool, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let (total, max) = if tables {
            (&mut self.table_total, self.max_table_elements)
        } else {
            (&mut self.memory_total, self.max_memory)
        };
        let after = total
            .saturating_sub(current as u64)
            .saturating_add(desired as u64);
        match max {
            Some(max) if after > max => {
                let message = if tables {
                    format!(
                        "the guest tried to grow its tables to {after} elements (all together), over --max-table-elements {max}"
                    )
                } else {
                    format!(
                        "the guest tried to grow its memory to {after} bytes (all its memories together), over --max-memory {max} bytes"
                    )
                };
                self.hit = Some(message.clone());
                Err(wasmtime::Error::msg(message))
            }
            _ => {
                *total = after;
                Ok(true)
            }
        }
    }
}

impl ResourceLimiter for StoreLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(false, current, desired)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(true, current, desired)
    }
}

/// Stops a guest that runs past its timeout. Code running in Wasm is interrupted through the
/// engine's epoch (a clean trap); a guest blocked in a host call (a sleep, a read from stdin)
/// cannot be interrupted that way, so after a short grace period the process exits with the
/// timeout's code.
pub struct Watchdog {
    state: Arc<(Mutex<bool>, Condvar)>,
}

const GRACE: Duration = Duration::from_millis(200);

impl Watchdog {
    pub fn start(engine: Engine, timeout: Duration, ctx: crate::output::Ctx) -> Watchdog {
        let state = Arc::new((Mutex::new(false), Condvar::new()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            let (lock, cvar) = &*shared;
            let wait = |limit: Duration| {
                let done = lock.lock().unwrap_or_else(|p| p.into_inner());
                let (done, _) = cvar
                    .wait_timeout_while(done, limit, |done| !*done)
                    .unwrap_or_else(|p| p.into_inner());
                *done
            };
            if wait(timeout) {
                return;
            }
            engine.increment_epoch();
            if wait(GRACE) {
                return;
            }
            // Blocked in a host call, the guest cannot be interrupted: the process ends here,
            // reported as every other failure is.
            let err = anyhow::Error::new(crate::exit::GuestStopped {
                code: EXIT_TIMEOUT,
                message: format!(
                    "the guest ran longer than --timeout {} and was stopped (it was blocked in a host call)",
                    format_duration(timeout)
                ),
                backtrace: Vec::new(),
                hint: None,
                explain: None,
            });
            let status = crate::output::report_error(&ctx, &err);
            std::process::exit(i32::from(status.code()));
        });
        Watchdog { state }
    }

    /// The guest is done: the watchdog stands down.
    pub fn finish(self) {
        let (lock, cvar) = &*self.state;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cvar.notify_all();
    }
}

/// The longest `--timeout`: a week (a run or a request that needs longer needs no timeout).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// The longest `serve`/`dev` connection timeouts and grace period: an hour.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(3600);
/// The longest `dev --debounce`: files written without a pause are built after 5 s anyway.
pub const MAX_DEBOUNCE: Duration = Duration::from_secs(5);
/// The most `--max-memory`: 1 TiB (a 32-bit memory stops at 4 GiB).
pub const MAX_MEMORY: u64 = 1 << 40;
/// The most `--fuel`: Wasmtime keeps fuel in a signed 64-bit counter.
pub const MAX_FUEL: u64 = i64::MAX as u64;
/// The most `--max-table-elements`: a 32-bit table's whole index range.
pub const MAX_TABLE_ELEMENTS: u64 = 1 << 32;
/// The largest size `pull --max-size` and `validate --max-size` take: 64 GiB.
pub const MAX_FILE_SIZE: u64 = 64 << 30;

/// Parses `1.5s`, `500ms`, `2m`, `1h`, `1d`, or plain seconds (no maximum: the flags' own
/// parsers below state theirs).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 500ms, 10s, 2m"))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1000.0,
        "us" | "µs" => value / 1_000_000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86400.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use ms, s, m, h or d"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is out of range"))
}

/// A duration no longer than `max`, the maximum named when it is.
fn duration_at_most(text: &str, max: Duration) -> Result<Duration, String> {
    let value = parse_duration(text)?;
    if value > max {
        return Err(format!(
            "`{}` is longer than the maximum, {}",
            text.trim(),
            format_duration(max)
        ));
    }
    Ok(value)
}

/// `--timeout`: at most [`MAX_TIMEOUT`].
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    duration_at_most(text, MAX_TIMEOUT)
}

/// `serve`'s connection timeouts and `--shutdown-timeout`: at most [`MAX_SERVER_WAIT`].
pub fn parse_server_wait(text: &str) -> Result<Duration, String> {
    duration_at_most(text, MAX_SERVER_WAIT)
}

/// `dev --debounce`: at most [`MAX_DEBOUNCE`].
pub fn parse_debounce(text: &str) -> Result<Duration, String> {
    duration_at_most(text, MAX_DEBOUNCE)
}

/// A size no larger than `max`, the maximum named when it is.
fn size_at_most(text: &str, max: u64) -> Result<u64, String> {
    let value = parse_size(text)?;
    if value > max {
        return Err(format!(
            "`{}` is more than the maximum, {}",
            text.trim(),
            crate::output::human_size(max)
        ));
    }
    Ok(value)
}

/// `--max-memory`: at most [`MAX_MEMORY`].
pub fn parse_max_memory(text: &str) -> Result<u64, String> {
    size_at_most(text, MAX_MEMORY)
}

/// `--max-size` of `pull` and `validate`: at most [`MAX_FILE_SIZE`].
pub fn parse_file_size(text: &str) -> Result<u64, String> {
    size_at_most(text, MAX_FILE_SIZE)
}

/// A count no larger than `max`, the maximum named when it is.
fn count_at_most(text: &str, max: u64) -> Result<u64, String> {
    let text = text.trim().replace('_', "");
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a whole number"));
    }
    match text.parse::<u64>() {
        Ok(value) if value <= max => Ok(value),
        _ => Err(format!("`{text}` is more than the maximum, {max}")),
    }
}

/// `--fuel`: at most [`MAX_FUEL`].
pub fn parse_fuel(text: &str) -> Result<u64, String> {
    count_at_most(text, MAX_FUEL)
}

/// `--max-table-elements`: at most [`MAX_TABLE_ELEMENTS`].
pub fn parse_table_elements(text: &str) -> Result<u64, String> {
    count_at_most(text, MAX_TABLE_ELEMENTS)
}

pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_nanos() == 0 && secs >= 86400 && secs.is_multiple_of(86400) {
        format!("{}d", secs / 86400)
    } else if d.subsec_nanos() == 0 && secs >= 3600 && secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

pub use wasmforge_build::wasm::validate::parse_size;

/// The linear memory a module or component has from its start, in bytes: the initial sizes of
/// the memories it defines (every module of a component, each counted once).
pub fn initial_memory(bytes: &[u8]) -> u64 {
    let mut total = 0u64;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        if let wasmparser::Payload::MemorySection(reader) = payload {
            for memory in reader.into_iter().flatten() {
                let page = 1u64 << memory.page_size_log2.unwrap_or(16).min(16);
                total = total.saturating_add(memory.initial.saturating_mul(page));
            }
        }
    }
    total
}

/// Refuses a `--max-memory` below what the guest needs to start at all (a usage error naming
/// the figure), rather than letting it fail to load or instantiate with a message that hides
/// the cause.
pub fn check_initial_memory(bytes: &[u8], max: u64, path: &std::path::Path) -> anyhow::Result<()> {
    let needed = initial_memory(bytes);
    if needed <= max {
        return Ok(());
    }
    Err(crate::exit::UsageError {
        message: format!(
            "`{}` needs at least {needed} bytes of linear memory to start (its memories' initial \
             sizes, all together), more than --max-memory {max}",
            path.display()
        ),
        hint: format!(
            "raise the limit: --max-memory {}MiB or more",
            needed.div_ceil(1 << 20)
        ),
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3 fortnights").is_err());
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("65536"), Ok(65536));
        assert!(parse_size("lots").is_err());
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
    }

    #[test]
    fn every_limit_has_a_stated_maximum() {
        let too_long = parse_timeout("10000000000000000000s").expect_err("over a week");
        assert!(too_long.contains("maximum, 7d"), "{too_long}");
        assert_eq!(parse_timeout("7d"), Ok(MAX_TIMEOUT));
        assert!(parse_timeout("1e400").is_err());
        assert!(
            parse_server_wait("2h")
                .expect_err("over")
                .contains("maximum, 1h")
        );
        assert!(
            parse_debounce("6s")
                .expect_err("over")
                .contains("maximum, 5s")
        );
        assert!(
            parse_max_memory("2TiB")
                .expect_err("over")
                .contains("1.00 TiB")
        );
        assert_eq!(parse_fuel("9223372036854775807"), Ok(MAX_FUEL));
        assert!(
            parse_fuel("9223372036854775808")
                .expect_err("over")
                .contains("maximum")
        );
        assert!(parse_fuel("99999999999999999999999").is_err());
        assert!(parse_fuel("-1").is_err());
        assert!(parse_table_elements("4294967297").is_err());
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
    }
}
