//! memray's `transform csv` output.
//!
//! One row per distinct (allocator, stack, thread): columns
//! `allocator,num_allocations,size,tid,thread_name,stack_trace`, where
//! `stack_trace` is `function;file;line` frames joined by `|`, most recent
//! first. Rows become samples with `inuse_objects` = `num_allocations` and
//! `inuse_space` = `size`: memray writes the allocations live at the moment it
//! reports (the high-water mark, or the end with `--leaks`).
//!
//! **Allocators.** The `allocator` column names memray's allocator (its
//! `AllocatorType`). `transform csv` writes only allocations still live, so
//! a row of a function that frees (`FREE`, `MUNMAP`, `PYMALLOC_FREE`) is not
//! memray's output and would count freed memory as live: it is refused, as
//! is a name memray does not have.
//!
//! **Cut files and negative values.** A last row without its newline is
//! warned about as a possible cut (or, when it does not parse, the error
//! says so). Counts and sizes are unsigned in memray; a negative one is kept
//! as written with one warning.
//!
//! memray's own binary capture cannot be read (its layout is private to
//! memray and changes between versions); [`crate::decode`] says how to
//! convert it.

use rustc_hash::FxHashMap;

use crate::Format;
use crate::error::Error;
use crate::model::{Frame, FrameId, Profile, ProfileBuilder, ValueType};

/// The header memray writes, which is also how the format is recognised.
pub(crate) const HEADER: &str = "allocator,num_allocations,size,tid,thread_name,stack_trace";

/// memray's allocators that allocate: their rows are live memory.
const ALLOCATORS: [&str; 12] = [
    "MALLOC",
    "CALLOC",
    "REALLOC",
    "POSIX_MEMALIGN",
    "ALIGNED_ALLOC",
    "MEMALIGN",
    "VALLOC",
    "PVALLOC",
    "MMAP",
    "PYMALLOC_MALLOC",
    "PYMALLOC_CALLOC",
    "PYMALLOC_REALLOC",
];

/// memray's allocators that free: never in `transform csv` output.
const DEALLOCATORS: [&str; 3] = ["FREE", "MUNMAP", "PYMALLOC_FREE"];

/// Checks a row's allocator: one of memray's that allocates.
fn check_allocator(raw: &[u8], line: u64) -> Result<(), Error> {
    let name = String::from_utf8_lossy(raw);
    let upper = name.trim().to_ascii_uppercase();
    if ALLOCATORS.contains(&upper.as_str()) {
        return Ok(());
    }
    let message = if DEALLOCATORS.contains(&upper.as_str()) {
        format!(
            "allocator {name:?} frees memory, but `memray transform csv` lists only live \
             allocations: this is not memray's output (its rows would count freed memory as live)"
        )
    } else {
        format!(
            "unknown allocator {name:?} (memray's are {}; `memray transform csv` writes only those)",
            ALLOCATORS.join(", ")
        )
    };
    Err(text_error(line, message))
}

fn text_error(line: u64, message: impl Into<String>) -> Error {
    Error::Text {
        line: usize::try_from(line).unwrap_or(usize::MAX),
        message: message.into(),
    }
}

/// Decodes a memray CSV file.
pub(crate) fn decode(bytes: &[u8], limits: &crate::Limits) -> Result<Profile, Error> {
    let bytes = crate::decode::format::skip_utf8_bom(bytes);
    let ends_mid_line = !bytes.ends_with(b"\n");
    let lines = || bytes.iter().filter(|&&c| c == b'\n').count() + 1;
    match read(bytes, limits) {
        Ok(mut profile) => {
            if ends_mid_line {
                profile.warnings.push(format!(
                    "truncated? the last row (line {}) ends without a newline",
                    lines()
                ));
            }
            Ok(profile)
        }
        Err(Error::Text { line, message }) if ends_mid_line && line == lines() => {
            Err(Error::Text {
                line,
                message: format!("{message} (the last line, without a newline: truncated?)"),
            })
        }
        Err(e) => Err(e),
    }
}

fn read(bytes: &[u8], limits: &crate::Limits) -> Result<Profile, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| text_error(1, e.to_string()))?;
    let columns: Vec<&[u8]> = header.iter().collect();
    let want: Vec<&[u8]> = HEADER.split(',').map(str::as_bytes).collect();
    if columns != want {
        return Err(text_error(1, format!("expected the header `{HEADER}`")));
    }
    let mut b = ProfileBuilder::new(
        Format::MemrayCsv,
        vec![
            ValueType::new("inuse_objects", "count"),
            ValueType::new("inuse_space", "bytes"),
        ],
    );
    b.set_limits(*limits);
    let mut frames: FxHashMap<Vec<u8>, FrameId> = FxHashMap::default();
    let mut stack = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut first_negative = None;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(text_error(line, format!("not a valid CSV row: {e}")));
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let number = |column: usize, name: &str| -> Result<i64, Error> {
            let raw = &record[column];
            std::str::from_utf8(raw)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| {
                    text_error(
                        line,
                        format!(
                            "{name} is {:?}, expected an integer",
                            String::from_utf8_lossy(raw)
                        ),
                    )
                })
        };
        check_allocator(&record[0], line)?;
        let count = number(1, "num_allocations")?;
        let size = number(2, "size")?;
        if count < 0 || size < 0 {
            first_negative.get_or_insert(line);
        }
        stack.clear();
        let trace = &record[5];
        if !trace.is_empty() {
            for frame in trace.split(|&c| c == b'|') {
                let id = match frames.get(frame) {
                    Some(&id) => id,
                    None => {
                        let id = parse_frame(frame, &mut b).ok_or_else(|| {
                            text_error(
                                line,
                                format!(
                                    "stack frame {:?} is not `function;file;line`",
                                    String::from_utf8_lossy(frame)
                                ),
                            )
                        })?;
                        frames.insert(frame.to_vec(), id);
                        id
                    }
                };
                stack.push(id);
            }
        }
        b.push_sample(&stack, &[count, size])?;
    }
    if let Some(line) = first_negative {
        b.warn(format!(
            "negative counts or sizes (first on line {line}): memray never writes them \
             (edited or damaged?); kept as written"
        ));
    }
    Ok(b.finish())
}

/// `function;file;line`; the function may itself contain `;`, the file and
/// line may not.
fn parse_frame(frame: &[u8], b: &mut ProfileBuilder) -> Option<FrameId> {
    let frame = String::from_utf8_lossy(frame);
    let mut parts = frame.rsplitn(3, ';');
    let line = parts.next()?;
    let file = parts.next()?;
    let function = parts.next()?;
    let line: u32 = line.trim().parse().ok()?;
    let function = b.intern(if function.is_empty() { "???" } else { function });
    let file = b.intern(file);
    Some(b.frame(Frame::symbolized(function, file, line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoder with the default limits.
    fn decode(bytes: &[u8]) -> Result<Profile, Error> {
        super::decode(bytes, &crate::Limits::default())
    }

    fn rows(p: &Profile) -> Vec<(Vec<String>, Vec<i64>)> {
        p.samples()
            .map(|s| {
                let frames = s
                    .stack
                    .iter()
                    .map(|f| {
                        let f = p.frame(f);
                        format!("{} {}:{}", p.str(f.function), p.str(f.file), f.line)
                    })
                    .collect();
                (frames, s.values.to_vec())
            })
            .collect()
    }

    #[test]
    fn rows_become_samples_most_recent_frame_first() {
        let csv = format!(
            "{HEADER}\n\
             pymalloc_malloc,12,4096,1,MainThread,copy_from;/srv/shop/headerlib/multidict.py;41|handle;/srv/shop/app.py;30\n\
             malloc,1,100,2,\"worker, 2\",<module>;/srv/shop/app.py;3\n\
             malloc,2,8,1,MainThread,\n"
        );
        let p = decode(csv.as_bytes()).unwrap();
        assert_eq!(
            rows(&p),
            vec![
                (
                    vec![
                        "copy_from /srv/shop/headerlib/multidict.py:41".to_owned(),
                        "handle /srv/shop/app.py:30".to_owned()
                    ],
                    vec![12, 4096]
                ),
                (vec!["<module> /srv/shop/app.py:3".to_owned()], vec![1, 100]),
                (vec![], vec![2, 8]),
            ]
        );
    }

    #[test]
    fn allocators_that_free_or_are_unknown_are_refused() {
        let err =
            decode(format!("{HEADER}\nMALLOC,1,8,1,t,\nFREE,1,8,1,t,\n").as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 3: allocator \"FREE\" frees memory"),
            "{err}"
        );
        let err = decode(format!("{HEADER}\nMUNMAP,1,8,1,t,\n").as_bytes()).unwrap_err();
        assert!(err.to_string().contains("\"MUNMAP\" frees memory"), "{err}");
        let err = decode(format!("{HEADER}\nSBRK,1,8,1,t,\n").as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 2: unknown allocator \"SBRK\" (memray's are MALLOC, CALLOC,"),
            "{err}"
        );
        let every = ALLOCATORS.map(|a| format!("{a},1,8,1,t,\n")).concat();
        let p = decode(format!("{HEADER}\n{every}").as_bytes()).unwrap();
        assert_eq!(p.total(1), 8 * ALLOCATORS.len() as i64);
    }

    #[test]
    fn a_cut_last_row_is_a_warning_or_an_error() {
        let row = "MALLOC,2,1372,1,0x1,f;/a.py;58";
        let p = decode(format!("{HEADER}\nMALLOC,1,8,1,t,\n{row}").as_bytes()).unwrap();
        assert_eq!(
            p.warnings,
            ["truncated? the last row (line 3) ends without a newline"]
        );
        let err =
            decode(format!("{HEADER}\nMALLOC,1,8,1,t,\n{}", &row[..9]).as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("(the last line, without a newline: truncated?)"),
            "{err}"
        );
        let whole = decode(format!("{HEADER}\n{row}\n").as_bytes()).unwrap();
        assert!(whole.warnings.is_empty(), "{:?}", whole.warnings);
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        let p = decode(format!("\u{feff}{HEADER}\nMALLOC,1,8,1,t,\n").as_bytes()).unwrap();
        assert_eq!(p.total(1), 8);
    }

    #[test]
    fn negative_values_are_one_warning() {
        let p =
            decode(format!("{HEADER}\nMALLOC,1,-8,1,t,\nMALLOC,-1,8,1,t,\n").as_bytes()).unwrap();
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(
            p.warnings[0].starts_with("negative counts or sizes (first on line 2)"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn bad_rows_say_which_line() {
        let err = decode(format!("{HEADER}\nmalloc,x,1,1,t,\n").as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: num_allocations is \"x\", expected an integer"
        );
        let err = decode(format!("{HEADER}\nmalloc,1,1,1,t,f;a.py\n").as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2: stack frame \"f;a.py\" is not `function;file;line`"
        );
        let err = decode(format!("{HEADER}\nmalloc,1,1\n").as_bytes()).unwrap_err();
        assert!(
            err.to_string().starts_with("line 2: not a valid CSV row"),
            "{err}"
        );
        let err = decode(b"allocator,size\n").unwrap_err();
        assert!(
            err.to_string().starts_with("line 1: expected the header"),
            "{err}"
        );
    }
}
