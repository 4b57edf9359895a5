//! Number import (contract sections 11 and 16): `POST /telephony/numbers/import/`
//! with `{"provider_config_id"}` reads the phone numbers of the configuration's
//! provider account and adds the missing ones, linked to the configuration.
//!
//! Organization write roles with scope `bridges:write` (the numbers' scope). A use of
//! the configuration's secret: one cell of the token's secret-use bucket, counted in
//! `switchboard_credential_uses_total{kind="import"}`. The answer is computed anew on
//! every call (running it twice adds nothing), so `Idempotency-Key` stores nothing.
//! Registered before `/telephony/numbers/{id}` so that the literal segment wins.

use std::sync::LazyLock;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};
use switchboard_application::credential_use::{SecretUse, UseContext};
use switchboard_domain::telephony::{ImportedNumber, ProviderCatalog, ProviderConfigId};

use crate::docs::schema::{envelope, id_schema, no_control, object, schema_ref};
use crate::extract::auth::OrgActor;
use crate::extract::body::{BodyLimits, read_json_object};
use crate::middleware::request_id::request_id_of;
use crate::routes::credential_use::counted;
use crate::routes::numbers::{NumberView, view};
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::respond;
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::{Field, FieldTable, Kind};

static IMPORT_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("provider_config_id", Kind::IdOrDigits).required(),
    ])
});

/// A number of the import's answer: the number as listed, and whether this import
/// created it.
#[derive(Serialize)]
struct ImportedView {
    #[serde(flatten)]
    number: NumberView,
    imported: bool,
}

#[derive(Serialize)]
struct ImportView {
    imported: usize,
    existing: usize,
    skipped: usize,
    numbers: Vec<ImportedView>,
}

async fn import(
    OrgActor(actor): OrgActor,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let id = match IMPORT_FIELDS.read(&body)?.integer("provider_config_id") {
        Some(id) if id > 0 => ProviderConfigId(id),
        _ => {
            return Err(ApiError::invalid(
                "provider_config_id",
                "must be a positive integer id",
            ));
        }
    };
    let context = UseContext {
        request_id: request_id_of(&req),
        client_address: None,
    };
    let service = state.number_import.clone();
    let outcome = counted(
        SecretUse::Import,
        blocking(move || service.import(&actor, id, &context).map_err(ApiError::from)).await,
    )?;
    let (imported, existing, skipped) = (outcome.imported(), outcome.existing(), outcome.skipped);
    let numbers = outcome
        .numbers
        .into_iter()
        .map(|ImportedNumber { number, created }| ImportedView {
            number: view(number),
            imported: created,
        })
        .collect();
    Ok(respond(
        StatusCode::OK,
        "Numbers imported successfully.",
        ImportView {
            imported,
            existing,
            skipped,
            numbers,
        },
    ))
}

fn import_body(_: &ProviderCatalog) -> Value {
    object(
        json!({"provider_config_id": {"oneOf": [id_schema(),
            {"type": "string", "pattern": "^0*[1-9][0-9]*$", "maxLength": 19,
             "not": no_control()}],
            "description": "The configuration whose provider account's numbers are imported."}}),
        &["provider_config_id"],
    )
}

fn import_answer() -> Value {
    let mut number = schema_ref("Number");
    number = json!({"allOf": [number, {"type": "object",
        "properties": {"imported": {"type": "boolean", "description": "Created by this import (else the organization had it already, and it was left as it is)."}},
        "required": ["imported"]}]});
    envelope(json!({"type": "object",
        "properties": {
            "imported": {"type": "integer", "minimum": 0, "description": "Numbers this import created, linked to the configuration."},
            "existing": {"type": "integer", "minimum": 0, "description": "Numbers of the account the organization had already."},
            "skipped": {"type": "integer", "minimum": 0, "description": "Numbers of the account that are not strict E.164 (short codes, say): not imported."},
            "numbers": {"type": "array", "items": number,
                        "description": "Every number of the account, in the provider's order."}},
        "required": ["imported", "existing", "skipped", "numbers"]}))
}

/// The number import route (registered before `/telephony/numbers/{id}`).
pub(crate) fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::new(
        Method::POST,
        api("/telephony/numbers/import"),
        Access::OrgWrite,
        || web::post().to(import),
        Operation::new(
            "bridges and numbers",
            "Import the phone numbers of a configuration's provider account (Twilio, Telnyx, Plivo)",
        )
        .id("importNumbers")
        .body(import_body, true)
        .answer(import_answer)
        .errors(&[400, 404, 409, 502])
        .idempotency(Idempotency::NeverStored),
    )]
}
