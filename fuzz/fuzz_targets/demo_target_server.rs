//! The demo target's RFB server on arbitrary bytes from a client: never panics, never grows
//! without bound.
#![no_main]

use hoshu_demo_target::{Connection, Desktop, ServerConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut desktop = Desktop::new();
    let config = ServerConfig {
        name: "fuzz".to_owned(),
        password: None,
    };
    let mut connection = Connection::new(config, [7; 16]);
    let _ = connection.take_output(&desktop);
    // A valid opening so the fuzzer starts in the message phase more often than not.
    let mut input = b"RFB 003.008\n\x01\x01".to_vec();
    input.extend_from_slice(data);
    for piece in input.chunks(64) {
        if connection.receive(piece, &mut desktop).is_err() {
            break;
        }
        let _ = connection.take_output(&desktop);
    }
});
