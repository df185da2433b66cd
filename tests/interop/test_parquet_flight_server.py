"""`parquet-flight-server` (Examples/ParquetFlightServer): a directory of pyarrow-written Parquet
files served by a three-node cluster on a real ZooKeeper. pyarrow's Flight client and our
`flight get` (FlightDataSource's reader) read every dataset, with projections and filters, and
the answers equal what pyarrow computes from the files directly."""
import base64
import json
import subprocess
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as flight
import pyarrow.parquet as pq
import pytest

from test_cluster import Cluster, cluster_secret, member_ids, wait_for, zookeeper  # noqa: F401 (fixtures)


def trips(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.arange(seed * 10_000_000, seed * 10_000_000 + rows)
    cities = np.array(["Oslo", "Lima", "Pune", "Kyiv", "Baku", None], dtype=object)
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "fare": pa.array(np.round(rng.random(rows) * 100, 2)),
        "city": pa.array(cities[rng.integers(0, len(cities), rows)].tolist(), pa.string()),
        "at": pa.array(ids * 1_000_000, pa.timestamp("us", tz="UTC")),
        "stops": pa.array([list(range(i % 4)) for i in range(rows)], pa.list_(pa.int32())),
    })


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("parquet-root")
    (root / "trips").mkdir()
    for part in range(3):
        pq.write_table(trips(60_000, part + 1), root / "trips" / f"part-{part}.parquet", row_group_size=10_000,
                       compression="zstd" if part % 2 else "snappy")
    pq.write_table(trips(25_000, 7), root / "single.parquet", row_group_size=5_000, write_page_index=True)
    pq.write_table(pa.table({"other": [1, 2, 3]}), root / "odd.parquet")
    return root


@pytest.fixture(scope="module")
def nodes(parquet_flight_server_bin, zookeeper, cluster_secret, tmp_path_factory, served):  # noqa: F811
    cluster = Cluster(parquet_flight_server_bin, zookeeper, cluster_secret, f"/parquet-{time.time_ns()}", tmp_path_factory)
    started = {name: cluster.start(name, "--root", served, "--partition-mb", "1") for name in "abc"}
    wait_for(lambda: member_ids(started["a"].location) == ["a", "b", "c"], 10, "three members")
    yield started
    cluster.finish()


def read_info(info: flight.FlightInfo) -> pa.Table:
    tables = []
    for endpoint in info.endpoints:
        with flight.connect(endpoint.locations[0]) as client:
            tables.append(client.do_get(endpoint.ticket).read_all())
    return pa.concat_tables(tables) if tables else info.schema.empty_table()


def by_id(table: pa.Table) -> pa.Table:
    return table.sort_by("id")


def command(path, columns=None, filter=None) -> flight.FlightDescriptor:
    body = {"path": path}
    if columns is not None:
        body["columns"] = columns
    if filter is not None:
        body["filter"] = filter
    return flight.FlightDescriptor.for_command(json.dumps(body).encode())


def test_list_flights_names_every_file_and_directory(nodes, served):
    with flight.connect(nodes["b"].location) as client:
        listed = {tuple(p.decode() for p in info.descriptor.path): info for info in client.list_flights()}
    assert {("trips",), ("single.parquet",), ("trips/part-0.parquet",), ("odd.parquet",)} <= set(listed)
    assert listed[("trips",)].total_records == 180_000
    assert listed[("single.parquet",)].schema.equals(pq.read_schema(served / "single.parquet"))


def test_a_directory_is_read_from_every_node_equal_to_pyarrow(nodes, served):
    with flight.connect(nodes["a"].location) as client:
        info = client.get_flight_info(flight.FlightDescriptor.for_path("trips"))
        assert client.get_schema(flight.FlightDescriptor.for_path("trips")).schema.equals(info.schema)
    assert info.total_records == 180_000
    assert len(info.endpoints) > 3
    assert {e.locations[0].uri.decode() for e in info.endpoints} == {n.location for n in nodes.values()}
    assert all(len(e.locations) == 3 for e in info.endpoints)
    want = pq.read_table(served / "trips")
    got = read_info(info)
    assert got.schema.equals(want.schema)
    assert by_id(got).equals(by_id(want))


@pytest.mark.parametrize("columns, filter, expression", [
    (["id", "city"], [["city", "=", "Lima"]], pc.field("city") == "Lima"),
    (None, [["id", ">=", 20_030_000], ["id", "<", 30_000_000]], (pc.field("id") >= 20_030_000) & (pc.field("id") < 30_000_000)),
    (["id", "fare"], [["fare", "<", 10.5], ["city", "in", ["Oslo", "Pune"]]],
     (pc.field("fare") < 10.5) & pc.field("city").isin(["Oslo", "Pune"])),
    (["id"], [["city", "is_null"]], pc.field("city").is_null()),
    (["id", "stops"], [["city", "not_null"], ["id", "!=", 10_000_001]], pc.field("city").is_valid() & (pc.field("id") != 10_000_001)),
    (["id"], [["id", ">", 99_000_000]], pc.field("id") > 99_000_000),
])
def test_projections_and_filters_equal_pyarrow(nodes, served, columns, filter, expression):
    want = pq.read_table(served / "trips", filters=expression)
    if columns is not None:
        want = want.select(columns)
    with flight.connect(nodes["c"].location) as client:
        info = client.get_flight_info(command("trips", columns, filter))
    got = read_info(info)
    assert got.schema.names == want.schema.names
    assert by_id(got).equals(by_id(want))


def test_flight_get_reads_a_filtered_dataset_into_parquet(nodes, served, flight_cli, tmp_path):
    body = json.dumps({"path": "trips", "columns": ["id", "fare", "city"], "filter": [["fare", ">=", 50]]})
    out = subprocess.run([flight_cli, "get", nodes["a"].location, "--cmd", body, "--out", tmp_path / "got.parquet"],
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    want = pq.read_table(served / "trips", columns=["id", "fare", "city"], filters=pc.field("fare") >= 50)
    got = pq.read_table(tmp_path / "got.parquet")
    assert out.stdout.decode().startswith(f"wrote {want.num_rows} rows")
    assert got.equals(want), "endpoint order keeps the files' order"


def test_a_dead_node_leaves_its_endpoints_to_the_others(parquet_flight_server_bin, zookeeper, cluster_secret,  # noqa: F811
                                                        tmp_path_factory, served, flight_cli, tmp_path):
    cluster = Cluster(parquet_flight_server_bin, zookeeper, cluster_secret, f"/parquet-dead-{time.time_ns()}", tmp_path_factory)
    try:
        started = {name: cluster.start(name, "--root", served, "--partition-mb", "1") for name in "xyz"}
        wait_for(lambda: member_ids(started["x"].location) == ["x", "y", "z"], 10, "three members")
        with flight.connect(started["x"].location) as client:
            info = client.get_flight_info(flight.FlightDescriptor.for_path("trips"))
        partitions = subprocess.run([flight_cli, "partitions", started["x"].location, "--path", "trips"],
                                    capture_output=True, timeout=60, check=True).stdout.decode().split()
        started["y"].kill()
        args = [flight_cli, "get", started["z"].location, "--out", tmp_path / "rest.arrows"]
        for text in partitions:
            args += ["--partition", text]
        out = subprocess.run(args, capture_output=True, timeout=120)
        assert out.returncode == 0, out.stderr.decode(errors="replace")
        with pa.ipc.open_stream(tmp_path / "rest.arrows") as reader:
            got = reader.read_all()
        assert by_id(got).equals(by_id(pq.read_table(served / "trips")))
        assert len(info.endpoints) == len(partitions)
    finally:
        cluster.finish()


def test_bad_requests_get_clear_statuses(nodes):
    with flight.connect(nodes["a"].location) as client:
        cases = [
            (flight.FlightDescriptor.for_path("../etc"), pa.ArrowInvalid, "leaves the served directory"),
            (flight.FlightDescriptor.for_path("nothing.parquet"), pa.ArrowKeyError, "no file or directory"),
            (command("trips", ["id", "nope"]), pa.ArrowInvalid, "nope"),
            (command("trips", None, [["id", "~", 3]]), pa.ArrowInvalid, "malformed filter"),
            (command("trips", None, [["ghost", "=", 3]]), pa.ArrowInvalid, "ghost"),
            (flight.FlightDescriptor.for_command(b"{not json"), pa.ArrowInvalid, "not JSON"),
            (flight.FlightDescriptor.for_command(b'{"path": "trips", "limit": 3}'), pa.ArrowInvalid, "unknown key"),
            (flight.FlightDescriptor.for_path("."), pa.ArrowInvalid, "another schema"),
        ]
        for descriptor, error, message in cases:
            with pytest.raises(error, match=message):
                client.get_flight_info(descriptor)


def test_do_put_writes_a_parquet_file_visible_when_complete(nodes, served):
    table = trips(12_345, 9)
    with flight.connect(nodes["b"].location) as client:
        writer, reader = client.do_put(flight.FlightDescriptor.for_path("uploaded.parquet"), table.schema)
        for batch in table.to_batches(max_chunksize=1000):
            writer.write_batch(batch)
        writer.done_writing()
        reader.read()
        writer.close()
        assert pq.read_table(served / "uploaded.parquet").equals(table)
        assert pq.ParquetFile(served / "uploaded.parquet").metadata.row_group(0).column(0).compression == "ZSTD"
        info = client.get_flight_info(flight.FlightDescriptor.for_path("uploaded.parquet"))
        assert read_info(info).equals(table)
        with pytest.raises(pa.ArrowInvalid, match="leaves the served directory"):
            writer, _ = client.do_put(flight.FlightDescriptor.for_path("../escape.parquet"), table.schema)
            writer.write_table(table)
            writer.close()
    assert not list(served.glob(".upload-*"))
    (served / "uploaded.parquet").unlink()


def test_a_node_killed_mid_read_costs_one_failover_and_no_rows(parquet_flight_server_bin, zookeeper, cluster_secret,  # noqa: F811
                                                               tmp_path_factory, flight_cli, tmp_path):
    root = tmp_path_factory.mktemp("big-root")
    rows = 4_000_000
    rng = np.random.default_rng(5)
    table = pa.table({"id": np.arange(rows), "x": rng.random(rows), "y": rng.integers(0, 1 << 40, rows)})
    pq.write_table(table, root / "big.parquet", row_group_size=250_000, compression="snappy")
    cluster = Cluster(parquet_flight_server_bin, zookeeper, cluster_secret, f"/parquet-kill-{time.time_ns()}", tmp_path_factory)
    try:
        started = {name: cluster.start(name, "--root", root, "--partition-mb", "32") for name in "pqr"}
        wait_for(lambda: member_ids(started["p"].location) == ["p", "q", "r"], 10, "three members")
        # Each plan starts its endpoints on another node: the read is of this plan's partitions,
        # so that the node killed is the one serving the first endpoint.
        partitions = subprocess.run([flight_cli, "partitions", started["p"].location, "--path", "big.parquet"],
                                    capture_output=True, timeout=60, check=True).stdout.decode().split()
        first = flight.FlightInfo.deserialize(base64.b64decode(partitions[0])).endpoints[0].locations[0].uri.decode()
        victim = next(node for node in started.values() if node.location == first)
        target = tmp_path / "big.arrows"
        args = [flight_cli, "get", started["p"].location, "--out", target, "--parallel", "1", "--read-ahead", "1"]
        for text in partitions:
            args += ["--partition", text]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        partial = lambda: sum(p.stat().st_size for p in tmp_path.glob("big.arrows.partial-*"))
        wait_for(lambda: partial() > 4_000_000 or proc.poll() is not None, 60, "the read to get going")
        assert proc.poll() is None, "the read ended before a node could be killed"
        victim.kill()
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr.decode(errors="replace")
        assert "(1 failover)" in stdout.decode(), stdout
        with pa.ipc.open_stream(target) as reader:
            assert reader.read_all().equals(table), "every row once, in the file's order"
    finally:
        cluster.finish()


def test_basic_authentication_guards_every_call(parquet_flight_server_bin, served, tmp_path_factory):
    from conftest import ServerProcess
    server = ServerProcess([parquet_flight_server_bin, "--root", served, "--host", "127.0.0.1", "--port", "0",
                            "--user", "ann", "--password", "secret"], tmp_path_factory.mktemp("auth") / "server.log")
    try:
        with flight.connect(server.location) as client:
            with pytest.raises(flight.FlightUnauthenticatedError):
                client.get_flight_info(flight.FlightDescriptor.for_path("single.parquet"))
            token = client.authenticate_basic_token("ann", "secret")
            options = flight.FlightCallOptions(headers=[token])
            info = client.get_flight_info(flight.FlightDescriptor.for_path("single.parquet"), options)
            got = pa.concat_tables([client.do_get(e.ticket, options).read_all() for e in info.endpoints])
            assert got.equals(pq.read_table(served / "single.parquet"))
            with pytest.raises(flight.FlightUnauthenticatedError):
                client.authenticate_basic_token("ann", "wrong")
    finally:
        assert server.stop() == 0
