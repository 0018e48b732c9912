//! The C driver (in progress).

use super::{BuildOutput, Driver, Job};
use crate::error::{Error, Result};
use crate::report::Reporter;

#[derive(Debug)]
pub struct CDriver;

impl Driver for CDriver {
    fn build(&self, _job: &Job<'_>, _reporter: &dyn Reporter) -> Result<BuildOutput> {
        Err(Error::NoCToolchain { looked: vec![] })
    }
}
