//! The emails of tickets: to the owner on the changes that matter to them, and to managers
//! when a deadline passes. Chinese by default, English by `WUYE_MAIL_LANGUAGE`.
use super::{Category, Status};
use crate::config::{Config, Language};
use entity::ticket;

/// A change the owner is told about.
pub enum Update<'a> {
    Status { to: Status, note: Option<&'a str> },
    Assigned { technician: &'a str },
    Comment { by: &'a str, body: &'a str },
}

/// Subject and body of the owner's email.
pub fn owner_update(config: &Config, ticket: &ticket::Model, owner: &str, update: Update) -> (String, String) {
    let link = crate::web::page_address(config, &format!("/owner/tickets/{}", ticket.id));
    let category = Category::parse(&ticket.category).unwrap_or(Category::Other);
    match config.mail.language {
        Language::Zh => {
            let what = match update {
                Update::Status { to: Status::Accepted, .. } => "已受理，我们会尽快安排维修人员。".to_string(),
                Update::Status { to: Status::Resolved, .. } => format!("已处理完毕。请确认维修结果，如问题仍在，可在{}天内重新打开工单。", config.ticket_reopen_days),
                Update::Status { to: Status::Rejected, note } => format!("未被受理。原因：{}", note.unwrap_or("")),
                Update::Status { to: Status::OnHold, note } => format!("暂停处理（计时暂停）。原因：{}", note.unwrap_or("")),
                Update::Status { to: Status::Cancelled, note } => format!("已由物业服务中心取消。{}", note.unwrap_or("")),
                Update::Status { to, .. } => format!("状态变为：{}", to.as_str()),
                Update::Assigned { technician } => format!("已派给维修人员 {technician}。"),
                Update::Comment { by, body } => format!("{by} 留言：{body}"),
            };
            (
                format!("您的报修 #{}（{}）有新进展", ticket.id, zh_category(category)),
                format!("尊敬的{owner}业主：\n\n您的报修 #{}（{}）{what}\n\n查看详情：{link}\n", ticket.id, zh_category(category)),
            )
        }
        Language::En => {
            let what = match update {
                Update::Status { to: Status::Accepted, .. } => "has been accepted; a technician will be arranged soon.".to_string(),
                Update::Status { to: Status::Resolved, .. } => format!("has been resolved. Please confirm; if the problem remains you may reopen it within {} days.", config.ticket_reopen_days),
                Update::Status { to: Status::Rejected, note } => format!("was not accepted. Reason: {}", note.unwrap_or("")),
                Update::Status { to: Status::OnHold, note } => format!("is on hold (its clock stops). Reason: {}", note.unwrap_or("")),
                Update::Status { to: Status::Cancelled, note } => format!("was cancelled by the service desk. {}", note.unwrap_or("")),
                Update::Status { to, .. } => format!("is now {}.", to.as_str()),
                Update::Assigned { technician } => format!("has been assigned to {technician}."),
                Update::Comment { by, body } => format!("has a message from {by}: {body}"),
            };
            (format!("Your repair request #{} ({}) has news", ticket.id, category.as_str()), format!("Dear {owner},\n\nYour repair request #{} {what}\n\nDetails: {link}\n", ticket.id))
        }
    }
}

/// Subject and body of the managers' email about a missed deadline.
pub fn escalation(config: &Config, ticket: &ticket::Model, which: &str) -> (String, String) {
    let link = crate::web::page_address(config, &format!("/staff/tickets/{}", ticket.id));
    let due = if which == "response" { ticket.response_due_at } else { ticket.resolution_due_at };
    match config.mail.language {
        Language::Zh => {
            let kind = if which == "response" { "响应" } else { "处理" };
            (
                format!("【超时】报修 #{} 已超过{kind}时限", ticket.id),
                format!(
                    "报修 #{}（{}，优先级 {}，状态 {}）已超过{kind}时限（{} UTC）。\n\n{}\n\n请尽快处理：{link}\n",
                    ticket.id,
                    zh_category(Category::parse(&ticket.category).unwrap_or(Category::Other)),
                    ticket.priority,
                    ticket.status,
                    due.format("%Y-%m-%d %H:%M"),
                    ticket.description
                ),
            )
        }
        Language::En => (
            format!("[Overdue] Repair #{} missed its {which} deadline", ticket.id),
            format!(
                "Repair #{} ({}, priority {}, {}) missed its {which} deadline ({} UTC).\n\n{}\n\nPlease act: {link}\n",
                ticket.id,
                ticket.category,
                ticket.priority,
                ticket.status,
                due.format("%Y-%m-%d %H:%M"),
                ticket.description
            ),
        ),
    }
}

fn zh_category(category: Category) -> &'static str {
    match category {
        Category::Gas => "燃气",
        Category::Plumbing => "给排水",
        Category::RoofLeak => "屋面渗漏",
        Category::Electrical => "电气",
        Category::Elevator => "电梯",
        Category::FireSafety => "消防",
        Category::StreetLights => "路灯",
        Category::BarrierFree => "无障碍设施",
        Category::Parking => "停车",
        Category::Walls => "墙面",
        Category::Doors => "门禁",
        Category::Other => "其他",
    }
}
