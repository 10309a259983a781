//! Against a real server: TigerVNC's Xvnc (Debian `tigervnc-standalone-server`,
//! DESIGN §9), painted with `xsetroot`. The driver is a few lines of tokio
//! around the sans-IO client, as the gateway's is.
//!
//! When Xvnc is not installed each test prints why and passes; `make test`
//! installs it.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use hoshu_rfb::{Client, ClientConfig, Encoding, Event, Framebuffer, RfbError, Stats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WIDTH: u16 = 320;
const HEIGHT: u16 = 240;
const PASSWORD: &str = "hoshu-pw";
const RED: [u8; 4] = [255, 0, 0, 255];
const GREEN: [u8; 4] = [0, 255, 0, 255];
const BLUE: [u8; 4] = [0, 0, 255, 255];

/// Display numbers handed out in this process; the lock files on disk
/// keep us off those other processes use.
static NEXT_DISPLAY: AtomicU32 = AtomicU32::new(40);

/// An Xvnc on a free display and a free loopback port, killed on drop.
struct Xvnc {
    child: Child,
    display: u32,
    port: u16,
    dir: PathBuf,
}

/// Whether Xvnc is on PATH; says so when it is not.
fn xvnc_installed(test: &str) -> bool {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join("Xvnc").is_file()));
    if !on_path {
        println!(
            "SKIPPED {test}: Xvnc is not installed (apt-get install tigervnc-standalone-server)"
        );
    }
    on_path
}

/// A fresh directory for one test's files, removed with its [`Xvnc`].
fn test_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hoshu-rfb-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Xvnc {
    /// Starts Xvnc with `security` arguments; `dir` holds its log.
    fn start(dir: PathBuf, security: &[&str]) -> Xvnc {
        for _ in 0..40 {
            let display = NEXT_DISPLAY.fetch_add(1, Ordering::SeqCst);
            if Path::new(&format!("/tmp/.X11-unix/X{display}")).exists()
                || Path::new(&format!("/tmp/.X{display}-lock")).exists()
            {
                continue;
            }
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let log = std::fs::File::create(dir.join(format!("Xvnc-{display}.log"))).unwrap();
            let mut child = Command::new("Xvnc")
                .arg(format!(":{display}"))
                .args([
                    "-rfbport",
                    &port.to_string(),
                    "-localhost",
                    "-nolisten",
                    "tcp",
                ])
                .args(["-geometry", &format!("{WIDTH}x{HEIGHT}"), "-depth", "24"])
                .args(security)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap();
            if wait_ready(&mut child, display, port) {
                return Xvnc {
                    child,
                    display,
                    port,
                    dir,
                };
            }
            // Lost a race for the display or the port (or too slow): try
            // the next one.
            stop(&mut child, display);
        }
        panic!(
            "could not start Xvnc on any display; logs in {}",
            dir.display()
        );
    }

    fn xsetroot(&self, args: &[&str]) {
        let status = Command::new("xsetroot")
            .args(args)
            .env("DISPLAY", format!(":{}", self.display))
            .status()
            .expect("xsetroot (x11-xserver-utils) runs");
        assert!(status.success(), "xsetroot {args:?} failed");
    }
}

/// Waits until Xvnc's X socket exists and its RFB port accepts; `false`
/// when it exited (display or port taken) or took too long.
fn wait_ready(child: &mut Child, display: u32, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    let socket = format!("/tmp/.X11-unix/X{display}");
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if Path::new(&socket).exists() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// Stops an Xvnc we started. SIGTERM lets it remove its lock file and
/// socket (SIGKILL would leave them, and use up display numbers); if it
/// does not exit promptly it is killed and its files removed here.
fn stop(child: &mut Child, display: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(format!("/tmp/.X{display}-lock"));
    let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{display}"));
}

impl Drop for Xvnc {
    fn drop(&mut self) {
        stop(&mut self.child, self.display);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The test's driver: socket in, socket out, events collected.
struct Session {
    client: Client,
    stream: TcpStream,
    events: Vec<Event>,
    deadline: tokio::time::Instant,
}

impl Session {
    async fn connect(port: u16, config: ClientConfig) -> Session {
        Session {
            client: Client::new(config),
            stream: TcpStream::connect(("127.0.0.1", port)).await.unwrap(),
            events: Vec::new(),
            deadline: tokio::time::Instant::now() + Duration::from_secs(20),
        }
    }

    /// Runs until `done` accepts an event.
    async fn until(&mut self, mut done: impl FnMut(&Event) -> bool) -> Result<(), RfbError> {
        let mut buf = vec![0; 64 << 10];
        loop {
            let out = self.client.take_output();
            self.stream.write_all(&out).await.unwrap();
            while let Some(event) = self.client.next_event() {
                let finished = done(&event);
                self.events.push(event);
                if finished {
                    return Ok(());
                }
            }
            let read = tokio::time::timeout_at(self.deadline, self.stream.read(&mut buf));
            let n = read.await.expect("the server answers in time").unwrap();
            if n == 0 {
                return Err(RfbError::Closed);
            }
            self.client.receive(&buf[..n])?;
        }
    }

    /// Asks for incremental updates until the framebuffer passes `check`.
    async fn until_picture(&mut self, check: impl Fn(&Framebuffer) -> bool) {
        loop {
            self.client.request_update(true);
            self.until(|e| *e == Event::UpdateEnd).await.unwrap();
            if check(self.client.framebuffer().unwrap()) {
                return;
            }
        }
    }
}

fn all_pixels(fb: &Framebuffer, colour: [u8; 4]) -> bool {
    fb.rgba().chunks_exact(4).all(|p| p == colour)
}

/// 16×16 tile: 8×8 squares, set bits (foreground) top-left and bottom-right.
const CHECKER_XBM: &str = "#define c_width 16\n#define c_height 16\nstatic unsigned char c_bits[] = {\n\
    0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00,\n\
    0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff};\n";

fn checkerboard(fb: &Framebuffer) -> bool {
    (0..fb.height()).all(|y| {
        (0..fb.width()).all(|x| {
            let foreground = (x % 16 < 8) == (y % 16 < 8);
            fb.pixel(x, y) == if foreground { GREEN } else { BLUE }
        })
    })
}

/// Connects with `encodings` (plus the Cursor pseudo-encoding, so the
/// server does not draw the pointer into the picture), paints the root
/// solid red and then a green/blue checkerboard, and checks every pixel.
async fn paints(test: &str, encodings: &[Encoding]) -> Option<Stats> {
    if !xvnc_installed(test) {
        return None;
    }
    let xvnc = Xvnc::start(test_dir(test), &["-SecurityTypes", "None"]);
    let mut encodings = encodings.to_vec();
    encodings.push(Encoding::Cursor);
    let config = ClientConfig {
        encodings,
        ..ClientConfig::default()
    };
    let mut session = Session::connect(xvnc.port, config).await;
    session.until(|e| *e == Event::UpdateEnd).await.unwrap();
    let Some(Event::Connected { width, height, .. }) = session.events.first() else {
        panic!("first event: {:?}", session.events.first());
    };
    assert_eq!((*width, *height), (WIDTH, HEIGHT));

    xvnc.xsetroot(&["-solid", "#ff0000"]);
    session.until_picture(|fb| all_pixels(fb, RED)).await;

    let xbm = xvnc.dir.join("checker.xbm");
    std::fs::write(&xbm, CHECKER_XBM).unwrap();
    xvnc.xsetroot(&[
        "-bitmap",
        &xbm.to_string_lossy(),
        "-fg",
        "#00ff00",
        "-bg",
        "#0000ff",
    ]);
    session.until_picture(checkerboard).await;

    // Xvnc answers the Cursor pseudo-encoding on connect; with no window
    // manager the root cursor it sends is empty (0×0), which we report as is.
    assert!(
        session
            .events
            .iter()
            .any(|e| matches!(e, Event::Cursor { .. })),
        "Xvnc sends a cursor when asked"
    );
    Some(session.client.stats())
}

#[tokio::test]
async fn tight_with_the_default_encodings() {
    let Some(stats) = paints("tight", &Encoding::PREFERRED).await else {
        return;
    };
    // Two colours cannot be a fill: the checkerboard went through the
    // zlib palette path.
    assert!(stats.tight_basic_rects > 0, "{stats:?}");
    assert_eq!(stats.raw_rects + stats.zrle_rects, 0, "{stats:?}");
}

#[tokio::test]
async fn zrle_only() {
    let Some(stats) = paints("zrle", &[Encoding::Zrle]).await else {
        return;
    };
    assert!(stats.zrle_rects > 0, "{stats:?}");
    assert_eq!(
        stats.raw_rects + stats.tight_basic_rects + stats.tight_fill_rects,
        0,
        "{stats:?}"
    );
}

#[tokio::test]
async fn raw_only() {
    let Some(stats) = paints("raw", &[Encoding::Raw]).await else {
        return;
    };
    assert!(stats.raw_rects > 0, "{stats:?}");
    assert_eq!(
        stats.zrle_rects + stats.tight_basic_rects + stats.tight_fill_rects,
        0,
        "{stats:?}"
    );
}

/// An Xvnc that requires VNC Authentication with [`PASSWORD`], its
/// password file made by `vncpasswd -f` as an administrator would.
fn vnc_auth_server(test: &str) -> Xvnc {
    let dir = test_dir(test);
    let mut child = Command::new("vncpasswd")
        .arg("-f")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("vncpasswd (tigervnc-tools) runs");
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        format!("{PASSWORD}\n").as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.len() == 8,
        "vncpasswd -f"
    );
    let file = dir.join("passwd");
    std::fs::write(&file, out.stdout).unwrap();
    let file = file.to_string_lossy().into_owned();
    Xvnc::start(dir, &["-SecurityTypes", "VncAuth", "-PasswordFile", &file])
}

fn with_password(password: Option<&str>) -> ClientConfig {
    ClientConfig {
        password: password.map(str::to_owned),
        ..ClientConfig::default()
    }
}

#[tokio::test]
async fn vnc_auth_with_the_right_password() {
    if !xvnc_installed("vnc_auth_with_the_right_password") {
        return;
    }
    let xvnc = vnc_auth_server("auth-right");
    let mut session = Session::connect(xvnc.port, with_password(Some(PASSWORD))).await;
    session.until(|e| *e == Event::UpdateEnd).await.unwrap();
    assert!(session.client.is_connected());
    assert!(all_pixels(
        session.client.framebuffer().unwrap(),
        [0, 0, 0, 255]
    ));
}

#[tokio::test]
async fn vnc_auth_with_a_wrong_or_missing_password() {
    if !xvnc_installed("vnc_auth_with_a_wrong_or_missing_password") {
        return;
    }
    let xvnc = vnc_auth_server("auth-wrong");
    let mut session = Session::connect(xvnc.port, with_password(Some("not-it"))).await;
    let err = session.until(|_| false).await.unwrap_err();
    assert!(matches!(err, RfbError::AuthenticationFailed(_)), "{err}");
    println!("wrong password: {err}");

    let mut session = Session::connect(xvnc.port, with_password(None)).await;
    let err = session.until(|_| false).await.unwrap_err();
    assert_eq!(err, RfbError::PasswordRequired);
}
