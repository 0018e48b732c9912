//! Full validation (wasmparser, every standard feature of Wasm 3.0 unless narrowed) and target
//! profiles: checks that a module fits where it will run. Every problem is reported, not just
//! the first.

use crate::text::Untrusted;
use std::str::FromStr;

use wasmparser::{
    BinaryReaderError, FuncToValidate, FuncValidatorAllocations, FunctionBody, Parser, Payload,
    ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

/// Where the module will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Core module with `_start` and `memory`, importing only `wasi_snapshot_preview1`.
    Wasip1Command,
    /// Core module without `_start`, importing only `wasi_snapshot_preview1`.
    Wasip1Library,
    /// Component importing only `wasi:*@0.2.x` and exporting `wasi:cli/run`.
    Wasip2,
    /// Component importing only `wasi:*@0.2.x` (and its world's imports) and exporting
    /// something: a plugin.
    Wasip2Library,
    /// Core module with no WASI imports.
    Unknown,
}

impl Profile {
    pub const ALL: [Profile; 5] = [
        Profile::Wasip1Command,
        Profile::Wasip1Library,
        Profile::Wasip2,
        Profile::Wasip2Library,
        Profile::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Wasip1Command => "wasip1-command",
            Profile::Wasip1Library => "wasip1-library",
            Profile::Wasip2 => "wasip2",
            Profile::Wasip2Library => "wasip2-library",
            Profile::Unknown => "unknown",
        }
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown profile `{s}`: use wasip1-command, wasip1-library, wasip2, wasip2-library or unknown"
                )
            })
    }
}

/// A validation error with where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Invalid {
    /// Byte offset in the file.
    pub offset: usize,
    pub message: String,
}

/// What `validate` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub valid: bool,
    /// `module` or `component`.
    pub kind: &'static str,
    pub size: u64,
    /// The validation error, when the binary is not valid.
    pub error: Option<Invalid>,
    /// The profile checked, if any.
    pub profile: Option<Profile>,
    /// Every way the module does not fit the profile or the size budget.
    pub problems: Vec<String>,
    /// The post-MVP features a valid core module uses (`simd`, `bulk-memory`, …): what a host
    /// must support to run it. Empty for components and invalid modules.
    pub features: Vec<&'static str>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.valid && self.problems.is_empty()
    }
}

/// Options of a validation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `None`: every Wasm 3.0 feature.
    pub features: Option<WasmFeatures>,
    pub profile: Option<Profile>,
    pub max_size: Option<u64>,
    /// Import modules (core) or interface prefixes (components) a profile also allows.
    pub allow_imports: Vec<String>,
}

/// Parses `64MiB`, `1GiB`, `512K`, `100000` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 64MiB, 1GiB, 65536"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use KiB, MiB, GiB or TiB"
            ));
        }
    };
    value
        .checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// The features of Wasm 3.0, the default set.
pub fn standard_features() -> WasmFeatures {
    WasmFeatures::WASM3
}

/// Parses `--features` names (wasmparser's flag names, e.g. `simd,bulk_memory`) on top of the
/// MVP; `wasm1`, `wasm2`, `wasm3` name whole versions.
pub fn parse_features(list: &str) -> Result<WasmFeatures, String> {
    let mut features = WasmFeatures::empty();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let name = name.replace('-', "_");
        features |= match name.as_str() {
            "wasm1" | "mvp" => WasmFeatures::WASM1,
            "wasm2" => WasmFeatures::WASM2,
            "wasm3" => WasmFeatures::WASM3,
            _ => WasmFeatures::from_name(&name.to_ascii_uppercase()).ok_or_else(|| {
                format!(
                    "unknown feature `{name}` (e.g. simd, bulk_memory, reference_types, threads)"
                )
            })?,
        };
    }
    Ok(features)
}

/// Function bodies (in file order) waiting to be validated.
type Bodies<'a> = Vec<(FuncToValidate<ValidatorResources>, FunctionBody<'a>)>;

/// Below this many bytes of function bodies in a code section, threads cost more than they save.
const PARALLEL_BODY_BYTES: usize = 256 * 1024;
/// Runs of function bodies per thread: enough that a thread done early takes over more work.
const RUNS_PER_THREAD: usize = 8;

/// Validates like wasmparser's `Validator::validate_all`, with the function bodies (most of the
/// work) checked on every core, as `wasm-tools validate` does, and checked while the rest of the
/// file is still being read. The error is the one `validate_all` reports: a structural error
/// first (it checks bodies only after the whole file has been read), else the first body in the
/// file that fails.
pub fn validate_all(bytes: &[u8], features: WasmFeatures) -> Result<(), BinaryReaderError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    validate_all_on(bytes, features, threads, PARALLEL_BODY_BYTES)
}

fn validate_all_on(
    bytes: &[u8],
    features: WasmFeatures,
    threads: usize,
    min_parallel_bytes: usize,
) -> Result<(), BinaryReaderError> {
    let queue = Queue::default();
    std::thread::scope(|scope| {
        // Should anything below panic, the threads still stop (the scope waits for them).
        let _stop = StopOnDrop(&queue);
        let mut validator = Validator::new_with_features(features);
        let mut parser = Parser::new(0);
        parser.set_features(features);
        // Bodies of small code sections, checked in order at the end (no threads).
        let mut in_order: Bodies<'_> = Vec::new();
        // The run being filled, and the size at which it goes to the threads (0: in order).
        let mut run: Bodies<'_> = Vec::new();
        let (mut filled, mut share) = (0, 0);
        let mut workers = Vec::new();
        let structure = (|| {
            for payload in parser.parse_all(bytes) {
                let payload = payload?;
                if let Payload::CodeSectionStart { size, .. } = &payload {
                    let size = *size as usize;
                    share = if threads >= 2 && size >= min_parallel_bytes {
                        size.div_ceil(threads * RUNS_PER_THREAD).max(1)
                    } else {
                        0
                    };
                    if share > 0 && workers.is_empty() {
                        workers.extend((1..threads).map(|_| scope.spawn(|| queue.work())));
                    }
                }
                match validator.payload(&payload)? {
                    ValidPayload::Func(func, body) if share > 0 => {
                        filled += body.range().len();
                        run.push((func, body));
                        if filled >= share {
                            queue.push(std::mem::take(&mut run));
                            filled = 0;
                        }
                    }
                    ValidPayload::Func(func, body) => in_order.push((func, body)),
                    _ if !run.is_empty() => {
                        // The code section ended.
                        queue.push(std::mem::take(&mut run));
                        filled = 0;
                    }
                    _ => {}
                }
            }
            if !run.is_empty() {
                queue.push(std::mem::take(&mut run));
            }
            Ok(())
        })();
        structure?; // a structural error first: `_stop` cancels the runs left
        queue.close();
        queue.work();
        for worker in workers {
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        // The first failing body in the file: the runs' earliest error or the small sections'
        // (a component's modules each have a code section), whichever comes first.
        let threaded = queue.first_error();
        let small = check_in_order(in_order).err();
        match (threaded, small) {
            (Some(a), Some(b)) => Err(if a.offset() <= b.offset() { a } else { b }),
            (Some(err), None) | (None, Some(err)) => Err(err),
            (None, None) => Ok(()),
        }
    })
}

struct StopOnDrop<'q, 'a>(&'q Queue<'a>);

impl Drop for StopOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs of function bodies handed from the thread reading the file to the threads checking
/// them, numbered in file order. Each run stops at its first error; a run after one that failed
/// is skipped; the error kept is the earliest run's, the same as a check in order would give.
#[derive(Default)]
struct Queue<'a> {
    state: std::sync::Mutex<QueueState<'a>>,
    ready: std::sync::Condvar,
}

#[derive(Default)]
struct QueueState<'a> {
    runs: std::collections::VecDeque<(usize, Bodies<'a>)>,
    pushed: usize,
    /// No more runs will come.
    closed: bool,
    /// The earliest failed run, and its error.
    failed: Option<(usize, BinaryReaderError)>,
}

impl<'a> Queue<'a> {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState<'a>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, run: Bodies<'a>) {
        let mut state = self.lock();
        let index = state.pushed;
        state.pushed += 1;
        state.runs.push_back((index, run));
        drop(state);
        self.ready.notify_one();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// The file is invalid: the runs left need no checking.
    fn cancel(&self) {
        let mut state = self.lock();
        state.runs.clear();
        state.closed = true;
        drop(state);
        self.ready.notify_all();
    }

    /// Checks runs until the queue is closed and empty.
    fn work(&self) {
        loop {
            let (index, run) = {
                let mut state = self.lock();
                loop {
                    if let Some(next) = state.runs.pop_front() {
                        break next;
                    }
                    if state.closed {
                        return;
                    }
                    state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
                }
            };
            if self
                .lock()
                .failed
                .as_ref()
                .is_some_and(|(at, _)| *at < index)
            {
                continue;
            }
            if let Err(err) = check_in_order(run) {
                let mut state = self.lock();
                if state.failed.as_ref().is_none_or(|(at, _)| index < *at) {
                    state.failed = Some((index, err));
                }
            }
        }
    }

    fn first_error(&self) -> Option<BinaryReaderError> {
        self.lock().failed.take().map(|(_, err)| err)
    }
}

fn check_in_order(bodies: Bodies<'_>) -> Result<(), BinaryReaderError> {
    let mut allocations = FuncValidatorAllocations::default();
    for (func, body) in bodies {
        let mut validator = func.into_validator(allocations);
        validator.validate(&body)?;
        allocations = validator.into_allocations();
    }
    Ok(())
}

/// Validates `bytes` and checks the profile and size budget.
pub fn validate(bytes: &[u8], options: &Options) -> Report {
    let kind = if Parser::is_component(bytes) {
        "component"
    } else {
        "module"
    };
    let mut report = Report {
        valid: true,
        kind,
        size: bytes.len() as u64,
        error: None,
        profile: options.profile,
        problems: Vec::new(),
        features: Vec::new(),
    };
    let mut features = options.features.unwrap_or_else(standard_features);
    if Parser::is_component(bytes) {
        features |= WasmFeatures::COMPONENT_MODEL;
    }
    if let Err(err) = validate_all(bytes, features) {
        report.valid = false;
        report.error = Some(Invalid {
            offset: err.offset(),
            message: err.message().to_string(),
        });
    }
    if let Some(max) = options.max_size
        && report.size > max
    {
        report.problems.push(format!(
            "the file is {} bytes, over the budget of {max} bytes",
            report.size
        ));
    }
    if let (Some(profile), true) = (options.profile, report.valid) {
        check_profile(bytes, profile, &options.allow_imports, &mut report.problems);
    }
    if report.valid && kind == "module" {
        report.features = crate::wasm::features::detect(bytes)
            .map(|set| set.into_iter().collect())
            .unwrap_or_default();
    }
    report
}

/// The functions of `wasi_snapshot_preview1` (its witx, as Wasmtime implements it).
pub const WASI_P1_FUNCTIONS: [&str; 46] = [
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

fn check_profile(bytes: &[u8], profile: Profile, allowed: &[String], problems: &mut Vec<String>) {
    let component = Parser::is_component(bytes);
    match (profile, component) {
        (Profile::Wasip2 | Profile::Wasip2Library, false) => {
            problems.push(format!(
                "{} needs a component, and this is a core module (build with --target wasip2)",
                profile.name()
            ));
            return;
        }
        (Profile::Wasip1Command | Profile::Wasip1Library | Profile::Unknown, true) => {
            problems.push(format!(
                "{} needs a core module, and this is a component",
                profile.name()
            ));
            return;
        }
        _ => {}
    }
    let allowed_import = |name: &str| {
        allowed
            .iter()
            .any(|a| name == a || name.starts_with(&format!("{a}/")))
    };
    if component {
        let (imports, exports) = component_names(bytes);
        for import in &imports {
            let wasi_02 = import.starts_with("wasi:") && import.contains("@0.2.");
            if !wasi_02 && !allowed_import(import) {
                problems.push(format!(
                    "imports `{}`, which is not a WASI 0.2 interface",
                    Untrusted(import)
                ));
            }
        }
        if profile == Profile::Wasip2Library {
            if exports.is_empty() {
                problems.push("exports nothing, so a host has nothing to call".into());
            }
        } else if !exports.iter().any(|e| e.starts_with("wasi:cli/run@0.2.")) {
            problems.push("does not export `wasi:cli/run@0.2.x`, so it is not a command".into());
        }
        return;
    }
    let (imports, exports) = core_names(bytes);
    for (module, name) in &imports {
        let is_wasi = module.starts_with("wasi");
        let fine = match profile {
            Profile::Unknown => !is_wasi,
            _ => module == "wasi_snapshot_preview1" && WASI_P1_FUNCTIONS.contains(&name.as_str()),
        } || allowed_import(module);
        if !fine {
            let why = match profile {
                Profile::Unknown => "a WASI import, which a bare host does not provide",
                _ if module == "wasi_snapshot_preview1" => {
                    "WASI preview 1 has no such function (no host can link it)"
                }
                _ => "not part of WASI preview 1",
            };
            problems.push(format!(
                "imports `{}::{}`: {why}",
                Untrusted(module),
                Untrusted(name)
            ));
        }
    }
    let exported = |name: &str| exports.iter().any(|e| e == name);
    match profile {
        Profile::Wasip1Command => {
            if !exported("_start") {
                problems.push("does not export `_start`, so it is not a command".into());
            }
            if !exported("memory") {
                problems.push("does not export `memory`, which WASI needs to pass data".into());
            }
        }
        Profile::Wasip1Library => {
            if exported("_start") {
                problems.push(
                    "exports `_start`: a library is called through its exports, not run".into(),
                );
            }
            if !exports.iter().any(|e| !e.starts_with('_') && e != "memory") {
                problems.push("exports no functions for a host to call".into());
            }
            if !exported("memory")
                && imports
                    .iter()
                    .any(|(module, _)| module == "wasi_snapshot_preview1")
            {
                problems.push(
                    "imports WASI but does not export `memory`, which WASI needs to pass data"
                        .into(),
                );
            }
        }
        Profile::Unknown | Profile::Wasip2 | Profile::Wasip2Library => {}
    }
}

fn core_names(bytes: &[u8]) -> (Vec<(String, String)>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    for payload in Parser::new(0).parse_all(bytes).map_while(Result::ok) {
        match payload {
            Payload::ImportSection(reader) => {
                imports.extend(
                    reader
                        .into_imports()
                        .flatten()
                        .map(|i| (i.module.to_string(), i.name.to_string())),
                );
            }
            Payload::ExportSection(reader) => {
                exports.extend(reader.into_iter().flatten().map(|e| e.name.to_string()))
            }
            _ => {}
        }
    }
    (imports, exports)
}

fn component_names(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes).map_while(Result::ok) {
        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                imports.extend(
                    reader
                        .into_iter()
                        .flatten()
                        .map(|i| i.name.name.to_string()),
                );
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                exports.extend(
                    reader
                        .into_iter()
                        .flatten()
                        .map(|e| e.name.name.to_string()),
                );
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bodies checked on threads give wasmparser's own verdict and error, for generated modules
    /// and for their bytes mutated (most errors land in function bodies, several per module).
    #[test]
    fn parallel_validation_reports_what_validate_all_reports() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let features = standard_features();
        let (mut compared, mut errors) = (0, 0);
        for _ in 0..300 {
            let data: Vec<u8> = (0..8192).map(|_| next() as u8).collect();
            let mut u = arbitrary::Unstructured::new(&data);
            let Ok(module) = wasm_smith::Module::new(wasm_smith::Config::default(), &mut u) else {
                continue;
            };
            let original = module.to_bytes();
            for round in 0..4 {
                let mut bytes = original.clone();
                for _ in 0..round * 3 {
                    // Mutations past the header, mostly into the code section at the end.
                    let at = 8 + (next() as usize) % (bytes.len().saturating_sub(8).max(1));
                    if at < bytes.len() {
                        bytes[at] = next() as u8;
                    }
                }
                let theirs = Validator::new_with_features(features)
                    .validate_all(&bytes)
                    .map(|_| ())
                    .map_err(|e| (e.offset(), e.message().to_string()));
                for threads in [2, 3, 8] {
                    let ours = validate_all_on(&bytes, features, threads, 0)
                        .map_err(|e| (e.offset(), e.message().to_string()));
                    assert_eq!(ours, theirs, "{threads} threads");
                }
                compared += 1;
                errors += usize::from(theirs.is_err());
            }
        }
        assert!(
            compared > 400 && errors > 100,
            "{compared} compared, {errors} errors"
        );
    }

    /// A component's core modules each have a code section: a small one is checked in order, a
    /// large one on the threads, and the error is still the first failing body in the file.
    #[test]
    fn components_mix_small_and_threaded_code_sections() {
        let small = |body: &str| format!("(core module (func (result i32) {body}))");
        let large = |bad: Option<usize>| {
            let funcs: String = (0..64)
                .map(|i| {
                    let body = if bad == Some(i) {
                        "i64.const 1"
                    } else {
                        "i32.const 1"
                    };
                    format!("(func (result i32) {body} i32.const {i} i32.add)")
                })
                .collect();
            format!("(core module {funcs})")
        };
        let features = standard_features() | WasmFeatures::COMPONENT_MODEL;
        let cases = [
            (small("i32.const 0"), large(None)),
            (small("f32.const 0"), large(Some(3))),
            (small("i32.const 0"), large(Some(40))),
            (large(Some(10)), small("f32.const 0")),
            (large(None), small("f32.const 0")),
        ];
        let mut failing = 0;
        for (first, second) in &cases {
            let bytes = wat::parse_str(format!("(component {first} {second})")).expect("wat");
            let theirs = Validator::new_with_features(features)
                .validate_all(&bytes)
                .map(|_| ())
                .map_err(|e| (e.offset(), e.message().to_string()));
            failing += usize::from(theirs.is_err());
            // 100 bytes: the 64-function module goes to the threads, the one-function one not.
            for (threads, min) in [(1, 0), (2, 0), (2, 100), (3, 100), (2, usize::MAX)] {
                let ours = validate_all_on(&bytes, features, threads, min)
                    .map_err(|e| (e.offset(), e.message().to_string()));
                assert_eq!(ours, theirs, "{first} {second}: {threads} threads, {min}");
            }
        }
        assert_eq!(failing, 4);
    }

    fn module(wat: &str) -> Vec<u8> {
        wat::parse_str(wat).expect("wat")
    }

    fn problems(bytes: &[u8], profile: Profile) -> Vec<String> {
        validate(
            bytes,
            &Options {
                profile: Some(profile),
                ..Options::default()
            },
        )
        .problems
    }

    #[test]
    fn invalid_code_names_its_offset() {
        let bytes = module("(module (func (result i32) i64.const 1))");
        let report = validate(&bytes, &Options::default());
        let error = report.error.expect("invalid");
        assert!(error.message.contains("type mismatch"), "{error:?}");
        assert!(error.offset > 8 && error.offset < bytes.len());
        let truncated = &bytes[..bytes.len() - 3];
        assert!(!validate(truncated, &Options::default()).valid);
    }

    #[test]
    fn each_profile_passes_and_fails() {
        let command = module(
            r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
                 (memory (export "memory") 1) (func (export "_start")))"#,
        );
        assert!(problems(&command, Profile::Wasip1Command).is_empty());
        let lib = module(r#"(module (memory (export "memory") 1) (func (export "add")))"#);
        assert!(problems(&lib, Profile::Wasip1Library).is_empty());
        assert!(problems(&lib, Profile::Unknown).is_empty());
        let all = problems(&lib, Profile::Wasip1Command);
        assert_eq!(all.len(), 1, "{all:?}");

        let bad = module(
            r#"(module (import "env" "log" (func)) (import "wasi_snapshot_preview1" "fd_write" (func)))"#,
        );
        let found = problems(&bad, Profile::Wasip1Command);
        assert_eq!(found.len(), 3, "every problem is listed: {found:?}");
        assert!(found[0].contains("env::log"));
        let found = problems(&bad, Profile::Unknown);
        assert_eq!(
            found,
            [
                "imports `wasi_snapshot_preview1::fd_write`: a WASI import, which a bare host does not provide"
            ]
        );
        let widened = validate(
            &bad,
            &Options {
                profile: Some(Profile::Wasip1Library),
                allow_imports: vec!["env".into()],
                ..Options::default()
            },
        );
        assert!(
            !widened.problems.iter().any(|p| p.contains("env::log")),
            "{:?}",
            widened.problems
        );
        assert_eq!(problems(&command, Profile::Wasip2).len(), 1);
    }

    #[test]
    fn size_budget_and_feature_narrowing() {
        let simd = module("(module (func (result v128) v128.const i64x2 0 0))");
        let report = validate(
            &simd,
            &Options {
                max_size: Some(10),
                ..Options::default()
            },
        );
        assert!(report.valid && !report.ok());
        let narrowed = Options {
            features: Some(parse_features("wasm1").expect("names")),
            ..Options::default()
        };
        assert!(!validate(&simd, &narrowed).valid);
        assert!(parse_features("simd, bulk-memory").is_ok());
        assert!(parse_features("warp-drive").is_err());
    }
}
