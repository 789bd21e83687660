use sea_orm::entity::prelude::*;

/// Who owns a unit from when to when. A sale ends one ownership and starts another; rows are
/// never deleted, so the history of a unit stays complete.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ownerships")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    pub owner_id: i64,
    /// Co-owners name one of them to vote for the unit.
    pub designated_voter: bool,
    pub started_on: Date,
    pub ended_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
