use sea_orm::entity::prelude::*;

/// A notice to a unit's owners that its sub-ledger fell below 30% of the initial deposit, once per balance.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_top_up_notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    pub movement_id: i64,
    pub balance: i64,
    pub initial_deposit: i64,
    pub emails: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
