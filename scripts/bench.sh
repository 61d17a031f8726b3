#!/bin/sh
# End-to-end timings on generated pairs, against the cost of merely
# decompressing the inputs (zcat) in the same run, with peak memory, at
# several sizes (to show how cost grows) and for every input format.
#
#   sh scripts/bench.sh [STACKS...]     # default: 10000 25000 100000 400000 1000000
#
# Uses hyperfine when installed (mean of several runs), else one timed run.
# The competitors, on the same data and against the same `zcat`, where
# installed: with PPROF=1 and `go`, `go tool pprof -top -diff_base` on the
# pprof pairs up to PPROF_MAX stacks (default 400000; slow: three runs each,
# minutes and gigabytes at the largest); with `inferno-diff-folded` and
# `inferno-flamegraph` (`cargo install inferno`), their pipeline on the
# folded pairs. Nothing generated is committed: the pairs go to
# target/bench/gen-*.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
sizes=${*:-10000 25000 100000 400000 1000000}
(cd "$root" && cargo build --release -q -p heapdiff -p heapdiff-benchgen)
bin="$root/target/release/heapdiff"
gen="$root/target/release/heapdiff-benchgen"

# mean wall seconds of a shell command (over $2 runs, default 5)
time_of() {
  if command -v hyperfine >/dev/null; then
    r=${2:-5}
    hyperfine -N -w 1 -r "$r" --export-json /tmp/heapdiff-bench.json "$1" >/dev/null 2>&1 || hyperfine -w 1 -r "$r" --export-json /tmp/heapdiff-bench.json "$1" >/dev/null
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

# a table row: label, stacks, MB, zcat s, tool s, peak RSS MB
row() {
  printf '| %s | %s | %s MB | %s s | %s s | %s | %s MB | %s |\n' "$1" "$2" "$3" "$4" "$5" \
    "$(echo "$5 $4" | awk '{printf "%.1f", $1/$2}')" "$6" "$(echo "$6 $3" | awk '{printf "%.1f", $1/$2}')"
}

printf '| format (tool) | stacks | input (decompressed) | zcat | time | time/zcat | peak RSS | RSS/input |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
# the pairs in order, as format:stacks
pairs() {
  for n in $sizes; do
    for format in pprof jemalloc tracemalloc folded; do
      # the text formats are large per stack: bench them at the smaller sizes
      if [ "$format" != pprof ] && [ "$n" -gt 400000 ]; then continue; fi
      echo "$format:$n"
    done
  done
}
# sets format, n, dir, b and a for a pair
pair_files() {
  format=${1%:*}; n=${1#*:}
  dir="$root/target/bench/gen-$format-$n"
  ext=$(case $format in pprof) echo pb.gz;; jemalloc) echo heap;; tracemalloc) echo tm;; folded) echo folded;; esac)
  b="$dir/before.$ext"; a="$dir/after.$ext"
}

for pair in $(pairs); do
  pair_files "$pair"
  if [ ! -s "$a" ]; then "$gen" "$format" "$n" "$dir"; fi
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
  echo "$mb $tz" > "$dir/floor"
  row "$format (heapdiff)" "$n" "$mb" "$tz" "$th" "$rss"
done

# The competitors on the same pairs, against the same zcat, after every
# heapdiff row: a run of pprof's gigabytes slows the memory-heavy runs that
# follow it on this kind of machine.
for pair in $(pairs); do
  pair_files "$pair"
  read -r mb tz < "$dir/floor"
  if [ "$format" = pprof ] && [ "${PPROF:-0}" = 1 ] && [ "$n" -le "${PPROF_MAX:-400000}" ] && command -v go >/dev/null; then
    run="go tool pprof -top -diff_base $b $a"
    row "pprof (go tool pprof -top -diff_base)" "$n" "$mb" "$tz" "$(time_of "$run" 3)" "$(rss_of "$run")"
  fi
  if [ "$format" = folded ] && command -v inferno-diff-folded >/dev/null && command -v inferno-flamegraph >/dev/null; then
    run="sh -c 'inferno-diff-folded $b $a | inferno-flamegraph > $dir/inferno.svg'"
    row "folded (inferno-diff-folded \\| inferno-flamegraph)" "$n" "$mb" "$tz" "$(time_of "$run")" "$(rss_of "$run")"
  fi
done
