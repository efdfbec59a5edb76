//! SSRF guard: which IP addresses a delivery may never connect to.
//!
//! [`classify`] is a pure function over one address. The client applies it twice: to IP-literal
//! URLs before anything is sent, and inside its DNS resolver to every address a name resolves to,
//! so the check covers exactly the addresses that are connected to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The hint appended to every refusal, telling the tenant why and the operator how to allow it.
const POLICY: &str = "deliveries to private or internal networks are refused \
                      (set MOJA_ALLOW_PRIVATE_TARGETS on a self-hosted server to allow them)";

/// Why an address is refused as a delivery target; each variant carries the refused address.
///
/// An IPv6 address that embeds an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo, …) is reported
/// with the class of the embedded address when that one is forbidden (`::ffff:127.0.0.1` is
/// [`Forbidden::Loopback`]), and as [`Forbidden::Ipv4Translated`] otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forbidden {
    /// `127.0.0.0/8`, `::1`.
    Loopback(IpAddr),
    /// RFC 1918: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private(IpAddr),
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal(IpAddr),
    /// Carrier-grade NAT, RFC 6598: `100.64.0.0/10`.
    SharedAddressSpace(IpAddr),
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast(IpAddr),
    /// `0.0.0.0`, `::`.
    Unspecified(IpAddr),
    /// "This network", RFC 791: `0.0.0.0/8` apart from `0.0.0.0` itself.
    ThisNetwork(IpAddr),
    /// `255.255.255.255`.
    Broadcast(IpAddr),
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation(IpAddr),
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking(IpAddr),
    /// Cloud instance metadata services: `169.254.169.254`, `169.254.170.2`, `100.100.100.200`,
    /// `168.63.129.16`, `fd00:ec2::254`.
    CloudMetadata(IpAddr),
    /// Reserved or unallocated: `240.0.0.0/4`, `192.0.0.0/24`, `192.88.99.0/24`, `100::/64` and
    /// every IPv6 address outside the global unicast range `2000::/3`.
    Reserved(IpAddr),
    /// An IPv6 form embedding an IPv4 address: `::ffff:0:0/96`, `::/96`, `::ffff:0:0:0/96`,
    /// `64:ff9b::/96`, `64:ff9b:1::/48`, `2002::/16`, `2001::/32`.
    Ipv4Translated(IpAddr),
    /// IPv6 unique local addresses, `fc00::/7`.
    UniqueLocal(IpAddr),
    /// Deprecated IPv6 site-local addresses, `fec0::/10`.
    SiteLocal(IpAddr),
}

/// A constructor of one [`Forbidden`] variant, e.g. `Forbidden::Loopback`.
type Make = fn(IpAddr) -> Forbidden;

impl Forbidden {
    /// The refused address.
    pub fn address(&self) -> IpAddr {
        match *self {
            Self::Loopback(ip)
            | Self::Private(ip)
            | Self::LinkLocal(ip)
            | Self::SharedAddressSpace(ip)
            | Self::Multicast(ip)
            | Self::Unspecified(ip)
            | Self::ThisNetwork(ip)
            | Self::Broadcast(ip)
            | Self::Documentation(ip)
            | Self::Benchmarking(ip)
            | Self::CloudMetadata(ip)
            | Self::Reserved(ip)
            | Self::Ipv4Translated(ip)
            | Self::UniqueLocal(ip)
            | Self::SiteLocal(ip) => ip,
        }
    }

    /// What kind of address this is, as a phrase ("a loopback address").
    pub fn description(&self) -> &'static str {
        match self {
            Self::Loopback(_) => "a loopback address",
            Self::Private(_) => "a private network address",
            Self::LinkLocal(_) => "a link-local address",
            Self::SharedAddressSpace(_) => "a carrier-grade NAT (shared address space) address",
            Self::Multicast(_) => "a multicast address",
            Self::Unspecified(_) => "the unspecified address",
            Self::ThisNetwork(_) => "a \"this network\" address",
            Self::Broadcast(_) => "the broadcast address",
            Self::Documentation(_) => "an address reserved for documentation",
            Self::Benchmarking(_) => "an address reserved for benchmarking",
            Self::CloudMetadata(_) => "a cloud metadata service address",
            Self::Reserved(_) => "a reserved address",
            Self::Ipv4Translated(_) => {
                "an IPv6 address embedding an IPv4 address (IPv4-mapped, NAT64, 6to4 or Teredo)"
            }
            Self::UniqueLocal(_) => "an IPv6 unique local address",
            Self::SiteLocal(_) => "an IPv6 site-local address",
        }
    }
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}; {POLICY}", self.address(), self.description())
    }
}

impl std::error::Error for Forbidden {}

/// IPv4 ranges, most specific first: the first match decides.
const V4_RULES: &[(Ipv4Addr, u8, Make)] = &[
    // Cloud metadata: AWS/GCP/Azure/Oracle, AWS ECS task credentials, Alibaba, Azure wireserver.
    (
        Ipv4Addr::new(169, 254, 169, 254),
        32,
        Forbidden::CloudMetadata,
    ),
    (
        Ipv4Addr::new(169, 254, 170, 2),
        32,
        Forbidden::CloudMetadata,
    ),
    (
        Ipv4Addr::new(100, 100, 100, 200),
        32,
        Forbidden::CloudMetadata,
    ),
    (
        Ipv4Addr::new(168, 63, 129, 16),
        32,
        Forbidden::CloudMetadata,
    ),
    (Ipv4Addr::BROADCAST, 32, Forbidden::Broadcast),
    (Ipv4Addr::UNSPECIFIED, 32, Forbidden::Unspecified),
    (Ipv4Addr::new(0, 0, 0, 0), 8, Forbidden::ThisNetwork),
    (Ipv4Addr::new(10, 0, 0, 0), 8, Forbidden::Private),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        Forbidden::SharedAddressSpace,
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, Forbidden::Loopback),
    (Ipv4Addr::new(169, 254, 0, 0), 16, Forbidden::LinkLocal),
    (Ipv4Addr::new(172, 16, 0, 0), 12, Forbidden::Private),
    // IETF protocol assignments (RFC 6890).
    (Ipv4Addr::new(192, 0, 0, 0), 24, Forbidden::Reserved),
    (Ipv4Addr::new(192, 0, 2, 0), 24, Forbidden::Documentation),
    // Deprecated 6to4 relay anycast (RFC 7526).
    (Ipv4Addr::new(192, 88, 99, 0), 24, Forbidden::Reserved),
    (Ipv4Addr::new(192, 168, 0, 0), 16, Forbidden::Private),
    (Ipv4Addr::new(198, 18, 0, 0), 15, Forbidden::Benchmarking),
    (Ipv4Addr::new(198, 51, 100, 0), 24, Forbidden::Documentation),
    (Ipv4Addr::new(203, 0, 113, 0), 24, Forbidden::Documentation),
    (Ipv4Addr::new(224, 0, 0, 0), 4, Forbidden::Multicast),
    (Ipv4Addr::new(240, 0, 0, 0), 4, Forbidden::Reserved),
];

/// IPv6 ranges without an embedded IPv4 address, most specific first: the first match decides.
const V6_RULES: &[(Ipv6Addr, u8, Make)] = &[
    (Ipv6Addr::UNSPECIFIED, 128, Forbidden::Unspecified),
    (Ipv6Addr::LOCALHOST, 128, Forbidden::Loopback),
    // AWS instance metadata over IPv6.
    (
        Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254),
        128,
        Forbidden::CloudMetadata,
    ),
    // Discard-only (RFC 6666).
    (
        Ipv6Addr::new(0x0100, 0, 0, 0, 0, 0, 0, 0),
        64,
        Forbidden::Reserved,
    ),
    (
        Ipv6Addr::new(0x2001, 0x0002, 0, 0, 0, 0, 0, 0),
        48,
        Forbidden::Benchmarking,
    ),
    (
        Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0),
        32,
        Forbidden::Documentation,
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        Forbidden::Documentation,
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        Forbidden::UniqueLocal,
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        Forbidden::LinkLocal,
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        Forbidden::SiteLocal,
    ),
    (
        Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
        8,
        Forbidden::Multicast,
    ),
];

/// How an IPv6 form carries an IPv4 address.
#[derive(Clone, Copy)]
enum Embedding {
    /// In the low 32 bits (IPv4-mapped, IPv4-compatible, SIIT, NAT64 /96).
    Low32,
    /// In bits 16..48 (6to4).
    SixToFour,
    /// The client address in the low 32 bits, every bit inverted (Teredo).
    Teredo,
    /// Not at a fixed place (local-use NAT64 with a network-specific prefix length).
    Unknown,
}

/// IPv6 forms that embed an IPv4 address. Checked after the `::` and `::1` rules.
const V6_EMBEDDING: &[(Ipv6Addr, u8, Embedding)] = &[
    (
        Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0),
        96,
        Embedding::Low32,
    ),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96, Embedding::Low32),
    (
        Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, 0, 0),
        96,
        Embedding::Low32,
    ),
    (
        Ipv6Addr::new(0x0064, 0xff9b, 0, 0, 0, 0, 0, 0),
        96,
        Embedding::Low32,
    ),
    (
        Ipv6Addr::new(0x0064, 0xff9b, 0x0001, 0, 0, 0, 0, 0),
        48,
        Embedding::Unknown,
    ),
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        Embedding::SixToFour,
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        32,
        Embedding::Teredo,
    ),
];

/// Whether `ip` may be a delivery target: `None` when it may, otherwise why not.
pub fn classify(ip: IpAddr) -> Option<Forbidden> {
    let make = match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }?;
    Some(make(ip))
}

fn classify_v4(ip: Ipv4Addr) -> Option<Make> {
    let bits = ip.to_bits();
    V4_RULES
        .iter()
        .find(|(network, len, _)| prefix_matches_v4(bits, network.to_bits(), *len))
        .map(|(_, _, make)| *make)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Make> {
    let bits = ip.to_bits();
    let in_rules = |rules: &[(Ipv6Addr, u8, Make)]| {
        rules
            .iter()
            .find(|(network, len, _)| prefix_matches_v6(bits, network.to_bits(), *len))
            .map(|(_, _, make)| *make)
    };
    // `::` and `::1` come before the IPv4-compatible range `::/96` that contains them.
    if let Some(make) = in_rules(&V6_RULES[..2]) {
        return Some(make);
    }
    if let Some((_, _, embedding)) = V6_EMBEDDING
        .iter()
        .find(|(network, len, _)| prefix_matches_v6(bits, network.to_bits(), *len))
    {
        let embedded = match embedding {
            Embedding::Low32 => Some(Ipv4Addr::from_bits(bits as u32)),
            Embedding::SixToFour => Some(Ipv4Addr::from_bits((bits >> 80) as u32)),
            Embedding::Teredo => Some(Ipv4Addr::from_bits(!(bits as u32))),
            Embedding::Unknown => None,
        };
        let make = embedded
            .and_then(classify_v4)
            .unwrap_or(Forbidden::Ipv4Translated);
        return Some(make);
    }
    if let Some(make) = in_rules(&V6_RULES[2..]) {
        return Some(make);
    }
    // Everything outside the global unicast range 2000::/3 is reserved by the IETF.
    if !prefix_matches_v6(bits, 0x2000 << 112, 3) {
        return Some(Forbidden::Reserved);
    }
    None
}

fn prefix_matches_v4(bits: u32, network: u32, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    bits & mask == network & mask
}

fn prefix_matches_v6(bits: u128, network: u128, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    bits & mask == network & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The forbidden ranges as the specification lists them, written independently of the rule
    /// tables above so that the tests check the tables rather than repeat them.
    const FORBIDDEN_V4: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "168.63.129.16/32",
    ];

    const FORBIDDEN_V6: &[&str] = &[
        "::/128",
        "::1/128",
        "::ffff:0:0/96",
        "::/96",
        "::ffff:0:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/32",
        "2001:2::/48",
        "2001:db8::/32",
        "2002::/16",
        "3fff::/20",
        "fc00::/7",
        "fd00:ec2::254/128",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    ];

    fn cidr_v4(text: &str) -> (u32, u8) {
        let (network, len) = text.split_once('/').unwrap();
        (
            network.parse::<Ipv4Addr>().unwrap().to_bits(),
            len.parse().unwrap(),
        )
    }

    fn cidr_v6(text: &str) -> (u128, u8) {
        let (network, len) = text.split_once('/').unwrap();
        (
            network.parse::<Ipv6Addr>().unwrap().to_bits(),
            len.parse().unwrap(),
        )
    }

    fn host_v4(network: u32, len: u8, host: u32) -> Ipv4Addr {
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        Ipv4Addr::from_bits((network & mask) | (host & !mask))
    }

    fn host_v6(network: u128, len: u8, host: u128) -> Ipv6Addr {
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        Ipv6Addr::from_bits((network & mask) | (host & !mask))
    }

    fn in_forbidden_v4(ip: Ipv4Addr) -> bool {
        FORBIDDEN_V4.iter().any(|cidr| {
            let (network, len) = cidr_v4(cidr);
            prefix_matches_v4(ip.to_bits(), network, len)
        })
    }

    fn in_forbidden_v6(ip: Ipv6Addr) -> bool {
        FORBIDDEN_V6.iter().any(|cidr| {
            let (network, len) = cidr_v6(cidr);
            prefix_matches_v6(ip.to_bits(), network, len)
        })
    }

    fn check(text: &str) -> Option<Forbidden> {
        classify(text.parse().unwrap())
    }

    /// Asserts the class of each address, by variant.
    #[track_caller]
    fn assert_class(make: Make, addresses: &[&str]) {
        for text in addresses {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(classify(ip), Some(make(ip)), "{text}");
        }
    }

    #[track_caller]
    fn assert_allowed(addresses: &[&str]) {
        for text in addresses {
            assert_eq!(check(text), None, "{text}");
        }
    }

    #[test]
    fn loopback() {
        assert_class(
            Forbidden::Loopback,
            &["127.0.0.0", "127.0.0.1", "127.255.255.255", "::1"],
        );
        assert_allowed(&["126.255.255.255", "128.0.0.0"]);
    }

    #[test]
    fn private_rfc1918() {
        assert_class(
            Forbidden::Private,
            &[
                "10.0.0.0",
                "10.255.255.255",
                "172.16.0.0",
                "172.31.255.255",
                "192.168.0.0",
                "192.168.255.255",
            ],
        );
        assert_allowed(&[
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
        ]);
    }

    #[test]
    fn link_local() {
        assert_class(
            Forbidden::LinkLocal,
            &[
                "169.254.0.0",
                "169.254.255.255",
                "fe80::",
                "fe80::1",
                "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ],
        );
        assert_allowed(&["169.253.255.255", "169.255.0.0"]);
    }

    #[test]
    fn shared_address_space() {
        assert_class(
            Forbidden::SharedAddressSpace,
            &["100.64.0.0", "100.100.100.199", "100.127.255.255"],
        );
        assert_allowed(&["100.63.255.255", "100.128.0.0"]);
    }

    #[test]
    fn multicast() {
        assert_class(
            Forbidden::Multicast,
            &[
                "224.0.0.0",
                "239.255.255.255",
                "ff02::1",
                "ff00::",
                "ffff::1",
            ],
        );
        assert_allowed(&["223.255.255.255"]);
    }

    #[test]
    fn unspecified_this_network_and_broadcast() {
        assert_class(Forbidden::Unspecified, &["0.0.0.0", "::"]);
        assert_class(
            Forbidden::ThisNetwork,
            &["0.0.0.1", "0.1.2.3", "0.255.255.255"],
        );
        assert_class(Forbidden::Broadcast, &["255.255.255.255"]);
        assert_allowed(&["1.0.0.0"]);
    }

    #[test]
    fn documentation() {
        assert_class(
            Forbidden::Documentation,
            &[
                "192.0.2.0",
                "192.0.2.255",
                "198.51.100.0",
                "198.51.100.255",
                "203.0.113.0",
                "203.0.113.255",
                "2001:db8::",
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                "3fff::1",
                "3fff:0fff:ffff:ffff:ffff:ffff:ffff:ffff",
            ],
        );
        assert_allowed(&[
            "192.0.3.0",
            "198.51.99.255",
            "198.51.101.0",
            "203.0.112.255",
            "203.0.114.0",
            "2001:db9::1",
            "3fff:1000::1",
        ]);
    }

    #[test]
    fn benchmarking() {
        assert_class(
            Forbidden::Benchmarking,
            &[
                "198.18.0.0",
                "198.19.255.255",
                "2001:2::",
                "2001:2:0:ffff:ffff:ffff:ffff:ffff",
            ],
        );
        assert_allowed(&["198.17.255.255", "198.20.0.0", "2001:2:1::1"]);
    }

    #[test]
    fn cloud_metadata() {
        assert_class(
            Forbidden::CloudMetadata,
            &[
                "169.254.169.254",
                "169.254.170.2",
                "100.100.100.200",
                "168.63.129.16",
                "fd00:ec2::254",
                "::ffff:169.254.169.254",
            ],
        );
        assert_class(
            Forbidden::LinkLocal,
            &["169.254.169.253", "169.254.169.255"],
        );
        assert_class(Forbidden::UniqueLocal, &["fd00:ec2::253"]);
    }

    #[test]
    fn reserved() {
        assert_class(
            Forbidden::Reserved,
            &[
                "240.0.0.0",
                "255.255.255.254",
                "192.0.0.0",
                "192.0.0.255",
                "192.88.99.1",
                "100::",
                "100::ffff:ffff:ffff:ffff",
                "100:0:0:1::",
                "4000::1",
                "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "5f00::1",
            ],
        );
        assert_allowed(&["192.0.1.0", "192.88.98.255", "192.88.100.0"]);
        // The edge below 240.0.0.0/4 is multicast, not reserved.
        assert_class(Forbidden::Multicast, &["239.255.255.255"]);
    }

    #[test]
    fn unique_local_and_site_local() {
        assert_class(
            Forbidden::UniqueLocal,
            &[
                "fc00::",
                "fd12:3456:789a::1",
                "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ],
        );
        assert_class(
            Forbidden::SiteLocal,
            &["fec0::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
        );
    }

    #[test]
    fn ipv4_embedded_in_ipv6_names_the_embedded_class() {
        assert_class(
            Forbidden::Loopback,
            &[
                "::ffff:127.0.0.1",
                "::127.0.0.1",
                "::ffff:0:127.0.0.1",
                "64:ff9b::127.0.0.1",
                "2002:7f00:1::",
                // Teredo: client 127.0.0.1 stored inverted in the low 32 bits.
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
            ],
        );
        assert_class(
            Forbidden::Private,
            &[
                "::ffff:10.0.0.1",
                "64:ff9b::192.168.1.1",
                "2002:c0a8:101::1",
            ],
        );
        assert_class(Forbidden::Unspecified, &["::ffff:0.0.0.0"]);
    }

    #[test]
    fn ipv4_embedded_in_ipv6_is_refused_even_when_public() {
        assert_class(
            Forbidden::Ipv4Translated,
            &[
                "::ffff:8.8.8.8",
                "::8.8.8.8",
                "::ffff:0:8.8.8.8",
                "64:ff9b::8.8.8.8",
                "64:ff9b:1::1",
                "2002:808:808::1",
                "2001:0:ffff:ffff:ffff:ffff:f7f7:f7f7",
            ],
        );
        // Edges of the embedding ranges: the embedded address decides the class.
        assert_class(Forbidden::Unspecified, &["::ffff:0:0", "2002::"]);
        assert_class(
            Forbidden::Broadcast,
            &[
                "::ffff:ffff:ffff",
                "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ],
        );
        assert_class(Forbidden::ThisNetwork, &["::2"]);
        assert_allowed(&["2003::1", "2001:1::1"]);
        // Next to 64:ff9b::/96 but outside 2000::/3.
        assert_class(Forbidden::Reserved, &["64:ff9b:2::1", "64:ff9a::1"]);
    }

    #[test]
    fn public_addresses_are_allowed() {
        assert_allowed(&[
            "8.8.8.8",
            "1.1.1.1",
            "9.9.9.9",
            "93.184.216.34",
            "172.217.0.1",
            "100.63.0.1",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001::1",
        ]);
    }

    #[test]
    fn message_names_the_address_and_the_setting() {
        let message = check("127.0.0.1").unwrap().to_string();
        assert_eq!(
            message,
            "127.0.0.1 is a loopback address; deliveries to private or internal networks are \
             refused (set MOJA_ALLOW_PRIVATE_TARGETS on a self-hosted server to allow them)"
        );
        let message = check("::ffff:10.1.2.3").unwrap().to_string();
        assert!(
            message.starts_with("::ffff:10.1.2.3 is a private network address; "),
            "{message}"
        );
    }

    #[test]
    fn address_is_the_classified_one() {
        let ip: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(classify(ip).unwrap().address(), ip);
    }

    fn forbidden_v4() -> impl Strategy<Value = Ipv4Addr> {
        (0..FORBIDDEN_V4.len(), any::<u32>()).prop_map(|(index, host)| {
            let (network, len) = cidr_v4(FORBIDDEN_V4[index]);
            host_v4(network, len, host)
        })
    }

    fn forbidden_v6() -> impl Strategy<Value = Ipv6Addr> {
        (0..FORBIDDEN_V6.len(), any::<u128>()).prop_map(|(index, host)| {
            let (network, len) = cidr_v6(FORBIDDEN_V6[index]);
            host_v6(network, len, host)
        })
    }

    proptest! {
        #[test]
        fn every_address_in_a_forbidden_v4_range_is_refused(ip in forbidden_v4()) {
            prop_assert!(classify(IpAddr::V4(ip)).is_some(), "{ip}");
        }

        #[test]
        fn every_address_in_a_forbidden_v6_range_is_refused(ip in forbidden_v6()) {
            prop_assert!(classify(IpAddr::V6(ip)).is_some(), "{ip}");
        }

        #[test]
        fn v4_addresses_outside_the_forbidden_ranges_are_allowed(bits in any::<u32>()) {
            let ip = Ipv4Addr::from_bits(bits);
            prop_assume!(!in_forbidden_v4(ip));
            prop_assert_eq!(classify(IpAddr::V4(ip)), None, "{}", ip);
        }

        #[test]
        fn global_unicast_v6_outside_the_forbidden_ranges_is_allowed(host in any::<u128>()) {
            let ip = host_v6(0x2000 << 112, 3, host);
            prop_assume!(!in_forbidden_v6(ip));
            prop_assert_eq!(classify(IpAddr::V6(ip)), None, "{}", ip);
        }

        #[test]
        fn v6_outside_global_unicast_is_always_refused(bits in any::<u128>()) {
            let ip = Ipv6Addr::from_bits(bits);
            prop_assume!(!prefix_matches_v6(bits, 0x2000 << 112, 3));
            prop_assert!(classify(IpAddr::V6(ip)).is_some(), "{ip}");
        }

        #[test]
        fn ipv4_mapped_is_always_refused_with_the_embedded_class(bits in any::<u32>()) {
            let v4 = Ipv4Addr::from_bits(bits);
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            let make = classify_v4(v4).unwrap_or(Forbidden::Ipv4Translated);
            prop_assert_eq!(classify(mapped), Some(make(mapped)));
        }
    }
}
