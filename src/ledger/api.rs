//! Ledger endpoints (tag `ledger`): verification of the hash chain and trial balance, the
//! journal, and the owners' common-area income, for staff and the committee's audit.
use chrono::{DateTime, Utc};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Account, Verification};
use crate::{
    AppState,
    auth::{Actor, Permission, api::BearerAuth, tenancy::find_visible},
    error::{ApiError, Error},
    http::Area as Tag,
    types::Money,
};
use entity::{compound, journal_entry, journal_line};

pub struct LedgerApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct AccountTotalView {
    pub code: String,
    pub account: Account,
    pub name: String,
    pub debit: Money,
    pub credit: Money,
    /// Debit minus credit.
    pub balance: Money,
}

#[derive(Object)]
pub struct BreakView {
    /// The entry where the chain breaks (0: the chain's recorded end).
    pub entry_id: i64,
    pub seq: i64,
    pub problem: String,
}

#[derive(Object)]
pub struct VerificationView {
    pub compound_id: i64,
    /// True when every entry's hash, link and balance check out and the trial balance balances.
    pub intact: bool,
    pub entries: u64,
    pub lines: u64,
    pub total_debits: Money,
    pub total_credits: Money,
    pub first_break: Option<BreakView>,
    pub trial_balance: Vec<AccountTotalView>,
}

#[derive(Object)]
pub struct LineView {
    pub account: Account,
    pub code: String,
    pub unit_id: Option<i64>,
    pub fee_item_id: Option<i64>,
    pub debit: Money,
    pub credit: Money,
}

#[derive(Object)]
pub struct EntryView {
    pub id: i64,
    pub seq: i64,
    pub kind: String,
    pub reference: String,
    pub memo: String,
    pub posted_at: DateTime<Utc>,
    pub posted_by: i64,
    pub prev_hash: String,
    pub hash: String,
    pub lines: Vec<LineView>,
}

#[derive(Object)]
pub struct EntryPage {
    pub items: Vec<EntryView>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

async fn compound_for_audit(state: &AppState, actor: &Actor, compound_id: i64) -> Result<compound::Model, Error> {
    actor.require(Permission::ReadLedger)?;
    find_visible::<compound::Entity>(&state.db, actor, compound_id).await
}

/// Verification and trial balance of one compound, as the API and `wuye ledger verify` show it.
pub async fn verification_view(db: &sea_orm::DatabaseConnection, compound_id: i64) -> Result<VerificationView, Error> {
    let Verification { entries, lines, debits, credits, first_break, .. } = super::verify(db, compound_id).await?;
    let totals = super::trial_balance(db, compound_id).await?;
    let balanced = totals.iter().map(|t| t.debit).sum::<i64>() == totals.iter().map(|t| t.credit).sum::<i64>();
    let first_break = first_break.or_else(|| {
        (!balanced).then(|| super::Break { entry_id: 0, seq: 0, problem: "the trial balance does not balance".into() })
    });
    Ok(VerificationView {
        compound_id,
        intact: first_break.is_none(),
        entries,
        lines,
        total_debits: Money::from_fen(debits),
        total_credits: Money::from_fen(credits),
        first_break: first_break.map(|b| BreakView { entry_id: b.entry_id, seq: b.seq, problem: b.problem }),
        trial_balance: totals
            .into_iter()
            .map(|t| AccountTotalView {
                code: t.account.code().into(),
                name: t.account.name().into(),
                account: t.account,
                debit: Money::from_fen(t.debit),
                credit: Money::from_fen(t.credit),
                balance: Money::from_fen(t.debit - t.credit),
            })
            .collect(),
    })
}

#[OpenApi(tag = "Tag::Ledger")]
impl LedgerApi {
    /// Recompute the compound's hash chain and trial balance; names the first entry that breaks.
    #[oai(path = "/compounds/:id/ledger/verification", method = "get")]
    async fn verify(&self, auth: BearerAuth, id: Path<i64>) -> Reply<VerificationView> {
        let compound = compound_for_audit(&self.0, &auth.0, id.0).await?;
        Ok(Json(verification_view(&self.0.db, compound.id).await?))
    }

    /// The compound's journal, oldest first, with every line.
    #[oai(path = "/compounds/:id/ledger/entries", method = "get")]
    async fn entries(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] per_page: Query<Option<u64>>,
    ) -> Reply<EntryPage> {
        let compound = compound_for_audit(&self.0, &auth.0, id.0).await?;
        let (page, per_page) = (page.0.unwrap_or(1), per_page.0.unwrap_or(50));
        let select = journal_entry::Entity::find().filter(journal_entry::Column::CompoundId.eq(compound.id));
        let total = select.clone().count(&self.0.db).await.map_err(Error::from)?;
        let entries = select
            .order_by_asc(journal_entry::Column::Seq)
            .offset((page - 1) * per_page)
            .limit(per_page)
            .all(&self.0.db)
            .await
            .map_err(Error::from)?;
        let lines = journal_line::Entity::find()
            .filter(journal_line::Column::EntryId.is_in(entries.iter().map(|e| e.id)))
            .order_by_asc(journal_line::Column::Id)
            .all(&self.0.db)
            .await
            .map_err(Error::from)?;
        let items = entries
            .into_iter()
            .map(|e| EntryView {
                lines: lines
                    .iter()
                    .filter(|l| l.entry_id == e.id)
                    .filter_map(|l| {
                        super::stored_line(l).map(|line| LineView {
                            account: line.account,
                            code: l.account.clone(),
                            unit_id: line.unit_id,
                            fee_item_id: line.fee_item_id,
                            debit: Money::from_fen(line.debit),
                            credit: Money::from_fen(line.credit),
                        })
                    })
                    .collect(),
                id: e.id,
                seq: e.seq,
                kind: e.kind,
                reference: e.reference,
                memo: e.memo,
                posted_at: e.posted_at,
                posted_by: e.posted_by,
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect();
        Ok(Json(EntryPage { items, total, page, per_page }))
    }
}
