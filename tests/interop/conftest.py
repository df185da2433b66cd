"""Shared fixtures of the interop suite: paths to our tools and to the shared test data."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = ROOT.parent / "shared" / "testdata" / "arrow-testing" / "data"
GOLD = TESTDATA / "arrow-ipc-stream" / "integration" / "cpp-21.0.0"
GOLD_CASES = sorted(p.name[: -len(".json.gz")] for p in GOLD.glob("*.json.gz"))


@pytest.fixture(scope="session")
def arrow_integration() -> str:
    """Path of our arrow-integration binary (built by `make test`)."""
    path = os.environ.get("ARROW_INTEGRATION", str(ROOT / ".build" / "debug" / "arrow-integration"))
    assert os.access(path, os.X_OK), f"{path} is not built"
    return path


def run(args, stdin: bytes | None = None) -> bytes:
    """Runs a command, failing the test with its stderr when it exits non-zero."""
    proc = subprocess.run([str(a) for a in args], input=stdin, capture_output=True, timeout=120)
    assert proc.returncode == 0, f"{args[1]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}"
    return proc.stdout
