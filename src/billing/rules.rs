//! Fee rules with no I/O: what a fee item charges each unit for a period, how a shared cost is
//! split to the fen, and the late fee (滞纳金). The numbers in ../shared/DOMAIN.md are tested here.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use poem_openapi::Enum;
use rust_decimal::Decimal;

use crate::types::{Money, Period, Rounding};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Cycle {
    Monthly,
    Quarterly,
    Yearly,
    /// Billed once, in the month the item takes effect.
    OneOff,
}

impl Cycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Cycle::Monthly => "monthly",
            Cycle::Quarterly => "quarterly",
            Cycle::Yearly => "yearly",
            Cycle::OneOff => "one_off",
        }
    }

    pub fn parse(text: &str) -> Option<Cycle> {
        [Cycle::Monthly, Cycle::Quarterly, Cycle::Yearly, Cycle::OneOff].into_iter().find(|c| c.as_str() == text)
    }

    /// How many months a bill for `period` covers, or None when the item bills nothing in that
    /// period. Cycles count from the month the item takes effect.
    pub fn months_billed(self, period: Period, effective_from: Period) -> Option<u32> {
        if period < effective_from {
            return None;
        }
        let elapsed = (period.year() - effective_from.year()) * 12 + period.month() as i32 - effective_from.month() as i32;
        let (length, once) = match self {
            Cycle::Monthly => (1, false),
            Cycle::Quarterly => (3, false),
            Cycle::Yearly => (12, false),
            Cycle::OneOff => (1, true),
        };
        let due = if once { elapsed == 0 } else { elapsed % length == 0 };
        due.then_some(length as u32)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// By each unit's share of the scope's area.
    Area,
    /// The same for every unit.
    Equal,
    /// By each unit's floor coefficient.
    Coefficient,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Area => "area",
            Split::Equal => "equal",
            Split::Coefficient => "coefficient",
        }
    }

    pub fn parse(text: &str) -> Option<Split> {
        [Split::Area, Split::Equal, Split::Coefficient].into_iter().find(|s| s.as_str() == text)
    }
}

/// Coefficients per floor (elevator costs: floors 1-2 exempt, then 0.7, 0.8, ...). A floor
/// that is not listed has coefficient 0: it pays nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FloorCoefficients(pub BTreeMap<i32, Decimal>);

impl FloorCoefficients {
    pub fn of(&self, floor: i32) -> Decimal {
        self.0.get(&floor).copied().unwrap_or(Decimal::ZERO)
    }
}

/// What a fee item charges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    /// 物业费: rate (元/m²·month) x area x months.
    RateArea { rate: Decimal },
    /// A fixed amount per unit per cycle (parking).
    Fixed { amount: Money },
    /// price x (this reading - the previous one).
    Metered { price: Decimal },
    /// 公摊: a total per cycle split over the units in scope.
    Shared { total: Money, split: Split, coefficients: FloorCoefficients },
    /// rate x area x the floor's coefficient x months (elevator running costs).
    FloorCoefficient { rate: Decimal, coefficients: FloorCoefficients },
}

/// A fee item's rule, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeRule {
    pub charge: Charge,
    pub rounding: Rounding,
    /// The share a vacant unit pays (**local** rule, e.g. 0.70), None when no discount applies.
    pub vacancy_ratio: Option<Decimal>,
}

/// The facts of a unit a bill is computed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitBasis {
    pub unit_id: i64,
    /// Hundredths of a m², the area that counts (registered, else surveyed, else contract).
    pub area: i64,
    pub floor: i32,
    pub vacant: bool,
    pub developer_held: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payer {
    Owner,
    /// Unsold or undelivered units: the developer pays in full.
    Developer,
}

impl Payer {
    pub fn as_str(self) -> &'static str {
        match self {
            Payer::Owner => "owner",
            Payer::Developer => "developer",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charged {
    pub unit_id: i64,
    pub amount: Money,
    pub payer: Payer,
}

/// Why a unit in scope gets no bill this period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotCharged {
    pub unit_id: i64,
    pub reason: String,
}

fn area_m2(hundredths: i64) -> Decimal {
    Decimal::new(hundredths, 2)
}

/// Computes every unit's bill for one period. `readings` holds (previous, current) meter
/// readings for metered items. Units that owe nothing (exempt floors) get no bill.
pub fn charge_units(
    rule: &FeeRule,
    units: &[UnitBasis],
    months: u32,
    readings: &BTreeMap<i64, (Decimal, Decimal)>,
) -> Result<(Vec<Charged>, Vec<NotCharged>), String> {
    let months_dec = Decimal::from(months);
    let mut charged = Vec::new();
    let mut skipped = Vec::new();
    let to_money = |amount: Decimal| Money::from_decimal(amount, rule.rounding).ok_or_else(|| "an amount is too large".to_string());
    let payer = |u: &UnitBasis| if u.developer_held { Payer::Developer } else { Payer::Owner };

    if let Charge::Shared { total, split, coefficients } = &rule.charge {
        // The developer pays its units' shares too; vacancy does not change a share, since the
        // shares must add up to the total.
        let weights: Vec<Decimal> = units
            .iter()
            .map(|u| match split {
                Split::Area => area_m2(u.area),
                Split::Equal => Decimal::ONE,
                Split::Coefficient => coefficients.of(u.floor),
            })
            .collect();
        let shares = split_exactly(*total, &weights)?;
        for (unit, share) in units.iter().zip(shares) {
            if share.is_positive() {
                charged.push(Charged { unit_id: unit.unit_id, amount: share, payer: payer(unit) });
            } else {
                skipped.push(NotCharged { unit_id: unit.unit_id, reason: "its share is zero".into() });
            }
        }
        return Ok((charged, skipped));
    }

    for unit in units {
        let base = match &rule.charge {
            Charge::RateArea { rate } => *rate * area_m2(unit.area) * months_dec,
            Charge::Fixed { amount } => amount.to_decimal(),
            Charge::FloorCoefficient { rate, coefficients } => *rate * area_m2(unit.area) * coefficients.of(unit.floor) * months_dec,
            Charge::Metered { price } => match readings.get(&unit.unit_id) {
                Some((previous, current)) if current >= previous => *price * (*current - *previous),
                Some(_) => {
                    skipped.push(NotCharged { unit_id: unit.unit_id, reason: "the reading is below the previous one".into() });
                    continue;
                }
                None => {
                    skipped.push(NotCharged { unit_id: unit.unit_id, reason: "no reading, or no previous reading, for the period".into() });
                    continue;
                }
            },
            Charge::Shared { .. } => unreachable!("handled above"),
        };
        let discounted = match rule.vacancy_ratio {
            Some(ratio) if unit.vacant && !unit.developer_held => base * ratio,
            _ => base,
        };
        let amount = to_money(discounted)?;
        if amount.is_positive() {
            charged.push(Charged { unit_id: unit.unit_id, amount, payer: payer(unit) });
        } else {
            skipped.push(NotCharged { unit_id: unit.unit_id, reason: "exempt (nothing to charge)".into() });
        }
    }
    Ok((charged, skipped))
}

/// Splits `total` by `weights` so that the shares add up to it exactly.
///
/// The rule for leftover fen: every share is first rounded down to the fen; the fen left over
/// go one each to the shares with the largest remainders, and between equal remainders to the
/// earlier share (units come ordered by id). A zero weight gets nothing.
pub fn split_exactly(total: Money, weights: &[Decimal]) -> Result<Vec<Money>, String> {
    if weights.iter().any(|w| w.is_sign_negative()) {
        return Err("a weight is negative".into());
    }
    let sum: Decimal = weights.iter().copied().sum();
    if sum.is_zero() {
        return Err("nothing to split over: the scope has no weight".into());
    }
    let total_fen = Decimal::from(total.fen());
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let exact = total_fen * *weight / sum;
        let floor = exact.floor();
        shares.push(i64::try_from(floor).map_err(|_| "a share is too large".to_string())?);
        remainders.push((exact - floor, index));
    }
    let mut leftover = total.fen() - shares.iter().sum::<i64>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders {
        if leftover == 0 {
            break;
        }
        if !weights[index].is_zero() {
            shares[index] += 1;
            leftover -= 1;
        }
    }
    Ok(shares.into_iter().map(Money::from_fen).collect())
}

/// A fee item's late-fee policy: simple daily interest on the overdue principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LateFeePolicy {
    /// e.g. 0.0003 for 0.03% a day (contracts say 0.03%-0.3%).
    pub daily_rate: Decimal,
    /// Days after the due date before any late fee runs.
    pub grace_days: i64,
    /// At most this share of the principal (courts cut late fees far above the actual loss).
    pub cap: Option<Decimal>,
}

/// A bill's late fee in all as of `as_of`: simple daily interest on the principal owed each day,
/// counting only days after the grace period; capped as a share of the principal billed; half
/// up to the fen, once. It is computed from principal x days (fen-days, an integer): what had
/// accrued by `accrued.through`, plus `principal` for every day since. So bringing the accrual
/// up to date (whenever the principal owed changes, and daily) loses nothing to rounding.
pub fn late_fee(principal: Money, due_date: NaiveDate, as_of: NaiveDate, policy: &LateFeePolicy, accrued: Accrued) -> LateFee {
    let runs_from = due_date + chrono::Duration::days(policy.grace_days);
    let from = accrued.through.map_or(runs_from, |through| through.max(runs_from));
    let days = (as_of - from).num_days();
    let more = if days > 0 && principal.is_positive() { principal.fen().saturating_mul(days) } else { 0 };
    let fen_days = accrued.fen_days.saturating_add(more);
    let total = policy.daily_rate * Decimal::from(fen_days) / Decimal::ONE_HUNDRED;
    let capped = match policy.cap {
        Some(cap) => total.min(accrued.billed.to_decimal() * cap),
        None => total,
    };
    LateFee { fen_days, amount: Money::from_decimal(capped, Rounding::HalfUp).unwrap_or(Money::ZERO) }
}

/// A bill's late fee as of a day, and the fen-days it was computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LateFee {
    pub fen_days: i64,
    pub amount: Money,
}

/// What a bill had accrued when last brought up to date, and what it billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accrued {
    /// Principal owed x days, summed through `through`.
    pub fen_days: i64,
    pub through: Option<NaiveDate>,
    /// The principal billed (amount plus adjustments), which the cap is a share of.
    pub billed: Money,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn unit(unit_id: i64, area: i64, floor: i32) -> UnitBasis {
        UnitBasis { unit_id, area, floor, vacant: false, developer_held: false }
    }

    fn rule(charge: Charge) -> FeeRule {
        FeeRule { charge, rounding: Rounding::HalfUp, vacancy_ratio: None }
    }

    #[test]
    fn property_fee_per_area_of_domain_notes() {
        // 1.20 元/m²·month x 88.60 m² = 106.32
        let (charged, _) = charge_units(&rule(Charge::RateArea { rate: dec("1.20") }), &[unit(1, 8860, 3)], 1, &BTreeMap::new()).unwrap();
        assert_eq!(charged[0].amount.to_string(), "106.32");
        // A quarter is three months of it.
        let (charged, _) = charge_units(&rule(Charge::RateArea { rate: dec("1.20") }), &[unit(1, 8860, 3)], 3, &BTreeMap::new()).unwrap();
        assert_eq!(charged[0].amount.to_string(), "318.96");
    }

    #[test]
    fn vacancy_discount_and_developer_units() {
        let mut vacant = unit(1, 8860, 3);
        vacant.vacant = true;
        let mut held = unit(2, 8860, 3);
        held.developer_held = true;
        held.vacant = true;
        let fee = FeeRule { vacancy_ratio: Some(dec("0.70")), ..rule(Charge::RateArea { rate: dec("1.20") }) };
        let (charged, _) = charge_units(&fee, &[vacant, held], 1, &BTreeMap::new()).unwrap();
        // 106.32 x 70% = 74.424 -> 74.42 for the vacant owner; the developer pays in full.
        assert_eq!((charged[0].amount.to_string(), charged[0].payer), ("74.42".into(), Payer::Owner));
        assert_eq!((charged[1].amount.to_string(), charged[1].payer), ("106.32".into(), Payer::Developer));
    }

    #[test]
    fn elevator_costs_by_floor_coefficient_exempt_lower_floors() {
        let coefficients = FloorCoefficients([(3, dec("0.7")), (4, dec("0.8")), (5, dec("0.9")), (6, dec("1.0"))].into_iter().collect());
        let fee = rule(Charge::FloorCoefficient { rate: dec("0.50"), coefficients });
        let units = [unit(1, 10000, 1), unit(2, 10000, 2), unit(3, 10000, 3), unit(6, 10000, 6)];
        let (charged, skipped) = charge_units(&fee, &units, 1, &BTreeMap::new()).unwrap();
        let amounts: Vec<(i64, String)> = charged.iter().map(|c| (c.unit_id, c.amount.to_string())).collect();
        assert_eq!(amounts, vec![(3, "35.00".into()), (6, "50.00".into())]);
        assert_eq!(skipped.iter().map(|s| s.unit_id).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn metered_charges_the_delta() {
        let readings = [(1, (dec("120.5"), dec("130.5"))), (2, (dec("50"), dec("40")))].into_iter().collect();
        let fee = rule(Charge::Metered { price: dec("3.45") });
        let (charged, skipped) = charge_units(&fee, &[unit(1, 1, 1), unit(2, 1, 1), unit(3, 1, 1)], 1, &readings).unwrap();
        assert_eq!(charged.len(), 1);
        assert_eq!(charged[0].amount.to_string(), "34.50");
        assert_eq!(skipped.len(), 2);
    }

    #[test]
    fn shared_cost_leftover_fen_go_to_largest_remainders_then_earliest() {
        // 100.00 over three equal units: 33.33 each and one fen left, to the first.
        let shares = split_exactly(Money::from_fen(10000), &[Decimal::ONE, Decimal::ONE, Decimal::ONE]).unwrap();
        assert_eq!(shares.iter().map(|m| m.to_string()).collect::<Vec<_>>(), ["33.34", "33.33", "33.33"]);
        // By area: 60,000 over 2,400 m² gives a 90 m² unit 2,250.00 (the fund's repair split).
        let weights = [dec("90"), dec("2310")];
        let shares = split_exactly(Money::from_fen(6_000_000), &weights).unwrap();
        assert_eq!(shares[0].to_string(), "2250.00");
        assert!(split_exactly(Money::from_fen(100), &[Decimal::ZERO]).is_err());
    }

    #[test]
    fn late_fee_of_domain_notes() {
        // 1,275.84 overdue 100 days at 0.03%/day = 38.28
        let policy = LateFeePolicy { daily_rate: dec("0.0003"), grace_days: 0, cap: None };
        let due = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let as_of = due + chrono::Duration::days(100);
        let principal = Money::from_fen(127584);
        let fresh = Accrued { fen_days: 0, through: None, billed: principal };
        let fee = |policy: &LateFeePolicy, as_of| late_fee(principal, due, as_of, policy, fresh).amount.to_string();
        assert_eq!(fee(&policy, as_of), "38.28");
        // Grace days run first; the cap bounds the rest.
        let graced = LateFeePolicy { grace_days: 10, ..policy.clone() };
        assert_eq!(fee(&graced, as_of), "34.45");
        let capped = LateFeePolicy { cap: Some(dec("0.01")), ..policy.clone() };
        assert_eq!(fee(&capped, as_of), "12.76");
        assert_eq!(fee(&policy, due), "0.00");
    }

    #[test]
    fn writing_the_accrual_down_daily_loses_nothing_to_rounding() {
        // 0.382752 a day: rounding each day's figure would give 38.00 after 100 days, not 38.28.
        let policy = LateFeePolicy { daily_rate: dec("0.0003"), grace_days: 0, cap: None };
        let due = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let principal = Money::from_fen(127584);
        let mut accrued = Accrued { fen_days: 0, through: None, billed: principal };
        for day in 1..=100 {
            let as_of = due + chrono::Duration::days(day);
            accrued = Accrued { fen_days: late_fee(principal, due, as_of, &policy, accrued).fen_days, through: Some(as_of), ..accrued };
        }
        let as_of = due + chrono::Duration::days(100);
        assert_eq!(late_fee(principal, due, as_of, &policy, accrued).amount.to_string(), "38.28");
    }

    #[test]
    fn late_fee_runs_on_the_principal_owed_each_day() {
        // 1,000.00 due on day 0; after 50 days 15.00 has accrued and half the principal is paid.
        // The next 10 days run on 500.00: 1.50 more, not a recomputation over all 60 days.
        let policy = LateFeePolicy { daily_rate: dec("0.0003"), grace_days: 0, cap: None };
        let due = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let day = |n| due + chrono::Duration::days(n);
        let accrued = Accrued { fen_days: 100000 * 50, through: Some(day(50)), billed: Money::from_fen(100000) };
        assert_eq!(late_fee(Money::from_fen(100000), due, day(50), &policy, accrued).amount.to_string(), "15.00");
        assert_eq!(late_fee(Money::from_fen(50000), due, day(60), &policy, accrued).amount.to_string(), "16.50");
        // Paid off: what had accrued stays owed, nothing more runs.
        assert_eq!(late_fee(Money::ZERO, due, day(90), &policy, accrued).amount.to_string(), "15.00");
        // Brought up to date inside the grace period: the grace still counts from the due date.
        let graced = LateFeePolicy { grace_days: 10, ..policy };
        let early = Accrued { fen_days: 0, through: Some(day(5)), billed: Money::from_fen(100000) };
        assert_eq!(late_fee(Money::from_fen(100000), due, day(20), &graced, early).amount.to_string(), "3.00");
    }

    #[test]
    fn cycles_count_from_the_effective_month() {
        let from: Period = "2026-01".parse().unwrap();
        let p = |s: &str| s.parse::<Period>().unwrap();
        assert_eq!(Cycle::Monthly.months_billed(p("2026-05"), from), Some(1));
        assert_eq!(Cycle::Quarterly.months_billed(p("2026-04"), from), Some(3));
        assert_eq!(Cycle::Quarterly.months_billed(p("2026-05"), from), None);
        assert_eq!(Cycle::Yearly.months_billed(p("2027-01"), from), Some(12));
        assert_eq!(Cycle::OneOff.months_billed(p("2026-01"), from), Some(1));
        assert_eq!(Cycle::OneOff.months_billed(p("2026-02"), from), None);
        assert_eq!(Cycle::Monthly.months_billed(p("2025-12"), from), None);
    }

    proptest! {
        #[test]
        fn splits_always_add_up_to_the_total(total in 0i64..10_000_000_000, weights in proptest::collection::vec(0u32..100_000, 1..200)) {
            let weights: Vec<Decimal> = weights.into_iter().map(Decimal::from).collect();
            prop_assume!(weights.iter().any(|w| !w.is_zero()));
            let shares = split_exactly(Money::from_fen(total), &weights).unwrap();
            prop_assert_eq!(shares.iter().map(|m| m.fen()).sum::<i64>(), total);
            for (share, weight) in shares.iter().zip(&weights) {
                prop_assert!(share.fen() >= 0);
                if weight.is_zero() { prop_assert_eq!(share.fen(), 0); }
            }
        }

        #[test]
        fn shares_differ_from_exact_by_less_than_a_fen(total in 0i64..1_000_000_000, weights in proptest::collection::vec(1u32..10_000, 1..50)) {
            let weights: Vec<Decimal> = weights.into_iter().map(Decimal::from).collect();
            let sum: Decimal = weights.iter().copied().sum();
            let shares = split_exactly(Money::from_fen(total), &weights).unwrap();
            for (share, weight) in shares.iter().zip(&weights) {
                let exact = Decimal::from(total) * *weight / sum;
                prop_assert!((Decimal::from(share.fen()) - exact).abs() < Decimal::ONE);
            }
        }
    }
}
