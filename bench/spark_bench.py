"""The Spark engine against pyspark's own Spark Connect client, on one Spark Connect server
(pyspark's, local[2], driver memory DRIVER_MEMORY) started by this run.

1. Large results: `ints` (ROWS rows of four bigint columns) and `mixed` (ROWS/4 rows: bigint,
   a ~16-character string, decimal(18, 2), timestamp, date), read whole to a pyarrow Table by
   pyspark's `spark.sql(q).toArrow()` (the rows pass through Spark's driver), and by the ADBC
   Flight SQL driver through one gateway node in each execution mode (auto, direct,
   distributed). The sides take turns for 5 rounds; medians with minimum and maximum. For each,
   the driver's peak heap during the read (jstat samples every 100 ms: used young and old
   generations), as the growth over its heap before the read.
2. Small-query latency: a one-row lookup, p50 over many queries on one connection, through the
   gateway and through pyspark's client, in turn.

Usage: python bench/spark_bench.py PATH_TO_FLIGHT_SQL_SERVER [ROWS] [DRIVER_MEMORY]
"""
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import adbc_driver_flightsql.dbapi as flightsql

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "interop"))
from measure import ROUNDS, spread  # noqa: E402
from spark_connect import SparkConnectServer  # noqa: E402

warnings.filterwarnings("ignore")
LOOKUPS = 200


class HeapSampler:
    """The driver JVM's used heap (MB), sampled by jstat while a read runs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.samples: list[float] = []
        self.proc = None

    @staticmethod
    def used(line: str) -> float | None:
        fields = line.split()
        try:
            s0u, s1u, eu, ou = float(fields[2]), float(fields[3]), float(fields[5]), float(fields[7])
        except (IndexError, ValueError):
            return None
        return (s0u + s1u + eu + ou) / 1024

    def __enter__(self):
        self.proc = subprocess.Popen(["jstat", "-gc", str(self.pid), "100"], stdout=subprocess.PIPE, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        time.sleep(0.3)
        self.before = self.samples[-1] if self.samples else 0.0
        return self

    def _read(self):
        for line in self.proc.stdout:
            value = self.used(line)
            if value is not None:
                self.samples.append(value)

    def __exit__(self, *exc):
        time.sleep(0.2)
        self.proc.terminate()
        self.proc.wait()

    @property
    def growth(self) -> float:
        return max(self.samples, default=0.0) - self.before


def start_gateway(server: str, spark_address: str, staging: pathlib.Path, log: pathlib.Path, *flags: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([server, "--engine", "spark", "--spark-connect", spark_address, "--staging-dir", str(staging),
                             "--host", "127.0.0.1", "--port", "0", *flags], stdout=subprocess.PIPE, stderr=open(log, "wb"), text=True)
    line = proc.stdout.readline()
    assert line.startswith("listening on "), f"the gateway printed {line!r}; log:\n{log.read_text()}"
    return proc, line.split()[-1]


def main():
    server = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    driver_memory = sys.argv[3] if len(sys.argv) > 3 else "4g"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        spark_server = SparkConnectServer(tmp / "spark", driver_memory=driver_memory)
        spark_server.start()
        gateway = None
        try:
            from pyspark.sql import SparkSession
            spark = SparkSession.builder.remote(spark_server.address).getOrCreate()
            spark.sql(f"CREATE TABLE ints USING parquet AS SELECT id AS a, id * 2 AS b, id * 3 AS c, id * 5 AS d FROM range({rows})")
            spark.sql(f"""CREATE TABLE mixed USING parquet AS SELECT id, concat('label-', lpad(CAST(id AS STRING), 10, '0')) AS label,
                          CAST(id / 100 AS DECIMAL(18, 2)) AS amount, timestamp_seconds(1700000000 + id) AS at,
                          date_add(DATE'2020-01-01', CAST(id % 2000 AS INT)) AS day FROM range({rows // 4})""")
            spark.sql("CREATE TABLE lookup USING parquet AS SELECT id, concat('name-', id) AS name FROM range(1000)")
            gateway, location = start_gateway(server, spark_server.address, tmp / "staging", tmp / "gateway.log")
            jvm = spark_server.jvm_pid()
            print(f"Spark {spark.version}, local[2], driver memory {driver_memory}; {rows:,} rows; {ROUNDS} rounds, median (min-max)")

            connections = {mode: flightsql.connect(location) for mode in ("auto", "direct", "distributed")}
            for mode, conn in connections.items():
                conn.adbc_connection.set_options(**{"adbc.flight.sql.session.option.execution_mode": mode})

            def ours(mode, sql):
                with connections[mode].cursor() as cursor:
                    cursor.execute(sql)
                    return cursor.fetch_arrow_table()

            sides = [("pyspark toArrow", lambda sql: spark.sql(sql).toArrow())] + \
                    [(f"gateway {mode}", lambda sql, mode=mode: ours(mode, sql)) for mode in ("auto", "direct", "distributed")]
            for table in ("ints", "mixed"):
                sql = f"SELECT * FROM {table}"
                times = {name: [] for name, _ in sides}
                heaps = {name: [] for name, _ in sides}
                expected = None
                for _ in range(ROUNDS):
                    for name, read in sides:
                        with HeapSampler(jvm) as heap:
                            start = time.perf_counter()
                            result = read(sql)
                            times[name].append(time.perf_counter() - start)
                        heaps[name].append(heap.growth)
                        expected = expected or result.num_rows
                        assert result.num_rows == expected, (name, result.num_rows)
                        del result
                print(f"\n`{sql}` ({expected:,} rows)")
                print("| reader | seconds | vs pyspark | driver heap growth, MB |")
                print("|---|---|---|---|")
                base = statistics.median(times["pyspark toArrow"])
                for name, _ in sides:
                    print(f"| {name} | {spread(times[name])} | {base / statistics.median(times[name]):.2f}x | {spread(heaps[name], '{:.0f}')} |")

            lookup = "SELECT name FROM lookup WHERE id = {}"
            latencies = {"pyspark": [], "gateway": []}
            with connections["auto"].cursor() as cursor:
                for i in range(LOOKUPS):
                    start = time.perf_counter()
                    spark.sql(lookup.format(i % 1000)).toArrow()
                    latencies["pyspark"].append(time.perf_counter() - start)
                    start = time.perf_counter()
                    cursor.execute(lookup.format(i % 1000))
                    cursor.fetch_arrow_table()
                    latencies["gateway"].append(time.perf_counter() - start)
            print(f"\nOne-row lookup, {LOOKUPS} queries each, in turn")
            print("| client | p50 ms | p90 ms |")
            print("|---|---|---|")
            for name, values in latencies.items():
                values.sort()
                print(f"| {name} | {1000 * statistics.median(values):.1f} | {1000 * values[int(len(values) * 0.9)]:.1f} |")
            for conn in connections.values():
                conn.close()
            spark.stop()
        finally:
            if gateway:
                gateway.terminate()
                gateway.wait(timeout=30)
            spark_server.stop()


if __name__ == "__main__":
    main()
