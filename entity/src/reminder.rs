use sea_orm::entity::prelude::*;

/// An arrears reminder sent for a unit: the letter exactly as it went out, kept as evidence.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub unit_id: i64,
    /// friendly | second | demand
    pub stage: String,
    /// The day the amounts were owed on.
    pub as_of: Date,
    /// The owners it is addressed to, by name.
    pub addressed_to: String,
    /// email (through the outbox) | letter (no owner has an email: printed and handed over)
    pub delivery: String,
    /// Fen, principal and late fee of the bills it names.
    pub total_owed: i64,
    pub subject: String,
    pub body: String,
    pub job_run_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
