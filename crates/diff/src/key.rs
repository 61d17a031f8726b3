//! Frame identity across two profiles.
//!
//! The two profiles come from different processes or builds, so addresses
//! mean nothing across them: a frame is identified by `(function, file,
//! line)` strings, reduced to the chosen [`Granularity`]. Both profiles'
//! frames map into one [`KeyTable`]; the differ then works on small integer
//! [`KeyId`]s.

use std::fmt;

use heapdiff_profile::{Frame, Profile};
use rustc_hash::FxHashMap;

/// What one row of the report stands for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// A source line: `(function, file, line)`.
    #[default]
    Line,
    /// A function, by name (as pprof's `-functions`).
    Function,
    /// A source file (as pprof's `-files`).
    File,
}

impl Granularity {
    /// The lower-case name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Line => "line",
            Granularity::Function => "function",
            Granularity::File => "file",
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row's identity: the parts of a frame the granularity keeps. Parts the
/// granularity drops, or the profile does not know, are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Function name (for a frame without one, its address: `0x4b3c30 (app)`).
    pub function: Option<String>,
    /// Source file.
    pub file: Option<String>,
    /// Source line.
    pub line: Option<u32>,
}

impl Key {
    /// `function file:line`, leaving out what is absent; `<unknown>` when
    /// nothing is known.
    pub fn display(&self) -> String {
        let mut out = String::new();
        if let Some(f) = &self.function {
            out.push_str(f);
        }
        if let Some(file) = &self.file {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(file);
            if let Some(line) = self.line {
                out.push_str(&format!(":{line}"));
            }
        } else if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
        }
        if out.is_empty() {
            out.push_str("<unknown>");
        }
        out
    }
}

/// A row key, as an index into the diff's key table ([`crate::Diff::key`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub(crate) u32);

impl KeyId {
    /// The key's position in the table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The keys of both profiles, interned.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    keys: Vec<Key>,
    index: FxHashMap<Key, KeyId>,
}

impl KeyTable {
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn into_keys(self) -> Vec<Key> {
        self.keys
    }

    fn intern(&mut self, key: Key) -> KeyId {
        if let Some(&id) = self.index.get(&key) {
            return id;
        }
        let id = KeyId(u32::try_from(self.keys.len()).expect("fewer than 2^32 distinct keys"));
        self.keys.push(key.clone());
        self.index.insert(key, id);
        id
    }

    /// The key of every frame of `profile`, indexed by `FrameId::index`.
    pub(crate) fn map_frames(&mut self, profile: &Profile, granularity: Granularity) -> Vec<KeyId> {
        profile
            .frames()
            .iter()
            .map(|frame| self.intern(key_of(profile, frame, granularity)))
            .collect()
    }
}

fn key_of(profile: &Profile, frame: &Frame, granularity: Granularity) -> Key {
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let function = Some(profile.frame_name(frame));
    let file = non_empty(profile.str(frame.file));
    let line = (frame.line != 0).then_some(frame.line);
    // A frame with a source location but no function (tracemalloc without
    // its source) is its location: `file:line`, not `file:line file:line`.
    let located_only = !frame.is_symbolized() && file.is_some();
    match granularity {
        Granularity::Line => Key {
            function: if located_only { None } else { function },
            file,
            line,
        },
        Granularity::Function => Key {
            function,
            file: None,
            line: None,
        },
        Granularity::File => Key {
            function: None,
            file,
            line: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapdiff_profile::{Format, ProfileBuilder, ValueType};

    #[test]
    fn display_leaves_out_absent_parts() {
        let k = |f: Option<&str>, file: Option<&str>, line| Key {
            function: f.map(Into::into),
            file: file.map(Into::into),
            line,
        };
        assert_eq!(
            k(Some("main.f"), Some("a.go"), Some(3)).display(),
            "main.f a.go:3"
        );
        assert_eq!(k(Some("main.f"), None, None).display(), "main.f");
        assert_eq!(k(None, Some("a.go"), None).display(), "a.go");
        assert_eq!(k(Some("f"), None, Some(9)).display(), "f:9");
        assert_eq!(k(None, None, None).display(), "<unknown>");
    }

    #[test]
    fn frames_of_two_profiles_share_keys_by_strings() {
        let make = |extra: &str| {
            let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("space", "bytes")]);
            b.intern(extra); // shifts string ids so they differ between profiles
            let f = b.intern("main.f");
            let file = b.intern("a.go");
            b.frame(heapdiff_profile::Frame::symbolized(f, file, 3));
            b.frame(heapdiff_profile::Frame::symbolized(f, file, 4));
            b.finish()
        };
        let (p1, p2) = (make("x"), make("yy"));
        let mut t = KeyTable::default();
        assert_eq!(
            t.map_frames(&p1, Granularity::Line),
            t.map_frames(&p2, Granularity::Line)
        );
        assert_eq!(t.len(), 2);

        let mut t = KeyTable::default();
        let ids = t.map_frames(&p1, Granularity::Function);
        assert_eq!(
            ids[0], ids[1],
            "lines of one function merge at function granularity"
        );
        let mut t = KeyTable::default();
        t.map_frames(&p1, Granularity::File);
        assert_eq!(
            t.into_keys(),
            vec![Key {
                function: None,
                file: Some("a.go".into()),
                line: None
            }]
        );
    }
}
