//! The decoders: reading an input (a file, standard input or bytes),
//! decompressing it, sniffing its format, and one module per format, each
//! feeding a [`crate::ProfileBuilder`]. Everything here that touches files
//! is in this module; the model ([`crate::Profile`]) does no I/O.

pub(crate) mod budget;
pub(crate) mod dhat;
mod folded;
pub(crate) mod format;
mod gzip;
mod heaptrack;
mod jfr;
pub(crate) mod legacy;
pub(crate) mod lines;
mod massif;
mod memray;
pub mod pprof;
mod python;
mod speedscope;
mod v8;
mod zstd;

use std::io::Read;
use std::path::Path;

use crate::{Budget, DecodeOptions, Error, Format, Profile};
use format::{is_gzip, sniff};

/// The largest input read, decompressed, unless [`DecodeOptions::max_input`]
/// says otherwise: 2 GiB.
pub const DEFAULT_MAX_INPUT: u64 = 2 << 30;

/// An input to read: a file or standard input.
struct Source<'a> {
    reader: Box<dyn Read + 'a>,
    /// The size of a regular file.
    size: Option<u64>,
    /// A regular file's last four bytes: a gzip file's ISIZE, the size it
    /// inflates to (modulo 2^32), which sizes the buffer it inflates into.
    tail: Option<[u8; 4]>,
}

/// A file (its size, when it is a regular file) or standard input, refusing
/// directories and regular files larger than `limit`.
fn open_source(path: &Path, limit: u64) -> Result<Source<'static>, Error> {
    if path.as_os_str() == "-" {
        return Ok(Source {
            reader: Box::new(std::io::stdin().lock()),
            size: None,
            tail: None,
        });
    }
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(Error::Io(std::io::Error::other("it is a directory")));
    }
    if meta.is_file() && meta.len() > limit {
        return Err(Error::TooLarge { limit });
    }
    let tail = if meta.is_file() && meta.len() >= 4 {
        use std::io::{Seek, SeekFrom};
        let mut tail = [0u8; 4];
        file.seek(SeekFrom::End(-4))?;
        file.read_exact(&mut tail)?;
        file.seek(SeekFrom::Start(0))?;
        Some(tail)
    } else {
        None
    };
    // A FIFO or device is read up to the limit, never further.
    Ok(Source {
        reader: Box::new(file),
        size: meta.is_file().then_some(meta.len()),
        tail,
    })
}

/// `head` followed by the rest of `src`, refusing more than `limit` bytes.
/// `size` (the file's, when known) sizes the buffer once.
fn read_rest(
    head: Vec<u8>,
    src: impl Read,
    size: Option<u64>,
    limit: u64,
    budget: &Budget,
) -> Result<Vec<u8>, Error> {
    let hint = size.map_or(0, |s| usize::try_from(s.min(limit)).unwrap_or(0));
    let out = read_to_end_into_zeroed(src, head, hint, limit, budget)
        .map_err(|e| read_error(e, budget, Error::Io))?;
    if out.len() as u64 > limit {
        return Err(Error::TooLarge { limit });
    }
    Ok(out)
}

/// How much room a read is given at least, when the buffer grows.
const READ_ROOM: usize = 64 << 10;

/// `head` followed by the rest of `src`, of at most `limit + 1` bytes in
/// all (one more than allowed, for the caller to refuse), read into a buffer
/// of `hint` bytes to start with (doubled as needed).
///
/// The buffer comes zeroed from the allocator, which for a big one means
/// fresh pages and no clearing, and each read writes straight into it.
/// `Read::read_to_end` would clear every byte of its spare room before
/// handing it to a reader that only implements `read` (as `flate2`'s
/// decoders do): a pass over the whole input that also took the page faults
/// of the buffer (a third of the run's, on the million-stack pair).
fn read_to_end_into_zeroed(
    src: impl Read,
    head: Vec<u8>,
    hint: usize,
    limit: u64,
    budget: &Budget,
) -> std::io::Result<Vec<u8>> {
    let room = limit.saturating_add(1).saturating_sub(head.len() as u64);
    let mut src = src.take(room);
    let mut filled = head.len();
    let allowed = usize::try_from(budget.remaining()).unwrap_or(usize::MAX);
    let mut buf: Vec<u8> =
        bytemuck::zeroed_vec(hint.min(allowed).max(filled.saturating_add(READ_ROOM)));
    buf[..filled].copy_from_slice(&head);
    drop(head);
    loop {
        if filled == buf.len() {
            // Full: grow only if there is more to read.
            let mut probe = [0u8; 32];
            let n = read_retrying(&mut src, &mut probe)?;
            if n == 0 {
                break;
            }
            // Doubled, or grown by what the budget still allows.
            let more = buf
                .len()
                .min(usize::try_from(budget.remaining()).unwrap_or(usize::MAX));
            if more < READ_ROOM {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::OutOfMemory,
                    "the memory budget is spent",
                ));
            }
            buf.resize(buf.len() + more, 0);
            buf[filled..filled + n].copy_from_slice(&probe[..n]);
            filled += n;
            continue;
        }
        match read_retrying(&mut src, &mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// The error of a failed read: [`Error::OverBudget`] when the budget
/// stopped it, else `other` of the I/O error.
fn read_error(
    e: std::io::Error,
    budget: &Budget,
    other: impl FnOnce(std::io::Error) -> Error,
) -> Error {
    if e.kind() == std::io::ErrorKind::OutOfMemory {
        Error::OverBudget {
            limit: budget.limit(),
        }
    } else {
        other(e)
    }
}

/// One `read`, retried when interrupted.
fn read_retrying(src: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match src.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Reads and decodes a profile file (`-` for standard input).
pub fn open(path: &Path) -> Result<Profile, Error> {
    open_with(path, &DecodeOptions::default())
}

/// Like [`open`], with options for formats that hold several views.
///
/// Text formats and tracemalloc pickles are decoded as they are read (and
/// inflated), a chunk at a time; the others are read whole first.
///
/// `FILE#N`, where no file of that name exists but `FILE` does, reads
/// snapshot `N` of a file that holds several (massif).
pub fn open_with(path: &Path, options: &DecodeOptions) -> Result<Profile, Error> {
    let limit = options.max_input.unwrap_or(DEFAULT_MAX_INPUT);
    if let Some((file, snapshot)) = snapshot_of(path) {
        let options = DecodeOptions {
            snapshot: Some(snapshot),
            ..options.clone()
        };
        return decode_reader(open_source(&file, limit)?, &options);
    }
    decode_reader(open_source(path, limit)?, options)
}

/// The snapshots a file of several holds (massif's detailed ones), each
/// readable as `FILE#N`: what `--trend` over one file compares.
pub fn snapshots_in(path: &Path, options: &DecodeOptions) -> Result<Vec<u32>, Error> {
    let limit = options.max_input.unwrap_or(DEFAULT_MAX_INPUT);
    let mut bytes = Vec::new();
    open_source(path, limit)?
        .reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge { limit });
    }
    let bytes = if is_gzip(&bytes) {
        gunzip_limited(&bytes, limit)?
    } else {
        bytes
    };
    match sniff(&bytes) {
        Some(Format::Massif) => massif::detailed_snapshots(&bytes),
        other => Err(Error::OneProfile(other.map_or_else(
            || "pprof protobuf, or unknown".to_owned(),
            |f| f.to_string(),
        ))),
    }
}

/// `FILE` and `N` of `FILE#N`, when `FILE#N` is not a file and `FILE` is.
fn snapshot_of(path: &Path) -> Option<(std::path::PathBuf, u32)> {
    let text = path.to_str()?;
    let (file, n) = text.rsplit_once('#')?;
    let n = n.parse().ok()?;
    let file = Path::new(file);
    (!path.exists() && file.is_file()).then(|| (file.to_owned(), n))
}

/// Decodes a profile from its bytes, gzip-compressed or not, in any format
/// heapdiff reads.
pub fn decode(bytes: &[u8]) -> Result<Profile, Error> {
    decode_with(bytes, &DecodeOptions::default())
}

/// Like [`decode`], with options.
pub fn decode_with(bytes: &[u8], options: &DecodeOptions) -> Result<Profile, Error> {
    let source = Source {
        reader: Box::new(bytes),
        size: Some(bytes.len() as u64),
        tail: last_four(bytes),
    };
    decode_reader(source, options)
}

/// How much of an input is read to recognise its format: enough for every
/// signature [`sniff`] looks for.
const HEAD: u64 = 64 << 10;

/// The formats decoded as they are read: the text ones line by line,
/// tracemalloc's pickles an opcode at a time.
#[derive(Clone, Copy)]
enum Streamed {
    Jemalloc,
    HeapProfile,
    Folded,
    Tracemalloc,
}

impl Streamed {
    fn of(head: &[u8]) -> Option<Streamed> {
        match sniff(head)? {
            Format::JemallocHeap => Some(Streamed::Jemalloc),
            Format::GperftoolsHeap | Format::GoHeapText => Some(Streamed::HeapProfile),
            Format::Folded => Some(Streamed::Folded),
            Format::Tracemalloc => Some(Streamed::Tracemalloc),
            _ => None,
        }
    }

    fn decode(
        self,
        lines: &mut lines::LineReader<impl Read>,
        options: &DecodeOptions,
    ) -> Result<Profile, Error> {
        match self {
            Streamed::Jemalloc => legacy::decode_jemalloc_lines(lines, options),
            Streamed::HeapProfile => legacy::decode_heap_profile_lines(lines, &options.limits),
            Streamed::Folded => folded::decode_lines(
                lines,
                options.unit.as_deref().unwrap_or("bytes"),
                &options.limits,
            ),
            Streamed::Tracemalloc => {
                let profile = python::decode_reader(lines, &options.limits)?;
                lines.finish()?;
                Ok(profile)
            }
        }
    }
}

/// Decodes whatever `src` holds: text formats and pickles as they are
/// read, the others once read whole; gzip is inflated as it is read (never
/// holding the compressed file), into a buffer sized by the gzip trailer
/// when the input is a file.
fn decode_reader(src: Source<'_>, options: &DecodeOptions) -> Result<Profile, Error> {
    let limit = options.max_input.unwrap_or(DEFAULT_MAX_INPUT);
    let Source {
        reader: mut src,
        size,
        tail,
    } = src;
    let mut head = Vec::new();
    (&mut src)
        .take(HEAD.min(limit.saturating_add(1)))
        .read_to_end(&mut head)?;
    if is_gzip(&head) {
        let hint = size_hint(tail, size.unwrap_or(0), limit);
        return decode_gzip_stream(std::io::Cursor::new(head).chain(src), hint, options);
    }
    if zstd::is_zstd(&head) {
        return decode_zstd_stream(std::io::Cursor::new(head).chain(src), options);
    }
    if let Some(format) = Streamed::of(&head) {
        return format.decode(&mut lines::LineReader::new(head, src, limit, None), options);
    }
    check_start(&head)?;
    decode_inflated(read_rest(head, src, size, limit, &options.budget)?, options)
}

/// Decodes a gzip stream: inflated as it is decoded when it holds text or
/// a pickle, whole (into `hint` bytes to start with) otherwise.
fn decode_gzip_stream(
    compressed: impl Read,
    hint: usize,
    options: &DecodeOptions,
) -> Result<Profile, Error> {
    let padded = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let gz = gzip::Members::new(
        std::io::BufReader::with_capacity(GZIP_READ, compressed),
        padded.clone(),
    );
    let mut profile = decode_inflating(gz, hint, "gzip", options)?;
    if padded.load(std::sync::atomic::Ordering::Relaxed) {
        profile
            .warnings
            .push("zero bytes after the gzip data were ignored, as zcat ignores them".to_owned());
    }
    Ok(profile)
}

/// Refuses an input whose first bytes (decompressed) start no format
/// heapdiff reads, before the rest is read (or inflated): pprof, which has
/// no signature, is what remains, and its first fields must make sense.
fn check_start(head: &[u8]) -> Result<(), Error> {
    if sniff(head).is_some() {
        return Ok(());
    }
    if let Some(refusal) = format::needs_conversion(head) {
        return Err(refusal);
    }
    if let Some(why) = pprof::proto::implausible_start(head) {
        return Err(Error::Unrecognized {
            first_bytes: format::describe_start(head),
            pprof: why,
        });
    }
    Ok(())
}

/// Decodes a zstd stream (heaptrack's captures), decompressed as it is
/// decoded.
fn decode_zstd_stream(compressed: impl Read, options: &DecodeOptions) -> Result<Profile, Error> {
    let frames = zstd::Frames::new(std::io::BufReader::with_capacity(GZIP_READ, compressed));
    decode_inflating(frames, 0, "zstd", options)
}

/// Decodes what the decompressing reader `gz` gives (`what` names its
/// compression, for errors).
fn decode_inflating(
    mut gz: impl Read,
    hint: usize,
    what: &'static str,
    options: &DecodeOptions,
) -> Result<Profile, Error> {
    let limit = options.max_input.unwrap_or(DEFAULT_MAX_INPUT);
    let mut head = Vec::new();
    (&mut gz)
        .take(HEAD.min(limit.saturating_add(1)))
        .read_to_end(&mut head)
        .map_err(|e| Error::Decompress(what, e))?;
    check_start(&head)?;
    if let Some(format) = Streamed::of(&head) {
        return format.decode(
            &mut lines::LineReader::new(head, gz, limit, Some(what)),
            options,
        );
    }
    // `gz`, and with it the compressed bytes, is gone once inflated.
    let inflated = read_to_end_into_zeroed(gz, head, hint, limit, &options.budget)
        .map_err(|e| read_error(e, &options.budget, |e| Error::Decompress(what, e)))?;
    if inflated.len() as u64 > limit {
        return Err(Error::InflatesTooLarge { limit });
    }
    decode_inflated(inflated, options)
}

/// How much compressed input is read at a time.
const GZIP_READ: usize = 256 << 10;

/// Decodes bytes that are not (or no longer) gzip-compressed.
fn decode_inflated(bytes: Vec<u8>, options: &DecodeOptions) -> Result<Profile, Error> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    decode_plain(bytes::Bytes::from(bytes), options)
}

/// Decompresses a gzip stream (all members, as `zcat` does), of at most
/// [`DEFAULT_MAX_INPUT`] bytes.
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    gunzip_limited(bytes, DEFAULT_MAX_INPUT)
}

/// Decompresses a gzip stream of at most `limit` bytes decompressed: a
/// gzip bomb stops at the limit, having used no more memory than that.
pub fn gunzip_limited(bytes: &[u8], limit: u64) -> Result<Vec<u8>, Error> {
    inflate_rest(
        gzip::Members::new(bytes, Default::default()),
        Vec::new(),
        gzip_size_hint(bytes, limit),
        limit,
    )
}

/// The trailer's ISIZE, the decompressed size modulo 2^32: a good capacity
/// hint, bounded so that a lying trailer cannot reserve much.
fn gzip_size_hint(bytes: &[u8], limit: u64) -> usize {
    size_hint(last_four(bytes), bytes.len() as u64, limit)
}

/// The last four bytes, if there are four.
fn last_four(bytes: &[u8]) -> Option<[u8; 4]> {
    bytes.last_chunk().copied()
}

/// [`gzip_size_hint`] from the last four bytes of a compressed input of
/// `compressed` bytes.
fn size_hint(tail: Option<[u8; 4]>, compressed: u64, limit: u64) -> usize {
    let Some(tail) = tail else { return 0 };
    u64::from(u32::from_le_bytes(tail))
        .min(compressed.saturating_mul(64))
        .min(limit)
        .try_into()
        .unwrap_or(0)
}

/// `out` (what `gz` gave so far) followed by the rest of `gz`, of at most
/// `limit` bytes in all; `hint` sizes the buffer.
fn inflate_rest(gz: impl Read, out: Vec<u8>, hint: usize, limit: u64) -> Result<Vec<u8>, Error> {
    let out = read_to_end_into_zeroed(gz, out, hint, limit, &Budget::UNLIMITED)
        .map_err(|e| Error::Decompress("gzip", e))?;
    if out.len() as u64 > limit {
        return Err(Error::InflatesTooLarge { limit });
    }
    Ok(out)
}

fn decode_plain(bytes: bytes::Bytes, options: &DecodeOptions) -> Result<Profile, Error> {
    let lines = |format: Streamed| {
        format.decode(
            &mut lines::LineReader::new(Vec::new(), &bytes[..], u64::MAX, None),
            options,
        )
    };
    match sniff(&bytes) {
        Some(Format::JemallocHeap) => lines(Streamed::Jemalloc),
        Some(Format::GperftoolsHeap | Format::GoHeapText) => lines(Streamed::HeapProfile),
        Some(Format::Folded) => lines(Streamed::Folded),
        Some(Format::Pprof) | None => {
            // A compressed or UTF-16 file would only fail as protobuf.
            if let Some(refusal) = format::needs_conversion(&bytes) {
                return Err(refusal);
            }
            // The decoder frees the input once read; the start is kept for
            // the error message.
            let first_bytes = format::describe_start(&bytes);
            pprof::decode_bytes_with(bytes, &options.limits).map_err(|e| match e {
                // Raw protobuf has no signature: if it does not even parse, say
                // what the bytes looked like rather than only what prost said.
                Error::Protobuf(msg) => Error::Unrecognized {
                    first_bytes,
                    pprof: msg,
                },
                other => other,
            })
        }
        Some(Format::Tracemalloc) => python::decode(&bytes, &options.limits),
        Some(Format::Dhat) => dhat::decode(&bytes, &options.limits),
        Some(Format::V8HeapProfile) => v8::decode(&bytes, &options.limits),
        Some(Format::Massif) => massif::decode(&bytes, options.snapshot, &options.limits),
        Some(Format::Speedscope) => speedscope::decode(&bytes, &options.limits),
        Some(Format::Jfr) => jfr::decode(&bytes, &options.limits),
        Some(Format::Heaptrack) => heaptrack::decode(&bytes, &options.limits),
        Some(Format::MemrayCsv) => memray::decode(&bytes, &options.limits),
        Some(Format::Memray) => Err(Error::Unsupported {
            format: Format::Memray,
            hint: "; its capture format is private to memray: convert it with \
                   `memray transform csv --leaks CAPTURE` (or without --leaks for the high-water mark) \
                   and pass the CSV",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives at most `chunk` bytes a call, and is interrupted
    /// before every other call.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
        interrupt: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.chunk).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn inputs_are_read_whole_whatever_the_size_hint() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let read = |head: &[u8], hint: usize, limit: u64, chunk: usize| {
            let src = Trickle {
                data: &data[head.len()..],
                chunk,
                interrupt: false,
            };
            read_to_end_into_zeroed(src, head.to_vec(), hint, limit, &Budget::UNLIMITED).unwrap()
        };
        for hint in [
            0,
            1,
            1000,
            data.len() - 1,
            data.len(),
            data.len() + 1,
            10 << 20,
        ] {
            for chunk in [1 << 10, 100_000, usize::MAX] {
                let out = read(&data[..10], hint, 1 << 30, chunk);
                assert!(out == data, "hint {hint}, reads of {chunk}");
            }
        }
        // One byte past the limit is read, for the caller to refuse.
        let out = read(&data[..10], data.len(), 1000, 333);
        assert_eq!(out, data[..1001]);
        assert!(matches!(
            read_rest(
                data[..10].to_vec(),
                &data[10..],
                Some(data.len() as u64),
                1000,
                &Budget::UNLIMITED
            ),
            Err(Error::TooLarge { limit: 1000 })
        ));
        assert_eq!(
            read_rest(Vec::new(), &data[..], None, 1 << 30, &Budget::UNLIMITED).unwrap(),
            data
        );
    }

    #[test]
    fn the_gzip_trailer_sizes_the_buffer_within_bounds() {
        let isize = |n: u32| Some(n.to_le_bytes());
        assert_eq!(size_hint(None, 1000, 1 << 30), 0, "no trailer: no hint");
        assert_eq!(size_hint(isize(5000), 1000, 1 << 30), 5000);
        // A lying trailer reserves at most 64 times the compressed size,
        // and never more than the input limit.
        assert_eq!(size_hint(isize(u32::MAX), 1000, 1 << 30), 64_000);
        assert_eq!(size_hint(isize(5000), 1000, 4096), 4096);
        // The same from bytes in memory.
        let mut gz = vec![0x1f, 0x8b, 0, 0];
        gz.extend(77u32.to_le_bytes());
        assert_eq!(gzip_size_hint(&gz, 1 << 30), 77);
        assert_eq!(gzip_size_hint(&gz[..3], 1 << 30), 0);
    }
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn empty_input_is_an_error() {
        assert!(matches!(decode(b""), Err(Error::Empty)));
        assert!(matches!(decode(&gzip(b"")), Err(Error::Empty)));
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let z = gzip(b"some bytes that compress");
        let err = decode(&z[..z.len() / 2]).unwrap_err();
        assert!(matches!(err, Error::Decompress("gzip", _)), "{err}");
        assert!(err.to_string().starts_with("corrupt gzip data"), "{err}");
    }

    #[test]
    fn gzip_bombs_stop_at_the_limit() {
        // A sample type, then zeros in a field no decoder reads.
        let mut zeros = b"\x0a\x04\x08\x01\x10\x02\xa2\x06\x80\x80\x80\x05".to_vec();
        zeros.resize(10 << 20, 0);
        let bomb = gzip(&zeros);
        assert!(
            bomb.len() < 200_000,
            "10 MiB of zeros compress to {}",
            bomb.len()
        );
        // Zeros alone are refused from their first bytes.
        let err = decode(&gzip(&vec![0u8; 10 << 20])).unwrap_err();
        assert!(err.to_string().contains("field number 0"), "{err}");
        let err = gunzip_limited(&bomb, 1 << 20).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it decompresses to more than 1 MiB (a decompression bomb?); raise the limit with --max-input SIZE"
        );
        assert_eq!(gunzip_limited(&bomb, 10 << 20).unwrap().len(), 10 << 20);
        let opts = DecodeOptions {
            max_input: Some(1000),
            ..DecodeOptions::default()
        };
        assert!(matches!(
            decode_with(&bomb, &opts),
            Err(Error::InflatesTooLarge { limit: 1000 })
        ));
    }

    #[test]
    fn gzip_members_are_concatenated() {
        let mut two = gzip(b"abc");
        two.extend(gzip(b"def"));
        assert_eq!(gunzip(&two).unwrap(), b"abcdef");
    }

    #[test]
    fn garbage_is_unrecognized_with_its_first_bytes() {
        let err = decode(b"\x07hello, this is binary\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "not a heap profile heapdiff knows (starts with \"\\x07hello, this is \")"
            ),
            "{msg}"
        );
        // Text shows its first line instead.
        let err = decode(b"hello, this is text\nand more\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "text, not a heap profile heapdiff knows; its first line reads \"hello, this is text\""
        );
    }

    #[test]
    fn known_but_unsupported_formats_say_so() {
        let err = decode(b"memray\0\0\0").unwrap_err();
        assert!(err.to_string().contains("memray transform csv"), "{err}");
        let err = decode(&gzip(b"\x80\x05\x95")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pickle byte 2: the pickle ends in the middle of an opcode"
        );
    }
}
