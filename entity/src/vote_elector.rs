use sea_orm::entity::prelude::*;

/// One voter of a vote's electorate: an owner with all their units in scope, or the developer for all its units.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vote_electors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub vote_id: i64,
    pub owner_id: Option<i64>,
    pub developer: bool,
    pub name: String,
    /// Hundredths of a m²
    pub area: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
