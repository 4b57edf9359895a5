//! Webhook endpoints of the organization (owners and admins, as in the API): the
//! list, create (URL, description, event types, enabled; the signing secret is
//! shown on the answering page, once), one endpoint with its deliveries (status,
//! attempts, last answer, next attempt; paginated) and a Retry button on each,
//! edit, enable and disable, send a test event, rotate the secret (the new one
//! shown once), delete. The URL's rules (https, no private address unless the
//! setting allows it) are the service's, and so are its messages.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use askama::Template;
use secrecy::ExposeSecret;
use switchboard_application::webhooks::{
    CreateEndpoint, EndpointWithSecret, PatchEndpoint, WebhookError,
};
use switchboard_domain::shared::PageRequest;
use switchboard_domain::webhooks::{DeliveryId, EndpointId, EventType, WebhookEndpoint};

use super::{FormFields, ListQuery, every, field, org_form_session, org_session};
use crate::session::{Session, context};
use crate::view::{
    self, Choice, FormErrors, Nav, PAGE_SIZE, PageError, Pager, ShownOnce, notice, page_number,
    redirect, render,
};

/// The fields of the endpoint form, as the service names them.
const FIELDS: [&str; 3] = ["url", "description", "event_types"];

/// The endpoint form, blank or as typed.
#[derive(Debug)]
struct WebhookForm {
    action: String,
    submit: &'static str,
    url: String,
    description: String,
    types: Vec<Choice>,
    enabled: bool,
    errors: FormErrors,
}

impl WebhookForm {
    fn blank(org: &str) -> Self {
        Self {
            action: format!("/console/o/{org}/webhooks"),
            submit: "Create endpoint",
            url: String::new(),
            description: String::new(),
            types: type_choices(&[]),
            enabled: true,
            errors: FormErrors::default(),
        }
    }

    fn of(org: &str, endpoint: &WebhookEndpoint) -> Self {
        let chosen: Vec<&str> = endpoint
            .event_types
            .iter()
            .map(|kind| kind.as_str())
            .collect();
        Self {
            action: format!("/console/o/{org}/webhooks/{}", endpoint.id.0),
            submit: "Save changes",
            url: endpoint.url.clone(),
            description: endpoint.description.clone(),
            types: type_choices(&chosen),
            enabled: endpoint.enabled,
            errors: FormErrors::default(),
        }
    }

    /// The form as submitted, to show again with `errors`.
    fn typed(mut self, input: &Typed, errors: FormErrors) -> Self {
        self.url.clone_from(&input.url);
        self.description.clone_from(&input.description);
        let chosen: Vec<&str> = input.event_types.iter().map(String::as_str).collect();
        self.types = type_choices(&chosen);
        self.enabled = input.enabled;
        self.errors = errors;
        self
    }
}

/// The event types an endpoint may subscribe to (the test event goes to the
/// endpoint it tests only).
fn type_choices(chosen: &[&str]) -> Vec<Choice> {
    EventType::ALL
        .into_iter()
        .filter(|kind| *kind != EventType::WebhookTest)
        .map(|kind| Choice::new(kind.as_str(), chosen.contains(&kind.as_str())))
        .collect()
}

/// What a submitted endpoint form holds.
#[derive(Debug)]
struct Typed {
    url: String,
    description: String,
    event_types: Vec<String>,
    enabled: bool,
}

impl Typed {
    fn read(form: &[(String, String)]) -> Self {
        Self {
            url: field(form, "url").unwrap_or_default().trim().to_owned(),
            description: field(form, "description").unwrap_or_default().to_owned(),
            event_types: every(form, "event_types")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            enabled: field(form, "enabled") == Some("yes"),
        }
    }
}

#[derive(Debug)]
struct EndpointRow {
    id: i64,
    url: String,
    description: String,
    events: String,
    enabled: bool,
    state: String,
    state_class: &'static str,
    previous_until: String,
    created_at: String,
    updated_at: String,
}

impl From<&WebhookEndpoint> for EndpointRow {
    fn from(endpoint: &WebhookEndpoint) -> Self {
        let state = match (endpoint.enabled, endpoint.disabled_reason.as_deref()) {
            (true, _) => "enabled".to_owned(),
            (false, Some("gone")) => "disabled (it answered 410 Gone)".to_owned(),
            (false, _) => "disabled".to_owned(),
        };
        Self {
            id: endpoint.id.0,
            url: endpoint.url.clone(),
            description: endpoint.description.clone(),
            events: if endpoint.event_types.is_empty() {
                "every event type".to_owned()
            } else {
                endpoint
                    .event_types
                    .iter()
                    .map(|kind| kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            enabled: endpoint.enabled,
            state,
            state_class: if endpoint.enabled {
                "enabled"
            } else {
                "disabled"
            },
            previous_until: endpoint
                .previous_secret
                .as_ref()
                .and(endpoint.previous_secret_expires_at.as_ref())
                .map(view::when)
                .unwrap_or_default(),
            created_at: view::when(&endpoint.created_at),
            updated_at: view::when(&endpoint.updated_at),
        }
    }
}

#[derive(Debug)]
struct DeliveryRow {
    id: i64,
    event_id: String,
    event_type: String,
    status: &'static str,
    attempts: i32,
    last_status_code: String,
    next_attempt_at: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct EndpointsPage {
    nav: Nav,
    rows: Vec<EndpointRow>,
    pager: Pager,
    form: WebhookForm,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct EndpointPage {
    nav: Nav,
    endpoint: EndpointRow,
    once: Option<ShownOnce>,
    deliveries: Vec<DeliveryRow>,
    pager: Pager,
    form: WebhookForm,
}

/// A refusal of the service as a page (validation is handled by the forms).
fn refused(error: WebhookError) -> PageError {
    match error {
        WebhookError::PermissionDenied => PageError::PermissionDenied,
        WebhookError::NotFound => PageError::NotFound,
        WebhookError::Validation(_) | WebhookError::Seal => PageError::Internal,
        WebhookError::Repository(error) => error.into(),
    }
}

fn page_request(page: u32) -> PageRequest {
    PageRequest {
        page,
        page_size: PAGE_SIZE,
    }
}

/// Runs `work` with the page's membership on the blocking pool.
async fn with_service<T: Send + 'static>(
    req: &HttpRequest,
    session: &Session,
    work: impl FnOnce(
        &switchboard_application::webhooks::WebhookService,
        &switchboard_application::Actor,
    ) -> Result<T, WebhookError>
    + Send
    + 'static,
) -> Result<Result<T, WebhookError>, PageError> {
    let (state, _) = context(req)?;
    let actor = session.actor()?.clone();
    Ok(web::block(move || work(&state.webhooks, &actor)).await?)
}

fn secret_shown(created: &EndpointWithSecret, heading: &str) -> ShownOnce {
    ShownOnce {
        heading: heading.to_owned(),
        label: "Signing secret",
        input_id: "new-secret",
        value: created.secret.expose_secret().to_owned(),
    }
}

async fn list_page(
    req: &HttpRequest,
    session: &Session,
    page: u32,
    notice_key: Option<&str>,
    form: Option<WebhookForm>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let found = with_service(req, session, move |service, actor| {
        service.list(actor, page_request(page))
    })
    .await?
    .map_err(refused)?;
    let nav = Nav::of(&state, session, "webhooks")
        .await?
        .with_notice(notice(notice_key));
    let base = format!("/console/o/{}/webhooks?", nav.org);
    let form = form.unwrap_or_else(|| WebhookForm::blank(&nav.org));
    render(
        &EndpointsPage {
            rows: found.items.iter().map(EndpointRow::from).collect(),
            pager: Pager::new(&base, page, found.total),
            nav,
            form,
        },
        status,
    )
}

async fn list(
    req: HttpRequest,
    org: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let session = org_session(&req, &org).await?;
    list_page(
        &req,
        &session,
        page_number(query.page.as_deref()),
        query.done.as_deref(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn create(
    req: HttpRequest,
    org: web::Path<String>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let session = org_form_session(&req, &org, &form).await?;
    let typed = Typed::read(&form);
    let input = CreateEndpoint {
        url: typed.url.clone(),
        description: Some(typed.description.clone()).filter(|text| !text.is_empty()),
        event_types: Some(typed.event_types.clone()),
        enabled: Some(typed.enabled),
    };
    let outcome = with_service(&req, &session, move |service, actor| {
        service.create(actor, &input)
    })
    .await?;
    match outcome {
        Ok(created) => {
            let once = secret_shown(&created, "Endpoint created: its signing secret");
            endpoint_page(
                &req,
                &session,
                &org,
                created.endpoint,
                1,
                None,
                Some(once),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(WebhookError::Validation(errors)) => {
            let form = WebhookForm::blank(&org).typed(&typed, FormErrors::placed(&errors, &FIELDS));
            list_page(&req, &session, 1, None, Some(form), StatusCode::BAD_REQUEST).await
        }
        Err(error) => Err(refused(error)),
    }
}

#[expect(clippy::too_many_arguments, reason = "one page, its parts")]
async fn endpoint_page(
    req: &HttpRequest,
    session: &Session,
    org: &str,
    endpoint: WebhookEndpoint,
    page: u32,
    notice_key: Option<&str>,
    once: Option<ShownOnce>,
    form: Option<WebhookForm>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let id = endpoint.id;
    let found = with_service(req, session, move |service, actor| {
        service.deliveries(actor, id, page_request(page))
    })
    .await?
    .map_err(refused)?;
    let deliveries = found
        .items
        .into_iter()
        .map(|delivery| DeliveryRow {
            id: delivery.id.0,
            event_id: delivery.event_uid,
            event_type: delivery.event_type,
            status: delivery.status.as_str(),
            attempts: delivery.attempts,
            last_status_code: delivery
                .last_status_code
                .map_or_else(|| "none".to_owned(), |code| code.to_string()),
            next_attempt_at: delivery
                .next_attempt_at
                .as_ref()
                .map_or_else(|| "none".to_owned(), view::when),
            created_at: view::when(&delivery.created_at),
        })
        .collect();
    let nav = Nav::of(&state, session, "webhooks")
        .await?
        .with_notice(notice(notice_key));
    let base = format!("/console/o/{org}/webhooks/{}?", id.0);
    render(
        &EndpointPage {
            nav,
            form: form.unwrap_or_else(|| WebhookForm::of(org, &endpoint)),
            endpoint: EndpointRow::from(&endpoint),
            once,
            deliveries,
            pager: Pager::new(&base, page, found.total),
        },
        status,
    )
}

async fn endpoint(
    req: &HttpRequest,
    session: &Session,
    id: i64,
) -> Result<WebhookEndpoint, PageError> {
    with_service(req, session, move |service, actor| {
        service.get(actor, EndpointId(id))
    })
    .await?
    .map_err(refused)
}

async fn show(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let (org, id) = path.into_inner();
    let session = org_session(&req, &org).await?;
    let found = endpoint(&req, &session, id).await?;
    endpoint_page(
        &req,
        &session,
        &org,
        found,
        page_number(query.page.as_deref()),
        query.done.as_deref(),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

async fn update(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (org, id) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let typed = Typed::read(&form);
    let patch = PatchEndpoint {
        url: Some(typed.url.clone()),
        description: Some(typed.description.clone()),
        event_types: Some(typed.event_types.clone()),
        enabled: Some(typed.enabled),
    };
    let outcome = with_service(&req, &session, move |service, actor| {
        service.update(actor, EndpointId(id), &patch)
    })
    .await?;
    match outcome {
        Ok(_) => Ok(redirect(&format!(
            "/console/o/{org}/webhooks/{id}?done=saved"
        ))),
        Err(WebhookError::Validation(errors)) => {
            let current = endpoint(&req, &session, id).await?;
            let form =
                WebhookForm::of(&org, &current).typed(&typed, FormErrors::placed(&errors, &FIELDS));
            endpoint_page(
                &req,
                &session,
                &org,
                current,
                1,
                None,
                None,
                Some(form),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(error) => Err(refused(error)),
    }
}

/// Checks the CSRF token of a one-button form of endpoint `id`.
async fn button(
    req: &HttpRequest,
    org: &str,
    form: &[(String, String)],
) -> Result<Session, PageError> {
    let session = org_session(req, org).await?;
    session.check_csrf(field(form, "csrf"))?;
    Ok(session)
}

async fn switch(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
    enabled: bool,
) -> Result<HttpResponse, PageError> {
    let (org, id) = path.into_inner();
    let session = button(&req, &org, &form).await?;
    let patch = PatchEndpoint {
        enabled: Some(enabled),
        ..PatchEndpoint::default()
    };
    with_service(&req, &session, move |service, actor| {
        service.update(actor, EndpointId(id), &patch)
    })
    .await?
    .map_err(refused)?;
    let done = if enabled { "enabled" } else { "disabled" };
    Ok(redirect(&format!(
        "/console/o/{org}/webhooks/{id}?done={done}"
    )))
}

async fn enable(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    switch(req, path, form, true).await
}

async fn disable(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    switch(req, path, form, false).await
}

async fn send_test(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (org, id) = path.into_inner();
    let session = button(&req, &org, &form).await?;
    with_service(&req, &session, move |service, actor| {
        service.send_test(actor, EndpointId(id))
    })
    .await?
    .map_err(refused)?;
    Ok(redirect(&format!(
        "/console/o/{org}/webhooks/{id}?done=test-sent"
    )))
}

async fn rotate_secret(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (org, id) = path.into_inner();
    let session = button(&req, &org, &form).await?;
    let rotated = with_service(&req, &session, move |service, actor| {
        service.rotate_secret(actor, EndpointId(id))
    })
    .await?
    .map_err(refused)?;
    let once = secret_shown(
        &rotated,
        "New signing secret (the previous one also signs for 24 hours)",
    );
    endpoint_page(
        &req,
        &session,
        &org,
        rotated.endpoint,
        1,
        None,
        Some(once),
        None,
        StatusCode::OK,
    )
    .await
}

async fn delete(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (org, id) = path.into_inner();
    let session = button(&req, &org, &form).await?;
    with_service(&req, &session, move |service, actor| {
        service.delete(actor, EndpointId(id))
    })
    .await?
    .map_err(refused)?;
    Ok(redirect(&format!("/console/o/{org}/webhooks?done=deleted")))
}

async fn retry(
    req: HttpRequest,
    path: web::Path<(String, i64, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    // The endpoint of the path only names the page the button was on; the
    // delivery's own endpoint is where the answer goes.
    let (org, _endpoint, delivery) = path.into_inner();
    let session = button(&req, &org, &form).await?;
    let retried = with_service(&req, &session, move |service, actor| {
        service.retry(actor, DeliveryId(delivery))
    })
    .await?
    .map_err(refused)?;
    Ok(redirect(&format!(
        "/console/o/{org}/webhooks/{}?done=retried",
        retried.endpoint_id.0
    )))
}

/// The address of the page that showed a new secret, opened again (a reload, a
/// bookmark): the endpoint's page, where the secret is no longer shown.
async fn rotated_again(path: web::Path<(String, i64)>) -> HttpResponse {
    let (org, id) = path.into_inner();
    redirect(&format!("/console/o/{org}/webhooks/{id}"))
}

/// Events on one page of the feed.
const EVENTS_PER_PAGE: i64 = 20;

#[derive(Debug)]
struct EventRow {
    id: String,
    event_type: String,
    created_at: String,
    /// The event's `data` (the object as the API shows it: never a secret).
    data: String,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    nav: Nav,
    events: Vec<EventRow>,
    from_start: bool,
    next: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct FeedQuery {
    after: Option<String>,
}

/// The organization's events in commit order, a page at a time after an event.
async fn events(
    req: HttpRequest,
    org: web::Path<String>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, PageError> {
    let session = org_session(&req, &org).await?;
    let (state, _) = context(&req)?;
    let after = query
        .after
        .as_deref()
        .map(str::trim)
        .filter(|after| !after.is_empty())
        .map(str::to_owned);
    let asked = after.clone();
    let feed = with_service(&req, &session, move |service, actor| {
        service.feed(actor, asked.as_deref(), EVENTS_PER_PAGE)
    })
    .await?
    .map_err(refused)?;
    let full = feed.events.len() as i64 >= EVENTS_PER_PAGE;
    let rows = feed
        .events
        .into_iter()
        .map(|event| EventRow {
            data: event
                .body
                .get("data")
                .and_then(|data| serde_json::to_string_pretty(data).ok())
                .unwrap_or_default(),
            id: event.uid,
            event_type: event.event_type,
            created_at: view::when(&event.created_at),
        })
        .collect();
    let nav = Nav::of(&state, &session, "webhooks").await?;
    let next = feed
        .next_after
        .filter(|_| full)
        .map(|last| format!("/console/o/{}/events?after={last}", nav.org));
    render(
        &EventsPage {
            nav,
            events: rows,
            from_start: after.is_none(),
            next,
        },
        StatusCode::OK,
    )
}

pub(super) fn register(scope: Scope) -> Scope {
    scope
        .route("/o/{org}/events", web::get().to(events))
        .route("/o/{org}/webhooks", web::get().to(list))
        .route("/o/{org}/webhooks", web::post().to(create))
        .route("/o/{org}/webhooks/{id}", web::get().to(show))
        .route("/o/{org}/webhooks/{id}", web::post().to(update))
        .route("/o/{org}/webhooks/{id}/enable", web::post().to(enable))
        .route("/o/{org}/webhooks/{id}/disable", web::post().to(disable))
        .route("/o/{org}/webhooks/{id}/test", web::post().to(send_test))
        .route(
            "/o/{org}/webhooks/{id}/rotate-secret",
            web::post().to(rotate_secret),
        )
        .route(
            "/o/{org}/webhooks/{id}/rotate-secret",
            web::get().to(rotated_again),
        )
        .route("/o/{org}/webhooks/{id}/delete", web::post().to(delete))
        .route(
            "/o/{org}/webhooks/{id}/deliveries/{delivery}/retry",
            web::post().to(retry),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_offers_every_event_type_but_the_test() {
        let choices = type_choices(&["bridge.created"]);
        assert_eq!(choices.len(), EventType::ALL.len() - 1);
        assert!(choices.iter().all(|choice| choice.value != "webhook.test"));
        assert!(
            choices
                .iter()
                .filter(|choice| choice.chosen)
                .map(|choice| choice.value)
                .eq(["bridge.created"])
        );
    }

    #[test]
    fn a_submitted_form_is_read_as_typed() {
        let form: Vec<(String, String)> = [
            ("url", " https://hooks.example.com/x "),
            ("description", "ops"),
            ("event_types", "number.created"),
            ("event_types", "bridge.deleted"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let typed = Typed::read(&form);
        assert_eq!(typed.url, "https://hooks.example.com/x");
        assert_eq!(typed.event_types, ["number.created", "bridge.deleted"]);
        assert!(!typed.enabled, "an unticked box is not sent");
    }
}
