//! Elevator-retrofit cost sharing with no I/O (**local** guidance, negotiated per stairwell):
//! every household's share of the owners' part, adding up to it exactly.
use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::{billing::rules::split_exactly, types::Money};

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SharingMethod {
    /// The floor's coefficient x the flat's area (3F 0.7, 4F 0.8, ...).
    AreaCoefficient,
    /// A percentage of the owners' part per floor (3F 10%, 4F 20%, ...), split on the floor by area.
    FloorPercentage,
    /// A negotiated coefficient per flat, keyed by unit id.
    UnitCoefficient,
}

impl SharingMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SharingMethod::AreaCoefficient => "area_coefficient",
            SharingMethod::FloorPercentage => "floor_percentage",
            SharingMethod::UnitCoefficient => "unit_coefficient",
        }
    }

    pub fn parse(text: &str) -> Option<SharingMethod> {
        [SharingMethod::AreaCoefficient, SharingMethod::FloorPercentage, SharingMethod::UnitCoefficient].into_iter().find(|m| m.as_str() == text)
    }
}

/// A flat of the stairwell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Household {
    pub unit_id: i64,
    pub floor: i32,
    /// Hundredths of a m².
    pub area: i64,
}

/// A household's weight and share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    pub unit_id: i64,
    pub weight: Decimal,
    pub share: Money,
}

/// The plan's terms: coefficients keyed by floor (area_coefficient), percentages keyed by floor
/// (floor_percentage) or coefficients keyed by unit id (unit_coefficient); exempt floors pay
/// nothing whatever the coefficients say.
pub struct Terms<'a> {
    pub method: SharingMethod,
    pub coefficients: &'a BTreeMap<i64, Decimal>,
    pub exempt_floors: &'a BTreeSet<i32>,
}

/// Every household's share of `owners_part`, in the households' order (by unit id). Errors
/// name the rule broken, to be shown against the `coefficients` field.
pub fn shares(owners_part: Money, households: &[Household], terms: &Terms) -> Result<Vec<Share>, String> {
    let floors: BTreeSet<i32> = households.iter().map(|h| h.floor).collect();
    if let Some(floor) = terms.exempt_floors.iter().find(|f| !floors.contains(f)) {
        return Err(format!("exempt floor {floor} has no flat in this stairwell"));
    }
    // By floor: every paying floor is named (a floor left out would pay nothing unseen), and
    // every floor named is a paying floor of this stairwell.
    if terms.method != SharingMethod::UnitCoefficient {
        if let Some(floor) = floors.iter().find(|f| !terms.exempt_floors.contains(f) && !terms.coefficients.contains_key(&(**f as i64))) {
            return Err(format!("floor {floor} has no coefficient; list it, or list it as exempt"));
        }
        if let Some(floor) = terms.coefficients.keys().find(|f| !floors.contains(&(**f as i32)) || terms.exempt_floors.contains(&(**f as i32))) {
            return Err(format!("floor {floor} is not a paying floor of this stairwell"));
        }
    }
    let exempt = |h: &Household| terms.exempt_floors.contains(&h.floor);
    let area = |h: &Household| Decimal::new(h.area, 2);
    let weights: Vec<Decimal> = match terms.method {
        SharingMethod::AreaCoefficient => households
            .iter()
            .map(|h| if exempt(h) { Decimal::ZERO } else { terms.coefficients.get(&(h.floor as i64)).copied().unwrap_or_default() * area(h) })
            .collect(),
        SharingMethod::UnitCoefficient => {
            if let Some(h) = households.iter().find(|h| !exempt(h) && !terms.coefficients.contains_key(&h.unit_id)) {
                return Err(format!("unit {} has no coefficient", h.unit_id));
            }
            if let Some(id) = terms.coefficients.keys().find(|id| !households.iter().any(|h| h.unit_id == **id)) {
                return Err(format!("unit {id} is not a flat of this stairwell"));
            }
            households.iter().map(|h| if exempt(h) { Decimal::ZERO } else { terms.coefficients[&h.unit_id] }).collect()
        }
        SharingMethod::FloorPercentage => return floor_percentage(owners_part, households, terms),
    };
    let amounts = split_exactly(owners_part, &weights)?;
    Ok(households.iter().zip(weights).zip(amounts).map(|((h, weight), share)| Share { unit_id: h.unit_id, weight, share }).collect())
}

/// Each floor's percentage of the owners' part (exactly), then each floor's amount over its
/// flats by area (exactly).
fn floor_percentage(owners_part: Money, households: &[Household], terms: &Terms) -> Result<Vec<Share>, String> {
    let paying: BTreeSet<i32> = households.iter().map(|h| h.floor).filter(|f| !terms.exempt_floors.contains(f)).collect();
    let percents: Vec<Decimal> = paying.iter().map(|f| terms.coefficients.get(&(*f as i64)).copied().unwrap_or_default()).collect();
    let sum: Decimal = percents.iter().copied().sum();
    if sum != Decimal::from(100) {
        return Err(format!("the paying floors' percentages add up to {sum}, not 100"));
    }
    let per_floor = split_exactly(owners_part, &percents)?;
    let mut shares: BTreeMap<i64, Share> = BTreeMap::new();
    for (floor, (amount, percent)) in paying.iter().zip(per_floor.into_iter().zip(percents)) {
        let flats: Vec<&Household> = households.iter().filter(|h| h.floor == *floor).collect();
        let areas: Vec<Decimal> = flats.iter().map(|h| Decimal::new(h.area, 2)).collect();
        for (flat, share) in flats.iter().zip(split_exactly(amount, &areas)?) {
            shares.insert(flat.unit_id, Share { unit_id: flat.unit_id, weight: percent, share });
        }
    }
    Ok(households
        .iter()
        .map(|h| shares.remove(&h.unit_id).unwrap_or(Share { unit_id: h.unit_id, weight: Decimal::ZERO, share: Money::ZERO }))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stairwell() -> Vec<Household> {
        // Two flats a floor, seven floors, 80 m² and 90 m².
        (1..=7).flat_map(|floor| [Household { unit_id: floor as i64 * 10 + 1, floor, area: 8000 }, Household { unit_id: floor as i64 * 10 + 2, floor, area: 9000 }]).collect()
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn coefficient_times_area_exempts_the_low_floors() {
        let coefficients = BTreeMap::from([(3, dec("0.7")), (4, dec("0.8")), (5, dec("0.9")), (6, dec("1.0")), (7, dec("1.1"))]);
        let exempt = BTreeSet::from([1, 2]);
        let terms = Terms { method: SharingMethod::AreaCoefficient, coefficients: &coefficients, exempt_floors: &exempt };
        let part = Money::from_fen(50_000_000);
        let shares = shares(part, &stairwell(), &terms).unwrap();
        assert_eq!(shares.iter().map(|s| s.share.fen()).sum::<i64>(), part.fen());
        assert!(shares.iter().filter(|s| s.unit_id < 30).all(|s| s.share == Money::ZERO));
        // 7F pays 1.1/0.7 of 3F for the same area.
        let of = |id: i64| shares.iter().find(|s| s.unit_id == id).unwrap().share.fen();
        assert!((of(71) * 7 - of(31) * 11).abs() <= 11, "{} {}", of(71), of(31));
    }

    #[test]
    fn a_percentage_per_floor() {
        // 3F 10%, 4F 20%, 5F 30%, 6F 40% of 400,000.00; floors 1, 2 and 7 exempt.
        let coefficients = BTreeMap::from([(3, dec("10")), (4, dec("20")), (5, dec("30")), (6, dec("40"))]);
        let exempt = BTreeSet::from([1, 2, 7]);
        let terms = Terms { method: SharingMethod::FloorPercentage, coefficients: &coefficients, exempt_floors: &exempt };
        let shares = shares(Money::from_fen(40_000_000), &stairwell(), &terms).unwrap();
        let floor_total = |floor: i64| shares.iter().filter(|s| s.unit_id / 10 == floor).map(|s| s.share.fen()).sum::<i64>();
        assert_eq!([floor_total(3), floor_total(4), floor_total(5), floor_total(6), floor_total(7)], [4_000_000, 8_000_000, 12_000_000, 16_000_000, 0]);
        let wrong = BTreeMap::from([(3, dec("10")), (4, dec("20"))]);
        let terms = Terms { method: SharingMethod::FloorPercentage, coefficients: &wrong, exempt_floors: &exempt };
        assert!(shares_err(&terms).contains("floor 5 has no coefficient"), "{}", shares_err(&terms));
        let short = BTreeMap::from([(3, dec("10")), (4, dec("20")), (5, dec("30")), (6, dec("30"))]);
        let terms = Terms { method: SharingMethod::FloorPercentage, coefficients: &short, exempt_floors: &exempt };
        assert!(shares_err(&terms).contains("add up to 90"));
    }

    fn shares_err(terms: &Terms) -> String {
        shares(Money::from_fen(100), &stairwell(), terms).unwrap_err()
    }

    #[test]
    fn custom_coefficients_name_every_flat() {
        let exempt = BTreeSet::new();
        let partial = BTreeMap::from([(11, dec("1"))]);
        let terms = Terms { method: SharingMethod::UnitCoefficient, coefficients: &partial, exempt_floors: &exempt };
        assert!(shares_err(&terms).contains("has no coefficient"));
    }

    proptest! {
        #[test]
        fn shares_always_add_up_to_the_owners_part(part in 1i64..5_000_000_000, coefficients in proptest::collection::vec(1u32..300, 7)) {
            let coefficients: BTreeMap<i64, Decimal> = coefficients.iter().enumerate().map(|(i, c)| (i as i64 + 1, Decimal::new(*c as i64, 2))).collect();
            let exempt = BTreeSet::new();
            for method in [SharingMethod::AreaCoefficient, SharingMethod::FloorPercentage] {
                let coefficients = if method == SharingMethod::FloorPercentage {
                    let total: Decimal = coefficients.values().copied().sum();
                    let mut scaled: BTreeMap<i64, Decimal> = coefficients.iter().map(|(f, c)| (*f, (*c * Decimal::from(100) / total).round_dp(4))).collect();
                    let drift = Decimal::from(100) - scaled.values().copied().sum::<Decimal>();
                    *scaled.get_mut(&7).unwrap() += drift;
                    scaled
                } else { coefficients.clone() };
                let terms = Terms { method, coefficients: &coefficients, exempt_floors: &exempt };
                let shares = shares(Money::from_fen(part), &stairwell(), &terms).unwrap();
                prop_assert_eq!(shares.iter().map(|s| s.share.fen()).sum::<i64>(), part);
            }
        }
    }
}
