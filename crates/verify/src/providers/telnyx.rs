//! Telnyx: `GET /v2/balance`, bearer authentication with the API key (the account
//! id is not sent).

use super::{ProviderModule, WhoAmI, bearer};

pub(super) const MODULE: ProviderModule = ProviderModule {
    slug: "telnyx",
    default_base_url: "https://api.telnyx.com",
    who_am_i: |base_url, credentials| WhoAmI {
        url: format!("{base_url}/v2/balance"),
        authorization: bearer(credentials.auth_token),
    },
};
