//! Library or user code: which frames belong to the program being debugged.
//!
//! The innermost frame of a heap sample is usually library code (Rust's
//! `alloc::raw_vec`, Go's `net/http.Header.Clone`, libc's `strdup`), while
//! the fix goes in the caller in the user's own code. A frame is *library*
//! when its file lies in a toolchain or dependency tree, or its function
//! belongs to one; everything else is *user*. Each stack's **user frame** is
//! its innermost user frame (after allocator frames are dropped).
//!
//! The rules match the frame's `function file:line` (see
//! `docs/diff-semantics.md`, "Library and user frames"); `--library` adds
//! patterns, `--user` marks matches as user code whatever else they match.

use std::sync::LazyLock;

use regex::Regex;

use crate::Key;

/// Built-in library patterns, one alternative per line, matched against
/// `function file:line` (function, then the file, as the table shows them).
const LIBRARY: &[&str] = &[
    // Rust: the toolchain's std/core/alloc (remapped to /rustc/<hash>/ or
    // library/), the cargo registry and git checkouts, rustc's vendored
    // dependencies, and the standard crates by name (for frames without
    // paths, or with cut ones as dhat writes them).
    r"/rustc/[0-9a-f]+/",
    r"(^| )library/(std|core|alloc|proc_macro)/",
    r"[ /](std|core|alloc)/src/",
    r"/\.cargo/(registry|git)/",
    r"/rust/deps/",
    r"^<?(std|core|alloc|hashbrown)::",
    r"^<[^ ]+ as (std|core|alloc)::",
    r"^<\[[^\]]+\]>::|^<str>::",
    // Go: GOROOT (distribution packages, /usr/local/go, Debian's
    // /usr/lib/go-1.NN) and the module cache.
    r" (/usr/local/go|/usr/lib/go-[0-9.]+|/usr/lib/go|[^ ]*/go/pkg/mod|[^ ]*/sdk/go[0-9.]+)/",
    r" [^ ]*/go/src/(runtime|net|internal|sync|fmt|bytes|strings|encoding|reflect|io|os|bufio|compress|crypto|math|sort|strconv|time|unicode|context|errors|hash|mime|path|regexp|syscall|text|vendor)/",
    r" [^ ]*/pkg/mod/",
    // C and C++: system headers, glibc's build-relative sources, and
    // frames named only by a system library.
    r" /usr/include/",
    r" /usr/(lib|local/lib)/gcc/",
    r" \.\.?/(malloc|string|stdlib|libio|stdio-common|elf|nptl|misc|posix|sysdeps|iconv|locale|dlfcn|csu)/",
    r"^(0x[0-9a-f]+|\?\?) \((lib[^ )]*\.so[^ )]*|ld-linux[^ )]*)\)",
    // Python: the standard library, installed packages, frozen modules.
    r"/lib/python[0-9.]+/",
    r"/(site|dist)-packages/",
    r"<frozen ",
    // JavaScript: Node's built-in modules and installed packages (V8's
    // built-ins, which have no file, are told by their format).
    r" node:",
    r"/node_modules/",
    // Go: vendored dependencies.
    r"/vendor/",
    // Java: the JDK's own packages (JFR frames are `package.Class.method`).
    r"^(java|javax|jdk|sun|com\.sun)\.",
];

static BUILTIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&LIBRARY.join("|")).expect("the library patterns are valid"));

/// Tells library frames from user frames.
#[derive(Clone, Debug, Default)]
pub struct Classifier {
    /// More library patterns (`--library`).
    pub library: Vec<Regex>,
    /// Patterns of user code, which win over every library pattern
    /// (`--user`).
    pub user: Vec<Regex>,
}

impl PartialEq for Classifier {
    fn eq(&self, other: &Self) -> bool {
        let s = |v: &[Regex]| v.iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>();
        s(&self.library) == s(&other.library) && s(&self.user) == s(&other.user)
    }
}

impl Eq for Classifier {}

impl Classifier {
    /// Whether a frame, as `function file:line`, is library code.
    pub fn is_library_name(&self, name: &str) -> bool {
        self.is_library_frame(name, false)
    }

    /// Whether a frame, as `function file:line`, is library code, where
    /// `builtin` says its format marks it as the runtime's own (a V8
    /// built-in: no file); `--user` wins over that too.
    pub(crate) fn is_library_frame(&self, name: &str, builtin: bool) -> bool {
        if self.user.iter().any(|r| r.is_match(name)) {
            return false;
        }
        builtin || BUILTIN.is_match(name) || self.library.iter().any(|r| r.is_match(name))
    }

    /// Whether a row's key is library code; `builtins` says that keys
    /// without a file are the runtime's built-ins (V8 profiles).
    pub fn is_library(&self, key: &Key, builtins: bool) -> bool {
        let text = match_text(
            key.function.as_deref().unwrap_or_default(),
            key.file.as_deref().unwrap_or_default(),
            key.line,
        );
        self.is_library_frame(&text, builtins && key.file.is_none())
    }
}

/// Whether a profile's frames without a file are its runtime's built-ins:
/// V8 names its own functions (`Map.prototype.set` as `set`) with no URL.
pub(crate) fn builtins_without_file(profile: &heapdiff_profile::Profile) -> bool {
    profile.format == heapdiff_profile::Format::V8HeapProfile
}

/// A frame as the filters (`--focus`, …) and the library rules (`--library`,
/// `--user`, the built-in ones) see it: `function file:line`, without the
/// file when there is none and without the line when it is unknown (0).
pub(crate) fn match_text(function: &str, file: &str, line: Option<u32>) -> String {
    let mut text = function.to_owned();
    if !file.is_empty() {
        text.push(' ');
        text.push_str(file);
        if let Some(line) = line.filter(|&l| l != 0) {
            text.push(':');
            text.push_str(&line.to_string());
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(function: &str, file: &str) -> Key {
        Key {
            function: (!function.is_empty()).then(|| function.to_owned()),
            file: (!file.is_empty()).then(|| file.to_owned()),
            line: Some(1),
        }
    }

    #[test]
    fn real_paths_of_each_runtime() {
        let c = Classifier::default();
        let library = [
            // Rust (jemalloc_pprof, dhat-rs)
            (
                "alloc::raw_vec::RawVecInner<A>::try_allocate_in",
                "/rustc/17067e9ac6d7e98f18d4f2a5ac1d8d3b2c8d2e8b/library/alloc/src/raw_vec/mod.rs",
            ),
            (
                "hashbrown::raw::alloc::inner::do_alloc",
                "/rust/deps/hashbrown-0.16.1/src/raw/alloc.rs",
            ),
            (
                "<alloc::alloc::Global as core::alloc::Allocator>::allocate",
                "alloc/src/alloc.rs",
            ),
            ("<str as alloc::borrow::ToOwned>::to_owned", ""),
            (
                "<u8 as <[_]>::to_vec_in::ConvertVec>::to_vec::<alloc::alloc::Global>",
                "alloc/src/slice.rs",
            ),
            (
                "tokio::runtime::task::raw::poll",
                "/home/u/.cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.38.0/src/runtime/task/raw.rs",
            ),
            (
                "std::collections::hash::map::HashMap<K,V,S,A>::insert",
                "library/std/src/collections/hash/map.rs",
            ),
            // Go
            (
                "net/http.Header.Clone",
                "/usr/lib/go-1.19/src/net/http/header.go",
            ),
            ("runtime.malg", "/usr/local/go/src/runtime/proc.go"),
            (
                "github.com/gin-gonic/gin.(*Context).Next",
                "/root/go/pkg/mod/github.com/gin-gonic/gin@v1.9.1/context.go",
            ),
            // C, C++
            ("__GI___strdup", "./string/strdup.c"),
            (
                "std::vector<int>::_M_realloc_insert",
                "/usr/include/c++/12/bits/vector.tcc",
            ),
            ("0x7f3a12345678 (libc.so.6)", ""),
            // Python
            (
                "JSONEncoder.encode",
                "/root/.pyenv/versions/3.11.7/lib/python3.11/json/encoder.py",
            ),
            (
                "_compile_bytecode",
                "<frozen importlib._bootstrap_external>",
            ),
            (
                "ClientSession._request",
                "/srv/venv/lib/python3.11/site-packages/aiohttp/client.py",
            ),
            ("#onMessage", "node:inspector"),
            ("parse", "/srv/app/node_modules/qs/lib/parse.js"),
            (
                "(*Decoder).Decode",
                "/src/app/vendor/github.com/x/json/decode.go",
            ),
        ];
        for (f, file) in library {
            assert!(c.is_library(&key(f, file), false), "{f} {file} is library");
        }
        let user = [
            (
                "main.(*headerCache).remember",
                "/work/main/fixtures/go/leaky/main.go",
            ),
            (
                "leaky_rs::Sessions::remember",
                "/work/main/fixtures/rust/leaky-rs/src/main.rs",
            ),
            ("leaky_dhat::Headers::copy_from", "leaky-dhat/src/main.rs"),
            ("copy_header", "/work/main/fixtures/c/leak.c"),
            ("Headers.copy_from", "/srv/shop/headerlib/multidict.py"),
            (
                "make_session_store.<locals>.open_session",
                "/srv/shop/app.py",
            ),
            ("handle (leak.c)", ""),
        ];
        for (f, file) in user {
            assert!(
                !c.is_library(&key(f, file), false),
                "{f} {file} is user code"
            );
        }
    }

    #[test]
    fn frames_without_a_file_are_built_ins_only_where_the_format_says_so() {
        let c = Classifier::default();
        let set = Key {
            function: Some("set".to_owned()),
            file: None,
            line: None,
        };
        assert!(c.is_library(&set, true), "a V8 built-in");
        assert!(
            !c.is_library(&set, false),
            "a C function without debug info"
        );
        assert!(!c.is_library(&key("remember", "/app/leaky.js"), true));
        let user = Classifier {
            library: Vec::new(),
            user: vec![Regex::new("^set$").unwrap()],
        };
        assert!(!user.is_library(&set, true), "--user wins");
    }

    #[test]
    fn rules_see_function_file_and_line() {
        assert_eq!(match_text("f", "a.c", Some(12)), "f a.c:12");
        assert_eq!(match_text("f", "a.c", Some(0)), "f a.c");
        assert_eq!(match_text("f", "", Some(12)), "f");
        assert_eq!(match_text("", "a.py", Some(3)), " a.py:3");
        // A pattern on the line number, as the filters take them.
        let c = Classifier {
            library: vec![Regex::new(r"a\.c:1[0-9]$").unwrap()],
            user: Vec::new(),
        };
        let mut k = key("f", "a.c");
        k.line = Some(12);
        assert!(c.is_library(&k, false));
        k.line = Some(22);
        assert!(!c.is_library(&k, false));
    }

    #[test]
    fn flags_extend_and_override() {
        let c = Classifier {
            library: vec![Regex::new("^headerlib|/headerlib/").unwrap()],
            user: vec![Regex::new("^net/http\\.").unwrap()],
        };
        assert!(c.is_library(
            &key("Headers.copy_from", "/srv/shop/headerlib/multidict.py"),
            false
        ));
        assert!(!c.is_library(
            &key(
                "net/http.Header.Clone",
                "/usr/lib/go-1.19/src/net/http/header.go"
            ),
            false
        ));
    }
}
