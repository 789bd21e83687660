//! The committee's audit desk (issue 7): every report's figures against a small set of books
//! built by hand through the API and computed by hand here, the CSV downloads (UTF-8 with a
//! byte-order mark), masking for the committee, the staff action log, the annual disclosure
//! pack and its publication, and the refusals: owners and field staff get 403 on every audit
//! endpoint, a committee member of another compound 404, and the committee changes no money,
//! ticket or registry record.
mod common;

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use common::*;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use serde_json::{Value, json};
use wuye::auth::Role;

/// The books of the fixture compound, built through the API by `books`:
///
/// Units: 301 (88.60 m², owned by 王建国, 13800131234) and 302 (72.35 m², developer-held).
///
/// Property fee 物业费: 1.20 元/m² a month from 2099-01, due on the 16th, no late fee.
///   301: 1.20 x 88.60 = 106.32 a month; 302: 1.20 x 72.35 = 86.82.
///   2099-01: 301 paid 106.32 in cash.
///   2099-02: 301 waived 6.32 (asks 100.00), paid 50.00; 302 paid 86.82 by transfer, reversed.
/// One-off bills, due the given number of days ago:
///   X1 100.00 on 301, 10 days: open.
///   X2 200.00 on 301, 45 days: 50.00 paid.
///   X3 300.00 on 302, 120 days: paid by transfer, reversed.
///   X4 400.00 on 301, 200 days: 100.00 waived.
///   X5 1000.00 on 301, 100 days, late fee 0.03% a day: paid 1030.00 = 30.00 late fee
///      (1000.00 x 0.0003 x 100 days) + 1000.00 principal.
/// Common-area income: elevator ads 1200.00 (transfer), parking 800.00 (cash).
/// Maintenance fund, 90 元/m²: deposits 301 7974.00 (88.60 x 90), 302 6511.50 (72.35 x 90);
///   a top-up of 100.00 into 301; interest 100.00 and common income 500.00 allocated by area;
///   an emergency roof repair of 1609.50 over both units, settled; a draft facade plan of
///   1000.00 on 301.
struct Books {
    app: TestApp,
    t: Tenant,
    today: NaiveDate,
    /// Fee item ids by name (物业费, X1 .. X5).
    items: HashMap<&'static str, i64>,
    /// One-off bills' due dates by name.
    due: HashMap<&'static str, NaiveDate>,
    settled_project: i64,
    draft_project: i64,
}

async fn ok(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, answer) = app.request(method.clone(), path, Some(token), body).await;
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    ok(app, reqwest::Method::POST, path, token, Some(body)).await
}

async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    ok(app, reqwest::Method::GET, path, token, None).await
}

/// The bill of a unit for a fee item (and period).
async fn bill(app: &TestApp, token: &str, unit_id: i64, item: i64, period: Option<&str>) -> i64 {
    let bills = get(app, &format!("/units/{unit_id}/bills"), token).await;
    let found = bills.as_array().unwrap().iter().find(|b| b["fee_item_id"] == item && period.is_none_or(|p| b["period"] == p));
    found.and_then(|b| b["id"].as_i64()).unwrap_or_else(|| panic!("no bill of item {item} {period:?} on unit {unit_id}: {bills}"))
}

async fn books() -> Books {
    let app = TestApp::spawn().await;
    let t = app.tenant("Audit").await;
    let (manager, cashier) = (t.token(Role::Manager).to_string(), t.token(Role::Cashier).to_string());
    let (c, u, d) = (t.compound_id, t.unit_id, t.developer_unit_id);
    let today = today();
    let mut items = HashMap::new();
    let mut due = HashMap::new();

    let property = json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "due_days": 15, "effective_from": "2099-01" });
    items.insert("物业费", post(&app, &format!("/compounds/{c}/fee-items"), &manager, property).await["id"].as_i64().unwrap());
    for period in ["2099-01", "2099-02"] {
        post(&app, &format!("/compounds/{c}/bill-runs"), &manager, json!({ "period": period })).await;
    }
    let one_offs: [(&str, i64, &str, i64, Option<&str>); 5] =
        [("X1", u, "100.00", 10, None), ("X2", u, "200.00", 45, None), ("X3", d, "300.00", 120, None), ("X4", u, "400.00", 200, None), ("X5", u, "1000.00", 100, Some("0.0003"))];
    for (name, unit, amount, days_ago, late_fee) in one_offs {
        let bill = overdue_bill(&app, &t, unit, name, amount, days_ago, late_fee).await;
        items.insert(name, bill["fee_item_id"].as_i64().unwrap());
        due.insert(name, today - Duration::days(days_ago));
    }
    let bill_of = |unit, name: &str, period: Option<&'static str>| {
        let (app, manager, item) = (&app, manager.clone(), items[name]);
        async move { bill(app, &manager, unit, item, period).await }
    };

    // The property fee.
    let pay = |unit: i64, method: &'static str, amount: &'static str, bill_id: i64| {
        let (app, cashier) = (&app, cashier.clone());
        async move { post(app, &format!("/units/{unit}/payments"), &cashier, json!({ "method": method, "amount": amount, "bill_ids": [bill_id] })).await }
    };
    pay(u, "cash", "106.32", bill_of(u, "物业费", Some("2099-01")).await).await;
    let u_feb = bill_of(u, "物业费", Some("2099-02")).await;
    post(&app, &format!("/bills/{u_feb}/adjustments"), &manager, json!({ "kind": "waiver", "amount": "-6.32", "reason": "老年优惠" })).await;
    pay(u, "cash", "50.00", u_feb).await;
    let bounced = pay(d, "bank_transfer", "86.82", bill_of(d, "物业费", Some("2099-02")).await).await;
    post(&app, &format!("/payments/{}/reversal", bounced["id"]), &manager, json!({ "reason": "转账退回" })).await;
    // The one-off bills.
    pay(u, "cash", "50.00", bill_of(u, "X2", None).await).await;
    let x3 = pay(d, "bank_transfer", "300.00", bill_of(d, "X3", None).await).await;
    post(&app, &format!("/payments/{}/reversal", x3["id"]), &manager, json!({ "reason": "转账退回" })).await;
    let x4 = bill_of(u, "X4", None).await;
    post(&app, &format!("/bills/{x4}/adjustments"), &manager, json!({ "kind": "waiver", "amount": "-100.00", "reason": "协商减免" })).await;
    let x5 = pay(u, "cash", "1030.00", bill_of(u, "X5", None).await).await;
    assert_eq!((x5["allocations"][0]["late_fee"].as_str(), x5["allocations"][0]["principal"].as_str()), (Some("30.00"), Some("1000.00")), "{x5}");

    // Common-area income.
    for (source, description, amount, method) in [("elevator_ads", "电梯广告 2号楼", "1200.00", "bank_transfer"), ("parking", "公共车位 11月", "800.00", "cash")] {
        let income = json!({ "source": source, "description": description, "amount": amount, "received_on": today, "method": method });
        post(&app, &format!("/compounds/{c}/common-income"), &cashier, income).await;
    }

    // The maintenance fund.
    let policy = json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "source": "市住建委 2019 年第 3 号通知", "notice_days": 0 });
    ok(&app, reqwest::Method::PUT, &format!("/compounds/{c}/fund/policy"), &manager, Some(policy)).await;
    post(&app, &format!("/compounds/{c}/fund/deposits"), &manager, json!({ "received_on": today })).await;
    post(&app, &format!("/units/{u}/fund/top-ups"), &cashier, json!({ "amount": "100.00", "received_on": today })).await;
    post(&app, &format!("/compounds/{c}/fund/allocations"), &manager, json!({ "source": "interest", "amount": "100.00", "received_on": today })).await;
    post(&app, &format!("/compounds/{c}/fund/allocations"), &manager, json!({ "source": "common_income", "amount": "500.00", "received_on": today })).await;
    let repair = json!({ "title": "屋面漏水抢修", "description": "顶层屋面漏水", "budget": "2000.00", "scope": "units", "scope_ids": [u, d], "emergency": "roof_leak" });
    let project = post(&app, &format!("/compounds/{c}/fund/projects"), &manager, repair).await;
    let path = format!("/fund-projects/{}", project["id"]);
    post(&app, &format!("{path}/emergency-notice"), &manager, json!({ "text": "顶层漏水危及住户安全，立即抢修。" })).await;
    post(&app, &format!("{path}/start"), &manager, json!({})).await;
    let settled = post(&app, &format!("{path}/settlement"), &manager, json!({ "actual_cost": "1609.50" })).await;
    assert_eq!(settled["status"], "settled", "{settled}");
    let facade = json!({ "title": "外墙修缮", "description": "外墙瓷砖脱落", "budget": "1000.00", "scope": "units", "scope_ids": [u] });
    let draft = post(&app, &format!("/compounds/{c}/fund/projects"), &manager, facade).await;

    Books { settled_project: project["id"].as_i64().unwrap(), draft_project: draft["id"].as_i64().unwrap(), app, t, today, items, due }
}

/// A download: status, content type, content disposition and the raw bytes (BOM kept).
async fn download(app: &TestApp, path: &str, token: &str) -> (StatusCode, String, String, Vec<u8>) {
    let response = app.client.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.expect("send");
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (status, content_type, disposition) = (response.status(), header("content-type"), header("content-disposition"));
    (status, content_type, disposition, response.bytes().await.expect("body").to_vec())
}

/// A CSV download's records, after checking it is a UTF-8 CSV file with a byte-order mark.
async fn csv_records(app: &TestApp, path: &str, token: &str) -> Vec<Vec<String>> {
    let (status, content_type, disposition, bytes) = download(app, path, token).await;
    assert_eq!(status, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&bytes));
    assert!(content_type.starts_with("text/csv"), "{path}: {content_type}");
    assert!(disposition.starts_with("attachment; filename=") && disposition.ends_with(".csv\""), "{path}: {disposition}");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{path}: no byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    reader.records().map(|r| r.expect("a CSV record").iter().map(str::to_string).collect()).collect()
}

/// The first record whose leading cells are `start`.
fn record<'a>(records: &'a [Vec<String>], start: &[&str]) -> &'a Vec<String> {
    records
        .iter()
        .find(|r| r.len() >= start.len() && r.iter().zip(start).all(|(cell, want)| cell == want))
        .unwrap_or_else(|| panic!("no record starting {start:?} in {records:?}"))
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

#[tokio::test]
async fn collection_aging_and_the_income_statement_match_the_books() {
    let b = books().await;
    let (app, c) = (&b.app, b.t.compound_id);
    let committee = b.t.token(Role::Committee);
    let items = &b.items;

    // Collection of the property fee's periods.
    //   2099-01: billed 106.32 + 86.82 = 193.14, collected 106.32, outstanding 86.82,
    //            rate 106.32 / 193.14 = 55.048% -> 55.0.
    //   2099-02: billed 100.00 (106.32 - 6.32) + 86.82 = 186.82, collected 50.00 (the reversed
    //            86.82 is not), outstanding 136.82, rate 50.00 / 186.82 = 26.764% -> 26.8.
    //   total:   billed 379.96, collected 156.32, outstanding 223.64, rate 41.141% -> 41.1.
    let report = get(app, &format!("/compounds/{c}/audit/collection?from=2099-01&to=2099-02"), committee).await;
    let figures = |bills: u64, billed: &str, collected: &str, outstanding: &str, rate: &str| {
        json!({ "bills": bills, "billed": billed, "collected": collected, "outstanding": outstanding, "collection_rate": rate, "late_fees_collected": "0.00" })
    };
    let mut jan = json!({ "period": "2099-01", "fee_item_id": items["物业费"], "fee_item": "物业费" });
    jan.as_object_mut().unwrap().extend(figures(2, "193.14", "106.32", "86.82", "55.0").as_object().unwrap().clone());
    let mut feb = json!({ "period": "2099-02", "fee_item_id": items["物业费"], "fee_item": "物业费" });
    feb.as_object_mut().unwrap().extend(figures(2, "186.82", "50.00", "136.82", "26.8").as_object().unwrap().clone());
    assert_eq!(report["rows"], json!([jan, feb]), "{report}");
    assert_eq!(report["total"], figures(4, "379.96", "156.32", "223.64", "41.1"), "{report}");
    assert_eq!(report["by_fee_item"][0]["billed"], "379.96", "{report}");
    let records = csv_records(app, &format!("/compounds/{c}/audit/collection.csv?from=2099-01&to=2099-02"), committee).await;
    assert_eq!(records[0], row(&["period", "fee_item_id", "fee_item", "bills", "billed", "collected", "outstanding", "collection_rate_percent", "late_fees_collected"]));
    let item = items["物业费"].to_string();
    assert_eq!(records[1], row(&["2099-01", &item, "物业费", "2", "193.14", "106.32", "86.82", "55.0", "0.00"]));
    assert_eq!(*records.last().unwrap(), row(&["2099-01..2099-02", "", "合计 total", "4", "379.96", "156.32", "223.64", "41.1", "0.00"]));
    // X5's period alone: 1000.00 billed and collected, 30.00 late fee.
    let x5 = period_of(b.due["X5"]);
    let report = get(app, &format!("/compounds/{c}/audit/collection?from={x5}&to={x5}"), committee).await;
    let x5_row = report["rows"].as_array().unwrap().iter().find(|r| r["fee_item_id"] == items["X5"]).cloned().unwrap();
    assert_eq!((x5_row["collected"].as_str(), x5_row["collection_rate"].as_str(), x5_row["late_fees_collected"].as_str()), (Some("1000.00"), Some("100.0"), Some("30.00")));

    // Arrears aging today. 301: X1 100.00 (10 days: 0-30), X2 150.00 (200.00 - 50.00, 45 days:
    // 31-90), X4 300.00 (400.00 - 100.00, 200 days: over 180) = 550.00; X5 is paid. 302: X3
    // 300.00 (the payment was reversed; 120 days: 91-180). The 2099 bills are not due.
    // Totals: 100.00, 150.00, 300.00, 300.00 = 850.00.
    let aging = get(app, &format!("/compounds/{c}/audit/arrears-aging"), committee).await;
    assert_eq!(aging["as_of"], b.today.to_string());
    let units = aging["units"].as_array().unwrap();
    assert_eq!(units.len(), 2, "{aging}");
    let (owned, held) = (&units[0], &units[1]);
    assert_eq!(
        (owned["unit_id"].as_i64(), owned["unit"].as_str(), owned["bills"].as_u64(), owned["oldest_due"].as_str()),
        (Some(b.t.unit_id), Some("1栋 1单元 301"), Some(3), Some(b.due["X4"].to_string().as_str()))
    );
    let buckets = |unit: &Value| [&unit["0-30"], &unit["31-90"], &unit["91-180"], &unit["over_180"], &unit["total"]].map(|v| v.as_str().unwrap_or("?").to_string());
    assert_eq!(buckets(owned), ["100.00", "150.00", "0.00", "300.00", "550.00"]);
    assert_eq!(buckets(held), ["0.00", "0.00", "300.00", "0.00", "300.00"]);
    assert_eq!((held["unit_id"].as_i64(), held["developer_held"].as_bool()), (Some(b.t.developer_unit_id), Some(true)));
    let mut totals = aging["totals"].clone();
    totals["total"] = aging["total"].clone();
    assert_eq!(buckets(&totals), ["100.00", "150.00", "300.00", "300.00", "850.00"]);
    // The committee sees the owner's phone masked and no email or ID number; the manager whole.
    let owner = &owned["owners"][0];
    assert_eq!((owner["name"].as_str(), owner["phone"].as_str(), owner["email"].as_str()), (Some("王建国"), Some("138****1234"), None), "{owner}");
    let as_manager = get(app, &format!("/compounds/{c}/audit/arrears-aging"), b.t.token(Role::Manager)).await;
    assert_eq!(as_manager["units"][0]["owners"][0]["phone"], "13800131234");
    let records = csv_records(app, &format!("/compounds/{c}/audit/arrears-aging.csv"), committee).await;
    assert_eq!(records[0], row(&["unit_id", "unit", "developer_held", "owners", "phones", "bills", "oldest_due", "0-30", "31-90", "91-180", "over_180", "total"]));
    let unit = b.t.unit_id.to_string();
    assert_eq!(records[1], row(&[&unit, "1栋 1单元 301", "false", "王建国", "138****1234", "3", &b.due["X4"].to_string(), "100.00", "150.00", "0.00", "300.00", "550.00"]));
    let held_unit = b.t.developer_unit_id.to_string();
    assert_eq!(records[2], row(&[&held_unit, "1栋 1单元 302", "true", "开发商 developer", "", "1", &b.due["X3"].to_string(), "0.00", "0.00", "300.00", "0.00", "300.00"]));
    assert_eq!(records[3][7..], row(&["100.00", "150.00", "300.00", "300.00", "850.00"]));
    let (_, _, _, bytes) = download(app, &format!("/compounds/{c}/audit/arrears-aging.csv"), committee).await;
    assert!(!String::from_utf8_lossy(&bytes).contains("13800131234"), "the committee's CSV shows a whole phone");
    let records = csv_records(app, &format!("/compounds/{c}/audit/arrears-aging.csv"), b.t.token(Role::Manager)).await;
    assert_eq!(records[1][4], "13800131234");

    // Income and expense statement of today (everything was posted today).
    //   Fee revenue: 物业费 193.14 x 2 - 6.32 = 379.96; X1 100.00; X2 200.00; X3 300.00;
    //   X4 400.00 - 100.00 = 300.00; X5 1000.00: 2279.96. Late fees 30.00. Company: 2309.96.
    //   Owners' income: elevator ads 1200.00 + parking 800.00 = 2000.00, 500.00 moved to the
    //   fund, 1500.00 held. The fund: deposits 7974.00 + 6511.50 = 14485.50, top-up 100.00,
    //   interest 100.00, common income 500.00 = 15185.50 in; the repair 1609.50 out;
    //   closing 15185.50 - 1609.50 = 13576.00.
    let today = b.today;
    let statement = get(app, &format!("/compounds/{c}/audit/income-statement?from={today}&to={today}"), committee).await;
    let revenue: Vec<(i64, String)> =
        statement["company"]["fee_revenue"].as_array().unwrap().iter().map(|f| (f["fee_item_id"].as_i64().unwrap(), f["amount"].as_str().unwrap().to_string())).collect();
    let expected: Vec<(i64, String)> =
        [("物业费", "379.96"), ("X1", "100.00"), ("X2", "200.00"), ("X3", "300.00"), ("X4", "300.00"), ("X5", "1000.00")].iter().map(|(n, a)| (items[n], a.to_string())).collect();
    assert_eq!(revenue, expected, "{statement}");
    let company = &statement["company"];
    assert_eq!((company["fee_revenue_total"].as_str(), company["late_fees"].as_str(), company["total"].as_str()), (Some("2279.96"), Some("30.00"), Some("2309.96")));
    assert_eq!(
        statement["owners_common_income"],
        json!({ "received": [{ "source": "elevator_ads", "amount": "1200.00" }, { "source": "parking", "amount": "800.00" }], "received_total": "2000.00", "moved_to_fund": "500.00", "held_at_end": "1500.00" })
    );
    assert_eq!(
        statement["maintenance_fund"],
        json!({
            "opening_balance": "0.00",
            "inflows": [
                { "kind": "deposit", "amount": "14485.50" }, { "kind": "top_up", "amount": "100.00" },
                { "kind": "interest", "amount": "100.00" }, { "kind": "common_income", "amount": "500.00" },
            ],
            "inflow_total": "15185.50",
            "outflows": [{ "kind": "repair", "amount": "1609.50" }],
            "outflow_total": "1609.50",
            "closing_balance": "13576.00",
        })
    );
    assert_eq!(statement["elevator_shares_billed"], "0.00");
    assert!(statement["notes"][0].as_str().unwrap().contains("own expenses (wages, materials, subcontracts) are not kept in wuye"), "{statement}");
    // Yesterday nothing happened: no revenue, nothing held, the fund still empty.
    let yesterday = today - Duration::days(1);
    let quiet = get(app, &format!("/compounds/{c}/audit/income-statement?from={yesterday}&to={yesterday}"), committee).await;
    assert_eq!((quiet["company"]["total"].as_str(), quiet["owners_common_income"]["held_at_end"].as_str()), (Some("0.00"), Some("0.00")), "{quiet}");
    assert_eq!(quiet["maintenance_fund"]["closing_balance"], "0.00");
    let records = csv_records(app, &format!("/compounds/{c}/audit/income-statement.csv?from={today}&to={today}"), committee).await;
    assert_eq!(records[0], row(&["section", "item", "amount"]));
    assert_eq!(*record(&records, &["company 公司收入合计"]), row(&["company 公司收入合计", "total", "2309.96"]));
    assert_eq!(*record(&records, &["owners: common-area income received 公共收益 (2241)", "elevator_ads"]), row(&["owners: common-area income received 公共收益 (2241)", "elevator_ads", "1200.00"]));
    assert_eq!(record(&records, &["fund: closing balance 维修资金期末"])[2], "13576.00");

    // Arrears as they stood 20 days ago. The bills are made to date from 300 days ago and X3's
    // payment from 30 days ago (reversed today): then X2 owed all 200.00 (25 days: 0-30), X5
    // all 1000.00 (80 days: 31-90; paid today), X4 all 400.00 (180 days: 91-180; waived today),
    // X3 nothing (paid then), X1 was not yet due: 301 owed 1600.00, 302 nothing.
    let long_ago = chrono::Utc::now() - Duration::days(300);
    entity::bill::Entity::update_many()
        .col_expr(entity::bill::Column::CreatedAt, Expr::value(long_ago))
        .filter(entity::bill::Column::CompoundId.eq(c))
        .exec(&app.db)
        .await
        .unwrap();
    entity::payment::ActiveModel { id: Set(x3_payment(&b).await), received_at: Set(chrono::Utc::now() - Duration::days(30)), ..Default::default() }.update(&app.db).await.unwrap();
    let as_of = today - Duration::days(20);
    let then = get(app, &format!("/compounds/{c}/audit/arrears-aging?as_of={as_of}"), committee).await;
    let units = then["units"].as_array().unwrap();
    assert_eq!(units.len(), 1, "{then}");
    assert_eq!(buckets(&units[0]), ["200.00", "1000.00", "400.00", "0.00", "1600.00"], "{then}");
    assert_eq!(then["total"], "1600.00");
    // Today's report is unchanged by the dates moved.
    let now = get(app, &format!("/compounds/{c}/audit/arrears-aging?as_of={today}"), committee).await;
    assert_eq!(now["total"], "850.00");

    // Bad input names the field.
    let bad = [
        (format!("/compounds/{c}/audit/collection?from=2099-03&to=2099-01"), "from"),
        (format!("/compounds/{c}/audit/collection?from=2099-13&to=2099-01"), "from"),
        (format!("/compounds/{c}/audit/collection?from=2000-01&to=2099-01"), "to"),
        (format!("/compounds/{c}/audit/collection?to=2099-01"), "from"),
        (format!("/compounds/{c}/audit/arrears-aging?as_of={}", today + Duration::days(1)), "as_of"),
        (format!("/compounds/{c}/audit/arrears-aging?as_of=2026-02-30"), "as_of"),
        (format!("/compounds/{c}/audit/income-statement?from={today}&to={yesterday}"), "from"),
        (format!("/compounds/{c}/audit/income-statement.csv?from=2000-01-01&to=2020-01-01"), "to"),
        (format!("/compounds/{c}/audit/staff-actions?method=GET"), "method"),
        (format!("/compounds/{c}/audit/staff-actions?from={today}&to={yesterday}"), "from"),
        (format!("/compounds/{c}/audit/staff-actions?per_page=501"), "per_page"),
        (format!("/compounds/{c}/audit/annual-pack?year=1999"), "year"),
        (format!("/compounds/{c}/audit/annual-pack.csv?year={}", today.year() + 1), "year"),
        (format!("/compounds/{c}/audit/ticket-stats.csv?from={today}&to={yesterday}"), "from"),
    ];
    for (path, field) in bad {
        let (status, problem) = app.get(&path, committee).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{path}: {problem}");
    }
}

/// The id of X3's payment (the one reversed), read from the database.
async fn x3_payment(b: &Books) -> i64 {
    let payments = entity::payment::Entity::find()
        .filter(entity::payment::Column::UnitId.eq(b.t.developer_unit_id))
        .filter(entity::payment::Column::Amount.eq(30000))
        .all(&b.app.db)
        .await
        .unwrap();
    assert_eq!(payments.len(), 1);
    payments[0].id
}

/// A chart's SVG text, after checking it is served as an SVG image.
async fn chart(app: &TestApp, path: &str, token: &str) -> String {
    let (status, content_type, _, bytes) = download(app, path, token).await;
    let svg = String::from_utf8(bytes).expect("UTF-8");
    assert_eq!(status, StatusCode::OK, "{path}: {svg}");
    assert!(content_type.starts_with("image/svg+xml"), "{path}: {content_type}");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"") && svg.ends_with("</svg>"), "{path}: {svg}");
    svg
}

/// The collection rate and arrears aging as SVG bar charts: drawn from the same reports, so the
/// JSON's figures are on the bars and in the description screen readers read; the compound's
/// name escaped; the same parameters refused the same way.
#[tokio::test]
async fn the_charts_show_the_figures_of_the_reports() {
    let b = books().await;
    let (app, c) = (&b.app, b.t.compound_id);
    let committee = b.t.token(Role::Committee);
    entity::compound::ActiveModel { id: Set(c), name: Set("审计 <花园> & \"A\"".into()), ..Default::default() }.update(&app.db).await.unwrap();
    let name = "审计 &lt;花园&gt; &amp; &quot;A&quot;";

    // The collection report's figures (see the test above): 2099-01 55.0 % (106.32 of 193.14),
    // 2099-02 26.8 % (50.00 of 186.82), 41.1 % over both. One fee item, so a row is a period.
    let report = get(app, &format!("/compounds/{c}/audit/collection?from=2099-01&to=2099-02"), committee).await;
    let svg = chart(app, &format!("/compounds/{c}/audit/collection.svg?from=2099-01&to=2099-02"), committee).await;
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report}");
    for row in rows {
        let (period, rate) = (row["period"].as_str().unwrap(), row["collection_rate"].as_str().unwrap());
        assert!(svg.contains(&format!(">{period}</text>")) && svg.contains(&format!(">{rate}%</text>")), "{period} {rate}% not on the chart: {svg}");
        let said = format!("{period}: {rate}%（实收 collected {} / 应收 billed {}）", row["collected"].as_str().unwrap(), row["billed"].as_str().unwrap());
        assert!(svg.contains(&said), "{said} not described: {svg}");
    }
    assert!(svg.contains(">55.0%</text>") && svg.contains(">26.8%</text>"), "{svg}");
    let heading = format!("{name} 收缴率 collection rate 2099-01..2099-02: {}%", report["total"]["collection_rate"].as_str().unwrap());
    assert!(heading.ends_with("41.1%") && svg.contains(&format!(r#"<title id="collection-chart-title">{heading}</title>"#)), "{svg}");
    assert!(svg.contains(r#"aria-labelledby="collection-chart-title collection-chart-desc""#) && svg.contains(r#"<desc id="collection-chart-desc">"#), "{svg}");
    assert!(!svg.contains("<花园>"), "the name is not escaped: {svg}");
    let none = chart(app, &format!("/compounds/{c}/audit/collection.svg?from=2098-01&to=2098-02"), committee).await;
    assert!(none.contains(">无账单 no bills</text>"), "{none}");

    // Arrears aging today: 100.00, 150.00, 300.00 and 300.00 by age, 850.00 over two units.
    let aging = get(app, &format!("/compounds/{c}/audit/arrears-aging"), committee).await;
    let svg = chart(app, &format!("/compounds/{c}/audit/arrears-aging.svg"), committee).await;
    for (bucket, label) in ["0-30", "31-90", "91-180", "over_180"].into_iter().zip(["0-30", "31-90", "91-180", "over 180"]) {
        let amount = aging["totals"][bucket].as_str().unwrap();
        assert!(svg.contains(&format!(">{label}</text>")) && svg.contains(&format!(">{amount}</text>")), "{bucket} {amount} not on the chart: {svg}");
        assert!(svg.contains(&format!("{label} 天 days: {amount} 元")), "{bucket} {amount} not described: {svg}");
    }
    let heading = format!("{name} 欠费账龄 arrears aging {}: {} 元", b.today, aging["total"].as_str().unwrap());
    assert!(heading.ends_with("850.00 元") && svg.contains(&format!(r#"<title id="aging-chart-title">{heading}</title>"#)), "{svg}");
    assert!(svg.contains("2 户 units") && svg.contains(r#"aria-labelledby="aging-chart-title aging-chart-desc""#), "{svg}");
    let earlier = b.today - Duration::days(300);
    let then = chart(app, &format!("/compounds/{c}/audit/arrears-aging.svg?as_of={earlier}"), committee).await;
    assert!(then.contains(&format!("arrears aging {earlier}: 0.00 元")), "{then}");

    // The same parameters as the reports, refused the same way.
    for (path, field) in [("collection.svg?from=2099-03&to=2099-01", "from"), ("collection.svg?to=2099-01", "from"), ("arrears-aging.svg?as_of=2026-02-30", "as_of")] {
        let (status, problem) = app.get(&format!("/compounds/{c}/audit/{path}"), committee).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{path}: {problem}");
    }
}

#[tokio::test]
async fn the_fund_the_journal_tickets_and_the_annual_pack() {
    let b = books().await;
    let (app, c, u, d) = (&b.app, b.t.compound_id, b.t.unit_id, b.t.developer_unit_id);
    let committee = b.t.token(Role::Committee);
    let today = b.today;

    // The fund. 301: 7974.00 + 100.00 top-up + 55.05 interest (100.00 x 88.60 / 160.95 =
    // 55.048, the leftover fen by largest remainder) + 275.24 common income (500.00 x 88.60 /
    // 160.95 = 275.2407) - 886.00 repair (1609.50 x 88.60 / 160.95) = 7518.29.
    // 302: 6511.50 + 44.95 + 224.76 (the leftover fen) - 723.50 = 6057.71. Sum 13576.00.
    let fund = get(app, &format!("/compounds/{c}/audit/fund"), committee).await;
    assert_eq!(fund["check"], json!({ "agrees": true, "control_account": "13576.00", "sub_ledger_total": "13576.00", "fund_bank": "13576.00", "mismatches": [] }));
    let unit = |id: i64| fund["units"].as_array().unwrap().iter().find(|x| x["unit_id"] == id).cloned().unwrap();
    let (owned, held) = (unit(u), unit(d));
    assert_eq!((owned["initial_deposit"].as_str(), owned["balance"].as_str(), owned["needs_top_up"].as_bool()), (Some("7974.00"), Some("7518.29"), Some(false)));
    assert_eq!((held["initial_deposit"].as_str(), held["balance"].as_str(), held["top_up_line"].as_str()), (Some("6511.50"), Some("6057.71"), Some("1953.45")));
    let records = csv_records(app, &format!("/compounds/{c}/audit/fund.csv"), committee).await;
    assert_eq!(records[1], row(&["check", "13576.00", "13576.00", "13576.00", "true"]));
    assert_eq!(*record(&records, &[&u.to_string()]), row(&[&u.to_string(), "1栋 1单元 301", "false", "王建国", "7974.00", "7518.29", "2392.20", "false"]));

    // Every movement: 2 deposits, 1 top-up, 2 interest, 2 common income, 2 repair shares.
    let movements = get(app, &format!("/compounds/{c}/audit/fund-movements"), committee).await;
    let kinds: Vec<&str> = movements["movements"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["deposit", "deposit", "top_up", "interest", "interest", "common_income", "common_income", "repair", "repair"]);
    assert_eq!(
        movements["by_kind"],
        json!([
            { "kind": "common_income", "amount": "500.00" }, { "kind": "deposit", "amount": "14485.50" }, { "kind": "interest", "amount": "100.00" },
            { "kind": "repair", "amount": "-1609.50" }, { "kind": "top_up", "amount": "100.00" },
        ])
    );
    assert_eq!(movements["total"], "13576.00");
    let records = csv_records(app, &format!("/compounds/{c}/audit/fund-movements.csv"), committee).await;
    assert_eq!(records[0][..6], row(&["id", "occurred_on", "unit_id", "unit", "kind", "amount"]));
    assert_eq!(records[1][1], today.to_string());
    let share_301 = records.iter().find(|r| r.get(4).is_some_and(|k| k == "repair") && r[2] == u.to_string()).unwrap();
    assert_eq!((share_301[3].as_str(), share_301[5].as_str(), share_301[6].as_str()), ("1栋 1单元 301", "-886.00", "7518.29"));

    // Projects: the settled repair's actual split, the draft's planned one.
    let projects = get(app, &format!("/compounds/{c}/audit/fund-projects"), committee).await;
    let project = |id: i64| projects["projects"].as_array().unwrap().iter().find(|p| p["id"] == id).cloned().unwrap();
    let settled = project(b.settled_project);
    assert_eq!((settled["status"].as_str(), settled["actual_cost"].as_str(), settled["shares_are"].as_str()), (Some("settled"), Some("1609.50"), Some("actual")));
    let shares: Vec<(i64, &str, &str)> = settled["shares"].as_array().unwrap().iter().map(|s| (s["unit_id"].as_i64().unwrap(), s["share"].as_str().unwrap(), s["payer"].as_str().unwrap())).collect();
    assert_eq!(shares, [(u, "886.00", "owner"), (d, "723.50", "developer")]);
    assert_eq!(settled["shares_total"], "1609.50");
    let draft = project(b.draft_project);
    assert_eq!((draft["status"].as_str(), draft["shares_are"].as_str(), draft["shares"][0]["share"].as_str()), (Some("draft"), Some("planned"), Some("1000.00")));
    let records = csv_records(app, &format!("/compounds/{c}/audit/fund-projects.csv"), committee).await;
    let line = record(&records, &[&b.settled_project.to_string(), "屋面漏水抢修", "settled"]);
    assert_eq!(line[7..], row(&["actual", &u.to_string(), "1栋 1单元 301", "88.60", "886.00", "owner"]));

    // The journal: the verification first, then every line with its entry's hash.
    let entries = get(app, &format!("/compounds/{c}/ledger/entries?per_page=200"), committee).await;
    let total_entries = entries["total"].as_u64().unwrap();
    let records = csv_records(app, &format!("/compounds/{c}/audit/journal.csv"), committee).await;
    assert_eq!(records[0], row(&["verification", "intact", "true"]));
    assert_eq!(records[1], row(&["verification", "entries", &total_entries.to_string()]));
    assert_eq!(*record(&records, &["verification", "first_break_seq"]), row(&["verification", "first_break_seq", ""]));
    let header = record(&records, &["seq"]);
    assert_eq!(header[..], row(&["seq", "entry_id", "posted_at", "kind", "reference", "memo", "account", "account_name", "unit_id", "unit", "fee_item_id", "fee_item", "debit", "credit", "hash", "prev_hash"]));
    let lines: Vec<&Vec<String>> = records.iter().skip_while(|r| r[0] != "seq").skip(1).collect();
    let line_count: usize = entries["items"].as_array().unwrap().iter().map(|e| e["lines"].as_array().unwrap().len()).sum();
    assert_eq!(lines.len(), line_count);
    let ads = lines.iter().find(|r| r[3] == "common_income" && r[6] == "2241" && r[5] == "电梯广告 2号楼").expect("the elevator ads line");
    assert_eq!((ads[12].as_str(), ads[13].as_str(), ads[7].as_str()), ("0.00", "1200.00", "业主共有收益 owners' common-area income"));
    let entry = entries["items"].as_array().unwrap().iter().find(|e| e["seq"].as_i64() == ads[0].parse().ok()).unwrap();
    assert_eq!((ads[14].as_str(), ads[15].as_str()), (entry["hash"].as_str().unwrap(), entry["prev_hash"].as_str().unwrap()));
    let first = lines[0];
    assert_eq!((first[0].as_str(), first[3].as_str(), first[15].as_str()), ("1", "bill_run", ""));
    let x5_late = lines.iter().find(|r| r[6] == "6051").expect("the late-fee line");
    assert_eq!((x5_late[9].as_str(), x5_late[11].as_str(), x5_late[13].as_str()), ("1栋 1单元 301", "X5", "30.00"));

    // Ticket statistics: one plumbing ticket filed today, not yet handled.
    let filing = json!({ "unit_id": u, "category": "plumbing", "location": "in_unit", "description": "厨房水管漏水" });
    let (status, ticket) = app.post("/tickets", b.t.token(Role::Owner), filing).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let records = csv_records(app, &format!("/compounds/{c}/audit/ticket-stats.csv?from={today}&to={today}"), committee).await;
    assert_eq!(records[0][..5], row(&["group", "key", "name", "filed", "resolved"]));
    assert_eq!(records[1], row(&["all", &format!("{today}..{today}"), "", "1", "0", "", "", "", "", "", "0", "", ""]));
    assert_eq!(record(&records, &["category", "plumbing"])[3], "1");
    assert_eq!(record(&records, &["month", &period_of(today)])[3], "1");

    // The annual pack of this year. Fees: the one-off bills whose period falls in this year
    // (the property fee's are of 2099): X1 100.00 / 0.00, X2 200.00 / 50.00, X3 300.00 / 0.00,
    // X4 300.00 / 0.00, X5 1000.00 / 1000.00 (30.00 late fee).
    let year = today.year();
    let pack = get(app, &format!("/compounds/{c}/audit/annual-pack?year={year}"), committee).await;
    let one_offs = [("X1", 10000, 0, 0), ("X2", 20000, 5000, 0), ("X3", 30000, 0, 0), ("X4", 30000, 0, 0), ("X5", 100000, 100000, 3000)];
    let this_year: Vec<_> = one_offs.iter().filter(|(name, ..)| b.due[name].year() == year).collect();
    let fees: Vec<(i64, String, String)> = pack["fees"].as_array().unwrap().iter().map(|f| (f["fee_item_id"].as_i64().unwrap(), f["billed"].as_str().unwrap().into(), f["collected"].as_str().unwrap().into())).collect();
    let yuan = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
    let expected: Vec<(i64, String, String)> = this_year.iter().map(|(name, billed, collected, _)| (b.items[name], yuan(*billed), yuan(*collected))).collect();
    assert_eq!(fees, expected, "{pack}");
    let (billed, collected, late): (i64, i64, i64) = this_year.iter().fold((0, 0, 0), |(b, c, l), (_, bb, cc, ll)| (b + bb, c + cc, l + ll));
    let total = &pack["fees_total"];
    assert_eq!(
        (total["billed"].as_str(), total["collected"].as_str(), total["outstanding"].as_str(), total["late_fees_collected"].as_str()),
        (Some(yuan(billed).as_str()), Some(yuan(collected).as_str()), Some(yuan(billed - collected).as_str()), Some(yuan(late).as_str()))
    );
    assert_eq!(pack["owners_common_income"]["received_total"], "2000.00");
    assert_eq!(pack["owners_common_income"]["held_at_end"], "1500.00");
    assert_eq!(pack["maintenance_fund"]["inflow_total"], "15185.50");
    assert_eq!(pack["fund_year_end"], json!({ "control_account": "13576.00", "sub_ledger_total": "13576.00", "agrees": true }));
    assert_eq!(pack["projects_settled"], json!([{ "id": b.settled_project, "title": "屋面漏水抢修", "emergency": "roof_leak", "budget": "2000.00", "actual_cost": "1609.50", "settled_on": today, "units": 2 }]));
    assert_eq!(pack["projects_settled_total"], "1609.50");
    let records = csv_records(app, &format!("/compounds/{c}/audit/annual-pack.csv?year={year}"), committee).await;
    assert_eq!(records[0], row(&["Audit 花园", &format!("{year} 年度账目公示 annual accounts")]));
    assert_eq!(*record(&records, &["fund at year end 年末账面", "agrees"]), row(&["fund at year end 年末账面", "agrees", "true"]));
    assert_eq!(record(&records, &["projects settled 维修资金使用", &b.settled_project.to_string()])[5], "1609.50");
    // Last year: nothing billed in its periods was collected, and the fund did not exist yet.
    let last = get(app, &format!("/compounds/{c}/audit/annual-pack?year={}", year - 1), committee).await;
    assert_eq!((last["fund_year_end"]["control_account"].as_str(), last["projects_settled"].as_array().map(Vec::len)), (Some("0.00"), Some(0)));

    // Published in one step, by the committee: a disclosure to the whole compound.
    let (status, published) = app.post(&format!("/compounds/{c}/audit/annual-pack/publication"), committee, json!({ "year": year })).await;
    assert_eq!(status, StatusCode::OK, "{published}");
    let title = format!("{year} 年度账目公示 Annual accounts {year}");
    assert_eq!((published["title"].as_str(), published["category"].as_str(), published["status"].as_str()), (Some(title.as_str()), Some("annual_accounts"), Some("published")));
    let notice = get(app, &format!("/notices/{}", published["notice_id"]), b.t.token(Role::Manager)).await;
    assert_eq!((notice["category"].as_str(), notice["status"].as_str(), notice["compound_id"].as_i64()), (Some("annual_accounts"), Some("published"), Some(c)), "{notice}");
    let body = notice["body"].as_str().unwrap();
    for figure in ["13576.00", "1609.50", "2000.00", "相符 they agree"] {
        assert!(body.contains(figure), "the notice lacks {figure}: {body}");
    }
    for (role, expected) in [(Role::Cashier, StatusCode::FORBIDDEN), (Role::Owner, StatusCode::FORBIDDEN)] {
        let (status, problem) = app.post(&format!("/compounds/{c}/audit/annual-pack/publication"), b.t.token(role), json!({ "year": year })).await;
        assert_problem(status, &problem, expected, "forbidden");
    }
    let (status, problem) = app.post(&format!("/compounds/{c}/audit/annual-pack/publication"), committee, json!({ "year": 1999 })).await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(problem["field"], "year");

    // A publication retried with its Idempotency-Key (the answer was lost) publishes once; a
    // new key publishes again, and the key cannot be reused for another year.
    let publish = |key: &'static str, year: i32| {
        app.client
            .post(format!("{}/compounds/{c}/audit/annual-pack/publication", app.base))
            .bearer_auth(committee)
            .header("Idempotency-Key", key)
            .json(&json!({ "year": year }))
            .send()
    };
    let annual_notices = async || {
        let notices = entity::notice::Entity::find().filter(entity::notice::Column::CompoundId.eq(c)).all(&app.db).await.unwrap();
        notices.into_iter().filter(|n| n.category == "annual_accounts").count()
    };
    let before = annual_notices().await;
    let first: serde_json::Value = publish("pack-2026-a", year).await.unwrap().json().await.unwrap();
    let retried: serde_json::Value = publish("pack-2026-a", year).await.unwrap().json().await.unwrap();
    assert_eq!(first, retried, "a retry answers the first publication");
    assert_eq!(annual_notices().await, before + 1, "published once for one key");
    let again: serde_json::Value = publish("pack-2026-b", year).await.unwrap().json().await.unwrap();
    assert_ne!(again["notice_id"], first["notice_id"]);
    assert_eq!(annual_notices().await, before + 2);
    let reused = publish("pack-2026-a", year - 1).await.unwrap();
    assert_eq!(reused.status(), StatusCode::CONFLICT);

    // Someone edits an amount behind the service's back: the journal download names the entry.
    let line = entity::journal_line::Entity::find()
        .filter(entity::journal_line::Column::CompoundId.eq(c))
        .filter(entity::journal_line::Column::Account.eq("2241"))
        .filter(entity::journal_line::Column::Credit.eq(120000))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let entry = entity::journal_entry::Entity::find_by_id(line.entry_id).one(&app.db).await.unwrap().unwrap();
    lift_append_only_guard(&app.db, "journal_lines").await;
    entity::journal_line::Entity::update_many()
        .col_expr(entity::journal_line::Column::Credit, Expr::value(100000))
        .filter(entity::journal_line::Column::EntryId.eq(entry.id))
        .filter(entity::journal_line::Column::Credit.eq(120000))
        .exec(&app.db)
        .await
        .unwrap();
    entity::journal_line::Entity::update_many()
        .col_expr(entity::journal_line::Column::Debit, Expr::value(100000))
        .filter(entity::journal_line::Column::EntryId.eq(entry.id))
        .filter(entity::journal_line::Column::Debit.eq(120000))
        .exec(&app.db)
        .await
        .unwrap();
    let records = csv_records(app, &format!("/compounds/{c}/audit/journal.csv"), committee).await;
    assert_eq!(records[0], row(&["verification", "intact", "false"]));
    assert_eq!(*record(&records, &["verification", "first_break_seq"]), row(&["verification", "first_break_seq", &entry.seq.to_string()]));
    assert_eq!(*record(&records, &["verification", "first_break_entry_id"]), row(&["verification", "first_break_entry_id", &entry.id.to_string()]));
    assert!(record(&records, &["verification", "first_break_problem"])[2].contains("does not match its hash"), "{records:?}");
}

#[tokio::test]
async fn the_staff_action_log_is_filterable_and_masked_for_the_committee() {
    let b = books().await;
    let (app, c) = (&b.app, b.t.compound_id);
    let (committee, manager) = (b.t.token(Role::Committee), b.t.token(Role::Manager));
    let today = b.today;
    // A staff change carrying personal data: a new owner with a phone and an email.
    post(app, &format!("/compounds/{c}/owners"), manager, json!({ "name": "李四", "phone": "13912345678", "email": "lisi@owners.test" })).await;
    // Another compound's action, which this compound's log must not show.
    let other = post(app, "/compounds", b.t.token(Role::CompanyAdmin), json!({ "name": "别的小区", "address": "3 Road" })).await;
    let other_id = other["id"].as_i64().unwrap();

    // End to end: the lead's middleware recorded the changes made over HTTP while building the books.
    let all = get(app, &format!("/compounds/{c}/audit/staff-actions?per_page=500"), manager).await;
    let total = all["total"].as_u64().unwrap();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len() as u64, total);
    assert!(total >= 20, "{total} actions: {all}");
    assert!(items.iter().all(|a| a["path"].as_str().is_some_and(|p| !p.contains(&format!("/compounds/{other_id}")))), "another compound's action: {all}");
    // Newest first: the last change (the new owner) leads.
    assert!(items[0]["path"].as_str().unwrap().ends_with("/owners"), "{}", items[0]);
    let ats: Vec<&str> = items.iter().map(|a| a["at"].as_str().unwrap()).collect();
    assert!(ats.windows(2).all(|w| w[0] >= w[1]), "not newest first: {ats:?}");

    // The one PUT: the fund standard, by the manager, with the record after it.
    let puts = get(app, &format!("/compounds/{c}/audit/staff-actions?method=put"), committee).await;
    assert_eq!(puts["total"], 1, "{puts}");
    let put = &puts["items"][0];
    assert_eq!((put["method"].as_str(), put["path"].as_str(), put["role"].as_str(), put["status"].as_i64()), (Some("PUT"), Some(format!("/compounds/{c}/fund/policy").as_str()), Some("manager"), Some(200)));
    assert!(put["after"].as_str().unwrap().contains("\"deposit_rate\":\"90\""), "{put}");
    assert!(put["request"].as_str().unwrap().contains("市住建委"), "{put}");
    // By person: the cashier's, all POSTs; among them the two common-area incomes.
    let me = get(app, "/auth/me", b.t.token(Role::Cashier)).await;
    let cashier_id = me["user_id"].as_i64().unwrap();
    let cashiers = get(app, &format!("/compounds/{c}/audit/staff-actions?user_id={cashier_id}&per_page=500"), committee).await;
    let theirs = cashiers["items"].as_array().unwrap();
    assert!(theirs.iter().all(|a| a["user_id"] == cashier_id && a["method"] == "POST" && a["role"] == "cashier"), "{cashiers}");
    let incomes = theirs.iter().filter(|a| a["path"] == format!("/compounds/{c}/common-income")).count();
    assert_eq!(incomes, 2, "{cashiers}");
    assert!(theirs.len() < items.len(), "the filter let everyone's through");
    // By day: nothing tomorrow or yesterday; today everything, and paged.
    for (from, to) in [(today + Duration::days(1), today + Duration::days(2)), (today - Duration::days(3), today - Duration::days(1))] {
        let none = get(app, &format!("/compounds/{c}/audit/staff-actions?from={from}&to={to}"), committee).await;
        assert_eq!(none["total"], 0, "{from}..{to}: {none}");
    }
    let page = get(app, &format!("/compounds/{c}/audit/staff-actions?from={today}&to={today}&per_page=2&page=2"), committee).await;
    assert_eq!((page["total"].as_u64(), page["items"].as_array().map(Vec::len), page["page"].as_u64()), (Some(total), Some(2), Some(2)));
    assert_eq!(page["items"][0]["id"], items[2]["id"]);

    // The new owner's phone: whole for the manager, masked for the committee, who see no email.
    let find_owner = |log: &Value| log["items"].as_array().unwrap().iter().find(|a| a["path"].as_str().unwrap().ends_with("/owners")).cloned().unwrap();
    let for_manager = find_owner(&get(app, &format!("/compounds/{c}/audit/staff-actions?method=POST&per_page=500"), manager).await);
    assert!(for_manager["request"].as_str().unwrap().contains("13912345678"), "{for_manager}");
    let for_committee = find_owner(&get(app, &format!("/compounds/{c}/audit/staff-actions?method=POST&per_page=500"), committee).await);
    for field in ["request", "after"] {
        let text = for_committee[field].as_str().unwrap();
        assert!(text.contains("139****5678") && text.contains("李四"), "{field}: {text}");
        assert!(!text.contains("13912345678") && !text.contains("lisi@owners.test"), "{field}: {text}");
    }
    // A password in a recorded body is never shown, to anyone (a row written here as the
    // middleware would write it: no compound's change carries one through the API).
    let recorded = entity::staff_action::ActiveModel {
        company_id: Set(Some(b.t.company_id)),
        compound_id: Set(Some(c)),
        user_id: Set(1),
        user_name: Set("Boss".into()),
        role: Set("company_admin".into()),
        method: Set("POST".into()),
        path: Set("/users".into()),
        status: Set(Some(200)),
        ip: Set("127.0.0.1:5000".into()),
        user_agent: Set("test".into()),
        request: Set(Some(r#"{"name":"新委员","password":"correct-horse-42","phone":"13700001111"}"#.into())),
        before: Set(None),
        after: Set(None),
        at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    recorded.insert(&app.db).await.unwrap();
    let users = get(app, &format!("/compounds/{c}/audit/staff-actions?per_page=1"), manager).await;
    let request = users["items"][0]["request"].as_str().unwrap();
    assert!(request.contains("\"password\":\"***\"") && request.contains("13700001111"), "{request}");
    let users = get(app, &format!("/compounds/{c}/audit/staff-actions?per_page=1"), committee).await;
    let request = users["items"][0]["request"].as_str().unwrap();
    assert!(request.contains("\"password\":\"***\"") && request.contains("137****1111"), "{request}");

    // As CSV: every matching action.
    let records = csv_records(app, &format!("/compounds/{c}/audit/staff-actions.csv?method=PUT"), committee).await;
    assert_eq!(records[0], row(&["id", "at", "user_id", "user_name", "role", "method", "path", "status", "ip", "user_agent", "request", "before", "after"]));
    assert_eq!(records.len(), 2);
    assert_eq!(records[1][5..8], row(&["PUT", &format!("/compounds/{c}/fund/policy"), "200"]));
    let (_, _, _, bytes) = download(app, &format!("/compounds/{c}/audit/staff-actions.csv"), committee).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("139****5678") && !text.contains("13912345678"), "the committee's CSV shows a whole phone");
}

/// Every audit read, with valid parameters.
fn audit_reads(compound: i64, today: NaiveDate) -> Vec<String> {
    let year = today.year();
    [
        "collection?from=2099-01&to=2099-02".to_string(),
        "collection.csv?from=2099-01&to=2099-02".into(),
        "collection.svg?from=2099-01&to=2099-02".into(),
        "arrears-aging".into(),
        "arrears-aging.csv".into(),
        "arrears-aging.svg".into(),
        format!("income-statement?from={today}&to={today}"),
        format!("income-statement.csv?from={today}&to={today}"),
        "fund".into(),
        "fund.csv".into(),
        "fund-movements".into(),
        "fund-movements.csv".into(),
        "fund-projects".into(),
        "fund-projects.csv".into(),
        "journal.csv".into(),
        format!("ticket-stats.csv?from={today}&to={today}"),
        "staff-actions".into(),
        "staff-actions.csv".into(),
        format!("annual-pack?year={year}"),
        format!("annual-pack.csv?year={year}"),
    ]
    .into_iter()
    .map(|report| format!("/compounds/{compound}/audit/{report}"))
    .collect()
}

#[tokio::test]
async fn owners_field_staff_and_other_compounds_committees_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant("Refusals").await;
    let today = today();
    let c = t.compound_id;
    // A committee member of another compound of the same company.
    let other = post(&app, "/compounds", t.token(Role::CompanyAdmin), json!({ "name": "旁边小区", "address": "5 Road" })).await;
    let account = json!({ "role": "committee", "name": "旁边委员", "email": "committee@next.test", "password": PASSWORD, "compound_ids": [other["id"]] });
    post(&app, "/users", t.token(Role::CompanyAdmin), account).await;
    let neighbour = app.token("committee@next.test").await;
    let publication = format!("/compounds/{c}/audit/annual-pack/publication");
    let year = json!({ "year": today.year() });

    let mut failures = Vec::new();
    for path in audit_reads(c, today) {
        // Staff and this compound's committee read every report.
        for role in [Role::PlatformAdmin, Role::CompanyAdmin, Role::Manager, Role::Committee] {
            let (status, _, _, bytes) = download(&app, &path, t.token(role)).await;
            if status != StatusCode::OK {
                failures.push(format!("GET {path} as {role:?}: {status} {}", String::from_utf8_lossy(&bytes)));
            }
        }
        for role in [Role::Owner, Role::Cashier, Role::Dispatcher, Role::Technician] {
            let (status, body) = app.get(&path, t.token(role)).await;
            if status != StatusCode::FORBIDDEN || body["code"] != "forbidden" {
                failures.push(format!("GET {path} as {role:?}: expected 403, got {status} {body}"));
            }
        }
        let (status, body) = app.get(&path, &neighbour).await;
        if status != StatusCode::NOT_FOUND || body["code"] != "not_found" || body.to_string().contains("Refusals") {
            failures.push(format!("GET {path} as another compound's committee: expected a bare 404, got {status} {body}"));
        }
        let (status, body) = app.request(reqwest::Method::GET, &path, None, None).await;
        if status != StatusCode::UNAUTHORIZED {
            failures.push(format!("GET {path} without a token: expected 401, got {status} {body}"));
        }
    }
    for role in [Role::Owner, Role::Cashier, Role::Dispatcher, Role::Technician] {
        let (status, body) = app.post(&publication, t.token(role), year.clone()).await;
        if status != StatusCode::FORBIDDEN {
            failures.push(format!("POST {publication} as {role:?}: expected 403, got {status} {body}"));
        }
    }
    let (status, body) = app.post(&publication, &neighbour, year.clone()).await;
    if status != StatusCode::NOT_FOUND {
        failures.push(format!("POST {publication} as another compound's committee: expected 404, got {status} {body}"));
    }
    // A compound that does not exist is as unknown as another company's.
    let (status, body) = app.get(&format!("/compounds/{}/audit/fund", c + 1000), t.token(Role::Committee)).await;
    if status != StatusCode::NOT_FOUND {
        failures.push(format!("an unknown compound: {status} {body}"));
    }

    // The committee audits: it changes no money, ticket or registry record.
    let committee = t.token(Role::Committee);
    let manager = t.token(Role::Manager);
    let item = post(&app, &format!("/compounds/{c}/fee-items"), manager, json!({ "name": "物业费", "kind": "rate_area", "rate": "1.20", "cycle": "monthly", "effective_from": "2099-01" })).await;
    post(&app, &format!("/compounds/{c}/bill-runs"), manager, json!({ "period": "2099-01" })).await;
    let bill_id = bill(&app, manager, t.unit_id, item["id"].as_i64().unwrap(), Some("2099-01")).await;
    let payment = post(&app, &format!("/units/{}/payments", t.unit_id), t.token(Role::Cashier), json!({ "method": "cash", "amount": "10.00", "bill_ids": [] })).await;
    let (status, ticket) = app.post("/tickets", t.token(Role::Owner), json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "description": "漏水" })).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let changes: Vec<(reqwest::Method, String, Value)> = vec![
        (reqwest::Method::POST, format!("/units/{}/payments", t.unit_id), json!({ "method": "cash", "amount": "10.00" })),
        (reqwest::Method::POST, format!("/payments/{}/reversal", payment["id"]), json!({ "reason": "x" })),
        (reqwest::Method::POST, format!("/units/{}/refunds", t.unit_id), json!({ "amount": "1.00", "method": "cash", "reason": "x" })),
        (reqwest::Method::POST, format!("/bills/{bill_id}/adjustments"), json!({ "kind": "waiver", "amount": "-1.00", "reason": "x" })),
        (reqwest::Method::POST, format!("/compounds/{c}/bill-runs"), json!({ "period": "2099-02" })),
        (reqwest::Method::POST, format!("/compounds/{c}/fee-items"), json!({ "name": "杂费", "kind": "fixed", "amount": "5.00", "cycle": "one_off", "effective_from": "2000-01" })),
        (reqwest::Method::POST, format!("/compounds/{c}/common-income"), json!({ "source": "parking", "description": "x", "amount": "1.00", "received_on": today, "method": "cash" })),
        (reqwest::Method::PUT, format!("/compounds/{c}/fund/policy"), json!({ "deposit_basis": "per_m2", "deposit_rate": "90", "source": "x" })),
        (reqwest::Method::POST, format!("/compounds/{c}/fund/deposits"), json!({ "received_on": today })),
        (reqwest::Method::POST, format!("/units/{}/fund/top-ups", t.unit_id), json!({ "amount": "1.00", "received_on": today })),
        (reqwest::Method::POST, format!("/compounds/{c}/fund/projects"), json!({ "title": "x", "description": "x", "budget": "1.00" })),
        (reqwest::Method::POST, format!("/tickets/{}/transitions", ticket["id"]), json!({ "to": "accepted", "priority": "p3", "version": ticket["version"] })),
        (reqwest::Method::POST, format!("/tickets/{}/comments", ticket["id"]), json!({ "body": "x" })),
        (reqwest::Method::POST, "/tickets".into(), json!({ "unit_id": t.unit_id, "category": "plumbing", "location": "in_unit", "description": "x" })),
        (reqwest::Method::POST, format!("/compounds/{c}/buildings"), json!({ "name": "9栋" })),
        (reqwest::Method::POST, format!("/stairwells/{}/units", t.stairwell_id), json!({ "floor": 1, "number": "101", "unit_use": "residential", "registered_area": "50.00" })),
        (reqwest::Method::PATCH, format!("/units/{}", t.unit_id), json!({ "vacant": true })),
        (reqwest::Method::POST, format!("/compounds/{c}/owners"), json!({ "name": "x" })),
        (reqwest::Method::POST, format!("/units/{}/sales", t.developer_unit_id), json!({ "date": "2024-06-01", "buyers": [{ "owner_id": t.owner_id }] })),
    ];
    for (method, path, body) in changes {
        let (status, answer) = app.request(method.clone(), &path, Some(committee), Some(body)).await;
        if status != StatusCode::FORBIDDEN || answer["code"] != "forbidden" {
            failures.push(format!("{method} {path} as the committee: expected 403, got {status} {answer}"));
        }
    }
    // Nothing moved: one payment, the bill unpaid, the ticket as filed.
    let bills = get(&app, &format!("/units/{}/bills", t.unit_id), manager).await;
    assert!(bills.as_array().unwrap().iter().all(|b| b["adjusted"] == "0.00"), "{bills}");
    let ticket_now = get(&app, &format!("/tickets/{}", ticket["id"]), manager).await;
    assert_eq!(ticket_now["ticket"]["status"], "submitted", "{ticket_now}");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Changes made through a path without the compound in it (`/units/{id}/payments`,
/// `/units/{id}/fund/top-ups`, `/payments/{id}/reversal`, `/bills/{id}/adjustments`), whose
/// answers name no compound, are in the compound's log all the same: the log looks up the
/// compound of the record the path names.
#[tokio::test]
async fn money_changes_by_unit_payment_and_bill_are_in_the_compounds_staff_log() {
    let b = books().await;
    let (app, c, u) = (&b.app, b.t.compound_id, b.t.unit_id);
    let log = get(app, &format!("/compounds/{c}/audit/staff-actions?per_page=500"), b.t.token(Role::Committee)).await;
    let count = |pattern: &str| log["items"].as_array().unwrap().iter().filter(|a| a["path"].as_str().is_some_and(|p| p.starts_with("/") && p.contains(pattern))).count();
    // Six desk payments, one top-up, two reversals, two adjustments.
    assert_eq!(count("/payments") - count("/reversal"), 6, "{log}");
    assert_eq!(count(&format!("/units/{u}/fund/top-ups")), 1, "{log}");
    assert_eq!(count("/reversal"), 2, "{log}");
    assert_eq!(count("/adjustments"), 2, "{log}");
}

#[tokio::test]
async fn the_books_and_the_logs_refuse_changes_at_the_database_itself() {
    let b = books().await;
    let (app, c) = (&b.app, b.t.compound_id);
    use sea_orm::ConnectionTrait;
    let postgres = app.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    let count = async |table: &str| -> i64 {
        let row = app.db.query_one_raw(sea_orm::Statement::from_string(app.db.get_database_backend(), format!("SELECT COUNT(*) AS n FROM {table}"))).await.unwrap().unwrap();
        row.try_get("", "n").unwrap()
    };

    // The guarded tables, as the database itself lists its guards.
    let listing = if postgres {
        "SELECT DISTINCT event_object_table AS name FROM information_schema.triggers WHERE trigger_name LIKE '%\\_append\\_only' ESCAPE '\\'"
    } else {
        "SELECT DISTINCT tbl_name AS name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%\\_append\\_only\\_%' ESCAPE '\\'"
    };
    let rows = app.db.query_all_raw(sea_orm::Statement::from_string(app.db.get_database_backend(), listing)).await.unwrap();
    let mut guarded: Vec<String> = rows.iter().map(|r| r.try_get("", "name").unwrap()).collect();
    guarded.sort();
    assert_eq!(guarded, ["ballots", "fund_movements", "journal_entries", "journal_lines", "staff_actions", "ticket_events"]);

    // The books built above wrote the journal and the staff log; a ticket filed writes its history.
    let unit = b.t.unit_id;
    post(app, "/tickets", b.t.token(Role::Dispatcher), json!({ "unit_id": unit, "category": "doors", "location": "in_unit", "description": "门锁坏了" })).await;
    for table in ["journal_entries", "journal_lines", "staff_actions", "ticket_events"] {
        assert!(count(table).await > 0, "{table} has rows to protect");
    }
    for table in &guarded {
        let before = count(table).await;
        if before == 0 && !postgres {
            continue; // SQLite's guards are per row: with no row there is nothing to refuse.
        }
        let mut changes = vec![format!("UPDATE {table} SET id = id + 0"), format!("DELETE FROM {table}")];
        if postgres && table == "staff_actions" {
            changes.push(format!("TRUNCATE {table}")); // the one no foreign key refuses first
        }
        for sql in changes {
            let error = app.db.execute_unprepared(&sql).await.expect_err(&sql).to_string();
            assert!(error.contains(&format!("{table} is append-only")), "{sql}: {error}");
        }
        assert_eq!(count(table).await, before, "{table} kept every row");
    }
    let verified = get(app, &format!("/compounds/{c}/ledger/verification"), b.t.token(Role::Committee)).await;
    assert_eq!(verified["intact"], true, "{verified}");
    // Inserting goes on as before: income received after the refused changes is journalled.
    let journal = count("journal_entries").await;
    post(app, &format!("/compounds/{c}/common-income"), b.t.token(Role::Cashier), json!({ "source": "parking", "description": "公共车位 12月", "amount": "10.00", "received_on": b.today, "method": "cash" })).await;
    assert_eq!(count("journal_entries").await, journal + 1);
}
