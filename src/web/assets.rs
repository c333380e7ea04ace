//! Static files, embedded in the binary and served under content-versioned names, so they can be
//! cached for a year and still change on the next release (§7).

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use std::sync::LazyLock;

const CSS: &str = include_str!("../../static/app.css");

static CSS_PATH: LazyLock<String> =
    LazyLock::new(|| format!("/static/app.{}.css", &crate::crypto::sha256_hex(CSS)[..12]));

/// Where the current stylesheet is served.
pub fn css_path() -> &'static str {
    &CSS_PATH
}

#[get("/static/{name}")]
pub async fn stylesheet(name: web::Path<String>) -> HttpResponse {
    if format!("/static/{name}") != *CSS_PATH {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    }
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(CSS)
}
