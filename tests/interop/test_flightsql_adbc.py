"""The ADBC Flight SQL driver (Go, through adbc_driver_flightsql.dbapi) against our
flight-sql-server on the embedded SQLite engine. Results are compared value by value with
Python's sqlite3 reading the same database file."""
import math
import sqlite3
import subprocess
import sys
import threading
import time

import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as flightsql
import adbc_driver_manager
import pyarrow as pa
import pytest

from conftest import FLIGHT_CERTS

TYPED_ROWS = [
    (1, 42, 1.5, "alpha", b"\x00\x01", 1, 10, "2024-01-02", "2024-01-02 03:04:05", 7.25),
    (2, None, None, None, None, None, None, None, None, None),
    (3, -9223372036854775808, -0.0, "", b"", 0, 20, "1999-12-31", "1999-12-31 23:59:59", 3),
    (4, 9223372036854775807, 1e300, "ünïcødé ✓", bytes(range(256)), 1, 30, "2000-02-29", "2000-02-29 12:00:00", None),
]


def make_database(path):
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE typed (
            id INTEGER PRIMARY KEY, i BIGINT, r DOUBLE, t VARCHAR(20), b BLOB, flag BOOLEAN,
            small SMALLINT, d DATE, ts TIMESTAMP, n NUMERIC
        );
        CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE child (
            id INTEGER PRIMARY KEY,
            parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE,
            note TEXT
        );
        CREATE VIEW parent_names AS SELECT name FROM parent;
    """)
    db.executemany("INSERT INTO typed VALUES (?,?,?,?,?,?,?,?,?,?)", TYPED_ROWS)
    db.executemany("INSERT INTO parent VALUES (?, ?)", [(i, f"p{i}") for i in range(1, 6)])
    db.executemany("INSERT INTO child VALUES (?, ?, ?)", [(i, 1 + i % 5, f"c{i}") for i in range(1, 21)])
    db.commit()
    db.close()


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "test.sqlite"
    make_database(path)
    return path


@pytest.fixture
def server(start_sql_server, database):
    return start_sql_server("--database", database)


def connect(server, autocommit=True, **db_kwargs):
    return flightsql.connect(server.location, db_kwargs=db_kwargs, autocommit=autocommit)


def sqlite_rows(path, sql, params=()):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    return a == b and type(a) is type(b)


def assert_rows_equal(ours, expected):
    assert len(ours) == len(expected)
    for r, (row, want) in enumerate(zip(ours, expected)):
        assert len(row) == len(want)
        for c, (value, expected_value) in enumerate(zip(row, want)):
            assert same(value, expected_value), f"row {r} column {c}: {value!r} != {expected_value!r}"


def fetch(server, sql, params=None):
    with connect(server) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetch_arrow_table()


# --- queries -------------------------------------------------------------------------------

def test_adbc_query_of_every_mapped_type_matches_sqlite(server, database):
    table = fetch(server, "SELECT * FROM typed ORDER BY id")
    assert table.schema.types == [pa.int64(), pa.int64(), pa.float64(), pa.string(), pa.binary(), pa.bool_(),
                                  pa.int64(), pa.string(), pa.string(), pa.float64()]
    ours = [tuple(row.values()) for row in table.to_pylist()]
    expected = [tuple(bool(v) if i == 5 and v is not None else (float(v) if i == 9 and v is not None else v)
                      for i, v in enumerate(row))
                for row in sqlite_rows(database, "SELECT * FROM typed ORDER BY id")]
    assert_rows_equal(ours, expected)


def test_adbc_expressions_take_their_types_from_values(server):
    table = fetch(server, "SELECT 1 AS i, 1.5 AS r, 'a' AS t, x'00ff' AS b, NULL AS n, 1 + 0.5 AS mixed")
    assert table.schema.types == [pa.int64(), pa.float64(), pa.string(), pa.binary(), pa.null(), pa.float64()]
    assert table.to_pylist() == [{"i": 1, "r": 1.5, "t": "a", "b": b"\x00\xff", "n": None, "mixed": 1.5}]


def test_adbc_large_result_streams_in_several_batches(server):
    table = fetch(server, """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
        SELECT i, i * 0.5 AS half, 'row ' || i AS label FROM n""")
    assert table.num_rows == 200000
    assert table.column("i").to_pylist()[-3:] == [199998, 199999, 200000]
    assert table.column("label")[12345].as_py() == "row 12346"


def test_adbc_parameterised_query(server, database):
    with connect(server) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, t FROM typed WHERE id >= ? AND t IS NOT NULL ORDER BY id", (3,))
        assert cur.fetchall() == sqlite_rows(database, "SELECT id, t FROM typed WHERE id >= 3 AND t IS NOT NULL ORDER BY id")
        cur.execute("SELECT ? AS a, ? AS b, ? AS c", (7, "x", 2.5))
        assert cur.fetchall() == [(7, "x", 2.5)]


def test_adbc_dml_row_counts_and_executemany(server, database):
    with connect(server) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO parent (id, name) VALUES (?, ?)", [(100 + i, f"n{i}") for i in range(50)])
        assert cur.rowcount == 50
        cur.execute("UPDATE parent SET name = name || '!' WHERE id >= 100")
        assert cur.rowcount == 50
        cur.execute("DELETE FROM parent WHERE id >= 140")
        assert cur.rowcount == 10
    assert sqlite_rows(database, "SELECT count(*), min(name) FROM parent WHERE id >= 100") == [(40, "n0!")]


def test_adbc_ddl_then_query(server):
    with connect(server) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE made_here (k INTEGER, v TEXT)")
        cur.execute("INSERT INTO made_here VALUES (1, 'one'), (2, 'two')")
        cur.execute("SELECT * FROM made_here ORDER BY k")
        assert cur.fetchall() == [(1, "one"), (2, "two")]


def test_adbc_transactions_commit_and_rollback(server, database):
    with connect(server, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO parent VALUES (500, 'rolled back')")
        conn.rollback()
        cur.execute("SELECT count(*) FROM parent WHERE id = 500")
        assert cur.fetchone() == (0,)
        cur.execute("INSERT INTO parent VALUES (501, 'kept')")
        # Not visible to others before the commit.
        assert sqlite_rows(database, "SELECT count(*) FROM parent WHERE id = 501") == [(0,)]
        conn.commit()
    assert sqlite_rows(database, "SELECT name FROM parent WHERE id IN (500, 501)") == [("kept",)]


VANISHING_CLIENT = """
import sys, time
import adbc_driver_flightsql.dbapi as flightsql
conn = flightsql.connect(sys.argv[1], autocommit=False)
cur = conn.cursor()
cur.execute("INSERT INTO parent VALUES (700, 'never committed')")
print("inside", flush=True)
time.sleep(600)
"""


def test_a_transaction_of_a_client_killed_with_minus_9_is_rolled_back_at_once(server, database):
    """The client vanishes without closing anything; its connection's close ends its session:
    the transaction is rolled back and the write lock freed at once, not after the idle timeout."""
    client = subprocess.Popen([sys.executable, "-c", VANISHING_CLIENT, server.location], stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout.readline().strip() == "inside"
        client.kill()
        client.wait(timeout=10)
        started = time.monotonic()
        with connect(server) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO parent VALUES (701, 'after')")
        assert time.monotonic() - started < 10
    finally:
        client.kill()
    assert sqlite_rows(database, "SELECT id FROM parent WHERE id IN (700, 701)") == [(701,)]


def test_planned_and_prepared_schemas_equal_what_the_statement_returns(server):
    """Untyped result columns (expressions) take their types from the values, at GetSchema and
    at prepare time as when the statement runs: not utf8 first and int64 later."""
    sql = "SELECT count(*) AS n, max(id) + 1 AS m, 'x' || name AS s, id * 0.5 AS h FROM parent GROUP BY name ORDER BY name"
    with connect(server) as conn, conn.cursor() as cur:
        planned = cur.adbc_execute_schema(sql)
        cur.execute(sql)
        returned = cur.fetch_arrow_table().schema
        assert [f.type for f in planned] == [f.type for f in returned] == [pa.int64(), pa.int64(), pa.string(), pa.float64()]
        cur.adbc_prepare(sql)
        prepared = pa.schema(cur.adbc_statement.execute_schema())
        assert [f.type for f in prepared] == [f.type for f in returned]


def test_adbc_invalid_sql_is_a_clear_error_and_the_server_goes_on(server):
    with connect(server) as conn, conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error, match="syntax error"):
            cur.execute("SELEC nonsense FROM")
        with pytest.raises(adbc_driver_manager.Error, match="no such table"):
            cur.execute("SELECT * FROM missing_table")
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_adbc_cancel_of_a_long_query(server):
    with connect(server) as conn, conn.cursor() as cur:
        errors = []

        def run():
            try:
                cur.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n")
                cur.fetchall()
            except Exception as error:  # noqa: BLE001 - the cancellation error is what we expect
                errors.append(error)

        thread = threading.Thread(target=run)
        started = time.monotonic()
        thread.start()
        time.sleep(1.0)
        cur.adbc_cancel()
        thread.join(timeout=20)
        assert not thread.is_alive(), "the cancelled query did not stop"
        assert errors, "the query was not cancelled"
        assert time.monotonic() - started < 15
    with connect(server) as conn, conn.cursor() as cur:
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,)


# --- metadata ------------------------------------------------------------------------------

def test_adbc_get_table_types(server):
    with connect(server) as conn:
        assert sorted(conn.adbc_get_table_types()) == ["TABLE", "VIEW"]


def test_adbc_get_info(server):
    with connect(server) as conn:
        info = conn.adbc_get_info()
        assert info["vendor_name"] == "swift-arrow-flight SQLite"
        assert info["vendor_version"].startswith("3.")
        assert info["driver_name"] == "ADBC Flight SQL Driver - Go"


@pytest.mark.parametrize("depth", ["all", "catalogs", "db_schemas", "tables", "columns"])
def test_adbc_get_objects_at_every_depth(server, depth):
    with connect(server) as conn:
        objects = conn.adbc_get_objects(depth=depth).read_all().to_pylist()
    if depth == "catalogs":
        # SQLite has no catalogs; below that depth the driver files the schemas under "".
        assert objects == []
        return
    assert [c["catalog_name"] for c in objects] == [""]
    schemas = objects[0]["catalog_db_schemas"]
    assert [s["db_schema_name"] for s in schemas] == ["main"]
    if depth == "db_schemas":
        return
    tables = {t["table_name"]: t for t in schemas[0]["db_schema_tables"]}
    assert set(tables) == {"typed", "parent", "child", "parent_names"}
    assert tables["parent_names"]["table_type"] == "VIEW"
    if depth == "tables":
        return
    columns = [c["column_name"] for c in tables["typed"]["table_columns"]]
    assert columns == ["id", "i", "r", "t", "b", "flag", "small", "d", "ts", "n"]
    assert [c["ordinal_position"] for c in tables["typed"]["table_columns"]] == list(range(1, 11))


def test_adbc_get_table_schema(server):
    with connect(server) as conn:
        schema = conn.adbc_get_table_schema("typed")
        assert schema.names == ["id", "i", "r", "t", "b", "flag", "small", "d", "ts", "n"]
        assert schema.field("t").type == pa.string() and schema.field("b").type == pa.binary()
        assert schema.field("flag").type == pa.bool_()
        assert not conn.adbc_get_table_schema("parent").field("name").nullable


# --- ingest --------------------------------------------------------------------------------

def test_adbc_ingest_create_append_replace(server, database):
    data = pa.table({"k": pa.array([1, 2, 3], pa.int64()), "v": pa.array(["a", None, "c"]),
                     "f": pa.array([0.5, 1.5, None]), "ok": pa.array([True, False, None]),
                     "raw": pa.array([b"x", None, b""], pa.binary())})
    with connect(server) as conn, conn.cursor() as cur:
        assert cur.adbc_ingest("ingested", data, mode="create") == 3
        with pytest.raises(adbc_driver_manager.Error, match="already exists"):
            cur.adbc_ingest("ingested", data, mode="create")
        assert cur.adbc_ingest("ingested", data, mode="append") == 3
        cur.execute("SELECT * FROM ingested ORDER BY k")
        table = cur.fetch_arrow_table()
        assert table.schema.types == [pa.int64(), pa.string(), pa.float64(), pa.bool_(), pa.binary()]
        assert table.num_rows == 6
        assert cur.adbc_ingest("ingested", data.slice(0, 1), mode="replace") == 1
        assert cur.adbc_ingest("ingested", data, mode="create_append") == 3
        with pytest.raises(adbc_driver_manager.Error, match="does not exist"):
            cur.adbc_ingest("not_there", data, mode="append")
    assert sqlite_rows(database, "SELECT count(*) FROM ingested") == [(4,)]
    assert sqlite_rows(database, "SELECT k, v, f, ok, raw FROM ingested ORDER BY rowid LIMIT 2") == \
        [(1, "a", 0.5, 1, b"x"), (1, "a", 0.5, 1, b"x")]


def test_adbc_ingest_with_a_mismatched_schema_leaves_nothing_behind(server, database):
    with connect(server) as conn, conn.cursor() as cur:
        cur.adbc_ingest("strict", pa.table({"k": pa.array([1], pa.int64())}), mode="create")
        wrong = pa.table({"k": pa.array([2, 3], pa.int64()), "extra": pa.array(["x", "y"])})
        with pytest.raises(adbc_driver_manager.Error):
            cur.adbc_ingest("strict", wrong, mode="append")
        cur.execute("SELECT count(*) FROM strict")
        assert cur.fetchone() == (1,)
    assert sqlite_rows(database, "SELECT count(*) FROM strict") == [(1,)]


def test_adbc_ingest_of_an_empty_table_is_a_clear_error(server, database):
    """The ADBC driver sends a DoPut with no message at all for an empty table (pyarrow's own
    Flight server sees the same: "Stream finished before first message sent"): nothing names
    the table, so the gateway says so, and nothing is created."""
    with connect(server) as conn, conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error, match="DoPut stream is empty"):
            cur.adbc_ingest("never_made", pa.table({"k": pa.array([], pa.int64())}), mode="create")
    assert sqlite_rows(database, "SELECT count(*) FROM sqlite_schema WHERE name = 'never_made'") == [(0,)]


# --- auth and TLS --------------------------------------------------------------------------

def hashed_line(bin_path, user, password):
    proc = subprocess.run([bin_path, "hash-password", user, "--iterations", "1000"], input=password.encode(),
                          capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode().strip()


def test_adbc_basic_auth(start_sql_server, flight_sql_server_bin, database, tmp_path):
    users = tmp_path / "users"
    users.write_text(hashed_line(flight_sql_server_bin, "alice", "s3cret pass") + "\nbob:plain\n")
    server = start_sql_server("--database", database, "--auth", "basic", "--users-file", users)
    with connect(server, username="alice", password="s3cret pass") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM parent")
        assert cur.fetchone() == (5,)
    with connect(server, username="bob", password="plain") as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    with pytest.raises(adbc_driver_manager.Error, match="(?i)unauthenticated|invalid username"):
        with connect(server, username="alice", password="wrong") as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
    with pytest.raises(adbc_driver_manager.Error, match="(?i)unauthenticated"):
        with connect(server) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
    assert "plaintext password" in server.log()


@pytest.fixture
def san_certificates(tmp_path):
    """A CA and a localhost certificate signed by it, with the subjectAltName that Go's TLS
    requires (the arrow-testing certificates name the host only in the Common Name)."""
    def openssl(*args):
        proc = subprocess.run(["openssl", *map(str, args)], capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr.decode()

    ca_key, ca, key, csr, cert = (tmp_path / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
            "-subj", "/CN=swift-arrow-flight test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    ext = tmp_path / "ext.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
            "-extfile", ext)
    return ca, cert, key


def test_adbc_over_tls(start_sql_server, database, san_certificates):
    ca, cert, key = san_certificates
    server = start_sql_server("--database", database, "--tls-cert", cert, "--tls-key", key)
    assert server.location.startswith("grpc+tls://")
    uri = f"grpc+tls://localhost:{server.port}"
    kwargs = {adbc_driver_flightsql.DatabaseOptions.TLS_ROOT_CERTS.value: ca.read_text()}
    with flightsql.connect(uri, db_kwargs=kwargs, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT name FROM parent ORDER BY id LIMIT 2")
        assert cur.fetchall() == [("p1",), ("p2",)]
    # A client that does not trust the server's CA is refused.
    untrusted = {adbc_driver_flightsql.DatabaseOptions.TLS_ROOT_CERTS.value: (FLIGHT_CERTS / "root-ca.pem").read_text()}
    with pytest.raises(adbc_driver_manager.Error, match="(?i)certificate"):
        with flightsql.connect(uri, db_kwargs=untrusted, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")


def test_read_only_server_refuses_writes(start_sql_server, database):
    server = start_sql_server("--database", database, "--read-only")
    with connect(server) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM parent")
        assert cur.fetchone() == (5,)
        with pytest.raises(adbc_driver_manager.Error, match="read-only"):
            cur.execute("DELETE FROM parent")
    assert sqlite_rows(database, "SELECT count(*) FROM parent") == [(5,)]


def test_adbc_connections_closed_inside_a_transaction_free_the_server(server):
    # DB-API connections default to autocommit off: the driver begins a transaction at once
    # and, on close, ends its session without ending the transaction. More such connections
    # than the server keeps (64) must not exhaust it.
    for i in range(80):
        with connect(server, autocommit=False) as conn, conn.cursor() as cur:
            cur.execute("SELECT ?", (i,))
            assert cur.fetchone() == (i,)
    with connect(server) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO parent VALUES (900, 'after')")
        cur.execute("SELECT count(*) FROM parent")
        assert cur.fetchone() == (6,)


def test_adbc_two_cursors_read_in_turn_inside_a_transaction(server):
    # The first cursor's result is far larger than what the driver and the sockets buffer, so
    # its stream waits for the reader; the second cursor's query must still run meanwhile.
    with connect(server, autocommit=False) as conn, conn.cursor() as big, conn.cursor() as small:
        big.execute("""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000)
                       SELECT i, 'some padding to fill the pipes ' || i AS label FROM n""")
        assert big.fetchmany(3) == [(1, "some padding to fill the pipes 1"), (2, "some padding to fill the pipes 2"),
                                    (3, "some padding to fill the pipes 3")]
        time.sleep(0.5)
        small.execute("SELECT count(*) FROM parent")
        assert small.fetchone() == (5,)
        # fetch_arrow_table returns the batches after the one fetchmany started.
        rest = big.fetch_arrow_table()
        assert rest.column("i")[-1].as_py() == 2000000
        assert rest.num_rows > 1900000
        conn.commit()
