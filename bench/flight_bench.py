"""Flight DoGet and DoPut throughput on loopback, four client/server pairings side by side.

Servers: pyarrow's Flight server and our `flight-bench serve`, both serving four int64
columns (a, b, c, d; value = row index) per stream. Clients: pyarrow and our `flight-bench get`
/ `put`. 10 million rows per stream, 1 and 4 concurrent streams. Prints GB/s and ratios.

Usage: python bench/flight_bench.py PATH_TO_FLIGHT_BENCH [ROWS]
"""
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl

BATCH_ROWS = 65536


def synthetic_batches(rows):
    for start in range(0, rows, BATCH_ROWS):
        n = min(BATCH_ROWS, rows - start)
        col = pa.array(np.arange(start, start + n, dtype=np.int64))
        yield pa.record_batch([col, col, col, col], names=list("abcd"))


SCHEMA = pa.schema([(c, pa.int64()) for c in "abcd"])


class PyServer(fl.FlightServerBase):
    def __init__(self, rows):
        super().__init__("grpc://127.0.0.1:0")
        self.rows = rows

    def do_get(self, context, ticket):
        return fl.GeneratorStream(SCHEMA, synthetic_batches(self.rows))

    def do_put(self, context, descriptor, reader, writer):
        for _ in reader:
            pass


def py_get(uri, streams):
    def one(result, i):
        client = fl.connect(uri)
        total = 0
        for chunk in client.do_get(fl.Ticket(b"synthetic")):
            total += sum(c.nbytes for c in chunk.data.columns)
        result[i] = total
    result = [0] * streams
    threads = [threading.Thread(target=one, args=(result, i)) for i in range(streams)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(result), time.perf_counter() - start


def py_put(uri, streams, rows):
    batches = list(synthetic_batches(rows))
    def one(i):
        client = fl.connect(uri)
        writer, _ = client.do_put(fl.FlightDescriptor.for_path(f"bench-{i}"), SCHEMA)
        for b in batches:
            writer.write_batch(b)
        writer.close()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rows * 32 * streams, time.perf_counter() - start


def ours(tool, mode, uri, streams, rows):
    args = [tool, mode, "--uri", uri, "--streams", str(streams), "--json"]
    if mode == "put":
        args += ["--rows", str(rows)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["bytes"], result["seconds"]


def main():
    tool = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    py_server = PyServer(rows)
    threading.Thread(target=py_server.serve, daemon=True).start()
    py_uri = f"grpc://127.0.0.1:{py_server.port}"
    our_server = subprocess.Popen([tool, "serve", "--port", "0", "--rows", str(rows)], stdout=subprocess.PIPE, text=True)
    line = our_server.stdout.readline()
    our_uri = line.strip().split()[-1]
    try:
        print(f"Flight on loopback: 4 int64 columns, {rows:,} rows ({rows * 32 / 1e6:.0f} MB) per stream; best of 3 runs")
        print(f"{'call':<6} {'streams':>7}  {'client/server':<18} {'GB/s':>7} {'vs pyarrow/pyarrow':>19}")
        for call in ["get", "put"]:
            for streams in [1, 4]:
                pairs = [("pyarrow/pyarrow", lambda: (py_get(py_uri, streams) if call == "get" else py_put(py_uri, streams, rows))),
                         ("pyarrow/ours", lambda: (py_get(our_uri, streams) if call == "get" else py_put(our_uri, streams, rows))),
                         ("ours/pyarrow", lambda: ours(tool, call, py_uri, streams, rows)),
                         ("ours/ours", lambda: ours(tool, call, our_uri, streams, rows))]
                baseline = None
                for name, run in pairs:
                    best = 0.0
                    for _ in range(3):
                        nbytes, seconds = run()
                        best = max(best, nbytes / seconds / 1e9)
                    baseline = baseline or best
                    print(f"{'DoGet' if call == 'get' else 'DoPut':<6} {streams:>7}  {name:<18} {best:>7.2f} {best / baseline:>18.2f}x")
    finally:
        our_server.terminate()
        py_server.shutdown()


if __name__ == "__main__":
    main()
