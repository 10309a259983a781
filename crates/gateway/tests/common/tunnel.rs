//! A Guacamole tunnel client for the black-box tests, playing the browser's part
//! (notes/guacamole-protocol.md): a WebSocket with subprotocol `guacamole` over TLS that trusts
//! only the gateway's certificate, the tunnel UUID first, pings, and `sync` replies.
//!
//! A background task owns the socket: it answers every `sync` (unless told not to), pings every
//! 500 ms as guacamole-common-js does, and hands every instruction to the test in order, so a
//! session the test is not looking at stays alive.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hoshu_guac::{Decoder, Instruction, Limits};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

use super::{Gateway, Reply, Session};

/// Generous: debug builds on a small shared machine.
pub const WAIT: Duration = Duration::from_secs(60);

/// How the tunnel request proves who is asking.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// `Cookie: hoshu_session=…`, as the browser sends it.
    Cookie(&'a str),
    /// `Authorization: Bearer …`, as a script sends it.
    Bearer(&'a str),
    /// Nothing.
    Anonymous,
}

/// How a session ended, as the browser saw it.
#[derive(Debug, Clone)]
#[must_use]
pub struct Ending {
    /// The `error` instruction's message.
    pub message: String,
    /// The `error` instruction's status.
    pub status: u16,
    /// The WebSocket close frame's reason (the status as text).
    pub close_reason: Option<String>,
    /// "close frame", or how the connection ended without one.
    pub closed_how: String,
}

impl Ending {
    /// The close frame's reason is the status (notes). Known gateway bug: it closes the
    /// connection without the WebSocket closing handshake, and with the browser's last messages
    /// unread the kernel resets it and the close frame can be lost
    /// (sessions_api::the_error_and_the_close_status_reach_a_browser_with_messages_in_flight
    /// shows it); so a connection that ended without any close frame is let pass here.
    pub fn assert_close_reason(&self) {
        if self.closed_how == "close frame" {
            assert_eq!(
                self.close_reason.as_deref(),
                Some(self.status.to_string().as_str()),
                "the close reason is the status: {self:?}"
            );
        } else {
            assert!(self.closed_how.starts_with("no close frame"), "{self:?}");
        }
    }
}

#[derive(Debug)]
enum Event {
    Instruction(Instruction),
    /// `how`: a close frame, or why the connection ended without one.
    Closed {
        reason: Option<String>,
        how: String,
    },
}

#[derive(Debug)]
enum Command {
    Send(String),
    AutoSync(bool),
    /// Stop reading for this long, pinging every 10 ms meanwhile with timestamps of this
    /// many characters.
    Blind(Duration, usize),
}

/// One attached tunnel.
#[derive(Debug)]
pub struct Tunnel {
    /// The tunnel UUID the gateway sent first (the session id).
    pub uuid: String,
    events: mpsc::UnboundedReceiver<Event>,
    commands: mpsc::UnboundedSender<Command>,
    /// The last instructions received (opcode and short arguments), for assertion messages.
    history: VecDeque<String>,
    /// Set once the WebSocket closed: its close reason.
    closed: Option<Option<String>>,
    /// How it closed: "close frame", or the error that ended it without one.
    closed_how: String,
    pushed_back: VecDeque<Instruction>,
}

pub fn tls_config(gateway: &Gateway) -> Arc<rustls::ClientConfig> {
    let cert = CertificateDer::from_pem_file(gateway.data().join("tls").join("cert.pem"))
        .expect("the gateway's certificate is PEM");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(cert)
        .expect("the gateway's certificate is usable");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    Arc::new(config)
}

/// The upgraded WebSocket at `path` over TLS (trusting only the gateway's certificate), asking
/// for `subprotocol`; `Err` is the HTTP status when the gateway refused the upgrade.
pub async fn websocket(
    gateway: &Gateway,
    path: &str,
    subprotocol: Option<&'static str>,
    auth: Auth<'_>,
) -> Result<
    (
        WebSocketStream<TlsStream<TcpStream>>,
        tungstenite::handshake::client::Response,
    ),
    u16,
> {
    let host = gateway
        .origin()
        .strip_prefix("https://")
        .expect("the gateway serves https")
        .to_owned();
    let mut request = format!("wss://{host}{path}")
        .into_client_request()
        .expect("a WebSocket request");
    let headers = request.headers_mut();
    // The test clients read the gateway's messages in English (a browser sends its own
    // language; without one the gateway speaks Japanese).
    headers.insert("Accept-Language", HeaderValue::from_static("en"));
    if let Some(subprotocol) = subprotocol {
        headers.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(subprotocol),
        );
    }
    match auth {
        Auth::Cookie(token) => {
            headers.insert(
                "Cookie",
                HeaderValue::from_str(&format!("hoshu_session={token}")).expect("a header"),
            );
        }
        Auth::Bearer(token) => {
            headers.insert(
                "Authorization",
                HeaderValue::from_str(&format!("Bearer {token}")).expect("a header"),
            );
        }
        Auth::Anonymous => {}
    }
    let tcp = tokio::time::timeout(WAIT, TcpStream::connect(&host))
        .await
        .expect("the gateway accepts within the wait")
        .expect("the gateway accepts connections");
    let tls = TlsConnector::from(tls_config(gateway))
        .connect(
            ServerName::try_from("127.0.0.1").expect("an IP address"),
            tcp,
        )
        .await
        .expect("TLS handshake with the gateway");
    let handshake = tokio::time::timeout(WAIT, tokio_tungstenite::client_async(request, tls))
        .await
        .expect("the WebSocket handshake finishes within the wait");
    match handshake {
        Ok(ok) => Ok(ok),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("WebSocket handshake failed: {e}"),
    }
}

/// Short text of an instruction for the history: no image data.
fn summary(i: &Instruction) -> String {
    let args: Vec<&str> = i
        .args
        .iter()
        .map(|a| if a.len() > 40 { "…" } else { a.as_str() })
        .collect();
    format!("{}({})", i.opcode, args.join(","))
}

impl Tunnel {
    /// Opens the WebSocket at `path` (`/api/v1/sessions/<id>/tunnel`). `Err` is the HTTP status
    /// when the gateway refused the upgrade.
    pub async fn connect(gateway: &Gateway, path: &str, auth: Auth<'_>) -> Result<Tunnel, u16> {
        Tunnel::connect_with(gateway, path, auth, true).await
    }

    /// [`Tunnel::connect`], answering `sync`s only if `auto_sync` (see [`Tunnel::set_auto_sync`]).
    pub async fn connect_with(
        gateway: &Gateway,
        path: &str,
        auth: Auth<'_>,
        auto_sync: bool,
    ) -> Result<Tunnel, u16> {
        let (mut ws, response) = websocket(gateway, path, Some("guacamole"), auth).await?;
        assert_eq!(
            response
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok()),
            Some("guacamole"),
            "the gateway accepts subprotocol guacamole"
        );
        // The first message is the tunnel UUID alone: `0.,36.<uuid>;`.
        let first = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("the tunnel UUID arrives within the wait")
            .expect("the tunnel stays open")
            .expect("the first message is readable");
        let Message::Text(first) = first else {
            panic!("the first message is not text: {first:?}");
        };
        let uuid = first
            .as_str()
            .strip_prefix("0.,36.")
            .and_then(|rest| rest.strip_suffix(';'))
            .unwrap_or_else(|| panic!("the first message is not the tunnel UUID: {first:?}"))
            .to_owned();
        assert_eq!(uuid.len(), 36, "{first:?}");
        let (event_tx, events) = mpsc::unbounded_channel();
        let (commands, command_rx) = mpsc::unbounded_channel();
        tokio::spawn(pump(ws, event_tx, command_rx, auto_sync));
        Ok(Tunnel {
            uuid,
            events,
            commands,
            history: VecDeque::new(),
            closed: None,
            closed_how: String::new(),
            pushed_back: VecDeque::new(),
        })
    }

    /// Opens a session on `target` as `session`'s user and attaches its tunnel with the cookie.
    pub async fn open(gateway: &Gateway, session: &Session, target: &str) -> Tunnel {
        let reply = open_session(gateway, session, target).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "opening {target}: {}",
            reply.body
        );
        let body = reply.json();
        let path = body["tunnel"].as_str().expect("tunnel is a string");
        let tunnel = Tunnel::connect(gateway, path, Auth::Cookie(&session.token))
            .await
            .unwrap_or_else(|status| panic!("attaching the tunnel of {target}: HTTP {status}"));
        assert_eq!(Some(tunnel.uuid.as_str()), body["id"].as_str());
        tunnel
    }

    /// Sends raw instructions.
    pub fn send(&self, instructions: &str) {
        let _ = self.commands.send(Command::Send(instructions.to_owned()));
    }

    /// Presses and releases a key (X11 keysym).
    pub fn key(&self, keysym: u32) {
        let k = keysym.to_string();
        self.send(&format!(
            "3.key,{}.{k},1.1;3.key,{}.{k},1.0;",
            k.len(),
            k.len()
        ));
    }

    /// Types `text` (ASCII) then Return as a browser on a US keyboard sends it: characters
    /// typed with Shift come between Shift_L's press and release.
    pub fn type_line(&self, text: &str) {
        const SHIFT_L: u32 = 0xffe1;
        for b in text.bytes() {
            let shifted = b.is_ascii_uppercase() || br#"~!@#$%^&*()_+{}|:"<>?"#.contains(&b);
            if shifted {
                self.send(&format!("3.key,5.{SHIFT_L},1.1;"));
            }
            self.key(u32::from(b));
            if shifted {
                self.send(&format!("3.key,5.{SHIFT_L},1.0;"));
            }
        }
        self.key(0xff0d);
    }

    /// `10.disconnect;`, as the browser's disconnect button.
    pub fn disconnect(&self) {
        self.send("10.disconnect;");
    }

    /// Like a browser on a slow link: for `duration`, reads nothing but keeps sending pings
    /// (every 10 ms), so its messages cross whatever the gateway sends meanwhile.
    pub fn go_blind(&self, duration: Duration) {
        let _ = self.commands.send(Command::Blind(duration, 13));
    }

    /// Like a browser whose network stalled: for `duration`, reads nothing while sending pings
    /// with `ping_len`-character timestamps (echoed verbatim, they fill the gateway's way to the
    /// browser) as long as the gateway takes them.
    pub fn stall(&self, duration: Duration, ping_len: usize) {
        let _ = self.commands.send(Command::Blind(duration, ping_len));
    }

    /// Whether `sync`s are answered (on by default). Turning it on answers those held back.
    pub fn set_auto_sync(&self, on: bool) {
        let _ = self.commands.send(Command::AutoSync(on));
    }

    fn note(&mut self, instruction: &Instruction) {
        if self.history.len() == 40 {
            self.history.pop_front();
        }
        self.history.push_back(summary(instruction));
    }

    /// What happened lately, for assertion messages.
    pub fn history(&self) -> String {
        let mut text = self
            .history
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(reason) = &self.closed {
            text.push_str(&format!(
                " [closed ({}), reason {reason:?}]",
                self.closed_how
            ));
        }
        text
    }

    /// The next instruction (pings included), or `None` when `within` passed or the tunnel closed.
    pub async fn next(&mut self, within: Duration) -> Option<Instruction> {
        if let Some(instruction) = self.pushed_back.pop_front() {
            return Some(instruction);
        }
        if self.closed.is_some() {
            return None;
        }
        match tokio::time::timeout(within, self.events.recv()).await {
            Ok(Some(Event::Instruction(instruction))) => {
                self.note(&instruction);
                Some(instruction)
            }
            Ok(Some(Event::Closed { reason, how })) => {
                self.closed = Some(reason);
                self.closed_how = how;
                None
            }
            Ok(None) => {
                self.closed = Some(None);
                self.closed_how = "the tunnel task stopped".to_owned();
                None
            }
            Err(_) => None,
        }
    }

    /// Whether the WebSocket has closed (as far as the instructions read so far show).
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Reads until an instruction matches; panics naming `what` if none does within `within`.
    pub async fn wait_for(
        &mut self,
        what: &str,
        within: Duration,
        mut matches: impl FnMut(&Instruction) -> bool,
    ) -> Instruction {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(instruction) if matches(&instruction) => return instruction,
                Some(_) => {}
                None => panic!(
                    "no {what} within {within:?}{}; lately: {}",
                    if self.is_closed() {
                        " (the tunnel closed)"
                    } else {
                        ""
                    },
                    self.history()
                ),
            }
        }
    }

    /// Reads until an instruction with `opcode`.
    pub async fn wait_opcode(&mut self, opcode: &str) -> Instruction {
        self.wait_for(opcode, WAIT, |i| i.opcode == opcode).await
    }

    /// Reads until something is drawn on the display: an image, or a fill (single-colour
    /// areas are sent as `rect` + `cfill`).
    pub async fn wait_drawing(&mut self) -> Instruction {
        self.wait_for("an image or a fill", WAIT, |i| {
            i.opcode == "img" || i.opcode == "cfill"
        })
        .await
    }

    /// The first full picture: `size` of layer 0, then at least one drawing, then `sync`.
    /// Returns the size.
    pub async fn first_frame(&mut self) -> (u32, u32) {
        let size = self
            .wait_for("size of layer 0", WAIT, |i| {
                i.opcode == "size" && i.args.first().map(String::as_str) == Some("0")
            })
            .await;
        self.wait_drawing().await;
        self.wait_opcode("sync").await;
        let n = |i: usize| size.args[i].parse().expect("size is numeric");
        (n(1), n(2))
    }

    /// Types a key and waits for a frame drawn after it (a drawing, then `sync`): proves the
    /// session is alive both ways.
    pub async fn fresh_frame(&mut self) {
        // Forget what was already queued, so the frame seen is one sent after the key.
        while self.next(Duration::from_millis(200)).await.is_some() {}
        assert!(
            !self.is_closed(),
            "the session closed; lately: {}",
            self.history()
        );
        self.key(u32::from(b'k'));
        self.wait_drawing().await;
        self.wait_opcode("sync").await;
    }

    /// Reads until the `error` instruction and the close that follows it.
    pub async fn ending(&mut self) -> Ending {
        let error = self
            .wait_for("error instruction", WAIT, |i| i.opcode == "error")
            .await;
        assert_eq!(error.args.len(), 2, "error,<message>,<status>: {error:?}");
        // The close follows; whatever else arrives before it is not expected but harmless.
        let deadline = Instant::now() + WAIT;
        while !self.is_closed() && Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            self.next(left).await;
        }
        assert!(self.is_closed(), "the WebSocket closes after the error");
        Ending {
            message: error.args[0].clone(),
            status: error.args[1].parse().expect("the status is a number"),
            close_reason: self.closed.clone().flatten(),
            closed_how: self.closed_how.clone(),
        }
    }

    /// Everything up to the close (or `within`): the instructions, and whether and how it
    /// closed. Never panics, for tests that count what went missing.
    pub async fn rest(&mut self, within: Duration) -> (Vec<Instruction>, Option<Option<String>>) {
        let deadline = Instant::now() + within;
        let mut all = Vec::new();
        while !self.is_closed() && Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Some(instruction) = self.next(left).await {
                all.push(instruction);
            }
        }
        (all, self.closed.clone())
    }

    /// How the WebSocket closed: "close frame", or how it ended without one.
    pub fn closed_how(&self) -> &str {
        &self.closed_how
    }

    /// Reads until the WebSocket closes; its reason.
    pub async fn closed(&mut self) -> Option<String> {
        let deadline = Instant::now() + WAIT;
        while !self.is_closed() && Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            self.next(left).await;
        }
        assert!(
            self.is_closed(),
            "the tunnel did not close; lately: {}",
            self.history()
        );
        self.closed.clone().flatten()
    }
}

fn unix_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>>;

async fn pump(
    mut ws: Socket,
    events: mpsc::UnboundedSender<Event>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut auto_sync: bool,
) {
    // Far above anything the gateway sends in one instruction (image blobs are chunked).
    let mut decoder = Decoder::new(Limits {
        max_elements: 256,
        max_element_length: 4 << 20,
        max_instruction_length: 8 << 20,
    });
    let mut held: Vec<String> = Vec::new();
    let mut ping = tokio::time::interval(Duration::from_millis(500));
    let sync_reply = |ts: &str| Instruction::new("sync", [ts]).encode();
    loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let mut replies = String::new();
                    for instruction in decoder.feed(text.as_bytes()) {
                        let instruction = instruction.unwrap_or_else(|e| {
                            panic!("the gateway sent a malformed instruction ({e}): {text:?}")
                        });
                        if instruction.opcode == "sync" {
                            let ts = instruction.args.first().cloned().unwrap_or_default();
                            if auto_sync {
                                replies.push_str(&sync_reply(&ts));
                            } else {
                                held.push(ts);
                            }
                        }
                        let _ = events.send(Event::Instruction(instruction));
                    }
                    assert!(decoder.is_idle(), "a message ended inside an instruction: {text:?}");
                    if !replies.is_empty()
                        && let Err(e) = ws.send(Message::Text(replies.into())).await
                    {
                        let how = format!("sending a sync reply failed: {e}");
                        let _ = events.send(Event::Closed { reason: None, how });
                        return;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let reason = frame.map(|f| f.reason.to_string());
                    let how = "close frame".to_owned();
                    let _ = events.send(Event::Closed { reason, how });
                    // Let tungstenite answer the close, then stop.
                    let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
                    return;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let how = format!("no close frame: {e}");
                    let _ = events.send(Event::Closed { reason: None, how });
                    return;
                }
                None => {
                    let how = "no close frame: end of stream".to_owned();
                    let _ = events.send(Event::Closed { reason: None, how });
                    return;
                }
            },
            command = commands.recv() => match command {
                Some(Command::Send(text)) => {
                    let _ = ws.send(Message::Text(text.into())).await;
                }
                Some(Command::AutoSync(on)) => {
                    auto_sync = on;
                    if on && !held.is_empty() {
                        let replies: String = held.drain(..).map(|ts| sync_reply(&ts)).collect();
                        let _ = ws.send(Message::Text(replies.into())).await;
                    }
                }
                Some(Command::Blind(duration, ping_len)) => {
                    let until = Instant::now() + duration;
                    let mut n = 0u64;
                    while Instant::now() < until {
                        n += 1;
                        let ts = format!("{n:0>ping_len$}");
                        let ping = Instruction::new("", ["ping", ts.as_str()]).encode();
                        let sent = tokio::time::timeout(
                            Duration::from_secs(2),
                            ws.send(Message::Text(ping.into())),
                        )
                        .await;
                        if sent.is_err() {
                            // The gateway stopped taking data: wait out the rest.
                            tokio::time::sleep(until.saturating_duration_since(Instant::now()))
                                .await;
                            break;
                        }
                        if ping_len < 100 {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                // The test dropped the tunnel: close like a browser tab going away.
                None => {
                    let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
                    return;
                }
            },
            _ = ping.tick() => {
                let ts = unix_ms().to_string();
                let ping = Instruction::new("", ["ping", ts.as_str()]).encode();
                let _ = ws.send(Message::Text(ping.into())).await;
            }
        }
    }
}

// ---- The session API (DESIGN §8) ----

/// `POST /api/v1/sessions {"target"}` with the session's cookie.
pub async fn open_session(gateway: &Gateway, session: &Session, target: &str) -> Reply {
    let response = session
        .client
        .post(gateway.url("/api/v1/sessions"))
        .json(&json!({ "target": target }))
        .send()
        .await
        .expect("open session request");
    Reply::read(response).await
}

/// `GET /api/v1/sessions?state=…`, which must succeed.
pub async fn list_sessions(gateway: &Gateway, session: &Session, state: &str) -> Vec<Value> {
    let response = session
        .client
        .get(gateway.url(&format!("/api/v1/sessions?state={state}")))
        .send()
        .await
        .expect("session list request");
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, StatusCode::OK, "session list: {}", reply.body);
    reply
        .json()
        .as_array()
        .expect("the session list is an array")
        .clone()
}

/// The row of session `id` in `state=ended`, waiting for the gateway to seal it.
pub async fn ended_session(gateway: &Gateway, session: &Session, id: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let rows = list_sessions(gateway, session, "ended").await;
        if let Some(row) = rows.into_iter().find(|r| r["id"] == id) {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "session {id} is not listed as ended within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `DELETE /api/v1/sessions/<id>` as `session`'s user; the status.
pub async fn end_session(gateway: &Gateway, session: &Session, id: &str) -> Reply {
    let response = session
        .client
        .delete(gateway.url(&format!("/api/v1/sessions/{id}")))
        .send()
        .await
        .expect("end session request");
    Reply::read(response).await
}

/// `hoshu admin target add --protocol vnc --host 127.0.0.1 --port PORT` named `name`, with a
/// password file holding `password` if given.
pub fn add_vnc_target(gateway: &Gateway, name: &str, port: u16, password: Option<&str>) {
    match password {
        Some(password) => {
            let file = gateway.password_file(name, password);
            gateway.add_demo_target(name, "vnc", port, &["--password-file", &file])
        }
        None => gateway.add_demo_target(name, "vnc", port, &[]),
    };
}

/// A field of /proc/<pid>/status in KiB (`VmRSS`, `VmHWM`).
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("/proc/<pid>/status is readable");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}
