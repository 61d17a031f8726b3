//! Summing one side of a diff: its samples in parts at once, each sample's
//! value scaled if sampled, filtered, added to its keys' flat and
//! cumulative sums, and its stack written as an item for the tree.

use std::sync::Arc;

use heapdiff_profile::{Frames, Profile, StackFrame};
use rayon::prelude::*;

use crate::merged::averaged_over;
use crate::stacks::{self, Copies, Item};
use crate::{
    Attribute, Classifier, Filters, KeyId, Options, Precision, Selection, Side, attribution,
    count_partner, is_allocator_frame, is_allocator_library,
};

/// Sums one side's samples, in parts at once (see [`parts_of`]), merged in
/// sample order; returns the sums and the stacks' items, in sample order,
/// after `lead` items of room.
pub(crate) fn sum_side(
    profile: &Profile,
    side: Side,
    input: &SideInput<'_>,
    lead: usize,
) -> (SideSums, Vec<Item>) {
    let table = FrameTable::of(profile, input);
    let parts = parts_of(profile, input.key_count);
    // Every stack's item is written once, into one buffer: each part's
    // into a slice of its own (room for one a sample), then moved down over
    // the room left by the samples that made none.
    let mut items = stacks::item_buffer(lead + profile.sample_count());
    let mut slices = Vec::with_capacity(parts.len());
    let mut rest = &mut items[lead..];
    for r in &parts {
        let (mine, tail) = std::mem::take(&mut rest).split_at_mut(r.len());
        slices.push(mine);
        rest = tail;
    }
    let done: Vec<SideSums> = parts
        .par_iter()
        .zip(slices)
        .map(|(r, out)| aggregate(profile, side, input.clone(), &table, r.clone(), Some(out)))
        .collect();
    let mut merged: Option<SideSums> = None;
    let mut len = lead;
    for (r, sums) in parts.iter().zip(done) {
        let written = sums.items;
        items.copy_within(lead + r.start..lead + r.start + written, len);
        let placed = len..len + written;
        len += written;
        match &mut merged {
            Some(first) => {
                let base = first.merge(sums);
                stacks::rebase_copied(&mut items[placed], base);
            }
            empty => *empty = Some(sums),
        }
    }
    items.truncate(len);
    let mut sums = merged.expect("a side has at least one part");
    sums.library = table.library_keys(input.key_count);
    if let Some(n) = averaged_over(profile) {
        sums.average(n);
        stacks::scale(&mut items[lead..], 1.0 / n);
    }
    (sums, items)
}

/// Sample ranges of a profile summed apart, one per thread at most: a
/// profile of integer values only (their sums are exact in any order,
/// while a sampled profile's scaled values would round differently summed
/// in parts, by a byte once in a while against jeprof's order), and no more
/// parts than leave each at least as many samples as there are keys (each
/// part sums into a table of every key).
pub(crate) fn parts_of(profile: &Profile, key_count: usize) -> Vec<std::ops::Range<usize>> {
    let n = profile.sample_count();
    let parts = if profile.header.sampling.is_none() {
        let most = n / key_count.max(MIN_PART);
        rayon::current_num_threads().min(most).max(1)
    } else {
        1
    };
    (0..parts)
        .map(|k| k * n / parts..(k + 1) * n / parts)
        .collect()
}

/// The fewest samples a side is summed in parts of.
pub(crate) const MIN_PART: usize = 50_000;

/// What side `i` of a selection is summed under.
pub(crate) fn side_input<'a>(
    sel: &Selection,
    i: usize,
    keys_of: &'a Arc<[KeyId]>,
    key_count: usize,
    precision: Precision,
    profile: &Profile,
    options: &'a Options,
) -> SideInput<'a> {
    SideInput {
        value_index: sel.value_index[i],
        count_index: sel.count_index.map(|c| c[i]),
        keys_of,
        key_count,
        keep_allocator_frames: options.keep_allocator_frames,
        filters: &options.filters,
        relative: options.relative,
        errors: precision == Precision::Sampled,
        pair: sampled_pair(profile, &sel.value.name),
        attribute: options.attribute,
        classifier: &options.classifier,
    }
}

/// What one side's aggregation needs.
#[derive(Clone)]
pub(crate) struct SideInput<'a> {
    pub(crate) value_index: usize,
    pub(crate) count_index: Option<usize>,
    pub(crate) keys_of: &'a Arc<[KeyId]>,
    pub(crate) key_count: usize,
    pub(crate) keep_allocator_frames: bool,
    pub(crate) filters: &'a Filters,
    pub(crate) relative: bool,
    /// Accumulate sampling variances.
    pub(crate) errors: bool,
    /// `(objects, bytes)` sample-type indices for the sampling model.
    pub(crate) pair: Option<(usize, usize)>,
    pub(crate) attribute: Attribute,
    pub(crate) classifier: &'a Classifier,
}

/// One side's sums: (value, count) per key, flat and cumulative, the total,
/// and its stacks for the tree.
pub(crate) struct SideSums {
    pub(crate) flat: Vec<(f64, f64)>,
    pub(crate) cum: Vec<(f64, f64)>,
    pub(crate) total: (f64, f64),
    /// The total of every sample, filtered or not.
    pub(crate) unfiltered: (f64, f64),
    /// Sampling variance of each key's flat and cumulative value (empty for
    /// exact profiles).
    pub(crate) flat_var: Vec<f64>,
    pub(crate) cum_var: Vec<f64>,
    /// (library leaf, user frame) -> value, for stacks whose leaf is library
    /// code and that have a user frame.
    pub(crate) via: rustc_hash::FxHashMap<(KeyId, KeyId), f64>,
    pub(crate) copies: Copies,
    /// How many items (one per stack kept) were written (see [`aggregate`]).
    pub(crate) items: usize,
    /// Per key: whether every frame of it in this profile is library code
    /// (`None`: no frame of it here). Judged on frames, which keep their
    /// files whatever the granularity drops (see [`sum_side`]).
    pub(crate) library: Vec<Option<bool>>,
}

impl SideSums {
    /// Adds the sums of later samples of the same side; returns where
    /// `other`'s copied stacks' keys now start (see
    /// [`stacks::rebase_copied`]).
    pub(crate) fn merge(&mut self, other: SideSums) -> usize {
        let add = |x: &mut (f64, f64), y: (f64, f64)| {
            x.0 += y.0;
            x.1 += y.1;
        };
        for (x, y) in self.flat.iter_mut().zip(other.flat) {
            add(x, y);
        }
        for (x, y) in self.cum.iter_mut().zip(other.cum) {
            add(x, y);
        }
        add(&mut self.total, other.total);
        add(&mut self.unfiltered, other.unfiltered);
        for (x, y) in self.flat_var.iter_mut().zip(other.flat_var) {
            *x += y;
        }
        for (x, y) in self.cum_var.iter_mut().zip(other.cum_var) {
            *x += y;
        }
        for (k, v) in other.via {
            *self.via.entry(k).or_insert(0.0) += v;
        }
        self.copies.append(other.copies)
    }

    /// Divides every value, count and total by `n`: the sums of `n` merged
    /// profiles become their average. Variances are divided by `n` as
    /// well, not by `n²`: the merged profiles are scrapes of the same
    /// heaps, whose sampled objects recur from one scrape to the next, so
    /// averaging them does not average their sampling noise away.
    pub(crate) fn average(&mut self, n: f64) {
        for v in self
            .flat
            .iter_mut()
            .chain(self.cum.iter_mut())
            .chain([&mut self.total, &mut self.unfiltered])
        {
            v.0 /= n;
            v.1 /= n;
        }
        for v in self
            .flat_var
            .iter_mut()
            .chain(self.cum_var.iter_mut())
            .chain(self.via.values_mut())
        {
            *v /= n;
        }
    }

    /// Makes room for keys up to `key_count` (keyed after these sums were
    /// made: the after profile's), with nothing summed.
    pub(crate) fn grow(&mut self, key_count: usize) {
        self.library.resize(key_count, None);
        self.flat.resize(key_count, (0.0, 0.0));
        self.cum.resize(key_count, (0.0, 0.0));
        if !self.flat_var.is_empty() || !self.cum_var.is_empty() {
            self.flat_var.resize(key_count, 0.0);
            self.cum_var.resize(key_count, 0.0);
        }
    }

    /// Scales every value by `value` and every count by `count`
    /// (`--normalize`, each sample type by its own ratio, as pprof does);
    /// variances scale by the square. The unfiltered total is left alone.
    pub(crate) fn scale(&mut self, value: f64, count: f64) {
        for v in self
            .flat
            .iter_mut()
            .chain(self.cum.iter_mut())
            .chain([&mut self.total])
        {
            v.0 *= value;
            v.1 *= count;
        }
        for v in self.flat_var.iter_mut().chain(self.cum_var.iter_mut()) {
            *v *= value * value;
        }
    }
}

/// Which filters each frame of a profile matches.
#[derive(Clone, Copy, Default)]
pub(crate) struct FrameMatch {
    pub(crate) focus: bool,
    pub(crate) ignore: bool,
    pub(crate) hide: bool,
    pub(crate) show_from: bool,
}

/// A frame of `profile` as the filters and the library rules see it
/// ([`attribution::match_text`]).
pub(crate) fn frame_text(profile: &Profile, frame: &heapdiff_profile::Frame) -> String {
    let file = if frame.is_symbolized() {
        profile.str(frame.file)
    } else {
        ""
    };
    attribution::match_text(&profile.frame_name(frame), file, Some(frame.line))
}

pub(crate) fn frame_matches(profile: &Profile, filters: &Filters) -> Vec<FrameMatch> {
    if filters.is_empty() {
        return Vec::new();
    }
    let test = |re: &Option<regex::Regex>, s: &str| re.as_ref().is_some_and(|r| r.is_match(s));
    profile
        .frames()
        .iter()
        .map(|f| {
            let name = frame_text(profile, f);
            FrameMatch {
                focus: test(&filters.focus, &name),
                ignore: test(&filters.ignore, &name),
                hide: test(&filters.hide, &name),
                show_from: test(&filters.show_from, &name),
            }
        })
        .collect()
}

/// The `(objects, bytes)` sample types that go with the compared one
/// (`inuse_objects`, `inuse_space` for either), for the sampling model.
pub(crate) fn sampled_pair(profile: &Profile, name: &str) -> Option<(usize, usize)> {
    let index = |n: &str| profile.sample_type_index(n);
    if let Some(objects) = count_partner(name) {
        return Some((index(&objects)?, index(name)?));
    }
    let stem = name.strip_suffix("objects")?;
    Some((index(name)?, index(&format!("{stem}space"))?))
}

/// The sampling variance of one sample's value `v`: an estimate made of `k`
/// sampled allocations, each recorded with probability `p`, has variance
/// `v² (1 − p) / k` (Poisson). Raw legacy dumps give `k` (the raw object
/// count) and `p` (the inverse of the scale) directly; Go's pprof values are
/// already scaled, so `p = 1 − exp(−(bytes / objects) / period)` comes from
/// the mean block size and `k` = objects × `p`.
pub(crate) fn sample_variance(
    profile: &Profile,
    values: &[i64],
    v: f64,
    pair: (usize, usize),
) -> f64 {
    let (objects, bytes) = (values[pair.0] as f64, values[pair.1] as f64);
    let (k, p) = match profile.header.sampling.as_ref() {
        Some(s) => (objects, 1.0 / s.scale(values, pair.1)),
        None => {
            if objects <= 0.0 || bytes <= 0.0 {
                return 0.0;
            }
            let rate = profile.header.period.max(1) as f64;
            let p = 1.0 - (-(bytes / objects) / rate).exp();
            (objects * p, p)
        }
    };
    if k <= 0.0 || !p.is_finite() {
        return 0.0;
    }
    v * v * (1.0 - p).max(0.0) / k
}

/// What aggregation needs to know of each frame of a profile, worked out
/// once per profile (however many parts its samples are summed in).
pub(crate) struct FrameTable {
    /// Each frame's key, whether it is library code and whether it is the
    /// allocator's, side by side: one load per frame of a stack.
    pub(crate) keys: Vec<FrameKey>,
    /// Which filters each frame matches (empty without filters).
    pub(crate) matches: Vec<FrameMatch>,
}

/// What the aggregation needs to know of a frame.
#[derive(Clone, Copy)]
pub(crate) struct FrameKey {
    pub(crate) key: KeyId,
    pub(crate) library: bool,
    /// An allocator frame, to be cut (never with
    /// `--keep-allocator-frames`).
    pub(crate) allocator: bool,
}

impl FrameTable {
    /// Per key: whether every frame of it is library code (`None`: no
    /// frame of it in this profile).
    fn library_keys(&self, key_count: usize) -> Vec<Option<bool>> {
        let mut out = vec![None; key_count];
        for f in &self.keys {
            let slot: &mut Option<bool> = &mut out[f.key.index()];
            *slot = Some(slot.unwrap_or(true) && f.library);
        }
        out
    }

    pub(crate) fn of(profile: &Profile, input: &SideInput<'_>) -> FrameTable {
        // Which frames are library code, by `function file:line`.
        let builtins = attribution::builtins_without_file(profile);
        let library = profile.frames().iter().map(|f| {
            let builtin = builtins && f.is_symbolized() && profile.str(f.file).is_empty();
            input
                .classifier
                .is_library_frame(&frame_text(profile, f), builtin)
        });
        let allocator = profile.frames().iter().map(|f| {
            !input.keep_allocator_frames
                && if f.is_symbolized() {
                    is_allocator_frame(profile.str(f.function))
                } else {
                    f.mapping
                        .is_some_and(|m| is_allocator_library(profile.str(profile.mapping(m).path)))
                }
        });
        let keys = input
            .keys_of
            .iter()
            .zip(library.zip(allocator))
            .map(|(&key, (library, allocator))| FrameKey {
                key,
                library,
                allocator,
            })
            .collect();
        FrameTable {
            keys,
            matches: frame_matches(profile, input.filters),
        }
    }
}

/// Sums samples `range` of one side, and writes each stack's item to
/// `out` (room for one a sample), if given.
pub(crate) fn aggregate(
    profile: &Profile,
    side: Side,
    input: SideInput<'_>,
    table: &FrameTable,
    range: std::ops::Range<usize>,
    out: Option<&mut [Item]>,
) -> SideSums {
    match profile.stack_frames() {
        Frames::Narrow(all) => aggregate_over(all, profile, side, input, table, range, out),
        Frames::Wide(all) => aggregate_over(all, profile, side, input, table, range, out),
    }
}

/// [`aggregate`], over the profile's frames as they are stored.
pub(crate) fn aggregate_over<F: StackFrame>(
    all: &[F],
    profile: &Profile,
    side: Side,
    input: SideInput<'_>,
    table: &FrameTable,
    range: std::ops::Range<usize>,
    mut out: Option<&mut [Item]>,
) -> SideSums {
    let add = |slot: &mut (f64, f64), value: f64, count: f64| {
        slot.0 += value;
        slot.1 += count;
    };
    let mut sums = SideSums {
        flat: vec![(0.0, 0.0); input.key_count],
        cum: Vec::new(),
        total: (0.0, 0.0),
        unfiltered: (0.0, 0.0),
        flat_var: vec![0.0; if input.errors { input.key_count } else { 0 }],
        cum_var: vec![0.0; if input.errors { input.key_count } else { 0 }],
        via: rustc_hash::FxHashMap::default(),
        copies: Copies::new(side),
        items: 0,
        library: Vec::new(),
    };
    let FrameTable {
        keys: frame_keys,
        matches,
    } = table;
    let filters = input.filters;
    let mut kept: Vec<F> = Vec::new();
    let sampling = profile.header.sampling.as_ref();
    // Each key's cumulative value, count and variance, and the last stack
    // that counted it (recursion counts once), side by side: one cache line
    // per key touched instead of three.
    let mut cum = vec![CumSlot::default(); input.key_count];
    let mut serial = 0u64;
    let mut stack = Vec::new();
    for sample in profile.samples().skip(range.start).take(range.len()) {
        let raw_value = sample.values[input.value_index];
        let raw_count = input.count_index.map_or(0, |c| sample.values[c]);
        if raw_value == 0 && raw_count == 0 {
            continue;
        }
        // Sampled formats keep raw values; scale them as they are summed.
        let (value, count) = match sampling {
            None => (raw_value as f64, raw_count as f64),
            Some(s) => (
                raw_value as f64 * s.scale(sample.values, input.value_index),
                input
                    .count_index
                    .map_or(0.0, |c| raw_count as f64 * s.scale(sample.values, c)),
            ),
        };
        add(&mut sums.unfiltered, value, count);
        if input.relative {
            add(&mut sums.total, value, count);
        }
        let whole = &all[sample.offset..sample.offset + sample.stack.len()];
        // Without filters, the allocator frames are found as the keys are
        // summed, in the same pass; filters need them cut first (the pass
        // then finds none to cut).
        let (frames, lead, hidden) = if matches.is_empty() {
            (whole, 0, false)
        } else {
            let frames = strip_allocator_frames(whole, |f| frame_keys[f.index()].allocator);
            // Where `frames` starts in the sample's stack (only its leaf end
            // is ever cut, but by --hide).
            let lead = whole.len() - frames.len();
            match filter_frames(frames, matches, filters, &mut kept) {
                Some((frames, hidden)) => (frames, lead, hidden),
                None => continue,
            }
        };
        if !input.relative {
            add(&mut sums.total, value, count);
        }
        let variance = match input.pair {
            Some(pair) if input.errors => sample_variance(profile, sample.values, value, pair),
            _ => 0.0,
        };
        serial += 1;
        let Summed { cut, path } =
            sum_keys(frames, frame_keys, &mut cum, serial, value, count, variance);
        let (frames, lead) = (&frames[cut..], lead + cut);
        sums.charge_flat(frames, frame_keys, &input, (value, count), variance);
        let Some(out) = out.as_deref_mut() else {
            continue;
        };
        let item = if hidden {
            stack.clear();
            stack.extend(frames.iter().map(|f| input.keys_of[f.index()]));
            sums.copies.copy(&stack, value)
        } else {
            // The stack is a run of the profile's own frames: the tree
            // reads it there, through the key table, instead of a copy;
            // its first keys from the root are read while its frames are
            // at hand.
            let top = stacks::top_keys(frames.iter().rev().map(|f| frame_keys[f.index()].key));
            sums.copies
                .run(sample.offset + lead, frames.len(), value, path, top)
        };
        out[sums.items] = item;
        sums.items += 1;
    }
    if input.errors {
        sums.cum_var = cum.iter().map(|s| s.variance).collect();
    }
    sums.cum = cum.into_iter().map(|s| (s.value, s.count)).collect();
    sums
}

impl SideSums {
    /// Adds a stack's value and count (and variance) to the flat sums of
    /// the key it is charged to: its leaf's, or with `--attribute user` its
    /// innermost user frame's; a library leaf's value is also noted under
    /// the user frame that called it (the row's "via").
    pub(crate) fn charge_flat<F: StackFrame>(
        &mut self,
        frames: &[F],
        frame_keys: &[FrameKey],
        input: &SideInput<'_>,
        (value, count): (f64, f64),
        variance: f64,
    ) {
        let leaf = frames.first().map(|f| input.keys_of[f.index()]);
        // The innermost frame of user code (mostly the leaf: found from it).
        let user = frames
            .iter()
            .map(|f| frame_keys[f.index()])
            .find(|f| !f.library)
            .map(|f| f.key);
        let charged = match (input.attribute, user) {
            (Attribute::User, Some(u)) => Some(u),
            _ => leaf,
        };
        if input.attribute == Attribute::Leaf
            && let (Some(&leaf_frame), Some(leaf), Some(u)) = (frames.first(), leaf, user)
            && frame_keys[leaf_frame.index()].library
        {
            *self.via.entry((leaf, u)).or_insert(0.0) += value;
        }
        if let Some(leaf) = charged {
            let slot = &mut self.flat[leaf.index()];
            slot.0 += value;
            slot.1 += count;
            if input.errors {
                self.flat_var[leaf.index()] += variance;
            }
        }
    }
}

/// A key's cumulative sums on one side, and the last stack that counted it
/// (recursion counts once).
#[derive(Clone, Copy, Default)]
pub(crate) struct CumSlot {
    pub(crate) value: f64,
    pub(crate) count: f64,
    pub(crate) stamp: u64,
    pub(crate) variance: f64,
}

/// What [`sum_keys`] found in a stack.
pub(crate) struct Summed {
    /// How many frames at the leaf end were cut as the allocator's.
    pub(crate) cut: usize,
    /// The [`stacks::path_hash`] of the stack's keys (cut frames left out).
    pub(crate) path: u64,
}

/// Adds a stack's value, count and variance to the cumulative sums of its
/// keys, once per key (the stack's `serial` stamps the keys it counted),
/// walking its frames (`stack`, leaf first) from the root. The walk stops
/// at the outermost allocator frame (none is, with
/// `--keep-allocator-frames`): it and the frames below it are the
/// allocator's and are cut, but a stack is never cut whole (an allocator
/// frame at the root is kept alone: [`strip_allocator_frames`]'s rule, so a
/// stack that went through it is not cut again). Not inlined: on its own,
/// the loop keeps everything it needs in registers.
#[inline(never)]
pub(crate) fn sum_keys<F: StackFrame>(
    stack: &[F],
    frame_keys: &[FrameKey],
    cum: &mut [CumSlot],
    serial: u64,
    value: f64,
    count: f64,
    variance: f64,
) -> Summed {
    let mut path = stacks::PATH_SEED;
    let mut cut = 0;
    for (depth, f) in stack.iter().rev().enumerate() {
        let FrameKey { key, allocator, .. } = frame_keys[f.index()];
        if allocator {
            cut = stack.len() - depth;
            if depth > 0 {
                break;
            }
            // The root itself: kept, and the walk stops after it.
            cut -= 1;
        }
        path = stacks::path_step(path, key);
        let slot = &mut cum[key.index()];
        if slot.stamp != serial {
            slot.stamp = serial;
            slot.value += value;
            slot.count += count;
            slot.variance += variance;
        }
        if cut > 0 {
            break;
        }
    }
    Summed { cut, path }
}

/// Applies `--focus`, `--ignore`, `--hide` and `--show-from` to a stack
/// (leaf first): `None` if the stack is dropped, else its frames kept (in
/// `kept` when some were hidden) and whether some were hidden.
pub(crate) fn filter_frames<'s, F: StackFrame>(
    mut frames: &'s [F],
    matches: &[FrameMatch],
    filters: &Filters,
    kept: &'s mut Vec<F>,
) -> Option<(&'s [F], bool)> {
    let m = |f: &F| matches[f.index()];
    if filters.focus.is_some() && !frames.iter().any(|f| m(f).focus) {
        return None;
    }
    if filters.ignore.is_some() && frames.iter().any(|f| m(f).ignore) {
        return None;
    }
    let mut hidden = false;
    if filters.hide.is_some() {
        kept.clear();
        kept.extend(frames.iter().filter(|f| !m(f).hide));
        hidden = kept.len() != frames.len();
        frames = kept;
    }
    if filters.show_from.is_some() {
        let i = frames.iter().rposition(|f| m(f).show_from)?;
        frames = &frames[..=i];
    }
    Some((frames, hidden))
}

/// Drops the leaf end of a stack up to and including its outermost
/// allocator frame (jeprof's rule: frames below an allocator function are
/// the allocator's own, named or not), keeping at least the last frame.
pub(crate) fn strip_allocator_frames<T>(stack: &[T], is_allocator: impl Fn(&T) -> bool) -> &[T] {
    match stack.iter().rposition(is_allocator) {
        Some(i) => &stack[(i + 1).min(stack.len() - 1)..],
        None => stack,
    }
}
