//! Static files, embedded in the binary and served under content-versioned names, so they can be
//! cached for a year and still change on the next release.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use std::sync::LazyLock;

struct Asset {
    path: String,
    content_type: &'static str,
    body: &'static str,
}

fn versioned(stem: &str, extension: &str, content_type: &'static str, body: &'static str) -> Asset {
    let hash = &crate::crypto::sha256_hex(body)[..12];
    Asset {
        path: format!("/static/{stem}.{hash}.{extension}"),
        content_type,
        body,
    }
}

static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        versioned(
            "app",
            "css",
            "text/css; charset=utf-8",
            include_str!("../../static/app.css"),
        ),
        // Only improves pages (copy to clipboard); every page works without it.
        versioned(
            "app",
            "js",
            "text/javascript; charset=utf-8",
            include_str!("../../static/app.js"),
        ),
        // Named in every page, so that browsers do not go looking for /favicon.ico.
        versioned(
            "icon",
            "svg",
            "image/svg+xml",
            include_str!("../../static/icon.svg"),
        ),
    ]
});

/// Where the current stylesheet is served.
pub fn css_path() -> &'static str {
    &ASSETS[0].path
}

/// Where the current script is served.
pub fn js_path() -> &'static str {
    &ASSETS[1].path
}

/// Where the current icon is served.
pub fn icon_path() -> &'static str {
    &ASSETS[2].path
}

#[get("/static/{name}")]
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    let path = format!("/static/{name}");
    match ASSETS.iter().find(|a| a.path == path) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found"),
    }
}
