#![no_main]
//! Any bytes through inspect and feature detection: errors, never a panic.
use libfuzzer_sys::fuzz_target;
use wasmforge_build::wasm::{features, inspect};

fuzz_target!(|data: &[u8]| {
    let _ = inspect::inspect(data);
    let _ = features::detect(data);
});
