"""What the cluster benchmarks share: network namespaces with capped links (a bridge and veth
pairs, iproute2, `tc tbf`) for a client and three nodes, processes started in them, and a
ZooKeeper server. Needs root."""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

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


# A pyarrow client reading every endpoint of a path descriptor at once, a thread each:
# `python -c PYARROW_READ URI [PATH]` prints one JSON object (bytes, seconds, gbps).
PYARROW_READ = r"""
import json, sys, threading, time
import pyarrow.flight as fl
uri = sys.argv[1]
path = sys.argv[2] if len(sys.argv) > 2 else "synthetic"
start = time.perf_counter()
info = fl.connect(uri).get_flight_info(fl.FlightDescriptor.for_path(path))
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
