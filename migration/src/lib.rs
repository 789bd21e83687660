//! Forward-only migrations. A migration, once landed, is never edited: add a new one.
pub use sea_orm_migration::prelude::*;

mod m20261127_000001_registry_and_accounts;
mod m20261127_000002_billing_and_ledger;
mod m20261127_000003_jobs_and_mail;
mod m20261127_000004_tickets;
mod m20261127_000005_funds_and_votes;
mod m20261127_000006_notices_and_audit;
mod m20261127_000007_ticket_counts_index;
mod m20261128_000008_append_only_guards;
mod m20261128_000009_open_tickets_index;
mod m20261207_000010_staff_log_written_ahead;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_registry_and_accounts::Migration),
            Box::new(m20261127_000002_billing_and_ledger::Migration),
            Box::new(m20261127_000003_jobs_and_mail::Migration),
            Box::new(m20261127_000004_tickets::Migration),
            Box::new(m20261127_000005_funds_and_votes::Migration),
            Box::new(m20261127_000006_notices_and_audit::Migration),
            Box::new(m20261127_000007_ticket_counts_index::Migration),
            Box::new(m20261128_000008_append_only_guards::Migration),
            Box::new(m20261128_000009_open_tickets_index::Migration),
            Box::new(m20261207_000010_staff_log_written_ahead::Migration),
        ]
    }
}
