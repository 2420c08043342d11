//! The client's address: the TCP peer, or — only when the peer is a trusted
//! reverse proxy (`RATHAUS_TRUSTED_PROXIES`) — the address that proxy reports in
//! `Forwarded` (RFC 7239) or `X-Forwarded-For`. Rate limits key on it, with IPv6
//! addresses grouped by their /64 (one customer line holds a whole /64).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;

use crate::AppState;

/// The address a request comes from, as far as this instance can trust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Reverse proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

/// A proxy entry that is neither an address nor a network.
#[derive(Debug, thiserror::Error)]
#[error("RATHAUS_TRUSTED_PROXIES: `{0}` is no IP address or network (e.g. 10.0.0.0/8, ::1)")]
pub struct BadProxy(pub String);

impl TrustedProxies {
    /// Parses a comma- or space-separated list of addresses and networks.
    pub fn parse(list: &str) -> Result<Self, BadProxy> {
        list.split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| BadProxy(s.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request whose TCP peer is `peer`: walks the forwarded
    /// chain from the right (nearest hop first) and stops at the first address
    /// that is not a trusted proxy. Headers from untrusted peers are ignored.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        let mut client = peer;
        for hop in chain.iter().rev() {
            client = canonical(*hop);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// Addresses of the forwarded chain, leftmost (original client) first.
/// `Forwarded` wins over `X-Forwarded-For` when both are present; an entry
/// that cannot be read ends the chain there (nothing left of it is believed).
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let entries: Vec<Option<IpAddr>> = if !forwarded.is_empty() {
        forwarded
            .iter()
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_node(v.trim()))?
                })
            })
            .collect()
    } else {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| parse_node(s.trim()))
            .collect()
    };
    // Only the unbroken run of readable entries next to the proxy counts.
    let mut chain: Vec<IpAddr> = entries.iter().rev().map_while(|e| *e).collect::<Vec<_>>();
    chain.reverse();
    chain
}

/// One node of `Forwarded: for=` or `X-Forwarded-For`: `1.2.3.4`,
/// `1.2.3.4:5678`, `"[2001:db8::1]:80"`, `2001:db8::1`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = s.parse::<SocketAddr>() {
        return Some(sock.ip());
    }
    let inner = s.strip_prefix('[')?.split(']').next()?;
    inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The key a rate limit counts under: an IPv4 address as it is, an IPv6
/// address by its /64 network (hosts of one line share a bucket).
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// The client address of a request, for handlers (`None` without a TCP peer,
/// as in router tests without connect info).
pub struct Client(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(client_of(&parts.extensions)))
    }
}

/// The client address recorded by [`client_addr`], else the TCP peer.
pub fn client_of(ext: &axum::http::Extensions) -> Option<IpAddr> {
    ext.get::<ClientAddr>().map(|c| c.0).or_else(|| {
        ext.get::<ConnectInfo<SocketAddr>>()
            .map(|c| canonical(c.0.ip()))
    })
}

/// Puts the [`ClientAddr`] of each request into its extensions.
pub async fn client_addr(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        let ip = state
            .config
            .trusted_proxies
            .client(peer.ip(), req.headers());
        req.extensions_mut().insert(ClientAddr(ip));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_of_an_untrusted_peer_are_ignored() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(none.client(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        let some = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(some.client(ip("203.0.113.9"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_proxy_reports_the_client() {
        let p = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(p.client(ip("10.1.2.3"), &h), ip("198.51.100.7"));
        assert_eq!(p.client(ip("::1"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn a_spoofed_leftmost_entry_is_not_believed() {
        // The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended its peer.
        let p = TrustedProxies::parse("10.0.0.1").unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7")]);
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked() {
        let p = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&[("x-forwarded-for", "198.51.100.7, 10.0.0.5")]);
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_header_is_read_and_wins() {
        let p = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&[
            ("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https"),
            ("x-forwarded-for", "6.6.6.6"),
        ]);
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "for=192.0.2.60;proto=http, for=10.0.0.7")]);
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("192.0.2.60"));
    }

    #[test]
    fn unreadable_entries_end_the_chain() {
        let p = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&[("x-forwarded-for", "198.51.100.7, garbage")]);
        // Nothing readable next to the proxy: the proxy itself is the client.
        assert_eq!(p.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn bad_proxy_entries_are_named() {
        let e = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(e.to_string().contains("proxy.local"));
    }

    #[test]
    fn ipv6_rate_key_is_the_slash_64() {
        assert_eq!(
            rate_key(ip("2001:db8:1:2:aaaa::1")),
            rate_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            rate_key(ip("2001:db8:1:2::1")),
            rate_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(rate_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(rate_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }

    proptest! {
        /// Whatever the headers say, an untrusted peer is its own client, and
        /// a trusted one never yields an address that is not in its headers.
        #[test]
        fn client_comes_from_peer_or_headers(xff in "[0-9a-f.:, \\[\\]\"]{0,80}", fwd in "[a-z0-9=;.:, \\[\\]\"]{0,80}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&xff) { h.insert("x-forwarded-for", v); }
            if let Ok(v) = HeaderValue::from_str(&fwd) { h.insert("forwarded", v); }
            let p = TrustedProxies::parse("10.0.0.0/8").unwrap();
            prop_assert_eq!(p.client(ip("192.0.2.1"), &h), ip("192.0.2.1"));
            let c = p.client(ip("10.0.0.1"), &h);
            prop_assert!(c == ip("10.0.0.1") || forwarded_chain(&h).iter().any(|x| canonical(*x) == c));
        }
    }
}
