#!/bin/sh
# Symbolization speed: a jemalloc dump pair of a C program with tens of
# thousands of unique return addresses (bench/cbig), symbolized by heapdiff
# in-process and by jeprof (which runs addr2line and nm), in the same run.
#
#   sh scripts/bench-symbolize.sh [LEAVES]     # default 20000
#
# Needs gcc, python3, libjemalloc-dev (jeprof, libjemalloc.so.2).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
leaves=${1:-20000}
out="$root/target/bench/cbig-$leaves"
mkdir -p "$out"
if [ ! -s "$out/after.heap" ]; then
  python3 "$root/bench/cbig/gen.py" "$leaves" 200 > "$out/big.c"
  gcc -g -O1 -o "$out/big" "$out/big.c"
  MALLOC_CONF=prof:true,lg_prof_sample:0 LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
    "$out/big" "$out/before.heap" "$out/after.heap"
fi
(cd "$root" && cargo build --release -q -p heapdiff)
bin="$root/target/release/heapdiff"
addrs=$(grep '^@' "$out/after.heap" "$out/before.heap" | tr ' ' '\n' | grep '^0x' | sort -u | wc -l)
echo "dumps: $(grep -c '^@' "$out/after.heap") stacks, $addrs unique addresses"
cd "$out"
if command -v hyperfine >/dev/null; then
  hyperfine -w 1 -r "${RUNS:-5}" --export-markdown results.md \
    "$bin before.heap after.heap --binary big --no-svg" \
    "jeprof --text --lines --show_bytes --base=before.heap big after.heap"
  cat results.md
else
  /usr/bin/time -f "heapdiff: %e s, %M KiB" "$bin" before.heap after.heap --binary big --no-svg >/dev/null
  /usr/bin/time -f "jeprof: %e s, %M KiB" jeprof --text --lines --show_bytes --base=before.heap big after.heap >/dev/null 2>&1
fi
