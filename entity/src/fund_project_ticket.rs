use sea_orm::entity::prelude::*;

/// A repair ticket a fund project carries out.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_project_tickets")]
pub struct Model {
    pub project_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
