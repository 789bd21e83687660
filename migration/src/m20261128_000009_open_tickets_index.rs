//! The dispatcher's queue lists a compound's open tickets, soonest deadline first. Walking the
//! compound's tickets in deadline order (`ix_tickets_due`) also walks every resolved, closed and
//! cancelled one, and those pile up year after year at the front of that order, since their
//! deadlines are the oldest. This index holds the open tickets alone, in the queue's order, so
//! a page reads its 50 tickets and stops, whatever the compound's history.
//!
//! The statuses are those of `tickets::Status::OPEN` at the time of writing; the queue names
//! them literally (not as bound values) so that PostgreSQL and SQLite can see that its filter
//! is this index's.
use sea_orm_migration::{prelude::*, sea_orm::ConnectionTrait};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_tickets_open_queue ON tickets (compound_id, due_at, id) \
                 WHERE status IN ('submitted', 'accepted', 'assigned', 'in_progress', 'on_hold', 'reopened')",
            )
            .await?;
        Ok(())
    }
}
