//! Reading big-endian fields from the bytes received so far.
//!
//! A parse step reads everything one protocol unit needs before it changes
//! any state; when the bytes run out it stops with [`Stop::Incomplete`] and
//! is run again, from the same place, once more bytes arrive. That is what
//! makes any chunking of the input give the same result.

use crate::error::RfbError;

/// Why a parse step did not finish.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Wait for more bytes; nothing was changed.
    Incomplete,
    /// The session ends.
    Fail(RfbError),
}

impl From<RfbError> for Stop {
    fn from(error: RfbError) -> Self {
        Stop::Fail(error)
    }
}

pub(crate) type Step<T> = Result<T, Stop>;

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub(crate) fn consumed(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Step<&'a [u8]> {
        if self.remaining() < n {
            return Err(Stop::Incomplete);
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Step<[u8; N]> {
        let mut out = [0; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Step<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Step<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Step<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn i32(&mut self) -> Step<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub(crate) fn skip(&mut self, n: usize) -> Step<()> {
        self.bytes(n).map(|_| ())
    }
}

/// Reads a length-prefixed string (u32 length, then bytes) after checking
/// the length against `limit`, so a hostile length never reaches an
/// allocation or a wait for gigabytes.
pub(crate) fn bounded_bytes<'a>(
    reader: &mut Reader<'a>,
    what: &'static str,
    limit: u32,
) -> Step<&'a [u8]> {
    let len = reader.u32()?;
    if len > limit {
        return Err(RfbError::limit(what, len, limit).into());
    }
    reader.bytes(len as usize)
}

/// Text from the server: UTF-8 when it is valid UTF-8, otherwise Latin-1
/// (what RFB 3.3-era servers send).
pub(crate) fn server_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => latin1(bytes),
    }
}

pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}
