//! The property registry: company -> compound -> building -> stairwell -> unit, the owners and
//! who owns what when. Every function takes the [`Actor`] and reaches rows only through
//! `auth::tenancy`, so another company's ids behave as if they did not exist.
pub mod api;
pub mod import;
pub mod rules;
mod scope;

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, SelectTwoRequired,
    QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait, Func, Query, SelectStatement},
};

use crate::{
    auth::{
        Actor, Permission,
        tenancy::{find_visible, visible},
    },
    error::{Error, Result},
    types::{Area, Email, IdNumber, Phone, optional_filter, required_text},
};
use entity::{building, company, compound, owner, ownership, stairwell, unit};
use rules::UnitUse;
pub use scope::{Scope, ScopeKind};

pub async fn create_company(db: &impl ConnectionTrait, actor: &Actor, name: &str) -> Result<company::Model> {
    actor.require(Permission::ManageCompanies)?;
    let name = required_text("name", name, 100)?;
    if company::Entity::find().filter(company::Column::Name.eq(&name)).count(db).await? > 0 {
        return Err(Error::conflict("name", "a company with this name exists"));
    }
    let company = company::ActiveModel { name: Set(name), created_at: Set(Utc::now()), ..Default::default() };
    Ok(company.insert(db).await?)
}

pub async fn list_companies(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<company::Model>> {
    actor.require(Permission::ReadRegistry)?;
    Ok(visible::<company::Entity>(actor).order_by_asc(company::Column::Id).all(db).await?)
}

/// A new compound, as the request gives it.
#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewCompound {
    /// Only platform administrators name it; staff create compounds in their own company.
    pub company_id: Option<i64>,
    pub name: String,
    pub address: String,
    /// IANA zone for business dates; Asia/Shanghai when left out.
    pub time_zone: Option<String>,
}

pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

pub async fn create_compound(db: &impl ConnectionTrait, actor: &Actor, new: NewCompound) -> Result<compound::Model> {
    actor.require(Permission::WriteRegistry)?;
    if actor.compounds.is_some() {
        return Err(Error::Forbidden("staff limited to some compounds cannot add compounds"));
    }
    let company_id = match (actor.company_id, new.company_id) {
        (Some(own), None) => own,
        (Some(own), Some(asked)) if asked == own => own,
        (Some(_), Some(_)) => return Err(Error::NotFound("company")),
        (None, Some(asked)) => find_visible::<company::Entity>(db, actor, asked).await?.id,
        (None, None) => return Err(Error::invalid("company_id", "a platform administrator must name the company")),
    };
    let name = required_text("name", &new.name, 100)?;
    let address = required_text("address", &new.address, 200)?;
    let time_zone = new.time_zone.unwrap_or_else(|| DEFAULT_TIME_ZONE.to_string());
    if !is_time_zone(&time_zone) {
        return Err(Error::invalid("time_zone", "time_zone must be an IANA zone like Asia/Shanghai"));
    }
    let taken = compound::Entity::find()
        .filter(compound::Column::CompanyId.eq(company_id))
        .filter(compound::Column::Name.eq(&name))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(Error::conflict("name", "the company already has a compound with this name"));
    }
    let compound = compound::ActiveModel {
        company_id: Set(company_id),
        name: Set(name),
        address: Set(address),
        time_zone: Set(time_zone),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(compound.insert(db).await?)
}

fn is_time_zone(zone: &str) -> bool {
    zone.parse::<chrono_tz::Tz>().is_ok()
}

/// Today's date where the compound is: due dates and late fees count local days.
pub fn local_today(compound: &compound::Model) -> NaiveDate {
    local_today_at(compound, Utc::now())
}

/// The compound's calendar day at a moment.
pub fn local_today_at(compound: &compound::Model, at: chrono::DateTime<Utc>) -> NaiveDate {
    let zone: chrono_tz::Tz = compound.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    at.with_timezone(&zone).date_naive()
}

/// [`local_today`] for a compound known by id.
pub async fn compound_today(db: &impl ConnectionTrait, compound_id: i64) -> Result<NaiveDate> {
    let compound = compound::Entity::find_by_id(compound_id).one(db).await?.ok_or(Error::NotFound("compound"))?;
    Ok(local_today(&compound))
}

/// Every compound of a company, in id order: what the company's scheduled jobs work through.
pub async fn company_compounds(db: &impl ConnectionTrait, company_id: i64) -> Result<Vec<compound::Model>> {
    Ok(compound::Entity::find().filter(compound::Column::CompanyId.eq(company_id)).order_by_asc(compound::Column::Id).all(db).await?)
}

pub async fn list_compounds(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<compound::Model>> {
    actor.require(Permission::ReadRegistry)?;
    Ok(visible::<compound::Entity>(actor).order_by_asc(compound::Column::Id).all(db).await?)
}

pub async fn get_compound(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<compound::Model> {
    actor.require(Permission::ReadRegistry)?;
    find_visible::<compound::Entity>(db, actor, id).await
}

pub async fn create_building(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64, name: &str) -> Result<building::Model> {
    actor.require(Permission::WriteRegistry)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let name = required_text("name", name, 50)?;
    let taken = building::Entity::find()
        .filter(building::Column::CompoundId.eq(compound.id))
        .filter(building::Column::Name.eq(&name))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(Error::conflict("name", "the compound already has a building with this name"));
    }
    Ok(insert_building(db, &compound, name).await?)
}

async fn insert_building(db: &impl ConnectionTrait, compound: &compound::Model, name: String) -> Result<building::Model, sea_orm::DbErr> {
    building::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        name: Set(name),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn list_buildings(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64) -> Result<Vec<building::Model>> {
    actor.require(Permission::ReadRegistry)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    Ok(building::Entity::find()
        .filter(building::Column::CompoundId.eq(compound.id))
        .order_by_asc(building::Column::Id)
        .all(db)
        .await?)
}

pub async fn create_stairwell(db: &impl ConnectionTrait, actor: &Actor, building_id: i64, name: &str) -> Result<stairwell::Model> {
    actor.require(Permission::WriteRegistry)?;
    let building = find_visible::<building::Entity>(db, actor, building_id).await?;
    let name = required_text("name", name, 50)?;
    let taken = stairwell::Entity::find()
        .filter(stairwell::Column::BuildingId.eq(building.id))
        .filter(stairwell::Column::Name.eq(&name))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(Error::conflict("name", "the building already has a stairwell with this name"));
    }
    Ok(insert_stairwell(db, &building, name).await?)
}

async fn insert_stairwell(db: &impl ConnectionTrait, building: &building::Model, name: String) -> Result<stairwell::Model, sea_orm::DbErr> {
    stairwell::ActiveModel {
        company_id: Set(building.company_id),
        compound_id: Set(building.compound_id),
        building_id: Set(building.id),
        name: Set(name),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn list_stairwells(db: &impl ConnectionTrait, actor: &Actor, building_id: i64) -> Result<Vec<stairwell::Model>> {
    actor.require(Permission::ReadRegistry)?;
    let building = find_visible::<building::Entity>(db, actor, building_id).await?;
    Ok(stairwell::Entity::find()
        .filter(stairwell::Column::BuildingId.eq(building.id))
        .order_by_asc(stairwell::Column::Id)
        .all(db)
        .await?)
}

/// The facts of a unit, as a request or an imported row gives them.
#[derive(Clone, Debug, PartialEq, Eq, poem_openapi::Object, serde::Deserialize)]
pub struct UnitFacts {
    pub floor: i32,
    pub number: String,
    pub unit_use: UnitUse,
    pub registered_area: Option<Area>,
    pub surveyed_area: Option<Area>,
    pub contract_area: Option<Area>,
    /// Unsold or undelivered: the developer holds it and pays for it.
    #[oai(default)]
    #[serde(default)]
    pub developer_held: bool,
    #[oai(default)]
    #[serde(default)]
    pub vacant: bool,
}

impl UnitFacts {
    /// Checks what the types cannot: a plausible floor, a number, at least one area.
    pub fn validate(&self) -> Result<()> {
        if !(-5..=100).contains(&self.floor) {
            return Err(Error::invalid("floor", "floor must be between -5 and 100"));
        }
        required_text("number", &self.number, 20)?;
        if self.registered_area.is_none() && self.surveyed_area.is_none() && self.contract_area.is_none() {
            return Err(Error::invalid("registered_area", "a unit needs a registered, surveyed or contract area"));
        }
        Ok(())
    }

    fn matches(&self, unit: &unit::Model) -> bool {
        let area = |a: Option<Area>| a.map(Area::hundredths);
        unit.floor == self.floor
            && unit.unit_use == self.unit_use.as_str()
            && unit.registered_area == area(self.registered_area)
            && unit.surveyed_area == area(self.surveyed_area)
            && unit.contract_area == area(self.contract_area)
            && unit.developer_held == self.developer_held
            && unit.vacant == self.vacant
    }
}

async fn insert_unit(db: &impl ConnectionTrait, stairwell: &stairwell::Model, facts: &UnitFacts) -> Result<unit::Model> {
    let unit = unit::ActiveModel {
        company_id: Set(stairwell.company_id),
        compound_id: Set(stairwell.compound_id),
        building_id: Set(stairwell.building_id),
        stairwell_id: Set(stairwell.id),
        floor: Set(facts.floor),
        number: Set(facts.number.trim().to_string()),
        unit_use: Set(facts.unit_use.as_str().to_string()),
        registered_area: Set(facts.registered_area.map(Area::hundredths)),
        surveyed_area: Set(facts.surveyed_area.map(Area::hundredths)),
        contract_area: Set(facts.contract_area.map(Area::hundredths)),
        developer_held: Set(facts.developer_held),
        vacant: Set(facts.vacant),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(unit.insert(db).await?)
}

pub async fn create_unit(db: &impl ConnectionTrait, actor: &Actor, stairwell_id: i64, facts: UnitFacts) -> Result<unit::Model> {
    actor.require(Permission::WriteRegistry)?;
    let stairwell = find_visible::<stairwell::Entity>(db, actor, stairwell_id).await?;
    facts.validate()?;
    let taken = unit::Entity::find()
        .filter(unit::Column::StairwellId.eq(stairwell.id))
        .filter(unit::Column::Number.eq(facts.number.trim()))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(Error::conflict("number", "the stairwell already has a unit with this number"));
    }
    insert_unit(db, &stairwell, &facts).await
}

/// Changes to a unit's facts. Whether it is developer-held changes only through a sale.
#[derive(Default)]
pub struct UnitChanges {
    pub floor: Option<i32>,
    pub unit_use: Option<UnitUse>,
    pub registered_area: Option<Area>,
    pub surveyed_area: Option<Area>,
    pub contract_area: Option<Area>,
    pub vacant: Option<bool>,
}

pub async fn update_unit(db: &impl ConnectionTrait, actor: &Actor, id: i64, changes: UnitChanges) -> Result<unit::Model> {
    actor.require(Permission::WriteRegistry)?;
    let unit = find_visible::<unit::Entity>(db, actor, id).await?;
    if let Some(floor) = changes.floor
        && !(-5..=100).contains(&floor)
    {
        return Err(Error::invalid("floor", "floor must be between -5 and 100"));
    }
    let mut active: unit::ActiveModel = unit.into();
    if let Some(floor) = changes.floor {
        active.floor = Set(floor);
    }
    if let Some(unit_use) = changes.unit_use {
        active.unit_use = Set(unit_use.as_str().to_string());
    }
    if let Some(area) = changes.registered_area {
        active.registered_area = Set(Some(area.hundredths()));
    }
    if let Some(area) = changes.surveyed_area {
        active.surveyed_area = Set(Some(area.hundredths()));
    }
    if let Some(area) = changes.contract_area {
        active.contract_area = Set(Some(area.hundredths()));
    }
    if let Some(vacant) = changes.vacant {
        active.vacant = Set(vacant);
    }
    Ok(active.update(db).await?)
}

/// The area that counts for a unit, in hundredths of a m²: registered, else surveyed, else
/// contract (the registry makes sure it has one).
pub fn unit_area(unit: &unit::Model) -> i64 {
    rules::effective_area(unit.registered_area, unit.surveyed_area, unit.contract_area).map_or(0, |(area, _)| area)
}

/// A unit with the names of its building and stairwell and its current owners.
pub struct UnitRecord {
    pub unit: unit::Model,
    pub building: String,
    pub stairwell: String,
    pub owners: Vec<(ownership::Model, owner::Model)>,
}

impl UnitRecord {
    /// How people name the flat: building, stairwell, number ("3栋 2单元 501").
    pub fn label(&self) -> String {
        format!("{} {} {}", self.building, self.stairwell, self.unit.number)
    }
}

#[derive(Default)]
pub struct UnitFilter {
    pub compound_id: Option<i64>,
    pub building_id: Option<i64>,
    pub stairwell_id: Option<i64>,
    pub floor: Option<i32>,
    pub unit_use: Option<UnitUse>,
    pub developer_held: Option<bool>,
    /// Matches the unit number, or the name or phone of a current owner.
    pub search: Option<String>,
}

/// `column LIKE '%text%'` with the text's own `%`, `_` and `\\` matched literally.
fn containing(column: impl sea_orm::ColumnTrait, text: &str) -> sea_orm::sea_query::SimpleExpr {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    column.like(sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// What a search matches on owners: the name, and for staff the phone (typed with or without
/// spaces). Committee members see phones masked, so they cannot search by them either.
fn owner_matches(actor: &Actor, search: &str) -> Condition {
    let mut condition = Condition::any().add(containing(owner::Column::Name, search));
    if actor.role != crate::auth::Role::Committee {
        let digits: String = search.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        condition = condition.add(containing(owner::Column::Phone, &digits));
    }
    condition
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

pub async fn list_units(db: &impl ConnectionTrait, actor: &Actor, filter: UnitFilter, page: u64, per_page: u64) -> Result<Page<UnitRecord>> {
    actor.require(Permission::ReadRegistry)?;
    let mut select = visible::<unit::Entity>(actor);
    if let Some(id) = filter.compound_id {
        select = select.filter(unit::Column::CompoundId.eq(id));
    }
    if let Some(id) = filter.building_id {
        select = select.filter(unit::Column::BuildingId.eq(id));
    }
    if let Some(id) = filter.stairwell_id {
        select = select.filter(unit::Column::StairwellId.eq(id));
    }
    if let Some(floor) = filter.floor {
        select = select.filter(unit::Column::Floor.eq(floor));
    }
    if let Some(unit_use) = filter.unit_use {
        select = select.filter(unit::Column::UnitUse.eq(unit_use.as_str()));
    }
    if let Some(held) = filter.developer_held {
        select = select.filter(unit::Column::DeveloperHeld.eq(held));
    }
    if let Some(search) = optional_filter("q", filter.search.as_deref())? {
        let owned_by_match = Query::select()
            .column(ownership::Column::UnitId)
            .from(ownership::Entity)
            .inner_join(owner::Entity, sea_orm::sea_query::Expr::col((owner::Entity, owner::Column::Id)).equals((ownership::Entity, ownership::Column::OwnerId)))
            .and_where(ownership::Column::EndedOn.is_null())
            .cond_where(owner_matches(actor, &search))
            .to_owned();
        select = select.filter(Condition::any().add(containing(unit::Column::Number, &search)).add(unit::Column::Id.in_subquery(owned_by_match)));
    }
    let total = select.clone().count(db).await?;
    let units = select
        .order_by_asc(unit::Column::CompoundId)
        .order_by_asc(unit::Column::BuildingId)
        .order_by_asc(unit::Column::StairwellId)
        .order_by_asc(unit::Column::Floor)
        .order_by_asc(unit::Column::Number)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok(Page { items: unit_records(db, units).await?, total })
}

pub async fn get_unit(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<UnitRecord> {
    actor.require(Permission::ReadRegistry)?;
    let unit = find_visible::<unit::Entity>(db, actor, id).await?;
    Ok(unit_records(db, vec![unit]).await?.remove(0))
}

/// Adds building and stairwell names and current owners to units, in three queries in all.
pub async fn unit_records(db: &impl ConnectionTrait, units: Vec<unit::Model>) -> Result<Vec<UnitRecord>> {
    let unit_ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let building_names: HashMap<i64, String> = building::Entity::find()
        .filter(building::Column::Id.is_in(units.iter().map(|u| u.building_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    let stairwell_names: HashMap<i64, String> = stairwell::Entity::find()
        .filter(stairwell::Column::Id.is_in(units.iter().map(|u| u.stairwell_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut owners = current_owners(db, &unit_ids).await?;
    Ok(units
        .into_iter()
        .map(|unit| UnitRecord {
            building: building_names.get(&unit.building_id).cloned().unwrap_or_default(),
            stairwell: stairwell_names.get(&unit.stairwell_id).cloned().unwrap_or_default(),
            owners: owners.remove(&unit.id).unwrap_or_default(),
            unit,
        })
        .collect())
}

/// Every ownership of the given units, past and present, with its owner, keyed by unit.
pub async fn ownership_histories(db: &impl ConnectionTrait, unit_ids: &[i64]) -> Result<HashMap<i64, Vec<(ownership::Model, owner::Model)>>> {
    owners_by_unit(db, unit_ids, false).await
}

/// The open ownerships of the given units with their owners, keyed by unit.
pub async fn current_owners(db: &impl ConnectionTrait, unit_ids: &[i64]) -> Result<HashMap<i64, Vec<(ownership::Model, owner::Model)>>> {
    owners_by_unit(db, unit_ids, true).await
}

async fn owners_by_unit(db: &impl ConnectionTrait, unit_ids: &[i64], open_only: bool) -> Result<HashMap<i64, Vec<(ownership::Model, owner::Model)>>> {
    let mut query = ownership::Entity::find().filter(ownership::Column::UnitId.is_in(unit_ids.iter().copied()));
    if open_only {
        query = query.filter(ownership::Column::EndedOn.is_null());
    }
    let ownerships = query.order_by_asc(ownership::Column::Id).all(db).await?;
    let mut by_unit: HashMap<i64, Vec<(ownership::Model, owner::Model)>> = HashMap::new();
    for (ownership, owner) in with_owners(db, ownerships).await? {
        by_unit.entry(ownership.unit_id).or_default().push((ownership, owner));
    }
    Ok(by_unit)
}

/// Pairs ownerships with their owners, in one query.
async fn with_owners(db: &impl ConnectionTrait, ownerships: Vec<ownership::Model>) -> Result<Vec<(ownership::Model, owner::Model)>> {
    let owners: HashMap<i64, owner::Model> = owner::Entity::find()
        .filter(owner::Column::Id.is_in(ownerships.iter().map(|o| o.owner_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    Ok(ownerships
        .into_iter()
        .filter_map(|ownership| {
            let owner = owners.get(&ownership.owner_id).cloned();
            owner.map(|owner| (ownership, owner))
        })
        .collect())
}

/// Contact details of a person as typed; parsed by [`OwnerContact::parse`].
#[derive(poem_openapi::Object, serde::Deserialize)]
pub struct NewOwner {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Only its masked form is stored.
    pub id_number: Option<String>,
}

/// An owner's details after validation; the ID number is already masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerContact {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub id_number_masked: Option<String>,
}

impl OwnerContact {
    pub fn parse(new: &NewOwner) -> Result<OwnerContact> {
        let blank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        Ok(OwnerContact {
            name: required_text("name", &new.name, 50)?,
            phone: blank(&new.phone).map(|p| Phone::parse(&p).map(Phone::into_string)).transpose().map_err(|m| Error::invalid("phone", m))?,
            email: blank(&new.email).map(|e| Email::parse(&e).map(Email::into_string)).transpose().map_err(|m| Error::invalid("email", m))?,
            id_number_masked: blank(&new.id_number).map(|n| IdNumber::mask(&n)).transpose().map_err(|m| Error::invalid("id_number", m))?,
        })
    }
}

async fn insert_owner(db: &impl ConnectionTrait, compound: &compound::Model, contact: OwnerContact) -> Result<owner::Model> {
    if let Some(phone) = &contact.phone {
        let taken = owner::Entity::find()
            .filter(owner::Column::CompoundId.eq(compound.id))
            .filter(owner::Column::Phone.eq(phone))
            .count(db)
            .await?;
        if taken > 0 {
            return Err(Error::conflict("phone", "another owner of this compound has this phone"));
        }
    }
    let owner = owner::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        name: Set(contact.name),
        phone: Set(contact.phone),
        email: Set(contact.email),
        id_number_masked: Set(contact.id_number_masked),
        user_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(owner.insert(db).await?)
}

pub async fn create_owner(db: &impl ConnectionTrait, actor: &Actor, compound_id: i64, new: NewOwner) -> Result<owner::Model> {
    actor.require(Permission::WriteRegistry)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    insert_owner(db, &compound, OwnerContact::parse(&new)?).await
}

pub async fn list_owners(
    db: &impl ConnectionTrait,
    actor: &Actor,
    compound_id: Option<i64>,
    search: Option<&str>,
    page: u64,
    per_page: u64,
) -> Result<Page<owner::Model>> {
    actor.require(Permission::ReadRegistry)?;
    let mut select = visible::<owner::Entity>(actor);
    if let Some(id) = compound_id {
        select = select.filter(owner::Column::CompoundId.eq(id));
    }
    if let Some(search) = optional_filter("q", search)? {
        select = select.filter(owner_matches(actor, &search));
    }
    let total = select.clone().count(db).await?;
    let items = select.order_by_asc(owner::Column::Id).offset((page - 1) * per_page).limit(per_page).all(db).await?;
    Ok(Page { items, total })
}

pub async fn get_owner(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<owner::Model> {
    actor.require(Permission::ReadRegistry)?;
    find_visible::<owner::Entity>(db, actor, id).await
}

/// Records an owner of a unit that is not developer-held (first registration or an added
/// co-owner). Naming the owner as the voter moves the vote from whoever had it.
pub async fn add_owner<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    unit_id: i64,
    owner_id: i64,
    designated_voter: bool,
    started_on: NaiveDate,
) -> Result<ownership::Model> {
    actor.require(Permission::WriteRegistry)?;
    let unit = find_visible::<unit::Entity>(db, actor, unit_id).await?;
    let owner = find_visible::<owner::Entity>(db, actor, owner_id).await?;
    if owner.compound_id != unit.compound_id {
        return Err(Error::invalid("owner_id", "the owner belongs to another compound"));
    }
    if unit.developer_held {
        return Err(Error::conflict("unit_id", "the unit is developer-held: record its sale instead"));
    }
    let txn = crate::db::begin(db).await?;
    lock_unit(&txn, unit.id).await?;
    let current = current_owners(&txn, &[unit.id]).await?.remove(&unit.id).unwrap_or_default();
    if current.iter().any(|(_, o)| o.id == owner.id) {
        return Err(Error::conflict("owner_id", "this owner already owns the unit"));
    }
    if let Some((earliest, _)) = current.iter().min_by_key(|(o, _)| o.started_on)
        && started_on < earliest.started_on
    {
        return Err(Error::invalid("started_on", "a co-owner cannot start before the unit's current owners"));
    }
    let designated_voter = designated_voter || current.is_empty();
    if designated_voter {
        ownership::Entity::update_many()
            .col_expr(ownership::Column::DesignatedVoter, sea_orm::sea_query::Expr::value(false))
            .filter(ownership::Column::UnitId.eq(unit.id))
            .filter(ownership::Column::EndedOn.is_null())
            .exec(&txn)
            .await?;
    }
    let ownership = insert_ownership(&txn, &unit, owner.id, designated_voter, started_on).await?;
    txn.commit().await?;
    Ok(ownership)
}

/// Holds a unit's row until the transaction ends, so that concurrent changes of its owners
/// (sales, co-owners, the voter) happen one after the other (PostgreSQL `FOR UPDATE`; SQLite
/// serialises transactions anyway).
async fn lock_unit(txn: &impl ConnectionTrait, unit_id: i64) -> Result<()> {
    unit::Entity::find_by_id(unit_id).lock_exclusive().one(txn).await?;
    Ok(())
}

async fn insert_ownership(
    db: &impl ConnectionTrait,
    unit: &unit::Model,
    owner_id: i64,
    designated_voter: bool,
    started_on: NaiveDate,
) -> Result<ownership::Model> {
    let ownership = ownership::ActiveModel {
        company_id: Set(unit.company_id),
        compound_id: Set(unit.compound_id),
        unit_id: Set(unit.id),
        owner_id: Set(owner_id),
        designated_voter: Set(designated_voter),
        started_on: Set(started_on),
        ended_on: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(ownership.insert(db).await?)
}

pub struct Buyer {
    pub owner_id: i64,
    pub designated_voter: bool,
}

/// A sale (or the developer's first sale): the current ownerships end on `date`, the buyers'
/// start on it, and the unit is no longer developer-held. History is kept, nothing deleted.
pub async fn record_sale<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    unit_id: i64,
    date: NaiveDate,
    buyers: Vec<Buyer>,
) -> Result<Vec<ownership::Model>> {
    actor.require(Permission::WriteRegistry)?;
    let unit = find_visible::<unit::Entity>(db, actor, unit_id).await?;
    let mut seen = std::collections::HashSet::new();
    for buyer in &buyers {
        let owner = find_visible::<owner::Entity>(db, actor, buyer.owner_id).await?;
        if owner.compound_id != unit.compound_id {
            return Err(Error::invalid("buyers", "a buyer belongs to another compound"));
        }
        if !seen.insert(owner.id) {
            return Err(Error::invalid("buyers", "a buyer is listed twice"));
        }
    }
    let voter = rules::designated_voter(&buyers.iter().map(|b| (b.owner_id, b.designated_voter)).collect::<Vec<_>>())
        .map_err(|rule| Error::invalid("buyers", rule))?;
    if date > compound_today(db, unit.compound_id).await? {
        return Err(Error::invalid("date", "a sale is recorded once it has happened: the date is in the future"));
    }
    let txn = crate::db::begin(db).await?;
    lock_unit(&txn, unit.id).await?;
    let current = current_owners(&txn, &[unit.id]).await?.remove(&unit.id).unwrap_or_default();
    if let Some((latest, _)) = current.iter().max_by_key(|(o, _)| o.started_on)
        && latest.started_on > date
    {
        return Err(Error::invalid("date", "the sale date is before the current owners' start"));
    }
    ownership::Entity::update_many()
        .col_expr(ownership::Column::EndedOn, sea_orm::sea_query::Expr::value(date))
        .filter(ownership::Column::UnitId.eq(unit.id))
        .filter(ownership::Column::EndedOn.is_null())
        .exec(&txn)
        .await?;
    let mut created = Vec::new();
    for buyer in &buyers {
        created.push(insert_ownership(&txn, &unit, buyer.owner_id, buyer.owner_id == voter, date).await?);
    }
    if unit.developer_held {
        let mut active: unit::ActiveModel = unit.into();
        active.developer_held = Set(false);
        active.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// Every ownership the unit has had, oldest first.
pub async fn ownership_history(db: &impl ConnectionTrait, actor: &Actor, unit_id: i64) -> Result<Vec<(ownership::Model, owner::Model)>> {
    actor.require(Permission::ReadRegistry)?;
    let unit = find_visible::<unit::Entity>(db, actor, unit_id).await?;
    let ownerships = ownership::Entity::find()
        .filter(ownership::Column::UnitId.eq(unit.id))
        .order_by_asc(ownership::Column::StartedOn)
        .order_by_asc(ownership::Column::Id)
        .all(db)
        .await?;
    with_owners(db, ownerships).await
}

/// The units an owner's login speaks for: open ownerships of the owner records linked to it.
pub async fn owned_unit_ids(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<i64>> {
    if actor.role != crate::auth::Role::Owner {
        return Ok(Vec::new());
    }
    let owners = owner::Entity::find().filter(owner::Column::UserId.eq(actor.user_id)).all(db).await?;
    let ownerships = ownership::Entity::find()
        .filter(ownership::Column::OwnerId.is_in(owners.iter().map(|o| o.id)))
        .filter(ownership::Column::EndedOn.is_null())
        .all(db)
        .await?;
    let mut ids: Vec<i64> = ownerships.into_iter().map(|o| o.unit_id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// A unit within the actor's reach, with its compound, in one query.
pub fn visible_unit_with_compound(actor: &Actor, unit_id: i64) -> SelectTwoRequired<unit::Entity, compound::Entity> {
    visible::<unit::Entity>(actor)
        .filter(unit::Column::Id.eq(unit_id))
        .select_two_required(compound::Entity)
        .join(JoinType::InnerJoin, unit::Entity::belongs_to(compound::Entity).from(unit::Column::CompoundId).to(compound::Column::Id).into())
}

/// For an owner's login, the day their current ownership of the unit began (None if they do
/// not own it now).
pub async fn ownership_start(db: &impl ConnectionTrait, actor: &Actor, unit_id: i64) -> Result<Option<NaiveDate>> {
    let row = db.query_one(&ownership_start_query(actor, Expr::val(unit_id))).await?;
    Ok(row.map(|r| r.try_get::<Option<NaiveDate>>("", "started_on")).transpose()?.flatten())
}

/// [`ownership_start`] as a subquery answering `started_on` (NULL if not owned now), for a unit
/// given as a value or as a column of the query around it: one round trip.
pub fn ownership_start_query(actor: &Actor, unit_id: Expr) -> SelectStatement {
    let owners = Query::select().column(owner::Column::Id).from(owner::Entity).and_where(owner::Column::UserId.eq(actor.user_id)).to_owned();
    Query::select()
        .expr_as(Func::min(Expr::col((ownership::Entity, ownership::Column::StartedOn))), "started_on")
        .from(ownership::Entity)
        .and_where(Expr::col((ownership::Entity, ownership::Column::UnitId)).eq(unit_id))
        .and_where(Expr::col((ownership::Entity, ownership::Column::EndedOn)).is_null())
        .and_where(Expr::col((ownership::Entity, ownership::Column::OwnerId)).in_subquery(owners))
        .to_owned()
}

/// An owner's own units, with their buildings, stairwells and owners.
pub async fn my_units(db: &impl ConnectionTrait, actor: &Actor) -> Result<Vec<UnitRecord>> {
    actor.require(Permission::ViewOwnUnits)?;
    let ids = owned_unit_ids(db, actor).await?;
    let units = unit::Entity::find().filter(unit::Column::Id.is_in(ids)).order_by_asc(unit::Column::Id).all(db).await?;
    unit_records(db, units).await
}
