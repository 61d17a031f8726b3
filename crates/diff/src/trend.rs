//! Trends over three or more snapshots: what grows *every* time.
//!
//! Each snapshot is aggregated as one side of a diff is (same keys,
//! allocator frames, filters), giving every key a series of values, one per
//! snapshot. Per key:
//!
//! - **growth**: last − first;
//! - **slope**: the least-squares slope of the series against the snapshot
//!   index (value units per snapshot);
//! - **steady**: how many of the N − 1 steps grew;
//! - **leak score**: `(N − 1) × max(0, min(slope, typical step))`, where the
//!   typical step is the lower median of the step increments. A steady leak
//!   scores about its growth; a single jump scores nothing, because most
//!   steps did not grow (the median step is 0), however large the jump; a
//!   buffer allocated and freed again scores nothing either.
//!
//! Rows are ranked by leak score, then growth, then key.

use heapdiff_profile::{Profile, ValueType};
use rayon::prelude::*;

use crate::key::KeyTable;
use crate::merged::{averaged_over, counts_apart_within};
use crate::select::select;
use crate::{
    Error, FrameTable, Key, KeyId, Options, Precision, RankBy, Side, SideInput, aggregate,
};

/// One key's series.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendRow {
    /// The key; see [`Trend::key`].
    pub key: KeyId,
    /// Its value in each snapshot (flat, or cumulative with
    /// [`RankBy::Cumulative`]).
    pub series: Vec<i64>,
    /// Its object count in each snapshot, when the profiles have counts.
    pub counts: Option<Vec<i64>>,
    /// Least-squares slope, per snapshot.
    pub slope: f64,
    /// Steps (of N − 1) in which the value grew.
    pub steps_up: usize,
    /// The leak score (see the module documentation).
    pub score: i64,
}

impl TrendRow {
    /// Last − first.
    pub fn growth(&self) -> i64 {
        match (self.series.first(), self.series.last()) {
            (Some(f), Some(l)) => l.saturating_sub(*f),
            _ => 0,
        }
    }
}

/// The result of [`trend`].
#[derive(Clone, Debug)]
pub struct Trend {
    /// The compared sample type.
    pub sample_type: ValueType,
    /// The object-count type, when every snapshot has it.
    pub count_type: Option<ValueType>,
    /// The options used.
    pub options: Options,
    /// Each snapshot's total.
    pub totals: Vec<i64>,
    /// Each snapshot's object count total.
    pub count_totals: Option<Vec<i64>>,
    /// How many profiles each snapshot is the sum of, where known
    /// ([`Profile::merged`]); one known to sum more than one is averaged.
    pub merged: Vec<Option<u64>>,
    /// Things the user should know of the snapshots as a whole (a diff of
    /// the first and the last says the rest).
    pub warnings: Vec<String>,
    /// Keys with a non-zero value in some snapshot, ranked by leak score.
    pub rows: Vec<TrendRow>,
    /// Whether the values are exact or sampled.
    pub precision: Precision,
    keys: Vec<Key>,
}

impl Trend {
    /// A row's identity.
    pub fn key(&self, id: KeyId) -> &Key {
        &self.keys[id.index()]
    }

    /// Number of snapshots.
    pub fn snapshots(&self) -> usize {
        self.totals.len()
    }

    /// Rewrites every key's file name with `rename` (as `--redact-paths`
    /// does); rows keep their order.
    pub fn rename_files(&mut self, mut rename: impl FnMut(&str) -> String) {
        for key in &mut self.keys {
            key.file = key.file.as_deref().map(&mut rename);
        }
    }
}

/// Least-squares slope of `ys` against 0, 1, 2, ….
pub fn slope(ys: &[i64]) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = ys.iter().map(|&y| y as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &y) in ys.iter().enumerate() {
        let dx = i as f64 - mean_x;
        num += dx * (y as f64 - mean_y);
        den += dx * dx;
    }
    num / den
}

/// The leak score of a series and its slope.
pub fn leak_score(series: &[i64], slope: f64) -> i64 {
    if series.len() < 2 {
        return 0;
    }
    let mut steps: Vec<i64> = series
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .collect();
    steps.sort_unstable();
    let typical = steps[(steps.len() - 1) / 2] as f64;
    let per_step = slope.min(typical).max(0.0);
    (per_step * steps.len() as f64) as i64
}

/// Follows every key through `profiles`, in the order given.
pub fn trend(profiles: &[Profile], options: &Options) -> Result<Trend, Error> {
    let (first, last) = match profiles {
        [first, .., last] => (first, last),
        _ => {
            return Err(Error::TooFewSnapshots {
                count: profiles.len(),
            });
        }
    };
    let sel = select(first, last, options.sample_type.as_ref())?;
    let name = &sel.value.name;
    let mut value_index = Vec::with_capacity(profiles.len());
    let mut count_index = Vec::with_capacity(profiles.len());
    for (i, p) in profiles.iter().enumerate() {
        let v = p
            .sample_type_index(name)
            .ok_or_else(|| Error::SnapshotSampleType {
                snapshot: i + 1,
                name: name.clone(),
            })?;
        value_index.push(v);
        count_index.push(
            sel.count
                .as_ref()
                .and_then(|c| p.sample_type_index(&c.name)),
        );
    }
    let counts = count_index.iter().all(Option::is_some);
    let mut keys = KeyTable::default();
    let frame_keys: Vec<std::sync::Arc<[KeyId]>> = profiles
        .iter()
        .map(|p| keys.map_frames(p, options.granularity).into())
        .collect();
    let key_count = keys.len();
    let precision = profiles
        .iter()
        .map(Precision::of)
        .reduce(Precision::min)
        .unwrap_or(Precision::Unknown);

    // Aggregate the snapshots, all at once.
    let input = |i: usize| SideInput {
        value_index: value_index[i],
        count_index: if counts { count_index[i] } else { None },
        keys_of: &frame_keys[i],
        key_count,
        keep_allocator_frames: options.keep_allocator_frames,
        filters: &options.filters,
        relative: options.relative,
        errors: false,
        pair: None,
        attribute: options.attribute,
        classifier: &options.classifier,
    };
    let sums: Vec<_> = profiles
        .par_iter()
        .enumerate()
        .map(|(i, profile)| {
            let table = FrameTable::of(profile, &input(i));
            let all = 0..profile.sample_count();
            // A trend draws no tree: no stacks' items.
            let mut sums = aggregate(profile, Side::After, input(i), &table, all, None);
            if let Some(n) = averaged_over(profile) {
                sums.average(n);
            }
            sums
        })
        .collect();

    let keys = keys.into_keys();
    let mut rows = Vec::new();
    for k in 0..key_count {
        let pick = |s: &crate::SideSums| match options.rank_by {
            RankBy::Flat => s.flat[k],
            RankBy::Cumulative => s.cum[k],
        };
        let series: Vec<i64> = sums.iter().map(|s| pick(s).0 as i64).collect();
        if series.iter().all(|&v| v == 0) {
            continue;
        }
        let counts = counts.then(|| sums.iter().map(|s| pick(s).1 as i64).collect());
        let slope = slope(&series);
        let steps_up = series.windows(2).filter(|w| w[1] > w[0]).count();
        let score = leak_score(&series, slope);
        rows.push(TrendRow {
            key: KeyId(k as u32),
            series,
            counts,
            slope,
            steps_up,
            score,
        });
    }
    rows.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(b.growth().cmp(&a.growth()))
            .then_with(|| keys[a.key.index()].cmp(&keys[b.key.index()]))
    });
    let totals = sums.iter().map(|s| s.total.0 as i64).collect();
    let count_totals = counts.then(|| sums.iter().map(|s| s.total.1 as i64).collect());
    if options.min_delta > 0 {
        let min = options.min_delta.unsigned_abs();
        rows.retain(|r| r.growth().unsigned_abs() >= min || r.score as u64 >= min);
    }
    Ok(Trend {
        sample_type: sel.value,
        count_type: if counts { sel.count } else { None },
        options: options.clone(),
        totals,
        count_totals,
        merged: profiles.iter().map(|p| p.merged).collect(),
        warnings: counts_apart_within(profiles).into_iter().collect(),
        rows,
        precision,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_is_least_squares() {
        assert_eq!(slope(&[1, 2, 3, 4, 5]), 1.0);
        assert_eq!(slope(&[0, 0, 8, 8, 8]), 2.4);
        assert_eq!(slope(&[5, 5, 5]), 0.0);
        assert_eq!(slope(&[7]), 0.0);
    }

    #[test]
    fn steady_growth_outscores_one_jump() {
        let steady = [100, 300, 500, 700, 900];
        let jump = [0, 0, 8000, 8000, 8000];
        let freed = [0, 9000, 0, 0, 0];
        assert_eq!(leak_score(&steady, slope(&steady)), 800);
        assert_eq!(leak_score(&jump, slope(&jump)), 0);
        assert_eq!(leak_score(&freed, slope(&freed)), 0);
        // Noisy but steady: the typical step and the slope agree roughly.
        let noisy = [0, 250, 350, 650, 800];
        assert!(leak_score(&noisy, slope(&noisy)) >= 600);
        // Shrinking scores zero.
        let down = [900, 700, 500];
        assert_eq!(leak_score(&down, slope(&down)), 0);
        // Three snapshots, one jump: the lower median step is 0.
        assert_eq!(leak_score(&[0, 0, 5000], slope(&[0, 0, 5000])), 0);
        assert_eq!(leak_score(&[0, 2500, 5000], slope(&[0, 2500, 5000])), 5000);
    }
}
