//! heapdiff's differ: which lines hold more memory now?
//!
//! [`diff`] takes two [`Profile`]s and returns a [`Diff`]: the totals, one
//! [`Row`] per source line (or function, or file) with its flat and cumulative
//! values on both sides, ranked growth first, and a [`Tree`] of both
//! profiles' stacks for flame graphs. It is pure computation: no I/O, no
//! formatting. The semantics are specified in `docs/diff-semantics.md`; in
//! short:
//!
//! - frames are matched across profiles by `(function, file, line)`, never by
//!   address;
//! - a key's **flat** value sums the stacks whose leaf it is, its
//!   **cumulative** value the stacks that contain it (once per stack, however
//!   often recursion repeats it);
//! - **delta** = after − before; rows are ranked by largest growth first
//!   ([`SortOrder`]), ties broken by key;
//! - a growing row's **share** is its delta over the sum of all positive
//!   deltas;
//! - allocator frames (malloc, operator new, `runtime.mallocgc`, …) are
//!   dropped from stack leaves unless asked to keep them.
//!
//! # Example
//!
//! ```
//! use heapdiff_diff::{diff, Options};
//! use heapdiff_profile::{Format, Frame, ProfileBuilder, ValueType};
//!
//! let profile = |leaked: i64| {
//!     let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("inuse_space", "bytes")]);
//!     let (f, file) = (b.intern("main.remember"), b.intern("main.go"));
//!     let m = b.intern("main.main");
//!     let leaf = b.frame(Frame::symbolized(f, file, 42));
//!     let root = b.frame(Frame::symbolized(m, file, 10));
//!     b.push_sample(&[leaf, root], &[leaked]).unwrap();
//!     b.finish()
//! };
//! let d = diff(&profile(1024), &profile(5120), &Options::default()).unwrap();
//! let top = &d.rows[0];
//! assert_eq!(d.key(top.key).display(), "main.remember main.go:42");
//! assert_eq!((top.flat.before, top.flat.after, top.flat.delta()), (1024, 5120, 4096));
//! assert_eq!(d.share(top), Some(1.0));
//! ```

mod allocator;
mod attribution;
mod error;
mod key;
mod merged;
mod precision;
mod select;
mod stacks;
mod sum;
mod tree;
mod trend;

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use heapdiff_profile::{Profile, ValueType};
use rustc_hash::FxHashMap;

pub use allocator::{is_allocator_frame, is_allocator_library};
pub use attribution::Classifier;
pub use error::Error;
pub use key::{Granularity, Key, KeyId};
pub use precision::{Period, Precision};
use precision::{mixed_precision, period};
pub use select::{SampleTypeChoice, Selection, count_partner, default_name, select};
pub use tree::{Node, NodeId, Tree, TreeValues};
pub use trend::{Trend, TrendRow, leak_score, slope, trend};

use key::KeyTable;
use merged::merged_warning;
use stacks::{Copies, Item};
use sum::*;

/// Which profile a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The earlier profile (the base).
    Before,
    /// The later profile.
    After,
}

/// A quantity and its object count on both sides.
///
/// Values are summed in floating point (sampled formats are scaled as they
/// are summed) and truncated toward zero, each sum and each difference on its
/// own, as `jeprof` prints them; for integer inputs this is exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Values {
    /// Value in the before profile.
    pub before: i64,
    /// Value in the after profile.
    pub after: i64,
    /// Object count in the before profile (0 without a count type).
    pub count_before: i64,
    /// Object count in the after profile (0 without a count type).
    pub count_after: i64,
    delta: i64,
    count_delta: i64,
}

impl Values {
    /// Values from integer sums.
    pub fn new(before: i64, after: i64, count_before: i64, count_after: i64) -> Self {
        Values {
            before,
            after,
            count_before,
            count_after,
            delta: after.saturating_sub(before),
            count_delta: count_after.saturating_sub(count_before),
        }
    }

    /// Values from `(value, count)` sums of each side.
    fn from_sums(before: (f64, f64), after: (f64, f64)) -> Self {
        Values {
            before: before.0 as i64,
            after: after.0 as i64,
            count_before: before.1 as i64,
            count_after: after.1 as i64,
            delta: (after.0 - before.0) as i64,
            count_delta: (after.1 - before.1) as i64,
        }
    }

    /// after − before.
    pub fn delta(&self) -> i64 {
        self.delta
    }

    /// Object count after − before.
    pub fn count_delta(&self) -> i64 {
        self.count_delta
    }

    /// Whether every field is zero.
    pub fn is_zero(&self) -> bool {
        *self == Values::default()
    }
}

/// How rows are ordered. Ties are broken by key so output is deterministic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Largest growth first, then largest shrinkage, then unchanged.
    #[default]
    Growth,
    /// Largest shrinkage first, then largest growth, then unchanged.
    Shrink,
    /// Largest absolute change first (pprof's and tracemalloc's order).
    Abs,
}

impl SortOrder {
    /// The lower-case name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Growth => "growth",
            SortOrder::Shrink => "shrink",
            SortOrder::Abs => "abs",
        }
    }
}

impl fmt::Display for SortOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether rows are ranked (and shown) by flat or cumulative values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RankBy {
    /// Self values: memory allocated at the row's own line.
    #[default]
    Flat,
    /// Cumulative values: memory allocated at or below the row.
    Cumulative,
}

impl RankBy {
    /// `flat` or `cum`.
    pub fn as_str(self) -> &'static str {
        match self {
            RankBy::Flat => "flat",
            RankBy::Cumulative => "cum",
        }
    }
}

/// What to compare and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The sample type; `None` applies the default rule.
    pub sample_type: Option<SampleTypeChoice>,
    /// One row per line, function or file.
    pub granularity: Granularity,
    /// Row order.
    pub sort: SortOrder,
    /// Rank by flat or cumulative values.
    pub rank_by: RankBy,
    /// Keep allocator frames at stack leaves instead of dropping them.
    pub keep_allocator_frames: bool,
    /// Which stacks and frames take part (pprof's focus, ignore, hide,
    /// show_from).
    pub filters: Filters,
    /// Scale the before profile so that its total equals the after
    /// profile's (pprof's `-normalize`).
    pub normalize: bool,
    /// Keep the whole profiles' totals when filters drop stacks (the header's
    /// totals and `--normalize` then speak of the whole program); by
    /// default totals are those of what the filters kept.
    pub relative: bool,
    /// Rows whose ranked delta is smaller than this (in absolute value) are
    /// left out of [`Diff::rows`].
    pub min_delta: i64,
    /// Charge each stack to its leaf (pprof's and tracemalloc's way) or to
    /// its innermost user frame.
    pub attribute: Attribute,
    /// Which frames are library code and which the user's.
    pub classifier: Classifier,
    /// Subtrees of the call tree whose before and after values are both
    /// below this many millionths of the larger total are folded into their
    /// caller: no flame graph can draw them (10, the default, is 0.012 px of
    /// a 1,200 px graph). 0 keeps every node.
    pub tree_fold_ppm: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sample_type: None,
            granularity: Granularity::default(),
            sort: SortOrder::default(),
            rank_by: RankBy::default(),
            keep_allocator_frames: false,
            filters: Filters::default(),
            normalize: false,
            relative: false,
            min_delta: 0,
            attribute: Attribute::default(),
            classifier: Classifier::default(),
            tree_fold_ppm: 10,
        }
    }
}

/// Which frame of a stack a flat row charges ([`Options::attribute`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Attribute {
    /// The leaf (after allocator frames are dropped).
    #[default]
    Leaf,
    /// The innermost frame in the user's own code (the leaf when the stack
    /// has none).
    User,
}

impl Attribute {
    /// `leaf` or `user`.
    pub fn as_str(self) -> &'static str {
        match self {
            Attribute::Leaf => "leaf",
            Attribute::User => "user",
        }
    }
}

/// Where in the user's code a library row's change comes from: the user
/// frame that carries most of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via {
    /// The user frame's key.
    pub key: KeyId,
    /// The change of the row's stacks whose user frame this is.
    pub delta: i64,
}

/// Stack filters, matched against each frame's `function file:line` (what
/// the table shows at line granularity). Applied after allocator frames are
/// dropped, in pprof's order: focus and ignore select stacks, then hide
/// removes frames, then show-from cuts the callers above the outermost match.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// Keep only stacks with a matching frame.
    pub focus: Option<regex::Regex>,
    /// Drop stacks with a matching frame.
    pub ignore: Option<regex::Regex>,
    /// Remove matching frames from every stack.
    pub hide: Option<regex::Regex>,
    /// Drop the frames above (callers of) the outermost matching frame;
    /// stacks without a match are dropped.
    pub show_from: Option<regex::Regex>,
}

impl Filters {
    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.focus.is_none()
            && self.ignore.is_none()
            && self.hide.is_none()
            && self.show_from.is_none()
    }

    /// The filters as `name=regex` pairs, for headers and JSON.
    pub fn describe(&self) -> Vec<(&'static str, &str)> {
        [
            ("focus", &self.focus),
            ("ignore", &self.ignore),
            ("hide", &self.hide),
            ("show_from", &self.show_from),
        ]
        .into_iter()
        .filter_map(|(name, re)| re.as_ref().map(|r| (name, r.as_str())))
        .collect()
    }
}

impl PartialEq for Filters {
    fn eq(&self, other: &Self) -> bool {
        self.describe() == other.describe()
    }
}

impl Eq for Filters {}

/// Whether a row appeared, vanished, grew, shrank or stayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Zero before, non-zero after.
    New,
    /// Non-zero before, zero after.
    Gone,
    /// Larger after.
    Grew,
    /// Smaller after.
    Shrank,
    /// Equal.
    Unchanged,
}

impl Status {
    /// The lower-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Gone => "gone",
            Status::Grew => "grew",
            Status::Shrank => "shrank",
            Status::Unchanged => "unchanged",
        }
    }

    fn of(v: &Values) -> Status {
        match (v.before, v.after) {
            (0, 0) => Status::Unchanged,
            (0, _) => Status::New,
            (_, 0) => Status::Gone,
            (b, a) => match a.cmp(&b) {
                Ordering::Greater => Status::Grew,
                Ordering::Less => Status::Shrank,
                Ordering::Equal => Status::Unchanged,
            },
        }
    }
}

/// One line (function, file) of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// What the row stands for; see [`Diff::key`].
    pub key: KeyId,
    /// Values of the stacks whose leaf is this key.
    pub flat: Values,
    /// Values of the stacks that contain this key.
    pub cum: Values,
    /// Standard error of the flat delta from sampling, when the profiles
    /// are sampled ([`Precision::Sampled`]); see `docs/diff-semantics.md`.
    pub flat_error: Option<i64>,
    /// Standard error of the cumulative delta from sampling.
    pub cum_error: Option<i64>,
    /// For a row whose key is library code: the user frame its flat change
    /// mostly goes through.
    pub via: Option<Via>,
}

impl Row {
    /// The share of the row's flat change that goes through [`Row::via`].
    pub fn via_share(&self) -> Option<f64> {
        let via = self.via?;
        let delta = self.flat.delta();
        (delta != 0).then(|| via.delta as f64 / delta as f64)
    }

    /// Whether the ranked delta is within sampling noise: no larger than two
    /// standard errors. Always false for exact profiles.
    pub fn within_noise(&self, rank_by: RankBy) -> bool {
        let (v, e) = match rank_by {
            RankBy::Flat => (&self.flat, self.flat_error),
            RankBy::Cumulative => (&self.cum, self.cum_error),
        };
        e.is_some_and(|e| v.delta().unsigned_abs() <= 2 * e.unsigned_abs())
    }
}

/// The result of comparing two profiles. See the crate documentation.
#[derive(Clone, Debug)]
pub struct Diff {
    /// The compared sample type.
    pub sample_type: ValueType,
    /// The object-count type shown beside it, when both profiles have one.
    pub count_type: Option<ValueType>,
    /// Sampling periods, where the profiles record one.
    pub period: Option<Period>,
    /// The options the diff was made with.
    pub options: Options,
    /// Sums over all samples of both profiles.
    pub totals: Values,
    /// Sum of all positive flat deltas.
    pub growth: i64,
    /// Sum of all negative flat deltas (≤ 0).
    pub shrinkage: i64,
    /// Sum of the positive deltas of every distinct call path (the diff
    /// tree's nodes' own values): the whole of growth, before growing and
    /// shrinking stacks that share a leaf line offset each other.
    pub path_growth: i64,
    /// Sum of the negative deltas of every distinct call path (≤ 0).
    pub path_shrinkage: i64,
    /// Every key with a non-zero value on either side, in ranking order.
    pub rows: Vec<Row>,
    /// Both profiles' stacks as one call tree.
    pub tree: Tree,
    /// Things the user should know (e.g. different sampling periods).
    pub warnings: Vec<String>,
    /// Whether the values are exact or sampled estimates.
    pub precision: Precision,
    /// The factor the before profile was scaled by (`--normalize`).
    pub normalized: Option<f64>,
    /// How many profiles each side (before, after) is the sum of, where
    /// known ([`Profile::merged`]); a side known to sum more than one is
    /// compared as their average.
    pub merged: [Option<u64>; 2],
    /// The whole profiles' totals, when filters dropped stacks and
    /// [`Diff::totals`] are those of what was kept.
    pub unfiltered_totals: Option<Values>,
    /// Rows left out because their delta is below [`Options::min_delta`].
    pub below_min_delta: usize,
    keys: Vec<Key>,
    /// Per key: whether it is library code.
    library: Vec<bool>,
}

impl Diff {
    /// A row's identity.
    pub fn key(&self, id: KeyId) -> &Key {
        &self.keys[id.index()]
    }

    /// Whether a key is library code (see [`Classifier`]).
    pub fn is_library(&self, id: KeyId) -> bool {
        self.library.get(id.index()).copied().unwrap_or(false)
    }

    /// Rewrites every key's file name with `rename` (as `--redact-paths`
    /// does); rows, the tree and what is library code stay as they are.
    pub fn rename_files(&mut self, mut rename: impl FnMut(&str) -> String) {
        for key in &mut self.keys {
            key.file = key.file.as_deref().map(&mut rename);
        }
    }

    /// Every key, in id order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = (KeyId, &Key)> + '_ {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, k)| (KeyId(i as u32), k))
    }

    /// The values rows are ranked by ([`Options::rank_by`]).
    pub fn ranked<'a>(&self, row: &'a Row) -> &'a Values {
        match self.options.rank_by {
            RankBy::Flat => &row.flat,
            RankBy::Cumulative => &row.cum,
        }
    }

    /// Whether a row is new, gone, grew, shrank or unchanged, by its ranked values.
    pub fn status(&self, row: &Row) -> Status {
        Status::of(self.ranked(row))
    }

    /// A row's ranked delta as a fraction of all growth (positive, for a
    /// growing row) or of all shrinkage (negative, for a shrinking row).
    /// Flat rows share [`Diff::growth`]; cumulative rows share
    /// [`Diff::path_growth`], which bounds every cumulative delta, so that no
    /// share exceeds 100%. `None` when the row did not change or there is
    /// nothing to share.
    pub fn share(&self, row: &Row) -> Option<f64> {
        let delta = self.ranked(row).delta();
        let (growth, shrinkage) = match self.options.rank_by {
            RankBy::Flat => (self.growth, self.shrinkage),
            RankBy::Cumulative => (self.path_growth, self.path_shrinkage),
        };
        let whole = match delta.cmp(&0) {
            Ordering::Greater => growth,
            Ordering::Less => shrinkage.saturating_neg(),
            Ordering::Equal => return None,
        };
        (whole != 0).then(|| delta as f64 / whole as f64)
    }

    /// Rows whose ranked delta is not zero (a prefix of [`Diff::rows`]).
    pub fn changed_rows(&self) -> &[Row] {
        let n = self
            .rows
            .iter()
            .take_while(|r| self.ranked(r).delta() != 0)
            .count();
        &self.rows[..n]
    }
}

/// Compares two profiles. See the crate documentation for the semantics.
pub fn diff(before: &Profile, after: &Profile, options: &Options) -> Result<Diff, Error> {
    diff_ahead(ahead(before, options), after, options)
}

/// The before side of a diff, keyed and summed before the after profile
/// is at hand (while its file is still being read: the after file of a
/// leak is the bigger one). [`diff_ahead`] finishes the diff; its result is
/// [`diff`]'s to the byte.
///
/// What the before side's sums depend on in the after profile is guessed
/// from the before profile alone: the sample type (chosen as if the after
/// profile had the before's sample types) and whether the values are
/// sampled. Where the after profile proves the guess wrong, the before
/// side is summed again.
pub struct Ahead<P: Borrow<Profile>> {
    before: P,
    keys: KeyTable,
    before_keys: Arc<[KeyId]>,
    /// The sums, their stacks' items and what they were summed under;
    /// `None` where no sample type could be chosen from the before profile
    /// alone.
    summed: Option<(Guess, SideSums, Vec<Item>)>,
}

/// What a before side's sums were summed under that the after profile has
/// a say in.
#[derive(PartialEq, Eq)]
struct Guess {
    value_index: usize,
    count_index: Option<usize>,
    name: String,
    errors: bool,
}

impl Guess {
    fn of(sel: &Selection, precision: Precision) -> Guess {
        Guess {
            value_index: sel.value_index[0],
            count_index: sel.count_index.map(|c| c[0]),
            name: sel.value.name.clone(),
            errors: precision == Precision::Sampled,
        }
    }
}

/// Keys and sums the before side of a diff ahead of the after profile
/// (see [`Ahead`]).
pub fn ahead<P: Borrow<Profile>>(owner: P, options: &Options) -> Ahead<P> {
    let before = owner.borrow();
    let mut keys = KeyTable::default();
    let before_keys: Arc<[KeyId]> = keys.map_frames(before, options.granularity).into();
    let precision = Precision::of(before);
    let summed = select(before, before, options.sample_type.as_ref())
        .ok()
        .map(|sel| {
            let input = side_input(
                &sel,
                0,
                &before_keys,
                keys.len(),
                precision,
                before,
                options,
            );
            let (sums, items) = sum_side(before, Side::Before, &input, 0);
            (Guess::of(&sel, precision), sums, items)
        });
    Ahead {
        before: owner,
        keys,
        before_keys,
        summed,
    }
}

/// Finishes a diff whose before side was summed [`ahead`], with the same
/// options.
pub fn diff_ahead<P: Borrow<Profile>>(
    ahead: Ahead<P>,
    after: &Profile,
    options: &Options,
) -> Result<Diff, Error> {
    let Ahead {
        before: owner,
        mut keys,
        before_keys,
        summed,
    } = ahead;
    let before = owner.borrow();
    let sel = select(before, after, options.sample_type.as_ref())?;
    let precision = Precision::of(before).min(Precision::of(after));
    let frame_keys: [Arc<[KeyId]>; 2] = [
        before_keys,
        keys.map_frames(after, options.granularity).into(),
    ];
    let key_count = keys.len();
    let profiles = [before, after];
    let builtins = profiles
        .iter()
        .any(|p| attribution::builtins_without_file(p));
    let side_of = |i: usize| {
        side_input(
            &sel,
            i,
            &frame_keys[i],
            key_count,
            precision,
            profiles[i],
            options,
        )
    };
    let kept = summed.filter(|(guess, ..)| *guess == Guess::of(&sel, precision));
    // The after side, and the before side again if its guess was wrong,
    // summed at once; the after side's items leave room for the before
    // side's in front, where they are known.
    let lead = kept.as_ref().map_or(0, |(_, _, items)| items.len());
    let ((mut b, before_items), (mut a, mut items)) = rayon::join(
        || match kept {
            Some((_, mut sums, items)) => {
                sums.grow(key_count);
                (sums, items)
            }
            None => sum_side(before, Side::Before, &side_of(0), 0),
        },
        || sum_side(after, Side::After, &side_of(1), lead),
    );
    let before_count = before_items.len();
    if lead == before_count {
        items[..lead].copy_from_slice(&before_items);
    } else {
        items.splice(0..0, before_items);
    }
    let normalized = options
        .normalize
        .then(|| normalize(&mut b, &a, &mut items[..before_count]))
        .flatten();
    let totals = Values::from_sums(b.total, a.total);
    let unfiltered_totals = (!options.filters.is_empty() && !options.relative)
        .then(|| Values::from_sums(b.unfiltered, a.unfiltered));
    let mut rows = key_rows(&b, &a, key_count, precision == Precision::Sampled);
    let fold_below = f64::from(options.tree_fold_ppm) * 1e-6 * b.total.0.abs().max(a.total.0.abs());
    let (before_stacks, after_stacks) = (
        std::mem::replace(&mut b.copies, Copies::new(Side::Before))
            .over(before.stack_frames(), frame_keys[0].clone()),
        std::mem::replace(&mut a.copies, Copies::new(Side::After))
            .over(after.stack_frames(), frame_keys[1].clone()),
    );
    let tree = tree::build(&before_stacks, &after_stacks, items, fold_below);
    // A key is library code when all its frames on both sides are (a
    // function's frames keep their files under `--by function`).
    let library_by_frames: Vec<Option<bool>> = (0..key_count)
        .map(|k| {
            match (
                b.library.get(k).copied().flatten(),
                a.library.get(k).copied().flatten(),
            ) {
                (None, None) => None,
                (x, y) => Some(x.unwrap_or(true) && y.unwrap_or(true)),
            }
        })
        .collect();
    drop((b, a));

    let keys = keys.into_keys();
    let (growth, shrinkage) = flat_growth(&rows);
    sort_rows(&mut rows, &keys, options);
    let below_min_delta = drop_below_min_delta(&mut rows, options);
    let (path_growth, path_shrinkage) = (tree.path_growth, tree.path_shrinkage);

    let mut warnings = Vec::new();
    if options.normalize && normalized.is_none() {
        warnings.push(format!(
            "--normalize needs positive totals on both sides (before {}, after {}): not applied",
            totals.before, totals.after
        ));
    }
    warnings.extend(merged_warning(before.merged, after.merged));
    let period = period(before, after, &mut warnings);
    warnings.extend(mixed_precision(before, after));
    Ok(Diff {
        sample_type: sel.value,
        count_type: sel.count,
        period,
        options: options.clone(),
        totals,
        growth,
        shrinkage,
        path_growth,
        path_shrinkage,
        rows,
        tree,
        warnings,
        precision,
        normalized,
        merged: [before.merged, after.merged],
        unfiltered_totals,
        below_min_delta,
        library: keys
            .iter()
            .zip(library_by_frames)
            .map(|(k, by_frames)| {
                by_frames.unwrap_or_else(|| options.classifier.is_library(k, builtins))
            })
            .collect(),
        keys,
    })
}

/// `--normalize`: scales the before side's sums, and its stacks' values
/// (`before_items`), to the after side's totals; returns the factor, or
/// `None` where a total is not positive (a delta profile's can be
/// negative) and there is no factor to scale by.
fn normalize(b: &mut SideSums, a: &SideSums, before_items: &mut [Item]) -> Option<f64> {
    if a.total.0 <= 0.0 || b.total.0 <= 0.0 {
        return None;
    }
    let ratio = |after: f64, before: f64| {
        if before > 0.0 && after > 0.0 {
            after / before
        } else {
            1.0
        }
    };
    let factor = ratio(a.total.0, b.total.0);
    b.scale(factor, ratio(a.total.1, b.total.1));
    stacks::scale(before_items, factor);
    Some(factor)
}

/// A row for every key with a value on either side, in key order: flat and
/// cumulative values, their sampling error bars (if `sampled`), and for a
/// library leaf the user frame that carries most of its change.
fn key_rows(b: &SideSums, a: &SideSums, key_count: usize, sampled: bool) -> Vec<Row> {
    let error = |var_b: &[f64], var_a: &[f64], k: usize| {
        sampled.then(|| {
            (var_b.get(k).copied().unwrap_or(0.0) + var_a.get(k).copied().unwrap_or(0.0)).sqrt()
                as i64
        })
    };
    let via = library_vias(b, a);
    (0..key_count)
        .map(|k| {
            let flat = Values::from_sums(b.flat[k], a.flat[k]);
            Row {
                key: KeyId(k as u32),
                flat,
                cum: Values::from_sums(b.cum[k], a.cum[k]),
                flat_error: error(&b.flat_var, &a.flat_var, k),
                cum_error: error(&b.cum_var, &a.cum_var, k),
                via: via
                    .get(&KeyId(k as u32))
                    .and_then(|users| best_via(users, flat.delta())),
            }
        })
        .filter(|r| !r.flat.is_zero() || !r.cum.is_zero())
        .collect()
}

/// For each library leaf, the change (after − before) under each user
/// frame that called it.
fn library_vias(b: &SideSums, a: &SideSums) -> FxHashMap<KeyId, Vec<(KeyId, f64)>> {
    let mut vias: FxHashMap<KeyId, Vec<(KeyId, f64)>> = FxHashMap::default();
    for (&(leaf, user), &v) in &a.via {
        vias.entry(leaf).or_default().push((user, v));
    }
    for (&(leaf, user), &v) in &b.via {
        vias.entry(leaf).or_default().push((user, -v));
    }
    vias
}

/// The user frame carrying most of a library leaf's change `delta` (in its
/// direction; ties to the smaller key), if its change goes that way.
fn best_via(users: &[(KeyId, f64)], delta: i64) -> Option<Via> {
    let mut per_user: FxHashMap<KeyId, f64> = FxHashMap::default();
    for &(u, v) in users {
        *per_user.entry(u).or_insert(0.0) += v;
    }
    let mut best: Option<(KeyId, f64)> = None;
    for (u, v) in per_user {
        let better = match best {
            None => true,
            Some((bu, bv)) => {
                let (x, y) = if delta >= 0 { (v, bv) } else { (-v, -bv) };
                x > y || (x == y && u < bu)
            }
        };
        if better {
            best = Some((u, v));
        }
    }
    let (key, v) = best?;
    let v = v as i64;
    (delta != 0 && v != 0 && (v > 0) == (delta > 0)).then_some(Via { key, delta: v })
}

/// The sums of the rows' positive and of their negative flat changes.
fn flat_growth(rows: &[Row]) -> (i64, i64) {
    let (mut growth, mut shrinkage) = (0i64, 0i64);
    for r in rows {
        let d = r.flat.delta();
        if d > 0 {
            growth = growth.saturating_add(d);
        } else {
            shrinkage = shrinkage.saturating_add(d);
        }
    }
    (growth, shrinkage)
}

/// Drops the rows whose ranked change is under `--min-delta`; returns how
/// many.
fn drop_below_min_delta(rows: &mut Vec<Row>, options: &Options) -> usize {
    let before = rows.len();
    if options.min_delta > 0 {
        let min = options.min_delta.unsigned_abs();
        rows.retain(|r| {
            let v = match options.rank_by {
                RankBy::Flat => &r.flat,
                RankBy::Cumulative => &r.cum,
            };
            v.delta().unsigned_abs() >= min
        });
    }
    before - rows.len()
}

fn sort_rows(rows: &mut [Row], keys: &[Key], options: &Options) {
    let ranked = |r: &Row| match options.rank_by {
        RankBy::Flat => r.flat.delta(),
        RankBy::Cumulative => r.cum.delta(),
    };
    // (class, magnitude): lower class first, larger magnitude first.
    let class = |d: i64| -> (u8, u64) {
        let m = d.unsigned_abs();
        match (options.sort, d.cmp(&0)) {
            (_, Ordering::Equal) => (2, 0),
            (SortOrder::Growth, Ordering::Greater) | (SortOrder::Shrink, Ordering::Less) => (0, m),
            (SortOrder::Growth | SortOrder::Shrink, _) => (1, m),
            (SortOrder::Abs, _) => (0, m),
        }
    };
    rows.sort_by(|a, b| {
        let (ca, ma) = class(ranked(a));
        let (cb, mb) = class(ranked(b));
        ca.cmp(&cb)
            .then(mb.cmp(&ma))
            .then_with(|| keys[a.key.index()].cmp(&keys[b.key.index()]))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapdiff_profile::{Format, Frame, FrameId, ProfileBuilder};

    /// Stacks are written root first as "a;b;c" for readability.
    fn profile(stacks: &[(&str, i64, i64)]) -> Profile {
        let mut b = ProfileBuilder::new(
            Format::Pprof,
            vec![
                ValueType::new("inuse_objects", "count"),
                ValueType::new("inuse_space", "bytes"),
            ],
        );
        let file = b.intern("m.go");
        for (stack, objects, bytes) in stacks {
            let frames: Vec<FrameId> = stack
                .split(';')
                .rev()
                .map(|name| {
                    let (name, line) = name.split_once(':').unwrap_or((name, "1"));
                    let f = b.intern(name);
                    b.frame(Frame::symbolized(f, file, line.parse().unwrap()))
                })
                .collect();
            b.push_sample(&frames, &[*objects, *bytes]).unwrap();
        }
        b.finish()
    }

    #[test]
    fn precision_follows_the_sampling_period() {
        let with = |period: i64, name: &str| {
            let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new(name, "bytes")]);
            let h = b.header_mut();
            h.period = period;
            h.period_type = Some(ValueType::new("space", "bytes"));
            Precision::of(&b.finish())
        };
        assert_eq!(with(512 * 1024, "inuse_space"), Precision::Sampled);
        // Go's MemProfileRate = 1 records every allocation.
        assert_eq!(with(1, "inuse_space"), Precision::Exact);
        // A producer that does not name its sample types says nothing of
        // how it sampled them.
        assert_eq!(with(512 * 1024, ""), Precision::Unknown);
    }

    fn rows(d: &Diff) -> Vec<(String, i64)> {
        d.changed_rows()
            .iter()
            .map(|r| {
                let k = d.key(r.key);
                let name = k.function.clone().unwrap_or_default();
                (name, d.ranked(r).delta())
            })
            .collect()
    }

    fn opts(f: impl FnOnce(&mut Options)) -> Options {
        let mut o = Options::default();
        f(&mut o);
        o
    }

    #[test]
    fn sides_summed_in_parts_on_any_number_of_threads_give_one_diff() {
        // Enough samples for each side to be summed in parts; samples of
        // no value and samples the focus drops make no stack, and hidden
        // frames make copied stacks in every part.
        let stacks: &[(&str, i64, i64)] = &[
            ("main;a;lib", 1, 100),
            ("main;none", 0, 0),
            ("main;a;a;b", 2, 30),
            ("main;gone", 1, 50),
            ("main;x;p;q;r;s;t;u;c", 1, 3),
            ("main;c", 4, 7),
        ];
        let many = |times: usize, grow: i64| {
            let all: Vec<(String, i64, i64)> = (0..times)
                .flat_map(|i| {
                    stacks.iter().map(move |&(s, n, v)| {
                        (
                            format!("{s};f{}", i % 7),
                            n,
                            v * (1 + grow * (i % 3) as i64),
                        )
                    })
                })
                .collect();
            let all: Vec<(&str, i64, i64)> =
                all.iter().map(|(s, n, v)| (s.as_str(), *n, *v)).collect();
            profile(&all)
        };
        let (before, after) = (many(MIN_PART / 3, 0), many(MIN_PART / 2, 1));
        assert!(parts_of(&after, 100).len() > 1 || rayon::current_num_threads() == 1);
        let hide = opts(|o| o.filters.hide = Some(regex::Regex::new("^x").unwrap()));
        let normalize = opts(|o| o.normalize = true);
        let focus = opts(|o| o.filters.focus = Some(regex::Regex::new("^(c|lib) ").unwrap()));
        let on = |threads: usize, o: &Options| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| diff(&before, &after, o).unwrap())
        };
        for o in [Options::default(), hide, normalize, focus] {
            let (one, four) = (on(1, &o), on(4, &o));
            assert_eq!(one.rows, four.rows);
            assert_eq!(one.totals, four.totals);
            assert_eq!((one.growth, one.shrinkage), (four.growth, four.shrinkage));
            assert_eq!(one.tree.nodes(), four.tree.nodes());
            assert_eq!(
                (one.path_growth, one.path_shrinkage),
                (four.path_growth, four.path_shrinkage)
            );
            assert!(!one.rows.is_empty());
        }
    }

    #[test]
    fn flat_cum_delta_new_gone() {
        let before = profile(&[("main;a", 1, 100), ("main;gone", 1, 50)]);
        let after = profile(&[("main;a", 3, 300), ("main;b", 2, 20)]);
        let d = diff(&before, &after, &Options::default()).unwrap();
        assert_eq!(
            rows(&d),
            [("a".into(), 200), ("b".into(), 20), ("gone".into(), -50)]
        );
        assert_eq!(d.totals.before, 150);
        assert_eq!(d.totals.after, 320);
        assert_eq!(d.totals.count_delta(), 3);
        assert_eq!((d.growth, d.shrinkage), (220, -50));
        let by_name = |n: &str| {
            *d.rows
                .iter()
                .find(|r| d.key(r.key).function.as_deref() == Some(n))
                .unwrap()
        };
        assert_eq!(d.status(&by_name("b")), Status::New);
        assert_eq!(d.status(&by_name("gone")), Status::Gone);
        assert_eq!(d.status(&by_name("a")), Status::Grew);
        let main = by_name("main");
        assert_eq!(main.flat, Values::default());
        assert_eq!((main.cum.before, main.cum.after), (150, 320));
        assert_eq!(
            d.status(&main),
            Status::Unchanged,
            "flat ranking: main holds nothing itself"
        );
        assert_eq!(d.count_type.as_ref().unwrap().name, "inuse_objects");
        assert_eq!(by_name("a").flat.count_delta(), 2);
        let share = d.share(&by_name("a")).unwrap();
        assert!((share - 200.0 / 220.0).abs() < 1e-12);
        assert_eq!(d.share(&by_name("gone")), Some(-1.0));
        assert_eq!(d.share(&main), None);
    }

    #[test]
    fn sort_orders() {
        let before = profile(&[("x", 0, 10), ("y", 0, 100), ("z", 0, 5)]);
        let after = profile(&[("x", 0, 40), ("y", 0, 20), ("z", 0, 5), ("w", 0, 7)]);
        let names = |sort| {
            let d = diff(&before, &after, &opts(|o| o.sort = sort)).unwrap();
            rows(&d).into_iter().map(|(n, _)| n).collect::<Vec<_>>()
        };
        assert_eq!(names(SortOrder::Growth), ["x", "w", "y"]);
        assert_eq!(names(SortOrder::Shrink), ["y", "x", "w"]);
        assert_eq!(names(SortOrder::Abs), ["y", "x", "w"]);
    }

    #[test]
    fn ties_are_broken_by_key() {
        let before = profile(&[]);
        let after = profile(&[("b", 0, 8), ("a", 0, 8), ("c:2", 0, 8), ("c:1", 0, 8)]);
        let d = diff(&before, &after, &Options::default()).unwrap();
        let keys: Vec<String> = d.rows.iter().map(|r| d.key(r.key).display()).collect();
        assert_eq!(keys, ["a m.go:1", "b m.go:1", "c m.go:1", "c m.go:2"]);
    }

    #[test]
    fn cumulative_shares_never_exceed_the_whole() {
        // The leak and a freed cache share their leaf line: flat growth is
        // small, cumulative growth through `leak` is not.
        let before = profile(&[("main;cache;alloc", 0, 1000)]);
        let after = profile(&[("main;leak;alloc", 0, 900)]);
        let d = diff(&before, &after, &opts(|o| o.rank_by = RankBy::Cumulative)).unwrap();
        assert_eq!((d.growth, d.shrinkage), (0, -100));
        assert_eq!((d.path_growth, d.path_shrinkage), (900, -1000));
        let leak = d
            .rows
            .iter()
            .find(|r| d.key(r.key).function.as_deref() == Some("leak"))
            .unwrap();
        assert_eq!(d.share(leak), Some(1.0));
    }

    #[test]
    fn recursion_counts_once_in_cum() {
        let before = profile(&[]);
        let after = profile(&[("main;rec;rec;rec;leaf", 1, 64)]);
        let d = diff(&before, &after, &opts(|o| o.rank_by = RankBy::Cumulative)).unwrap();
        let rec = d
            .rows
            .iter()
            .find(|r| d.key(r.key).function.as_deref() == Some("rec"))
            .unwrap();
        assert_eq!(rec.cum.after, 64);
        assert_eq!(rec.flat.after, 0);
    }

    #[test]
    fn allocator_leaves_are_dropped_unless_kept() {
        let before = profile(&[]);
        let after = profile(&[
            ("main;user;malloc;je_malloc_default", 1, 64),
            ("malloc", 1, 8),
        ]);
        let d = diff(&before, &after, &Options::default()).unwrap();
        assert_eq!(rows(&d), [("user".into(), 64), ("malloc".into(), 8)]);
        let d = diff(&before, &after, &opts(|o| o.keep_allocator_frames = true)).unwrap();
        assert_eq!(
            rows(&d),
            [("je_malloc_default".into(), 64), ("malloc".into(), 8)]
        );
    }

    #[test]
    fn summing_keys_cuts_stacks_as_strip_allocator_frames_does() {
        // Frames 0..8; frame f has key f % 5 (so keys repeat: recursion),
        // frames 6 and 7 are the allocator's.
        let frame_keys: Vec<FrameKey> = (0..8u32)
            .map(|f| FrameKey {
                key: KeyId(f % 5),
                library: false,
                allocator: f >= 6,
            })
            .collect();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut cum = vec![CumSlot::default(); 5];
        let mut expected = [0.0f64; 5];
        let mut cut_root = 0;
        for serial in 1..=2000u64 {
            let len = next(7) as usize;
            let stack: Vec<u16> = (0..len).map(|_| next(8) as u16).collect();
            let kept = strip_allocator_frames(&stack, |f| frame_keys[usize::from(*f)].allocator);
            let value = serial as f64;
            let summed = sum_keys(&stack, &frame_keys, &mut cum, serial, value, 1.0, 0.5);
            assert_eq!(&stack[summed.cut..], kept, "stack {stack:?}");
            let keys = kept.iter().rev().map(|&f| frame_keys[usize::from(f)].key);
            assert_eq!(
                summed.path,
                stacks::path_hash(keys.clone()),
                "stack {stack:?}"
            );
            let mut distinct: Vec<KeyId> = keys.collect();
            distinct.sort();
            distinct.dedup();
            for k in distinct {
                expected[k.index()] += value;
            }
            if len > 1 && frame_keys[usize::from(stack[len - 1])].allocator {
                cut_root += 1;
            }
        }
        assert!(
            cut_root > 100,
            "stacks with an allocator frame at the root were tried"
        );
        assert_eq!(cum.iter().map(|s| s.value).collect::<Vec<_>>(), expected);
    }

    #[test]
    fn allocator_cut_is_at_the_outermost_allocator_frame() {
        fn cut(s: &[&'static str]) -> Vec<&'static str> {
            strip_allocator_frames(s, |f| is_allocator_frame(f)).to_vec()
        }
        // jemalloc's internal frames are unnamed below malloc: all go.
        assert_eq!(
            cut(&[
                "0x1 (libjemalloc.so.2)",
                "0x2 (libjemalloc.so.2)",
                "malloc",
                "user",
                "main"
            ]),
            ["user", "main"]
        );
        assert_eq!(cut(&["user", "main"]), ["user", "main"]);
        assert_eq!(cut(&["je_malloc_default", "malloc"]), ["malloc"]);
        assert_eq!(cut(&[] as &[&str]), [] as [&str; 0]);
    }

    #[test]
    fn sampled_profiles_are_scaled_as_they_are_summed() {
        let mut before = profile(&[("main;a", 1, 4096)]);
        let mut after = profile(&[("main;a", 2, 8192), ("main;b", 1, 1024)]);
        for p in [&mut before, &mut after] {
            p.header.sampling = Some(heapdiff_profile::Sampling {
                rate: 4096,
                pairs: vec![(0, 1)],
            });
        }
        let d = diff(&before, &after, &Options::default()).unwrap();
        let s = |n: f64, b: f64| 1.0 / (1.0 - (-(b / n) / 4096.0).exp());
        let a_after = 8192.0 * s(2.0, 8192.0);
        let a_before = 4096.0 * s(1.0, 4096.0);
        let row_a = d
            .rows
            .iter()
            .find(|r| d.key(r.key).function.as_deref() == Some("a"))
            .unwrap();
        assert_eq!(row_a.flat.after, a_after as i64);
        assert_eq!(row_a.flat.before, a_before as i64);
        assert_eq!(
            row_a.flat.delta(),
            (a_after - a_before) as i64,
            "the difference is truncated, not the parts"
        );
        assert_eq!(row_a.flat.count_after, (2.0 * s(2.0, 8192.0)) as i64);
        let b_after = 1024.0 * s(1.0, 1024.0);
        assert_eq!(d.totals.after, (a_after + b_after) as i64);
    }

    #[test]
    fn granularities_merge_keys() {
        let before = profile(&[("main:3;f:10", 0, 5)]);
        let after = profile(&[("main:3;f:10", 0, 5), ("main:4;f:11", 0, 9)]);
        let d = diff(
            &before,
            &after,
            &opts(|o| o.granularity = Granularity::Function),
        )
        .unwrap();
        assert_eq!(rows(&d), [("f".into(), 9)]);
        assert_eq!(d.key(d.rows[0].key).file, None);
        let d = diff(
            &before,
            &after,
            &opts(|o| o.granularity = Granularity::File),
        )
        .unwrap();
        assert_eq!(d.key(d.rows[0].key).file.as_deref(), Some("m.go"));
        assert_eq!(d.rows[0].flat.delta(), 9);
    }

    #[test]
    fn tree_holds_both_sides() {
        let before = profile(&[("main;a", 0, 10)]);
        let after = profile(&[("main;a", 0, 4), ("main;b", 0, 6)]);
        let d = diff(&before, &after, &Options::default()).unwrap();
        let root = d.tree.node(Tree::ROOT);
        assert_eq!((root.total.before, root.total.after), (10, 10));
        let main = d.tree.children(Tree::ROOT)[0];
        assert_eq!(d.tree.children(main).len(), 2);
    }

    #[test]
    fn selection_errors_propagate() {
        let p = profile(&[]);
        let err = diff(
            &p,
            &p,
            &opts(|o| o.sample_type = Some("alloc_space".parse().unwrap())),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not in both profiles"), "{err}");
    }

    #[test]
    fn different_periods_warn() {
        let mut b = profile(&[]);
        let mut a = profile(&[]);
        b.header.period = 524288;
        a.header.period = 4096;
        a.header.period_type = Some(ValueType::new("space", "bytes"));
        b.header.period_type = a.header.period_type.clone();
        let d = diff(&b, &a, &Options::default()).unwrap();
        assert_eq!(d.period.as_ref().unwrap().after, 4096);
        assert_eq!(d.warnings.len(), 1);
        assert!(d.warnings[0].contains("524288 bytes before, 4096 bytes after"));
        // An exact (period 0) profile against a sampled one.
        b.header.period = 0;
        let d = diff(&b, &a, &Options::default()).unwrap();
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert!(
            d.warnings[0]
                .contains("before profile is exact (not sampled) and the after profile sampled"),
            "{}",
            d.warnings[0]
        );
    }

    #[test]
    fn normalizing_needs_positive_totals() {
        let before = profile(&[("main;f", -1, -100)]);
        let after = profile(&[("main;f", 3, 300)]);
        let d = diff(&before, &after, &opts(|o| o.normalize = true)).unwrap();
        assert_eq!(d.normalized, None);
        assert_eq!(d.totals.before, -100, "not scaled by a negative factor");
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("--normalize needs positive totals"))
        );
    }

    #[test]
    fn merged_sides_are_compared_as_averages() {
        let mut before = profile(&[("main;f", 8, 800), ("main;g", 4, 402)]);
        let mut after = profile(&[("main;f", 30, 3000), ("main;g", 12, 1203)]);
        before.merged = Some(4);
        after.merged = Some(3);
        let d = diff(&before, &after, &Options::default()).unwrap();
        assert_eq!(d.merged, [Some(4), Some(3)]);
        assert_eq!((d.totals.before, d.totals.after), (300, 1401));
        assert_eq!(rows(&d), [("f".into(), 800), ("g".into(), 300)]);
        let f = d.rows.iter().find(|r| r.flat.delta() == 800).unwrap();
        assert_eq!((f.flat.count_before, f.flat.count_after), (2, 10));
        let root = d.tree.node(Tree::ROOT).total;
        assert_eq!((root.before, root.after), (300, 1401));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);

        after.merged = Some(8);
        let d = diff(&before, &after, &Options::default()).unwrap();
        assert!(d.warnings[0].contains("averages 4 profiles and the after side 8"));
        after.merged = Some(u64::MAX);
        let d = diff(&before, &after, &Options::default()).unwrap();
        assert!(d.warnings[0].contains("after side 18446744073709551615"));
        after.merged = None;
        let d = diff(&before, &after, &Options::default()).unwrap();
        assert_eq!(d.totals.after, 4203, "a side of unknown count is summed");
        assert!(d.warnings[0].contains("only the before side says"));

        let t = trend(&[before.clone(), before.clone()], &Options::default()).unwrap();
        assert_eq!(t.totals, [300, 300]);
        assert_eq!(t.merged, [Some(4), Some(4)]);
        assert!(t.warnings.is_empty());
        let mut middle = before.clone();
        middle.merged = Some(9);
        let t = trend(&[before.clone(), middle, before], &Options::default()).unwrap();
        assert_eq!(t.totals, [300, 133, 300]);
        assert!(t.warnings[0].contains("average from 4 to 9 merged profiles"));
    }

    #[test]
    fn negative_values_of_delta_profiles_are_summed() {
        let before = profile(&[]);
        let after = profile(&[("a", -1, -100), ("b", 1, 30)]);
        let d = diff(&before, &after, &Options::default()).unwrap();
        assert_eq!(rows(&d), [("b".into(), 30), ("a".into(), -100)]);
        assert_eq!(d.totals.after, -70);
    }

    fn go_like(stacks: &[(&str, i64, i64)], period: i64) -> Profile {
        let mut p = profile(stacks);
        p.header.period = period;
        p.header.period_type = Some(ValueType::new("space", "bytes"));
        p
    }

    #[test]
    fn sampling_error_follows_the_poisson_model() {
        // One sampled 100-byte block at Go's default rate: reported as
        // 1/p objects and 100/p bytes; k = 1 sample, so the error is about
        // the whole value.
        let rate = 524_288i64;
        let p = 1.0 - (-(100.0 / rate as f64)).exp();
        let (objects, bytes) = ((1.0 / p) as i64, (100.0 / p) as i64);
        let before = go_like(&[("main;a", 0, 0)], rate);
        let after = go_like(&[("main;a", objects, bytes)], rate);
        let d = diff(&before, &after, &Options::default()).unwrap();
        assert_eq!(d.precision, Precision::Sampled);
        let row = d
            .rows
            .iter()
            .find(|r| d.key(r.key).display().starts_with("a "))
            .unwrap();
        let e = row.flat_error.unwrap() as f64;
        assert!(
            (e / bytes as f64 - (1.0 - p).sqrt()).abs() < 0.01,
            "{e} vs {bytes}"
        );
        assert!(row.within_noise(RankBy::Flat));
        // A thousand times the samples: the relative error falls by about 31.6.
        let after = go_like(&[("main;a", objects * 1000, bytes * 1000)], rate);
        let d = diff(&before, &after, &Options::default()).unwrap();
        let row = d
            .rows
            .iter()
            .find(|r| d.key(r.key).display().starts_with("a "))
            .unwrap();
        let rel = row.flat_error.unwrap() as f64 / (bytes * 1000) as f64;
        assert!(
            (rel - (1.0 - p).sqrt() / 1000f64.sqrt()).abs() < 0.001,
            "{rel}"
        );
        assert!(!row.within_noise(RankBy::Flat));
    }

    #[test]
    fn exact_and_unknown_profiles_carry_no_error() {
        let d = diff(
            &profile(&[("a", 1, 10)]),
            &profile(&[("a", 2, 20)]),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(d.precision, Precision::Unknown, "pprof without a period");
        assert!(
            d.rows
                .iter()
                .all(|r| r.flat_error.is_none() && !r.within_noise(RankBy::Flat))
        );
    }

    #[test]
    fn filters_select_stacks_and_frames_in_pprof_order() {
        let before = profile(&[]);
        let after = profile(&[
            ("main;serve;leak", 1, 100),
            ("main;idle", 1, 10),
            ("main;serve;parse;leak", 1, 1),
        ]);
        let with = |f: Filters| {
            let d = diff(
                &before,
                &after,
                &Options {
                    filters: f,
                    ..Options::default()
                },
            )
            .unwrap();
            (rows(&d), d.totals.after)
        };
        let re = |s: &str| Some(regex::Regex::new(s).unwrap());
        let (r, total) = with(Filters {
            focus: re("^serve "),
            ..Default::default()
        });
        assert_eq!(total, 101);
        assert_eq!(r, [("leak".to_owned(), 101)]);
        let (_, total) = with(Filters {
            ignore: re("^parse "),
            ..Default::default()
        });
        assert_eq!(total, 110);
        let (r, _) = with(Filters {
            hide: re("^leak "),
            ..Default::default()
        });
        assert_eq!(
            r,
            [
                ("serve".to_owned(), 100),
                ("idle".to_owned(), 10),
                ("parse".to_owned(), 1)
            ]
        );
        let d = diff(
            &before,
            &after,
            &Options {
                filters: Filters {
                    show_from: re("^serve "),
                    ..Default::default()
                },
                rank_by: RankBy::Cumulative,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(d.totals.after, 101, "stacks without serve are dropped");
        assert!(
            d.rows
                .iter()
                .all(|r| d.key(r.key).display() != "main m.go:1"),
            "callers above serve are cut"
        );
    }
}
