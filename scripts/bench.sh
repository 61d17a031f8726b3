#!/bin/sh
# End-to-end timings on generated pairs, against the cost of merely
# decompressing the inputs (zcat) in the same run, with peak memory, at
# several sizes (to show how cost grows) and for every input format.
#
#   sh scripts/bench.sh [STACKS...]     # default: 25000 100000 400000 1000000
#
# Uses hyperfine when installed (mean of several runs), else one timed run.
# With PPROF=1 and `go` installed, also times `go tool pprof -top
# -diff_base` on the pprof pairs (slow). Nothing generated is committed: the
# pairs go to target/bench/gen-*.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sizes=${*:-25000 100000 400000 1000000}
(cd "$root" && cargo build --release -q -p heapdiff -p heapdiff-benchgen)
bin="$root/target/release/heapdiff"
gen="$root/target/release/heapdiff-benchgen"

# mean wall seconds of a shell command
time_of() {
  if command -v hyperfine >/dev/null; then
    hyperfine -N -w 1 -r 5 --export-json /tmp/heapdiff-bench.json "$1" >/dev/null 2>&1 || hyperfine -w 1 -r 5 --export-json /tmp/heapdiff-bench.json "$1" >/dev/null
    python3 -c 'import json;print("%.3f" % json.load(open("/tmp/heapdiff-bench.json"))["results"][0]["mean"])'
  else
    s=$(date +%s.%N); sh -c "$1" >/dev/null 2>&1; e=$(date +%s.%N)
    echo "$s $e" | awk '{printf "%.3f\n", $2-$1}'
  fi
}

# peak RSS in MB of a command
rss_of() {
  /usr/bin/time -f %M sh -c "$1 >/dev/null 2>&1" 2>&1 | tail -1 | awk '{printf "%.0f\n", $1/1024}'
}

printf '| format | stacks | input (decompressed) | zcat | heapdiff | heapdiff/zcat | peak RSS | RSS/input |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
for n in $sizes; do
  for format in pprof jemalloc tracemalloc folded; do
    # the text formats are large per stack: bench them at the smaller sizes
    if [ "$format" != pprof ] && [ "$n" -gt 400000 ]; then continue; fi
    dir="$root/target/bench/gen-$format-$n"
    ext=$(case $format in pprof) echo pb.gz;; jemalloc) echo heap;; tracemalloc) echo tm;; folded) echo folded;; esac)
    if [ ! -s "$dir/after.$ext" ]; then "$gen" "$format" "$n" "$dir"; fi
    b="$dir/before.$ext"; a="$dir/after.$ext"
    # the floor: decompressing (or, for uncompressed inputs, reading) both
    if [ "$format" = pprof ]; then
      floor="zcat $b $a"
      size=$(zcat "$b" "$a" | wc -c)
    else
      [ "$b.gz" -nt "$b" ] && [ "$a.gz" -nt "$a" ] || gzip -kf "$b" "$a"
      floor="zcat $b.gz $a.gz"
      size=$(cat "$b" "$a" | wc -c)
    fi
    run="$bin $b $a --no-symbolize --svg $dir/out.svg"
    tz=$(time_of "$floor")
    th=$(time_of "$run")
    rss=$(rss_of "$run")
    mb=$(echo "$size" | awk '{printf "%.1f", $1/1048576}')
    printf '| %s | %s | %s MB | %s s | %s s | %s | %s MB | %s |\n' "$format" "$n" "$mb" "$tz" "$th" \
      "$(echo "$th $tz" | awk '{printf "%.1f", $1/$2}')" "$rss" "$(echo "$rss $mb" | awk '{printf "%.1f", $1/$2}')"
  done
  if [ "${PPROF:-0}" = 1 ] && command -v go >/dev/null; then
    dir="$root/target/bench/gen-pprof-$n"
    tp=$(time_of "go tool pprof -top -diff_base $dir/before.pb.gz $dir/after.pb.gz")
    printf '| pprof: go tool pprof -top -diff_base | %s | | | %s s | | | |\n' "$n" "$tp"
  fi
done
