#!/usr/bin/env python3
"""The Zircolite approach with the whole SigmaHQ Windows rule set, as a peer for bench/e2e.

usage: sigma_sqlite_full.py EVENTS.jsonl SIGMA_DIR VIGIL_RULES.txt [--subset SUBSET.jsonl] [--counts 13,100,500]
                            [--index Channel,EventID]

SIGMA_DIR is a SigmaHQ checkout (rules, rules-emerging-threats, rules-threat-hunting).
VIGIL_RULES.txt lists the rule files (paths relative to SIGMA_DIR, one a line) that VigilSigma
imported as Windows rules. The script

- finds the Windows rules (a document with logsource product `windows`),
- converts each with pySigma's SQLite backend and the pipelines Zircolite's "sysmon" ruleset is
  built with (sysmon + windows-logsources: the logsource becomes Channel/EventID conditions), when
  they are installed (else none, and says so),
- loads the events into an in-memory SQLite table as sigma_sqlite.py does (same flattening as
  Vigil's Windows parser, so both sides see the same field names),
- runs the converted query of every rule that both pySigma converted and Vigil imported.

Counted like the 13-rule peer: load + query CPU (conversion printed, not counted). Printed: one
JSON object with the counts, the CPU of each phase, and per rule (in the order run) its query
CPU seconds and the row numbers (0-based line index in EVENTS.jsonl) it matched. With --subset
(a part of the events, e.g. only the regression events), load + query are run on it too, in a
fresh database, and reported as "subset". With --counts, for each N a run (fresh database, load +
query) with the first N common rules in a fixed pseudo-random order (FNV-1a of the path, given as
"order"), reported as "by_count". --index creates an index on those columns after the load (counted with it): not what
the plain approach does, an A/B of how much the peer would gain from one.
"""
import glob, json, os, sqlite3, sys, time

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection

from sigma_sqlite import load_events

RULE_DIRS = ["rules", "rules-emerging-threats", "rules-threat-hunting"]


def pipeline():
    try:
        from sigma.pipelines.sysmon import sysmon_pipeline
        from sigma.pipelines.windows import windows_logsource_pipeline
    except ImportError:
        return None, "none (pysigma-pipeline-sysmon/-windows not installed: logsource not checked)"
    return sysmon_pipeline() + windows_logsource_pipeline(), "sysmon + windows-logsources"


def is_windows(collection, text):
    rules = getattr(collection, "rules", None) or []
    for r in rules:
        ls = getattr(r, "logsource", None)
        if ls is not None and getattr(ls, "product", None) == "windows":
            return True
    if rules:
        return False
    # pySigma could not read the file: look at the YAML itself.
    try:
        import yaml
        docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except Exception:
        return "product: windows" in text
    return any((d.get("logsource") or {}).get("product") == "windows" for d in docs)


def fnv1a(s):
    h = 14695981039346656037
    for b in s.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def run_queries(db, common, queries):
    """Each rule's queries over `logs`: [(rule, CPU seconds, matched row indexes or None on a
    query error)], total CPU seconds."""
    per_rule = []
    total = 0.0
    for rel in common:
        r0 = time.process_time()
        hit = set()
        for q in queries[rel]:
            while True:
                try:
                    # All columns fetched, as Zircolite does to report the matched events.
                    for row in db.execute(q):
                        hit.add(row[0] - 1)
                    break
                except sqlite3.OperationalError as e:
                    # A field no event has: add it as an empty column (the rule then matches nothing on it).
                    msg = str(e)
                    if not msg.startswith("no such column: "):
                        hit = None
                        break
                    db.execute(f'ALTER TABLE logs ADD COLUMN "{msg[16:]}" TEXT COLLATE NOCASE')
            if hit is None:
                break
        r1 = time.process_time()
        total += r1 - r0
        per_rule.append([rel, r1 - r0, None if hit is None else sorted(hit)])
    return per_rule, total


def main():
    events_path, sigma_dir, vigil_list = sys.argv[1], sys.argv[2], sys.argv[3]
    opts = dict(zip(sys.argv[4::2], sys.argv[5::2]))
    with open(vigil_list, encoding="utf-8") as f:
        vigil = {l.strip() for l in f if l.strip()}

    # Conversion (not counted).
    c0 = time.process_time()
    pipe, pipe_name = pipeline()
    backend = sqliteBackend(processing_pipeline=pipe) if pipe is not None else sqliteBackend()
    files = []
    for d in RULE_DIRS:
        files += glob.glob(os.path.join(sigma_dir, d, "**", "*.yml"), recursive=True)
    files = sorted(os.path.relpath(p, sigma_dir) for p in files)
    found, converted, errors, queries = [], [], {}, {}
    for rel in files:
        with open(os.path.join(sigma_dir, rel), encoding="utf-8") as f:
            text = f.read()
        try:
            coll = SigmaCollection.from_yaml(text, collect_errors=True)
        except Exception:
            coll = None
        if not is_windows(coll, text):
            continue
        found.append(rel)
        try:
            qs = backend.convert(coll) if coll is not None else []
            if not qs:
                raise ValueError("no query")
            converted.append(rel)
            queries[rel] = list(qs)
        except Exception as e:
            k = type(e).__name__
            errors[k] = errors.get(k, 0) + 1
    common = [r for r in converted if r in vigil]
    c1 = time.process_time()

    # Load (counted).
    t0, c2 = time.perf_counter(), time.process_time()
    db, rows = load_events(events_path)
    if "--index" in opts:
        db.execute("CREATE INDEX logs_idx ON logs(" + ", ".join(f'"{c}"' for c in opts["--index"].split(",")) + ")")
    t1, c3 = time.perf_counter(), time.process_time()

    # Query (counted): every common rule.
    tq = time.perf_counter()
    per_rule, q_total = run_queries(db, common, queries)
    t2 = time.perf_counter()
    # The fixed part of a run: every query over an empty table with the same columns (statement
    # preparation and an empty scan); what a run costs beyond it grows with the events.
    edb = sqlite3.connect(":memory:")
    edb.create_function("regexp", 2, lambda p, v: 0, deterministic=True)
    edb.execute(db.execute("SELECT sql FROM sqlite_master WHERE name = 'logs'").fetchone()[0])
    _, fixed = run_queries(edb, common, queries)
    def fresh_run(path, rules):
        s0 = time.process_time()
        sdb, srows = load_events(path)
        s1 = time.process_time()
        _, sq = run_queries(sdb, rules, queries)
        return {"events": srows, "cpu_load_s": s1 - s0, "cpu_query_s": sq}

    subset = fresh_run(opts["--subset"], common) if "--subset" in opts else None
    order = sorted(common, key=fnv1a)
    by_count = {}
    for n in (int(x) for x in opts.get("--counts", "").split(",") if x.strip()):
        if 0 < n < len(common):
            by_count[str(n)] = fresh_run(events_path, order[:n])
    print(json.dumps({"events": rows, "pipelines": pipe_name, "found": len(found), "converted": len(converted),
                      "vigil_imported": len(vigil), "vigil_imported_found": len(vigil & set(found)), "common": len(common),
                      "only_pysigma": [r for r in converted if r not in vigil],
                      "only_vigil": sorted((vigil & set(found)) - set(converted)),
                      "convert_errors": errors, "cpu_convert_s": c1 - c0, "cpu_load_s": c3 - c2, "load_s": t1 - t0,
                      "cpu_query_s": q_total, "query_s": t2 - tq, "cpu_fixed_s": fixed, "subset": subset, "order": order, "by_count": by_count, "rules": per_rule}))


if __name__ == "__main__":
    main()
