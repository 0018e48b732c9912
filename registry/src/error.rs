//! Errors that say which of the usual registry failures happened, each with a hint.

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A cause kept as it came (reqwest's, oci-client's, serde's), so its chain is reported whole.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid reference `{given}`: {why}")]
    BadReference { given: String, why: String },

    #[error("{what} was not found")]
    NotFound { what: String },

    #[error("{registry} {}", if *had_credentials { "rejected the credentials (401 unauthorized)" } else { "needs credentials (401 unauthorized)" })]
    Unauthorized {
        registry: String,
        had_credentials: bool,
    },

    #[error("{registry} denied access to {repository} (403 forbidden)")]
    Forbidden {
        registry: String,
        repository: String,
    },

    #[error("cannot reach the registry {registry}")]
    Unreachable {
        registry: String,
        #[source]
        source: BoxError,
    },

    #[error("TLS failed talking to {registry}")]
    Tls {
        registry: String,
        #[source]
        source: BoxError,
    },

    /// `--ca-file` is not a PEM certificate (a usage error, exit 2).
    #[error("--ca-file `{}` is not a PEM certificate", path.display())]
    BadCaFile {
        path: std::path::PathBuf,
        #[source]
        source: BoxError,
    },

    /// A request to the registry failed in a way none of the above names (an unexpected
    /// status, a broken answer); its cause says how.
    #[error("a request to the registry {registry} failed")]
    Request {
        registry: String,
        #[source]
        source: BoxError,
    },

    /// The docker config file (`~/.docker/config.json`) cannot be used; nothing was changed.
    #[error("`{}` {why}", path.display())]
    DockerConfig {
        path: std::path::PathBuf,
        why: String,
        #[source]
        source: Option<BoxError>,
    },

    /// A docker credential helper could not be run, or failed, or answered nonsense.
    #[error("the credential helper `{program}` {why}")]
    CredentialHelper {
        program: String,
        why: String,
        #[source]
        source: Option<BoxError>,
    },

    #[error("{what} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    #[error("{what} is larger than {limit} bytes{}", size.map(|s| format!(" ({s} bytes)")).unwrap_or_default())]
    TooLarge {
        what: String,
        size: Option<u64>,
        limit: u64,
    },

    #[error("{what} does not match what its manifest declares: {why}")]
    Inconsistent { what: String, why: String },

    #[error("`{reference}` is not a Wasm artifact: {found}")]
    NotWasm { reference: String, found: String },

    /// An app's artifact where one module was expected.
    #[error("`{reference}` is an app of {services} services, not one module")]
    IsApp { reference: String, services: usize },

    #[error("`{}` is not an OCI image layout folder: {why}", path.display())]
    BadLayout {
        path: std::path::PathBuf,
        why: String,
    },

    #[error("the registry {registry} answered with an error: {detail}")]
    Registry { registry: String, detail: String },

    /// A file named on the command line does not exist (a usage error, exit 2).
    #[error("{flag} `{}`: no such file", path.display())]
    NoSuchFile {
        flag: &'static str,
        path: std::path::PathBuf,
    },

    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Whether the reference itself was wrong (a usage error, exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::BadReference { .. } | Error::NoSuchFile { .. } | Error::BadCaFile { .. }
        )
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Error::BadReference { .. } => {
                "references look like `registry/repository[:tag][@sha256:…]` \
                 (`ghcr.io/acme/app:1.0`, `localhost:5000/app`, `app` for docker.io/library/app), \
                 or `oci:DIR[:TAG]` for a local OCI layout folder"
                    .into()
            }
            Error::TooLarge { .. } => "nothing was written; if you trust the source and the module is \
                 really that large, raise the limit with `--max-size` (manifests stay capped at 4 MiB)"
                .into(),
            Error::Inconsistent { .. } => "nothing was written: the source is broken or hostile; \
                 pull from another source or ask its owner"
                .into(),
            Error::NotFound { .. } => "check the repository and tag (tags are case-sensitive); \
                 for a private repository, log in first: `wasmforge login REGISTRY`"
                .into(),
            Error::Unauthorized {
                registry,
                had_credentials: true,
            } => format!(
                "the username or password for {registry} is wrong or expired: `wasmforge login {registry}` again"
            ),
            Error::Unauthorized { registry, .. } => format!(
                "{registry} needs credentials: `wasmforge login {registry}`, or set WASMFORGE_REGISTRY={registry} with WASMFORGE_REGISTRY_USERNAME and WASMFORGE_REGISTRY_PASSWORD"
            ),
            Error::Forbidden { .. } => {
                "the credentials are valid but lack permission for this repository \
                 (a token needs the write:packages / push scope to push)"
                    .into()
            }
            Error::Unreachable { .. } => {
                "check the address and port and that the registry is running; \
                 plain HTTP is used only for localhost and registries given with --insecure"
                    .into()
            }
            Error::Tls { .. } => {
                "for a private CA pass `--ca-file CA.pem`; for a plain-HTTP registry pass \
                 `--insecure REGISTRY`"
                    .into()
            }
            Error::DigestMismatch { .. } => {
                "the content was changed or damaged in storage or transit; nothing \
                 was written. Push it again from a known-good copy"
                    .into()
            }
            Error::NotWasm { .. } => {
                "wasmforge pulls artifacts with one `application/wasm` layer (also the \
                 legacy Spin/wash layer types) and `wasi/wasm` images"
                    .into()
            }
            Error::IsApp { .. } => {
                "`wasmforge serve REF` pulls and serves every service of an app".into()
            }
            Error::BadLayout { .. } => {
                "an OCI layout folder has `oci-layout`, `index.json` and `blobs/`; \
                 push to a new or empty folder to create one"
                    .into()
            }
            Error::NoSuchFile { .. } | Error::BadCaFile { .. } => {
                "give the path of a PEM certificate file (`-----BEGIN CERTIFICATE-----`)".into()
            }
            Error::DockerConfig { .. } => "fix or move the file (DOCKER_CONFIG points at another folder); \
                 wasmforge edits only a JSON object in docker's own shape"
                .into(),
            Error::CredentialHelper { program, .. } => format!(
                "check that `{program}` is on PATH and works (`echo REGISTRY | {program} get`), or remove \
                 `credsStore`/`credHelpers` from the docker config to store credentials in the file"
            ),
            Error::Registry { .. } | Error::Request { .. } | Error::Io(_) => return None,
        })
    }
}
