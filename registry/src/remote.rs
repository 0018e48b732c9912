//! Registries over HTTP with oci-client: blobs are checked and pushed one by one (so what the
//! registry has is not uploaded again), the manifest is pushed as exact bytes (so its digest is
//! ours), and every pulled manifest and blob is verified against its digest.

use std::path::PathBuf;
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};

use crate::error::{Error, Result};
use crate::manifest::{self, Artifact, Next};
use crate::{PullReport, Pulled, PushReport, digest_of, verify};

/// Credentials for one registry.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    Anonymous,
    Basic {
        username: String,
        password: String,
    },
    /// A refresh token (docker config `identitytoken`, or a helper's `<token>` user), exchanged
    /// for an access token at the registry's token endpoint.
    IdentityToken(String),
    /// An access token, used as it is.
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Anonymous => write!(f, "Anonymous"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, ****)"),
            Auth::IdentityToken(_) => write!(f, "IdentityToken(****)"),
            Auth::Bearer(_) => write!(f, "Bearer(****)"),
        }
    }
}

impl Auth {
    fn to_oci(&self) -> RegistryAuth {
        match self {
            Auth::Anonymous => RegistryAuth::Anonymous,
            Auth::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.clone())
            }
            Auth::Bearer(token) => RegistryAuth::Bearer(token.clone()),
            // Exchanged for an access token before use (`with_access_token`).
            Auth::IdentityToken(_) => RegistryAuth::Anonymous,
        }
    }

    /// `WASMFORGE_REGISTRY_USERNAME` and `WASMFORGE_REGISTRY_PASSWORD`, when both are set:
    /// `Ok` for the registry `WASMFORGE_REGISTRY` names, `Err(why)` for any other (they are
    /// never sent to a host they were not meant for), `Ok(Anonymous)` when they are not set.
    pub fn from_env(registry: &str) -> std::result::Result<Auth, String> {
        let (Ok(username), Ok(password)) = (
            std::env::var("WASMFORGE_REGISTRY_USERNAME"),
            std::env::var("WASMFORGE_REGISTRY_PASSWORD"),
        ) else {
            return Ok(Auth::Anonymous);
        };
        if username.is_empty() {
            return Ok(Auth::Anonymous);
        }
        let meant = std::env::var("WASMFORGE_REGISTRY").unwrap_or_default();
        if meant.trim().is_empty() {
            return Err(
                "WASMFORGE_REGISTRY_USERNAME/PASSWORD are set, but WASMFORGE_REGISTRY does not say which registry they are for"
                    .into(),
            );
        }
        if crate::auth::normalize(&meant) != crate::auth::normalize(registry) {
            return Err(format!(
                "WASMFORGE_REGISTRY_USERNAME/PASSWORD are for {}, not {registry}",
                crate::auth::normalize(&meant)
            ));
        }
        Ok(Auth::Basic { username, password })
    }
}

/// How to talk to registries.
#[derive(Debug, Clone)]
pub struct Options {
    /// Registries (host[:port]) to reach over plain HTTP; localhost and 127.0.0.1 always are.
    pub insecure: Vec<String>,
    /// Extra CA certificates (PEM) to trust.
    pub ca_file: Option<PathBuf>,
    pub auth: Auth,
    /// The largest blob (and decompressed image layer) a pull accepts.
    pub max_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            insecure: Vec::new(),
            ca_file: None,
            auth: Auth::default(),
            max_size: crate::DEFAULT_MAX_SIZE,
        }
    }
}

fn is_local(registry: &str) -> bool {
    let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// The `--ca-file` certificate (PEM).
fn read_ca(path: &std::path::Path) -> Result<Vec<u8>> {
    match fs_err::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NoSuchFile {
            flag: "--ca-file",
            path: path.to_path_buf(),
        }),
        other => Ok(other?),
    }
}

fn client(reference: &Reference, options: &Options) -> Result<Client> {
    // One process-wide TLS provider (ring); a second install is a harmless no-op error.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut plain: Vec<String> = options.insecure.clone();
    if is_local(reference.registry()) {
        plain.push(reference.registry().to_string());
    }
    let mut extra_root_certificates = Vec::new();
    if let Some(ca) = &options.ca_file {
        extra_root_certificates.push(Certificate {
            encoding: CertificateEncoding::Pem,
            data: read_ca(ca)?,
        });
    }
    let config = ClientConfig {
        protocol: ClientProtocol::HttpsExcept(plain),
        extra_root_certificates,
        // POST then one PUT per blob (chunked is POST, PATCH, PUT).
        use_monolithic_push: true,
        connect_timeout: Some(Duration::from_secs(10)),
        read_timeout: Some(Duration::from_secs(120)),
        user_agent: concat!("wasmforge/", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    Ok(Client::new(config))
}

/// Turns oci-client's errors into the ones users can act on.
fn classify(err: OciDistributionError, reference: &Reference, options: &Options) -> Error {
    let registry = reference.registry().to_string();
    let had_credentials = !matches!(options.auth, Auth::Anonymous);
    let not_found = || Error::NotFound {
        what: format!("`{}`", reference.whole()),
    };
    match err {
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. } => Error::Unauthorized {
            registry,
            had_credentials,
        },
        OciDistributionError::ImageManifestNotFoundError(_) => not_found(),
        OciDistributionError::ServerError { code: 404, .. } => not_found(),
        OciDistributionError::ServerError { code: 401, .. } => Error::Unauthorized {
            registry,
            had_credentials,
        },
        OciDistributionError::ServerError { code: 403, .. } => Error::Forbidden {
            registry,
            repository: reference.repository().to_string(),
        },
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            if codes.iter().any(|c| {
                matches!(
                    c,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::BlobUnknown
                        | OciErrorCode::NotFound
                )
            }) {
                not_found()
            } else if codes
                .iter()
                .any(|c| matches!(c, OciErrorCode::Unauthorized))
            {
                Error::Unauthorized {
                    registry,
                    had_credentials,
                }
            } else if codes.iter().any(|c| matches!(c, OciErrorCode::Denied)) {
                Error::Forbidden {
                    registry,
                    repository: reference.repository().to_string(),
                }
            } else {
                Error::Registry {
                    registry,
                    detail: envelope.to_string(),
                }
            }
        }
        OciDistributionError::RequestError(e) if e.status().is_some() => {
            match e.status().map(|s| s.as_u16()) {
                Some(401) => Error::Unauthorized {
                    registry,
                    had_credentials,
                },
                Some(403) => Error::Forbidden {
                    registry,
                    repository: reference.repository().to_string(),
                },
                Some(404) => not_found(),
                _ => Error::Request {
                    registry,
                    source: e.into(),
                },
            }
        }
        OciDistributionError::RequestError(e) => {
            let chain = error_chain(&e);
            let lower = chain.to_ascii_lowercase();
            if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
            {
                Error::Tls {
                    registry,
                    source: e.into(),
                }
            } else if e.is_connect()
                || e.is_timeout()
                || lower.contains("connection")
                || lower.contains("dns")
            {
                Error::Unreachable {
                    registry,
                    source: e.into(),
                }
            } else {
                Error::Request {
                    registry,
                    source: e.into(),
                }
            }
        }
        other => Error::Request {
            registry,
            source: other.into(),
        },
    }
}

/// The options with an identity token exchanged for an access token (docker's refresh-token
/// flow, which oci-client does not do): the registry's `/v2/` names the token endpoint in its
/// `WWW-Authenticate: Bearer realm=…,service=…` challenge; a form POST there with
/// `grant_type=refresh_token` answers with `access_token`.
async fn with_access_token(
    reference: &Reference,
    options: &Options,
    actions: &str,
) -> Result<Options> {
    let Auth::IdentityToken(refresh) = &options.auth else {
        return Ok(options.clone());
    };
    let registry = reference.resolve_registry().to_string();
    let unauthorized = || Error::Unauthorized {
        registry: reference.registry().to_string(),
        had_credentials: true,
    };
    let http = http_client(reference, options)?;
    let plain = is_local(reference.registry())
        || options.insecure.iter().any(|r| r == reference.registry());
    let scheme = if plain { "http" } else { "https" };
    let probe = http
        .get(format!("{scheme}://{registry}/v2/"))
        .send()
        .await
        .map_err(|e| classify(OciDistributionError::RequestError(e), reference, options))?;
    let challenge = probe
        .headers()
        .get(http::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(parse_challenge)
        .unwrap_or_default();
    let Some(realm) = challenge.get("realm") else {
        return Err(unauthorized());
    };
    // The refresh token is a long-lived secret: it goes over TLS unless the registry itself is
    // reached over plain HTTP (a local one, or one named with --insecure).
    if !realm_allowed(realm, plain) {
        return Err(Error::Registry {
            registry: reference.registry().to_string(),
            detail: format!(
                "its token endpoint `{realm}` is not HTTPS: the identity token was not sent"
            ),
        });
    }
    let mut form = vec![
        ("grant_type", "refresh_token".to_string()),
        ("refresh_token", refresh.clone()),
        ("client_id", "wasmforge".to_string()),
        (
            "scope",
            format!("repository:{}:{actions}", reference.repository()),
        ),
    ];
    if let Some(service) = challenge.get("service") {
        form.push(("service", service.clone()));
    }
    let response = http
        .post(realm)
        .form(&form)
        .send()
        .await
        .map_err(|e| classify(OciDistributionError::RequestError(e), reference, options))?;
    if !response.status().is_success() {
        return Err(unauthorized());
    }
    let body: serde_json::Value = response.json().await.map_err(|_| unauthorized())?;
    let token = body["access_token"]
        .as_str()
        .or_else(|| body["token"].as_str())
        .ok_or_else(unauthorized)?;
    Ok(Options {
        auth: Auth::Bearer(token.to_string()),
        ..options.clone()
    })
}

/// Whether a refresh token may be posted to `realm`: over HTTPS, or over plain HTTP only when the
/// registry itself is reached over plain HTTP (a local one, or one named with `--insecure`).
fn realm_allowed(realm: &str, registry_is_plain: bool) -> bool {
    let realm = realm.trim().to_ascii_lowercase();
    realm.starts_with("https://") || (registry_is_plain && realm.starts_with("http://"))
}

/// `Bearer realm="https://auth/token",service="registry",scope="…"` → its parameters.
pub fn parse_challenge(header: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let trimmed = header.trim();
    let Some(params) = trimmed
        .strip_prefix("Bearer ")
        .or_else(|| trimmed.strip_prefix("bearer "))
    else {
        return out;
    };
    let mut rest = params.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        let (value, remaining) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            },
        };
        out.insert(key, value.to_string());
        rest = remaining.trim_start_matches([',', ' ']);
    }
    out
}

/// A plain HTTP client with the same trust as the registry client (for the token exchange).
fn http_client(reference: &Reference, options: &Options) -> Result<reqwest::Client> {
    client_with(reference, options, |b| b.timeout(Duration::from_secs(60)))
}

/// The client pulls fetch with: no limit on a whole download (a large module takes time), only
/// on a read that stalls.
fn fetch_client(reference: &Reference, options: &Options) -> Result<reqwest::Client> {
    client_with(reference, options, |b| {
        b.read_timeout(Duration::from_secs(120))
    })
}

fn client_with(
    reference: &Reference,
    options: &Options,
    timeouts: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = timeouts(
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("wasmforge/", env!("CARGO_PKG_VERSION"))),
    );
    if let Some(ca) = &options.ca_file {
        let pem = read_ca(ca)?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| Error::BadCaFile {
            path: ca.clone(),
            source: e.into(),
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|e| Error::Request {
        registry: reference.registry().to_string(),
        source: e.into(),
    })
}

/// How often a request that failed for a passing reason is tried, in all.
const ATTEMPTS: u32 = 4;

/// Runs `request` again, with a doubling pause, when it fails for a reason that may pass:
/// a refused or reset connection, a timeout, a 5xx answer or 429 (oci-client does not retry).
async fn retrying<T, F, Fut>(mut request: F) -> std::result::Result<T, OciDistributionError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, OciDistributionError>>,
{
    let mut pause = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match request().await {
            Err(e) if attempt < ATTEMPTS && transient(&e) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn transient(e: &OciDistributionError) -> bool {
    let status_transient = |code: u16| code == 429 || (500..600).contains(&code);
    match e {
        OciDistributionError::RequestError(e) => {
            e.is_connect()
                || e.is_timeout()
                || e.status().is_some_and(|s| status_transient(s.as_u16()))
        }
        OciDistributionError::ServerError { code, .. } => status_transient(*code),
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::Toomanyrequests)),
        _ => false,
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Pushes `artifact` to `reference` and to each of `tags` in the same repository.
pub fn push(
    reference: &Reference,
    tags: &[String],
    artifact: &Artifact,
    options: &Options,
) -> Result<PushReport> {
    runtime()?.block_on(push_async(reference, tags, artifact, options))
}

async fn push_async(
    reference: &Reference,
    tags: &[String],
    artifact: &Artifact,
    options: &Options,
) -> Result<PushReport> {
    // A tag goes into the manifest URL: `../../other/manifests/x` would write elsewhere.
    for tag in tags {
        crate::reference::check_tag(tag).map_err(|why| Error::BadReference {
            given: tag.clone(),
            why,
        })?;
    }
    let options = &with_access_token(reference, options, "pull,push").await?;
    let client = client(reference, options)?;
    let fail = |e| classify(e, reference, options);
    let oci_auth = options.auth.to_oci();
    retrying(|| client.auth(reference, &oci_auth, RegistryOperation::Push))
        .await
        .map_err(fail)?;
    let mut uploaded = 0;
    let mut skipped = 0;
    for blob in std::iter::once(&artifact.config).chain(&artifact.layers) {
        if retrying(|| client.blob_exists(reference, &blob.digest))
            .await
            .map_err(fail)?
        {
            skipped += 1;
            continue;
        }
        retrying(|| client.push_blob(reference, blob.bytes.clone(), &blob.digest))
            .await
            .map_err(fail)?;
        uploaded += 1;
    }
    let content_type = http::HeaderValue::from_static(manifest::MANIFEST);
    let mut references = Vec::new();
    let targets: Vec<Reference> = if tags.is_empty() {
        vec![reference.clone()]
    } else {
        tags.iter()
            .map(|t| {
                Reference::with_tag(
                    reference.registry().to_string(),
                    reference.repository().to_string(),
                    t.clone(),
                )
            })
            .collect()
    };
    for target in &targets {
        retrying(|| {
            client.push_manifest_raw(target, artifact.manifest.clone(), content_type.clone())
        })
        .await
        .map_err(fail)?;
        references.push(target.whole());
    }
    let size = artifact.config.bytes.len()
        + artifact.layers.iter().map(|l| l.bytes.len()).sum::<usize>()
        + artifact.manifest.len();
    Ok(PushReport {
        references,
        digest: artifact.digest.clone(),
        config_media_type: artifact.config.media_type.clone(),
        uploaded,
        skipped,
        size: size as u64,
    })
}

/// Checks credentials against `registry` (for `login`): a manifest request for a repository
/// that need not exist; "not found" means the credentials were accepted.
pub fn check_credentials(registry: &str, options: &Options) -> Result<()> {
    let reference = Reference::with_tag(
        registry.to_string(),
        "wasmforge/login-check".to_string(),
        "latest".to_string(),
    );
    runtime()?.block_on(async {
        let options = &with_access_token(&reference, options, "pull").await?;
        let client = client(&reference, options)?;
        let fail = |e| classify(e, &reference, options);
        client
            .auth(&reference, &options.auth.to_oci(), RegistryOperation::Pull)
            .await
            .map_err(fail)?;
        match client
            .fetch_manifest_digest(&reference, &options.auth.to_oci())
            .await
            .map_err(fail)
        {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    })
}

/// Pulls the module at `reference`, verifying every digest on the way (an app is an error
/// saying so: [`pull_any`] takes either).
pub fn pull(reference: &Reference, options: &Options) -> Result<(Vec<u8>, PullReport)> {
    match pull_any(reference, options)? {
        (Pulled::Module(wasm), report) => Ok((wasm, report)),
        (Pulled::App { components, .. }, report) => Err(Error::IsApp {
            reference: report.reference,
            services: components.len(),
        }),
    }
}

/// Pulls what `reference` holds, a module or an app, verifying every digest on the way.
pub fn pull_any(reference: &Reference, options: &Options) -> Result<(Pulled, PullReport)> {
    runtime()?.block_on(pull_async(reference, options))
}

/// One GET of a manifest or blob, read as it arrives and cut off at `limit` bytes: what a
/// registry declares or sends is never trusted for allocation. The outer error is a request that
/// failed (retried and classified like oci-client's); the inner one, a body over the limit.
async fn bounded_get(
    http: &reqwest::Client,
    url: &str,
    accept: &[&str],
    authorization: Option<&str>,
    limit: u64,
    what: &str,
) -> std::result::Result<Result<Vec<u8>>, OciDistributionError> {
    let mut request = http.get(url);
    if !accept.is_empty() {
        request = request.header(http::header::ACCEPT, accept.join(", "));
    }
    if let Some(value) = authorization {
        request = request.header(http::header::AUTHORIZATION, value);
    }
    let mut response = request.send().await?;
    let status = response.status();
    if !status.is_success() {
        let mut body = Vec::new();
        // An error body is for a message: a few kilobytes are plenty.
        while let Some(chunk) = response.chunk().await? {
            body.extend_from_slice(&chunk);
            if body.len() > 16 * 1024 {
                break;
            }
        }
        let text = String::from_utf8_lossy(&body);
        let message = text.chars().take(512).collect::<String>();
        return Err(OciDistributionError::ServerError {
            code: status.as_u16(),
            url: url.to_string(),
            message,
        });
    }
    if let Some(length) = response.content_length()
        && length > limit
    {
        return Ok(Err(Error::TooLarge {
            what: what.to_string(),
            size: Some(length),
            limit,
        }));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Ok(Err(Error::TooLarge {
                what: what.to_string(),
                size: None,
                limit,
            }));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Ok(body))
}

async fn pull_async(reference: &Reference, options: &Options) -> Result<(Pulled, PullReport)> {
    let options = &with_access_token(reference, options, "pull").await?;
    let client = client(reference, options)?;
    let fail = |e| classify(e, reference, options);
    // oci-client runs the token dance (anonymous, or with the credentials) and hands the token
    // over; the fetches are ours, bounded, as oci-client reads bodies whole.
    let oci_auth = options.auth.to_oci();
    let token = retrying(|| client.auth(reference, &oci_auth, RegistryOperation::Pull))
        .await
        .map_err(fail)?;
    let authorization = match (&token, &options.auth) {
        (Some(token), _) | (None, Auth::Bearer(token)) => Some(format!("Bearer {token}")),
        (None, Auth::Basic { username, password }) => {
            use base64::Engine as _;
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            ))
        }
        _ => None,
    };
    let http = fetch_client(reference, options)?;
    let plain = is_local(reference.registry())
        || options.insecure.iter().any(|r| r == reference.registry());
    let base = format!(
        "{}://{}/v2/{}",
        if plain { "http" } else { "https" },
        reference.resolve_registry(),
        reference.repository()
    );
    let get = |url: String, accept: &'static [&'static str], limit: u64, what: String| {
        let (http, authorization) = (&http, authorization.clone());
        async move {
            retrying(|| bounded_get(http, &url, accept, authorization.as_deref(), limit, &what))
                .await
                .map_err(fail)?
        }
    };
    let first = reference
        .digest()
        .map(str::to_string)
        .or_else(|| reference.tag().map(str::to_string))
        .unwrap_or_else(|| "latest".into());
    let bytes = get(
        format!("{base}/manifests/{first}"),
        manifest::ACCEPTED,
        crate::MANIFEST_LIMIT,
        "the manifest".into(),
    )
    .await?;
    let top_digest = match reference.digest() {
        Some(expected) => {
            verify(&bytes, expected, "the manifest")?;
            expected.to_string()
        }
        None => digest_of(&bytes),
    };
    let whole = reference.whole();
    // A blob as its manifest describes it: the declared size is the most that is read (and is
    // itself capped at `limit`), and the digest is checked.
    let fetch_blob = |d: &manifest::Descriptor, limit: u64, what: &'static str| {
        let d = d.clone();
        let get = &get;
        let base = &base;
        async move {
            let limit = match d.size {
                Some(declared) if declared > limit => {
                    return Err(Error::TooLarge {
                        what: format!("{what} {} (as its manifest declares)", d.digest),
                        size: Some(declared),
                        limit,
                    });
                }
                Some(declared) => declared,
                None => limit,
            };
            let blob = get(
                format!("{base}/blobs/{}", d.digest),
                &[],
                limit,
                format!("{what} {} (sent past its declared size)", d.digest),
            )
            .await?;
            if let Some(declared) = d.size
                && blob.len() as u64 != declared
            {
                return Err(Error::Inconsistent {
                    what: format!("{what} {}", d.digest),
                    why: format!(
                        "the manifest declares {declared} bytes, the registry sent {}",
                        blob.len()
                    ),
                });
            }
            verify(&blob, &d.digest, what)?;
            Ok(blob)
        }
    };
    let mut manifest_bytes = bytes;
    loop {
        match manifest::next_step(&manifest_bytes, &whole)? {
            Next::Manifest(d) => {
                let bytes = get(
                    format!("{base}/manifests/{}", d.digest),
                    manifest::ACCEPTED,
                    crate::MANIFEST_LIMIT,
                    "the manifest".into(),
                )
                .await?;
                verify(&bytes, &d.digest, "the manifest")?;
                manifest_bytes = bytes;
            }
            Next::App { config, components } => {
                let config_bytes =
                    fetch_blob(&config, crate::MANIFEST_LIMIT, "the app's config").await?;
                let mut wasm = Vec::new();
                for d in &components {
                    let bytes = fetch_blob(d, options.max_size, "a component of the app").await?;
                    crate::check_wasm(&bytes, &whole)?;
                    wasm.push(bytes);
                }
                let report = PullReport {
                    reference: whole,
                    digest: top_digest,
                    layer_media_type: config.media_type,
                    size: wasm.iter().map(|w| w.len() as u64).sum(),
                    sha256: config.digest.trim_start_matches("sha256:").to_string(),
                };
                return Ok((
                    Pulled::App {
                        config: config_bytes,
                        components: wasm,
                    },
                    report,
                ));
            }
            step @ (Next::WasmLayer(_) | Next::ImageLayer(_)) => {
                let (image, d) = match step {
                    Next::ImageLayer(d) => (true, d),
                    Next::WasmLayer(d) => (false, d),
                    _ => unreachable!("matched above"),
                };
                let blob = fetch_blob(&d, options.max_size, "the Wasm layer").await?;
                let wasm = if image {
                    manifest::wasm_from_image_layer(&blob, &whole, options.max_size)?
                } else {
                    blob
                };
                crate::check_wasm(&wasm, &whole)?;
                let report = PullReport {
                    reference: whole,
                    digest: top_digest,
                    layer_media_type: d.media_type,
                    size: wasm.len() as u64,
                    // A Wasm layer is the module: its digest (verified above) is the module's.
                    sha256: if image {
                        digest_of(&wasm)
                    } else {
                        d.digest.clone()
                    }
                    .trim_start_matches("sha256:")
                    .to_string(),
                };
                return Ok((Pulled::Module(wasm), report));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_registries_are_plain_http_by_default() {
        assert!(is_local("localhost:5000"));
        assert!(is_local("127.0.0.1:41234"));
        assert!(is_local("localhost"));
        assert!(!is_local("ghcr.io"));
        assert!(!is_local("registry.example.com:5000"));
    }

    #[test]
    fn refresh_tokens_go_over_https_unless_the_registry_is_plain_http() {
        assert!(realm_allowed("https://auth.example.com/token", false));
        assert!(!realm_allowed("http://auth.example.com/token", false));
        assert!(!realm_allowed("HTTP://auth.example.com/token", false));
        assert!(!realm_allowed("ftp://x/token", true));
        assert!(realm_allowed("http://127.0.0.1:5001/token", true));
    }

    #[test]
    fn bearer_challenges_parse() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull""#,
        );
        assert_eq!(
            c.get("realm").map(String::as_str),
            Some("https://auth.example.com/token")
        );
        assert_eq!(
            c.get("service").map(String::as_str),
            Some("registry.example.com")
        );
        assert_eq!(
            c.get("scope").map(String::as_str),
            Some("repository:a/b:pull")
        );
        assert!(parse_challenge(r#"Basic realm="x""#).is_empty());
    }

    #[test]
    fn debug_output_never_shows_a_password() {
        let auth = Auth::Basic {
            username: "ci".into(),
            password: "s3cret-value".into(),
        };
        assert!(!format!("{auth:?}").contains("s3cret"));
        let options = Options {
            auth,
            ..Default::default()
        };
        assert!(!format!("{options:?}").contains("s3cret"));
    }
}
