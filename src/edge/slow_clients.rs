//! Bounds on what one slow or greedy client can hold: a request's body must arrive within a
//! deadline (else 408 and the connection closes), and one client address has a bounded number
//! of requests in progress (else 429 at once, and the connection closes). actix-http already
//! bounds the rest of a connection's idle life: a head must arrive within 5 s of connecting, and
//! an idle kept-alive connection closes after 5 s; so a connection outlives those bounds only
//! while it carries a request in progress, which is what is counted here.

use crate::api::ApiError;
use crate::http::client_ip;
use crate::state::AppState;
use crate::web::PageError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage as _, ResponseError, web};
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// The limits, set once at start.
#[derive(Debug)]
pub struct SlowClients {
    body_deadline: Duration,
    per_client: usize,
    in_progress: Mutex<HashMap<IpAddr, usize>>,
}

impl SlowClients {
    pub fn new(body_deadline: Duration, per_client: usize) -> Self {
        Self {
            body_deadline,
            per_client,
            in_progress: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request in progress from `ip`, or `None` when that address is at its bound.
    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<InProgress> {
        let mut counts = self.in_progress.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if *count >= self.per_client {
            return None;
        }
        *count += 1;
        Some(InProgress {
            limits: self.clone(),
            ip,
        })
    }
}

/// One request in progress; uncounted when dropped, however the request ends.
struct InProgress {
    limits: Arc<SlowClients>,
    ip: IpAddr,
}

impl Drop for InProgress {
    fn drop(&mut self) {
        let mut counts = self
            .limits
            .in_progress
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// A request body that fails once its deadline passes, and says so in `late`.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    late: Arc<AtomicBool>,
}

impl futures_core::Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.late.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request body too slow",
            )))));
        }
        Poll::Pending
    }
}

pub async fn bound(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let (Some(state), Some(limits)) = (
        req.app_data::<web::Data<AppState>>().cloned(),
        req.app_data::<web::Data<SlowClients>>().cloned(),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let limits = limits.into_inner();
    let ip = client_ip(req.request(), state.trust_forwarded_for);
    let _counted = match ip {
        Some(ip) => match limits.enter(ip) {
            Some(counted) => Some(counted),
            None => {
                let answer = if is_api(&req) {
                    ApiError::RateLimited { retry_after: 1 }.error_response()
                } else {
                    PageError::TooManyRequests { retry_after: 1 }.error_response()
                };
                return Ok(closing(req.into_response(answer)));
            }
        },
        None => None,
    };
    let late = Arc::new(AtomicBool::new(false));
    let body = Deadline {
        inner: req.take_payload(),
        sleep: Box::pin(tokio::time::sleep(limits.body_deadline)),
        late: late.clone(),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let api = is_api(&req);
    let response = next.call(req).await?.map_into_boxed_body();
    if late.load(Ordering::Relaxed) {
        let answer = if api {
            ApiError::RequestTimeout.error_response()
        } else {
            PageError::RequestTimeout.error_response()
        };
        let (request, _) = response.into_parts();
        return Ok(closing(ServiceResponse::new(request, answer)));
    }
    Ok(response)
}

fn is_api(req: &ServiceRequest) -> bool {
    req.path() == "/v1" || req.path().starts_with("/v1/")
}

/// The answer, with the connection closed after it: what the client sent after this request is
/// not worth reading.
fn closing(mut response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    response
        .response_mut()
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    response
}

#[cfg(test)]
mod tests {
    use super::SlowClients;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn one_address_holds_at_most_its_bound_and_a_finished_request_frees_its_place() {
        let limits = Arc::new(SlowClients::new(Duration::from_secs(10), 2));
        let (one, other) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = limits.enter(one).expect("first");
        let _second = limits.enter(one).expect("second");
        assert!(limits.enter(one).is_none(), "a third is refused");
        assert!(
            limits.enter(other).is_some(),
            "another address has its own count"
        );
        drop(first);
        assert!(
            limits.enter(one).is_some(),
            "a finished request frees its place"
        );
    }
}
