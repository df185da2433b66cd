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


# Files of more than one top-level column: with two threads, several batches are read at a
# time, each field on a thread of its own.
def top_level_fields_pyarrow_reads(path):
    """How many top-level fields pyarrow reads in the file; 0 when it refuses the file
    (test_file_reads_as_pyarrow_reads_it checks our error for those)."""
    try:
        return pq.read_table(path).num_columns
    except Exception:
        return 0


SEVERAL = [p for p in READABLE if p.stat().st_size < (8 << 20) and top_level_fields_pyarrow_reads(p) > 1]


@pytest.mark.parametrize("path", SEVERAL, ids=[p.name for p in SEVERAL])
def test_two_threads_read_as_pyarrow_reads_it(parquet_bin, path, tmp_path):
    ours = read_ours(parquet_bin, path, tmp_path, "--threads", "2", "--batch-size", "100")
    assert_same_table(ours, pq.read_table(path))


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


# The keys of parquet-testing's data/README.md: ASCII strings ("0123456789012345" is the
# footer key), as the C++ and Java writers of the files used them.
FOOTER_KEY = b"0123456789012345".hex()
COLUMN_KEYS = ["--column-key", f"double_field:{b'1234567890123450'.hex()}",
               "--column-key", f"float_field:{b'1234567890123451'.hex()}"]
ENCRYPTED = sorted((DATA[0].parent).glob("*.parquet.encrypted"))
# external_key_material_java.parquet.encrypted wraps its keys with a KMS's master keys.
READABLE_ENCRYPTED = [p for p in ENCRYPTED if not p.name.startswith("external_key_material")]


# data/aes256: 32-byte keys, one per column ("...12" for double_field to "...19" for int96_field).
AES256 = sorted((DATA[0].parent / "aes256").glob("*.parquet.encrypted"))
AES256_KEYS = ["--footer-key", b"01234567890123456789012345678901".hex()] + [
    arg for i, name in enumerate(["double_field", "float_field", "boolean_field", "int32_field", "ba_field", "flba_field",
                                  "int64_field", "int96_field"])
    for arg in ("--column-key", f"{name}:{('123456789012345678901234567890' + str(12 + i)).encode().hex()}")]


@pytest.mark.parametrize("path", READABLE_ENCRYPTED + AES256, ids=[p.relative_to(DATA[0].parent).as_posix() for p in READABLE_ENCRYPTED + AES256])
def test_encrypted_file_reads_with_its_keys(parquet_bin, path, tmp_path):
    """pyarrow cannot read these files (its decryption takes keys only from a KMS, by key
    material these files do not carry): the values are checked against the pattern the
    writers of parquet-testing wrote, and every file against the others."""
    keys = AES256_KEYS if path.parent.name == "aes256" else ["--footer-key", FOOTER_KEY, *COLUMN_KEYS]
    ours = read_ours(parquet_bin, path, tmp_path, *keys, "--aad-prefix", "tester")
    n = ours.num_rows
    if "bloom_filter" in path.name:
        # parquet-mr's example writer: 2,000 rows of i + 0.5, i + 0.25, i and name_i.
        assert ours.to_pylist() == [{"double_field": i + 0.5, "float_field": i + 0.25, "int32_field": i, "name": f"name_{i}"}
                                    for i in range(n)]
        assert n == 2000
        return
    assert n >= 50
    assert ours.column("boolean_field").to_pylist() == [i % 2 == 0 for i in range(n)]
    assert ours.column("int32_field").cast(pa.int32()).to_pylist() == list(range(n))
    assert ours.column("int64_field").to_pylist() == [[2 * i * 10**12, (2 * i + 1) * 10**12] for i in range(n)]
    assert ours.column("float_field").to_pylist() == pytest.approx([i * 1.1 for i in range(n)], rel=1e-6)
    assert ours.column("double_field").to_pylist() == pytest.approx([i * 1.1111111 for i in range(n)])
    assert ours.column("flba_field").to_pylist() == [bytes([i % 256]) * 10 for i in range(n)]
    # The same rows as the file of the same folder with every column under the footer key.
    uniform = path.parent / "uniform_encryption.parquet.encrypted"
    assert ours.equals(read_ours(parquet_bin, uniform, tmp_path, keys[0], keys[1]))


def test_encrypted_files_refuse_wrong_and_missing_keys(parquet_bin, tmp_path):
    path = next(p for p in ENCRYPTED if p.name == "encrypt_columns_and_footer.parquet.encrypted")
    out = tmp_path / "out.arrows"
    result = tool(parquet_bin, "to-arrow", path, "--out", out)
    assert result.returncode == 2 and b"needs its keys" in result.stderr
    result = tool(parquet_bin, "to-arrow", path, "--out", out, "--footer-key", b"0123456789012346".hex())
    assert result.returncode == 2 and b"authentication" in result.stderr
    # The footer key alone opens the file; columns encrypted with their own keys stay closed.
    opened = read_ours(parquet_bin, path, tmp_path, "--footer-key", FOOTER_KEY, "--columns", "int32_field")
    assert opened.column("int32_field").cast(pa.int32()).to_pylist() == list(range(opened.num_rows))
    closed = tool(parquet_bin, "to-arrow", path, "--out", out, "--footer-key", FOOTER_KEY, "--columns", "double_field")
    assert closed.returncode == 2 and b"double_field" in closed.stderr
    aad = next(p for p in ENCRYPTED if p.name == "encrypt_columns_and_footer_disable_aad_storage.parquet.encrypted")
    result = tool(parquet_bin, "to-arrow", aad, "--out", out, "--footer-key", FOOTER_KEY)
    assert result.returncode == 2 and b"AAD prefix" in result.stderr
    # A plaintext footer reads without keys; its signature is checked when the key is given.
    plaintext = next(p for p in ENCRYPTED if p.name == "encrypt_columns_plaintext_footer.parquet.encrypted")
    assert tool(parquet_bin, "schema", plaintext).returncode == 0
    wrong = tool(parquet_bin, "schema", plaintext, "--footer-key", b"0123456789012346".hex())
    assert wrong.returncode == 2 and b"signature" in wrong.stderr


@pytest.mark.parametrize("page_index_writer", ["pyarrow", "ours"])
def test_page_index_pruning_returns_exactly_the_filtered_rows(parquet_bin, tmp_path, page_index_writer):
    import json
    n = 20_000
    data = pa.table({"id": pa.array(range(n), pa.int64()), "v": pa.array([None if i % 17 == 0 else i * 0.5 for i in range(n)]),
                     "s": pa.array([f"s{i // 1000:03d}" for i in range(n)])})
    path = tmp_path / "indexed.parquet"
    if page_index_writer == "pyarrow":
        pq.write_table(data, path, write_page_index=True, data_page_size=2048, row_group_size=10_000)
    else:
        source = tmp_path / "in.arrows"
        with pa.ipc.new_stream(source, data.schema) as writer:
            writer.write_table(data)
        result = tool(parquet_bin, "from-arrow", source, path, "--row-group-rows", "10000", "--data-page-size", "2048")
        assert result.returncode == 0, result.stderr.decode()
        column = pq.ParquetFile(path).metadata.row_group(0).column(0)
        assert column.has_offset_index and column.has_column_index
    for conditions in ([["id", ">=", 12_345], ["id", "<", 12_400]], [["s", "=", "s007"]], [["v", "is_null"], ["id", ">", 15_000]],
                       [["id", "in", [3, 9_999, 10_000, 19_999]]]):
        import functools
        import pyarrow.compute as pc
        ops = {"=": lambda f, v: f == v, "<": lambda f, v: f < v, ">": lambda f, v: f > v, ">=": lambda f, v: f >= v,
               "in": lambda f, v: f.isin(v), "is_null": lambda f: f.is_null()}
        expression = functools.reduce(lambda a, b: a & b, [ops[op](pc.field(c), *v) for c, op, *v in conditions])
        theirs = pq.read_table(path, filters=expression)
        ours = read_ours(parquet_bin, path, tmp_path, "--filter", json.dumps(conditions), "--batch-size", "777")
        assert_same_table(ours, theirs)


def test_bloom_filters_of_pyarrow_and_ours_agree_with_the_data(parquet_bin, tmp_path):
    """parquet-testing's bloom-filtered files, and ours: equality filters read what pyarrow
    reads; pyarrow finds our bloom filters where we put them."""
    import json
    for name in ("data_index_bloom_encoding_stats.parquet", "data_index_bloom_encoding_with_length.parquet"):
        path = DATA[0].parent / name
        table = pq.read_table(path)
        for value in (table.column("String")[0].as_py(), "absent value"):
            ours = read_ours(parquet_bin, path, tmp_path, "--filter", json.dumps([["String", "=", value]]))
            assert ours.column("String").to_pylist() == [v for v in table.column("String").to_pylist() if v == value]
    n = 5000
    data = pa.table({"k": pa.array([f"key-{i * 7 % n}" for i in range(n)]), "i": pa.array(range(n), pa.int64())})
    source, path = tmp_path / "in.arrows", tmp_path / "bloom.parquet"
    with pa.ipc.new_stream(source, data.schema) as writer:
        writer.write_table(data)
    assert tool(parquet_bin, "from-arrow", source, path, "--bloom-filter", "k,i", "--row-group-rows", "1000").returncode == 0
    metadata = pq.ParquetFile(path).metadata
    assert all(metadata.row_group(g).column(c).bloom_filter_offset is not None for g in range(5) for c in range(2))
    for conditions in ([["k", "=", "key-77"]], [["k", "in", ["key-1", "key-4999", "nope"]]], [["i", "=", 4321]]):
        ours = read_ours(parquet_bin, path, tmp_path, "--filter", json.dumps(conditions))
        c, op, v = conditions[0]
        wanted = set(v) if op == "in" else {v}
        assert ours.column(c).to_pylist() == [x for x in data.column(c).to_pylist() if x in wanted]


def test_checksums_are_verified_when_asked(parquet_bin, tmp_path):
    """parquet-testing's files with page CRCs: the corrupt ones fail --verify-checksums with an
    error naming the page; the sound ones read as pyarrow reads them."""
    for name in ("datapage_v1-corrupt-checksum.parquet", "rle-dict-uncompressed-corrupt-checksum.parquet"):
        result = tool(parquet_bin, "to-arrow", DATA[0].parent / name, "--verify-checksums", "--out", tmp_path / "out.arrows")
        assert result.returncode == 2 and b"CRC" in result.stderr, result.stderr
    for name in ("datapage_v1-snappy-compressed-checksum.parquet", "datapage_v1-uncompressed-checksum.parquet",
                 "plain-dict-uncompressed-checksum.parquet", "rle-dict-snappy-checksum.parquet"):
        path = DATA[0].parent / name
        assert_same_table(read_ours(parquet_bin, path, tmp_path, "--verify-checksums"), pq.read_table(path))


@pytest.mark.parametrize("unit", ["us", "ms", "s"])
def test_int96_timestamps_read_in_the_unit_asked_for(parquet_bin, tmp_path, unit):
    """INT96 outside nanoseconds' range (years 1677 to 2262) read in a coarser unit equal to
    pyarrow's `coerce_int96_timestamp_unit`, top-level and nested."""
    spark_file = next(p for p in DATA if p.name == "int96_from_spark.parquet")
    ours = read_ours(parquet_bin, spark_file, tmp_path, "--int96-unit", unit)
    theirs = pq.read_table(spark_file, coerce_int96_timestamp_unit=unit)
    assert ours.schema == theirs.schema
    assert ours.column(0).cast(pa.int64()).to_pylist() == theirs.column(0).cast(pa.int64()).to_pylist()
    moments = pa.array([0, -62135596800_000_000, 253402300799_999_999, None, 1700000000_123_456], pa.timestamp("us"))
    table = pa.table({"t": moments, "s": pa.StructArray.from_arrays([moments], ["t"]),
                      "l": pa.array([[m] for m in moments.to_pylist()], pa.list_(pa.timestamp("us")))})
    path = tmp_path / "int96.parquet"
    pq.write_table(table, path, use_deprecated_int96_timestamps=True)
    ours = read_ours(parquet_bin, path, tmp_path, "--int96-unit", unit)
    theirs = pq.read_table(path, coerce_int96_timestamp_unit=unit)
    assert ours.schema == theirs.schema
    assert ours.equals(theirs)
