use sea_orm::entity::prelude::*;

/// A unit (房屋). Areas are hundredths of a square metre; the one that counts is the registered
/// area, else the surveyed one, else the contract one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub building_id: i64,
    pub stairwell_id: i64,
    pub floor: i32,
    pub number: String,
    /// residential | commercial | parking | storage
    pub unit_use: String,
    pub registered_area: Option<i64>,
    pub surveyed_area: Option<i64>,
    pub contract_area: Option<i64>,
    /// Unsold or undelivered: the developer holds it and pays for it.
    pub developer_held: bool,
    pub vacant: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
