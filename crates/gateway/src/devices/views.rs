//! How lent devices are shown (DESIGN §6), wherever they are: the vendor page's device section
//! (list, lending form, posture policy) and the holder's devices on the portal. The verdicts
//! are evaluated now, as the access decision does, so a silent device shows as stale without a
//! new report.

use hoshu_domain::{PolicyOverride, PosturePolicy};
use hoshu_storage::{Device, User, Vendor};
use maud::{Markup, html};

use crate::app::state::{AppState, unix_now};
use crate::devices::posture_now;
use crate::devices::texts::DeviceText;
use crate::ui::format_at;
use crate::ui::i18n::Lang;

/// Where a device stands, as a word and a stable `data-state` value.
fn device_state(device: &Device, now: i64) -> (&'static str, DeviceText) {
    if device.revoked_at.is_some() {
        ("revoked", DeviceText::Revoked)
    } else if device.lent_until < now {
        ("lending-ended", DeviceText::LendingEnded)
    } else if device.cert_serial.is_none() {
        ("awaiting-enrolment", DeviceText::AwaitingEnrolment)
    } else {
        ("enrolled", DeviceText::Enrolled)
    }
}

/// The verdict on the device's last report now: compliant, or every reason in `lang`.
fn posture_cell(lang: Lang, global: &PosturePolicy, device: &Device, now: i64) -> Markup {
    if device.revoked_at.is_some() || device.cert_serial.is_none() {
        return html! { td.posture { "—" } };
    }
    match posture_now(global, device, now) {
        None => html! { td.posture data-compliant="unknown" { (lang.t(DeviceText::NoReport)) } },
        Some(verdict) if verdict.compliant => {
            html! { td.posture data-compliant="true" { (lang.t(DeviceText::Compliant)) } }
        }
        Some(verdict) => html! {
            td.posture data-compliant="false" {
                strong { (lang.t(DeviceText::NotCompliant)) }
                ul.reasons {
                    @for reason in &verdict.reasons {
                        li data-code=(reason.code()) { (lang.posture_problem(reason)) }
                    }
                }
            }
        },
    }
}

/// The device table; with `revoke` (the form's action and CSRF token) a revoke button on each
/// device that still works.
pub fn device_table(
    lang: Lang,
    state: &AppState,
    devices: &[Device],
    revoke: Option<(&str, &str)>,
) -> Markup {
    let now = unix_now();
    let offset = state.config.access.utc_offset_hours;
    let global = &state.config.posture.policy;
    html! {
        table.list #devices {
            thead { tr {
                th { (lang.t(DeviceText::AssetTag)) } th { (lang.t(DeviceText::Holder)) } th { (lang.t(DeviceText::LendingPeriod)) }
                th { (lang.t(DeviceText::DeviceState)) } th { (lang.t(DeviceText::LastReport)) } th { (lang.t(DeviceText::Posture)) }
                @if revoke.is_some() { th {} }
            } }
            tbody {
                @for d in devices {
                    @let (state_code, state_text) = device_state(d, now);
                    tr data-asset-tag=(d.asset_tag) data-state=(state_code) {
                        td { (d.asset_tag) }
                        td { (d.user_login) }
                        td { (format_at(d.lent_from, offset)) " – " (format_at(d.lent_until, offset)) }
                        td.state { (lang.t(state_text)) }
                        td.last-report { @match d.last_report_at { Some(at) => (format_at(at, offset)), None => "—" } }
                        (posture_cell(lang, global, d, now))
                        @if let Some((action, csrf)) = revoke {
                            td {
                                @if d.revoked_at.is_none() {
                                    form.inline.revoke-device method="post" action=(action) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="asset_tag" value=(d.asset_tag);
                                        button.danger type="submit" { (lang.t(DeviceText::Revoke)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The vendor page's device section: the list, asset tags recorded before the registry, the
/// posture policy in force, and (for administrators) the lending form.
pub fn vendor_section(
    lang: Lang,
    state: &AppState,
    vendor: &Vendor,
    csrf: Option<&str>,
    devices: &[Device],
    legacy: &[String],
    users: &[User],
) -> Markup {
    let here = format!("/admin/vendors/{}", vendor.id);
    let revoke_action = format!("{here}/devices/revoke");
    html! {
        h2 { (lang.t(DeviceText::Devices)) }
        (device_table(lang, state, devices, csrf.map(|c| (revoke_action.as_str(), c))))
        @if !legacy.is_empty() {
            p { (lang.t(DeviceText::Legacy)) }
            ul #legacy-devices { @for tag in legacy { li { (tag) } } }
        }
        @if let Some(csrf) = csrf {
            h3 { (lang.t(DeviceText::LendDevice)) }
            @if users.is_empty() {
                p #lend-needs-users { (lang.t(DeviceText::AddUsersFirst)) }
            } @else {
                form.stack #lend-device method="post" action={ (here) "/devices" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label { (lang.t(DeviceText::AssetTag)) input type="text" name="asset_tag" required maxlength="64" pattern="[A-Za-z0-9._\\-]+"; }
                    label { (lang.t(DeviceText::Holder))
                        select name="user" required {
                            @for u in users { option value=(u.login) { (u.login) " (" (u.name) ")" } }
                        }
                    }
                    label { (lang.t(DeviceText::LentUntil)) input type="date" name="until" required; }
                    button type="submit" { (lang.t(DeviceText::LendAndIssueCode)) }
                }
            }
        }
        h3 { (lang.t(DeviceText::PosturePolicy)) }
        (policy_view(lang, &state.config.posture.policy, vendor.posture_policy.as_ref()))
    }
}

/// The rules a vendor's devices are held to, each marked when the vendor's own.
fn policy_view(lang: Lang, global: &PosturePolicy, rules: Option<&PolicyOverride>) -> Markup {
    let own = rules.cloned().unwrap_or_default();
    let policy = own.apply(global);
    let rows = [
        (
            "antivirus_required",
            policy.antivirus_required.to_string(),
            own.antivirus_required.is_some(),
        ),
        (
            "real_time_required",
            policy.real_time_required.to_string(),
            own.real_time_required.is_some(),
        ),
        (
            "max_signature_age_days",
            policy.max_signature_age_days.to_string(),
            own.max_signature_age_days.is_some(),
        ),
        (
            "fingerprint_must_match",
            policy.fingerprint_must_match.to_string(),
            own.fingerprint_must_match.is_some(),
        ),
        (
            "max_report_age_secs",
            policy.max_report_age_secs.to_string(),
            own.max_report_age_secs.is_some(),
        ),
        (
            "firewall_required",
            policy.firewall_required.to_string(),
            own.firewall_required.is_some(),
        ),
    ];
    html! {
        @if own.is_empty() { p #posture-global { (lang.t(DeviceText::FollowsGlobal)) } }
        dl.facts #posture-policy {
            @for (name, value, vendor) in rows {
                dt { (name) }
                dd data-rule=(name) data-vendor=(vendor) {
                    (value) @if vendor { " (" (lang.t(DeviceText::VendorRule)) ")" }
                }
            }
        }
    }
}

/// A device as its holder and the administrators see it: the lending, and the verdict on its
/// last report as of now.
pub fn device_json(
    state: &AppState,
    device: &hoshu_storage::Device,
    now: i64,
) -> serde_json::Value {
    let posture = crate::devices::posture_now(&state.config.posture.policy, device, now);
    serde_json::json!({
        "asset_tag": device.asset_tag,
        "user": device.user_login,
        "vendor": device.vendor,
        "lent_from": device.lent_from,
        "lent_until": device.lent_until,
        "enrolled": device.cert_serial.is_some(),
        "revoked": device.revoked_at.is_some(),
        // Whether the device lets its holder open a session now: lent, enrolled, and — when
        // posture is required — with a compliant report that is fresh (one that never
        // reported does not admit, as the session's decision says).
        "admits": crate::devices::device_counts(device, now)
            && (!state.config.posture.required
                || posture.as_ref().is_some_and(|p| p.compliant)),
        "last_report_at": device.last_report_at,
        "compliant": posture.as_ref().map(|p| p.compliant),
        "reasons": posture.map(|p| p.reasons).unwrap_or_default(),
        "required": state.config.posture.required,
    })
}
