use sea_orm::entity::prelude::*;

/// Technicians of a compound who take the tickets of some categories; automatic assignment
/// gives a ticket to the member with the fewest open tickets.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "technician_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub name: String,
    /// JSON array of categories
    pub categories: String,
    /// JSON array of technician user ids
    pub member_ids: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
