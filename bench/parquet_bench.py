"""Parquet footer decoding, ours and pyarrow's, on the same wide files in one run.

pyarrow writes files of 100, 1,000 and 10,000 int64 columns (4 row groups of 1,000 rows,
statistics on). Then, in 5 rounds, pyarrow's `pq.read_metadata` and our `ParquetFile(path:)`
(`arrow-bench parquet-footer`) open each file and decode its footer, in turn, each measurement
repeating for at least a second; medians with minimum and maximum.

Usage: python bench/parquet_bench.py PATH_TO_ARROW_BENCH
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from measure import MIN_SECONDS, ROUNDS, per_op, spread


def main():
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"Parquet footer: open and decode, {ROUNDS} rounds, each measurement >= {MIN_SECONDS} s; ms per file")
        print(f"{'columns':>8} {'footer KB':>10} {'pyarrow ms':>24} {'ours ms':>24} {'ours/pyarrow':>13}")
        for width in (100, 1_000, 10_000):
            path = os.path.join(tmp, f"wide-{width}.parquet")
            table = pa.table({f"c{i}": np.arange(4_000, dtype=np.int64) for i in range(width)})
            pq.write_table(table, path, row_group_size=1_000)
            footer = pq.read_metadata(path).serialized_size
            theirs, ours = [], []
            for _ in range(ROUNDS):
                theirs.append(per_op(lambda: pq.read_metadata(path)))
                out = subprocess.run([tool, "parquet-footer", path, str(MIN_SECONDS)], capture_output=True, text=True, check=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                assert result["columns"] == width
                ours.append(result["seconds"])
            ratio = statistics.median(theirs) / statistics.median(ours)
            print(f"{width:>8} {footer / 1024:>10.0f} {spread([t * 1e3 for t in theirs], '{:.3f}'):>24} "
                  f"{spread([t * 1e3 for t in ours], '{:.3f}'):>24} {ratio:>12.2f}x")


if __name__ == "__main__":
    main()
