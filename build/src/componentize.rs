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
        false,
    )
}

/// Wraps a preview 1 reactor (a library whose core module carries its world in
/// `component-type` custom sections, as wit-bindgen's output does) into a component exporting
/// that world.
///
/// `own_memory`: the adapter takes the memory it needs with `memory.grow` rather than the
/// module's `cabi_realloc` — for runtimes whose allocator cannot run before `_initialize`
/// (Go's: the adapter allocates during the runtime's own start, when Go's `cabi_realloc`
/// would crash it), as TinyGo's builds do with `--realloc-via-memory-grow`.
pub fn library_component(core: &[u8], path: &Path, own_memory: bool) -> Result<Vec<u8>> {
    wrap(
        core,
        path,
        wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        own_memory,
    )
}

fn wrap(core: &[u8], path: &Path, adapter: &[u8], own_memory: bool) -> Result<Vec<u8>> {
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
        .map(|enc| enc.realloc_via_memory_grow(own_memory))
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
