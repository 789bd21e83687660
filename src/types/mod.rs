//! Validated value types used at the edge and in every area: parse once, then trust.
//!
//! Money and areas are both kept as integer hundredths (fen, and 0.01 m²) so that no float ever
//! touches them; in JSON they travel as decimal strings ("106.32").

mod area;
mod contact;
mod money;
mod period;
mod rate;

pub use area::Area;
pub use contact::{Email, IdNumber, Phone};
pub use money::{Money, Rounding};
pub use period::Period;
pub use rate::Rate;

use crate::error::Error;

/// A required line of text: trimmed, not empty, at most `max_chars` characters, no control
/// characters.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> Result<String, Error> {
    checked_text(field, value, max_chars, |c| c.is_control())
}

/// Like [`required_text`], for what people write in several lines (a description, a comment):
/// line breaks and tabs are kept, other control characters refused.
pub fn required_lines(field: &str, value: &str, max_chars: usize) -> Result<String, Error> {
    checked_text(field, value, max_chars, |c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// A search or filter from a query string: `None` when blank, else read as [`required_text`]
/// reads a line (PostgreSQL cannot even compare text that holds a NUL). Its length is bounded by
/// the operation's validator.
pub fn optional_filter(field: &str, value: Option<&str>) -> Result<Option<String>, Error> {
    value.filter(|v| !v.trim().is_empty()).map(|v| checked_text(field, v, usize::MAX, |c| c.is_control())).transpose()
}

fn checked_text(field: &str, value: &str, max_chars: usize, refused: impl Fn(char) -> bool) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(field, format!("{field} must not be empty")));
    }
    if value.chars().count() > max_chars {
        return Err(Error::invalid(field, format!("{field} must have at most {max_chars} characters")));
    }
    if value.chars().any(refused) {
        return Err(Error::invalid(field, format!("{field} must not contain control characters")));
    }
    Ok(value.to_string())
}

/// Parses "123", "123.4" or "-123.45" into hundredths, exactly. More than two decimals, an
/// exponent, spaces or anything but digits is refused: money is never rounded silently.
fn parse_hundredths(text: &str) -> Result<i64, &'static str> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || (digits.contains('.') && fraction.is_empty()) {
        return Err("must be a decimal number like \"106.32\"");
    }
    if fraction.len() > 2 {
        return Err("must have at most 2 decimal places");
    }
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| "must be a decimal number")?;
    let value = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(100))
        .and_then(|w| w.checked_add(cents))
        .ok_or("is too large")?;
    Ok(if negative { -value } else { value })
}

/// Hundredths as a decimal with two places: fen as 元, or 0.01 m² as m² ("7000.00"), for
/// totals that no single `Money` or `Area` bounds.
pub fn format_hundredths(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Implements the poem-openapi traits for a type that travels as a decimal string and has
/// `FromStr` and `Display`.
macro_rules! decimal_string_type {
    ($ty:ty, $name:literal, $description:literal) => {
        decimal_string_type!($ty, $name, $description, r"^-?[0-9]+(\.[0-9]{1,2})?$");
    };
    ($ty:ty, $name:literal, $description:literal, $pattern:expr) => {
        impl poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                let mut schema = poem_openapi::registry::MetaSchema::new_with_format("string", "decimal");
                schema.pattern = Some($pattern.to_string());
                schema.description = Some($description);
                poem_openapi::registry::MetaSchemaRef::Inline(Box::new(schema))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl poem_openapi::types::ParseFromJSON for $ty {
            fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
                match value {
                    Some(serde_json::Value::String(text)) => text.parse().map_err(poem_openapi::types::ParseError::custom),
                    _ => Err(poem_openapi::types::ParseError::custom("must be a decimal string like \"106.32\"")),
                }
            }
        }

        impl poem_openapi::types::ParseFromParameter for $ty {
            fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
                value.parse().map_err(poem_openapi::types::ParseError::custom)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a decimal string like \"106.32\"")
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$ty, E> {
                        text.parse().map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        impl poem_openapi::types::ToJSON for $ty {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::String(self.to_string()))
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    };
}
pub(crate) use decimal_string_type;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundredths_parse_exactly_or_refuse() {
        let cases: &[(&str, Result<i64, ()>)] = &[
            ("106.32", Ok(10632)),
            ("0.01", Ok(1)),
            ("5", Ok(500)),
            ("5.5", Ok(550)),
            ("-3.50", Ok(-350)),
            ("92233720368547758.07", Ok(i64::MAX)),
            ("92233720368547758.08", Err(())),
            ("1.005", Err(())),
            ("1.", Err(())),
            (".5", Err(())),
            ("", Err(())),
            ("1e3", Err(())),
            (" 1", Err(())),
            ("1,000", Err(())),
            ("--1", Err(())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_hundredths(text).map_err(|_| ()), *expected, "{text:?}");
        }
    }

    #[test]
    fn hundredths_format_with_two_decimals() {
        assert_eq!(format_hundredths(10632), "106.32");
        assert_eq!(format_hundredths(5), "0.05");
        assert_eq!(format_hundredths(-350), "-3.50");
        assert_eq!(format_hundredths(i64::MIN), "-92233720368547758.08");
    }
}
