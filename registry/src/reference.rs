//! Where an artifact goes or comes from: a registry repository (`ghcr.io/acme/app:1.0`,
//! `localhost:5000/app@sha256:…`, `app` → `docker.io/library/app:latest`) or a local OCI image
//! layout folder (`oci:DIR[:TAG]`, `oci:DIR@sha256:…`), as skopeo and oras write them.

use std::path::PathBuf;

use oci_client::Reference;

use crate::error::{Error, Result};

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    Registry(Reference),
    Layout {
        dir: PathBuf,
        /// The tag (`org.opencontainers.image.ref.name` in index.json); `latest` when absent.
        tag: String,
        digest: Option<String>,
    },
}

impl Ref {
    /// Parses a reference, saying what is wrong with a bad one.
    pub fn parse(text: &str) -> Result<Ref> {
        let bad = |why: &str| Error::BadReference {
            given: text.to_string(),
            why: why.to_string(),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        if trimmed != text || text.contains(char::is_whitespace) {
            return Err(bad("it contains white space"));
        }
        if let Some(rest) = text.strip_prefix("oci:") {
            return parse_layout(rest).map_err(|why| bad(&why));
        }
        if text.contains("://") {
            return Err(bad(
                "leave out the scheme (`https://`): wasmforge chooses HTTPS, or HTTP for localhost and --insecure registries",
            ));
        }
        if let Some((_, digest)) = text.split_once('@') {
            check_digest(digest).map_err(|why| bad(&why))?;
        }
        parse_registry(text)
            .map(Ref::Registry)
            .map_err(|why| bad(&why))
    }

    /// The reference with another tag (for `--tag`).
    pub fn with_tag(&self, tag: &str) -> Result<Ref> {
        match self {
            Ref::Registry(r) => Ref::parse(&format!("{}/{}:{tag}", r.registry(), r.repository())),
            Ref::Layout { dir, .. } => {
                check_tag(tag).map_err(|why| Error::BadReference {
                    given: tag.to_string(),
                    why,
                })?;
                Ok(Ref::Layout {
                    dir: dir.clone(),
                    tag: tag.to_string(),
                    digest: None,
                })
            }
        }
    }
}

impl std::fmt::Display for Ref {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ref::Registry(r) => write!(f, "{}", r.whole()),
            Ref::Layout {
                dir,
                tag,
                digest: Some(d),
            } => write!(f, "oci:{}:{tag}@{d}", dir.display()),
            Ref::Layout { dir, tag, .. } => write!(f, "oci:{}:{tag}", dir.display()),
        }
    }
}

/// Docker's reference grammar without a regular expression (oci-spec's parser compiles a large
/// one on first use, which cost a push more time than its HTTP requests): `[host[:port]/]path
/// [:tag][@digest]`, where the first component is a host when it has a `.` or `:` or is
/// `localhost`; otherwise the host is docker.io and a one-component path is under `library/`.
fn parse_registry(text: &str) -> std::result::Result<Reference, String> {
    if text.len() > 255 {
        return Err("a reference is at most 255 characters".into());
    }
    let (name_tag, digest) = match text.split_once('@') {
        Some((n, d)) => {
            check_digest(d)?;
            (n, Some(d.to_string()))
        }
        None => (text, None),
    };
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => {
            let tag = &name_tag[last_slash + i + 1..];
            check_tag(tag)?;
            (&name_tag[..last_slash + i], Some(tag.to_string()))
        }
        None => (name_tag, None),
    };
    let (registry, path) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (first.to_string(), rest.to_string())
        }
        _ if name.contains('/') => ("docker.io".to_string(), name.to_string()),
        _ => ("docker.io".to_string(), format!("library/{name}")),
    };
    check_host(&registry)?;
    if path.is_empty() {
        return Err("the repository name is missing".into());
    }
    for component in path.split('/') {
        check_component(component)?;
    }
    Ok(match (tag, digest) {
        (Some(tag), Some(digest)) => Reference::with_tag_and_digest(registry, path, tag, digest),
        (None, Some(digest)) => Reference::with_digest(registry, path, digest),
        (tag, None) => Reference::with_tag(registry, path, tag.unwrap_or_else(|| "latest".into())),
    })
}

fn check_host(host: &str) -> std::result::Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.ends_with(']') || n.starts_with('[') => (n, Some(p)),
        _ => (host, None),
    };
    if let Some(port) = port
        && (port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("`{host}`: a port is a number"));
    }
    let ipv6 = name.starts_with('[') && name.ends_with(']');
    let ok = !name.is_empty()
        && (ipv6
            || name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if ok {
        Ok(())
    } else {
        Err(format!("`{host}` is not a registry host name"))
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn check_component(component: &str) -> std::result::Result<(), String> {
    if component.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("repository names must be lowercase".into());
    }
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut ok = !bytes.is_empty() && alnum(bytes[0]) && alnum(bytes[bytes.len() - 1]);
    let mut i = 0;
    while ok && i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        ok = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.chars().all(|c| c == '-');
    }
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{component}`: repository path components are lowercase letters and digits, separated by `.`, `_`, `__` or dashes"
        ))
    }
}

/// A tag as the distribution spec's grammar allows it (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`): never
/// a path (`../x`), a space or a newline, whatever reaches a URL or an `index.json`.
pub fn check_tag(tag: &str) -> std::result::Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err("a tag is 1–128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`".into())
    }
}

fn check_digest(digest: &str) -> std::result::Result<(), String> {
    let hex = digest.strip_prefix("sha256:").unwrap_or("");
    if hex.len() == 64
        && hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    {
        Ok(())
    } else {
        Err("a digest is `sha256:` followed by 64 lowercase hex digits".into())
    }
}

/// `DIR`, `DIR:TAG`, `DIR@sha256:…` (a `:` belongs to the folder when what follows has a `/`).
fn parse_layout(rest: &str) -> std::result::Result<Ref, String> {
    let (path_and_tag, digest) = match rest.split_once('@') {
        Some((p, d)) => {
            check_digest(d)?;
            (p, Some(d.to_string()))
        }
        None => (rest, None),
    };
    let (dir, tag) = match path_and_tag.rsplit_once(':') {
        Some((dir, tag)) if !tag.contains('/') => (dir, Some(tag)),
        _ => (path_and_tag, None),
    };
    if dir.is_empty() {
        return Err("`oci:` needs a folder: `oci:DIR[:TAG]`".into());
    }
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    Ok(Ref::Layout {
        dir: PathBuf::from(dir),
        tag: tag.unwrap_or("latest").to_string(),
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(text: &str) -> (String, String, Option<String>, Option<String>) {
        match Ref::parse(text).expect(text) {
            Ref::Registry(r) => (
                r.registry().to_string(),
                r.repository().to_string(),
                r.tag().map(str::to_string),
                r.digest().map(str::to_string),
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn registry_references_with_docker_hub_defaults() {
        assert_eq!(
            registry("hello"),
            (
                "docker.io".into(),
                "library/hello".into(),
                Some("latest".into()),
                None
            )
        );
        assert_eq!(registry("acme/app:1.0").1, "acme/app");
        assert_eq!(
            registry("ghcr.io/acme/app:1.0"),
            (
                "ghcr.io".into(),
                "acme/app".into(),
                Some("1.0".into()),
                None
            )
        );
        let (reg, repo, _, digest) =
            registry(&format!("localhost:5000/app@sha256:{}", "a".repeat(64)));
        assert_eq!((reg.as_str(), repo.as_str()), ("localhost:5000", "app"));
        assert_eq!(digest, Some(format!("sha256:{}", "a".repeat(64))));
    }

    #[test]
    fn parsed_like_oci_spec_parses_them() {
        for text in [
            "hello",
            "acme/app",
            "acme/app:1.0",
            "ghcr.io/acme/app:1.0",
            "localhost:5000/app",
            "localhost/app:tag",
            "127.0.0.1:5000/a/b/c:v1.2-rc_3",
            "registry.example.com/app__x/y-z.w",
        ] {
            let ours = parse_registry(text).expect(text);
            let theirs: Reference = text.parse().expect(text);
            assert_eq!(
                (
                    ours.registry(),
                    ours.repository(),
                    ours.tag(),
                    ours.digest()
                ),
                (
                    theirs.registry(),
                    theirs.repository(),
                    theirs.tag(),
                    theirs.digest()
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn ipv6_hosts() {
        let r = parse_registry("[::1]:5000/app").expect("parse");
        assert_eq!((r.registry(), r.repository()), ("[::1]:5000", "app"));
    }

    #[test]
    fn layout_references() {
        assert_eq!(
            Ref::parse("oci:out/layout:v1").expect("parse"),
            Ref::Layout {
                dir: "out/layout".into(),
                tag: "v1".into(),
                digest: None
            }
        );
        assert_eq!(
            Ref::parse("oci:/tmp/x").expect("parse"),
            Ref::Layout {
                dir: "/tmp/x".into(),
                tag: "latest".into(),
                digest: None
            }
        );
        let digest = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            Ref::parse(&format!("oci:dir@{digest}")).expect("parse"),
            Ref::Layout {
                dir: "dir".into(),
                tag: "latest".into(),
                digest: Some(digest)
            }
        );
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (text, why) in [
            ("", "empty"),
            ("Acme/App", "lowercase"),
            ("Bad/Ref", "lowercase"),
            ("ghcr.io/acme/my..app", "components"),
            ("ghcr.io:port/app", "port"),
            ("bad_host!.io/app:1", "not a registry host"),
            ("bad!/app:1", "components"),
            ("app:bad tag", "white space"),
            ("app:-x", "a tag is"),
            ("https://ghcr.io/acme/app", "scheme"),
            ("app@sha256:abc", "digest"),
            ("oci:", "needs a folder"),
            ("oci:dir:-bad", "a tag is"),
        ] {
            match Ref::parse(text) {
                Err(Error::BadReference { why: w, .. }) => assert!(w.contains(why), "{text}: {w}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
