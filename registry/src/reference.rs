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
        let name = text.split('@').next().unwrap_or(text);
        let last = name.rsplit('/').next().unwrap_or(name);
        if let Some((_, tag)) = last.split_once(':')
            && name.contains('/') | !last.contains('.')
        {
            check_tag(tag).map_err(|why| bad(&why))?;
        }
        let reference: Reference = text.parse().map_err(|e: oci_client::ParseError| {
            let why = match e {
                oci_client::ParseError::NameContainsUppercase => {
                    "repository names must be lowercase".to_string()
                }
                oci_client::ParseError::TagInvalidFormat => {
                    "a tag is 1–128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
                        .to_string()
                }
                oci_client::ParseError::DigestInvalidFormat
                | oci_client::ParseError::DigestInvalidLength => {
                    "a digest is `sha256:` followed by 64 lowercase hex digits".to_string()
                }
                _ if text
                    .split(['@', ':'])
                    .next()
                    .is_some_and(|path| path.chars().any(|c| c.is_ascii_uppercase())) =>
                {
                    "repository names must be lowercase".to_string()
                }
                other => other.to_string(),
            };
            bad(&why)
        })?;
        Ok(Ref::Registry(reference))
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

fn check_tag(tag: &str) -> std::result::Result<(), String> {
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
