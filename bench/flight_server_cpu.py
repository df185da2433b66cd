"""pyarrow's client reading one DoGet stream from our `flight-bench serve` and from pyarrow's
`FlightServerBase` (bench/flight_bench.py's), each server in a process of its own. Each
measurement reads for at least SECONDS on a new connection; the two servers take turns, the
first of each round alternating, for ROUNDS rounds. Reported per server: GB/s, the server's CPU
per GB sent (from /proc/PID/stat), the client's CPU and minor page faults per GB (from this
process's rusage), as medians with minimum and maximum; and the paired ratio of the rounds
(ours / pyarrow's GB/s in the same round), with how many rounds ours was ahead.

Usage: python bench/flight_server_cpu.py PATH_TO_FLIGHT_BENCH [ROUNDS]
"""
import os
import resource
import statistics
import subprocess
import sys
import time

import pyarrow.flight as fl

from measure import spread

ROWS = 10_000_000
SECONDS = 2.0
ROUNDS = 12


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(uri: str, pid: int) -> tuple[float, float, float, float]:
    """GB/s, server CPU s/GB, client CPU s/GB, client minor faults per GB."""
    client = fl.connect(uri)
    before = resource.getrusage(resource.RUSAGE_SELF)
    server0, start, moved = cpu_seconds(pid), time.perf_counter(), 0
    while time.perf_counter() - start < SECONDS:
        for chunk in client.do_get(fl.Ticket(b"synthetic")):
            moved += chunk.data.num_rows * 32
    elapsed, gb = time.perf_counter() - start, moved / 1e9
    after = resource.getrusage(resource.RUSAGE_SELF)
    client.close()
    client_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return gb / elapsed, (cpu_seconds(pid) - server0) / gb, client_cpu / gb, (after.ru_minflt - before.ru_minflt) / gb


def main() -> None:
    tool = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS
    ours = subprocess.Popen([tool, "serve", "--port", "0", "--rows", str(ROWS)], stdout=subprocess.PIPE, text=True)
    ours_uri = ours.stdout.readline().strip().split()[-1]
    here = os.path.dirname(os.path.abspath(__file__))
    theirs = subprocess.Popen([sys.executable, "-c", f"""
import sys; sys.path.insert(0, {here!r})
import flight_bench
server = flight_bench.PyServer({ROWS}); print(server.port, flush=True); server.serve()
"""], stdout=subprocess.PIPE, text=True)
    theirs_uri = f"grpc://127.0.0.1:{theirs.stdout.readline().strip()}"
    servers = {"ours": (ours_uri, ours.pid), "pyarrow": (theirs_uri, theirs.pid)}
    try:
        results = {name: [] for name in servers}
        for round in range(rounds):
            order = list(servers) if round % 2 == 0 else list(servers)[::-1]
            for name in order:
                results[name].append(measure(*servers[name]))
        print(f"pyarrow's client, one DoGet stream ({rounds} rounds of >= {SECONDS:.0f} s, the servers in turn; median (min-max))")
        print("| server | GB/s | server CPU s/GB | client CPU s/GB | client page faults per GB |")
        print("|---|---:|---:|---:|---:|")
        for name, rows in results.items():
            columns = list(zip(*rows))
            print(f"| {name} | {spread(columns[0])} | {spread(columns[1], '{:.3f}')} | {spread(columns[2], '{:.3f}')} "
                  f"| {spread([c / 1000 for c in columns[3]], '{:.0f}')} K |")
        ratios = [a[0] / b[0] for a, b in zip(results["ours"], results["pyarrow"])]
        ahead = sum(r > 1 for r in ratios)
        cpu = statistics.median(r[1] for r in results["ours"]) / statistics.median(r[1] for r in results["pyarrow"])
        print(f"GB/s ours / pyarrow's, paired by round: {spread(ratios)}x; ours ahead in {ahead} of {rounds} rounds")
        print(f"server CPU per GB, ours / pyarrow's (medians): {cpu:.2f}x")
    finally:
        ours.terminate()
        theirs.terminate()


if __name__ == "__main__":
    main()
