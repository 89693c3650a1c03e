#!/usr/bin/env python3
"""Where the event->signal latency of an e2e-bench fixed-rate phase goes, per stage.

Run the bench with the services' trace on and keep its directory:

    VIGIL_TRACE=1 .build/release/e2e-bench --quick --rules 100 --rate 10000 --no-peers --keep
    python3 bench/e2e/latency-trace.py /tmp/e2e-bench-<pid>/rules-100/logs

The services write `TRACE …` lines (Sources/VigilLog/Trace.swift) to their logs: ingest one per
submitted batch (arrival, prepared, committed, published), enrichment and detection one per
consumer batch (received, taken, processed, committed, published, and the producers' times of
its messages), enrichment one per full-text step, every store's checkpointer one per
checkpoint, and any loop handler or timer that held a
loop over 3 ms. The fixed-rate phase is
found as the run of 100-event submits (the bench sends one per 10 ms, its first event a probe).
Each probe is then followed through the stages: ingest's batch, the enrichment batch holding an
event of its arrival millisecond published after it, the detection batch holding enrichment's
output of that batch. Times are wall-clock µs of one host, printed in ms.
"""
import sys
from collections import Counter


def parse(path):
    out = []
    for line in open(path, errors="replace"):
        if not line.startswith("TRACE "):
            continue
        parts = line.split()
        kv = {"kind": parts[1]}
        for p in parts[2:]:
            k, _, v = p.partition("=")
            try:
                kv[k] = int(v)
            except ValueError:
                kv[k] = v
        out.append(kv)
    return out


def pct(values, p):
    a = sorted(values)
    return a[min(len(a) - 1, max(0, int(len(a) * p + 0.999) - 1))] if a else -1


def show(name, values):
    v = [x / 1000 for x in values]
    if not v:
        print(f"  {name:34s} (none)")
        return
    print(f"  {name:34s} p50 {pct(v, .5):7.1f}  p90 {pct(v, .9):7.1f}  p99 {pct(v, .99):7.1f}  max {max(v):7.1f} ms  (n={len(v)})")


def main(d):
    ing, enr, det = (parse(f"{d}/{s}.log") for s in ("ingest", "enrichment", "detection"))
    subs = [x for x in ing if x["kind"] == "submit" and x["n"] == 100]
    if not subs:
        sys.exit("no fixed-rate submits (100-event batches) traced in " + d)
    t0, t1 = subs[0]["arrive"] * 1000, subs[-1]["pub"] + 2_000_000
    print(f"ingest: {len(subs)} submitted batches")
    show("arrive→prepared (parse, encode)", [s["prepared"] - s["arrive"] * 1000 for s in subs])
    show("prepared→commit start", [s["take"] - s["prepared"] for s in subs])
    show("commit (transaction)", [s["commit"] - s["take"] for s in subs])
    show("publish", [s["pub"] - s["commit"] for s in subs])
    show("arrive→published", [s["pub"] - s["arrive"] * 1000 for s in subs])
    for name, recs in (("ingest", ing), ("enrichment", enr), ("detection", det)):
        b = [x for x in recs if x["kind"] == "batch" and t0 <= x["take"] <= t1]
        if b:
            sizes = [x["n"] for x in b]
            print(f"{name}: {len(b)} batches, sizes p50 {pct(sizes, .5)} p99 {pct(sizes, .99)} max {max(sizes)}")
            show("producer's time (oldest)→received", [x["recv"] - x["pmin"] * 1000 for x in b])
            show("received→taken", [x["take"] - x["recv"] for x in b])
            show("process", [x["proc"] - x["take"] for x in b])
            show("commit", [x["commit"] - x["proc"] for x in b])
            show("publish", [x["pub"] - x["commit"] for x in b])
        slow = [x for x in recs if x["kind"] == "slow" and t0 <= x["at"] <= t1]
        key = lambda x: (x.get("source", ""), x.get("timer", ""), x.get("every", ""))
        for k, n in Counter(key(x) for x in slow).most_common(6):
            us = [x["us"] for x in slow if key(x) == k]
            what = f"source {k[0]}" if k[0] != "" else f"timer {k[1]} (every {k[2]} ms)"
            print(f"   {name} loop held > 3 ms by {what}: {n}x, max {max(us) / 1000:.1f} ms, sum {sum(us) / 1000:.0f} ms")
    for name, recs in (("ingest", ing), ("enrichment", enr), ("detection", det)):
        ck = [x for x in recs if x["kind"] == "ckpt" and t0 <= x["at"] <= t1]
        rs = [x["restart"] for x in ck if x["restart"] > 0]
        if ck:
            busy = sum(1 for x in ck if x.get("busy", 0))
            print(f"{name} checkpoint passes: {len(ck)}, {len(rs)} RESTART attempted (the store's writer waits while one holds the write lock), {busy} gave up")
            show("passive pass", [x["passive"] for x in ck])
            done = [x["restart"] for x in ck if x["restart"] > 0 and not x.get("busy", 0)]
            gave_up = [x["restart"] for x in ck if x["restart"] > 0 and x.get("busy", 0)]
            if done:
                show("RESTART", done)
            if gave_up:
                show("RESTART that gave up", gave_up)
    steps = [x for x in enr if x["kind"] == "fts" and t0 <= x["at"] <= t1]
    if steps:
        print(f"enrichment full-text steps: {len(steps)}, events p50 {pct([x['n'] for x in steps], .5)}")
        show("statement", [x["index"] for x in steps])
        show("step (with its commit)", [x["step"] for x in steps])
        show("CPU of the step", [x["cpu"] for x in steps])
    eb = [x for x in enr if x["kind"] == "batch"]
    db = [x for x in det if x["kind"] == "batch"]
    rows = []
    for s in subs:
        a = s["arrive"]
        e = next((x for x in eb if x["take"] >= s["pub"] - 2000 and x["pmin"] <= a <= x["pmax"]), None)
        if not e:
            continue
        # enrichment stamps what it appends between taking and committing the batch
        lo, hi = e["take"] // 1000, e["proc"] // 1000
        dd = next((x for x in db if x["take"] >= e["pub"] - 2000 and x["pmin"] <= hi and x["pmax"] >= lo), None)
        if not dd:
            continue
        rows.append((dd["take"] - a * 1000, s["pub"] - a * 1000, e["take"] - s["pub"], e["pub"] - e["take"], dd["take"] - e["pub"]))
    rows.sort()
    print(f"per probe ({len(rows)} followed): signal ≈ detection takes the batch (its created time)")
    show("total (arrival→signal)", [r[0] for r in rows])
    show("ingest arrival→published", [r[1] for r in rows])
    show("→ enrichment takes it", [r[2] for r in rows])
    show("enrichment batch taken→published", [r[3] for r in rows])
    show("→ detection takes it", [r[4] for r in rows])
    print("slowest probes (ms): total, ingest, wait for enrichment, enrichment batch, wait for detection")
    for r in rows[-8:]:
        print("   " + "  ".join(f"{v / 1000:7.1f}" for v in r))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: latency-trace.py <e2e-bench dir>/rules-<N>/logs")
    main(sys.argv[1])
