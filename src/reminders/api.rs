//! Reminder endpoints (tag `billing`): the arrears reminders of a unit, as they were sent.
use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::Stage;
use crate::{
    AppState,
    auth::api::BearerAuth,
    billing::readable_unit,
    error::{ApiError, Error},
    http::Area as Tag,
    types::Money,
};
use entity::{bill, outbox_message, reminder, reminder_bill};

pub struct RemindersApi(pub AppState);

#[derive(Object)]
pub struct ReminderView {
    pub id: i64,
    pub unit_id: i64,
    pub stage: Stage,
    /// The day the amounts were owed on.
    pub as_of: NaiveDate,
    pub addressed_to: String,
    /// email; letter (no owner had an email address: printed and handed over by staff); or
    /// email_and_letter (co-owners, some with an email address and some without).
    pub delivery: String,
    pub total_owed: Money,
    pub subject: String,
    /// The letter exactly as sent.
    pub body: String,
    pub bills: Vec<ReminderBillView>,
    /// Each email of it and whether it left.
    pub emails: Vec<ReminderEmailView>,
    pub created_at: DateTime<Utc>,
}

#[derive(Object)]
pub struct ReminderBillView {
    pub bill_id: i64,
    pub period: String,
    pub principal_owed: Money,
    pub late_fee_owed: Money,
    pub days_overdue: i32,
}

#[derive(Object)]
pub struct ReminderEmailView {
    pub recipient: String,
    pub status: String,
    pub sent_at: Option<DateTime<Utc>>,
}

#[OpenApi(tag = "Tag::Billing")]
impl RemindersApi {
    /// The arrears reminders of a unit, newest first, each with its bills and emails. Owners see
    /// those about their own periods.
    #[oai(path = "/units/:id/reminders", method = "get")]
    async fn unit_reminders(&self, auth: BearerAuth, id: Path<i64>) -> Result<Json<Vec<ReminderView>>, ApiError> {
        let db = &self.0.db;
        let readable = readable_unit(db, &auth.0, id.0).await?;
        let letters = reminder::Entity::find().filter(reminder::Column::UnitId.eq(readable.unit.id)).order_by_desc(reminder::Column::Id).all(db).await.map_err(Error::from)?;
        let named = reminder_bill::Entity::find()
            .filter(reminder_bill::Column::ReminderId.is_in(letters.iter().map(|l| l.id)))
            .order_by_asc(reminder_bill::Column::Id)
            .all(db)
            .await
            .map_err(Error::from)?;
        let bills: std::collections::HashMap<i64, bill::Model> =
            bill::Entity::find().filter(bill::Column::Id.is_in(named.iter().map(|n| n.bill_id))).all(db).await.map_err(Error::from)?.into_iter().map(|b| (b.id, b)).collect();
        let references: Vec<String> = letters.iter().map(|l| format!("reminder:{}", l.id)).collect();
        let emails = outbox_message::Entity::find().filter(outbox_message::Column::Reference.is_in(references)).all(db).await.map_err(Error::from)?;
        let mut views = Vec::new();
        for letter in letters {
            let its_bills: Vec<ReminderBillView> = named
                .iter()
                .filter(|n| n.reminder_id == letter.id)
                .filter_map(|n| {
                    let bill = bills.get(&n.bill_id)?;
                    readable.shows_bill(bill).then(|| ReminderBillView {
                        bill_id: n.bill_id,
                        period: bill.period.clone(),
                        principal_owed: Money::from_fen(n.principal_owed),
                        late_fee_owed: Money::from_fen(n.late_fee_owed),
                        days_overdue: n.days_overdue,
                    })
                })
                .collect();
            // A reminder about a seller's periods is not the buyer's to read.
            if its_bills.is_empty() {
                continue;
            }
            let reference = format!("reminder:{}", letter.id);
            views.push(ReminderView {
                id: letter.id,
                unit_id: letter.unit_id,
                stage: Stage::parse(&letter.stage).unwrap_or(Stage::Friendly),
                as_of: letter.as_of,
                addressed_to: letter.addressed_to,
                delivery: letter.delivery,
                total_owed: Money::from_fen(letter.total_owed),
                subject: letter.subject,
                body: letter.body,
                bills: its_bills,
                emails: emails
                    .iter()
                    .filter(|e| e.reference.as_deref() == Some(reference.as_str()))
                    .map(|e| ReminderEmailView { recipient: e.recipient.clone(), status: e.status.clone(), sent_at: e.sent_at })
                    .collect(),
                created_at: letter.created_at,
            });
        }
        Ok(Json(views))
    }
}
