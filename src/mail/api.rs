//! Outbox endpoints (tag `jobs`): what email is waiting, sent or failed, and sending a failed
//! message again.
use chrono::{DateTime, Utc};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

use super::OutboxStatus;
use crate::{
    AppState,
    auth::{Actor, Permission, api::BearerAuth, tenancy::visible},
    error::{ApiError, Error},
    http::Area as Tag,
};
use entity::outbox_message;

pub struct OutboxApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct OutboxView {
    pub id: i64,
    pub compound_id: i64,
    /// What caused it, e.g. arrears_reminder.
    pub kind: String,
    /// The record it belongs to, e.g. reminder:12.
    pub reference: Option<String>,
    pub recipient: String,
    pub recipient_name: String,
    pub subject: String,
    /// Only when one message is asked for.
    pub body: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl OutboxView {
    fn new(m: outbox_message::Model, with_body: bool) -> Self {
        OutboxView {
            id: m.id,
            compound_id: m.compound_id,
            kind: m.kind,
            reference: m.reference,
            recipient: m.recipient,
            recipient_name: m.recipient_name,
            subject: m.subject,
            body: with_body.then_some(m.body),
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

async fn find_message(state: &AppState, actor: &Actor, id: i64) -> Result<outbox_message::Model, Error> {
    actor.require(Permission::ManageOutbox)?;
    crate::auth::tenancy::find_visible::<outbox_message::Entity>(&state.db, actor, id).await
}

#[OpenApi(tag = "Tag::Jobs")]
impl OutboxApi {
    /// Email in the outbox, newest first: filter by status and compound; page with `before_id`.
    #[oai(path = "/outbox", method = "get")]
    async fn list_outbox(
        &self,
        auth: BearerAuth,
        status: Query<Option<OutboxStatus>>,
        compound_id: Query<Option<i64>>,
        before_id: Query<Option<i64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<u64>>,
    ) -> Reply<Vec<OutboxView>> {
        auth.0.require(Permission::ManageOutbox)?;
        let mut query = visible::<outbox_message::Entity>(&auth.0);
        if let Some(status) = status.0 {
            query = query.filter(outbox_message::Column::Status.eq(status.as_str()));
        }
        if let Some(compound) = compound_id.0 {
            query = query.filter(outbox_message::Column::CompoundId.eq(compound));
        }
        if let Some(before) = before_id.0 {
            query = query.filter(outbox_message::Column::Id.lt(before));
        }
        let messages = query.order_by_desc(outbox_message::Column::Id).limit(limit.0.unwrap_or(50)).all(&self.0.db).await.map_err(Error::from)?;
        Ok(Json(messages.into_iter().map(|m| OutboxView::new(m, false)).collect()))
    }

    /// One message, with its body as sent.
    #[oai(path = "/outbox/:id", method = "get")]
    async fn get_message(&self, auth: BearerAuth, id: Path<i64>) -> Reply<OutboxView> {
        Ok(Json(OutboxView::new(find_message(&self.0, &auth.0, id.0).await?, true)))
    }

    /// Send a failed message again, with a fresh set of attempts.
    #[oai(path = "/outbox/:id/retry", method = "post")]
    async fn retry(&self, auth: BearerAuth, id: Path<i64>) -> Reply<OutboxView> {
        let message = find_message(&self.0, &auth.0, id.0).await?;
        let message = super::retry(&self.0.db, message).await?;
        self.0.wakeups.mail.notify_one();
        Ok(Json(OutboxView::new(message, false)))
    }
}
