//! Online payment: an owner orders payment of chosen bills, the gateway collects the money and
//! calls back. A gateway is an adapter behind [`PaymentGateway`]; the built-in one signs its
//! callbacks with HMAC-SHA256 over the raw body. WeChat Pay or Alipay are further adapters.
use chrono::Utc;
use hmac::{Hmac, Mac};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sha2::Sha256;

use super::{Method, receive};
use crate::{
    config::Secret,
    auth::{Actor, Permission, Role},
    billing,
    error::{Error, Result},
    ledger,
    registry::{compound_today, local_today},
    types::Money,
};
use entity::{gateway_callback, payment_order, unit};

/// What a verified callback says was paid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Callback {
    pub order_id: i64,
    pub amount: Money,
    pub transaction_id: String,
}

pub trait PaymentGateway: Send + Sync {
    fn name(&self) -> &'static str;
    /// Checks the callback is genuine; an error means it must not be trusted.
    fn verify(&self, signature: Option<&str>, body: &[u8]) -> std::result::Result<(), String>;
    /// Reads a genuine callback.
    fn read(&self, body: &[u8]) -> std::result::Result<Callback, String>;
}

/// The built-in gateway adapter: `X-Wuye-Signature: <hex HMAC-SHA256 of the body>`.
pub struct BuiltinGateway {
    pub secret: Secret,
}

impl BuiltinGateway {
    pub fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }
}

impl PaymentGateway for BuiltinGateway {
    fn name(&self) -> &'static str {
        "builtin"
    }

    fn verify(&self, signature: Option<&str>, body: &[u8]) -> std::result::Result<(), String> {
        let signature = signature.ok_or("the callback is not signed")?;
        let given = hex::decode(signature.trim()).map_err(|_| "the signature is not hex")?;
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose().as_bytes()).map_err(|e| e.to_string())?;
        mac.update(body);
        // Constant-time comparison, so the signature cannot be guessed byte by byte.
        mac.verify_slice(&given).map_err(|_| "the signature does not match".to_string())
    }

    fn read(&self, body: &[u8]) -> std::result::Result<Callback, String> {
        serde_json::from_slice(body).map_err(|e| format!("the callback body is not understood: {e}"))
    }
}

/// An owner's order to pay chosen bills of one of their units online, for what they owe today.
pub async fn create_order(db: &DatabaseConnection, actor: &Actor, unit_id: i64, bill_ids: &[i64]) -> Result<payment_order::Model> {
    actor.require(Permission::PayOwnBills)?;
    let readable = billing::readable_unit(db, actor, unit_id).await?;
    if bill_ids.is_empty() {
        return Err(Error::invalid("bill_ids", "choose at least one bill"));
    }
    if bill_ids.iter().collect::<std::collections::HashSet<_>>().len() != bill_ids.len() {
        return Err(Error::invalid("bill_ids", "a bill is listed twice"));
    }
    let (unit, compound) = (&readable.unit, &readable.compound);
    let bills = billing::unit_bills(db, unit.id).await?;
    let mut chosen = Vec::new();
    for id in bill_ids {
        let bill = bills
            .iter()
            .find(|b| b.id == *id && readable.shows_bill(b))
            .ok_or_else(|| Error::invalid("bill_ids", format!("bill {id} is not one of your bills of this unit")))?;
        chosen.push(bill.clone());
    }
    let states = billing::bill_states(db, chosen, local_today(&compound)).await?;
    if let Some(paid) = states.iter().find(|s| !s.total_due().is_positive()) {
        return Err(Error::conflict("bill_ids", format!("bill {} is already paid", paid.bill.id)));
    }
    // An order is for what is owed on the day it is made: an order left pending from an
    // earlier day no longer holds its bills (if its money arrives after all, it is still booked).
    let pending = payment_order::Entity::find()
        .filter(payment_order::Column::UnitId.eq(unit.id))
        .filter(payment_order::Column::Status.eq("pending"))
        .all(db)
        .await?;
    let zone: chrono_tz::Tz = compound.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let today = local_today(&compound);
    let mut asked: Vec<i64> = bill_ids.to_vec();
    asked.sort_unstable();
    for order in pending.into_iter().filter(|o| o.created_at.with_timezone(&zone).date_naive() == today) {
        let mut theirs: Vec<i64> = serde_json::from_str(&order.bill_ids).unwrap_or_default();
        theirs.sort_unstable();
        // The same bills again (a checkout left and come back to) are the same order.
        if theirs == asked && order.created_by == actor.user_id {
            return Ok(order);
        }
        if let Some(id) = bill_ids.iter().find(|id| theirs.contains(id)) {
            return Err(Error::conflict("bill_ids", format!("bill {id} is already in pending payment order {}", order.id)));
        }
    }
    let amount: i64 = states.iter().map(|s| s.total_due().fen()).sum();
    Ok(payment_order::ActiveModel {
        company_id: Set(unit.company_id),
        compound_id: Set(unit.compound_id),
        unit_id: Set(unit.id),
        amount: Set(amount),
        bill_ids: Set(serde_json::to_string(bill_ids).unwrap_or_default()),
        status: Set("pending".into()),
        gateway: Set("builtin".into()),
        created_by: Set(actor.user_id),
        payment_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The order is now paid by this payment.
    Paid { payment_id: i64 },
    /// The order was paid before: a replayed callback changes nothing.
    AlreadyPaid { payment_id: i64 },
}

async fn record(db: &impl sea_orm::ConnectionTrait, gateway: &str, order_id: Option<i64>, body: &[u8], valid: bool, outcome: &str) -> Result<()> {
    gateway_callback::ActiveModel {
        gateway: Set(gateway.into()),
        payment_order_id: Set(order_id),
        // As text: bytes that are not UTF-8, and NUL (which PostgreSQL's text cannot hold), are
        // kept as U+FFFD.
        payload: Set(String::from_utf8_lossy(body).chars().take(10_000).map(|c| if c == '\0' { char::REPLACEMENT_CHARACTER } else { c }).collect()),
        signature_valid: Set(valid),
        outcome: Set(outcome.into()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Handles a gateway's callback. Every callback is recorded, whatever happens to it. A forged
/// one is refused; a replay is a no-op; one whose amount differs from the order is refused.
pub async fn handle_callback(db: &DatabaseConnection, gateway: &dyn PaymentGateway, signature: Option<&str>, body: &[u8]) -> Result<CallbackOutcome> {
    if let Err(reason) = gateway.verify(signature, body) {
        record(db, gateway.name(), None, body, false, "refused_signature").await?;
        tracing::warn!(gateway = gateway.name(), %reason, "payment callback refused");
        return Err(Error::Unauthenticated("the callback's signature is not valid"));
    }
    let callback = match gateway.read(body) {
        Ok(callback) => callback,
        Err(reason) => {
            record(db, gateway.name(), None, body, true, "unreadable").await?;
            return Err(Error::Invalid { field: None, message: reason });
        }
    };
    let Some(order) = payment_order::Entity::find_by_id(callback.order_id).one(db).await? else {
        record(db, gateway.name(), None, body, true, "unknown_order").await?;
        return Err(Error::NotFound("payment order"));
    };
    let txn = crate::db::begin(db).await?;
    ledger::lock_chain(&txn, order.compound_id).await?;
    let order = payment_order::Entity::find_by_id(order.id).one(&txn).await?.ok_or(Error::NotFound("payment order"))?;
    if let (true, Some(payment_id)) = (order.status == "paid", order.payment_id) {
        // The same transaction again is a replay; another transaction for a paid order means the
        // gateway charged the owner twice: refused and recorded, for staff to refund.
        let paid_by = gateway_callback::Entity::find()
            .filter(gateway_callback::Column::PaymentOrderId.eq(order.id))
            .filter(gateway_callback::Column::Outcome.eq("paid"))
            .one(&txn)
            .await?
            .and_then(|c| gateway.read(c.payload.as_bytes()).ok())
            .map(|c| c.transaction_id);
        if paid_by.is_some_and(|t| t != callback.transaction_id) {
            record(&txn, gateway.name(), Some(order.id), body, true, "second_charge").await?;
            txn.commit().await?;
            return Err(Error::conflict("transaction_id", "the order was paid by another transaction: the owner has been charged twice"));
        }
        record(&txn, gateway.name(), Some(order.id), body, true, "replay").await?;
        txn.commit().await?;
        return Ok(CallbackOutcome::AlreadyPaid { payment_id });
    }
    if callback.amount.fen() != order.amount {
        record(&txn, gateway.name(), Some(order.id), body, true, "refused_amount").await?;
        txn.commit().await?;
        return Err(Error::conflict("amount", format!("the order is for {}, the callback says {}", Money::from_fen(order.amount), callback.amount)));
    }
    let unit = unit::Entity::find_by_id(order.unit_id).one(&txn).await?.ok_or(Error::NotFound("unit"))?;
    let bill_ids: Vec<i64> = serde_json::from_str(&order.bill_ids).unwrap_or_default();
    // The gateway acts for the owner who ordered: it is recorded as the payment's author.
    let payer = Actor {
        user_id: order.created_by,
        session_id: 0,
        role: Role::Owner,
        name: gateway.name().into(),
        company_id: Some(order.company_id),
        compounds: Some(vec![order.compound_id]),
    };
    // Bills paid at the desk since the order was made are left out; what they would have taken
    // becomes prepaid, since the owner has paid it.
    let ordered = entity::bill::Entity::find().filter(entity::bill::Column::Id.is_in(bill_ids.iter().copied())).all(&txn).await?;
    let today = compound_today(&txn, order.compound_id).await?;
    let open: Vec<i64> = billing::bill_states(&txn, ordered, today)
        .await?
        .into_iter()
        .filter(|s| s.total_due().is_positive())
        .map(|s| s.bill.id)
        .collect();
    let still_open: Vec<i64> = bill_ids.iter().copied().filter(|id| open.contains(id)).collect();
    let payment = receive(&txn, &payer, &unit, today, Method::Online, callback.amount, Some(&still_open), Some(order.id)).await?.payment;
    let mut active: payment_order::ActiveModel = order.clone().into();
    active.status = Set("paid".into());
    active.payment_id = Set(Some(payment.id));
    active.update(&txn).await?;
    record(&txn, gateway.name(), Some(order.id), body, true, "paid").await?;
    txn.commit().await?;
    metrics::counter!("wuye_payments_written_total", "method" => Method::Online.as_str()).increment(1);
    Ok(CallbackOutcome::Paid { payment_id: payment.id })
}

/// The built-in gateway's checkout: the owner who made an order confirms paying it. It stands in
/// for a real gateway's payment page, so that online payment can be walked end to end without
/// one (the demo, the browser tests); no money moves, hence only with `WUYE_GATEWAY_CHECKOUT`
/// on. A pending order's confirmation goes through [`handle_callback`] as a signed callback of
/// [`Checkout`], with one transaction id per order, so confirming twice is a replay; a paid order
/// (by whichever gateway) answers as paid before, since no one was charged by confirming it.
pub async fn confirm_checkout(db: &DatabaseConnection, actor: &Actor, secret: &Secret, order_id: i64) -> Result<CallbackOutcome> {
    actor.require(Permission::PayOwnBills)?;
    let order = payment_order::Entity::find_by_id(order_id).one(db).await?;
    let order = order.filter(|o| o.created_by == actor.user_id).ok_or(Error::NotFound("payment order"))?;
    // An owner who has since sold the unit no longer pays its bills.
    billing::readable_unit(db, actor, order.unit_id).await.map_err(|e| billing::api::hide_as(e, "payment order"))?;
    if let (true, Some(payment_id)) = (order.status == "paid", order.payment_id) {
        return Ok(CallbackOutcome::AlreadyPaid { payment_id });
    }
    Error::unless_status("payment order", &order.status, &["pending"])?;
    let body = serde_json::json!({
        "order_id": order.id,
        "amount": Money::from_fen(order.amount).to_string(),
        "transaction_id": format!("builtin-checkout-{}", order.id),
    })
    .to_string();
    let signature = BuiltinGateway::sign(secret.expose(), body.as_bytes());
    handle_callback(db, &Checkout(BuiltinGateway { secret: secret.clone() }), Some(&signature), body.as_bytes()).await
}

/// The built-in gateway as its own checkout: its confirmations are recorded under a name of
/// their own, apart from the callbacks a gateway sent.
pub struct Checkout(BuiltinGateway);

impl PaymentGateway for Checkout {
    fn name(&self) -> &'static str {
        "builtin-checkout"
    }

    fn verify(&self, signature: Option<&str>, body: &[u8]) -> std::result::Result<(), String> {
        self.0.verify(signature, body)
    }

    fn read(&self, body: &[u8]) -> std::result::Result<Callback, String> {
        self.0.read(body)
    }
}
