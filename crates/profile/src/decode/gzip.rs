//! gzip streams as `zcat` reads them: every member in turn, and trailing
//! zeros after the last one ignored (with a warning) rather than refused.
//!
//! Some tools pad what they write (a tape-style block size, a file system
//! image): `zcat` says "decompression OK, trailing zero bytes ignored" and
//! goes on. Anything else after a member is not gzip and stays an error.

use std::io::{BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use flate2::bufread::GzDecoder;

/// Reads the members of a gzip stream one after another.
pub(crate) struct Members<R: BufRead> {
    /// The member being read, or the input between members.
    state: State<R>,
    /// Set once trailing zeros were skipped.
    padded: Arc<AtomicBool>,
}

enum State<R: BufRead> {
    Member(Box<GzDecoder<R>>),
    Between(R),
    Done,
}

impl<R: BufRead> Members<R> {
    /// A reader of the members of `input`; `padded` is set when zeros
    /// after the last member were skipped.
    pub(crate) fn new(input: R, padded: Arc<AtomicBool>) -> Self {
        Members {
            state: State::Member(Box::new(GzDecoder::new(input))),
            padded,
        }
    }

    /// After a member: the next one, the end, or an error.
    fn next_member(&mut self, mut input: R) -> std::io::Result<()> {
        let more = input.fill_buf()?;
        if more.is_empty() {
            self.state = State::Done;
        } else if more.starts_with(&[0x1f, 0x8b]) || more.len() == 1 && more[0] == 0x1f {
            self.state = State::Member(Box::new(GzDecoder::new(input)));
        } else if more.iter().all(|&b| b == 0) {
            skip_zeros(&mut input)?;
            self.padded.store(true, Ordering::Relaxed);
            self.state = State::Done;
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "data after the end of the gzip stream that is neither gzip nor padding",
            ));
        }
        Ok(())
    }
}

/// Consumes `input` to its end, all zeros, or fails.
fn skip_zeros(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if buf.iter().any(|&b| b != 0) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "data after the end of the gzip stream that is neither gzip nor padding",
            ));
        }
        let n = buf.len();
        input.consume(n);
    }
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Ok(0),
                State::Member(mut member) => {
                    let n = member.read(buf)?;
                    if n > 0 || buf.is_empty() {
                        self.state = State::Member(member);
                        return Ok(n);
                    }
                    self.state = State::Between(member.into_inner());
                }
                State::Between(input) => self.next_member(input)?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn read(input: &[u8]) -> (std::io::Result<Vec<u8>>, bool) {
        let padded = Arc::new(AtomicBool::new(false));
        let mut out = Vec::new();
        let r = Members::new(std::io::BufReader::with_capacity(7, input), padded.clone())
            .read_to_end(&mut out)
            .map(|_| out);
        (r, padded.load(Ordering::Relaxed))
    }

    #[test]
    fn members_are_read_in_turn_and_padding_is_skipped() {
        let mut two = gzip(b"abc");
        two.extend(gzip(b"def"));
        assert_eq!(read(&two).0.unwrap(), b"abcdef");
        assert!(!read(&two).1);
        let mut padded = two.clone();
        padded.extend([0; 1000]);
        let (out, was_padded) = read(&padded);
        assert_eq!(out.unwrap(), b"abcdef");
        assert!(was_padded);
        let mut garbage = two;
        garbage.extend(b"\0\0junk");
        assert!(read(&garbage).0.is_err());
        let mut cut = gzip(b"abcdef");
        cut.truncate(cut.len() - 3);
        assert!(read(&cut).0.is_err(), "a cut member is an error");
    }
}
