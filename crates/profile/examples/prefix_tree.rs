//! Measures the alternative to heapdiff's flat stacks that the design doc
//! weighs: a prefix tree of frames built sample by sample while decoding,
//! one hash lookup per `(parent node, frame)`. Prints, per profile, the
//! frames, the distinct prefixes, and the time to decode and to build the
//! tree, with and without reusing the previous sample's path.
//!
//! ```text
//! cargo run --release -p heapdiff-profile --example prefix_tree -- before.pb.gz after.pb.gz
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use heapdiff_profile::Profile;
use rustc_hash::FxHashMap;

/// A prefix tree of frames: node 0 is the root; every other node is one
/// frame under its parent, with the values of the samples ending there.
struct PrefixTree {
    parent: Vec<u32>,
    frame: Vec<u32>,
    value: Vec<i64>,
    child: FxHashMap<(u32, u32), u32>,
}

impl PrefixTree {
    fn new() -> Self {
        PrefixTree {
            parent: vec![u32::MAX],
            frame: vec![u32::MAX],
            value: vec![0],
            child: FxHashMap::default(),
        }
    }

    /// The node for `frame` under `parent`, added if new.
    fn child(&mut self, parent: u32, frame: u32) -> u32 {
        let next = self.parent.len() as u32;
        let node = *self.child.entry((parent, frame)).or_insert(next);
        if node == next {
            self.parent.push(parent);
            self.frame.push(frame);
            self.value.push(0);
        }
        node
    }
}

/// Builds the tree from the root down. With `reuse`, the path shared with
/// the previous sample is taken from it instead of looked up again.
fn build(profile: &Profile, reuse: bool) -> PrefixTree {
    let mut tree = PrefixTree::new();
    let mut path: Vec<(u32, u32)> = Vec::new();
    for sample in profile.samples() {
        let depth = sample.stack.len();
        let root_first = (0..depth).map(|d| sample.stack.at(depth - 1 - d).index() as u32);
        let mut node = 0;
        let mut shared = 0;
        if reuse {
            shared = path
                .iter()
                .zip(root_first.clone())
                .take_while(|(step, frame)| step.0 == *frame)
                .count();
            node = if shared == 0 { 0 } else { path[shared - 1].1 };
            path.truncate(shared);
        }
        for frame in root_first.skip(shared) {
            node = tree.child(node, frame);
            if reuse {
                path.push((frame, node));
            }
        }
        tree.value[node as usize] += sample.values.last().copied().unwrap_or(0);
    }
    tree
}

fn fastest(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = (Duration::MAX, 0);
    for _ in 0..runs {
        let start = Instant::now();
        let n = f();
        best = best.min((start.elapsed(), n));
    }
    best
}

fn main() {
    for path in std::env::args().skip(1) {
        let (decode, _) = fastest(3, || {
            heapdiff_profile::open(Path::new(&path)).map_or(0, |p| p.sample_count())
        });
        let profile = heapdiff_profile::open(Path::new(&path)).expect("a readable profile");
        let frames: usize = profile.samples().map(|s| s.stack.len()).sum();
        let (reused, nodes) = fastest(3, || build(&profile, true).parent.len() - 1);
        let (plain, _) = fastest(3, || build(&profile, false).parent.len() - 1);
        println!(
            "{path}: {} samples, {frames} frames, {nodes} prefixes; decode {decode:.1?}, \
             prefix tree {plain:.1?} ({reused:.1?} reusing the previous path)",
            profile.sample_count()
        );
    }
}
