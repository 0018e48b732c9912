//! The Wasm OCI artifact (CNCF TAG Runtime layout) and the `wasi/wasm` image, built from a
//! module's bytes with deterministic JSON, so the same bytes and time give the same digests.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::digest_of;
use crate::error::{Error, Result};

pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
pub const WASM_LAYER: &str = "application/wasm";
pub const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const IMAGE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Layer types older tools wrote (Spin; wash before the CNCF layout).
pub const LEGACY_WASM_LAYERS: &[&str] = &[
    "application/vnd.wasm.content.layer.v1+wasm",
    "application/vnd.module.wasm.content.layer.v1+wasm",
];
/// Everything `pull` asks a registry for.
/// An app's artifact (wasmforge): its config describes the services, its layers are their
/// components, in the config's order.
pub const APP_CONFIG: &str = "application/vnd.wasmforge.app.config.v1+json";
pub const APP_ARTIFACT: &str = "application/vnd.wasmforge.app.v1";

pub const ACCEPTED: &[&str] = &[MANIFEST, INDEX, DOCKER_MANIFEST, DOCKER_LIST];

/// A blob to store, with its digest.
#[derive(Debug, Clone)]
pub struct Blob {
    pub media_type: String,
    pub digest: String,
    /// Shared, so retries and uploads do not copy it.
    pub bytes: bytes::Bytes,
}

impl Blob {
    pub fn new(media_type: &str, bytes: impl Into<bytes::Bytes>) -> Blob {
        let bytes = bytes.into();
        Blob {
            media_type: media_type.to_string(),
            digest: digest_of(&bytes),
            bytes,
        }
    }

    fn descriptor(&self) -> Value {
        json!({ "mediaType": self.media_type, "digest": self.digest, "size": self.bytes.len() })
    }
}

/// Everything one push writes: blobs first, then the manifest.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub config: Blob,
    pub layers: Vec<Blob>,
    /// The manifest's exact bytes (its digest is the artifact's digest).
    pub manifest: Vec<u8>,
    pub digest: String,
}

/// Which layout to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// The CNCF Wasm artifact: one `application/wasm` layer.
    #[default]
    Wasm,
    /// A single-layer OCI image for platform `wasi/wasm` (containerd Wasm shims run it).
    Image,
}

/// What the artifact is made of.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The module (shared: the layer is these very bytes, not a copy).
    pub wasm: bytes::Bytes,
    /// The file name, e.g. `hello.wasm` (layer title, image entrypoint).
    pub file_name: &'a str,
    /// RFC 3339.
    pub created: &'a str,
    /// Manifest annotations (created and title are added).
    pub annotations: &'a BTreeMap<String, String>,
}

/// Whether the bytes are a component (else a core module).
pub fn is_component(wasm: &[u8]) -> bool {
    wasm.len() >= 8 && wasm[..4] == *b"\0asm" && wasm[4..8] == [0x0d, 0x00, 0x01, 0x00]
}

/// The top-level import and export names of a component (`wasi:cli/run@0.2.0`, …).
pub fn component_world(wasm: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(wasmparser::Payload::Version { .. }) => depth += 1,
            Ok(wasmparser::Payload::End(_)) => depth = depth.saturating_sub(1),
            Ok(wasmparser::Payload::ComponentImportSection(reader)) if depth == 1 => {
                imports.extend(
                    reader
                        .into_iter()
                        .flatten()
                        .map(|i| i.name.name.to_string()),
                );
            }
            Ok(wasmparser::Payload::ComponentExportSection(reader)) if depth == 1 => {
                exports.extend(
                    reader
                        .into_iter()
                        .flatten()
                        .map(|e| e.name.name.to_string()),
                );
            }
            Err(_) => break,
            _ => {}
        }
    }
    (imports, exports)
}

/// Builds the artifact for `layout`.
pub fn build(input: &Input<'_>, layout: Layout) -> Result<Artifact> {
    let mut annotations = input.annotations.clone();
    annotations
        .entry("org.opencontainers.image.created".into())
        .or_insert_with(|| input.created.to_string());
    annotations
        .entry("org.opencontainers.image.title".into())
        .or_insert_with(|| input.file_name.to_string());
    let (config, layer) = match layout {
        Layout::Wasm => {
            let layer = Blob::new(WASM_LAYER, input.wasm.clone());
            let component = is_component(&input.wasm);
            let mut config = json!({
                "created": input.created,
                "architecture": "wasm",
                "os": if component { "wasip2" } else { "wasip1" },
                "layerDigests": [layer.digest],
            });
            if component {
                let (imports, exports) = component_world(&input.wasm);
                config["component"] = json!({ "imports": imports, "exports": exports });
            }
            (Blob::new(WASM_CONFIG, to_bytes(&config)), layer)
        }
        Layout::Image => {
            let tar = image_tar(input)?;
            let diff_id = digest_of(&tar);
            let gz = gzip(&tar)?;
            let layer = Blob::new(IMAGE_LAYER, gz);
            let config = json!({
                "created": input.created,
                "architecture": "wasm",
                "os": "wasi",
                "config": { "Entrypoint": [format!("/{}", input.file_name)] },
                "rootfs": { "type": "layers", "diff_ids": [diff_id] },
            });
            (Blob::new(IMAGE_CONFIG, to_bytes(&config)), layer)
        }
    };
    let mut layer_descriptor = layer.descriptor();
    if layout == Layout::Wasm {
        layer_descriptor["annotations"] =
            json!({ "org.opencontainers.image.title": input.file_name });
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": config.descriptor(),
        "layers": [layer_descriptor],
        "annotations": annotations,
    });
    let manifest = to_bytes(&manifest);
    Ok(Artifact {
        digest: digest_of(&manifest),
        config,
        layers: vec![layer],
        manifest,
    })
}

/// An app's artifact: `config` (the app's description, JSON) and each service's component as a
/// layer titled `NAME.wasm`, in order. A component the destination already has (by digest) is
/// not uploaded again.
pub fn build_app(
    config: Vec<u8>,
    components: &[(String, bytes::Bytes)],
    created: &str,
    annotations: &BTreeMap<String, String>,
) -> Result<Artifact> {
    let mut annotations = annotations.clone();
    annotations
        .entry("org.opencontainers.image.created".into())
        .or_insert_with(|| created.to_string());
    let config = Blob::new(APP_CONFIG, config);
    let layers: Vec<Blob> = components
        .iter()
        .map(|(_, wasm)| Blob::new(WASM_LAYER, wasm.clone()))
        .collect();
    let descriptors: Vec<Value> = layers
        .iter()
        .zip(components)
        .map(|(layer, (name, _))| {
            let mut d = layer.descriptor();
            d["annotations"] = json!({ "org.opencontainers.image.title": format!("{name}.wasm") });
            d
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": APP_ARTIFACT,
        "config": config.descriptor(),
        "layers": descriptors,
        "annotations": annotations,
    });
    let manifest = to_bytes(&manifest);
    Ok(Artifact {
        digest: digest_of(&manifest),
        config,
        layers,
        manifest,
    })
}

/// Compact JSON with sorted keys (serde_json's map is ordered by key).
fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// A tar holding the module at its root, with fixed owner, mode and time.
fn image_tar(input: &Input<'_>) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(input.wasm.len() as u64);
    header.set_mode(0o755);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, input.file_name, &input.wasm[..])?;
    Ok(builder.into_inner()?)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// A manifest's layer (or an index's entry) as pull reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    /// As declared: never trusted for allocation, only as the most to read.
    pub size: Option<u64>,
}

fn descriptor(v: &Value) -> Option<Descriptor> {
    Some(Descriptor {
        media_type: v["mediaType"].as_str().unwrap_or_default().to_string(),
        digest: v["digest"].as_str()?.to_string(),
        size: v["size"].as_u64(),
    })
}

/// What a fetched manifest says to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// An index: fetch this manifest (the `wasi/wasm` entry).
    Manifest(Descriptor),
    /// A Wasm layer to fetch.
    WasmLayer(Descriptor),
    /// A `wasi/wasm` image layer (tar+gzip) holding the module.
    ImageLayer(Descriptor),
    /// An app: its config (the services) and their components.
    App {
        config: Descriptor,
        components: Vec<Descriptor>,
    },
}

/// Reads a manifest or index and says which blob holds the module.
pub fn next_step(manifest: &[u8], reference: &str) -> Result<Next> {
    let not_wasm = |found: String| Error::NotWasm {
        reference: reference.to_string(),
        found,
    };
    let value: Value = serde_json::from_slice(manifest)
        .map_err(|e| not_wasm(format!("its manifest is not JSON ({e})")))?;
    let media_type = value["mediaType"].as_str().unwrap_or_default();
    if let Some(entries) = value["manifests"].as_array() {
        let platform = |e: &Value| {
            (
                e["platform"]["os"].as_str().unwrap_or("").to_string(),
                e["platform"]["architecture"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        };
        let found = entries.iter().find(|e| {
            let (os, arch) = platform(e);
            arch == "wasm" && (os == "wasi" || os.starts_with("wasip"))
        });
        return match found.and_then(descriptor) {
            Some(d) => Ok(Next::Manifest(d)),
            None => {
                let platforms: Vec<String> = entries
                    .iter()
                    .map(|e| {
                        let (os, arch) = platform(e);
                        format!("{os}/{arch}")
                    })
                    .collect();
                Err(not_wasm(format!(
                    "an image index without a wasi/wasm entry (platforms: {})",
                    platforms.join(", ")
                )))
            }
        };
    }
    let layers: Vec<Descriptor> = value["layers"]
        .as_array()
        .map(|l| l.iter().filter_map(descriptor).collect())
        .unwrap_or_default();
    if layers.is_empty() {
        return Err(not_wasm(format!(
            "a {} with no layers",
            if media_type.is_empty() {
                "manifest"
            } else {
                media_type
            }
        )));
    }
    let config_type = value["config"]["mediaType"].as_str().unwrap_or_default();
    if config_type == APP_CONFIG {
        let config = descriptor(&value["config"])
            .ok_or_else(|| not_wasm("an app whose manifest names no config".into()))?;
        if let Some(other) = layers.iter().find(|l| l.media_type != WASM_LAYER) {
            return Err(not_wasm(format!(
                "an app with a layer of type {}",
                other.media_type
            )));
        }
        return Ok(Next::App {
            config,
            components: layers,
        });
    }
    let wasm: Vec<&Descriptor> = layers
        .iter()
        .filter(|l| {
            l.media_type == WASM_LAYER || LEGACY_WASM_LAYERS.contains(&l.media_type.as_str())
        })
        .collect();
    match wasm.as_slice() {
        [one] => Ok(Next::WasmLayer((*one).clone())),
        [] if layers.len() == 1
            && (layers[0].media_type == IMAGE_LAYER
                || layers[0].media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip") =>
        {
            Ok(Next::ImageLayer(layers[0].clone()))
        }
        [] => Err(not_wasm(format!(
            "its layers are {} (config {config_type})",
            layers
                .iter()
                .map(|l| l.media_type.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        many => Err(not_wasm(format!(
            "it has {} Wasm layers; wasmforge pulls artifacts with exactly one",
            many.len()
        ))),
    }
}

/// The module inside a `wasi/wasm` image layer: the only `.wasm` file in the tar.
pub fn wasm_from_image_layer(gz: &[u8], reference: &str, max_size: u64) -> Result<Vec<u8>> {
    module_in_image_layer(gz, reference, max_size).map(|(_, bytes)| bytes)
}

/// [`wasm_from_image_layer`] with the module's path in the layer (`hello.wasm`).
pub fn module_in_image_layer(
    gz: &[u8],
    reference: &str,
    max_size: u64,
) -> Result<(String, Vec<u8>)> {
    use std::io::Read as _;
    let too_large = || Error::TooLarge {
        what: "the image layer, decompressed".into(),
        size: None,
        limit: max_size,
    };
    // A few kilobytes of gzip can expand to gigabytes: the decompressed stream is capped.
    let capped = Capped {
        inner: flate2::read::GzDecoder::new(gz),
        left: max_size,
    };
    let mut archive = tar::Archive::new(capped);
    let over = |e: &std::io::Error| e.kind() == std::io::ErrorKind::FileTooLarge;
    let mut found: Vec<(String, Vec<u8>)> = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| if over(&e) { too_large() } else { e.into() })?;
    for entry in entries {
        let mut entry = entry.map_err(|e| if over(&e) { too_large() } else { e.into() })?;
        let name = entry.path()?.display().to_string();
        if !name.ends_with(".wasm") {
            continue;
        }
        // Only a file's own bytes: a link or a device named `.wasm` is not a module.
        if !entry.header().entry_type().is_file() {
            return Err(Error::NotWasm {
                reference: reference.to_string(),
                found: format!(
                    "an image whose `{name}` is a {:?} entry, not a regular file",
                    entry.header().entry_type()
                ),
            });
        }
        if entry.size() > max_size {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| if over(&e) { too_large() } else { Error::Io(e) })?;
        found.push((name, bytes));
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(Error::NotWasm {
            reference: reference.to_string(),
            found: format!("an image whose layer holds {n} .wasm files"),
        }),
    }
}

/// A reader that fails (`FileTooLarge`) once it has produced more than `left` bytes.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: std::io::Read> std::io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "decompressed past the size limit",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &[u8] = b"\0asm\x01\0\0\0";

    fn input<'a>(annotations: &'a BTreeMap<String, String>) -> Input<'a> {
        Input {
            wasm: bytes::Bytes::from_static(MODULE),
            file_name: "hello.wasm",
            created: "2026-01-01T00:00:00Z",
            annotations,
        }
    }

    #[test]
    fn wasm_artifact_follows_the_cncf_layout_and_is_reproducible() {
        let annotations = BTreeMap::from([(
            "org.opencontainers.image.version".to_string(),
            "1.0".to_string(),
        )]);
        let a = build(&input(&annotations), Layout::Wasm).expect("build");
        let b = build(&input(&annotations), Layout::Wasm).expect("build");
        assert_eq!(a.digest, b.digest, "same input, same digest");
        let manifest: Value = serde_json::from_slice(&a.manifest).expect("json");
        assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG);
        assert_eq!(manifest["layers"][0]["mediaType"], WASM_LAYER);
        assert_eq!(
            manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
            "hello.wasm"
        );
        assert_eq!(
            manifest["annotations"]["org.opencontainers.image.created"],
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(
            manifest["annotations"]["org.opencontainers.image.version"],
            "1.0"
        );
        let config: Value = serde_json::from_slice(&a.config.bytes).expect("json");
        assert_eq!(config["os"], "wasip1");
        assert_eq!(config["architecture"], "wasm");
        assert_eq!(config["layerDigests"][0], a.layers[0].digest);
        assert!(config.get("component").is_none());
        assert_eq!(
            next_step(&a.manifest, "x").expect("next"),
            Next::WasmLayer(Descriptor {
                media_type: WASM_LAYER.into(),
                digest: a.layers[0].digest.clone(),
                size: Some(MODULE.len() as u64),
            })
        );
    }

    #[test]
    fn image_layout_holds_the_module_and_its_entrypoint() {
        let annotations = BTreeMap::new();
        let a = build(&input(&annotations), Layout::Image).expect("build");
        let config: Value = serde_json::from_slice(&a.config.bytes).expect("json");
        assert_eq!(
            (config["os"].as_str(), config["architecture"].as_str()),
            (Some("wasi"), Some("wasm"))
        );
        assert_eq!(config["config"]["Entrypoint"][0], "/hello.wasm");
        assert!(matches!(
            next_step(&a.manifest, "x").expect("next"),
            Next::ImageLayer(_)
        ));
        assert_eq!(
            wasm_from_image_layer(&a.layers[0].bytes, "x", 1 << 20).expect("wasm"),
            MODULE
        );
        assert_eq!(
            build(&input(&annotations), Layout::Image)
                .expect("again")
                .digest,
            a.digest
        );
    }

    #[test]
    fn indexes_resolve_to_wasi_wasm_and_other_artifacts_are_named() {
        let index = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [
            {"mediaType": MANIFEST, "digest": "sha256:1", "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": MANIFEST, "digest": "sha256:2", "size": 2, "platform": {"os": "wasi", "architecture": "wasm"}}
        ]});
        match next_step(&to_bytes(&index), "x").expect("next") {
            Next::Manifest(d) => assert_eq!(d.digest, "sha256:2"),
            other => panic!("{other:?}"),
        }
        let linux_only = json!({"manifests": [{"digest": "sha256:1", "platform": {"os": "linux", "architecture": "arm64"}}]});
        let err = next_step(&to_bytes(&linux_only), "x").expect_err("no wasm");
        assert!(err.to_string().contains("linux/arm64"), "{err}");
        let image = json!({"config": {"mediaType": IMAGE_CONFIG}, "layers": [
            {"mediaType": IMAGE_LAYER, "digest": "sha256:a", "size": 1},
            {"mediaType": IMAGE_LAYER, "digest": "sha256:b", "size": 1}]});
        let err = next_step(&to_bytes(&image), "x").expect_err("not wasm");
        assert!(
            err.to_string()
                .contains("tar+gzip, application/vnd.oci.image.layer.v1.tar+gzip"),
            "{err}"
        );
        let two = json!({"layers": [
            {"mediaType": WASM_LAYER, "digest": "sha256:a", "size": 1},
            {"mediaType": LEGACY_WASM_LAYERS[0], "digest": "sha256:b", "size": 1}]});
        assert!(
            next_step(&to_bytes(&two), "x")
                .expect_err("two")
                .to_string()
                .contains("2 Wasm layers")
        );
        let spin = json!({"layers": [{"mediaType": LEGACY_WASM_LAYERS[1], "digest": "sha256:c", "size": 3}]});
        assert!(matches!(
            next_step(&to_bytes(&spin), "x"),
            Ok(Next::WasmLayer(_))
        ));
    }
}
