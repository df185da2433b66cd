#!/usr/bin/env bash
# A local cluster: one ZooKeeper (Debian's package) and three flight-sql-server nodes on
# 127.0.0.1 serving one read-only copy of the demo database. Ctrl-C stops everything.
#   scripts/cluster.sh SERVER_BINARY [NODES]
set -euo pipefail
server=$(realpath "$1")
nodes=${2:-3}
work=$(mktemp -d /tmp/swift-arrow-flight-cluster.XXXXXX)
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping the cluster"
  # The nodes first, so that they leave the cluster while ZooKeeper is still there.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup INT TERM EXIT


# ZooKeeper, with a configuration and data of its own.
source "$(dirname "$0")/zookeeper.sh"
start_zookeeper "$work"
pids+=("$zk_pid")
echo "zookeeper: 127.0.0.1:$zk_port (log: $work/zookeeper/zookeeper.log)"

# The demo database, made once by the server itself (it creates demo.sqlite when given none).
(cd "$work" && exec "$server" --port 0 > "$work/create.out" 2> "$work/create.log") &
creator=$!
for _ in $(seq 1 100); do grep -q listening "$work/create.out" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$creator"; wait "$creator" || true
head -c 32 /dev/urandom > "$work/cluster.secret"

for i in $(seq 1 "$nodes"); do
  "$server" --host 127.0.0.1 --port 0 --database "$work/demo.sqlite" --read-only \
    --zookeeper "127.0.0.1:$zk_port" --node-id "node-$i" --cluster-secret-file "$work/cluster.secret" \
    > "$work/node-$i.out" 2> "$work/node-$i.log" &
  pids+=($!)
done
for i in $(seq 1 "$nodes"); do
  for _ in $(seq 1 200); do grep -q listening "$work/node-$i.out" 2>/dev/null && break; sleep 0.1; done
  echo "node-$i: $(sed -n 's/^listening on //p' "$work/node-$i.out") (log: $work/node-$i.log)"
done
echo "Connect to any node, e.g. .build/release/flightsql --uri $(sed -n 's/^listening on //p' "$work/node-1.out") -c 'SELECT * FROM customers'"
echo "Ctrl-C stops the cluster."
wait
