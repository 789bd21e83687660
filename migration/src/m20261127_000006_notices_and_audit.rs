//! Notices with their audience, attachments and read receipts; owners' choice of notice emails;
//! and the staff action log the committee audits.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000001_registry_and_accounts::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("notices")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("category"))
                .col(string("title"))
                .col(text("body"))
                // plain | markdown
                .col(string("body_format"))
                // compound | buildings | stairwells, and their ids as a JSON array
                .col(string("audience_kind"))
                .col(text("audience_ids"))
                // draft | scheduled | published
                .col(string("status"))
                .col(boolean("pinned"))
                // What it reports on, e.g. "vote:3", "fund_project:2".
                .col(string_null("source"))
                // The notice this one corrects; both stay visible.
                .col(big_integer_null("supersedes_id"))
                .col(big_integer("created_by"))
                .col(string("author_role"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("publish_at"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(timestamp_with_time_zone_null("expires_at"))
                .to_owned(),
            Table::create()
                .table("notice_attachments")
                .col(big_pk_auto("id"))
                .col(big_integer("notice_id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("filename"))
                .col(string("content_type"))
                .col(big_integer("size"))
                .col(string("sha256"))
                .col(big_integer("uploaded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create().table("notice_attachment_data").col(big_integer("attachment_id").primary_key()).col(blob("data")).to_owned(),
            Table::create()
                .table("notice_reads")
                .col(big_integer("notice_id"))
                .col(big_integer("owner_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("user_id"))
                .col(timestamp_with_time_zone("read_at"))
                .primary_key(Index::create().col("notice_id").col("owner_id"))
                .to_owned(),
            // Append-only: every change staff made through the API.
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
                .col(integer("status"))
                .col(string("ip"))
                .col(string("user_agent"))
                .col(text_null("request"))
                .col(text_null("before"))
                .col(text_null("after"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index("notices", "ix_notices_compound", &["compound_id", "status", "id"], false),
            index("notices", "ix_notices_due", &["status", "publish_at"], false),
            index("notices", "ix_notices_supersedes", &["supersedes_id"], false),
            index("notice_attachments", "ix_notice_attachments_notice", &["notice_id"], false),
            index("notice_reads", "ix_notice_reads_owner", &["owner_id"], false),
            index("staff_actions", "ix_staff_actions_compound", &["compound_id", "at"], false),
            index("staff_actions", "ix_staff_actions_company", &["company_id", "at"], false),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        // Every notice by email, or only emergencies and outages (the default).
        manager.alter_table(Table::alter().table("owners").add_column(boolean("email_every_notice").default(false)).to_owned()).await?;
        Ok(())
    }
}
