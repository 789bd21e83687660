//! The staff action log (`staff_actions`): every change staff or committee members ask for
//! through the API: who, when, what (method, path, the request), the record before (a GET of the
//! same path, where there is one) and after (the answer), and from where.
//!
//! The row is written, and committed, before the change is attempted, and completed with the
//! answer's status and body afterwards. So no change can happen without its row: if the row
//! cannot be written the change is refused (503) untried, and a row whose completion was lost
//! (a crash, a failed write) still records what was asked, with no outcome. Rows are otherwise
//! never changed (the database refuses it).
use std::sync::Arc;

use chrono::Utc;
use poem::{Body, Endpoint, IntoResponse, Request, Response, http::Method, http::StatusCode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};

use crate::{
    auth::{self, Role},
    error::{Error, Problem},
};
use entity::staff_action;

/// What is kept of a request or an answer.
const MAX_KEPT_CHARS: usize = 20_000;

pub async fn record<E: Endpoint + 'static>(next: Arc<E>, mut request: Request, db: DatabaseConnection) -> poem::Result<Response> {
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = request.uri().path().to_string();
    let path_and_query = request.uri().path_and_query().map_or_else(|| path.clone(), |p| p.as_str().to_string());
    // Logging in and out, and the gateway's signed callback, are not staff changes.
    let logged = changes && !path.starts_with("/auth/") && !path.starts_with("/gateway/");
    let actor = match auth::api::bearer_token(&request).filter(|_| logged) {
        Some(token) => match auth::authenticate(&db, &token).await {
            Ok(actor) => {
                request.extensions_mut().insert(auth::api::CheckedToken { token, actor: actor.clone() });
                Some(actor).filter(|a| a.role != Role::Owner)
            }
            // An unknown, expired or disabled login: its handler refuses it and nothing changes.
            Err(Error::Unauthenticated(_)) => None,
            // The database does not say who asks: the change could not be recorded, so it is not made.
            Err(error) => {
                tracing::error!(error = %crate::error::chain(&error), %path, "could not check a token for the staff action log; the change was refused untried");
                return Ok(log_unavailable());
            }
        },
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
    let compound_id = compound_of(&db, &path, before.as_deref(), request_text.as_deref()).await;
    let asked = staff_action::ActiveModel {
        company_id: Set(actor.company_id),
        compound_id: Set(compound_id),
        user_id: Set(actor.user_id),
        user_name: Set(actor.name.clone()),
        role: Set(actor.role.as_str().into()),
        method: Set(method.to_string()),
        path: Set(path_and_query.chars().take(500).collect()),
        status: Set(None),
        ip: Set(from),
        user_agent: Set(user_agent),
        request: Set(request_text),
        before: Set(before),
        after: Set(None),
        at: Set(Utc::now()),
        ..Default::default()
    };
    let asked = match asked.insert(&db).await {
        Ok(asked) => asked,
        Err(error) => {
            tracing::error!(error = %crate::error::chain(&error), user = actor.user_id, %path, "could not write the staff action log; the change was refused untried");
            return Ok(log_unavailable());
        }
    };
    // On a task of its own, run to its end: a client that hangs up stops neither the change
    // halfway nor the recording of its outcome.
    let answered = tokio::spawn(async move {
        let (parts, body) = super::observe::answer(next.call(request).await).into_parts();
        let answer = body.into_bytes().await;
        let after = answer.as_ref().ok().and_then(|a| kept(a, parts.headers.get("content-type").and_then(|v| v.to_str().ok())));
        complete(&db, &asked, parts.status.as_u16(), after).await;
        (parts, answer)
    });
    let (parts, answer) = answered.await.map_err(|e| poem::Error::from_string(format!("the request failed: {e}"), StatusCode::INTERNAL_SERVER_ERROR))?;
    Ok(Response::from_parts(parts, Body::from(answer?)))
}

/// A change refused untried because its row cannot be written.
fn log_unavailable() -> Response {
    let problem = Problem::new("staff_log_unavailable", "the staff action log cannot be written just now, so nothing was changed; try again", None);
    problem.with_status(StatusCode::SERVICE_UNAVAILABLE).into_response()
}

/// Completes the row of a change with its answer, once. Should that fail, the answer stands
/// (the change has been made, or refused) and the row still says what was asked.
async fn complete(db: &DatabaseConnection, asked: &staff_action::Model, status: u16, after: Option<String>) {
    let mut completion = staff_action::Entity::update_many()
        .col_expr(staff_action::Column::Status, Expr::value(status as i32))
        .col_expr(staff_action::Column::After, Expr::value(after.clone()));
    if asked.compound_id.is_none()
        && let Some(compound) = compound_named(after.as_deref())
    {
        completion = completion.col_expr(staff_action::Column::CompoundId, Expr::value(compound));
    }
    let completed = completion.filter(staff_action::Column::Id.eq(asked.id)).filter(staff_action::Column::Status.is_null()).exec(db).await;
    if let Err(error) = completed {
        tracing::error!(error = %crate::error::chain(&error), action = asked.id, "could not record the outcome of a staff action");
    }
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

/// Whether a JSON key names a secret (a password, a token, a secret), never shown to anyone.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "token", "secret"].iter().any(|s| key.contains(s))
}

/// A JSON body with every password, token, secret and ID number replaced: the log is read by
/// auditors and kept for good.
fn redacted(body: &[u8]) -> Vec<u8> {
    fn hide(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(fields) => {
                for (key, field) in fields.iter_mut() {
                    // ID numbers are kept masked everywhere else; here not at all.
                    if is_secret_key(key) || key.to_ascii_lowercase().contains("id_number") {
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

/// JSON bodies as they were (truncated); anything else (uploaded spreadsheets, photos, CSV
/// downloads) by its size, type and SHA-256 only: a spreadsheet of owners is not a log entry.
/// A body said to be JSON that holds a NUL is not JSON, and PostgreSQL's text cannot hold it.
fn kept(bytes: &[u8], content_type: Option<&str>) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let json = content_type.is_some_and(|t| t.contains("json"));
    match std::str::from_utf8(bytes) {
        Ok(text) if json && !text.contains('\0') => Some(text.chars().take(MAX_KEPT_CHARS).collect()),
        _ => {
            use sha2::Digest;
            let sha256 = hex::encode(sha2::Sha256::digest(bytes));
            Some(format!("({} bytes of {}, sha256 {sha256})", bytes.len(), content_type.unwrap_or("unknown type")))
        }
    }
}

/// The tables whose rows a path names, for the compound they belong to.
const RESOURCES: &[(&str, &str)] = &[
    ("units", "units"),
    ("buildings", "buildings"),
    ("stairwells", "stairwells"),
    ("bills", "bills"),
    ("payments", "payments"),
    ("payment-orders", "payment_orders"),
    ("fee-items", "fee_items"),
    ("tickets", "tickets"),
    ("ticket-photos", "ticket_photos"),
    ("notices", "notices"),
    ("notice-attachments", "notice_attachments"),
    ("fund-projects", "fund_projects"),
    ("votes", "votes"),
    ("elevator-plans", "elevator_plans"),
    ("outbox", "outbox"),
];

/// The compound a change concerns, as known before it is made, from what the service says
/// before what the client says: the compound the path names (`/compounds/{id}/...`), else the
/// one the record before names (no round trip), else the one the path's record belongs to
/// (`/units/{id}/...`), else that of the unit the request names (`{"unit_id": 7}`), else the
/// compound the request names. None for changes above any compound (logins, companies) and for
/// those only their answer places (completed from it).
async fn compound_of(db: &DatabaseConnection, path: &str, before: Option<&str>, request: Option<&str>) -> Option<i64> {
    let mut segments = path.trim_start_matches('/').split('/');
    let (resource, id) = (segments.next(), segments.next().map(str::parse::<i64>));
    if let (Some("compounds"), Some(Ok(id))) = (resource, &id) {
        return Some(*id);
    }
    if let Some(named) = compound_named(before) {
        return Some(named);
    }
    let of_record = async |table: &str, id: i64| {
        let sql = format!("SELECT compound_id FROM {table} WHERE id = $1");
        let row = db.query_one_raw(crate::db::statement(db, &sql, vec![id.into()])).await.ok().flatten()?;
        row.try_get::<i64>("", "compound_id").ok()
    };
    if let (Some(resource), Some(Ok(id))) = (resource, id)
        && let Some((_, table)) = RESOURCES.iter().find(|(name, _)| *name == resource)
    {
        return of_record(table, id).await;
    }
    let request: serde_json::Value = serde_json::from_str(request?).ok()?;
    match request.get("unit_id").and_then(serde_json::Value::as_i64) {
        Some(unit) => of_record("units", unit).await,
        None => request.get("compound_id").and_then(serde_json::Value::as_i64),
    }
}

/// The compound a record (as JSON) names, itself or as the ticket it holds.
fn compound_named(record: Option<&str>) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_str(record?).ok()?;
    let record = if value.is_array() { value.get(0)? } else { &value };
    record.get("compound_id").and_then(serde_json::Value::as_i64).or_else(|| record.get("ticket")?.get("compound_id")?.as_i64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compound_comes_from_the_record_and_files_are_kept_by_size() {
        assert_eq!(compound_named(Some(r#"{"id":3,"compound_id":9}"#)), Some(9));
        assert_eq!(compound_named(Some(r#"[{"compound_id":4}]"#)), Some(4));
        assert_eq!(compound_named(Some(r#"{"id":1}"#)), None);
        assert!(kept(&[0xFF, 0xD8], Some("image/jpeg")).unwrap().starts_with("(2 bytes of image/jpeg, sha256 "));
        assert!(kept(b"building,number\n1,101", Some("text/csv")).unwrap().starts_with("(21 bytes of text/csv"));
        assert_eq!(kept(b"{\"a\":1}", Some("application/json")), Some("{\"a\":1}".into()));
        assert!(kept(b"{\"a\":\"\0\"}", Some("application/json")).unwrap().starts_with("(9 bytes of application/json, sha256 "));
        let account = br#"{"email":"a@b.c","password":"correct-horse","nested":[{"api_token":"x"}]}"#;
        assert_eq!(String::from_utf8(redacted(account)).unwrap(), r#"{"email":"a@b.c","nested":[{"api_token":"***"}],"password":"***"}"#);
    }
}
