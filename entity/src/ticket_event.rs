use sea_orm::entity::prelude::*;

/// One change of a ticket: who, when, what from and to. Append-only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    pub compound_id: i64,
    /// 0: the system (a scheduled job)
    pub actor_id: i64,
    pub actor_role: String,
    /// filed | status | priority | assignee | comment | photo | rating | follow_up | cost | escalated
    pub kind: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub note: Option<String>,
    pub internal: bool,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
