#!/bin/sh
# Seeds fuzz/corpus/<target>/ from the fixtures and the shared samples,
# with each target's format prefix removed (the targets add it back).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fx="$here/../fixtures"
c="$here/corpus"
mkdir -p "$c"/pprof "$c"/gzip "$c"/jemalloc "$c"/heap_text "$c"/tracemalloc "$c"/folded "$c"/memray_csv "$c"/dhat "$c"/v8 "$c"/massif "$c"/speedscope "$c"/jfr "$c"/heaptrack "$c"/pipeline "$c"/roundtrip \
  "$c"/truncation "$c"/live_response
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
for f in "$fx"/node/*.heapprofile "$fx"/node/heap-prof/*.heapprofile; do
  i=$((i+1)); cp "$f" "$c/v8/$i"; cp "$f" "$c/pipeline/v8$i"
done
i=$((i+1)); cp "$fx"/massif/massif.out.leak "$c/massif/$i"; cp "$fx"/massif/massif.out.leak "$c/pipeline/ms$i"
for f in "$fx"/speedscope/*.json; do
  i=$((i+1)); cp "$f" "$c/speedscope/$i"; cp "$f" "$c/pipeline/ss$i"
done
for f in "$fx"/jfr/*.jfr.gz; do
  i=$((i+1)); zcat "$f" | tail -c +5 > "$c/jfr/$i"; cp "$f" "$c/pipeline/jf$i"
done
for f in "$fx"/heaptrack/*.zst; do
  i=$((i+1)); zstdcat "$f" | tail -n +3 > "$c/heaptrack/$i"; cp "$f" "$c/pipeline/ht$i.zst"
done
printf '\005\020\010\007' > "$c/roundtrip/1"
# Answers a profile endpoint may give: a profile, a redirect, a chunked
# body, an error page, a body ended by closing the connection.
ok='HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n'
for f in "$fx"/go/before.pb.gz "$fx"/c/jemalloc/before.heap; do
  i=$((i+1)); { printf "$ok" "$(wc -c < "$f")"; cat "$f"; } > "$c/live_response/$i"
done
printf 'HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/debug/pprof/heap?token=t\r\nContent-Length: 0\r\n\r\n' > "$c/live_response/302"
printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nheap_v2/5\r\n1\r\n\n\r\n0\r\n\r\n' > "$c/live_response/chunked"
printf 'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nnot found\n' > "$c/live_response/404"
printf 'HTTP/1.0 200 OK\r\n\r\nheap profile: 1: 8 [1: 8] @ heap/1\n' > "$c/live_response/close"
echo "seeded $c"
