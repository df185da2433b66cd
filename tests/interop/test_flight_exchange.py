"""DoExchange with the pyarrow client against our server: batches of several types and
application metadata go out and come back equal, in order."""
import subprocess

import pyarrow as pa
import pyarrow.flight as fl

from test_flight_memory import flight_bench


def test_pyarrow_do_exchange_round_trips_batches_and_metadata():
    server = subprocess.Popen([flight_bench(), "serve", "--port", "0", "--rows", "10"], stdout=subprocess.PIPE, text=True)
    try:
        uri = server.stdout.readline().strip().split()[-1]
        client = fl.connect(uri)
        schema = pa.schema([("n", pa.int64()), ("s", pa.string()), ("l", pa.list_(pa.float64()))])
        batches = [pa.record_batch([pa.array([i, None, 3]), pa.array(["a", "bé", None]), pa.array([[1.5], None, []])], schema=schema)
                   for i in range(5)]
        writer, reader = client.do_exchange(fl.FlightDescriptor.for_command(b"echo"))
        with writer:
            writer.begin(schema)
            for i, batch in enumerate(batches):
                writer.write_with_metadata(batch, pa.py_buffer(f"m{i}".encode()))
            writer.write_metadata(pa.py_buffer(b"only metadata"))
            writer.done_writing()
            received = []
            while True:
                try:
                    chunk = reader.read_chunk()
                except StopIteration:
                    break
                received.append((chunk.data, chunk.app_metadata.to_pybytes() if chunk.app_metadata else None))
        assert [m for _, m in received] == [f"m{i}".encode() for i in range(5)] + [b"only metadata"]
        for (data, _), batch in zip(received, batches):
            assert data.equals(batch)
        assert received[-1][0] is None
    finally:
        server.terminate()
        server.wait(timeout=10)
