use sea_orm::entity::prelude::*;

/// Money received for a unit, at the desk or online.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    /// cash | bank_transfer | pos | online
    pub method: String,
    pub amount: i64,
    pub received_at: DateTimeUtc,
    pub recorded_by: i64,
    /// posted | reversed
    pub status: String,
    pub reversal_reason: Option<String>,
    pub payment_order_id: Option<i64>,
    pub journal_entry_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
