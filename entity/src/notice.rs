use sea_orm::entity::prelude::*;

/// A notice (公告) to the owners of a compound, or of some of its buildings or stairwells.
/// Disclosures, once published, are never changed: a correction is a new notice superseding it.
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
    /// plain | markdown
    pub body_format: String,
    /// compound | buildings | stairwells
    pub audience_kind: String,
    /// JSON array of building or stairwell ids
    pub audience_ids: String,
    /// draft | scheduled | published
    pub status: String,
    pub pinned: bool,
    /// What it reports on, e.g. "vote:3"
    pub source: Option<String>,
    pub supersedes_id: Option<i64>,
    pub created_by: i64,
    pub author_role: String,
    pub created_at: DateTimeUtc,
    pub publish_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
