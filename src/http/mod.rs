//! The HTTP edge: routes, the OpenAPI document, the docs UI and the error conversion.
mod answer;
mod body;
mod health;
mod image;
mod observe;
mod staff_log;

pub use answer::{JsonAnswer, rfc3339};
pub use body::JsonBody;
pub use image::{ImageFile, ImageUpload, checked_image, image_type};
pub use staff_log::is_secret_key;

use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, http::StatusCode};
use poem_openapi::{OpenApiService, Tags};

use crate::{AppState, audit, auth, billing, elevator, error::problem_for_poem_error, funds, jobs, ledger, mail, notices, payments, registry, reminders, tickets, votes};

/// One tag per business area; every operation carries exactly one.
#[derive(Tags)]
pub enum Area {
    /// Companies, compounds, buildings, stairwells, units, owners and ownerships.
    #[oai(rename = "registry")]
    Registry,
    /// Logins, sessions and accounts.
    #[oai(rename = "auth")]
    Auth,
    /// Fee items, bill runs, bills and their adjustments.
    #[oai(rename = "billing")]
    Billing,
    /// The cashier desk, receipts, refunds, reversals, statements and online payment.
    #[oai(rename = "payments")]
    Payments,
    /// The double-entry journal, its verification, and common-area income.
    #[oai(rename = "ledger")]
    Ledger,
    /// Scheduled jobs and their runs, and the email outbox.
    #[oai(rename = "jobs")]
    Jobs,
    /// Repair tickets: filing, the queue, the workflow, SLA targets, statistics.
    #[oai(rename = "tickets")]
    Tickets,
    /// The maintenance fund: sub-ledgers, deposits, allocations, the check, repair projects.
    #[oai(rename = "funds")]
    Funds,
    /// Owners' votes by the Civil Code's area-and-headcount rules, and elevator-retrofit plans.
    #[oai(rename = "votes")]
    Votes,
    /// Notices to owners: audience, scheduling, read receipts, disclosures and corrections.
    #[oai(rename = "notices")]
    Notices,
    /// The owners' committee's audit desk: read-only reports, each as JSON and CSV.
    #[oai(rename = "audit")]
    Audit,
}

pub fn routes(state: AppState) -> impl poem::Endpoint {
    let api = OpenApiService::new(
        (
            auth::api::AuthApi(state.clone()),
            registry::api::RegistryApi(state.clone()),
            billing::api::BillingApi(state.clone()),
            payments::api::PaymentsApi(state.clone()),
            ledger::api::LedgerApi(state.clone()),
            reminders::api::RemindersApi(state.clone()),
            jobs::api::JobsApi(state.clone()),
            mail::api::OutboxApi(state.clone()),
            tickets::api::TicketsApi(state.clone()),
            funds::api::FundsApi(state.clone()),
            votes::api::VotesApi(state.clone()),
            elevator::api::ElevatorApi(state.clone()),
            notices::api::NoticesApi(state.clone()),
            audit::api::AuditApi(state.clone()),
        ),
        "wuye",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Property management for renovated old residential compounds: registry, accounts and roles, fees, payments and the ledger, arrears reminders, scheduled jobs and the email outbox, repair tickets, the maintenance fund, owners' votes and elevator retrofits, notices, and the committee's audit desk.");
    let spec = nullable_options(&api.spec());
    let operations = std::sync::Arc::new(observe::Operations::of_spec(&spec));
    let docs = api.swagger_ui();
    let max_body = state.config.max_body_bytes;
    let db = state.db.clone();
    Route::new()
        .at("/health", poem::get(health::health))
        .at("/health/live", poem::get(health::live))
        .at("/health/ready", poem::get(health::ready))
        .nest("/", api)
        .at("/openapi.json", poem::endpoint::make_sync(move |_| Response::builder().content_type("application/json").body(spec.clone())))
        .nest("/docs", docs)
        .nest("/app", crate::web::routes()).around(crate::web::home)
        .around(move |next, request| staff_log::record(next, request, db.clone()))
        .around(move |next, request| limit_body(next, request, max_body))
        .around(readable_idempotency_key)
        .data(state)
        .around(move |next, request| observe::observed(next, request, operations.clone()))
}

/// What the metrics address serves: `GET /metrics` and nothing else.
pub fn metrics_routes(state: AppState) -> impl poem::Endpoint {
    Route::new().at("/metrics", poem::get(observe::scrape)).data(state).catch_all_error(|error| async move { problem_for_poem_error(error) })
}

/// The OpenAPI document, saying what the service sends: poem-openapi documents an `Option<T>`
/// field as an optional `T` but sends `None` as `null`, so every optional property without a
/// default (what an `Option` is) is marked nullable. Found by schemathesis (`.ci/schemathesis`).
fn nullable_options(spec: &str) -> String {
    let mut spec: serde_json::Value = serde_json::from_str(spec).expect("poem-openapi writes JSON");
    for schema in spec["components"]["schemas"].as_object_mut().into_iter().flat_map(|schemas| schemas.values_mut()) {
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        for (name, property) in schema.get_mut("properties").and_then(|p| p.as_object_mut()).into_iter().flatten() {
            if !required.iter().any(|r| r == name) && property.get("default").is_none() {
                property["nullable"] = serde_json::Value::Bool(true);
            }
        }
    }
    spec.to_string()
}

/// Refuses bodies over the configured size with 413, whether announced by Content-Length or
/// sent chunked (poem's own `SizeLimit` would also refuse every request without a length).
async fn limit_body<E: Endpoint>(next: std::sync::Arc<E>, mut request: Request, max: usize) -> poem::Result<Response> {
    let too_large = || poem::Error::from_string(format!("the body is larger than {max} bytes"), StatusCode::PAYLOAD_TOO_LARGE);
    let announced = request
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match announced {
        Some(length) if length > max as u64 => return Err(too_large()),
        Some(_) => {}
        None => {
            let body = request.take_body().into_bytes_limit(max).await.map_err(|_| too_large())?;
            request.set_body(body);
        }
    }
    Ok(next.call(request).await?.into_response())
}

/// Refuses an `Idempotency-Key` that is not visible ASCII. poem-openapi passes such a value to
/// the handlers as no key at all, so a retry would move the money again (found by tests/abuse.rs).
async fn readable_idempotency_key<E: Endpoint>(next: std::sync::Arc<E>, request: Request) -> poem::Result<Response> {
    if request.headers().get_all("idempotency-key").iter().any(|value| value.to_str().is_err()) {
        let error = crate::error::Error::invalid("Idempotency-Key", "Idempotency-Key must be visible ASCII text");
        return Err(crate::error::ApiError::from(error).into());
    }
    Ok(next.call(request).await?.into_response())
}
