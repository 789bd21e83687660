use sea_orm::entity::prelude::*;

/// A unit's share of a settled fund project, debited to its sub-ledger.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_project_shares")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub unit_id: i64,
    pub area: i64,
    pub share: i64,
    /// owner | developer
    pub payer: String,
    /// None for a share of 0.00, which moves nothing.
    pub movement_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
