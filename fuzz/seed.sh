#!/bin/sh
# Seeds fuzz/corpus/<target>/ from the fixtures and the shared samples,
# with each target's format prefix removed (the targets add it back).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fx="$here/../fixtures"
c="$here/corpus"
mkdir -p "$c"/pprof "$c"/gzip "$c"/jemalloc "$c"/heap_text "$c"/tracemalloc "$c"/folded "$c"/memray_csv "$c"/dhat "$c"/pipeline "$c"/roundtrip \
  "$c"/truncation
# Writes one byte, given as a number (0 to 255).
byte() { printf "\\$(printf %03o "$1")"; }
i=0
for f in "$fx"/go/*.pb.gz "$fx"/rust/*.pb.gz "$fx"/go-trend/*.pb.gz "$fx"/samples/*.pb.gz; do
  i=$((i+1)); zcat "$f" > "$c/pprof/$i"; tail -c +3 "$f" > "$c/gzip/$i"; cp "$f" "$c/pipeline/pb$i"
done
for f in "$fx"/c/jemalloc/*.heap "$fx"/samples/sample_jemalloc_*.heap; do
  i=$((i+1)); tail -c +9 "$f" > "$c/jemalloc/$i"; cp "$f" "$c/pipeline/je$i"
  { byte 0; byte $((i % 256)); byte 0; tail -c +9 "$f"; } > "$c/truncation/$i"
done
for f in "$fx"/c/gperftools/*.heap "$fx"/samples/sample_gperftools_2.10_debian.heap "$fx"/samples/sample_go1.19_heap_debug1.txt; do
  i=$((i+1)); tail -c +15 "$f" > "$c/heap_text/$i"; cp "$f" "$c/pipeline/ht$i"
  { byte 1; byte $((i % 256)); byte 0; tail -c +15 "$f"; } > "$c/truncation/$i"
done
for f in "$fx"/python/*.tm "$fx"/python/one-frame/*.tm "$fx"/samples/*.pickle; do
  i=$((i+1)); cp "$f" "$c/tracemalloc/$i"; cp "$f" "$c/pipeline/tm$i"
done
for f in "$fx"/folded/*/*.folded; do
  i=$((i+1)); cp "$f" "$c/folded/$i"; cp "$f" "$c/pipeline/fo$i"
  { byte 2; byte $((i % 256)); byte 0; cat "$f"; } > "$c/truncation/$i"
done
for f in "$fx"/memray/*.csv; do
  i=$((i+1)); tail -n +2 "$f" | head -c 20000 > "$c/memray_csv/$i"; head -c 20000 "$f" > "$c/pipeline/me$i"
  # Whole rows: a seed whose last row is cut warns whole, and is not cut.
  { byte 3; byte $((i % 256)); byte 0; tail -n +2 "$f" | head -n 60; } > "$c/truncation/$i"
done
for f in "$fx"/dhat/*.json "$fx"/dhat/valgrind/*.json; do
  i=$((i+1)); cp "$f" "$c/dhat/$i"; cp "$f" "$c/pipeline/dh$i"
done
printf '\005\020\010\007' > "$c/roundtrip/1"
echo "seeded $c"
