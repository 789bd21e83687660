//! The maintenance fund (issue 6): initial deposits by the standard (90 m² x 90 = 8,100.00),
//! a repair apportioned by area (60,000 over 2,400 m²: 2,250.00 for 90 m²), the top-up line
//! (2,400.00 of 8,100.00 flagged, 2,430.00 not) and its notices, allocations exact to the fen,
//! the check of sub-ledgers against the journal, sales, and money that leaves the fund only
//! with a passed vote or a recorded emergency notice.
mod common;

use common::*;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use wuye::auth::Role;

fn id_of(value: &Value) -> i64 {
    value["id"].as_i64().unwrap_or_else(|| panic!("no id in {value}"))
}

async fn set_policy(app: &TestApp, token: &str, compound: i64, policy: Value) {
    let (status, body) = app.request(reqwest::Method::PUT, &format!("/compounds/{compound}/fund/policy"), Some(token), Some(policy)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn fund(app: &TestApp, token: &str, compound: i64) -> Value {
    let (status, fund) = app.get(&format!("/compounds/{compound}/fund"), token).await;
    assert_eq!(status, StatusCode::OK, "{fund}");
    fund
}

fn balance_of(fund: &Value, unit_id: i64) -> String {
    fund["units"].as_array().unwrap().iter().find(|u| u["unit_id"] == unit_id).unwrap_or_else(|| panic!("no unit {unit_id} in {fund}"))["balance"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The number of entries in the compound's journal.
async fn entries(app: &TestApp, token: &str, compound: i64) -> u64 {
    let (status, page) = app.get(&format!("/compounds/{compound}/ledger/entries?per_page=1"), token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["total"].as_u64().unwrap()
}

async fn verified(app: &TestApp, token: &str, compound: i64) {
    let (status, verification) = app.get(&format!("/compounds/{compound}/ledger/verification"), token).await;
    assert_eq!((status, verification["intact"].as_bool()), (StatusCode::OK, Some(true)), "{verification}");
}

/// An emergency project over `scope`, noticed, started and settled at `cost`; returns it.
async fn emergency_repair(app: &TestApp, token: &str, compound: i64, scope: Value, cost: &str) -> Value {
    let mut body = json!({ "title": "屋面漏水抢修", "description": "顶层屋面漏水，雨季前抢修", "budget": cost, "emergency": "roof_leak" });
    body.as_object_mut().unwrap().extend(scope.as_object().unwrap().clone());
    let (status, project) = app.post(&format!("/compounds/{compound}/fund/projects"), token, body).await;
    assert_eq!(status, StatusCode::OK, "{project}");
    let path = format!("/fund-projects/{}", id_of(&project));
    let (status, noticed) = app.post(&format!("{path}/emergency-notice"), token, json!({ "text": "顶层漏水危及住户安全，今日起动用维修资金抢修。" })).await;
    assert_eq!((status, noticed["status"].as_str()), (StatusCode::OK, Some("approved")), "{noticed}");
    let (status, started) = app.post(&format!("{path}/start"), token, json!({})).await;
    assert_eq!((status, started["status"].as_str()), (StatusCode::OK, Some("in_progress")), "{started}");
    let (status, settled) = app.post(&format!("{path}/settlement"), token, json!({ "actual_cost": cost })).await;
    assert_eq!((status, settled["status"].as_str()), (StatusCode::OK, Some("settled")), "{settled}");
    settled
}

#[tokio::test]
async fn deposits_a_repair_by_area_and_the_top_up_line_of_the_domain_notes() {
    let app = TestApp::spawn_with(&workers_on(&[])).await;
    let tenant = app.tenant("Fund Domain").await;
    let manager = tenant.token(Role::Manager);
    // 2,400 m²: A and B of 90 m², twenty of 111 m². A's owner has an email.
    let mut flats = vec![owned_flat(1, 2, "90"), owned_flat(2, 2, "90")];
    flats[0].email = Some("a@owners.test".into());
    flats.extend((3..=22).map(|n| owned_flat(n, 3, "111")));
    let compound = compound_of(&app, &tenant, "维修资金小区", &flats).await;
    let units = units_by_number(&app, manager, compound).await;
    let (a, b) = (units["2001"], units["2002"]);

    // Depositing before the standard is set is refused, naming what is missing.
    let deposits = format!("/compounds/{compound}/fund/deposits");
    let (status, body) = app.post(&deposits, manager, json!({ "received_on": "2026-11-01" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let bad = [
        (json!({ "deposit_basis": "per_m2", "source": "文件" }), "deposit_rate"),
        (json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "deposit_amount": "5000", "source": "文件" }), "deposit_amount"),
        (json!({ "deposit_basis": "fixed", "source": "文件" }), "deposit_amount"),
        (json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "source": "" }), "source"),
        (json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "source": "文件", "notice_days": 400 }), "notice_days"),
    ];
    for (policy, field) in bad {
        let (status, problem) = app.request(reqwest::Method::PUT, &format!("/compounds/{compound}/fund/policy"), Some(manager), Some(policy.clone())).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{policy}");
    }
    set_policy(&app, manager, compound, json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "source": "市住建委 2019 年第 3 号", "notice_days": 7 })).await;
    let (status, recorded) = app.post(&deposits, manager, json!({ "received_on": "2026-11-01" })).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded.as_array().unwrap().len(), 22);
    let deposit_of_a = recorded.as_array().unwrap().iter().find(|d| d["unit_id"] == a).unwrap();
    assert_eq!((deposit_of_a["amount"].as_str(), deposit_of_a["area"].as_str(), deposit_of_a["source"].as_str()), (Some("8100.00"), Some("90.00"), Some("市住建委 2019 年第 3 号")));
    let (status, body) = app.post(&deposits, manager, json!({ "received_on": "2026-11-01", "unit_ids": [a] })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let state = fund(&app, manager, compound).await;
    assert_eq!(state["check"], json!({ "agrees": true, "control_account": "216000.00", "sub_ledger_total": "216000.00", "fund_bank": "216000.00", "mismatches": [] }));

    // A repair of the whole compound, put to the vote: 15 of 22 owners agree.
    let (status, project) = app
        .post(&format!("/compounds/{compound}/fund/projects"), manager, json!({ "title": "外墙修缮", "description": "外墙空鼓脱落修缮", "budget": "60000.00" }))
        .await;
    assert_eq!((status, project["status"].as_str(), project["shares_are"].as_str()), (StatusCode::OK, Some("draft"), Some("planned")), "{project}");
    let share_of = |project: &Value, unit: i64| project["shares"].as_array().unwrap().iter().find(|s| s["unit_id"] == unit).unwrap()["share"].as_str().unwrap().to_string();
    assert_eq!(share_of(&project, a), "2250.00");
    let path = format!("/fund-projects/{}", id_of(&project));
    let closes_at = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let (status, voting) = app.post(&format!("{path}/vote"), manager, json!({ "closes_at": closes_at })).await;
    assert_eq!((status, voting["status"].as_str()), (StatusCode::OK, Some("voting")), "{voting}");
    let vote_id = voting["vote_id"].as_i64().unwrap();
    let electors = electors(&app, manager, vote_id).await;
    for n in 1..=15 {
        paper_ballot(&app, manager, vote_id, electors[&format!("业主{n}")]["id"].as_i64().unwrap(), "agree").await;
    }
    let closed = close_vote(&app, manager, vote_id).await;
    assert_eq!(closed["passed"], true, "{closed}");
    let (_, approved) = app.get(&path, manager).await;
    let notice_until = (today() + chrono::Duration::days(6)).to_string();
    assert_eq!((approved["status"].as_str(), approved["notice_until"].as_str()), (Some("approved"), Some(notice_until.as_str())), "{approved}");
    // On public notice for 7 days: work may not start yet.
    let (status, body) = app.post(&format!("{path}/start"), manager, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(body["message"].as_str().unwrap().contains(&notice_until), "{body}");
    // A week passes.
    entity::fund_project::ActiveModel { id: Set(id_of(&project)), notice_until: Set(Some(today() - chrono::Duration::days(1))), ..Default::default() }.update(&app.db).await.unwrap();
    let (status, started) = app.post(&format!("{path}/start"), manager, json!({})).await;
    assert_eq!((status, started["status"].as_str()), (StatusCode::OK, Some("in_progress")), "{started}");
    let (status, settled) = app.post(&format!("{path}/settlement"), manager, json!({ "actual_cost": "60000.00" })).await;
    assert_eq!((status, settled["status"].as_str(), settled["shares_are"].as_str()), (StatusCode::OK, Some("settled"), Some("actual")), "{settled}");
    let shares = settled["shares"].as_array().unwrap();
    assert_eq!(shares.len(), 22);
    assert_eq!((share_of(&settled, a), share_of(&settled, b)), ("2250.00".into(), "2250.00".into()));
    assert!(shares.iter().filter(|s| s["area"] == "111.00").all(|s| s["share"] == "2775.00"), "{settled}");
    let state = fund(&app, manager, compound).await;
    assert_eq!((balance_of(&state, a), state["check"]["agrees"].as_bool(), state["check"]["fund_bank"].as_str()), ("5850.00".into(), Some(true), Some("156000.00")));
    // The plan, the split and the spending, each written as a notice draft.
    let (_, notices) = app.get(&format!("/compounds/{compound}/notices?source=fund_project:{}", id_of(&project)), manager).await;
    let titles: Vec<&str> = notices.as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().split(':').next().unwrap()).collect();
    assert_eq!(titles, ["维修资金使用结算 Spending", "维修资金分摊 Per-unit split", "维修资金使用方案 Repair plan"]);
    assert!(notices[0]["body"].as_str().unwrap().contains("2250.00"), "{notices}");

    // Two emergency repairs leave A at 2,400.00 (29.6%: flagged) and B at 2,430.00 (30%: not).
    emergency_repair(&app, manager, compound, json!({ "scope": "units", "scope_ids": [a] }), "3450.00").await;
    emergency_repair(&app, manager, compound, json!({ "scope": "units", "scope_ids": [b] }), "3420.00").await;
    let (status, low) = app.get(&format!("/compounds/{compound}/fund/low-balances"), manager).await;
    assert_eq!(status, StatusCode::OK, "{low}");
    let low: Vec<(i64, &str, &str)> =
        low.as_array().unwrap().iter().map(|u| (u["unit_id"].as_i64().unwrap(), u["balance"].as_str().unwrap(), u["top_up_line"].as_str().unwrap())).collect();
    assert_eq!(low, [(a, "2400.00", "2430.00")]);
    let state = fund(&app, manager, compound).await;
    assert_eq!((balance_of(&state, b), state["units_below_top_up_line"].as_u64()), ("2430.00".into(), Some(1)));

    // The scheduler tells A's owner once; a second run tells no one again.
    let runs = run_job(&app, manager, "fund_top_ups").await;
    assert_eq!((runs[0]["counts"]["notices"].as_i64(), runs[0]["counts"]["emails"].as_i64()), (Some(1), Some(1)), "{runs:?}");
    let letters = entity::outbox_message::Entity::find().filter(entity::outbox_message::Column::Kind.eq("fund_top_up")).all(&app.db).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].recipient, "a@owners.test");
    assert!(letters[0].body.contains("2400.00") && letters[0].body.contains("8100.00"), "{}", letters[0].body);
    let again = run_job(&app, manager, "fund_top_ups").await;
    assert_eq!((again[0]["counts"]["units_below"].as_i64(), again[0]["counts"]["notices"].as_i64()), (Some(1), Some(0)), "{again:?}");
    // Topped up, A is above the line again.
    let (status, top_up) = app.post(&format!("/units/{a}/fund/top-ups"), tenant.token(Role::Cashier), json!({ "amount": "1000.00", "received_on": "2026-11-20" })).await;
    assert_eq!((status, top_up["balance_after"].as_str(), top_up["kind"].as_str()), (StatusCode::OK, Some("3400.00"), Some("top_up")), "{top_up}");
    let after = run_job(&app, manager, "fund_top_ups").await;
    assert_eq!(after[0]["counts"]["units_below"].as_i64(), Some(0), "{after:?}");
    verified(&app, manager, compound).await;
}

#[tokio::test]
async fn money_leaves_the_fund_only_with_a_passed_vote_or_an_emergency_notice() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Fund Guard").await;
    let manager = tenant.token(Role::Manager);
    let flats: Vec<Flat> = (1..=3).map(|n| owned_flat(n, 2, "100")).collect();
    let compound = compound_of(&app, &tenant, "守护小区", &flats).await;
    set_policy(&app, manager, compound, json!({ "deposit_basis": "fixed", "deposit_amount": "5000.00", "source": "市定额 5000 元/户", "notice_days": 0 })).await;
    let (status, recorded) = app.post(&format!("/compounds/{compound}/fund/deposits"), manager, json!({ "received_on": "2026-11-01" })).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert!(recorded.as_array().unwrap().iter().all(|d| d["amount"] == "5000.00" && d["basis"] == "fixed"), "{recorded}");
    let before = entries(&app, manager, compound).await;

    let projects = format!("/compounds/{compound}/fund/projects");
    let (_, project) = app.post(&projects, manager, json!({ "title": "更换水泵", "description": "二次供水水泵老化", "budget": "3000.00" })).await;
    let path = format!("/fund-projects/{}", id_of(&project));
    let refused = |step: &'static str, body: Value| (step, body);
    for (step, body) in [refused("start", json!({})), refused("settlement", json!({ "actual_cost": "3000.00" })), refused("emergency-notice", json!({ "text": "紧急" }))] {
        let (status, problem) = app.post(&format!("{path}/{step}"), manager, body).await;
        assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    }
    // The owners say no.
    let closes_at = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let (_, voting) = app.post(&format!("{path}/vote"), manager, json!({ "closes_at": closes_at })).await;
    let vote_id = voting["vote_id"].as_i64().unwrap();
    let electors = electors(&app, manager, vote_id).await;
    for n in 1..=3 {
        paper_ballot(&app, manager, vote_id, electors[&format!("业主{n}")]["id"].as_i64().unwrap(), "disagree").await;
    }
    close_vote(&app, manager, vote_id).await;
    let (_, rejected) = app.get(&path, manager).await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    for (step, body) in [refused("start", json!({})), refused("settlement", json!({ "actual_cost": "3000.00" })), refused("vote", json!({ "closes_at": closes_at }))] {
        let (status, problem) = app.post(&format!("{path}/{step}"), manager, body).await;
        assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    }
    assert_eq!(entries(&app, manager, compound).await, before, "nothing was posted");

    // An emergency spends on its recorded notice, but not more than the fund holds.
    let (_, emergency) = app.post(&projects, manager, json!({ "title": "消防管爆裂", "description": "消防管爆裂抢修", "budget": "300.00", "emergency": "roof_leak" })).await;
    let path = format!("/fund-projects/{}", id_of(&emergency));
    let (status, problem) = app.post(&format!("{path}/settlement"), manager, json!({ "actual_cost": "300.00" })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    app.post(&format!("{path}/emergency-notice"), manager, json!({ "text": "消防管爆裂，立即抢修。" })).await;
    let (status, started) = app.post(&format!("{path}/start"), manager, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    // Not a fen more than the notice's budget.
    let (status, problem) = app.post(&format!("{path}/settlement"), manager, json!({ "actual_cost": "300.01" })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    assert!(problem["message"].as_str().unwrap().contains("at most 300.00"), "{problem}");
    assert_eq!(entries(&app, manager, compound).await, before, "nothing was posted");
    let (status, settled) = app.post(&format!("{path}/settlement"), manager, json!({ "actual_cost": "300.00" })).await;
    assert_eq!(status, StatusCode::OK, "{settled}");
    assert!(settled["shares"].as_array().unwrap().iter().all(|s| s["share"] == "100.00"), "{settled}");
    assert_eq!(entries(&app, manager, compound).await, before + 1, "one entry for the whole settlement");
    let (_, notices) = app.get(&format!("/compounds/{compound}/notices?source=fund_project:{}", id_of(&emergency)), manager).await;
    let prior = notices.as_array().unwrap().iter().find(|n| n["category"] == "emergency").unwrap_or_else(|| panic!("{notices}"));
    assert_eq!(prior["status"], "published", "the prior notice reached the owners before the money moved");

    // Each unit pays from its own sub-ledger: 20,000.00 over three units holding 4,900.00 each
    // is refused, naming them, until they are topped up.
    let (_, big) = app.post(&projects, manager, json!({ "title": "二次供水改造", "description": "整体改造", "budget": "20000.00", "emergency": "pump_failure" })).await;
    let big_path = format!("/fund-projects/{}", id_of(&big));
    app.post(&format!("{big_path}/emergency-notice"), manager, json!({ "text": "水泵全部损坏，立即更换。" })).await;
    app.post(&format!("{big_path}/start"), manager, json!({})).await;
    let (status, problem) = app.post(&format!("{big_path}/settlement"), manager, json!({ "actual_cost": "20000.00" })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    assert!(problem["message"].as_str().unwrap().contains("holds 4900.00 of its 6666.67"), "{problem}");
    let units = units_by_number(&app, manager, compound).await;
    let state = fund(&app, manager, compound).await;
    assert_eq!(balance_of(&state, units["2001"]), "4900.00", "nothing moved");

    // Bad input names its field.
    let (_, ticket) = app
        .post("/tickets", manager, json!({ "unit_id": units["2001"], "category": "plumbing", "location": "in_unit", "description": "厨房漏水" }))
        .await;
    let bad = [
        (json!({ "title": "x", "description": "y", "budget": "0" }), "budget"),
        (json!({ "title": "x", "description": "y", "budget": "1.00", "scope": "units", "scope_ids": [tenant.unit_id] }), "scope_ids"),
        (json!({ "title": "x", "description": "y", "budget": "1.00", "ticket_ids": [ticket["id"]] }), "ticket_ids"),
        (json!({ "title": "", "description": "y", "budget": "1.00" }), "title"),
        (json!({ "title": "x", "description": "y", "budget": "1.00", "emergency": "bad_luck" }), "emergency"),
    ];
    for (body, field) in bad {
        let (status, problem) = app.post(&projects, manager, body.clone()).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }
    // The committee reads the fund; it changes nothing.
    let committee = tenant.token(Role::Committee);
    let (status, problem) = app.post(&projects, committee, json!({ "title": "x", "description": "y", "budget": "1.00" })).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn allocations_are_exact_and_the_check_names_a_tampered_sub_ledger() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Fund Check").await;
    let (manager, committee) = (tenant.token(Role::Manager), tenant.token(Role::Committee));
    let compound = tenant.compound_id;
    let (owned, held) = (tenant.unit_id, tenant.developer_unit_id);
    set_policy(&app, manager, compound, json!({ "deposit_basis": "per_m2", "deposit_rate": "60", "source": "按建安造价 5%" })).await;
    let (_, deposits) = app.post(&format!("/compounds/{compound}/fund/deposits"), manager, json!({ "received_on": "2026-11-01" })).await;
    // 88.60 x 60 = 5,316.00; 72.35 x 60 = 4,341.00.
    let amounts: Vec<(i64, &str)> = deposits.as_array().unwrap().iter().map(|d| (d["unit_id"].as_i64().unwrap(), d["amount"].as_str().unwrap())).collect();
    assert_eq!(amounts, [(owned, "5316.00"), (held, "4341.00")]);

    let allocations = format!("/compounds/{compound}/fund/allocations");
    // 100.00 of interest by area 88.60 : 72.35 is 55.048... and 44.951...: the leftover fen goes
    // to the larger remainder.
    let (status, interest) = app.post(&allocations, manager, json!({ "source": "interest", "amount": "100.00", "received_on": "2026-11-20" })).await;
    assert_eq!(status, StatusCode::OK, "{interest}");
    let split: Vec<&str> = interest.as_array().unwrap().iter().map(|m| m["amount"].as_str().unwrap()).collect();
    assert_eq!(split, ["55.05", "44.95"]);
    // Common-area income moves from the company's books into the fund, never more than is held.
    let (status, income) = app
        .post(
            &format!("/compounds/{compound}/common-income"),
            tenant.token(Role::Cashier),
            json!({ "source": "elevator_ads", "description": "电梯广告 2026", "amount": "300.00", "received_on": "2026-11-20", "method": "bank_transfer" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{income}");
    let (status, problem) = app.post(&allocations, manager, json!({ "source": "common_income", "amount": "300.01", "received_on": "2026-11-21" })).await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "conflict");
    let (status, common) = app.post(&allocations, manager, json!({ "source": "common_income", "amount": "300.00", "received_on": "2026-11-21" })).await;
    assert_eq!(status, StatusCode::OK, "{common}");
    // 134.855... and 165.144...: here the developer's unit has the larger remainder.
    let split: Vec<&str> = common.as_array().unwrap().iter().map(|m| m["amount"].as_str().unwrap()).collect();
    assert_eq!(split, ["165.14", "134.86"]);
    let (_, verification) = app.get(&format!("/compounds/{compound}/ledger/verification"), committee).await;
    let balance = |code: &str| verification["trial_balance"].as_array().unwrap().iter().find(|a| a["code"] == code).map(|a| a["balance"].as_str().unwrap().to_string());
    assert_eq!(balance("2241"), Some("0.00".into()), "the owners' income is all in the fund now");
    // By balance: 10.00 over 5,536.19 and 4,520.81.
    set_policy(&app, manager, compound, json!({ "deposit_basis": "per_m2", "deposit_rate": "60", "source": "按建安造价 5%", "allocation": "balance" })).await;
    let (status, problem) = app.post(&allocations, manager, json!({ "source": "interest", "amount": "10.00", "received_on": (today() + chrono::Duration::days(1)).to_string() })).await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(problem["field"], "received_on", "money is received on a day that has come");
    let (_, by_balance) = app.post(&allocations, manager, json!({ "source": "interest", "amount": "10.00", "received_on": "2026-11-22" })).await;
    let split: Vec<&str> = by_balance.as_array().unwrap().iter().map(|m| m["amount"].as_str().unwrap()).collect();
    assert_eq!(split, ["5.50", "4.50"], "{by_balance}");

    // The committee sees every movement and that the sub-ledgers add up.
    let (status, movements) = app.get(&format!("/compounds/{compound}/fund/movements"), committee).await;
    assert_eq!((status, movements["total"].as_u64()), (StatusCode::OK, Some(8)), "{movements}");
    let state = fund(&app, committee, compound).await;
    assert_eq!(state["check"]["agrees"], true, "{state}");
    assert_eq!(state["check"]["control_account"], "10067.00");
    let (status, problem) = app.post(&allocations, committee, json!({ "source": "interest", "amount": "1.00", "received_on": "2026-11-22" })).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");

    // A sub-ledger row changed behind the service's back: the check names the unit.
    let row = entity::fund_movement::Entity::find().filter(entity::fund_movement::Column::UnitId.eq(held)).one(&app.db).await.unwrap().unwrap();
    lift_append_only_guard(&app.db, "fund_movements").await;
    entity::fund_movement::ActiveModel { id: Set(row.id), amount: Set(row.amount + 1), ..Default::default() }.update(&app.db).await.unwrap();
    let (_, check) = app.get(&format!("/compounds/{compound}/fund/check"), committee).await;
    assert_eq!(check["agrees"], false, "{check}");
    assert_eq!(check["mismatches"], json!([{ "unit_id": held, "sub_ledger": "4525.32", "journal": "4525.31" }]));
    assert_eq!(entity::fund_movement::Entity::find().count(&app.db).await.unwrap(), 8);
}

#[tokio::test]
async fn on_a_sale_the_balance_stays_with_the_unit_for_the_new_owner() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Fund Sale").await;
    let manager = tenant.token(Role::Manager);
    set_policy(&app, manager, tenant.compound_id, json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "source": "市住建委" })).await;
    app.post(&format!("/compounds/{}/fund/deposits", tenant.compound_id), manager, json!({ "received_on": "2020-01-01", "unit_ids": [tenant.unit_id] })).await;
    let path = format!("/units/{}/fund", tenant.unit_id);
    let (status, seller_view) = app.get(&path, tenant.token(Role::Owner)).await;
    assert_eq!((status, seller_view["sub_ledger"]["balance"].as_str()), (StatusCode::OK, Some("7974.00")), "88.60 x 90: {seller_view}");
    let (status, problem) = app.get(&format!("/units/{}/fund", tenant.developer_unit_id), tenant.token(Role::Owner)).await;
    assert_problem(status, &problem, StatusCode::NOT_FOUND, "not_found");

    sell(&app, &tenant, tenant.compound_id, tenant.unit_id, "孙买家", "13700000001").await;
    let buyer = owner_login(&app, &tenant, tenant.compound_id, "孙买家").await;
    let (status, buyer_view) = app.get(&path, &buyer).await;
    assert_eq!(status, StatusCode::OK, "{buyer_view}");
    assert_eq!(buyer_view["sub_ledger"]["balance"], "7974.00");
    assert_eq!(buyer_view["sub_ledger"]["owners"], json!(["孙买家"]));
    assert_eq!(buyer_view["movements"].as_array().unwrap().len(), 1, "the whole history, from before the sale");
    let (status, problem) = app.get(&path, tenant.token(Role::Owner)).await;
    assert_problem(status, &problem, StatusCode::NOT_FOUND, "not_found");
    // Nothing went back to the seller: the fund still holds it all.
    let state = fund(&app, manager, tenant.compound_id).await;
    assert_eq!((state["check"]["fund_bank"].as_str(), state["check"]["agrees"].as_bool()), (Some("7974.00"), Some(true)));
}
