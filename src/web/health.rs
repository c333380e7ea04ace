use crate::state::AppState;
use actix_web::{HttpResponse, get, web};

/// 200 when the database answers, 503 otherwise; whether the verified-key cache serves (with
/// several processes it is off while this one cannot hear the others' key changes); and, when
/// configured, whether Redis answers.
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let key_cache = if state.key_cache.is_serving() {
        "on"
    } else {
        "off"
    };
    let mut body = serde_json::json!({ "status": "ok", "key_cache": key_cache });
    // Without Redis the service still answers (each process counts its own limits): it is
    // reported, not a failure.
    if let Some(reachable) = state.rate_limiter.redis_reachable() {
        body["redis"] = (if reachable { "ok" } else { "unreachable" }).into();
    }
    if state.db.ping().await {
        HttpResponse::Ok().json(body)
    } else {
        body["status"] = "database unavailable".into();
        HttpResponse::ServiceUnavailable().json(body)
    }
}
