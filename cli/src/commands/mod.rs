//! One module per subcommand, each with its `Args` and `run`.

pub mod app;
pub mod build;
pub mod cache;
pub mod completions;
pub mod compose;
pub mod containerd;
pub mod deploy;
pub mod dev;
pub mod doctor;
pub mod explain;
pub mod flags;
pub mod inspect;
pub mod login;
pub mod new;
pub mod opt;
pub mod precompile;
pub mod pull;
pub mod push;
pub mod run;
pub mod serve;
pub mod strip;
pub mod test;
pub mod validate;
pub mod wit;

use crate::cli::Command;
use crate::exit::ExitStatus;
use crate::output::Ctx;

pub fn run(command: Command, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    if ctx.ci_format.is_some() && !matches!(command, Command::Doctor(_)) {
        return Err(crate::exit::UsageError {
            message: "--format sarif, github and gitlab are reports of `wasmforge doctor`".into(),
            hint: "this command takes --format human or json".into(),
        }
        .into());
    }
    let uses_cache = matches!(
        command,
        Command::Doctor(_)
            | Command::Push(_)
            | Command::Build(_)
            | Command::Run(_)
            | Command::Test(_)
            | Command::Serve(_)
            | Command::Dev(_)
            | Command::Opt(_)
            | Command::Cache(cache::CacheCommand::Warm { .. })
    );
    if uses_cache && let Some(root) = wasmforge_build::cache::foreign_root() {
        ctx.warning(&format!(
            "the cache folder `{}` holds files wasmforge did not make and no {}: it is not used \
             as a cache (nothing is cached this time); point WASMFORGE_CACHE_DIR at a new or \
             empty folder",
            root.display(),
            wasmforge_build::cache::TAG_FILE
        ));
    }
    match command {
        Command::Doctor(args) => doctor::run(args, ctx),
        Command::Explain(args) => explain::run(args, ctx),
        Command::Push(args) => push::run(args, ctx),
        Command::Deploy(args) => deploy::run(args, ctx),
        Command::Pull(args) => pull::run(args, ctx),
        Command::New(args) => new::run(args, ctx),
        Command::Login(args) => login::login(args, ctx),
        Command::Logout(args) => login::logout(args, ctx),
        Command::Build(args) => build::run(args, ctx),
        Command::Run(args) => run::run(args, ctx),
        Command::Test(args) => test::run(args, ctx),
        Command::Serve(args) => serve::run(args, ctx),
        Command::Dev(args) => dev::run(args, ctx),
        Command::Opt(args) => opt::run(args, ctx),
        Command::Validate(args) => validate::run(args, ctx),
        Command::Inspect(args) => inspect::run(args, ctx),
        Command::Wit(args) => wit::run(args, ctx),
        Command::Compose(args) => compose::run(args, ctx),
        Command::Strip(args) => strip::run(args, ctx),
        Command::Precompile(args) => precompile::run(args, ctx),
        Command::Cache(command) => cache::run(command, ctx),
        Command::Completions(args) => completions::run(args, ctx),
    }
}

/// Reads a module for the binary-level commands: a missing path is a usage error (exit 2), a
/// folder or an unreadable file an error naming it.
pub fn read_input(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    if !path.exists() {
        return Err(wasmforge_build::Error::PathNotFound {
            path: path.to_owned(),
        }
        .into());
    }
    if path.is_dir() {
        return Err(crate::exit::UsageError {
            message: format!("`{}` is a folder, not a module", path.display()),
            hint: "give a .wasm (or .wat) file; `wasmforge build` makes one from a project folder"
                .into(),
        }
        .into());
    }
    let bytes =
        read_file(path).map_err(|e| anyhow::anyhow!("could not read `{}`: {e}", path.display()))?;
    parse_input(path, bytes)
}

/// From this size on, a file is read into memory backed by huge pages where the kernel gives
/// them on request.
const HUGE_PAGE_READ: usize = 8 << 20;

/// Reads a whole file, as `std::fs::read` does. A large one (a debug build of a big program
/// runs to tens of MB) goes into memory advised for transparent huge pages (Linux, where
/// `transparent_hugepage` is `madvise`, Debian's default): the kernel then fills it 2 MiB at a
/// time instead of taking a fault for every 4 KiB page, which was a fifth of `validate`'s time
/// on a 40 MB module.
#[cfg_attr(
    target_os = "linux",
    expect(
        unsafe_code,
        reason = "madvise on the Vec's own, still untouched allocation: advice, not access"
    )
)]
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    if len < HUGE_PAGE_READ {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        return Ok(bytes);
    }
    let mut bytes: Vec<u8> = Vec::new();
    bytes
        .try_reserve_exact(len.saturating_add(1))
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::OutOfMemory, e.to_string()))?;
    #[cfg(target_os = "linux")]
    {
        // madvise takes whole pages: from the first page boundary in the allocation.
        let skip = bytes.as_ptr().align_offset(4096);
        let start = bytes.as_mut_ptr().wrapping_add(skip);
        // SAFETY: the range is the Vec's own allocation, not yet read from or written to; the
        // advice changes how the kernel backs it, never its contents. A kernel without huge
        // pages says no, and the read goes on as usual.
        let _only_a_hint = unsafe {
            rustix::mm::madvise(
                start.cast(),
                bytes.capacity().saturating_sub(skip),
                rustix::mm::Advice::LinuxHugepage,
            )
        };
    }
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Writes a binary result to `path` (atomically, through a symlink), but never over
/// hand-written WebAssembly text: `strip a.wat` or `opt --in-place a.wat` would replace the source
/// with binary.
pub fn write_binary(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let target = wasmforge_build::files::through_links(path);
    if let Ok(existing) = std::fs::read(&target)
        && looks_like_text(&existing)
    {
        return Err(crate::exit::Refused {
            message: format!(
                "`{}` is WebAssembly text: writing the binary result over it would lose the source",
                path.display()
            ),
            hint: format!(
                "write the result to another file, e.g. `-o {}`",
                path.with_extension("wasm").display()
            ),
        }
        .into());
    }
    wasmforge_build::files::write_atomic(path, bytes)?;
    Ok(())
}

/// Turns a file's bytes into a binary module or component: text is assembled (as wasm-tools and
/// the Wasmtime CLI accept it), anything without a WebAssembly header is an error naming the file.
pub fn parse_input(path: &std::path::Path, bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    let bytes = if looks_like_text(&bytes) {
        wat::parse_bytes(&bytes)
            .map_err(|e| {
                anyhow::anyhow!("`{}` is not valid WebAssembly text: {e}", path.display())
            })?
            .into_owned()
    } else {
        bytes
    };
    wasmforge_build::artifact::Encoding::of(&bytes, path)?;
    Ok(bytes)
}

/// WebAssembly text starts with `(` or a `;;` comment (after white space).
fn looks_like_text(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &bytes[i..])
        .unwrap_or(&[]);
    start.starts_with(b"(") || start.starts_with(b";;")
}
