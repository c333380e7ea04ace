//! One log line per request: client address, method, path (never the query string, which may
//! carry a single-use token), status, bytes and time. Costs nothing when info logging is off.

use actix_web::Error;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use std::time::Instant;

pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if !log::log_enabled!(target: "socializer::requests", log::Level::Info) {
        return next.call(req).await;
    }
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let trust = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|state| state.trust_forwarded_for);
    let peer = crate::http::client_ip(req.request(), trust);
    let response = next.call(req).await?;
    let bytes = match response.response().body().size() {
        BodySize::Sized(n) => n,
        _ => 0,
    };
    log::info!(
        target: "socializer::requests",
        "{} \"{method} {path}\" {} {bytes} {:.3}ms",
        peer.map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(response)
}
