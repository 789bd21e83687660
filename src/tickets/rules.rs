//! Ticket rules with no I/O: categories, the workflow's allowed transitions, SLA targets, photo
//! types, and the percentiles of the statistics.
use chrono::Duration;
use poem_openapi::Enum;
use serde::Deserialize;

/// What is broken, in the categories of the renovation work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Gas,
    /// Drains and plumbing.
    Plumbing,
    RoofLeak,
    Electrical,
    Elevator,
    FireSafety,
    StreetLights,
    BarrierFree,
    Parking,
    Walls,
    /// Doors and access control.
    Doors,
    Other,
}

impl Category {
    pub const ALL: [Category; 12] = [
        Category::Gas,
        Category::Plumbing,
        Category::RoofLeak,
        Category::Electrical,
        Category::Elevator,
        Category::FireSafety,
        Category::StreetLights,
        Category::BarrierFree,
        Category::Parking,
        Category::Walls,
        Category::Doors,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Gas => "gas",
            Category::Plumbing => "plumbing",
            Category::RoofLeak => "roof_leak",
            Category::Electrical => "electrical",
            Category::Elevator => "elevator",
            Category::FireSafety => "fire_safety",
            Category::StreetLights => "street_lights",
            Category::BarrierFree => "barrier_free",
            Category::Parking => "parking",
            Category::Walls => "walls",
            Category::Doors => "doors",
            Category::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The priority a ticket starts with, before a dispatcher triages it: danger to life (gas,
    /// fire safety) is p1 whatever was said; a filer who says it can wait is believed; otherwise
    /// the more urgent of what the category and the filer call for.
    pub fn default_priority(self, urgency: Urgency) -> Priority {
        let by_category = match self {
            Category::Gas | Category::FireSafety => return Priority::P1,
            Category::Elevator | Category::Electrical | Category::RoofLeak => Priority::P2,
            Category::Plumbing | Category::Doors | Category::BarrierFree => Priority::P3,
            Category::StreetLights | Category::Parking | Category::Walls | Category::Other => Priority::P4,
        };
        let by_urgency = match urgency {
            Urgency::Emergency => Priority::P1,
            Urgency::Urgent => Priority::P2,
            Urgency::Normal => Priority::P3,
            Urgency::Low => return Priority::P4,
        };
        by_category.min(by_urgency)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// Inside the owner's flat: the owner pays, and may be billed.
    InUnit,
    /// Common parts: the company's cost, or the maintenance fund's.
    CommonArea,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::InUnit => "in_unit",
            Location::CommonArea => "common_area",
        }
    }
}

/// How urgent the filer says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    Normal,
    Urgent,
    /// Danger now: gas smell, sparks, water pouring in.
    Emergency,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
            Urgency::Emergency => "emergency",
        }
    }
}

/// The priority staff give a ticket; p1 is the most urgent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "p1",
            Priority::P2 => "p2",
            Priority::P3 => "p3",
            Priority::P4 => "p4",
        }
    }

    pub fn parse(text: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// Response (accepted) and resolution (resolved) targets, in minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Targets {
    pub response_minutes: i32,
    pub resolution_minutes: i32,
}

/// The default targets: a gas leak is answered in minutes and made safe within hours, a
/// dripping tap within days. A compound may set its own per category and priority.
pub fn default_targets(category: Category, priority: Priority) -> Targets {
    let (response_minutes, resolution_minutes) = match priority {
        Priority::P1 => (15, 4 * 60),
        Priority::P2 => (60, 24 * 60),
        Priority::P3 => (4 * 60, 3 * 24 * 60),
        Priority::P4 => (24 * 60, 7 * 24 * 60),
    };
    // Gas is answered at once whatever its priority: the smell of gas is never low priority.
    let response_minutes = if category == Category::Gas { response_minutes.min(15) } else { response_minutes };
    Targets { response_minutes, resolution_minutes }
}

impl Targets {
    pub fn response(self) -> Duration {
        Duration::minutes(self.response_minutes as i64)
    }

    pub fn resolution(self) -> Duration {
        Duration::minutes(self.resolution_minutes as i64)
    }
}

/// Where a ticket stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    /// Triaged: a priority is set.
    Accepted,
    Assigned,
    InProgress,
    /// Waiting for parts or the owner: the SLA clock stops.
    OnHold,
    Resolved,
    /// The owner reopened it after it was resolved: to be worked on again.
    Reopened,
    Closed,
    Cancelled,
    Rejected,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Accepted,
        Status::Assigned,
        Status::InProgress,
        Status::OnHold,
        Status::Resolved,
        Status::Reopened,
        Status::Closed,
        Status::Cancelled,
        Status::Rejected,
    ];
    /// Still to be worked on (the queue's default, and a technician's load).
    pub const OPEN: [Status; 6] = [Status::Submitted, Status::Accepted, Status::Assigned, Status::InProgress, Status::OnHold, Status::Reopened];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Accepted => "accepted",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::OnHold => "on_hold",
            Status::Resolved => "resolved",
            Status::Reopened => "reopened",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
            Status::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_open(self) -> bool {
        Status::OPEN.contains(&self)
    }
}

/// Who moves a ticket: its owner, the service desk (dispatchers and managers), or the
/// technician it is assigned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Owner,
    Desk,
    Technician,
}

/// Where a ticket may go from `from`, moved by `side`. Assigning (to `assigned`) has its own
/// request, which names the technician.
pub fn allowed(from: Status, side: Side) -> Vec<Status> {
    use Side::*;
    use Status::*;
    let all: &[(Status, &[Side])] = match from {
        Submitted => &[(Accepted, &[Desk]), (Rejected, &[Desk]), (Cancelled, &[Owner, Desk])],
        Accepted => &[(Assigned, &[Desk]), (Rejected, &[Desk]), (Cancelled, &[Owner, Desk])],
        Assigned | Reopened => &[(Assigned, &[Desk]), (InProgress, &[Desk, Technician]), (OnHold, &[Desk, Technician])],
        InProgress => &[(Assigned, &[Desk]), (OnHold, &[Desk, Technician]), (Resolved, &[Desk, Technician])],
        OnHold => &[(InProgress, &[Desk, Technician])],
        // Closed by the owner's confirmation (or automatically, after the reopening window).
        Resolved => &[(Closed, &[Owner]), (Reopened, &[Owner])],
        Closed | Cancelled | Rejected => &[],
    };
    all.iter().filter(|(_, sides)| sides.contains(&side)).map(|(to, _)| *to).collect()
}

pub const MAX_PHOTOS: usize = 6;

/// The value below which `share` of the sorted values lie (nearest rank): 0.5 the median,
/// 0.9 the 90th percentile. None for no values.
pub fn percentile(sorted: &[i64], share: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (share * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gas_leak_is_minutes_and_a_dripping_tap_is_days() {
        let gas = default_targets(Category::Gas, Category::Gas.default_priority(Urgency::Normal));
        assert_eq!((gas.response_minutes, gas.resolution_minutes), (15, 240));
        let tap = default_targets(Category::Plumbing, Category::Plumbing.default_priority(Urgency::Low));
        assert_eq!((tap.response_minutes, tap.resolution_minutes), (24 * 60, 7 * 24 * 60));
        // The filer's urgency raises a ticket; saying it can wait lowers it, except for danger.
        assert_eq!(Category::Walls.default_priority(Urgency::Emergency), Priority::P1);
        assert_eq!(Category::Elevator.default_priority(Urgency::Normal), Priority::P2);
        assert_eq!(Category::Elevator.default_priority(Urgency::Low), Priority::P4);
        assert_eq!(Category::Gas.default_priority(Urgency::Low), Priority::P1);
    }

    #[test]
    fn the_workflow_by_side() {
        use Side::*;
        use Status::*;
        assert_eq!(allowed(Submitted, Desk), vec![Accepted, Rejected, Cancelled]);
        assert_eq!(allowed(Submitted, Owner), vec![Cancelled]);
        assert_eq!(allowed(Submitted, Technician), vec![]);
        // Cancelled by the owner only before it is assigned.
        assert!(!allowed(Assigned, Owner).contains(&Cancelled));
        assert_eq!(allowed(OnHold, Technician), vec![InProgress]);
        assert_eq!(allowed(Resolved, Owner), vec![Closed, Reopened]);
        assert_eq!(allowed(Resolved, Technician), vec![]);
        for end in [Closed, Cancelled, Rejected] {
            for side in [Owner, Desk, Technician] {
                assert!(allowed(end, side).is_empty());
            }
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&values, 0.5), Some(5));
        assert_eq!(percentile(&values, 0.9), Some(9));
        assert_eq!(percentile(&[42], 0.9), Some(42));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
