//! Naming Python frames from their source.
//!
//! tracemalloc records a file and a line per frame, never a function. The
//! enclosing `def` or `class` of that line, read from the source, gives the
//! name Python itself would print: its qualified name (`Headers.copy_from`,
//! `make_app.<locals>.handler`), or `<module>` at module level.
//!
//! A source file is looked for under each `--source-root` (the recorded path
//! with leading directories stripped one at a time, longest match first, so
//! that `/srv/shop/headerlib/multidict.py` is found as
//! `ROOT/headerlib/multidict.py`), then at the recorded path. Each file is
//! read and scanned once, and only if [`Readable`] admits it (a stranger's
//! profile may name `/proc/self/environ` or `~/.aws/credentials`).
//!
//! The scanner follows Python's block structure the way the tokenizer does,
//! as far as names need: logical lines (brackets, backslash continuations
//! and triple-quoted strings join physical lines), indentation (tabs to the
//! next multiple of 8), comments and blank lines (which never close a
//! block). A `def`/`class` header line belongs to the enclosing scope, as
//! its decorators and default arguments run there; the body to the new one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use crate::readable::Readable;
use crate::source::{Located, locate, read};

/// The scope of every line of one source file.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scopes {
    /// Qualified names; index 0 is `<module>`.
    names: Vec<String>,
    /// Per line (0-based): index into `names`.
    line_scope: Vec<u32>,
}

impl Scopes {
    /// The qualified name of the scope holding `line` (1-based), or
    /// `None` past the end of the file.
    pub(crate) fn name_of(&self, line: u32) -> Option<&str> {
        let i = usize::try_from(line).ok()?.checked_sub(1)?;
        let scope = *self.line_scope.get(i)?;
        Some(&self.names[scope as usize])
    }

    /// Scans a Python source file.
    pub(crate) fn scan(source: &str) -> Scopes {
        #[derive(Clone, Copy, PartialEq)]
        enum Kind {
            Function,
            Class,
        }
        struct Open {
            indent: usize,
            name: u32,
            kind: Kind,
        }
        let mut scopes = Scopes {
            names: vec!["<module>".to_owned()],
            line_scope: Vec::new(),
        };
        let mut stack: Vec<Open> = Vec::new();
        let mut lexer = Lexer::default();
        // While a `def`/`class` header spans lines, the scope it runs in.
        let mut header_in: Option<u32> = None;
        for line in source.lines() {
            if lexer.at_statement_start() {
                header_in = None;
                let body = line.trim_start_matches([' ', '\t', '\x0c']);
                if !body.is_empty() && !body.starts_with('#') {
                    let indent = indentation(line);
                    while stack.last().is_some_and(|o| o.indent >= indent) {
                        stack.pop();
                    }
                    let current = stack.last().map_or(0, |o| o.name);
                    scopes.line_scope.push(current);
                    if let Some((kind, name)) = definition(body) {
                        let kind = if kind == "class" {
                            Kind::Class
                        } else {
                            Kind::Function
                        };
                        let qualified = match stack.last() {
                            None => name.to_owned(),
                            Some(o) if o.kind == Kind::Class => {
                                format!("{}.{name}", scopes.names[o.name as usize])
                            }
                            Some(o) => format!("{}.<locals>.{name}", scopes.names[o.name as usize]),
                        };
                        let id = u32::try_from(scopes.names.len()).unwrap_or(0);
                        scopes.names.push(qualified);
                        header_in = Some(current);
                        stack.push(Open {
                            indent,
                            name: id,
                            kind,
                        });
                        lexer.scan(line);
                        // `def f(): return x` has its body on the header line.
                        if lexer.at_statement_start() && has_inline_body(body) {
                            *scopes.line_scope.last_mut().expect("pushed above") = id;
                        }
                        continue;
                    }
                    lexer.scan(line);
                    continue;
                }
            }
            let scope = header_in.unwrap_or_else(|| stack.last().map_or(0, |o| o.name));
            scopes.line_scope.push(scope);
            lexer.scan(line);
        }
        scopes
    }
}

/// Width of a line's leading whitespace, tabs to the next multiple of 8.
fn indentation(line: &str) -> usize {
    let mut col = 0;
    for c in line.chars() {
        match c {
            ' ' => col += 1,
            '\t' => col = (col / 8 + 1) * 8,
            '\x0c' => col = 0,
            _ => break,
        }
    }
    col
}

/// `def NAME`, `async def NAME` or `class NAME` at the start of a statement.
fn definition(body: &str) -> Option<(&'static str, &str)> {
    let rest = body.strip_prefix("async").map_or(body, |r| {
        if r.starts_with([' ', '\t']) {
            r.trim_start()
        } else {
            body
        }
    });
    let (kind, rest) = if let Some(r) = rest.strip_prefix("def") {
        ("def", r)
    } else if let Some(r) = rest.strip_prefix("class") {
        ("class", r)
    } else {
        return None;
    };
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some((kind, name))
}

/// Whether a one-line header (`def f(): return 1`) has code after its colon.
fn has_inline_body(body: &str) -> bool {
    let mut lexer = Lexer::default();
    let mut last_colon = None;
    for (i, c) in body.char_indices() {
        let outside = lexer.depth == 0 && lexer.string.is_none();
        if outside && c == '#' {
            break;
        }
        if outside && c == ':' {
            last_colon = Some(i);
        }
        lexer.step(body, i, c);
    }
    last_colon.is_some_and(|i| {
        let after = body[i + 1..].trim();
        !after.is_empty() && !after.starts_with('#')
    })
}

/// Just enough of Python's tokenizer to know where statements start.
#[derive(Default)]
struct Lexer {
    /// Open brackets.
    depth: u32,
    /// Inside a string: its quote and whether it is triple-quoted.
    string: Option<(char, bool)>,
    /// The previous line ended with a backslash.
    continued: bool,
    /// Characters to skip (escapes, the rest of a triple quote).
    skip: usize,
}

impl Lexer {
    fn at_statement_start(&self) -> bool {
        self.depth == 0 && self.string.is_none() && !self.continued
    }

    fn scan(&mut self, line: &str) {
        self.continued = false;
        self.skip = 0;
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if self.skip > 0 {
                self.skip -= 1;
                continue;
            }
            if self.string.is_none() && c == '#' {
                break;
            }
            if c == '\\' && chars.peek().is_none() {
                // A backslash at the end of a line joins the next one (in a
                // single-quoted string it continues the string).
                self.continued = self.string.is_none();
                return;
            }
            self.step(line, i, c);
        }
        // A single-quoted string cannot span lines without a backslash.
        if matches!(self.string, Some((_, false))) {
            self.string = None;
        }
    }

    fn step(&mut self, line: &str, i: usize, c: char) {
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        let rest = &line[i..];
        match self.string {
            Some((q, triple)) => {
                if c == '\\' {
                    self.skip = 1;
                } else if c == q {
                    if !triple {
                        self.string = None;
                    } else if rest.starts_with(&format!("{q}{q}{q}")) {
                        self.string = None;
                        self.skip = 2;
                    }
                }
            }
            None => match c {
                '(' | '[' | '{' => self.depth += 1,
                ')' | ']' | '}' => self.depth = self.depth.saturating_sub(1),
                '\'' | '"' => {
                    let triple = rest.starts_with(&format!("{c}{c}{c}"));
                    self.string = Some((c, triple));
                    if triple {
                        self.skip = 2;
                    }
                }
                _ => {}
            },
        }
    }
}

/// Source files by recorded path, read once.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    roots: Vec<PathBuf>,
    readable: Readable,
    files: HashMap<String, Result<Rc<Scopes>, Located>>,
}

impl Sources {
    /// Looks under `roots` (`--source-root`) first, then at the recorded
    /// paths; reads only what [`Readable`] admits.
    pub(crate) fn new(roots: Vec<PathBuf>) -> Self {
        Sources {
            readable: Readable::new(&roots),
            roots,
            files: HashMap::new(),
        }
    }

    /// The scopes of a recorded file, or `None` when it cannot or may not
    /// be read. Pseudo-files (`<frozen importlib._bootstrap>`, `<string>`)
    /// have none.
    pub(crate) fn scopes(&mut self, recorded: &str) -> Option<Rc<Scopes>> {
        if let Some(known) = self.files.get(recorded) {
            return known.as_ref().ok().cloned();
        }
        let found = if recorded.starts_with('<') {
            Err(Located::Missing)
        } else {
            match locate(&self.roots, &self.readable, recorded) {
                Located::Found(path) => read(&path)
                    .map(|bytes| Rc::new(Scopes::scan(&String::from_utf8_lossy(&bytes))))
                    .ok_or(Located::Missing),
                other => Err(other),
            }
        };
        self.files.insert(recorded.to_owned(), found.clone());
        found.ok()
    }

    /// Recorded files that were looked for and not found (not pseudo-files).
    pub(crate) fn missing(&self) -> Vec<&str> {
        self.recorded(&Located::Missing)
    }

    /// Recorded files that exist but may not be read (see [`Readable`]).
    pub(crate) fn refused(&self) -> Vec<&str> {
        self.recorded(&Located::Refused)
    }

    fn recorded(&self, why: &Located) -> Vec<&str> {
        let mut files: Vec<&str> = self
            .files
            .iter()
            .filter(|(k, v)| v.as_ref().err() == Some(why) && !k.starts_with('<'))
            .map(|(k, _)| k.as_str())
            .collect();
        files.sort_unstable();
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"import functools

CACHE = []   # line 3


class Headers:
    """A mapping.

def not_a_function():
    """
    kind = "case-insensitive"

    def __init__(self, items=(
            1, 2)):
        self._items = list(items)

    @functools.lru_cache
    def copy_from(self, other):
        self._items = [
            (k, v)
 for k, v in other]
        return self


def make_handler(cache):
    def handler(request):
        cache.append(Headers().copy_from(request))  # leak
    return handler

async  def serve():
    s = "def fake(): \
  pass"
	x = 1
    class Local:
        def m(self): return [0] * 10
    return Local
CACHE.append(1)
"#;

    fn names() -> Vec<(u32, String)> {
        let s = Scopes::scan(SOURCE);
        (1..=SOURCE.lines().count() as u32)
            .map(|l| (l, s.name_of(l).unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn every_line_gets_its_enclosing_qualified_name() {
        let names = names();
        let at = |l: u32| names[l as usize - 1].1.as_str();
        assert_eq!(at(3), "<module>");
        assert_eq!(at(6), "<module>", "a class header runs in its parent");
        assert_eq!(at(7), "Headers");
        assert_eq!(at(9), "Headers", "inside a docstring");
        assert_eq!(at(11), "Headers", "class body");
        assert_eq!(at(13), "Headers", "a def header runs in its parent");
        assert_eq!(at(14), "Headers", "default arguments too");
        assert_eq!(at(15), "Headers.__init__");
        assert_eq!(at(17), "Headers", "decorators too");
        assert_eq!(at(19), "Headers.copy_from");
        assert_eq!(
            at(21),
            "Headers.copy_from",
            "inside brackets, whatever the indent"
        );
        assert_eq!(at(22), "Headers.copy_from");
        assert_eq!(at(27), "make_handler.<locals>.handler");
        assert_eq!(at(28), "make_handler");
        assert_eq!(at(31), "serve", "async def with two spaces");
        assert_eq!(at(32), "serve", "backslash continuation inside a string");
        assert_eq!(at(33), "serve", "a tab indents to column 8");
        assert_eq!(at(35), "serve.<locals>.Local.m", "one-line body");
        assert_eq!(at(36), "serve");
        assert_eq!(at(37), "<module>");
        assert_eq!(Scopes::scan(SOURCE).name_of(99), None);
        assert_eq!(Scopes::scan(SOURCE).name_of(0), None);
    }

    #[test]
    fn definitions_are_recognised_only_as_statements() {
        assert_eq!(definition("def f(x):"), Some(("def", "f")));
        assert_eq!(definition("async def run():"), Some(("def", "run")));
        assert_eq!(definition("class C(Base):"), Some(("class", "C")));
        assert_eq!(definition("class\tÉté:"), Some(("class", "Été")));
        assert_eq!(definition("default = 1"), None);
        assert_eq!(definition("classes = []"), None);
        assert_eq!(definition("asyncdef = 2"), None);
        assert!(has_inline_body("def f(): return {'a': 1}"));
        assert!(!has_inline_body("def f(x: int = 1) -> dict:  # note"));
        assert!(!has_inline_body("def f(s=':'):"));
    }

    #[test]
    fn sources_are_found_under_a_root_by_their_longest_suffix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("headerlib")).unwrap();
        std::fs::write(
            dir.path().join("headerlib/multidict.py"),
            "class H:\n    x = []\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("multidict.py"), "y = 1\n").unwrap();
        let mut sources = Sources::new(vec![dir.path().to_path_buf()]);
        let s = sources.scopes("/srv/shop/headerlib/multidict.py").unwrap();
        assert_eq!(
            s.name_of(2),
            Some("H"),
            "headerlib/multidict.py beats multidict.py"
        );
        assert!(sources.scopes("/srv/shop/nothing.py").is_none());
        assert!(sources.scopes("<frozen importlib._bootstrap>").is_none());
        assert_eq!(sources.missing(), ["/srv/shop/nothing.py"]);
        assert!(sources.scopes("/proc/self/environ").is_none());
        assert_eq!(sources.refused(), ["/proc/self/environ"]);
    }
}
