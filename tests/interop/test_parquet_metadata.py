"""Our `parquet schema` and `parquet meta` against pyarrow's reading of the same footers: every
file of parquet-testing's data/, field by field; every file of bad_data/ answered with exit 0
or 2, never a crash or a hang."""
import json
import os
import pathlib
import subprocess

import pyarrow.parquet as pq
import pytest

from conftest import ROOT, _executable

PARQUET_TESTING = ROOT.parent / "shared" / "testdata" / "parquet-testing"
DATA = sorted((PARQUET_TESTING / "data").rglob("*.parquet"))
ENCRYPTED = sorted((PARQUET_TESTING / "data").rglob("*.parquet.encrypted"))
BAD = sorted(p for p in (PARQUET_TESTING / "bad_data").iterdir() if p.suffix == ".parquet")


@pytest.fixture(scope="session")
def parquet_bin() -> str:
    return _executable("PARQUET", "parquet")


def tool(binary, *args):
    return subprocess.run([binary, *map(str, args)], capture_output=True, timeout=60)


# pyarrow names the LZ4 codecs after Arrow's (LZ4 for LZ4_RAW, LZ4_HADOOP for the deprecated
# LZ4); any spelling of the LZ4 family is taken for another.
def same_codec(ours, theirs):
    # pyarrow cannot name the deprecated LZ4 (Hadoop) codec in metadata: it says UNKNOWN.
    return ours == theirs or (ours.startswith("LZ4") and (theirs.startswith("LZ4") or theirs == "UNKNOWN"))


# Files pyarrow refuses, with its reason; we read their footers (README lists them).
PYARROW_REFUSES = {"incorrect_map_schema.parquet": "Map keys must be annotated as required"}


@pytest.mark.parametrize("path", DATA, ids=[p.name for p in DATA])
def test_footer_matches_pyarrow(parquet_bin, path):
    meta = tool(parquet_bin, "meta", "--json", path)
    assert meta.returncode == 0, meta.stderr.decode()
    if path.name in PYARROW_REFUSES:
        with pytest.raises(Exception, match=PYARROW_REFUSES[path.name]):
            pq.ParquetFile(path).metadata
        assert tool(parquet_bin, "schema", "--json", path).returncode == 0
        return
    theirs = pq.ParquetFile(path).metadata
    ours = json.loads(meta.stdout)
    assert ours["num_rows"] == theirs.num_rows
    assert ours["version"] in (1, 2)
    assert (ours["created_by"] or "") == theirs.created_by
    assert len(ours["row_groups"]) == theirs.num_row_groups
    assert ours["key_value_metadata"] == {k.decode(): v.decode() for k, v in (theirs.metadata or {}).items()}
    for g, group in enumerate(ours["row_groups"]):
        expected = theirs.row_group(g)
        assert group["num_rows"] == expected.num_rows
        assert group["total_byte_size"] == expected.total_byte_size
        assert len(group["columns"]) == expected.num_columns
        for c, column in enumerate(group["columns"]):
            chunk = expected.column(c)
            if column.get("encrypted"):
                continue
            assert ".".join(column["path"]) == chunk.path_in_schema
            assert column["physical_type"] == chunk.physical_type
            assert same_codec(column["codec"], chunk.compression), (column["codec"], chunk.compression)
            assert set(column["encodings"]) == set(chunk.encodings)
            assert column["num_values"] == chunk.num_values
            assert column["total_compressed_size"] == chunk.total_compressed_size
            assert column["total_uncompressed_size"] == chunk.total_uncompressed_size
            assert column["data_page_offset"] == chunk.data_page_offset
            if chunk.has_dictionary_page:
                assert column["dictionary_page_offset"] == chunk.dictionary_page_offset
            # pyarrow ignores statistics that known writer bugs make wrong; it never sees some
            # where there are none.
            assert column["has_statistics"] or not chunk.is_stats_set
            if chunk.is_stats_set and chunk.statistics.has_null_count and column["null_count"] is not None:
                assert column["null_count"] == chunk.statistics.null_count

    schema = tool(parquet_bin, "schema", "--json", path)
    assert schema.returncode == 0, schema.stderr.decode()
    columns = json.loads(schema.stdout)["columns"]
    assert len(columns) == len(theirs.schema)
    for i, column in enumerate(columns):
        expected = theirs.schema.column(i)
        assert ".".join(column["path"]) == expected.path
        assert column["physical_type"] == expected.physical_type
        assert column["max_definition_level"] == expected.max_definition_level
        assert column["max_repetition_level"] == expected.max_repetition_level
        ours_logical = column["logical_type"] or "NONE"
        if ours_logical.startswith("LOGICAL_TYPE("):
            # A logical type newer than pyarrow knows is UNDEFINED to it; we name the union member.
            assert expected.logical_type.type == "UNDEFINED" and expected.converted_type in ("NONE", "UNKNOWN")
            continue
        assert (column["converted_type"] or "NONE") == expected.converted_type
        assert ours_logical == expected.logical_type.type


@pytest.mark.parametrize("path", ENCRYPTED, ids=[p.relative_to(PARQUET_TESTING).as_posix() for p in ENCRYPTED])
def test_encrypted_files_are_told_apart(parquet_bin, path):
    # pyarrow without keys aborts the process on the plaintext-footer files, so no comparison:
    # an encrypted footer without keys is exit 2 saying so (test_parquet_read.py reads them with
    # their keys); a plaintext footer reads, its encrypted columns marked.
    meta = tool(parquet_bin, "meta", "--json", path)
    with open(path, "rb") as f:
        f.seek(-4, os.SEEK_END)
        encrypted_footer = f.read() == b"PARE"
    if encrypted_footer:
        assert meta.returncode == 2 and b"encrypted" in meta.stderr, meta.stderr
    else:
        assert meta.returncode == 0, meta.stderr
        columns = [c for g in json.loads(meta.stdout)["row_groups"] for c in g["columns"]]
        assert any(c.get("encrypted") for c in columns)


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_bad_files_are_answered_without_a_crash(parquet_bin, path):
    for command in ("meta", "schema"):
        result = tool(parquet_bin, command, "--json", path)
        assert result.returncode in (0, 2), (result.returncode, result.stderr)
        if result.returncode == 2:
            assert result.stderr.startswith(b"parquet: "), result.stderr


def test_usage_errors_and_unreadable_files(parquet_bin, tmp_path):
    assert tool(parquet_bin, "meta").returncode == 64
    assert tool(parquet_bin, "frobnicate", "x").returncode == 64
    missing = tool(parquet_bin, "meta", tmp_path / "missing.parquet")
    assert missing.returncode == 2 and b"cannot open" in missing.stderr
    (tmp_path / "text.parquet").write_text("not parquet at all")
    assert tool(parquet_bin, "schema", tmp_path / "text.parquet").returncode == 2
