use sea_orm::entity::prelude::*;

/// A bill named in a reminder, with what was owed on it. Unique per bill and stage.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminder_bills")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub reminder_id: i64,
    pub compound_id: i64,
    pub bill_id: i64,
    pub stage: String,
    /// Fen
    pub principal_owed: i64,
    /// Fen
    pub late_fee_owed: i64,
    pub days_overdue: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
