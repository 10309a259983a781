//! VNC Authentication, RFC 6143 §7.2.2. The response itself is computed by the RFB client
//! crate's [`hoshu_rfb::vnc_auth_response`]: client and server must agree on it byte for byte.

pub(crate) use hoshu_rfb::vnc_auth_response as expected_response;

/// Compares without an early exit, so timing does not reveal how many bytes matched.
pub(crate) fn responses_match(a: &[u8; 16], b: &[u8]) -> bool {
    b.len() == 16 && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
