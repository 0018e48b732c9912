//! Turning a WASI preview 1 command module into a WASI 0.2 component, in-process: the module
//! is wrapped with `wit-component` and the preview 1 command adapter of the same Wasmtime
//! release as wasmforge's runner, so what `build --target wasip2` makes, `run` runs.

use std::path::Path;

use crate::error::{Error, Result};

/// Wraps a preview 1 command module (`_start`) into a component exporting `wasi:cli/run`.
pub fn command_component(core: &[u8], path: &Path) -> Result<Vec<u8>> {
    wrap(
        core,
        path,
        wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    )
}

/// Wraps a preview 1 reactor (a library whose core module carries its world in
/// `component-type` custom sections, as wit-bindgen's output does) into a component exporting
/// that world.
///
/// The adapter takes its stack and state from the module's `cabi_realloc` (never with
/// `memory.grow` behind the module's back: Go's runtime grows memory from where it believes
/// memory ends, and would hand such pages out again).
pub fn library_component(core: &[u8], path: &Path) -> Result<Vec<u8>> {
    wrap(
        core,
        path,
        wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    )
}

fn wrap(core: &[u8], path: &Path, adapter: &[u8]) -> Result<Vec<u8>> {
    // Rust's wasip2 core modules call WASI 0.2 directly and may need no adapter at all.
    let needs_adapter = wasmparser::Parser::new(0).parse_all(core).any(|p| match p {
        Ok(wasmparser::Payload::ImportSection(reader)) => reader
            .into_imports()
            .flatten()
            .any(|i| i.module == "wasi_snapshot_preview1"),
        _ => false,
    });
    let encoded = wit_component::ComponentEncoder::default()
        .module(core)
        .and_then(|enc| {
            if needs_adapter {
                enc.adapter("wasi_snapshot_preview1", adapter)
            } else {
                Ok(enc)
            }
        })
        .map(|enc| enc.validate(true))
        .and_then(|mut enc| enc.encode());
    encoded.map_err(|e| Error::Componentize {
        path: path.to_owned(),
        source: e.into(),
    })
}
