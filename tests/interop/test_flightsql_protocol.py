"""Flight SQL at the protocol level, with pyarrow's Flight client and hand-encoded commands:
the exact metadata result schemas, tickets, and clear errors for malformed or unknown input."""
import sqlite3

import pyarrow as pa
import pyarrow.flight as flight
import pytest

PREFIX = "type.googleapis.com/arrow.flight.protocol.sql."


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number: int, value: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(value)) + value


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def command(name: str, body: bytes = b"") -> bytes:
    """A Flight SQL message packed in google.protobuf.Any."""
    return field_bytes(1, (PREFIX + name).encode()) + field_bytes(2, body)


def s(number: int, text: str) -> bytes:
    return field_bytes(number, text.encode())


CATALOGS = pa.schema([pa.field("catalog_name", pa.utf8(), nullable=False)])
DB_SCHEMAS = pa.schema([pa.field("catalog_name", pa.utf8()), pa.field("db_schema_name", pa.utf8(), nullable=False)])
TABLES = pa.schema([pa.field("catalog_name", pa.utf8()), pa.field("db_schema_name", pa.utf8()),
                    pa.field("table_name", pa.utf8(), nullable=False), pa.field("table_type", pa.utf8(), nullable=False)])
TABLES_WITH_SCHEMA = TABLES.append(pa.field("table_schema", pa.binary(), nullable=False))
TABLE_TYPES = pa.schema([pa.field("table_type", pa.utf8(), nullable=False)])
PRIMARY_KEYS = pa.schema([pa.field("catalog_name", pa.utf8()), pa.field("db_schema_name", pa.utf8()),
                          pa.field("table_name", pa.utf8(), nullable=False), pa.field("column_name", pa.utf8(), nullable=False),
                          pa.field("key_sequence", pa.int32(), nullable=False), pa.field("key_name", pa.utf8())])
FOREIGN_KEYS = pa.schema([
    pa.field("pk_catalog_name", pa.utf8()), pa.field("pk_db_schema_name", pa.utf8()),
    pa.field("pk_table_name", pa.utf8(), nullable=False), pa.field("pk_column_name", pa.utf8(), nullable=False),
    pa.field("fk_catalog_name", pa.utf8()), pa.field("fk_db_schema_name", pa.utf8()),
    pa.field("fk_table_name", pa.utf8(), nullable=False), pa.field("fk_column_name", pa.utf8(), nullable=False),
    pa.field("key_sequence", pa.int32(), nullable=False), pa.field("fk_key_name", pa.utf8()),
    pa.field("pk_key_name", pa.utf8()), pa.field("update_rule", pa.uint8(), nullable=False),
    pa.field("delete_rule", pa.uint8(), nullable=False)])
XDBC_TYPE_INFO = pa.schema([
    pa.field("type_name", pa.utf8(), nullable=False), pa.field("data_type", pa.int32(), nullable=False),
    pa.field("column_size", pa.int32()), pa.field("literal_prefix", pa.utf8()), pa.field("literal_suffix", pa.utf8()),
    pa.field("create_params", pa.list_(pa.field("item", pa.utf8(), nullable=False))),
    pa.field("nullable", pa.int32(), nullable=False), pa.field("case_sensitive", pa.bool_(), nullable=False),
    pa.field("searchable", pa.int32(), nullable=False), pa.field("unsigned_attribute", pa.bool_()),
    pa.field("fixed_prec_scale", pa.bool_(), nullable=False), pa.field("auto_increment", pa.bool_()),
    pa.field("local_type_name", pa.utf8()), pa.field("minimum_scale", pa.int32()), pa.field("maximum_scale", pa.int32()),
    pa.field("sql_data_type", pa.int32(), nullable=False), pa.field("datetime_subcode", pa.int32()),
    pa.field("num_prec_radix", pa.int32()), pa.field("interval_precision", pa.int32())])
SQL_INFO = pa.schema([
    pa.field("info_name", pa.uint32(), nullable=False),
    pa.field("value", pa.dense_union([
        pa.field("string_value", pa.utf8(), nullable=False),
        pa.field("bool_value", pa.bool_(), nullable=False),
        pa.field("bigint_value", pa.int64(), nullable=False),
        pa.field("int32_bitmask", pa.int32(), nullable=False),
        pa.field("string_list", pa.list_(pa.utf8()), nullable=False),
        pa.field("int32_to_int32_list_map", pa.map_(pa.int32(), pa.list_(pa.int32())), nullable=False),
    ], [0, 1, 2, 3, 4, 5]), nullable=False)])

METADATA_COMMANDS = [
    ("CommandGetCatalogs", b"", CATALOGS),
    ("CommandGetDbSchemas", b"", DB_SCHEMAS),
    ("CommandGetTables", b"", TABLES),
    ("CommandGetTables", field_varint(5, 1), TABLES_WITH_SCHEMA),
    ("CommandGetTableTypes", b"", TABLE_TYPES),
    ("CommandGetPrimaryKeys", s(3, "child"), PRIMARY_KEYS),
    ("CommandGetImportedKeys", s(3, "child"), FOREIGN_KEYS),
    ("CommandGetExportedKeys", s(3, "parent"), FOREIGN_KEYS),
    ("CommandGetCrossReference", s(3, "parent") + s(6, "child"), FOREIGN_KEYS),
    ("CommandGetXdbcTypeInfo", b"", XDBC_TYPE_INFO),
    ("CommandGetSqlInfo", b"", SQL_INFO),
]


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "meta.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE child (id INTEGER, parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE,
                            PRIMARY KEY (id, parent_id));
        INSERT INTO parent VALUES (1, 'one');
        INSERT INTO child VALUES (1, 1);
    """)
    db.close()
    return path


@pytest.fixture
def client(start_sql_server, database):
    server = start_sql_server("--database", database)
    with flight.connect(server.location) as c:
        yield c


@pytest.mark.parametrize("name,body,expected", METADATA_COMMANDS, ids=[f"{c[0]}-{i}" for i, c in enumerate(METADATA_COMMANDS)])
def test_pyarrow_metadata_result_schemas_are_exactly_the_specifications(client, name, body, expected):
    descriptor = flight.FlightDescriptor.for_command(command(name, body))
    info = client.get_flight_info(descriptor)
    assert info.schema.equals(expected, check_metadata=True), f"{info.schema}\n!=\n{expected}"
    assert client.get_schema(descriptor).schema.equals(expected)
    assert len(info.endpoints) == 1
    table = client.do_get(info.endpoints[0].ticket).read_all()
    assert table.schema.equals(expected), f"{table.schema}\n!=\n{expected}"


def test_pyarrow_metadata_values(client):
    def rows(name, body=b""):
        info = client.get_flight_info(flight.FlightDescriptor.for_command(command(name, body)))
        return client.do_get(info.endpoints[0].ticket).read_all().to_pylist()

    assert rows("CommandGetCatalogs") == []
    assert rows("CommandGetDbSchemas") == [{"catalog_name": None, "db_schema_name": "main"}]
    assert [r["table_name"] for r in rows("CommandGetTables", s(3, "c%"))] == ["child"]
    keys = rows("CommandGetPrimaryKeys", s(3, "child"))
    assert [(k["column_name"], k["key_sequence"]) for k in keys] == [("id", 1), ("parent_id", 2)]
    imported = rows("CommandGetImportedKeys", s(3, "child"))
    assert [(k["pk_table_name"], k["pk_column_name"], k["fk_column_name"], k["delete_rule"]) for k in imported] == \
        [("parent", "id", "parent_id", 0)]
    info = {r["info_name"]: r["value"] for r in rows("CommandGetSqlInfo", field_varint(1, 0) + field_varint(1, 8) + field_varint(1, 508))}
    assert info[0] == "swift-arrow-flight SQLite"
    assert info[8] == 2
    assert "SELECT" in info[508]
    with_schema = rows("CommandGetTables", s(3, "parent") + field_varint(5, 1))
    schema = pa.ipc.read_schema(pa.py_buffer(with_schema[0]["table_schema"]))
    assert schema.names == ["id", "name"] and not schema.field("name").nullable
    assert schema.field("name").metadata[b"ARROW:FLIGHT:SQL:TYPE_NAME"] == b"TEXT"


@pytest.mark.parametrize("cmd", [
    b"\xff\xff\xff",
    command("CommandNotInTheSpec"),
    field_bytes(1, b"type.googleapis.com/some.other.Message") + field_bytes(2, b""),
    command("CommandStatementQuery", b"\x0a\xff"),
], ids=["not-protobuf", "unknown-command", "foreign-type", "truncated-query"])
def test_pyarrow_malformed_commands_are_invalid_argument(client, cmd):
    # pyarrow raises ArrowInvalid for the INVALID_ARGUMENT status.
    with pytest.raises(pa.ArrowInvalid, match="(?i)malformed|does not take"):
        client.get_flight_info(flight.FlightDescriptor.for_command(cmd))
    assert client.get_flight_info(flight.FlightDescriptor.for_command(command("CommandGetTableTypes"))).endpoints


def test_pyarrow_unknown_handles_and_tickets_are_clear_errors(client):
    with pytest.raises(pa.ArrowException, match="unknown prepared statement"):
        client.get_flight_info(flight.FlightDescriptor.for_command(
            command("CommandPreparedStatementQuery", field_bytes(1, b"no such handle"))))
    with pytest.raises(pa.ArrowException, match="(?i)ticket"):
        client.do_get(flight.Ticket(command("TicketStatementQuery", field_bytes(1, b"forged")))).read_all()
    with pytest.raises(pa.ArrowInvalid, match="unknown action"):
        list(client.do_action(flight.Action("NoSuchAction", b"")))
    with pytest.raises(pa.ArrowException, match="unknown transaction"):
        client.get_flight_info(flight.FlightDescriptor.for_command(
            command("CommandStatementQuery", s(1, "SELECT 1") + field_bytes(2, b"\x01" * 16))))


def test_pyarrow_statement_query_ticket_round_trip(client):
    info = client.get_flight_info(flight.FlightDescriptor.for_command(command("CommandStatementQuery", s(1, "SELECT id, name FROM parent"))))
    assert info.schema.names == ["id", "name"]
    assert len(info.endpoints) == 1
    assert info.endpoints[0].expiration_time is None
    assert client.do_get(info.endpoints[0].ticket).read_all().to_pylist() == [{"id": 1, "name": "one"}]
    # A result held for its first read is gone once read.
    with pytest.raises(pa.ArrowException, match="already read"):
        client.do_get(info.endpoints[0].ticket).read_all()


def test_a_read_only_query_read_twice_gives_the_same_batches(start_sql_server, tmp_path):
    # The first read goes on from the plan's cursor, the second runs the query again: a reader
    # that resumes after a failover skips batches by count, so both must cut the rows alike.
    path = tmp_path / "read-only.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) INSERT INTO big SELECT i, 'n' || i FROM n;
    """)
    db.close()
    server = start_sql_server("--database", path, "--read-only")
    with flight.connect(server.location) as c:
        info = c.get_flight_info(flight.FlightDescriptor.for_command(command("CommandStatementQuery", s(1, "SELECT id, name FROM big"))))
        assert info.endpoints[0].app_metadata.startswith(b"arrow-flight-replayable")
        reads = []
        for _ in range(2):
            reader = c.do_get(info.endpoints[0].ticket)
            reads.append([chunk.data for chunk in reader])
        assert [len(b) for b in reads[0]] == [len(b) for b in reads[1]]
        assert len(reads[0][0]) == 1024 and sum(len(b) for b in reads[0]) == 100000
        assert pa.Table.from_batches(reads[0]).equals(pa.Table.from_batches(reads[1]))


def test_an_ingest_of_a_schema_without_batches_creates_the_empty_table(client, database):
    # What a client that sends the schema message and no batches means (the ADBC driver sends
    # no message at all for an empty table; see test_flightsql_adbc).
    options = field_bytes(1, field_varint(1, 1) + field_varint(2, 1))  # create if missing, fail if it exists
    descriptor = flight.FlightDescriptor.for_command(command("CommandStatementIngest", options + s(2, "made_empty")))
    schema = pa.schema([("k", pa.int64()), ("name", pa.utf8())])
    writer, reader = client.do_put(descriptor, schema)
    writer.done_writing()
    reader.read()
    writer.close()
    db = sqlite3.connect(database)
    try:
        assert [(r[1], r[2]) for r in db.execute("PRAGMA table_info(made_empty)")] == [("k", "INTEGER"), ("name", "TEXT")]
        assert db.execute("SELECT count(*) FROM made_empty").fetchone() == (0,)
    finally:
        db.close()
