//! Audit desk endpoints (tag `audit`): every report as JSON and, at the same path with `.csv`,
//! as a CSV file (UTF-8 with a byte-order mark, so that Excel in China opens it); the collection
//! and arrears aging also, with `.svg`, as bar charts for the committee desk. Read-only, but for
//! publishing the annual disclosure pack as a notice.
use chrono::{NaiveDate, SecondsFormat};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Header, Path, Query},
    payload::{Binary, Json, PlainText},
};
use serde::Deserialize;

use super::{
    AgingBuckets, AnnualPack, ArrearsAging, CollectionFigures, CollectionReport, FundMovementsReport, FundProjectsReport, IncomeStatement, StaffActionFilter,
    StaffActionPage, chart, compound_for_audit,
};
use crate::{
    AppState,
    auth::api::BearerAuth,
    error::{ApiError, Error},
    funds::{
        self,
        api::CompoundFundView,
    },
    http::{Area as Tag, JsonBody},
    ledger::api::verification_view,
    payments::api::CsvFile,
    registry::api::OwnerView,
    types::{Money, Period},
};

pub struct AuditApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object, Deserialize)]
pub struct Publication {
    /// The year whose pack is published, e.g. 2026.
    pub year: i32,
}

#[derive(Object)]
pub struct PublishedPack {
    pub notice_id: i64,
    pub title: String,
    /// annual_accounts
    pub category: String,
    pub status: String,
}

#[derive(ApiResponse)]
pub enum SvgChart {
    /// A bar chart, titled and described for screen readers.
    #[oai(status = 200, content_type = "image/svg+xml; charset=utf-8")]
    Ok(PlainText<String>),
}

/// A CSV file being written: UTF-8 with a byte-order mark; sections may differ in width.
struct Csv(csv::Writer<Vec<u8>>);

impl Csv {
    fn new() -> Csv {
        Csv(csv::WriterBuilder::new().flexible(true).from_writer(b"\xEF\xBB\xBF".to_vec()))
    }

    fn row<I: IntoIterator<Item = String>>(&mut self, cells: I) -> Result<(), Error> {
        self.0.write_record(cells).map_err(|e| Error::Internal(e.into()))
    }

    fn file(self, name: String) -> Result<CsvFile, ApiError> {
        let bytes = self.0.into_inner().map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
        Ok(CsvFile::Ok(Binary(bytes), format!("attachment; filename=\"{name}.csv\"")))
    }
}

/// Text someone typed, made safe for a spreadsheet: a cell that would start a formula
/// (`=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading apostrophe.
fn text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() }
}

fn money(value: Money) -> String {
    value.to_string()
}

fn rate(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn owners(list: &[OwnerView]) -> (String, String) {
    let names = list.iter().map(|o| text(&o.name)).collect::<Vec<_>>().join("、");
    let phones = list.iter().filter_map(|o| o.phone.clone()).collect::<Vec<_>>().join("、");
    (names, phones)
}

const FIGURES_HEADER: [&str; 6] = ["bills", "billed", "collected", "outstanding", "collection_rate_percent", "late_fees_collected"];

fn figures(f: &CollectionFigures) -> [String; 6] {
    [f.bills.to_string(), money(f.billed), money(f.collected), money(f.outstanding), rate(&f.collection_rate), money(f.late_fees_collected)]
}

fn header<const N: usize>(cells: [&str; N]) -> impl Iterator<Item = String> {
    cells.into_iter().map(str::to_string)
}

fn collection_csv(report: &CollectionReport) -> Result<Csv, Error> {
    let mut csv = Csv::new();
    csv.row(header(["period", "fee_item_id", "fee_item"]).chain(header(FIGURES_HEADER)))?;
    for row in &report.rows {
        csv.row([row.period.to_string(), row.fee_item_id.to_string(), text(&row.fee_item)].into_iter().chain(figures(&row.figures)))?;
    }
    for item in &report.by_fee_item {
        csv.row([format!("{}..{}", report.from, report.to), item.fee_item_id.to_string(), text(&item.fee_item)].into_iter().chain(figures(&item.figures)))?;
    }
    csv.row([format!("{}..{}", report.from, report.to), String::new(), "合计 total".into()].into_iter().chain(figures(&report.total)))?;
    Ok(csv)
}

fn buckets(b: &AgingBuckets) -> impl Iterator<Item = String> {
    b.amounts().into_iter().map(money)
}

fn aging_csv(report: &ArrearsAging) -> Result<Csv, Error> {
    let mut csv = Csv::new();
    csv.row(header(["unit_id", "unit", "developer_held", "owners", "phones", "bills", "oldest_due"]).chain(header(AgingBuckets::NAMES)).chain(header(["total"])))?;
    for unit in &report.units {
        let (mut names, phones) = owners(&unit.owners);
        if unit.developer_held && names.is_empty() {
            names = "开发商 developer".into();
        }
        csv.row(
            [unit.unit_id.to_string(), text(&unit.unit), unit.developer_held.to_string(), names, phones, unit.bills.to_string(), unit.oldest_due.to_string()]
                .into_iter()
                .chain(buckets(&unit.buckets))
                .chain([money(unit.total)]),
        )?;
    }
    let blank = || String::new();
    csv.row([blank(), format!("合计 total as of {}", report.as_of), blank(), blank(), blank(), blank(), blank()].into_iter().chain(buckets(&report.totals)).chain([money(report.total)]))?;
    Ok(csv)
}

fn income_csv(s: &IncomeStatement) -> Result<Csv, Error> {
    let mut csv = Csv::new();
    let range = format!("{}..{}", s.from, s.to);
    csv.row(header(["section", "item", "amount"]))?;
    let line = |csv: &mut Csv, section: &str, item: String, amount: Money| csv.row([section.to_string(), item, money(amount)]);
    for f in &s.company.fee_revenue {
        line(&mut csv, "company: fee revenue 物业服务收入 (6001)", text(&f.fee_item), f.amount)?;
    }
    line(&mut csv, "company: fee revenue 物业服务收入 (6001)", "total".into(), s.company.fee_revenue_total)?;
    line(&mut csv, "company: late fees 滞纳金收入 (6051)", "total".into(), s.company.late_fees)?;
    line(&mut csv, "company 公司收入合计", "total".into(), s.company.total)?;
    let owners = &s.owners_common_income;
    for r in &owners.received {
        line(&mut csv, "owners: common-area income received 公共收益 (2241)", r.source.clone(), r.amount)?;
    }
    line(&mut csv, "owners: common-area income received 公共收益 (2241)", "total".into(), owners.received_total)?;
    line(&mut csv, "owners: moved to the maintenance fund 转入维修资金", "total".into(), owners.moved_to_fund)?;
    line(&mut csv, "owners: held at the end 期末结存", "total".into(), owners.held_at_end)?;
    let fund = &s.maintenance_fund;
    line(&mut csv, "fund: opening balance 维修资金期初", "total".into(), fund.opening_balance)?;
    for k in &fund.inflows {
        line(&mut csv, "fund: in 维修资金收入", k.kind.clone(), k.amount)?;
    }
    line(&mut csv, "fund: in 维修资金收入", "total".into(), fund.inflow_total)?;
    for k in &fund.outflows {
        line(&mut csv, "fund: out 维修资金支出", k.kind.clone(), k.amount)?;
    }
    line(&mut csv, "fund: out 维修资金支出", "total".into(), fund.outflow_total)?;
    line(&mut csv, "fund: closing balance 维修资金期末", "total".into(), fund.closing_balance)?;
    line(&mut csv, "elevator-retrofit shares billed 代收加装电梯款 (2243)", "total".into(), s.elevator_shares_billed)?;
    for note in &s.notes {
        csv.row(["note".to_string(), note.clone(), range.clone()])?;
    }
    Ok(csv)
}

fn fund_csv(view: &CompoundFundView) -> Result<Csv, Error> {
    let mut csv = Csv::new();
    let check = &view.check;
    csv.row(header(["check", "control_account", "sub_ledger_total", "fund_bank", "agrees"]))?;
    csv.row(["check".to_string(), money(check.control_account), money(check.sub_ledger_total), money(check.fund_bank), check.agrees.to_string()])?;
    for m in &check.mismatches {
        csv.row(["mismatch".to_string(), m.unit_id.map(|u| u.to_string()).unwrap_or_default(), money(m.sub_ledger), money(m.journal)])?;
    }
    csv.row(header(["unit_id", "unit", "developer_held", "owners", "initial_deposit", "balance", "top_up_line", "needs_top_up"]))?;
    for u in &view.units {
        let owners = u.owners.iter().map(|o| text(o)).collect::<Vec<_>>().join("、");
        let optional = |m: Option<Money>| m.map(money).unwrap_or_default();
        csv.row([
            u.unit_id.to_string(),
            text(&u.unit),
            u.developer_held.to_string(),
            owners,
            optional(u.initial_deposit),
            money(u.balance),
            optional(u.top_up_line),
            u.needs_top_up.to_string(),
        ])?;
    }
    Ok(csv)
}

fn movements_csv(report: &FundMovementsReport) -> Result<Csv, Error> {
    let mut csv = Csv::new();
    csv.row(header(["id", "occurred_on", "unit_id", "unit", "kind", "amount", "balance_after", "reference", "memo", "journal_entry_id", "recorded_by", "created_at"]))?;
    for m in &report.movements {
        csv.row([
            m.id.to_string(),
            m.occurred_on.to_string(),
            m.unit_id.to_string(),
            text(&m.unit),
            m.kind.clone(),
            money(m.amount),
            money(m.balance_after),
            text(&m.reference),
            text(&m.memo),
            m.journal_entry_id.to_string(),
            m.recorded_by.to_string(),
            m.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        ])?;
    }
    for k in &report.by_kind {
        csv.row(["total".to_string(), String::new(), String::new(), String::new(), k.kind.clone(), money(k.amount)])?;
    }
    csv.row(["total".to_string(), String::new(), String::new(), String::new(), "all".into(), money(report.total)])?;
    Ok(csv)
}

fn projects_csv(report: &FundProjectsReport) -> Result<Csv, Error> {
    let mut csv = Csv::new();
    csv.row(header(["project_id", "title", "status", "emergency", "budget", "actual_cost", "settled_at", "shares_are", "unit_id", "unit", "area", "share", "payer"]))?;
    for p in &report.projects {
        let project = [
            p.id.to_string(),
            text(&p.title),
            p.status.clone(),
            p.emergency.clone().unwrap_or_default(),
            money(p.budget),
            p.actual_cost.map(money).unwrap_or_default(),
            p.settled_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)).unwrap_or_default(),
            p.shares_are.clone(),
        ];
        for s in &p.shares {
            let share = [s.unit_id.to_string(), text(&s.unit), s.area.map(|a| a.to_string()).unwrap_or_default(), money(s.share), s.payer.clone()];
            csv.row(project.iter().cloned().chain(share))?;
        }
        csv.row(project.iter().cloned().chain([String::new(), "合计 total".into(), String::new(), money(p.shares_total), String::new()]))?;
    }
    Ok(csv)
}

fn annual_pack_csv(pack: &AnnualPack) -> Result<Csv, Error> {
    let mut csv = Csv::new();
    csv.row([text(&pack.compound), format!("{} 年度账目公示 annual accounts", pack.year)])?;
    csv.row(header(["section", "fee_item_id", "fee_item"]).chain(header(FIGURES_HEADER)))?;
    for f in &pack.fees {
        csv.row(["fees 物业费收缴".to_string(), f.fee_item_id.to_string(), text(&f.fee_item)].into_iter().chain(figures(&f.figures)))?;
    }
    csv.row(["fees 物业费收缴".to_string(), String::new(), "合计 total".into()].into_iter().chain(figures(&pack.fees_total)))?;
    csv.row(header(["section", "item", "amount"]))?;
    let o = &pack.owners_common_income;
    for s in &o.received {
        csv.row(["common-area income 公共收益".to_string(), s.source.clone(), money(s.amount)])?;
    }
    csv.row(["common-area income 公共收益".to_string(), "received".into(), money(o.received_total)])?;
    csv.row(["common-area income 公共收益".to_string(), "moved_to_fund".into(), money(o.moved_to_fund)])?;
    csv.row(["common-area income 公共收益".to_string(), "held_at_year_end".into(), money(o.held_at_end)])?;
    let f = &pack.maintenance_fund;
    csv.row(["maintenance fund 维修资金".to_string(), "opening_balance".into(), money(f.opening_balance)])?;
    for k in f.inflows.iter().chain(&f.outflows) {
        let direction = if f.outflows.iter().any(|o| o.kind == k.kind) { "out" } else { "in" };
        csv.row(["maintenance fund 维修资金".to_string(), format!("{direction}: {}", k.kind), money(k.amount)])?;
    }
    csv.row(["maintenance fund 维修资金".to_string(), "closing_balance".into(), money(f.closing_balance)])?;
    let y = &pack.fund_year_end;
    csv.row(["fund at year end 年末账面".to_string(), "control_account".into(), money(y.control_account)])?;
    csv.row(["fund at year end 年末账面".to_string(), "sub_ledger_total".into(), money(y.sub_ledger_total)])?;
    csv.row(["fund at year end 年末账面".to_string(), "agrees".into(), y.agrees.to_string()])?;
    csv.row(header(["section", "project_id", "title", "settled_on", "budget", "actual_cost", "units"]))?;
    for p in &pack.projects_settled {
        csv.row([
            "projects settled 维修资金使用".to_string(),
            p.id.to_string(),
            text(&p.title),
            p.settled_on.to_string(),
            money(p.budget),
            money(p.actual_cost),
            p.units.to_string(),
        ])?;
    }
    csv.row(["projects settled 维修资金使用".to_string(), String::new(), "合计 total".into(), String::new(), String::new(), money(pack.projects_settled_total)])?;
    for note in &pack.notes {
        csv.row(["note".to_string(), note.clone()])?;
    }
    Ok(csv)
}

fn staff_actions_csv(items: &[super::StaffActionView]) -> Result<Csv, Error> {
    let mut csv = Csv::new();
    csv.row(header(["id", "at", "user_id", "user_name", "role", "method", "path", "status", "ip", "user_agent", "request", "before", "after"]))?;
    for a in items {
        let body = |b: &Option<String>| b.as_deref().map(text).unwrap_or_default();
        csv.row([
            a.id.to_string(),
            a.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            a.user_id.to_string(),
            text(&a.user_name),
            a.role.clone(),
            a.method.clone(),
            text(&a.path),
            a.status.map(|s| s.to_string()).unwrap_or_default(),
            text(&a.ip),
            text(&a.user_agent),
            body(&a.request),
            body(&a.before),
            body(&a.after),
        ])?;
    }
    Ok(csv)
}

/// Ticket figures as CSV cells: counts, minutes, percentages with one decimal, the mean rating
/// with two.
fn ticket_figures(f: &crate::tickets::Figures) -> [String; 10] {
    let minutes = |m: Option<i64>| m.map(|m| m.to_string()).unwrap_or_default();
    let share = |p: Option<f64>| p.map(|p| format!("{p:.1}")).unwrap_or_default();
    [
        f.filed.to_string(),
        f.resolved.to_string(),
        minutes(f.response_median),
        minutes(f.response_p90),
        minutes(f.resolution_median),
        minutes(f.resolution_p90),
        share(f.sla_met_percent),
        f.ratings.to_string(),
        f.rating_mean.map(|m| format!("{m:.2}")).unwrap_or_default(),
        share(f.reopened_percent),
    ]
}

impl AuditApi {
    async fn fund_view(&self, auth: &BearerAuth, id: i64) -> Result<CompoundFundView, Error> {
        let db = &self.0.db;
        let compound = compound_for_audit(db, &auth.0, id).await?;
        funds::api::compound_fund_view(db, compound.id).await
    }

    async fn collection(&self, auth: &BearerAuth, id: i64, from: Period, to: Period) -> Result<CollectionReport, Error> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id).await?;
        super::collection(&self.0.db, &compound, from, to).await
    }

    async fn aging(&self, auth: &BearerAuth, id: i64, as_of: Option<NaiveDate>) -> Result<ArrearsAging, Error> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id).await?;
        super::arrears_aging(&self.0.db, &auth.0, &compound, as_of).await
    }

    async fn income(&self, auth: &BearerAuth, id: i64, from: NaiveDate, to: NaiveDate) -> Result<IncomeStatement, Error> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id).await?;
        super::income_statement(&self.0.db, &compound, from, to).await
    }

    async fn movements(&self, auth: &BearerAuth, id: i64) -> Result<FundMovementsReport, Error> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id).await?;
        super::fund_movements(&self.0.db, &compound).await
    }

    async fn projects(&self, auth: &BearerAuth, id: i64) -> Result<FundProjectsReport, Error> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id).await?;
        super::fund_projects(&self.0.db, &auth.0, &compound).await
    }

    async fn pack(&self, auth: &BearerAuth, id: i64, year: i32) -> Result<AnnualPack, Error> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id).await?;
        super::annual_pack(&self.0.db, &compound, year).await
    }
}

#[OpenApi(tag = "Tag::Audit")]
impl AuditApi {
    /// Collection by period and fee item: billed (amounts plus adjustments), collected
    /// (principal paid), outstanding and the collection rate, for bills of the periods from
    /// `from` to `to`, as they stand now.
    #[oai(path = "/compounds/:id/audit/collection", method = "get")]
    async fn collection_json(&self, auth: BearerAuth, id: Path<i64>, from: Query<Period>, to: Query<Period>) -> Reply<CollectionReport> {
        Ok(Json(self.collection(&auth, id.0, from.0, to.0).await?))
    }

    /// The collection report as a CSV file.
    #[oai(path = "/compounds/:id/audit/collection.csv", method = "get")]
    async fn collection_csv(&self, auth: BearerAuth, id: Path<i64>, from: Query<Period>, to: Query<Period>) -> Result<CsvFile, ApiError> {
        let report = self.collection(&auth, id.0, from.0, to.0).await?;
        collection_csv(&report)?.file(format!("collection-{}-{}-{}", report.compound_id, report.from, report.to))
    }

    /// The collection rate of each period (all fee items together) and of the whole range, as
    /// an SVG bar chart.
    #[oai(path = "/compounds/:id/audit/collection.svg", method = "get")]
    async fn collection_svg(&self, auth: BearerAuth, id: Path<i64>, from: Query<Period>, to: Query<Period>) -> Result<SvgChart, ApiError> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id.0).await?;
        let report = super::collection(&self.0.db, &compound, from.0, to.0).await?;
        Ok(SvgChart::Ok(PlainText(chart::collection_chart(&compound.name, &report))))
    }

    /// Arrears aging: every unit with principal overdue at the end of `as_of` (today in the
    /// compound when left out), in buckets of days past due (0-30, 31-90, 91-180, over 180),
    /// with its owners (phones masked for the committee).
    #[oai(path = "/compounds/:id/audit/arrears-aging", method = "get")]
    async fn aging_json(&self, auth: BearerAuth, id: Path<i64>, as_of: Query<Option<NaiveDate>>) -> Reply<ArrearsAging> {
        Ok(Json(self.aging(&auth, id.0, as_of.0).await?))
    }

    /// Arrears aging as a CSV file.
    #[oai(path = "/compounds/:id/audit/arrears-aging.csv", method = "get")]
    async fn aging_csv(&self, auth: BearerAuth, id: Path<i64>, as_of: Query<Option<NaiveDate>>) -> Result<CsvFile, ApiError> {
        let report = self.aging(&auth, id.0, as_of.0).await?;
        aging_csv(&report)?.file(format!("arrears-aging-{}-{}", report.compound_id, report.as_of))
    }

    /// Arrears aging by days past due, as an SVG bar chart.
    #[oai(path = "/compounds/:id/audit/arrears-aging.svg", method = "get")]
    async fn aging_svg(&self, auth: BearerAuth, id: Path<i64>, as_of: Query<Option<NaiveDate>>) -> Result<SvgChart, ApiError> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id.0).await?;
        let report = super::arrears_aging(&self.0.db, &auth.0, &compound, as_of.0).await?;
        Ok(SvgChart::Ok(PlainText(chart::aging_chart(&compound.name, &report))))
    }

    /// Income and expense statement from `from` to `to`: the company's fee revenue by fee item
    /// and late fees, the owners' common-area income kept apart, the maintenance fund's money in
    /// and out, and elevator-retrofit shares billed. The company's own expenses are not kept here.
    #[oai(path = "/compounds/:id/audit/income-statement", method = "get")]
    async fn income_json(&self, auth: BearerAuth, id: Path<i64>, from: Query<NaiveDate>, to: Query<NaiveDate>) -> Reply<IncomeStatement> {
        Ok(Json(self.income(&auth, id.0, from.0, to.0).await?))
    }

    /// The income and expense statement as a CSV file.
    #[oai(path = "/compounds/:id/audit/income-statement.csv", method = "get")]
    async fn income_csv(&self, auth: BearerAuth, id: Path<i64>, from: Query<NaiveDate>, to: Query<NaiveDate>) -> Result<CsvFile, ApiError> {
        let statement = self.income(&auth, id.0, from.0, to.0).await?;
        income_csv(&statement)?.file(format!("income-statement-{}-{}-{}", statement.compound_id, statement.from, statement.to))
    }

    /// The maintenance fund: the control account against the sum of the sub-ledgers, and every
    /// unit's balance with its initial deposit and top-up flag.
    #[oai(path = "/compounds/:id/audit/fund", method = "get")]
    async fn fund_json(&self, auth: BearerAuth, id: Path<i64>) -> Reply<CompoundFundView> {
        Ok(Json(self.fund_view(&auth, id.0).await?))
    }

    /// The fund check and sub-ledgers as a CSV file.
    #[oai(path = "/compounds/:id/audit/fund.csv", method = "get")]
    async fn fund_csv(&self, auth: BearerAuth, id: Path<i64>) -> Result<CsvFile, ApiError> {
        let view = self.fund_view(&auth, id.0).await?;
        fund_csv(&view)?.file(format!("fund-{}", view.compound_id))
    }

    /// Every movement of every sub-ledger of the compound, oldest first, with totals by kind.
    #[oai(path = "/compounds/:id/audit/fund-movements", method = "get")]
    async fn movements_json(&self, auth: BearerAuth, id: Path<i64>) -> Reply<FundMovementsReport> {
        Ok(Json(self.movements(&auth, id.0).await?))
    }

    /// The fund's movements as a CSV file.
    #[oai(path = "/compounds/:id/audit/fund-movements.csv", method = "get")]
    async fn movements_csv(&self, auth: BearerAuth, id: Path<i64>) -> Result<CsvFile, ApiError> {
        let report = self.movements(&auth, id.0).await?;
        movements_csv(&report)?.file(format!("fund-movements-{}", report.compound_id))
    }

    /// Every repair project paid from the fund, with its per-unit split: actual once settled,
    /// planned (the budget by area) before.
    #[oai(path = "/compounds/:id/audit/fund-projects", method = "get")]
    async fn projects_json(&self, auth: BearerAuth, id: Path<i64>) -> Reply<FundProjectsReport> {
        Ok(Json(self.projects(&auth, id.0).await?))
    }

    /// The fund's projects and their splits as a CSV file.
    #[oai(path = "/compounds/:id/audit/fund-projects.csv", method = "get")]
    async fn projects_csv(&self, auth: BearerAuth, id: Path<i64>) -> Result<CsvFile, ApiError> {
        let report = self.projects(&auth, id.0).await?;
        projects_csv(&report)?.file(format!("fund-projects-{}", report.compound_id))
    }

    /// The whole journal as a CSV file: first the verification (the hash chain and the trial
    /// balance recomputed, the first break named) and the trial balance, then every line with
    /// its entry's number, time, kind, reference, memo, hash and previous hash. As JSON:
    /// `/compounds/{id}/ledger/entries` and `/compounds/{id}/ledger/verification`.
    #[oai(path = "/compounds/:id/audit/journal.csv", method = "get")]
    async fn journal_csv(&self, auth: BearerAuth, id: Path<i64>) -> Result<CsvFile, ApiError> {
        let db = &self.0.db;
        let compound = compound_for_audit(db, &auth.0, id.0).await?;
        let verification = verification_view(db, compound.id).await?;
        let mut csv = Csv::new();
        let fact = |csv: &mut Csv, key: &str, value: String| csv.row(["verification".to_string(), key.to_string(), value]);
        fact(&mut csv, "intact", verification.intact.to_string())?;
        fact(&mut csv, "entries", verification.entries.to_string())?;
        fact(&mut csv, "lines", verification.lines.to_string())?;
        fact(&mut csv, "total_debits", money(verification.total_debits))?;
        fact(&mut csv, "total_credits", money(verification.total_credits))?;
        let first_break = verification.first_break.as_ref();
        fact(&mut csv, "first_break_seq", first_break.map(|b| b.seq.to_string()).unwrap_or_default())?;
        fact(&mut csv, "first_break_entry_id", first_break.map(|b| b.entry_id.to_string()).unwrap_or_default())?;
        fact(&mut csv, "first_break_problem", first_break.map(|b| b.problem.clone()).unwrap_or_default())?;
        csv.row(header(["trial_balance", "code", "account", "debit", "credit", "balance"]))?;
        for t in &verification.trial_balance {
            csv.row(["trial_balance".to_string(), t.code.clone(), t.name.clone(), money(t.debit), money(t.credit), money(t.balance)])?;
        }
        csv.row(header([
            "seq", "entry_id", "posted_at", "kind", "reference", "memo", "account", "account_name", "unit_id", "unit", "fee_item_id", "fee_item", "debit", "credit", "hash",
            "prev_hash",
        ]))?;
        let optional = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
        super::each_journal_line(db, compound.id, |line| {
            csv.row([
                line.seq.to_string(),
                line.entry_id.to_string(),
                line.posted_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                line.kind,
                text(&line.reference),
                text(&line.memo),
                line.account,
                line.account_name,
                optional(line.unit_id),
                text(&line.unit),
                optional(line.fee_item_id),
                text(&line.fee_item),
                money(Money::from_fen(line.debit)),
                money(Money::from_fen(line.credit)),
                line.hash,
                line.prev_hash,
            ])
        })
        .await?;
        csv.file(format!("journal-{}", compound.id))
    }

    /// Ticket statistics of tickets filed from `from` to `to` as a CSV file: every figure, for
    /// all tickets, by category, by technician and by month. As JSON: `/compounds/{id}/ticket-stats`.
    #[oai(path = "/compounds/:id/audit/ticket-stats.csv", method = "get")]
    async fn ticket_stats_csv(&self, auth: BearerAuth, id: Path<i64>, from: Query<NaiveDate>, to: Query<NaiveDate>) -> Result<CsvFile, ApiError> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id.0).await?;
        let stats = crate::tickets::stats(&self.0.db, &auth.0, compound.id, from.0, to.0).await?;
        let mut csv = Csv::new();
        csv.row(header([
            "group", "key", "name", "filed", "resolved", "response_minutes_median", "response_minutes_p90", "resolution_minutes_median", "resolution_minutes_p90",
            "sla_met_percent", "ratings", "rating_mean", "reopened_percent",
        ]))?;
        csv.row(["all".to_string(), format!("{}..{}", from.0, to.0), String::new()].into_iter().chain(ticket_figures(&stats.all)))?;
        for (category, f) in &stats.by_category {
            csv.row(["category".to_string(), category.clone(), String::new()].into_iter().chain(ticket_figures(f)))?;
        }
        for (technician, name, f) in &stats.by_technician {
            csv.row(["technician".to_string(), technician.to_string(), text(name)].into_iter().chain(ticket_figures(f)))?;
        }
        for (month, f) in &stats.by_month {
            csv.row(["month".to_string(), month.clone(), String::new()].into_iter().chain(ticket_figures(f)))?;
        }
        csv.file(format!("ticket-stats-{}-{}-{}", compound.id, from.0, to.0))
    }

    /// The staff action log of the compound, newest first: every change staff (and committee
    /// members) made through the API, who, when, what, before and after, from where. Filter by
    /// the compound's days (`from`, `to`), `user_id` and `method` (POST, PUT, PATCH, DELETE).
    /// The committee sees owners' phones masked and no email address or ID number.
    #[oai(path = "/compounds/:id/audit/staff-actions", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn staff_actions_json(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        user_id: Query<Option<i64>>,
        method: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Reply<StaffActionPage> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id.0).await?;
        let filter = StaffActionFilter { from: from.0, to: to.0, user_id: user_id.0, method: method.0 };
        Ok(Json(super::staff_actions(&self.0.db, &auth.0, &compound, &filter, page.0.unwrap_or(1), per_page.0.unwrap_or(50)).await?))
    }

    /// Every staff action matching the filters, as a CSV file.
    #[oai(path = "/compounds/:id/audit/staff-actions.csv", method = "get")]
    async fn staff_actions_csv(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        user_id: Query<Option<i64>>,
        method: Query<Option<String>>,
    ) -> Result<CsvFile, ApiError> {
        let compound = compound_for_audit(&self.0.db, &auth.0, id.0).await?;
        let filter = StaffActionFilter { from: from.0, to: to.0, user_id: user_id.0, method: method.0 };
        let items = super::all_staff_actions(&self.0.db, &auth.0, &compound, &filter).await?;
        staff_actions_csv(&items)?.file(format!("staff-actions-{}", compound.id))
    }

    /// The annual disclosure pack of a year: fees charged and collected by fee item,
    /// common-area income by source, the fund's movements by kind and its year-end balances
    /// (control account and sum of sub-ledgers), and the repairs settled with their actual cost.
    #[oai(path = "/compounds/:id/audit/annual-pack", method = "get")]
    async fn annual_pack_json(&self, auth: BearerAuth, id: Path<i64>, year: Query<i32>) -> Reply<AnnualPack> {
        Ok(Json(self.pack(&auth, id.0, year.0).await?))
    }

    /// The annual disclosure pack as a CSV file.
    #[oai(path = "/compounds/:id/audit/annual-pack.csv", method = "get")]
    async fn annual_pack_csv(&self, auth: BearerAuth, id: Path<i64>, year: Query<i32>) -> Result<CsvFile, ApiError> {
        let pack = self.pack(&auth, id.0, year.0).await?;
        annual_pack_csv(&pack)?.file(format!("annual-pack-{}-{}", pack.compound_id, pack.year))
    }

    /// Publish the year's pack to the whole compound as an annual-accounts disclosure notice,
    /// in one step. A disclosure is never changed: publishing again adds a new notice. Honours
    /// Idempotency-Key: a retry with the same key answers the first publication.
    #[oai(path = "/compounds/:id/audit/annual-pack/publication", method = "post")]
    async fn publish_annual_pack(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<String>>,
        body: JsonBody<Publication>,
    ) -> Reply<PublishedPack> {
        let notice = super::publish_annual_pack(&self.0.db, &auth.0, key.0.as_deref(), id.0, body.0.year).await?;
        Ok(Json(PublishedPack { notice_id: notice.id, title: notice.title, category: notice.category, status: notice.status }))
    }
}
