//! The staff action log (`staff_actions`): every change staff or committee members make through
//! the API, recorded once it has succeeded: who, when, what (method, path, the request), the
//! record before (a GET of the same path, where there is one) and after (the answer), and from
//! where. Rows are only ever inserted.
use std::sync::Arc;

use chrono::Utc;
use poem::{Body, Endpoint, IntoResponse, Request, Response, http::Method};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};

use crate::auth::{self, Role};
use entity::staff_action;

/// What is kept of a request or an answer.
const MAX_KEPT_CHARS: usize = 20_000;

pub async fn record<E: Endpoint>(next: Arc<E>, mut request: Request, db: DatabaseConnection) -> poem::Result<Response> {
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = request.uri().path().to_string();
    // Logging in and out, and the gateway's signed callback, are not staff changes.
    let logged = changes && !path.starts_with("/auth/") && !path.starts_with("/gateway/");
    let actor = match bearer(&request).filter(|_| logged) {
        Some(token) => auth::authenticate(&db, &token).await.ok().filter(|a| a.role != Role::Owner),
        None => None,
    };
    let Some(actor) = actor else {
        return Ok(next.call(request).await?.into_response());
    };
    let method = request.method().clone();
    let body = request.take_body().into_bytes().await?;
    request.set_body(body.clone());
    let before = if matches!(method, Method::PUT | Method::PATCH | Method::DELETE) { read_before(&*next, &request).await } else { None };
    let from = from_where(&request);
    let user_agent = request.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default().chars().take(300).collect();
    let request_text = kept(&redacted(&body), request.content_type());
    let response = next.call(request).await?.into_response();
    if !response.status().is_success() {
        return Ok(response);
    }
    let (parts, answer) = response.into_parts();
    let answer = answer.into_bytes().await?;
    let after = kept(&answer, parts.headers.get("content-type").and_then(|v| v.to_str().ok()));
    let row = staff_action::ActiveModel {
        company_id: Set(actor.company_id),
        compound_id: Set(compound_of(&path, [after.as_deref(), before.as_deref()])),
        user_id: Set(actor.user_id),
        user_name: Set(actor.name.clone()),
        role: Set(actor.role.as_str().into()),
        method: Set(method.to_string()),
        path: Set(path.chars().take(500).collect()),
        status: Set(parts.status.as_u16() as i32),
        ip: Set(from),
        user_agent: Set(user_agent),
        request: Set(request_text),
        before: Set(before),
        after: Set(after),
        at: Set(Utc::now()),
        ..Default::default()
    };
    // The change has committed: a failure to log it must not turn its answer into an error.
    if let Err(error) = row.insert(&db).await {
        tracing::error!(%error, user = actor.user_id, %path, "could not record a staff action");
    }
    Ok(Response::from_parts(parts, Body::from(answer)))
}

fn bearer(request: &Request) -> Option<String> {
    let header = request.headers().get("authorization")?.to_str().ok()?;
    header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).map(|t| t.trim().to_string())
}

/// The record as the same caller would have read it just before: a GET of the same path.
async fn read_before<E: Endpoint>(next: &E, request: &Request) -> Option<String> {
    let mut get = Request::builder().method(Method::GET).uri(request.uri().clone()).finish();
    // The same caller and the same service state (the token check reads it).
    *get.extensions_mut() = request.extensions().clone();
    if let Some(auth) = request.headers().get("authorization") {
        get.headers_mut().insert("authorization", auth.clone());
    }
    let response = next.call(get).await.ok()?.into_response();
    if !response.status().is_success() {
        return None;
    }
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let bytes = response.into_body().into_bytes().await.ok()?;
    kept(&bytes, content_type.as_deref())
}

/// The client's address, and the address a proxy says it forwarded for.
fn from_where(request: &Request) -> String {
    let peer = request.remote_addr().as_socket_addr().map_or_else(|| request.remote_addr().to_string(), |addr| addr.ip().to_string());
    match request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(forwarded) => format!("{peer} (for {})", forwarded.chars().take(200).collect::<String>()),
        None => peer,
    }
}

/// A JSON body with every password, token and secret replaced: the log is read by auditors.
fn redacted(body: &[u8]) -> Vec<u8> {
    fn hide(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(fields) => {
                for (key, field) in fields.iter_mut() {
                    let key = key.to_ascii_lowercase();
                    if key.contains("password") || key.contains("token") || key.contains("secret") {
                        *field = serde_json::Value::String("***".into());
                    } else {
                        hide(field);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(hide),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            hide(&mut value);
            value.to_string().into_bytes()
        }
        Err(_) => body.to_vec(),
    }
}

/// Text bodies as they were (truncated); files by their size and type.
fn kept(bytes: &[u8], content_type: Option<&str>) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let textual = content_type.is_none_or(|t| t.contains("json") || t.starts_with("text/"));
    match std::str::from_utf8(bytes) {
        Ok(text) if textual => Some(text.chars().take(MAX_KEPT_CHARS).collect()),
        _ => Some(format!("({} bytes of {})", bytes.len(), content_type.unwrap_or("unknown type"))),
    }
}

/// The compound a change concerns: from the path (`/compounds/{id}/...`), else from the record
/// after or before it.
fn compound_of(path: &str, records: [Option<&str>; 2]) -> Option<i64> {
    let mut segments = path.split('/').skip_while(|s| *s != "compounds");
    if segments.next().is_some()
        && let Some(id) = segments.next().and_then(|s| s.parse().ok())
    {
        return Some(id);
    }
    records.into_iter().flatten().find_map(|text| {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let record = if value.is_array() { value.get(0)? } else { &value };
        record.get("compound_id").and_then(serde_json::Value::as_i64).or_else(|| record.get("ticket")?.get("compound_id")?.as_i64())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compound_comes_from_the_path_or_the_record() {
        assert_eq!(compound_of("/compounds/7/notices", [None, None]), Some(7));
        assert_eq!(compound_of("/units/3", [Some(r#"{"id":3,"compound_id":9}"#), None]), Some(9));
        assert_eq!(compound_of("/units/3/payments", [Some(r#"[{"compound_id":4}]"#), None]), Some(4));
        assert_eq!(compound_of("/users", [Some(r#"{"id":1}"#), None]), None);
        assert_eq!(kept(&[0xFF, 0xD8], Some("image/jpeg")), Some("(2 bytes of image/jpeg)".into()));
        assert_eq!(kept(b"{\"a\":1}", Some("application/json")), Some("{\"a\":1}".into()));
        let account = br#"{"email":"a@b.c","password":"correct-horse","nested":[{"api_token":"x"}]}"#;
        assert_eq!(String::from_utf8(redacted(account)).unwrap(), r#"{"email":"a@b.c","nested":[{"api_token":"***"}],"password":"***"}"#);
    }
}
