//! The books and the records of who did what are only ever inserted into: the journal and its
//! lines, the maintenance fund's sub-ledgers, ticket histories, ballots and the staff action
//! log. From here the database refuses an UPDATE or DELETE of them too (on PostgreSQL also a
//! TRUNCATE), so a slip at the SQL prompt or a wrong script cannot rewrite history. Whoever owns
//! the database can still lift the guard: a change to the journal or the fund's sub-ledgers then
//! shows in the hash chain and the fund check; the other tables rest on who owns the database.
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DatabaseBackend},
};

/// The tables that are only ever inserted into.
const APPEND_ONLY: [&str; 6] = ["journal_entries", "journal_lines", "fund_movements", "ticket_events", "ballots", "staff_actions"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(
                "CREATE FUNCTION refuse_change_of_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION '% is append-only: its rows are never changed or removed', TG_TABLE_NAME; END $$",
            )
            .await?;
            for table in APPEND_ONLY {
                // Per statement: it refuses before any row is touched, TRUNCATE included.
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} \
                     FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only()"
                ))
                .await?;
            }
        } else {
            for table in APPEND_ONLY {
                for change in ["update", "delete"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {table}_append_only_{change} BEFORE {change} ON {table} \
                         BEGIN SELECT RAISE(ABORT, '{table} is append-only: its rows are never changed or removed'); END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }
}
