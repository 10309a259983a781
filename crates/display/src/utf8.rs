//! Text from a byte stream that may split characters between reads.

/// Turns a byte stream into text without breaking characters split between reads: an
/// incomplete sequence at the end waits for the next bytes; invalid bytes become U+FFFD.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    carry: Vec<u8>,
}

impl Utf8Stream {
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        let mut input = std::mem::take(&mut self.carry);
        input.extend_from_slice(bytes);
        let mut text = String::with_capacity(input.len());
        let mut rest = input.as_slice();
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            text.push('\u{fffd}');
                            rest = &after[n..];
                        }
                        None => {
                            self.carry = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_split_between_reads_and_invalid_bytes() {
        let mut s = Utf8Stream::default();
        let bytes = "日本".as_bytes();
        assert_eq!(s.decode(&bytes[..2]), "");
        assert_eq!(s.decode(&bytes[2..4]), "日");
        assert_eq!(s.decode(&bytes[4..]), "本");
        assert_eq!(s.decode(b"a\xffb"), "a\u{fffd}b");
    }
}
