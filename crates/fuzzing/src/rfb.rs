//! The RFB client on what a hostile VNC server sends.

use hoshu_rfb::{Client, ClientConfig, Event, Framebuffer, Rect, RfbError, Stats};

/// RFB 3.8, security None, SecurityResult OK, ServerInit of a 64×48 desktop named "f".
fn handshake() -> Vec<u8> {
    let mut bytes = b"RFB 003.008\n".to_vec();
    bytes.extend_from_slice(&[1, 1]);
    bytes.extend_from_slice(&0u32.to_be_bytes());
    bytes.extend_from_slice(&64u16.to_be_bytes());
    bytes.extend_from_slice(&48u16.to_be_bytes());
    bytes.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    bytes.extend_from_slice(&1u32.to_be_bytes());
    bytes.push(b'f');
    bytes
}

/// What one run of the client gave, and the client (whose framebuffer is compared in place:
/// a copy of a desktop of up to 8192×8192 would cost more than the run).
struct Outcome {
    events: Vec<Event>,
    output: Vec<u8>,
    stats: Option<Stats>,
    result: Result<(), RfbError>,
    client: Client,
}

impl Outcome {
    fn framebuffer(&self) -> Option<&Framebuffer> {
        self.client.framebuffer()
    }
}

/// A framebuffer's size, for messages: its pixels would fill the screen.
fn size(framebuffer: &Framebuffer) -> (u16, u16) {
    (framebuffer.width(), framebuffer.height())
}

/// The gateway's configuration: the default encodings and limits, and a password, so that a
/// server asking for VNC Authentication gets an answer.
fn config() -> ClientConfig {
    ClientConfig {
        password: Some("fuzzing".to_owned()),
        ..ClientConfig::default()
    }
}

fn run<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> Outcome {
    let mut client = Client::new(config());
    let mut events = Vec::new();
    let mut output = client.take_output();
    let mut result = Ok(());
    for piece in pieces {
        result = client.receive(piece);
        events.extend(std::iter::from_fn(|| client.next_event()));
        output.extend(client.take_output());
        if result.is_err() {
            break;
        }
    }
    Outcome {
        events,
        output,
        // After an error the chunked run has not counted the bytes after it.
        stats: result.is_ok().then(|| client.stats()),
        result,
        client,
    }
}

/// Every rectangle an event names lies inside the desktop as it is at that event (the
/// decoders write only there).
fn check_events(events: &[Event]) {
    let mut desktop: Option<(u16, u16)> = None;
    let inside = |desktop: Option<(u16, u16)>, r: Rect| {
        desktop.is_some_and(|(w, h)| {
            u32::from(r.x) + u32::from(r.width) <= u32::from(w)
                && u32::from(r.y) + u32::from(r.height) <= u32::from(h)
        })
    };
    for event in events {
        match event {
            Event::Connected { width, height, .. } | Event::Resized { width, height } => {
                desktop = Some((*width, *height));
            }
            Event::Damage(r) => assert!(inside(desktop, *r), "{r:?} outside {desktop:?}"),
            Event::Copy { src_x, src_y, dst } => {
                assert!(inside(desktop, *dst), "copy to {dst:?} outside {desktop:?}");
                let src = Rect::new(*src_x, *src_y, dst.width, dst.height);
                assert!(
                    inside(desktop, src),
                    "copy from {src:?} outside {desktop:?}"
                );
            }
            Event::Cursor {
                width,
                height,
                rgba,
                ..
            } => assert_eq!(
                rgba.len(),
                usize::from(*width) * usize::from(*height) * 4,
                "cursor image size"
            ),
            Event::UpdateEnd | Event::Bell | Event::CutText(_) => {}
        }
    }
}

/// The RFB client on arbitrary bytes from a hostile VNC server: after a valid handshake (so the
/// fuzzer reaches the update decoders quickly) or from the first byte. It must never panic,
/// the limits must hold memory to what they allow (libFuzzer's `-rss_limit_mb`), any chunking
/// must give the same events, output, framebuffer and error as the bytes in one piece (the
/// crate's promise), and every rectangle reported must lie inside the desktop.
///
/// Input: one control byte (bit 0: handshake first; the rest: the chunk size), then the bytes.
pub fn rfb_client(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let opening = if control & 1 == 1 {
        handshake()
    } else {
        Vec::new()
    };
    let chunk = usize::from(control >> 1) + 1;

    let whole = run([opening.as_slice(), input].into_iter());
    let chunked = run(std::iter::once(opening.as_slice()).chain(input.chunks(chunk)));
    assert_eq!(whole.result, chunked.result, "chunking changed the error");
    assert_eq!(whole.events, chunked.events, "chunking changed the events");
    assert_eq!(whole.output, chunked.output, "chunking changed the output");
    assert_eq!(whole.stats, chunked.stats, "chunking changed the counters");
    // Not assert_eq!: on failure the message gives the sizes, not megabytes of pixels.
    assert!(
        whole.framebuffer() == chunked.framebuffer(),
        "chunking changed the framebuffer: {:?} vs {:?}",
        whole.framebuffer().map(size),
        chunked.framebuffer().map(size)
    );
    check_events(&whole.events);
    if let Some(framebuffer) = whole.framebuffer() {
        let (w, h) = (framebuffer.width(), framebuffer.height());
        let limits = config().limits;
        assert!(w <= limits.max_width && h <= limits.max_height, "{w}×{h}");
        assert_eq!(
            framebuffer.rgba().len(),
            usize::from(w) * usize::from(h) * 4
        );
    }
}
