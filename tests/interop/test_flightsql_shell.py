"""Our `flightsql` shell against our flight-sql-server on the embedded SQLite engine, run as
subprocesses. Output is compared with what Python's sqlite3 (and csv) make of the same file."""
import csv
import io
import json
import math
import re
import sqlite3
import subprocess

import pytest

from conftest import FLIGHT_CERTS

ROWS = [
    (1, "plain", 1.5, b"\x00\xff", 1),
    (2, "comma, and \"quotes\"", -0.25, None, 0),
    (3, "two\nlines and\r\ncrlf", None, b"", None),
    (4, None, 1e300, bytes(range(40)), 1),
    (5, "ünïcødé ✓ \t tab \\ backslash \x01 control", -0.0, b"abc", 0),
    (6, "last", 3.0, None, 1),
]


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "shell.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, data BLOB, flag BOOLEAN);
        CREATE TABLE item_tags (item_id INTEGER NOT NULL, tag VARCHAR(20) NOT NULL);
        CREATE VIEW item_names AS SELECT name FROM items;
    """)
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?)", ROWS)
    db.commit()
    db.close()
    return path


@pytest.fixture
def server(start_sql_server, database):
    return start_sql_server("--database", database)


def shell(bin_path, server, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Runs flightsql against `server`; stdin is a pipe (never a terminal) either way."""
    return subprocess.run([bin_path, "--uri", server.location, *map(str, args)], input=(stdin or "").encode(),
                          capture_output=True, timeout=60)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, f"flightsql exited {proc.returncode}: {proc.stderr.decode(errors='replace')}"
    return proc.stdout.decode()


def sqlite_rows(path, sql):
    db = sqlite3.connect(path)
    try:
        cursor = db.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        db.close()


def test_flightsql_c_query_prints_table_with_row_count(flightsql_bin, server):
    out = ok(shell(flightsql_bin, server, "-c", "SELECT id, name FROM items WHERE id <= 2 ORDER BY id"))
    lines = out.splitlines()
    assert re.fullmatch(r"id \| name", lines[0])
    assert re.fullmatch(r"-+\+-+", lines[1])
    assert lines[2] == " 1 | plain"
    assert lines[3] == ' 2 | comma, and "quotes"'
    assert re.fullmatch(r"\(2 rows\) in \d+\.\d ms", lines[4]), lines[4]
    assert len(lines) == 5
    out = ok(shell(flightsql_bin, server, "-c", "SELECT 42 AS answer;"))
    assert re.search(r"^\(1 row\) in \d+\.\d ms$", out, re.M), out


def test_flightsql_several_c_run_in_order(flightsql_bin, server):
    out = ok(shell(flightsql_bin, server, "--format", "csv", "-c", "SELECT 1 AS a", "-c", "SELECT 2 AS b"))
    assert out == "a\n1\nb\n2\n"


def test_flightsql_csv_equals_python_csv_of_sqlite_rows(flightsql_bin, server, database):
    # Binary is written as hex by the shell; the query does the same on the sqlite3 side.
    sql = "SELECT id, name, price FROM items ORDER BY id"
    out = ok(shell(flightsql_bin, server, "--format", "csv", "-c", sql))
    names, rows = sqlite_rows(database, sql)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(rows)
    assert out == expected.getvalue()
    assert list(csv.reader(io.StringIO(out))) == [names] + [["" if v is None else str(v) for v in row] for row in rows]


def test_flightsql_csv_keeps_null_and_empty_string_apart(flightsql_bin, server):
    out = ok(shell(flightsql_bin, server, "--format", "csv", "-c", "SELECT NULL AS n, '' AS e, 'x' AS x"))
    assert out == 'n,e,x\n,"",x\n'


def test_flightsql_json_lines_match_sqlite_values(flightsql_bin, server, database):
    sql = "SELECT id, name, price, data, flag FROM items ORDER BY id"
    out = ok(shell(flightsql_bin, server, "--format", "json", "-c", sql))
    names, rows = sqlite_rows(database, sql)
    lines = out.splitlines()
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows):
        ours = json.loads(line)
        assert list(ours) == names
        for name, value in zip(names, row):
            got = ours[name]
            if value is None:
                assert got is None, (name, got)
            elif name == "data":
                assert got == value.hex()
            elif name == "flag":
                assert got is bool(value)
            elif isinstance(value, float):
                assert isinstance(got, float) and got == value and math.copysign(1, got) == math.copysign(1, value)
            else:
                assert got == value and type(got) is type(value), (name, got, value)


def test_flightsql_json_writes_infinities_as_strings(flightsql_bin, server):
    out = ok(shell(flightsql_bin, server, "--format", "json", "-c", "SELECT 9e999 AS p, -9e999 AS m, 1 AS i"))
    assert json.loads(out) == {"p": "Infinity", "m": "-Infinity", "i": 1}


def test_flightsql_dml_prints_rows_affected(flightsql_bin, server, database):
    out = ok(shell(flightsql_bin, server,
                   "-c", "UPDATE items SET price = price * 2 WHERE price > 0",
                   "-c", "INSERT INTO item_tags VALUES (1, 'new')",
                   "-c", "CREATE TABLE more (x INTEGER)"))
    lines = out.splitlines()
    assert re.fullmatch(r"OK, 3 rows affected in \d+\.\d ms", lines[0]), lines
    assert re.fullmatch(r"OK, 1 row affected in \d+\.\d ms", lines[1]), lines
    assert re.fullmatch(r"OK, 0 rows affected in \d+\.\d ms", lines[2]), lines
    assert sqlite_rows(database, "SELECT price FROM items WHERE id = 1")[1] == [(3.0,)]
    assert sqlite_rows(database, "SELECT * FROM item_tags")[1] == [(1, "new")]


def test_flightsql_sql_error_exits_1_with_message(flightsql_bin, server):
    proc = shell(flightsql_bin, server, "--format", "csv", "-c", "SELECT 1 AS a", "-c", "SELEC oops", "-c", "SELECT 2 AS b")
    assert proc.returncode == 1
    assert proc.stdout.decode() == "a\n1\n"
    stderr = proc.stderr.decode()
    assert stderr.startswith("error: ") and "syntax error" in stderr, stderr


def test_flightsql_unreachable_server_exits_1(flightsql_bin):
    proc = subprocess.run([flightsql_bin, "--uri", "grpc://127.0.0.1:1", "-c", "SELECT 1"], capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith("error: cannot connect to grpc://127.0.0.1:1")


def test_flightsql_runs_statements_from_stdin(flightsql_bin, server):
    script = (
        "SELECT id\n"
        "  FROM items\n"
        "\n"
        "  WHERE id = 2;\n"
        "SELECT 'a;b' AS s, 'c' AS t;\n"
        "\n"
        "SELECT 7 AS last"  # the end of input ends the last statement
    )
    out = ok(shell(flightsql_bin, server, "--format", "csv", stdin=script))
    assert out == "id\n2\ns,t\na;b,c\nlast\n7\n"


def test_flightsql_stdin_stops_at_first_error(flightsql_bin, server):
    proc = shell(flightsql_bin, server, "--format", "csv", stdin="SELECT 1 AS a;\nSELECT * FROM missing;\nSELECT 2 AS b;\n")
    assert proc.returncode == 1
    assert proc.stdout.decode() == "a\n1\n"
    assert proc.stderr.decode().startswith("error: ") and "missing" in proc.stderr.decode()


def test_flightsql_tables_and_describe_from_stdin(flightsql_bin, server):
    out = ok(shell(flightsql_bin, server, stdin="\\format csv\n\\tables\n\\tables %tags\n\\describe item_tags\n"))
    blocks = out.split("name,type,schema\n")
    assert blocks[0] == ""
    assert set(blocks[1].splitlines()) == {"items,TABLE,main", "item_tags,TABLE,main", "item_names,VIEW,main"}
    describe = "column,type,nullable,sql_type\n"
    assert blocks[2].startswith("item_tags,TABLE,main\n" + describe)
    assert blocks[2].split(describe)[1].splitlines() == ["item_id,int64,false,INTEGER", "tag,utf8,false,VARCHAR(20)"]


def test_flightsql_tables_pattern_and_describe_in_table_format(flightsql_bin, server):
    out = ok(shell(flightsql_bin, server, stdin="\\tables item%s\n\\describe items\n\\timing off\nSELECT 1 AS one;\n"))
    assert re.search(r"^items\s+\| TABLE\s+\| main$", out, re.M), out
    assert "item_names" in out and "item_tags" in out
    assert re.search(r"^price\s+\| float64\s+\| true\s+\| REAL$", out, re.M), out
    assert re.search(r"^data\s+\| binary\s+\| true\s+\| BLOB$", out, re.M), out
    assert out.rstrip().endswith("(1 row)")
    assert "flightsql>" not in out


def test_flightsql_unknown_command_and_usage_errors(flightsql_bin, server):
    proc = shell(flightsql_bin, server, stdin="\\nope\nSELECT 1;\n")
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith("error: unknown command \\nope")
    assert proc.stdout.decode() == ""
    proc = shell(flightsql_bin, server, "-c", "\\describe no_such_table")
    assert proc.returncode == 1
    assert "no table named no_such_table" in proc.stderr.decode()


def test_flightsql_over_tls_with_basic_auth(flightsql_bin, start_sql_server, database, tmp_path):
    users = tmp_path / "users"
    users.write_text("bob:plain\n")
    server = start_sql_server("--database", database, "--auth", "basic", "--users-file", users,
                              "--tls-cert", FLIGHT_CERTS / "cert0.pem", "--tls-key", FLIGHT_CERTS / "cert0.key")
    uri = f"grpc+tls://localhost:{server.port}"
    base = [flightsql_bin, "--uri", uri, "--tls-root-certs", FLIGHT_CERTS / "root-ca.pem", "--format", "csv"]
    proc = subprocess.run([*map(str, base), "--username", "bob", "--password", "plain", "-c", "SELECT count(*) AS n FROM items"],
                          capture_output=True, timeout=60)
    assert ok(proc) == f"n\n{len(ROWS)}\n"
    proc = subprocess.run([*map(str, base), "-c", "SELECT 1"], capture_output=True, timeout=60)
    assert proc.returncode == 1 and proc.stderr.decode().startswith("error: "), proc.stderr.decode()
    proc = subprocess.run([*map(str, base), "--username", "bob", "--password", "wrong", "-c", "SELECT 1"],
                          capture_output=True, timeout=60)
    assert proc.returncode == 1 and proc.stderr.decode().startswith("error: cannot authenticate as bob: "), proc.stderr.decode()


@pytest.mark.parametrize("suffix", ["arrows", "arrow", "parquet"])
def test_flightsql_out_writes_the_result_file_by_its_extension(flightsql_bin, start_sql_server, tmp_path, suffix):
    import pyarrow as pa
    import pyarrow.parquet as pq
    path = tmp_path / "big.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (i INTEGER, s TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?)", ((i, f"s{i}") for i in range(50_000)))
    db.commit()
    db.close()
    server = start_sql_server("--database", path)
    target = tmp_path / f"out.{suffix}"
    out = ok(shell(flightsql_bin, server, "--out", target, "--parallel", "2", "-c", "SELECT i, s FROM t ORDER BY i DESC"))
    assert out.startswith("wrote 50") and out.strip().endswith(f" to {target}"), out
    if suffix == "parquet":
        table = pq.read_table(target)
    elif suffix == "arrow":
        table = pa.ipc.open_file(target).read_all()
    else:
        table = pa.ipc.open_stream(target).read_all()
    assert table.column("i").to_pylist() == list(range(49_999, -1, -1))
    assert table.column("s").to_pylist() == [f"s{i}" for i in range(49_999, -1, -1)]
    assert not list(tmp_path.glob("out.*.partial-*"))


def test_flightsql_out_refuses_an_unknown_extension(flightsql_bin, server, tmp_path):
    proc = shell(flightsql_bin, server, "--out", tmp_path / "x.csv", "-c", "SELECT 1")
    assert proc.returncode == 64 and b".arrows, .arrow or .parquet" in proc.stderr
