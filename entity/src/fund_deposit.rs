use sea_orm::entity::prelude::*;

/// A unit's initial deposit (首期维修资金), with the standard it was computed by.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_deposits")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    /// per_m2 | fixed
    pub basis: String,
    /// Hundredths of a m² (per_m2)
    pub area: Option<i64>,
    /// Decimal as text: 元 per m² (per_m2)
    pub rate: Option<String>,
    pub amount: i64,
    pub source: String,
    pub movement_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
