//! Building a [`Profile`]: interning strings and frames, appending samples
//! within the [`Limits`], and the sample batches that decoders reading in
//! parts fill on other threads and append in input order.

use rustc_hash::FxHashMap;

use super::*;
use crate::error::Error;

/// The most frames all stacks of one profile can hold (2^31 − 1), whatever
/// [`Limits::max_frames`] says: the differ keeps stack positions and
/// lengths in 31 bits.
pub const MAX_FRAMES: usize = (1 << 31) - 1;

/// Bounds on what a decoded profile may hold, so that no input (however
/// small and however crafted) makes heapdiff use unbounded memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Samples in one profile; more is an error (`--max-samples`).
    pub max_samples: usize,
    /// Frames in all stacks of one profile, inlined frames expanded; more
    /// is an error (`--max-frames`). Never more than [`MAX_FRAMES`],
    /// whatever this says.
    pub max_frames: usize,
    /// Frames in one stack; deeper stacks lose their outermost frames, with
    /// a warning (`--max-depth`).
    pub max_depth: usize,
    /// Bytes in one string (a function or file name); longer ones are cut,
    /// with a warning.
    pub max_string: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_samples: 100_000_000,
            max_frames: 1_000_000_000,
            max_depth: 1_000_000,
            max_string: 1 << 20,
        }
    }
}

/// Builds a [`Profile`]: interns strings and frames, appends samples.
///
/// ```
/// use heapdiff_profile::{Format, Frame, ProfileBuilder, ValueType};
///
/// let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("inuse_space", "bytes")]);
/// let f = b.intern("main.leak");
/// let file = b.intern("main.go");
/// let leaf = b.frame(Frame::symbolized(f, file, 12));
/// b.push_sample(&[leaf], &[4096]).unwrap();
/// let p = b.finish();
/// assert_eq!(p.total(0), 4096);
/// assert_eq!(p.frame_name(p.frame(leaf)), "main.leak");
/// ```
#[derive(Debug)]
pub struct ProfileBuilder {
    pub(super) profile: Profile,
    string_ids: FxHashMap<Box<str>, StrId>,
    pub(super) frame_ids: FxHashMap<Frame, FrameId>,
    limits: Limits,
    /// Stacks cut at `max_depth`, strings cut at `max_string`.
    cut: (usize, usize),
    /// A stack being written, before it is narrowed into the profile.
    scratch: Vec<FrameId>,
}

impl ProfileBuilder {
    /// A builder for a profile of `format` with these sample types.
    pub fn new(format: Format, sample_types: Vec<ValueType>) -> Self {
        let mut string_ids = FxHashMap::default();
        string_ids.insert(Box::from(""), StrId::EMPTY);
        ProfileBuilder {
            profile: Profile {
                header: Header {
                    sample_types,
                    ..Header::default()
                },
                format,
                warnings: Vec::new(),
                merged: None,
                strings: vec![Box::from("")],
                mappings: Vec::new(),
                frames: Vec::new(),
                stack_frames: FrameStore::default(),
                stack_ends: Vec::new(),
                values: Vec::new(),
            },
            string_ids,
            frame_ids: FxHashMap::default(),
            limits: Limits::default(),
            cut: (0, 0),
            scratch: Vec::new(),
        }
    }

    /// Applies `limits` to what is built from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The header, to set the period, comments and other metadata.
    pub fn header_mut(&mut self) -> &mut Header {
        &mut self.profile.header
    }

    /// Records a warning to show the user.
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.profile.warnings.push(warning.into());
    }

    /// Reserves room for `samples` more samples with `frames` stack frames in all.
    pub fn reserve(&mut self, samples: usize, frames: usize) {
        let width = self.profile.header.sample_types.len();
        self.profile.stack_ends.reserve(samples);
        self.profile.values.reserve(samples.saturating_mul(width));
        if self.profile.frames.len() > NARROW_FRAMES {
            // Some frame needs four bytes: store every one so from the start.
            self.profile.stack_frames.widen();
        }
        self.profile.stack_frames.reserve(frames);
    }

    /// Interns a string (cut at [`Limits::max_string`] bytes).
    pub fn intern(&mut self, s: &str) -> StrId {
        if s.len() > self.limits.max_string {
            let mut end = self.limits.max_string;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.cut.1 += 1;
            let cut = format!("{}…", &s[..end]);
            return self.intern_whole(&cut);
        }
        self.intern_whole(s)
    }

    fn intern_whole(&mut self, s: &str) -> StrId {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = StrId(to_u32(self.profile.strings.len()));
        self.profile.strings.push(Box::from(s));
        self.string_ids.insert(Box::from(s), id);
        id
    }

    /// The string an id stands for.
    pub fn str(&self, id: StrId) -> &str {
        self.profile.str(id)
    }

    /// Adds a mapping.
    pub fn add_mapping(&mut self, mapping: Mapping) -> MappingId {
        let id = MappingId(to_u32(self.profile.mappings.len()));
        self.profile.mappings.push(mapping);
        id
    }

    /// Interns a frame. Symbolized frames are interned by
    /// `(function, file, line)`: their address and mapping are dropped.
    pub fn frame(&mut self, mut frame: Frame) -> FrameId {
        if frame.is_symbolized() {
            frame.address = 0;
            frame.mapping = None;
        }
        if let Some(&id) = self.frame_ids.get(&frame) {
            return id;
        }
        let id = FrameId(to_u32(self.profile.frames.len()));
        self.profile.frames.push(frame);
        self.frame_ids.insert(frame, id);
        id
    }

    /// Appends a sample. `stack` is leaf first; `values` has one value per
    /// sample type.
    pub fn push_sample(&mut self, stack: &[FrameId], values: &[i64]) -> Result<(), Error> {
        self.push_sample_with(values, |frames| frames.extend_from_slice(stack))
    }

    /// Appends a sample whose stack `fill` writes straight into the shared
    /// frame buffer (leaf first), avoiding a temporary vector per sample.
    pub fn push_sample_with(
        &mut self,
        values: &[i64],
        fill: impl FnOnce(&mut Vec<FrameId>),
    ) -> Result<(), Error> {
        self.samples().push_with(values, fill)
    }

    /// Appends a sample whose stack `writer` writes straight into the frame
    /// buffer, at two bytes a frame while the profile's frames allow it:
    /// the fastest way in for a decoder whose frames are all interned.
    pub(crate) fn push_sample_written(
        &mut self,
        values: &[i64],
        writer: impl StackWriter,
    ) -> Result<(), Error> {
        if self.profile.frames.len() > NARROW_FRAMES {
            self.profile.stack_frames.widen();
        }
        self.samples().push_written(values, writer)
    }

    /// Where this builder's samples go.
    fn samples(&mut self) -> Samples<'_> {
        let p = &mut self.profile;
        Samples {
            frames: &mut p.stack_frames,
            scratch: &mut self.scratch,
            ends: &mut p.stack_ends,
            values: &mut p.values,
            cut: &mut self.cut.0,
            before: 0,
            width: p.header.sample_types.len(),
            limits: &self.limits,
        }
    }

    /// An empty batch of samples for this builder, to fill apart from it
    /// (on another thread: samples whose frames are all interned already)
    /// and [`append`](Self::append) in order. The samples it will hold come
    /// after the `before` samples already pushed or in earlier batches.
    pub(crate) fn batch(&self, before: usize) -> SampleBatch {
        let mut frames = FrameStore::default();
        if let FrameStore::Wide(_) = self.profile.stack_frames {
            frames.widen();
        }
        SampleBatch {
            frames,
            scratch: Vec::new(),
            ends: Vec::new(),
            values: Vec::new(),
            cut: 0,
            before,
            width: self.profile.header.sample_types.len(),
            limits: self.limits,
            interned: self.profile.frames.len(),
        }
    }

    /// Appends a batch's samples after those pushed so far.
    pub(crate) fn append(&mut self, batch: SampleBatch) -> Result<(), Error> {
        let p = &mut self.profile;
        debug_assert_eq!(p.stack_ends.len(), batch.before, "batches append in order");
        let base = p.stack_frames.len();
        let max_frames = self.limits.max_frames.min(MAX_FRAMES);
        if base + batch.frames.len() > max_frames {
            return Err(frames_limit(max_frames));
        }
        if p.stack_ends.len() + batch.ends.len() > self.limits.max_samples {
            return Err(samples_limit(self.limits.max_samples));
        }
        p.stack_frames.append(&batch.frames);
        p.stack_ends.extend(batch.ends.iter().map(|e| e + base));
        p.values.extend_from_slice(&batch.values);
        self.cut.0 += batch.cut;
        Ok(())
    }

    /// The finished profile.
    pub fn finish(mut self) -> Profile {
        let (stacks, strings) = self.cut;
        if stacks > 0 {
            self.profile.warnings.push(format!(
                "{stacks} stack{} deeper than {} frames lost {} outermost callers (--max-depth)",
                if stacks == 1 { "" } else { "s" },
                self.limits.max_depth,
                if stacks == 1 { "its" } else { "their" }
            ));
        }
        if strings > 0 {
            self.profile.warnings.push(format!(
                "{strings} name{} longer than {} bytes cut",
                if strings == 1 { "" } else { "s" },
                self.limits.max_string
            ));
        }
        self.profile
    }
}

/// Samples decoded apart from their [`ProfileBuilder`] (see
/// [`ProfileBuilder::batch`]), with the same checks.
#[derive(Debug)]
pub(crate) struct SampleBatch {
    frames: FrameStore,
    scratch: Vec<FrameId>,
    /// Each stack's end in `frames`.
    ends: Vec<usize>,
    values: Vec<i64>,
    /// Stacks cut at `max_depth`.
    cut: usize,
    /// Samples before the batch's first, for error messages and limits.
    before: usize,
    width: usize,
    limits: Limits,
    /// Frames the builder had interned when the batch was made.
    interned: usize,
}

impl SampleBatch {
    /// Like [`ProfileBuilder::push_sample_with`] (the decoders write theirs).
    #[cfg(test)]
    pub(crate) fn push_sample_with(
        &mut self,
        values: &[i64],
        fill: impl FnOnce(&mut Vec<FrameId>),
    ) -> Result<(), Error> {
        self.samples().push_with(values, fill)
    }

    /// Like [`ProfileBuilder::push_sample_written`]; the batch's frames
    /// are those the builder had interned when the batch was made.
    pub(crate) fn push_sample_written(
        &mut self,
        values: &[i64],
        writer: impl StackWriter,
    ) -> Result<(), Error> {
        if self.interned > NARROW_FRAMES {
            self.frames.widen();
        }
        self.samples().push_written(values, writer)
    }

    /// Where this batch's samples go.
    fn samples(&mut self) -> Samples<'_> {
        Samples {
            frames: &mut self.frames,
            scratch: &mut self.scratch,
            ends: &mut self.ends,
            values: &mut self.values,
            cut: &mut self.cut,
            before: self.before,
            width: self.width,
            limits: &self.limits,
        }
    }

    /// How many stack frames the batch holds.
    pub(crate) fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// How many samples the batch holds.
    pub(crate) fn sample_count(&self) -> usize {
        self.ends.len()
    }

    /// Reserves room for `samples` more samples with `frames` stack frames in all.
    pub(crate) fn reserve(&mut self, samples: usize, frames: usize) {
        self.ends.reserve(samples);
        self.values.reserve(samples.saturating_mul(self.width));
        self.frames.reserve(frames);
    }
}

/// Where samples go: a builder's profile or a batch.
struct Samples<'a> {
    frames: &'a mut FrameStore,
    scratch: &'a mut Vec<FrameId>,
    ends: &'a mut Vec<usize>,
    values: &'a mut Vec<i64>,
    /// Stacks cut at `max_depth`.
    cut: &'a mut usize,
    /// Samples held elsewhere before these (for error messages and limits).
    before: usize,
    /// Values per sample.
    width: usize,
    limits: &'a Limits,
}

impl Samples<'_> {
    /// Appends one sample, as [`ProfileBuilder::push_sample_with`]
    /// documents.
    fn push_with(self, values: &[i64], fill: impl FnOnce(&mut Vec<FrameId>)) -> Result<(), Error> {
        self.check(values)?;
        if let FrameStore::Wide(frames) = self.frames {
            let start = frames.len();
            fill(frames);
            cut_stack(frames, start, self.limits, self.cut);
        } else {
            self.scratch.clear();
            fill(self.scratch);
            cut_stack(self.scratch, 0, self.limits, self.cut);
            self.frames.extend(self.scratch);
        }
        self.end(values)
    }

    /// [`Self::push_with`] with a [`StackWriter`] writing at the store's
    /// width; the caller has widened the store if an interned frame needs it.
    fn push_written(self, values: &[i64], writer: impl StackWriter) -> Result<(), Error> {
        self.check(values)?;
        match self.frames {
            FrameStore::Narrow(frames) => {
                let start = frames.len();
                writer.write(frames)?;
                cut_stack(frames, start, self.limits, self.cut);
            }
            FrameStore::Wide(frames) => {
                let start = frames.len();
                writer.write(frames)?;
                cut_stack(frames, start, self.limits, self.cut);
            }
        }
        self.end(values)
    }

    /// The checks before a sample is pushed: its number of values, and the
    /// samples limit.
    fn check(&self, values: &[i64]) -> Result<(), Error> {
        let sample = self.before + self.ends.len();
        if values.len() != self.width {
            return Err(Error::ValueCount {
                sample,
                got: values.len(),
                want: self.width,
            });
        }
        if sample >= self.limits.max_samples {
            return Err(samples_limit(self.limits.max_samples));
        }
        Ok(())
    }

    /// Ends a sample whose frames are written: the frames limit, its end
    /// and its values.
    fn end(self, values: &[i64]) -> Result<(), Error> {
        let max_frames = self.limits.max_frames.min(MAX_FRAMES);
        if self.frames.len() > max_frames {
            return Err(frames_limit(max_frames));
        }
        self.ends.push(self.frames.len());
        self.values.extend_from_slice(values);
        Ok(())
    }
}

/// Leaf first: beyond `max_depth`, the stack written from `start` on loses
/// its outermost callers.
fn cut_stack<T>(frames: &mut Vec<T>, start: usize, limits: &Limits, cut: &mut usize) {
    if frames.len() - start > limits.max_depth {
        frames.truncate(start + limits.max_depth);
        *cut += 1;
    }
}

fn samples_limit(limit: usize) -> Error {
    Error::Limit {
        what: "samples",
        limit,
        flag: "--max-samples",
    }
}

fn frames_limit(limit: usize) -> Error {
    Error::Limit {
        what: "frames in all stacks",
        limit,
        flag: "--max-frames",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_bound_samples_frames_depth_and_names() {
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("x", "count")]);
        b.set_limits(Limits {
            max_samples: 3,
            max_frames: 10,
            max_depth: 4,
            max_string: 8,
        });
        let long = b.intern("a_function_name_longer_than_eight");
        assert_eq!(b.str(long), "a_functi…");
        let f = b.frame(Frame::symbolized(long, StrId::EMPTY, 1));
        b.push_sample(&[f; 6], &[1]).unwrap();
        b.push_sample(&[f; 4], &[1]).unwrap();
        let err = b.push_sample(&[f; 4], &[1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "more than 10 frames in all stacks; raise the limit with --max-frames"
        );
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("x", "count")]);
        b.set_limits(Limits {
            max_samples: 1,
            ..Limits::default()
        });
        b.push_sample(&[], &[1]).unwrap();
        assert!(
            b.push_sample(&[], &[1])
                .unwrap_err()
                .to_string()
                .contains("--max-samples")
        );
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("x", "count")]);
        b.set_limits(Limits {
            max_depth: 2,
            ..Limits::default()
        });
        let (g, h) = (b.intern("g"), b.intern("h"));
        let (g, h) = (
            b.frame(Frame::symbolized(g, StrId::EMPTY, 1)),
            b.frame(Frame::symbolized(h, StrId::EMPTY, 1)),
        );
        b.push_sample(&[g, h, h, h], &[1]).unwrap();
        let p = b.finish();
        assert_eq!(
            p.samples().next().unwrap().stack.to_vec(),
            [g, h],
            "the leaf end is kept"
        );
        assert_eq!(
            p.warnings,
            ["1 stack deeper than 2 frames lost its outermost callers (--max-depth)"]
        );
    }

    /// A builder with `n` distinct frames.
    fn with_frames(n: u32) -> (ProfileBuilder, Vec<FrameId>) {
        let mut b = ProfileBuilder::new(Format::Pprof, vec![ValueType::new("space", "bytes")]);
        let (f, file) = (b.intern("f"), b.intern("f.c"));
        let ids = (0..n)
            .map(|line| b.frame(Frame::symbolized(f, file, line + 1)))
            .collect();
        (b, ids)
    }

    #[test]
    fn stacks_take_two_bytes_a_frame_until_a_frame_needs_more() {
        let (mut b, ids) = with_frames(70_000);
        let low = [ids[3], ids[65_535], ids[0]];
        let high = [ids[1], ids[69_999], ids[65_536]];
        b.push_sample(&low, &[1]).unwrap();
        assert!(matches!(b.profile.stack_frames, FrameStore::Narrow(_)));
        b.push_sample(&high, &[2]).unwrap();
        b.push_sample(&low, &[3]).unwrap();
        let p = b.finish();
        assert!(matches!(p.stack_frames(), Frames::Wide(_)));
        let stacks: Vec<Vec<FrameId>> = p.samples().map(|s| s.stack.to_vec()).collect();
        assert_eq!(stacks, [low.to_vec(), high.to_vec(), low.to_vec()]);
        assert_eq!(p.stack_frames().len(), 9);
    }

    #[test]
    fn a_builder_told_of_many_frames_starts_wide() {
        let (mut b, ids) = with_frames(65_537);
        b.reserve(1, 2);
        assert!(matches!(b.profile.stack_frames, FrameStore::Wide(_)));
        assert!(matches!(b.batch(0).frames, FrameStore::Wide(_)));
        b.push_sample(&[ids[2], ids[1]], &[1]).unwrap();
        let p = b.finish();
        assert_eq!(p.samples().next().unwrap().stack.to_vec(), [ids[2], ids[1]]);
    }

    #[test]
    fn batches_of_either_width_append_in_order() {
        for (first_high, second_high) in [(false, true), (true, false), (false, false)] {
            let (mut b, ids) = with_frames(70_000);
            let stack = |high: bool| {
                if high {
                    [ids[69_000], ids[7]]
                } else {
                    [ids[5], ids[7]]
                }
            };
            b.push_sample(&stack(first_high), &[1]).unwrap();
            let mut batch = b.batch(1);
            batch
                .push_sample_with(&[2], |out| out.extend_from_slice(&stack(second_high)))
                .unwrap();
            b.append(batch).unwrap();
            let p = b.finish();
            let stacks: Vec<Vec<FrameId>> = p.samples().map(|s| s.stack.to_vec()).collect();
            assert_eq!(
                stacks,
                [stack(first_high).to_vec(), stack(second_high).to_vec()],
                "{first_high} {second_high}"
            );
            let narrow = matches!(p.stack_frames(), Frames::Narrow(_));
            assert_eq!(narrow, !first_high && !second_high);
        }
    }

    /// Writes the given frames.
    struct Writes<'a>(&'a [FrameId]);

    impl StackWriter for Writes<'_> {
        fn write<F: StackFrame>(self, frames: &mut Vec<F>) -> Result<(), Error> {
            frames.extend(self.0.iter().map(|&f| F::of(f)));
            Ok(())
        }
    }

    #[test]
    fn written_stacks_are_stored_at_the_width_the_frames_allow() {
        for interned in [3, 65_536, 65_537] {
            let (mut b, ids) = with_frames(interned);
            let stack = [ids[interned as usize - 1], ids[0], ids[1]];
            b.push_sample_written(&[1], Writes(&stack)).unwrap();
            let mut batch = b.batch(1);
            batch
                .push_sample_written(&[2], Writes(&stack[1..]))
                .unwrap();
            b.append(batch).unwrap();
            let p = b.finish();
            assert_eq!(
                matches!(p.stack_frames(), Frames::Narrow(_)),
                interned <= 65_536,
                "{interned}"
            );
            let stacks: Vec<Vec<FrameId>> = p.samples().map(|s| s.stack.to_vec()).collect();
            assert_eq!(stacks, [stack.to_vec(), stack[1..].to_vec()], "{interned}");
        }
    }

    #[test]
    fn written_stacks_are_cut_and_checked_like_filled_ones() {
        let (mut b, ids) = with_frames(4);
        b.set_limits(Limits {
            max_depth: 2,
            ..Limits::default()
        });
        b.push_sample_written(&[1], Writes(&ids[..3])).unwrap();
        let wrong = b.push_sample_written(&[1, 2], Writes(&ids[..1]));
        assert!(matches!(wrong, Err(Error::ValueCount { sample: 1, .. })));
        struct Fails;
        impl StackWriter for Fails {
            fn write<F: StackFrame>(self, _: &mut Vec<F>) -> Result<(), Error> {
                Err(Error::Empty)
            }
        }
        assert!(matches!(
            b.push_sample_written(&[1], Fails),
            Err(Error::Empty)
        ));
        let p = b.finish();
        assert_eq!(p.sample_count(), 1);
        assert_eq!(
            p.samples().next().unwrap().stack.to_vec(),
            ids[..2].to_vec()
        );
        assert!(
            p.warnings.iter().any(|w| w.contains("--max-depth")),
            "{:?}",
            p.warnings
        );
    }
}
