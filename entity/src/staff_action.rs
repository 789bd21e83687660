use sea_orm::entity::prelude::*;

/// One change a staff member (or committee member) asked for through the API: who, when, what, before and after, from where. Written before the change is made and completed once with its outcome; never otherwise updated, never deleted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_actions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: Option<i64>,
    pub compound_id: Option<i64>,
    pub user_id: i64,
    pub user_name: String,
    pub role: String,
    pub method: String,
    pub path: String,
    /// The answer's HTTP status; None until the answer is recorded (a row left so: the service
    /// stopped first, or writing the outcome failed; the change may or may not have been made)
    pub status: Option<i32>,
    pub ip: String,
    pub user_agent: String,
    /// The request body, as sent (JSON), truncated
    pub request: Option<String>,
    /// The record as a GET of the same path showed it before the change, truncated
    pub before: Option<String>,
    /// The answer, truncated
    pub after: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
