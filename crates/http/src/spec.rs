//! What the route table says about a route: method, path, who may call it, its
//! handler, and what the API reference says of it ([`Operation`]: summary, tag,
//! operation id, success status, the builders of its body and answer schemas, its
//! own error statuses, whether `Idempotency-Key` may store its answer).
//!
//! These are plain data: the OpenAPI document is built from them
//! (`crate::docs::openapi`), and the server registers its resources from them, so a
//! route, its handler and its documentation cannot drift apart. This module knows
//! no handler and no schema.

use actix_web::http::Method;
use serde_json::Value;
use switchboard_domain::identity::Scope;
use switchboard_domain::telephony::ProviderCatalog;

/// Base path of the platform API.
pub const API_BASE: &str = "/api/v2/platform";

/// The two spellings of the configuration collection: the contract's, and the
/// singular one older clients use. Both serve the same routes.
pub const CONFIG_PATHS: [&str; 2] = [
    "/telephony/providers-configurations",
    "/telephony/provider-configurations",
];

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (health, metrics, login).
    Public,
    /// A token, no organization.
    Token,
    /// A token and `Org-Handle`; any member.
    OrgRead,
    /// A token and `Org-Handle`; owners, admins and members (viewers get 403).
    OrgWrite,
    /// A token and `Org-Handle`; owners and admins only.
    OrgAdmin,
}

/// What `Idempotency-Key` does on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Not offered (reads, PATCH, DELETE).
    NotOffered,
    /// A repeated key replays the stored answer.
    Replayed,
    /// The answer carries a secret or a token: it is never stored, and the key is
    /// ignored (contract section 16).
    NeverStored,
}

/// A schema built from the provider catalog (bodies and queries that list
/// providers).
pub(crate) type CatalogSchema = fn(&ProviderCatalog) -> Value;

/// An operation's own answers, by status.
pub(crate) type OwnAnswers = fn() -> Vec<(u16, Value)>;

/// What the API reference says of one route.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) summary: &'static str,
    pub(crate) tag: &'static str,
    /// A readable operation id (`createProviderConfiguration`): what generated
    /// clients name their functions after. Empty: derived from method and path.
    pub(crate) operation_id: String,
    /// The canonical path of which this route is another spelling: the document
    /// describes the route once, under that path, and names this spelling there.
    pub(crate) alias_of: Option<String>,
    /// Who may call it, beyond what [`Access`] says.
    pub(crate) description: Option<&'static str>,
    pub(crate) deprecated: bool,
    /// The success status.
    pub(crate) status: u16,
    /// The query parameters.
    pub(crate) query: Option<fn(&ProviderCatalog) -> Vec<Value>>,
    /// Whether `If-Match` is taken.
    pub(crate) if_match: bool,
    pub(crate) idempotency: Idempotency,
    /// The request body's schema, and whether a body is required.
    pub(crate) body: Option<(CatalogSchema, bool)>,
    /// The success answer's JSON schema.
    pub(crate) answer: Option<fn() -> Value>,
    /// A success answer that is not JSON: its media type.
    pub(crate) answer_media: Option<&'static str>,
    /// Whether the success answer carries an `ETag`.
    pub(crate) etag: bool,
    /// Statuses the operation itself adds (400 for bodies, 404, 409, 412, 422).
    pub(crate) errors: &'static [u16],
    /// Whether the route reaches the database (and so may answer 500 and 503).
    pub(crate) database: bool,
    /// Answers of its own, replacing the standard ones of their statuses.
    pub(crate) responses: Option<OwnAnswers>,
}

impl Operation {
    /// An operation answering 200 with nothing else said yet.
    pub(crate) fn new(tag: &'static str, summary: &'static str) -> Self {
        Self {
            summary,
            tag,
            operation_id: String::new(),
            alias_of: None,
            description: None,
            deprecated: false,
            status: 200,
            query: None,
            if_match: false,
            idempotency: Idempotency::NotOffered,
            body: None,
            answer: None,
            answer_media: None,
            etag: false,
            errors: &[],
            database: true,
            responses: None,
        }
    }

    /// The operation id generated clients use (lowerCamelCase, verb first).
    pub(crate) fn id(mut self, id: &str) -> Self {
        id.clone_into(&mut self.operation_id);
        self
    }

    pub(crate) fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn query(mut self, query: fn(&ProviderCatalog) -> Vec<Value>) -> Self {
        self.query = Some(query);
        self
    }

    pub(crate) fn if_match(mut self) -> Self {
        self.if_match = true;
        self
    }

    pub(crate) fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    pub(crate) fn body(mut self, schema: CatalogSchema, required: bool) -> Self {
        self.body = Some((schema, required));
        self
    }

    pub(crate) fn answer(mut self, schema: fn() -> Value) -> Self {
        self.answer = Some(schema);
        self
    }

    pub(crate) fn answer_media(mut self, media: &'static str) -> Self {
        self.answer_media = Some(media);
        self
    }

    pub(crate) fn etag(mut self) -> Self {
        self.etag = true;
        self
    }

    pub(crate) fn errors(mut self, errors: &'static [u16]) -> Self {
        self.errors = errors;
        self
    }

    pub(crate) fn without_database(mut self) -> Self {
        self.database = false;
        self
    }

    pub(crate) fn responses(mut self, responses: OwnAnswers) -> Self {
        self.responses = Some(responses);
        self
    }
}

/// One route.
#[derive(Clone)]
pub struct RouteSpec {
    pub method: Method,
    /// Full path template from the server root, without a trailing slash.
    pub path: String,
    pub access: Access,
    /// The scope a token needs on this route (organization routes; the role's
    /// rights are narrowed to the token's scopes in the one authorization path).
    /// `None`: the role alone decides (service-account management, which only
    /// owners and admins reach).
    pub scope: Option<Scope>,
    pub(crate) handler: fn() -> actix_web::Route,
    pub(crate) operation: Operation,
}

impl std::fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({:?}, {:?})",
            self.method, self.path, self.access, self.scope
        )
    }
}

impl RouteSpec {
    /// A route at `path` (from the server root); without an id of its own
    /// ([`Operation::id`]), its operation id is derived from method and path.
    pub(crate) fn new(
        method: Method,
        path: String,
        access: Access,
        handler: fn() -> actix_web::Route,
        mut operation: Operation,
    ) -> Self {
        if operation.operation_id.is_empty() {
            operation.operation_id = operation_id(&method, &path);
        }
        Self {
            method,
            path,
            access,
            scope: None,
            handler,
            operation,
        }
    }

    /// The route needs `scope`.
    #[must_use]
    pub(crate) fn needs(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// What `Idempotency-Key` does on this route.
    #[must_use]
    pub fn idempotency(&self) -> Idempotency {
        self.operation.idempotency
    }
}

/// `getTelephonyProvidersConfigurationsId` for `GET .../providers-configurations/{id}`:
/// the id of a route that names none.
pub(crate) fn operation_id(method: &Method, path: &str) -> String {
    let words: String = path
        .strip_prefix(API_BASE)
        .unwrap_or(path)
        .split(['/', '-', '.'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let part = part.trim_start_matches('{').trim_end_matches('}');
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    format!("{}{words}", method.as_str().to_ascii_lowercase())
}

/// A path under the platform API's base.
pub(crate) fn api(path: &str) -> String {
    format!("{API_BASE}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_spell_method_and_path() {
        assert_eq!(
            operation_id(
                &Method::GET,
                "/api/v2/platform/telephony/providers-configurations/{id}"
            ),
            "getTelephonyProvidersConfigurationsId"
        );
        assert_eq!(operation_id(&Method::GET, "/health/live"), "getHealthLive");
        assert_eq!(
            operation_id(&Method::GET, "/api/v2/platform/openapi.json"),
            "getOpenapiJson"
        );
    }
}
