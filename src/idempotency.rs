//! `Idempotency-Key` for every request that moves money: the first request with a key does the
//! work and stores what it created in the same transaction; a retry with the same key returns
//! that record instead of moving money again. Keys are per login.
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

use crate::{
    auth::Actor,
    error::{Error, Result},
};
use entity::idempotency_key;

/// Runs `work` in a new transaction once per key. `request` identifies the operation and its
/// input; reusing a key for a different request is refused. Returns the id of what `work`
/// created, the first time or on a retry.
///
/// The key is claimed first, in the same transaction as the work: a concurrent twin blocks on
/// the key's unique index until the first commits, then finds the key taken and replays the
/// first answer instead of doing the work again on the new state.
pub async fn once<F>(db: &DatabaseConnection, actor: &Actor, key: Option<&str>, request: &serde_json::Value, work: F) -> Result<i64>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<i64>,
{
    let Some(key) = key else {
        let txn = crate::db::begin(db).await?;
        let id = work(&txn).await?;
        txn.commit().await?;
        return Ok(id);
    };
    if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
        return Err(Error::invalid("Idempotency-Key", "Idempotency-Key must be 1 to 200 printable characters"));
    }
    let request_hash = hex::encode(Sha256::digest(request.to_string().as_bytes()));
    // No look before the claim: a retry finds the key taken when it claims it, and the first
    // request (by far the common case) saves a round trip.
    let txn = crate::db::begin(db).await?;
    let claim = idempotency_key::ActiveModel {
        user_id: Set(actor.user_id),
        key: Set(key.to_string()),
        request_hash: Set(request_hash.clone()),
        response: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let claimed = match claim.insert(&txn).await {
        Ok(claimed) => claimed,
        Err(error) if matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            let earlier = find(db, actor, key).await?.ok_or_else(|| anyhow::anyhow!("idempotency key vanished"))?;
            return replay(earlier, &request_hash);
        }
        Err(error) => return Err(error.into()),
    };
    let id = work(&txn).await?;
    let mut answered: idempotency_key::ActiveModel = claimed.into();
    answered.response = Set(id.to_string());
    answered.update(&txn).await?;
    txn.commit().await?;
    Ok(id)
}

async fn find(db: &DatabaseConnection, actor: &Actor, key: &str) -> Result<Option<idempotency_key::Model>> {
    Ok(idempotency_key::Entity::find()
        .filter(idempotency_key::Column::UserId.eq(actor.user_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?)
}

fn replay(earlier: idempotency_key::Model, request_hash: &str) -> Result<i64> {
    if earlier.request_hash != request_hash {
        return Err(Error::conflict("Idempotency-Key", "this Idempotency-Key was used for a different request"));
    }
    earlier.response.parse().map_err(|_| Error::Internal(anyhow::anyhow!("stored idempotent response {} is not an id", earlier.id)))
}
