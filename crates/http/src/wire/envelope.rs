//! The contract's response envelope: `status_code`, `message`, `data`, and `count`
//! for collections. Error envelopes live in [`super::error`].

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;

/// A success envelope.
#[derive(Debug, Serialize)]
pub(crate) struct Envelope<T: Serialize> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) count: Option<u64>,
    pub(crate) status_code: u16,
    pub(crate) message: &'static str,
    pub(crate) data: T,
}

/// An answer with one object (or any `data`).
pub(crate) fn respond<T: Serialize>(
    status: StatusCode,
    message: &'static str,
    data: T,
) -> HttpResponse {
    HttpResponse::build(status).json(Envelope {
        count: None,
        status_code: status.as_u16(),
        message,
        data,
    })
}

/// A 200 answer with one page of a collection and the total count.
pub(crate) fn respond_list<T: Serialize>(
    message: &'static str,
    total: u64,
    items: Vec<T>,
) -> HttpResponse {
    HttpResponse::Ok().json(Envelope {
        count: Some(total),
        status_code: 200,
        message,
        data: items,
    })
}
