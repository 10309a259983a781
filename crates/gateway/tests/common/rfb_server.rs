//! A tiny RFB 3.8 server for the black-box tests (RFC 6143): each test decides what it sends,
//! well-formed or hostile. Only what the tests need: security None or VNC Authentication,
//! ServerInit, reading the client's messages, and the bytes of FramebufferUpdate rectangles.

use std::future::Future;
use std::io;

use des::Des;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A listener on 127.0.0.1:0 serving every connection with the test's function; stops
/// accepting when dropped.
#[derive(Debug)]
pub struct RfbServer {
    pub port: u16,
    accept: JoinHandle<()>,
}

impl Drop for RfbServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl RfbServer {
    pub async fn start<F, Fut>(serve: F) -> RfbServer
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the test RFB server");
        let port = listener.local_addr().expect("its address").port();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                // The gateway ending the connection mid-write is what most tests expect.
                tokio::spawn(serve(stream));
            }
        });
        RfbServer { port, accept }
    }
}

/// How the server authenticates the gateway.
#[derive(Debug, Clone)]
pub enum Security {
    None,
    /// VNC Authentication with this password.
    VncAuth(String),
}

/// The challenge this server sends (fixed: the tests check the response, not randomness).
const CHALLENGE: [u8; 16] = *b"hoshu-challenge!";

/// RFC 6143 §7.2.2: DES of the challenge, keyed by the password's first 8 bytes (zero-padded)
/// with each byte's bits reversed. Written here on purpose rather than taken from hoshu_rfb:
/// this server checks the gateway's client, so it must not share the client's code.
pub fn vnc_auth_response(password: &str, challenge: &[u8; 16]) -> [u8; 16] {
    let mut key = [0u8; 8];
    for (k, b) in key.iter_mut().zip(password.as_bytes()) {
        *k = b.reverse_bits();
    }
    let cipher = Des::new(GenericArray::from_slice(&key));
    let mut response = *challenge;
    for block in response.chunks_exact_mut(8) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    response
}

/// ProtocolVersion 3.8, security, SecurityResult, ClientInit, ServerInit for a
/// `width`×`height` desktop called `name`. `Ok(false)` when VNC Authentication failed (the
/// failure and its reason were sent).
pub async fn handshake(
    s: &mut TcpStream,
    security: &Security,
    width: u16,
    height: u16,
    name: &str,
) -> io::Result<bool> {
    if !handshake_until_init(s, security).await? {
        return Ok(false);
    }
    s.write_all(&server_init(
        width,
        height,
        name.len() as u32,
        name.as_bytes(),
    ))
    .await?;
    Ok(true)
}

/// The handshake up to and including the client's ClientInit; ServerInit is the caller's.
pub async fn handshake_until_init(s: &mut TcpStream, security: &Security) -> io::Result<bool> {
    s.write_all(b"RFB 003.008\n").await?;
    let mut version = [0u8; 12];
    s.read_exact(&mut version).await?;
    match security {
        Security::None => {
            s.write_all(&[1, 1]).await?;
            let _chosen = s.read_u8().await?;
        }
        Security::VncAuth(password) => {
            s.write_all(&[1, 2]).await?;
            let _chosen = s.read_u8().await?;
            s.write_all(&CHALLENGE).await?;
            let mut response = [0u8; 16];
            s.read_exact(&mut response).await?;
            if response != vnc_auth_response(password, &CHALLENGE) {
                let reason = b"Authentication failure";
                let mut failed = 1u32.to_be_bytes().to_vec();
                failed.extend_from_slice(&(reason.len() as u32).to_be_bytes());
                failed.extend_from_slice(reason);
                s.write_all(&failed).await?;
                return Ok(false);
            }
        }
    }
    s.write_all(&0u32.to_be_bytes()).await?;
    let _shared = s.read_u8().await?;
    Ok(true)
}

/// Security None, a `width`×`height` desktop, and the client's first update request: the
/// point from which a hostile server misbehaves mid-session.
pub async fn connected(s: &mut TcpStream, width: u16, height: u16) -> io::Result<()> {
    handshake(s, &Security::None, width, height, "hostile").await?;
    until_update_request(s).await?;
    Ok(())
}

/// ServerInit (§7.3.2) with a name length that need not match the name.
pub fn server_init(width: u16, height: u16, name_len: u32, name: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    // 32 bpp, depth 24, little-endian, true colour, 255 max, red at bit 16.
    out.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    out.extend_from_slice(&name_len.to_be_bytes());
    out.extend_from_slice(name);
    out
}

/// A client-to-server message (§7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    SetPixelFormat,
    SetEncodings(Vec<i32>),
    UpdateRequest { incremental: bool },
    Key { keysym: u32, down: bool },
    Pointer,
    CutText,
}

pub async fn read_client_message(s: &mut (impl AsyncRead + Unpin)) -> io::Result<ClientMessage> {
    let kind = s.read_u8().await?;
    Ok(match kind {
        0 => {
            let mut rest = [0u8; 19];
            s.read_exact(&mut rest).await?;
            ClientMessage::SetPixelFormat
        }
        2 => {
            let _pad = s.read_u8().await?;
            let count = s.read_u16().await?;
            let mut encodings = Vec::new();
            for _ in 0..count {
                encodings.push(s.read_i32().await?);
            }
            ClientMessage::SetEncodings(encodings)
        }
        3 => {
            let incremental = s.read_u8().await? != 0;
            let mut rect = [0u8; 8];
            s.read_exact(&mut rect).await?;
            ClientMessage::UpdateRequest { incremental }
        }
        4 => {
            let down = s.read_u8().await? != 0;
            let _pad = s.read_u16().await?;
            let keysym = s.read_u32().await?;
            ClientMessage::Key { keysym, down }
        }
        5 => {
            let mut rest = [0u8; 5];
            s.read_exact(&mut rest).await?;
            ClientMessage::Pointer
        }
        6 => {
            let mut pad = [0u8; 3];
            s.read_exact(&mut pad).await?;
            let len = s.read_u32().await?;
            let mut text = vec![0u8; (len as usize).min(1 << 20)];
            s.read_exact(&mut text).await?;
            ClientMessage::CutText
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("client message type {other}"),
            ));
        }
    })
}

/// Reads client messages up to the first FramebufferUpdateRequest (after ServerInit the client
/// sends SetPixelFormat, SetEncodings, then a full update request); the encodings it offered.
pub async fn until_update_request(s: &mut (impl AsyncRead + Unpin)) -> io::Result<Vec<i32>> {
    let mut offered = Vec::new();
    loop {
        match read_client_message(s).await? {
            ClientMessage::SetEncodings(encodings) => offered = encodings,
            ClientMessage::UpdateRequest { .. } => return Ok(offered),
            _ => {}
        }
    }
}

/// Reads and discards until the gateway closes the connection.
pub async fn drain(mut s: impl AsyncRead + Unpin) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    while s.read(&mut buf).await? > 0 {}
    Ok(())
}

/// FramebufferUpdate header (§7.6.1).
pub fn update_header(rects: u16) -> Vec<u8> {
    let mut out = vec![0, 0];
    out.extend_from_slice(&rects.to_be_bytes());
    out
}

/// A rectangle header (§7.6.1).
pub fn rect_header(x: u16, y: u16, width: u16, height: u16, encoding: i32) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [x, y, width, height] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&encoding.to_be_bytes());
    out
}

/// A Raw rectangle of one colour, in the pixel format the gateway asks for (bytes R, G, B, x).
pub fn raw_rect(x: u16, y: u16, width: u16, height: u16, rgb: [u8; 3]) -> Vec<u8> {
    let mut out = rect_header(x, y, width, height, 0);
    for _ in 0..usize::from(width) * usize::from(height) {
        out.extend_from_slice(&[rgb[0], rgb[1], rgb[2], 0]);
    }
    out
}

/// A whole FramebufferUpdate of one Raw rectangle covering a `width`×`height` desktop.
pub fn full_update(width: u16, height: u16, rgb: [u8; 3]) -> Vec<u8> {
    let mut out = update_header(1);
    out.extend_from_slice(&raw_rect(0, 0, width, height, rgb));
    out
}

/// A well-behaved desktop: handshake, then a full picture for every update request and
/// nothing else, until the gateway goes away.
pub async fn serve_plain(
    mut s: TcpStream,
    security: Security,
    width: u16,
    height: u16,
) -> io::Result<()> {
    if !handshake(&mut s, &security, width, height, "test desktop").await? {
        return drain(s).await;
    }
    let mut colour = 0u8;
    loop {
        match read_client_message(&mut s).await? {
            // Incremental requests are answered only when input changed something.
            ClientMessage::UpdateRequest { incremental: false } => {
                s.write_all(&full_update(width, height, [200, 40, colour]))
                    .await?;
            }
            ClientMessage::Key { .. } | ClientMessage::Pointer => {
                colour = colour.wrapping_add(40);
                s.write_all(&full_update(width, height, [200, 40, colour]))
                    .await?;
            }
            _ => {}
        }
    }
}
