//! Registry endpoints (tag `registry`). Handlers parse, call the service in `registry`, and
//! shape the answer; rules live in the service and `rules.rs`.
use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::{Binary, Json},
};
use serde::Deserialize;

use super::{
    Buyer, NewCompound, NewOwner, UnitChanges, UnitFacts, UnitFilter, UnitRecord,
    import::{self, ImportReport},
    rules::{self, AreaKind, UnitUse},
};
use crate::{
    AppState,
    auth::{Actor, Role, api::BearerAuth},
    error::ApiError,
    http::{Area as Tag, JsonBody},
    types::{Area, Phone},
};
use entity::{building, company, compound, owner, ownership, stairwell};

pub struct RegistryApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct CompanyView {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<company::Model> for CompanyView {
    fn from(c: company::Model) -> Self {
        CompanyView { id: c.id, name: c.name, created_at: c.created_at }
    }
}

#[derive(Object)]
pub struct CompoundView {
    pub id: i64,
    pub company_id: i64,
    pub name: String,
    pub address: String,
    pub time_zone: String,
}

impl From<compound::Model> for CompoundView {
    fn from(c: compound::Model) -> Self {
        CompoundView { id: c.id, company_id: c.company_id, name: c.name, address: c.address, time_zone: c.time_zone }
    }
}

#[derive(Object)]
pub struct BuildingView {
    pub id: i64,
    pub compound_id: i64,
    pub name: String,
}

impl From<building::Model> for BuildingView {
    fn from(b: building::Model) -> Self {
        BuildingView { id: b.id, compound_id: b.compound_id, name: b.name }
    }
}

#[derive(Object)]
pub struct StairwellView {
    pub id: i64,
    pub compound_id: i64,
    pub building_id: i64,
    pub name: String,
}

impl From<stairwell::Model> for StairwellView {
    fn from(s: stairwell::Model) -> Self {
        StairwellView { id: s.id, compound_id: s.compound_id, building_id: s.building_id, name: s.name }
    }
}

/// An owner as the caller may see them: committee members, who audit rather than serve,
/// get the phone masked and no email or ID number.
#[derive(Object)]
pub struct OwnerView {
    pub id: i64,
    pub compound_id: i64,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub id_number_masked: Option<String>,
    pub has_login: bool,
}

impl OwnerView {
    pub fn for_actor(o: owner::Model, actor: &Actor) -> Self {
        let auditor = actor.role == Role::Committee;
        OwnerView {
            id: o.id,
            compound_id: o.compound_id,
            name: o.name,
            phone: if auditor { o.phone.as_deref().map(Phone::masked) } else { o.phone },
            email: if auditor { None } else { o.email },
            id_number_masked: if auditor { None } else { o.id_number_masked },
            has_login: o.user_id.is_some(),
        }
    }
}

#[derive(Object)]
pub struct UnitOwnerView {
    pub ownership_id: i64,
    pub since: NaiveDate,
    pub designated_voter: bool,
    pub owner: OwnerView,
}

#[derive(Object)]
pub struct UnitView {
    pub id: i64,
    pub compound_id: i64,
    pub building_id: i64,
    pub building: String,
    pub stairwell_id: i64,
    pub stairwell: String,
    /// Building-stairwell-number, as people say it.
    pub label: String,
    pub floor: i32,
    pub number: String,
    pub unit_use: String,
    /// The area that counts for fees and votes, and which one it is.
    pub area: Option<Area>,
    pub area_kind: Option<AreaKind>,
    pub registered_area: Option<Area>,
    pub surveyed_area: Option<Area>,
    pub contract_area: Option<Area>,
    pub developer_held: bool,
    pub vacant: bool,
    /// Current owners; empty for developer-held units.
    pub owners: Vec<UnitOwnerView>,
}

fn area(hundredths: Option<i64>) -> Option<Area> {
    hundredths.and_then(|a| Area::from_hundredths(a).ok())
}

impl UnitView {
    pub fn for_actor(record: UnitRecord, actor: &Actor) -> Self {
        let u = record.unit;
        let effective = rules::effective_area(u.registered_area, u.surveyed_area, u.contract_area);
        UnitView {
            label: rules::unit_label(&record.building, &record.stairwell, &u.number),
            id: u.id,
            compound_id: u.compound_id,
            building_id: u.building_id,
            building: record.building,
            stairwell_id: u.stairwell_id,
            stairwell: record.stairwell,
            floor: u.floor,
            number: u.number,
            unit_use: u.unit_use,
            area: area(effective.map(|(a, _)| a)),
            area_kind: effective.map(|(_, kind)| kind),
            registered_area: area(u.registered_area),
            surveyed_area: area(u.surveyed_area),
            contract_area: area(u.contract_area),
            developer_held: u.developer_held,
            vacant: u.vacant,
            owners: record
                .owners
                .into_iter()
                .map(|(o, owner)| UnitOwnerView {
                    ownership_id: o.id,
                    since: o.started_on,
                    designated_voter: o.designated_voter,
                    owner: OwnerView::for_actor(owner, actor),
                })
                .collect(),
        }
    }
}

#[derive(Object)]
pub struct UnitPage {
    pub items: Vec<UnitView>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Object)]
pub struct OwnerPage {
    pub items: Vec<OwnerView>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Object)]
pub struct OwnershipView {
    pub id: i64,
    pub unit_id: i64,
    pub owner_id: i64,
    pub owner_name: String,
    pub designated_voter: bool,
    pub started_on: NaiveDate,
    /// Empty while the ownership lasts.
    pub ended_on: Option<NaiveDate>,
}

impl OwnershipView {
    fn new(o: ownership::Model, owner_name: String) -> Self {
        OwnershipView {
            id: o.id,
            unit_id: o.unit_id,
            owner_id: o.owner_id,
            owner_name,
            designated_voter: o.designated_voter,
            started_on: o.started_on,
            ended_on: o.ended_on,
        }
    }
}

#[derive(Object, Deserialize)]
pub struct CreateCompany {
    pub name: String,
}

#[derive(Object, Deserialize)]
pub struct CreateNamed {
    pub name: String,
}

#[derive(Object, Deserialize)]
pub struct UpdateUnit {
    pub floor: Option<i32>,
    pub unit_use: Option<UnitUse>,
    pub registered_area: Option<Area>,
    pub surveyed_area: Option<Area>,
    pub contract_area: Option<Area>,
    pub vacant: Option<bool>,
}

#[derive(Object, Deserialize)]
pub struct AddOwner {
    pub owner_id: i64,
    /// Co-owners name one voter; a unit's first owner always is.
    #[oai(default)]
    #[serde(default)]
    pub designated_voter: bool,
    pub started_on: NaiveDate,
}

#[derive(Object, Deserialize)]
pub struct SaleBuyer {
    pub owner_id: i64,
    #[oai(default)]
    #[serde(default)]
    pub designated_voter: bool,
}

#[derive(Object, Deserialize)]
pub struct RecordSale {
    pub date: NaiveDate,
    pub buyers: Vec<SaleBuyer>,
}

const MAX_PER_PAGE: u64 = 500;

fn paging(page: Option<u64>, per_page: Option<u64>) -> (u64, u64) {
    (page.unwrap_or(1), per_page.unwrap_or(50))
}

#[OpenApi(tag = "Tag::Registry")]
impl RegistryApi {
    /// Create a property company (platform administrators).
    #[oai(path = "/companies", method = "post")]
    async fn create_company(&self, auth: BearerAuth, body: JsonBody<CreateCompany>) -> Reply<CompanyView> {
        Ok(Json(super::create_company(&self.0.db, &auth.0, &body.0.name).await?.into()))
    }

    /// The companies the caller may see.
    #[oai(path = "/companies", method = "get")]
    async fn list_companies(&self, auth: BearerAuth) -> Reply<Vec<CompanyView>> {
        Ok(Json(super::list_companies(&self.0.db, &auth.0).await?.into_iter().map(Into::into).collect()))
    }

    /// Create a compound.
    #[oai(path = "/compounds", method = "post")]
    async fn create_compound(&self, auth: BearerAuth, body: JsonBody<NewCompound>) -> Reply<CompoundView> {
        Ok(Json(super::create_compound(&self.0.db, &auth.0, body.0).await?.into()))
    }

    /// The compounds the caller may see.
    #[oai(path = "/compounds", method = "get")]
    async fn list_compounds(&self, auth: BearerAuth) -> Reply<Vec<CompoundView>> {
        Ok(Json(super::list_compounds(&self.0.db, &auth.0).await?.into_iter().map(Into::into).collect()))
    }

    /// One compound.
    #[oai(path = "/compounds/:id", method = "get")]
    async fn get_compound(&self, auth: BearerAuth, id: Path<i64>) -> Reply<CompoundView> {
        Ok(Json(super::get_compound(&self.0.db, &auth.0, id.0).await?.into()))
    }

    /// Add a building to a compound.
    #[oai(path = "/compounds/:id/buildings", method = "post")]
    async fn create_building(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<CreateNamed>) -> Reply<BuildingView> {
        Ok(Json(super::create_building(&self.0.db, &auth.0, id.0, &body.0.name).await?.into()))
    }

    /// The buildings of a compound.
    #[oai(path = "/compounds/:id/buildings", method = "get")]
    async fn list_buildings(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<BuildingView>> {
        Ok(Json(super::list_buildings(&self.0.db, &auth.0, id.0).await?.into_iter().map(Into::into).collect()))
    }

    /// Add a stairwell to a building.
    #[oai(path = "/buildings/:id/stairwells", method = "post")]
    async fn create_stairwell(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<CreateNamed>) -> Reply<StairwellView> {
        Ok(Json(super::create_stairwell(&self.0.db, &auth.0, id.0, &body.0.name).await?.into()))
    }

    /// The stairwells of a building.
    #[oai(path = "/buildings/:id/stairwells", method = "get")]
    async fn list_stairwells(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<StairwellView>> {
        Ok(Json(super::list_stairwells(&self.0.db, &auth.0, id.0).await?.into_iter().map(Into::into).collect()))
    }

    /// Add a unit to a stairwell.
    #[oai(path = "/stairwells/:id/units", method = "post")]
    async fn create_unit(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<UnitFacts>) -> Reply<UnitView> {
        let unit = super::create_unit(&self.0.db, &auth.0, id.0, body.0).await?;
        Ok(Json(UnitView::for_actor(super::get_unit(&self.0.db, &auth.0, unit.id).await?, &auth.0)))
    }

    /// Units, filtered and paged; `q` matches the unit number or a current owner's name or phone.
    #[oai(path = "/units", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list_units(
        &self,
        auth: BearerAuth,
        compound_id: Query<Option<i64>>,
        building_id: Query<Option<i64>>,
        stairwell_id: Query<Option<i64>>,
        floor: Query<Option<i32>>,
        unit_use: Query<Option<UnitUse>>,
        developer_held: Query<Option<bool>>,
        #[oai(validator(max_length = 50))] q: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Reply<UnitPage> {
        let (page, per_page) = paging(page.0, per_page.0);
        let filter = UnitFilter {
            compound_id: compound_id.0,
            building_id: building_id.0,
            stairwell_id: stairwell_id.0,
            floor: floor.0,
            unit_use: unit_use.0,
            developer_held: developer_held.0,
            search: q.0,
        };
        let found = super::list_units(&self.0.db, &auth.0, filter, page, per_page.min(MAX_PER_PAGE)).await?;
        let items = found.items.into_iter().map(|r| UnitView::for_actor(r, &auth.0)).collect();
        Ok(Json(UnitPage { items, total: found.total, page, per_page }))
    }

    /// One unit with its current owners.
    #[oai(path = "/units/:id", method = "get")]
    async fn get_unit(&self, auth: BearerAuth, id: Path<i64>) -> Reply<UnitView> {
        Ok(Json(UnitView::for_actor(super::get_unit(&self.0.db, &auth.0, id.0).await?, &auth.0)))
    }

    /// Change a unit's floor, use, areas or vacancy.
    #[oai(path = "/units/:id", method = "patch")]
    async fn update_unit(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<UpdateUnit>) -> Reply<UnitView> {
        let b = body.0;
        let changes = UnitChanges {
            floor: b.floor,
            unit_use: b.unit_use,
            registered_area: b.registered_area,
            surveyed_area: b.surveyed_area,
            contract_area: b.contract_area,
            vacant: b.vacant,
        };
        super::update_unit(&self.0.db, &auth.0, id.0, changes).await?;
        Ok(Json(UnitView::for_actor(super::get_unit(&self.0.db, &auth.0, id.0).await?, &auth.0)))
    }

    /// Every ownership a unit has had, oldest first.
    #[oai(path = "/units/:id/ownerships", method = "get")]
    async fn ownership_history(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<OwnershipView>> {
        let history = super::ownership_history(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(history.into_iter().map(|(o, owner)| OwnershipView::new(o, owner.name)).collect()))
    }

    /// Register an owner (or a further co-owner) of a unit that is not developer-held.
    #[oai(path = "/units/:id/owners", method = "post")]
    async fn add_owner(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<AddOwner>) -> Reply<UnitView> {
        let b = body.0;
        super::add_owner(&self.0.db, &auth.0, id.0, b.owner_id, b.designated_voter, b.started_on).await?;
        Ok(Json(UnitView::for_actor(super::get_unit(&self.0.db, &auth.0, id.0).await?, &auth.0)))
    }

    /// Record a sale: current ownerships end on the date and the buyers' begin.
    #[oai(path = "/units/:id/sales", method = "post")]
    async fn record_sale(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<RecordSale>) -> Reply<UnitView> {
        let b = body.0;
        let buyers = b.buyers.into_iter().map(|x| Buyer { owner_id: x.owner_id, designated_voter: x.designated_voter }).collect();
        super::record_sale(&self.0.db, &auth.0, id.0, b.date, buyers).await?;
        Ok(Json(UnitView::for_actor(super::get_unit(&self.0.db, &auth.0, id.0).await?, &auth.0)))
    }

    /// Add an owner (a person) to a compound.
    #[oai(path = "/compounds/:id/owners", method = "post")]
    async fn create_owner(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NewOwner>) -> Reply<OwnerView> {
        Ok(Json(OwnerView::for_actor(super::create_owner(&self.0.db, &auth.0, id.0, body.0).await?, &auth.0)))
    }

    /// Owners, paged; `q` matches name or phone.
    #[oai(path = "/owners", method = "get")]
    async fn list_owners(
        &self,
        auth: BearerAuth,
        compound_id: Query<Option<i64>>,
        #[oai(validator(max_length = 50))] q: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Reply<OwnerPage> {
        let (page, per_page) = paging(page.0, per_page.0);
        let found = super::list_owners(&self.0.db, &auth.0, compound_id.0, q.0.as_deref(), page, per_page).await?;
        let items = found.items.into_iter().map(|o| OwnerView::for_actor(o, &auth.0)).collect();
        Ok(Json(OwnerPage { items, total: found.total, page, per_page }))
    }

    /// One owner.
    #[oai(path = "/owners/:id", method = "get")]
    async fn get_owner(&self, auth: BearerAuth, id: Path<i64>) -> Reply<OwnerView> {
        Ok(Json(OwnerView::for_actor(super::get_owner(&self.0.db, &auth.0, id.0).await?, &auth.0)))
    }

    /// Import units and owners from a spreadsheet saved as CSV (UTF-8, with or without BOM, or
    /// GBK). Every row is checked first; with any bad row nothing is imported (422 listing every
    /// bad row by line) unless `skip_bad_rows` is set, which imports the good rows and reports
    /// the bad ones. Importing the same file again changes nothing.
    #[oai(path = "/compounds/:id/import", method = "post")]
    async fn import(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(default)] skip_bad_rows: Query<bool>,
        file: Binary<Vec<u8>>,
    ) -> Reply<ImportReport> {
        Ok(Json(import::import_csv(&self.0.db, &auth.0, id.0, &file.0, skip_bad_rows.0).await?))
    }

    /// The caller's own units (owners).
    #[oai(path = "/me/units", method = "get")]
    async fn my_units(&self, auth: BearerAuth) -> Reply<Vec<UnitView>> {
        let units = super::my_units(&self.0.db, &auth.0).await?;
        Ok(Json(units.into_iter().map(|r| UnitView::for_actor(r, &auth.0)).collect()))
    }
}
