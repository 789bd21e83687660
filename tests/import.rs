mod common;

// CSV import of units and owners (`POST /compounds/{id}/import` and `wuye import`), as a
// property company meets it: spreadsheets saved as UTF-8, UTF-8 with BOM or GBK, Chinese or
// English headers, bad rows reported by line, re-imports that change nothing.
//
// Every tenant from the harness already has 1栋-1单元-301 (owned by 王建国) and 1栋-1单元-302
// (developer-held), so a compound starts with 2 units, 1 owner and 1 building; the files here
// use other buildings.

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use wuye::auth::Role;

const HEADER_ZH: &str = "楼栋,单元,房号,楼层,用途,产权面积,实测面积,开发商持有,空置,业主姓名,联系电话,邮箱,表决代表,产权登记日期";
const HEADER_EN: &str =
    "Building,Stairwell,Number,Floor,Use,Registered_Area,Surveyed_Area,Developer_Held,Vacant,Owner_Name,Owner_Phone,Owner_Email,Designated_Voter,Owned_Since";

/// Seven rows, six units: a sole owner, a vacant unit with only a surveyed area and a phone typed
/// with spaces, a co-owned unit (two rows, one voter), two developer-held units, and 李明 owning
/// two units (one owner record). Four owners, five ownerships.
const GOOD_ROWS: &[&str] = &[
    "2栋,1单元,101,1,住宅,88.60,89.10,否,否,李明,13900001111,liming@example.com,,2015-03-20",
    "2栋,1单元,102,1,住宅,,76.5,否,是,赵丽,139 0000 2222,,,2016-07-01",
    "2栋,1单元,201,2,住宅,88.6,,否,否,张伟,13900003333,,否,2018-01-15",
    "2栋,1单元,201,2,住宅,88.6,,否,否,刘芳,13900004444,liufang@example.com,是,2018-01-15",
    "2栋,2单元,202,2,住宅,,92.00,是,否,,,,,",
    "3栋,1单元,S01,1,商业,120,,否,否,李明,13900001111,,,2019-09-09",
    "3栋,1单元,P01,-1,车位,,12.5,是,否,,,,,",
];

/// What the harness tenant has before any import.
const UNITS_BEFORE: u64 = 2;
const OWNERS_BEFORE: u64 = 1;

fn csv(header: &str, rows: &[&str], line_end: &str) -> String {
    let mut text = String::from(header);
    for row in rows {
        text.push_str(line_end);
        text.push_str(row);
    }
    text.push_str(line_end);
    text
}

fn good_file() -> String {
    csv(HEADER_ZH, GOOD_ROWS, "\n")
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "the test text must be GBK-encodable");
    assert!(std::str::from_utf8(&bytes).is_err(), "GBK bytes of Chinese text are not valid UTF-8");
    bytes.into_owned()
}

fn import_path(compound_id: i64, skip_bad_rows: bool) -> String {
    if skip_bad_rows { format!("/compounds/{compound_id}/import?skip_bad_rows=true") } else { format!("/compounds/{compound_id}/import") }
}

/// Every unit of the compound, and the total the list reports.
async fn units(app: &TestApp, token: &str, compound_id: i64) -> (u64, Vec<Value>) {
    let (status, body) = app.get(&format!("/units?compound_id={compound_id}&per_page=500"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().expect("items").clone();
    let total = body["total"].as_u64().expect("total");
    assert_eq!(items.len() as u64, total, "all units fit on one page");
    (total, items)
}

async fn owner_total(app: &TestApp, token: &str, compound_id: i64) -> u64 {
    let (status, body) = app.get(&format!("/owners?compound_id={compound_id}&per_page=500"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["total"].as_u64().expect("total")
}

async fn building_names(app: &TestApp, token: &str, compound_id: i64) -> Vec<String> {
    let (status, body) = app.get(&format!("/compounds/{compound_id}/buildings"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap().to_string()).collect()
}

fn unit<'a>(units: &'a [Value], label: &str) -> &'a Value {
    let found: Vec<&Value> = units.iter().filter(|u| u["label"] == label).collect();
    assert_eq!(found.len(), 1, "exactly one unit {label} in {units:#?}");
    found[0]
}

fn owner_names(unit: &Value) -> Vec<String> {
    let mut names: Vec<String> = unit["owners"].as_array().unwrap().iter().map(|o| o["owner"]["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

/// The compound's units outside the harness's 1栋 as one comparable line each: everything an
/// import decides.
async fn summary(app: &TestApp, token: &str, compound_id: i64) -> Vec<String> {
    let (_, items) = units(app, token, compound_id).await;
    let mut lines: Vec<String> = items
        .iter()
        .filter(|u| u["building"] != "1栋")
        .map(|u| {
            let mut owners: Vec<String> = u["owners"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| format!("{}/{}/{}/voter={}/since={}", o["owner"]["name"], o["owner"]["phone"], o["owner"]["email"], o["designated_voter"], o["since"]))
                .collect();
            owners.sort();
            format!(
                "{} floor={} use={} area={}({}) reg={} surv={} contract={} held={} vacant={} owners={}",
                u["label"],
                u["floor"],
                u["unit_use"],
                u["area"],
                u["area_kind"],
                u["registered_area"],
                u["surveyed_area"],
                u["contract_area"],
                u["developer_held"],
                u["vacant"],
                owners.join(";")
            )
        })
        .collect();
    lines.sort();
    lines
}

/// The report of a successful import, checked in full.
#[track_caller]
fn assert_report(body: &Value, rows: u64, created: u64, updated: u64, unchanged: u64, owners: u64, ownerships: u64) {
    assert_eq!(body["rows"], rows, "rows: {body}");
    assert_eq!(body["units_created"], created, "units_created: {body}");
    assert_eq!(body["units_updated"], updated, "units_updated: {body}");
    assert_eq!(body["units_unchanged"], unchanged, "units_unchanged: {body}");
    assert_eq!(body["owners_created"], owners, "owners_created: {body}");
    assert_eq!(body["ownerships_created"], ownerships, "ownerships_created: {body}");
}

/// (line, field) of each row problem, in the order given.
fn row_problems(rows: &Value) -> Vec<(u64, String)> {
    rows.as_array()
        .unwrap_or_else(|| panic!("rows must be a list: {rows}"))
        .iter()
        .map(|r| {
            assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "a row problem needs a message: {r}");
            (r["line"].as_u64().expect("line"), r["field"].as_str().expect("field").to_string())
        })
        .collect()
}

#[tokio::test]
async fn a_utf8_file_with_chinese_headers_imports_units_and_owners() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Import Co").await;
    let token = tenant.token(Role::Manager);
    let compound = tenant.compound_id;

    let (status, report) = app.upload(&import_path(compound, false), token, good_file().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_report(&report, 7, 6, 0, 0, 4, 5);
    assert_eq!(report["skipped"], serde_json::json!([]), "{report}");

    let (total, items) = units(&app, token, compound).await;
    assert_eq!(total, UNITS_BEFORE + 6);
    assert!(items.iter().all(|u| u["compound_id"] == compound), "{items:#?}");

    // A sole owner: registered area counts, and a sole owner is the unit's voter.
    let u101 = unit(&items, "2栋-1单元-101");
    assert_eq!(u101["building"], "2栋");
    assert_eq!(u101["stairwell"], "1单元");
    assert_eq!(u101["number"], "101");
    assert_eq!(u101["floor"], 1);
    assert_eq!(u101["unit_use"], "residential");
    assert_eq!(u101["area"], "88.60");
    assert_eq!(u101["area_kind"], "registered");
    assert_eq!(u101["registered_area"], "88.60");
    assert_eq!(u101["surveyed_area"], "89.10");
    assert_eq!(u101["contract_area"], Value::Null);
    assert_eq!(u101["developer_held"], false);
    assert_eq!(u101["vacant"], false);
    let owners = u101["owners"].as_array().unwrap();
    assert_eq!(owners.len(), 1, "{u101}");
    assert_eq!(owners[0]["owner"]["name"], "李明");
    assert_eq!(owners[0]["owner"]["phone"], "13900001111");
    assert_eq!(owners[0]["owner"]["email"], "liming@example.com");
    assert_eq!(owners[0]["designated_voter"], true);
    assert_eq!(owners[0]["since"], "2015-03-20");
    let li_ming = owners[0]["owner"]["id"].as_i64().unwrap();

    // Only a surveyed area: it counts, "76.5" reads as 76.50; the phone typed with spaces is normalised.
    let u102 = unit(&items, "2栋-1单元-102");
    assert_eq!(u102["area"], "76.50");
    assert_eq!(u102["area_kind"], "surveyed");
    assert_eq!(u102["registered_area"], Value::Null);
    assert_eq!(u102["vacant"], true);
    assert_eq!(owner_names(u102), ["赵丽"]);
    assert_eq!(u102["owners"][0]["owner"]["phone"], "13900002222");
    assert_eq!(u102["owners"][0]["designated_voter"], true);

    // Co-owners from two rows: both recorded, exactly one of them (the one the file names) votes.
    let u201 = unit(&items, "2栋-1单元-201");
    assert_eq!(u201["area"], "88.60");
    assert_eq!(u201["area_kind"], "registered");
    assert_eq!(owner_names(u201), ["刘芳", "张伟"]);
    let voters: Vec<&Value> = u201["owners"].as_array().unwrap().iter().filter(|o| o["designated_voter"] == true).collect();
    assert_eq!(voters.len(), 1, "{u201}");
    assert_eq!(voters[0]["owner"]["name"], "刘芳");
    assert!(u201["owners"].as_array().unwrap().iter().all(|o| o["since"] == "2018-01-15"), "{u201}");

    // Developer-held units have no owners.
    let u202 = unit(&items, "2栋-2单元-202");
    assert_eq!(u202["developer_held"], true);
    assert_eq!(u202["owners"], serde_json::json!([]));
    assert_eq!(u202["area"], "92.00");
    assert_eq!(u202["area_kind"], "surveyed");
    let p01 = unit(&items, "3栋-1单元-P01");
    assert_eq!(p01["developer_held"], true);
    assert_eq!(p01["owners"], serde_json::json!([]));
    assert_eq!(p01["floor"], -1);
    assert_eq!(p01["unit_use"], "parking");
    assert_eq!(p01["area"], "12.50");

    // 李明 owns two units and is one owner record.
    let s01 = unit(&items, "3栋-1单元-S01");
    assert_eq!(s01["unit_use"], "commercial");
    assert_eq!(s01["area"], "120.00");
    assert_eq!(owner_names(s01), ["李明"]);
    assert_eq!(s01["owners"][0]["owner"]["id"], li_ming);
    let (status, found) = app.get(&format!("/owners?compound_id={compound}&q=13900001111"), token).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(owner_total(&app, token, compound).await, OWNERS_BEFORE + 4);

    // What was there before is untouched.
    let u301 = unit(&items, "1栋-1单元-301");
    assert_eq!(owner_names(u301), ["王建国"]);

    // Buildings and stairwells were created as the file named them.
    assert_eq!(building_names(&app, token, compound).await, ["1栋", "2栋", "3栋"]);
    let building_2 = u101["building_id"].as_i64().unwrap();
    let (_, stairwells) = app.get(&format!("/buildings/{building_2}/stairwells"), token).await;
    let names: Vec<&str> = stairwells.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["1单元", "2单元"]);
}

#[tokio::test]
async fn bom_gbk_and_english_header_files_import_the_same() {
    let app = TestApp::spawn().await;
    let plain = app.tenant("Plain Co").await;
    let token = plain.token(Role::Manager);
    let (status, report) = app.upload(&import_path(plain.compound_id, false), token, good_file().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let expected = summary(&app, token, plain.compound_id).await;
    assert_eq!(expected.len(), 6);

    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(good_file().as_bytes());
    // Excel on Windows saves GBK with CRLF line ends.
    let gbk_file = gbk(&csv(HEADER_ZH, GOOD_ROWS, "\r\n"));
    let english = csv(HEADER_EN, GOOD_ROWS, "\n").into_bytes();

    for (name, bytes) in [("Bom Co", bom), ("Gbk Co", gbk_file), ("English Co", english)] {
        let tenant = app.tenant(name).await;
        let token = tenant.token(Role::Manager);
        let (status, report) = app.upload(&import_path(tenant.compound_id, false), token, bytes).await;
        assert_eq!(status, StatusCode::OK, "{name}: {report}");
        assert_report(&report, 7, 6, 0, 0, 4, 5);
        assert_eq!(summary(&app, token, tenant.compound_id).await, expected, "{name}");
    }
}

#[tokio::test]
async fn importing_the_same_file_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Again Co").await;
    let token = tenant.token(Role::Manager);
    let compound = tenant.compound_id;

    let (status, first) = app.upload(&import_path(compound, false), token, good_file().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_report(&first, 7, 6, 0, 0, 4, 5);
    let before = summary(&app, token, compound).await;

    let (status, second) = app.upload(&import_path(compound, false), token, good_file().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_report(&second, 7, 0, 0, 6, 0, 0);
    assert_eq!(second["skipped"], serde_json::json!([]), "{second}");

    // The same content as GBK is the same file too.
    let (status, third) = app.upload(&import_path(compound, false), token, gbk(&good_file())).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    assert_report(&third, 7, 0, 0, 6, 0, 0);

    let (total, items) = units(&app, token, compound).await;
    assert_eq!(total, UNITS_BEFORE + 6);
    assert_eq!(owner_total(&app, token, compound).await, OWNERS_BEFORE + 4);
    assert_eq!(owner_names(unit(&items, "2栋-1单元-201")), ["刘芳", "张伟"], "no ownership doubled");
    assert_eq!(summary(&app, token, compound).await, before);
}

/// Line numbers count the header as line 1. Good rows are mixed in among the bad ones, and the
/// two rows of the co-owned unit 2栋-2单元-301 are not next to each other.
fn bad_file() -> String {
    csv(
        HEADER_ZH,
        &[
            /* 2 */ "2栋,1单元,101,1,住宅,88.60,,否,否,李明,13900001111,,,2015-03-20",
            /* 3 */ "2栋,1单元,102,一楼,住宅,76.50,,否,否,,,,,",
            /* 4 */ "2栋,1单元,103,1,住宅,88.605,,否,否,,,,,",
            /* 5 */ "2栋,1单元,201,2,住宅,90.00,,否,否,陈静,13900008888,,,2017-05-05",
            /* 6 */ "2栋,1单元,202,2,别墅,90.00,,否,否,,,,,",
            /* 7 */ "2栋,1单元,203,2,住宅,70.00,,否,否,孙强,1380013,,,",
            /* 8 */ "2栋,2单元,301,3,住宅,95.00,,否,否,周杰,13900005555,,是,",
            /* 9 */ "3栋,1单元,S01,1,商业,120.00,,否,否,李明,13900001111,,,2019-09-09",
            /* 10 */ "2栋,2单元,301,3,住宅,95.00,,否,否,吴敏,13900006666,,是,",
            /* 11 */ "2栋,2单元,302,3,住宅,,80.00,是,否,郑华,13900007777,,,",
            /* 12 */ "3栋,1单元,P01,-1,车位,,12.50,是,否,,,,,",
        ],
        "\n",
    )
}

/// The problems of [`bad_file`]: every bad row, by line and field, in line order.
#[track_caller]
fn assert_bad_file_problems(rows: &Value) {
    let mut found = row_problems(rows);
    // Two voters is a fault of unit 2栋-2单元-301 as a whole: either of its two voter rows
    // (lines 8 and 10) is a fair line to report it on.
    for problem in &mut found {
        if problem == &(10, "designated_voter".to_string()) {
            problem.0 = 8;
        }
    }
    let expected: Vec<(u64, String)> = [
        (3, "floor"),
        (4, "registered_area"),
        (6, "use"),
        (7, "owner_phone"),
        (8, "designated_voter"),
        (11, "owner_name"),
    ]
    .iter()
    .map(|(line, field)| (*line, field.to_string()))
    .collect();
    assert_eq!(found, expected, "{rows:#}");
}

#[tokio::test]
async fn bad_rows_are_all_reported_by_line_and_nothing_is_imported() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Bad Rows Co").await;
    let token = tenant.token(Role::Manager);
    let compound = tenant.compound_id;
    let before = summary(&app, token, compound).await;

    let (status, body) = app.upload(&import_path(compound, false), token, bad_file().into_bytes()).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "rows_rejected");
    assert_bad_file_problems(&body["rows"]);

    // Nothing at all: no units, no owners, not even the buildings the good rows name.
    let (total, _) = units(&app, token, compound).await;
    assert_eq!(total, UNITS_BEFORE);
    assert_eq!(owner_total(&app, token, compound).await, OWNERS_BEFORE);
    assert_eq!(building_names(&app, token, compound).await, ["1栋"]);
    assert_eq!(summary(&app, token, compound).await, before);

    // Skipping bad rows imports the good units and lists the bad rows.
    let (status, report) = app.upload(&import_path(compound, true), token, bad_file().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // 101 (李明), 201 (陈静), S01 (李明 again), P01 (developer-held).
    assert_report(&report, 11, 4, 0, 0, 2, 3);
    assert_bad_file_problems(&report["skipped"]);

    let (total, items) = units(&app, token, compound).await;
    assert_eq!(total, UNITS_BEFORE + 4);
    let mut labels: Vec<&str> = items.iter().map(|u| u["label"].as_str().unwrap()).collect();
    labels.sort();
    assert_eq!(labels, ["1栋-1单元-301", "1栋-1单元-302", "2栋-1单元-101", "2栋-1单元-201", "3栋-1单元-P01", "3栋-1单元-S01"]);
    assert_eq!(owner_names(unit(&items, "2栋-1单元-101")), ["李明"]);
    assert_eq!(owner_names(unit(&items, "2栋-1单元-201")), ["陈静"]);
    assert_eq!(owner_total(&app, token, compound).await, OWNERS_BEFORE + 2);
}

/// "every unit with a bad row is left out whole": one bad co-owner row must not leave the unit
/// imported with only the other co-owner (who would then be its sole owner and voter).
#[tokio::test]
async fn skipping_bad_rows_leaves_out_the_whole_unit() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Whole Unit Co").await;
    let token = tenant.token(Role::Manager);
    let compound = tenant.compound_id;
    let file = csv(
        HEADER_ZH,
        &[
            /* 2 */ "2栋,1单元,101,1,住宅,88.60,,否,否,张伟,13900003333,,否,",
            /* 3 */ "2栋,1单元,101,1,住宅,88.60,,否,否,刘芳,12345,,是,",
            /* 4 */ "2栋,1单元,102,1,住宅,76.50,,否,否,赵丽,13900002222,,,",
        ],
        "\n",
    );

    let (status, body) = app.upload(&import_path(compound, false), token, file.clone().into_bytes()).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "rows_rejected");
    assert_eq!(row_problems(&body["rows"]), [(3, "owner_phone".to_string())], "{body:#}");

    let (status, report) = app.upload(&import_path(compound, true), token, file.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(row_problems(&report["skipped"]).contains(&(3, "owner_phone".to_string())), "{report:#}");
    let (_, items) = units(&app, token, compound).await;
    let labels: Vec<&str> = items.iter().map(|u| u["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"2栋-1单元-102"), "{labels:?}");
    if labels.contains(&"2栋-1单元-101") {
        let u101 = unit(&items, "2栋-1单元-101");
        panic!("2栋-1单元-101 has a bad row and must be left out whole; it was imported with owners {:?}: {report}", owner_names(u101));
    }
    assert_report(&report, 3, 1, 0, 0, 1, 1);
}

#[tokio::test]
async fn unreadable_files_are_refused_with_400() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Unreadable Co").await;
    let token = tenant.token(Role::Manager);
    let compound = tenant.compound_id;
    let path = import_path(compound, false);

    // Required columns missing: the message names each of them, and only them.
    let (status, body) = app.upload(&path, token, "楼栋,房号,用途,产权面积\n2栋,101,住宅,88.60\n".as_bytes().to_vec()).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "file", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("stairwell") && message.contains("floor"), "{body}");
    assert!(!message.contains("building") && !message.contains("number"), "only the missing columns: {body}");

    // Neither UTF-8 nor GBK: 0xFF is no byte of either.
    let mut garbage = "楼栋,单元,房号,楼层,用途,产权面积\n2栋,1单元,".as_bytes().to_vec();
    garbage.extend_from_slice(&[0xFF, 0xFF, 0xFE, 0xFF]);
    garbage.extend_from_slice(b",1,\xE4\xBD\x8F\n");
    let (status, body) = app.upload(&path, token, garbage).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "file", "{body}");

    // An empty file, and a header with no rows (with and without a trailing line end, and with a BOM).
    let empty_files = [String::new(), HEADER_ZH.to_string(), format!("{HEADER_ZH}\r\n"), format!("\u{FEFF}{HEADER_EN}\n")];
    for text in empty_files {
        let (status, body) = app.upload(&path, token, text.clone().into_bytes()).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(body["field"], "file", "{text:?}: {body}");
    }

    let (total, _) = units(&app, token, compound).await;
    assert_eq!(total, UNITS_BEFORE);
    assert_eq!(owner_total(&app, token, compound).await, OWNERS_BEFORE);
}

/// A CSV file in the temp directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let path = std::env::temp_dir().join(format!("wuye-import-{}-{unique}-{name}.csv", std::process::id()));
        std::fs::write(&path, bytes).expect("write the CSV file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs `wuye import --compound ID [extra...] FILE` against the test's database. It runs on the
/// blocking pool so that the server, on this test's runtime, keeps serving meanwhile.
async fn run_import(app: &TestApp, compound_id: i64, extra: &[&str], file: &TempFile) -> Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wuye"));
    command.arg("import").arg("--compound").arg(compound_id.to_string()).args(extra).arg(&file.0);
    command.env("WUYE_DATABASE_URL", &app.database_url).env("WUYE_LOG", "warn");
    let output = tokio::task::spawn_blocking(move || command.output().expect("run wuye")).await.unwrap();
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test]
async fn the_import_command_reports_counts_and_bad_lines() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Cli Co").await;
    let token = tenant.token(Role::Manager);
    let compound = tenant.compound_id;

    let good = TempFile::new("good", &gbk(&good_file()));
    let run = run_import(&app, compound, &[], &good).await;
    assert!(run.success, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("7 rows: 6 units created, 0 updated, 0 unchanged; 4 owners and 5 ownerships created; 0 rows skipped"),
        "stdout: {}",
        run.stdout
    );
    let (total, items) = units(&app, token, compound).await;
    assert_eq!(total, UNITS_BEFORE + 6);
    assert_eq!(owner_names(unit(&items, "2栋-1单元-201")), ["刘芳", "张伟"]);

    let again = run_import(&app, compound, &[], &good).await;
    assert!(again.success, "stdout: {}\nstderr: {}", again.stdout, again.stderr);
    assert!(again.stdout.contains("7 rows: 0 units created, 0 updated, 6 unchanged; 0 owners and 0 ownerships created"), "stdout: {}", again.stdout);

    // Bad rows: a failing exit, every bad line named, nothing written.
    let bad = TempFile::new("bad", bad_file().as_bytes());
    let other = app.tenant("Cli Bad Co").await;
    let run = run_import(&app, other.compound_id, &[], &bad).await;
    assert!(!run.success, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    for line in ["line 3: floor", "line 4: registered_area", "line 6: use", "line 7: owner_phone", "line 11: owner_name"] {
        assert!(run.stderr.contains(line), "{line} missing from stderr: {}", run.stderr);
    }
    assert!(run.stderr.contains("line 8: designated_voter") || run.stderr.contains("line 10: designated_voter"), "stderr: {}", run.stderr);
    for good_line in ["line 2:", "line 5:", "line 9:", "line 12:"] {
        assert!(!run.stderr.contains(good_line), "{good_line} is a good row: {}", run.stderr);
    }
    let (total, _) = units(&app, token, compound).await;
    assert_eq!(total, UNITS_BEFORE + 6, "the first compound is untouched");
    let other_token = other.token(Role::Manager);
    let (total, _) = units(&app, other_token, other.compound_id).await;
    assert_eq!(total, UNITS_BEFORE, "nothing imported from a file with bad rows");

    // --skip-bad-rows imports the good units and lists the skipped lines.
    let run = run_import(&app, other.compound_id, &["--skip-bad-rows"], &bad).await;
    assert!(run.success, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(run.stdout.contains("11 rows: 4 units created, 0 updated, 0 unchanged; 2 owners and 3 ownerships created; 6 rows skipped"), "stdout: {}", run.stdout);
    assert!(run.stdout.contains("line 3: floor") && run.stdout.contains("line 11: owner_name"), "stdout: {}", run.stdout);
    let (total, _) = units(&app, other_token, other.compound_id).await;
    assert_eq!(total, UNITS_BEFORE + 4);

    // A compound that does not exist is an error, not an empty success.
    let run = run_import(&app, 999_999, &[], &good).await;
    assert!(!run.success, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(run.stderr.contains("not found"), "stderr: {}", run.stderr);
}
