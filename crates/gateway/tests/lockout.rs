//! Lock-out after failed answers, the administrator's lock and unlock, and per-address
//! throttling (DESIGN §4 "abuse"), against `hoshu serve` with a configuration file.

mod common;

use common::{Credential, Gateway};
use reqwest::StatusCode;

/// Three failures lock the account; a generous throttle so only the lock-out is tested.
const LOCKOUT_CONFIG: &str =
    "[lockout]\nthreshold = 3\n\n[throttle]\nrequests_per_minute = 600\nburst = 100\n";

fn engineer() -> Credential {
    Credential::new(
        "field-engineer",
        &[5, 22, 39, 56, 12, 29, 46, 63],
        "kaizen",
        3,
    )
}

fn status_of(gateway: &Gateway, login: &str) -> String {
    gateway.user_row(login)["status"]
        .as_str()
        .expect("status is text")
        .to_owned()
}

#[tokio::test]
async fn three_wrong_answers_lock_the_account_until_an_admin_unlocks_it() {
    let gateway = Gateway::serve(LOCKOUT_CONFIG);
    let me = engineer();
    gateway.enrolled_vendor(&me).await;
    assert_eq!(status_of(&gateway, &me.login), "active");

    let mut failures = Vec::new();
    for _ in 0..3 {
        failures.push(gateway.fail_login(&me).await);
    }
    for failure in &failures {
        assert_eq!(failure.status, StatusCode::UNAUTHORIZED, "{}", failure.body);
        assert_eq!(failure.body, failures[0].body);
    }
    let status = status_of(&gateway, &me.login);
    assert!(status.starts_with("locked"), "after 3 failures: {status}");

    // Locked: even the right answer fails, and looks like any other failure.
    let refused = gateway
        .login(&me)
        .await
        .expect_err("a locked account logs in");
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.body, failures[0].body);
    assert_eq!(refused.session_token(), None);

    gateway.admin_ok(&["user", "unlock", "--login", &me.login]);
    assert_eq!(status_of(&gateway, &me.login), "active");
    let session = gateway.login_ok(&me).await;
    assert_eq!(
        gateway.me(&session.client, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_consecutive_failures_lock() {
    let gateway = Gateway::serve(LOCKOUT_CONFIG);
    let me = engineer();
    gateway.enrolled_vendor(&me).await;
    for _ in 0..2 {
        gateway.fail_login(&me).await;
    }
    assert_eq!(status_of(&gateway, &me.login), "active");
    // A success in between starts the count again: two more failures do not lock either.
    gateway.login_ok(&me).await;
    for _ in 0..2 {
        gateway.fail_login(&me).await;
    }
    assert_eq!(status_of(&gateway, &me.login), "active");
    gateway.login_ok(&me).await;
}

#[tokio::test]
async fn an_administrators_lock_refuses_logins_and_ends_sessions() {
    let gateway = Gateway::serve(LOCKOUT_CONFIG);
    let me = engineer();
    gateway.enrolled_vendor(&me).await;
    let session = gateway.login_ok(&me).await;
    assert_eq!(
        gateway.me(&session.client, None).await.status,
        StatusCode::OK
    );

    gateway.admin_ok(&["user", "lock", "--login", &me.login]);
    let status = status_of(&gateway, &me.login);
    assert!(status.contains("locked"), "after user lock: {status}");
    assert_eq!(
        gateway.me(&session.client, None).await.status,
        StatusCode::UNAUTHORIZED,
        "the session outlived the lock (cookie)"
    );
    assert_eq!(
        gateway
            .me(&gateway.bare_client(), Some(&session.token))
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the session outlived the lock (bearer)"
    );
    let refused = gateway.login(&me).await.expect_err("a locked user logs in");
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let wrong = gateway.fail_login(&me).await;
    assert_eq!(refused.body, wrong.body, "a lock tells itself apart");

    gateway.admin_ok(&["user", "unlock", "--login", &me.login]);
    assert_eq!(status_of(&gateway, &me.login), "active");
    gateway.login_ok(&me).await;
}

#[tokio::test]
async fn locking_an_unknown_user_is_an_error() {
    let gateway = Gateway::serve(LOCKOUT_CONFIG);
    let output = gateway.admin(&["user", "lock", "--login", "nobody"]);
    assert_eq!(output.status.code(), Some(1), "{}", common::said(&output));
    assert!(
        common::stderr(&output).contains("nobody"),
        "{}",
        common::said(&output)
    );
}

#[tokio::test]
async fn a_burst_of_challenges_from_one_address_is_throttled() {
    let gateway = Gateway::serve("[throttle]\nrequests_per_minute = 1\nburst = 3\n");
    let client = gateway.client();
    for n in 1..=3 {
        let reply = gateway.challenge_reply(&client, "someone").await;
        assert_eq!(reply.status, StatusCode::OK, "request {n}: {}", reply.body);
    }
    let throttled = gateway.challenge_reply(&client, "someone").await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        throttled.body
    );
    let error = throttled.json()["error"].clone();
    assert!(error.as_str().is_some_and(|e| !e.is_empty()), "{error}");
    // The budget is per address, not per login ID or per client.
    let other = gateway
        .challenge_reply(&gateway.client(), "someone-else")
        .await;
    assert_eq!(
        other.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        other.body
    );
}
