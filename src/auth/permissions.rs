//! Who may do what: the role x operation matrix, in one place. The README's table is this
//! function written out; a test walks every role through every operation against it.
use poem_openapi::Enum;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the platform: creates companies and their first administrator.
    PlatformAdmin,
    /// Runs one property company: its staff accounts and everything the manager does.
    CompanyAdmin,
    /// Fee items, bill runs, reports, the registry.
    Manager,
    /// The cashier desk: collect, receipt, refund.
    Cashier,
    /// Triage and assign repair tickets.
    Dispatcher,
    /// Works the repair tickets assigned to them.
    Technician,
    /// Owners' committee member: read-only auditor of one compound.
    Committee,
    /// An owner: their own units and what concerns them.
    Owner,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::PlatformAdmin,
        Role::CompanyAdmin,
        Role::Manager,
        Role::Cashier,
        Role::Dispatcher,
        Role::Technician,
        Role::Committee,
        Role::Owner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::CompanyAdmin => "company_admin",
            Role::Manager => "manager",
            Role::Cashier => "cashier",
            Role::Dispatcher => "dispatcher",
            Role::Technician => "technician",
            Role::Committee => "committee",
            Role::Owner => "owner",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Staff of a property company (as opposed to the platform, committees and owners).
    pub fn is_company_staff(self) -> bool {
        matches!(self, Role::CompanyAdmin | Role::Manager | Role::Cashier | Role::Dispatcher | Role::Technician)
    }
}

/// An operation that needs a permission beyond being logged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Create and list property companies.
    ManageCompanies,
    /// Create, disable and list logins (within the caller's company).
    ManageAccounts,
    /// Read compounds, buildings, stairwells, units, owners and ownerships.
    ReadRegistry,
    /// Create and change them, record sales, import spreadsheets.
    WriteRegistry,
    /// See one's own units, as an owner.
    ViewOwnUnits,
    /// Fee items and meter readings.
    ManageFees,
    /// Bill runs (and their previews), applying prepaid balances.
    RunBills,
    /// Waivers, discounts, corrections and late-fee waivers on bills.
    AdjustBills,
    /// Read any unit's bills, payments, receipts and statements.
    ReadBilling,
    /// Take payments at the desk, refund prepaid balances, record common-area income.
    CollectPayments,
    /// Reverse a posted payment (a bounced transfer) and void its receipt.
    ReversePayments,
    /// Read the journal, its verification, the trial balance and common-area income.
    ReadLedger,
    /// An owner's own bills, payments, statements and online payment orders.
    PayOwnBills,
    /// See job runs and start a job now.
    RunJobs,
    /// See the email outbox and send a failed message again.
    ManageOutbox,
    /// File a repair ticket: an owner for their own units, the desk for an owner who phones.
    FileTickets,
    /// See tickets: owners their own, technicians those assigned to them, the desk all.
    ReadTickets,
    /// Triage, assign, move, reject tickets; internal notes; follow-up calls.
    DispatchTickets,
    /// SLA targets and technician groups of a compound.
    ManageTicketSetup,
    /// Bill an owner for a paid repair, or put a repair to the company or the fund.
    RouteRepairCosts,
    /// Ticket statistics.
    ReadTicketStats,
    /// Read the notices of a compound, with their read counts (owners read theirs through
    /// `/me/notices`).
    ReadNotices,
    /// Write, schedule, publish and correct notices (staff, and the committee of the compound).
    WriteNotices,
    /// Read notices addressed to one's units, acknowledge them, choose notice emails.
    ReadOwnNotices,
    /// The committee's audit desk: collection, arrears aging, income statement, fund, journal,
    /// staff actions, the annual disclosure pack (read-only).
    ReadAudit,
    /// Publish the annual disclosure pack as a notice.
    PublishDisclosures,
    /// Read maintenance-fund sub-ledgers, the check against the journal, and repair projects.
    ReadFund,
    /// Set the fund standard, record initial deposits, allocate interest and common income.
    ManageFund,
    /// Repair projects paid from the fund: create, put to the vote, start, settle.
    ManageFundProjects,
    /// Create owners' votes (staff and the committee).
    OpenVotes,
    /// Read votes, their electorates, ballots and tallies, and elevator plans.
    ReadVotes,
    /// Cast one's own ballot, as an owner.
    CastBallots,
    /// Record a signed paper ballot with its scan.
    RecordPaperBallots,
    /// Elevator-retrofit cost-sharing plans and their bills.
    ManageElevatorPlans,
}


/// The matrix. Tenancy (which company and compounds) is checked separately, by `tenancy`.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    use Role::*;
    match permission {
        ManageCompanies => role == PlatformAdmin,
        ManageAccounts => matches!(role, PlatformAdmin | CompanyAdmin),
        ReadRegistry => role != Owner,
        WriteRegistry => matches!(role, PlatformAdmin | CompanyAdmin | Manager),
        ViewOwnUnits | PayOwnBills => role == Owner,
        ManageFees | RunBills | AdjustBills | ReversePayments | RunJobs | ManageOutbox => matches!(role, PlatformAdmin | CompanyAdmin | Manager),
        ReadBilling => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Cashier | Committee),
        CollectPayments => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Cashier),
        ReadLedger => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Committee),
        FileTickets => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Dispatcher | Owner),
        ReadTickets => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Dispatcher | Technician | Owner),
        DispatchTickets => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Dispatcher),
        ManageTicketSetup | RouteRepairCosts => matches!(role, PlatformAdmin | CompanyAdmin | Manager),
        ReadTicketStats => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Committee),
        ReadNotices => role != Owner,
        WriteNotices | PublishDisclosures => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Committee),
        ReadOwnNotices => role == Owner,
        ReadAudit => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Committee),
        ReadFund | ReadVotes => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Cashier | Committee),
        ManageFund | ManageFundProjects | RecordPaperBallots | ManageElevatorPlans => matches!(role, PlatformAdmin | CompanyAdmin | Manager),
        OpenVotes => matches!(role, PlatformAdmin | CompanyAdmin | Manager | Committee),
        CastBallots => role == Owner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn committee_and_field_staff_only_read() {
        for role in [Role::Committee, Role::Cashier, Role::Dispatcher, Role::Technician] {
            assert!(allows(role, Permission::ReadRegistry));
            assert!(!allows(role, Permission::WriteRegistry));
            assert!(!allows(role, Permission::ManageAccounts));
        }
        assert!(!allows(Role::Owner, Permission::ReadRegistry));
        assert!(allows(Role::Owner, Permission::ViewOwnUnits));
    }
}
