//! The web interface for owners, staff and the committee: a plain-JavaScript single-page app
//! that calls the JSON API. Every asset is compiled into the binary, since compounds' offices
//! often sit on closed networks (no CDN) and `cargo run` alone must serve it (no npm step).
//! Kept out of the OpenAPI document, which lists business operations only.
use std::sync::Arc;

use poem::{
    Endpoint, IntoResponse, Request, Response, Route, handler,
    http::{StatusCode, header},
    web::{Data, Json, Path, Redirect},
};

use crate::{
    AppState, auth,
    error::{ApiError, Error},
    payments::gateway,
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
pub fn routes() -> Route {
    Route::new()
        .at("/", poem::get(page))
        .at("/assets/:name", poem::get(asset))
        .at("/gateway/checkout/:id", poem::post(checkout))
}

/// `/` leads to the web interface, for people who type the bare address. A middleware rather
/// than a route, since the API is nested at `/` and its router would answer `/` first.
pub async fn home<E: Endpoint>(next: Arc<E>, request: Request) -> poem::Result<Response> {
    if request.uri().path() == "/" {
        return Ok(Redirect::see_other("/app/").into_response());
    }
    Ok(next.call(request).await?.into_response())
}

#[handler]
fn page() -> Response {
    Response::builder()
        .content_type("text/html; charset=utf-8")
        // The page is small and changes with each release: always asked for afresh.
        .header(header::CACHE_CONTROL, "no-cache")
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

/// `POST /app/gateway/checkout/:id` with the owner's token: the built-in gateway's checkout
/// (see `payments::gateway::confirm_checkout`), answering like the gateway's callback. Under
/// `/app` with the page that uses it, and out of the OpenAPI document: it is not part of the API
/// a real gateway's deployment offers.
#[handler]
async fn checkout(request: &Request, Path(order_id): Path<i64>, state: Data<&AppState>) -> poem::Result<Json<serde_json::Value>> {
    let confirm = async {
        if !state.config.gateway_checkout {
            return Err(Error::NotFound("checkout of the built-in gateway (WUYE_GATEWAY_CHECKOUT is off)"));
        }
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Error::Unauthenticated("log in first"))?;
        let actor = auth::authenticate(&state.db, token).await?;
        gateway::confirm_checkout(&state.db, &actor, &state.config.gateway_secret, order_id).await
    };
    let (status, payment_id) = match confirm.await.map_err(|e| poem::Error::from(ApiError::from(e)))? {
        gateway::CallbackOutcome::Paid { payment_id } => ("paid", payment_id),
        gateway::CallbackOutcome::AlreadyPaid { payment_id } => ("already_paid", payment_id),
    };
    Ok(Json(serde_json::json!({ "status": status, "payment_id": payment_id })))
}
