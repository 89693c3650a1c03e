#!/usr/bin/env python3
"""The Zircolite approach, as a peer for bench/e2e: load Windows JSON events (evtx_dump shape,
one per line) into an SQLite table with one column per field (System and EventData flattened),
convert Sigma rules with pySigma's SQLite backend, run each rule as a query.

usage: sigma_sqlite.py EVENTS.jsonl RULES_DIR
prints one JSON object: events, rules, wall and CPU seconds of load, convert and query, matches per rule.
"""
import glob, json, os, sqlite3, sys, time

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection


def flatten(ev):
    e = ev.get("Event", ev)
    out = {}
    system = e.get("System", {})
    for k, v in system.items():
        if isinstance(v, dict):
            attrs = v.get("#attributes", {})
            if k == "Provider":
                out["Provider_Name"] = attrs.get("Name")
            elif k == "TimeCreated":
                out["SystemTime"] = attrs.get("SystemTime")
            elif "#text" in v:
                out[k] = v["#text"]
        else:
            out[k] = v
    for k, v in (e.get("EventData") or {}).items():
        out[k] = v
    return out


def main():
    path, rules_dir = sys.argv[1], sys.argv[2]
    c0, t0 = time.process_time(), time.perf_counter()
    rows = []
    cols = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = flatten(json.loads(line))
            for k in r:
                cols.setdefault(k, len(cols))
            rows.append(r)
    names = list(cols)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE logs (row_id INTEGER PRIMARY KEY, " + ", ".join(f'"{n}" TEXT COLLATE NOCASE' for n in names) + ")")
    db.executemany("INSERT INTO logs (" + ", ".join(f'"{n}"' for n in names) + ") VALUES (" + ", ".join("?" * len(names)) + ")",
                   ([None if r.get(n) is None else str(r.get(n)) for n in names] for r in rows))
    db.commit()
    t1, c1 = time.perf_counter(), time.process_time()
    backend = sqliteBackend()
    queries = {}
    for p in sorted(glob.glob(os.path.join(rules_dir, "*.yml"))):
        with open(p, encoding="utf-8") as f:
            for q in backend.convert(SigmaCollection.from_yaml(f.read())):
                queries[os.path.basename(p)[:-4]] = q
    t2, c2 = time.perf_counter(), time.process_time()
    matches = {}
    for name, q in queries.items():
        while True:
            try:
                matches[name] = len(db.execute(q).fetchall())
                break
            except sqlite3.OperationalError as e:
                # A field no event has: add it as an empty column (the rule then matches nothing on it).
                msg = str(e)
                if not msg.startswith("no such column: "):
                    raise
                db.execute(f'ALTER TABLE logs ADD COLUMN "{msg[16:]}" TEXT COLLATE NOCASE')
    t3, c3 = time.perf_counter(), time.process_time()
    print(json.dumps({"events": len(rows), "rules": len(queries), "load_s": t1 - t0, "convert_s": t2 - t1,
                      "query_s": t3 - t2, "wall_s": t3 - t0, "cpu_load_s": c1 - c0, "cpu_convert_s": c2 - c1,
                      "cpu_query_s": c3 - c2, "matches": matches}))


if __name__ == "__main__":
    main()
