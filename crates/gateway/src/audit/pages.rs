//! The audit-log viewer: filters, the chain's verification state, pages of events newest first,
//! and the JSON-lines download of what the filters select.

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;

use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::{ApiError, percent_encode};
use crate::audit::api::{AuditQuery, verification};
use crate::audit::texts::AuditText;
use crate::ui::i18n::{Lang, T};
use crate::ui::{Frame, PageCsrf, format_at};

const PAGE: u32 = 100;

pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(csrf): PageCsrf,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let offset = state.config.access.utc_offset_hours;
    let filter = query.filter(offset, PAGE)?;
    let events = state.store.search_audit(&filter).await?;
    let verified = verification(&state).await?;
    let intact = verified["intact"].as_bool().unwrap_or(false);
    // The same filters, for the download and the next page.
    let params = |before: Option<i64>| {
        let mut pairs = vec![
            ("kind", query.kind.clone()),
            ("who", query.who.clone()),
            ("from", query.from.clone()),
            ("until", query.until.clone()),
        ];
        if let Some(seq) = before {
            pairs.push(("before", seq.to_string()));
        }
        pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", percent_encode(&v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let frame = Frame {
        lang,
        title: lang.t(T::AuditLog),
        viewer: Some(&viewer),
        csrf: &csrf.0,
        here: "/audit",
    };
    let body = html! {
        section.card.wide {
            p { a href="/" { "← " (lang.t(T::BackToPortal)) } }
            h1 { (lang.t(T::AuditLog)) }
            @if intact {
                p.notice #chain-state data-intact="true" {
                    (lang.t(AuditText::ChainIntact)) " (" (verified["events"]) ")"
                }
            } @else {
                p.error #chain-state data-intact="false" role="alert" {
                    (lang.t(AuditText::ChainBroken)) ": " (verified["reason"].as_str().unwrap_or(""))
                }
            }
            form.filters #audit-filters method="get" action="/audit" {
                label { (lang.t(T::Kind)) input type="text" name="kind" value=(query.kind) placeholder="login, session.open…"; }
                label { (lang.t(AuditText::Who)) input type="text" name="who" value=(query.who); }
                label { (lang.t(T::ValidFrom)) input type="date" name="from" value=(query.from); }
                label { (lang.t(T::ValidUntil)) input type="date" name="until" value=(query.until); }
                button type="submit" { (lang.t(T::Filter)) }
                a #audit-download href={ "/api/v1/audit/export?" (params(None)) } { (lang.t(AuditText::DownloadJsonl)) }
            }
            table.list #audit-events {
                thead { tr {
                    th { "#" } th { (lang.t(T::When)) } th { (lang.t(T::Kind)) } th { (lang.t(T::Actor)) }
                    th { (lang.t(AuditText::Subject)) } th { (lang.t(T::From)) } th { (lang.t(AuditText::Detail)) }
                } }
                tbody {
                    @for e in &events {
                        tr data-kind=(e.kind) {
                            td { (e.seq) }
                            td { (format_at(e.at_ms / 1000, offset)) }
                            td { (e.kind) }
                            td { (e.actor.as_deref().unwrap_or("—")) }
                            td { (e.subject.as_deref().unwrap_or("—")) }
                            td { (e.source.as_deref().unwrap_or("—")) }
                            td.detail { code { (e.detail) } }
                        }
                    }
                }
            }
            @if let Some(last) = events.last().filter(|_| events.len() as u32 == PAGE) {
                p { a #audit-older href={ "/audit?" (params(Some(last.seq))) } { (lang.t(AuditText::Older)) } }
            }
        }
    };
    Ok(crate::ui::page(&frame, body))
}
