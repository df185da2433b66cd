"""Parquet reads into Arrow memory, ours and pyarrow's, on the same files in one run.

pyarrow writes files of about 1 GB uncompressed: int64 and float64 PLAIN; dictionary-encoded
strings; mixed columns (a dictionary-encoded int64, a float64, dictionary-encoded strings, a
timestamp) with snappy and with zstd; a list<int64> column; and a wide file of 200 int64
columns, of which one is read (projection). For each file, in 5 rounds, each side reads the
whole file into memory (`pq.read_table`, ours `arrow-bench parquet-read`), single-threaded and
with both cores, in turn, each measurement repeating for at least a second; medians with
minimum and maximum. Then the peak resident memory of `parquet to-arrow` streaming the largest
file to /dev/null, against the file's size.

Usage: python bench/parquet_read_bench.py PATH_TO_ARROW_BENCH PATH_TO_PARQUET_TOOL
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


def files(tmp):
    rng = np.random.default_rng(1)
    words = np.array([f"word-{i:05d}-category" for i in range(1000)])
    out = []

    path = os.path.join(tmp, "plain.parquet")
    n = 64_000_000
    pq.write_table(pa.table({"a": rng.integers(0, 1 << 40, n), "b": rng.random(n)}), path, use_dictionary=False, compression="none")
    out.append(("int64+float64 PLAIN", path, None))

    path = os.path.join(tmp, "dict.parquet")
    n = 40_000_000
    pq.write_table(pa.table({"s": pa.array(words[rng.integers(0, 1000, n)])}), path, compression="none")
    out.append(("dictionary strings", path, None))

    n = 20_000_000
    mixed = pa.table({"i": rng.integers(0, 1000, n), "f": rng.random(n), "s": pa.array(words[rng.integers(0, 1000, n)]),
                      "t": pa.array(rng.integers(0, 1 << 50, n), pa.timestamp("us"))})
    for codec in ("snappy", "zstd"):
        path = os.path.join(tmp, f"{codec}.parquet")
        pq.write_table(mixed, path, compression=codec)
        out.append((f"mixed, {codec}", path, None))
    del mixed

    path = os.path.join(tmp, "list.parquet")
    lists = 25_000_000
    values = pa.array(rng.integers(0, 1 << 30, 5 * lists))
    column = pa.ListArray.from_arrays(pa.array(np.arange(0, 5 * lists + 1, 5, dtype=np.int32)), values)
    pq.write_table(pa.table({"l": column}), path, compression="none")
    out.append(("list<int64>", path, None))

    path = os.path.join(tmp, "wide.parquet")
    pq.write_table(pa.table({f"c{i}": rng.integers(0, 1 << 40, 500_000) for i in range(200)}), path, compression="none")
    out.append(("1 of 200 columns", path, ["c17"]))
    return out


def ours(tool, path, columns, threads):
    args = [tool, "parquet-read", path, str(MIN_SECONDS), ",".join(columns or []), str(threads)]
    result = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    return result["seconds"]


def main():
    tool, parquet = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        cases = files(tmp)
        print(f"Parquet read into Arrow memory, {ROUNDS} rounds, each measurement >= {MIN_SECONDS} s; seconds per read")
        print(f"{'file':<22} {'GB':>5} {'threads':>7} {'pyarrow s':>22} {'ours s':>22} {'speed vs pyarrow':>17}")
        for name, path, columns in cases:
            table = pq.read_table(path, columns=columns)
            gigabytes = table.nbytes / 1e9
            del table
            for threads in (1, 2):
                theirs, mine = [], []
                for _ in range(ROUNDS):
                    theirs.append(per_op(lambda: pq.read_table(path, columns=columns, use_threads=threads > 1)))
                    mine.append(ours(tool, path, columns, threads))
                ratio = statistics.median(theirs) / statistics.median(mine)
                print(f"{name:<22} {gigabytes:>5.2f} {threads:>7} {spread(theirs, '{:.3f}'):>22} {spread(mine, '{:.3f}'):>22} {ratio:>16.2f}x")
        # Streaming: memory bounded by a batch and a page per column, not by the file.
        # GNU time forks the reader from its own small process: a child forked from this one
        # would count this process's memory as its own.
        name, path, _ = cases[0]
        result = subprocess.run(["/usr/bin/time", "-f", "%M", parquet, "to-arrow", path, "--out", "/dev/null"],
                                capture_output=True, text=True, check=True)
        peak = int(result.stderr.strip().splitlines()[-1])
        print(f"streaming {name} ({os.path.getsize(path) / 1e9:.2f} GB file) with `parquet to-arrow`: "
              f"peak RSS {peak / 1024:.0f} MB")

if __name__ == "__main__":
    main()
