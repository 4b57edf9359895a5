//! `X-Forwarded-For` and the proxies it is believed from: who the client is when
//! the TCP peer is a proxy the operator trusts (`server.trusted_proxies`).
//!
//! `X-Forwarded-For` lists the addresses a request passed through, the nearest last.
//! Walking it from the right, entries added by trusted proxies are skipped; the first
//! other entry is the client. Anything a client could have written itself (the
//! header from an untrusted peer, an entry that is not an address) is never taken:
//! then the nearest address known to be real is used.

use std::net::IpAddr;

use ipnet::IpNet;

/// Name of the forwarding header.
pub(crate) const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The proxies whose `X-Forwarded-For` is believed: addresses and networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// An entry of `server.trusted_proxies` that is neither an address nor a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("entry {position} of server.trusted_proxies is not an IP address or a CIDR network")]
pub struct InvalidTrustedProxy {
    /// 1-based position of the entry.
    pub position: usize,
}

impl TrustedProxies {
    /// Parses addresses (`10.0.0.1`, `::1`) and networks (`10.0.0.0/8`); blank
    /// entries are skipped.
    ///
    /// # Errors
    /// [`InvalidTrustedProxy`] naming the first entry that is neither.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, InvalidTrustedProxy> {
        let mut networks = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let network = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| InvalidTrustedProxy {
                    position: index + 1,
                })?;
            networks.push(network);
        }
        Ok(Self(networks))
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client of a request that came from `peer` with these `X-Forwarded-For`
    /// values (in header order).
    #[must_use]
    pub fn client<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded: impl Iterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = peer.map(|peer| peer.to_canonical())?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).collect();
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            let Ok(address) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = address.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        Some(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn client(trusted: &[&str], peer: &str, forwarded: &[&str]) -> String {
        TrustedProxies::parse(trusted)
            .expect("valid")
            .client(Some(ip(peer)), forwarded.iter().copied())
            .map(|address| address.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn the_header_counts_only_from_trusted_proxies() {
        assert_eq!(client(&[], "203.0.113.9", &["1.2.3.4"]), "203.0.113.9");
        assert_eq!(
            client(&["10.0.0.0/8"], "203.0.113.9", &["1.2.3.4"]),
            "203.0.113.9",
            "an untrusted peer's header is the client's own writing"
        );
        assert_eq!(client(&["10.0.0.0/8"], "10.1.2.3", &["1.2.3.4"]), "1.2.3.4");
        assert_eq!(
            client(
                &["10.0.0.0/8", "::1"],
                "::1",
                &["6.6.6.6, 1.2.3.4", "10.9.9.9"]
            ),
            "1.2.3.4",
            "trusted hops are skipped from the right; entries left of the client are not believed"
        );
        assert_eq!(client(&["10.0.0.1"], "10.0.0.1", &[]), "10.0.0.1");
        assert_eq!(
            client(&["10.0.0.1"], "10.0.0.1", &["1.2.3.4, junk"]),
            "10.0.0.1",
            "a malformed hop ends the walk at the last real address"
        );
        assert_eq!(
            client(&["127.0.0.1"], "::ffff:127.0.0.1", &["1.2.3.4"]),
            "1.2.3.4",
            "mapped IPv4 peers match their IPv4 network"
        );
    }

    #[test]
    fn entries_are_addresses_or_networks() {
        assert_eq!(
            TrustedProxies::parse(&["10.0.0.1", " 192.168.0.0/16 ", "", "::1", "fd00::/8"])
                .map(|proxies| proxies.0.len()),
            Ok(4)
        );
        assert_eq!(
            TrustedProxies::parse(&["10.0.0.1", "proxy.local"]),
            Err(InvalidTrustedProxy { position: 2 })
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
    }
}
