//! Rust's failures in compiler output (rustc, cargo, cc-rs build scripts), one line at a time.

use crate::diagnostics::Diagnostic;
use crate::diagnostics::stderr::{Context, Line, Rule, between, crate_at, with_place};

/// Rust's rules, each a small function of one line of compiler output, tried in
/// this order.
pub(crate) const RULES: &[Rule] = &[
    wf1001,
    wf1003_1004,
    wf1007,
    wf1008,
    wf1009,
    wf1010,
    wf1006,
    wf1011,
    edition,
    wf1015,
    super::targetless::wf1016,
];

/// cargo: "feature `edition2024` is required" — the package's edition is newer than this cargo.
fn edition(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines,
        i,
        text: line,
        ..
    } = *at;
    if let Some(edition) = between(line, "feature `edition", "` is required")
        && let Some((_, (major, minor))) = crate::diagnostics::catalog::EDITIONS
            .iter()
            .find(|(e, _)| *e == edition)
    {
        let cargo = lines[i..]
            .iter()
            .find_map(|l| between(l, "this version of Cargo (", " ("))
            .map(|v| format!("cargo {v}"))
            .unwrap_or_else(|| "this toolchain's cargo".into());
        push(super::checks::edition_diagnostic(
            edition,
            (*major, *minor),
            &cargo,
        ));
    }
}

/// A crate version the catalog knows fails on this target (`CRATE_TRAPS`).
fn wf1015(at: &Line<'_>, ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines,
        i,
        text: line,
        ..
    } = *at;
    for trap in crate::diagnostics::catalog::CRATE_TRAPS {
        if trap.triple != ctx.triple || !line.contains(trap.said) {
            continue;
        }
        let (krate, place) = crate_at(lines, i, trap.krate);
        let Some(version) = krate
            .as_deref()
            .and_then(|k| k.rsplit(' ').next())
            .and_then(|v| semver::Version::parse(v).ok())
        else {
            continue;
        };
        let (a, b, c) = trap.fixed_in;
        if version >= semver::Version::new(a, b, c) {
            continue;
        }
        push(with_place(
            Diagnostic::new(
                "WF1015",
                format!(
                    "{} {version} does not build for {}: {}",
                    trap.krate, trap.triple, trap.why
                ),
                format!(
                    "`cargo update -p {}` (to {a}.{b}.{c} or newer); if a dependency pins an older series, update that dependency",
                    trap.krate
                ),
            )
            .commands(
                vec![vec![
                    "cargo".into(),
                    "update".into(),
                    "-p".into(),
                    trap.krate.into(),
                ]],
                false,
            )
            .about(trap.krate),
            place,
        ));
    }
}

fn wf1001(at: &Line<'_>, ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(triple) = between(line, "the `", "` target may not be installed") {
        let (argv, safe) = super::toolchain::target_add(triple, ctx.toolchain);
        let command = crate::diagnostics::shell_line(&argv);
        push(
            Diagnostic::new(
                "WF1001",
                format!(
                    "the standard library for `{triple}` is not installed{}",
                    ctx.toolchain
                        .map(|t| format!(" for toolchain `{t}`"))
                        .unwrap_or_default()
                ),
                format!("run `{command}` (rustc's own hint adds it to the default toolchain only)"),
            )
            .commands(vec![argv], safe),
        );
    }
}

fn wf1003_1004(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(name) = between(line, "could not find specification for target \"", "\"") {
        if name == "wasm32-wasi" {
            push(Diagnostic::new(
                "WF1004",
                "the target `wasm32-wasi` no longer exists (renamed `wasm32-wasip1`, removed in Rust 1.84)",
                "replace `wasm32-wasi` by `wasm32-wasip1` where it is set (`.cargo/config.toml`, scripts, --target flags); `wasmforge doctor` names the file",
            ));
        } else if name.starts_with("wasm32-wasip") {
            let needed = if name == "wasm32-wasip2" {
                "1.82"
            } else {
                "1.78"
            };
            push(Diagnostic::new(
                "WF1003",
                format!("this rustc does not know the target `{name}` (it needs Rust {needed} or newer)"),
                "`rustup update`, or raise the version in rust-toolchain.toml",
            ).commands(crate::diagnostics::rustup_update(), false));
        }
    }
}

fn wf1007(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines,
        i,
        text: line,
        ..
    } = *at;
    if line.contains("you may need to enable the \"js\" feature") {
        let (krate, at) = crate_at(lines, i, "getrandom");
        push(with_place(
            Diagnostic::new(
                "WF1007",
                format!(
                    "{} has no randomness source on wasm32-unknown-unknown (no `js` or `custom` backend)",
                    krate.unwrap_or_else(|| "getrandom 0.2".into())
                ),
                super::checks::GETRANDOM_02_FIX,
            ),
            at,
        ));
    }
}

fn wf1008(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines,
        i,
        text: line,
        ..
    } = *at;
    if line.contains("\"wasm_js\" configuration flag") {
        let (krate, at) = crate_at(lines, i, "getrandom");
        push(with_place(
            Diagnostic::new(
                "WF1008",
                format!(
                    "{} has no backend on wasm32-unknown-unknown (`getrandom_backend` is not set)",
                    krate.unwrap_or_else(|| "getrandom 0.3".into())
                ),
                super::checks::GETRANDOM_03_FIX,
            ),
            at,
        ));
    }
}

fn wf1009(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines,
        i,
        text: line,
        ..
    } = *at;
    if line.contains("Only features sync,macros,io-util,rt,time are supported on wasm") {
        let (krate, at) = crate_at(lines, i, "tokio");
        push(with_place(
            Diagnostic::new(
                "WF1009",
                format!(
                    "{} is built with features WebAssembly does not support (fs, io-std, net, process, rt-multi-thread or signal)",
                    krate.unwrap_or_else(|| "tokio".into())
                ),
                "use `tokio = { version = \"1\", default-features = false, features = [\"rt\", \"macros\", \"sync\", \"time\", \"io-util\"] }`; `wasmforge doctor` names the crate that enables the others",
            ),
            at,
        ));
    }
}

fn wf1010(at: &Line<'_>, ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines,
        i,
        text: line,
        ..
    } = *at;
    if line.contains("This wasm target is unsupported by mio") {
        let (krate, at) = crate_at(lines, i, "mio");
        push(with_place(
            Diagnostic::new(
                "WF1010",
                format!(
                    "{} has no event source on {}",
                    krate.unwrap_or_else(|| "mio".into()),
                    ctx.triple
                ),
                "build for wasip1 (mio supports WASI), or disable tokio's `net` feature",
            ),
            at,
        ));
    }
}

fn wf1006(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines,
        i,
        text: line,
        ..
    } = *at;
    if line.ends_with("is not supported by the following package:")
        && let Some(next) = lines.get(i + 1)
        && let Some((package, needed)) = next.trim().split_once(" requires rustc ")
    {
        let found = between(line, "rustc ", " is not").unwrap_or("this rustc");
        push(
            Diagnostic::new(
                "WF1006",
                format!("package `{package}` requires rustc {needed}, the toolchain has {found}"),
                "`rustup update` (or a newer toolchain in rust-toolchain.toml)",
            )
            .commands(crate::diagnostics::rustup_update(), false),
        );
    }
}

fn wf1011(at: &Line<'_>, ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line {
        lines, text: line, ..
    } = *at;
    if line.contains("failed to find tool") {
        let var = format!("CC_{}", ctx.triple.replace('-', "_"));
        let krate = lines
            .iter()
            .find_map(|l| between(l, "failed to run custom build command for `", "`"))
            .map(|k| format!("the build script of `{k}`"))
            .unwrap_or_else(|| "a build script".into());
        push(Diagnostic::new(
            "WF1011",
            format!("{krate} (cc-rs) found no C compiler for {}", ctx.triple),
            format!(
                "set `{var}` to a WebAssembly C compiler, e.g. `export {var}=clang-16` (`wasmforge doctor` names the one it found; `wasmforge build` sets it by itself)"
            ),
        ));
    }
}
