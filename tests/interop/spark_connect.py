"""A real Spark Connect server (pyspark's, from the venv, on the machine's Java 17) for the
interop tests and `make spark-demo`: started in the foreground of its own process group,
with its warehouse, logs and event files in a directory of its own."""
import os
import pathlib
import signal
import socket
import subprocess
import time

import pyspark

SPARK_HOME = pathlib.Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SparkConnectServer:
    def __init__(self, directory: pathlib.Path, port: int | None = None, cores: int = 2, driver_memory: str | None = None):
        self.directory = pathlib.Path(directory)
        self.driver_memory = driver_memory
        self.port = port or free_port()
        self.ui_port = free_port()
        self.cores = cores
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> pathlib.Path:
        return self.directory / "spark-connect.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 180.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, SPARK_HOME=str(SPARK_HOME), SPARK_LOG_DIR=str(self.directory / "logs"),
                   SPARK_PID_DIR=str(self.directory / "pids"), SPARK_NO_DAEMONIZE="1")
        args = [str(SPARK_HOME / "sbin" / "start-connect-server.sh"), "--wait", "--master", f"local[{self.cores}]",
                "--conf", f"spark.connect.grpc.binding.port={self.port}",
                "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
                "--conf", f"spark.ui.port={self.ui_port}",
                "--conf", f"spark.sql.warehouse.dir={self.directory / 'warehouse'}",
                "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={self.directory / 'derby'}",
                "--conf", "spark.sql.shuffle.partitions=4"]
        if self.driver_memory:
            args += ["--driver-memory", self.driver_memory]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.directory,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"Spark Connect exited {self.proc.returncode}; log:\n{self.log()[-4000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"Spark Connect did not listen within {timeout} s; log:\n{self.log()[-4000:]}")
                time.sleep(0.5)

    def running_jobs(self) -> list[dict]:
        """The jobs Spark's status API lists as running."""
        import json
        import urllib.request
        base = f"http://127.0.0.1:{self.ui_port}/api/v1/applications"
        with urllib.request.urlopen(base, timeout=5) as response:
            application = json.load(response)[0]["id"]
        with urllib.request.urlopen(f"{base}/{application}/jobs?status=running", timeout=5) as response:
            return json.load(response)

    def jvm_pid(self) -> int | None:
        """The process id of Spark's JVM (a child of Spark's scripts, in their process group)."""
        if self.proc is None:
            return None
        for entry in pathlib.Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) == self.proc.pid and (entry / "comm").read_text().strip() == "java":
                    return int(entry.name)
            except (OSError, ProcessLookupError):
                continue
        return None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
