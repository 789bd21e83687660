//! The staff action log is written before the change it records: a row is inserted when a
//! change is asked for, with no outcome yet (`status` and `after` empty), and completed once
//! with the answer. So a change can never have happened without its row; a row left without an
//! outcome says the service stopped before answering.
//!
//! The append-only guard of `staff_actions` therefore allows one change of a row: its
//! completion, which sets `status` (and `after`, and `compound_id` when the request did not name
//! it) and nothing else. Any other UPDATE, and every DELETE (and TRUNCATE), is refused as before.
use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DatabaseBackend},
};

use crate::m20261127_000001_registry_and_accounts::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const REFUSED: &str = "staff_actions is append-only: its rows are never changed or removed, only completed once with their outcome";

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too (sea-orm's default there is none): the table is rebuilt
    /// whole or not at all, and a replica writing the log meanwhile waits for it.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            let statements = [
                "ALTER TABLE staff_actions ALTER COLUMN status DROP NOT NULL".to_string(),
                "DROP TRIGGER staff_actions_append_only ON staff_actions".to_string(),
                "CREATE TRIGGER staff_actions_append_only BEFORE DELETE OR TRUNCATE ON staff_actions \
                 FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only()"
                    .to_string(),
                format!(
                    "CREATE FUNCTION complete_staff_action_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                     IF OLD.status IS NULL AND NEW.status IS NOT NULL AND OLD.after IS NULL \
                        AND (OLD.compound_id IS NULL OR NEW.compound_id IS NOT DISTINCT FROM OLD.compound_id) \
                        AND (NEW.id, NEW.company_id, NEW.user_id, NEW.user_name, NEW.role, NEW.method, NEW.path, NEW.ip, NEW.user_agent, NEW.request, NEW.before, NEW.at) \
                            IS NOT DISTINCT FROM (OLD.id, OLD.company_id, OLD.user_id, OLD.user_name, OLD.role, OLD.method, OLD.path, OLD.ip, OLD.user_agent, OLD.request, OLD.before, OLD.at) \
                     THEN RETURN NEW; END IF; \
                     RAISE EXCEPTION '{REFUSED}'; END $$"
                ),
                "CREATE TRIGGER staff_actions_completed_once BEFORE UPDATE ON staff_actions \
                 FOR EACH ROW EXECUTE FUNCTION complete_staff_action_once()"
                    .to_string(),
            ];
            for sql in statements {
                db.execute_unprepared(&sql).await?;
            }
            return Ok(());
        }
        // SQLite cannot make a column nullable in place: the table is built anew and its rows
        // copied over, in the same order of columns.
        for change in ["update", "delete"] {
            db.execute_unprepared(&format!("DROP TRIGGER staff_actions_append_only_{change}")).await?;
        }
        db.execute_unprepared("ALTER TABLE staff_actions RENAME TO staff_actions_before_000010").await?;
        manager
            .create_table(
                Table::create()
                    .table("staff_actions")
                    .col(big_pk_auto("id"))
                    .col(big_integer_null("company_id"))
                    .col(big_integer_null("compound_id"))
                    .col(big_integer("user_id"))
                    .col(string("user_name"))
                    .col(string("role"))
                    .col(string("method"))
                    .col(string("path"))
                    .col(integer_null("status"))
                    .col(string("ip"))
                    .col(string("user_agent"))
                    .col(text_null("request"))
                    .col(text_null("before"))
                    .col(text_null("after"))
                    .col(timestamp_with_time_zone("at"))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("INSERT INTO staff_actions SELECT * FROM staff_actions_before_000010").await?;
        db.execute_unprepared("DROP TABLE staff_actions_before_000010").await?;
        manager.create_index(index("staff_actions", "ix_staff_actions_compound", &["compound_id", "at"], false)).await?;
        manager.create_index(index("staff_actions", "ix_staff_actions_company", &["company_id", "at"], false)).await?;
        let same = ["id", "company_id", "user_id", "user_name", "role", "method", "path", "ip", "user_agent", "request", "before", "at"]
            .map(|c| format!("NEW.{c} IS OLD.{c}"))
            .join(" AND ");
        db.execute_unprepared(&format!(
            "CREATE TRIGGER staff_actions_append_only_update BEFORE UPDATE ON staff_actions \
             WHEN NOT (OLD.status IS NULL AND NEW.status IS NOT NULL AND OLD.after IS NULL \
                       AND (OLD.compound_id IS NULL OR NEW.compound_id IS OLD.compound_id) AND {same}) \
             BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        ))
        .await?;
        db.execute_unprepared(&format!("CREATE TRIGGER staff_actions_append_only_delete BEFORE DELETE ON staff_actions BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"))
            .await?;
        Ok(())
    }
}
