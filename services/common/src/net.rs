//! Client IP resolution: the socket peer, unless that peer is a trusted proxy, in which case
//! the forwarding headers it set are believed (right-most untrusted hop wins).

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;

/// Facts about the connection a request arrived on, attached to every request by the listener.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub remote: SocketAddr,
    pub tls: bool,
    /// A client certificate was presented and verified against `--client-ca`.
    pub client_cert_verified: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        TrustedProxies { nets }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether the request's connection carries a verified client certificate: verified by our
    /// own TLS listener, or vouched for by a trusted proxy that terminated TLS (its
    /// `X-mTLS-Present: true` or nginx's `X-SSL-Client-Verify: SUCCESS`). The headers of any
    /// other peer are ignored: anyone can send them.
    pub fn client_cert_verified(&self, peer: Option<&PeerInfo>, headers: &HeaderMap) -> bool {
        let Some(peer) = peer else {
            return false;
        };
        if peer.client_cert_verified {
            return true;
        }
        if !self.contains(peer.remote.ip()) {
            return false;
        }
        let says = |name: &str, yes: &[&str]| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| yes.iter().any(|y| v.trim().eq_ignore_ascii_case(y)))
        };
        says("x-mtls-present", &["true", "1", "yes"]) || says("x-ssl-client-verify", &["success"])
    }

    /// The client's address for a request whose socket peer is `peer`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        // Walk the chain from the nearest hop outwards; the first address that is not one of our
        // proxies is the client. Everything further left could be forged by the client.
        let chain = forwarded_chain(headers);
        for ip in chain.iter().rev() {
            if !self.contains(*ip) {
                return *ip;
            }
        }
        chain.first().copied().unwrap_or(peer)
    }
}

/// Addresses from `Forwarded`, else `X-Forwarded-For`, else `X-Real-IP`, left (client) to right.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<IpAddr> = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                k.eq_ignore_ascii_case("for").then(|| parse_node(v))?
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    let xff: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(parse_node)
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_node)
        .into_iter()
        .collect()
}

/// Parses `1.2.3.4`, `1.2.3.4:80`, `"[::1]:80"`, `[::1]`, `::1`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    let inner = s.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports) compare as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn untrusted_peer_headers_ignored() {
        let t = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let h = headers(&[("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(
            t.client_ip("8.8.8.8".parse().unwrap(), &h),
            "8.8.8.8".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn trusted_peer_rightmost_untrusted_wins() {
        let t = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 2.2.2.2, 10.0.0.5")]);
        assert_eq!(
            t.client_ip("10.0.0.1".parse().unwrap(), &h),
            "2.2.2.2".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn forwarded_header_and_real_ip() {
        let t = TrustedProxies::new(vec!["127.0.0.0/8".parse().unwrap()]);
        let h = headers(&[("forwarded", "for=\"[2001:db8::1]:4711\";proto=https")]);
        assert_eq!(
            t.client_ip("127.0.0.1".parse().unwrap(), &h),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        let h = headers(&[("x-real-ip", "3.3.3.3")]);
        assert_eq!(
            t.client_ip("127.0.0.1".parse().unwrap(), &h),
            "3.3.3.3".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            t.client_ip("127.0.0.1".parse().unwrap(), &HeaderMap::new()),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn mapped_v6_is_v4() {
        let t = TrustedProxies::new(vec!["127.0.0.1/32".parse().unwrap()]);
        assert!(t.contains("::ffff:127.0.0.1".parse().unwrap()));
    }
}
