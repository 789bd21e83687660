//! Email through the outbox, delivered over real SMTP to a sink the tests control: what arrives
//! (headers encoded for mail clients, the body as written), retries through an outage with
//! nothing lost or doubled, a failed message sent again by a manager, and messages queued
//! without a worker delivered once by a replica that comes up later, including one whose
//! sender died mid-send.
mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{TestApp, Tenant, eventually, overdue_bill, smtp_sink::SmtpSink};
use entity::outbox_message;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use serde_json::{Value, json};
use wuye::auth::Role;

const FROM: &str = "物业服务中心 <service@wuye.test>";
const PUBLIC_URL: &str = "https://wuye.example";
const FRIENDLY_SUBJECT: &str = "【Alpha 花园】物业费缴费提醒（1栋 1单元 301）";

/// A server whose mail worker delivers to `port` over plain SMTP, polling every 50 ms, with no
/// scheduled job firing on its own.
fn smtp_settings(port: u16, max_attempts: u32, retry_seconds: u32) -> Vec<(&'static str, String)> {
    let mut settings: Vec<(&'static str, String)> = common::WORKERS_ON.iter().map(|(k, v)| (*k, v.to_string())).collect();
    settings.extend([
        ("WUYE_MAIL_TRANSPORT", "smtp".into()),
        ("WUYE_SMTP_HOST", "127.0.0.1".into()),
        ("WUYE_SMTP_PORT", port.to_string()),
        ("WUYE_SMTP_SECURITY", "none".into()),
        ("WUYE_MAIL_FROM", FROM.into()),
        ("WUYE_MAIL_MAX_ATTEMPTS", max_attempts.to_string()),
        ("WUYE_MAIL_RETRY_SECONDS", retry_seconds.to_string()),
        ("WUYE_PUBLIC_URL", PUBLIC_URL.into()),
    ]);
    settings
}

fn borrowed<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Starts a job for the manager's company and waits for its run to succeed; returns the run.
async fn run_job(app: &TestApp, token: &str, job: &str) -> Value {
    let (status, runs) = app.post("/jobs/runs", token, json!({ "job": job })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{runs}");
    let runs = runs.as_array().unwrap_or_else(|| panic!("a list of runs: {runs}")).clone();
    assert_eq!(runs.len(), 1, "one run for the manager's company: {runs:?}");
    let id = runs[0]["id"].as_i64().expect("run id");
    eventually(20, &format!("run {id} of {job} to end"), || async move {
        let (status, run) = app.get(&format!("/jobs/runs/{id}"), token).await;
        assert_eq!(status, StatusCode::OK, "{run}");
        match run["status"].as_str() {
            Some("succeeded") => Some(run),
            Some("failed") => panic!("run {id} of {job} failed: {run}"),
            _ => None,
        }
    })
    .await
}

/// Every outbox row, oldest first, as stored.
async fn outbox(app: &TestApp) -> Vec<outbox_message::Model> {
    outbox_message::Entity::find().order_by_asc(outbox_message::Column::Id).all(&app.db).await.expect("read the outbox")
}

async fn outbox_row(app: &TestApp, id: i64) -> outbox_message::Model {
    outbox_message::Entity::find_by_id(id).one(&app.db).await.expect("read the outbox").expect("the outbox row")
}

/// Waits until every row in `ids` is sent; returns them.
async fn await_sent(app: &TestApp, ids: &[i64]) -> Vec<outbox_message::Model> {
    eventually(25, &format!("outbox rows {ids:?} to be sent"), || async {
        let rows: Vec<outbox_message::Model> = outbox(app).await.into_iter().filter(|r| ids.contains(&r.id)).collect();
        assert_eq!(rows.len(), ids.len(), "{rows:?}");
        for row in &rows {
            assert_ne!(row.status, "failed", "no row fails while its server accepts mail: {row:?}");
        }
        rows.iter().all(|r| r.status == "sent").then_some(rows)
    })
    .await
}

/// A message written straight into the outbox, as a change of the tenant's compound would.
async fn enqueue(app: &TestApp, tenant: &Tenant, recipient: &str, subject: &str) -> outbox_message::Model {
    wuye::mail::enqueue(
        &app.db,
        wuye::mail::NewEmail {
            company_id: tenant.company_id,
            compound_id: tenant.compound_id,
            kind: "test",
            reference: None,
            recipient: recipient.into(),
            recipient_name: "测试 收件人".into(),
            subject: subject.into(),
            body: format!("{subject}\n正文，第二行。\n.一行以点开头\n"),
            language: wuye::config::Language::Zh,
        },
    )
    .await
    .expect("enqueue")
}

/// How many times each Message-ID reached the sink.
fn delivered_ids(sink: &SmtpSink) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for raw in sink.messages() {
        let mail = Mail::parse(&raw);
        let id = mail.header("Message-ID").unwrap_or_else(|| panic!("a message without Message-ID: {raw}")).trim().to_string();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// Asserts the sink got each of `rows` exactly once and nothing else.
fn assert_delivered_once(sink: &SmtpSink, rows: &[outbox_message::Model]) {
    let delivered = delivered_ids(sink);
    let expected: BTreeMap<String, usize> = rows.iter().map(|r| (r.message_id.clone(), 1)).collect();
    assert_eq!(expected.len(), rows.len(), "distinct Message-IDs per row: {rows:?}");
    assert_eq!(delivered, expected, "each message exactly once, and no other");
    assert_eq!(sink.messages().len(), rows.len());
}

/// A unit in the tenant's stairwell owned by `owners` (name, email, phone) since 2012.
async fn owned_unit(app: &TestApp, tenant: &Tenant, floor: i64, number: &str, owners: &[(&str, &str, &str)]) -> i64 {
    let boss = tenant.token(Role::CompanyAdmin);
    let (status, unit) = app
        .post(
            &format!("/stairwells/{}/units", tenant.stairwell_id),
            boss,
            json!({ "floor": floor, "number": number, "unit_use": "residential", "registered_area": "90.00" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{unit}");
    let unit_id = unit["id"].as_i64().expect("unit id");
    for (name, email, phone) in owners {
        let (status, owner) =
            app.post(&format!("/compounds/{}/owners", tenant.compound_id), boss, json!({ "name": name, "phone": phone, "email": email })).await;
        assert_eq!(status, StatusCode::OK, "{owner}");
        let owner_id = owner["id"].as_i64().expect("owner id");
        let (status, body) = app.post(&format!("/units/{unit_id}/owners"), boss, json!({ "owner_id": owner_id, "started_on": "2012-05-01" })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    unit_id
}

#[tokio::test]
async fn a_reminder_reaches_a_real_smtp_server_as_written() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(&borrowed(&smtp_settings(sink.port(), 8, 1))).await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let bill = overdue_bill(&app, &tenant, tenant.unit_id, "物业服务费", "256.80", 10, None).await;

    let run = run_job(&app, manager, "arrears_reminders").await;
    assert_eq!(run["counts"]["reminders"], 1, "{run}");
    assert_eq!(run["counts"]["emails"], 1, "{run}");
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = await_sent(&app, &[rows[0].id]).await.remove(0);
    assert_eq!((row.attempts, row.last_error.as_deref(), row.lease_until), (1, None, None), "{row:?}");
    assert!(row.sent_at.is_some(), "{row:?}");

    let (status, view) = app.get(&format!("/outbox/{}", row.id), manager).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "sent", "{view}");
    assert_eq!(view["recipient"], "owner@alpha.test", "{view}");
    assert_eq!(view["kind"], "arrears_reminder", "{view}");
    assert_eq!(view["subject"], FRIENDLY_SUBJECT, "{view}");
    assert!(view["sent_at"].is_string(), "{view}");

    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "exactly one message delivered: {messages:#?}");
    let mail = Mail::parse(&messages[0]);
    let raw_subject = mail.header("Subject").expect("a Subject header");
    assert!(raw_subject.is_ascii() && raw_subject.to_ascii_lowercase().contains("=?utf-8?"), "Subject encoded (RFC 2047): {raw_subject:?}");
    assert_eq!(mail.decoded_header("Subject").as_deref(), Some(FRIENDLY_SUBJECT), "raw: {raw_subject:?}");
    assert_eq!(mail.decoded_header("To").as_deref(), Some("王建国 <owner@alpha.test>"), "{:?}", mail.header("To"));
    assert_eq!(mail.decoded_header("From").as_deref(), Some(FROM), "{:?}", mail.header("From"));
    assert_eq!(mail.header("Message-ID").map(str::trim), Some(row.message_id.as_str()));
    if sink.is_aiosmtpd() {
        // aiosmtpd records the envelope it was given.
        assert_eq!(mail.header("X-RcptTo"), Some("owner@alpha.test"), "{:?}", mail.headers);
        assert_eq!(mail.header("X-MailFrom"), Some("service@wuye.test"), "{:?}", mail.headers);
    }
    let content_type = mail.header("Content-Type").unwrap_or_default().to_ascii_lowercase();
    assert!(content_type.starts_with("text/plain") && content_type.contains("charset=utf-8"), "{content_type}");

    let body = mail.decoded_body();
    assert_eq!(body.replace("\r\n", "\n"), row.body, "the body as the outbox holds it");
    assert!(body.contains("尊敬的王建国业主"), "{body}");
    assert!(body.contains("1栋 1单元 301"), "{body}");
    assert!(body.contains("欠费 256.80 元") && body.contains("合计：256.80 元"), "{body}");
    assert!(body.contains("已逾期 10 天"), "{body}");
    assert!(body.contains(&format!("应缴截止 {}", bill["due_date"].as_str().unwrap())), "{body}");
    // The link opens the owner's bills in the web interface, not the JSON behind them.
    assert!(body.replace("\r\n", "\n").contains(&format!("{PUBLIC_URL}/app/#/owner/units/{}/bills\n", tenant.unit_id)), "{body}");
}

#[tokio::test]
async fn an_smtp_outage_delays_every_message_and_loses_or_doubles_none() {
    let mut sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(&borrowed(&smtp_settings(sink.port(), 10, 1))).await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    // One reminder goes out first, so that the mailer holds a live pooled connection when the
    // server goes away.
    overdue_bill(&app, &tenant, tenant.unit_id, "物业服务费", "100.00", 10, None).await;
    run_job(&app, manager, "arrears_reminders").await;
    let before = outbox(&app).await;
    assert_eq!(before.len(), 1, "{before:?}");
    let before = await_sent(&app, &[before[0].id]).await;
    assert_delivered_once(&sink, &before);

    let fourth = owned_unit(&app, &tenant, 4, "401", &[("李四", "lisi@alpha.test", "13800134001")]).await;
    let fifth = owned_unit(&app, &tenant, 5, "501", &[("张三", "zhangsan@alpha.test", "13800135001"), ("赵六", "zhaoliu@alpha.test", "13800135002")]).await;
    overdue_bill(&app, &tenant, fourth, "垃圾清运费", "20.50", 12, None).await;
    overdue_bill(&app, &tenant, fifth, "公摊电费", "33.30", 15, None).await;
    sink.stop().await;
    let run = run_job(&app, manager, "arrears_reminders").await;
    assert_eq!((run["counts"]["reminders"].as_i64(), run["counts"]["emails"].as_i64()), (Some(2), Some(3)), "{run}");
    let queued: Vec<i64> = outbox(&app).await.iter().map(|r| r.id).filter(|id| *id != before[0].id).collect();
    assert_eq!(queued.len(), 3);

    // Each is tried, fails, and waits for another attempt: none given up on.
    let waiting = eventually(20, "every new message to have failed twice and be waiting", || async {
        let rows: Vec<outbox_message::Model> = outbox(&app).await.into_iter().filter(|r| queued.contains(&r.id)).collect();
        for row in &rows {
            assert!(row.status != "sent" && row.status != "failed", "with the server down nothing is sent nor given up: {row:?}");
        }
        rows.iter().all(|r| r.attempts >= 2 && r.status == "pending" && r.last_error.as_deref().is_some_and(|e| !e.is_empty())).then_some(rows)
    })
    .await;
    for row in &waiting {
        // Waits of 1 s, then 2 s, ... after each failed attempt: the next attempt is at least
        // 2^attempts - 1 seconds after the message was written.
        let waited = (row.next_attempt_at - row.created_at).num_milliseconds();
        assert!(waited >= ((1 << row.attempts) - 1) * 1000, "doubling waits: {waited} ms after {} attempts: {row:?}", row.attempts);
        assert!(row.sent_at.is_none() && row.lease_until.is_none(), "{row:?}");
    }
    let (status, pending) = app.get("/outbox?status=pending", manager).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    let pending = pending.as_array().expect("a list");
    assert_eq!(pending.len(), 3, "{pending:?}");
    assert!(pending.iter().all(|m| m["last_error"].as_str().is_some_and(|e| !e.is_empty()) && m["body"].is_null()), "{pending:?}");
    let (_, failed) = app.get("/outbox?status=failed", manager).await;
    assert_eq!(failed, json!([]));
    assert_delivered_once(&sink, &before);

    sink.restart().await;
    let ids: Vec<i64> = [before[0].id].into_iter().chain(queued.iter().copied()).collect();
    let sent = await_sent(&app, &ids).await;
    assert!(sent.iter().filter(|r| queued.contains(&r.id)).all(|r| r.sent_at.is_some() && r.last_error.is_none() && r.attempts >= 3), "{sent:?}");
    assert_delivered_once(&sink, &sent);
    let recipients: BTreeSet<String> = sink.messages().iter().map(|raw| Mail::parse(raw).decoded_header("To").unwrap()).collect();
    let expected: BTreeSet<String> =
        ["王建国 <owner@alpha.test>", "李四 <lisi@alpha.test>", "张三 <zhangsan@alpha.test>", "赵六 <zhaoliu@alpha.test>"].into_iter().map(String::from).collect();
    assert_eq!(recipients, expected);

    // A later run reminds nobody again, and a later worker round (it delivers a new message)
    // sends none of the old ones a second time.
    let again = run_job(&app, manager, "arrears_reminders").await;
    assert_eq!((again["counts"]["reminders"].as_i64(), again["counts"]["emails"].as_i64()), (Some(0), Some(0)), "{again}");
    let canary = enqueue(&app, &tenant, "canary@alpha.test", "canary after the outage").await;
    let all: Vec<i64> = ids.iter().copied().chain([canary.id]).collect();
    let sent = await_sent(&app, &all).await;
    assert_delivered_once(&sink, &sent);

    for (unit, emails) in [(tenant.unit_id, vec!["owner@alpha.test"]), (fourth, vec!["lisi@alpha.test"]), (fifth, vec!["zhangsan@alpha.test", "zhaoliu@alpha.test"])] {
        let (status, reminders) = app.get(&format!("/units/{unit}/reminders"), manager).await;
        assert_eq!(status, StatusCode::OK, "{reminders}");
        let reminders = reminders.as_array().expect("a list");
        assert_eq!(reminders.len(), 1, "{reminders:?}");
        assert_eq!(reminders[0]["delivery"], "email", "{reminders:?}");
        let mut shown: Vec<&str> = reminders[0]["emails"].as_array().expect("emails").iter().map(|e| e["recipient"].as_str().unwrap()).collect();
        shown.sort();
        assert_eq!(shown, emails, "{reminders:?}");
        for email in reminders[0]["emails"].as_array().unwrap() {
            assert_eq!(email["status"], "sent", "{email}");
            assert!(email["sent_at"].is_string(), "{email}");
        }
    }
}

#[tokio::test]
async fn a_message_that_failed_for_good_waits_for_a_manager_to_send_it_again() {
    let mut sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(&borrowed(&smtp_settings(sink.port(), 2, 1))).await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    overdue_bill(&app, &tenant, tenant.unit_id, "物业服务费", "88.00", 10, None).await;

    sink.stop().await;
    run_job(&app, manager, "arrears_reminders").await;
    let failed = eventually(20, "the message to fail for good", || async {
        let (status, failed) = app.get("/outbox?status=failed", manager).await;
        assert_eq!(status, StatusCode::OK, "{failed}");
        (failed.as_array().expect("a list").len() == 1).then_some(failed[0].clone())
    })
    .await;
    let id = failed["id"].as_i64().expect("id");
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["attempts"], 2, "{failed}");
    assert_eq!(failed["recipient"], "owner@alpha.test", "{failed}");
    assert!(failed["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{failed}");
    assert!(failed["sent_at"].is_null(), "{failed}");
    let message_id = outbox_row(&app, id).await.message_id;

    // The server is back, but a failed message stays failed: a later job run, and a worker
    // round that delivers another message, leave it alone.
    sink.restart().await;
    let again = run_job(&app, manager, "arrears_reminders").await;
    assert_eq!(again["counts"]["emails"].as_i64(), Some(0), "{again}");
    let canary = enqueue(&app, &tenant, "canary@alpha.test", "canary after the failure").await;
    let canary = await_sent(&app, &[canary.id]).await;
    assert_delivered_once(&sink, &canary);
    let (status, view) = app.get(&format!("/outbox/{id}"), manager).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!((view["status"].as_str(), view["attempts"].as_i64()), (Some("failed"), Some(2)), "{view}");

    // Only a manager sends it again.
    let cashier = tenant.token(Role::Cashier);
    let (status, body) = app.post(&format!("/outbox/{id}/retry"), cashier, json!({})).await;
    common::assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(outbox_row(&app, id).await.status, "failed");

    // Nor a manager of another company, who does not see it at all.
    let beta = app.tenant("Beta").await;
    let (status, body) = app.post(&format!("/outbox/{id}/retry"), beta.token(Role::Manager), json!({})).await;
    common::assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.get(&format!("/outbox/{id}"), beta.token(Role::Manager)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(outbox_row(&app, id).await.status, "failed");

    let (status, retried) = app.post(&format!("/outbox/{id}/retry"), manager, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["id"], id, "{retried}");
    // The reply is the row as queued (by the same statement that queued it), with a fresh
    // set of attempts, whatever the worker does next.
    assert_eq!((retried["status"].as_str(), retried["attempts"].as_i64()), (Some("pending"), Some(0)), "{retried}");
    // Its attempts started again from 0: two failed before, and its one delivery is attempt 1.
    let sent = await_sent(&app, &[id]).await.remove(0);
    assert_eq!((sent.attempts, sent.last_error.as_deref()), (1, None), "{sent:?}");
    assert_eq!(sent.message_id, message_id, "the same Message-ID on every attempt");
    assert_delivered_once(&sink, &[canary[0].clone(), sent]);
    let delivered = sink.messages().into_iter().map(|raw| Mail::parse(&raw)).find(|m| m.header("Message-ID").map(str::trim) == Some(&message_id)).unwrap();
    assert_eq!(delivered.decoded_header("Subject").as_deref(), Some(FRIENDLY_SUBJECT));

    // A sent message is not sent again.
    let (status, body) = app.post(&format!("/outbox/{id}/retry"), manager, json!({})).await;
    common::assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert_eq!(body["field"], "id", "{body}");
    let (_, view) = app.get(&format!("/outbox/{id}"), manager).await;
    assert_eq!(view["status"], "sent", "{view}");
    assert_eq!(sink.messages().len(), 2);
}

#[tokio::test]
async fn messages_queued_while_no_worker_ran_are_delivered_once_by_a_replica() {
    // This server delivers nothing (no worker, stub transport): the outbox only fills.
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let mut queued = Vec::new();
    for n in 1..=3 {
        queued.push(enqueue(&app, &tenant, &format!("queued{n}@alpha.test"), &format!("排队的邮件 {n}")).await);
    }
    // One whose sender died mid-send: claimed, its lease run out.
    let crashed = enqueue(&app, &tenant, "crashed@alpha.test", "发送中断的邮件").await;
    let minutes = |m: i64| chrono::Utc::now() + chrono::Duration::minutes(m);
    let mut held = outbox_message::ActiveModel::from(crashed.clone());
    (held.status, held.attempts, held.lease_until) = (Set("sending".into()), Set(1), Set(Some(minutes(-1))));
    let crashed = held.update(&app.db).await.expect("a send interrupted");
    // And one a live sender holds right now: not to be taken from it.
    let busy = enqueue(&app, &tenant, "busy@alpha.test", "正在发送的邮件").await;
    let mut held = outbox_message::ActiveModel::from(busy.clone());
    (held.status, held.attempts, held.lease_until) = (Set("sending".into()), Set(1), Set(Some(minutes(10))));
    let busy = held.update(&app.db).await.expect("a send under way");

    let sink = SmtpSink::start().await;
    let replica = app.replica(&borrowed(&smtp_settings(sink.port(), 8, 1))).await;
    let ids: Vec<i64> = queued.iter().chain([&crashed]).map(|r| r.id).collect();
    let sent = await_sent(&replica, &ids).await;
    let taken_over = sent.iter().find(|r| r.id == crashed.id).unwrap();
    assert_eq!(taken_over.attempts, 2, "the interrupted attempt and the one that took over: {taken_over:?}");
    assert!(sent.iter().filter(|r| r.id != crashed.id).all(|r| r.attempts == 1), "{sent:?}");

    // A later round delivers a new message, and still nothing twice, nor the held one.
    let canary = enqueue(&app, &tenant, "canary@alpha.test", "canary").await;
    let mut all = sent.clone();
    all.extend(await_sent(&replica, &[canary.id]).await);
    assert_delivered_once(&sink, &all);
    let still = outbox_row(&app, busy.id).await;
    assert_eq!((still.status.as_str(), still.attempts, still.sent_at), ("sending", 1, None), "{still:?}");
    assert!(app.mailer.stub_messages().is_empty(), "the server without a worker sent nothing");

    let subjects: BTreeSet<String> = sink.messages().iter().map(|raw| Mail::parse(raw).decoded_header("Subject").unwrap()).collect();
    let expected: BTreeSet<String> = ["排队的邮件 1", "排队的邮件 2", "排队的邮件 3", "发送中断的邮件", "canary"].into_iter().map(String::from).collect();
    assert_eq!(subjects, expected);
    // The body survives dot-stuffing: a line starting with a dot arrives as written.
    let first = sink.messages().into_iter().map(|raw| Mail::parse(&raw)).find(|m| m.decoded_header("Subject").as_deref() == Some("排队的邮件 1")).unwrap();
    assert_eq!(first.decoded_body().replace("\r\n", "\n"), queued[0].body);
}

#[tokio::test]
async fn two_replicas_delivering_one_outbox_send_each_message_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let mut queued = Vec::new();
    for n in 1..=30 {
        queued.push(enqueue(&app, &tenant, &format!("owner{n}@alpha.test"), &format!("提醒 {n}")).await);
    }
    let sink = SmtpSink::start().await;
    let settings = smtp_settings(sink.port(), 8, 1);
    let first = app.replica(&borrowed(&settings)).await;
    let second = app.replica(&borrowed(&settings)).await;
    let ids: Vec<i64> = queued.iter().map(|r| r.id).collect();
    let sent = await_sent(&first, &ids).await;
    assert!(sent.iter().all(|r| r.attempts == 1), "{sent:?}");
    let canary = enqueue(&second, &tenant, "canary@alpha.test", "canary").await;
    let mut all = sent;
    all.extend(await_sent(&second, &[canary.id]).await);
    assert_delivered_once(&sink, &all);
}

#[test]
fn the_tests_read_encoded_headers_and_bodies() {
    assert_eq!(decode_rfc2047("=?utf-8?b?5L2g5aW9?="), "你好");
    assert_eq!(decode_rfc2047("=?UTF-8?Q?caf=C3=A9_au_lait?= <a@b.test>"), "café au lait <a@b.test>");
    // Adjacent encoded words join without the folding whitespace between them, even when a
    // character's bytes are split across the two.
    assert_eq!(decode_rfc2047("=?utf-8?b?5L2g5Q==?=\r\n =?utf-8?b?pb0=?="), "你好");
    assert_eq!(decode_rfc2047("plain =?utf-8?q?x?= text"), "plain x text");
    let mail = Mail::parse(
        "Subject: =?utf-8?b?5L2g?=\r\n =?utf-8?b?5aW9?=\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nline one=\r\n continues =E4=BD=A0\r\n",
    );
    assert_eq!(mail.decoded_header("subject").as_deref(), Some("你好"));
    assert_eq!(mail.decoded_body(), "line one continues 你\r\n");
    let mail = Mail::parse("Content-Transfer-Encoding: base64\n\n5L2g\n5aW9\n");
    assert_eq!(mail.decoded_body(), "你好");
}

/// A received message: its unfolded headers and its raw body.
struct Mail {
    headers: Vec<(String, String)>,
    body: String,
}

impl Mail {
    fn parse(raw: &str) -> Mail {
        let text = raw.replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                // A folded line continues the header above it (RFC 5322 2.2.3).
                let (_, value) = headers.last_mut().unwrap_or_else(|| panic!("a continuation line first: {raw}"));
                value.push_str(line);
            } else {
                let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("a header line without a colon {line:?} in {raw}"));
                headers.push((name.trim().to_string(), value.trim_start().to_string()));
            }
        }
        Mail { headers, body: body.replace('\n', "\r\n") }
    }

    fn header(&self, name: &str) -> Option<&str> {
        let mut found = self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = found.next().map(|(_, v)| v.as_str());
        assert!(found.next().is_none(), "one {name} header only: {:?}", self.headers);
        first
    }

    fn decoded_header(&self, name: &str) -> Option<String> {
        self.header(name).map(decode_rfc2047)
    }

    /// The body with its Content-Transfer-Encoding undone, as UTF-8.
    fn decoded_body(&self) -> String {
        let encoding = self.header("Content-Transfer-Encoding").unwrap_or("7bit").trim().to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "base64" => base64(&self.body),
            "quoted-printable" => quoted_printable(&self.body, false),
            "7bit" | "8bit" => self.body.clone().into_bytes(),
            other => panic!("an unexpected Content-Transfer-Encoding {other}"),
        };
        String::from_utf8(bytes).expect("a UTF-8 body")
    }
}

/// Decodes RFC 2047 encoded words (B and Q, UTF-8) in a header value; whitespace between two
/// adjacent encoded words is dropped, and their bytes are joined before decoding UTF-8.
fn decode_rfc2047(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut rest = value;
    loop {
        let Some(start) = rest.find("=?") else {
            flush(&mut out, &mut pending);
            out.push_str(rest);
            return out;
        };
        let Some((charset, encoding, text, length)) = encoded_word(&rest[start..]) else {
            flush(&mut out, &mut pending);
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            continue;
        };
        // Whitespace between two encoded words is not part of the text (RFC 2047 6.2).
        let between = &rest[..start];
        let joins_previous_word = !pending.is_empty() && between.trim().is_empty();
        if !joins_previous_word {
            flush(&mut out, &mut pending);
            out.push_str(between);
        }
        assert!(charset.eq_ignore_ascii_case("utf-8"), "an encoded word in {charset}: {value}");
        match encoding {
            "b" | "B" => pending.extend(base64(text)),
            "q" | "Q" => pending.extend(quoted_printable(text, true)),
            other => panic!("an encoded word with encoding {other}: {value}"),
        }
        rest = &rest[start + length..];
    }
}

/// The encoded word `=?charset?encoding?text?=` at the start of `text`: its parts and length.
fn encoded_word(text: &str) -> Option<(&str, &str, &str, usize)> {
    let word = text.strip_prefix("=?")?;
    let (charset, word) = word.split_once('?')?;
    let (encoding, word) = word.split_once('?')?;
    let end = word.find("?=")?;
    Some((charset, encoding, &word[..end], 2 + charset.len() + 1 + encoding.len() + 1 + end + 2))
}

fn flush(out: &mut String, pending: &mut Vec<u8>) {
    if !pending.is_empty() {
        out.push_str(std::str::from_utf8(pending).unwrap_or_else(|e| panic!("encoded words that are not UTF-8 ({e}): {pending:?}")));
        pending.clear();
    }
}

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut bits, mut count) = (0u32, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        let value = ALPHABET.iter().position(|a| *a == c).unwrap_or_else(|| panic!("not base64: {c:?} in {text:?}"));
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

/// Quoted-printable (RFC 2045 6.7), or the Q encoding of headers (RFC 2047 4.2: `_` is a space).
fn quoted_printable(text: &str, q_encoding: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if bytes[i + 1..].starts_with(b"\n") => i += 2,
            b'=' => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex digits");
                out.push(u8::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("bad escape ={hex} in {text:?}")));
                i += 3;
            }
            b'_' if q_encoding => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}
