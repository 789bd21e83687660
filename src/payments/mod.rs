//! Payments at the cashier desk and online, their allocation to bills, receipts numbered
//! without gaps, prepaid balances (预存), refunds, reversals and common-area income. Every
//! function that moves money takes the caller's transaction and posts to the ledger in it.
pub mod api;
pub mod gateway;

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};

use crate::{
    auth::{Actor, Permission, tenancy::find_visible},
    billing::{self, BillState},
    error::{Error, Result},
    ledger::{self, Account, Line, Posting},
    registry::{compound_today, local_today},
    types::{Money, required_text},
};
use entity::{bill, common_income, compound, payment, payment_allocation, receipt, refund, unit};

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Cash,
    BankTransfer,
    Pos,
    /// Through a payment gateway (WeChat Pay, Alipay, the built-in test gateway).
    Online,
    /// Drawn from the unit's prepaid balance.
    Prepaid,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Cash => "cash",
            Method::BankTransfer => "bank_transfer",
            Method::Pos => "pos",
            Method::Online => "online",
            Method::Prepaid => "prepaid",
        }
    }

    /// Where the money arrives.
    fn account(self) -> Account {
        match self {
            Method::Cash => Account::Cash,
            Method::BankTransfer | Method::Pos => Account::Bank,
            Method::Online => Account::GatewayClearing,
            Method::Prepaid => Account::Prepaid,
        }
    }
}

/// What a payment settles on one bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub bill_id: i64,
    pub fee_item_id: i64,
    pub principal: i64,
    pub late_fee: i64,
}

/// Splits a payment over bills in the given order: on each bill the late fee first, then the
/// principal (Civil Code Art. 561: interest before principal). What is left is prepaid.
pub fn allocate(amount: Money, bills: &[BillState]) -> (Vec<Allocation>, Money) {
    let mut remaining = amount.fen();
    let mut allocations = Vec::new();
    for state in bills {
        if remaining == 0 {
            break;
        }
        let late_fee = remaining.min(state.late_fee.fen());
        remaining -= late_fee;
        let principal = remaining.min(state.outstanding.fen().max(0));
        remaining -= principal;
        if late_fee + principal > 0 {
            allocations.push(Allocation { bill_id: state.bill.id, fee_item_id: state.bill.fee_item_id, principal, late_fee });
        }
    }
    (allocations, Money::from_fen(remaining))
}

/// Money received for a unit: allocated to the chosen bills, else to open bills oldest due
/// first; the rest becomes prepaid. Posts, allocates and (for money from outside) issues the
/// receipt, all in `txn`. The caller has checked the actor may do this; `today` is the day in
/// the unit's compound, which says what is overdue.
#[allow(clippy::too_many_arguments)]
pub async fn receive(
    txn: &DatabaseTransaction,
    actor: &Actor,
    unit: &unit::Model,
    today: NaiveDate,
    method: Method,
    amount: Money,
    chosen: Option<&[i64]>,
    payment_order_id: Option<i64>,
) -> Result<Received> {
    if !amount.is_positive() {
        return Err(Error::invalid("amount", "amount must be greater than 0"));
    }
    let mut chain = ledger::lock_chain(txn, unit.compound_id).await?;
    let states = match chosen {
        Some(ids) => {
            let unique: HashSet<&i64> = ids.iter().collect();
            if unique.len() != ids.len() {
                return Err(Error::invalid("bill_ids", "a bill is listed twice"));
            }
            let found = bill::Entity::find().filter(bill::Column::Id.is_in(ids.iter().copied())).all(txn).await?;
            // In the order the payer listed them.
            let mut ordered = Vec::new();
            for id in ids {
                match found.iter().find(|b| b.id == *id && b.unit_id == unit.id) {
                    Some(bill) => ordered.push(bill.clone()),
                    None => return Err(Error::invalid("bill_ids", format!("bill {id} is not a bill of this unit"))),
                }
            }
            billing::bill_states(txn, ordered, today).await?
        }
        None => billing::unit_bill_states(txn, unit.id, today).await?,
    };
    if chosen.is_some()
        && let Some(settled) = states.iter().find(|s| !s.total_due().is_positive())
    {
        return Err(Error::conflict("bill_ids", format!("bill {} is already paid", settled.bill.id)));
    }
    let open: Vec<BillState> = states.into_iter().filter(|s| s.total_due().is_positive()).collect();
    let (allocations, prepaid) = allocate(amount, &open);
    if method == Method::Prepaid && prepaid.is_positive() {
        return Err(Error::Internal(anyhow::anyhow!("prepaid drawn beyond what the bills ask")));
    }

    let recorded = payment::ActiveModel {
        company_id: Set(unit.company_id),
        compound_id: Set(unit.compound_id),
        unit_id: Set(unit.id),
        method: Set(method.as_str().into()),
        amount: Set(amount.fen()),
        received_at: Set(Utc::now()),
        recorded_by: Set(actor.user_id),
        status: Set("posted".into()),
        reversal_reason: Set(None),
        payment_order_id: Set(payment_order_id),
        journal_entry_id: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;

    let mut lines = vec![match method {
        Method::Prepaid => Line::debit(method.account(), amount.fen()).unit(unit.id),
        _ => Line::debit(method.account(), amount.fen()),
    }];
    for a in &allocations {
        if a.principal > 0 {
            lines.push(Line::credit(Account::Receivable, a.principal).unit(unit.id).fee_item(a.fee_item_id));
        }
        if a.late_fee > 0 {
            lines.push(Line::credit(Account::LateFeeRevenue, a.late_fee).unit(unit.id).fee_item(a.fee_item_id));
        }
    }
    if prepaid.is_positive() {
        lines.push(Line::credit(Account::Prepaid, prepaid.fen()).unit(unit.id));
    }
    let entry = ledger::post(
        txn,
        &mut chain,
        Posting {
            company_id: unit.company_id,
            compound_id: unit.compound_id,
            kind: if method == Method::Prepaid { "prepaid_applied" } else { "payment" },
            reference: format!("payment:{}", recorded.id),
            memo: format!("{} {amount}", method.as_str()),
            posted_by: actor.user_id,
            lines,
        },
    )
    .await?;
    if !allocations.is_empty() {
        let rows = allocations.iter().map(|a| payment_allocation::ActiveModel {
            compound_id: Set(unit.compound_id),
            payment_id: Set(recorded.id),
            bill_id: Set(a.bill_id),
            principal: Set(a.principal),
            late_fee: Set(a.late_fee),
            ..Default::default()
        });
        payment_allocation::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    for a in &allocations {
        let state = open.iter().find(|s| s.bill.id == a.bill_id).ok_or(Error::NotFound("bill"))?;
        let mut active = billing::with_late_fee_brought_up_to_date(state, today);
        active.paid = Set(state.bill.paid + a.principal);
        active.late_fee_paid = Set(state.bill.late_fee_paid + a.late_fee);
        active.update(txn).await?;
    }
    let receipt = if method != Method::Prepaid { Some(issue_receipt(txn, &recorded, today.year()).await?) } else { None };
    let mut active: payment::ActiveModel = recorded.into();
    active.journal_entry_id = Set(entry.id);
    Ok(Received { payment: active.update(txn).await?, allocations, receipt })
}

/// What [`receive`] wrote: the payment, how it was split over bills, and its receipt (none for
/// a use of the prepaid balance).
pub struct Received {
    pub payment: payment::Model,
    pub allocations: Vec<Allocation>,
    pub receipt: Option<receipt::Model>,
}

/// The next receipt number of the compound and year. The compound's ledger chain is locked by
/// the caller, so numbers are handed out one at a time and never skipped.
async fn issue_receipt(txn: &DatabaseTransaction, payment: &payment::Model, year: i32) -> Result<receipt::Model> {
    let counted = txn
        .query_one_raw(crate::db::statement(
            txn,
            "INSERT INTO receipt_counters (compound_id, year, last_number) VALUES ($1, $2, 1) \
             ON CONFLICT (compound_id, year) DO UPDATE SET last_number = receipt_counters.last_number + 1 RETURNING last_number",
            vec![payment.compound_id.into(), year.into()],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the receipt counter returned no number"))?;
    let number: i64 = counted.try_get("", "last_number")?;
    Ok(receipt::ActiveModel {
        compound_id: Set(payment.compound_id),
        year: Set(year),
        number: Set(number),
        payment_id: Set(payment.id),
        voided_at: Set(None),
        void_reason: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// A payment taken at the cashier desk.
pub async fn take_payment(
    txn: &DatabaseTransaction,
    actor: &Actor,
    unit_id: i64,
    method: Method,
    amount: Money,
    chosen: Option<&[i64]>,
) -> Result<Received> {
    actor.require(Permission::CollectPayments)?;
    if matches!(method, Method::Online | Method::Prepaid) {
        return Err(Error::invalid("method", "the desk takes cash, bank_transfer or pos"));
    }
    let (unit, compound) = crate::registry::visible_unit_with_compound(actor, unit_id).one(txn).await?.ok_or(Error::NotFound("unit"))?;
    receive(txn, actor, &unit, local_today(&compound), method, amount, chosen, None).await
}

/// Reverses a posted payment (a bounced transfer): its bills reopen, its entry is reversed by
/// a new entry, its receipt is voided and keeps its number.
pub async fn reverse_payment(txn: &DatabaseTransaction, actor: &Actor, payment_id: i64, reason: &str) -> Result<payment::Model> {
    actor.require(Permission::ReversePayments)?;
    let reason = required_text("reason", reason, 500)?;
    let found = find_visible::<payment::Entity>(txn, actor, payment_id).await?;
    let mut chain = ledger::lock_chain(txn, found.compound_id).await?;
    let payment = payment::Entity::find_by_id(found.id).one(txn).await?.ok_or(Error::NotFound("payment"))?;
    if payment.status != "posted" {
        return Err(Error::conflict("id", "the payment is already reversed"));
    }
    if payment.method == Method::Prepaid.as_str() {
        return Err(Error::conflict("id", "a use of the prepaid balance is not reversed on its own"));
    }
    let allocations = payment_allocation::Entity::find().filter(payment_allocation::Column::PaymentId.eq(payment.id)).all(txn).await?;
    let allocated: i64 = allocations.iter().map(|a| a.principal + a.late_fee).sum();
    let prepaid_part = payment.amount - allocated;
    if prepaid_part > 0 && ledger::prepaid_balance(txn, payment.compound_id, payment.unit_id).await? < prepaid_part {
        return Err(Error::conflict("id", "the prepaid part of this payment has been used by later bills; it cannot be reversed"));
    }
    let today = compound_today(txn, payment.compound_id).await?;
    let bills = bill::Entity::find().filter(bill::Column::Id.is_in(allocations.iter().map(|a| a.bill_id))).all(txn).await?;
    let states = billing::bill_states(txn, bills, today).await?;
    for a in &allocations {
        let state = states.iter().find(|s| s.bill.id == a.bill_id).ok_or(Error::NotFound("bill"))?;
        let mut active = billing::with_late_fee_brought_up_to_date(state, today);
        active.paid = Set(state.bill.paid - a.principal);
        active.late_fee_paid = Set(state.bill.late_fee_paid - a.late_fee);
        active.update(txn).await?;
    }
    let original = entity::journal_line::Entity::find()
        .filter(entity::journal_line::Column::EntryId.eq(payment.journal_entry_id))
        .order_by_asc(entity::journal_line::Column::Id)
        .all(txn)
        .await?;
    let lines = original
        .iter()
        .map(|l| {
            let line = ledger::stored_line(l).ok_or_else(|| anyhow::anyhow!("unknown account {}", l.account))?;
            Ok(line.reversed())
        })
        .collect::<Result<Vec<Line>>>()?;
    ledger::post(
        txn,
        &mut chain,
        Posting {
            company_id: payment.company_id,
            compound_id: payment.compound_id,
            kind: "reversal",
            reference: format!("payment:{}", payment.id),
            memo: format!("reversal: {reason}"),
            posted_by: actor.user_id,
            lines,
        },
    )
    .await?;
    receipt::Entity::update_many()
        .col_expr(receipt::Column::VoidedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .col_expr(receipt::Column::VoidReason, sea_orm::sea_query::Expr::value(reason.clone()))
        .filter(receipt::Column::PaymentId.eq(payment.id))
        .exec(txn)
        .await?;
    let mut active: payment::ActiveModel = payment.into();
    active.status = Set("reversed".into());
    active.reversal_reason = Set(Some(reason));
    Ok(active.update(txn).await?)
}

/// Pays part or all of a unit's prepaid balance back.
pub async fn refund_prepaid(
    txn: &DatabaseTransaction,
    actor: &Actor,
    unit_id: i64,
    amount: Money,
    method: Method,
    reason: &str,
) -> Result<refund::Model> {
    actor.require(Permission::CollectPayments)?;
    let reason = required_text("reason", reason, 500)?;
    if !matches!(method, Method::Cash | Method::BankTransfer) {
        return Err(Error::invalid("method", "refunds are paid in cash or by bank transfer"));
    }
    if !amount.is_positive() {
        return Err(Error::invalid("amount", "amount must be greater than 0"));
    }
    let unit = find_visible::<unit::Entity>(txn, actor, unit_id).await?;
    let mut chain = ledger::lock_chain(txn, unit.compound_id).await?;
    let balance = ledger::prepaid_balance(txn, unit.compound_id, unit.id).await?;
    if amount.fen() > balance {
        return Err(Error::conflict("amount", format!("the prepaid balance is only {}", Money::from_fen(balance))));
    }
    let recorded = refund::ActiveModel {
        compound_id: Set(unit.compound_id),
        unit_id: Set(unit.id),
        amount: Set(amount.fen()),
        method: Set(method.as_str().into()),
        reason: Set(reason.clone()),
        staff_id: Set(actor.user_id),
        journal_entry_id: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let entry = ledger::post(
        txn,
        &mut chain,
        Posting {
            company_id: unit.company_id,
            compound_id: unit.compound_id,
            kind: "refund",
            reference: format!("refund:{}", recorded.id),
            memo: format!("refund of prepaid balance: {reason}"),
            posted_by: actor.user_id,
            lines: vec![Line::debit(Account::Prepaid, amount.fen()).unit(unit.id), Line::credit(method.account(), amount.fen())],
        },
    )
    .await?;
    let mut active: refund::ActiveModel = recorded.into();
    active.journal_entry_id = Set(entry.id);
    Ok(active.update(txn).await?)
}

/// Draws every unit's prepaid balance onto its open bills, oldest first. Returns how many
/// units' balances were used.
pub async fn apply_prepaid_balances(txn: &DatabaseTransaction, actor: &Actor, compound_id: i64) -> Result<u64> {
    actor.require(Permission::RunBills)?;
    let compound = find_visible::<compound::Entity>(txn, actor, compound_id).await?;
    ledger::lock_chain(txn, compound.id).await?;
    let today = local_today(&compound);
    let mut applied = 0;
    for (unit_id, balance) in ledger::prepaid_balances(txn, compound.id).await? {
        let open = billing::unit_bill_states(txn, unit_id, today).await?;
        let due: i64 = open.iter().map(|s| s.total_due().fen()).sum();
        if due <= 0 {
            continue;
        }
        let unit = unit::Entity::find_by_id(unit_id).one(txn).await?.ok_or(Error::NotFound("unit"))?;
        receive(txn, actor, &unit, today, Method::Prepaid, Money::from_fen(balance.min(due)), None, None).await?;
        applied += 1;
    }
    Ok(applied)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum IncomeSource {
    /// Advertising in elevators and on common walls.
    ElevatorAds,
    /// Parking on common land.
    Parking,
    /// Rent of other common parts.
    Other,
}

impl IncomeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            IncomeSource::ElevatorAds => "elevator_ads",
            IncomeSource::Parking => "parking",
            IncomeSource::Other => "other",
        }
    }
}

/// Income from common parts, credited to the owners (Art. 282), never to company revenue.
#[allow(clippy::too_many_arguments)]
pub async fn record_common_income(
    txn: &DatabaseTransaction,
    actor: &Actor,
    compound_id: i64,
    source: IncomeSource,
    description: &str,
    amount: Money,
    received_on: NaiveDate,
    method: Method,
) -> Result<common_income::Model> {
    actor.require(Permission::CollectPayments)?;
    let description = required_text("description", description, 500)?;
    if !amount.is_positive() {
        return Err(Error::invalid("amount", "amount must be greater than 0"));
    }
    if !matches!(method, Method::Cash | Method::BankTransfer | Method::Pos) {
        return Err(Error::invalid("method", "income arrives as cash, bank_transfer or pos"));
    }
    let compound = find_visible::<compound::Entity>(txn, actor, compound_id).await?;
    if received_on > local_today(&compound) {
        return Err(Error::invalid("received_on", "income is recorded once received: the date is in the future"));
    }
    let mut chain = ledger::lock_chain(txn, compound.id).await?;
    let recorded = common_income::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        source: Set(source.as_str().into()),
        description: Set(description.clone()),
        amount: Set(amount.fen()),
        received_on: Set(received_on),
        method: Set(method.as_str().into()),
        recorded_by: Set(actor.user_id),
        journal_entry_id: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let entry = ledger::post(
        txn,
        &mut chain,
        Posting {
            company_id: compound.company_id,
            compound_id: compound.id,
            kind: "common_income",
            reference: format!("common_income:{}", recorded.id),
            memo: description,
            posted_by: actor.user_id,
            lines: vec![Line::debit(method.account(), amount.fen()), Line::credit(Account::OwnersCommonIncome, amount.fen())],
        },
    )
    .await?;
    let mut active: common_income::ActiveModel = recorded.into();
    active.journal_entry_id = Set(entry.id);
    Ok(active.update(txn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn state(id: i64, outstanding: i64, late_fee: i64) -> BillState {
        let bill = bill::Model {
            id,
            company_id: 1,
            compound_id: 1,
            unit_id: 1,
            fee_item_id: 9,
            period: "2026-01".into(),
            bill_run_id: 1,
            payer: "owner".into(),
            amount: outstanding,
            adjusted: 0,
            paid: 0,
            late_fee_paid: 0,
            late_fee_waived: 0,
            late_fee_accrued: 0,
            late_fee_accrued_through: None,
            late_fee_fen_days: 0,
            due_date: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            created_at: Utc::now(),
        };
        BillState {
            bill,
            fee_item: "物业费".into(),
            outstanding: Money::from_fen(outstanding),
            late_fee_accrued: Money::from_fen(late_fee),
            late_fee_fen_days: 0,
            late_fee: Money::from_fen(late_fee),
        }
    }

    #[test]
    fn late_fee_before_principal_and_the_rest_prepaid() {
        let bills = [state(1, 10632, 100), state(2, 10632, 0)];
        let (allocations, prepaid) = allocate(Money::from_fen(10632 + 100 + 5000), &bills);
        assert_eq!(
            allocations,
            vec![
                Allocation { bill_id: 1, fee_item_id: 9, principal: 10632, late_fee: 100 },
                Allocation { bill_id: 2, fee_item_id: 9, principal: 5000, late_fee: 0 }
            ]
        );
        assert_eq!(prepaid, Money::ZERO);
        let (_, prepaid) = allocate(Money::from_fen(30000), &bills);
        assert_eq!(prepaid.fen(), 30000 - 10632 * 2 - 100);
    }

    proptest::proptest! {
        #[test]
        fn allocations_and_prepaid_add_up_to_the_payment(
            amount in 1i64..10_000_000,
            owed in proptest::collection::vec((0i64..2_000_000, 0i64..50_000), 0..20),
        ) {
            let bills: Vec<BillState> = owed.iter().enumerate().map(|(i, (principal, late))| state(i as i64, *principal, *late)).collect();
            let (allocations, prepaid) = allocate(Money::from_fen(amount), &bills);
            let allocated: i64 = allocations.iter().map(|a| a.principal + a.late_fee).sum();
            proptest::prop_assert_eq!(allocated + prepaid.fen(), amount);
            for a in &allocations {
                let bill = &bills[a.bill_id as usize];
                proptest::prop_assert!(a.principal <= bill.outstanding.fen() && a.late_fee <= bill.late_fee.fen());
            }
            // Money goes to prepaid only once every bill is settled.
            if prepaid.is_positive() {
                proptest::prop_assert_eq!(allocated, bills.iter().map(|b| b.total_due().fen()).sum::<i64>());
            }
        }
    }

    #[test]
    fn a_partial_payment_pays_late_fee_first() {
        let (allocations, prepaid) = allocate(Money::from_fen(150), &[state(1, 10632, 100)]);
        assert_eq!(allocations, vec![Allocation { bill_id: 1, fee_item_id: 9, principal: 50, late_fee: 100 }]);
        assert_eq!(prepaid, Money::ZERO);
    }
}
