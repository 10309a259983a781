//! VNC targets: the sans-IO RFB client (crates/rdp's sibling crates/rfb) behind a TCP
//! connection, its events turned into display changes.

use std::time::{Duration, Instant};

use hoshu_guac::Status;
use hoshu_rfb::{Client, ClientConfig, Event, Framebuffer, RfbError};
use hoshu_storage::Target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::budget::Reservation;
use super::desktop::{Desktop, Follow, connect_tcp, upstream};
use super::lifetime::Ending;
use super::outcome::Outcome;
use hoshu_display::Rect;
use hoshu_display::{Display, Screen};

/// The RFB client's framebuffer as the display reads it.
struct FramebufferScreen<'a>(&'a Framebuffer);

impl Screen for FramebufferScreen<'_> {
    fn width(&self) -> u32 {
        u32::from(self.0.width())
    }

    fn height(&self) -> u32 {
        u32::from(self.0.height())
    }

    fn region_rgba(&self, rect: Rect) -> Vec<u8> {
        // Rect was clipped to this framebuffer by the display, so the casts cannot truncate.
        self.0.copy_region_rgba(hoshu_rfb::Rect {
            x: rect.x as u16,
            y: rect.y as u16,
            width: rect.width as u16,
            height: rect.height as u16,
        })
    }
}

/// Most desktop size changes in [`RESIZE_WINDOW`]: a person changing the resolution, or a
/// client-driven resize while a window is dragged, stays well below; each change is a new
/// framebuffer (up to 64 MiB), so a target that keeps resizing is ended before it costs the
/// gateway more than the allocations.
const MAX_RESIZES: u32 = 30;
const RESIZE_WINDOW: Duration = Duration::from_secs(10);

/// Counts desktop size changes in a sliding [`RESIZE_WINDOW`] (its start, and changes since).
#[derive(Debug)]
struct ResizeRate {
    since: Instant,
    count: u32,
}

impl ResizeRate {
    fn new() -> Self {
        ResizeRate {
            since: Instant::now(),
            count: 0,
        }
    }

    /// One more change at `now`; whether the limit is passed.
    fn record(&mut self, now: Instant) -> bool {
        if now.duration_since(self.since) > RESIZE_WINDOW {
            self.since = now;
            self.count = 0;
        }
        self.count += 1;
        self.count > MAX_RESIZES
    }
}

/// Most pixels one session's desktop may have, whatever the shared budget leaves.
const SESSION_MAX_PIXELS: u32 = hoshu_rfb::Limits::DEFAULT_MAX_PIXELS;

/// A VNC session's target side.
pub struct VncDesktop {
    tcp: TcpStream,
    rfb: Client,
    name: String,
    /// Nothing is drawn before the target's first complete update: until then the framebuffer
    /// is only the black it was created with.
    painted: bool,
    buf: Vec<u8>,
    resizes: ResizeRate,
    /// What the framebuffer holds of the gateway's memory for desktops.
    framebuffers: Reservation,
}

impl std::fmt::Debug for VncDesktop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VncDesktop")
            .field("name", &self.name)
            .field("painted", &self.painted)
            .finish_non_exhaustive()
    }
}

impl VncDesktop {
    pub async fn connect(
        target: &Target,
        password: Option<String>,
        framebuffers: Reservation,
    ) -> Result<Self, Ending> {
        let tcp = connect_tcp(target).await?;
        Ok(VncDesktop {
            tcp,
            rfb: Client::new(ClientConfig {
                password,
                ..ClientConfig::default()
            }),
            name: target.name.clone(),
            painted: false,
            buf: vec![0u8; 64 * 1024],
            resizes: ResizeRate::new(),
            framebuffers,
        })
    }
}

fn rect(r: hoshu_rfb::Rect) -> Rect {
    Rect::new(
        u32::from(r.x),
        u32::from(r.y),
        u32::from(r.width),
        u32::from(r.height),
    )
}

impl VncDesktop {
    /// The most pixels the next framebuffer may have now: the session's limit, or less when
    /// the other sessions hold most of the budget.
    fn pixel_limit(&self) -> u32 {
        let available = self.framebuffers.available_pixels();
        u32::try_from(available).map_or(SESSION_MAX_PIXELS, |n| n.min(SESSION_MAX_PIXELS))
    }

    /// Holds the budget for the framebuffer the client has just made (it was allowed by
    /// [`VncDesktop::pixel_limit`]; another session may have taken the rest meanwhile).
    fn reserve(&mut self, width: u32, height: u32) -> Result<(), Ending> {
        self.framebuffers.claim(&self.name, width, height)
    }

    fn over_budget(&self, width: u32, height: u32) -> Ending {
        self.framebuffers.refusal(&self.name, width, height)
    }

    /// What the client made of the target's bytes: display changes and follows, or the ending.
    fn apply(
        &mut self,
        received: Result<(), RfbError>,
        display: &mut Display,
    ) -> Result<Vec<Follow>, Ending> {
        match received {
            Ok(()) => {}
            // Within what one session may have, but not what the budget leaves now.
            Err(RfbError::DesktopTooManyPixels { width, height, .. })
                if u32::from(width) * u32::from(height) <= SESSION_MAX_PIXELS =>
            {
                return Err(self.over_budget(u32::from(width), u32::from(height)));
            }
            Err(RfbError::DesktopTooManyPixels {
                width,
                height,
                max_pixels,
            }) => {
                tracing::warn!(target = %self.name, width, height, "Target asked for too large a desktop");
                return Err(Ending::error(
                    Status::UPSTREAM_ERROR,
                    Outcome::DesktopTooLarge {
                        target: self.name.clone(),
                        width,
                        height,
                        max_pixels,
                    },
                ));
            }
            Err(e) => {
                tracing::info!(target = %self.name, error = %e, "Target ended the session");
                return Err(Ending::error(
                    Status::UPSTREAM_ERROR,
                    Outcome::TargetProtocol {
                        target: self.name.clone(),
                        detail: e.to_string(),
                    },
                ));
            }
        }
        let mut follows = Vec::new();
        while let Some(event) = self.rfb.next_event() {
            match event {
                Event::Connected { width, height, .. } => {
                    self.reserve(u32::from(width), u32::from(height))?;
                    display.resize(u32::from(width), u32::from(height));
                    follows.push(Follow::Connected);
                }
                Event::Resized { width, height } => {
                    if self.resizes.record(Instant::now()) {
                        tracing::warn!(target = %self.name, "Target resized its desktop too often");
                        return Err(Ending::error(
                            Status::UPSTREAM_ERROR,
                            Outcome::ResizeChurn {
                                target: self.name.clone(),
                                resizes: self.resizes.count,
                                secs: RESIZE_WINDOW.as_secs(),
                            },
                        ));
                    }
                    self.reserve(u32::from(width), u32::from(height))?;
                    display.resize(u32::from(width), u32::from(height))
                }
                Event::Damage(r) => display.damage(rect(r)),
                Event::Copy { src_x, src_y, dst } => {
                    display.copy(u32::from(src_x), u32::from(src_y), rect(dst))
                }
                // Keep the framebuffer current whatever the browser's pace: the display
                // coalesces.
                Event::UpdateEnd => {
                    self.rfb.request_update(true);
                    self.painted = true;
                }
                Event::Cursor {
                    hotspot_x,
                    hotspot_y,
                    width,
                    height,
                    rgba,
                } => display.cursor(
                    u32::from(hotspot_x),
                    u32::from(hotspot_y),
                    u32::from(width),
                    u32::from(height),
                    &rgba,
                ),
                Event::CutText(text) => follows.push(Follow::CutText(text)),
                Event::Bell => {}
            }
        }
        Ok(follows)
    }
}

impl Desktop for VncDesktop {
    async fn receive(&mut self, display: &mut Display) -> Result<Vec<Follow>, Ending> {
        // The client stops after each new framebuffer when more input is left: give the other
        // sessions, the browser and the kill switch a turn before the next (both awaits here
        // are cancel safe: a cancelled call leaves the input where it was).
        if self.rfb.has_input_left() {
            tokio::task::yield_now().await;
            self.rfb.set_max_pixels(self.pixel_limit());
            let received = self.rfb.receive_some(&[]);
            return self.apply(received, display);
        }
        let n = match self.tcp.read(&mut self.buf).await {
            Ok(0) => {
                return Err(Ending::error(
                    Status::UPSTREAM_ERROR,
                    Outcome::TargetClosed {
                        target: self.name.clone(),
                    },
                ));
            }
            Ok(n) => n,
            Err(e) => return Err(upstream(&self.name, e)),
        };
        self.rfb.set_max_pixels(self.pixel_limit());
        let received = self.rfb.receive_some(&self.buf[..n]);
        self.apply(received, display)
    }

    fn key(&mut self, keysym: u32, pressed: bool) {
        // Guacamole keysyms are X11 keysyms, as RFB's are (RFC 6143 §7.5.4).
        self.rfb.key_event(keysym, pressed);
    }

    fn pointer(&mut self, x: i32, y: i32, buttons: u8) {
        let clamp = |v: i32| u16::try_from(v.max(0)).unwrap_or(u16::MAX);
        self.rfb.pointer_event(clamp(x), clamp(y), buttons);
    }

    fn paste(&mut self, text: &str) {
        self.rfb.client_cut_text(text);
    }

    async fn flush(&mut self) -> Result<(), Ending> {
        let out = self.rfb.take_output();
        if out.is_empty() {
            return Ok(());
        }
        self.tcp
            .write_all(&out)
            .await
            .map_err(|e| upstream(&self.name, e))
    }

    fn screen(&self) -> Option<impl Screen + '_> {
        self.rfb
            .framebuffer()
            .filter(|_| self.painted)
            .map(FramebufferScreen)
    }

    fn is_connected(&self) -> bool {
        self.rfb.is_connected()
    }

    fn input_pending(&self) -> bool {
        self.rfb.has_input_left()
    }

    async fn shutdown(&mut self) {}
}
