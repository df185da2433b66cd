"""Our Parquet writer read by pyarrow: random tables of every type with a Parquet form (the
generator of test_parquet_random.py) written by `parquet from-arrow` with every codec, page
version, dictionary on and off, small pages and row groups, and read back by
`pyarrow.parquet.read_table` as it reads its own file of the same table, type by type, and
equal to the table value by value. Our reader reads the same files equal too."""
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_parquet_metadata import parquet_bin, tool  # noqa: F401
from test_parquet_random import FLAT, NESTED, table
from test_parquet_read import assert_same_table, read_ours

CODECS = ["none", "snappy", "gzip", "zstd", "lz4_raw", "brotli"]


def cases():
    out = []
    for codec in CODECS:
        for version in ("1", "2"):
            for dictionary in ("on", "off"):
                out.append(pytest.param(["--compression", codec, "--data-page-version", version, "--dictionary", dictionary],
                                        id=f"{codec}-v{version}-dict-{dictionary}"))
    out.append(pytest.param(["--row-group-rows", "700", "--data-page-size", "512"], id="small-pages-row-groups"))
    out.append(pytest.param(["--statistics", "off", "--compression", "zstd", "--compression-level", "9"], id="no-statistics-zstd-9"))
    return out


def write_ours(binary, data, tmp_path, args):
    source, target = tmp_path / "in.arrows", tmp_path / "out.parquet"
    with pa.ipc.new_stream(source, data.schema) as writer:
        for batch in data.to_batches(max_chunksize=997):
            writer.write_batch(batch)
    result = tool(binary, "from-arrow", source, target, *args)
    assert result.returncode == 0, result.stderr.decode()
    return target


def assert_pyarrow_reads_back(original, path):
    """pyarrow reads our file as it reads its own file of the same table (date64 comes back
    date32 from either, say), and the values are the table's."""
    own = path.with_name("pyarrow.parquet")
    pq.write_table(original, own)
    theirs = pq.read_table(path)
    assert_same_table(theirs, pq.read_table(own))
    for name in original.schema.names:
        if not pa.types.is_date64(original.schema.field(name).type):
            assert theirs.column(name).combine_chunks().equals(original.column(name).combine_chunks()), name


@pytest.mark.parametrize("args", cases())
def test_flat_types_read_back_in_pyarrow(parquet_bin, tmp_path, args):
    data = table(101 + len(str(args)), FLAT, rows=2500)
    path = write_ours(parquet_bin, data, tmp_path, args)
    assert_pyarrow_reads_back(data, path)
    assert_same_table(read_ours(parquet_bin, path, tmp_path), pq.read_table(path))


@pytest.mark.parametrize("args", cases())
def test_nested_types_read_back_in_pyarrow(parquet_bin, tmp_path, args):
    data = table(202 + len(str(args)), NESTED, rows=1200)
    path = write_ours(parquet_bin, data, tmp_path, args)
    assert_pyarrow_reads_back(data, path)
    assert_same_table(read_ours(parquet_bin, path, tmp_path), pq.read_table(path))


def test_statistics_match_the_data(parquet_bin, tmp_path):
    data = table(7, [pa.int32(), pa.uint32(), pa.float64(), pa.string(), pa.bool_(), pa.timestamp("us")], rows=5000)
    path = write_ours(parquet_bin, data, tmp_path, ["--row-group-rows", "1000"])
    metadata = pq.ParquetFile(path).metadata
    for g in range(metadata.num_row_groups):
        rows = data.slice(g * 1000, 1000)
        for c, name in enumerate(data.column_names):
            stats = metadata.row_group(g).column(c).statistics
            column = rows.column(name)
            values = [v for v in column.to_pylist() if v is not None]
            assert stats.null_count == column.null_count
            if pa.types.is_timestamp(column.type):
                values = [v.value if hasattr(v, "value") else v for v in column.cast(pa.int64()).to_pylist() if v is not None]
                assert (stats.min.timestamp() if hasattr(stats.min, "timestamp") else stats.min) is not None
                continue
            assert stats.min == min(values), name
            assert stats.max == max(values), name


@pytest.mark.parametrize("dictionary", ["on", "off"])
def test_float_statistics_leave_out_nan_and_widen_zeros(parquet_bin, tmp_path, dictionary):
    nan = float("nan")
    columns = {
        "mixed": [3.5, nan, -2.25, None, 7.0, nan, 0.5],
        "zeros": [0.0, 0.0, 0.0, 0.0, 0.0],
        "negative_zero": [-0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        "infinities": [1.0, float("inf"), nan, float("-inf"), 2.0, 3.0, 4.0, 5.0, 6.0],
        "all_nan": [nan, nan, nan, nan, nan],
    }
    for name, values in columns.items():
        for rows in (len(values), 4 * len(values) + 3):
            data = pa.table({"x": pa.array((values * 5)[:rows], pa.float64())})
            path = write_ours(parquet_bin, data, tmp_path, ["--dictionary", dictionary])
            # repr tells NaN, -0.0 and 0.0 apart and finds NaN equal to NaN.
            assert [repr(v) for v in pq.read_table(path).column("x").to_pylist()] == [repr(v) for v in data.column("x").to_pylist()]
            stats = pq.ParquetFile(path).metadata.row_group(0).column(0).statistics
            numbers = [v for v in data.column("x").to_pylist() if v is not None and v == v]
            if not numbers:
                assert stats is None or not stats.has_min_max, name
                continue
            low, high = min(numbers), max(numbers)
            # The format's rule for zeros: a minimum of zero is written -0.0, a maximum +0.0.
            assert stats.min == low and stats.max == high, (name, rows, stats.min, stats.max)
            if low == 0:
                assert math.copysign(1, stats.min) < 0, name
            if high == 0:
                assert math.copysign(1, stats.max) > 0, name


def test_an_empty_table_and_a_table_of_nulls(parquet_bin, tmp_path):
    empty = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())})
    assert_pyarrow_reads_back(empty, write_ours(parquet_bin, empty, tmp_path, []))
    nulls = pa.table({"a": pa.array([None] * 100, pa.int64()), "n": pa.nulls(100), "l": pa.array([None] * 100, pa.list_(pa.int8()))})
    assert_pyarrow_reads_back(nulls, write_ours(parquet_bin, nulls, tmp_path, ["--data-page-version", "2"]))
