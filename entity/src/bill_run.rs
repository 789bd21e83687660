use sea_orm::entity::prelude::*;

/// One bill run: who ran it, when, for which period, and what it created.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bill_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub period: String,
    pub run_by: i64,
    pub bills_created: i64,
    /// Fen
    pub total: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
