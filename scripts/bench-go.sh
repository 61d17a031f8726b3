#!/bin/sh
# End-to-end timing of heapdiff on a large, real Go heap-profile pair, next
# to the cost of merely decompressing the inputs (zcat), in the same run.
#
# The pair is written by bench/gobig (a Go program profiled with
# MemProfileRate = 1); nothing generated here is committed.
#
#   sh scripts/bench-go.sh [LEAVES]      # default 380000 (~25 MB decompressed)
#
# Needs golang-go; uses hyperfine when installed. With `go tool pprof`
# present, set PPROF=1 to time it too (slow: tens of seconds).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
leaves=${1:-380000}
out="$root/target/bench/go-$leaves"
mkdir -p "$out"

if [ ! -s "$out/after.pb.gz" ]; then
  (cd "$root/bench/gobig" && go build -o "$out/gobig" .)
  "$out/gobig" -out "$out" -levels 7 -leaves "$leaves"
fi
(cd "$root" && cargo build --release -q -p heapdiff)
bin="$root/target/release/heapdiff"
b="$out/before.pb.gz"
a="$out/after.pb.gz"

echo "input: $(du -k "$b" "$a" | awk '{s+=$1} END {print s}') KiB gzipped," \
  "$(zcat "$b" "$a" | wc -c | awk '{printf "%.1f", $1/1048576}') MiB decompressed"

if command -v hyperfine >/dev/null; then
  set -- "zcat $b $a" "$bin $b $a --svg $out/out.svg" "$bin $b $a --no-svg"
  if [ "${PPROF:-0}" = 1 ]; then
    set -- "$@" "go tool pprof -top -lines -diff_base $b $a"
  fi
  hyperfine -N -w 1 -r "${RUNS:-5}" --export-markdown "$out/results.md" "$@" 2>/dev/null || \
    hyperfine -w 1 -r "${RUNS:-5}" --export-markdown "$out/results.md" "$@"
  cat "$out/results.md"
else
  /usr/bin/time -f "zcat: %e s, %M KiB" sh -c "zcat $b $a >/dev/null"
  /usr/bin/time -f "heapdiff: %e s, %M KiB" "$bin" "$b" "$a" --svg "$out/out.svg" >/dev/null
fi
/usr/bin/time -f "heapdiff peak RSS: %M KiB" "$bin" "$b" "$a" --svg "$out/out.svg" >/dev/null 2>"$out/rss.txt" || true
grep RSS "$out/rss.txt" || true
