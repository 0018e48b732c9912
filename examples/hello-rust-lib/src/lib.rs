//! A library module: exports functions for a host or plugin system to call.
//!
//! `wasmforge run --invoke add hello_rust_lib.wasm 2 40` calls `add` with two i32 values.

/// Adds two numbers, wrapping on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

/// The n-th Fibonacci number (wrapping), to have some real work to call.
#[unsafe(no_mangle)]
pub extern "C" fn fib(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }
    a
}
