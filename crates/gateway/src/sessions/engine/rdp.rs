//! RDP targets: IronRDP's connector and active stage (sans-IO) over a TCP
//! connection upgraded to TLS with the target's pinned certificate; the decoded image is the
//! display's screen. What Hoshu decides around IronRDP (settings, keymap, pins, the words for
//! failures) is in crates/rdp.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use futures_util::FutureExt as _;
use hoshu_guac::{ClientEvent, Decoder, Limits, ServerInstruction, Status, StreamIndex};
use hoshu_rdp::failure::Failure;
use hoshu_rdp::keymap::{Keyboard, Layout};
use hoshu_rdp::limits::{DesktopTooLarge, REACTIVATION_WINDOW, Reactivations, check_desktop};
use hoshu_rdp::pin::CertificatePin;
use hoshu_rdp::pointer::Pointer;
use hoshu_rdp::settings::{KeyboardSettings, Security, Settings, connector_config};
use hoshu_storage::Target;
use ironrdp_connector::connection_activation::{
    ConnectionActivationSequence, ConnectionActivationState,
};
use ironrdp_connector::{ClientConnector, ConnectorError, ServerName};
use ironrdp_graphics::image_processing::PixelFormat;
use ironrdp_input::Operation;
use ironrdp_pdu::geometry::InclusiveRectangle;
use ironrdp_session::image::DecodedImage;
use ironrdp_session::{ActiveStage, ActiveStageBuilder, ActiveStageOutput};
use ironrdp_tokio::{FramedWrite, NetworkClient, TokioFramed};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::budget::Reservation;
use super::desktop::{Desktop, Follow, connect_address, connect_tcp, upstream};
use super::lifetime::{Ending, killed};
use super::outcome::Outcome;
use super::rdp_tls::{TlsFailure, server_public_key, upgrade};
use super::tunnel::Outbox;
use hoshu_display::Rect;
use hoshu_display::{Display, Screen};

/// The desktop size asked for. The server may choose another; the display follows it.
const WIDTH: u16 = 1280;
const HEIGHT: u16 = 800;
/// From TCP connect to the first active-stage PDU: TLS, CredSSP, licensing, capabilities.
const CONNECT_WITHIN: Duration = Duration::from_secs(20);
/// PDUs processed in one turn at most before the tunnel draws and reads the browser again.
const MAX_PDUS_PER_TURN: usize = 64;
/// How long a user has to type the target's credentials when the gateway asks for them.
const CREDENTIALS_WITHIN: Duration = Duration::from_secs(300);
/// Longest user name or password accepted from the browser.
const MAX_CREDENTIAL: usize = 1024;
/// One session's framebuffer budget, the same as for VNC targets.
const MAX_PIXELS: u32 = hoshu_rfb::Limits::DEFAULT_MAX_PIXELS;

type Stream = TokioFramed<TlsStream<TcpStream>>;

/// An RDP session's target side.
pub(super) struct RdpDesktop {
    framed: Stream,
    stage: ActiveStage,
    image: DecodedImage,
    input: ironrdp_input::Database,
    keyboard: Keyboard,
    pointer: Pointer,
    /// Drives the Deactivation-Reactivation Sequence (MS-RDPBCGR 1.3.1.3) when the server
    /// sends Deactivate All (a resize, a log-on screen switching to the session).
    activation: ironrdp_connector::connection_activation::ConnectionActivationFactory,
    reactivation: Option<ConnectionActivationSequence>,
    /// When the reactivation under way must have finished.
    reactivation_until: Option<Instant>,
    reactivations: Reactivations,
    /// What the image holds of the gateway's memory for desktops.
    framebuffers: Reservation,
    /// Frames for the server, written by `flush` (outside the tunnel's `select!`).
    pending: Vec<u8>,
    name: String,
    /// The display has been told the desktop's size (the first `receive`).
    announced: bool,
    /// The server has drawn something: before that the image is only black.
    painted: bool,
}

/// IronRDP's decoded image as the display reads it.
struct ImageScreen<'a>(&'a DecodedImage);

impl Screen for ImageScreen<'_> {
    fn width(&self) -> u32 {
        u32::from(self.0.width())
    }

    fn height(&self) -> u32 {
        u32::from(self.0.height())
    }

    fn region_rgba(&self, rect: Rect) -> Vec<u8> {
        let stride = self.0.stride();
        let data = self.0.data();
        let row_bytes = rect.width as usize * 4;
        let mut out = Vec::with_capacity(row_bytes * rect.height as usize);
        for y in rect.y..rect.y + rect.height {
            let start = y as usize * stride + rect.x as usize * 4;
            match data.get(start..start + row_bytes) {
                Some(row) => out.extend_from_slice(row),
                // The display clips to the screen, so this is only reached on a size race:
                // black rather than a panic.
                None => out.resize(out.len() + row_bytes, 0),
            }
        }
        // A desktop is opaque; decoders leave the alpha byte as they please.
        for pixel in out.chunks_exact_mut(4) {
            pixel[3] = 0xff;
        }
        out
    }
}

fn rect(r: &InclusiveRectangle) -> Rect {
    Rect::new(
        u32::from(r.left),
        u32::from(r.top),
        u32::from(r.right.saturating_sub(r.left)) + 1,
        u32::from(r.bottom.saturating_sub(r.top)) + 1,
    )
}

/// The keyboard settings a layout announces (MS-RDPBCGR 2.2.1.3.2).
fn keyboard_settings(layout: Layout) -> KeyboardSettings {
    KeyboardSettings {
        layout: layout.keyboard_layout(),
        kind: layout.keyboard_type().0,
        subtype: layout.keyboard_subtype(),
        function_keys: layout.function_key_count(),
    }
}

impl RdpDesktop {
    /// Logs on to the target: asks the browser for missing credentials, then TCP, X.224
    /// negotiation, TLS against the pinned certificate, CredSSP when negotiated, and the rest
    /// of the connection sequence. The kill switch is honoured throughout.
    pub(super) async fn connect(
        target: &Target,
        password: Option<String>,
        mut framebuffers: Reservation,
        out: &mut Outbox<'_>,
    ) -> Result<Self, Ending> {
        let Some(pin) = target
            .host_key
            .as_deref()
            .and_then(|p| p.parse::<CertificatePin>().ok())
        else {
            return Err(Ending::error(
                Status::SERVER_ERROR,
                Outcome::RdpNoPin {
                    target: target.name.clone(),
                },
            ));
        };
        let layout: Layout = target.keyboard.parse().unwrap_or(Layout::Us);
        let security: Security = target.rdp_security.parse().unwrap_or_default();
        let (username, password) = match (&target.username, password) {
            (Some(user), Some(password)) => (user.clone(), password),
            (user, password) => {
                let answers = ask_credentials(out, user.is_none(), password.is_none()).await?;
                (
                    user.clone().or(answers.username).unwrap_or_default(),
                    password.or(answers.password).unwrap_or_default(),
                )
            }
        };
        let settings = Settings {
            username,
            password,
            domain: None,
            security,
            keyboard: keyboard_settings(layout),
            width: WIDTH,
            height: HEIGHT,
        };
        let establishing = tokio::time::timeout(CONNECT_WITHIN, establish(target, settings, pin));
        let established = tokio::select! {
            established = establishing => established,
            changed = out.kill.changed() => return Err(killed(out.kill, changed)),
        };
        let (framed, result) = match established {
            Ok(result) => result?,
            Err(_) => {
                return Err(Ending::error(
                    Status::UPSTREAM_TIMEOUT,
                    Outcome::RdpLogonTimeout {
                        target: target.name.clone(),
                        secs: CONNECT_WITHIN.as_secs(),
                    },
                ));
            }
        };
        let size = result.desktop_size;
        check_desktop(size.width, size.height, MAX_PIXELS)
            .map_err(|e| too_large(&target.name, e))?;
        framebuffers.claim(&target.name, size.width.into(), size.height.into())?;
        let fast_path = ironrdp_pdu::rdp::capability_sets::InputFlags::FASTPATH_INPUT
            | ironrdp_pdu::rdp::capability_sets::InputFlags::FASTPATH_INPUT_2;
        if !result.input_flags.intersects(fast_path) {
            tracing::warn!(target = %target.name, "Server does not announce fast-path input; input may be refused");
        }
        let image = DecodedImage::new(
            PixelFormat::RgbA32,
            result.desktop_size.width,
            result.desktop_size.height,
        );
        let stage = ActiveStageBuilder {
            static_channels: result.static_channels,
            user_channel_id: result.user_channel_id,
            io_channel_id: result.io_channel_id,
            message_channel_id: result.message_channel_id,
            share_id: result.share_id,
            compression_type: result.compression_type,
            enable_server_pointer: result.enable_server_pointer,
            pointer_software_rendering: result.pointer_software_rendering,
        }
        .build();
        tracing::info!(target = %target.name, width = result.desktop_size.width, height = result.desktop_size.height, "RDP session up");
        Ok(RdpDesktop {
            framed,
            stage,
            image,
            input: ironrdp_input::Database::new(),
            keyboard: Keyboard::new(layout),
            pointer: Pointer::new(),
            activation: result.activation_factory,
            reactivation: None,
            reactivation_until: None,
            reactivations: Reactivations::new(Instant::now()),
            framebuffers,
            pending: Vec::new(),
            name: target.name.clone(),
            announced: false,
            painted: false,
        })
    }

    fn send_input(&mut self, operations: impl IntoIterator<Item = Operation>) {
        let events = self.input.apply(operations);
        if events.is_empty() {
            return;
        }
        match self.stage.process_fastpath_input(&mut self.image, &events) {
            Ok(outputs) => self.queue(outputs),
            Err(e) => tracing::debug!(target = %self.name, error = %e, "Input not encoded"),
        }
    }

    /// Queues the frames among `outputs` for the server.
    fn queue(&mut self, outputs: Vec<ActiveStageOutput>) {
        for output in outputs {
            if let ActiveStageOutput::ResponseFrame(frame) = output {
                self.pending.extend_from_slice(&frame);
            }
        }
    }

    /// Applies one PDU of the active stage.
    fn process(
        &mut self,
        display: &mut Display,
        action: ironrdp_pdu::Action,
        payload: &[u8],
    ) -> Result<(), Ending> {
        let outputs = self
            .stage
            .process(&mut self.image, action, payload, None)
            .map_err(|e| {
                tracing::info!(target = %self.name, error = %e.report(), "RDP session failed");
                protocol_error(&self.name, &e)
            })?;
        for output in outputs {
            match output {
                ActiveStageOutput::ResponseFrame(frame) => self.pending.extend_from_slice(&frame),
                ActiveStageOutput::GraphicsUpdate(region) => {
                    display.damage(rect(&region));
                    self.painted = true;
                }
                ActiveStageOutput::PointerBitmap(pointer) => display.cursor(
                    u32::from(pointer.hotspot_x),
                    u32::from(pointer.hotspot_y),
                    u32::from(pointer.width),
                    u32::from(pointer.height),
                    &pointer.bitmap_data,
                ),
                ActiveStageOutput::Terminate(reason) => {
                    return Err(Ending::normal(Outcome::RdpServerEnded {
                        target: self.name.clone(),
                        reason: reason.to_string(),
                    }));
                }
                ActiveStageOutput::DeactivateAll => {
                    // Each reactivation is a new image: a server that keeps reactivating is
                    // ended rather than followed (MS-RDPBCGR 1.3.1.3 bounds nothing).
                    if let Some(reactivations) = self.reactivations.record(Instant::now()) {
                        tracing::warn!(target = %self.name, "Target reactivated its desktop too often");
                        return Err(Ending::error(
                            Status::UPSTREAM_ERROR,
                            Outcome::RdpReactivationChurn {
                                target: self.name.clone(),
                                reactivations,
                                secs: REACTIVATION_WINDOW.as_secs(),
                            },
                        ));
                    }
                    self.reactivation = Some(self.activation.create());
                    self.reactivation_until = Some(Instant::now() + CONNECT_WITHIN);
                }
                // Not logged with its content: a Save Session Info can carry an auto-reconnect
                // cookie (a credential).
                other => {
                    tracing::trace!(target = %self.name, output = ?std::mem::discriminant(&other), "RDP output not used")
                }
            }
        }
        Ok(())
    }

    /// One PDU of the Deactivation-Reactivation Sequence; at its end the stage and the image
    /// take the (possibly new) desktop size.
    async fn reactivation_step(&mut self, display: &mut Display) -> Result<(), Ending> {
        let Some(sequence) = self.reactivation.as_mut() else {
            return Ok(());
        };
        let mut buf = ironrdp_core::WriteBuf::new();
        // A server that starts a reactivation and never finishes it would hold the session
        // with no picture; it gets the log-on's time.
        let until = self
            .reactivation_until
            .unwrap_or_else(|| Instant::now() + CONNECT_WITHIN);
        let step = ironrdp_tokio::single_sequence_step_read(&mut self.framed, sequence, &mut buf);
        let written = match tokio::time::timeout_at(until.into(), step).await {
            Ok(written) => written.map_err(|e| {
                if Failure::is_closed_connection(&e) {
                    closed(&self.name)
                } else {
                    upstream(&self.name, e.report())
                }
            })?,
            Err(_) => {
                return Err(Ending::error(
                    Status::UPSTREAM_TIMEOUT,
                    Outcome::RdpLogonTimeout {
                        target: self.name.clone(),
                        secs: CONNECT_WITHIN.as_secs(),
                    },
                ));
            }
        };
        if let Some(n) = written.size() {
            self.pending.extend_from_slice(&buf.filled()[..n]);
        }
        if let ConnectionActivationState::Finalized {
            desktop_size,
            share_id,
            static_channel_chunk_size,
            ..
        } = sequence.connection_activation_state()
        {
            check_desktop(desktop_size.width, desktop_size.height, MAX_PIXELS)
                .map_err(|e| too_large(&self.name, e))?;
            self.framebuffers.claim(
                &self.name,
                desktop_size.width.into(),
                desktop_size.height.into(),
            )?;
            let reactivated = self.stage.reactivate(
                self.activation.io_channel_id(),
                self.activation.user_channel_id(),
                share_id,
                true,
                false,
                static_channel_chunk_size,
            );
            if !reactivated {
                return Err(upstream(
                    &self.name,
                    "the server's reactivation was invalid",
                ));
            }
            self.image =
                DecodedImage::new(PixelFormat::RgbA32, desktop_size.width, desktop_size.height);
            display.resize(
                u32::from(desktop_size.width),
                u32::from(desktop_size.height),
            );
            self.reactivation = None;
            self.reactivation_until = None;
            tracing::debug!(target = %self.name, width = desktop_size.width, height = desktop_size.height, "RDP reactivated");
        }
        Ok(())
    }
}

impl Desktop for RdpDesktop {
    async fn receive(&mut self, display: &mut Display) -> Result<Vec<Follow>, Ending> {
        let mut follows = Vec::new();
        if !self.announced {
            // Connected before the tunnel's loop began: announce it on the first turn.
            self.announced = true;
            display.resize(
                u32::from(self.image.width()),
                u32::from(self.image.height()),
            );
            follows.push(Follow::Connected);
        }
        if self.reactivation.is_some() {
            self.reactivation_step(display).await?;
            return Ok(follows);
        }
        let first = self
            .framed
            .read_pdu()
            .await
            .map_err(|e| read_failed(&self.name, e))?;
        // One screen update arrives as several PDUs back to back (xrdp: about 16 KiB each);
        // drawing after each would send the browser torn pictures (the bench saw 1.45 frames per
        // update). So every PDU already received is processed before the tunnel draws; polling
        // once and dropping is fine, `read_pdu` is cancel safe.
        let mut next = Some(first);
        let mut processed = 0;
        while let Some((action, payload)) = next.take() {
            self.process(display, action, &payload)?;
            processed += 1;
            if self.reactivation.is_some() || processed >= MAX_PDUS_PER_TURN {
                break;
            }
            next = match self.framed.read_pdu().now_or_never() {
                Some(Ok(pdu)) => Some(pdu),
                Some(Err(e)) => return Err(read_failed(&self.name, e)),
                None => None,
            };
        }
        Ok(follows)
    }

    fn key(&mut self, keysym: u32, pressed: bool) {
        if let Some(operation) = self.keyboard.key(keysym, pressed) {
            self.send_input([operation]);
        }
    }

    fn pointer(&mut self, x: i32, y: i32, buttons: u8) {
        let operations = self
            .pointer
            .event(x, y, buttons, self.image.width(), self.image.height());
        self.send_input(operations);
    }

    fn paste(&mut self, _text: &str) {
        // DESIGN §5: no clipboard channel is offered to RDP servers (target add
        // refuses a clipboard policy for them), so there is nowhere to paste to.
        tracing::debug!(target = %self.name, "Paste dropped: RDP sessions have no clipboard channel");
    }

    async fn flush(&mut self) -> Result<(), Ending> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        self.framed
            .write_all(&pending)
            .await
            .map_err(|e| upstream(&self.name, e))
    }

    fn screen(&self) -> Option<impl Screen + '_> {
        self.painted.then_some(ImageScreen(&self.image))
    }

    fn is_connected(&self) -> bool {
        true
    }

    async fn shutdown(&mut self) {
        // Keys and buttons still down in the browser would stay down on the server.
        let mut release = self.keyboard.release_all();
        release.extend(self.pointer.release_all());
        self.send_input(release);
        match self.stage.graceful_shutdown() {
            Ok(outputs) => self.queue(outputs),
            Err(e) => tracing::debug!(target = %self.name, error = %e, "No shutdown request"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), self.flush()).await;
    }
}

/// Credentials answered by the browser.
#[derive(Default)]
struct Answers {
    username: Option<String>,
    password: Option<String>,
}

/// Asks the browser for the target's user name and/or password: Guacamole `required` (the page
/// shows a form; never recorded), answered with `argv` streams.
async fn ask_credentials(
    out: &mut Outbox<'_>,
    need_username: bool,
    need_password: bool,
) -> Result<Answers, Ending> {
    let mut parameters = Vec::new();
    if need_username {
        parameters.push("username");
    }
    if need_password {
        parameters.push("password");
    }
    out.send(
        ServerInstruction::Required {
            parameters: &parameters,
        }
        .encode(),
    )
    .await?;
    let mut decoder = Decoder::new(Limits::default());
    let mut streams: HashMap<StreamIndex, (String, Vec<u8>)> = HashMap::new();
    let mut answers = Answers::default();
    let deadline = tokio::time::sleep(CREDENTIALS_WITHIN);
    tokio::pin!(deadline);
    while (need_username && answers.username.is_none())
        || (need_password && answers.password.is_none())
    {
        let text = tokio::select! {
            message = out.socket.recv() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => {
                    return Err(Ending::normal(Outcome::BrowserClosed));
                }
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue,
            },
            changed = out.kill.changed() => return Err(killed(out.kill, changed)),
            () = &mut deadline => {
                return Err(Ending::error(
                    Status::CLIENT_TIMEOUT,
                    Outcome::CredentialsTimeout {
                        secs: CREDENTIALS_WITHIN.as_secs(),
                    },
                ));
            }
        };
        let mut reply = String::new();
        for instruction in decoder.feed(text.as_bytes()) {
            let instruction = instruction.map_err(|e| {
                Ending::error(
                    Status::CLIENT_BAD_REQUEST,
                    Outcome::BrowserMalformed {
                        detail: e.to_string(),
                    },
                )
            })?;
            match ClientEvent::parse(&instruction) {
                Ok(ClientEvent::Ping { timestamp }) => {
                    ServerInstruction::TunnelPing {
                        timestamp: &timestamp,
                    }
                    .encode_into(&mut reply);
                }
                Ok(ClientEvent::Argv { stream, name, .. })
                    if parameters.contains(&name.as_str()) =>
                {
                    streams.insert(stream, (name, Vec::new()));
                }
                Ok(ClientEvent::Blob { stream, data }) => {
                    if let Some((_, value)) = streams.get_mut(&stream) {
                        if value.len() + data.len() > MAX_CREDENTIAL {
                            return Err(Ending::error(
                                Status::CLIENT_OVERRUN,
                                Outcome::CredentialsTooLong,
                            ));
                        }
                        value.extend_from_slice(&data);
                        ServerInstruction::Ack {
                            stream,
                            message: "OK",
                            status: Status::SUCCESS,
                        }
                        .encode_into(&mut reply);
                    }
                }
                Ok(ClientEvent::End { stream }) => {
                    if let Some((name, value)) = streams.remove(&stream) {
                        let value = String::from_utf8_lossy(&value).into_owned();
                        if name == "username" {
                            answers.username = Some(value);
                        } else {
                            answers.password = Some(value);
                        }
                    }
                }
                Ok(ClientEvent::Disconnect) => {
                    return Err(Ending::normal(Outcome::UserDisconnected));
                }
                _ => {}
            }
        }
        out.send(reply).await?;
    }
    Ok(answers)
}

/// CredSSP may need a network client for Kerberos (KDC requests); Hoshu logs on with NTLM, so
/// a request means the server insisted on Kerberos.
struct NoKerberos;

impl NetworkClient for NoKerberos {
    async fn send(
        &mut self,
        _request: &ironrdp_connector::sspi::generator::NetworkRequest,
    ) -> ironrdp_connector::ConnectorResult<Vec<u8>> {
        Err(ironrdp_connector::general_err!(
            "the server asked for Kerberos, which Hoshu does not use; allow NTLM for this server"
        ))
    }
}

/// The target `name` closed the connection.
fn closed(name: &str) -> Ending {
    Ending::error(
        Status::UPSTREAM_ERROR,
        Outcome::TargetClosed {
            target: name.to_owned(),
        },
    )
}

/// Reading from target `name` failed: it hung up, or the connection broke.
fn read_failed(name: &str, error: std::io::Error) -> Ending {
    if hoshu_rdp::failure::is_closed(&error) {
        closed(name)
    } else {
        upstream(name, error)
    }
}

/// Target `name` sent what RDP does not allow; the innermost cause says what (IronRDP's outer
/// layers name only its own functions).
fn protocol_error(name: &str, error: &dyn std::error::Error) -> Ending {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    Ending::error(
        Status::UPSTREAM_ERROR,
        Outcome::TargetProtocol {
            target: name.to_owned(),
            detail: format!("it sent what the RDP protocol does not allow ({innermost})"),
        },
    )
}

/// Target `name` asked for a desktop larger than a session may hold.
fn too_large(name: &str, e: DesktopTooLarge) -> Ending {
    tracing::warn!(target = %name, width = e.width, height = e.height, "Target asked for too large a desktop");
    Ending::error(
        Status::UPSTREAM_ERROR,
        Outcome::DesktopTooLarge {
            target: name.to_owned(),
            width: e.width,
            height: e.height,
            max_pixels: e.max_pixels,
        },
    )
}

/// The connector's failure for the user.
fn failed(target: &Target, error: &ConnectorError, during_nla: bool) -> Ending {
    // Over NLA a hang-up is how servers refuse credentials (see Failure::of).
    if !during_nla && Failure::is_closed_connection(error) {
        tracing::info!(target = %target.name, error = %error.report(), "RDP target closed the connection during log-on");
        return closed(&target.name);
    }
    let failure = Failure::of(error, during_nla);
    tracing::info!(target = %target.name, error = %error.report(), ?failure, "RDP log-on failed");
    Ending::error(
        Status::UPSTREAM_ERROR,
        Outcome::Rdp {
            target: target.name.clone(),
            failure,
        },
    )
}

/// The connection sequence up to the active stage.
async fn establish(
    target: &Target,
    settings: Settings,
    pin: CertificatePin,
) -> Result<(Stream, ironrdp_connector::ConnectionResult), Ending> {
    let tcp = connect_tcp(target).await?;
    let local = tcp.local_addr().map_err(|e| upstream(&target.name, e))?;
    let mut framed = TokioFramed::new(tcp);
    let mut connector = ClientConnector::new(connector_config(settings), local);
    let should_upgrade = ironrdp_tokio::connect_begin(&mut framed, &mut connector)
        .await
        .map_err(|e| failed(target, &e, false))?;
    // The server speaks TLS next; bytes it sent before its first handshake record break
    // MS-RDPBCGR 5.4.5.1 (IronRDP only asserts their absence in debug builds).
    let (tcp, leftover) = framed.into_inner();
    if !leftover.is_empty() {
        return Err(Ending::error(
            Status::UPSTREAM_ERROR,
            Outcome::TargetProtocol {
                target: target.name.clone(),
                detail: format!(
                    "it sent {} bytes after its Connection Confirm instead of starting TLS",
                    leftover.len()
                ),
            },
        ));
    }
    let (tls, der) = match upgrade(tcp, &target.host, Some(pin)).await {
        Ok(upgraded) => upgraded,
        Err(TlsFailure::Changed(now)) => {
            tracing::warn!(target = %target.name, pinned = %pin, presented = %now, "RDP certificate changed");
            return Err(Ending::error(
                Status::UPSTREAM_ERROR,
                Outcome::RdpCertificateChanged {
                    target: target.name.clone(),
                    presented: now.to_string(),
                },
            ));
        }
        Err(TlsFailure::Closed) => return Err(closed(&target.name)),
        Err(TlsFailure::Other(e)) => return Err(upstream(&target.name, format!("TLS: {e}"))),
    };
    let public_key = server_public_key(&der)
        .ok_or_else(|| upstream(&target.name, "its certificate cannot be read"))?;
    let upgraded = ironrdp_tokio::mark_as_upgraded(should_upgrade, &mut connector);
    let during_nla = connector.should_perform_credssp();
    let mut framed = TokioFramed::new(tls);
    let outcome = ironrdp_tokio::connect_finalize(
        upgraded,
        connector,
        &mut framed,
        &mut NoKerberos,
        ServerName::new(target.host.clone()),
        public_key,
        None,
    )
    .await
    .map_err(|e| failed(target, &e, during_nla))?;
    let result = outcome
        .into_connected()
        .map_err(|e| failed(target, &e, false))?;
    Ok((framed, result))
}

/// The certificate `host:port` presents after RDP negotiation, for pinning at `target add`.
pub async fn fetch_certificate(host: &str, port: u16) -> anyhow::Result<CertificatePin> {
    let address = format!("{host}:{port}");
    let tcp = connect_address("the target", host, port)
        .await
        .map_err(|ending| anyhow::anyhow!(ending.outcome.message(crate::ui::i18n::Lang::En)))?;
    let local = tcp.local_addr()?;
    let mut framed = TokioFramed::new(tcp);
    let settings = Settings {
        username: String::new(),
        password: String::new(),
        domain: None,
        security: Security::Any,
        keyboard: keyboard_settings(Layout::Us),
        width: WIDTH,
        height: HEIGHT,
    };
    let mut connector = ClientConnector::new(connector_config(settings), local);
    tokio::time::timeout(
        Duration::from_secs(10),
        ironrdp_tokio::connect_begin(&mut framed, &mut connector),
    )
    .await
    .map_err(|_| anyhow::anyhow!("{address} did not finish RDP negotiation within 10 s"))?
    .map_err(|e| {
        anyhow::anyhow!(
            "{address} did not negotiate TLS: {}",
            Failure::of(&e, false).message(&address)
        )
    })?;
    let (tcp, leftover) = framed.into_inner();
    if !leftover.is_empty() {
        anyhow::bail!("{address} sent data after its Connection Confirm instead of starting TLS");
    }
    match upgrade(tcp, host, None).await {
        Ok((_, der)) => Ok(CertificatePin::of_der(&der)),
        Err(TlsFailure::Changed(pin)) => Ok(pin),
        Err(TlsFailure::Closed) => {
            anyhow::bail!("{address} closed the connection during the TLS handshake")
        }
        Err(TlsFailure::Other(e)) => anyhow::bail!("TLS with {address} failed: {e}"),
    }
}
