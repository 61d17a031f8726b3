//! speedscope JSON (`https://www.speedscope.app/file-format-schema.json`),
//! as `memray transform speedscope`, py-spy and `dotnet-trace convert`
//! write it.
//!
//! `shared.frames` lists frames (`name`, optional `file`, `line`, `col`);
//! `profiles` lists profiles, each `sampled` (`samples`: stacks of frame
//! indices, root first; `weights`, one per sample) or `evented` (`events`:
//! `O` opens and `C` closes a frame `at` a value), with a `unit`: `bytes`,
//! `none`, or a time (`nanoseconds`, …, `seconds`).
//!
//! Read: every profile, one sample type per unit. `bytes` is `space`;
//! `none` is `objects` beside a `bytes` profile (memray writes "Memory" in
//! bytes and "Allocations" as counts), else `samples`; a time unit is
//! `time`. A sampled profile's samples keep their weights; an evented
//! profile's stacks are weighted by the span each was open and on top.
//! Weights are rounded to whole units.

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::Format;
use crate::error::Error;
use crate::model::{Frame, FrameId, Profile, ProfileBuilder, ValueType};

#[derive(Deserialize)]
struct File {
    shared: Shared,
    profiles: Vec<Part>,
}

#[derive(Deserialize)]
struct Shared {
    frames: Vec<SharedFrame>,
}

#[derive(Deserialize)]
struct SharedFrame {
    name: String,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    line: Option<i64>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Part {
    Sampled {
        unit: String,
        samples: Vec<Vec<usize>>,
        weights: Vec<f64>,
    },
    Evented {
        unit: String,
        events: Vec<Event>,
    },
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    frame: usize,
    at: f64,
}

impl Part {
    fn unit(&self) -> &str {
        match self {
            Part::Sampled { unit, .. } | Part::Evented { unit, .. } => unit,
        }
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid {
        format: Format::Speedscope,
        message: message.into(),
    }
}

/// Whether `bytes` start like a speedscope file: its schema URL near the
/// start.
pub(crate) fn looks_like(head: &[u8]) -> bool {
    const SCHEMA: &[u8] = b"speedscope.app/file-format-schema";
    head.trim_ascii_start().starts_with(b"{") && head.windows(SCHEMA.len()).any(|w| w == SCHEMA)
}

/// The sample type of a unit, given whether some profile is in bytes.
fn type_of(unit: &str, with_bytes: bool) -> ValueType {
    match unit {
        "bytes" => ValueType::new("space", "bytes"),
        "none" if with_bytes => ValueType::new("objects", "count"),
        "none" => ValueType::new("samples", "count"),
        time => ValueType::new("time", time),
    }
}

/// Decodes a speedscope file.
pub(crate) fn decode(bytes: &[u8], limits: &crate::Limits) -> Result<Profile, Error> {
    let bytes = crate::decode::format::skip_utf8_bom(bytes);
    let file: File = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    let with_bytes = file.profiles.iter().any(|p| p.unit() == "bytes");
    let mut types: Vec<ValueType> = Vec::new();
    let type_index: Vec<usize> = file
        .profiles
        .iter()
        .map(|p| {
            let t = type_of(p.unit(), with_bytes);
            types.iter().position(|x| *x == t).unwrap_or_else(|| {
                types.push(t);
                types.len() - 1
            })
        })
        .collect();
    if types.is_empty() {
        return Err(invalid("no profiles"));
    }
    let mut b = ProfileBuilder::new(Format::Speedscope, types.clone());
    b.set_limits(*limits);
    if types.iter().any(|t| t.name == "space") {
        b.header_mut().default_sample_type = Some("space".into());
    }
    let frames: Vec<FrameId> = file
        .shared
        .frames
        .iter()
        .map(|f| {
            let (name, path) = (b.intern(&f.name), b.intern(f.file.as_deref().unwrap_or("")));
            let line = f.line.and_then(|l| u32::try_from(l).ok()).unwrap_or(0);
            b.frame(Frame::symbolized(name, path, line))
        })
        .collect();
    let mut values = vec![0i64; types.len()];
    let mut stack = Vec::new();
    for (p, (part, &t)) in file.profiles.iter().zip(&type_index).enumerate() {
        for (root_first, weight) in weighted_stacks(p, part)? {
            stack.clear();
            for &i in root_first.iter().rev() {
                stack.push(*frames.get(i).ok_or_else(|| {
                    invalid(format!(
                        "profile {p}: frame {i}, but shared.frames has {}",
                        frames.len()
                    ))
                })?);
            }
            values.fill(0);
            values[t] = weight.round() as i64;
            b.push_sample(&stack, &values)?;
        }
    }
    Ok(b.finish())
}

/// A profile's stacks (root first) and their weights.
fn weighted_stacks(p: usize, part: &Part) -> Result<Vec<(Vec<usize>, f64)>, Error> {
    match part {
        Part::Sampled {
            samples, weights, ..
        } => {
            if samples.len() != weights.len() {
                return Err(invalid(format!(
                    "profile {p}: {} samples but {} weights",
                    samples.len(),
                    weights.len()
                )));
            }
            Ok(samples
                .iter()
                .cloned()
                .zip(weights.iter().copied())
                .collect())
        }
        Part::Evented { events, .. } => {
            // The span between two events goes to the stack open during it.
            let mut open: Vec<usize> = Vec::new();
            let mut spans: FxHashMap<Vec<usize>, f64> = FxHashMap::default();
            let mut order: Vec<Vec<usize>> = Vec::new();
            let mut last = None;
            for (e, event) in events.iter().enumerate() {
                if let Some(at) = last
                    && !open.is_empty()
                    && event.at > at
                {
                    let slot = spans.entry(open.clone()).or_insert_with(|| {
                        order.push(open.clone());
                        0.0
                    });
                    *slot += event.at - at;
                }
                last = Some(event.at);
                match event.kind.as_str() {
                    "O" => open.push(event.frame),
                    "C" if open.last() == Some(&event.frame) => {
                        open.pop();
                    }
                    other => {
                        return Err(invalid(format!(
                            "profile {p}, event {e}: {other:?} of frame {} does not close the \
                             frame open last",
                            event.frame
                        )));
                    }
                }
            }
            Ok(order
                .into_iter()
                .map(|s| {
                    let w = spans[&s];
                    (s, w)
                })
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMRAY: &str = r#"{"$schema":"https://www.speedscope.app/file-format-schema.json",
      "shared":{"frames":[{"name":"main","file":"/app.py","line":3},{"name":"copy_from","file":"/lib.py","line":53},{"name":"<native>"}]},
      "profiles":[
        {"type":"sampled","name":"Memory","unit":"bytes","startValue":0,"endValue":3,"samples":[[0,1],[0,2]],"weights":[1000,24]},
        {"type":"sampled","name":"Allocations","unit":"none","startValue":0,"endValue":3,"samples":[[0,1],[0,2]],"weights":[10,1]}],
      "name":"x","activeProfileIndex":0,"exporter":"memray@1.20.0"}"#;

    fn rows(p: &Profile) -> Vec<(Vec<String>, Vec<i64>)> {
        p.samples()
            .map(|s| {
                let names = s.stack.iter().map(|f| p.frame_name(p.frame(f))).collect();
                (names, s.values.to_vec())
            })
            .collect()
    }

    #[test]
    fn sampled_profiles_become_one_type_per_unit() {
        assert!(looks_like(MEMRAY.as_bytes()));
        let p = decode(MEMRAY.as_bytes(), &crate::Limits::default()).unwrap();
        let names: Vec<&str> = p
            .header
            .sample_types
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(names, ["space", "objects"]);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rows(&p),
            [
                (s(&["copy_from", "main"]), vec![1000, 0]),
                (s(&["<native>", "main"]), vec![24, 0]),
                (s(&["copy_from", "main"]), vec![0, 10]),
                (s(&["<native>", "main"]), vec![0, 1]),
            ]
        );
        let f = p
            .frames()
            .iter()
            .find(|f| p.str(f.function) == "copy_from")
            .unwrap();
        assert_eq!((p.str(f.file), f.line), ("/lib.py", 53));
    }

    #[test]
    fn evented_profiles_weigh_each_stack_by_its_span() {
        let text = r#"{"$schema":"https://www.speedscope.app/file-format-schema.json",
          "shared":{"frames":[{"name":"a"},{"name":"b"}]},
          "profiles":[{"type":"evented","name":"t","unit":"milliseconds","startValue":0,"endValue":10,
            "events":[{"type":"O","frame":0,"at":0},{"type":"O","frame":1,"at":2},{"type":"C","frame":1,"at":7},{"type":"C","frame":0,"at":10}]}]}"#;
        let p = decode(text.as_bytes(), &crate::Limits::default()).unwrap();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(rows(&p), [(s(&["a"]), vec![5]), (s(&["b", "a"]), vec![5])]);
        assert_eq!(
            p.header.sample_types[0],
            ValueType::new("time", "milliseconds")
        );
        let bad = text.replace(r#""type":"C","frame":1"#, r#""type":"C","frame":0"#);
        let e = decode(bad.as_bytes(), &crate::Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not close the frame open last"), "{e}");
    }

    #[test]
    fn mismatched_or_cut_files_are_refused() {
        let bad = MEMRAY.replace("[1000,24]", "[1000]");
        let e = decode(bad.as_bytes(), &crate::Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 samples but 1 weights"), "{e}");
        let e = decode(&MEMRAY.as_bytes()[..200], &crate::Limits::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("EOF"), "{e}");
        let e = decode(
            MEMRAY.replace("[0,2]]", "[0,9]]").as_bytes(),
            &crate::Limits::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("frame 9, but shared.frames has 3"), "{e}");
    }
}
