#!/usr/bin/python3
"""Checks a docker-compose file against the Vigil binaries it runs.

usage: check_compose.py --compose compose/docker-compose.yml --bin .build/debug [--repo DIR]

For every compose service it runs `<bin>/vigil-<service> <args> --print-config` with the
service's environment and command line from the compose file, and reads back the effective
configuration the program would run with. `--print-config` parses the configuration and exits
before it opens the store or creates the data directory, so the container paths (such as
/var/lib/vigil) are used as they are; the check verifies that nothing was created.

Checks (one line each; exit status 1 with the reason when any fails, 2 on a usage error):
  - the services in the code (Services/<name>/) and the compose services are the same set;
  - each service runs its own program, and the program accepts the compose settings;
  - the broker binds tcp://*:<port> (or 0.0.0.0) on its three endpoints, and every other
    service's endpoint.publish/subscribe/rpc is tcp://<broker service>:<the same port>;
  - every service shares a network with the broker;
  - each service has its own named volume mounted at its data directory;
  - ingest's published ports are exactly its syslog.udp / syslog.tcp / json.tcp listener ports, and the
    listeners bind 0.0.0.0 (127.0.0.1 is unreachable through a published port);
  - instance ids are unique and the partition count is the same everywhere;
  - the broker's ports, if published at all, are published on loopback only (no CURVE yet).

Needs python3-yaml. Compose variable interpolation (${VAR}) and env_file are not supported:
the check fails on them rather than guessing.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover
    print("check_compose.py needs PyYAML (Debian: python3-yaml)", file=sys.stderr)
    sys.exit(2)

BROKER = "broker"
ENDPOINT_KEYS = ("endpoint.publish", "endpoint.subscribe", "endpoint.rpc")
WILDCARD_HOSTS = ("*", "0.0.0.0")
TCP_ENDPOINT = re.compile(r"^tcp://(?P<host>\[[^\]]+\]|[^:/]+):(?P<port>\d+)$")


class Report:
    def __init__(self):
        self.failures = 0

    def ok(self, what):
        print(f"ok    {what}")

    def fail(self, what, why):
        self.failures += 1
        print(f"FAIL  {what}: {why}")

    def check(self, cond, what, why):
        if cond:
            self.ok(what)
        else:
            self.fail(what, why)
        return cond


class ComposeError(Exception):
    pass


ON_HOSTS = {"agent"}


def code_services(repo):
    services_dir = repo / "Services"
    if not services_dir.is_dir():
        raise ComposeError(f"{services_dir} not found; pass --repo with the repository root")
    # The endpoint agent (Services/agent, docs/agent.md) runs on the watched hosts, not in the center.
    return sorted(p.name for p in services_dir.iterdir() if (p / "Sources").is_dir() and p.name not in ON_HOSTS)


def unescape(value, where):
    """Compose interpolation: `$$` is a literal `$`; real ${VAR}/$VAR substitution is refused."""
    if "$" in value.replace("$$", ""):
        raise ComposeError(f"{where}: variable interpolation in '{value}' is not supported by this check")
    return value.replace("$$", "$")


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def service_environment(name, svc):
    if "env_file" in svc:
        raise ComposeError(f"service {name}: env_file is not supported by this check; use environment:")
    env = {}
    raw = svc.get("environment") or {}
    if isinstance(raw, dict):
        items = raw.items()
    elif isinstance(raw, list):
        items = [(e.split("=", 1)[0], e.split("=", 1)[1] if "=" in e else None) for e in raw]
    else:
        raise ComposeError(f"service {name}: environment must be a mapping or a list")
    for k, v in items:
        if v is None:
            raise ComposeError(f"service {name}: environment {k} has no value (taken from the host); give it one")
        env[str(k)] = unescape(scalar(v), f"service {name} environment {k}")
    return env


def service_argv(name, svc):
    def words(v, what):
        if v is None:
            return []
        if isinstance(v, str):
            return shlex.split(v)
        if isinstance(v, list):
            return [unescape(scalar(w), f"service {name} {what}") for w in v]
        raise ComposeError(f"service {name}: {what} must be a string or a list")
    # compose/Dockerfile sets no ENTRYPOINT, so the command is the whole command line.
    return words(svc.get("entrypoint"), "entrypoint") + words(svc.get("command"), "command")


def parse_endpoint(ep):
    m = TCP_ENDPOINT.match(ep)
    if not m:
        return None
    return m.group("host"), int(m.group("port"))


def named_volume_at(svc, target, declared):
    """The named volume mounted at `target`, or an error string."""
    for v in svc.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            if len(parts) == 1:
                src, dst = None, parts[0]
            else:
                src, dst = parts[0], parts[1]
        elif isinstance(v, dict):
            src, dst = v.get("source"), v.get("target")
            if v.get("type", "volume") != "volume":
                if dst == target:
                    return None, f"{target} is a {v.get('type')} mount, not a named volume"
                continue
        else:
            continue
        if dst != target:
            continue
        if not src:
            return None, f"{target} is an anonymous volume (lost on `docker compose down`); name it"
        if src.startswith(("/", ".", "~")):
            return None, f"{target} is a bind mount of {src}, not a named volume"
        if src not in declared:
            return None, f"volume '{src}' is not declared under the top-level volumes:"
        return src, None
    return None, f"no volume is mounted at the data directory {target}"


def published_ports(svc):
    """[(host_ip, published, container_port, protocol)] from short or long port syntax."""
    out = []
    for p in svc.get("ports") or []:
        if isinstance(p, dict):
            out.append((str(p.get("host_ip", "")), str(p.get("published", "")), int(p["target"]),
                        p.get("protocol", "tcp")))
            continue
        s = str(p)
        proto = "tcp"
        if "/" in s:
            s, proto = s.rsplit("/", 1)
        parts = s.rsplit(":", 2) if not s.startswith("[") else re.match(r"(\[.*\]):(.*):(.*)", s).groups()
        if any("-" in x for x in parts):
            raise ComposeError(f"port '{p}': port ranges are not supported by this check")
        if len(parts) == 1:
            out.append(("", "", int(parts[0]), proto))
        elif len(parts) == 2:
            out.append(("", parts[0], int(parts[1]), proto))
        else:
            out.append((parts[0], parts[1], int(parts[2]), proto))
    return out


def service_networks(svc):
    n = svc.get("networks")
    if n is None:
        return {"default"}
    return set(n) if isinstance(n, (list, dict)) else {str(n)}


def broker_names(svc):
    names = {BROKER}
    if svc.get("hostname"):
        names.add(str(svc["hostname"]))
    nets = svc.get("networks")
    if isinstance(nets, dict):
        for spec in nets.values():
            for a in (spec or {}).get("aliases", []) if isinstance(spec, dict) else []:
                names.add(str(a))
    return names


def print_config(bin_dir, name, argv, env, report):
    """Runs the program with --print-config; returns the parsed JSON or None."""
    program = bin_dir / f"vigil-{name}"
    what = f"{name}: vigil-{name} --print-config accepts the compose settings"
    run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    run_env.update(env)
    data_dir = env.get("VIGIL_DATA")
    if "--data" in argv[1:]:
        i = argv.index("--data", 1)
        data_dir = argv[i + 1] if i + 1 < len(argv) else None
    existed = data_dir is not None and os.path.exists(data_dir)
    with tempfile.TemporaryDirectory(prefix="vigil-compose-check-") as cwd:
        try:
            r = subprocess.run([str(program)] + argv[1:] + ["--print-config"], env=run_env, cwd=cwd,
                               capture_output=True, text=True, timeout=30)
        except OSError as e:
            report.fail(what, f"cannot run {program}: {e}")
            return None
        except subprocess.TimeoutExpired:
            report.fail(what, f"{program} --print-config did not exit within 30 s")
            return None
        leftovers = os.listdir(cwd)
    if r.returncode != 0:
        report.fail(what, f"exit status {r.returncode}: {(r.stderr or r.stdout).strip()}")
        return None
    try:
        cfg = json.loads(r.stdout)
    except json.JSONDecodeError as e:
        report.fail(what, f"output is not JSON ({e}): {r.stdout[:200]!r}")
        return None
    if leftovers or (data_dir and not existed and os.path.exists(data_dir)):
        report.fail(what, f"--print-config touched the disk (created {leftovers or data_dir})")
        return None
    report.ok(what)
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compose", required=True, help="docker-compose.yml to check")
    ap.add_argument("--bin", required=True, help="directory holding vigil-broker, vigil-ingest, ...")
    ap.add_argument("--repo", help="repository root (default: three levels above this script)")
    args = ap.parse_args()

    bin_dir = Path(args.bin).resolve()
    repo = Path(args.repo).resolve() if args.repo else Path(__file__).resolve().parents[3]
    try:
        with open(args.compose) as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        print(f"error: cannot read {args.compose}: {e}", file=sys.stderr)
        return 2
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        print(f"error: {args.compose} has no services: mapping", file=sys.stderr)
        return 2

    report = Report()
    try:
        expected = code_services(repo)
    except ComposeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    services = doc["services"]
    declared_volumes = set((doc.get("volumes") or {}).keys())

    # 1. the same services in the code and in compose
    missing = [s for s in expected if s not in services]
    extra = [s for s in services if s not in expected]
    report.check(not missing and not extra, f"services: compose runs {', '.join(expected)}",
                 "; ".join(filter(None, [
                     missing and f"in the code but not in compose: {', '.join(missing)}",
                     extra and f"in compose but not a Vigil service (Services/<name>): {', '.join(extra)}"])))

    # 2. each service's effective configuration
    configs = {}
    for name in sorted(services, key=lambda s: (s != BROKER, s)):
        if name not in expected:
            continue
        svc = services[name] or {}
        try:
            env = service_environment(name, svc)
            argv = service_argv(name, svc)
        except ComposeError as e:
            report.fail(f"{name}: compose settings", str(e))
            continue
        if not report.check(argv and os.path.basename(argv[0]) == f"vigil-{name}",
                            f"{name}: command runs vigil-{name}",
                            f"command is {argv or '(none; the image default prints the CLI help)'}"):
            continue
        if not (bin_dir / f"vigil-{name}").is_file():
            report.fail(f"{name}: binary", f"{bin_dir / ('vigil-' + name)} does not exist")
            continue
        cfg = print_config(bin_dir, name, argv, env, report)
        if cfg is None:
            continue
        if report.check(cfg.get("service") == name, f"{name}: program reports service '{name}'",
                        f"print-config says service '{cfg.get('service')}'"):
            configs[name] = cfg

    # 3. endpoints: the broker binds, everyone else connects to the broker's host and ports
    broker_ports = {}
    if BROKER in configs:
        for key in ENDPOINT_KEYS:
            ep = configs[BROKER][key]
            parsed = parse_endpoint(ep)
            what = f"broker: {key} binds {ep}"
            if parsed is None:
                report.fail(what, "expected tcp://*:<port> (the default is an ipc:// path inside the container, "
                                  f"unreachable from other containers; set VIGIL_{key.upper().replace('.', '_')})")
            elif parsed[0] not in WILDCARD_HOSTS:
                report.fail(what, f"the broker binds this address, so its host must be * or 0.0.0.0, not '{parsed[0]}'")
            else:
                report.ok(what)
                broker_ports[key] = parsed[1]
        for p in published_ports(services[BROKER]):
            report.check(p[0] in ("127.0.0.1", "::1", "[::1]"),
                         f"broker: port {p[2]}/{p[3]} published on loopback only",
                         f"published on '{p[0] or 'all interfaces'}' although the bus has no CURVE encryption yet")
    names = broker_names(services.get(BROKER) or {})
    for name, cfg in configs.items():
        if name == BROKER:
            continue
        for key in ENDPOINT_KEYS:
            ep = cfg[key]
            parsed = parse_endpoint(ep)
            what = f"{name}: {key} {ep} reaches the broker"
            if parsed is None:
                report.fail(what, f"expected tcp://{BROKER}:<port> (set VIGIL_{key.upper().replace('.', '_')})")
            elif parsed[0] not in names:
                report.fail(what, f"host '{parsed[0]}' is not the broker service ({', '.join(sorted(names))})")
            elif key not in broker_ports:
                report.fail(what, "the broker's own endpoint is not a usable tcp bind (see above)")
            elif parsed[1] != broker_ports[key]:
                report.fail(what, f"port {parsed[1]} but the broker binds {key} on port {broker_ports[key]}")
            else:
                report.ok(what)
        if BROKER in services:
            shared = service_networks(services[name] or {}) & service_networks(services[BROKER] or {})
            report.check(bool(shared), f"{name}: shares a network with the broker",
                         f"networks {sorted(service_networks(services[name] or {}))} vs broker's "
                         f"{sorted(service_networks(services[BROKER] or {}))}")

    # 4. volumes: each service its own named volume at its data directory
    owners = {}
    for name, cfg in configs.items():
        data = cfg["data"]
        vol, err = named_volume_at(services[name] or {}, data, declared_volumes)
        if report.check(vol is not None, f"{name}: named volume mounted at its data directory {data}", err or ""):
            owners.setdefault(vol, []).append(name)
            store = cfg.get("store", "")
            if name != BROKER:
                report.check(store.startswith(data.rstrip("/") + "/"), f"{name}: store {store} is on that volume",
                             f"store is outside {data}")
    shared = {v: s for v, s in owners.items() if len(s) > 1}
    report.check(not shared, "volumes: no two services share a data volume",
                 "; ".join(f"'{v}' is mounted by {', '.join(s)}" for v, s in shared.items()))

    # 5. ingest: published ports are its syslog and JSON listeners
    if "ingest" in configs:
        try:
            ports = published_ports(services["ingest"] or {})
        except ComposeError as e:
            report.fail("ingest: ports", str(e))
            ports = []
        listeners = {}
        for key, proto in (("syslog.udp", "udp"), ("syslog.tcp", "tcp"), ("json.tcp", "tcp")):
            addr = str(configs["ingest"].get(key, ""))
            if addr in ("", "off") and key == "json.tcp":
                continue  # its port is unknown when off; any published tcp port must belong to syslog.tcp (below)
            if addr in ("", "off"):
                report.check(not any(p[3] == proto for p in ports), f"ingest: {key} is off and no {proto} port is published",
                             f"{proto} ports {[p[2] for p in ports if p[3] == proto]} are published but {key} is off")
                continue
            host, _, port = addr.rpartition(":")
            if not port.isdigit():
                report.fail(f"ingest: {key}", f"'{addr}' is not host:port")
                continue
            listeners[(int(port), proto)] = addr
            report.check(host == "0.0.0.0", f"ingest: {key} {addr} listens on every interface",
                         f"host '{host}' is not reachable through a published port; use 0.0.0.0:{port}")
            report.check((int(port), proto) in {(p[2], p[3]) for p in ports},
                         f"ingest: {key} port {port}/{proto} is published",
                         f"published ports are {[f'{p[1] or p[2]}:{p[2]}/{p[3]}' for p in ports] or 'none'}; "
                         f"add \"{port}:{port}/{proto}\"")
        for p in ports:
            report.check((p[2], p[3]) in listeners, f"ingest: published port {p[1] or '?'}:{p[2]}/{p[3]} has a listener",
                         f"no ingest listener on container port {p[2]}/{p[3]} "
                         f"(syslog.udp={configs['ingest'].get('syslog.udp')}, syslog.tcp={configs['ingest'].get('syslog.tcp')}, "
                         f"json.tcp={configs['ingest'].get('json.tcp')})")

    # 6. instance ids unique, partitions agree
    instances = {}
    for name, cfg in configs.items():
        if name != BROKER:
            instances.setdefault(cfg["instance"], []).append(name)
    dup = {i: s for i, s in instances.items() if len(s) > 1}
    if instances:
        report.check(not dup, f"instances: ids are unique ({', '.join(sorted(instances))})",
                     "; ".join(f"'{i}' is used by {', '.join(s)} (it is the producer id and RPC name)" for i, s in dup.items()))
    parts = {name: cfg["partitions"] for name, cfg in configs.items() if name != BROKER}
    if parts:
        report.check(len(set(parts.values())) == 1, "partitions: the same count on every service (" + ", ".join(f"{n}={p}" for n, p in sorted(parts.items())) + ")",
                     "ingest picks the partition of each event; consumers must agree on the count")

    if report.failures:
        print(f"{report.failures} check(s) failed for {args.compose}")
        return 1
    print(f"all checks passed for {args.compose}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
