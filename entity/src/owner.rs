use sea_orm::entity::prelude::*;

/// An owner (业主) as a person known to one compound.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "owners")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Only the masked form is ever stored (110***********1234).
    pub id_number_masked: Option<String>,
    /// The owner's login, once they have one.
    pub user_id: Option<i64>,
    /// Every notice by email; otherwise only emergencies and outages.
    pub email_every_notice: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
