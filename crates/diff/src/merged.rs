//! Profiles that are sums of merged profiles (a store's merge over a time
//! window, `--merged`; see [`Profile::merged`]), compared as their
//! averages: which are, and what the reader must be told of their counts.
//! The division itself is [`SideSums::average`](crate::sum::SideSums::average).

use heapdiff_profile::Profile;

/// How many profiles `profile` sums, if it is to be compared as their
/// average (more than one, and known: see [`Profile::merged`]).
pub(crate) fn averaged_over(profile: &Profile) -> Option<f64> {
    profile.merged.filter(|&n| n > 1).map(|n| n as f64)
}

/// What the reader must be told of sides merged from `before` and `after`
/// profiles: counts far apart (twice or more) make averages of different
/// things, and a side whose count is unknown is summed, not averaged.
pub(crate) fn merged_warning(before: Option<u64>, after: Option<u64>) -> Option<String> {
    let averaged = |n: Option<u64>| n.is_some_and(|n| n > 1);
    match (before, after) {
        (Some(b), Some(a)) if far_apart(b, a) => Some(format!(
            "the before side averages {b} profiles and the after side {a}: a fleet that changed \
             size or scrapes that were missed make averages of different things"
        )),
        (Some(_), None) | (None, Some(_)) if averaged(before) || averaged(after) => Some(format!(
            "only the {} side says how many profiles it merged: it is averaged, the other is \
             compared as it is",
            if before.is_some() { "before" } else { "after" }
        )),
        _ => None,
    }
}

/// Whether merged counts `a` and `b` are twice or more apart.
pub(crate) fn far_apart(a: u64, b: u64) -> bool {
    a.max(b) / 2 >= a.min(b).max(1)
}

/// A warning when snapshots between the first and the last merged counts
/// twice or more apart (the first and the last a diff warns of).
pub(crate) fn counts_apart_within(profiles: &[Profile]) -> Option<String> {
    let counts: Vec<u64> = profiles.iter().filter_map(|p| p.merged).collect();
    let (least, most) = (*counts.iter().min()?, *counts.iter().max()?);
    let ends = [profiles.first()?.merged, profiles.last()?.merged];
    if !far_apart(least, most) || matches!(ends, [Some(a), Some(b)] if far_apart(a, b)) {
        return None;
    }
    Some(format!(
        "the snapshots average from {least} to {most} merged profiles: a fleet that changed \
         size or scrapes that were missed make averages of different things"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_twice_apart_are_far_apart_without_overflow() {
        assert!(far_apart(2, 1) && far_apart(1, 2) && far_apart(0, 2));
        assert!(!far_apart(3, 2) && !far_apart(7, 4));
        assert!(far_apart(u64::MAX, 1) && !far_apart(u64::MAX, u64::MAX - 1));
    }
}
