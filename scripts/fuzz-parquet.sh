#!/bin/sh
# Fuzzes the Parquet reader by hand: parquet-testing's files under a megabyte are the seeds,
# mutated at random and read to their last batch (Sources/parquet-fuzz), for SECONDS (300).
#   scripts/fuzz-parquet.sh [SECONDS]
# A crash leaves its input in .build-fuzz/crash-input.parquet; replay it with
#   .build/release/parquet-fuzz .build-fuzz/crash-input.parquet
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-300}
swift build -c release --product parquet-fuzz
mkdir -p .build-fuzz
seeds=$(find ../shared/testdata/parquet-testing/data ../shared/testdata/parquet-testing/bad_data -maxdepth 1 -name '*.parquet' -size -1024k)
# shellcheck disable=SC2086
.build/release/parquet-fuzz --seconds "$seconds" --save .build-fuzz/crash-input.parquet $seeds
