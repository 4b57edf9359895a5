//! Plivo: `GET /v1/Account/{AuthId}/Number/?limit=20&offset=0` with basic
//! authentication (auth id and auth token), following `meta.next` (a path from the
//! base URL) until it is null. Plivo writes numbers without their `+`; the caller
//! adds it.

use serde_json::Value;
use switchboard_domain::telephony::{CredentialsToVerify, NumberSourceError};

use super::{Listing, next_page};
use crate::{basic, path_segment};

/// Numbers per page asked for (Plivo's largest).
const PAGE_SIZE: u32 = 20;

pub(super) fn list(
    agent: &ureq::Agent,
    base: &str,
    credentials: &CredentialsToVerify<'_>,
) -> Result<Vec<String>, NumberSourceError> {
    let auth_id = credentials.account_sid;
    let listing_path = format!("/v1/Account/{}/Number/", path_segment(auth_id));
    let mut listing = Listing::new(agent, "plivo", basic(auth_id, credentials.auth_token));
    let mut url = format!("{base}{listing_path}?limit={PAGE_SIZE}&offset=0");
    loop {
        let page = listing.page(&url)?;
        listing.gather(page.get("objects"), "number")?;
        match page.get("meta").and_then(|meta| meta.get("next")) {
            None | Some(Value::Null) => break,
            Some(Value::String(next)) if next.is_empty() => break,
            Some(Value::String(next)) => {
                url = next_page(base, &listing_path, next).ok_or(NumberSourceError::Malformed(
                    "a next page outside the listing",
                ))?;
            }
            Some(_) => return Err(NumberSourceError::Malformed("a next page that is no path")),
        }
    }
    Ok(listing.finish())
}
