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

use rustc_hash::FxHashMap;

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
    tuples: Vec<(u32, u32)>,
    lists: Vec<Vec<Value>>,
    dicts: Vec<Vec<(Value, Value)>>,
    objects: Vec<Object>,
}

impl Arena {
    pub(crate) fn str(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }

    pub(crate) fn tuple(&self, id: u32) -> &[Value] {
        let (start, end) = self.tuples[id as usize];
        &self.tuple_items[start as usize..end as usize]
    }

    pub(crate) fn list(&self, id: u32) -> &[Value] {
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
        let id = index(self.tuples.len());
        self.tuples.push((start, index(self.tuple_items.len())));
        Value::Tuple(id)
    }
}

fn index(n: usize) -> u32 {
    // A pickle of more than 4 billion values would not fit in memory: the
    // input is read whole, and every value needs at least one byte of it.
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Runs a pickle and returns the arena and the value it produced.
pub(crate) fn load(bytes: &[u8]) -> Result<(Arena, Value), Error> {
    Machine {
        input: bytes,
        pos: 0,
        arena: Arena::default(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Vec::new(),
        strings: FxHashMap::default(),
    }
    .run()
}

struct Machine<'a> {
    input: &'a [u8],
    pos: usize,
    arena: Arena,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Vec<Value>,
    /// Each distinct string's id, by its bytes in the input.
    strings: FxHashMap<&'a [u8], u32>,
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

impl<'a> Machine<'a> {
    fn fail(&self, at: usize, message: impl Into<String>) -> Error {
        Error::Pickle {
            offset: at,
            message: message.into(),
        }
    }

    fn take(&mut self, n: usize, at: usize) -> Result<&'a [u8], Error> {
        let input = self.input;
        let end = self.pos.checked_add(n).filter(|&e| e <= input.len());
        match end {
            Some(end) => {
                let s = &input[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(self.fail(at, "the pickle ends in the middle of an opcode")),
        }
    }

    fn u8(&mut self, at: usize) -> Result<u8, Error> {
        Ok(self.take(1, at)?[0])
    }

    fn le<const N: usize>(&mut self, at: usize) -> Result<[u8; N], Error> {
        let s = self.take(N, at)?;
        Ok(s.try_into().expect("take returned N bytes"))
    }

    fn length(&mut self, n: u64, at: usize) -> Result<usize, Error> {
        let remaining = self.input.len() - self.pos;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= remaining)
            .ok_or_else(|| {
                self.fail(
                    at,
                    format!("a length of {n} bytes, but only {remaining} remain"),
                )
            })
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

    fn push_str(&mut self, bytes_len: usize, at: usize) -> Result<(), Error> {
        let bytes = self.take(bytes_len, at)?;
        // Equal strings are one string: a file name written a million times
        // is stored, converted and later interned once.
        let strings = &mut self.arena.strings;
        let id = *self.strings.entry(bytes).or_insert_with(|| {
            // CPython writes UTF-8 with `surrogatepass`; a lone surrogate in
            // a file name is replaced rather than refused.
            strings.push(String::from_utf8_lossy(bytes).into());
            index(strings.len() - 1)
        });
        self.stack.push(Value::Str(id));
        Ok(())
    }

    fn int_from_le(&self, bytes: &[u8], at: usize) -> Result<i64, Error> {
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
                return Err(self.fail(at, "an integer wider than 64 bits"));
            }
            return self.int_from_le(low, at);
        }
        let negative = bytes[bytes.len() - 1] & 0x80 != 0;
        let mut buf = if negative { [0xff; 8] } else { [0; 8] };
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(i64::from_le_bytes(buf))
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

    fn memo_put(&mut self, slot: u64, at: usize) -> Result<(), Error> {
        let value = self.top(at)?;
        let len = self.memo.len() as u64;
        if slot < len {
            self.memo[slot as usize] = value;
        } else if slot == len {
            self.memo.push(value);
        } else {
            return Err(self.fail(at, format!("memo slot {slot} is stored before slot {len}")));
        }
        Ok(())
    }

    fn memo_get(&mut self, slot: u64, at: usize) -> Result<(), Error> {
        let value = usize::try_from(slot)
            .ok()
            .and_then(|s| self.memo.get(s))
            .copied()
            .ok_or_else(|| self.fail(at, format!("memo slot {slot} was never stored")))?;
        self.stack.push(value);
        Ok(())
    }

    fn run(mut self) -> Result<(Arena, Value), Error> {
        loop {
            let at = self.pos;
            let Some(&op) = self.input.get(at) else {
                return Err(self.fail(at, "the pickle ends without a STOP opcode (truncated?)"));
            };
            self.pos += 1;
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
                    return Ok((self.arena, value));
                }
                b'(' => self.marks.push(self.stack.len()),
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
                    let v = self.arena.push_tuple(&self.stack[from..]);
                    self.stack.truncate(from);
                    self.stack.push(v);
                }
                b't' => {
                    let mark = self.pop_mark(at)?;
                    let v = self.arena.push_tuple(&self.stack[mark..]);
                    self.stack.truncate(mark);
                    self.stack.push(v);
                }
                b']' => {
                    let id = index(self.arena.lists.len());
                    self.arena.lists.push(Vec::new());
                    self.stack.push(Value::List(id));
                }
                b'a' => {
                    let item = self.pop(at)?;
                    let Value::List(id) = self.top(at)? else {
                        return Err(self.fail(at, "APPEND to something that is not a list"));
                    };
                    self.arena.lists[id as usize].push(item);
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
                    self.arena.lists[id as usize].extend_from_slice(&self.stack[mark..]);
                    self.stack.truncate(mark);
                }
                b'}' => {
                    let id = index(self.arena.dicts.len());
                    self.arena.dicts.push(Vec::new());
                    self.stack.push(Value::Dict(id));
                }
                b's' => {
                    let value = self.pop(at)?;
                    let key = self.pop(at)?;
                    let Value::Dict(id) = self.top(at)? else {
                        return Err(self.fail(at, "SETITEM on something that is not a dict"));
                    };
                    self.arena.dicts[id as usize].push((key, value));
                }
                b'u' => {
                    let mark = self.pop_mark(at)?;
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
                    let n = self.length(n, at)?;
                    let start = self.pos;
                    self.take(n, at)?;
                    let v = self.int_from_le(&self.input[start..start + n], at)?;
                    self.stack.push(Value::Int(v));
                }
                b'G' => {
                    let v = f64::from_be_bytes(self.le(at)?);
                    self.stack.push(Value::Float(v));
                }
                0x8c => {
                    let n = u64::from(self.u8(at)?);
                    let n = self.length(n, at)?;
                    self.push_str(n, at)?;
                }
                b'X' => {
                    let n = u64::from(u32::from_le_bytes(self.le(at)?));
                    let n = self.length(n, at)?;
                    self.push_str(n, at)?;
                }
                0x8d => {
                    let n = u64::from_le_bytes(self.le(at)?);
                    let n = self.length(n, at)?;
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
                    self.memo_get(slot, at)?;
                }
                b'j' => {
                    let slot = u64::from(u32::from_le_bytes(self.le(at)?));
                    self.memo_get(slot, at)?;
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
        let rest = &self.input[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(self.fail(at, "GLOBAL without a newline-terminated name"));
        };
        let s = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.pos += end + 1;
        Ok(s)
    }
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
        let items = arena.list(l);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], items[1], "BINGET returns the same tuple");
        let Value::Tuple(t) = items[0] else { panic!() };
        let Value::Tuple(frame) = arena.tuple(t)[0] else {
            panic!()
        };
        assert!(
            matches!(arena.tuple(frame), [Value::Str(s), Value::Int(3)] if arena.str(*s) == "a.py")
        );
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
}
