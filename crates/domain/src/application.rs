//! A vendor's application flow (seed §6, DESIGN §5): hearing sheet → briefing → demo → review →
//! approved / rejected → formal application → devices lent → active → suspended / ended.
//!
//! The flow is data: each vendor has one state, and [`check_transition`] says whether a move is
//! allowed given the facts the move needs (a reason for a rejection, documents for the formal
//! application, lent devices before activation). The gateway records who, when and a note.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApplicationState {
    /// The hearing sheet (ヒアリングシート) was submitted.
    HearingSheet,
    /// The briefing (説明会) was held.
    BriefingHeld,
    /// A demo user may try the demo targets until its expiry.
    Demo,
    UnderReview,
    Approved,
    Rejected,
    /// The formal application (本申請) with its documents.
    FormalApplication,
    /// Terminals were lent (機器貸与).
    DevicesLent,
    /// Remote maintenance may start.
    Active,
    Suspended,
    Ended,
}

impl ApplicationState {
    pub const ALL: [ApplicationState; 11] = [
        ApplicationState::HearingSheet,
        ApplicationState::BriefingHeld,
        ApplicationState::Demo,
        ApplicationState::UnderReview,
        ApplicationState::Approved,
        ApplicationState::Rejected,
        ApplicationState::FormalApplication,
        ApplicationState::DevicesLent,
        ApplicationState::Active,
        ApplicationState::Suspended,
        ApplicationState::Ended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationState::HearingSheet => "hearing-sheet",
            ApplicationState::BriefingHeld => "briefing-held",
            ApplicationState::Demo => "demo",
            ApplicationState::UnderReview => "under-review",
            ApplicationState::Approved => "approved",
            ApplicationState::Rejected => "rejected",
            ApplicationState::FormalApplication => "formal-application",
            ApplicationState::DevicesLent => "devices-lent",
            ApplicationState::Active => "active",
            ApplicationState::Suspended => "suspended",
            ApplicationState::Ended => "ended",
        }
    }

    /// The states this one may move to, in the order a page offers them.
    pub fn next(self) -> &'static [ApplicationState] {
        use ApplicationState as S;
        match self {
            S::HearingSheet => &[S::BriefingHeld, S::Ended],
            // The demo is offered, not required: a vendor that knows the environment goes
            // straight to review.
            S::BriefingHeld => &[S::Demo, S::UnderReview, S::Ended],
            S::Demo => &[S::UnderReview, S::Ended],
            S::UnderReview => &[S::Approved, S::Rejected],
            S::Approved => &[S::FormalApplication, S::Ended],
            // A rejected vendor may be reviewed again after fixing what the reason said.
            S::Rejected => &[S::UnderReview, S::Ended],
            S::FormalApplication => &[S::DevicesLent, S::Ended],
            S::DevicesLent => &[S::Active, S::Ended],
            S::Active => &[S::Suspended, S::Ended],
            S::Suspended => &[S::Active, S::Ended],
            S::Ended => &[],
        }
    }
}

impl fmt::Display for ApplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "unknown application state {0:?}; use one of hearing-sheet, briefing-held, demo, under-review, approved, rejected, formal-application, devices-lent, active, suspended, ended"
)]
pub struct UnknownApplicationState(pub String);

impl FromStr for ApplicationState {
    type Err = UnknownApplicationState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApplicationState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownApplicationState(s.to_owned()))
    }
}

/// What a transition may need, gathered by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitionFacts {
    /// The note given with the move (trimmed by the caller).
    pub note: String,
    /// Documents attached to the vendor's application so far.
    pub documents: usize,
    /// Devices lent to the vendor's users now (registered, not revoked, lending not over).
    pub devices: usize,
    /// A contract of the vendor valid today or later.
    pub has_contract: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error(
        "the application is {from} and cannot move to {to}; from {from} it can move to: {allowed}"
    )]
    Illegal {
        from: ApplicationState,
        to: ApplicationState,
        allowed: String,
    },
    #[error("a rejection needs a reason in the note, so the vendor knows what to fix")]
    ReasonRequired,
    #[error(
        "the formal application needs at least one document; attach the signed application first"
    )]
    DocumentsRequired,
    #[error(
        "lend at least one device to one of the vendor's users (on the vendor page) before this step"
    )]
    DevicesRequired,
    #[error(
        "the vendor needs a contract valid today or later before it becomes active; add one first"
    )]
    ContractRequired,
}

/// Whether the application may move from `from` to `to` with `facts`.
pub fn check_transition(
    from: ApplicationState,
    to: ApplicationState,
    facts: &TransitionFacts,
) -> Result<(), TransitionError> {
    use ApplicationState as S;
    if !from.next().contains(&to) {
        let allowed = if from.next().is_empty() {
            "nothing (the application has ended)".to_owned()
        } else {
            from.next()
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(TransitionError::Illegal { from, to, allowed });
    }
    match to {
        S::Rejected if facts.note.trim().is_empty() => Err(TransitionError::ReasonRequired),
        S::FormalApplication if facts.documents == 0 => Err(TransitionError::DocumentsRequired),
        S::DevicesLent if facts.devices == 0 => Err(TransitionError::DevicesRequired),
        S::Active if facts.devices == 0 => Err(TransitionError::DevicesRequired),
        S::Active if !facts.has_contract => Err(TransitionError::ContractRequired),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationState as S;

    fn ready() -> TransitionFacts {
        TransitionFacts {
            note: "ok".to_owned(),
            documents: 1,
            devices: 1,
            has_contract: true,
        }
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in S::ALL {
            assert_eq!(state.as_str().parse::<S>().ok(), Some(state));
        }
        assert!("open".parse::<S>().is_err());
    }

    #[test]
    fn the_seed_flow_reaches_active() {
        let flow = [
            S::HearingSheet,
            S::BriefingHeld,
            S::Demo,
            S::UnderReview,
            S::Approved,
            S::FormalApplication,
            S::DevicesLent,
            S::Active,
            S::Suspended,
            S::Active,
            S::Ended,
        ];
        for pair in flow.windows(2) {
            assert_eq!(
                check_transition(pair[0], pair[1], &ready()),
                Ok(()),
                "{pair:?}"
            );
        }
    }

    #[test]
    fn every_move_outside_the_table_is_refused_naming_the_allowed_ones() {
        for from in S::ALL {
            for to in S::ALL {
                let result = check_transition(from, to, &ready());
                if from.next().contains(&to) {
                    assert_eq!(result, Ok(()), "{from} → {to}");
                } else {
                    let Err(TransitionError::Illegal { allowed, .. }) = result else {
                        panic!("{from} → {to} must be illegal: {result:?}");
                    };
                    for next in from.next() {
                        assert!(allowed.contains(next.as_str()), "{allowed}");
                    }
                }
            }
        }
        let message = check_transition(S::HearingSheet, S::Active, &ready())
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "the application is hearing-sheet and cannot move to active; from hearing-sheet it can move to: briefing-held, ended"
        );
    }

    #[test]
    fn steps_that_need_facts_refuse_without_them() {
        let none = TransitionFacts::default();
        assert_eq!(
            check_transition(S::UnderReview, S::Rejected, &none),
            Err(TransitionError::ReasonRequired)
        );
        assert_eq!(
            check_transition(S::Approved, S::FormalApplication, &none),
            Err(TransitionError::DocumentsRequired)
        );
        assert_eq!(
            check_transition(S::FormalApplication, S::DevicesLent, &none),
            Err(TransitionError::DevicesRequired)
        );
        let no_contract = TransitionFacts {
            has_contract: false,
            ..ready()
        };
        assert_eq!(
            check_transition(S::DevicesLent, S::Active, &no_contract),
            Err(TransitionError::ContractRequired)
        );
        assert_eq!(
            check_transition(S::Suspended, S::Active, &no_contract),
            Err(TransitionError::ContractRequired)
        );
    }
}
