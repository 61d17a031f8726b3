#!/bin/sh
# heapdiff against the runtimes' own tools on captures of realistic size,
# made here from the fixtures' programs (nothing is committed; the data go
# to target/bench/runtimes):
#
# - heaptrack: fixtures/heaptrack/leak.cpp under heaptrack, 100,000 and
#   1,000,000 requests (21 M records, 98 MB decompressed), against
#   `heaptrack_print -d` of the same pair.
# - JFR: fixtures/jfr/Leak.java under `settings=profile`, dumped twice;
#   the dumps concatenated 10 and 50 times (JFR files are sequences of
#   chunks; some 3 and 30 MB), against `jfr print` of the larger one's
#   allocation and old-object events.
#
# Needs heaptrack, g++, a JDK and hyperfine.
#   sh scripts/bench-runtimes.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/bench/runtimes"
mkdir -p "$out"
(cd "$root" && cargo build --release -q -p heapdiff)
bin="$root/target/release/heapdiff"
cd "$out"

if [ ! -e after.zst ]; then
  g++ -g -O2 -o leak "$root/fixtures/heaptrack/leak.cpp"
  heaptrack -o before ./leak 100000 >/dev/null
  heaptrack -o after ./leak 1000000 >/dev/null
fi
hyperfine -N -w 1 -r 5 \
  "$bin before.zst after.zst --no-svg" \
  "heaptrack_print -d before.zst -f after.zst"

if [ ! -e big-after.jfr ]; then
  javac -d . "$root/fixtures/jfr/Leak.java"
  java -XX:StartFlightRecording=name=bench,settings=profile -cp . Leak "$out" >/dev/null 2>&1 &
  pid=$!
  for name in before after; do
    while [ ! -e "$name" ]; do sleep 0.1; done
    jcmd "$pid" JFR.dump name=bench filename="$out/$name.jfr" >/dev/null
    touch "$name.go"
  done
  wait "$pid"
  for i in $(seq 10); do cat before.jfr; done > big-before.jfr
  for i in $(seq 50); do cat after.jfr; done > big-after.jfr
fi
hyperfine -N -w 1 -r 5 \
  "$bin big-before.jfr big-after.jfr --no-svg -t alloc_space" \
  "jfr print --events jdk.ObjectAllocationSample,jdk.OldObjectSample big-after.jfr"
