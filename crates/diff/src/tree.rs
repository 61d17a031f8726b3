//! The diff tree: both profiles' stacks merged into one call tree (root =
//! outermost caller), each node carrying before and after values. It is what
//! the flame graphs draw.
//!
//! Every node has *self* values (stacks that end at it) and *total* values
//! (stacks that pass through it: self plus all descendants).
//!
//! The tree is built by sorting, not hashing: the stacks (root first) are
//! sorted (on two threads), then one pass creates nodes for the part of each stack that
//! differs from the previous one. With hundreds of thousands of deep stacks
//! this touches memory sequentially, where a `(parent, frame) -> child` hash
//! map misses the cache on nearly every frame. Nodes come out in pre-order:
//! parents before children, siblings ordered by key id.

use crate::{KeyId, Side};

/// A node's position in the [`Tree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The node's position in [`Tree::nodes`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A node's size on both sides (the tree carries no object counts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeValues {
    /// Value in the before profile.
    pub before: i64,
    /// Value in the after profile.
    pub after: i64,
}

impl TreeValues {
    /// after − before.
    pub fn delta(&self) -> i64 {
        self.after.saturating_sub(self.before)
    }
}

/// One call-tree node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The frame this node stands for; `None` only for the root.
    pub key: Option<KeyId>,
    /// The caller's node; the root is its own parent.
    pub parent: NodeId,
    /// Values of the stacks that end here.
    pub self_values: TreeValues,
    /// Values of the stacks that pass through here (self included).
    pub total: TreeValues,
}

/// A call tree of both profiles. See the module documentation.
#[derive(Clone, Debug)]
pub struct Tree {
    /// Sum of the positive changes of every distinct call path (each node's
    /// own stacks), counted before small subtrees were folded.
    pub path_growth: i64,
    /// Sum of the negative changes of every distinct call path (≤ 0).
    pub path_shrinkage: i64,
    nodes: Vec<Node>,
    /// Children of node i: `child_list[child_start[i]..child_start[i + 1]]`.
    child_start: Vec<u32>,
    child_list: Vec<NodeId>,
}

impl Tree {
    /// The root node (all stacks).
    pub const ROOT: NodeId = NodeId(0);

    /// Every node; the root is first and parents come before children.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Every node id, root first, parents before children.
    pub fn node_ids(&self) -> impl DoubleEndedIterator<Item = NodeId> + ExactSizeIterator + use<> {
        (0..self.nodes.len() as u32).map(NodeId)
    }

    /// A node by id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// A node's children, ordered by key id.
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let i = id.index();
        &self.child_list[self.child_start[i] as usize..self.child_start[i + 1] as usize]
    }

    /// The keys from the root's child down to `id` (outermost caller first).
    pub fn path(&self, mut id: NodeId) -> Vec<KeyId> {
        let mut keys = Vec::new();
        while let Some(k) = self.nodes[id.index()].key {
            keys.push(k);
            id = self.nodes[id.index()].parent;
        }
        keys.reverse();
        keys
    }
}

/// One profile's stacks, collected, then sorted (on that profile's thread)
/// so that [`build`] can merge both sides in one pass.
#[derive(Debug)]
pub(crate) struct SideStacks {
    side: Side,
    /// Every stack's keys, root first, back to back, as big-endian bytes so
    /// that comparing two stacks is one `memcmp` in key order.
    bytes: Vec<u8>,
    stacks: Vec<Stack>,
}

#[derive(Debug)]
struct Stack {
    start: usize,
    len: usize,
    value: f64,
}

impl SideStacks {
    pub(crate) fn new(side: Side) -> Self {
        SideStacks {
            side,
            bytes: Vec::new(),
            stacks: Vec::new(),
        }
    }

    /// Multiplies every stack's value by `factor`.
    pub(crate) fn scale(&mut self, factor: f64) {
        for s in &mut self.stacks {
            s.value *= factor;
        }
    }

    /// Adds one stack, given leaf first.
    pub(crate) fn add(&mut self, leaf_first: &[KeyId], value: f64) {
        let start = self.bytes.len();
        for key in leaf_first.iter().rev() {
            self.bytes.extend_from_slice(&key.0.to_be_bytes());
        }
        self.stacks.push(Stack {
            start,
            len: self.bytes.len() - start,
            value,
        });
    }
}

/// A sorted run of stacks from one side.
struct Run<'a> {
    side: Side,
    bytes: &'a [u8],
    stacks: &'a [Stack],
}

impl Run<'_> {
    fn path(&self, s: &Stack) -> &[u8] {
        &self.bytes[s.start..s.start + s.len]
    }
}

fn sort_stacks(bytes: &[u8], stacks: &mut [Stack]) {
    stacks.sort_unstable_by(|a, b| {
        bytes[a.start..a.start + a.len].cmp(&bytes[b.start..b.start + b.len])
    });
}

/// Builds the tree from both sides' stacks: sorts them (on two threads, in
/// runs of about equal size), then merges the sorted runs, creating nodes
/// only for the part of each stack that differs from the previous one.
/// Subtrees whose before and after values are both below `min` are folded
/// into their parent (their values become the parent's own), which bounds
/// the tree by what a flame graph can show; [`Tree::path_growth`] is summed
/// before folding, over every call path.
pub(crate) fn build(before: &mut SideStacks, after: &mut SideStacks, min: f64) -> Tree {
    let stacks = before.stacks.len() + after.stacks.len();
    let frames = (before.bytes.len() + after.bytes.len()) / 4;
    let (big, small) = if after.stacks.len() >= before.stacks.len() {
        (after, before)
    } else {
        (before, after)
    };
    // Thread one sorts the smaller side and the head of the bigger one, thread
    // two the rest of the bigger one: half the stacks each.
    let split = big.stacks.len().saturating_sub(stacks / 2);
    let (head, tail) = big.stacks.split_at_mut(split);
    std::thread::scope(|s| {
        s.spawn(|| sort_stacks(&big.bytes, tail));
        sort_stacks(&small.bytes, &mut small.stacks);
        sort_stacks(&big.bytes, head);
    });
    let runs = [
        Run {
            side: small.side,
            bytes: &small.bytes,
            stacks: &small.stacks,
        },
        Run {
            side: big.side,
            bytes: &big.bytes,
            stacks: &big.stacks[..split],
        },
        Run {
            side: big.side,
            bytes: &big.bytes,
            stacks: &big.stacks[split..],
        },
    ];

    // At least one node per distinct stack; usually a few.
    let mut nodes = Vec::with_capacity(stacks.saturating_mul(4).min(frames) + 1);
    // Each node's own (before, after) sums, in floating point until the end:
    // the stacks that end at it, plus the subtrees folded into it.
    let mut sums: Vec<[f64; 2]> = Vec::with_capacity(nodes.capacity());
    sums.push([0.0; 2]);
    nodes.push(Node {
        key: None,
        parent: Tree::ROOT,
        self_values: TreeValues::default(),
        total: TreeValues::default(),
    });
    let mut fold = Fold {
        min,
        open: Vec::new(),
        path_growth: 0,
        path_shrinkage: 0,
    };
    let mut root_own = [0.0f64; 2];
    let mut previous: &[u8] = &[];
    let mut heads = [0usize; 3];
    loop {
        // The run whose next stack sorts first.
        let mut pick: Option<(usize, &[u8])> = None;
        for (r, run) in runs.iter().enumerate() {
            if let Some(s) = run.stacks.get(heads[r]) {
                let path = run.path(s);
                if pick.is_none_or(|(_, best)| path < best) {
                    pick = Some((r, path));
                }
            }
        }
        let Some((r, path)) = pick else { break };
        let s = &runs[r].stacks[heads[r]];
        heads[r] += 1;
        let shared = common_prefix(path, previous) / 4;
        fold.close_to(shared, &mut nodes, &mut sums);
        for chunk in path[4 * shared..].chunks_exact(4) {
            let key = KeyId(u32::from_be_bytes(chunk.try_into().expect("4 bytes")));
            let parent = fold.open.last().map_or(Tree::ROOT, |o| o.node);
            fold.open.push(Open {
                node: NodeId(nodes.len() as u32),
                own: [0.0; 2],
                below: [0.0; 2],
            });
            nodes.push(Node {
                key: Some(key),
                parent,
                self_values: TreeValues::default(),
                total: TreeValues::default(),
            });
            sums.push([0.0; 2]);
        }
        let side = match runs[r].side {
            Side::Before => 0,
            Side::After => 1,
        };
        match fold.open.last_mut() {
            Some(o) => {
                o.own[side] += s.value;
                sums[o.node.index()][side] += s.value;
            }
            None => {
                // An empty stack: its value belongs to the root itself.
                sums[0][side] += s.value;
                root_own[side] += s.value;
            }
        }
        previous = path;
    }
    fold.close_to(0, &mut nodes, &mut sums);
    fold.count_path(root_own, 0, 0.0);
    let mut tree = finish(nodes, sums);
    tree.path_growth = fold.path_growth;
    tree.path_shrinkage = fold.path_shrinkage;
    tree
}

/// An open node of the path being built: its own stacks' values and the
/// totals of its closed children.
struct Open {
    node: NodeId,
    own: [f64; 2],
    below: [f64; 2],
}

/// Closes nodes as the sorted stacks leave them, folding subtrees smaller
/// than `min` into their parents, and sums every call path's change.
struct Fold {
    /// Subtrees whose before and after totals are both below this are
    /// folded into their parent.
    min: f64,
    open: Vec<Open>,
    path_growth: i64,
    path_shrinkage: i64,
}

impl Fold {
    /// Adds one call path's own change (truncated per side, as node values
    /// are) to the growth or shrinkage.
    fn count_path(&mut self, own: [f64; 2], side: usize, extra: f64) {
        let mut v = own;
        v[side] += extra;
        let d = (v[1] as i64).saturating_sub(v[0] as i64);
        if d > 0 {
            self.path_growth = self.path_growth.saturating_add(d);
        } else {
            self.path_shrinkage = self.path_shrinkage.saturating_add(d);
        }
    }

    /// Closes open nodes until `depth` remain.
    fn close_to(&mut self, depth: usize, nodes: &mut Vec<Node>, sums: &mut Vec<[f64; 2]>) {
        while self.open.len() > depth {
            let o = self.open.pop().expect("more open nodes than depth");
            self.count_path(o.own, 0, 0.0);
            let total = [o.own[0] + o.below[0], o.own[1] + o.below[1]];
            let parent_sums = match self.open.last_mut() {
                Some(p) => {
                    p.below[0] += total[0];
                    p.below[1] += total[1];
                    p.node.index()
                }
                None => 0,
            };
            if total[0].abs().max(total[1].abs()) < self.min {
                // Too small to ever be drawn: the subtree becomes part of
                // its parent's own value, and its nodes are reused.
                nodes.truncate(o.node.index());
                sums.truncate(o.node.index());
                sums[parent_sums][0] += total[0];
                sums[parent_sums][1] += total[1];
            }
        }
    }
}

/// Length in bytes of the common prefix of two paths, compared 8 bytes at
/// a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n && a[i..i + 8] == b[i..i + 8] {
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Sums totals (in floating point, truncated at the end) and indexes
/// children.
fn finish(mut nodes: Vec<Node>, mut sums: Vec<[f64; 2]>) -> Tree {
    // Own values first; then, children before parents (reverse pre-order),
    // each node's sum becomes its total and is added to its parent's. One
    // buffer serves both, so nothing per node is copied.
    for (n, own) in nodes.iter_mut().zip(&sums) {
        n.self_values = TreeValues {
            before: own[0] as i64,
            after: own[1] as i64,
        };
    }
    for i in (0..nodes.len()).rev() {
        let [b, a] = sums[i];
        nodes[i].total = TreeValues {
            before: b as i64,
            after: a as i64,
        };
        if i > 0 {
            let parent = nodes[i].parent.index();
            sums[parent][0] += b;
            sums[parent][1] += a;
        }
    }
    drop(sums);
    let mut counts = vec![0u32; nodes.len() + 1];
    for n in &nodes[1..] {
        counts[n.parent.index() + 1] += 1;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    let child_start = counts.clone();
    let mut fill = counts;
    let mut child_list = vec![Tree::ROOT; nodes.len().saturating_sub(1)];
    for (i, n) in nodes.iter().enumerate().skip(1) {
        let slot = &mut fill[n.parent.index()];
        child_list[*slot as usize] = NodeId(i as u32);
        *slot += 1;
    }
    Tree {
        path_growth: 0,
        path_shrinkage: 0,
        nodes,
        child_start,
        child_list,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_merge_by_path_and_totals_sum_up() {
        let (a, b, c) = (KeyId(0), KeyId(1), KeyId(2));
        let mut before = SideStacks::new(Side::Before);
        let mut after = SideStacks::new(Side::After);
        // leaf first: c <- b <- a (a is the root caller)
        before.add(&[c, b, a], 10.0);
        after.add(&[c, a], 7.0);
        after.add(&[c, b, a], 30.0);
        after.add(&[b, a], 5.0);
        let t = build(&mut before, &mut after, 0.0);
        assert_eq!(t.nodes().len(), 5); // root, a, a;b, a;b;c, a;c
        let root = t.node(Tree::ROOT);
        assert_eq!((root.total.before, root.total.after), (10, 42));
        let a_node = t.children(Tree::ROOT)[0];
        assert_eq!(t.node(a_node).key, Some(a));
        assert_eq!(t.children(a_node).len(), 2);
        let ab = t.children(a_node)[0];
        assert_eq!(t.node(ab).self_values.after, 5);
        assert_eq!(t.node(ab).total.after, 35);
        let abc = t.children(ab)[0];
        assert_eq!(t.path(abc), vec![a, b, c]);
        assert_eq!(t.node(abc).total.delta(), 20);
    }

    #[test]
    fn common_prefix_lengths() {
        assert_eq!(common_prefix(b"abcdefghij", b"abcdefghiX"), 9);
        assert_eq!(common_prefix(b"abcdefgh", b"abcdefgh"), 8);
        assert_eq!(common_prefix(b"", b"abc"), 0);
        assert_eq!(common_prefix(b"abc", b"abd"), 2);
    }

    #[test]
    fn empty_stacks_count_at_the_root() {
        let mut after = SideStacks::new(Side::After);
        after.add(&[], 9.0);
        after.add(&[], 1.0);
        let t = build(&mut SideStacks::new(Side::Before), &mut after, 0.0);
        assert_eq!(t.node(Tree::ROOT).self_values.after, 10);
        assert!(t.children(Tree::ROOT).is_empty());
    }

    #[test]
    fn small_subtrees_fold_into_their_parent_and_path_growth_is_kept() {
        let (a, b, c, d) = (KeyId(0), KeyId(1), KeyId(2), KeyId(3));
        let sides = || {
            let mut before = SideStacks::new(Side::Before);
            let mut after = SideStacks::new(Side::After);
            // a;b big, a;c tiny growing, a;c;d tiny shrinking (leaf first).
            before.add(&[b, a], 1000.0);
            after.add(&[b, a], 3000.0);
            before.add(&[d, c, a], 4.0);
            after.add(&[c, a], 3.0);
            (before, after)
        };
        let (mut before, mut after) = sides();
        let full = build(&mut before, &mut after, 0.0);
        let (mut before, mut after) = sides();
        let folded = build(&mut before, &mut after, 10.0);
        assert_eq!(full.nodes().len(), 5);
        assert_eq!(folded.nodes().len(), 3, "c and d are folded into a");
        assert_eq!(
            (folded.path_growth, folded.path_shrinkage),
            (full.path_growth, full.path_shrinkage)
        );
        assert_eq!((full.path_growth, full.path_shrinkage), (2003, -4));
        let root = folded.node(Tree::ROOT).total;
        assert_eq!((root.before, root.after), (1004, 3003));
        let a_node = folded.children(Tree::ROOT)[0];
        assert_eq!(
            folded.node(a_node).self_values,
            TreeValues {
                before: 4,
                after: 3
            }
        );
    }
}
