//! Test helpers shared by the renderers' unit tests.

use heapdiff_profile::{Format, Frame, FrameId, Profile, ProfileBuilder, ValueType};

use crate::Inputs;

/// A profile of `inuse_space` samples, stacks written root first as
/// `"a|b|c"`, every frame in `file` at `line` (no file when empty).
pub(crate) fn profile_at(stacks: &[(&str, i64)], file: &str, line: u32) -> Profile {
    let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("inuse_space", "bytes")]);
    let file = b.intern(file);
    for (stack, bytes) in stacks {
        let frames: Vec<FrameId> = stack
            .split('|')
            .rev()
            .map(|name| {
                let f = b.intern(name);
                b.frame(Frame::symbolized(f, file, line))
            })
            .collect();
        b.push_sample(&frames, &[*bytes]).unwrap();
    }
    b.finish()
}

/// Inputs named `b.pb` and `a.pb`.
pub(crate) fn inputs() -> Inputs {
    Inputs {
        before: "b.pb".into(),
        after: "a.pb".into(),
    }
}
