//! The whole pipeline on one arbitrary input compared with itself and with
//! a real fixture: sniffing, any decoder, the differ, the table, JSON and
//! the SVG (which must stay well-formed: no raw `<` from a name).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static FIXTURE: &[u8] = include_bytes!("../../fixtures/go/after.pb.gz");

fuzz_target!(|data: &[u8]| {
    let Ok(p) = heapdiff_profile::decode(data) else {
        return;
    };
    static DECODED: OnceLock<heapdiff_profile::Profile> = OnceLock::new();
    let fixture =
        DECODED.get_or_init(|| heapdiff_profile::decode(FIXTURE).expect("the fixture decodes"));
    let inputs = heapdiff_report::Inputs {
        before: "fuzz".into(),
        after: "fuzz".into(),
    };
    for other in [&p, fixture] {
        let Ok(d) = heapdiff_diff::diff(&p, other, &heapdiff_diff::Options::default()) else {
            continue;
        };
        let _ = heapdiff_report::render_table(&d, &inputs, &Default::default());
        let json = heapdiff_report::render_json(&d, &inputs, 0, &[]);
        assert!(json.ends_with("}\n"));
        if let Ok(svg) = heapdiff_report::render_heap_flamegraph(&d, &inputs, &Default::default()) {
            let svg = String::from_utf8(svg).expect("the SVG is UTF-8");
            assert!(!svg.contains('\u{0}'));
        }
    }
});
