//! Posture reports, which a lent device sends and the gateway does not control.

use hoshu_domain::posture::{MAX_PRODUCTS, MAX_REPORT_BYTES, MAX_TEXT_CHARS, is_fingerprint};
use hoshu_domain::{
    Compliance, FirewallState, PosturePolicy, PostureProblem, PostureReport, ReportError, evaluate,
};

const DAY_SECS: i64 = 86_400;

/// Policies at the corners: the default, every rule on with zero limits, every rule off with
/// the widest limits, every rule on with the widest limits.
fn policies() -> [PosturePolicy; 4] {
    let strict = PosturePolicy {
        antivirus_required: true,
        real_time_required: true,
        max_signature_age_days: 0,
        fingerprint_must_match: true,
        max_report_age_secs: 0,
        firewall_required: true,
    };
    let lax = PosturePolicy {
        antivirus_required: false,
        real_time_required: false,
        max_signature_age_days: u32::MAX,
        fingerprint_must_match: false,
        max_report_age_secs: u32::MAX,
        firewall_required: false,
    };
    let wide = PosturePolicy {
        max_signature_age_days: u32::MAX,
        max_report_age_secs: u32::MAX,
        ..strict.clone()
    };
    [PosturePolicy::default(), strict, lax, wide]
}

/// Gateway clocks to evaluate at: the ends of the range, and the edges of each time rule
/// around the report's own times.
fn clocks(report: &PostureReport) -> Vec<i64> {
    let mut clocks = vec![i64::MIN, -1, 0, 1, i64::MAX];
    let at = report.collected_at;
    for delta in [0, 180, 181, -300, -301] {
        clocks.push(at.saturating_add(delta));
    }
    for product in report.antivirus.iter().take(2) {
        if let Some(signed) = product.signatures_updated_at {
            clocks.push(signed.saturating_add(3 * DAY_SECS));
            clocks.push(signed.saturating_add(3 * DAY_SECS + 1));
        }
    }
    clocks
}

/// The bounds a report that `from_json` accepted must meet.
fn check_bounds(report: &PostureReport) {
    let text = |field: &str, value: &str| {
        let chars = value.chars().count();
        assert!(
            chars <= MAX_TEXT_CHARS,
            "{field} of {chars} characters accepted"
        );
        assert!(!value.trim().is_empty(), "blank {field} accepted");
    };
    assert!(
        is_fingerprint(&report.fingerprint),
        "bad fingerprint accepted"
    );
    text("os.name", &report.os.name);
    text("os.version", &report.os.version);
    assert!(
        report.antivirus.len() <= MAX_PRODUCTS,
        "too many products accepted"
    );
    for product in &report.antivirus {
        text("antivirus.name", &product.name);
        if let Some(version) = &product.signature_version {
            text("antivirus.signature_version", version);
        }
        assert!(product.signatures_updated_at.is_none_or(|at| at >= 0));
    }
    assert!(report.collected_at >= 0, "negative collected_at accepted");
}

/// What must hold of any verdict, whatever the report, policy and clock.
fn check_verdict(policy: &PosturePolicy, report: &PostureReport, verdict: &Compliance) {
    assert_eq!(verdict.compliant, verdict.reasons.is_empty(), "{verdict:?}");
    let count = |f: fn(&PostureProblem) -> bool| verdict.reasons.iter().filter(|p| f(p)).count();
    assert!(count(|p| matches!(p, PostureProblem::FingerprintMismatch)) <= 1);
    assert!(
        count(|p| matches!(
            p,
            PostureProblem::ReportStale { .. } | PostureProblem::ClockAhead { .. }
        )) <= 1,
        "both stale and ahead: {verdict:?}"
    );
    let firewall = count(|p| {
        matches!(
            p,
            PostureProblem::FirewallOff | PostureProblem::FirewallUnknown
        )
    });
    let firewall_bad = policy.firewall_required && report.firewall != FirewallState::On;
    assert_eq!(firewall, usize::from(firewall_bad), "firewall: {verdict:?}");
    let antivirus = count(|p| {
        matches!(
            p,
            PostureProblem::NoAntivirus
                | PostureProblem::AntivirusNotRunning { .. }
                | PostureProblem::RealTimeOff { .. }
                | PostureProblem::SignaturesOutdated { .. }
                | PostureProblem::SignaturesReportedOutdated { .. }
                | PostureProblem::SignatureDateUnknown { .. }
        )
    });
    if !policy.antivirus_required {
        assert_eq!(antivirus, 0, "antivirus not required: {verdict:?}");
    } else if report.antivirus.is_empty() {
        assert_eq!(
            verdict
                .reasons
                .iter()
                .filter(|p| **p == PostureProblem::NoAntivirus)
                .count(),
            1
        );
    }
    for problem in &verdict.reasons {
        assert!(!problem.code().is_empty());
        // Every message is a sentence a vendor reads; building it must not panic either.
        assert!(
            !problem.to_string().is_empty(),
            "{problem:?} has no message"
        );
        if let PostureProblem::ClockAhead { ahead_secs } = problem {
            assert!(*ahead_secs > 0, "{problem:?}");
        }
    }
}

/// `PostureReport::from_json` on arbitrary bytes from a lent device.
///
/// - It never panics, and accepts exactly what serde accepts *and* [`PostureReport::validate`]
///   passes, at most [`MAX_REPORT_BYTES`] of it; what it accepts meets every documented bound.
/// - An accepted report serialises and parses back to itself (the gateway stores and shows
///   it), compact and pretty.
/// - `evaluate` never panics, for any report serde can build (valid or not), at policies on
///   every corner and at clocks on every edge, and its verdict is consistent
///   ([`check_verdict`]); with every rule off and the gateway's clock at the report's, a valid
///   report is compliant.
///
/// Input: the report's JSON, as the agent sends it.
pub fn posture_report(data: &[u8]) {
    let accepted = PostureReport::from_json(data);
    let parsed = serde_json::from_slice::<PostureReport>(data);
    match (&accepted, &parsed) {
        (Err(ReportError::TooLarge { len }), _) => {
            assert!(data.len() > MAX_REPORT_BYTES && *len == data.len());
            return;
        }
        (Err(ReportError::Json(_)), Err(_)) => return,
        (Ok(report), Ok(parsed)) => {
            assert_eq!(report, parsed);
            assert_eq!(report.validate(), Ok(()));
        }
        (Err(error), Ok(parsed)) => assert_eq!(parsed.validate().as_ref(), Err(error)),
        (accepted, parsed) => {
            panic!("from_json gave {accepted:?} where serde gave {parsed:?}")
        }
    }
    assert!(data.len() <= MAX_REPORT_BYTES);
    let Ok(report) = parsed else {
        return;
    };

    if let Ok(valid) = &accepted {
        check_bounds(valid);
        for json in [serde_json::to_vec(valid), serde_json::to_vec_pretty(valid)] {
            let Ok(json) = json else {
                panic!("an accepted report does not serialise");
            };
            assert_eq!(
                PostureReport::from_json(&json).as_ref(),
                Ok(valid),
                "round trip through {}",
                String::from_utf8_lossy(&json)
            );
        }
    }

    let policies = policies();
    for now in clocks(&report) {
        for policy in &policies {
            for enrolled in [report.fingerprint.as_str(), ""] {
                let verdict = evaluate(policy, &report, enrolled, now);
                check_verdict(policy, &report, &verdict);
                let mismatch = verdict
                    .reasons
                    .contains(&PostureProblem::FingerprintMismatch);
                assert_eq!(
                    mismatch,
                    policy.fingerprint_must_match && report.fingerprint != enrolled
                );
            }
        }
    }
    if accepted.is_ok() {
        let lax = &policies[2];
        let verdict = evaluate(lax, &report, &report.fingerprint, report.collected_at);
        assert!(verdict.compliant, "every rule off: {verdict:?}");
        assert!(
            serde_json::to_string(&verdict).is_ok(),
            "verdict does not serialise"
        );
    }
}
