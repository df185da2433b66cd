"""Shared fixtures of the interop suite: paths to our tools and to the shared test data, and our
Flight servers started as subprocesses."""
import os
import pathlib
import re
import select
import signal
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = ROOT.parent / "shared" / "testdata" / "arrow-testing" / "data"
GOLD = TESTDATA / "arrow-ipc-stream" / "integration" / "cpp-21.0.0"
GOLD_CASES = sorted(p.name[: -len(".json.gz")] for p in GOLD.glob("*.json.gz"))


@pytest.fixture(scope="session")
def arrow_integration() -> str:
    """Path of our arrow-integration binary (built by `make test`)."""
    path = os.environ.get("ARROW_INTEGRATION", str(ROOT / ".build" / "debug" / "arrow-integration"))
    assert os.access(path, os.X_OK), f"{path} is not built"
    return path


def run(args, stdin: bytes | None = None) -> bytes:
    """Runs a command, failing the test with its stderr when it exits non-zero."""
    proc = subprocess.run([str(a) for a in args], input=stdin, capture_output=True, timeout=120)
    assert proc.returncode == 0, f"{args[1]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}"
    return proc.stdout


# --- Flight: our executables as subprocesses, pyarrow's server in-process --------------------

FLIGHT_CERTS = TESTDATA / "flight"


def _executable(variable: str, name: str) -> str:
    path = os.environ.get(variable, str(ROOT / ".build" / "debug" / name))
    assert os.access(path, os.X_OK), f"{path} is not built (set {variable})"
    return path


@pytest.fixture(scope="session")
def parquet_flight_server_bin() -> str:
    """Path of the `parquet-flight-server` example."""
    return _executable("PARQUET_FLIGHT_SERVER", "parquet-flight-server")


@pytest.fixture(scope="session")
def flight_cli() -> str:
    """Path of our `flight` client CLI."""
    return _executable("FLIGHT_CLI", "flight")


@pytest.fixture(scope="session")
def flight_file_server_bin() -> str:
    """Path of our `flight-file-server` example."""
    return _executable("FLIGHT_FILE_SERVER", "flight-file-server")


@pytest.fixture(scope="session")
def flight_bench_bin() -> str:
    """Path of our `flight-bench` (its `serve` is a server of an endless-looking synthetic stream)."""
    return _executable("FLIGHT_BENCH", "flight-bench")


class ServerProcess:
    """One of our servers as a subprocess. It must print `listening on <location>` as its first
    line of standard output; its standard error goes to a log file shown when something fails."""

    def __init__(self, args, log_path: pathlib.Path, startup_timeout: float = 20.0):
        self.args = [str(a) for a in args]
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=log)
        line = self._first_line(startup_timeout)
        match = re.fullmatch(r"listening on (\S+)", line)
        if not match:
            self.kill()
            raise AssertionError(f"{self.args[0]} printed {line!r} instead of its location; log:\n{self.log()}")
        self.location = match.group(1)
        self.port = int(self.location.rsplit(":", 1)[1])

    def _first_line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        data = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None and not select.select([fd], [], [], 0)[0]:
                self.kill()
                raise AssertionError(f"{self.args[0]} did not print its location; log:\n{self.log()}")
            if select.select([fd], [], [], min(remaining, 0.5))[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.proc.wait(timeout=5)
                    raise AssertionError(f"{self.args[0]} exited {self.proc.returncode}; log:\n{self.log()}")
                data += chunk
        return data.split(b"\n", 1)[0].decode()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Sends `sig` and returns the exit status (killing the process if it does not exit in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"{self.args[0]} did not exit within {timeout} s of signal {sig}; log:\n{self.log()}")
        self.proc.stdout.close()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class ServerStarter:
    """Starts one of our servers as often as a test asks; `finish` stops every one with
    SIGTERM and fails the test unless each exits 0 (a clean shutdown)."""

    def __init__(self, binary: str, name: str, tmp_path_factory):
        self.binary, self.name, self.tmp_path_factory = binary, name, tmp_path_factory
        self.started: list[ServerProcess] = []

    def start(self, *args) -> ServerProcess:
        log = self.tmp_path_factory.mktemp("log") / f"{self.name}.log"
        server = ServerProcess([self.binary, *args], log)
        self.started.append(server)
        return server

    def finish(self) -> None:
        failures = []
        for server in self.started:
            status = server.stop()
            if status != 0:
                failures.append(f"exit status {status}; log:\n{server.log()}")
        assert not failures, f"{self.name} did not shut down cleanly: " + "\n".join(failures)


@pytest.fixture
def start_file_server(flight_file_server_bin, tmp_path_factory):
    """Starts `flight-file-server --root ROOT --host 127.0.0.1 --port 0 [args]`; every server
    started is stopped with SIGTERM at the end of the test and must exit 0."""
    starter = ServerStarter(flight_file_server_bin, "flight-file-server", tmp_path_factory)
    yield lambda root, *args: starter.start("--root", root, "--host", "127.0.0.1", "--port", "0", *args)
    starter.finish()


@pytest.fixture(scope="module")
def file_server_root(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("served")


@pytest.fixture(scope="module")
def file_server(flight_file_server_bin, file_server_root, tmp_path_factory):
    """One plaintext flight-file-server for a module's tests, serving `file_server_root`."""
    log = tmp_path_factory.mktemp("log") / "flight-file-server.log"
    server = ServerProcess([flight_file_server_bin, "--root", file_server_root, "--host", "127.0.0.1", "--port", "0"], log)
    yield server
    status = server.stop()
    assert status == 0, f"flight-file-server exited {status}; log:\n{server.log()}"


@pytest.fixture
def start_flight_bench(flight_bench_bin, tmp_path_factory):
    """Starts `flight-bench serve` on 127.0.0.1 port 0 with extra args; killed at the end."""
    started: list[ServerProcess] = []

    def start(*args) -> ServerProcess:
        log = tmp_path_factory.mktemp("log") / "flight-bench.log"
        server = ServerProcess([flight_bench_bin, "serve", "--host", "127.0.0.1", "--port", "0", *args], log)
        started.append(server)
        return server

    yield start
    for server in started:
        assert server.stop() == 0, f"flight-bench serve did not stop cleanly; log:\n{server.log()}"


def run_cli(args, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Runs our `flight` CLI (args[0]) and returns the finished process, whatever its exit status."""
    return subprocess.run([str(a) for a in args], capture_output=True, timeout=timeout)


# --- Flight SQL: flight-sql-server as a subprocess ---------------------------------------------

@pytest.fixture(scope="session")
def flight_sql_server_bin() -> str:
    """Path of our `flight-sql-server` (the gateway)."""
    return _executable("FLIGHT_SQL_SERVER", "flight-sql-server")


@pytest.fixture(scope="session")
def flightsql_bin() -> str:
    """Path of our `flightsql` shell."""
    return _executable("FLIGHTSQL", "flightsql")


@pytest.fixture
def start_sql_server(flight_sql_server_bin, tmp_path_factory):
    """Starts `flight-sql-server --host 127.0.0.1 --port 0 [args]`; every server started is
    stopped with SIGTERM at the end of the test and must exit 0."""
    starter = ServerStarter(flight_sql_server_bin, "flight-sql-server", tmp_path_factory)
    yield lambda *args: starter.start("--host", "127.0.0.1", "--port", "0", "--log-level", "debug", *args)
    starter.finish()
