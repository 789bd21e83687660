//! A receipt's number is now one more than the highest of its compound and year, read in the
//! statement that inserts it (under the compound's ledger lock, so numbers stay gapless). The
//! counter table that kept the last number is no longer read: one round trip less per payment.
//! Its last number always equalled the highest receipt number, so numbering carries on unbroken.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("receipt_counters").to_owned()).await
    }
}
