//! The owners' committee's audit desk: read-only reports of one compound, each as JSON and as
//! CSV (UTF-8 with a byte-order mark, for Excel), personal data masked for the committee.
//!
//! Every report is computed here from what the other areas keep (bills, the journal, the fund's
//! sub-ledgers, projects, tickets, the staff action log), in a few queries per compound whatever
//! its size: sums are grouped in the database, and units are looked up once per report. The
//! report types are the read model itself: the JSON answer, the CSV file and the annual
//! disclosure notice are all written from the same values.
pub mod api;
mod chart;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use poem_openapi::Object;
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    auth::{Actor, Permission, Role, tenancy::find_visible},
    billing,
    error::{Error, Result},
    funds::{self, MovementKind, projects},
    ledger::Account,
    notices::{self, NewNotice, NoticeCategory},
    registry::{self, Scope, ScopeKind, UnitRecord, api::OwnerView},
    types::{Area, Money, Period, Phone},
};
use entity::{bill, compound, fee_item, fund_project, fund_project_share, journal_entry, journal_line, staff_action, unit};

/// The compound whose books the actor wants to audit: `ReadAudit` first (a refusal says nothing
/// about the id), then the compound within the actor's reach (a committee member's own only).
pub async fn compound_for_audit(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64) -> Result<compound::Model> {
    actor.require(Permission::ReadAudit)?;
    find_visible::<compound::Entity>(db, actor, compound_id).await
}

/// The moment a day begins where the compound is. Days before 1990 or more than a year ahead are
/// refused: no book of a renovated compound reaches them.
fn day_start(compound: &compound::Model, day: NaiveDate, field: &str) -> Result<DateTime<Utc>> {
    let earliest = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default();
    let latest = registry::local_today(compound) + chrono::Duration::days(366);
    if day < earliest || day > latest {
        return Err(Error::invalid(field, format!("{field} must be from {earliest} to {latest}")));
    }
    let zone: chrono_tz::Tz = compound.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    day.and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(zone).earliest())
        .map(|start| start.with_timezone(&Utc))
        .ok_or_else(|| Error::invalid(field, format!("{field} is out of range")))
}

/// The moments a range of the compound's days begins and ends (the end exclusive).
fn day_range(compound: &compound::Model, from: NaiveDate, to: NaiveDate) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    if from > to {
        return Err(Error::invalid("from", "from must not be after to"));
    }
    if (to - from).num_days() > 3660 {
        return Err(Error::invalid("to", "at most ten years at a time"));
    }
    let after = to.succ_opt().ok_or_else(|| Error::invalid("to", "to is out of range"))?;
    Ok((day_start(compound, from, "from")?, day_start(compound, after, "to")?))
}

/// `part` of `whole` in percent with one decimal, half up ("87.5"); None when `whole` is nothing.
pub fn percent(part: i64, whole: i64) -> Option<String> {
    if whole <= 0 {
        return None;
    }
    let mut share = (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    share.rescale(1);
    Some(share.to_string())
}

/// Every unit of the compound with its building, stairwell and current owners, by id: read
/// once per report (three queries), never per row.
async fn unit_records_of(db: &impl ConnectionTrait, compound_id: i64) -> Result<HashMap<i64, UnitRecord>> {
    let units = unit::Entity::find().filter(unit::Column::CompoundId.eq(compound_id)).all(db).await?;
    Ok(registry::unit_records(db, units).await?.into_iter().map(|r| (r.unit.id, r)).collect())
}

fn fee_item_name(names: &HashMap<i64, String>, id: Option<i64>) -> String {
    id.and_then(|id| names.get(&id).cloned()).unwrap_or_default()
}

async fn fee_item_names(db: &impl ConnectionTrait, compound_id: i64) -> Result<HashMap<i64, String>> {
    let items = fee_item::Entity::find().filter(fee_item::Column::CompoundId.eq(compound_id)).all(db).await?;
    Ok(items.into_iter().map(|i| (i.id, i.name)).collect())
}

/// What one raw statement gives back, as rows.
async fn rows(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Result<Vec<sea_orm::QueryResult>> {
    Ok(db.query_all_raw(crate::db::statement(db, sql, values)).await?)
}

// ---------------------------------------------------------------------------------------------
// 1. Collection
// ---------------------------------------------------------------------------------------------

/// Billed, collected and outstanding principal of a group of bills.
#[derive(Object, Clone, Debug, PartialEq)]
pub struct CollectionFigures {
    pub bills: u64,
    /// What the bills ask: their amounts plus adjustments (waivers and discounts lower it).
    pub billed: Money,
    /// Principal paid, whichever way (desk, online, drawn from a prepaid balance).
    pub collected: Money,
    /// Billed less collected: principal still owed.
    pub outstanding: Money,
    /// Collected as a share of billed, in percent with one decimal ("87.5"); none when nothing
    /// was billed.
    pub collection_rate: Option<String>,
    /// Late fees paid on these bills, apart from the principal.
    pub late_fees_collected: Money,
}

/// Sums of bills, in fen.
#[derive(Clone, Copy, Debug, Default)]
struct BillSums {
    bills: u64,
    billed: i64,
    collected: i64,
    late_fees: i64,
}

impl BillSums {
    fn add(&mut self, other: BillSums) {
        self.bills += other.bills;
        self.billed += other.billed;
        self.collected += other.collected;
        self.late_fees += other.late_fees;
    }

    fn figures(self) -> CollectionFigures {
        CollectionFigures {
            bills: self.bills,
            billed: Money::from_fen(self.billed),
            collected: Money::from_fen(self.collected),
            outstanding: Money::from_fen(self.billed - self.collected),
            collection_rate: percent(self.collected, self.billed),
            late_fees_collected: Money::from_fen(self.late_fees),
        }
    }
}

#[derive(Object)]
pub struct CollectionRow {
    /// The bills' period.
    pub period: Period,
    pub fee_item_id: i64,
    pub fee_item: String,
    #[oai(flatten)]
    pub figures: CollectionFigures,
}

#[derive(Object)]
pub struct FeeItemCollection {
    pub fee_item_id: i64,
    pub fee_item: String,
    #[oai(flatten)]
    pub figures: CollectionFigures,
}

/// Collection of the bills of a range of periods, as the bills stand now.
#[derive(Object)]
pub struct CollectionReport {
    pub compound_id: i64,
    pub from: Period,
    pub to: Period,
    /// By period and fee item, oldest period first.
    pub rows: Vec<CollectionRow>,
    /// By fee item, over the whole range.
    pub by_fee_item: Vec<FeeItemCollection>,
    pub total: CollectionFigures,
}

/// Bill sums by period and fee item of bills whose period is from `from` to `to`.
async fn bill_sums(db: &impl ConnectionTrait, compound_id: i64, from: Period, to: Period) -> Result<Vec<(Period, i64, BillSums)>> {
    let found = rows(
        db,
        "SELECT period, fee_item_id, COUNT(*) AS bills, CAST(SUM(amount + adjusted) AS BIGINT) AS billed, \
         CAST(SUM(paid) AS BIGINT) AS collected, CAST(SUM(late_fee_paid) AS BIGINT) AS late_fees \
         FROM bills WHERE compound_id = $1 AND period >= $2 AND period <= $3 GROUP BY period, fee_item_id ORDER BY period, fee_item_id",
        vec![compound_id.into(), from.to_string().into(), to.to_string().into()],
    )
    .await?;
    found
        .iter()
        .map(|row| {
            let period: String = row.try_get("", "period")?;
            let period = period.parse().map_err(|e: String| Error::Internal(anyhow::anyhow!("a stored bill period: {e}")))?;
            let bills: i64 = row.try_get("", "bills")?;
            let sums = BillSums { bills: bills as u64, billed: row.try_get("", "billed")?, collected: row.try_get("", "collected")?, late_fees: row.try_get("", "late_fees")? };
            Ok((period, row.try_get("", "fee_item_id")?, sums))
        })
        .collect()
}

/// Billed, collected and outstanding by period and fee item, for bills of the periods from
/// `from` to `to` (at most ten years).
pub async fn collection(db: &impl ConnectionTrait, compound: &compound::Model, from: Period, to: Period) -> Result<CollectionReport> {
    if from > to {
        return Err(Error::invalid("from", "from must not be after to"));
    }
    if to > from.plus_months(119) {
        return Err(Error::invalid("to", "at most ten years (120 periods) at a time"));
    }
    let names = fee_item_names(db, compound.id).await?;
    let sums = bill_sums(db, compound.id, from, to).await?;
    let mut total = BillSums::default();
    let mut by_item: BTreeMap<i64, BillSums> = BTreeMap::new();
    let rows = sums
        .into_iter()
        .map(|(period, fee_item_id, sums)| {
            total.add(sums);
            by_item.entry(fee_item_id).or_default().add(sums);
            CollectionRow { period, fee_item_id, fee_item: fee_item_name(&names, Some(fee_item_id)), figures: sums.figures() }
        })
        .collect();
    Ok(CollectionReport {
        compound_id: compound.id,
        from,
        to,
        rows,
        by_fee_item: by_item
            .into_iter()
            .map(|(fee_item_id, sums)| FeeItemCollection { fee_item_id, fee_item: fee_item_name(&names, Some(fee_item_id)), figures: sums.figures() })
            .collect(),
        total: total.figures(),
    })
}

// ---------------------------------------------------------------------------------------------
// 2. Arrears aging
// ---------------------------------------------------------------------------------------------

/// Overdue principal by days past the due date.
#[derive(Object, Clone, Debug, Default, PartialEq)]
pub struct AgingBuckets {
    /// 1 to 30 days past due.
    #[oai(rename = "0-30")]
    pub up_to_30: Money,
    #[oai(rename = "31-90")]
    pub up_to_90: Money,
    #[oai(rename = "91-180")]
    pub up_to_180: Money,
    /// More than 180 days past due.
    pub over_180: Money,
}

impl AgingBuckets {
    /// The buckets' names, as the JSON and the CSV header say them.
    pub const NAMES: [&'static str; 4] = ["0-30", "31-90", "91-180", "over_180"];

    fn of(fen: [i64; 4]) -> AgingBuckets {
        AgingBuckets { up_to_30: Money::from_fen(fen[0]), up_to_90: Money::from_fen(fen[1]), up_to_180: Money::from_fen(fen[2]), over_180: Money::from_fen(fen[3]) }
    }

    pub fn amounts(&self) -> [Money; 4] {
        [self.up_to_30, self.up_to_90, self.up_to_180, self.over_180]
    }
}

/// Which bucket a bill this many days past due falls in (1-30, 31-90, 91-180, over 180).
pub fn bucket(days_past_due: i64) -> usize {
    match days_past_due {
        ..=30 => 0,
        31..=90 => 1,
        91..=180 => 2,
        _ => 3,
    }
}

#[derive(Object)]
pub struct AgingUnit {
    pub unit_id: i64,
    /// Building, stairwell, number.
    pub unit: String,
    /// The developer holds the unit and pays its bills.
    pub developer_held: bool,
    /// The owners now; phones masked for the committee (138****1234), never an ID number.
    pub owners: Vec<OwnerView>,
    /// Overdue bills with principal owed.
    pub bills: u64,
    /// The earliest due date among them.
    pub oldest_due: NaiveDate,
    #[oai(flatten)]
    pub buckets: AgingBuckets,
    pub total: Money,
}

/// Overdue principal by unit and age, as it stood at the end of `as_of`.
#[derive(Object)]
pub struct ArrearsAging {
    pub compound_id: i64,
    pub as_of: NaiveDate,
    /// Units with overdue principal, in building, stairwell, floor and number order.
    pub units: Vec<AgingUnit>,
    pub totals: AgingBuckets,
    pub total: Money,
    pub note: String,
}

/// How much more principal each bill owed before `since` than it owes now: adjustments made
/// since are undone, payments received since are unpaid, and payments received before but
/// reversed since count as paid. Bills no change touched are not listed. Three grouped
/// queries, however far back `since` is.
async fn owed_more_before(db: &impl ConnectionTrait, compound_id: i64, since: DateTime<Utc>) -> Result<HashMap<i64, i64>> {
    let adjusted_since = rows(
        db,
        "SELECT bill_id, CAST(SUM(amount) AS BIGINT) AS fen FROM bill_adjustments WHERE compound_id = $1 AND created_at >= $2 AND kind <> $3 GROUP BY bill_id",
        vec![compound_id.into(), since.into(), billing::AdjustmentKind::LateFeeWaiver.as_str().into()],
    )
    .await?;
    let paid_since = rows(
        db,
        "SELECT a.bill_id, CAST(SUM(a.principal) AS BIGINT) AS fen FROM payment_allocations a JOIN payments p ON p.id = a.payment_id \
         WHERE a.compound_id = $1 AND p.compound_id = $1 AND p.received_at >= $2 AND p.status = 'posted' GROUP BY a.bill_id",
        vec![compound_id.into(), since.into()],
    )
    .await?;
    let reversed_since = rows(
        db,
        "SELECT a.bill_id, CAST(SUM(a.principal) AS BIGINT) AS fen FROM payment_allocations a JOIN payments p ON p.id = a.payment_id \
         WHERE a.compound_id = $1 AND p.compound_id = $1 AND p.received_at < $2 AND p.status = 'reversed' AND EXISTS ( \
           SELECT 1 FROM journal_entries e WHERE e.compound_id = $1 AND e.kind = 'reversal' \
           AND e.reference = 'payment:' || CAST(p.id AS TEXT) AND e.posted_at >= $2) \
         GROUP BY a.bill_id",
        vec![compound_id.into(), since.into()],
    )
    .await?;
    let mut more: HashMap<i64, i64> = HashMap::new();
    for (found, sign) in [(adjusted_since, -1), (paid_since, 1), (reversed_since, -1)] {
        for row in found {
            let (bill_id, fen): (i64, i64) = (row.try_get("", "bill_id")?, row.try_get("", "fen")?);
            *more.entry(bill_id).or_default() += sign * fen;
        }
    }
    more.retain(|_, fen| *fen != 0);
    Ok(more)
}

/// Bill ids per query where a list of them is bound (well under PostgreSQL's 65,535 parameters).
const IDS_PER_QUERY: usize = 10_000;

/// Every unit with principal overdue at the end of `as_of` (today when left out; never a day
/// to come), its amounts by days past due. What was owed then is worked back from the bills as
/// they stand and the adjustments, payments and reversals recorded since, so a past day shows
/// the arrears of that day, not today's. Late fees are not principal and not aged.
pub async fn arrears_aging(db: &impl ConnectionTrait, actor: &Actor, compound: &compound::Model, as_of: Option<NaiveDate>) -> Result<ArrearsAging> {
    let today = registry::local_today(compound);
    let as_of = as_of.unwrap_or(today);
    if as_of > today {
        return Err(Error::invalid("as_of", format!("as_of must not be after today ({today}): the report shows what was owed, not what will be")));
    }
    let end = day_start(compound, as_of.succ_opt().ok_or_else(|| Error::invalid("as_of", "as_of is out of range"))?, "as_of")?;
    let more_before = owed_more_before(db, compound.id, end).await?;
    // The bills overdue then: those that owe now, and those a later change touched.
    let overdue_then = || bill::Entity::find().filter(bill::Column::CompoundId.eq(compound.id)).filter(bill::Column::DueDate.lt(as_of)).filter(bill::Column::CreatedAt.lt(end));
    let mut bills = overdue_then().filter(billing::principal_still_owed()).all(db).await?;
    let loaded: HashSet<i64> = bills.iter().map(|b| b.id).collect();
    let touched: Vec<i64> = more_before.keys().copied().filter(|id| !loaded.contains(id)).collect();
    for ids in touched.chunks(IDS_PER_QUERY) {
        bills.extend(overdue_then().filter(bill::Column::Id.is_in(ids.iter().copied())).all(db).await?);
    }
    struct Owed {
        bills: u64,
        oldest_due: NaiveDate,
        buckets: [i64; 4],
    }
    let mut by_unit: HashMap<i64, Owed> = HashMap::new();
    for b in bills {
        let owed = b.amount + b.adjusted - b.paid + more_before.get(&b.id).copied().unwrap_or(0);
        if owed <= 0 {
            continue;
        }
        let entry = by_unit.entry(b.unit_id).or_insert(Owed { bills: 0, oldest_due: b.due_date, buckets: [0; 4] });
        entry.bills += 1;
        entry.oldest_due = entry.oldest_due.min(b.due_date);
        entry.buckets[bucket((as_of - b.due_date).num_days())] += owed;
    }
    let units = unit::Entity::find().filter(unit::Column::Id.is_in(by_unit.keys().copied())).all(db).await?;
    let mut records = registry::unit_records(db, units).await?;
    records.sort_by(|a, b| (a.unit.building_id, a.unit.stairwell_id, a.unit.floor, &a.unit.number).cmp(&(b.unit.building_id, b.unit.stairwell_id, b.unit.floor, &b.unit.number)));
    let mut totals = [0i64; 4];
    let units = records
        .into_iter()
        .filter_map(|record| {
            let owed = by_unit.remove(&record.unit.id)?;
            for (total, amount) in totals.iter_mut().zip(owed.buckets) {
                *total += amount;
            }
            Some(AgingUnit {
                unit_id: record.unit.id,
                unit: record.label(),
                developer_held: record.unit.developer_held,
                owners: record.owners.into_iter().map(|(_, owner)| OwnerView::for_actor(owner, actor)).collect(),
                bills: owed.bills,
                oldest_due: owed.oldest_due,
                buckets: AgingBuckets::of(owed.buckets),
                total: Money::from_fen(owed.buckets.iter().sum()),
            })
        })
        .collect();
    Ok(ArrearsAging {
        compound_id: compound.id,
        as_of,
        units,
        totals: AgingBuckets::of(totals),
        total: Money::from_fen(totals.iter().sum()),
        note: "Principal owed at the end of as_of on bills due before it, by days past the due date (0-30 means 1 to 30 days); late fees are not aged. \
               欠费账龄：截至统计日已逾期账单的欠缴本金，按逾期天数分段，不含滞纳金。"
            .into(),
    })
}

// ---------------------------------------------------------------------------------------------
// 3. Income and expense statement
// ---------------------------------------------------------------------------------------------

#[derive(Object, Clone)]
pub struct FeeItemAmount {
    pub fee_item_id: Option<i64>,
    pub fee_item: String,
    pub amount: Money,
}

#[derive(Object, Clone)]
pub struct SourceAmount {
    /// elevator_ads | parking | other
    pub source: String,
    pub amount: Money,
}

#[derive(Object, Clone)]
pub struct KindAmount {
    /// deposit | top_up | interest | common_income | repair
    pub kind: String,
    pub amount: Money,
}

/// The company's income as wuye records it.
#[derive(Object)]
pub struct CompanyIncome {
    /// Fee revenue (6001) by fee item: bills run, less waivers and discounts, plus corrections.
    pub fee_revenue: Vec<FeeItemAmount>,
    pub fee_revenue_total: Money,
    /// Late fees collected (6051), less any reversed.
    pub late_fees: Money,
    pub total: Money,
}

/// Income from common parts (2241): the owners' money, never the company's revenue.
#[derive(Object)]
pub struct OwnersIncome {
    /// Received in the range, by source.
    pub received: Vec<SourceAmount>,
    pub received_total: Money,
    /// Moved out of the company's books into the maintenance fund in the range.
    pub moved_to_fund: Money,
    /// Still held for the owners at the end of the range.
    pub held_at_end: Money,
}

/// The maintenance fund's money in and out by the movements' dates.
#[derive(Object)]
pub struct FundFlows {
    /// The sub-ledgers' total before the range.
    pub opening_balance: Money,
    /// Deposits, top-ups, interest and common income credited.
    pub inflows: Vec<KindAmount>,
    pub inflow_total: Money,
    /// Repairs paid (as positive amounts).
    pub outflows: Vec<KindAmount>,
    pub outflow_total: Money,
    /// Opening balance plus inflows less outflows.
    pub closing_balance: Money,
}

#[derive(Object)]
pub struct IncomeStatement {
    pub compound_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub company: CompanyIncome,
    pub owners_common_income: OwnersIncome,
    pub maintenance_fund: FundFlows,
    /// Elevator-retrofit shares billed (2243), collected for the stairwells' projects.
    pub elevator_shares_billed: Money,
    pub notes: Vec<String>,
}

/// The compound's journal lines of entries posted in [from, until), summed by account and fee
/// item: (account code, fee item, debits, credits).
async fn journal_sums(db: &impl ConnectionTrait, compound_id: i64, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<(String, Option<i64>, i64, i64)>> {
    let found = rows(
        db,
        "SELECT l.account, l.fee_item_id, CAST(SUM(l.debit) AS BIGINT) AS debit, CAST(SUM(l.credit) AS BIGINT) AS credit \
         FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id \
         WHERE l.compound_id = $1 AND e.compound_id = $1 AND e.posted_at >= $2 AND e.posted_at < $3 \
         GROUP BY l.account, l.fee_item_id ORDER BY l.account, l.fee_item_id",
        vec![compound_id.into(), from.into(), until.into()],
    )
    .await?;
    found.iter().map(|r| Ok((r.try_get("", "account")?, r.try_get("", "fee_item_id")?, r.try_get("", "debit")?, r.try_get("", "credit")?))).collect()
}

/// An account's credit balance (credits less debits) from entries posted before `until`.
async fn credit_balance_before(db: &impl ConnectionTrait, compound_id: i64, account: Account, until: DateTime<Utc>) -> Result<i64> {
    let found = rows(
        db,
        "SELECT CAST(COALESCE(SUM(l.credit - l.debit), 0) AS BIGINT) AS balance FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id \
         WHERE l.compound_id = $1 AND e.compound_id = $1 AND l.account = $2 AND e.posted_at < $3",
        vec![compound_id.into(), account.code().into(), until.into()],
    )
    .await?;
    Ok(found.first().map(|r| r.try_get::<i64>("", "balance")).transpose()?.unwrap_or(0))
}

/// Common-area income recorded in [from, until), by source.
async fn common_income_by_source(db: &impl ConnectionTrait, compound_id: i64, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<SourceAmount>> {
    let found = rows(
        db,
        "SELECT c.source, CAST(SUM(l.credit - l.debit) AS BIGINT) AS amount \
         FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id JOIN common_incomes c ON c.journal_entry_id = e.id \
         WHERE l.compound_id = $1 AND e.compound_id = $1 AND l.account = $2 AND e.posted_at >= $3 AND e.posted_at < $4 \
         GROUP BY c.source ORDER BY c.source",
        vec![compound_id.into(), Account::OwnersCommonIncome.code().into(), from.into(), until.into()],
    )
    .await?;
    found.iter().map(|r| Ok(SourceAmount { source: r.try_get("", "source")?, amount: Money::from_fen(r.try_get("", "amount")?) })).collect()
}

/// The sub-ledgers' movements by kind with `occurred_on` from `from` to `to`, and their total before `from`.
async fn fund_flows(db: &impl ConnectionTrait, compound_id: i64, from: NaiveDate, to: NaiveDate) -> Result<FundFlows> {
    let found = rows(
        db,
        "SELECT kind, CAST(SUM(amount) AS BIGINT) AS amount FROM fund_movements WHERE compound_id = $1 AND occurred_on >= $2 AND occurred_on <= $3 GROUP BY kind",
        vec![compound_id.into(), from.into(), to.into()],
    )
    .await?;
    let by_kind: HashMap<String, i64> = found.iter().map(|r| Ok((r.try_get("", "kind")?, r.try_get("", "amount")?))).collect::<Result<_>>()?;
    let opening = rows(db, "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount FROM fund_movements WHERE compound_id = $1 AND occurred_on < $2", vec![
        compound_id.into(),
        from.into(),
    ])
    .await?;
    let opening: i64 = opening.first().map(|r| r.try_get("", "amount")).transpose()?.unwrap_or(0);
    let amount = |kind: MovementKind| by_kind.get(kind.as_str()).copied().unwrap_or(0);
    let inflows: Vec<(MovementKind, i64)> =
        [MovementKind::Deposit, MovementKind::TopUp, MovementKind::Interest, MovementKind::CommonIncome].into_iter().map(|k| (k, amount(k))).collect();
    let outflows = [(MovementKind::Repair, -amount(MovementKind::Repair))];
    let (inflow, outflow) = (inflows.iter().map(|(_, a)| a).sum::<i64>(), outflows.iter().map(|(_, a)| a).sum::<i64>());
    let listed = |flows: &[(MovementKind, i64)]| flows.iter().map(|(k, a)| KindAmount { kind: k.as_str().into(), amount: Money::from_fen(*a) }).collect();
    Ok(FundFlows {
        opening_balance: Money::from_fen(opening),
        inflows: listed(&inflows),
        inflow_total: Money::from_fen(inflow),
        outflows: listed(&outflows),
        outflow_total: Money::from_fen(outflow),
        closing_balance: Money::from_fen(opening + inflow - outflow),
    })
}

/// The company's revenue, the owners' common-area income kept apart, the maintenance fund's
/// money in and out, and elevator-retrofit shares billed, from `from` to `to` (the compound's
/// days). Journal figures go by the day an entry was posted; the fund's by the day a movement
/// occurred (the day money was received or a repair settled).
pub async fn income_statement(db: &impl ConnectionTrait, compound: &compound::Model, from: NaiveDate, to: NaiveDate) -> Result<IncomeStatement> {
    let (begin, end) = day_range(compound, from, to)?;
    let names = fee_item_names(db, compound.id).await?;
    let sums = journal_sums(db, compound.id, begin, end).await?;
    let net_credit = |account: Account| -> i64 { sums.iter().filter(|s| s.0 == account.code()).map(|s| s.3 - s.2).sum() };
    let fee_revenue: Vec<FeeItemAmount> = sums
        .iter()
        .filter(|s| s.0 == Account::FeeRevenue.code())
        .map(|(_, item, debit, credit)| FeeItemAmount { fee_item_id: *item, fee_item: fee_item_name(&names, *item), amount: Money::from_fen(credit - debit) })
        .collect();
    let fee_revenue_total = net_credit(Account::FeeRevenue);
    let late_fees = net_credit(Account::LateFeeRevenue);
    let common: Vec<&(String, Option<i64>, i64, i64)> = sums.iter().filter(|s| s.0 == Account::OwnersCommonIncome.code()).collect();
    let received = common_income_by_source(db, compound.id, begin, end).await?;
    Ok(IncomeStatement {
        compound_id: compound.id,
        from,
        to,
        company: CompanyIncome {
            fee_revenue,
            fee_revenue_total: Money::from_fen(fee_revenue_total),
            late_fees: Money::from_fen(late_fees),
            total: Money::from_fen(fee_revenue_total + late_fees),
        },
        owners_common_income: OwnersIncome {
            received_total: Money::from_fen(common.iter().map(|s| s.3).sum()),
            received,
            moved_to_fund: Money::from_fen(common.iter().map(|s| s.2).sum()),
            held_at_end: Money::from_fen(credit_balance_before(db, compound.id, Account::OwnersCommonIncome, end).await?),
        },
        maintenance_fund: fund_flows(db, compound.id, from, to).await?,
        elevator_shares_billed: Money::from_fen(net_credit(Account::ElevatorCollections)),
        notes: vec![
            "The company's own expenses (wages, materials, subcontracts) are not kept in wuye: this statement shows the income wuye records, \
             the owners' money kept apart from it, and the maintenance fund. 物业公司自身的成本费用不在本系统记账。"
                .into(),
            "Fee revenue is recognised when bills are run (less waivers and discounts); late fees when collected. \
             物业服务收入按账单确认，滞纳金按实收确认。"
                .into(),
            "Common-area income belongs to the owners (Civil Code Art. 282) and is not company revenue. 公共收益归全体业主所有。".into(),
        ],
    })
}

// ---------------------------------------------------------------------------------------------
// 4. The maintenance fund: movements and projects (the sub-ledgers come from `funds`)
// ---------------------------------------------------------------------------------------------

#[derive(Object)]
pub struct FundMovementRow {
    pub id: i64,
    pub occurred_on: NaiveDate,
    pub unit_id: i64,
    pub unit: String,
    /// deposit | top_up | interest | common_income | repair
    pub kind: String,
    /// Positive into the sub-ledger, negative out of it.
    pub amount: Money,
    pub balance_after: Money,
    pub reference: String,
    pub memo: String,
    pub journal_entry_id: i64,
    pub recorded_by: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Object)]
pub struct FundMovementsReport {
    pub compound_id: i64,
    /// Every movement of every sub-ledger, oldest first.
    pub movements: Vec<FundMovementRow>,
    /// By kind, signed (repairs negative).
    pub by_kind: Vec<KindAmount>,
    /// The sum of every movement: the sub-ledgers' total.
    pub total: Money,
}

/// Movements read per round trip.
const MOVEMENTS_PER_PAGE: u64 = 5_000;

pub async fn fund_movements(db: &impl ConnectionTrait, compound: &compound::Model) -> Result<FundMovementsReport> {
    let units = unit_records_of(db, compound.id).await?;
    let mut movements = Vec::new();
    let mut by_kind: BTreeMap<String, i64> = BTreeMap::new();
    for page in 1.. {
        let (items, total) = funds::compound_movements(db, compound.id, page, MOVEMENTS_PER_PAGE).await?;
        let done = items.is_empty() || page * MOVEMENTS_PER_PAGE >= total;
        for m in items {
            *by_kind.entry(m.kind.clone()).or_default() += m.amount;
            movements.push(FundMovementRow {
                id: m.id,
                occurred_on: m.occurred_on,
                unit_id: m.unit_id,
                unit: units.get(&m.unit_id).map(UnitRecord::label).unwrap_or_default(),
                kind: m.kind,
                amount: Money::from_fen(m.amount),
                balance_after: Money::from_fen(m.balance_after),
                reference: m.reference,
                memo: m.memo,
                journal_entry_id: m.journal_entry_id,
                recorded_by: m.recorded_by,
                created_at: m.created_at,
            });
        }
        if done {
            break;
        }
    }
    let total = by_kind.values().sum();
    Ok(FundMovementsReport {
        compound_id: compound.id,
        movements,
        by_kind: by_kind.into_iter().map(|(kind, fen)| KindAmount { kind, amount: Money::from_fen(fen) }).collect(),
        total: Money::from_fen(total),
    })
}

#[derive(Object)]
pub struct ProjectShareRow {
    pub unit_id: i64,
    pub unit: String,
    pub area: Option<Area>,
    pub share: Money,
    /// owner | developer
    pub payer: String,
}

#[derive(Object)]
pub struct ProjectSplit {
    pub id: i64,
    pub title: String,
    /// draft | voting | approved | rejected | in_progress | settled
    pub status: String,
    /// The emergency it is, for a project that may spend on a prior notice instead of a vote.
    pub emergency: Option<String>,
    pub vote_id: Option<i64>,
    pub budget: Money,
    pub actual_cost: Option<Money>,
    pub approved_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
    pub journal_entry_id: Option<i64>,
    /// actual (what each sub-ledger paid) once settled; planned (the budget split by area) before.
    pub shares_are: String,
    pub shares: Vec<ProjectShareRow>,
    pub shares_total: Money,
}

#[derive(Object)]
pub struct FundProjectsReport {
    pub compound_id: i64,
    /// Every project, newest first.
    pub projects: Vec<ProjectSplit>,
}

/// Every repair project of the compound with its per-unit split: as debited once settled, as
/// planned (the budget by area) before.
pub async fn fund_projects(db: &impl ConnectionTrait, actor: &Actor, compound: &compound::Model) -> Result<FundProjectsReport> {
    let units = unit_records_of(db, compound.id).await?;
    let label = |id: i64| units.get(&id).map(UnitRecord::label).unwrap_or_default();
    let mut report = Vec::new();
    for p in projects::list(db, actor, compound.id).await? {
        let settled = p.status == projects::Status::Settled.as_str();
        let shares: Vec<ProjectShareRow> = if settled {
            projects::shares_of(db, p.id)
                .await?
                .into_iter()
                .map(|s| ProjectShareRow { unit: label(s.unit_id), unit_id: s.unit_id, area: Area::from_hundredths(s.area).ok(), share: Money::from_fen(s.share), payer: s.payer })
                .collect()
        } else {
            match projects::split(db, &p, Money::from_fen(p.budget)).await {
                Ok(lines) => lines
                    .into_iter()
                    .map(|l| ProjectShareRow { unit_id: l.unit.unit.id, unit: l.unit.label(), area: Area::from_hundredths(l.area).ok(), share: l.share, payer: l.payer.as_str().into() })
                    .collect(),
                // A scope with nothing to split over (its units all gone) plans no shares.
                Err(Error::Conflict { .. }) => Vec::new(),
                Err(other) => return Err(other),
            }
        };
        report.push(ProjectSplit {
            shares_total: Money::from_fen(shares.iter().map(|s| s.share.fen()).sum()),
            id: p.id,
            title: p.title,
            status: p.status,
            emergency: p.emergency_kind,
            vote_id: p.vote_id,
            budget: Money::from_fen(p.budget),
            actual_cost: p.actual_cost.map(Money::from_fen),
            approved_at: p.approved_at,
            settled_at: p.settled_at,
            journal_entry_id: p.journal_entry_id,
            shares_are: if settled { "actual" } else { "planned" }.into(),
            shares,
        });
    }
    Ok(FundProjectsReport { compound_id: compound.id, projects: report })
}

// ---------------------------------------------------------------------------------------------
// 5. The journal, line by line
// ---------------------------------------------------------------------------------------------

/// One journal line with its entry, as the journal download lists it.
pub struct JournalRow {
    pub seq: i64,
    pub entry_id: i64,
    pub posted_at: DateTime<Utc>,
    pub kind: String,
    pub reference: String,
    pub memo: String,
    pub account: String,
    pub account_name: String,
    pub unit_id: Option<i64>,
    pub unit: String,
    pub fee_item_id: Option<i64>,
    pub fee_item: String,
    pub debit: i64,
    pub credit: i64,
    pub hash: String,
    pub prev_hash: String,
}

/// Entries read per round trip.
const ENTRIES_PER_BATCH: u64 = 1_000;

/// Hands every line of the compound's journal to `each`, in entry order, reading the journal a
/// batch of entries at a time.
pub async fn each_journal_line(db: &impl ConnectionTrait, compound_id: i64, mut each: impl FnMut(JournalRow) -> Result<()>) -> Result<()> {
    let units = unit_records_of(db, compound_id).await?;
    let names = fee_item_names(db, compound_id).await?;
    let mut after_seq = 0;
    loop {
        let entries = journal_entry::Entity::find()
            .filter(journal_entry::Column::CompoundId.eq(compound_id))
            .filter(journal_entry::Column::Seq.gt(after_seq))
            .order_by_asc(journal_entry::Column::Seq)
            .limit(ENTRIES_PER_BATCH)
            .all(db)
            .await?;
        let Some(last) = entries.last() else { break };
        after_seq = last.seq;
        let lines = journal_line::Entity::find()
            .filter(journal_line::Column::EntryId.is_in(entries.iter().map(|e| e.id)))
            .order_by_asc(journal_line::Column::Id)
            .all(db)
            .await?;
        let mut by_entry: HashMap<i64, Vec<journal_line::Model>> = HashMap::new();
        for line in lines {
            by_entry.entry(line.entry_id).or_default().push(line);
        }
        for entry in entries {
            for line in by_entry.remove(&entry.id).unwrap_or_default() {
                each(JournalRow {
                    seq: entry.seq,
                    entry_id: entry.id,
                    posted_at: entry.posted_at,
                    kind: entry.kind.clone(),
                    reference: entry.reference.clone(),
                    memo: entry.memo.clone(),
                    account_name: Account::from_code(&line.account).map(Account::name).unwrap_or("(unknown account)").into(),
                    account: line.account,
                    unit: line.unit_id.and_then(|id| units.get(&id)).map(UnitRecord::label).unwrap_or_default(),
                    unit_id: line.unit_id,
                    fee_item: fee_item_name(&names, line.fee_item_id),
                    fee_item_id: line.fee_item_id,
                    debit: line.debit,
                    credit: line.credit,
                    hash: entry.hash.clone(),
                    prev_hash: entry.prev_hash.clone(),
                })?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 7. Staff actions
// ---------------------------------------------------------------------------------------------

/// Narrows the staff action log.
#[derive(Default)]
pub struct StaffActionFilter {
    /// The compound's days, inclusive.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub user_id: Option<i64>,
    /// POST, PUT, PATCH or DELETE (any case).
    pub method: Option<String>,
}

#[derive(Object)]
pub struct StaffActionView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: i64,
    pub user_name: String,
    pub role: String,
    pub method: String,
    pub path: String,
    /// The answer's HTTP status (always a success here: refused requests changed nothing and
    /// are not listed). None when the answer was never recorded (the service stopped first, or
    /// writing it failed): the change was asked for and may or may not have been made; the
    /// books show which.
    pub status: Option<i32>,
    /// Where the request came from (and whom a proxy says it forwarded for).
    pub ip: String,
    pub user_agent: String,
    /// The request body as sent (truncated); for the committee, owners' phones masked and email
    /// addresses and ID numbers withheld.
    pub request: Option<String>,
    /// The record as it read before the change, where there is one.
    pub before: Option<String>,
    /// The answer: the record after the change.
    pub after: Option<String>,
}

#[derive(Object)]
pub struct StaffActionPage {
    pub compound_id: i64,
    /// Newest first.
    pub items: Vec<StaffActionView>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

const METHODS: [&str; 4] = ["POST", "PUT", "PATCH", "DELETE"];

fn staff_action_query(compound: &compound::Model, filter: &StaffActionFilter) -> Result<sea_orm::Select<staff_action::Entity>> {
    // The compound's rows, of its own company (a platform administrator's carry none).
    // Changes made, and those whose outcome was never recorded; not the refused ones.
    let mut select = staff_action::Entity::find()
        .filter(staff_action::Column::CompoundId.eq(compound.id))
        .filter(sea_orm::Condition::any().add(staff_action::Column::Status.is_null()).add(staff_action::Column::Status.between(200, 299)))
        .filter(sea_orm::Condition::any().add(staff_action::Column::CompanyId.eq(compound.company_id)).add(staff_action::Column::CompanyId.is_null()));
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from > to
    {
        return Err(Error::invalid("from", "from must not be after to"));
    }
    if let Some(from) = filter.from {
        select = select.filter(staff_action::Column::At.gte(day_start(compound, from, "from")?));
    }
    if let Some(to) = filter.to {
        let after = to.succ_opt().ok_or_else(|| Error::invalid("to", "to is out of range"))?;
        select = select.filter(staff_action::Column::At.lt(day_start(compound, after, "to")?));
    }
    if let Some(user_id) = filter.user_id {
        select = select.filter(staff_action::Column::UserId.eq(user_id));
    }
    if let Some(method) = &filter.method {
        let method = method.trim().to_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(Error::invalid("method", format!("method must be one of {}", METHODS.join(", "))));
        }
        select = select.filter(staff_action::Column::Method.eq(method));
    }
    Ok(select.order_by_desc(staff_action::Column::At).order_by_desc(staff_action::Column::Id))
}

fn staff_action_view(a: staff_action::Model, actor: &Actor) -> StaffActionView {
    let auditor = actor.role == Role::Committee;
    let shown = |text: Option<String>| text.map(|t| if auditor { masked_for_auditor(&t) } else { without_secrets(&t) });
    StaffActionView {
        id: a.id,
        at: a.at,
        user_id: a.user_id,
        user_name: a.user_name,
        role: a.role,
        method: a.method,
        path: a.path,
        status: a.status,
        ip: a.ip,
        user_agent: a.user_agent,
        request: shown(a.request),
        before: shown(a.before),
        after: shown(a.after),
    }
}

/// One page of the compound's staff action log, newest first.
pub async fn staff_actions(db: &impl ConnectionTrait, actor: &Actor, compound: &compound::Model, filter: &StaffActionFilter, page: u64, per_page: u64) -> Result<StaffActionPage> {
    let select = staff_action_query(compound, filter)?;
    let total = select.clone().count(db).await?;
    let items = select.offset((page - 1) * per_page).limit(per_page).all(db).await?;
    Ok(StaffActionPage { compound_id: compound.id, items: items.into_iter().map(|a| staff_action_view(a, actor)).collect(), total, page, per_page })
}

/// The most rows one download holds; a larger log is downloaded a period at a time.
const MAX_DOWNLOADED_ACTIONS: u64 = 20_000;

/// Every matching staff action, newest first, read a batch at a time; refused (naming the
/// filter) when there are more than a download holds.
pub async fn all_staff_actions(db: &impl ConnectionTrait, actor: &Actor, compound: &compound::Model, filter: &StaffActionFilter) -> Result<Vec<StaffActionView>> {
    let select = staff_action_query(compound, filter)?;
    let count = select.clone().count(db).await?;
    if count > MAX_DOWNLOADED_ACTIONS {
        return Err(Error::invalid("from", format!("{count} actions match; download at most {MAX_DOWNLOADED_ACTIONS} at a time (narrow from and to)")));
    }
    let mut all = Vec::new();
    let mut pages = select.paginate(db, 2_000);
    while let Some(batch) = pages.fetch_and_next().await? {
        all.extend(batch.into_iter().map(|a| staff_action_view(a, actor)));
    }
    Ok(all)
}

/// Keys whose values the committee does not see at all: email addresses and ID numbers.
fn is_withheld(key: &str) -> bool {
    let key = key.to_lowercase();
    key.contains("email") || key.contains("id_number")
}

/// A recorded body with secrets (passwords, tokens) replaced, for staff.
fn without_secrets(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut value) => {
            walk(&mut value, &|key, _| crate::http::is_secret_key(key).then(|| serde_json::Value::String("***".into())), &|s| s.to_string());
            value.to_string()
        }
        Err(_) => text.to_string(),
    }
}

/// A recorded body as the committee may read it: secrets replaced, email addresses and ID
/// numbers withheld, and every mobile or landline number in any text masked (138****1234).
/// A body cut short (no longer JSON) is masked as text.
pub fn masked_for_auditor(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut value) => {
            walk(
                &mut value,
                &|key, value| {
                    if crate::http::is_secret_key(key) {
                        Some(serde_json::Value::String("***".into()))
                    } else if is_withheld(key) && !value.is_null() {
                        Some(serde_json::Value::Null)
                    } else if key.to_lowercase().contains("phone") && value.is_number() {
                        Some(serde_json::Value::String(Phone::masked(&value.to_string())))
                    } else {
                        None
                    }
                },
                &mask_text,
            );
            value.to_string()
        }
        Err(_) => mask_text(text),
    }
}

/// Replaces values by key (`by_key` returns the replacement) and passes every other string
/// through `text`.
fn walk(value: &mut serde_json::Value, by_key: &dyn Fn(&str, &serde_json::Value) -> Option<serde_json::Value>, text: &dyn Fn(&str) -> String) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match by_key(key, v) {
                    Some(replacement) => *v = replacement,
                    None => walk(v, by_key, text),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, by_key, text)),
        serde_json::Value::String(s) => *s = text(s),
        _ => {}
    }
}

/// Masks, in free text, what looks like a phone number (11 digits from 1, or 10 to 12 from 0,
/// spaces and dashes between digits allowed), an ID number (15 or more digits, maybe ending in
/// X) and an email address (the part before the @).
pub fn mask_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let is_phone = |digits: &str| (digits.len() == 11 && digits.starts_with('1')) || (digits.starts_with('0') && (10..=12).contains(&digits.len()));
            let ends_here = |j: usize| !chars.get(j).is_some_and(char::is_ascii_alphanumeric);
            // The digits as written together.
            let mut j = i;
            while chars.get(j).is_some_and(char::is_ascii_digit) {
                j += 1;
            }
            let digits: String = chars[i..j].iter().collect();
            let id_tail = digits.len() == 17 && chars.get(j).is_some_and(|c| matches!(c, 'X' | 'x'));
            if id_tail || digits.len() >= 15 {
                out.push_str(&"*".repeat(digits.len() + usize::from(id_tail)));
                i = j + usize::from(id_tail);
                continue;
            }
            if is_phone(&digits) && ends_here(j) {
                out.push_str(&Phone::masked(&digits));
                i = j;
                continue;
            }
            // A mobile with the country code written before it (+86 138 0013 1234 typed together).
            if digits.len() == 13 && digits.starts_with("86") && is_phone(&digits[2..]) && ends_here(j) {
                out.push_str("86");
                out.push_str(&Phone::masked(&digits[2..]));
                i = j;
                continue;
            }
            // A number typed in groups ("138 0013 1234", "021-6254 1234").
            let (mut k, mut grouped) = (j, digits.clone());
            while grouped.len() < 12 && matches!(chars.get(k), Some(' ' | '-')) && chars.get(k + 1).is_some_and(char::is_ascii_digit) {
                k += 1;
                while chars.get(k).is_some_and(char::is_ascii_digit) {
                    grouped.push(chars[k]);
                    k += 1;
                }
            }
            if k > j && is_phone(&grouped) && ends_here(k) {
                out.push_str(&Phone::masked(&grouped));
                i = k;
                continue;
            }
            out.push_str(&digits);
            i = j;
            continue;
        }
        if chars[i] == '@' {
            // The local part of an email address, already written out: replace it.
            let local = out.chars().rev().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')).count();
            if local > 0 && chars.get(i + 1).is_some_and(char::is_ascii_alphanumeric) {
                let keep = out.chars().count() - local;
                out = out.chars().take(keep).collect();
                out.push_str("***");
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 8. The annual disclosure pack
// ---------------------------------------------------------------------------------------------

/// The fund's year-end balances as the books stood: the control account from entries posted by
/// the end of the year, the sub-ledgers from the movements those entries posted.
#[derive(Object)]
pub struct FundYearEnd {
    /// The control account (2242).
    pub control_account: Money,
    /// The sum of every unit's sub-ledger.
    pub sub_ledger_total: Money,
    pub agrees: bool,
}

#[derive(Object)]
pub struct SettledProject {
    pub id: i64,
    pub title: String,
    pub emergency: Option<String>,
    pub budget: Money,
    pub actual_cost: Money,
    /// The compound's day it was settled.
    pub settled_on: NaiveDate,
    /// Units that paid a share.
    pub units: u64,
}

#[derive(Object)]
pub struct AnnualPack {
    pub compound_id: i64,
    pub compound: String,
    pub year: i32,
    /// Fees charged for the year's periods and collected on them so far, by fee item.
    pub fees: Vec<FeeItemCollection>,
    pub fees_total: CollectionFigures,
    /// Common-area income received in the year, by source; the owners' money.
    pub owners_common_income: OwnersIncome,
    /// The maintenance fund's money in and out in the year, by kind.
    pub maintenance_fund: FundFlows,
    pub fund_year_end: FundYearEnd,
    /// Repair projects settled in the year, with their actual cost.
    pub projects_settled: Vec<SettledProject>,
    pub projects_settled_total: Money,
    pub notes: Vec<String>,
}

/// What a compound discloses for a year: fees charged and collected, common-area income, the
/// fund's movements and its year-end balances, and the repairs paid from it.
pub async fn annual_pack(db: &impl ConnectionTrait, compound: &compound::Model, year: i32) -> Result<AnnualPack> {
    let this_year = registry::local_today(compound).year();
    if !(2000..=this_year).contains(&year) {
        return Err(Error::invalid("year", format!("year must be from 2000 to {this_year}")));
    }
    let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| Error::invalid("year", "year is out of range"))?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| Error::invalid("year", "year is out of range"))?;
    let (Some(january), Some(december)) = (Period::new(year, 1), Period::new(year, 12)) else {
        return Err(Error::invalid("year", "year is out of range"));
    };
    let fees = collection(db, compound, january, december).await?;
    let statement = income_statement(db, compound, first, last).await?;
    let (begin, end) = day_range(compound, first, last)?;
    let sub_ledgers = rows(
        db,
        "SELECT CAST(COALESCE(SUM(m.amount), 0) AS BIGINT) AS amount FROM fund_movements m JOIN journal_entries e ON e.id = m.journal_entry_id \
         WHERE m.compound_id = $1 AND e.posted_at < $2",
        vec![compound.id.into(), end.into()],
    )
    .await?;
    let sub_ledger_total: i64 = sub_ledgers.first().map(|r| r.try_get("", "amount")).transpose()?.unwrap_or(0);
    let control_account = credit_balance_before(db, compound.id, Account::MaintenanceFund, end).await?;
    let settled = fund_project::Entity::find()
        .filter(fund_project::Column::CompoundId.eq(compound.id))
        .filter(fund_project::Column::Status.eq(projects::Status::Settled.as_str()))
        .filter(fund_project::Column::SettledAt.gte(begin))
        .filter(fund_project::Column::SettledAt.lt(end))
        .order_by_asc(fund_project::Column::SettledAt)
        .all(db)
        .await?;
    let paying: HashMap<i64, i64> = fund_project_share::Entity::find()
        .select_only()
        .column(fund_project_share::Column::ProjectId)
        .column_as(fund_project_share::Column::Id.count(), "units")
        .filter(fund_project_share::Column::ProjectId.is_in(settled.iter().map(|p| p.id)))
        .filter(fund_project_share::Column::Share.gt(0))
        .group_by(fund_project_share::Column::ProjectId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let projects_settled: Vec<SettledProject> = settled
        .into_iter()
        .map(|p| SettledProject {
            units: paying.get(&p.id).copied().unwrap_or(0) as u64,
            id: p.id,
            title: p.title,
            emergency: p.emergency_kind,
            budget: Money::from_fen(p.budget),
            actual_cost: Money::from_fen(p.actual_cost.unwrap_or(0)),
            settled_on: p.settled_at.map_or(last, |at| registry::local_today_at(compound, at)),
        })
        .collect();
    Ok(AnnualPack {
        compound_id: compound.id,
        compound: compound.name.clone(),
        year,
        fees: fees.by_fee_item,
        fees_total: fees.total,
        owners_common_income: statement.owners_common_income,
        maintenance_fund: statement.maintenance_fund,
        fund_year_end: FundYearEnd { control_account: Money::from_fen(control_account), sub_ledger_total: Money::from_fen(sub_ledger_total), agrees: control_account == sub_ledger_total },
        projects_settled_total: Money::from_fen(projects_settled.iter().map(|p| p.actual_cost.fen()).sum()),
        projects_settled,
        notes: vec![
            format!("Fees are those billed for the periods {year}-01 to {year}-12, collected as of the day this pack was drawn up. 收费按 {year} 年各月账单统计，实收截至出具之日。"),
            "Common-area income belongs to the owners (Civil Code Art. 282). 公共收益归全体业主所有。".into(),
            "Year-end fund balances are as the books stood at the end of the year. 维修资金余额为年末账面数。".into(),
            statement.notes[0].clone(),
        ],
    })
}

/// The pack as the text of a disclosure notice.
pub fn annual_pack_text(pack: &AnnualPack) -> String {
    let mut text = format!("{} {} 年度账目公示 Annual accounts {}\n", pack.compound, pack.year, pack.year);
    text.push_str("\n一、物业费收缴 Fees charged and collected\n");
    for f in &pack.fees {
        text.push_str(&format!(
            "{}：应收 billed {}，实收 collected {}，欠收 outstanding {}，收缴率 rate {}\n",
            f.fee_item,
            f.figures.billed,
            f.figures.collected,
            f.figures.outstanding,
            f.figures.collection_rate.as_deref().map_or("-".to_string(), |r| format!("{r}%"))
        ));
    }
    let t = &pack.fees_total;
    text.push_str(&format!(
        "合计 Total：应收 {}，实收 {}，欠收 {}，收缴率 {}\n",
        t.billed,
        t.collected,
        t.outstanding,
        t.collection_rate.as_deref().map_or("-".to_string(), |r| format!("{r}%"))
    ));
    let o = &pack.owners_common_income;
    text.push_str("\n二、公共收益（归全体业主）Common-area income, the owners' money\n");
    for s in &o.received {
        text.push_str(&format!("{}：{}\n", s.source, s.amount));
    }
    text.push_str(&format!("收入合计 Received: {}；转入维修资金 Moved to the fund: {}；年末结存 Held at year end: {}\n", o.received_total, o.moved_to_fund, o.held_at_end));
    let f = &pack.maintenance_fund;
    text.push_str("\n三、住宅专项维修资金 The maintenance fund\n");
    text.push_str(&format!("年初余额 Opening: {}\n", f.opening_balance));
    for k in f.inflows.iter() {
        text.push_str(&format!("收入 In, {}: {}\n", k.kind, k.amount));
    }
    for k in f.outflows.iter() {
        text.push_str(&format!("支出 Out, {}: {}\n", k.kind, k.amount));
    }
    text.push_str(&format!("年末余额 Closing: {}\n", f.closing_balance));
    let y = &pack.fund_year_end;
    text.push_str(&format!(
        "年末账面 At year end: 总账 control account {}，分户账合计 sum of sub-ledgers {}，{}\n",
        y.control_account,
        y.sub_ledger_total,
        if y.agrees { "相符 they agree" } else { "不符 THEY DO NOT AGREE" }
    ));
    text.push_str("\n四、维修资金使用 Repairs paid from the fund\n");
    if pack.projects_settled.is_empty() {
        text.push_str("本年无 None this year\n");
    }
    for p in &pack.projects_settled {
        text.push_str(&format!("{}（{}）：实际费用 actual cost {}，预算 budget {}，分摊 {} 户 units\n", p.title, p.settled_on, p.actual_cost, p.budget, p.units));
    }
    text.push_str("\n说明 Notes\n");
    for note in &pack.notes {
        text.push_str(&format!("- {note}\n"));
    }
    text
}

/// Publishes the compound's annual pack for `year` as a disclosure notice to the whole
/// compound, in one step. Each publication is a new notice (published disclosures are never
/// changed), except a retry with the same `Idempotency-Key`, which answers the first one.
pub async fn publish_annual_pack(db: &DatabaseConnection, actor: &Actor, key: Option<&str>, compound_id: i64, year: i32) -> Result<entity::notice::Model> {
    actor.require(Permission::PublishDisclosures)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let pack = annual_pack(db, &compound, year).await?;
    let request = serde_json::json!(["publish_annual_pack", compound.id, year]);
    let notice_id = crate::idempotency::once(db, actor, key, &request, async |txn| {
        let new = NewNotice {
            company_id: compound.company_id,
            compound_id: compound.id,
            category: NoticeCategory::AnnualAccounts,
            title: format!("{year} 年度账目公示 Annual accounts {year}"),
            body: annual_pack_text(&pack),
            source: format!("annual_pack:{year}"),
            published: true,
            audience: Scope::new(ScopeKind::Compound, &[]),
        };
        Ok(notices::write(txn, actor, new).await?.id)
    })
    .await?;
    entity::notice::Entity::find_by_id(notice_id).one(db).await?.ok_or(Error::NotFound("notice"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_percent_with_one_decimal_half_up() {
        assert_eq!(percent(0, 0), None);
        assert_eq!(percent(0, 100), Some("0.0".into()));
        assert_eq!(percent(100, 100), Some("100.0".into()));
        // 212.64 of 318.96 = 66.666...%
        assert_eq!(percent(21264, 31896), Some("66.7".into()));
        // 1 of 8 = 12.5%; 1 of 16 = 6.25% -> 6.3 (half up)
        assert_eq!(percent(1, 8), Some("12.5".into()));
        assert_eq!(percent(1, 16), Some("6.3".into()));
    }

    #[test]
    fn buckets_start_the_day_after_due() {
        let cases = [(1, 0), (30, 0), (31, 1), (90, 1), (91, 2), (180, 2), (181, 3), (5000, 3)];
        for (days, expected) in cases {
            assert_eq!(bucket(days), expected, "{days} days");
        }
    }

    #[test]
    fn the_committee_reads_no_phone_email_or_id_number() {
        assert_eq!(mask_text("业主 13800131234 电话"), "业主 138****1234 电话");
        assert_eq!(mask_text("call 138 0013 1234."), "call 138****1234.");
        assert_eq!(mask_text("021-6254 1234"), "021****1234");
        assert_eq!(mask_text("unit 181 13800131234"), "unit 181 138****1234");
        assert_eq!(mask_text("+8613800131234 and 8613800131234"), "+86138****1234 and 86138****1234");
        assert_eq!(mask_text("11010519491231002X"), "******************");
        assert_eq!(mask_text("li.wei@example.cn wrote"), "***@example.cn wrote");
        // Amounts, dates and ids stay readable.
        assert_eq!(mask_text("106.32 on 2026-11-01, unit 181"), "106.32 on 2026-11-01, unit 181");
        let body = r#"{"name":"王建国","phone":"13800131234","email":"w@x.cn","id_number":"11010519491231002X","password":"secret-1","n":[{"owner_phone":"13900000001"}]}"#;
        let masked: serde_json::Value = serde_json::from_str(&masked_for_auditor(body)).unwrap();
        assert_eq!(
            masked,
            serde_json::json!({"name":"王建国","phone":"138****1234","email":null,"id_number":null,"password":"***","n":[{"owner_phone":"139****0001"}]})
        );
        // Cut short, it is no longer JSON: masked as text.
        assert_eq!(masked_for_auditor(r#"{"phone":"13800131234","na"#), r#"{"phone":"138****1234","na"#);
        let staff: serde_json::Value = serde_json::from_str(&without_secrets(body)).unwrap();
        assert_eq!((staff["phone"].as_str(), staff["password"].as_str()), (Some("13800131234"), Some("***")));
    }
}
