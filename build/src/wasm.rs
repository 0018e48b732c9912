//! Working on WebAssembly binaries themselves: which features a module really uses, full
//! validation with target profiles, inspection, stripping custom sections, and optimizing
//! with Binaryen.

pub mod checks;
pub mod features;
pub mod inspect;
pub mod optimize;
pub mod size;
pub mod strip;
pub mod validate;
