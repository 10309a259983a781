//! The open-session decision of DESIGN §5, as one pure function over facts the caller gathers.
//!
//! The gateway calls [`decide`] when a session opens and again for every live session every
//! 30 s and at once when anything it depends on changes; a session that stops being allowed
//! ends with the denial's message. Rules are checked in a fixed order and the first that fails
//! is the reason, so the user always hears the most fundamental problem first (a lock before a
//! missing approval).
//!
//! The device rule (DESIGN §6: an enrolled lent device with a fresh, compliant posture report)
//! applies to vendor users who are not demo users when the gateway's `[posture] required` is on.

use std::fmt;

use serde::Serialize;
use time::Date;

use crate::application::ApplicationState;
use crate::ids::{Role, TargetId, UserId, VendorId};
use crate::posture::{Compliance, PostureProblem};

/// What an emergency stop covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "scope", content = "id", rename_all = "lowercase")]
pub enum LockScope {
    All,
    Vendor(VendorId),
    Target(TargetId),
    User(UserId),
}

/// An emergency stop in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveLock {
    pub scope: LockScope,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    pub id: UserId,
    pub role: Role,
    /// Not locked by an administrator. (A lock-out after failed answers refuses new logins
    /// only: the user's live work goes on, so an outsider cannot end it.)
    pub active: bool,
    /// Set for demo users (seed §6 "デモユーザ"): demo targets only, until this Unix time.
    pub demo_until: Option<i64>,
    /// The user's company and where its application stands (vendor users).
    pub vendor: Option<(VendorId, ApplicationState)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    pub id: TargetId,
    pub system: Option<String>,
    /// A target for demo users (no production data behind it).
    pub demo: bool,
    /// Sessions allowed without a per-work approval.
    pub standing_access: bool,
}

/// A maintenance contract of the user's vendor; valid on both dates (inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractFacts {
    pub systems: Vec<String>,
    pub valid_from: Date,
    pub valid_until: Date,
}

/// An approved work request of the user that names the target: `[start, end)` in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalWindow {
    pub start: i64,
    pub end: i64,
}

/// Everything the decision looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    /// Unix seconds.
    pub now: i64,
    /// The calendar day in the organisation's time zone (contracts are dated).
    pub today: Date,
    pub user: UserFacts,
    pub target: TargetFacts,
    pub contracts: Vec<ContractFacts>,
    pub approvals: Vec<ApprovalWindow>,
    pub locks: Vec<ActiveLock>,
    pub device: DeviceFacts,
}

/// The device rule's facts. The store leaves them empty and not required; the gateway fills
/// them in from its `[posture]` settings, evaluating each device's last report at `now` (so a
/// report that went stale counts as not compliant).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFacts {
    pub required: bool,
    /// The user's lent devices that count: enrolled, not revoked, within the lending period.
    pub devices: Vec<DeviceStanding>,
    /// Only the device whose client certificate came with the request counts (`[posture]
    /// browser_certificate`): the vendor works from the lent device, not from a private PC
    /// while the lent one reports.
    pub presented_only: bool,
    /// The asset tag of the user's device whose certificate the request (the session's open)
    /// presented.
    pub presented: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStanding {
    pub asset_tag: String,
    /// The verdict on its last report now; `None` before the first report.
    pub posture: Option<Compliance>,
}

/// Why a session may not be (or no longer be) open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    Locked {
        scope: LockScope,
        reason: String,
    },
    UserInactive,
    RoleMayNotOpen(Role),
    NoVendor,
    DemoExpired,
    DemoTargetsOnly,
    ApplicationNotActive(ApplicationState),
    TargetWithoutSystem,
    NoContract {
        system: String,
    },
    NoApproval,
    /// No enrolled lent device is assigned to the user.
    NoDevice,
    /// The browser did not present the certificate of the user's lent device.
    DeviceNotPresented,
    DeviceNotReporting {
        asset_tag: String,
    },
    DeviceNotCompliant {
        asset_tag: String,
        reasons: Vec<PostureProblem>,
    },
}

impl Denial {
    /// A stable word for the reason, for the API, the audit log and the translated texts.
    pub fn code(&self) -> &'static str {
        match self {
            Denial::Locked { .. } => "locked",
            Denial::UserInactive => "user-inactive",
            Denial::RoleMayNotOpen(_) => "role",
            Denial::NoVendor => "no-vendor",
            Denial::DemoExpired => "demo-expired",
            Denial::DemoTargetsOnly => "demo-targets-only",
            Denial::ApplicationNotActive(_) => "application-not-active",
            Denial::TargetWithoutSystem => "target-without-system",
            Denial::NoContract { .. } => "no-contract",
            Denial::NoApproval => "no-approval",
            Denial::NoDevice => "no-device",
            Denial::DeviceNotPresented => "device-not-presented",
            Denial::DeviceNotReporting { .. } => "device-not-reporting",
            Denial::DeviceNotCompliant { .. } => "device-not-compliant",
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::Locked { scope, reason } => {
                let what = match scope {
                    LockScope::All => "all remote maintenance",
                    LockScope::Vendor(_) => "your company's remote maintenance",
                    LockScope::Target(_) => "this target",
                    LockScope::User(_) => "your account's remote maintenance",
                };
                write!(f, "an emergency stop is in force for {what}: {reason}")
            }
            Denial::UserInactive => f.write_str("your account is locked; ask an administrator"),
            Denial::RoleMayNotOpen(role) => write!(
                f,
                "the {role} role does not open remote sessions; administrators and vendor engineers do"
            ),
            Denial::NoVendor => f.write_str(
                "your account belongs to no vendor; ask an administrator to assign it to one",
            ),
            Denial::DemoExpired => {
                f.write_str("your demo account has expired; ask the administrator for an extension")
            }
            Denial::DemoTargetsOnly => f.write_str(
                "a demo account may open demo targets only; this target needs an active application",
            ),
            Denial::ApplicationNotActive(state) => write!(
                f,
                "your company's application is {state}, not active; remote maintenance starts once it is active"
            ),
            Denial::TargetWithoutSystem => f.write_str(
                "this target belongs to no business system, so no contract covers it; ask an administrator",
            ),
            Denial::NoContract { system } => write!(
                f,
                "no maintenance contract of your company covers system {system:?} today"
            ),
            Denial::NoApproval => f.write_str(
                "no approved work request covers this target now; request the work and wait for approval",
            ),
            Denial::NoDevice => f.write_str(
                "no enrolled lent device is assigned to you; connect from the device the administrator lent you, enrolled with hoshu-agent",
            ),
            Denial::DeviceNotPresented => f.write_str(
                "this browser did not present your lent device's certificate; connect from the lent device with its certificate installed",
            ),
            Denial::DeviceNotReporting { asset_tag } => write!(
                f,
                "device {asset_tag} has sent no posture report; start hoshu-agent on it"
            ),
            Denial::DeviceNotCompliant { asset_tag, reasons } => {
                write!(f, "device {asset_tag} is not compliant: ")?;
                for (i, reason) in reasons.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{reason}")?;
                }
                Ok(())
            }
        }
    }
}

/// Whether the user may have a session on the target now. `Ok` or the first rule that fails.
pub fn decide(facts: &AccessFacts) -> Result<(), Denial> {
    let user = &facts.user;
    let target = &facts.target;
    let vendor_id = user.vendor.map(|(id, _)| id);
    if let Some(lock) = facts.locks.iter().find(|lock| match lock.scope {
        LockScope::All => true,
        LockScope::Vendor(v) => vendor_id == Some(v),
        LockScope::Target(t) => t == target.id,
        LockScope::User(u) => u == user.id,
    }) {
        return Err(Denial::Locked {
            scope: lock.scope.clone(),
            reason: lock.reason.clone(),
        });
    }
    if !user.active {
        return Err(Denial::UserInactive);
    }
    match user.role {
        // Operators may open any target; recorded and audited like everyone, and locks apply.
        Role::Admin => return Ok(()),
        Role::Approver | Role::Auditor => return Err(Denial::RoleMayNotOpen(user.role)),
        Role::Vendor => {}
    }
    let Some((_, state)) = user.vendor else {
        return Err(Denial::NoVendor);
    };
    if let Some(until) = user.demo_until {
        if facts.now >= until {
            return Err(Denial::DemoExpired);
        }
        if !target.demo {
            return Err(Denial::DemoTargetsOnly);
        }
        // A demo target holds nothing to protect: no contract or approval is asked for.
        return Ok(());
    }
    if state != ApplicationState::Active {
        return Err(Denial::ApplicationNotActive(state));
    }
    let Some(system) = &target.system else {
        return Err(Denial::TargetWithoutSystem);
    };
    let covered = facts.contracts.iter().any(|c| {
        c.valid_from <= facts.today && facts.today <= c.valid_until && c.systems.contains(system)
    });
    if !covered {
        return Err(Denial::NoContract {
            system: system.clone(),
        });
    }
    let approved = facts
        .approvals
        .iter()
        .any(|w| w.start <= facts.now && facts.now < w.end);
    if !target.standing_access && !approved {
        return Err(Denial::NoApproval);
    }
    device_rule(&facts.device)
}

/// Some device of the user must be compliant now; otherwise the reasons of the one closest to
/// it (one that reports, before one that does not), so the vendor knows what to fix.
fn device_rule(device: &DeviceFacts) -> Result<(), Denial> {
    if !device.required {
        return Ok(());
    }
    let counted: Vec<&DeviceStanding> = if device.presented_only {
        let Some(presented) = &device.presented else {
            return Err(if device.devices.is_empty() {
                Denial::NoDevice
            } else {
                Denial::DeviceNotPresented
            });
        };
        device
            .devices
            .iter()
            .filter(|d| &d.asset_tag == presented)
            .collect()
    } else {
        device.devices.iter().collect()
    };
    if counted
        .iter()
        .any(|d| d.posture.as_ref().is_some_and(|p| p.compliant))
    {
        return Ok(());
    }
    if let Some((asset_tag, posture)) = counted
        .iter()
        .find_map(|d| d.posture.as_ref().map(|p| (&d.asset_tag, p)))
    {
        return Err(Denial::DeviceNotCompliant {
            asset_tag: asset_tag.clone(),
            reasons: posture.reasons.clone(),
        });
    }
    match counted.first() {
        Some(d) => Err(Denial::DeviceNotReporting {
            asset_tag: d.asset_tag.clone(),
        }),
        None => Err(Denial::NoDevice),
    }
}

/// When an allowed session stops being allowed by the clock alone: the end of the latest
/// approval window covering now, or a demo user's expiry. `None` when no such time applies
/// (operators, standing access). Contracts end at a day's end; the periodic re-check sees that.
pub fn allowed_until(facts: &AccessFacts) -> Option<i64> {
    let user = &facts.user;
    if user.role != Role::Vendor {
        return None;
    }
    if let Some(until) = user.demo_until {
        return Some(until);
    }
    if facts.target.standing_access {
        return None;
    }
    facts
        .approvals
        .iter()
        .filter(|w| w.start <= facts.now && facts.now < w.end)
        .map(|w| w.end)
        .max()
}

/// Who looks at a session's list entry, recording and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader<'a> {
    pub id: UserId,
    pub role: Role,
    pub vendor: Option<&'a str>,
    /// A vendor user who manages the company's account.
    pub manager: bool,
}

/// Whether `reader` may see a session of `owner` (of `owner_vendor`): auditors and
/// administrators see all; a vendor's manager sees the company's; everyone else their own.
pub fn may_read_session(reader: &Reader<'_>, owner: UserId, owner_vendor: Option<&str>) -> bool {
    match reader.role {
        Role::Admin | Role::Auditor => true,
        Role::Vendor if reader.manager => {
            reader.id == owner || (reader.vendor.is_some() && reader.vendor == owner_vendor)
        }
        Role::Vendor | Role::Approver => reader.id == owner,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const NOW: i64 = 1_800_000_000;
    const VENDOR: VendorId = VendorId(7);
    const TARGET: TargetId = TargetId(3);
    const USER: UserId = UserId(11);

    /// A vendor engineer with everything in order: active application, a contract covering
    /// the target's system today, an approval around now.
    fn allowed() -> AccessFacts {
        AccessFacts {
            now: NOW,
            today: date!(2027 - 01 - 15),
            user: UserFacts {
                id: USER,
                role: Role::Vendor,
                active: true,
                demo_until: None,
                vendor: Some((VENDOR, ApplicationState::Active)),
            },
            target: TargetFacts {
                id: TARGET,
                system: Some("住民記録".to_owned()),
                demo: false,
                standing_access: false,
            },
            contracts: vec![ContractFacts {
                systems: vec!["住民記録".to_owned()],
                valid_from: date!(2027 - 01 - 01),
                valid_until: date!(2027 - 12 - 31),
            }],
            approvals: vec![ApprovalWindow {
                start: NOW - 60,
                end: NOW + 3600,
            }],
            locks: vec![],
            device: DeviceFacts::default(),
        }
    }

    fn device(asset_tag: &str, reasons: Option<Vec<PostureProblem>>) -> DeviceStanding {
        DeviceStanding {
            asset_tag: asset_tag.to_owned(),
            posture: reasons.map(|reasons| Compliance {
                compliant: reasons.is_empty(),
                reasons,
            }),
        }
    }

    fn old_signatures() -> PostureProblem {
        PostureProblem::SignaturesOutdated {
            product: "ClamAV".to_owned(),
            age_secs: 9 * 86_400,
            limit_days: 3,
        }
    }

    #[test]
    fn the_device_rule() {
        let with = |required: bool, devices: Vec<DeviceStanding>| {
            let mut facts = allowed();
            facts.device = DeviceFacts {
                required,
                devices,
                ..DeviceFacts::default()
            };
            decide(&facts).map_err(|d| d.code())
        };
        assert_eq!(with(false, vec![]), Ok(()));
        assert_eq!(with(true, vec![]), Err("no-device"));
        assert_eq!(
            with(true, vec![device("PC-1", None)]),
            Err("device-not-reporting")
        );
        assert_eq!(
            with(true, vec![device("PC-1", Some(vec![old_signatures()]))]),
            Err("device-not-compliant")
        );
        assert_eq!(
            with(
                true,
                vec![
                    device("PC-1", Some(vec![old_signatures()])),
                    device("PC-2", Some(vec![]))
                ]
            ),
            Ok(())
        );
        // Demo users and operators do not need a device.
        let mut facts = allowed();
        facts.device.required = true;
        facts.user.demo_until = Some(NOW + 60);
        facts.target.demo = true;
        assert_eq!(decide(&facts), Ok(()));
        let mut facts = allowed();
        facts.device.required = true;
        facts.user.role = Role::Admin;
        assert_eq!(decide(&facts), Ok(()));
    }

    #[test]
    fn only_the_presented_device_counts_when_the_browser_must_present_one() {
        let mut facts = allowed();
        facts.device = DeviceFacts {
            required: true,
            devices: vec![
                device("PC-1", Some(vec![])),
                device("PC-2", Some(vec![old_signatures()])),
            ],
            presented_only: true,
            presented: None,
        };
        assert_eq!(
            decide(&facts).map_err(|d| d.code()),
            Err("device-not-presented")
        );
        facts.device.presented = Some("PC-2".to_owned());
        assert_eq!(
            decide(&facts).map_err(|d| d.code()),
            Err("device-not-compliant")
        );
        facts.device.presented = Some("PC-1".to_owned());
        assert_eq!(decide(&facts), Ok(()));
    }

    #[test]
    fn a_device_denial_says_what_to_fix() {
        let mut facts = allowed();
        facts.device = DeviceFacts {
            required: true,
            devices: vec![device("PC-1", Some(vec![old_signatures()]))],
            ..DeviceFacts::default()
        };
        let message = decide(&facts).unwrap_err().to_string();
        assert!(
            message.starts_with("device PC-1 is not compliant: "),
            "{message}"
        );
        assert!(message.contains("9 days old"), "{message}");
    }

    fn lock(scope: LockScope) -> ActiveLock {
        ActiveLock {
            scope,
            reason: "incident 42".to_owned(),
        }
    }

    type Change = fn(&mut AccessFacts);

    #[test]
    fn every_rule() {
        let cases: &[(&str, Change, Result<(), &str>)] = &[
            ("all in order", |_| {}, Ok(())),
            // Locks, at each scope, for vendors and operators alike.
            (
                "lock on everything",
                |f| f.locks.push(lock(LockScope::All)),
                Err("locked"),
            ),
            (
                "lock on the vendor",
                |f| f.locks.push(lock(LockScope::Vendor(VENDOR))),
                Err("locked"),
            ),
            (
                "lock on another vendor",
                |f| f.locks.push(lock(LockScope::Vendor(VendorId(8)))),
                Ok(()),
            ),
            (
                "lock on the target",
                |f| f.locks.push(lock(LockScope::Target(TARGET))),
                Err("locked"),
            ),
            (
                "lock on another target",
                |f| f.locks.push(lock(LockScope::Target(TargetId(4)))),
                Ok(()),
            ),
            (
                "lock on the user",
                |f| f.locks.push(lock(LockScope::User(USER))),
                Err("locked"),
            ),
            (
                "lock on another user",
                |f| f.locks.push(lock(LockScope::User(UserId(12)))),
                Ok(()),
            ),
            (
                "admin under a lock on everything",
                |f| {
                    f.user.role = Role::Admin;
                    f.user.vendor = None;
                    f.locks.push(lock(LockScope::All));
                },
                Err("locked"),
            ),
            (
                "locked user",
                |f| f.user.active = false,
                Err("user-inactive"),
            ),
            // Roles.
            (
                "admin needs no contract or approval",
                |f| {
                    f.user.role = Role::Admin;
                    f.user.vendor = None;
                    f.contracts.clear();
                    f.approvals.clear();
                },
                Ok(()),
            ),
            ("approver", |f| f.user.role = Role::Approver, Err("role")),
            ("auditor", |f| f.user.role = Role::Auditor, Err("role")),
            (
                "vendor user without a vendor",
                |f| f.user.vendor = None,
                Err("no-vendor"),
            ),
            // Demo users.
            (
                "demo user on a demo target",
                |f| {
                    f.user.demo_until = Some(NOW + 1);
                    f.user.vendor = Some((VENDOR, ApplicationState::Demo));
                    f.target.demo = true;
                    f.contracts.clear();
                    f.approvals.clear();
                },
                Ok(()),
            ),
            (
                "demo user on a non-demo target",
                |f| {
                    f.user.demo_until = Some(NOW + 1);
                    f.user.vendor = Some((VENDOR, ApplicationState::Demo));
                },
                Err("demo-targets-only"),
            ),
            (
                "expired demo user",
                |f| {
                    f.user.demo_until = Some(NOW);
                    f.target.demo = true;
                },
                Err("demo-expired"),
            ),
            // The application flow.
            (
                "application under review",
                |f| f.user.vendor = Some((VENDOR, ApplicationState::UnderReview)),
                Err("application-not-active"),
            ),
            (
                "application suspended",
                |f| f.user.vendor = Some((VENDOR, ApplicationState::Suspended)),
                Err("application-not-active"),
            ),
            (
                "application ended",
                |f| f.user.vendor = Some((VENDOR, ApplicationState::Ended)),
                Err("application-not-active"),
            ),
            // Contracts.
            (
                "target without a system",
                |f| f.target.system = None,
                Err("target-without-system"),
            ),
            ("no contract", |f| f.contracts.clear(), Err("no-contract")),
            (
                "contract for another system",
                |f| f.contracts[0].systems = vec!["税務".to_owned()],
                Err("no-contract"),
            ),
            (
                "contract not yet valid",
                |f| f.contracts[0].valid_from = date!(2027 - 01 - 16),
                Err("no-contract"),
            ),
            (
                "contract starting today",
                |f| f.contracts[0].valid_from = date!(2027 - 01 - 15),
                Ok(()),
            ),
            (
                "contract expired",
                |f| f.contracts[0].valid_until = date!(2027 - 01 - 14),
                Err("no-contract"),
            ),
            (
                "contract ending today",
                |f| f.contracts[0].valid_until = date!(2027 - 01 - 15),
                Ok(()),
            ),
            // Approvals.
            ("no approval", |f| f.approvals.clear(), Err("no-approval")),
            (
                "approval window over",
                |f| f.approvals[0].end = NOW,
                Err("no-approval"),
            ),
            (
                "approval window not begun",
                |f| f.approvals[0].start = NOW + 1,
                Err("no-approval"),
            ),
            (
                "standing access needs no approval",
                |f| {
                    f.approvals.clear();
                    f.target.standing_access = true;
                },
                Ok(()),
            ),
            (
                "standing access still needs a contract",
                |f| {
                    f.target.standing_access = true;
                    f.contracts.clear();
                },
                Err("no-contract"),
            ),
        ];
        for (name, change, expected) in cases {
            let mut facts = allowed();
            change(&mut facts);
            let got = decide(&facts).map_err(|d| d.code());
            assert_eq!(&got, expected, "{name}");
        }
    }

    #[test]
    fn who_reads_which_sessions() {
        let engineer = |id, vendor, manager| Reader {
            id: UserId(id),
            role: Role::Vendor,
            vendor,
            manager,
        };
        let a = Some("A社");
        let b = Some("B社");
        let cases = [
            ("own session", engineer(1, a, false), 1, a, true),
            ("colleague's session", engineer(1, a, false), 2, a, false),
            ("manager, colleague's", engineer(1, a, true), 2, a, true),
            ("manager, other vendor's", engineer(1, a, true), 3, b, false),
            (
                "manager, an operator's",
                engineer(1, a, true),
                4,
                None,
                false,
            ),
            (
                "manager without a vendor",
                engineer(1, None, true),
                4,
                None,
                false,
            ),
        ];
        for (name, reader, owner, owner_vendor, expected) in cases {
            assert_eq!(
                may_read_session(&reader, UserId(owner), owner_vendor),
                expected,
                "{name}"
            );
        }
        for (role, expected) in [
            (Role::Admin, true),
            (Role::Auditor, true),
            (Role::Approver, false),
        ] {
            let reader = Reader {
                id: UserId(9),
                role,
                vendor: None,
                manager: false,
            };
            assert_eq!(may_read_session(&reader, UserId(1), a), expected, "{role}");
        }
    }

    #[test]
    fn the_clock_ends_approvals_and_demos() {
        let mut facts = allowed();
        facts.approvals.push(ApprovalWindow {
            start: NOW - 10,
            end: NOW + 7200,
        });
        facts.approvals.push(ApprovalWindow {
            start: NOW + 9000,
            end: NOW + 9999,
        });
        assert_eq!(
            allowed_until(&facts),
            Some(NOW + 7200),
            "the latest covering window"
        );
        facts.target.standing_access = true;
        assert_eq!(allowed_until(&facts), None);
        facts.user.demo_until = Some(NOW + 5);
        assert_eq!(allowed_until(&facts), Some(NOW + 5));
        facts.user.role = Role::Admin;
        assert_eq!(allowed_until(&facts), None);
    }

    #[test]
    fn a_lock_is_reported_before_anything_else() {
        let mut facts = allowed();
        facts.user.active = false;
        facts.contracts.clear();
        facts.locks.push(lock(LockScope::Vendor(VENDOR)));
        let denial = decide(&facts).unwrap_err();
        assert_eq!(
            denial.to_string(),
            "an emergency stop is in force for your company's remote maintenance: incident 42"
        );
    }

    #[test]
    fn messages_say_what_to_do() {
        let mut facts = allowed();
        facts.approvals.clear();
        assert_eq!(
            decide(&facts).unwrap_err().to_string(),
            "no approved work request covers this target now; request the work and wait for approval"
        );
        facts.contracts.clear();
        assert_eq!(
            decide(&facts).unwrap_err().to_string(),
            "no maintenance contract of your company covers system \"住民記録\" today"
        );
    }
}
