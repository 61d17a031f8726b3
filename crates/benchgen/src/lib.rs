//! Deterministic generators of large, realistic heap-profile pairs for
//! heapdiff's benchmarks: pprof (Go-like, with inlined frames and `bytes`
//! labels), jemalloc `heap_v2` dumps, tracemalloc snapshots and folded
//! stacks, all from the same synthetic call graph.
//!
//! A pair holds a controlled leak: the `after` profile has every stack of
//! `before` (their values changed a little), more stacks, and one function
//! (`leak_target`) whose stacks grow a lot. The same [`Shape`] and seed give
//! byte-identical files.

use std::fmt::Write as _;
use std::io::Write as _;

use heapdiff_profile::pprof::proto;
use prost::Message;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Distinct stacks in the after profile (before has 40% of them).
    pub stacks: usize,
    /// Distinct functions in the call graph.
    pub functions: usize,
    /// Deepest stack (stacks are between half of it and all of it).
    pub depth: usize,
    /// Seed of the generator.
    pub seed: u64,
}

impl Shape {
    /// A shape with `stacks` stacks and proportionate defaults: 5,000
    /// functions, stacks up to 64 frames.
    pub fn with_stacks(stacks: usize) -> Self {
        Shape {
            stacks,
            functions: 5_000,
            depth: 64,
            seed: 42,
        }
    }
}

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One generated stack: function indices, root first; its value in each
/// profile (objects, bytes).
pub struct Stack {
    /// Function indices, outermost caller first.
    pub frames: Vec<u32>,
    /// (objects, bytes) before; (0, 0) when the stack is new.
    pub before: (i64, i64),
    /// (objects, bytes) after.
    pub after: (i64, i64),
}

/// Index of the leaking function.
pub const LEAK: u32 = 1;

/// The stacks of a pair. Frames follow a call graph with a branching factor
/// of 4 per level, so stacks share long prefixes as real ones do.
pub fn stacks(shape: &Shape) -> Vec<Stack> {
    let mut rng = Rng(shape.seed | 1);
    let functions = shape.functions.max(16) as u64;
    let mut out = Vec::with_capacity(shape.stacks);
    for i in 0..shape.stacks {
        let depth = shape.depth / 2 + rng.below(shape.depth / 2 + 1);
        let mut frames = Vec::with_capacity(depth.max(1));
        let mut f: u64 = 0; // main
        frames.push(0u32);
        for level in 1..depth.max(1) {
            let choice = rng.below(4) as u64;
            f = (f
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(choice * 7919 + level as u64))
                % (functions - 2)
                + 2;
            frames.push(f as u32);
        }
        let leak = i % 10 == 0;
        if leak {
            frames.push(LEAK);
        }
        let size = 16 << rng.below(8);
        let objects = 1 + rng.below(20) as i64;
        let present_before = i % 5 < 2;
        let before = if present_before {
            (objects, objects * size as i64)
        } else {
            (0, 0)
        };
        let grow = if leak { 5 } else { 1 + rng.below(2) as i64 };
        let after_objects = if present_before {
            objects * grow
        } else {
            objects
        };
        out.push(Stack {
            frames,
            before,
            after: (after_objects, after_objects * size as i64),
        });
    }
    out
}

fn function_name(f: u32) -> String {
    match f {
        0 => "main.main".to_owned(),
        LEAK => "main.(*cache).leakTarget".to_owned(),
        f => format!("pkg{}.(*Service{}).handle{}", f % 97, f % 13, f),
    }
}

fn file_name(f: u32) -> String {
    format!("/src/service/pkg{}/file{}.go", f % 97, f % 31)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// A Go-like pprof pair (gzipped): four sample types, `period_type
/// space/bytes`, a `bytes` label on every sample, every fourth location
/// with an inlined frame.
pub fn pprof_pair(shape: &Shape) -> (Vec<u8>, Vec<u8>) {
    let (before, after) = pprof_pair_uncompressed(shape);
    (gzip(&before), gzip(&after))
}

/// [`pprof_pair`] before gzip: the serialized protobuf messages.
pub fn pprof_pair_uncompressed(shape: &Shape) -> (Vec<u8>, Vec<u8>) {
    let stacks = stacks(shape);
    let one = |after: bool| {
        let mut strings: Vec<Vec<u8>> = vec![Vec::new()];
        let mut intern = std::collections::HashMap::new();
        let mut s = |t: &str, strings: &mut Vec<Vec<u8>>| -> i64 {
            *intern.entry(t.to_owned()).or_insert_with(|| {
                strings.push(t.as_bytes().to_vec());
                strings.len() as i64 - 1
            })
        };
        let types = [
            "alloc_objects",
            "count",
            "alloc_space",
            "bytes",
            "inuse_objects",
            "count",
            "inuse_space",
            "bytes",
        ];
        let ids: Vec<i64> = types.iter().map(|t| s(t, &mut strings)).collect();
        let bytes_key = s("bytes", &mut strings);
        let space = s("space", &mut strings);
        let mut functions = Vec::new();
        let mut locations = Vec::new();
        let mut loc_of = std::collections::HashMap::new();
        let mut samples = Vec::new();
        for st in &stacks {
            let (objects, bytes) = if after { st.after } else { st.before };
            if objects == 0 {
                continue;
            }
            let mut location_id = Vec::with_capacity(st.frames.len());
            for &f in st.frames.iter().rev() {
                let id = *loc_of.entry(f).or_insert_with(|| {
                    let fid = functions.len() as u64 + 1;
                    functions.push(proto::Function {
                        id: fid,
                        name: s(&function_name(f), &mut strings),
                        system_name: 0,
                        filename: s(&file_name(f), &mut strings),
                        start_line: 10,
                    });
                    let mut line = vec![proto::Line {
                        function_id: fid,
                        line: 10 + i64::from(f % 200),
                        column: 0,
                    }];
                    if f % 4 == 3 {
                        let inner = functions.len() as u64 + 1;
                        functions.push(proto::Function {
                            id: inner,
                            name: s(&format!("{}.inlined", function_name(f)), &mut strings),
                            system_name: 0,
                            filename: s(&file_name(f), &mut strings),
                            start_line: 5,
                        });
                        line.insert(
                            0,
                            proto::Line {
                                function_id: inner,
                                line: 7,
                                column: 0,
                            },
                        );
                    }
                    let id = locations.len() as u64 + 1;
                    locations.push(proto::Location {
                        id,
                        mapping_id: 0,
                        address: 0x40_0000 + u64::from(f) * 16,
                        line,
                        is_folded: false,
                    });
                    id
                });
                location_id.push(id);
            }
            samples.push(proto::Sample {
                location_id,
                value: vec![objects, bytes, objects, bytes],
                label: vec![proto::Label {
                    key: bytes_key,
                    str: 0,
                    num: bytes / objects,
                    num_unit: 0,
                }],
            });
        }
        let p = proto::Profile {
            sample_type: ids
                .chunks(2)
                .map(|c| proto::ValueType {
                    r#type: c[0],
                    unit: c[1],
                })
                .collect(),
            sample: samples,
            location: locations,
            function: functions,
            string_table: strings,
            period_type: Some(proto::ValueType {
                r#type: space,
                unit: ids[3],
            }),
            period: 524_288,
            ..Default::default()
        };
        p.encode_to_vec()
    };
    (one(false), one(true))
}

/// A jemalloc `heap_v2` pair (text): raw sampled rows, one mapping of a
/// binary that does not exist (symbolization is not measured here).
pub fn jemalloc_pair(shape: &Shape) -> (String, String) {
    let stacks = stacks(shape);
    let one = |after: bool| {
        let mut out = String::with_capacity(stacks.len() * 200);
        let (mut n, mut b) = (0i64, 0i64);
        for st in &stacks {
            let v = if after { st.after } else { st.before };
            n += v.0;
            b += v.1;
        }
        let _ = writeln!(out, "heap_v2/524288\n  t*: {n}: {b} [0: 0]");
        for st in &stacks {
            let (objects, bytes) = if after { st.after } else { st.before };
            if objects == 0 {
                continue;
            }
            out.push('@');
            for &f in st.frames.iter().rev() {
                let _ = write!(out, " 0x{:x}", 0x55_0000_1000u64 + u64::from(f) * 64 + 5);
            }
            let _ = writeln!(
                out,
                "\n  t*: {objects}: {bytes} [0: 0]\n  t0: {objects}: {bytes} [0: 0]"
            );
        }
        out.push_str("\nMAPPED_LIBRARIES:\n55000000000-55000400000 r-xp 00000000 08:01 1234 /nonexistent/bench-app\n");
        out
    };
    (one(false), one(true))
}

/// A tracemalloc pair (pickles as `Snapshot.dump()` writes them): one trace
/// per object, tracebacks shared through the memo.
pub fn tracemalloc_pair(shape: &Shape) -> (Vec<u8>, Vec<u8>) {
    let stacks = stacks(shape);
    let one = |after: bool| {
        let mut p: Vec<u8> = vec![0x80, 5];
        let short = |p: &mut Vec<u8>, s: &str| {
            if s.len() < 256 {
                p.push(0x8c);
                p.push(s.len() as u8);
            } else {
                p.push(b'X');
                p.extend((s.len() as u32).to_le_bytes());
            }
            p.extend(s.as_bytes());
        };
        // The narrowest integer opcode, as the pickler picks it.
        let int = |p: &mut Vec<u8>, v: i64| {
            if let Ok(b) = u8::try_from(v) {
                p.extend([b'K', b]);
            } else if let Ok(m) = u16::try_from(v) {
                p.push(b'M');
                p.extend(m.to_le_bytes());
            } else {
                p.push(b'J');
                p.extend((v as i32).to_le_bytes());
            }
        };
        short(&mut p, "tracemalloc");
        short(&mut p, "Snapshot");
        p.extend([0x93, b')', 0x81, b'}', b'(']);
        short(&mut p, "traces");
        short(&mut p, "tracemalloc");
        short(&mut p, "_Traces");
        p.extend([0x93, b')', 0x81, b'}']);
        short(&mut p, "_traces");
        p.extend([b']', 0x94, b'(']);
        // As CPython's pickler: every string, tuple and the list are
        // memoized (MEMOIZE after each), a value seen again is a BINGET or
        // LONG_BINGET of its slot. Slot 0 is the list.
        let mut memo = 1u32;
        let get = |p: &mut Vec<u8>, slot: u32| match u8::try_from(slot) {
            Ok(s) => p.extend([b'h', s]),
            Err(_) => {
                p.push(b'j');
                p.extend(slot.to_le_bytes());
            }
        };
        let mut files: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        for st in &stacks {
            let (objects, bytes) = if after { st.after } else { st.before };
            if objects == 0 {
                continue;
            }
            let size = bytes / objects;
            let mut slot = None;
            for k in 0..objects {
                p.push(b'(');
                int(&mut p, 0);
                int(&mut p, size);
                match slot {
                    Some(s) => get(&mut p, s),
                    None => {
                        p.push(b'(');
                        for &f in st.frames.iter().rev().take(25) {
                            let file = file_name(f).replace(".go", ".py");
                            match files.get(&file) {
                                Some(&s) => get(&mut p, s),
                                None => {
                                    short(&mut p, &file);
                                    p.push(0x94);
                                    files.insert(file, memo);
                                    memo += 1;
                                }
                            }
                            int(&mut p, 10 + i64::from(f % 200));
                            p.extend([0x86, 0x94]);
                            memo += 1;
                        }
                        p.extend([b't', 0x94]);
                        slot = Some(memo);
                        memo += 1;
                    }
                }
                int(&mut p, st.frames.len() as i64);
                p.extend([b't', 0x94]);
                memo += 1;
                // APPENDS in batches, as the pickler does.
                if k % 1000 == 999 {
                    p.extend([b'e', b'(']);
                }
            }
            p.extend([b'e', b'(']);
        }
        p.push(b'e');
        p.extend([b's', b'b']);
        short(&mut p, "traceback_limit");
        int(&mut p, 25);
        p.extend([b'u', b'b', b'.']);
        p
    };
    (one(false), one(true))
}

/// A folded-stacks pair: `frame;frame;… bytes` per stack.
pub fn folded_pair(shape: &Shape) -> (String, String) {
    let stacks = stacks(shape);
    let one = |after: bool| {
        let mut out = String::with_capacity(stacks.len() * 400);
        for st in &stacks {
            let (_, bytes) = if after { st.after } else { st.before };
            if bytes == 0 {
                continue;
            }
            for (i, &f) in st.frames.iter().enumerate() {
                if i > 0 {
                    out.push(';');
                }
                out.push_str(&function_name(f));
            }
            let _ = writeln!(out, " {bytes}");
        }
        out
    };
    (one(false), one(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_deterministic_and_decode() {
        let shape = Shape {
            stacks: 500,
            functions: 300,
            depth: 20,
            seed: 7,
        };
        let (b, a) = pprof_pair(&shape);
        assert_eq!(pprof_pair(&shape).1, a, "same shape, same bytes");
        let before = heapdiff_profile::decode(&b).unwrap();
        let after = heapdiff_profile::decode(&a).unwrap();
        assert_eq!(after.sample_count(), 500);
        assert_eq!(before.sample_count(), 200);
        let (jb, ja) = jemalloc_pair(&shape);
        assert_eq!(
            heapdiff_profile::decode(ja.as_bytes())
                .unwrap()
                .sample_count(),
            500
        );
        assert_eq!(
            heapdiff_profile::decode(jb.as_bytes())
                .unwrap()
                .sample_count(),
            200
        );
        let (tb, ta) = tracemalloc_pair(&shape);
        let t = heapdiff_profile::decode(&ta).unwrap();
        assert_eq!(t.sample_count(), 500, "one sample per shared traceback");
        assert!(heapdiff_profile::decode(&tb).is_ok());
        let (fb, fa) = folded_pair(&shape);
        assert_eq!(
            heapdiff_profile::decode(fa.as_bytes())
                .unwrap()
                .sample_count(),
            500
        );
        assert_eq!(
            heapdiff_profile::decode(fb.as_bytes())
                .unwrap()
                .sample_count(),
            200
        );
        // The leak is in the after profile and grows.
        let leak: i64 = stacks(&shape)
            .iter()
            .filter(|s| s.frames.last() == Some(&LEAK))
            .map(|s| s.after.1 - s.before.1)
            .sum();
        assert!(leak > 0);
    }
}
