//! Twilio: `GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json` with
//! basic authentication (account SID and auth token), 1000 numbers a page (Twilio's
//! largest), following `next_page_uri` (a path from the base URL) until it is null.

use serde_json::Value;
use switchboard_domain::telephony::{CredentialsToVerify, NumberSourceError};

use super::{Listing, next_page};
use crate::{basic, path_segment};

/// Numbers per page asked for.
const PAGE_SIZE: u32 = 1000;

pub(super) fn list(
    agent: &ureq::Agent,
    base: &str,
    credentials: &CredentialsToVerify<'_>,
) -> Result<Vec<String>, NumberSourceError> {
    let sid = credentials.account_sid;
    let listing_path = format!(
        "/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
        path_segment(sid)
    );
    let mut listing = Listing::new(agent, "twilio", basic(sid, credentials.auth_token));
    let mut url = format!("{base}{listing_path}?PageSize={PAGE_SIZE}");
    loop {
        let page = listing.page(&url)?;
        listing.gather(page.get("incoming_phone_numbers"), "phone_number")?;
        match page.get("next_page_uri") {
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
