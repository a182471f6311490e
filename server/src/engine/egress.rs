//! Where HTTP steps may connect. A workflow author picks the URL of an HTTP
//! step, and the request leaves from the worker's host: without a policy a
//! step could read the cloud metadata service (169.254.169.254 hands out the
//! instance's credentials) or talk to services that trust loopback callers.
//!
//! By default steps are refused the addresses that only make sense from the
//! host itself: loopback, link-local (the metadata services live there),
//! unspecified, multicast and broadcast, and the cloud metadata addresses
//! outside those ranges, in every spelling (IPv4-mapped, IPv4-compatible and
//! NAT64 forms of an IPv4 address count as that address). Private ranges
//! (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed: on-premises
//! services live there, and a worker's own network is where its jobs are
//! meant to go. Operators re-allow ranges with `--http-step-allow`, for
//! every environment (`CIDR`) or one (`CIDR@ENV`).
//!
//! This module is the pure decision; `http_clients` applies it to the
//! addresses a request actually connects to, after DNS resolution.

use ipnet::IpNet;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The flag operators use to re-allow ranges (named in every refusal).
pub const ALLOW_FLAG: &str = "--http-step-allow";

/// Why an address is refused by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    Loopback,
    LinkLocal,
    /// A cloud provider's instance metadata service.
    Metadata,
    /// `0.0.0.0/8` and `::`; on Linux a connection to them reaches the host.
    Unspecified,
    Multicast,
    Broadcast,
}

impl fmt::Display for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reserved::Loopback => "loopback",
            Reserved::LinkLocal => "link-local",
            Reserved::Metadata => "a cloud metadata service",
            Reserved::Unspecified => "unspecified",
            Reserved::Multicast => "multicast",
            Reserved::Broadcast => "broadcast",
        })
    }
}

/// Instance metadata services outside the link-local and loopback ranges
/// (those are refused whole): AWS's IPv6 IMDS and EKS pod identity,
/// Alibaba Cloud, Oracle Cloud Classic.
const METADATA_V4: [Ipv4Addr; 2] = [
    Ipv4Addr::new(100, 100, 100, 200),
    Ipv4Addr::new(192, 0, 0, 192),
];
const METADATA_V6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254),
    Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0023),
];

/// What kind of reserved address `ip` is, if any (the default policy
/// refuses these and nothing else).
pub fn classify(ip: IpAddr) -> Option<Reserved> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Reserved> {
    if METADATA_V4.contains(&ip) || ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some(Reserved::Metadata)
    } else if ip.is_loopback() {
        Some(Reserved::Loopback)
    } else if ip.is_link_local() {
        Some(Reserved::LinkLocal)
    } else if ip.octets()[0] == 0 {
        Some(Reserved::Unspecified)
    } else if ip.is_multicast() {
        Some(Reserved::Multicast)
    } else if ip.is_broadcast() {
        Some(Reserved::Broadcast)
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Reserved> {
    if METADATA_V6.contains(&ip) {
        Some(Reserved::Metadata)
    } else if ip.is_loopback() {
        Some(Reserved::Loopback)
    } else if ip.is_unspecified() {
        Some(Reserved::Unspecified)
    } else if ip.is_unicast_link_local() {
        Some(Reserved::LinkLocal)
    } else if ip.is_multicast() {
        Some(Reserved::Multicast)
    } else {
        None
    }
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, RFC 4291 §2.5.5.1,
/// deprecated but still accepted by some stacks) and the NAT64 well-known
/// prefix (`64:ff9b::/96`, RFC 6052), which a NAT64 gateway turns into a
/// connection to that IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let o = ip.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let compatible = s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (compatible || nat64).then_some(tail)
}

/// One `--http-step-allow` item: `CIDR` (every environment) or `CIDR@ENV`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub net: IpNet,
    /// `None`: every environment.
    pub environment: Option<String>,
}

/// Parses one item of `--http-step-allow` (clap's value parser).
pub fn parse_allow(value: &str) -> Result<AllowEntry, String> {
    let value = value.trim();
    let (net, environment) = match value.rsplit_once('@') {
        Some((net, env)) if !env.is_empty() => (net, Some(env.to_owned())),
        Some(_) => return Err(format!("{value:?} names no environment after '@'")),
        None => (value, None),
    };
    let net = net
        .parse::<IpNet>()
        .or_else(|_| net.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!(
                "{value:?} is not an address or network, optionally for one environment \
                 (like 10.0.0.0/8, ::1 or 127.0.0.1@dev)"
            )
        })?;
    Ok(AllowEntry {
        net: net.trunc(),
        environment,
    })
}

/// Which reserved ranges each environment's HTTP steps may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    everywhere: Vec<IpNet>,
    per_environment: BTreeMap<String, Vec<IpNet>>,
}

impl EgressPolicy {
    pub fn new(entries: &[AllowEntry]) -> Self {
        let mut policy = Self::default();
        for entry in entries {
            match &entry.environment {
                None => policy.everywhere.push(entry.net),
                Some(env) => policy
                    .per_environment
                    .entry(env.clone())
                    .or_default()
                    .push(entry.net),
            }
        }
        policy
    }

    /// The environments the allow-list names (checked against the
    /// configured ones at start-up).
    pub fn environments(&self) -> impl Iterator<Item = &str> {
        self.per_environment.keys().map(String::as_str)
    }

    /// Whether a step of `environment` may connect to `ip`.
    pub fn check(&self, environment: &str, ip: IpAddr) -> Result<(), Refused> {
        let Some(kind) = classify(ip) else {
            return Ok(());
        };
        if self.allows(environment, ip) {
            return Ok(());
        }
        Err(Refused {
            address: ip,
            kind,
            environment: environment.to_owned(),
        })
    }

    fn allows(&self, environment: &str, ip: IpAddr) -> bool {
        // An allowed IPv4 range also covers that address spelled as IPv6.
        let embedded = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        let own = self.per_environment.get(environment).into_iter().flatten();
        self.everywhere
            .iter()
            .chain(own)
            .any(|net| net.contains(&ip) || embedded.is_some_and(|e| net.contains(&e)))
    }
}

/// A destination the policy refuses; its text is the step's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "destination {address} ({kind}) is not allowed for HTTP steps in {environment}; \
     an operator can allow it with {ALLOW_FLAG} {address}@{environment}"
)]
pub struct Refused {
    pub address: IpAddr,
    pub kind: Reserved,
    pub environment: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn kind(s: &str) -> Option<Reserved> {
        classify(ip(s))
    }

    #[test]
    fn host_only_addresses_are_reserved_in_every_spelling() {
        let cases = [
            ("127.0.0.1", Reserved::Loopback),
            ("127.255.0.9", Reserved::Loopback),
            ("::1", Reserved::Loopback),
            ("::ffff:127.0.0.1", Reserved::Loopback),
            ("::127.0.0.1", Reserved::Loopback),
            ("64:ff9b::7f00:1", Reserved::Loopback),
            ("169.254.169.254", Reserved::Metadata),
            ("::ffff:169.254.169.254", Reserved::Metadata),
            ("::ffff:a9fe:a9fe", Reserved::Metadata),
            ("64:ff9b::169.254.169.254", Reserved::Metadata),
            ("fd00:ec2::254", Reserved::Metadata),
            ("100.100.100.200", Reserved::Metadata),
            ("169.254.170.2", Reserved::LinkLocal),
            ("169.254.0.1", Reserved::LinkLocal),
            ("fe80::1", Reserved::LinkLocal),
            ("0.0.0.0", Reserved::Unspecified),
            ("0.1.2.3", Reserved::Unspecified),
            ("::", Reserved::Unspecified),
            ("::ffff:0.0.0.0", Reserved::Unspecified),
            ("224.0.0.1", Reserved::Multicast),
            ("ff02::1", Reserved::Multicast),
            ("255.255.255.255", Reserved::Broadcast),
        ];
        for (addr, expected) in cases {
            assert_eq!(kind(addr), Some(expected), "{addr}");
        }
    }

    #[test]
    fn public_and_private_addresses_are_not_reserved() {
        for addr in [
            "93.184.215.14",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "100.64.0.1",
            "fd12:3456::1",
            "fd00:ec2::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "64:ff9b::8.8.8.8",
        ] {
            assert_eq!(kind(addr), None, "{addr}");
        }
    }

    #[test]
    fn allow_entries_parse_with_or_without_an_environment() {
        assert_eq!(
            parse_allow("10.0.0.0/8").unwrap(),
            AllowEntry {
                net: "10.0.0.0/8".parse().unwrap(),
                environment: None
            }
        );
        let e = parse_allow(" 127.0.0.1@dev ").unwrap();
        assert_eq!(e.net, "127.0.0.1/32".parse::<IpNet>().unwrap());
        assert_eq!(e.environment.as_deref(), Some("dev"));
        assert_eq!(
            parse_allow("::1@prod").unwrap().net,
            "::1/128".parse::<IpNet>().unwrap()
        );
        // Host bits are dropped: 127.0.0.1/8 means 127.0.0.0/8.
        assert_eq!(
            parse_allow("127.0.0.1/8").unwrap().net,
            "127.0.0.0/8".parse::<IpNet>().unwrap()
        );
        for bad in [
            "",
            "dev=10.0.0.0/8",
            "10.0.0.0/33",
            "10.0.0.0/8@",
            "localhost",
        ] {
            let err = parse_allow(bad).unwrap_err();
            assert!(
                err.contains("10.0.0.0/8") || err.contains('@'),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_default_policy_refuses_reserved_addresses_only() {
        let policy = EgressPolicy::default();
        assert!(policy.check("dev", ip("10.1.2.3")).is_ok());
        assert!(policy.check("dev", ip("203.0.113.7")).is_ok());
        let refused = policy.check("dev", ip("127.0.0.1")).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "destination 127.0.0.1 (loopback) is not allowed for HTTP steps in dev; \
             an operator can allow it with --http-step-allow 127.0.0.1@dev"
        );
        assert_eq!(
            policy
                .check("prod", ip("169.254.169.254"))
                .unwrap_err()
                .kind,
            Reserved::Metadata
        );
    }

    #[test]
    fn allowed_ranges_apply_to_their_environment_or_to_all() {
        let entries: Vec<AllowEntry> = ["127.0.0.0/8@dev", "169.254.0.0/16"]
            .iter()
            .map(|s| parse_allow(s).unwrap())
            .collect();
        let policy = EgressPolicy::new(&entries);
        assert!(policy.check("dev", ip("127.0.0.1")).is_ok());
        assert!(policy.check("dev", ip("::ffff:127.0.0.1")).is_ok());
        assert!(policy.check("prod", ip("127.0.0.1")).is_err());
        assert!(policy.check("prod", ip("169.254.169.254")).is_ok());
        assert!(
            policy.check("dev", ip("::1")).is_err(),
            "IPv6 loopback stays refused"
        );
        assert_eq!(policy.environments().collect::<Vec<_>>(), ["dev"]);
    }
}
