//! Capabilities a guest gets only when asked: folders, environment variables, stdin, sockets.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// A host folder made visible to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    pub host: PathBuf,
    pub guest: String,
    pub read_only: bool,
}

impl DirGrant {
    /// Parses `HOST[::GUEST]`; the guest path defaults to the host path as written.
    pub fn parse(spec: &str, read_only: bool) -> Result<DirGrant, String> {
        let (host, guest) = match spec.split_once("::") {
            Some((host, guest)) => (host, guest),
            None => (spec, spec),
        };
        if host.is_empty() || guest.is_empty() {
            return Err(format!("`{spec}` is not HOST[::GUEST]"));
        }
        Ok(DirGrant {
            host: PathBuf::from(host),
            guest: guest.to_string(),
            read_only,
        })
    }
}

/// `HOST:PORT` with `*` wildcards, CIDR hosts (`10.0.0.0/8`) and port ranges (`8000-8999`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrPattern {
    host: Option<(IpAddr, u8)>,
    ports: (u16, u16),
}

impl FromStr for AddrPattern {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{spec}` is not an address pattern like 127.0.0.1:8080, *:443, 10.0.0.0/8:*, [::1]:80"
            )
        };
        let (host, port) = spec.rsplit_once(':').ok_or_else(bad)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = if host == "*" {
            None
        } else {
            let (ip, prefix) = match host.split_once('/') {
                Some((ip, prefix)) => (ip, Some(prefix)),
                None => (host, None),
            };
            let ip: IpAddr = ip.parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
                None => max,
            };
            Some((ip, prefix))
        };
        let ports = if port == "*" {
            (0, u16::MAX)
        } else if let Some((lo, hi)) = port.split_once('-') {
            (
                lo.parse().map_err(|_| bad())?,
                hi.parse().map_err(|_| bad())?,
            )
        } else {
            let p = port.parse().map_err(|_| bad())?;
            (p, p)
        };
        Ok(AddrPattern { host, ports })
    }
}

impl AddrPattern {
    pub fn matches(&self, addr: &SocketAddr) -> bool {
        let port_ok = (self.ports.0..=self.ports.1).contains(&addr.port());
        let host_ok = match self.host {
            None => true,
            Some((IpAddr::V4(net), prefix)) => match addr.ip() {
                IpAddr::V4(ip) => prefix_eq(&net.octets(), &ip.octets(), prefix),
                IpAddr::V6(_) => false,
            },
            Some((IpAddr::V6(net), prefix)) => match addr.ip() {
                IpAddr::V6(ip) => prefix_eq(&net.octets(), &ip.octets(), prefix),
                IpAddr::V4(_) => false,
            },
        };
        port_ok && host_ok
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits);
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// A host the guest may send HTTP requests to (`--allow-http`): `api.example.com`,
/// `*.example.com` (its subdomains), `127.0.0.1:8080`, `[::1]:*`, or `*` (anywhere). Without a
/// port, any port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// Lower case; `None` is `*`. A leading `*.` matches subdomains only.
    host: Option<String>,
    port: Option<u16>,
}

impl FromStr for HostPattern {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{spec}` is not a host pattern like api.example.com, *.example.com, 127.0.0.1:8080 or *"
            )
        };
        let spec_trim = spec.trim();
        // `[v6]:port`, `[v6]`, `host:port` or `host`.
        let (host, port) = if let Some(rest) = spec_trim.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
            }
        } else {
            match spec_trim.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') => (host, Some(port)),
                Some(_) => (spec_trim, None),
                None => (spec_trim, None),
            }
        };
        let port = match port {
            None | Some("*") => None,
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
        };
        let host = host.to_ascii_lowercase();
        let name_ok = |h: &str| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        };
        let host = match host.as_str() {
            "*" => None,
            h if h.strip_prefix("*.").is_some_and(name_ok) || name_ok(h) => Some(host),
            _ => return Err(bad()),
        };
        Ok(HostPattern { host, port })
    }
}

impl HostPattern {
    /// Whether a request to `host` (as written in its URL) on `port` is allowed.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        match &self.host {
            None => true,
            Some(pattern) => match pattern.strip_prefix("*.") {
                Some(domain) => host
                    .strip_suffix(domain)
                    .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
                None => *pattern == host,
            },
        }
    }
}

/// Where the host's blocking file calls run: see [`Grants::builder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocking {
    OnThisThread,
    OffTheExecutor,
}

/// What the guest is granted.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    pub dirs: Vec<DirGrant>,
    pub env: Vec<(String, String)>,
    pub inherit_stdin: bool,
    pub tcp: Vec<AddrPattern>,
    pub udp: Vec<AddrPattern>,
}

impl Grants {
    pub fn wants_network(&self) -> bool {
        !self.tcp.is_empty() || !self.udp.is_empty()
    }

    /// A WASI context builder holding exactly these grants (stdout and stderr are always the
    /// host's: a command's output is the point of running it).
    ///
    /// `Blocking::OnThisThread` is for hosts that call the guest synchronously (`run`): file
    /// calls then block the calling thread as a native program's do, instead of each one
    /// crossing to a Tokio blocking thread and back (a futex round trip per call: 16,000
    /// context switches for 1,000 files read, issue 27). Async hosts (`serve`) keep the hop so a
    /// slow disk never stalls the executor. Wasmtime reads the setting when a folder is
    /// preopened, so it is set first.
    pub fn builder(&self, argv: &[String], blocking: Blocking) -> anyhow::Result<WasiCtxBuilder> {
        let mut builder = WasiCtxBuilder::new();
        builder.allow_blocking_current_thread(blocking == Blocking::OnThisThread);
        builder.args(argv).inherit_stdout().inherit_stderr();
        if self.inherit_stdin {
            builder.inherit_stdin();
        }
        for (key, value) in &self.env {
            builder.env(key, value);
        }
        for dir in &self.dirs {
            let perms = if dir.read_only {
                FsPerms::ReadOnly
            } else {
                FsPerms::ReadWrite
            };
            if !dir.host.is_dir() {
                return Err(crate::exit::UsageError {
                    message: format!(
                        "--dir{} {}: `{}` is not a folder on this machine",
                        if dir.read_only { "-ro" } else { "" },
                        dir.host.display(),
                        dir.host.display()
                    ),
                    hint: "grant a folder that exists (`mkdir` it first for the guest to write in)"
                        .into(),
                }
                .into());
            }
            builder
                .preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| {
                    anyhow::anyhow!("could not open `{}` for the guest: {e}", dir.host.display())
                })?;
        }
        let tcp = Arc::new(self.tcp.clone());
        let udp = Arc::new(self.udp.clone());
        builder
            .allow_tcp(!tcp.is_empty())
            .allow_udp(!udp.is_empty())
            .allow_ip_name_lookup(false);
        builder.socket_addr_check(move |addr, usage| {
            let allowed = check_socket(&tcp, &udp, addr, usage);
            Box::pin(async move { allowed })
        });
        Ok(builder)
    }

    /// The builder `run` uses: file calls on the calling thread, and the guest's stdout and
    /// stderr through `tails` (passed on as they are, their last KiB kept for `run`'s notes).
    pub fn run_builder(
        &self,
        argv: &[String],
        tails: &super::tail::Tails,
    ) -> anyhow::Result<WasiCtxBuilder> {
        let mut builder = self.builder(argv, Blocking::OnThisThread)?;
        builder.stdout(tails.stdout()).stderr(tails.stderr());
        Ok(builder)
    }
}

fn check_socket(
    tcp: &[AddrPattern],
    udp: &[AddrPattern],
    addr: SocketAddr,
    usage: SocketAddrUse,
) -> bool {
    let patterns = match usage {
        SocketAddrUse::TcpBind
        | SocketAddrUse::TcpListen
        | SocketAddrUse::TcpAccept
        | SocketAddrUse::TcpConnect => tcp,
        _ => udp,
    };
    // A connect first binds implicitly to the wildcard address and port 0: that is part of the
    // granted connection, not a grant of its own.
    let implicit_bind = matches!(usage, SocketAddrUse::TcpBind | SocketAddrUse::UdpBind)
        && addr.ip().is_unspecified()
        && addr.port() == 0;
    !patterns.is_empty() && (implicit_bind || patterns.iter().any(|p| p.matches(&addr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("socket address")
    }

    #[test]
    fn address_patterns() {
        let exact: AddrPattern = "127.0.0.1:8080".parse().expect("pattern");
        assert!(exact.matches(&addr("127.0.0.1:8080")));
        assert!(!exact.matches(&addr("127.0.0.1:8081")));
        assert!(!exact.matches(&addr("127.0.0.2:8080")));
        let net: AddrPattern = "10.0.0.0/8:*".parse().expect("pattern");
        assert!(net.matches(&addr("10.200.3.4:1")));
        assert!(!net.matches(&addr("11.0.0.1:1")));
        let any: AddrPattern = "*:8000-8999".parse().expect("pattern");
        assert!(any.matches(&addr("[::1]:8443")));
        assert!(!any.matches(&addr("1.2.3.4:9000")));
        let v6: AddrPattern = "[::1]:80".parse().expect("pattern");
        assert!(v6.matches(&addr("[::1]:80")) && !v6.matches(&addr("127.0.0.1:80")));
        for bad in ["localhost:80", "1.2.3.4", "1.2.3.4:http", "1.2.3.4/33:1"] {
            assert!(bad.parse::<AddrPattern>().is_err(), "{bad}");
        }
    }

    #[test]
    fn nothing_is_allowed_without_a_grant() {
        assert!(!check_socket(
            &[],
            &[],
            addr("127.0.0.1:80"),
            SocketAddrUse::TcpConnect
        ));
        assert!(!check_socket(
            &[],
            &[],
            addr("0.0.0.0:0"),
            SocketAddrUse::TcpBind
        ));
        let tcp = vec!["127.0.0.1:80".parse().expect("pattern")];
        assert!(check_socket(
            &tcp,
            &[],
            addr("127.0.0.1:80"),
            SocketAddrUse::TcpConnect
        ));
        assert!(check_socket(
            &tcp,
            &[],
            addr("0.0.0.0:0"),
            SocketAddrUse::TcpBind
        ));
        assert!(!check_socket(
            &tcp,
            &[],
            addr("127.0.0.1:81"),
            SocketAddrUse::TcpConnect
        ));
        assert!(!check_socket(
            &tcp,
            &[],
            addr("127.0.0.1:80"),
            SocketAddrUse::UdpSend
        ));
    }

    #[test]
    fn host_patterns() {
        let p = |s: &str| s.parse::<HostPattern>().expect(s);
        assert!(p("api.example.com").matches("API.example.com", 443));
        assert!(p("api.example.com").matches("api.example.com.", 80));
        assert!(!p("api.example.com").matches("example.com", 443));
        assert!(!p("api.example.com").matches("api.example.com.evil.net", 443));
        let sub = p("*.example.com");
        assert!(sub.matches("a.b.example.com", 443));
        assert!(!sub.matches("example.com", 443));
        assert!(!sub.matches("badexample.com", 443));
        let port = p("127.0.0.1:8080");
        assert!(port.matches("127.0.0.1", 8080) && !port.matches("127.0.0.1", 80));
        assert!(p("[::1]:*").matches("[::1]", 9));
        assert!(p("::1").matches("[::1]", 9));
        assert!(p("*").matches("anything.at.all", 1));
        assert!(p("localhost:*").matches("localhost", 1234));
        for bad in [
            "",
            "exa mple.com",
            "host:port",
            "*.",
            "a/b",
            "[::1",
            "http://x.com",
        ] {
            assert!(bad.parse::<HostPattern>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dir_specs() {
        let d = DirGrant::parse("/srv/data::/data", true).expect("spec");
        assert_eq!(
            (d.host, d.guest.as_str(), d.read_only),
            (PathBuf::from("/srv/data"), "/data", true)
        );
        let d = DirGrant::parse("out", false).expect("spec");
        assert_eq!(d.guest, "out");
        assert!(DirGrant::parse("::/x", false).is_err());
    }
}
