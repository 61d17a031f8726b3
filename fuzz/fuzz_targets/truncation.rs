//! Truncation is never silent: a text profile (jemalloc, gperftools or Go
//! `debug=1`, folded stacks, memray CSV) that decodes whole without a
//! `truncated?` warning, cut short, fails, warns `truncated? …`, or has the
//! totals it had whole. A copy cut by a crash or a full disk must never pass
//! for the whole file with smaller numbers.
//!
//! The input is a format byte (which header to put first, as the
//! per-decoder targets do), two bytes that choose a cut, then the text. The
//! text is cut there and at its last byte, never inside the header we add.
//! Folded stacks and memray CSV have no header totals and no trailer: their
//! only sign is a last line without its newline, so a cut right after a
//! newline leaves a file as whole-looking as any, and no decoder can tell;
//! those cuts are not tried (the integration test
//! `crates/profile/tests/truncation.rs` lets the same cuts through). The
//! heap formats' totals and trailers are checked at every cut (a header
//! without totals is itself a warning, so such a file is not cut).
#![no_main]

use heapdiff_profile::{Format, Profile, decode};

/// The header each format byte puts before the text (chosen modulo their
/// number).
const HEADERS: [&[u8]; 4] = [
    b"heap_v2/",
    b"heap profile: ",
    b"",
    b"allocator,num_allocations,size,tid,thread_name,stack_trace\n",
];

/// The formats the property is about: the text ones. Text that sniffs as
/// anything else (folded stacks have no header) is left to its own target.
fn is_text(format: Format) -> bool {
    matches!(
        format,
        Format::JemallocHeap
            | Format::GperftoolsHeap
            | Format::GoHeapText
            | Format::Folded
            | Format::MemrayCsv
    )
}

/// Each sample type's total.
fn totals(p: &Profile) -> Vec<i64> {
    (0..p.header.sample_types.len())
        .map(|i| p.total(i))
        .collect()
}

/// Whether a cut right after a newline may leave no sign: for the formats
/// whose only sign is a last line without its newline.
fn line_end_cut_may_be_silent(format: Format) -> bool {
    matches!(format, Format::Folded | Format::MemrayCsv)
}

fn warns_truncated(p: &Profile) -> bool {
    p.warnings.iter().any(|w| w.contains("truncated"))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [format, cut_low, cut_high, text @ ..] = data else {
        return;
    };
    let header = HEADERS[usize::from(*format) % HEADERS.len()];
    let whole = [header, text].concat();
    let Ok(p) = decode(&whole) else {
        return;
    };
    if !is_text(p.format) || warns_truncated(&p) {
        return;
    }
    let want = totals(&p);
    // Cuts keep the header and at least one byte of the text.
    let shortest = header.len() + 1;
    if whole.len() <= shortest {
        return;
    }
    let chosen = shortest
        + usize::from(u16::from_le_bytes([*cut_low, *cut_high])) % (whole.len() - shortest);
    for cut in [chosen, whole.len() - 1] {
        if whole[cut - 1] == b'\n' && line_end_cut_may_be_silent(p.format) {
            continue;
        }
        if let Ok(q) = decode(&whole[..cut]) {
            assert!(
                warns_truncated(&q) || totals(&q) == want,
                "{} cut at {cut} of {}: totals {:?}, whole {want:?}, no truncation warning in {:?}",
                p.format,
                whole.len(),
                totals(&q),
                q.warnings
            );
        }
    }
});
