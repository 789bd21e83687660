use sea_orm::entity::prelude::*;

/// Every callback a payment gateway made, kept whatever its outcome.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gateway_callbacks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub gateway: String,
    pub payment_order_id: Option<i64>,
    pub payload: String,
    pub signature_valid: bool,
    /// paid | replay | refused_amount | refused_signature | unknown_order
    pub outcome: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
