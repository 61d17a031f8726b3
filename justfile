# heapdiff's dev loop. `just --list` shows the recipes.

# Format the workspace.
fmt:
    cargo fmt --all

# Lint as CI does.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# Run every test (the README's test command).
test:
    cargo test --workspace

# Re-record golden outputs after an intended change; review `git diff` after.
bless:
    HEAPDIFF_BLESS=1 cargo test --workspace

# Exactly what CI runs.
ci:
    .ci/run

# Regenerate the fixtures and the reference tools' output (needs golang-go, curl,
# gcc, libjemalloc-dev, google-perftools, libgoogle-perftools-dev, binutils, python3 with
# memray from PyPI, valgrind, heaptrack).
fixtures:
    sh fixtures/go/regen.sh
    sh fixtures/go-trend/regen.sh
    sh fixtures/c/regen.sh
    sh fixtures/rust/regen.sh
    sh fixtures/python/regen.sh
    sh fixtures/memray/regen.sh
    sh fixtures/dhat/regen.sh
    sh fixtures/folded/regen.sh

# End-to-end timing on a large generated Go heap pair, against zcat (needs golang-go).
bench *ARGS:
    sh scripts/bench.sh {{ARGS}}

# Per-stage criterion benchmarks (decode each format, diff, render, symbolize).
bench-stages:
    cargo bench -p heapdiff-benchgen

# End-to-end timing on a real Go program's big heap pair, against zcat and pprof (needs golang-go).
bench-go *ARGS:
    sh scripts/bench-go.sh {{ARGS}}

# Symbolization of a jemalloc dump with ~40,000 unique addresses, against jeprof.
bench-symbolize *ARGS:
    sh scripts/bench-symbolize.sh {{ARGS}}

# Open the example flame graph in headless Chromium: search, zoom, no script errors
# (needs chromium and `npm install playwright-core` in scripts/).
svg-check SVG="crates/heapdiff/tests/golden/go.svg":
    node scripts/svg-check.js {{SVG}}

# Fuzz one target (pprof, gzip, jemalloc, heap_text, tracemalloc, folded, memray_csv, dhat,
# pipeline, roundtrip) for SECONDS, or every target in turn with TARGET=all; needs
# `cargo install cargo-fuzz` and a nightly toolchain. The last libFuzzer line of each run goes to
# stdout, the whole log to fuzz/artifacts/TARGET.log.
fuzz TARGET SECONDS="600":
    sh fuzz/campaign.sh {{SECONDS}} {{ if TARGET == "all" { "" } else { TARGET } }}
