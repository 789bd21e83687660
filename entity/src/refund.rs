use sea_orm::entity::prelude::*;

/// Prepaid balance paid back to a unit's payer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    pub amount: i64,
    pub method: String,
    pub reason: String,
    pub staff_id: i64,
    pub journal_entry_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
