"""FlightDataSource and parquet-flight-server: one Parquet dataset served by a cluster.

pyarrow writes a dataset of six files (24 M rows: an int64 id, a float64, a dictionary-encoded
string and a timestamp; zstd; about 0.7 GB in Arrow memory), served by `parquet-flight-server`
nodes in a ZooKeeper cluster, 64 MB endpoints spread over the members.

1. Loopback, three nodes: `flight get --path data --out result.parquet` (every endpoint read
   in parallel through FlightResultReader, written by our Parquet writer; also `--out
   result.arrows` and `flight-bench read` with no output, to tell reading from writing; the
   files go to /dev/shm) against
   `pyarrow.parquet.read_table` of the same files in process, in turn, each measurement at
   least a second; and the time to the first batch: `flight-bench read` (GetFlightInfo, then
   our reader) against pyarrow's client (GetFlightInfo, DoGet of the first endpoint, its first
   batch).
2. Network namespaces, each node's link capped at 800 Mbit/s: the aggregate read rate of the
   dataset from one, two and three nodes, by `flight-bench read` and by pyarrow's client (a
   thread per endpoint), interleaved.

Medians with the minimum and maximum. Needs root (ip netns, tc) for part 2.
Usage: python bench/datasource_bench.py FLIGHT_BENCH PARQUET_FLIGHT_SERVER FLIGHT_CLI [RUNS]
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.flight as fl
import pyarrow.parquet as pq

from measure import MIN_SECONDS, per_op, spread, summary
from netns import CLIENT, NODES, PYARROW_READ, RATE, SECRET, WORK, Process, address, in_ns, setup_network, start_zookeeper, teardown_network

BENCH, SERVER, CLI = (os.path.realpath(p) for p in sys.argv[1:4])
RUNS = int(sys.argv[4]) if len(sys.argv) > 4 else 5
DATA = os.path.join(WORK, "root", "data")


def write_dataset():
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(3)
    words = np.array([f"city-{i:04d}" for i in range(500)])
    for part in range(6):
        n = 4_000_000
        ids = np.arange(part * n, (part + 1) * n)
        table = pa.table({"id": ids, "fare": rng.random(n), "city": pa.array(words[rng.integers(0, 500, n)]),
                          "at": pa.array(ids * 1_000, pa.timestamp("us"))})
        pq.write_table(table, os.path.join(DATA, f"part-{part}.parquet"), compression="zstd", row_group_size=1_000_000)
    return pq.read_table(DATA).nbytes


def start_node(name, host, zookeeper, chroot, ns=None):
    return Process([SERVER, "--root", os.path.dirname(DATA), "--host", host, "--port", "0", "--zookeeper", zookeeper + chroot,
                    "--cluster-secret-file", SECRET, "--node-id", name, "--log-level", "warning"], name, ns=ns)


def wait_members(location, count, ns=None):
    code = ("import json, pyarrow.flight as fl; c = fl.connect(%r); "
            "print(len(list(c.do_action(fl.Action('cluster-members', b'')))))" % location)
    deadline = time.monotonic() + 20
    while int(subprocess.run(in_ns(ns, [sys.executable, "-c", code]), capture_output=True).stdout or b"0") != count:
        assert time.monotonic() < deadline, "members did not join"
        time.sleep(0.2)


FIRST_BATCH = r"""
import json, sys, time
import pyarrow.flight as fl
start = time.perf_counter()
info = fl.connect(sys.argv[1]).get_flight_info(fl.FlightDescriptor.for_path("data"))
endpoint = info.endpoints[0]
reader = fl.connect(endpoint.locations[0]).do_get(endpoint.ticket)
reader.read_chunk()
print(json.dumps({"first_batch_seconds": time.perf_counter() - start}))
"""


def loopback(gigabytes):
    print(f"== Loopback, three parquet-flight-server nodes, {gigabytes:.2f} GB in Arrow memory; {RUNS} rounds in turn, "
          f"each measurement >= {MIN_SECONDS} s")
    zk, zookeeper = start_zookeeper("127.0.0.1")
    chroot = f"/datasource-{time.time_ns()}"
    nodes = [start_node(f"n{i}", "127.0.0.1", zookeeper, chroot) for i in range(3)]
    try:
        wait_members(nodes[0].location, 3)
        # Results go to memory (/dev/shm) where there is one: the disk's write speed is not ours.
        target = "/dev/shm" if os.path.isdir("/dev/shm") else WORK
        out = os.path.join(target, f"datasource-bench-{os.getpid()}.parquet")
        stream = os.path.join(target, f"datasource-bench-{os.getpid()}.arrows")
        ours, arrows, bare, theirs, first_ours, first_theirs = [], [], [], [], [], []
        for _ in range(RUNS):
            ours.append(per_op(lambda: subprocess.run([CLI, "get", nodes[0].location, "--path", "data", "--out", out],
                                                      check=True, capture_output=True)))
            arrows.append(per_op(lambda: subprocess.run([CLI, "get", nodes[0].location, "--path", "data", "--out", stream],
                                                        check=True, capture_output=True)))
            bare.append(per_op(lambda: subprocess.run([BENCH, "read", "--uri", nodes[0].location, "--path", "data"],
                                                      check=True, capture_output=True)))
            theirs.append(per_op(lambda: pq.read_table(DATA)))
            got = subprocess.run([BENCH, "read", "--uri", nodes[0].location, "--path", "data", "--json"], check=True,
                                 capture_output=True).stdout
            first_ours.append(json.loads(got.splitlines()[-1])["first_batch_seconds"])
            got = subprocess.run([sys.executable, "-c", FIRST_BATCH, nodes[0].location], check=True, capture_output=True).stdout
            first_theirs.append(json.loads(got.splitlines()[-1])["first_batch_seconds"])
        assert pq.read_metadata(out).num_rows == 24_000_000
        os.unlink(out)
        os.unlink(stream)
        print(f"flight get --out result.parquet: {spread(ours, '{:.3f}')} s; pq.read_table: {spread(theirs, '{:.3f}')} s; "
              f"ours / pyarrow (medians) {statistics.median(ours) / statistics.median(theirs):.2f}")
        print(f"flight get --out result.arrows: {spread(arrows, '{:.3f}')} s; flight-bench read (no output): {spread(bare, '{:.3f}')} s")
        print(f"time to first batch: flight-bench read {spread([f * 1000 for f in first_ours], '{:.1f}')} ms; "
              f"pyarrow client {spread([f * 1000 for f in first_theirs], '{:.1f}')} ms")
    finally:
        for node in nodes:
            node.stop()
        zk.stop(signal.SIGKILL)


def scale_out(gigabytes):
    print(f"== Scale-out: the {gigabytes:.2f} GB dataset from one, two and three nodes, each node's link capped at {RATE}; "
          f"{RUNS} runs each, interleaved")
    setup_network()
    zk = None
    try:
        zk, zookeeper = start_zookeeper(address(CLIENT), ns=CLIENT)
        results = {}
        for count in (1, 2, 3):
            chroot = f"/datasource-{count}-{time.time_ns()}"
            nodes = [start_node(f"n{i + 1}", address(ns), zookeeper, chroot, ns=ns) for i, ns in enumerate(NODES[:count])]
            try:
                wait_members(nodes[0].location, count, ns=CLIENT)
                ours, theirs = [], []
                for _ in range(RUNS):
                    got = subprocess.run(in_ns(CLIENT, [BENCH, "read", "--uri", nodes[0].location, "--path", "data", "--json"]),
                                         capture_output=True, check=True).stdout
                    ours.append(json.loads(got.splitlines()[-1])["gbps"])
                    got = subprocess.run(in_ns(CLIENT, [sys.executable, "-c", PYARROW_READ, nodes[0].location, "data"]),
                                         capture_output=True, check=True).stdout
                    theirs.append(json.loads(got.splitlines()[-1])["gbps"])
                results[count] = (ours, theirs)
                print(f"{count} node(s): flight-bench read {summary(ours, 'MB/s', 1000)}; pyarrow client {summary(theirs, 'MB/s', 1000)}")
            finally:
                for node in nodes:
                    node.stop()
        for side, name in ((0, "flight-bench read"), (1, "pyarrow client")):
            one = statistics.median(results[1][side])
            print(f"{name}: " + ", ".join(f"{count} nodes / (N x one node) {statistics.median(results[count][side]) / (count * one):.2f}"
                                         for count in (2, 3)))
    finally:
        if zk:
            zk.stop(signal.SIGKILL)
        teardown_network()


if __name__ == "__main__":
    size = write_dataset() / 1e9
    loopback(size)
    if os.geteuid() == 0 and os.environ.get("DATASOURCE_BENCH_LOOPBACK_ONLY") is None:
        scale_out(size)
    else:
        print("== Scale-out skipped: it needs root for ip netns and tc")
