//! Registry rules with no I/O: which area counts, what a unit is called, who votes for it.
use poem_openapi::Enum;

/// Which of a unit's recorded areas is the one that counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    /// 产权面积, on the property certificate.
    Registered,
    /// 实测面积, from the survey.
    Surveyed,
    /// 合同面积, from the sales contract.
    Contract,
}

/// The area that counts for fees and votes: registered, else surveyed, else contract.
pub fn effective_area(registered: Option<i64>, surveyed: Option<i64>, contract: Option<i64>) -> Option<(i64, AreaKind)> {
    registered
        .map(|a| (a, AreaKind::Registered))
        .or(surveyed.map(|a| (a, AreaKind::Surveyed)))
        .or(contract.map(|a| (a, AreaKind::Contract)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum UnitUse {
    Residential,
    Commercial,
    Parking,
    Storage,
}

impl UnitUse {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitUse::Residential => "residential",
            UnitUse::Commercial => "commercial",
            UnitUse::Parking => "parking",
            UnitUse::Storage => "storage",
        }
    }

    /// Accepts the English names and the words property spreadsheets use (住宅, 商业, 车位, 储藏室).
    pub fn parse(text: &str) -> Option<UnitUse> {
        match text.trim().to_lowercase().as_str() {
            "residential" | "住宅" | "住宅用房" => Some(UnitUse::Residential),
            "commercial" | "商业" | "商铺" | "商业用房" => Some(UnitUse::Commercial),
            "parking" | "车位" | "停车位" => Some(UnitUse::Parking),
            "storage" | "储藏室" | "储藏间" | "地下室" => Some(UnitUse::Storage),
            _ => None,
        }
    }
}

/// How people name a unit: building, stairwell, number (1栋-2单元-301).
pub fn unit_label(building: &str, stairwell: &str, number: &str) -> String {
    format!("{building}-{stairwell}-{number}")
}

/// The owner who votes for a unit. A sole owner votes; co-owners must name exactly one of them.
pub fn designated_voter(owners: &[(i64, bool)]) -> Result<i64, &'static str> {
    match owners {
        [] => Err("a unit needs at least one owner"),
        [(only, _)] => Ok(*only),
        _ => {
            let mut named = owners.iter().filter(|(_, designated)| *designated);
            match (named.next(), named.next()) {
                (Some((id, _)), None) => Ok(*id),
                (None, _) => Err("co-owners must name one of them as the unit's voter"),
                (Some(_), Some(_)) => Err("co-owners may name only one voter"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_area_wins_then_surveyed_then_contract() {
        let cases = [
            ((Some(8860), Some(8900), Some(9000)), Some((8860, AreaKind::Registered))),
            ((None, Some(8900), Some(9000)), Some((8900, AreaKind::Surveyed))),
            ((None, None, Some(9000)), Some((9000, AreaKind::Contract))),
            ((None, None, None), None),
        ];
        for ((registered, surveyed, contract), expected) in cases {
            assert_eq!(effective_area(registered, surveyed, contract), expected);
        }
    }

    #[test]
    fn unit_uses_read_chinese_spreadsheets() {
        assert_eq!(UnitUse::parse("住宅"), Some(UnitUse::Residential));
        assert_eq!(UnitUse::parse(" Parking "), Some(UnitUse::Parking));
        assert_eq!(UnitUse::parse("车库"), None);
    }

    #[test]
    fn exactly_one_voter_per_unit() {
        assert_eq!(designated_voter(&[(7, false)]), Ok(7));
        assert_eq!(designated_voter(&[(7, false), (8, true)]), Ok(8));
        assert!(designated_voter(&[(7, false), (8, false)]).is_err());
        assert!(designated_voter(&[(7, true), (8, true)]).is_err());
        assert!(designated_voter(&[]).is_err());
    }
}
