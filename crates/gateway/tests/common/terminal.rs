//! A terminal client of the SSH tunnel (DESIGN §8): binary frames are terminal bytes both
//! ways, text frames JSON control messages. It reads only when asked, so a test can stop
//! reading to play a browser that lags.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::tunnel::{Auth, WAIT, open_session, websocket};
use super::{Gateway, Session};

/// One attached terminal tunnel.
#[derive(Debug)]
pub struct Terminal {
    ws: WebSocketStream<TlsStream<TcpStream>>,
    /// Everything the target wrote so far (lossy UTF-8).
    pub output: String,
    /// Control messages received, in order.
    pub controls: Vec<Value>,
    /// Terminal bytes received.
    pub bytes: usize,
    /// The close frame's reason once the tunnel closed.
    pub closed: Option<Option<String>>,
}

impl Terminal {
    /// Opens a session on `target` and attaches its tunnel with the cookie.
    pub async fn open(gateway: &Gateway, session: &Session, target: &str) -> (String, Terminal) {
        let reply = open_session(gateway, session, target).await;
        assert_eq!(
            reply.status.as_u16(),
            201,
            "opening {target}: {}",
            reply.body
        );
        let body = reply.json();
        assert_eq!(body["protocol"], "ssh", "{body}");
        let id = body["id"].as_str().expect("id is a string").to_owned();
        let path = body["tunnel"].as_str().expect("tunnel is a string");
        let terminal = Terminal::connect(gateway, path, &session.token)
            .await
            .unwrap_or_else(|status| panic!("attaching the tunnel of {target}: HTTP {status}"));
        (id, terminal)
    }

    pub async fn connect(gateway: &Gateway, path: &str, token: &str) -> Result<Terminal, u16> {
        let (ws, _) = websocket(gateway, path, None, Auth::Cookie(token)).await?;
        Ok(Terminal {
            ws,
            output: String::new(),
            controls: Vec::new(),
            bytes: 0,
            closed: None,
        })
    }

    pub async fn send_json(&mut self, value: Value) {
        let _ = self.ws.send(Message::Text(value.to_string().into())).await;
    }

    pub async fn resize(&mut self, cols: u16, rows: u16) {
        self.send_json(json!({ "type": "resize", "cols": cols, "rows": rows }))
            .await;
    }

    /// Types `keys` (one binary frame).
    pub async fn keys(&mut self, keys: &str) {
        let _ = self
            .ws
            .send(Message::Binary(keys.as_bytes().to_vec().into()))
            .await;
    }

    /// Reads one message within `within`; false when none came or the tunnel closed.
    pub async fn read_one(&mut self, within: Duration) -> bool {
        if self.closed.is_some() {
            return false;
        }
        let message = match tokio::time::timeout(within, self.ws.next()).await {
            Err(_) => return false,
            Ok(message) => message,
        };
        match message {
            Some(Ok(Message::Binary(bytes))) => {
                self.bytes += bytes.len();
                self.output.push_str(&String::from_utf8_lossy(&bytes));
                // Keep the tail only: a flood must not fill the test's memory either.
                if self.output.len() > 1 << 20 {
                    let cut = self.output.len() - (1 << 19);
                    let cut = (cut..self.output.len())
                        .find(|&i| self.output.is_char_boundary(i))
                        .unwrap_or(cut);
                    self.output.drain(..cut);
                }
            }
            Some(Ok(Message::Text(text))) => self
                .controls
                .push(serde_json::from_str(text.as_str()).expect("control messages are JSON")),
            Some(Ok(Message::Close(frame))) => {
                self.closed = Some(frame.map(|f| f.reason.to_string()));
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => self.closed = Some(None),
        }
        true
    }

    /// Reads until `done` holds, panicking after the wait with what was seen.
    pub async fn read_until(&mut self, what: &str, done: impl Fn(&Terminal) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(self) {
            assert!(
                Instant::now() < deadline && self.closed.is_none(),
                "waiting for {what}; closed: {:?}; controls: {:?}; output tail: {:?}",
                self.closed,
                self.controls,
                self.tail()
            );
            self.read_one(Duration::from_millis(200)).await;
        }
    }

    /// Reads until the output contains `text`.
    pub async fn wait_output(&mut self, text: &str) {
        self.read_until(text, |t| t.output.contains(text)).await;
    }

    /// Whether a line of the output shows exactly `text` (what follows its last CR).
    pub fn has_line(&self, text: &str) -> bool {
        self.output.split('\n').any(|line| {
            line.trim_end_matches('\r')
                .rsplit('\r')
                .next()
                .is_some_and(|shown| shown == text)
        })
    }

    /// Reads until a line shows exactly `text` (a command's output, not its echo).
    pub async fn wait_line(&mut self, text: &str) {
        self.read_until(text, |t| t.has_line(text)).await;
    }

    /// Reads until a control message of `kind` arrives; returns it.
    pub async fn wait_control(&mut self, kind: &str) -> Value {
        self.read_until(kind, |t| t.controls.iter().any(|c| c["type"] == kind))
            .await;
        self.controls
            .iter()
            .find(|c| c["type"] == kind)
            .cloned()
            .expect("found above")
    }

    /// Sends the size, then waits for the shell and its prompt.
    pub async fn start(&mut self, cols: u16, rows: u16) {
        self.resize(cols, rows).await;
        self.wait_control("connected").await;
        self.wait_prompt().await;
    }

    /// Waits for bash's prompt (`…$ `) at the end of the output.
    pub async fn wait_prompt(&mut self) {
        self.read_until("the prompt", |t| {
            t.output.trim_end_matches(' ').ends_with('$')
        })
        .await;
    }

    /// The `end` message (reason, status) and the close, waiting for both.
    pub async fn ending(&mut self) -> (String, u64) {
        let deadline = Instant::now() + WAIT;
        while self.closed.is_none() {
            assert!(
                Instant::now() < deadline,
                "the tunnel did not close; tail: {:?}",
                self.tail()
            );
            self.read_one(Duration::from_millis(200)).await;
        }
        let end = self
            .controls
            .iter()
            .find(|c| c["type"] == "end")
            .unwrap_or_else(|| panic!("no end message before the close: {:?}", self.controls));
        (
            end["reason"].as_str().expect("reason is text").to_owned(),
            end["status"].as_u64().expect("status is a number"),
        )
    }

    /// Types `exit` and waits for the end: (reason, status).
    pub async fn exit(&mut self) -> (String, u64) {
        self.keys("exit\r").await;
        self.ending().await
    }

    pub fn tail(&self) -> String {
        let start = self.output.len().saturating_sub(400);
        let start = (start..self.output.len())
            .find(|&i| self.output.is_char_boundary(i))
            .unwrap_or(start);
        self.output[start..].to_owned()
    }
}
