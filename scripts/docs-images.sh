#!/bin/sh
# Regenerates the flame graphs in docs/images from the shipped fixtures.
#   sh scripts/docs-images.sh
set -eu
cd "$(dirname "$0")/.."
cargo build --release -q -p heapdiff
hd=target/release/heapdiff
out=docs/images
$hd --no-source -n 0 --svg $out/go-leak.svg \
  fixtures/go/before.pb.gz fixtures/go/after.pb.gz >/dev/null
$hd --no-source -n 0 --svg $out/c-jemalloc.svg --binary fixtures/c/leak \
  fixtures/c/jemalloc/before.heap fixtures/c/jemalloc/after.heap >/dev/null
$hd --no-source -n 0 --svg $out/rust-jemalloc-pprof.svg --binary fixtures/rust/leaky-rs.bin \
  fixtures/rust/before.pb.gz fixtures/rust/after.pb.gz >/dev/null
$hd --no-source -n 0 --svg $out/python-tracemalloc.svg --source-root fixtures/python/src \
  fixtures/python/before.tm fixtures/python/after.tm >/dev/null
