//! Library rows point at the user's code (`↳`, JSON `via`), and
//! `--attribute user` ranks the user's own lines.

use serde_json::Value;

use crate::common::*;

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--no-svg", "--format", "json", "--top", "0"]);
    serde_json::from_str(&stdout_of(&run(&all))).unwrap()
}

fn row<'a>(j: &'a Value, function: &str, line: u64) -> &'a Value {
    j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["function"] == function && r["line"] == line)
        .unwrap_or_else(|| panic!("no row {function}:{line}"))
}

#[test]
fn go_header_clone_points_at_the_cache() {
    let j = json(&[GO_BEFORE, GO_AFTER]);
    assert_eq!(j["attribute"], "leaf");
    let clone = row(&j, "net/http.Header.Clone", 114);
    assert_eq!(
        clone["via"]["function"], "main.(*headerCache).remember",
        "{clone}"
    );
    assert!(
        clone["via"]["file"]
            .as_str()
            .unwrap()
            .ends_with("fixtures/go/leaky/main.go")
    );
    let share = clone["via"]["share"].as_f64().unwrap();
    assert!(share > 0.9 && share <= 1.0, "{share}");
    // The program's own line has no via: it is user code.
    assert!(
        row(&j, "main.(*headerCache).remember", 44)
            .get("via")
            .is_none()
    );
    let table = stdout_of(&run(&[GO_BEFORE, GO_AFTER, "--no-svg", "--no-source"]));
    let lines: Vec<&str> = table.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("net/http.Header.Clone") && l.contains("header.go:114"))
        .unwrap();
    assert!(
        lines[at + 1]
            .trim_start()
            .starts_with("↳ main.(*headerCache).remember")
            && lines[at + 1].contains("main.go:"),
        "{table}"
    );
}

#[test]
fn rust_user_attribution_ranks_the_programs_own_line_first() {
    let args = [
        "fixtures/rust/before.pb.gz",
        "fixtures/rust/after.pb.gz",
        "--binary",
        "fixtures/rust/leaky-rs.bin",
    ];
    let leaf = json(&args);
    assert!(
        leaf["rows"][0]["function"]
            .as_str()
            .unwrap()
            .starts_with("alloc::"),
        "the leaf view starts in the standard library: {}",
        leaf["rows"][0]
    );
    assert!(
        leaf["rows"][0]["via"]["function"]
            .as_str()
            .unwrap()
            .starts_with("leaky_rs::")
    );
    let mut user_args = args.to_vec();
    user_args.extend(["--attribute", "user"]);
    let user = json(&user_args);
    assert_eq!(user["attribute"], "user");
    let top = &user["rows"][0];
    assert!(
        top["function"].as_str().unwrap().starts_with("leaky_rs::"),
        "{top}"
    );
    assert!(
        top["file"]
            .as_str()
            .unwrap()
            .ends_with("leaky-rs/src/main.rs"),
        "{top}"
    );
    assert!(top.get("via").is_none());
    // Totals do not depend on where values are charged.
    assert_eq!(user["after_total"], leaf["after_total"]);
}

#[test]
fn library_and_user_flags_move_the_line() {
    // Declaring the Python fixture's vendored headerlib a library moves its
    // rows' attribution to the app's handler.
    let args = [
        "fixtures/python/before.tm",
        "fixtures/python/after.tm",
        "--source-root",
        "fixtures/python/src",
        "--library",
        "/headerlib/",
    ];
    let j = json(&args);
    let copy = row(&j, "Headers.copy_from", 53);
    assert_eq!(copy["via"]["function"], "RequestHandler.handle", "{copy}");
    let mut user = args.to_vec();
    user.extend(["--attribute", "user"]);
    let u = json(&user);
    assert_eq!(
        u["rows"][0]["function"], "RequestHandler.handle",
        "{}",
        u["rows"][0]
    );
}

#[test]
fn by_function_library_code_is_judged_on_its_frames_files() {
    // `--by function` keys have no file, but their frames do: Go's
    // standard library stays library code, the leak stays yours.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("f.svg");
    stdout_of(&run(&[
        GO_BEFORE,
        GO_AFTER,
        "--by",
        "function",
        "--svg",
        svg.to_str().unwrap(),
    ]));
    let svg = std::fs::read_to_string(svg).unwrap();
    let title = |name: &str| {
        let at = svg.find(&format!("<title>{name}\n")).unwrap();
        svg[at..at + svg[at..].find("</title>").unwrap()].to_owned()
    };
    assert!(
        title("net/http.Header.Clone").ends_with("library code"),
        "{}",
        title("net/http.Header.Clone")
    );
    assert!(title("main.(*headerCache).remember").ends_with("your code"));
}
