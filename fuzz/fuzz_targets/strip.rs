#![no_main]
//! Any bytes through strip; a valid module stays valid.
use libfuzzer_sys::fuzz_target;
use wasmforge_build::wasm::strip;

fuzz_target!(|data: &[u8]| {
    let valid = wasmparser_valid(data);
    if let Ok((out, _)) = strip::strip(data, &[]) {
        if valid {
            assert!(wasmparser_valid(&out));
        }
    }
});

fn wasmparser_valid(bytes: &[u8]) -> bool {
    wasmforge_build::wasm::validate::validate(bytes, &Default::default()).valid
}
