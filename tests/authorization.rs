//! Who may do what, and whose data they reach.
//!
//! 1. Every operation in the OpenAPI document, called by every role with valid requests against
//!    the caller's own company, is allowed or refused exactly as the table `MATRIX` says (the
//!    README's role table, written out). An operation missing from the table fails the test, so
//!    a new endpoint cannot ship without someone deciding who may call it.
//! 2. Without a valid token every operation except logging in answers 401.
//! 3. Another company's ids answer 404 (or 403 for a role refused anyway) and leak nothing;
//!    filtered lists come back empty; accounts cannot be created in another company.
//! 4. Committee members see owners' phones masked and no email or ID number; staff see them whole.
mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wuye::auth::Role::{self, *};

// ---------------------------------------------------------------------------------------------
// The expectation table
// ---------------------------------------------------------------------------------------------

/// Who may call an operation.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// No token needed: logging in.
    Public,
    /// Exactly these roles; every other role gets 403.
    Roles(&'static [Role]),
}

impl Who {
    fn admits(self, role: Role) -> bool {
        match self {
            Who::Public => true,
            Who::Roles(roles) => roles.contains(&role),
        }
    }
}

/// Every logged-in role.
const EVERYONE: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Dispatcher, Technician, Committee, Owner];
/// `Permission::ManageCompanies`.
const PLATFORM: &[Role] = &[PlatformAdmin];
/// `Permission::ManageAccounts`.
const ACCOUNT_ADMINS: &[Role] = &[PlatformAdmin, CompanyAdmin];
/// `Permission::ReadRegistry`: everyone but owners.
const READERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Dispatcher, Technician, Committee];
/// `Permission::WriteRegistry`.
const WRITERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager];
/// `Permission::ViewOwnUnits`.
const OWNERS: &[Role] = &[Owner];

/// The role x operation matrix, one line per operation of the OpenAPI document, written out by
/// hand from the README's table rather than computed from `permissions.rs`, so that a change
/// to either shows up here as a failure.
const MATRIX: &[(&str, &str, Who)] = &[
    // Sessions.
    ("POST", "/auth/login", Who::Public),
    ("POST", "/auth/logout", Who::Roles(EVERYONE)),
    ("GET", "/auth/me", Who::Roles(EVERYONE)),
    // Accounts.
    ("POST", "/users", Who::Roles(ACCOUNT_ADMINS)),
    ("GET", "/users", Who::Roles(ACCOUNT_ADMINS)),
    ("POST", "/users/{id}/disable", Who::Roles(ACCOUNT_ADMINS)),
    ("POST", "/users/{id}/enable", Who::Roles(ACCOUNT_ADMINS)),
    // Companies: creating them is the platform's; seeing one's own is reading the registry.
    ("POST", "/companies", Who::Roles(PLATFORM)),
    ("GET", "/companies", Who::Roles(READERS)),
    // The registry.
    ("POST", "/compounds", Who::Roles(WRITERS)),
    ("GET", "/compounds", Who::Roles(READERS)),
    ("GET", "/compounds/{id}", Who::Roles(READERS)),
    ("POST", "/compounds/{id}/buildings", Who::Roles(WRITERS)),
    ("GET", "/compounds/{id}/buildings", Who::Roles(READERS)),
    ("POST", "/buildings/{id}/stairwells", Who::Roles(WRITERS)),
    ("GET", "/buildings/{id}/stairwells", Who::Roles(READERS)),
    ("POST", "/stairwells/{id}/units", Who::Roles(WRITERS)),
    ("GET", "/units", Who::Roles(READERS)),
    ("GET", "/units/{id}", Who::Roles(READERS)),
    ("PATCH", "/units/{id}", Who::Roles(WRITERS)),
    ("GET", "/units/{id}/ownerships", Who::Roles(READERS)),
    ("POST", "/units/{id}/owners", Who::Roles(WRITERS)),
    ("POST", "/units/{id}/sales", Who::Roles(WRITERS)),
    ("POST", "/compounds/{id}/owners", Who::Roles(WRITERS)),
    ("GET", "/owners", Who::Roles(READERS)),
    ("GET", "/owners/{id}", Who::Roles(READERS)),
    ("POST", "/compounds/{id}/import", Who::Roles(WRITERS)),
    // An owner's own units.
    ("GET", "/me/units", Who::Roles(OWNERS)),
];

fn expectation(method: &str, path: &str) -> Who {
    MATRIX
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, who)| *who)
        .unwrap_or_else(|| panic!("{method} {path} is not in MATRIX: decide who may call it"))
}

/// Company staff and committee members: the people whose reach tenancy limits.
const COMPANY_PEOPLE: [Role; 6] = [CompanyAdmin, Manager, Cashier, Dispatcher, Technician, Committee];

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------

/// A tenant and the name it was built with; `common` logs its accounts in as `<role>@<slug>.test`.
struct Company {
    name: &'static str,
    t: Tenant,
}

impl Company {
    async fn new(app: &TestApp, name: &'static str) -> Company {
        Company { name, t: app.tenant(name).await }
    }

    fn token(&self, role: Role) -> &str {
        self.t.token(role)
    }

    fn login(&self, role: Role) -> String {
        match role {
            PlatformAdmin => ADMIN_EMAIL.to_string(),
            _ => format!("{}@{}.test", role.as_str(), self.slug()),
        }
    }

    fn slug(&self) -> String {
        self.name.to_lowercase()
    }

    /// Strings that only this company's data contains; none may appear in another's answers.
    /// (The owner's name and phone are the same in every tenant `common` builds, so they are
    /// checked only where a body must carry no data at all.)
    fn markers(&self) -> Vec<String> {
        vec![format!("{} 花园", self.name), format!("@{}.test", self.slug())]
    }
}

/// The fixture owner every tenant has, and their phone whole and masked.
const OWNER_NAME: &str = "王建国";
const OWNER_PHONE: &str = "13800131234";
const OWNER_PHONE_MASKED: &str = "138****1234";

const IMPORT_CSV: &str = "building,stairwell,number,floor,use,registered_area\n9栋,1单元,101,1,住宅,50.00\n";

/// A number no other call in this process has used, for unique names, emails and phones.
fn unique() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

enum Body {
    Empty,
    Json(Value),
    Csv(&'static str),
}

/// One concrete, valid request for an operation.
struct Call {
    path: String,
    body: Body,
    /// A token to use instead of the role's shared one (logging out must not kill that one).
    token: Option<String>,
}

/// Sends a request with an optional bearer token; returns the status and the JSON body.
async fn send(app: &TestApp, method: &str, call: &Call, token: Option<&str>) -> (StatusCode, Value) {
    let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let mut request = app.client.request(method, format!("{}{}", app.base, call.path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request = match &call.body {
        Body::Empty => request,
        Body::Json(value) => request.json(value),
        Body::Csv(text) => request.header("content-type", "application/octet-stream").body(text.as_bytes().to_vec()),
    };
    let response = request.send().await.expect("send request");
    let status = response.status();
    let text = response.text().await.expect("read body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

/// Every operation of the running server's OpenAPI document, as ("GET", "/units/{id}").
async fn spec_operations(app: &TestApp) -> Vec<(String, String)> {
    let spec: Value = app.client.get(format!("{}/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths in the spec") {
        for method in item.as_object().expect("a path item").keys() {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    assert!(operations.len() >= 20, "only {} operations in the spec", operations.len());
    operations
}

/// The table and the spec must list the same operations: one the table lacks has had no
/// decision about who may call it; one the spec lacks means the table is stale.
fn assert_matrix_matches(operations: &[(String, String)]) {
    let missing: Vec<String> = operations
        .iter()
        .filter(|(m, p)| !MATRIX.iter().any(|(tm, tp, _)| tm == m && tp == p))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(missing.is_empty(), "operations in the OpenAPI document but not in MATRIX: {missing:?}");
    let stale: Vec<String> = MATRIX
        .iter()
        .filter(|(m, p, _)| !operations.iter().any(|(om, op)| om == m && op == p))
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert!(stale.is_empty(), "MATRIX lists operations the OpenAPI document does not have: {stale:?}");
}

/// A fresh owner (without a login) in the company's compound.
async fn fresh_owner(app: &TestApp, company: &Company) -> i64 {
    let path = format!("/compounds/{}/owners", company.t.compound_id);
    let (status, body) = app.post(&path, company.token(PlatformAdmin), json!({ "name": format!("业主{}", unique()) })).await;
    assert_eq!(status, StatusCode::OK, "fresh owner: {body}");
    body["id"].as_i64().unwrap()
}

/// A fresh technician login in the company, to disable or enable.
async fn fresh_account(app: &TestApp, company: &Company) -> i64 {
    let account = json!({
        "role": "technician",
        "name": format!("Tech {}", unique()),
        "email": format!("tech{}@{}.test", unique(), company.slug()),
        "password": PASSWORD,
        "company_id": company.t.company_id,
    });
    let (status, body) = app.post("/users", company.token(PlatformAdmin), account).await;
    assert_eq!(status, StatusCode::OK, "fresh account: {body}");
    body["id"].as_i64().unwrap()
}

/// A valid request for `method path` by `role` of `caller`. Ids in the path come from
/// `target`, ids in the body from `caller`: in the tenancy test they differ, so the path id is
/// the only thing that crosses companies and the only reason for a refusal. Names are unique
/// so that an allowed call never meets a 409.
async fn call_for(app: &TestApp, method: &str, path: &str, target: &Company, caller: &Company, role: Role) -> Call {
    let t = &target.t;
    let n = unique();
    let at = |id: i64| path.replace("{id}", &id.to_string());
    let json_call = |path: String, body: Value| Call { path, body: Body::Json(body), token: None };
    let plain = |path: String| Call { path, body: Body::Empty, token: None };
    match (method, path) {
        ("POST", "/auth/login") => json_call(path.into(), json!({ "login": caller.login(role), "password": PASSWORD })),
        // A session of its own, so the shared token survives.
        ("POST", "/auth/logout") => Call { path: path.into(), body: Body::Empty, token: Some(app.token(&caller.login(role)).await) },
        ("GET", "/auth/me" | "/users" | "/companies" | "/compounds" | "/units" | "/owners" | "/me/units") => plain(path.into()),
        ("POST", "/users") => json_call(
            path.into(),
            json!({
                "role": "technician",
                "name": format!("New {n}"),
                "email": format!("new{n}@{}.test", caller.slug()),
                "password": PASSWORD,
                "company_id": caller.t.company_id,
            }),
        ),
        ("POST", "/users/{id}/disable" | "/users/{id}/enable") => plain(at(fresh_account(app, target).await)),
        ("POST", "/companies") => json_call(path.into(), json!({ "name": format!("Company {n}") })),
        ("POST", "/compounds") => {
            json_call(path.into(), json!({ "company_id": caller.t.company_id, "name": format!("小区{n}"), "address": "2 Road" }))
        }
        ("GET", "/compounds/{id}" | "/compounds/{id}/buildings") => plain(at(t.compound_id)),
        ("POST", "/compounds/{id}/buildings") => json_call(at(t.compound_id), json!({ "name": format!("{n}栋") })),
        ("GET", "/buildings/{id}/stairwells") => plain(at(t.building_id)),
        ("POST", "/buildings/{id}/stairwells") => json_call(at(t.building_id), json!({ "name": format!("{n}单元") })),
        ("POST", "/stairwells/{id}/units") => json_call(
            at(t.stairwell_id),
            json!({ "floor": 5, "number": format!("5{n:03}"), "unit_use": "residential", "registered_area": "60.00" }),
        ),
        ("GET", "/units/{id}" | "/units/{id}/ownerships") => plain(at(t.unit_id)),
        ("PATCH", "/units/{id}") => json_call(at(t.unit_id), json!({ "floor": 4, "vacant": true })),
        ("POST", "/units/{id}/owners") => {
            let owner_id = fresh_owner(app, caller).await;
            json_call(at(t.unit_id), json!({ "owner_id": owner_id, "started_on": "2020-01-01" }))
        }
        // Each sale ends the previous buyer's ownership on the same day, which is allowed.
        ("POST", "/units/{id}/sales") => {
            let owner_id = fresh_owner(app, caller).await;
            json_call(at(t.developer_unit_id), json!({ "date": "2024-06-01", "buyers": [{ "owner_id": owner_id }] }))
        }
        ("POST", "/compounds/{id}/owners") => {
            json_call(at(t.compound_id), json!({ "name": format!("业主{n}"), "phone": format!("139{n:08}") }))
        }
        ("GET", "/owners/{id}") => plain(at(t.owner_id)),
        // Importing the same file again changes nothing, so repeated calls all succeed.
        ("POST", "/compounds/{id}/import") => Call { path: at(t.compound_id), body: Body::Csv(IMPORT_CSV), token: None },
        _ => panic!("no request recipe for {method} {path}: add one to call_for"),
    }
}

/// The keys a problem body may have; any other key would be data.
const PROBLEM_KEYS: &[&str] = &["code", "message", "field", "rows"];

/// Checks an error answer: the status, the code, a message, and nothing but the problem shape.
fn problem_mismatch(status: StatusCode, body: &Value, expected: StatusCode, code: &str) -> Option<String> {
    let keys_ok = body.as_object().is_some_and(|o| o.keys().all(|k| PROBLEM_KEYS.contains(&k.as_str())));
    let message_ok = body["message"].as_str().is_some_and(|m| !m.is_empty());
    (status != expected || body["code"] != code || !message_ok || !keys_ok)
        .then(|| format!("expected {expected} {code:?}, got {status} {body}"))
}

/// Checks a successful answer: 2xx with a JSON object or array that is not a problem.
fn success_mismatch(status: StatusCode, body: &Value) -> Option<String> {
    let is_data = body.is_array() || (body.is_object() && body.get("code").is_none_or(|c| !c.is_string()));
    (!status.is_success() || !is_data).then(|| format!("expected 2xx with data, got {status} {body}"))
}

/// Beyond "2xx with data": what an allowed call's answer must say, where that is cheap to know.
fn answer_mismatch(call: &Call, role: Role, company: &Company, body: &Value) -> Option<String> {
    // Whatever was created carries the name it was given.
    if let Body::Json(sent) = &call.body
        && let (Some(name), Some(got)) = (sent.get("name"), body.get("name"))
        && name != got
    {
        return Some(format!("sent name {name}, got {body}"));
    }
    // Answers about the caller name the caller's role.
    let me = match call.path.as_str() {
        "/auth/login" => &body["me"],
        "/auth/me" | "/auth/logout" => body,
        _ => &Value::Null,
    };
    if !me.is_null() && me["role"] != role.as_str() {
        return Some(format!("expected role {}, got {body}", role.as_str()));
    }
    // An owner's own units are exactly the unit they own.
    if call.path == "/me/units" && body.as_array().is_none_or(|units| units.len() != 1 || units[0]["id"] != company.t.unit_id) {
        return Some(format!("expected unit {}, got {body}", company.t.unit_id));
    }
    None
}

const NOT_FOUND: (StatusCode, &str) = (StatusCode::NOT_FOUND, "not_found");
const FORBIDDEN: (StatusCode, &str) = (StatusCode::FORBIDDEN, "forbidden");
const INVALID: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "validation_failed");

/// Checks a refusal that may take one of several forms (e.g. 404 or 403).
fn refusal_mismatch(status: StatusCode, body: &Value, accepted: &[(StatusCode, &str)]) -> Option<String> {
    match accepted.iter().find(|(s, _)| *s == status) {
        Some((expected, code)) => problem_mismatch(status, body, *expected, code),
        None => Some(format!("expected one of {accepted:?}, got {status} {body}")),
    }
}

/// Fails with every collected mismatch at once, so one run shows the whole picture.
fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(failures.is_empty(), "{what}: {} failures:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 1. The role x operation matrix
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_operation_admits_exactly_the_roles_in_the_matrix() {
    let app = TestApp::spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let operations = spec_operations(&app).await;
    assert_matrix_matches(&operations);

    let mut failures = Vec::new();
    for (method, path) in &operations {
        let who = expectation(method, path);
        for role in Role::ALL {
            let call = call_for(&app, method, path, &alpha, &alpha, role).await;
            let token = call.token.clone().unwrap_or_else(|| alpha.token(role).to_string());
            let (status, body) = send(&app, method, &call, Some(&token)).await;
            let mismatch = if who.admits(role) {
                success_mismatch(status, &body).or_else(|| answer_mismatch(&call, role, &alpha, &body))
            } else {
                problem_mismatch(status, &body, StatusCode::FORBIDDEN, "forbidden")
            };
            if let Some(mismatch) = mismatch {
                failures.push(format!("{method} {path} as {}: {mismatch}", role.as_str()));
            }
        }
    }
    assert_no_failures("role x operation matrix", &failures);
}

#[tokio::test]
async fn every_operation_but_login_needs_a_valid_token() {
    let app = TestApp::spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let operations = spec_operations(&app).await;
    assert_matrix_matches(&operations);

    // A token that was valid once: logged out.
    let revoked = app.token(&alpha.login(Manager)).await;
    let (status, body) = app.post("/auth/logout", &revoked, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let bogus = format!("wy_{}", "0".repeat(64));
    let mut failures = Vec::new();
    for (method, path) in &operations {
        let call = call_for(&app, method, path, &alpha, &alpha, Manager).await;
        if matches!(expectation(method, path), Who::Public) {
            // Logging in is the one thing done without a token.
            let (status, body) = send(&app, method, &call, None).await;
            if let Some(mismatch) = success_mismatch(status, &body) {
                failures.push(format!("{method} {path} without a token: {mismatch}"));
            }
            continue;
        }
        for (what, token) in [("no token", None), ("an unknown token", Some(bogus.as_str())), ("a revoked token", Some(revoked.as_str()))] {
            let (status, body) = send(&app, method, &call, token).await;
            if let Some(mismatch) = problem_mismatch(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated") {
                failures.push(format!("{method} {path} with {what}: {mismatch}"));
            }
        }
    }
    assert_no_failures("authentication", &failures);
}

// ---------------------------------------------------------------------------------------------
// 2. Tenancy
// ---------------------------------------------------------------------------------------------

/// Checks that an answer to Beta carries none of Alpha's data.
fn leaks(body: &Value, alpha: &Company) -> Option<String> {
    let text = body.to_string();
    alpha.markers().into_iter().find(|marker| text.contains(marker.as_str())).map(|m| format!("leaks {m:?}: {text}"))
}

#[tokio::test]
async fn another_companys_ids_are_not_found_and_leak_nothing() {
    let app = TestApp::spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let beta = Company::new(&app, "Beta").await;
    let operations = spec_operations(&app).await;
    assert_matrix_matches(&operations);

    // Every operation that takes an id in its path, by Beta's people with Alpha's ids. Roles
    // the matrix admits must get 404, as for an id that does not exist; the others 403, which
    // says nothing about the id either. Either way the body is a bare problem: no owner name,
    // no phone, nothing else.
    let with_id: Vec<_> = operations.iter().filter(|(_, path)| path.contains("{id}")).collect();
    assert!(with_id.len() >= 15, "only {} operations take an id", with_id.len());
    let mut failures = Vec::new();
    for (method, path) in with_id {
        let who = expectation(method, path);
        for role in COMPANY_PEOPLE {
            let call = call_for(&app, method, path, &alpha, &beta, role).await;
            let (status, body) = send(&app, method, &call, Some(beta.token(role))).await;
            let (expected, code) =
                if who.admits(role) { (StatusCode::NOT_FOUND, "not_found") } else { (StatusCode::FORBIDDEN, "forbidden") };
            let text = body.to_string();
            let mismatch = problem_mismatch(status, &body, expected, code)
                .or_else(|| leaks(&body, &alpha))
                .or_else(|| [OWNER_NAME, OWNER_PHONE, OWNER_PHONE_MASKED].iter().find(|s| text.contains(*s)).map(|s| format!("leaks {s:?}")));
            if let Some(mismatch) = mismatch {
                failures.push(format!("{method} {} as Beta's {}: {mismatch}", call.path, role.as_str()));
            }
        }
    }

    // List filters naming Alpha's compound, building or stairwell find nothing for Beta.
    let filtered = [
        format!("/units?compound_id={}", alpha.t.compound_id),
        format!("/units?building_id={}", alpha.t.building_id),
        format!("/units?stairwell_id={}", alpha.t.stairwell_id),
        format!("/owners?compound_id={}", alpha.t.compound_id),
    ];
    for role in COMPANY_PEOPLE {
        for path in &filtered {
            let (status, body) = app.get(path, beta.token(role)).await;
            let empty = body["total"] == 0 && body["items"].as_array().is_some_and(Vec::is_empty);
            if status != StatusCode::OK || !empty {
                failures.push(format!("GET {path} as Beta's {}: expected 200 with no items, got {status} {body}", role.as_str()));
            }
        }
    }
    assert_no_failures("Beta reaching Alpha's ids", &failures);

    // And none of the refused writes changed anything of Alpha's.
    assert_alpha_untouched(&app, &alpha).await;
}

/// Alpha's registry and accounts are as `common` built them.
async fn assert_alpha_untouched(app: &TestApp, alpha: &Company) {
    let token = alpha.token(CompanyAdmin);
    let (_, unit) = app.get(&format!("/units/{}", alpha.t.unit_id), token).await;
    assert_eq!((unit["floor"].as_i64(), unit["vacant"].as_bool()), (Some(3), Some(false)), "{unit}");
    let owners: Vec<&Value> = unit["owners"].as_array().unwrap().iter().map(|o| &o["owner"]["name"]).collect();
    assert_eq!(owners, [OWNER_NAME], "{unit}");
    let (_, held) = app.get(&format!("/units/{}", alpha.t.developer_unit_id), token).await;
    assert_eq!(held["developer_held"], true, "{held}");
    assert_eq!(held["owners"], json!([]), "{held}");
    let (_, buildings) = app.get(&format!("/compounds/{}/buildings", alpha.t.compound_id), token).await;
    assert_eq!(names(&buildings), ["1栋"], "the import or a new building reached Alpha");
    let (_, stairwells) = app.get(&format!("/buildings/{}/stairwells", alpha.t.building_id), token).await;
    assert_eq!(names(&stairwells), ["1单元"]);
    let (_, units) = app.get(&format!("/units?compound_id={}", alpha.t.compound_id), token).await;
    assert_eq!(units["total"], 2, "{units}");
    let (_, owners) = app.get(&format!("/owners?compound_id={}", alpha.t.compound_id), token).await;
    assert_eq!(owners["total"], 1, "{owners}");
    let (_, accounts) = app.get("/users", token).await;
    let disabled: Vec<&Value> = accounts.as_array().unwrap().iter().filter(|a| a["disabled"] == true).collect();
    assert!(disabled.is_empty(), "Beta disabled Alpha's accounts: {disabled:?}");
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array().expect("a list").iter().map(|item| item["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn unfiltered_lists_show_only_the_callers_company() {
    let app = TestApp::spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let beta = Company::new(&app, "Beta").await;
    let mut failures = Vec::new();
    for role in COMPANY_PEOPLE {
        let token = beta.token(role);
        let (_, companies) = app.get("/companies", token).await;
        let ids: Vec<i64> = companies.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        if ids != [beta.t.company_id] {
            failures.push(format!("GET /companies as Beta's {}: {companies}", role.as_str()));
        }
        let (_, compounds) = app.get("/compounds", token).await;
        let ids: Vec<i64> = compounds.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        if ids != [beta.t.compound_id] {
            failures.push(format!("GET /compounds as Beta's {}: {compounds}", role.as_str()));
        }
        for path in ["/units", "/owners"] {
            let (_, page) = app.get(path, token).await;
            let foreign = page["items"].as_array().unwrap().iter().any(|i| i["compound_id"] != beta.t.compound_id);
            if foreign || page["total"] != page["items"].as_array().unwrap().len() || leaks(&page, &alpha).is_some() {
                failures.push(format!("GET {path} as Beta's {}: {page}", role.as_str()));
            }
        }
    }
    let (_, accounts) = app.get("/users", beta.token(CompanyAdmin)).await;
    if accounts.as_array().unwrap().iter().any(|a| a["company_id"] != beta.t.company_id) {
        failures.push(format!("GET /users as Beta's company_admin: {accounts}"));
    }
    assert_no_failures("lists", &failures);
}

#[tokio::test]
async fn a_company_admin_cannot_create_accounts_or_compounds_in_another_company() {
    let app = TestApp::spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let beta = Company::new(&app, "Beta").await;
    // An Alpha owner without a login, so only tenancy can stop Beta linking a login to it.
    let alpha_owner = fresh_owner(&app, &alpha).await;
    let boss = beta.token(CompanyAdmin);

    let account = |role: &str, email: &str, extra: Value| {
        let mut body = json!({ "role": role, "name": "Intruder", "email": email, "password": PASSWORD });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let cases = [
        ("manager", json!({ "company_id": alpha.t.company_id })),
        ("company_admin", json!({ "company_id": alpha.t.company_id })),
        ("manager", json!({ "compound_ids": [alpha.t.compound_id] })),
        ("manager", json!({ "company_id": alpha.t.company_id, "compound_ids": [alpha.t.compound_id] })),
        ("committee", json!({ "compound_ids": [alpha.t.compound_id] })),
        ("owner", json!({ "owner_ids": [alpha_owner] })),
        ("owner", json!({ "company_id": alpha.t.company_id, "owner_ids": [alpha_owner] })),
    ];
    let mut failures = Vec::new();
    for (i, (role, extra)) in cases.into_iter().enumerate() {
        let email = format!("intruder{i}@beta.test");
        let (status, body) = app.post("/users", boss, account(role, &email, extra.clone())).await;
        // 404 like any id the caller cannot see, or 403; either way a bare problem.
        if let Some(mismatch) = refusal_mismatch(status, &body, &[NOT_FOUND, FORBIDDEN]) {
            failures.push(format!("POST /users {role} {extra}: {mismatch}"));
        }
        // Whatever the answer, no such login may exist.
        let (status, _) = app.login(&email, PASSWORD).await;
        if status != StatusCode::UNAUTHORIZED {
            failures.push(format!("POST /users {role} {extra}: the account was created anyway (login gave {status})"));
        }
    }
    // Nor may a company administrator make a platform administrator.
    let (status, body) = app.post("/users", boss, json!({ "role": "platform_admin", "name": "Root", "email": "root@beta.test", "password": PASSWORD })).await;
    if let Some(mismatch) = problem_mismatch(status, &body, StatusCode::FORBIDDEN, "forbidden") {
        failures.push(format!("POST /users platform_admin by Beta's company_admin: {mismatch}"));
    }

    // Compounds are created only in one's own company.
    for role in [CompanyAdmin, Manager] {
        let body = json!({ "company_id": alpha.t.company_id, "name": "潜入小区", "address": "3 Road" });
        let (status, body) = app.post("/compounds", beta.token(role), body).await;
        if let Some(mismatch) = problem_mismatch(status, &body, StatusCode::NOT_FOUND, "not_found") {
            failures.push(format!("POST /compounds into Alpha as Beta's {}: {mismatch}", role.as_str()));
        }
    }
    assert_no_failures("creating in another company", &failures);

    // Alpha's owner is still without a login, and Alpha still has one compound.
    let (_, owner) = app.get(&format!("/owners/{alpha_owner}"), alpha.token(Manager)).await;
    assert_eq!(owner["has_login"], false, "{owner}");
    let (_, compounds) = app.get("/compounds", alpha.token(Manager)).await;
    assert_eq!(compounds.as_array().unwrap().len(), 1, "{compounds}");
}

#[tokio::test]
async fn a_company_admin_limited_to_some_compounds_cannot_create_wider_accounts() {
    let app = TestApp::spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let boss = alpha.token(CompanyAdmin);
    let (status, second) = app.post("/compounds", boss, json!({ "name": "Alpha 二期", "address": "4 Road" })).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second = second["id"].as_i64().unwrap();
    let limited = json!({ "role": "company_admin", "name": "Limited", "email": "limited@alpha.test", "password": PASSWORD, "compound_ids": [alpha.t.compound_id] });
    let (status, body) = app.post("/users", boss, limited).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let limited = app.token("limited@alpha.test").await;

    // Within its compound it manages accounts as usual.
    let (status, body) = app
        .post("/users", &limited, json!({ "role": "manager", "name": "Ok", "email": "ok@alpha.test", "password": PASSWORD, "compound_ids": [alpha.t.compound_id] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // An account without a compound list reaches every compound of the company, including the
    // ones its creator cannot see; and `POST /users/{id}/disable` already refuses such an
    // account to a limited administrator. So creating one must be refused too, like naming a
    // compound outside its reach.
    let cases = [
        ("manager", json!([])),
        ("cashier", json!([])),
        ("company_admin", json!([])),
        ("manager", json!([second])),
        ("manager", json!([alpha.t.compound_id, second])),
    ];
    let mut failures = Vec::new();
    for (i, (role, compounds)) in cases.into_iter().enumerate() {
        let email = format!("wider{i}@alpha.test");
        let account = json!({ "role": role, "name": "Wider", "email": email, "password": PASSWORD, "compound_ids": compounds });
        let (status, body) = app.post("/users", &limited, account).await;
        if let Some(mismatch) = refusal_mismatch(status, &body, &[FORBIDDEN, NOT_FOUND, INVALID]) {
            failures.push(format!("POST /users {role} compound_ids={compounds} by a limited company_admin: {mismatch}"));
        }
        let (status, _) = app.login(&email, PASSWORD).await;
        if status != StatusCode::UNAUTHORIZED {
            failures.push(format!("POST /users {role} compound_ids={compounds}: the account exists (login gave {status})"));
        }
    }
    assert_no_failures("a limited company administrator", &failures);
}

// ---------------------------------------------------------------------------------------------
// 3. What a committee member sees of owners
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn committee_members_see_owners_masked_and_staff_see_them_whole() {
    let app = TestApp::spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let t = &alpha.t;
    // A co-owner with every personal detail, next to the fixture owner (phone and email only).
    let (status, li) = app
        .post(
            &format!("/compounds/{}/owners", t.compound_id),
            alpha.token(Manager),
            json!({ "name": "李秀英", "phone": "139 1234 5678", "email": "li@alpha.test", "id_number": "11010119900307123X" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{li}");
    let li_id = li["id"].as_i64().unwrap();
    let (status, body) =
        app.post(&format!("/units/{}/owners", t.unit_id), alpha.token(Manager), json!({ "owner_id": li_id, "started_on": "2015-03-01" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // (name, phone, masked phone, email, masked ID number)
    let people = [
        (OWNER_NAME, OWNER_PHONE, OWNER_PHONE_MASKED, "owner@alpha.test", None),
        ("李秀英", "13912345678", "139****5678", "li@alpha.test", Some("110***********123X")),
    ];
    // Every answer that carries owners.
    let paths = [
        format!("/owners/{}", t.owner_id),
        format!("/owners/{li_id}"),
        format!("/owners?compound_id={}", t.compound_id),
        "/owners".to_string(),
        format!("/units/{}", t.unit_id),
        format!("/units?compound_id={}", t.compound_id),
    ];

    let mut failures = Vec::new();
    for role in READERS.iter().copied() {
        for path in &paths {
            let (status, body) = app.get(path, alpha.token(role)).await;
            if status != StatusCode::OK {
                failures.push(format!("GET {path} as {}: {status} {body}", role.as_str()));
                continue;
            }
            let views = owner_views(&body);
            if views.is_empty() {
                failures.push(format!("GET {path} as {}: no owners in {body}", role.as_str()));
            }
            for view in views {
                let Some((_, phone, masked, email, id_number)) = people.iter().find(|p| view["name"] == p.0) else { continue };
                let (want_phone, want_email, want_id) = if role == Committee {
                    (json!(masked), Value::Null, Value::Null)
                } else {
                    (json!(phone), json!(email), json!(id_number))
                };
                let got = (&view["phone"], &view["email"], &view["id_number_masked"]);
                if got != (&want_phone, &want_email, &want_id) {
                    failures.push(format!("GET {path} as {}: expected {want_phone} {want_email} {want_id}, got {view}", role.as_str()));
                }
            }
            // Belt and braces: the committee's answer contains no full phone or email anywhere.
            if role == Committee {
                let text = body.to_string();
                for secret in ["13800131234", "13912345678", "owner@alpha.test", "li@alpha.test", "110***********123X"] {
                    if text.contains(secret) {
                        failures.push(format!("GET {path} as committee: contains {secret}: {text}"));
                    }
                }
            }
        }
    }
    assert_no_failures("owner details by role", &failures);
}

/// The owner objects in any answer: an owner, a page of owners, a unit, or a page of units.
fn owner_views(body: &Value) -> Vec<&Value> {
    fn from_unit(unit: &Value) -> Vec<&Value> {
        unit["owners"].as_array().into_iter().flatten().map(|o| &o["owner"]).collect()
    }
    if let Some(items) = body["items"].as_array() {
        items.iter().flat_map(|item| if item.get("owners").is_some() { from_unit(item) } else { vec![item] }).collect()
    } else if body.get("owners").is_some() {
        from_unit(body)
    } else {
        vec![body]
    }
}

#[tokio::test]
async fn committee_members_cannot_search_by_the_hidden_digits_of_a_phone() {
    let app = TestApp::spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    // 138****1234 hides "0013". A search matching hidden digits would confirm them, and a few
    // dozen searches would rebuild the whole number; searching the full number confirms it.
    let mut failures = Vec::new();
    for q in ["0013", OWNER_PHONE] {
        for path in [format!("/owners?q={q}"), format!("/units?q={q}")] {
            let (status, body) = app.get(&path, alpha.token(Committee)).await;
            let empty = body["total"] == 0 && body["items"].as_array().is_some_and(Vec::is_empty);
            if status != StatusCode::OK || !empty {
                failures.push(format!("GET {path} as committee: expected 200 with no items, got {status} {body}"));
            }
            // Staff, who see the phone, find the owner by it.
            let (status, body) = app.get(&path, alpha.token(Manager)).await;
            if status != StatusCode::OK || body["total"] != 1 {
                failures.push(format!("GET {path} as manager: expected the one match, got {status} {body}"));
            }
        }
    }
    // What a committee member does see, the name, they may search by.
    let (status, body) = app.get(&format!("/owners?q={OWNER_NAME}"), alpha.token(Committee)).await;
    if status != StatusCode::OK || body["total"] != 1 {
        failures.push(format!("GET /owners?q={OWNER_NAME} as committee: expected the one match, got {status} {body}"));
    }
    assert_no_failures("committee searches", &failures);
}
