//! Who the client is, by address: the one place it is decided, for every limit, the audit log,
//! the session list and the request log, on the pages and the API alike.

use actix_web::HttpRequest;

/// The client's address, the only place it is decided: the TCP peer; behind a proxy the
/// operator trusts, the right-most `X-Forwarded-For` entry, which is the one that proxy added
/// (every entry left of it came from the client and may say anything). `Forwarded` is never
/// read: a proxy that only appends `X-Forwarded-For` passes a client's `Forwarded` through
/// untouched. IPv4-mapped IPv6 addresses are folded to IPv4, so one client is one bucket.
pub fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> Option<std::net::IpAddr> {
    if trust_forwarded_for && let Some(proxied) = rightmost_forwarded_for(req.headers()) {
        return Some(proxied);
    }
    req.peer_addr().map(|a| canonical(a.ip()))
}

/// The last address in the last `X-Forwarded-For` header, when it is one.
fn rightmost_forwarded_for(
    headers: &actix_web::http::header::HeaderMap,
) -> Option<std::net::IpAddr> {
    let last_header = headers.get_all("x-forwarded-for").last()?;
    let entry = last_header.to_str().ok()?.rsplit(',').next()?.trim();
    let ip = entry
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))?;
    Some(canonical(ip))
}

fn canonical(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
        v4 => v4,
    }
}

/// [`client_ip`] as text, for throttling counters and the session list.
pub fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    client_ip(req, trust_forwarded_for).map_or_else(|| "unknown".into(), |ip| ip.to_string())
}
