"""Arrow Flight interop with pyarrow (Arrow C++ Flight over gRPC C++), both ways.

- pyarrow's client against our `flight-file-server` (and `flight-bench serve`), run as
  subprocesses on 127.0.0.1: every RPC the server implements, every gold integration case
  uploaded with DoPut and read back with DoGet (and served from disk as it is), Basic auth,
  TLS, batches over 16 MiB, cancellation, clients that vanish, deadlines, shutdown, and garbage
  on the socket.
- our `flight` CLI against a pyarrow Flight server running in this process: every gold case
  both ways, multi-endpoint results, errors, actions and headers, TLS with Basic auth.

Values are compared with `Table.equals` (schema metadata included).
"""
import base64
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.flight as flight
import pyarrow.ipc as ipc
import pytest

from conftest import FLIGHT_CERTS, GOLD, GOLD_CASES, ROOT, run_cli

# A generous bound for any single call; tests that expect a quick answer set their own.
CALL = flight.FlightCallOptions(timeout=30)


def gold_table(name: str) -> pa.Table:
    with ipc.open_file(GOLD / f"{name}.arrow_file") as reader:
        return reader.read_all()


def gold_batches(name: str) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    with ipc.open_file(GOLD / f"{name}.arrow_file") as reader:
        return reader.schema, [reader.get_batch(i) for i in range(reader.num_record_batches)]


def assert_tables_equal(got: pa.Table, want: pa.Table, what: str) -> None:
    assert got.schema.equals(want.schema, check_metadata=True), f"{what}: schema\n{got.schema}\n!=\n{want.schema}"
    assert got.num_rows == want.num_rows, f"{what}: {got.num_rows} rows != {want.num_rows}"
    assert got.equals(want, check_metadata=True), f"{what}: values differ"


def write_ipc(path, table: pa.Table, layout: str, max_chunksize: int | None = None) -> None:
    """Writes `table` in the IPC file or stream layout."""
    opener = ipc.new_file if layout == "file" else ipc.new_stream
    with opener(path, table.schema) as writer:
        writer.write_table(table, max_chunksize=max_chunksize)


def read_ipc(path) -> pa.Table:
    """Reads an IPC file or stream, told apart by the magic."""
    with open(path, "rb") as f:
        magic = f.read(6)
    reader = ipc.open_file(path) if magic == b"ARROW1" else ipc.open_stream(path)
    with reader:
        return reader.read_all()


def sample_table(rows: int = 1000, offset: int = 0) -> pa.Table:
    ids = pa.array(range(offset, offset + rows), pa.int64())
    names = pa.array([None if i % 7 == 0 else f"name-{i}" for i in range(offset, offset + rows)], pa.string())
    scores = pa.array([i * 0.5 for i in range(offset, offset + rows)], pa.float64())
    schema = pa.schema([("id", pa.int64(), False), ("name", pa.string()), ("score", pa.float64())], metadata={"source": "interop"})
    return pa.Table.from_arrays([ids, names, scores], schema=schema)


def upload(client: flight.FlightClient, name: str, batches: list[pa.RecordBatch], schema: pa.Schema,
           options: flight.FlightCallOptions = CALL) -> list[bytes]:
    """DoPut of `batches` under the path [name]; returns the PutResults' metadata, one read per batch."""
    writer, results = client.do_put(flight.FlightDescriptor.for_path(name), schema, options=options)
    metadata = []
    for batch in batches:
        writer.write_batch(batch)
        buf = results.read()
        metadata.append(None if buf is None else buf.to_pybytes())
    writer.close()
    return metadata


def download(client: flight.FlightClient, name: str, options: flight.FlightCallOptions = CALL) -> pa.Table:
    return client.do_get(flight.Ticket(name.encode()), options=options).read_all()


@pytest.fixture(scope="module")
def client(file_server):
    with flight.connect(file_server.location) as c:
        yield c


# --- pyarrow client, our flight-file-server: the RPCs ----------------------------------------------


def test_list_flights_lists_every_served_file_with_schema_and_records(start_file_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    tables = {
        "a.arrow": (sample_table(100), "file"),
        "b.arrows": (sample_table(250, 7), "stream"),
        # An .arrow name holding the stream layout: the content, not the name, decides how it is read.
        "d.arrow": (sample_table(3), "stream"),
    }
    for name, (table, layout) in tables.items():
        write_ipc(root / name, table, layout, max_chunksize=64)
    feather.write_feather(sample_table(40), root / "c.feather")  # Feather V2 = IPC file, LZ4 by default
    tables["c.feather"] = (sample_table(40), "file")
    (root / "notes.txt").write_text("not a flight")
    write_ipc(root / ".hidden.arrow", sample_table(1), "file")

    server = start_file_server(root)
    with flight.connect(server.location) as c:
        infos = list(c.list_flights(options=CALL))
        assert [info.descriptor.path for info in infos] == [[n.encode()] for n in sorted(tables)]
        for info in infos:
            name = info.descriptor.path[0].decode()
            table = tables[name][0]
            assert info.descriptor.descriptor_type == flight.DescriptorType.PATH
            assert info.schema.equals(table.schema, check_metadata=True), name
            assert info.total_records == table.num_rows
            assert info.total_bytes == (root / name).stat().st_size
            assert len(info.endpoints) == 1
            assert info.endpoints[0].ticket.ticket == name.encode()
            assert info.endpoints[0].locations == []
        # Criteria are a name prefix.
        assert [i.descriptor.path for i in c.list_flights(b"b", options=CALL)] == [[b"b.arrows"]]


@pytest.mark.parametrize("layout", ["file", "stream", "feather"])
def test_get_flight_info_get_schema_and_do_get_serve_a_file(client, file_server_root, layout):
    name = {"file": "info.arrow", "stream": "info.arrows", "feather": "info.feather"}[layout]
    table = sample_table(5000)
    if layout == "feather":
        feather.write_feather(table, file_server_root / name, chunksize=700)
    else:
        write_ipc(file_server_root / name, table, layout, max_chunksize=700)
    descriptor = flight.FlightDescriptor.for_path(name)
    info = client.get_flight_info(descriptor, options=CALL)
    assert info.descriptor == descriptor
    assert info.total_records == 5000
    assert info.schema.equals(table.schema, check_metadata=True)
    assert client.get_schema(descriptor, options=CALL).schema.equals(table.schema, check_metadata=True)
    reader = client.do_get(info.endpoints[0].ticket, options=CALL)
    assert_tables_equal(reader.read_all(), table, name)


def test_do_put_stores_the_upload_and_do_get_returns_it(client, file_server_root):
    table = sample_table(3000)
    batches = table.to_batches(max_chunksize=1000) + [pa.RecordBatch.from_pylist([], schema=table.schema)]  # and an empty one
    for name, read in [("put.arrows", ipc.open_stream), ("put.arrow", ipc.open_file)]:
        results = upload(client, name, batches, table.schema)
        # One PutResult per batch, carrying the rows received so far.
        assert results == [b"1000", b"2000", b"3000", b"3000"], name
        assert_tables_equal(download(client, name), table, f"{name} DoGet")
        with read(file_server_root / name) as reader:  # stored in the layout its name says
            assert_tables_equal(reader.read_all(), table, f"{name} on disk")
        # A second upload replaces the file.
        upload(client, name, sample_table(10, 99).to_batches(), table.schema)
        assert_tables_equal(download(client, name), sample_table(10, 99), f"{name} replaced")
    assert not [p.name for p in file_server_root.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_do_put_of_a_batch_over_16_mib_and_do_get_of_it(client, file_server_root):
    rows = 2_500_000  # 20 MB of int64 plus 20 MB of float64 in one batch
    table = pa.table({"i": pa.array(range(rows), pa.int64()), "f": pa.array(range(rows), pa.float64())})
    assert table.to_batches()[0].nbytes > 16 << 20
    upload(client, "big-upload.arrows", table.to_batches(), table.schema)
    assert_tables_equal(download(client, "big-upload.arrows"), table, "big upload")


def test_do_get_splits_a_batch_over_16_mib_for_the_default_pyarrow_client(client, file_server_root):
    rows = 3_000_000
    table = pa.table({"i": pa.array(range(rows), pa.int64()), "s": pa.array([f"{i % 1000:04d}" for i in range(rows)], pa.string())})
    write_ipc(file_server_root / "big.arrow", table, "file")  # one batch of about 48 MB
    with ipc.open_file(file_server_root / "big.arrow") as reader:
        assert reader.num_record_batches == 1 and reader.get_batch(0).nbytes > 16 << 20
    reader = client.do_get(flight.Ticket(b"big.arrow"), options=CALL)
    chunks = [chunk.data for chunk in reader]
    assert len(chunks) > 1, "the server sent the large batch as one message"
    assert_tables_equal(pa.Table.from_batches(chunks, schema=table.schema), table, "big DoGet")


def table_with_changing_dictionaries() -> pa.Table:
    """Three batches whose dictionaries differ: a replacement, then an extension (a delta)."""
    first = pa.array(["a", "b", "a"]).dictionary_encode()
    second = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0, 2], pa.int32()), pa.array(["x", "y", "z"]))
    third = pa.DictionaryArray.from_arrays(pa.array([3, 2, None], pa.int32()), pa.array(["x", "y", "z", "w"]))
    return pa.Table.from_batches([pa.record_batch([a], ["d"]) for a in [first, second, third]])


def test_dictionaries_that_change_between_batches(client, file_server_root):
    table = table_with_changing_dictionaries()
    upload(client, "dicts.arrows", table.to_batches(), table.schema)
    back = download(client, "dicts.arrows")
    assert_tables_equal(back, table, "changing dictionaries")
    assert [c.dictionary.to_pylist() for c in back.column("d").chunks] == [["a", "b"], ["x", "y", "z"], ["x", "y", "z", "w"]]
    # The IPC file format cannot replace a dictionary: such an upload is refused, and not stored.
    with pytest.raises(pa.ArrowInvalid, match="cannot replace dictionary"):
        upload(client, "dicts.arrow", table.to_batches(), table.schema)
    assert not (file_server_root / "dicts.arrow").exists()


@pytest.mark.parametrize("name", ["../escape.arrows", "a/b.arrows", "..", ".hidden.arrows", "", "/etc/passwd"])
def test_names_that_could_leave_the_root_are_invalid_arguments(client, file_server_root, name):
    before = sorted(p.name for p in file_server_root.iterdir())
    with pytest.raises(pa.ArrowInvalid):
        client.get_flight_info(flight.FlightDescriptor.for_path(name), options=CALL)
    with pytest.raises(pa.ArrowInvalid):
        download(client, name)
    with pytest.raises(pa.ArrowInvalid):
        upload(client, name, sample_table(10).to_batches(), sample_table(10).schema)
    assert sorted(p.name for p in file_server_root.iterdir()) == before
    assert not (file_server_root.parent / "escape.arrows").exists()


def test_descriptors_other_than_one_name_are_invalid_arguments(client):
    for descriptor in [flight.FlightDescriptor.for_path("a", "b.arrow"), flight.FlightDescriptor.for_command(b"b.arrow")]:
        with pytest.raises(pa.ArrowInvalid):
            client.get_flight_info(descriptor, options=CALL)
        with pytest.raises(pa.ArrowInvalid):
            client.get_schema(descriptor, options=CALL)
    with pytest.raises(pa.ArrowInvalid, match="upload's name ends in"):
        upload(client, "table.csv", sample_table(3).to_batches(), sample_table(3).schema)


def test_unknown_flights_are_not_found(client):
    descriptor = flight.FlightDescriptor.for_path("missing.arrow")
    with pytest.raises(pa.ArrowKeyError, match="no such flight: missing.arrow"):  # gRPC NOT_FOUND
        client.get_flight_info(descriptor, options=CALL)
    with pytest.raises(pa.ArrowKeyError):
        client.get_schema(descriptor, options=CALL)
    with pytest.raises(pa.ArrowKeyError):
        download(client, "missing.arrow")
    with pytest.raises(pa.ArrowKeyError):
        download(client, "missing.txt")


def test_do_action_delete_and_its_errors(client, file_server_root):
    assert [(a.type, a.description) for a in client.list_actions(options=CALL)] == [("delete", "Removes the file named by the body (UTF-8).")]
    upload(client, "doomed.arrows", sample_table(5).to_batches(), sample_table(5).schema)
    results = list(client.do_action(flight.Action("delete", b"doomed.arrows"), options=CALL))
    assert [r.body.to_pybytes() for r in results] == [b"doomed.arrows"]
    assert not (file_server_root / "doomed.arrows").exists()
    with pytest.raises(pa.ArrowKeyError):
        list(client.do_action(flight.Action("delete", b"doomed.arrows"), options=CALL))
    with pytest.raises(pa.ArrowInvalid):
        list(client.do_action(flight.Action("delete", b"../x.arrows"), options=CALL))
    with pytest.raises(pa.ArrowInvalid, match="unknown action"):
        list(client.do_action(flight.Action("drop-everything", b""), options=CALL))


def test_unimplemented_rpcs_are_unimplemented(client):
    # pyarrow maps gRPC UNIMPLEMENTED to ArrowNotImplementedError. (pyarrow 26 has no Python
    # PollFlightInfo, so that RPC is covered by the Swift tests only.)
    with pytest.raises(pa.ArrowNotImplementedError, match="DoExchange"):
        # The status may arrive before the call is fully open, so any step may raise it.
        writer, reader = client.do_exchange(flight.FlightDescriptor.for_path("x.arrows"), options=CALL)
        writer.begin(pa.schema([("a", pa.int64())]))
        writer.done_writing()
        reader.read_all()
        writer.close()
    with pytest.raises(pa.ArrowNotImplementedError, match="Handshake"):
        client.authenticate_basic_token(b"user", b"password", options=CALL)


# --- every gold integration case: pyarrow DoPut, then DoGet ------------------------------------


@pytest.mark.parametrize("extension", ["arrows", "arrow"])
@pytest.mark.parametrize("name", GOLD_CASES)
def test_gold_case_uploaded_by_pyarrow_comes_back_equal(client, file_server_root, name, extension):
    schema, batches = gold_batches(name)
    flight_name = f"gold-{name}.{extension}"
    results = upload(client, flight_name, batches, schema)
    assert len(results) == len(batches)
    want = pa.Table.from_batches(batches, schema=schema)
    assert_tables_equal(download(client, flight_name), want, f"{name} via DoGet")
    assert_tables_equal(read_ipc(file_server_root / flight_name), want, f"{name} as stored")


@pytest.mark.parametrize("name", GOLD_CASES)
def test_gold_files_placed_in_the_root_are_served_as_they_are(client, file_server_root, name):
    # The C++-written files themselves, in both layouts, read by the server from disk.
    for source, target in [(f"{name}.arrow_file", f"placed-{name}.arrow"), (f"{name}.stream", f"placed-{name}.arrows")]:
        (file_server_root / target).write_bytes((GOLD / source).read_bytes())
        assert_tables_equal(download(client, target), gold_table(name), f"{source} via DoGet")
        info = client.get_flight_info(flight.FlightDescriptor.for_path(target), options=CALL)
        assert info.total_records == gold_table(name).num_rows


# --- authentication, TLS --------------------------------------------------------------------------


def test_basic_auth_issues_a_bearer_token_checked_on_every_call(start_file_server, tmp_path):
    write_ipc(tmp_path / "secret.arrow", sample_table(20), "file")
    server = start_file_server(tmp_path, "--user", "alice", "--password", "s3cret")
    with flight.connect(server.location) as c:
        with pytest.raises(flight.FlightUnauthenticatedError):
            list(c.list_flights(options=CALL))
        with pytest.raises(flight.FlightUnauthenticatedError):
            c.authenticate_basic_token(b"alice", b"wrong", options=CALL)
        with pytest.raises(flight.FlightUnauthenticatedError):
            c.authenticate_basic_token(b"mallory", b"s3cret", options=CALL)
        name, value = c.authenticate_basic_token(b"alice", b"s3cret", options=CALL)
        assert name == b"authorization" and value.startswith(b"Bearer ")
        options = flight.FlightCallOptions(headers=[(name, value)], timeout=30)
        assert [i.descriptor.path for i in c.list_flights(options=options)] == [[b"secret.arrow"]]
        assert_tables_equal(download(c, "secret.arrow", options), sample_table(20), "authenticated DoGet")
        upload(c, "mine.arrows", sample_table(4).to_batches(), sample_table(4).schema, options)
        assert_tables_equal(download(c, "mine.arrows", options), sample_table(4), "authenticated DoPut")
        forged = flight.FlightCallOptions(headers=[(name, value[:-2] + (b"AA" if value[-2:] != b"AA" else b"BB"))], timeout=30)
        with pytest.raises(flight.FlightUnauthenticatedError):
            download(c, "secret.arrow", forged)


def test_tls_with_the_test_certificates(start_file_server, tmp_path):
    write_ipc(tmp_path / "tls.arrows", sample_table(300), "stream")
    server = start_file_server(tmp_path, "--tls-cert", FLIGHT_CERTS / "cert0.pem", "--tls-key", FLIGHT_CERTS / "cert0.key")
    assert server.location.startswith("grpc+tls://")
    root_ca = (FLIGHT_CERTS / "root-ca.pem").read_bytes()
    with flight.connect(f"grpc+tls://localhost:{server.port}", tls_root_certs=root_ca) as c:
        assert_tables_equal(download(c, "tls.arrows"), sample_table(300), "DoGet over TLS")
        upload(c, "tls-up.arrow", sample_table(50).to_batches(max_chunksize=10), sample_table(50).schema)
        assert_tables_equal(download(c, "tls-up.arrow"), sample_table(50), "DoPut over TLS")
    # A client that trusts another CA refuses the server.
    with flight.connect(f"grpc+tls://localhost:{server.port}", tls_root_certs=(FLIGHT_CERTS / "cert1.pem").read_bytes()) as c:
        with pytest.raises(flight.FlightUnavailableError):
            list(c.list_flights(options=flight.FlightCallOptions(timeout=10)))
    # And a plaintext client gets nowhere, without harming the server.
    with flight.connect(f"grpc://127.0.0.1:{server.port}") as c:
        with pytest.raises(flight.FlightUnavailableError):
            list(c.list_flights(options=flight.FlightCallOptions(timeout=10)))
    with flight.connect(f"grpc+tls://localhost:{server.port}", tls_root_certs=root_ca) as c:
        assert len(list(c.list_flights(options=CALL))) == 2


# --- cancellation, deadlines, shutdown --------------------------------------------------------


def test_a_do_get_cancelled_mid_stream_leaves_the_server_serving(client, file_server_root):
    table = sample_table(200_000)
    write_ipc(file_server_root / "many.arrows", table, "stream", max_chunksize=1000)  # 200 batches
    for _ in range(5):
        reader = client.do_get(flight.Ticket(b"many.arrows"), options=CALL)
        first = reader.read_chunk()
        assert first.data.num_rows == 1000
        reader.cancel()
        # Whatever was already buffered may still come out; then the stream ends cancelled,
        # well before its 200 batches.
        after = 0
        with pytest.raises(flight.FlightCancelledError):
            for after in range(1, 200):
                reader.read_chunk()
        assert after < 199
    assert_tables_equal(download(client, "many.arrows"), table, "DoGet after cancellations")
    assert client.get_flight_info(flight.FlightDescriptor.for_path("many.arrows"), options=CALL).total_records == 200_000


UPLOAD_THEN_DIE = """
import os, sys
import pyarrow as pa, pyarrow.flight as flight
client = flight.connect(sys.argv[1])
table = pa.table({"x": pa.array(range(100_000), pa.int64())})
writer, results = client.do_put(flight.FlightDescriptor.for_path(sys.argv[2]), table.schema)
for batch in table.to_batches(max_chunksize=1000)[:20]:
    writer.write_batch(batch)
    results.read()
print("uploading", flush=True)
os._exit(3)  # the connection drops mid-upload: no end of stream, no clean close
"""


def test_an_upload_cut_off_mid_stream_leaves_nothing_behind(client, file_server, file_server_root):
    original = sample_table(10)
    upload(client, "cut.arrows", original.to_batches(), original.schema)
    for name in ["cut.arrows", "cut-new.arrows"]:
        proc = subprocess.run([sys.executable, "-c", UPLOAD_THEN_DIE, file_server.location, name], capture_output=True, timeout=60)
        assert proc.returncode == 3 and proc.stdout == b"uploading\n", proc.stderr.decode(errors="replace")
    deadline = time.monotonic() + 10
    while any(p.name.startswith(".upload-") for p in file_server_root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p.name for p in file_server_root.iterdir() if p.name.startswith(".")], "temporary upload files left behind"
    assert not (file_server_root / "cut-new.arrows").exists()
    assert_tables_equal(download(client, "cut.arrows"), original, "the old file survives a failed replacement")
    assert file_server.alive()


def test_a_do_put_past_its_deadline_is_timed_out_and_leaves_nothing_behind(client, file_server_root):
    table = sample_table(100)
    writer, results = client.do_put(flight.FlightDescriptor.for_path("late.arrows"), table.schema,
                                     options=flight.FlightCallOptions(timeout=0.5))
    with pytest.raises(flight.FlightTimedOutError):
        writer.write_batch(table.to_batches()[0])
        results.read()
        time.sleep(1.0)
        writer.write_batch(table.to_batches()[0])
        writer.close()
    deadline = time.monotonic() + 10
    while any(p.name.startswith(".upload-") for p in file_server_root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (file_server_root / "late.arrows").exists()
    assert not [p.name for p in file_server_root.iterdir() if p.name.startswith(".")]


UPLOAD_THEN_STALL = """
import sys, time
import pyarrow as pa, pyarrow.flight as flight
client = flight.connect(sys.argv[1])
table = pa.table({"x": pa.array(range(10_000), pa.int64())})
writer, results = client.do_put(flight.FlightDescriptor.for_path(sys.argv[2]), table.schema)
for batch in table.to_batches(max_chunksize=1000)[:3]:
    writer.write_batch(batch)
    results.read()
print("uploading", flush=True)
time.sleep(30)  # killed by the test long before
"""


def test_shutdown_during_an_upload_exits_cleanly_and_leaves_nothing_behind(start_file_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_ipc(root / "stall.arrows", sample_table(6), "stream")
    server = start_file_server(root, "--grace", "0.5")
    uploader = subprocess.Popen([sys.executable, "-c", UPLOAD_THEN_STALL, server.location, "stall.arrows"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ready, _, _ = select.select([uploader.stdout], [], [], 30)
        assert ready and uploader.stdout.readline() == b"uploading\n", "the uploader did not start its upload"
        assert any(p.name.startswith(".upload-") for p in root.iterdir())
        start = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - start < 10
    finally:
        uploader.kill()
        uploader.wait(timeout=10)
        uploader.stdout.close()
        uploader.stderr.close()
    assert sorted(p.name for p in root.iterdir()) == ["stall.arrows"]
    assert_tables_equal(read_ipc(root / "stall.arrows"), sample_table(6), "the old file survives")


READ_OVER_TLS_THEN_DIE = """
import os, sys
import pyarrow.flight as flight
readers = []
for _ in range(10):
    client = flight.connect(sys.argv[1], tls_root_certs=open(sys.argv[2], "rb").read())
    reader = client.do_get(flight.Ticket(b"vanish.arrows"))
    reader.read_chunk()
    readers.append((client, reader))
print("reading", flush=True)
os._exit(3)  # unread data in the socket buffers: the kernel answers with RST, not FIN
"""


def test_tls_clients_that_vanish_mid_stream_do_not_kill_the_server(start_file_server, tmp_path):
    # The server reads ECONNRESET, then closes the TLS session, which writes close_notify to
    # the reset socket: without SIGPIPE blocked, that write ended the server process.
    write_ipc(tmp_path / "vanish.arrows", sample_table(400_000), "stream", max_chunksize=10_000)
    server = start_file_server(tmp_path, "--tls-cert", FLIGHT_CERTS / "cert0.pem", "--tls-key", FLIGHT_CERTS / "cert0.key")
    location = f"grpc+tls://localhost:{server.port}"
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", READ_OVER_TLS_THEN_DIE, location, FLIGHT_CERTS / "root-ca.pem"],
                              capture_output=True, timeout=60)
        assert proc.returncode == 3 and proc.stdout == b"reading\n", proc.stderr.decode(errors="replace")
    time.sleep(0.3)
    assert server.alive(), f"the server died (status {server.proc.returncode}); log:\n{server.log()}"
    with flight.connect(location, tls_root_certs=(FLIGHT_CERTS / "root-ca.pem").read_bytes()) as c:
        assert_tables_equal(download(c, "vanish.arrows"), sample_table(400_000), "after the vanished clients")


def test_deadlines_end_slow_calls_with_timed_out(start_flight_bench):
    # 200 million rows (6.4 GB) cannot be streamed in 0.3 s: the deadline must end the call.
    server = start_flight_bench("--rows", "200000000")
    with flight.connect(server.location) as c:
        start = time.monotonic()
        with pytest.raises(flight.FlightTimedOutError):
            c.do_get(flight.Ticket(b"synthetic"), options=flight.FlightCallOptions(timeout=0.3)).read_all()
        assert time.monotonic() - start < 10
        # The server is still there and answers the next call.
        info = c.get_flight_info(flight.FlightDescriptor.for_path("any"), options=CALL)
        assert info.total_records == 200_000_000
        reader = c.do_get(flight.Ticket(b"synthetic"), options=CALL)
        assert reader.read_chunk().data.num_rows == 65536
        reader.cancel()


def test_sigint_shuts_the_server_down_cleanly(start_file_server, tmp_path):
    server = start_file_server(tmp_path)
    with flight.connect(server.location) as c:
        assert list(c.list_flights(options=CALL)) == []
    assert server.stop(signal.SIGINT) == 0
    assert "shutting down" in server.log()


# --- bad input on the socket ----------------------------------------------------------------------


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


@pytest.mark.parametrize("payload", [
    pytest.param(bytes(range(256)) * 8, id="garbage"),
    pytest.param(PREFACE[:10], id="truncated-preface"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="http1"),
    pytest.param(PREFACE + b"\x00\x00\x04\x09\xff\xff\xff\xff\x01\x02\x03\x04", id="preface-then-bad-frame"),
    pytest.param(PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + b"\x00\x40\x00\x01\x05\x00\x00\x00\x01" + b"\xff" * 64, id="bad-headers-block"),
])
def test_garbage_on_the_socket_does_not_stop_the_server(client, file_server, payload):
    with socket.create_connection(("127.0.0.1", file_server.port), timeout=5) as s:
        s.sendall(payload)
        s.settimeout(2)
        try:
            while s.recv(4096):  # until the server closes, or the read times out
                pass
        except (socket.timeout, ConnectionResetError):
            pass
    assert file_server.alive()
    assert client.list_actions(options=CALL)


def h2_frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def h2_request_headers(path: bytes) -> bytes:
    """An HPACK header block of literals without indexing (no Huffman)."""
    fields = [(b":method", b"POST"), (b":scheme", b"http"), (b":path", path), (b":authority", b"x"),
              (b"content-type", b"application/grpc"), (b"te", b"trailers")]
    return b"".join(b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v for n, v in fields)


def test_starts_of_large_messages_on_many_streams_are_bounded_per_connection(client, file_server):
    """Six DoPut streams on one raw HTTP/2 connection each send only the 5-byte prefix of a
    60 MiB message (a receiver reserves what the prefix declares). The connection's budget for
    messages in progress (256 MiB with the default 64 MiB message limit) takes four; the fifth
    and sixth are refused at once with a trailers-only response, and the server goes on."""
    with socket.create_connection(("127.0.0.1", file_server.port), timeout=5) as s:
        s.sendall(PREFACE + h2_frame(4, 0, 0, b""))
        for i in range(6):
            stream = 1 + 2 * i
            s.sendall(h2_frame(1, 0x4, stream, h2_request_headers(b"/arrow.flight.protocol.FlightService/DoPut")))
            s.sendall(h2_frame(0, 0, stream, b"\x00" + struct.pack(">I", 60 << 20) + b"\x0a" * 16))
        data = b""
        s.settimeout(1)
        deadline = time.monotonic() + 3
        try:
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
    ended, position = set(), 0
    while position + 9 <= len(data):
        length, kind, flags = int.from_bytes(data[position:position + 3], "big"), data[position + 3], data[position + 4]
        stream = int.from_bytes(data[position + 5:position + 9], "big") & 0x7FFFFFFF
        if kind in (1, 3) and (kind == 3 or flags & 0x1):
            ended.add(stream)
        position += 9 + length
    assert ended == {9, 11}
    assert file_server.alive()
    assert client.list_actions(options=CALL)


def test_a_silent_half_open_connection_does_not_block_other_clients(client, file_server):
    with socket.create_connection(("127.0.0.1", file_server.port), timeout=5) as idle:
        idle.sendall(PREFACE[:5])
        with flight.connect(file_server.location) as other:
            assert other.list_actions(options=flight.FlightCallOptions(timeout=10))


# --- our flight CLI against pyarrow's Flight server -------------------------------------------------


class HeaderRecorder(flight.ServerMiddlewareFactory):
    """Keeps each call's request headers where the handler can see them."""

    def start_call(self, info, headers):
        return RecordedHeaders(headers)


class RecordedHeaders(flight.ServerMiddleware):
    def __init__(self, headers):
        self.headers = headers


class PeerServer(flight.FlightServerBase):
    """pyarrow's Flight server: stores uploads by path, serves them by ticket, and records the
    peer of every DoGet (to see which connection an endpoint was fetched on)."""

    def __init__(self, location: str = "grpc://127.0.0.1:0", **options):
        middleware = {"headers": HeaderRecorder(), **options.pop("middleware", {})}
        super().__init__(location, middleware=middleware, **options)
        self.tables: dict[str, pa.Table] = {}
        self.get_peers: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def table(self, name: str) -> pa.Table:
        with self.lock:
            if name not in self.tables:
                raise KeyError(f"no table {name}")
            return self.tables[name]

    def info(self, name: str) -> flight.FlightInfo:
        table = self.table(name)
        return flight.FlightInfo(table.schema, flight.FlightDescriptor.for_path(name), [flight.FlightEndpoint(name, [])],
                                 table.num_rows, -1)

    def list_flights(self, context, criteria):
        with self.lock:
            names = sorted(self.tables)
        for name in names:
            yield self.info(name)

    def get_flight_info(self, context, descriptor):
        parts = [p.decode() for p in descriptor.path]
        if parts[0] == "three-endpoints":
            # The same table in three parts: one endpoint without a location, one at
            # "the same connection", one at this server's own address (a new connection).
            table = self.table(parts[1])
            third = table.num_rows // 3
            here = f"grpc://127.0.0.1:{self.port}"
            endpoints = [
                flight.FlightEndpoint(f"slice:{parts[1]}:0:{third}", []),
                flight.FlightEndpoint(f"slice:{parts[1]}:{third}:{third}", ["arrow-flight-reuse-connection://?"]),
                flight.FlightEndpoint(f"slice:{parts[1]}:{2 * third}:{table.num_rows - 2 * third}", [here]),
            ]
            return flight.FlightInfo(table.schema, descriptor, endpoints, table.num_rows, -1)
        if parts[0] == "dead-then-live":
            # The first location refuses connections; the second is this server.
            table = self.table(parts[2])
            locations = [f"grpc://127.0.0.1:{parts[1]}", f"grpc://127.0.0.1:{self.port}"]
            return flight.FlightInfo(table.schema, descriptor, [flight.FlightEndpoint(parts[2], locations)], table.num_rows, -1)
        return self.info(parts[0])

    def get_schema(self, context, descriptor):
        return flight.SchemaResult(self.table(descriptor.path[0].decode()).schema)

    def do_get(self, context, ticket):
        text = ticket.ticket.decode()
        with self.lock:
            self.get_peers.append((text, context.peer()))
        if text == "broken":
            schema = pa.schema([("x", pa.int64())])

            def two_batches_then_fail():
                yield pa.record_batch([pa.array([1, 2, 3], pa.int64())], schema=schema)
                yield pa.record_batch([pa.array([4, 5], pa.int64())], schema=schema)
                raise ValueError("the disk caught fire")
            return flight.GeneratorStream(schema, two_batches_then_fail())
        if text.startswith("slice:"):
            _, name, start, length = text.split(":")
            return flight.RecordBatchStream(self.table(name).slice(int(start), int(length)))
        return flight.RecordBatchStream(self.table(text))

    def do_put(self, context, descriptor, reader, writer):
        table = reader.read_all()
        if descriptor.path[0] == b"reject":
            raise flight.FlightServerError("uploads named reject are rejected")
        with self.lock:
            self.tables[descriptor.path[0].decode()] = table

    def list_actions(self, context):
        return [("echo", "Returns the body."), ("bytes", "Returns bytes that are not UTF-8."),
                ("header", "Returns the x-test request header."), ("sleep", "Sleeps for 3 s.")]

    def do_action(self, context, action):
        if action.type == "echo":
            return [action.body.to_pybytes()]
        if action.type == "bytes":
            return [b"\xff\x00\x10", b"text too"]
        if action.type == "header":
            headers = context.get_middleware("headers").headers
            return [v.encode() for v in headers.get("x-test", [])]
        if action.type == "sleep":
            time.sleep(3)
            return [b"awake"]
        raise KeyError(f"unknown action {action.type}")


class BasicThenBearer(flight.ServerMiddlewareFactory):
    """Basic credentials (Handshake) buy a Bearer token, which every other call must carry: the
    header scheme that pyarrow's `authenticate_basic_token` speaks, implemented on pyarrow's side."""

    TOKEN = "peer-token-7"

    def start_call(self, info, headers):
        values = headers.get("authorization", [])
        scheme, _, credentials = (values[0] if values else "").partition(" ")
        if info.method == flight.FlightMethod.HANDSHAKE and scheme == "Basic":
            user, _, password = base64.b64decode(credentials).decode().partition(":")
            if (user, password) == ("carol", "pa55"):
                return IssueToken()
        elif scheme == "Bearer" and credentials == self.TOKEN:
            return None
        raise flight.FlightUnauthenticatedError("bad credentials")


class IssueToken(flight.ServerMiddleware):
    def sending_headers(self):
        return {"authorization": f"Bearer {BasicThenBearer.TOKEN}"}


class AcceptHandshake(flight.ServerAuthHandler):
    """The Handshake itself does nothing: the middleware above has checked the credentials."""

    def authenticate(self, outgoing, incoming):
        pass

    def is_valid(self, token):
        return ""


@pytest.fixture(scope="module")
def peer():
    server = PeerServer()
    yield server
    server.shutdown()


@pytest.fixture
def peer_uri(peer) -> str:
    return f"grpc://127.0.0.1:{peer.port}"


def cli_ok(args) -> str:
    proc = run_cli(args)
    assert proc.returncode == 0, f"{[str(a) for a in args[1:]]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}"
    return proc.stdout.decode()


def cli_fails(args) -> str:
    proc = run_cli(args)
    assert proc.returncode == 1, f"{[str(a) for a in args[1:]]} exited {proc.returncode}, not 1: {proc.stdout!r} {proc.stderr!r}"
    return proc.stderr.decode()


@pytest.mark.parametrize("name", GOLD_CASES)
def test_cli_put_and_get_every_gold_case_against_pyarrow(flight_cli, peer, peer_uri, tmp_path, name):
    want = gold_table(name)
    out = cli_ok([flight_cli, "put", peer_uri, "--path", name, GOLD / f"{name}.arrow_file"])
    assert out.startswith(f"uploaded {want.num_rows} row")
    assert_tables_equal(peer.table(name), want, f"{name} put from the IPC file")
    cli_ok([flight_cli, "put", peer_uri, "--path", f"{name}.stream", GOLD / f"{name}.stream"])
    assert_tables_equal(peer.table(f"{name}.stream"), want, f"{name} put from the IPC stream")
    out = cli_ok([flight_cli, "get", peer_uri, "--path", name, "--out", tmp_path / "got.arrows"])
    assert out == f"wrote {want.num_rows} row{'' if want.num_rows == 1 else 's'} in " + out.split(" in ", 1)[1]
    with ipc.open_stream(tmp_path / "got.arrows") as reader:
        assert_tables_equal(reader.read_all(), want, f"{name} got")


def test_cli_get_of_dictionaries_that_change_between_batches(flight_cli, peer, peer_uri, tmp_path):
    peer.tables["dicts"] = table_with_changing_dictionaries()
    cli_ok([flight_cli, "get", peer_uri, "--path", "dicts", "--out", tmp_path / "dicts.arrows"])
    assert_tables_equal(read_ipc(tmp_path / "dicts.arrows"), peer.tables["dicts"], "dictionaries from pyarrow")


def test_cli_list_info_and_schema_against_pyarrow(flight_cli, peer, peer_uri):
    peer.tables["list-a"] = sample_table(12)
    peer.tables["list-b"] = sample_table(3)
    out = cli_ok([flight_cli, "list", peer_uri])
    blocks = {b.split("\n", 1)[0]: b for b in out.strip().split("\n\n")}
    for name in ["list-a", "list-b"]:
        block = blocks[f'descriptor: path ["{name}"]']
        assert f"records: {peer.tables[name].num_rows}" in block
        assert f'ticket "{name}" at this service' in block
        assert "  id: int64 not null\n  name: utf8\n  score: double" in block or "  id: int64 not null\n  name: utf8\n  score: float64" in block
    out = cli_ok([flight_cli, "info", peer_uri, "--path", "three-endpoints", "--path", "list-a"])
    assert "endpoints: 3" in out
    assert "arrow-flight-reuse-connection://?" in out and f"grpc://127.0.0.1:{peer.port}" in out
    out = cli_ok([flight_cli, "schema", peer_uri, "--path", "list-a"])
    assert out.splitlines()[0] == "id: int64 not null"
    assert "-- schema metadata --" in out and "source: 'interop'" in out


def test_cli_get_reads_every_endpoint_on_the_right_connection(flight_cli, peer, peer_uri, tmp_path):
    table = sample_table(999)
    peer.tables["parts"] = table
    with peer.lock:
        peer.get_peers.clear()
    out = cli_ok([flight_cli, "get", peer_uri, "--path", "three-endpoints", "--path", "parts", "--out", tmp_path / "parts.arrows"])
    assert out.startswith("wrote 999 rows in 3 batches")
    with ipc.open_stream(tmp_path / "parts.arrows") as reader:
        assert_tables_equal(reader.read_all(), table, "three endpoints")
    with peer.lock:
        # The endpoints are read in parallel: in the order of their tickets' slice starts.
        peers = [p for _, p in sorted(peer.get_peers, key=lambda entry: int(entry[0].split(":")[2]))]
    assert len(peers) == 3
    assert peers[0] == peers[1], "endpoints without a location, or with reuse-connection, use the first connection"
    assert peers[2] != peers[0], "an endpoint with its own location gets its own connection"


def test_cli_get_prints_tables_and_a_row_count(flight_cli, peer, peer_uri):
    peer.tables["small"] = sample_table(3)
    out = cli_ok([flight_cli, "get", peer_uri, "--ticket", "small"])
    lines = out.splitlines()
    assert [c.strip() for c in lines[0].split("|")] == ["id", "name", "score"]
    assert [c.strip() for c in lines[2].split("|")] == ["0", "null", "0.0"]
    assert [c.strip() for c in lines[3].split("|")] == ["1", "name-1", "0.5"]
    assert lines[-1] == "3 rows"
    assert cli_ok([flight_cli, "get", peer_uri, "--path", "small"]).splitlines()[-1] == "3 rows"


def test_cli_actions_against_pyarrow(flight_cli, peer_uri):
    assert cli_ok([flight_cli, "actions", peer_uri]).splitlines() == [
        "echo: Returns the body.", "bytes: Returns bytes that are not UTF-8.",
        "header: Returns the x-test request header.", "sleep: Sleeps for 3 s."]
    assert cli_ok([flight_cli, "action", peer_uri, "echo", "--body", "héllo wörld"]) == "héllo wörld\n"
    assert cli_ok([flight_cli, "action", peer_uri, "bytes"]) == "ff0010\ntext too\n"
    assert cli_ok([flight_cli, "action", peer_uri, "header", "--header", "X-Test=a=b", "--header", "other=1"]) == "a=b\n"


def test_cli_errors_print_the_status_and_exit_1(flight_cli, peer_uri):
    # pyarrow's server answers a Python KeyError with NOT_FOUND (its message has the traceback).
    err = cli_fails([flight_cli, "get", peer_uri, "--ticket", "no-such-table"])
    assert err.startswith("flight: NOT_FOUND: ") and "no table no-such-table" in err
    err = cli_fails([flight_cli, "action", peer_uri, "sleep", "--timeout", "0.3"])
    assert err.startswith("flight: DEADLINE_EXCEEDED: ")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    err = cli_fails([flight_cli, "list", f"grpc://127.0.0.1:{free_port}"])
    assert err.startswith("flight: UNAVAILABLE: ")
    err = cli_fails([flight_cli, "put", peer_uri, "--path", "x", ROOT / "Package.swift"])
    assert err.startswith("flight: INVALID_ARGUMENT: ")


def test_cli_against_our_server_with_tls_and_basic_auth(flight_cli, start_file_server, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    server = start_file_server(root, "--tls-cert", FLIGHT_CERTS / "cert0.pem", "--tls-key", FLIGHT_CERTS / "cert0.key",
                               "--user", "bob", "--password", "pw")
    uri = f"grpc+tls://localhost:{server.port}"
    common = ["--tls-ca", FLIGHT_CERTS / "root-ca.pem", "--user", "bob", "--password", "pw", "--timeout", "30"]
    write_ipc(tmp_path / "in.arrow", sample_table(77), "file", max_chunksize=20)
    assert cli_ok([flight_cli, "put", uri, "--path", "up.arrows", tmp_path / "in.arrow", *common]) == \
        "uploaded 77 rows in 4 batches; 4 put results\n"
    assert 'descriptor: path ["up.arrows"]\nrecords: 77\n' in cli_ok([flight_cli, "list", uri, *common])
    cli_ok([flight_cli, "get", uri, "--path", "up.arrows", "--out", tmp_path / "back.arrows", *common])
    assert_tables_equal(read_ipc(tmp_path / "back.arrows"), sample_table(77), "CLI round trip through our server")
    assert cli_ok([flight_cli, "action", uri, "delete", "--body", "up.arrows", *common]) == "up.arrows\n"
    err = cli_fails([flight_cli, "list", uri, "--tls-ca", FLIGHT_CERTS / "root-ca.pem", "--user", "bob", "--password", "nope"])
    assert err.startswith("flight: UNAUTHENTICATED: ")
    err = cli_fails([flight_cli, "list", uri, "--tls-ca", FLIGHT_CERTS / "root-ca.pem"])
    assert err.startswith("flight: UNAUTHENTICATED: ")


def test_cli_gets_a_20_mib_batch_from_pyarrow(flight_cli, peer, peer_uri, tmp_path):
    rows = 2_600_000
    table = pa.table({"x": pa.array(range(rows), pa.int64())})  # pyarrow sends it as one 20.8 MB message
    peer.tables["large"] = table
    assert cli_ok([flight_cli, "get", peer_uri, "--ticket", "large", "--out", tmp_path / "large.arrows"]).startswith(f"wrote {rows} rows")
    assert_tables_equal(read_ipc(tmp_path / "large.arrows"), table, "20 MiB batch from pyarrow")


def test_cli_refuses_a_message_over_its_64_mib_limit_with_resource_exhausted(flight_cli, peer, peer_uri, tmp_path):
    peer.tables["huge"] = pa.table({"x": pa.array(range(9_000_000), pa.int64())})  # one 72 MB message
    try:
        err = cli_fails([flight_cli, "get", peer_uri, "--ticket", "huge", "--out", tmp_path / "huge.arrows"])
    finally:
        del peer.tables["huge"]
    assert err.startswith("flight: RESOURCE_EXHAUSTED: "), err
    assert list(tmp_path.iterdir()) == []


def test_cli_get_reports_an_error_raised_mid_stream(flight_cli, peer_uri, tmp_path):
    # The batches before the error do not make a result: exit 1, and no output file.
    err = cli_fails([flight_cli, "get", peer_uri, "--ticket", "broken", "--out", tmp_path / "broken.arrows"])
    assert err.startswith("flight: INVALID_ARGUMENT: ") and "the disk caught fire" in err
    assert list(tmp_path.iterdir()) == []
    proc = run_cli([flight_cli, "get", peer_uri, "--ticket", "broken"])
    assert proc.returncode == 1 and "the disk caught fire" in proc.stderr.decode()


def test_cli_put_reports_the_servers_rejection(flight_cli, peer_uri):
    err = cli_fails([flight_cli, "put", peer_uri, "--path", "reject", GOLD / "generated_primitive.arrow_file"])
    # pyarrow's server sends FlightServerError as gRPC UNKNOWN.
    assert err.startswith("flight: UNKNOWN: ") and "uploads named reject are rejected" in err


def test_cli_get_falls_back_to_the_next_location_of_an_endpoint(flight_cli, peer, peer_uri, tmp_path):
    peer.tables["fallback"] = sample_table(21)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    cli_ok([flight_cli, "get", peer_uri, "--path", "dead-then-live", "--path", str(dead_port), "--path", "fallback",
            "--out", tmp_path / "fallback.arrows"])
    assert_tables_equal(read_ipc(tmp_path / "fallback.arrows"), sample_table(21), "second location")


def test_cli_with_tls_and_basic_auth_against_pyarrow(flight_cli, tmp_path):
    certificate = flight.CertKeyPair(cert=(FLIGHT_CERTS / "cert0.pem").read_bytes(), key=(FLIGHT_CERTS / "cert0.key").read_bytes())
    server = PeerServer("grpc+tls://127.0.0.1:0", tls_certificates=[certificate], auth_handler=AcceptHandshake(),
                        middleware={"auth": BasicThenBearer()})
    try:
        uri = f"grpc+tls://localhost:{server.port}"
        common = ["--tls-ca", FLIGHT_CERTS / "root-ca.pem", "--user", "carol", "--password", "pa55", "--timeout", "30"]
        cli_ok([flight_cli, "put", uri, "--path", "secure", GOLD / "generated_nested.arrow_file", *common])
        assert_tables_equal(server.table("secure"), gold_table("generated_nested"), "put over TLS with auth")
        cli_ok([flight_cli, "get", uri, "--path", "secure", "--out", tmp_path / "secure.arrows", *common])
        assert_tables_equal(read_ipc(tmp_path / "secure.arrows"), gold_table("generated_nested"), "get over TLS with auth")
        assert cli_ok([flight_cli, "action", uri, "echo", "--body", "over tls", *common]) == "over tls\n"
        err = cli_fails([flight_cli, "actions", uri, "--tls-ca", FLIGHT_CERTS / "root-ca.pem", "--user", "carol", "--password", "nope"])
        assert err.startswith("flight: UNAUTHENTICATED: ")
        err = cli_fails([flight_cli, "actions", uri, "--tls-ca", FLIGHT_CERTS / "root-ca.pem"])
        assert err.startswith("flight: UNAUTHENTICATED: ")
        # A CA that did not sign the server's certificate: the TLS handshake fails.
        err = cli_fails([flight_cli, "actions", uri, "--tls-ca", FLIGHT_CERTS / "cert1.pem", *common[2:]])
        assert err.startswith("flight: UNAVAILABLE: ")
    finally:
        server.shutdown()
