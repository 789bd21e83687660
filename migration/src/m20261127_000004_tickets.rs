//! Repair tickets: the tickets, their photos, comments and history, SLA targets and
//! technician groups.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000001_registry_and_accounts::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("tickets")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                .col(big_integer_null("owner_id"))
                .col(big_integer("filed_by"))
                .col(string("category"))
                .col(string("location"))
                .col(string_null("place"))
                .col(text("description"))
                .col(string("urgency"))
                .col(string_null("preferred_visit"))
                .col(string("status"))
                .col(string("priority"))
                .col(big_integer_null("assignee_id"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("response_due_at"))
                .col(timestamp_with_time_zone("resolution_due_at"))
                // The deadline the queue sorts by: response until accepted, then resolution.
                .col(timestamp_with_time_zone("due_at"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(timestamp_with_time_zone_null("resolved_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .col(timestamp_with_time_zone_null("paused_at"))
                .col(big_integer("paused_seconds"))
                .col(timestamp_with_time_zone_null("response_escalated_at"))
                .col(timestamp_with_time_zone_null("resolution_escalated_at"))
                .col(integer("reopen_count"))
                .col(text_null("reason"))
                .col(integer_null("rating"))
                .col(text_null("rating_comment"))
                .col(text_null("follow_up"))
                .col(timestamp_with_time_zone_null("followed_up_at"))
                .col(string_null("cost_route"))
                .col(big_integer_null("cost_bill_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
            Table::create()
                .table("ticket_events")
                .col(big_pk_auto("id"))
                .col(big_integer("ticket_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("actor_id"))
                .col(string("actor_role"))
                .col(string("kind"))
                .col(string_null("from_value"))
                .col(string_null("to_value"))
                .col(text_null("note"))
                // Internal notes stay with staff.
                .col(boolean("internal"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
            Table::create()
                .table("ticket_comments")
                .col(big_pk_auto("id"))
                .col(big_integer("ticket_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("author_id"))
                .col(string("author_role"))
                .col(string("author_name"))
                .col(text("body"))
                .col(boolean("internal"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("ticket_photos")
                .col(big_pk_auto("id"))
                .col(big_integer("ticket_id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("content_type"))
                .col(big_integer("size"))
                .col(string("sha256"))
                .col(big_integer("uploaded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            // The bytes apart from the rows that lists and queues read.
            Table::create().table("ticket_photo_data").col(big_integer("photo_id").primary_key()).col(blob("data")).to_owned(),
            Table::create()
                .table("sla_targets")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("category"))
                .col(string("priority"))
                .col(integer("response_minutes"))
                .col(integer("resolution_minutes"))
                .to_owned(),
            Table::create()
                .table("technician_groups")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("name"))
                .col(text("categories"))
                .col(text("member_ids"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index("tickets", "ix_tickets_queue", &["compound_id", "status", "due_at", "id"], false),
            index("tickets", "ix_tickets_due", &["compound_id", "due_at", "id"], false),
            index("tickets", "ix_tickets_assignee", &["assignee_id", "status"], false),
            index("tickets", "ix_tickets_unit", &["unit_id", "id"], false),
            index("ticket_events", "ix_ticket_events_ticket", &["ticket_id", "id"], false),
            index("ticket_comments", "ix_ticket_comments_ticket", &["ticket_id", "id"], false),
            index("ticket_photos", "ix_ticket_photos_ticket", &["ticket_id"], false),
            index("sla_targets", "ux_sla_targets", &["compound_id", "category", "priority"], true),
            index("technician_groups", "ux_technician_groups_name", &["compound_id", "name"], true),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}
