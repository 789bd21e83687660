//! Elevator retrofits (issue 6): a stairwell's plan by coefficient x area and by percentage per
//! floor, every household's share adding up exactly to the owners' part, the consent vote under
//! a local rule, the shares billed in instalments once it passes, and the running-cost fee item.
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wuye::auth::Role;

fn id_of(value: &Value) -> i64 {
    value["id"].as_i64().unwrap_or_else(|| panic!("no id in {value}"))
}

/// Seven floors, two 100 m² flats a floor, fourteen owners (业主1 and 业主2 on the 1st floor...).
fn stairwell() -> Vec<Flat<'static>> {
    (1..=14).map(|n| owned_flat(n, n.div_ceil(2) as i32, "100")).collect()
}

fn shares_by_floor(plan: &Value) -> Vec<(i64, String)> {
    let mut shares: Vec<(i64, String)> = plan["shares"].as_array().unwrap().iter().map(|s| (s["floor"].as_i64().unwrap(), s["share"].as_str().unwrap().to_string())).collect();
    shares.sort();
    shares
}

fn total_of(plan: &Value) -> i64 {
    plan["shares"].as_array().unwrap().iter().map(|s| s["share"].as_str().unwrap().replace('.', "").parse::<i64>().unwrap()).sum()
}

#[tokio::test]
async fn a_plan_by_coefficient_and_area_is_voted_billed_in_instalments_and_runs_costs() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Elevator").await;
    let manager = tenant.token(Role::Manager);
    let compound = compound_of(&app, &tenant, "电梯小区", &stairwell()).await;
    let units = units_by_number(&app, manager, compound).await;
    let (_, unit) = app.get(&format!("/units/{}", units["1001"]), manager).await;
    let stairwell_id = unit["stairwell_id"].as_i64().unwrap();
    let plans = format!("/stairwells/{stairwell_id}/elevator-plans");
    let closes_at = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let plan = json!({
        "title": "5栋1单元加装电梯", "total_cost": "120000.00", "subsidies": "30000.00", "method": "area_coefficient",
        "coefficients": { "3": "0.7", "4": "0.8", "5": "0.9", "6": "1.0", "7": "1.1" }, "exempt_floors": [1, 2],
        "rule_set": "elevator_double_three_quarters", "closes_at": closes_at,
    });
    let (status, created) = app.post(&plans, manager, plan.clone()).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!((created["owners_part"].as_str(), created["status"].as_str()), (Some("90000.00"), Some("voting")));
    // 90,000.00 over 2 x 100 m² x (0.7 + 0.8 + 0.9 + 1.0 + 1.1) = 900 weighted m²: 100 元 each.
    let expected: Vec<(i64, String)> = [(1, "0.00"), (2, "0.00"), (3, "7000.00"), (4, "8000.00"), (5, "9000.00"), (6, "10000.00"), (7, "11000.00")]
        .iter()
        .flat_map(|(floor, share)| [(*floor, share.to_string()), (*floor, share.to_string())])
        .collect();
    assert_eq!(shares_by_floor(&created), expected);
    assert_eq!(total_of(&created), 9_000_000);

    // Not billed before the stairwell consents.
    let path = format!("/elevator-plans/{}", id_of(&created));
    let first_due = today() + chrono::Duration::days(10);
    let (status, problem) = app.post(&format!("{path}/bills"), manager, json!({ "instalments": 3, "first_due": first_due.to_string() })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    // 13 of 14 agree: double 3/4 met.
    let vote_id = created["vote_id"].as_i64().unwrap();
    let (_, vote) = app.get(&format!("/votes/{vote_id}"), manager).await;
    assert_eq!((vote["matter"].as_str(), vote["rule_set"].as_str(), vote["total_headcount"].as_i64()), (Some("alteration_or_rebuilding"), Some("elevator_double_three_quarters"), Some(14)));
    let electors = electors(&app, manager, vote_id).await;
    for n in 1..=14 {
        paper_ballot(&app, manager, vote_id, electors[&format!("业主{n}")]["id"].as_i64().unwrap(), if n == 1 { "disagree" } else { "agree" }).await;
    }
    close_vote(&app, manager, vote_id).await;
    let (_, approved) = app.get(&path, manager).await;
    assert_eq!(approved["status"], "approved", "{approved}");

    let (status, problem) = app.post(&format!("{path}/bills"), manager, json!({ "instalments": 25, "first_due": first_due.to_string() })).await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
    let (status, billed) = app.post(&format!("{path}/bills"), manager, json!({ "instalments": 3, "first_due": first_due.to_string() })).await;
    assert_eq!(status, StatusCode::OK, "{billed}");
    assert_eq!(billed["plan"]["status"], "billed");
    let bills = billed["bills"].as_array().unwrap();
    assert_eq!(bills.len(), 30, "ten paying flats, three instalments each");
    let billed_total: i64 = bills.iter().map(|b| b["amount"].as_str().unwrap().replace('.', "").parse::<i64>().unwrap()).sum();
    assert_eq!(billed_total, 9_000_000);
    // A 3rd-floor flat's 7,000.00 in three: the leftover fen goes to the first instalment.
    let (_, unit_bills) = app.get(&format!("/units/{}/bills", units["3005"]), manager).await;
    let mut instalments: Vec<(String, String)> =
        unit_bills.as_array().unwrap().iter().map(|b| (b["due_date"].as_str().unwrap().to_string(), b["amount"].as_str().unwrap().to_string())).collect();
    instalments.sort();
    let due = |months: u32| (first_due + chrono::Months::new(months)).to_string();
    assert_eq!(instalments, [(due(0), "2333.34".into()), (due(1), "2333.33".into()), (due(2), "2333.33".into())]);
    let (status, problem) = app.post(&format!("{path}/bills"), manager, json!({ "instalments": 1, "first_due": first_due.to_string() })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    // Collected for the stairwell's project, never the company's revenue.
    let (_, verification) = app.get(&format!("/compounds/{compound}/ledger/verification"), manager).await;
    assert_eq!(verification["intact"], true, "{verification}");
    let account = |code: &str| verification["trial_balance"].as_array().unwrap().iter().find(|a| a["code"] == code).map(|a| a["balance"].as_str().unwrap().to_string());
    assert_eq!((account("2243"), account("1122"), account("6001")), (Some("-90000.00".into()), Some("90000.00".into()), None));

    // Waiving part of a share gives back the owners' collection, never the company's revenue.
    let bill_id = unit_bills.as_array().unwrap()[0]["id"].as_i64().unwrap();
    let (status, waived) = app.post(&format!("/bills/{bill_id}/adjustments"), manager, json!({ "kind": "waiver", "amount": "-33.34", "reason": "困难户减免" })).await;
    assert_eq!(status, StatusCode::OK, "{waived}");
    let (_, verification) = app.get(&format!("/compounds/{compound}/ledger/verification"), manager).await;
    let account = |code: &str| verification["trial_balance"].as_array().unwrap().iter().find(|a| a["code"] == code).map(|a| a["balance"].as_str().unwrap().to_string());
    assert_eq!((account("2243"), account("6001")), (Some("-89966.66".into()), None));
    // One live plan a stairwell.
    let (status, problem) = app.post(&plans, manager, plan.clone()).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");

    // The running costs by the same coefficients: 0.30 元/m²·month x 100 m² x the floor's.
    let next = today() + chrono::Months::new(1);
    let period = period_of(next);
    let (status, item) = app.post(&format!("{path}/running-cost-fee-item"), manager, json!({ "name": "电梯运行费", "rate": "0.30", "effective_from": period })).await;
    assert_eq!(status, StatusCode::OK, "{item}");
    assert_eq!((item["kind"].as_str(), item["scope"].as_str(), item["scope_ids"].clone()), (Some("floor_coefficient"), Some("stairwells"), json!([stairwell_id])));
    assert_eq!(item["floor_coefficients"], json!({ "3": "0.7", "4": "0.8", "5": "0.9", "6": "1", "7": "1.1" }));
    let (_, preview) = app.post(&format!("/compounds/{compound}/bill-runs"), manager, json!({ "period": period, "preview": true })).await;
    let outcome = preview["items"].as_array().unwrap().iter().find(|i| i["fee_item_id"] == item["id"]).cloned().unwrap_or_else(|| panic!("{preview}"));
    assert_eq!((outcome["bills"].as_u64(), outcome["total"].as_str(), outcome["not_charged"].as_array().map(Vec::len)), (Some(10), Some("270.00"), Some(4)), "{outcome}");
    let (status, problem) = app.post(&format!("{path}/running-cost-fee-item"), manager, json!({ "name": "电梯运行费", "rate": "0.30", "effective_from": period })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn a_plan_by_percentage_per_floor_and_a_local_rule_that_one_objection_fails() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Elevator Floors").await;
    let manager = tenant.token(Role::Manager);
    let compound = compound_of(&app, &tenant, "百分比小区", &stairwell()).await;
    let units = units_by_number(&app, manager, compound).await;
    let (_, unit) = app.get(&format!("/units/{}", units["1001"]), manager).await;
    let plans = format!("/stairwells/{}/elevator-plans", unit["stairwell_id"]);
    let closes_at = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let plan = |method: &str, coefficients: Value, exempt: Value| {
        json!({ "title": "加装电梯", "total_cost": "100000.00", "method": method, "coefficients": coefficients, "exempt_floors": exempt,
                "rule_set": "elevator_two_thirds_no_objection", "closes_at": closes_at })
    };
    // Bad plans name their field.
    let refused = [
        (plan("floor_percentage", json!({ "3": "10", "4": "20" }), json!([1, 2, 5, 6, 7])), "coefficients"),
        (plan("unit_coefficient", json!({ units["3005"].to_string(): "1" }), json!([])), "coefficients"),
        (plan("area_coefficient", json!({ "third": "0.7" }), json!([])), "coefficients"),
        (plan("area_coefficient", json!({ "3": "0.7", "4": "0.8", "5": "0.9", "6": "1.0" }), json!([1, 2])), "coefficients"),
        (plan("area_coefficient", json!({ "3": "1" }), json!([1, 2, 4, 5, 6, 7, 9])), "coefficients"),
        (json!({ "title": "x", "total_cost": "100.00", "subsidies": "100.00", "method": "area_coefficient", "coefficients": {}, "rule_set": "elevator_two_thirds_no_objection", "closes_at": closes_at }), "subsidies"),
        ({
            let mut unknown_rule = plan("area_coefficient", json!({ "3": "1", "4": "1", "5": "1", "6": "1", "7": "1" }), json!([1, 2]));
            unknown_rule["rule_set"] = json!("shanghai_2030");
            unknown_rule
        }, "rule_set"),
    ];
    for (body, field) in refused {
        let (status, problem) = app.post(&plans, manager, body.clone()).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }

    // 3F 10%, 4F 20%, 5F 30%, 6F 40% of 100,000.00, split on the floor by area; 7F exempt.
    let (status, created) = app.post(&plans, manager, plan("floor_percentage", json!({ "3": "10", "4": "20", "5": "30", "6": "40" }), json!([1, 2, 7]))).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let expected: Vec<(i64, String)> = [(1, "0.00"), (2, "0.00"), (3, "5000.00"), (4, "10000.00"), (5, "15000.00"), (6, "20000.00"), (7, "0.00")]
        .iter()
        .flat_map(|(floor, share)| [(*floor, share.to_string()), (*floor, share.to_string())])
        .collect();
    assert_eq!(shares_by_floor(&created), expected);
    // Everyone but one agrees; under "no objection" the plan is rejected and never billed.
    let vote_id = created["vote_id"].as_i64().unwrap();
    let electors = electors(&app, manager, vote_id).await;
    for n in 1..=14 {
        paper_ballot(&app, manager, vote_id, electors[&format!("业主{n}")]["id"].as_i64().unwrap(), if n == 14 { "disagree" } else { "agree" }).await;
    }
    close_vote(&app, manager, vote_id).await;
    let path = format!("/elevator-plans/{}", id_of(&created));
    let (_, rejected) = app.get(&path, manager).await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    let (status, problem) = app.post(&format!("{path}/bills"), manager, json!({ "first_due": (today() + chrono::Duration::days(5)).to_string() })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");

    // Rejected, it makes way for a new plan: custom coefficients per flat, three flats paying
    // equally, adding up exactly (100,000.00 in three: 33,333.34 first).
    let custom: Value = (1..=14usize).map(|n| (units[&format!("{}{n:03}", n.div_ceil(2))].to_string(), json!(if n > 11 { "1" } else { "0" }))).collect::<serde_json::Map<_, _>>().into();
    let (status, thirds) = app.post(&plans, manager, plan("unit_coefficient", custom.clone(), json!([]))).await;
    assert_eq!(status, StatusCode::OK, "{thirds}");
    assert_eq!(total_of(&thirds), 10_000_000);
    let paying: Vec<String> = shares_by_floor(&thirds).into_iter().filter(|(_, s)| s != "0.00").map(|(_, s)| s).collect();
    assert_eq!(paying, ["33333.34", "33333.33", "33333.33"]);
    let (status, problem) = app.post(&plans, manager, plan("unit_coefficient", custom, json!([]))).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
}
