use sea_orm::entity::prelude::*;

/// A compound's maintenance-fund standard: how initial deposits are computed (and on what authority), how interest and common-area income are allocated, and how long a project's notice runs.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub compound_id: i64,
    pub company_id: i64,
    /// per_m2 | fixed
    pub deposit_basis: String,
    /// Decimal as text: 元 per m² (per_m2)
    pub deposit_rate: Option<String>,
    /// Fen per unit (fixed)
    pub deposit_amount: Option<i64>,
    /// The document the standard comes from, e.g. a city notice
    pub source: String,
    /// area | balance
    pub allocation: String,
    /// Days a repair plan stays on public notice before work starts
    pub notice_days: i32,
    pub updated_by: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
