"""A producer of one pushed partition, as its own process: pushes synthetic rows with pyarrow's
DoPut to the target a `plan-push` action gave, declares its totals, and prints the last
acknowledgement as JSON.

Usage: push_producer.py LOCATION DESCRIPTOR_BASE64 START BATCHES ROWS_PER_BATCH
                        [--declare-rows N] [--pause SECONDS] [--no-totals]
"""
import argparse
import base64
import json
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight

SCHEMA = pa.schema([(name, pa.int64(), False) for name in "abcd"])

parser = argparse.ArgumentParser()
parser.add_argument("location")
parser.add_argument("descriptor")
parser.add_argument("start", type=int)
parser.add_argument("batches", type=int)
parser.add_argument("rows", type=int)
parser.add_argument("--declare-rows", type=int)
parser.add_argument("--pause", type=float, default=0.0)
parser.add_argument("--no-totals", action="store_true")
args = parser.parse_args()

client = flight.connect(args.location)
writer, acks = client.do_put(flight.FlightDescriptor.for_command(base64.b64decode(args.descriptor)), SCHEMA)
for i in range(args.batches):
    column = pa.array(np.arange(args.start + i * args.rows, args.start + (i + 1) * args.rows, dtype=np.int64))
    writer.write_batch(pa.record_batch([column] * 4, schema=SCHEMA))
    print(f"sent {i + 1}", flush=True)
    if args.pause:
        time.sleep(args.pause)
if not args.no_totals:
    rows = args.batches * args.rows if args.declare_rows is None else args.declare_rows
    writer.write_metadata(json.dumps({"total_batches": args.batches, "total_rows": rows}).encode())
writer.done_writing()
last = None
try:
    while True:
        ack = acks.read()
        if ack is None:
            break
        last = ack.to_pybytes()
    writer.close()
except flight.FlightError as error:
    print(json.dumps({"error": str(error)}), flush=True)
    sys.exit(3)
except pa.ArrowException as error:
    print(json.dumps({"error": str(error)}), flush=True)
    sys.exit(3)
print(last.decode() if last else "{}", flush=True)
