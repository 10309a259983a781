//! Who sees which target and which session (DESIGN §5, §7): the lists of the API and the pages,
//! their filters, and one session by id for those allowed to read it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::app::error::Missing;
use crate::app::guard::Viewer;
use crate::app::state::AppState;
use crate::app::web::ApiError;
use crate::sessions;

/// The targets the viewer may see (DESIGN §8): those they may open now, or once a work request
/// is approved or an emergency stop lifted; all for operators, approvers and auditors.
pub async fn visible_targets(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<hoshu_storage::Target>, ApiError> {
    let mut visible = Vec::new();
    for target in state.store.targets().await? {
        match sessions::policy::facts(state, viewer.user.id, target.id).await {
            Ok(facts) if sessions::policy::listed(&facts) => visible.push(target),
            Ok(_) | Err(sessions::policy::Verdict::Gone | sessions::policy::Verdict::Denied(_)) => {
            }
            Err(sessions::policy::Verdict::Failed) => {
                return Err(ApiError::internal("access facts unavailable"));
            }
        }
    }
    Ok(visible)
}

/// The recordings list's filters, from the page's form or the API's query string;
/// empty fields match everything.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SessionFilter {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub target: String,
    /// First day (YYYY-MM-DD, organisation time zone).
    #[serde(default)]
    pub from: String,
    /// Last day, inclusive.
    #[serde(default)]
    pub until: String,
    /// Words in the outcome ("timeout", "emergency stop", "administrator" …).
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub protocol: String,
}

impl SessionFilter {
    /// The first and the end (exclusive) millisecond of the date filters.
    fn bounds(&self, offset_hours: i8) -> Result<(Option<i64>, Option<i64>), ApiError> {
        let from = crate::app::fields::day_start_ms(
            &self.from,
            offset_hours,
            crate::app::fields::Field::From,
        )?;
        let until = crate::app::fields::day_start_ms(
            &self.until,
            offset_hours,
            crate::app::fields::Field::Until,
        )?
        .map(|ms| ms + 86_400_000);
        Ok((from, until))
    }

    /// Keeps the sessions that match every filter given.
    pub fn apply(
        &self,
        sessions: Vec<hoshu_storage::RemoteSession>,
        offset_hours: i8,
    ) -> Result<Vec<hoshu_storage::RemoteSession>, ApiError> {
        let (from, until) = self.bounds(offset_hours)?;
        let contains = |field: &str, wanted: &str| {
            let wanted = wanted.trim();
            wanted.is_empty() || field.to_lowercase().contains(&wanted.to_lowercase())
        };
        Ok(sessions
            .into_iter()
            .filter(|s| {
                contains(&s.user_login, &self.user)
                    && contains(s.vendor.as_deref().unwrap_or(""), &self.vendor)
                    && contains(&s.target, &self.target)
                    && contains(s.outcome.as_deref().unwrap_or(""), &self.outcome)
                    && (self.protocol.trim().is_empty() || s.protocol == self.protocol.trim())
                    && from.is_none_or(|f| s.started_at_ms >= f)
                    && until.is_none_or(|u| s.started_at_ms < u)
            })
            .collect())
    }
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: String,
    pub user: String,
    pub target: String,
    pub protocol: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub outcome: Option<String>,
    pub bytes_to_browser: u64,
}

fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn session_view(state: &AppState, s: &hoshu_storage::RemoteSession) -> SessionView {
    let live_bytes = state.sessions.bytes_to_browser(&s.id);
    SessionView {
        id: s.id.clone(),
        user: s.user_login.clone(),
        target: s.target.clone(),
        protocol: s.protocol.clone(),
        started_at: rfc3339(s.started_at_ms),
        ended_at: s.ended_at_ms.map(rfc3339),
        outcome: s.outcome.clone(),
        bytes_to_browser: live_bytes.unwrap_or(u64::try_from(s.bytes_to_browser).unwrap_or(0)),
    }
}

/// Sessions the caller may see (`sessions::may_see`): admins and auditors all, a vendor's
/// manager the company's, others their own. The query narrows; the rule decides.
pub async fn visible_sessions(
    state: &AppState,
    viewer: &Viewer,
    live: Option<bool>,
) -> Result<Vec<hoshu_storage::RemoteSession>, ApiError> {
    let user = &viewer.user;
    let all = matches!(
        user.role,
        hoshu_domain::Role::Admin | hoshu_domain::Role::Auditor
    );
    let company = user
        .vendor_manager
        .then_some(user.vendor.as_deref())
        .flatten();
    let sessions = state
        .store
        .remote_sessions(live, (!all).then_some(user.id), company)
        .await?;
    Ok(sessions
        .into_iter()
        .filter(|s| sessions::may_see(user, s))
        .collect())
}

/// Session `id` if the caller may see it (its recording, its command log); 404 otherwise, so
/// others' session ids are not confirmed.
pub async fn visible_session(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<hoshu_storage::RemoteSession, ApiError> {
    sessions::stored(state, id)
        .await?
        .filter(|stored| sessions::may_see(&viewer.user, stored))
        .ok_or_else(|| Missing::Session.into())
}
