"""IPC stream read and write, ours and pyarrow's, on the same bytes in one run.

Makes a ~1 GB stream of mixed columns with pyarrow (int64, float64, int32 with nulls, utf8,
bool), times pyarrow reading it from memory and writing it back to memory, then runs
`arrow-bench ipc-stream` (our reader and writer) on the same file, and prints both with ratios.

Usage: python bench/ipc_bench.py PATH_TO_ARROW_BENCH [TARGET_BYTES]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

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


def best_of(n, fn):
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


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

    py_read_s = best_of(3, py_read)
    py_read_validated_s = best_of(3, py_read_validated)
    py_write_s = best_of(3, py_write)

    with tempfile.NamedTemporaryFile(suffix=".arrows", dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as f:
        f.write(stream)
        f.flush()
        out = subprocess.run([tool, "ipc-stream", f.name, "3"], capture_output=True, text=True, check=True).stdout
    ours = json.loads(out.strip().splitlines()[-1])

    gb = stream.size / 1e9
    print(f"IPC stream, {stream.size / 1e6:.0f} MB in memory, {table.num_rows} rows in {len(batches)} batches "
          f"(int64, float64, int32 with nulls, utf8, bool); best of 3")
    print("ours always validates every offset, length and null count on read; pyarrow's read does not,")
    print("so 'read+validate' adds pyarrow's RecordBatch.validate(full=True) to its read.")
    print(f"{'operation':<14} {'pyarrow GB/s':>13} {'ours GB/s':>10} {'ours/pyarrow':>13}")
    rows = [("read", py_read_s, ours["read_seconds"]),
            ("read+validate", py_read_validated_s, ours["read_seconds"]),
            ("write", py_write_s, ours["write_seconds"])]
    for name, py_s, our_s in rows:
        print(f"{name:<14} {gb / py_s:>13.2f} {gb / our_s:>10.2f} {py_s / our_s:>12.2f}x")
    print(f"read per batch: pyarrow {py_read_s / len(batches) * 1e6:.1f} us, ours {ours['read_seconds'] / len(batches) * 1e6:.1f} us")


if __name__ == "__main__":
    main()
