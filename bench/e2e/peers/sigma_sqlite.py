#!/usr/bin/env python3
"""The Zircolite approach, as a peer for bench/e2e: load Windows JSON events (evtx_dump shape,
one per line) into an SQLite table with one column per field (System and EventData flattened),
convert Sigma rules with pySigma's SQLite backend, run each rule as a query.

usage: sigma_sqlite.py EVENTS.jsonl RULES_DIR
prints one JSON object: events, rules, wall and CPU seconds of load, convert and query, matches per rule.
"""
import glob, json, os, re, sqlite3, sys, time

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def data(d, out, depth=0):
    """EventData/UserData → leaf names, as Vigil's Windows parser does (Flatten.windowsData):
    nested containers give their leaves by leaf name without overwriting, arrays are joined."""
    if not isinstance(d, dict) or depth >= 8:
        return
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, dict):
            if "#text" in v and not isinstance(v["#text"], (dict, list)):
                out.setdefault(k, scalar(v["#text"]))
            else:
                data(v, out, depth + 1)
        elif isinstance(v, list):
            out.setdefault(k, ",".join(scalar(x["#text"] if isinstance(x, dict) else x) for x in v
                                       if not isinstance(x, (dict, list)) or (isinstance(x, dict) and "#text" in x)))
        elif k != "xmlns" and (depth == 0 or k not in out):
            out[k] = scalar(v)


def flatten(ev):
    """One evtx_dump event → {field: text}: EventData and UserData leaves, System scalars, and
    System attribute blocks as Element_Attribute (Provider_Name, TimeCreated_SystemTime) — the
    field names Vigil's Windows parser gives, so both sides see the same fields."""
    e = ev.get("Event", ev)
    out = {}
    data(e.get("EventData"), out)
    data(e.get("UserData"), out)
    for k, v in (e.get("System") or {}).items():
        if v is None:
            continue
        if not isinstance(v, (dict, list)):
            out[k] = scalar(v)
            continue
        if isinstance(v, dict):
            if "#text" in v:
                out[k] = scalar(v["#text"])
            for ak, av in (v.get("#attributes") or {}).items():
                if av is not None and not isinstance(av, (dict, list)):
                    out[k + "_" + ak] = scalar(av)
    return out


def regexp(pattern, value):
    return 0 if value is None else int(re.search(pattern, value) is not None)


def load_events(path):
    """The load phase: parse every line, flatten, insert into an in-memory table `logs` with one
    TEXT COLLATE NOCASE column per field (row_id = line number + 1). Rows are inserted with only
    their own columns, grouped by column set (Zircolite inserts each event with its own columns;
    binding every column of a wide table for each row would bill pySigma for our loader).
    Returns (db, rows)."""
    cols = {}
    groups = {}
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = flatten(json.loads(line))
            n += 1
            key = tuple(r)
            g = groups.get(key)
            if g is None:
                g = groups[key] = []
                for k in key:
                    cols.setdefault(k, None)
            g.append((n, *r.values()))
    db = sqlite3.connect(":memory:")
    # The `re` modifier: pySigma's SQLite backend emits `field REGEXP 'pattern'`, which SQLite
    # leaves to the application; Zircolite registers this function.
    db.create_function("regexp", 2, regexp, deterministic=True)
    db.execute("CREATE TABLE logs (row_id INTEGER PRIMARY KEY" + "".join(f', "{c}" TEXT COLLATE NOCASE' for c in cols) + ")")
    for key, rows in groups.items():
        db.executemany("INSERT INTO logs (row_id" + "".join(f', "{c}"' for c in key) + ") VALUES (?" + ", ?" * len(key) + ")", rows)
    db.commit()
    return db, n


def main():
    path, rules_dir = sys.argv[1], sys.argv[2]
    c0, t0 = time.process_time(), time.perf_counter()
    db, rows = load_events(path)
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
    print(json.dumps({"events": rows, "rules": len(queries), "load_s": t1 - t0, "convert_s": t2 - t1,
                      "query_s": t3 - t2, "wall_s": t3 - t0, "cpu_load_s": c1 - c0, "cpu_convert_s": c2 - c1,
                      "cpu_query_s": c3 - c2, "matches": matches}))


if __name__ == "__main__":
    main()
