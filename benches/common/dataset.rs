//! A city-scale data set on either database: property companies of 100 compounds; compounds of
//! 330 flats (11 five-storey buildings x 3 stairwells x 10 flats) with their owners; a year of
//! monthly property-fee bills, paid at the desk monthly, quarterly, half-yearly or yearly with a
//! receipt each (one owner in ten stops paying, developers never pay); every compound's ledger
//! hash-chained exactly as `ledger::post` chains it; and tickets in every state with their
//! history.
//!
//! The rows are computed in Rust compound by compound (amounts by the billing rules, entry
//! hashes by the ledger rules, ticket deadlines by the ticket rules) on a thread of their own,
//! and written batch by batch meanwhile: `COPY` on PostgreSQL, multi-row INSERTs on SQLite.
//! It expects a migrated database that nobody else writes to while it runs.
use std::{
    collections::{BTreeMap, HashMap},
    io::Write,
    sync::{Arc, Mutex},
    time::Instant,
};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use entity::fee_item;
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait, Value};
use wuye::{
    billing::{self, rules::UnitBasis},
    ledger::{
        self, Account, Line,
        rules::{EntryContent, entry_hash},
    },
    tickets::{Category, Status, Urgency, rules::default_targets},
    types::{Money, Period},
};

pub const UNITS_PER_COMPOUND: u64 = 330;
const COMPOUNDS_PER_COMPANY: u64 = 100;
/// Compounds computed and written together: about 25,000 rows.
const COMPOUNDS_PER_BATCH: u64 = 4;
/// The staff accounts' password.
pub const PASSWORD: &str = "bench-password-1";

/// A table and the columns the generator fills, in the order its rows give them.
pub struct Table {
    pub name: &'static str,
    columns: &'static [&'static str],
}

macro_rules! table {
    ($static:ident, $name:literal, [$($column:literal),* $(,)?]) => {
        static $static: Table = Table { name: $name, columns: &[$($column),*] };
    };
}

table!(COMPANIES, "companies", ["id", "name", "created_at"]);
table!(USERS, "users", ["id", "company_id", "role", "name", "email", "phone", "password_hash", "disabled", "created_at"]);
table!(COMPOUNDS, "compounds", ["id", "company_id", "name", "address", "time_zone", "created_at"]);
table!(BUILDINGS, "buildings", ["id", "company_id", "compound_id", "name", "created_at"]);
table!(STAIRWELLS, "stairwells", ["id", "company_id", "compound_id", "building_id", "name", "created_at"]);
table!(UNITS, "units", [
    "id", "company_id", "compound_id", "building_id", "stairwell_id", "floor", "number", "unit_use", "registered_area", "surveyed_area",
    "contract_area", "developer_held", "vacant", "created_at",
]);
table!(OWNERS, "owners", ["id", "company_id", "compound_id", "name", "phone", "email", "id_number_masked", "user_id", "email_every_notice", "created_at"]);
table!(OWNERSHIPS, "ownerships", ["id", "company_id", "compound_id", "unit_id", "owner_id", "designated_voter", "started_on", "ended_on", "created_at"]);
table!(FEE_ITEMS, "fee_items", [
    "id", "company_id", "compound_id", "name", "kind", "rate", "amount", "split", "floor_coefficients", "scope_kind", "scope_ids", "unit_uses",
    "cycle", "due_days", "rounding", "late_fee_daily_rate", "late_fee_grace_days", "late_fee_cap", "vacancy_ratio", "effective_from",
    "effective_to", "credit_account", "created_at",
]);
table!(BILL_RUNS, "bill_runs", ["id", "company_id", "compound_id", "period", "run_by", "bills_created", "total", "created_at"]);
table!(BILLS, "bills", [
    "id", "company_id", "compound_id", "unit_id", "fee_item_id", "period", "bill_run_id", "payer", "amount", "adjusted", "paid",
    "late_fee_paid", "late_fee_waived", "late_fee_accrued", "late_fee_accrued_through", "late_fee_fen_days", "due_date", "created_at",
]);
table!(PAYMENTS, "payments", [
    "id", "company_id", "compound_id", "unit_id", "method", "amount", "received_at", "recorded_by", "status", "reversal_reason",
    "payment_order_id", "journal_entry_id", "created_at",
]);
table!(PAYMENT_ALLOCATIONS, "payment_allocations", ["id", "compound_id", "payment_id", "bill_id", "principal", "late_fee"]);
table!(RECEIPTS, "receipts", ["id", "compound_id", "year", "number", "payment_id", "voided_at", "void_reason", "created_at"]);
table!(RECEIPT_COUNTERS, "receipt_counters", ["compound_id", "year", "last_number"]);
table!(JOURNAL_ENTRIES, "journal_entries", ["id", "company_id", "compound_id", "seq", "kind", "reference", "memo", "posted_at", "posted_by", "prev_hash", "hash"]);
table!(JOURNAL_LINES, "journal_lines", ["id", "entry_id", "compound_id", "account", "unit_id", "fee_item_id", "debit", "credit"]);
table!(LEDGER_HEADS, "ledger_heads", ["compound_id", "last_seq", "last_hash"]);
table!(TICKETS, "tickets", [
    "id", "company_id", "compound_id", "unit_id", "owner_id", "filed_by", "category", "location", "place", "description", "urgency",
    "preferred_visit", "status", "priority", "assignee_id", "version", "response_due_at", "resolution_due_at", "due_at", "accepted_at",
    "resolved_at", "closed_at", "paused_at", "paused_seconds", "response_escalated_at", "resolution_escalated_at", "reopen_count", "reason",
    "rating", "rating_comment", "follow_up", "followed_up_at", "cost_route", "cost_bill_id", "created_at", "updated_at",
]);
table!(TICKET_EVENTS, "ticket_events", ["id", "ticket_id", "compound_id", "actor_id", "actor_role", "kind", "from_value", "to_value", "note", "internal", "at"]);

/// Every table written, in the order a batch writes them (a row before the rows that refer to it).
static TABLES: [&Table; 20] = [
    &COMPANIES,
    &USERS,
    &COMPOUNDS,
    &BUILDINGS,
    &STAIRWELLS,
    &UNITS,
    &OWNERS,
    &OWNERSHIPS,
    &FEE_ITEMS,
    &BILL_RUNS,
    &BILLS,
    &PAYMENTS,
    &PAYMENT_ALLOCATIONS,
    &RECEIPTS,
    &RECEIPT_COUNTERS,
    &JOURNAL_ENTRIES,
    &JOURNAL_LINES,
    &LEDGER_HEADS,
    &TICKETS,
    &TICKET_EVENTS,
];

/// One value of a row.
enum Cell {
    Int(i64),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
    Time(DateTime<Utc>),
    Null,
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}
impl From<i32> for Cell {
    fn from(v: i32) -> Cell {
        Cell::Int(v as i64)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Cell {
        Cell::Bool(v)
    }
}
impl From<NaiveDate> for Cell {
    fn from(v: NaiveDate) -> Cell {
        Cell::Date(v)
    }
}
impl From<DateTime<Utc>> for Cell {
    fn from(v: DateTime<Utc>) -> Cell {
        Cell::Time(v)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Null, Into::into)
    }
}

macro_rules! row {
    ($($value:expr),* $(,)?) => { [$(Cell::from($value)),*] };
}

/// Rows computed and not yet written, by table.
#[derive(Default)]
struct Batch {
    cells: HashMap<&'static str, Vec<Cell>>,
}

impl Batch {
    fn push<const N: usize>(&mut self, table: &'static Table, row: [Cell; N]) {
        assert_eq!(N, table.columns.len(), "a row of {} has a value per column", table.name);
        self.cells.entry(table.name).or_default().extend(row);
    }

    /// The batch as the database takes it best, computed on the generator's thread so that the
    /// writers only wait for the database.
    fn encode(mut self, backend: DatabaseBackend) -> Vec<Encoded> {
        TABLES
            .iter()
            .filter_map(|table| {
                let cells = self.cells.remove(table.name)?;
                let rows = (cells.len() / table.columns.len()) as u64;
                let data = match backend {
                    DatabaseBackend::Postgres => Data::Copy(copy_text(&cells, table.columns.len())),
                    _ => Data::Inserts(inserts(table, cells)),
                };
                Some(Encoded { table: table.name, rows, data })
            })
            .collect()
    }
}

/// One table's rows of a batch, ready to send.
struct Encoded {
    table: &'static str,
    rows: u64,
    data: Data,
}

enum Data {
    /// PostgreSQL: `COPY ... FROM STDIN` in text format.
    Copy(Vec<u8>),
    /// SQLite: multi-row INSERTs with bound values.
    Inserts(Vec<Statement>),
}

/// Rows in `COPY`'s text format: tab between values, a line per row, `\N` for NULL.
fn copy_text(cells: &[Cell], columns: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(cells.len() * 12);
    for row in cells.chunks(columns) {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            let _ = match cell {
                Cell::Int(v) => write!(out, "{v}"),
                Cell::Text(v) => {
                    for byte in v.bytes() {
                        match byte {
                            b'\\' => out.extend_from_slice(b"\\\\"),
                            b'\t' => out.extend_from_slice(b"\\t"),
                            b'\n' => out.extend_from_slice(b"\\n"),
                            b'\r' => out.extend_from_slice(b"\\r"),
                            _ => out.push(byte),
                        }
                    }
                    Ok(())
                }
                Cell::Bool(v) => write!(out, "{}", if *v { 't' } else { 'f' }),
                Cell::Date(v) => write!(out, "{v}"),
                Cell::Time(v) => write!(out, "{}+00", v.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f")),
                Cell::Null => write!(out, "\\N"),
            };
        }
        out.push(b'\n');
    }
    out
}

/// Rows as INSERTs of as many rows as SQLite's 32,766 bound values allow.
fn inserts(table: &Table, cells: Vec<Cell>) -> Vec<Statement> {
    let columns = table.columns.len();
    let per_insert = 32_766 / columns;
    let placeholders = format!("({})", vec!["?"; columns].join(", "));
    let mut values = cells.into_iter().map(|cell| match cell {
        Cell::Int(v) => Value::BigInt(Some(v)),
        Cell::Text(v) => Value::String(Some(v)),
        Cell::Bool(v) => Value::Bool(Some(v)),
        Cell::Date(v) => Value::ChronoDate(Some(v)),
        Cell::Time(v) => Value::ChronoDateTimeUtc(Some(v)),
        Cell::Null => Value::BigInt(None),
    });
    let mut statements = Vec::new();
    loop {
        let chunk: Vec<Value> = values.by_ref().take(per_insert * columns).collect();
        if chunk.is_empty() {
            return statements;
        }
        let rows = vec![placeholders.as_str(); chunk.len() / columns].join(", ");
        let sql = format!("INSERT INTO {} ({}) VALUES {rows}", table.name, table.columns.join(", "));
        statements.push(Statement::from_sql_and_values(DatabaseBackend::Sqlite, sql, chunk));
    }
}

/// Rows written and seconds spent writing them, by table.
type Written = Arc<Mutex<BTreeMap<&'static str, (u64, f64)>>>;

/// Writes a batch in one transaction.
async fn write(db: &DatabaseConnection, batch: Vec<Encoded>, written: &Written) {
    let mut timings = Vec::new();
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let mut txn = db.get_postgres_connection_pool().begin().await.expect("begin");
            for table in batch {
                let Data::Copy(data) = table.data else { unreachable!("PostgreSQL gets COPY data") };
                let started = Instant::now();
                let columns = TABLES.iter().find(|t| t.name == table.table).map(|t| t.columns.join(", ")).unwrap_or_default();
                let mut copy = txn.copy_in_raw(&format!("COPY {} ({columns}) FROM STDIN", table.table)).await.expect("COPY");
                copy.send(data).await.expect("send rows");
                copy.finish().await.unwrap_or_else(|e| panic!("COPY {}: {e}", table.table));
                timings.push((table.table, table.rows, started.elapsed().as_secs_f64()));
            }
            txn.commit().await.expect("commit");
        }
        _ => {
            let txn = db.begin().await.expect("begin");
            for table in batch {
                let Data::Inserts(statements) = table.data else { unreachable!("SQLite gets INSERTs") };
                let started = Instant::now();
                for statement in statements {
                    txn.execute_raw(statement).await.unwrap_or_else(|e| panic!("INSERT INTO {}: {e}", table.table));
                }
                timings.push((table.table, table.rows, started.elapsed().as_secs_f64()));
            }
            txn.commit().await.expect("commit");
        }
    }
    let mut written = written.lock().unwrap();
    for (table, rows, seconds) in timings {
        let figures = written.entry(table).or_default();
        figures.0 += rows;
        figures.1 += seconds;
    }
}

/// The next id of each table with ids, handed out in order after those already there.
struct Ids(HashMap<&'static str, i64>);

impl Ids {
    async fn after_existing(db: &DatabaseConnection) -> Ids {
        let mut last = HashMap::new();
        for table in TABLES.iter().filter(|t| t.columns[0] == "id") {
            let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS id FROM {}", table.name);
            let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("the last id").expect("a row");
            last.insert(table.name, row.try_get::<i64>("", "id").expect("an id"));
        }
        Ids(last)
    }

    fn next(&mut self, table: &Table) -> i64 {
        let last = self.0.get_mut(table.name).expect("a table with ids");
        *last += 1;
        *last
    }
}

/// A company's staff accounts that the data names.
struct Staff {
    company_id: i64,
    cashier: i64,
    dispatcher: i64,
    technicians: Vec<(i64, String)>,
}

/// A flat of a compound being generated.
struct Flat {
    owner_id: Option<i64>,
    basis: UnitBasis,
}

/// How an owner pays.
#[derive(Clone, Copy)]
enum Habit {
    /// Everything open, every so many months.
    Every(usize),
    /// Monthly, then no more after this many months.
    StopsAfter(usize),
    Never,
}

/// Desk payment methods and the account the money arrives in.
const METHODS: [(&str, Account); 3] = [("cash", Account::Cash), ("pos", Account::Bank), ("bank_transfer", Account::Bank)];
const SURNAMES: [&str; 20] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"];
const GIVEN_NAMES: [&str; 20] = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞"];
const COMPOUND_NAMES: [&str; 12] = ["幸福", "和平", "阳光", "锦绣", "翠苑", "梅园", "兰亭", "枫林", "金桥", "春晖", "东方", "龙湖"];
const COMPOUND_KINDS: [&str; 6] = ["小区", "花园", "家园", "新村", "公寓", "苑"];
const DISTRICTS: [&str; 8] = ["东城", "西城", "朝阳", "海淀", "丰台", "石景山", "通州", "昌平"];
const ROADS: [&str; 8] = ["建设", "解放", "人民", "中山", "和平", "新华", "胜利", "光明"];
/// Monthly rates of the property fee in 元 per m², from an old walk-up to a managed estate.
const RATES: [&str; 5] = ["0.85", "1.20", "1.50", "1.80", "2.50"];
/// Categories with their share of tickets (in percent) and what owners report.
const CATEGORIES: [(Category, u32, [&str; 3]); 12] = [
    (Category::Plumbing, 24, ["厨房水管漏水", "卫生间下水道堵塞", "楼上渗水到天花板"]),
    (Category::Electrical, 12, ["家中跳闸无法合闸", "插座冒火花", "楼道配电箱有异响"]),
    (Category::Doors, 12, ["单元门禁无法刷卡", "单元门闭门器损坏", "入户门锁芯卡住"]),
    (Category::Walls, 10, ["外墙瓷砖脱落", "楼道墙皮剥落", "卧室墙面返潮发霉"]),
    (Category::RoofLeak, 8, ["顶楼下雨漏水", "屋面防水层破损", "雨后顶棚滴水"]),
    (Category::StreetLights, 8, ["小区路灯不亮", "楼道声控灯坏了", "地下车库照明不亮"]),
    (Category::Parking, 5, ["车位被长期占用", "道闸无法抬杆", "非机动车棚充电桩故障"]),
    (Category::Elevator, 3, ["加装电梯运行有异响", "电梯按钮失灵", "电梯门关不上"]),
    (Category::Gas, 2, ["厨房有燃气味", "燃气表附近有异味", "燃气管道锈蚀"]),
    (Category::FireSafety, 2, ["消防栓漏水", "楼道灭火器过期", "消防通道堆放杂物"]),
    (Category::BarrierFree, 2, ["无障碍坡道破损", "单元入口扶手松动", "盲道被占用"]),
    (Category::Other, 12, ["绿化带树枝遮挡窗户", "垃圾清运不及时", "楼道堆放杂物"]),
];

/// A step in a ticket's planned life: when, to which status, by whom, why.
struct Step {
    at: DateTime<Utc>,
    to: Status,
    actor: (i64, &'static str),
    note: Option<&'static str>,
}

struct Generator {
    ids: Ids,
    now: DateTime<Utc>,
    /// The year billed, oldest month first, ending with the current month.
    periods: Vec<Period>,
    staff: Vec<Staff>,
    compounds: u64,
    tickets: u64,
}

/// A moment in the compounds' time zone: `seconds` after midnight of `day`.
fn local(day: NaiveDate, seconds: i64) -> DateTime<Utc> {
    let midnight = chrono_tz::Asia::Shanghai.from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight")).single().expect("no DST in Shanghai");
    midnight.with_timezone(&Utc) + Duration::seconds(seconds)
}

fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

impl Generator {
    fn new(ids: Ids, compounds: u64, tickets: u64) -> Generator {
        // Whole seconds: stored times round-trip exactly, so entry hashes can be recomputed.
        let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now");
        let current = Period::containing(local_day(now));
        let first = current.year() * 12 + current.month() as i32 - 12;
        let periods = (0..12).map(|i| Period::new((first + i) / 12, ((first + i) % 12) as u32 + 1).expect("a month")).collect();
        Generator { ids, now, periods, staff: Vec::new(), compounds, tickets }
    }

    /// When the compounds were registered: a season before the year billed.
    fn registered(&self) -> DateTime<Utc> {
        local(self.periods[0].first_day() - Duration::days(90), 9 * 3600)
    }

    /// The property companies and their staff accounts (one password for all).
    fn companies(&mut self, count: u64, password_hash: &str, batch: &mut Batch) {
        let registered = self.registered();
        for n in 0..count as usize {
            let company_id = self.ids.next(&COMPANIES);
            batch.push(&COMPANIES, row![company_id, format!("{}物业服务有限公司 #{company_id}", COMPOUND_NAMES[n % COMPOUND_NAMES.len()]), registered]);
            let mut account = |role: &str, name: String| {
                let id = self.ids.next(&USERS);
                let email = format!("{role}{id}@company{company_id}.bench.test");
                batch.push(&USERS, row![id, company_id, role, name.as_str(), email, None::<String>, password_hash, false, registered]);
                (id, name)
            };
            account("manager", "项目经理".into());
            let cashier = account("cashier", "收银员".into()).0;
            let dispatcher = account("dispatcher", "客服调度".into()).0;
            let technicians = (0..3).map(|i| account("technician", format!("{}师傅", SURNAMES[(n + i) % SURNAMES.len()]))).collect();
            self.staff.push(Staff { company_id, cashier, dispatcher, technicians });
        }
    }

    /// Compound number `k` (from 0) with everything in it.
    fn compound(&mut self, k: u64, batch: &mut Batch) {
        let mut rng = StdRng::seed_from_u64(k);
        let staff = (k / COMPOUNDS_PER_COMPANY) as usize;
        let company_id = self.staff[staff].company_id;
        let compound_id = self.ids.next(&COMPOUNDS);
        let registered = self.registered();
        let name = format!("{}{}{}号院", COMPOUND_NAMES[k as usize % 12], COMPOUND_KINDS[(k / 12) as usize % 6], k + 1);
        let address = format!("{}区{}路{}号", pick(&mut rng, &DISTRICTS), pick(&mut rng, &ROADS), rng.random_range(1..400));
        batch.push(&COMPOUNDS, row![compound_id, company_id, name, address, "Asia/Shanghai", registered]);
        let flats = self.registry(&mut rng, batch, company_id, compound_id);
        self.bills_and_payments(&mut rng, batch, staff, compound_id, &flats);
        let tickets = self.tickets * (k + 1) / self.compounds - self.tickets * k / self.compounds;
        self.tickets(&mut rng, batch, staff, compound_id, &flats, tickets);
    }

    /// 11 five-storey buildings of 3 stairwells with 2 flats a floor; an owner for each flat
    /// the developer has sold.
    fn registry(&mut self, rng: &mut StdRng, batch: &mut Batch, company_id: i64, compound_id: i64) -> Vec<Flat> {
        let registered = self.registered();
        let mut flats = Vec::with_capacity(UNITS_PER_COMPOUND as usize);
        for b in 1..=11 {
            let building_id = self.ids.next(&BUILDINGS);
            batch.push(&BUILDINGS, row![building_id, company_id, compound_id, format!("{b}号楼"), registered]);
            for s in 1..=3 {
                let stairwell_id = self.ids.next(&STAIRWELLS);
                batch.push(&STAIRWELLS, row![stairwell_id, company_id, compound_id, building_id, format!("{s}单元"), registered]);
                // The same two floor plans on every floor, in hundredths of a m².
                let plans = [rng.random_range(5_500..9_000), rng.random_range(8_000..14_000)];
                for floor in 1..=5 {
                    for (side, area) in plans.into_iter().enumerate() {
                        let unit_id = self.ids.next(&UNITS);
                        let number = format!("{floor}0{}", side + 1);
                        // Shops on the ground floor of the first building.
                        let unit_use = if b == 1 && floor == 1 { "commercial" } else { "residential" };
                        let developer_held = rng.random_bool(0.01);
                        let vacant = !developer_held && rng.random_bool(0.04);
                        batch.push(&UNITS, row![
                            unit_id, company_id, compound_id, building_id, stairwell_id, floor, number, unit_use, area as i64, None::<i64>, None::<i64>,
                            developer_held, vacant, registered,
                        ]);
                        let owner_id = (!developer_held).then(|| self.owner(rng, batch, company_id, compound_id, unit_id));
                        flats.push(Flat { owner_id, basis: UnitBasis { unit_id, area: area as i64, floor, vacant, developer_held } });
                    }
                }
            }
        }
        flats
    }

    fn owner(&mut self, rng: &mut StdRng, batch: &mut Batch, company_id: i64, compound_id: i64, unit_id: i64) -> i64 {
        let registered = self.registered();
        let owner_id = self.ids.next(&OWNERS);
        let name = format!("{}{}", pick(rng, &SURNAMES), pick(rng, &GIVEN_NAMES));
        // Unique within the compound, as the registry requires: the unit id in the number.
        let phone = format!("1{}{:09}", pick(rng, &["38", "39", "58", "86"]), unit_id % 1_000_000_000);
        let id_number = format!("{}********{:04}", pick(rng, &["110105", "310104", "440106", "330106"]), rng.random_range(0..10_000));
        batch.push(&OWNERS, row![owner_id, company_id, compound_id, name, phone, None::<String>, id_number, None::<i64>, false, registered]);
        let bought = NaiveDate::from_ymd_opt(1998, 1, 1).expect("a date") + Duration::days(rng.random_range(0..9_000));
        batch.push(&OWNERSHIPS, row![self.ids.next(&OWNERSHIPS), company_id, compound_id, unit_id, owner_id, true, bought, None::<NaiveDate>, registered]);
        owner_id
    }
}

/// What happens to the bills of a compound, in time order.
enum Event {
    /// The monthly bill run of the year's month `n`.
    Run(usize),
    /// A charged unit pays every bill still open up to month `through`.
    Payment { charge: usize, through: usize },
}

/// A compound's journal being written: its end, as `ledger_heads` keeps it.
struct Chain {
    seq: i64,
    last_hash: String,
}

impl Chain {
    /// Appends an entry as `ledger::post` does: the next number, hashed over its content and
    /// the hash before it. Returns the entry's id.
    fn post(&mut self, ids: &mut Ids, batch: &mut Batch, posting: ledger::Posting, at: DateTime<Utc>) -> i64 {
        assert!(ledger::rules::unbalanced(&posting.lines).is_none(), "{} balances", posting.reference);
        let seq = self.seq + 1;
        let hash = entry_hash(&EntryContent {
            prev_hash: &self.last_hash,
            compound_id: posting.compound_id,
            seq,
            kind: posting.kind,
            reference: &posting.reference,
            memo: &posting.memo,
            posted_at_micros: at.timestamp_micros(),
            posted_by: posting.posted_by,
            lines: &posting.lines,
        });
        let entry_id = ids.next(&JOURNAL_ENTRIES);
        for line in &posting.lines {
            batch.push(&JOURNAL_LINES, row![
                ids.next(&JOURNAL_LINES), entry_id, posting.compound_id, line.account.code(), line.unit_id, line.fee_item_id, line.debit, line.credit,
            ]);
        }
        let prev_hash = std::mem::replace(&mut self.last_hash, hash.clone());
        batch.push(&JOURNAL_ENTRIES, row![
            entry_id, posting.company_id, posting.compound_id, seq, posting.kind, posting.reference, posting.memo, at, posting.posted_by, prev_hash, hash,
        ]);
        self.seq = seq;
        entry_id
    }
}

impl Generator {
    /// The property fee billed monthly for a year, paid by each owner's habit, and the
    /// compound's journal: each month's bill run, then each payment, in the order they happened.
    fn bills_and_payments(&mut self, rng: &mut StdRng, batch: &mut Batch, staff: usize, compound_id: i64, flats: &[Flat]) {
        let (company_id, cashier) = (self.staff[staff].company_id, self.staff[staff].cashier);
        let item = fee_item::Model {
            id: self.ids.next(&FEE_ITEMS),
            company_id,
            compound_id,
            name: "物业费".into(),
            kind: "rate_area".into(),
            rate: Some(pick(rng, &RATES).to_string()),
            amount: None,
            split: None,
            floor_coefficients: None,
            scope_kind: "compound".into(),
            scope_ids: "[]".into(),
            unit_uses: r#"["residential","commercial"]"#.into(),
            cycle: "monthly".into(),
            due_days: 15,
            rounding: "half_up".into(),
            late_fee_daily_rate: None,
            late_fee_grace_days: 0,
            late_fee_cap: None,
            // The local rule that a flat left empty pays 70%, in half the compounds.
            vacancy_ratio: rng.random_bool(0.5).then(|| "0.70".to_string()),
            effective_from: self.periods[0].first_day(),
            effective_to: None,
            credit_account: None,
            created_at: self.registered(),
        };
        batch.push(&FEE_ITEMS, row![
            item.id, company_id, compound_id, item.name.as_str(), item.kind.as_str(), item.rate.clone(), item.amount, item.split.clone(),
            item.floor_coefficients.clone(), item.scope_kind.as_str(), item.scope_ids.as_str(), item.unit_uses.as_str(), item.cycle.as_str(),
            item.due_days, item.rounding.as_str(), item.late_fee_daily_rate.clone(), item.late_fee_grace_days, item.late_fee_cap.clone(),
            item.vacancy_ratio.clone(), item.effective_from, item.effective_to, item.credit_account.clone(), item.created_at,
        ]);
        // The amounts as the bill run works them out.
        let rule = billing::fee_rule(&item).expect("a valid fee item");
        let basis: Vec<UnitBasis> = flats.iter().map(|f| f.basis.clone()).collect();
        let (charged, _) = billing::rules::charge_units(&rule, &basis, 1, &BTreeMap::new()).expect("charges");
        let total: i64 = charged.iter().map(|c| c.amount.fen()).sum();

        // The monthly job runs at 01:00 on the first; bill ids go run by run.
        let runs: Vec<(i64, DateTime<Utc>)> = self.periods.iter().map(|p| (self.ids.next(&BILL_RUNS), local(p.first_day(), 3600))).collect();
        let bill_ids: Vec<Vec<i64>> = {
            let mut by_month = vec![Vec::with_capacity(charged.len()); runs.len()];
            for month in by_month.iter_mut() {
                month.extend(charged.iter().map(|_| self.ids.next(&BILLS)));
            }
            (0..charged.len()).map(|u| by_month.iter().map(|m| m[u]).collect()).collect()
        };
        let mut events: Vec<(DateTime<Utc>, Event)> = runs.iter().enumerate().map(|(n, (_, at))| (*at, Event::Run(n))).collect();
        let mut methods = Vec::with_capacity(charged.len());
        for (u, charge) in charged.iter().enumerate() {
            let habit = match rng.random_range(0..100) {
                _ if charge.payer == billing::rules::Payer::Developer => Habit::Never,
                0..30 => Habit::Every(1),
                30..55 => Habit::Every(3),
                55..70 => Habit::Every(6),
                70..85 => Habit::Every(12),
                85..95 => Habit::StopsAfter(rng.random_range(0..9)),
                _ => Habit::Never,
            };
            // Half pay by bank transfer, a quarter each at the desk by card and in cash.
            methods.push(*pick(rng, &[0, 1, 2, 2]));
            for month in 0..runs.len() {
                let pays = match habit {
                    Habit::Every(n) => (month + 1) % n == 0,
                    Habit::StopsAfter(months) => month < months,
                    Habit::Never => false,
                };
                let at = local(self.periods[month].first_day() + Duration::days(rng.random_range(1..26)), rng.random_range(8 * 3600..20 * 3600));
                if pays && at <= self.now {
                    events.push((at, Event::Payment { charge: u, through: month }));
                }
            }
        }
        events.sort_by_key(|(at, _)| *at);

        let mut chain = Chain { seq: 0, last_hash: String::new() };
        let mut receipts: BTreeMap<i32, i64> = BTreeMap::new();
        let mut paid_on = vec![vec![None; runs.len()]; charged.len()];
        // The months each unit has paid so far, from the first.
        let mut paid_months = vec![0; charged.len()];
        for (at, event) in events {
            match event {
                Event::Run(n) => {
                    let mut lines: Vec<Line> = charged.iter().map(|c| Line::debit(Account::Receivable, c.amount.fen()).unit(c.unit_id).fee_item(item.id)).collect();
                    lines.push(Line::credit(Account::FeeRevenue, total).fee_item(item.id));
                    let reference = format!("bill_run:{}", runs[n].0);
                    let memo = format!("bills for {}", self.periods[n]);
                    batch.push(&BILL_RUNS, row![runs[n].0, company_id, compound_id, self.periods[n].to_string(), 0i64, charged.len() as i64, total, at]);
                    let posting = ledger::Posting { company_id, compound_id, kind: "bill_run", reference, memo, posted_by: 0, lines };
                    chain.post(&mut self.ids, batch, posting, at);
                }
                Event::Payment { charge: u, through } => {
                    let months = paid_months[u]..through + 1;
                    let (charge, (method, account)) = (&charged[u], METHODS[methods[u]]);
                    let amount = charge.amount.fen() * months.len() as i64;
                    let payment_id = self.ids.next(&PAYMENTS);
                    let mut lines = vec![Line::debit(account, amount)];
                    lines.extend(months.clone().map(|_| Line::credit(Account::Receivable, charge.amount.fen()).unit(charge.unit_id).fee_item(item.id)));
                    let posting = ledger::Posting {
                        company_id,
                        compound_id,
                        kind: "payment",
                        reference: format!("payment:{payment_id}"),
                        memo: format!("{method} {}", Money::from_fen(amount)),
                        posted_by: cashier,
                        lines,
                    };
                    let entry_id = chain.post(&mut self.ids, batch, posting, at);
                    batch.push(&PAYMENTS, row![
                        payment_id, company_id, compound_id, charge.unit_id, method, amount, at, cashier, "posted", None::<String>, None::<i64>, entry_id, at,
                    ]);
                    for month in months {
                        batch.push(&PAYMENT_ALLOCATIONS, row![self.ids.next(&PAYMENT_ALLOCATIONS), compound_id, payment_id, bill_ids[u][month], charge.amount.fen(), 0i64]);
                        paid_on[u][month] = Some(local_day(at));
                    }
                    let year = local_day(at).year();
                    let number = receipts.entry(year).or_default();
                    *number += 1;
                    batch.push(&RECEIPTS, row![self.ids.next(&RECEIPTS), compound_id, year, *number, payment_id, None::<DateTime<Utc>>, None::<String>, at]);
                    paid_months[u] = through + 1;
                }
            }
        }
        for (n, period) in self.periods.iter().enumerate() {
            let due = period.first_day() + Duration::days(item.due_days as i64);
            for (u, charge) in charged.iter().enumerate() {
                // Paying writes the late fee down to the day, as `receive` does.
                let paid_on = paid_on[u][n];
                let paid = if paid_on.is_some() { charge.amount.fen() } else { 0 };
                batch.push(&BILLS, row![
                    bill_ids[u][n], company_id, compound_id, charge.unit_id, item.id, period.to_string(), runs[n].0, charge.payer.as_str(),
                    charge.amount.fen(), 0i64, paid, 0i64, 0i64, 0i64, paid_on, 0i64, due, runs[n].1,
                ]);
            }
        }
        batch.push(&LEDGER_HEADS, row![compound_id, chain.seq, chain.last_hash]);
        for (year, last) in receipts {
            batch.push(&RECEIPT_COUNTERS, row![compound_id, year, last]);
        }
    }
}

/// A ticket's life as it would go: most are triaged, assigned, worked on, resolved and closed
/// by the auto-close a week later; some wait on hold for parts; a few are cancelled or rejected.
fn ticket_plan(rng: &mut StdRng, created: DateTime<Utc>, targets: wuye::tickets::Targets, desk: (i64, &'static str), technician: i64) -> Vec<Step> {
    fn minutes(rng: &mut StdRng, low: i64, high: i64) -> Duration {
        Duration::minutes(rng.random_range(low..high.max(low + 1)))
    }
    let fate = rng.random_range(0..100);
    let accepted = created + minutes(rng, 2, targets.response_minutes as i64 * 6 / 5);
    if fate < 3 {
        return vec![Step { at: created + minutes(rng, 5, 180), to: Status::Cancelled, actor: desk, note: Some("业主来电：已自行处理，撤销报修") }];
    }
    if fate < 5 {
        return vec![Step { at: accepted, to: Status::Rejected, actor: desk, note: Some("不属于物业维修范围，已告知业主联系供电或燃气公司") }];
    }
    let worker = (technician, "technician");
    let mut steps = vec![Step { at: accepted, to: Status::Accepted, actor: desk, note: None }];
    let mut at = accepted + minutes(rng, 10, 90);
    steps.push(Step { at, to: Status::Assigned, actor: desk, note: None });
    at += minutes(rng, 20, 24 * 60);
    steps.push(Step { at, to: Status::InProgress, actor: worker, note: None });
    if fate < 12 {
        at += minutes(rng, 30, 240);
        steps.push(Step { at, to: Status::OnHold, actor: worker, note: Some("等待配件到货") });
        at += minutes(rng, 24 * 60, 4 * 24 * 60);
        steps.push(Step { at, to: Status::InProgress, actor: worker, note: None });
    }
    at += minutes(rng, 30, targets.resolution_minutes as i64 * 11 / 10);
    steps.push(Step { at, to: Status::Resolved, actor: worker, note: None });
    at += Duration::days(7) + minutes(rng, 0, 60);
    steps.push(Step { at, to: Status::Closed, actor: (0, "system"), note: Some("closed automatically 7 days after it was resolved") });
    steps
}

/// A ticket's history event: by whom, kind, from, to, note, when.
type TicketEvent = ((i64, &'static str), &'static str, Option<&'static str>, Option<String>, Option<String>, DateTime<Utc>);

impl Generator {
    /// Tickets filed over the year by the service desk for the compound's owners, each as far
    /// along its life as it has got by now, with its history.
    fn tickets(&mut self, rng: &mut StdRng, batch: &mut Batch, staff: usize, compound_id: i64, flats: &[Flat], count: u64) {
        let (company_id, desk) = (self.staff[staff].company_id, (self.staff[staff].dispatcher, "dispatcher"));
        let technicians = self.staff[staff].technicians.clone();
        let year_start = local(self.periods[0].first_day(), 0);
        let span = (self.now - year_start).num_seconds();
        let mut filed: Vec<DateTime<Utc>> = (0..count).map(|_| year_start + Duration::seconds(rng.random_range(0..span))).collect();
        filed.sort();
        let weights: u32 = CATEGORIES.iter().map(|c| c.1).sum();
        for created in filed {
            let flat = pick(rng, flats);
            let mut roll = rng.random_range(0..weights);
            let mut categories = CATEGORIES.iter();
            let (category, reports) = loop {
                let (category, weight, reports) = categories.next().expect("a category");
                if roll < *weight {
                    break (*category, reports);
                }
                roll -= weight;
            };
            let location = match category {
                Category::Plumbing | Category::Electrical | Category::Gas => "in_unit",
                Category::Walls | Category::Doors | Category::RoofLeak if rng.random_bool(0.5) => "in_unit",
                _ => "common_area",
            };
            let urgency = match rng.random_range(0..100) {
                0..3 => Urgency::Emergency,
                3..15 => Urgency::Urgent,
                15..95 => Urgency::Normal,
                _ => Urgency::Low,
            };
            let priority = category.default_priority(urgency);
            let targets = default_targets(category, priority);
            let technician = pick(rng, &technicians).clone();
            let steps = ticket_plan(rng, created, targets, desk, technician.0);

            let ticket_id = self.ids.next(&TICKETS);
            let response_due = created + targets.response();
            let mut resolution_due = created + targets.resolution();
            let mut events: Vec<TicketEvent> = vec![(desk, "filed", None, Some(Status::Submitted.as_str().into()), None, created)];
            let (mut status, mut version, mut updated) = (Status::Submitted, 1, created);
            let (mut accepted_at, mut resolved_at, mut closed_at, mut paused_at, mut assignee, mut reason) = (None, None, None, None, None, None);
            let mut paused_seconds = 0;
            for step in steps.iter().take_while(|s| s.at <= self.now) {
                match step.to {
                    Status::Accepted => accepted_at = Some(step.at),
                    Status::Assigned => {
                        assignee = Some(technician.0);
                        events.push((desk, "assignee", None, Some(technician.0.to_string()), Some(technician.1.clone()), step.at));
                    }
                    Status::OnHold => {
                        paused_at = Some(step.at);
                        reason = step.note;
                    }
                    Status::InProgress => {
                        if let Some(since) = paused_at.take() {
                            let paused = (step.at - since).num_seconds();
                            paused_seconds += paused;
                            resolution_due += Duration::seconds(paused);
                        }
                    }
                    Status::Resolved => resolved_at = Some(step.at),
                    Status::Closed => closed_at = Some(step.at),
                    Status::Cancelled | Status::Rejected => {
                        closed_at = Some(step.at);
                        reason = step.note;
                    }
                    Status::Submitted | Status::Reopened => {}
                }
                events.push((step.actor, "status", Some(status.as_str()), Some(step.to.as_str().into()), step.note.map(String::from), step.at));
                (status, version, updated) = (step.to, version + 1, step.at);
            }
            // The SLA job escalates a missed deadline within minutes of it.
            let late = Duration::minutes(5);
            let answered = accepted_at.or(closed_at).unwrap_or(self.now);
            let response_escalated_at = (answered > response_due + late).then_some(response_due + late);
            let done = resolved_at.or(closed_at).or(paused_at).unwrap_or(self.now);
            let resolution_escalated_at = accepted_at.and((done > resolution_due + late).then_some(resolution_due + late));
            let due_at = if accepted_at.is_some() { resolution_due } else { response_due };
            batch.push(&TICKETS, row![
                ticket_id, company_id, compound_id, flat.basis.unit_id, flat.owner_id, desk.0, category.as_str(), location, None::<String>,
                *pick(rng, reports), urgency.as_str(), None::<String>, status.as_str(), priority.as_str(), assignee, version, response_due,
                resolution_due, due_at, accepted_at, resolved_at, closed_at, paused_at, paused_seconds, response_escalated_at,
                resolution_escalated_at, 0i32, reason, None::<i32>, None::<String>, None::<String>, None::<DateTime<Utc>>, None::<String>,
                None::<i64>, created, updated,
            ]);
            for (actor, kind, from, to, note, at) in events {
                batch.push(&TICKET_EVENTS, row![self.ids.next(&TICKET_EVENTS), ticket_id, compound_id, actor.0, actor.1, kind, from, to, note, false, at]);
            }
        }
    }
}

/// What [`build`] made and how fast.
pub struct Report {
    pub compounds: u64,
    pub units: u64,
    /// Per table: rows, and seconds spent writing them (by all writers together).
    pub tables: BTreeMap<&'static str, (u64, f64)>,
    /// From the first row computed to the last written, sequences and statistics included.
    pub seconds: f64,
    /// The ledger of the compound in the middle, verified.
    pub sample: ledger::Verification,
}

impl Report {
    pub fn rows(&self) -> u64 {
        self.tables.values().map(|(rows, _)| rows).sum()
    }
}

/// Builds the data set on `db`: about `units` units (whole compounds of 330) and `tickets`
/// tickets. Panics on any failure: it is for benches.
pub async fn build(db: &DatabaseConnection, units: u64, tickets: u64) -> Report {
    let started = Instant::now();
    let backend = db.get_database_backend();
    let compounds = units.div_ceil(UNITS_PER_COMPOUND).max(1);
    let written: Written = Arc::default();
    let mut generator = Generator::new(Ids::after_existing(db).await, compounds, tickets);
    let password_hash = wuye::auth::hash_password(PASSWORD.into()).await.expect("hash the password");
    let mut first = Batch::default();
    generator.companies(compounds.div_ceil(COMPOUNDS_PER_COMPANY), &password_hash, &mut first);
    write(db, first.encode(backend), &written).await;
    let sample = generator.ids.0[COMPOUNDS.name] + compounds.div_ceil(2) as i64;

    // The generator's thread computes the next batches while the writers write.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Vec<Encoded>>(2);
    let generating = std::thread::spawn(move || {
        for start in (0..compounds).step_by(COMPOUNDS_PER_BATCH as usize) {
            let mut batch = Batch::default();
            for k in start..(start + COMPOUNDS_PER_BATCH).min(compounds) {
                generator.compound(k, &mut batch);
            }
            if sender.blocking_send(batch.encode(backend)).is_err() {
                return;
            }
        }
    });
    // SQLite has one connection (and one writer); PostgreSQL takes two batches at once.
    let writers = if backend == DatabaseBackend::Postgres { 2 } else { 1 };
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers {
        let (db, receiver, written) = (db.clone(), receiver.clone(), written.clone());
        tasks.spawn(async move {
            loop {
                let Some(batch) = receiver.lock().await.recv().await else { return };
                write(&db, batch, &written).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a writer");
    }
    generating.join().expect("the generator");

    if backend == DatabaseBackend::Postgres {
        // Rows came with their ids: move each sequence past them (SQLite's AUTOINCREMENT follows
        // by itself). Then fresh statistics, as after any bulk load.
        for table in TABLES.iter().filter(|t| t.columns[0] == "id") {
            let name = table.name;
            db.execute_unprepared(&format!("SELECT setval(pg_get_serial_sequence('{name}', 'id'), MAX(id)) FROM {name}")).await.expect("setval");
        }
        db.execute_unprepared("ANALYZE").await.expect("ANALYZE");
    }
    let seconds = started.elapsed().as_secs_f64();
    let sample = ledger::verify(db, sample).await.expect("verify a sample ledger");
    let tables = written.lock().unwrap().clone();
    Report { compounds, units: compounds * UNITS_PER_COMPOUND, tables, seconds, sample }
}
