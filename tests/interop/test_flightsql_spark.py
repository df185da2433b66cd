"""`flight-sql-server --engine spark` against a real Spark Connect server (pyspark's, started by
the run): the ADBC Flight SQL driver and pyarrow compared value by value with what pyspark's own
Spark Connect client returns for the same SQL; prepared statements, DDL and DML, the catalog as
Flight SQL metadata, errors, cancellation; distributed results served by two gateway nodes on a
real ZooKeeper, one of them killed with -9."""
import pathlib
import signal
import subprocess
import sys
import threading
import time
import warnings

import adbc_driver_flightsql.dbapi as flightsql
import adbc_driver_manager
import pyarrow as pa
import pyarrow.flight as flight
import pytest

from spark_connect import SparkConnectServer
from test_cluster import Cluster, cluster_secret, zookeeper  # noqa: F401 (fixtures)

warnings.filterwarnings("ignore", message=".*pandas.*")
warnings.filterwarnings("ignore", message=".*autocommit.*")


@pytest.fixture(scope="module")
def spark_server(tmp_path_factory):
    server = SparkConnectServer(tmp_path_factory.mktemp("spark"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def spark(spark_server):
    """pyspark's own Spark Connect client: the oracle."""
    from pyspark.sql import SparkSession
    session = SparkSession.builder.remote(spark_server.address).getOrCreate()
    session.sql("CREATE TABLE IF NOT EXISTS people (id BIGINT, name STRING, score DECIMAL(10, 2), born DATE) USING parquet")
    session.sql("INSERT OVERWRITE people VALUES (1, 'ada', 91.50, DATE'1815-12-10'), (2, 'alan', 88.25, DATE'1912-06-23'), "
                "(3, 'grace', NULL, DATE'1906-12-09'), (4, NULL, 70.00, NULL)")
    session.sql("CREATE OR REPLACE VIEW people_view AS SELECT id, name FROM people")
    yield session
    session.stop()


@pytest.fixture
def gateway(start_sql_server, spark_server, tmp_path):
    """One gateway node in front of the Spark server, with a staging directory."""
    staging = tmp_path / "staging"
    node = start_sql_server("--engine", "spark", "--spark-connect", spark_server.address, "--staging-dir", staging)
    node.staging = staging
    return node


def connect(node, **options):
    conn = flightsql.connect(node.location)
    if options:
        conn.adbc_connection.set_options(**{f"adbc.flight.sql.session.option.{k}": v for k, v in options.items()})
    return conn


def query(node, sql, parameters=None, **options) -> pa.Table:
    with connect(node, **options) as conn, conn.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetch_arrow_table()


def same_type(a: pa.DataType, b: pa.DataType) -> bool:
    """Equal types, where zoned timestamps may name their zone differently: Spark's server labels
    them with the session's zone (Etc/UTC here), pyspark's client relabels them UTC; the
    instants are the same."""
    if pa.types.is_timestamp(a) and pa.types.is_timestamp(b):
        return a.unit == b.unit and (a.tz is None) == (b.tz is None)
    if a.num_fields != b.num_fields or type(a) is not type(b):
        return a == b
    if a.num_fields == 0:
        return a == b
    return all(same_type(a.field(i).type, b.field(i).type) and a.field(i).nullable == b.field(i).nullable
               for i in range(a.num_fields))


def assert_same(ours: pa.Table, theirs: pa.Table, *, ordered=True):
    assert ours.schema.names == theirs.schema.names
    for name in ours.schema.names:
        ours_field, their_field = ours.schema.field(name), theirs.schema.field(name)
        assert same_type(ours_field.type, their_field.type), f"{name}: {ours_field.type} != {their_field.type}"
        assert ours_field.nullable == their_field.nullable, name
    ours_rows, their_rows = ours.to_pylist(), theirs.to_pylist()
    if not ordered:
        key = repr
        ours_rows, their_rows = sorted(ours_rows, key=key), sorted(their_rows, key=key)
    assert ours_rows == their_rows


EVERY_TYPE = """
SELECT * FROM VALUES
  (true, CAST(1 AS TINYINT), CAST(-2 AS SMALLINT), 3, CAST(-4 AS BIGINT), CAST(1.5 AS FLOAT), 2.25D,
   CAST(123.45 AS DECIMAL(10, 2)), CAST(-12345678901234567890.123 AS DECIMAL(38, 3)), 'héllo', X'00FF10',
   DATE'2024-02-29', TIMESTAMP'2024-01-02 03:04:05.123456', TIMESTAMP_NTZ'1969-12-31 23:59:59.5',
   array(1, NULL, 3), map('a', 1, 'b', NULL), named_struct('x', 1, 'y', 'z'), array(named_struct('k', 'v')),
   INTERVAL '1-2' YEAR TO MONTH, INTERVAL '1 02:03:04.5' DAY TO SECOND),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   named_struct('x', CAST(NULL AS INT), 'y', CAST(NULL AS STRING)), array(named_struct('k', CAST(NULL AS STRING)), NULL), NULL, NULL)
AS t(b, i8, i16, i32, i64, f32, f64, d10, d38, s, bin, dt, ts, tsn, arr, m, st, arr_st, ym, dts)
"""
PORTABLE = "SELECT b, i8, i16, i32, i64, f32, f64, d10, d38, s, bin, dt, ts, tsn, arr, m, st, arr_st FROM (" + EVERY_TYPE + ")"


def test_every_spark_type_equals_pysparks_own_client(gateway, spark):
    ours = query(gateway, EVERY_TYPE)
    # pyspark's client converts no year-month interval to Arrow (Spark's server does), and
    # pyarrow cannot show one in Python: its type and nulls are checked alone.
    assert str(ours.schema.field("ym").type) == "month_interval"
    assert ours.column("ym").null_count == 1
    theirs = spark.sql(f"SELECT * EXCEPT (ym) FROM ({EVERY_TYPE})").toArrow()
    assert_same(ours.drop_columns(["ym"]), theirs)


def test_direct_and_distributed_give_the_same_rows_as_pyspark(gateway, spark):
    theirs = spark.sql(PORTABLE).toArrow()
    assert_same(query(gateway, PORTABLE, execution_mode="direct"), theirs)
    assert_same(query(gateway, PORTABLE, execution_mode="distributed"), theirs, ordered=False)
    assert "distributed result" in gateway.log()
    assert list(gateway.staging.iterdir()) == [], "the staged result was read and must be gone"


def test_a_large_ordered_result_read_distributed(gateway, spark):
    sql = "SELECT id, CAST(id AS STRING) AS s, id % 7 AS m FROM range(300000) ORDER BY m, id DESC"
    with connect(gateway, execution_mode="distributed") as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        ours = cursor.fetch_arrow_table()
    assert_same(ours, spark.sql(sql).toArrow())


def test_auto_sends_small_results_direct_and_large_ones_distributed(start_sql_server, spark_server, tmp_path, spark):
    node = start_sql_server("--engine", "spark", "--spark-connect", spark_server.address, "--staging-dir", tmp_path,
                            "--distributed-threshold-mb", "4")
    small = query(node, "SELECT count(*) AS n FROM range(10000000)")
    assert small.column("n").to_pylist() == [10000000]
    assert "distributed result" not in node.log()
    large = query(node, "SELECT id FROM range(1000000)")
    assert large.num_rows == 1000000
    assert "distributed result" in node.log()


def test_prepared_statements_with_positional_and_named_parameters(gateway, spark):
    expected = spark.sql("SELECT id, name FROM people WHERE id >= 2 AND name IS NOT NULL ORDER BY id").toArrow()
    ours = query(gateway, "SELECT id, name FROM people WHERE id >= ? AND name IS NOT NULL ORDER BY id", (2,))
    assert_same(ours, expected)
    named = pa.record_batch([pa.array([2])], names=["low"])
    assert_same(query(gateway, "SELECT id, name FROM people WHERE id >= :low AND name IS NOT NULL ORDER BY id", named), expected)
    with connect(gateway) as conn, conn.cursor() as cursor:
        cursor.adbc_prepare("SELECT id, name, score FROM people WHERE id = ?")
        handle = cursor.adbc_statement.get_parameter_schema()
        assert pa.schema(handle).names == ["$1"]
        for key in (1, 3):
            cursor.execute("SELECT id, name, score FROM people WHERE id = ?", (key,))
            assert cursor.fetch_arrow_table().column("id").to_pylist() == [key]
        cursor.execute("SELECT ? AS s, ? AS d, ? AS t", ("text", 1.5, True))
        row = cursor.fetch_arrow_table().to_pylist()[0]
        assert row == {"s": "text", "d": 1.5, "t": True}


def test_ddl_and_dml(gateway, spark):
    with connect(gateway) as conn, conn.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS gateway_made")
        cursor.execute("CREATE TABLE gateway_made (k INT, v STRING) USING parquet")
        cursor.execute("INSERT INTO gateway_made VALUES (1, 'one'), (2, 'two')")
        cursor.adbc_statement.set_sql_query("INSERT INTO gateway_made VALUES (3, 'three')")
        cursor.adbc_statement.execute_update()
        cursor.executemany("INSERT INTO gateway_made VALUES (?, ?)", [(4, "four"), (5, "five")])
    theirs = spark.sql("SELECT * FROM gateway_made ORDER BY k").toArrow()
    assert theirs.column("k").to_pylist() == [1, 2, 3, 4, 5]
    assert_same(query(gateway, "SELECT * FROM gateway_made ORDER BY k"), theirs)


def test_catalog_as_flight_sql_metadata(gateway, spark):
    with connect(gateway) as conn:
        objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
        catalogs = {c["catalog_name"] for c in objects}
        assert "spark_catalog" in catalogs
        spark_catalog = next(c for c in objects if c["catalog_name"] == "spark_catalog")
        default = next(s for s in spark_catalog["catalog_db_schemas"] if s["db_schema_name"] == "default")
        tables = {t["table_name"]: t for t in default["db_schema_tables"]}
        listed = {row.name for row in spark.catalog.listTables("default")}
        assert listed <= set(tables), f"{listed} vs {set(tables)}"
        assert tables["people"]["table_type"] == "TABLE"
        assert tables["people_view"]["table_type"] == "VIEW"
        assert [c["column_name"] for c in tables["people"]["table_columns"]] == ["id", "name", "score", "born"]
        assert [c["xdbc_type_name"] for c in tables["people"]["table_columns"]] == ["bigint", "string", "decimal(10,2)", "date"]
        for depth in ("catalogs", "db_schemas", "tables", "columns"):
            assert conn.adbc_get_objects(depth=depth, catalog_filter="spark_catalog").read_all().num_rows == 1
        only_views = conn.adbc_get_objects(depth="tables", table_types_filter=["VIEW"]).read_all().to_pylist()
        names = {t["table_name"] for c in only_views for s in c["catalog_db_schemas"] or [] for t in s["db_schema_tables"] or []}
        assert names == {"people_view"}
        schema = conn.adbc_get_table_schema("people", catalog_filter="spark_catalog", db_schema_filter="default")
        assert schema.types == [pa.int64(), pa.string(), pa.decimal128(10, 2), pa.date32()]
        assert spark.table("people").toArrow().schema.types == schema.types
        assert "TABLE" in conn.adbc_get_table_types()
        info = conn.adbc_get_info()
        assert info["vendor_name"] == "swift-arrow-flight Spark" and info["vendor_version"].startswith("4.")


def test_metadata_results_have_the_specifications_schemas(gateway):
    """Every metadata command through pyarrow's Flight client: the exact schemas of the Flight
    SQL specification, from Spark's catalog."""
    from test_flightsql_protocol import (CATALOGS, DB_SCHEMAS, SQL_INFO, TABLE_TYPES, TABLES, TABLES_WITH_SCHEMA,
                                         XDBC_TYPE_INFO, command, field_varint)
    with flight.connect(gateway.location) as client:
        for name, body, expected in [("CommandGetCatalogs", b"", CATALOGS), ("CommandGetDbSchemas", b"", DB_SCHEMAS),
                                     ("CommandGetTables", b"", TABLES), ("CommandGetTables", field_varint(5, 1), TABLES_WITH_SCHEMA),
                                     ("CommandGetTableTypes", b"", TABLE_TYPES), ("CommandGetXdbcTypeInfo", b"", XDBC_TYPE_INFO),
                                     ("CommandGetSqlInfo", b"", SQL_INFO)]:
            info = client.get_flight_info(flight.FlightDescriptor.for_command(command(name, body)))
            table = client.do_get(info.endpoints[0].ticket).read_all()
            assert table.schema.equals(expected), f"{name}: {table.schema}"
            assert table.num_rows > 0, name
            if name == "CommandGetXdbcTypeInfo":
                assert "DECIMAL" in table.column("type_name").to_pylist()


def test_session_options_reach_the_spark_session(gateway):
    with connect(gateway) as conn, conn.cursor() as cursor:
        conn.adbc_connection.set_options(**{"adbc.flight.sql.session.option.spark.sql.session.timeZone": "America/New_York"})
        cursor.execute("SELECT current_timezone() AS z, TIMESTAMP'2024-07-01 12:00:00' AS t")
        table = cursor.fetch_arrow_table()
        assert table.column("z").to_pylist() == ["America/New_York"]
        assert table.schema.field("t").type == pa.timestamp("us", tz="America/New_York")
        conn.adbc_connection.set_options(**{"adbc.flight.sql.session.option.schema": "default"})
        cursor.execute("SELECT current_schema() AS s")
        assert cursor.fetch_arrow_table().column("s").to_pylist() == ["default"]
        with pytest.raises(adbc_driver_manager.Error):
            conn.adbc_connection.set_options(**{"adbc.flight.sql.session.option.execution_mode": "sideways"})


def test_spark_errors_arrive_as_clear_statuses(gateway):
    with connect(gateway) as conn, conn.cursor() as cursor:
        with pytest.raises(adbc_driver_manager.Error, match="(?s)NOT_FOUND.*TABLE_OR_VIEW_NOT_FOUND"):
            cursor.execute("SELECT * FROM no_such_table")
        with pytest.raises(adbc_driver_manager.Error, match="(?s)INVALID_ARGUMENT.*PARSE_SYNTAX_ERROR"):
            cursor.execute("SELEC 1")
        with pytest.raises(adbc_driver_manager.Error, match="INVALID_ARGUMENT"):
            cursor.execute("SELECT missing_column FROM people")
        cursor.execute("SELECT 1 AS still_fine")
        assert cursor.fetch_arrow_table().column(0).to_pylist() == [1]


LONG = "SELECT sum(id % 7) FROM range(0, 200000000000)"

READER = """
import sys
import pyarrow.flight as flight
sys.path.insert(0, sys.argv[2])
from test_flightsql_protocol import command, s
client = flight.FlightClient(sys.argv[1])
info = client.get_flight_info(flight.FlightDescriptor.for_command(command("CommandStatementQuery", s(1, sys.argv[3]))))
client.do_get(info.endpoints[0].ticket).read_all()
"""


def wait_for_jobs(spark_server, running: bool, timeout: float):
    deadline = time.monotonic() + timeout
    while bool(spark_server.running_jobs()) != running:
        assert time.monotonic() < deadline, f"Spark's running jobs: {spark_server.running_jobs()} (waited for running={running})"
        time.sleep(0.2)


def test_a_reader_that_goes_away_stops_its_query_in_spark(gateway, spark_server):
    """A client killed with -9 mid-read: its call is cancelled, and the gateway interrupts the
    Spark operation (its job is gone from Spark's status within seconds)."""
    here = pathlib.Path(__file__).parent
    reader = subprocess.Popen([sys.executable, "-c", READER, gateway.location, str(here), LONG])
    try:
        wait_for_jobs(spark_server, True, 60)
        reader.send_signal(signal.SIGKILL)
        reader.wait(timeout=10)
        wait_for_jobs(spark_server, False, 15)
    finally:
        reader.kill()


def test_cancel_flight_info_stops_a_running_query_in_spark(gateway, spark_server):
    """CancelFlightInfo from another connection while the query runs: the read fails CANCELLED
    and Spark's job stops."""
    from test_flightsql_protocol import command, field_bytes, s
    client = flight.FlightClient(gateway.location)
    info = client.get_flight_info(flight.FlightDescriptor.for_command(command("CommandStatementQuery", s(1, LONG))))
    results = []

    def cancel_once_running():
        wait_for_jobs(spark_server, True, 60)
        with flight.FlightClient(gateway.location) as other:
            # CancelFlightInfoRequest {info = 1}; the result {status = 1}, 1 being CANCELLED.
            [result] = other.do_action(flight.Action("CancelFlightInfo", field_bytes(1, info.serialize())))
            results.append(result.body.to_pybytes())

    canceller = threading.Thread(target=cancel_once_running)
    canceller.start()
    reader = client.do_get(info.endpoints[0].ticket)
    # read_chunk, not read_all: pyarrow turns a CANCELLED read_all into a simulated SIGINT.
    with pytest.raises(pa.ArrowException, match="(?i)cancel"):
        while True:
            reader.read_chunk()
    canceller.join(timeout=60)
    assert results == [b"\x08\x01"]
    wait_for_jobs(spark_server, False, 15)
    client.close()


# --- two gateway nodes ---------------------------------------------------------------------------

@pytest.fixture
def spark_cluster(flight_sql_server_bin, zookeeper, cluster_secret, tmp_path_factory, request, spark_server):  # noqa: F811
    """Gateway nodes on one ZooKeeper and one staging directory, every query distributed, with
    endpoints of about 1 MiB so that a result has several."""
    cluster = Cluster(flight_sql_server_bin, zookeeper, cluster_secret, f"/spark-{request.node.name[:40]}-{time.time_ns()}", tmp_path_factory)
    cluster.staging = tmp_path_factory.mktemp("staging")
    start = cluster.start
    cluster.start = lambda node_id: start(node_id, "--engine", "spark", "--spark-connect", spark_server.address,
                                          "--staging-dir", cluster.staging, "--execution-mode", "distributed",
                                          "--partition-mb", "1", "--log-level", "debug")
    yield cluster
    cluster.finish()


LARGE = "SELECT id, id * 3 AS triple, concat('row-', CAST(id AS STRING)) AS label FROM range(0, 600000, 1, 4)"


def plan(location, sql) -> flight.FlightInfo:
    from test_flightsql_protocol import command, s
    with flight.FlightClient(location) as client:
        return client.get_flight_info(flight.FlightDescriptor.for_command(command("CommandStatementQuery", s(1, sql))))


def read_all_endpoints(info) -> tuple[pa.Table, dict]:
    """Every endpoint read from its locations in order (failing over); rows served per first location."""
    from test_cluster import read_endpoint
    served: dict[str, int] = {}
    tables = []
    for endpoint in info.endpoints:
        table = read_endpoint(endpoint)
        served[endpoint.locations[0].uri.decode()] = served.get(endpoint.locations[0].uri.decode(), 0) + table.num_rows
        tables.append(table)
    return pa.concat_tables(tables), served


def two_nodes(spark_cluster):
    from test_cluster import member_ids, wait_for
    a, b = spark_cluster.start("a"), spark_cluster.start("b")
    wait_for(lambda: member_ids(a.location) == ["a", "b"], 20, "both nodes to be members")
    return a, b


def test_distributed_results_are_served_by_both_nodes(spark_cluster, spark):
    a, b = two_nodes(spark_cluster)
    theirs = spark.sql(LARGE).toArrow()
    info = plan(a.location, LARGE)
    assert len(info.endpoints) >= 2, info
    assert info.total_records == 600000
    assert all(sorted(l.uri.decode() for l in e.locations) == sorted([a.location, b.location]) for e in info.endpoints)
    table, served = read_all_endpoints(info)
    assert set(served) == {a.location, b.location}, served
    assert_same(table, theirs, ordered=False)
    assert "distributed result" in a.log()
    assert list(spark_cluster.staging.iterdir()) == [], "every endpoint was read: the staged result must be gone"
    # ADBC reads every endpoint of the same query, from both nodes.
    assert_same(query(b, LARGE), theirs, ordered=False)
    assert list(spark_cluster.staging.iterdir()) == []


def test_a_node_killed_before_the_read_is_covered_by_the_other(spark_cluster, spark):
    a, b = two_nodes(spark_cluster)
    info = plan(a.location, LARGE)
    assert any(e.locations[0].uri.decode() == b.location for e in info.endpoints)
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait(timeout=10)
    table, served = read_all_endpoints(info)
    assert_same(table, spark.sql(LARGE).toArrow(), ordered=False)
    assert list(spark_cluster.staging.iterdir()) == []


def test_cancel_flight_info_of_a_distributed_result_deletes_its_staged_files(spark_cluster):
    from test_flightsql_protocol import field_bytes
    a, b = two_nodes(spark_cluster)
    info = plan(a.location, LARGE)
    assert len(list(spark_cluster.staging.iterdir())) == 1
    # The cancel reaches the other node than the one that planned it.
    with flight.FlightClient(b.location) as client:
        [result] = client.do_action(flight.Action("CancelFlightInfo", field_bytes(1, info.serialize())))
        assert result.body.to_pybytes() == b"\x08\x01"
        assert list(spark_cluster.staging.iterdir()) == [], "the cancelled result's files must be gone at once"
        with pytest.raises(pa.ArrowException, match="(?i)cancel"):
            reader = client.do_get(info.endpoints[0].ticket)
            while True:
                reader.read_chunk()


WHOLE = ("SELECT id, id * 2 AS twice, concat('row-', CAST(id AS STRING)) AS label, CAST(id / 100 AS DECIMAL(18, 2)) AS amount, "
         "id % 3 = 0 AS flag, id / 7 AS ratio, date_add(DATE'2020-01-01', CAST(id % 2000 AS INT)) AS day FROM range(0, {}, 1, 3)")


def test_a_whole_table_scan_is_served_from_the_tables_own_files(spark_cluster, spark, spark_server):
    spark.sql("DROP TABLE IF EXISTS whole")
    spark.sql("CREATE TABLE whole USING parquet AS " + WHOLE.format(300000))
    theirs = spark.sql("SELECT * FROM whole").toArrow()
    folder = spark_server.directory / "warehouse" / "whole"
    table_files = sorted(folder.glob("*.parquet"))
    a, b = two_nodes(spark_cluster)
    info = plan(a.location, "SELECT * FROM whole")
    assert "the table's, linked" in a.log()
    [staged] = list(spark_cluster.staging.iterdir())
    # The staged files are the table's own, hard-linked: no Spark job wrote them again.
    assert sorted(p.stat().st_ino for p in staged.glob("*.parquet")) == sorted(p.stat().st_ino for p in table_files)
    # The table is rewritten between planning and reading: the result keeps the rows it was planned with.
    spark.sql("INSERT OVERWRITE TABLE whole " + WHOLE.format(10))
    table, served = read_all_endpoints(info)
    assert set(served) == {a.location, b.location}, served
    assert_same(table, theirs, ordered=False)
    assert list(spark_cluster.staging.iterdir()) == [], "every endpoint was read: the links must be gone"
    # Deleting the staged result took the links only: the table reads whole.
    assert spark.sql("SELECT count(*) AS n FROM whole").toArrow().column("n").to_pylist() == [10]
    assert_same(query(b, "SELECT * FROM whole"), spark.sql("SELECT * FROM whole").toArrow(), ordered=False)
    assert all(p.exists() for p in folder.glob("*.parquet"))


def test_int96_timestamps_of_a_table_read_from_its_files(spark_cluster, spark):
    """Spark writes a table's timestamps as INT96 by default: read in microseconds, every date
    Spark holds (years 1 to 9999) comes back as pyspark reads it, nested ones too."""
    spark.sql("DROP TABLE IF EXISTS whole_times")
    spark.sql("""CREATE TABLE whole_times USING parquet AS SELECT id, at, named_struct('at', at) AS s, array(at, at) AS l FROM
                 (SELECT id, CASE id % 4 WHEN 0 THEN TIMESTAMP'0001-01-01 00:00:00' WHEN 1 THEN TIMESTAMP'9999-12-31 23:59:59.999999'
                                         WHEN 2 THEN NULL ELSE timestamp_micros(1700000000123456 + id) END AS at FROM range(4000))""")
    a = spark_cluster.start("a")
    sql = "SELECT * FROM whole_times"
    table, _ = read_all_endpoints(plan(a.location, sql))
    assert_same(table, spark.sql(sql).toArrow(), ordered=False)
    assert "the table's, linked" in a.log()


def make_whole_parts(spark):
    spark.sql("CREATE TABLE IF NOT EXISTS whole_parts USING parquet PARTITIONED BY (part) AS "
              "SELECT id, concat('row-', CAST(id AS STRING)) AS label, id % 3 AS part FROM range(0, 20000, 1, 2)")


@pytest.mark.parametrize("sql", ["SELECT label, id AS key FROM whole_parts", "SELECT label FROM whole_parts"])
def test_a_projection_of_a_tables_columns_is_served_from_its_files(spark_cluster, spark, sql):
    """Chosen, reordered and renamed columns of a table, none of them a partition column, read
    from the table's files."""
    make_whole_parts(spark)
    a = spark_cluster.start("a")
    table, _ = read_all_endpoints(plan(a.location, sql))
    assert_same(table, spark.sql(sql).toArrow(), ordered=False)
    assert "the table's, linked" in a.log() and "written by Spark" not in a.log()


@pytest.mark.parametrize("sql", ["SELECT * FROM whole_parts", "SELECT part, id FROM whole_parts", "SELECT * FROM whole_parts WHERE id > 5",
                                 "SELECT id + 1 AS next, label FROM whole_parts"])
def test_other_scans_of_tables_go_through_sparks_write(spark_cluster, spark, sql):
    """A partition column (it is in no file), a filter and an expression: Spark writes the
    result."""
    make_whole_parts(spark)
    a = spark_cluster.start("a")
    table, _ = read_all_endpoints(plan(a.location, sql))
    assert_same(table, spark.sql(sql).toArrow(), ordered=False)
    assert "written by Spark" in a.log() and "the table's, linked" not in a.log()


def test_table_files_can_be_turned_off(start_sql_server, spark_server, tmp_path, spark):
    spark.sql("CREATE TABLE IF NOT EXISTS whole_off USING parquet AS " + WHOLE.format(1000))
    node = start_sql_server("--engine", "spark", "--spark-connect", spark_server.address, "--staging-dir", tmp_path / "staging",
                            "--no-table-files")
    assert_same(query(node, "SELECT * FROM whole_off", execution_mode="distributed"), spark.sql("SELECT * FROM whole_off").toArrow(),
                ordered=False)
    assert "written by Spark" in node.log()


def test_auto_serves_large_whole_table_scans_from_their_files(start_sql_server, spark_server, tmp_path, spark):
    spark.sql("CREATE TABLE IF NOT EXISTS whole_auto USING parquet AS " + WHOLE.format(200000))
    node = start_sql_server("--engine", "spark", "--spark-connect", spark_server.address, "--staging-dir", tmp_path / "staging",
                            "--distributed-threshold-mb", "1000", "--table-files-threshold-mb", "1")
    # A small table's scan and a filtered scan of the large one stay direct.
    assert_same(query(node, "SELECT * FROM people"), spark.sql("SELECT * FROM people").toArrow(), ordered=False)
    filtered = "SELECT * FROM whole_auto WHERE id % 2 = 0"
    assert_same(query(node, filtered), spark.sql(filtered).toArrow(), ordered=False)
    assert "distributed result" not in node.log()
    # The whole large table goes distributed, from its own files.
    assert_same(query(node, "SELECT * FROM whole_auto"), spark.sql("SELECT * FROM whole_auto").toArrow(), ordered=False)
    assert "the table's, linked" in node.log()
    assert "written by Spark" not in node.log()
