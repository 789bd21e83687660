//! One domain error type for every area, and its mapping to an HTTP problem body at the edge.
//!
//! Every 4xx and 5xx the service sends has the same JSON shape, [`Problem`]: a machine code, a
//! human message, the field at fault, and for bulk operations the rows at fault. Errors raised
//! by poem and poem-openapi themselves (unknown route, bad content type, missing token) are
//! converted to it by [`problem_for_poem_error`], so no client ever sees plain text.
use poem::http::StatusCode;
use poem_openapi::{ApiResponse, Object, payload::Json};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request breaks a rule about one field (or the body as a whole when `field` is None).
    #[error("{message}")]
    Invalid { field: Option<String>, message: String },
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    /// Also what a caller gets for another company's ids: we never confirm they exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: i64 },
    /// A bulk operation refused because of bad rows; nothing was written.
    #[error("{message}")]
    RowsRejected { message: String, rows: Vec<RowProblem> },
    #[error("database error")]
    Database(#[source] sea_orm::DbErr),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid { field: Some(field.to_string()), message: message.into() }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        Error::Conflict { field: Some(field.to_string()), message: message.into() }
    }

    /// A step its record's status does not allow (409 on `status`), naming the ones that do.
    pub fn unless_status(what: &str, status: &str, allowed: &[&str]) -> Result<()> {
        if allowed.contains(&status) {
            return Ok(());
        }
        Err(Error::conflict("status", format!("the {what} is {status}; this step needs it {}", allowed.join(" or "))))
    }
}

impl From<sea_orm::DbErr> for Error {
    /// A unique index refusing a row is a conflict the client can act on, not a server fault:
    /// it is how two concurrent requests creating the same thing end, after both checked.
    fn from(error: sea_orm::DbErr) -> Self {
        match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => {
                let field = ["number", "phone", "email", "name", "key"].into_iter().find(|f| detail.contains(f));
                Error::Conflict { field: field.map(str::to_string), message: "a record with the same key already exists".into() }
            }
            _ => Error::Database(error),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Object, serde::Deserialize)]
pub struct Problem {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault, when there is one.
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
    /// For bulk operations: every bad row with its line number.
    #[oai(default, skip_serializing_if_is_empty)]
    #[serde(default)]
    pub rows: Vec<RowProblem>,
}

#[derive(Debug, Clone, Object, serde::Deserialize)]
pub struct RowProblem {
    /// Line number in the uploaded file (the header is line 1).
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(code: &str, message: impl Into<String>, field: Option<String>) -> Json<Problem> {
        Json(Problem { code: code.to_string(), message: message.into(), field, rows: Vec::new() })
    }
}

/// The error responses of every operation, as documented in the OpenAPI spec.
#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// The request is malformed or breaks a validation rule.
    #[oai(status = 400)]
    BadRequest(Json<Problem>),
    /// No valid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<Problem>),
    /// The caller's role may not do this.
    #[oai(status = 403)]
    Forbidden(Json<Problem>),
    /// No such record, or not one the caller may see.
    #[oai(status = 404)]
    NotFound(Json<Problem>),
    /// The request conflicts with the current state (duplicate, wrong state).
    #[oai(status = 409)]
    Conflict(Json<Problem>),
    /// A bulk upload with bad rows; nothing was written.
    #[oai(status = 422)]
    Unprocessable(Json<Problem>),
    /// Too many attempts; wait and retry.
    #[oai(status = 429)]
    TooManyRequests(Json<Problem>),
    /// Something failed on our side; the cause is in the server log, not in the response.
    #[oai(status = 500)]
    Internal(Json<Problem>),
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid { field, message } => ApiError::BadRequest(Problem::new("validation_failed", message, field)),
            Error::Unauthenticated(message) => ApiError::Unauthorized(Problem::new("unauthenticated", message, None)),
            Error::Forbidden(message) => ApiError::Forbidden(Problem::new("forbidden", message, None)),
            Error::NotFound(what) => ApiError::NotFound(Problem::new("not_found", format!("{what} not found"), None)),
            Error::Conflict { field, message } => ApiError::Conflict(Problem::new("conflict", message, field)),
            error @ Error::TooManyAttempts { .. } => {
                ApiError::TooManyRequests(Problem::new("too_many_attempts", error.to_string(), None))
            }
            Error::RowsRejected { message, rows } => ApiError::Unprocessable(Json(Problem {
                code: "rows_rejected".into(),
                message,
                field: None,
                rows,
            })),
            Error::Database(cause) => internal(&cause),
            Error::Internal(cause) => internal(cause.as_ref()),
        }
    }
}

/// An error and every cause under it, "outer: inner: innermost", for a log line or a record.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(next) = source {
        chain.push_str(": ");
        chain.push_str(&next.to_string());
        source = next.source();
    }
    chain
}

fn internal(cause: &(dyn std::error::Error + 'static)) -> ApiError {
    tracing::error!(cause = %chain(cause), "request failed");
    ApiError::Internal(Problem::new("internal", "internal error; it has been logged", None))
}

/// Turns an error raised by poem or poem-openapi outside our handlers into a [`Problem`].
/// Responses our handlers built (already JSON problems) pass through unchanged.
pub fn problem_for_poem_error(error: poem::Error) -> poem::Response {
    use poem::IntoResponse;
    use poem_openapi::error::{ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError};

    // A body without the content type an operation reads is a bad request like any other:
    // one status every operation documents, not poem's 415.
    let status = if error.is::<ContentTypeError>() { StatusCode::BAD_REQUEST } else { error.status() };
    let message = error.to_string();
    let error_is_path = error.is::<ParsePathError>();
    let param_rule = error.downcast_ref::<ParseParamError>().map(|e| param_rule(e.name, &e.reason));
    let (code, field) = if let Some(e) = error.downcast_ref::<ParseParamError>() {
        ("validation_failed", Some(e.name.to_string()))
    } else if error.is::<ParsePathError>() {
        // poem-openapi names path parameters by position ("param0"); every path of ours has one
        // parameter, `id` (a test holds us to it), so name it as the client knows it.
        ("validation_failed", Some("id".to_string()))
    } else if error.is::<ParseRequestPayloadError>() || error.is::<ContentTypeError>() {
        ("bad_request", None)
    } else {
        let code = match status {
            StatusCode::UNAUTHORIZED => "unauthenticated",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            status if status.is_server_error() => "internal",
            _ => "bad_request",
        };
        (code, None)
    };
    let response = error.into_response();
    let is_json = response
        .content_type()
        .is_some_and(|content_type| content_type.starts_with("application/json"));
    if is_json {
        return response;
    }
    let message = if let Some(rule) = param_rule {
        rule
    } else if error_is_path {
        "id in the path must be a whole number".to_string()
    } else if status.is_server_error() {
        tracing::error!(%status, cause = %message, "request failed outside a handler");
        "internal error; it has been logged".to_string()
    } else if status == StatusCode::UNAUTHORIZED {
        "a valid bearer token is required".to_string()
    } else {
        message
    };
    let body = Problem { code: code.to_string(), message, field, rows: Vec::new() };
    poem_openapi::payload::Json(body).with_status(status).into_response()
}

/// poem-openapi's words for a bad query parameter, in a client's words: "per_page must be at
/// most 500" rather than "verification failed. maximum(500, exclusive: false)".
fn param_rule(name: &str, reason: &str) -> String {
    let bound = |kind: &str| {
        reason.split(&format!("{kind}(")).nth(1).and_then(|rest| rest.split([',', ')']).next()).map(str::to_string)
    };
    if reason.contains("expects an input value") {
        format!("{name} is required")
    } else if let Some(max) = bound("maximum") {
        format!("{name} must be at most {max}")
    } else if let Some(min) = bound("minimum") {
        format!("{name} must be at least {min}")
    } else if let Some(max) = bound("maxLength") {
        format!("{name} must have at most {max} characters")
    } else {
        format!("{name} is not valid: {reason}")
    }
}

#[cfg(test)]
mod tests {
    use super::param_rule;

    #[test]
    fn parameter_rules_read_like_a_person_wrote_them() {
        assert_eq!(param_rule("per_page", "verification failed. maximum(500, exclusive: false)"), "per_page must be at most 500");
        assert_eq!(param_rule("page", "verification failed. minimum(1, exclusive: false)"), "page must be at least 1");
        assert_eq!(param_rule("from", r#"Type "string_naive-date" expects an input value."#), "from is required");
        assert_eq!(param_rule("q", "verification failed. maxLength(50)"), "q must have at most 50 characters");
    }
}
