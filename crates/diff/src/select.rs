//! Choosing which sample type to compare, and its object-count partner.
//!
//! The rule (docs/diff-semantics.md): an explicit `--sample-type` name or
//! index; otherwise the profile's `default_sample_type`; otherwise
//! `inuse_space` if present; otherwise `space`; otherwise the last sample
//! type (pprof's rule). The choice is made on the *after* profile and the same
//! name must exist, in the same unit, in the *before* profile.

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
    let types = &after.header.sample_types;
    let name = match choice {
        Some(SampleTypeChoice::Name(n)) => n.clone(),
        Some(SampleTypeChoice::Index(i)) => types
            .get(*i)
            .ok_or_else(|| Error::SampleTypeIndex {
                index: *i,
                available: list(after),
            })?
            .name
            .clone(),
        None => default_name(after),
    };
    let (Some(b), Some(a)) = (
        before.sample_type_index(&name),
        after.sample_type_index(&name),
    ) else {
        return Err(Error::MissingSampleType {
            name,
            before: list(before),
            after: list(after),
        });
    };
    let value = types[a].clone();
    let before_unit = &before.header.sample_types[b].unit;
    if *before_unit != value.unit {
        return Err(Error::UnitMismatch {
            name,
            before: before_unit.clone(),
            after: value.unit,
        });
    }
    let partner = count_partner(&name).and_then(|p| {
        let b = before.sample_type_index(&p)?;
        let a = after.sample_type_index(&p)?;
        (before.header.sample_types[b].unit == after.header.sample_types[a].unit)
            .then(|| (after.header.sample_types[a].clone(), [b, a]))
    });
    Ok(Selection {
        value,
        value_index: [b, a],
        count: partner.as_ref().map(|(t, _)| t.clone()),
        count_index: partner.map(|(_, i)| i),
    })
}

/// The sample type shown when none is asked for.
pub fn default_name(p: &Profile) -> String {
    let h = &p.header;
    if let Some(d) = &h.default_sample_type
        && p.sample_type_index(d).is_some()
    {
        return d.clone();
    }
    for preferred in ["inuse_space", "space"] {
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
    if name == "space" {
        return Some("objects".to_owned());
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
