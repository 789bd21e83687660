use sea_orm::entity::prelude::*;

/// One line of a journal entry: an account (with the unit or fee item it concerns) debited or credited.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "journal_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entry_id: i64,
    pub compound_id: i64,
    pub account: String,
    pub unit_id: Option<i64>,
    pub fee_item_id: Option<i64>,
    pub debit: i64,
    pub credit: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
