"""C Data Interface interop with pyarrow in one process: pyarrow exports fields, schemas, arrays
and record batches as ArrowSchema/ArrowArray structs, our bridge library (libArrowCDataBridge)
imports them into its own Field/Schema/ArrayData, validates them and exports them back, and
pyarrow imports the result. Values must be equal, and every byte pyarrow or we allocated must be
freed once both sides have let go."""
import ctypes
import gc
import os
import random

import pyarrow as pa
import pytest

from conftest import ROOT
from test_ipc_random import random_columns, random_table


class ArrowSchema(ctypes.Structure):
    pass


class ArrowArray(ctypes.Structure):
    pass


SchemaRelease = ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))
ArrayRelease = ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))

# The layouts of the specification; the bridge's C target checks the same sizes at compile time.
ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p), ("name", ctypes.c_char_p), ("metadata", ctypes.c_void_p),
    ("flags", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))), ("dictionary", ctypes.POINTER(ArrowSchema)),
    ("release", SchemaRelease), ("private_data", ctypes.c_void_p),
]
ArrowArray._fields_ = [
    ("length", ctypes.c_int64), ("null_count", ctypes.c_int64), ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)), ("children", ctypes.POINTER(ctypes.POINTER(ArrowArray))),
    ("dictionary", ctypes.POINTER(ArrowArray)), ("release", ArrayRelease), ("private_data", ctypes.c_void_p),
]
assert ctypes.sizeof(ArrowSchema) == 72 and ctypes.sizeof(ArrowArray) == 80


@pytest.fixture(scope="module")
def bridge():
    """Our bridge library, loaded into this process (built by `make test`)."""
    path = os.environ.get("ARROW_CDATA_BRIDGE", str(ROOT / ".build" / "debug" / "libArrowCDataBridge.so"))
    assert os.path.exists(path), f"{path} is not built"
    lib = ctypes.CDLL(path)
    S, A = ctypes.POINTER(ArrowSchema), ctypes.POINTER(ArrowArray)
    for name, args in [("arrow_bridge_roundtrip", [S, A, S, A]), ("arrow_bridge_roundtrip_batch", [S, A, S, A, ctypes.c_int32]),
                       ("arrow_bridge_roundtrip_field", [S, S]), ("arrow_bridge_roundtrip_schema", [S, S]),
                       ("arrow_bridge_export_sample_batch", [S, A])]:
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = ctypes.c_int32
    lib.arrow_bridge_last_error.restype = ctypes.c_char_p
    lib.arrow_bridge_live_sample_buffers.restype = ctypes.c_int64
    return lib


def check(lib, rc: int):
    assert rc == 0, lib.arrow_bridge_last_error().decode()


def roundtrip_array(lib, array: pa.Array) -> pa.Array:
    schema_in, array_in, schema_out, array_out = ArrowSchema(), ArrowArray(), ArrowSchema(), ArrowArray()
    array._export_to_c(ctypes.addressof(array_in), ctypes.addressof(schema_in))
    check(lib, lib.arrow_bridge_roundtrip(schema_in, array_in, schema_out, array_out))
    assert not schema_in.release and not array_in.release, "the bridge takes the input over"
    back = pa.Array._import_from_c(ctypes.addressof(array_out), ctypes.addressof(schema_out))
    assert not schema_out.release and not array_out.release
    return back


def roundtrip_batch(lib, batch: pa.RecordBatch, copy: bool) -> pa.RecordBatch:
    schema_in, array_in, schema_out, array_out = ArrowSchema(), ArrowArray(), ArrowSchema(), ArrowArray()
    batch._export_to_c(ctypes.addressof(array_in), ctypes.addressof(schema_in))
    check(lib, lib.arrow_bridge_roundtrip_batch(schema_in, array_in, schema_out, array_out, int(copy)))
    return pa.RecordBatch._import_from_c(ctypes.addressof(array_out), ctypes.addressof(schema_out))


def extra_columns(rng: random.Random, n: int) -> dict[str, pa.Array]:
    """Types and layouts the IPC generators do not cover."""
    cols = random_columns(rng, n)
    maybe = lambda v: None if rng.random() < 0.2 else v
    words = pa.array(["red", "green", "blue", None, "a rather long dictionary value"])
    indices = lambda t: pa.array([maybe(rng.randrange(5)) for _ in range(n)], t)
    ends = sorted({min(2, n), n} - {0})
    extra = {
        "dict_int64_ordered": pa.DictionaryArray.from_arrays(indices(pa.int64()), words, ordered=True),
        "dict_uint8": pa.DictionaryArray.from_arrays(indices(pa.uint8()), words),
        "dict_of_lists": pa.DictionaryArray.from_arrays(indices(pa.int16()), pa.array([[1], [], None, [2, 3], [4]])),
        "list_of_dict": pa.ListArray.from_arrays(pa.array([0, 0, 1, 3], pa.int32()),
                                                 pa.array(["x", "y", "x"]).dictionary_encode()),
        "sparse_union_codes": pa.UnionArray.from_sparse(
            pa.array([rng.choice([5, 2]) for _ in range(n)], pa.int8()),
            [pa.array([maybe(rng.randint(0, 9)) for _ in range(n)], pa.int64()), pa.array([maybe("s") for _ in range(n)])],
            field_names=["five", "two"], type_codes=[5, 2]),
        "ree_int16": pa.RunEndEncodedArray.from_arrays(pa.array(ends, pa.int16()), pa.array([1.5, None][: len(ends)], pa.float64())),
        "ree_int64": pa.RunEndEncodedArray.from_arrays(pa.array([n] if n else [], pa.int64()), pa.array([True] if n else [])),
        "views_concatenated": pa.concat_arrays([cols["utf8_view"], cols["utf8_view"].slice(n // 2)]),
        "list_of_struct": pa.array([maybe([{"a": maybe([1, 2]), "b": maybe({"k": 1})}] * rng.randint(0, 2)) for _ in range(n)],
                                   pa.list_(pa.struct([("a", pa.list_(pa.int8())), ("b", pa.map_(pa.string(), pa.int32()))]))),
        "fixed_list_of_utf8": pa.array([maybe([maybe("p"), "qq"]) for _ in range(n)], pa.list_(pa.string(), 2)),
        "large_list_view_of_views": pa.array([maybe([maybe("v" * rng.randint(0, 20))]) for _ in range(n)],
                                             pa.large_list_view(pa.string_view())),
        "map_keys_sorted": pa.array([maybe([("a", 1), ("b", 2)]) for _ in range(n)], pa.map_(pa.string(), pa.int8(), keys_sorted=True)),
        "uuid": pa.ExtensionArray.from_storage(pa.uuid(), pa.array([maybe(bytes(rng.getrandbits(8) for _ in range(16)))
                                                                    for _ in range(n)], pa.binary(16))),
    }
    cols.update(extra)
    return cols


def variants(array: pa.Array):
    """The array, a slice with a non-zero offset, and an empty slice."""
    yield "whole", array
    if len(array) > 3:
        yield "sliced", array.slice(2, len(array) - 3)
    yield "empty", array.slice(min(1, len(array)), 0)


@pytest.mark.parametrize("seed,n", [(0, 0), (1, 1), (2, 7), (3, 64), (4, 300)])
def test_pyarrow_arrays_of_every_type_survive_our_import_and_export(bridge, seed, n):
    cols = extra_columns(random.Random(seed), n)
    for name, column in cols.items():
        for variant, array in variants(column):
            back = roundtrip_array(bridge, array)
            assert back.type == array.type, f"{name} ({variant}): {back.type} != {array.type}"
            back.validate(full=True)
            assert back.equals(array), f"{name} ({variant}) differs"


@pytest.mark.parametrize("copy", [False, True], ids=["zero-copy", "through-ipc"])
@pytest.mark.parametrize("seed", range(4))
def test_pyarrow_record_batches_survive_our_import_and_export(bridge, seed, copy):
    rng = random.Random(seed)
    table = random_table(seed, rng.choice([1, 7, 64, 300]))
    schema = table.schema.append(pa.field("required", pa.int32(), nullable=False, metadata={"é": "ü"}))
    table = table.append_column(schema.field(len(schema) - 1), pa.array(range(table.num_rows), pa.int32()))
    for batch in table.to_batches(max_chunksize=rng.choice([None, 50])):
        for sliced in [batch, batch.slice(min(2, batch.num_rows), max(0, batch.num_rows - 3))]:
            back = roundtrip_batch(bridge, sliced, copy)
            assert back.schema.equals(sliced.schema, check_metadata=True)
            back.validate(full=True)
            assert back.equals(sliced)


def test_pyarrow_fields_and_schemas_survive_our_import_and_export(bridge):
    fields = [
        pa.field("plain", pa.int64()),
        pa.field("required", pa.string(), nullable=False, metadata={"k": "v", "ключ": "значение"}),
        pa.field("ordered", pa.dictionary(pa.int32(), pa.large_string(), ordered=True)),
        pa.field("sorted", pa.map_(pa.string(), pa.list_(pa.int8()), keys_sorted=True)),
        pa.field("union", pa.dense_union([pa.field("a", pa.int8()), pa.field("b", pa.binary_view())], type_codes=[3, 9])),
        pa.field("ree", pa.run_end_encoded(pa.int16(), pa.dictionary(pa.int8(), pa.string()))),
        pa.field("ts", pa.timestamp("ns", tz="America/New_York")),
        pa.field("dec", pa.decimal256(60, -5)),
        pa.field("uuid", pa.uuid()),
    ]
    for field in fields:
        schema_in, schema_out = ArrowSchema(), ArrowSchema()
        field._export_to_c(ctypes.addressof(schema_in))
        check(bridge, bridge.arrow_bridge_roundtrip_field(schema_in, schema_out))
        back = pa.Field._import_from_c(ctypes.addressof(schema_out))
        assert back.equals(field, check_metadata=True), f"{back} != {field}"

    schema = pa.schema(fields, metadata={"origin": "pyarrow", "empty": ""})
    schema_in, schema_out = ArrowSchema(), ArrowSchema()
    schema._export_to_c(ctypes.addressof(schema_in))
    check(bridge, bridge.arrow_bridge_roundtrip_schema(schema_in, schema_out))
    assert pa.Schema._import_from_c(ctypes.addressof(schema_out)).equals(schema, check_metadata=True)


def test_pyarrow_memory_is_released_after_the_round_trip(bridge):
    gc.collect()
    start = pa.total_allocated_bytes()
    cols = extra_columns(random.Random(7), 200)
    backs = [roundtrip_array(bridge, column.slice(1, 150)) for column in cols.values()]
    table = random_table(8, 100)
    batches = [roundtrip_batch(bridge, batch, copy=False) for batch in table.to_batches()]
    del cols, table
    gc.collect()
    assert pa.total_allocated_bytes() > start, "our exports still share pyarrow's memory"
    del backs, batches
    gc.collect()
    assert pa.total_allocated_bytes() == start


def test_pyarrow_memory_is_released_when_we_reject_the_input(bridge):
    gc.collect()
    start = pa.total_allocated_bytes()
    array = pa.array(["a", "bb", None, "dddd"] * 100)
    schema_in, array_in, schema_out, array_out = ArrowSchema(), ArrowArray(), ArrowSchema(), ArrowArray()
    array._export_to_c(ctypes.addressof(array_in), ctypes.addressof(schema_in))
    array_in.buffers[2] = None  # the string data
    del array
    gc.collect()
    assert bridge.arrow_bridge_roundtrip(schema_in, array_in, schema_out, array_out) != 0
    assert b"data buffer is NULL" in bridge.arrow_bridge_last_error()
    assert not schema_in.release and not array_in.release
    assert not schema_out.release and not array_out.release, "nothing is exported on failure"
    gc.collect()
    assert pa.total_allocated_bytes() == start


def test_malformed_format_strings_are_rejected_and_released_once(bridge):
    for fmt in [b"q", b"d:5", b"w:-1", b"tsx:", b"+ud:1,x", b"+l", b""]:
        calls = []

        @SchemaRelease
        def release(pointer):
            calls.append(1)
            pointer.contents.release = SchemaRelease()

        schema_in, schema_out = ArrowSchema(), ArrowSchema()
        schema_in.format = fmt
        schema_in.name = b"bad"
        schema_in.release = release
        assert bridge.arrow_bridge_roundtrip_field(schema_in, schema_out) != 0
        assert b"format" in bridge.arrow_bridge_last_error(), bridge.arrow_bridge_last_error()
        assert calls == [1], fmt
        assert not schema_out.release


def test_our_batch_reads_in_pyarrow_and_is_freed_when_pyarrow_drops_it(bridge):
    gc.collect()
    schema_out, array_out = ArrowSchema(), ArrowArray()
    check(bridge, bridge.arrow_bridge_export_sample_batch(schema_out, array_out))
    assert bridge.arrow_bridge_live_sample_buffers() > 0
    batch = pa.RecordBatch._import_from_c(ctypes.addressof(array_out), ctypes.addressof(schema_out))
    batch.validate(full=True)
    assert batch.schema.metadata == {b"producer": b"swift-arrow-flight"}
    assert batch.schema.field("name").metadata == {b"unit": b"none"}
    assert not batch.schema.field("id").nullable
    assert batch.to_pydict() == {
        "id": [0, 1, 2, 3, 4],
        "score": [0.5, None, 2.5, None, 4.5],
        "name": ["a", None, "ccc", "", "eeeee"],
        "tags": [["x"], [], None, ["y", "z"], ["w"]],
        "view": ["short", "a string longer than twelve", None, "", "another long string value"],
        "color": ["red", "green", None, "red", "blue"],
    }
    assert batch.column("view").type == pa.string_view()
    assert batch.column("color").type == pa.dictionary(pa.int8(), pa.string())
    # A column outlives its batch, and keeps our memory alive on its own.
    tags = batch.column("tags")
    del batch
    gc.collect()
    assert bridge.arrow_bridge_live_sample_buffers() > 0
    assert tags.to_pylist()[3] == ["y", "z"]
    del tags
    gc.collect()
    assert bridge.arrow_bridge_live_sample_buffers() == 0
