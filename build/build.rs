//! Links the C++ standard library Binaryen (wasm-opt) needs. On Linux with GNU's libstdc++ it is
//! linked statically when `libstdc++.a` is installed: the binary then does not load
//! `libstdc++.so` (2 MB, ~2,000 symbol lookups) at every start — `wasmforge run` starts ~0.1 ms
//! sooner and maps ~1.4 MB less. The `link-cplusplus` crate (through `cxx`) is told to link
//! nothing (its `nothing` feature), so this is the one place that decides.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CXX");
    println!("cargo:rerun-if-env-changed=WASMFORGE_DYNAMIC_LIBSTDCXX");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    match (os.as_str(), env.as_str()) {
        ("linux", "gnu") => {
            let wanted = native && std::env::var_os("WASMFORGE_DYNAMIC_LIBSTDCXX").is_none();
            match wanted.then(static_libstdcxx).flatten() {
                Some(dir) => {
                    println!("cargo:rustc-link-search=native={}", dir.display());
                    println!("cargo:rustc-link-lib=static:-bundle=stdc++");
                }
                None => println!("cargo:rustc-link-lib=stdc++"),
            }
        }
        ("macos" | "ios" | "freebsd" | "openbsd", _) => println!("cargo:rustc-link-lib=c++"),
        ("windows", "msvc") => {}
        _ => println!("cargo:rustc-link-lib=stdc++"),
    }
}

/// The folder holding the C++ compiler's `libstdc++.a`, when it has one.
fn static_libstdcxx() -> Option<PathBuf> {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let output = Command::new(cxx)
        .arg("-print-file-name=libstdc++.a")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    // Without the library the compiler prints the bare name back.
    (output.status.success() && path.is_absolute() && path.is_file())
        .then(|| path.parent().map(PathBuf::from))
        .flatten()
}
