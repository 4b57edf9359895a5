//! The client's address, for login throttling: the TCP peer, or, when the peer is a
//! proxy the operator trusts, the address that proxy reports in `X-Forwarded-For`
//! (the rules are [`TrustedProxies`]').

use actix_web::HttpRequest;

use crate::wire::forwarded::{TrustedProxies, X_FORWARDED_FOR};

/// The client address of `req`, as text (`unknown` without a peer address).
#[must_use]
pub(crate) fn client_address(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    let forwarded = req
        .headers()
        .get_all(X_FORWARDED_FOR)
        .filter_map(|value| value.to_str().ok());
    trusted
        .client(req.peer_addr().map(|address| address.ip()), forwarded)
        .map_or_else(|| "unknown".to_owned(), |address| address.to_string())
}
