//! Arrears reminders (催缴). A property company may not cut water, power, heat or gas over
//! arrears (Civil Code Art. 944); it must demand payment in writing, in reasonable time. So
//! overdue bills get reminders in stages, each bill at most once per stage, and every
//! reminder is kept exactly as it was sent: evidence for a later court case.
pub mod api;
pub mod letters;

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::{
    billing::{self, BillState},
    config::Config,
    error::{Error, Result},
    jobs::Counts,
    mail::{self, NewEmail},
    registry,
    types::{Money, Period},
};
use entity::{bill, compound, owner, ownership, reminder, reminder_bill, unit};
use letters::{LetterBill, LetterFacts};

/// The stages of reminding, from the gentlest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum Stage {
    /// A friendly reminder once the due date has passed.
    Friendly,
    /// A second, firmer reminder after a month.
    Second,
    /// The formal written demand (催缴函) after three months: the letter a court asks to see.
    Demand,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Friendly, Stage::Second, Stage::Demand];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Friendly => "friendly",
            Stage::Second => "second",
            Stage::Demand => "demand",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Days after the due date from which the stage is sent.
    pub fn from_days_overdue(self) -> i64 {
        match self {
            Stage::Friendly => 1,
            Stage::Second => 30,
            Stage::Demand => 90,
        }
    }

    /// The stage a bill overdue this many days has reached, if any.
    pub fn reached(days_overdue: i64) -> Option<Stage> {
        Stage::ALL.into_iter().rev().find(|s| days_overdue >= s.from_days_overdue())
    }
}

/// The owners a bill is addressed to: those whose ownership covered the bill's period, as owners
/// see their bills (from the month their ownership starts; the month of a sale is the buyer's).
/// None for a period before any recorded ownership: that letter is printed, to "the owner".
fn owners_of_bill(history: &[(ownership::Model, owner::Model)], period: &str) -> Vec<owner::Model> {
    history
        .iter()
        .filter(|(o, _)| {
            Period::containing(o.started_on).to_string().as_str() <= period && o.ended_on.is_none_or(|end| period < Period::containing(end).to_string().as_str())
        })
        .map(|(_, owner)| owner.clone())
        .collect()
}

/// The arrears-reminder job for one company: for each overdue bill an owner pays, the stage it
/// has reached, if it has not had that stage (or a later one) yet. Bills of one unit, stage and
/// owners go out as one letter, emailed to each owner with an email address and printed for
/// staff to hand to each owner without one. The letter, its bills and its emails commit
/// together; a bill already reminded at a stage (by an earlier or a concurrent run) is skipped.
pub async fn send_arrears_reminders(db: &DatabaseConnection, config: &Config, company_id: i64, run_id: i64) -> Result<Counts> {
    let mut counts = Counts::from([("compounds", 0), ("reminders", 0), ("emails", 0), ("letters_to_print", 0)]);
    let compounds = registry::company_compounds(db, company_id).await?;
    for compound in compounds {
        let today = registry::local_today(&compound);
        let overdue = bill::Entity::find()
            .filter(bill::Column::CompoundId.eq(compound.id))
            .filter(bill::Column::Payer.eq("owner"))
            .filter(bill::Column::DueDate.lt(today))
            .filter(billing::principal_still_owed())
            .order_by_asc(bill::Column::DueDate)
            .order_by_asc(bill::Column::Id)
            .all(db)
            .await?;
        let mut reminded: HashMap<i64, Stage> = HashMap::new();
        for chunk in overdue.chunks(1000) {
            let sent = reminder_bill::Entity::find().filter(reminder_bill::Column::BillId.is_in(chunk.iter().map(|b| b.id))).all(db).await?;
            for r in sent {
                if let Some(stage) = Stage::parse(&r.stage) {
                    let latest = reminded.entry(r.bill_id).or_insert(stage);
                    *latest = (*latest).max(stage);
                }
            }
        }
        let due: Vec<(Stage, BillState)> = billing::bill_states(db, overdue, today)
            .await?
            .into_iter()
            .filter_map(|state| {
                let stage = Stage::reached((today - state.bill.due_date).num_days())?;
                reminded.get(&state.bill.id).is_none_or(|done| *done < stage).then_some((stage, state))
            })
            .collect();
        let units: Vec<i64> = due.iter().map(|(_, s)| s.bill.unit_id).collect();
        let records: HashMap<i64, registry::UnitRecord> =
            registry::unit_records(db, unit::Entity::find().filter(unit::Column::Id.is_in(units.clone())).all(db).await?)
                .await?
                .into_iter()
                .map(|r| (r.unit.id, r))
                .collect();
        let histories = registry::ownership_histories(db, &units).await?;
        // One letter per unit, stage and the owners addressed (by id): to them, of those bills.
        type Addressed = (i64, Stage, Vec<i64>);
        let mut letters: BTreeMap<Addressed, (Vec<owner::Model>, Vec<BillState>)> = BTreeMap::new();
        for (stage, state) in due {
            let owners = owners_of_bill(histories.get(&state.bill.unit_id).map_or(&[][..], |h| h.as_slice()), &state.bill.period);
            let key = (state.bill.unit_id, stage, owners.iter().map(|o| o.id).collect());
            letters.entry(key).or_insert_with(|| (owners, Vec::new())).1.push(state);
        }
        for ((unit_id, stage, _), (owners, bills)) in letters {
            let Some(record) = records.get(&unit_id) else { continue };
            match write_letter(db, config, &compound, record, stage, today, owners, bills, run_id).await {
                Ok(delivery) => {
                    *counts.entry("reminders").or_default() += 1;
                    *counts.entry("emails").or_default() += delivery.emails;
                    *counts.entry("letters_to_print").or_default() += i64::from(delivery.printed);
                }
                // Another run got there first: the unique (bill, stage) refused the second letter.
                Err(Error::Conflict { .. }) => *counts.entry("already_sent").or_default() += 1,
                Err(error) => return Err(error),
            }
        }
        *counts.entry("compounds").or_default() += 1;
    }
    Ok(counts)
}

/// How a letter reaches its owners.
struct Delivery {
    /// Emails queued in the outbox.
    emails: i64,
    /// Whether staff print it, for an owner without email (or when no owner is known).
    printed: bool,
}

impl Delivery {
    fn as_str(&self) -> &'static str {
        match (self.emails > 0, self.printed) {
            (true, true) => "email_and_letter",
            (true, false) => "email",
            _ => "letter",
        }
    }
}

/// Writes one reminder with its bills and queues its emails, in one transaction.
#[allow(clippy::too_many_arguments)]
async fn write_letter(
    db: &DatabaseConnection,
    config: &Config,
    compound: &compound::Model,
    unit: &registry::UnitRecord,
    stage: Stage,
    today: NaiveDate,
    owners: Vec<owner::Model>,
    bills: Vec<BillState>,
    run_id: i64,
) -> Result<Delivery> {
    let total = Money::from_fen(bills.iter().map(|b| b.total_due().fen()).sum());
    let label = unit.label();
    let facts = LetterFacts {
        compound: &compound.name,
        unit: &label,
        owners: owners.iter().map(|o| o.name.clone()).collect(),
        as_of: today,
        bills: bills
            .iter()
            .map(|b| LetterBill {
                fee_item: b.fee_item.clone(),
                period: b.bill.period.clone(),
                due_date: b.bill.due_date,
                principal: b.outstanding,
                late_fee: b.late_fee,
                days_overdue: (today - b.bill.due_date).num_days(),
            })
            .collect(),
        total,
        link: crate::web::page_address(config, &format!("/owner/units/{}/bills", unit.unit.id)),
    };
    let (subject, body) = letters::reminder(config.mail.language, stage, &facts);
    let recipients: Vec<&owner::Model> = owners.iter().filter(|o| o.email.is_some()).collect();
    let delivery = Delivery { emails: recipients.len() as i64, printed: recipients.len() < owners.len() || owners.is_empty() };
    let txn = crate::db::begin(db).await?;
    let letter = reminder::ActiveModel {
        company_id: Set(compound.company_id),
        compound_id: Set(compound.id),
        unit_id: Set(unit.unit.id),
        stage: Set(stage.as_str().into()),
        as_of: Set(today),
        addressed_to: Set(facts.owners.join(", ")),
        delivery: Set(delivery.as_str().into()),
        total_owed: Set(total.fen()),
        subject: Set(subject.clone()),
        body: Set(body.clone()),
        job_run_id: Set(Some(run_id)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let rows = bills.iter().map(|b| reminder_bill::ActiveModel {
        reminder_id: Set(letter.id),
        compound_id: Set(compound.id),
        bill_id: Set(b.bill.id),
        stage: Set(stage.as_str().into()),
        principal_owed: Set(b.outstanding.fen()),
        late_fee_owed: Set(b.late_fee.fen()),
        days_overdue: Set((today - b.bill.due_date).num_days() as i32),
        ..Default::default()
    });
    reminder_bill::Entity::insert_many(rows).exec_without_returning(&txn).await?;
    for owner in &recipients {
        mail::enqueue(
            &txn,
            NewEmail {
                company_id: compound.company_id,
                compound_id: compound.id,
                kind: "arrears_reminder",
                reference: Some(format!("reminder:{}", letter.id)),
                recipient: owner.email.clone().unwrap_or_default(),
                recipient_name: owner.name.clone(),
                subject: subject.clone(),
                body: body.clone(),
                language: config.mail.language,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_a_bill_has_reached_by_days_overdue() {
        let cases = [(0, None), (1, Some(Stage::Friendly)), (29, Some(Stage::Friendly)), (30, Some(Stage::Second)), (89, Some(Stage::Second)), (90, Some(Stage::Demand)), (400, Some(Stage::Demand))];
        for (days, stage) in cases {
            assert_eq!(Stage::reached(days), stage, "{days} days overdue");
        }
    }

    #[test]
    fn a_bill_from_before_a_sale_is_the_sellers() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let ownership = |id, owner_id, from: &str, to: Option<&str>| ownership::Model {
            id,
            company_id: 1,
            compound_id: 1,
            unit_id: 1,
            owner_id,
            designated_voter: true,
            started_on: day(from),
            ended_on: to.map(day),
            created_at: Utc::now(),
        };
        let owner = |id, name: &str| owner::Model {
            id,
            company_id: 1,
            compound_id: 1,
            name: name.into(),
            phone: None,
            email: None,
            id_number_masked: None,
            user_id: None,
            email_every_notice: false,
            created_at: Utc::now(),
        };
        let history = vec![
            (ownership(1, 10, "2020-01-01", Some("2026-06-15")), owner(10, "卖方")),
            (ownership(2, 20, "2026-06-15", None), owner(20, "买方")),
        ];
        let names = |period| owners_of_bill(&history, period).into_iter().map(|o| o.name).collect::<Vec<_>>();
        assert_eq!(names("2026-05"), vec!["卖方"]);
        assert_eq!(names("2026-06"), vec!["买方"]);
        assert_eq!(names("2026-07"), vec!["买方"]);
        // Before any recorded ownership: nobody known, so a printed letter.
        assert_eq!(names("2019-12"), Vec::<String>::new());
    }
}
