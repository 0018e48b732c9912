//! `wasmforge deploy REF --print`: the Kubernetes objects that run a pushed artifact with the
//! wasmforge shim: a RuntimeClass whose handler is containerd's runtime entry (`doctor
//! --containerd` prints it), a Deployment of the image on that RuntimeClass, and, for an HTTP
//! component (`--port`), a Service. Printed for `kubectl apply -f -`; wasmforge applies nothing.

use std::io::Write as _;

use crate::exit::{ExitStatus, UsageError};
use crate::output::Ctx;

/// Print the Kubernetes objects that run a pushed artifact under the wasmforge shim
///
/// A RuntimeClass (handler `wasmforge`: the CRI runtime `doctor --containerd` configures), a
/// Deployment of REF on it and, with --port, a Service. Apply them with kubectl; the nodes need
/// containerd with the shim (`install.sh --shim`, `wasmforge doctor --containerd`).
///
/// Examples:
///   wasmforge deploy ghcr.io/acme/hello:1.0 --print | kubectl apply -f -
///   wasmforge deploy ghcr.io/acme/api:1.0 --print --port 8080 --memory 128Mi --replicas 3
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The pushed reference (`push --layout image` runs on containerd 1.6; the Wasm artifact needs 1.6.25, 1.7.7 or 2.0)
    #[arg(value_name = "REF")]
    reference: String,
    /// Write the objects to stdout (YAML), for `kubectl apply -f -`
    #[arg(long, required = true)]
    print: bool,
    /// The Deployment's name (default: the repository's last part)
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The RuntimeClass and its CRI handler (as in containerd's config)
    #[arg(long, value_name = "NAME", default_value = super::containerd::HANDLER)]
    handler: String,
    /// How many pods
    #[arg(long, value_name = "N", default_value_t = 1)]
    replicas: u32,
    /// An HTTP component: the port it is served on (WASMFORGE_LISTEN) and a Service for it
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
    /// The container's memory limit (a Kubernetes quantity: 128Mi, 1Gi); the shim gives the
    /// guest this less room for the host, as --max-memory
    #[arg(long, value_name = "QUANTITY", value_parser = parse_quantity)]
    memory: Option<String>,
    /// An environment variable for the guest (repeatable)
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = super::flags::parse_env)]
    env: Vec<(String, String)>,
    /// Arguments for the guest (after the image's entrypoint)
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

pub fn run(args: Args, _ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let reference = wasmforge_registry::Ref::parse(&args.reference)?;
    let wasmforge_registry::Ref::Registry(parsed) = &reference else {
        return Err(UsageError {
            message: format!(
                "`{}` is a layout folder: a cluster pulls images from a registry",
                args.reference
            ),
            hint: "push it to a registry first (`wasmforge push FILE REGISTRY/NAME:TAG --layout image`)".into(),
        }
        .into());
    };
    let name = match &args.name {
        Some(name) => name.clone(),
        None => dns_label(parsed.repository().rsplit('/').next().unwrap_or("wasm")),
    };
    check_label(&name, "--name")?;
    check_label(&args.handler, "--handler")?;
    let yaml = manifests(&args, &name, &reference.to_string());
    let mut out = std::io::stdout().lock();
    out.write_all(yaml.as_bytes())?;
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// The YAML of the objects (every string written as a JSON string, which YAML reads as is).
fn manifests(args: &Args, name: &str, image: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut env: Vec<(String, String)> = args.env.clone();
    if let Some(port) = args.port
        && !env.iter().any(|(k, _)| k == super::containerd::LISTEN_VAR)
    {
        env.push((
            super::containerd::LISTEN_VAR.into(),
            format!("0.0.0.0:{port}"),
        ));
    }
    let mut container = format!(
        "        - name: {}\n          image: {}\n",
        q(name),
        q(image)
    );
    if !args.args.is_empty() {
        container.push_str("          args:\n");
        for arg in &args.args {
            container.push_str(&format!("            - {}\n", q(arg)));
        }
    }
    if !env.is_empty() {
        container.push_str("          env:\n");
        for (key, value) in &env {
            container.push_str(&format!(
                "            - name: {}\n              value: {}\n",
                q(key),
                q(value)
            ));
        }
    }
    if let Some(port) = args.port {
        container.push_str(&format!(
            "          ports:\n            - name: http\n              containerPort: {port}\n"
        ));
    }
    if let Some(memory) = &args.memory {
        container.push_str(&format!(
            "          resources:\n            limits:\n              memory: {}\n",
            q(memory)
        ));
    }
    let handler = q(&args.handler);
    let label = q(name);
    let mut yaml = format!(
        "# wasmforge deploy {image_comment}: `kubectl apply -f -`. The nodes need containerd with the\n\
         # wasmforge shim and the CRI runtime `{raw_handler}` (`wasmforge doctor --containerd`).\n\
         apiVersion: node.k8s.io/v1\n\
         kind: RuntimeClass\n\
         metadata:\n  name: {handler}\n\
         handler: {handler}\n\
         ---\n\
         apiVersion: apps/v1\n\
         kind: Deployment\n\
         metadata:\n  name: {label}\n  labels:\n    app.kubernetes.io/name: {label}\n\
         spec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {label}\n\
         \x20 template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: {label}\n\
         \x20   spec:\n      runtimeClassName: {handler}\n      containers:\n{container}",
        image_comment = image.replace('\n', " "),
        raw_handler = args.handler,
        replicas = args.replicas,
    );
    if let Some(port) = args.port {
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {label}\nspec:\n  selector:\n    app.kubernetes.io/name: {label}\n  ports:\n    - name: http\n      port: {port}\n      targetPort: http\n"
        ));
    }
    yaml
}

/// A repository's last part as a DNS label (what Kubernetes names must be).
fn dns_label(text: &str) -> String {
    let mut label: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    label.truncate(63);
    let label = label.trim_matches('-').to_string();
    if label.is_empty() {
        "wasm".into()
    } else {
        label
    }
}

fn check_label(name: &str, flag: &str) -> anyhow::Result<()> {
    if super::app::is_dns_label(name) {
        return Ok(());
    }
    Err(UsageError {
        message: format!("{flag} `{name}` is not a Kubernetes name"),
        hint: "use lower-case letters, digits and `-` (at most 63, starting and ending with a letter or digit)".into(),
    }
    .into())
}

/// A Kubernetes memory quantity: digits, then optionally one of Ki Mi Gi Ti k M G T.
fn parse_quantity(text: &str) -> Result<String, String> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &text[digits.len()..];
    let known = ["", "Ki", "Mi", "Gi", "Ti", "k", "M", "G", "T"];
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && known.contains(&suffix) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "`{text}` is not a memory quantity: write e.g. 128Mi, 1Gi or 67108864"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quantities() {
        assert_eq!(dns_label("Hello_World.wasm"), "hello-world-wasm");
        assert_eq!(dns_label("__"), "wasm");
        assert!(check_label("hello", "--name").is_ok());
        assert!(check_label("Hello", "--name").is_err());
        assert!(parse_quantity("128Mi").is_ok());
        assert!(parse_quantity("67108864").is_ok());
        assert!(parse_quantity("12 8Mi").is_err());
        assert!(parse_quantity("128MB").is_err());
    }
}
