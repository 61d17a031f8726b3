//! What every decoder target checks: the input (after a format prefix that
//! steers it to one decoder) decodes or fails cleanly, and a decoded
//! profile keeps its promises; and a loopback server for the target that
//! fuzzes the live-capture client.

pub mod canned_server;

/// Decodes `prefix` + `data` and checks the profile's invariants.
pub fn decode_checked(prefix: &[u8], data: &[u8]) {
    let mut input = Vec::with_capacity(prefix.len() + data.len());
    input.extend_from_slice(prefix);
    input.extend_from_slice(data);
    if let Ok(p) = heapdiff_profile::decode(&input) {
        for s in p.samples() {
            assert_eq!(s.values.len(), p.header.sample_types.len());
            for f in s.stack {
                let _ = p.frame_name(p.frame(f));
            }
        }
    }
}

/// The pprof decoder's split of a message (its samples found apart from the
/// rest, which alone goes to prost) reads the samples prost reads and fails
/// where prost fails.
pub fn split_matches_prost(data: &[u8]) {
    use heapdiff_profile::pprof::proto::{LazyProfile, SplitProfile};
    use prost::Message as _;
    let input = bytes::Bytes::copy_from_slice(data);
    let split = SplitProfile::decode(input.clone());
    let whole = LazyProfile::decode(input);
    assert_eq!(split.is_ok(), whole.is_ok());
    if let (Ok(split), Ok(whole)) = (split, whole) {
        let want: Vec<&[u8]> = whole.sample.iter().map(|s| &s[..]).collect();
        let n = split.sample_count();
        assert_eq!(n, want.len());
        // From the start and from any split point, the samples prost read.
        for near in [0, n / 3, n / 2, n] {
            let at = split.split_point(near);
            assert!(at <= near);
            let got: Vec<&[u8]> = split.samples(at..n).collect();
            assert_eq!(got, want[at..]);
            let bytes: usize = want[at..].iter().map(|s| s.len()).sum();
            assert_eq!(split.sample_bytes_from(at), bytes);
        }
        assert_eq!(split.rest.location, whole.location);
        assert_eq!(split.rest.string_table, whole.string_table);
        assert_eq!(split.rest.period, whole.period);
    }
}
