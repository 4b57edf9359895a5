//! Twilio: `GET /2010-04-01/Accounts/{AccountSid}.json`, basic authentication with
//! the account SID and the auth token.

use super::{ProviderModule, WhoAmI, basic, path_segment};

pub(super) const MODULE: ProviderModule = ProviderModule {
    slug: "twilio",
    default_base_url: "https://api.twilio.com",
    who_am_i: |base_url, credentials| WhoAmI {
        url: format!(
            "{base_url}/2010-04-01/Accounts/{}.json",
            path_segment(credentials.account_sid)
        ),
        authorization: basic(credentials.account_sid, credentials.auth_token),
    },
};
