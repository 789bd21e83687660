mod common;

// Every fee kind through real bill runs, fee item validation, bill adjustments and the ledger
// after every money path, over HTTP, with amounts worked out by hand in each test.
//
// The harness tenant: stairwell 1 of building 1 holds unit 301 (floor 3, 88.60 m² registered,
// owned) and unit 302 (floor 3, 72.35 m² surveyed, developer-held). Periods are in 2099 (or
// later) so no late fee runs, except in the one test that needs a late fee owed today.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wuye::auth::Role;

const GATEWAY_SECRET: &str = "test-gateway-secret-0123456789";

fn today() -> NaiveDate {
    Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

fn period_of(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// "106.32" -> 10632.
fn fen(text: &str) -> i64 {
    let negative = text.starts_with('-');
    let (whole, part) = text.trim_start_matches('-').split_once('.').unwrap_or_else(|| panic!("not an amount: {text}"));
    assert_eq!(part.len(), 2, "amounts have exactly two decimals: {text}");
    let value = whole.parse::<i64>().unwrap() * 100 + part.parse::<i64>().unwrap();
    if negative { -value } else { value }
}

async fn ok(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, answer) = app.request(method.clone(), path, Some(token), body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{method} {path} {body:?}: {answer}");
    answer
}

async fn post_ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    ok(app, Method::POST, path, token, Some(body)).await
}

async fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    ok(app, Method::GET, path, token, None).await
}

async fn fee_item(app: &TestApp, tenant: &Tenant, body: Value) -> i64 {
    let item = post_ok(app, &format!("/compounds/{}/fee-items", tenant.compound_id), tenant.token(Role::Manager), body).await;
    item["id"].as_i64().unwrap()
}

async fn new_unit(app: &TestApp, tenant: &Tenant, stairwell_id: i64, body: Value) -> i64 {
    let unit = post_ok(app, &format!("/stairwells/{stairwell_id}/units"), tenant.token(Role::Manager), body).await;
    unit["id"].as_i64().unwrap()
}

async fn new_stairwell(app: &TestApp, tenant: &Tenant, name: &str) -> i64 {
    let stairwell = post_ok(app, &format!("/buildings/{}/stairwells", tenant.building_id), tenant.token(Role::Manager), json!({ "name": name })).await;
    stairwell["id"].as_i64().unwrap()
}

async fn run(app: &TestApp, tenant: &Tenant, period: &str) -> Value {
    post_ok(app, &format!("/compounds/{}/bill-runs", tenant.compound_id), tenant.token(Role::Manager), json!({ "period": period })).await
}

async fn preview(app: &TestApp, tenant: &Tenant, period: &str) -> Value {
    post_ok(app, &format!("/compounds/{}/bill-runs", tenant.compound_id), tenant.token(Role::Manager), json!({ "period": period, "preview": true }))
        .await
}

/// The outcome of one fee item in a bill run's answer.
fn outcome(run: &Value, item_id: i64) -> &Value {
    run["items"].as_array().unwrap().iter().find(|i| i["fee_item_id"] == item_id).unwrap_or_else(|| panic!("item {item_id} not in {run}"))
}

/// (bills, total) of one fee item in a bill run's answer.
fn billed(run: &Value, item_id: i64) -> (u64, String) {
    let item = outcome(run, item_id);
    (item["bills"].as_u64().unwrap(), item["total"].as_str().unwrap().to_string())
}

/// The units an item did not charge in a run, with the reason.
fn not_charged(run: &Value, item_id: i64) -> Vec<(i64, String)> {
    outcome(run, item_id)["not_charged"].as_array().unwrap().iter().map(|n| (n["unit_id"].as_i64().unwrap(), n["reason"].as_str().unwrap().to_string())).collect()
}

/// The fee items a run billed, in order.
fn items_billed(run: &Value) -> Vec<i64> {
    run["items"].as_array().unwrap().iter().filter(|i| i["bills"].as_u64().unwrap() > 0).map(|i| i["fee_item_id"].as_i64().unwrap()).collect()
}

/// A unit's bills of one fee item.
async fn unit_bills(app: &TestApp, token: &str, unit_id: i64, item_id: i64) -> Vec<Value> {
    get_ok(app, &format!("/units/{unit_id}/bills"), token).await.as_array().unwrap().iter().filter(|b| b["fee_item_id"] == item_id).cloned().collect()
}

/// Each unit's bill of `item_id` for `period` as (amount, payer), or None when it has none.
async fn bill_per_unit(app: &TestApp, token: &str, units: &[i64], item_id: i64, period: &str) -> Vec<Option<(String, String)>> {
    let mut out = Vec::new();
    for unit in units {
        let bills: Vec<Value> = unit_bills(app, token, *unit, item_id).await.into_iter().filter(|b| b["period"] == period).collect();
        assert!(bills.len() <= 1, "one bill per unit, item and period: {bills:?}");
        out.push(bills.first().map(|b| (b["amount"].as_str().unwrap().to_string(), b["payer"].as_str().unwrap().to_string())));
    }
    out
}

fn some(amount: &str, payer: &str) -> Option<(String, String)> {
    Some((amount.to_string(), payer.to_string()))
}

/// The sum of the bills actually written, as an amount.
fn sum_of(bills: &[Option<(String, String)>]) -> String {
    let total: i64 = bills.iter().flatten().map(|(amount, _)| fen(amount)).sum();
    format!("{}.{:02}", total / 100, total % 100)
}

async fn verification(app: &TestApp, tenant: &Tenant) -> Value {
    get_ok(app, &format!("/compounds/{}/ledger/verification", tenant.compound_id), tenant.token(Role::Committee)).await
}

/// account code -> (debit, credit) of the trial balance.
fn trial_balance(verification: &Value) -> BTreeMap<String, (String, String)> {
    verification["trial_balance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["code"].as_str().unwrap().to_string(), (a["debit"].as_str().unwrap().to_string(), a["credit"].as_str().unwrap().to_string())))
        .collect()
}

fn accounts(rows: &[(&str, &str, &str)]) -> BTreeMap<String, (String, String)> {
    rows.iter().map(|(code, debit, credit)| (code.to_string(), (debit.to_string(), credit.to_string()))).collect()
}

/// Stairwell 2 of building 1: one unit per floor 1-7, all owned but 6F (developer-held).
/// Areas 60.00, 70.00, 88.60, 90.00, 95.50, 100.00, 100.00.
async fn stairwell_with_six_floors_and_a_seventh(app: &TestApp, tenant: &Tenant) -> (i64, Vec<i64>) {
    let stairwell = new_stairwell(app, tenant, "2单元").await;
    let areas = ["60.00", "70.00", "88.60", "90.00", "95.50", "100.00", "100.00"];
    let mut units = Vec::new();
    for (index, area) in areas.iter().enumerate() {
        let floor = index as i32 + 1;
        let body = json!({
            "floor": floor, "number": format!("{floor}01"), "unit_use": "residential", "registered_area": area, "developer_held": floor == 6
        });
        units.push(new_unit(app, tenant, stairwell, body).await);
    }
    (stairwell, units)
}

// ---------------------------------------------------------------------------------------------
// 1. Every fee kind through a real bill run
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn shared_costs_split_by_area_equally_and_by_coefficient_add_up_to_the_total() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let unit_303 = new_unit(&app, &tenant, tenant.stairwell_id, json!({ "floor": 3, "number": "303", "unit_use": "residential", "registered_area": "50.00" })).await;
    let trio = [tenant.unit_id, tenant.developer_unit_id, unit_303];
    let (stairwell_2, tower) = stairwell_with_six_floors_and_a_seventh(&app, &tenant).await;

    let by_area = fee_item(&app, &tenant, json!({
        "name": "公摊电费", "kind": "shared", "amount": "100.00", "split": "area", "cycle": "monthly",
        "scope": "units", "scope_ids": trio, "effective_from": "2099-01"
    })).await;
    let equally = fee_item(&app, &tenant, json!({
        "name": "保洁分摊", "kind": "shared", "amount": "100.00", "split": "equal", "cycle": "monthly",
        "scope": "units", "scope_ids": trio, "effective_from": "2099-01"
    })).await;
    let coefficients = json!({ "3": "0.7", "4": "0.8", "5": "0.9", "6": "1.0" });
    let elevator_repair = fee_item(&app, &tenant, json!({
        "name": "电梯维修分摊", "kind": "shared", "amount": "1000.00", "split": "coefficient", "floor_coefficients": coefficients,
        "cycle": "monthly", "scope": "stairwells", "scope_ids": [stairwell_2], "effective_from": "2099-01"
    })).await;
    let listed = [tower[1], tower[2], tower[5]];
    let listed_units = fee_item(&app, &tenant, json!({
        "name": "门禁分摊", "kind": "shared", "amount": "100.00", "split": "coefficient", "floor_coefficients": { "3": "0.7", "6": "1.0" },
        "cycle": "monthly", "scope": "units", "scope_ids": listed, "effective_from": "2099-01"
    })).await;

    // By area over 88.60 + 72.35 + 50.00 = 210.95 m²: exact shares 42.000474, 34.297227,
    // 23.702299; rounded down 42.00 + 34.29 + 23.70 = 99.99; the one fen left goes to the
    // largest remainder, 302's (0.7227 fen), not to the earliest unit.
    // Equally: 33.333... each, rounded down 99.99; the remainders tie, so the earliest unit
    // (301) gets the fen.
    // By coefficient over stairwell 2 (3F 0.7, 4F 0.8, 5F 0.9, 6F 1.0, sum 3.4; 1F, 2F and the
    // unlisted 7F weigh 0): exact 205.882352, 235.294117, 264.705882, 294.117647; rounded down
    // 999.98; the two fen go to 6F (0.7647) and 5F (0.5882).
    // Over listed units 2F, 3F, 6F with 3F 0.7 and 6F 1.0: 41.176470 and 58.823529; the fen
    // goes to 3F (0.6470).
    let expected_total = "1300.00";
    let shown = preview(&app, &tenant, "2099-01").await;
    assert_eq!((shown["bills_created"].as_u64(), shown["total"].as_str()), (Some(12), Some(expected_total)), "{shown}");
    assert_eq!(billed(&shown, by_area), (3, "100.00".into()));
    assert!(get_ok(&app, &format!("/units/{}/bills", tenant.unit_id), manager).await.as_array().unwrap().is_empty(), "a preview writes nothing");

    let done = run(&app, &tenant, "2099-01").await;
    assert_eq!((done["bills_created"].as_u64(), done["total"].as_str()), (Some(12), Some(expected_total)), "{done}");
    assert_eq!(billed(&done, by_area), (3, "100.00".into()));
    assert_eq!(billed(&done, equally), (3, "100.00".into()));
    assert_eq!(billed(&done, elevator_repair), (4, "1000.00".into()));
    assert_eq!(billed(&done, listed_units), (2, "100.00".into()));

    let area_bills = bill_per_unit(&app, manager, &trio, by_area, "2099-01").await;
    assert_eq!(area_bills, vec![some("42.00", "owner"), some("34.30", "developer"), some("23.70", "owner")]);
    assert_eq!(sum_of(&area_bills), "100.00");

    let equal_bills = bill_per_unit(&app, manager, &trio, equally, "2099-01").await;
    assert_eq!(equal_bills, vec![some("33.34", "owner"), some("33.33", "developer"), some("33.33", "owner")]);
    assert_eq!(sum_of(&equal_bills), "100.00");

    let tower_bills = bill_per_unit(&app, manager, &tower, elevator_repair, "2099-01").await;
    assert_eq!(
        tower_bills,
        vec![None, None, some("205.88", "owner"), some("235.29", "owner"), some("264.71", "owner"), some("294.12", "developer"), None]
    );
    assert_eq!(sum_of(&tower_bills), "1000.00");
    let zero: Vec<i64> = not_charged(&done, elevator_repair).into_iter().map(|(unit, _)| unit).collect();
    assert_eq!(zero, vec![tower[0], tower[1], tower[6]], "floors 1, 2 and the unlisted 7 pay nothing");
    // Units outside the stairwell are not in scope at all.
    assert!(bill_per_unit(&app, manager, &trio, elevator_repair, "2099-01").await.iter().all(Option::is_none));

    let listed_bills = bill_per_unit(&app, manager, &listed, listed_units, "2099-01").await;
    assert_eq!(listed_bills, vec![None, some("41.18", "owner"), some("58.82", "developer")]);
    assert_eq!(sum_of(&listed_bills), "100.00");
    assert_eq!(not_charged(&done, listed_units), vec![(tower[1], "its share is zero".to_string())]);

    // The ledger carries the run: receivables and revenue of 1,300.00.
    let verified = verification(&app, &tenant).await;
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(trial_balance(&verified), accounts(&[("1122", "1300.00", "0.00"), ("6001", "0.00", "1300.00")]));
}

#[tokio::test]
async fn metered_fees_bill_the_reading_delta_and_list_what_they_cannot_bill() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let unit_303 = new_unit(&app, &tenant, tenant.stairwell_id, json!({ "floor": 3, "number": "303", "unit_use": "residential", "registered_area": "60.00" })).await;
    let unit_304 = new_unit(&app, &tenant, tenant.stairwell_id, json!({ "floor": 3, "number": "304", "unit_use": "residential", "registered_area": "60.00" })).await;
    let units = [tenant.unit_id, tenant.developer_unit_id, unit_303, unit_304];
    let water = fee_item(&app, &tenant, json!({ "name": "水费", "kind": "metered", "rate": "3.45", "cycle": "monthly", "effective_from": "2099-10" })).await;
    // A property fee that starts only in 2100, so it bills nothing here.
    let property = fee_item(&app, &tenant, json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "effective_from": "2100-01" })).await;

    let readings = format!("/fee-items/{water}/readings");
    let read = |unit: i64, period: &'static str, reading: &'static str| json!({ "unit_id": unit, "period": period, "reading": reading });
    for (unit, period, reading) in [
        (tenant.unit_id, "2099-10", "120.5"),
        (tenant.unit_id, "2099-11", "130.5"),
        (tenant.developer_unit_id, "2099-10", "50"),
        (tenant.developer_unit_id, "2099-11", "62.25"),
        (unit_303, "2099-11", "10"),
        (unit_304, "2099-10", "50"),
        (unit_304, "2099-11", "40"),
    ] {
        let recorded = post_ok(&app, &readings, manager, read(unit, period, reading)).await;
        assert_eq!((recorded["unit_id"].as_i64(), recorded["period"].as_str(), recorded["fee_item_id"].as_i64()), (Some(unit), Some(period), Some(water)));
    }
    // A second reading for the same month, a reading on a non-metered item, a reading as a JSON
    // number: refused.
    let (status, body) = app.post(&readings, manager, read(tenant.unit_id, "2099-11", "131")).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::CONFLICT, Some("period")), "{body}");
    let (status, body) = app.post(&format!("/fee-items/{property}/readings"), manager, read(tenant.unit_id, "2099-11", "1")).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("fee_item_id")), "{body}");
    let (status, body) = app.post(&readings, manager, json!({ "unit_id": unit_303, "period": "2099-12", "reading": 12.5 })).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reading")), "{body}");

    // The first month has no previous reading anywhere: nothing is billed.
    let first = run(&app, &tenant, "2099-10").await;
    assert_eq!((first["bills_created"].as_u64(), first["total"].as_str()), (Some(0), Some("0.00")), "{first}");
    assert_eq!(not_charged(&first, water).iter().map(|(u, _)| *u).collect::<Vec<_>>(), units.to_vec());

    // 301: (130.5 - 120.5) x 3.45 = 34.50. 302 (developer): (62.25 - 50) x 3.45 = 42.2625 -> 42.26.
    // 303 has one reading only; 304 reads below its previous reading: neither is billed.
    let second = run(&app, &tenant, "2099-11").await;
    assert_eq!(billed(&second, water), (2, "76.76".into()));
    assert_eq!((second["bills_created"].as_u64(), second["total"].as_str()), (Some(2), Some("76.76")));
    assert_eq!(
        not_charged(&second, water),
        vec![
            (unit_303, "no reading, or no previous reading, for the period".to_string()),
            (unit_304, "the reading is below the previous one".to_string())
        ]
    );
    assert_eq!(
        bill_per_unit(&app, manager, &units, water, "2099-11").await,
        vec![some("34.50", "owner"), some("42.26", "developer"), None, None]
    );

    // 304's next reading counts from its last one: (45 - 40) x 3.45 = 17.25.
    post_ok(&app, &readings, manager, read(unit_304, "2099-12", "45")).await;
    let third = run(&app, &tenant, "2099-12").await;
    assert_eq!(billed(&third, water), (1, "17.25".into()));
    assert_eq!(bill_per_unit(&app, manager, &[unit_304], water, "2099-12").await, vec![some("17.25", "owner")]);

    let verified = verification(&app, &tenant).await;
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(trial_balance(&verified), accounts(&[("1122", "94.01", "0.00"), ("6001", "0.00", "94.01")]));
}

#[tokio::test]
async fn elevator_fee_by_floor_coefficient_exempts_floors_one_two_and_unlisted_floors() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let (stairwell_2, tower) = stairwell_with_six_floors_and_a_seventh(&app, &tenant).await;
    let elevator = fee_item(&app, &tenant, json!({
        "name": "电梯运行费", "kind": "floor_coefficient", "rate": "0.50",
        "floor_coefficients": { "3": "0.7", "4": "0.8", "5": "0.9", "6": "1.0" },
        "cycle": "monthly", "scope": "stairwells", "scope_ids": [stairwell_2], "effective_from": "2099-01"
    })).await;

    // rate x area x coefficient: 3F 0.50 x 88.60 x 0.7 = 31.01; 4F 0.50 x 90.00 x 0.8 = 36.00;
    // 5F 0.50 x 95.50 x 0.9 = 42.975 -> 42.98 (half up); 6F 0.50 x 100.00 x 1.0 = 50.00, paid
    // by the developer. 1F, 2F and 7F (no coefficient) pay nothing.
    let done = run(&app, &tenant, "2099-01").await;
    assert_eq!(billed(&done, elevator), (4, "159.99".into()), "{done}");
    assert_eq!(
        not_charged(&done, elevator),
        vec![
            (tower[0], "exempt (nothing to charge)".to_string()),
            (tower[1], "exempt (nothing to charge)".to_string()),
            (tower[6], "exempt (nothing to charge)".to_string())
        ]
    );
    let tower_bills = bill_per_unit(&app, manager, &tower, elevator, "2099-01").await;
    assert_eq!(tower_bills, vec![None, None, some("31.01", "owner"), some("36.00", "owner"), some("42.98", "owner"), some("50.00", "developer"), None]);
    assert_eq!(sum_of(&tower_bills), "159.99");
    // 301 and 302 live on floor 3 too, but in another stairwell.
    assert!(bill_per_unit(&app, manager, &[tenant.unit_id, tenant.developer_unit_id], elevator, "2099-01").await.iter().all(Option::is_none));
}

#[tokio::test]
async fn a_fixed_parking_fee_bills_parking_spaces_only() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let space = |number: &str, area: &str, developer_held: bool| {
        json!({ "floor": -1, "number": number, "unit_use": "parking", "contract_area": area, "developer_held": developer_held })
    };
    let p1 = new_unit(&app, &tenant, tenant.stairwell_id, space("P001", "12.50", false)).await;
    let p2 = new_unit(&app, &tenant, tenant.stairwell_id, space("P002", "13.00", false)).await;
    let p3 = new_unit(&app, &tenant, tenant.stairwell_id, space("P003", "12.50", true)).await;
    let storage = new_unit(&app, &tenant, tenant.stairwell_id, json!({ "floor": -1, "number": "S001", "unit_use": "storage", "contract_area": "8.00" })).await;
    let shop = new_unit(&app, &tenant, tenant.stairwell_id, json!({ "floor": 1, "number": "S-101", "unit_use": "commercial", "registered_area": "45.00" })).await;
    let all = [tenant.unit_id, tenant.developer_unit_id, p1, p2, p3, storage, shop];

    let parking = post_ok(&app, &format!("/compounds/{}/fee-items", tenant.compound_id), manager, json!({
        "name": "车位管理费", "kind": "fixed", "amount": "150.00", "unit_uses": ["parking"], "cycle": "monthly", "effective_from": "2099-01"
    })).await;
    assert_eq!(parking["unit_uses"], json!(["parking"]));
    let parking = parking["id"].as_i64().unwrap();
    // Without unit_uses a fee bills residential and commercial units only.
    let rubbish = post_ok(&app, &format!("/compounds/{}/fee-items", tenant.compound_id), manager, json!({
        "name": "垃圾清运费", "kind": "fixed", "amount": "5.00", "cycle": "monthly", "effective_from": "2099-01"
    })).await;
    assert_eq!(rubbish["unit_uses"], json!(["residential", "commercial"]));
    let rubbish = rubbish["id"].as_i64().unwrap();

    let done = run(&app, &tenant, "2099-01").await;
    assert_eq!(billed(&done, parking), (3, "450.00".into()));
    assert_eq!(billed(&done, rubbish), (3, "15.00".into()));
    assert_eq!((done["bills_created"].as_u64(), done["total"].as_str()), (Some(6), Some("465.00")));
    assert_eq!(
        bill_per_unit(&app, manager, &all, parking, "2099-01").await,
        vec![None, None, some("150.00", "owner"), some("150.00", "owner"), some("150.00", "developer"), None, None]
    );
    assert_eq!(
        bill_per_unit(&app, manager, &all, rubbish, "2099-01").await,
        vec![some("5.00", "owner"), some("5.00", "developer"), None, None, None, None, some("5.00", "owner")]
    );
}

#[tokio::test]
async fn quarterly_yearly_one_off_and_ended_items_bill_only_in_their_months() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    // Quarterly from January 2099: 1.20 x 88.60 x 3 = 318.96 and 1.20 x 72.35 x 3 = 260.46.
    let quarterly = fee_item(&app, &tenant, json!({ "name": "物业费(季)", "kind": "rate_area", "rate": "1.20", "cycle": "quarterly", "effective_from": "2099-01" })).await;
    // Yearly from March 2099: 0.10 x 88.60 x 12 = 106.32 and 0.10 x 72.35 x 12 = 86.82.
    let yearly = fee_item(&app, &tenant, json!({ "name": "绿化费(年)", "kind": "rate_area", "rate": "0.10", "cycle": "yearly", "effective_from": "2099-03" })).await;
    // Once, in February 2099, for 301 only.
    let one_off = fee_item(&app, &tenant, json!({
        "name": "门禁卡工本费", "kind": "fixed", "amount": "500.00", "cycle": "one_off", "scope": "units", "scope_ids": [tenant.unit_id], "effective_from": "2099-02"
    })).await;
    // Monthly from January to February 2099 (the month named in effective_to included).
    let ended = fee_item(&app, &tenant, json!({
        "name": "临时保安费", "kind": "fixed", "amount": "10.00", "cycle": "monthly", "scope": "units", "scope_ids": [tenant.unit_id],
        "effective_from": "2099-01", "effective_to": "2099-02"
    })).await;

    // period, (item, bills, item total) of each item billed, run total
    type Billed = Vec<(i64, u64, &'static str)>;
    let expected: [(&str, Billed, &str); 9] = [
        ("2098-12", vec![], "0.00"),
        ("2099-01", vec![(quarterly, 2, "579.42"), (ended, 1, "10.00")], "589.42"),
        ("2099-02", vec![(one_off, 1, "500.00"), (ended, 1, "10.00")], "510.00"),
        ("2099-03", vec![(yearly, 2, "193.14")], "193.14"),
        ("2099-04", vec![(quarterly, 2, "579.42")], "579.42"),
        ("2099-05", vec![], "0.00"),
        ("2100-01", vec![(quarterly, 2, "579.42")], "579.42"),
        ("2100-02", vec![], "0.00"),
        ("2100-03", vec![(yearly, 2, "193.14")], "193.14"),
    ];
    for (period, items, total) in &expected {
        let done = run(&app, &tenant, period).await;
        assert_eq!(done["total"].as_str(), Some(*total), "{period}: {done}");
        assert_eq!(items_billed(&done), items.iter().map(|(id, _, _)| *id).collect::<Vec<_>>(), "{period}: {done}");
        for (id, bills, item_total) in items {
            assert_eq!(billed(&done, *id), (*bills, item_total.to_string()), "{period}");
        }
    }

    // 301's bills, as the owner sees them.
    let owner = tenant.token(Role::Owner);
    let mut mine: Vec<(String, i64, String)> = get_ok(&app, &format!("/units/{}/bills", tenant.unit_id), owner)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["period"].as_str().unwrap().to_string(), b["fee_item_id"].as_i64().unwrap(), b["amount"].as_str().unwrap().to_string()))
        .collect();
    mine.sort();
    let row = |p: &str, id: i64, a: &str| (p.to_string(), id, a.to_string());
    assert_eq!(
        mine,
        vec![
            row("2099-01", quarterly, "318.96"),
            row("2099-01", ended, "10.00"),
            row("2099-02", one_off, "500.00"),
            row("2099-02", ended, "10.00"),
            row("2099-03", yearly, "106.32"),
            row("2099-04", quarterly, "318.96"),
            row("2100-01", quarterly, "318.96"),
            row("2100-03", yearly, "106.32"),
        ]
    );
    let held: Vec<(String, String)> = unit_bills(&app, manager, tenant.developer_unit_id, quarterly)
        .await
        .iter()
        .map(|b| (b["period"].as_str().unwrap().to_string(), b["amount"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(held, vec![("2099-01".to_string(), "260.46".to_string()), ("2099-04".into(), "260.46".into()), ("2100-01".into(), "260.46".into())]);
}

#[tokio::test]
async fn vacancy_discount_applies_to_vacant_owned_units_never_to_the_developers() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let occupied = new_unit(&app, &tenant, tenant.stairwell_id, json!({ "floor": 4, "number": "401", "unit_use": "residential", "registered_area": "100.00" })).await;
    let empty = new_unit(&app, &tenant, tenant.stairwell_id, json!({ "floor": 4, "number": "402", "unit_use": "residential", "registered_area": "95.50", "vacant": true })).await;
    for unit in [tenant.unit_id, tenant.developer_unit_id] {
        let patched = ok(&app, Method::PATCH, &format!("/units/{unit}"), manager, Some(json!({ "vacant": true }))).await;
        assert_eq!(patched["vacant"], true);
    }
    let property = fee_item(&app, &tenant, json!({
        "name": "物业费", "kind": "rate_area", "rate": "1.20", "vacancy_ratio": "0.70", "cycle": "monthly", "effective_from": "2099-01"
    })).await;
    // An item without a vacancy ratio charges vacant units in full.
    let no_discount = fee_item(&app, &tenant, json!({
        "name": "电梯运行费", "kind": "rate_area", "rate": "0.10", "cycle": "monthly", "effective_from": "2099-01"
    })).await;

    // 301 vacant: 1.20 x 88.60 = 106.32 x 0.70 = 74.424 -> 74.42. 302 vacant but
    // developer-held: 1.20 x 72.35 = 86.82 in full. 401 occupied: 120.00. 402 vacant:
    // 1.20 x 95.50 = 114.60 x 0.70 = 80.22.
    let units = [tenant.unit_id, tenant.developer_unit_id, occupied, empty];
    let done = run(&app, &tenant, "2099-01").await;
    assert_eq!(billed(&done, property), (4, "361.46".into()));
    assert_eq!(
        bill_per_unit(&app, manager, &units, property, "2099-01").await,
        vec![some("74.42", "owner"), some("86.82", "developer"), some("120.00", "owner"), some("80.22", "owner")]
    );
    // 0.10 x 88.60 = 8.86, x 72.35 = 7.235 -> 7.24, x 100 = 10.00, x 95.50 = 9.55.
    assert_eq!(
        bill_per_unit(&app, manager, &units, no_discount, "2099-01").await,
        vec![some("8.86", "owner"), some("7.24", "developer"), some("10.00", "owner"), some("9.55", "owner")]
    );
}

#[tokio::test]
async fn rounding_rules_and_building_scope() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let building_2 = post_ok(&app, &format!("/compounds/{}/buildings", tenant.compound_id), manager, json!({ "name": "2栋" })).await["id"].as_i64().unwrap();
    let stairwell = post_ok(&app, &format!("/buildings/{building_2}/stairwells"), manager, json!({ "name": "1单元" })).await["id"].as_i64().unwrap();
    let other = new_unit(&app, &tenant, stairwell, json!({ "floor": 1, "number": "101", "unit_use": "residential", "registered_area": "100.00" })).await;
    let units = [tenant.unit_id, tenant.developer_unit_id, other];
    let item = |name: &str, rounding: &str, scope: Value| {
        let mut body = json!({ "name": name, "kind": "rate_area", "rate": "0.1001", "rounding": rounding, "cycle": "monthly", "effective_from": "2099-01" });
        body.as_object_mut().unwrap().extend(scope.as_object().unwrap().clone());
        body
    };
    let down = fee_item(&app, &tenant, item("down", "down", json!({ "scope": "buildings", "scope_ids": [tenant.building_id] }))).await;
    let up = fee_item(&app, &tenant, item("up", "up", json!({ "scope": "buildings", "scope_ids": [tenant.building_id] }))).await;
    let half_up = fee_item(&app, &tenant, item("half_up", "half_up", json!({}))).await;

    // 0.1001 x 88.60 = 8.86886; x 72.35 = 7.242235; x 100.00 = 10.01. Building 2 is outside
    // the first two items' scope.
    let done = run(&app, &tenant, "2099-01").await;
    assert_eq!(bill_per_unit(&app, manager, &units, down, "2099-01").await, vec![some("8.86", "owner"), some("7.24", "developer"), None]);
    assert_eq!(bill_per_unit(&app, manager, &units, up, "2099-01").await, vec![some("8.87", "owner"), some("7.25", "developer"), None]);
    assert_eq!(
        bill_per_unit(&app, manager, &units, half_up, "2099-01").await,
        vec![some("8.87", "owner"), some("7.24", "developer"), some("10.01", "owner")]
    );
    assert_eq!((billed(&done, down), billed(&done, up), billed(&done, half_up)), ((2, "16.10".into()), (2, "16.12".into()), (3, "26.12".into())));
}

/// The shares of a shared cost add up to its total, also when units join the scope after the
/// period was billed: a rerun bills new units of other fees, never a second split of this one.
#[tokio::test]
async fn a_rerun_after_a_unit_is_added_never_bills_more_than_the_shared_total() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let unit_303 = new_unit(&app, &tenant, tenant.stairwell_id, json!({ "floor": 3, "number": "303", "unit_use": "residential", "registered_area": "50.00" })).await;
    let cleaning = fee_item(&app, &tenant, json!({ "name": "保洁分摊", "kind": "shared", "amount": "100.00", "split": "equal", "cycle": "monthly", "effective_from": "2099-01" })).await;
    assert_eq!(billed(&run(&app, &tenant, "2099-01").await, cleaning), (3, "100.00".into()));

    let unit_304 = new_unit(&app, &tenant, tenant.stairwell_id, json!({ "floor": 3, "number": "304", "unit_use": "residential", "registered_area": "50.00" })).await;
    let (status, rerun) = app.post(&format!("/compounds/{}/bill-runs", tenant.compound_id), manager, json!({ "period": "2099-01" })).await;
    let units = [tenant.unit_id, tenant.developer_unit_id, unit_303, unit_304];
    let bills = bill_per_unit(&app, manager, &units, cleaning, "2099-01").await;
    assert_eq!(&bills[..3], &[some("33.34", "owner"), some("33.33", "developer"), some("33.33", "owner")], "bills are never edited");
    assert_eq!(sum_of(&bills), "100.00", "the 2099-01 shares of a 100.00 cost add up to 100.00, not more: {bills:?}; rerun {status}: {rerun}");
    // The next period splits over all four: 25.00 each.
    run(&app, &tenant, "2099-02").await;
    let next = bill_per_unit(&app, manager, &units, cleaning, "2099-02").await;
    assert_eq!(next, vec![some("25.00", "owner"), some("25.00", "developer"), some("25.00", "owner"), some("25.00", "owner")]);
}

// ---------------------------------------------------------------------------------------------
// 2. Fee item validation
// ---------------------------------------------------------------------------------------------

fn with(base: &Value, changes: Value) -> Value {
    let mut body = base.clone();
    for (key, value) in changes.as_object().unwrap() {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    body
}

#[tokio::test]
async fn invalid_fee_items_are_refused_naming_the_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let path = format!("/compounds/{}/fee-items", tenant.compound_id);
    fee_item(&app, &tenant, json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "effective_from": "2099-01" })).await;
    let before = get_ok(&app, &path, manager).await;
    assert_eq!(before.as_array().unwrap().len(), 1);

    let rate_area = json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "effective_from": "2099-01" });
    let fixed = json!({ "name": "车位费", "kind": "fixed", "amount": "150.00", "cycle": "monthly", "effective_from": "2099-01" });
    let shared = json!({ "name": "公摊", "kind": "shared", "amount": "100.00", "split": "area", "cycle": "monthly", "effective_from": "2099-01" });
    let elevator = json!({
        "name": "电梯费", "kind": "floor_coefficient", "rate": "0.50", "floor_coefficients": { "3": "0.7" }, "cycle": "monthly", "effective_from": "2099-01"
    });
    let metered = json!({ "name": "水费", "kind": "metered", "rate": "3.45", "cycle": "monthly", "effective_from": "2099-01" });
    let cases: Vec<(&str, Value, &str)> = vec![
        ("rate_area without a rate", with(&rate_area, json!({ "rate": null })), "rate"),
        ("metered without a price", with(&metered, json!({ "rate": null })), "rate"),
        ("floor_coefficient without a rate", with(&elevator, json!({ "rate": null })), "rate"),
        ("floor_coefficient without coefficients", with(&elevator, json!({ "floor_coefficients": null })), "floor_coefficients"),
        ("fixed without an amount", with(&fixed, json!({ "amount": null })), "amount"),
        ("fixed amount zero", with(&fixed, json!({ "amount": "0.00" })), "amount"),
        ("fixed amount negative", with(&fixed, json!({ "amount": "-150.00" })), "amount"),
        ("shared total zero", with(&shared, json!({ "amount": "0" })), "amount"),
        ("shared total negative", with(&shared, json!({ "amount": "-100.00" })), "amount"),
        ("shared without a split", with(&shared, json!({ "split": null })), "split"),
        ("split by coefficient without coefficients", with(&shared, json!({ "split": "coefficient" })), "floor_coefficients"),
        ("a floor key that is no number", with(&elevator, json!({ "floor_coefficients": { "3F": "0.7" } })), "floor_coefficients"),
        ("scope buildings without scope_ids", with(&rate_area, json!({ "scope": "buildings" })), "scope_ids"),
        ("scope stairwells with empty scope_ids", with(&rate_area, json!({ "scope": "stairwells", "scope_ids": [] })), "scope_ids"),
        ("scope units without scope_ids", with(&rate_area, json!({ "scope": "units" })), "scope_ids"),
        ("a rate as a JSON number", with(&rate_area, json!({ "rate": 1.2 })), "rate"),
        ("an amount as a JSON number", with(&fixed, json!({ "amount": 150 })), "amount"),
        ("a rate with a sign", with(&rate_area, json!({ "rate": "-1.20" })), "rate"),
        ("vacancy_ratio above 1", with(&rate_area, json!({ "vacancy_ratio": "1.01" })), "vacancy_ratio"),
        ("effective_to before effective_from", with(&rate_area, json!({ "effective_to": "2098-12" })), "effective_to"),
        ("due_days 400", with(&rate_area, json!({ "due_days": 400 })), "due_days"),
        ("due_days negative", with(&rate_area, json!({ "due_days": -1 })), "due_days"),
        ("an unknown kind", with(&rate_area, json!({ "kind": "per_head" })), "kind"),
        ("an unknown split", with(&shared, json!({ "split": "by_mood" })), "split"),
        ("an unknown cycle", with(&rate_area, json!({ "cycle": "weekly" })), "cycle"),
        ("an empty name", with(&rate_area, json!({ "name": "  " })), "name"),
        ("an impossible month", with(&rate_area, json!({ "effective_from": "2099-13" })), "effective_from"),
        ("no effective_from", with(&rate_area, json!({ "effective_from": null })), "effective_from"),
    ];
    for (case, body, field) in cases {
        let (status, answer) = app.post(&path, manager, body.clone()).await;
        assert_problem(status, &answer, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(answer["field"].as_str(), Some(field), "{case}: {body} -> {answer}");
    }
    // Only managers (and administrators) manage fees.
    let (status, answer) = app.post(&path, tenant.token(Role::Cashier), rate_area.clone()).await;
    assert_problem(status, &answer, StatusCode::FORBIDDEN, "forbidden");

    assert_eq!(get_ok(&app, &path, manager).await, before, "nothing was written");
    // And a bill run sees the one valid item only: 1.20 x (88.60 + 72.35) = 193.14.
    let shown = preview(&app, &tenant, "2099-01").await;
    assert_eq!((shown["items"].as_array().unwrap().len(), shown["total"].as_str()), (1, Some("193.14")), "{shown}");
}

/// A bad late-fee term must name the field of the request that carries it, like every other
/// validation error (the body has `late_fee: { daily_rate, grace_days, cap }`).
#[tokio::test]
async fn late_fee_terms_out_of_range_name_the_request_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let path = format!("/compounds/{}/fee-items", tenant.compound_id);
    let base = json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "effective_from": "2099-01" });
    let cases = [
        (json!({ "daily_rate": "1.5" }), "late_fee.daily_rate"),
        (json!({ "daily_rate": "0.0003", "cap": "2" }), "late_fee.cap"),
        (json!({ "daily_rate": "0.0003", "grace_days": 4000 }), "late_fee.grace_days"),
        (json!({ "daily_rate": 0.0003 }), "late_fee.daily_rate"),
    ];
    let mut wrong = Vec::new();
    for (terms, field) in cases {
        let (status, answer) = app.post(&path, manager, with(&base, json!({ "late_fee": terms }))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{terms}: {answer}");
        if answer["field"].as_str() != Some(field) {
            wrong.push(format!("{terms}: expected field {field:?}, got {}", answer["field"]));
        }
    }
    assert!(wrong.is_empty(), "errors naming a field the request does not have:\n{}", wrong.join("\n"));
    assert!(get_ok(&app, &path, manager).await.as_array().unwrap().is_empty(), "nothing was written");
}

/// scope_ids must name buildings, stairwells or units of the compound: an item scoped to
/// another company's unit, or to nothing that exists, is refused, since a shared cost over it
/// would make every later bill run of the compound fail.
#[tokio::test]
async fn scope_ids_outside_the_compound_are_refused() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let beta = app.tenant("Beta").await;
    let manager = tenant.token(Role::Manager);
    let path = format!("/compounds/{}/fee-items", tenant.compound_id);
    let shared = json!({ "name": "公摊", "kind": "shared", "amount": "10.00", "split": "area", "cycle": "monthly", "effective_from": "2099-01" });
    let mut accepted = Vec::new();
    for scope in [
        json!({ "scope": "units", "scope_ids": [beta.unit_id] }),
        json!({ "scope": "stairwells", "scope_ids": [beta.stairwell_id] }),
        json!({ "scope": "buildings", "scope_ids": [999_999] }),
        json!({ "scope": "units", "scope_ids": [tenant.unit_id, 999_999] }),
    ] {
        let mut body = shared.clone();
        body.as_object_mut().unwrap().extend(scope.as_object().unwrap().clone());
        let (status, answer) = app.post(&path, manager, body).await;
        if (status, answer["field"].as_str()) != (StatusCode::BAD_REQUEST, Some("scope_ids")) {
            accepted.push(format!("{scope} -> {status} {answer}"));
        }
    }
    let items = get_ok(&app, &path, manager).await;
    let (status, answer) = app.post(&format!("/compounds/{}/bill-runs", tenant.compound_id), manager, json!({ "period": "2099-01", "preview": true })).await;
    assert!(accepted.is_empty(), "scopes outside the compound accepted:\n{}\nthen a bill run answers {status} {answer}", accepted.join("\n"));
    assert_eq!(items, json!([]));
    assert_eq!(status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// 3. Adjustments
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn adjustments_change_the_bill_post_to_the_ledger_and_never_undercut_what_was_paid() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let manager_id = get_ok(&app, "/auth/me", manager).await["user_id"].as_i64().unwrap();
    let property = fee_item(&app, &tenant, json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "effective_from": "2099-01" })).await;
    // 301: 106.32; 302: 86.82.
    assert_eq!(run(&app, &tenant, "2099-11").await["total"], "193.14");
    let bill_id = unit_bills(&app, manager, tenant.unit_id, property).await[0]["id"].as_i64().unwrap();
    let adjust = format!("/bills/{bill_id}/adjustments");
    let state = |detail: &Value| {
        let b = &detail["bill"];
        [&b["amount"], &b["adjusted"], &b["paid"], &b["outstanding"], &b["total_due"], &b["status"]].map(|v| v.as_str().unwrap().to_string())
    };
    let expect = |amount: &str, adjusted: &str, paid: &str, outstanding: &str, status: &str| {
        [amount, adjusted, paid, outstanding, outstanding, status].map(str::to_string)
    };

    // A waiver of 20.00: 106.32 - 20.00 = 86.32, posted as revenue given up.
    let waived = post_ok(&app, &adjust, manager, json!({ "kind": "waiver", "amount": "-20.00", "reason": "疫情期间减免 COVID relief" })).await;
    assert_eq!(state(&waived), expect("106.32", "-20.00", "0.00", "86.32", "open"));
    let first = &waived["adjustments"][0];
    assert_eq!((first["kind"].as_str(), first["amount"].as_str(), first["staff_id"].as_i64()), (Some("waiver"), Some("-20.00"), Some(manager_id)));
    assert!(first["journal_entry_id"].as_i64().is_some(), "{first}");
    let verified = verification(&app, &tenant).await;
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(trial_balance(&verified), accounts(&[("1122", "193.14", "20.00"), ("6001", "20.00", "193.14")]));

    // A discount of 6.32: 80.00; a correction of +10.00: 90.00.
    let discounted = post_ok(&app, &adjust, manager, json!({ "kind": "discount", "amount": "-6.32", "reason": "老年人优惠 senior discount" })).await;
    assert_eq!(state(&discounted), expect("106.32", "-26.32", "0.00", "80.00", "open"));
    let corrected = post_ok(&app, &adjust, manager, json!({ "kind": "correction", "amount": "10.00", "reason": "面积更正 area corrected" })).await;
    assert_eq!(state(&corrected), expect("106.32", "-16.32", "0.00", "90.00", "open"));

    // 50.00 paid at the desk leaves 40.00.
    let paid = post_ok(&app, &format!("/units/{}/payments", tenant.unit_id), tenant.token(Role::Cashier), json!({ "method": "cash", "amount": "50.00", "bill_ids": [bill_id] })).await;
    assert_eq!(paid["allocations"], json!([{ "bill_id": bill_id, "principal": "50.00", "late_fee": "0.00" }]));

    // Refused, each leaving the bill as it was:
    let refused = [
        // 90.00 - 40.01 = 49.99 would ask for less than the 50.00 paid.
        (manager, json!({ "kind": "correction", "amount": "-40.01", "reason": "x" }), StatusCode::BAD_REQUEST, Some("amount")),
        (manager, json!({ "kind": "waiver", "amount": "-90.00", "reason": "x" }), StatusCode::BAD_REQUEST, Some("amount")),
        // Waivers and discounts lower a bill; a correction is never zero.
        (manager, json!({ "kind": "waiver", "amount": "5.00", "reason": "x" }), StatusCode::BAD_REQUEST, Some("amount")),
        (manager, json!({ "kind": "discount", "amount": "1.00", "reason": "x" }), StatusCode::BAD_REQUEST, Some("amount")),
        (manager, json!({ "kind": "correction", "amount": "0.00", "reason": "x" }), StatusCode::BAD_REQUEST, Some("amount")),
        // No late fee is owed on this bill, so any late-fee waiver is larger than it.
        (manager, json!({ "kind": "late_fee_waiver", "amount": "0.01", "reason": "x" }), StatusCode::BAD_REQUEST, Some("amount")),
        (manager, json!({ "kind": "waiver", "amount": "-1.00" }), StatusCode::BAD_REQUEST, Some("reason")),
        (manager, json!({ "kind": "waiver", "amount": "-1.00", "reason": "   " }), StatusCode::BAD_REQUEST, Some("reason")),
        (manager, json!({ "kind": "forgiveness", "amount": "-1.00", "reason": "x" }), StatusCode::BAD_REQUEST, Some("kind")),
        (manager, json!({ "kind": "waiver", "amount": -1, "reason": "x" }), StatusCode::BAD_REQUEST, Some("amount")),
        // A cashier collects money but may not adjust bills.
        (tenant.token(Role::Cashier), json!({ "kind": "waiver", "amount": "-1.00", "reason": "x" }), StatusCode::FORBIDDEN, None),
    ];
    for (token, body, expected, field) in refused {
        let (status, answer) = app.post(&adjust, token, body.clone()).await;
        assert_eq!((status, answer["field"].as_str()), (expected, field), "{body}: {answer}");
        if expected == StatusCode::FORBIDDEN {
            assert_eq!(answer["code"], "forbidden");
        }
    }
    let unchanged = get_ok(&app, &format!("/bills/{bill_id}"), manager).await;
    assert_eq!(state(&unchanged), expect("106.32", "-16.32", "50.00", "40.00", "open"));
    assert_eq!(unchanged["adjustments"].as_array().unwrap().len(), 3);

    // Exactly down to what is paid is allowed: the bill is then paid.
    let settled = post_ok(&app, &adjust, manager, json!({ "kind": "correction", "amount": "-40.00", "reason": "抄错面积 wrong area" })).await;
    assert_eq!(state(&settled), expect("106.32", "-56.32", "50.00", "0.00", "paid"));

    // Every adjustment is listed, in order, with its reason and the staff member.
    let detail = get_ok(&app, &format!("/bills/{bill_id}"), manager).await;
    let listed: Vec<(String, String, String, i64)> = detail["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap().into(), a["amount"].as_str().unwrap().into(), a["reason"].as_str().unwrap().into(), a["staff_id"].as_i64().unwrap()))
        .collect();
    let adj = |k: &str, a: &str, r: &str| (k.to_string(), a.to_string(), r.to_string(), manager_id);
    assert_eq!(
        listed,
        vec![
            adj("waiver", "-20.00", "疫情期间减免 COVID relief"),
            adj("discount", "-6.32", "老年人优惠 senior discount"),
            adj("correction", "10.00", "面积更正 area corrected"),
            adj("correction", "-40.00", "抄错面积 wrong area"),
        ]
    );
    assert!(detail["adjustments"].as_array().unwrap().iter().all(|a| a["bill_id"] == bill_id && a["journal_entry_id"].is_i64()));
    // The owner sees the same adjusted bill.
    let owners_view = get_ok(&app, &format!("/bills/{bill_id}"), tenant.token(Role::Owner)).await;
    assert_eq!(owners_view["adjustments"].as_array().unwrap().len(), 4);

    // Revenue given up 20.00 + 6.32 + 40.00 = 66.32; raised 193.14 + 10.00 = 203.14.
    // Receivables: raised 203.14; settled 66.32 by adjustments and 50.00 in cash; what is left,
    // 86.82, is 302's untouched bill.
    let verified = verification(&app, &tenant).await;
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(
        trial_balance(&verified),
        accounts(&[("1001", "50.00", "0.00"), ("1122", "203.14", "116.32"), ("6001", "66.32", "203.14")])
    );
    assert_eq!((verified["total_debits"].as_str(), verified["total_credits"].as_str()), (Some("319.46"), Some("319.46")));
    assert_eq!(verified["entries"], 6, "one bill run, four adjustments, one payment");
}

#[tokio::test]
async fn a_late_fee_waiver_is_at_most_the_late_fee_owed_and_posts_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    // A one-off 1,275.84 bill that fell due 100 days ago, at 0.03% a day: 38.28 late fee.
    let due = today() - Duration::days(100);
    fee_item(&app, &tenant, json!({
        "name": "维修分摊", "kind": "fixed", "amount": "1275.84", "cycle": "one_off", "due_days": due.day() - 1,
        "scope": "units", "scope_ids": [tenant.unit_id], "late_fee": { "daily_rate": "0.0003" }, "effective_from": period_of(due)
    })).await;
    run(&app, &tenant, &period_of(due)).await;
    let bill = get_ok(&app, &format!("/units/{}/bills", tenant.unit_id), manager).await[0].clone();
    assert_eq!((bill["late_fee"].as_str(), bill["total_due"].as_str()), (Some("38.28"), Some("1314.12")), "{bill}");
    let adjust = format!("/bills/{}/adjustments", bill["id"]);

    for amount in ["38.29", "0.00", "-1.00"] {
        let (status, answer) = app.post(&adjust, manager, json!({ "kind": "late_fee_waiver", "amount": amount, "reason": "困难户" })).await;
        assert_eq!((status, answer["field"].as_str()), (StatusCode::BAD_REQUEST, Some("amount")), "{amount}: {answer}");
    }
    let waived = post_ok(&app, &adjust, manager, json!({ "kind": "late_fee_waiver", "amount": "38.28", "reason": "困难户 hardship" })).await;
    let b = &waived["bill"];
    assert_eq!(
        [&b["late_fee"], &b["late_fee_waived"], &b["outstanding"], &b["total_due"], &b["adjusted"]].map(|v| v.as_str().unwrap()),
        ["0.00", "38.28", "1275.84", "1275.84", "0.00"]
    );
    assert_eq!(waived["adjustments"][0]["journal_entry_id"], Value::Null, "late fees are not booked until collected");
    // Nothing is left to waive.
    let (status, answer) = app.post(&adjust, manager, json!({ "kind": "late_fee_waiver", "amount": "0.01", "reason": "again" })).await;
    assert_eq!((status, answer["field"].as_str()), (StatusCode::BAD_REQUEST, Some("amount")), "{answer}");

    let verified = verification(&app, &tenant).await;
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(trial_balance(&verified), accounts(&[("1122", "1275.84", "0.00"), ("6001", "0.00", "1275.84")]));
}

// ---------------------------------------------------------------------------------------------
// 4. Every money path, then the ledger
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn after_every_money_path_the_ledger_is_intact_and_each_account_adds_up() {
    let app = TestApp::spawn_with(&[("WUYE_GATEWAY_SECRET", GATEWAY_SECRET)]).await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let cashier = tenant.token(Role::Cashier);
    let owner = tenant.token(Role::Owner);
    let property = fee_item(&app, &tenant, json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "effective_from": "2099-01" })).await;
    let balance = |unit: i64| {
        let path = format!("/units/{unit}/balance");
        let app = &app;
        async move {
            let b = get_ok(app, &path, cashier).await;
            (b["owed"].as_str().unwrap().to_string(), b["prepaid"].as_str().unwrap().to_string())
        }
    };
    let pay = |unit: i64| format!("/units/{unit}/payments");

    // January: 301 106.32, 302 86.82. Dr 1122 193.14 / Cr 6001 193.14.
    assert_eq!(run(&app, &tenant, "2099-01").await["total"], "193.14");
    // 302's bill waived down to 80.00. Dr 6001 6.82 / Cr 1122 6.82.
    let held_january = unit_bills(&app, manager, tenant.developer_unit_id, property).await[0]["id"].as_i64().unwrap();
    post_ok(&app, &format!("/bills/{held_january}/adjustments"), manager, json!({ "kind": "waiver", "amount": "-6.82", "reason": "开发商协商 negotiated" })).await;

    // 150.00 cash for 301: 106.32 to January, 43.68 prepaid.
    // Dr 1001 150.00 / Cr 1122 106.32, Cr 2203 43.68.
    let cash = post_ok(&app, &pay(tenant.unit_id), cashier, json!({ "method": "cash", "amount": "150.00" })).await;
    assert_eq!(cash["to_prepaid"], "43.68");
    assert_eq!(balance(tenant.unit_id).await, ("0.00".into(), "43.68".into()));

    // February: Dr 1122 193.14 / Cr 6001 193.14. The prepaid 43.68 goes to 301's February bill.
    // Dr 2203 43.68 / Cr 1122 43.68.
    assert_eq!(run(&app, &tenant, "2099-02").await["total"], "193.14");
    let applied = post_ok(&app, &format!("/compounds/{}/prepaid-applications", tenant.compound_id), manager, json!({})).await;
    assert_eq!(applied["units"], 1);
    assert_eq!(balance(tenant.unit_id).await, ("62.64".into(), "0.00".into()));

    // 100.00 by bank transfer for 301: 62.64 to February, 37.36 prepaid.
    // Dr 1002 100.00 / Cr 1122 62.64, Cr 2203 37.36.
    let transfer = post_ok(&app, &pay(tenant.unit_id), cashier, json!({ "method": "bank_transfer", "amount": "100.00" })).await;
    assert_eq!(transfer["to_prepaid"], "37.36");
    // 7.36 of it refunded in cash. Dr 2203 7.36 / Cr 1001 7.36.
    let refunded = post_ok(&app, &format!("/units/{}/refunds", tenant.unit_id), cashier, json!({ "amount": "7.36", "method": "cash", "reason": "业主要求 asked" })).await;
    assert_eq!(refunded["prepaid_balance"], "30.00");

    // The developer pays 302's January bill by transfer, which bounces and is reversed.
    // Dr 1002 80.00 / Cr 1122 80.00, then Dr 1122 80.00 / Cr 1002 80.00.
    let bounced = post_ok(&app, &pay(tenant.developer_unit_id), cashier, json!({ "method": "bank_transfer", "amount": "80.00", "bill_ids": [held_january] })).await;
    assert_eq!(bounced["to_prepaid"], "0.00");
    let reversed = post_ok(&app, &format!("/payments/{}/reversal", bounced["id"]), manager, json!({ "reason": "转账退回 bounced" })).await;
    assert_eq!(reversed["status"], "reversed");
    assert_eq!(balance(tenant.developer_unit_id).await, ("166.82".into(), "0.00".into()));

    // March: Dr 1122 193.14 / Cr 6001 193.14. The owner pays 301's March bill online.
    // Dr 1012 106.32 / Cr 1122 106.32.
    assert_eq!(run(&app, &tenant, "2099-03").await["total"], "193.14");
    let march = unit_bills(&app, owner, tenant.unit_id, property).await.into_iter().find(|b| b["period"] == "2099-03").unwrap();
    let order = post_ok(&app, "/payment-orders", owner, json!({ "unit_id": tenant.unit_id, "bill_ids": [march["id"]] })).await;
    assert_eq!(order["amount"], "106.32");
    let callback = json!({ "order_id": order["id"], "amount": "106.32", "transaction_id": "wx-2099-03" }).to_string();
    let signature = wuye::payments::gateway::BuiltinGateway::sign(GATEWAY_SECRET, callback.as_bytes());
    let answer = app
        .client
        .post(format!("{}/gateway/builtin/callback", app.base))
        .header("content-type", "application/octet-stream")
        .header("X-Wuye-Signature", signature)
        .body(callback)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(balance(tenant.unit_id).await, ("0.00".into(), "30.00".into()));

    // Elevator advertising: the owners' money. Dr 1002 3,600.00 / Cr 2241 3,600.00.
    post_ok(&app, &format!("/compounds/{}/common-income", tenant.compound_id), cashier, json!({
        "source": "elevator_ads", "description": "电梯广告 2099 Q1", "amount": "3600.00", "received_on": "2026-03-20", "method": "bank_transfer"
    })).await;

    // By hand:
    // 1001 cash:        Dr 150.00                              Cr 7.36
    // 1002 bank:        Dr 100.00 + 80.00 + 3,600.00 = 3,780.00 Cr 80.00
    // 1012 gateway:     Dr 106.32
    // 1122 receivables: Dr 3 x 193.14 + 80.00 = 659.42
    //                   Cr 6.82 + 106.32 + 43.68 + 62.64 + 80.00 + 106.32 = 405.78
    // 2203 prepaid:     Dr 43.68 + 7.36 = 51.04                Cr 43.68 + 37.36 = 81.04
    // 2241 owners':                                            Cr 3,600.00
    // 6001 revenue:     Dr 6.82                                Cr 3 x 193.14 = 579.42
    // Debits 4,753.60 = credits 4,753.60.
    let verified = verification(&app, &tenant).await;
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(verified["first_break"], Value::Null);
    assert_eq!((verified["total_debits"].as_str(), verified["total_credits"].as_str()), (Some("4753.60"), Some("4753.60")), "{verified}");
    assert_eq!(
        trial_balance(&verified),
        accounts(&[
            ("1001", "150.00", "7.36"),
            ("1002", "3780.00", "80.00"),
            ("1012", "106.32", "0.00"),
            ("1122", "659.42", "405.78"),
            ("2203", "51.04", "81.04"),
            ("2241", "0.00", "3600.00"),
            ("6001", "6.82", "579.42"),
        ])
    );
    // 3 bill runs, 1 adjustment, 3 desk payments, 1 use of prepaid, 1 refund, 1 reversal,
    // 1 online payment, 1 common income.
    assert_eq!(verified["entries"], 12);
    // The receivables left, 253.64, are exactly 302's open bills: 80.00 + 86.82 + 86.82.
    assert_eq!(balance(tenant.developer_unit_id).await, ("253.64".into(), "0.00".into()));
    let owed_301 = balance(tenant.unit_id).await;
    assert_eq!(owed_301, ("0.00".into(), "30.00".into()), "30.00 prepaid = 2203 credit balance 81.04 - 51.04");

    // The command a committee or an auditor runs says the same.
    let url = app.database_url.clone();
    let compound = tenant.compound_id.to_string();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_wuye"))
            .args(["ledger", "verify", "--compound", &compound])
            .env("WUYE_DATABASE_URL", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    assert!(printed.contains("intact, 12 entries") && printed.contains("debits 4753.60 = credits 4753.60"), "{printed}");
}

