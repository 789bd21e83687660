//! Notice endpoints (tag `notices`): writing, scheduling, publishing and correcting notices,
//! attachments, the owners' list and read receipts.
use chrono::{DateTime, Utc};
use poem_openapi::{
    ApiRequest, ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::{Binary, Json},
};

use super::{NoticeCategory, NoticeChanges, NoticeDraft};
use crate::{
    AppState,
    auth::{Actor, Role, api::BearerAuth},
    error::{ApiError, Error},
    http::{Area as Tag, JsonBody},
};
use entity::{notice, notice_attachment};

pub struct NoticesApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct AttachmentView {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

impl From<notice_attachment::Model> for AttachmentView {
    fn from(a: notice_attachment::Model) -> Self {
        AttachmentView { id: a.id, filename: a.filename, content_type: a.content_type, size: a.size, sha256: a.sha256 }
    }
}

#[derive(Object)]
pub struct NoticeView {
    pub id: i64,
    pub compound_id: i64,
    pub category: String,
    /// Fee schedules, fund use, vote results, annual accounts: never changed once published.
    pub disclosure: bool,
    pub title: String,
    pub body: String,
    /// plain | markdown
    pub body_format: String,
    /// The body as safe HTML (raw HTML from the author shown as text).
    pub body_html: String,
    /// compound | buildings | stairwells
    pub audience: String,
    pub audience_ids: Vec<i64>,
    /// draft | scheduled | published
    pub status: String,
    pub pinned: bool,
    /// What it reports on, e.g. "vote:3", "fund_project:2".
    pub source: Option<String>,
    /// The notice this one corrects.
    pub supersedes_id: Option<i64>,
    /// The notice that corrects this one, if any: both stay visible.
    pub superseded_by: Option<i64>,
    pub created_by: i64,
    pub author_role: String,
    pub created_at: DateTime<Utc>,
    pub publish_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub attachments: Vec<AttachmentView>,
    /// Staff and the committee: the owners it is addressed to, and how many have read it.
    pub audience_size: Option<u64>,
    pub read_count: Option<u64>,
    /// An owner: whether they have acknowledged it.
    pub read: Option<bool>,
}

/// Views of notices, with attachments, corrections and (for staff) read counts, in a few queries.
async fn views(db: &sea_orm::DatabaseConnection, actor: &Actor, notices: Vec<(notice::Model, Option<bool>)>) -> Result<Vec<NoticeView>, Error> {
    let ids: Vec<i64> = notices.iter().map(|(n, _)| n.id).collect();
    let mut attachments = super::attachments_of(db, &ids).await?;
    let superseded = super::superseded_by(db, &ids).await?;
    let counts = if actor.role == Role::Owner { Default::default() } else { super::read_counts(db, &notices.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()).await? };
    Ok(notices
        .into_iter()
        .map(|(n, read)| {
            let count = counts.get(&n.id).copied();
            let mine: Vec<AttachmentView> = attachments.extract_if(.., |a| a.notice_id == n.id).map(AttachmentView::from).collect();
            let superseded_by = superseded.get(&n.id).copied();
            NoticeView { superseded_by, audience_size: count.map(|c| c.0), read_count: count.map(|c| c.1), read, attachments: mine, ..NoticeView::without_extras(n) }
        })
        .collect())
}

impl NoticeView {
    /// A notice as stored, without what other tables add (a deleted draft).
    fn without_extras(n: notice::Model) -> NoticeView {
        NoticeView {
            disclosure: NoticeCategory::parse(&n.category).is_some_and(NoticeCategory::is_disclosure),
            body_html: super::body_html(&n.body_format, &n.body),
            audience_ids: serde_json::from_str(&n.audience_ids).unwrap_or_default(),
            superseded_by: None,
            audience_size: None,
            read_count: None,
            read: None,
            attachments: Vec::new(),
            id: n.id,
            compound_id: n.compound_id,
            category: n.category,
            title: n.title,
            body: n.body,
            body_format: n.body_format,
            audience: n.audience_kind,
            status: n.status,
            pinned: n.pinned,
            source: n.source,
            supersedes_id: n.supersedes_id,
            created_by: n.created_by,
            author_role: n.author_role,
            created_at: n.created_at,
            publish_at: n.publish_at,
            published_at: n.published_at,
            expires_at: n.expires_at,
        }
    }
}

async fn view(db: &sea_orm::DatabaseConnection, actor: &Actor, notice: notice::Model, read: Option<bool>) -> Result<NoticeView, Error> {
    Ok(views(db, actor, vec![(notice, read)]).await?.remove(0))
}

#[derive(Object, serde::Deserialize)]
pub struct EmailPreference {
    /// True: every notice by email; false: only emergencies and outages.
    pub email_every_notice: bool,
}

#[derive(ApiRequest)]
pub enum AttachmentUpload {
    #[oai(content_type = "application/pdf")]
    Pdf(Binary<Vec<u8>>),
    #[oai(content_type = "image/jpeg")]
    Jpeg(Binary<Vec<u8>>),
    #[oai(content_type = "image/png")]
    Png(Binary<Vec<u8>>),
    #[oai(content_type = "image/webp")]
    Webp(Binary<Vec<u8>>),
    #[oai(content_type = "application/octet-stream")]
    Bytes(Binary<Vec<u8>>),
}

#[derive(ApiResponse)]
pub enum AttachmentFile {
    #[oai(status = 200)]
    File(Binary<Vec<u8>>, #[oai(header = "content-type")] String, #[oai(header = "content-disposition")] String),
}

#[OpenApi(tag = "Tag::Notices")]
impl NoticesApi {
    /// Write a notice to the compound, some buildings or stairwells: published now, at
    /// `publish_at`, or kept as a draft. Emergencies and outages are emailed at once.
    #[oai(path = "/compounds/:id/notices", method = "post")]
    async fn create(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NoticeDraft>) -> Reply<NoticeView> {
        let notice = super::create(&self.0.db, &auth.0, id.0, body.0).await?;
        Ok(Json(view(&self.0.db, &auth.0, notice, None).await?))
    }

    /// A compound's notices in every state, newest first (50 a page), with how many of the
    /// audience read each; `source` (e.g. `vote:3`) narrows them to one record's.
    #[oai(path = "/compounds/:id/notices", method = "get")]
    async fn list(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(validator(max_length = 100))] source: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] per_page: Query<Option<u64>>,
    ) -> Reply<Vec<NoticeView>> {
        let notices = super::list(&self.0.db, &auth.0, id.0, source.0.as_deref(), page.0.unwrap_or(1), per_page.0.unwrap_or(50)).await?;
        Ok(Json(views(&self.0.db, &auth.0, notices.into_iter().map(|n| (n, None)).collect()).await?))
    }

    /// One notice: staff and the committee, any; an owner, a published one addressed to them.
    #[oai(path = "/notices/:id", method = "get")]
    async fn get(&self, auth: BearerAuth, id: Path<i64>) -> Reply<NoticeView> {
        let notice = super::get(&self.0.db, &auth.0, id.0).await?;
        let read = if auth.0.role == Role::Owner { Some(super::has_read(&self.0.db, &auth.0, notice.id).await?) } else { None };
        Ok(Json(view(&self.0.db, &auth.0, notice, read).await?))
    }

    /// Change a draft or scheduled notice; a published one only in `pinned` and `expires_at`,
    /// and a published disclosure not at all (publish a correction that supersedes it).
    #[oai(path = "/notices/:id", method = "patch")]
    async fn change(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NoticeChanges>) -> Reply<NoticeView> {
        let notice = super::change(&self.0.db, &auth.0, id.0, body.0).await?;
        Ok(Json(view(&self.0.db, &auth.0, notice, None).await?))
    }

    /// Delete a notice never published; answers with the notice as it was.
    #[oai(path = "/notices/:id", method = "delete")]
    async fn delete(&self, auth: BearerAuth, id: Path<i64>) -> Reply<NoticeView> {
        let deleted = super::delete(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(NoticeView::without_extras(deleted)))
    }

    /// Publish a draft or scheduled notice now.
    #[oai(path = "/notices/:id/publication", method = "post")]
    async fn publish(&self, auth: BearerAuth, id: Path<i64>) -> Reply<NoticeView> {
        let notice = super::publish_now(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(view(&self.0.db, &auth.0, notice, None).await?))
    }

    /// Attach a PDF or an image (told by its bytes, at most 8 MB, 10 a notice) before the
    /// notice is published; `filename` names it.
    #[oai(path = "/notices/:id/attachments", method = "post")]
    async fn attach(&self, auth: BearerAuth, id: Path<i64>, #[oai(validator(max_length = 200))] filename: Query<String>, body: AttachmentUpload) -> Reply<AttachmentView> {
        let (AttachmentUpload::Pdf(bytes) | AttachmentUpload::Jpeg(bytes) | AttachmentUpload::Png(bytes) | AttachmentUpload::Webp(bytes) | AttachmentUpload::Bytes(bytes)) = body;
        Ok(Json(super::attach(&self.0.db, &auth.0, id.0, &filename.0, bytes.0).await?.into()))
    }

    /// An attachment, for whoever may read its notice.
    #[oai(path = "/notice-attachments/:id", method = "get")]
    async fn attachment(&self, auth: BearerAuth, id: Path<i64>) -> Result<AttachmentFile, ApiError> {
        let (attachment, bytes) = super::attachment(&self.0.db, &auth.0, id.0).await?;
        let disposition = format!("attachment; filename=\"notice-attachment-{}\"; filename*=UTF-8''{}", attachment.id, percent(&attachment.filename));
        Ok(AttachmentFile::File(Binary(bytes), attachment.content_type, disposition))
    }

    /// The owner's notices: published, addressed to their units, not expired; pinned first,
    /// then newest, each saying whether they have read it.
    #[oai(path = "/me/notices", method = "get")]
    async fn my_notices(&self, auth: BearerAuth) -> Reply<Vec<NoticeView>> {
        let notices = super::my_notices(&self.0.db, &auth.0).await?;
        Ok(Json(views(&self.0.db, &auth.0, notices.into_iter().map(|(n, read)| (n, Some(read))).collect()).await?))
    }

    /// The owner acknowledges reading the notice.
    #[oai(path = "/notices/:id/read", method = "post")]
    async fn acknowledge(&self, auth: BearerAuth, id: Path<i64>) -> Reply<NoticeView> {
        let notice = super::acknowledge(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(view(&self.0.db, &auth.0, notice, Some(true)).await?))
    }

    /// Whether the owner gets every notice by email, or only emergencies and outages.
    #[oai(path = "/me/notice-preferences", method = "get")]
    async fn my_preferences(&self, auth: BearerAuth) -> Reply<EmailPreference> {
        Ok(Json(EmailPreference { email_every_notice: super::email_preference(&self.0.db, &auth.0).await? }))
    }

    /// Every notice by email, or only emergencies and outages (the default).
    #[oai(path = "/me/notice-preferences", method = "put")]
    async fn preferences(&self, auth: BearerAuth, body: JsonBody<EmailPreference>) -> Reply<EmailPreference> {
        super::set_email_preference(&self.0.db, &auth.0, body.0.email_every_notice).await?;
        Ok(Json(body.0))
    }
}

/// RFC 5987 encoding of a file name for Content-Disposition.
fn percent(name: &str) -> String {
    name.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
