//! The JFR binary format: a file is one or more chunks, each with a
//! 68-byte header, its events, the metadata that describes every type, and
//! constant pools (checkpoint events) that events refer to by index.
//!
//! Layout (OpenJDK's `jdk.jfr.internal` writer, JMC's parser):
//!
//! - **Chunk header**, big-endian: `FLR\0`, major and minor version (u16),
//!   chunk size, constant-pool offset, metadata offset, start time (ns),
//!   duration (ns), start ticks, ticks per second (i64 each), features (i32;
//!   bit 0: integers are compressed).
//! - **Events** from byte 68 to the chunk's end, each `size type fields…`;
//!   type 0 is the metadata event, type 1 a checkpoint. Compressed integers
//!   are LEB128 (little-endian groups of 7 bits, the ninth byte whole), not
//!   zig-zagged.
//! - **Metadata**: a string table, then a tree of elements (name,
//!   attributes, children): `class` elements (`id`, `name`, `simpleType`)
//!   with `field` children (`name`, `class`, `dimension`, `constantPool`).
//! - **Checkpoints**: start, duration, delta to the previous checkpoint, a
//!   type byte, then pools: class id, count, and `index value` pairs.
//! - **Values**: primitives by their class's name; `java.lang.String` as an
//!   encoding byte (0 null, 1 empty, 2 pool index, 3 UTF-8, 4 chars, 5
//!   Latin-1) and its data; a field marked `constantPool` as a pool index;
//!   `dimension` 1 as a count and the elements; anything else as its
//!   fields in order.
//!
//! Everything read is checked: sizes against the bytes left, nesting against
//! a depth limit, and the number of values an event makes against its size,
//! so a hostile file fails with a message rather than looping or exhausting
//! memory.

use rustc_hash::FxHashMap;

use crate::Format;
use crate::error::Error;

pub(super) fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid {
        format: Format::Jfr,
        message: message.into(),
    }
}

/// The size of a chunk header.
pub(super) const HEADER_SIZE: usize = 68;

/// How deeply values may nest (a stack trace's frames are three deep).
const MAX_DEPTH: usize = 32;

/// A chunk's header fields heapdiff uses.
#[derive(Clone, Copy, Debug)]
pub(super) struct ChunkHeader {
    pub(super) size: usize,
    pub(super) metadata_offset: usize,
    pub(super) start_nanos: i64,
    pub(super) duration_nanos: i64,
    pub(super) compressed: bool,
}

impl ChunkHeader {
    /// Reads the header of the chunk `bytes` start with (`bytes` runs to
    /// the file's end).
    pub(super) fn read(bytes: &[u8]) -> Result<ChunkHeader, Error> {
        if bytes.len() < HEADER_SIZE {
            return Err(invalid(format!(
                "a chunk header needs {HEADER_SIZE} bytes, {} are left (a cut file?)",
                bytes.len()
            )));
        }
        if &bytes[..4] != b"FLR\0" {
            return Err(invalid("a chunk does not start with FLR\\0"));
        }
        let u16_at = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
        let i64_at = |i: usize| i64::from_be_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let major = u16_at(4);
        if !(1..=2).contains(&major) {
            return Err(invalid(format!(
                "format version {major}.{} (heapdiff reads 1.x and 2.x)",
                u16_at(6)
            )));
        }
        let size = i64_at(8);
        let metadata_offset = i64_at(24);
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s >= HEADER_SIZE)
            .ok_or_else(|| invalid(format!("chunk size {size}")))?;
        if size > bytes.len() {
            return Err(invalid(format!(
                "a chunk of {size} bytes has {} (a cut file, or a recording still being written?)",
                bytes.len()
            )));
        }
        let metadata_offset = usize::try_from(metadata_offset)
            .ok()
            .filter(|&o| (HEADER_SIZE..size).contains(&o))
            .ok_or_else(|| invalid(format!("metadata offset {metadata_offset}")))?;
        Ok(ChunkHeader {
            size,
            metadata_offset,
            start_nanos: i64_at(32),
            duration_nanos: i64_at(40),
            compressed: i32::from_be_bytes(bytes[64..68].try_into().expect("4 bytes")) & 1 != 0,
        })
    }
}

/// Reads integers and strings from a chunk.
pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    compressed: bool,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(bytes: &'a [u8], pos: usize, compressed: bool) -> Self {
        Cursor {
            bytes,
            pos,
            compressed,
        }
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn left(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn cut(&self) -> Error {
        invalid(format!(
            "a value runs past its end at byte {} of a chunk",
            self.pos
        ))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| self.cut())?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(super) fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    /// A compressed integer: seven bits a byte, the ninth byte whole.
    fn varint(&mut self) -> Result<u64, Error> {
        let mut value = 0u64;
        for i in 0..8 {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Ok(value | u64::from(self.byte()?) << 56)
    }

    pub(super) fn long(&mut self) -> Result<i64, Error> {
        if self.compressed {
            return Ok(self.varint()? as i64);
        }
        Ok(i64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    pub(super) fn int(&mut self) -> Result<i32, Error> {
        if self.compressed {
            return Ok(self.varint()? as i32);
        }
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn short(&mut self) -> Result<i16, Error> {
        if self.compressed {
            return Ok(self.varint()? as i16);
        }
        Ok(i16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    /// A count of items that take at least a byte each.
    pub(super) fn count(&mut self) -> Result<usize, Error> {
        let at = self.pos;
        let n = self.int()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.left())
            .ok_or_else(|| {
                invalid(format!(
                    "a count of {n} at byte {at} of a chunk, with {} bytes left",
                    self.left()
                ))
            })
    }

    /// A string, or the pool index it refers to.
    pub(super) fn string(&mut self) -> Result<Text, Error> {
        let encoding = self.byte()?;
        Ok(match encoding {
            0 => Text::Null,
            1 => Text::Inline(String::new()),
            2 => Text::Pooled(self.long()?),
            3 => {
                let n = self.count()?;
                Text::Inline(String::from_utf8_lossy(self.take(n)?).into_owned())
            }
            4 => {
                let n = self.count()?;
                let mut s = String::with_capacity(n);
                for _ in 0..n {
                    let c = self.short()? as u16;
                    s.push(char::from_u32(u32::from(c)).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                Text::Inline(s)
            }
            5 => {
                let n = self.count()?;
                Text::Inline(self.take(n)?.iter().map(|&b| char::from(b)).collect())
            }
            other => {
                return Err(invalid(format!(
                    "string encoding {other} at byte {} of a chunk",
                    self.pos - 1
                )));
            }
        })
    }
}

/// A string as the file holds it.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Text {
    Null,
    Inline(String),
    /// An index into the `java.lang.String` pool.
    Pooled(i64),
}

/// A value read from an event or a pool.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
    Int(i64),
    Float(f64),
    Text(Text),
    /// A constant-pool index (of the field's class).
    Ref(i64),
    Array(Vec<Value>),
    Object(Vec<Value>),
}

impl Value {
    pub(super) fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(super) fn as_ref(&self) -> Option<i64> {
        match self {
            Value::Ref(i) => Some(*i),
            _ => None,
        }
    }
}

/// How a class's values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Boolean,
    Byte,
    Char,
    Short,
    Int,
    Long,
    Float,
    Double,
    String,
    Object,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name {
            "boolean" => Kind::Boolean,
            "byte" => Kind::Byte,
            "char" => Kind::Char,
            "short" => Kind::Short,
            "int" => Kind::Int,
            "long" => Kind::Long,
            "float" => Kind::Float,
            "double" => Kind::Double,
            "java.lang.String" => Kind::String,
            _ => Kind::Object,
        }
    }
}

/// A field of a class.
#[derive(Clone, Debug)]
pub(super) struct Field {
    pub(super) name: String,
    pub(super) class: i64,
    array: bool,
    pooled: bool,
}

/// A class the metadata describes.
#[derive(Clone, Debug)]
pub(super) struct Class {
    pub(super) name: String,
    kind: Kind,
    pub(super) fields: Vec<Field>,
}

impl Class {
    /// The position of the field `name`.
    pub(super) fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// A chunk's classes, by id.
#[derive(Debug, Default)]
pub(super) struct Metadata {
    pub(super) classes: FxHashMap<i64, Class>,
}

impl Metadata {
    /// The id of the class `name`.
    pub(super) fn id_of(&self, name: &str) -> Option<i64> {
        self.classes
            .iter()
            .find(|(_, c)| c.name == name)
            .map(|(&id, _)| id)
    }

    /// Reads the metadata event at `offset` of `chunk`.
    pub(super) fn read(chunk: &[u8], offset: usize, compressed: bool) -> Result<Metadata, Error> {
        let mut c = Cursor::new(chunk, offset, compressed);
        let (_, end) = event_header(&mut c, chunk.len())?;
        let mut c = Cursor::new(&chunk[..end], c.pos(), compressed);
        let kind = c.long()?;
        if kind != 0 {
            return Err(invalid(format!(
                "the metadata offset points at an event of type {kind}"
            )));
        }
        c.long()?; // start
        c.long()?; // duration
        c.long()?; // metadata id
        let n = c.count()?;
        let mut strings = Vec::with_capacity(n);
        for _ in 0..n {
            strings.push(match c.string()? {
                Text::Inline(s) => s,
                _ => String::new(),
            });
        }
        let root = Element::read(&mut c, &strings, 0)?;
        let mut classes = FxHashMap::default();
        for class in root.descendants("class") {
            let id = class.attribute("id").and_then(|v| v.parse().ok());
            let (Some(id), Some(name)) = (id, class.attribute("name")) else {
                return Err(invalid("a class without an id or a name in the metadata"));
            };
            let mut fields = Vec::new();
            for f in class.children.iter().filter(|e| e.name == "field") {
                let (Some(name), Some(type_id)) = (
                    f.attribute("name"),
                    f.attribute("class").and_then(|v| v.parse().ok()),
                ) else {
                    return Err(invalid(format!(
                        "a field of {name} without a name or a class"
                    )));
                };
                fields.push(Field {
                    name: name.to_owned(),
                    class: type_id,
                    array: f.attribute("dimension") == Some("1"),
                    pooled: f.attribute("constantPool") == Some("true"),
                });
            }
            classes.insert(
                id,
                Class {
                    name: name.to_owned(),
                    kind: Kind::of(name),
                    fields,
                },
            );
        }
        Ok(Metadata { classes })
    }

    /// Reads a value of class `id`. `budget` counts the values an event may
    /// still make.
    pub(super) fn value(
        &self,
        c: &mut Cursor<'_>,
        id: i64,
        depth: usize,
        budget: &mut usize,
    ) -> Result<Value, Error> {
        let class = self
            .classes
            .get(&id)
            .ok_or_else(|| invalid(format!("type {id} is not in the metadata")))?;
        if depth > MAX_DEPTH {
            return Err(invalid(format!(
                "values nest more than {MAX_DEPTH} deep (in {})",
                class.name
            )));
        }
        *budget = budget.checked_sub(1).ok_or_else(|| {
            invalid(format!(
                "an event makes more values than its bytes allow (in {})",
                class.name
            ))
        })?;
        Ok(match class.kind {
            Kind::Boolean | Kind::Byte => Value::Int(i64::from(c.byte()? as i8)),
            Kind::Char | Kind::Short => Value::Int(i64::from(c.short()?)),
            Kind::Int => Value::Int(i64::from(c.int()?)),
            Kind::Long => Value::Int(c.long()?),
            Kind::Float => Value::Float(f64::from(f32::from_be_bytes(
                c.take(4)?.try_into().expect("4 bytes"),
            ))),
            Kind::Double => {
                Value::Float(f64::from_be_bytes(c.take(8)?.try_into().expect("8 bytes")))
            }
            Kind::String => Value::Text(c.string()?),
            Kind::Object => {
                let mut fields = Vec::with_capacity(class.fields.len());
                for field in &class.fields {
                    fields.push(if field.array {
                        let n = c.count()?;
                        let mut items = Vec::with_capacity(n);
                        for _ in 0..n {
                            items.push(self.field_value(c, field, depth, budget)?);
                        }
                        Value::Array(items)
                    } else {
                        self.field_value(c, field, depth, budget)?
                    });
                }
                Value::Object(fields)
            }
        })
    }

    fn field_value(
        &self,
        c: &mut Cursor<'_>,
        field: &Field,
        depth: usize,
        budget: &mut usize,
    ) -> Result<Value, Error> {
        if field.pooled {
            Ok(Value::Ref(c.long()?))
        } else {
            self.value(c, field.class, depth + 1, budget)
        }
    }
}

/// Reads an event's size and returns its type's position and its end.
pub(super) fn event_header(c: &mut Cursor<'_>, chunk_end: usize) -> Result<(usize, usize), Error> {
    let start = c.pos();
    let size = c.int()?;
    let end = usize::try_from(size)
        .ok()
        .filter(|&s| s > c.pos() - start)
        .and_then(|s| start.checked_add(s))
        .filter(|&e| e <= chunk_end)
        .ok_or_else(|| {
            invalid(format!(
                "an event at byte {start} of a chunk says it has {size} bytes, with {} left",
                chunk_end - start
            ))
        })?;
    Ok((c.pos(), end))
}

/// A metadata element: its name, attributes and children.
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
}

impl Element {
    fn read(c: &mut Cursor<'_>, strings: &[String], depth: usize) -> Result<Element, Error> {
        if depth > MAX_DEPTH {
            return Err(invalid("metadata elements nest too deep"));
        }
        let string = |c: &mut Cursor<'_>| -> Result<String, Error> {
            let i = c.int()?;
            usize::try_from(i)
                .ok()
                .and_then(|i| strings.get(i))
                .cloned()
                .ok_or_else(|| invalid(format!("metadata string {i} of {}", strings.len())))
        };
        let name = string(c)?;
        let n = c.count()?;
        let mut attributes = Vec::with_capacity(n);
        for _ in 0..n {
            attributes.push((string(c)?, string(c)?));
        }
        let n = c.count()?;
        let mut children = Vec::with_capacity(n);
        for _ in 0..n {
            children.push(Element::read(c, strings, depth + 1)?);
        }
        Ok(Element {
            name,
            attributes,
            children,
        })
    }

    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The elements named `name` under this one, in order.
    fn descendants<'e>(&'e self, name: &'e str) -> Box<dyn Iterator<Item = &'e Element> + 'e> {
        Box::new(self.children.iter().flat_map(move |child| {
            let me = (child.name == name).then_some(child);
            me.into_iter().chain(child.descendants(name))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_integers_are_leb128_with_a_whole_ninth_byte() {
        let mut c = Cursor::new(&[0x85, 0xb0, 0x03], 0, true);
        assert_eq!(c.long().unwrap(), 55301);
        let nine = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(Cursor::new(&nine, 0, true).long().unwrap(), -1);
        // Padded: JFR writes sizes as four bytes whatever their value.
        assert_eq!(
            Cursor::new(&[0x83, 0x80, 0x80, 0x00], 0, true)
                .int()
                .unwrap(),
            3
        );
        assert_eq!(Cursor::new(&[0, 0, 1, 2], 0, false).int().unwrap(), 258);
        assert!(Cursor::new(&[0x80], 0, true).long().is_err());
    }

    #[test]
    fn strings_in_every_encoding() {
        let read = |bytes: &[u8]| Cursor::new(bytes, 0, true).string();
        assert_eq!(read(&[0]).unwrap(), Text::Null);
        assert_eq!(read(&[1]).unwrap(), Text::Inline(String::new()));
        assert_eq!(read(&[2, 7]).unwrap(), Text::Pooled(7));
        assert_eq!(read(b"\x03\x02hi").unwrap(), Text::Inline("hi".into()));
        assert_eq!(
            read(&[4, 2, 0x68, 0xe9, 0x01]).unwrap(),
            Text::Inline("hé".into())
        );
        assert_eq!(read(&[5, 1, 0xe9]).unwrap(), Text::Inline("é".into()));
        let e = read(&[3, 0x7f, b'x']).unwrap_err().to_string();
        assert!(
            e.contains("a count of 127 at byte 1 of a chunk, with 1 bytes left"),
            "{e}"
        );
        assert!(
            read(&[9])
                .unwrap_err()
                .to_string()
                .contains("string encoding 9")
        );
    }

    #[test]
    fn events_that_claim_too_few_or_too_many_bytes_are_refused() {
        // A size that would not move past its own header loops forever in a
        // reader that trusts it.
        for bytes in [&[0u8, 1][..], &[1, 1], &[9, 1]] {
            let mut c = Cursor::new(bytes, 0, true);
            let e = event_header(&mut c, bytes.len()).unwrap_err().to_string();
            assert!(e.contains("says it has"), "{e}");
        }
        let mut c = Cursor::new(&[2, 1], 0, true);
        assert_eq!(event_header(&mut c, 2).unwrap(), (1, 2));
    }

    /// A class whose only field is itself (a hostile metadata) fails at
    /// the depth limit instead of overflowing the stack.
    #[test]
    fn self_nesting_types_stop_at_the_depth_limit() {
        let mut m = Metadata::default();
        m.classes.insert(
            20,
            Class {
                name: "Loop".into(),
                kind: Kind::Object,
                fields: vec![Field {
                    name: "me".into(),
                    class: 20,
                    array: false,
                    pooled: false,
                }],
            },
        );
        let mut budget = 1000;
        let e = m
            .value(&mut Cursor::new(&[], 0, true), 20, 0, &mut budget)
            .unwrap_err()
            .to_string();
        assert!(e.contains("values nest more than 32 deep (in Loop)"), "{e}");
        let mut budget = 3;
        let e = m
            .value(&mut Cursor::new(&[], 0, true), 20, 0, &mut budget)
            .unwrap_err()
            .to_string();
        assert!(e.contains("more values than its bytes allow"), "{e}");
    }
}
