//! Scheduled job runs, the email outbox, arrears reminders, and the exact late-fee basis.
use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, Statement},
};

use crate::m20261127_000001_registry_and_accounts::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("job_runs")
                .col(big_pk_auto("id"))
                .col(string("job"))
                .col(big_integer_null("company_id"))
                // One row per scheduled tick (and company): the claim that makes a tick run once.
                .col(string("tick_key"))
                .col(timestamp_with_time_zone("scheduled_for"))
                .col(string("trigger"))
                .col(big_integer_null("triggered_by"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(integer("max_attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(string_null("claimed_by"))
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(text_null("counts"))
                .col(text_null("error"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("outbox")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("kind"))
                .col(string_null("reference"))
                .col(string("recipient"))
                .col(string("recipient_name"))
                .col(text("subject"))
                .col(text("body"))
                .col(string("language"))
                .col(string("message_id"))
                .col(string("status"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .to_owned(),
            Table::create()
                .table("reminders")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                .col(string("stage"))
                .col(date("as_of"))
                .col(text("addressed_to"))
                .col(string("delivery"))
                .col(big_integer("total_owed"))
                .col(text("subject"))
                .col(text("body"))
                .col(big_integer_null("job_run_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("reminder_bills")
                .col(big_pk_auto("id"))
                .col(big_integer("reminder_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("bill_id"))
                .col(string("stage"))
                .col(big_integer("principal_owed"))
                .col(big_integer("late_fee_owed"))
                .col(integer("days_overdue"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index("job_runs", "ux_job_runs_tick", &["tick_key"], true),
            // The claims: waiting runs oldest first, and runs whose lease ran out.
            index("job_runs", "ix_job_runs_due", &["status", "next_attempt_at", "id"], false),
            index("job_runs", "ix_job_runs_lease", &["status", "lease_until"], false),
            index("job_runs", "ix_job_runs_job", &["job", "scheduled_for"], false),
            index("outbox", "ix_outbox_due", &["status", "next_attempt_at", "id"], false),
            index("outbox", "ix_outbox_lease", &["status", "lease_until"], false),
            index("outbox", "ix_outbox_compound", &["compound_id", "id"], false),
            index("outbox", "ix_outbox_reference", &["reference"], false),
            index("reminders", "ix_reminders_unit", &["unit_id", "id"], false),
            // A bill is reminded at most once per stage, however often the job runs.
            index("reminder_bills", "ux_reminder_bills_stage", &["bill_id", "stage"], true),
            index("reminder_bills", "ix_reminder_bills_reminder", &["reminder_id"], false),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        // Late fees accrue as principal x days (fen-days, an exact integer) times the daily rate,
        // rounded once: writing the accrual down every day then loses nothing to rounding.
        manager
            .alter_table(Table::alter().table("bills").add_column(big_integer("late_fee_fen_days").default(0)).to_owned())
            .await?;
        convert_accrued_late_fees(manager).await
    }
}

/// Bills written before this migration carried their accrued late fee as rounded fen; turn each
/// into the fen-days it stands for at its fee item's daily rate (exact to within half a fen).
async fn convert_accrued_late_fees(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let rows = db
        .query_all_raw(Statement::from_string(
            manager.get_database_backend(),
            "SELECT b.id, b.late_fee_accrued, f.late_fee_daily_rate FROM bills b JOIN fee_items f ON f.id = b.fee_item_id \
             WHERE b.late_fee_accrued > 0 AND f.late_fee_daily_rate IS NOT NULL",
        ))
        .await?;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let accrued: i64 = row.try_get("", "late_fee_accrued")?;
        let rate: String = row.try_get("", "late_fee_daily_rate")?;
        let Some(fen_days) = fen_days_at(accrued, &rate) else { continue };
        db.execute_raw(Statement::from_sql_and_values(
            manager.get_database_backend(),
            "UPDATE bills SET late_fee_fen_days = $1 WHERE id = $2",
            [fen_days.into(), id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// `accrued` fen / `rate` ("0.0003"), half up, in integers.
fn fen_days_at(accrued: i64, rate: &str) -> Option<i64> {
    let (whole, fraction) = rate.trim().split_once('.').unwrap_or((rate.trim(), ""));
    let mantissa: i128 = format!("{whole}{fraction}").parse().ok().filter(|m| *m > 0)?;
    let scale = 10i128.checked_pow(fraction.len() as u32)?;
    let numerator = accrued as i128 * scale;
    <i64 as TryFrom<i128>>::try_from((2 * numerator + mantissa) / (2 * mantissa)).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn accrued_fen_become_fen_days() {
        // 38.28 at 0.03% a day stands for 12,760,000 fen-days: 1,276.00 owed for 100 days.
        assert_eq!(super::fen_days_at(3828, "0.0003"), Some(12_760_000));
        assert_eq!(super::fen_days_at(100, "0"), None);
    }
}
