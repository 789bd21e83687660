//! `JsonBody<T>`: a JSON request body whose parse errors name the field at fault.
//!
//! poem-openapi's own `Json<T>` reports a bad field without its name ("failed to parse Money"),
//! which leaves a client guessing. This extractor documents the same schema but parses with
//! serde and `serde_path_to_error`, so a bad request says `"field": "registered_area"`.
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    registry::{MetaMediaType, MetaRequest, Registry},
    types::Type,
};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error};

pub struct JsonBody<T>(pub T);

impl<'a, T: Type + DeserializeOwned> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType { content_type: "application/json; charset=utf-8", schema: T::schema_ref() }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let is_json = request
            .content_type()
            .and_then(|c| c.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.type_() == "application" && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json")));
        if !is_json {
            return Err(reject(Error::Invalid { field: None, message: "the body must be JSON (Content-Type: application/json)".into() }));
        }
        let bytes = <Vec<u8> as FromRequest>::from_request(request, body).await?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            reject(Error::Invalid { field: None, message: format!("the body is not valid JSON: {e}") })
        })?;
        if let Some(field) = unknown_field::<T>(&value) {
            // A misspelt field ("bill_id" for "bill_ids") must not be silently ignored: with
            // money, the default it falls back to may be the wrong thing to do.
            return Err(reject(Error::Invalid { message: format!("{field} is not a field of this request"), field: Some(field) }));
        }
        match serde_path_to_error::deserialize(value) {
            Ok(value) => Ok(JsonBody(value)),
            Err(error) => Err(reject(describe(error))),
        }
    }
}

/// The first top-level key of the body that the request's schema does not have.
fn unknown_field<T: Type>(value: &serde_json::Value) -> Option<String> {
    let serde_json::Value::Object(fields) = value else { return None };
    let mut registry = Registry::new();
    T::register(&mut registry);
    let schema = registry.schemas.get(T::name().as_ref())?;
    fields.keys().find(|key| !schema.properties.iter().any(|(name, _)| name == key)).cloned()
}

fn describe(error: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = inner.to_string();
    // serde reports a missing field on the object that lacks it: name the field itself.
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .map(|name| if path == "." { name.to_string() } else { format!("{path}.{name}") });
    let field = missing.or((path != ".").then_some(path));
    let rule = match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("the body is not valid JSON: {message}")
        }
        _ => message.split(" at line ").next().unwrap_or(&message).to_string(),
    };
    Error::Invalid { field, message: rule }
}

fn reject(error: Error) -> poem::Error {
    ApiError::from(error).into()
}
