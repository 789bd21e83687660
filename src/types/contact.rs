//! Contact details of owners and staff, normalised once at the edge.

/// A mainland mobile number (11 digits starting with 1) or a landline with area code
/// (0xx-xxxxxxxx). Spaces and dashes typed by people are dropped; "+86" is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits.strip_prefix("+86").unwrap_or(&digits);
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        let mobile = digits.len() == 11 && digits.starts_with('1');
        let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
        if all_digits && (mobile || landline) {
            Ok(Phone(digits.to_string()))
        } else {
            Err("phone must be an 11-digit mobile number or a landline with area code".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// 138****1234, for people who may see that an owner has a phone but not the number.
    pub fn masked(phone: &str) -> String {
        let chars: Vec<char> = phone.chars().collect();
        if chars.len() < 7 {
            return "*".repeat(chars.len());
        }
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    }
}

/// An email address: one `@`, something on both sides, a dot in the domain, no spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let valid = match text.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && text.len() <= 254
                    && !text.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid {
            Ok(Email(text.to_lowercase()))
        } else {
            Err("email must look like name@example.com".into())
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A resident identity card number (居民身份证号). wuye never stores it whole: only the masked
/// form (first 3 and last 4 characters) is kept, which is enough to tell two owners apart.
pub struct IdNumber;

impl IdNumber {
    pub fn mask(text: &str) -> Result<String, String> {
        let text = text.trim().to_uppercase();
        let valid = text.len() == 18
            && text[..17].bytes().all(|b| b.is_ascii_digit())
            && text[17..].bytes().all(|b| b.is_ascii_digit() || b == b'X');
        if !valid {
            return Err("ID number must be 18 characters: 17 digits and a digit or X".into());
        }
        Ok(format!("{}***********{}", &text[..3], &text[14..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised_or_refused() {
        assert_eq!(Phone::parse("138 0013 1234").unwrap().as_str(), "13800131234");
        assert_eq!(Phone::parse("+86 13800131234").unwrap().as_str(), "13800131234");
        assert_eq!(Phone::parse("021-6254 1234").unwrap().as_str(), "02162541234");
        for bad in ["", "1380013123", "23800131234", "1380013123a", "12345"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Phone::masked("13800131234"), "138****1234");
    }

    #[test]
    fn emails_are_checked() {
        assert_eq!(Email::parse(" Li@Example.com ").unwrap().into_string(), "li@example.com");
        for bad in ["", "a", "a@b", "@b.cn", "a@.cn", "a b@c.cn", "a@b@c.cn"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn id_numbers_are_masked_never_kept() {
        assert_eq!(IdNumber::mask("11010519491231002x").unwrap(), "110***********002X");
        assert!(IdNumber::mask("1101051949123100").is_err());
        assert!(IdNumber::mask("11010519491231002Y").is_err());
    }
}
