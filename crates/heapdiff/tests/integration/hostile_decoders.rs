//! Profiles from strangers, through the real binary: cut files warn
//! (`truncated? …`) or fail, negative values and foreign allocators are
//! named, misleading starts get a message that says what the file really
//! is. Every input is made here, by one generator each.

use std::process::Output;

use crate::common::*;

/// Runs heapdiff (no SVG) in a scratch directory holding `files`.
fn run_on(files: &[(&str, &[u8])], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    heapdiff()
        .current_dir(dir.path())
        .args(args)
        .arg("--no-svg")
        .output()
        .unwrap()
}

/// `before` and `after` compared: stderr of a successful run.
fn warnings_of(before: &[u8], after: &[u8], name: &str) -> String {
    let out = run_on(&[("before", before), (name, after)], &["before", name]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stderr
}

/// The one-line error heapdiff gives for `after` (exit code 2).
fn error_of(after: &[u8], name: &str) -> String {
    let out = run_on(
        &[("before", &folded_whole()), (name, after)],
        &["before", name],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr.trim_end().to_owned()
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("fixtures").join(rel)).unwrap()
}

fn folded_whole() -> Vec<u8> {
    b"main;a 100\nmain;b 200\n".to_vec()
}

/// The gperftools fixture without its first row: the header still counts it.
fn gperftools_missing_a_row() -> Vec<u8> {
    let text = String::from_utf8(fixture("c/gperftools/after.heap")).unwrap();
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    lines.remove(1);
    lines.concat().into_bytes()
}

/// A gperftools dump as HEAPPROFILE leaves it when its 1 MiB buffer is
/// full: rows up to the buffer's end, the header counting more, no maps.
fn gperftools_at_one_mib() -> Vec<u8> {
    let row = "     1:   100 [     1:   100] @ 0x5500000030 0x5500000040\n";
    let rows = ((1 << 20) - 80) / row.len();
    let total = rows + 10;
    let header = format!(
        "heap profile: {total}: {} [{total}: {}] @ heapprofile\n",
        total * 100,
        total * 100
    );
    (header + &row.repeat(rows)).into_bytes()
}

/// The Go `debug=1` sample cut before its `# runtime.MemStats` trailer.
fn go_text_without_trailer() -> Vec<u8> {
    let text = fixture("samples/sample_go1.19_heap_debug1.txt");
    let end = text.windows(9).position(|w| w == b"# runtime").unwrap();
    text[..end].to_vec()
}

/// `heap_v2/4096` cut to `heap_v2/40`.
fn jemalloc_period_cut() -> Vec<u8> {
    b"heap_v2/40".to_vec()
}

/// `main;b 200` cut to `main;b 2`.
fn folded_cut_in_a_count() -> Vec<u8> {
    b"main;a 100\nmain;b 2".to_vec()
}

/// `main;b 200` cut to `main;b`.
fn folded_cut_before_the_count() -> Vec<u8> {
    b"main;a 100\nmain;b".to_vec()
}

fn folded_with_negative_counts() -> Vec<u8> {
    b"main;a 100\nmain;b -20\nmain;c -30\n".to_vec()
}

/// A folded file with a bad third line, well inside the sniffed 4 KiB.
fn folded_with_a_bad_third_line() -> Vec<u8> {
    b"main;a 100\nmain;b 200\nmain;c two hundred\nmain;d 4\n".to_vec()
}

/// Folded stacks whose first line's only frame is the root.
fn folded_root_first() -> Vec<u8> {
    b"main 100\nmain;b 200\n".to_vec()
}

fn folded_after_a_byte_order_mark() -> Vec<u8> {
    [b"\xef\xbb\xbf".as_slice(), &folded_root_first()].concat()
}

const MEMRAY_HEADER: &str = "allocator,num_allocations,size,tid,thread_name,stack_trace\n";

fn memray_row(allocator: &str) -> Vec<u8> {
    format!("{MEMRAY_HEADER}MALLOC,1,64,1,t,f;a.py;1\n{allocator},1,4096,1,t,g;a.py;2\n")
        .into_bytes()
}

fn memray_cut_in_the_last_row() -> Vec<u8> {
    format!("{MEMRAY_HEADER}MALLOC,1,64,1,t,f;a.py;1\nMALLOC,1,4096,1,t,g;a.py;2").into_bytes()
}

/// A Valgrind DHAT file with two call sites in code without symbols, or
/// (`empty`) with no program points.
fn dhat_with_unknown_functions(empty: bool) -> Vec<u8> {
    let pps = match empty {
        true => "",
        false => {
            r#"{"tb":800,"tbk":1,"gb":800,"gbk":1,"eb":800,"ebk":1,"fs":[1]},
            {"tb":1600,"tbk":1,"gb":1600,"gbk":1,"eb":1600,"ebk":1,"fs":[2]}"#
        }
    };
    format!(
        r#"{{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":true,"bkacc":false,
        "tu":"instrs","Mtu":"instrs","cmd":"./a.out","pid":7,"te":100,"tg":50,"pps":[{pps}],
        "ftbl":["[root]","0x10919F: ??? (in /tmp/a.out)","0x1091C4: ??? (in /tmp/a.out)"]}}"#
    )
    .into_bytes()
}

/// A `tracemalloc.Snapshot.dump()` pickle (protocol 4) of one 16-byte
/// trace in each of `domains` domains other than Python's.
fn tracemalloc_with_domains(domains: i32) -> Vec<u8> {
    let str = |out: &mut Vec<u8>, s: &str| {
        out.push(0x8c); // SHORT_BINUNICODE
        out.push(s.len() as u8);
        out.extend(s.as_bytes());
    };
    let int = |out: &mut Vec<u8>, v: i32| {
        out.push(b'J'); // BININT
        out.extend(v.to_le_bytes());
    };
    let mut p = vec![0x80, 4];
    str(&mut p, "tracemalloc");
    str(&mut p, "Snapshot");
    p.extend([0x93, b')', 0x81, b'}', b'(']); // STACK_GLOBAL, (), NEWOBJ, {}, MARK
    str(&mut p, "traces");
    str(&mut p, "tracemalloc");
    str(&mut p, "_Traces");
    p.extend([0x93, b')', 0x81, b'}']);
    str(&mut p, "_traces");
    p.extend([b']', b'(']); // EMPTY_LIST, MARK
    for domain in 1..=domains {
        p.push(b'(');
        int(&mut p, domain);
        int(&mut p, 16);
        p.push(b'(');
        str(&mut p, "app.py");
        int(&mut p, 7);
        p.extend([0x86, b't']); // TUPLE2, TUPLE: the frames
        int(&mut p, 1);
        p.push(b't');
    }
    p.extend([b'e', b's', b'b']); // APPENDS, SETITEM, BUILD
    str(&mut p, "traceback_limit");
    int(&mut p, 25);
    p.extend([b'u', b'b', b'.']); // SETITEMS, BUILD, STOP
    p
}

#[test]
fn header_totals_that_differ_from_the_rows_warn() {
    let stderr = warnings_of(
        &fixture("c/gperftools/before.heap"),
        &gperftools_missing_a_row(),
        "after.heap",
    );
    assert!(
        stderr.contains(
            "heapdiff: warning: after.heap: truncated? the header's totals (34400: 2402590 \
             [38768: 41822648]) differ from the rows' (18400: 423290 [22768: 39843348])"
        ),
        "{stderr}"
    );
}

#[test]
fn gperftools_one_mib_limit_is_named() {
    let dump = gperftools_at_one_mib();
    let stderr = warnings_of(&dump, &dump, "after.heap");
    assert!(
        stderr.contains(
            "heapdiff: warning: after.heap: truncated? gperftools writes at most 1 MiB per dump \
             (HEAPPROFILE's buffer); the header's totals"
        ),
        "{stderr}"
    );
}

#[test]
fn missing_trailers_and_newlines_warn() {
    let go = go_text_without_trailer();
    let stderr = warnings_of(&go, &go, "after.txt");
    assert!(
        stderr.contains(
            "heapdiff: warning: after.txt: truncated? the profile ends without Go's \
             `# runtime.MemStats` trailer"
        ),
        "{stderr}"
    );
    let stderr = warnings_of(&jemalloc_period_cut(), &jemalloc_period_cut(), "after.heap");
    assert!(
        stderr.contains(
            "heapdiff: warning: after.heap: truncated? the dump ends without its \
             `MAPPED_LIBRARIES:` section; the last line (1) ends without a newline"
        ),
        "{stderr}"
    );
    let stderr = warnings_of(&folded_whole(), &folded_cut_in_a_count(), "after.folded");
    assert!(
        stderr.contains(
            "heapdiff: warning: after.folded: truncated? the last line (2) ends without a newline"
        ),
        "{stderr}"
    );
    let stderr = warnings_of(&folded_whole(), &memray_cut_in_the_last_row(), "after.csv");
    assert!(
        stderr.contains(
            "heapdiff: warning: after.csv: truncated? the last row (line 3) ends without a newline"
        ),
        "{stderr}"
    );
}

#[test]
fn a_cut_line_that_does_not_parse_is_an_error_that_says_so() {
    assert_eq!(
        error_of(&folded_cut_before_the_count(), "after.folded"),
        "heapdiff: error: after.folded: line 2: expected `frame;frame;… COUNT`, found \
         \"main;b\" (the last line, without a newline: truncated?)"
    );
}

#[test]
fn whole_fixtures_do_not_warn() {
    for (before, after) in [
        ("c/gperftools/before.heap", "c/gperftools/after.heap"),
        ("c/jemalloc/before.heap", "c/jemalloc/after.heap"),
        ("folded/jeprof/before.folded", "folded/jeprof/after.folded"),
        ("memray/before.csv", "memray/after.csv"),
        ("dhat/valgrind/before.json", "dhat/valgrind/after.json"),
    ] {
        let stderr = warnings_of(&fixture(before), &fixture(after), "after");
        assert!(
            !stderr.contains("truncated?") && !stderr.contains("negative"),
            "{after}: {stderr}"
        );
    }
}

#[test]
fn negative_counts_are_one_warning() {
    let stderr = warnings_of(
        &folded_whole(),
        &folded_with_negative_counts(),
        "after.folded",
    );
    assert_eq!(
        stderr.matches("negative").count(),
        1,
        "one warning per profile: {stderr}"
    );
    assert!(
        stderr.contains("heapdiff: warning: after.folded: negative counts (first on line 2)"),
        "{stderr}"
    );
}

#[test]
fn memray_rows_that_free_or_name_no_allocator_are_refused() {
    let err = error_of(&memray_row("FREE"), "after.csv");
    assert!(
        err.starts_with(
            "heapdiff: error: after.csv: line 3: allocator \"FREE\" frees memory, but \
             `memray transform csv` lists only live allocations"
        ),
        "{err}"
    );
    let err = error_of(&memray_row("MUNMAP"), "after.csv");
    assert!(err.contains("allocator \"MUNMAP\" frees memory"), "{err}");
    let err = error_of(&memray_row("BRK"), "after.csv");
    assert!(err.contains("line 3: unknown allocator \"BRK\""), "{err}");
}

#[test]
fn a_folded_file_with_a_bad_line_near_its_start_names_the_line() {
    assert_eq!(
        error_of(&folded_with_a_bad_third_line(), "after.folded"),
        "heapdiff: error: after.folded: line 3: expected `frame;frame;… COUNT`, found \
         \"main;c two hundred\""
    );
}

#[test]
fn a_utf8_byte_order_mark_is_skipped() {
    let out = run_on(
        &[
            ("before.folded", &folded_root_first()),
            ("after.folded", &folded_after_a_byte_order_mark()),
        ],
        &["before.folded", "after.folded", "-n", "0", "-f", "csv"],
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same stacks on both sides: no frame named `\u{feff}main`.
    let stdout = stdout_of(&out);
    assert!(
        !stdout.contains(",new,") && !stdout.contains('\u{feff}'),
        "{stdout}"
    );
}

#[test]
fn dhat_unknown_functions_stay_apart() {
    let out = run_on(
        &[
            ("before.json", &dhat_with_unknown_functions(true)),
            ("after.json", &dhat_with_unknown_functions(false)),
        ],
        &["before.json", "after.json", "-n", "0", "-f", "csv"],
    );
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("0x10919F: ??? (in /tmp/a.out)")
            && stdout.contains("0x1091C4: ??? (in /tmp/a.out)"),
        "{stdout}"
    );
}

#[test]
fn many_tracemalloc_domains_are_one_warning() {
    let pickle = tracemalloc_with_domains(2000);
    let stderr = warnings_of(&pickle, &pickle, "after.tm");
    assert_eq!(
        stderr.matches("after.tm: tracemalloc").count(),
        1,
        "{}",
        &stderr[..stderr.len().min(500)]
    );
    assert!(
        stderr.contains("tracemalloc: 2000 domains other than Python's hold 2000 blocks"),
        "{}",
        &stderr[..stderr.len().min(500)]
    );
}

/// The first bytes of files that are not profiles as they stand.
fn containers() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let utf16: Vec<u8> = "main;a 100\nmain;b 200\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    vec![
        (
            "after.zst",
            b"\x28\xb5\x2f\xfd\x24\x10\x81\x00\x00".to_vec(),
            "corrupt zstd data: ",
        ),
        (
            "after.bz2",
            b"BZh91AY&SY\x00\x00".to_vec(),
            "bzip2-compressed: decompress it first (`bunzip2 -k FILE`)",
        ),
        (
            "after.xz",
            b"\xfd7zXZ\x00\x00\x04\xe6\xd6".to_vec(),
            "xz-compressed: decompress it first (`xz -dk FILE`)",
        ),
        (
            "after.zip",
            b"PK\x03\x04\x14\x00\x00\x00".to_vec(),
            "a zip archive: extract the profile first (`unzip FILE`)",
        ),
        (
            "after.lz4",
            b"\x04\x22\x4d\x18\x64\x40\xa7\x05\x00\x00\x80hello".to_vec(),
            "LZ4-compressed: decompress it first (`lz4 -d FILE`)",
        ),
        (
            "after.txt",
            [b"\xff\xfe".as_slice(), &utf16].concat(),
            "UTF-16 text: convert it to UTF-8 first (`iconv -f UTF-16 -t UTF-8 FILE`)",
        ),
        (
            "after.folded",
            utf16,
            "UTF-16 text: convert it to UTF-8 first",
        ),
    ]
}

#[test]
fn containers_and_utf16_say_what_they_are() {
    for (name, bytes, want) in containers() {
        let err = error_of(&bytes, name);
        assert!(
            err.starts_with(&format!("heapdiff: error: {name}: {want}")),
            "{err}"
        );
    }
}

#[test]
fn zero_padding_after_gzip_is_ignored_with_a_warning() {
    let mut padded = fixture("go/after.pb.gz");
    padded.extend([0u8; 4096]);
    let stderr = warnings_of(&fixture("go/before.pb.gz"), &padded, "padded.pb.gz");
    assert!(
        stderr.contains("padded.pb.gz: zero bytes after the gzip data were ignored"),
        "{stderr}"
    );
    let mut garbage = fixture("go/after.pb.gz");
    garbage.extend(b"\0\0trailing junk");
    let err = error_of(&garbage, "junk.pb.gz");
    assert!(err.contains("neither gzip nor padding"), "{err}");
}

#[test]
fn a_plain_file_over_the_limit_is_not_called_a_gzip_bomb() {
    let out = run_on(
        &[("big.folded", &[b'x'; 4096]), ("a.folded", b"main;f 1\n")],
        &["big.folded", "a.folded", "--max-input", "1KiB"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("big.folded: the input is larger than 1 KiB (--max-input)"),
        "{stderr}"
    );
    assert!(!stderr.contains("bomb"), "{stderr}");
}
