//! Pages for remote sessions: opening a target from the portal, the full-window session, the
//! session list and the recording player.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use crate::app::error::{OpError, Problem};
use crate::app::guard::{Source, Viewer};
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::sessions;
use crate::sessions::texts::SessionRefusal;
use crate::sessions::texts::SessionText;
use crate::sessions::visible::{session_view, visible_sessions};
use crate::sessions::{Outcome, open_session};
use crate::ui::i18n::{Lang, T};
use crate::ui::{CsrfForm, Frame, PageCsrf, error_page, page};

#[derive(Debug, Deserialize)]
pub struct OpenForm {
    target: String,
}

pub async fn open_target(
    State(state): State<AppState>,
    lang: Lang,
    source: Source,
    Extension(viewer): Extension<Viewer>,
    certificate: Option<Extension<crate::app::tls::ClientCertificate>>,
    CsrfForm(form): CsrfForm<OpenForm>,
) -> Response {
    let certificate = certificate.map(|c| c.0).unwrap_or_default();
    match open_session(&state, &viewer, &form.target, source, &certificate).await {
        Ok((id, _)) => Redirect::to(&format!("/sessions/{id}/view")).into_response(),
        Err(err) => {
            if let OpError::Storage(e) = &err {
                tracing::error!(error = %e, "Opening a session failed");
            }
            let status = err.status();
            let reason = err.message(lang);
            let frame = Frame {
                lang,
                title: lang.t(SessionText::SessionRefused),
                viewer: Some(&viewer),
                csrf: "",
                here: "/",
            };
            let content = html! {
                section.card {
                    h1 { (lang.t(SessionText::SessionRefused)) }
                    p.error #refusal role="alert" { (reason) }
                    p { a href="/" { (lang.t(T::BackToPortal)) } }
                }
            };
            (status, page(&frame, content)).into_response()
        }
    }
}

/// What a full-window page loads besides style.css and its module script.
#[derive(Default)]
struct Extras {
    stylesheets: &'static [&'static str],
    /// Classic scripts, run before the module.
    scripts: &'static [&'static str],
    /// A wider Content-Security-Policy than the default (web.rs says which and why).
    csp: Option<&'static str>,
}

/// A page without the portal's frame: the remote screen takes the whole window.
fn full_window(lang: Lang, title: &str, body: Markup, script: &str, extras: Extras) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Hoshu" }
                @for sheet in extras.stylesheets { link rel="stylesheet" href=(sheet); }
                link rel="stylesheet" href="/static/style.css";
                @for classic in extras.scripts { script src=(classic) {} }
            }
            body.fullwindow { (body) script type="module" src=(script) {} }
        }
    };
    let mut response = Html(markup.into_string()).into_response();
    if let Some(csp) = extras.csp {
        response.headers_mut().insert(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(csp),
        );
    }
    response
}

/// The form the session's script shows when the target's credentials are not stored (SSH, RDP):
/// what the user types goes to the target through the tunnel, never into the page's URL or the
/// recording.
fn credentials_form(lang: Lang) -> maud::Markup {
    html! {
        div #credentials hidden {
            form.card #credentials-form {
                p.hint { (lang.t(SessionText::CredentialsHint)) }
                div #username-field hidden {
                    label for="target-username" { (lang.t(SessionText::TargetUsername)) }
                    input #target-username type="text" autocomplete="off";
                }
                label for="target-password" { (lang.t(SessionText::TargetPassword)) }
                input #target-password type="password" autocomplete="off";
                button type="submit" { (lang.t(T::Open)) }
            }
        }
    }
}

/// The terminal of an SSH session: xterm.js over the tunnel (assets/terminal.js).
fn terminal_view(lang: Lang, viewer: &Viewer, id: &str, target: &str, clipboard: &str) -> Response {
    let body = html! {
        div #session-bar {
            strong #session-target { (target) }
            span #session-state data-state="connecting" { (lang.t(SessionText::Connecting)) }
            span #session-notice role="status" {}
            button #disconnect type="button" { (lang.t(SessionText::Disconnect)) }
        }
        div #terminal data-tunnel={ "/api/v1/sessions/" (id) "/tunnel" } data-clipboard=(clipboard)
            data-login=(viewer.user.login) data-connected=(lang.t(SessionText::Connected))
            data-ended=(lang.t(SessionText::SessionEnded)) data-copy-disabled=(lang.t(SessionText::CopyDisabled))
            data-paste-disabled=(lang.t(SessionText::PasteDisabled)) {}
        div #watermark aria-hidden="true" {}
        (credentials_form(lang))
        div #ended hidden {
            section.card {
                h1 { (lang.t(SessionText::SessionEnded)) }
                p #end-reason {}
                p { a href="/" { (lang.t(T::BackToPortal)) } }
            }
        }
    };
    full_window(
        lang,
        target,
        body,
        "/static/terminal.js",
        Extras {
            stylesheets: &["/static/xterm.css"],
            csp: Some(crate::app::web::TERMINAL_CONTENT_SECURITY_POLICY),
            ..Extras::default()
        },
    )
}

pub async fn view(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = sessions::stored(&state, &id).await?;
    let Some(stored) = stored.filter(|s| s.user_login == viewer.user.login) else {
        return Ok(error_page(lang, StatusCode::NOT_FOUND, T::NotFound));
    };
    let clipboard = state
        .store
        .target_by_name(&stored.target)
        .await?
        .map_or("off", |t| t.clipboard.as_str());
    if stored.protocol == "ssh" {
        return Ok(terminal_view(lang, &viewer, &id, &stored.target, clipboard));
    }
    let body = html! {
        div #session-bar {
            strong #session-target { (stored.target) }
            span #session-state data-state="connecting" { (lang.t(SessionText::Connecting)) }
            @if clipboard != "off" {
                details #clipboard-panel {
                    summary { (lang.t(SessionText::Clipboard)) }
                    div.drop {
                        textarea #paste-text rows="3" placeholder=(lang.t(SessionText::PasteHint)) {}
                        button #paste-send type="button" { (lang.t(SessionText::PasteSend)) }
                        @if clipboard == "both" { pre #clipboard-out {} }
                    }
                }
            }
            button #disconnect type="button" { (lang.t(SessionText::Disconnect)) }
        }
        // Shown by session.js while someone watches (the gateway's `hoshu-watchers` pipe).
        div #watched role="status" hidden data-label=(lang.t(SessionText::BeingWatched)) {}
        div #display data-tunnel={ "/api/v1/sessions/" (id) "/tunnel" } data-clipboard=(clipboard)
            data-login=(viewer.user.login) data-connected=(lang.t(SessionText::Connected))
            data-ended=(lang.t(SessionText::SessionEnded)) tabindex="0" {}
        div #watermark aria-hidden="true" {}
        (credentials_form(lang))
        div #ended hidden {
            section.card {
                h1 { (lang.t(SessionText::SessionEnded)) }
                p #end-reason {}
                p { a href="/" { (lang.t(T::BackToPortal)) } }
            }
        }
    };
    Ok(full_window(
        lang,
        &stored.target,
        body,
        "/static/session.js",
        Extras::default(),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(csrf): PageCsrf,
    axum::extract::Query(filter): axum::extract::Query<crate::sessions::visible::SessionFilter>,
) -> Result<Response, ApiError> {
    let sessions = filter.apply(
        visible_sessions(&state, &viewer, None).await?,
        state.config.access.utc_offset_hours,
    )?;
    let admin = viewer.user.role == hoshu_domain::Role::Admin;
    let may_watch = matches!(
        viewer.user.role,
        hoshu_domain::Role::Admin | hoshu_domain::Role::Auditor
    );
    let frame = Frame {
        lang,
        title: lang.t(T::Sessions),
        viewer: Some(&viewer),
        csrf: &csrf.0,
        here: "/sessions",
    };
    // Live sessions first, then the rest, newest first (the store's order).
    let (live, ended): (Vec<_>, Vec<_>) = sessions.iter().partition(|s| s.ended_at_ms.is_none());
    let body = html! {
        section.card.wide {
            h1 { (lang.t(T::Sessions)) }
            form.filters #session-filters method="get" action="/sessions" {
                label { (lang.t(T::User)) input type="text" name="user" value=(filter.user); }
                label { (lang.t(T::Vendor)) input type="text" name="vendor" value=(filter.vendor); }
                label { (lang.t(T::Target)) input type="text" name="target" value=(filter.target); }
                label { (lang.t(T::Protocol))
                    select name="protocol" {
                        option value="" { "—" }
                        @for p in ["vnc", "rdp", "ssh"] {
                            option value=(p) selected[filter.protocol == p] { (p) }
                        }
                    }
                }
                label { (lang.t(T::ValidFrom)) input type="date" name="from" value=(filter.from); }
                label { (lang.t(T::ValidUntil)) input type="date" name="until" value=(filter.until); }
                label { (lang.t(SessionText::Outcome)) input type="text" name="outcome" value=(filter.outcome); }
                button type="submit" { (lang.t(T::Filter)) }
            }
            table #sessions {
                thead { tr {
                    th { (lang.t(T::When)) } th { (lang.t(T::User)) } th { (lang.t(T::Target)) }
                    th { (lang.t(SessionText::Outcome)) } th { (lang.t(SessionText::Bytes)) } th {}
                } }
                tbody {
                    @for s in live.iter().chain(ended.iter()) {
                        @let v = session_view(&state, s);
                        tr data-session=(v.id) class=(if v.ended_at.is_none() { "live" } else { "ended" }) {
                            td { (v.started_at) }
                            td { (v.user) @if let Some(vendor) = &s.vendor { br; small { (vendor) } } }
                            td { (v.target) " (" (v.protocol) ")" }
                            td { (v.outcome.as_deref().unwrap_or(lang.t(SessionText::Live))) }
                            td { (v.bytes_to_browser) }
                            td {
                                a.play href={ "/sessions/" (v.id) "/play" } { (lang.t(SessionText::Play)) }
                                // SSH sessions cannot be watched live yet (sessions::Registry::watchers).
                                @if may_watch && v.ended_at.is_none() && v.protocol != "ssh" {
                                    " " a.watch href={ "/sessions/" (v.id) "/watch" } { (lang.t(SessionText::Watch)) }
                                }
                                @if admin && v.ended_at.is_none() {
                                    form.inline method="post" action={ "/sessions/" (v.id) "/end" } {
                                        input type="hidden" name="csrf" value=(csrf.0);
                                        button.end type="submit" { (lang.t(SessionText::EndSession)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&frame, body))
}

#[derive(Debug, Deserialize)]
pub struct NoFields {}

pub async fn end(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if sessions::valid_session_id(&id) {
        state.sessions.end(
            &id,
            Outcome::EndedByAdministrator {
                login: viewer.user.login.clone(),
            },
        );
    }
    Redirect::to("/sessions").into_response()
}

/// The read-only live view of a session for admins and auditors: the picture,
/// who else watches, and for admins the button that ends the session.
pub async fn watch(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Extension(csrf): PageCsrf,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(stored) = sessions::stored(&state, &id).await? else {
        return Ok(error_page(lang, StatusCode::NOT_FOUND, T::NotFound));
    };
    let admin = viewer.user.role == hoshu_domain::Role::Admin;
    let live = stored.ended_at_ms.is_none();
    let body = html! {
        div #session-bar {
            strong #session-target { (stored.target) }
            span #session-user { (stored.user_login) }
            span #watch-mode { (lang.t(SessionText::Watching)) }
            span #session-state data-state="connecting" { (lang.t(SessionText::Connecting)) }
            span { (lang.t(SessionText::WatchersNow)) ": " span #watchers data-none=(lang.t(SessionText::NoWatchers)) {} }
            @if admin && live {
                form.inline #terminate method="post" action={ "/sessions/" (id) "/end" } {
                    input type="hidden" name="csrf" value=(csrf.0);
                    button #terminate-button type="submit" { (lang.t(SessionText::TerminateSession)) }
                }
            }
            a href="/sessions" { (lang.t(T::Sessions)) }
        }
        @if live {
            div #display data-tunnel={ "/api/v1/sessions/" (id) "/watch" } data-login=(viewer.user.login)
                data-connected=(lang.t(SessionText::Connected)) data-ended=(lang.t(SessionText::SessionEnded)) {}
        }
        div #ended hidden[live] {
            section.card {
                h1 { (lang.t(SessionText::SessionEnded)) }
                p #end-reason { (stored.outcome.as_deref().unwrap_or("")) }
                p { a href={ "/sessions/" (id) "/play" } { (lang.t(SessionText::Play)) } " · " a href="/sessions" { (lang.t(T::Sessions)) } }
            }
        }
    };
    Ok(full_window(
        lang,
        &stored.target,
        body,
        "/static/watch.js",
        Extras::default(),
    ))
}

pub async fn play(
    State(state): State<AppState>,
    lang: Lang,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stored = sessions::stored(&state, &id).await?;
    let Some(stored) = stored.filter(|s| sessions::may_see(&viewer.user, s)) else {
        return Ok(error_page(lang, StatusCode::NOT_FOUND, T::NotFound));
    };
    // A recording that fails its check is not played; the page says why.
    if crate::sessions::review::integrity(&state, &stored).await?
        == crate::sessions::review::Integrity::Mismatch
    {
        let frame = Frame {
            lang,
            title: &stored.target,
            viewer: Some(&viewer),
            csrf: "",
            here: "/sessions",
        };
        let body = html! {
            section.card {
                p.error #integrity data-state="mismatch" role="alert" {
                    (SessionRefusal::RecordingModified.message(lang))
                }
                p { a href="/sessions" { (lang.t(T::Sessions)) } }
            }
        };
        return Ok((StatusCode::CONFLICT, page(&frame, body)).into_response());
    }
    if stored.protocol == "ssh" {
        let commands = state.store.session_commands(&stored.id).await?;
        let started_ms = stored.started_at_ms;
        let body = html! {
            div #session-bar {
                strong { (stored.target) } " — " (stored.user_login) " — " (session_view(&state, &stored).started_at)
                span #player-state data-state="loading" { (lang.t(SessionText::Loading)) }
                a href="/sessions" { (lang.t(T::Sessions)) }
            }
            div #cast-layout {
                div #player data-recording={ "/api/v1/sessions/" (id) "/recording" } {}
                section #commands {
                    h2 { (lang.t(SessionText::Commands)) }
                    @if commands.is_empty() { p.hint { (lang.t(SessionText::NoCommands)) } }
                    ol {
                        // Offsets from the session's start: the player's time line is close to it
                        // (the recording starts when the shell opened, a moment later).
                        @for c in &commands {
                            li data-offset-ms=((c.at_ms - started_ms).max(0)) {
                                time { (format!("+{:.1} s", (c.at_ms - started_ms).max(0) as f64 / 1000.0)) }
                                " " code { (c.command) }
                            }
                        }
                    }
                }
            }
        };
        return Ok(full_window(
            lang,
            &stored.target,
            body,
            "/static/cast-player.js",
            Extras {
                stylesheets: &["/static/asciinema-player.css"],
                scripts: &["/static/asciinema-player.min.js"],
                csp: Some(crate::app::web::CAST_PLAYER_CONTENT_SECURITY_POLICY),
            },
        ));
    }
    let keystrokes = state.store.keystrokes(&stored.id).await?;
    let body = html! {
        div #session-bar {
            strong { (stored.target) } " — " (stored.user_login) " — " (session_view(&state, &stored).started_at)
            button #play-pause type="button" disabled data-play=(lang.t(SessionText::Play)) data-pause=(lang.t(SessionText::Pause)) { (lang.t(SessionText::Play)) }
            input #seek type="range" min="0" max="0" value="0" step="1" disabled aria-label=(lang.t(SessionText::Seek));
            span #position { "0:00 / 0:00" }
            select #speed aria-label=(lang.t(SessionText::Speed)) {
                @for x in [1, 2, 4, 8, 16] { option value=(x) { (x) "×" } }
            }
            label.check { input #skip-idle type="checkbox"; (lang.t(SessionText::SkipIdle)) }
            span #player-state data-state="loading" { (lang.t(SessionText::Loading)) }
            a href="/sessions" { (lang.t(T::Sessions)) }
        }
        div #thumbnails {}
        div #review-layout {
            div #display data-recording={ "/api/v1/sessions/" (id) "/recording" } {}
            section #keystrokes {
                h2 { (lang.t(SessionText::Keystrokes)) }
                @if keystrokes.is_empty() { p.hint { (lang.t(SessionText::NoKeystrokes)) } }
                ol {
                    // Offsets from the session's start, as the player's time line (it starts
                    // with the first picture, a moment later).
                    @for (at_ms, text) in &keystrokes {
                        li data-offset-ms=((at_ms - stored.started_at_ms).max(0)) {
                            time { (format!("+{:.1} s", (at_ms - stored.started_at_ms).max(0) as f64 / 1000.0)) }
                            " " code { (text) }
                        }
                    }
                }
            }
        }
    };
    Ok(full_window(
        lang,
        &stored.target,
        body,
        "/static/player.js",
        Extras::default(),
    ))
}
