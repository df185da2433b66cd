"""Backpressure: our server streaming 4 GB to a pyarrow client that reads slowly keeps its
resident memory bounded (a writer waits for the client instead of buffering)."""
import os
import pathlib
import subprocess
import threading
import time

import pyarrow.flight as fl

from conftest import ROOT

LIMIT_KB = 256 * 1024


def flight_bench() -> str:
    path = os.environ.get("FLIGHT_BENCH", str(ROOT / ".build" / "debug" / "flight-bench"))
    assert os.access(path, os.X_OK), f"{path} is not built"
    return path


def peak_rss_kb(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def test_server_memory_stays_bounded_for_a_slow_reader():
    rows = 125_000_000  # 4 int64 columns: 4 GB
    server = subprocess.Popen([flight_bench(), "serve", "--port", "0", "--rows", str(rows)], stdout=subprocess.PIPE, text=True)
    try:
        uri = server.stdout.readline().strip().split()[-1]
        client = fl.connect(uri)
        total = 0
        start = time.monotonic()
        for i, chunk in enumerate(client.do_get(fl.Ticket(b"x"))):
            total += chunk.data.num_rows
            if i < 100:
                time.sleep(0.02)  # a slow reader at first: the server must wait, not buffer
            assert time.monotonic() - start < 120
        assert total == rows
        assert peak_rss_kb(server.pid) < LIMIT_KB, f"server peaked at {peak_rss_kb(server.pid)} kB"
    finally:
        server.terminate()
        server.wait(timeout=10)
