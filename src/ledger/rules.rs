//! Ledger rules with no I/O: the chart of accounts, what makes an entry balanced, and the hash
//! that chains each entry to the one before it.
use poem_openapi::Enum;
use sha2::{Digest, Sha256};

/// The chart of accounts, the same for every compound. Lines name the unit or fee item they
/// concern, so "receivables by unit" is the receivables account filtered by unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Account {
    /// 1001 库存现金: cash at the desk.
    Cash,
    /// 1002 银行存款: bank transfers and POS settlements.
    Bank,
    /// 1003 维修资金专户存款: the maintenance fund's own bank account, apart from the company's.
    FundBank,
    /// 1012 第三方支付清算: paid online, not yet settled by the gateway.
    GatewayClearing,
    /// 1122 应收账款: what each unit owes, by unit.
    Receivable,
    /// 2203 预收账款: prepaid balances (预存), by unit; a liability until bills draw on it.
    Prepaid,
    /// 2241 业主共有收益: income from common parts; the owners' money, never company revenue.
    OwnersCommonIncome,
    /// 2242 住宅专项维修资金: the maintenance fund's control account; its lines name the unit
    /// whose sub-ledger (分户账) they move.
    MaintenanceFund,
    /// 2243 代收加装电梯款: elevator-retrofit shares collected for a stairwell's project, by unit.
    ElevatorCollections,
    /// 6001 物业服务收入: fee revenue, by fee item.
    FeeRevenue,
    /// 6051 滞纳金收入: late fees, recognised when collected.
    LateFeeRevenue,
}

impl Account {
    pub const ALL: [Account; 11] = [
        Account::Cash,
        Account::Bank,
        Account::FundBank,
        Account::GatewayClearing,
        Account::Receivable,
        Account::Prepaid,
        Account::OwnersCommonIncome,
        Account::MaintenanceFund,
        Account::ElevatorCollections,
        Account::FeeRevenue,
        Account::LateFeeRevenue,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Account::Cash => "1001",
            Account::Bank => "1002",
            Account::FundBank => "1003",
            Account::GatewayClearing => "1012",
            Account::Receivable => "1122",
            Account::Prepaid => "2203",
            Account::OwnersCommonIncome => "2241",
            Account::MaintenanceFund => "2242",
            Account::ElevatorCollections => "2243",
            Account::FeeRevenue => "6001",
            Account::LateFeeRevenue => "6051",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Account::Cash => "库存现金 cash",
            Account::Bank => "银行存款 bank",
            Account::FundBank => "维修资金专户存款 maintenance-fund bank account",
            Account::GatewayClearing => "第三方支付清算 gateway clearing",
            Account::Receivable => "应收账款 receivables",
            Account::Prepaid => "预收账款 prepaid balances",
            Account::OwnersCommonIncome => "业主共有收益 owners' common-area income",
            Account::MaintenanceFund => "住宅专项维修资金 maintenance fund",
            Account::ElevatorCollections => "代收加装电梯款 elevator-retrofit collections",
            Account::FeeRevenue => "物业服务收入 fee revenue",
            Account::LateFeeRevenue => "滞纳金收入 late-fee revenue",
        }
    }

    pub fn from_code(code: &str) -> Option<Account> {
        Account::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// One side of one line, in fen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub account: Account,
    pub unit_id: Option<i64>,
    pub fee_item_id: Option<i64>,
    pub debit: i64,
    pub credit: i64,
}

impl Line {
    pub fn debit(account: Account, fen: i64) -> Line {
        Line { account, unit_id: None, fee_item_id: None, debit: fen, credit: 0 }
    }

    pub fn credit(account: Account, fen: i64) -> Line {
        Line { account, unit_id: None, fee_item_id: None, debit: 0, credit: fen }
    }

    pub fn unit(mut self, unit_id: i64) -> Line {
        self.unit_id = Some(unit_id);
        self
    }

    pub fn fee_item(mut self, fee_item_id: i64) -> Line {
        self.fee_item_id = Some(fee_item_id);
        self
    }

    /// The same line on the other side: what a reversing entry posts.
    pub fn reversed(&self) -> Line {
        Line { debit: self.credit, credit: self.debit, ..self.clone() }
    }
}

/// Why a set of lines cannot be an entry, if it cannot.
pub fn unbalanced(lines: &[Line]) -> Option<String> {
    if lines.is_empty() {
        return Some("an entry needs lines".into());
    }
    if let Some(line) = lines.iter().find(|l| l.debit < 0 || l.credit < 0 || (l.debit > 0) == (l.credit > 0)) {
        return Some(format!("a line must be a positive debit or a positive credit: {line:?}"));
    }
    let debits: i128 = lines.iter().map(|l| l.debit as i128).sum();
    let credits: i128 = lines.iter().map(|l| l.credit as i128).sum();
    (debits != credits).then(|| format!("debits {debits} and credits {credits} differ"))
}

/// What an entry's hash covers: everything posted, and the hash of the entry before it.
pub struct EntryContent<'a> {
    pub prev_hash: &'a str,
    pub compound_id: i64,
    pub seq: i64,
    pub kind: &'a str,
    pub reference: &'a str,
    pub memo: &'a str,
    pub posted_at_micros: i64,
    pub posted_by: i64,
    pub lines: &'a [Line],
}

/// SHA-256 over a canonical JSON rendering of the entry, hex-encoded. Changing any posted
/// amount, account, date or the order of entries changes this or a later hash.
pub fn entry_hash(entry: &EntryContent) -> String {
    let lines: Vec<serde_json::Value> = entry
        .lines
        .iter()
        .map(|l| serde_json::json!([l.account.code(), l.unit_id, l.fee_item_id, l.debit, l.credit]))
        .collect();
    let canonical = serde_json::json!([
        "wuye-ledger-v1",
        entry.prev_hash,
        entry.compound_id,
        entry.seq,
        entry.kind,
        entry.reference,
        entry.memo,
        entry.posted_at_micros,
        entry.posted_by,
        lines
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content<'a>(lines: &'a [Line], prev: &'a str) -> EntryContent<'a> {
        EntryContent { prev_hash: prev, compound_id: 1, seq: 1, kind: "bill_run", reference: "r", memo: "m", posted_at_micros: 5, posted_by: 2, lines }
    }

    #[test]
    fn entries_must_balance_with_one_sided_lines() {
        let good = [Line::debit(Account::Receivable, 10632).unit(7), Line::credit(Account::FeeRevenue, 10632).fee_item(1)];
        assert_eq!(unbalanced(&good), None);
        assert!(unbalanced(&good[..1]).is_some());
        assert!(unbalanced(&[]).is_some());
        let both = Line { debit: 1, credit: 1, ..Line::debit(Account::Cash, 0) };
        assert!(unbalanced(&[both]).is_some());
    }

    #[test]
    fn any_change_changes_the_hash() {
        let lines = [Line::debit(Account::Cash, 100), Line::credit(Account::Prepaid, 100).unit(3)];
        let base = entry_hash(&content(&lines, ""));
        let edited = [Line::debit(Account::Cash, 101), Line::credit(Account::Prepaid, 101).unit(3)];
        assert_ne!(base, entry_hash(&content(&edited, "")));
        assert_ne!(base, entry_hash(&content(&lines, "x")));
        let other_unit = [Line::debit(Account::Cash, 100), Line::credit(Account::Prepaid, 100).unit(4)];
        assert_ne!(base, entry_hash(&content(&other_unit, "")));
        assert_eq!(base, entry_hash(&content(&lines, "")));
    }

    #[test]
    fn account_codes_round_trip() {
        for account in Account::ALL {
            assert_eq!(Account::from_code(account.code()), Some(account));
        }
    }
}
