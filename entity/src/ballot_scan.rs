use sea_orm::entity::prelude::*;

/// The scan of a signed paper ballot.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ballot_scans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ballot_id: i64,
    pub data: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
