//! The compiler-output rules of every language, on recorded real stderr.

use super::*;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::stderr::Context;
use std::path::{Path, PathBuf};

fn recorded(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/stderr")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn codes(name: &str, ctx: &Context<'_>) -> Vec<Diagnostic> {
    diagnose(&recorded(name), ctx)
}

fn rust(triple: &str) -> Context<'static> {
    Context {
        toolchain: Some("nightly-x86_64-unknown-linux-gnu"),
        triple: Box::leak(triple.to_string().into_boxed_str()),
    }
}

#[test]
fn rust_target_missing_names_the_toolchain_in_the_fix() {
    let found = codes("rust-target-missing.txt", &rust("wasm32-wasip1"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].code, "WF1001");
    assert_eq!(
        found[0].fix.commands,
        ["rustup target add wasm32-wasip1 --toolchain nightly-x86_64-unknown-linux-gnu"]
    );
    assert!(found[0].fix.safe);
}

#[test]
fn removed_wasm32_wasi_name() {
    let found = codes("rust-wasm32-wasi.txt", &rust("wasm32-wasi"));
    assert_eq!(
        found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
        ["WF1004"]
    );
}

#[test]
fn getrandom_both_versions_name_crate_version_and_place() {
    let found = codes("rust-getrandom02.txt", &rust("wasm32-unknown-unknown"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "WF1007");
    assert!(
        found[0].message.contains("getrandom 0.2.17"),
        "{}",
        found[0].message
    );
    let at = found[0].location.as_ref().expect("location");
    assert!(
        at.file.ends_with("getrandom-0.2.17/src/lib.rs") && at.line == Some(346),
        "{at:?}"
    );
    let found = codes("rust-getrandom03.txt", &rust("wasm32-unknown-unknown"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "WF1008");
    assert!(found[0].message.contains("getrandom 0.3.4"));
    assert!(found[0].fix.text.contains("getrandom_backend=\"wasm_js\""));
}

#[test]
fn tokio_full_and_rust_version() {
    let found = codes("rust-tokio-full.txt", &rust("wasm32-wasip1"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "WF1009");
    assert!(
        found[0].message.starts_with("tokio 1.54.1"),
        "{}",
        found[0].message
    );
    let found = codes("rust-rust-version.txt", &rust("wasm32-wasip1"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "WF1006");
    assert_eq!(
        found[0].message,
        "package `rv@0.1.0` requires rustc 1.99, the toolchain has 1.95.0"
    );
}

#[test]
fn a_build_scripts_compiler_is_read_through_cargos_words() {
    // cargo relays clang's lines (`warning: zstd-sys@…: …`, `cargo:warning=…`): the diagnosis
    // names the header, not `warning` or `cargo`; and <limits.h> is one WASI has, so the
    // compile missed the sysroot (WF3003), not a header WASI lacks (WF3007).
    let found = codes("rust-cc-host-header.txt", &rust("wasm32-wasip1"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].code, "WF3003");
    assert_eq!(found[0].subject.as_deref(), Some("limits.h"));
    assert!(
        found[0]
            .message
            .contains("<limits.h>, which WASI has, came from the host's /usr/include/limits.h"),
        "{}",
        found[0].message
    );
    assert!(found[0].fix.text.contains("--target=wasm32-wasi"));
}

#[test]
fn cc_rs_without_a_compiler_names_the_crate() {
    let found = codes("rust-cc-no-clang.txt", &rust("wasm32-wasip1"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].code, "WF1011");
    assert!(
        found[0].message.contains("`ccsys v0.1.0"),
        "{}",
        found[0].message
    );
    assert!(found[0].fix.text.contains("CC_wasm32_wasip1"));
}

#[test]
fn c_host_header_fallthrough_names_the_real_header_and_include_site() {
    let found = codes("c-pthread-fallthrough.txt", &Context::default());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].code, "WF3007");
    assert!(
        found[0]
            .message
            .starts_with("`pthread.h` is not part of WASI preview 1"),
        "{}",
        found[0].message
    );
    assert!(found[0].message.contains("bits/endian.h"));
    assert_eq!(
        found[0].location.as_ref().map(|l| (l.file.clone(), l.line)),
        Some((PathBuf::from("pthread_h.c"), Some(1)))
    );
}

#[test]
fn c_emulated_signal_gives_define_and_library() {
    let found = codes("c-signal.txt", &Context::default());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].code, "WF3005");
    assert!(found[0].message.contains("`signal.h`"));
    assert!(
        found[0].fix.text.contains("\"_WASI_EMULATED_SIGNAL\"")
            && found[0].fix.text.contains("\"wasi-emulated-signal\""),
        "{}",
        found[0].fix.text
    );
}

#[test]
fn c_missing_builtins_both_ways() {
    for file in ["c-builtins-missing.txt", "c-multi3.txt"] {
        let found = codes(file, &Context::default());
        assert_eq!(
            found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
            ["WF3004"],
            "{file}"
        );
    }
}

/// The functions recognised in recorded clang-16 and zig output, with the place.
fn wf3008(file: &str) -> Vec<String> {
    codes(file, &Context::default())
        .iter()
        .filter(|d| d.code == "WF3008")
        .map(|d| d.message.split('`').nth(1).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn c_calls_to_functions_wasi_lacks_before_and_after_the_link() {
    let all = [
        "socket",
        "fork",
        "execvp",
        "popen",
        "dlopen",
        "getpwnam",
        "pthread_create",
    ];
    // clang 16: "call to undeclared function 'socket'" (an error since C99).
    assert_eq!(wf3008("c-undeclared-clang16.txt"), all);
    let found = codes("c-undeclared-clang16.txt", &Context::default());
    let at = found[0].location.as_ref().expect("place");
    assert_eq!(
        (at.file.as_path(), at.line),
        (Path::new("calls.c"), Some(5))
    );
    assert!(found[0].fix.text.contains("#ifndef __wasi__"));
    assert!(
        found[0].fix.text.contains("wasip2"),
        "sockets: {}",
        found[0].fix.text
    );
    assert_eq!(wf3008("c-undeclared-zig.txt"), all);
    // wasm-ld: "undefined symbol: socket" (zig's libc has dlopen and pthread_create stubs).
    assert_eq!(wf3008("c-undefined-symbol-clang16.txt"), all);
    assert_eq!(
        wf3008("c-undefined-symbol-zig.txt"),
        ["socket", "fork", "execvp", "popen", "getpwnam"]
    );
    // Declared by wasi-libc but not defined: the deprecation warning and the link both say it.
    let found = codes("c-declared-undefined-clang16.txt", &Context::default());
    let names: Vec<&str> = found
        .iter()
        .map(|d| d.message.split('`').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(names, ["tmpfile", "tmpnam", "system"], "{found:#?}");
    assert!(found.iter().all(|d| d.fix.text.contains("[c] stubs")));
}

#[test]
fn c_setjmp_and_missing_libraries() {
    for file in ["c-setjmp-clang16.txt", "c-setjmp-zig.txt"] {
        let found = codes(file, &Context::default());
        assert_eq!(
            found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
            ["WF3009"],
            "{file}: {found:#?}"
        );
        assert!(found[0].fix.text.contains("zig"), "{}", found[0].fix.text);
    }
    for file in ["c-lib-missing-clang16.txt", "c-lib-missing-zig.txt"] {
        let found = codes(file, &Context::default());
        assert_eq!(found.len(), 1, "{file}: {found:#?}");
        assert_eq!(found[0].code, "WF3010");
        assert!(
            found[0].message.contains("`-lreadline`"),
            "{}",
            found[0].message
        );
    }
}

#[test]
fn go_mod_newer_than_the_installed_go() {
    for file in ["go-mod-newer.txt", "go-mod-newer-local.txt"] {
        let found = codes(file, &Context::default());
        assert_eq!(found.len(), 1, "{file}: {found:#?}");
        assert_eq!(found[0].code, "WF2009");
        assert!(found[0].message.contains("1.99"), "{}", found[0].message);
    }
}

#[test]
fn go_failures() {
    let go = Context {
        toolchain: None,
        triple: "wasm32-wasip1",
    };
    for (file, code) in [
        ("go-119-wasip1.txt", "WF2002"),
        ("go-119-c-shared.txt", "WF2003"),
        ("go-cgo-enabled.txt", "WF2007"),
        ("go-goflags-race.txt", "WF2007"),
    ] {
        let found = codes(file, &go);
        assert_eq!(
            found.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(),
            [code],
            "{file}"
        );
    }
    // "build constraints exclude all Go files" has many causes: the pre-flight cgo check
    // (WF2004) says it instead; the matcher does not guess.
    assert!(codes("go-cgo.txt", &go).is_empty());
}

#[test]
fn tinygo_window_message() {
    // TinyGo cannot be installed here; the line follows TinyGo's message format
    // ("requires go version %d.%d through %d.%d, got go%d.%d").
    let found = diagnose(
        "error: requires go version 1.19 through 1.23, got go1.27",
        &Context::default(),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, "WF2006");
    assert!(found[0].message.contains("1.19 through 1.23") && found[0].message.contains("go1.27"));
}

#[test]
fn colours_do_not_hide_a_match() {
    let text = "\u{1b}[0m\u{1b}[1m\u{1b}[38;5;9merror\u{1b}[0m: Only features sync,macros,io-util,rt,time are supported on wasm.";
    assert_eq!(diagnose(text, &rust("wasm32-wasip1"))[0].code, "WF1009");
}

#[test]
fn healthy_output_and_noise_give_nothing() {
    let noise =
        "   Compiling r1 v0.1.0\nwarning: unused variable: `x`\nerror[E0308]: mismatched types\n";
    assert!(diagnose(noise, &rust("wasm32-wasip1")).is_empty());
    assert!(diagnose("", &Context::default()).is_empty());
}

#[test]
fn an_edition_newer_than_cargo_names_the_rust_it_needs() {
    let found = codes("rust-edition-2024.txt", &rust("wasm32-wasip1"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].code, "WF1006");
    assert_eq!(
        found[0].message,
        "the package is edition 2024, which needs Rust 1.85 or newer; the toolchain has cargo 1.81.0"
    );
}

/// Every row of the catalog's crate traps, on the compiler output it names.
#[test]
fn every_crate_trap_is_recognised_with_its_update() {
    for trap in crate::diagnostics::catalog::CRATE_TRAPS {
        let file = format!(
            "rust-{}-{}.txt",
            trap.krate,
            trap.triple.trim_start_matches("wasm32-")
        );
        let found = codes(&file, &rust(trap.triple));
        let d = found
            .iter()
            .find(|d| d.code == "WF1015")
            .unwrap_or_else(|| panic!("{file}: {found:?}"));
        assert!(
            d.message.starts_with(&format!("{} ", trap.krate)),
            "{}",
            d.message
        );
        assert_eq!(d.fix.commands, [format!("cargo update -p {}", trap.krate)]);
        // Another target, or a fixed version: nothing.
        assert!(
            codes(&file, &rust("wasm32-wasip1"))
                .iter()
                .all(|d| d.code != "WF1015")
        );
        let (a, b, c) = trap.fixed_in;
        let failing = d
            .message
            .split(' ')
            .nth(1)
            .expect("the version in the message");
        let fixed = recorded(&file).replace(
            &format!("{}-{failing}", trap.krate),
            &format!("{}-{a}.{b}.{c}", trap.krate),
        );
        assert!(
            diagnose(&fixed, &rust(trap.triple))
                .iter()
                .all(|d| d.code != "WF1015"),
            "{file} at {a}.{b}.{c}"
        );
    }
}
