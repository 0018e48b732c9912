//! End-to-end tests of the `wasmforge` binary: real toolchains, real projects, real Wasm runtime.
//! One test binary, so the wasmforge binary and Wasmtime link once.

mod action;
mod build_c;
mod build_go;
mod build_rust;
mod checks;
mod cli;
mod containerd;
mod doctor;
mod forged;
mod gitlab;
mod install;
mod new;
mod plugin;
mod realworld;
mod registry;
mod run;
mod serve;
mod size;
mod support;
mod testing;
mod trust;
mod truth;
mod verdict;
mod wasm_tools;
