//! Client-level tests on hand-built server byte streams: what a well-behaved
//! server sends, and every way a hostile one can lie.

mod chunking;
mod handshake;
mod hostile;
mod memory;
mod tight;
mod updates;

use crate::{Client, ClientConfig, Event, Limits, RfbError};

/// ServerInit (RFC 6143 §7.3.2) with a server pixel format we ignore.
pub(crate) fn server_init(width: u16, height: u16, name: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&[16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0]);
    out.extend_from_slice(&(name.len() as u32).to_be_bytes());
    out.extend_from_slice(name);
    out
}

/// A 3.8 server with security type None, up to ServerInit.
pub(crate) fn handshake(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"RFB 003.008\n".to_vec();
    out.extend_from_slice(&[1, 1]); // one security type: None
    out.extend_from_slice(&[0, 0, 0, 0]); // SecurityResult OK
    out.extend_from_slice(&server_init(width, height, b"test desktop"));
    out
}

/// A client past the handshake with a `width`×`height` desktop, its
/// output and events drained.
pub(crate) fn connected_with(config: ClientConfig, width: u16, height: u16) -> Client {
    let mut client = Client::new(config);
    client.receive(&handshake(width, height)).unwrap();
    client.take_output();
    assert!(matches!(client.next_event(), Some(Event::Connected { .. })));
    assert_eq!(client.next_event(), None);
    client
}

pub(crate) fn connected(width: u16, height: u16) -> Client {
    connected_with(ClientConfig::default(), width, height)
}

pub(crate) fn with_limits(limits: Limits) -> ClientConfig {
    ClientConfig {
        limits,
        ..ClientConfig::default()
    }
}

/// A rectangle header and its body.
pub(crate) fn rect(x: u16, y: u16, w: u16, h: u16, encoding: i32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for field in [x, y, w, h] {
        out.extend_from_slice(&field.to_be_bytes());
    }
    out.extend_from_slice(&encoding.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A FramebufferUpdate holding `rects`.
pub(crate) fn update(rects: &[Vec<u8>]) -> Vec<u8> {
    update_counted(rects.len() as u16, rects)
}

pub(crate) fn update_counted(count: u16, rects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0, 0];
    out.extend_from_slice(&count.to_be_bytes());
    for r in rects {
        out.extend_from_slice(r);
    }
    out
}

/// Raw pixels (R, G, B, x) of one colour.
pub(crate) fn raw_pixels(n: usize, rgb: [u8; 3]) -> Vec<u8> {
    (0..n).flat_map(|_| [rgb[0], rgb[1], rgb[2], 0]).collect()
}

pub(crate) fn drain(client: &mut Client) -> Vec<Event> {
    std::iter::from_fn(|| client.next_event()).collect()
}

/// Feeds `bytes`, expects an error, and checks the error is final.
pub(crate) fn fails(client: &mut Client, bytes: &[u8]) -> RfbError {
    let err = client.receive(bytes).unwrap_err();
    assert_eq!(client.receive(&[0]), Err(RfbError::Closed));
    assert!(!client.is_connected());
    assert!(client.framebuffer().is_none());
    err
}

pub(crate) fn rgb(client: &Client, x: u16, y: u16) -> [u8; 3] {
    let p = client.framebuffer().unwrap().pixel(x, y);
    [p[0], p[1], p[2]]
}
