//! zstd streams as `zstdcat` reads them: frame after frame (heaptrack
//! writes its captures through zstd).
//!
//! Decompressed by `ruzstd` (pure Rust), whose window is capped at 128 MiB,
//! the most zstd itself decompresses without being told otherwise: a
//! frame asking for more is refused before anything is allocated for it.
//! Anything after a frame that is not another frame is an error.

use std::io::{BufRead, Read};

use ruzstd::decoding::{FrameDecoder, StreamingDecoder};

/// The magic number a zstd frame starts with.
const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Whether `bytes` start a zstd frame.
pub(crate) fn is_zstd(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Reads the frames of a zstd stream one after another.
pub(crate) struct Frames<R: BufRead> {
    state: State<R>,
}

enum State<R: BufRead> {
    Frame(Box<StreamingDecoder<R, FrameDecoder>>),
    Between(R),
    Done,
}

fn corrupt(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
}

impl<R: BufRead> Frames<R> {
    pub(crate) fn new(input: R) -> Self {
        Frames {
            state: State::Between(input),
        }
    }

    /// Between frames: the next one, the end, or an error.
    fn next_frame(&mut self, mut input: R) -> std::io::Result<()> {
        let more = input.fill_buf()?;
        if more.is_empty() {
            self.state = State::Done;
        } else if is_zstd(more) || MAGIC.starts_with(more) {
            let frame = StreamingDecoder::new(input).map_err(corrupt)?;
            self.state = State::Frame(Box::new(frame));
        } else {
            return Err(corrupt(
                "data after the end of the zstd stream that is not another zstd frame",
            ));
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Ok(0),
                State::Frame(mut frame) => {
                    let n = frame.read(buf)?;
                    if n > 0 || buf.is_empty() {
                        self.state = State::Frame(frame);
                        return Ok(n);
                    }
                    if !frame.decoder.is_finished() {
                        return Err(corrupt("the zstd stream ends inside a frame"));
                    }
                    self.state = State::Between(frame.into_inner());
                }
                State::Between(input) => self.next_frame(input)?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `abc` and `def` as two frames, as `zstd -c` wrote them.
    const ABC: &[u8] = &[
        0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x19, 0x00, 0x00, 0x61, 0x62, 0x63, 0x99, 0x09, 0x77,
        0xad,
    ];
    const DEF: &[u8] = &[
        0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x19, 0x00, 0x00, 0x64, 0x65, 0x66, 0xa8, 0xd5, 0x53,
        0xdb,
    ];

    fn read(input: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Frames::new(std::io::BufReader::with_capacity(5, input))
            .read_to_end(&mut out)
            .map(|_| out)
    }

    #[test]
    fn frames_are_read_in_turn_and_cuts_and_garbage_fail() {
        assert_eq!(read(ABC).unwrap(), b"abc");
        let two = [ABC, DEF].concat();
        assert_eq!(read(&two).unwrap(), b"abcdef");
        for cut in [5, 10, ABC.len() + 6, two.len() - 1] {
            assert!(read(&two[..cut]).is_err(), "cut at {cut}");
        }
        let e = read(&[ABC, b"junk"].concat()).unwrap_err().to_string();
        assert!(e.contains("not another zstd frame"), "{e}");
    }
}
