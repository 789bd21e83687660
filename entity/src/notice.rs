use sea_orm::entity::prelude::*;

/// A notice (公告) to a compound's owners. A published one is never changed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    /// general | fee_schedule | fund_use | vote_result | annual_accounts | outage | emergency
    pub category: String,
    pub title: String,
    pub body: String,
    /// draft | published
    pub status: String,
    /// What it reports on, e.g. "vote:3"
    pub source: Option<String>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
