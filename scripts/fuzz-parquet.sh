#!/bin/sh
# Fuzzes the Parquet reader by hand, each input read to its last batch (Sources/parquet-fuzz).
# The seeds: parquet-testing's files under a megabyte, but large_string_map.brotli.parquet,
# whose pages hold a gigabyte.
#   scripts/fuzz-parquet.sh [SECONDS]              a mutation fuzzer (default 300 s); a crash
#                                                  leaves its input in .build-fuzz/crash-input.parquet
#   scripts/fuzz-parquet.sh --libfuzzer [SECONDS]  libFuzzer, coverage-guided, with AddressSanitizer;
#                                                  findings land in .build-fuzz/crashes/
# Replay any input with the normal build: .build/release/parquet-fuzz FILE
set -eu
cd "$(dirname "$0")/.."
libfuzzer=0
if [ "${1:-}" = "--libfuzzer" ]; then libfuzzer=1; shift; fi
seconds=${1:-300}
mkdir -p .build-fuzz/corpus .build-fuzz/crashes
seeds=$(find ../shared/testdata/parquet-testing/data ../shared/testdata/parquet-testing/bad_data -maxdepth 1 \
  -name '*.parquet' -size -1024k ! -name 'large_string_map*')
if [ "$libfuzzer" = 0 ]; then
  swift build -c release --product parquet-fuzz
  # shellcheck disable=SC2086
  exec .build/release/parquet-fuzz --seconds "$seconds" --save .build-fuzz/crash-input.parquet $seeds
fi
# SwiftPM renames an executable's entry point, which libFuzzer's main cannot stand in for: the
# objects are compiled by SwiftPM (its link step fails, as expected) and linked here.
swift build -c release --build-path .build-fuzz --product parquet-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >/dev/null 2>&1 || true
objects=.build-fuzz/x86_64-unknown-linux-gnu/release
swiftc -sanitize=fuzzer,address -emit-executable -o .build-fuzz/parquet-libfuzzer \
  $(find "$objects/ArrowCore.build" "$objects/CArrowABI.build" "$objects/Parquet.build" "$objects/parquet_fuzz.build" -name '*.o') \
  -lsnappy -lz -lbrotlidec -lbrotlienc -lzstd -llz4 -lssl -lcrypto
# shellcheck disable=SC2086
cp $seeds .build-fuzz/corpus/
exec .build-fuzz/parquet-libfuzzer .build-fuzz/corpus -max_total_time="$seconds" -rss_limit_mb=4096 \
  -max_len=1048576 -timeout=20 -artifact_prefix=.build-fuzz/crashes/
