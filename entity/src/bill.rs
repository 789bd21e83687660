use sea_orm::entity::prelude::*;

/// A bill (账单): one unit, one fee item, one period. Never edited or deleted; adjustments, payments
/// and late fees are tracked beside the amount.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bills")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    pub fee_item_id: i64,
    /// The first month the bill covers, 2026-11
    pub period: String,
    pub bill_run_id: i64,
    /// owner | developer
    pub payer: String,
    /// Fen, as billed
    pub amount: i64,
    /// Fen, sum of adjustments (negative for waivers)
    pub adjusted: i64,
    /// Fen of principal paid
    pub paid: i64,
    pub late_fee_paid: i64,
    pub late_fee_waived: i64,
    /// Fen of late fee accrued up to `late_fee_accrued_through`: brought up to date whenever the
    /// principal owed changes (so that later days run on the principal then owed) and daily by
    /// the late-fee job. The figure as read; `late_fee_fen_days` is what it is computed from.
    pub late_fee_accrued: i64,
    pub late_fee_accrued_through: Option<Date>,
    /// Principal owed x days overdue, summed over the days up to `late_fee_accrued_through`:
    /// the exact basis of the late fee, which is this times the daily rate, rounded once.
    pub late_fee_fen_days: i64,
    pub due_date: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
