//! The maintenance fund's sub-ledgers and repair projects, owners' votes with their rule sets,
//! and elevator-retrofit cost-sharing plans.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000001_registry_and_accounts::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("fund_policies")
                .col(big_integer("compound_id").primary_key())
                .col(big_integer("company_id"))
                // per_m2 | fixed
                .col(string("deposit_basis"))
                .col(string_null("deposit_rate"))
                .col(big_integer_null("deposit_amount"))
                .col(text("source"))
                // area | balance
                .col(string("allocation"))
                .col(integer("notice_days"))
                .col(big_integer("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
            // The sub-ledgers (分户账): one row per unit per movement, beside the journal.
            Table::create()
                .table("fund_movements")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                .col(string("kind"))
                .col(big_integer("amount"))
                .col(big_integer("balance_after"))
                .col(string("reference"))
                .col(text("memo"))
                .col(date("occurred_on"))
                .col(big_integer("journal_entry_id"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("fund_deposits")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                .col(string("basis"))
                .col(big_integer_null("area"))
                .col(string_null("rate"))
                .col(big_integer("amount"))
                .col(text("source"))
                .col(big_integer("movement_id"))
                .to_owned(),
            Table::create()
                .table("fund_top_up_notices")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                // The balance the notice is about: a later withdrawal is a new notice.
                .col(big_integer("movement_id"))
                .col(big_integer("balance"))
                .col(big_integer("initial_deposit"))
                .col(integer("emails"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("fund_projects")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("title"))
                .col(text("description"))
                .col(string("scope_kind"))
                .col(text("scope_ids"))
                .col(big_integer("budget"))
                // Set for an emergency repair: which of the emergencies that may spend on notice.
                .col(string_null("emergency_kind"))
                .col(string("status"))
                .col(big_integer_null("vote_id"))
                .col(text_null("emergency_notice"))
                .col(timestamp_with_time_zone_null("emergency_noticed_at"))
                .col(big_integer_null("emergency_noticed_by"))
                .col(timestamp_with_time_zone_null("approved_at"))
                .col(date_null("notice_until"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(big_integer_null("actual_cost"))
                .col(timestamp_with_time_zone_null("settled_at"))
                .col(big_integer_null("journal_entry_id"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("fund_project_tickets")
                .col(big_integer("project_id"))
                .col(big_integer("ticket_id").primary_key())
                .to_owned(),
            Table::create()
                .table("fund_project_shares")
                .col(big_pk_auto("id"))
                .col(big_integer("project_id"))
                .col(big_integer("unit_id"))
                .col(big_integer("area"))
                .col(big_integer("share"))
                .col(string("payer"))
                // None for a share of 0.00, which moves nothing.
                .col(big_integer_null("movement_id"))
                .to_owned(),
            Table::create()
                .table("vote_rule_sets")
                .col(string("code").primary_key())
                .col(string("name"))
                // Where it applies: "national" or a city.
                .col(string("region"))
                .col(date("effective_from"))
                .col(date_null("effective_to"))
                // Fractions as "num/den"; no quorum when null.
                .col(string_null("quorum"))
                // participating | all: what approval is counted against.
                .col(string("approval_base"))
                .col(string("special_majority"))
                .col(boolean("special_inclusive"))
                .col(string("ordinary_majority"))
                .col(boolean("ordinary_inclusive"))
                // A single disagreeing ballot fails the vote.
                .col(boolean("no_objection"))
                // JSON array of the matters that need the special majority.
                .col(text("special_matters"))
                // JSON array of the matters the rule set may decide; null: all.
                .col(text_null("matters"))
                .col(text("summary"))
                .to_owned(),
            Table::create()
                .table("votes")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("title"))
                .col(text("description"))
                .col(string("matter"))
                .col(string("scope_kind"))
                .col(text("scope_ids"))
                .col(string("rule_set"))
                .col(timestamp_with_time_zone("opens_at"))
                .col(timestamp_with_time_zone("closes_at"))
                .col(string("status"))
                .col(timestamp_with_time_zone_null("opened_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .col(big_integer_null("total_area"))
                .col(big_integer_null("total_headcount"))
                .col(text_null("result"))
                .col(boolean_null("passed"))
                .col(big_integer_null("result_notice_id"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            // The electorate, fixed when the vote opens.
            Table::create()
                .table("vote_electors")
                .col(big_pk_auto("id"))
                .col(big_integer("vote_id"))
                .col(big_integer_null("owner_id"))
                .col(boolean("developer"))
                .col(string("name"))
                .col(big_integer("area"))
                .to_owned(),
            Table::create()
                .table("vote_units")
                .col(big_integer("vote_id"))
                .col(big_integer("unit_id"))
                .col(big_integer("area"))
                // None: no one can vote for the unit (no owner, or co-owners without a voter).
                .col(big_integer_null("elector_id"))
                .primary_key(Index::create().col("vote_id").col("unit_id"))
                .to_owned(),
            Table::create()
                .table("ballots")
                .col(big_pk_auto("id"))
                .col(big_integer("vote_id"))
                .col(big_integer("elector_id"))
                .col(string("choice"))
                // online | paper
                .col(string("channel"))
                .col(big_integer("cast_by"))
                .col(timestamp_with_time_zone("cast_at"))
                .col(string_null("scan_content_type"))
                .to_owned(),
            Table::create().table("ballot_scans").col(big_integer("ballot_id").primary_key()).col(blob("data")).to_owned(),
            Table::create()
                .table("elevator_plans")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("stairwell_id"))
                .col(string("title"))
                .col(big_integer("total_cost"))
                .col(big_integer("subsidies"))
                .col(big_integer("owners_part"))
                .col(string("method"))
                .col(text("coefficients"))
                .col(text("exempt_floors"))
                .col(big_integer("vote_id"))
                .col(string("status"))
                // The one-off fee item its shares were billed under.
                .col(big_integer_null("share_fee_item_id"))
                .col(big_integer_null("running_cost_fee_item_id"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("elevator_shares")
                .col(big_pk_auto("id"))
                .col(big_integer("plan_id"))
                .col(big_integer("unit_id"))
                .col(integer("floor"))
                .col(big_integer("area"))
                .col(string("weight"))
                .col(big_integer("share"))
                .col(string("payer"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index("fund_movements", "ix_fund_movements_unit", &["unit_id", "id"], false),
            index("fund_movements", "ix_fund_movements_compound", &["compound_id", "id"], false),
            index("fund_deposits", "ux_fund_deposits_unit", &["unit_id"], true),
            index("fund_top_up_notices", "ux_fund_top_up_notices", &["unit_id", "movement_id"], true),
            index("fund_projects", "ix_fund_projects_compound", &["compound_id", "id"], false),
            index("fund_project_shares", "ux_fund_project_shares", &["project_id", "unit_id"], true),
            index("votes", "ix_votes_compound", &["compound_id", "id"], false),
            index("votes", "ix_votes_status", &["status", "closes_at"], false),
            index("vote_electors", "ix_vote_electors_vote", &["vote_id", "id"], false),
            index("vote_electors", "ix_vote_electors_owner", &["owner_id", "vote_id"], false),
            index("ballots", "ix_ballots_vote", &["vote_id", "elector_id", "id"], false),
            index("elevator_plans", "ix_elevator_plans_stairwell", &["stairwell_id", "id"], false),
            index("elevator_shares", "ux_elevator_shares", &["plan_id", "unit_id"], true),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        // One-off bills collected for someone else (elevator shares) name the account their
        // adjustments go to; None: fee revenue.
        manager.alter_table(Table::alter().table("fee_items").add_column(string_null("credit_account")).to_owned()).await?;
        let rule_sets = Query::insert()
            .into_table("vote_rule_sets")
            .columns([
                "code", "name", "region", "effective_from", "effective_to", "quorum", "approval_base", "special_majority", "special_inclusive",
                "ordinary_majority", "ordinary_inclusive", "no_objection", "special_matters", "matters", "summary",
            ])
            .values_panic(rule_set("civil_code_2021", "民法典 Civil Code Art. 278", "national", "2021-01-01", None, Some("2/3"), "participating", "3/4", true, "1/2", false, false, CIVIL_CODE_SPECIAL, None,
                "Owners holding at least 2/3 of the area and 2/3 of the headcount take part; raising the fund, alteration or rebuilding and changing the use of common parts need at least 3/4 of the participating area and headcount, other matters more than 1/2 of each."))
            .values_panic(rule_set("property_law_2007", "物权法 Property Law Art. 76 (before 2021)", "national", "2007-10-01", Some("2020-12-31"), None, "all", "2/3", true, "1/2", false, false, PROPERTY_LAW_SPECIAL, None,
                "No quorum; raising and using the fund and rebuilding need at least 2/3 of all the area and all the owners, other matters more than 1/2 of each."))
            .values_panic(rule_set("elevator_double_three_quarters", "加装电梯 double 3/4 per stairwell", "local", "2021-01-01", None, Some("2/3"), "participating", "3/4", true, "3/4", true, false, ALTERATION, Some(ALTERATION),
                "Decided per stairwell under the Civil Code: at least 2/3 of the stairwell's area and owners take part, and at least 3/4 of the participating area and owners agree."))
            .values_panic(rule_set("elevator_two_thirds_no_objection", "加装电梯 2/3 agree and no objection", "local", "2017-01-01", None, None, "all", "2/3", true, "2/3", true, true, ALTERATION, Some(ALTERATION),
                "At least 2/3 of all the stairwell's area and owners agree, and no owner votes against."))
            .to_owned();
        manager.exec_stmt(rule_sets).await?;
        Ok(())
    }
}

/// Civil Code Art. 278: raising the fund, alteration or rebuilding, changing common parts.
const CIVIL_CODE_SPECIAL: &str = r#"["raising_the_fund","alteration_or_rebuilding","changing_common_parts"]"#;
/// Property Law Art. 76: raising and using the fund, rebuilding.
const PROPERTY_LAW_SPECIAL: &str = r#"["raising_the_fund","using_the_fund","alteration_or_rebuilding"]"#;
/// The local elevator rules decide an alteration only.
const ALTERATION: &str = r#"["alteration_or_rebuilding"]"#;

#[allow(clippy::too_many_arguments)]
fn rule_set(
    code: &str,
    name: &str,
    region: &str,
    from: &str,
    to: Option<&str>,
    quorum: Option<&str>,
    base: &str,
    special: &str,
    special_inclusive: bool,
    ordinary: &str,
    ordinary_inclusive: bool,
    no_objection: bool,
    special_matters: &str,
    matters: Option<&str>,
    summary: &str,
) -> Vec<SimpleExpr> {
    let date = |text: &str| sea_orm_migration::sea_orm::prelude::Date::parse_from_str(text, "%Y-%m-%d").expect("a rule set's date");
    vec![
        code.into(),
        name.into(),
        region.into(),
        date(from).into(),
        to.map(date).into(),
        quorum.map(str::to_string).into(),
        base.into(),
        special.into(),
        special_inclusive.into(),
        ordinary.into(),
        ordinary_inclusive.into(),
        no_objection.into(),
        special_matters.into(),
        matters.map(str::to_string).into(),
        summary.into(),
    ]
}
