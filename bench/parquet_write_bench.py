"""Parquet writes from Arrow memory, ours and pyarrow's, of the same tables in one run.

The tables (about 250 MB each in Arrow memory, a quarter of parquet_read_bench.py's, since a
write takes seven times as long): int64 and float64;
strings of 1,000 distinct values; mixed columns (int64, float64, strings, a timestamp); a
list<int64> column. Each is written with snappy and with zstd, dictionary encoding on (the
default of both writers), into memory: pyarrow's `pq.write_table` to a BytesIO, ours
`arrow-bench parquet-write` (which reads the same table from an Arrow IPC stream first, untimed).
5 rounds, the sides in turn, each measurement repeating for at least a second; medians with
minimum and maximum, and the sizes of the files.

Usage: python bench/parquet_write_bench.py PATH_TO_ARROW_BENCH
"""
import io
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


def tables():
    rng = np.random.default_rng(2)
    words = np.array([f"word-{i:05d}-category" for i in range(1000)])
    yield "int64+float64", pa.table({"a": rng.integers(0, 1 << 40, 16_000_000), "b": rng.random(16_000_000)})
    yield "strings", pa.table({"s": pa.array(words[rng.integers(0, 1000, 10_000_000)])})
    n = 5_000_000
    yield "mixed", pa.table({"i": rng.integers(0, 1000, n), "f": rng.random(n), "s": pa.array(words[rng.integers(0, 1000, n)]),
                             "t": pa.array(rng.integers(0, 1 << 50, n), pa.timestamp("us"))})
    lists = 6_000_000
    values = pa.array(rng.integers(0, 1 << 30, 5 * lists))
    yield "list<int64>", pa.table({"l": pa.ListArray.from_arrays(pa.array(np.arange(0, 5 * lists + 1, 5, dtype=np.int32)), values)})


def main():
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"Parquet write from Arrow memory, {ROUNDS} rounds, each measurement >= {MIN_SECONDS} s; seconds per write")
        print(f"{'table':<14} {'GB':>5} {'codec':>7} {'pyarrow s':>22} {'ours s':>22} {'speed vs pyarrow':>17} {'MB py/ours':>12}")
        for name, table in tables():
            source = os.path.join(tmp, "table.arrows")
            with pa.ipc.new_stream(source, table.schema) as writer:
                writer.write_table(table, max_chunksize=65_536)
            for codec in ("snappy", "zstd"):
                theirs, mine = [], []
                size = 0
                for _ in range(ROUNDS):
                    def write():
                        nonlocal size
                        out = io.BytesIO()
                        pq.write_table(table, out, compression=codec)
                        size = out.tell()
                    theirs.append(per_op(write))
                    result = subprocess.run([tool, "parquet-write", source, str(MIN_SECONDS), codec, "on"],
                                            capture_output=True, text=True, check=True).stdout
                    ours = json.loads(result.strip().splitlines()[-1])
                    mine.append(ours["seconds"])
                ratio = statistics.median(theirs) / statistics.median(mine)
                print(f"{name:<14} {table.nbytes / 1e9:>5.2f} {codec:>7} {spread(theirs, '{:.3f}'):>22} {spread(mine, '{:.3f}'):>22} "
                      f"{ratio:>16.2f}x {size / 1e6:>5.0f}/{ours['bytes'] / 1e6:<5.0f}")
            os.remove(source)


if __name__ == "__main__":
    main()
