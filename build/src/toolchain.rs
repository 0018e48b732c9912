//! Toolchain probes. They answer from the file system where they can, because they run on every
//! build and a no-op build should cost little more than the compiler's own no-op.

pub mod c;
pub mod go;
pub mod rust;
