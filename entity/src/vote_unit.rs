use sea_orm::entity::prelude::*;

/// A unit in a vote's scope, with its area and voter, as fixed at opening.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vote_units")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub vote_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_id: i64,
    pub area: i64,
    pub elector_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
