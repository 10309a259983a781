//! The demo target's RFB server on what a VNC client sends.

use hoshu_demo_target::{Connection, Desktop, ServerConfig};

/// The demo target's RFB server on arbitrary bytes from a client: never panics, never grows
/// without bound (libFuzzer's `-rss_limit_mb`).
///
/// Input: the client's messages. A valid opening (RFB 3.8, security None, ClientInit shared)
/// comes first, so the fuzzer spends its time on the message phase; the handshake has its own
/// unit and property tests in the crate.
pub fn demo_target_server(data: &[u8]) {
    let mut desktop = Desktop::new();
    let config = ServerConfig {
        name: "fuzz".to_owned(),
        password: None,
    };
    let mut connection = Connection::new(config, [7; 16]);
    let _ = connection.take_output(&desktop);
    let mut input = b"RFB 003.008\n\x01\x01".to_vec();
    input.extend_from_slice(data);
    for piece in input.chunks(64) {
        if connection.receive(piece, &mut desktop).is_err() {
            break;
        }
        let _ = connection.take_output(&desktop);
    }
}
