//! Roles (PRODUCT.md §1), the permission table per role, and station scoping.
use crate::ids::StationId;
use crate::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};

/// The roles of PRODUCT.md §1, named as the CLI and API name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Dealer,
    Agent,
    Dispatcher,
    Engineer,
    StationManager,
    Warehouse,
    Finance,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Customer,
        Role::Dealer,
        Role::Agent,
        Role::Dispatcher,
        Role::Engineer,
        Role::StationManager,
        Role::Warehouse,
        Role::Finance,
        Role::Manager,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Dealer => "dealer",
            Role::Agent => "agent",
            Role::Dispatcher => "dispatcher",
            Role::Engineer => "engineer",
            Role::StationManager => "station_manager",
            Role::Warehouse => "warehouse",
            Role::Finance => "finance",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Role, FieldError> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or_else(|| FieldError::new("role", "unknown_role"))
    }

    /// Roles whose work belongs to one or more service stations: they must be members of a
    /// station, and when they are, they see only their stations' records.
    pub fn is_station_role(self) -> bool {
        matches!(self, Role::Engineer | Role::StationManager)
    }

    /// Headquarters roles see every station's records.
    pub fn is_headquarters_role(self) -> bool {
        matches!(self, Role::Dispatcher | Role::Finance | Role::Manager | Role::Admin)
    }

    /// Customers and dealers are outside the service organisation: they reach only their own
    /// records through the portal, never the staff back office.
    pub fn is_external(self) -> bool {
        matches!(self, Role::Customer | Role::Dealer)
    }
}

/// What a user may do. One table (`Role::permissions`) says who has which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Use the staff back office at all.
    BackOffice,
    StationRead,
    StationWrite,
    WarehouseRead,
    WarehouseWrite,
    UserRead,
    UserWrite,
    AuditRead,
    /// See customers' names, phones, addresses and ID numbers in clear (PRODUCT.md §2.14).
    PersonalDataRead,
    CustomerRead,
    CustomerWrite,
    RequestRead,
    RequestWrite,
    SettingsWrite,
    /// See work orders (in the scope).
    WorkOrderRead,
    /// Create work orders, agree and move appointments, cancel.
    WorkOrderWrite,
    /// Headquarters' tier: send a work order to a station.
    Dispatch,
    /// Send it to a station that is inactive or does not cover the visit's region.
    DispatchOverride,
    /// The station's tier: give it to an engineer, hand it back, close it after review; set
    /// engineers' skills and leave.
    Assign,
    /// The engineer's own steps on their work orders (accept, decline, travel, check in, diagnose,
    /// parts, complete).
    FieldWork,
    /// Keep the spare-parts catalog.
    PartsWrite,
    /// Record stock movements (receipts, transfers, scrap) in the warehouses of the scope.
    StockWrite,
    /// The station's part of warranty: file its warranty cards and correct the returned ones.
    WarrantyClaim,
    /// Apply to headquarters for warranty parts (三包配件申请).
    PartsApply,
    /// Decide a return or exchange (退换货) up to the refund threshold.
    ReturnApprove,
    /// Decide one above the refund threshold (a manager).
    ReturnApproveLarge,
    /// The service administrator's part of warranty: void a warranty, record an exchange, audit
    /// warranty cards.
    WarrantyAudit,
    /// Make return visits (回访): record them, send survey links, close a follow-up the customer is
    /// satisfied with.
    ReturnVisit,
    /// Register and handle complaints and suggestions (投诉 / 建议).
    FeedbackWrite,
    /// Supervision: close a follow-up or a complaint with a reason, acknowledge a major complaint,
    /// sample and check archived return visits (质检抽查).
    Supervise,
}

impl Role {
    /// The permission table. Kept in one place so that a reviewer reads every right at once.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Customer | Role::Dealer => &[],
            Role::Agent => &[
                BackOffice,
                StationRead,
                PersonalDataRead,
                CustomerRead,
                CustomerWrite,
                RequestRead,
                RequestWrite,
                WorkOrderRead,
                WorkOrderWrite,
                ReturnVisit,
                FeedbackWrite,
            ],
            Role::Dispatcher => &[
                BackOffice,
                StationRead,
                WarehouseRead,
                UserRead,
                PersonalDataRead,
                CustomerRead,
                CustomerWrite,
                RequestRead,
                RequestWrite,
                WorkOrderRead,
                WorkOrderWrite,
                Dispatch,
                Assign,
                FeedbackWrite,
            ],
            Role::Engineer => &[
                BackOffice,
                StationRead,
                WarehouseRead,
                CustomerRead,
                RequestRead,
                RequestWrite,
                WorkOrderRead,
                FieldWork,
                PartsApply,
            ],
            Role::StationManager => &[
                BackOffice,
                StationRead,
                WarehouseRead,
                UserRead,
                PersonalDataRead,
                CustomerRead,
                CustomerWrite,
                RequestRead,
                RequestWrite,
                WorkOrderRead,
                WorkOrderWrite,
                Assign,
                StockWrite,
                WarrantyClaim,
                PartsApply,
                ReturnApprove,
                FeedbackWrite,
            ],
            Role::Warehouse => &[BackOffice, StationRead, WarehouseRead, WarehouseWrite, PartsWrite, StockWrite],
            Role::Finance => &[BackOffice, StationRead, WarehouseRead, CustomerRead, RequestRead, WorkOrderRead],
            Role::Manager => &[
                BackOffice,
                StationRead,
                WarehouseRead,
                UserRead,
                AuditRead,
                PersonalDataRead,
                CustomerRead,
                RequestRead,
                WorkOrderRead,
                ReturnApprove,
                ReturnApproveLarge,
                FeedbackWrite,
                Supervise,
            ],
            Role::Admin => &[
                BackOffice,
                StationRead,
                StationWrite,
                WarehouseRead,
                WarehouseWrite,
                UserRead,
                UserWrite,
                AuditRead,
                PersonalDataRead,
                CustomerRead,
                CustomerWrite,
                RequestRead,
                RequestWrite,
                SettingsWrite,
                WorkOrderRead,
                WorkOrderWrite,
                Dispatch,
                DispatchOverride,
                Assign,
                PartsWrite,
                StockWrite,
                WarrantyClaim,
                PartsApply,
                ReturnApprove,
                ReturnApproveLarge,
                WarrantyAudit,
                ReturnVisit,
                FeedbackWrite,
                Supervise,
            ],
        }
    }
}

/// Which stations' records a user may see. Every list query takes one, so none can forget it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Headquarters: every station.
    All,
    /// Only these stations (never empty for a staff member of a station).
    Stations(Vec<StationId>),
    /// Nothing at station level (customers, dealers: their own records come through the portal).
    Nothing,
}

impl Scope {
    /// The scope of a user from their roles and station memberships.
    ///
    /// Headquarters roles see all. A member of stations sees those stations. A staff member
    /// with no station (a hotline agent at headquarters, a central warehouse keeper) sees all.
    /// Customers and dealers see nothing here.
    pub fn for_user(roles: &[Role], stations: &[StationId]) -> Scope {
        if roles.iter().any(|r| r.is_headquarters_role()) {
            return Scope::All;
        }
        if roles.is_empty() || roles.iter().all(|r| r.is_external()) {
            return Scope::Nothing;
        }
        if stations.is_empty() { Scope::All } else { Scope::Stations(stations.to_vec()) }
    }

    pub fn allows(&self, station: StationId) -> bool {
        match self {
            Scope::All => true,
            Scope::Stations(s) => s.contains(&station),
            Scope::Nothing => false,
        }
    }

    /// A record that belongs to no station (headquarters' own) is visible to HQ scope only.
    pub fn allows_opt(&self, station: Option<StationId>) -> bool {
        match station {
            Some(s) => self.allows(s),
            None => matches!(self, Scope::All),
        }
    }
}

/// The union of the permissions of several roles.
pub fn permissions_of(roles: &[Role]) -> Vec<Permission> {
    let mut p: Vec<Permission> = roles.iter().flat_map(|r| r.permissions().iter().copied()).collect();
    p.sort();
    p.dedup();
    p
}

/// Check the roles and stations given to a user fit together.
pub fn validate_role_assignment(roles: &[Role], stations: &[StationId]) -> Result<(), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    if roles.is_empty() {
        errs.push("roles", "required");
    }
    if roles.iter().any(|r| r.is_station_role()) && stations.is_empty() {
        errs.push("station", "station_required_for_role");
    }
    errs.into_result()
}

/// A login name: 3–32 characters of ASCII letters, digits, `.`, `_` or `-`, stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(FieldError::new("username", "required"));
        }
        if s.chars().count() < 3 {
            return Err(FieldError::new("username", "too_short"));
        }
        if s.chars().count() > 32 {
            return Err(FieldError::too_long("username", 32));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(FieldError::new("username", "invalid_username"));
        }
        Ok(Username(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy: 8–128 characters, not only digits.
pub fn check_password_policy(field: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n == 0 {
        return Err(FieldError::new(field, "required"));
    }
    if n < 8 {
        return Err(FieldError::new(field, "password_too_short"));
    }
    if n > 128 {
        return Err(FieldError::too_long(field, 128));
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(FieldError::new(field, "password_only_digits"));
    }
    Ok(())
}

/// Login throttling: after this many attempts for one username from one client address within
/// the window, refuse further attempts from there until the window has passed.
pub const LOGIN_MAX_FAILURES: i64 = 5;
pub const LOGIN_FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// The client address as login throttling counts it: an IPv4 address as it is, an IPv6 address
/// by its /64 network — one host is given a whole /64, so counting single IPv6 addresses would
/// give a guesser 2^64 fresh starts. Anything else (a proxy's label) as it is.
pub fn throttle_source(source: &str) -> String {
    match source.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        _ => source.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_throttling_counts_an_ipv6_client_by_its_64_network() {
        assert_eq!(throttle_source("203.0.113.7"), "203.0.113.7");
        assert_eq!(throttle_source("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(throttle_source("2001:db8:1:2:ffff:ffff:ffff:fffe"), "2001:db8:1:2::/64");
        assert_ne!(throttle_source("2001:db8:1:3::1"), throttle_source("2001:db8:1:2::1"));
        assert_eq!(throttle_source("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(throttle_source("unknown"), "unknown");
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn engineer_of_a_station_is_scoped_to_it() {
        let s = Scope::for_user(&[Role::Engineer], &[StationId(7)]);
        assert!(s.allows(StationId(7)));
        assert!(!s.allows(StationId(8)));
        assert!(!s.allows_opt(None));
    }

    #[test]
    fn headquarters_roles_see_all_even_with_a_station() {
        assert_eq!(Scope::for_user(&[Role::Engineer, Role::Manager], &[StationId(1)]), Scope::All);
        assert_eq!(Scope::for_user(&[Role::Agent], &[]), Scope::All);
        assert_eq!(Scope::for_user(&[Role::Customer], &[]), Scope::Nothing);
    }

    #[test]
    fn station_roles_need_a_station() {
        assert!(validate_role_assignment(&[Role::Engineer], &[]).is_err());
        assert!(validate_role_assignment(&[Role::Engineer], &[StationId(1)]).is_ok());
        assert!(validate_role_assignment(&[], &[]).is_err());
    }

    #[test]
    fn usernames_are_checked_and_lower_cased() {
        assert_eq!(Username::parse(" Zhang.San ").map(|u| u.0), Ok("zhang.san".into()));
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("张三").is_err());
    }

    #[test]
    fn password_policy() {
        assert!(check_password_policy("password", "12345678").is_err());
        assert!(check_password_policy("password", "short1").is_err());
        assert!(check_password_policy("password", "Shouhou2026").is_ok());
    }

    #[test]
    fn only_admin_may_write_users() {
        for r in Role::ALL {
            let may = r.permissions().contains(&Permission::UserWrite);
            assert_eq!(may, r == Role::Admin, "{r:?}");
        }
    }
}
