//! Choosing which sample type to compare, and its object-count partner.
//!
//! The rule (docs/diff-semantics.md): an explicit `--sample-type` name, or
//! index (in each profile's own list); otherwise the profile's
//! `default_sample_type`; otherwise live bytes (`inuse_space`, Datadog's
//! `heap-live-size`, `space`); otherwise the last sample type (pprof's
//! rule). A name is chosen on the *after* profile and must exist, in the
//! same unit, in the *before* profile.

use std::fmt;
use std::str::FromStr;

use heapdiff_profile::{Profile, ValueType};

use crate::Error;

/// A `--sample-type` argument: a name (`inuse_space`) or a 0-based index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SampleTypeChoice {
    /// Select by name.
    Name(String),
    /// Select by position in the after profile's sample types.
    Index(usize),
}

impl FromStr for SampleTypeChoice {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.parse::<usize>() {
            Ok(i) => SampleTypeChoice::Index(i),
            Err(_) => SampleTypeChoice::Name(s.to_owned()),
        })
    }
}

impl fmt::Display for SampleTypeChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SampleTypeChoice::Name(n) => f.write_str(n),
            SampleTypeChoice::Index(i) => write!(f, "{i}"),
        }
    }
}

/// The sample types chosen for a comparison, with their positions on each side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The compared quantity.
    pub value: ValueType,
    /// Its index in the before and after profiles.
    pub value_index: [usize; 2],
    /// The object-count partner (`inuse_objects` beside `inuse_space`), when
    /// both profiles have it.
    pub count: Option<ValueType>,
    /// Its index in the before and after profiles.
    pub count_index: Option<[usize; 2]>,
}

/// Applies the selection rule to a pair of profiles.
pub fn select(
    before: &Profile,
    after: &Profile,
    choice: Option<&SampleTypeChoice>,
) -> Result<Selection, Error> {
    let [b, a] = match choice {
        // An index is each profile's own: producers order their types
        // differently.
        Some(SampleTypeChoice::Index(i)) => [index_in(before, *i)?, index_in(after, *i)?],
        Some(SampleTypeChoice::Name(name)) => by_name(before, after, name)?,
        None => by_name(before, after, &default_name(after))?,
    };
    let value = after.header.sample_types[a].clone();
    let before_type = &before.header.sample_types[b];
    if before_type.unit != value.unit {
        return Err(Error::UnitMismatch {
            name: value.name,
            before: before_type.unit.clone(),
            after: value.unit,
        });
    }
    let partner_in =
        |p: &Profile, name: &str| count_partner(name).and_then(|c| p.sample_type_index(&c));
    let partner = match (
        partner_in(before, &before_type.name),
        partner_in(after, &value.name),
    ) {
        (Some(b), Some(a))
            if before.header.sample_types[b].unit == after.header.sample_types[a].unit =>
        {
            Some((after.header.sample_types[a].clone(), [b, a]))
        }
        _ => None,
    };
    Ok(Selection {
        value,
        value_index: [b, a],
        count: partner.as_ref().map(|(t, _)| t.clone()),
        count_index: partner.map(|(_, i)| i),
    })
}

/// The position of sample type `index` in `p`.
fn index_in(p: &Profile, index: usize) -> Result<usize, Error> {
    (index < p.header.sample_types.len())
        .then_some(index)
        .ok_or_else(|| Error::SampleTypeIndex {
            index,
            available: list(p),
        })
}

/// The positions of the sample type `name` in both profiles.
fn by_name(before: &Profile, after: &Profile, name: &str) -> Result<[usize; 2], Error> {
    match (
        before.sample_type_index(name),
        after.sample_type_index(name),
    ) {
        (Some(b), Some(a)) => Ok([b, a]),
        _ => Err(Error::MissingSampleType {
            name: name.to_owned(),
            before: list(before),
            after: list(after),
        }),
    }
}

/// The sample type shown when none is asked for.
pub fn default_name(p: &Profile) -> String {
    let h = &p.header;
    if let Some(d) = &h.default_sample_type
        && p.sample_type_index(d).is_some()
    {
        return d.clone();
    }
    // Live bytes: pprof's and most producers' name, Datadog's, then the
    // plain one (Node, speedscope).
    for preferred in ["inuse_space", "heap-live-size", "space"] {
        if p.sample_type_index(preferred).is_some() {
            return preferred.to_owned();
        }
    }
    h.sample_types
        .last()
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

/// The object-count type that goes with a byte type: `*_space` ->
/// `*_objects`, `space` -> `objects`.
pub fn count_partner(name: &str) -> Option<String> {
    match name {
        "space" => return Some("objects".to_owned()),
        "heap-live-size" => return Some("heap-live-samples".to_owned()),
        _ => {}
    }
    name.strip_suffix("_space")
        .map(|stem| format!("{stem}_objects"))
}

fn list(p: &Profile) -> String {
    p.header
        .sample_types
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapdiff_profile::{Format, ProfileBuilder};

    fn profile(types: &[(&str, &str)], default: Option<&str>) -> Profile {
        let mut b = ProfileBuilder::new(
            Format::Pprof,
            types.iter().map(|(n, u)| ValueType::new(*n, *u)).collect(),
        );
        b.header_mut().default_sample_type = default.map(str::to_owned);
        b.finish()
    }

    const GO: &[(&str, &str)] = &[
        ("alloc_objects", "count"),
        ("alloc_space", "bytes"),
        ("inuse_objects", "count"),
        ("inuse_space", "bytes"),
    ];

    #[test]
    fn default_rule_order() {
        assert_eq!(default_name(&profile(GO, None)), "inuse_space");
        assert_eq!(
            default_name(&profile(GO, Some("alloc_space"))),
            "alloc_space"
        );
        assert_eq!(
            default_name(&profile(GO, Some("nonexistent"))),
            "inuse_space",
            "a default naming no sample type is ignored"
        );
        let node = &[("objects", "count"), ("space", "bytes")];
        assert_eq!(default_name(&profile(node, None)), "space");
        let cpu = &[("samples", "count"), ("cpu", "nanoseconds")];
        assert_eq!(default_name(&profile(cpu, None)), "cpu");
        let datadog = &[
            ("alloc-samples", "count"),
            ("alloc-space", "bytes"),
            ("heap-live-samples", "count"),
            ("heap-live-size", "bytes"),
            ("cpu-time", "nanoseconds"),
        ];
        assert_eq!(default_name(&profile(datadog, None)), "heap-live-size");
        let p = profile(datadog, None);
        let s = select(&p, &p, None).unwrap();
        assert_eq!(s.count, Some(ValueType::new("heap-live-samples", "count")));
    }

    #[test]
    fn selects_with_count_partner() {
        let (b, a) = (profile(GO, None), profile(GO, None));
        let s = select(&b, &a, None).unwrap();
        assert_eq!(s.value, ValueType::new("inuse_space", "bytes"));
        assert_eq!(s.value_index, [3, 3]);
        assert_eq!(s.count, Some(ValueType::new("inuse_objects", "count")));
        assert_eq!(s.count_index, Some([2, 2]));

        let s = select(&b, &a, Some(&"1".parse().unwrap())).unwrap();
        assert_eq!(s.value.name, "alloc_space");
        assert_eq!(s.count_index, Some([0, 0]));

        let s = select(&b, &a, Some(&"inuse_objects".parse().unwrap())).unwrap();
        assert_eq!(s.count, None, "a count type has no partner");
    }

    #[test]
    fn positions_may_differ_between_sides() {
        let b = profile(
            &[("inuse_space", "bytes"), ("inuse_objects", "count")],
            None,
        );
        let a = profile(GO, None);
        let s = select(&b, &a, None).unwrap();
        assert_eq!(s.value_index, [0, 3]);
        assert_eq!(s.count_index, Some([1, 2]));
    }

    #[test]
    fn an_index_is_resolved_in_each_profile() {
        // Two producers, their types in different orders and names.
        let b = profile(&[("objects", "count"), ("space", "bytes")], None);
        let a = profile(
            &[("inuse_objects", "count"), ("inuse_space", "bytes")],
            None,
        );
        let s = select(&b, &a, Some(&SampleTypeChoice::Index(1))).unwrap();
        assert_eq!(s.value_index, [1, 1]);
        assert_eq!(s.value.name, "inuse_space");
        assert_eq!(s.count_index, Some([0, 0]));
        let err = select(&b, &a, Some(&SampleTypeChoice::Index(2))).unwrap_err();
        assert!(err.to_string().contains("index 2 is out of range"), "{err}");
    }

    #[test]
    fn missing_type_lists_both_sides() {
        let b = profile(&[("space", "bytes")], None);
        let a = profile(GO, None);
        let err = select(&b, &a, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sample type \"inuse_space\" is not in both profiles \
             (before has: space/bytes; after has: alloc_objects/count, \
             alloc_space/bytes, inuse_objects/count, inuse_space/bytes); \
             choose one with --sample-type"
        );
        let err = select(&a, &a, Some(&SampleTypeChoice::Index(9))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("sample type index 9 is out of range"),
            "{err}"
        );
    }

    #[test]
    fn unit_mismatch_is_an_error() {
        let b = profile(&[("inuse_space", "kilobytes")], None);
        let a = profile(&[("inuse_space", "bytes")], None);
        let err = select(&b, &a, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sample type inuse_space is in kilobytes before but in bytes after"
        );
    }

    #[test]
    fn partners() {
        assert_eq!(
            count_partner("inuse_space").as_deref(),
            Some("inuse_objects")
        );
        assert_eq!(count_partner("space").as_deref(), Some("objects"));
        assert_eq!(count_partner("cpu"), None);
    }

    #[test]
    fn choice_parses_numbers_as_indices() {
        assert_eq!(
            "2".parse::<SampleTypeChoice>().unwrap(),
            SampleTypeChoice::Index(2)
        );
        assert_eq!(
            "alloc_space".parse::<SampleTypeChoice>().unwrap(),
            SampleTypeChoice::Name("alloc_space".into())
        );
    }
}
