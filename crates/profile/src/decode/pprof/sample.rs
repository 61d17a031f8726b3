//! A reader for pprof's `Sample` message, the one message a big profile
//! holds hundreds of thousands of: its location ids are handed over as the
//! fields that hold them, undecoded, to be read as the stack is written into
//! the profile (no vector per sample); values and labels go to reused
//! buffers.
//!
//! `Sample` is `location_id` (1, repeated uint64), `value` (2, repeated
//! int64) and `label` (3, repeated `Label`: `key` 1, `str` 2, `num` 3,
//! `num_unit` 4). Repeated scalars are read packed or not, as the protobuf
//! specification requires of parsers; unknown fields are skipped by wire
//! type; a field with the wrong wire type, a truncated varint or a length
//! past the end is an error. The rest of the profile is decoded with prost.

use crate::error::Error;

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// A `Label`'s string-table indices: key, str, num_unit.
pub(super) type LabelStrings = [i64; 3];

/// A `location_id` field of a sample, not yet decoded: most producers
/// write one packed field per sample.
#[derive(Clone, Copy, Debug)]
pub(super) enum LocationField<'a> {
    Packed(&'a [u8]),
    One(u64),
}

/// Reads one encoded `Sample`: values replace `values`, each label's string
/// indices replace `labels`, and each `location_id` field replaces
/// `locations` undecoded, for its ids to be read where they are used.
pub(super) fn read_fields<'a>(
    mut buf: &'a [u8],
    values: &mut Vec<i64>,
    labels: &mut Vec<LabelStrings>,
    locations: &mut Vec<LocationField<'a>>,
) -> Result<(), Error> {
    values.clear();
    labels.clear();
    locations.clear();
    while !buf.is_empty() {
        let (field, wire) = key(&mut buf)?;
        match (field, wire) {
            (1, VARINT) => locations.push(LocationField::One(varint(&mut buf)?)),
            (1, LEN) => locations.push(LocationField::Packed(delimited(&mut buf)?)),
            (2, VARINT) => values.push(varint(&mut buf)? as i64),
            (2, LEN) => {
                let mut packed = delimited(&mut buf)?;
                while !packed.is_empty() {
                    values.push(varint(&mut packed)? as i64);
                }
            }
            (3, LEN) => labels.push(label(delimited(&mut buf)?)?),
            (1..=3, _) => return Err(wrong_wire_type("Sample", field, wire)),
            _ => skip(&mut buf, wire)?,
        }
    }
    Ok(())
}

fn label(mut buf: &[u8]) -> Result<LabelStrings, Error> {
    let mut strings = [0i64; 3];
    while !buf.is_empty() {
        let (field, wire) = key(&mut buf)?;
        let slot = match field {
            1 => Some(0),
            2 => Some(1),
            4 => Some(2),
            _ => None,
        };
        match (field, wire) {
            (1..=4, VARINT) => {
                let v = varint(&mut buf)? as i64;
                if let Some(i) = slot {
                    strings[i] = v;
                }
            }
            (1..=4, _) => return Err(wrong_wire_type("Label", field, wire)),
            _ => skip(&mut buf, wire)?,
        }
    }
    Ok(strings)
}

fn key(buf: &mut &[u8]) -> Result<(u64, u8), Error> {
    let k = varint(buf)?;
    let field = k >> 3;
    if field == 0 || field > u64::from(u32::MAX >> 3) {
        return Err(invalid(format!("invalid field number {field}")));
    }
    Ok((field, (k & 7) as u8))
}

#[inline(always)]
pub(super) fn varint(buf: &mut &[u8]) -> Result<u64, Error> {
    // Most location ids are one or two bytes.
    match **buf {
        [b0, ref rest @ ..] if b0 < 0x80 => {
            *buf = rest;
            Ok(u64::from(b0))
        }
        [b0, b1, ref rest @ ..] if b1 < 0x80 => {
            *buf = rest;
            Ok(u64::from(b0 & 0x7f) | u64::from(b1) << 7)
        }
        _ => long_varint(buf),
    }
}

#[inline(never)]
fn long_varint(buf: &mut &[u8]) -> Result<u64, Error> {
    let mut value = 0u64;
    for (i, &byte) in buf.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            if i == 9 && byte > 1 {
                break;
            }
            *buf = &buf[i + 1..];
            return Ok(value);
        }
    }
    Err(invalid(if buf.len() < 10 {
        "truncated varint".to_owned()
    } else {
        "varint longer than 64 bits".to_owned()
    }))
}

fn delimited<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], Error> {
    let len = varint(buf)?;
    match usize::try_from(len) {
        Ok(len) if len <= buf.len() => {
            let (field, rest) = buf.split_at(len);
            *buf = rest;
            Ok(field)
        }
        _ => Err(invalid(format!(
            "length {len} runs past the end of the message ({} bytes left)",
            buf.len()
        ))),
    }
}

fn skip(buf: &mut &[u8], wire: u8) -> Result<(), Error> {
    let fixed = |buf: &mut &[u8], n: usize| match buf.get(n..) {
        Some(rest) => {
            *buf = rest;
            Ok(())
        }
        None => Err(invalid("truncated fixed-width field".to_owned())),
    };
    match wire {
        VARINT => varint(buf).map(drop),
        FIXED64 => fixed(buf, 8),
        LEN => delimited(buf).map(drop),
        FIXED32 => fixed(buf, 4),
        other => Err(invalid(format!("unsupported wire type {other}"))),
    }
}

fn wrong_wire_type(message: &str, field: u64, wire: u8) -> Error {
    invalid(format!("{message} field {field} has wire type {wire}"))
}

fn invalid(what: String) -> Error {
    Error::Protobuf(format!("sample: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    /// Location ids, values and labels of one encoded sample.
    type Read = (Vec<u64>, Vec<i64>, Vec<LabelStrings>);

    fn read_all(bytes: &[u8]) -> Result<Read, Error> {
        let (mut fields, mut values, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        read_fields(bytes, &mut values, &mut labels, &mut fields)?;
        let mut locs = Vec::new();
        for field in fields {
            match field {
                LocationField::One(id) => locs.push(id),
                LocationField::Packed(mut packed) => {
                    while !packed.is_empty() {
                        locs.push(varint(&mut packed)?);
                    }
                }
            }
        }
        Ok((locs, values, labels))
    }

    #[test]
    fn reads_what_prost_writes() {
        let s = super::super::proto::Sample {
            location_id: vec![1, 300, u64::MAX],
            value: vec![-1, 0, i64::MAX, i64::MIN],
            label: vec![super::super::proto::Label {
                key: 5,
                str: 6,
                num: -7,
                num_unit: 8,
            }],
        };
        let (locs, values, labels) = read_all(&s.encode_to_vec()).unwrap();
        assert_eq!(locs, s.location_id);
        assert_eq!(values, s.value);
        assert_eq!(labels, vec![[5, 6, 8]]);
    }

    #[test]
    fn varints_of_every_length_read_as_prost_writes_them() {
        let mut values: Vec<u64> = (0..70_000).collect();
        values.extend((0..64).map(|b| 1u64 << b));
        values.extend((1..64).map(|b| (1u64 << b) - 1));
        values.push(u64::MAX);
        for v in values {
            let mut bytes = Vec::new();
            prost::encoding::encode_varint(v, &mut bytes);
            bytes.push(0xff); // what follows is left alone
            let mut buf = &bytes[..];
            assert_eq!(varint(&mut buf).unwrap(), v);
            assert_eq!(buf, [0xff], "{v}");
            // Cut anywhere inside, it is an error.
            for cut in 0..bytes.len() - 1 {
                assert!(varint(&mut &bytes[..cut]).is_err(), "{v} cut at {cut}");
            }
        }
    }

    #[test]
    fn unpacked_and_unknown_fields() {
        // location_id 7 unpacked, unknown field 9 (varint), value 3 unpacked,
        // unknown field 10 (fixed32), unknown field 11 (fixed64).
        let bytes = [
            0x08, 7, 0x48, 1, 0x10, 3, 0x55, 0, 0, 0, 0, 0x59, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let (locs, values, labels) = read_all(&bytes).unwrap();
        assert_eq!((locs, values, labels.len()), (vec![7], vec![3], 0));
    }

    #[test]
    fn every_truncation_is_an_error_or_a_shorter_sample() {
        let s = super::super::proto::Sample {
            location_id: vec![1, 2, 300_000],
            value: vec![4096, 1],
            label: vec![super::super::proto::Label {
                key: 1,
                num: 4096,
                ..Default::default()
            }],
        };
        let bytes = s.encode_to_vec();
        for cut in 0..bytes.len() {
            let ours = read_all(&bytes[..cut]);
            let prost = super::super::proto::Sample::decode(&bytes[..cut]);
            assert_eq!(ours.is_ok(), prost.is_ok(), "cut at {cut}");
        }
    }

    #[test]
    fn hostile_encodings_are_refused() {
        for bad in [
            &[0x08][..],   // varint missing
            &[0x0a, 5, 1], // packed length past the end
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ], // 11-byte varint
            &[0x0d, 0, 0, 0, 0], // location_id as fixed32
            &[0x1a, 2, 0x0a, 0], // label key as length-delimited
            &[0x00],       // field 0
            &[0x4b],       // wire type 3 (groups)
        ] {
            assert!(read_all(bad).is_err(), "{bad:?}");
        }
    }
}
