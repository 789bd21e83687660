//! The web interface for owners, staff and the committee: a plain-JavaScript single-page app
//! that calls the JSON API. Every asset is compiled into the binary, since compounds' offices
//! often sit on closed networks (no CDN) and `cargo run` alone must serve it (no npm step).
//! Kept out of the OpenAPI document, which lists business operations only.
use std::sync::Arc;

use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route, handler,
    http::{StatusCode, header},
    middleware::SetHeader,
    web::{Data, Json, Path, Redirect},
};

use crate::{
    AppState, auth,
    error::{ApiError, Error},
    payments::{api::CallbackAnswer, gateway},
};

/// Every file under `/app/assets/`, with its content type.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("assets/app.js")),
    ("i18n.js", "text/javascript; charset=utf-8", include_bytes!("assets/i18n.js")),
    ("owner.js", "text/javascript; charset=utf-8", include_bytes!("assets/owner.js")),
    ("committee.js", "text/javascript; charset=utf-8", include_bytes!("assets/committee.js")),
    ("staff.js", "text/javascript; charset=utf-8", include_bytes!("assets/staff.js")),
    ("app.css", "text/css; charset=utf-8", include_bytes!("assets/app.css")),
    ("icon.svg", "image/svg+xml", include_bytes!("assets/icon.svg")),
];

/// `/app/` (the page), `/app/assets/...` (its files) and the built-in gateway's checkout, to be
/// nested at `/app`.
pub fn routes() -> impl Endpoint {
    Route::new()
        .at("/", poem::get(page))
        .at("/assets/:name", poem::get(asset))
        .at("/gateway/checkout", poem::get(checkout_available))
        .at("/gateway/checkout/:id", poem::post(checkout))
        // Each file is only what its content type says, never sniffed as something else.
        .with(SetHeader::new().overriding(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}

/// The address of a page of the web interface (`route` as the app names it: "/owner/tickets/7"),
/// for the links in emails: an owner who clicks one lands on that page, after logging in if
/// need be, not on the JSON behind it.
pub fn page_address(config: &crate::config::Config, route: &str) -> String {
    format!("{}/app/#{route}", config.public_url)
}

/// `/` leads to the web interface, for people who type the bare address. A middleware rather
/// than a route, since the API is nested at `/` and its router would answer `/` first.
pub async fn home<E: Endpoint>(next: Arc<E>, request: Request) -> poem::Result<Response> {
    if request.uri().path() == "/" {
        return Ok(Redirect::see_other("/app/").into_response());
    }
    Ok(next.call(request).await?.into_response())
}

/// What the page may load and run: only its own files and the API behind it. Owners' notices
/// and tickets are text others wrote; should any of it ever reach the page as markup, no
/// script, inline handler, style attribute or outside address would be obeyed. Ticket photos
/// are shown from `blob:` addresses the page makes of what the API answered.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[handler]
fn page() -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        // The page is small and changes with each release: always asked for afresh.
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
        .body(include_str!("assets/index.html"))
}

#[handler]
fn asset(Path(name): Path<String>) -> poem::Result<Response> {
    let (_, content_type, bytes) = ASSETS
        .iter()
        .find(|(file, _, _)| *file == name)
        .ok_or_else(|| poem::Error::from_string(format!("no asset is called {name:?}"), StatusCode::NOT_FOUND))?;
    Ok(Response::builder().content_type(*content_type).header(header::CACHE_CONTROL, "no-cache").body(*bytes))
}

/// `GET /app/gateway/checkout`: whether the built-in gateway's checkout is on, so that the page
/// offers online payment only where it can be made (elsewhere owners pay at the office).
#[handler]
fn checkout_available(state: Data<&AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "available": state.config.gateway_checkout }))
}

/// `POST /app/gateway/checkout/:id` with the owner's token: the built-in gateway's checkout
/// (see `payments::gateway::confirm_checkout`), answering like the gateway's callback. Under
/// `/app` with the page that uses it, and out of the OpenAPI document: it is not part of the API
/// a real gateway's deployment offers.
#[handler]
async fn checkout(request: &Request, Path(order_id): Path<i64>, state: Data<&AppState>) -> poem::Result<poem_openapi::payload::Json<CallbackAnswer>> {
    if !state.config.gateway_checkout {
        return Err(ApiError::from(Error::NotFound("checkout of the built-in gateway (it is not switched on here)")).into());
    }
    let actor = auth::api::caller(request).await?;
    let outcome = gateway::confirm_checkout(&state.db, &actor, &state.config.gateway_secret, order_id).await.map_err(ApiError::from)?;
    Ok(poem_openapi::payload::Json(outcome.into()))
}
