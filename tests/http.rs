//! The HTTP edge as any client meets it: health, the OpenAPI document and docs, and the one
//! JSON problem shape for every error poem or poem-openapi raise before our handlers run.
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

const AREAS: &[&str] = &["registry", "auth", "billing", "payments", "ledger", "funds", "votes", "tickets", "notices", "audit", "jobs"];

#[tokio::test]
async fn health_checks_the_database() {
    let app = TestApp::spawn().await;
    let response = app.client.get(format!("{}/health", app.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let expected = if app.database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    assert_eq!(body["database"], expected);
}

#[tokio::test]
async fn every_operation_carries_exactly_one_area_tag() {
    let app = TestApp::spawn().await;
    let spec: serde_json::Value = app.client.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let paths = spec["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let tags = operation["tags"].as_array().unwrap_or_else(|| panic!("{method} {path} has no tags"));
            assert_eq!(tags.len(), 1, "{method} {path}: {tags:?}");
            assert!(AREAS.contains(&tags[0].as_str().unwrap()), "{method} {path}: {tags:?}");
            // Path parameters are reported as `id` in errors (see error.rs), so that must be
            // the only name a path parameter has.
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "path" {
                    assert_eq!(parameter["name"], "id", "{method} {path}");
                }
            }
            operations += 1;
        }
    }
    assert!(operations >= 20, "only {operations} operations in the spec");
    let docs = app.client.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn errors_outside_handlers_are_json_problems() {
    let app = TestApp::spawn().await;
    let token = app.admin().await;
    let url = |path: &str| format!("{}{}", app.base, path);

    // An unknown route.
    let (status, body) = app.get("/no/such/route", &token).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");

    // A method the route does not have.
    let response = app.client.delete(url("/companies")).bearer_auth(&token).send().await.unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_problem(status, &body, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");

    // Malformed JSON, and JSON with the wrong content type.
    let response = app.client.post(url("/companies")).bearer_auth(&token).header("content-type", "application/json").body("{\"name\":").send().await.unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert!(body["message"].as_str().unwrap().contains("not valid JSON"), "{body}");
    let response = app.client.post(url("/companies")).bearer_auth(&token).header("content-type", "text/plain").body("{}").send().await.unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");

    // A query parameter of the wrong type names the parameter.
    let (status, body) = app.get("/units?page=abc", &token).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "page");

    // A path id that is not a number.
    let (status, body) = app.get("/units/abc", &token).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "id");

    // A field of the wrong JSON type names the field.
    let (status, body) = app.post("/companies", &token, json!({ "name": 42 })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "name");

    // A misspelt field is named, not ignored.
    let (status, body) = app.post("/companies", &token, json!({ "name": "Gamma", "nmae": "Gamma" })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "nmae");

    // No token, and a malformed Authorization header.
    let (status, body) = app.request(reqwest::Method::GET, "/companies", None, None).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let response = app.client.get(url("/companies")).header("authorization", "Basic Zm9vOmJhcg==").send().await.unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_problem(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_parsing() {
    let app = TestApp::spawn_with(&[("WUYE_MAX_BODY_BYTES", "2048")]).await;
    let token = app.admin().await;
    let big = json!({ "name": "x".repeat(4096) });
    let (status, body) = app.post("/companies", &token, big.clone()).await;
    assert_problem(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // Sent chunked, without a Content-Length, it is refused all the same.
    let chunks: Vec<Result<String, std::io::Error>> = vec![Ok(big.to_string())];
    let response = app
        .client
        .post(format!("{}/companies", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_problem(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // Nothing was written, and the service still answers.
    let (status, companies) = app.get("/companies", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(companies, json!([]));
}
