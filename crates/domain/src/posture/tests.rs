//! Table-driven tests of every posture rule and bound.

use super::*;

const NOW: i64 = 1_800_000_000;
const FP: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn clamav() -> AntivirusProduct {
    AntivirusProduct {
        name: "ClamAV".to_owned(),
        running: true,
        real_time_protection: true,
        signatures_updated_at: Some(NOW - DAY_SECS),
        signatures_up_to_date: None,
        signature_version: Some("27100".to_owned()),
    }
}

/// A Linux device with everything in order under the default policy.
fn good() -> PostureReport {
    PostureReport {
        fingerprint: FP.to_owned(),
        os: OsInfo {
            name: "Debian GNU/Linux".to_owned(),
            version: "12 (bookworm)".to_owned(),
        },
        antivirus: vec![clamav()],
        firewall: FirewallState::On,
        collected_at: NOW - 30,
    }
}

fn codes(c: &Compliance) -> Vec<&'static str> {
    c.reasons.iter().map(PostureProblem::code).collect()
}

#[test]
fn a_good_report_is_compliant() {
    let c = evaluate(&PosturePolicy::default(), &good(), FP, NOW);
    assert!(c.compliant, "{:?}", c.reasons);
    assert!(c.reasons.is_empty());
}

type Change = fn(&mut PostureReport, &mut PosturePolicy);

#[test]
fn every_rule() {
    let cases: &[(&str, Change, &[&str])] = &[
        (
            "other machine",
            |r, _| r.fingerprint = "f".repeat(64),
            &["fingerprint-mismatch"],
        ),
        (
            "other machine, rule off",
            |r, p| {
                r.fingerprint = "f".repeat(64);
                p.fingerprint_must_match = false;
            },
            &[],
        ),
        (
            "report 181 s old",
            |r, _| r.collected_at = NOW - 181,
            &["report-stale"],
        ),
        ("report 180 s old", |r, _| r.collected_at = NOW - 180, &[]),
        (
            "report 10 min old, limit 15 min",
            |r, p| {
                r.collected_at = NOW - 600;
                p.max_report_age_secs = 900;
            },
            &[],
        ),
        (
            "clock 301 s ahead",
            |r, _| r.collected_at = NOW + 301,
            &["clock-ahead"],
        ),
        ("clock 300 s ahead", |r, _| r.collected_at = NOW + 300, &[]),
        ("no product", |r, _| r.antivirus.clear(), &["no-antivirus"]),
        (
            "no product, antivirus not required",
            |r, p| {
                r.antivirus.clear();
                p.antivirus_required = false;
            },
            &[],
        ),
        (
            "stopped",
            |r, _| r.antivirus[0].running = false,
            &["antivirus-not-running"],
        ),
        (
            "real-time off",
            |r, _| r.antivirus[0].real_time_protection = false,
            &["real-time-off"],
        ),
        (
            "real-time off, not required",
            |r, p| {
                r.antivirus[0].real_time_protection = false;
                p.real_time_required = false;
            },
            &[],
        ),
        (
            "signatures 3 days old",
            |r, _| r.antivirus[0].signatures_updated_at = Some(NOW - 3 * DAY_SECS),
            &[],
        ),
        (
            "signatures 3 days 1 s old",
            |r, _| r.antivirus[0].signatures_updated_at = Some(NOW - 3 * DAY_SECS - 1),
            &["signatures-outdated"],
        ),
        (
            "signatures 9 days old, limit 10",
            |r, p| {
                r.antivirus[0].signatures_updated_at = Some(NOW - 9 * DAY_SECS);
                p.max_signature_age_days = 10;
            },
            &[],
        ),
        (
            "signatures dated in the future",
            |r, _| r.antivirus[0].signatures_updated_at = Some(NOW + DAY_SECS),
            &[],
        ),
        (
            "no date, product says up to date",
            |r, _| {
                r.antivirus[0].signatures_updated_at = None;
                r.antivirus[0].signatures_up_to_date = Some(true);
            },
            &[],
        ),
        (
            "no date, product says out of date",
            |r, _| {
                r.antivirus[0].signatures_updated_at = None;
                r.antivirus[0].signatures_up_to_date = Some(false);
            },
            &["signatures-reported-outdated"],
        ),
        (
            "no date, no verdict",
            |r, _| r.antivirus[0].signatures_updated_at = None,
            &["signature-date-unknown"],
        ),
        (
            "a date beats the product's verdict",
            |r, _| {
                r.antivirus[0].signatures_updated_at = Some(NOW - 5 * DAY_SECS);
                r.antivirus[0].signatures_up_to_date = Some(true);
            },
            &["signatures-outdated"],
        ),
        (
            "firewall off, not required",
            |r, _| r.firewall = FirewallState::Off,
            &[],
        ),
        (
            "firewall off, required",
            |r, p| {
                r.firewall = FirewallState::Off;
                p.firewall_required = true;
            },
            &["firewall-off"],
        ),
        (
            "firewall unknown, required",
            |r, p| {
                r.firewall = FirewallState::Unknown;
                p.firewall_required = true;
            },
            &["firewall-unknown"],
        ),
        (
            "everything wrong at once, in order",
            |r, p| {
                r.fingerprint = "f".repeat(64);
                r.collected_at = NOW - 1000;
                r.antivirus[0].real_time_protection = false;
                r.antivirus[0].signatures_updated_at = Some(NOW - 9 * DAY_SECS);
                r.firewall = FirewallState::Off;
                p.firewall_required = true;
            },
            &[
                "fingerprint-mismatch",
                "report-stale",
                "real-time-off",
                "signatures-outdated",
                "firewall-off",
            ],
        ),
        (
            "a stopped second product does not matter when one passes",
            |r, _| {
                let mut other = clamav();
                other.name = "Trend Micro Apex One".to_owned();
                other.running = false;
                r.antivirus.insert(0, other);
            },
            &[],
        ),
        (
            "one passing product of two running is enough",
            |r, _| {
                let mut stale = clamav();
                stale.name = "Other AV".to_owned();
                stale.signatures_updated_at = Some(NOW - 30 * DAY_SECS);
                r.antivirus.insert(0, stale);
            },
            &[],
        ),
        (
            "two running products, both failing: both listed",
            |r, _| {
                let mut other = clamav();
                other.name = "Other AV".to_owned();
                other.real_time_protection = false;
                r.antivirus.push(other);
                r.antivirus[0].signatures_updated_at = Some(NOW - 30 * DAY_SECS);
            },
            &["signatures-outdated", "real-time-off"],
        ),
        (
            "two stopped products: both named",
            |r, _| {
                r.antivirus[0].running = false;
                let mut other = clamav();
                other.name = "Other AV".to_owned();
                other.running = false;
                r.antivirus.push(other);
            },
            &["antivirus-not-running", "antivirus-not-running"],
        ),
    ];
    for (name, change, want) in cases {
        let mut report = good();
        let mut policy = PosturePolicy::default();
        change(&mut report, &mut policy);
        let c = evaluate(&policy, &report, FP, NOW);
        assert_eq!(codes(&c), *want, "{name}");
        assert_eq!(c.compliant, want.is_empty(), "{name}");
    }
}

#[test]
fn messages_say_what_to_do() {
    let mut report = good();
    report.antivirus[0].signatures_updated_at = Some(NOW - 9 * DAY_SECS - 7);
    let c = evaluate(&PosturePolicy::default(), &report, FP, NOW);
    assert_eq!(
        c.reasons[0].to_string(),
        "ClamAV signatures are 9 days old (limit 3 days); update ClamAV (freshclam)"
    );

    report.antivirus[0].signatures_updated_at = Some(NOW - 3 * DAY_SECS - 60);
    let c = evaluate(&PosturePolicy::default(), &report, FP, NOW);
    assert!(
        c.reasons[0]
            .to_string()
            .starts_with("ClamAV signatures are more than 3 days old (limit 3 days)"),
        "{}",
        c.reasons[0]
    );

    report.antivirus.clear();
    let c = evaluate(&PosturePolicy::default(), &report, FP, NOW);
    assert!(
        c.reasons[0]
            .to_string()
            .starts_with("no antivirus running;")
    );

    let defender = PostureProblem::RealTimeOff {
        product: "Microsoft Defender Antivirus".to_owned(),
    };
    assert!(defender.to_string().contains("Windows Security"));
    let clam_stopped = PostureProblem::AntivirusNotRunning {
        product: "ClamAV".to_owned(),
    };
    assert!(
        clam_stopped
            .to_string()
            .contains("systemctl start clamav-daemon")
    );
    let other = PostureProblem::SignaturesReportedOutdated {
        product: "Trend Micro Apex One".to_owned(),
    };
    assert_eq!(
        other.to_string(),
        "Trend Micro Apex One reports its signatures out of date; update Trend Micro Apex One"
    );
}

#[test]
fn problems_serialise_as_code_and_message() {
    let c = evaluate(
        &PosturePolicy::default(),
        &good(),
        "0".repeat(64).as_str(),
        NOW,
    );
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["compliant"], false);
    assert_eq!(json["reasons"][0]["code"], "fingerprint-mismatch");
    assert!(
        json["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("enrolled device")
    );
}

#[test]
fn policy_defaults_fill_missing_fields_and_unknown_fields_are_refused() {
    let p: PosturePolicy = serde_json::from_str("{}").unwrap();
    assert_eq!(p, PosturePolicy::default());
    assert!(p.real_time_required && p.antivirus_required && p.fingerprint_must_match);
    assert_eq!((p.max_signature_age_days, p.max_report_age_secs), (3, 180));
    assert!(!p.firewall_required);

    let p: PosturePolicy =
        serde_json::from_str(r#"{"firewall_required": true, "max_signature_age_days": 7}"#)
            .unwrap();
    assert!(p.firewall_required);
    assert_eq!(p.max_signature_age_days, 7);
    assert!(p.real_time_required);

    assert!(serde_json::from_str::<PosturePolicy>(r#"{"realtime": false}"#).is_err());
}

#[test]
fn reports_round_trip_and_refuse_unknown_fields() {
    let json = serde_json::to_vec(&good()).unwrap();
    assert_eq!(PostureReport::from_json(&json).unwrap(), good());

    let mut value = serde_json::to_value(good()).unwrap();
    value["admin"] = serde_json::Value::Bool(true);
    let err = PostureReport::from_json(&serde_json::to_vec(&value).unwrap()).unwrap_err();
    assert!(matches!(err, ReportError::Json(_)), "{err}");

    let mut value = serde_json::to_value(good()).unwrap();
    value["antivirus"][0]["compliant"] = serde_json::Value::Bool(true);
    assert!(PostureReport::from_json(&serde_json::to_vec(&value).unwrap()).is_err());

    // Optional product fields may be left out.
    let minimal = format!(
        r#"{{"fingerprint":"{FP}","os":{{"name":"Windows","version":"10.0.19045"}},
        "antivirus":[{{"name":"Microsoft Defender Antivirus","running":true,
        "real_time_protection":true}}],"firewall":"unknown","collected_at":{NOW}}}"#
    );
    let report = PostureReport::from_json(minimal.as_bytes()).unwrap();
    assert_eq!(report.antivirus[0].signatures_updated_at, None);
    assert_eq!(report.firewall, FirewallState::Unknown);
}

#[test]
fn every_bound_is_checked() {
    type Spoil = fn(&mut PostureReport);
    let cases: &[(Spoil, ReportError)] = &[
        (
            |r| r.fingerprint = FP.to_uppercase(),
            ReportError::BadFingerprint,
        ),
        (|r| r.fingerprint.truncate(63), ReportError::BadFingerprint),
        (
            |r| r.os.name = "x".repeat(257),
            ReportError::TextTooLong {
                field: "os.name",
                chars: 257,
            },
        ),
        (
            |r| r.os.version = " ".to_owned(),
            ReportError::EmptyText {
                field: "os.version",
            },
        ),
        (
            |r| r.antivirus = vec![clamav(); 17],
            ReportError::TooManyProducts { count: 17 },
        ),
        (
            |r| r.antivirus[0].name = "名".repeat(257),
            ReportError::TextTooLong {
                field: "antivirus.name",
                chars: 257,
            },
        ),
        (
            |r| r.antivirus[0].signature_version = Some("v".repeat(300)),
            ReportError::TextTooLong {
                field: "antivirus.signature_version",
                chars: 300,
            },
        ),
        (
            |r| r.antivirus[0].signatures_updated_at = Some(-1),
            ReportError::NegativeTime(-1),
        ),
        (|r| r.collected_at = -5, ReportError::NegativeTime(-5)),
    ];
    for (spoil, want) in cases {
        let mut report = good();
        spoil(&mut report);
        assert_eq!(report.validate().as_ref(), Err(want));
        let json = serde_json::to_vec(&report).unwrap();
        assert_eq!(PostureReport::from_json(&json).as_ref(), Err(want));
    }
    // Exactly at the bounds is fine.
    let mut report = good();
    report.antivirus = vec![clamav(); 16];
    report.os.name = "名".repeat(256);
    assert_eq!(report.validate(), Ok(()));

    let huge = vec![b' '; MAX_REPORT_BYTES + 1];
    assert_eq!(
        PostureReport::from_json(&huge),
        Err(ReportError::TooLarge {
            len: MAX_REPORT_BYTES + 1
        })
    );
}

#[test]
fn a_vendor_override_changes_only_the_rules_it_names() {
    let global = PosturePolicy {
        firewall_required: true,
        ..PosturePolicy::default()
    };
    let seven_days: PolicyOverride =
        serde_json::from_str(r#"{"max_signature_age_days": 7}"#).unwrap();
    let policy = seven_days.apply(&global);
    assert_eq!(policy.max_signature_age_days, 7);
    assert!(
        policy.firewall_required,
        "the rest follows the global policy"
    );

    // Signatures 5 days old: refused globally (3 days), accepted for this vendor (7 days).
    let mut report = good();
    report.antivirus[0].signatures_updated_at = Some(NOW - 5 * DAY_SECS);
    assert!(!evaluate(&global, &report, FP, NOW).compliant);
    assert!(evaluate(&policy, &report, FP, NOW).compliant);

    let both = seven_days.merged(&PolicyOverride {
        firewall_required: Some(false),
        ..PolicyOverride::default()
    });
    assert_eq!(both.max_signature_age_days, Some(7));
    assert_eq!(
        both.describe(),
        ["max_signature_age_days = 7", "firewall_required = false"]
    );
    assert!(PolicyOverride::default().is_empty() && !both.is_empty());
    assert_eq!(PolicyOverride::default().apply(&global), global);
    assert!(serde_json::from_str::<PolicyOverride>(r#"{"max_age": 1}"#).is_err());
}

/// DESIGN §6 holds signatures to "≤ N days old", which needs a date. Windows Security Center
/// gives none for third-party products, only the product's own verdict (productState), and
/// that verdict is what the seed asks for ("signatures current"). So a product that says it is
/// up to date passes the signature rule whatever N is, while one with a date is held to N, and
/// one that says nothing fails.
#[test]
fn a_product_without_a_date_that_says_up_to_date_passes_the_signature_rule() {
    let strict = PosturePolicy {
        max_signature_age_days: 0,
        ..PosturePolicy::default()
    };
    let mut report = good();
    report.antivirus = vec![AntivirusProduct {
        name: "Trend Micro Apex One".to_owned(),
        running: true,
        real_time_protection: true,
        signatures_updated_at: None,
        signatures_up_to_date: Some(true),
        signature_version: None,
    }];
    let verdict = evaluate(&strict, &report, FP, NOW);
    assert!(verdict.compliant, "{:?}", verdict.reasons);

    report.antivirus[0].signatures_up_to_date = None;
    assert_eq!(
        codes(&evaluate(&strict, &report, FP, NOW)),
        ["signature-date-unknown"]
    );
}

#[test]
fn signatures_dated_in_the_future_are_not_current() {
    let mut report = good();
    // Decades ahead: the age would be negative and pass any limit.
    report.antivirus[0].signatures_updated_at = Some(NOW + 30 * 365 * DAY_SECS);
    let verdict = evaluate(&PosturePolicy::default(), &report, FP, NOW);
    assert!(!verdict.compliant);
    assert_eq!(codes(&verdict), ["signatures-from-the-future"]);
    assert!(
        verdict.reasons[0]
            .to_string()
            .contains("ahead of the gateway's clock")
    );
    // A few minutes ahead is a clock a little off, not a problem.
    report.antivirus[0].signatures_updated_at = Some(NOW + 60);
    assert!(evaluate(&PosturePolicy::default(), &report, FP, NOW).compliant);
}

#[test]
fn clocks_at_the_ends_of_the_range_do_not_overflow() {
    // A gateway clock so far behind that now - collected_at saturates at i64::MIN: the clock
    // check once negated that and overflowed (fuzz/regressions/posture_report/).
    let c = evaluate(&PosturePolicy::default(), &good(), FP, i64::MIN);
    assert_eq!(codes(&c), ["clock-ahead"]);
    assert_eq!(
        c.reasons[0],
        PostureProblem::ClockAhead {
            ahead_secs: i64::MAX
        }
    );
    assert!(!c.reasons[0].to_string().is_empty());

    // And the other way round: a report from the far past is stale, not ahead.
    let mut old = good();
    old.collected_at = i64::MIN;
    old.antivirus[0].signatures_updated_at = Some(i64::MIN);
    let c = evaluate(&PosturePolicy::default(), &old, FP, i64::MAX);
    assert_eq!(codes(&c), ["report-stale", "signatures-outdated"]);
}
