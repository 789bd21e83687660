use sea_orm::entity::prelude::*;

/// A meter reading of a unit for a metered fee item and period.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meter_readings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub compound_id: i64,
    pub fee_item_id: i64,
    pub unit_id: i64,
    pub period: String,
    /// Decimal as text
    pub reading: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
