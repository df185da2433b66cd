#!/usr/bin/env bash
# Validates every Arrow integration gold file (IPC stream and file) against its JSON with
# the given arrow-integration binary, and prints one line per case and a summary.
set -uo pipefail
tool=${1:?usage: integration-check.sh ARROW_INTEGRATION_BINARY}
dir=${GOLD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/../shared/testdata/arrow-testing/data/arrow-ipc-stream/integration/cpp-21.0.0}
passed=0; failed=0
for json in "$dir"/*.json.gz; do
  name=$(basename "$json" .json.gz)
  for ext in stream arrow_file; do
    if out=$(SWIFT_BACKTRACE=enable=no "$tool" validate --arrow "$dir/$name.$ext" --json "$json" 2>&1); then
      passed=$((passed + 1)); printf 'ok    %s.%s\n' "$name" "$ext"
    else
      failed=$((failed + 1)); printf "FAIL  %s.%s: %s\n" "$name" "$ext" "$(printf %s "$out" | head -c 400)"
    fi
  done
done
echo "integration: $passed passed, $failed failed"
[ "$failed" = 0 ]
