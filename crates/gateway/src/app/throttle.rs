//! Per-source-address throttling of the unauthenticated endpoints (DESIGN §4 "abuse"): a token
//! bucket per address, refilled at `requests_per_minute`, holding at most `burst`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use crate::app::config::ThrottleSettings;

/// Addresses remembered at most; past this the fullest (idle) buckets are forgotten first, so a
/// flood of spoofed sources cannot grow memory without bound.
const MAX_TRACKED: usize = 65_536;

#[derive(Debug)]
pub struct Throttle {
    settings: ThrottleSettings,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Throttle {
    pub fn new(settings: ThrottleSettings) -> Self {
        Throttle {
            settings,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `addr`'s budget. `Err(seconds)` says how long to wait.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Result<(), u64> {
        let per_sec = f64::from(self.settings.requests_per_minute) / 60.0;
        let burst = f64::from(self.settings.burst);
        // A poisoned lock only means another request panicked mid-update; the map is still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&addr) {
            buckets.retain(|_, b| {
                let refilled = b.tokens + now.duration_since(b.updated).as_secs_f64() * per_sec;
                refilled < burst
            });
            if buckets.len() >= MAX_TRACKED {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(addr).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_sec).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / per_sec).ceil().max(1.0) as u64)
        }
    }
}

/// Refuses the request when its source address is over budget (DESIGN §4 per-address throttling).
pub fn admit(
    state: &super::state::AppState,
    source: super::guard::Source,
) -> Result<(), super::web::ApiError> {
    let Some(addr) = source.0 else { return Ok(()) };
    state
        .throttle
        .check(addr.ip(), std::time::Instant::now())
        .map_err(|wait_secs| {
            tracing::warn!(source = %addr.ip(), wait_secs, "Request throttled");
            TooManyRequests { wait_secs }.into()
        })
}

/// A source address over its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyRequests {
    pub wait_secs: u64,
}

impl super::error::Problem for TooManyRequests {
    fn code(&self) -> &'static str {
        "too-many-requests"
    }

    fn status(&self) -> axum::http::StatusCode {
        axum::http::StatusCode::TOO_MANY_REQUESTS
    }

    fn message(&self, lang: crate::ui::i18n::Lang) -> String {
        match lang {
            crate::ui::i18n::Lang::Ja => format!(
                "このアドレスからの要求が多すぎます。{}秒待ってからお試しください。",
                self.wait_secs
            ),
            crate::ui::i18n::Lang::En => format!(
                "too many requests from this address; wait {} s and try again",
                self.wait_secs
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_rate_applies_per_address() {
        let throttle = Throttle::new(ThrottleSettings {
            requests_per_minute: 60,
            burst: 3,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.check(a, t0), Ok(()));
        }
        assert_eq!(throttle.check(a, t0), Err(1));
        assert_eq!(throttle.check(b, t0), Ok(()));
        assert_eq!(throttle.check(a, t0 + Duration::from_millis(1100)), Ok(()));
        assert!(throttle.check(a, t0 + Duration::from_millis(1200)).is_err());
    }
}
