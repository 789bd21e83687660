//! The web interface as served by the binary: the page and its assets, kept out of the OpenAPI
//! document, and the built-in gateway's checkout the owner portal pays through (off unless
//! WUYE_GATEWAY_CHECKOUT is on). The pages themselves are tested in a browser: tests/browser.
mod common;

use common::*;
use reqwest::{Method, StatusCode, redirect::Policy};
use serde_json::{Value, json};
use wuye::auth::Role;

#[tokio::test]
async fn the_page_and_its_assets_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let home = client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()["location"], "/app/");

    let page = client.get(format!("{}/app/", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    // Only the page's own scripts run; no inline script, style attribute or outside address is
    // obeyed (the browser tests fail on any violation the pages themselves would cause).
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    for directive in ["default-src 'self'", "script-src 'self';", "style-src 'self';", "object-src 'none'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{directive} missing from {policy}");
    }
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<html lang="zh-CN">"#) && html.contains("/app/assets/app.js"), "{html}");

    // Every module the shell loads (its imports and its PORTALS) is served as JavaScript.
    let shell = client.get(format!("{}/app/assets/app.js", app.base)).send().await.unwrap().text().await.unwrap();
    let modules: Vec<&str> = shell.split("'./").skip(1).filter_map(|rest| rest.split_once("'")).map(|(name, _)| name).collect();
    assert!(modules.contains(&"i18n.js") && modules.contains(&"owner.js"), "{modules:?}");
    for name in modules {
        let response = client.get(format!("{}/app/assets/{name}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert_eq!(response.headers()["content-type"], "text/javascript; charset=utf-8", "{name}");
    }
    for (name, content_type) in [("app.css", "text/css; charset=utf-8"), ("icon.svg", "image/svg+xml")] {
        let response = client.get(format!("{}/app/assets/{name}", app.base)).send().await.unwrap();
        assert_eq!((response.status(), &response.headers()["content-type"]), (StatusCode::OK, &content_type.parse().unwrap()), "{name}");
    }
    for path in ["/app/", "/app/assets/app.js", "/app/assets/app.css"] {
        let response = client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    let (status, body) = app.get("/app/assets/secrets.txt", "no token needed").await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");

    let spec: Value = client.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let web_paths: Vec<&String> = spec["paths"].as_object().unwrap().keys().filter(|p| p.starts_with("/app") || p.as_str() == "/").collect();
    assert!(web_paths.is_empty(), "the web interface is not part of the API: {web_paths:?}");
}

/// An order for one overdue bill of the tenant's flat, for a fee item of that name; returns (order, owed).
async fn order(app: &TestApp, tenant: &Tenant, fee: &str) -> (Value, String) {
    let bill = overdue_bill(app, tenant, tenant.unit_id, fee, "58.30", 5, None).await;
    let owner = tenant.token(Role::Owner);
    let (status, order) = app.post("/payment-orders", owner, json!({ "unit_id": tenant.unit_id, "bill_ids": [bill["id"]] })).await;
    assert_eq!(status, StatusCode::OK, "{order}");
    (order, bill["total_due"].as_str().unwrap().to_string())
}

async fn confirm(app: &TestApp, token: &str, order_id: &Value) -> (StatusCode, Value) {
    app.request(Method::POST, &format!("/app/gateway/checkout/{order_id}"), Some(token), None).await
}

#[tokio::test]
async fn the_checkout_is_off_unless_configured() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let (order, _) = order(&app, &tenant, "水费").await;
    let (status, body) = confirm(&app, tenant.token(Role::Owner), &order["id"]).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert!(!body["message"].as_str().unwrap().contains("WUYE_"), "owners see no setting's name: {body}");
    // The page asks first, and sends owners to the office instead.
    let (status, checkout) = app.get("/app/gateway/checkout", "no token needed").await;
    assert_eq!((status, checkout), (StatusCode::OK, json!({ "available": false })));
    let (_, still) = app.get(&format!("/payment-orders/{}", order["id"]), tenant.token(Role::Owner)).await;
    assert_eq!(still["status"], "pending", "nothing was paid: {still}");
}

#[tokio::test]
async fn the_owner_who_ordered_confirms_and_gets_a_receipt_once() {
    let app = TestApp::spawn_with(&[("WUYE_GATEWAY_CHECKOUT", "on")]).await;
    let tenant = app.tenant("Alpha").await;
    let other = app.tenant("Beta").await;
    let owner = tenant.token(Role::Owner);
    let (order, owed) = order(&app, &tenant, "水费").await;

    // Nobody else confirms it: not without a login, not another company's owner, not staff.
    let (status, body) = app.request(Method::POST, &format!("/app/gateway/checkout/{}", order["id"]), None, None).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = confirm(&app, other.token(Role::Owner), &order["id"]).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = confirm(&app, tenant.token(Role::Cashier), &order["id"]).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");

    let (_, checkout) = app.get("/app/gateway/checkout", owner).await;
    assert_eq!(checkout, json!({ "available": true }));
    // The scheme of the bearer token in any case, as the API reads it.
    let response = app
        .client
        .post(format!("{}/app/gateway/checkout/{}", app.base, order["id"]))
        .header("authorization", format!("bearer {owner}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let paid: Value = response.json().await.unwrap();
    assert_eq!(paid["status"], "paid");
    let (status, payment) = app.get(&format!("/payments/{}", paid["payment_id"]), owner).await;
    assert_eq!(status, StatusCode::OK, "{payment}");
    assert_eq!(payment["method"], "online");
    assert_eq!(payment["amount"], owed.as_str());
    assert!(payment["receipt"]["number"].as_str().is_some_and(|n| n.len() == 11), "{payment}");
    let (_, balance) = app.get(&format!("/units/{}/balance", tenant.unit_id), owner).await;
    assert_eq!(balance["owed"], "0.00", "{balance}");

    // Confirming again (a double click) is the same transaction: no second payment.
    let (status, again) = confirm(&app, owner, &order["id"]).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, json!({ "status": "already_paid", "payment_id": paid["payment_id"] }));
    let (_, payments) = app.get(&format!("/units/{}/payments", tenant.unit_id), owner).await;
    assert_eq!(payments.as_array().unwrap().len(), 1, "{payments}");
}

/// The recorded callbacks of an order: (gateway, outcome).
async fn callbacks(app: &TestApp, order_id: &Value) -> Vec<(String, String)> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    use entity::gateway_callback;
    gateway_callback::Entity::find()
        .filter(gateway_callback::Column::PaymentOrderId.eq(order_id.as_i64().unwrap()))
        .order_by_asc(gateway_callback::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.gateway, c.outcome))
        .collect()
}

#[tokio::test]
async fn confirmations_are_recorded_as_the_checkout_and_an_order_paid_otherwise_is_paid_before() {
    let secret = "a-test-secret-of-some-length";
    let app = TestApp::spawn_with(&[("WUYE_GATEWAY_CHECKOUT", "on"), ("WUYE_GATEWAY_SECRET", secret)]).await;
    let tenant = app.tenant("Alpha").await;
    let owner = tenant.token(Role::Owner);

    let (confirmed, _) = order(&app, &tenant, "水费").await;
    let (status, paid) = confirm(&app, owner, &confirmed["id"]).await;
    assert_eq!((status, paid["status"].as_str()), (StatusCode::OK, Some("paid")), "{paid}");
    assert_eq!(callbacks(&app, &confirmed["id"]).await, vec![("builtin-checkout".to_string(), "paid".to_string())]);

    // Paid through the gateway itself, then confirmed at the checkout (a page left open): the
    // order is paid before, and no one is said to have been charged twice.
    let (order, owed) = order(&app, &tenant, "电费").await;
    let body = json!({ "order_id": order["id"], "amount": owed, "transaction_id": "wx-4200001" }).to_string();
    let signature = wuye::payments::gateway::BuiltinGateway::sign(secret, body.as_bytes());
    let response = app
        .client
        .post(format!("{}/gateway/builtin/callback", app.base))
        .header("content-type", "application/octet-stream")
        .header("X-Wuye-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let by_gateway: Value = response.json().await.unwrap();
    let (status, again) = confirm(&app, owner, &order["id"]).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, json!({ "status": "already_paid", "payment_id": by_gateway["payment_id"] }));
    assert_eq!(callbacks(&app, &order["id"]).await, vec![("builtin".to_string(), "paid".to_string())]);
}

#[tokio::test]
async fn an_owner_who_sold_the_flat_confirms_nothing() {
    let app = TestApp::spawn_with(&[("WUYE_GATEWAY_CHECKOUT", "on")]).await;
    let tenant = app.tenant("Alpha").await;
    let (order, _) = order(&app, &tenant, "水费").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let (status, buyer) = app.post(&format!("/compounds/{}/owners", tenant.compound_id), boss, json!({ "name": "陈买家", "phone": "13900004444" })).await;
    assert_eq!(status, StatusCode::OK, "{buyer}");
    let sale = json!({ "date": today().to_string(), "buyers": [{ "owner_id": buyer["id"] }] });
    let (status, sold) = app.post(&format!("/units/{}/sales", tenant.unit_id), boss, sale).await;
    assert_eq!(status, StatusCode::OK, "{sold}");

    let (status, body) = confirm(&app, tenant.token(Role::Owner), &order["id"]).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert!(callbacks(&app, &order["id"]).await.is_empty(), "nothing was confirmed");
}

#[tokio::test]
async fn ordering_the_same_bills_again_comes_back_to_the_pending_order() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let owner = tenant.token(Role::Owner);
    let water = overdue_bill(&app, &tenant, tenant.unit_id, "水费", "58.30", 5, None).await;
    let power = overdue_bill(&app, &tenant, tenant.unit_id, "电费", "120.00", 5, None).await;
    let both = json!({ "unit_id": tenant.unit_id, "bill_ids": [water["id"], power["id"]] });
    let (status, first) = app.post("/payment-orders", owner, both).await;
    assert_eq!(status, StatusCode::OK, "{first}");

    // The checkout was left; paying the same bills again (in any order) is the same order.
    let (status, again) = app.post("/payment-orders", owner, json!({ "unit_id": tenant.unit_id, "bill_ids": [power["id"], water["id"]] })).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, first);

    // Part of them is another order, which would take one bill twice: refused, naming the order.
    let (status, body) = app.post("/payment-orders", owner, json!({ "unit_id": tenant.unit_id, "bill_ids": [water["id"]] })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(body["field"], "bill_ids");
    assert!(body["message"].as_str().unwrap().contains(&format!("pending payment order {}", first["id"])), "{body}");
}
