use sea_orm::entity::prelude::*;

/// A receipt (收据), numbered without gaps per compound and year; a voided receipt keeps its number.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "receipts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub compound_id: i64,
    pub year: i32,
    pub number: i64,
    pub payment_id: i64,
    pub voided_at: Option<DateTimeUtc>,
    pub void_reason: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
