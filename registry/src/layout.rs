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

/// Writes `bytes` to `path` through a temporary file in the same folder, with the mode a file
/// written in place would have (the replaced file's, else 0666 minus the umask), so a layout
/// folder is readable by the other users it is shared with.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let kept = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(
            kept.clone()
                .unwrap_or_else(|| std::fs::Permissions::from_mode(0o666)),
        );
    }
    let mut tmp = builder.tempfile_in(dir)?;
    if let Some(mode) = kept {
        tmp.as_file().set_permissions(mode)?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| Error::Io(e.error))?;
    Ok(())
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
    let path = dir.join("index.json");
    let text = fs_err::read(&path).map_err(|_| Error::BadLayout {
        path: dir.to_path_buf(),
        why: "it has no index.json".into(),
    })?;
    let value: Value = serde_json::from_slice(&text).map_err(|e| Error::BadLayout {
        path: dir.to_path_buf(),
        why: format!("index.json is not valid JSON: {e}"),
    })?;
    Ok(value["manifests"].as_array().cloned().unwrap_or_default())
}

/// Stores `artifact` under each of `tags`.
pub fn push(dir: &Path, tags: &[String], artifact: &Artifact) -> Result<PushReport> {
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
    let mut entries = read_index(dir)?;
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
    write_atomic(&dir.join("index.json"), &index_bytes(&entries))?;
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

fn read_blob(dir: &Path, digest: &str, what: &str) -> Result<Vec<u8>> {
    let path = blob_path(dir, digest)?;
    let bytes = fs_err::read(&path).map_err(|_| Error::NotFound {
        what: format!("{what} {digest} in {}", dir.display()),
    })?;
    verify(&bytes, digest, what)?;
    Ok(bytes)
}

/// Reads the module tagged `tag` (or with manifest `digest`) from the layout at `dir`.
pub fn pull(dir: &Path, tag: &str, digest: Option<&str>) -> Result<(Vec<u8>, PullReport)> {
    if !dir.join("oci-layout").is_file() {
        return Err(Error::BadLayout {
            path: dir.to_path_buf(),
            why: "it has no `oci-layout` file".into(),
        });
    }
    let reference = format!("oci:{}:{tag}", dir.display());
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
    let mut manifest_bytes = read_blob(dir, &manifest_digest, "the manifest")?;
    let top_digest = manifest_digest.clone();
    loop {
        match manifest::next_step(&manifest_bytes, &reference)? {
            Next::Manifest(d) => {
                manifest_digest = d.digest;
                manifest_bytes = read_blob(dir, &manifest_digest, "the manifest")?;
            }
            Next::WasmLayer(d) => {
                let wasm = read_blob(dir, &d.digest, "the Wasm layer")?;
                return Ok(report(wasm, reference, top_digest, d.media_type));
            }
            Next::ImageLayer(d) => {
                let gz = read_blob(dir, &d.digest, "the image layer")?;
                let wasm = manifest::wasm_from_image_layer(&gz, &reference)?;
                return Ok(report(wasm, reference, top_digest, d.media_type));
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
        let (bytes, report) = pull(&dir, "v1", None).expect("pull");
        assert_eq!(bytes, wasm);
        assert_eq!(report.digest, artifact.digest);

        // A tampered layer is refused.
        let layer = blob_path(&dir, &artifact.layers[0].digest).expect("path");
        std::fs::write(&layer, b"\0asm\x01\0\0\x01").expect("tamper");
        assert!(matches!(
            pull(&dir, "v1", None),
            Err(Error::DigestMismatch { .. })
        ));
        assert!(matches!(
            pull(&dir, "nope", None),
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
