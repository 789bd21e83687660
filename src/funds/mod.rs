//! The maintenance fund (住宅专项维修资金): one sub-ledger (分户账) per unit beside the
//! journal's fund control account, deposits, top-ups, allocations of interest and common-area
//! income, the top-up line, and repair projects paid from the fund (`projects`).
//!
//! Every movement goes through [`post_to_sub_ledgers`], which writes the journal entry (fund
//! bank account against the control account, one line per unit) and the sub-ledger rows in
//! one transaction. [`reconcile`] proves the two agree, unit by unit.
pub mod api;
pub mod projects;
pub mod rules;

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
};

use crate::{
    idempotency,
    auth::{Actor, Permission, Role, tenancy::find_visible},
    config::{Config, Language},
    error::{Error, Result},
    jobs::Counts,
    ledger::{self, Account, Line, Posting},
    mail::{self, NewEmail},
    registry,
    types::{Money, Rate, required_text},
};
use entity::{compound, fund_deposit, fund_movement, fund_policy, fund_top_up_notice, unit};
use rules::{Allocation, DepositBasis};

/// What moved a sub-ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MovementKind {
    /// The initial deposit (首期).
    Deposit,
    /// A top-up (续交).
    TopUp,
    /// The fund's bank interest, allocated.
    Interest,
    /// Income from common parts credited to the fund, allocated.
    CommonIncome,
    /// A unit's share of a repair paid from the fund.
    Repair,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Deposit => "deposit",
            MovementKind::TopUp => "top_up",
            MovementKind::Interest => "interest",
            MovementKind::CommonIncome => "common_income",
            MovementKind::Repair => "repair",
        }
    }
}

/// A posting to the fund: an amount per unit (positive into the sub-ledger, negative out) and
/// the lines on the other side of the journal entry.
pub struct FundPosting {
    pub kind: MovementKind,
    pub reference: String,
    pub memo: String,
    pub occurred_on: NaiveDate,
    pub per_unit: Vec<(i64, Money)>,
    pub other_side: Vec<Line>,
}

/// The current balance of each sub-ledger of a compound, by unit.
pub async fn sub_ledger_balances(db: &impl ConnectionTrait, compound_id: i64) -> Result<HashMap<i64, i64>> {
    let rows = db
        .query_all_raw(crate::db::statement(
            db,
            "SELECT unit_id, CAST(SUM(amount) AS BIGINT) AS balance FROM fund_movements WHERE compound_id = $1 GROUP BY unit_id",
            vec![compound_id.into()],
        ))
        .await?;
    rows.iter().map(|r| Ok((r.try_get("", "unit_id")?, r.try_get("", "balance")?))).collect()
}

/// Posts one fund movement to the journal and to each unit's sub-ledger, in the caller's
/// transaction. Returns the sub-ledger rows, in the order given.
pub async fn post_to_sub_ledgers(
    txn: &impl ConnectionTrait,
    chain: &mut ledger::LockedChain,
    actor: &Actor,
    compound: &compound::Model,
    posting: FundPosting,
) -> Result<Vec<fund_movement::Model>> {
    let mut balances = sub_ledger_balances(txn, compound.id).await?;
    let per_unit: Vec<(i64, Money)> = posting.per_unit.into_iter().filter(|(_, amount)| amount.fen() != 0).collect();
    let mut lines: Vec<Line> = per_unit
        .iter()
        .map(|(unit_id, amount)| {
            let line = if amount.is_positive() { Line::credit(Account::MaintenanceFund, amount.fen()) } else { Line::debit(Account::MaintenanceFund, -amount.fen()) };
            line.unit(*unit_id)
        })
        .collect();
    lines.extend(posting.other_side);
    let entry = ledger::post(
        txn,
        chain,
        Posting {
            company_id: compound.company_id,
            compound_id: compound.id,
            kind: "fund",
            reference: posting.reference.clone(),
            memo: posting.memo.clone(),
            posted_by: actor.user_id,
            lines,
        },
    )
    .await?;
    let now = Utc::now();
    let mut movements = Vec::with_capacity(per_unit.len());
    for (unit_id, amount) in per_unit {
        let balance = balances.entry(unit_id).or_default();
        *balance += amount.fen();
        movements.push(
            fund_movement::ActiveModel {
                company_id: Set(compound.company_id),
                compound_id: Set(compound.id),
                unit_id: Set(unit_id),
                kind: Set(posting.kind.as_str().into()),
                amount: Set(amount.fen()),
                balance_after: Set(*balance),
                reference: Set(posting.reference.clone()),
                memo: Set(posting.memo.clone()),
                occurred_on: Set(posting.occurred_on),
                journal_entry_id: Set(entry.id),
                recorded_by: Set(actor.user_id),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?,
        );
    }
    Ok(movements)
}

// ---------------------------------------------------------------------------------------------
// The compound's standard
// ---------------------------------------------------------------------------------------------

/// A compound's fund standard, as the request gives it.
#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewPolicy {
    pub deposit_basis: DepositBasis,
    /// per_m2: 元 per m², e.g. "90".
    pub deposit_rate: Option<Rate>,
    /// fixed: the amount per unit.
    pub deposit_amount: Option<Money>,
    /// The document the standard comes from, e.g. "市住建委 2019 年第 3 号通知".
    pub source: String,
    /// How interest and common-area income are shared (area when left out).
    pub allocation: Option<Allocation>,
    /// Days an approved repair plan stays on public notice before work starts (7 when left out).
    pub notice_days: Option<i32>,
}

/// Sets (or replaces) a compound's fund standard. Deposits already recorded keep the standard
/// they were computed by.
pub async fn set_policy(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64, new: NewPolicy) -> Result<fund_policy::Model> {
    actor.require(Permission::ManageFund)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let source = required_text("source", &new.source, 500)?;
    let (rate, amount) = match new.deposit_basis {
        DepositBasis::PerM2 => match (new.deposit_rate, new.deposit_amount) {
            (Some(rate), None) if !rate.value().is_zero() => (Some(rate.to_string()), None),
            (_, Some(_)) => return Err(Error::invalid("deposit_amount", "deposit_amount is for a fixed standard; a per_m2 standard gives deposit_rate")),
            _ => return Err(Error::invalid("deposit_rate", "a per_m2 standard needs deposit_rate above 0 (元 per m²)")),
        },
        DepositBasis::Fixed => match (new.deposit_rate, new.deposit_amount) {
            (None, Some(amount)) if amount.is_positive() => (None, Some(amount.fen())),
            (Some(_), _) => return Err(Error::invalid("deposit_rate", "deposit_rate is for a per_m2 standard; a fixed standard gives deposit_amount")),
            _ => return Err(Error::invalid("deposit_amount", "a fixed standard needs deposit_amount above 0")),
        },
    };
    let notice_days = new.notice_days.unwrap_or(7);
    if !(0..=90).contains(&notice_days) {
        return Err(Error::invalid("notice_days", "notice_days must be from 0 to 90"));
    }
    let policy = fund_policy::ActiveModel {
        compound_id: Set(compound.id),
        company_id: Set(compound.company_id),
        deposit_basis: Set(new.deposit_basis.as_str().into()),
        deposit_rate: Set(rate),
        deposit_amount: Set(amount),
        source: Set(source),
        allocation: Set(new.allocation.unwrap_or(Allocation::Area).as_str().into()),
        notice_days: Set(notice_days),
        updated_by: Set(actor.user_id),
        updated_at: Set(Utc::now()),
    };
    fund_policy::Entity::insert(policy)
        .on_conflict(
            OnConflict::column(fund_policy::Column::CompoundId)
                .update_columns([
                    fund_policy::Column::DepositBasis,
                    fund_policy::Column::DepositRate,
                    fund_policy::Column::DepositAmount,
                    fund_policy::Column::Source,
                    fund_policy::Column::Allocation,
                    fund_policy::Column::NoticeDays,
                    fund_policy::Column::UpdatedBy,
                    fund_policy::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    policy_of(db, compound.id).await
}

/// The compound's standard; 409 when none is set yet.
pub async fn policy_of(db: &impl ConnectionTrait, compound_id: i64) -> Result<fund_policy::Model> {
    fund_policy::Entity::find_by_id(compound_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::conflict("policy", "the compound has no maintenance-fund standard yet (PUT /compounds/{id}/fund/policy)"))
}

pub async fn get_policy(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64) -> Result<fund_policy::Model> {
    actor.require(Permission::ReadFund)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    fund_policy::Entity::find_by_id(compound.id).one(db).await?.ok_or(Error::NotFound("maintenance-fund standard"))
}

// ---------------------------------------------------------------------------------------------
// Money in: deposits, top-ups, interest, common-area income
// ---------------------------------------------------------------------------------------------

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewDeposits {
    /// The units whose initial deposit was received; left out: every unit of the compound
    /// without one yet.
    pub unit_ids: Option<Vec<i64>>,
    pub received_on: NaiveDate,
}

/// Records initial deposits computed by the compound's standard, one per unit, all in one
/// journal entry. A unit that already has its initial deposit is refused (409), naming it.
pub async fn record_deposits(db: &DatabaseConnection,
    actor: &Actor,
    compound_id: i64,
    new: NewDeposits,
    key: Option<&str>,
) -> Result<Vec<fund_deposit::Model>> {
    actor.require(Permission::ManageFund)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    check_received_on(new.received_on, &compound)?;
    let policy = policy_of(db, compound.id).await?;
    let basis = DepositBasis::parse(&policy.deposit_basis).ok_or_else(|| anyhow::anyhow!("broken fund standard of compound {}", compound.id))?;
    let rate: Option<Rate> = policy.deposit_rate.as_deref().map(str::parse).transpose().map_err(|e: String| anyhow::anyhow!("stored deposit rate: {e}"))?;
    let request = serde_json::json!(["fund_deposits", compound.id, new.unit_ids, new.received_on]);
    let id = idempotency::once(db, actor, key, &request, async |txn| {
        let mut chain = ledger::lock_chain(txn, compound.id).await?;
        let done: Vec<i64> = fund_deposit::Entity::find().filter(fund_deposit::Column::CompoundId.eq(compound.id)).all(txn).await?.into_iter().map(|d| d.unit_id).collect();
        let all = unit::Entity::find().filter(unit::Column::CompoundId.eq(compound.id)).order_by_asc(unit::Column::Id).all(txn).await?;
        let units: Vec<unit::Model> = match &new.unit_ids {
            None => all.into_iter().filter(|u| !done.contains(&u.id)).collect(),
            Some(ids) => {
                if ids.is_empty() {
                    return Err(Error::invalid("unit_ids", "name at least one unit, or leave unit_ids out for every unit without a deposit"));
                }
                if let Some(id) = ids.iter().find(|id| !all.iter().any(|u| u.id == **id)) {
                    return Err(Error::invalid("unit_ids", format!("unit {id} is not a unit of this compound")));
                }
                if let Some(id) = ids.iter().find(|id| done.contains(id)) {
                    return Err(Error::conflict("unit_ids", format!("unit {id} already has its initial deposit")));
                }
                all.into_iter().filter(|u| ids.contains(&u.id)).collect()
            }
        };
        if units.is_empty() {
            return Err(Error::conflict("unit_ids", "every unit of the compound already has its initial deposit"));
        }
        let mut amounts = Vec::with_capacity(units.len());
        for u in &units {
            let area = registry::unit_area(u);
            let amount = rules::initial_deposit(basis, area, rate, policy.deposit_amount.map(Money::from_fen))
                .ok_or_else(|| anyhow::anyhow!("deposit of unit {} out of range", u.id))?;
            if !amount.is_positive() {
                return Err(Error::conflict("unit_ids", format!("unit {}'s deposit by the standard is {amount}: record it by hand as a top-up", u.id)));
            }
            amounts.push((u, area, amount));
        }
        let total: i64 = amounts.iter().map(|(_, _, a)| a.fen()).sum();
        let movements = post_to_sub_ledgers(
            txn,
            &mut chain,
            actor,
            &compound,
            FundPosting {
                kind: MovementKind::Deposit,
                reference: format!("fund_deposits:{}", compound.id),
                memo: format!("initial deposits, {} units ({})", units.len(), policy.source),
                occurred_on: new.received_on,
                per_unit: amounts.iter().map(|(u, _, a)| (u.id, *a)).collect(),
                other_side: vec![Line::debit(Account::FundBank, total)],
            },
        )
        .await?;
        let mut deposits = Vec::with_capacity(amounts.len());
        // Every deposit is above zero, so each unit has its movement, in order.
        for ((u, area, amount), movement) in amounts.iter().zip(&movements) {
            deposits.push(
                fund_deposit::ActiveModel {
                    company_id: Set(compound.company_id),
                    compound_id: Set(compound.id),
                    unit_id: Set(u.id),
                    basis: Set(basis.as_str().into()),
                    area: Set((basis == DepositBasis::PerM2).then_some(*area)),
                    rate: Set(policy.deposit_rate.clone()),
                    amount: Set(amount.fen()),
                    source: Set(policy.source.clone()),
                    movement_id: Set(movement.id),
                    ..Default::default()
                }
                .insert(txn)
                .await?,
            );
        }
        Ok(movements.first().map_or(0, |m| m.journal_entry_id))
    })
    .await?;
    deposits_posted_by(db, id).await
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewTopUp {
    pub amount: Money,
    pub received_on: NaiveDate,
}

/// A top-up (续交) paid into a unit's sub-ledger.
pub async fn top_up(db: &DatabaseConnection, actor: &Actor, unit_id: i64, new: NewTopUp, key: Option<&str>) -> Result<fund_movement::Model> {
    actor.require(Permission::CollectPayments)?;
    if !new.amount.is_positive() {
        return Err(Error::invalid("amount", "amount must be greater than 0"));
    }
    let unit = find_visible::<unit::Entity>(db, actor, unit_id).await?;
    let compound = compound::Entity::find_by_id(unit.compound_id).one(db).await?.ok_or(Error::NotFound("compound"))?;
    check_received_on(new.received_on, &compound)?;
    // The 30% line is measured against the initial deposit: a unit tops up what it has.
    if fund_deposit::Entity::find().filter(fund_deposit::Column::UnitId.eq(unit.id)).one(db).await?.is_none() {
        return Err(Error::conflict("unit", "the unit has no initial deposit yet: record it first (POST /compounds/{id}/fund/deposits)"));
    }
    let request = serde_json::json!(["fund_top_up", unit.id, new.amount.fen(), new.received_on]);
    let id = idempotency::once(db, actor, key, &request, async |txn| {
        let mut chain = ledger::lock_chain(txn, compound.id).await?;
        let mut movements = post_to_sub_ledgers(
            txn,
            &mut chain,
            actor,
            &compound,
            FundPosting {
                kind: MovementKind::TopUp,
                reference: format!("unit:{}", unit.id),
                memo: "top-up (续交)".into(),
                occurred_on: new.received_on,
                per_unit: vec![(unit.id, new.amount)],
                other_side: vec![Line::debit(Account::FundBank, new.amount.fen())],
            },
        )
        .await?;
        Ok(movements.remove(0).id)
    })
    .await?;
    Ok(fund_movement::Entity::find_by_id(id).one(db).await?.ok_or(Error::NotFound("movement"))?)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FundIncome {
    /// Interest the fund's bank account earned.
    Interest,
    /// Owners' income from common parts (elevator ads, parking), moved from the company's
    /// books (account 2241) into the fund.
    CommonIncome,
}

impl FundIncome {
    pub fn as_str(self) -> &'static str {
        match self {
            FundIncome::Interest => "interest",
            FundIncome::CommonIncome => "common_income",
        }
    }
}

#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewAllocation {
    pub source: FundIncome,
    pub amount: Money,
    pub received_on: NaiveDate,
    pub memo: Option<String>,
}

/// Credits interest or common-area income to every unit that has a sub-ledger, by the
/// compound's allocation rule, exactly to the fen.
pub async fn allocate(db: &DatabaseConnection,
    actor: &Actor,
    compound_id: i64,
    new: NewAllocation,
    key: Option<&str>,
) -> Result<Vec<fund_movement::Model>> {
    actor.require(Permission::ManageFund)?;
    if !new.amount.is_positive() {
        return Err(Error::invalid("amount", "amount must be greater than 0"));
    }
    let memo = match &new.memo {
        Some(memo) => required_text("memo", memo, 200)?,
        None => String::new(),
    };
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    check_received_on(new.received_on, &compound)?;
    let policy = policy_of(db, compound.id).await?;
    let allocation = Allocation::parse(&policy.allocation).ok_or_else(|| anyhow::anyhow!("broken allocation rule of compound {}", compound.id))?;
    let request = serde_json::json!(["fund_allocation", compound.id, new.source.as_str(), new.amount.fen(), new.received_on, new.memo]);
    let id = idempotency::once(db, actor, key, &request, async |txn| {
        let mut chain = ledger::lock_chain(txn, compound.id).await?;
        let deposits = fund_deposit::Entity::find().filter(fund_deposit::Column::CompoundId.eq(compound.id)).order_by_asc(fund_deposit::Column::UnitId).all(txn).await?;
        if deposits.is_empty() {
            return Err(Error::conflict("amount", "no unit of the compound has a sub-ledger yet: record the initial deposits first"));
        }
        let weights: Vec<i64> = match allocation {
            Allocation::Area => {
                let units: HashMap<i64, unit::Model> =
                    unit::Entity::find().filter(unit::Column::Id.is_in(deposits.iter().map(|d| d.unit_id))).all(txn).await?.into_iter().map(|u| (u.id, u)).collect();
                deposits
                    .iter()
                    .map(|d| units.get(&d.unit_id).map_or(0, registry::unit_area))
                    .collect()
            }
            Allocation::Balance => {
                let balances = sub_ledger_balances(txn, compound.id).await?;
                deposits.iter().map(|d| balances.get(&d.unit_id).copied().unwrap_or(0)).collect()
            }
        };
        let shares = rules::spread(new.amount, &weights).map_err(|problem| Error::conflict("amount", problem))?;
        let (kind, other_side, what) = match new.source {
            FundIncome::Interest => (MovementKind::Interest, vec![Line::debit(Account::FundBank, new.amount.fen())], "interest"),
            FundIncome::CommonIncome => {
                let held = -ledger::balance(txn, compound.id, Account::OwnersCommonIncome, None).await?;
                if held < new.amount.fen() {
                    return Err(Error::conflict("amount", format!("the owners' common-area income on hand is only {}", Money::from_fen(held))));
                }
                // The owners' income leaves the company's books for the fund's bank account.
                let lines = vec![
                    Line::debit(Account::OwnersCommonIncome, new.amount.fen()),
                    Line::debit(Account::FundBank, new.amount.fen()),
                    Line::credit(Account::Bank, new.amount.fen()),
                ];
                (MovementKind::CommonIncome, lines, "common-area income")
            }
        };
        let movements = post_to_sub_ledgers(
            txn,
            &mut chain,
            actor,
            &compound,
            FundPosting {
                kind,
                reference: format!("fund_allocation:{}", compound.id),
                memo: if memo.is_empty() { format!("{what} allocated by {}", allocation.as_str()) } else { format!("{what} allocated by {}: {memo}", allocation.as_str()) },
                occurred_on: new.received_on,
                per_unit: deposits.iter().map(|d| d.unit_id).zip(shares).collect(),
                other_side,
            },
        )
        .await?;
        Ok(movements.first().map_or(0, |m| m.journal_entry_id))
    })
    .await?;
    movements_posted_by(db, id).await
}

// ---------------------------------------------------------------------------------------------
// Balances, the check, the top-up line
// ---------------------------------------------------------------------------------------------

/// A unit's sub-ledger at a glance.
pub struct SubLedger {
    pub unit: registry::UnitRecord,
    pub initial_deposit: Option<i64>,
    pub balance: i64,
    pub needs_top_up: bool,
}

/// Every unit of the compound (or just `only`) with its sub-ledger balance, by unit id.
pub async fn sub_ledgers(db: &impl ConnectionTrait, compound_id: i64, only: Option<i64>) -> Result<Vec<SubLedger>> {
    let mut select = unit::Entity::find().filter(unit::Column::CompoundId.eq(compound_id));
    if let Some(unit_id) = only {
        select = select.filter(unit::Column::Id.eq(unit_id));
    }
    let units = select.order_by_asc(unit::Column::Id).all(db).await?;
    let records = registry::unit_records(db, units).await?;
    let deposits: HashMap<i64, i64> =
        fund_deposit::Entity::find().filter(fund_deposit::Column::CompoundId.eq(compound_id)).all(db).await?.into_iter().map(|d| (d.unit_id, d.amount)).collect();
    let balances = sub_ledger_balances(db, compound_id).await?;
    Ok(records
        .into_iter()
        .map(|unit| {
            let initial_deposit = deposits.get(&unit.unit.id).copied();
            let balance = balances.get(&unit.unit.id).copied().unwrap_or(0);
            SubLedger { needs_top_up: initial_deposit.is_some_and(|initial| rules::needs_top_up(balance, initial)), initial_deposit, balance, unit }
        })
        .collect())
}

/// Where the sub-ledgers and the journal disagree about one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// None: journal lines on the control account that name no unit.
    pub unit_id: Option<i64>,
    pub sub_ledger: i64,
    pub journal: i64,
}

pub struct Reconciliation {
    /// The control account's balance in the journal (credit balance).
    pub control_account: i64,
    pub sub_ledger_total: i64,
    /// The fund's bank account in the journal (debit balance).
    pub fund_bank: i64,
    pub mismatches: Vec<Mismatch>,
}

impl Reconciliation {
    pub fn agrees(&self) -> bool {
        self.mismatches.is_empty() && self.control_account == self.sub_ledger_total
    }
}

/// Proves the sub-ledgers add up to the control account: sums each unit's sub-ledger rows and
/// its control-account lines in the journal, and names every unit where they differ.
pub async fn reconcile(db: &impl ConnectionTrait, compound_id: i64) -> Result<Reconciliation> {
    // The fund is a liability: a unit's money is the credit balance of its lines.
    let journal: BTreeMap<Option<i64>, i64> =
        ledger::balances_by_unit(db, compound_id, Account::MaintenanceFund).await?.into_iter().map(|(unit, balance)| (unit, -balance)).collect();
    let sub_ledgers = sub_ledger_balances(db, compound_id).await?;
    let mut units: Vec<Option<i64>> = journal.keys().copied().chain(sub_ledgers.keys().map(|u| Some(*u))).collect();
    units.sort_unstable();
    units.dedup();
    let mismatches = units
        .into_iter()
        .filter_map(|unit_id| {
            let sub_ledger = unit_id.and_then(|u| sub_ledgers.get(&u)).copied().unwrap_or(0);
            let in_journal = journal.get(&unit_id).copied().unwrap_or(0);
            (sub_ledger != in_journal).then_some(Mismatch { unit_id, sub_ledger, journal: in_journal })
        })
        .collect();
    Ok(Reconciliation {
        control_account: journal.values().sum(),
        sub_ledger_total: sub_ledgers.values().sum(),
        fund_bank: ledger::balance(db, compound_id, Account::FundBank, None).await?,
        mismatches,
    })
}

/// The unit whose sub-ledger the actor wants to read: staff and the committee within their
/// reach, or an owner for a unit they own now. The whole history shows: the balance stays with
/// the unit on a sale, so the new owner sees what it holds and how it got there.
pub async fn readable_unit(db: &impl ConnectionTrait, actor: &Actor, unit_id: i64) -> Result<unit::Model> {
    if actor.role == Role::Owner {
        actor.require(Permission::ViewOwnUnits)?;
        if registry::ownership_start(db, actor, unit_id).await?.is_none() {
            return Err(Error::NotFound("unit"));
        }
        return unit::Entity::find_by_id(unit_id).one(db).await?.ok_or(Error::NotFound("unit"));
    }
    actor.require(Permission::ReadFund)?;
    find_visible::<unit::Entity>(db, actor, unit_id).await
}

/// The sub-ledger rows one journal entry posted (an allocation, a repair).
pub async fn movements_posted_by(db: &impl ConnectionTrait, journal_entry_id: i64) -> Result<Vec<fund_movement::Model>> {
    Ok(fund_movement::Entity::find().filter(fund_movement::Column::JournalEntryId.eq(journal_entry_id)).order_by_asc(fund_movement::Column::Id).all(db).await?)
}

/// The initial deposits one journal entry posted.
pub async fn deposits_posted_by(db: &impl ConnectionTrait, journal_entry_id: i64) -> Result<Vec<fund_deposit::Model>> {
    let movements = movements_posted_by(db, journal_entry_id).await?;
    Ok(fund_deposit::Entity::find()
        .filter(fund_deposit::Column::MovementId.is_in(movements.iter().map(|m| m.id)))
        .order_by_asc(fund_deposit::Column::UnitId)
        .all(db)
        .await?)
}

/// Money received is dated on a day that has come, and not before the fund rules (1998).
fn check_received_on(received_on: NaiveDate, compound: &compound::Model) -> Result<()> {
    let today = registry::local_today(compound);
    let earliest = NaiveDate::from_ymd_opt(1998, 1, 1).unwrap_or_default();
    if received_on > today || received_on < earliest {
        return Err(Error::invalid("received_on", format!("received_on must be from {earliest} to today, {today}")));
    }
    Ok(())
}

pub async fn unit_movements(db: &impl ConnectionTrait, unit_id: i64) -> Result<Vec<fund_movement::Model>> {
    Ok(fund_movement::Entity::find().filter(fund_movement::Column::UnitId.eq(unit_id)).order_by_asc(fund_movement::Column::Id).all(db).await?)
}

pub async fn compound_movements(db: &impl ConnectionTrait, compound_id: i64, page: u64, per_page: u64) -> Result<(Vec<fund_movement::Model>, u64)> {
    let select = fund_movement::Entity::find().filter(fund_movement::Column::CompoundId.eq(compound_id));
    let total = select.clone().count(db).await?;
    let items = select.order_by_asc(fund_movement::Column::Id).offset((page - 1) * per_page).limit(per_page).all(db).await?;
    Ok((items, total))
}

/// The scheduled job: tells the owners of every unit whose sub-ledger is below 30% of its
/// initial deposit, once per balance (a later withdrawal that leaves it lower is told again).
pub async fn send_top_up_notices(db: &DatabaseConnection, config: &Config, company_id: i64) -> Result<Counts> {
    let mut counts = Counts::from([("units_below", 0), ("notices", 0), ("emails", 0)]);
    for compound in registry::company_compounds(db, company_id).await? {
        let low: Vec<SubLedger> = sub_ledgers(db, compound.id, None).await?.into_iter().filter(|s| s.needs_top_up).collect();
        *counts.entry("units_below").or_default() += low.len() as i64;
        let last_movements: HashMap<i64, i64> = fund_movement::Entity::find()
            .select_only()
            .column(fund_movement::Column::UnitId)
            .column_as(fund_movement::Column::Id.max(), "last")
            .filter(fund_movement::Column::CompoundId.eq(compound.id))
            .group_by(fund_movement::Column::UnitId)
            .into_tuple::<(i64, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for sub_ledger in low {
            let unit_id = sub_ledger.unit.unit.id;
            let Some(movement_id) = last_movements.get(&unit_id).copied() else { continue };
            let initial = sub_ledger.initial_deposit.unwrap_or(0);
            let owners: Vec<&entity::owner::Model> = if sub_ledger.unit.unit.developer_held {
                Vec::new()
            } else {
                sub_ledger.unit.owners.iter().filter(|(o, _)| o.ended_on.is_none()).map(|(_, owner)| owner).collect()
            };
            let recipients: Vec<&&entity::owner::Model> = owners.iter().filter(|o| o.email.is_some()).collect();
            let txn = crate::db::begin(db).await?;
            let written = fund_top_up_notice::Entity::insert(fund_top_up_notice::ActiveModel {
                company_id: Set(compound.company_id),
                compound_id: Set(compound.id),
                unit_id: Set(unit_id),
                movement_id: Set(movement_id),
                balance: Set(sub_ledger.balance),
                initial_deposit: Set(initial),
                emails: Set(recipients.len() as i32),
                created_at: Set(Utc::now()),
                ..Default::default()
            })
            .on_conflict(OnConflict::columns([fund_top_up_notice::Column::UnitId, fund_top_up_notice::Column::MovementId]).do_nothing().to_owned())
            .exec_without_returning(&txn)
            .await?;
            if written == 0 {
                continue;
            }
            for owner in &recipients {
                let (subject, body) = top_up_letter(config.mail.language, &compound.name, &sub_ledger.unit.label(), sub_ledger.balance, initial);
                mail::enqueue(
                    &txn,
                    NewEmail {
                        company_id: compound.company_id,
                        compound_id: compound.id,
                        kind: "fund_top_up",
                        reference: Some(format!("unit:{unit_id}")),
                        recipient: owner.email.clone().unwrap_or_default(),
                        recipient_name: owner.name.clone(),
                        subject,
                        body,
                        language: config.mail.language,
                    },
                )
                .await?;
            }
            txn.commit().await?;
            *counts.entry("notices").or_default() += 1;
            *counts.entry("emails").or_default() += recipients.len() as i64;
        }
    }
    Ok(counts)
}

fn top_up_letter(language: Language, compound: &str, unit: &str, balance: i64, initial: i64) -> (String, String) {
    let (balance, initial, line) = (Money::from_fen(balance), Money::from_fen(initial), rules::TOP_UP_PERCENT);
    match language {
        Language::Zh => (
            format!("{compound} {unit} 住宅专项维修资金续交通知"),
            format!(
                "{unit} 业主：\n\n您房屋的住宅专项维修资金分户账余额为 {balance} 元，低于首期交存额 {initial} 元的 {line}%。\
                 依照《住宅专项维修资金管理办法》，请及时续交。\n\n{compound} 物业服务中心"
            ),
        ),
        Language::En => (
            format!("{compound} {unit}: maintenance fund top-up due"),
            format!(
                "Dear owner of {unit},\n\nThe maintenance-fund sub-ledger of your unit holds {balance}, below {line}% of its initial deposit of {initial}. \
                 Under the maintenance-fund rules it must be topped up.\n\n{compound} property office"
            ),
        ),
    }
}
