//! Who may do what, and whose data they reach.
//!
//! 1. Every operation in the OpenAPI document, called by every role with valid requests against
//!    the caller's own company, is allowed or refused exactly as the table `MATRIX` says (the
//!    README's role table, written out). An operation missing from the table fails the test, so
//!    a new endpoint cannot ship without someone deciding who may call it.
//!    The payment gateway's callback carries no token: without a valid signature it answers
//!    401 whoever sends it.
//! 2. Without a valid token every operation except logging in (and the signed callback)
//!    answers 401.
//! 3. Another company's ids answer 404 (or 403 for a role refused anyway) and leak nothing;
//!    filtered lists come back empty; accounts cannot be created in another company; an owner
//!    reaches only their own units' money.
//! 4. Committee members see owners' phones masked and no email or ID number; staff see them whole.
mod common;

use chrono::Datelike;

use common::{fixtures::*, *};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wuye::{
    auth::Role::{self, *},
    payments::gateway::BuiltinGateway,
};

// ---------------------------------------------------------------------------------------------
// The expectation table
// ---------------------------------------------------------------------------------------------

/// Who may call an operation.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// No token needed: logging in.
    Public,
    /// No token: the payment gateway's callback, authenticated by its HMAC signature
    /// (`X-Wuye-Signature`). Without a valid one it is 401, whatever token comes with it.
    Signed,
    /// Exactly these roles; every other role gets 403.
    Roles(&'static [Role]),
}

impl Who {
    fn admits(self, role: Role) -> bool {
        match self {
            Who::Public | Who::Signed => true,
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
/// `Permission::ManageFees`, `RunBills`, `AdjustBills` and `ReversePayments`: the office.
const OFFICE: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager];
/// `Permission::ReadBilling`: fee items, bill runs.
const BILLING_READERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Committee];
/// A unit's money (bills, payments, balance, statement, payment orders): `ReadBilling`, or
/// `PayOwnBills` for the owner's own units. The recipes use the fixture owner's unit, so the
/// owner is admitted; another unit answers them 404 (see the tenancy tests).
const UNIT_MONEY: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Committee, Owner];
/// `Permission::CollectPayments`: the cashier desk.
const DESK: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier];
/// `Permission::ReadLedger`: the journal and its audit.
const LEDGER_READERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Committee];
/// `Permission::PayOwnBills`: ordering online payment.
const PAYERS: &[Role] = &[Owner];
/// `Permission::FileTickets`: owners, and the desk for an owner who phones.
const TICKET_FILERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Dispatcher, Owner];
/// `Permission::ReadTickets`: the recipes use tickets of the fixture owner's unit assigned to the
/// fixture technician, so all of these are admitted.
const TICKET_READERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Dispatcher, Technician, Owner];
/// `Permission::DispatchTickets`: the service desk.
const TICKET_DESK: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Dispatcher];
/// `Permission::ReadTicketStats`.
const TICKET_STATS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Committee];
/// `Permission::ReadNotices`: everyone but owners.
const NOTICE_READERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Dispatcher, Technician, Committee];
/// One notice or its attachment: `ReadNotices`, or `ReadOwnNotices` for a published notice
/// addressed to the owner's unit (the recipes publish one to the whole compound).
const NOTICE_VIEWERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Dispatcher, Technician, Committee, Owner];
/// `Permission::WriteNotices`: staff who write notices, and the compound's committee. Each side
/// changes the notices it wrote; the recipes give each caller a notice of its own side.
const NOTICE_WRITERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Committee];
/// `Permission::ReadFund`: sub-ledgers, the check against the journal, repair projects.
const FUND_READERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Committee];
/// A unit's sub-ledger: `ReadFund`, or `ViewOwnUnits` for the owner's own units. The recipe
/// uses the fixture owner's unit, so the owner is admitted; another unit answers them 404.
const UNIT_FUND: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Committee, Owner];
/// `Permission::ManageFund`: the standard, initial deposits, allocations. (Top-ups are the
/// desk's: `CollectPayments`, `DESK`.)
const FUND_MANAGERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager];
/// `Permission::ManageFundProjects`: create a repair project, put it to the vote, start, settle.
const FUND_PROJECTS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager];
/// `Permission::OpenVotes`: staff and the committee.
const VOTE_OPENERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Committee];
/// `Permission::ReadVotes`: votes, electorates, ballots, tallies, scans and elevator plans.
const VOTE_READERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Committee];
/// A vote itself: `ReadVotes`, or `CastBallots` for an owner of a unit in its compound (the
/// recipes' votes are in the fixture owner's compound, so the owner is admitted).
const VOTE_VIEWERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Cashier, Committee, Owner];
/// `Permission::CastBallots`: one's own ballot, and the votes one stands in.
const VOTERS: &[Role] = &[Owner];
/// `Permission::RecordPaperBallots`: a signed paper ballot with its scan.
const PAPER_BALLOTS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager];
/// `Permission::ManageElevatorPlans`: a retrofit plan and its shares as bills.
const ELEVATOR_PLANNERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager];
/// An elevator plan's running-cost fee item: `ReadVotes` (to reach the plan) and `ManageFees`.
const ELEVATOR_FEES: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager];
/// `Permission::ReadAudit`: the committee's audit desk, and the staff who read the ledger.
const AUDITORS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Committee];
/// `Permission::PublishDisclosures`: publishing the annual disclosure pack as a notice.
const DISCLOSERS: &[Role] = &[PlatformAdmin, CompanyAdmin, Manager, Committee];

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
    // Fee items, meter readings, bill runs: the office runs them, billing readers see them.
    ("POST", "/compounds/{id}/fee-items", Who::Roles(OFFICE)),
    ("GET", "/compounds/{id}/fee-items", Who::Roles(BILLING_READERS)),
    ("POST", "/fee-items/{id}/readings", Who::Roles(OFFICE)),
    ("POST", "/compounds/{id}/bill-runs", Who::Roles(OFFICE)),
    ("POST", "/bill-runs", Who::Roles(OFFICE)),
    ("GET", "/compounds/{id}/bill-runs", Who::Roles(BILLING_READERS)),
    ("POST", "/compounds/{id}/prepaid-applications", Who::Roles(OFFICE)),
    // Bills.
    ("GET", "/units/{id}/bills", Who::Roles(UNIT_MONEY)),
    ("GET", "/bills/{id}", Who::Roles(UNIT_MONEY)),
    ("POST", "/bills/{id}/adjustments", Who::Roles(OFFICE)),
    // The cashier desk; reversals are the office's.
    ("POST", "/units/{id}/payments", Who::Roles(DESK)),
    ("GET", "/units/{id}/payments", Who::Roles(UNIT_MONEY)),
    ("GET", "/payments/{id}", Who::Roles(UNIT_MONEY)),
    ("POST", "/payments/{id}/reversal", Who::Roles(OFFICE)),
    ("POST", "/units/{id}/refunds", Who::Roles(DESK)),
    ("GET", "/units/{id}/balance", Who::Roles(UNIT_MONEY)),
    ("GET", "/units/{id}/statement", Who::Roles(UNIT_MONEY)),
    ("GET", "/units/{id}/statement.csv", Who::Roles(UNIT_MONEY)),
    ("POST", "/compounds/{id}/common-income", Who::Roles(DESK)),
    // Online payment: the owner orders, the gateway calls back.
    ("POST", "/payment-orders", Who::Roles(PAYERS)),
    ("GET", "/payment-orders/{id}", Who::Roles(UNIT_MONEY)),
    ("POST", "/gateway/builtin/callback", Who::Signed),
    // The ledger and the owners' common-area income, for audit.
    ("GET", "/compounds/{id}/ledger/verification", Who::Roles(LEDGER_READERS)),
    ("GET", "/compounds/{id}/ledger/entries", Who::Roles(LEDGER_READERS)),
    ("GET", "/compounds/{id}/common-income", Who::Roles(LEDGER_READERS)),
    // Arrears reminders of a unit, as they were sent.
    ("GET", "/units/{id}/reminders", Who::Roles(UNIT_MONEY)),
    // Scheduled jobs and the email outbox: `RunJobs` and `ManageOutbox`, the office's.
    ("GET", "/jobs", Who::Roles(OFFICE)),
    ("GET", "/jobs/runs", Who::Roles(OFFICE)),
    ("POST", "/jobs/runs", Who::Roles(OFFICE)),
    ("GET", "/jobs/runs/{id}", Who::Roles(OFFICE)),
    ("GET", "/outbox", Who::Roles(OFFICE)),
    ("GET", "/outbox/{id}", Who::Roles(OFFICE)),
    ("POST", "/outbox/{id}/retry", Who::Roles(OFFICE)),
    // Repair tickets. Moving one is for its owner, the desk and its technician, each within
    // the moves their side may make; rating is the owner's; the cost and the setup the office's.
    ("POST", "/tickets", Who::Roles(TICKET_FILERS)),
    ("GET", "/tickets", Who::Roles(TICKET_READERS)),
    ("GET", "/tickets/{id}", Who::Roles(TICKET_READERS)),
    ("POST", "/tickets/{id}/transitions", Who::Roles(TICKET_READERS)),
    ("POST", "/tickets/{id}/assignment", Who::Roles(TICKET_DESK)),
    ("POST", "/tickets/{id}/comments", Who::Roles(TICKET_READERS)),
    ("POST", "/tickets/{id}/photos", Who::Roles(TICKET_READERS)),
    ("GET", "/ticket-photos/{id}", Who::Roles(TICKET_READERS)),
    ("POST", "/tickets/{id}/rating", Who::Roles(OWNERS)),
    ("POST", "/tickets/{id}/follow-up", Who::Roles(TICKET_DESK)),
    ("POST", "/tickets/{id}/cost", Who::Roles(OFFICE)),
    ("GET", "/compounds/{id}/sla", Who::Roles(TICKET_DESK)),
    ("PUT", "/compounds/{id}/sla", Who::Roles(OFFICE)),
    ("POST", "/compounds/{id}/technician-groups", Who::Roles(OFFICE)),
    ("GET", "/compounds/{id}/technician-groups", Who::Roles(TICKET_DESK)),
    ("GET", "/compounds/{id}/ticket-stats", Who::Roles(TICKET_STATS)),
    // The maintenance fund: the standard, deposits and allocations are the office's, top-ups
    // the desk's; the sub-ledgers and their check are for fund readers (an owner: their unit's).
    ("PUT", "/compounds/{id}/fund/policy", Who::Roles(FUND_MANAGERS)),
    ("GET", "/compounds/{id}/fund/policy", Who::Roles(FUND_READERS)),
    ("POST", "/compounds/{id}/fund/deposits", Who::Roles(FUND_MANAGERS)),
    ("POST", "/units/{id}/fund/top-ups", Who::Roles(DESK)),
    ("POST", "/compounds/{id}/fund/allocations", Who::Roles(FUND_MANAGERS)),
    ("GET", "/compounds/{id}/fund", Who::Roles(FUND_READERS)),
    ("GET", "/compounds/{id}/fund/check", Who::Roles(FUND_READERS)),
    ("GET", "/compounds/{id}/fund/low-balances", Who::Roles(FUND_READERS)),
    ("GET", "/compounds/{id}/fund/movements", Who::Roles(FUND_READERS)),
    ("GET", "/units/{id}/fund", Who::Roles(UNIT_FUND)),
    // Repair projects paid from the fund.
    ("POST", "/compounds/{id}/fund/projects", Who::Roles(FUND_PROJECTS)),
    ("GET", "/compounds/{id}/fund/projects", Who::Roles(FUND_READERS)),
    ("GET", "/fund-projects/{id}", Who::Roles(FUND_READERS)),
    ("POST", "/fund-projects/{id}/vote", Who::Roles(FUND_PROJECTS)),
    ("POST", "/fund-projects/{id}/emergency-notice", Who::Roles(FUND_PROJECTS)),
    ("POST", "/fund-projects/{id}/start", Who::Roles(FUND_PROJECTS)),
    ("POST", "/fund-projects/{id}/settlement", Who::Roles(FUND_PROJECTS)),
    // Owners' votes: staff and the committee open them, owners cast their own ballots, the
    // office records paper ones.
    ("GET", "/vote-rule-sets", Who::Roles(EVERYONE)),
    ("POST", "/compounds/{id}/votes", Who::Roles(VOTE_OPENERS)),
    ("GET", "/compounds/{id}/votes", Who::Roles(VOTE_READERS)),
    ("GET", "/me/votes", Who::Roles(VOTERS)),
    ("GET", "/votes/{id}", Who::Roles(VOTE_VIEWERS)),
    ("POST", "/votes/{id}/ballots", Who::Roles(VOTERS)),
    ("POST", "/votes/{id}/paper-ballots", Who::Roles(PAPER_BALLOTS)),
    ("GET", "/votes/{id}/ballots", Who::Roles(VOTE_READERS)),
    ("GET", "/votes/{id}/electorate", Who::Roles(VOTE_READERS)),
    ("GET", "/votes/{id}/tally", Who::Roles(VOTE_READERS)),
    ("GET", "/ballots/{id}/scan", Who::Roles(VOTE_READERS)),
    // Elevator retrofits.
    ("POST", "/stairwells/{id}/elevator-plans", Who::Roles(ELEVATOR_PLANNERS)),
    ("GET", "/stairwells/{id}/elevator-plans", Who::Roles(VOTE_READERS)),
    ("GET", "/elevator-plans/{id}", Who::Roles(VOTE_READERS)),
    ("POST", "/elevator-plans/{id}/bills", Who::Roles(ELEVATOR_PLANNERS)),
    ("POST", "/elevator-plans/{id}/running-cost-fee-item", Who::Roles(ELEVATOR_FEES)),
    // Notices the fund's steps and the votes wrote.
    ("GET", "/compounds/{id}/notices", Who::Roles(NOTICE_READERS)),
    ("GET", "/notices/{id}", Who::Roles(NOTICE_VIEWERS)),
    ("POST", "/compounds/{id}/notices", Who::Roles(NOTICE_WRITERS)),
    ("PATCH", "/notices/{id}", Who::Roles(NOTICE_WRITERS)),
    ("DELETE", "/notices/{id}", Who::Roles(NOTICE_WRITERS)),
    ("POST", "/notices/{id}/publication", Who::Roles(NOTICE_WRITERS)),
    ("POST", "/notices/{id}/attachments", Who::Roles(NOTICE_WRITERS)),
    ("GET", "/notice-attachments/{id}", Who::Roles(NOTICE_VIEWERS)),
    ("GET", "/me/notices", Who::Roles(OWNERS)),
    ("POST", "/notices/{id}/read", Who::Roles(OWNERS)),
    ("GET", "/me/notice-preferences", Who::Roles(OWNERS)),
    ("PUT", "/me/notice-preferences", Who::Roles(OWNERS)),
    // The committee's audit desk: every report as JSON and CSV, read-only; the annual pack
    // published as a disclosure notice.
    ("GET", "/compounds/{id}/audit/collection", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/collection.csv", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/collection.svg", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/arrears-aging", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/arrears-aging.csv", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/arrears-aging.svg", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/income-statement", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/income-statement.csv", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/fund", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/fund.csv", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/fund-movements", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/fund-movements.csv", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/fund-projects", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/fund-projects.csv", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/journal.csv", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/ticket-stats.csv", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/staff-actions", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/staff-actions.csv", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/annual-pack", Who::Roles(AUDITORS)),
    ("GET", "/compounds/{id}/audit/annual-pack.csv", Who::Roles(AUDITORS)),
    ("POST", "/compounds/{id}/audit/annual-pack/publication", Who::Roles(DISCLOSERS)),
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
/// Everyone of a company, owners too: whose reach ends at their company's ids.
const COMPANY_LOGINS: [Role; 7] = [CompanyAdmin, Manager, Cashier, Dispatcher, Technician, Committee, Owner];

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers (the company and the fresh things both tests/abuse.rs and this file need
// are in tests/common/fixtures.rs)
// ---------------------------------------------------------------------------------------------

impl Company {
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

/// The built-in payment gateway's key in these tests, so that they can sign its callbacks.
const GATEWAY_SECRET: &str = "authorization-test-gateway-secret";

/// The server, with a gateway key the tests know.
async fn spawn() -> TestApp {
    TestApp::spawn_with(&[("WUYE_GATEWAY_SECRET", GATEWAY_SECRET)]).await
}

/// The query of a statement covering everything the tests post.
const STATEMENT_RANGE: &str = "from=2020-01-01&to=2199-12-31";

enum Body {
    Empty,
    Json(Value),
    Csv(&'static str),
    /// A photo's bytes.
    Jpeg(&'static [u8]),
    /// A gateway callback: the raw JSON and its `X-Wuye-Signature` (None: unsigned).
    Callback { payload: String, signature: Option<String> },
}

/// One concrete, valid request for an operation.
struct Call {
    path: String,
    body: Body,
    /// A token to use instead of the role's shared one (logging out must not kill that one).
    token: Option<String>,
    /// What an allowed call's answer must say, beyond being data (see `says`).
    expect: Option<Value>,
}

impl Call {
    fn expecting(self, expect: Value) -> Call {
        Call { expect: Some(expect), ..self }
    }

    /// A callback without a valid signature, every way: unsigned, signed with another key, a
    /// signature that is not hex, and the genuine signature over a body changed afterwards.
    fn forgeries(&self) -> Vec<(&'static str, Call)> {
        let Body::Callback { payload, signature } = &self.body else { return Vec::new() };
        let forged = |payload: String, signature: Option<String>| Call {
            path: self.path.clone(),
            body: Body::Callback { payload, signature },
            token: None,
            expect: None,
        };
        let mut changed: Value = serde_json::from_str(payload).expect("a JSON callback");
        changed["amount"] = json!("0.01");
        vec![
            ("no signature", forged(payload.clone(), None)),
            ("a signature made with another key", forged(payload.clone(), Some(BuiltinGateway::sign("not-the-gateway-secret", payload.as_bytes())))),
            ("a signature that is not hex", forged(payload.clone(), Some("not hex".into()))),
            ("the signature of another body", forged(changed.to_string(), signature.clone())),
        ]
    }
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
        Body::Jpeg(bytes) => request.header("content-type", "image/jpeg").body(bytes.to_vec()),
        Body::Callback { payload, signature } => {
            let request = request.header("content-type", "application/octet-stream").body(payload.clone().into_bytes());
            match signature {
                Some(signature) => request.header("X-Wuye-Signature", signature),
                None => request,
            }
        }
    };
    let response = request.send().await.expect("send request");
    let status = response.status();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    // As bytes, so that a CSV file's byte-order mark is kept.
    let bytes = response.bytes().await.expect("read body");
    // An image is described, not decoded.
    if content_type.starts_with("image/") {
        return (status, Value::String(format!("{content_type}: {} bytes", bytes.len())));
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
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

/// The table and the spec must list the same operations. One the table lacks has had no
/// decision about who may call it: that stops the test at once. One the spec lacks means the
/// table is stale, or the document hides an operation the server still serves: that is returned
/// as a failure, and the tests walk every operation of the table (`matrix_operations`) anyway.
fn matrix_mismatches(operations: &[(String, String)]) -> Vec<String> {
    let missing: Vec<String> = operations
        .iter()
        .filter(|(m, p)| !MATRIX.iter().any(|(tm, tp, _)| tm == m && tp == p))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(missing.is_empty(), "operations in the OpenAPI document but not in MATRIX: {missing:?}");
    MATRIX
        .iter()
        .filter(|(m, p, _)| !operations.iter().any(|(om, op)| om == m && op == p))
        .map(|(m, p, _)| format!("{m} {p} is in MATRIX but not in the OpenAPI document"))
        .collect()
}

/// Every operation of the table (after `matrix_mismatches`, a superset of the spec's).
fn matrix_operations() -> impl Iterator<Item = (&'static str, &'static str)> {
    MATRIX.iter().map(|(method, path, _)| (*method, *path))
}

/// A fresh pending payment order, by the owner, of a fresh bill.
async fn fresh_order(app: &TestApp, company: &Company) -> Value {
    let bill_id = fresh_bill(app, company).await;
    let (status, order) = app.post("/payment-orders", company.token(Owner), json!({ "unit_id": company.t.unit_id, "bill_ids": [bill_id] })).await;
    assert_eq!(status, StatusCode::OK, "fresh order: {order}");
    order
}

/// A fresh queued run of the late-fee job for the company.
async fn fresh_run(app: &TestApp, company: &Company) -> i64 {
    let (status, runs) = app.post("/jobs/runs", company.token(Manager), json!({ "job": "late_fees" })).await;
    assert_eq!(status, StatusCode::ACCEPTED, "fresh run: {runs}");
    runs[0]["id"].as_i64().unwrap()
}

/// A fresh message in the company's outbox, in the given state (no endpoint writes one).
async fn fresh_message(app: &TestApp, company: &Company, status: &str) -> i64 {
    use sea_orm::{ActiveModelTrait, Set};
    let email = wuye::mail::NewEmail {
        company_id: company.t.company_id,
        compound_id: company.t.compound_id,
        kind: "test",
        reference: None,
        recipient: format!("owner@{}.test", company.slug()),
        recipient_name: "业主".into(),
        subject: "主题".into(),
        body: "正文".into(),
        language: wuye::config::Language::Zh,
    };
    let message = wuye::mail::enqueue(&app.db, email).await.expect("enqueue");
    let mut active: entity::outbox_message::ActiveModel = message.into();
    active.status = Set(status.into());
    active.attempts = Set(if status == "failed" { 8 } else { 0 });
    active.update(&app.db).await.expect("set the message's state").id
}

/// A fresh photo of a fresh assigned ticket, uploaded by the owner.
async fn fresh_photo(app: &TestApp, company: &Company) -> i64 {
    let ticket = fresh_ticket(app, company, "assigned").await;
    let response = app
        .client
        .post(format!("{}/tickets/{}/photos", app.base, ticket["id"]))
        .bearer_auth(company.token(Owner))
        .header("content-type", "image/jpeg")
        .body(JPEG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
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

/// The fixture owner's elector id in a vote.
async fn owner_elector(app: &TestApp, company: &Company, vote_id: &Value) -> i64 {
    let electorate = electorate(app, company, vote_id).await;
    let elector = electorate["electors"].as_array().unwrap().iter().find(|e| e["owner_id"] == company.t.owner_id);
    elector.and_then(|e| e["id"].as_i64()).unwrap_or_else(|| panic!("the fixture owner is not an elector: {electorate}"))
}

/// A fresh open vote with the fixture owner's online ballot: agree.
async fn fresh_voted(app: &TestApp, company: &Company) -> Value {
    let vote = fresh_vote(app, company).await;
    let (status, ballot) = app.post(&format!("/votes/{}/ballots", vote["id"]), company.token(Owner), json!({ "choice": "agree" })).await;
    assert_eq!(status, StatusCode::OK, "owner's ballot: {ballot}");
    vote
}

/// A fresh paper ballot (with its scan) of the fixture owner, in a fresh vote.
async fn fresh_paper_ballot(app: &TestApp, company: &Company) -> i64 {
    let vote = fresh_vote(app, company).await;
    let elector = owner_elector(app, company, &vote["id"]).await;
    signed_paper_ballot(app, company, &vote["id"], &json!(elector), "agree").await["id"].as_i64().unwrap()
}

/// A fresh draft project's plan notice (a draft), of the target company.
async fn fresh_notice(app: &TestApp, company: &Company) -> Value {
    let project = fresh_project(app, company, "draft", false).await;
    let source = format!("fund_project:{}", project["id"]);
    let (status, notices) = app.get(&format!("/compounds/{}/notices?source={source}", company.t.compound_id), company.token(Manager)).await;
    assert_eq!(status, StatusCode::OK, "{notices}");
    let notices = notices.as_array().unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    notices[0].clone()
}

/// A published notice with a JPEG attached; returns the attachment's id.
async fn fresh_attachment(app: &TestApp, company: &Company) -> i64 {
    let notice = fresh_written_notice(app, company, Manager, false).await;
    let response = app
        .client
        .post(format!("{}/notices/{}/attachments?filename=photo.jpg", app.base, notice["id"]))
        .bearer_auth(company.token(Manager))
        .header("content-type", "image/jpeg")
        .body(JPEG.to_vec())
        .send()
        .await
        .expect("attach");
    let attachment: Value = response.json().await.expect("an attachment");
    let (status, body) = app.post(&format!("/notices/{}/publication", notice["id"]), company.token(Manager), json!({})).await;
    assert_eq!(status, StatusCode::OK, "publish: {body}");
    attachment["id"].as_i64().expect("an attachment id")
}

/// A valid request for `method path` by `role` of `caller`. Ids in the path come from
/// `target`, ids in the body from `caller`: in the tenancy test they differ, so the path id is
/// the only thing that crosses companies and the only reason for a refusal. Names are unique
/// so that an allowed call never meets a 409; every call that moves money gets fresh state (a
/// bill, a payment, a prepaid balance, an order) of its own.
async fn call_for(app: &TestApp, method: &str, path: &str, target: &Company, caller: &Company, role: Role) -> Call {
    let t = &target.t;
    let n = unique();
    let at = |id: i64| path.replace("{id}", &id.to_string());
    let json_call = |path: String, body: Value| Call { path, body: Body::Json(body), token: None, expect: None };
    let plain = |path: String| Call { path, body: Body::Empty, token: None, expect: None };
    match (method, path) {
        ("POST", "/auth/login") => json_call(path.into(), json!({ "login": caller.login(role), "password": PASSWORD })),
        // A session of its own, so the shared token survives.
        ("POST", "/auth/logout") => {
            Call { path: path.into(), body: Body::Empty, token: Some(app.token(&caller.login(role)).await), expect: None }
        }
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
        ("POST", "/compounds/{id}/import") => Call { path: at(t.compound_id), body: Body::Csv(IMPORT_CSV), token: None, expect: None },

        // Fees and bill runs. New fee items bill only in 2000, so that no later run meets them.
        ("POST", "/compounds/{id}/fee-items") => json_call(
            at(t.compound_id),
            json!({ "name": format!("杂费{n}"), "kind": "fixed", "amount": "5.00", "cycle": "one_off", "effective_from": "2000-01" }),
        )
        .expecting(json!({ "compound_id": t.compound_id, "kind": "fixed", "amount": "5.00" })),
        ("GET", "/compounds/{id}/fee-items") => plain(at(t.compound_id)).expecting(json!([{ "id": target.metered_item_id, "kind": "metered" }])),
        ("POST", "/fee-items/{id}/readings") => {
            let period = fresh_period();
            json_call(at(target.metered_item_id), json!({ "unit_id": caller.t.unit_id, "period": period, "reading": "12.50" }))
                .expecting(json!({ "fee_item_id": target.metered_item_id, "unit_id": caller.t.unit_id, "period": period }))
        }
        // A rerun of the billed period: every bill already exists.
        ("POST", "/compounds/{id}/bill-runs") => json_call(at(t.compound_id), json!({ "period": BILLED_PERIOD }))
            .expecting(json!({ "compound_id": t.compound_id, "period": BILLED_PERIOD, "preview": false })),
        ("POST", "/bill-runs") => json_call(path.into(), json!({ "period": BILLED_PERIOD }))
            .expecting(json!([{ "compound_id": caller.t.compound_id, "period": BILLED_PERIOD }])),
        ("GET", "/compounds/{id}/bill-runs") => plain(at(t.compound_id)).expecting(json!([{ "period": BILLED_PERIOD }])),
        ("POST", "/compounds/{id}/prepaid-applications") => plain(at(t.compound_id)),

        // Bills.
        ("GET", "/units/{id}/bills") => {
            plain(at(t.unit_id)).expecting(json!([{ "id": target.bill_id, "unit_id": t.unit_id, "amount": MONTHLY_FEE }]))
        }
        ("GET", "/bills/{id}") => plain(at(target.bill_id)).expecting(json!({ "bill": { "id": target.bill_id, "amount": MONTHLY_FEE } })),
        ("POST", "/bills/{id}/adjustments") => {
            let bill_id = fresh_bill(app, target).await;
            json_call(at(bill_id), json!({ "kind": "discount", "amount": "-1.00", "reason": format!("优惠 {n}") })).expecting(json!({
                "bill": { "id": bill_id, "adjusted": "-1.00", "outstanding": "105.32" },
                "adjustments": [{ "kind": "discount", "amount": "-1.00", "reason": format!("优惠 {n}") }],
            }))
        }

        // The desk. Payments name no bill, so they pay none: the money waits as prepaid.
        ("POST", "/units/{id}/payments") => json_call(at(t.unit_id), json!({ "method": "cash", "amount": "10.00", "bill_ids": [] }))
            .expecting(json!({ "unit_id": t.unit_id, "amount": "10.00", "to_prepaid": "10.00", "status": "posted" })),
        ("GET", "/units/{id}/payments") => plain(at(t.unit_id)),
        ("GET", "/payments/{id}") => {
            let payment_id = fresh_payment(app, target).await;
            plain(at(payment_id)).expecting(json!({ "id": payment_id, "unit_id": t.unit_id, "amount": "10.00" }))
        }
        ("POST", "/payments/{id}/reversal") => {
            let payment_id = fresh_payment(app, target).await;
            json_call(at(payment_id), json!({ "reason": format!("转账退回 {n}") }))
                .expecting(json!({ "id": payment_id, "status": "reversed", "reversal_reason": format!("转账退回 {n}") }))
        }
        // The prepaid 10.00 of a fresh payment, paid back.
        ("POST", "/units/{id}/refunds") => {
            fresh_payment(app, target).await;
            json_call(at(t.unit_id), json!({ "amount": "10.00", "method": "cash", "reason": format!("业主要求 {n}") }))
                .expecting(json!({ "unit_id": t.unit_id, "amount": "10.00" }))
        }
        ("GET", "/units/{id}/balance") => plain(at(t.unit_id)).expecting(json!({ "unit_id": t.unit_id })),
        ("GET", "/units/{id}/statement") => plain(format!("{}?{STATEMENT_RANGE}", at(t.unit_id))).expecting(json!({ "unit_id": t.unit_id })),
        // A CSV file, not JSON: the answer must contain its closing line.
        ("GET", "/units/{id}/statement.csv") => plain(format!("{}?{STATEMENT_RANGE}", at(t.unit_id))).expecting(json!("期末余额")),
        ("POST", "/compounds/{id}/common-income") => {
            let income = json!({ "source": "elevator_ads", "description": format!("电梯广告 {n}"), "amount": "100.00", "received_on": "2026-11-20", "method": "bank_transfer" });
            json_call(at(t.compound_id), income.clone())
                .expecting(json!({ "compound_id": t.compound_id, "description": income["description"], "amount": "100.00" }))
        }

        // Online payment.
        ("POST", "/payment-orders") => {
            let bill_id = fresh_bill(app, caller).await;
            json_call(path.into(), json!({ "unit_id": caller.t.unit_id, "bill_ids": [bill_id] }))
                .expecting(json!({ "unit_id": caller.t.unit_id, "bill_ids": [bill_id], "amount": MONTHLY_FEE, "status": "pending" }))
        }
        ("GET", "/payment-orders/{id}") => {
            let order = fresh_order(app, target).await;
            plain(at(order["id"].as_i64().unwrap())).expecting(json!({ "id": order["id"], "unit_id": t.unit_id, "status": "pending" }))
        }
        // The gateway's word that a fresh order is paid, signed with its key.
        ("POST", "/gateway/builtin/callback") => {
            let order = fresh_order(app, caller).await;
            let payload = json!({ "order_id": order["id"], "amount": order["amount"], "transaction_id": format!("tx-{n}") }).to_string();
            let signature = BuiltinGateway::sign(GATEWAY_SECRET, payload.as_bytes());
            Call { path: path.into(), body: Body::Callback { payload, signature: Some(signature) }, token: None, expect: Some(json!({ "status": "paid" })) }
        }

        // The ledger: after everything the other calls did, it still verifies.
        ("GET", "/compounds/{id}/ledger/verification") => plain(at(t.compound_id)).expecting(json!({ "compound_id": t.compound_id, "intact": true })),
        ("GET", "/compounds/{id}/ledger/entries") => plain(at(t.compound_id)).expecting(json!({ "page": 1 })),
        ("GET", "/compounds/{id}/common-income") => plain(at(t.compound_id)),

        // Reminders, jobs and the outbox. Job runs are only queued: the test server runs no
        // scheduler, so none of them changes the books the other calls look at.
        ("GET", "/units/{id}/reminders") => plain(at(t.unit_id)),
        ("GET", "/jobs") => plain(path.into()).expecting(json!([{ "name": "bill_run", "time_zone": "Asia/Shanghai" }])),
        ("GET", "/jobs/runs" | "/outbox") => plain(path.into()),
        ("POST", "/jobs/runs") => json_call(path.into(), json!({ "job": "late_fees" }))
            .expecting(json!([{ "job": "late_fees", "trigger": "manual", "status": "queued" }])),
        ("GET", "/jobs/runs/{id}") => {
            let run_id = fresh_run(app, target).await;
            plain(at(run_id)).expecting(json!({ "id": run_id, "job": "late_fees", "company_id": t.company_id }))
        }
        ("GET", "/outbox/{id}") => {
            let message_id = fresh_message(app, target, "pending").await;
            plain(at(message_id)).expecting(json!({ "id": message_id, "status": "pending", "body": "正文" }))
        }
        ("POST", "/outbox/{id}/retry") => {
            let message_id = fresh_message(app, target, "failed").await;
            plain(at(message_id)).expecting(json!({ "id": message_id, "status": "pending", "attempts": 0 }))
        }
        // Tickets: each call gets a ticket of its own, of the fixture owner's unit, brought to the
        // state the call needs (and assigned to the fixture technician once it is assigned).
        ("POST", "/tickets") => json_call(
            path.into(),
            json!({ "unit_id": caller.t.unit_id, "category": "plumbing", "location": "in_unit", "description": format!("厨房水管漏水 {n}") }),
        )
        .expecting(json!({ "unit_id": caller.t.unit_id, "status": "submitted", "category": "plumbing" })),
        ("GET", "/tickets") => plain(path.into()),
        ("GET", "/tickets/{id}") => {
            let ticket = fresh_ticket(app, target, "assigned").await;
            plain(at(ticket["id"].as_i64().unwrap())).expecting(json!({ "ticket": { "id": ticket["id"], "status": "assigned" } }))
        }
        ("POST", "/tickets/{id}/transitions") => {
            // A move each side may make: the owner cancels, the desk accepts, the technician starts.
            let (state, to) = match role {
                Owner => ("submitted", "cancelled"),
                Technician => ("assigned", "in_progress"),
                _ => ("submitted", "accepted"),
            };
            let ticket = fresh_ticket(app, target, state).await;
            json_call(at(ticket["id"].as_i64().unwrap()), json!({ "to": to, "version": ticket["version"] }))
                .expecting(json!({ "id": ticket["id"], "status": to }))
        }
        ("POST", "/tickets/{id}/assignment") => {
            let ticket = fresh_ticket(app, target, "accepted").await;
            let technician = caller.technician_id;
            json_call(at(ticket["id"].as_i64().unwrap()), json!({ "version": ticket["version"], "technician_id": technician }))
                .expecting(json!({ "id": ticket["id"], "status": "assigned", "assignee_id": technician }))
        }
        ("POST", "/tickets/{id}/comments") => {
            let ticket = fresh_ticket(app, target, "assigned").await;
            json_call(at(ticket["id"].as_i64().unwrap()), json!({ "body": format!("什么时候来修？ {n}") })).expecting(json!({ "body": format!("什么时候来修？ {n}") }))
        }
        ("POST", "/tickets/{id}/photos") => {
            let ticket = fresh_ticket(app, target, "assigned").await;
            Call { path: at(ticket["id"].as_i64().unwrap()), body: Body::Jpeg(JPEG), token: None, expect: Some(json!({ "content_type": "image/jpeg", "size": JPEG.len() })) }
        }
        ("GET", "/ticket-photos/{id}") => {
            let photo = fresh_photo(app, target).await;
            plain(at(photo)).expecting(json!(format!("image/jpeg: {} bytes", JPEG.len())))
        }
        ("POST", "/tickets/{id}/rating") => {
            let ticket = fresh_ticket(app, target, "resolved").await;
            json_call(at(ticket["id"].as_i64().unwrap()), json!({ "score": 5, "comment": "修得很好" })).expecting(json!({ "id": ticket["id"], "rating": 5 }))
        }
        ("POST", "/tickets/{id}/follow-up") => {
            let ticket = fresh_ticket(app, target, "resolved").await;
            json_call(at(ticket["id"].as_i64().unwrap()), json!({ "note": format!("业主满意 {n}") })).expecting(json!({ "id": ticket["id"], "follow_up": format!("业主满意 {n}") }))
        }
        ("POST", "/tickets/{id}/cost") => {
            let ticket = fresh_ticket(app, target, "resolved").await;
            json_call(at(ticket["id"].as_i64().unwrap()), json!({ "route": "company" })).expecting(json!({ "id": ticket["id"], "cost_route": "company" }))
        }
        ("GET", "/compounds/{id}/sla") => plain(at(t.compound_id)).expecting(json!([{ "category": "gas", "priority": "p1", "response_minutes": 15 }])),
        ("PUT", "/compounds/{id}/sla") => {
            json_call(at(t.compound_id), json!({ "targets": [{ "category": "walls", "priority": "p4", "response_minutes": 600, "resolution_minutes": 20160 }] }))
                .expecting(json!([{ "category": "walls", "priority": "p4", "response_minutes": 600, "own": true }]))
        }
        ("POST", "/compounds/{id}/technician-groups") => {
            let technician = caller.technician_id;
            json_call(at(t.compound_id), json!({ "name": format!("水电组 {n}"), "categories": ["plumbing", "electrical"], "member_ids": [technician] }))
                .expecting(json!({ "compound_id": t.compound_id, "member_ids": [technician] }))
        }
        ("GET", "/compounds/{id}/technician-groups") => plain(at(t.compound_id)),
        ("GET", "/compounds/{id}/ticket-stats") => plain(format!("{}?from=2020-01-01&to=2029-12-31", at(t.compound_id))).expecting(json!({ "compound_id": t.compound_id })),
        // The maintenance fund. Initial deposits are once per unit: each call deposits a fresh
        // unit's; the readers see the fixture owner's unit's, recorded once.
        ("PUT", "/compounds/{id}/fund/policy") => json_call(at(t.compound_id), fund_policy())
            .expecting(json!({ "compound_id": t.compound_id, "deposit_basis": "per_m2", "deposit_rate": "90", "notice_days": 0 })),
        ("GET", "/compounds/{id}/fund/policy") => {
            ensure_fund_policy(app, target).await;
            plain(at(t.compound_id)).expecting(json!({ "compound_id": t.compound_id, "deposit_basis": "per_m2", "deposit_rate": "90" }))
        }
        ("POST", "/compounds/{id}/fund/deposits") => {
            ensure_fund_policy(app, target).await;
            let unit_id = fresh_fund_unit(app, caller).await;
            json_call(at(t.compound_id), json!({ "unit_ids": [unit_id], "received_on": today() }))
                .expecting(json!([{ "unit_id": unit_id, "basis": "per_m2", "amount": "5400.00" }]))
        }
        ("POST", "/units/{id}/fund/top-ups") => {
            ensure_fund_deposit(app, target).await;
            json_call(at(t.unit_id), json!({ "amount": "100.00", "received_on": today() }))
                .expecting(json!({ "unit_id": t.unit_id, "kind": "top_up", "amount": "100.00" }))
        }
        ("POST", "/compounds/{id}/fund/allocations") => {
            ensure_fund_deposit(app, target).await;
            json_call(at(t.compound_id), json!({ "source": "interest", "amount": "10.00", "received_on": today(), "memo": format!("利息 {n}") }))
                .expecting(json!([{ "unit_id": t.unit_id, "kind": "interest" }]))
        }
        ("GET", "/compounds/{id}/fund") => {
            ensure_fund_deposit(app, target).await;
            plain(at(t.compound_id)).expecting(json!({
                "compound_id": t.compound_id,
                "check": { "agrees": true },
                "units": [{ "unit_id": t.unit_id, "initial_deposit": OWNER_DEPOSIT }],
            }))
        }
        ("GET", "/compounds/{id}/fund/check") => {
            ensure_fund_deposit(app, target).await;
            plain(at(t.compound_id)).expecting(json!({ "agrees": true, "mismatches": [] }))
        }
        ("GET", "/compounds/{id}/fund/low-balances") => plain(at(t.compound_id)),
        ("GET", "/compounds/{id}/fund/movements") => {
            ensure_fund_deposit(app, target).await;
            plain(format!("{}?per_page=500", at(t.compound_id)))
                .expecting(json!({ "page": 1, "items": [{ "unit_id": t.unit_id, "kind": "deposit", "amount": OWNER_DEPOSIT }] }))
        }
        ("GET", "/units/{id}/fund") => {
            ensure_fund_deposit(app, target).await;
            plain(at(t.unit_id)).expecting(json!({ "sub_ledger": { "unit_id": t.unit_id, "initial_deposit": OWNER_DEPOSIT }, "movements": [{ "kind": "deposit" }] }))
        }

        // Repair projects: each call gets a project of its own, of the fixture owner's unit, in
        // the state the step needs (an emergency one where it must be approved without a vote).
        ("POST", "/compounds/{id}/fund/projects") => json_call(
            at(t.compound_id),
            json!({ "title": format!("外墙修缮 {n}"), "description": "外墙瓷砖脱落", "budget": "1000.00", "scope": "units", "scope_ids": [caller.t.unit_id] }),
        )
        .expecting(json!({ "compound_id": t.compound_id, "status": "draft", "budget": "1000.00", "shares": [{ "unit_id": caller.t.unit_id, "share": "1000.00" }] })),
        ("GET", "/compounds/{id}/fund/projects") => {
            let project = fresh_project(app, target, "draft", false).await;
            plain(at(t.compound_id)).expecting(json!([{ "id": project["id"], "status": "draft" }]))
        }
        ("GET", "/fund-projects/{id}") => {
            let project = fresh_project(app, target, "draft", false).await;
            plain(at(project["id"].as_i64().unwrap()))
                .expecting(json!({ "id": project["id"], "status": "draft", "shares_are": "planned", "shares": [{ "unit_id": t.unit_id, "share": "1000.00" }] }))
        }
        ("POST", "/fund-projects/{id}/vote") => {
            let project = fresh_project(app, target, "draft", false).await;
            json_call(at(project["id"].as_i64().unwrap()), json!({ "closes_at": days_from_now(7) })).expecting(json!({ "id": project["id"], "status": "voting" }))
        }
        ("POST", "/fund-projects/{id}/emergency-notice") => {
            let project = fresh_project(app, target, "draft", true).await;
            let text = format!("屋面漏水危及安全，立即维修 {n}");
            json_call(at(project["id"].as_i64().unwrap()), json!({ "text": text }))
                .expecting(json!({ "id": project["id"], "status": "approved", "emergency_notice": text }))
        }
        ("POST", "/fund-projects/{id}/start") => {
            let project = fresh_project(app, target, "approved", true).await;
            plain(at(project["id"].as_i64().unwrap())).expecting(json!({ "id": project["id"], "status": "in_progress" }))
        }
        // Paid out of a fresh top-up of the unit, so the fund's bank account holds the cost.
        ("POST", "/fund-projects/{id}/settlement") => {
            let project = fresh_project(app, target, "in_progress", true).await;
            let path = format!("/units/{}/fund/top-ups", t.unit_id);
            let (status, body) = app.post(&path, target.token(Cashier), json!({ "amount": "100.00", "received_on": today() })).await;
            assert_eq!(status, StatusCode::OK, "top-up for a settlement: {body}");
            json_call(at(project["id"].as_i64().unwrap()), json!({ "actual_cost": "100.00" })).expecting(json!({
                "id": project["id"],
                "status": "settled",
                "actual_cost": "100.00",
                "shares_are": "actual",
                "shares": [{ "unit_id": t.unit_id, "share": "100.00" }],
            }))
        }

        // Votes: each call gets an open vote of its own, over the whole compound.
        ("GET", "/vote-rule-sets") => plain(path.into()).expecting(json!([{ "code": "civil_code_2021", "region": "national" }])),
        ("POST", "/compounds/{id}/votes") => {
            json_call(at(t.compound_id), json!({ "title": format!("续聘物业 {n}"), "matter": "hiring_or_firing_the_company", "closes_at": days_from_now(7) }))
                .expecting(json!({ "compound_id": t.compound_id, "status": "open", "rule_set": "civil_code_2021", "special_majority": false }))
        }
        ("GET", "/compounds/{id}/votes") => {
            let vote = fresh_vote(app, target).await;
            plain(at(t.compound_id)).expecting(json!([{ "id": vote["id"], "status": "open" }]))
        }
        ("GET", "/me/votes") => {
            let vote = fresh_vote(app, caller).await;
            plain(path.into()).expecting(json!([{ "id": vote["id"], "my_elector": { "area": "88.60" } }]))
        }
        ("GET", "/votes/{id}") => {
            let vote = fresh_vote(app, target).await;
            plain(at(vote["id"].as_i64().unwrap())).expecting(json!({ "id": vote["id"], "compound_id": t.compound_id, "status": "open" }))
        }
        ("POST", "/votes/{id}/ballots") => {
            let vote = fresh_vote(app, target).await;
            json_call(at(vote["id"].as_i64().unwrap()), json!({ "choice": "agree" }))
                .expecting(json!({ "vote_id": vote["id"], "choice": "agree", "channel": "online", "counted": true }))
        }
        ("POST", "/votes/{id}/paper-ballots") => {
            let vote = fresh_vote(app, target).await;
            let elector = owner_elector(app, target, &vote["id"]).await;
            Call {
                path: format!("{}?elector_id={elector}&choice=disagree", at(vote["id"].as_i64().unwrap())),
                body: Body::Jpeg(JPEG),
                token: None,
                expect: Some(json!({ "vote_id": vote["id"], "elector_id": elector, "choice": "disagree", "channel": "paper", "has_scan": true })),
            }
        }
        ("GET", "/votes/{id}/ballots") => {
            let vote = fresh_voted(app, target).await;
            plain(at(vote["id"].as_i64().unwrap())).expecting(json!([{ "vote_id": vote["id"], "choice": "agree", "channel": "online", "counted": true }]))
        }
        ("GET", "/votes/{id}/electorate") => {
            let vote = fresh_vote(app, target).await;
            plain(at(vote["id"].as_i64().unwrap()))
                .expecting(json!({ "vote_id": vote["id"], "electors": [{ "owner_id": t.owner_id, "area": "88.60", "unit_ids": [t.unit_id] }] }))
        }
        ("GET", "/votes/{id}/tally") => {
            let vote = fresh_voted(app, target).await;
            plain(at(vote["id"].as_i64().unwrap())).expecting(json!({ "final": false, "agree": { "area": "88.60", "headcount": 1 } }))
        }
        ("GET", "/ballots/{id}/scan") => {
            let ballot = fresh_paper_ballot(app, target).await;
            plain(at(ballot)).expecting(json!(format!("image/jpeg: {} bytes", JPEG.len())))
        }

        // Elevator retrofits of the fixture stairwell; billing and running costs need a plan
        // whose consent vote has passed.
        ("POST", "/stairwells/{id}/elevator-plans") => {
            set_plans_aside(app, target).await;
            json_call(at(t.stairwell_id), elevator_plan(app, target, n).await).expecting(json!({
            "compound_id": t.compound_id,
            "stairwell_id": t.stairwell_id,
            "status": "voting",
            "owners_part": ELEVATOR_OWNERS_PART,
            "shares": [{ "unit_id": t.unit_id, "payer": "owner" }],
            }))
        }
        ("GET", "/stairwells/{id}/elevator-plans") => {
            let plan = fresh_plan(app, target, false).await;
            plain(at(t.stairwell_id)).expecting(json!([{ "id": plan["id"], "vote_id": plan["vote_id"], "status": "voting" }]))
        }
        ("GET", "/elevator-plans/{id}") => {
            let plan = fresh_plan(app, target, false).await;
            plain(at(plan["id"].as_i64().unwrap()))
                .expecting(json!({ "id": plan["id"], "vote_id": plan["vote_id"], "status": "voting", "owners_part": ELEVATOR_OWNERS_PART }))
        }
        ("POST", "/elevator-plans/{id}/bills") => {
            let plan = fresh_plan(app, target, true).await;
            let first_due = today() + chrono::Duration::days(30);
            json_call(at(plan["id"].as_i64().unwrap()), json!({ "instalments": 2, "first_due": first_due })).expecting(json!({
                "plan": { "id": plan["id"], "status": "billed" },
                "bills": [{ "unit_id": t.unit_id, "due_date": first_due, "payer": "owner" }],
            }))
        }
        // From 2200, so that no bill run of the other recipes' periods meets it.
        ("POST", "/elevator-plans/{id}/running-cost-fee-item") => {
            let plan = fresh_plan(app, target, true).await;
            json_call(at(plan["id"].as_i64().unwrap()), json!({ "name": format!("电梯运行费 {n}"), "rate": "0.30", "effective_from": "2200-01" })).expecting(json!({
                "compound_id": t.compound_id,
                "kind": "floor_coefficient",
                "scope": "stairwells",
                "scope_ids": [t.stairwell_id],
                "floor_coefficients": { "3": "1" },
            }))
        }

        // Notices: a fresh project's plan notice, a draft.
        ("GET", "/compounds/{id}/notices") => {
            let notice = fresh_notice(app, target).await;
            plain(format!("{}?source={}", at(t.compound_id), notice["source"].as_str().unwrap()))
                .expecting(json!([{ "id": notice["id"], "category": "fund_use", "status": "draft" }]))
        }
        ("GET", "/notices/{id}") => {
            let notice = fresh_written_notice(app, target, Manager, true).await;
            plain(at(notice["id"].as_i64().unwrap())).expecting(json!({ "id": notice["id"], "compound_id": t.compound_id, "status": "published" }))
        }
        ("POST", "/compounds/{id}/notices") => json_call(at(t.compound_id), json!({ "category": "general", "title": format!("停水通知 {n}"), "body": "明日停水。" }))
            .expecting(json!({ "compound_id": t.compound_id, "status": "published", "author_role": role.as_str() })),
        ("PATCH", "/notices/{id}") => {
            let notice = fresh_written_notice(app, target, role, false).await;
            json_call(at(notice["id"].as_i64().unwrap()), json!({ "pinned": true, "title": format!("改 {n}") })).expecting(json!({ "id": notice["id"], "pinned": true, "status": "draft" }))
        }
        ("DELETE", "/notices/{id}") => {
            let notice = fresh_written_notice(app, target, role, false).await;
            plain(at(notice["id"].as_i64().unwrap())).expecting(json!({ "id": notice["id"], "status": "draft" }))
        }
        ("POST", "/notices/{id}/publication") => {
            let notice = fresh_written_notice(app, target, role, false).await;
            plain(at(notice["id"].as_i64().unwrap())).expecting(json!({ "id": notice["id"], "status": "published" }))
        }
        ("POST", "/notices/{id}/attachments") => {
            let notice = fresh_written_notice(app, target, role, false).await;
            Call { path: format!("{}?filename=photo.jpg", at(notice["id"].as_i64().unwrap())), body: Body::Jpeg(JPEG), token: None, expect: Some(json!({ "content_type": "image/jpeg", "size": JPEG.len() })) }
        }
        ("GET", "/notice-attachments/{id}") => plain(at(fresh_attachment(app, target).await)).expecting(json!(format!("image/jpeg: {} bytes", JPEG.len()))),
        ("GET", "/me/notices") => {
            let notice = fresh_written_notice(app, caller, Manager, true).await;
            plain(path.into()).expecting(json!([{ "id": notice["id"], "read": false }]))
        }
        ("POST", "/notices/{id}/read") => {
            let notice = fresh_written_notice(app, target, Manager, true).await;
            plain(at(notice["id"].as_i64().unwrap())).expecting(json!({ "id": notice["id"], "read": true }))
        }
        ("GET", "/me/notice-preferences") => plain(path.into()),
        ("PUT", "/me/notice-preferences") => json_call(path.into(), json!({ "email_every_notice": true })).expecting(json!({ "email_every_notice": true })),
        // The audit desk. Reports of the fixture compound: the property fee billed for
        // `BILLED_PERIOD` today, the fixture owner's fund deposit, a fresh draft project.
        ("GET", "/compounds/{id}/audit/collection") => plain(format!("{}?from={BILLED_PERIOD}&to={BILLED_PERIOD}", at(t.compound_id)))
            .expecting(json!({ "compound_id": t.compound_id, "rows": [{ "period": BILLED_PERIOD, "fee_item": "物业费", "collected": "0.00" }] })),
        ("GET", "/compounds/{id}/audit/collection.csv") => {
            let (_, items) = app.get(&format!("/compounds/{}/fee-items", t.compound_id), target.token(PlatformAdmin)).await;
            let property = items.as_array().unwrap().iter().find(|i| i["name"] == "物业费").expect("the property fee")["id"].clone();
            plain(format!("{}?from={BILLED_PERIOD}&to={BILLED_PERIOD}", at(t.compound_id))).expecting(json!(format!("{BILLED_PERIOD},{property},物业费,")))
        }
        // The charts' figures are tested in tests/audit.rs.
        ("GET", "/compounds/{id}/audit/collection.svg") => {
            plain(format!("{}?from={BILLED_PERIOD}&to={BILLED_PERIOD}", at(t.compound_id))).expecting(json!("image/svg+xml; charset=utf-8: "))
        }
        ("GET", "/compounds/{id}/audit/arrears-aging") => plain(at(t.compound_id)).expecting(json!({ "compound_id": t.compound_id, "as_of": today() })),
        ("GET", "/compounds/{id}/audit/arrears-aging.csv") => plain(at(t.compound_id)).expecting(json!("0-30,31-90,91-180,over_180,total")),
        ("GET", "/compounds/{id}/audit/arrears-aging.svg") => plain(at(t.compound_id)).expecting(json!("image/svg+xml; charset=utf-8: ")),
        ("GET", "/compounds/{id}/audit/income-statement") => plain(format!("{}?from={}&to={}", at(t.compound_id), today(), today()))
            .expecting(json!({ "compound_id": t.compound_id, "company": { "fee_revenue": [{ "fee_item": "物业费" }] } })),
        ("GET", "/compounds/{id}/audit/income-statement.csv") => {
            plain(format!("{}?from={}&to={}", at(t.compound_id), today(), today())).expecting(json!("company: fee revenue 物业服务收入 (6001),物业费,"))
        }
        ("GET", "/compounds/{id}/audit/fund") => {
            ensure_fund_deposit(app, target).await;
            plain(at(t.compound_id)).expecting(json!({ "compound_id": t.compound_id, "check": { "agrees": true }, "units": [{ "unit_id": t.unit_id, "initial_deposit": OWNER_DEPOSIT }] }))
        }
        ("GET", "/compounds/{id}/audit/fund.csv") => {
            ensure_fund_deposit(app, target).await;
            plain(at(t.compound_id)).expecting(json!(format!("{},1栋 1单元 301,false,", t.unit_id)))
        }
        ("GET", "/compounds/{id}/audit/fund-movements") => {
            ensure_fund_deposit(app, target).await;
            plain(at(t.compound_id)).expecting(json!({ "compound_id": t.compound_id, "movements": [{ "unit_id": t.unit_id, "kind": "deposit", "amount": OWNER_DEPOSIT }] }))
        }
        ("GET", "/compounds/{id}/audit/fund-movements.csv") => {
            ensure_fund_deposit(app, target).await;
            plain(at(t.compound_id)).expecting(json!(format!(",{},1栋 1单元 301,deposit,{OWNER_DEPOSIT},", t.unit_id)))
        }
        ("GET", "/compounds/{id}/audit/fund-projects") => {
            let project = fresh_project(app, target, "draft", false).await;
            plain(at(t.compound_id)).expecting(json!({
                "compound_id": t.compound_id,
                "projects": [{ "id": project["id"], "status": "draft", "shares_are": "planned", "shares": [{ "unit_id": t.unit_id, "share": "1000.00" }] }],
            }))
        }
        ("GET", "/compounds/{id}/audit/fund-projects.csv") => {
            let project = fresh_project(app, target, "draft", false).await;
            plain(at(t.compound_id)).expecting(json!(format!("{},{},draft,", project["id"], project["title"].as_str().unwrap())))
        }
        ("GET", "/compounds/{id}/audit/journal.csv") => plain(at(t.compound_id)).expecting(json!("verification,intact,true")),
        ("GET", "/compounds/{id}/audit/ticket-stats.csv") => {
            plain(format!("{}?from=2020-01-01&to=2029-12-31", at(t.compound_id))).expecting(json!("all,2020-01-01..2029-12-31,"))
        }
        ("GET", "/compounds/{id}/audit/staff-actions") => plain(at(t.compound_id)).expecting(json!({ "compound_id": t.compound_id, "page": 1 })),
        ("GET", "/compounds/{id}/audit/staff-actions.csv") => plain(at(t.compound_id)).expecting(json!("id,at,user_id,user_name,role,method,path,status")),
        ("GET", "/compounds/{id}/audit/annual-pack") => plain(format!("{}?year={}", at(t.compound_id), today().year()))
            .expecting(json!({ "compound_id": t.compound_id, "year": today().year(), "fund_year_end": { "agrees": true } })),
        ("GET", "/compounds/{id}/audit/annual-pack.csv") => {
            plain(format!("{}?year={}", at(t.compound_id), today().year())).expecting(json!(format!("{} 年度账目公示 annual accounts", today().year())))
        }
        ("POST", "/compounds/{id}/audit/annual-pack/publication") => json_call(at(t.compound_id), json!({ "year": today().year() })).expecting(json!({
            "title": format!("{0} 年度账目公示 Annual accounts {0}", today().year()),
            "category": "annual_accounts",
            "status": "published",
        })),
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

/// Checks a successful answer: 2xx with a JSON object or array that is not a problem, a CSV
/// file (UTF-8 with a byte-order mark), or an image.
fn success_mismatch(status: StatusCode, body: &Value) -> Option<String> {
    let is_data = body.is_array()
        || (body.is_object() && body.get("code").is_none_or(|c| !c.is_string()))
        || body.as_str().is_some_and(|text| text.starts_with('\u{feff}') || text.starts_with("image/"));
    (!status.is_success() || !is_data).then(|| format!("expected 2xx with data, got {status} {body}"))
}

/// Whether an answer says what was expected: an object every expected key, saying its value; an
/// array every expected element, somewhere; anything else the same value.
fn says(body: &Value, expected: &Value) -> bool {
    match (body, expected) {
        (Value::Object(got), Value::Object(want)) => want.iter().all(|(k, v)| got.get(k).is_some_and(|g| says(g, v))),
        (Value::Array(got), Value::Array(want)) => want.iter().all(|w| got.iter().any(|g| says(g, w))),
        _ => body == expected,
    }
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
    // What the recipe says the answer must say; of a text answer, a line it must contain.
    let said = match (&call.expect, body) {
        (None, _) => true,
        (Some(Value::String(line)), Value::String(text)) => text.contains(line.as_str()),
        (Some(expected), _) => says(body, expected),
    };
    (!said).then(|| format!("expected an answer saying {}, got {body}", call.expect.as_ref().unwrap()))
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
    let app = spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let operations = spec_operations(&app).await;

    let mut failures = matrix_mismatches(&operations);
    for (method, path) in matrix_operations() {
        let who = expectation(method, path);
        for role in Role::ALL {
            let call = call_for(&app, method, path, &alpha, &alpha, role).await;
            let token = call.token.clone().unwrap_or_else(|| alpha.token(role).to_string());
            if let Who::Signed = who {
                // A token counts for nothing here: only the signature does (the genuine callback,
                // without a token, is in the next test).
                failures.extend(forged_callbacks_refused(&app, &alpha, method, &call, &token, role.as_str()).await);
                continue;
            }
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

/// Sends every forgery of a callback with `token`; each must be 401, and the order stay unpaid.
async fn forged_callbacks_refused(app: &TestApp, company: &Company, method: &str, call: &Call, token: &str, who: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let forgeries = call.forgeries();
    assert!(!forgeries.is_empty(), "{method} {} is not a callback", call.path);
    for (what, forged) in &forgeries {
        let (status, body) = send(app, method, forged, Some(token)).await;
        if let Some(mismatch) = problem_mismatch(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated") {
            failures.push(format!("{method} {} with {what}, as {who}: {mismatch}", call.path));
        }
    }
    let Body::Callback { payload, .. } = &call.body else { unreachable!() };
    let order_id = serde_json::from_str::<Value>(payload).unwrap()["order_id"].clone();
    let (_, order) = app.get(&format!("/payment-orders/{order_id}"), company.token(Manager)).await;
    if order["status"] != "pending" || !order["payment_id"].is_null() {
        failures.push(format!("{method} {}: forged callbacks as {who} paid order {order_id}: {order}", call.path));
    }
    failures
}

#[tokio::test]
async fn every_operation_but_login_needs_a_valid_token() {
    let app = spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let operations = spec_operations(&app).await;
    let mut failures = matrix_mismatches(&operations);

    // A token that was valid once: logged out.
    let revoked = app.token(&alpha.login(Manager)).await;
    let (status, body) = app.post("/auth/logout", &revoked, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let bogus = format!("wy_{}", "0".repeat(64));
    for (method, path) in matrix_operations() {
        let call = call_for(&app, method, path, &alpha, &alpha, Manager).await;
        if matches!(expectation(method, path), Who::Public | Who::Signed) {
            // Logging in, and the gateway's signed callback, are done without a token; without its
            // signature, though, the callback is refused like any call without a token.
            if !call.forgeries().is_empty() {
                failures.extend(forged_callbacks_refused(&app, &alpha, method, &call, &bogus, "an unknown token").await);
            }
            let (status, body) = send(&app, method, &call, None).await;
            if let Some(mismatch) = success_mismatch(status, &body).or_else(|| answer_mismatch(&call, Manager, &alpha, &body)) {
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
    let app = spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    let beta = Company::new(&app, "Beta").await;
    let operations = spec_operations(&app).await;
    let mut failures = matrix_mismatches(&operations);

    // Every operation that takes an id in its path, by Beta's people with Alpha's ids (Alpha's
    // compound, unit, bill, payment, payment order, fee item...). Roles the matrix admits must
    // get 404, as for an id that does not exist; the others 403, which says nothing about the
    // id either. Either way the body is a bare problem: no owner name, no phone, no amount.
    let with_id: Vec<_> = matrix_operations().filter(|(_, path)| path.contains("{id}")).collect();
    assert!(with_id.len() >= 35, "only {} operations take an id", with_id.len());
    for (method, path) in with_id {
        let who = expectation(method, path);
        for role in COMPANY_LOGINS {
            let call = call_for(&app, method, path, &alpha, &beta, role).await;
            let (status, body) = send(&app, method, &call, Some(beta.token(role))).await;
            let (expected, code) =
                if who.admits(role) { (StatusCode::NOT_FOUND, "not_found") } else { (StatusCode::FORBIDDEN, "forbidden") };
            let text = body.to_string();
            let mismatch = problem_mismatch(status, &body, expected, code)
                .or_else(|| leaks(&body, &alpha))
                .or_else(|| no_data(&text));
            if let Some(mismatch) = mismatch {
                failures.push(format!("{method} {} as Beta's {}: {mismatch}", call.path, role.as_str()));
            }
        }
    }

    // Alpha's ids in the body rather than the path: ordering online payment of Alpha's unit,
    // recording a reading of it, paying Alpha's bill at Beta's desk.
    let crossing = [
        (Owner, "/payment-orders".to_string(), json!({ "unit_id": alpha.t.unit_id, "bill_ids": [alpha.bill_id] }), &[NOT_FOUND][..]),
        (
            Manager,
            format!("/fee-items/{}/readings", beta.metered_item_id),
            json!({ "unit_id": alpha.t.unit_id, "period": fresh_period(), "reading": "1.00" }),
            &[NOT_FOUND],
        ),
        (
            Cashier,
            format!("/units/{}/payments", beta.t.unit_id),
            json!({ "method": "cash", "amount": "10.00", "bill_ids": [alpha.bill_id] }),
            &[INVALID, NOT_FOUND],
        ),
    ];
    for (role, path, request, accepted) in crossing {
        let (status, body) = app.post(&path, beta.token(role), request.clone()).await;
        if let Some(mismatch) = refusal_mismatch(status, &body, accepted).or_else(|| leaks(&body, &alpha)).or_else(|| no_data(&body.to_string())) {
            failures.push(format!("POST {path} {request} as Beta's {}: {mismatch}", role.as_str()));
        }
    }
    // Billing every compound one reaches bills only Beta's.
    for role in [CompanyAdmin, Manager] {
        let (status, runs) = app.post("/bill-runs", beta.token(role), json!({ "period": BILLED_PERIOD })).await;
        let only_beta = runs.as_array().is_some_and(|runs| !runs.is_empty() && runs.iter().all(|r| r["compound_id"] == beta.t.compound_id));
        if status != StatusCode::OK || !only_beta {
            failures.push(format!("POST /bill-runs as Beta's {}: expected Beta's compound alone, got {status} {runs}", role.as_str()));
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
    assert_alpha_money_untouched(&app, &alpha, &beta).await;
}

/// Where a body must carry no data at all: none of the fixture owner's details, no amount.
fn no_data(text: &str) -> Option<String> {
    [OWNER_NAME, OWNER_PHONE, OWNER_PHONE_MASKED, MONTHLY_FEE].iter().find(|s| text.contains(*s)).map(|s| format!("leaks {s:?}: {text}"))
}

/// Alpha's money moved only by Alpha's people: its bill unadjusted and unpaid, its payments
/// unreversed, no fee item, bill run, income or journal entry of Beta's, the ledger intact.
async fn assert_alpha_money_untouched(app: &TestApp, alpha: &Company, beta: &Company) {
    let token = alpha.token(Manager);
    let get = |path: String| async move {
        let (status, body) = app.get(&path, token).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    };
    let bill = get(format!("/bills/{}", alpha.bill_id)).await;
    assert!(says(&bill, &json!({ "bill": { "amount": MONTHLY_FEE, "adjusted": "0.00", "paid": "0.00" } })), "{bill}");
    assert_eq!(bill["adjustments"], json!([]), "{bill}");
    let payments = get(format!("/units/{}/payments", alpha.t.unit_id)).await;
    assert!(payments.as_array().unwrap().iter().all(|p| p["status"] == "posted"), "Beta reversed Alpha's payments: {payments}");
    let fee_items = get(format!("/compounds/{}/fee-items", alpha.t.compound_id)).await;
    assert_eq!(names(&fee_items), ["物业费", "水费"], "a fee item reached Alpha");
    assert_eq!(get(format!("/compounds/{}/common-income", alpha.t.compound_id)).await, json!([]), "income reached Alpha");
    let verified = get(format!("/compounds/{}/ledger/verification", alpha.t.compound_id)).await;
    assert_eq!(verified["intact"], true, "{verified}");

    // Nothing in Alpha's books is by one of Beta's logins.
    let (status, accounts) = app.get("/users", beta.token(CompanyAdmin)).await;
    assert_eq!(status, StatusCode::OK, "{accounts}");
    let beta_logins: Vec<&Value> = accounts.as_array().unwrap().iter().map(|a| &a["id"]).collect();
    assert!(beta_logins.len() >= 7, "{accounts}");
    let runs = get(format!("/compounds/{}/bill-runs", alpha.t.compound_id)).await;
    assert!(runs.as_array().unwrap().iter().all(|r| !beta_logins.contains(&&r["run_by"])), "Beta billed Alpha: {runs}");
    let mut page = 1;
    loop {
        let entries = get(format!("/compounds/{}/ledger/entries?page={page}&per_page=200", alpha.t.compound_id)).await;
        let items = entries["items"].as_array().unwrap();
        if let Some(entry) = items.iter().find(|e| beta_logins.contains(&&e["posted_by"])) {
            panic!("Beta posted to Alpha's ledger: {entry}");
        }
        if items.is_empty() || page * 200 >= entries["total"].as_u64().unwrap() {
            break;
        }
        page += 1;
    }
}

#[tokio::test]
async fn an_owner_reaches_only_their_own_units_money() {
    let app = spawn().await;
    let alpha = Company::new(&app, "Alpha").await;
    // The developer's unit next door, billed 86.82 and paid at the desk.
    let held = alpha.t.developer_unit_id;
    let held_bill = bill_of(&app, &alpha.t, held, BILLED_PERIOD).await;
    let (status, payment) = app.post(&format!("/units/{held}/payments"), alpha.token(Cashier), json!({ "method": "cash", "amount": "86.82" })).await;
    assert_eq!(status, StatusCode::OK, "{payment}");

    let owner = alpha.token(Owner);
    let mut failures = Vec::new();
    let reads = [
        format!("/units/{held}/bills"),
        format!("/units/{held}/payments"),
        format!("/units/{held}/balance"),
        format!("/units/{held}/statement?{STATEMENT_RANGE}"),
        format!("/units/{held}/statement.csv?{STATEMENT_RANGE}"),
        format!("/bills/{held_bill}"),
        format!("/payments/{}", payment["id"]),
    ];
    for path in reads {
        let (status, body) = app.get(&path, owner).await;
        if let Some(mismatch) = problem_mismatch(status, &body, StatusCode::NOT_FOUND, "not_found").or_else(|| no_data(&body.to_string())) {
            failures.push(format!("GET {path} as the owner of another unit: {mismatch}"));
        }
    }
    let order = json!({ "unit_id": held, "bill_ids": [held_bill] });
    let (status, body) = app.post("/payment-orders", owner, order).await;
    if let Some(mismatch) = problem_mismatch(status, &body, StatusCode::NOT_FOUND, "not_found") {
        failures.push(format!("POST /payment-orders for another unit: {mismatch}"));
    }
    // Their own unit's bill is not a way into the other unit either.
    let order = json!({ "unit_id": held, "bill_ids": [alpha.bill_id] });
    let (status, body) = app.post("/payment-orders", owner, order).await;
    if let Some(mismatch) = problem_mismatch(status, &body, StatusCode::NOT_FOUND, "not_found") {
        failures.push(format!("POST /payment-orders for another unit with their own bill: {mismatch}"));
    }
    assert_no_failures("an owner and another unit", &failures);
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
    let app = spawn().await;
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
    let app = spawn().await;
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
    let app = spawn().await;
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
    let app = spawn().await;
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
    let app = spawn().await;
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
