use sea_orm::entity::prelude::*;

/// An email waiting to leave, or sent, or given up on. Written in the same transaction as the
/// change that caused it; delivered by the mail worker.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    /// What caused it, e.g. arrears_reminder
    pub kind: String,
    /// The record it belongs to, e.g. reminder:12
    pub reference: Option<String>,
    pub recipient: String,
    pub recipient_name: String,
    pub subject: String,
    pub body: String,
    /// zh | en
    pub language: String,
    /// The Message-ID header, the same on every attempt so a receiver can drop a repeat.
    pub message_id: String,
    /// pending | sending | sent | failed
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
