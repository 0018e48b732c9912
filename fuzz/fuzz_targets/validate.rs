#![no_main]
//! Any bytes through validation and every profile: errors, never a panic.
use libfuzzer_sys::fuzz_target;
use wasmforge_build::wasm::validate::{self, Options, Profile};

fuzz_target!(|data: &[u8]| {
    let _ = validate::validate(data, &Options::default());
    for profile in Profile::ALL {
        let _ = validate::validate(data, &Options { profile: Some(profile), max_size: Some(1 << 20), ..Options::default() });
    }
});
