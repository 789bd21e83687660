//! Health checks for load balancers and orchestrators; kept out of the OpenAPI document, which
//! lists business operations only.
use poem::{IntoResponse, Response, handler, http::StatusCode, web::Data, web::Json};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::AppState;

/// `GET /health`: the service answers and so does its database.
#[handler]
pub async fn health(state: Data<&AppState>) -> Response {
    match database_answers(&state).await {
        Ok(()) => Json(json!({ "status": "ok", "database": backend(&state) })).into_response(),
        Err(unavailable) => unavailable,
    }
}

/// `GET /health/live`: the process answers (an orchestrator restarts it when it does not). It
/// asks nothing of the database, so a database outage does not restart every replica.
#[handler]
pub async fn live() -> Response {
    Json(json!({ "status": "live" })).into_response()
}

/// `GET /health/ready`: this replica can serve: its database answers and its schema is the one
/// this build knows, no migration missing and none unknown (an older build beside a migrated
/// schema steps aside, so a rolling deploy moves the traffic to the new build). Read-only: it
/// creates nothing, so it works for a database role without DDL rights.
#[handler]
pub async fn ready(state: Data<&AppState>) -> Response {
    if let Err(unavailable) = database_answers(&state).await {
        return unavailable;
    }
    let database = backend(&state);
    let schema = match crate::db::schema_state(&state.db).await {
        Ok(schema) => schema,
        Err(error) => {
            tracing::warn!(error = %crate::error::chain(&error), "readiness: could not read the applied migrations");
            return unavailable(json!({ "status": "migrations unknown", "database": database }));
        }
    };
    match (schema.pending, schema.unknown) {
        (0, 0) => Json(json!({ "status": "ready", "database": database })).into_response(),
        (0, unknown) => unavailable(json!({ "status": "schema newer than this build", "database": database, "unknown": unknown })),
        (pending, _) => unavailable(json!({ "status": "migrations pending", "database": database, "pending": pending })),
    }
}

/// The database answers a `SELECT 1`; else the 503 to send.
async fn database_answers(state: &AppState) -> Result<(), Response> {
    state.db.execute_unprepared("SELECT 1").await.map(|_| ()).map_err(|error| {
        tracing::error!(error = %crate::error::chain(&error), "health check: the database does not answer");
        unavailable(json!({ "status": "database unavailable", "database": backend(state) }))
    })
}

fn backend(state: &AppState) -> String {
    format!("{:?}", state.db.get_database_backend()).to_lowercase()
}

fn unavailable(body: serde_json::Value) -> Response {
    Json(body).with_status(StatusCode::SERVICE_UNAVAILABLE).into_response()
}
