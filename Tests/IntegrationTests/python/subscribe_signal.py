#!/usr/bin/python3
"""Another language subscribes: decodes signals with nothing but Protos/vigil/v1/*.proto.

usage: subscribe_signal.py GENERATED_DIR SUBSCRIBE_ENDPOINT [TIMEOUT_S]
Prints 'ready', then one JSON line per signal received on `signals.` (stops after the first).
"""
import json
import sys
import time

import busreader
from vigil.v1 import signal_pb2, stream_pb2  # noqa: E402

timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
ctx, sub = busreader.subscribe(b"signals.")
deadline = time.time() + timeout
while time.time() < deadline:
    if not sub.poll(200):
        continue
    topic, body = sub.recv_multipart()
    env = stream_pb2.StreamEnvelope()
    env.ParseFromString(body)
    if env.kind != stream_pb2.ENVELOPE_KIND_DATA or env.payload_type != "vigil.v1.Signal":
        continue
    sig = signal_pb2.Signal()
    sig.ParseFromString(env.payload)
    print(json.dumps({
        "topic": topic.decode(),
        "producer": env.producer_id,
        "sequence": env.sequence,
        "rule_name": sig.rule_name,
        "criticality": signal_pb2.Criticality.Name(sig.criticality),
        "risk_score": sig.risk_score,
        "tactic": sig.mitre.tactic_name,
        "technique": sig.mitre.technique_id,
        "user": sig.entity.user,
        "ip": sig.entity.ip,
        "event_ids": list(sig.event_ids),
    }), flush=True)
    sub.close(0)
    ctx.term()
    sys.exit(0)
print("timeout", flush=True)
sys.exit(3)
