//! DHAT heap profiles: `dhat-heap.json` from dhat-rs and `dhat.out.<pid>`
//! from Valgrind's `--tool=dhat`.
//!
//! The file is JSON: `pps` lists program points (allocation stacks), each
//! with totals over the run (`tb` bytes, `tbk` blocks), the amount live at
//! the global peak (`gb`, `gbk`) and at the end (`eb`, `ebk`), and `fs`, the
//! stack as indices into `ftbl`, leaf first. `ftbl` entries read
//! `0xADDR: function (file:line[:column])` or `0xADDR: function (in object)`.
//!
//! The six counters become sample types with pprof's heap names where they
//! mean the same: `alloc_*` = total, `inuse_*` = live at the end (the
//! default: what was never freed), and `peak_*` = live at the global peak.
//!
//! **Unknown functions.** Valgrind writes `0xADDR: ??? (in object)` for code
//! it has no symbol for. Such a frame keeps its whole entry as its name:
//! `???` alone would merge every unknown call site into one row.
//!
//! **Negative values.** DHAT's counters are unsigned; a negative one (an
//! edited or damaged file) is kept as written with one warning. A cut file
//! is not valid JSON and is refused by the JSON parser.

use serde::Deserialize;

use crate::Format;
use crate::error::Error;
use crate::model::{Frame, FrameId, Profile, ProfileBuilder, StrId, ValueType};

#[derive(Deserialize)]
struct File {
    #[serde(rename = "dhatFileVersion")]
    version: i64,
    mode: String,
    #[serde(default)]
    cmd: Option<String>,
    pps: Vec<ProgramPoint>,
    ftbl: Vec<String>,
}

#[derive(Deserialize)]
struct ProgramPoint {
    tb: i64,
    tbk: i64,
    #[serde(default)]
    gb: Option<i64>,
    #[serde(default)]
    gbk: Option<i64>,
    #[serde(default)]
    eb: Option<i64>,
    #[serde(default)]
    ebk: Option<i64>,
    fs: Vec<usize>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid {
        format: Format::Dhat,
        message: message.into(),
    }
}

/// What Valgrind names a function it has no symbol for.
const UNKNOWN_FUNCTION: &str = "???";

/// `0xADDR: function (file:line:col)` as `(function, file, line)`; an
/// unknown function (`0xADDR: ??? (in object)`) is named by the whole
/// entry, which tells it from other unknown ones.
pub(crate) fn parse_frame(entry: &str) -> (&str, &str, u32) {
    let rest = match entry.split_once(": ") {
        Some((addr, rest)) if addr.starts_with("0x") => rest,
        _ => entry,
    };
    if rest == UNKNOWN_FUNCTION || rest.starts_with("??? (") {
        return (entry, "", 0);
    }
    let Some(inner) = rest.strip_suffix(')') else {
        return (rest, "", 0);
    };
    let Some(open) = inner.rfind(" (") else {
        return (rest, "", 0);
    };
    let (function, location) = (&inner[..open], &inner[open + 2..]);
    if location.starts_with("in ") {
        // No debug information: the object the code is in.
        return (function, "", 0);
    }
    // file:line or file:line:column; a file name may itself contain ':'.
    let mut parts = location.rsplitn(3, ':');
    let last = parts.next().unwrap_or("");
    let prev = parts.next();
    let first = parts.next();
    match (prev, first) {
        (Some(line), Some(file)) if line.parse::<u32>().is_ok() && last.parse::<u32>().is_ok() => {
            (function, file, line.parse().unwrap_or(0))
        }
        (Some(_), _) if last.parse::<u32>().is_ok() => {
            let cut = location.len() - last.len() - 1;
            (function, &location[..cut], last.parse().unwrap_or(0))
        }
        _ => (rest, "", 0),
    }
}

/// Decodes a DHAT JSON file.
pub(crate) fn decode(bytes: &[u8], limits: &crate::Limits) -> Result<Profile, Error> {
    let bytes = crate::decode::format::skip_utf8_bom(bytes);
    let file: File = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    if file.version != 2 {
        return Err(invalid(format!(
            "dhatFileVersion {} (heapdiff reads version 2)",
            file.version
        )));
    }
    if !matches!(file.mode.as_str(), "heap" | "rust-heap") {
        return Err(invalid(format!(
            "a {:?} profile counts no heap memory; record a heap profile \
             (Valgrind's default --mode=heap, dhat-rs Profiler::new_heap())",
            file.mode
        )));
    }
    let mut b = ProfileBuilder::new(
        Format::Dhat,
        vec![
            ValueType::new("alloc_objects", "count"),
            ValueType::new("alloc_space", "bytes"),
            ValueType::new("inuse_objects", "count"),
            ValueType::new("inuse_space", "bytes"),
            ValueType::new("peak_objects", "count"),
            ValueType::new("peak_space", "bytes"),
        ],
    );
    b.set_limits(*limits);
    b.header_mut().default_sample_type = Some("inuse_space".into());
    if let Some(cmd) = &file.cmd {
        b.header_mut().comments.push(format!("command: {cmd}"));
    }
    let mut frames: Vec<Option<FrameId>> = vec![None; file.ftbl.len()];
    let mut stack = Vec::new();
    let mut first_negative = None;
    for (i, pp) in file.pps.iter().enumerate() {
        let (Some(eb), Some(ebk), Some(gb), Some(gbk)) = (pp.eb, pp.ebk, pp.gb, pp.gbk) else {
            return Err(invalid(format!(
                "program point {i} lacks eb/ebk/gb/gbk (live bytes and blocks)"
            )));
        };
        stack.clear();
        for &f in &pp.fs {
            let Some(entry) = file.ftbl.get(f) else {
                return Err(invalid(format!(
                    "program point {i} refers to frame {f}, but ftbl has {} entries",
                    file.ftbl.len()
                )));
            };
            let id = match frames[f] {
                Some(id) => id,
                None => {
                    let (function, source, line) = parse_frame(entry);
                    let function = b.intern(function);
                    let source: StrId = b.intern(source);
                    let id = b.frame(Frame::symbolized(function, source, line));
                    frames[f] = Some(id);
                    id
                }
            };
            stack.push(id);
        }
        let values = [pp.tbk, pp.tb, ebk, eb, gbk, gb];
        if values.iter().any(|&v| v < 0) {
            first_negative.get_or_insert(i);
        }
        b.push_sample(&stack, &values)?;
    }
    if let Some(i) = first_negative {
        b.warn(format!(
            "negative counts or sizes (first in program point {i}): DHAT never writes them \
             (edited or damaged?); kept as written"
        ));
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoder with the default limits.
    fn decode(bytes: &[u8]) -> Result<Profile, Error> {
        super::decode(bytes, &crate::Limits::default())
    }

    #[test]
    fn frames_of_dhat_rs_and_valgrind() {
        let cases = [
            (
                "0x55d1a2b3c4d5: leaky_dhat::Cache::remember (src/main.rs:31:9)",
                ("leaky_dhat::Cache::remember", "src/main.rs", 31),
            ),
            ("0x1091A9: main (leak.c:40)", ("main", "leak.c", 40)),
            (
                "0x483DD99: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
                ("malloc", "", 0),
            ),
            (
                "0x10922F: std::vector<int>::push_back(int const&) (stl_vector.h:1198)",
                (
                    "std::vector<int>::push_back(int const&)",
                    "stl_vector.h",
                    1198,
                ),
            ),
            (
                "0x1: f (C:\\src\\main.rs:7:3)",
                ("f", "C:\\src\\main.rs", 7),
            ),
            ("[root]", ("[root]", "", 0)),
            ("0x4A: ???", ("0x4A: ???", "", 0)),
            (
                "0x10919F: ??? (in /tmp/a.out)",
                ("0x10919F: ??? (in /tmp/a.out)", "", 0),
            ),
        ];
        for (entry, want) in cases {
            assert_eq!(parse_frame(entry), want, "{entry}");
        }
    }

    fn json(mode: &str, pps: &str) -> String {
        format!(
            r#"{{"dhatFileVersion":2,"mode":"{mode}","verb":"Allocated","bklt":true,"bkacc":false,
            "tu":"µs","Mtu":"s","tuth":10,"cmd":"leaky","pid":7,"te":100,"tg":50,
            "pps":[{pps}],
            "ftbl":["[root]","0x1: leak (src/main.rs:10:5)","0x2: main (src/main.rs:20:1)"]}}"#
        )
    }

    #[test]
    fn program_points_become_samples_with_six_types() {
        let pps = r#"{"tb":1000,"tbk":10,"tl":5,"mb":600,"mbk":6,"gb":600,"gbk":6,"eb":400,"ebk":4,"fs":[1,2]},
                     {"tb":8,"tbk":1,"tl":1,"mb":8,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2]}"#;
        let p = decode(json("rust-heap", pps).as_bytes()).unwrap();
        let names: Vec<_> = p
            .header
            .sample_types
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "alloc_objects",
                "alloc_space",
                "inuse_objects",
                "inuse_space",
                "peak_objects",
                "peak_space"
            ]
        );
        let samples: Vec<_> = p
            .samples()
            .map(|s| (s.stack.len(), s.values.to_vec()))
            .collect();
        assert_eq!(
            samples,
            vec![
                (2, vec![10, 1000, 4, 400, 6, 600]),
                (1, vec![1, 8, 0, 0, 0, 0])
            ]
        );
        let leaf = p.frame(p.samples().next().unwrap().stack.at(0));
        assert_eq!(
            (p.str(leaf.function), p.str(leaf.file), leaf.line),
            ("leak", "src/main.rs", 10)
        );
        assert_eq!(p.header.comments, ["command: leaky"]);
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        let pps = r#"{"tb":1,"tbk":1,"gb":1,"gbk":1,"eb":1,"ebk":1,"fs":[1]}"#;
        let text = format!("\u{feff}{}", json("heap", pps));
        assert_eq!(decode(text.as_bytes()).unwrap().total(3), 1);
    }

    #[test]
    fn unknown_functions_stay_apart() {
        let text = r#"{"dhatFileVersion":2,"mode":"heap","pps":[
            {"tb":8,"tbk":1,"gb":8,"gbk":1,"eb":8,"ebk":1,"fs":[1]},
            {"tb":16,"tbk":1,"gb":16,"gbk":1,"eb":16,"ebk":1,"fs":[2]}],
            "ftbl":["[root]","0x10919F: ??? (in /tmp/a.out)","0x1091C4: ??? (in /tmp/a.out)"]}"#;
        let p = decode(text.as_bytes()).unwrap();
        let leaves: Vec<&str> = p
            .samples()
            .map(|s| p.str(p.frame(s.stack.at(0)).function))
            .collect();
        assert_eq!(
            leaves,
            [
                "0x10919F: ??? (in /tmp/a.out)",
                "0x1091C4: ??? (in /tmp/a.out)"
            ]
        );
    }

    #[test]
    fn negative_values_are_one_warning() {
        let pps = r#"{"tb":-1,"tbk":1,"gb":1,"gbk":1,"eb":1,"ebk":1,"fs":[1]},
                     {"tb":1,"tbk":1,"gb":1,"gbk":1,"eb":-1,"ebk":1,"fs":[1]}"#;
        let p = decode(json("heap", pps).as_bytes()).unwrap();
        assert_eq!(
            p.warnings,
            [
                "negative counts or sizes (first in program point 0): DHAT never writes them \
              (edited or damaged?); kept as written"
            ]
        );
    }

    #[test]
    fn other_modes_and_bad_indices_are_refused() {
        let err = decode(json("ad-hoc", "").as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"ad-hoc\" profile counts no heap memory"),
            "{err}"
        );
        let pps = r#"{"tb":1,"tbk":1,"gb":1,"gbk":1,"eb":1,"ebk":1,"fs":[9]}"#;
        let err = decode(json("heap", pps).as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dhat JSON: program point 0 refers to frame 9, but ftbl has 3 entries"
        );
        let err = decode(br#"{"dhatFileVersion":2,"mode":"heap""#).unwrap_err();
        assert!(
            err.to_string().starts_with("dhat JSON: EOF while parsing"),
            "{err}"
        );
    }
}
