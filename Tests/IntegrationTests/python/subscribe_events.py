#!/usr/bin/python3
"""Another language reads an event stream: BATCH and DATA envelopes, with nothing but
Protos/vigil/v1/*.proto (docs/wire.md, "Event streams come in batches").

usage: subscribe_events.py GENERATED_DIR SUBSCRIBE_ENDPOINT COUNT [TIMEOUT_S]
Prints 'ready', then one JSON line per event received on `events.enriched.` (a BATCH envelope
expanded into its messages, in sequence order); exits after COUNT events.
"""
import json
import sys
import time

import busreader
from vigil.v1 import event_pb2, stream_pb2  # noqa: E402

count = int(sys.argv[3])
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
ctx, sub = busreader.subscribe(b"events.enriched.")


def messages(env):
    """(sequence, payload) of every message an envelope carries; [] for other kinds."""
    if env.kind == stream_pb2.ENVELOPE_KIND_DATA:
        return [(env.sequence, env.payload)]
    if env.kind == stream_pb2.ENVELOPE_KIND_BATCH:
        if not env.payloads or len(env.payloads) != len(env.produced_times_ms):
            return []  # malformed: skip it (a reliable reader would count it and replay)
        return [(env.sequence + i, p) for i, p in enumerate(env.payloads)]
    return []  # HEAD, or a kind this reader does not know


seen = 0
deadline = time.time() + timeout
while time.time() < deadline and seen < count:
    if not sub.poll(200):
        continue
    topic, body = sub.recv_multipart()
    env = stream_pb2.StreamEnvelope()
    env.ParseFromString(body)
    if env.payload_type != "vigil.v1.Event":
        continue
    for seq, payload in messages(env):
        e = event_pb2.Event()
        e.ParseFromString(payload)
        seen += 1
        print(json.dumps({
            "topic": topic.decode(),
            "stream": env.stream,
            "kind": stream_pb2.EnvelopeKind.Name(env.kind),
            "sequence": seq,
            "host": e.fields.get("host.name", ""),
            "user": e.fields.get("user.name", ""),
            "raw": e.raw.decode(errors="replace"),
        }), flush=True)
sub.close(0)
ctx.term()
sys.exit(0 if seen >= count else 3)
