//! The diff tree: both profiles' stacks merged into one call tree (root =
//! outermost caller), each node carrying before and after values. It is what
//! the flame graphs draw.
//!
//! Every node has *self* values (stacks that end at it) and *total* values
//! (stacks that pass through it: self plus all descendants).
//!
//! The tree is built top down, by grouping, not hashing or sorting whole
//! paths: the stacks passing through a node are grouped by their next key
//! (a sort of `(key, stack id)` integers), and a group too small to draw is
//! folded into the node at once, never looked at again but for its call
//! paths' growth. With hundreds of thousands of deep stacks this reads each
//! stack's keys forwards, once per level it survives, where sorting whole
//! paths compares their long shared prefixes over and over and a
//! `(parent, frame) -> child` hash map misses the cache on nearly every
//! frame. Nodes come out in pre-order: parents before children, siblings
//! ordered by key id.

use std::sync::Arc;

use heapdiff_profile::{Frames, StackFrame};

use crate::{KeyId, Side};

/// A node's position in the [`Tree`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, bytemuck::Zeroable, bytemuck::Pod,
)]
#[repr(transparent)]
pub struct NodeId(u32);

impl NodeId {
    /// The node's position in [`Tree::nodes`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A node's size on both sides (the tree carries no object counts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
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

/// One call-tree node. Plain data (no padding, any bits valid), so that
/// the tree can lay its nodes out in memory it already holds (its stacks' buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
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

/// The 8-byte words of a [`Node`].
const NODE_WORDS: usize = std::mem::size_of::<Node>() / 8;
const _: () = assert!(std::mem::size_of::<Node>() == NODE_WORDS * 8);

/// A call tree of both profiles. See the module documentation.
#[derive(Clone)]
pub struct Tree {
    /// Sum of the positive changes of every distinct call path (each node's
    /// own stacks), counted before small subtrees were folded.
    pub path_growth: i64,
    /// Sum of the negative changes of every distinct call path (≤ 0).
    pub path_shrinkage: i64,
    /// The nodes, [`NODE_WORDS`] words each (see [`Tree::nodes`]).
    nodes: Vec<u64>,
    /// Children of node i: `child_list[child_start[i]..child_start[i + 1]]`.
    child_start: Vec<u32>,
    child_list: Vec<NodeId>,
}

/// Shows the nodes as nodes, not as the words they are kept in.
impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree")
            .field("path_growth", &self.path_growth)
            .field("path_shrinkage", &self.path_shrinkage)
            .field("nodes", &self.nodes())
            .field("child_start", &self.child_start)
            .field("child_list", &self.child_list)
            .finish()
    }
}

impl Tree {
    /// The root node (all stacks).
    pub const ROOT: NodeId = NodeId(0);

    /// Every node; the root is first and parents come before children.
    pub fn nodes(&self) -> &[Node] {
        bytemuck::cast_slice(&self.nodes)
    }

    /// Every node id, root first, parents before children.
    pub fn node_ids(&self) -> impl DoubleEndedIterator<Item = NodeId> + ExactSizeIterator + use<> {
        (0..self.nodes().len() as u32).map(NodeId)
    }

    /// A node by id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes()[id.index()]
    }

    /// A node's children, ordered by key id.
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        let i = id.index();
        &self.child_list[self.child_start[i] as usize..self.child_start[i + 1] as usize]
    }

    /// The keys from the root's child down to `id` (outermost caller first).
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

/// One profile's stacks, as [`build`] reads them: most are runs of the
/// profile's own frames (leaf first), read through the frame-to-key table;
/// a stack with hidden frames is a copy of its keys (root first). The
/// stacks' [`Item`]s themselves are kept apart, both sides' in one buffer
/// (see [`item_buffer`]).
#[derive(Clone, Debug)]
pub(crate) struct SideStacks<'p> {
    side: Side,
    frames: Frames<'p>,
    /// Each frame's key (shared by a side's halves, and owned with them by
    /// a side summed ahead of the other: [`crate::Ahead`]).
    keys_of: Arc<[KeyId]>,
    /// Keys of the copied stacks, root first, back to back.
    copied: Vec<u32>,
}

impl<'p> SideStacks<'p> {
    /// No stacks.
    #[cfg(test)]
    pub(crate) fn new(side: Side) -> Self {
        SideStacks::over(side, Frames::Wide(&[]), Arc::from([]))
    }

    /// Stacks that are runs of `frames`, keyed by `keys_of`.
    pub(crate) fn over(side: Side, frames: Frames<'p>, keys_of: Arc<[KeyId]>) -> Self {
        SideStacks {
            side,
            frames,
            keys_of,
            copied: Vec::new(),
        }
    }

    /// One stack given by its keys, leaf first: the keys are copied here,
    /// and the item returned.
    pub(crate) fn copy(&mut self, leaf_first: &[KeyId], value: f64) -> Item {
        let start = self.copied.len();
        self.copied.extend(leaf_first.iter().rev().map(|k| k.0));
        let hash = path_hash(leaf_first.iter().rev().copied());
        let top = top_keys(leaf_first.iter().rev().copied());
        Item::new(self.side, start, leaf_first.len(), true, value, hash, top)
    }

    /// The item of the stack `frames[start..start + len]`, whose keys hash
    /// to `hash` (see [`path_hash`]) and begin with `top` from the root (see
    /// [`top_keys`]).
    #[inline]
    pub(crate) fn run(
        &self,
        start: usize,
        len: usize,
        value: f64,
        hash: u64,
        top: TopKeys,
    ) -> Item {
        Item::new(self.side, start, len, false, value, hash, top)
    }

    /// Appends the copied keys of `other` (the same side of the same
    /// profile, later samples) after these, and returns where they start:
    /// `other`'s copied items must be moved there ([`rebase_copied`]).
    pub(crate) fn append(&mut self, other: SideStacks<'p>) -> usize {
        let base = self.copied.len();
        self.copied.extend(other.copied);
        base
    }

    /// Whether any stack is a copy of its keys.
    pub(crate) fn has_copies(&self) -> bool {
        !self.copied.is_empty()
    }

    /// A stack's keys from `depth` on (see [`TopKeys`]), for [`Item::top`].
    fn window(&self, item: &Item, depth: usize) -> TopKeys {
        let mut top = [u16::MAX; TOP];
        let (start, len, copied) = (item.start(), item.len(), item.copied());
        for (j, slot) in top.iter_mut().enumerate().take(len.saturating_sub(depth)) {
            *slot = u16::try_from(self.key(start, len, copied, depth + j)).unwrap_or(u16::MAX);
        }
        top
    }

    /// Key `depth` (from the root) of a stack.
    fn key(&self, start: usize, len: usize, copied: bool, depth: usize) -> u32 {
        if copied {
            self.copied[start + depth]
        } else {
            self.keys_of[self.frames.at(start + len - 1 - depth).index()].0
        }
    }
}

/// Builds the tree from both sides' stacks, top down: the stacks passing
/// through a node are grouped by their next frame (sorting small integer
/// pairs, not paths), each group becomes a child, and a group whose before
/// and after sums are both below `min` is folded into the node (its values
/// become the node's own) without being looked at further, which bounds
/// both the work and the tree by what a flame graph can show. Where all of a
/// node's stacks go on through the same frames (Go's deep runtime prefixes),
/// the whole chain is found in one comparison per stack. Once no subtree
/// holds more than half of the stacks, the subtrees are built on two
/// threads; the nodes are then numbered in pre-order, siblings ordered by
/// key id. [`Tree::path_growth`] is summed over every call path, folded or
/// not.
/// The stacks are the first `stacks` items of `buffer`; the rest of it, if
/// any, is room the grouping may use (whatever it holds).
/// `shortest` is the fewest keys any of the stacks has (or less): until
/// that depth, no stack ends, and none is looked for.
pub(crate) fn build(
    before: &SideStacks<'_>,
    after: &SideStacks<'_>,
    buffer: Vec<Item>,
    stacks: usize,
    shortest: usize,
    min: f64,
) -> Tree {
    build_split(
        before,
        after,
        buffer,
        stacks,
        shortest,
        min,
        Sharing {
            split_items: SPLIT_ITEMS,
            always: false,
        },
    )
}

/// A buffer of `n` items, all zero, for the sides' stacks to be written
/// into (each part of a side's samples into a slice of its own, so that
/// nothing is copied to bring them together): zeroed memory straight from
/// the allocator, whose pages cost nothing until they are written.
pub(crate) fn item_buffer(n: usize) -> Vec<Item> {
    bytemuck::zeroed_vec(n)
}

/// Multiplies every stack's value by `factor`.
pub(crate) fn scale(items: &mut [Item], factor: f64) {
    for it in items {
        it.value *= factor;
    }
}

/// Moves the copied stacks among `items` by `base` in their side's copied
/// keys (see [`SideStacks::append`]).
pub(crate) fn rebase_copied(items: &mut [Item], base: usize) {
    for it in items.iter_mut().filter(|it| it.copied()) {
        *it = Item::new(
            if it.side() == 0 {
                Side::Before
            } else {
                Side::After
            },
            base + it.start(),
            it.len(),
            true,
            it.value,
            u64::from(it.hash),
            it.top,
        );
    }
}

/// How [`build_split`]'s builders share their work.
#[derive(Clone, Copy)]
struct Sharing {
    /// Above this many stacks, the upper levels' passes run in two halves
    /// on two threads.
    split_items: usize,
    /// The subtree builders hand each other every task they can (tests:
    /// they otherwise do when one runs out of work).
    always: bool,
}

/// [`build`], its builders sharing their work as `sharing` says.
fn build_split(
    before: &SideStacks<'_>,
    after: &SideStacks<'_>,
    mut buffer: Vec<Item>,
    stacks: usize,
    shortest: usize,
    min: f64,
    sharing: Sharing,
) -> Tree {
    let (before, after) = if before.side == Side::Before {
        (before, after)
    } else {
        (after, before)
    };
    let (items, spare) = buffer.split_at_mut(stacks);
    debug_assert!(items.iter().all(|it| it.len() >= shortest));
    let sides: [&SideStacks<'_>; 2] = [before, after];
    let mut main = Builder::new(sides, min);
    main.spare = spare;
    if stacks > PARALLEL_ABOVE {
        main.split_above = sharing.split_items;
    }
    main.nodes.push(Built {
        key: NO_KEY,
        parent: 0,
    });
    main.sums.push([0.0; 2]);
    let mut work = vec![Task {
        lo: 0,
        hi: stacks,
        depth: 0,
        key: None,
        parent: Tree::ROOT,
        // No stacks: the root's own (nothing) is found at once.
        min_len: if stacks == 0 { 0 } else { shortest },
        window: 0,
    }];
    // On this thread, the root, then the biggest subtree until none holds
    // more than half of the stacks; the rest are whole subtrees, built on
    // two threads (small inputs: on this one).
    let root = work.pop().expect("the root task");
    main.expand(root, items, &mut work);
    let parallel = stacks > PARALLEL_ABOVE;
    if parallel {
        while let Some((i, _)) = work.iter().enumerate().max_by_key(|(_, t)| t.hi - t.lo) {
            if work[i].hi - work[i].lo <= stacks / 2 {
                break;
            }
            let task = work.swap_remove(i);
            main.expand(task, items, &mut work);
        }
    }
    let Builder {
        nodes: main_nodes,
        sums: main_sums,
        path_growth,
        path_shrinkage,
        spare,
        mut copy,
        ..
    } = main;
    // What the upper levels moved their big groups through is free: the
    // subtree builders move theirs through it (its pages already written).
    let room = if copy.len() > spare.len() {
        &mut copy[..]
    } else {
        spare
    };
    let (parts, blocks) = build_subtrees(sides, min, (work, items, room), parallel, sharing.always);
    drop(copy);
    let (nodes, sums) = assemble(main_nodes, main_sums, &parts, &blocks);
    let path_growth = parts
        .iter()
        .fold(path_growth, |g, p| g.saturating_add(p.path_growth));
    let path_shrinkage = parts
        .iter()
        .fold(path_shrinkage, |g, p| g.saturating_add(p.path_shrinkage));
    drop(parts);
    let mut tree = finish(nodes, sums, bytemuck::allocation::cast_vec(buffer));
    tree.path_growth = path_growth;
    tree.path_shrinkage = path_shrinkage;
    tree
}

/// The hash of no keys: see [`path_hash`].
pub(crate) const PATH_SEED: u64 = 0x243F_6A88_85A3_08D3;

/// The hash of a stack's keys, given from the root: each key added to
/// the hash so far times an odd constant, starting from [`PATH_SEED`] (one
/// multiplication and one addition a key). Call paths with equal hashes are
/// compared key by key before they are counted as one: the hash only spares
/// comparing paths that differ.
pub(crate) fn path_hash(root_first: impl Iterator<Item = KeyId>) -> u64 {
    root_first.fold(PATH_SEED, path_step)
}

/// Adds `key`, the next key from the root, to the [`path_hash`] `h`.
#[inline(always)]
pub(crate) fn path_step(h: u64, key: KeyId) -> u64 {
    h.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(u64::from(key.0))
}

/// How many of a stack's keys its [`Item`] holds.
pub(crate) const TOP: usize = 6;

/// [`TOP`] of a stack's keys, as 16-bit ids: first its keys from the root,
/// so that the upper levels of the tree, which every stack passes, are
/// grouped without a visit to the stack's frames; then, a level past them,
/// the next ones, so that the frames are visited once every [`TOP`] levels
/// and not at every level. `u16::MAX` stands for a key not held (past the
/// stack's end, or an id too big): read from the frames.
pub(crate) type TopKeys = [u16; TOP];

/// The [`TopKeys`] of a stack whose keys, from the root, are `root_first`.
#[inline]
pub(crate) fn top_keys(root_first: impl Iterator<Item = KeyId>) -> TopKeys {
    let mut top = [u16::MAX; TOP];
    for (slot, k) in top.iter_mut().zip(root_first) {
        *slot = u16::try_from(k.0).unwrap_or(u16::MAX);
    }
    top
}

/// Above this many stacks, the upper levels' builder reads, compares and
/// moves a node's stacks in two halves on two threads.
const SPLIT_ITEMS: usize = 100_000;

/// How many stacks ahead of its use a stack's frame is prefetched.
const PREFETCH_AHEAD: usize = 16;

/// Above this many stacks, subtrees are built on two threads.
const PARALLEL_ABOVE: usize = 20_000;

/// `Built::key` of the root.
const NO_KEY: u32 = u32::MAX;

/// A node while the tree is built: its key and its parent (in its
/// builder's numbering, but for a block's top node: see [`Block`]).
#[derive(Clone, Copy)]
struct Built {
    key: u32,
    parent: u32,
}

/// The nodes and own sums a thread built, subtree after subtree, each in
/// pre-order.
#[derive(Default)]
struct Part {
    nodes: Vec<Built>,
    sums: Vec<[f64; 2]>,
    path_growth: i64,
    path_shrinkage: i64,
}

/// Where a subtree's top node hangs.
#[derive(Clone, Copy)]
enum Parent {
    /// Below a node of the upper levels' builder.
    Main(NodeId),
    /// Below node `.1` (in that part's numbering) of part `.0`: a task one
    /// subtree builder handed over to the other.
    Part(usize, u32),
}

/// One task's subtree: `nodes[start..end]` of part `part`, in pre-order but
/// for the subtrees of tasks handed over while it was built (blocks of
/// their own, whose parent is one of these nodes).
struct Block {
    part: usize,
    start: usize,
    end: usize,
    key: u32,
    parent: Parent,
}

/// A task waiting for a subtree builder, with its stacks.
struct Job<'i> {
    task: Task,
    items: &'i mut [Item],
    parent: Parent,
}

/// The tasks the subtree builders share: the upper levels' tasks to begin
/// with, then whatever one builder hands over when the other has run out.
/// Each builder works depth-first on its own tasks and looks at the queue
/// only when it has none left, or (with a single relaxed load after each
/// node) when the other waits for work: then it hands over its biggest
/// pending task.
struct Queue<'i> {
    state: std::sync::Mutex<QueueState<'i>>,
    wake: std::sync::Condvar,
    /// A builder waits for work.
    hungry: std::sync::atomic::AtomicBool,
    /// Hand over a task whenever there is one to hand (tests: every path
    /// of the assembly is taken).
    always_share: bool,
}

struct QueueState<'i> {
    jobs: Vec<Job<'i>>,
    /// Builders at work on a job: while one is, it may hand over more.
    busy: usize,
}

/// A pending task smaller than this is not worth handing over.
const SHARE_ABOVE: usize = 256;

impl<'i> Queue<'i> {
    /// A queue of `jobs`, kept in order of size so that the biggest is
    /// taken first without looking at the others (a node of many children
    /// would otherwise be quadratic).
    fn new(mut jobs: Vec<Job<'i>>, always_share: bool) -> Self {
        jobs.sort_by_key(|j| j.items.len());
        Queue {
            state: std::sync::Mutex::new(QueueState { jobs, busy: 0 }),
            wake: std::sync::Condvar::new(),
            hungry: std::sync::atomic::AtomicBool::new(false),
            always_share,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState<'i>> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The biggest job waiting, once there is one; `None` once there is
    /// none and no builder is at work (none can come).
    fn take(&self) -> Option<Job<'i>> {
        let mut state = self.lock();
        loop {
            if let Some(biggest) = state.jobs.pop() {
                state.busy += 1;
                return Some(biggest);
            }
            if state.busy == 0 {
                return None;
            }
            self.hungry
                .store(true, std::sync::atomic::Ordering::Relaxed);
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Whether a builder should hand over a task.
    #[inline(always)]
    fn wanted(&self) -> bool {
        self.always_share || self.hungry.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn give(&self, job: Job<'i>) {
        let mut state = self.lock();
        let at = state
            .jobs
            .partition_point(|j| j.items.len() <= job.items.len());
        state.jobs.insert(at, job);
        self.hungry
            .store(false, std::sync::atomic::Ordering::Relaxed);
        drop(state);
        self.wake.notify_one();
    }

    /// A builder's job is done (with whatever it handed over).
    fn done(&self) {
        let mut state = self.lock();
        state.busy -= 1;
        let idle = state.busy == 0;
        drop(state);
        if idle {
            self.wake.notify_all();
        }
    }
}

/// Builds the subtree of every task, on two threads when there are several
/// (each takes the biggest task left, and hands over part of its work when
/// the other runs out), each subtree in pre-order.
/// How many pending tasks a builder looks at for one to share.
const SHARE_LOOKS_AT: usize = 64;

fn build_subtrees(
    sides: [&SideStacks<'_>; 2],
    min: f64,
    (work, items, room): (Vec<Task>, &mut [Item], &mut [Item]),
    parallel: bool,
    always_share: bool,
) -> (Vec<Part>, Vec<Block>) {
    let items_len = items.len();
    let jobs = carve(work, items)
        .into_iter()
        .map(|(task, items)| Job {
            parent: Parent::Main(task.parent),
            task,
            items,
        })
        .collect();
    let queue = Queue::new(jobs, always_share);
    let run = |part: usize, spare: &mut [Item]| {
        let mut b = Builder::new(sides, min);
        // Room for a node a stack (more than a builder makes, but for deep
        // chains): address space, not memory, until used; grown by
        // doubling, its vectors would write every node two times over.
        b.nodes.reserve(items_len);
        b.sums.reserve(items_len);
        // Memory to move the stacks of a node through: half of `room` each.
        b.spare = spare;
        let mut blocks = Vec::new();
        let mut local: Vec<(Task, &mut [Item])> = Vec::new();
        let mut fresh = Vec::new();
        while let Some(job) = queue.take() {
            let start = b.nodes.len();
            let key = job.task.key.expect("tasks below the root have a key");
            local.push((
                Task {
                    parent: NodeId(u32::MAX),
                    ..job.task
                },
                job.items,
            ));
            while let Some((task, items)) = local.pop() {
                fresh.clear();
                b.expand(task, items, &mut fresh);
                // Popped smallest key first (the last of `fresh`): pre-order.
                local.extend(
                    carve(fresh.drain(..).rev().collect(), items)
                        .into_iter()
                        .rev(),
                );
                if local.len() > 1 && queue.wanted() {
                    // The biggest of the oldest pending tasks (the
                    // shallowest): looking at all of them would make a
                    // node of many children quadratic.
                    let (i, _) = local
                        .iter()
                        .take(SHARE_LOOKS_AT)
                        .enumerate()
                        .max_by_key(|(_, (_, items))| items.len())
                        .expect("tasks");
                    if local[i].1.len() > SHARE_ABOVE || queue.always_share {
                        let (task, items) = local.remove(i);
                        queue.give(Job {
                            parent: Parent::Part(part, task.parent.0),
                            task,
                            items,
                        });
                    }
                }
            }
            blocks.push(Block {
                part,
                start,
                end: b.nodes.len(),
                key,
                parent: job.parent,
            });
            queue.done();
        }
        let part = Part {
            nodes: b.nodes,
            sums: b.sums,
            path_growth: b.path_growth,
            path_shrinkage: b.path_shrinkage,
        };
        (part, blocks)
    };
    let (room_0, room_1) = room.split_at_mut(room.len() / 2);
    let ((p0, mut b0), (p1, b1)) = if parallel {
        std::thread::scope(|s| {
            let other = s.spawn(|| run(1, room_1));
            let mine = run(0, room_0);
            (
                mine,
                other.join().expect("building a subtree does not panic"),
            )
        })
    } else {
        (run(0, room_0), (Part::default(), Vec::new()))
    };
    b0.extend(b1);
    (vec![p0, p1], b0)
}

/// Each task's stacks (`items[task.lo..task.hi]`, the tasks' ranges
/// disjoint) as a slice of their own, with the task made to match (its
/// range all of the slice); in `tasks`' order.
fn carve(tasks: Vec<Task>, items: &mut [Item]) -> Vec<(Task, &mut [Item])> {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_unstable_by_key(|&i| tasks[i].lo);
    let mut slices: Vec<Option<&mut [Item]>> = (0..tasks.len()).map(|_| None).collect();
    let mut rest = items;
    let mut at = 0;
    for i in order {
        let t = &tasks[i];
        let (_, tail) = rest.split_at_mut(t.lo - at);
        let (mine, tail) = tail.split_at_mut(t.hi - t.lo);
        slices[i] = Some(mine);
        rest = tail;
        at = t.hi;
    }
    tasks
        .into_iter()
        .zip(slices)
        .map(|(t, s)| {
            let s = s.expect("each task's slice");
            let task = Task {
                lo: 0,
                hi: s.len(),
                ..t
            };
            (task, s)
        })
        .collect()
}

/// Lays the main builder's nodes and the subtrees' blocks out in pre-order,
/// siblings ordered by key id: a walk over the main nodes (a few, or all of
/// them for a small input) that copies each block whole, or, for a block
/// with others hanging below its nodes, node by node with each of those
/// put in its place among its siblings.
fn assemble(
    main: Vec<Built>,
    main_sums: Vec<[f64; 2]>,
    parts: &[Part],
    blocks: &[Block],
) -> (Vec<Built>, Vec<[f64; 2]>) {
    #[derive(Clone, Copy)]
    enum Child {
        Main(u32),
        Block(u32),
    }
    let total = main.len() + blocks.iter().map(|b| b.end - b.start).sum::<usize>();
    let mut children: Vec<Vec<(u32, Child)>> = vec![Vec::new(); main.len()];
    for (i, n) in main.iter().enumerate().skip(1) {
        children[n.parent as usize].push((n.key, Child::Main(i as u32)));
    }
    // Each part's blocks by where they start, to find the block holding a
    // node.
    let mut by_start: Vec<Vec<(usize, usize)>> = vec![Vec::new(); parts.len()];
    for (k, b) in blocks.iter().enumerate() {
        by_start[b.part].push((b.start, k));
    }
    for list in &mut by_start {
        list.sort_unstable();
    }
    let mut grafts: Vec<Vec<Graft>> = (0..blocks.len()).map(|_| Vec::new()).collect();
    for (k, b) in blocks.iter().enumerate() {
        match b.parent {
            Parent::Main(p) => children[p.index()].push((b.key, Child::Block(k as u32))),
            Parent::Part(part, local) => {
                let list = &by_start[part];
                let i = list.partition_point(|&(start, _)| start <= local as usize) - 1;
                grafts[list[i].1].push(Graft {
                    parent: local,
                    key: b.key,
                    block: k as u32,
                });
            }
        }
    }
    for g in &mut grafts {
        g.sort_unstable_by_key(|g| (g.parent, g.key));
    }
    let mut out = Layout {
        parts,
        blocks,
        grafts: &grafts,
        nodes: Vec::with_capacity(total),
        sums: Vec::with_capacity(total),
    };
    let mut new_id = vec![0u32; main.len()];
    let mut stack = vec![Child::Main(0)];
    while let Some(c) = stack.pop() {
        match c {
            Child::Main(i) => {
                let id = out.nodes.len() as u32;
                let n = main[i as usize];
                new_id[i as usize] = id;
                let parent = if i == 0 { 0 } else { new_id[n.parent as usize] };
                out.nodes.push(Built { key: n.key, parent });
                out.sums.push(main_sums[i as usize]);
                let kids = &mut children[i as usize];
                kids.sort_unstable_by_key(|&(key, _)| key);
                stack.extend(kids.iter().rev().map(|&(_, c)| c));
            }
            Child::Block(k) => {
                let top_parent = match blocks[k as usize].parent {
                    Parent::Main(p) => new_id[p.index()],
                    Parent::Part(..) => unreachable!("below the main nodes"),
                };
                out.block(k as usize, top_parent);
            }
        }
    }
    (out.nodes, out.sums)
}

/// A block hanging below a node of another block: that node (in its
/// part's numbering), the block's key, and the block.
#[derive(Clone, Copy)]
struct Graft {
    parent: u32,
    key: u32,
    block: u32,
}

/// The assembled tree so far, and what it is assembled from.
struct Layout<'a> {
    parts: &'a [Part],
    blocks: &'a [Block],
    /// Each block's grafts, by parent then key.
    grafts: &'a [Vec<Graft>],
    nodes: Vec<Built>,
    sums: Vec<[f64; 2]>,
}

impl Layout<'_> {
    /// Lays out block `k` (and the blocks grafted below it), its top node
    /// below node `top_parent` of the tree.
    fn block(&mut self, k: usize, top_parent: u32) {
        let b = &self.blocks[k];
        let part = &self.parts[b.part];
        let grafts = &self.grafts[k];
        let id = self.nodes.len() as u32;
        if grafts.is_empty() {
            for local in b.start..b.end {
                let n = part.nodes[local];
                let parent = if local == b.start {
                    top_parent
                } else {
                    id + (n.parent - b.start as u32)
                };
                self.nodes.push(Built { key: n.key, parent });
            }
            self.sums.extend_from_slice(&part.sums[b.start..b.end]);
            return;
        }
        // The nodes whose subtrees are being laid out (the path to the
        // node at hand): each one's number in the part, in the tree, and
        // its next graft.
        let mut open: Vec<(u32, u32, usize)> = Vec::new();
        for local in b.start..b.end {
            let n = part.nodes[local];
            let parent_local = if local == b.start { u32::MAX } else { n.parent };
            while let Some(&(l, id, next)) = open.last() {
                if l == parent_local {
                    break;
                }
                // Its subtree is done: the grafts left come after it all.
                open.pop();
                self.grafts_of(k, l, next, u32::MAX, id);
            }
            let parent = match open.last_mut() {
                Some((l, id, next)) => {
                    // The grafts of smaller keys come before this sibling.
                    *next = self.grafts_of(k, *l, *next, n.key, *id);
                    *id
                }
                None => top_parent,
            };
            let id = self.nodes.len() as u32;
            self.nodes.push(Built { key: n.key, parent });
            self.sums.push(part.sums[local]);
            let first = grafts.partition_point(|g| g.parent < local as u32);
            open.push((local as u32, id, first));
        }
        while let Some((l, id, next)) = open.pop() {
            self.grafts_of(k, l, next, u32::MAX, id);
        }
    }

    /// Lays out block `k`'s grafts below its node `local` (tree node `id`)
    /// from the `next`-th on, while their keys are below `below`; returns
    /// the next one left.
    fn grafts_of(&mut self, k: usize, local: u32, mut next: usize, below: u32, id: u32) -> usize {
        let grafts = self.grafts;
        while let Some(g) = grafts[k].get(next) {
            if g.parent != local || g.key >= below {
                break;
            }
            self.block(g.block as usize, id);
            next += 1;
        }
        next
    }
}

/// At most this many distinct keys are sorted by counting.
const FEW: usize = 16;

/// A group holding all but one in this many of a node's stacks is
/// dominant: the others are moved around it ([`FewKeys::move_around`]).
const DOMINANT: usize = 64;

/// A stable counting sort's plan for `(key << 32 | position)` pairs made in
/// position order. With few distinct keys (the usual case: a node has a
/// handful of callees) the pairs' order by key is found in one linear pass
/// and applied in another, and whatever moves with the pairs (the tree's
/// stacks) moves by the same plan, reading in order.
#[derive(Default)]
struct FewKeys {
    /// The distinct keys in the order first seen, with how many pairs have
    /// each.
    keys: Vec<(u32, usize)>,
    /// Each pair's key, as its place in `keys`.
    of: Vec<u8>,
}

impl FewKeys {
    /// Plans the sort of `pairs`; false if they hold more than [`FEW`]
    /// distinct keys.
    fn plan(&mut self, pairs: &[u64]) -> bool {
        // Each key's place, found through a small open-addressed table.
        let mut slots = [u8::MAX; 64];
        self.keys.clear();
        self.of.clear();
        for &p in pairs {
            let key = (p >> 32) as u32;
            let mut s = (key.wrapping_mul(0x9E37_79B1) >> 26) as usize;
            let k = loop {
                match slots[s] {
                    u8::MAX if self.keys.len() < FEW => {
                        slots[s] = self.keys.len() as u8;
                        self.keys.push((key, 0));
                        break slots[s];
                    }
                    u8::MAX => return false,
                    k if self.keys[usize::from(k)].0 == key => break k,
                    _ => s = (s + 1) % 64,
                }
            };
            self.keys[usize::from(k)].1 += 1;
            self.of.push(k);
        }
        true
    }

    /// Where the first pair of each key (by its place in `keys`) goes: keys
    /// in order, each after the ones below it.
    fn starts(&self) -> [usize; FEW] {
        let mut order: [u8; FEW] = std::array::from_fn(|i| i as u8);
        let order = &mut order[..self.keys.len()];
        order.sort_unstable_by_key(|&k| self.keys[usize::from(k)].0);
        let mut starts = [0; FEW];
        let mut at = 0;
        for &k in order.iter() {
            starts[usize::from(k)] = at;
            at += self.keys[usize::from(k)].1;
        }
        starts
    }

    /// Each key and how many pairs have it, in key order.
    fn groups(&self) -> impl Iterator<Item = (u32, usize)> + use<> {
        let n = self.keys.len();
        let mut sorted = [(0, 0); FEW];
        sorted[..n].copy_from_slice(&self.keys);
        sorted[..n].sort_unstable_by_key(|&(key, _)| key);
        sorted.into_iter().take(n)
    }

    /// Writes to `to` each of `from` (what the planned pairs stand for, in
    /// their order) whose planned position lies in `base..base +
    /// to.len()`: one of the threads that share the moves by where they
    /// go. Each reads all of `from` in order; together they write each
    /// position once.
    fn scatter(&self, from: &[Item], to: &mut [Item], base: usize) {
        let mut next = self.starts();
        let mut left = to.len();
        for (it, &k) in from.iter().zip(&self.of) {
            let d = next[usize::from(k)];
            next[usize::from(k)] += 1;
            if let Some(slot) = d.checked_sub(base).and_then(|i| to.get_mut(i)) {
                *slot = *it;
                left -= 1;
                if left == 0 {
                    break;
                }
            }
        }
    }

    /// The planned position of each pair, in order.
    /// The key (by its place in `keys`) that all but at most `others` of
    /// the planned pairs have, if one does.
    fn dominant(&self, others: usize) -> Option<u8> {
        let n = self.of.len();
        let (k, _) = self
            .keys
            .iter()
            .enumerate()
            .find(|(_, (_, count))| count + others >= n)?;
        Some(k as u8)
    }

    /// Moves `items` (those the plan was made for) as [`FewKeys::scatter`]
    /// would, in place, when nearly all have the key `major`: the others
    /// are put aside (with where they go), the runs of `major` stacks
    /// between them are moved as blocks (those bound right first, last
    /// first; then those bound left, first first: a stack's shift only
    /// shrinks along the range, and no block lands where one not yet moved
    /// lies), and the others are put in the places left.
    fn move_around(&self, items: &mut [Item], major: u8, aside: &mut Vec<(usize, Item)>) {
        let mut next = self.starts();
        let first = next[usize::from(major)] as isize;
        aside.clear();
        // Runs of `major` stacks as (start, end, shift).
        let mut blocks: Vec<(usize, usize, isize)> = Vec::new();
        let mut from = 0;
        for (i, &k) in self.of.iter().enumerate() {
            if k != major {
                let d = next[usize::from(k)];
                next[usize::from(k)] += 1;
                aside.push((d, items[i]));
                if from < i {
                    blocks.push((from, i, first - (aside.len() - 1) as isize));
                }
                from = i + 1;
            }
        }
        if from < items.len() {
            blocks.push((from, items.len(), first - aside.len() as isize));
        }
        let right = blocks.partition_point(|b| b.2 > 0);
        let (bound_right, bound_left) = blocks.split_at(right);
        for &(a, b, shift) in bound_right.iter().rev().chain(bound_left) {
            if shift != 0 {
                items.copy_within(
                    a..b,
                    a.checked_add_signed(shift).expect("a place in the range"),
                );
            }
        }
        for &(d, it) in aside.iter() {
            items[d] = it;
        }
    }

    fn destinations(&self) -> impl Iterator<Item = usize> + '_ {
        let mut next = self.starts();
        self.of.iter().map(move |&k| {
            let d = next[usize::from(k)];
            next[usize::from(k)] += 1;
            d
        })
    }
}

/// One stack, as the builder moves it around: 32 bytes, since a million
/// of them are moved on every level of the tree (and copied once more
/// where they are grouped).
#[derive(Clone, Copy, Debug, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
pub(crate) struct Item {
    value: f64,
    /// Start in the side's frames (or copied keys); the top bit is the side
    /// (0 before, 1 after).
    start: u32,
    /// Length; the top bit says the stack is a copy of its keys.
    len: u32,
    /// [`path_hash`] of the stack's keys, folded to 32 bits: equal paths
    /// have equal hashes (and unequal ones that collide are told apart by
    /// comparing them).
    hash: u32,
    /// [`TOP`] of the stack's keys from the depth the builder's task says
    /// ([`Task::window`]): first those from the root, read while the
    /// aggregation had the stack at hand (see [`top_keys`]); past them, the
    /// next ones, loaded from its frames in one visit when the grouping
    /// gets there.
    top: TopKeys,
}

const _: () = assert!(std::mem::size_of::<Item>() == 32);

/// The flag bit of [`Item::start`] and [`Item::len`]; profiles hold fewer
/// than 2^31 frames ([`heapdiff_profile::MAX_FRAMES`]), so positions and
/// lengths leave it free.
const FLAG: u32 = 1 << 31;

impl Item {
    fn new(
        side: Side,
        start: usize,
        len: usize,
        copied: bool,
        value: f64,
        hash: u64,
        top: TopKeys,
    ) -> Item {
        let bits = |n: usize| match u32::try_from(n) {
            Ok(n) if n & FLAG == 0 => n,
            _ => unreachable!("profiles hold fewer than 2^31 frames"),
        };
        let side = if side == Side::Before { 0 } else { FLAG };
        Item {
            value,
            start: bits(start) | side,
            len: bits(len) | if copied { FLAG } else { 0 },
            hash: (hash ^ (hash >> 32)) as u32,
            top,
        }
    }

    fn side(&self) -> usize {
        (self.start >> 31) as usize
    }

    fn start(&self) -> usize {
        (self.start & !FLAG) as usize
    }

    pub(crate) fn len(&self) -> usize {
        (self.len & !FLAG) as usize
    }

    fn copied(&self) -> bool {
        self.len & FLAG != 0
    }
}

/// A node to create and expand: the stacks `items[lo..hi]` share their
/// first `depth` keys, the last of which is `key` (`None`: the root).
struct Task {
    lo: usize,
    hi: usize,
    depth: usize,
    key: Option<u32>,
    parent: NodeId,
    /// The shortest of the stacks (until none end, no need to look).
    min_len: usize,
    /// The depth of the stacks' first [`Item::top`] key.
    window: usize,
}

struct Builder<'a> {
    /// Before's stacks, after's.
    sides: [&'a SideStacks<'a>; 2],
    min: f64,
    nodes: Vec<Built>,
    /// Each node's own (before, after) sums, in floating point until the
    /// end: the stacks that end at it, plus the subtrees folded into it.
    sums: Vec<[f64; 2]>,
    path_growth: i64,
    path_shrinkage: i64,
    /// Above this many stacks, the passes over a node's stacks run on two
    /// threads (only in the builder of the upper levels, which works alone).
    split_above: usize,
    /// The depth of the first key held in the items of the task being
    /// expanded (see [`Item::top`]).
    window: usize,
    /// Scratch: (key << 32 | position) of the stacks being grouped.
    pairs: Vec<u64>,
    scratch: Vec<Item>,
    /// Scratch: a copy of the stacks of a group too big for one thread
    /// (in `spare`, when it has room).
    copy: Vec<Item>,
    /// Room past the stacks in their buffer (see [`build`]).
    spare: &'a mut [Item],
    plan: FewKeys,
    /// Scratch: each group's key and size, in key order.
    runs: Vec<(u32, usize)>,
    /// Scratch: what became of each group.
    decided: Vec<Decided>,
    /// Scratch: the stacks put aside while a dominant group is moved
    /// ([`FewKeys::move_around`]), with where they go.
    aside: Vec<(usize, Item)>,
}

/// A group of stacks, summed: its totals (before, after), its shortest
/// stack, and whether it is folded into its parent.
struct Decided {
    total: [f64; 2],
    min_len: usize,
    fold: bool,
}

impl<'a> Builder<'a> {
    fn new(sides: [&'a SideStacks<'a>; 2], min: f64) -> Self {
        Builder {
            sides,
            min,
            nodes: Vec::new(),
            sums: Vec::new(),
            path_growth: 0,
            path_shrinkage: 0,
            split_above: usize::MAX,
            window: 0,
            pairs: Vec::new(),
            scratch: Vec::new(),
            copy: Vec::new(),
            spare: &mut [],
            plan: FewKeys::default(),
            runs: Vec::new(),
            decided: Vec::new(),
            aside: Vec::new(),
        }
    }

    /// A stack's key `depth` (from the root).
    #[inline(always)]
    fn key(&self, item: &Item, depth: usize) -> u32 {
        if let Some(&k) = item.top.get(depth.wrapping_sub(self.window))
            && k != u16::MAX
        {
            return u32::from(k);
        }
        self.sides[item.side()].key(item.start(), item.len(), item.copied(), depth)
    }

    /// Asks for the memory holding a stack's frame `depth` (from the root)
    /// ahead of its use: the stacks of a node lie far apart in the frame
    /// buffer, and each visit would otherwise wait for its own cache miss.
    #[inline(always)]
    fn prefetch(&self, item: &Item, depth: usize) {
        if item
            .top
            .get(depth.wrapping_sub(self.window))
            .is_none_or(|&k| k == u16::MAX)
            && !item.copied()
            && let Some(i) = (item.start() + item.len()).checked_sub(depth + 1)
        {
            match self.sides[item.side()].frames {
                Frames::Narrow(f) => prefetch_index::prefetch_index(f, i),
                Frames::Wide(f) => prefetch_index::prefetch_index(f, i),
            }
        }
    }

    /// Asks for the memory holding a stack's frames past `depth`, the
    /// first and last of them (a few dozen bytes): those a folded group's
    /// stacks are compared by. Asked for a group's stacks at once, they
    /// arrive together, instead of each compare waiting for its own.
    #[inline(always)]
    fn prefetch_rest(&self, item: &Item, depth: usize) {
        if !item.copied() && item.len() > depth {
            let (first, last) = (item.start(), item.start() + item.len() - 1 - depth);
            match self.sides[item.side()].frames {
                Frames::Narrow(f) => {
                    prefetch_index::prefetch_index(f, first);
                    prefetch_index::prefetch_index(f, last);
                }
                Frames::Wide(f) => {
                    prefetch_index::prefetch_index(f, first);
                    prefetch_index::prefetch_index(f, last);
                }
            }
        }
    }

    /// How many keys two stacks share from `depth` on, up to `limit` (at
    /// most the shorter one's length).
    fn shared(&self, a: &Item, b: &Item, depth: usize, limit: usize) -> usize {
        if depth >= limit {
            return 0;
        }
        let mut d = depth;
        // The keys both hold first.
        while d >= self.window && d < limit.min(self.window + TOP) {
            let (x, y) = (a.top[d - self.window], b.top[d - self.window]);
            if x == u16::MAX || y == u16::MAX {
                break;
            }
            if x != y {
                return d - depth;
            }
            d += 1;
        }
        if d < limit && !a.copied() && !b.copied() {
            // Root first is the end of each leaf-first run.
            let ends = |d: usize| (a.start() + a.len() - d, b.start() + b.len() - d);
            let (sa, sb) = (&self.sides[a.side()], &self.sides[b.side()]);
            if a.side() == b.side() {
                // Equal frames have equal keys: compare the frames first, in
                // bulk.
                let n = limit - d;
                let (ea, eb) = ends(d);
                d += match sa.frames {
                    Frames::Narrow(f) => common_suffix(&f[ea - n..ea], &f[eb - n..eb]),
                    Frames::Wide(f) => common_suffix(&f[ea - n..ea], &f[eb - n..eb]),
                };
            }
            // Then their keys, through each side's key table, in one loop
            // over the two runs of frames.
            let n = limit - d;
            let (ea, eb) = ends(d);
            let (ka, kb) = (&*sa.keys_of, &*sb.keys_of);
            d += match (sa.frames, sb.frames) {
                (Frames::Narrow(x), Frames::Narrow(y)) => {
                    common_keys(&x[ea - n..ea], ka, &y[eb - n..eb], kb)
                }
                (Frames::Narrow(x), Frames::Wide(y)) => {
                    common_keys(&x[ea - n..ea], ka, &y[eb - n..eb], kb)
                }
                (Frames::Wide(x), Frames::Narrow(y)) => {
                    common_keys(&x[ea - n..ea], ka, &y[eb - n..eb], kb)
                }
                (Frames::Wide(x), Frames::Wide(y)) => {
                    common_keys(&x[ea - n..ea], ka, &y[eb - n..eb], kb)
                }
            };
            return d - depth;
        }
        d + (d..limit)
            .take_while(|&d| self.key(a, d) == self.key(b, d))
            .count()
            - depth
    }

    /// Two stacks' keys from `depth` on, compared.
    fn compare(&self, a: &Item, b: &Item, depth: usize) -> std::cmp::Ordering {
        let n = self.shared(a, b, depth, a.len().min(b.len()));
        let d = depth + n;
        if d < a.len() && d < b.len() {
            self.key(a, d).cmp(&self.key(b, d))
        } else {
            a.len().cmp(&b.len())
        }
    }

    fn push_node(&mut self, key: u32, parent: NodeId) -> NodeId {
        let id = NodeId(u32::try_from(self.nodes.len()).expect("fewer than 2^32 nodes"));
        self.nodes.push(Built {
            key,
            parent: parent.0,
        });
        self.sums.push([0.0; 2]);
        id
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

    /// Creates a task's node and expands it: the stacks that end at it are
    /// its own; frames all the others share become a chain of nodes below
    /// it; then they are grouped by their next key: groups too small to draw
    /// are folded into the node, the others become tasks.
    fn expand(&mut self, task: Task, items: &mut [Item], work: &mut Vec<Task>) {
        let Task {
            lo,
            mut hi,
            mut depth,
            key,
            parent,
            mut min_len,
            window,
        } = task;
        self.window = window;
        let mut node = match key {
            Some(key) => self.push_node(key, parent),
            None => Tree::ROOT,
        };
        let mut pairs = std::mem::take(&mut self.pairs);
        loop {
            if min_len <= depth {
                // The stacks ending here leave the range (the rest keep
                // their order, so that reading them walks memory forwards).
                let mut own = [0.0; 2];
                let mut kept = lo;
                min_len = usize::MAX;
                for i in lo..hi {
                    let it = items[i];
                    if it.len() <= depth {
                        own[it.side()] += it.value;
                    } else {
                        items[kept] = it;
                        kept += 1;
                        min_len = min_len.min(it.len());
                    }
                }
                hi = kept;
                self.sums[node.index()][0] += own[0];
                self.sums[node.index()][1] += own[1];
                self.count_path(own);
                if lo == hi {
                    break;
                }
            }
            // Past the keys the items hold, each loads the next ones from
            // its frames: one visit to a stack's frames for several levels.
            if depth >= self.window + TOP {
                let range = &mut items[lo..hi];
                if range.len() > self.split_above {
                    let (a, b) = range.split_at_mut(range.len() / 2);
                    let this = &*self;
                    std::thread::scope(|s| {
                        s.spawn(|| this.load_keys(b, depth));
                        this.load_keys(a, depth);
                    });
                } else {
                    self.load_keys(range, depth);
                }
                self.window = depth;
            }
            // Each stack's next key, with its position: written in place
            // (by two threads, each its half), in memory kept from node to
            // node, fresh (zeroed by the allocator: no pass to clear it)
            // when a bigger node needs more.
            let range = &items[lo..hi];
            if pairs.len() < range.len() {
                drop(std::mem::take(&mut pairs));
                pairs = bytemuck::zeroed_vec(range.len());
            }
            let keyed = &mut pairs[..range.len()];
            if range.len() > self.split_above {
                let (a, b) = range.split_at(range.len() / 2);
                let (to_a, to_b) = keyed.split_at_mut(a.len());
                let this = &*self;
                std::thread::scope(|s| {
                    s.spawn(|| this.gather(b, a.len(), depth, to_b));
                    this.gather(a, 0, depth, to_a);
                });
            } else {
                self.gather(range, 0, depth, keyed);
            }
            let next = (keyed[0] >> 32) as u32;
            if keyed.iter().any(|p| (p >> 32) as u32 != next) {
                self.group(node, lo, depth, keyed, items, work);
                break;
            }
            // All go on through `next`, and maybe further: a chain, as long
            // as the shortest stack, found by comparing each stack with the
            // first of its side (and those two with each other).
            node = self.push_node(next, node);
            depth += 1;
            let first = items[lo];
            let range = &items[lo + 1..hi];
            // The chain ends where any stack parts from the first of its
            // side; the halves of a big range are compared on two threads
            // (the shortest shared run is the same in any order).
            let (mut end, others) = if range.len() > self.split_above {
                let (a, b) = range.split_at(range.len() / 2);
                let this = &*self;
                std::thread::scope(|s| {
                    let second = s.spawn(|| this.chain_end(&first, b, depth, min_len));
                    let (end_a, other_a) = this.chain_end(&first, a, depth, min_len);
                    let (end_b, other_b) = second.join().expect("comparing does not panic");
                    (end_a.min(end_b), [other_a, other_b])
                })
            } else {
                let (end, other) = self.chain_end(&first, range, depth, min_len);
                (end, [other, None])
            };
            for o in others.into_iter().flatten() {
                end = depth + self.shared(&first, &o, depth, end);
            }
            for k in depth..end {
                node = self.push_node(self.key(&first, k), node);
            }
            depth = end;
        }
        self.pairs = pairs;
    }

    /// Holds each stack's keys from `depth` on in its item.
    fn load_keys(&self, range: &mut [Item], depth: usize) {
        for i in 0..range.len() {
            if let Some(ahead) = range.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead, depth);
            }
            let it = &mut range[i];
            it.top = self.sides[it.side()].window(it, depth);
        }
    }

    /// Writes each stack's key at `depth`, shifted up, with its position in
    /// `range` plus `base`, to `pairs` (as long as `range`).
    fn gather(&self, range: &[Item], base: usize, depth: usize, pairs: &mut [u64]) {
        for (i, (it, pair)) in range.iter().zip(pairs).enumerate() {
            if let Some(ahead) = range.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead, depth);
            }
            *pair = u64::from(self.key(it, depth)) << 32 | (base + i) as u64;
        }
    }

    /// How deep (up to `end`) every stack of `range` shares its keys from
    /// `depth` on with the first of its side: `first`, or for the other
    /// side the first of that side in `range`, also returned.
    fn chain_end(
        &self,
        first: &Item,
        range: &[Item],
        depth: usize,
        mut end: usize,
    ) -> (usize, Option<Item>) {
        let mut other: Option<Item> = None;
        for (i, it) in range.iter().enumerate() {
            if let Some(ahead) = range.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead, depth);
            }
            let rep = if it.side() == first.side() {
                first
            } else {
                other.get_or_insert(*it)
            };
            end = depth + self.shared(rep, it, depth, end);
            if end == depth {
                break;
            }
        }
        (end, other)
    }

    /// Groups `items[lo..]` (which pass through `node` and differ at key
    /// `depth`; `pairs` holds each one's key there and position) by that
    /// key: groups too small to draw are folded into `node`, the others
    /// become tasks.
    fn group(
        &mut self,
        node: NodeId,
        lo: usize,
        depth: usize,
        pairs: &mut [u64],
        items: &mut [Item],
        work: &mut Vec<Task>,
    ) {
        // Sorting (key, position) keeps each group in reading order.
        let hi = lo + pairs.len();
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let gather = |pairs: &[u64], out: &mut Vec<Item>| {
            out.extend(pairs.iter().map(|&p| items[lo + (p as u32) as usize]));
        };
        let mut runs = std::mem::take(&mut self.runs);
        runs.clear();
        let planned = self.plan.plan(pairs);
        let dominant = (planned && pairs.len() > self.split_above)
            .then(|| self.plan.dominant(pairs.len() / DOMINANT))
            .flatten();
        if let Some(major) = dominant {
            // Many stacks, nearly all in one group: moved in place, the few
            // others put aside, instead of copying all of them to move them
            // back.
            let mut aside = std::mem::take(&mut self.aside);
            self.plan.move_around(&mut items[lo..hi], major, &mut aside);
            self.aside = aside;
            runs.extend(self.plan.groups());
        } else if pairs.len() > self.split_above && planned {
            // Few keys, many stacks: a copy of the stacks (made in halves,
            // on two threads), from which each thread moves those bound for
            // its half of the range, following the plan (see
            // [`FewKeys::scatter`]); the groups are the plan's.
            let n = pairs.len();
            if self.spare.len() < n && self.copy.len() < n {
                self.copy = Vec::new();
                self.copy = item_buffer(n);
            }
            let copy = if self.spare.len() >= n {
                &mut self.spare[..n]
            } else {
                &mut self.copy[..n]
            };
            let range = &mut items[lo..hi];
            let half = n / 2;
            let (from_a, from_b) = copy.split_at_mut(half);
            let (a, b) = range.split_at(half);
            std::thread::scope(|s| {
                s.spawn(|| from_b.copy_from_slice(b));
                from_a.copy_from_slice(a);
            });
            let (from, plan) = (&*copy, &self.plan);
            let (a, b) = range.split_at_mut(half);
            std::thread::scope(|s| {
                s.spawn(|| plan.scatter(from, b, half));
                plan.scatter(from, a, 0);
            });
            runs.extend(plan.groups());
        } else if planned {
            // Few keys: the stacks move straight to their groups, read in
            // order (a copy of them first, in the spare memory when it has
            // room), instead of being gathered through the sorted pairs
            // from all over; the groups are the plan's.
            let n = hi - lo;
            let from: &[Item] = if self.spare.len() >= n {
                let copy = &mut self.spare[..n];
                copy.copy_from_slice(&items[lo..hi]);
                copy
            } else {
                scratch.extend_from_slice(&items[lo..hi]);
                &scratch
            };
            for (it, d) in from.iter().zip(self.plan.destinations()) {
                items[lo + d] = *it;
            }
            runs.extend(self.plan.groups());
        } else if pairs.len() > self.split_above {
            // More keys than a counting sort takes (the plan said so).
            pairs.sort_unstable();
            let (a, b) = pairs.split_at(pairs.len() / 2);
            let tail = std::thread::scope(|s| {
                let tail = s.spawn(|| {
                    let mut tail = Vec::with_capacity(b.len());
                    gather(b, &mut tail);
                    tail
                });
                gather(a, &mut scratch);
                tail.join().expect("moving stacks does not panic")
            });
            items[lo..lo + a.len()].copy_from_slice(&scratch);
            items[lo + a.len()..hi].copy_from_slice(&tail);
        } else {
            // More keys than a counting sort takes.
            pairs.sort_unstable();
            gather(pairs, &mut scratch);
            items[lo..hi].copy_from_slice(&scratch);
        }
        self.scratch = scratch;
        if runs.is_empty() {
            // The sorted pairs' runs of equal keys.
            let mut a = 0;
            while a < pairs.len() {
                let key = (pairs[a] >> 32) as u32;
                let n = pairs[a..]
                    .iter()
                    .take_while(|&&p| (p >> 32) as u32 == key)
                    .count();
                runs.push((key, n));
                a += n;
            }
        }
        let first_task = work.len();
        // Each group's totals and shortest stack, and whether it is folded;
        // the frames a folded group's stacks are compared by are asked for
        // at once, before they are compared (see [`Builder::count_folded`]).
        let mut decided = std::mem::take(&mut self.decided);
        decided.clear();
        let mut a = 0;
        for &(_, n) in &runs {
            let b = a + n;
            // Each side's total in a register of its own (summed in the same
            // order as through an array, which made every addition wait for
            // the store of the one before).
            let (mut before, mut after) = (0.0, 0.0);
            let mut min_len = usize::MAX;
            for it in &items[lo + a..lo + b] {
                if it.side() == 0 {
                    before += it.value;
                } else {
                    after += it.value;
                }
                min_len = min_len.min(it.len());
            }
            let total = [before, after];
            let fold = total[0].abs().max(total[1].abs()) < self.min;
            if fold && n > 1 {
                for it in &items[lo + a..lo + b] {
                    self.prefetch_rest(it, depth);
                }
            }
            decided.push(Decided {
                total,
                min_len,
                fold,
            });
            a = b;
        }
        let mut a = 0;
        for (&(key, n), d) in runs.iter().zip(&decided) {
            let b = a + n;
            if d.fold {
                self.sums[node.index()][0] += d.total[0];
                self.sums[node.index()][1] += d.total[1];
                self.count_folded(&mut items[lo + a..lo + b], depth);
            } else {
                work.push(Task {
                    lo: lo + a,
                    hi: lo + b,
                    depth: depth + 1,
                    key: Some(key),
                    parent: node,
                    min_len: d.min_len,
                    window: self.window,
                });
            }
            a = b;
        }
        self.decided = decided;
        self.runs = runs;
        // Popped smallest key first: pre-order.
        work[first_task..].reverse();
    }

    /// Counts the distinct call paths of a folded group (stacks sharing
    /// their first `depth` keys) into the path growth and shrinkage.
    fn count_folded(&mut self, items: &mut [Item], depth: usize) {
        if let [it] = items {
            let mut own = [0.0; 2];
            own[it.side()] = it.value;
            self.count_path(own);
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
                .all(|it| self.compare(&run[0], it, depth).is_eq())
            {
                let mut own = [0.0; 2];
                for it in run.iter() {
                    own[it.side()] += it.value;
                }
                self.count_path(own);
            } else {
                self.count_distinct(run, depth);
            }
            i = j;
        }
    }

    /// Counts the distinct call paths of stacks sharing their first `depth`
    /// keys, comparing them whole.
    fn count_distinct(&mut self, items: &mut [Item], depth: usize) {
        items.sort_by(|x, y| self.compare(x, y, depth));
        let mut i = 0;
        while i < items.len() {
            let mut own = [0.0; 2];
            let mut j = i;
            while j < items.len() && self.compare(&items[i], &items[j], depth).is_eq() {
                own[items[j].side()] += items[j].value;
                j += 1;
            }
            self.count_path(own);
            i = j;
        }
    }
}

/// How many frames two runs of frames of the same length share at their
/// ends.
fn common_suffix<F: StackFrame>(a: &[F], b: &[F]) -> usize {
    if a == b {
        a.len()
    } else {
        a.iter()
            .rev()
            .zip(b.iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
    }
}

/// How many frames two runs of frames of the same length, each keyed by
/// its own table, share keys at their ends.
fn common_keys<A: StackFrame, B: StackFrame>(
    a: &[A],
    keys_a: &[KeyId],
    b: &[B],
    keys_b: &[KeyId],
) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| keys_a[x.index()] == keys_b[y.index()])
        .count()
}

/// Sums totals (in floating point, truncated at the end) and indexes
/// children. The nodes are laid out in `memory` (the stacks' buffer, done
/// with: its pages are already the process's), given back but for what
/// they take, when it is big enough.
fn finish(built: Vec<Built>, mut sums: Vec<[f64; 2]>, memory: Vec<u64>) -> Tree {
    // Each node's children, from the parents alone: on a thread of its own
    // for a big tree, while the nodes are made.
    let children = |built: &[Built]| {
        let mut counts = vec![0u32; built.len() + 1];
        for n in &built[1..] {
            counts[n.parent as usize + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let child_start = counts.clone();
        let mut fill = counts;
        let mut child_list = vec![Tree::ROOT; built.len().saturating_sub(1)];
        for (i, n) in built.iter().enumerate().skip(1) {
            let slot = &mut fill[n.parent as usize];
            child_list[*slot as usize] = NodeId(i as u32);
            *slot += 1;
        }
        (child_start, child_list)
    };
    // Own values first; then, children before parents (reverse pre-order),
    // each node's sum becomes its total and is added to its parent's. One
    // buffer serves both, so nothing per node is copied.
    let nodes = |built: &[Built], sums: &mut [[f64; 2]], memory: Vec<u64>| {
        let words = built.len() * NODE_WORDS;
        let mut raw = if memory.len() >= words {
            let mut raw = memory;
            raw.truncate(words);
            raw.shrink_to_fit();
            raw
        } else {
            drop(memory);
            bytemuck::zeroed_vec(words)
        };
        let nodes: &mut [Node] = bytemuck::cast_slice_mut(&mut raw);
        for ((node, b), own) in nodes.iter_mut().zip(built).zip(sums.iter()) {
            *node = Node {
                key: b.key,
                parent: NodeId(b.parent),
                self_values: TreeValues {
                    before: own[0] as i64,
                    after: own[1] as i64,
                },
                total: TreeValues::default(),
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
        raw
    };
    let (nodes, (child_start, child_list)) = if built.len() > PARALLEL_ABOVE {
        std::thread::scope(|s| {
            let kids = s.spawn(|| children(&built));
            let nodes = nodes(&built, &mut sums, memory);
            (nodes, kids.join().expect("listing children does not panic"))
        })
    } else {
        (nodes(&built, &mut sums, memory), children(&built))
    };
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

    /// The upper levels' passes in halves from 1,000 stacks; the subtree
    /// builders sharing work as they do.
    const HALVES: Sharing = Sharing {
        split_items: 1_000,
        always: false,
    };

    #[test]
    fn stacks_merge_by_path_and_totals_sum_up() {
        let (a, b, c) = (KeyId(0), KeyId(1), KeyId(2));
        let mut before = SideStacks::new(Side::Before);
        let mut after = SideStacks::new(Side::After);
        // leaf first: c <- b <- a (a is the root caller)
        let items = vec![
            before.copy(&[c, b, a], 10.0),
            after.copy(&[c, a], 7.0),
            after.copy(&[c, b, a], 30.0),
            after.copy(&[b, a], 5.0),
        ];
        let t = build(&before, &after, items.clone(), items.len(), 0, 0.0);
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
        let mut after = SideStacks::new(Side::After);
        let items = vec![after.copy(&[], 9.0), after.copy(&[], 1.0)];
        let t = build(
            &SideStacks::new(Side::Before),
            &after,
            items.clone(),
            items.len(),
            0,
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
            let before = SideStacks::over(Side::Before, frames, keys_of.clone());
            let after = SideStacks::over(Side::After, frames, keys_of.clone());
            let add = |stacks: &SideStacks<'_>, start: usize, len: usize, value: f64| {
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
            // Everything below the root's child is folded.
            let t = build(&before, &after, items.clone(), items.len(), 0, 100.0);
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
            let mut before = SideStacks::new(Side::Before);
            let mut after = SideStacks::new(Side::After);
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
        let full = build(&before, &after, items.clone(), items.len(), 0, 0.0);
        let (before, after, items) = sides();
        let folded = build(&before, &after, items.clone(), items.len(), 0, 10.0);
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
    /// sharing keys), half of them read from profiles, some copied, enough
    /// of them to build on two threads: every node's totals equal a plain
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
        let mut before = SideStacks::over(Side::Before, pb.stack_frames(), keys_of.clone());
        let mut after = SideStacks::over(Side::After, pa.stack_frames(), keys_of.clone());
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
        assert!(items.len() > PARALLEL_ABOVE);
        // The upper levels' passes in halves on two threads (from 1,000
        // stacks) or not: the same tree.
        let n = items.len();
        let t = build_split(&before, &after, items.clone(), n, 0, 0.0, HALVES);
        let whole = build(&before, &after, items.clone(), n, 0, 0.0);
        assert_eq!(t.nodes(), whole.nodes());
        // The subtree builders handing each other every task they can (the
        // subtrees laid out around the ones handed over): the same tree.
        for min in [0.0, 3_000.0] {
            let shared = build_split(
                &before,
                &after,
                items.clone(),
                n,
                0,
                min,
                Sharing {
                    always: true,
                    ..HALVES
                },
            );
            let asked = build_split(&before, &after, items.clone(), n, 0, min, HALVES);
            assert_eq!(shared.nodes(), asked.nodes(), "{min}");
            assert_eq!(
                (shared.path_growth, shared.path_shrinkage),
                (asked.path_growth, asked.path_shrinkage)
            );
        }
        // Room past the stacks, holding anything, is used for the copies of
        // the big groups (not the stacks' own buffer), to the same tree.
        let mut roomy = items.clone();
        roomy.resize(3 * n, bytemuck::cast([u64::MAX; 4]));
        let t_roomy = build_split(&before, &after, roomy, n, 0, 0.0, HALVES);
        assert_eq!(t_roomy.nodes(), t.nodes());
        assert_eq!(
            (t_roomy.path_growth, t_roomy.path_shrinkage),
            (t.path_growth, t.path_shrinkage)
        );
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
            let t = build_split(&before, &after, items.clone(), n, 0, min, HALVES);
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

    /// A big node whose stacks nearly all go one way is moved in place:
    /// the same tree as moving them through a copy.
    #[test]
    fn a_dominant_group_moved_in_place_makes_the_same_tree() {
        let mut before = SideStacks::new(Side::Before);
        let mut after = SideStacks::new(Side::After);
        let mut items = Vec::new();
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        for i in 0..(PARALLEL_ABOVE as u64 + 5_000) {
            // Root 1; then callee 2 but for one stack in 500 (3 or 4, on
            // either side of it); then a few random frames. Leaf first.
            let callee = match i % 500 {
                7 => 3,
                300 => 4,
                _ => 2,
            };
            let mut keys: Vec<KeyId> = (0..1 + next(4))
                .map(|_| KeyId(10 + next(30) as u32))
                .collect();
            keys.extend([KeyId(callee), KeyId(1)]);
            let stacks = if i % 2 == 0 { &mut before } else { &mut after };
            items.push(stacks.copy(&keys, 1.0 + next(100) as f64));
        }
        let n = items.len();
        let in_place = build_split(&before, &after, items.clone(), n, 0, 0.0, HALVES);
        let copied = build_split(
            &before,
            &after,
            items.clone(),
            n,
            0,
            0.0,
            Sharing {
                split_items: usize::MAX,
                ..HALVES
            },
        );
        assert_eq!(in_place.nodes(), copied.nodes());
        assert_eq!(
            (in_place.path_growth, in_place.path_shrinkage),
            (copied.path_growth, copied.path_shrinkage)
        );
        assert_eq!(in_place.children(Tree::ROOT).len(), 1);
        let root_callee = in_place.children(Tree::ROOT)[0];
        assert_eq!(in_place.children(root_callee).len(), 3);
    }

    /// The plan's groups and moves, shared by two threads at any split
    /// point, against a full sort of the pairs.
    #[test]
    fn counting_plan_moves_like_a_full_sort() {
        let check = |pairs: &[u64], plan: &mut FewKeys| {
            assert!(plan.plan(pairs));
            let mut sorted = pairs.to_vec();
            sorted.sort_unstable();
            let item =
                |p: u64| Item::new(Side::After, (p as u32) as usize, 1, false, 0.0, 0, [0; TOP]);
            let from: Vec<Item> = pairs.iter().map(|&p| item(p)).collect();
            let want: Vec<usize> = sorted.iter().map(|&p| (p as u32) as usize).collect();
            for split in [0, 1, pairs.len() / 3, pairs.len() / 2, pairs.len()] {
                let mut to = vec![item(u64::from(u32::MAX >> 1)); pairs.len()];
                let (a, b) = to.split_at_mut(split);
                plan.scatter(&from, a, 0);
                plan.scatter(&from, b, split);
                let got: Vec<usize> = to.iter().map(|it| it.start()).collect();
                assert_eq!(got, want, "split at {split}");
            }
            let mut runs = Vec::new();
            for p in &sorted {
                match runs.last_mut() {
                    Some((key, n)) if *key == (p >> 32) as u32 => *n += 1,
                    _ => runs.push(((p >> 32) as u32, 1)),
                }
            }
            assert_eq!(plan.groups().collect::<Vec<_>>(), runs);
            // In place around a dominant key, where there is one.
            if let Some(major) = plan.dominant(pairs.len() / DOMINANT) {
                let mut items = from.clone();
                plan.move_around(&mut items, major, &mut Vec::new());
                let got: Vec<usize> = items.iter().map(|it| it.start()).collect();
                assert_eq!(got, want, "moved around a dominant key");
            }
        };
        let mut plan = FewKeys::default();
        for distinct in [1u64, 3, 16, 17, 200] {
            let pairs: Vec<u64> = (0..1000u64)
                .map(|i| ((i * 7919) % distinct) << 32 | i)
                .collect();
            if distinct <= FEW as u64 {
                check(&pairs, &mut plan);
            } else {
                assert!(!plan.plan(&pairs), "{distinct} keys are too many");
            }
        }
        // Keys that all want the same slot of the bucket table.
        let slot = |k: u32| k.wrapping_mul(0x9E37_79B1) >> 26;
        let same: Vec<u64> = (0u32..)
            .filter(|&k| slot(k) == slot(5))
            .take(12)
            .map(u64::from)
            .collect();
        let pairs: Vec<u64> = (0..600u64)
            .map(|i| same[(i * 13 % 12) as usize] << 32 | i)
            .collect();
        check(&pairs, &mut plan);
        assert_eq!(plan.keys.len(), 12);
        // One key on nearly all: the others (below and above it) first,
        // last, together, apart, or none.
        let mut moved = 0;
        for others in [
            vec![],
            vec![(0, 1u64)],
            vec![(999, 9)],
            vec![(0, 9), (1, 1), (998, 1), (999, 9)],
            vec![(10, 1), (11, 9), (500, 1), (501, 9), (502, 2), (990, 3)],
            (0..15).map(|i| (i * 61 % 1000, (i % 3) * 4 + 1)).collect(),
        ] {
            let pairs: Vec<u64> = (0..1000u64)
                .map(|i| {
                    let key = others.iter().find(|o| o.0 == i).map_or(5, |o| o.1);
                    key << 32 | i
                })
                .collect();
            check(&pairs, &mut plan);
            moved += usize::from(plan.dominant(pairs.len() / DOMINANT).is_some());
        }
        assert_eq!(moved, 6, "every case has a dominant key");
    }
}
