//! Turning a WASI preview 1 command module into a WASI 0.2 component, in-process: the module
//! is wrapped with `wit-component` and the preview 1 command adapter of the same Wasmtime
//! release as wasmforge's runner, so what `build --target wasip2` makes, `run` runs.

use std::path::Path;

use crate::error::{Error, Result};

/// Wraps a preview 1 command module (`_start`) into a component exporting `wasi:cli/run`.
pub fn command_component(core: &[u8], path: &Path) -> Result<Vec<u8>> {
    let adapter = wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER;
    let encoded = wit_component::ComponentEncoder::default()
        .module(core)
        .and_then(|enc| enc.adapter("wasi_snapshot_preview1", adapter))
        .map(|enc| enc.validate(true))
        .and_then(|mut enc| enc.encode());
    encoded.map_err(|e| Error::Componentize {
        path: path.to_owned(),
        source: e.into(),
    })
}
