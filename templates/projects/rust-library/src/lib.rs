//! A WebAssembly library: exports functions for a host or plugin system to call.
//! `wasmforge run --invoke add target/wasmforge/wasip1/debug/{{crate}}.wasm 2 40`

/// Adds two numbers, wrapping on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}
