use sea_orm::entity::prelude::*;

/// An owners' vote (表决) on a matter, over a scope, between two times, under a rule set.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "votes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub title: String,
    pub description: String,
    pub matter: String,
    pub scope_kind: String,
    pub scope_ids: String,
    pub rule_set: String,
    pub opens_at: DateTimeUtc,
    pub closes_at: DateTimeUtc,
    /// scheduled | open | closed
    pub status: String,
    pub opened_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// Hundredths of a m², fixed at opening
    pub total_area: Option<i64>,
    pub total_headcount: Option<i64>,
    /// The final tally as JSON, written once at closing
    pub result: Option<String>,
    pub passed: Option<bool>,
    pub result_notice_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
