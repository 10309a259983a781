//! The RFB client on arbitrary bytes from a hostile VNC server: after a valid handshake (so the
//! fuzzer reaches the update decoders quickly) or from the first byte. It must never panic, and
//! the limits must hold memory to what they allow.
#![no_main]

use hoshu_rfb::{Client, ClientConfig};
use libfuzzer_sys::fuzz_target;

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

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let mut client = Client::new(ClientConfig::default());
    if control & 1 == 1 {
        let _ = client.receive(&handshake());
    }
    let chunk = usize::from(control >> 1) + 1;
    for piece in input.chunks(chunk) {
        if client.receive(piece).is_err() {
            break;
        }
        while client.next_event().is_some() {}
        let _ = client.take_output();
    }
});
