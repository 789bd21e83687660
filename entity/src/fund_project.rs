use sea_orm::entity::prelude::*;

/// A repair paid from the maintenance fund: plan, approval (vote or emergency notice), work and settlement.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_projects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub title: String,
    pub description: String,
    /// compound | buildings | stairwells | units
    pub scope_kind: String,
    /// JSON array of ids for the scope kind
    pub scope_ids: String,
    pub budget: i64,
    /// roof_leak | elevator_fault | pump_failure | falling_facade | drainage_failure | fire_system_failure
    pub emergency_kind: Option<String>,
    /// draft | voting | approved | rejected | in_progress | settled
    pub status: String,
    pub vote_id: Option<i64>,
    pub emergency_notice: Option<String>,
    pub emergency_noticed_at: Option<DateTimeUtc>,
    pub emergency_noticed_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    /// The last day of the public notice of the approved plan
    pub notice_until: Option<Date>,
    pub started_at: Option<DateTimeUtc>,
    pub actual_cost: Option<i64>,
    pub settled_at: Option<DateTimeUtc>,
    pub journal_entry_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
