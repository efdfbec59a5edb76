//! The target URL: `http://` only, and only loopback hosts — this machine may load nothing else.
//!
//! The host is never resolved through DNS: `localhost` means 127.0.0.1, and any other name is
//! refused, as is every address outside 127.0.0.0/8 and `[::1]`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Context as _, bail};

use crate::template::Template;

/// Where the load goes: a loopback socket address, the `Host` header, and the path template.
#[derive(Clone, Debug)]
pub struct Target {
    /// The loopback address connected to.
    pub addr: SocketAddr,
    /// The value of the `Host` header (the URL's authority).
    pub authority: String,
    /// Path and query, possibly with `{seq}` / `{id}` placeholders.
    pub path: Template,
}

impl Target {
    /// Parses and checks a target URL such as `http://127.0.0.1:8080/update-revenue?k={seq}`.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let Some((scheme, rest)) = url.split_once("://") else {
            bail!("target URL `{url}` has no scheme: write http://127.0.0.1:PORT/PATH");
        };
        if !scheme.eq_ignore_ascii_case("http") {
            bail!("target URL scheme `{scheme}` is not supported: only plain http:// is");
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.contains(['{', '}']) {
            bail!("placeholders are not allowed in the URL's host or port (`{authority}`)");
        }
        if authority.contains('@') {
            bail!("user info in the target URL is not supported (`{authority}`)");
        }
        let addr = loopback_addr(authority)?;
        let path = path.split('#').next().unwrap_or_default();
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        Ok(Self {
            addr,
            authority: authority.to_owned(),
            path: Template::parse(&path),
        })
    }

    /// The same target, pointed at another loopback address (used by the baseline run).
    pub fn with_addr(&self, addr: SocketAddr) -> Self {
        Self {
            addr,
            authority: addr.to_string(),
            path: self.path.clone(),
        }
    }

    /// The path without its query, for display (the query may carry an auth key).
    pub fn display_path(&self) -> String {
        let path = self.path.render(0, Some("{id}"));
        let path = path.split('?').next().unwrap_or_default().to_owned();
        format!("{}{path}", self.authority)
    }
}

/// Resolves `host[:port]` to a loopback socket address, refusing everything else.
fn loopback_addr(authority: &str) -> anyhow::Result<SocketAddr> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .with_context(|| format!("unterminated `[` in the URL's host `{authority}`"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .with_context(|| format!("bad port in `{authority}`"))?,
            ),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        bail!("the target URL has no host");
    }
    let port: u16 = match port {
        None | Some("") => 80,
        Some(port) => port
            .parse()
            .with_context(|| format!("bad port `{port}` in the target URL"))?,
    };
    if port == 0 {
        bail!("port 0 is not a valid target port");
    }
    let ip = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        match host.parse::<IpAddr>() {
            Ok(ip) if ip.is_loopback() => ip,
            _ => bail!(
                "refusing to send load to `{host}`: moja-loadgen only targets loopback \
                 (127.0.0.0/8, localhost, [::1]); this machine may load nothing else"
            ),
        }
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_targets() {
        let t = Target::parse("http://127.0.0.1:8080/update-revenue?moja_auth_key=K").unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(t.authority, "127.0.0.1:8080");
        assert_eq!(t.path.render(1, None), "/update-revenue?moja_auth_key=K");
        assert_eq!(t.display_path(), "127.0.0.1:8080/update-revenue");

        let t = Target::parse("HTTP://LocalHost:9").unwrap();
        assert_eq!(t.addr, "127.0.0.1:9".parse().unwrap());
        assert_eq!(t.path.render(1, None), "/");

        let t = Target::parse("http://[::1]:81?x={seq}").unwrap();
        assert_eq!(t.addr, "[::1]:81".parse().unwrap());
        assert_eq!(t.path.render(5, None), "/?x=5");

        let t = Target::parse("http://127.3.2.1/a/{id}#frag").unwrap();
        assert_eq!(t.addr, "127.3.2.1:80".parse().unwrap());
        assert_eq!(t.path.render(1, Some("c1")), "/a/c1");
    }

    #[test]
    fn refuses_non_loopback_hosts() {
        for url in [
            "http://example.com/",
            "http://10.0.0.1:8080/",
            "http://192.168.1.2/",
            "http://0.0.0.0:8080/",
            "http://8.8.8.8/",
            "http://[::]:80/",
            "http://[::ffff:127.0.0.1]/",
            "http://127.0.0.1.nip.io/",
            "http://localhost.example.com/",
        ] {
            let err = Target::parse(url).unwrap_err().to_string();
            assert!(err.contains("only targets loopback"), "{url}: {err}");
        }
    }

    #[test]
    fn refuses_other_schemes_and_malformed_urls() {
        for url in [
            "https://127.0.0.1/",
            "ftp://127.0.0.1/",
            "127.0.0.1:8080/",
            "http://user@127.0.0.1/",
            "http://127.0.0.1:{seq}/",
            "http://127.0.0.1:0/",
            "http://127.0.0.1:99999/",
            "http:///path",
            "http://[::1/",
        ] {
            assert!(Target::parse(url).is_err(), "{url} was accepted");
        }
    }
}
