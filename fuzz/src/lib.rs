//! What every decoder target checks: the input (after a format prefix that
//! steers it to one decoder) decodes or fails cleanly, and a decoded
//! profile keeps its promises.

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
