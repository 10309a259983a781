//! The JSON login API of DESIGN §4 against the real binary: registration codes, matrix
//! challenges, answers, sessions.

mod common;

use common::{Credential, Gateway, keys};
use reqwest::StatusCode;

/// A pattern that passes the default policy (8 cells, no shape), with a fixed password.
fn field_engineer() -> Credential {
    Credential::new(
        "field-engineer",
        &[5, 22, 39, 56, 12, 29, 46, 63],
        "kaizen",
        3,
    )
}

#[tokio::test]
async fn a_registered_user_logs_in_and_is_known_by_cookie_and_by_bearer_token() {
    let gateway = Gateway::demo();
    let code = gateway.add_user(
        "field-engineer",
        "山田 花子 Hanako Yamada",
        "vendor",
        Some("ACME 保守"),
    );
    let me = field_engineer();
    gateway.register_ok(&code, &me).await;

    let session = gateway.login_ok(&me).await;
    let expected = serde_json::json!({
        "login": "field-engineer",
        "name": "山田 花子 Hanako Yamada",
        "role": "vendor",
        "vendor": "ACME 保守",
    });
    let by_cookie = gateway.me(&session.client, None).await;
    assert_eq!(by_cookie.status, StatusCode::OK, "{}", by_cookie.body);
    assert_eq!(by_cookie.json(), expected);
    let by_bearer = gateway
        .me(&gateway.bare_client(), Some(&session.token))
        .await;
    assert_eq!(by_bearer.status, StatusCode::OK, "{}", by_bearer.body);
    assert_eq!(by_bearer.json(), expected);

    let nobody = gateway.me(&gateway.bare_client(), None).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    let forged = gateway
        .me(&gateway.bare_client(), Some("not-a-session-token"))
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_challenge_can_be_answered_only_once() {
    let gateway = Gateway::demo();
    let vendor = Credential::demo_vendor();
    let client = gateway.client();
    let challenge = gateway.challenge(&client, &vendor.login).await;
    let answer = vendor.answer(&challenge.matrix);

    let first = gateway.answer(&client, &challenge.id, &answer).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let replay = gateway
        .answer(&gateway.client(), &challenge.id, &answer)
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.body);
    assert_eq!(replay.session_token(), None);
}

#[tokio::test]
async fn every_failed_answer_looks_the_same() {
    let gateway = Gateway::demo();
    let admin = Credential::demo_admin();
    let client = gateway.client();

    let challenge = gateway.challenge(&client, &admin.login).await;
    let wrong = gateway
        .answer(
            &client,
            &challenge.id,
            &admin.wrong_answer(&challenge.matrix),
        )
        .await;
    // The challenge was used up by the wrong answer: now the right one is a replay.
    let replayed = gateway
        .answer(&client, &challenge.id, &admin.answer(&challenge.matrix))
        .await;
    let stranger = Credential::new("no-such-user", &admin.cells, &admin.fixed, admin.insert);
    let unknown_challenge = gateway.challenge(&client, &stranger.login).await;
    let unknown = gateway
        .answer(
            &client,
            &unknown_challenge.id,
            &stranger.answer(&unknown_challenge.matrix),
        )
        .await;

    for (what, reply) in [
        ("wrong answer", &wrong),
        ("replayed challenge", &replayed),
        ("unknown login", &unknown),
    ] {
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            reply.body
        );
        assert_eq!(reply.session_token(), None, "{what}");
        assert!(
            reply.json()["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty()),
            "{what}: {}",
            reply.body
        );
    }
    assert_eq!(wrong.body, replayed.body, "replay tells itself apart");
    assert_eq!(
        wrong.body, unknown.body,
        "an unknown login tells itself apart"
    );
}

#[tokio::test]
async fn an_unknown_login_id_gets_a_normal_looking_challenge() {
    let gateway = Gateway::demo();
    let client = gateway.client();
    let known = gateway.challenge(&client, "demo-vendor").await;
    let unknown = gateway.challenge(&client, "nobody-here").await;

    assert_eq!(keys(&known.body), ["challenge", "expires_in", "matrix"]);
    assert_eq!(keys(&unknown.body), keys(&known.body));
    assert_eq!(unknown.expires_in, known.expires_in);
    for challenge in [&known, &unknown] {
        assert_eq!(challenge.matrix.len(), 64, "{}", challenge.matrix);
        assert!(challenge.matrix.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(challenge.id.len(), known.id.len());
    }
}

#[tokio::test]
async fn a_registration_code_works_only_once() {
    let gateway = Gateway::demo();
    let code = gateway.add_user("once", "Once Only", "auditor", None);
    let me = Credential::new("once", &[5, 22, 39, 56, 12, 29, 46, 63], "", 0);
    gateway.register_ok(&code, &me).await;

    let again = gateway
        .register(&code, &[8, 25, 42, 59, 2, 19, 36, 53], "", 0)
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert!(again.json()["error"].is_string(), "{}", again.body);
    // The first registration still stands.
    gateway.login_ok(&me).await;
}

#[tokio::test]
async fn a_refused_registration_lists_every_violation_and_keeps_the_code() {
    let gateway = Gateway::demo();
    let code = gateway.add_user("picky", "Picky User", "approver", None);

    // Three cells, one of them twice: too short and a repeat.
    let short = gateway.register(&code, &[5, 5, 6], "", 0).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.body);
    let violations = short.json()["violations"].clone();
    assert_eq!(violations.as_array().map(Vec::len), Some(2), "{violations}");

    // A full row of block 0 with a repeated cell, a fixed password too short and an insert
    // position past the end: four rules broken, four items.
    let bad = gateway.register(&code, &[0, 1, 2, 3, 3], "ab", 9).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let body = bad.json();
    assert!(body["error"].is_string(), "{}", bad.body);
    let violations: Vec<String> = body["violations"]
        .as_array()
        .expect("violations is a list")
        .iter()
        .map(|v| v.as_str().expect("each violation is a sentence").to_owned())
        .collect();
    assert_eq!(violations.len(), 4, "{violations:?}");
    assert!(
        violations.iter().any(|v| v.contains("row")),
        "{violations:?}"
    );
    assert!(
        violations.iter().any(|v| v.contains("cell 3")),
        "{violations:?}"
    );

    // The code was not used up: a good pattern now registers with it.
    let me = Credential::new("picky", &[5, 22, 39, 56, 12, 29, 46, 63], "abcd", 8);
    gateway.register_ok(&code, &me).await;
    gateway.login_ok(&me).await;
}

#[tokio::test]
async fn a_reset_issues_a_new_code_and_the_old_pattern_stops_working() {
    let gateway = Gateway::demo();
    let old = field_engineer();
    gateway.enrolled_vendor(&old).await;
    let before = gateway.login_ok(&old).await;

    let code = gateway.reset_user(&old.login);
    assert_eq!(
        gateway.me(&before.client, None).await.status,
        StatusCode::UNAUTHORIZED,
        "a reset ends the user's sessions"
    );
    let refused = gateway.login(&old).await.expect_err("old pattern refused");
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let new = Credential::new(&old.login, &[8, 25, 42, 59, 2, 19, 36, 53], "sakura", 2);
    gateway.register_ok(&code, &new).await;
    gateway.login_ok(&new).await;
    let still_refused = gateway.login(&old).await.expect_err("old pattern refused");
    assert_eq!(still_refused.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_new_code_replaces_an_unused_one() {
    let gateway = Gateway::demo();
    let first = gateway.add_user("forgetful", "Forgetful User", "admin", None);
    let second = gateway.reset_user("forgetful");
    assert_ne!(first, second);
    let cells = [5, 22, 39, 56, 12, 29, 46, 63];
    let stale = gateway.register(&first, &cells, "", 0).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST, "{}", stale.body);
    gateway
        .register_ok(&second, &Credential::new("forgetful", &cells, "", 0))
        .await;
}

#[tokio::test]
async fn every_challenge_shows_a_new_matrix() {
    let gateway = Gateway::demo();
    let client = gateway.client();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let challenge = gateway.challenge(&client, "demo-admin").await;
        assert!(
            !seen
                .iter()
                .any(|(id, matrix)| *id == challenge.id || *matrix == challenge.matrix),
            "challenge or matrix repeated: {challenge:?}"
        );
        seen.push((challenge.id, challenge.matrix));
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_http_only_and_same_site_strict() {
    let gateway = Gateway::demo();
    let session = gateway.login_ok(&Credential::demo_admin()).await;
    let cookie = session
        .reply
        .set_cookie("hoshu_session")
        .expect("the answer sets the session cookie");
    let attributes: Vec<String> = cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for wanted in ["secure", "httponly", "samesite=strict"] {
        assert!(
            attributes.iter().any(|a| a == wanted),
            "{wanted} missing: {cookie}"
        );
    }
    assert!(session.token.len() >= 32, "a guessable token: {cookie}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let gateway = Gateway::demo();
    let session = gateway.login_ok(&Credential::demo_vendor()).await;
    assert_eq!(
        gateway.me(&session.client, None).await.status,
        StatusCode::OK
    );

    let response = session
        .client
        .post(gateway.url("/api/v1/logout"))
        .send()
        .await
        .expect("logout request");
    assert!(response.status().is_success(), "{}", response.status());

    assert_eq!(
        gateway.me(&session.client, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Ended on the server, not only forgotten by this client.
    assert_eq!(
        gateway
            .me(&gateway.bare_client(), Some(&session.token))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let gateway = Gateway::demo();
    let client = gateway.bare_client();
    let page = client
        .get(gateway.url("/login"))
        .send()
        .await
        .expect("login page");
    let refused = gateway.me(&client, None).await;
    for (what, status, headers) in [
        ("page", page.status(), page.headers().clone()),
        ("API error", refused.status, refused.headers.clone()),
    ] {
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what} ({status}) has no Content-Security-Policy"));
        assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        let hsts = headers
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what} ({status}) has no Strict-Transport-Security"));
        assert!(hsts.contains("max-age="), "{what}: {hsts}");
        assert_eq!(
            headers.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{what}"
        );
    }
}
