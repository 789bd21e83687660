//! Notice endpoints (tag `notices`): the notices the fund's steps and the votes wrote.
use chrono::{DateTime, Utc};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::{AppState, auth::api::BearerAuth, error::ApiError, http::Area as Tag};
use entity::notice;

pub struct NoticesApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct NoticeView {
    pub id: i64,
    pub compound_id: i64,
    pub category: String,
    pub title: String,
    pub body: String,
    /// draft | published
    pub status: String,
    /// What it reports on, e.g. "vote:3", "fund_project:2".
    pub source: Option<String>,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<notice::Model> for NoticeView {
    fn from(n: notice::Model) -> Self {
        NoticeView {
            id: n.id,
            compound_id: n.compound_id,
            category: n.category,
            title: n.title,
            body: n.body,
            status: n.status,
            source: n.source,
            created_by: n.created_by,
            created_at: n.created_at,
            published_at: n.published_at,
        }
    }
}

#[OpenApi(tag = "Tag::Notices")]
impl NoticesApi {
    /// A compound's notices, newest first; `source` (e.g. `vote:3`) narrows them to one record's.
    #[oai(path = "/compounds/:id/notices", method = "get")]
    async fn list(&self, auth: BearerAuth, id: Path<i64>, source: Query<Option<String>>) -> Reply<Vec<NoticeView>> {
        let notices = super::list(&self.0.db, &auth.0, id.0, source.0.as_deref()).await?;
        Ok(Json(notices.into_iter().map(NoticeView::from).collect()))
    }

    #[oai(path = "/notices/:id", method = "get")]
    async fn get(&self, auth: BearerAuth, id: Path<i64>) -> Reply<NoticeView> {
        Ok(Json(super::get(&self.0.db, &auth.0, id.0).await?.into()))
    }
}
