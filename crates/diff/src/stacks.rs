//! The stacks as the tree reads them: one [`Item`] per stack (where its
//! frames are, or a copy of its keys), and each side's frames and keys.

use std::sync::Arc;

use heapdiff_profile::{FrameId, Frames, StackFrame};

use crate::{KeyId, Side};

/// One side's stacks as items are made of them: runs of the profile's own
/// frames, or copies of their keys (stacks a filter changed), kept here.
#[derive(Clone, Debug)]
pub(crate) struct Copies {
    side: Side,
    /// Keys of the copied stacks, root first, back to back.
    keys: Vec<u32>,
}

impl Copies {
    /// None yet.
    pub(crate) fn new(side: Side) -> Self {
        Copies {
            side,
            keys: Vec::new(),
        }
    }

    /// One stack given by its keys, leaf first: the keys are copied here,
    /// and the item returned.
    pub(crate) fn copy(&mut self, leaf_first: &[KeyId], value: f64) -> Item {
        let start = self.keys.len();
        self.keys.extend(leaf_first.iter().rev().map(|k| k.0));
        let hash = path_hash(leaf_first.iter().rev().copied());
        let top = top_keys(leaf_first.iter().rev().copied());
        Item::new(self.side, start, leaf_first.len(), true, value, hash, top)
    }

    /// The item of the stack `frames[start..start + len]`, whose keys hash
    /// to `hash` (see [`path_hash`]) and begin with `top` from the root (see
    /// [`top_keys`]).
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
    pub(crate) fn append(&mut self, other: Copies) -> usize {
        let base = self.keys.len();
        self.keys.extend(other.keys);
        base
    }

    /// The side's stacks as the tree reads them: runs of `frames`, keyed
    /// by `keys_of`, and these copies.
    pub(crate) fn over(self, frames: Frames<'_>, keys_of: Arc<[KeyId]>) -> SideStacks<'_> {
        SideStacks {
            frames,
            keys_of,
            copied: self.keys,
        }
    }
}

/// One side's stacks, as the tree reads them (see [`Copies::over`]).
#[derive(Clone, Debug)]
pub(crate) struct SideStacks<'p> {
    frames: Frames<'p>,
    /// Each frame's key.
    keys_of: Arc<[KeyId]>,
    /// Keys of the copied stacks, root first, back to back.
    copied: Vec<u32>,
}

impl SideStacks<'_> {
    /// A stack's keys from `depth` on, for [`Item::top`].
    pub(crate) fn window(&self, item: &Item, depth: usize) -> TopKeys {
        fn keys<F: StackFrame>(run: &[F], keys_of: &[KeyId]) -> TopKeys {
            let mut top = [u16::MAX; TOP];
            for (slot, f) in top.iter_mut().zip(run.iter().rev()) {
                *slot = u16::try_from(keys_of[f.index()].0).unwrap_or(u16::MAX);
            }
            top
        }
        let n = item.len().saturating_sub(depth).min(TOP);
        let (start, len) = (item.start(), item.len());
        if item.copied() {
            let mut top = [u16::MAX; TOP];
            for (slot, &k) in top
                .iter_mut()
                .zip(&self.copied[start + depth..start + depth + n])
            {
                *slot = u16::try_from(k).unwrap_or(u16::MAX);
            }
            return top;
        }
        // Root first is the end of the leaf-first run.
        let end = start + len - depth;
        match self.frames {
            Frames::Narrow(f) => keys(&f[end - n..end], &self.keys_of),
            Frames::Wide(f) => keys(&f[end - n..end], &self.keys_of),
        }
    }

    /// How many frames two stacks of this side (neither copied) share
    /// from `depth` on, up to `limit`.
    pub(crate) fn common_frames(&self, a: &Item, b: &Item, depth: usize, limit: usize) -> usize {
        fn common<F: PartialEq>(x: &[F], y: &[F]) -> usize {
            x.iter()
                .rev()
                .zip(y.iter().rev())
                .take_while(|(x, y)| x == y)
                .count()
        }
        if depth >= limit {
            return 0;
        }
        let run = |it: &Item| {
            let end = it.start() + it.len() - depth;
            end - (limit - depth)..end
        };
        let (ra, rb) = (run(a), run(b));
        match self.frames {
            Frames::Narrow(f) => common(&f[ra], &f[rb]),
            Frames::Wide(f) => common(&f[ra], &f[rb]),
        }
    }

    /// A stack's keys at depths `from..to` (from the root).
    pub(crate) fn keys(&self, item: &Item, from: usize, to: usize) -> Keys<'_> {
        let (start, len) = (item.start(), item.len());
        if item.copied() {
            return Keys::Copied(self.copied[start + from..start + to].iter());
        }
        // Root first is the end of the leaf-first run.
        let (lo, hi) = (start + len - to, start + len - from);
        match self.frames {
            Frames::Narrow(f) => Keys::Narrow(f[lo..hi].iter().rev(), &self.keys_of),
            Frames::Wide(f) => Keys::Wide(f[lo..hi].iter().rev(), &self.keys_of),
        }
    }

    /// Key `depth` (from the root) of a stack.
    pub(crate) fn key(&self, item: &Item, depth: usize) -> u32 {
        let (start, len) = (item.start(), item.len());
        if item.copied() {
            self.copied[start + depth]
        } else {
            self.keys_of[self.frames.at(start + len - 1 - depth).index()].0
        }
    }
}

/// A buffer of `n` items, all zero, for the sides' stacks to be written
/// into: zeroed memory straight from the allocator, whose pages cost
/// nothing until they are written.
pub(crate) fn item_buffer(n: usize) -> Vec<Item> {
    bytemuck::zeroed_vec(n)
}

/// A run of a stack's keys, root first (see [`SideStacks::keys`]).
pub(crate) enum Keys<'a> {
    Copied(std::slice::Iter<'a, u32>),
    Narrow(std::iter::Rev<std::slice::Iter<'a, u16>>, &'a [KeyId]),
    Wide(std::iter::Rev<std::slice::Iter<'a, FrameId>>, &'a [KeyId]),
}

impl Iterator for Keys<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match self {
            Keys::Copied(k) => k.next().copied(),
            Keys::Narrow(f, keys) => f.next().map(|f| keys[usize::from(*f)].0),
            Keys::Wide(f, keys) => f.next().map(|f| keys[f.index()].0),
        }
    }
}

/// Multiplies every stack's value by `factor`.
pub(crate) fn scale(items: &mut [Item], factor: f64) {
    for it in items {
        it.value *= factor;
    }
}

/// Moves the copied stacks among `items` by `base` in their side's copied
/// keys (see [`Copies::append`]).
pub(crate) fn rebase_copied(items: &mut [Item], base: usize) {
    for it in items.iter_mut().filter(|it| it.copied()) {
        it.start += u32::try_from(base).expect("profiles hold fewer than 2^31 frames");
    }
}

/// The hash of no keys: see [`path_hash`].
pub(crate) const PATH_SEED: u64 = 0x243F_6A88_85A3_08D3;

/// The hash of a stack's keys, given from the root: each key added to
/// the hash so far times an odd constant, starting from [`PATH_SEED`].
/// Call paths with equal hashes are compared key by key before they are
/// counted as one: the hash only spares comparing paths that differ.
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

/// [`TOP`] of a stack's keys, as 16-bit ids: first its keys from the root
/// (read while the aggregation had the stack at hand), then, a level past
/// them, the next ones, so that a stack's frames are visited once every
/// [`TOP`] levels and not at every level. `u16::MAX` stands for a key not
/// held (past the stack's end, or an id too big): read from the frames.
pub(crate) type TopKeys = [u16; TOP];

/// The [`TopKeys`] of a stack whose keys, from the root, are `root_first`.
pub(crate) fn top_keys(root_first: impl Iterator<Item = KeyId>) -> TopKeys {
    let mut top = [u16::MAX; TOP];
    for (slot, k) in top.iter_mut().zip(root_first) {
        *slot = u16::try_from(k.0).unwrap_or(u16::MAX);
    }
    top
}

/// One stack, as the builder moves it around (plain data, so that a
/// buffer of them can come zeroed from the allocator).
#[derive(Clone, Copy, Debug, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
pub(crate) struct Item {
    pub(crate) value: f64,
    /// Start in the side's frames (or copied keys); the top bit is the side
    /// (0 before, 1 after).
    pub(crate) start: u32,
    /// Length; the top bit says the stack is a copy of its keys.
    pub(crate) len: u32,
    /// [`path_hash`] of the stack's keys, folded to 32 bits: equal paths
    /// have equal hashes (and unequal ones that collide are told apart by
    /// comparing them).
    pub(crate) hash: u32,
    /// The stack's keys from the depth its task's window starts at.
    pub(crate) top: TopKeys,
}

/// The flag bit of [`Item::start`] and [`Item::len`]; profiles hold fewer
/// than 2^31 frames ([`heapdiff_profile::MAX_FRAMES`]), so positions and
/// lengths leave it free.
pub(crate) const FLAG: u32 = 1 << 31;

impl Item {
    pub(crate) fn new(
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

    pub(crate) fn side(&self) -> usize {
        (self.start >> 31) as usize
    }

    pub(crate) fn start(&self) -> usize {
        (self.start & !FLAG) as usize
    }

    pub(crate) fn len(&self) -> usize {
        (self.len & !FLAG) as usize
    }

    pub(crate) fn copied(&self) -> bool {
        self.len & FLAG != 0
    }
}
