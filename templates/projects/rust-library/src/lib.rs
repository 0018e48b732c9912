//! A WebAssembly library: exports functions for a host or plugin system to call.
//! `wasmforge run --invoke add target/wasmforge/wasip1/debug/{{crate}}.wasm 2 40`
//! Its tests run in the sandbox: `wasmforge test`.

/// Adds two numbers, wrapping on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds_and_wraps() {
        assert_eq!(super::add(2, 40), 42);
        assert_eq!(super::add(i32::MAX, 1), i32::MIN);
    }
}
