//! Health checks for load balancers and orchestrators; kept out of the OpenAPI document, which
//! lists business operations only.
use migration::MigratorTrait;
use poem::{IntoResponse, Response, handler, http::StatusCode, web::Data, web::Json};
use sea_orm::ConnectionTrait;

use crate::AppState;

/// `GET /health`: the service answers and so does its database.
#[handler]
pub async fn health(state: Data<&AppState>) -> Response {
    let database = backend(&state);
    match state.db.execute_unprepared("SELECT 1").await {
        Ok(_) => Json(serde_json::json!({ "status": "ok", "database": database })).into_response(),
        Err(error) => {
            tracing::error!(error = %crate::error::chain(&error), "health check: the database does not answer");
            unavailable(serde_json::json!({ "status": "database unavailable", "database": database }))
        }
    }
}

/// `GET /health/live`: the process answers (an orchestrator restarts it when it does not). It
/// asks nothing of the database, so a database outage does not restart every replica.
#[handler]
pub async fn live() -> Response {
    Json(serde_json::json!({ "status": "live" })).into_response()
}

/// `GET /health/ready`: this replica can serve: its database answers and has every migration
/// this build knows (a replica of an older build beside a newer schema, or the reverse, is not
/// sent traffic).
#[handler]
pub async fn ready(state: Data<&AppState>) -> Response {
    let database = backend(&state);
    if let Err(error) = state.db.execute_unprepared("SELECT 1").await {
        tracing::warn!(error = %crate::error::chain(&error), "readiness: the database does not answer");
        return unavailable(serde_json::json!({ "status": "database unavailable", "database": database }));
    }
    match migration::Migrator::get_pending_migrations(&state.db).await {
        Ok(pending) if pending.is_empty() => Json(serde_json::json!({ "status": "ready", "database": database })).into_response(),
        Ok(pending) => unavailable(serde_json::json!({ "status": "migrations pending", "database": database, "pending": pending.len() })),
        Err(error) => {
            tracing::warn!(error = %crate::error::chain(&error), "readiness: could not read the applied migrations");
            unavailable(serde_json::json!({ "status": "migrations unknown", "database": database }))
        }
    }
}

fn backend(state: &AppState) -> String {
    format!("{:?}", state.db.get_database_backend()).to_lowercase()
}

fn unavailable(body: serde_json::Value) -> Response {
    Json(body).with_status(StatusCode::SERVICE_UNAVAILABLE).into_response()
}
