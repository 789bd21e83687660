use std::{fmt, str::FromStr};

use rust_decimal::Decimal;

use super::decimal_string_type;

/// A non-negative rate or factor written as a decimal string: a price per m² ("1.20"), a daily
/// late-fee rate ("0.0003"), a coefficient ("0.7"), a share ("0.70"). At most 8 decimals, never
/// a JSON number, so no float ever carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(Decimal);

impl Rate {
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') && text.matches('.').count() <= 1;
        let value: Decimal = text.parse().ok().filter(|_| plain).ok_or("must be a non-negative decimal number like \"1.20\"")?;
        if value.scale() > 8 {
            return Err("must have at most 8 decimal places".into());
        }
        if value > Decimal::from(1_000_000) {
            return Err("must be at most 1000000".into());
        }
        Ok(Rate(value))
    }
}

decimal_string_type!(Rate, "Rate", "A non-negative decimal as a string: \"1.20\", \"0.0003\"", r"^[0-9]+(\.[0-9]{1,8})?$");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_plain_non_negative_decimals() {
        assert_eq!("0.0003".parse::<Rate>().unwrap().to_string(), "0.0003");
        assert_eq!("1.20".parse::<Rate>().unwrap().value(), Decimal::new(120, 2));
        for bad in ["-1", "1e-3", "", "0.000000001", "1,2", " 1"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }
}
