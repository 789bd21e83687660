//! The double-entry ledger: append-only journal entries of balanced lines, numbered per
//! compound and hash-chained, so that an edit made behind the service's back is found by
//! [`verify`]. Every money movement posts through [`post`] in the transaction of the change
//! that caused it.
pub mod api;
pub mod rules;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::{Error, Result};
use entity::{journal_entry, journal_line, ledger_head};
pub use rules::{Account, Line};

/// An entry to post.
pub struct Posting {
    pub company_id: i64,
    pub compound_id: i64,
    /// What caused it: bill_run, adjustment, payment, reversal, refund, prepaid_applied, common_income.
    pub kind: &'static str,
    /// The record it belongs to, e.g. "payment:42".
    pub reference: String,
    pub memo: String,
    pub posted_by: i64,
    pub lines: Vec<Line>,
}

/// Lines per INSERT: well under PostgreSQL's 65,535 bind parameters at 7 columns a row.
const LINES_PER_INSERT: usize = 2_000;

/// A stored journal line as a ledger line; None when it names an account the chart lacks.
pub fn stored_line(l: &journal_line::Model) -> Option<Line> {
    Account::from_code(&l.account).map(|account| Line { account, unit_id: l.unit_id, fee_item_id: l.fee_item_id, debit: l.debit, credit: l.credit })
}

/// The end of a compound's journal chain, locked until the transaction that locked it ends.
/// Entries are posted only through it ([`post`]), so a compound's entries are appended one at a
/// time, in order, on every replica.
pub struct LockedChain {
    head: ledger_head::Model,
}

/// Locks the end of a compound's journal chain until the caller's transaction ends. Anything
/// that reads balances or bills and then posts takes this lock first, so that concurrent money
/// movements of one compound happen one after the other (PostgreSQL: `FOR UPDATE`; SQLite
/// serialises every transaction on its one connection anyway).
pub async fn lock_chain(txn: &impl ConnectionTrait, compound_id: i64) -> Result<LockedChain> {
    let locked = || ledger_head::Entity::find_by_id(compound_id).lock_exclusive().one(txn);
    if let Some(head) = locked().await? {
        return Ok(LockedChain { head });
    }
    // The compound's first entry: create the head (a concurrent first entry may beat us to it).
    txn.execute_raw(crate::db::statement(
        txn,
        "INSERT INTO ledger_heads (compound_id, last_seq, last_hash) VALUES ($1, 0, '') ON CONFLICT (compound_id) DO NOTHING",
        vec![compound_id.into()],
    ))
    .await?;
    let head = locked().await?.ok_or_else(|| anyhow::anyhow!("ledger head of compound {compound_id} vanished"))?;
    Ok(LockedChain { head })
}

/// Appends an entry to the compound's journal, in the transaction that locked its chain.
pub async fn post(txn: &impl ConnectionTrait, chain: &mut LockedChain, posting: Posting) -> Result<journal_entry::Model> {
    if let Some(problem) = rules::unbalanced(&posting.lines) {
        return Err(Error::Internal(anyhow::anyhow!("refusing to post {}: {problem}", posting.reference)));
    }
    if posting.compound_id != chain.head.compound_id {
        return Err(Error::Internal(anyhow::anyhow!("refusing to post {} under compound {}'s lock", posting.reference, chain.head.compound_id)));
    }
    let head = &chain.head;
    let seq = head.last_seq + 1;
    // Stored to the microsecond (PostgreSQL's precision), so the hash can be recomputed.
    let posted_at = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_default();
    let hash = rules::entry_hash(&rules::EntryContent {
        prev_hash: &head.last_hash,
        compound_id: posting.compound_id,
        seq,
        kind: posting.kind,
        reference: &posting.reference,
        memo: &posting.memo,
        posted_at_micros: posted_at.timestamp_micros(),
        posted_by: posting.posted_by,
        lines: &posting.lines,
    });
    let entry = journal_entry::ActiveModel {
        company_id: Set(posting.company_id),
        compound_id: Set(posting.compound_id),
        seq: Set(seq),
        kind: Set(posting.kind.to_string()),
        reference: Set(posting.reference),
        memo: Set(posting.memo),
        posted_at: Set(posted_at),
        posted_by: Set(posting.posted_by),
        prev_hash: Set(head.last_hash.clone()),
        hash: Set(hash.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for chunk in posting.lines.chunks(LINES_PER_INSERT) {
        let rows = chunk.iter().map(|line| journal_line::ActiveModel {
            entry_id: Set(entry.id),
            compound_id: Set(posting.compound_id),
            account: Set(line.account.code().to_string()),
            unit_id: Set(line.unit_id),
            fee_item_id: Set(line.fee_item_id),
            debit: Set(line.debit),
            credit: Set(line.credit),
            ..Default::default()
        });
        journal_line::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    let mut head: ledger_head::ActiveModel = chain.head.clone().into();
    head.last_seq = Set(seq);
    head.last_hash = Set(hash);
    chain.head = head.update(txn).await?;
    Ok(entry)
}

/// The balance of an account in a compound (debits minus credits), optionally for one unit.
pub async fn balance(db: &impl ConnectionTrait, compound_id: i64, account: Account, unit_id: Option<i64>) -> Result<i64> {
    let (sql, values) = match unit_id {
        Some(unit) => (
            "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) AS balance FROM journal_lines WHERE compound_id = $1 AND account = $2 AND unit_id = $3",
            vec![compound_id.into(), account.code().into(), unit.into()],
        ),
        None => (
            "SELECT CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT) AS balance FROM journal_lines WHERE compound_id = $1 AND account = $2",
            vec![compound_id.into(), account.code().into()],
        ),
    };
    let row = db.query_one_raw(crate::db::statement(db, sql, values)).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "balance")).transpose()?.unwrap_or(0))
}

/// A unit's prepaid balance (预存), which later bills draw on.
pub async fn prepaid_balance(db: &impl ConnectionTrait, compound_id: i64, unit_id: i64) -> Result<i64> {
    Ok(-balance(db, compound_id, Account::Prepaid, Some(unit_id)).await?)
}

/// An account's balance (debits minus credits) by the unit its lines name, in one query; lines
/// that name no unit come under None.
pub async fn balances_by_unit(db: &impl ConnectionTrait, compound_id: i64, account: Account) -> Result<BTreeMap<Option<i64>, i64>> {
    let rows = db
        .query_all_raw(crate::db::statement(
            db,
            "SELECT unit_id, CAST(SUM(debit - credit) AS BIGINT) AS balance FROM journal_lines WHERE compound_id = $1 AND account = $2 GROUP BY unit_id",
            vec![compound_id.into(), account.code().into()],
        ))
        .await?;
    rows.iter().map(|row| Ok((row.try_get("", "unit_id")?, row.try_get("", "balance")?))).collect()
}

/// Every unit of a compound with a prepaid balance above zero, and that balance.
pub async fn prepaid_balances(db: &impl ConnectionTrait, compound_id: i64) -> Result<Vec<(i64, i64)>> {
    let by_unit = balances_by_unit(db, compound_id, Account::Prepaid).await?;
    // A liability: the owner's money is the credit balance.
    Ok(by_unit.into_iter().filter_map(|(unit, balance)| Some((unit?, -balance))).filter(|(_, prepaid)| *prepaid > 0).collect())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTotal {
    pub account: Account,
    pub debit: i64,
    pub credit: i64,
}

/// Debit and credit totals per account of a compound.
pub async fn trial_balance(db: &impl ConnectionTrait, compound_id: i64) -> Result<Vec<AccountTotal>> {
    let rows = db
        .query_all_raw(crate::db::statement(
            db,
            "SELECT account, CAST(SUM(debit) AS BIGINT) AS debit, CAST(SUM(credit) AS BIGINT) AS credit \
             FROM journal_lines WHERE compound_id = $1 GROUP BY account ORDER BY account",
            vec![compound_id.into()],
        ))
        .await?;
    let mut totals = Vec::new();
    for row in rows {
        let code: String = row.try_get("", "account")?;
        let account = Account::from_code(&code).ok_or_else(|| anyhow::anyhow!("unknown account {code} in the journal"))?;
        totals.push(AccountTotal { account, debit: row.try_get("", "debit")?, credit: row.try_get("", "credit")? });
    }
    Ok(totals)
}

/// Where a compound's journal breaks, if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub entry_id: i64,
    pub seq: i64,
    pub problem: String,
}

#[derive(Debug, Clone)]
pub struct Verification {
    pub compound_id: i64,
    pub entries: u64,
    pub lines: u64,
    pub debits: i64,
    pub credits: i64,
    /// The first break in the chain or in an entry's balance; None when all is intact.
    pub first_break: Option<Break>,
}

/// Entries read per round trip while verifying, to keep memory flat on large journals.
const ENTRIES_PER_BATCH: u64 = 500;

/// Recomputes every entry's hash and balance in order and checks the chain links, the
/// numbering and the head. Stops at the first break and names it.
pub async fn verify(db: &impl ConnectionTrait, compound_id: i64) -> Result<Verification> {
    let mut report = Verification { compound_id, entries: 0, lines: 0, debits: 0, credits: 0, first_break: None };
    // The chain as far as its head says, read first: entries posted while we check come after
    // it and are left for the next check, instead of looking like a broken end.
    let head = ledger_head::Entity::find_by_id(compound_id).one(db).await?;
    let (head_seq, head_hash) = head.map_or((0, String::new()), |h| (h.last_seq, h.last_hash));
    let mut prev_hash = String::new();
    let mut expected_seq = 1;
    loop {
        let entries = journal_entry::Entity::find()
            .filter(journal_entry::Column::CompoundId.eq(compound_id))
            .filter(journal_entry::Column::Seq.gte(expected_seq))
            .filter(journal_entry::Column::Seq.lte(head_seq))
            .order_by_asc(journal_entry::Column::Seq)
            .limit(ENTRIES_PER_BATCH)
            .all(db)
            .await?;
        if entries.is_empty() {
            break;
        }
        let mut lines_by_entry: BTreeMap<i64, Vec<Line>> = BTreeMap::new();
        let stored = journal_line::Entity::find()
            .filter(journal_line::Column::EntryId.is_in(entries.iter().map(|e| e.id)))
            .order_by_asc(journal_line::Column::Id)
            .all(db)
            .await?;
        for l in stored {
            let seq = entries.iter().find(|e| e.id == l.entry_id).map_or(0, |e| e.seq);
            let Some(line) = stored_line(&l) else {
                report.first_break = Some(Break { entry_id: l.entry_id, seq, problem: format!("line {} names an unknown account {}", l.id, l.account) });
                return Ok(report);
            };
            // Balances are summed by the line's compound: a line moved to another compound
            // would move money between them without touching any hash.
            if l.compound_id != compound_id {
                report.first_break = Some(Break { entry_id: l.entry_id, seq, problem: format!("line {} is filed under another compound", l.id) });
                return Ok(report);
            }
            lines_by_entry.entry(l.entry_id).or_default().push(line);
        }
        for entry in &entries {
            let lines = lines_by_entry.remove(&entry.id).unwrap_or_default();
            let broken = |problem: String| Some(Break { entry_id: entry.id, seq: entry.seq, problem });
            let recomputed = rules::entry_hash(&rules::EntryContent {
                prev_hash: &entry.prev_hash,
                compound_id: entry.compound_id,
                seq: entry.seq,
                kind: &entry.kind,
                reference: &entry.reference,
                memo: &entry.memo,
                posted_at_micros: entry.posted_at.timestamp_micros(),
                posted_by: entry.posted_by,
                lines: &lines,
            });
            report.first_break = if entry.seq != expected_seq {
                broken(format!("entry number {expected_seq} is missing"))
            } else if entry.prev_hash != prev_hash {
                broken("it does not link to the entry before it (an entry was removed or replaced)".into())
            } else if recomputed != entry.hash {
                broken("its content does not match its hash (an amount, account or text was changed)".into())
            } else {
                rules::unbalanced(&lines).map(|problem| Break { entry_id: entry.id, seq: entry.seq, problem })
            };
            if report.first_break.is_some() {
                return Ok(report);
            }
            report.entries += 1;
            report.lines += lines.len() as u64;
            report.debits += lines.iter().map(|l| l.debit).sum::<i64>();
            report.credits += lines.iter().map(|l| l.credit).sum::<i64>();
            prev_hash = entry.hash.clone();
            expected_seq += 1;
        }
    }
    let foreign = db
        .query_one_raw(crate::db::statement(
            db,
            "SELECT l.entry_id FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id \
             WHERE l.compound_id = $1 AND e.compound_id <> $1 LIMIT 1",
            vec![compound_id.into()],
        ))
        .await?;
    if let Some(row) = foreign {
        let entry_id: i64 = row.try_get("", "entry_id")?;
        report.first_break = Some(Break { entry_id, seq: 0, problem: "a line of another compound's entry is filed under this compound".into() });
        return Ok(report);
    }
    if head_seq != expected_seq - 1 || head_hash != prev_hash {
        report.first_break = Some(Break {
            entry_id: 0,
            seq: head_seq,
            problem: format!("the journal ends at entry {} but its head says {head_seq} (entries were removed)", expected_seq - 1),
        });
    }
    Ok(report)
}
