"""pyarrow (Arrow C++) reads what our writers make of Arrow's integration gold files, and the
values equal those of the C++-written gold file, compared value by value."""
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from conftest import GOLD, GOLD_CASES, run


def assert_same(ours: pa.Table, gold: pa.Table, what: str) -> None:
    assert ours.schema.equals(gold.schema, check_metadata=True), f"{what}: schema\n{ours.schema}\n!=\n{gold.schema}"
    assert ours.num_rows == gold.num_rows, f"{what}: {ours.num_rows} rows != {gold.num_rows}"
    # ChunkedArray.equals compares values whatever the chunking, in C++, without wrapping
    # arrays in Python objects (pyarrow has no Python class for day-time intervals).
    for i, (a, b) in enumerate(zip(ours.columns, gold.columns)):
        assert a.equals(b), f"{what}: column {i} ({gold.schema.field(i).name}) differs"


def gold_table(name: str) -> pa.Table:
    with ipc.open_file(GOLD / f"{name}.arrow_file") as reader:
        return reader.read_all()


@pytest.mark.parametrize("name", GOLD_CASES)
def test_pyarrow_reads_our_json_to_arrow_file(name, tmp_path, arrow_integration):
    out = tmp_path / f"{name}.arrow"
    run([arrow_integration, "json-to-arrow", "--json", GOLD / f"{name}.json.gz", "--arrow", out])
    with ipc.open_file(out) as reader:
        ours = reader.read_all()
    assert_same(ours, gold_table(name), f"{name} json-to-arrow")


@pytest.mark.parametrize("name", GOLD_CASES)
@pytest.mark.parametrize("compression", ["none", "lz4", "zstd"])
def test_pyarrow_reads_our_stream_to_file(name, compression, arrow_integration):
    stream = (GOLD / f"{name}.stream").read_bytes()
    out = run([arrow_integration, "stream-to-file", "--compression", compression], stdin=stream)
    with ipc.open_file(pa.BufferReader(out)) as reader:
        ours = reader.read_all()
    assert_same(ours, gold_table(name), f"{name} stream-to-file {compression}")


@pytest.mark.parametrize("name", GOLD_CASES)
def test_pyarrow_reads_our_file_to_stream(name, arrow_integration):
    out = run([arrow_integration, "file-to-stream", GOLD / f"{name}.arrow_file"])
    with ipc.open_stream(pa.BufferReader(out)) as reader:
        ours = reader.read_all()
    assert_same(ours, gold_table(name), f"{name} file-to-stream")


@pytest.mark.parametrize("name", GOLD_CASES)
def test_our_arrow_to_json_validates(name, tmp_path, arrow_integration):
    json_out = tmp_path / f"{name}.json"
    run([arrow_integration, "arrow-to-json", "--arrow", GOLD / f"{name}.arrow_file", "--json", json_out])
    run([arrow_integration, "validate", "--arrow", GOLD / f"{name}.stream", "--json", json_out])
