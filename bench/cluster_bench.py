"""Cluster benchmarks: scale-out over real, capped links; coordination cost; membership changes.

1. Scale-out. Network namespaces (a bridge and veth pairs, iproute2) for a client and three
   nodes; each node's link is capped with `tc qdisc ... tbf rate 800mbit`. One `flight-bench`
   result is read from a one-, two- and three-node cluster (one partition per node), every
   endpoint at once, by our `flight-bench read` and by pyarrow's client (a thread per endpoint),
   interleaved, several runs each.
2. Coordination cost, on loopback: GetFlightInfo plus DoGet of a 1,000-row result from pyarrow,
   against a single node (LocalFlightManager) and a three-node ZooKeeper cluster, interleaved.
3. Membership change: a clean stop and a kill -9, until the next FlightInfo of another node
   no longer names the node.
4. Cancel: CancelFlightInfo on the planning node, until a stream of the query on another node
   fails (the marker goes through ZooKeeper).

Medians with the minimum and maximum. Needs root (ip netns, tc).
Usage: python bench/cluster_bench.py PATH_TO_RELEASE_FLIGHT_BENCH [RUNS]
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import time

import pyarrow.flight as fl

from measure import summary
from netns import (CLIENT, NODES, PYARROW_READ, RATE, SECRET, WORK, Process, address, in_ns, setup_network, start_zookeeper,
                   teardown_network)

TOOL = os.path.realpath(sys.argv[1])
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


def start_node(name, host, zookeeper, chroot, rows, partitions=None, ns=None):
    args = [TOOL, "serve", "--host", host, "--port", "0", "--rows", rows]
    if partitions:
        args += ["--partitions", partitions]
    if zookeeper:
        args += ["--zookeeper", zookeeper + chroot, "--cluster-secret-file", SECRET, "--node-id", name]
    return Process(args, name, ns=ns)


def members(location, ns=None):
    code = ("import json, pyarrow.flight as fl; c = fl.connect(%r); "
            "print(json.dumps([json.loads(r.body.to_pybytes())['id'] for r in c.do_action(fl.Action('cluster-members', b''))]))" % location)
    out = subprocess.run(in_ns(ns, [sys.executable, "-c", code]), capture_output=True).stdout
    return json.loads(out or b"[]")




def scale_out():
    print(f"== Scale-out: each node's link capped at {RATE}; one partition per node; {RUNS} runs each, interleaved")
    setup_network()
    zk = None
    try:
        zk, zookeeper = start_zookeeper(address(CLIENT), ns=CLIENT)
        results = {}
        for count in (1, 2, 3):
            rows = count * 8_000_000
            chroot = f"/bench-{count}-{time.time_ns()}"
            nodes = [start_node(f"n{i + 1}", address(ns), zookeeper, chroot, rows, partitions=count, ns=ns)
                     for i, ns in enumerate(NODES[:count])]
            try:
                deadline = time.monotonic() + 20
                while len(members(nodes[0].location, ns=CLIENT)) != count:
                    assert time.monotonic() < deadline, "members did not join"
                    time.sleep(0.2)
                ours, theirs = [], []
                for _ in range(RUNS):
                    out = subprocess.run(in_ns(CLIENT, [TOOL, "read", "--uri", nodes[0].location, "--json"]),
                                         capture_output=True, check=True).stdout
                    ours.append(json.loads(out.splitlines()[-1])["gbps"])
                    out = subprocess.run(in_ns(CLIENT, [sys.executable, "-c", PYARROW_READ, nodes[0].location]),
                                         capture_output=True, check=True).stdout
                    theirs.append(json.loads(out.splitlines()[-1])["gbps"])
                results[count] = (ours, theirs)
                print(f"{count} node(s), {rows * 32 / 1e6:.0f} MB: flight-bench read {summary(ours, 'MB/s', 1000)}; "
                      f"pyarrow client {summary(theirs, 'MB/s', 1000)}")
            finally:
                for node in nodes:
                    node.stop()
        one = statistics.median(results[1][0])
        for count in (2, 3):
            print(f"{count} nodes / (N x one node), flight-bench read: {statistics.median(results[count][0]) / (count * one):.2f}")
        one = statistics.median(results[1][1])
        for count in (2, 3):
            print(f"{count} nodes / (N x one node), pyarrow client: {statistics.median(results[count][1]) / (count * one):.2f}")
    finally:
        if zk:
            zk.stop(signal.SIGKILL)
        teardown_network()


def coordination():
    print(f"== Coordination cost on loopback: GetFlightInfo + DoGet of 1,000 rows from pyarrow, ~1 s per measurement, {RUNS} each")
    zk, zookeeper = start_zookeeper("127.0.0.1")
    local = start_node("local", "127.0.0.1", None, None, 1000, partitions=1)
    chroot = f"/coordination-{time.time_ns()}"
    cluster = [start_node(f"c{i}", "127.0.0.1", zookeeper, chroot, 1000, partitions=1) for i in range(3)]
    try:
        while len(members(cluster[0].location)) != 3:
            time.sleep(0.1)

        def measure(location):
            client = fl.connect(location)
            clients = {}
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < 1.0:
                info = client.get_flight_info(fl.FlightDescriptor.for_path("synthetic"))
                endpoint = info.endpoints[0]
                uri = endpoint.locations[0].uri.decode() if endpoint.locations else location
                reader = clients.setdefault(uri, fl.connect(uri))
                assert reader.do_get(endpoint.ticket).read_all().num_rows == 1000
                count += 1
            return (time.perf_counter() - start) / count

        single, clustered = [], []
        for _ in range(RUNS):
            single.append(measure(local.location))
            clustered.append(measure(cluster[0].location))
        print(f"single node: {summary(single, 'ms', 1000)}")
        print(f"three-node cluster: {summary(clustered, 'ms', 1000)}")
        print(f"cluster - single: {(statistics.median(clustered) - statistics.median(single)) * 1000:.3f} ms")

        print("== Membership change to the first FlightInfo of another node that reflects it")
        for how, sig in (("clean stop (SIGTERM)", signal.SIGTERM), ("kill -9", signal.SIGKILL)):
            times = []
            for i in range(3):
                extra = start_node(f"x{i}-{sig}", "127.0.0.1", zookeeper, chroot, 1000, partitions=4)
                client = fl.connect(cluster[0].location)

                def names():
                    info = client.get_flight_info(fl.FlightDescriptor.for_path("synthetic"))
                    return {l.uri.decode() for e in info.endpoints for l in e.locations}

                while extra.location not in names():
                    time.sleep(0.01)
                start = time.perf_counter()
                extra.proc.send_signal(sig)
                while extra.location in names():
                    time.sleep(0.001)
                times.append(time.perf_counter() - start)
                extra.proc.wait(timeout=20)
            print(f"{how}, session timeout 4 s: {summary(times, 'ms', 1000)}")
        print("== Cancel: CancelFlightInfo on one node to the failure of a stream on another")
        chroot = f"/cancel-{time.time_ns()}"
        big = [start_node(f"k{i}", "127.0.0.1", zookeeper, chroot, 30_000_000, partitions=2) for i in range(2)]
        try:
            while len(members(big[0].location)) != 2:
                time.sleep(0.1)
            calls, stops = [], []
            for _ in range(RUNS):
                planner = fl.connect(big[0].location)
                info = planner.get_flight_info(fl.FlightDescriptor.for_path("synthetic"))
                endpoint = next(e for e in info.endpoints if e.locations[0].uri.decode() == big[1].location)
                reader = fl.connect(big[1].location).do_get(endpoint.ticket)
                reader.read_chunk()
                request = b"\x0a" + varint(len(info.serialize())) + info.serialize()
                start = time.perf_counter()
                list(planner.do_action(fl.Action("CancelFlightInfo", request)))
                calls.append(time.perf_counter() - start)
                try:
                    while True:
                        reader.read_chunk()
                except StopIteration:
                    raise AssertionError("a cancelled stream ended without error")
                except Exception:
                    stops.append(time.perf_counter() - start)
            print(f"CancelFlightInfo call (writes the ZooKeeper marker): {summary(calls, 'ms', 1000)}")
            print(f"to the stream's failure on the other node: {summary(stops, 'ms', 1000)}")
        finally:
            for node in big:
                node.stop()
    finally:
        for node in [local, *cluster]:
            node.stop()
        zk.stop(signal.SIGKILL)


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


if __name__ == "__main__":
    assert os.geteuid() == 0, "needs root for ip netns and tc"
    coordination()
    scale_out()
