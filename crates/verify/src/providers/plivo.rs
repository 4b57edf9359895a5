//! Plivo: `GET /v1/Account/{AuthId}/`, basic authentication with the auth id and the
//! auth token.

use super::{ProviderModule, WhoAmI, basic, path_segment};

pub(super) const MODULE: ProviderModule = ProviderModule {
    slug: "plivo",
    default_base_url: "https://api.plivo.com",
    who_am_i: |base_url, credentials| WhoAmI {
        url: format!(
            "{base_url}/v1/Account/{}/",
            path_segment(credentials.account_sid)
        ),
        authorization: basic(credentials.account_sid, credentials.auth_token),
    },
};
