//! V8 sampling heap profiles (`.heapprofile`): what `node --heap-prof`
//! writes at exit, what the inspector's `HeapProfiler.getSamplingProfile`
//! returns, and what Chrome DevTools saves from "Allocation sampling".
//!
//! The file is JSON: `head` is the root of a call tree whose nodes hold a
//! `callFrame` (`functionName`, `scriptId`, `url`, 0-based `lineNumber` and
//! `columnNumber`), `selfSize` (bytes of the sampled allocations still live
//! when the profile was taken, allocated in that frame itself), `id` and
//! `children`; `samples` lists the sampled allocations (`size`, `nodeId`,
//! `ordinal`).
//!
//! Each node with memory becomes a sample whose stack is its path from the
//! root (the root itself left out): `space` is its `selfSize`, `objects` the
//! number of its `samples`. V8's line numbers are 0-based and name the
//! *function's* first line, not the allocating one: heapdiff makes them
//! 1-based, so a row reads `remember leaky.js:18` for the function that
//! starts on line 18. A function without a name is `(anonymous)`; a
//! `file://` URL is shown as its path. Built-ins (an empty URL) keep no
//! file, and count as library code for attribution.
//!
//! **Quirks of real files.** `node --heap-prof` writes samples whose node is
//! not in the tree (allocations made while the profile was being written):
//! they are left out, with a warning giving their number and bytes. V8 caps
//! stacks at 128 frames, which nests the JSON deeper than a JSON parser's
//! usual limit; the tree is read without one, on a stack that grows as
//! needed, into a flat list.

use std::fmt;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::Format;
use crate::error::Error;
use crate::model::{Frame, FrameId, Profile, ProfileBuilder, ValueType};

/// One call-tree node, its children found through `parent`.
struct Node {
    /// Index of the parent in the list; `NO_PARENT` for the root.
    parent: u32,
    id: u64,
    frame: CallFrame,
    self_size: i64,
}

const NO_PARENT: u32 = u32::MAX;

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallFrame {
    #[serde(default)]
    function_name: String,
    #[serde(default)]
    url: String,
    #[serde(default = "unknown_line")]
    line_number: i64,
}

fn unknown_line() -> i64 {
    -1
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sample {
    size: i64,
    node_id: u64,
}

/// The file: its tree flattened in pre-order, and its samples.
#[derive(Default)]
struct HeapProfile {
    nodes: Vec<Node>,
    samples: Vec<Sample>,
    has_head: bool,
}

/// Reads the top-level object.
struct FileSeed<'a>(&'a mut HeapProfile);

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a V8 heap profile object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "head" => {
                    map.next_value_seed(NodeSeed {
                        profile: &mut *self.0,
                        parent: NO_PARENT,
                    })?;
                    self.0.has_head = true;
                }
                "samples" => self.0.samples = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reads one node into the flat list, then its children.
struct NodeSeed<'a> {
    profile: &'a mut HeapProfile,
    parent: u32,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a call-tree node")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let me = u32::try_from(self.profile.nodes.len())
            .ok()
            .filter(|&i| i != NO_PARENT)
            .ok_or_else(|| de::Error::custom("more than 4 billion nodes"))?;
        self.profile.nodes.push(Node {
            parent: self.parent,
            id: 0,
            frame: CallFrame::default(),
            self_size: 0,
        });
        let mut id = None;
        while let Some(key) = map.next_key::<String>()? {
            let node = &mut self.profile.nodes[me as usize];
            match key.as_str() {
                "callFrame" => node.frame = map.next_value()?,
                "selfSize" => node.self_size = map.next_value()?,
                "id" => id = Some(map.next_value()?),
                "children" => map.next_value_seed(ChildrenSeed {
                    profile: &mut *self.profile,
                    parent: me,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        self.profile.nodes[me as usize].id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        Ok(())
    }
}

/// Reads a node's `children` array.
struct ChildrenSeed<'a> {
    profile: &'a mut HeapProfile,
    parent: u32,
}

impl<'de> DeserializeSeed<'de> for ChildrenSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ChildrenSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of call-tree nodes")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(NodeSeed {
                profile: &mut *self.profile,
                parent: self.parent,
            })?
            .is_some()
        {}
        Ok(())
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid {
        format: Format::V8HeapProfile,
        message: message.into(),
    }
}

/// Whether `bytes` start like a V8 heap profile: an object whose first key
/// is `head`, a node with a `callFrame`.
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    let start = bytes.trim_ascii_start();
    let Some(rest) = start.strip_prefix(b"{") else {
        return false;
    };
    let rest = rest.trim_ascii_start();
    rest.starts_with(b"\"head\"") && rest.windows(11).take(256).any(|w| w == b"\"callFrame\"")
}

/// Decodes a V8 sampling heap profile.
pub(crate) fn decode(bytes: &[u8], limits: &crate::Limits) -> Result<Profile, Error> {
    let bytes = crate::decode::format::skip_utf8_bom(bytes);
    let mut file = HeapProfile::default();
    let mut json = serde_json::Deserializer::from_slice(bytes);
    json.disable_recursion_limit();
    FileSeed(&mut file)
        .deserialize(serde_stacker::Deserializer::new(&mut json))
        .and_then(|()| json.end())
        .map_err(|e| invalid(e.to_string()))?;
    if !file.has_head {
        return Err(invalid("no \"head\": the call tree is missing"));
    }
    let mut b = ProfileBuilder::new(
        Format::V8HeapProfile,
        vec![
            ValueType::new("objects", "count"),
            ValueType::new("space", "bytes"),
        ],
    );
    b.set_limits(*limits);
    b.header_mut().default_sample_type = Some("space".into());

    let mut objects = vec![0i64; file.nodes.len()];
    let index: FxHashMap<u64, usize> = file
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i))
        .collect();
    let (mut strays, mut stray_bytes) = (0usize, 0i64);
    for sample in &file.samples {
        match index.get(&sample.node_id) {
            Some(&i) => objects[i] += 1,
            None => {
                strays += 1;
                stray_bytes = stray_bytes.saturating_add(sample.size);
            }
        }
    }
    if strays > 0 {
        b.warn(format!(
            "{strays} samples ({stray_bytes} bytes) name nodes the call tree does not have \
             (node --heap-prof writes them while it writes the profile); left out"
        ));
    }

    let frames = node_frames(&mut b, &file.nodes);
    let mut negative = false;
    let mut stack = Vec::new();
    for (i, node) in file.nodes.iter().enumerate().skip(1) {
        if node.self_size == 0 && objects[i] == 0 {
            continue;
        }
        negative |= node.self_size < 0;
        stack.clear();
        let mut at = i;
        while at != 0 {
            stack.push(frames[at]);
            at = file.nodes[at].parent as usize;
        }
        b.push_sample(&stack, &[objects[i], node.self_size])?;
    }
    if negative {
        b.warn("negative selfSize: V8 never writes one (edited or damaged?); kept as written");
    }
    Ok(b.finish())
}

/// Each node's frame (the root's is never used).
fn node_frames(b: &mut ProfileBuilder, nodes: &[Node]) -> Vec<FrameId> {
    let mut frames = Vec::with_capacity(nodes.len());
    for node in nodes {
        let f = &node.frame;
        let function = match f.function_name.as_str() {
            "" => "(anonymous)",
            name => name,
        };
        let file = f.url.strip_prefix("file://").unwrap_or(&f.url);
        let line = u32::try_from(f.line_number.saturating_add(1)).unwrap_or(0);
        let (function, file) = (b.intern(function), b.intern(file));
        frames.push(b.frame(Frame::symbolized(function, file, line)));
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u64, name: &str, url: &str, line: i64, size: i64, children: &str) -> String {
        format!(
            r#"{{"callFrame":{{"functionName":"{name}","scriptId":"1","url":"{url}","lineNumber":{line},"columnNumber":0}},"selfSize":{size},"id":{id},"children":[{children}]}}"#
        )
    }

    fn sample_file() -> String {
        let leak = node(3, "remember", "file:///app/leaky.js", 17, 4096, "");
        let set = node(4, "set", "", -1, 1024, "");
        let serve = node(2, "", "/app/leaky.js", 48, 0, &format!("{leak},{set}"));
        let head = node(1, "(root)", "", -1, 0, &serve);
        format!(
            r#"{{"head":{head},"samples":[{{"size":4096,"nodeId":3,"ordinal":1}},{{"size":1024,"nodeId":4,"ordinal":2}},{{"size":64,"nodeId":99,"ordinal":3}}],"startTime":1}}"#
        )
    }

    #[test]
    fn nodes_become_stacks_with_1_based_lines() {
        let text = sample_file();
        assert!(looks_like(text.as_bytes()));
        let p = decode(text.as_bytes(), &crate::Limits::default()).unwrap();
        let rows: Vec<(Vec<String>, Vec<i64>)> = p
            .samples()
            .map(|s| {
                let names = s
                    .stack
                    .iter()
                    .map(|f| {
                        let frame = p.frame(f);
                        format!(
                            "{} {}:{}",
                            p.frame_name(frame),
                            p.str(frame.file),
                            frame.line
                        )
                    })
                    .collect();
                (names, s.values.to_vec())
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    vec![
                        "remember /app/leaky.js:18".to_owned(),
                        "(anonymous) /app/leaky.js:49".to_owned()
                    ],
                    vec![1, 4096]
                ),
                (
                    vec![
                        "set :0".to_owned(),
                        "(anonymous) /app/leaky.js:49".to_owned()
                    ],
                    vec![1, 1024]
                ),
            ]
        );
        assert_eq!(p.header.default_sample_type.as_deref(), Some("space"));
        assert!(
            p.warnings[0].starts_with("1 samples (64 bytes) name nodes"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn deep_trees_are_read_without_a_recursion_limit() {
        // 20,000 levels: 40,000 nested JSON values, far past serde_json's
        // default limit of 128.
        let depth = 20_000;
        let mut file = String::from(r#"{"head":"#);
        for id in 1..depth {
            let open = node(id, "f", "/a.js", 0, 0, "");
            file.push_str(open.strip_suffix("]}").unwrap());
        }
        file.push_str(&node(depth, "leaf", "/a.js", 0, 8, ""));
        file.push_str(&"]}".repeat(depth as usize - 1));
        file.push_str(r#","samples":[]}"#);
        let p = decode(file.as_bytes(), &crate::Limits::default()).unwrap();
        assert_eq!(p.sample_count(), 1);
        assert_eq!(p.samples().next().unwrap().stack.len(), depth as usize - 1);
    }

    #[test]
    fn cut_and_wrong_files_are_refused_with_the_reason() {
        let text = sample_file();
        for (bytes, why) in [
            (&text.as_bytes()[..text.len() / 2], "EOF"),
            (br#"{"samples":[]}"#.as_slice(), "no \"head\""),
            (
                br#"{"head":{"callFrame":{}}}"#.as_slice(),
                "missing field `id`",
            ),
            (br#"{"head":[]}"#.as_slice(), "invalid type"),
        ] {
            let e = decode(bytes, &crate::Limits::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{e}");
        }
    }
}
