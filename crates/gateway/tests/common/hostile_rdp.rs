//! A scripted RDP server for the hostile-RDP tests: each test decides what the server says at
//! each step of the connection sequence (MS-RDPBCGR 1.3.1.1), well-formed or hostile. Only the
//! server side of what the gateway's client needs: X.224 negotiation selecting TLS, the TLS
//! upgrade with a fixed certificate, MCS and GCC, channel joins, licensing, capabilities,
//! finalization, and the bytes of fast-path and slow-path updates.
//!
//! The plain structures are written here by hand, so a test can make any length wrong; the two
//! large encoded ones (the GCC Conference Create Response and the Demand Active capability
//! sets) are encoded with ironrdp-pdu, which is the server side of the same crate the gateway
//! decodes them with, and patched where a test wants them bogus.

use std::borrow::Cow;
use std::future::Future;
use std::io;
use std::sync::{Arc, OnceLock};

use ironrdp_core::encode_vec;
use ironrdp_pdu::gcc::{
    ConferenceCreateResponse, RdpVersion, ServerCoreData, ServerCoreOptionalData, ServerGccBlocks,
    ServerNetworkData, ServerSecurityData,
};
use ironrdp_pdu::mcs::{
    AttachUserConfirm, ChannelJoinConfirm, ConnectResponse, DomainParameters, McsMessage,
};
use ironrdp_pdu::nego::SecurityProtocol;
use ironrdp_pdu::rdp::capability_sets::{
    Bitmap, BitmapDrawingFlags, CapabilitySet, DemandActive, General, GeneralExtraFlags, Input,
    InputFlags, MajorPlatformType, MinorPlatformType, ServerDemandActive,
};
use ironrdp_pdu::rdp::headers::{ShareControlHeader, ShareControlPdu, ShareDataPdu};
use ironrdp_pdu::rdp::server_redirection::ServerRedirectionPdu;
use ironrdp_pdu::x224::X224;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use super::script::ScriptedServer;

/// The server's side of the TLS connection.
pub type Tls = tokio_rustls::server::TlsStream<TcpStream>;

/// MCS channels (MS-RDPBCGR 2.2.1.4.3 and 2.2.1.7): the server's own user id, the I/O channel,
/// and the id given to the gateway's user.
pub const SERVER_CHANNEL: u16 = 1002;
pub const IO_CHANNEL: u16 = 1003;
pub const USER_CHANNEL: u16 = 1007;
/// MS-RDPBCGR 2.2.1.13.1: the share id the server picks.
pub const SHARE_ID: u32 = 0x0001_03EA;

/// RDP_NEG_RSP selectedProtocol values (MS-RDPBCGR 2.2.1.2.1).
pub const PROTOCOL_RDP: u32 = 0;
pub const PROTOCOL_SSL: u32 = 1;
pub const PROTOCOL_RDSTLS: u32 = 4;

/// Share Control pduType (MS-RDPBCGR 2.2.8.1.1.1.1), with TS_PROTOCOL_VERSION (0x10).
pub const PDUTYPE_DEMANDACTIVE: u16 = 0x11;
pub const PDUTYPE_DEACTIVATEALL: u16 = 0x16;
pub const PDUTYPE_DATA: u16 = 0x17;
/// Share Data pduType2 (MS-RDPBCGR 2.2.8.1.1.1.2).
pub const PDUTYPE2_CONTROL: u8 = 0x14;
pub const PDUTYPE2_SYNCHRONIZE: u8 = 0x1F;
pub const PDUTYPE2_SAVE_SESSION_INFO: u8 = 0x26;
pub const PDUTYPE2_FONTMAP: u8 = 0x28;
/// Fast-path updateCode (MS-RDPBCGR 2.2.9.1.2.1).
pub const FASTPATH_BITMAP: u8 = 0x1;
pub const FASTPATH_POINTER_NEW: u8 = 0xB;
pub const FASTPATH_POINTER_LARGE: u8 = 0xC;

/// The server's certificate, made once per test process: its DER, its key, and the pin.
struct Identity {
    cert: rustls::pki_types::CertificateDer<'static>,
    key: Vec<u8>,
    pin: String,
}

fn identity() -> &'static Identity {
    static IDENTITY: OnceLock<Identity> = OnceLock::new();
    IDENTITY.get_or_init(|| {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
            .expect("a self-signed certificate for the scripted RDP server");
        let der = certified.cert.der().clone();
        let pin = format!("SHA256:{}", hex::encode(Sha256::digest(&der)));
        Identity {
            cert: der,
            key: certified.key_pair.serialize_der(),
            pin,
        }
    })
}

fn acceptor() -> TlsAcceptor {
    let identity = identity();
    let key = rustls::pki_types::PrivateKeyDer::try_from(identity.key.clone())
        .expect("rcgen writes PKCS#8");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default versions")
    .with_no_client_auth()
    .with_single_cert(vec![identity.cert.clone()], key)
    .expect("the certificate and its key match");
    TlsAcceptor::from(Arc::new(config))
}

/// The scripted RDP server ([`ScriptedServer`]): the certificate fetch of `target add` is
/// answered up to TLS.
#[derive(Debug)]
pub struct RdpScript {
    pub port: u16,
    /// `SHA256:…` of the certificate presented, for `--accept-certificate`.
    pub pin: String,
    _server: ScriptedServer,
}

impl RdpScript {
    pub fn start<F, Fut>(serve: F) -> RdpScript
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let server = ScriptedServer::start("RDP", answer_certificate_fetch, serve);
        RdpScript {
            port: server.port,
            pin: identity().pin.clone(),
            _server: server,
        }
    }
}

async fn answer_certificate_fetch(mut tcp: TcpStream) -> io::Result<()> {
    negotiate(&mut tcp).await?;
    let tls = acceptor().accept(tcp).await?;
    drain(tls).await
}

// Re-exported: the cases call them through this module, and not every test binary does.
#[allow(unused_imports)]
pub use super::script::{drain, flood};

/// One frame from the client: a TPKT (MS-RDPBCGR 2.2.1.1, T.123 §8) or a fast-path input PDU
/// (2.2.8.1.2), whole, header included.
pub async fn read_frame<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<Vec<u8>> {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).await?;
    let (mut frame, length) = if head[0] == 3 {
        let mut rest = [0u8; 2];
        s.read_exact(&mut rest).await?;
        (
            vec![head[0], head[1], rest[0], rest[1]],
            usize::from(u16::from_be_bytes(rest)),
        )
    } else if head[1] & 0x80 != 0 {
        let low = s.read_u8().await?;
        (
            vec![head[0], head[1], low],
            usize::from(head[1] & 0x7F) << 8 | usize::from(low),
        )
    } else {
        (head.to_vec(), usize::from(head[1]))
    };
    if length < frame.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a client frame shorter than its header",
        ));
    }
    let start = frame.len();
    frame.resize(length, 0);
    s.read_exact(&mut frame[start..]).await?;
    Ok(frame)
}

/// The MCS PDU in a client TPKT, if it is one.
fn mcs(frame: &[u8]) -> Option<McsMessage<'_>> {
    ironrdp_core::decode::<X224<McsMessage<'_>>>(frame)
        .ok()
        .map(|x| x.0)
}

/// A TPKT header (T.123 §8: version 3, reserved, length of the whole packet) before `payload`.
pub fn tpkt(payload: &[u8]) -> Vec<u8> {
    let length = u16::try_from(payload.len() + 4).expect("a test TPKT fits 64 KiB");
    let mut out = vec![3, 0];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An X.224 Data TPDU (X.224 §13.7: length indicator 2, code 0xF0, EOT) in a TPKT.
pub fn x224_data(payload: &[u8]) -> Vec<u8> {
    let mut body = vec![2, 0xF0, 0x80];
    body.extend_from_slice(payload);
    tpkt(&body)
}

/// An X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2) with `code` as its TPDU code (0xD0 is
/// the right one) and an RDP Negotiation Response (type 2) or Failure (type 3) carrying
/// `value`: the selected protocol or the failure code.
pub fn connection_confirm_raw(code: u8, neg_type: u8, value: u32) -> Vec<u8> {
    let mut body = vec![14, code, 0, 0, 0x12, 0x34, 0];
    body.extend_from_slice(&[neg_type, 0, 8, 0]);
    body.extend_from_slice(&value.to_le_bytes());
    tpkt(&body)
}

pub fn connection_confirm(protocol: u32) -> Vec<u8> {
    connection_confirm_raw(0xD0, 2, protocol)
}

/// Reads the client's X.224 Connection Request and selects TLS.
pub async fn negotiate(tcp: &mut TcpStream) -> io::Result<()> {
    read_frame(tcp).await?;
    tcp.write_all(&connection_confirm(PROTOCOL_SSL)).await
}

/// X.224 negotiation and the TLS upgrade (MS-RDPBCGR 5.4.5.1).
pub async fn until_tls(mut tcp: TcpStream) -> io::Result<Tls> {
    negotiate(&mut tcp).await?;
    acceptor().accept(tcp).await
}

/// The BER MCS Connect Response (T.125 §11.2) around an honest GCC Conference Create Response
/// (MS-RDPBCGR 2.2.1.4): RDP 5+, no Standard RDP Security (TLS does it), only the I/O
/// channel, no static channels.
pub fn connect_response_ber() -> Vec<u8> {
    let blocks = ServerGccBlocks {
        core: ServerCoreData {
            version: RdpVersion::V5_PLUS,
            optional_data: ServerCoreOptionalData {
                client_requested_protocols: Some(SecurityProtocol::SSL),
                early_capability_flags: None,
            },
        },
        network: ServerNetworkData {
            channel_ids: Vec::new(),
            io_channel: IO_CHANNEL,
        },
        security: ServerSecurityData::no_security(),
        message_channel: None,
        multi_transport_channel: None,
    };
    let response = ConnectResponse {
        conference_create_response: ConferenceCreateResponse::new(SERVER_CHANNEL, blocks)
            .expect("the GCC blocks encode"),
        called_connect_id: 0,
        domain_parameters: DomainParameters::target(),
    };
    encode_vec(&response).expect("the Connect Response encodes")
}

fn encoded_mcs(message: McsMessage<'_>) -> Vec<u8> {
    encode_vec(&X224(message)).expect("an MCS PDU encodes")
}

/// An MCS Send Data Indication (T.125 §11.33) from the server on `channel`.
pub fn send_data_indication(channel: u16, user_data: &[u8]) -> Vec<u8> {
    encoded_mcs(McsMessage::SendDataIndication(
        ironrdp_pdu::mcs::SendDataIndication {
            initiator_id: SERVER_CHANNEL,
            channel_id: channel,
            user_data: Cow::Borrowed(user_data),
        },
    ))
}

/// After TLS: the MCS Connect Response, Attach User Confirm, a confirm for every channel the
/// client joins, up to the client's Info PDU (MS-RDPBCGR 1.3.1.1, phases 2 to 6).
pub async fn until_client_info(s: &mut Tls, connect_response: &[u8]) -> io::Result<()> {
    read_frame(s).await?; // MCS Connect Initial
    s.write_all(&x224_data(connect_response)).await?;
    loop {
        let frame = read_frame(s).await?;
        match mcs(&frame) {
            Some(McsMessage::AttachUserRequest(_)) => {
                s.write_all(&encoded_mcs(McsMessage::AttachUserConfirm(
                    AttachUserConfirm {
                        result: 0,
                        initiator_id: USER_CHANNEL,
                    },
                )))
                .await?;
            }
            Some(McsMessage::ChannelJoinRequest(join)) => {
                s.write_all(&encoded_mcs(McsMessage::ChannelJoinConfirm(
                    ChannelJoinConfirm {
                        result: 0,
                        initiator_id: USER_CHANNEL,
                        requested_channel_id: join.channel_id,
                        channel_id: join.channel_id,
                    },
                )))
                .await?;
            }
            // The Client Info PDU (2.2.1.11) on the I/O channel.
            Some(McsMessage::SendDataRequest(_)) => return Ok(()),
            // Erect Domain Request: nothing to answer.
            _ => {}
        }
    }
}

/// A licensing PDU (MS-RDPBCGR 2.2.1.12): a basic security header with SEC_LICENSE_PKT, the
/// preamble (MS-RDPELE 2.2.1.1, wMsgSize given), then `body`.
pub fn license_pdu(message_type: u8, msg_size: u16, body: &[u8]) -> Vec<u8> {
    let mut pdu = vec![0x80, 0x00, 0x00, 0x00, message_type, 0x03];
    pdu.extend_from_slice(&msg_size.to_le_bytes());
    pdu.extend_from_slice(body);
    send_data_indication(IO_CHANNEL, &pdu)
}

/// MS-RDPBCGR 2.2.1.12.1.3 / MS-RDPELE 2.2.2.7.1: ERROR_ALERT with STATUS_VALID_CLIENT and
/// ST_NO_TRANSITION: the server needs no license from this client.
pub fn license_valid_client() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&7u32.to_le_bytes()); // STATUS_VALID_CLIENT
    body.extend_from_slice(&2u32.to_le_bytes()); // ST_NO_TRANSITION
    body.extend_from_slice(&[4, 0, 0, 0]); // an empty BB_ERROR_BLOB
    license_pdu(0xFF, 16, &body)
}

/// A Share Control PDU (MS-RDPBCGR 2.2.8.1.1.1.1) of `pdu_type` with `body` after the header.
pub fn share_control_raw(pdu_type: u16, body: &[u8]) -> Vec<u8> {
    let length = u16::try_from(body.len() + 6).expect("a test PDU fits 64 KiB");
    let mut pdu = length.to_le_bytes().to_vec();
    pdu.extend_from_slice(&pdu_type.to_le_bytes());
    pdu.extend_from_slice(&SERVER_CHANNEL.to_le_bytes());
    pdu.extend_from_slice(body);
    send_data_indication(IO_CHANNEL, &pdu)
}

/// A Share Data PDU (MS-RDPBCGR 2.2.8.1.1.1.2) of `pdu_type2`, uncompressed.
pub fn share_data(pdu_type2: u8, body: &[u8]) -> Vec<u8> {
    let uncompressed = u16::try_from(body.len() + 4).expect("a test PDU fits 64 KiB");
    let mut data = SHARE_ID.to_le_bytes().to_vec();
    data.extend_from_slice(&[0, 2]); // pad1, STREAM_MED
    data.extend_from_slice(&uncompressed.to_le_bytes());
    data.extend_from_slice(&[pdu_type2, 0, 0, 0]); // no compression
    data.extend_from_slice(body);
    share_control_raw(PDUTYPE_DATA, &data)
}

fn share_control(pdu: ShareControlPdu) -> Vec<u8> {
    let header = ShareControlHeader {
        share_control_pdu: pdu,
        pdu_source: SERVER_CHANNEL,
        share_id: SHARE_ID,
    };
    send_data_indication(
        IO_CHANNEL,
        &encode_vec(&header).expect("a Share Control PDU encodes"),
    )
}

/// The Server Demand Active PDU (MS-RDPBCGR 2.2.1.13.1) for a `width`×`height` desktop:
/// General (fast-path output), Bitmap (32 bpp) and Input (fast-path input) capabilities.
pub fn demand_active(width: u16, height: u16) -> Vec<u8> {
    let capability_sets = vec![
        CapabilitySet::General(General {
            major_platform_type: MajorPlatformType::UNIX,
            minor_platform_type: MinorPlatformType::UNSPECIFIED,
            protocol_version: ironrdp_pdu::rdp::capability_sets::PROTOCOL_VER,
            extra_flags: GeneralExtraFlags::FASTPATH_OUTPUT_SUPPORTED
                | GeneralExtraFlags::NO_BITMAP_COMPRESSION_HDR,
            refresh_rect_support: false,
            suppress_output_support: false,
        }),
        CapabilitySet::Bitmap(Bitmap {
            pref_bits_per_pix: 32,
            desktop_width: width,
            desktop_height: height,
            desktop_resize_flag: true,
            drawing_flags: BitmapDrawingFlags::empty(),
        }),
        CapabilitySet::Input(Input {
            input_flags: InputFlags::SCANCODES | InputFlags::FASTPATH_INPUT_2,
            keyboard_layout: 0,
            keyboard_type: None,
            keyboard_subtype: 0,
            keyboard_function_key: 0,
            keyboard_ime_filename: String::new(),
        }),
    ];
    share_control(ShareControlPdu::ServerDemandActive(ServerDemandActive {
        pdu: DemandActive {
            source_descriptor: "RDP".to_owned(),
            capability_sets,
        },
    }))
}

/// A Server Redirection PDU (MS-RDPBCGR 2.2.13.3.1) to session `session_id`.
pub fn redirection(session_id: u32) -> Vec<u8> {
    share_control(ShareControlPdu::ServerRedirect(ServerRedirectionPdu {
        session_id,
        ..ServerRedirectionPdu::default()
    }))
}

/// The Server Deactivate All PDU (MS-RDPBCGR 2.2.3.1).
pub fn deactivate_all() -> Vec<u8> {
    let mut body = SHARE_ID.to_le_bytes().to_vec();
    body.extend_from_slice(&[1, 0, 0]); // lengthSourceDescriptor 1, one zero byte
    share_control_raw(PDUTYPE_DEACTIVATEALL, &body)
}

/// The server's half of finalization (MS-RDPBCGR 1.3.1.1 phase 10): Synchronize (2.2.1.19),
/// Control Cooperate and Granted Control (2.2.1.20, 2.2.1.21), Font Map (2.2.1.22).
pub fn finalization() -> Vec<u8> {
    let mut out = share_data(PDUTYPE2_SYNCHRONIZE, &[1, 0, 0xEF, 0x03]);
    out.extend(share_data(PDUTYPE2_CONTROL, &[4, 0, 0, 0, 0, 0, 0, 0]));
    let mut granted = vec![2, 0];
    granted.extend_from_slice(&USER_CHANNEL.to_le_bytes());
    granted.extend_from_slice(&u32::from(SERVER_CHANNEL).to_le_bytes());
    out.extend(share_data(PDUTYPE2_CONTROL, &granted));
    out.extend(share_data(PDUTYPE2_FONTMAP, &[0, 0, 0, 0, 3, 0, 4, 0]));
    out
}

/// Whether `frame` is the client's Font List PDU (MS-RDPBCGR 2.2.1.18), its last of
/// finalization.
fn is_font_list(frame: &[u8]) -> bool {
    let Some(McsMessage::SendDataRequest(request)) = mcs(frame) else {
        return false;
    };
    matches!(
        ironrdp_core::decode::<ShareControlHeader>(&request.user_data),
        Ok(ShareControlHeader {
            share_control_pdu: ShareControlPdu::Data(ref data),
            ..
        }) if matches!(data.share_data_pdu, ShareDataPdu::FontList(_))
    )
}

/// Reads the client's frames up to its Font List (Confirm Active, Synchronize, Control …).
pub async fn until_font_list(s: &mut Tls) -> io::Result<()> {
    while !is_font_list(&read_frame(s).await?) {}
    Ok(())
}

/// Licensing, capabilities and finalization for a `width`×`height` desktop, after the
/// client's Info PDU.
pub async fn activate(s: &mut Tls, width: u16, height: u16) -> io::Result<()> {
    s.write_all(&license_valid_client()).await?;
    s.write_all(&demand_active(width, height)).await?;
    until_font_list(s).await?;
    s.write_all(&finalization()).await
}

/// The whole connection sequence: the session is up with a `width`×`height` desktop.
pub async fn connected(tcp: TcpStream, width: u16, height: u16) -> io::Result<Tls> {
    let mut s = until_tls(tcp).await?;
    until_client_info(&mut s, &connect_response_ber()).await?;
    activate(&mut s, width, height).await?;
    Ok(s)
}

/// A fast-path output PDU (MS-RDPBCGR 2.2.9.1.2) holding `updates`, its length field saying
/// `length` (the honest one is the whole PDU's; at most 0x7FFF).
pub fn fast_path_with_length(updates: &[u8], length: u16) -> Vec<u8> {
    let length = length.to_be_bytes();
    let mut out = vec![0x00, 0x80 | length[0], length[1]];
    out.extend_from_slice(updates);
    out
}

pub fn fast_path(updates: &[u8]) -> Vec<u8> {
    let length = u16::try_from(updates.len() + 3).expect("a fast-path PDU fits 32 KiB");
    assert!(length <= 0x7FFF, "a fast-path PDU fits 32 KiB");
    fast_path_with_length(updates, length)
}

/// One fast-path update (MS-RDPBCGR 2.2.9.1.2.1): code, no fragmentation, no compression.
pub fn fast_path_update(code: u8, data: &[u8]) -> Vec<u8> {
    let size = u16::try_from(data.len()).expect("a fast-path update fits 64 KiB");
    let mut out = vec![code & 0x0F];
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// TS_BITMAP_DATA (MS-RDPBCGR 2.2.9.1.1.3.1.2.2): destination (inclusive), the bitmap's
/// size and depth, flags, then `data` with its length.
#[derive(Debug, Clone)]
pub struct BitmapRect<'a> {
    pub left: u16,
    pub top: u16,
    pub right: u16,
    pub bottom: u16,
    pub width: u16,
    pub height: u16,
    pub bpp: u16,
    pub flags: u16,
    pub data: &'a [u8],
}

/// BITMAP_COMPRESSION | NO_BITMAP_COMPRESSION_HDR (MS-RDPBCGR 2.2.9.1.1.3.1.2.2).
pub const COMPRESSED: u16 = 0x0401;

/// A fast-path Bitmap Update (TS_UPDATE_BITMAP_DATA, 2.2.9.1.1.3.1.2) of `rects`.
pub fn bitmap_update(rects: &[BitmapRect<'_>]) -> Vec<u8> {
    let mut data = vec![1, 0]; // UPDATETYPE_BITMAP
    data.extend_from_slice(&u16::try_from(rects.len()).expect("few").to_le_bytes());
    for r in rects {
        for v in [
            r.left, r.top, r.right, r.bottom, r.width, r.height, r.bpp, r.flags,
        ] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let length = u16::try_from(r.data.len()).expect("a test bitmap fits 64 KiB");
        data.extend_from_slice(&length.to_le_bytes());
        data.extend_from_slice(r.data);
    }
    fast_path(&fast_path_update(FASTPATH_BITMAP, &data))
}

/// An uncompressed 32-bpp `width`×`height` bitmap of one colour at (`x`, `y`), as fast-path
/// updates of at most 16 rows each (each PDU fits in 32 KiB).
pub fn solid(x: u16, y: u16, width: u16, height: u16, rgb: [u8; 3]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut top = 0;
    while top < height {
        let rows = (height - top)
            .min(16)
            .min(32_000 / (u32::from(width) * 4).max(1) as u16);
        let pixel = [rgb[2], rgb[1], rgb[0], 0xFF];
        let data = pixel.repeat(usize::from(width) * usize::from(rows));
        out.extend(bitmap_update(&[BitmapRect {
            left: x,
            top: y + top,
            right: x + width - 1,
            bottom: y + top + rows - 1,
            width,
            height: rows,
            bpp: 32,
            flags: 0,
            data: &data,
        }]));
        top += rows;
    }
    out
}
