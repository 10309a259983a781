//! The HTML pages over plain HTTPS, as a browser without JavaScript would use them: language,
//! CSRF protection, and the whole login by forms.

mod common;

use common::{Credential, Gateway, Reply};
use reqwest::{Client, StatusCode};

/// The value of the first `<input … name="NAME" value="…">` in `html`.
fn hidden_input(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// The 64 digits of the matrix on a page, in cell order (`data-cell="i"` holds cell i's digit).
fn matrix_digits(html: &str) -> String {
    let mut digits = [None; 64];
    for piece in html.split("data-cell=\"").skip(1) {
        let (index, rest) = piece.split_once('"').expect("a closed data-cell attribute");
        let index: usize = index.parse().expect("cell numbers are numbers");
        let text = &rest[rest.find('>').expect("the cell tag ends") + 1..];
        let digit = text.chars().next().filter(char::is_ascii_digit);
        assert!(digits[index].is_none(), "cell {index} shown twice");
        digits[index] = Some(digit.expect("each cell shows one digit"));
    }
    digits
        .iter()
        .enumerate()
        .map(|(i, d)| d.unwrap_or_else(|| panic!("cell {i} is missing")))
        .collect()
}

async fn get(client: &Client, gateway: &Gateway, path: &str) -> Reply {
    Reply::read(
        client
            .get(gateway.url(path))
            .send()
            .await
            .expect("GET request"),
    )
    .await
}

async fn post_form(client: &Client, gateway: &Gateway, path: &str, form: &[(&str, &str)]) -> Reply {
    Reply::read(
        client
            .post(gateway.url(path))
            .form(form)
            .send()
            .await
            .expect("POST request"),
    )
    .await
}

/// Opens the login page with a cookie-keeping client; the client and the page's CSRF token.
async fn login_page(gateway: &Gateway) -> (Client, String) {
    let client = gateway.client();
    let page = get(&client, gateway, "/login").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = hidden_input(&page.body, "csrf").expect("the login form has a csrf field");
    let cookie = page
        .set_cookie("__Host-hoshu_csrf")
        .expect("the login page sets the CSRF cookie");
    assert!(
        cookie.starts_with(&format!("__Host-hoshu_csrf={csrf};")),
        "{cookie}"
    );
    (client, csrf)
}

#[tokio::test]
async fn the_login_page_is_japanese_by_default_and_english_on_request() {
    let gateway = Gateway::demo();
    let client = gateway.bare_client();
    let japanese = get(&client, &gateway, "/login").await;
    assert_eq!(japanese.status, StatusCode::OK);
    assert!(japanese.body.contains("lang=\"ja\""), "{}", japanese.body);
    assert!(japanese.body.contains("ログイン"), "{}", japanese.body);

    let response = client
        .get(gateway.url("/login"))
        .header("Accept-Language", "en-US,en;q=0.9")
        .send()
        .await
        .expect("GET /login");
    let english = Reply::read(response).await;
    assert_eq!(english.status, StatusCode::OK);
    assert!(english.body.contains("lang=\"en\""), "{}", english.body);
    assert!(english.body.contains("Log in"), "{}", english.body);
    assert!(!english.body.contains("ログインID"), "{}", english.body);
}

#[tokio::test]
async fn a_form_without_the_right_csrf_token_is_refused() {
    let gateway = Gateway::demo();
    let (client, csrf) = login_page(&gateway).await;

    let missing = post_form(&client, &gateway, "/login", &[("login", "demo-vendor")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN, "{}", missing.body);
    let wrong = post_form(
        &client,
        &gateway,
        "/login",
        &[("csrf", "A".repeat(43).as_str()), ("login", "demo-vendor")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.body);
    // The right token from another browser (no matching cookie) is refused too.
    let elsewhere = post_form(
        &gateway.client(),
        &gateway,
        "/login",
        &[("csrf", csrf.as_str()), ("login", "demo-vendor")],
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::FORBIDDEN,
        "{}",
        elsewhere.body
    );
    for refused in [&missing, &wrong, &elsewhere] {
        assert!(!refused.body.contains("data-cell"), "a matrix was shown");
    }

    let accepted = post_form(
        &client,
        &gateway,
        "/login",
        &[("csrf", csrf.as_str()), ("login", "demo-vendor")],
    )
    .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
}

#[tokio::test]
async fn a_person_logs_in_with_the_forms_and_sees_their_recent_logins() {
    let gateway = Gateway::demo();
    let vendor = Credential::demo_vendor();
    let (client, csrf) = login_page(&gateway).await;

    let matrix_page = post_form(
        &client,
        &gateway,
        "/login",
        &[("csrf", csrf.as_str()), ("login", vendor.login.as_str())],
    )
    .await;
    assert_eq!(matrix_page.status, StatusCode::OK, "{}", matrix_page.body);
    let matrix = matrix_digits(&matrix_page.body);
    let challenge = hidden_input(&matrix_page.body, "challenge").expect("a challenge field");
    let form_csrf = hidden_input(&matrix_page.body, "csrf").expect("a csrf field");

    let answer = vendor.answer(&matrix);
    let answered = post_form(
        &client,
        &gateway,
        "/login/answer",
        &[
            ("csrf", form_csrf.as_str()),
            ("challenge", challenge.as_str()),
            ("login", vendor.login.as_str()),
            ("answer", answer.as_str()),
        ],
    )
    .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    assert_eq!(
        answered.headers.get("location").map(|v| v.as_bytes()),
        Some(&b"/"[..])
    );
    assert!(answered.session_token().is_some(), "{:?}", answered.headers);

    let home = get(&client, &gateway, "/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("保守 太郎 Taro Hoshu"), "{}", home.body);
    let table = &home.body[home
        .body
        .find("id=\"recent-logins\"")
        .expect("a recent-logins table")..];
    let table = &table[..table.find("</table>").expect("the table ends")];
    assert!(table.contains("127.0.0.1"), "{table}");

    // Logging out by the form ends the session.
    let home_csrf = hidden_input(&home.body, "csrf").expect("the logout form has a csrf field");
    let out = post_form(
        &client,
        &gateway,
        "/logout",
        &[("csrf", home_csrf.as_str())],
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    let after = get(&client, &gateway, "/").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "still logged in");
    assert_eq!(
        after.headers.get("location").map(|v| v.as_bytes()),
        Some(&b"/login"[..])
    );
}

#[tokio::test]
async fn a_wrong_answer_by_form_shows_an_error_and_no_session() {
    let gateway = Gateway::demo();
    let admin = Credential::demo_admin();
    let (client, csrf) = login_page(&gateway).await;
    let matrix_page = post_form(
        &client,
        &gateway,
        "/login",
        &[("csrf", csrf.as_str()), ("login", admin.login.as_str())],
    )
    .await;
    let matrix = matrix_digits(&matrix_page.body);
    let challenge = hidden_input(&matrix_page.body, "challenge").expect("a challenge field");
    let wrong = admin.wrong_answer(&matrix);
    let answered = post_form(
        &client,
        &gateway,
        "/login/answer",
        &[
            ("csrf", csrf.as_str()),
            ("challenge", challenge.as_str()),
            ("login", admin.login.as_str()),
            ("answer", wrong.as_str()),
        ],
    )
    .await;
    assert_eq!(
        answered.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        answered.body
    );
    assert!(
        answered.body.contains("role=\"alert\""),
        "{}",
        answered.body
    );
    assert_eq!(answered.session_token(), None);
    assert_eq!(
        get(&client, &gateway, "/").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_cross_origin_post_is_refused() {
    let gateway = Gateway::demo();
    let (client, csrf) = login_page(&gateway).await;
    let form = [("csrf", csrf.as_str()), ("login", "demo-vendor")];

    let evil = client
        .post(gateway.url("/login"))
        .header("Origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .expect("POST /login");
    let evil = Reply::read(evil).await;
    assert_eq!(evil.status, StatusCode::FORBIDDEN, "{}", evil.body);
    assert!(!evil.body.contains("data-cell"), "a matrix was shown");

    let api = client
        .post(gateway.url("/api/v1/login/challenge"))
        .header("Origin", "https://evil.example")
        .json(&serde_json::json!({ "login": "demo-vendor" }))
        .send()
        .await
        .expect("POST challenge");
    assert_eq!(api.status(), StatusCode::FORBIDDEN);

    // The same form from the gateway's own origin goes through.
    let own = client
        .post(gateway.url("/login"))
        .header("Origin", gateway.origin())
        .form(&form)
        .send()
        .await
        .expect("POST /login");
    assert_eq!(own.status(), StatusCode::OK);
}
