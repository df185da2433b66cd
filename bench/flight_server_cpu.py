"""CPU a Flight server spends per GB it sends to pyarrow's client: our `flight-bench serve`
against pyarrow's `FlightServerBase` (bench/flight_bench.py's), each in a process of its own,
one DoGet stream at a time read by pyarrow for at least 4 seconds; the servers in turn for 3
rounds. The server's CPU comes from /proc/PID/stat before and after, the client's from this
process. Medians with minimum and maximum.

Usage: python bench/flight_server_cpu.py PATH_TO_FLIGHT_BENCH
"""
import os
import statistics
import subprocess
import sys
import time

import pyarrow.flight as fl

from measure import spread

ROWS = 10_000_000
SECONDS = 4.0
ROUNDS = 3


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(uri: str, pid: int) -> tuple[float, float, float]:
    """GB/s, server CPU s/GB, client CPU s/GB."""
    client = fl.connect(uri)
    server0, client0, start, moved = cpu_seconds(pid), time.process_time(), time.perf_counter(), 0
    while time.perf_counter() - start < SECONDS:
        for chunk in client.do_get(fl.Ticket(b"synthetic")):
            moved += chunk.data.num_rows * 32
    elapsed, gb = time.perf_counter() - start, moved / 1e9
    client.close()
    return gb / elapsed, (cpu_seconds(pid) - server0) / gb, (time.process_time() - client0) / gb


def main() -> None:
    tool = sys.argv[1]
    ours = subprocess.Popen([tool, "serve", "--port", "0", "--rows", str(ROWS)], stdout=subprocess.PIPE, text=True)
    ours_uri = ours.stdout.readline().strip().split()[-1]
    here = os.path.dirname(os.path.abspath(__file__))
    theirs = subprocess.Popen([sys.executable, "-c", f"""
import sys; sys.path.insert(0, {here!r})
import flight_bench
server = flight_bench.PyServer({ROWS}); print(server.port, flush=True); server.serve()
"""], stdout=subprocess.PIPE, text=True)
    theirs_uri = f"grpc://127.0.0.1:{theirs.stdout.readline().strip()}"
    try:
        results = {"ours": [], "pyarrow": []}
        for _ in range(ROUNDS):
            results["ours"].append(measure(ours_uri, ours.pid))
            results["pyarrow"].append(measure(theirs_uri, theirs.pid))
        print(f"Server CPU per GB sent to pyarrow's client (one stream, {ROUNDS} rounds of >= {SECONDS:.0f} s; median (min-max))")
        print("| server | GB/s | server CPU s/GB | client CPU s/GB |")
        print("|---|---:|---:|---:|")
        for name, rows in results.items():
            columns = list(zip(*rows))
            print(f"| {name} | {spread(columns[0])} | {spread(columns[1], '{:.3f}')} | {spread(columns[2], '{:.3f}')} |")
        ratio = statistics.median(r[1] for r in results["ours"]) / statistics.median(r[1] for r in results["pyarrow"])
        print(f"server CPU per GB, ours / pyarrow's (medians): {ratio:.2f}x")
    finally:
        ours.terminate()
        theirs.terminate()


if __name__ == "__main__":
    main()
