mod common;

use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn tenant_fixture_builds() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let (status, body) = app.get(&format!("/units/{}", tenant.unit_id), tenant.token(wuye::auth::Role::Manager)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["owners"][0]["owner"]["name"], "王建国");
}
