"""The Flight SQL gateway against in-process SQLite, both through ADBC, on the same file.

1. Large fetch: `SELECT * FROM big` (ROWS rows: int64 id, float64 value, ~20-byte text name,
   a nullable int64) read to a pyarrow Table by the ADBC Flight SQL driver through our
   flight-sql-server, and by the ADBC SQLite driver reading the file in this process, the two
   in turn for 5 rounds (each fetch is over a second); medians with minimum and maximum.
2. Queries that run once: two aggregates over the whole table (one row each), a GROUP BY over
   2 million rows giving 2,001 rows, and `SELECT * FROM big ... ORDER BY name` over 2 million
   rows, fetched whole through the gateway, by ADBC's SQLite in process, and by Python's
   sqlite3 (the system's SQLite, as the gateway's), in turn for 5 rounds of at least a second
   each.
3. Small-query latency: `SELECT name, value FROM big WHERE id = ?` with a random id, p50 and
   p99 over many queries, from 1 and from 16 concurrent clients (threads, one connection
   each), through the gateway and in process.

Usage: python bench/flightsql_bench.py PATH_TO_FLIGHT_SQL_SERVER [ROWS]
"""
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import adbc_driver_flightsql.dbapi as flightsql
import adbc_driver_sqlite.dbapi as adbc_sqlite

from measure import ROUNDS, per_op, spread

QUERIES_PER_CLIENT = 400


def make_database(path: Path, rows: int) -> None:
    db = sqlite3.connect(path)
    db.executescript(f"""
        PRAGMA journal_mode = WAL;
        CREATE TABLE big (id INTEGER PRIMARY KEY, value REAL NOT NULL, name TEXT NOT NULL, maybe INTEGER);
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {rows - 1})
        INSERT INTO big SELECT i, i * 0.25, printf('name-%012d-xyz', i), CASE WHEN i % 3 = 0 THEN NULL ELSE i END FROM n;
    """)
    db.commit()
    db.close()


def start_gateway(binary: str, database: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([binary, "--database", str(database), "--port", "0", "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode()
    match = re.fullmatch(r"listening on (\S+)\n", line)
    if not match:
        proc.kill()
        raise SystemExit(f"flight-sql-server printed {line!r}")
    return proc, match.group(1)


def fetch_all(connect) -> tuple[float, int]:
    """One fetch of the whole table (over a second at the default size): seconds and rows."""
    with connect() as conn, conn.cursor() as cur:
        start = time.perf_counter()
        cur.execute("SELECT * FROM big")
        table = cur.fetch_arrow_table()
        return time.perf_counter() - start, table.num_rows


RUN_ONCE_QUERIES = [
    ("count(*) of all rows", "SELECT count(*) AS n FROM big", 1),
    ("sum, max of a third of the rows", "SELECT sum(value) AS total, max(name) AS last FROM big WHERE maybe IS NULL", 1),
    ("GROUP BY, 2,001 groups of 2 M rows",
     "SELECT id % 2001 AS k, count(*) AS n, sum(value) AS total, max(name) AS last FROM big WHERE id < 2000000 GROUP BY k", 2001),
    ("ORDER BY name, 2 M rows", "SELECT * FROM big WHERE id < 2000000 ORDER BY name DESC", 2_000_000),
]


def debian_sqlite_seconds(database: Path, sql: str, expected: int) -> float:
    """The same query through Python's sqlite3 module, which links the SQLite library the gateway
    uses (Debian's), where ADBC's SQLite driver bundles a newer one. Rows end as Python tuples."""
    db = sqlite3.connect(database)
    try:
        def once():
            assert len(db.execute(sql).fetchall()) == expected
        return per_op(once)
    finally:
        db.close()


def query_seconds(connect, sql: str, expected: int) -> float:
    """Seconds per whole fetch of `sql` on one connection, repeated for at least a second."""
    with connect() as conn, conn.cursor() as cur:
        def once():
            cur.execute(sql)
            assert cur.fetch_arrow_table().num_rows == expected
        return per_op(once)


def latencies(connect, clients: int, rows: int) -> list[float]:
    samples: list[list[float]] = [[] for _ in range(clients)]

    def client(k: int) -> None:
        rng = random.Random(k)
        with connect() as conn, conn.cursor() as cur:
            for i in range(QUERIES_PER_CLIENT + 20):
                start = time.perf_counter()
                cur.execute("SELECT name, value FROM big WHERE id = ?", (rng.randrange(rows),))
                cur.fetchall()
                if i >= 20:  # the first queries warm the connection up
                    samples[k].append(time.perf_counter() - start)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [s for per in samples for s in per]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    binary = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "bench.sqlite"
        start = time.perf_counter()
        make_database(database, rows)
        print(f"# {rows:,} rows written in {time.perf_counter() - start:.1f} s ({database.stat().st_size / 1e6:.0f} MB)")
        proc, location = start_gateway(binary, database)
        try:
            def gateway():
                return flightsql.connect(location, autocommit=True)

            def in_process():
                return adbc_sqlite.connect(str(database))

            ours, theirs = [], []
            for _ in range(ROUNDS):
                seconds, n1 = fetch_all(gateway)
                ours.append(seconds)
                seconds, n2 = fetch_all(in_process)
                theirs.append(seconds)
                assert n1 == n2 == rows, (n1, n2, rows)
            print(f"\n## Large fetch ({ROUNDS} rounds, the two paths in turn; median (min-max))")
            print("| path | seconds | rows/s (median) |")
            print("|---|---|---|")
            print(f"| ADBC Flight SQL -> flight-sql-server | {spread(ours)} | {rows / statistics.median(ours) / 1e6:.2f} M |")
            print(f"| ADBC SQLite in process | {spread(theirs)} | {rows / statistics.median(theirs) / 1e6:.2f} M |")
            print(f"ratio of the medians, gateway / in-process: {statistics.median(ours) / statistics.median(theirs):.2f}x")

            print(f"\n## Queries that run once ({ROUNDS} rounds, the two paths in turn, each over a second; median (min-max))")
            print(f"SQLite: ADBC's driver bundles its own; the gateway and Python's sqlite3 use the system's {sqlite3.sqlite_version}")
            print("| query | gateway s | ADBC SQLite in process s | gateway / ADBC SQLite | Python sqlite3 s | gateway / Python sqlite3 |")
            print("|---|---|---|---|---|---|")
            for name, sql, expected in RUN_ONCE_QUERIES:
                if expected > 1 and rows < 2_000_000:
                    continue
                ours, theirs, same_library = [], [], []
                for _ in range(ROUNDS):
                    ours.append(query_seconds(gateway, sql, expected))
                    theirs.append(query_seconds(in_process, sql, expected))
                    same_library.append(debian_sqlite_seconds(database, sql, expected))
                ratio = statistics.median(ours) / statistics.median(theirs)
                print(f"| {name} | {spread(ours)} | {spread(theirs)} | {ratio:.2f}x | {spread(same_library)} | "
                      f"{statistics.median(ours) / statistics.median(same_library):.2f}x |")

            print(f"\n## Small-query latency ({QUERIES_PER_CLIENT} queries per client)")
            print("| path | clients | p50 ms | p99 ms | queries/s |")
            print("|---|---|---|---|---|")
            for clients in (1, 16):
                for name, connect in (("gateway", gateway), ("in process", in_process)):
                    start = time.perf_counter()
                    samples = latencies(connect, clients, rows)
                    elapsed = time.perf_counter() - start
                    print(f"| {name} | {clients} | {percentile(samples, 50) * 1e3:.2f} | {percentile(samples, 99) * 1e3:.2f} | "
                          f"{len(samples) / elapsed:.0f} |")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
