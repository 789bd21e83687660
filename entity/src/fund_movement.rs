use sea_orm::entity::prelude::*;

/// One movement of one unit's maintenance-fund sub-ledger (分户账), beside the journal entry that posted it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_movements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    /// deposit | top_up | interest | common_income | repair
    pub kind: String,
    /// Fen: positive into the sub-ledger, negative out of it
    pub amount: i64,
    pub balance_after: i64,
    /// What caused it, e.g. "fund_project:3"
    pub reference: String,
    pub memo: String,
    pub occurred_on: Date,
    pub journal_entry_id: i64,
    pub recorded_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
