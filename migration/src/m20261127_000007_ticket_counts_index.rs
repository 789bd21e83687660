//! The dispatcher's queue counts a compound's tickets by status on every page. A compound's
//! tickets lie scattered over the table (they arrive mixed with every other compound's), so
//! counting them from the rows read one table page per ticket; this index answers the count by
//! itself (company, compound, status: the queue's tenancy guard, its filter and its grouping).
use sea_orm_migration::prelude::*;

use crate::m20261127_000001_registry_and_accounts::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("tickets", "ix_tickets_status_counts", &["company_id", "compound_id", "status"], false)).await
    }
}
