use sea_orm::entity::prelude::*;

/// The bytes of a ticket photo, apart from the rows lists read.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_photo_data")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub photo_id: i64,
    pub data: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
