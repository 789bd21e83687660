//! Fees, bills, payments and the ledger through the HTTP API, with the numbers of the domain
//! notes: 1.20 元/m²·month x 88.60 m² = 106.32; 1,275.84 overdue 100 days at 0.03%/day = 38.28.
mod common;

use chrono::{Datelike, Duration};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wuye::auth::Role;

pub const GATEWAY_SECRET: &str = "test-gateway-secret-0123456789";

async fn ok(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, body) = app.request(method, path, Some(token), body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// The property fee of the domain notes, monthly from January 2026, with a late fee. Tests bill
/// periods in 2099 so that no late fee has run yet, whatever day they run on.
async fn property_fee(app: &TestApp, tenant: &Tenant) -> i64 {
    let item = ok(
        app,
        reqwest::Method::POST,
        &format!("/compounds/{}/fee-items", tenant.compound_id),
        tenant.token(Role::Manager),
        Some(json!({
            "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "due_days": 15,
            "late_fee": { "daily_rate": "0.0003" }, "effective_from": "2026-01"
        })),
    )
    .await;
    item["id"].as_i64().unwrap()
}

async fn bills(app: &TestApp, token: &str, unit_id: i64) -> Vec<Value> {
    ok(app, reqwest::Method::GET, &format!("/units/{unit_id}/bills"), token, None).await.as_array().unwrap().clone()
}

async fn verification(app: &TestApp, tenant: &Tenant) -> Value {
    ok(app, reqwest::Method::GET, &format!("/compounds/{}/ledger/verification", tenant.compound_id), tenant.token(Role::Committee), None).await
}

#[tokio::test]
async fn bill_run_previews_then_bills_each_unit_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    property_fee(&app, &tenant).await;
    let manager = tenant.token(Role::Manager);
    let runs = format!("/compounds/{}/bill-runs", tenant.compound_id);

    // 88.60 m² -> 106.32; the developer's 72.35 m² (surveyed) -> 86.82.
    let preview = ok(&app, reqwest::Method::POST, &runs, manager, Some(json!({ "period": "2099-11", "preview": true }))).await;
    assert_eq!((preview["bills_created"].as_u64(), preview["total"].as_str()), (Some(2), Some("193.14")), "{preview}");
    assert_eq!(preview["bill_run_id"], Value::Null);
    assert!(bills(&app, manager, tenant.unit_id).await.is_empty(), "a preview writes nothing");

    let run = ok(&app, reqwest::Method::POST, &runs, manager, Some(json!({ "period": "2099-11" }))).await;
    assert_eq!((run["bills_created"].as_u64(), run["total"].as_str()), (Some(2), Some("193.14")), "{run}");
    let again = ok(&app, reqwest::Method::POST, &runs, manager, Some(json!({ "period": "2099-11" }))).await;
    assert_eq!((again["bills_created"].as_u64(), again["already_billed"].as_u64(), again["total"].as_str()), (Some(0), Some(2), Some("0.00")));

    let owned = bills(&app, tenant.token(Role::Owner), tenant.unit_id).await;
    assert_eq!(owned.len(), 1);
    assert_eq!((owned[0]["amount"].as_str(), owned[0]["payer"].as_str(), owned[0]["due_date"].as_str()), (Some("106.32"), Some("owner"), Some("2099-11-16")));
    let held = bills(&app, manager, tenant.developer_unit_id).await;
    assert_eq!((held[0]["amount"].as_str(), held[0]["payer"].as_str()), (Some("86.82"), Some("developer")));

    // A unit added later is billed by a rerun, alone.
    let (_, unit) = app
        .post(&format!("/stairwells/{}/units", tenant.stairwell_id), manager, json!({ "floor": 4, "number": "401", "unit_use": "residential", "registered_area": "100.00" }))
        .await;
    let rerun = ok(&app, reqwest::Method::POST, &runs, manager, Some(json!({ "period": "2099-11" }))).await;
    assert_eq!((rerun["bills_created"].as_u64(), rerun["total"].as_str()), (Some(1), Some("120.00")));
    assert_eq!(bills(&app, manager, unit["id"].as_i64().unwrap()).await.len(), 1);

    let history = ok(&app, reqwest::Method::GET, &runs, manager, None).await;
    let created: Vec<i64> = history.as_array().unwrap().iter().map(|r| r["bills_created"].as_i64().unwrap()).collect();
    assert_eq!(created, vec![1, 0, 2], "every run is recorded, newest first");

    let verified = verification(&app, &tenant).await;
    assert_eq!(verified["intact"], true, "{verified}");
    let receivable = verified["trial_balance"].as_array().unwrap().iter().find(|a| a["code"] == "1122").unwrap();
    assert_eq!(receivable["debit"], "313.14");
}

#[tokio::test]
async fn late_fee_of_the_domain_notes_through_the_api() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    // A one-off 1,275.84 bill that fell due 100 days ago.
    let due = today() - Duration::days(100);
    let manager = tenant.token(Role::Manager);
    ok(
        &app,
        reqwest::Method::POST,
        &format!("/compounds/{}/fee-items", tenant.compound_id),
        manager,
        Some(json!({
            "name": "维修分摊", "kind": "fixed", "amount": "1275.84", "cycle": "one_off", "due_days": due.day() - 1,
            "scope": "units", "scope_ids": [tenant.unit_id],
            "late_fee": { "daily_rate": "0.0003" }, "effective_from": period_of(due)
        })),
    )
    .await;
    ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", tenant.compound_id), manager, Some(json!({ "period": period_of(due) }))).await;
    let bill = &bills(&app, tenant.token(Role::Owner), tenant.unit_id).await[0];
    assert_eq!(bill["due_date"].as_str(), Some(due.to_string().as_str()));
    assert_eq!((bill["late_fee"].as_str(), bill["status"].as_str(), bill["total_due"].as_str()), (Some("38.28"), Some("overdue"), Some("1314.12")), "{bill}");

    // A waiver of part of the late fee, with a reason, lowers what is owed.
    let bill_id = bill["id"].as_i64().unwrap();
    let waived = ok(
        &app,
        reqwest::Method::POST,
        &format!("/bills/{bill_id}/adjustments"),
        manager,
        Some(json!({ "kind": "late_fee_waiver", "amount": "8.28", "reason": "业主困难 hardship" })),
    )
    .await;
    assert_eq!((waived["bill"]["late_fee"].as_str(), waived["bill"]["late_fee_waived"].as_str()), (Some("30.00"), Some("8.28")));
    assert_eq!(waived["adjustments"][0]["reason"], "业主困难 hardship");

    // Paying everything pays the late fee first (Art. 561), then the principal.
    let paid = ok(
        &app,
        reqwest::Method::POST,
        &format!("/units/{}/payments", tenant.unit_id),
        tenant.token(Role::Cashier),
        Some(json!({ "method": "bank_transfer", "amount": "1305.84" })),
    )
    .await;
    assert_eq!(paid["allocations"], json!([{ "bill_id": bill_id, "principal": "1275.84", "late_fee": "30.00" }]));
    let after = &bills(&app, tenant.token(Role::Owner), tenant.unit_id).await[0];
    assert_eq!((after["status"].as_str(), after["total_due"].as_str()), (Some("paid"), Some("0.00")));
    // The owner's statement shows the late fee charged and the whole payment, and closes at zero.
    let statement = ok(&app, reqwest::Method::GET, &format!("/units/{}/statement?from={}&to={}", tenant.unit_id, today(), today()), tenant.token(Role::Owner), None).await;
    let moves: Vec<(&str, &str)> = statement["lines"].as_array().unwrap().iter().map(|l| (l["kind"].as_str().unwrap(), l["amount"].as_str().unwrap())).collect();
    assert_eq!(moves, vec![("bill_run", "1275.84"), ("late_fee", "30.00"), ("payment", "-1305.84")]);
    assert_eq!(statement["closing_balance"], "0.00");
    let verified = verification(&app, &tenant).await;
    assert_eq!(verified["intact"], true, "{verified}");
    let late = verified["trial_balance"].as_array().unwrap().iter().find(|a| a["code"] == "6051").unwrap();
    assert_eq!(late["credit"], "30.00", "late fees are revenue when collected");
}

#[tokio::test]
async fn desk_payments_allocate_receipt_and_keep_the_change_as_prepaid() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    property_fee(&app, &tenant).await;
    let manager = tenant.token(Role::Manager);
    let cashier = tenant.token(Role::Cashier);
    for period in ["2099-10", "2099-11"] {
        ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", tenant.compound_id), manager, Some(json!({ "period": period }))).await;
    }
    let pay = format!("/units/{}/payments", tenant.unit_id);

    // 150.00 against two bills of 106.32: the older one first, the rest to the newer.
    let first = ok(&app, reqwest::Method::POST, &pay, cashier, Some(json!({ "method": "cash", "amount": "150.00" }))).await;
    let open = bills(&app, cashier, tenant.unit_id).await;
    assert_eq!(first["allocations"].as_array().unwrap().len(), 2);
    assert_eq!(first["allocations"][0]["bill_id"], open[0]["id"]);
    assert_eq!(first["allocations"][0]["principal"], "106.32");
    assert_eq!(first["allocations"][1]["principal"], "43.68");
    assert_eq!(first["to_prepaid"], "0.00");
    let year = today().year();
    assert_eq!(first["receipt"]["number"], format!("{year}-000001"));

    // Overpaying leaves a prepaid balance; the next receipt has the next number.
    let second = ok(&app, reqwest::Method::POST, &pay, cashier, Some(json!({ "method": "pos", "amount": "100.00" }))).await;
    assert_eq!((second["to_prepaid"].as_str(), second["receipt"]["number"].as_str()), (Some("37.36"), Some(format!("{year}-000002").as_str())));
    let balance = ok(&app, reqwest::Method::GET, &format!("/units/{}/balance", tenant.unit_id), tenant.token(Role::Owner), None).await;
    assert_eq!((balance["owed"].as_str(), balance["prepaid"].as_str()), (Some("0.00"), Some("37.36")));

    // The prepaid balance draws on next month's bill.
    ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", tenant.compound_id), manager, Some(json!({ "period": "2099-12" }))).await;
    let applied = ok(&app, reqwest::Method::POST, &format!("/compounds/{}/prepaid-applications", tenant.compound_id), manager, None).await;
    assert_eq!(applied["units"], 1);
    let balance = ok(&app, reqwest::Method::GET, &format!("/units/{}/balance", tenant.unit_id), cashier, None).await;
    assert_eq!((balance["owed"].as_str(), balance["prepaid"].as_str()), (Some("68.96"), Some("0.00")));

    // A bounced transfer: reversing the first payment reopens its bills and voids its receipt,
    // which keeps its number.
    let reversed = ok(
        &app,
        reqwest::Method::POST,
        &format!("/payments/{}/reversal", first["id"]),
        manager,
        Some(json!({ "reason": "转账退回 bounced" })),
    )
    .await;
    assert_eq!(reversed["status"], "reversed");
    assert_eq!(reversed["receipt"]["number"], format!("{year}-000001"));
    assert!(reversed["receipt"]["voided_at"].is_string());
    let balance = ok(&app, reqwest::Method::GET, &format!("/units/{}/balance", tenant.unit_id), cashier, None).await;
    assert_eq!(balance["owed"], "218.96");
    let third = ok(&app, reqwest::Method::POST, &pay, cashier, Some(json!({ "method": "cash", "amount": "250.00" }))).await;
    assert_eq!(third["receipt"]["number"], format!("{year}-000003"));
    assert_eq!(third["to_prepaid"], "31.04");

    // Refunds of prepaid balance, never beyond it.
    let refund = format!("/units/{}/refunds", tenant.unit_id);
    let refunded = ok(&app, reqwest::Method::POST, &refund, cashier, Some(json!({ "amount": "30.00", "method": "cash", "reason": "业主要求" }))).await;
    assert_eq!(refunded["prepaid_balance"], "1.04");
    let (status, body) = app.post(&refund, cashier, json!({ "amount": "1.05", "method": "cash", "reason": "x" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");

    let verified = verification(&app, &tenant).await;
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(verified["total_debits"], verified["total_credits"]);
}

#[tokio::test]
async fn bad_money_input_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let beta = app.tenant("Beta").await;
    property_fee(&app, &tenant).await;
    property_fee(&app, &beta).await;
    for t in [&tenant, &beta] {
        ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", t.compound_id), t.token(Role::Manager), Some(json!({ "period": "2099-11" }))).await;
    }
    let cashier = tenant.token(Role::Cashier);
    let own_bill = bills(&app, cashier, tenant.unit_id).await[0]["id"].as_i64().unwrap();
    let developer_bill = bills(&app, cashier, tenant.developer_unit_id).await[0]["id"].as_i64().unwrap();
    let foreign_bill = bills(&app, beta.token(Role::Cashier), beta.unit_id).await[0]["id"].as_i64().unwrap();
    let pay = format!("/units/{}/payments", tenant.unit_id);
    let cases = [
        (json!({ "method": "cash", "amount": "0" }), StatusCode::BAD_REQUEST, Some("amount")),
        (json!({ "method": "cash", "amount": "-5.00" }), StatusCode::BAD_REQUEST, Some("amount")),
        (json!({ "method": "cash", "amount": "1.001" }), StatusCode::BAD_REQUEST, Some("amount")),
        (json!({ "method": "cash", "amount": 10.5 }), StatusCode::BAD_REQUEST, Some("amount")),
        (json!({ "method": "cheque", "amount": "10.00" }), StatusCode::BAD_REQUEST, Some("method")),
        (json!({ "method": "online", "amount": "10.00" }), StatusCode::BAD_REQUEST, Some("method")),
        (json!({ "method": "cash", "amount": "10.00", "bill_ids": [999999] }), StatusCode::BAD_REQUEST, Some("bill_ids")),
        (json!({ "method": "cash", "amount": "10.00", "bill_ids": [developer_bill] }), StatusCode::BAD_REQUEST, Some("bill_ids")),
        (json!({ "method": "cash", "amount": "10.00", "bill_ids": [foreign_bill] }), StatusCode::BAD_REQUEST, Some("bill_ids")),
        (json!({ "method": "cash", "amount": "10.00", "bill_ids": [own_bill, own_bill] }), StatusCode::BAD_REQUEST, Some("bill_ids")),
    ];
    for (body, expected, field) in cases {
        let (status, answer) = app.post(&pay, cashier, body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["field"].as_str(), field, "{body}: {answer}");
    }
    let (status, answer) = app.post(&format!("/compounds/{}/bill-runs", tenant.compound_id), tenant.token(Role::Manager), json!({ "period": "2026-13" })).await;
    assert_eq!((status, answer["field"].as_str()), (StatusCode::BAD_REQUEST, Some("period")), "{answer}");
    // Another company's unit is not found.
    let (status, _) = app.post(&format!("/units/{}/payments", beta.unit_id), cashier, json!({ "method": "cash", "amount": "10.00" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nothing was written: no payment, and a fully paid bill cannot be paid again.
    assert!(ok(&app, reqwest::Method::GET, &pay, cashier, None).await.as_array().unwrap().is_empty());
    ok(&app, reqwest::Method::POST, &pay, cashier, Some(json!({ "method": "cash", "amount": "106.32", "bill_ids": [own_bill] }))).await;
    let (status, answer) = app.post(&pay, cashier, json!({ "method": "cash", "amount": "1.00", "bill_ids": [own_bill] })).await;
    assert_eq!((status, answer["field"].as_str()), (StatusCode::CONFLICT, Some("bill_ids")), "{answer}");
    assert_eq!(verification(&app, &tenant).await["intact"], true);
}

#[tokio::test]
async fn a_retried_payment_with_the_same_idempotency_key_moves_money_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    property_fee(&app, &tenant).await;
    ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", tenant.compound_id), tenant.token(Role::Manager), Some(json!({ "period": "2099-11" }))).await;
    let cashier = tenant.token(Role::Cashier);
    let pay = format!("{}/units/{}/payments", app.base, tenant.unit_id);
    let send = |key: &'static str, amount: &'static str| {
        app.client.post(&pay).bearer_auth(cashier).header("Idempotency-Key", key).json(&json!({ "method": "cash", "amount": amount })).send()
    };
    let first: Value = send("desk-7-0001", "150.00").await.unwrap().json().await.unwrap();
    assert_eq!((first["allocations"][0]["principal"].as_str(), first["to_prepaid"].as_str()), (Some("106.32"), Some("43.68")), "{first}");
    // The first answer is built from what was written, a retry's is read back: the same.
    let retry: Value = send("desk-7-0001", "150.00").await.unwrap().json().await.unwrap();
    assert_eq!(first, retry);
    let stored = ok(&app, reqwest::Method::GET, &format!("/payments/{}", first["id"]), cashier, None).await;
    assert_eq!(first, stored);
    let reused = send("desk-7-0001", "60.00").await.unwrap();
    assert_eq!(reused.status(), StatusCode::CONFLICT);
    let balance = ok(&app, reqwest::Method::GET, &format!("/units/{}/balance", tenant.unit_id), cashier, None).await;
    assert_eq!((balance["owed"].as_str(), balance["prepaid"].as_str()), (Some("0.00"), Some("43.68")), "one payment, not two");
}

#[tokio::test]
async fn fifty_concurrent_payments_never_overpay_a_bill() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    property_fee(&app, &tenant).await;
    ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", tenant.compound_id), tenant.token(Role::Manager), Some(json!({ "period": "2099-11" }))).await;
    let bill_id = bills(&app, tenant.token(Role::Cashier), tenant.unit_id).await[0]["id"].as_i64().unwrap();
    let pay = format!("/units/{}/payments", tenant.unit_id);
    let cashier = tenant.token(Role::Cashier).to_string();
    let attempts = (0..50).map(|_| app.post(&pay, &cashier, json!({ "method": "cash", "amount": "10.00", "bill_ids": [bill_id] })));
    let results = futures_util::future::join_all(attempts).await;
    let accepted = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    for (status, body) in &results {
        assert!(*status == StatusCode::OK || *status == StatusCode::CONFLICT, "{status}: {body}");
    }
    // 106.32 takes eleven payments of 10.00 (the eleventh leaves 3.68 prepaid); the rest find it paid.
    assert_eq!(accepted, 11);
    let bill = &bills(&app, &cashier, tenant.unit_id).await[0];
    assert_eq!((bill["paid"].as_str(), bill["status"].as_str()), (Some("106.32"), Some("paid")));
    let balance = ok(&app, reqwest::Method::GET, &format!("/units/{}/balance", tenant.unit_id), &cashier, None).await;
    assert_eq!(balance["prepaid"], "3.68");
    let numbers: std::collections::BTreeSet<String> =
        results.iter().filter(|(s, _)| *s == StatusCode::OK).map(|(_, b)| b["receipt"]["number"].as_str().unwrap().to_string()).collect();
    assert_eq!(numbers.len(), 11, "receipt numbers are distinct and without gaps");
    assert!(numbers.iter().all(|n| n.ends_with(&format!("{:06}", n[5..].parse::<u32>().unwrap()))));
    assert_eq!(numbers.iter().map(|n| n[5..].parse::<u32>().unwrap()).max(), Some(11));
    assert_eq!(verification(&app, &tenant).await["intact"], true);
}

#[tokio::test]
async fn online_payment_through_the_signed_gateway_callback() {
    let app = TestApp::spawn_with(&[("WUYE_GATEWAY_SECRET", GATEWAY_SECRET)]).await;
    let tenant = app.tenant("Alpha").await;
    property_fee(&app, &tenant).await;
    ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", tenant.compound_id), tenant.token(Role::Manager), Some(json!({ "period": "2099-11" }))).await;
    let owner = tenant.token(Role::Owner);
    let bill_id = bills(&app, owner, tenant.unit_id).await[0]["id"].as_i64().unwrap();
    let order = ok(&app, reqwest::Method::POST, "/payment-orders", owner, Some(json!({ "unit_id": tenant.unit_id, "bill_ids": [bill_id] }))).await;
    assert_eq!((order["amount"].as_str(), order["status"].as_str()), (Some("106.32"), Some("pending")));
    // An owner cannot order another unit's bills.
    let (status, _) = app.post("/payment-orders", owner, json!({ "unit_id": tenant.developer_unit_id, "bill_ids": [bill_id] })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let callback = |body: String, signature: String| {
        app.client
            .post(format!("{}/gateway/builtin/callback", app.base))
            .header("content-type", "application/octet-stream")
            .header("X-Wuye-Signature", signature)
            .body(body)
            .send()
    };
    let sign = |body: &str| wuye::payments::gateway::BuiltinGateway::sign(GATEWAY_SECRET, body.as_bytes());
    let paid_body = json!({ "order_id": order["id"], "amount": "106.32", "transaction_id": "wx-1" }).to_string();

    // The same bill twice in one order is refused (it would ask for twice the bill).
    let (status, body) = app.post("/payment-orders", owner, json!({ "unit_id": tenant.unit_id, "bill_ids": [bill_id, bill_id] })).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("bill_ids")), "{body}");

    // Forged, and wrong amount: refused, nothing paid.
    let forged = callback(paid_body.clone(), sign("something else")).await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let short = json!({ "order_id": order["id"], "amount": "1.00", "transaction_id": "wx-1" }).to_string();
    let refused = callback(short.clone(), sign(&short)).await.unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(bills(&app, owner, tenant.unit_id).await[0]["status"], "open");

    // Genuine: paid once; a replay is a no-op answering the same payment.
    let first: Value = callback(paid_body.clone(), sign(&paid_body)).await.unwrap().json().await.unwrap();
    assert_eq!(first["status"], "paid", "{first}");
    let replay: Value = callback(paid_body.clone(), sign(&paid_body)).await.unwrap().json().await.unwrap();
    assert_eq!((replay["status"].as_str(), &replay["payment_id"]), (Some("already_paid"), &first["payment_id"]));
    assert_eq!(bills(&app, owner, tenant.unit_id).await[0]["status"], "paid");
    // Another transaction for the paid order is the owner charged twice: refused, not booked.
    let twice = json!({ "order_id": order["id"], "amount": "106.32", "transaction_id": "wx-2" }).to_string();
    let second = callback(twice.clone(), sign(&twice)).await.unwrap();
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let payments = ok(&app, reqwest::Method::GET, &format!("/units/{}/payments", tenant.unit_id), owner, None).await;
    assert_eq!(payments.as_array().unwrap().len(), 1);
    assert_eq!(payments[0]["method"], "online");
    let clearing = verification(&app, &tenant).await["trial_balance"].as_array().unwrap().iter().find(|a| a["code"] == "1012").cloned().unwrap();
    assert_eq!(clearing["debit"], "106.32");
}

#[tokio::test]
async fn the_statement_and_its_csv_trace_every_movement() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    property_fee(&app, &tenant).await;
    ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", tenant.compound_id), tenant.token(Role::Manager), Some(json!({ "period": "2099-11" }))).await;
    ok(&app, reqwest::Method::POST, &format!("/units/{}/payments", tenant.unit_id), tenant.token(Role::Cashier), Some(json!({ "method": "cash", "amount": "200.00" }))).await;
    let (from, to) = (today() - Duration::days(1), today());
    let owner = tenant.token(Role::Owner);
    let statement = ok(&app, reqwest::Method::GET, &format!("/units/{}/statement?from={from}&to={to}", tenant.unit_id), owner, None).await;
    assert_eq!(statement["opening_balance"], "0.00");
    let amounts: Vec<&str> = statement["lines"].as_array().unwrap().iter().map(|l| l["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, vec!["106.32", "-200.00"]);
    assert_eq!(statement["closing_balance"], "-93.68", "in credit by the prepaid 93.68");

    let csv = app.client.get(format!("{}/units/{}/statement.csv?from={from}&to={to}", app.base, tenant.unit_id)).bearer_auth(owner).send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let bytes = csv.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.contains("期末余额") && text.contains("-93.68") && text.contains("106.32"), "{text}");

    // Another owner's statement is not theirs to read.
    let (status, _) = app.get(&format!("/units/{}/statement?from={from}&to={to}", tenant.developer_unit_id), owner).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn common_area_income_is_the_owners_never_company_revenue() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let path = format!("/compounds/{}/common-income", tenant.compound_id);
    ok(
        &app,
        reqwest::Method::POST,
        &path,
        tenant.token(Role::Cashier),
        Some(json!({ "source": "elevator_ads", "description": "电梯广告 2026 Q4", "amount": "3600.00", "received_on": "2026-11-20", "method": "bank_transfer" })),
    )
    .await;
    let listed = ok(&app, reqwest::Method::GET, &path, tenant.token(Role::Committee), None).await;
    assert_eq!((listed[0]["amount"].as_str(), listed[0]["source"].as_str()), (Some("3600.00"), Some("elevator_ads")));
    let totals = verification(&app, &tenant).await["trial_balance"].as_array().unwrap().clone();
    let credit_of = |code: &str| totals.iter().find(|a| a["code"] == code).map(|a| a["credit"].as_str().unwrap().to_string());
    assert_eq!(credit_of("2241").as_deref(), Some("3600.00"));
    assert_eq!(credit_of("6001"), None, "no company revenue from common parts");
}

#[tokio::test]
async fn ledger_verify_names_the_entry_an_edit_behind_our_back_broke() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    property_fee(&app, &tenant).await;
    ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", tenant.compound_id), tenant.token(Role::Manager), Some(json!({ "period": "2099-11" }))).await;
    let paid = ok(&app, reqwest::Method::POST, &format!("/units/{}/payments", tenant.unit_id), tenant.token(Role::Cashier), Some(json!({ "method": "cash", "amount": "106.32" }))).await;
    ok(&app, reqwest::Method::POST, &format!("/units/{}/payments", tenant.unit_id), tenant.token(Role::Cashier), Some(json!({ "method": "cash", "amount": "5.00" }))).await;

    let verify = |url: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wuye")).args(["ledger", "verify"]).env("WUYE_DATABASE_URL", url).output().unwrap()
    };
    let url = app.database_url.clone();
    let clean = tokio::task::spawn_blocking(move || verify(url)).await.unwrap();
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stdout));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("intact"));

    // Someone with database access lowers the cash of the first payment by a yuan.
    let entry = paid["journal_entry_id"].as_i64().unwrap();
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::{Expr, ExprTrait}};
    lift_append_only_guard(&db, "journal_lines").await;
    entity::journal_line::Entity::update_many()
        .col_expr(entity::journal_line::Column::Debit, Expr::col(entity::journal_line::Column::Debit).sub(100))
        .filter(entity::journal_line::Column::EntryId.eq(entry))
        .filter(entity::journal_line::Column::Debit.gt(0))
        .exec(&db)
        .await
        .unwrap();
    db.close().await.unwrap();

    let report = verification(&app, &tenant).await;
    assert_eq!(report["intact"], false);
    assert_eq!(report["first_break"]["entry_id"], entry, "{report}");
    let url = app.database_url.clone();
    let broken = tokio::task::spawn_blocking(move || verify(url)).await.unwrap();
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stdout).contains(&format!("BROKEN at entry {entry}")), "{}", String::from_utf8_lossy(&broken.stdout));
}

#[tokio::test]
async fn after_a_sale_the_buyer_sees_only_their_own_periods_and_the_seller_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    property_fee(&app, &tenant).await;
    let manager = tenant.token(Role::Manager);
    // Last month's bill is the seller's; a bill of a later period will be the buyer's.
    let last_month = period_of(today().with_day(1).unwrap() - Duration::days(1));
    for period in [last_month.as_str(), "2099-11"] {
        ok(&app, reqwest::Method::POST, &format!("/compounds/{}/bill-runs", tenant.compound_id), manager, Some(json!({ "period": period }))).await;
    }
    let seller = tenant.token(Role::Owner).to_string();
    let october = bills(&app, &seller, tenant.unit_id).await[0]["id"].as_i64().unwrap();

    // 赵丽 buys the flat today and gets a login.
    let boss = tenant.token(Role::CompanyAdmin);
    let buyer = ok(&app, reqwest::Method::POST, &format!("/compounds/{}/owners", tenant.compound_id), boss, Some(json!({ "name": "赵丽", "phone": "13900009999" }))).await;
    let sale = json!({ "date": today().to_string(), "buyers": [{ "owner_id": buyer["id"] }] });
    ok(&app, reqwest::Method::POST, &format!("/units/{}/sales", tenant.unit_id), boss, Some(sale)).await;
    let login = json!({ "role": "owner", "name": "赵丽", "email": "zhaoli@alpha.test", "password": PASSWORD, "owner_ids": [buyer["id"]] });
    ok(&app, reqwest::Method::POST, "/users", boss, Some(login)).await;
    let buyer_token = app.token("zhaoli@alpha.test").await;

    // Last month's bill is the seller's arrears: the buyer sees only the later one, and cannot pay it.
    let seen: Vec<String> = bills(&app, &buyer_token, tenant.unit_id).await.iter().map(|b| b["period"].as_str().unwrap().to_string()).collect();
    assert_eq!(seen, vec!["2099-11"]);
    let (status, _) = app.get(&format!("/bills/{october}"), &buyer_token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app.post("/payment-orders", &buyer_token, json!({ "unit_id": tenant.unit_id, "bill_ids": [october] })).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("bill_ids")), "{body}");

    // The seller no longer reaches the flat's money; staff still see all of it.
    let (status, _) = app.get(&format!("/units/{}/bills", tenant.unit_id), &seller).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(bills(&app, tenant.token(Role::Cashier), tenant.unit_id).await.len(), 2);
}

#[tokio::test]
async fn fee_items_refuse_fields_that_do_not_apply_absurd_rates_and_twins() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let path = format!("/compounds/{}/fee-items", tenant.compound_id);
    let manager = tenant.token(Role::Manager);
    property_fee(&app, &tenant).await;
    let base = json!({ "name": "停车费", "kind": "fixed", "amount": "150.00", "cycle": "monthly", "effective_from": "2026-01" });
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases = [
        (with("rate", json!("1.20")), StatusCode::BAD_REQUEST, "rate"),
        (with("split", json!("area")), StatusCode::BAD_REQUEST, "split"),
        (with("late_fee", json!({ "daily_rate": "0.5" })), StatusCode::BAD_REQUEST, "late_fee.daily_rate"),
        (with("name", json!("物业费")), StatusCode::CONFLICT, "name"),
    ];
    for (body, expected, field) in cases {
        let (status, answer) = app.post(&path, manager, body.clone()).await;
        assert_eq!((status, answer["field"].as_str()), (expected, Some(field)), "{body}: {answer}");
    }
    let listed = ok(&app, reqwest::Method::GET, &path, manager, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "nothing written");
    ok(&app, reqwest::Method::POST, &path, manager, Some(base)).await;
}
