use sea_orm::entity::prelude::*;

/// A household's share of an elevator retrofit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "elevator_shares")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub unit_id: i64,
    pub floor: i32,
    pub area: i64,
    /// Decimal as text
    pub weight: String,
    pub share: i64,
    pub payer: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
