"""Our Parquet reader against pyarrow's: every file of parquet-testing's data/ read by
`parquet to-arrow` into an Arrow IPC stream, and compared with `pyarrow.parquet.read_table`
of the same file, type by type and value by value."""
import math
import pathlib
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_parquet_metadata import DATA, PYARROW_REFUSES, parquet_bin, tool  # noqa: F401

# Files whose pages hold gigabytes: right, but too slow for a debug build in the test run.
TOO_LARGE = {"large_string_map.brotli.parquet"}


def same(a, b):
    """Equal values, NaN equal to NaN, at any depth."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def read_ours(binary, path, tmp_path, *args):
    out = tmp_path / "out.arrows"
    result = tool(binary, "to-arrow", path, "--out", out, *args)
    assert result.returncode == 0, result.stderr.decode()
    with pa.ipc.open_stream(out) as reader:
        return reader.read_all()


def assert_same_table(ours, theirs):
    assert ours.schema.names == theirs.schema.names
    for name in theirs.schema.names:
        assert ours.schema.field(name).type == theirs.schema.field(name).type, name
    assert ours.num_rows == theirs.num_rows
    for name in theirs.schema.names:
        if ours.column(name).combine_chunks().equals(theirs.column(name).combine_chunks()):
            continue
        # Not equal as arrays: equal only if every difference is NaN against NaN.
        a, b = ours.column(name).to_pylist(), theirs.column(name).to_pylist()
        if not same(a, b):
            first = next(i for i, (x, y) in enumerate(zip(a, b)) if not same(x, y))
            raise AssertionError(f"column {name} differs at row {first}: {a[first]!r} != {b[first]!r}")


READABLE = [p for p in DATA if p.name not in PYARROW_REFUSES and p.name not in TOO_LARGE]


@pytest.mark.parametrize("path", READABLE, ids=[p.name for p in READABLE])
def test_file_reads_as_pyarrow_reads_it(parquet_bin, path, tmp_path):
    try:
        theirs = pq.read_table(path)
    except Exception as error:  # pyarrow refuses it: so must we, with a reason
        result = tool(parquet_bin, "to-arrow", path, "--out", tmp_path / "out.arrows")
        assert result.returncode == 2, (str(error), result.stderr.decode())
        assert result.stderr.strip()
        return
    assert_same_table(read_ours(parquet_bin, path, tmp_path), theirs)


BAD = sorted(p for p in (DATA[0].parent.parent / "bad_data").iterdir() if p.suffix == ".parquet")


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_bad_file_is_refused_with_a_reason_or_read_as_pyarrow_reads_it(parquet_bin, path, tmp_path):
    try:
        theirs = pq.read_table(path)
    except Exception:
        result = tool(parquet_bin, "to-arrow", path, "--out", tmp_path / "out.arrows")
        assert result.returncode == 2, result.stderr.decode()
        assert b"parquet: " in result.stderr
        return
    # ARROW-GH-43605 (dictionary indices of bit width 0) is a file pyarrow reads.
    assert_same_table(read_ours(parquet_bin, path, tmp_path), theirs)


FILTERS = [
    [["a", ">=", 500]],
    [["a", "<", 100], ["s", "!=", "x3"]],
    [["a", "in", [5, 77, 901, 2000]]],
    [["s", "=", "x7"]],
    [["s", "is_null"]],
    [["f", "not_null"], ["f", "<=", 0.25]],
    [["a", ">", 10_000]],
]


@pytest.mark.parametrize("conditions", FILTERS, ids=[str(f) for f in FILTERS])
def test_filtered_reads_return_exactly_the_rows_pyarrow_filters(parquet_bin, tmp_path, conditions):
    import json
    import random
    rng = random.Random(5)
    n = 3000
    data = pa.table({
        "a": pa.array([i if i % 11 else None for i in range(n)], pa.int64()),
        "s": pa.array([None if i % 13 == 0 else f"x{rng.randrange(10)}" for i in range(n)]),
        "f": pa.array([rng.random() if i % 7 else None for i in range(n)]),
        "l": pa.array([[i, i + 1] if i % 5 else [] for i in range(n)], pa.list_(pa.int32())),
    })
    path = tmp_path / "filtered.parquet"
    pq.write_table(data, path, row_group_size=250)
    import functools
    import pyarrow.compute as pc
    operators = {"=": lambda f, v: f == v, "!=": lambda f, v: f != v, "<": lambda f, v: f < v, "<=": lambda f, v: f <= v,
                 ">": lambda f, v: f > v, ">=": lambda f, v: f >= v, "in": lambda f, v: f.isin(v),
                 "is_null": lambda f: f.is_null(), "not_null": lambda f: f.is_valid()}
    expression = functools.reduce(lambda a, b: a & b, [operators[op](pc.field(c), *v) for c, op, *v in conditions])
    theirs = pq.read_table(path, filters=expression)
    ours = read_ours(parquet_bin, path, tmp_path, "--filter", json.dumps(conditions), "--batch-size", "100")
    assert_same_table(ours, theirs)
    projected = read_ours(parquet_bin, path, tmp_path, "--filter", json.dumps(conditions), "--columns", "l")
    assert projected.column("l").to_pylist() == theirs.column("l").to_pylist()
