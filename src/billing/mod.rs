//! Fee items, meter readings, bill runs, bills and their adjustments. A bill is never edited or
//! deleted: what changes is recorded beside it (adjustments, payments, late fees) and posted to
//! the ledger in the same transaction.
pub mod api;
pub mod rules;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, FromQueryResult, IdenStatic, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, SelectA, SelectB,
    sea_query::Expr,
};

use crate::{
    auth::{Actor, Permission, tenancy::find_visible},
    error::{Error, Result},
    ledger::{self, Account, Line, Posting},
    registry::{
        Scope, ScopeKind, compound_today,
        rules::{UnitUse, effective_area},
    },
    types::{Money, Period, Rate, Rounding, required_text},
};
use entity::{bill, bill_adjustment, bill_run, compound, fee_item, meter_reading, unit};
use rules::{Charge, Charged, Cycle, FeeRule, FloorCoefficients, LateFeePolicy, NotCharged, Split, UnitBasis};

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    RateArea,
    Fixed,
    Metered,
    Shared,
    FloorCoefficient,
}

impl FeeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeeKind::RateArea => "rate_area",
            FeeKind::Fixed => "fixed",
            FeeKind::Metered => "metered",
            FeeKind::Shared => "shared",
            FeeKind::FloorCoefficient => "floor_coefficient",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RoundingRule {
    HalfUp,
    Down,
    Up,
}

impl RoundingRule {
    pub fn as_str(self) -> &'static str {
        match self {
            RoundingRule::HalfUp => "half_up",
            RoundingRule::Down => "down",
            RoundingRule::Up => "up",
        }
    }

    pub fn half_up() -> RoundingRule {
        RoundingRule::HalfUp
    }

    fn rounding(text: &str) -> Rounding {
        match text {
            "down" => Rounding::Down,
            "up" => Rounding::Up,
            _ => Rounding::HalfUp,
        }
    }
}

/// A fee item's late-fee terms, as the request gives them.
#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct LateFeeTerms {
    /// Share of the overdue principal charged per day, e.g. "0.0003" (0.03%).
    pub daily_rate: Rate,
    #[oai(default)]
    #[serde(default)]
    pub grace_days: i32,
    /// The late fee is at most this share of the principal, e.g. "0.3".
    pub cap: Option<Rate>,
}

/// A new fee item, as the request gives it.
#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewFeeItem {
    pub name: String,
    pub kind: FeeKind,
    /// rate_area and floor_coefficient: 元 per m² per month; metered: 元 per unit read.
    pub rate: Option<Rate>,
    /// fixed: per unit per cycle; shared: the total per cycle.
    pub amount: Option<Money>,
    /// shared: how the total is split.
    pub split: Option<Split>,
    /// Floor -> coefficient, e.g. {"3": "0.7", "4": "0.8"}; floors not listed pay nothing.
    #[oai(default)]
    #[serde(default)]
    pub floor_coefficients: BTreeMap<String, Rate>,
    #[oai(default = "ScopeKind::compound")]
    #[serde(default = "ScopeKind::compound")]
    pub scope: ScopeKind,
    /// The buildings, stairwells or units of the scope.
    #[oai(default)]
    #[serde(default)]
    pub scope_ids: Vec<i64>,
    /// Uses billed; residential and commercial when left out.
    #[oai(default)]
    #[serde(default)]
    pub unit_uses: Vec<UnitUse>,
    pub cycle: Cycle,
    /// Days after the period starts that the bill is due (30 when left out).
    #[oai(default = "default_due_days")]
    #[serde(default = "default_due_days")]
    pub due_days: i32,
    #[oai(default = "RoundingRule::half_up")]
    #[serde(default = "RoundingRule::half_up")]
    pub rounding: RoundingRule,
    pub late_fee: Option<LateFeeTerms>,
    /// The share a vacant unit pays (a local rule), e.g. "0.70".
    pub vacancy_ratio: Option<Rate>,
    pub effective_from: Period,
    pub effective_to: Option<Period>,
}

fn default_due_days() -> i32 {
    30
}

pub async fn create_fee_item(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64, new: NewFeeItem) -> Result<fee_item::Model> {
    actor.require(Permission::ManageFees)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let name = required_text("name", &new.name, 100)?;
    let needs = |present: bool, field: &str, rule: &str| if present { Ok(()) } else { Err(Error::invalid(field, rule.to_string())) };
    match new.kind {
        FeeKind::RateArea | FeeKind::Metered => needs(new.rate.is_some(), "rate", "this kind of fee item needs a rate")?,
        FeeKind::Fixed => needs(new.amount.is_some_and(Money::is_positive), "amount", "a fixed fee needs a positive amount")?,
        FeeKind::Shared => {
            needs(new.amount.is_some_and(Money::is_positive), "amount", "a shared cost needs a positive total")?;
            needs(new.split.is_some(), "split", "a shared cost needs a split: area, equal or coefficient")?;
            if new.split == Some(Split::Coefficient) {
                needs(!new.floor_coefficients.is_empty(), "floor_coefficients", "a split by coefficient needs floor coefficients")?;
            }
        }
        FeeKind::FloorCoefficient => {
            needs(new.rate.is_some(), "rate", "a floor-coefficient fee needs a rate")?;
            needs(!new.floor_coefficients.is_empty(), "floor_coefficients", "a floor-coefficient fee needs floor coefficients")?;
        }
    }
    let irrelevant = match new.kind {
        FeeKind::RateArea | FeeKind::Metered => [("amount", new.amount.is_some()), ("split", new.split.is_some()), ("floor_coefficients", !new.floor_coefficients.is_empty())],
        FeeKind::Fixed => [("rate", new.rate.is_some()), ("split", new.split.is_some()), ("floor_coefficients", !new.floor_coefficients.is_empty())],
        FeeKind::Shared => [("rate", new.rate.is_some()), ("vacancy_ratio", new.vacancy_ratio.is_some()), ("floor_coefficients", new.split != Some(Split::Coefficient) && !new.floor_coefficients.is_empty())],
        FeeKind::FloorCoefficient => [("amount", new.amount.is_some()), ("split", new.split.is_some()), ("rate", false)],
    };
    if let Some((field, _)) = irrelevant.iter().find(|(_, given)| *given) {
        return Err(Error::invalid(field, format!("{field} does not apply to a {} fee item", new.kind.as_str())));
    }
    for floor in new.floor_coefficients.keys() {
        floor.parse::<i32>().map_err(|_| Error::invalid("floor_coefficients", format!("{floor:?} is not a floor number")))?;
    }
    Scope::new(new.scope, &new.scope_ids).check(db, compound.id).await?;
    if !(0..=366).contains(&new.due_days) {
        return Err(Error::invalid("due_days", "due_days must be from 0 to 366"));
    }
    let (late_fee_daily_rate, late_fee_grace_days, late_fee_cap) =
        new.late_fee.as_ref().map_or((None, 0, None), |l| (Some(l.daily_rate), l.grace_days, l.cap));
    if !(0..=3650).contains(&late_fee_grace_days) {
        return Err(Error::invalid("late_fee.grace_days", "late_fee.grace_days must be from 0 to 3650"));
    }
    // Contracts say 0.03%-0.3% a day and courts cut more; 1% a day is surely a typo.
    if late_fee_daily_rate.is_some_and(|r| r.value() > Decimal::new(1, 2)) {
        return Err(Error::invalid("late_fee.daily_rate", "late_fee.daily_rate must be at most 0.01 (1% a day)"));
    }
    for (field, rate) in [("late_fee.daily_rate", late_fee_daily_rate), ("late_fee.cap", late_fee_cap), ("vacancy_ratio", new.vacancy_ratio)] {
        if rate.is_some_and(|r| r.value() > Decimal::ONE) {
            return Err(Error::invalid(field, format!("{field} is a share and must be at most 1")));
        }
    }
    if new.effective_to.is_some_and(|to| to < new.effective_from) {
        return Err(Error::invalid("effective_to", "effective_to is before effective_from"));
    }
    let taken = fee_item::Entity::find().filter(fee_item::Column::CompoundId.eq(compound.id)).filter(fee_item::Column::Name.eq(&name)).count(db).await?;
    if taken > 0 {
        return Err(Error::conflict("name", "the compound already has a fee item with this name"));
    }
    let coefficients: BTreeMap<&String, String> = new.floor_coefficients.iter().map(|(k, v)| (k, v.to_string())).collect();
    let uses = if new.unit_uses.is_empty() { vec![UnitUse::Residential, UnitUse::Commercial] } else { new.unit_uses };
    let item = fee_item::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        name: Set(name),
        kind: Set(new.kind.as_str().into()),
        rate: Set(new.rate.map(|r| r.to_string())),
        amount: Set(new.amount.map(Money::fen)),
        split: Set(new.split.map(|s| s.as_str().into())),
        floor_coefficients: Set((!coefficients.is_empty()).then(|| serde_json::to_string(&coefficients).unwrap_or_default())),
        scope_kind: Set(new.scope.as_str().into()),
        scope_ids: Set(Scope::new(new.scope, &new.scope_ids).ids_json()),
        unit_uses: Set(serde_json::to_string(&uses.iter().map(|u| u.as_str()).collect::<Vec<_>>()).unwrap_or_default()),
        cycle: Set(new.cycle.as_str().into()),
        due_days: Set(new.due_days),
        rounding: Set(new.rounding.as_str().into()),
        late_fee_daily_rate: Set(late_fee_daily_rate.map(|r| r.to_string())),
        late_fee_grace_days: Set(late_fee_grace_days),
        late_fee_cap: Set(late_fee_cap.map(|r| r.to_string())),
        vacancy_ratio: Set(new.vacancy_ratio.map(|r| r.to_string())),
        effective_from: Set(new.effective_from.first_day()),
        effective_to: Set(new.effective_to.map(Period::first_day)),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(item.insert(db).await?)
}

pub async fn list_fee_items(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64) -> Result<Vec<fee_item::Model>> {
    actor.require(Permission::ReadBilling)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    Ok(fee_item::Entity::find().filter(fee_item::Column::CompoundId.eq(compound.id)).order_by_asc(fee_item::Column::Id).all(db).await?)
}

fn decimal(text: &Option<String>) -> Option<Decimal> {
    text.as_deref().and_then(|t| t.parse().ok())
}

/// The stored fee item as a rule the calculations in `rules` understand.
pub fn fee_rule(item: &fee_item::Model) -> Result<FeeRule> {
    let broken = |what: &str| Error::Internal(anyhow::anyhow!("fee item {} has a broken {what}", item.id));
    let coefficients = || -> Result<FloorCoefficients> {
        let map: BTreeMap<String, String> = match &item.floor_coefficients {
            Some(json) => serde_json::from_str(json).map_err(|_| broken("floor_coefficients"))?,
            None => BTreeMap::new(),
        };
        map.into_iter()
            .map(|(floor, c)| Ok((floor.parse().map_err(|_| broken("floor"))?, c.parse().map_err(|_| broken("coefficient"))?)))
            .collect::<Result<BTreeMap<i32, Decimal>>>()
            .map(FloorCoefficients)
    };
    let rate = || decimal(&item.rate).ok_or_else(|| broken("rate"));
    let amount = || item.amount.map(Money::from_fen).ok_or_else(|| broken("amount"));
    let charge = match item.kind.as_str() {
        "rate_area" => Charge::RateArea { rate: rate()? },
        "fixed" => Charge::Fixed { amount: amount()? },
        "metered" => Charge::Metered { price: rate()? },
        "shared" => Charge::Shared {
            total: amount()?,
            split: item.split.as_deref().and_then(Split::parse).ok_or_else(|| broken("split"))?,
            coefficients: coefficients()?,
        },
        "floor_coefficient" => Charge::FloorCoefficient { rate: rate()?, coefficients: coefficients()? },
        _ => return Err(broken("kind")),
    };
    Ok(FeeRule { charge, rounding: RoundingRule::rounding(&item.rounding), vacancy_ratio: decimal(&item.vacancy_ratio) })
}

pub fn late_fee_policy(item: &fee_item::Model) -> Option<LateFeePolicy> {
    late_fee_terms(&item.late_fee_daily_rate, item.late_fee_grace_days, &item.late_fee_cap)
}

/// A fee item's stored late-fee terms as a policy: none without a daily rate.
fn late_fee_terms(daily_rate: &Option<String>, grace_days: i32, cap: &Option<String>) -> Option<LateFeePolicy> {
    decimal(daily_rate).map(|daily_rate| LateFeePolicy { daily_rate, grace_days: grace_days as i64, cap: decimal(cap) })
}

/// Records a meter reading; a second reading for the same unit, item and period is a conflict.
pub async fn record_reading(
    db: &impl ConnectionTrait,
    actor: &Actor,
    fee_item_id: i64,
    unit_id: i64,
    period: Period,
    reading: Rate,
) -> Result<meter_reading::Model> {
    actor.require(Permission::ManageFees)?;
    let item = find_visible::<fee_item::Entity>(db, actor, fee_item_id).await?;
    if item.kind != FeeKind::Metered.as_str() {
        return Err(Error::invalid("fee_item_id", "readings belong to metered fee items"));
    }
    let unit = find_visible::<unit::Entity>(db, actor, unit_id).await?;
    if unit.compound_id != item.compound_id {
        return Err(Error::invalid("unit_id", "the unit is in another compound"));
    }
    let exists = meter_reading::Entity::find()
        .filter(meter_reading::Column::FeeItemId.eq(item.id))
        .filter(meter_reading::Column::UnitId.eq(unit.id))
        .filter(meter_reading::Column::Period.eq(period.to_string()))
        .one(db)
        .await?;
    if exists.is_some() {
        return Err(Error::conflict("period", "this unit already has a reading for the period"));
    }
    let reading = meter_reading::ActiveModel {
        compound_id: Set(item.compound_id),
        fee_item_id: Set(item.id),
        unit_id: Set(unit.id),
        period: Set(period.to_string()),
        reading: Set(reading.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(reading.insert(db).await?)
}

/// What a bill run would create (preview) or created, per fee item.
#[derive(Debug, Default)]
pub struct ItemOutcome {
    pub fee_item_id: i64,
    pub name: String,
    pub bills: u64,
    pub total: Money,
    pub already_billed: u64,
    pub not_charged: Vec<NotCharged>,
    /// Why the item billed nothing at all this period, when it could not (e.g. a split with
    /// nothing to split over). Other items are billed regardless.
    pub problem: Option<String>,
}

#[derive(Debug, Default)]
pub struct BillRunOutcome {
    pub bill_run_id: Option<i64>,
    pub compound_id: i64,
    pub period: Option<Period>,
    pub items: Vec<ItemOutcome>,
    pub bills_created: u64,
    pub already_billed: u64,
    pub total: Money,
}

/// The units a fee item applies to, ordered by id (the order leftover fen follow).
fn in_scope(item: &fee_item::Model, units: &[unit::Model]) -> Result<Vec<UnitBasis>> {
    let uses: Vec<String> = serde_json::from_str(&item.unit_uses).unwrap_or_default();
    let scope = Scope::stored(&item.scope_kind, &item.scope_ids)?;
    Ok(units
        .iter()
        .filter(|u| uses.contains(&u.unit_use))
        .filter(|u| scope.contains(u))
        .filter_map(|u| {
            effective_area(u.registered_area, u.surveyed_area, u.contract_area).map(|(area, _)| UnitBasis {
                unit_id: u.id,
                area,
                floor: u.floor,
                vacant: u.vacant,
                developer_held: u.developer_held,
            })
        })
        .collect())
}

/// (previous, current) readings per unit for a metered item and period.
async fn readings_for(db: &impl ConnectionTrait, item: &fee_item::Model, period: Period) -> Result<BTreeMap<i64, (Decimal, Decimal)>> {
    let all = meter_reading::Entity::find()
        .filter(meter_reading::Column::FeeItemId.eq(item.id))
        .filter(meter_reading::Column::Period.lte(period.to_string()))
        .order_by_asc(meter_reading::Column::Period)
        .all(db)
        .await?;
    let mut by_unit: HashMap<i64, Vec<meter_reading::Model>> = HashMap::new();
    for reading in all {
        by_unit.entry(reading.unit_id).or_default().push(reading);
    }
    let this = period.to_string();
    Ok(by_unit
        .into_iter()
        .filter_map(|(unit_id, readings)| {
            let current = readings.iter().rfind(|r| r.period == this)?;
            let previous = readings.iter().rfind(|r| r.period < this)?;
            Some((unit_id, (previous.reading.parse().ok()?, current.reading.parse().ok()?)))
        })
        .collect())
}

/// How a bill run treats what it works out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Count and total what would be billed; write nothing.
    Preview,
    /// Bill, each bill due `due_days` after its period starts (a run by hand, even of a past
    /// period: back-billing is deliberate).
    Bill,
    /// Bill, each bill due `due_days` after the later of its period's start and this day (the
    /// monthly job: a month billed late is not due before it is billed).
    BillIssuedOn(NaiveDate),
}

/// Bills a compound for a period: every fee item in effect, every unit in its scope, each
/// bill exactly once (a unit that already has its bill is left alone, so a rerun after adding
/// units bills only the new ones).
///
/// The run holds the compound's ledger chain for its whole transaction, so two runs of one
/// compound (on any replicas) happen one after the other and the second finds the first's bills.
pub async fn run_bills(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
    compound_id: i64,
    period: Period,
    mode: RunMode,
) -> Result<BillRunOutcome> {
    actor.require(Permission::RunBills)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let txn = crate::db::begin(db).await?;
    // A preview writes nothing and so leaves the chain to payments.
    let chain = if mode == RunMode::Preview { None } else { Some(ledger::lock_chain(&txn, compound.id).await?) };
    let outcome = bill_compound(&txn, chain, actor, &compound, period, mode).await?;
    txn.commit().await?;
    if mode != RunMode::Preview {
        metrics::counter!("wuye_bills_written_total").increment(outcome.bills_created);
    }
    Ok(outcome)
}

async fn bill_compound(
    txn: &DatabaseTransaction,
    chain: Option<ledger::LockedChain>,
    actor: &Actor,
    compound: &compound::Model,
    period: Period,
    mode: RunMode,
) -> Result<BillRunOutcome> {
    let first_day = period.first_day();
    let due_from = match mode {
        RunMode::BillIssuedOn(day) => first_day.max(day),
        RunMode::Preview | RunMode::Bill => first_day,
    };
    let items = fee_item::Entity::find()
        .filter(fee_item::Column::CompoundId.eq(compound.id))
        .filter(fee_item::Column::EffectiveFrom.lte(first_day))
        .order_by_asc(fee_item::Column::Id)
        .all(txn)
        .await?
        .into_iter()
        .filter(|i| i.effective_to.is_none_or(|to| to >= first_day));
    let units = unit::Entity::find().filter(unit::Column::CompoundId.eq(compound.id)).order_by_asc(unit::Column::Id).all(txn).await?;
    let mut outcome = BillRunOutcome { compound_id: compound.id, period: Some(period), ..Default::default() };
    // (fee item, due date, charge) of every bill to create.
    let mut new_bills: Vec<(i64, NaiveDate, Charged)> = Vec::new();
    for item in items {
        let Some(months) = Cycle::parse(&item.cycle).and_then(|c| c.months_billed(period, Period::containing(item.effective_from))) else {
            continue;
        };
        let basis = in_scope(&item, &units)?;
        let readings = if item.kind == FeeKind::Metered.as_str() { readings_for(txn, &item, period).await? } else { BTreeMap::new() };
        let mut result = ItemOutcome { fee_item_id: item.id, name: item.name.clone(), ..Default::default() };
        let rule = fee_rule(&item)?;
        let charged = match rules::charge_units(&rule, &basis, months, &readings) {
            Ok((charged, not_charged)) => {
                result.not_charged = not_charged;
                charged
            }
            Err(problem) => {
                result.problem = Some(problem);
                outcome.items.push(result);
                continue;
            }
        };
        let billed: HashSet<i64> = bill::Entity::find()
            .select_only()
            .column(bill::Column::UnitId)
            .filter(bill::Column::FeeItemId.eq(item.id))
            .filter(bill::Column::Period.eq(period.to_string()))
            .into_tuple::<i64>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        // A shared cost is split once per period: units added after the split are not billed a
        // share of a total that has already been billed in full.
        let already_split = matches!(rule.charge, Charge::Shared { .. }) && !billed.is_empty();
        for charge in charged {
            if billed.contains(&charge.unit_id) {
                result.already_billed += 1;
                continue;
            }
            if already_split {
                result.not_charged.push(NotCharged { unit_id: charge.unit_id, reason: "the shared cost of this period was split before the unit was added".into() });
                continue;
            }
            result.bills += 1;
            result.total = result.total.checked_add(charge.amount).ok_or_else(|| anyhow::anyhow!("bill run total overflows"))?;
            new_bills.push((item.id, due_from + Duration::days(item.due_days as i64), charge));
        }
        outcome.bills_created += result.bills;
        outcome.already_billed += result.already_billed;
        outcome.total = outcome.total.checked_add(result.total).ok_or_else(|| anyhow::anyhow!("bill run total overflows"))?;
        outcome.items.push(result);
    }
    let Some(mut chain) = chain else {
        return Ok(outcome);
    };
    let run = bill_run::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        period: Set(period.to_string()),
        run_by: Set(actor.user_id),
        bills_created: Set(outcome.bills_created as i64),
        total: Set(outcome.total.fen()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    outcome.bill_run_id = Some(run.id);
    if new_bills.is_empty() {
        return Ok(outcome);
    }
    for chunk in new_bills.chunks(2_000) {
        let rows = chunk.iter().map(|(fee_item_id, due_date, charge)| unpaid_bill(&run, *fee_item_id, charge, *due_date));
        bill::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    // One entry for the run: each unit's receivable, and revenue per fee item.
    let mut lines: Vec<Line> = new_bills.iter().map(|(item, _, c)| Line::debit(Account::Receivable, c.amount.fen()).unit(c.unit_id).fee_item(*item)).collect();
    for item in &outcome.items {
        if item.total.is_positive() {
            lines.push(Line::credit(Account::FeeRevenue, item.total.fen()).fee_item(item.fee_item_id));
        }
    }
    ledger::post(
        txn,
        &mut chain,
        Posting {
            company_id: compound.company_id,
            compound_id: compound.id,
            kind: "bill_run",
            reference: format!("bill_run:{}", run.id),
            memo: format!("bills for {period}"),
            posted_by: actor.user_id,
            lines,
        },
    )
    .await?;
    Ok(outcome)
}

/// A new bill of a bill run: nothing adjusted, paid or accrued on it yet.
fn unpaid_bill(run: &bill_run::Model, fee_item_id: i64, charge: &Charged, due_date: NaiveDate) -> bill::ActiveModel {
    bill::ActiveModel {
        company_id: Set(run.company_id),
        compound_id: Set(run.compound_id),
        unit_id: Set(charge.unit_id),
        fee_item_id: Set(fee_item_id),
        period: Set(run.period.clone()),
        bill_run_id: Set(run.id),
        payer: Set(charge.payer.as_str().into()),
        amount: Set(charge.amount.fen()),
        adjusted: Set(0),
        paid: Set(0),
        late_fee_paid: Set(0),
        late_fee_waived: Set(0),
        late_fee_accrued: Set(0),
        late_fee_accrued_through: Set(None),
        late_fee_fen_days: Set(0),
        due_date: Set(due_date),
        created_at: Set(run.created_at),
        ..Default::default()
    }
}

/// A bill with what is owed on it today.
#[derive(Clone, Debug)]
pub struct BillState {
    pub bill: bill::Model,
    pub fee_item: String,
    /// Principal still owed: amount + adjustments - paid.
    pub outstanding: Money,
    /// Late fee accrued in all as of today, and the fen-days it was computed from.
    pub late_fee_accrued: Money,
    pub late_fee_fen_days: i64,
    /// Late fee owed as of today, after what was paid or waived.
    pub late_fee: Money,
}

impl BillState {
    pub fn total_due(&self) -> Money {
        Money::from_fen(self.outstanding.fen() + self.late_fee.fen())
    }
}

/// The states of bills, their late fees computed as of `as_of`.
pub async fn bill_states(db: &impl ConnectionTrait, bills: Vec<bill::Model>, as_of: NaiveDate) -> Result<Vec<BillState>> {
    let item_ids: HashSet<i64> = bills.iter().map(|b| b.fee_item_id).collect();
    let items: HashMap<i64, fee_item::Model> =
        fee_item::Entity::find().filter(fee_item::Column::Id.is_in(item_ids)).all(db).await?.into_iter().map(|i| (i.id, i)).collect();
    Ok(bills
        .into_iter()
        .map(|bill| {
            let item = items.get(&bill.fee_item_id);
            let (name, policy) = (item.map(|i| i.name.clone()), item.and_then(late_fee_policy));
            bill_state(bill, name, policy, as_of)
        })
        .collect())
}

/// What a bill's state needs of its fee item, read beside the bill: its name and late-fee terms
/// (the whole fee item, decoded for each of a year of bills, was most of the bill list's work).
#[derive(FromQueryResult)]
struct FeeTerms {
    item_name: Option<String>,
    item_late_fee_daily_rate: Option<String>,
    item_late_fee_grace_days: Option<i32>,
    item_late_fee_cap: Option<String>,
}

/// A unit's bills, oldest due first, with their states as of `as_of`: the bills and their fee
/// items in one query (an owner's bill list and every payment ask this).
pub async fn unit_bill_states(db: &impl ConnectionTrait, unit_id: i64, as_of: NaiveDate) -> Result<Vec<BillState>> {
    let query = bill::Entity::find()
        .column_as(fee_item::Column::Name, "item_name")
        .column_as(fee_item::Column::LateFeeDailyRate, "item_late_fee_daily_rate")
        .column_as(fee_item::Column::LateFeeGraceDays, "item_late_fee_grace_days")
        .column_as(fee_item::Column::LateFeeCap, "item_late_fee_cap")
        .join(JoinType::LeftJoin, bill::Entity::belongs_to(fee_item::Entity).from(bill::Column::FeeItemId).to(fee_item::Column::Id).into())
        .filter(bill::Column::UnitId.eq(unit_id))
        .order_by_asc(bill::Column::DueDate)
        .order_by_asc(bill::Column::Id);
    let rows = db.query_all_raw(query.build(db.get_database_backend())).await?;
    rows.iter()
        .map(|row| {
            let (bill, terms) = (bill::Model::from_query_result(row, "")?, FeeTerms::from_query_result(row, "")?);
            let policy = late_fee_terms(&terms.item_late_fee_daily_rate, terms.item_late_fee_grace_days.unwrap_or(0), &terms.item_late_fee_cap);
            Ok(bill_state(bill, terms.item_name, policy, as_of))
        })
        .collect()
}

fn bill_state(bill: bill::Model, fee_item: Option<String>, policy: Option<LateFeePolicy>, as_of: NaiveDate) -> BillState {
    let outstanding = Money::from_fen(bill.amount + bill.adjusted - bill.paid);
    let accrued = rules::Accrued { fen_days: bill.late_fee_fen_days, through: bill.late_fee_accrued_through, billed: Money::from_fen(bill.amount + bill.adjusted) };
    let accrued = match policy {
        Some(policy) => rules::late_fee(outstanding, bill.due_date, as_of, &policy, accrued),
        None => rules::LateFee { fen_days: 0, amount: Money::ZERO },
    };
    let late_fee = Money::from_fen((accrued.amount.fen() - bill.late_fee_paid - bill.late_fee_waived).max(0));
    BillState {
        fee_item: fee_item.unwrap_or_default(),
        outstanding,
        late_fee_accrued: accrued.amount,
        late_fee_fen_days: accrued.fen_days,
        late_fee,
        bill,
    }
}

/// The bill, ready for its principal owed to change: the late fee accrued so far is written
/// down as of `today`, so that from now on it runs on the new principal.
pub fn with_late_fee_brought_up_to_date(state: &BillState, today: NaiveDate) -> bill::ActiveModel {
    let mut active: bill::ActiveModel = state.bill.clone().into();
    active.late_fee_accrued = Set(state.late_fee_accrued.fen());
    active.late_fee_fen_days = Set(state.late_fee_fen_days);
    active.late_fee_accrued_through = Set(Some(today));
    active
}

/// The condition "principal still owed on the bill" (amount + adjustments - paid > 0), for queries.
pub fn principal_still_owed() -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Expr::col(bill::Column::Amount).add(Expr::col(bill::Column::Adjusted)).sub(Expr::col(bill::Column::Paid)).gt(0)
}

/// A unit's bills, oldest due first.
pub async fn unit_bills(db: &impl ConnectionTrait, unit_id: i64) -> Result<Vec<bill::Model>> {
    Ok(bill::Entity::find()
        .filter(bill::Column::UnitId.eq(unit_id))
        .order_by_asc(bill::Column::DueDate)
        .order_by_asc(bill::Column::Id)
        .all(db)
        .await?)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentKind {
    /// Forgive part or all of the bill (negative amount).
    Waiver,
    /// A discount granted (negative amount).
    Discount,
    /// A correction either way.
    Correction,
    /// Forgive late fee (positive amount, at most the late fee owed today).
    LateFeeWaiver,
}

impl AdjustmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AdjustmentKind::Waiver => "waiver",
            AdjustmentKind::Discount => "discount",
            AdjustmentKind::Correction => "correction",
            AdjustmentKind::LateFeeWaiver => "late_fee_waiver",
        }
    }
}

/// Adjusts a bill, with a reason and the staff member, inside the caller's transaction. A
/// principal adjustment posts to the ledger; a late-fee waiver does not, since late fees are
/// recognised as revenue only when collected.
pub async fn adjust_bill(
    txn: &DatabaseTransaction,
    actor: &Actor,
    bill_id: i64,
    kind: AdjustmentKind,
    amount: Money,
    reason: &str,
) -> Result<bill_adjustment::Model> {
    actor.require(Permission::AdjustBills)?;
    let reason = required_text("reason", reason, 500)?;
    let found = find_visible::<bill::Entity>(txn, actor, bill_id).await?;
    let mut chain = ledger::lock_chain(txn, found.compound_id).await?;
    // Re-read under the lock: a payment may have landed meanwhile.
    let bill = bill::Entity::find_by_id(found.id).one(txn).await?.ok_or(Error::NotFound("bill"))?;
    let today = compound_today(txn, bill.compound_id).await?;
    let state = bill_states(txn, vec![bill.clone()], today).await?.remove(0);
    let journal_entry_id = match kind {
        AdjustmentKind::LateFeeWaiver => {
            if !amount.is_positive() || amount > state.late_fee {
                return Err(Error::invalid("amount", format!("a late-fee waiver must be positive and at most the late fee owed, {}", state.late_fee)));
            }
            let mut active: bill::ActiveModel = bill.clone().into();
            active.late_fee_waived = Set(bill.late_fee_waived + amount.fen());
            active.update(txn).await?;
            None
        }
        _ => {
            let lowering = matches!(kind, AdjustmentKind::Waiver | AdjustmentKind::Discount);
            if amount.fen() == 0 || (lowering && amount.is_positive()) {
                return Err(Error::invalid("amount", "waivers and discounts are negative amounts; corrections are non-zero"));
            }
            let due_after = bill.amount + bill.adjusted + amount.fen(); // amounts from outside are capped: no overflow
            if due_after < 0 {
                return Err(Error::invalid("amount", "a bill cannot ask for less than nothing"));
            }
            if due_after < bill.paid {
                return Err(Error::invalid("amount", format!("the bill would ask for less than the {} already paid; refund instead", Money::from_fen(bill.paid))));
            }
            let fen = amount.fen().abs();
            // Fee revenue, unless the bill collects for someone else (elevator-retrofit shares).
            let item = fee_item::Entity::find_by_id(bill.fee_item_id).one(txn).await?.ok_or(Error::NotFound("fee item"))?;
            let credited = item.credit_account.as_deref().and_then(Account::from_code).unwrap_or(Account::FeeRevenue);
            let (receivable, revenue) = if amount.is_positive() {
                (Line::debit(Account::Receivable, fen), Line::credit(credited, fen))
            } else {
                (Line::credit(Account::Receivable, fen), Line::debit(credited, fen))
            };
            let entry = ledger::post(
                txn,
                &mut chain,
                Posting {
                    company_id: bill.company_id,
                    compound_id: bill.compound_id,
                    kind: "adjustment",
                    reference: format!("bill:{}", bill.id),
                    memo: format!("{}: {reason}", kind.as_str()),
                    posted_by: actor.user_id,
                    lines: vec![receivable.unit(bill.unit_id).fee_item(bill.fee_item_id), revenue.fee_item(bill.fee_item_id)],
                },
            )
            .await?;
            let mut active = with_late_fee_brought_up_to_date(&state, today);
            active.adjusted = Set(bill.adjusted + amount.fen());
            active.update(txn).await?;
            Some(entry.id)
        }
    };
    let adjustment = bill_adjustment::ActiveModel {
        compound_id: Set(bill.compound_id),
        bill_id: Set(bill.id),
        kind: Set(kind.as_str().into()),
        amount: Set(amount.fen()),
        reason: Set(reason),
        staff_id: Set(actor.user_id),
        journal_entry_id: Set(journal_entry_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(adjustment.insert(txn).await?)
}

pub async fn bill_adjustments(db: &impl ConnectionTrait, bill_id: i64) -> Result<Vec<bill_adjustment::Model>> {
    Ok(bill_adjustment::Entity::find().filter(bill_adjustment::Column::BillId.eq(bill_id)).order_by_asc(bill_adjustment::Column::Id).all(db).await?)
}

/// Whether the actor may read money at all: staff who read billing, or owners (their own).
/// Checked before any record is looked up, so that a refusal reveals nothing.
pub fn may_read_money(actor: &Actor) -> Result<()> {
    actor.require(if actor.role == crate::auth::Role::Owner { Permission::PayOwnBills } else { Permission::ReadBilling })
}

/// A unit whose money the actor may read, with its compound, whose calendar day says what is
/// overdue. For an owner, only what dates from their ownership: bills of earlier periods and
/// earlier payments are the previous owner's (arrears stay with the seller), and no business of
/// the buyer.
pub struct ReadableUnit {
    pub unit: unit::Model,
    pub compound: compound::Model,
    /// For an owner, the day their ownership began; None for staff, who see everything.
    pub owner_since: Option<NaiveDate>,
}

impl ReadableUnit {
    pub fn shows_bill(&self, bill: &bill::Model) -> bool {
        self.owner_since.is_none_or(|since| bill.period >= Period::containing(since).to_string())
    }

    pub fn shows_payment(&self, payment: &entity::payment::Model) -> bool {
        self.owner_since.is_none_or(|since| payment.received_at.date_naive() >= since)
    }

    /// The compound's calendar day today.
    pub fn today(&self) -> NaiveDate {
        crate::registry::local_today(&self.compound)
    }
}

/// The unit whose money the actor wants to read: staff who read billing, within their reach,
/// or an owner, for their own units only. One round trip (every bill list and payment screen
/// starts here): the unit, its compound and, for an owner, when their ownership began.
pub async fn readable_unit(db: &impl ConnectionTrait, actor: &Actor, unit_id: i64) -> Result<ReadableUnit> {
    may_read_money(actor)?;
    let mut query = crate::registry::visible_unit_with_compound(actor, unit_id);
    let owner = actor.role == crate::auth::Role::Owner;
    if owner {
        let since = crate::registry::ownership_start_query(actor, Expr::col((unit::Entity, unit::Column::Id)));
        query = query.expr_as(since, "owner_since");
    }
    let row = db.query_one_raw(query.build(db.get_database_backend())).await?.ok_or(Error::NotFound("unit"))?;
    let unit = unit::Model::from_query_result(&row, SelectA.as_str())?;
    let compound = compound::Model::from_query_result(&row, SelectB.as_str())?;
    let owner_since = if owner { Some(row.try_get::<Option<NaiveDate>>("", "owner_since")?.ok_or(Error::NotFound("unit"))?) } else { None };
    Ok(ReadableUnit { unit, compound, owner_since })
}

pub async fn list_bill_runs(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64) -> Result<Vec<bill_run::Model>> {
    actor.require(Permission::ReadBilling)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    Ok(bill_run::Entity::find().filter(bill_run::Column::CompoundId.eq(compound.id)).order_by_desc(bill_run::Column::Id).all(db).await?)
}

/// The daily late-fee accrual of a company's compounds: each overdue bill with principal owed
/// and a late-fee policy gets its late fee written down as of the compound's today, so that
/// what is owed can be read (and summed) straight from the bills. Exact: the late fee is kept
/// as fen-days (see [`rules::late_fee`]), so daily write-downs lose nothing to rounding; a
/// second run on the same day changes nothing.
pub async fn accrue_late_fees(db: &sea_orm::DatabaseConnection, company_id: i64) -> Result<crate::jobs::Counts> {
    let mut counts = crate::jobs::Counts::from([("compounds", 0), ("bills", 0)]);
    let compounds = crate::registry::company_compounds(db, company_id).await?;
    for compound in compounds {
        let today = crate::registry::local_today(&compound);
        let txn = crate::db::begin(db).await?;
        // Payments write the same bills down; the chain lock puts them one after the other.
        ledger::lock_chain(&txn, compound.id).await?;
        let with_policy: Vec<i64> = fee_item::Entity::find()
            .select_only()
            .column(fee_item::Column::Id)
            .filter(fee_item::Column::CompoundId.eq(compound.id))
            .filter(fee_item::Column::LateFeeDailyRate.is_not_null())
            .into_tuple()
            .all(&txn)
            .await?;
        let overdue = bill::Entity::find()
            .filter(bill::Column::CompoundId.eq(compound.id))
            .filter(bill::Column::FeeItemId.is_in(with_policy))
            .filter(bill::Column::DueDate.lt(today))
            .filter(principal_still_owed())
            .all(&txn)
            .await?;
        for state in bill_states(&txn, overdue, today).await? {
            if state.bill.late_fee_accrued_through == Some(today) {
                continue;
            }
            with_late_fee_brought_up_to_date(&state, today).update(&txn).await?;
            *counts.entry("bills").or_default() += 1;
        }
        txn.commit().await?;
        *counts.entry("compounds").or_default() += 1;
    }
    Ok(counts)
}

/// One-off bills outside the monthly run, to be posted against `credit`: a paid repair
/// (fee revenue), elevator-retrofit shares (collected for the stairwell's project).
pub struct OneOffBills {
    pub company_id: i64,
    pub compound_id: i64,
    /// The fee item's name, which the bills show.
    pub item_name: String,
    pub credit: Account,
    pub memo: String,
    /// Each instalment's period, due date and charges; periods must differ (a bill is unique
    /// per unit, item and period).
    pub instalments: Vec<(Period, NaiveDate, Vec<Charged>)>,
}

/// Writes one-off bills in the caller's transaction: a one-off fee item whose scope holds no
/// unit (so no bill run ever bills it again), a bill run per instalment with its bills, and
/// each run's ledger entry (receivable by unit against `credit`).
pub async fn one_off_bills(txn: &DatabaseTransaction, actor: &Actor, bills: OneOffBills) -> Result<(fee_item::Model, Vec<bill::Model>)> {
    let mut chain = ledger::lock_chain(txn, bills.compound_id).await?;
    let (Some(first), Some(last)) = (bills.instalments.first().map(|i| i.0), bills.instalments.last().map(|i| i.0)) else {
        return Err(Error::invalid("instalments", "there is nothing to bill"));
    };
    let now = Utc::now();
    let billed: i64 = bills.instalments.iter().flat_map(|i| &i.2).map(|c| c.amount.fen()).sum();
    let item = fee_item::ActiveModel {
        company_id: Set(bills.company_id),
        compound_id: Set(bills.compound_id),
        name: Set(bills.item_name),
        kind: Set(FeeKind::Fixed.as_str().into()),
        // What was billed in all; the empty scope means a bill run charges nobody by it.
        amount: Set(Some(billed)),
        credit_account: Set(Some(bills.credit.code().to_string())),
        scope_kind: Set(ScopeKind::Units.as_str().into()),
        scope_ids: Set("[]".into()),
        unit_uses: Set("[]".into()),
        cycle: Set(Cycle::OneOff.as_str().into()),
        due_days: Set(15),
        rounding: Set(RoundingRule::half_up().as_str().into()),
        late_fee_grace_days: Set(0),
        effective_from: Set(first.first_day()),
        effective_to: Set(Some(last.first_day())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut written = Vec::new();
    for (period, due, charges) in bills.instalments {
        let total: i64 = charges.iter().map(|c| c.amount.fen()).sum();
        let run = bill_run::ActiveModel {
            company_id: Set(bills.company_id),
            compound_id: Set(bills.compound_id),
            period: Set(period.to_string()),
            run_by: Set(actor.user_id),
            bills_created: Set(charges.len() as i64),
            total: Set(total),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let mut lines = Vec::with_capacity(charges.len() + 1);
        for charge in &charges {
            written.push(unpaid_bill(&run, item.id, charge, due).insert(txn).await?);
            lines.push(Line::debit(Account::Receivable, charge.amount.fen()).unit(charge.unit_id).fee_item(item.id));
        }
        lines.push(Line::credit(bills.credit, total).fee_item(item.id));
        ledger::post(
            txn,
            &mut chain,
            Posting {
                company_id: bills.company_id,
                compound_id: bills.compound_id,
                kind: "bill_run",
                reference: format!("bill_run:{}", run.id),
                memo: bills.memo.clone(),
                posted_by: actor.user_id,
                lines,
            },
        )
        .await?;
    }
    Ok((item, written))
}

/// Bills an owner for a paid repair in their flat (a ticket routed to the owner): one bill on
/// the ticket's unit due in 15 days, as fee revenue.
pub async fn bill_paid_repair(txn: &DatabaseTransaction, actor: &Actor, ticket: &entity::ticket::Model, amount: Money) -> Result<bill::Model> {
    let today = compound_today(txn, ticket.compound_id).await?;
    let charge = Charged { unit_id: ticket.unit_id, amount, payer: rules::Payer::Owner };
    let (_, mut bills) = one_off_bills(
        txn,
        actor,
        OneOffBills {
            company_id: ticket.company_id,
            compound_id: ticket.compound_id,
            item_name: format!("有偿维修 工单#{}", ticket.id),
            credit: Account::FeeRevenue,
            memo: format!("paid repair, ticket {}", ticket.id),
            instalments: vec![(Period::containing(today), today + Duration::days(15), vec![charge])],
        },
    )
    .await?;
    Ok(bills.remove(0))
}
