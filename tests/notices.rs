//! Notices (issue 7): audience targeting and read receipts, emails for emergencies and by
//! preference, scheduled publishing by the job, disclosures that never change and corrections
//! that supersede them, safe bodies, attachments, who may write, and the staff action log.
mod common;

use common::*;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use wuye::auth::Role;

fn id_of(value: &Value) -> i64 {
    value["id"].as_i64().unwrap_or_else(|| panic!("no id in {value}"))
}

/// Two buildings of two flats; every owner has an email address.
fn two_buildings() -> Vec<Flat<'static>> {
    (1..=4)
        .map(|n| {
            let mut flat = owned_flat(n, 2, "80");
            flat.building = if n <= 2 { "1栋" } else { "2栋" };
            flat.email = Some(format!("owner{n}@owners.test"));
            flat
        })
        .collect()
}

async fn building_id(app: &TestApp, token: &str, compound: i64, name: &str) -> i64 {
    let (_, buildings) = app.get(&format!("/compounds/{compound}/buildings"), token).await;
    buildings.as_array().unwrap().iter().find(|b| b["name"] == name).map(id_of).unwrap_or_else(|| panic!("no {name}: {buildings}"))
}

async fn notice(app: &TestApp, token: &str, compound: i64, body: Value) -> Value {
    let (status, notice) = app.post(&format!("/compounds/{compound}/notices"), token, body).await;
    assert_eq!(status, StatusCode::OK, "{notice}");
    notice
}

fn titles(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect()
}

async fn notice_emails(app: &TestApp, notice_id: i64) -> Vec<String> {
    let mut to: Vec<String> = entity::outbox_message::Entity::find()
        .filter(entity::outbox_message::Column::Reference.eq(format!("notice:{notice_id}")))
        .order_by_asc(entity::outbox_message::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.recipient)
        .collect();
    to.sort();
    to
}

#[tokio::test]
async fn notices_reach_their_audience_who_acknowledge_them_and_are_emailed_by_urgency_or_choice() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Notice Audience").await;
    let manager = tenant.token(Role::Manager);
    let compound = compound_of(&app, &tenant, "公告小区", &two_buildings()).await;
    let second = building_id(&app, manager, compound, "2栋").await;
    let (first_owner, third_owner) = (owner_login(&app, &tenant, compound, "业主1").await, owner_login(&app, &tenant, compound, "业主3").await);

    // To building 2 only: its two owners, not building 1's.
    let water = notice(&app, manager, compound, json!({ "category": "outage", "title": "2栋停水", "body": "明日 9:00-12:00 2栋停水。", "audience": "buildings", "audience_ids": [second] })).await;
    assert_eq!(notice_emails(&app, id_of(&water)).await, ["owner3@owners.test", "owner4@owners.test"], "an outage is emailed at once to its audience");
    let everyone = notice(&app, manager, compound, json!({ "category": "general", "title": "垃圾分类", "body": "请按时分类投放。" })).await;
    assert_eq!(notice_emails(&app, id_of(&everyone)).await, Vec::<String>::new(), "a general notice is emailed only to those who asked");
    let pinned = notice(&app, manager, compound, json!({ "category": "general", "title": "物业服务电话", "body": "24 小时值班电话 88886666", "pinned": true })).await;
    let (_, seen_by_third) = app.get("/me/notices", &third_owner).await;
    let (_, seen_by_first) = app.get("/me/notices", &first_owner).await;
    // Pinned first, then newest.
    assert_eq!(titles(&seen_by_third), ["物业服务电话", "垃圾分类", "2栋停水"]);
    assert_eq!(titles(&seen_by_first), ["物业服务电话", "垃圾分类"]);
    let (status, problem) = app.get(&format!("/notices/{}", id_of(&water)), &first_owner).await;
    assert_problem(status, &problem, StatusCode::NOT_FOUND, "not_found");

    // Read receipts: the author sees how many of the audience have read it.
    let (status, read) = app.post(&format!("/notices/{}/read", id_of(&water)), &third_owner, json!({})).await;
    assert_eq!((status, read["read"].as_bool()), (StatusCode::OK, Some(true)), "{read}");
    app.post(&format!("/notices/{}/read", id_of(&water)), &third_owner, json!({})).await;
    let (_, for_author) = app.get(&format!("/notices/{}", id_of(&water)), manager).await;
    assert_eq!((for_author["audience_size"].as_u64(), for_author["read_count"].as_u64()), (Some(2), Some(1)), "{for_author}");
    let (_, mine) = app.get("/me/notices", &third_owner).await;
    let read_flags: Vec<(&str, bool)> = mine.as_array().unwrap().iter().map(|n| (n["title"].as_str().unwrap(), n["read"].as_bool().unwrap())).collect();
    assert_eq!(read_flags, [("物业服务电话", false), ("垃圾分类", false), ("2栋停水", true)]);
    assert_eq!(pinned["pinned"], true);

    // An owner who asks for every notice gets the next general one by email; the choice reads back.
    let (status, choice) = app.get("/me/notice-preferences", &first_owner).await;
    assert_eq!((status, choice["email_every_notice"].as_bool()), (StatusCode::OK, Some(false)), "emergencies and outages only, at first: {choice}");
    let (status, choice) = app.request(Method::PUT, "/me/notice-preferences", Some(&first_owner), Some(json!({ "email_every_notice": true }))).await;
    assert_eq!((status, choice["email_every_notice"].as_bool()), (StatusCode::OK, Some(true)), "{choice}");
    let (_, choice) = app.get("/me/notice-preferences", &first_owner).await;
    assert_eq!(choice["email_every_notice"], true, "{choice}");
    let (_, other) = app.get("/me/notice-preferences", &third_owner).await;
    assert_eq!(other["email_every_notice"], false, "another owner's choice is their own: {other}");
    let next = notice(&app, manager, compound, json!({ "category": "general", "title": "消防演练", "body": "周六上午消防演练。" })).await;
    assert_eq!(notice_emails(&app, id_of(&next)).await, ["owner1@owners.test"]);
    // Expired notices leave the owners' list.
    let (status, changed) = app.patch(&format!("/notices/{}", id_of(&everyone)), manager, json!({ "expires_at": (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339() })).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    entity::notice::ActiveModel { id: Set(id_of(&everyone)), expires_at: Set(Some(chrono::Utc::now() - chrono::Duration::seconds(1))), ..Default::default() }.update(&app.db).await.unwrap();
    let (_, after) = app.get("/me/notices", &first_owner).await;
    assert_eq!(titles(&after), ["物业服务电话", "消防演练"]);
}

#[tokio::test]
async fn a_scheduled_notice_is_published_by_the_job_once() {
    let app = TestApp::spawn_with(&workers_on(&[])).await;
    let tenant = app.tenant("Notice Schedule").await;
    let (manager, owner) = (tenant.token(Role::Manager), tenant.token(Role::Owner));
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let scheduled = notice(&app, manager, tenant.compound_id, json!({ "category": "emergency", "title": "明早停电检修", "body": "明早 8:00 起停电两小时。", "publish_at": tomorrow.to_rfc3339() })).await;
    assert_eq!(scheduled["status"], "scheduled", "{scheduled}");
    let (_, before) = app.get("/me/notices", owner).await;
    assert_eq!(titles(&before), Vec::<&str>::new());
    assert_eq!(notice_emails(&app, id_of(&scheduled)).await, Vec::<String>::new(), "nothing is sent before it is published");

    // Its time comes.
    entity::notice::ActiveModel { id: Set(id_of(&scheduled)), publish_at: Set(Some(chrono::Utc::now() - chrono::Duration::seconds(1))), ..Default::default() }.update(&app.db).await.unwrap();
    let runs = run_job(&app, manager, "notices").await;
    assert_eq!(runs[0]["counts"]["published"].as_i64(), Some(1), "{runs:?}");
    let (_, after) = app.get("/me/notices", owner).await;
    assert_eq!(titles(&after), ["明早停电检修"]);
    assert_eq!(notice_emails(&app, id_of(&scheduled)).await, [format!("owner@{}.test", "noticeschedule")]);
    let again = run_job(&app, manager, "notices").await;
    assert_eq!(again[0]["counts"]["published"].as_i64(), Some(0), "{again:?}");
    assert_eq!(notice_emails(&app, id_of(&scheduled)).await.len(), 1, "emailed once");
}

#[tokio::test]
async fn a_published_disclosure_never_changes_and_a_correction_supersedes_it() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Notice Disclosure").await;
    let (manager, owner) = (tenant.token(Role::Manager), tenant.token(Role::Owner));
    let compound = tenant.compound_id;
    let fees = notice(&app, manager, compound, json!({ "category": "fee_schedule", "title": "2027 年收费标准", "body": "物业费 1.20 元/m²·月" })).await;
    assert_eq!((fees["disclosure"].as_bool(), fees["status"].as_str()), (Some(true), Some("published")));
    let path = format!("/notices/{}", id_of(&fees));
    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n";
    // Every way of changing it is refused, and it stays as it was.
    let (status, body) = app.patch(&path, manager, json!({ "body": "物业费 1.50 元/m²·月" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = app.patch(&path, manager, json!({ "pinned": true })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = app.request(Method::DELETE, &path, Some(manager), None).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = app.post(&format!("{path}/publication"), manager, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, body) = app.upload(&format!("{path}/attachments?filename=fees.pdf"), manager, PDF.to_vec()).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let (_, unchanged) = app.get(&path, manager).await;
    assert_eq!((unchanged["body"].as_str(), unchanged["pinned"].as_bool()), (Some("物业费 1.20 元/m²·月"), Some(false)));

    // The correction is a new notice; both stay visible to owners.
    let correction = notice(&app, manager, compound, json!({ "category": "fee_schedule", "title": "2027 年收费标准（更正）", "body": "物业费 1.25 元/m²·月", "supersedes_id": id_of(&fees) })).await;
    let (_, listed) = app.get("/me/notices", owner).await;
    assert_eq!(titles(&listed), ["2027 年收费标准（更正）", "2027 年收费标准"]);
    let (_, old) = app.get(&path, owner).await;
    assert_eq!(old["superseded_by"], correction["id"], "{old}");
    let (status, body) = app.post(&format!("/compounds/{compound}/notices"), manager, json!({ "category": "general", "title": "x", "body": "y", "supersedes_id": 999999 })).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");

    // A draft changes freely, takes attachments, and is published by hand; an ordinary published
    // notice keeps its content but may be pinned or given an expiry.
    let draft = notice(&app, manager, compound, json!({ "category": "general", "title": "草稿", "body": "初稿", "draft": true })).await;
    let draft_path = format!("/notices/{}", id_of(&draft));
    let (status, edited) = app.patch(&draft_path, manager, json!({ "title": "小区改造说明", "body": "**第一期**：雨污分流" , "body_format": "markdown" })).await;
    assert_eq!((status, edited["title"].as_str()), (StatusCode::OK, Some("小区改造说明")), "{edited}");
    let (status, attached) = app.upload(&format!("{draft_path}/attachments?filename=改造图.pdf"), manager, PDF.to_vec()).await;
    assert_eq!((status, attached["content_type"].as_str(), attached["size"].as_u64()), (StatusCode::OK, Some("application/pdf"), Some(PDF.len() as u64)), "{attached}");
    let (status, body) = app.upload(&format!("{draft_path}/attachments?filename=x.gif"), manager, b"GIF89a....".to_vec()).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    let (status, hidden) = app.get(&draft_path, owner).await;
    assert_problem(status, &hidden, StatusCode::NOT_FOUND, "not_found");
    let (status, published) = app.post(&format!("{draft_path}/publication"), manager, json!({})).await;
    assert_eq!((status, published["status"].as_str()), (StatusCode::OK, Some("published")), "{published}");
    assert_eq!(published["body_html"], "<p><strong>第一期</strong>：雨污分流</p>\n");
    let file = app.client.get(format!("{}/notice-attachments/{}", app.base, id_of(&attached))).bearer_auth(owner).send().await.unwrap();
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().as_ref(), PDF);
    let (status, body) = app.patch(&draft_path, manager, json!({ "title": "改了" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    let (status, pinned) = app.patch(&draft_path, manager, json!({ "pinned": true })).await;
    assert_eq!((status, pinned["pinned"].as_bool()), (StatusCode::OK, Some(true)), "{pinned}");
    // A draft never published can go; a published notice stays.
    let scrap = notice(&app, manager, compound, json!({ "category": "general", "title": "废稿", "body": "x", "draft": true })).await;
    let (status, gone) = app.request(Method::DELETE, &format!("/notices/{}", id_of(&scrap)), Some(manager), None).await;
    assert_eq!((status, gone["title"].as_str()), (StatusCode::OK, Some("废稿")), "{gone}");
    let (status, problem) = app.get(&format!("/notices/{}", id_of(&scrap)), manager).await;
    assert_problem(status, &problem, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.request(Method::DELETE, &draft_path, Some(manager), None).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");

    // A vote's result is a disclosure too.
    let vote = open_vote(&app, manager, compound, json!({ "title": "续聘物业", "matter": "hiring_or_firing_the_company" })).await;
    let closed = close_vote(&app, manager, id_of(&vote)).await;
    let (status, body) = app.patch(&format!("/notices/{}", closed["result_notice_id"]), manager, json!({ "expires_at": "2099-01-01T00:00:00Z" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn bodies_are_safe_and_bad_notices_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Notice Safety").await;
    let manager = tenant.token(Role::Manager);
    let markdown = "# 通知\n<script>alert(1)</script>\n[点我](javascript:alert(1)) [官网](https://example.cn) <img src=x onerror=alert(1)>";
    let sent = notice(&app, manager, tenant.compound_id, json!({ "category": "general", "title": "安全", "body": markdown, "body_format": "markdown" })).await;
    let html = sent["body_html"].as_str().unwrap();
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("javascript:alert(1)\""), "{html}");
    assert!(html.contains("&lt;script&gt;") && html.contains("<a href=\"https://example.cn\">官网</a>"), "{html}");
    let plain = notice(&app, manager, tenant.compound_id, json!({ "category": "general", "title": "纯文本", "body": "<b>粗</b>\n第二行" })).await;
    assert_eq!(plain["body_html"], "&lt;b&gt;粗&lt;/b&gt;<br>\n第二行");

    let notices = format!("/compounds/{}/notices", tenant.compound_id);
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let bad = [
        (json!({ "category": "general", "title": "", "body": "x" }), "title"),
        (json!({ "category": "general", "title": "x", "body": "" }), "body"),
        (json!({ "category": "gossip", "title": "x", "body": "y" }), "category"),
        (json!({ "category": "general", "title": "x", "body": "y", "audience": "buildings", "audience_ids": [] }), "audience_ids"),
        (json!({ "category": "general", "title": "x", "body": "y", "audience": "units", "audience_ids": [tenant.unit_id] }), "audience"),
        (json!({ "category": "general", "title": "x", "body": "y", "expires_at": past }), "expires_at"),
        (json!({ "category": "general", "title": "x", "body": "y", "body_format": "html" }), "body_format"),
    ];
    for (body, field) in bad {
        let (status, problem) = app.post(&notices, manager, body.clone()).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }
}

#[tokio::test]
async fn the_committee_writes_for_its_compound_only_and_staff_changes_are_logged() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Notice Writers").await;
    let (manager, committee) = (tenant.token(Role::Manager), tenant.token(Role::Committee));
    let other = compound_of(&app, &tenant, "另一小区", &[owned_flat(1, 2, "80")]).await;
    let body = json!({ "category": "general", "title": "业委会通知", "body": "业主大会将于下月召开。" });
    let written = notice(&app, committee, tenant.compound_id, body.clone()).await;
    assert_eq!(written["author_role"], "committee");
    let (status, problem) = app.post(&format!("/compounds/{other}/notices"), committee, body.clone()).await;
    assert_problem(status, &problem, StatusCode::NOT_FOUND, "not_found");
    for role in [Role::Owner, Role::Technician, Role::Cashier, Role::Dispatcher] {
        let (status, problem) = app.post(&format!("/compounds/{}/notices", tenant.compound_id), tenant.token(role), body.clone()).await;
        assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    }

    // Each side changes its own notices; only owners acknowledge.
    let (status, problem) = app.patch(&format!("/notices/{}", id_of(&written)), manager, json!({ "pinned": true })).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    let (status, problem) = app.post(&format!("/notices/{}/read", id_of(&written)), manager, json!({})).await;
    assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");

    // Staff changes are on record with before and after; owners' own actions are not staff's.
    let (status, unit) = app.patch(&format!("/units/{}", tenant.unit_id), manager, json!({ "vacant": true })).await;
    assert_eq!(status, StatusCode::OK, "{unit}");
    app.post(&format!("/notices/{}/read", id_of(&written)), tenant.token(Role::Owner), json!({})).await;
    let actions = entity::staff_action::Entity::find().order_by_asc(entity::staff_action::Column::Id).all(&app.db).await.unwrap();
    let made = |a: &&entity::staff_action::Model| a.status.is_some_and(|s| (200..300).contains(&s));
    let summary: Vec<(&str, &str, Option<i64>)> = actions
        .iter()
        .filter(made)
        .filter(|a| a.path == format!("/units/{}", tenant.unit_id) || a.path.contains("/notices"))
        .map(|a| (a.role.as_str(), a.method.as_str(), a.compound_id))
        .collect();
    assert_eq!(summary, [("committee", "POST", Some(tenant.compound_id)), ("manager", "PATCH", Some(tenant.compound_id))]);
    // Refused changes are on record with their answer, and changed nothing.
    let refused = actions.iter().find(|a| a.role == "manager" && a.path.ends_with("/read")).expect("the manager's refused read receipt");
    assert_eq!(refused.status, Some(403), "{refused:?}");
    assert!(refused.after.as_deref().is_some_and(|a| a.contains("forbidden")), "{refused:?}");
    let patch = actions.iter().filter(made).find(|a| a.method == "PATCH").unwrap();
    let before: Value = serde_json::from_str(patch.before.as_deref().unwrap()).unwrap();
    let after: Value = serde_json::from_str(patch.after.as_deref().unwrap()).unwrap();
    assert_eq!((before["vacant"].as_bool(), after["vacant"].as_bool()), (Some(false), Some(true)));
    assert_eq!(patch.request.as_deref(), Some(r#"{"vacant":true}"#));
    assert_eq!(patch.ip, "127.0.0.1");
    // Every row has its outcome: none was left as asked only.
    assert!(actions.iter().all(|a| a.status.is_some()), "{actions:?}");
}
