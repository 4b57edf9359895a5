//! Telnyx: `GET /v2/phone_numbers?page[number]=n&page[size]=250` with the API key as
//! a bearer token, pages 1 to `meta.total_pages`.

use serde_json::Value;
use switchboard_domain::telephony::{CredentialsToVerify, NumberSourceError};

use super::Listing;
use secrecy::{ExposeSecret, SecretString};

/// Numbers per page asked for (Telnyx's largest).
const PAGE_SIZE: u32 = 250;

pub(super) fn list(
    agent: &ureq::Agent,
    base: &str,
    credentials: &CredentialsToVerify<'_>,
) -> Result<Vec<String>, NumberSourceError> {
    let authorization =
        SecretString::from(format!("Bearer {}", credentials.auth_token.expose_secret()));
    let mut listing = Listing::new(agent, "telnyx", authorization);
    let mut number = 1_u64;
    loop {
        // page[number] and page[size], with their brackets percent-encoded.
        let url =
            format!("{base}/v2/phone_numbers?page%5Bnumber%5D={number}&page%5Bsize%5D={PAGE_SIZE}");
        let page = listing.page(&url)?;
        listing.gather(page.get("data"), "phone_number")?;
        let total = page
            .get("meta")
            .and_then(|meta| meta.get("total_pages"))
            .and_then(Value::as_u64)
            .ok_or(NumberSourceError::Malformed("no page count"))?;
        if number >= total {
            break;
        }
        number += 1;
    }
    Ok(listing.finish())
}
