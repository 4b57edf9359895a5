//! The route table. Every route answers with and without a trailing slash (the
//! server normalizes paths by trimming it); unknown routes are 404 and known routes
//! with another method are 405, both in the contract's envelope.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};

use crate::error::ApiError;
use crate::{audit, catalog, health, identity, metrics, provider_configs, tokens, verification};

/// Base path of the platform API.
pub const API_BASE: &str = "/api/v2/platform";

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// Registers every route. The caller registers [`crate::AppState`] as app data and
/// wraps the app with path normalization and the request id middleware.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/health/live").route(web::get().to(health::live)))
        .service(resource("/health/ready").route(web::get().to(health::ready)))
        .service(resource("/metrics").route(web::get().to(metrics::render)))
        .service(
            web::scope(API_BASE)
                .wrap(DefaultHeaders::new().add((CACHE_CONTROL, "no-store")))
                .service(resource("/organizations").route(web::get().to(identity::organizations)))
                .service(resource("/auth/login").route(web::post().to(tokens::login)))
                .service(
                    resource("/auth/tokens")
                        .route(web::get().to(tokens::list))
                        .route(web::post().to(tokens::create)),
                )
                .service(resource("/auth/tokens/{id}").route(web::delete().to(tokens::revoke)))
                .service(resource("/telephony/providers").route(web::get().to(catalog::list)))
                .configure(provider_config_routes(
                    "/telephony/providers-configurations",
                ))
                .configure(provider_config_routes("/telephony/provider-configurations"))
                .configure(crate::bridges::routes)
                .service(resource("/audit-events").route(web::get().to(audit::list)))
                .default_service(web::to(not_found)),
        )
        .default_service(web::to(not_found));
}

fn provider_config_routes(base: &'static str) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .service(
                resource(base)
                    .route(web::get().to(provider_configs::list))
                    .route(web::post().to(provider_configs::create)),
            )
            .service(
                resource(&format!("{base}/{{id}}"))
                    .route(web::get().to(provider_configs::get))
                    .route(web::patch().to(provider_configs::update))
                    .route(web::delete().to(provider_configs::delete)),
            )
            .service(
                resource(&format!("{base}/{{id}}/verify"))
                    .route(web::post().to(verification::verify)),
            )
            .service(
                resource(&format!("{base}/{{id}}/history")).route(web::get().to(audit::history)),
            );
    }
}
