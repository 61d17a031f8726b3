#!/usr/bin/env python3
"""Writes big.c: a C program with many distinct allocation sites and call
sites, for measuring symbolization of a heap dump with tens of thousands of
unique addresses (scripts/bench-symbolize.sh).

    python3 gen.py LEAVES GROUPS > big.c

LEAVES functions each allocate at their own line; GROUPS dispatcher
functions call LEAVES/GROUPS of them each, at distinct call sites; main calls
every dispatcher. Every leaf is called once before the first dump and twice
more before the second. Unique return addresses: about 2 * LEAVES + GROUPS.
"""
import sys

leaves = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
groups = int(sys.argv[2]) if len(sys.argv) > 2 else 200
per = leaves // groups

out = ["#include <dlfcn.h>", "#include <stdio.h>", "#include <stdlib.h>", "",
       "static void *keep[1 << 20];", "static size_t kept;", "",
       "static void hold(void *p) { keep[kept++ % (1 << 20)] = p; }", ""]
for i in range(leaves):
    out.append(f"__attribute__((noinline)) void leaf_{i}(void) {{ hold(malloc({16 + i % 96})); }}")
out.append("")
for g in range(groups):
    out.append(f"__attribute__((noinline)) void group_{g}(void) {{")
    for i in range(g * per, (g + 1) * per):
        out.append(f"    leaf_{i}();")
    out.append("}")
out.append("""
static void dump(const char *path) {
    int (*mallctl)(const char *, void *, size_t *, void *, size_t) =
        (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT, "mallctl");
    if (!mallctl || mallctl("prof.dump", NULL, NULL, &path, sizeof path) != 0) {
        fprintf(stderr, "run under jemalloc with MALLOC_CONF=prof:true\\n");
        exit(1);
    }
}

static void all(void) {""")
for g in range(groups):
    out.append(f"    group_{g}();")
out.append("""}

int main(int argc, char **argv) {
    all();
    dump(argc > 2 ? argv[1] : "before.heap");
    all();
    all();
    dump(argc > 2 ? argv[2] : "after.heap");
    return 0;
}""")
print("\n".join(out))
