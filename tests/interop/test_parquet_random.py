"""Random tables of every type pyarrow can write to Parquet, written by pyarrow with varied
writer options (codecs, dictionary on and off, page versions, DELTA_* and BYTE_STREAM_SPLIT
encodings, small pages, many row groups, nulls, nested lists, structs and maps, the stored
Arrow schema on and off), read back by `parquet to-arrow` equal to what pyarrow reads."""
import datetime
import decimal
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_parquet_metadata import parquet_bin  # noqa: F401
from test_parquet_read import assert_same_table, read_ours

ROWS = 3000


def values(rng, type_, n, nulls=0.1):
    """n random Python values of `type_`, about `nulls` of them None."""
    def one():
        if rng.random() < nulls:
            return None
        return scalar(rng, type_)
    return [one() for _ in range(n)]


def scalar(rng, t):
    if pa.types.is_boolean(t):
        return rng.random() < 0.5
    if pa.types.is_integer(t):
        bits = t.bit_width
        if pa.types.is_signed_integer(t):
            return rng.randint(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        return rng.randint(0, (1 << bits) - 1)
    if pa.types.is_float16(t):
        return None if rng.random() < 0.5 else float(rng.randint(-2048, 2048)) / 8
    if pa.types.is_floating(t):
        return rng.choice([rng.uniform(-1e6, 1e6), float(rng.randint(-100, 100)), 0.0, -0.0])
    if pa.types.is_decimal(t):
        digits = rng.randint(0, t.precision)
        unscaled = rng.randint(-(10 ** digits) + 1, 10 ** digits - 1)
        return decimal.Decimal(unscaled).scaleb(-t.scale)
    if pa.types.is_date32(t) or pa.types.is_date64(t):
        return datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randint(-30000, 30000))
    if pa.types.is_time(t):
        micros = rng.randint(0, 86_400_000_000 - 1)
        if t.unit in ("s",):
            micros -= micros % 1_000_000
        elif t.unit == "ms":
            micros -= micros % 1000
        return (datetime.datetime.min + datetime.timedelta(microseconds=micros)).time()
    if pa.types.is_timestamp(t):
        return rng.randint(-(1 << 50), 1 << 50)
    if pa.types.is_duration(t):
        return rng.randint(-(1 << 40), 1 << 40)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        size = rng.choice([0, 1, 3, 8, 13, 40])
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyzé€中") for _ in range(size))
    if pa.types.is_fixed_size_binary(t):
        return bytes(rng.randrange(256) for _ in range(t.byte_width))
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return bytes(rng.randrange(256) for _ in range(rng.choice([0, 2, 7, 20])))
    if pa.types.is_dictionary(t):
        return rng.choice(["red", "green", "blue", "a longer category name", ""])
    if pa.types.is_fixed_size_list(t):
        return values(rng, t.value_type, t.list_size, 0.2)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return values(rng, t.value_type, rng.choice([0, 1, 2, 5]), 0.2)
    if pa.types.is_map(t):
        keys = list(dict.fromkeys(scalar(rng, t.key_type) for _ in range(rng.choice([0, 1, 3]))))
        return [(k, v) for k, v in zip(keys, values(rng, t.item_type, len(keys), 0.2))]
    if pa.types.is_struct(t):
        return {f.name: (None if f.nullable and rng.random() < 0.2 else scalar(rng, f.type)) for f in t}
    raise NotImplementedError(t)


FLAT = [
    pa.bool_(), pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64(),
    pa.float16(), pa.float32(), pa.float64(), pa.decimal128(7, 2), pa.decimal128(18, 4), pa.decimal128(38, 10),
    pa.decimal256(60, 5), pa.date32(), pa.date64(), pa.time32("ms"), pa.time64("us"), pa.time64("ns"),
    pa.timestamp("ms"), pa.timestamp("us", "UTC"), pa.timestamp("ns", "Europe/Paris"), pa.duration("us"),
    pa.string(), pa.large_string(), pa.binary(), pa.large_binary(), pa.binary(5),
    pa.dictionary(pa.int32(), pa.string()),
]
NESTED = [
    pa.list_(pa.int32()), pa.large_list(pa.string()), pa.list_(pa.list_(pa.int64())),
    pa.struct([("a", pa.int32()), ("b", pa.string())]),
    pa.struct([("x", pa.list_(pa.float64())), ("y", pa.struct([("z", pa.bool_())]))]),
    pa.list_(pa.struct([("k", pa.string()), ("v", pa.int16())])),
    pa.map_(pa.string(), pa.int32()), pa.map_(pa.int64(), pa.list_(pa.string())),
    pa.struct([pa.field("required", pa.int32(), nullable=False), ("optional", pa.int32())]),
]


def table(seed, types, rows=ROWS, nulls=0.1):
    rng = random.Random(seed)
    columns = {}
    for i, t in enumerate(types):
        data = values(rng, t, rows, nulls)
        columns[f"c{i}_{str(t).replace(' ', '')[:30]}"] = pa.array(data, type=t)
    return pa.table(columns)


CODECS = ["none", "snappy", "gzip", "zstd", "lz4", "brotli"]


def cases():
    out = []
    for i, codec in enumerate(CODECS):
        for page_version in ("1.0", "2.0"):
            for dictionary in (True, False):
                out.append(pytest.param(
                    dict(compression=codec, data_page_version=page_version, use_dictionary=dictionary),
                    id=f"{codec}-v{page_version}-{'dict' if dictionary else 'plain'}"))
    out.append(pytest.param(dict(data_page_size=512, row_group_size=700, write_batch_size=97), id="small-pages-row-groups"))
    out.append(pytest.param(dict(store_schema=False), id="no-stored-schema"))
    # Formats before 2.6 have no nanoseconds: pyarrow writes microseconds.
    coerce = dict(coerce_timestamps="us", allow_truncated_timestamps=True)
    out.append(pytest.param(dict(version="1.0", **coerce), id="format-1.0"))
    out.append(pytest.param(dict(version="2.4", data_page_version="2.0", compression="zstd", **coerce), id="format-2.4"))
    out.append(pytest.param(dict(coerce_timestamps="ms", allow_truncated_timestamps=True), id="timestamps-ms"))
    out.append(pytest.param(dict(dictionary_pagesize_limit=256, data_page_size=1024), id="dictionary-fallback"))
    return out


@pytest.mark.parametrize("options", cases())
def test_flat_types(parquet_bin, tmp_path, options):
    path = tmp_path / "flat.parquet"
    pq.write_table(table(hash(str(options)) & 0xFFFF, FLAT), path, **options)
    assert_same_table(read_ours(parquet_bin, path, tmp_path), pq.read_table(path))


@pytest.mark.parametrize("options", cases())
def test_nested_types(parquet_bin, tmp_path, options):
    path = tmp_path / "nested.parquet"
    pq.write_table(table(7 + (hash(str(options)) & 0xFFFF), NESTED, rows=1500), path, **options)
    assert_same_table(read_ours(parquet_bin, path, tmp_path), pq.read_table(path))


ENCODINGS = [
    ("DELTA_BINARY_PACKED", [pa.int32(), pa.int64(), pa.uint32(), pa.int8(), pa.timestamp("us")]),
    ("DELTA_LENGTH_BYTE_ARRAY", [pa.string(), pa.binary()]),
    ("DELTA_BYTE_ARRAY", [pa.string(), pa.binary(), pa.binary(5), pa.decimal128(20, 3)]),
    ("BYTE_STREAM_SPLIT", [pa.float32(), pa.float64(), pa.int32(), pa.int64(), pa.binary(5), pa.float16()]),
    ("PLAIN", [pa.bool_(), pa.int32(), pa.string()]),
    ("RLE", [pa.bool_()]),
]


@pytest.mark.parametrize("encoding,types", ENCODINGS, ids=[e for e, _ in ENCODINGS])
@pytest.mark.parametrize("page_version", ["1.0", "2.0"])
@pytest.mark.parametrize("nulls", [0.0, 0.3])
def test_column_encodings(parquet_bin, tmp_path, encoding, types, page_version, nulls):
    path = tmp_path / "encoded.parquet"
    data = table(len(encoding) * 31 + int(nulls * 10), types, rows=5000, nulls=nulls)
    if encoding == "DELTA_BINARY_PACKED":
        # Sorted runs and extremes: every bit width of the deltas.
        sorted_ints = pa.array(sorted(random.Random(3).randint(-(1 << 62), 1 << 62) for _ in range(5000)), pa.int64())
        data = data.append_column("sorted", sorted_ints)
    pq.write_table(data, path, use_dictionary=False, data_page_version=page_version, data_page_size=4096,
                   column_encoding={name: encoding for name in data.column_names})
    metadata = pq.ParquetFile(path).metadata
    assert encoding in metadata.row_group(0).column(0).encodings
    assert_same_table(read_ours(parquet_bin, path, tmp_path), pq.read_table(path))


def test_projection_and_row_groups(parquet_bin, tmp_path):
    path = tmp_path / "groups.parquet"
    data = table(11, [pa.int64(), pa.string(), pa.list_(pa.int32())], rows=10_000)
    pq.write_table(data, path, row_group_size=1000)
    names = data.column_names
    ours = read_ours(parquet_bin, path, tmp_path, "--columns", f"{names[2]},{names[0]}", "--row-groups", "3,0,9")
    theirs = pq.ParquetFile(path).read_row_groups([3, 0, 9], columns=[names[2], names[0]])
    assert_same_table(ours, theirs)


def test_small_batches_split_rows_across_pages(parquet_bin, tmp_path):
    path = tmp_path / "batches.parquet"
    data = table(12, NESTED[:4] + [pa.string()], rows=4000)
    pq.write_table(data, path, data_page_size=300, row_group_size=2500)
    ours = read_ours(parquet_bin, path, tmp_path, "--batch-size", "333")
    assert_same_table(ours, pq.read_table(path))
    assert max(b.num_rows for b in ours.to_batches()) <= 333
