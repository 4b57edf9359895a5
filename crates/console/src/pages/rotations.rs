//! Staged rotation on the configuration page (contract section 12): start a
//! rotation with the provider's secret fields (write-only inputs from the catalog),
//! verify the pending version with the provider, promote it keeping the former
//! secret valid for a while, cancel it, end the overlap; the list of rotations.
//! Every step goes through the rotation service the API uses (roles, rules,
//! audit), and no page shows a secret: the last four of the new version only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use switchboard_application::Actor;
use switchboard_application::credential_use::SecretUse;
use switchboard_application::rotation::{
    CancelRotationError, EndPreviousError, ListRotationsError, PromoteOptions,
    PromoteRotationError, StartRotationError, VerifyRotationError,
};
use switchboard_domain::telephony::{
    Provider, ProviderConfig, ProviderConfigDraft, ProviderConfigId, Rotation, RotationId,
    RotationStatus,
};
use switchboard_http::AppState;

use super::configurations::{detail_page, load, options};
use super::credential_form::{
    Input, credential_inputs, credentials_from_form, place_errors, refill,
};
use super::{FormFields, field, org_form_session};
use crate::session::{Session, context};
use crate::view::{self, FormErrors, PageError, redirect};

/// Seconds the former secret stays valid after a promotion, unless changed.
const DEFAULT_KEEP_SECONDS: &str = "86400";

/// A rotation as the panel lists it.
#[derive(Debug)]
pub(crate) struct RotationRow {
    pub(crate) id: i64,
    pub(crate) status: &'static str,
    pub(crate) version: i64,
    /// The last four of the new version's secrets, e.g. `Auth token ••••9f3c`.
    pub(crate) secrets: String,
    pub(crate) created_at: String,
    pub(crate) verification: &'static str,
    pub(crate) checked_at: String,
    pub(crate) promoted_at: String,
    pub(crate) previous_until: String,
}

/// What a rotation form sent back shows again: its inputs with their messages,
/// the messages on top, the typed window.
#[derive(Debug, Default)]
pub(crate) struct RotationForm {
    pub(crate) inputs: Option<Vec<Input>>,
    pub(crate) errors: FormErrors,
    pub(crate) keep: Option<String>,
}

/// The staged-rotation panel of a configuration page.
#[derive(Debug)]
pub(crate) struct RotationPanel {
    pub(crate) rows: Vec<RotationRow>,
    /// The pending rotation's id, when one is pending.
    pub(crate) pending: Option<i64>,
    /// The secret inputs of a new rotation (write-only, never filled in).
    pub(crate) inputs: Vec<Input>,
    pub(crate) errors: FormErrors,
    pub(crate) keep: String,
    /// Until when the former secret is still valid (empty: no overlap).
    pub(crate) previous_until: String,
}

impl RotationPanel {
    /// The pending rotation's row.
    pub(crate) fn pending_row(&self) -> Option<&RotationRow> {
        self.pending
            .and_then(|id| self.rows.iter().find(|row| row.id == id))
    }
}

/// The secret inputs of `provider` for a rotation: every secret field, none
/// required (a rotation sends the secrets that change).
fn secret_inputs(provider: &Provider) -> Vec<Input> {
    credential_inputs(provider, true)
        .into_iter()
        .filter(|input| input.secret)
        .map(|mut input| {
            input.required = false;
            input.hint =
                "Leave empty to keep the current one. Stored encrypted; never shown again."
                    .to_owned();
            input
        })
        .collect()
}

fn row(rotation: &Rotation, provider: Option<&Provider>) -> RotationRow {
    let label = |name: &str| {
        provider
            .and_then(|provider| provider.field(name))
            .map_or_else(|| name.to_owned(), |field| field.label.clone())
    };
    RotationRow {
        id: rotation.id.0,
        status: rotation.status.as_str(),
        version: rotation.version,
        secrets: rotation
            .secret_last4
            .iter()
            .map(|(name, last4)| format!("{} ••••{last4}", label(name)))
            .collect::<Vec<_>>()
            .join(", "),
        created_at: view::when(&rotation.created_at),
        verification: rotation
            .verification
            .as_ref()
            .map_or("unchecked", |verification| verification.status.as_str()),
        checked_at: rotation
            .verification
            .as_ref()
            .map(|verification| view::when(&verification.checked_at))
            .unwrap_or_default(),
        promoted_at: rotation
            .promoted_at
            .as_ref()
            .map(view::when)
            .unwrap_or_default(),
        previous_until: rotation
            .previous_expires_at
            .as_ref()
            .map(view::when)
            .unwrap_or_default(),
    }
}

/// The panel of configuration `config` for `actor`.
pub(crate) async fn panel(
    state: &web::Data<AppState>,
    actor: &Actor,
    config: &ProviderConfig,
    form: RotationForm,
) -> Result<RotationPanel, PageError> {
    let service = state.rotations.clone();
    let (actor, id) = (actor.clone(), config.id);
    let (rotations, previous) = web::block(move || {
        let rotations = service.list(&actor, id);
        let previous = service.previous_until(&actor, id);
        (rotations, previous)
    })
    .await?;
    let rotations = match rotations {
        Ok(rotations) => rotations,
        Err(ListRotationsError::NotFound) => return Err(PageError::NotFound),
        Err(ListRotationsError::Repository(error)) => return Err(error.into()),
    };
    let provider = state.provider_configs.catalog().by_id(config.provider_id);
    Ok(RotationPanel {
        pending: rotations
            .iter()
            .find(|rotation| rotation.status == RotationStatus::Pending)
            .map(|rotation| rotation.id.0),
        rows: rotations
            .iter()
            .map(|rotation| row(rotation, provider))
            .collect(),
        inputs: form
            .inputs
            .unwrap_or_else(|| provider.map(secret_inputs).unwrap_or_default()),
        errors: form.errors,
        keep: form.keep.unwrap_or_else(|| DEFAULT_KEEP_SECONDS.to_owned()),
        previous_until: previous?.as_ref().map(view::when).unwrap_or_default(),
    })
}

/// The configuration page again with the rotation form's messages.
async fn again(
    req: &HttpRequest,
    session: &Session,
    id: i64,
    form: RotationForm,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(req)?;
    let config = load(&state, session.actor()?, id).await?;
    detail_page(
        req,
        session,
        &config,
        None,
        Vec::new(),
        Vec::new(),
        None,
        None,
        form,
        status,
    )
    .await
}

fn back(org: &str, id: i64, done: &str) -> HttpResponse {
    redirect(&format!(
        "/console/o/{org}/configurations/{id}?done={done}#rotation-heading"
    ))
}

/// A refusal that only says something went wrong with the whole form.
fn above(message: &str) -> RotationForm {
    RotationForm {
        errors: FormErrors::default().above(message),
        ..RotationForm::default()
    }
}

const PENDING: &str =
    "A rotation of this provider configuration is already pending: promote or cancel it first.";
const NOT_PENDING: &str = "This rotation is no longer pending.";
const UNREADABLE: &str = "The stored credentials of this configuration cannot be opened: send every secret again to replace them.";
const CHANGED: &str = "The configuration changed meanwhile. Reload and try again.";

async fn start(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let current = load(&state, &actor, id).await?;
    let provider = state
        .provider_configs
        .catalog()
        .by_id(current.provider_id)
        .ok_or(PageError::Internal)?;
    // Only the secret fields of the form go (the panel has no other input).
    let secrets: Vec<(String, String)> = form
        .iter()
        .filter(|(name, _)| provider.field(name).is_some_and(|spec| spec.secret))
        .cloned()
        .collect();
    let draft = ProviderConfigDraft {
        credentials: credentials_from_form(provider, &secrets, Some(&current)),
        ..ProviderConfigDraft::default()
    };
    let service = state.rotations.clone();
    let outcome = {
        let actor = actor.clone();
        web::block(move || service.start(&actor, ProviderConfigId(id), draft, &options(false)))
            .await?
    };
    let mut inputs = secret_inputs(provider);
    let (errors, status) = match outcome {
        Ok(_) => return Ok(back(&org, id, "rotation-started")),
        Err(StartRotationError::Validation(errors)) => {
            let mut placed = FormErrors::default();
            placed.general = place_errors(&mut inputs, &errors);
            (placed, StatusCode::BAD_REQUEST)
        }
        Err(StartRotationError::RotationPending) => {
            (FormErrors::default().above(PENDING), StatusCode::CONFLICT)
        }
        Err(StartRotationError::CredentialsUnreadable(_)) => (
            FormErrors::default().above(UNREADABLE),
            StatusCode::CONFLICT,
        ),
        Err(StartRotationError::Contended) => {
            (FormErrors::default().above(CHANGED), StatusCode::CONFLICT)
        }
        Err(StartRotationError::PermissionDenied) => return Err(PageError::PermissionDenied),
        Err(StartRotationError::NotFound) => return Err(PageError::NotFound),
        Err(StartRotationError::Encryption(_)) => return Err(PageError::Internal),
        Err(StartRotationError::Repository(error)) => return Err(error.into()),
    };
    // Secret inputs are never filled back in.
    refill(&mut inputs, &form);
    again(
        &req,
        &session,
        id,
        RotationForm {
            inputs: Some(inputs),
            errors,
            keep: None,
        },
        status,
    )
    .await
}

async fn verify(
    req: HttpRequest,
    path: web::Path<(String, i64, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id, rotation) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let service = state.rotations.clone();
    let outcome = web::block(move || {
        service.verify(
            &actor,
            ProviderConfigId(id),
            RotationId(rotation),
            &options(false),
        )
    })
    .await?;
    let (message, status) = match outcome {
        Ok(_) => {
            switchboard_http::count_secret_use(SecretUse::Verify);
            return Ok(back(&org, id, "rotation-verified"));
        }
        Err(VerifyRotationError::NotPending) => (NOT_PENDING, StatusCode::CONFLICT),
        Err(VerifyRotationError::Unsupported) => (
            "Credential verification is not available for this provider.",
            StatusCode::BAD_REQUEST,
        ),
        Err(VerifyRotationError::CredentialsUnreadable(_)) => (
            "The pending credentials cannot be opened: cancel this rotation and start another.",
            StatusCode::CONFLICT,
        ),
        Err(VerifyRotationError::PermissionDenied) => return Err(PageError::PermissionDenied),
        Err(VerifyRotationError::NotFound) => return Err(PageError::NotFound),
        Err(VerifyRotationError::Repository(error)) => return Err(error.into()),
    };
    again(&req, &session, id, above(message), status).await
}

async fn promote(
    req: HttpRequest,
    path: web::Path<(String, i64, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id, rotation) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let keep = field(&form, "keep_previous_for_seconds")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let seconds = if keep.is_empty() {
        Some(PromoteOptions::default().keep_previous_for_seconds)
    } else {
        keep.parse::<i64>().ok()
    };
    let outcome = match seconds {
        Some(seconds) => {
            let choice = PromoteOptions {
                keep_previous_for_seconds: seconds,
                require_verified: field(&form, "require_verified") == Some("yes"),
            };
            let service = state.rotations.clone();
            web::block(move || {
                service.promote(
                    &actor,
                    ProviderConfigId(id),
                    RotationId(rotation),
                    choice,
                    &options(false),
                )
            })
            .await?
        }
        None => Err(PromoteRotationError::Validation(
            switchboard_domain::shared::ValidationErrors::single(
                "keep_previous_for_seconds",
                "must be an integer from 0 to 604800",
            ),
        )),
    };
    let (errors, status) = match outcome {
        Ok(_) => return Ok(back(&org, id, "rotation-promoted")),
        Err(PromoteRotationError::Validation(errors)) => (
            FormErrors::placed(&errors, &["keep_previous_for_seconds"]),
            StatusCode::BAD_REQUEST,
        ),
        Err(PromoteRotationError::NotVerified) => (
            FormErrors::default().above(
                "The pending credentials are not verified as valid by the provider: verify them first, or promote without requiring it.",
            ),
            StatusCode::CONFLICT,
        ),
        Err(PromoteRotationError::NotPending) => {
            (FormErrors::default().above(NOT_PENDING), StatusCode::CONFLICT)
        }
        Err(PromoteRotationError::PermissionDenied) => return Err(PageError::PermissionDenied),
        Err(PromoteRotationError::NotFound) => return Err(PageError::NotFound),
        Err(PromoteRotationError::Repository(error)) => return Err(error.into()),
    };
    again(
        &req,
        &session,
        id,
        RotationForm {
            inputs: None,
            errors,
            keep: Some(keep),
        },
        status,
    )
    .await
}

async fn cancel(
    req: HttpRequest,
    path: web::Path<(String, i64, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id, rotation) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let service = state.rotations.clone();
    let outcome = web::block(move || {
        service.cancel(
            &actor,
            ProviderConfigId(id),
            RotationId(rotation),
            &options(false),
        )
    })
    .await?;
    match outcome {
        Ok(()) => Ok(back(&org, id, "rotation-cancelled")),
        Err(CancelRotationError::NotPending) => {
            again(&req, &session, id, above(NOT_PENDING), StatusCode::CONFLICT).await
        }
        Err(CancelRotationError::PermissionDenied) => Err(PageError::PermissionDenied),
        Err(CancelRotationError::NotFound) => Err(PageError::NotFound),
        Err(CancelRotationError::Repository(error)) => Err(error.into()),
    }
}

async fn end_overlap(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: FormFields,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let (org, id) = path.into_inner();
    let session = org_form_session(&req, &org, &form).await?;
    let actor = session.actor()?.clone();
    let service = state.rotations.clone();
    match web::block(move || service.end_previous(&actor, ProviderConfigId(id), &options(false)))
        .await?
    {
        Ok(()) => Ok(back(&org, id, "overlap-ended")),
        Err(EndPreviousError::PermissionDenied) => Err(PageError::PermissionDenied),
        Err(EndPreviousError::NotFound) => Err(PageError::NotFound),
        Err(EndPreviousError::Repository(error)) => Err(error.into()),
    }
}

pub(super) fn register(scope: Scope) -> Scope {
    scope
        .route(
            "/o/{org}/configurations/{id}/rotations",
            web::post().to(start),
        )
        .route(
            "/o/{org}/configurations/{id}/rotations/{rotation}/verify",
            web::post().to(verify),
        )
        .route(
            "/o/{org}/configurations/{id}/rotations/{rotation}/promote",
            web::post().to(promote),
        )
        .route(
            "/o/{org}/configurations/{id}/rotations/{rotation}/cancel",
            web::post().to(cancel),
        )
        .route(
            "/o/{org}/configurations/{id}/previous/end",
            web::post().to(end_overlap),
        )
}
