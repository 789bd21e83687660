use std::{fmt, str::FromStr};

use super::{decimal_string_type, format_hundredths, parse_hundredths};

/// A building area in square metres, held as integer hundredths (88.60 m² is 8860). Always
/// positive: a unit without area cannot be billed or vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Area(i64);

impl Area {
    /// The largest area we accept for one unit: a whole-floor commercial space, not a typo.
    pub const MAX_HUNDREDTHS: i64 = 10_000_000;

    pub fn from_hundredths(value: i64) -> Result<Self, String> {
        if value <= 0 {
            Err("area must be greater than 0".into())
        } else if value > Self::MAX_HUNDREDTHS {
            Err(format!("area must be at most {} m²", format_hundredths(Self::MAX_HUNDREDTHS)))
        } else {
            Ok(Area(value))
        }
    }

    pub fn hundredths(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_hundredths(self.0))
    }
}

impl FromStr for Area {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let value = parse_hundredths(text).map_err(|rule| format!("area {rule}"))?;
        Area::from_hundredths(value)
    }
}

decimal_string_type!(Area, "Area", "A building area in m² with at most 2 decimals, as a string: \"88.60\"");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_must_be_positive_and_plausible() {
        assert_eq!("88.60".parse::<Area>().unwrap().hundredths(), 8860);
        assert!("0".parse::<Area>().is_err());
        assert!("-1".parse::<Area>().is_err());
        assert!("100000.01".parse::<Area>().is_err());
        assert!("100000.00".parse::<Area>().is_ok());
    }
}
