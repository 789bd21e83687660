//! Repair tickets (issue 5): a ticket walked through every state and every refused
//! transition, two dispatchers at once, who sees what, photos, SLA deadlines, pausing and
//! escalation, the queue, automatic assignment, cost routing and statistics.
mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use entity::{outbox_message, ticket, ticket_comment, ticket_photo};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use wuye::{
    auth::Role,
    tickets::rules::{self, Side, Status},
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn ts(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap_or_else(|| panic!("a timestamp, not {value}")).parse().unwrap_or_else(|e| panic!("timestamp {value}: {e}"))
}

fn id_of(value: &Value) -> i64 {
    value["id"].as_i64().unwrap_or_else(|| panic!("no id in {value}"))
}

async fn user_id(app: &TestApp, token: &str) -> i64 {
    let (status, me) = app.get("/auth/me", token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    me["user_id"].as_i64().unwrap_or_else(|| panic!("no user_id in {me}"))
}

/// Files a ticket and returns it (asserting 201).
async fn file(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, filed) = app.post("/tickets", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    filed
}

/// An in-unit ticket of `category` with `urgency` for the fixture's unit, filed by the owner.
async fn file_simple(app: &TestApp, tenant: &Tenant, category: &str, urgency: &str) -> Value {
    file(
        app,
        tenant.token(Role::Owner),
        json!({ "unit_id": tenant.unit_id, "category": category, "location": "in_unit", "description": format!("{category} 报修"), "urgency": urgency }),
    )
    .await
}

async fn transition(app: &TestApp, token: &str, id: i64, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/tickets/{id}/transitions"), token, body).await
}

/// Moves a ticket, asserting it went to `to` as the next version.
async fn go(app: &TestApp, token: &str, id: i64, version: i64, to: &str, extra: Value) -> Value {
    let mut body = json!({ "to": to, "version": version });
    if let Value::Object(more) = extra {
        body.as_object_mut().unwrap().extend(more);
    }
    let (status, moved) = transition(app, token, id, body).await;
    assert_eq!(status, StatusCode::OK, "{id} -> {to}: {moved}");
    assert_eq!(moved["status"], to, "{moved}");
    assert_eq!(moved["version"], version + 1, "every change is one version more: {moved}");
    moved
}

async fn assign(app: &TestApp, token: &str, id: i64, version: i64, technician_id: Option<i64>) -> (StatusCode, Value) {
    let mut body = json!({ "version": version });
    if let Some(technician) = technician_id {
        body["technician_id"] = json!(technician);
    }
    app.post(&format!("/tickets/{id}/assignment"), token, body).await
}

async fn detail(app: &TestApp, token: &str, id: i64) -> Value {
    let (status, detail) = app.get(&format!("/tickets/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    detail
}

/// Accepted (p3), assigned to `technician` and started: returns the ticket (version 4).
async fn in_progress(app: &TestApp, tenant: &Tenant, id: i64, technician: (&str, i64)) -> Value {
    let desk = tenant.token(Role::Dispatcher);
    go(app, desk, id, 1, "accepted", json!({})).await;
    let (status, assigned) = assign(app, desk, id, 2, Some(technician.1)).await;
    assert_eq!(status, StatusCode::OK, "{assigned}");
    go(app, technician.0, id, 3, "in_progress", json!({})).await
}

/// Walked from submitted to resolved by the desk and `technician`: returns it (version 5).
async fn resolved(app: &TestApp, tenant: &Tenant, id: i64, technician: (&str, i64)) -> Value {
    in_progress(app, tenant, id, technician).await;
    go(app, technician.0, id, 4, "resolved", json!({})).await
}

/// Changes a ticket's row directly (deadlines and timestamps no endpoint sets).
async fn set_row(app: &TestApp, id: i64, change: impl FnOnce(&mut ticket::ActiveModel)) {
    let row = ticket::Entity::find_by_id(id).one(&app.db).await.unwrap().expect("the ticket row");
    let mut active: ticket::ActiveModel = row.into();
    change(&mut active);
    active.update(&app.db).await.unwrap();
}

async fn row(app: &TestApp, id: i64) -> ticket::Model {
    ticket::Entity::find_by_id(id).one(&app.db).await.unwrap().expect("the ticket row")
}

async fn ticket_count(app: &TestApp) -> u64 {
    ticket::Entity::find().count(&app.db).await.unwrap()
}

/// The ids of a queue page.
fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().unwrap_or_else(|| panic!("no items in {page}")).iter().map(id_of).collect()
}

async fn queue(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, page) = app.get(&format!("/tickets{query}"), token).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    page
}

/// (kind, actor role, from, to) of each history entry.
fn history(detail: &Value) -> Vec<(String, String, Option<String>, Option<String>)> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    detail["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history in {detail}"))
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["actor_role"].as_str().unwrap().to_string(), text(&e["from"]), text(&e["to"])))
        .collect()
}

fn entry(kind: &str, role: &str, from: Option<&str>, to: Option<&str>) -> (String, String, Option<String>, Option<String>) {
    (kind.to_string(), role.to_string(), from.map(str::to_string), to.map(str::to_string))
}

/// A new unit in the fixture's stairwell owned by a new owner with a login of their own:
/// (unit id, owner id, token).
async fn second_owner(app: &TestApp, tenant: &Tenant, number: &str, name: &str, login: &str) -> (i64, i64, String) {
    let boss = tenant.token(Role::CompanyAdmin);
    let (status, unit) = app
        .post(&format!("/stairwells/{}/units", tenant.stairwell_id), boss, json!({ "floor": 4, "number": number, "unit_use": "residential", "registered_area": "60.00" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{unit}");
    let (status, person) = app.post(&format!("/compounds/{}/owners", tenant.compound_id), boss, json!({ "name": name, "email": login })).await;
    assert_eq!(status, StatusCode::OK, "{person}");
    let (status, body) = app.post(&format!("/units/{}/owners", unit["id"]), boss, json!({ "owner_id": person["id"], "started_on": "2015-03-01" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        app.post("/users", boss, json!({ "role": "owner", "name": name, "email": login, "password": PASSWORD, "owner_ids": [person["id"]] })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id_of(&unit), id_of(&person), app.token(login).await)
}

/// A new staff login of the fixture's company: (user id, token).
async fn staff(app: &TestApp, tenant: &Tenant, role: &str, login: &str) -> (i64, String) {
    let (status, account) =
        app.post("/users", tenant.token(Role::CompanyAdmin), json!({ "role": role, "name": login.split('@').next().unwrap(), "email": login, "password": PASSWORD })).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    (id_of(&account), app.token(login).await)
}

/// The outbox rows of a kind, oldest first.
async fn outbox(app: &TestApp, kind: &str) -> Vec<outbox_message::Model> {
    outbox_message::Entity::find().filter(outbox_message::Column::Kind.eq(kind)).order_by_asc(outbox_message::Column::Id).all(&app.db).await.unwrap()
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Owner => "owner",
        Side::Desk => "desk",
        Side::Technician => "technician",
    }
}

/// Every move the transitions endpoint refuses from `from`, for each side: a 409 on `to` that
/// lists the moves allowed (assignment has its own endpoint, so `assigned` is never one here).
/// A technician the ticket is not assigned to does not see it (404). Nothing is written.
async fn assert_every_refusal(app: &TestApp, tenant: &Tenant, id: i64, from: Status, technician_sees: bool) {
    let desk = tenant.token(Role::Dispatcher);
    let before = detail(app, desk, id).await;
    assert_eq!(before["ticket"]["status"], from.as_str(), "{before}");
    let version = before["ticket"]["version"].as_i64().unwrap();
    for (side, token) in [(Side::Owner, tenant.token(Role::Owner)), (Side::Desk, desk), (Side::Technician, tenant.token(Role::Technician))] {
        let allowed: Vec<Status> = rules::allowed(from, side).into_iter().filter(|s| *s != Status::Assigned).collect();
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        for to in Status::ALL.into_iter().filter(|to| !allowed.contains(to)) {
            let (status, body) = transition(app, token, id, json!({ "to": to.as_str(), "version": version, "note": "试试看" })).await;
            let what = format!("{} moving a {} ticket to {}", side_name(side), from.as_str(), to.as_str());
            if side == Side::Technician && !technician_sees {
                assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
                continue;
            }
            assert_eq!(status, StatusCode::CONFLICT, "{what}: {body}");
            assert_eq!(body["code"], "conflict", "{what}: {body}");
            assert_eq!(body["field"], "to", "{what}: {body}");
            let message = body["message"].as_str().unwrap();
            if names.is_empty() {
                assert!(message.contains("allowed: nothing"), "{what}: {message}");
            } else {
                assert!(message.ends_with(&format!("allowed: {}", names.join(", "))), "{what}: the message should list {names:?}: {message}");
            }
        }
    }
    let after = detail(app, desk, id).await;
    assert_eq!(after["ticket"], before["ticket"], "a refused move changed the ticket");
    assert_eq!(after["history"], before["history"], "a refused move wrote history");
}

// ---------------------------------------------------------------------------------------------
// 1. Every state
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_ticket_walks_through_every_state_on_record_and_the_owner_hears_of_it() {
    let app = TestApp::spawn_with(&workers_on(&[("WUYE_MAIL_LANGUAGE", "en")])).await;
    let t = app.tenant("Alpha").await;
    let (owner, desk, tech) = (t.token(Role::Owner), t.token(Role::Dispatcher), t.token(Role::Technician));
    let (owner_user, desk_user, tech_user) = (user_id(&app, owner).await, user_id(&app, desk).await, user_id(&app, tech).await);

    let filed = file(
        &app,
        owner,
        json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "place": "厨房", "description": "厨房水槽下水管漏水", "preferred_visit": "工作日晚上" }),
    )
    .await;
    let id = id_of(&filed);
    assert_eq!(
        (&filed["status"], &filed["version"], &filed["priority"], &filed["urgency"], &filed["category"], &filed["location"]),
        (&json!("submitted"), &json!(1), &json!("p3"), &json!("normal"), &json!("plumbing"), &json!("in_unit")),
        "{filed}"
    );
    assert_eq!((filed["unit_id"].as_i64(), filed["owner_id"].as_i64(), filed["filed_by"].as_i64()), (Some(t.unit_id), Some(t.owner_id), Some(owner_user)), "{filed}");
    assert_eq!((&filed["place"], &filed["preferred_visit"], &filed["assignee_id"]), (&json!("厨房"), &json!("工作日晚上"), &Value::Null), "{filed}");
    let created = ts(&filed["created_at"]);

    // The desk accepts it as p2: the resolution deadline is p2 plumbing's, from filing; the
    // response deadline stays the one it was filed with (p3: 4 hours), which triage answered.
    let accepted = go(&app, desk, id, 1, "accepted", json!({ "priority": "p2" })).await;
    assert_eq!(accepted["priority"], "p2", "{accepted}");
    assert!(!accepted["accepted_at"].is_null(), "{accepted}");
    assert_eq!(ts(&accepted["response_due_at"]) - created, Duration::hours(4), "{accepted}");
    assert_eq!(ts(&accepted["resolution_due_at"]) - created, Duration::hours(24), "{accepted}");
    assert_eq!(accepted["due_at"], accepted["resolution_due_at"], "once accepted, the resolution deadline counts: {accepted}");

    let (status, assigned) = assign(&app, desk, id, 2, Some(tech_user)).await;
    assert_eq!(status, StatusCode::OK, "{assigned}");
    assert_eq!((&assigned["status"], &assigned["version"], assigned["assignee_id"].as_i64()), (&json!("assigned"), &json!(3), Some(tech_user)), "{assigned}");

    go(&app, tech, id, 3, "in_progress", json!({})).await;
    // Rated and followed up only once resolved; rated by the owner only, from 1 to 5.
    let (status, body) = app.post(&format!("/tickets/{id}/rating"), owner, json!({ "score": 5 })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = app.post(&format!("/tickets/{id}/follow-up"), desk, json!({ "note": "太早了" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    // On hold needs a reason; without one nothing changes.
    let (status, body) = transition(&app, tech, id, json!({ "to": "on_hold", "version": 4 })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "note", "{body}");
    let (status, body) = transition(&app, tech, id, json!({ "to": "on_hold", "version": 4, "note": "  " })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "note", "{body}");
    assert_eq!(detail(&app, desk, id).await["ticket"]["version"], 4);
    let held = go(&app, tech, id, 4, "on_hold", json!({ "note": "等待配件：下水管弯头" })).await;
    assert_eq!(held["reason"], "等待配件：下水管弯头", "{held}");
    assert!(!held["on_hold_since"].is_null() && held["overdue"] == false, "{held}");
    let resumed = go(&app, tech, id, 5, "in_progress", json!({})).await;
    assert!(resumed["on_hold_since"].is_null(), "{resumed}");
    let done = go(&app, tech, id, 6, "resolved", json!({})).await;
    assert!(!done["resolved_at"].is_null(), "{done}");

    // The owner reopens it: it comes back to the technician, who works it and resolves it again.
    let reopened = go(&app, owner, id, 7, "reopened", json!({ "note": "还是漏" })).await;
    assert_eq!((&reopened["reopen_count"], &reopened["resolved_at"], reopened["assignee_id"].as_i64()), (&json!(1), &Value::Null, Some(tech_user)), "{reopened}");
    go(&app, tech, id, 8, "in_progress", json!({})).await;
    go(&app, tech, id, 9, "resolved", json!({})).await;
    let closed = go(&app, owner, id, 10, "closed", json!({})).await;
    assert!(!closed["closed_at"].is_null(), "{closed}");

    // The owner rates the work; the desk records the follow-up call.
    for score in [0, 6] {
        let (status, body) = app.post(&format!("/tickets/{id}/rating"), owner, json!({ "score": score })).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(body["field"], "score", "{body}");
    }
    let (status, body) = app.post(&format!("/tickets/{id}/rating"), desk, json!({ "score": 5 })).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.post(&format!("/tickets/{id}/follow-up"), tech, json!({ "note": "我来回访" })).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(detail(&app, desk, id).await["ticket"]["version"], 11);
    let (status, rated) = app.post(&format!("/tickets/{id}/rating"), owner, json!({ "score": 5, "comment": "师傅很专业" })).await;
    assert_eq!(status, StatusCode::OK, "{rated}");
    assert_eq!((&rated["rating"], &rated["rating_comment"], &rated["version"]), (&json!(5), &json!("师傅很专业"), &json!(12)), "{rated}");
    let (status, body) = app.post(&format!("/tickets/{id}/rating"), owner, json!({ "score": 4 })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, followed) = app.post(&format!("/tickets/{id}/follow-up"), desk, json!({ "note": "业主表示满意" })).await;
    assert_eq!(status, StatusCode::OK, "{followed}");
    assert_eq!((&followed["follow_up"], &followed["version"]), (&json!("业主表示满意"), &json!(13)), "{followed}");

    // Every step on record, by whom, from what to what.
    let seen_by_desk = detail(&app, desk, id).await;
    let tech_id = tech_user.to_string();
    let mut expected = vec![
        entry("filed", "owner", None, Some("submitted")),
        entry("status", "dispatcher", Some("submitted"), Some("accepted")),
        entry("priority", "dispatcher", Some("p3"), Some("p2")),
        entry("assignee", "dispatcher", None, Some(&tech_id)),
        entry("status", "dispatcher", Some("accepted"), Some("assigned")),
        entry("status", "technician", Some("assigned"), Some("in_progress")),
        entry("status", "technician", Some("in_progress"), Some("on_hold")),
        entry("status", "technician", Some("on_hold"), Some("in_progress")),
        entry("status", "technician", Some("in_progress"), Some("resolved")),
        entry("status", "owner", Some("resolved"), Some("reopened")),
        entry("status", "technician", Some("reopened"), Some("in_progress")),
        entry("status", "technician", Some("in_progress"), Some("resolved")),
        entry("status", "owner", Some("resolved"), Some("closed")),
        entry("rating", "owner", None, Some("5")),
        entry("follow_up", "dispatcher", None, None),
    ];
    assert_eq!(history(&seen_by_desk), expected, "{seen_by_desk}");
    let events = seen_by_desk["history"].as_array().unwrap();
    let by_role = |role: &str| events.iter().filter(|e| e["actor_role"] == role).map(|e| e["actor_id"].as_i64().unwrap()).collect::<BTreeSet<i64>>();
    assert_eq!((by_role("owner"), by_role("dispatcher"), by_role("technician")), ([owner_user].into(), [desk_user].into(), [tech_user].into()));
    assert_eq!(events[6]["note"], "等待配件：下水管弯头", "the hold's reason is in its entry: {}", events[6]);
    let times: Vec<DateTime<Utc>> = events.iter().map(|e| ts(&e["at"])).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "history oldest first: {times:?}");
    assert_eq!(seen_by_desk["ticket"]["version"], 13);
    // The owner sees the same history but the internal follow-up call.
    let seen_by_owner = detail(&app, owner, id).await;
    expected.pop();
    assert_eq!(history(&seen_by_owner), expected, "{seen_by_owner}");
    assert!(seen_by_owner["ticket"]["follow_up"].is_null(), "{seen_by_owner}");

    // The owner was emailed on acceptance, assignment, the hold and each resolution.
    let rows: Vec<outbox_message::Model> = outbox(&app, "ticket_update").await;
    assert!(rows.iter().all(|r| r.recipient == "owner@alpha.test" && r.reference.as_deref() == Some(&format!("ticket:{id}"))), "{rows:#?}");
    let says = ["has been accepted", "has been assigned to technician", "is on hold", "has been resolved", "has been resolved"];
    assert_eq!(rows.len(), says.len(), "{rows:#?}");
    for (row, said) in rows.iter().zip(says) {
        assert!(row.body.contains(said) && row.body.contains(&format!("#{id}")), "expected {said:?} in:\n{}", row.body);
        // The link opens the ticket in the owner's web pages.
        assert!(row.body.contains(&format!("/app/#/owner/tickets/{id}\n")), "{}", row.body);
    }
    let sent = eventually(20, "the owner's emails to be delivered", || async {
        let sent = app.mailer.stub_messages();
        (sent.len() >= says.len()).then_some(sent)
    })
    .await;
    assert_eq!(sent.len(), says.len());
    assert!(sent.iter().all(|m| m.contains("owner@alpha.test")), "{sent:#?}");
}

// ---------------------------------------------------------------------------------------------
// 2. Every refused transition
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_transition_its_state_does_not_allow_is_refused_with_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let (owner, desk, tech) = (t.token(Role::Owner), t.token(Role::Dispatcher), t.token(Role::Technician));
    let tech_user = user_id(&app, tech).await;

    // One ticket walked through the states, every refusal tried at each.
    let id = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    assert_every_refusal(&app, &t, id, Status::Submitted, false).await;
    go(&app, desk, id, 1, "accepted", json!({})).await;
    assert_every_refusal(&app, &t, id, Status::Accepted, false).await;
    let (status, body) = assign(&app, desk, id, 2, Some(tech_user)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_every_refusal(&app, &t, id, Status::Assigned, true).await;
    go(&app, tech, id, 3, "in_progress", json!({})).await;
    assert_every_refusal(&app, &t, id, Status::InProgress, true).await;
    go(&app, tech, id, 4, "on_hold", json!({ "note": "等业主在家" })).await;
    assert_every_refusal(&app, &t, id, Status::OnHold, true).await;
    go(&app, tech, id, 5, "in_progress", json!({})).await;
    go(&app, tech, id, 6, "resolved", json!({})).await;
    assert_every_refusal(&app, &t, id, Status::Resolved, true).await;
    go(&app, owner, id, 7, "reopened", json!({})).await;
    assert_every_refusal(&app, &t, id, Status::Reopened, true).await;
    go(&app, tech, id, 8, "in_progress", json!({})).await;
    go(&app, tech, id, 9, "resolved", json!({})).await;
    go(&app, owner, id, 10, "closed", json!({})).await;
    assert_every_refusal(&app, &t, id, Status::Closed, true).await;

    // The owner cancels before assignment (submitted or accepted), not after.
    let cancelled = id_of(&file_simple(&app, &t, "walls", "low").await);
    let gone = go(&app, owner, cancelled, 1, "cancelled", json!({ "note": "自己修好了" })).await;
    assert!(!gone["closed_at"].is_null() && gone["reason"] == "自己修好了", "{gone}");
    assert_every_refusal(&app, &t, cancelled, Status::Cancelled, false).await;
    let accepted = id_of(&file_simple(&app, &t, "doors", "normal").await);
    go(&app, desk, accepted, 1, "accepted", json!({})).await;
    go(&app, owner, accepted, 2, "cancelled", json!({})).await;
    let assigned = id_of(&file_simple(&app, &t, "electrical", "normal").await);
    go(&app, desk, assigned, 1, "accepted", json!({})).await;
    assign(&app, desk, assigned, 2, Some(tech_user)).await;
    let (status, body) = transition(&app, owner, assigned, json!({ "to": "cancelled", "version": 3 })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(body["field"], "to", "{body}");
    assert_eq!(detail(&app, desk, assigned).await["ticket"]["status"], "assigned");

    // Rejecting needs a reason, which is kept.
    let rejected = id_of(&file_simple(&app, &t, "parking", "normal").await);
    let (status, body) = transition(&app, desk, rejected, json!({ "to": "rejected", "version": 1 })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "note", "{body}");
    assert_eq!(detail(&app, desk, rejected).await["ticket"]["status"], "submitted");
    let refused = go(&app, desk, rejected, 1, "rejected", json!({ "note": "车位纠纷请联系业委会" })).await;
    assert_eq!(refused["reason"], "车位纠纷请联系业委会", "{refused}");
    assert_every_refusal(&app, &t, rejected, Status::Rejected, false).await;

    // A stale version is refused even for an allowed move.
    let stale = id_of(&file_simple(&app, &t, "other", "normal").await);
    go(&app, desk, stale, 1, "accepted", json!({})).await;
    let (status, body) = transition(&app, desk, stale, json!({ "to": "rejected", "version": 1, "note": "重复" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(body["field"], "version", "{body}");
}

#[tokio::test]
async fn a_ticket_is_reopened_only_within_the_configured_days() {
    let app = TestApp::spawn_with(&[("WUYE_TICKET_REOPEN_DAYS", "3"), ("WUYE_MAIL_LANGUAGE", "en")]).await;
    let t = app.tenant("Alpha").await;
    let (owner, tech) = (t.token(Role::Owner), t.token(Role::Technician));
    let tech_user = user_id(&app, tech).await;
    let id = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    resolved(&app, &t, id, (tech, tech_user)).await;

    set_row(&app, id, |r| r.resolved_at = Set(Some(Utc::now() - Duration::days(3) - Duration::minutes(5)))).await;
    let (status, body) = transition(&app, owner, id, json!({ "to": "reopened", "version": 5 })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(body["field"], "to", "{body}");
    assert!(body["message"].as_str().unwrap().contains("3 days"), "{body}");
    assert_eq!(row(&app, id).await.status, "resolved");

    set_row(&app, id, |r| r.resolved_at = Set(Some(Utc::now() - Duration::days(2)))).await;
    let reopened = go(&app, owner, id, 5, "reopened", json!({})).await;
    assert_eq!(reopened["reopen_count"], 1, "{reopened}");

    // The "resolved" email states the configured reopening window (here 3 days).
    let resolved_mail = outbox(&app, "ticket_update").await.into_iter().find(|r| r.body.contains("has been resolved")).expect("the resolved email");
    assert!(resolved_mail.body.contains("within 3 days"), "the email promises the wrong reopening window:\n{}", resolved_mail.body);
}

// ---------------------------------------------------------------------------------------------
// 3. Two dispatchers at once
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_dispatchers_assigning_at_once_one_wins_and_the_other_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let first = t.token(Role::Dispatcher);
    let (_, second) = staff(&app, &t, "dispatcher", "dispatcher2@alpha.test").await;
    let tech_a = user_id(&app, t.token(Role::Technician)).await;
    let (tech_b, _) = staff(&app, &t, "technician", "technician2@alpha.test").await;

    for round in 0..5 {
        let id = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
        go(&app, first, id, 1, "accepted", json!({})).await;
        let ((status_a, body_a), (status_b, body_b)) = tokio::join!(assign(&app, first, id, 2, Some(tech_a)), assign(&app, &second, id, 2, Some(tech_b)));
        let outcomes = [(status_a, &body_a, tech_a), (status_b, &body_b, tech_b)];
        let winners: Vec<_> = outcomes.iter().filter(|(s, _, _)| *s == StatusCode::OK).collect();
        let losers: Vec<_> = outcomes.iter().filter(|(s, _, _)| *s != StatusCode::OK).collect();
        assert_eq!((winners.len(), losers.len()), (1, 1), "round {round}: {body_a} / {body_b}");
        let (_, won, choice) = winners[0];
        let (status, lost, _) = losers[0];
        assert_problem(*status, lost, StatusCode::CONFLICT, "conflict");
        assert_eq!(lost["field"], "version", "round {round}: {lost}");
        assert_eq!((won["assignee_id"].as_i64(), &won["version"]), (Some(*choice), &json!(3)), "round {round}: {won}");

        let now = detail(&app, first, id).await;
        assert_eq!((now["ticket"]["assignee_id"].as_i64(), &now["ticket"]["version"], &now["ticket"]["status"]), (Some(*choice), &json!(3), &json!("assigned")));
        let assignee_changes: Vec<_> = history(&now).into_iter().filter(|(kind, ..)| kind == "assignee").collect();
        assert_eq!(assignee_changes, vec![entry("assignee", "dispatcher", None, Some(&choice.to_string()))], "round {round}");
        let to_assigned = history(&now).into_iter().filter(|(_, _, _, to)| to.as_deref() == Some("assigned")).count();
        assert_eq!(to_assigned, 1, "round {round}: {now}");
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Who sees what
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn owners_see_their_own_tickets_without_internal_notes_and_staff_only_theirs() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let beta = app.tenant("Beta").await;
    let (owner, desk, tech, manager) = (t.token(Role::Owner), t.token(Role::Dispatcher), t.token(Role::Technician), t.token(Role::Manager));
    let tech_user = user_id(&app, tech).await;
    let (other_unit, _, other_owner) = second_owner(&app, &t, "401", "李秀英", "li@alpha.test").await;

    let mine = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    let theirs = id_of(
        &file(&app, &other_owner, json!({ "unit_id": other_unit, "category": "electrical", "location": "in_unit", "description": "插座冒火花" })).await,
    );
    let unassigned = id_of(&file_simple(&app, &t, "walls", "low").await);

    // Owners: their own units' tickets only.
    let (status, body) = app.get(&format!("/tickets/{theirs}"), owner).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.get(&format!("/tickets/{mine}"), &other_owner).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = transition(&app, owner, theirs, json!({ "to": "cancelled", "version": 1 })).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.post(&format!("/tickets/{theirs}/comments"), owner, json!({ "body": "偷看" })).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let mut own_ids = ids(&queue(&app, owner, "").await);
    own_ids.sort();
    assert_eq!(own_ids, vec![mine, unassigned]);
    assert_eq!(ids(&queue(&app, &other_owner, "").await), vec![theirs]);
    let counts = queue(&app, &other_owner, "").await["counts"].clone();
    assert_eq!(counts, json!({ "submitted": 1 }), "counts are of the owner's own tickets");

    // Filing: only for a unit one owns, known categories, texts within limits; nothing written.
    let before = ticket_count(&app).await;
    for unit in [other_unit, t.developer_unit_id, beta.unit_id] {
        let (status, body) =
            app.post("/tickets", owner, json!({ "unit_id": unit, "category": "plumbing", "location": "in_unit", "description": "漏水" })).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let (status, body) = app.post("/tickets", owner, json!({ "unit_id": t.unit_id, "category": "ufo", "location": "in_unit", "description": "漏水" })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "category", "{body}");
    let (status, body) =
        app.post("/tickets", owner, json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "description": "漏".repeat(2001) })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "description", "{body}");
    let (status, body) = app.post("/tickets", owner, json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "common_area", "description": "楼道漏水" })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "place", "{body}");
    assert_eq!(ticket_count(&app).await, before, "a refused filing wrote a ticket");
    // The desk files for an owner who phoned: the unit's owner by default, never a stranger.
    let (status, body) = app
        .post("/tickets", desk, json!({ "unit_id": t.unit_id, "owner_id": 999_999, "category": "gas", "location": "in_unit", "description": "电话报修：闻到煤气味" }))
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "owner_id", "{body}");
    let (status, body) = app.post("/tickets", tech, json!({ "unit_id": t.unit_id, "category": "gas", "location": "in_unit", "description": "顺手报一个" })).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(ticket_count(&app).await, before, "a refused filing wrote a ticket");
    let phoned = file(&app, desk, json!({ "unit_id": t.unit_id, "category": "gas", "location": "in_unit", "description": "电话报修：闻到煤气味" })).await;
    assert_eq!((phoned["owner_id"].as_i64(), phoned["filed_by"].as_i64()), (Some(t.owner_id), Some(user_id(&app, desk).await)), "{phoned}");
    assert_eq!(detail(&app, owner, id_of(&phoned)).await["ticket"]["id"], phoned["id"], "the owner sees what the desk filed for them");
    let (status, body) = app.get(&format!("/tickets/{}", id_of(&phoned)), &other_owner).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    // 2000 characters is fine.
    let long = file(&app, owner, json!({ "unit_id": t.unit_id, "category": "other", "location": "in_unit", "description": "漏".repeat(2000) })).await;
    assert_eq!(long["description"].as_str().unwrap().chars().count(), 2000);

    // Comments: an owner's are always visible; internal notes and internal history stay with staff.
    let (status, body) = app.post(&format!("/tickets/{mine}/comments"), owner, json!({ "body": "内部", "internal": true })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "internal", "{body}");
    assert_eq!(ticket_comment::Entity::find().count(&app.db).await.unwrap(), 0);
    let (status, body) = app.post(&format!("/tickets/{mine}/comments"), desk, json!({ "body": "业主脾气不好，注意沟通", "internal": true })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["internal"], true, "{body}");
    let (status, body) = app.post(&format!("/tickets/{mine}/comments"), desk, json!({ "body": "明天上午上门" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(&format!("/tickets/{mine}/comments"), owner, json!({ "body": "好的，谢谢" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The technician: nothing until it is assigned to them.
    let (status, body) = app.get(&format!("/tickets/{mine}"), tech).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(ids(&queue(&app, tech, "").await), Vec::<i64>::new());
    resolved(&app, &t, mine, (tech, tech_user)).await;
    let (status, body) = app.post(&format!("/tickets/{mine}/follow-up"), desk, json!({ "note": "回访：业主说水管不漏了但地板泡坏了" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(&format!("/tickets/{mine}/cost"), manager, json!({ "route": "company" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&queue(&app, tech, "?status=resolved").await), vec![mine]);
    assert_eq!(ids(&queue(&app, tech, "").await), Vec::<i64>::new(), "resolved is not open work");
    for other in [theirs, unassigned] {
        let (status, body) = app.get(&format!("/tickets/{other}"), tech).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let tech_view = detail(&app, tech, mine).await;
    assert_eq!(tech_view["comments"].as_array().unwrap().len(), 3, "staff see the internal note: {tech_view}");

    let seen = detail(&app, owner, mine).await;
    let bodies: Vec<&str> = seen["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["明天上午上门", "好的，谢谢"], "{seen}");
    assert!(seen["comments"].as_array().unwrap().iter().all(|c| c["internal"] == false), "{seen}");
    let text = seen.to_string();
    for secret in ["业主脾气不好", "地板泡坏了"] {
        assert!(!text.contains(secret), "the owner sees {secret:?}: {seen}");
    }
    let kinds: BTreeSet<String> = history(&seen).into_iter().map(|(kind, ..)| kind).collect();
    assert!(!kinds.contains("follow_up") && !kinds.contains("cost"), "{kinds:?}");
    assert_eq!(history(&seen).iter().filter(|(kind, ..)| kind == "comment").count(), 2, "only the visible comments: {seen}");
    assert!(seen["ticket"]["follow_up"].is_null(), "{seen}");
    let staff_kinds: BTreeSet<String> = history(&detail(&app, desk, mine).await).into_iter().map(|(kind, ..)| kind).collect();
    assert!(staff_kinds.contains("follow_up") && staff_kinds.contains("cost"), "{staff_kinds:?}");

    // Committee members and cashiers have no business with tickets.
    for role in [Role::Committee, Role::Cashier] {
        let token = t.token(role);
        for (status, body) in [
            app.get("/tickets", token).await,
            app.get(&format!("/tickets/{mine}"), token).await,
            app.post("/tickets", token, json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "description": "漏水" })).await,
            transition(&app, token, unassigned, json!({ "to": "accepted", "version": 1 })).await,
            app.post(&format!("/tickets/{mine}/comments"), token, json!({ "body": "看看" })).await,
        ] {
            assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
        }
    }

    // Another company's desk: not found, whatever it tries.
    let beta_desk = beta.token(Role::Dispatcher);
    let (status, body) = app.get(&format!("/tickets/{unassigned}"), beta_desk).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = transition(&app, beta_desk, unassigned, json!({ "to": "accepted", "version": 1 })).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = assign(&app, beta_desk, unassigned, 1, None).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(ids(&queue(&app, beta_desk, "").await), Vec::<i64>::new());
    let (status, body) = app.post("/tickets", beta_desk, json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "description": "漏水" })).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Assignment to someone who is not our technician: refused, nothing written.
    go(&app, desk, unassigned, 1, "accepted", json!({})).await;
    let beta_tech = user_id(&app, beta.token(Role::Technician)).await;
    let desk_user = user_id(&app, desk).await;
    for wrong in [beta_tech, desk_user, 999_999] {
        let (status, body) = assign(&app, desk, unassigned, 2, Some(wrong)).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(body["field"], "technician_id", "{body}");
    }
    let still = detail(&app, desk, unassigned).await;
    assert_eq!((&still["ticket"]["status"], &still["ticket"]["version"], &still["ticket"]["assignee_id"]), (&json!("accepted"), &json!(2), &Value::Null));
}

// ---------------------------------------------------------------------------------------------
// 5. Photos
// ---------------------------------------------------------------------------------------------

fn jpeg() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00];
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

fn png() -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend_from_slice(&[0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE]);
    bytes
}

fn webp() -> Vec<u8> {
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&26u32.to_le_bytes());
    bytes.extend_from_slice(b"WEBPVP8 ");
    bytes.extend_from_slice(&[14, 0, 0, 0, 0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A, 0x01, 0x00, 0x01, 0x00]);
    bytes
}

async fn upload_photo(app: &TestApp, token: &str, id: i64, content_type: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/tickets/{id}/photos", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("send the photo");
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// GET a photo: (status, content type, bytes).
async fn download_photo(app: &TestApp, token: &str, url: &str) -> (StatusCode, String, Vec<u8>) {
    let response = app.client.get(format!("{}{url}", app.base)).bearer_auth(token).send().await.expect("get the photo");
    let status = response.status();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, content_type, response.bytes().await.unwrap().to_vec())
}

async fn photo_count(app: &TestApp, id: i64) -> u64 {
    ticket_photo::Entity::find().filter(ticket_photo::Column::TicketId.eq(id)).count(&app.db).await.unwrap()
}

#[tokio::test]
async fn photos_are_told_by_their_bytes_and_served_only_to_those_who_see_the_ticket() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let beta = app.tenant("Beta").await;
    let (owner, desk) = (t.token(Role::Owner), t.token(Role::Dispatcher));
    let (_, _, other_owner) = second_owner(&app, &t, "401", "李秀英", "li@alpha.test").await;
    let id = id_of(&file_simple(&app, &t, "roof_leak", "urgent").await);

    // Whatever the request says, the bytes decide.
    let mut stored = Vec::new();
    for (token, claimed, bytes, actual) in [
        (owner, "image/png", jpeg(), "image/jpeg"),
        (owner, "application/octet-stream", png(), "image/png"),
        (desk, "image/jpeg", webp(), "image/webp"),
    ] {
        let (status, photo) = upload_photo(&app, token, id, claimed, bytes.clone()).await;
        assert_eq!(status, StatusCode::OK, "{claimed}: {photo}");
        assert_eq!(photo["content_type"], actual, "{photo}");
        assert_eq!(photo["size"].as_u64(), Some(bytes.len() as u64), "{photo}");
        use sha2::Digest;
        assert_eq!(photo["sha256"], hex::encode(sha2::Sha256::digest(&bytes)), "{photo}");
        assert_eq!(photo["url"], format!("/ticket-photos/{}", photo["id"]), "{photo}");
        stored.push((photo, bytes, actual));
    }
    let listed = detail(&app, owner, id).await["photos"].clone();
    assert_eq!(listed.as_array().unwrap().iter().map(id_of).collect::<Vec<_>>(), stored.iter().map(|(p, ..)| id_of(p)).collect::<Vec<_>>());

    // Served as stored to the owner and the desk; to nobody else.
    let tech = t.token(Role::Technician);
    for (photo, bytes, actual) in &stored {
        let url = photo["url"].as_str().unwrap();
        for token in [owner, desk, t.token(Role::Manager)] {
            let (status, content_type, got) = download_photo(&app, token, url).await;
            assert_eq!(status, StatusCode::OK, "{url}");
            assert_eq!(content_type, *actual, "{url}");
            assert_eq!(&got, bytes, "{url}: the bytes as uploaded");
        }
        for token in [other_owner.as_str(), beta.token(Role::Dispatcher), beta.token(Role::Owner), tech] {
            let (status, body) = app.get(url, token).await;
            assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
        }
        for token in [t.token(Role::Committee), t.token(Role::Cashier)] {
            let (status, body) = app.get(url, token).await;
            assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
        }
    }
    let (status, body) = app.get("/ticket-photos/999999", owner).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    // Another owner may not add one either.
    let (status, body) = upload_photo(&app, &other_owner, id, "image/jpeg", jpeg()).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Disguised, oversized: refused, nothing written.
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let mut riff_wave = b"RIFF\x10\0\0\0WAVEfmt ".to_vec();
    riff_wave.extend_from_slice(&[0; 16]);
    for (what, bytes) in [("gif", gif), ("svg", svg), ("wav", riff_wave), ("empty", Vec::new())] {
        let (status, body) = upload_photo(&app, owner, id, "image/jpeg", bytes).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(body["field"], "photo", "{what}: {body}");
    }
    let mut too_big = jpeg();
    too_big.resize(5 * 1024 * 1024 + 1, 0);
    let (status, body) = upload_photo(&app, owner, id, "image/jpeg", too_big).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "photo", "{body}");
    // Past the server's body limit (10 MB by default) the edge refuses it before the handler.
    let mut far_too_big = jpeg();
    far_too_big.resize(10 * 1024 * 1024 + 1, 0);
    let (status, body) = upload_photo(&app, owner, id, "image/jpeg", far_too_big).await;
    assert_problem(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(photo_count(&app, id).await, 3);
    // Exactly 5 MB is fine.
    let mut largest = png();
    largest.resize(5 * 1024 * 1024, 0);
    let (status, body) = upload_photo(&app, owner, id, "image/png", largest).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Six a ticket, not seven, even when the last two arrive at once.
    let (status, body) = upload_photo(&app, owner, id, "image/jpeg", jpeg()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (a, b) = tokio::join!(upload_photo(&app, owner, id, "image/jpeg", jpeg()), upload_photo(&app, desk, id, "image/png", png()));
    let mut outcomes = [a.0, b.0];
    outcomes.sort();
    assert_eq!(outcomes, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.1, b.1);
    assert_eq!(photo_count(&app, id).await, 6);
    let (status, body) = upload_photo(&app, desk, id, "image/jpeg", jpeg()).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(body["field"], "photo", "{body}");
    assert_eq!(photo_count(&app, id).await, 6);
    assert_eq!(detail(&app, desk, id).await["photos"].as_array().unwrap().len(), 6);
    assert_eq!(history(&detail(&app, desk, id).await).iter().filter(|(kind, ..)| kind == "photo").count(), 6);
}

// ---------------------------------------------------------------------------------------------
// 6. SLA
// ---------------------------------------------------------------------------------------------

fn deadlines(ticket: &Value) -> (Duration, Duration) {
    let created = ts(&ticket["created_at"]);
    (ts(&ticket["response_due_at"]) - created, ts(&ticket["resolution_due_at"]) - created)
}

#[tokio::test]
async fn a_gas_leak_is_answered_in_minutes_and_a_dripping_tap_in_days() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let gas = file_simple(&app, &t, "gas", "emergency").await;
    assert_eq!(gas["priority"], "p1", "{gas}");
    assert_eq!(deadlines(&gas), (Duration::minutes(15), Duration::hours(4)), "{gas}");
    assert_eq!(gas["due_at"], gas["response_due_at"], "until accepted the response deadline counts: {gas}");
    // Gas is answered in minutes however the filer rates it.
    let gas_low = file_simple(&app, &t, "gas", "low").await;
    assert_eq!(deadlines(&gas_low).0, Duration::minutes(15), "{gas_low}");
    // The filer's urgency raises a ticket.
    let walls = file_simple(&app, &t, "walls", "emergency").await;
    assert_eq!((&walls["priority"], deadlines(&walls)), (&json!("p1"), (Duration::minutes(15), Duration::hours(4))), "{walls}");

    // A dripping tap the owner says can wait is p4: answered within a day, fixed within a week.
    let tap = file_simple(&app, &t, "plumbing", "low").await;
    assert_eq!((&tap["priority"], deadlines(&tap)), (&json!("p4"), (Duration::days(1), Duration::days(7))), "{tap}");
}

#[tokio::test]
async fn a_compound_sets_its_own_targets_for_new_tickets() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let manager = t.token(Role::Manager);
    let path = format!("/compounds/{}/sla", t.compound_id);
    let (status, table) = app.get(&path, t.token(Role::Dispatcher)).await;
    assert_eq!(status, StatusCode::OK, "{table}");
    assert_eq!(table.as_array().unwrap().len(), 12 * 4);
    let find = |table: &Value, category: &str, priority: &str| -> Value {
        table.as_array().unwrap().iter().find(|r| r["category"] == category && r["priority"] == priority).cloned().unwrap_or_else(|| panic!("{category} {priority} in {table}"))
    };
    assert_eq!(find(&table, "plumbing", "p4"), json!({ "category": "plumbing", "priority": "p4", "response_minutes": 1440, "resolution_minutes": 10080, "own": false }));

    // Only the manager sets them, and sensibly.
    let target = json!({ "targets": [{ "category": "plumbing", "priority": "p4", "response_minutes": 120, "resolution_minutes": 600 }] });
    let (status, body) = app.request(reqwest::Method::PUT, &path, Some(t.token(Role::Dispatcher)), Some(target.clone())).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    for bad in [(600, 120), (0, 10), (10, 90 * 24 * 60 + 1)] {
        let (status, body) = app
            .request(reqwest::Method::PUT, &path, Some(manager), Some(json!({ "targets": [{ "category": "plumbing", "priority": "p4", "response_minutes": bad.0, "resolution_minutes": bad.1 }] })))
            .await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(body["field"], "targets", "{bad:?}: {body}");
    }
    let (status, body) = app.request(reqwest::Method::PUT, &format!("/compounds/{}/sla", app.tenant("Beta").await.compound_id), Some(manager), Some(target.clone())).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, table) = app.request(reqwest::Method::PUT, &path, Some(manager), Some(target.clone())).await;
    assert_eq!(status, StatusCode::OK, "{table}");
    assert_eq!(find(&table, "plumbing", "p4"), json!({ "category": "plumbing", "priority": "p4", "response_minutes": 120, "resolution_minutes": 600, "own": true }));
    assert_eq!(find(&table, "plumbing", "p3")["own"], false);
    // Setting it again replaces it.
    let (status, _) = app.request(reqwest::Method::PUT, &path, Some(manager), Some(target)).await;
    assert_eq!(status, StatusCode::OK);

    // A plumbing ticket triaged as p4 gets their resolution target, counted from filing (its
    // response deadline was the one it was filed with, and triage answered it).
    let normal = file_simple(&app, &t, "plumbing", "normal").await;
    assert_eq!(deadlines(&normal), (Duration::hours(4), Duration::days(3)), "p3 keeps its default: {normal}");
    let triaged = go(&app, t.token(Role::Dispatcher), id_of(&normal), 1, "accepted", json!({ "priority": "p4" })).await;
    assert_eq!(deadlines(&triaged), (Duration::hours(4), Duration::minutes(600)), "{triaged}");

    // A low-urgency plumbing ticket is filed as p4, so it gets the compound's p4 targets at once.
    let filed = file_simple(&app, &t, "plumbing", "low").await;
    assert_eq!((&filed["priority"], deadlines(&filed)), (&json!("p4"), (Duration::minutes(120), Duration::minutes(600))), "{filed}");
}

#[tokio::test]
async fn time_on_hold_moves_the_resolution_deadline_and_is_never_overdue() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let (desk, tech) = (t.token(Role::Dispatcher), t.token(Role::Technician));
    let tech_user = user_id(&app, tech).await;

    let id = id_of(&file_simple(&app, &t, "electrical", "normal").await);
    in_progress(&app, &t, id, (tech, tech_user)).await;
    let held = go(&app, tech, id, 4, "on_hold", json!({ "note": "等配件" })).await;
    let before = row(&app, id).await;
    assert_eq!(before.paused_seconds, 0);
    // Two hours on hold.
    set_row(&app, id, |r| r.paused_at = Set(Some(Utc::now() - Duration::hours(2)))).await;
    assert!(!held["on_hold_since"].is_null());
    let resumed = go(&app, tech, id, 5, "in_progress", json!({})).await;
    let paused = resumed["paused_seconds"].as_i64().unwrap();
    assert!((7200..7230).contains(&paused), "about two hours paused: {resumed}");
    assert_eq!(ts(&resumed["resolution_due_at"]) - before.resolution_due_at, Duration::seconds(paused), "{resumed}");
    assert_eq!(resumed["due_at"], resumed["resolution_due_at"], "{resumed}");
    assert_eq!(ts(&resumed["response_due_at"]), before.response_due_at, "the response deadline stays: {resumed}");
    let stored = row(&app, id).await;
    assert_eq!((stored.paused_seconds, stored.resolution_due_at - before.resolution_due_at, stored.paused_at), (paused, Duration::seconds(paused), None));

    // Overdue: a running ticket past its deadline is; one on hold is not.
    let late = id_of(&file_simple(&app, &t, "doors", "normal").await);
    go(&app, desk, late, 1, "accepted", json!({})).await;
    let waiting = id_of(&file_simple(&app, &t, "walls", "normal").await);
    in_progress(&app, &t, waiting, (tech, tech_user)).await;
    go(&app, tech, waiting, 4, "on_hold", json!({ "note": "业主出差" })).await;
    let fresh = id_of(&file_simple(&app, &t, "other", "normal").await);
    let past = Utc::now() - Duration::hours(1);
    for ticket in [late, waiting] {
        set_row(&app, ticket, |r| {
            r.due_at = Set(past);
            r.resolution_due_at = Set(past);
        })
        .await;
    }
    let overdue = queue(&app, desk, "?overdue=true").await;
    assert_eq!(ids(&overdue), vec![late], "{overdue}");
    assert_eq!(overdue["items"][0]["overdue"], true, "{overdue}");
    let everything = queue(&app, desk, "").await;
    let flags: BTreeMap<i64, bool> = everything["items"].as_array().unwrap().iter().map(|t| (id_of(t), t["overdue"].as_bool().unwrap())).collect();
    assert_eq!(flags, BTreeMap::from([(id, false), (late, true), (waiting, false), (fresh, false)]), "{everything}");
}

#[tokio::test]
async fn the_sla_job_escalates_each_missed_deadline_to_the_managers_once() {
    let app = TestApp::spawn_with(&workers_on(&[("WUYE_MAIL_LANGUAGE", "en")])).await;
    let t = app.tenant("Alpha").await;
    let beta = app.tenant("Beta").await;
    let (desk, tech, manager) = (t.token(Role::Dispatcher), t.token(Role::Technician), t.token(Role::Manager));
    let tech_user = user_id(&app, tech).await;
    let past = Utc::now() - Duration::minutes(30);

    // Not answered in time; accepted but not resolved in time; on hold past its deadline;
    // within its deadlines; another company's (their job, not ours).
    let unanswered = id_of(&file_simple(&app, &t, "gas", "emergency").await);
    set_row(&app, unanswered, |r| {
        r.response_due_at = Set(past);
        r.due_at = Set(past);
    })
    .await;
    let unresolved = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    go(&app, desk, unresolved, 1, "accepted", json!({})).await;
    let on_hold = id_of(&file_simple(&app, &t, "elevator", "normal").await);
    in_progress(&app, &t, on_hold, (tech, tech_user)).await;
    go(&app, tech, on_hold, 4, "on_hold", json!({ "note": "等电梯公司" })).await;
    for ticket in [unresolved, on_hold] {
        set_row(&app, ticket, |r| {
            r.resolution_due_at = Set(past);
            r.due_at = Set(past);
        })
        .await;
    }
    let in_time = id_of(&file_simple(&app, &t, "walls", "normal").await);
    let theirs = id_of(&file_simple(&app, &beta, "gas", "emergency").await);
    set_row(&app, theirs, |r| r.response_due_at = Set(past)).await;

    let runs = run_job(&app, manager, "ticket_sla").await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
    assert_eq!(runs[0]["counts"], json!({ "response": 1, "resolution": 1, "emails": 4 }), "{runs:?}");

    let escalations = |d: &Value| history(d).into_iter().filter(|(kind, ..)| kind == "escalated").collect::<Vec<_>>();
    assert_eq!(escalations(&detail(&app, desk, unanswered).await), vec![entry("escalated", "system", None, Some("response"))]);
    assert_eq!(escalations(&detail(&app, desk, unresolved).await), vec![entry("escalated", "system", None, Some("resolution"))]);
    for quiet in [on_hold, in_time] {
        assert_eq!(escalations(&detail(&app, desk, quiet).await), vec![], "ticket {quiet}");
    }
    assert_eq!(escalations(&detail(&app, beta.token(Role::Dispatcher), theirs).await), vec![], "another company's ticket");
    // Staff business: the owner does not see it.
    assert_eq!(escalations(&detail(&app, t.token(Role::Owner), unanswered).await), vec![]);
    // The breaches are flagged on the tickets.
    let late = |d: Value| (d["ticket"]["response_late"].as_bool(), d["ticket"]["resolution_late"].as_bool());
    assert_eq!(late(detail(&app, desk, unanswered).await), (Some(true), Some(false)));
    assert_eq!(late(detail(&app, desk, unresolved).await), (Some(false), Some(true)));
    assert_eq!(late(detail(&app, desk, in_time).await), (Some(false), Some(false)));

    let mails = outbox(&app, "ticket_escalation").await;
    let mut sent_to: Vec<(String, String)> = mails.iter().map(|m| (m.reference.clone().unwrap(), m.recipient.clone())).collect();
    sent_to.sort();
    let mut expected: Vec<(String, String)> = [unanswered, unresolved]
        .iter()
        .flat_map(|id| ["company_admin@alpha.test", "manager@alpha.test"].map(|to| (format!("ticket:{id}"), to.to_string())))
        .collect();
    expected.sort();
    assert_eq!(sent_to, expected);
    let response_mail = mails.iter().find(|m| m.reference.as_deref() == Some(&format!("ticket:{unanswered}"))).unwrap();
    assert!(response_mail.subject.contains(&format!("#{unanswered}")) && response_mail.subject.contains("response"), "{}", response_mail.subject);
    assert!(response_mail.body.contains(&format!("/app/#/staff/tickets/{unanswered}\n")), "{}", response_mail.body);
    // Delivered through the outbox (beside the owner's own updates of these tickets).
    let to_managers = || app.mailer.stub_messages().into_iter().filter(|m| m.contains("[Overdue]")).collect::<Vec<_>>();
    eventually(20, "the escalations to be delivered", || async { (to_managers().len() >= 4).then_some(()) }).await;
    let delivered = to_managers();
    assert_eq!(delivered.len(), 4, "{delivered:#?}");
    assert_eq!(delivered.iter().filter(|m| m.contains("manager@alpha.test")).count(), 2, "{delivered:#?}");
    assert_eq!(delivered.iter().filter(|m| m.contains("company_admin@alpha.test")).count(), 2, "{delivered:#?}");

    // A second run finds nothing new.
    let runs = run_job(&app, manager, "ticket_sla").await;
    assert_eq!(runs[0]["counts"], json!({ "response": 0, "resolution": 0, "emails": 0 }), "{runs:?}");
    assert_eq!(outbox(&app, "ticket_escalation").await.len(), 4);
    assert_eq!(escalations(&detail(&app, desk, unanswered).await).len(), 1);
    assert_eq!(escalations(&detail(&app, desk, unresolved).await).len(), 1);
}

#[tokio::test]
async fn a_reopened_ticket_that_misses_its_new_deadline_is_escalated_again() {
    let app = TestApp::spawn_with(WORKERS_ON).await;
    let t = app.tenant("Alpha").await;
    let (owner, tech, manager) = (t.token(Role::Owner), t.token(Role::Technician), t.token(Role::Manager));
    let tech_user = user_id(&app, tech).await;
    let id = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    in_progress(&app, &t, id, (tech, tech_user)).await;
    let past = Utc::now() - Duration::minutes(30);
    set_row(&app, id, |r| {
        r.resolution_due_at = Set(past);
        r.due_at = Set(past);
    })
    .await;
    let runs = run_job(&app, manager, "ticket_sla").await;
    assert_eq!(runs[0]["counts"]["resolution"], 1, "{runs:?}");

    // Resolved, reopened by the owner: a new resolution deadline, which passes as well.
    go(&app, tech, id, 4, "resolved", json!({})).await;
    let reopened = go(&app, owner, id, 5, "reopened", json!({})).await;
    assert!(ts(&reopened["resolution_due_at"]) > Utc::now(), "a new deadline: {reopened}");
    set_row(&app, id, |r| {
        r.resolution_due_at = Set(past);
        r.due_at = Set(past);
    })
    .await;
    let overdue = queue(&app, t.token(Role::Dispatcher), "?overdue=true").await;
    assert_eq!(ids(&overdue), vec![id], "the queue flags it: {overdue}");

    // The new deadline is a new one: missing it is escalated again.
    let runs = run_job(&app, manager, "ticket_sla").await;
    assert_eq!(runs[0]["counts"]["resolution"], 1, "the reopened ticket's missed deadline was not escalated: {runs:?}");
}

// ---------------------------------------------------------------------------------------------
// 7. The queue, and closing resolved tickets
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_queue_sorts_by_deadline_counts_pages_and_filters() {
    let app = TestApp::spawn_with(&workers_on(&[("WUYE_TICKET_AUTO_CLOSE_DAYS", "3"), ("WUYE_TICKET_REOPEN_DAYS", "3")])).await;
    let t = app.tenant("Alpha").await;
    let (owner, desk, tech, manager) = (t.token(Role::Owner), t.token(Role::Dispatcher), t.token(Role::Technician), t.token(Role::Manager));
    let tech_user = user_id(&app, tech).await;

    let tap = id_of(&file_simple(&app, &t, "plumbing", "normal").await); // submitted, p3
    let gas = id_of(&file_simple(&app, &t, "gas", "emergency").await); // submitted, p1
    let wall = id_of(&file_simple(&app, &t, "walls", "low").await); // submitted, p4
    let socket = id_of(&file_simple(&app, &t, "electrical", "urgent").await);
    go(&app, desk, socket, 1, "accepted", json!({ "priority": "p2" })).await; // accepted
    let drain = id_of(&file_simple(&app, &t, "plumbing", "urgent").await);
    go(&app, desk, drain, 1, "accepted", json!({})).await;
    assign(&app, desk, drain, 2, Some(tech_user)).await; // assigned
    let door = id_of(&file_simple(&app, &t, "doors", "normal").await);
    resolved(&app, &t, door, (tech, tech_user)).await; // resolved long ago (below)
    let hinge = id_of(&file_simple(&app, &t, "doors", "normal").await);
    resolved(&app, &t, hinge, (tech, tech_user)).await; // resolved lately
    let other = id_of(&file_simple(&app, &t, "other", "normal").await);
    go(&app, owner, other, 1, "cancelled", json!({})).await; // cancelled
    let lift = id_of(&file_simple(&app, &t, "elevator", "normal").await); // submitted, p2
    let lamp = id_of(&file_simple(&app, &t, "street_lights", "normal").await); // submitted, p3
    // Three tickets share one deadline: the id decides among them.
    let shared = Utc.with_ymd_and_hms(2031, 5, 1, 8, 0, 0).unwrap();
    for ticket in [lift, tap, lamp] {
        set_row(&app, ticket, |r| r.due_at = Set(shared)).await;
    }
    let open = [tap, gas, wall, socket, drain, lift, lamp];

    // Soonest deadline first, then id; exactly the open tickets.
    let rows = ticket::Entity::find().all(&app.db).await.unwrap();
    let mut expected: Vec<(DateTime<Utc>, i64)> = rows.iter().filter(|r| open.contains(&r.id)).map(|r| (r.due_at, r.id)).collect();
    expected.sort();
    let expected: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();
    assert_eq!(expected[0], gas, "the gas leak's 15 minutes come first");
    let page = queue(&app, desk, "").await;
    assert_eq!(ids(&page), expected, "{page}");
    assert!(page["next"].is_null(), "{page}");
    let dues: Vec<DateTime<Utc>> = page["items"].as_array().unwrap().iter().map(|i| ts(&i["due_at"])).collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
    assert_eq!(page["counts"], json!({ "submitted": 5, "accepted": 1, "assigned": 1, "resolved": 2, "cancelled": 1 }), "{page}");

    // Two at a time, following `next`: each open ticket exactly once, in the same order.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let query = match &after {
            Some(cursor) => format!("?limit=2&after={cursor}"),
            None => "?limit=2".to_string(),
        };
        let page = queue(&app, desk, &query).await;
        let got = ids(&page);
        assert!(got.len() <= 2, "{page}");
        paged.extend(got);
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    // (`paged` is checked at the end of the test, so that the rest runs on both databases.)
    for limit in [0, 201] {
        let (status, body) = app.get(&format!("/tickets?limit={limit}"), desk).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(body["field"], "limit", "{body}");
    }
    let (status, body) = app.get("/tickets?after=yesterday", desk).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "after", "{body}");

    // Filters.
    let plumbing = queue(&app, desk, "?category=plumbing").await;
    assert_eq!(ids(&plumbing).into_iter().collect::<BTreeSet<_>>(), BTreeSet::from([tap, drain]), "{plumbing}");
    assert_eq!(plumbing["counts"], json!({ "submitted": 1, "assigned": 1 }), "{plumbing}");
    assert_eq!(ids(&queue(&app, desk, "?priority=p1").await), vec![gas]);
    let p2: BTreeSet<i64> = ids(&queue(&app, desk, "?priority=p2").await).into_iter().collect();
    assert_eq!(p2, BTreeSet::from([socket, drain, lift]));
    assert_eq!(ids(&queue(&app, desk, &format!("?assignee_id={tech_user}")).await), vec![drain]);
    let mut done = ids(&queue(&app, desk, "?status=resolved").await);
    done.sort();
    assert_eq!(done, vec![door, hinge]);
    assert_eq!(ids(&queue(&app, desk, "?status=cancelled").await), vec![other]);
    assert_eq!(ids(&queue(&app, desk, &format!("?compound_id={}", t.compound_id)).await), expected);
    assert_eq!(ids(&queue(&app, desk, "?compound_id=999999").await), Vec::<i64>::new());
    assert_eq!(ids(&queue(&app, desk, "?category=gas&priority=p4").await), Vec::<i64>::new());
    // A technician's own work list.
    assert_eq!(ids(&queue(&app, tech, "").await), vec![drain]);

    // Resolved more than the configured 3 days ago and neither confirmed nor reopened: closed
    // by the job, by `system`; resolved lately: left for its owner.
    set_row(&app, door, |r| r.resolved_at = Set(Some(Utc::now() - Duration::days(3) - Duration::hours(1)))).await;
    set_row(&app, hinge, |r| r.resolved_at = Set(Some(Utc::now() - Duration::days(2)))).await;
    let runs = run_job(&app, manager, "ticket_auto_close").await;
    assert_eq!((&runs[0]["status"], &runs[0]["counts"]), (&json!("succeeded"), &json!({ "closed": 1 })), "{runs:?}");
    let closed = detail(&app, desk, door).await;
    assert_eq!((&closed["ticket"]["status"], &closed["ticket"]["version"]), (&json!("closed"), &json!(6)), "{closed}");
    assert!(!closed["ticket"]["closed_at"].is_null(), "{closed}");
    let last = closed["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(history(&closed).last().unwrap(), &entry("status", "system", Some("resolved"), Some("closed")), "{last}");
    assert_eq!(last["actor_id"], 0, "{last}");
    assert!(last["note"].as_str().unwrap().contains('3'), "{last}");
    assert_eq!(detail(&app, owner, door).await["history"].as_array().unwrap().last().unwrap()["actor_role"], "system", "the owner sees who closed it");
    assert_eq!(row(&app, hinge).await.status, "resolved");
    let runs = run_job(&app, manager, "ticket_auto_close").await;
    assert_eq!(runs[0]["counts"], json!({ "closed": 0 }), "{runs:?}");

    // Deadlines with sub-microsecond parts (SQLite keeps nanoseconds) page exactly too.
    assert_eq!(paged, expected, "pages of two, following next");
}

/// The queue's default page is read from the partial index of open tickets (migration 000009),
/// which names the open statuses itself: were `Status::OPEN` to change without a new index, the
/// queue would still answer rightly but walk every closed ticket again.
#[tokio::test]
async fn the_open_tickets_index_holds_exactly_the_open_statuses() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let sql = match app.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "SELECT indexdef AS definition FROM pg_indexes WHERE indexname = 'ix_tickets_open_queue'",
        _ => "SELECT sql AS definition FROM sqlite_master WHERE name = 'ix_tickets_open_queue'",
    };
    let row = app.db.query_one_raw(sea_orm::Statement::from_string(app.db.get_database_backend(), sql)).await.unwrap().expect("the index exists");
    let definition: String = row.try_get("", "definition").unwrap();
    // The quoted words of the definition are its statuses.
    let named: BTreeSet<&str> = definition.split('\'').skip(1).step_by(2).collect();
    let open: BTreeSet<&str> = Status::OPEN.iter().map(|s| s.as_str()).collect();
    assert_eq!(named, open, "{definition}");
}

// ---------------------------------------------------------------------------------------------
// 8. Automatic assignment
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn automatic_assignment_goes_to_the_least_loaded_member_of_the_category_group() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let (desk, boss) = (t.token(Role::Dispatcher), t.token(Role::CompanyAdmin));
    let (busy, _) = staff(&app, &t, "technician", "plumber1@alpha.test").await;
    let (idle, _) = staff(&app, &t, "technician", "plumber2@alpha.test").await;
    assert!(busy < idle);
    let groups = format!("/compounds/{}/technician-groups", t.compound_id);

    // Groups: the manager's business; members must be our technicians.
    let group = json!({ "name": "水电班", "categories": ["plumbing", "electrical"], "member_ids": [idle, busy] });
    let (status, body) = app.post(&groups, desk, group.clone()).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let beta = app.tenant("Beta").await;
    let beta_tech = user_id(&app, beta.token(Role::Technician)).await;
    let (status, body) = app.post(&groups, boss, json!({ "name": "外援", "categories": ["plumbing"], "member_ids": [beta_tech] })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "member_ids", "{body}");
    let (status, created) = app.post(&groups, boss, group).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!((&created["categories"], &created["member_ids"]), (&json!(["plumbing", "electrical"]), &json!([idle, busy])), "{created}");
    // The dispatcher picks by name: the members come named, in the group's order.
    let named = json!([{ "id": idle, "name": "plumber2" }, { "id": busy, "name": "plumber1" }]);
    assert_eq!(created["members"], named, "{created}");
    let (status, listed) = app.get(&groups, desk).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().unwrap().iter().map(id_of).collect::<Vec<_>>(), vec![id_of(&created)]);
    assert_eq!(listed[0]["members"], named, "{listed}");

    // One plumber already has open work; the other gets the next ticket.
    let first = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    go(&app, desk, first, 1, "accepted", json!({})).await;
    let (status, body) = assign(&app, desk, first, 2, Some(busy)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    go(&app, desk, second, 1, "accepted", json!({})).await;
    let (status, auto) = assign(&app, desk, second, 2, None).await;
    assert_eq!(status, StatusCode::OK, "{auto}");
    assert_eq!((auto["assignee_id"].as_i64(), &auto["status"]), (Some(idle), &json!("assigned")), "{auto}");
    let d = detail(&app, desk, second).await;
    assert!(history(&d).contains(&entry("assignee", "dispatcher", None, Some(&idle.to_string()))), "{d}");
    // One each now: the tie goes to the lower id; closed work is no load.
    let third = id_of(&file_simple(&app, &t, "electrical", "normal").await);
    go(&app, desk, third, 1, "accepted", json!({})).await;
    let (status, auto) = assign(&app, desk, third, 2, None).await;
    assert_eq!(status, StatusCode::OK, "{auto}");
    assert_eq!(auto["assignee_id"].as_i64(), Some(busy), "{auto}");
    // busy: 2 open, idle: 1 open, plus 3 of idle's resolved (not open) would not count.
    let fourth = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    go(&app, desk, fourth, 1, "accepted", json!({})).await;
    let (_, auto) = assign(&app, desk, fourth, 2, None).await;
    assert_eq!(auto["assignee_id"].as_i64(), Some(idle), "{auto}");

    // The queue names the technicians its page's tickets are assigned to, each once, by id.
    let (_, page) = app.get(&format!("/tickets?compound_id={}", t.compound_id), desk).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(4), "{page}");
    assert_eq!(page["assignees"], json!([{ "id": busy, "name": "plumber1" }, { "id": idle, "name": "plumber2" }]), "{page}");
    let (_, page) = app.get(&format!("/tickets?compound_id={}&assignee_id={idle}", t.compound_id), desk).await;
    assert_eq!(page["assignees"], json!([{ "id": idle, "name": "plumber2" }]), "{page}");
    // The row read past the page to tell whether there is a next one (the second ticket,
    // idle's) names no one: the electrical ticket's deadline is the soonest.
    let (_, page) = app.get(&format!("/tickets?compound_id={}&limit=2", t.compound_id), desk).await;
    let on_page: Vec<i64> = page["items"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!((on_page, page["next"].is_string()), (vec![third, first], true), "{page}");
    assert_eq!(page["assignees"], json!([{ "id": busy, "name": "plumber1" }]), "{page}");

    // No group takes elevators: name a technician.
    let lift = id_of(&file_simple(&app, &t, "elevator", "normal").await);
    go(&app, desk, lift, 1, "accepted", json!({})).await;
    let (status, body) = assign(&app, desk, lift, 2, None).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(body["field"], "technician_id", "{body}");
    let still = detail(&app, desk, lift).await;
    assert_eq!((&still["ticket"]["status"], &still["ticket"]["version"], &still["ticket"]["assignee_id"]), (&json!("accepted"), &json!(2), &Value::Null));
    // Nor before it is accepted.
    let fresh = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    let (status, body) = assign(&app, desk, fresh, 1, None).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(body["field"], "to", "{body}");
}

// ---------------------------------------------------------------------------------------------
// 9. Cost routing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_paid_repair_bills_the_owner_once_and_common_parts_go_to_company_or_fund() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let (owner, tech, manager) = (t.token(Role::Owner), t.token(Role::Technician), t.token(Role::Manager));
    let tech_user = user_id(&app, tech).await;
    let id = id_of(&file_simple(&app, &t, "plumbing", "normal").await);
    let cost = format!("/tickets/{id}/cost");

    // Not before the work is done.
    let (status, body) = app.post(&cost, manager, json!({ "route": "owner_bill", "amount": "150.00" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    resolved(&app, &t, id, (tech, tech_user)).await;

    let bills_before = app.get(&format!("/units/{}/bills", t.unit_id), manager).await.1.as_array().unwrap().len();
    for (who, body, expected, field) in [
        (t.token(Role::Dispatcher), json!({ "route": "owner_bill", "amount": "150.00" }), StatusCode::FORBIDDEN, None),
        (owner, json!({ "route": "company" }), StatusCode::FORBIDDEN, None),
        (manager, json!({ "route": "owner_bill" }), StatusCode::BAD_REQUEST, Some("amount")),
        (manager, json!({ "route": "owner_bill", "amount": "0.00" }), StatusCode::BAD_REQUEST, Some("amount")),
        (manager, json!({ "route": "owner_bill", "amount": "-5.00" }), StatusCode::BAD_REQUEST, Some("amount")),
        (manager, json!({ "route": "maintenance_fund" }), StatusCode::BAD_REQUEST, Some("route")),
        (manager, json!({ "route": "company", "amount": "150.00" }), StatusCode::BAD_REQUEST, Some("amount")),
        (manager, json!({ "route": "landlord" }), StatusCode::BAD_REQUEST, Some("route")),
    ] {
        let (status, answer) = app.post(&cost, who, body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["field"], field, "{body}: {answer}");
        }
    }
    assert_eq!(app.get(&format!("/units/{}/bills", t.unit_id), manager).await.1.as_array().unwrap().len(), bills_before, "a refusal billed");
    assert_eq!(row(&app, id).await.cost_route, None);

    let (status, routed) = app.post(&cost, manager, json!({ "route": "owner_bill", "amount": "150.00" })).await;
    assert_eq!(status, StatusCode::OK, "{routed}");
    assert_eq!((&routed["cost_route"], &routed["version"]), (&json!("owner_bill"), &json!(6)), "{routed}");
    let bill_id = routed["cost_bill_id"].as_i64().unwrap_or_else(|| panic!("no bill: {routed}"));
    let (status, bills) = app.get(&format!("/units/{}/bills", t.unit_id), manager).await;
    assert_eq!(status, StatusCode::OK, "{bills}");
    let bill = bills.as_array().unwrap().iter().find(|b| id_of(b) == bill_id).cloned().unwrap_or_else(|| panic!("bill {bill_id} not in {bills}"));
    assert_eq!((&bill["amount"], &bill["outstanding"], &bill["payer"], bill["unit_id"].as_i64()), (&json!("150.00"), &json!("150.00"), &json!("owner"), Some(t.unit_id)), "{bill}");
    assert!(bill["fee_item"].as_str().unwrap().contains(&id.to_string()), "{bill}");
    // The owner sees the bill too.
    let (status, own_bills) = app.get(&format!("/units/{}/bills", t.unit_id), owner).await;
    assert_eq!(status, StatusCode::OK, "{own_bills}");
    assert!(own_bills.as_array().unwrap().iter().any(|b| id_of(b) == bill_id), "{own_bills}");
    let (status, verification) = app.get(&format!("/compounds/{}/ledger/verification", t.compound_id), manager).await;
    assert_eq!(status, StatusCode::OK, "{verification}");
    assert_eq!((&verification["intact"], &verification["total_debits"]), (&json!(true), &json!("150.00")), "{verification}");

    // Once only.
    let (status, body) = app.post(&cost, manager, json!({ "route": "owner_bill", "amount": "150.00" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(body["field"], "route", "{body}");
    let (status, body) = app.post(&cost, manager, json!({ "route": "company" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(app.get(&format!("/units/{}/bills", t.unit_id), manager).await.1.as_array().unwrap().len(), bills_before + 1);

    // Common parts: never the owner's bill; the company's or the fund's.
    let mut common = Vec::new();
    for _ in 0..2 {
        let hall = id_of(
            &file(&app, owner, json!({ "unit_id": t.unit_id, "category": "street_lights", "location": "common_area", "place": "1栋门口", "description": "路灯不亮" })).await,
        );
        resolved(&app, &t, hall, (tech, tech_user)).await;
        common.push(hall);
    }
    let (status, body) = app.post(&format!("/tickets/{}/cost", common[0]), manager, json!({ "route": "owner_bill", "amount": "80.00" })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "route", "{body}");
    let (status, fund) = app.post(&format!("/tickets/{}/cost", common[0]), manager, json!({ "route": "maintenance_fund" })).await;
    assert_eq!(status, StatusCode::OK, "{fund}");
    assert_eq!((&fund["cost_route"], &fund["cost_bill_id"]), (&json!("maintenance_fund"), &Value::Null), "{fund}");
    let (status, company) = app.post(&format!("/tickets/{}/cost", common[1]), manager, json!({ "route": "company" })).await;
    assert_eq!(status, StatusCode::OK, "{company}");
    assert_eq!(company["cost_route"], "company", "{company}");
    let d = detail(&app, manager, common[1]).await;
    assert_eq!(history(&d).last().unwrap(), &entry("cost", "manager", None, Some("company")), "{d}");
    let (_, verification) = app.get(&format!("/compounds/{}/ledger/verification", t.compound_id), manager).await;
    assert_eq!((&verification["intact"], &verification["total_debits"]), (&json!(true), &json!("150.00")), "{verification}");
}

// ---------------------------------------------------------------------------------------------
// 10. Statistics
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn statistics_give_medians_percentiles_compliance_satisfaction_and_reopen_rate() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let tech = t.token(Role::Technician);
    let tech_user = user_id(&app, tech).await;
    let base = Utc.with_ymd_and_hms(2024, 3, 10, 2, 0, 0).unwrap();
    let minutes = Duration::minutes;

    struct Shape {
        category: &'static str,
        created: DateTime<Utc>,
        accepted: Option<i64>,
        resolved: Option<i64>,
        due: i64,
        paused_seconds: i64,
        rating: Option<i32>,
        reopens: i32,
        technician: bool,
    }
    let shapes = [
        // Answered in 10 min, resolved in 100 of 240: met, rated 5.
        Shape { category: "plumbing", created: base, accepted: Some(10), resolved: Some(100), due: 240, paused_seconds: 0, rating: Some(5), reopens: 0, technician: true },
        // Answered in 30, resolved in 600 of 480: missed, reopened once, rated 4.
        Shape { category: "plumbing", created: base + Duration::days(1), accepted: Some(30), resolved: Some(600), due: 480, paused_seconds: 0, rating: Some(4), reopens: 1, technician: true },
        // Answered in 20, resolved at 200 of which 60 on hold (140 worked) by 240: met, rated 4.
        Shape { category: "gas", created: base + Duration::days(2), accepted: Some(20), resolved: Some(200), due: 240, paused_seconds: 3600, rating: Some(4), reopens: 0, technician: false },
        // Answered in 50, not resolved yet.
        Shape { category: "plumbing", created: base + Duration::days(3), accepted: Some(50), resolved: None, due: 4320, paused_seconds: 0, rating: None, reopens: 0, technician: false },
        // Filed 1 March 00:30 in Shanghai (29 February in UTC): in March; not answered.
        Shape {
            category: "electrical",
            created: Utc.with_ymd_and_hms(2024, 2, 29, 16, 30, 0).unwrap(),
            accepted: None,
            resolved: None,
            due: 1440,
            paused_seconds: 0,
            rating: None,
            reopens: 0,
            technician: false,
        },
        // Filed 1 April 00:30 in Shanghai (31 March in UTC): not in March.
        Shape {
            category: "plumbing",
            created: Utc.with_ymd_and_hms(2024, 3, 31, 16, 30, 0).unwrap(),
            accepted: Some(1),
            resolved: Some(2),
            due: 240,
            paused_seconds: 0,
            rating: Some(1),
            reopens: 3,
            technician: true,
        },
    ];
    for shape in &shapes {
        let id = id_of(&file_simple(&app, &t, shape.category, "normal").await);
        let status = match (shape.accepted, shape.resolved) {
            (_, Some(_)) => "resolved",
            (Some(_), None) => "in_progress",
            _ => "submitted",
        };
        set_row(&app, id, |r| {
            r.created_at = Set(shape.created);
            r.status = Set(status.into());
            r.accepted_at = Set(shape.accepted.map(|m| shape.created + minutes(m)));
            r.resolved_at = Set(shape.resolved.map(|m| shape.created + minutes(m)));
            r.resolution_due_at = Set(shape.created + minutes(shape.due));
            r.due_at = Set(shape.created + minutes(shape.due));
            r.paused_seconds = Set(shape.paused_seconds);
            r.rating = Set(shape.rating);
            r.reopen_count = Set(shape.reopens);
            r.assignee_id = Set(shape.technician.then_some(tech_user));
        })
        .await;
    }

    let path = format!("/compounds/{}/ticket-stats?from=2024-03-01&to=2024-03-31", t.compound_id);
    let (status, stats) = app.get(&path, t.token(Role::Manager)).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    // By hand, nearest rank: responses 10, 20, 30, 50 -> median the 2nd (20), p90 the 4th (50);
    // resolutions 100, 140, 600 -> median the 2nd (140), p90 the 3rd (600); met 2 of 3;
    // ratings 5, 4, 4 -> 4.33; reopened 1 of the 3 resolved.
    assert_eq!(
        stats["all"],
        json!({
            "filed": 5, "resolved": 3,
            "response_minutes_median": 20, "response_minutes_p90": 50,
            "resolution_minutes_median": 140, "resolution_minutes_p90": 600,
            "sla_met_percent": 66.7, "ratings": 3, "rating_mean": 4.33, "reopened_percent": 33.3
        }),
        "{stats}"
    );
    // Plumbing: responses 10, 30, 50; resolutions 100, 600; met 1 of 2; ratings 5, 4; 1 of 2 reopened.
    assert_eq!(
        stats["by_category"]["plumbing"],
        json!({
            "filed": 3, "resolved": 2,
            "response_minutes_median": 30, "response_minutes_p90": 50,
            "resolution_minutes_median": 100, "resolution_minutes_p90": 600,
            "sla_met_percent": 50.0, "ratings": 2, "rating_mean": 4.5, "reopened_percent": 50.0
        }),
        "{stats}"
    );
    assert_eq!(stats["by_category"].as_object().unwrap().keys().collect::<Vec<_>>(), vec!["electrical", "gas", "plumbing"], "{stats}");
    assert_eq!(stats["by_category"]["electrical"]["filed"], 1, "{stats}");
    assert!(stats["by_category"]["electrical"]["response_minutes_median"].is_null(), "{stats}");
    let by_technician = stats["by_technician"].as_array().unwrap();
    assert_eq!(by_technician.len(), 1, "{stats}");
    assert_eq!((by_technician[0]["technician_id"].as_i64(), &by_technician[0]["name"]), (Some(tech_user), &json!("technician")), "{stats}");
    assert_eq!((&by_technician[0]["figures"]["filed"], &by_technician[0]["figures"]["sla_met_percent"]), (&json!(2), &json!(50.0)), "{stats}");

    // By month of filing: the March tickets (one filed on 1 March in Shanghai, still February in
    // UTC) apart from April's.
    let (status, both) = app.get(&format!("/compounds/{}/ticket-stats?from=2024-03-01&to=2024-04-30", t.compound_id), t.token(Role::Manager)).await;
    assert_eq!(status, StatusCode::OK, "{both}");
    let months: Vec<(&String, &Value)> = both["by_month"].as_object().unwrap().iter().map(|(m, f)| (m, &f["filed"])).collect();
    assert_eq!(months, vec![(&"2024-03".to_string(), &json!(stats["all"]["filed"])), (&"2024-04".to_string(), &json!(1))], "{both}");

    // April holds the one filed on its first morning in Shanghai.
    let (status, april) = app.get(&format!("/compounds/{}/ticket-stats?from=2024-04-01&to=2024-04-30", t.compound_id), t.token(Role::Manager)).await;
    assert_eq!(status, StatusCode::OK, "{april}");
    assert_eq!((&april["all"]["filed"], &april["all"]["rating_mean"]), (&json!(1), &json!(1.0)), "{april}");

    // The committee reads them; owners, dispatchers and other companies do not.
    let (status, body) = app.get(&path, t.token(Role::Committee)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["all"], stats["all"]);
    for role in [Role::Owner, Role::Dispatcher, Role::Technician, Role::Cashier] {
        let (status, body) = app.get(&path, t.token(role)).await;
        assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    let beta = app.tenant("Beta").await;
    let (status, body) = app.get(&path, beta.token(Role::Manager)).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.get(&format!("/compounds/{}/ticket-stats?from=2024-04-01&to=2024-03-01", t.compound_id), t.token(Role::Manager)).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
}

#[tokio::test]
async fn descriptions_and_comments_keep_their_lines_and_refuse_other_control_characters() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Alpha").await;
    let owner = t.token(Role::Owner);
    let lines = "厨房水槽下水管漏水。\n地面一直是湿的，\n楼下也在滴水。";
    let filed = file(&app, owner, json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "description": lines })).await;
    assert_eq!(filed["description"], lines, "{filed}");
    let (status, comment) = app.post(&format!("/tickets/{}/comments", filed["id"]), owner, json!({ "body": "晚上在家。\n请先打电话。" })).await;
    assert_eq!((status, comment["body"].as_str()), (StatusCode::OK, Some("晚上在家。\n请先打电话。")), "{comment}");
    let (status, body) = app
        .post("/tickets", owner, json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "description": "漏水\u{0007}" }))
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "description", "{body}");
}
