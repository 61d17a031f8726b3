//! Allocator frames: the functions between the user's allocating line and the
//! heap profiler's hook (malloc, operator new, jemalloc's and tcmalloc's
//! internals, Rust's `__rust_alloc`, Go's `runtime.mallocgc` family).
//!
//! They are dropped from the leaf end of every stack by default, so that the
//! leaf is the line that asked for memory. Only a run of allocator frames at
//! the leaf is dropped, never a frame further up, and never the last frame of
//! a stack made only of allocator frames.
//!
//! Names are matched whole; gcc's clone suffixes (`.constprop.0`, `.isra.0`,
//! `.part.0`, `.cold`) are allowed after any of them.

use std::sync::LazyLock;

use regex::Regex;

/// One alternative per line, grouped by runtime.
const PATTERNS: &[&str] = &[
    // C allocation API (glibc's internal names included).
    r"malloc|calloc|realloc|reallocarray|valloc|pvalloc|memalign|aligned_alloc|posix_memalign",
    r"__libc_(malloc|calloc|realloc|memalign|valloc|pvalloc)|_int_(malloc|realloc|memalign)",
    r"__GI___libc_(malloc|calloc|realloc)|malloc_default|realloc_default",
    // jemalloc: exported symbols (prefixed je_ or, in tikv-jemallocator, _rjem_)
    // and the internals that sit above the backtrace hook.
    r"je_.*|_rjem_.*|mallocx|rallocx|xallocx|do_rallocx|do_realloc_nonnull_zero",
    r"prof_backtrace(_impl)?|prof_alloc_prep|prof_tctx_create|imalloc(_body)?|ialloc|ipalloc",
    r"iralloc(t)?|irallocx_prof(_sample)?|irealloc_prof(_sample)?|ialloc_prof(_sample)?",
    // gperftools / tcmalloc.
    r"tcmalloc::.*|tc_.*|MallocHook::.*|MallocHook_.*|HeapProfileTable::.*|MallocBlock::.*",
    r"\(anonymous namespace\)::(do_malloc|do_calloc|do_realloc|do_memalign|cpp_alloc|do_malloc_or_cpp_alloc|do_malloc_pages|retry_malloc|handle_oom|nop_oom_handler|NewHook|RecordAlloc|MallocHook)\b.*",
    r"DoSampledAllocation|NewHook|RecordAlloc",
    // C++ operator new and the standard allocators.
    r"operator new.*|_Zn[wa].*",
    r"(std|__gnu_cxx)::(__new_allocator|new_allocator|allocator|allocator_traits|__alloc_traits)<.*>::allocate.*",
    // Rust's global allocator shims and the alloc crate's entry points.
    r"(__rustc::)?__rust_(alloc|alloc_zeroed|realloc)|__rdl_(alloc|alloc_zeroed|realloc)|__rg_(alloc|alloc_zeroed|realloc)",
    r"alloc::alloc::.*|std::alloc::.*|<.* as core::alloc::global::GlobalAlloc>::(alloc|alloc_zeroed|realloc)",
    r"<alloc::alloc::Global(?: as core::alloc::Allocator)?>::.*",
    // Frames the symbolizer could only name by address, in an allocator's
    // own library (a stripped libjemalloc's internals).
    r"0x[0-9a-f]+ \((?:libjemalloc|libtcmalloc|libmimalloc|libhoard|libsnmalloc)[\w.+-]*\)",
    // Go runtime allocation entry points (the runtime hides most of them from
    // heap profiles already; they appear in all-runtime stacks).
    r"runtime\.(mallocgc|newobject|newarray|makeslice|makeslicecopy|growslice|makemap|makemap_small|makechan|rawstring|rawstringtmp|rawbyteslice|rawruneslice|stringtoslicebyte|stringtoslicerune|slicebytetostring|slicerunetostring|concatstrings|concatstring[2-5]|convT|convT16|convT32|convT64|convTstring|convTslice|convTnoptr|intstring|mProf_Malloc|profilealloc)",
];

static ALLOCATOR: LazyLock<Regex> = LazyLock::new(|| {
    let alternatives = PATTERNS.join("|");
    Regex::new(&format!(
        r"^(?:{alternatives})(?:\.(?:constprop|isra|part|cold|lto_priv)(?:\.\d+)?)*$"
    ))
    .expect("the allocator patterns are valid")
});

/// Whether a function name is an allocator frame.
pub fn is_allocator_frame(function: &str) -> bool {
    !function.is_empty() && ALLOCATOR.is_match(function)
}

/// Whether an unsymbolized frame lies in an allocator's own library.
pub fn is_allocator_library(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    [
        "libjemalloc",
        "libtcmalloc",
        "libmimalloc",
        "libhoard",
        "libsnmalloc",
    ]
    .iter()
    .any(|lib| name.starts_with(lib))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_frames_of_each_runtime() {
        for name in [
            "malloc",
            "calloc",
            "realloc",
            "posix_memalign",
            "__libc_malloc",
            "je_malloc_default",
            "_rjem_je_prof_backtrace",
            "prof_backtrace_impl",
            "imalloc_body.constprop.0",
            "tcmalloc::allocate_full_malloc_oom",
            "tc_newarray",
            "(anonymous namespace)::do_malloc(unsigned long)",
            "operator new(unsigned long)",
            "operator new[](unsigned long)",
            "_Znwm",
            "std::__new_allocator<int>::allocate(unsigned long, void const*)",
            "__rust_alloc",
            "__rustc::__rust_realloc",
            "alloc::alloc::exchange_malloc",
            "<tikv_jemallocator::Jemalloc as core::alloc::global::GlobalAlloc>::alloc",
            "<alloc::alloc::Global as core::alloc::Allocator>::allocate",
            "<alloc::alloc::Global>::alloc_impl_runtime",
            "runtime.mallocgc",
            "runtime.newobject",
            "runtime.growslice",
            "runtime.concatstring3",
            "0x22044 (libjemalloc.so.2)",
            "0x1f00 (libtcmalloc_minimal.so.4.5.10)",
        ] {
            assert!(
                is_allocator_frame(name),
                "{name} should be an allocator frame"
            );
        }
    }

    #[test]
    fn user_and_library_frames_are_not() {
        for name in [
            "",
            "main.main",
            "mallocTracker",
            "my_malloc_wrapper",
            "prof_report",
            "(anonymous namespace)::parse_headers",
            "alloc::vec::Vec<T>::push",
            "alloc::raw_vec::finish_grow",
            "runtime.malg",
            "runtime.main",
            "net/http.Header.Clone",
            "strdup",
            "std::vector<int>::push_back(int const&)",
            "0x1234 (libc.so.6)",
        ] {
            assert!(
                !is_allocator_frame(name),
                "{name} should not be an allocator frame"
            );
        }
    }
}
