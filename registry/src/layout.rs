//! OCI image layout folders (`oci:DIR[:TAG]`): `oci-layout`, `index.json` and `blobs/sha256/`,
//! as skopeo, oras and umoci read and write them. Every file is written to a temporary name
//! and renamed, so an interrupted push leaves the folder as it was.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::manifest::{self, Artifact, Next};
use crate::{PullReport, PushReport, digest_of, verify};

const REF_NAME: &str = "org.opencontainers.image.ref.name";

fn blob_path(dir: &Path, digest: &str) -> Result<PathBuf> {
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()));
    match hex {
        Some(hex) => Ok(dir.join("blobs/sha256").join(hex)),
        None => Err(Error::BadLayout {
            path: dir.to_path_buf(),
            why: format!("`{digest}` is not a sha256 digest"),
        }),
    }
}

/// Writes `bytes` to `path` whole (a temporary file renamed into place), with the mode a file
/// written in place would have (the replaced file's, else 0666 minus the umask), so a layout
/// folder is readable by the other users it is shared with.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    wasmforge_build::files::write_atomic(path, bytes).map_err(crate::io_error)
}

/// Checks that `dir` is a layout folder, or creates one where there is nothing yet.
fn open_for_write(dir: &Path) -> Result<()> {
    let marker = dir.join("oci-layout");
    if marker.is_file() {
        return Ok(());
    }
    if dir.is_dir() && fs_err::read_dir(dir)?.next().is_some() {
        return Err(Error::BadLayout {
            path: dir.to_path_buf(),
            why: "the folder is not empty and has no `oci-layout` file".into(),
        });
    }
    write_atomic(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    write_atomic(&dir.join("index.json"), &index_bytes(&[]))?;
    Ok(())
}

fn index_bytes(manifests: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": manifest::INDEX,
        "manifests": manifests,
    }))
    .unwrap_or_default()
}

fn read_index(dir: &Path) -> Result<Vec<Value>> {
    Ok(read_index_document(dir)?["manifests"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// `index.json` as a whole: its own annotations and any other fields are kept when it is
/// rewritten.
fn read_index_document(dir: &Path) -> Result<Value> {
    let path = dir.join("index.json");
    let no_index = || Error::BadLayout {
        path: dir.to_path_buf(),
        why: "it has no index.json (a regular file)".into(),
    };
    if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
        return Err(no_index());
    }
    let file = std::fs::File::open(&path).map_err(|_| no_index())?;
    let text = crate::read_bounded(file, crate::MANIFEST_LIMIT, "index.json")?;
    let value: Value = serde_json::from_slice(&text).map_err(|e| Error::BadLayout {
        path: dir.to_path_buf(),
        why: format!("index.json is not valid JSON: {e}"),
    })?;
    if !value.is_object() {
        return Err(Error::BadLayout {
            path: dir.to_path_buf(),
            why: "index.json is not a JSON object".into(),
        });
    }
    Ok(value)
}

/// Stores `artifact` under each of `tags`.
pub fn push(dir: &Path, tags: &[String], artifact: &Artifact) -> Result<PushReport> {
    for tag in tags {
        crate::reference::check_tag(tag).map_err(|why| Error::BadReference {
            given: tag.clone(),
            why,
        })?;
    }
    open_for_write(dir)?;
    let mut uploaded = 0;
    let mut skipped = 0;
    for blob in std::iter::once(&artifact.config).chain(&artifact.layers) {
        let path = blob_path(dir, &blob.digest)?;
        if path.is_file() && fs_err::metadata(&path)?.len() == blob.bytes.len() as u64 {
            skipped += 1;
        } else {
            write_atomic(&path, &blob.bytes)?;
            uploaded += 1;
        }
    }
    write_atomic(&blob_path(dir, &artifact.digest)?, &artifact.manifest)?;
    let mut document = read_index_document(dir)?;
    let mut entries = document["manifests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    entries.retain(|e| {
        !tags
            .iter()
            .any(|t| e["annotations"][REF_NAME].as_str() == Some(t))
    });
    for tag in tags {
        entries.push(json!({
            "mediaType": manifest::MANIFEST,
            "digest": artifact.digest,
            "size": artifact.manifest.len(),
            "annotations": { REF_NAME: tag },
        }));
    }
    document["manifests"] = Value::Array(entries);
    document["schemaVersion"] = json!(2);
    if document.get("mediaType").is_none() {
        document["mediaType"] = json!(manifest::INDEX);
    }
    write_atomic(
        &dir.join("index.json"),
        &serde_json::to_vec(&document).unwrap_or_default(),
    )?;
    let size = artifact.config.bytes.len()
        + artifact.layers.iter().map(|l| l.bytes.len()).sum::<usize>()
        + artifact.manifest.len();
    Ok(PushReport {
        references: tags
            .iter()
            .map(|t| format!("oci:{}:{t}", dir.display()))
            .collect(),
        digest: artifact.digest.clone(),
        config_media_type: artifact.config.media_type.clone(),
        uploaded,
        skipped,
        size: size as u64,
    })
}

/// Reads a blob: a regular file (a FIFO would hang the read, a device could be endless), at most
/// `limit` bytes, with the `declared` size when the manifest declares one, then its digest.
fn read_blob(
    dir: &Path,
    digest: &str,
    what: &str,
    declared: Option<u64>,
    limit: u64,
) -> Result<Vec<u8>> {
    let path = blob_path(dir, digest)?;
    let missing = || Error::NotFound {
        what: format!("{what} {digest} in {}", dir.display()),
    };
    let meta = std::fs::metadata(&path).map_err(|_| missing())?;
    if !meta.is_file() {
        return Err(Error::BadLayout {
            path: dir.to_path_buf(),
            why: format!("{what} {digest} is not a regular file"),
        });
    }
    if let Some(declared) = declared {
        if declared > limit {
            return Err(Error::TooLarge {
                what: format!("{what} {digest}"),
                size: Some(declared),
                limit,
            });
        }
        if declared != meta.len() {
            return Err(Error::Inconsistent {
                what: format!("{what} {digest}"),
                why: format!(
                    "the manifest declares {declared} bytes, the blob has {}",
                    meta.len()
                ),
            });
        }
    }
    let file = std::fs::File::open(&path).map_err(|_| missing())?;
    let bytes = crate::read_bounded(file, limit, &format!("{what} {digest}"))?;
    verify(&bytes, digest, what)?;
    Ok(bytes)
}

/// Reads the module tagged `tag` (or with manifest `digest`) from the layout at `dir`; blobs and
/// the decompressed module are capped at `max_size` bytes, manifests at [`crate::MANIFEST_LIMIT`],
/// and what comes back parses as WebAssembly.
pub fn pull(
    dir: &Path,
    tag: &str,
    digest: Option<&str>,
    max_size: u64,
) -> Result<(Vec<u8>, PullReport)> {
    match pull_any(dir, tag, digest, max_size)? {
        (crate::Pulled::Module(wasm), report) => Ok((wasm, report)),
        (crate::Pulled::App { components, .. }, report) => Err(Error::IsApp {
            reference: report.reference,
            services: components.len(),
        }),
    }
}

/// [`pull`], taking an app too.
pub fn pull_any(
    dir: &Path,
    tag: &str,
    digest: Option<&str>,
    max_size: u64,
) -> Result<(crate::Pulled, PullReport)> {
    if !dir.join("oci-layout").is_file() {
        return Err(Error::BadLayout {
            path: dir.to_path_buf(),
            why: "it has no `oci-layout` file".into(),
        });
    }
    let reference = match digest {
        Some(digest) => format!("oci:{}@{digest}", dir.display()),
        None => format!("oci:{}:{tag}", dir.display()),
    };
    let entries = read_index(dir)?;
    let chosen = match digest {
        Some(d) => Some(d.to_string()),
        None => entries
            .iter()
            .find(|e| e["annotations"][REF_NAME].as_str() == Some(tag))
            .and_then(|e| e["digest"].as_str().map(str::to_string)),
    };
    let Some(mut manifest_digest) = chosen else {
        let tags: Vec<&str> = entries
            .iter()
            .filter_map(|e| e["annotations"][REF_NAME].as_str())
            .collect();
        return Err(Error::NotFound {
            what: format!(
                "the tag `{tag}` in {} (tags there: {})",
                dir.display(),
                if tags.is_empty() {
                    "none".to_string()
                } else {
                    tags.join(", ")
                }
            ),
        });
    };
    let manifest_limit = crate::MANIFEST_LIMIT;
    let mut manifest_bytes =
        read_blob(dir, &manifest_digest, "the manifest", None, manifest_limit)?;
    let top_digest = manifest_digest.clone();
    loop {
        match manifest::next_step(&manifest_bytes, &reference)? {
            Next::Manifest(d) => {
                manifest_digest = d.digest;
                manifest_bytes = read_blob(
                    dir,
                    &manifest_digest,
                    "the manifest",
                    d.size,
                    manifest_limit,
                )?;
            }
            Next::WasmLayer(d) => {
                let wasm = read_blob(dir, &d.digest, "the Wasm layer", d.size, max_size)?;
                crate::check_wasm(&wasm, &reference)?;
                let (wasm, report) = report(wasm, reference, top_digest, d.media_type);
                return Ok((crate::Pulled::Module(wasm), report));
            }
            Next::ImageLayer(d) => {
                let gz = read_blob(dir, &d.digest, "the image layer", d.size, max_size)?;
                let wasm = manifest::wasm_from_image_layer(&gz, &reference, max_size)?;
                crate::check_wasm(&wasm, &reference)?;
                let (wasm, report) = report(wasm, reference, top_digest, d.media_type);
                return Ok((crate::Pulled::Module(wasm), report));
            }
            Next::App { config, components } => {
                let config_bytes = read_blob(
                    dir,
                    &config.digest,
                    "the app's config",
                    config.size,
                    crate::MANIFEST_LIMIT,
                )?;
                let mut wasm = Vec::new();
                for d in &components {
                    let bytes =
                        read_blob(dir, &d.digest, "a component of the app", d.size, max_size)?;
                    crate::check_wasm(&bytes, &reference)?;
                    wasm.push(bytes);
                }
                let report = PullReport {
                    reference,
                    digest: top_digest,
                    layer_media_type: config.media_type,
                    size: wasm.iter().map(|w| w.len() as u64).sum(),
                    sha256: config.digest.trim_start_matches("sha256:").to_string(),
                };
                return Ok((
                    crate::Pulled::App {
                        config: config_bytes,
                        components: wasm,
                    },
                    report,
                ));
            }
        }
    }
}

fn report(
    wasm: Vec<u8>,
    reference: String,
    digest: String,
    layer_media_type: String,
) -> (Vec<u8>, PullReport) {
    let report = PullReport {
        reference,
        digest,
        layer_media_type,
        size: wasm.len() as u64,
        sha256: digest_of(&wasm).trim_start_matches("sha256:").to_string(),
    };
    (wasm, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Input, Layout};
    use std::collections::BTreeMap;

    #[test]
    fn push_pull_round_trip_reuses_blobs_and_verifies_digests() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("layout");
        let annotations = BTreeMap::new();
        let wasm = b"\0asm\x01\0\0\0".to_vec();
        let input = Input {
            wasm: bytes::Bytes::from(wasm.clone()),
            file_name: "m.wasm",
            created: "2026-01-01T00:00:00Z",
            annotations: &annotations,
        };
        let artifact = manifest::build(&input, Layout::Wasm).expect("build");
        let first = push(&dir, &["v1".into(), "latest".into()], &artifact).expect("push");
        assert_eq!((first.uploaded, first.skipped), (2, 0));
        let again = push(&dir, &["v1".into()], &artifact).expect("push again");
        assert_eq!((again.uploaded, again.skipped), (0, 2));
        assert_eq!(
            read_index(&dir).expect("index").len(),
            2,
            "re-tagging replaces, not duplicates"
        );
        let (bytes, report) = pull(&dir, "v1", None, crate::DEFAULT_MAX_SIZE).expect("pull");
        assert_eq!(bytes, wasm);
        assert_eq!(report.digest, artifact.digest);

        // A tampered layer (same length) is refused.
        let layer = blob_path(&dir, &artifact.layers[0].digest).expect("path");
        let mut tampered = std::fs::read(&layer).expect("read");
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        std::fs::write(&layer, &tampered).expect("tamper");
        assert!(matches!(
            pull(&dir, "v1", None, crate::DEFAULT_MAX_SIZE),
            Err(Error::DigestMismatch { .. })
        ));
        assert!(matches!(
            pull(&dir, "nope", None, crate::DEFAULT_MAX_SIZE),
            Err(Error::NotFound { .. })
        ));
        // A folder with other things in it is not turned into a layout.
        let other = tmp.path().join("other");
        std::fs::create_dir_all(&other).expect("mkdir");
        std::fs::write(other.join("file"), "x").expect("write");
        assert!(matches!(
            push(&other, &["v1".into()], &artifact),
            Err(Error::BadLayout { .. })
        ));
    }
}
