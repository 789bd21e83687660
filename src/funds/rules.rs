//! Maintenance-fund rules with no I/O: the initial deposit, the top-up line, and how a sum is
//! spread over sub-ledgers.
use rust_decimal::Decimal;

use crate::{
    billing::rules::split_exactly,
    types::{Money, Rate, Rounding},
};

/// How a compound's initial deposits are set (**local**: a share of the construction cost per
/// m², or a city's fixed amount).
#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DepositBasis {
    /// Area x 元 per m².
    PerM2,
    /// The same amount for every unit.
    Fixed,
}

impl DepositBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            DepositBasis::PerM2 => "per_m2",
            DepositBasis::Fixed => "fixed",
        }
    }

    pub fn parse(text: &str) -> Option<DepositBasis> {
        [DepositBasis::PerM2, DepositBasis::Fixed].into_iter().find(|b| b.as_str() == text)
    }
}

/// How interest and common-area income are shared among the sub-ledgers (**local**).
#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// By each unit's area.
    Area,
    /// By each unit's balance before the allocation.
    Balance,
}

impl Allocation {
    pub fn as_str(self) -> &'static str {
        match self {
            Allocation::Area => "area",
            Allocation::Balance => "balance",
        }
    }

    pub fn parse(text: &str) -> Option<Allocation> {
        [Allocation::Area, Allocation::Balance].into_iter().find(|a| a.as_str() == text)
    }
}

/// A unit's initial deposit: area (hundredths of a m²) x rate, half-up to the fen; or the fixed
/// amount. 90 m² x 90 元/m² = 8,100.00.
pub fn initial_deposit(basis: DepositBasis, area: i64, rate: Option<Rate>, fixed: Option<Money>) -> Option<Money> {
    match basis {
        DepositBasis::PerM2 => Money::from_decimal(Decimal::new(area, 2) * rate?.value(), Rounding::HalfUp),
        DepositBasis::Fixed => fixed,
    }
}

/// Below this share of its initial deposit a sub-ledger must be topped up (续交).
pub const TOP_UP_PERCENT: i64 = 30;

/// Whether a balance is below 30% of the initial deposit: 2,400.00 of 8,100.00 is; 2,430.00
/// (exactly 30%) is not.
pub fn needs_top_up(balance: i64, initial_deposit: i64) -> bool {
    initial_deposit > 0 && (balance as i128) * 100 < (initial_deposit as i128) * TOP_UP_PERCENT as i128
}

/// The line itself, in fen: 30% of the initial deposit rounded up, so that a balance shown as
/// "at the line" is never flagged.
pub fn top_up_line(initial_deposit: i64) -> i64 {
    (initial_deposit * TOP_UP_PERCENT + 99).div_euclid(100)
}

/// Spreads `total` over sub-ledgers by weight (areas in hundredths of a m², or balances in
/// fen), exactly to the fen, leftover fen by `split_exactly`'s rule (largest remainder, then the
/// lower unit id). The weights come in unit-id order.
pub fn spread(total: Money, weights: &[i64]) -> Result<Vec<Money>, String> {
    let weights: Vec<Decimal> = weights.iter().map(|w| Decimal::from((*w).max(0))).collect();
    split_exactly(total, &weights)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn deposits_of_the_domain_notes() {
        let rate: Rate = "90".parse().unwrap();
        assert_eq!(initial_deposit(DepositBasis::PerM2, 9000, Some(rate), None), Some(Money::from_fen(810_000)));
        assert_eq!(initial_deposit(DepositBasis::Fixed, 9000, None, Some(Money::from_fen(500_000))), Some(Money::from_fen(500_000)));
        assert_eq!(initial_deposit(DepositBasis::PerM2, 9000, None, None), None);
    }

    #[test]
    fn the_top_up_line_is_thirty_percent_exclusive() {
        assert!(needs_top_up(240_000, 810_000));
        assert!(!needs_top_up(243_000, 810_000));
        assert!(needs_top_up(242_999, 810_000));
        assert!(needs_top_up(-1, 810_000));
        assert!(!needs_top_up(0, 0));
        assert_eq!(top_up_line(810_000), 243_000);
        assert_eq!(top_up_line(810_001), 243_001);
        assert!(!needs_top_up(top_up_line(810_001), 810_001));
    }

    #[test]
    fn a_repair_is_apportioned_by_area() {
        // 60,000 over 2,400 m²: a 90 m² unit pays 2,250.00.
        let areas = [9000, 231_000];
        let shares = spread(Money::from_fen(6_000_000), &areas).unwrap();
        assert_eq!(shares[0], Money::from_fen(225_000));
        assert_eq!(shares.iter().map(|m| m.fen()).sum::<i64>(), 6_000_000);
    }

    proptest! {
        #[test]
        fn spreads_always_add_up(total in 0i64..10_000_000_000, weights in proptest::collection::vec(0i64..10_000_000, 1..300)) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let shares = spread(Money::from_fen(total), &weights).unwrap();
            prop_assert_eq!(shares.iter().map(|m| m.fen()).sum::<i64>(), total);
            for (share, weight) in shares.iter().zip(&weights) {
                prop_assert!(share.fen() >= 0);
                if *weight == 0 { prop_assert_eq!(share.fen(), 0); }
            }
        }
    }
}
