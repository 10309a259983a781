//! VNC Authentication, RFC 6143 §7.2.2.

use des::Des;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockEncrypt, KeyInit};

/// The response a client holding `password` gives to `challenge`: DES-ECB of the two 8-byte
/// halves of the challenge, keyed by the first 8 password bytes (zero-padded) with the bits of
/// each byte reversed, as the original VNC implementation did. Longer passwords are truncated.
pub(crate) fn expected_response(password: &str, challenge: &[u8; 16]) -> [u8; 16] {
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

/// Compares without an early exit, so timing does not reveal how many bytes matched.
pub(crate) fn responses_match(a: &[u8; 16], b: &[u8]) -> bool {
    b.len() == 16 && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
