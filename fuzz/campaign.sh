#!/bin/sh
# A fuzzing campaign: every target in turn (or the ones named after the
# seconds), uninstrumented for memory errors (`-s none`: heapdiff's crates
# contain no `unsafe`, and ASan made the pipeline target 6x slower), at low
# priority. Prints each target's final libFuzzer line: executions, coverage.
#
#   sh fuzz/campaign.sh SECONDS [TARGET...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"pprof gzip jemalloc heap_text tracemalloc folded memray_csv dhat v8 massif speedscope jfr heaptrack pipeline roundtrip truncation live_response"}
sh "$here/seed.sh"
cd "$here"
cargo +nightly fuzz build -O -s none >/dev/null
for t in $targets; do
  log="$here/artifacts/$t.log"
  mkdir -p "$here/artifacts/$t"
  # A JFR chunk carries its metadata (some 190 KB): shorter inputs would
  # only ever reach the header checks.
  len=16384
  [ "$t" = jfr ] && len=600000
  nice -n 19 cargo +nightly fuzz run -O -s none "$t" "corpus/$t" -- \
    -max_total_time="$secs" -max_len="$len" -rss_limit_mb=2048 -timeout=30 \
    -print_final_stats=1 >"$log" 2>&1 || { echo "$t: FAILED, see $log"; continue; }
  printf '%s: %s\n' "$t" "$(grep -E '^#[0-9]+.*DONE' "$log" | tail -1)"
done
