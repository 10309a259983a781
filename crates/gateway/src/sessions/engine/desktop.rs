//! What the tunnel needs from a remote desktop protocol (STYLE: one trait where protocols
//! differ): a framebuffer that changes, plus input. VNC (`vnc.rs`) and RDP (`rdp.rs`) implement
//! it; the display, the recorder, the keystroke log and the watchers do not know which protocol
//! is behind a session.

use std::future::Future;

use hoshu_guac::Status;
use hoshu_storage::Target;
use tokio::net::TcpStream;

use super::lifetime::{CONNECT_TIMEOUT, Ending};
use super::outcome::Outcome;
use hoshu_display::{Display, Screen};

/// What the tunnel must do beyond drawing, after the target spoke.
#[derive(Debug, PartialEq, Eq)]
pub enum Follow {
    /// The desktop is up and has its size: the first full picture follows (a recording
    /// keyframe).
    Connected,
    /// The target put text on its clipboard.
    CutText(String),
}

pub trait Desktop: Send {
    /// Waits for the target, applies what it sent to `display` and says what else follows.
    ///
    /// INVARIANT: cancel safe. The tunnel races it against the browser and the kill switch in
    /// one `select!`; a cancelled call loses nothing (it awaits only on a cancel-safe read).
    fn receive(
        &mut self,
        display: &mut Display,
    ) -> impl Future<Output = Result<Vec<Follow>, Ending>> + Send;

    /// A key (X11 keysym, as Guacamole sends it) went down or up in the browser.
    fn key(&mut self, keysym: u32, pressed: bool);

    /// The browser's pointer: position and Guacamole button mask (1 left, 2 middle, 4 right,
    /// 8 wheel up, 16 wheel down).
    fn pointer(&mut self, x: i32, y: i32, buttons: u8);

    /// Text the user pasted, already allowed by the target's clipboard policy.
    fn paste(&mut self, text: &str);

    /// Writes what input and replies produced to the target (outside the `select!`: writes are
    /// not cancel safe).
    fn flush(&mut self) -> impl Future<Output = Result<(), Ending>> + Send;

    /// The picture, once the target has drawn a complete one (before that, only black).
    fn screen(&self) -> Option<impl Screen + '_>;

    /// Whether the protocol's handshake is over (a target that never finishes it is given up).
    fn is_connected(&self) -> bool;

    /// Whether the target's last bytes are not all applied yet (the next `receive` goes on
    /// without waiting): the picture is not drawn in between, as it is about to change again.
    fn input_pending(&self) -> bool {
        false
    }

    /// Ends the session with the target politely (RDP's shutdown request); best effort.
    fn shutdown(&mut self) -> impl Future<Output = ()> + Send;
}

/// The session ends because the connection to target `name` failed.
pub fn upstream(name: &str, e: impl std::fmt::Display) -> Ending {
    Ending::error(
        Status::UPSTREAM_ERROR,
        Outcome::ConnectionFailed {
            target: name.to_owned(),
            detail: e.to_string(),
        },
    )
}

/// The TCP connection to `target`, or the ending that tells the user why there is none.
pub async fn connect_tcp(target: &Target) -> Result<TcpStream, Ending> {
    connect_address(&target.name, &target.host, target.port).await
}

/// The TCP connection to `host:port` (named `name` in the messages), or why there is none.
pub async fn connect_address(name: &str, host: &str, port: u16) -> Result<TcpStream, Ending> {
    let address = format!("{host}:{port}");
    match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&address)).await {
        Ok(Ok(tcp)) => {
            let _ = tcp.set_nodelay(true);
            Ok(tcp)
        }
        Ok(Err(e)) => Err(Ending::error(
            Status::UPSTREAM_NOT_FOUND,
            Outcome::Unreachable {
                target: name.to_owned(),
                address,
                detail: e.to_string(),
            },
        )),
        Err(_) => Err(Ending::error(
            Status::UPSTREAM_TIMEOUT,
            Outcome::ConnectTimeout {
                target: name.to_owned(),
                address,
                secs: CONNECT_TIMEOUT.as_secs(),
            },
        )),
    }
}
