//! The demo data set behind `wuye demo`: one property company taking over three compounds of a
//! real renovation batch (世纪花园, 金盾苑, 旺角家园 with its 369 households), loaded through the
//! same CSV import a company would use, plus one login per role.
//!
//! Everything is derived from the unit's position, so every start produces the same data.
use std::fmt::Write;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    Config,
    auth::{self, Actor, NewAccount, Role},
    billing, elevator, funds, notices, payments,
    registry::{self, NewCompound, import},
    tickets::{self, Assignment, Category, Location, NewTechnicianGroup, NewTicket, Priority, Status, Transition, Urgency},
};
use entity::{company, owner, ownership, unit, user};

pub const PASSWORD: &str = "wuye-demo-2026";
pub const COMPANY: &str = "和睦物业服务有限公司";

/// A compound's layout: buildings, each with stairwells x floors x units per floor.
struct Layout {
    name: &'static str,
    address: &'static str,
    /// (building name, stairwells, floors, units per floor)
    buildings: &'static [(&'static str, u32, u32, u32)],
}

const COMPOUNDS: &[Layout] = &[
    Layout {
        name: "世纪花园",
        address: "民主街道世纪路18号",
        buildings: &[("1栋", 2, 6, 2), ("2栋", 2, 6, 2), ("3栋", 2, 6, 2), ("4栋", 2, 6, 2)],
    },
    Layout { name: "金盾苑", address: "民主街道金盾路6号", buildings: &[("1栋", 2, 7, 2), ("2栋", 2, 7, 2), ("3栋", 2, 7, 2)] },
    Layout {
        name: "旺角家园",
        address: "民主街道旺角路101号",
        buildings: &[
            ("1栋", 3, 6, 3),
            ("2栋", 3, 6, 3),
            ("3栋", 3, 6, 3),
            ("4栋", 3, 6, 3),
            ("5栋", 3, 6, 3),
            ("6栋", 3, 6, 3),
            ("7栋", 3, 5, 3),
        ],
    },
];

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"];
const GIVEN: &[&str] = &["建国", "秀英", "桂兰", "志强", "淑珍", "海燕", "国华", "玉梅", "文斌", "丽华", "德明", "春花", "俊杰", "静", "磊", "敏"];

fn person(seed: usize) -> String {
    format!("{}{}", SURNAMES[seed % SURNAMES.len()], GIVEN[(seed / SURNAMES.len() + seed * 7) % GIVEN.len()])
}

/// The compound's units and owners as the spreadsheet a company would receive.
fn spreadsheet(compound_index: usize, layout: &Layout) -> String {
    let mut csv = String::from("楼栋,单元,房号,楼层,用途,产权面积,实测面积,开发商持有,空置,业主姓名,联系电话,邮箱,表决代表,产权登记日期\n");
    let mut index = 0usize;
    for &(building, stairwells, floors, per_floor) in layout.buildings {
        for stairwell in 1..=stairwells {
            for floor in 1..=floors {
                for position in 1..=per_floor {
                    let number = format!("{floor}{position:02}");
                    // Typical 1990s plans: 88.60, 72.35 and 105.20 m², a little larger higher up.
                    let base = [8860, 7235, 10520][(position as usize - 1) % 3] + (floor as i64 - 1) * 5;
                    let area = format!("{}.{:02}", base / 100, base % 100);
                    // Some units were only surveyed, never registered.
                    let (registered, surveyed) = if index % 11 == 10 { (String::new(), area) } else { (area, String::new()) };
                    let developer_held = index % 37 == 36;
                    let vacant = !developer_held && index % 13 == 12;
                    let stairwell_name = format!("{stairwell}单元");
                    let mut row = |name: &str, phone: &str, email: &str, voter: bool| {
                        let _ = writeln!(
                            csv,
                            "{building},{stairwell_name},{number},{floor},住宅,{registered},{surveyed},{},{},{name},{phone},{email},{},2012-0{}-15",
                            if developer_held { "是" } else { "否" },
                            if vacant { "是" } else { "否" },
                            if voter { "是" } else { "否" },
                            1 + index % 9,
                        );
                    };
                    if developer_held {
                        row("", "", "", false);
                    } else {
                        // Every 20th unit belongs to the owner of the unit before it: one person, two flats.
                        let owner_seed = if index % 20 == 1 { index - 1 } else { index };
                        let phone = format!("139{compound_index:02}{owner_seed:06}");
                        let email = if owner_seed % 4 == 0 { format!("owner{compound_index}.{owner_seed}@example.cn") } else { String::new() };
                        // Every 9th unit is co-owned by a couple; the second named votes.
                        if index % 9 == 4 {
                            row(&person(owner_seed), &phone, &email, false);
                            row(&person(owner_seed + 101), &format!("138{compound_index:02}{owner_seed:06}"), "", true);
                        } else {
                            row(&person(owner_seed), &phone, &email, true);
                        }
                    }
                    index += 1;
                }
            }
        }
    }
    csv
}

/// Seeds the demo on first start (a database without the demo company) and returns the demo
/// logins by role. Later starts find the company and seed nothing.
pub async fn seed(db: &DatabaseConnection, config: &Config) -> anyhow::Result<Vec<(&'static str, String)>> {
    let fail = |e: crate::error::Error| anyhow::anyhow!("demo seed: {e}");
    let logins = vec![
        ("platform_admin", "admin@wuye.demo".to_string()),
        ("company_admin", "boss@hemu.demo".to_string()),
        ("manager", "manager@hemu.demo".to_string()),
        ("cashier", "cashier@hemu.demo".to_string()),
        ("dispatcher", "dispatcher@hemu.demo".to_string()),
        ("technician", "tech@hemu.demo".to_string()),
        ("committee", "committee@wangjiao.demo".to_string()),
        ("owner", "owner@wangjiao.demo".to_string()),
    ];
    if company::Entity::find().filter(company::Column::Name.eq(COMPANY)).one(db).await?.is_some() {
        return Ok(logins);
    }
    let system = Actor::system();
    let company = registry::create_company(db, &system, COMPANY).await.map_err(fail)?;
    let mut compounds = Vec::new();
    for (index, layout) in COMPOUNDS.iter().enumerate() {
        let new = NewCompound {
            company_id: Some(company.id),
            name: layout.name.into(),
            address: layout.address.into(),
            time_zone: None,
        };
        let compound = registry::create_compound(db, &system, new).await.map_err(fail)?;
        import::import_csv(db, &system, compound.id, spreadsheet(index, layout).as_bytes(), false).await.map_err(fail)?;
        compounds.push(compound);
    }
    let wangjiao = compounds.last().map(|c| c.id).unwrap_or_default();
    // The owner login speaks for the owner of 旺角家园's first flat, who also owns the second.
    let first_owner = ownership::Entity::find()
        .filter(ownership::Column::CompoundId.eq(wangjiao))
        .order_by_asc(ownership::Column::UnitId)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo seed: 旺角家园 has no owners"))?;
    let owner = owner::Entity::find_by_id(first_owner.owner_id).one(db).await?.ok_or_else(|| anyhow::anyhow!("demo seed: owner"))?;
    for (role_name, login) in &logins {
        let role = Role::parse(role_name).ok_or_else(|| anyhow::anyhow!("demo role {role_name}"))?;
        let new = NewAccount {
            company_id: (role != Role::PlatformAdmin).then_some(company.id),
            role,
            // Named as a property company's people are, since the consoles show these names
            // (the board names the technician who has each ticket).
            name: match role {
                Role::Owner => owner.name.clone(),
                Role::PlatformAdmin => "平台管理员".into(),
                Role::CompanyAdmin => "何总".into(),
                Role::Manager => "陈经理".into(),
                Role::Cashier => "刘出纳".into(),
                Role::Dispatcher => "周调度".into(),
                Role::Technician => "李师傅".into(),
                Role::Committee => "业委会王主任".into(),
            },
            email: Some(login.clone()),
            phone: None,
            password: PASSWORD.to_string(),
            compound_ids: if role == Role::Committee { vec![wangjiao] } else { vec![] },
            owner_ids: if role == Role::Owner { vec![owner.id] } else { vec![] },
        };
        auth::create_account(db, new).await.map_err(fail)?;
    }
    for (compound, rate) in compounds.iter().zip(["0.95", "1.10", "1.20"]) {
        bill_and_collect(db, &system, compound.id, rate).await.map_err(fail)?;
    }
    let roof_leak = repair_tickets(db, config, &system, wangjiao, first_owner.unit_id).await.map_err(fail)?;
    fund_and_votes(db, &system, wangjiao, first_owner.unit_id, roof_leak).await.map_err(fail)?;
    notices_for_owners(db, &system, wangjiao).await.map_err(fail)?;
    Ok(logins)
}

/// 旺角家园's repair desk: a technician group, and three tickets of the owner login's flat: one
/// waiting for triage, one being worked, one resolved for the owner to confirm and rate (the
/// roof leak, whose id is returned: the maintenance fund pays for it).
async fn repair_tickets(db: &DatabaseConnection, config: &Config, system: &Actor, compound_id: i64, unit_id: i64) -> crate::error::Result<i64> {
    let technician = user::Entity::find().filter(user::Column::Email.eq("tech@hemu.demo")).one(db).await?.map(|u| u.id).unwrap_or_default();
    let group = NewTechnicianGroup {
        name: "水电维修组".into(),
        categories: vec![Category::Plumbing, Category::Electrical, Category::RoofLeak, Category::Doors, Category::Other],
        member_ids: vec![technician],
    };
    tickets::create_group(db, system, compound_id, group).await?;
    let file = |category, location, place: Option<&str>, description: &str| NewTicket {
        unit_id,
        category,
        location,
        place: place.map(str::to_string),
        description: description.into(),
        urgency: Urgency::Normal,
        preferred_visit: Some("工作日晚上七点后".into()),
        owner_id: None,
    };
    tickets::file_ticket(db, system, file(Category::Plumbing, Location::InUnit, None, "厨房水槽下水管漏水，地面一直是湿的。")).await?;
    let mut working = tickets::file_ticket(db, system, file(Category::Electrical, Location::InUnit, None, "卫生间插座一插电就跳闸。")).await?;
    let mut resolved = tickets::file_ticket(db, system, file(Category::RoofLeak, Location::CommonArea, Some("顶楼楼梯间天花板"), "下雨后顶楼楼梯间天花板渗水。")).await?;
    for ticket in [&mut working, &mut resolved] {
        let accept = Transition { to: Status::Accepted, version: ticket.version, priority: Some(Priority::P2), note: None };
        *ticket = tickets::transition(db, config, system, ticket.id, accept).await?;
        *ticket = tickets::assign(db, config, system, ticket.id, Assignment { version: ticket.version, technician_id: None }).await?;
        let start = Transition { to: Status::InProgress, version: ticket.version, priority: None, note: None };
        *ticket = tickets::transition(db, config, system, ticket.id, start).await?;
    }
    tickets::transition(db, config, system, resolved.id, Transition { to: Status::Resolved, version: resolved.version, priority: None, note: None }).await?;
    Ok(resolved.id)
}

/// 旺角家园's notice board: the service desk's numbers (pinned), the fee schedule (a
/// disclosure), and next week's water outage.
async fn notices_for_owners(db: &DatabaseConnection, system: &Actor, compound_id: i64) -> crate::error::Result<()> {
    let draft = |category, title: &str, body: &str, pinned| notices::NoticeDraft {
        category,
        title: title.into(),
        body: body.into(),
        body_format: notices::BodyFormat::Markdown,
        audience: registry::ScopeKind::Compound,
        audience_ids: vec![],
        draft: false,
        publish_at: None,
        expires_at: None,
        pinned,
        supersedes_id: None,
    };
    use notices::NoticeCategory::{FeeSchedule, General, Outage};
    notices::create(db, system, compound_id, draft(General, "物业服务中心电话", "**24 小时值班**：0571-8888 6666\n\n报修也可在线提交。", true)).await?;
    notices::create(db, system, compound_id, draft(FeeSchedule, "物业服务收费标准公示", "住宅物业费 **1.20 元/m²·月**，按产权面积计收；逾期每日加收 0.03% 滞纳金。", false)).await?;
    notices::create(db, system, compound_id, draft(Outage, "下周二停水通知", "因二次供水改造，下周二 9:00-15:00 全小区停水，请提前储水。", false)).await?;
    Ok(())
}

/// 旺角家园's maintenance fund and votes: initial deposits of 90 元/m² (2010), a year's interest,
/// the roof leak repaired as an emergency and settled from the fund, a facade repair put to the
/// owners' vote (open for a fortnight), and an elevator retrofit plan for the owner login's
/// stairwell with its consent vote open for a month.
async fn fund_and_votes(db: &DatabaseConnection, system: &Actor, compound_id: i64, unit_id: i64, roof_leak: i64) -> crate::error::Result<()> {
    let date = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a demo date");
    let rate = |text: &str| text.parse::<crate::types::Rate>().expect("a demo rate");
    let money = |text: &str| text.parse::<crate::types::Money>().expect("a demo amount");
    let policy = funds::NewPolicy {
        deposit_basis: funds::rules::DepositBasis::PerM2,
        deposit_rate: Some(rate("90")),
        deposit_amount: None,
        source: "本市住宅专项维修资金交存标准（演示）".into(),
        allocation: None,
        notice_days: Some(7),
    };
    funds::set_policy(db, system, compound_id, policy).await?;
    funds::record_deposits(db, system, compound_id, funds::NewDeposits { unit_ids: None, received_on: date("2010-06-01") }, None).await?;
    let interest = funds::NewAllocation { source: funds::FundIncome::Interest, amount: money("12864.37"), received_on: date("2025-12-21"), memo: Some("2025 年度利息".into()) };
    funds::allocate(db, system, compound_id, interest, None).await?;

    let unit = unit::Entity::find_by_id(unit_id).one(db).await?.ok_or(crate::error::Error::NotFound("unit"))?;
    tickets::route_cost(db, system, roof_leak, tickets::CostRoute::MaintenanceFund, None).await?;
    let roof = funds::projects::NewProject {
        title: "顶楼楼梯间屋面防水抢修".into(),
        description: "雨后顶楼楼梯间天花板渗水，危及住户安全，抢修屋面防水层。".into(),
        scope: registry::ScopeKind::Buildings,
        scope_ids: vec![unit.building_id],
        budget: money("3600.00"),
        emergency: Some(funds::projects::EmergencyKind::RoofLeak),
        ticket_ids: vec![roof_leak],
    };
    let roof = funds::projects::create(db, system, compound_id, roof).await?;
    let notice = funds::projects::EmergencyNotice { text: "顶楼屋面渗水危及住户安全，即日起动用本楼维修资金抢修，费用按面积分摊。".into() };
    funds::projects::record_emergency_notice(db, system, roof.id, notice).await?;
    funds::projects::start(db, system, roof.id).await?;
    funds::projects::settle(db, system, roof.id, funds::projects::Settlement { actual_cost: money("3580.00") }, None).await?;

    let now = chrono::Utc::now();
    let facade = funds::projects::NewProject {
        title: "外墙空鼓修缮".into(),
        description: "外墙瓷砖空鼓、局部脱落，整体修缮。".into(),
        scope: registry::ScopeKind::Compound,
        scope_ids: vec![],
        budget: money("86000.00"),
        emergency: None,
        ticket_ids: vec![],
    };
    let facade = funds::projects::create(db, system, compound_id, facade).await?;
    funds::projects::put_to_vote(db, system, facade.id, funds::projects::VoteTimes { opens_at: None, closes_at: now + chrono::Duration::days(14), rule_set: None }).await?;

    let coefficients = [("3", "0.7"), ("4", "0.8"), ("5", "0.9"), ("6", "1.0")].into_iter().map(|(floor, c)| (floor.to_string(), rate(c))).collect();
    let plan = elevator::NewPlan {
        title: "加装电梯".into(),
        total_cost: money("680000.00"),
        subsidies: money("200000.00"),
        method: elevator::rules::SharingMethod::AreaCoefficient,
        coefficients,
        exempt_floors: vec![1, 2],
        rule_set: "elevator_double_three_quarters".into(),
        opens_at: None,
        closes_at: now + chrono::Duration::days(30),
    };
    elevator::create_plan(db, system, unit.stairwell_id, plan).await?;
    Ok(())
}

/// Three months of property fees (物业费), due on the 15th with 0.03% a day late fee, and the
/// payments of the owners who paid: most paid everything, some one month, some nothing yet.
async fn bill_and_collect(db: &DatabaseConnection, system: &Actor, compound_id: i64, rate: &str) -> crate::error::Result<()> {
    let parse_rate = |text: &str| text.parse().map_err(|e: String| crate::error::Error::invalid("rate", e));
    let fee = billing::NewFeeItem {
        name: "物业费".into(),
        kind: billing::FeeKind::RateArea,
        rate: Some(parse_rate(rate)?),
        amount: None,
        split: None,
        floor_coefficients: Default::default(),
        scope: registry::ScopeKind::Compound,
        scope_ids: vec![],
        unit_uses: vec![],
        cycle: billing::rules::Cycle::Monthly,
        due_days: 14,
        rounding: billing::RoundingRule::HalfUp,
        late_fee: Some(billing::LateFeeTerms { daily_rate: parse_rate("0.0003")?, grace_days: 0, cap: None }),
        vacancy_ratio: Some(parse_rate("0.70")?),
        effective_from: "2026-01".parse().map_err(|e: String| crate::error::Error::invalid("period", e))?,
        effective_to: None,
    };
    billing::create_fee_item(db, system, compound_id, fee).await?;
    for period in ["2026-09", "2026-10", "2026-11"] {
        let period = period.parse().map_err(|e: String| crate::error::Error::invalid("period", e))?;
        billing::run_bills(db, system, compound_id, period, billing::RunMode::Bill).await?;
    }
    let units = unit::Entity::find().filter(unit::Column::CompoundId.eq(compound_id)).order_by_asc(unit::Column::Id).all(db).await?;
    let today = registry::compound_today(db, compound_id).await?;
    let txn = crate::db::begin(db).await?;
    for (index, unit) in units.iter().enumerate() {
        let bills = billing::bill_states(&txn, billing::unit_bills(&txn, unit.id).await?, today).await?;
        let paying: Vec<&billing::BillState> = match index % 10 {
            0 | 1 => vec![],                       // has not paid yet
            2 => bills.iter().take(1).collect(),   // paid the first month
            _ => bills.iter().collect(),           // paid everything owed today
        };
        let amount: i64 = paying.iter().map(|b| b.total_due().fen()).sum();
        let paying: Vec<i64> = paying.iter().map(|b| b.bill.id).collect();
        if amount > 0 {
            let method = if index % 3 == 0 { payments::Method::Cash } else { payments::Method::BankTransfer };
            payments::receive(&txn, system, unit, today, method, crate::types::Money::from_fen(amount), Some(&paying), None).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wangjiao_has_369_households() {
        let layout = &COMPOUNDS[2];
        let units: u32 = layout.buildings.iter().map(|(_, s, f, u)| s * f * u).sum();
        assert_eq!((layout.name, units), ("旺角家园", 369));
        let text = spreadsheet(2, layout);
        let (rows, problems) = (text.lines().count() - 1, text.matches(",是,").count());
        assert!(rows > 369, "co-owned units take two rows: {rows}");
        assert!(problems > 0);
    }
}
