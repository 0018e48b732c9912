//! C plugins: a `wasip2` library built for the project's WIT world. wit-bindgen-c (in-process)
//! writes the bindings — `<world>.c`, `<world>.h` and `<world>_component_type.o`, which carries
//! the world for wit-component — into the build folder; they are compiled and linked with the
//! user's sources as a reactor, and the module is wrapped with the reactor adapter.

use std::path::{Path, PathBuf};

use wit_bindgen_core::wit_parser::Resolve;

use super::Job;
use crate::error::{Error, Result};
use crate::report::Reporter;

/// The generated files a build uses.
#[derive(Debug, Clone)]
pub struct Bindings {
    /// `<world>.c`, compiled with the user's sources.
    pub source: PathBuf,
    /// `<world>_component_type.o`, linked in.
    pub object: PathBuf,
}

/// Where the bindings go (and the header is included from).
pub fn include_dir(job: &Job<'_>) -> PathBuf {
    job.work_dir().join("wit-bindgen").join(job.target.name())
}

/// Generates (or keeps, when unchanged) the bindings of the world in `wit_dir`.
pub fn bindings(job: &Job<'_>, wit_dir: &Path, reporter: &dyn Reporter) -> Result<Bindings> {
    let name = job.config.component.world.as_deref();
    // The same folder `crate::wit::load` read (and reported errors of) before the build began;
    // wit-bindgen reads it with its own wit-parser.
    let mut resolve = Resolve::default();
    let failed = |what: &str, e: anyhow::Error| Error::Wit {
        code: "WF5001",
        message: format!("wit-bindgen-c cannot {what} `{}`", wit_dir.display()),
        detail: e
            .chain()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        hint: "`wasmforge doctor` checks the WIT; `wasmforge wit .` prints the world".into(),
    };
    let (package, _) = resolve.push_dir(wit_dir).map_err(|e| failed("read", e))?;
    let world = resolve
        .select_world(&[package], name)
        .map_err(|e| failed("select a world in", e))?;
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)
        .map_err(|e| failed("generate bindings for", e))?;
    let out = include_dir(job);
    fs_err::create_dir_all(&out)?;
    let (mut source, mut object) = (None, None);
    let mut written = 0;
    for (file, bytes) in files.iter() {
        // Names come from the world's name (kebab-case, checked by wit-parser): plain file names.
        if file.contains('/') || file.contains("..") {
            continue;
        }
        let path = out.join(file);
        if std::fs::read(&path).ok().as_deref() != Some(bytes) {
            crate::files::write_atomic(&path, bytes)?;
            written += 1;
        }
        if file.ends_with("_component_type.o") {
            object = Some(path);
        } else if file.ends_with(".c") {
            source = Some(path);
        }
    }
    let (Some(source), Some(object)) = (source, object) else {
        return Err(Error::Wit {
            code: "WF5001",
            message: "wit-bindgen-c wrote no C source or component-type object".into(),
            detail: String::new(),
            hint: "please report this with the WIT".into(),
        });
    };
    if written > 0 {
        reporter.status(
            "Generated",
            &format!(
                "C bindings for world `{}` ({})",
                resolve.worlds[world].name,
                out.display()
            ),
        );
    }
    Ok(Bindings { source, object })
}
