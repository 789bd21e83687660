use sea_orm::entity::prelude::*;

/// A change to what a bill asks for, with its reason and the staff member.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bill_adjustments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub compound_id: i64,
    pub bill_id: i64,
    /// waiver | discount | correction | late_fee_waiver
    pub kind: String,
    /// Fen, signed: negative lowers what is owed
    pub amount: i64,
    pub reason: String,
    pub staff_id: i64,
    pub journal_entry_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
