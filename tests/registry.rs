//! The property registry over HTTP: compounds down to units with exact areas, the field-naming
//! validation errors, duplicates, paging and search, co-owners and the one voter, sales that
//! keep history, and what owners and committee members see.
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wuye::auth::Role;

/// POSTs and returns the body, failing the test unless the answer is 200.
async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, answer) = app.post(path, token, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "POST {path} {body}: {answer}");
    answer
}

async fn ok_get(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = app.get(path, token).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

async fn new_owner(app: &TestApp, token: &str, compound_id: i64, name: &str, phone: &str) -> i64 {
    let owner = created(app, token, &format!("/compounds/{compound_id}/owners"), json!({ "name": name, "phone": phone })).await;
    owner["id"].as_i64().expect("owner id")
}

/// The ids of a list of units, or of a page's items.
fn ids(units: &Value) -> Vec<i64> {
    let list = if units.is_array() { units } else { &units["items"] };
    list.as_array().unwrap_or_else(|| panic!("no units in {units}")).iter().map(|u| u["id"].as_i64().unwrap()).collect()
}

/// (owner id, designated voter) of a unit's current owners.
fn current_owners(unit: &Value) -> Vec<(i64, bool)> {
    unit["owners"].as_array().unwrap().iter().map(|o| (o["owner"]["id"].as_i64().unwrap(), o["designated_voter"].as_bool().unwrap())).collect()
}

/// (owner id, started_on, ended_on) of a unit's ownership history.
fn history(ownerships: &Value) -> Vec<(i64, String, Option<String>)> {
    ownerships
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["owner_id"].as_i64().unwrap(), o["started_on"].as_str().unwrap().to_string(), o["ended_on"].as_str().map(str::to_string)))
        .collect()
}

#[tokio::test]
async fn the_hierarchy_is_created_and_read_back_with_exact_areas() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let manager = tenant.token(Role::Manager);

    let compound = created(&app, boss, "/compounds", json!({ "name": "  幸福里  ", "address": "88 Huaihai Rd" })).await;
    let compound_id = compound["id"].as_i64().unwrap();
    assert_eq!(compound["name"], "幸福里", "names are trimmed: {compound}");
    assert_eq!(compound["time_zone"], "Asia/Shanghai");
    assert_eq!(compound["company_id"], tenant.company_id);
    let read = ok_get(&app, manager, &format!("/compounds/{compound_id}")).await;
    assert_eq!(read, compound);
    let zoned = created(&app, boss, "/compounds", json!({ "name": "Zoned", "address": "1 Rd", "time_zone": "Asia/Urumqi" })).await;
    assert_eq!(zoned["time_zone"], "Asia/Urumqi");

    let building = created(&app, boss, &format!("/compounds/{compound_id}/buildings"), json!({ "name": "3栋" })).await;
    let building_id = building["id"].as_i64().unwrap();
    assert_eq!(building["compound_id"], compound_id);
    assert_eq!(ok_get(&app, manager, &format!("/compounds/{compound_id}/buildings")).await, json!([building]));
    let stairwell = created(&app, boss, &format!("/buildings/{building_id}/stairwells"), json!({ "name": "2单元" })).await;
    let stairwell_id = stairwell["id"].as_i64().unwrap();
    assert_eq!(stairwell["building_id"], building_id);
    assert_eq!(stairwell["compound_id"], compound_id);
    assert_eq!(ok_get(&app, manager, &format!("/buildings/{building_id}/stairwells")).await, json!([stairwell]));

    // (number, areas sent as registered/surveyed/contract, expected areas read back, effective
    // area and its kind): registered wins, else surveyed, else contract.
    type Areas = (Option<&'static str>, Option<&'static str>, Option<&'static str>);
    let cases: [(&str, Areas, Areas, &str, &str); 6] = [
        ("101", (Some("88.60"), None, None), (Some("88.60"), None, None), "88.60", "registered"),
        ("102", (Some("0.01"), Some("90.00"), Some("91.00")), (Some("0.01"), Some("90.00"), Some("91.00")), "0.01", "registered"),
        ("103", (None, Some("72.35"), Some("70")), (None, Some("72.35"), Some("70.00")), "72.35", "surveyed"),
        ("104", (None, None, Some("65.5")), (None, None, Some("65.50")), "65.50", "contract"),
        ("105", (Some("100000.00"), None, Some("1")), (Some("100000.00"), None, Some("1.00")), "100000.00", "registered"),
        ("B1-07", (None, Some("12.34"), None), (None, Some("12.34"), None), "12.34", "surveyed"),
    ];
    for (number, (registered, surveyed, contract), (want_registered, want_surveyed, want_contract), area, kind) in cases {
        let body = json!({
            "floor": 1, "number": number, "unit_use": "residential",
            "registered_area": registered, "surveyed_area": surveyed, "contract_area": contract,
        });
        let unit = created(&app, boss, &format!("/stairwells/{stairwell_id}/units"), body).await;
        let read = ok_get(&app, manager, &format!("/units/{}", unit["id"])).await;
        assert_eq!(read, unit, "read back differs from what creation answered");
        assert_eq!(read["number"], number);
        assert_eq!(read["label"], format!("3栋-2单元-{number}"));
        assert_eq!(read["compound_id"], compound_id);
        assert_eq!(read["building_id"], building_id);
        assert_eq!(read["stairwell_id"], stairwell_id);
        assert_eq!(read["registered_area"], json!(want_registered), "{number}: {read}");
        assert_eq!(read["surveyed_area"], json!(want_surveyed), "{number}: {read}");
        assert_eq!(read["contract_area"], json!(want_contract), "{number}: {read}");
        assert_eq!(read["area"], area, "{number}: {read}");
        assert_eq!(read["area_kind"], kind, "{number}: {read}");
        assert_eq!(read["developer_held"], false);
        assert_eq!(read["vacant"], false);
        assert_eq!(read["owners"], json!([]));
    }

    // Other uses, floors below ground, and the flags are kept.
    let parking = created(
        &app,
        boss,
        &format!("/stairwells/{stairwell_id}/units"),
        json!({ "floor": -2, "number": "P-015", "unit_use": "parking", "contract_area": "12.50", "developer_held": true, "vacant": true }),
    )
    .await;
    let read = ok_get(&app, manager, &format!("/units/{}", parking["id"])).await;
    assert_eq!((read["floor"].clone(), read["unit_use"].clone()), (json!(-2), json!("parking")));
    assert_eq!((read["developer_held"].clone(), read["vacant"].clone()), (json!(true), json!(true)));
    let page = ok_get(&app, manager, &format!("/units?stairwell_id={stairwell_id}")).await;
    assert_eq!(page["total"], 7, "{page}");
}

#[tokio::test]
async fn invalid_input_is_a_json_400_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let units = format!("/stairwells/{}/units", tenant.stairwell_id);
    let unit = |changes: Value| {
        let mut body = json!({ "floor": 5, "number": "501", "unit_use": "residential", "registered_area": "88.60" });
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        body
    };
    let unit_path = format!("/units/{}", tenant.unit_id);
    let buildings = format!("/compounds/{}/buildings", tenant.compound_id);
    let stairwells = format!("/buildings/{}/stairwells", tenant.building_id);
    let owners = format!("/compounds/{}/owners", tenant.compound_id);

    // (what, method, path, body, field)
    let post = reqwest::Method::POST;
    let patch = reqwest::Method::PATCH;
    let cases: Vec<(&str, reqwest::Method, &str, Value, &str)> = vec![
        ("area with 3 decimals", post.clone(), &units, unit(json!({ "registered_area": "88.605" })), "registered_area"),
        ("area as a number", post.clone(), &units, unit(json!({ "registered_area": 88.6 })), "registered_area"),
        ("area as an integer", post.clone(), &units, unit(json!({ "surveyed_area": 88 })), "surveyed_area"),
        ("area not a number", post.clone(), &units, unit(json!({ "contract_area": "eighty" })), "contract_area"),
        ("area of zero", post.clone(), &units, unit(json!({ "registered_area": "0" })), "registered_area"),
        ("negative area", post.clone(), &units, unit(json!({ "registered_area": "-1.00" })), "registered_area"),
        ("area too large", post.clone(), &units, unit(json!({ "registered_area": "100000.01" })), "registered_area"),
        ("no area at all", post.clone(), &units, unit(json!({ "registered_area": null })), "registered_area"),
        ("missing number", post.clone(), &units, unit(json!({ "number": null })), "number"),
        ("empty number", post.clone(), &units, unit(json!({ "number": "  " })), "number"),
        ("number as a number", post.clone(), &units, unit(json!({ "number": 501 })), "number"),
        ("floor 1000", post.clone(), &units, unit(json!({ "floor": 1000 })), "floor"),
        ("floor -6", post.clone(), &units, unit(json!({ "floor": -6 })), "floor"),
        ("floor as a string", post.clone(), &units, unit(json!({ "floor": "5" })), "floor"),
        ("missing floor", post.clone(), &units, unit(json!({ "floor": null })), "floor"),
        ("unknown unit_use", post.clone(), &units, unit(json!({ "unit_use": "spaceport" })), "unit_use"),
        ("empty building name", post.clone(), &buildings, json!({ "name": "" }), "name"),
        ("blank building name", post.clone(), &buildings, json!({ "name": "   " }), "name"),
        ("empty stairwell name", post.clone(), &stairwells, json!({ "name": "" }), "name"),
        ("empty compound name", post.clone(), "/compounds", json!({ "name": "", "address": "1 Rd" }), "name"),
        ("time_zone Mars", post.clone(), "/compounds", json!({ "name": "Mars Base", "address": "1 Rd", "time_zone": "Mars" }), "time_zone"),
        ("empty owner name", post.clone(), &owners, json!({ "name": " ", "phone": "13900001111" }), "name"),
        ("bad owner phone", post.clone(), &owners, json!({ "name": "Zhou", "phone": "12345" }), "phone"),
        ("patched area with 3 decimals", patch.clone(), &unit_path, json!({ "registered_area": "1.234" }), "registered_area"),
        ("patched area as a number", patch.clone(), &unit_path, json!({ "surveyed_area": 90 }), "surveyed_area"),
        ("patched floor 1000", patch.clone(), &unit_path, json!({ "floor": 1000 }), "floor"),
    ];
    for (what, method, path, body, field) in cases {
        let (status, problem) = app.request(method, path, Some(boss), Some(body)).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{what}: {problem}");
    }

    // A malformed body is a JSON problem too, never plain text.
    let response = app
        .client
        .post(format!("{}{units}", app.base))
        .bearer_auth(boss)
        .header("content-type", "application/json")
        .body(r#"{"floor": 5, "number": "501","#)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let problem: Value = response.json().await.expect("a JSON problem");
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
    assert!(problem["message"].as_str().unwrap().contains("not valid JSON"), "{problem}");

    // Nothing was written, and the patched unit is as it was.
    let page = ok_get(&app, boss, &format!("/units?stairwell_id={}", tenant.stairwell_id)).await;
    assert_eq!(ids(&page), vec![tenant.unit_id, tenant.developer_unit_id], "{page}");
    let unit = ok_get(&app, boss, &unit_path).await;
    assert_eq!((unit["floor"].clone(), unit["registered_area"].clone(), unit["surveyed_area"].clone()), (json!(3), json!("88.60"), Value::Null));
    assert_eq!(ok_get(&app, boss, "/compounds").await.as_array().unwrap().len(), 1);
    assert_eq!(ok_get(&app, boss, &buildings).await.as_array().unwrap().len(), 1);
    assert_eq!(ok_get(&app, boss, &format!("/owners?compound_id={}", tenant.compound_id)).await["total"], 1);
}

#[tokio::test]
async fn duplicates_are_conflicts_naming_the_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let units = format!("/stairwells/{}/units", tenant.stairwell_id);
    let buildings = format!("/compounds/{}/buildings", tenant.compound_id);
    let stairwells = format!("/buildings/{}/stairwells", tenant.building_id);
    let owners = format!("/compounds/{}/owners", tenant.compound_id);
    let compound_name = ok_get(&app, boss, &format!("/compounds/{}", tenant.compound_id)).await["name"].clone();

    // (what, path, body, field); the fixture already has unit 301, building 1栋, stairwell 1单元,
    // and an owner with phone 13800131234.
    let cases = [
        ("same unit number", &units, json!({ "floor": 3, "number": "301", "unit_use": "residential", "registered_area": "50" }), "number"),
        ("same unit number, padded", &units, json!({ "floor": 4, "number": " 301 ", "unit_use": "storage", "contract_area": "5" }), "number"),
        ("same building name", &buildings, json!({ "name": "1栋" }), "name"),
        ("same building name, padded", &buildings, json!({ "name": " 1栋 " }), "name"),
        ("same stairwell name", &stairwells, json!({ "name": "1单元" }), "name"),
        ("same compound name", &"/compounds".to_string(), json!({ "name": compound_name, "address": "2 Rd" }), "name"),
        ("same owner phone", &owners, json!({ "name": "Someone Else", "phone": "138-0013-1234" }), "phone"),
    ];
    for (what, path, body, field) in cases {
        let (status, problem) = app.post(path, boss, body).await;
        assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
        assert_eq!(problem["field"], field, "{what}: {problem}");
    }
    let page = ok_get(&app, boss, &format!("/units?stairwell_id={}", tenant.stairwell_id)).await;
    assert_eq!(page["total"], 2, "{page}");

    // The same names one level over are fine.
    let second = created(&app, boss, &stairwells, json!({ "name": "2单元" })).await;
    created(&app, boss, &format!("/stairwells/{}/units", second["id"]), json!({ "floor": 3, "number": "301", "unit_use": "residential", "registered_area": "50" })).await;
    let compound = created(&app, boss, "/compounds", json!({ "name": "Other", "address": "2 Rd" })).await;
    created(&app, boss, &format!("/compounds/{}/buildings", compound["id"]), json!({ "name": "1栋" })).await;
    created(&app, boss, &format!("/compounds/{}/owners", compound["id"]), json!({ "name": "王建国", "phone": "13800131234" })).await;
}

#[tokio::test]
async fn units_are_paged_with_a_total() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let stairwell = created(&app, boss, &format!("/buildings/{}/stairwells", tenant.building_id), json!({ "name": "9单元" })).await;
    let stairwell_id = stairwell["id"].as_i64().unwrap();
    let mut made = Vec::new();
    for floor in 1..=12 {
        let body = json!({ "floor": floor, "number": format!("{floor}01"), "unit_use": "residential", "registered_area": "60.00" });
        made.push(created(&app, boss, &format!("/stairwells/{stairwell_id}/units"), body).await["id"].as_i64().unwrap());
    }

    let mut seen = Vec::new();
    for (page, size) in [(1, 5), (2, 5), (3, 2), (4, 0)] {
        let body = ok_get(&app, boss, &format!("/units?stairwell_id={stairwell_id}&per_page=5&page={page}")).await;
        assert_eq!(body["total"], 12, "page {page}: {body}");
        assert_eq!(body["page"], page);
        assert_eq!(body["per_page"], 5);
        assert_eq!(body["items"].as_array().unwrap().len(), size, "page {page}: {body}");
        seen.extend(ids(&body));
    }
    // Every unit exactly once, in floor order (the order they were made in).
    assert_eq!(seen, made);

    // Without a stairwell filter the fixture's two units count too.
    let all = ok_get(&app, boss, "/units?per_page=500").await;
    assert_eq!(all["total"], 14);
    assert_eq!(all["items"].as_array().unwrap().len(), 14);

    for (query, field) in [("per_page=0", "per_page"), ("per_page=501", "per_page"), ("per_page=-1", "per_page"), ("page=0", "page")] {
        let (status, problem) = app.get(&format!("/units?{query}"), boss).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{query}: {problem}");
    }
}

#[tokio::test]
async fn units_are_found_by_number_owner_name_and_owner_phone() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let units = format!("/stairwells/{}/units", tenant.stairwell_id);
    let other = created(&app, boss, &units, json!({ "floor": 4, "number": "401", "unit_use": "residential", "registered_area": "70" })).await;
    let other_id = other["id"].as_i64().unwrap();
    let li = new_owner(&app, boss, tenant.compound_id, "李小红", "139 1234 0000").await;
    created(&app, boss, &format!("/units/{other_id}/owners"), json!({ "owner_id": li, "started_on": "2018-03-01" })).await;
    // An owner with no unit must not make anything match.
    new_owner(&app, boss, tenant.compound_id, "赵无房", "13700007777").await;

    // (q, expected units) — fixture: 301 owned by 王建国 13800131234, 302 developer-held.
    let cases: [(&str, Vec<i64>); 10] = [
        ("301", vec![tenant.unit_id]),
        ("30", vec![tenant.unit_id, tenant.developer_unit_id]),
        ("401", vec![other_id]),
        ("王建国", vec![tenant.unit_id]),
        ("建国", vec![tenant.unit_id]),
        ("李小红", vec![other_id]),
        ("13800131234", vec![tenant.unit_id]),
        ("0013", vec![tenant.unit_id]),
        ("13912340000", vec![other_id]),
        ("赵无房", vec![]),
    ];
    for (q, expected) in cases {
        let page = ok_get(&app, boss, &format!("/units?q={}", urlencode(q))).await;
        let mut found = ids(&page);
        found.sort();
        let mut expected = expected.clone();
        expected.sort();
        assert_eq!(found, expected, "q={q}: {page}");
        assert_eq!(page["total"], expected.len(), "q={q}: {page}");
    }
    let page = ok_get(&app, boss, "/units?q=nothing-like-this").await;
    assert_eq!((page["total"].clone(), page["items"].clone()), (json!(0), json!([])));
    let (status, problem) = app.get(&format!("/units?q={}", "1".repeat(51)), boss).await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(problem["field"], "q");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn a_units_areas_and_vacancy_are_patched() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let path = format!("/units/{}", tenant.developer_unit_id);
    // The developer-held unit has only a surveyed area, 72.35.

    // (patch, registered, surveyed, contract, area, kind, vacant)
    let steps = [
        (json!({ "contract_area": "70.10" }), None, Some("72.35"), Some("70.10"), "72.35", "surveyed", false),
        (json!({ "registered_area": "71.5" }), Some("71.50"), Some("72.35"), Some("70.10"), "71.50", "registered", false),
        (json!({ "surveyed_area": "0.01", "vacant": true }), Some("71.50"), Some("0.01"), Some("70.10"), "71.50", "registered", true),
        (json!({ "vacant": false }), Some("71.50"), Some("0.01"), Some("70.10"), "71.50", "registered", false),
        (json!({}), Some("71.50"), Some("0.01"), Some("70.10"), "71.50", "registered", false),
    ];
    for (change, registered, surveyed, contract, area, kind, vacant) in steps {
        let (status, answer) = app.patch(&path, manager, change.clone()).await;
        assert_eq!(status, StatusCode::OK, "{change}: {answer}");
        let unit = ok_get(&app, manager, &path).await;
        assert_eq!(unit, answer, "{change}");
        assert_eq!(unit["registered_area"], json!(registered), "{change}: {unit}");
        assert_eq!(unit["surveyed_area"], json!(surveyed), "{change}: {unit}");
        assert_eq!(unit["contract_area"], json!(contract), "{change}: {unit}");
        assert_eq!(unit["area"], area, "{change}: {unit}");
        assert_eq!(unit["area_kind"], kind, "{change}: {unit}");
        assert_eq!(unit["vacant"], vacant, "{change}: {unit}");
        // What a patch does not name stays as it was.
        assert_eq!((unit["number"].clone(), unit["floor"].clone(), unit["developer_held"].clone()), (json!("302"), json!(3), json!(true)));
    }
    let (status, unit) = app.patch(&path, manager, json!({ "floor": -1, "unit_use": "storage" })).await;
    assert_eq!(status, StatusCode::OK, "{unit}");
    assert_eq!((unit["floor"].clone(), unit["unit_use"].clone()), (json!(-1), json!("storage")));

    // Read-only roles cannot patch; the owned unit is untouched by all of this.
    let (status, problem) = app.patch(&path, tenant.token(Role::Committee), json!({ "vacant": true })).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    let owned = ok_get(&app, manager, &format!("/units/{}", tenant.unit_id)).await;
    assert_eq!((owned["area"].clone(), owned["vacant"].clone()), (json!("88.60"), json!(false)));
}

#[tokio::test]
async fn a_co_owner_named_voter_takes_the_vote() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let owners_path = format!("/units/{}/owners", tenant.unit_id);
    let wang = tenant.owner_id;
    let spouse = new_owner(&app, boss, tenant.compound_id, "刘芳", "13900002222").await;
    let child = new_owner(&app, boss, tenant.compound_id, "王小明", "13900003333").await;

    // The sole first owner votes.
    let unit = ok_get(&app, boss, &format!("/units/{}", tenant.unit_id)).await;
    assert_eq!(current_owners(&unit), vec![(wang, true)]);

    let unit = created(&app, boss, &owners_path, json!({ "owner_id": spouse, "designated_voter": true, "started_on": "2015-01-01" })).await;
    assert_eq!(current_owners(&unit), vec![(wang, false), (spouse, true)]);
    // A co-owner added without the vote leaves it where it is.
    let unit = created(&app, boss, &owners_path, json!({ "owner_id": child, "started_on": "2016-01-01" })).await;
    assert_eq!(current_owners(&unit), vec![(wang, false), (spouse, true), (child, false)]);
    let read = ok_get(&app, boss, &format!("/units/{}", tenant.unit_id)).await;
    assert_eq!(current_owners(&read), current_owners(&unit));
    assert_eq!(current_owners(&read).iter().filter(|(_, voter)| *voter).count(), 1);

    // The same owner twice is a conflict.
    let (status, problem) = app.post(&owners_path, boss, json!({ "owner_id": spouse, "designated_voter": true, "started_on": "2017-01-01" })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    assert_eq!(problem["field"], "owner_id");

    // The history shows every co-ownership open, with exactly one voter.
    let history_body = ok_get(&app, boss, &format!("/units/{}/ownerships", tenant.unit_id)).await;
    assert_eq!(
        history(&history_body),
        vec![(wang, "2012-05-01".into(), None), (spouse, "2015-01-01".into(), None), (child, "2016-01-01".into(), None)]
    );
    let voters: Vec<_> = history_body.as_array().unwrap().iter().filter(|o| o["designated_voter"] == true).map(|o| o["owner_id"].clone()).collect();
    assert_eq!(voters, vec![json!(spouse)]);

    // A first owner added to an empty (not developer-held) unit gets the vote unasked.
    let empty = created(&app, boss, &format!("/stairwells/{}/units", tenant.stairwell_id), json!({ "floor": 5, "number": "501", "unit_use": "residential", "registered_area": "60" })).await;
    let unit = created(&app, boss, &format!("/units/{}/owners", empty["id"]), json!({ "owner_id": child, "started_on": "2020-01-01" })).await;
    assert_eq!(current_owners(&unit), vec![(child, true)]);
}

#[tokio::test]
async fn an_owner_cannot_be_added_to_a_developer_held_unit() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let buyer = new_owner(&app, boss, tenant.compound_id, "陈买家", "13900004444").await;
    let (status, problem) = app
        .post(&format!("/units/{}/owners", tenant.developer_unit_id), boss, json!({ "owner_id": buyer, "designated_voter": true, "started_on": "2020-01-01" }))
        .await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    let unit = ok_get(&app, boss, &format!("/units/{}", tenant.developer_unit_id)).await;
    assert_eq!(unit["developer_held"], true);
    assert_eq!(unit["owners"], json!([]));
    assert_eq!(ok_get(&app, boss, &format!("/units/{}/ownerships", tenant.developer_unit_id)).await, json!([]));
}

#[tokio::test]
async fn sales_end_one_ownership_start_the_next_and_keep_history() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let wang = tenant.owner_id;
    let seller = tenant.token(Role::Owner);
    let first_buyer = new_owner(&app, boss, tenant.compound_id, "陈买家", "13900004444").await;
    let (zhang, liu) = (
        new_owner(&app, boss, tenant.compound_id, "张伟", "13900005555").await,
        new_owner(&app, boss, tenant.compound_id, "刘洋", "13900006666").await,
    );

    // The developer's first sale: no one's ownership ends, the unit is no longer developer-held.
    let sold = created(
        &app,
        boss,
        &format!("/units/{}/sales", tenant.developer_unit_id),
        json!({ "date": "2020-01-15", "buyers": [{ "owner_id": first_buyer }] }),
    )
    .await;
    assert_eq!(sold["developer_held"], false, "{sold}");
    assert_eq!(current_owners(&sold), vec![(first_buyer, true)]);
    assert_eq!(sold["owners"][0]["since"], "2020-01-15");
    let held_history = ok_get(&app, boss, &format!("/units/{}/ownerships", tenant.developer_unit_id)).await;
    assert_eq!(history(&held_history), vec![(first_buyer, "2020-01-15".into(), None)]);
    // Now it is owned, owners are added the ordinary way.
    created(&app, boss, &format!("/units/{}/owners", tenant.developer_unit_id), json!({ "owner_id": zhang, "started_on": "2021-01-01" })).await;

    // Refused sales of the owned unit change nothing. Wang has owned it since 2012-05-01.
    let sales = format!("/units/{}/sales", tenant.unit_id);
    let refused = [
        ("two buyers, no voter", json!({ "date": "2023-06-30", "buyers": [{ "owner_id": zhang }, { "owner_id": liu }] }), "buyers"),
        (
            "two buyers, two voters",
            json!({ "date": "2023-06-30", "buyers": [{ "owner_id": zhang, "designated_voter": true }, { "owner_id": liu, "designated_voter": true }] }),
            "buyers",
        ),
        ("no buyers", json!({ "date": "2023-06-30", "buyers": [] }), "buyers"),
        ("a buyer twice", json!({ "date": "2023-06-30", "buyers": [{ "owner_id": zhang, "designated_voter": true }, { "owner_id": zhang }] }), "buyers"),
        ("before the current owner's start", json!({ "date": "2012-04-30", "buyers": [{ "owner_id": zhang }] }), "date"),
        ("not a date", json!({ "date": "2023-02-30", "buyers": [{ "owner_id": zhang }] }), "date"),
    ];
    for (what, body, field) in refused {
        let (status, problem) = app.post(&sales, boss, body).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{what}: {problem}");
    }
    let unit = ok_get(&app, boss, &format!("/units/{}", tenant.unit_id)).await;
    assert_eq!(current_owners(&unit), vec![(wang, true)]);
    assert_eq!(history(&ok_get(&app, boss, &format!("/units/{}/ownerships", tenant.unit_id)).await), vec![(wang, "2012-05-01".into(), None)]);

    // Before the sale, the seller sees exactly their unit, and no registry listing.
    assert_eq!(ids(&ok_get(&app, seller, "/me/units").await), vec![tenant.unit_id]);

    // The sale to two buyers, Liu voting.
    let sold = created(
        &app,
        boss,
        &sales,
        json!({ "date": "2023-06-30", "buyers": [{ "owner_id": zhang }, { "owner_id": liu, "designated_voter": true }] }),
    )
    .await;
    assert_eq!(current_owners(&sold), vec![(zhang, false), (liu, true)]);
    assert_eq!(sold["developer_held"], false);
    let ownerships = ok_get(&app, boss, &format!("/units/{}/ownerships", tenant.unit_id)).await;
    assert_eq!(
        history(&ownerships),
        vec![(wang, "2012-05-01".into(), Some("2023-06-30".into())), (zhang, "2023-06-30".into(), None), (liu, "2023-06-30".into(), None)]
    );
    assert_eq!(ownerships[0]["owner_name"], "王建国");
    assert_eq!(ownerships[0]["unit_id"], tenant.unit_id);

    // The seller is no longer found as an owner, and no longer sees the unit.
    let page = ok_get(&app, boss, &format!("/units?q={}", urlencode("王建国"))).await;
    assert_eq!(page["total"], 0, "{page}");
    assert_eq!(ok_get(&app, seller, "/me/units").await, json!([]));

    // A resale ends both co-ownerships on the same date.
    created(&app, boss, &sales, json!({ "date": "2024-01-01", "buyers": [{ "owner_id": wang }] })).await;
    let ownerships = ok_get(&app, boss, &format!("/units/{}/ownerships", tenant.unit_id)).await;
    assert_eq!(
        history(&ownerships),
        vec![
            (wang, "2012-05-01".into(), Some("2023-06-30".into())),
            (zhang, "2023-06-30".into(), Some("2024-01-01".into())),
            (liu, "2023-06-30".into(), Some("2024-01-01".into())),
            (wang, "2024-01-01".into(), None),
        ]
    );
    assert_eq!(ids(&ok_get(&app, seller, "/me/units").await), vec![tenant.unit_id]);
}

#[tokio::test]
async fn owners_see_exactly_their_own_units_and_nothing_else() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let owner = tenant.token(Role::Owner);
    let wang = tenant.owner_id;
    // Wang also co-owns a parking space; someone else owns unit 401.
    let units = format!("/stairwells/{}/units", tenant.stairwell_id);
    let parking = created(&app, boss, &units, json!({ "floor": -1, "number": "P-01", "unit_use": "parking", "contract_area": "12.00" })).await;
    let parking_id = parking["id"].as_i64().unwrap();
    let neighbour = created(&app, boss, &units, json!({ "floor": 4, "number": "401", "unit_use": "residential", "registered_area": "70" })).await;
    let li = new_owner(&app, boss, tenant.compound_id, "李小红", "13912340000").await;
    created(&app, boss, &format!("/units/{}/owners", neighbour["id"]), json!({ "owner_id": li, "started_on": "2018-01-01" })).await;
    created(&app, boss, &format!("/units/{parking_id}/owners"), json!({ "owner_id": li, "started_on": "2018-01-01" })).await;
    created(&app, boss, &format!("/units/{parking_id}/owners"), json!({ "owner_id": wang, "started_on": "2019-01-01" })).await;

    let mine = ok_get(&app, owner, "/me/units").await;
    assert_eq!(ids(&mine), vec![tenant.unit_id, parking_id], "{mine}");
    assert_eq!(mine[0]["area"], "88.60");
    assert_eq!(mine[0]["label"], "1栋-1单元-301");
    assert_eq!(mine[1]["area_kind"], "contract");

    // The registry itself is closed to owners.
    for path in ["/units".to_string(), format!("/units/{}", tenant.unit_id), format!("/units/{}/ownerships", tenant.unit_id), "/owners".to_string()] {
        let (status, problem) = app.get(&path, owner).await;
        assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    }
    // And /me/units is for owners only.
    let (status, problem) = app.get("/me/units", boss).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn committee_members_see_owners_phones_masked() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let committee = tenant.token(Role::Committee);
    let manager = tenant.token(Role::Manager);
    let unit_path = format!("/units/{}", tenant.unit_id);
    let owner_path = format!("/owners/{}", tenant.owner_id);

    let full = ok_get(&app, manager, &unit_path).await;
    assert_eq!(full["owners"][0]["owner"]["phone"], "13800131234");
    assert_eq!(full["owners"][0]["owner"]["email"], "owner@alpha.test");

    let masked = ok_get(&app, committee, &unit_path).await;
    assert_eq!(masked["owners"][0]["owner"]["phone"], "138****1234", "{masked}");
    assert!(masked["owners"][0]["owner"]["email"].is_null(), "{masked}");
    let owner = ok_get(&app, committee, &owner_path).await;
    assert_eq!(owner["phone"], "138****1234", "{owner}");
    let page = ok_get(&app, committee, "/units").await;
    let listed = page["items"].as_array().unwrap().iter().find(|u| u["id"] == tenant.unit_id).expect("the unit is listed");
    assert_eq!(listed["owners"][0]["owner"]["phone"], "138****1234", "{listed}");
    let owners = ok_get(&app, committee, "/owners").await;
    assert!(!owners.to_string().contains("13800131234"), "{owners}");
}

// The three tests below send the same change several times at once, in a few rounds since a
// race does not show every time. Each request must either take effect or be refused cleanly,
// and the registry's invariants must hold afterwards.

#[tokio::test]
async fn concurrent_duplicates_are_conflicts_not_errors() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let path = format!("/stairwells/{}/units", tenant.stairwell_id);
    for round in 0..5 {
        let body = json!({ "floor": 9, "number": format!("90{round}"), "unit_use": "residential", "registered_area": "80" });
        let answers = futures_util::future::join_all((0..8).map(|_| app.post(&path, boss, body.clone()))).await;
        let made = answers.iter().filter(|(status, _)| *status == StatusCode::OK).count();
        assert_eq!(made, 1, "round {round}: {answers:?}");
        for (status, problem) in answers.iter().filter(|(status, _)| *status != StatusCode::OK) {
            assert_problem(*status, problem, StatusCode::CONFLICT, "conflict");
            assert_eq!(problem["field"], "number", "round {round}: {problem}");
        }
    }
    let page = ok_get(&app, boss, &format!("/units?stairwell_id={}", tenant.stairwell_id)).await;
    assert_eq!(page["total"], 7, "{page}");
}

#[tokio::test]
async fn concurrent_voter_designations_leave_exactly_one_voter() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let units = format!("/stairwells/{}/units", tenant.stairwell_id);
    for round in 0..5 {
        // A unit with a sole owner, and four people each named its voter at the same moment.
        let unit = created(&app, boss, &units, json!({ "floor": 6, "number": format!("60{round}"), "unit_use": "residential", "registered_area": "80" })).await;
        let unit_id = unit["id"].as_i64().unwrap();
        let first = new_owner(&app, boss, tenant.compound_id, &format!("业主{round}"), &format!("139000{round}0000")).await;
        created(&app, boss, &format!("/units/{unit_id}/owners"), json!({ "owner_id": first, "started_on": "2010-01-01" })).await;
        let mut co_owners = Vec::new();
        for i in 1..=4 {
            co_owners.push(new_owner(&app, boss, tenant.compound_id, &format!("共有人{round}-{i}"), &format!("139000{round}000{i}")).await);
        }
        let path = format!("/units/{unit_id}/owners");
        let adds = co_owners.iter().map(|id| app.post(&path, boss, json!({ "owner_id": id, "designated_voter": true, "started_on": "2020-01-01" })));
        for (status, body) in futures_util::future::join_all(adds).await {
            assert!(status == StatusCode::OK || status.is_client_error(), "round {round}: {status}: {body}");
        }
        let unit = ok_get(&app, boss, &format!("/units/{unit_id}")).await;
        let voters = current_owners(&unit).iter().filter(|(_, voter)| *voter).count();
        assert_eq!(voters, 1, "round {round}: {unit}");
    }
}

#[tokio::test]
async fn concurrent_sales_leave_one_current_owner() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let units = format!("/stairwells/{}/units", tenant.stairwell_id);
    for round in 0..5 {
        // An owned unit sold to four different single buyers at the same moment.
        let unit = created(&app, boss, &units, json!({ "floor": 7, "number": format!("70{round}"), "unit_use": "residential", "registered_area": "80" })).await;
        let unit_id = unit["id"].as_i64().unwrap();
        let seller = new_owner(&app, boss, tenant.compound_id, &format!("卖家{round}"), &format!("137000{round}0000")).await;
        created(&app, boss, &format!("/units/{unit_id}/owners"), json!({ "owner_id": seller, "started_on": "2010-01-01" })).await;
        let mut buyers = Vec::new();
        for i in 1..=4 {
            buyers.push(new_owner(&app, boss, tenant.compound_id, &format!("买家{round}-{i}"), &format!("137000{round}000{i}")).await);
        }
        let path = format!("/units/{unit_id}/sales");
        let sales = buyers.iter().map(|id| app.post(&path, boss, json!({ "date": "2023-06-30", "buyers": [{ "owner_id": id }] })));
        for (status, body) in futures_util::future::join_all(sales).await {
            assert!(status == StatusCode::OK || status.is_client_error(), "round {round}: {status}: {body}");
        }
        let unit = ok_get(&app, boss, &format!("/units/{unit_id}")).await;
        assert_eq!(current_owners(&unit).len(), 1, "round {round}: every sale had one buyer, so one owner is current: {unit}");
        let ownerships = ok_get(&app, boss, &format!("/units/{unit_id}/ownerships")).await;
        let open = history(&ownerships).iter().filter(|(_, _, ended)| ended.is_none()).count();
        assert_eq!(open, 1, "round {round}: {ownerships}");
    }
}

#[tokio::test]
async fn search_treats_like_wildcards_literally() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let odd = created(
        &app,
        boss,
        &format!("/stairwells/{}/units", tenant.stairwell_id),
        json!({ "floor": 1, "number": "A_100%", "unit_use": "storage", "contract_area": "3" }),
    )
    .await;
    // No unit number or owner contains "%" or "_" except that one unit, so only it may match.
    for q in ["%", "_", "0%", "A_1", "100%"] {
        let page = ok_get(&app, boss, &format!("/units?q={}", urlencode(q))).await;
        assert_eq!(ids(&page), vec![odd["id"].as_i64().unwrap()], "q={q} must match only the unit whose number contains it: {page}");
    }
    let page = ok_get(&app, boss, &format!("/units?q={}", urlencode("3_1"))).await;
    assert_eq!(page["total"], 0, "q=3_1 matches no unit number literally: {page}");
}

#[tokio::test]
async fn time_zone_must_name_a_real_zone() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    // "Mars" is refused for its shape (tested above); these have the right shape but no zone.
    for zone in ["Mars/Olympus_Mons", "Asia/Nowhere"] {
        let (status, problem) = app.post("/compounds", boss, json!({ "name": zone, "address": "1 Rd", "time_zone": zone })).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], "time_zone", "{zone}: {problem}");
    }
}

#[tokio::test]
async fn a_sale_in_the_future_is_refused() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let (_, buyer) = app.post(&format!("/compounds/{}/owners", tenant.compound_id), boss, json!({ "name": "赵丽", "phone": "13900009999" })).await;
    let (status, body) = app
        .post(&format!("/units/{}/sales", tenant.unit_id), boss, json!({ "date": "2099-01-01", "buyers": [{ "owner_id": buyer["id"] }] }))
        .await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("date")), "{body}");
    let (_, unit) = app.get(&format!("/units/{}", tenant.unit_id), boss).await;
    assert_eq!(unit["owners"][0]["owner"]["name"], "王建国", "the seller still owns it");
}
