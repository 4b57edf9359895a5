//! The console's static files, compiled into the binary: one stylesheet and the
//! vendored htmx (the console's only script) (2.0.4, BSD-0 licence beside it in `assets/`). Each is served under
//! a name carrying a hash of its bytes, so that it can be cached for a year and a
//! new build changes the name.

use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

const STYLESHEET: &[u8] = include_bytes!("../assets/console.css");
const HTMX: &[u8] = include_bytes!("../assets/htmx-2.0.4.min.js");

/// One served file.
#[derive(Debug)]
struct Asset {
    name: String,
    bytes: &'static [u8],
    content_type: &'static str,
}

/// The URLs of the assets, for templates.
#[derive(Debug)]
pub(crate) struct AssetUrls {
    pub(crate) stylesheet: String,
    pub(crate) htmx: String,
}

fn hashed(stem: &str, extension: &str, bytes: &'static [u8], content_type: &'static str) -> Asset {
    let digest = Sha256::digest(bytes);
    let hash: String = digest
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Asset {
        name: format!("{stem}.{hash}.{extension}"),
        bytes,
        content_type,
    }
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        hashed("console", "css", STYLESHEET, "text/css; charset=utf-8"),
        hashed(
            "htmx-2.0.4",
            "min.js",
            HTMX,
            "text/javascript; charset=utf-8",
        ),
    ]
});

static URLS: LazyLock<AssetUrls> = LazyLock::new(|| {
    let url = |index: usize| format!("{}/assets/{}", crate::CONSOLE_BASE, ASSETS[index].name);
    AssetUrls {
        stylesheet: url(0),
        htmx: url(1),
    }
});

/// The asset URLs.
pub(crate) fn urls() -> &'static AssetUrls {
    &URLS
}

async fn serve(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|asset| asset.name == *name) {
        Some(asset) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, asset.content_type))
            .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.bytes),
        None => crate::view::not_found_response(),
    }
}

/// The assets route.
pub(crate) fn resource() -> actix_web::Resource {
    web::resource("/assets/{name}").route(web::get().to(serve))
}
