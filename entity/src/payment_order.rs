use sea_orm::entity::prelude::*;

/// An owner's online payment order for chosen bills, settled by the gateway's callback.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    pub amount: i64,
    /// JSON array
    pub bill_ids: String,
    /// pending | paid
    pub status: String,
    pub gateway: String,
    pub created_by: i64,
    pub payment_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
