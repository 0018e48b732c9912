//! `wasmforge-build`: everything between a project folder and a checked WebAssembly artifact.
//!
//! This crate detects the project, probes the toolchain that will build it, drives the compiler
//! and reports the artifacts it produced. It never draws on the terminal: progress and compiler
//! output go through [`report::Reporter`], which the `wasmforge` binary implements.

pub mod artifact;
pub mod cache;
pub mod componentize;
pub mod compose;
pub mod config;
pub mod diagnostics;
pub mod doctor;
pub mod error;
pub mod files;
pub mod job;
pub mod lang;
pub mod options;
pub mod pipeline;
pub mod process;
pub mod project;
pub mod report;
pub mod target;
pub mod text;
pub mod wasm;
pub mod wit;

pub use artifact::{Artifact, ArtifactKind};
pub use error::{Error, ErrorKind, Result};
pub use job::BuildOutput;
pub use options::{BuildOptions, OptChoice, Profile};
pub use pipeline::build;
pub use report::{NullReporter, Reporter};
pub use target::Target;
