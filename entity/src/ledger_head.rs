use sea_orm::entity::prelude::*;

/// The end of a compound's journal chain; locked while an entry is appended.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_heads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub compound_id: i64,
    pub last_seq: i64,
    pub last_hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
