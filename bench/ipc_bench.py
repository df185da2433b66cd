"""IPC stream read and write, ours and pyarrow's, on the same bytes in one run.

Makes a ~1 GB stream of mixed columns with pyarrow (int64, float64, int32 with nulls, utf8,
bool). Then, in 5 rounds, times pyarrow reading it from memory and writing it back to memory,
and `arrow-bench ipc-stream` (our reader and writer) on the same file, each measurement at
least a second long (repeating the operation); prints medians with minimum and maximum, and
the ratio of the medians.

Usage: python bench/ipc_bench.py PATH_TO_ARROW_BENCH [TARGET_BYTES]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import statistics

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from measure import MIN_SECONDS, ROUNDS, per_op, spread

BATCH_ROWS = 65536


def make_batch(rng: np.random.Generator, rows: int) -> pa.RecordBatch:
    lengths = rng.integers(4, 28, rows, dtype=np.int32)
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    chars = rng.integers(97, 123, int(offsets[-1]), dtype=np.uint8)
    strings = pa.Array.from_buffers(pa.string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(chars)])
    mask = rng.random(rows) < 0.1
    return pa.record_batch({
        "id": pa.array(np.arange(rows, dtype=np.int64)),
        "value": pa.array(rng.standard_normal(rows)),
        "count": pa.array(rng.integers(0, 1000, rows, dtype=np.int32), mask=mask),
        "name": strings,
        "flag": pa.array(rng.random(rows) < 0.5),
    })


def main() -> None:
    tool = sys.argv[1]
    target = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30
    rng = np.random.default_rng(42)
    batches, size = [], 0
    while size < target:
        batch = make_batch(rng, BATCH_ROWS)
        batches.append(batch)
        size += batch.nbytes
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, batches[0].schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    stream = sink.getvalue()

    def py_read():
        with ipc.open_stream(stream) as reader:
            table = reader.read_all()
        return table

    table = py_read()

    def py_write():
        out = pa.BufferOutputStream()
        with ipc.new_stream(out, table.schema) as writer:
            for batch in table.to_batches():
                writer.write_batch(batch)
        return out.getvalue()

    def py_read_validated():
        for batch in py_read().to_batches():
            batch.validate(full=True)

    times = {"py_read": [], "py_read_validated": [], "py_write": [], "read": [], "write": []}
    with tempfile.NamedTemporaryFile(suffix=".arrows", dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as f:
        f.write(stream)
        f.flush()
        for _ in range(ROUNDS):
            times["py_read"].append(per_op(py_read))
            times["py_read_validated"].append(per_op(py_read_validated))
            times["py_write"].append(per_op(py_write))
            out = subprocess.run([tool, "ipc-stream", f.name, str(MIN_SECONDS)], capture_output=True, text=True, check=True).stdout
            ours = json.loads(out.strip().splitlines()[-1])
            times["read"].append(ours["read_seconds"])
            times["write"].append(ours["write_seconds"])

    gb = stream.size / 1e9
    print(f"IPC stream, {stream.size / 1e6:.0f} MB in memory, {table.num_rows} rows in {len(batches)} batches "
          f"(int64, float64, int32 with nulls, utf8, bool); {ROUNDS} rounds, each measurement >= {MIN_SECONDS} s")
    print("ours always validates every offset, length and null count on read; pyarrow's read does not,")
    print("so 'read+validate' adds pyarrow's RecordBatch.validate(full=True) to its read.")
    print(f"{'operation':<14} {'pyarrow GB/s':>22} {'ours GB/s':>22} {'ours/pyarrow':>13}")
    for name, py_key, our_key in [("read", "py_read", "read"), ("read+validate", "py_read_validated", "read"),
                                  ("write", "py_write", "write")]:
        py_rates = [gb / t for t in times[py_key]]
        our_rates = [gb / t for t in times[our_key]]
        ratio = statistics.median(our_rates) / statistics.median(py_rates)
        print(f"{name:<14} {spread(py_rates):>22} {spread(our_rates):>22} {ratio:>12.2f}x")
    print(f"read per batch (medians): pyarrow {statistics.median(times['py_read']) / len(batches) * 1e6:.1f} us, "
          f"ours {statistics.median(times['read']) / len(batches) * 1e6:.1f} us")


if __name__ == "__main__":
    main()
