//! One escaping layer per output format, for every string that came from a
//! profile or a URL: function and file names, source lines, sample type
//! names, input names.
//!
//! Profiles come from strangers and reports go to public places. A name may
//! hold an escape sequence that retitles the reader's terminal or forges
//! table rows with a carriage return, a newline that ends a markdown table
//! row and starts a heading or a tracking image, or a CSV cell that a
//! spreadsheet runs as a formula. Each output escapes what is special to it
//! and nothing else, so the same name reads the same everywhere: JSON and
//! SVG escape through their own writers (`serde_json`, XML escaping).

use std::borrow::Cow;
use std::fmt::Write;

/// Characters a terminal acts on instead of showing: C0 and C1 controls,
/// DEL, and the bidirectional overrides and isolates that reorder what
/// follows them ("Trojan Source").
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `c` written visibly: `\n`, `\t`, `\r`, `\x1b`, `\u{202e}`.
fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Text for a terminal: every character the terminal would act on (escape
/// sequences, carriage returns, backspaces, bells, bidi overrides) shown as
/// its escape (`\x1b`), so the reader sees the name, not its effect.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_invisible) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_invisible(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text inside a markdown code span: control characters shown as escapes
/// (a newline would end the table row), pipes escaped so that table cells
/// stay cells; backticks cannot be escaped in a span, so a span holding
/// them is fenced with more.
pub(crate) fn markdown_code(s: &str) -> String {
    let s = terminal(s).replace('|', "\\|");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {s} {fence}")
    } else {
        format!("`{s}`")
    }
}

/// Plain text in a markdown table cell or line: every character markdown
/// or its HTML would act on is backslash-escaped (emphasis, links, images,
/// headings, HTML tags and entities, tables), control characters shown as
/// escapes. (A line of text never starts with a name, so list and
/// setext-heading markers need no escape.)
pub(crate) fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in terminal(s).chars() {
        if matches!(
            c,
            '|' | '*' | '_' | '[' | ']' | '<' | '>' | '\\' | '`' | '!' | '#' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A CSV cell holding text from a profile: a leading `=`, `+`, `-`, `@`,
/// tab or carriage return makes spreadsheets read the cell as a formula, so
/// such a cell starts with `'` instead (OWASP's advice); control characters
/// are shown as escapes. (Quoting is the CSV writer's job.)
pub(crate) fn csv_text(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let visible = terminal(s);
    if formula {
        format!("'{visible}")
    } else {
        visible.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_shows_what_it_would_act_on() {
        assert_eq!(terminal("main.go"), "main.go");
        assert!(matches!(terminal("plain"), Cow::Borrowed(_)));
        assert_eq!(
            terminal("a\u{1b}]0;pwned\u{7}b"),
            "a\\x1b]0;pwned\\x07b",
            "OSC 0 (window title)"
        );
        assert_eq!(terminal("x\r+9.9 GiB y\n"), "x\\r+9.9 GiB y\\n");
        assert_eq!(terminal("\u{8}\u{7f}\u{9b}"), "\\x08\\x7f\\x9b");
        assert_eq!(terminal("ab\u{202e}cd"), "ab\\u{202e}cd");
        assert_eq!(terminal("héllo ↳ 日本"), "héllo ↳ 日本");
    }

    #[test]
    fn code_spans_survive_backticks_pipes_and_newlines() {
        assert_eq!(markdown_code("main.go:12"), "`main.go:12`");
        assert_eq!(markdown_code("a|b"), "`a\\|b`");
        assert_eq!(markdown_code("x `y` z"), "`` x `y` z ``");
        assert_eq!(
            markdown_code("f\n# Heading ![x](http://t/p.png)"),
            "`f\\n# Heading ![x](http://t/p.png)`"
        );
    }

    #[test]
    fn text_escapes_markdown() {
        assert_eq!(markdown_text("a_b*c|d<e>"), "a\\_b\\*c\\|d\\<e\\>");
        assert_eq!(markdown_text("x\u{1b}y"), "x\\\\x1by");
        assert_eq!(
            markdown_text("![t](http://x/y.png)"),
            "\\!\\[t\\](http://x/y.png)"
        );
        assert_eq!(markdown_text("a\n# b"), "a\\\\n\\# b");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(
            csv_text("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        for s in ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_text(s).starts_with('\''), "{s:?}");
        }
        assert_eq!(csv_text("main.leak"), "main.leak");
        assert_eq!(csv_text("a\u{1b}b"), "a\\x1bb");
    }
}
