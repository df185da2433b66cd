"""Flight DoGet and DoPut throughput on loopback, four client/server pairings side by side.

Servers: pyarrow's Flight server and our `flight-bench serve`, both serving four int64
columns (a, b, c, d; value = row index) per stream. Clients: pyarrow and our `flight-bench get`
/ `put`. 10 million rows per stream, 1 and 4 concurrent streams. The four pairings take turns
in 5 rounds; each measurement repeats its streams for at least a second. Each round also
measures the loopback limit: one plain TCP connection moving bytes through a 1 MiB buffer
(`flight-bench tcp`). Prints the median GB/s with minimum and maximum, the ratio of the
medians to pyarrow with pyarrow, and each median as a fraction of the TCP median.

Usage: python bench/flight_bench.py PATH_TO_FLIGHT_BENCH [ROWS]
"""
import json
import subprocess
import sys
import threading
import time

import statistics

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl

from measure import MIN_SECONDS, ROUNDS, spread

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


def repeated(run_once):
    """Runs `run_once` (returning bytes moved) until at least MIN_SECONDS have passed."""
    total, start = 0, time.perf_counter()
    while time.perf_counter() - start < MIN_SECONDS:
        total += run_once()
    return total, time.perf_counter() - start


def py_get(uri, streams):
    clients = [fl.connect(uri) for _ in range(streams)]

    def once():
        def one(result, i):
            total = 0
            for chunk in clients[i].do_get(fl.Ticket(b"synthetic")):
                total += sum(c.nbytes for c in chunk.data.columns)
            result[i] = total
        result = [0] * streams
        threads = [threading.Thread(target=one, args=(result, i)) for i in range(streams)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(result)
    return repeated(once)


BATCHES = {}


def py_put(uri, streams, rows):
    batches = BATCHES.setdefault(rows, list(synthetic_batches(rows)))
    clients = [fl.connect(uri) for _ in range(streams)]

    def once():
        def one(i):
            writer, _ = clients[i].do_put(fl.FlightDescriptor.for_path(f"bench-{i}"), SCHEMA)
            for b in batches:
                writer.write_batch(b)
            writer.close()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return rows * 32 * streams
    return repeated(once)


def ours(tool, mode, uri, streams, rows):
    args = [tool, mode, "--uri", uri, "--streams", str(streams), "--min-seconds", str(MIN_SECONDS), "--json"]
    if mode == "put":
        args += ["--rows", str(rows)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["bytes"], result["seconds"]


def tcp(tool):
    out = subprocess.run([tool, "tcp", "--bytes", "1000000000", "--min-seconds", str(MIN_SECONDS), "--json"],
                         capture_output=True, text=True, check=True).stdout
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
        print(f"Flight on loopback: 4 int64 columns, {rows:,} rows ({rows * 32 / 1e6:.0f} MB) per stream; "
              f"{ROUNDS} rounds, the pairings in turn, each measurement >= {MIN_SECONDS} s")
        results = []
        loopback = []
        for call in ["get", "put"]:
            for streams in [1, 4]:
                pairs = [("pyarrow/pyarrow", lambda: (py_get(py_uri, streams) if call == "get" else py_put(py_uri, streams, rows))),
                         ("pyarrow/ours", lambda: (py_get(our_uri, streams) if call == "get" else py_put(our_uri, streams, rows))),
                         ("ours/pyarrow", lambda: ours(tool, call, py_uri, streams, rows)),
                         ("ours/ours", lambda: ours(tool, call, our_uri, streams, rows))]
                rates = {name: [] for name, _ in pairs}
                for _ in range(ROUNDS):
                    for name, run in pairs:
                        nbytes, seconds = run()
                        rates[name].append(nbytes / seconds / 1e9)
                    nbytes, seconds = tcp(tool)
                    loopback.append(nbytes / seconds / 1e9)
                results.append((call, streams, pairs, rates))
        limit = statistics.median(loopback)
        print(f"TCP loopback, one connection: {spread(loopback)} GB/s (median (min-max) of {len(loopback)}, "
              "one after each round of the pairings)")
        print(f"{'call':<6} {'streams':>7}  {'client/server':<18} {'GB/s median (min-max)':>22} {'vs pyarrow/pyarrow':>19} {'of TCP':>7}")
        for call, streams, pairs, rates in results:
            baseline = statistics.median(rates["pyarrow/pyarrow"])
            for name, _ in pairs:
                median = statistics.median(rates[name])
                print(f"{'DoGet' if call == 'get' else 'DoPut':<6} {streams:>7}  {name:<18} {spread(rates[name]):>22} "
                      f"{median / baseline:>18.2f}x {median / limit:>6.0%}")
    finally:
        our_server.terminate()
        py_server.shutdown()


if __name__ == "__main__":
    main()
