//! Vonage: `GET /account/get-balance`, basic authentication with the API key and
//! the API secret.

use super::{ProviderModule, WhoAmI, basic};

pub(super) const MODULE: ProviderModule = ProviderModule {
    slug: "vonage",
    default_base_url: "https://rest.nexmo.com",
    who_am_i: |base_url, credentials| WhoAmI {
        url: format!("{base_url}/account/get-balance"),
        authorization: basic(credentials.account_sid, credentials.auth_token),
    },
};
