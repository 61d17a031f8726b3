//! A purpose-built unpickler for the opcode subset `tracemalloc` snapshots
//! use.
//!
//! A pickle is a program for a small stack machine, and Python's own
//! unpickler runs whatever it says, importing modules and calling functions.
//! This one runs none of that: it builds plain values (integers, strings,
//! tuples, lists, dicts) and opaque objects of exactly two classes,
//! `tracemalloc.Snapshot` and `tracemalloc._Traces`, created empty and given
//! their state by `BUILD`. Anything else (another class, `REDUCE`, an
//! extension code, a persistent id) is refused with the offset of the
//! offending opcode.
//!
//! Values live in arenas and refer to each other by index, so that shared
//! references (tracebacks are shared through the memo) cost nothing, cycles
//! are harmless and nothing is dropped recursively, however deep a hostile
//! pickle nests its tuples.

use std::io::Read;

use rustc_hash::FxHashMap;

use crate::decode::lines::LineReader;
use crate::error::Error;

/// A class a snapshot pickle may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// `tracemalloc.Snapshot`.
    Snapshot,
    /// `tracemalloc._Traces`.
    Traces,
}

impl Class {
    fn from_names(module: &str, name: &str) -> Option<Class> {
        match (module, name) {
            ("tracemalloc", "Snapshot") => Some(Class::Snapshot),
            ("tracemalloc", "_Traces") => Some(Class::Traces),
            _ => None,
        }
    }
}

/// A value on the unpickler's stack. Containers are indices into the
/// [`Arena`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(u32),
    Tuple(u32),
    List(u32),
    Dict(u32),
    Class(Class),
    Object(u32),
    /// A `(str, int)` 2-tuple whose int fits 32 bits, stored inline: what
    /// a traceback frame `(filename, lineno)` is, ten million times over in
    /// a big snapshot.
    Pair(u32, u32),
    /// A trace tuple built inside a list's `APPENDS` batch, waiting on the
    /// stack to be counted into the list (see [`List`]).
    Trace(u32),
    /// The memo's record of a trace that was counted, not kept: a snapshot
    /// never refers to a trace twice.
    Counted,
}

impl Value {
    /// What the value is, for error messages.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an int",
            Value::Float(_) => "a float",
            Value::Str(_) => "a str",
            Value::Tuple(_) => "a tuple",
            Value::List(_) => "a list",
            Value::Dict(_) => "a dict",
            Value::Class(_) => "a class",
            Value::Object(_) => "an object",
            Value::Pair(..) => "a (str, int) tuple",
            Value::Trace(_) | Value::Counted => "a trace tuple",
        }
    }
}

/// An object made by `NEWOBJ`: its class and the state `BUILD` gave it.
#[derive(Debug)]
pub(crate) struct Object {
    pub(crate) class: Class,
    pub(crate) state: Option<Value>,
}

/// Everything a pickle built.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    strings: Vec<Box<str>>,
    tuple_items: Vec<Value>,
    /// The items of the tuples made only of inline pairs (tracebacks: a
    /// big snapshot's tens of millions of frames), half the size of values.
    pair_items: Vec<(u32, u32)>,
    tuples: Vec<Span>,
    lists: Vec<List>,
    dicts: Vec<Vec<(Value, Value)>>,
    objects: Vec<Object>,
}

impl Arena {
    pub(crate) fn str(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    pub(crate) fn tuple(&self, id: u32) -> Items<'_> {
        let Span { start, end, pairs } = self.tuples[id as usize];
        let range = start as usize..end as usize;
        if pairs {
            Items::Pairs(&self.pair_items[range])
        } else {
            Items::Values(&self.tuple_items[range])
        }
    }

    /// How many tuples there are (ids are below).
    pub(crate) fn tuple_count(&self) -> usize {
        self.tuples.len()
    }

    pub(crate) fn list(&self, id: u32) -> &List {
        &self.lists[id as usize]
    }

    pub(crate) fn dict(&self, id: u32) -> &[(Value, Value)] {
        &self.dicts[id as usize]
    }

    pub(crate) fn object(&self, id: u32) -> &Object {
        &self.objects[id as usize]
    }

    /// The value of the `key` entry of a dict, if the dict has one.
    pub(crate) fn dict_get(&self, id: u32, key: &str) -> Option<Value> {
        self.dict(id)
            .iter()
            .find(|(k, _)| matches!(k, Value::Str(s) if self.str(*s) == key))
            .map(|&(_, v)| v)
    }

    fn push_tuple(&mut self, items: &[Value]) -> Value {
        let start = index(self.tuple_items.len());
        self.tuple_items.extend_from_slice(items);
        let end = index(self.tuple_items.len());
        self.push_span(start, end, false)
    }

    /// Pushes a tuple of inline pairs, if `items` are all (and at least
    /// one) pairs.
    fn push_pairs(&mut self, items: &[Value]) -> Option<Value> {
        if items.is_empty() || !items.iter().all(|v| matches!(v, Value::Pair(..))) {
            return None;
        }
        let start = index(self.pair_items.len());
        self.pair_items.extend(items.iter().map(|v| match *v {
            Value::Pair(name, line) => (name, line),
            _ => unreachable!("checked: every item is a pair"),
        }));
        let end = index(self.pair_items.len());
        Some(self.push_span(start, end, true))
    }

    fn push_span(&mut self, start: u32, end: u32, pairs: bool) -> Value {
        let id = index(self.tuples.len());
        self.tuples.push(Span { start, end, pairs });
        Value::Tuple(id)
    }
}

/// Where a tuple's items are: `tuple_items[start..end]`, or
/// `pair_items[start..end]` for a tuple of pairs.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    end: u32,
    pairs: bool,
}

/// A tuple's items, as [`Arena::tuple`] gives them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Items<'a> {
    Values(&'a [Value]),
    /// A tuple made only of `(str, int)` pairs, as `(string id, int)`.
    Pairs(&'a [(u32, u32)]),
}

impl Items<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Items::Values(v) => v.len(),
            Items::Pairs(p) => p.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items as values.
    pub(crate) fn to_vec(self) -> Vec<Value> {
        match self {
            Items::Values(v) => v.to_vec(),
            Items::Pairs(p) => p.iter().map(|&(s, l)| Value::Pair(s, l)).collect(),
        }
    }
}

/// A list. Items that are tracemalloc traces, `(domain, size, frames[,
/// total_nframe])` with int fields, a size of at least 0 and a tuple of
/// frames, are not kept but counted as they are appended, by `(domain,
/// frames)`: a snapshot of millions of traces then costs its distinct
/// tracebacks. Every other item is kept with its position.
#[derive(Debug, Default)]
pub(crate) struct List {
    /// The items kept, and the position of each in the list.
    pub(crate) items: Vec<Value>,
    pub(crate) positions: Vec<usize>,
    /// Items appended in all, counted or kept.
    pub(crate) len: usize,
    /// The traces by `(domain, frames)`, in order of first appearance.
    pub(crate) traces: Vec<TraceGroup>,
    /// The group of each traceback tuple's domain-0 traces (`u32::MAX`:
    /// none yet), and of other domains' traces.
    by_frames: Vec<u32>,
    group_of: FxHashMap<(i64, u32), u32>,
    /// Traces whose `total_nframe` exceeds their frames (cut stacks).
    pub(crate) truncated: usize,
}

/// The traces of a list that share a domain and a traceback tuple.
#[derive(Debug)]
pub(crate) struct TraceGroup {
    pub(crate) domain: i64,
    /// The traceback tuple.
    pub(crate) frames: u32,
    pub(crate) count: i64,
    /// Their sizes summed (saturating).
    pub(crate) size: i64,
}

/// An int field of a trace (`True` and `False` are ints to Python).
fn trace_int(v: Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i),
        Value::Bool(b) => Some(i64::from(b)),
        _ => None,
    }
}

/// Whether `items` make a trace tuple [`List`] counts.
fn is_trace(items: &[Value]) -> bool {
    let total_ok = match items.get(3) {
        None => true,
        Some(&v) => trace_int(v).is_some(),
    };
    (3..=4).contains(&items.len())
        && trace_int(items[0]).is_some()
        && trace_int(items[1]).is_some_and(|s| s >= 0)
        && matches!(items[2], Value::Tuple(_))
        && total_ok
}

impl List {
    /// Counts one trace (fields as [`is_trace`] accepts), whose traceback
    /// tuple holds `depth` frames.
    fn count(&mut self, fields: &[Value], depth: usize) {
        let (Some(domain), Some(size), Value::Tuple(frames)) =
            (trace_int(fields[0]), trace_int(fields[1]), fields[2])
        else {
            unreachable!("is_trace checked the fields");
        };
        let next = self.traces.len() as u32;
        // Python's own memory (domain 0) is nearly every trace: its groups
        // are found by the traceback tuple's index, without hashing.
        let slot = if domain == 0 {
            let i = frames as usize;
            if i >= self.by_frames.len() {
                self.by_frames
                    .resize((i + 1).max(2 * self.by_frames.len()), u32::MAX);
            }
            &mut self.by_frames[i]
        } else {
            self.group_of.entry((domain, frames)).or_insert(u32::MAX)
        };
        if *slot == u32::MAX {
            *slot = next;
        }
        let g = *slot;
        if g == next {
            self.traces.push(TraceGroup {
                domain,
                frames,
                count: 0,
                size: 0,
            });
        }
        let group = &mut self.traces[g as usize];
        group.count += 1;
        group.size = group.size.saturating_add(size);
        if let Some(total) = fields.get(3).and_then(|&t| trace_int(t))
            && usize::try_from(total).is_ok_and(|n| n > depth)
        {
            self.truncated += 1;
        }
    }
}

#[cfg(test)]
thread_local! {
    /// How many traces and frames this thread read in one step, for tests
    /// to see that the quick paths are taken.
    static READ_AT_ONCE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts a trace or frame read in one step (in tests).
fn read_at_once() {
    #[cfg(test)]
    READ_AT_ONCE.with(|c| c.set(c.get() + 1));
}

fn index(n: usize) -> u32 {
    // A pickle of more than 4 billion values would not fit in memory: the
    // input is read whole, and every value needs at least one byte of it.
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Runs a pickle held in memory and returns the arena and the value it
/// produced.
#[cfg(test)]
pub(crate) fn load(bytes: &[u8]) -> Result<(Arena, Value), Error> {
    load_from(&mut LineReader::new(Vec::new(), bytes, u64::MAX, None))
}

/// Runs a pickle as it is read from `input`: the input is never held whole
/// (what the pickle builds is).
pub(crate) fn load_from<R: Read>(input: &mut LineReader<R>) -> Result<(Arena, Value), Error> {
    Machine {
        input,
        arena: Arena::default(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Memo::default(),
        strings: FxHashMap::default(),
        pending: Vec::new(),
        trace_floor: usize::MAX,
    }
    .run()
}

/// The memo: the values the pickle asked to keep, by slot. CPython's
/// pickler memoizes every tuple, so a big snapshot's memo holds each of its
/// tens of millions of traceback frames, `(str, int)` pairs: a slot is 8
/// bytes (half a [`Value`]) with a pair, a string, a tuple, a counted trace
/// or a 32-bit int packed into it, and any other value is kept aside. This
/// halves the memo's memory and the pages the kernel must clear for it.
#[derive(Debug, Default)]
struct Memo {
    slots: Vec<u64>,
    others: Vec<Value>,
}

/// A [`Memo`] slot holding a [`Value::Pair`]: the string's id in bits 32
/// to 62, the line below. Otherwise the kind is in bits 56 to 62
/// ([`Memo::STR`] …) and the id, int or index of the value kept aside
/// below.
const MEMO_PAIR: u64 = 1 << 63;
const MEMO_LOW: u64 = (1 << 56) - 1;

impl Memo {
    const OTHER: u64 = 0;
    const STR: u64 = 1;
    const TUPLE: u64 = 2;
    const COUNTED: u64 = 3;
    const INT: u64 = 4;

    fn len(&self) -> usize {
        self.slots.len()
    }

    fn pack(&mut self, v: Value) -> u64 {
        let kind = |k: u64, id: u32| k << 56 | u64::from(id);
        match v {
            Value::Pair(name, line) if name < 1 << 31 => {
                MEMO_PAIR | u64::from(name) << 32 | u64::from(line)
            }
            Value::Str(id) => kind(Memo::STR, id),
            Value::Tuple(id) => kind(Memo::TUPLE, id),
            Value::Counted => kind(Memo::COUNTED, 0),
            Value::Int(i) if i32::try_from(i).is_ok() => kind(Memo::INT, i as i32 as u32),
            v => {
                self.others.push(v);
                Memo::OTHER << 56 | (self.others.len() - 1) as u64 & MEMO_LOW
            }
        }
    }

    fn push(&mut self, v: Value) {
        let packed = self.pack(v);
        self.slots.push(packed);
    }

    /// Replaces slot `slot` (which exists).
    fn set(&mut self, slot: usize, v: Value) {
        self.slots[slot] = self.pack(v);
    }

    fn get(&self, slot: usize) -> Option<Value> {
        let s = *self.slots.get(slot)?;
        if s & MEMO_PAIR != 0 {
            return Some(Value::Pair((s >> 32) as u32 & 0x7FFF_FFFF, s as u32));
        }
        Some(match s >> 56 {
            Memo::STR => Value::Str(s as u32),
            Memo::TUPLE => Value::Tuple(s as u32),
            Memo::COUNTED => Value::Counted,
            Memo::INT => Value::Int(i64::from(s as u32 as i32)),
            _ => self.others[(s & MEMO_LOW) as usize],
        })
    }
}

struct Machine<'r, R> {
    input: &'r mut LineReader<R>,
    arena: Arena,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Memo,
    /// Each distinct string's id, by its bytes.
    strings: FxHashMap<Box<[u8]>, u32>,
    /// The fields of the traces on the stack ([`Value::Trace`] indexes
    /// them), and the lowest stack position holding one: the traces of an
    /// `APPENDS` batch live here until it is counted.
    pending: Vec<([Value; 4], u8)>,
    trace_floor: usize,
}

fn fail(at: usize, message: impl Into<String>) -> Error {
    Error::Pickle {
        offset: at,
        message: message.into(),
    }
}

/// The name of an opcode Python's `pickletools` would print, for refusals.
fn opcode_name(op: u8) -> Option<&'static str> {
    Some(match op {
        b'R' => "REDUCE",
        b'i' => "INST",
        b'o' => "OBJ",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x92 => "NEWOBJ_EX",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x8e => "BINBYTES8",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        b'I' => "INT",
        b'L' => "LONG",
        b'F' => "FLOAT",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'p' => "PUT",
        b'g' => "GET",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'd' => "DICT",
        b'l' => "LIST",
        _ => return None,
    })
}

impl<R: Read> Machine<'_, R> {
    fn fail(&self, at: usize, message: impl Into<String>) -> Error {
        fail(at, message)
    }

    /// The next `n` bytes of an opcode's argument.
    #[inline]
    fn take(&mut self, n: usize, at: usize) -> Result<&[u8], Error> {
        self.input
            .bytes(n)?
            .ok_or_else(|| fail(at, "the pickle ends in the middle of an opcode"))
    }

    #[inline]
    fn u8(&mut self, at: usize) -> Result<u8, Error> {
        Ok(self.take(1, at)?[0])
    }

    #[inline]
    fn le<const N: usize>(&mut self, at: usize) -> Result<[u8; N], Error> {
        let s = self.take(N, at)?;
        Ok(s.try_into().expect("take returned N bytes"))
    }

    /// A trace as CPython writes it inside a list's `APPENDS` batch, read
    /// in one step right after its `MARK`: `(domain size frames total t`
    /// with the ints in `BININT1`/`BININT2`/`BININT`, the frames fetched
    /// from the memo, then `MEMOIZE`. What this leaves on the stack and in
    /// the memo is what the opcodes one by one would leave (a pending
    /// trace, a counted slot); anything else (another opcode, a negative
    /// size, frames that are not a tuple, the end of the input) returns
    /// false having taken nothing, and the opcodes run one by one.
    fn trace_at_once(&mut self) -> Result<bool, Error> {
        let in_batch = self
            .marks
            .last()
            .is_some_and(|&m| m > 0 && matches!(self.stack[m - 1], Value::List(_)));
        if !in_batch {
            return Ok(false);
        }
        // At most 4 × 5 bytes of arguments, TUPLE and MEMOIZE.
        let b = self.input.peek(22)?;
        let Some((domain, i)) = small_int(b, 0) else {
            return Ok(false);
        };
        let Some((size, i)) = small_int(b, i).filter(|&(s, _)| s >= 0) else {
            return Ok(false);
        };
        let Some((slot, i)) = memo_slot(b, i) else {
            return Ok(false);
        };
        let Some(frames @ Value::Tuple(_)) = self.memo.get(slot) else {
            return Ok(false);
        };
        let Some((total, i)) = small_int(b, i) else {
            return Ok(false);
        };
        if b.get(i) != Some(&b't') {
            return Ok(false);
        }
        let memoize = b.get(i + 1) == Some(&0x94);
        self.input.skip(i + 1 + usize::from(memoize));
        let id = index(self.pending.len());
        let fields = [
            Value::Int(domain),
            Value::Int(size),
            frames,
            Value::Int(total),
        ];
        self.pending.push((fields, 4));
        read_at_once();
        self.trace_floor = self.trace_floor.min(self.stack.len());
        self.stack.push(Value::Trace(id));
        if memoize {
            self.memo.push(Value::Counted);
        }
        Ok(true)
    }

    /// A traceback frame as CPython writes it once its file name is in the
    /// memo, read in one step after the `BINGET` of the name: `lineno
    /// TUPLE2 MEMOIZE`, the line a `BININT1`/`BININT2`/`BININT` of at least
    /// 0. Leaves what the opcodes one by one would (an inline pair, on the
    /// stack and in the memo); anything else returns false having taken
    /// nothing.
    fn pair_at_once(&mut self, slot: u64) -> Result<bool, Error> {
        let Some(Value::Str(name)) = usize::try_from(slot).ok().and_then(|s| self.memo.get(s))
        else {
            return Ok(false);
        };
        let b = self.input.peek(7)?;
        let Some((line, i)) = small_int(b, 0).filter(|&(l, _)| l >= 0) else {
            return Ok(false);
        };
        if b.get(i) != Some(&0x86) {
            return Ok(false);
        }
        let memoize = b.get(i + 1) == Some(&0x94);
        self.input.skip(i + 1 + usize::from(memoize));
        let pair = Value::Pair(name, line as u32);
        read_at_once();
        self.stack.push(pair);
        if memoize {
            self.memo.push(pair);
        }
        Ok(true)
    }

    /// Replaces `stack[from..]` by the tuple of its values: a pending trace
    /// when it is one built inside a list's `APPENDS` batch, an inline pair
    /// for a `(str, int)` 2-tuple, an arena tuple otherwise.
    fn make_tuple(&mut self, from: usize) {
        let items = &self.stack[from..];
        let in_batch = self
            .marks
            .last()
            .is_some_and(|&m| m > 0 && matches!(self.stack[m - 1], Value::List(_)));
        let v = match *items {
            [Value::Str(s), Value::Int(i)] if u32::try_from(i).is_ok() => Value::Pair(s, i as u32),
            _ if in_batch && is_trace(items) => {
                let mut fields = [Value::None; 4];
                fields[..items.len()].copy_from_slice(items);
                let id = index(self.pending.len());
                self.pending.push((fields, items.len() as u8));
                self.trace_floor = self.trace_floor.min(from);
                Value::Trace(id)
            }
            _ => match self.arena.push_pairs(items) {
                Some(v) => v,
                None => {
                    self.settle(from);
                    self.arena.push_tuple(&self.stack[from..])
                }
            },
        };
        self.stack.truncate(from);
        self.stack.push(v);
    }

    /// A value about to be stored somewhere other than a list: a pending
    /// trace becomes an arena tuple.
    fn solid(&mut self, v: Value) -> Value {
        match v {
            Value::Trace(p) => {
                let (fields, len) = self.pending[p as usize];
                self.arena.push_tuple(&fields[..usize::from(len)])
            }
            v => v,
        }
    }

    fn settle(&mut self, from: usize) {
        for i in from..self.stack.len() {
            self.stack[i] = self.solid(self.stack[i]);
        }
    }

    /// Appends `stack[from..]` to list `id` (counting its traces) and
    /// drops them from the stack.
    fn append(&mut self, id: u32, from: usize) {
        for k in from..self.stack.len() {
            let v = self.stack[k];
            let fields: Option<([Value; 4], usize)> = match v {
                Value::Trace(p) => {
                    let (f, len) = self.pending[p as usize];
                    Some((f, usize::from(len)))
                }
                Value::Tuple(t) => match self.arena.tuple(t) {
                    Items::Values(items) if is_trace(items) => {
                        let mut f = [Value::None; 4];
                        f[..items.len()].copy_from_slice(items);
                        Some((f, items.len()))
                    }
                    _ => None,
                },
                _ => None,
            };
            let depth = match fields {
                Some((f, _)) => match f[2] {
                    Value::Tuple(frames) => self.arena.tuple(frames).len(),
                    _ => 0,
                },
                None => 0,
            };
            let list = &mut self.arena.lists[id as usize];
            match fields {
                Some((f, len)) => list.count(&f[..len], depth),
                None => {
                    list.items.push(v);
                    list.positions.push(list.len);
                }
            }
            list.len += 1;
        }
        self.stack.truncate(from);
        if self.stack.len() <= self.trace_floor {
            // No trace is left on the stack: their fields are spent.
            self.pending.clear();
            self.trace_floor = usize::MAX;
        }
    }

    fn pop(&mut self, at: usize) -> Result<Value, Error> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.fail(at, "an opcode pops from an empty stack"));
        }
        Ok(self.stack.pop().expect("checked non-empty"))
    }

    fn top(&self, at: usize) -> Result<Value, Error> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.fail(at, "an opcode reads an empty stack"));
        }
        Ok(*self.stack.last().expect("checked non-empty"))
    }

    /// Pops the last mark and returns where it was: the values above it
    /// are `stack[mark..]`, for the caller to use and truncate.
    fn pop_mark(&mut self, at: usize) -> Result<usize, Error> {
        self.marks
            .pop()
            .ok_or_else(|| self.fail(at, "an opcode needs a MARK but there is none"))
    }

    fn push_str(&mut self, len: u64, at: usize) -> Result<(), Error> {
        let bytes = take_len(self.input, len, at)?;
        // Equal strings are one string: a file name written a million times
        // is stored, converted and later interned once.
        let id = match self.strings.get(bytes) {
            Some(&id) => id,
            None => {
                // CPython writes UTF-8 with `surrogatepass`; a lone surrogate
                // in a file name is replaced rather than refused.
                let strings = &mut self.arena.strings;
                strings.push(String::from_utf8_lossy(bytes).into());
                let id = index(strings.len() - 1);
                self.strings.insert(Box::from(bytes), id);
                id
            }
        };
        self.stack.push(Value::Str(id));
        Ok(())
    }

    fn global(&mut self, module: &str, name: &str, at: usize) -> Result<(), Error> {
        match Class::from_names(module, name) {
            Some(class) => {
                self.stack.push(Value::Class(class));
                Ok(())
            }
            None => Err(self.fail(
                at,
                format!(
                    "the pickle names {module}.{name}; a tracemalloc snapshot names only \
                     tracemalloc.Snapshot and tracemalloc._Traces, and heapdiff never loads anything else"
                ),
            )),
        }
    }

    #[inline]
    fn memo_put(&mut self, slot: u64, at: usize) -> Result<(), Error> {
        let value = match self.top(at)? {
            Value::Trace(_) => Value::Counted,
            v => v,
        };
        let len = self.memo.len() as u64;
        if slot < len {
            self.memo.set(slot as usize, value);
        } else if slot == len {
            self.memo.push(value);
        } else {
            return Err(self.fail(at, format!("memo slot {slot} is stored before slot {len}")));
        }
        Ok(())
    }

    #[inline]
    fn memo_get(&mut self, slot: u64, at: usize) -> Result<(), Error> {
        let value = usize::try_from(slot)
            .ok()
            .and_then(|s| self.memo.get(s))
            .ok_or_else(|| self.fail(at, format!("memo slot {slot} was never stored")))?;
        if value == Value::Counted {
            return Err(self.fail(
                at,
                format!(
                    "memo slot {slot} holds a trace that was counted; a tracemalloc snapshot never refers to a trace twice"
                ),
            ));
        }
        self.stack.push(value);
        Ok(())
    }

    fn run(mut self) -> Result<(Arena, Value), Error> {
        loop {
            let at = usize::try_from(self.input.offset()).unwrap_or(usize::MAX);
            let Some(op) = self.input.byte()? else {
                return Err(self.fail(at, "the pickle ends without a STOP opcode (truncated?)"));
            };
            match op {
                0x80 => {
                    let proto = self.u8(at)?;
                    if proto > 5 {
                        return Err(self.fail(at, format!("unknown pickle protocol {proto}")));
                    }
                }
                0x95 => {
                    // FRAME: a length hint for buffered readers.
                    self.le::<8>(at)?;
                }
                b'.' => {
                    let value = self.pop(at)?;
                    let value = self.solid(value);
                    return Ok((self.arena, value));
                }
                b'(' => {
                    if !self.trace_at_once()? {
                        self.marks.push(self.stack.len());
                    }
                }
                b')' => {
                    let v = self.arena.push_tuple(&[]);
                    self.stack.push(v);
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let floor = self.marks.last().copied().unwrap_or(0);
                    if self.stack.len() < floor + n {
                        return Err(
                            self.fail(at, format!("TUPLE{n} needs {n} values on the stack"))
                        );
                    }
                    let from = self.stack.len() - n;
                    self.make_tuple(from);
                }
                b't' => {
                    let mark = self.pop_mark(at)?;
                    self.make_tuple(mark);
                }
                b']' => {
                    let id = index(self.arena.lists.len());
                    self.arena.lists.push(List::default());
                    self.stack.push(Value::List(id));
                }
                b'a' => {
                    let item = self.pop(at)?;
                    let Value::List(id) = self.top(at)? else {
                        return Err(self.fail(at, "APPEND to something that is not a list"));
                    };
                    self.stack.push(item);
                    let from = self.stack.len() - 1;
                    self.append(id, from);
                }
                b'e' => {
                    let mark = self.pop_mark(at)?;
                    let floor = self.marks.last().copied().unwrap_or(0);
                    let target = match mark.checked_sub(1) {
                        Some(i) if i >= floor => self.stack[i],
                        _ => return Err(self.fail(at, "an opcode reads an empty stack")),
                    };
                    let Value::List(id) = target else {
                        return Err(self.fail(at, "APPENDS to something that is not a list"));
                    };
                    self.append(id, mark);
                }
                b'}' => {
                    let id = index(self.arena.dicts.len());
                    self.arena.dicts.push(Vec::new());
                    self.stack.push(Value::Dict(id));
                }
                b's' => {
                    let value = self.pop(at)?;
                    let key = self.pop(at)?;
                    let (key, value) = (self.solid(key), self.solid(value));
                    let Value::Dict(id) = self.top(at)? else {
                        return Err(self.fail(at, "SETITEM on something that is not a dict"));
                    };
                    self.arena.dicts[id as usize].push((key, value));
                }
                b'u' => {
                    let mark = self.pop_mark(at)?;
                    self.settle(mark);
                    let items = self.stack.split_off(mark);
                    if !items.len().is_multiple_of(2) {
                        return Err(self.fail(at, "SETITEMS with an odd number of values"));
                    }
                    let Value::Dict(id) = self.top(at)? else {
                        return Err(self.fail(at, "SETITEMS on something that is not a dict"));
                    };
                    let pairs = items.chunks_exact(2).map(|kv| (kv[0], kv[1]));
                    self.arena.dicts[id as usize].extend(pairs);
                }
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'J' => {
                    let v = i32::from_le_bytes(self.le(at)?);
                    self.stack.push(Value::Int(i64::from(v)));
                }
                b'K' => {
                    let v = self.u8(at)?;
                    self.stack.push(Value::Int(i64::from(v)));
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.le(at)?);
                    self.stack.push(Value::Int(i64::from(v)));
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        u64::from(self.u8(at)?)
                    } else {
                        let n = i32::from_le_bytes(self.le(at)?);
                        u64::try_from(n)
                            .map_err(|_| self.fail(at, "LONG4 with a negative length"))?
                    };
                    let v = int_from_le(take_len(self.input, n, at)?).map_err(|m| fail(at, m))?;
                    self.stack.push(Value::Int(v));
                }
                b'G' => {
                    let v = f64::from_be_bytes(self.le(at)?);
                    self.stack.push(Value::Float(v));
                }
                0x8c => {
                    let n = u64::from(self.u8(at)?);
                    self.push_str(n, at)?;
                }
                b'X' => {
                    let n = u64::from(u32::from_le_bytes(self.le(at)?));
                    self.push_str(n, at)?;
                }
                0x8d => {
                    let n = u64::from_le_bytes(self.le(at)?);
                    self.push_str(n, at)?;
                }
                0x94 => {
                    let slot = self.memo.len() as u64;
                    self.memo_put(slot, at)?;
                }
                b'q' => {
                    let slot = u64::from(self.u8(at)?);
                    self.memo_put(slot, at)?;
                }
                b'r' => {
                    let slot = u64::from(u32::from_le_bytes(self.le(at)?));
                    self.memo_put(slot, at)?;
                }
                b'h' => {
                    let slot = u64::from(self.u8(at)?);
                    if !self.pair_at_once(slot)? {
                        self.memo_get(slot, at)?;
                    }
                }
                b'j' => {
                    let slot = u64::from(u32::from_le_bytes(self.le(at)?));
                    if !self.pair_at_once(slot)? {
                        self.memo_get(slot, at)?;
                    }
                }
                0x93 => {
                    let name = self.pop(at)?;
                    let module = self.pop(at)?;
                    let (Value::Str(m), Value::Str(n)) = (module, name) else {
                        return Err(self.fail(at, "STACK_GLOBAL needs two strings"));
                    };
                    let (m, n) = (self.arena.str(m).to_owned(), self.arena.str(n).to_owned());
                    self.global(&m, &n, at)?;
                }
                b'c' => {
                    let module = self.text_line(at)?;
                    let name = self.text_line(at)?;
                    self.global(&module, &name, at)?;
                }
                0x81 => {
                    let args = self.pop(at)?;
                    let class = self.pop(at)?;
                    let Value::Class(class) = class else {
                        return Err(
                            self.fail(at, format!("NEWOBJ of {}, not a class", class.kind()))
                        );
                    };
                    if !matches!(args, Value::Tuple(t) if self.arena.tuple(t).is_empty()) {
                        return Err(self.fail(
                            at,
                            "NEWOBJ with arguments; snapshot objects are created empty",
                        ));
                    }
                    let id = index(self.arena.objects.len());
                    self.arena.objects.push(Object { class, state: None });
                    self.stack.push(Value::Object(id));
                }
                b'b' => {
                    let state = self.pop(at)?;
                    let state = self.solid(state);
                    let Value::Object(id) = self.top(at)? else {
                        return Err(self.fail(at, "BUILD on something that is not an object"));
                    };
                    let object = &mut self.arena.objects[id as usize];
                    if object.state.is_some() {
                        return Err(self.fail(at, "BUILD on an object twice"));
                    }
                    object.state = Some(state);
                }
                other => {
                    let message = match opcode_name(other) {
                        Some(name) => format!(
                            "opcode {name} (0x{other:02x}) is not allowed: a tracemalloc snapshot never uses it, \
                             and heapdiff does not run pickled code"
                        ),
                        None => format!("unknown opcode 0x{other:02x}"),
                    };
                    return Err(self.fail(at, message));
                }
            }
        }
    }

    /// A newline-terminated ASCII argument (protocol 0 `GLOBAL`).
    fn text_line(&mut self, at: usize) -> Result<String, Error> {
        let mut line = Vec::new();
        loop {
            match self.input.byte()? {
                Some(b'\n') => return Ok(String::from_utf8_lossy(&line).into_owned()),
                Some(b) => line.push(b),
                None => return Err(self.fail(at, "GLOBAL without a newline-terminated name")),
            }
        }
    }
}

/// A `BININT1`, `BININT2` or `BININT` at `b[i]`: its value and where the
/// next opcode starts.
fn small_int(b: &[u8], i: usize) -> Option<(i64, usize)> {
    match *b.get(i..)? {
        [b'K', v, ..] => Some((i64::from(v), i + 2)),
        [b'M', x, y, ..] => Some((i64::from(u16::from_le_bytes([x, y])), i + 3)),
        [b'J', w, x, y, z, ..] => Some((i64::from(i32::from_le_bytes([w, x, y, z])), i + 5)),
        _ => None,
    }
}

/// A `BINGET` or `LONG_BINGET` at `b[i]`: its slot and where the next
/// opcode starts.
fn memo_slot(b: &[u8], i: usize) -> Option<(usize, usize)> {
    match *b.get(i..)? {
        [b'h', s, ..] => Some((usize::from(s), i + 2)),
        [b'j', w, x, y, z, ..] => Some((u32::from_le_bytes([w, x, y, z]) as usize, i + 5)),
        _ => None,
    }
}

/// A little-endian two's complement integer of any width (`LONG1`,
/// `LONG4`).
fn int_from_le(bytes: &[u8]) -> Result<i64, &'static str> {
    if bytes.is_empty() {
        return Ok(0);
    }
    if bytes.len() > 8 {
        // Wider encodings are legal for values that fit, with sign
        // extension bytes; anything else does not fit an i64.
        let (low, high) = bytes.split_at(8);
        let negative = low[7] & 0x80 != 0;
        let fill = if negative { 0xff } else { 0 };
        if high.iter().any(|&b| b != fill) {
            return Err("an integer wider than 64 bits");
        }
        return int_from_le(low);
    }
    let negative = bytes[bytes.len() - 1] & 0x80 != 0;
    let mut buf = if negative { [0xff; 8] } else { [0; 8] };
    buf[..bytes.len()].copy_from_slice(bytes);
    Ok(i64::from_le_bytes(buf))
}

/// The `n` bytes a length field announced.
fn take_len<R: Read>(input: &mut LineReader<R>, n: u64, at: usize) -> Result<&[u8], Error> {
    let len = usize::try_from(n).unwrap_or(usize::MAX);
    if !input.ensure(len)? {
        let remaining = input.buffered();
        return Err(fail(
            at,
            format!("a length of {n} bytes, but only {remaining} remain"),
        ));
    }
    Ok(input.bytes(len)?.expect("buffered"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny pickle writer for tests: opcodes as Python's pickler emits
    /// them.
    #[derive(Default)]
    pub(crate) struct Writer(pub(crate) Vec<u8>);

    impl Writer {
        pub(crate) fn proto(mut self, p: u8) -> Self {
            self.0.extend([0x80, p]);
            self
        }
        pub(crate) fn op(mut self, op: u8) -> Self {
            self.0.push(op);
            self
        }
        pub(crate) fn str(mut self, s: &str) -> Self {
            if s.len() < 256 {
                self.0.push(0x8c);
                self.0.push(s.len() as u8);
            } else {
                self.0.push(b'X');
                self.0.extend((s.len() as u32).to_le_bytes());
            }
            self.0.extend(s.as_bytes());
            self
        }
        pub(crate) fn int(mut self, v: i64) -> Self {
            if (0..256).contains(&v) {
                self.0.extend([b'K', v as u8]);
            } else if (0..65536).contains(&v) {
                self.0.push(b'M');
                self.0.extend((v as u16).to_le_bytes());
            } else if i32::try_from(v).is_ok() {
                self.0.push(b'J');
                self.0.extend((v as i32).to_le_bytes());
            } else {
                let bytes = v.to_le_bytes();
                self.0.extend([0x8a, 8]);
                self.0.extend(bytes);
            }
            self
        }
        pub(crate) fn memoize(self) -> Self {
            self.op(0x94)
        }
        pub(crate) fn get(mut self, slot: u8) -> Self {
            self.0.extend([b'h', slot]);
            self
        }
        pub(crate) fn global(self, module: &str, name: &str) -> Self {
            self.str(module).str(name).op(0x93)
        }
        pub(crate) fn stop(self) -> Vec<u8> {
            self.op(b'.').0
        }
    }

    fn run(bytes: &[u8]) -> Result<(Arena, Value), String> {
        load(bytes).map_err(|e| e.to_string())
    }

    #[test]
    fn memo_references_share_one_tuple() {
        // ((("a.py", 3),) memoized, then fetched twice into a list.
        let p = Writer::default()
            .proto(5)
            .op(b']')
            .op(b'(')
            .str("a.py")
            .int(3)
            .op(0x86)
            .op(0x85)
            .memoize()
            .get(0)
            .op(b'e')
            .stop();
        let (arena, v) = run(&p).unwrap();
        let Value::List(l) = v else { panic!("{v:?}") };
        let items = &arena.list(l).items;
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], items[1], "BINGET returns the same tuple");
        let Value::Tuple(t) = items[0] else { panic!() };
        let Value::Pair(s, 3) = arena.tuple(t).to_vec()[0] else {
            panic!("{:?}", arena.tuple(t))
        };
        assert_eq!(arena.str(s), "a.py", "a (str, int) pair is kept inline");
    }

    /// A trace `(domain, size, frames, total)` whose frames are in memo
    /// slot `frames`.
    fn trace(w: Writer, domain: i64, size: i64, frames: u8, total: i64) -> Writer {
        w.op(b'(')
            .int(domain)
            .int(size)
            .get(frames)
            .int(total)
            .op(b't')
            .memoize()
    }

    /// `[` memoized in slot 0, then a traceback of `depth` frames memoized
    /// in slot 1, left on the stack above the list.
    fn list_and_traceback(depth: usize) -> Writer {
        let mut w = Writer::default().proto(5).op(b']').memoize().op(b'(');
        for line in 0..depth {
            w = w.str("a.py").int(line as i64 + 1).op(0x86);
        }
        w.op(b't').memoize()
    }

    #[test]
    fn traces_in_a_batch_are_counted_not_kept() {
        // The traceback tuple (slot 1) is appended first, and kept: it is
        // not a trace.
        let mut w = list_and_traceback(2).op(b'a').op(b'(');
        w = trace(w, 0, 100, 1, 2);
        w = trace(w, 0, 50, 1, 5); // total_nframe 5 > 2 frames: cut
        w = trace(w, 7, 1, 1, 2); // another domain: another group
        w = w.op(b'e');
        // A last single trace, as the pickler writes a batch of one.
        w = trace(w, 0, 8, 1, 2).op(b'a');
        let (arena, v) = run(&w.stop()).unwrap();
        let Value::List(l) = v else { panic!("{v:?}") };
        let list = arena.list(l);
        assert_eq!(list.len, 5);
        assert_eq!(list.positions, [0], "the traceback is kept at 0");
        let groups: Vec<_> = list
            .traces
            .iter()
            .map(|g| (g.domain, g.count, g.size))
            .collect();
        assert_eq!(groups, [(0, 3, 158), (7, 1, 1)]);
        assert_eq!(list.truncated, 1);
        assert!(arena.tuples.len() < 6, "counted traces are not stored");
    }

    #[test]
    fn traces_read_at_once_equal_traces_read_opcode_by_opcode() {
        // The same traces, with ints as BININT1/2/4 (read at once) and as
        // LONG1 (which only the opcode-by-opcode path reads).
        let long = |w: Writer, v: i64| {
            let mut w = w.op(0x8a).op(8);
            w.0.extend(v.to_le_bytes());
            w
        };
        let values = [(0, 7, 2), (1, 300, 70_000), (0, 100_000, 3), (5, 0, 0)];
        let mut quick = list_and_traceback(3).op(b'a').op(b'(');
        let mut slow = list_and_traceback(3).op(b'a').op(b'(');
        for &(d, s, n) in &values {
            quick = trace(quick, d, s, 1, n);
            slow = long(long(slow.op(b'('), d), s).get(1);
            slow = long(slow, n).op(b't').memoize();
        }
        // A trace fetched at once, then a slot of its own stored after it:
        // the memo numbering must agree.
        let end = |w: Writer| {
            w.op(b'e')
                .str("x")
                .memoize()
                .op(b'a')
                .get(6)
                .op(b'a')
                .stop()
        };
        READ_AT_ONCE.set(0);
        let (qa, qv) = run(&end(quick)).unwrap();
        assert_eq!(READ_AT_ONCE.get(), 4, "every trace read at once");
        READ_AT_ONCE.set(0);
        let (sa, sv) = run(&end(slow)).unwrap();
        assert_eq!(READ_AT_ONCE.get(), 0);
        let groups = |a: &Arena, v: Value| {
            let Value::List(l) = v else { panic!("{v:?}") };
            let list = a.list(l);
            let g: Vec<_> = list
                .traces
                .iter()
                .map(|g| (g.domain, g.count, g.size))
                .collect();
            (g, list.truncated, list.len, list.items.clone())
        };
        let (q, s) = (groups(&qa, qv), groups(&sa, sv));
        assert_eq!(q.0, [(0, 2, 100_007), (1, 1, 300), (5, 1, 0)]);
        assert_eq!(q.1, 1, "70,000 frames > 3");
        assert_eq!(q, s);
        assert!(matches!(q.3[..], [_, Value::Str(x), Value::Str(y)] if x == y && qa.str(x) == "x"));
        assert!(qa.tuples.len() < 3, "no trace was stored");
    }

    #[test]
    fn frames_read_at_once_equal_frames_read_opcode_by_opcode() {
        // ("a.py" memoized in slot 0, then frames fetching it: lines as
        // BININT1/2/4 (read at once) or LONG1 (one by one), a negative line
        // (a tuple, not a pair) and a memoized frame fetched back.
        let build = |quick: bool| {
            let mut w = Writer::default().proto(5).str("a.py").memoize().op(b'(');
            for line in [0i64, 7, 300, 70_000, 1 << 31, -1] {
                w = w.get(0);
                w = if quick && line < 1 << 31 {
                    w.int(line)
                } else {
                    let mut w = w.op(0x8a).op(8);
                    w.0.extend(line.to_le_bytes());
                    w
                };
                w = w.op(0x86).memoize();
            }
            READ_AT_ONCE.set(0);
            let (arena, v) = run(&w.get(3).op(b't').stop()).unwrap();
            assert_eq!(READ_AT_ONCE.get(), if quick { 4 } else { 0 });
            let Value::Tuple(t) = v else { panic!("{v:?}") };
            let frames: Vec<_> = arena
                .tuple(t)
                .to_vec()
                .into_iter()
                .map(|f| match f {
                    Value::Pair(s, l) => (arena.str(s).to_owned(), i64::from(l), true),
                    Value::Tuple(p) => match arena.tuple(p).to_vec()[..] {
                        [Value::Str(s), Value::Int(l)] => (arena.str(s).to_owned(), l, false),
                        _ => panic!("{f:?}"),
                    },
                    _ => panic!("{f:?}"),
                })
                .collect();
            frames
        };
        let quick = build(true);
        assert_eq!(quick, build(false));
        let lines: Vec<_> = quick.iter().map(|f| (f.1, f.2)).collect();
        assert_eq!(
            lines,
            [
                (0, true),
                (7, true),
                (300, true),
                (70_000, true),
                (1 << 31, true),
                (-1, false),
                (300, true), // slot 3: the third frame
            ]
        );
    }

    #[test]
    fn a_counted_trace_is_never_fetched_again() {
        let mut w = list_and_traceback(1).op(b'a').op(b'(');
        w = trace(w, 0, 100, 1, 1).op(b'e');
        // Slot 2 (the list is 0, the traceback 1): the trace.
        let err = run(&w.get(2).op(b'a').stop()).unwrap_err();
        assert!(err.contains("counted"), "{err}");
    }

    #[test]
    fn a_trace_shaped_tuple_outside_a_list_is_a_tuple() {
        // Inside a batch, but the batch becomes a tuple, not list items.
        let mut w = list_and_traceback(1).op(b'a').op(b'(');
        w = trace(w, 0, 100, 1, 1).op(b't');
        let (arena, v) = run(&w.stop()).unwrap();
        let Value::Tuple(t) = v else { panic!("{v:?}") };
        let [Value::Tuple(inner)] = arena.tuple(t).to_vec()[..] else {
            panic!("{:?}", arena.tuple(t))
        };
        assert!(matches!(
            arena.tuple(inner).to_vec()[..],
            [
                Value::Int(0),
                Value::Int(100),
                Value::Tuple(_),
                Value::Int(1)
            ]
        ));
    }

    #[test]
    fn items_that_are_not_traces_keep_their_positions() {
        let mut w = list_and_traceback(1).op(b'a').op(b'(');
        w = trace(w, 0, 100, 1, 1);
        // A negative size is not a trace the list counts.
        w = trace(w, 0, -1, 1, 1).int(5).op(b'e');
        let (arena, v) = run(&w.stop()).unwrap();
        let Value::List(l) = v else { panic!("{v:?}") };
        let list = arena.list(l);
        assert_eq!(list.positions, [0, 2, 3]);
        assert_eq!(list.items[2], Value::Int(5));
        assert_eq!(list.traces.len(), 1);
    }

    #[test]
    fn integers_of_every_width() {
        for v in [
            0,
            7,
            300,
            70_000,
            -5,
            1 << 40,
            -(1 << 40),
            i64::MAX,
            i64::MIN,
        ] {
            let (_, got) = run(&Writer::default().proto(4).int(v).stop()).unwrap();
            assert_eq!(got, Value::Int(v), "{v}");
        }
        // LONG1 with fewer bytes, sign-extended, and with a redundant byte.
        let (_, got) = run(b"\x80\x05\x8a\x02\x00\x80.").unwrap();
        assert_eq!(got, Value::Int(-32768));
        let (_, got) = run(b"\x80\x05\x8a\x01\x7f.").unwrap();
        assert_eq!(got, Value::Int(127));
        let (_, got) = run(b"\x80\x05\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff.").unwrap();
        assert_eq!(got, Value::Int(-1));
        let (_, got) = run(b"\x80\x05\x8a\x00.").unwrap();
        assert_eq!(got, Value::Int(0));
        let err = run(b"\x80\x05\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.").unwrap_err();
        assert!(err.contains("wider than 64 bits"), "{err}");
    }

    #[test]
    fn long_strings_use_binunicode() {
        let path = format!("/{}/module.py", "deep/".repeat(100));
        let (arena, v) = run(&Writer::default().proto(4).str(&path).stop()).unwrap();
        assert!(path.len() > 255);
        assert!(matches!(v, Value::Str(s) if arena.str(s) == path));
    }

    #[test]
    fn truncated_pickles_are_refused_at_every_length() {
        let whole = Writer::default()
            .proto(5)
            .op(b']')
            .op(b'(')
            .str("/srv/app.py")
            .int(70_000)
            .op(0x86)
            .op(b'e')
            .stop();
        assert!(run(&whole).is_ok());
        for cut in 0..whole.len() {
            let err = run(&whole[..cut]).unwrap_err();
            assert!(
                err.contains("ends") || err.contains("empty stack") || err.contains("remain"),
                "cut at {cut}: {err}"
            );
        }
    }

    #[test]
    fn other_classes_and_reduce_are_refused() {
        let p = Writer::default()
            .proto(4)
            .global("os", "system")
            .str("rm -rf /")
            .op(0x85)
            .op(b'R')
            .stop();
        let err = run(&p).unwrap_err();
        assert!(err.contains("names os.system"), "{err}");
        assert!(err.starts_with("pickle byte 14:"), "{err}");

        let p = b"\x80\x02cposix\nsystem\n(S'ls'\ntR.";
        let err = run(p).unwrap_err();
        assert!(err.contains("names posix.system"), "{err}");

        // REDUCE is refused even on an allowed class.
        let p = Writer::default()
            .proto(4)
            .global("tracemalloc", "Snapshot")
            .op(b')')
            .op(b'R')
            .stop();
        let err = run(&p).unwrap_err();
        assert!(err.contains("opcode REDUCE (0x52) is not allowed"), "{err}");
    }

    #[test]
    fn allowed_classes_become_objects_with_state() {
        let p = Writer::default()
            .proto(5)
            .global("tracemalloc", "Snapshot")
            .op(b')')
            .op(0x81)
            .op(b'}')
            .str("traceback_limit")
            .int(25)
            .op(b's')
            .op(b'b')
            .stop();
        let (arena, v) = run(&p).unwrap();
        let Value::Object(o) = v else { panic!("{v:?}") };
        let object = arena.object(o);
        assert_eq!(object.class, Class::Snapshot);
        let Some(Value::Dict(d)) = object.state else {
            panic!()
        };
        assert_eq!(arena.dict_get(d, "traceback_limit"), Some(Value::Int(25)));
        assert_eq!(arena.dict_get(d, "traces"), None);
    }

    #[test]
    fn malformed_machines_are_refused() {
        for (bytes, want) in [
            (&b"\x80\x05h\x03."[..], "memo slot 3 was never stored"),
            (b"\x80\x05t.", "needs a MARK"),
            (b"\x80\x05K\x01K\x02a.", "not a list"),
            (b"\x80\x05K\x01a.", "reads an empty stack"),
            (b"\x80\x05.", "empty stack"),
            (b"\x80\x09.", "unknown pickle protocol 9"),
            (b"\x80\x05\xff.", "unknown opcode 0xff"),
            (
                b"\x80\x05K\x01r\x05\x00\x00\x00.",
                "slot 5 is stored before slot 0",
            ),
            (b"\x80\x05X\xff\xff\xff\x7fab.", "only 3 remain"),
            (b"\x80\x05]K\x01", "without a STOP"),
        ] {
            let err = run(bytes).unwrap_err();
            assert!(err.contains(want), "{bytes:?}: {err}");
        }
    }

    #[test]
    fn deep_nesting_costs_no_recursion() {
        // A million nested one-tuples: built and dropped without recursion.
        let mut p = vec![0x80, 5, b')'];
        p.extend(std::iter::repeat_n(0x85, 1_000_000));
        p.push(b'.');
        let (arena, v) = run(&p).unwrap();
        assert!(matches!(v, Value::Tuple(_)));
        drop(arena);
    }

    #[test]
    fn tuples_of_pairs_are_kept_as_pairs() {
        let pair = |w: Writer, file: &str, line: i64| w.str(file).int(line).op(0x86);
        let tuple = |w: Writer| {
            let (arena, v) = run(&w.op(b't').stop()).unwrap();
            let Value::Tuple(t) = v else { panic!("{v:?}") };
            let items = arena.tuple(t);
            let names: Vec<_> = items
                .to_vec()
                .into_iter()
                .map(|v| match v {
                    Value::Pair(s, l) => format!("{}:{l}", arena.str(s)),
                    other => format!("{other:?}"),
                })
                .collect();
            (matches!(items, Items::Pairs(_)), names)
        };
        let w = pair(
            pair(Writer(Vec::new()).proto(4).op(b'('), "a.py", 3),
            "b.py",
            4,
        );
        assert_eq!(tuple(w), (true, vec!["a.py:3".into(), "b.py:4".into()]));
        // Anything else in the tuple: values.
        let w = pair(Writer(Vec::new()).proto(4).op(b'('), "a.py", 3).int(7);
        assert_eq!(tuple(w), (false, vec!["a.py:3".into(), "Int(7)".into()]));
        assert_eq!(tuple(Writer(Vec::new()).proto(4).op(b'(')), (false, vec![]));
    }

    #[test]
    fn memo_slots_read_back_as_they_were_stored() {
        let values = [
            Value::Pair(0, 0),
            Value::Pair((1 << 31) - 1, u32::MAX),
            // A string id past 31 bits does not fit a packed pair.
            Value::Pair(1 << 31, 7),
            Value::Str(0),
            Value::Str(u32::MAX),
            Value::Tuple(u32::MAX),
            Value::Counted,
            Value::Int(0),
            Value::Int(-1),
            Value::Int(i64::from(i32::MIN)),
            Value::Int(i64::from(i32::MAX)),
            Value::Int(i64::from(i32::MAX) + 1),
            Value::Int(i64::MIN),
            Value::Float(-0.5),
            Value::None,
            Value::Bool(true),
            Value::List(3),
            Value::Dict(4),
            Value::Object(5),
            Value::Class(Class::Traces),
            Value::Trace(6),
        ];
        let mut memo = Memo::default();
        for &v in &values {
            memo.push(v);
        }
        assert_eq!(memo.len(), values.len());
        for (i, &v) in values.iter().enumerate() {
            assert_eq!(memo.get(i), Some(v), "slot {i}");
        }
        assert_eq!(memo.get(values.len()), None);
        // Pairs, strings, tuples, counted traces and 32-bit ints take a
        // slot alone; the rest are kept aside.
        assert_eq!(memo.others.len(), 11);
        memo.set(0, Value::Float(2.0));
        memo.set(1, Value::Str(9));
        assert_eq!(memo.get(0), Some(Value::Float(2.0)));
        assert_eq!(memo.get(1), Some(Value::Str(9)));
        assert_eq!(memo.get(2), Some(Value::Pair(1 << 31, 7)));
    }
}
