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
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import pyarrow.flight as fl

from measure import summary

TOOL = os.path.realpath(sys.argv[1])
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
CLASSPATH = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"
WORK = tempfile.mkdtemp(prefix="cluster-bench-")
SECRET = os.path.join(WORK, "secret")
with open(SECRET, "wb") as f:
    f.write(os.urandom(32))

SWITCH = "safb-sw"
CLIENT = "safb-c"
NODES = ["safb-1", "safb-2", "safb-3"]
SUBNET = "10.201.0"
RATE = "800mbit"


def sh(*args, check=True):
    return subprocess.run([str(a) for a in args], check=check, capture_output=True)


def in_ns(ns, args):
    return ["ip", "netns", "exec", ns, *[str(a) for a in args]] if ns else [str(a) for a in args]


def address(ns):
    return f"{SUBNET}.{1 + ([CLIENT] + NODES).index(ns)}"


def setup_network():
    teardown_network()
    sh("ip", "netns", "add", SWITCH)
    sh("ip", "-n", SWITCH, "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", SWITCH, "link", "set", "br0", "up")
    for ns in [CLIENT] + NODES:
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", "eth-" + ns, "type", "veth", "peer", "name", "p-" + ns)
        sh("ip", "link", "set", "eth-" + ns, "netns", ns)
        sh("ip", "link", "set", "p-" + ns, "netns", SWITCH)
        sh("ip", "-n", SWITCH, "link", "set", "p-" + ns, "master", "br0", "up")
        sh("ip", "-n", ns, "addr", "add", address(ns) + "/24", "dev", "eth-" + ns)
        sh("ip", "-n", ns, "link", "set", "eth-" + ns, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        if ns in NODES:
            # What a node sends goes through an 800 Mbit/s token bucket.
            sh("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth-" + ns, "root",
               "tbf", "rate", RATE, "burst", "1mb", "latency", "50ms")


def teardown_network():
    for ns in [SWITCH, CLIENT] + NODES:
        sh("ip", "netns", "del", ns, check=False)


def free_port(host="127.0.0.1", ns=None):
    if ns is None:
        with socket.socket() as s:
            s.bind((host, 0))
            return s.getsockname()[1]
    return 20000 + os.getpid() % 20000


class Process:
    def __init__(self, args, name, ns=None, expect_location=True):
        self.log = open(os.path.join(WORK, name + ".log"), "wb")
        self.proc = subprocess.Popen(in_ns(ns, args), stdout=subprocess.PIPE, stderr=self.log)
        self.location = None
        if expect_location:
            line = b""
            deadline = time.monotonic() + 30
            while not line.endswith(b"\n"):
                assert time.monotonic() < deadline and self.proc.poll() is None, f"{name} did not start"
                if select.select([self.proc.stdout], [], [], 0.5)[0]:
                    line += os.read(self.proc.stdout.fileno(), 4096)
            self.location = re.search(rb"listening on (\S+)", line).group(1).decode()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)


def start_zookeeper(host, ns=None):
    port = 21811
    directory = os.path.join(WORK, f"zookeeper-{ns or 'lo'}")
    os.makedirs(os.path.join(directory, "data"), exist_ok=True)
    with open(os.path.join(directory, "zoo.cfg"), "w") as f:
        f.write(f"tickTime=500\ndataDir={directory}/data\nclientPort={port}\nclientPortAddress={host}\n"
                "admin.enableServer=false\n4lw.commands.whitelist=ruok\n")
    zk = Process(["java", f"-Dzookeeper.log.dir={directory}", "-cp", CLASSPATH,
                  "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(directory, "zoo.cfg")],
                 f"zookeeper-{ns or 'lo'}", ns=ns, expect_location=False)
    probe = in_ns(ns, [sys.executable, "-c",
                       f"import socket; s=socket.create_connection(('{host}',{port}),1); s.sendall(b'ruok'); print(s.recv(4).decode())"])
    for _ in range(150):
        if subprocess.run(probe, capture_output=True).stdout.strip() == b"imok":
            return zk, f"{host}:{port}"
        time.sleep(0.2)
    raise AssertionError("ZooKeeper did not start")


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


PYARROW_READ = r"""
import json, sys, threading, time
import pyarrow.flight as fl
uri = sys.argv[1]
start = time.perf_counter()
info = fl.connect(uri).get_flight_info(fl.FlightDescriptor.for_path("synthetic"))
totals = [0] * len(info.endpoints)
def read(i):
    endpoint = info.endpoints[i]
    client = fl.connect(endpoint.locations[0])
    totals[i] = sum(sum(c.nbytes for c in chunk.data.columns) for chunk in client.do_get(endpoint.ticket))
threads = [threading.Thread(target=read, args=(i,)) for i in range(len(info.endpoints))]
for t in threads: t.start()
for t in threads: t.join()
seconds = time.perf_counter() - start
print(json.dumps({"bytes": sum(totals), "seconds": seconds, "gbps": sum(totals) / seconds / 1e9}))
"""


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
