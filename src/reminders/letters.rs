//! The texts of arrears reminders, in Chinese (the default) and English. Plain text: it reads
//! the same in every mail client and prints as a letter for owners without email.
use chrono::NaiveDate;

use super::Stage;
use crate::{config::Language, types::Money};

/// What a letter says: who owes what on which unit.
pub struct LetterFacts<'a> {
    pub compound: &'a str,
    pub unit: &'a str,
    /// The owners addressed, by name (empty: "the owner").
    pub owners: Vec<String>,
    pub as_of: NaiveDate,
    pub bills: Vec<LetterBill>,
    pub total: Money,
    /// Where the owner sees the bills and pays.
    pub link: String,
}

pub struct LetterBill {
    pub fee_item: String,
    pub period: String,
    pub due_date: NaiveDate,
    pub principal: Money,
    pub late_fee: Money,
    pub days_overdue: i64,
}

impl LetterFacts<'_> {
    /// One indented line per bill, as `line` writes it (given the bill and its due date).
    fn bill_lines(&self, line: impl Fn(&LetterBill, String) -> String) -> String {
        self.bills.iter().map(|b| format!("  {}\n", line(b, b.due_date.format("%Y-%m-%d").to_string()))).collect()
    }
}

/// Subject and body of the reminder of `stage`.
pub fn reminder(language: Language, stage: Stage, facts: &LetterFacts) -> (String, String) {
    match language {
        Language::Zh => chinese(stage, facts),
        Language::En => english(stage, facts),
    }
}

fn chinese(stage: Stage, f: &LetterFacts) -> (String, String) {
    let to = if f.owners.is_empty() { "业主".to_string() } else { format!("{}业主", f.owners.join("、")) };
    let date = f.as_of.format("%Y年%m月%d日").to_string();
    let lines = f.bill_lines(|b, due| format!("{} {}：应缴截止 {due}，已逾期 {} 天，欠费 {} 元，滞纳金 {} 元", b.fee_item, b.period, b.days_overdue, b.principal, b.late_fee));
    let signature = format!("{} 物业服务中心\n{date}", f.compound);
    match stage {
        Stage::Friendly => (
            format!("【{}】物业费缴费提醒（{}）", f.compound, f.unit),
            format!(
                "尊敬的{to}：\n\n您好！您的房屋 {} {} 有以下费用已过缴费期限，截至{date}尚未结清：\n\n{lines}\n合计：{} 元\n\n\
                 烦请您在方便时缴纳。在线查看和缴费：{}\n也可到物业服务中心收费窗口办理。如您已缴纳，请忽略本提醒。\n\n{signature}\n",
                f.compound, f.unit, f.total, f.link
            ),
        ),
        Stage::Second => (
            format!("【{}】物业费第二次缴费提醒（{}）", f.compound, f.unit),
            format!(
                "尊敬的{to}：\n\n您的房屋 {} {} 有以下费用逾期已久，截至{date}仍未结清：\n\n{lines}\n合计：{} 元\n\n\
                 请您于收到本提醒之日起十五日内缴清。如对费用有疑问，请与物业服务中心联系核对。\n在线查看和缴费：{}\n\n{signature}\n",
                f.compound, f.unit, f.total, f.link
            ),
        ),
        Stage::Demand => (
            format!("【{}】物业费催缴函（{}）", f.compound, f.unit),
            format!(
                "催缴函\n\n{to}：\n\n依照《中华人民共和国民法典》第九百四十四条，业主应当按照约定向物业服务人支付物业费。\
                 经核对，您的房屋 {} {} 截至{date}尚欠下列费用：\n\n{lines}\n合计：人民币 {} 元。\n\n\
                 现特函催告，请您自收到本函之日起十五日内缴清。如对费用有异议，请在上述期限内与物业服务中心联系核对。\
                 逾期仍未缴纳的，我处将依法提起诉讼或申请仲裁。\n\n\
                 特此说明：依照《民法典》第九百四十四条，物业服务人不得采取停止供电、供水、供热、供燃气等方式催交物业费。\
                 我处不会因欠费停止上述任何供应。\n\n在线查看和缴费：{}\n\n{signature}\n",
                f.compound, f.unit, f.total, f.link
            ),
        ),
    }
}

fn english(stage: Stage, f: &LetterFacts) -> (String, String) {
    let to = if f.owners.is_empty() { "Dear owner".to_string() } else { format!("Dear {}", f.owners.join(", ")) };
    let date = f.as_of.format("%Y-%m-%d").to_string();
    let lines = f.bill_lines(|b, due| format!("{} {}: due {due}, {} days overdue, owed {} yuan, late fee {} yuan", b.fee_item, b.period, b.days_overdue, b.principal, b.late_fee));
    let signature = format!("{} property service centre\n{date}", f.compound);
    match stage {
        Stage::Friendly => (
            format!("[{}] Reminder: fees due for {}", f.compound, f.unit),
            format!(
                "{to},\n\nThe following fees for {} {} are past their due date and were still open on {date}:\n\n{lines}\nTotal: {} yuan\n\n\
                 Please pay when convenient, online at {} or at the service centre's desk. If you have paid already, please ignore this reminder.\n\n{signature}\n",
                f.compound, f.unit, f.total, f.link
            ),
        ),
        Stage::Second => (
            format!("[{}] Second reminder: fees overdue for {}", f.compound, f.unit),
            format!(
                "{to},\n\nThe following fees for {} {} have long been overdue and were still open on {date}:\n\n{lines}\nTotal: {} yuan\n\n\
                 Please pay them within 15 days of this reminder. If you question an amount, please contact the service centre.\nOnline: {}\n\n{signature}\n",
                f.compound, f.unit, f.total, f.link
            ),
        ),
        Stage::Demand => (
            format!("[{}] Formal demand for payment: {}", f.compound, f.unit),
            format!(
                "FORMAL DEMAND FOR PAYMENT\n\n{to},\n\nUnder Article 944 of the Civil Code of the PRC, owners pay property fees as agreed. \
                 On {date} the following fees for {} {} were owed:\n\n{lines}\nTotal: {} yuan.\n\n\
                 We hereby demand payment within 15 days of receiving this letter. If you dispute an amount, please contact the service centre within that time. \
                 If the fees remain unpaid, we will bring proceedings or arbitration as the law allows.\n\n\
                 Please note: under Article 944 of the Civil Code a property company may not press for fees by cutting power, water, heating or gas, \
                 and we will not stop any of these supplies because of arrears.\n\nOnline: {}\n\n{signature}\n",
                f.compound, f.unit, f.total, f.link
            ),
        ),
    }
}
