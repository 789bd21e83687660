//! Accounts, sessions and roles. Passwords are argon2 hashes computed off the async threads;
//! bearer tokens are random, shown once, and stored only as their SHA-256.
pub mod api;
pub mod permissions;
pub mod tenancy;

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, PoisonError},
};

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use chrono::{Duration, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    TransactionSession, TransactionTrait,
};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{
    config::Config,
    error::{Error, Result},
    types::{Email, Phone},
};
use entity::{login_failure, owner, session, user, user_compound};
pub use permissions::{Permission, Role};

/// Who is calling, as established from their bearer token.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: i64,
    pub session_id: i64,
    pub role: Role,
    pub name: String,
    /// None only for platform administrators, who see every company.
    pub company_id: Option<i64>,
    /// The compounds the actor is limited to; None means all of the company's.
    pub compounds: Option<Vec<i64>>,
}

impl Actor {
    /// The operator at the command line (`wuye import`, the demo seed): a platform
    /// administrator without a session.
    pub fn system() -> Actor {
        Actor { user_id: 0, session_id: 0, role: Role::PlatformAdmin, name: "system".into(), company_id: None, compounds: None }
    }

    pub fn require(&self, permission: Permission) -> Result<()> {
        if permissions::allows(self.role, permission) {
            Ok(())
        } else {
            Err(Error::Forbidden("your role may not do this"))
        }
    }

    /// Whether a record of this company and compound is within the actor's reach.
    pub fn reaches(&self, company_id: i64, compound_id: i64) -> bool {
        self.company_id.is_none_or(|own| own == company_id)
            && self.compounds.as_ref().is_none_or(|list| list.contains(&compound_id))
    }
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?
    .map_err(Error::Internal)
}

async fn password_matches(password: String, stored_hash: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let stored_hash = stored_hash.as_deref().unwrap_or(&DECOY_HASH);
        PasswordHash::new(stored_hash)
            .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false)
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!(e)))
}

/// A hash of a random password nobody has, verified when the login is unknown so that an
/// unknown login takes as long as a wrong password and does not reveal which logins exist.
static DECOY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    Argon2::default().hash_password(&secret).map(|h| h.to_string()).unwrap_or_default()
});

pub fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < 8 || password.len() > 256 {
        return Err(Error::invalid("password", "password must have 8 to 256 characters"));
    }
    Ok(())
}

/// Writes down an attempt on `login` and counts its attempts within the window, this one
/// included. Attempts on one login are written and counted one at a time: otherwise two
/// concurrent attempts on PostgreSQL each miss the other's uncommitted row and more guesses than
/// the limit reach the password check. In this process they queue in memory before taking a
/// database connection, so a flood of guesses at one login cannot hold the pool while it
/// waits; across replicas PostgreSQL's lock named by the login orders them (SQLite has one
/// connection, which orders them by itself).
async fn attempts_in_window<C: ConnectionTrait + TransactionTrait>(db: &C, config: &Config, login: &str) -> Result<u64> {
    let _turn = one_attempt_at_a_time(login).await;
    let txn = crate::db::begin(db).await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // The two-key form, first key "login attempts", apart from the migrations' lock.
        let lock = "SELECT pg_advisory_xact_lock(1, hashtext($1))";
        txn.execute_raw(crate::db::statement(&txn, lock, vec![login.into()])).await?;
    }
    login_failure::ActiveModel { login: Set(login.to_string()), failed_at: Set(Utc::now()), ..Default::default() }.insert(&txn).await?;
    let window_start = Utc::now() - Duration::minutes(config.login_window_minutes);
    let attempts = login_failure::Entity::find()
        .filter(login_failure::Column::Login.eq(login))
        .filter(login_failure::Column::FailedAt.gt(window_start))
        .count(&txn)
        .await?;
    txn.commit().await?;
    Ok(attempts)
}

/// This process's turn for an attempt on `login`: held while the attempt is written and counted.
async fn one_attempt_at_a_time(login: &str) -> OwnedMutexGuard<()> {
    static TURNS: LazyLock<std::sync::Mutex<HashMap<String, Arc<Mutex<()>>>>> = LazyLock::new(Default::default);
    let turn = {
        let mut turns = TURNS.lock().unwrap_or_else(PoisonError::into_inner);
        // Only logins with an attempt in flight keep an entry.
        turns.retain(|_, turn| Arc::strong_count(turn) > 1);
        turns.entry(login.to_string()).or_default().clone()
    };
    turn.lock_owned().await
}

/// A login is an email address or a phone number; both are normalised before lookup.
fn normalise_login(login: &str) -> String {
    if login.contains('@') {
        login.trim().to_lowercase()
    } else {
        Phone::parse(login).map(Phone::into_string).unwrap_or_else(|_| login.trim().to_string())
    }
}

pub struct LoggedIn {
    pub token: String,
    pub actor: Actor,
    pub expires_at: chrono::DateTime<Utc>,
}

/// Checks a password and opens a session. After `login_max_failures` failures within the window
/// the login is refused (429) even with the right password, until the window has passed.
///
/// Each attempt is written down as a failure *before* the password is checked, and the count
/// includes it: concurrent guesses cannot all slip under the limit while the slow hash runs.
/// A successful login clears the record.
pub async fn login<C: ConnectionTrait + TransactionTrait>(db: &C, config: &Config, login: &str, password: &str) -> Result<LoggedIn> {
    let login = normalise_login(login);
    if attempts_in_window(db, config, &login).await? > config.login_max_failures {
        return Err(Error::TooManyAttempts { retry_after_secs: config.login_window_minutes * 60 });
    }
    let account = user::Entity::find()
        .filter(if login.contains('@') { user::Column::Email.eq(&login) } else { user::Column::Phone.eq(&login) })
        .one(db)
        .await?;
    let stored_hash = account.as_ref().map(|a| a.password_hash.clone());
    let matches = password_matches(password.to_string(), stored_hash).await?;
    let account = match account {
        Some(account) if matches && !account.disabled => account,
        _ => return Err(Error::Unauthenticated("wrong login or password")),
    };
    login_failure::Entity::delete_many().filter(login_failure::Column::Login.eq(&login)).exec(db).await?;

    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("wy_{}", hex::encode(bytes));
    let expires_at = Utc::now() + Duration::hours(config.session_hours);
    session::ActiveModel {
        user_id: Set(account.id),
        token_hash: Set(token_hash(&token)),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let actor = authenticate(db, &token).await?;
    Ok(LoggedIn { token, actor, expires_at })
}

/// The actor behind a bearer token: the session must exist, be unexpired and unrevoked, and
/// its account enabled. Checked on every request, so disabling an account locks it out at once.
pub async fn authenticate(db: &impl ConnectionTrait, token: &str) -> Result<Actor> {
    // The session, its account and the compounds the account is limited to (an owner's through
    // its owner records, staff's as listed) in one round trip: this runs before every request.
    // One row per compound, or one row with none.
    let sql = "SELECT u.*, s.id AS session_id, COALESCE(uc.compound_id, o.compound_id) AS limited_to \
               FROM sessions s JOIN users u ON u.id = s.user_id \
               LEFT JOIN user_compounds uc ON uc.user_id = u.id AND u.role <> $3 \
               LEFT JOIN owners o ON o.user_id = u.id AND u.role = $3 \
               WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
               ORDER BY limited_to";
    let values = vec![token_hash(token).into(), Utc::now().into(), Role::Owner.as_str().into()];
    let rows = db.query_all_raw(crate::db::statement(db, sql, values)).await?;
    let first = rows.first().ok_or(Error::Unauthenticated("the token is unknown, expired or revoked"))?;
    let account = user::Model::from_query_result(first, "")?;
    if account.disabled {
        return Err(Error::Unauthenticated("the account is disabled"));
    }
    let session_id: i64 = first.try_get("", "session_id")?;
    let role = Role::parse(&account.role).ok_or_else(|| anyhow::anyhow!("user {} has unknown role {}", account.id, account.role))?;
    let compounds = rows.iter().map(|row| row.try_get::<Option<i64>>("", "limited_to")).filter_map(|id| id.transpose()).collect::<std::result::Result<Vec<i64>, _>>()?;
    // Staff with no listed compounds work for all of the company's; everyone else is limited.
    let limited = !(role.is_company_staff() || role == Role::PlatformAdmin) || !compounds.is_empty();
    Ok(Actor {
        user_id: account.id,
        session_id,
        role,
        name: account.name,
        company_id: account.company_id,
        compounds: limited.then_some(compounds),
    })
}

pub async fn logout(db: &impl ConnectionTrait, actor: &Actor) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(session::Column::Id.eq(actor.session_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The hourly clean-up: sessions past their expiry or revoked, and failed logins older than
/// the throttling window, no longer decide anything; they are removed.
pub async fn remove_expired_sessions(db: &impl ConnectionTrait, config: &Config) -> Result<crate::jobs::Counts> {
    let now = Utc::now();
    let sessions = session::Entity::delete_many()
        .filter(sea_orm::Condition::any().add(session::Column::ExpiresAt.lt(now)).add(session::Column::RevokedAt.is_not_null()))
        .exec(db)
        .await?
        .rows_affected;
    let failures = login_failure::Entity::delete_many()
        .filter(login_failure::Column::FailedAt.lt(now - chrono::Duration::minutes(config.login_window_minutes)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(crate::jobs::Counts::from([("sessions", sessions as i64), ("failed_logins", failures as i64)]))
}

/// Revokes every open session of an account.
pub async fn revoke_sessions(db: &impl ConnectionTrait, user_id: i64) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// What a new account needs; checked by [`create_account`].
pub struct NewAccount {
    pub company_id: Option<i64>,
    pub role: Role,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password: String,
    /// Staff: the compounds they are limited to (empty: all). Committee: exactly one.
    pub compound_ids: Vec<i64>,
    /// Owner accounts: the owner records (one per compound) this login speaks for.
    pub owner_ids: Vec<i64>,
}

/// Creates a login. The caller has checked that `company_id` and every compound and owner id
/// belong to a company it may manage.
pub async fn create_account<C: ConnectionTrait + TransactionTrait>(db: &C, new: NewAccount) -> Result<user::Model> {
    let name = crate::types::required_text("name", &new.name, 100)?;
    let email = new.email.as_deref().map(Email::parse).transpose().map_err(|m| Error::invalid("email", m))?;
    let phone = new.phone.as_deref().map(Phone::parse).transpose().map_err(|m| Error::invalid("phone", m))?;
    if email.is_none() && phone.is_none() {
        return Err(Error::invalid("email", "an account needs an email or a phone to log in with"));
    }
    validate_password(&new.password)?;
    match new.role {
        Role::PlatformAdmin if new.company_id.is_some() => {
            return Err(Error::invalid("company_id", "a platform administrator belongs to no company"));
        }
        Role::PlatformAdmin => {}
        _ if new.company_id.is_none() => return Err(Error::invalid("company_id", "this role belongs to a company")),
        Role::Committee if new.compound_ids.len() != 1 => {
            return Err(Error::invalid("compound_ids", "a committee member audits exactly one compound"));
        }
        Role::Owner if new.owner_ids.is_empty() => {
            return Err(Error::invalid("owner_ids", "an owner account speaks for at least one owner record"));
        }
        _ => {}
    }
    if new.role != Role::Owner && !new.owner_ids.is_empty() {
        return Err(Error::invalid("owner_ids", "only owner accounts are linked to owner records"));
    }
    let email = email.map(Email::into_string);
    let phone = phone.map(Phone::into_string);
    for (field, taken) in [
        ("email", email.as_ref().map(|e| user::Column::Email.eq(e))),
        ("phone", phone.as_ref().map(|p| user::Column::Phone.eq(p))),
    ] {
        if let Some(condition) = taken
            && user::Entity::find().filter(condition).count(db).await? > 0
        {
            return Err(Error::conflict(field, format!("another account already uses this {field}")));
        }
    }
    let password_hash = hash_password(new.password).await?;
    let txn = crate::db::begin(db).await?;
    let account = user::ActiveModel {
        company_id: Set(new.company_id),
        role: Set(new.role.as_str().to_string()),
        name: Set(name),
        email: Set(email),
        phone: Set(phone),
        password_hash: Set(password_hash),
        disabled: Set(false),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if new.role != Role::Owner {
        for compound_id in new.compound_ids {
            user_compound::ActiveModel { user_id: Set(account.id), compound_id: Set(compound_id) }.insert(&txn).await?;
        }
    }
    if !new.owner_ids.is_empty() {
        owner::Entity::update_many()
            .col_expr(owner::Column::UserId, sea_orm::sea_query::Expr::value(account.id))
            .filter(owner::Column::Id.is_in(new.owner_ids))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(account)
}

/// Disables or re-enables an account; disabling revokes its sessions in the same transaction.
pub async fn set_disabled<C: ConnectionTrait + TransactionTrait>(db: &C, account: user::Model, disabled: bool) -> Result<user::Model> {
    let txn = crate::db::begin(db).await?;
    let mut active: user::ActiveModel = account.into();
    active.disabled = Set(disabled);
    let account = active.update(&txn).await?;
    if disabled {
        revoke_sessions(&txn, account.id).await?;
    }
    txn.commit().await?;
    Ok(account)
}
