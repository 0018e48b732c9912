//! `wasmforge dev`: build, serve (or run), watch the sources, rebuild and swap.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmforge_build::Profile;

use super::serve::{Built, ServeArgs};
use crate::cli::Format;
use crate::exit::ExitStatus;
use crate::host::http::{self, Server};
use crate::output::{self, Ctx};

/// Build, then serve or run, and rebuild on every change
///
/// Builds the project in PATH (debug unless --release; the target as `wasmforge build` would
/// choose it), then serves it when it is an HTTP component (as `wasmforge serve`) or runs it
/// when it is a command (as `wasmforge run`, with ARGS). It then watches the project's files
/// (not target/, VCS folders or editor swap files) and, a moment after they stop changing,
/// rebuilds:
/// - an HTTP component is swapped in for the next request; requests in flight finish on the
///   old one;
/// - a command is stopped if it still runs and started again;
/// - a build that fails prints its diagnosis, and the last good build keeps serving.
///
/// On an app (`[[app.service]]` in its wasmforge.toml) every service is built and served; a
/// change inside one service's folder rebuilds that service alone and swaps it in while the
/// others keep serving.
///
/// Ctrl-C, SIGTERM or SIGHUP stops (in-flight requests finish first, as with `serve`; a
/// command's run is stopped with `dev`, and is killed with it whatever ends `dev`).
///
/// Examples:
///   wasmforge dev                           the project here, on http://127.0.0.1:8080/
///   wasmforge dev api --addr 127.0.0.1:3000 --env LEVEL=debug
///   wasmforge dev tool -- --input data.txt  a command: rerun with these arguments on change
///   wasmforge dev shop                      an app of services
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The project folder
    #[arg(value_name = "PATH", default_value = ".")]
    path: PathBuf,

    /// Arguments for a command (put `--` before them)
    #[arg(value_name = "ARGS", last = true)]
    args: Vec<String>,

    #[command(flatten)]
    serve: ServeArgs,

    /// Build with the release profile
    #[arg(short, long)]
    release: bool,

    #[command(flatten)]
    build_target: super::flags::TargetArgs,

    /// The binary to build
    #[arg(long, value_name = "NAME")]
    bin: Option<String>,

    /// The package to build
    #[arg(short, long = "package", value_name = "SPEC")]
    package: Option<String>,

    /// How long the files must stay unchanged before a rebuild starts (at most 5s)
    #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = crate::host::limits::parse_debounce)]
    debounce: Duration,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    if !args.path.is_dir() {
        return Err(crate::exit::UsageError {
            message: format!("`{}` is not a project folder", args.path.display()),
            hint: "give the folder of a Rust, Go or C project; `wasmforge serve FILE` serves a \
                   built component"
                .into(),
        }
        .into());
    }
    if let Some(app) = super::app::load(&args.path)? {
        return serve_app(args, app, ctx);
    }
    // The flags are checked before the first build (granted folders exist, descriptors).
    let mut settings = args.serve.settings(ctx)?;
    settings.max_connections = http::connection_limit(&settings)?;
    let root = std::path::absolute(&args.path)?;
    let changes = watch(&root)?;
    // The first build must succeed before there is anything to serve: until it does, each
    // change is another try.
    let built = loop {
        match build(&args, ctx) {
            Ok(built) => break built,
            Err(err) => {
                report_failure(ctx, &err);
                waiting(ctx);
                wait_for_change(&changes, args.debounce);
            }
        }
    };
    if built.http {
        serve(args, settings, ctx, built, changes)
    } else {
        run_commands(args, ctx, built, changes)
    }
}

fn build(args: &Args, ctx: &Ctx) -> anyhow::Result<Built> {
    let profile = if args.release {
        Profile::Release
    } else {
        Profile::Dev
    };
    let started = Instant::now();
    let built = super::serve::build_project(
        &args.path,
        args.build_target.target,
        None,
        profile,
        args.package.as_deref(),
        args.bin.as_deref(),
        ctx,
    )?;
    event(
        ctx,
        "built",
        &format!(
            "{} in {:.1}s",
            built.path.display(),
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(built)
}

fn serve(
    args: Args,
    settings: http::Settings,
    ctx: &Ctx,
    built: Built,
    changes: Receiver<PathBuf>,
) -> anyhow::Result<ExitStatus> {
    let cache = !args.serve.no_cache;
    let engine = http::engine(&settings.limits, settings.max_concurrency, 1)?;
    let app = super::serve::load_app(&engine, &built.path, &settings, cache, None, ctx)?;
    let watcher_settings = settings.clone();
    let server = Server::new(engine, app, settings);
    let addr = args.serve.addr.clone();
    let watcher_server = Arc::clone(&server);
    let watcher_ctx = ctx.clone();
    super::serve::serve_until_stopped(server, &addr, ctx, move |handle| {
        let handle = handle.clone();
        // The watcher lives as long as the process: it ends with it.
        std::thread::spawn(move || {
            loop {
                let changed = wait_for_change(&changes, args.debounce);
                event(&watcher_ctx, "changed", &changed.display().to_string());
                let swapped = build(&args, &watcher_ctx).and_then(|built| {
                    let app = super::serve::load_app(
                        watcher_server.engine(),
                        &built.path,
                        &watcher_settings,
                        cache,
                        None,
                        &watcher_ctx,
                    )?;
                    handle.block_on(watcher_server.check(&watcher_server.services()[0], &app))?;
                    watcher_server.swap(app);
                    Ok(())
                });
                match swapped {
                    Ok(()) => event(&watcher_ctx, "swapped", "serving the new build"),
                    Err(err) => {
                        report_failure(&watcher_ctx, &err);
                        event(
                            &watcher_ctx,
                            "kept",
                            "serving the last good build; fix the error and save",
                        );
                    }
                }
            }
        });
    })
}

/// An app: every service built and served; a change inside a service's project folder
/// rebuilds that service alone and swaps it in (the others never stop serving); a failed
/// build keeps the service's last good one.
fn serve_app(args: Args, app: super::app::AppSpec, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    super::serve::refuse_project_flags(
        args.build_target.target.is_some(),
        args.bin.is_some(),
        args.package.is_some(),
    )?;
    if !args.args.is_empty() {
        return Err(crate::exit::UsageError {
            message: "arguments after `--` are for a command, and this folder is an app of HTTP \
                      services"
                .into(),
            hint: "leave them out".into(),
        }
        .into());
    }
    let profile = if args.release {
        Profile::Release
    } else {
        Profile::Dev
    };
    let root = std::path::absolute(&args.path)?;
    let changes = watch(&root)?;
    let started = Instant::now();
    let server = loop {
        match super::app::server(&app, &args.serve, profile.clone(), ctx) {
            Ok((server, _)) => break server,
            Err(err) => {
                report_failure(ctx, &err);
                waiting(ctx);
                wait_for_change(&changes, args.debounce);
            }
        }
    };
    event(
        ctx,
        "built",
        &format!(
            "{} services in {:.1}s",
            app.services.len(),
            started.elapsed().as_secs_f64()
        ),
    );
    let config = root.join(wasmforge_build::config::FILE_NAME);
    let watcher_server = Arc::clone(&server);
    let watcher_ctx = ctx.clone();
    let addr = args.serve.addr.clone();
    super::serve::serve_until_stopped(server, &addr, ctx, move |handle| {
        let handle = handle.clone();
        let ctx = watcher_ctx;
        std::thread::spawn(move || {
            loop {
                let changed = wait_for_change(&changes, args.debounce);
                let Some(spec) = super::app::owner_of(&app, &changed) else {
                    if changed == config {
                        event(
                            &ctx,
                            "kept",
                            "the app's wasmforge.toml changed: restart `wasmforge dev` to serve \
                             the new services and routes",
                        );
                    }
                    continue;
                };
                event(&ctx, "changed", &changed.display().to_string());
                let started = Instant::now();
                let swapped = super::app::artifact(spec, profile.clone(), &ctx).and_then(|path| {
                    let component = super::app::component(
                        watcher_server.engine(),
                        spec,
                        &path,
                        &args.serve,
                        None,
                        &ctx,
                    )?;
                    let service = watcher_server
                        .services()
                        .iter()
                        .find(|s| s.name == spec.name)
                        .ok_or_else(|| anyhow::anyhow!("no service `{}`", spec.name))?;
                    handle.block_on(watcher_server.check(service, &component))?;
                    service.swap(component);
                    Ok(())
                });
                match swapped {
                    Ok(()) => event(
                        &ctx,
                        "swapped",
                        &format!(
                            "service `{}` (rebuilt in {:.1}s; the others kept serving)",
                            spec.name,
                            started.elapsed().as_secs_f64()
                        ),
                    ),
                    Err(err) => {
                        report_failure(&ctx, &err);
                        event(
                            &ctx,
                            "kept",
                            &format!(
                                "service `{}`'s last good build; fix the error and save",
                                spec.name
                            ),
                        );
                    }
                }
            }
        });
    })
}

/// The command's run, shared with the signal watcher: whoever ends `dev` ends it first.
type Running = Arc<Mutex<Option<std::process::Child>>>;

/// Commands: run, and on a change stop the run if it is still going, rebuild and run again.
/// The run is a child process that never outlives `dev`: a signal to `dev` stops it first, and
/// the child itself is killed by the kernel when `dev` dies any other way (Linux).
fn run_commands(
    args: Args,
    ctx: &Ctx,
    mut built: Built,
    changes: Receiver<PathBuf>,
) -> anyhow::Result<ExitStatus> {
    let running: Running = Arc::new(Mutex::new(None));
    stop_with_signals(Arc::clone(&running), ctx.clone())?;
    loop {
        let child = spawn_run(&args, &built.path, ctx)?;
        *lock(&running) = Some(child);
        let changed = loop {
            match changes.recv_timeout(Duration::from_millis(100)) {
                Ok(path) => break settle(&changes, path, args.debounce),
                Err(RecvTimeoutError::Timeout) => {
                    let mut slot = lock(&running);
                    let exited = slot.as_mut().and_then(|c| c.try_wait().ok().flatten());
                    if let Some(status) = exited {
                        *slot = None;
                        drop(slot);
                        event(ctx, "exited", &describe_exit(status));
                        waiting(ctx);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    stop_run(&running);
                    anyhow::bail!("watching the project's files stopped")
                }
            }
        };
        if stop_run(&running) {
            event(ctx, "stopped", "the run (a file changed)");
        }
        event(ctx, "changed", &changed.display().to_string());
        // A failed build keeps the last good one: it runs again on the next change.
        loop {
            match build(&args, ctx) {
                Ok(next) => {
                    built = next;
                    break;
                }
                Err(err) => {
                    report_failure(ctx, &err);
                    waiting(ctx);
                    let changed = wait_for_change(&changes, args.debounce);
                    event(ctx, "changed", &changed.display().to_string());
                }
            }
        }
    }
}

fn lock(running: &Running) -> std::sync::MutexGuard<'_, Option<std::process::Child>> {
    running.lock().unwrap_or_else(|p| p.into_inner())
}

/// Stops the command's run if it is still going; whether it was.
fn stop_run(running: &Running) -> bool {
    match lock(running).take() {
        Some(mut child) => {
            let _ = child.kill();
            let _ = child.wait();
            true
        }
        None => false,
    }
}

/// Ctrl-C, SIGTERM or SIGHUP stop the command's run, then `dev` (exit 0, as `serve` after a
/// clean stop).
fn stop_with_signals(running: Running, ctx: Ctx) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("could not start the async runtime: {e}"))?;
    // Listened to from now on: a signal before the first run already stops it.
    let mut signals = {
        let _entered = runtime.enter();
        http::Signals::new()?
    };
    std::thread::spawn(move || {
        runtime.block_on(signals.next());
        if stop_run(&running) {
            event(&ctx, "stopped", "the run (dev was asked to stop)");
        }
        std::process::exit(0);
    });
    Ok(())
}

/// `wasmforge run FILE ARGS` as a child process, with `dev`'s grants and limits, so a change
/// can stop it. It is told to die with `dev`.
fn spawn_run(args: &Args, path: &Path, ctx: &Ctx) -> anyhow::Result<std::process::Child> {
    let exe = std::env::current_exe()?;
    let mut run = wasmforge_build::process::Tool::new(exe, "");
    run.arg("run")
        .arg("--die-with-parent")
        .arg(std::process::id().to_string());
    if ctx.quiet {
        run.arg("--quiet");
    }
    let s = &args.serve;
    run.args(s.grants.to_args()).args(s.limits.to_args());
    if s.no_cache {
        run.arg("--no-cache");
    }
    run.arg("--").arg(path).args(&args.args);
    event(ctx, "running", &path.display().to_string());
    Ok(run.spawn(
        &crate::reporter::TermReporter::new(ctx),
        wasmforge_build::process::Io::Inherit,
    )?)
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => "ended by a signal".into(),
    }
}

fn report_failure(ctx: &Ctx, err: &anyhow::Error) {
    if ctx.format == Format::Json {
        http::json_line(&serde_json::json!({
            "event": "failed",
            "message": format!("{err:#}"),
        }));
    } else {
        output::report_error(ctx, err);
    }
}

fn waiting(ctx: &Ctx) {
    event(ctx, "waiting", "for a change");
}

/// A status line (`Built`, `Swapped`, …), or a JSON Lines event with --format json.
fn event(ctx: &Ctx, name: &str, detail: &str) {
    if ctx.format == Format::Json {
        http::json_line(&serde_json::json!({ "event": name, "detail": detail }));
    } else {
        let verb = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
        ctx.status(&verb, &output::untrusted(detail));
    }
}

/// Watches `root` recursively; the receiver hears each changed path that matters.
fn watch(root: &Path) -> anyhow::Result<Receiver<PathBuf>> {
    use notify::{EventKind, RecursiveMode, Watcher as _};
    let (sender, receiver) = std::sync::mpsc::channel();
    let base = root.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_) | EventKind::Other)
            || matches!(
                event.kind,
                EventKind::Modify(notify::event::ModifyKind::Metadata(_))
            )
        {
            return;
        }
        for path in event.paths {
            if relevant(&base, &path) {
                let _ = sender.send(path);
            }
        }
    })
    .map_err(|e| anyhow::anyhow!("could not watch `{}`: {e}", root.display()))?;
    watcher.watch(root, RecursiveMode::Recursive).map_err(|e| {
        anyhow::anyhow!(
            "could not watch `{}`: {e} (on Linux, raise fs.inotify.max_user_watches)",
            root.display()
        )
    })?;
    // The watcher stops when dropped; dev watches until the process ends.
    std::mem::forget(watcher);
    Ok(receiver)
}

/// Whether a change to `path` should rebuild: not in build output, VCS folders or dependency
/// folders, not an editor's swap or backup file, not a lock file the build itself writes.
fn relevant(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    // cargo creates the target folder through a temporary `targetXXXXXX` beside it.
    let first = relative
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default();
    if first.len() == "target".len() + 6
        && first
            .strip_prefix("target")
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return false;
    }
    let skipped_dir = relative.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("target" | ".git" | ".hg" | ".svn" | ".jj" | "node_modules" | ".idea" | ".vscode")
        )
    });
    if skipped_dir {
        return false;
    }
    let name = relative
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let editor_file = name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.starts_with(".#")
        || name == "4913";
    !(editor_file || matches!(name, "Cargo.lock" | "go.sum" | ""))
}

/// Blocks until a relevant change, then until the files have been quiet for `debounce`.
fn wait_for_change(changes: &Receiver<PathBuf>, debounce: Duration) -> PathBuf {
    match changes.recv() {
        Ok(path) => settle(changes, path, debounce),
        // The watcher is gone (it never is while the process lives): nothing more will come.
        Err(_) => loop {
            std::thread::park();
        },
    }
}

/// Drains the changes that follow `first` until none came for `debounce` (at most 5 s, so a
/// file written without pause still gets built), and returns the last: an editor that writes a
/// temporary file and renames it over the source ends with the source's name.
fn settle(changes: &Receiver<PathBuf>, first: PathBuf, debounce: Duration) -> PathBuf {
    let limit = Instant::now() + Duration::from_secs(5);
    let mut last = first;
    while Instant::now() < limit {
        match changes.recv_timeout(debounce) {
            Ok(path) => last = path,
            Err(_) => break,
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_output_vcs_and_editor_files_do_not_rebuild() {
        let root = Path::new("/p");
        assert!(relevant(root, Path::new("/p/src/main.rs")));
        assert!(relevant(root, Path::new("/p/Cargo.toml")));
        assert!(relevant(root, Path::new("/p/wit/world.wit")));
        assert!(!relevant(root, Path::new("/p/target/debug/x.wasm")));
        assert!(!relevant(root, Path::new("/p/targetRRjT5l")));
        assert!(!relevant(root, Path::new("/p/targetRRjT5l/debug")));
        assert!(relevant(root, Path::new("/p/targets.rs")));
        assert!(!relevant(root, Path::new("/p/.git/index")));
        assert!(!relevant(root, Path::new("/p/src/.main.rs.swp")));
        assert!(!relevant(root, Path::new("/p/src/main.rs~")));
        assert!(!relevant(root, Path::new("/p/src/4913")));
        assert!(!relevant(root, Path::new("/p/Cargo.lock")));
        assert!(!relevant(root, Path::new("/elsewhere/a.rs")));
    }

    #[test]
    fn a_burst_of_changes_is_one_rebuild() {
        let (sender, receiver) = std::sync::mpsc::channel();
        for i in 0..5 {
            sender.send(PathBuf::from(format!("/p/{i}"))).expect("send");
        }
        let last = wait_for_change(&receiver, Duration::from_millis(50));
        assert_eq!(last, PathBuf::from("/p/4"));
        assert!(receiver.try_recv().is_err(), "the burst was drained");
    }
}
