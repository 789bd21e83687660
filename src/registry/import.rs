//! Bulk import of units and owners from the spreadsheets a company gets when it takes over a
//! compound. Files come as UTF-8 (with or without BOM) or GBK, with Chinese or English headers.
//!
//! Every row is checked before anything is written. A unit may span several rows, one per
//! co-owner. With any bad row nothing is imported, unless the caller asks to skip bad rows, in
//! which case every unit with a bad row is left out whole. Importing the same file again finds
//! everything in place and changes nothing.
use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use poem_openapi::Object;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait};

use super::{OwnerContact, UnitFacts, current_owners, insert_building, insert_owner, insert_ownership, insert_stairwell, insert_unit, rules};
use crate::{
    auth::{Actor, Permission, tenancy::find_visible},
    error::{Error, Result, RowProblem},
    types::Area,
};
use entity::{building, compound, owner, stairwell, unit};

#[derive(Object, Debug, Default)]
pub struct ImportReport {
    /// Data rows read (the header not counted).
    pub rows: u64,
    pub units_created: u64,
    pub units_updated: u64,
    pub units_unchanged: u64,
    pub owners_created: u64,
    pub ownerships_created: u64,
    /// Rows left out because `skip_bad_rows` was set.
    pub skipped: Vec<RowProblem>,
}

/// The columns we read, each with the header names people use for it.
const COLUMNS: &[(&str, &[&str])] = &[
    ("building", &["building", "楼栋", "楼号", "幢"]),
    ("stairwell", &["stairwell", "单元"]),
    ("number", &["number", "房号", "室号"]),
    ("floor", &["floor", "楼层"]),
    ("use", &["use", "用途", "房屋用途"]),
    ("registered_area", &["registered_area", "产权面积", "登记面积"]),
    ("surveyed_area", &["surveyed_area", "实测面积"]),
    ("contract_area", &["contract_area", "合同面积"]),
    ("developer_held", &["developer_held", "开发商持有", "未售"]),
    ("vacant", &["vacant", "空置"]),
    ("owner_name", &["owner_name", "业主姓名", "业主"]),
    ("owner_phone", &["owner_phone", "联系电话", "手机", "电话"]),
    ("owner_email", &["owner_email", "邮箱", "电子邮箱"]),
    ("owner_id_number", &["owner_id_number", "身份证号", "证件号码"]),
    ("designated_voter", &["designated_voter", "表决代表"]),
    ("owned_since", &["owned_since", "产权登记日期"]),
];

const REQUIRED: &[&str] = &["building", "stairwell", "number", "floor", "use"];

/// Decodes the upload: UTF-8 (BOM dropped) or, failing that, GBK (read as GB18030, its superset).
pub fn decode(bytes: &[u8]) -> Result<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(Error::invalid("file", "the file is neither UTF-8 nor GBK text"));
    }
    Ok(text.into_owned())
}

/// One data row, parsed.
#[derive(Debug)]
struct Row {
    line: u64,
    building: String,
    stairwell: String,
    facts: UnitFacts,
    owner: Option<(OwnerContact, bool)>,
    owned_since: Option<NaiveDate>,
}

type UnitKey = (String, String, String);

impl Row {
    fn unit_key(&self) -> UnitKey {
        (self.building.clone(), self.stairwell.clone(), self.facts.number.clone())
    }
}

fn problem(line: u64, field: &str, message: impl Into<String>) -> RowProblem {
    RowProblem { line, field: field.to_string(), message: message.into() }
}

fn as_problem(line: u64, error: Error) -> RowProblem {
    match error {
        Error::Invalid { field, message } => problem(line, field.as_deref().unwrap_or("row"), message),
        other => problem(line, "row", other.to_string()),
    }
}

fn yes_no(field: &str, text: &str) -> Result<bool> {
    match text.trim().to_lowercase().as_str() {
        "" | "否" | "no" | "n" | "false" | "0" => Ok(false),
        "是" | "yes" | "y" | "true" | "1" => Ok(true),
        _ => Err(Error::invalid(field, format!("{field} must be 是/否 or yes/no"))),
    }
}

fn optional_area(field: &str, text: &str) -> Result<Option<Area>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<Area>().map(Some).map_err(|rule| Error::invalid(field, rule))
}

/// A row that could not be read, and the unit it names (if it names one), so that with
/// `skip_bad_rows` the whole unit is left out rather than imported without that row.
#[derive(Debug)]
struct BadRow {
    problem: RowProblem,
    unit: Option<UnitKey>,
}

/// Reads and checks every row on its own; cross-row checks come after.
fn parse_rows(text: &str) -> Result<(Vec<Row>, Vec<BadRow>)> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| Error::invalid("file", format!("the header row cannot be read: {e}")))?.clone();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for (index, header) in headers.iter().enumerate() {
        let header = header.trim().to_lowercase();
        if let Some((name, _)) = COLUMNS.iter().find(|(_, aliases)| aliases.contains(&header.as_str())) {
            position.insert(name, index);
        }
    }
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| !position.contains_key(c)).collect();
    if !missing.is_empty() {
        return Err(Error::invalid("file", format!("the header row lacks the columns: {}", missing.join(", "))));
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(BadRow { problem: problem(line, "row", format!("unreadable row: {e}")), unit: None });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cell = |name: &str| position.get(name).and_then(|&i| record.get(i)).unwrap_or("").trim().to_string();
        match parse_row(line, &cell) {
            Ok(row) => rows.push(row),
            Err(error) => {
                let unit = Some((cell("building"), cell("stairwell"), cell("number")));
                problems.push(BadRow { problem: as_problem(line, error), unit });
            }
        }
    }
    Ok((rows, problems))
}

fn parse_row(line: u64, cell: &dyn Fn(&str) -> String) -> Result<Row> {
    let building = crate::types::required_text("building", &cell("building"), 50)?;
    let stairwell = crate::types::required_text("stairwell", &cell("stairwell"), 50)?;
    let floor = cell("floor").parse::<i32>().map_err(|_| Error::invalid("floor", "floor must be a whole number"))?;
    let unit_use = rules::UnitUse::parse(&cell("use"))
        .ok_or_else(|| Error::invalid("use", "use must be residential/commercial/parking/storage (住宅/商业/车位/储藏室)"))?;
    let facts = UnitFacts {
        floor,
        number: crate::types::required_text("number", &cell("number"), 20)?,
        unit_use,
        registered_area: optional_area("registered_area", &cell("registered_area"))?,
        surveyed_area: optional_area("surveyed_area", &cell("surveyed_area"))?,
        contract_area: optional_area("contract_area", &cell("contract_area"))?,
        developer_held: yes_no("developer_held", &cell("developer_held"))?,
        vacant: yes_no("vacant", &cell("vacant"))?,
    };
    facts.validate()?;
    let owner_name = cell("owner_name");
    let owner = if owner_name.is_empty() {
        if !(cell("owner_phone").is_empty() && cell("owner_email").is_empty() && cell("owner_id_number").is_empty()) {
            return Err(Error::invalid("owner_name", "owner details without the owner's name"));
        }
        None
    } else {
        let new = super::NewOwner {
            name: owner_name,
            phone: Some(cell("owner_phone")),
            email: Some(cell("owner_email")),
            id_number: Some(cell("owner_id_number")),
        };
        let contact = OwnerContact::parse(&new).map_err(|e| match e {
            Error::Invalid { field, message } => Error::Invalid { field: field.map(|f| format!("owner_{f}")), message },
            other => other,
        })?;
        Some((contact, yes_no("designated_voter", &cell("designated_voter"))?))
    };
    if facts.developer_held && owner.is_some() {
        return Err(Error::invalid("owner_name", "a developer-held unit has no owner; leave the owner columns empty"));
    }
    let since = cell("owned_since");
    let owned_since = if since.is_empty() {
        None
    } else {
        Some(NaiveDate::parse_from_str(&since, "%Y-%m-%d").map_err(|_| Error::invalid("owned_since", "owned_since must be a date like 2020-06-30"))?)
    };
    Ok(Row { line, building, stairwell, facts, owner, owned_since })
}

/// The rows of one unit, checked together: same facts on every row, one voter, no owner twice.
fn check_unit(rows: &[Row]) -> Vec<RowProblem> {
    let first = &rows[0];
    let mut problems = Vec::new();
    for row in &rows[1..] {
        if row.facts != first.facts {
            problems.push(problem(row.line, "number", format!("the unit differs from line {} of the same unit", first.line)));
        }
    }
    let owners: Vec<(&OwnerContact, bool)> = rows.iter().filter_map(|r| r.owner.as_ref().map(|(c, d)| (c, *d))).collect();
    let owner_rows: Vec<&Row> = rows.iter().filter(|r| r.owner.is_some()).collect();
    for (i, (contact, _)) in owners.iter().enumerate() {
        if owners[..i].iter().any(|(other, _)| other.name == contact.name && other.phone == contact.phone) {
            problems.push(problem(owner_rows[i].line, "owner_name", format!("{} is listed twice for the unit", contact.name)));
        }
    }
    if !owners.is_empty() {
        let flags: Vec<(i64, bool)> = owners.iter().enumerate().map(|(i, (_, d))| (i as i64, *d)).collect();
        if let Err(rule) = rules::designated_voter(&flags) {
            problems.push(problem(first.line, "designated_voter", rule));
        }
    }
    problems
}

/// A phone identifies one person across the file: the same phone under two names is a typo
/// that would otherwise merge two owners.
fn check_people<'a>(rows: impl Iterator<Item = &'a Row>) -> Vec<RowProblem> {
    let mut first_seen: HashMap<&str, (&str, u64)> = HashMap::new();
    let mut problems = Vec::new();
    for row in rows {
        let Some((contact, _)) = &row.owner else { continue };
        let Some(phone) = contact.phone.as_deref() else { continue };
        match first_seen.get(phone) {
            Some((name, line)) if *name != contact.name => problems.push(problem(
                row.line,
                "owner_phone",
                format!("line {line} gives this phone to {name}, this line to {}", contact.name),
            )),
            Some(_) => {}
            None => {
                first_seen.insert(phone, (&contact.name, row.line));
            }
        }
    }
    problems
}

pub async fn import_csv<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    compound_id: i64,
    bytes: &[u8],
    skip_bad_rows: bool,
) -> Result<ImportReport> {
    actor.require(Permission::WriteRegistry)?;
    let compound = find_visible::<compound::Entity>(db, actor, compound_id).await?;
    let text = decode(bytes)?;
    let (rows, bad_rows) = parse_rows(&text)?;
    let row_count = (rows.len() + bad_rows.len()) as u64;
    if row_count == 0 {
        return Err(Error::invalid("file", "the file has a header but no rows"));
    }
    let mut units: BTreeMap<UnitKey, Vec<Row>> = BTreeMap::new();
    for row in rows {
        units.entry(row.unit_key()).or_default().push(row);
    }
    let mut bad_units: std::collections::HashSet<UnitKey> = bad_rows.iter().filter_map(|b| b.unit.clone()).collect();
    let mut problems: Vec<RowProblem> = bad_rows.into_iter().map(|b| b.problem).collect();
    for (key, rows) in &units {
        let found = check_unit(rows);
        if !found.is_empty() {
            bad_units.insert(key.clone());
        }
        problems.extend(found);
    }
    let people = check_people(units.values().flatten());
    for found in &people {
        if let Some(row) = units.values().flatten().find(|r| r.line == found.line) {
            bad_units.insert(row.unit_key());
        }
    }
    problems.extend(people);

    let txn = crate::db::begin(db).await?;
    let mut report = ImportReport { rows: row_count, ..Default::default() };
    let mut places = Places::load(&txn, &compound).await?;
    for (key, rows) in &units {
        if bad_units.contains(key) {
            continue;
        }
        if let Err(problem) = import_unit(&txn, &compound, &mut places, rows, &mut report).await? {
            problems.push(problem);
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        if !skip_bad_rows {
            let message = format!("{} of {} rows are bad; nothing was imported", problems.len(), row_count);
            return Err(Error::RowsRejected { message, rows: problems });
        }
        report.skipped = problems;
    }
    txn.commit().await?;
    Ok(report)
}

/// The compound's buildings and stairwells by name, created as rows name new ones.
struct Places {
    buildings: HashMap<String, building::Model>,
    stairwells: HashMap<(i64, String), stairwell::Model>,
}

impl Places {
    async fn load(db: &impl ConnectionTrait, compound: &compound::Model) -> Result<Places> {
        let buildings = building::Entity::find().filter(building::Column::CompoundId.eq(compound.id)).all(db).await?;
        let stairwells = stairwell::Entity::find().filter(stairwell::Column::CompoundId.eq(compound.id)).all(db).await?;
        Ok(Places {
            buildings: buildings.into_iter().map(|b| (b.name.clone(), b)).collect(),
            stairwells: stairwells.into_iter().map(|s| ((s.building_id, s.name.clone()), s)).collect(),
        })
    }

    async fn stairwell(&mut self, db: &impl ConnectionTrait, compound: &compound::Model, building: &str, stairwell: &str) -> Result<stairwell::Model> {
        if !self.buildings.contains_key(building) {
            let created = insert_building(db, compound, building.to_string()).await?;
            self.buildings.insert(building.to_string(), created);
        }
        let building = &self.buildings[building];
        let key = (building.id, stairwell.to_string());
        if !self.stairwells.contains_key(&key) {
            let created = insert_stairwell(db, building, stairwell.to_string()).await?;
            self.stairwells.insert(key.clone(), created);
        }
        Ok(self.stairwells[&key].clone())
    }
}

/// Writes one unit and its owners. A unit whose recorded owners differ from the file is not
/// changed here: ownership changes are sales, recorded through the API with a date.
async fn import_unit(
    db: &impl ConnectionTrait,
    compound: &compound::Model,
    places: &mut Places,
    rows: &[Row],
    report: &mut ImportReport,
) -> Result<std::result::Result<(), RowProblem>> {
    let first = &rows[0];
    let stairwell = places.stairwell(db, compound, &first.building, &first.stairwell).await?;
    let existing = unit::Entity::find()
        .filter(unit::Column::StairwellId.eq(stairwell.id))
        .filter(unit::Column::Number.eq(&first.facts.number))
        .one(db)
        .await?;
    let owners_in_file: Vec<&(OwnerContact, bool)> = rows.iter().filter_map(|r| r.owner.as_ref()).collect();
    let unit = match existing {
        None => {
            report.units_created += 1;
            insert_unit(db, &stairwell, &first.facts).await?
        }
        Some(unit) => {
            let current = current_owners(db, &[unit.id]).await?.remove(&unit.id).unwrap_or_default();
            let same_owners = current.len() == owners_in_file.len()
                && owners_in_file.iter().all(|(c, _)| current.iter().any(|(_, o)| o.name == c.name && o.phone == c.phone));
            if !current.is_empty() && !same_owners {
                return Ok(Err(problem(first.line, "owner_name", "the unit has other owners on record; record the sale instead")));
            }
            if first.facts.developer_held != unit.developer_held && !current.is_empty() {
                return Ok(Err(problem(first.line, "developer_held", "an owned unit cannot become developer-held by import")));
            }
            if first.facts.matches(&unit) {
                report.units_unchanged += 1;
            } else {
                report.units_updated += 1;
                let mut active: unit::ActiveModel = unit.clone().into();
                active.floor = Set(first.facts.floor);
                active.unit_use = Set(first.facts.unit_use.as_str().to_string());
                active.registered_area = Set(first.facts.registered_area.map(Area::hundredths));
                active.surveyed_area = Set(first.facts.surveyed_area.map(Area::hundredths));
                active.contract_area = Set(first.facts.contract_area.map(Area::hundredths));
                active.developer_held = Set(first.facts.developer_held);
                active.vacant = Set(first.facts.vacant);
                active.update(db).await?;
            }
            if !current.is_empty() {
                return Ok(Ok(()));
            }
            unit
        }
    };
    let voter_index = rules::designated_voter(&owners_in_file.iter().enumerate().map(|(i, (_, d))| (i as i64, *d)).collect::<Vec<_>>()).ok();
    for (index, (contact, _)) in owners_in_file.iter().enumerate() {
        let row = rows.iter().find(|r| r.owner.as_ref().is_some_and(|(c, _)| c == contact)).unwrap_or(first);
        let owner = match find_owner(db, compound.id, contact).await? {
            Some(owner) => owner,
            None => {
                report.owners_created += 1;
                insert_owner(db, compound, contact.clone()).await.map_err(|e| match e {
                    Error::Conflict { message, .. } => Error::invalid("owner_phone", message),
                    other => other,
                })?
            }
        };
        let since = row.owned_since.unwrap_or_else(|| Utc::now().date_naive());
        insert_ownership(db, &unit, owner.id, voter_index == Some(index as i64), since).await?;
        report.ownerships_created += 1;
    }
    Ok(Ok(()))
}

/// The same person, recognised by phone; without a phone, by name among phone-less owners.
async fn find_owner(db: &impl ConnectionTrait, compound_id: i64, contact: &OwnerContact) -> Result<Option<owner::Model>> {
    let mut select = owner::Entity::find().filter(owner::Column::CompoundId.eq(compound_id));
    select = match &contact.phone {
        Some(phone) => select.filter(owner::Column::Phone.eq(phone)),
        None => select.filter(owner::Column::Phone.is_null()).filter(owner::Column::Name.eq(&contact.name)),
    };
    Ok(select.one(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_and_bom_files_decode() {
        let (gbk, _, _) = encoding_rs::GBK.encode("楼栋,单元\n1栋,2单元\n");
        assert_eq!(decode(&gbk).unwrap(), "楼栋,单元\n1栋,2单元\n");
        assert_eq!(decode(b"\xEF\xBB\xBFa,b\n").unwrap(), "a,b\n");
        assert!(decode(&[0xFF, 0xFE, 0x00, 0x81]).is_err());
    }

    #[test]
    fn rows_report_their_line_and_field() {
        let text = "楼栋,单元,房号,楼层,用途,产权面积\n1栋,1单元,101,1,住宅,88.60\n1栋,1单元,102,x,住宅,88.60\n1栋,1单元,103,1,住宅,88.601\n";
        let (rows, problems) = parse_rows(text).unwrap();
        assert_eq!(rows.len(), 1);
        let found: Vec<(u64, &str)> = problems.iter().map(|b| (b.problem.line, b.problem.field.as_str())).collect();
        assert_eq!(found, vec![(3, "floor"), (4, "registered_area")]);
    }

    #[test]
    fn missing_columns_are_named() {
        let error = parse_rows("楼栋,单元,房号\n").unwrap_err();
        assert!(error.to_string().contains("floor, use"), "{error}");
    }
}
