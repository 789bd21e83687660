//! Vote rules with no I/O: the matters of Civil Code Art. 278, rule sets as data, and the tally
//! against their thresholds, in exact integer arithmetic.
use crate::types::format_hundredths;

/// What owners decide (Civil Code Art. 278).
#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Matter {
    /// 制定和修改业主大会议事规则
    Rules,
    /// 制定和修改管理规约
    Covenant,
    /// 选举业主委员会或者更换业主委员会成员
    CommitteeElection,
    /// 选聘和解聘物业服务企业
    HiringOrFiringTheCompany,
    /// 使用建筑物及其附属设施的维修资金
    UsingTheFund,
    /// 筹集建筑物及其附属设施的维修资金
    RaisingTheFund,
    /// 改建、重建建筑物及其附属设施 (an elevator retrofit is one)
    AlterationOrRebuilding,
    /// 改变共有部分的用途或者利用共有部分从事经营活动
    ChangingCommonParts,
    /// 有关共有和共同管理权利的其他重大事项
    Other,
}

impl Matter {
    pub const ALL: [Matter; 9] = [
        Matter::Rules,
        Matter::Covenant,
        Matter::CommitteeElection,
        Matter::HiringOrFiringTheCompany,
        Matter::UsingTheFund,
        Matter::RaisingTheFund,
        Matter::AlterationOrRebuilding,
        Matter::ChangingCommonParts,
        Matter::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Matter::Rules => "rules",
            Matter::Covenant => "covenant",
            Matter::CommitteeElection => "committee_election",
            Matter::HiringOrFiringTheCompany => "hiring_or_firing_the_company",
            Matter::UsingTheFund => "using_the_fund",
            Matter::RaisingTheFund => "raising_the_fund",
            Matter::AlterationOrRebuilding => "alteration_or_rebuilding",
            Matter::ChangingCommonParts => "changing_common_parts",
            Matter::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Matter> {
        Matter::ALL.into_iter().find(|m| m.as_str() == text)
    }

}

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Agree,
    Disagree,
    Abstain,
}

impl Choice {
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Agree => "agree",
            Choice::Disagree => "disagree",
            Choice::Abstain => "abstain",
        }
    }

    pub fn parse(text: &str) -> Option<Choice> {
        [Choice::Agree, Choice::Disagree, Choice::Abstain].into_iter().find(|c| c.as_str() == text)
    }
}

/// A fraction of a rule: 2/3, 3/4, 1/2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fraction {
    pub num: i64,
    pub den: i64,
}

impl Fraction {
    pub fn parse(text: &str) -> Option<Fraction> {
        let (num, den) = text.split_once('/')?;
        let (num, den) = (num.trim().parse().ok()?, den.trim().parse().ok()?);
        (den > 0 && num > 0 && num <= den).then_some(Fraction { num, den })
    }
}

impl std::fmt::Display for Fraction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// "At least" (以上, the number included) or "more than" a fraction of a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    pub fraction: Fraction,
    pub inclusive: bool,
}

impl Threshold {
    /// The smallest whole-number part that meets the threshold.
    pub fn needed(self, whole: i64) -> i64 {
        let product = self.fraction.num as i128 * whole as i128;
        let den = self.fraction.den as i128;
        let needed = if self.inclusive { (product + den - 1).div_euclid(den) } else { product.div_euclid(den) + 1 };
        needed as i64
    }

    pub fn met(self, part: i64, whole: i64) -> bool {
        whole > 0 && part >= self.needed(whole)
    }

    fn describe(self) -> String {
        format!("{} {}", if self.inclusive { "at least" } else { "more than" }, self.fraction)
    }
}

/// What approval is counted against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// The owners who took part (Civil Code).
    Participating,
    /// Every owner in scope (the Property Law; some local elevator rules).
    All,
}

/// A rule set, parsed from its row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSet {
    pub code: String,
    pub quorum: Option<Fraction>,
    pub base: Base,
    pub special: Threshold,
    pub ordinary: Threshold,
    pub no_objection: bool,
    /// The matters that need the special majority (Civil Code: raising the fund, alteration or
    /// rebuilding, changing common parts).
    pub special_matters: Vec<Matter>,
    /// The matters the rule set may decide; None: every matter.
    pub matters: Option<Vec<Matter>>,
}

impl RuleSet {
    pub fn from_row(row: &entity::vote_rule_set::Model) -> Option<RuleSet> {
        Some(RuleSet {
            code: row.code.clone(),
            quorum: match &row.quorum {
                Some(text) => Some(Fraction::parse(text)?),
                None => None,
            },
            base: match row.approval_base.as_str() {
                "participating" => Base::Participating,
                "all" => Base::All,
                _ => return None,
            },
            special: Threshold { fraction: Fraction::parse(&row.special_majority)?, inclusive: row.special_inclusive },
            ordinary: Threshold { fraction: Fraction::parse(&row.ordinary_majority)?, inclusive: row.ordinary_inclusive },
            no_objection: row.no_objection,
            special_matters: matters(&row.special_matters)?,
            matters: match &row.matters {
                Some(text) => Some(matters(text)?),
                None => None,
            },
        })
    }

    pub fn is_special(&self, matter: Matter) -> bool {
        self.special_matters.contains(&matter)
    }

    pub fn decides(&self, matter: Matter) -> bool {
        self.matters.as_ref().is_none_or(|m| m.contains(&matter))
    }
}

fn matters(json: &str) -> Option<Vec<Matter>> {
    let names: Vec<String> = serde_json::from_str(json).ok()?;
    names.iter().map(|n| Matter::parse(n)).collect()
}

/// Area (hundredths of a m²) and headcount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Count {
    pub area: i64,
    pub headcount: i64,
}

impl Count {
    pub fn add(&mut self, area: i64) {
        self.area += area;
        self.headcount += 1;
    }
}

/// The counts a tally is made from: the electorate and each elector's last ballot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub electorate: Count,
    pub agree: Count,
    pub disagree: Count,
    pub abstain: Count,
}

impl Counts {
    pub fn participating(&self) -> Count {
        Count {
            area: self.agree.area + self.disagree.area + self.abstain.area,
            headcount: self.agree.headcount + self.disagree.headcount + self.abstain.headcount,
        }
    }
}

/// One threshold checked.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Check {
    /// quorum_area, quorum_headcount, approval_area, approval_headcount, no_objection
    pub name: String,
    pub rule: String,
    /// Area in hundredths of a m², or a headcount.
    pub got: i64,
    pub needed: i64,
    pub met: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    pub counts: Counts,
    pub checks: Vec<Check>,
    pub passed: bool,
    /// Why it failed, one line per threshold not met; empty when it passed.
    pub reasons: Vec<String>,
}

fn shown(name: &str, value: i64) -> String {
    if name.ends_with("area") {
        format!("{} m²", format_hundredths(value))
    } else if value == 1 {
        "1 owner".into()
    } else {
        format!("{value} owners")
    }
}

/// Decides a vote: the quorum (if the rule set has one) on area and headcount, then approval on
/// area and headcount against the participating or the whole electorate, then "no objection"
/// where the rule set asks for it.
pub fn tally(rules: &RuleSet, matter: Matter, counts: Counts) -> Outcome {
    let participating = counts.participating();
    let mut checks = Vec::new();
    let mut check = |name: &str, rule: String, threshold: Threshold, got: i64, whole: i64| {
        checks.push(Check { name: name.into(), rule, got, needed: threshold.needed(whole), met: threshold.met(got, whole) });
    };
    if let Some(quorum) = rules.quorum {
        let at_least = Threshold { fraction: quorum, inclusive: true };
        check("quorum_area", format!("{} of the area takes part", at_least.describe()), at_least, participating.area, counts.electorate.area);
        check("quorum_headcount", format!("{} of the owners take part", at_least.describe()), at_least, participating.headcount, counts.electorate.headcount);
    }
    let threshold = if rules.is_special(matter) { rules.special } else { rules.ordinary };
    let (base, of) = match rules.base {
        Base::Participating => (participating, "participating"),
        Base::All => (counts.electorate, "all the"),
    };
    check("approval_area", format!("{} of {of} area agrees", threshold.describe()), threshold, counts.agree.area, base.area);
    check("approval_headcount", format!("{} of {of} owners agree", threshold.describe()), threshold, counts.agree.headcount, base.headcount);
    if rules.no_objection {
        checks.push(Check {
            name: "no_objection".into(),
            rule: "no owner votes against".into(),
            got: counts.disagree.headcount,
            needed: 0,
            met: counts.disagree.headcount == 0,
        });
    }
    let reasons: Vec<String> = checks
        .iter()
        .filter(|c| !c.met)
        .map(|c| {
            if c.name == "no_objection" {
                format!("{}: {} voted against", c.rule, shown("headcount", c.got))
            } else {
                format!("{}: {} where {} are needed", c.rule, shown(&c.name, c.got), shown(&c.name, c.needed))
            }
        })
        .collect();
    Outcome { counts, passed: reasons.is_empty(), checks, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civil_code() -> RuleSet {
        let third = |num, den| Fraction { num, den };
        RuleSet {
            code: "civil_code_2021".into(),
            quorum: Some(third(2, 3)),
            base: Base::Participating,
            special: Threshold { fraction: third(3, 4), inclusive: true },
            ordinary: Threshold { fraction: third(1, 2), inclusive: false },
            no_objection: false,
            special_matters: vec![Matter::RaisingTheFund, Matter::AlterationOrRebuilding, Matter::ChangingCommonParts],
            matters: None,
        }
    }

    fn counts(electorate: (i64, i64), agree: (i64, i64), disagree: (i64, i64)) -> Counts {
        Counts {
            electorate: Count { area: electorate.0, headcount: electorate.1 },
            agree: Count { area: agree.0, headcount: agree.1 },
            disagree: Count { area: disagree.0, headcount: disagree.1 },
            abstain: Count::default(),
        }
    }

    #[test]
    fn thresholds_include_or_exclude_their_boundary() {
        let at_least_three_quarters = Threshold { fraction: Fraction { num: 3, den: 4 }, inclusive: true };
        assert_eq!(at_least_three_quarters.needed(68), 51);
        assert!(at_least_three_quarters.met(3, 4));
        let more_than_half = Threshold { fraction: Fraction { num: 1, den: 2 }, inclusive: false };
        assert!(!more_than_half.met(2, 4));
        assert!(more_than_half.met(3, 4));
        assert_eq!(more_than_half.needed(5), 3);
        assert!(!more_than_half.met(0, 0));
    }

    /// The domain notes' example: 10,000 m², 100 owners; 7,000 m² and 68 owners take part.
    #[test]
    fn the_domain_example_in_m2_hundredths() {
        let fails = tally(&civil_code(), Matter::AlterationOrRebuilding, counts((1_000_000, 100), (530_000, 50), (170_000, 18)));
        assert!(!fails.passed);
        assert_eq!(fails.reasons, vec!["at least 3/4 of participating owners agree: 50 owners where 51 owners are needed".to_string()]);
        let passes = tally(&civil_code(), Matter::AlterationOrRebuilding, counts((1_000_000, 100), (525_000, 51), (175_000, 17)));
        assert!(passes.passed, "{:?}", passes.reasons);
    }

    #[test]
    fn boundaries() {
        let rules = civil_code();
        // Exactly 2/3 takes part: quorum met. Exactly 3/4 agrees: a special matter passes.
        let exact = tally(&rules, Matter::RaisingTheFund, counts((600, 6), (300, 3), (100, 1)));
        assert!(exact.passed, "{:?}", exact.reasons);
        // One m² hundredth short of 2/3 of the area: no quorum.
        let short = tally(&rules, Matter::RaisingTheFund, counts((600, 6), (300, 3), (99, 1)));
        assert!(!short.passed);
        assert!(short.reasons[0].starts_with("at least 2/3 of the area takes part"), "{:?}", short.reasons);
        // Exactly half agrees: a majority matter fails.
        let half = tally(&rules, Matter::UsingTheFund, counts((400, 4), (200, 2), (200, 2)));
        assert!(!half.passed);
        assert_eq!(half.reasons.len(), 2);
    }

    #[test]
    fn no_objection_fails_on_one_disagreeing_owner() {
        let rules = RuleSet {
            code: "elevator_two_thirds_no_objection".into(),
            quorum: None,
            base: Base::All,
            special: Threshold { fraction: Fraction { num: 2, den: 3 }, inclusive: true },
            ordinary: Threshold { fraction: Fraction { num: 2, den: 3 }, inclusive: true },
            no_objection: true,
            special_matters: vec![Matter::AlterationOrRebuilding],
            matters: Some(vec![Matter::AlterationOrRebuilding]),
        };
        assert!(tally(&rules, Matter::AlterationOrRebuilding, counts((600, 6), (400, 4), (0, 0))).passed);
        let objected = tally(&rules, Matter::AlterationOrRebuilding, counts((600, 6), (500, 5), (100, 1)));
        assert_eq!(objected.reasons, vec!["no owner votes against: 1 owner voted against".to_string()]);
    }
}
