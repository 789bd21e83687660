//! What the outside sees of each request: an `X-Request-Id` on every answer (the caller's, when
//! it sent a sane one), carried by every log line written while the request is served, one log
//! line for its answer, and its count and latency in the metrics by operation and status.
use std::{collections::HashMap, sync::Arc, time::Instant};

use poem::{Endpoint, IntoResponse, PathPattern, Request, Response, http::HeaderValue, web::Data};
use tracing::Instrument;

use crate::{AppState, error::problem_for_poem_error};

pub const REQUEST_ID: &str = "x-request-id";

/// The operations' paths as the OpenAPI document writes them ("/units/{id}/bills"), by their
/// shape: poem's route patterns name their parameters by position ("/units/:param0/bills").
pub struct Operations(HashMap<String, String>);

impl Operations {
    pub fn of_spec(spec: &str) -> Operations {
        let spec: serde_json::Value = serde_json::from_str(spec).expect("poem-openapi writes JSON");
        let paths = spec["paths"].as_object().into_iter().flat_map(|paths| paths.keys());
        Operations(paths.map(|path| (shape(path), path.clone())).collect())
    }

    /// The operation a route pattern serves: its OpenAPI path, or the pattern itself for the
    /// routes outside the document (`/health`); the same label for every unmatched path, and
    /// `OTHER` for a method that is none of HTTP's own.
    fn name(&self, method: &poem::http::Method, pattern: Option<&str>) -> String {
        use poem::http::Method;
        let known = [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS];
        let method = if known.contains(method) { method.as_str() } else { "OTHER" };
        match pattern.filter(|p| !p.is_empty()) {
            Some(pattern) => format!("{method} {}", self.0.get(&shape(pattern)).map_or(pattern, String::as_str)),
            None => "unmatched".to_string(),
        }
    }
}

/// A path with each parameter, `{id}` or `:param0`, written `{}`.
fn shape(path: &str) -> String {
    path.split('/').map(|segment| if segment.starts_with('{') || segment.starts_with(':') { "{}" } else { segment }).collect::<Vec<_>>().join("/")
}

/// A handler's result as the answer sent: an error raised outside the handlers (a malformed
/// body, an unknown route) becomes its problem body, keeping the route's pattern for the metrics.
pub fn answer(result: poem::Result<impl IntoResponse>) -> Response {
    match result {
        Ok(response) => response.into_response(),
        Err(error) => {
            let pattern = error.data::<PathPattern>().cloned();
            let mut response = problem_for_poem_error(error);
            if let Some(pattern) = pattern {
                response.set_data(pattern);
            }
            response
        }
    }
}

/// The outermost layer: gives the request its id and its span, and logs and counts its answer.
pub async fn observed<E: Endpoint>(next: Arc<E>, request: Request, operations: Arc<Operations>) -> poem::Result<Response> {
    let started = Instant::now();
    let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|id| is_sane(id)).map_or_else(new_id, str::to_string);
    let method = request.method().clone();
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %request.uri().path());
    let result = next.call(request).instrument(span.clone()).await;
    let mut response = span.in_scope(|| answer(result));
    let pattern = response.data::<PathPattern>().map(|p| p.0.to_string());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| tracing::info!(status, ms = elapsed.as_secs_f64() * 1000.0, "answered"));
    // Labels come from the route table, never from the path asked for: probing paths cannot
    // grow the metrics without bound.
    let operation = operations.name(&method, pattern.as_deref());
    ::metrics::counter!("wuye_http_requests_total", "operation" => operation.clone(), "status" => status.to_string()).increment(1);
    ::metrics::histogram!("wuye_http_request_duration_seconds", "operation" => operation).record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// A caller's request id is kept when it could not confuse a log reader: 1 to 128 letters,
/// digits and `-_.:`.
fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn new_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}


/// `GET /metrics` on the metrics address.
#[poem::handler]
pub async fn scrape(state: Data<&AppState>) -> Response {
    Response::builder().content_type("text/plain; version=0.0.4").body(crate::metrics::render(&state).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_and_operations() {
        assert!(is_sane("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(is_sane("desk-3:payment.17"));
        for bad in ["", "a b", "x\ny", "\u{4e2d}", &"x".repeat(129)] {
            assert!(!is_sane(bad), "{bad:?}");
        }
        assert_eq!(new_id().len(), 32);
        let operations = Operations::of_spec(r#"{"paths": {"/units/{id}/bills": {}, "/compounds": {}}}"#);
        let get = poem::http::Method::GET;
        assert_eq!(operations.name(&get, Some("/units/:param0/bills")), "GET /units/{id}/bills");
        assert_eq!(operations.name(&get, Some("/compounds")), "GET /compounds");
        assert_eq!(operations.name(&get, Some("/health")), "GET /health");
        assert_eq!(operations.name(&get, Some("")), "unmatched");
        assert_eq!(operations.name(&get, None), "unmatched");
        let made_up = poem::http::Method::from_bytes(b"FOO123").unwrap();
        assert_eq!(operations.name(&made_up, Some("/compounds")), "OTHER /compounds");
    }
}
