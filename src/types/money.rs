use std::{fmt, str::FromStr};

use rust_decimal::{Decimal, RoundingStrategy};

use super::{decimal_string_type, format_hundredths, parse_hundredths};

/// An amount of 元, held as integer fen. The only way in from a computed `Decimal` names its
/// rounding, so every rounding in the code base can be found by searching for `Rounding::`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// How a computed amount is brought to the fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// 四舍五入: half a fen and more goes up (away from zero). The default for fees.
    HalfUp,
    /// Drop the part below a fen (toward zero), e.g. for a share of a split before the leftover
    /// fen are handed out.
    Down,
    /// Any part of a fen counts as a whole fen (away from zero).
    Up,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Brings a computed amount to the fen with the named rounding. `None` if it does not fit.
    pub fn from_decimal(amount: Decimal, rounding: Rounding) -> Option<Self> {
        let strategy = match rounding {
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::Up => RoundingStrategy::AwayFromZero,
        };
        let fen = amount.round_dp_with_strategy(2, strategy) * Decimal::ONE_HUNDRED;
        i64::try_from(fen).ok().map(Money)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_hundredths(self.0))
    }
}

impl Money {
    /// The largest amount accepted from outside: 1,000,000,000.00 元. Far above any bill or
    /// payment, and low enough that no sum of them can overflow.
    pub const MAX_INPUT: Money = Money(100_000_000_000);
}

impl FromStr for Money {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fen = parse_hundredths(text).map_err(|rule| format!("amount {rule}"))?;
        if fen.abs() > Money::MAX_INPUT.0 {
            return Err(format!("amount must be at most {} in size", Money::MAX_INPUT));
        }
        Ok(Money(fen))
    }
}

decimal_string_type!(Money, "Money", "An amount in yuan with at most 2 decimals, as a string: \"106.32\"");

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn property_fee_of_domain_notes() {
        // 1.20 元/m²·month x 88.60 m² = 106.32
        let fee = dec("1.20") * dec("88.60");
        assert_eq!(Money::from_decimal(fee, Rounding::HalfUp), Some(Money::from_fen(10632)));
    }

    #[test]
    fn late_fee_of_domain_notes() {
        // 1,275.84 overdue 100 days at 0.03%/day = 38.2752 -> 38.28
        let late = Money::from_fen(127584).to_decimal() * dec("0.0003") * dec("100");
        assert_eq!(Money::from_decimal(late, Rounding::HalfUp).unwrap().to_string(), "38.28");
    }

    #[test]
    fn each_rounding_is_distinct_at_the_half_fen() {
        let cases = [
            ("0.005", Rounding::HalfUp, 1),
            ("0.0049", Rounding::HalfUp, 0),
            ("0.009", Rounding::Down, 0),
            ("0.001", Rounding::Up, 1),
            ("-0.005", Rounding::HalfUp, -1),
            ("-0.009", Rounding::Down, 0),
        ];
        for (amount, rounding, fen) in cases {
            assert_eq!(Money::from_decimal(dec(amount), rounding), Some(Money::from_fen(fen)), "{amount} {rounding:?}");
        }
    }

    #[test]
    fn overflow_is_refused_not_wrapped() {
        assert_eq!(Money::from_fen(i64::MAX).checked_add(Money::from_fen(1)), None);
        assert_eq!(Money::from_decimal(dec("1e20"), Rounding::HalfUp), None);
    }

    #[test]
    fn text_round_trips() {
        for text in ["0.00", "0.01", "106.32", "-7.10", "8100.00"] {
            assert_eq!(text.parse::<Money>().unwrap().to_string(), text);
        }
        assert!("1.001".parse::<Money>().unwrap_err().contains("at most 2 decimal places"));
        assert!("1000000000.00".parse::<Money>().is_ok());
        assert!("1000000000.01".parse::<Money>().is_err());
        assert!("-1000000000.01".parse::<Money>().is_err());
    }
}
