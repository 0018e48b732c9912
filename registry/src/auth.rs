//! Credentials, found the way docker finds them: explicit flags, then `WASMFORGE_REGISTRY_*`,
//! then the docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`): a
//! credential helper for the registry (`credHelpers`), the default store (`credsStore`), or
//! `auths`. `login` stores where docker would; `logout` removes. Secrets never reach output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::remote::Auth;

/// Docker Hub's key in `auths` and for credential helpers.
pub const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// The docker config file.
pub fn config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir).join("config.json")),
        _ => std::env::home_dir().map(|h| h.join(".docker/config.json")),
    }
}

/// `ghcr.io`, `https://ghcr.io/`, `http://localhost:5000/v2/` → the host[:port]; Docker Hub's
/// many names → `index.docker.io`.
pub fn normalize(registry: &str) -> String {
    let host = registry
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "index.docker.io".into()
        }
        _ => host,
    }
}

/// The server URL credential helpers and `auths` use for `registry`.
fn server_url(registry: &str) -> String {
    if normalize(registry) == "index.docker.io" {
        DOCKER_HUB.to_string()
    } else {
        normalize(registry)
    }
}

fn read_config(path: &Path) -> Result<Value> {
    let malformed = |why: &str| Error::DockerConfig {
        path: path.to_path_buf(),
        why: why.into(),
        source: None,
    };
    let config: Value = match fs_err::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::DockerConfig {
            path: path.to_path_buf(),
            why: "is not valid JSON".into(),
            source: Some(e.into()),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(json!({})),
        Err(e) => return Err(e.into()),
    };
    // docker's own shape: an object whose `auths` (when there) is an object of objects. A file
    // of another shape is not edited as if it were empty.
    if !config.is_object() {
        return Err(malformed("is not a JSON object (docker's config is one)"));
    }
    if let Some(auths) = config.get("auths")
        && !auths.is_object()
    {
        return Err(malformed("has an `auths` that is not an object"));
    }
    for key in ["credHelpers"] {
        if let Some(value) = config.get(key)
            && !value.is_object()
        {
            return Err(malformed(&format!("has a `{key}` that is not an object")));
        }
    }
    Ok(config)
}

/// Where credentials came from, for messages (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub auth: Auth,
    pub source: String,
    /// Something the user should hear (credentials in the environment meant for another host).
    pub note: Option<String>,
}

/// Credentials for `registry` from the environment and the docker config.
pub fn lookup(registry: &str) -> Result<Found> {
    // The environment's credentials go only to the registry WASMFORGE_REGISTRY names; for any
    // other, the docker config is asked as if they were not set.
    let env_note = match Auth::from_env(registry) {
        Ok(Auth::Anonymous) => None,
        Ok(auth) => {
            return Ok(Found {
                auth,
                source: "WASMFORGE_REGISTRY_USERNAME/PASSWORD".into(),
                note: None,
            });
        }
        Err(why) => Some(why),
    };
    let found = lookup_config(registry)?;
    Ok(Found {
        note: env_note,
        ..found
    })
}

fn lookup_config(registry: &str) -> Result<Found> {
    let Some(path) = config_path() else {
        return Ok(Found {
            auth: Auth::Anonymous,
            source: "no docker config".into(),
            note: None,
        });
    };
    let config = read_config(&path)?;
    let wanted = normalize(registry);
    let helper = helper_for(&config, registry);
    if let Some(helper) = &helper
        && let Some(auth) = helper_get(helper, &server_url(registry))?
    {
        return Ok(Found {
            auth,
            source: format!("docker-credential-{helper}"),
            note: None,
        });
    }
    if let Some(entry) = config["auths"]
        .as_object()
        .and_then(|auths| auths.iter().find(|(k, _)| normalize(k) == wanted))
        .map(|(_, v)| v)
    {
        if let Some(token) = entry["identitytoken"].as_str().filter(|t| !t.is_empty()) {
            return Ok(Found {
                auth: Auth::IdentityToken(token.to_string()),
                source: path.display().to_string(),
                note: None,
            });
        }
        if let Some((username, password)) = decode_auth(entry) {
            return Ok(Found {
                auth: Auth::Basic { username, password },
                source: path.display().to_string(),
                note: None,
            });
        }
    }
    Ok(Found {
        auth: Auth::Anonymous,
        source: "anonymous".into(),
        note: None,
    })
}

/// The credential helper docker would use for `registry`: its `credHelpers` entry, else
/// `credsStore`.
fn helper_for(config: &Value, registry: &str) -> Option<String> {
    let wanted = normalize(registry);
    config["credHelpers"]
        .as_object()
        .and_then(|h| h.iter().find(|(k, _)| normalize(k) == wanted))
        .and_then(|(_, v)| v.as_str().map(str::to_string))
        .or_else(|| config["credsStore"].as_str().map(str::to_string))
        .filter(|h| !h.is_empty())
}

/// `{"auth": base64(user:pass)}` or `{"username", "password"}`.
fn decode_auth(entry: &Value) -> Option<(String, String)> {
    if let Some(encoded) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (user, pass) = text.split_once(':')?;
        return Some((user.to_string(), pass.to_string()));
    }
    let user = entry["username"].as_str()?;
    let pass = entry["password"].as_str()?;
    Some((user.to_string(), pass.to_string()))
}

fn helper_program(helper: &str) -> String {
    format!("docker-credential-{helper}")
}

/// `docker-credential-HELPER get`: `None` when it has nothing for the server.
fn helper_get(helper: &str, server: &str) -> Result<Option<Auth>> {
    let program = helper_program(helper);
    let output = run_helper(&program, "get", server.as_bytes())?;
    if !output.status.success() {
        // "credentials not found in native keychain" and friends: nothing stored.
        return Ok(None);
    }
    // What a helper printed is not quoted back: it may hold a secret.
    let value: Value =
        serde_json::from_slice(&output.stdout).map_err(|_| Error::CredentialHelper {
            program,
            why: format!("answered `get` for {server} with something that is not JSON"),
            source: None,
        })?;
    let username = value["Username"].as_str().unwrap_or_default().to_string();
    let secret = value["Secret"].as_str().unwrap_or_default().to_string();
    if secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if username == "<token>" {
        Auth::IdentityToken(secret)
    } else {
        Auth::Basic {
            username,
            password: secret,
        }
    }))
}

/// Runs a docker credential helper with `input` on its stdin (the secret never shows: only the
/// command line does, with `-v`).
fn run_helper(program: &str, action: &str, input: &[u8]) -> Result<std::process::Output> {
    wasmforge_build::process::Tool::new(program, "")
        .arg(action)
        .capture_with_input(&crate::Observed, input)
        .map_err(|e| Error::CredentialHelper {
            program: program.into(),
            why: format!("could not be run (`{program} {action}`)"),
            source: Some(e.into()),
        })
}

/// Stores credentials for `registry` where docker would: its credential helper, else `auths`
/// in the config file (written atomically, readable by the owner only). Returns where.
pub fn store(registry: &str, username: &str, password: &str) -> Result<String> {
    let path = config_path().ok_or_else(|| Error::DockerConfig {
        path: "~/.docker/config.json".into(),
        why: "has no home folder to live in (set HOME, or DOCKER_CONFIG to a folder)".into(),
        source: None,
    })?;
    let mut config = read_config(&path)?;
    let wanted = normalize(registry);
    let helper = helper_for(&config, registry);
    if let Some(helper) = helper {
        let program = helper_program(&helper);
        let payload =
            json!({ "ServerURL": server_url(registry), "Username": username, "Secret": password });
        let output = run_helper(&program, "store", payload.to_string().as_bytes())?;
        if !output.status.success() {
            return Err(Error::CredentialHelper {
                program: program.clone(),
                why: format!(
                    "failed to store the credentials for {registry} ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
                source: None,
            });
        }
        return Ok(program);
    }
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let auths = config
        .as_object_mut()
        .map(|o| o.entry("auths").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut);
    if let Some(auths) = auths {
        auths.retain(|k, _| normalize(k) != wanted);
        auths.insert(server_url(registry), json!({ "auth": encoded }));
    }
    write_private(&path, &config)?;
    Ok(path.display().to_string())
}

/// Removes stored credentials for `registry`; says whether there were any.
pub fn erase(registry: &str) -> Result<bool> {
    let Some(path) = config_path() else {
        return Ok(false);
    };
    let mut config = read_config(&path)?;
    let wanted = normalize(registry);
    let helper = helper_for(&config, registry);
    let mut removed = false;
    if let Some(helper) = helper {
        let output = run_helper(
            &helper_program(&helper),
            "erase",
            server_url(registry).as_bytes(),
        )?;
        removed |= output.status.success();
    }
    if let Some(auths) = config["auths"].as_object_mut() {
        let before = auths.len();
        auths.retain(|k, _| normalize(k) != wanted);
        if auths.len() != before {
            removed = true;
            write_private(&path, &config)?;
        }
    }
    Ok(removed)
}

/// Writes the config atomically, as docker does: through a symlink (dotfile managers link it),
/// keeping the mode of the file it replaces, 0600 for a new one.
fn write_private(path: &Path, config: &Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(config).unwrap_or_default();
    text.push('\n');
    wasmforge_build::files::write_atomic_mode(path, text.as_bytes(), 0o600).map_err(crate::io_error)
}

/// For tests and messages: the registries with stored `auths` entries.
pub fn stored_registries() -> Vec<String> {
    let Some(path) = config_path() else {
        return Vec::new();
    };
    let config = read_config(&path).unwrap_or_default();
    let map: BTreeMap<String, Value> = config["auths"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    map.into_keys().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_normalise_like_docker() {
        assert_eq!(normalize("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(normalize("docker.io"), "index.docker.io");
        assert_eq!(normalize("GHCR.io"), "ghcr.io");
        assert_eq!(normalize("http://localhost:5000/v2/"), "localhost:5000");
        assert_eq!(server_url("docker.io"), DOCKER_HUB);
        assert_eq!(server_url("ghcr.io"), "ghcr.io");
    }

    #[test]
    fn auth_entries_decode_both_ways() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("ci:pa:ss");
        assert_eq!(
            decode_auth(&json!({"auth": encoded})),
            Some(("ci".into(), "pa:ss".into()))
        );
        assert_eq!(
            decode_auth(&json!({"username": "u", "password": "p"})),
            Some(("u".into(), "p".into()))
        );
        assert_eq!(decode_auth(&json!({})), None);
    }
}
