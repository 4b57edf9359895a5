//! Which webhook targets the service refuses to call (server-side request forgery):
//! a pure decision over an IP address, applied to every address a target's host
//! resolves to, at creation and again at each delivery (the adapter's resolver), so
//! that a name pointing at loopback is refused as its literal address is.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `address` is in a range a webhook must never reach without the
/// private-targets setting: loopback, private (RFC 1918), link-local, unique-local,
/// shared address space (CGNAT), unspecified, broadcast, multicast, documentation,
/// benchmarking and reserved ranges, and IPv6 forms that embed such an IPv4 address
/// (v4-mapped, v4-compatible, NAT64, 6to4).
#[must_use]
pub fn is_refused_address(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_refused_v4(v4),
        IpAddr::V6(v6) => is_refused_v6(v6),
    }
}

fn is_refused_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_refused_v6(v6: Ipv6Addr) -> bool {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return is_refused_v4(v4);
    }
    let segments = v6.segments();
    // v4-compatible (deprecated) ::a.b.c.d, other than :: and ::1 handled below.
    if segments[..6].iter().all(|s| *s == 0) && !v6.is_unspecified() && !v6.is_loopback() {
        let [_, _, _, _, _, _, high, low] = segments;
        return is_refused_v4(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)));
    }
    // NAT64 well-known prefix 64:ff9b::/96 embeds an IPv4 address.
    if segments[0] == 0x64 && segments[1] == 0xff9b && segments[2..6].iter().all(|s| *s == 0) {
        let [_, _, _, _, _, _, high, low] = segments;
        return is_refused_v4(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)));
    }
    // 6to4 2002::/16 embeds an IPv4 address in segments 1 and 2.
    if segments[0] == 0x2002 {
        return is_refused_v4(Ipv4Addr::from(
            (u32::from(segments[1]) << 16) | u32::from(segments[2]),
        ));
    }
    v6.is_loopback()
        || v6.is_unspecified()
        || v6.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x3fff && segments[1] < 0x1000) // documentation 3fff::/20
        || (segments[0] == 0x0100 && segments[1..4].iter().all(|s| *s == 0)) // discard-only
        || (segments[0] == 0x2001 && segments[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHID...)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        is_refused_address(text.parse().expect("an address"))
    }

    #[test]
    fn loopback_private_and_special_ranges_are_refused() {
        for address in [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.1",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "100::1",
            "2001::1",
        ] {
            assert!(refused(address), "{address} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(!refused(address), "{address} must be allowed");
        }
    }
}
