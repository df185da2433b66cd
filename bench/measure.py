"""How every benchmark here measures: each measurement runs for at least a second (repeating
the operation), the compared sides take turns round by round, and the report is the median of
the rounds with their minimum and maximum."""
import statistics
import time

ROUNDS = 5
MIN_SECONDS = 1.0


def per_op(fn, min_seconds: float = MIN_SECONDS) -> float:
    """Seconds per call of `fn`, averaged over as many calls as fill `min_seconds`."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def spread(values, fmt: str = "{:.2f}") -> str:
    """`median (min-max)`."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def summary(values, unit: str, scale: float = 1.0) -> str:
    values = [v * scale for v in values]
    return f"median {statistics.median(values):.3f} {unit} (min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"
