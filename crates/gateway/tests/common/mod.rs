//! Shared helpers of the black-box tests: start the real `hoshu` binary on port 0 with a
//! temporary data directory, talk HTTPS to it (trusting only its own certificate), and run its
//! command line.
// Each test file uses a different part of these helpers.
#![allow(dead_code)]

pub mod access;
pub mod hostile_rdp;
pub mod hostile_ssh;
pub mod rdp_server;
pub mod rdp_stage;
pub mod rfb_server;
pub mod script;
pub mod sshd;
pub mod terminal;
pub mod tunnel;

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hoshu_otp::{Matrix, Policy};
use reqwest::header::{AUTHORIZATION, HeaderMap, SET_COOKIE};
use reqwest::{Client, ClientBuilder, StatusCode};
use serde_json::{Value, json};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_hoshu");

/// Generous: the machine is small and shared, and the builds are debug builds.
const STARTUP: Duration = Duration::from_secs(180);
const COMMAND: Duration = Duration::from_secs(180);
const REQUEST: Duration = Duration::from_secs(120);

/// Runs `hoshu ARGS…` to completion (killed after a generous deadline so a test never hangs).
pub fn hoshu<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hoshu binary starts");
    let stdout = collect(child.stdout.take().expect("stdout is piped"));
    let stderr = collect(child.stderr.take().expect("stderr is piped"));
    let deadline = Instant::now() + COMMAND;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for hoshu") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
            panic!(
                "`hoshu {}` did not finish within {COMMAND:?}",
                shown.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn collect(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Everything a failed command said, for assertion messages.
pub fn said(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    )
}

/// A login ID with its pattern, fixed password and insert position.
#[derive(Debug, Clone)]
pub struct Credential {
    pub login: String,
    pub cells: Vec<u8>,
    pub fixed: String,
    pub insert: usize,
}

impl Credential {
    pub fn new(login: &str, cells: &[u8], fixed: &str, insert: usize) -> Credential {
        Credential {
            login: login.to_owned(),
            cells: cells.to_vec(),
            fixed: fixed.to_owned(),
            insert,
        }
    }

    /// Created by `hoshu demo` (printed in its banner).
    pub fn demo_admin() -> Credential {
        Credential::new("demo-admin", &[1, 18, 35, 52, 7, 30, 41, 60], "hoshu", 4)
    }

    /// Created by `hoshu demo` (printed in its banner).
    pub fn demo_vendor() -> Credential {
        Credential::new("demo-vendor", &[9, 14, 27, 33, 44, 50, 58, 3], "demo", 0)
    }

    /// What the user types for this matrix (64 digits).
    pub fn answer(&self, matrix: &str) -> String {
        let matrix = Matrix::from_digits(matrix).expect("the matrix is 64 digits");
        let secret = hoshu_otp::enrol(
            &Policy::default(),
            &self.cells,
            Some(&self.fixed),
            self.insert,
        )
        .expect("test credentials follow the default policy");
        hoshu_otp::answer(&matrix, &secret, &self.fixed)
    }

    /// The right answer with one digit mistyped.
    pub fn wrong_answer(&self, matrix: &str) -> String {
        let answer = self.answer(matrix);
        let at = answer
            .find(|c: char| c.is_ascii_digit())
            .expect("an answer has digits");
        let digit = answer.as_bytes()[at] - b'0';
        let mut wrong = answer.clone();
        wrong.replace_range(at..=at, &((digit + 1) % 10).to_string());
        wrong
    }
}

/// A matrix challenge as the API hands it out.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub id: String,
    pub matrix: String,
    pub expires_in: i64,
    /// The whole JSON body.
    pub body: Value,
}

/// The reply to an answer (or any request whose exact body matters).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.expect("the response body arrives");
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// The whole `Set-Cookie` header that sets `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value of the session cookie this reply sets, if any (non-empty).
    pub fn session_token(&self) -> Option<String> {
        let header = self.set_cookie("hoshu_session")?;
        let value = header
            .split(';')
            .next()?
            .strip_prefix("hoshu_session=")?
            .to_owned();
        (!value.is_empty()).then_some(value)
    }
}

/// A logged-in API caller: a client holding the session cookie, and the same value as a token.
#[derive(Debug, Clone)]
pub struct Session {
    pub client: Client,
    pub token: String,
    /// The reply to the successful answer.
    pub reply: Reply,
}

/// A running gateway; killed when dropped.
#[derive(Debug)]
pub struct Gateway {
    child: Option<Child>,
    /// How it was started, for a restart on the same data directory.
    args: Vec<OsString>,
    /// Scheme, host and port, without the trailing slash.
    base: String,
    data: PathBuf,
    config: Option<PathBuf>,
    cert: reqwest::Certificate,
    log: Arc<Mutex<String>>,
    // Last: removed after the child is gone.
    dir: tempfile::TempDir,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Gateway {
    /// `hoshu demo --data DIR --listen 127.0.0.1:0` in a new temporary directory.
    pub fn demo() -> Gateway {
        Gateway::demo_with(&[])
    }

    /// `hoshu demo` as [`Gateway::demo`], with `extra` arguments after the usual ones (such as
    /// `--live-sessions-per-user 30` for a test that opens many sessions as one user).
    pub fn demo_with(extra: &[&str]) -> Gateway {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        let mut args: Vec<OsString> = vec![
            "demo".into(),
            "--data".into(),
            data.clone().into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
        ];
        args.extend(extra.iter().map(OsString::from));
        Gateway::start(&args, dir, data, None)
    }

    /// `hoshu serve --config FILE` where FILE holds `data_dir` and `listen` (port 0) followed
    /// by `config` (TOML sections such as `[lockout]`).
    pub fn serve(config: &str) -> Gateway {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        let path = dir.path().join("hoshu.toml");
        let data_str = data.to_str().expect("temporary paths are UTF-8");
        let text = format!(
            "data_dir = {}\nlisten = \"127.0.0.1:0\"\n{config}\n",
            json!(data_str)
        );
        std::fs::write(&path, text).expect("configuration file written");
        let args: Vec<OsString> = vec!["serve".into(), "--config".into(), path.clone().into()];
        Gateway::start(&args, dir, data, Some(path))
    }

    fn start(
        args: &[OsString],
        dir: tempfile::TempDir,
        data: PathBuf,
        config: Option<PathBuf>,
    ) -> Gateway {
        let (child, base, cert, log) = Gateway::spawn(args, &data);
        Gateway {
            child: Some(child),
            args: args.to_vec(),
            base,
            data,
            config,
            cert,
            log,
            dir,
        }
    }

    /// Starts the binary with `args` and waits for its URL line: the process, its URL without
    /// the trailing slash, its certificate and what it prints.
    fn spawn(
        args: &[OsString],
        data: &Path,
    ) -> (Child, String, reqwest::Certificate, Arc<Mutex<String>>) {
        let mut child = Command::new(BIN)
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the hoshu binary starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (lines, url_line) = mpsc::channel();
        drain_lines(
            child.stdout.take().expect("stdout is piped"),
            log.clone(),
            Some(lines),
        );
        drain_lines(
            child.stderr.take().expect("stderr is piped"),
            log.clone(),
            None,
        );
        let deadline = Instant::now() + STARTUP;
        let url = loop {
            match url_line.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.starts_with("https://") => break line,
                Ok(_) => {}
                Err(err) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "the gateway printed no URL ({err}); it said:\n{}",
                        log.lock().unwrap_or_else(|p| p.into_inner())
                    );
                }
            }
        };
        let pem = std::fs::read(data.join("tls").join("cert.pem"))
            .expect("the gateway wrote its certificate to DIR/tls/cert.pem");
        let cert = reqwest::Certificate::from_pem(&pem).expect("the certificate is PEM");
        (
            child,
            url.trim().trim_end_matches('/').to_owned(),
            cert,
            log,
        )
    }

    /// Starts the gateway again, as it was started, on the same data directory (after
    /// [`Gateway::stop`] or [`Gateway::terminate`]). Its port is new.
    pub fn restart(&mut self) {
        self.stop();
        let (child, base, cert, log) = Gateway::spawn(&self.args, &self.data);
        self.child = Some(child);
        self.base = base;
        self.cert = cert;
        self.log = log;
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit: its status, and how
    /// long it took. `None` if it was still running then.
    pub fn terminate(&mut self, within: Duration) -> Option<(std::process::ExitStatus, Duration)> {
        let child = self.child.as_mut().expect("the gateway is running");
        let started = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM was sent");
        while started.elapsed() < within {
            if let Some(status) = child.try_wait().expect("waiting for the gateway") {
                self.child = None;
                return Some((status, started.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Kills the gateway (idempotent).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The gateway's process id (for /proc/<pid>/status).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the gateway is running").id()
    }

    /// Whether the gateway process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// What the gateway printed so far (stdout and stderr), for assertion messages.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// `https://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `https://127.0.0.1:PORT`, as a browser would send it in `Origin`.
    pub fn origin(&self) -> &str {
        &self.base
    }

    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Trusts only the gateway's own certificate; follows no redirects.
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(self.cert.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST)
    }

    /// A client with a cookie store, like a browser.
    pub fn client(&self) -> Client {
        self.client_builder()
            .cookie_store(true)
            .build()
            .expect("an HTTPS client")
    }

    /// A client without cookies, like an API script.
    pub fn bare_client(&self) -> Client {
        self.client_builder().build().expect("an HTTPS client")
    }

    /// `hoshu admin --data DIR ARGS…` (`--config FILE` for a gateway started from one).
    pub fn admin(&self, args: &[&str]) -> Output {
        let mut all: Vec<OsString> = vec!["admin".into()];
        match &self.config {
            Some(config) => all.extend(["--config".into(), config.clone().into()]),
            None => all.extend(["--data".into(), self.data.clone().into()]),
        }
        all.extend(args.iter().map(OsString::from));
        hoshu(&all)
    }

    /// `hoshu admin … ARGS…`, which must succeed; its stdout.
    pub fn admin_ok(&self, args: &[&str]) -> String {
        let output = self.admin(args);
        assert!(
            output.status.success(),
            "hoshu admin {args:?}: {}",
            said(&output)
        );
        stdout(&output)
    }

    /// `hoshu admin target add --demo --name NAME --protocol PROTOCOL --host 127.0.0.1 --port
    /// PORT EXTRA…`, which must succeed; its stdout. The tests' sessions are mostly the demo
    /// vendor's, a demo user: its targets are demo targets.
    pub fn add_demo_target(&self, name: &str, protocol: &str, port: u16, extra: &[&str]) -> String {
        let port = port.to_string();
        let mut args = vec![
            "target",
            "add",
            "--demo",
            "--name",
            name,
            "--protocol",
            protocol,
            "--host",
            "127.0.0.1",
            "--port",
            &port,
        ];
        args.extend(extra);
        self.admin_ok(&args)
    }

    /// A file in the data directory with `password` on its first line (`--password-file`);
    /// its path.
    pub fn password_file(&self, name: &str, password: &str) -> String {
        let file = self.data().join(format!("{name}.password"));
        std::fs::write(&file, format!("{password}\n")).expect("password file written");
        file.to_str().expect("temporary paths are UTF-8").to_owned()
    }

    /// Adds a user; the one-time registration code (the last line printed).
    pub fn add_user(&self, login: &str, name: &str, role: &str, vendor: Option<&str>) -> String {
        let mut args = vec![
            "user", "add", "--login", login, "--name", name, "--role", role,
        ];
        if let Some(vendor) = vendor {
            args.extend(["--vendor", vendor]);
        }
        last_line(&self.admin_ok(&args))
    }

    /// Forgets the user's pattern; the new registration code (the last line printed).
    pub fn reset_user(&self, login: &str) -> String {
        last_line(&self.admin_ok(&["user", "reset", "--login", login]))
    }

    /// `user list --json`, the row of `login`.
    pub fn user_row(&self, login: &str) -> Value {
        let text = self.admin_ok(&["user", "list", "--json"]);
        let rows: Value = serde_json::from_str(text.trim()).expect("user list --json prints JSON");
        rows.as_array()
            .expect("user list --json prints an array")
            .iter()
            .find(|row| row["login"] == login)
            .unwrap_or_else(|| panic!("{login} is not in {rows}"))
            .clone()
    }

    /// `POST /api/v1/register` in English.
    pub async fn register(&self, code: &str, cells: &[u8], fixed: &str, insert: usize) -> Reply {
        let response = self
            .bare_client()
            .post(self.url("/api/v1/register"))
            .header("Accept-Language", "en")
            .json(&json!({ "code": code, "cells": cells, "fixed": fixed, "insert": insert }))
            .send()
            .await
            .expect("register request");
        Reply::read(response).await
    }

    /// Registers `credential` with `code`, which must succeed.
    pub async fn register_ok(&self, code: &str, credential: &Credential) {
        let reply = self
            .register(
                code,
                &credential.cells,
                &credential.fixed,
                credential.insert,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "registration: {}", reply.body);
    }

    /// Adds a vendor user and registers `credential` for them.
    pub async fn enrolled_vendor(&self, credential: &Credential) {
        let code = self.add_user(
            &credential.login,
            &format!("Engineer {}", credential.login),
            "vendor",
            Some("ACME Maintenance"),
        );
        self.register_ok(&code, credential).await;
    }

    /// `POST /api/v1/login/challenge` with `client`, which must succeed.
    pub async fn challenge(&self, client: &Client, login: &str) -> Challenge {
        let reply = self.challenge_reply(client, login).await;
        assert_eq!(reply.status, StatusCode::OK, "challenge: {}", reply.body);
        let body = reply.json();
        Challenge {
            id: body["challenge"]
                .as_str()
                .expect("challenge is a string")
                .to_owned(),
            matrix: body["matrix"]
                .as_str()
                .expect("matrix is a string")
                .to_owned(),
            expires_in: body["expires_in"].as_i64().expect("expires_in is a number"),
            body,
        }
    }

    pub async fn challenge_reply(&self, client: &Client, login: &str) -> Reply {
        let response = client
            .post(self.url("/api/v1/login/challenge"))
            .json(&json!({ "login": login }))
            .send()
            .await
            .expect("challenge request");
        Reply::read(response).await
    }

    /// `POST /api/v1/login/answer` with `client`.
    pub async fn answer(&self, client: &Client, challenge: &str, answer: &str) -> Reply {
        let response = client
            .post(self.url("/api/v1/login/answer"))
            .json(&json!({ "challenge": challenge, "answer": answer }))
            .send()
            .await
            .expect("answer request");
        Reply::read(response).await
    }

    /// Challenge, then the right answer, with a new cookie-keeping client.
    pub async fn login(&self, credential: &Credential) -> Result<Session, Reply> {
        let client = self.client();
        let challenge = self.challenge(&client, &credential.login).await;
        let reply = self
            .answer(
                &client,
                &challenge.id,
                &credential.answer(&challenge.matrix),
            )
            .await;
        match (reply.status, reply.session_token()) {
            (StatusCode::OK, Some(token)) => Ok(Session {
                client,
                token,
                reply,
            }),
            _ => Err(reply),
        }
    }

    /// A login that must succeed.
    pub async fn login_ok(&self, credential: &Credential) -> Session {
        self.login(credential).await.unwrap_or_else(|reply| {
            panic!(
                "{} could not log in: {} {}\n--- gateway output\n{}",
                credential.login,
                reply.status,
                reply.body,
                self.log()
            )
        })
    }

    /// Challenge, then a mistyped answer; the reply.
    pub async fn fail_login(&self, credential: &Credential) -> Reply {
        let client = self.client();
        let challenge = self.challenge(&client, &credential.login).await;
        self.answer(
            &client,
            &challenge.id,
            &credential.wrong_answer(&challenge.matrix),
        )
        .await
    }

    /// `GET /api/v1/audit/export?kind=KIND` as `session`'s user (an auditor or administrator):
    /// the JSON lines.
    pub async fn audit_export(&self, session: &Session, kind: &str) -> String {
        session
            .client
            .get(self.url(&format!("/api/v1/audit/export?kind={kind}")))
            .send()
            .await
            .expect("export request")
            .text()
            .await
            .expect("export body")
    }

    /// `GET /api/v1/me` with `client`'s cookies, and with `Authorization: Bearer` if given.
    pub async fn me(&self, client: &Client, bearer: Option<&str>) -> Reply {
        let mut request = client.get(self.url("/api/v1/me"));
        if let Some(token) = bearer {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        Reply::read(request.send().await.expect("me request")).await
    }
}

fn drain_lines(
    pipe: impl Read + Send + 'static,
    log: Arc<Mutex<String>>,
    lines: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        // Keep reading to the end so the gateway never blocks on a full pipe.
        let mut reader = BufReader::new(pipe);
        let mut raw = Vec::new();
        while matches!(reader.read_until(b'\n', &mut raw), Ok(n) if n > 0) {
            let line = String::from_utf8_lossy(&raw).trim_end().to_owned();
            raw.clear();
            {
                let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
            if let Some(lines) = &lines {
                let _ = lines.send(line);
            }
        }
    });
}

pub fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .expect("the command printed something")
        .trim()
        .to_owned()
}

/// Sorted keys of a JSON object.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Every audit event, oldest first, read with the `sqlite3` tool: objects with `kind`, `actor`,
/// `subject` and `detail` (parsed).
pub fn audit_rows(data: &Path) -> Vec<Value> {
    let output = Command::new("sqlite3")
        .arg("-json")
        .arg(data.join("hoshu.db"))
        .arg("select kind, actor, subject, detail from audit_events order by seq")
        .output()
        .expect("the sqlite3 command-line tool is installed (Debian package sqlite3)");
    assert!(output.status.success(), "sqlite3: {}", said(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut rows: Vec<Value> = serde_json::from_str(&text).expect("sqlite3 -json prints JSON");
    for row in &mut rows {
        let detail = row["detail"].as_str().expect("detail is text");
        row["detail"] = serde_json::from_str(detail).expect("detail is JSON");
    }
    rows
}
