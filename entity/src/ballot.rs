use sea_orm::entity::prelude::*;

/// A ballot as cast. Every ballot is kept; an elector's last one counts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ballots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub vote_id: i64,
    pub elector_id: i64,
    /// agree | disagree | abstain
    pub choice: String,
    /// online | paper
    pub channel: String,
    pub cast_by: i64,
    pub cast_at: DateTimeUtc,
    /// Paper ballots: the scanned signed ballot's type
    pub scan_content_type: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
