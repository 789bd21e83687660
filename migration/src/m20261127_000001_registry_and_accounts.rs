//! The property registry (company -> compound -> building -> stairwell -> unit, owners and
//! ownerships) and the accounts that log in to it.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A foreign key from `table.column` to `target.id`.
fn fk(table: &'static str, column: &'static str, target: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

pub(crate) fn index(table: &'static str, name: &'static str, columns: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("companies")
                .col(big_pk_auto("id"))
                .col(string_uniq("name"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("compounds")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(string("name"))
                .col(string("address"))
                .col(string("time_zone"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("compounds", "company_id", "companies"))
                .to_owned(),
            Table::create()
                .table("buildings")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("name"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("buildings", "compound_id", "compounds"))
                .to_owned(),
            Table::create()
                .table("stairwells")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("building_id"))
                .col(string("name"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("stairwells", "building_id", "buildings"))
                .to_owned(),
            Table::create()
                .table("units")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("building_id"))
                .col(big_integer("stairwell_id"))
                .col(integer("floor"))
                .col(string("number"))
                .col(string("unit_use"))
                .col(big_integer_null("registered_area"))
                .col(big_integer_null("surveyed_area"))
                .col(big_integer_null("contract_area"))
                .col(boolean("developer_held"))
                .col(boolean("vacant"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("units", "stairwell_id", "stairwells"))
                .to_owned(),
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(big_integer_null("company_id"))
                .col(string("role"))
                .col(string("name"))
                .col(string_null("email").unique_key())
                .col(string_null("phone").unique_key())
                .col(string("password_hash"))
                .col(boolean("disabled"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("users", "company_id", "companies"))
                .to_owned(),
            Table::create()
                .table("owners")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(string("name"))
                .col(string_null("phone"))
                .col(string_null("email"))
                .col(string_null("id_number_masked"))
                .col(big_integer_null("user_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("owners", "compound_id", "compounds"))
                .foreign_key(&mut fk("owners", "user_id", "users"))
                .to_owned(),
            Table::create()
                .table("ownerships")
                .col(big_pk_auto("id"))
                .col(big_integer("company_id"))
                .col(big_integer("compound_id"))
                .col(big_integer("unit_id"))
                .col(big_integer("owner_id"))
                .col(boolean("designated_voter"))
                .col(date("started_on"))
                .col(date_null("ended_on"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("ownerships", "unit_id", "units"))
                .foreign_key(&mut fk("ownerships", "owner_id", "owners"))
                .to_owned(),
            Table::create()
                .table("user_compounds")
                .col(big_integer("user_id"))
                .col(big_integer("compound_id"))
                .primary_key(Index::create().col("user_id").col("compound_id"))
                .foreign_key(&mut fk("user_compounds", "user_id", "users"))
                .foreign_key(&mut fk("user_compounds", "compound_id", "compounds"))
                .to_owned(),
            Table::create()
                .table("sessions")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_uniq("token_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("sessions", "user_id", "users"))
                .to_owned(),
            Table::create()
                .table("login_failures")
                .col(big_pk_auto("id"))
                .col(string("login"))
                .col(timestamp_with_time_zone("failed_at"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        let indexes = [
            index("compounds", "ux_compounds_company_name", &["company_id", "name"], true),
            index("buildings", "ux_buildings_compound_name", &["compound_id", "name"], true),
            index("stairwells", "ux_stairwells_building_name", &["building_id", "name"], true),
            index("units", "ux_units_stairwell_number", &["stairwell_id", "number"], true),
            index("units", "ix_units_compound", &["compound_id", "building_id", "stairwell_id", "floor"], false),
            index("owners", "ux_owners_compound_phone", &["compound_id", "phone"], true),
            index("owners", "ix_owners_compound_name", &["compound_id", "name"], false),
            index("owners", "ix_owners_user", &["user_id"], false),
            index("ownerships", "ix_ownerships_unit", &["unit_id", "ended_on"], false),
            index("ownerships", "ix_ownerships_owner", &["owner_id"], false),
            index("sessions", "ix_sessions_user", &["user_id"], false),
            index("login_failures", "ix_login_failures_login", &["login", "failed_at"], false),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}
