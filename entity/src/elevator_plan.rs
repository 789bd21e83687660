use sea_orm::entity::prelude::*;

/// A stairwell's elevator-retrofit cost-sharing plan (加装电梯) and its consent vote.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "elevator_plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub stairwell_id: i64,
    pub title: String,
    pub total_cost: i64,
    pub subsidies: i64,
    pub owners_part: i64,
    /// area_coefficient | floor_percentage | unit_coefficient
    pub method: String,
    /// JSON object: floor or unit id -> decimal text
    pub coefficients: String,
    /// JSON array of floors that pay nothing
    pub exempt_floors: String,
    pub vote_id: i64,
    /// voting | approved | rejected | billed
    pub status: String,
    /// The one-off fee item its shares were billed under
    pub share_fee_item_id: Option<i64>,
    pub running_cost_fee_item_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
