"""Randomised round trips: pyarrow writes random tables of every type (nulls, slices, empty
batches, compression); our reader reads them and our writer writes them back; pyarrow reads
our output and it equals the original, value by value."""
import datetime
import decimal
import random

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from conftest import run


def maybe(rng: random.Random, value):
    return None if rng.random() < 0.2 else value


def text(rng: random.Random) -> str:
    n = rng.choice([0, 1, 5, 12, 13, 40])
    return "".join(rng.choice("abcxyzé€😀 ") for _ in range(n))


def blob(rng: random.Random) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 3, 12, 13, 30])))


def random_columns(rng: random.Random, n: int) -> dict[str, pa.Array]:
    ints = lambda lo, hi: [maybe(rng, rng.randint(lo, hi)) for _ in range(n)]
    cols: dict[str, pa.Array] = {}
    for t, lo, hi in [(pa.int8(), -128, 127), (pa.int16(), -(2**15), 2**15 - 1), (pa.int32(), -(2**31), 2**31 - 1),
                      (pa.int64(), -(2**63), 2**63 - 1), (pa.uint8(), 0, 255), (pa.uint16(), 0, 2**16 - 1),
                      (pa.uint32(), 0, 2**32 - 1), (pa.uint64(), 0, 2**64 - 1)]:
        cols[str(t)] = pa.array(ints(lo, hi), t)
    cols["null"] = pa.nulls(n)
    cols["bool"] = pa.array([maybe(rng, rng.random() < 0.5) for _ in range(n)], pa.bool_())
    f16 = np.array([rng.uniform(-100, 100) for _ in range(n)], dtype=np.float16)
    cols["float16"] = pa.array(f16, pa.float16(), mask=np.array([rng.random() < 0.2 for _ in range(n)], dtype=bool))
    cols["float32"] = pa.array([maybe(rng, rng.uniform(-1e6, 1e6)) for _ in range(n)], pa.float32())
    cols["float64"] = pa.array([maybe(rng, rng.choice([rng.gauss(0, 1e9), float("inf"), -0.0])) for _ in range(n)], pa.float64())
    for bits, precision, scale in [(32, 9, 2), (64, 18, 4), (128, 38, 10), (256, 76, 20)]:
        ctor = {32: pa.decimal32, 64: pa.decimal64, 128: pa.decimal128, 256: pa.decimal256}[bits]
        values = [maybe(rng, decimal.Decimal(rng.randint(-(10**precision) + 1, 10**precision - 1)).scaleb(-scale)) for _ in range(n)]
        cols[f"decimal{bits}"] = pa.array(values, ctor(precision, scale))
    cols["date32"] = pa.array([maybe(rng, datetime.date(1900, 1, 1) + datetime.timedelta(days=rng.randint(0, 80000))) for _ in range(n)], pa.date32())
    cols["date64"] = pa.array([maybe(rng, rng.randint(-(10**12), 10**12) // 86400000 * 86400000) for _ in range(n)], pa.date64())
    cols["time32s"] = pa.array(ints(0, 86399), pa.time32("s"))
    cols["time32ms"] = pa.array(ints(0, 86399999), pa.time32("ms"))
    cols["time64us"] = pa.array(ints(0, 86399999999), pa.time64("us"))
    cols["time64ns"] = pa.array(ints(0, 86399999999999), pa.time64("ns"))
    for unit in ["s", "ms", "us", "ns"]:
        cols[f"ts_{unit}"] = pa.array(ints(-(2**40), 2**40), pa.timestamp(unit))
        cols[f"ts_{unit}_tz"] = pa.array(ints(-(2**40), 2**40), pa.timestamp(unit, tz="Europe/Paris"))
        cols[f"duration_{unit}"] = pa.array(ints(-(2**40), 2**40), pa.duration(unit))
    cols["interval_mdn"] = pa.array([maybe(rng, pa.MonthDayNano([rng.randint(-100, 100), rng.randint(-100, 100), rng.randint(-(2**40), 2**40)])) for _ in range(n)], pa.month_day_nano_interval())
    cols["binary"] = pa.array([maybe(rng, blob(rng)) for _ in range(n)], pa.binary())
    cols["utf8"] = pa.array([maybe(rng, text(rng)) for _ in range(n)], pa.string())
    cols["large_binary"] = pa.array([maybe(rng, blob(rng)) for _ in range(n)], pa.large_binary())
    cols["large_utf8"] = pa.array([maybe(rng, text(rng)) for _ in range(n)], pa.large_string())
    cols["binary_view"] = pa.array([maybe(rng, blob(rng)) for _ in range(n)], pa.binary_view())
    cols["utf8_view"] = pa.array([maybe(rng, text(rng)) for _ in range(n)], pa.string_view())
    cols["fixed_size_binary"] = pa.array([maybe(rng, bytes(rng.getrandbits(8) for _ in range(5))) for _ in range(n)], pa.binary(5))
    small_list = lambda: [maybe(rng, rng.randint(-5, 5)) for _ in range(rng.randint(0, 4))]
    cols["list"] = pa.array([maybe(rng, small_list()) for _ in range(n)], pa.list_(pa.int32()))
    cols["large_list"] = pa.array([maybe(rng, [text(rng) for _ in range(rng.randint(0, 3))]) for _ in range(n)], pa.large_list(pa.string()))
    cols["list_view"] = pa.array([maybe(rng, small_list()) for _ in range(n)], pa.list_view(pa.int16()))
    cols["large_list_view"] = pa.array([maybe(rng, small_list()) for _ in range(n)], pa.large_list_view(pa.int64()))
    cols["fixed_size_list"] = pa.array([maybe(rng, [rng.randint(0, 9) for _ in range(3)]) for _ in range(n)], pa.list_(pa.int8(), 3))
    cols["struct"] = pa.array([maybe(rng, {"a": maybe(rng, rng.randint(0, 100)), "b": maybe(rng, text(rng))}) for _ in range(n)],
                              pa.struct([("a", pa.int32()), ("b", pa.string())]))
    cols["map"] = pa.array([maybe(rng, [(text(rng), maybe(rng, rng.randint(0, 9))) for _ in range(rng.randint(0, 3))]) for _ in range(n)],
                           pa.map_(pa.string(), pa.int64()))
    type_ids = pa.array([rng.choice([0, 1]) for _ in range(n)], pa.int8())
    cols["sparse_union"] = pa.UnionArray.from_sparse(type_ids, [pa.array(ints(0, 9), pa.int32()), pa.array([maybe(rng, text(rng)) for _ in range(n)], pa.string())])
    counts = [type_ids.to_pylist().count(0), type_ids.to_pylist().count(1)]
    seen = [0, 0]
    offsets = []
    for t in type_ids.to_pylist():
        offsets.append(seen[t])
        seen[t] += 1
    cols["dense_union"] = pa.UnionArray.from_dense(type_ids, pa.array(offsets, pa.int32()),
                                                   [pa.array([maybe(rng, rng.random()) for _ in range(counts[0])], pa.float64()),
                                                    pa.array([maybe(rng, blob(rng)) for _ in range(counts[1])], pa.binary())])
    words = ["red", "green", "blue", "cyan"]
    cols["dictionary"] = pa.array([maybe(rng, rng.choice(words)) for _ in range(n)], pa.string()).dictionary_encode()
    run_ends, run_values, end = [], [], 0
    while end < n:
        end = min(n, end + rng.randint(1, 5))
        run_ends.append(end)
        run_values.append(maybe(rng, rng.choice(words)))
    cols["run_end_encoded"] = pa.RunEndEncodedArray.from_arrays(pa.array(run_ends, pa.int32()), pa.array(run_values, pa.string()))
    return cols


def random_table(seed: int, n: int) -> pa.Table:
    rng = random.Random(seed)
    cols = random_columns(rng, n)
    schema = pa.schema([pa.field(k, v.type, metadata={"seed": str(seed)} if k == "int32" else None) for k, v in cols.items()],
                       metadata={"origin": "pyarrow", "seed": str(seed)})
    return pa.Table.from_arrays(list(cols.values()), schema=schema)


def write_stream(table: pa.Table, compression, max_chunksize) -> bytes:
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression=compression)
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table, max_chunksize=max_chunksize)
        writer.write_table(table.slice(0, 0))
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("compression", [None, "lz4", "zstd"])
def test_random_tables_round_trip_through_our_reader_and_writer(seed, compression, arrow_integration):
    rng = random.Random(seed)
    table = random_table(seed, rng.choice([0, 1, 7, 64, 300]))
    table = table.slice(rng.randint(0, 2), max(0, table.num_rows - 3)) if table.num_rows > 5 else table
    stream = write_stream(table, compression, rng.choice([None, 1, 50]))
    ours = run([arrow_integration, "stream-to-file", "--compression", compression or "none"], stdin=stream)
    with ipc.open_file(pa.BufferReader(ours)) as reader:
        back = reader.read_all()
    assert back.schema.equals(table.schema, check_metadata=True)
    assert back.num_rows == table.num_rows
    for i, (a, b) in enumerate(zip(back.columns, table.columns)):
        assert a.equals(b), f"column {table.schema.field(i).name} differs"


@pytest.mark.parametrize("seed", range(4))
def test_metadata_v4_streams_written_by_pyarrow_read_as_arrow_cpp_reads_them(seed, arrow_integration):
    """Metadata V4 (Arrow before 1.0): unions carry a validity buffer slot, which a V5 reader
    must skip. Random tables of every type (unions included), and unions alone, written with
    V4 metadata by pyarrow, come back equal through our reader (and V5 writer)."""
    rng = random.Random(100 + seed)
    table = random_table(100 + seed, rng.choice([1, 7, 64, 300]))
    unions = pa.table({
        "dense": pa.UnionArray.from_dense(pa.array([0, 1, 0, 1], pa.int8()), pa.array([0, 0, 1, 1], pa.int32()),
                                          [pa.array([1, None]), pa.array(["x", "y"])], ["i", "s"]),
        "sparse": pa.UnionArray.from_sparse(pa.array([1, 0, 0, 1], pa.int8()),
                                            [pa.array([1, 2, None, 4]), pa.array(["a", None, "c", "d"])], ["i", "s"]),
    })
    for case in (table, unions):
        sink = pa.BufferOutputStream()
        options = ipc.IpcWriteOptions(metadata_version=ipc.MetadataVersion.V4)
        with ipc.new_stream(sink, case.schema, options=options) as writer:
            writer.write_table(case, max_chunksize=rng.choice([None, 3]))
        ours = run([arrow_integration, "stream-to-file"], stdin=sink.getvalue().to_pybytes())
        with ipc.open_file(pa.BufferReader(ours)) as reader:
            back = reader.read_all()
        assert back.schema.equals(case.schema, check_metadata=True)
        for i, (a, b) in enumerate(zip(back.columns, case.columns)):
            assert a.equals(b), f"column {case.schema.field(i).name} differs"


def pyarrow_swaps(type_: pa.DataType) -> bool:
    """Whether pyarrow can convert the type from big-endian (it cannot for views and run-end
    encoded arrays: "Swapping endianness of binary_view is not implemented")."""
    if (pa.types.is_run_end_encoded(type_) or pa.types.is_binary_view(type_) or pa.types.is_string_view(type_)
            or pa.types.is_list_view(type_) or pa.types.is_large_list_view(type_)):
        return False
    return all(pyarrow_swaps(type_.field(i).type) for i in range(type_.num_fields))


@pytest.mark.parametrize("seed", range(6))
def test_big_endian_output_reads_equal_in_pyarrow_and_in_ours(seed, arrow_integration, tmp_path):
    """Our writer's big-endian option (`endianness: Big`, every buffer converted): pyarrow reads
    the file (converting to its byte order) equal to the native table, for every type it can
    convert; our reader reads it back equal for every type."""
    rng = random.Random(300 + seed)
    table = random_table(300 + seed, rng.choice([1, 7, 64, 300]))
    chunk = rng.choice([None, 1, 50])
    convertible = table.select([i for i, f in enumerate(table.schema) if pyarrow_swaps(f.type)])
    big = run([arrow_integration, "stream-to-file", "--big-endian"], stdin=write_stream(convertible, None, chunk))
    with ipc.open_file(pa.BufferReader(big)) as reader:
        theirs = reader.read_all()
    for i, (a, b) in enumerate(zip(theirs.columns, convertible.columns)):
        assert a.equals(b), f"pyarrow reads column {convertible.schema.field(i).name} of our big-endian file differently"
    path = tmp_path / "big.arrow"
    path.write_bytes(run([arrow_integration, "stream-to-file", "--big-endian"], stdin=write_stream(table, None, chunk)))
    native = run([arrow_integration, "file-to-stream", path])
    with ipc.open_stream(pa.BufferReader(native)) as reader:
        ours = reader.read_all()
    assert ours.schema.equals(table.schema, check_metadata=True)
    for i, (a, b) in enumerate(zip(ours.columns, table.columns)):
        assert a.equals(b), f"our reader reads column {table.schema.field(i).name} of our big-endian file differently"


def test_dictionary_deltas_written_by_pyarrow_round_trip(arrow_integration):
    schema = pa.schema([("d", pa.dictionary(pa.int16(), pa.string()))])
    first = pa.DictionaryArray.from_arrays(pa.array([0, 1, None], pa.int16()), pa.array(["a", "b"]))
    second = pa.DictionaryArray.from_arrays(pa.array([2, 0, 3], pa.int16()), pa.array(["a", "b", "c", "d"]))
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, schema, options=ipc.IpcWriteOptions(emit_dictionary_deltas=True)) as writer:
        writer.write_batch(pa.record_batch([first], schema=schema))
        writer.write_batch(pa.record_batch([second], schema=schema))
    stream = sink.getvalue().to_pybytes()
    ours = run([arrow_integration, "stream-to-file"], stdin=stream)
    with ipc.open_file(pa.BufferReader(ours)) as reader:
        assert reader.num_record_batches == 2
        assert reader.get_batch(0).column(0).to_pylist() == ["a", "b", None]
        assert reader.get_batch(1).column(0).to_pylist() == ["c", "a", "d"]
