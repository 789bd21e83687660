use sea_orm::entity::prelude::*;

/// A journal entry: balanced lines, numbered per compound, hash-chained to the entry before.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "journal_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub seq: i64,
    pub kind: String,
    pub reference: String,
    pub memo: String,
    pub posted_at: DateTimeUtc,
    pub posted_by: i64,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
