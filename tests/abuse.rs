//! Abuse and bad input, as a careless client or an attacker sends it. Whatever arrives, the
//! answer is a clear 4xx JSON problem (naming the field or parameter at fault) or the input is
//! taken literally; never a 5xx, never a partial write; and the service stays up.
//!
//! 1. Bodies over the configured limit (a CSV import, a photo, announced or chunked): 413.
//! 2. JSON nested 10,000 deep: 400, no stack overflow.
//! 3. Invalid UTF-8 in a JSON body, a CSV import, a query string and a header: 4xx.
//! 4. SQL and HTML injection strings in every text field of every JSON request body of the
//!    OpenAPI document, one field at a time (`INJECTIONS`, `valid_request`): refused naming the
//!    field, or stored literally with exactly the rows a harmless value writes, no table dropped.
//! 5. HTML in a notice comes back escaped in its `body_html`.
//! 6. Huge page sizes and offsets on every paginated list of the document: 400 naming the parameter.
//! 7. NUL and other control characters in every free-text query parameter of the document's
//!    reads (GET; the one such parameter of a write, an attachment's filename, is checked like a
//!    body field): 400 naming the parameter; in the gateway's callback body: refused, and the
//!    callback kept.
mod common;

use std::collections::BTreeMap;

use common::{fixtures::*, *};
use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use wuye::auth::Role::{self, *};

// ---------------------------------------------------------------------------------------------
// What the database holds
// ---------------------------------------------------------------------------------------------

/// Every table of the database and its row count (the staff action log: its changes made).
async fn table_counts(app: &TestApp) -> BTreeMap<String, i64> {
    let db = &app.db;
    let list = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    };
    let tables: Vec<String> = db
        .query_all_raw(wuye::db::statement(db, list, vec![]))
        .await
        .expect("list the tables")
        .iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect();
    // The staff action log records every attempt, refused ones too (with their 4xx answer):
    // what counts there are the changes it says were made, or may have been.
    let rows_of = |t: &str| if t == "staff_actions" { " WHERE status IS NULL OR status < 400" } else { "" };
    let counts = tables.iter().map(|t| format!("SELECT '{t}' AS name, COUNT(*) AS n FROM \"{t}\"{}", rows_of(t))).collect::<Vec<_>>().join(" UNION ALL ");
    db.query_all_raw(wuye::db::statement(db, &counts, vec![]))
        .await
        .expect("count the rows")
        .iter()
        .map(|row| (row.try_get::<String>("", "name").unwrap(), row.try_get::<i64>("", "n").unwrap()))
        .collect()
}

/// The tables whose row count changed, and by how much. A table that disappeared shows as
/// `None`.
fn changes(before: &BTreeMap<String, i64>, after: &BTreeMap<String, i64>) -> BTreeMap<String, Option<i64>> {
    before
        .iter()
        .filter_map(|(table, n)| match after.get(table) {
            Some(m) if m == n => None,
            Some(m) => Some((table.clone(), Some(m - n))),
            None => Some((table.clone(), None)),
        })
        .collect()
}

async fn assert_alive(app: &TestApp) {
    let response = app.client.get(format!("{}/health", app.base)).send().await.expect("the service answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
}

/// Sends raw bytes with a content type, optionally chunked (no Content-Length).
async fn send_bytes(app: &TestApp, path: &str, token: &str, content_type: &str, bytes: Vec<u8>, chunked: bool) -> (StatusCode, Value) {
    let body = if chunked {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(1024).map(|c| Ok(c.to_vec())).collect();
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
    } else {
        reqwest::Body::from(bytes)
    };
    let response = app.client.post(format!("{}{path}", app.base)).bearer_auth(token).header("content-type", content_type).body(body).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

// ---------------------------------------------------------------------------------------------
// 1-3. Oversized bodies, deep JSON, invalid UTF-8
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bodies_over_the_limit_are_refused_whatever_their_type() {
    let app = TestApp::spawn_with(&[("WUYE_MAX_BODY_BYTES", "4096")]).await;
    let t = app.tenant("Big").await;
    let manager = t.token(Manager);
    let (status, ticket) = app
        .post("/tickets", t.token(Owner), json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "description": "漏水" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let mut csv = String::from("building,stairwell,number,floor,use,registered_area\n");
    for n in 0..200 {
        csv.push_str(&format!("9栋,1单元,{n},1,住宅,50.00\n"));
    }
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0];
    photo.resize(5000, 0);
    let import = format!("/compounds/{}/import", t.compound_id);
    let photos = format!("/tickets/{}/photos", ticket["id"]);
    let before = table_counts(&app).await;
    for chunked in [false, true] {
        let (status, body) = send_bytes(&app, &import, manager, "application/octet-stream", csv.clone().into_bytes(), chunked).await;
        assert_problem(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        let (status, body) = send_bytes(&app, &photos, manager, "image/jpeg", photo.clone(), chunked).await;
        assert_problem(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        let big = json!({ "name": "x".repeat(5000) }).to_string().into_bytes();
        let (status, body) = send_bytes(&app, &format!("/compounds/{}/buildings", t.compound_id), manager, "application/json", big, chunked).await;
        assert_problem(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
    assert_eq!(changes(&before, &table_counts(&app).await), BTreeMap::new(), "nothing is written");
    assert_alive(&app).await;
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let arrays = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let objects = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let in_a_field = format!("{{\"name\": {arrays}}}");
    let before = table_counts(&app).await;
    for body in [&arrays, &objects, &in_a_field] {
        let (status, problem) = send_bytes(&app, "/companies", &admin, "application/json", body.clone().into_bytes(), false).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
    }
    assert_eq!(changes(&before, &table_counts(&app).await), BTreeMap::new(), "nothing is written");
    // The gateway's callback reads its body itself, and keeps every callback it is sent,
    // whatever its outcome: that one row, and nothing else.
    let (status, problem) = send_bytes(&app, "/gateway/builtin/callback", &admin, "application/octet-stream", arrays.into_bytes(), false).await;
    assert!(status.is_client_error(), "{status} {problem}");
    assert!(problem["code"].is_string(), "{problem}");
    assert_eq!(changes(&before, &table_counts(&app).await), BTreeMap::from([("gateway_callbacks".to_string(), Some(1))]));
    assert_alive(&app).await;
}

#[tokio::test]
async fn invalid_utf8_is_refused_in_bodies_files_queries_and_headers() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Bytes").await;
    let manager = t.token(Manager);
    let before = table_counts(&app).await;

    let mut json_body = b"{\"name\": \"1".to_vec();
    json_body.extend_from_slice(&[0xFF, 0xFE, 0xC0]);
    json_body.extend_from_slice("栋\"}".as_bytes());
    let (status, problem) = send_bytes(&app, &format!("/compounds/{}/buildings", t.compound_id), manager, "application/json", json_body, false).await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");

    // Neither UTF-8 nor GBK: the file is refused as a whole, naming it.
    let mut csv = b"building,stairwell,number,floor,use,registered_area\n9".to_vec();
    csv.extend_from_slice(&[0xFF, 0xFF, 0x80]);
    csv.extend_from_slice(b",1,101,1,residential,50.00\n");
    let (status, problem) = send_bytes(&app, &format!("/compounds/{}/import", t.compound_id), manager, "application/octet-stream", csv, false).await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(problem["field"], "file", "{problem}");

    // A percent-encoded query that is not UTF-8 is read as the text it decodes to (U+FFFD),
    // which matches nothing.
    let (status, units) = app.get(&format!("/units?compound_id={}&q=%FF%FE", t.compound_id), manager).await;
    assert_eq!(status, StatusCode::OK, "{units}");
    assert_eq!(units["total"], 0, "{units}");

    // A header value that is not UTF-8: the idempotency key of a payment.
    let response = app
        .client
        .post(format!("{}/units/{}/payments", app.base, t.unit_id))
        .bearer_auth(t.token(Cashier))
        .header("Idempotency-Key", reqwest::header::HeaderValue::from_bytes(&[b'k', 0xFF, 0xFE]).unwrap())
        .json(&json!({ "method": "cash", "amount": "10.00", "bill_ids": [] }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let problem: Value = response.json().await.expect("a JSON problem");
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(problem["field"], "Idempotency-Key", "{problem}");

    assert_eq!(changes(&before, &table_counts(&app).await), BTreeMap::new(), "nothing is written");
    assert_alive(&app).await;
}

// ---------------------------------------------------------------------------------------------
// 4. Injection strings in every text field
// ---------------------------------------------------------------------------------------------

/// What an attacker types into a text field: SQL that would end the statement and drop a table
/// (or widen a WHERE), and HTML that would run a script wherever it were shown unescaped.
const INJECTIONS: &[&str] = &["x'); DROP TABLE units; --' OR '1'='1", "<script>alert(\"x\")</script><img src=x onerror=alert(1)>"];

/// The shared `Company` (billed, with a metered fee item), and what only these tests add on top:
/// the fund's standard and the owner's deposit, and a spare stairwell and unit to change (so that
/// the fixture stairwell keeps the flats its elevator plans are drawn over).
struct Fixture {
    company: Company,
    spare_stairwell_id: i64,
    spare_unit_id: i64,
}

impl Fixture {
    async fn new(app: &TestApp) -> Fixture {
        let company = Company::new(app, "Abuse").await;
        ensure_fund_deposit(app, &company).await;
        let manager = company.token(Manager);
        let (status, stairwell) = app.post(&format!("/buildings/{}/stairwells", company.t.building_id), manager, json!({ "name": "2单元" })).await;
        assert_eq!(status, StatusCode::OK, "{stairwell}");
        let spare_stairwell_id = stairwell["id"].as_i64().unwrap();
        let unit = json!({ "floor": 2, "number": "201", "unit_use": "residential", "registered_area": "60.00" });
        let (status, unit) = app.post(&format!("/stairwells/{spare_stairwell_id}/units"), manager, unit).await;
        assert_eq!(status, StatusCode::OK, "{unit}");
        Fixture { company, spare_stairwell_id, spare_unit_id: unit["id"].as_i64().unwrap() }
    }

    fn token(&self, role: Role) -> &str {
        self.company.token(role)
    }
}

/// One valid request of an operation with a JSON body: who sends it, where, and what. Each call
/// builds fresh state where the operation changes it (a bill, a payment, a ticket, a project, a
/// vote, a plan), so that every call can succeed. An operation missing here fails the test: a
/// new JSON body must be walked too.
async fn valid_request(app: &TestApp, fx: &Fixture, method: &str, path: &str) -> (Role, String, Value) {
    let company = &fx.company;
    let t = &company.t;
    let n = unique();
    let at = |id: i64| path.replace("{id}", &id.to_string());
    match (method, path) {
        ("POST", "/auth/login") => (Owner, path.into(), json!({ "login": "owner@abuse.test", "password": PASSWORD })),
        ("POST", "/users") => (
            CompanyAdmin,
            path.into(),
            json!({ "role": "technician", "name": format!("Tech {n}"), "email": format!("tech{n}@abuse.test"), "password": PASSWORD }),
        ),
        ("POST", "/companies") => (PlatformAdmin, path.into(), json!({ "name": format!("Company {n}") })),
        ("POST", "/compounds") => (CompanyAdmin, path.into(), json!({ "name": format!("小区{n}"), "address": "2 Road" })),
        ("POST", "/compounds/{id}/buildings") => (Manager, at(t.compound_id), json!({ "name": format!("{n}栋") })),
        ("POST", "/buildings/{id}/stairwells") => (Manager, at(t.building_id), json!({ "name": format!("{n}单元") })),
        ("POST", "/stairwells/{id}/units") => (
            Manager,
            at(fx.spare_stairwell_id),
            json!({ "floor": 5, "number": format!("5{n:03}"), "unit_use": "residential", "registered_area": "60.00" }),
        ),
        ("PATCH", "/units/{id}") => (Manager, at(fx.spare_unit_id), json!({ "floor": 2, "vacant": n % 2 == 0 })),
        ("POST", "/units/{id}/owners") => (Manager, at(fx.spare_unit_id), json!({ "owner_id": fresh_owner(app, company).await, "started_on": "2020-01-01" })),
        ("POST", "/units/{id}/sales") => {
            (Manager, at(t.developer_unit_id), json!({ "date": "2024-06-01", "buyers": [{ "owner_id": fresh_owner(app, company).await }] }))
        }
        ("POST", "/compounds/{id}/owners") => (Manager, at(t.compound_id), json!({ "name": format!("业主{n}"), "phone": format!("139{n:08}") })),
        ("POST", "/compounds/{id}/fee-items") => (
            Manager,
            at(t.compound_id),
            json!({ "name": format!("杂费{n}"), "kind": "fixed", "amount": "5.00", "cycle": "one_off", "effective_from": "2000-01" }),
        ),
        ("POST", "/fee-items/{id}/readings") => (Manager, at(company.metered_item_id), json!({ "unit_id": t.unit_id, "period": fresh_period(), "reading": "12.50" })),
        ("POST", "/compounds/{id}/bill-runs") => (Manager, at(t.compound_id), json!({ "period": BILLED_PERIOD })),
        ("POST", "/bill-runs") => (Manager, path.into(), json!({ "period": BILLED_PERIOD })),
        ("POST", "/bills/{id}/adjustments") => {
            (Manager, at(fresh_bill(app, company).await), json!({ "kind": "discount", "amount": "-1.00", "reason": format!("优惠 {n}") }))
        }
        ("POST", "/units/{id}/payments") => (Cashier, at(t.unit_id), json!({ "method": "cash", "amount": "10.00", "bill_ids": [] })),
        ("POST", "/payments/{id}/reversal") => (Manager, at(fresh_payment(app, company).await), json!({ "reason": format!("转账退回 {n}") })),
        ("POST", "/units/{id}/refunds") => {
            fresh_payment(app, company).await;
            (Cashier, at(t.unit_id), json!({ "amount": "10.00", "method": "cash", "reason": format!("业主要求 {n}") }))
        }
        ("POST", "/compounds/{id}/common-income") => (
            Cashier,
            at(t.compound_id),
            json!({ "source": "elevator_ads", "description": format!("电梯广告 {n}"), "amount": "100.00", "received_on": "2026-11-20", "method": "bank_transfer" }),
        ),
        ("POST", "/payment-orders") => (Owner, path.into(), json!({ "unit_id": t.unit_id, "bill_ids": [fresh_bill(app, company).await] })),
        ("POST", "/jobs/runs") => (Manager, path.into(), json!({ "job": "late_fees" })),
        ("POST", "/tickets") => {
            (Owner, path.into(), json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "description": format!("厨房水管漏水 {n}") }))
        }
        ("POST", "/tickets/{id}/transitions") => {
            let ticket = fresh_ticket(app, company, "submitted").await;
            (Dispatcher, at(ticket["id"].as_i64().unwrap()), json!({ "to": "accepted", "priority": "p3", "version": ticket["version"] }))
        }
        ("POST", "/tickets/{id}/assignment") => {
            let ticket = fresh_ticket(app, company, "accepted").await;
            (Dispatcher, at(ticket["id"].as_i64().unwrap()), json!({ "version": ticket["version"], "technician_id": company.technician_id }))
        }
        ("POST", "/tickets/{id}/comments") => {
            (Dispatcher, at(fresh_ticket(app, company, "submitted").await["id"].as_i64().unwrap()), json!({ "body": format!("什么时候来修？ {n}") }))
        }
        ("POST", "/tickets/{id}/rating") => (Owner, at(fresh_ticket(app, company, "resolved").await["id"].as_i64().unwrap()), json!({ "score": 5, "comment": "修得很好" })),
        ("POST", "/tickets/{id}/follow-up") => {
            (Dispatcher, at(fresh_ticket(app, company, "resolved").await["id"].as_i64().unwrap()), json!({ "note": format!("业主满意 {n}") }))
        }
        ("POST", "/tickets/{id}/cost") => (Manager, at(fresh_ticket(app, company, "resolved").await["id"].as_i64().unwrap()), json!({ "route": "company" })),
        ("PUT", "/compounds/{id}/sla") => (
            Manager,
            at(t.compound_id),
            json!({ "targets": [{ "category": "walls", "priority": "p4", "response_minutes": 600, "resolution_minutes": 20160 }] }),
        ),
        ("POST", "/compounds/{id}/technician-groups") => (
            Manager,
            at(t.compound_id),
            json!({ "name": format!("水电组 {n}"), "categories": ["plumbing"], "member_ids": [company.technician_id] }),
        ),
        ("PUT", "/compounds/{id}/fund/policy") => {
            (Manager, at(t.compound_id), json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "source": format!("通知 {n}"), "notice_days": 0 }))
        }
        ("POST", "/compounds/{id}/fund/deposits") => {
            (Manager, at(t.compound_id), json!({ "unit_ids": [fresh_fund_unit(app, company).await], "received_on": today() }))
        }
        ("POST", "/units/{id}/fund/top-ups") => (Cashier, at(t.unit_id), json!({ "amount": "100.00", "received_on": today() })),
        ("POST", "/compounds/{id}/fund/allocations") => {
            (Manager, at(t.compound_id), json!({ "source": "interest", "amount": "10.00", "received_on": today(), "memo": format!("利息 {n}") }))
        }
        ("POST", "/compounds/{id}/fund/projects") => (
            Manager,
            at(t.compound_id),
            json!({ "title": format!("外墙修缮 {n}"), "description": "外墙瓷砖脱落", "budget": "1000.00", "scope": "units", "scope_ids": [t.unit_id] }),
        ),
        ("POST", "/fund-projects/{id}/vote") => (Manager, at(fresh_project(app, company, "draft", false).await["id"].as_i64().unwrap()), json!({ "closes_at": days_from_now(7) })),
        ("POST", "/fund-projects/{id}/emergency-notice") => {
            (Manager, at(fresh_project(app, company, "draft", true).await["id"].as_i64().unwrap()), json!({ "text": format!("屋面漏水危及安全 {n}") }))
        }
        ("POST", "/fund-projects/{id}/settlement") => {
            let project = fresh_project(app, company, "in_progress", true).await;
            let (status, body) = app.post(&format!("/units/{}/fund/top-ups", t.unit_id), fx.token(Cashier), json!({ "amount": "100.00", "received_on": today() })).await;
            assert_eq!(status, StatusCode::OK, "top-up for a settlement: {body}");
            (Manager, at(project["id"].as_i64().unwrap()), json!({ "actual_cost": "100.00" }))
        }
        ("POST", "/compounds/{id}/votes") => {
            (Manager, at(t.compound_id), json!({ "title": format!("续聘物业 {n}"), "matter": "hiring_or_firing_the_company", "closes_at": days_from_now(7) }))
        }
        ("POST", "/votes/{id}/ballots") => (Owner, at(fresh_vote(app, company).await["id"].as_i64().unwrap()), json!({ "choice": "agree" })),
        ("POST", "/stairwells/{id}/elevator-plans") => {
            set_plans_aside(app, company).await;
            (Manager, at(t.stairwell_id), elevator_plan(app, company, n).await)
        }
        ("POST", "/elevator-plans/{id}/bills") => {
            let first_due = today() + chrono::Duration::days(30);
            (Manager, at(fresh_plan(app, company, true).await["id"].as_i64().unwrap()), json!({ "instalments": 2, "first_due": first_due }))
        }
        ("POST", "/elevator-plans/{id}/running-cost-fee-item") => {
            (Manager, at(fresh_plan(app, company, true).await["id"].as_i64().unwrap()), json!({ "name": format!("电梯运行费 {n}"), "rate": "0.30", "effective_from": "2200-01" }))
        }
        ("POST", "/compounds/{id}/notices") => (Manager, at(t.compound_id), json!({ "category": "general", "title": format!("停水通知 {n}"), "body": "明日停水。" })),
        ("PATCH", "/notices/{id}") => (Manager, at(fresh_written_notice(app, company, Manager, false).await["id"].as_i64().unwrap()), json!({ "title": format!("改 {n}") })),
        ("PUT", "/me/notice-preferences") => (Owner, path.into(), json!({ "email_every_notice": true })),
        ("POST", "/compounds/{id}/audit/annual-pack/publication") => (Manager, at(t.compound_id), json!({ "year": 2026 })),
        _ => panic!("{method} {path} takes a JSON body but has no valid request in `valid_request`: add one"),
    }
}

/// A step into a JSON document: a key or an array index.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Where a string can go in a request body, as a path of steps.
type Slot = Vec<Step>;

fn slot_name(slot: &Slot) -> String {
    let mut name = String::new();
    for step in slot {
        match step {
            Step::Key(key) if name.is_empty() => name.push_str(key),
            Step::Key(key) => name.push_str(&format!(".{key}")),
            Step::Index(i) => name.push_str(&format!("[{i}]")),
        }
    }
    name
}

/// The schema a reference (`$ref`, or a one-element `allOf`) stands for.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return resolve(spec, &spec["components"]["schemas"][name]);
    }
    match schema["allOf"].as_array() {
        Some(parts) if parts.len() == 1 => resolve(spec, &parts[0]),
        _ => schema,
    }
}

/// Every place of `body` (a valid request) where the schema has a string: each property of
/// type string, present or not; inside objects and arrays the body has, their strings too.
fn string_slots(spec: &Value, schema: &Value, body: &Value, at: Slot, slots: &mut Vec<Slot>) {
    let schema = resolve(spec, schema);
    let is_string = schema["type"] == "string" || schema["anyOf"].as_array().is_some_and(|v| v.iter().any(|s| resolve(spec, s)["type"] == "string"));
    if is_string {
        slots.push(at);
        return;
    }
    if let Some(properties) = schema["properties"].as_object() {
        // An optional object the valid request leaves out is not filled in.
        if !body.is_object() {
            return;
        }
        for (key, property) in properties {
            let mut next = at.clone();
            next.push(Step::Key(key.clone()));
            string_slots(spec, property, body.get(key).unwrap_or(&Value::Null), next, slots);
        }
    } else if let (Some(values), Some(map)) = (schema.get("additionalProperties"), body.as_object()) {
        if let Some(key) = map.keys().next() {
            let mut next = at.clone();
            next.push(Step::Key(key.clone()));
            string_slots(spec, values, &map[key], next, slots);
        }
    } else if let (Some(items), Some(first)) = (schema.get("items"), body.as_array().and_then(|a| a.first())) {
        let mut next = at.clone();
        next.push(Step::Index(0));
        string_slots(spec, items, first, next, slots);
    }
}

fn put(body: &mut Value, slot: &Slot, value: Value) {
    let mut place = body;
    for step in slot {
        place = match step {
            Step::Key(key) => place.as_object_mut().expect("an object on the way").entry(key.as_str()).or_insert(Value::Null),
            Step::Index(i) => &mut place[*i],
        };
    }
    *place = value;
}

/// Is `text` anywhere in the answer (alone or within a longer text), and is there a string under
/// `key` anywhere in it?
fn echoes(answer: &Value, text: &str, key: &str) -> (bool, bool) {
    match answer {
        Value::String(s) => (s.contains(text), false),
        Value::Array(items) => items.iter().map(|i| echoes(i, text, key)).fold((false, false), |a, b| (a.0 || b.0, a.1 || b.1)),
        Value::Object(fields) => fields.iter().fold((false, false), |acc, (k, v)| {
            let (found, keyed) = echoes(v, text, key);
            (acc.0 || found, acc.1 || keyed || (k == key && v.is_string()))
        }),
        _ => (false, false),
    }
}

/// Every operation of the document with a JSON request body, and its body's schema.
fn json_operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().unwrap() {
            let content = operation["requestBody"]["content"].as_object();
            if let Some(schema) = content.and_then(|c| c.iter().find(|(t, _)| t.starts_with("application/json"))).map(|(_, m)| m["schema"].clone()) {
                operations.push((method.to_uppercase(), path.clone(), schema));
            }
        }
    }
    operations
}

async fn spec(app: &TestApp) -> Value {
    app.client.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn injection_strings_in_every_text_field_are_refused_or_kept_literally() {
    let app = TestApp::spawn().await;
    let fx = Fixture::new(&app).await;
    let spec = spec(&app).await;
    let operations = json_operations(&spec);
    assert!(operations.len() >= 40, "only {} operations with a JSON body", operations.len());
    let (mut kept, mut refused) = (0, 0);
    for (method, path, schema) in &operations {
        let (role, target, body) = valid_request(&app, &fx, method, path).await;
        let mut slots = Vec::new();
        string_slots(&spec, schema, &body, Vec::new(), &mut slots);
        if slots.is_empty() {
            continue;
        }
        // What a harmless request writes, row counts by table: what each accepted injection
        // may write, and no more.
        let before = table_counts(&app).await;
        let (status, answer) = app.request(Method::from_bytes(method.as_bytes()).unwrap(), &target, Some(fx.token(role)), Some(body)).await;
        assert!(status.is_success(), "the valid request of {method} {path} failed: {status} {answer}");
        let harmless = changes(&before, &table_counts(&app).await);

        for slot in &slots {
            let name = slot_name(slot);
            let (Some(Step::Key(top)), Some(Step::Key(leaf))) = (slot.first(), slot.iter().rev().find(|s| matches!(s, Step::Key(_)))) else { unreachable!() };
            for injection in INJECTIONS {
                let text = format!("{injection} {}", unique());
                let (role, target, mut body) = valid_request(&app, &fx, method, path).await;
                put(&mut body, slot, Value::String(text.clone()));
                let before = table_counts(&app).await;
                let (status, answer) = app.request(Method::from_bytes(method.as_bytes()).unwrap(), &target, Some(fx.token(role)), Some(body.clone())).await;
                let written = changes(&before, &table_counts(&app).await);
                let what = format!("{method} {path} with {name} = {text:?}: {status} {answer}");
                assert!(!status.is_server_error(), "{what}");
                if status.is_success() {
                    let (found, keyed) = echoes(&answer, &text, leaf);
                    assert!(found || !keyed, "not kept literally: {what}");
                    assert_eq!(written, harmless, "an accepted injection writes what a harmless value writes: {what}");
                    kept += 1;
                } else if path == "/auth/login" {
                    // A login that matches no account is refused like a wrong password.
                    assert_problem(status, &answer, StatusCode::UNAUTHORIZED, "unauthenticated");
                    assert!(written.keys().all(|t| t.contains("login")), "only the failed attempt is written: {written:?} {what}");
                } else {
                    assert_problem(status, &answer, StatusCode::BAD_REQUEST, "validation_failed");
                    let field = answer["field"].as_str().unwrap_or_else(|| panic!("no field named: {what}"));
                    assert!(field == name || field == leaf || field == top, "the field at fault is {name}: {what}");
                    assert_eq!(written, BTreeMap::new(), "a refused request writes nothing: {what}");
                    refused += 1;
                }
            }
        }
    }
    // Both outcomes are exercised: free text kept, and dates, amounts, codes and contacts refused.
    assert!(kept >= 50 && refused >= 120, "{kept} injections kept, {refused} refused");
    // Every table is still there, and the service answers.
    let tables = table_counts(&app).await;
    assert!(tables.contains_key("units") && tables.len() >= 30, "{tables:?}");
    assert_alive(&app).await;
}

// ---------------------------------------------------------------------------------------------
// 5. HTML shown back escaped
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn html_in_a_notice_is_shown_back_as_text() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Html").await;
    let script = "<script>alert(\"x\")</script><img src=x onerror=alert(1)>";
    for format in ["plain", "markdown"] {
        let body = json!({ "category": "general", "title": script, "body": format!("停水通知\n\n{script}\n\n[点我](javascript:alert(1))"), "body_format": format });
        let (status, notice) = app.post(&format!("/compounds/{}/notices", t.compound_id), t.token(Manager), body).await;
        assert_eq!(status, StatusCode::OK, "{notice}");
        assert_eq!(notice["title"], script, "the title is kept as written: {notice}");
        let (status, read) = app.get(&format!("/notices/{}", notice["id"]), t.token(Owner)).await;
        assert_eq!(status, StatusCode::OK, "{read}");
        let html = read["body_html"].as_str().expect("body_html");
        assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("href=\"javascript"), "{format}: {html}");
        assert!(html.contains("&lt;script&gt;alert(") && html.contains("&lt;img src=x onerror=alert(1)&gt;"), "{format}: {html}");
    }
    assert_alive(&app).await;
}

// ---------------------------------------------------------------------------------------------
// 6. Huge page sizes and offsets
// ---------------------------------------------------------------------------------------------

/// The query parameters that size or place a page.
const PAGING: &[&str] = &["page", "per_page", "limit", "offset", "before_id"];

/// What a client may send for them: a billion rows, a page before the first, and a number no
/// 64-bit integer holds.
const HUGE: &[&str] = &["1000000000", "-1", "999999999999999999999"];

#[tokio::test]
async fn huge_page_sizes_and_offsets_are_refused_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Pages").await;
    let spec = spec(&app).await;
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(operation) = item.get("get") else { continue };
        let parameters: Vec<&str> = operation["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query").map(|p| p["name"].as_str().unwrap()).collect();
        // Every list of ours that pages is the registry's, a compound's, or the company's.
        let target = path.replace("{id}", &t.compound_id.to_string());
        for parameter in parameters.iter().filter(|p| PAGING.contains(p)) {
            for value in HUGE {
                // A cursor (`before_id`) may point anywhere below zero: nothing is before it.
                if *parameter == "before_id" && *value != "999999999999999999999" {
                    continue;
                }
                let (status, body) = app.get(&format!("{target}?{parameter}={value}"), t.token(Manager)).await;
                let what = format!("GET {path}?{parameter}={value}: {status} {body}");
                assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
                assert_eq!(body["field"], *parameter, "{what}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 25, "only {checked} paging parameters tried");
    assert_alive(&app).await;
}

// ---------------------------------------------------------------------------------------------
// 7. Control characters
// ---------------------------------------------------------------------------------------------

/// PostgreSQL's text cannot hold a NUL, so on PostgreSQL a NUL that reaches a query fails it:
/// schemathesis found three operations answering 500 there (an owner search, a notice filter,
/// the gateway's callback) that SQLite had answered.
#[tokio::test]
async fn control_characters_in_query_strings_are_refused_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Controls").await;
    let spec = spec(&app).await;
    let before = table_counts(&app).await;
    let mut checked = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(operation) = item.get("get") else { continue };
        for parameter in operation["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query") {
            // Free text: a string that is not one of a list, has no format (a date) and follows
            // no pattern (a billing month).
            let schema = resolve(&spec, &parameter["schema"]);
            if schema["type"] != "string" || ["enum", "format", "pattern"].iter().any(|k| schema.get(k).is_some()) {
                continue;
            }
            let name = parameter["name"].as_str().unwrap();
            // Every such list of ours is the registry's, the queue, or a compound's.
            let target = path.replace("{id}", &t.compound_id.to_string());
            for value in ["a%00b", "%07"] {
                let (status, body) = app.get(&format!("{target}?{name}={value}"), t.token(Manager)).await;
                let what = format!("GET {path}?{name}={value}: {status} {body}");
                assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
                assert_eq!((body["code"].as_str(), body["field"].as_str()), (Some("validation_failed"), Some(name)), "{what}");
            }
            checked.push(format!("{path}?{name}"));
        }
    }
    for expected in ["/owners?q", "/units?q", "/compounds/{id}/notices?source"] {
        assert!(checked.iter().any(|c| c == expected), "{expected} was not tried; tried {checked:?}");
    }

    // The callback's body is kept whatever it holds: as text, with U+FFFD for a NUL and for
    // bytes that are not UTF-8.
    let body = [b"{\"order_id\": 1,\0 \"x\": \"".as_slice(), &[0xFF], b"\"}"].concat();
    let (status, problem) = send_bytes(&app, "/gateway/builtin/callback", "", "application/octet-stream", body, false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    let kept = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(app.db.get_database_backend(), "SELECT payload FROM gateway_callbacks ORDER BY id DESC"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.try_get::<String>("", "payload").unwrap(), "{\"order_id\": 1,\u{FFFD} \"x\": \"\u{FFFD}\"}");
    assert_eq!(changes(&before, &table_counts(&app).await), BTreeMap::from([("gateway_callbacks".to_string(), Some(1))]));
    assert_alive(&app).await;
}
