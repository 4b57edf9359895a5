//! What every page shares: the navigation with the organization switcher, the
//! pagination bar, time formatting, rendering, redirects, and the error pages
//! ([`PageError`], the one place where a refusal becomes an answer).

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use std::collections::BTreeMap;
use switchboard_application::identity::Caller;
use switchboard_domain::identity::Role;

use switchboard_domain::shared::{NON_FIELD_ERRORS, RepositoryError, Timestamp, ValidationErrors};
use switchboard_http::AppState;

use crate::assets::{AssetUrls, urls};
use crate::session::Session;

/// Items per page of every console list.
pub(crate) const PAGE_SIZE: u32 = 20;

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    /// No live session: to the sign-in page.
    SignIn,
    /// A refused request (CSRF, cross-site), with the sentence to show.
    Forbidden(&'static str),
    /// The role does not allow the action.
    PermissionDenied,
    /// The organization does not exist or the person is not a member.
    NoOrganization,
    NotFound,
    Unavailable,
    Internal,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl PageError {
    fn message(&self) -> &'static str {
        match self {
            Self::SignIn => "Please sign in.",
            Self::Forbidden(message) => message,
            Self::PermissionDenied => "You do not have permission to perform this action.",
            Self::NoOrganization => "You do not have access to this organization.",
            Self::NotFound => "Not found.",
            Self::Unavailable => "Service temporarily unavailable.",
            Self::Internal => "Internal server error.",
        }
    }
}

impl From<RepositoryError> for PageError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Unavailable(_) => Self::Unavailable,
            RepositoryError::Internal(cause) => {
                tracing::error!(%cause, "console: repository failure");
                Self::Internal
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        Self::Internal
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    assets: &'static AssetUrls,
    status: u16,
    message: &'a str,
}

fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let page = ErrorPage {
        assets: urls(),
        status: status.as_u16(),
        message,
    };
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .body(html),
        Err(_) => HttpResponse::build(status).finish(),
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn => StatusCode::SEE_OTHER,
            Self::Forbidden(_) | Self::PermissionDenied | Self::NoOrganization => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignIn => redirect("/console/login"),
            other => error_page(other.status_code(), other.message()),
        }
    }
}

/// The 403 page (for the middleware).
pub(crate) fn forbidden_response(message: &str) -> HttpResponse {
    error_page(StatusCode::FORBIDDEN, message)
}

/// The 404 page.
pub(crate) fn not_found_response() -> HttpResponse {
    error_page(StatusCode::NOT_FOUND, PageError::NotFound.message())
}

/// Unknown console paths.
pub(crate) async fn not_found() -> HttpResponse {
    not_found_response()
}

/// A `303 See Other` to `location` (after a form, so that reloading does not post
/// again).
pub(crate) fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// Renders a page with `status`.
pub(crate) fn render(
    template: &impl Template,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let html = template.render().map_err(|error| {
        tracing::error!(%error, "console: template failed");
        PageError::Internal
    })?;
    Ok(HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(html))
}

/// A time as pages show it.
pub(crate) fn when(time: &Timestamp) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An optional time as pages show it.
pub(crate) fn when_opt(time: Option<&Timestamp>) -> String {
    time.map_or_else(|| "never".to_owned(), when)
}

/// One organization in the switcher.
#[derive(Debug, Clone)]
pub(crate) struct OrgChoice {
    pub(crate) handle: String,
    pub(crate) name: String,
    pub(crate) role: &'static str,
    pub(crate) current: bool,
}

/// The navigation of a signed-in page.
#[derive(Debug)]
pub(crate) struct Nav {
    pub(crate) assets: &'static AssetUrls,
    /// The handle of the page's organization (empty on pages outside one).
    pub(crate) org: String,
    pub(crate) orgs: Vec<OrgChoice>,
    pub(crate) role: &'static str,
    pub(crate) can_write: bool,
    pub(crate) csrf: String,
    /// Which section the page belongs to (highlighted in the menu).
    pub(crate) section: &'static str,
    /// A confirmation to show once (from a fixed list, never from the request).
    pub(crate) notice: Option<&'static str>,
}

impl Nav {
    /// The navigation of `session` on a page of `section`.
    pub(crate) async fn of(
        state: &actix_web::web::Data<AppState>,
        session: &Session,
        section: &'static str,
    ) -> Result<Self, PageError> {
        let identity = state.identity.clone();
        let caller: Caller = session.caller;
        let memberships =
            actix_web::web::block(move || identity.organizations_of(caller)).await??;
        let current = session
            .actor
            .as_ref()
            .map(|actor| actor.org_handle.as_str().to_owned());
        let orgs = memberships
            .into_iter()
            .map(|membership| {
                let handle = membership.organization.domain_handle.as_str().to_owned();
                OrgChoice {
                    current: current.as_deref() == Some(handle.as_str()),
                    handle,
                    name: membership.organization.name,
                    role: membership.role.as_str(),
                }
            })
            .collect();
        let role = session
            .actor
            .as_ref()
            .map_or(Role::Viewer, |actor| actor.role);
        Ok(Self {
            assets: urls(),
            org: current.unwrap_or_default(),
            orgs,
            role: role.as_str(),
            can_write: session.actor.is_some() && role.can_write(),
            csrf: session.csrf.clone(),
            section,
            notice: None,
        })
    }

    /// With a one-time confirmation.
    pub(crate) fn with_notice(mut self, notice: Option<&'static str>) -> Self {
        self.notice = notice;
        self
    }

    /// Whether the person may read the organization's audit log.
    pub(crate) fn reads_audit(&self) -> bool {
        self.manages()
    }

    /// Whether the person manages the organization (owners and admins: service
    /// accounts, webhooks, the audit log).
    pub(crate) fn manages(&self) -> bool {
        matches!(self.role, "owner" | "admin")
    }
}

/// The messages of a refused form: each next to its field, the rest on top.
#[derive(Debug, Default)]
pub(crate) struct FormErrors {
    fields: BTreeMap<String, Vec<String>>,
    /// Messages that concern no field of the form.
    pub(crate) general: Vec<String>,
}

impl FormErrors {
    /// The service's field messages, placed on the form's `fields`; a message for
    /// another name goes on top, prefixed with that name.
    pub(crate) fn placed(errors: &ValidationErrors, fields: &[&str]) -> Self {
        let mut placed = Self::default();
        for (name, messages) in errors.fields() {
            if fields.contains(&name.as_str()) {
                placed
                    .fields
                    .entry(name.clone())
                    .or_default()
                    .extend(messages.iter().cloned());
            } else if name == NON_FIELD_ERRORS {
                placed.general.extend(messages.iter().cloned());
            } else {
                placed
                    .general
                    .extend(messages.iter().map(|message| format!("{name}: {message}")));
            }
        }
        placed
    }

    /// With `message` next to `field`.
    pub(crate) fn on(mut self, field: &str, message: &str) -> Self {
        self.fields
            .entry(field.to_owned())
            .or_default()
            .push(message.to_owned());
        self
    }

    /// With `message` on top of the form.
    pub(crate) fn above(mut self, message: &str) -> Self {
        self.general.push(message.to_owned());
        self
    }

    /// The messages of `field` (for templates).
    pub(crate) fn of(&self, field: &str) -> &[String] {
        self.fields.get(field).map_or(&[], Vec::as_slice)
    }

    /// Whether `field` has a message (for templates).
    pub(crate) fn has(&self, field: &str) -> bool {
        !self.of(field).is_empty()
    }

    /// Whether nothing was refused.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }
}

/// One option of a select or a group of checkboxes.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub(crate) value: &'static str,
    pub(crate) chosen: bool,
}

impl Choice {
    pub(crate) fn new(value: &'static str, chosen: bool) -> Self {
        Self { value, chosen }
    }
}

/// A secret shown once, on the page that answers the form that made it.
#[derive(Debug)]
pub(crate) struct ShownOnce {
    /// The heading, e.g. `Token “ci” created`.
    pub(crate) heading: String,
    /// The label of the read-only input.
    pub(crate) label: &'static str,
    /// The input's id.
    pub(crate) input_id: &'static str,
    pub(crate) value: String,
}

/// Page `page` of `items` listed in full by a service, and how many there are.
pub(crate) fn page_of<T>(items: Vec<T>, page: u32) -> (Vec<T>, u64) {
    let total = items.len() as u64;
    let start =
        usize::try_from(page.saturating_sub(1).saturating_mul(PAGE_SIZE)).unwrap_or(usize::MAX);
    let items = items
        .into_iter()
        .skip(start)
        .take(PAGE_SIZE as usize)
        .collect();
    (items, total)
}

/// The pagination bar of a list.
#[derive(Debug)]
pub(crate) struct Pager {
    pub(crate) page: u32,
    pub(crate) pages: u32,
    pub(crate) total: u64,
    pub(crate) previous: Option<String>,
    pub(crate) next: Option<String>,
}

impl Pager {
    /// The bar for page `page` of `total` items, linking to `base` (a path with a
    /// query string ending in `&` or `?`) plus `page=N`.
    pub(crate) fn new(base: &str, page: u32, total: u64) -> Self {
        let pages = u32::try_from(total.div_ceil(u64::from(PAGE_SIZE)))
            .unwrap_or(u32::MAX)
            .max(1);
        let link = |n: u32| format!("{base}page={n}");
        Self {
            page,
            pages,
            total,
            previous: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

/// A page number from a query (`1` when absent or nonsense).
pub(crate) fn page_number(page: Option<&str>) -> u32 {
    page.and_then(|text| text.parse::<u32>().ok())
        .filter(|page| *page >= 1 && *page <= 1_000_000)
        .unwrap_or(1)
}

/// Notices that pages show after a redirect, by key (`?done=created`).
pub(crate) fn notice(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "created" => "Created.",
        "saved" => "Saved.",
        "deleted" => "Deleted.",
        "revoked" => "Revoked.",
        "connected" => "Connected.",
        "disconnected" => "Disconnected.",
        "activated" => "Activated.",
        "deactivated" => "Deactivated.",
        "added" => "Added.",
        "enabled" => "Enabled.",
        "disabled" => "Disabled.",
        "test-sent" => "Test event sent: its delivery is listed below.",
        "retried" => "The delivery will be tried again shortly.",
        "rotation-started" => "Rotation started: the new secret is pending.",
        "rotation-verified" => "The provider's verdict on the pending secret is below.",
        "rotation-promoted" => "Promoted: the new secret is current.",
        "rotation-cancelled" => "Rotation cancelled: its secret is erased.",
        "overlap-ended" => "The overlap has ended: only the current secret is valid.",
        "password" => "Your password is set.",
        "link" => "Signed in with a one-time link. Set a password to sign in next time.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagers_link_to_their_neighbours_only() {
        let first = Pager::new("/x?", 1, 45);
        assert_eq!((first.pages, first.previous.as_deref()), (3, None));
        assert_eq!(first.next.as_deref(), Some("/x?page=2"));
        let last = Pager::new("/x?a=1&", 3, 45);
        assert_eq!(last.previous.as_deref(), Some("/x?a=1&page=2"));
        assert_eq!(last.next, None);
        let empty = Pager::new("/x?", 1, 0);
        assert_eq!((empty.pages, empty.next), (1, None));
    }

    #[test]
    fn page_numbers_fall_back_to_one() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("0")), 1);
        assert_eq!(page_number(Some("-3")), 1);
        assert_eq!(page_number(Some("x")), 1);
        assert_eq!(page_number(Some("7")), 7);
    }

    #[test]
    fn pages_of_full_lists_are_slices() {
        let items: Vec<u32> = (0..45).collect();
        let (first, total) = page_of(items.clone(), 1);
        assert_eq!((first.len(), first[0], total), (20, 0, 45));
        let (last, _) = page_of(items.clone(), 3);
        assert_eq!(last, vec![40, 41, 42, 43, 44]);
        assert!(page_of(items, 9).0.is_empty());
    }

    #[test]
    fn form_errors_go_next_to_their_fields_or_on_top() {
        let mut errors = ValidationErrors::new();
        errors.add("url", "must be an https:// URL");
        errors.add("secret_thing", "is wrong");
        errors.add(NON_FIELD_ERRORS, "conflict");
        let placed = FormErrors::placed(&errors, &["url", "description"]);
        assert_eq!(placed.of("url"), ["must be an https:// URL".to_owned()]);
        assert!(placed.has("url") && !placed.has("description"));
        assert_eq!(
            placed.general,
            vec!["conflict".to_owned(), "secret_thing: is wrong".to_owned()]
        );
        assert!(FormErrors::default().is_empty());
        let added = FormErrors::default().on("name", "too long").above("limit");
        assert_eq!((added.of("name").len(), added.general.len()), (1, 1));
    }

    #[test]
    fn notices_come_from_a_fixed_list() {
        assert_eq!(notice(Some("created")), Some("Created."));
        assert_eq!(notice(Some("<script>")), None);
    }
}
