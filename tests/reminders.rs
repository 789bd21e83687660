//! Arrears reminders: each overdue bill gets the stage its age has reached, once; the formal
//! demand states every amount and that no supply will be cut (Civil Code Art. 944); every
//! reminder stays on record as it was sent.
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wuye::auth::Role;

/// A unit in the fixture's stairwell with one owner (with an email or without), returned as
/// (unit id, owner id).
async fn unit_with_owner(app: &TestApp, tenant: &Tenant, number: &str, owner: &str, email: Option<&str>) -> (i64, i64) {
    let boss = tenant.token(Role::CompanyAdmin);
    let (status, unit) = app
        .post(&format!("/stairwells/{}/units", tenant.stairwell_id), boss, json!({ "floor": 5, "number": number, "unit_use": "residential", "registered_area": "60.00" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{unit}");
    let mut person = json!({ "name": owner });
    if let Some(email) = email {
        person["email"] = json!(email);
    }
    let (status, person) = app.post(&format!("/compounds/{}/owners", tenant.compound_id), boss, person).await;
    assert_eq!(status, StatusCode::OK, "{person}");
    let (status, body) = app.post(&format!("/units/{}/owners", unit["id"]), boss, json!({ "owner_id": person["id"], "started_on": "2012-05-01" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (unit["id"].as_i64().unwrap(), person["id"].as_i64().unwrap())
}

async fn reminders_of(app: &TestApp, token: &str, unit_id: i64) -> Vec<Value> {
    let (status, reminders) = app.get(&format!("/units/{unit_id}/reminders"), token).await;
    assert_eq!(status, StatusCode::OK, "{reminders}");
    reminders.as_array().unwrap().clone()
}

/// (stage, bill ids) of each reminder, oldest first.
fn stages(reminders: &[Value]) -> Vec<(String, Vec<i64>)> {
    let mut stages: Vec<(String, Vec<i64>)> = reminders
        .iter()
        .map(|r| (r["stage"].as_str().unwrap().to_string(), r["bills"].as_array().unwrap().iter().map(|b| b["bill_id"].as_i64().unwrap()).collect()))
        .collect();
    stages.sort();
    stages
}

#[tokio::test]
async fn bills_of_different_ages_get_their_stage_once() {
    let app = TestApp::spawn_with(WORKERS_ON).await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let unit = tenant.unit_id;
    // Overdue 10, 45 and 120 days; one due today; one paid off; one of the developer's.
    let friendly = overdue_bill(&app, &tenant, unit, "装修垃圾清运费", "120.00", 10, None).await;
    let second = overdue_bill(&app, &tenant, unit, "门禁卡工本费", "30.00", 45, None).await;
    let demand = overdue_bill(&app, &tenant, unit, "维修分摊", "1275.84", 120, Some("0.0003")).await;
    let due_today = overdue_bill(&app, &tenant, unit, "停车费", "200.00", 0, None).await;
    let paid = overdue_bill(&app, &tenant, unit, "水费", "50.00", 20, None).await;
    let (status, body) = app
        .post(&format!("/units/{unit}/payments"), tenant.token(Role::Cashier), json!({ "method": "cash", "amount": "50.00", "bill_ids": [paid["id"]] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    overdue_bill(&app, &tenant, tenant.developer_unit_id, "空置房物业费", "99.00", 200, None).await;

    let runs = run_job(&app, manager, "arrears_reminders").await;
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
    assert_eq!(runs[0]["counts"]["reminders"], 3, "{runs:?}");
    assert_eq!(runs[0]["counts"]["emails"], 3, "{runs:?}");

    let sent = reminders_of(&app, manager, unit).await;
    let id = |bill: &Value| bill["id"].as_i64().unwrap();
    assert_eq!(
        stages(&sent),
        vec![("demand".to_string(), vec![id(&demand)]), ("friendly".to_string(), vec![id(&friendly)]), ("second".to_string(), vec![id(&second)])]
    );
    let named: Vec<i64> = sent.iter().flat_map(|r| r["bills"].as_array().unwrap().iter().map(|b| b["bill_id"].as_i64().unwrap())).collect();
    assert!(!named.contains(&id(&due_today)) && !named.contains(&id(&paid)), "{sent:?}");
    assert_eq!(reminders_of(&app, manager, tenant.developer_unit_id).await, Vec::<Value>::new());

    // The formal demand: the bill's amounts as owed that day (38.28 late fee on 1,275.84 after
    // 120 days at 0.03%, the first 100 of which give the domain notes' figure), Art. 944, and
    // the promise that no supply is cut.
    let letter = sent.iter().find(|r| r["stage"] == "demand").unwrap();
    let late_fee = "45.93"; // 1,275.84 x 120 x 0.0003 = 45.93024
    assert_eq!(letter["bills"][0]["principal_owed"], "1275.84", "{letter}");
    assert_eq!(letter["bills"][0]["late_fee_owed"], late_fee, "{letter}");
    assert_eq!(letter["bills"][0]["days_overdue"], 120, "{letter}");
    assert_eq!(letter["total_owed"], "1321.77", "{letter}");
    let body = letter["body"].as_str().unwrap();
    for expected in ["催缴函", "王建国业主", "第九百四十四条", "不得采取停止供电、供水、供热、供燃气", "不会因欠费停止", "1275.84", late_fee, "1321.77", "维修分摊", "1栋 1单元 301"] {
        assert!(body.contains(expected), "the demand lacks {expected:?}:\n{body}");
    }
    assert_eq!(letter["subject"], "【Alpha 花园】物业费催缴函（1栋 1单元 301）");
    assert_eq!(letter["delivery"], "email");
    assert_eq!(letter["emails"].as_array().map(Vec::len), Some(1), "{letter}");
    assert_eq!(letter["emails"][0]["recipient"], "owner@alpha.test", "{letter}");
    let friendly_letter = sent.iter().find(|r| r["stage"] == "friendly").unwrap();
    assert!(friendly_letter["subject"].as_str().unwrap().contains("缴费提醒"), "{friendly_letter}");
    assert!(friendly_letter["body"].as_str().unwrap().contains(&format!("/units/{unit}/bills")), "{friendly_letter}");

    // The outbox delivers them (to the stub here), each once.
    eventually(20, "the reminders to be sent", || async {
        let letters = reminders_of(&app, manager, unit).await;
        letters.iter().all(|r| r["emails"][0]["status"] == "sent").then_some(())
    })
    .await;
    assert_eq!(app.mailer.stub_messages().len(), 3);

    // A second run sends nothing new; the owner sees the same three on record.
    let runs = run_job(&app, manager, "arrears_reminders").await;
    assert_eq!((runs[0]["status"].as_str(), runs[0]["counts"]["reminders"].as_i64()), (Some("succeeded"), Some(0)), "{runs:?}");
    let seen_by_owner = reminders_of(&app, tenant.token(Role::Owner), unit).await;
    assert_eq!(stages(&seen_by_owner), stages(&sent));
    assert_eq!(app.mailer.stub_messages().len(), 3);
}

#[tokio::test]
async fn owners_without_email_get_a_letter_to_print_and_co_owners_their_own_delivery() {
    let app = TestApp::spawn_with(&workers_on(&[("WUYE_MAIL_LANGUAGE", "en")])).await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    let (paper_unit, _) = unit_with_owner(&app, &tenant, "501", "李秀英", None).await;
    let (shared_unit, _) = unit_with_owner(&app, &tenant, "502", "张伟", Some("zhang@alpha.test")).await;
    // A co-owner without email beside one with.
    let (status, spouse) = app.post(&format!("/compounds/{}/owners", tenant.compound_id), tenant.token(Role::CompanyAdmin), json!({ "name": "刘芳" })).await;
    assert_eq!(status, StatusCode::OK, "{spouse}");
    let (status, body) = app
        .post(&format!("/units/{shared_unit}/owners"), tenant.token(Role::CompanyAdmin), json!({ "owner_id": spouse["id"], "started_on": "2012-05-01" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    overdue_bill(&app, &tenant, paper_unit, "物业费 501", "72.00", 35, None).await;
    overdue_bill(&app, &tenant, shared_unit, "物业费 502", "72.00", 35, None).await;

    let runs = run_job(&app, manager, "arrears_reminders").await;
    assert_eq!((runs[0]["counts"]["reminders"].as_i64(), runs[0]["counts"]["emails"].as_i64(), runs[0]["counts"]["letters_to_print"].as_i64()), (Some(2), Some(1), Some(2)), "{runs:?}");

    let paper = reminders_of(&app, manager, paper_unit).await;
    assert_eq!((paper.len(), paper[0]["delivery"].as_str(), paper[0]["stage"].as_str()), (1, Some("letter"), Some("second")), "{paper:?}");
    assert_eq!(paper[0]["emails"], json!([]));
    // In English, as configured.
    let body = paper[0]["body"].as_str().unwrap();
    assert!(body.starts_with("Dear 李秀英,") && body.contains("72.00") && body.contains("within 15 days"), "{body}");

    let shared = reminders_of(&app, manager, shared_unit).await;
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert_eq!((shared[0]["addressed_to"].as_str(), shared[0]["delivery"].as_str()), (Some("张伟, 刘芳"), Some("email_and_letter")), "{shared:?}");
    let recipients: Vec<&str> = shared[0]["emails"].as_array().unwrap().iter().map(|e| e["recipient"].as_str().unwrap()).collect();
    assert_eq!(recipients, ["zhang@alpha.test"]);
}

#[tokio::test]
async fn a_buyer_is_not_reminded_of_the_sellers_arrears() {
    let app = TestApp::spawn_with(WORKERS_ON).await;
    let tenant = app.tenant("Alpha").await;
    let manager = tenant.token(Role::Manager);
    // The seller's bill, overdue 45 days; the flat is sold today to a buyer with an email.
    let sellers = overdue_bill(&app, &tenant, tenant.unit_id, "物业费", "106.32", 45, None).await;
    let (status, buyer) = app
        .post(&format!("/compounds/{}/owners", tenant.compound_id), tenant.token(Role::CompanyAdmin), json!({ "name": "赵敏", "email": "zhao@alpha.test" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{buyer}");
    let (status, body) = app
        .post(&format!("/units/{}/sales", tenant.unit_id), tenant.token(Role::CompanyAdmin), json!({ "date": today().to_string(), "buyers": [{ "owner_id": buyer["id"] }] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    run_job(&app, manager, "arrears_reminders").await;
    let sent = reminders_of(&app, manager, tenant.unit_id).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["addressed_to"], "王建国", "the seller owes it: {sent:?}");
    assert_eq!(sent[0]["bills"][0]["bill_id"], sellers["id"]);
    assert_eq!(sent[0]["emails"][0]["recipient"], "owner@alpha.test");
}
