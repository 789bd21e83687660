use std::{fmt, str::FromStr};

use chrono::{Datelike, Months, NaiveDate};

/// A billing period: one calendar month, written "2026-11".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    pub fn new(year: i32, month: u32) -> Option<Period> {
        ((2000..=2200).contains(&year) && (1..=12).contains(&month)).then_some(Period { year, month })
    }

    pub fn containing(date: NaiveDate) -> Period {
        Period { year: date.year(), month: date.month() }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid period has a first day")
    }

    pub fn plus_months(self, months: u32) -> Period {
        Period::containing(self.first_day() + Months::new(months))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let rule = || format!("period must be a month from 2000-01 to 2200-12 written like 2026-11, got {text:?}");
        let (year, month) = text.split_once('-').ok_or_else(rule)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(rule());
        }
        let year = year.parse().map_err(|_| rule())?;
        let month = month.parse().map_err(|_| rule())?;
        Period::new(year, month).ok_or_else(rule)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl poem_openapi::types::Type for Period {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        "Period".into()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        let mut schema = poem_openapi::registry::MetaSchema::new("string");
        schema.pattern = Some(r"^[0-9]{4}-(0[1-9]|1[0-2])$".to_string());
        schema.description = Some("A billing month: 2026-11");
        poem_openapi::registry::MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl poem_openapi::types::ParseFromJSON for Period {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value {
            Some(serde_json::Value::String(text)) => text.parse().map_err(poem_openapi::types::ParseError::custom),
            _ => Err(poem_openapi::types::ParseError::custom("period must be a string like 2026-11")),
        }
    }
}

impl poem_openapi::types::ParseFromParameter for Period {
    fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
        value.parse().map_err(poem_openapi::types::ParseError::custom)
    }
}

impl poem_openapi::types::ToJSON for Period {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_strictly() {
        assert_eq!("2026-11".parse::<Period>().unwrap().to_string(), "2026-11");
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "2026-00", "", "2026-11-01"] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn months_add_across_years() {
        let p: Period = "2026-11".parse().unwrap();
        assert_eq!(p.plus_months(3).to_string(), "2027-02");
        assert_eq!(p.first_day().to_string(), "2026-11-01");
    }
}
