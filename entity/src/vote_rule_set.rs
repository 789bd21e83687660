use sea_orm::entity::prelude::*;

/// The thresholds a vote is decided by, as data with an effective date (Civil Code, the earlier Property Law, local elevator rules).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vote_rule_sets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub region: String,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
    /// "num/den" of the area and of the headcount that must take part; None: no quorum
    pub quorum: Option<String>,
    /// participating | all
    pub approval_base: String,
    pub special_majority: String,
    /// At least (以上) the fraction, rather than more than it
    pub special_inclusive: bool,
    pub ordinary_majority: String,
    pub ordinary_inclusive: bool,
    pub no_objection: bool,
    /// JSON array of the matters that need the special majority
    pub special_matters: String,
    /// JSON array of the matters it may decide; None: all
    pub matters: Option<String>,
    pub summary: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
