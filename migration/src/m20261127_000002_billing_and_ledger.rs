//! Fees, bills, payments, receipts and the double-entry ledger.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000001_registry_and_accounts::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("fee_items")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("name"))
                .col(string("kind"))
                .col(string_null("rate"))
                .col(big_integer_null("amount"))
                .col(string_null("split"))
                .col(text_null("floor_coefficients"))
                .col(string("scope_kind"))
                .col(text("scope_ids"))
                .col(text("unit_uses"))
                .col(string("cycle"))
                .col(integer("due_days"))
                .col(string("rounding"))
                .col(string_null("late_fee_daily_rate"))
                .col(integer("late_fee_grace_days"))
                .col(string_null("late_fee_cap"))
                .col(string_null("vacancy_ratio"))
                .col(date("effective_from"))
                .col(date_null("effective_to"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("meter_readings")
                .col(big_pk_auto("id"))
                .col(big_integer("compound_id"))
                .col(big_integer("fee_item_id"))
                .col(big_integer("unit_id"))
                .col(string("period"))
                .col(string("reading"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("bill_runs")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("period"))
                .col(big_integer("run_by"))
                .col(big_integer("bills_created"))
                .col(big_integer("total"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("bills")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                .col(big_integer("fee_item_id"))
                .col(string("period"))
                .col(big_integer("bill_run_id"))
                .col(string("payer"))
                .col(big_integer("amount"))
                .col(big_integer("adjusted"))
                .col(big_integer("paid"))
                .col(big_integer("late_fee_paid"))
                .col(big_integer("late_fee_waived"))
                .col(big_integer("late_fee_accrued"))
                .col(date_null("late_fee_accrued_through"))
                .col(date("due_date"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("bill_adjustments")
                .col(big_pk_auto("id"))
                .col(big_integer("compound_id"))
                .col(big_integer("bill_id"))
                .col(string("kind"))
                .col(big_integer("amount"))
                .col(text("reason"))
                .col(big_integer("staff_id"))
                .col(big_integer_null("journal_entry_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("payments")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                .col(string("method"))
                .col(big_integer("amount"))
                .col(timestamp_with_time_zone("received_at"))
                .col(big_integer("recorded_by"))
                .col(string("status"))
                .col(text_null("reversal_reason"))
                .col(big_integer_null("payment_order_id"))
                .col(big_integer("journal_entry_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("payment_allocations")
                .col(big_pk_auto("id"))
                .col(big_integer("compound_id"))
                .col(big_integer("payment_id"))
                .col(big_integer("bill_id"))
                .col(big_integer("principal"))
                .col(big_integer("late_fee"))
                .to_owned(),
            Table::create()
                .table("receipts")
                .col(big_pk_auto("id"))
                .col(big_integer("compound_id"))
                .col(integer("year"))
                .col(big_integer("number"))
                .col(big_integer("payment_id"))
                .col(timestamp_with_time_zone_null("voided_at"))
                .col(text_null("void_reason"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("receipt_counters")
                .col(big_integer("compound_id"))
                .col(integer("year"))
                .col(big_integer("last_number"))
                .primary_key(Index::create().col("compound_id").col("year"))
                .to_owned(),
            Table::create()
                .table("refunds")
                .col(big_pk_auto("id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                .col(big_integer("amount"))
                .col(string("method"))
                .col(text("reason"))
                .col(big_integer("staff_id"))
                .col(big_integer("journal_entry_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("payment_orders")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                .col(big_integer("amount"))
                .col(text("bill_ids"))
                .col(string("status"))
                .col(string("gateway"))
                .col(big_integer("created_by"))
                .col(big_integer_null("payment_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("gateway_callbacks")
                .col(big_pk_auto("id"))
                .col(string("gateway"))
                .col(big_integer_null("payment_order_id"))
                .col(text("payload"))
                .col(boolean("signature_valid"))
                .col(string("outcome"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("idempotency_keys")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string("key"))
                .col(string("request_hash"))
                .col(text("response"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("common_incomes")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("source"))
                .col(text("description"))
                .col(big_integer("amount"))
                .col(date("received_on"))
                .col(string("method"))
                .col(big_integer("recorded_by"))
                .col(big_integer("journal_entry_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("journal_entries")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("seq"))
                .col(string("kind"))
                .col(string("reference"))
                .col(text("memo"))
                .col(timestamp_with_time_zone("posted_at"))
                .col(big_integer("posted_by"))
                .col(string("prev_hash"))
                .col(string("hash"))
                .to_owned(),
            Table::create()
                .table("journal_lines")
                .col(big_pk_auto("id"))
                .col(big_integer("entry_id"))
                .col(big_integer("compound_id"))
                .col(string("account"))
                .col(big_integer_null("unit_id"))
                .col(big_integer_null("fee_item_id"))
                .col(big_integer("debit"))
                .col(big_integer("credit"))
                .to_owned(),
            Table::create()
                .table("ledger_heads")
                .col(big_integer("compound_id"))
                .col(big_integer("last_seq"))
                .col(string("last_hash"))
                .primary_key(Index::create().col("compound_id"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index("fee_items", "ix_fee_items_compound", &["compound_id"], false),
            index("meter_readings", "ux_meter_readings", &["fee_item_id", "unit_id", "period"], true),
            index("bill_runs", "ix_bill_runs_compound", &["compound_id", "period"], false),
            // A bill exists once per unit, fee item and period: what makes bill runs idempotent.
            index("bills", "ux_bills_unit_item_period", &["unit_id", "fee_item_id", "period"], true),
            index("bills", "ix_bills_compound_period", &["compound_id", "period"], false),
            index("bills", "ix_bills_fee_item_period", &["fee_item_id", "period"], false),
            index("bill_adjustments", "ix_bill_adjustments_bill", &["bill_id"], false),
            index("payments", "ix_payments_unit", &["unit_id"], false),
            index("payment_allocations", "ix_payment_allocations_payment", &["payment_id"], false),
            index("payment_allocations", "ix_payment_allocations_bill", &["bill_id"], false),
            index("receipts", "ux_receipts_number", &["compound_id", "year", "number"], true),
            index("receipts", "ux_receipts_payment", &["payment_id"], true),
            index("refunds", "ix_refunds_unit", &["unit_id"], false),
            index("payment_orders", "ix_payment_orders_unit", &["unit_id"], false),
            index("idempotency_keys", "ux_idempotency_keys", &["user_id", "key"], true),
            index("common_incomes", "ix_common_incomes_compound", &["compound_id", "received_on"], false),
            index("journal_entries", "ux_journal_entries_seq", &["compound_id", "seq"], true),
            index("journal_lines", "ix_journal_lines_entry", &["entry_id"], false),
            index("journal_lines", "ix_journal_lines_account", &["compound_id", "account", "unit_id"], false),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}
