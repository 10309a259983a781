//! The login and registration flow of DESIGN §4, shared by the JSON API and the HTML pages:
//! matrix challenges, answers, lock-out, browser sessions and registration codes.

pub mod api;
pub mod cli;
pub mod pages;
pub mod register;
pub mod repeats;
pub mod texts;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hoshu_domain::{AuditEvent, AuditKind, LoginChannel, Role};
use hoshu_otp::{Matrix, Violation};
use hoshu_storage::{BrowserSession, Challenge, NewUser, StorageError, Store, User};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use crate::app::error::OpResult;
use crate::app::fields::{Field, short_text};
use crate::app::guard::Source;
use crate::app::guard::Viewer;
use crate::app::state::{AppState, unix_now};
use crate::app::tls::ClientCertificate;
use crate::app::web::ApiError;
use texts::LoginRefusal;

/// Longest login ID accepted; longer input is refused before any lookup.
pub const MAX_LOGIN_LEN: usize = 64;

/// A challenge as the caller shows it.
#[derive(Debug)]
pub struct IssuedChallenge {
    pub id: String,
    pub matrix: Matrix,
    pub expires_in: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("login ID must be 1 to {MAX_LOGIN_LEN} characters")]
    BadLogin,
    /// Every failed answer looks the same from outside, whatever the cause (DESIGN §4).
    #[error("login failed; check your login ID and password, then try again with a new matrix")]
    Failed,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A new browser session: the token goes into the cookie, only its hash into the database.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub user: User,
    pub max_age_secs: i64,
}

pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

pub fn new_token() -> String {
    let mut buf = [0u8; 32];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

pub fn valid_login(login: &str) -> bool {
    let n = login.chars().count();
    (1..=MAX_LOGIN_LEN).contains(&n) && !login.chars().any(char::is_control)
}

/// Shows a fresh matrix for `login`. An unknown login ID gets one just the same; its answers
/// always fail, so the response does not tell whether the ID exists.
pub async fn issue_challenge(
    state: &AppState,
    login: &str,
    source: Option<String>,
) -> Result<IssuedChallenge, LoginError> {
    let login = login.trim();
    if !valid_login(login) {
        return Err(LoginError::BadLogin);
    }
    let now = unix_now();
    let user = state.store.user_by_login(login).await?;
    let ttl = state.config.login.challenge_ttl_secs;
    let challenge = Challenge {
        id: random_hex(16),
        user: user.as_ref().map(|u| u.id),
        login: login.to_owned(),
        matrix: Matrix::generate(&mut OsRng),
        source: source.clone(),
        created_at: now,
        expires_at: now + ttl,
    };
    state.store.put_challenge(&challenge).await?;
    // One event for a source's first challenge in a minute; the rest are counted (repeats).
    let (noted, ended) =
        state
            .challenge_repeats
            .note(source.as_deref().unwrap_or_default(), login, now);
    repeats::write(state, ended).await;
    if noted == repeats::Noted::First {
        let mut event = AuditEvent::new(AuditKind::LoginChallenge)
            .subject(login)
            .detail("known_login", user.is_some());
        if let Some(source) = source {
            event = event.source(source);
        }
        state.audit(event).await?;
    }
    Ok(IssuedChallenge {
        id: challenge.id,
        matrix: challenge.matrix,
        expires_in: ttl,
    })
}

/// Checks an answer. Success opens a browser session; every failure is [`LoginError::Failed`].
/// `certificate` is the connection's client certificate: failures from the user's own lent
/// device are counted apart from all others ([`LoginChannel`]).
pub async fn answer(
    state: &AppState,
    challenge_id: &str,
    answer: &str,
    source: Option<String>,
    user_agent: Option<&str>,
    certificate: &ClientCertificate,
) -> Result<NewSession, LoginError> {
    let now = unix_now();
    let with_source = |event: AuditEvent| match &source {
        Some(s) => event.source(s.clone()),
        None => event,
    };
    // Challenge ids are 32 hex digits; anything else cannot be one and is not looked up.
    let challenge =
        if challenge_id.len() == 32 && challenge_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            state.store.take_challenge(challenge_id, now).await?
        } else {
            None
        };
    let Some(challenge) = challenge else {
        run_verify(None, None, None, answer.to_owned()).await;
        state
            .audit(with_source(
                AuditEvent::new(AuditKind::LoginFailure)
                    .detail("reason", "unknown or used challenge"),
            ))
            .await?;
        return Err(LoginError::Failed);
    };
    let user = match challenge.user {
        Some(id) => state.store.user(id).await?,
        None => None,
    };
    let credential = match &user {
        Some(u) => state.store.credential(u.id).await?,
        None => None,
    };
    let (secret, hash) = credential.map_or((None, None), |(s, h)| (Some(s), Some(h)));
    let holder = certificate.device(&state.store).await?.map(|d| d.user);
    let channel = match &user {
        Some(u) if holder == Some(u.id) => LoginChannel::OwnDevice,
        _ => LoginChannel::Anywhere,
    };
    // Always the same work: the Argon2 check runs for unknown users, locked users and expired
    // challenges alike, so timing does not tell them apart.
    let correct = run_verify(
        Some(challenge.matrix.clone()),
        secret,
        hash,
        answer.to_owned(),
    )
    .await;

    let login = challenge.login.clone();
    let failure = |reason: &str| {
        with_source(
            AuditEvent::new(AuditKind::LoginFailure)
                .subject(login.clone())
                .detail("reason", reason)
                .detail("channel", channel.as_str()),
        )
    };
    if now >= challenge.expires_at {
        state.audit(failure("challenge expired")).await?;
        return Err(LoginError::Failed);
    }
    let Some(user) = user else {
        state.audit(failure("unknown login ID")).await?;
        return Err(LoginError::Failed);
    };
    let login_state = match channel {
        LoginChannel::Anywhere => user.login_state,
        LoginChannel::OwnDevice => user.device_login_state,
    };
    if user.admin_locked || login_state.is_locked(now) {
        let event = AuditEvent::new(AuditKind::LoginRefusedLocked)
            .subject(login.clone())
            .detail("admin_lock", user.admin_locked)
            .detail("channel", channel.as_str());
        state.audit(with_source(event)).await?;
        return Err(LoginError::Failed);
    }
    if !correct {
        let reason = if user.registered {
            "wrong answer"
        } else {
            "no pattern registered"
        };
        let (next, lockout) = login_state.after_failure(&state.config.lockout, now);
        state.store.set_login_state(user.id, channel, next).await?;
        state.audit(failure(reason)).await?;
        if let Some(secs) = lockout {
            tracing::info!(
                login = %login,
                seconds = secs,
                channel = channel.as_str(),
                "Account locked after failed logins"
            );
            let event = AuditEvent::new(AuditKind::Lockout)
                .subject(login.clone())
                .detail("seconds", secs)
                .detail("lockouts", next.lockouts)
                .detail("channel", channel.as_str());
            state.audit(with_source(event)).await?;
        }
        return Err(LoginError::Failed);
    }

    // Only this channel's failures are forgotten: the holder's login from their device does
    // not give an outsider a fresh count of guesses from anywhere.
    state
        .store
        .set_login_state(user.id, channel, login_state.after_success())
        .await?;
    let token = new_token();
    let settings = state.config.session;
    let max_age_secs = settings.absolute_hours * 3600;
    let session = BrowserSession {
        user: user.id,
        created_at: now,
        last_seen: now,
        expires_at: now + max_age_secs,
        source: source.clone(),
    };
    state
        .store
        .create_session(&token_hash(&token), &session, user_agent)
        .await?;
    state
        .audit(with_source(
            AuditEvent::new(AuditKind::LoginSuccess).subject(login),
        ))
        .await?;
    Ok(NewSession {
        token,
        user,
        max_age_secs,
    })
}

/// Argon2 is slow on purpose; keep it off the async workers.
async fn run_verify(
    matrix: Option<Matrix>,
    secret: Option<hoshu_otp::Secret>,
    hash: Option<hoshu_otp::FixedHash>,
    answer: String,
) -> bool {
    tokio::task::spawn_blocking(move || {
        // With no challenge there is no matrix; verify against a fresh one so the work is equal.
        let matrix = matrix.unwrap_or_else(|| Matrix::generate(&mut OsRng));
        hoshu_otp::verify(&matrix, secret.as_ref(), hash.as_ref(), &answer)
    })
    .await
    .unwrap_or(false)
}

// ---- registration codes ----

/// Crockford's base32 without I, L, O, U: nothing to misread when a code is read aloud or typed.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new one-time registration code: 100 random bits as `XXXXX-XXXXX-XXXXX-XXXXX`.
pub fn new_registration_code() -> String {
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(b & 31)] as char)
        .collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Hash of a code as typed: case, spaces and dashes do not matter.
pub fn registration_code_hash(code: &str) -> [u8; 32] {
    let normalized: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .take(64)
        .collect();
    Sha256::digest(normalized.as_bytes()).into()
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("registration code is wrong, used or expired; ask your administrator for a new one")]
    BadCode,
    #[error("the pattern breaks the registration policy")]
    Violations(Vec<Violation>),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("hashing the fixed password failed: {0}")]
    Hash(#[from] hoshu_otp::OtpError),
    #[error("password hashing worker stopped: {0}")]
    Worker(String),
}

/// Sets the pattern of the user the code belongs to. The code is used up only on success, so a
/// user whose pattern breaks the policy can fix it and try again.
pub async fn register(
    state: &AppState,
    code: &str,
    cells: &[u8],
    fixed: &str,
    insert: usize,
    source: Option<String>,
) -> Result<User, RegisterError> {
    let now = unix_now();
    let code_hash = registration_code_hash(code);
    let refused = |reason: serde_json::Value| {
        let event = AuditEvent::new(AuditKind::RegistrationRefused).detail("reason", reason);
        match &source {
            Some(s) => event.source(s.clone()),
            None => event,
        }
    };
    let Some(owner) = state.store.registration_code_owner(&code_hash, now).await? else {
        state.audit(refused("bad code".into())).await?;
        return Err(RegisterError::BadCode);
    };
    let secret = match hoshu_otp::enrol(&state.config.otp, cells, Some(fixed), insert) {
        Ok(secret) => secret,
        Err(violations) => {
            let codes: Vec<&str> = violations.iter().map(Violation::code).collect();
            state
                .audit(refused(serde_json::json!(codes)).subject(owner.login.clone()))
                .await?;
            return Err(RegisterError::Violations(violations));
        }
    };
    let has_fixed = !fixed.is_empty();
    let fixed = fixed.to_owned();
    let hash = tokio::task::spawn_blocking(move || hoshu_otp::hash_fixed(&fixed, &mut OsRng))
        .await
        .map_err(|e| RegisterError::Worker(e.to_string()))??;
    let Some(user) = state
        .store
        .register(&code_hash, now, &secret, &hash)
        .await?
    else {
        return Err(RegisterError::BadCode);
    };
    let mut event = AuditEvent::new(AuditKind::Registration)
        .subject(user.login.clone())
        .detail("cells", secret.cells().len())
        .detail("fixed_password", has_fixed);
    if let Some(s) = source {
        event = event.source(s);
    }
    state.audit(event).await?;
    Ok(user)
}

/// The login ID a registration code belongs to, if it is still usable.
pub async fn registration_code_owner(
    state: &AppState,
    code: &str,
) -> Result<Option<User>, StorageError> {
    state
        .store
        .registration_code_owner(&registration_code_hash(code), unix_now())
        .await
}

/// Ends the caller's browser session and audits it.
pub async fn end_session(
    state: &AppState,
    viewer: &Viewer,
    source: Source,
) -> Result<(), ApiError> {
    state.store.end_session(&viewer.token_hash).await?;
    // The remote sessions this login opened end with it.
    state.sessions.end_login(&viewer.token_hash);
    let mut event = AuditEvent::new(AuditKind::Logout)
        .actor(viewer.user.login.clone())
        .subject(viewer.user.login.clone());
    if let Some(ip) = source.ip_string() {
        event = event.source(ip);
    }
    state.audit(event).await?;
    Ok(())
}

/// The cookies of a new login: the session's, and a new CSRF token (a token from before the
/// login is not carried into it).
pub fn login_cookies(session: &NewSession) -> [axum::http::HeaderValue; 2] {
    [
        crate::app::web::set_cookie(
            crate::app::guard::SESSION_COOKIE,
            &session.token,
            Some(session.max_age_secs),
        ),
        crate::app::guard::fresh_csrf_cookie(),
    ]
}

/// Adds a user (of a vendor, for role vendor; a demo user for `demo_days`; the company's
/// manager with `manager`) and returns the one-time registration code to hand them.
pub async fn add_user(
    store: &Store,
    settings: &crate::app::config::LoginSettings,
    new: &NewUser<'_>,
    demo_days: Option<u16>,
    manager: bool,
    actor: &str,
) -> OpResult<String> {
    let login = new.login.trim();
    if !valid_login(login) {
        return Err(LoginRefusal::LoginId.into());
    }
    let name = short_text(Field::Name, new.name, 100)?;
    match (new.role, new.vendor) {
        (Role::Vendor, None) => {
            return Err(LoginRefusal::VendorRequired.into());
        }
        (Role::Vendor, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(LoginRefusal::NotAVendorUser.into());
        }
    }
    if (demo_days.is_some() || manager) && new.role != Role::Vendor {
        return Err(LoginRefusal::DemoOrManagerNotVendor.into());
    }
    let now = unix_now();
    let id = store
        .create_user(
            &NewUser {
                login,
                name: &name,
                role: new.role,
                vendor: new.vendor,
            },
            now,
        )
        .await?;
    let demo_until = demo_days.map(|days| now + i64::from(days) * 86_400);
    if demo_until.is_some() {
        store.set_demo_until(id, demo_until).await?;
    }
    if manager {
        store.set_vendor_manager(id, true).await?;
    }
    let code = new_registration_code();
    store
        .issue_registration_code(
            id,
            &registration_code_hash(&code),
            now + settings.registration_code_ttl_hours * 3600,
        )
        .await?;
    let mut event = AuditEvent::new(AuditKind::UserAdded)
        .actor(actor)
        .subject(login)
        .detail("role", new.role.as_str());
    if let Some(vendor) = new.vendor {
        event = event.detail("vendor", vendor);
    }
    if let Some(until) = demo_until {
        event = event.detail("demo_until", until);
    }
    if manager {
        event = event.detail("vendor_manager", true);
    }
    store.append_audit(&event).await?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_codes_are_long_unambiguous_and_forgiving_to_type() {
        let code = new_registration_code();
        assert_eq!(code.len(), 23);
        assert!(!code.contains(['I', 'L', 'O', 'U']));
        assert_eq!(
            registration_code_hash(&code),
            registration_code_hash(&code.to_lowercase().replace('-', " "))
        );
        assert_ne!(
            registration_code_hash(&code),
            registration_code_hash(&new_registration_code())
        );
    }

    #[test]
    fn login_ids_are_bounded() {
        assert!(valid_login("vendor-01"));
        assert!(valid_login("保守太郎"));
        assert!(!valid_login(""));
        assert!(!valid_login(&"a".repeat(65)));
        assert!(!valid_login("a\nb"));
    }
}
