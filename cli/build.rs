//! Link settings for the `wasmforge` binary that make every start cheaper (measured with
//! bench/start.sh; `--version` and a warm `run` of a hello module):
//! - `-z keep-text-section-prefix`: the C++ static constructors (`.text.startup`, ~140 in
//!   Binaryen, all run before `main`) are laid out together instead of one per 64 KiB across the
//!   40 MB of code — the kernel maps code 64 KiB around each fault, so scattered they made
//!   `--version` map 7.4 MB of code; together 2 MB (−100 page faults, −0.4 ms).
//! - `-z pack-relative-relocs` (DT_RELR): the ~70,000 relative relocations take 17 KB instead of
//!   1.7 MB that the loader reads at every start. Needs glibc ≥ 2.36 where the binary runs, so
//!   only for native x86_64 builds on such a glibc (what install.sh does).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if os != "linux" {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-z,keep-text-section-prefix");
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    if native && env == "gnu" && arch == "x86_64" && glibc_at_least(2, 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc (`getconf GNU_LIBC_VERSION`: "glibc 2.36") is at least the
/// given version.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(output) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(version) = text.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    found >= (major, minor)
}
