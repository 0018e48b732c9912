#![no_main]
//! Any bytes through the optimizer: invalid input is refused before Binaryen sees it, valid
//! input comes out valid.
use libfuzzer_sys::fuzz_target;
use wasmforge_build::wasm::optimize::{self, Level, Options};

fuzz_target!(|data: &[u8]| {
    let options = Options::new(Level::O1);
    if let Ok(result) = optimize::optimize(data, options) {
        assert!(wasmforge_build::wasm::validate::validate(&result.bytes, &Default::default()).valid);
    }
});
