//! The client's address behind reverse proxies. Behind a proxy every request
//! arrives from the proxy's address, so lockout would count all clients as
//! one and the audit log would name the proxy. With `--trusted-proxies`, a
//! request from one of those addresses is attributed to the address its
//! `X-Forwarded-For` names; from anywhere else the header is ignored, since
//! anyone can send it.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// Walks `X-Forwarded-For` from the right (the entry the nearest proxy
/// added) past addresses of trusted proxies; the first other address is
/// the client. Entries left of it were written by the client itself and are
/// never believed. An unreadable entry stops the walk at the last trusted
/// hop; a header of trusted proxies only gives its leftmost entry.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry) else {
            return client;
        };
        client = ip;
        if !is_trusted(&ip) {
            return ip;
        }
    }
    client
}

/// An address as proxies write it: bare, or (some do) with a port, IPv6 in
/// brackets then.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Ok(addr) = entry.parse::<std::net::SocketAddr>() {
        return Some(addr.ip());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

/// `--trusted-proxies` values: networks (`10.0.0.0/8`) or single addresses.
pub fn parse_trusted(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("{value:?} is neither an address nor a network (like 10.0.0.0/8 or ::1)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let trusted = [
            parse_trusted("10.0.0.0/8").unwrap(),
            parse_trusted("::1").unwrap(),
        ];
        let proxy = ip("10.1.2.3");
        type Case<'a> = (IpAddr, &'a [&'a str], &'a str);
        let cases: &[Case] = &[
            // No proxies configured, or not from one: the peer, whatever it says.
            (ip("203.0.113.9"), &["198.51.100.1"], "203.0.113.9"),
            // From the proxy: the address it recorded.
            (proxy, &["198.51.100.7"], "198.51.100.7"),
            // A client forging an entry to the left is not believed.
            (proxy, &["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
            // Two trusted hops, headers split over lines.
            (proxy, &["198.51.100.7", "10.9.9.9"], "198.51.100.7"),
            (ip("::1"), &["2001:db8::5, 10.0.0.2"], "2001:db8::5"),
            // Ports and brackets, as some proxies write them.
            (proxy, &["198.51.100.7:4711"], "198.51.100.7"),
            (proxy, &["[2001:db8::5]:443"], "2001:db8::5"),
            // Garbage stops at the last trusted hop.
            (proxy, &["198.51.100.7, not-an-ip"], "10.1.2.3"),
            (proxy, &["junk, 10.2.2.2"], "10.2.2.2"),
            // Only proxies: the leftmost; no header: the peer.
            (proxy, &["10.3.3.3, 10.2.2.2"], "10.3.3.3"),
            (proxy, &[], "10.1.2.3"),
        ];
        for (peer, xff, want) in cases {
            assert_eq!(
                client_ip(*peer, &headers(xff), &trusted),
                ip(want),
                "{peer} {xff:?}"
            );
        }
        assert_eq!(
            client_ip(proxy, &headers(&["198.51.100.7"]), &[]),
            proxy,
            "nothing trusted: the header is ignored"
        );
    }

    #[test]
    fn trusted_values_are_networks_or_addresses() {
        assert_eq!(
            parse_trusted("192.168.0.0/16").unwrap().to_string(),
            "192.168.0.0/16"
        );
        assert_eq!(
            parse_trusted(" 10.0.0.1 ").unwrap().to_string(),
            "10.0.0.1/32"
        );
        assert_eq!(parse_trusted("::1").unwrap().to_string(), "::1/128");
        let err = parse_trusted("10.0.0.0/33").unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
        assert!(parse_trusted("proxy.internal").is_err());
    }
}
