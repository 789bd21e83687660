use sea_orm::entity::prelude::*;

/// A fee item (收费项目) of a compound: what is charged, to which units, how often.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fee_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    pub compound_id: i64,
    pub name: String,
    /// rate_area | fixed | metered | shared | floor_coefficient
    pub kind: String,
    /// Decimal as text: 元 per m² per month, or per metered unit
    pub rate: Option<String>,
    /// Fen: the fixed amount per unit per cycle, or the shared total per cycle
    pub amount: Option<i64>,
    /// Shared costs: area | equal | coefficient
    pub split: Option<String>,
    /// JSON object floor -> decimal text; floors not listed are exempt
    pub floor_coefficients: Option<String>,
    /// compound | buildings | stairwells | units
    pub scope_kind: String,
    /// JSON array of ids for the scope kind
    pub scope_ids: String,
    /// JSON array of unit uses the item applies to
    pub unit_uses: String,
    /// monthly | quarterly | yearly | one_off
    pub cycle: String,
    /// The bill is due this many days after its period starts
    pub due_days: i32,
    /// half_up | down | up
    pub rounding: String,
    /// Decimal as text, e.g. 0.0003 for 0.03% a day
    pub late_fee_daily_rate: Option<String>,
    pub late_fee_grace_days: i32,
    /// Decimal as text: the late fee is at most this share of the principal
    pub late_fee_cap: Option<String>,
    /// Decimal as text: the share a vacant unit pays (local rule), e.g. 0.70
    pub vacancy_ratio: Option<String>,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
    /// The account adjustments of its bills credit or debit (an account code); None: fee revenue
    pub credit_account: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
