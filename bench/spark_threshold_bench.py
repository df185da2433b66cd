"""Where the Spark engine's auto rule should switch from direct to distributed: the same scans
of growing tables read through gateway nodes in `direct` mode and in `distributed` mode, the
latter both with Spark writing the result (a node started with `--no-table-files`) and served
from the table's own files (the default), on one Spark Connect server (pyspark's, local[2])
started by this run.

For each table: Spark's size estimate of the scan (the `sizeInBytes` of the optimized plan that
`explain(mode="cost")` prints, which the auto rule compares with its thresholds), then the three
ways in turn for 5 rounds, each measurement repeating the read (ADBC Flight SQL driver, whole
result to a pyarrow Table) for at least a second; medians with minimum and maximum, and direct
over each distributed way (above 1: distributed is faster).

Usage: python bench/spark_threshold_bench.py PATH_TO_FLIGHT_SQL_SERVER
"""
import contextlib
import io
import pathlib
import re
import statistics
import sys
import tempfile
import warnings

import adbc_driver_flightsql.dbapi as flightsql

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "interop"))
from measure import ROUNDS, per_op, spread  # noqa: E402
from spark_bench import start_gateway  # noqa: E402
from spark_connect import SparkConnectServer  # noqa: E402

warnings.filterwarnings("ignore")
UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
INTS = [100_000, 400_000, 1_000_000, 2_500_000, 5_000_000, 7_500_000, 10_000_000]
MIXED = [250_000, 1_000_000, 2_500_000, 5_000_000]


def estimate(spark, sql: str) -> float:
    """Spark's sizeInBytes of the optimized plan, in bytes."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        spark.sql(sql).explain(mode="cost")
    plan = text.getvalue().split("== Optimized Logical Plan ==")[-1]
    number, unit = re.search(r"sizeInBytes=([0-9.E+]+) ?([KMGT]?i?B)?", plan).groups()
    return float(number) * UNITS.get(unit or "B", 1)


def main():
    server = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        spark_server = SparkConnectServer(tmp / "spark", driver_memory="4g")
        spark_server.start()
        gateways = []
        try:
            from pyspark.sql import SparkSession
            spark = SparkSession.builder.remote(spark_server.address).getOrCreate()
            tables = []
            for rows in INTS:
                spark.sql(f"CREATE TABLE ints_{rows} USING parquet AS SELECT id AS a, id * 2 AS b, id * 3 AS c, id * 5 AS d "
                          f"FROM range({rows})")
                tables.append((f"ints_{rows}", rows))
            for rows in MIXED:
                spark.sql(f"""CREATE TABLE mixed_{rows} USING parquet AS SELECT id,
                              concat('label-', lpad(CAST(id AS STRING), 10, '0')) AS label,
                              CAST(id / 100 AS DECIMAL(18, 2)) AS amount, timestamp_seconds(1700000000 + id) AS at,
                              date_add(DATE'2020-01-01', CAST(id % 2000 AS INT)) AS day FROM range({rows})""")
                tables.append((f"mixed_{rows}", rows))
            gateway, location = start_gateway(server, spark_server.address, tmp / "staging", tmp / "gateway.log")
            writer, writer_location = start_gateway(server, spark_server.address, tmp / "staging-written", tmp / "writer.log",
                                                    "--no-table-files")
            gateways.extend([gateway, writer])
            connections = {"direct": flightsql.connect(location), "Spark writes": flightsql.connect(writer_location),
                           "table files": flightsql.connect(location)}
            for mode, conn in connections.items():
                conn.adbc_connection.set_options(**{"adbc.flight.sql.session.option.execution_mode":
                                                    "direct" if mode == "direct" else "distributed"})

            def read(mode, sql):
                with connections[mode].cursor() as cursor:
                    cursor.execute(sql)
                    return cursor.fetch_arrow_table()

            print(f"Spark {spark.version}, local[2]; {ROUNDS} rounds, each measurement >= 1 s; seconds per read, median (min-max)")
            print("| table | rows | Arrow MB | Spark's estimate, MiB | direct s | distributed, Spark writes, s | "
                  "distributed, table files, s | direct / Spark writes | direct / table files |")
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for name, rows in tables:
                sql = f"SELECT * FROM {name}"
                size = estimate(spark, sql)
                arrow_mb = read("direct", sql).nbytes / 1e6
                times = {mode: [] for mode in connections}
                for _ in range(ROUNDS):
                    for mode in times:
                        times[mode].append(per_op(lambda mode=mode: read(mode, sql)))
                direct = statistics.median(times["direct"])
                print(f"| {name.split('_')[0]} | {rows:,} | {arrow_mb:.0f} | {size / (1 << 20):.1f} | {spread(times['direct'], '{:.3f}')} "
                      f"| {spread(times['Spark writes'], '{:.3f}')} | {spread(times['table files'], '{:.3f}')} "
                      f"| {direct / statistics.median(times['Spark writes']):.2f}x "
                      f"| {direct / statistics.median(times['table files']):.2f}x |", flush=True)
            for conn in connections.values():
                conn.close()
            spark.stop()
        finally:
            for gateway in gateways:
                gateway.terminate()
                gateway.wait(timeout=30)
            spark_server.stop()


if __name__ == "__main__":
    main()
