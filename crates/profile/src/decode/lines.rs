//! Reading a text profile line by line from any reader, a chunk at a time.
//!
//! The text formats (jemalloc, gperftools and Go text, folded stacks) are
//! read through a [`LineReader`] instead of as one string: a profile of
//! hundreds of megabytes then costs a buffer of about a megabyte (plus its
//! longest line) instead of a copy of the whole file, whose fresh pages the
//! kernel would have to clear, and gzip-compressed text is inflated as it is
//! read. Lines come out as `str`: valid UTF-8 is borrowed from the buffer,
//! anything else converted lossily (one replacement character per invalid
//! sequence), line by line. Binary formats read the same way a field at a
//! time ([`LineReader::bytes`]): tracemalloc's pickles are unpickled as they
//! are read.
//!
//! **Cut files.** A profile copied from a crashed host or a full disk may
//! end anywhere; a text decoder that reads what is there reports wrong
//! totals without a word. The reader says whether the last line lacked
//! its newline (every producer ends its lines with one), and [`CutSigns`]
//! gathers that and each format's own signs (header totals, trailers) into
//! one `truncated? …` warning.

use std::borrow::Cow;
use std::io::{ErrorKind, Read};

use crate::error::Error;

/// How much is read at a time, at most (unless a line is longer) and at
/// first: the buffer doubles from `FIRST` to `CHUNK` while reads fill it, so
/// that a small input costs a small buffer.
const CHUNK: usize = 1 << 20;
const FIRST: usize = 16 << 10;

/// Lines of a reader, numbered from 1, without their `\n` or `\r\n`.
pub(crate) struct LineReader<R> {
    src: R,
    buf: Vec<u8>,
    /// Start of the bytes not yet returned.
    pos: usize,
    /// End of the bytes read into `buf`.
    len: usize,
    eof: bool,
    /// Whether the last read filled the buffer (more is likely to come).
    filled: bool,
    /// Bytes read so far, and the most accepted.
    read: u64,
    limit: u64,
    /// What `src` decompresses (`gzip`, `zstd`), if anything: its read
    /// errors are then corrupt data.
    compressed: Option<&'static str>,
    /// The number of the last line returned.
    line: usize,
    /// Whether the last line returned ended the input without a newline.
    unterminated: bool,
}

impl<R: Read> LineReader<R> {
    /// Lines of `src`, which may yield at most `limit` bytes (more is
    /// [`Error::TooLarge`]). `compressed` names what `src` decompresses, so
    /// that its errors are reported as corrupt data of that kind. `head` holds bytes already
    /// taken from `src`, which come first.
    pub(crate) fn new(head: Vec<u8>, src: R, limit: u64, compressed: Option<&'static str>) -> Self {
        let len = head.len();
        LineReader {
            src,
            buf: head,
            pos: 0,
            len,
            eof: false,
            filled: true,
            read: len as u64,
            limit,
            compressed,
            line: 0,
            unterminated: false,
        }
    }

    /// The next line and its number, or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> Result<Option<(usize, Cow<'_, str>)>, Error> {
        let mut searched = self.pos;
        loop {
            if let Some(i) = find_newline(&self.buf[searched..self.len]) {
                let (start, end) = (self.pos, searched + i);
                self.pos = end + 1;
                return Ok(Some(self.emit(start, end)));
            }
            if self.eof {
                if self.pos == self.len {
                    return Ok(None);
                }
                let start = self.pos;
                self.pos = self.len;
                self.unterminated = true;
                return Ok(Some(self.emit(start, self.len)));
            }
            // Whatever lies before `len` holds no newline: search only what
            // the next read brings.
            searched = self.len - self.pos;
            self.fill()?;
        }
    }

    /// The next `n` bytes, or `None` when the input ends before them (all
    /// that is left is then [`buffered`](Self::buffered)): for binary
    /// formats read a field at a time.
    #[inline]
    pub(crate) fn bytes(&mut self, n: usize) -> Result<Option<&[u8]>, Error> {
        if self.len - self.pos < n && !self.buffer(n)? {
            return Ok(None);
        }
        let start = self.pos;
        self.pos += n;
        Ok(Some(&self.buf[start..start + n]))
    }

    /// Whether `n` more bytes are there to take (read into the buffer if
    /// need be).
    pub(crate) fn ensure(&mut self, n: usize) -> Result<bool, Error> {
        Ok(self.len - self.pos >= n || self.buffer(n)?)
    }

    /// Up to `n` of the next bytes without taking them (fewer only at the
    /// end of the input), for a reader that looks ahead.
    pub(crate) fn peek(&mut self, n: usize) -> Result<&[u8], Error> {
        self.ensure(n)?;
        Ok(&self.buf[self.pos..self.len.min(self.pos + n)])
    }

    /// Takes `n` bytes already seen through [`peek`](Self::peek).
    pub(crate) fn skip(&mut self, n: usize) {
        assert!(n <= self.len - self.pos, "skipping bytes not buffered");
        self.pos += n;
    }

    /// The next byte, or `None` at the end of the input.
    #[inline]
    pub(crate) fn byte(&mut self) -> Result<Option<u8>, Error> {
        Ok(self.bytes(1)?.map(|b| b[0]))
    }

    /// How many bytes were taken from the input: the offset of the next one.
    pub(crate) fn offset(&self) -> u64 {
        self.read - (self.len - self.pos) as u64
    }

    /// The number of the last line returned (0 before the first).
    pub(crate) fn line_number(&self) -> usize {
        self.line
    }

    /// Whether the last line returned ended the input without a newline:
    /// the input may have been cut in the middle of it.
    pub(crate) fn ended_mid_line(&self) -> bool {
        self.unterminated
    }

    /// `err`, saying that the input may be cut when it is about the last
    /// line and that line has no newline: the bytes a decoder could not
    /// read are then likely the start of a line whose end is missing.
    pub(crate) fn explain_cut(&self, err: Error) -> Error {
        match err {
            Error::Text { line, message } if self.unterminated && line == self.line => {
                Error::Text {
                    line,
                    message: format!("{message} (the last line, without a newline: truncated?)"),
                }
            }
            other => other,
        }
    }

    /// The bytes read but not yet taken (at the end of the input, all that
    /// is left of it).
    pub(crate) fn buffered(&self) -> usize {
        self.len - self.pos
    }

    /// Reads the rest of the input and drops it: for a format that ends
    /// before its file does (a pickle's `STOP`), so that a corrupt gzip
    /// stream or an input over the limit is still an error.
    pub(crate) fn finish(&mut self) -> Result<(), Error> {
        loop {
            if self.read > self.limit {
                return Err(Error::TooLarge { limit: self.limit });
            }
            self.pos = self.len;
            if self.eof {
                return Ok(());
            }
            self.fill()?;
        }
    }

    /// Reads until at least `n` bytes are buffered; false if the input ends
    /// first. The buffer grows with what is actually read, so a length
    /// field claiming more than the input holds costs no more than the
    /// input.
    #[cold]
    fn buffer(&mut self, n: usize) -> Result<bool, Error> {
        while self.len - self.pos < n {
            if self.eof {
                return Ok(false);
            }
            self.fill()?;
        }
        Ok(true)
    }

    fn emit(&mut self, start: usize, end: usize) -> (usize, Cow<'_, str>) {
        self.line += 1;
        let mut bytes = &self.buf[start..end];
        if self.line == 1 {
            // A byte-order mark some editors write: not part of the text.
            bytes = crate::decode::format::skip_utf8_bom(bytes);
        }
        if let [rest @ .., b'\r'] = bytes {
            bytes = rest;
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        (self.line, text)
    }

    /// Moves the unreturned bytes to the front and reads more after them.
    fn fill(&mut self) -> Result<(), Error> {
        // The head given to `new` counts too; no input ends without a fill.
        if self.read > self.limit {
            return Err(Error::TooLarge { limit: self.limit });
        }
        self.buf.copy_within(self.pos..self.len, 0);
        self.len -= self.pos;
        self.pos = 0;
        // A line longer than half the buffer grows it (the input limit
        // bounds it), and so does a read that filled it, up to `CHUNK`.
        let room = self.buf.len() - self.len;
        if room < self.buf.len() / 2 || room < FIRST || (self.filled && self.buf.len() < CHUNK) {
            let want = (self.buf.len() * 2).max(self.len + FIRST);
            self.buf.resize(want, 0);
        }
        let n = loop {
            match self.src.read(&mut self.buf[self.len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(match self.compressed {
                        Some(what) => Error::Decompress(what, e),
                        None => Error::Io(e),
                    });
                }
            }
        };
        if n == 0 {
            self.eof = true;
            return Ok(());
        }
        self.filled = self.len + n == self.buf.len();
        self.len += n;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(Error::TooLarge { limit: self.limit });
        }
        Ok(())
    }
}

/// The signs that a text profile was cut short, gathered while it is
/// decoded and said in one warning: `truncated? SIGN; SIGN`, a cause first
/// when one is known.
#[derive(Default)]
pub(crate) struct CutSigns {
    cause: Option<&'static str>,
    signs: Vec<String>,
}

impl CutSigns {
    /// Adds a sign, e.g. `the dump ends without its MAPPED_LIBRARIES: section`.
    pub(crate) fn add(&mut self, sign: impl Into<String>) {
        self.signs.push(sign.into());
    }

    /// Names what likely cut the file, said before the signs.
    pub(crate) fn set_cause(&mut self, cause: &'static str) {
        self.cause = Some(cause);
    }

    /// Adds the sign of a last line without its newline, if `lines` ended
    /// so.
    pub(crate) fn check_last_line<R: Read>(&mut self, lines: &LineReader<R>) {
        if lines.ended_mid_line() {
            self.add(format!(
                "the last line ({}) ends without a newline",
                lines.line_number()
            ));
        }
    }

    /// The warning, if there is any sign.
    pub(crate) fn warning(self) -> Option<String> {
        if self.signs.is_empty() {
            return None;
        }
        let cause = self.cause.map(|c| format!("{c}; ")).unwrap_or_default();
        Some(format!("truncated? {cause}{}", self.signs.join("; ")))
    }
}

#[cfg(test)]
impl<'a> LineReader<&'a [u8]> {
    /// Lines of a string already in memory.
    pub(crate) fn of_str(text: &'a str) -> Self {
        LineReader::new(Vec::new(), text.as_bytes(), u64::MAX, None)
    }
}

fn find_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `r`, as owned strings with their numbers.
    fn all<R: Read>(mut r: LineReader<R>) -> Result<Vec<(usize, String)>, Error> {
        let mut out = Vec::new();
        while let Some((n, line)) = r.next_line()? {
            out.push((n, line.into_owned()));
        }
        Ok(out)
    }

    /// A reader that hands out at most `step` bytes per read.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn bytes_come_out_in_order_whatever_the_read_sizes() {
        let input: Vec<u8> = (0..=255u8).cycle().take(3 * CHUNK + 5).collect();
        for step in [1, 7, 4096, CHUNK] {
            let mut r = LineReader::new(
                input[..3].to_vec(),
                Trickle {
                    bytes: &input[3..],
                    step,
                },
                u64::MAX,
                None,
            );
            let mut got = Vec::new();
            // Field sizes from a byte to more than a buffer.
            for n in [1, 2, 300, CHUNK + 1, 5].into_iter().cycle() {
                assert_eq!(r.offset(), got.len() as u64);
                match r.bytes(n).unwrap() {
                    Some(b) => got.extend_from_slice(b),
                    None => break,
                }
            }
            // What was left when a field ran past the end is still there.
            let left = r.buffered();
            assert_eq!(got.len() + left, input.len(), "step {step}");
            got.extend_from_slice(r.bytes(left).unwrap().unwrap());
            assert_eq!(got, input, "step {step}");
            assert_eq!(r.byte().unwrap(), None);
            assert!(!r.ensure(1).unwrap());
        }
    }

    #[test]
    fn a_field_past_the_limit_is_too_large() {
        let input = [0u8; 100];
        let mut r = LineReader::new(Vec::new(), &input[..], 50, None);
        assert!(matches!(r.bytes(80), Err(Error::TooLarge { limit: 50 })));
    }

    #[test]
    fn lines_match_str_lines_whatever_the_read_sizes() {
        let long = "x".repeat(3 * CHUNK + 17);
        let texts = [
            String::new(),
            "\n".to_owned(),
            "a".to_owned(),
            "a\nb".to_owned(),
            "a\r\nb\r\n\r\nc\n".to_owned(),
            "a\n\n\nb\n".to_owned(),
            format!("first\n{long}\nlast"),
            format!("{long}\n{long}\n"),
        ];
        for text in &texts {
            let want: Vec<(usize, String)> = text
                .lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.to_owned()))
                .collect();
            // Byte-sized reads only of the short texts (slow in debug builds).
            let steps: &[usize] = match text.len() < 4096 {
                true => &[1, 2, 7, 4096, usize::MAX],
                false => &[4093, 65536, usize::MAX],
            };
            for &step in steps {
                let src = Trickle {
                    bytes: text.as_bytes(),
                    step,
                };
                let got = all(LineReader::new(Vec::new(), src, u64::MAX, None)).unwrap();
                assert!(got == want, "step {step}, text of {} bytes", text.len());
            }
            // Part of the input already read, as a sniffed head is.
            let cut = text.len() / 3;
            let head = text.as_bytes()[..cut].to_vec();
            let got = all(LineReader::new(
                head,
                &text.as_bytes()[cut..],
                u64::MAX,
                None,
            ))
            .unwrap();
            assert!(got == want, "head of {cut} bytes");
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_line_by_line() {
        let bytes = b"ok\n\xff\xfeab\ncaf\xc3\n\xc3\xa9\n";
        let got = all(LineReader::new(Vec::new(), &bytes[..], u64::MAX, None)).unwrap();
        let want = String::from_utf8_lossy(bytes);
        let want: Vec<(usize, String)> = want
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.to_owned()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(got[1].1, "\u{fffd}\u{fffd}ab");
    }

    #[test]
    fn input_beyond_the_limit_is_refused() {
        let text = "line\n".repeat(1000);
        let r = LineReader::new(Vec::new(), text.as_bytes(), 4999, None);
        assert!(matches!(all(r), Err(Error::TooLarge { limit: 4999 })));
        let r = LineReader::new(Vec::new(), text.as_bytes(), 5000, None);
        assert_eq!(all(r).unwrap().len(), 1000);
        // Bytes already read (a sniffed head) count.
        let r = LineReader::new(text.as_bytes().to_vec(), &b""[..], 4999, None);
        assert!(matches!(all(r), Err(Error::TooLarge { limit: 4999 })));
    }

    #[test]
    fn a_last_line_without_its_newline_is_noticed() {
        for (text, mid_line) in [
            ("a\nb\n", false),
            ("a\nb", true),
            ("", false),
            ("a\r\n", false),
        ] {
            let mut r = LineReader::of_str(text);
            while r.next_line().unwrap().is_some() {}
            assert_eq!(r.ended_mid_line(), mid_line, "{text:?}");
            let mut signs = CutSigns::default();
            signs.check_last_line(&r);
            assert_eq!(signs.warning().is_some(), mid_line, "{text:?}");
        }
        let mut r = LineReader::of_str("main;a 1\nmain;b");
        while r.next_line().unwrap().is_some() {}
        let err = r.explain_cut(Error::Text {
            line: 2,
            message: "bad".into(),
        });
        assert_eq!(
            err.to_string(),
            "line 2: bad (the last line, without a newline: truncated?)"
        );
        let other = r.explain_cut(Error::Text {
            line: 1,
            message: "bad".into(),
        });
        assert_eq!(other.to_string(), "line 1: bad");
    }

    #[test]
    fn cut_signs_are_one_warning_cause_first() {
        let mut signs = CutSigns::default();
        signs.add("one");
        signs.add("two");
        assert_eq!(signs.warning().unwrap(), "truncated? one; two");
        let mut signs = CutSigns::default();
        signs.set_cause("a cause");
        assert_eq!(signs.warning(), None, "a cause alone is no sign");
        let mut signs = CutSigns::default();
        signs.set_cause("a cause");
        signs.add("one");
        assert_eq!(signs.warning().unwrap(), "truncated? a cause; one");
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        let mut r = LineReader::of_str("\u{feff}heap_v2/4096\n\u{feff}x\n");
        assert_eq!(r.next_line().unwrap().unwrap().1, "heap_v2/4096");
        assert_eq!(
            r.next_line().unwrap().unwrap().1,
            "\u{feff}x",
            "only at the start"
        );
    }

    #[test]
    fn read_errors_name_their_cause() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::new(ErrorKind::InvalidData, "bad block"))
            }
        }
        let gz = all(LineReader::new(
            b"a\nb".to_vec(),
            Broken,
            u64::MAX,
            Some("gzip"),
        ));
        assert_eq!(gz.unwrap_err().to_string(), "corrupt gzip data: bad block");
        let io = all(LineReader::new(Vec::new(), Broken, u64::MAX, None));
        assert_eq!(io.unwrap_err().to_string(), "cannot read: bad block");
    }
}
