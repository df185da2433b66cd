# The two commands: `make run` (main job) and `make test` (every test).
# Both install what they need first, idempotently: Debian packages and the project venv.

SHELL := /bin/bash
APT_PACKAGES := pkg-config openssl liblz4-dev libzstd-dev libnghttp2-dev libssl-dev libsqlite3-dev libedit-dev libzookeeper-mt-dev zookeeper iproute2 libsnappy-dev zlib1g-dev libbrotli-dev time
VENV := .venv
PYTHON := $(VENV)/bin/python
DEPS_STAMP := .build-deps/stamp

.PHONY: run cluster spark-demo integration-check test deps apt venv build swift-test interop-test bench bench-cluster clean

run: deps
	swift build -c release --product flight-sql-server
	.build/release/flight-sql-server $(RUN_ARGS)

# A local cluster: ZooKeeper and three read-only flight-sql-server nodes; Ctrl-C stops it.
cluster: deps
	swift build -c release --product flight-sql-server
	scripts/cluster.sh .build/release/flight-sql-server

# The Spark engine: a local Spark Connect server with demo tables, ZooKeeper, two gateway nodes
# with --engine spark; Ctrl-C stops it.
spark-demo: deps
	swift build -c release --product flight-sql-server
	swift build -c release --product flightsql
	scripts/spark-demo.sh .build/release/flight-sql-server $(PYTHON)

# The Arrow integration check over every gold file (what `make run` did before the gateway).
integration-check: deps
	swift build -c release --product arrow-integration
	scripts/integration-check.sh .build/release/arrow-integration

test: deps swift-test interop-test

deps: apt venv

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

venv: $(DEPS_STAMP)

$(DEPS_STAMP): requirements.txt
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r requirements.txt
	@mkdir -p $(dir $@) && touch $@

build:
	swift build

swift-test:
	swift build --build-tests
	swift test --skip-build

interop-test:
	swift build --product arrow-integration
	swift build --product ArrowCDataBridge
	swift build --product flight
	swift build --product flight-file-server
	swift build --product flight-bench
	swift build --product flight-sql-server
	swift build --product flightsql
	swift build --product parquet
	swift build --product parquet-flight-server
	ARROW_INTEGRATION=$(CURDIR)/.build/debug/arrow-integration \
	ARROW_CDATA_BRIDGE=$(CURDIR)/.build/debug/libArrowCDataBridge.so \
	FLIGHT_CLI=$(CURDIR)/.build/debug/flight \
	FLIGHT_FILE_SERVER=$(CURDIR)/.build/debug/flight-file-server \
	FLIGHT_BENCH=$(CURDIR)/.build/debug/flight-bench \
	FLIGHT_SQL_SERVER=$(CURDIR)/.build/debug/flight-sql-server \
	FLIGHTSQL=$(CURDIR)/.build/debug/flightsql \
	PARQUET=$(CURDIR)/.build/debug/parquet \
	PARQUET_FLIGHT_SERVER=$(CURDIR)/.build/debug/parquet-flight-server \
	  $(PYTHON) -m pytest -q tests/interop

bench: deps
	swift build -c release --product arrow-bench
	swift build -c release --product flight-bench
	swift build -c release --product flight-sql-server
	swift build -c release --product parquet
	$(PYTHON) bench/ipc_bench.py .build/release/arrow-bench
	$(PYTHON) bench/flight_bench.py .build/release/flight-bench
	$(PYTHON) bench/flight_server_cpu.py .build/release/flight-bench
	$(PYTHON) bench/flightsql_bench.py .build/release/flight-sql-server
	$(PYTHON) bench/parquet_bench.py .build/release/arrow-bench
	$(PYTHON) bench/parquet_read_bench.py .build/release/arrow-bench .build/release/parquet
	$(PYTHON) bench/parquet_write_bench.py .build/release/arrow-bench
	$(PYTHON) bench/spark_bench.py .build/release/flight-sql-server
	$(PYTHON) bench/spark_threshold_bench.py .build/release/flight-sql-server

# Cluster benchmarks (root: network namespaces and tc); results in BENCHMARKS.md.
bench-cluster: deps
	swift build -c release --product flight-bench
	swift build -c release --product parquet-flight-server
	swift build -c release --product flight
	$(PYTHON) bench/cluster_bench.py .build/release/flight-bench
	$(PYTHON) bench/datasource_bench.py .build/release/flight-bench .build/release/parquet-flight-server .build/release/flight

clean:
	rm -rf .build .build-deps
