//! How far a diff's values can be trusted: exact or sampled, and the
//! sampling periods of the two profiles.

use heapdiff_profile::{Profile, ValueType};

/// How far a profile's values can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// Every allocation was recorded (tracemalloc, gperftools' heap
    /// profiler, dhat, memray): values are exact.
    Exact,
    /// Allocations were sampled (Go, jemalloc, tcmalloc): values are
    /// estimates, and each row carries the standard error of its delta.
    Sampled,
    /// The format does not say (folded stacks, pprof from other producers).
    Unknown,
}

impl Precision {
    /// `exact`, `sampled` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Exact => "exact",
            Precision::Sampled => "sampled",
            Precision::Unknown => "unknown",
        }
    }

    /// The precision of one profile's values.
    pub fn of(profile: &Profile) -> Precision {
        use heapdiff_profile::Format;
        let header = &profile.header;
        if let Some(sampling) = &header.sampling {
            // A mean of one byte between samples samples every allocation.
            return if sampling.rate > 1 {
                Precision::Sampled
            } else {
                Precision::Exact
            };
        }
        let by_bytes = header
            .period_type
            .as_ref()
            .is_some_and(|t| t.unit == "bytes");
        let named = header.sample_types.iter().all(|t| !t.name.is_empty());
        match profile.format {
            Format::Tracemalloc
            | Format::Dhat
            | Format::MemrayCsv
            | Format::GperftoolsHeap
            | Format::Massif
            | Format::Heaptrack => Precision::Exact,
            // Go's MemProfileRate = 1 records every allocation.
            Format::Pprof | Format::GoHeapText if by_bytes && named && header.period == 1 => {
                Precision::Exact
            }
            Format::Pprof | Format::GoHeapText if by_bytes && named && header.period > 1 => {
                Precision::Sampled
            }
            // JFR samples, but its files hold neither a sampling interval
            // nor per-stack counts to size the error by (see formats.md).
            _ => Precision::Unknown,
        }
    }

    /// The weaker of two.
    pub(crate) fn min(self, other: Precision) -> Precision {
        match (self, other) {
            (Precision::Sampled, _) | (_, Precision::Sampled) => Precision::Sampled,
            (Precision::Unknown, _) | (_, Precision::Unknown) => Precision::Unknown,
            _ => Precision::Exact,
        }
    }
}

/// The sampling period of both profiles, where the format has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    /// What the period counts (Go: `space/bytes`).
    pub period_type: Option<ValueType>,
    /// The before profile's period.
    pub before: i64,
    /// The after profile's period.
    pub after: i64,
}

/// The warning for a pair of which one profile is sampled and the other
/// exact, if it is one.
pub(crate) fn mixed_precision(before: &Profile, after: &Profile) -> Option<String> {
    let sampled = [before, after].map(|p| Precision::of(p) == Precision::Sampled);
    let word = |s: bool| if s { "sampled" } else { "exact (not sampled)" };
    (sampled[0] != sampled[1]).then(|| {
        format!(
            "the before profile is {} and the after profile {}: their values are not estimated \
             alike and their change mixes the two; compare profiles taken the same way",
            word(sampled[0]),
            word(sampled[1])
        )
    })
}

/// The sampling period of both profiles, with a warning when they differ.
pub(crate) fn period(
    before: &Profile,
    after: &Profile,
    warnings: &mut Vec<String>,
) -> Option<Period> {
    let (b, a) = (&before.header, &after.header);
    if b.period == 0 && a.period == 0 {
        return None;
    }
    if b.period != a.period && b.period != 0 && a.period != 0 {
        let unit = a.period_type.as_ref().map_or("", |t| t.unit.as_str());
        warnings.push(format!(
            "the profiles were sampled with different periods ({} {unit} before, {} {unit} after); \
             sampled values are estimates, compare with care",
            b.period, a.period
        ));
    }
    Some(Period {
        period_type: a.period_type.clone().or_else(|| b.period_type.clone()),
        before: b.period,
        after: a.period,
    })
}
