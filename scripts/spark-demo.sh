#!/usr/bin/env bash
# The Spark engine on one machine: a local Spark Connect server (pyspark's, local[2], on the
# machine's Java 17) with a few demo tables, one ZooKeeper, and two flight-sql-server nodes
# with --engine spark sharing one staging directory. Ctrl-C stops everything.
#   scripts/spark-demo.sh SERVER_BINARY PYTHON
set -euo pipefail
server=$(realpath "$1")
python="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/swift-arrow-flight-spark.XXXXXX)
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping the demo"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM -- "-${pids[i]}" 2>/dev/null || kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup INT TERM EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Spark Connect, in a process group of its own (the JVM is a child of Spark's scripts).
spark_home=$("$python" -c 'import pathlib, pyspark; print(pathlib.Path(pyspark.__file__).parent)')
spark_port=$(free_port)
mkdir -p "$work/spark"
(cd "$work/spark" && exec setsid env SPARK_HOME="$spark_home" SPARK_LOG_DIR="$work/spark/logs" SPARK_PID_DIR="$work/spark/pids" \
  "$spark_home/sbin/start-connect-server.sh" --wait --master "local[2]" \
  --conf "spark.connect.grpc.binding.port=$spark_port" --conf spark.connect.grpc.binding.address=127.0.0.1 \
  --conf "spark.sql.warehouse.dir=$work/spark/warehouse" \
  --conf "spark.driver.extraJavaOptions=-Dderby.system.home=$work/spark/derby" > "$work/spark/spark.log" 2>&1) &
pids+=($!)
for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$spark_port") 2>/dev/null && break; sleep 0.2; done
echo "spark connect: sc://127.0.0.1:$spark_port (log: $work/spark/spark.log)"

# Demo tables in Spark's catalog, made with pyspark's own Spark Connect client.
"$python" - "sc://127.0.0.1:$spark_port" <<'PY' 2>/dev/null
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
spark.sql("CREATE TABLE customers (id BIGINT, name STRING, city STRING, since DATE) USING parquet")
spark.sql("""INSERT INTO customers VALUES (1, 'Ada', 'London', DATE'2019-03-01'), (2, 'Grace', 'New York', DATE'2020-07-15'),
             (3, 'Alan', 'Manchester', DATE'2021-01-30'), (4, 'Edsger', 'Amsterdam', NULL)""")
spark.sql("""CREATE TABLE orders USING parquet AS
             SELECT id, 1 + id % 4 AS customer_id, CAST(round(rand(7) * 1000, 2) AS DECIMAL(10, 2)) AS amount,
                    timestamp_seconds(1700000000 + id * 37) AS placed_at
             FROM range(2000000)""")
spark.sql("CREATE VIEW big_customers AS SELECT c.name, sum(o.amount) AS total FROM orders o JOIN customers c ON o.customer_id = c.id GROUP BY c.name")
print("tables: customers (4 rows), orders (2,000,000 rows), view big_customers")
PY

# ZooKeeper, with a configuration and data of its own.
source "$(dirname "$0")/zookeeper.sh"
start_zookeeper "$work"
pids+=("$zk_pid")
echo "zookeeper: 127.0.0.1:$zk_port"

head -c 32 /dev/urandom > "$work/cluster.secret"
mkdir -p "$work/staging"
for i in 1 2; do
  "$server" --engine spark --spark-connect "sc://127.0.0.1:$spark_port" --staging-dir "$work/staging" \
    --host 127.0.0.1 --port 0 --zookeeper "127.0.0.1:$zk_port" --node-id "node-$i" --cluster-secret-file "$work/cluster.secret" \
    > "$work/node-$i.out" 2> "$work/node-$i.log" &
  pids+=($!)
done
for i in 1 2; do
  for _ in $(seq 1 300); do grep -q listening "$work/node-$i.out" 2>/dev/null && break; sleep 0.1; done
  echo "node-$i: $(sed -n 's/^listening on //p' "$work/node-$i.out") (log: $work/node-$i.log)"
done
first=$(sed -n 's/^listening on //p' "$work/node-1.out")
echo
echo "Small results come direct from Spark's driver; large ones are written by Spark into $work/staging and served by both nodes:"
echo "  $root/.build/release/flightsql --uri $first -c 'SELECT * FROM customers'"
echo "  $root/.build/release/flightsql --uri $first -c 'SELECT * FROM orders' --out /tmp/orders.parquet"
echo "Ctrl-C stops the demo."
wait
