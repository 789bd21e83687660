//! A company ready to bill, and the fresh things the request recipes of tests/abuse.rs and
//! tests/authorization.rs need one of per call: owners, bills, payments, tickets, repair
//! projects, votes, elevator plans, notices, fund units.
//!
//! Each `fresh_*` helper makes something no other call has touched, so that every recipe can
//! succeed however many times it runs.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wuye::auth::Role::{self, *};

use super::{ADMIN_EMAIL, Tenant, TestApp, today};

/// The period the fixtures bill: far enough ahead that no late fee has run, whatever the day.
pub const BILLED_PERIOD: &str = "2099-11";
/// What the fixture owner's unit is billed for a month: 1.20 x 88.60 m².
pub const MONTHLY_FEE: &str = "106.32";
/// The fixture owner's unit's initial deposit, 90 x 88.60 m², recorded once (whoever asks first).
pub const OWNER_DEPOSIT: &str = "7974.00";
/// The smallest JPEG header the photo and scan checks accept.
pub const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00];

/// A number no other call in this process has used, for unique names, emails and phones.
pub fn unique() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

/// A billing period no other call has used, from 2100-01 on (bills that far ahead owe no late
/// fee): each fresh bill and meter reading gets its own.
pub fn fresh_period() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    assert!(n < 1200, "out of billing periods");
    format!("{:04}-{:02}", 2100 + n / 12, n % 12 + 1)
}

/// RFC 3339, `days` from now.
pub fn days_from_now(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

/// A tenant (see `TestApp::tenant`) and the name it was built with; `common` logs its accounts
/// in as `<role>@<slug>.test`. Its billing: a monthly property fee of 1.20 元/m² from
/// `BILLED_PERIOD`, billed for that period (the owner's 88.60 m² unit owes `MONTHLY_FEE`), and a
/// metered fee item to record readings of.
pub struct Company {
    pub name: &'static str,
    pub t: Tenant,
    pub metered_item_id: i64,
    /// The owner's unit's bill for `BILLED_PERIOD`.
    pub bill_id: i64,
    /// The fixture technician's user id, whom fresh tickets are assigned to.
    pub technician_id: i64,
}

impl Company {
    /// Builds the company `name` (see `TestApp::tenant`) and its billing: the property fee, the
    /// metered fee item, and the bill run for `BILLED_PERIOD`.
    pub async fn new(app: &TestApp, name: &'static str) -> Company {
        let t = app.tenant(name).await;
        let manager = t.token(Manager);
        let fee_items = format!("/compounds/{}/fee-items", t.compound_id);
        let property = json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "due_days": 15, "effective_from": BILLED_PERIOD });
        let (status, body) = app.post(&fee_items, manager, property).await;
        assert_eq!(status, StatusCode::OK, "property fee: {body}");
        // Billed once, in 2000, so no bill run here ever bills it.
        let water = json!({ "name": "水费", "kind": "metered", "rate": "3.50", "cycle": "one_off", "effective_from": "2000-01" });
        let (status, metered) = app.post(&fee_items, manager, water).await;
        assert_eq!(status, StatusCode::OK, "metered fee: {metered}");
        let (status, body) = app.post(&format!("/compounds/{}/bill-runs", t.compound_id), manager, json!({ "period": BILLED_PERIOD })).await;
        assert_eq!(status, StatusCode::OK, "bill run: {body}");
        let bill_id = bill_of(app, &t, t.unit_id, BILLED_PERIOD).await;
        let (status, me) = app.get("/auth/me", t.token(Technician)).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        let technician_id = me["user_id"].as_i64().unwrap();
        Company { name, t, metered_item_id: metered["id"].as_i64().unwrap(), bill_id, technician_id }
    }

    /// The bearer token of the company's account of `role`.
    pub fn token(&self, role: Role) -> &str {
        self.t.token(role)
    }

    /// The login of the company's account of `role` (the platform's own for `PlatformAdmin`).
    pub fn login(&self, role: Role) -> String {
        match role {
            PlatformAdmin => ADMIN_EMAIL.to_string(),
            _ => format!("{}@{}.test", role.as_str(), self.slug()),
        }
    }

    /// The company's name as its logins' email domain spells it.
    pub fn slug(&self) -> String {
        self.name.to_lowercase()
    }
}

/// The id of a unit's bill for a period.
pub async fn bill_of(app: &TestApp, t: &Tenant, unit_id: i64, period: &str) -> i64 {
    let (status, bills) = app.get(&format!("/units/{unit_id}/bills"), t.token(PlatformAdmin)).await;
    assert_eq!(status, StatusCode::OK, "bills of unit {unit_id}: {bills}");
    let bill = bills.as_array().unwrap().iter().find(|b| b["period"] == period);
    bill.and_then(|b| b["id"].as_i64()).unwrap_or_else(|| panic!("unit {unit_id} has no bill for {period}: {bills}"))
}

/// A fresh owner (without a login) in the company's compound, registered by the manager.
pub async fn fresh_owner(app: &TestApp, company: &Company) -> i64 {
    let path = format!("/compounds/{}/owners", company.t.compound_id);
    let (status, body) = app.post(&path, company.token(Manager), json!({ "name": format!("业主{}", unique()) })).await;
    assert_eq!(status, StatusCode::OK, "fresh owner: {body}");
    body["id"].as_i64().unwrap()
}

/// A fresh open bill of 106.32 on the owner's unit, for a period of its own: each adjustment
/// and payment order gets one, so none meets a bill another call changed.
pub async fn fresh_bill(app: &TestApp, company: &Company) -> i64 {
    let period = fresh_period();
    let path = format!("/compounds/{}/bill-runs", company.t.compound_id);
    let (status, body) = app.post(&path, company.token(Manager), json!({ "period": period })).await;
    assert_eq!(status, StatusCode::OK, "fresh bill: {body}");
    bill_of(app, &company.t, company.t.unit_id, &period).await
}

/// A fresh desk payment of 10.00 into the owner's unit's prepaid balance (paying no bill), to
/// read, reverse, or refund.
pub async fn fresh_payment(app: &TestApp, company: &Company) -> i64 {
    let path = format!("/units/{}/payments", company.t.unit_id);
    let (status, body) = app.post(&path, company.token(Cashier), json!({ "method": "cash", "amount": "10.00", "bill_ids": [] })).await;
    assert_eq!(status, StatusCode::OK, "fresh payment: {body}");
    body["id"].as_i64().unwrap()
}

/// A fresh ticket of the fixture owner's unit, filed by the owner and brought by the desk and
/// the fixture technician to `state` (submitted, accepted, assigned or resolved).
pub async fn fresh_ticket(app: &TestApp, company: &Company, state: &str) -> Value {
    let filing = json!({ "unit_id": company.t.unit_id, "category": "plumbing", "location": "in_unit", "description": format!("水管漏水 {}", unique()) });
    let (status, mut ticket) = app.post("/tickets", company.token(Owner), filing).await;
    assert_eq!(status, StatusCode::CREATED, "fresh ticket: {ticket}");
    let steps: &[(&str, Role, Value)] = &[
        ("accepted", Dispatcher, json!({ "to": "accepted", "priority": "p3" })),
        ("assigned", Dispatcher, json!({ "technician_id": company.technician_id })),
        ("in_progress", Technician, json!({ "to": "in_progress" })),
        ("resolved", Technician, json!({ "to": "resolved" })),
    ];
    for (reached, role, step) in steps {
        if ticket["status"] == state {
            break;
        }
        let mut step = step.clone();
        step["version"] = ticket["version"].clone();
        let action = if *reached == "assigned" { "assignment" } else { "transitions" };
        let (status, moved) = app.post(&format!("/tickets/{}/{action}", ticket["id"]), company.token(*role), step).await;
        assert_eq!(status, StatusCode::OK, "fresh ticket to {reached}: {moved}");
        ticket = moved;
    }
    assert_eq!(ticket["status"], state, "{ticket}");
    ticket
}

/// The fixtures' maintenance-fund standard: 90 元/m², and no public-notice days, so that an
/// approved plan may start at once.
pub fn fund_policy() -> Value {
    json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "source": "市住建委 2019 年第 3 号通知", "notice_days": 0 })
}

/// Sets the compound's fund standard to `fund_policy`, as the manager.
pub async fn ensure_fund_policy(app: &TestApp, company: &Company) {
    let path = format!("/compounds/{}/fund/policy", company.t.compound_id);
    let (status, body) = app.request(Method::PUT, &path, Some(company.token(Manager)), Some(fund_policy())).await;
    assert_eq!(status, StatusCode::OK, "fund policy: {body}");
}

/// The fund standard, and the fixture owner's unit's initial deposit (`OWNER_DEPOSIT`) unless
/// it is already recorded.
pub async fn ensure_fund_deposit(app: &TestApp, company: &Company) {
    ensure_fund_policy(app, company).await;
    let (status, fund) = app.get(&format!("/units/{}/fund", company.t.unit_id), company.token(Manager)).await;
    assert_eq!(status, StatusCode::OK, "unit fund: {fund}");
    if fund["sub_ledger"]["initial_deposit"].is_null() {
        let path = format!("/compounds/{}/fund/deposits", company.t.compound_id);
        let (status, body) = app.post(&path, company.token(Manager), json!({ "unit_ids": [company.t.unit_id], "received_on": today() })).await;
        assert_eq!(status, StatusCode::OK, "fixture owner's deposit: {body}");
    }
}

/// A fresh 60 m² unit without an initial deposit, in a stairwell of its own (so that it joins no
/// elevator plan's electorate).
pub async fn fresh_fund_unit(app: &TestApp, company: &Company) -> i64 {
    let manager = company.token(Manager);
    let (status, stairwell) = app.post(&format!("/buildings/{}/stairwells", company.t.building_id), manager, json!({ "name": format!("{}单元", unique()) })).await;
    assert_eq!(status, StatusCode::OK, "fresh stairwell: {stairwell}");
    let unit = json!({ "floor": 2, "number": "201", "unit_use": "residential", "registered_area": "60.00" });
    let (status, unit) = app.post(&format!("/stairwells/{}/units", stairwell["id"]), manager, unit).await;
    assert_eq!(status, StatusCode::OK, "fresh unit: {unit}");
    unit["id"].as_i64().unwrap()
}

/// A fresh repair project of the fixture owner's unit, budget 1000.00, brought to `state`:
/// draft, approved or in_progress. Past draft it is always an emergency, approved by its prior
/// notice (only an emergency is approved without a vote); a draft is one if `emergency`.
pub async fn fresh_project(app: &TestApp, company: &Company, state: &str, emergency: bool) -> Value {
    let manager = company.token(Manager);
    let project = json!({
        "title": format!("屋面防水 {}", unique()),
        "description": "屋面渗漏，更换防水层",
        "budget": "1000.00",
        "scope": "units",
        "scope_ids": [company.t.unit_id],
        "emergency": (emergency || state != "draft").then_some("roof_leak"),
    });
    let (status, mut project) = app.post(&format!("/compounds/{}/fund/projects", company.t.compound_id), manager, project).await;
    assert_eq!(status, StatusCode::OK, "fresh project: {project}");
    for (reached, step, body) in [("approved", "emergency-notice", json!({ "text": "屋面漏水危及安全，立即维修" })), ("in_progress", "start", json!({}))] {
        if project["status"] == state {
            break;
        }
        let (status, moved) = app.post(&format!("/fund-projects/{}/{step}", project["id"]), manager, body).await;
        assert_eq!(status, StatusCode::OK, "fresh project to {reached}: {moved}");
        project = moved;
    }
    assert_eq!(project["status"], state, "{project}");
    project
}

/// A fresh open vote of the whole compound (the fixture owner is among its electors).
pub async fn fresh_vote(app: &TestApp, company: &Company) -> Value {
    let vote = json!({ "title": format!("表决 {}", unique()), "matter": "other", "closes_at": days_from_now(7) });
    let (status, vote) = app.post(&format!("/compounds/{}/votes", company.t.compound_id), company.token(Manager), vote).await;
    assert_eq!(status, StatusCode::OK, "fresh vote: {vote}");
    assert_eq!(vote["status"], "open", "{vote}");
    vote
}

/// The electorate of a vote, as the manager sees it.
pub async fn electorate(app: &TestApp, company: &Company, vote_id: &Value) -> Value {
    let (status, electorate) = app.get(&format!("/votes/{vote_id}/electorate"), company.token(Manager)).await;
    assert_eq!(status, StatusCode::OK, "electorate: {electorate}");
    electorate
}

/// Records, as the manager, a signed paper ballot with its scan (`JPEG`); returns the ballot.
pub async fn signed_paper_ballot(app: &TestApp, company: &Company, vote_id: &Value, elector_id: &Value, choice: &str) -> Value {
    let response = app
        .client
        .post(format!("{}/votes/{vote_id}/paper-ballots?elector_id={elector_id}&choice={choice}", app.base))
        .bearer_auth(company.token(Manager))
        .header("content-type", "image/jpeg")
        .body(JPEG.to_vec())
        .send()
        .await
        .expect("send the paper ballot");
    let status = response.status();
    let text = response.text().await.expect("read the answer");
    let ballot = serde_json::from_str(&text).unwrap_or(Value::String(text));
    assert_eq!(status, StatusCode::OK, "paper ballot: {ballot}");
    ballot
}

/// Every elector agrees on paper, then the vote's close is moved into the past and the vote read,
/// which closes it; it must have passed.
pub async fn pass_vote(app: &TestApp, company: &Company, vote_id: &Value) {
    use sea_orm::{ActiveModelTrait, Set};
    let electorate = electorate(app, company, vote_id).await;
    for elector in electorate["electors"].as_array().unwrap() {
        signed_paper_ballot(app, company, vote_id, &elector["id"], "agree").await;
    }
    let now = chrono::Utc::now();
    let vote = entity::vote::ActiveModel {
        id: Set(vote_id.as_i64().unwrap()),
        opens_at: Set(now - chrono::Duration::minutes(2)),
        closes_at: Set(now - chrono::Duration::minutes(1)),
        ..Default::default()
    };
    vote.update(&app.db).await.expect("move the vote's close into the past");
    let (status, vote) = app.get(&format!("/votes/{vote_id}"), company.token(Manager)).await;
    assert_eq!(status, StatusCode::OK, "{vote}");
    assert!(vote["status"] == "closed" && vote["passed"] == true, "the vote did not pass: {vote}");
}

/// Gives every flat of the stairwell that has no owner (ones other recipes added) a fresh owner
/// of its own: an ownerless flat counts against a vote's thresholds with no one to agree.
pub async fn give_every_flat_a_voter(app: &TestApp, company: &Company, stairwell_id: i64) {
    let (status, units) = app.get(&format!("/units?stairwell_id={stairwell_id}&per_page=500"), company.token(Manager)).await;
    assert_eq!(status, StatusCode::OK, "{units}");
    for unit in units["items"].as_array().unwrap() {
        if unit["developer_held"] == false && unit["owners"].as_array().is_some_and(Vec::is_empty) {
            let owner_id = fresh_owner(app, company).await;
            let (status, body) =
                app.post(&format!("/units/{}/owners", unit["id"]), company.token(Manager), json!({ "owner_id": owner_id, "started_on": "2020-01-01" })).await;
            assert_eq!(status, StatusCode::OK, "an owner for unit {}: {body}", unit["id"]);
        }
    }
}

/// The owners' part of every fixture elevator plan: 300000.00 less 100000.00 of subsidies.
pub const ELEVATOR_OWNERS_PART: &str = "200000.00";

/// An elevator plan of the fixture stairwell, `n` in its title: by area and floor coefficient
/// (1.0 on every floor the stairwell has flats on, 1.2 on the 5th, where recipes may add
/// flats), under the double-three-quarters rule, its vote open for 30 days.
pub async fn elevator_plan(app: &TestApp, company: &Company, n: u32) -> Value {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let flats = entity::unit::Entity::find().filter(entity::unit::Column::StairwellId.eq(company.t.stairwell_id)).all(&app.db).await.unwrap();
    let coefficients: serde_json::Map<String, Value> = flats.iter().map(|u| (u.floor.to_string(), json!(if u.floor == 5 { "1.2" } else { "1.0" }))).collect();
    json!({
        "title": format!("1单元加装电梯 {n}"),
        "total_cost": "300000.00",
        "subsidies": "100000.00",
        "method": "area_coefficient",
        "coefficients": coefficients,
        "rule_set": "elevator_double_three_quarters",
        "closes_at": days_from_now(30),
    })
}

/// A stairwell has one live elevator plan at a time; the recipes need many plans of the fixture
/// stairwell, so those earlier calls left are set aside first, as if abandoned.
pub async fn set_plans_aside(app: &TestApp, company: &Company) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::elevator_plan::Entity::update_many()
        .col_expr(entity::elevator_plan::Column::Status, Expr::value("rejected"))
        .filter(entity::elevator_plan::Column::StairwellId.eq(company.t.stairwell_id))
        .exec(&app.db)
        .await
        .expect("set the earlier plans aside");
}

/// A fresh elevator plan of the fixture stairwell, voting, or approved (every flat agreed on
/// paper and the vote closed).
pub async fn fresh_plan(app: &TestApp, company: &Company, approved: bool) -> Value {
    let stairwell_id = company.t.stairwell_id;
    set_plans_aside(app, company).await;
    if approved {
        give_every_flat_a_voter(app, company, stairwell_id).await;
    }
    let (status, plan) = app.post(&format!("/stairwells/{stairwell_id}/elevator-plans"), company.token(Manager), elevator_plan(app, company, unique()).await).await;
    assert_eq!(status, StatusCode::OK, "fresh plan: {plan}");
    if !approved {
        return plan;
    }
    pass_vote(app, company, &plan["vote_id"]).await;
    let (status, plan) = app.get(&format!("/elevator-plans/{}", plan["id"]), company.token(Manager)).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["status"], "approved", "{plan}");
    plan
}

/// A fresh notice of the company's whole fixture compound, written by the side `role` is on (the
/// committee's own, or the manager's for staff), a draft or published.
pub async fn fresh_written_notice(app: &TestApp, company: &Company, role: Role, published: bool) -> Value {
    let author = if role == Committee { Committee } else { Manager };
    let body = json!({ "category": "general", "title": format!("通知 {}", unique()), "body": "周六上午清洗水箱。", "draft": !published });
    let (status, notice) = app.post(&format!("/compounds/{}/notices", company.t.compound_id), company.token(author), body).await;
    assert_eq!(status, StatusCode::OK, "fresh notice: {notice}");
    notice
}
