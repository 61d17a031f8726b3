//! Valgrind massif output (`massif.out.<pid>`).
//!
//! A text file: `desc:`, `cmd:` and `time_unit:` lines, then snapshots, each
//! after a `#-----------` line: `snapshot=N`, `time=`, `mem_heap_B=`,
//! `mem_heap_extra_B=`, `mem_stacks_B=`, and `heap_tree=empty`, `detailed`
//! or `peak`. A detailed (or peak) snapshot's tree follows, a node a line:
//! indentation is depth, then `nK: BYTES LABEL`, K children after it. The
//! root is `(heap allocation functions) malloc/new/new[], --alloc-fns,
//! etc.`; its children are the functions that called an allocation
//! function, *their* children those functions' callers, and so on, so a
//! path from the root reads leaf first. Labels read `0xADDR: function
//! (file:line)`, `0xADDR: function (in /path/object)`, `0xADDR: ???`, or
//! `in N places, all below massif's threshold (1.00%)`.
//!
//! Read: one snapshot, the one `FILE#N` names (see [`crate::open_with`]), else
//! the peak, else the last detailed one; one sample per tree leaf, its stack
//! the path from the root, and one for a node's bytes its children do not
//! account for. Entries below massif's threshold are kept as one frame,
//! `(below massif's threshold)`, under their parent. The sample type is
//! `inuse_space` (massif records every allocation: exact). A node whose
//! children are fewer than it says (a cut file) is an error; a tree whose
//! total differs from `mem_heap_B` gets a warning.

use crate::Format;
use crate::decode::dhat::parse_frame;
use crate::error::Error;
use crate::model::{Frame, FrameId, Profile, ProfileBuilder, ValueType};

/// What a below-threshold entry becomes.
const BELOW_THRESHOLD: &str = "(below massif's threshold)";

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid {
        format: Format::Massif,
        message: message.into(),
    }
}

/// Whether `bytes` start like massif output.
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    bytes.starts_with(b"desc:")
        && bytes
            .split(|&b| b == b'\n')
            .take(4)
            .any(|l| l.starts_with(b"time_unit:"))
}

/// One snapshot's header and where its tree lines are.
struct Snapshot<'a> {
    number: u32,
    heap_bytes: i64,
    kind: &'a str,
    tree: Vec<(usize, &'a str)>,
}

/// Splits the file into snapshots.
fn snapshots(text: &str) -> Result<Vec<Snapshot<'_>>, Error> {
    let mut out: Vec<Snapshot<'_>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if let Some(n) = line.strip_prefix("snapshot=") {
            let number = n
                .trim()
                .parse()
                .map_err(|_| invalid(format!("line {line_no}: snapshot number {n:?}")))?;
            out.push(Snapshot {
                number,
                heap_bytes: 0,
                kind: "",
                tree: Vec::new(),
            });
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue;
        };
        if let Some(b) = line.strip_prefix("mem_heap_B=") {
            current.heap_bytes = b
                .trim()
                .parse()
                .map_err(|_| invalid(format!("line {line_no}: mem_heap_B={b:?}")))?;
        } else if let Some(kind) = line.strip_prefix("heap_tree=") {
            current.kind = kind.trim();
        } else if line.trim_start().starts_with('n') && !current.kind.is_empty() {
            current.tree.push((line_no, line));
        }
    }
    Ok(out)
}

/// The numbers of a massif file's detailed snapshots, in file order.
pub(crate) fn detailed_snapshots(bytes: &[u8]) -> Result<Vec<u32>, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(format!("not UTF-8 text: {e}")))?;
    Ok(snapshots(text)?
        .iter()
        .filter(|s| s.kind != "empty")
        .map(|s| s.number)
        .collect())
}

/// Decodes the snapshot `wanted` (else the peak, else the last detailed one)
/// of a massif file.
pub(crate) fn decode(
    bytes: &[u8],
    wanted: Option<u32>,
    limits: &crate::Limits,
) -> Result<Profile, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(format!("not UTF-8 text: {e}")))?;
    let all = snapshots(text)?;
    let detailed: Vec<&Snapshot<'_>> = all.iter().filter(|s| s.kind != "empty").collect();
    let chosen = match wanted {
        Some(n) => all.iter().find(|s| s.number == n),
        None => detailed
            .iter()
            .copied()
            .find(|s| s.kind == "peak")
            .or(detailed.last().copied()),
    };
    let numbers: Vec<String> = detailed.iter().map(|s| s.number.to_string()).collect();
    let Some(snapshot) = chosen.filter(|s| s.kind != "empty") else {
        return Err(invalid(match wanted {
            Some(n) => format!(
                "no detailed snapshot {n} (the detailed ones: {}; \
                 valgrind --tool=massif --detailed-freq=1 makes every one detailed)",
                list(&numbers)
            ),
            None => "no detailed snapshot".to_owned(),
        }));
    };
    let mut b = ProfileBuilder::new(Format::Massif, vec![ValueType::new("inuse_space", "bytes")]);
    b.set_limits(*limits);
    b.header_mut().comments.push(format!(
        "massif snapshot {} ({})",
        snapshot.number, snapshot.kind
    ));
    let total = read_tree(&mut b, snapshot)?;
    if total != snapshot.heap_bytes {
        b.warn(format!(
            "snapshot {}: its tree holds {total} bytes, mem_heap_B says {}",
            snapshot.number, snapshot.heap_bytes
        ));
    }
    Ok(b.finish())
}

/// `1, 2, 5` (at most twenty).
fn list(numbers: &[String]) -> String {
    let mut shown = numbers
        .iter()
        .take(20)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if numbers.len() > 20 {
        shown.push_str(", …");
    }
    shown
}

/// A tree line: depth, children, bytes, label.
fn parse_node(line_no: usize, line: &str) -> Result<(usize, usize, i64, &str), Error> {
    let depth = line.len() - line.trim_start_matches(' ').len();
    let bad = || invalid(format!("line {line_no}: not a tree node: {line:?}"));
    let rest = line[depth..].strip_prefix('n').ok_or_else(bad)?;
    let (children, rest) = rest.split_once(": ").ok_or_else(bad)?;
    let (bytes, label) = rest.split_once(' ').ok_or_else(bad)?;
    Ok((
        depth,
        children.parse().map_err(|_| bad())?,
        bytes.parse().map_err(|_| bad())?,
        label,
    ))
}

/// Adds a sample per leaf (and per node bytes its children leave over);
/// returns the root's bytes.
fn read_tree(b: &mut ProfileBuilder, snapshot: &Snapshot<'_>) -> Result<i64, Error> {
    // The open nodes, root first: frame, bytes, children said, children seen,
    // bytes the children hold.
    struct Open {
        frame: Option<FrameId>,
        bytes: i64,
        said: usize,
        seen: usize,
        children_bytes: i64,
    }
    let mut open: Vec<Open> = Vec::new();
    let mut root_bytes = None;
    let close =
        |b: &mut ProfileBuilder, open: &mut Vec<Open>, line_no: usize| -> Result<(), Error> {
            let node = open.pop().expect("a node to close");
            if node.seen != node.said {
                return Err(invalid(format!(
                    "snapshot {}: a node before line {line_no} says {} children and has {} \
                 (a cut file?)",
                    snapshot.number, node.said, node.seen
                )));
            }
            let own = node.bytes - node.children_bytes;
            if own != 0 && node.frame.is_some() {
                let stack: Vec<FrameId> = open
                    .iter()
                    .chain(std::iter::once(&node))
                    .filter_map(|n| n.frame)
                    .collect();
                b.push_sample(&stack, &[own])?;
            }
            Ok(())
        };
    let end = snapshot.tree.last().map_or(0, |(l, _)| l + 1);
    for &(line_no, line) in &snapshot.tree {
        let (depth, said, bytes, label) = parse_node(line_no, line)?;
        if depth > open.len() || (depth == 0 && root_bytes.is_some()) {
            return Err(invalid(format!(
                "line {line_no}: a node {depth} deep under {} open",
                open.len()
            )));
        }
        while open.len() > depth {
            close(b, &mut open, line_no)?;
        }
        if let Some(parent) = open.last_mut() {
            parent.seen += 1;
            parent.children_bytes = parent.children_bytes.saturating_add(bytes);
        } else {
            root_bytes = Some(bytes);
        }
        let frame = (depth > 0).then(|| frame_of(b, label));
        open.push(Open {
            frame,
            bytes,
            said,
            seen: 0,
            children_bytes: 0,
        });
    }
    while !open.is_empty() {
        close(b, &mut open, end)?;
    }
    Ok(root_bytes.unwrap_or(0))
}

/// The frame a label names.
fn frame_of(b: &mut ProfileBuilder, label: &str) -> FrameId {
    let (function, file, line) =
        if label.starts_with("in ") && label.contains("below massif's threshold") {
            (BELOW_THRESHOLD, "", 0)
        } else {
            parse_frame(label)
        };
    let (function, file) = (b.intern(function), b.intern(file));
    b.frame(Frame::symbolized(function, file, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "desc: --detailed-freq=1
cmd: ./leak
time_unit: i
#-----------
snapshot=0
#-----------
time=0
mem_heap_B=0
mem_heap_extra_B=0
mem_stacks_B=0
heap_tree=empty
#-----------
snapshot=1
#-----------
time=10
mem_heap_B=1100
mem_heap_extra_B=8
mem_stacks_B=0
heap_tree=detailed
n3: 1100 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
 n1: 1000 0x1091B4: warm_cache (leak.c:44)
  n0: 1000 0x109329: main (leak.c:64)
 n2: 90 0x10923C: copy_header (leak.c:16)
  n0: 60 0x109278: new_header (leak.c:24)
  n0: 30 in 2 places, all below massif's threshold (1.00%)
 n0: 10 in 1 place, below massif's threshold (1.00%)
";

    fn rows(p: &Profile) -> Vec<(Vec<String>, i64)> {
        p.samples()
            .map(|s| {
                let names = s.stack.iter().map(|f| p.frame_name(p.frame(f))).collect();
                (names, s.values[0])
            })
            .collect()
    }

    #[test]
    fn leaves_become_stacks_read_leaf_first() {
        assert!(looks_like(FILE.as_bytes()));
        let p = decode(FILE.as_bytes(), None, &crate::Limits::default()).unwrap();
        let s = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rows(&p),
            [
                (s(&["warm_cache", "main"]), 1000),
                (s(&["copy_header", "new_header"]), 60),
                (s(&["copy_header", BELOW_THRESHOLD]), 30),
                (s(&[BELOW_THRESHOLD]), 10),
            ]
        );
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let f = p
            .frames()
            .iter()
            .find(|f| p.str(f.function) == "copy_header")
            .unwrap();
        assert_eq!((p.str(f.file), f.line), ("leak.c", 16));
    }

    #[test]
    fn snapshots_are_chosen_by_number_and_empty_ones_refused() {
        assert_eq!(
            decode(FILE.as_bytes(), Some(1), &crate::Limits::default())
                .unwrap()
                .sample_count(),
            4
        );
        let e = decode(FILE.as_bytes(), Some(0), &crate::Limits::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no detailed snapshot 0 (the detailed ones: 1;"),
            "{e}"
        );
    }

    #[test]
    fn cut_trees_fail_and_wrong_totals_warn() {
        let cut = &FILE[..FILE.find("  n0: 30").unwrap()];
        let e = decode(cut.as_bytes(), None, &crate::Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("says 2 children and has 1 (a cut file?)"), "{e}");
        let wrong = FILE.replace("mem_heap_B=1100", "mem_heap_B=1200");
        let p = decode(wrong.as_bytes(), None, &crate::Limits::default()).unwrap();
        assert_eq!(
            p.warnings,
            ["snapshot 1: its tree holds 1100 bytes, mem_heap_B says 1200"]
        );
    }
}
