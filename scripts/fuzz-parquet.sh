#!/bin/sh
# Fuzzes the Parquet reader with libFuzzer: parquet-testing's files are the seed corpus, each
# input is read to its last batch (Sources/parquet-fuzz). Run by hand:
#   scripts/fuzz-parquet.sh [SECONDS]      (default 300)
# Crashes land in .build-fuzz/crashes; replay one with the normal build:
#   swift build --product parquet-fuzz && .build/debug/parquet-fuzz .build-fuzz/crashes/crash-...
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-300}
swift build -c release --product parquet-fuzz --build-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
corpus=.build-fuzz/corpus
mkdir -p "$corpus" .build-fuzz/crashes
cp -n ../shared/testdata/parquet-testing/data/*.parquet ../shared/testdata/parquet-testing/bad_data/*.parquet "$corpus"/ 2>/dev/null || true
# Files over a megabyte make slow inputs; the fuzzer mutates the small ones.
find "$corpus" -size +1M -delete
.build-fuzz/release/parquet-fuzz "$corpus" -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=1048576 \
  -artifact_prefix=.build-fuzz/crashes/ -timeout=20
