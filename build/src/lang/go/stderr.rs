//! Go's failures in `go build` and TinyGo output, one line at a time.

use crate::diagnostics::Diagnostic;
use crate::diagnostics::stderr::{Context, Line, Rule, between};

/// Go's rules, each a small function of one line of compiler output, tried in
/// this order.
pub(crate) const RULES: &[Rule] = &[
    wf2002,
    wf2003,
    wf2007,
    wf2007_flag,
    wf2009,
    wf2009_download,
    wf2006,
    wf2011,
];

/// "./main.go:14:15: undefined: syscall.Flock": a package identifier the build's GOOS may lack
/// (the Go language decides afterwards with `go doc`, in `refine_diagnosis`).
fn wf2011(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some((place, name)) = line.split_once(": undefined: ")
        && let Some((package, item)) = name.trim().split_once('.')
        && !package.is_empty()
        && package
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && item.chars().next().is_some_and(|c| c.is_ascii_uppercase())
    {
        let d = Diagnostic::new(
            "WF2011",
            format!("`{package}.{item}` is not defined for this build"),
            WF2011_FIX,
        )
        .about(format!("{package}.{item}"));
        push(crate::diagnostics::stderr::with_place(
            d,
            crate::diagnostics::stderr::split_file_line(place),
        ));
    }
}

pub(crate) const WF2011_FIX: &str = "move the code that uses it into a file built only for other systems (`//go:build !wasip1` as its first line) and give wasip1 its own version in a file with `//go:build wasip1` (one that does without it)";

fn wf2002(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if line.contains("unsupported GOOS/GOARCH pair wasip1/wasm") {
        push(Diagnostic::new(
            "WF2002",
            "this Go does not have the wasip1 port (Go 1.21 or newer has it)",
            "install Go 1.21 or newer and put it first on PATH",
        ));
    }
}

fn wf2003(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if line.contains("-buildmode=c-shared not supported on wasip1/wasm") {
        push(Diagnostic::new(
            "WF2003",
            "this Go cannot build wasip1 libraries (-buildmode=c-shared needs Go 1.24 or newer)",
            "install Go 1.24 or newer, or build a command",
        ));
    }
}

fn wf2007(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if line.contains("cgo: unknown ptrSize for $GOARCH \"wasm\"") {
        push(Diagnostic::new(
            "WF2007",
            "CGO_ENABLED=1 asks for cgo, which cannot target WebAssembly",
            "unset CGO_ENABLED (or set CGO_ENABLED=0)",
        ));
    }
}

fn wf2007_flag(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(flag) = line
        .strip_suffix(" is not supported on wasip1/wasm")
        .or_else(|| line.strip_suffix(" not supported on wasip1/wasm"))
        && flag != "-buildmode=c-shared"
    {
        push(Diagnostic::new(
            "WF2007",
            format!("`{flag}` (from GOFLAGS or the command line) is not supported on wasip1/wasm"),
            format!(
                "remove `{flag}` from GOFLAGS (`go env -u GOFLAGS` if it was set with `go env -w`)"
            ),
        ));
    }
}

fn wf2009(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(wanted) = between(line, "go.mod requires go >= ", " (running go ") {
        let running = between(line, "(running go ", ";").unwrap_or("this go");
        push(Diagnostic::new(
            "WF2009",
            format!("go.mod requires go {wanted} or newer, and the installed go is {running}"),
            format!(
                "install Go {wanted} or newer and put it first on PATH, or lower the `go` line of go.mod"
            ),
        ));
    }
}

fn wf2009_download(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(wanted) = between(line, "go: download go", ":") {
        push(Diagnostic::new(
            "WF2009",
            format!(
                "go.mod requires go {wanted}, and go could not download it (no network access to the Go proxy)"
            ),
            format!(
                "install Go {wanted} or newer and put it first on PATH, or lower the `go` line of go.mod"
            ),
        ));
    }
}

fn wf2006(at: &Line<'_>, _ctx: &Context<'_>, push: &mut dyn FnMut(Diagnostic)) {
    let Line { text: line, .. } = *at;
    if let Some(window) = between(line, "requires go version ", ", got go") {
        push(Diagnostic::new(
            "WF2006",
            format!(
                "TinyGo supports Go {window} only: {}",
                line.rsplit(", got ").next().unwrap_or("")
            ),
            format!(
                "put a Go in {window} first on PATH, or install a TinyGo that supports your Go"
            ),
        ));
    }
}
