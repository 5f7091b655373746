#!/usr/bin/env python3
"""Measures what one change (a lever) buys: several builds or settings of the C# side and the Python peer, in the
same run, alternating, every run in a fresh process. Standard library only.

    python3 bench/variants.py --workload throughput --repeat 5 \\
        --variant before=../base/bench/out/bin/PoolBench/release/ProcessPool.Bench.dll \\
        --variant after=bench/out/bin/PoolBench/release/ProcessPool.Bench.dll \\
        --variant after-nodelay=bench/out/bin/PoolBench/release/ProcessPool.Bench.dll:DOTNET_TC_CallCountingDelayMs=0 \\
        [--args "--items 200000"]

A variant is NAME=DLL[:VAR=VALUE[:VAR=VALUE...]]; the variables are set for that side's process (the parent and,
through inheritance, its workers). Each round runs every variant and Python once, in an order rotated per round so
that drift hits all of them. Prints, per variant, the median and [min - max] of the workload's headline figure
and its ratio to Python's median, with the load average before and after. Raw lines go to stdout with --raw.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys

HEADLINE = {
    "throughput": ("items_per_s", "items/s", True),
    "batches": ("items_per_s", "items/s", True),
    "overhead": ("per_item_us", "us/item", False),
    "cpu": ("speedup", "x serial", True),
    "memory": ("peak_rss_growth_mb", "MB", False),
    "cold": ("first_result_ms", "ms", False),
}
PEER_WORKLOAD = {"batches": "throughput"}  # the Python peer runs pool.map for both


def run(cmd, env, timeout):
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    for line in reversed(out.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            d = json.loads(line)
            if out.returncode and "error" not in d:
                d["error"] = f"exit code {out.returncode}"
            return d
    return {"error": f"exit code {out.returncode}: {out.stderr.strip()[-400:]}"}


def fmt(v):
    if v is None:
        return "n/a"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f} M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f} k"
    return f"{v:.3g}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--variant", action="append", required=True)
    p.add_argument("--args", default="")
    p.add_argument("--no-python", action="store_true")
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--raw", action="store_true")
    a = p.parse_args()

    sides = []
    for spec in a.variant:
        name, rest = spec.split("=", 1)
        parts = rest.split(":")
        env = dict(os.environ)
        env.update(kv.split("=", 1) for kv in parts[1:])
        sides.append((name, ["dotnet", "exec", parts[0], "--workload", a.workload] + shlex.split(a.args), env))
    if not a.no_python:
        sides.append(("python", [sys.executable, os.path.join(here, "peer_multiprocessing.py"),
                                 "--workload", PEER_WORKLOAD.get(a.workload, a.workload)] + shlex.split(a.args), dict(os.environ)))

    key, unit, _ = HEADLINE[a.workload]
    results = {name: [] for name, _, _ in sides}
    load_before = os.getloadavg()
    for r in range(a.repeat):
        order = sides[r % len(sides):] + sides[:r % len(sides)]
        for name, cmd, env in order:
            d = run(cmd, env, a.timeout)
            d["variant"] = name
            d["round"] = r + 1
            results[name].append(d)
            if a.raw:
                print(json.dumps(d), flush=True)
            shown = d.get("error") or fmt(d.get(key))
            print(f"  round {r + 1} {name:>14}: {shown}", file=sys.stderr, flush=True)
    load_after = os.getloadavg()

    def median(name, k=key):
        vals = [d[k] for d in results[name] if "error" not in d and d.get(k) is not None]
        return (statistics.median(vals), min(vals), max(vals), len(vals)) if vals else None

    py = None if a.no_python else median("python")
    print(f"workload {a.workload} ({key}, {unit}); {a.repeat} rounds; load average before "
          f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print("| variant | median | range | runs | vs Python |")
    print("|---|---|---|---|---|")
    for name, _, _ in sides:
        m = median(name)
        if m is None:
            print(f"| {name} | failed | | 0 | |")
            continue
        ratio = "" if py is None or name == "python" else f"{m[0] / py[0]:.2f}x"
        print(f"| {name} | {fmt(m[0])} | {fmt(m[1])} – {fmt(m[2])} | {m[3]} | {ratio} |")
    errors = [d for rs in results.values() for d in rs if "error" in d]
    for d in errors:
        print(f"error: {d['variant']} round {d['round']}: {d['error']}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
