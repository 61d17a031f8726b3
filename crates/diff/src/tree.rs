//! The diff tree: both profiles' stacks merged into one call tree (root =
//! outermost caller), each node carrying before and after values. It is what
//! the flame graphs draw.
//!
//! Every node has *self* values (stacks that end at it) and *total* values
//! (stacks that pass through it: self plus all descendants).
//!
//! The tree is built top down by grouping: the stacks passing through a
//! node are grouped by their next key, and each group becomes a child, but
//! a group too small to draw (both sides' sums below the fold width) is
//! folded into the node: its values become the node's own and it is not
//! looked at again but to count its call paths' growth. Subtrees are built
//! as rayon tasks; the nodes are then numbered in pre-order, siblings in
//! key order, so the tree does not depend on how the work was shared.

use std::sync::Mutex;

use rayon::prelude::*;

use crate::KeyId;
use crate::stacks::{Item, SideStacks, TOP};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    /// The frame's key id, or [`NO_KEY`] for the root.
    key: u32,
    /// The caller's node; the root is its own parent.
    pub parent: NodeId,
    /// Values of the stacks that end here.
    pub self_values: TreeValues,
    /// Values of the stacks that pass through here (self included).
    pub total: TreeValues,
}

impl Node {
    /// The frame this node stands for; `None` only for the root.
    pub fn key(&self) -> Option<KeyId> {
        (self.key != NO_KEY).then_some(KeyId(self.key))
    }
}

/// A call tree of both profiles. See the module documentation.
#[derive(Clone, Debug)]
pub struct Tree {
    /// Sum of the positive changes of every distinct call path (each node's
    /// own stacks), counted before small subtrees were folded.
    pub path_growth: i64,
    /// Sum of the negative changes of every distinct call path (≤ 0).
    pub path_shrinkage: i64,
    /// The nodes in pre-order.
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

    /// One node.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// A node's children, in key order.
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let (a, b) = (
            self.child_start[id.index()],
            self.child_start[id.index() + 1],
        );
        &self.child_list[a as usize..b as usize]
    }

    /// The keys from the root's child down to `id`.
    pub fn path(&self, mut id: NodeId) -> Vec<KeyId> {
        let mut keys = Vec::new();
        while let Some(k) = self.node(id).key() {
            keys.push(k);
            id = self.node(id).parent;
        }
        keys.reverse();
        keys
    }
}

/// `Node::key` of the root.
const NO_KEY: u32 = u32::MAX;

/// A group of more stacks than this is built as a task of its own, which
/// another thread may take.
const TASK_ABOVE: usize = 4_096;

/// Smaller sibling groups holding more stacks than this together are built
/// as a task of their own (a node with many small callees, as the root of
/// stacks cut at a traceback limit has).
const BATCH_ABOVE: usize = 32_768;

/// A pass over more stacks than this is shared out among the threads, in
/// parts of this many.
const PARALLEL_ABOVE: usize = 32_768;

/// Builds the tree of both sides' stacks (`items`, in reading order: the
/// before side's, then the after side's); groups whose before and after
/// sums are both below `min` are folded into their parent.
/// [`Tree::path_growth`] is summed over every call path, folded or not.
pub(crate) fn build(
    before: &SideStacks<'_>,
    after: &SideStacks<'_>,
    mut items: Vec<Item>,
    min: f64,
) -> Tree {
    let builder = Builder {
        sides: [before, after],
        min,
        parts: Mutex::new(Vec::new()),
    };
    rayon::scope(|s| {
        builder.subtrees(
            s,
            vec![Task {
                items: &mut items,
                depth: 0,
                key: NO_KEY,
                parent: None,
                window: 0,
                min_len: 0,
            }],
        );
    });
    let parts = builder.parts.into_inner().expect("no builder panicked");
    finish(parts)
}

/// A node to create and expand: its stacks share their first `depth`
/// keys, the last of which is `key`.
struct Task<'i> {
    items: &'i mut [Item],
    depth: usize,
    key: u32,
    /// The parent node (`None`: this is the root).
    parent: Option<At>,
    /// The depth of the stacks' first [`Item::top`] key.
    window: usize,
    /// No stack is shorter (until one ends, none is looked for).
    min_len: usize,
}

/// Where a node is while the tree is built: in which part, at what index.
#[derive(Clone, Copy)]
struct At {
    part: u32,
    index: u32,
}

/// The nodes one task built, in the order it made them.
#[derive(Default)]
struct Part {
    keys: Vec<u32>,
    /// Each node's parent (`None` for the root).
    parents: Vec<Option<At>>,
    /// Each node's own (before, after) sums: the stacks that end at it,
    /// plus the groups folded into it.
    sums: Vec<[f64; 2]>,
    path_growth: i64,
    path_shrinkage: i64,
}

impl Part {
    fn push(&mut self, key: u32, parent: Option<At>) -> u32 {
        self.keys.push(key);
        self.parents.push(parent);
        self.sums.push([0.0; 2]);
        (self.keys.len() - 1) as u32
    }

    /// Adds one call path's own values (truncated per side, as node values
    /// are) to the growth or shrinkage.
    fn count_path(&mut self, own: [f64; 2]) {
        let d = (own[1] as i64).saturating_sub(own[0] as i64);
        if d > 0 {
            self.path_growth = self.path_growth.saturating_add(d);
        } else {
            self.path_shrinkage = self.path_shrinkage.saturating_add(d);
        }
    }
}

struct Builder<'a> {
    /// Before's stacks, after's.
    sides: [&'a SideStacks<'a>; 2],
    min: f64,
    /// Every task's part, by the number it took.
    parts: Mutex<Vec<Part>>,
}

impl<'a> Builder<'a> {
    /// A stack's key at `depth` (from the root), its item's keys starting
    /// at depth `window`.
    fn key(&self, item: &Item, depth: usize, window: usize) -> u32 {
        match item.top.get(depth.wrapping_sub(window)) {
            Some(&k) if k != u16::MAX => u32::from(k),
            _ => self.sides[item.side()].key(item, depth),
        }
    }

    /// Builds the subtrees of `tasks` into a part of their own; below them,
    /// each group of more than [`TASK_ABOVE`] stacks, and each run of
    /// smaller sibling groups holding more than [`BATCH_ABOVE`] together,
    /// is handed to the pool as tasks of its own.
    fn subtrees<'s>(&'s self, scope: &rayon::Scope<'s>, tasks: Vec<Task<'s>>) {
        let number = {
            let mut parts = self.parts.lock().expect("no builder panicked");
            parts.push(Part::default());
            (parts.len() - 1) as u32
        };
        let mut worker = Worker {
            part: Part::default(),
            number,
            scratch: Scratch::default(),
            children: Vec::new(),
        };
        let mut work = tasks;
        while let Some(task) = work.pop() {
            self.expand(&mut worker, task);
            let mut batch = Vec::new();
            let mut stacks = 0;
            for child in worker.children.drain(..) {
                if child.items.len() > TASK_ABOVE {
                    scope.spawn(move |s| self.subtrees(s, vec![child]));
                    continue;
                }
                stacks += child.items.len();
                batch.push(child);
                if stacks > BATCH_ABOVE {
                    let tasks = std::mem::take(&mut batch);
                    scope.spawn(move |s| self.subtrees(s, tasks));
                    stacks = 0;
                }
            }
            work.extend(batch);
        }
        self.parts.lock().expect("no builder panicked")[number as usize] = worker.part;
    }

    /// Creates a task's node and expands it: the stacks that end at it are
    /// its own; while all the others go on through one key, that key's
    /// node is the next of a chain; then they are grouped by their next
    /// key: groups too small to draw are folded into the node, the others
    /// become tasks (`children`).
    fn expand<'s>(&self, worker: &mut Worker<'s>, task: Task<'s>) {
        let Worker {
            part,
            number,
            scratch,
            ..
        } = worker;
        let number = *number;
        let Task {
            items,
            mut depth,
            key,
            parent,
            mut window,
            mut min_len,
        } = task;
        let mut node = part.push(key, parent);
        let mut items = items;
        loop {
            if min_len <= depth {
                let (own, kept, shortest) = end_here(items, depth);
                items = &mut items[..kept];
                min_len = shortest;
                let sums = &mut part.sums[node as usize];
                sums[0] += own[0];
                sums[1] += own[1];
                part.count_path(own);
                if items.is_empty() {
                    return;
                }
            }
            if depth >= window + TOP {
                self.load_keys(items, depth);
                window = depth;
            }
            self.next_keys(items, depth, window, &mut scratch.keys);
            let keys = &scratch.keys;
            if keys.iter().any(|&k| k != keys[0]) {
                break;
            }
            // All go on through one key, and maybe further: a chain, as
            // long as every stack shares its keys with the first of its
            // side (and those two with each other).
            node = part.push(
                keys[0],
                Some(At {
                    part: number,
                    index: node,
                }),
            );
            depth += 1;
            let end = self.chain_end(items, depth, min_len, window);
            for d in depth..end {
                let key = self.key(&items[0], d, window);
                node = part.push(
                    key,
                    Some(At {
                        part: number,
                        index: node,
                    }),
                );
            }
            depth = end;
        }
        let at = At {
            part: number,
            index: node,
        };
        self.group(worker, at, items, depth, window);
    }

    /// Groups `items` (which pass through node `at` and whose keys at
    /// `depth` are in `scratch.keys`) by that key, keeping their order:
    /// groups too small to draw are folded into the node, the others become
    /// tasks (`children`), in key order.
    fn group<'s>(
        &self,
        worker: &mut Worker<'s>,
        at: At,
        items: &'s mut [Item],
        depth: usize,
        window: usize,
    ) {
        let Worker {
            part,
            scratch,
            children,
            ..
        } = worker;
        order_by_keys(items, scratch);
        let mut rest = items;
        for &(key, n) in &scratch.runs {
            let (group, tail) = rest.split_at_mut(n);
            rest = tail;
            let (mut before, mut after) = (0.0, 0.0);
            let mut min_len = usize::MAX;
            for it in group.iter() {
                if it.side() == 0 {
                    before += it.value;
                } else {
                    after += it.value;
                }
                min_len = min_len.min(it.len());
            }
            if f64::abs(before).max(f64::abs(after)) < self.min {
                let sums = &mut part.sums[at.index as usize];
                sums[0] += before;
                sums[1] += after;
                self.count_folded(part, group, depth, window);
            } else {
                children.push(Task {
                    items: group,
                    depth: depth + 1,
                    key,
                    parent: Some(at),
                    window,
                    min_len,
                });
            }
        }
    }

    /// Holds each stack's keys from `depth` on in its item.
    fn load_keys(&self, items: &mut [Item], depth: usize) {
        let load = |items: &mut [Item]| {
            for it in items {
                it.top = self.sides[it.side()].window(it, depth);
            }
        };
        if items.len() > PARALLEL_ABOVE {
            items.par_chunks_mut(PARALLEL_ABOVE).for_each(load);
        } else {
            load(items);
        }
    }

    /// Each stack's key at `depth`, into `keys`.
    fn next_keys(&self, items: &[Item], depth: usize, window: usize, keys: &mut Vec<u32>) {
        keys.clear();
        let key = |it: &Item| self.key(it, depth, window);
        if items.len() > PARALLEL_ABOVE {
            keys.par_extend(items.par_iter().map(key));
        } else {
            keys.extend(items.iter().map(key));
        }
    }

    /// How deep (up to `end`) every stack of `items` shares its keys from
    /// `depth` on with the first stack of its side.
    fn chain_end(&self, items: &[Item], depth: usize, end: usize, window: usize) -> usize {
        let first = items[0];
        let other = items.iter().find(|it| it.side() != first.side()).copied();
        let mut end = match other {
            Some(o) => depth + self.shared(&first, &o, depth, end, window),
            None => end,
        };
        let upto = |end: usize, items: &[Item]| {
            items.iter().try_fold(end, |end, it| {
                let rep = if it.side() == first.side() {
                    &first
                } else {
                    other.as_ref()?
                };
                let end = depth + self.shared(rep, it, depth, end, window);
                (end > depth).then_some(end)
            })
        };
        if items.len() > PARALLEL_ABOVE {
            end = items
                .par_chunks(PARALLEL_ABOVE)
                .map(|c| upto(end, c).unwrap_or(depth))
                .min()
                .unwrap_or(end);
        } else {
            end = upto(end, items).unwrap_or(depth);
        }
        end
    }

    /// How many keys two stacks share from `depth` on, up to `limit` (at
    /// most the shorter one's length).
    fn shared(&self, a: &Item, b: &Item, depth: usize, limit: usize, window: usize) -> usize {
        let mut d = depth;
        if a.side() == b.side() && !a.copied() && !b.copied() {
            // Equal frames have equal keys: the frames are compared first,
            // in bulk.
            d += self.sides[a.side()].common_frames(a, b, depth, limit);
        }
        // The keys each item holds, then the rest from the frames, in bulk.
        while d < limit && d < window + TOP {
            if self.key(a, d, window) != self.key(b, d, window) {
                return d - depth;
            }
            d += 1;
        }
        if d < limit {
            let (ka, kb) = (
                self.sides[a.side()].keys(a, d, limit),
                self.sides[b.side()].keys(b, d, limit),
            );
            d += ka.zip(kb).take_while(|(x, y)| x == y).count();
        }
        d - depth
    }

    /// Counts the distinct call paths of a folded group (stacks sharing
    /// their first `depth` keys) into the path growth and shrinkage.
    fn count_folded(&self, part: &mut Part, items: &mut [Item], depth: usize, window: usize) {
        if let [it] = items {
            let mut own = [0.0; 2];
            own[it.side()] = it.value;
            part.count_path(own);
            return;
        }
        // By hash (then side and position: sums in reading order); paths
        // with equal hashes are compared, and only a collision sorts them.
        items.sort_unstable_by_key(|it| (it.hash, it.start));
        let mut i = 0;
        while i < items.len() {
            let mut j = i + 1;
            while j < items.len() && items[j].hash == items[i].hash {
                j += 1;
            }
            let run = &mut items[i..j];
            if run[1..]
                .iter()
                .all(|it| self.compare(&run[0], it, depth, window).is_eq())
            {
                let mut own = [0.0; 2];
                for it in run.iter() {
                    own[it.side()] += it.value;
                }
                part.count_path(own);
            } else {
                self.count_distinct(part, run, depth, window);
            }
            i = j;
        }
    }

    /// Counts the distinct call paths of stacks sharing their first `depth`
    /// keys, comparing them whole.
    fn count_distinct(&self, part: &mut Part, items: &mut [Item], depth: usize, window: usize) {
        items.sort_by(|x, y| self.compare(x, y, depth, window));
        let mut i = 0;
        while i < items.len() {
            let mut own = [0.0; 2];
            let mut j = i;
            while j < items.len() && self.compare(&items[i], &items[j], depth, window).is_eq() {
                own[items[j].side()] += items[j].value;
                j += 1;
            }
            part.count_path(own);
            i = j;
        }
    }

    /// Two stacks' keys from `depth` on, compared (a stack before those it
    /// is the start of).
    fn compare(&self, a: &Item, b: &Item, depth: usize, window: usize) -> std::cmp::Ordering {
        let d = depth + self.shared(a, b, depth, a.len().min(b.len()), window);
        if d < a.len() && d < b.len() {
            self.key(a, d, window).cmp(&self.key(b, d, window))
        } else {
            a.len().cmp(&b.len())
        }
    }
}

/// Takes the stacks that end at `depth` out of `items` (the rest keep
/// their order, at the front): their (before, after) sum, how many are
/// left, and the shortest of those.
fn end_here(items: &mut [Item], depth: usize) -> ([f64; 2], usize, usize) {
    let mut own = [0.0; 2];
    let mut kept = 0;
    let mut shortest = usize::MAX;
    for i in 0..items.len() {
        let it = items[i];
        if it.len() <= depth {
            own[it.side()] += it.value;
        } else {
            items[kept] = it;
            kept += 1;
            shortest = shortest.min(it.len());
        }
    }
    (own, kept, shortest)
}

/// Orders `items` by their keys (`scratch.keys`, one each), keeping the
/// order of those with equal keys; `scratch.runs` is then each key's count,
/// in key order.
fn order_by_keys(items: &mut [Item], scratch: &mut Scratch) {
    let Scratch {
        keys,
        pairs,
        moved,
        groups,
        runs,
    } = scratch;
    runs.clear();
    moved.clear();
    if order_few(items, keys, groups, moved, runs) {
        return;
    }
    // Many keys: (key, position) pairs sorted.
    pairs.clear();
    pairs.extend(
        keys.iter()
            .enumerate()
            .map(|(i, &k)| u64::from(k) << 32 | i as u64),
    );
    if pairs.len() > PARALLEL_ABOVE {
        pairs.par_sort_unstable();
    } else {
        pairs.sort_unstable();
    }
    moved.extend(pairs.iter().map(|&p| items[(p as u32) as usize]));
    items.copy_from_slice(moved);
    for p in pairs.iter() {
        let key = (p >> 32) as u32;
        match runs.last_mut() {
            Some((k, n)) if *k == key => *n += 1,
            _ => runs.push((key, 1)),
        }
    }
}

/// [`order_by_keys`] for at most [`FEW`] distinct keys (the usual case;
/// `false` if there are more): each stack's group found once, the groups
/// counted, then each stack copied straight to its place. The parts of a
/// big range are copied at once, each to its own slice of every group.
fn order_few(
    items: &mut [Item],
    keys: &[u32],
    groups: &mut Vec<u8>,
    moved: &mut Vec<Item>,
    runs: &mut Vec<(u32, usize)>,
) -> bool {
    let mut distinct = [0u32; FEW];
    let mut found = 0;
    groups.clear();
    let mut last = (u32::MAX, 0);
    for &k in keys {
        // Stacks with the same next key often come one after another.
        if k == last.0 {
            groups.push(last.1);
            continue;
        }
        let g = match distinct[..found].iter().position(|&d| d == k) {
            Some(g) => g,
            None if found < FEW => {
                distinct[found] = k;
                found += 1;
                found - 1
            }
            None => return false,
        };
        last = (k, g as u8);
        groups.push(g as u8);
    }
    let count = |part: &[u8]| {
        let mut n = [0usize; FEW];
        for &g in part {
            n[usize::from(g)] += 1;
        }
        n
    };
    let mut order = [0usize; FEW];
    for (g, o) in order.iter_mut().enumerate() {
        *o = g;
    }
    order[..found].sort_unstable_by_key(|&g| distinct[g]);
    moved.extend_from_slice(items);
    if groups.len() <= PARALLEL_ABOVE {
        let n = count(groups);
        let mut next = [0usize; FEW];
        let mut at = 0;
        for &g in &order[..found] {
            next[g] = at;
            at += n[g];
            runs.push((distinct[g], n[g]));
        }
        for (it, &g) in moved.iter().zip(groups.iter()) {
            let g = usize::from(g);
            items[next[g]] = *it;
            next[g] += 1;
        }
        return true;
    }
    let counts: Vec<[usize; FEW]> = groups.par_chunks(PARALLEL_ABOVE).map(count).collect();
    // Each part's slice of each group, groups in key order, parts in order.
    let mut slices: Vec<[&mut [Item]; FEW]> = counts.iter().map(|_| Default::default()).collect();
    let mut rest = &mut items[..];
    for &g in &order[..found] {
        for (part, n) in slices.iter_mut().zip(&counts) {
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(n[g]);
            part[g] = mine;
            rest = tail;
        }
        runs.push((distinct[g], counts.iter().map(|n| n[g]).sum()));
    }
    moved
        .par_chunks(PARALLEL_ABOVE)
        .zip(groups.par_chunks(PARALLEL_ABOVE))
        .zip(slices)
        .for_each(|((from, groups), to)| {
            let mut at = [0usize; FEW];
            for (it, &g) in from.iter().zip(groups) {
                let g = usize::from(g);
                to[g][at[g]] = *it;
                at[g] += 1;
            }
        });
    true
}

/// See [`order_few`].
const FEW: usize = 16;

/// What one task's builder works with: the part its nodes go to (and its
/// number), its memory from node to node, and the child tasks of the node
/// it expanded last.
struct Worker<'s> {
    part: Part,
    number: u32,
    scratch: Scratch,
    children: Vec<Task<'s>>,
}

/// A builder's memory from node to node.
#[derive(Default)]
struct Scratch {
    /// Each stack's next key.
    keys: Vec<u32>,
    /// (key << 32 | position) of the stacks being grouped.
    pairs: Vec<u64>,
    /// The stacks in their groups' order.
    moved: Vec<Item>,
    /// Each stack's group, while few keys are grouped.
    groups: Vec<u8>,
    /// Each key's count, in key order, once grouped.
    runs: Vec<(u32, usize)>,
}

/// Numbers the parts' nodes in pre-order (siblings in key order), then
/// sums totals (in floating point, truncated at the end) and indexes
/// children.
fn finish(parts: Vec<Part>) -> Tree {
    let mut offset = Vec::with_capacity(parts.len());
    let mut count = 0usize;
    for p in &parts {
        offset.push(count);
        count += p.keys.len();
    }
    let global = |at: At| offset[at.part as usize] + at.index as usize;
    let mut keys = Vec::with_capacity(count);
    let mut parents = Vec::with_capacity(count);
    let mut sums = Vec::with_capacity(count);
    let (mut path_growth, mut path_shrinkage) = (0i64, 0i64);
    for p in parts {
        keys.extend(p.keys);
        parents.extend(p.parents.iter().map(|a| a.map_or(0, global)));
        sums.extend(p.sums);
        path_growth = path_growth.saturating_add(p.path_growth);
        path_shrinkage = path_shrinkage.saturating_add(p.path_shrinkage);
    }
    // Each node's children, in key order; then the pre-order walk.
    let (start, mut list) = children_of(&parents, |i| i);
    for i in 0..count {
        list[start[i] as usize..start[i + 1] as usize].sort_unstable_by_key(|&c| keys[c]);
    }
    let mut order = Vec::with_capacity(count);
    let mut stack = vec![0usize];
    while let Some(n) = stack.pop() {
        order.push(n);
        stack.extend(list[start[n] as usize..start[n + 1] as usize].iter().rev());
    }
    let mut number = vec![0u32; count];
    for (i, &n) in order.iter().enumerate() {
        number[n] = i as u32;
    }
    // Own values first; then, children before parents (reverse pre-order),
    // each node's sum becomes its total and is added to its parent's.
    let mut own: Vec<[f64; 2]> = order.iter().map(|&n| sums[n]).collect();
    let mut nodes: Vec<Node> = order
        .iter()
        .zip(&own)
        .map(|(&n, own)| Node {
            key: keys[n],
            parent: NodeId(number[parents[n]]),
            self_values: TreeValues {
                before: own[0] as i64,
                after: own[1] as i64,
            },
            total: TreeValues::default(),
        })
        .collect();
    for i in (0..nodes.len()).rev() {
        let [b, a] = own[i];
        nodes[i].total = TreeValues {
            before: b as i64,
            after: a as i64,
        };
        if i > 0 {
            let parent = nodes[i].parent.index();
            own[parent][0] += b;
            own[parent][1] += a;
        }
    }
    let parent_ids: Vec<usize> = nodes.iter().map(|n| n.parent.index()).collect();
    let (child_start, child_list) = children_of(&parent_ids, |i| NodeId(i as u32));
    Tree {
        path_growth,
        path_shrinkage,
        nodes,
        child_start,
        child_list,
    }
}

/// Each node's children from the nodes' parents (the root, node 0, is its
/// own parent and nobody's child), in node order: where node i's start in
/// the list, and the list, each child made by `id`.
fn children_of<T: Copy>(parents: &[usize], id: impl Fn(usize) -> T) -> (Vec<u32>, Vec<T>) {
    let mut start = vec![0u32; parents.len() + 1];
    for &p in parents.iter().skip(1) {
        start[p + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut fill = start.clone();
    let mut list = Vec::with_capacity(parents.len().saturating_sub(1));
    list.resize(parents.len().saturating_sub(1), id(0));
    for (i, &p) in parents.iter().enumerate().skip(1) {
        list[fill[p] as usize] = id(i);
        fill[p] += 1;
    }
    (start, list)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use heapdiff_profile::Frames;

    use super::*;
    use crate::Side;
    use crate::stacks::{Copies, path_hash, top_keys};

    /// Stacks that are all copies.
    fn read(copies: &Copies) -> SideStacks<'static> {
        copies.clone().over(Frames::Wide(&[]), Arc::from([]))
    }

    #[test]
    fn stacks_merge_by_path_and_totals_sum_up() {
        let (a, b, c) = (KeyId(0), KeyId(1), KeyId(2));
        let mut before = Copies::new(Side::Before);
        let mut after = Copies::new(Side::After);
        // leaf first: c <- b <- a (a is the root caller)
        let items = vec![
            before.copy(&[c, b, a], 10.0),
            after.copy(&[c, a], 7.0),
            after.copy(&[c, b, a], 30.0),
            after.copy(&[b, a], 5.0),
        ];
        let t = build(&read(&before), &read(&after), items.clone(), 0.0);
        assert_eq!(t.nodes().len(), 5); // root, a, a;b, a;b;c, a;c
        let root = t.node(Tree::ROOT);
        assert_eq!((root.total.before, root.total.after), (10, 42));
        let a_node = t.children(Tree::ROOT)[0];
        assert_eq!(t.node(a_node).key(), Some(a));
        assert_eq!(t.children(a_node).len(), 2);
        let ab = t.children(a_node)[0];
        assert_eq!(t.node(ab).self_values.after, 5);
        assert_eq!(t.node(ab).total.after, 35);
        let abc = t.children(ab)[0];
        assert_eq!(t.path(abc), vec![a, b, c]);
        assert_eq!(t.node(abc).total.delta(), 20);
    }

    #[test]
    fn empty_stacks_count_at_the_root() {
        let mut after = Copies::new(Side::After);
        let items = vec![after.copy(&[], 9.0), after.copy(&[], 1.0)];
        let t = build(
            &read(&Copies::new(Side::Before)),
            &read(&after),
            items.clone(),
            0.0,
        );
        assert_eq!(t.node(Tree::ROOT).self_values.after, 10);
        assert!(t.children(Tree::ROOT).is_empty());
    }

    #[test]
    fn folded_paths_with_equal_hashes_are_still_told_apart() {
        // Frames 0..4 keyed a, b, c, d; stacks as runs of `frames`, leaf
        // first: the same path twice (before and after), and two others.
        use heapdiff_profile::{Format, Frame, FrameId, ProfileBuilder, ValueType};
        let keys_of: Arc<[KeyId]> = Arc::from([KeyId(0), KeyId(1), KeyId(2), KeyId(3)]);
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("space", "bytes")]);
        let (name, file) = (b.intern("f"), b.intern("f.go"));
        let ids: Vec<FrameId> = (0..4)
            .map(|line| b.frame(Frame::symbolized(name, file, line + 1)))
            .collect();
        let stack: Vec<FrameId> = [1, 0, 2, 0, 3, 2, 0, 1, 0].map(|f| ids[f]).to_vec();
        b.push_sample(&stack, &[1]).unwrap();
        let profile = b.finish();
        let frames = profile.stack_frames();
        let sides = |collide: bool| {
            let before = Copies::new(Side::Before);
            let after = Copies::new(Side::After);
            let add = |stacks: &Copies, start: usize, len: usize, value: f64| {
                let keys = frames
                    .slice(start..start + len)
                    .iter()
                    .map(|f| keys_of[f.index()]);
                let hash = if collide {
                    7
                } else {
                    path_hash(keys.clone().rev())
                };
                stacks.run(start, len, value, hash, top_keys(keys.rev()))
            };
            // a;b shrinks by 1, a;c grows by 5, a;c;d grows by 2.
            let items = vec![
                add(&before, 0, 2, 4.0),
                add(&after, 7, 2, 3.0),
                add(&after, 2, 2, 5.0),
                add(&after, 4, 3, 2.0),
            ];
            (before, after, items)
        };
        for collide in [false, true] {
            let (before, after, items) = sides(collide);
            let (before, after) = (
                before.over(frames, keys_of.clone()),
                after.over(frames, keys_of.clone()),
            );
            // Everything below the root's child is folded.
            let t = build(&before, &after, items.clone(), 100.0);
            assert_eq!(t.nodes().len(), 2, "collide: {collide}");
            assert_eq!(
                (t.path_growth, t.path_shrinkage),
                (7, -1),
                "collide: {collide}"
            );
        }
    }

    #[test]
    fn small_subtrees_fold_into_their_parent_and_path_growth_is_kept() {
        let (a, b, c, d) = (KeyId(0), KeyId(1), KeyId(2), KeyId(3));
        let sides = || {
            let mut before = Copies::new(Side::Before);
            let mut after = Copies::new(Side::After);
            // a;b big, a;c tiny growing, a;c;d tiny shrinking (leaf first).
            let items = vec![
                before.copy(&[b, a], 1000.0),
                after.copy(&[b, a], 3000.0),
                before.copy(&[d, c, a], 4.0),
                after.copy(&[c, a], 3.0),
            ];
            (before, after, items)
        };
        let (before, after, items) = sides();
        let full = build(&read(&before), &read(&after), items.clone(), 0.0);
        let (before, after, items) = sides();
        let folded = build(&read(&before), &read(&after), items.clone(), 10.0);
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

    /// Both sides' stacks (random, deep, sharing prefixes; distinct frames
    /// sharing keys), some read from profiles, some copied, enough of them
    /// to build as several tasks: every node's totals equal a plain
    /// sum over each path prefix, and the numbering is pre-order.
    #[test]
    fn parallel_build_over_profile_frames_matches_a_reference() {
        build_matches_a_reference(0);
        // Key ids around 65,535: some stacks' first keys are held in their
        // items, others are not (too big for 16 bits).
        build_matches_a_reference(65_500);
    }

    fn build_matches_a_reference(first_key: u32) {
        use heapdiff_profile::{Format, Frame, Profile, ProfileBuilder, ValueType};
        use std::collections::BTreeMap;

        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let frames_per_profile = 60u32;
        // Frames 40.. share keys with frames 0..20: the same line reached
        // through different addresses.
        let keys_of: Arc<[KeyId]> = (0..frames_per_profile)
            .map(|f| KeyId(first_key + if f >= 40 { f - 40 } else { f }))
            .collect();
        let mut profile = |samples: usize| -> Profile {
            let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("space", "bytes")]);
            let name = b.intern("f");
            let file = b.intern("f.go");
            let ids: Vec<_> = (0..frames_per_profile)
                .map(|line| b.frame(Frame::symbolized(name, file, line + 1)))
                .collect();
            for _ in 0..samples {
                // A shared root chain, one of three callees (few keys: a
                // counting plan's moves, shared by two threads), then
                // random frames; leaf first. Deep enough for the items to
                // load their keys three times.
                let depth = 3 + next(20) as usize;
                let mut stack: Vec<_> = (0..depth).map(|_| ids[next(60) as usize]).collect();
                stack.extend([ids[3 + next(3) as usize], ids[2], ids[1], ids[0]]);
                b.push_sample(&stack, &[1 + next(1000) as i64]).unwrap();
            }
            b.finish()
        };
        let (pb, pa) = (profile(15_000), profile(15_000));
        let mut before = Copies::new(Side::Before);
        let mut after = Copies::new(Side::After);
        let mut reference: BTreeMap<Vec<u32>, [i64; 2]> = BTreeMap::new();
        // Each call path's own values, for the path growth.
        let mut own: BTreeMap<Vec<u32>, [i64; 2]> = BTreeMap::new();
        let mut items = Vec::new();
        for (side, p, stacks) in [(0, &pb, &mut before), (1, &pa, &mut after)] {
            for (i, sample) in p.samples().enumerate() {
                let value = sample.values[0];
                let keys: Vec<KeyId> = sample.stack.iter().map(|f| keys_of[f.index()]).collect();
                items.push(if i % 3 == 0 {
                    stacks.copy(&keys, value as f64)
                } else {
                    let hash = path_hash(keys.iter().rev().copied());
                    let top = top_keys(keys.iter().rev().copied());
                    stacks.run(sample.offset, sample.stack.len(), value as f64, hash, top)
                });
                let root_first: Vec<u32> = keys.iter().rev().map(|k| k.0).collect();
                for n in 0..=root_first.len() {
                    reference.entry(root_first[..n].to_vec()).or_default()[side] += value;
                }
                own.entry(root_first).or_default()[side] += value;
            }
        }
        assert!(items.len() > 4 * TASK_ABOVE, "subtrees are built as tasks");
        let before = before.over(pb.stack_frames(), keys_of.clone());
        let after = after.over(pa.stack_frames(), keys_of.clone());
        // On one thread or four: the same tree.
        let on = |threads: usize, min: f64| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| build(&before, &after, items.clone(), min))
        };
        let t = on(4, 0.0);
        for min in [0.0, 3_000.0] {
            let (one, four) = (on(1, min), on(4, min));
            assert_eq!(one.nodes(), four.nodes(), "{min}");
            assert_eq!(one.children(Tree::ROOT), four.children(Tree::ROOT));
            assert_eq!(
                (one.path_growth, one.path_shrinkage),
                (four.path_growth, four.path_shrinkage)
            );
        }
        assert_eq!(t.nodes().len(), reference.len());
        for id in t.node_ids() {
            let path: Vec<u32> = t.path(id).iter().map(|k| k.0).collect();
            let want = reference[&path];
            let total = t.node(id).total;
            assert_eq!([total.before, total.after], want, "{path:?}");
        }
        // Pre-order: a depth-first walk, children in key order, visits the
        // nodes in numbering order.
        let mut seen = Vec::new();
        let mut stack = vec![Tree::ROOT];
        while let Some(n) = stack.pop() {
            seen.push(n.index());
            let kids = t.children(n);
            assert!(
                kids.windows(2)
                    .all(|w| t.node(w[0]).key() < t.node(w[1]).key())
            );
            stack.extend(kids.iter().rev());
        }
        assert_eq!(seen, (0..t.nodes().len()).collect::<Vec<_>>());
        // Folded or not, every call path counts into the growth.
        let growth: i64 = own.values().map(|[b, a]| (a - b).max(0)).sum();
        let shrinkage: i64 = own.values().map(|[b, a]| (a - b).min(0)).sum();
        for min in [0.0, 3_000.0, 60_000.0] {
            let t = on(2, min);
            assert_eq!(
                (t.path_growth, t.path_shrinkage),
                (growth, shrinkage),
                "{min}"
            );
            if min > 0.0 {
                assert!(t.nodes().len() < reference.len(), "{min}: something folds");
            }
        }
    }

    /// Many small callees of one node (the root of stacks cut at a
    /// traceback limit): runs of them are built as tasks, to the same tree
    /// on one thread or four, whose totals equal a plain sum per path.
    #[test]
    fn many_small_siblings_are_shared_out_to_the_same_tree() {
        use std::collections::BTreeMap;
        let mut before = Copies::new(Side::Before);
        let mut after = Copies::new(Side::After);
        let mut items = Vec::new();
        let mut reference: BTreeMap<Vec<u32>, [i64; 2]> = BTreeMap::new();
        for i in 0..3 * BATCH_ABOVE as u32 {
            let root_first = [i % 1000, 1000 + i % 7, 2000 + i % 3];
            let leaf_first: Vec<KeyId> = root_first.iter().rev().map(|&k| KeyId(k)).collect();
            let (side, copies) = if i % 2 == 0 {
                (0, &mut before)
            } else {
                (1, &mut after)
            };
            let value = 1 + i64::from(i % 5);
            items.push(copies.copy(&leaf_first, value as f64));
            for n in 0..=root_first.len() {
                reference.entry(root_first[..n].to_vec()).or_default()[side] += value;
            }
        }
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| build(&read(&before), &read(&after), items.clone(), 0.0))
        };
        let (one, four) = (on(1), on(4));
        assert_eq!(one.nodes(), four.nodes());
        assert_eq!(one.children(Tree::ROOT).len(), 1000);
        assert_eq!(four.nodes().len(), reference.len());
        for id in four.node_ids() {
            let path: Vec<u32> = four.path(id).iter().map(|k| k.0).collect();
            let total = four.node(id).total;
            assert_eq!([total.before, total.after], reference[&path], "{path:?}");
        }
    }
}
