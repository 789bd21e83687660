//! Notices (公告) to a compound's owners. The fund's steps and the votes' results write theirs
//! here: a fund project's plan, split and spending as drafts for staff to publish, a vote's
//! result and an emergency's prior notice published at once. A published notice is never
//! changed.
pub mod api;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    auth::{Actor, Permission, tenancy::find_visible},
    error::Result,
};
use entity::{compound, notice};

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NoticeCategory {
    General,
    FeeSchedule,
    FundUse,
    VoteResult,
    AnnualAccounts,
    Outage,
    Emergency,
}

impl NoticeCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeCategory::General => "general",
            NoticeCategory::FeeSchedule => "fee_schedule",
            NoticeCategory::FundUse => "fund_use",
            NoticeCategory::VoteResult => "vote_result",
            NoticeCategory::AnnualAccounts => "annual_accounts",
            NoticeCategory::Outage => "outage",
            NoticeCategory::Emergency => "emergency",
        }
    }
}

pub struct NewNotice {
    pub company_id: i64,
    pub compound_id: i64,
    pub category: NoticeCategory,
    pub title: String,
    pub body: String,
    /// What it reports on, e.g. "vote:3".
    pub source: String,
    pub published: bool,
}

/// Writes a notice in the caller's transaction, as a draft or published.
pub async fn write(txn: &impl ConnectionTrait, actor: &Actor, new: NewNotice) -> Result<notice::Model> {
    let now = Utc::now();
    Ok(notice::ActiveModel {
        company_id: Set(new.company_id),
        compound_id: Set(new.compound_id),
        category: Set(new.category.as_str().into()),
        title: Set(new.title),
        body: Set(new.body),
        status: Set(if new.published { "published" } else { "draft" }.into()),
        source: Set(Some(new.source)),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        published_at: Set(new.published.then_some(now)),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// A compound's notices, newest first; `source` narrows them to one record's ("vote:3").
pub async fn list(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64, source: Option<&str>) -> Result<Vec<notice::Model>> {
    actor.require(Permission::ReadNotices)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let mut select = notice::Entity::find().filter(notice::Column::CompoundId.eq(compound.id));
    if let Some(source) = source {
        select = select.filter(notice::Column::Source.eq(source));
    }
    Ok(select.order_by_desc(notice::Column::Id).all(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<notice::Model> {
    actor.require(Permission::ReadNotices)?;
    find_visible::<notice::Entity>(db, actor, id).await
}
