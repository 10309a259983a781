//! The lock-out rule of DESIGN §4: after a number of consecutive failed answers the account is
//! locked for a while, and each further lock-out doubles the wait (exponential back-off) up to a
//! ceiling. A successful login or an administrator's unlock clears it.

use serde::Deserialize;

/// Tunable by `[lockout]` in the configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the account.
    pub threshold: u32,
    /// Length of the first lock-out, in seconds.
    pub base_secs: i64,
    /// Ceiling for the doubled lock-outs, in seconds.
    pub max_secs: i64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            threshold: 5,
            base_secs: 300,
            max_secs: 24 * 3600,
        }
    }
}

/// Where a failed answer is counted. Failures from a connection presenting the user's own lent
/// device's certificate count apart from all others, so that an outsider who knows a login ID
/// can lock out everyone else trying it, but not the person holding the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginChannel {
    /// Any connection without the user's own device certificate.
    Anywhere,
    /// A connection presenting the certificate of a device lent to this user.
    OwnDevice,
}

impl LoginChannel {
    /// The name in audit events and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginChannel::Anywhere => "anywhere",
            LoginChannel::OwnDevice => "own-device",
        }
    }
}

/// A user's standing with respect to failed logins on one [`LoginChannel`]; stored with the
/// user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginState {
    pub consecutive_failures: u32,
    /// How many times the account has been locked since its last successful login.
    pub lockouts: u32,
    /// Unix seconds until which answers are refused, if locked.
    pub locked_until: Option<i64>,
}

impl LoginState {
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// The state after one more failed answer at `now`. Returns the new state and, when this
    /// failure started a lock-out, its length in seconds (for the audit event).
    pub fn after_failure(self, policy: &LockoutPolicy, now: i64) -> (LoginState, Option<i64>) {
        let failures = self.consecutive_failures.saturating_add(1);
        if failures < policy.threshold.max(1) {
            return (
                LoginState {
                    consecutive_failures: failures,
                    ..self
                },
                None,
            );
        }
        // Doubling per lock-out: base · 2^lockouts, computed without overflow.
        let factor = 1i64.checked_shl(self.lockouts.min(32)).unwrap_or(i64::MAX);
        let secs = policy
            .base_secs
            .max(1)
            .saturating_mul(factor)
            .min(policy.max_secs.max(1));
        let state = LoginState {
            consecutive_failures: 0,
            lockouts: self.lockouts.saturating_add(1),
            locked_until: Some(now.saturating_add(secs)),
        };
        (state, Some(secs))
    }

    /// The state after a successful login.
    pub fn after_success(self) -> LoginState {
        LoginState::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_threshold_and_doubles_each_time_up_to_the_ceiling() {
        let policy = LockoutPolicy {
            threshold: 3,
            base_secs: 60,
            max_secs: 200,
        };
        let mut state = LoginState::default();
        let mut now = 1_000;
        let mut lengths = Vec::new();
        for _ in 0..4 {
            for attempt in 1..=3 {
                assert!(!state.is_locked(now));
                let (next, locked) = state.after_failure(&policy, now);
                state = next;
                assert_eq!(locked.is_some(), attempt == 3);
                if let Some(secs) = locked {
                    lengths.push(secs);
                    assert!(state.is_locked(now + secs - 1));
                    assert!(!state.is_locked(now + secs));
                    now += secs;
                }
            }
        }
        assert_eq!(lengths, vec![60, 120, 200, 200]);
        assert_eq!(state.after_success(), LoginState::default());
    }

    #[test]
    fn a_huge_number_of_lockouts_does_not_overflow() {
        let policy = LockoutPolicy::default();
        let state = LoginState {
            consecutive_failures: 4,
            lockouts: u32::MAX,
            locked_until: None,
        };
        let (next, secs) = state.after_failure(&policy, i64::MAX - 5);
        assert_eq!(secs, Some(policy.max_secs));
        assert_eq!(next.locked_until, Some(i64::MAX));
    }
}
