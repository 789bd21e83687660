use sea_orm::entity::prelude::*;

/// Income from common parts (elevator ads, parking on common land): the owners' money (Art. 282).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "common_incomes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub source: String,
    pub description: String,
    pub amount: i64,
    pub received_on: Date,
    pub method: String,
    pub recorded_by: i64,
    pub journal_entry_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
