//! Logins, sessions and accounts over HTTP: logging in by email or phone, the one answer for
//! every failed login, throttling, logout, disabling, expiry, `/auth/me`, and account rules.
mod common;

use chrono::{Duration, Utc};
use common::*;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use wuye::auth::Role;

/// Creates an account as `token` and returns its id, failing the test otherwise.
async fn create_user(app: &TestApp, token: &str, account: Value) -> i64 {
    let (status, body) = app.post("/users", token, account.clone()).await;
    assert_eq!(status, StatusCode::OK, "create {account}: {body}");
    body["id"].as_i64().expect("account id")
}

/// Asserts the request was refused for want of a valid token.
fn assert_unauthenticated(status: StatusCode, body: &Value) {
    assert_problem(status, body, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn login_by_email_and_by_phone() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let id = create_user(&app, boss, json!({ "role": "cashier", "name": "Li Na", "phone": "139 1234 5678", "password": PASSWORD })).await;

    // The phone is stored normalised, and any usual way of typing it logs in.
    for login in ["13912345678", "139 1234 5678", "+86 139-1234-5678"] {
        let (status, body) = app.login(login, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "login {login}: {body}");
        assert!(body["token"].as_str().is_some_and(|t| t.len() > 20), "{body}");
        assert!(body["expires_at"].as_str().is_some(), "{body}");
        assert_eq!(body["me"]["user_id"], id, "{body}");
        assert_eq!(body["me"]["role"], "cashier", "{body}");
        assert_eq!(body["me"]["name"], "Li Na", "{body}");
        assert_eq!(body["me"]["company_id"], tenant.company_id, "{body}");
    }

    // By email, whatever its case; and the token it gives works.
    for login in ["manager@alpha.test", "  Manager@ALPHA.test "] {
        let (status, body) = app.login(login, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "login {login}: {body}");
        assert_eq!(body["me"]["role"], "manager", "{body}");
        let token = body["token"].as_str().unwrap();
        let (status, me) = app.get("/auth/me", token).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["role"], "manager");
    }

    // Each login is its own session with its own token.
    let first = app.token("manager@alpha.test").await;
    let second = app.token("manager@alpha.test").await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn wrong_password_and_unknown_login_look_the_same() {
    let app = TestApp::spawn().await;
    app.tenant("Alpha").await;

    let attempts = [
        ("manager@alpha.test", "not-the-password"),
        ("nobody@alpha.test", PASSWORD),
        ("13700000000", PASSWORD),
        ("manager@alpha.test", ""),
    ];
    let mut messages = Vec::new();
    for (login, password) in attempts {
        let (status, body) = app.login(login, password).await;
        assert_unauthenticated(status, &body);
        assert!(body.get("token").is_none(), "{body}");
        messages.push(body["message"].as_str().unwrap().to_string());
    }
    assert!(messages.iter().all(|m| m == &messages[0]), "messages differ, revealing which logins exist: {messages:?}");
}

#[tokio::test]
async fn repeated_failures_lock_the_login_but_not_others() {
    let app = TestApp::spawn_with(&[("WUYE_LOGIN_MAX_FAILURES", "3"), ("WUYE_LOGIN_WINDOW_MINUTES", "15")]).await;
    app.tenant("Alpha").await;

    // Failures below the limit are ordinary 401s, and the right password still works after them.
    // A success clears the count: two more failures later still leave the login open.
    for _ in 0..2 {
        for _ in 0..2 {
            let (status, body) = app.login("cashier@alpha.test", "wrong-password").await;
            assert_unauthenticated(status, &body);
        }
        app.token("cashier@alpha.test").await;
    }

    // The limit reached, even the right password is refused.
    for _ in 0..3 {
        let (status, body) = app.login("manager@alpha.test", "wrong-password").await;
        assert_unauthenticated(status, &body);
    }
    for password in [PASSWORD, "wrong-password"] {
        let (status, body) = app.login("manager@alpha.test", password).await;
        assert_problem(status, &body, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
        assert!(body.get("token").is_none(), "{body}");
    }
    // The lock follows the login however it is typed.
    let (status, body) = app.login("MANAGER@alpha.test", PASSWORD).await;
    assert_problem(status, &body, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");

    // Other logins are not affected.
    app.token("cashier@alpha.test").await;
    app.token("dispatcher@alpha.test").await;

    // Unknown logins are throttled the same way, so throttling does not reveal which exist.
    for _ in 0..3 {
        let (status, body) = app.login("ghost@alpha.test", PASSWORD).await;
        assert_unauthenticated(status, &body);
    }
    let (status, body) = app.login("ghost@alpha.test", PASSWORD).await;
    assert_problem(status, &body, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
}

#[tokio::test]
async fn throttling_counts_only_failures_within_the_window() {
    let app = TestApp::spawn_with(&[("WUYE_LOGIN_MAX_FAILURES", "3"), ("WUYE_LOGIN_WINDOW_MINUTES", "15")]).await;
    app.tenant("Alpha").await;
    for _ in 0..3 {
        let (status, body) = app.login("manager@alpha.test", "wrong-password").await;
        assert_unauthenticated(status, &body);
    }
    let (status, body) = app.login("manager@alpha.test", PASSWORD).await;
    assert_problem(status, &body, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");

    // Move the failures back to before the window, as if 16 minutes had passed.
    let db = Database::connect(&app.database_url).await.unwrap();
    entity::login_failure::Entity::update_many()
        .col_expr(entity::login_failure::Column::FailedAt, Expr::value(Utc::now() - Duration::minutes(16)))
        .filter(entity::login_failure::Column::Login.eq("manager@alpha.test"))
        .exec(&db)
        .await
        .unwrap();
    db.close().await.ok();
    app.token("manager@alpha.test").await;
}

#[tokio::test]
async fn logout_ends_the_session_only() {
    let app = TestApp::spawn().await;
    app.tenant("Alpha").await;
    let token = app.token("manager@alpha.test").await;
    let other = app.token("manager@alpha.test").await;

    let (status, body) = app.get("/auth/me", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post("/auth/logout", &token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "manager", "{body}");

    for path in ["/auth/me", "/units", "/compounds"] {
        let (status, body) = app.get(path, &token).await;
        assert_unauthenticated(status, &body);
    }
    // Logging out twice is refused too: the token is dead.
    let (status, body) = app.post("/auth/logout", &token, json!({})).await;
    assert_unauthenticated(status, &body);

    // The same account's other session is untouched, and the account can log in again.
    let (status, body) = app.get("/auth/me", &other).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.token("manager@alpha.test").await;
}

#[tokio::test]
async fn disabling_an_account_locks_it_out_at_once_and_enabling_lets_it_back() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let id = create_user(&app, boss, json!({ "role": "cashier", "name": "Zhao", "email": "zhao@alpha.test", "password": PASSWORD })).await;
    let sessions = [app.token("zhao@alpha.test").await, app.token("zhao@alpha.test").await];
    for token in &sessions {
        let (status, body) = app.get("/units", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let (status, body) = app.post(&format!("/users/{id}/disable"), boss, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], id);
    assert_eq!(body["disabled"], true, "{body}");

    // Every existing session stops working on the very next request.
    for token in &sessions {
        for path in ["/auth/me", "/units"] {
            let (status, body) = app.get(path, token).await;
            assert_unauthenticated(status, &body);
        }
    }
    // And the right password no longer logs in, with the same answer as a wrong one.
    let (status, body) = app.login("zhao@alpha.test", PASSWORD).await;
    assert_unauthenticated(status, &body);
    let (_, wrong) = app.login("zhao@alpha.test", "wrong-password").await;
    assert_eq!(body["message"], wrong["message"]);
    let (_, users) = app.get("/users", boss).await;
    let listed = users.as_array().unwrap().iter().find(|u| u["id"] == id).expect("the account is still listed");
    assert_eq!(listed["disabled"], true);

    // Enabling lets the account log in again; the revoked sessions stay revoked.
    let (status, body) = app.post(&format!("/users/{id}/enable"), boss, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["disabled"], false, "{body}");
    let fresh = app.token("zhao@alpha.test").await;
    let (status, body) = app.get("/auth/me", &fresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_id"], id);
    for token in &sessions {
        let (status, body) = app.get("/auth/me", token).await;
        assert_unauthenticated(status, &body);
    }
}

#[tokio::test]
async fn only_an_administrator_disables_and_not_their_own_login() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let id = create_user(&app, boss, json!({ "role": "cashier", "name": "Zhao", "email": "zhao@alpha.test", "password": PASSWORD })).await;

    let (status, body) = app.post(&format!("/users/{id}/disable"), tenant.token(Role::Manager), json!({})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (_, me) = app.get("/auth/me", boss).await;
    let (status, body) = app.post(&format!("/users/{}/disable", me["user_id"]), boss, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    // Another company's administrator cannot even see the account.
    let other = app.tenant("Beta").await;
    let (status, body) = app.post(&format!("/users/{id}/disable"), other.token(Role::CompanyAdmin), json!({})).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    // None of that disabled anything.
    app.token("zhao@alpha.test").await;
}

#[tokio::test]
async fn expired_unknown_and_missing_tokens_are_refused() {
    let app = TestApp::spawn().await;
    app.tenant("Alpha").await;
    let expiring = app.token("manager@alpha.test").await;
    let lasting = app.token("cashier@alpha.test").await;

    // Expire the manager's session in the database, by its token's hash.
    let db = Database::connect(&app.database_url).await.unwrap();
    let result = entity::session::Entity::update_many()
        .col_expr(entity::session::Column::ExpiresAt, Expr::value(Utc::now() - Duration::minutes(1)))
        .filter(entity::session::Column::TokenHash.eq(wuye::auth::token_hash(&expiring)))
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(result.rows_affected, 1);
    db.close().await.ok();

    let (status, body) = app.get("/auth/me", &expiring).await;
    assert_unauthenticated(status, &body);
    let (status, body) = app.get("/auth/me", &lasting).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Tokens that were never issued, in the right shape and in none.
    let never = format!("wy_{}", "0".repeat(64));
    let last = if lasting.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &lasting[..lasting.len() - 1]);
    for token in [never.as_str(), "wy_", "garbage", tampered.as_str()] {
        let (status, body) = app.get("/auth/me", token).await;
        assert_unauthenticated(status, &body);
    }
    let (status, body) = app.request(reqwest::Method::GET, "/auth/me", None, None).await;
    assert_unauthenticated(status, &body);
}

#[tokio::test]
async fn me_tells_the_role_and_compound_limits() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    let (_, second) = app.post("/compounds", boss, json!({ "name": "Second", "address": "2 Road" })).await;
    let second = second["id"].as_i64().unwrap();
    create_user(
        &app,
        boss,
        json!({ "role": "manager", "name": "Limited", "email": "limited@alpha.test", "password": PASSWORD, "compound_ids": [second] }),
    )
    .await;
    let limited = app.token("limited@alpha.test").await;
    let admin = app.admin().await;

    // (token, role, company, compound limits; null means all of the company's)
    let cases: [(&str, &str, Value, Value); 6] = [
        (&admin, "platform_admin", Value::Null, Value::Null),
        (boss, "company_admin", json!(tenant.company_id), Value::Null),
        (tenant.token(Role::Manager), "manager", json!(tenant.company_id), Value::Null),
        (&limited, "manager", json!(tenant.company_id), json!([second])),
        (tenant.token(Role::Committee), "committee", json!(tenant.company_id), json!([tenant.compound_id])),
        (tenant.token(Role::Owner), "owner", json!(tenant.company_id), json!([tenant.compound_id])),
    ];
    for (token, role, company, compounds) in cases {
        let (status, me) = app.get("/auth/me", token).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["role"], role, "{me}");
        assert_eq!(me["company_id"], company, "{role}: {me}");
        assert_eq!(me["compound_ids"], compounds, "{role}: {me}");
        assert!(me["user_id"].as_i64().is_some(), "{me}");
    }

    // The limit is enforced, not just reported.
    let (status, body) = app.get(&format!("/compounds/{}", tenant.compound_id), &limited).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.get(&format!("/compounds/{second}"), &limited).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn account_rules_are_enforced() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Alpha").await;
    let boss = tenant.token(Role::CompanyAdmin);
    create_user(&app, boss, json!({ "role": "cashier", "name": "Phone", "phone": "13912345678", "password": PASSWORD })).await;

    let account = |changes: Value| {
        let mut body = json!({ "role": "cashier", "name": "New", "email": "new@alpha.test", "password": PASSWORD });
        for (key, value) in changes.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    // (what, body, status, code, field)
    let cases = [
        ("7-character password", account(json!({ "password": "1234567" })), StatusCode::BAD_REQUEST, "validation_failed", "password"),
        ("7 characters of 3 bytes", account(json!({ "password": "密码密码密码密" })), StatusCode::BAD_REQUEST, "validation_failed", "password"),
        ("empty password", account(json!({ "password": "" })), StatusCode::BAD_REQUEST, "validation_failed", "password"),
        ("duplicate email", account(json!({ "email": "manager@alpha.test" })), StatusCode::CONFLICT, "conflict", "email"),
        ("duplicate email, other case", account(json!({ "email": "Manager@Alpha.TEST" })), StatusCode::CONFLICT, "conflict", "email"),
        ("duplicate phone", account(json!({ "email": null, "phone": "139-1234-5678" })), StatusCode::CONFLICT, "conflict", "phone"),
        ("bad email", account(json!({ "email": "not-an-email" })), StatusCode::BAD_REQUEST, "validation_failed", "email"),
        ("no login", account(json!({ "email": null })), StatusCode::BAD_REQUEST, "validation_failed", "email"),
        ("unknown role", account(json!({ "role": "janitor" })), StatusCode::BAD_REQUEST, "validation_failed", "role"),
    ];
    for (what, body, status, code, field) in cases {
        let (got, problem) = app.post("/users", boss, body).await;
        assert_problem(got, &problem, status, code);
        assert_eq!(problem["field"], field, "{what}: {problem}");
    }

    // A company administrator cannot create a platform administrator, nor can a manager create
    // anyone.
    let (status, body) = app.post("/users", boss, account(json!({ "role": "platform_admin" }))).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.post("/users", tenant.token(Role::Manager), account(json!({}))).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // None of the refused accounts exists; exactly 8 characters is enough.
    let (status, body) = app.login("new@alpha.test", PASSWORD).await;
    assert_unauthenticated(status, &body);
    create_user(&app, boss, account(json!({ "password": "12345678" }))).await;
    let (status, body) = app.login("new@alpha.test", "12345678").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["me"]["role"], "cashier");
}

#[tokio::test]
async fn concurrent_failures_cannot_outrun_the_limit() {
    let app = TestApp::spawn_with(&[("WUYE_LOGIN_MAX_FAILURES", "3"), ("WUYE_LOGIN_WINDOW_MINUTES", "15")]).await;
    app.tenant("Alpha").await;

    // Twelve guesses sent at once: at most three may be checked, the rest are refused unchecked.
    // Unknown logins are throttled alike; twenty of them, then the real one, give a race
    // between concurrent attempts many chances to show.
    let logins = (0..20).map(|n| format!("nobody-{n}@alpha.test")).chain(["manager@alpha.test".to_string()]);
    for login in logins {
        let guesses = (0..12).map(|i| {
            let (app, login, password) = (&app, &login, format!("guess-number-{i}"));
            async move { app.login(login, &password).await }
        });
        let answers = futures_util::future::join_all(guesses).await;
        let checked = answers.iter().filter(|(status, _)| *status == StatusCode::UNAUTHORIZED).count();
        for (status, body) in &answers {
            assert!(matches!(*status, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS), "{status}: {body}");
        }
        assert!(checked <= 3, "{checked} of 12 concurrent guesses on {login} were checked against the password; the limit is 3");
    }
    let (status, body) = app.login("manager@alpha.test", PASSWORD).await;
    assert_problem(status, &body, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
}
