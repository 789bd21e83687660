//! Email through an outbox: a message is written to the `outbox` table in the same transaction
//! as the change that caused it, and delivered by [`run_worker`] with retries. A message that
//! cannot be delivered waits (doubling waits between attempts) and after its last attempt stays
//! failed until a manager sends it again; nothing is lost to an SMTP outage or a restart.
//!
//! Each row is claimed before it is sent (`FOR UPDATE SKIP LOCKED` on PostgreSQL), held by a
//! lease, and marked sent right after the server accepts it, so two workers never send one row
//! while its lease lasts. The one gap no outbox can close is a crash (or a send outlasting the
//! lease) between the server's acceptance and that mark: the row is then sent again, with the
//! same Message-ID, so a receiver can recognise the repeat.
pub mod api;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, Set};
use tokio::sync::watch;

use crate::{
    AppState,
    config::{Language, MailConfig, MailTransport, SmtpSecurity},
    error::{Error, Result},
    jobs::backoff_seconds,
};
use entity::outbox_message;

/// A message to write to the outbox.
pub struct NewEmail {
    pub company_id: i64,
    pub compound_id: i64,
    /// What caused it, e.g. `arrears_reminder`.
    pub kind: &'static str,
    /// The record it belongs to, e.g. `reminder:12`.
    pub reference: Option<String>,
    pub recipient: String,
    pub recipient_name: String,
    pub subject: String,
    pub body: String,
    pub language: Language,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its first attempt or its next one.
    Pending,
    /// Claimed by a worker that is sending it now.
    Sending,
    Sent,
    /// Its last attempt failed; a manager may send it again.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }
}

/// Writes a message to the outbox, inside the caller's transaction.
pub async fn enqueue(txn: &impl ConnectionTrait, email: NewEmail) -> Result<outbox_message::Model> {
    use rand::RngCore;
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let now = Utc::now();
    Ok(outbox_message::ActiveModel {
        company_id: Set(email.company_id),
        compound_id: Set(email.compound_id),
        kind: Set(email.kind.into()),
        reference: Set(email.reference),
        recipient: Set(email.recipient),
        recipient_name: Set(email.recipient_name),
        subject: Set(email.subject),
        body: Set(email.body),
        language: Set(email.language.as_str().into()),
        message_id: Set(format!("<{}.outbox@wuye>", hex::encode(nonce))),
        status: Set(OutboxStatus::Pending.as_str().into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?)
}

/// Where messages go: an SMTP server, `.eml` files, or memory (tests).
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
    Stub(std::sync::Mutex<Vec<String>>),
}

impl Mailer {
    pub fn new(config: &MailConfig) -> anyhow::Result<Mailer> {
        let transport = match &config.transport {
            MailTransport::Smtp { host, port, security, credentials } => {
                let builder = match security {
                    SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                    SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                };
                let mut builder = builder.port(*port).timeout(Some(Duration::from_secs(20)));
                if let Some((user, password)) = credentials {
                    builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
                }
                Transport::Smtp(builder.build())
            }
            MailTransport::File { dir } => {
                std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("WUYE_MAIL_DIR {}: {e}", dir.display()))?;
                Transport::File(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
            MailTransport::Stub => Transport::Stub(Default::default()),
        };
        Ok(Mailer { from: config.from.parse()?, transport: Arc::new(transport) })
    }

    /// The messages a stub transport has taken, as sent (RFC 5322 text); empty for others.
    pub fn stub_messages(&self) -> Vec<String> {
        match &*self.transport {
            Transport::Stub(sent) => sent.lock().expect("stub mailbox").clone(),
            _ => Vec::new(),
        }
    }

    /// The message of an outbox row, as it goes on the wire: UTF-8 headers encoded for mail
    /// clients (RFC 2047), the same Message-ID on every attempt.
    pub fn message(&self, row: &outbox_message::Model) -> std::result::Result<Message, String> {
        let to = Mailbox::new(Some(row.recipient_name.clone()), row.recipient.parse().map_err(|e| format!("recipient {}: {e}", row.recipient))?);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(row.message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(row.body.clone())
            .map_err(|e| e.to_string())
    }

    async fn send(&self, row: &outbox_message::Model) -> std::result::Result<(), String> {
        let message = self.message(row)?;
        match &*self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|e| e.to_string()),
            Transport::File(file) => file.send(message).await.map(drop).map_err(|e| e.to_string()),
            Transport::Stub(sent) => {
                sent.lock().expect("stub mailbox").push(String::from_utf8_lossy(&message.formatted()).into_owned());
                Ok(())
            }
        }
    }
}

/// How many messages one worker round claims and sends at once.
const BATCH: u64 = 50;
/// How long a claimed message is held before another worker may take it over.
const LEASE: Duration = Duration::from_secs(300);

/// What one round of delivery did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Claims due messages and sends them; returns what happened to them. Every outcome is
/// recorded, whatever happens to the others: a message sent but not marked would be sent again.
pub async fn deliver_due(db: &DatabaseConnection, mailer: &Mailer, config: &MailConfig) -> Result<Delivered> {
    let claimed = claim_due(db).await?;
    let mut sending = tokio::task::JoinSet::new();
    for row in claimed {
        let mailer = mailer.clone();
        sending.spawn(async move {
            let outcome = mailer.send(&row).await;
            (row, outcome)
        });
    }
    let mut delivered = Delivered::default();
    while let Some(joined) = sending.join_next().await {
        // A send task that panicked leaves its row claimed; its lease runs out and it is tried again.
        let Ok((row, outcome)) = joined else { continue };
        if let Err(error) = record_outcome(db, config, &row, outcome, &mut delivered).await {
            tracing::error!(outbox = row.id, error = %error, "could not record the outcome of an email");
        }
    }
    Ok(delivered)
}

async fn record_outcome(
    db: &DatabaseConnection,
    config: &MailConfig,
    row: &outbox_message::Model,
    outcome: std::result::Result<(), String>,
    delivered: &mut Delivered,
) -> Result<()> {
    let now = Utc::now();
    let mut active = outbox_message::ActiveModel { lease_until: Set(None), ..Default::default() };
    match outcome {
        Ok(()) => {
            active.status = Set(OutboxStatus::Sent.as_str().into());
            active.sent_at = Set(Some(now));
            active.last_error = Set(None);
            delivered.sent += 1;
            metrics::counter!("wuye_outbox_deliveries_total", "outcome" => "sent").increment(1);
        }
        Err(error) if row.attempts < config.max_attempts => {
            tracing::warn!(outbox = row.id, attempt = row.attempts, error = %error, "email not delivered; it will be tried again");
            active.status = Set(OutboxStatus::Pending.as_str().into());
            active.next_attempt_at = Set(now + chrono::Duration::seconds(backoff_seconds(config.retry_seconds, row.attempts)));
            active.last_error = Set(Some(error));
            delivered.retrying += 1;
            metrics::counter!("wuye_outbox_deliveries_total", "outcome" => "retried").increment(1);
        }
        Err(error) => {
            tracing::error!(outbox = row.id, error = %error, "email failed on its last attempt");
            active.status = Set(OutboxStatus::Failed.as_str().into());
            active.last_error = Set(Some(error));
            delivered.failed += 1;
            metrics::counter!("wuye_outbox_deliveries_total", "outcome" => "failed").increment(1);
        }
    }
    // Only this claim's outcome: a worker whose lease ran out and was taken over (the claim
    // counted another attempt) leaves the row to the one that took it.
    outbox_message::Entity::update_many()
        .set(active)
        .filter(outbox_message::Column::Id.eq(row.id))
        .filter(outbox_message::Column::Status.eq(OutboxStatus::Sending.as_str()))
        .filter(outbox_message::Column::Attempts.eq(row.attempts))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks up to [`BATCH`] due messages as being sent by this worker and returns them: pending
/// ones whose time has come, and ones whose sender stopped before finishing.
async fn claim_due(db: &DatabaseConnection) -> Result<Vec<outbox_message::Model>> {
    let now: DateTime<Utc> = Utc::now();
    let skip_locked = if db.get_database_backend() == DatabaseBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let mut claimed = Vec::new();
    // Two conditions, each answered by its index: messages whose sender stopped before
    // finishing, then pending ones whose time has come, longest waiting first.
    for due in ["status = 'sending' AND lease_until < $2", "status = 'pending' AND next_attempt_at <= $2"] {
        let sql = format!(
            "UPDATE outbox SET status = 'sending', lease_until = $1, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE {due} ORDER BY next_attempt_at, id LIMIT {BATCH}{skip_locked}) RETURNING *"
        );
        let statement = crate::db::statement(db, &sql, vec![(now + LEASE).into(), now.into()]);
        claimed.extend(outbox_message::Entity::find().from_raw_sql(statement).all(db).await?);
    }
    Ok(claimed)
}

/// Delivers the outbox until `stop` turns true: drains what is due, then waits for the poll
/// interval or a wake-up.
pub async fn run_worker(state: AppState, mailer: Mailer, mut stop: watch::Receiver<bool>) {
    loop {
        loop {
            if *stop.borrow() {
                return;
            }
            match deliver_due(&state.db, &mailer, &state.config.mail).await {
                Ok(round) if round == Delivered::default() => break,
                Ok(round) => tracing::info!(sent = round.sent, retrying = round.retrying, failed = round.failed, "outbox round"),
                Err(error) => {
                    tracing::error!(error = %error, "outbox delivery failed");
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(state.config.jobs.poll) => {}
            _ = state.wakeups.mail.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Queues a failed message again, with a fresh set of attempts, and returns it as queued. Only
/// a failed one: a message pending, being sent or sent is left as it is (two managers retrying
/// at once queue it once).
pub async fn retry(db: &DatabaseConnection, message: outbox_message::Model) -> Result<outbox_message::Model> {
    let sql = "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1 WHERE id = $2 AND status = 'failed' RETURNING *";
    let statement = crate::db::statement(db, sql, vec![Utc::now().into(), message.id.into()]);
    outbox_message::Entity::find()
        .from_raw_sql(statement)
        .one(db)
        .await?
        .ok_or_else(|| Error::conflict("id", "only a failed message is sent again; this one is not failed (any more)"))
}
