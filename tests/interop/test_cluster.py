"""A cluster of our Flight servers on a real ZooKeeper (Debian's `zookeeper`, started and stopped
by the run): membership, reads of every endpoint by pyarrow and the ADBC Flight SQL driver,
failover, processes killed with -9, ZooKeeper stopped and started again, forged tickets."""
import base64
import json
import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import pyarrow as pa
import pyarrow.flight as flight
import pytest

from conftest import ServerProcess
from test_flightsql_protocol import command, field_bytes, s

ZOOKEEPER_CLASSPATH = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"
SESSION_TIMEOUT = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ZooKeeper:
    """A standalone ZooKeeper server on 127.0.0.1 with its own configuration and data."""

    def __init__(self, directory: pathlib.Path):
        self.directory = directory
        self.port = free_port()
        (directory / "data").mkdir(parents=True, exist_ok=True)
        (directory / "zoo.cfg").write_text(
            f"tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir={directory / 'data'}\n"
            f"clientPort={self.port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
            "minSessionTimeout=1000\nmaxSessionTimeout=60000\n4lw.commands.whitelist=ruok\n")
        self.proc = None
        self.start()

    @property
    def connect(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.directory / "zookeeper.log", "ab")
        self.proc = subprocess.Popen(
            ["java", f"-Dzookeeper.log.dir={self.directory}", "-cp", ZOOKEEPER_CLASSPATH,
             "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(self.directory / "zoo.cfg")],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"ruok")
                    if s.recv(4) == b"imok":
                        return
            except OSError:
                pass
            assert self.proc.poll() is None, (self.directory / "zookeeper.log").read_text(errors="replace")
            time.sleep(0.1)
        raise AssertionError("ZooKeeper did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory):
    assert shutil.which("java") and os.path.exists("/usr/share/java/zookeeper.jar"), "make test installs zookeeper"
    server = ZooKeeper(tmp_path_factory.mktemp("zookeeper"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster_secret(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("secret") / "cluster.secret"
    path.write_bytes(os.urandom(32))
    return path


class Cluster:
    """Starts our servers as members of one cluster; stops what is left at the end."""

    def __init__(self, binary, zookeeper, secret, chroot, tmp_path_factory):
        self.binary, self.zookeeper, self.secret, self.chroot = binary, zookeeper, secret, chroot
        self.tmp_path_factory = tmp_path_factory
        self.nodes: list[ServerProcess] = []

    def cluster_args(self, node_id):
        return ["--zookeeper", self.zookeeper.connect + self.chroot, "--cluster-secret-file", self.secret,
                "--node-id", node_id, "--zookeeper-session-timeout", str(SESSION_TIMEOUT)]

    def start(self, node_id, *args) -> ServerProcess:
        log = self.tmp_path_factory.mktemp("log") / f"{node_id}.log"
        node = ServerProcess([self.binary, *args, "--host", "127.0.0.1", "--port", "0", *self.cluster_args(node_id)], log)
        node.node_id = node_id
        self.nodes.append(node)
        return node

    def finish(self):
        for node in self.nodes:
            if node.alive():
                os.kill(node.proc.pid, signal.SIGCONT)
                status = node.stop()
                assert status == 0, f"{node.node_id} exited {status}; log:\n{node.log()}"


@pytest.fixture
def bench_cluster(flight_bench_bin, zookeeper, cluster_secret, tmp_path_factory, request):
    """`flight-bench serve` nodes in a cluster of their own (a chroot per test)."""
    cluster = Cluster(flight_bench_bin, zookeeper, cluster_secret, f"/test-{request.node.name[:40]}-{time.time_ns()}", tmp_path_factory)
    start = cluster.start
    cluster.start = lambda node_id, *args: start(node_id, "serve", *args)
    yield cluster
    cluster.finish()


def members(location) -> list[dict]:
    with flight.connect(location) as client:
        return [json.loads(r.body.to_pybytes()) for r in client.do_action(flight.Action("cluster-members", b""))]


def member_ids(location) -> list[str]:
    return sorted(m["id"] for m in members(location))


def wait_for(condition, timeout: float, what: str) -> float:
    """Polls `condition` until true; returns the seconds it took."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.02)
    return time.monotonic() - start


def read_endpoint(endpoint, *, failover=True) -> pa.Table:
    """Reads one endpoint from its locations in order, as a client that fails over does."""
    errors = []
    for location in endpoint.locations:
        try:
            with flight.connect(location) as client:
                return client.do_get(endpoint.ticket).read_all()
        except flight.FlightError as error:
            errors.append((location.uri, error))
            if not failover:
                raise
    raise AssertionError(f"every location failed: {errors}")


def check_synthetic(tables, rows):
    """The synthetic table's rows 0..rows-1, each exactly once, in every column."""
    table = pa.concat_tables(tables)
    assert table.num_rows == rows
    values = sorted(table.column("a").to_pylist())
    assert values == list(range(rows))
    for name in "bcd":
        assert table.column(name).to_pylist() == table.column("a").to_pylist()


def test_members_join_leave_and_die(bench_cluster):
    a = bench_cluster.start("a", "--rows", "1000")
    b = bench_cluster.start("b", "--rows", "1000")
    c = bench_cluster.start("c", "--rows", "1000")
    for node in (a, b, c):
        wait_for(lambda: member_ids(node.location) == ["a", "b", "c"], 10, f"three members on {node.node_id}")
    listed = {m["id"]: m for m in members(a.location)}
    assert listed["b"]["location"] == b.location
    assert set(listed["b"]) == {"id", "location", "internal_location", "started_at", "active_streams"}
    assert listed["b"]["started_at"].endswith("Z")

    # A clean stop removes the node at once.
    assert b.stop() == 0
    took = wait_for(lambda: member_ids(a.location) == ["a", "c"], 2, "b to leave")
    assert took < 1.0, f"a clean stop took {took:.3f} s to show"

    # kill -9: gone when its session expires.
    c.kill()
    took = wait_for(lambda: member_ids(a.location) == ["a"], SESSION_TIMEOUT + 3, "c's session to expire")
    assert took <= SESSION_TIMEOUT + 1.0, f"a killed node took {took:.3f} s to leave"

    # A node that joins is in the next FlightInfo.
    d = bench_cluster.start("d", "--rows", "1000")
    wait_for(lambda: member_ids(a.location) == ["a", "d"], 10, "d to join")
    with flight.connect(a.location) as client:
        info = client.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
    firsts = {endpoint.locations[0].uri.decode() for endpoint in info.endpoints}
    assert firsts == {a.location, d.location}


def test_pyarrow_reads_every_endpoint_from_every_node(bench_cluster):
    rows = 300_000
    nodes = [bench_cluster.start(name, "--rows", str(rows), "--batch-rows", "7000", "--partitions", "9") for name in "abc"]
    wait_for(lambda: member_ids(nodes[0].location) == ["a", "b", "c"], 10, "three members")
    with flight.connect(nodes[0].location) as client:
        info = client.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
    assert len(info.endpoints) == 9
    assert info.total_records == rows
    everyone = {node.location for node in nodes}
    for endpoint in info.endpoints:
        # Every endpoint lists every member; first locations rotate.
        assert {l.uri.decode() for l in endpoint.locations} == everyone
        assert endpoint.expiration_time is not None
    firsts = [endpoint.locations[0].uri.decode() for endpoint in info.endpoints]
    assert {firsts.count(location) for location in everyone} == {3}

    # Read all endpoints at once, each from its first location.
    results = [None] * len(info.endpoints)

    def read(i):
        results[i] = read_endpoint(info.endpoints[i], failover=False)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(info.endpoints))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check_synthetic(results, rows)

    # Any member serves any endpoint: read each from its last location too.
    again = []
    for endpoint in info.endpoints:
        with flight.connect(endpoint.locations[-1]) as client:
            again.append(client.do_get(endpoint.ticket).read_all())
    check_synthetic(again, rows)


def test_the_least_busy_members_come_first(bench_cluster):
    rows = 50_000_000
    nodes = {name: bench_cluster.start(name, "--rows", str(rows), "--partitions", "1") for name in "abc"}
    wait_for(lambda: member_ids(nodes["a"].location) == ["a", "b", "c"], 10, "three members")
    # Two streams held open on a, one on b, none on c.
    held = []
    for name in ("a", "a", "b"):
        with flight.connect(nodes["a"].location) as planner:
            info = planner.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
        client = flight.connect(nodes[name].location)
        reader = client.do_get(info.endpoints[0].ticket)
        reader.read_chunk()
        held.append((client, reader))
    loads = lambda: {m["id"]: m["active_streams"] for m in members(nodes["c"].location)}
    wait_for(lambda: loads() == {"a": 2, "b": 1, "c": 0}, 10, "the nodes to publish their load")
    for _ in range(4):
        with flight.connect(nodes["b"].location) as planner:
            info = planner.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
        assert [l.uri.decode() for l in info.endpoints[0].locations] == [nodes[n].location for n in "cba"]
    for client, reader in held:
        reader.cancel()
        client.close()
    wait_for(lambda: loads() == {"a": 0, "b": 0, "c": 0}, 10, "the load to drop")


def test_failover_when_a_node_dies_after_planning(bench_cluster):
    rows = 100_000
    nodes = {name: bench_cluster.start(name, "--rows", str(rows), "--partitions", "6") for name in "abc"}
    wait_for(lambda: member_ids(nodes["a"].location) == ["a", "b", "c"], 10, "three members")
    with flight.connect(nodes["a"].location) as client:
        info = client.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
    nodes["b"].kill()
    tables = [read_endpoint(endpoint) for endpoint in info.endpoints]
    check_synthetic(tables, rows)


def test_a_node_killed_mid_stream_fails_the_stream(bench_cluster):
    rows = 20_000_000
    nodes = {name: bench_cluster.start(name, "--rows", str(rows), "--batch-rows", "8192", "--partitions", "2") for name in "ab"}
    wait_for(lambda: member_ids(nodes["a"].location) == ["a", "b"], 10, "two members")
    with flight.connect(nodes["a"].location) as client:
        info = client.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
    endpoint = next(e for e in info.endpoints if e.locations[0].uri.decode() == nodes["b"].location)
    received = 0
    with flight.connect(endpoint.locations[0]) as client:
        reader = client.do_get(endpoint.ticket)
        with pytest.raises(flight.FlightError):
            for chunk in reader:
                received += chunk.data.num_rows
                if received >= 100_000 and nodes["b"].alive():
                    nodes["b"].kill()
    # Never a short result that looks complete.
    assert 100_000 <= received < rows // 2


def test_forged_and_foreign_tickets_are_refused_on_every_node(bench_cluster, flight_bench_bin, zookeeper, tmp_path_factory):
    a = bench_cluster.start("a", "--rows", "1000")
    b = bench_cluster.start("b", "--rows", "1000")
    wait_for(lambda: member_ids(a.location) == ["a", "b"], 10, "two members")
    # Another cluster, with another secret, on the same ZooKeeper.
    other_secret = tmp_path_factory.mktemp("other") / "secret"
    other_secret.write_bytes(os.urandom(32))
    other = Cluster(flight_bench_bin, zookeeper, other_secret, f"/other-{time.time_ns()}", tmp_path_factory)
    foreign = other.start("x", "serve", "--rows", "1000")
    try:
        with flight.connect(foreign.location) as client:
            foreign_ticket = client.get_flight_info(flight.FlightDescriptor.for_path("x")).endpoints[0].ticket
        with flight.connect(a.location) as client:
            ticket = client.get_flight_info(flight.FlightDescriptor.for_path("x")).endpoints[0].ticket
        tampered = bytearray(ticket.ticket)
        tampered[-40] ^= 1
        for node in (a, b):
            with flight.connect(node.location) as client:
                assert client.do_get(ticket).read_all().num_rows > 0
                for bad in (foreign_ticket, flight.Ticket(bytes(tampered)), flight.Ticket(b"SAFM\x01\x01" + b"\0" * 80)):
                    # NOT_FOUND, which pyarrow raises as a KeyError.
                    with pytest.raises(KeyError, match="ticket"):
                        client.do_get(bad).read_all()
    finally:
        other.finish()


def test_zookeeper_restart_keeps_streams_and_nodes_register_again(bench_cluster, zookeeper):
    rows = 3_000_000
    a = bench_cluster.start("a", "--rows", str(rows), "--partitions", "2")
    b = bench_cluster.start("b", "--rows", str(rows), "--partitions", "2")
    wait_for(lambda: member_ids(a.location) == ["a", "b"], 10, "two members")
    with flight.connect(a.location) as client:
        info = client.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
    # A stream open while ZooKeeper goes away and comes back finishes whole.
    client = flight.connect(info.endpoints[0].locations[0])
    reader = client.do_get(info.endpoints[0].ticket)
    first = reader.read_chunk().data
    zookeeper.stop()
    try:
        # Planning needs no ZooKeeper: the view is in memory.
        with flight.connect(b.location) as planner:
            during = planner.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
        assert len(during.endpoints) == 2
        time.sleep(SESSION_TIMEOUT + 1)
    finally:
        zookeeper.start()
    rest = reader.read_all()
    client.close()
    second = read_endpoint(info.endpoints[1])
    check_synthetic([pa.Table.from_batches([first]), rest, second], rows)
    # Both nodes are members again, and a new node joins.
    wait_for(lambda: member_ids(a.location) == ["a", "b"], 20, "a and b to register again")
    c = bench_cluster.start("c", "--rows", str(rows), "--partitions", "3")
    wait_for(lambda: member_ids(b.location) == ["a", "b", "c"], 20, "c to join after the restart")
    with flight.connect(c.location) as planner:
        after = planner.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
    check_synthetic([read_endpoint(e) for e in after.endpoints], rows)


def test_a_node_whose_session_expired_registers_again(bench_cluster):
    a = bench_cluster.start("a", "--rows", "1000")
    b = bench_cluster.start("b", "--rows", "1000")
    wait_for(lambda: member_ids(a.location) == ["a", "b"], 10, "two members")
    os.kill(b.proc.pid, signal.SIGSTOP)
    try:
        wait_for(lambda: member_ids(a.location) == ["a"], SESSION_TIMEOUT + 5, "b's session to expire")
    finally:
        os.kill(b.proc.pid, signal.SIGCONT)
    wait_for(lambda: member_ids(a.location) == ["a", "b"], 20, "b to register again")
    assert member_ids(b.location) == ["a", "b"]


# --- flight-sql-server: one read-only database copied to every node -----------------------------

@pytest.fixture
def sql_cluster(flight_sql_server_bin, zookeeper, cluster_secret, tmp_path_factory, request):
    cluster = Cluster(flight_sql_server_bin, zookeeper, cluster_secret, f"/sql-{time.time_ns()}", tmp_path_factory)
    yield cluster
    cluster.finish()


def make_database(path: pathlib.Path, rows: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)")
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                       ((i, f"name-{i}", None if i % 7 == 0 else i / 3, bytes([i % 256]) * (i % 5)) for i in range(rows)))
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=DELETE")


def copies(source: pathlib.Path, directory: pathlib.Path, count: int) -> list[pathlib.Path]:
    paths = []
    for i in range(count):
        target = directory / f"copy-{i}.sqlite"
        shutil.copyfile(source, target)
        paths.append(target)
    return paths


def test_adbc_reads_a_query_planned_on_one_node_from_another(sql_cluster, tmp_path):
    import adbc_driver_flightsql.dbapi as flightsql
    rows = 5000
    make_database(tmp_path / "source.sqlite", rows)
    paths = copies(tmp_path / "source.sqlite", tmp_path, 3)
    nodes = [sql_cluster.start(name, "--database", path, "--read-only") for name, path in zip("abc", paths)]
    wait_for(lambda: member_ids(nodes[0].location) == ["a", "b", "c"], 10, "three members")
    expected = sqlite3.connect(tmp_path / "source.sqlite").execute("SELECT id, name, score, data FROM t ORDER BY id").fetchall()

    with flightsql.connect(nodes[0].location, autocommit=True) as conn, conn.cursor() as cur:
        for _ in range(3):
            partitions, schema = cur.adbc_execute_partitions("SELECT id, name, score, data FROM t ORDER BY id")
            assert len(partitions) == 1
            cur.adbc_read_partition(partitions[0])
            table = cur.fetch_arrow_table()
            got = [tuple(r.values()) for r in table.to_pylist()]
            assert got == [tuple(row) for row in expected]
        cur.execute("SELECT id, name, score, data FROM t ORDER BY id")
        assert [tuple(r.values()) for r in cur.fetch_arrow_table().to_pylist()] == [tuple(row) for row in expected]

    # Planned on b, whose location comes first; b dies before the read: the driver, connected
    # to c, reads the partition from the next location.
    for _ in range(3):
        with flightsql.connect(nodes[1].location, autocommit=True) as conn, conn.cursor() as cur:
            partitions, _ = cur.adbc_execute_partitions("SELECT id, name, score, data FROM t ORDER BY id")
        if nodes[1].location.encode() in partitions[0]:
            break
    nodes[1].kill()
    with flightsql.connect(nodes[2].location, autocommit=True) as conn, conn.cursor() as cur:
        cur.adbc_read_partition(partitions[0])
        got = [tuple(r.values()) for r in cur.fetch_arrow_table().to_pylist()]
    assert got == [tuple(row) for row in expected]


def test_sql_pull_tasks_spread_and_check_the_database_copy(sql_cluster, tmp_path):
    rows = 3000
    make_database(tmp_path / "source.sqlite", rows)
    good = copies(tmp_path / "source.sqlite", tmp_path, 2)
    other = tmp_path / "other.sqlite"
    make_database(other, rows + 1)
    a = sql_cluster.start("a", "--database", good[0], "--read-only")
    b = sql_cluster.start("b", "--database", good[1], "--read-only")
    c = sql_cluster.start("c", "--database", other, "--read-only")
    wait_for(lambda: member_ids(a.location) == ["a", "b", "c"], 10, "three members")
    query = flight.FlightDescriptor.for_command(command("CommandStatementQuery", s(1, "SELECT id, name FROM t ORDER BY id")))
    with flight.connect(a.location) as client:
        seen = set()
        for _ in range(3):
            info = client.get_flight_info(query)
            [endpoint] = info.endpoints
            assert {l.uri.decode() for l in endpoint.locations} == {a.location, b.location, c.location}
            seen.add(endpoint.locations[0].uri.decode())
            for location in endpoint.locations:
                with flight.connect(location) as reader:
                    if location.uri.decode() == c.location:
                        with pytest.raises(pa.ArrowInvalid, match="another copy of the database"):  # FAILED_PRECONDITION
                            reader.do_get(endpoint.ticket).read_all()
                    else:
                        table = reader.do_get(endpoint.ticket).read_all()
                        assert table.column("id").to_pylist() == list(range(rows))
        assert seen == {a.location, b.location, c.location}


# --- Pushed partitions: producers in processes of their own ------------------------------------

PRODUCER = pathlib.Path(__file__).with_name("push_producer.py")


def plan_push(location, partitions):
    """Runs flight-bench's `plan-push`: the FlightInfo for the reader, a target per producer."""
    with flight.connect(location) as client:
        results = list(client.do_action(flight.Action("plan-push", str(partitions).encode())))
    info = flight.FlightInfo.deserialize(results[0].body.to_pybytes())
    return info, [json.loads(r.body.to_pybytes()) for r in results[1:]]


def start_producer(target, start, batches, rows, *extra):
    import sys
    return subprocess.Popen([sys.executable, str(PRODUCER), target["location"], target["descriptor"],
                             str(start), str(batches), str(rows), *map(str, extra)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def producer_result(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    lines = out.decode().strip().splitlines()
    return proc.returncode, json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}, err.decode()


def test_producers_push_partitions_to_three_nodes_while_a_client_reads(bench_cluster):
    nodes = [bench_cluster.start(name, "--internal-port", "0") for name in "abc"]
    wait_for(lambda: member_ids(nodes[0].location) == ["a", "b", "c"], 10, "three members")
    listed = {m["id"]: m for m in members(nodes[0].location)}
    assert all(m["internal_location"] and m["internal_location"] != m["location"] for m in listed.values())
    info, targets = plan_push(nodes[1].location, 6)
    assert len(info.endpoints) == len(targets) == 6
    assert {t["node"] for t in targets} == {"a", "b", "c"}
    for endpoint, target in zip(info.endpoints, targets):
        # The reader reads where the producer pushes: one location, the serving node's.
        assert [l.uri.decode() for l in endpoint.locations] == [listed[target["node"]]["location"]]
        assert target["location"] == listed[target["node"]]["internal_location"]
    rows, batches = 5000, 8
    # Readers first: they wait for their producers.
    results = [None] * 6

    def read(i):
        results[i] = read_endpoint(info.endpoints[i], failover=False)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    producers = [start_producer(target, i * rows * batches, batches, rows) for i, target in enumerate(targets)]
    for proc in producers:
        status, last, err = producer_result(proc)
        assert status == 0, err
        assert last == {"batches": batches, "rows": batches * rows, "complete": True}
    for t in threads:
        t.join()
    check_synthetic(results, 6 * rows * batches)


def test_a_producer_killed_mid_push_fails_the_readers_stream(bench_cluster):
    a = bench_cluster.start("a", "--internal-port", "0")
    b = bench_cluster.start("b", "--internal-port", "0")
    wait_for(lambda: member_ids(a.location) == ["a", "b"], 10, "two members")
    info, [target] = plan_push(a.location, 1)
    producer = start_producer(target, 0, 1000, 1000, "--pause", "0.01")
    # Wait until it has sent some batches, then kill it.
    for _ in range(5):
        producer.stdout.readline()
    received = 0
    with flight.connect(info.endpoints[0].locations[0]) as client:
        reader = client.do_get(info.endpoints[0].ticket)
        producer.kill()
        producer.wait()
        with pytest.raises(pa.ArrowException, match="producer of this partition failed"):
            for chunk in reader:
                received += chunk.data.num_rows
    assert received < 1000 * 1000


def test_a_producer_declaring_other_totals_fails_both_sides(bench_cluster):
    a = bench_cluster.start("a")
    wait_for(lambda: member_ids(a.location) == ["a"], 10, "one member")

    def push_and_read(*producer_args):
        """Reads the one endpoint of a new push plan while a producer pushes it; the
        producer's result and the reader's error."""
        info, [target] = plan_push(a.location, 1)
        assert target["location"] == a.location  # no internal port: the public one
        errors = []

        def read():
            try:
                read_endpoint(info.endpoints[0], failover=False)
            except pa.ArrowException as error:
                errors.append(str(error))

        thread = threading.Thread(target=read)
        thread.start()
        status, last, _ = producer_result(start_producer(target, 0, *producer_args))
        thread.join()
        assert status == 3, last
        assert errors, "the reader's stream ended without error"
        return last["error"], errors[0]

    producer, reader = push_and_read(3, 100, "--declare-rows", "301")
    assert "declared 3 batches and 301 rows but sent 3 and 300" in producer
    assert "data loss" in reader.lower() and "incomplete" in reader
    # Ending without totals fails the reader too.
    producer, reader = push_and_read(2, 100, "--no-totals")
    assert "without declaring its totals" in producer
    assert "producer of this partition failed" in reader


def test_push_memory_stays_bounded_with_a_slow_reader(bench_cluster):
    a = bench_cluster.start("a", "--internal-port", "0")
    wait_for(lambda: member_ids(a.location) == ["a"], 10, "one member")
    info, [target] = plan_push(a.location, 1)
    batches, rows = 512, 32768  # 512 batches of 1 MiB
    producer = start_producer(target, 0, batches, rows)
    peak = 0

    def rss_mb(pid):
        with open(f"/proc/{pid}/status") as status:
            return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) / 1024

    received = 0
    with flight.connect(info.endpoints[0].locations[0]) as client:
        for chunk in client.do_get(info.endpoints[0].ticket):
            received += chunk.data.num_rows
            time.sleep(0.004)
            peak = max(peak, rss_mb(a.proc.pid))
    status, last, err = producer_result(producer)
    assert status == 0, err
    assert received == batches * rows
    assert peak < 200, f"the serving node reached {peak:.0f} MB while 512 MB went through it"


def test_bad_put_descriptors_are_refused(bench_cluster):
    a = bench_cluster.start("a", "--internal-port", "0")
    b = bench_cluster.start("b", "--internal-port", "0")
    wait_for(lambda: member_ids(a.location) == ["a", "b"], 10, "two members")
    info, targets = plan_push(a.location, 2)
    listed = {m["id"]: m for m in members(a.location)}
    schema = pa.schema([(n, pa.int64(), False) for n in "abcd"])

    def put(location, descriptor):
        with flight.connect(location) as client:
            writer, _ = client.do_put(descriptor, schema)
            writer.close()

    internal = listed["a"]["internal_location"]
    good = base64.b64decode(targets[0]["descriptor"])
    tampered = bytearray(good)
    tampered[-1] ^= 1
    for descriptor, pattern in [
        (flight.FlightDescriptor.for_path("x"), "unimplemented|not implemented"),
        (flight.FlightDescriptor.for_command(bytes(tampered)), "put descriptor"),
        (flight.FlightDescriptor.for_command(info.endpoints[0].ticket.ticket), "not a put descriptor|put descriptor"),
    ]:
        with pytest.raises(pa.ArrowException, match=pattern):
            put(internal, descriptor)
    # Pushed to the wrong node.
    wrong = next(t for t in targets if t["node"] == "a")
    other = listed["b"]["internal_location"]
    with pytest.raises(pa.ArrowException, match="pushed to node 'a'"):
        put(other, flight.FlightDescriptor.for_command(base64.b64decode(wrong["descriptor"])))
    # A reader of a pushed partition at the wrong node is told where it is served.
    endpoint = info.endpoints[targets.index(wrong)]
    with flight.connect(b.location) as client, pytest.raises(pa.ArrowException, match="served by node 'a'"):
        client.do_get(endpoint.ticket).read_all()


def test_cancel_on_one_node_stops_the_query_on_every_node(bench_cluster):
    rows = 50_000_000
    nodes = {name: bench_cluster.start(name, "--rows", str(rows), "--partitions", "3") for name in "abc"}
    wait_for(lambda: member_ids(nodes["a"].location) == ["a", "b", "c"], 10, "three members")
    with flight.connect(nodes["a"].location) as client:
        info = client.get_flight_info(flight.FlightDescriptor.for_path("synthetic"))
    readers = []
    for endpoint in info.endpoints:
        first = endpoint.locations[0].uri.decode()
        if first == nodes["a"].location:
            continue
        client = flight.connect(first)
        reader = client.do_get(endpoint.ticket)
        reader.read_chunk()
        readers.append((client, reader, endpoint))
    assert len(readers) == 2
    with flight.connect(nodes["a"].location) as client:
        # CancelFlightInfoRequest {info = 1}; the result's status 1 is CANCELLED.
        [result] = client.do_action(flight.Action("CancelFlightInfo", field_bytes(1, info.serialize())))
        assert result.body.to_pybytes() == b"\x08\x01"
    started = time.monotonic()
    for client, reader, endpoint in readers:
        with pytest.raises(pa.ArrowException, match="cancel"):
            while True:
                reader.read_chunk()
        client.close()
    assert time.monotonic() - started < 5
    # The tickets are refused from now on, on every node.
    for node in nodes.values():
        with flight.connect(node.location) as client, pytest.raises(pa.ArrowException, match="cancel"):
            client.do_get(info.endpoints[0].ticket).read_all()


def test_tokens_from_one_node_are_valid_on_every_node(sql_cluster, tmp_path):
    make_database(tmp_path / "source.sqlite", 10)
    paths = copies(tmp_path / "source.sqlite", tmp_path, 2)
    users = tmp_path / "users"
    users.write_text("alice:secret-password\n")
    a, b = (sql_cluster.start(name, "--database", path, "--read-only", "--auth", "basic", "--users-file", users)
            for name, path in zip("ab", paths))
    with flight.connect(a.location) as client:
        header = client.authenticate_basic_token(b"alice", b"secret-password")
    options = flight.FlightCallOptions(headers=[header])
    wait_for(lambda: sorted(m["id"] for m in members_with(b.location, options)) == ["a", "b"], 10, "two members")
    query = flight.FlightDescriptor.for_command(command("CommandStatementQuery", s(1, "SELECT id FROM t ORDER BY id")))
    with flight.connect(b.location) as client:
        info = client.get_flight_info(query, options)
        with pytest.raises(pa.ArrowException, match="(?i)unauthenticated|authorization|token"):
            client.get_flight_info(query)
    for location in info.endpoints[0].locations:
        with flight.connect(location) as client:
            assert client.do_get(info.endpoints[0].ticket, options).read_all().column("id").to_pylist() == list(range(10))


def members_with(location, options):
    with flight.connect(location) as client:
        return [json.loads(r.body.to_pybytes()) for r in client.do_action(flight.Action("cluster-members", b""), options)]


def test_a_single_node_lists_itself(start_sql_server, start_flight_bench, tmp_path):
    make_database(tmp_path / "db.sqlite", 1)
    for server in (start_sql_server("--database", tmp_path / "db.sqlite"), start_flight_bench("--partitions", "2")):
        [member] = members(server.location)
        # No location: a single node's endpoints are read on the connection a client has.
        assert member["location"] is None and member["id"] == "local"
        assert member["started_at"].endswith("Z")


# --- FlightDataSource: the reader of every endpoint, through `flight get` -------------------------

def run_flight(flight_cli, *args, timeout=300) -> str:
    proc = subprocess.run([flight_cli, *map(str, args)], capture_output=True, timeout=timeout)
    assert proc.returncode == 0, f"flight {args} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}"
    return proc.stdout.decode()


def test_flight_get_reads_every_node_and_survives_one_killed_mid_read(bench_cluster, flight_cli, tmp_path):
    rows = 6_000_000
    nodes = {name: bench_cluster.start(name, "--rows", str(rows), "--batch-rows", "8192", "--partitions", "3") for name in "abc"}
    wait_for(lambda: member_ids(nodes["a"].location) == ["a", "b", "c"], 10, "three members")

    # Every node's partitions, read in parallel, into Parquet by our writer: equal to the table.
    out = run_flight(flight_cli, "get", nodes["a"].location, "--path", "synthetic", "--out", tmp_path / "all.parquet")
    assert out.startswith(f"wrote {rows} rows") and "failover" not in out
    import pyarrow.parquet as pq
    check_synthetic([pq.read_table(tmp_path / "all.parquet")], rows)

    # A node killed with -9 while its stream is read: the endpoint goes on at the next node,
    # every row exactly once. A small read-ahead keeps every stream going while the file grows.
    target = tmp_path / "failover.arrows"
    proc = subprocess.Popen([flight_cli, "get", nodes["a"].location, "--path", "synthetic", "--out", target,
                             "--unordered", "--read-ahead", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    partial = lambda: sum(p.stat().st_size for p in tmp_path.glob("failover.arrows.partial-*"))
    wait_for(lambda: partial() > 20_000_000 or proc.poll() is not None, 60, "the read to get going")
    assert proc.poll() is None, "the read ended before a node could be killed"
    nodes["b"].kill()
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr.decode(errors="replace")
    assert stdout.decode().startswith(f"wrote {rows} rows") and "(1 failover)" in stdout.decode(), stdout
    with pa.ipc.open_stream(target) as reader:
        check_synthetic([reader.read_all()], rows)


def test_serialised_partitions_read_by_separate_processes_equal_the_result(bench_cluster, flight_cli, tmp_path):
    rows = 300_000
    nodes = {name: bench_cluster.start(name, "--rows", str(rows), "--partitions", "3") for name in "abc"}
    wait_for(lambda: member_ids(nodes["a"].location) == ["a", "b", "c"], 10, "three members")
    partitions = run_flight(flight_cli, "partitions", nodes["a"].location, "--path", "synthetic").split()
    assert len(partitions) == 3
    # pyarrow decodes each partition as the FlightInfo of one endpoint.
    for text in partitions:
        info = flight.FlightInfo.deserialize(base64.b64decode(text))
        assert len(info.endpoints) == 1 and info.schema.names == ["a", "b", "c", "d"]
    # Each read by its own process, connected to another node each time.
    procs = [subprocess.Popen([flight_cli, "get", nodes[name].location, "--partition", text, "--out", tmp_path / f"p{i}.arrows"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i, (name, text) in enumerate(zip("bca", partitions))]
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr.decode(errors="replace")
    tables = []
    for i in range(3):
        with pa.ipc.open_stream(tmp_path / f"p{i}.arrows") as reader:
            tables.append(reader.read_all())
    check_synthetic(tables, rows)


def test_adbc_partitions_are_read_by_flight_get(sql_cluster, flight_cli, tmp_path):
    import adbc_driver_flightsql.dbapi as flightsql
    rows = 4000
    make_database(tmp_path / "source.sqlite", rows)
    paths = copies(tmp_path / "source.sqlite", tmp_path, 2)
    nodes = [sql_cluster.start(name, "--database", path, "--read-only") for name, path in zip("ab", paths)]
    wait_for(lambda: member_ids(nodes[0].location) == ["a", "b"], 10, "two members")
    with flightsql.connect(nodes[0].location, autocommit=True) as conn, conn.cursor() as cur:
        partitions, _ = cur.adbc_execute_partitions("SELECT id, name FROM t ORDER BY id")
    texts = [base64.b64encode(p).decode() for p in partitions]
    out = run_flight(flight_cli, "get", nodes[1].location, *sum((["--partition", t] for t in texts), []),
                     "--out", tmp_path / "adbc.parquet")
    assert out.startswith(f"wrote {rows} rows")
    import pyarrow.parquet as pq
    table = pq.read_table(tmp_path / "adbc.parquet")
    assert table.column("id").to_pylist() == list(range(rows))
    assert table.column("name").to_pylist() == [f"name-{i}" for i in range(rows)]


def test_a_slow_consumer_keeps_the_reader_and_every_node_bounded(bench_cluster, flight_bench_bin):
    rows = 48_000_000  # 4 int64 columns: 1.5 GB over three nodes
    nodes = {name: bench_cluster.start(name, "--rows", str(rows), "--partitions", "6") for name in "abc"}
    wait_for(lambda: member_ids(nodes["a"].location) == ["a", "b", "c"], 10, "three members")
    proc = subprocess.run([flight_bench_bin, "read", "--uri", nodes["a"].location, "--read-ahead", "32",
                           "--slow-batches", "300", "--slow-ms", "10", "--json"], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert result["bytes"] == rows * 32
    # The reader holds its 32 MiB read-ahead, each stream's HTTP/2 window and queue, and what
    # the allocator keeps of freed messages: about 220-290 MB here, whether 1.5 or 3 GB pass.
    assert result["peak_rss_kb"] < 384 * 1024, f"the reader peaked at {result['peak_rss_kb']} kB"
    limit_kb = 256 * 1024
    for name, node in nodes.items():
        status = pathlib.Path(f"/proc/{node.proc.pid}/status").read_text()
        peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        assert peak < limit_kb, f"node {name} peaked at {peak} kB"
