#!/usr/bin/env python3
"""Turns the JSON lines of one bench/run.sh run into the results table (medians and ratios), printed and written
as Markdown. Standard library only.

    python3 bench/summarize.py bench/results/raw-<stamp>.jsonl --out bench/results/latest.md
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                d = json.loads(line)
                runs.setdefault((d["workload"], d["side"]), []).append(d)
    return runs


def ok(runs, workload, side):
    return [d for d in runs.get((workload, side), []) if "error" not in d]


def errors(runs):
    return [d for rs in runs.values() for d in rs if "error" in d]


def med(rows, key):
    values = [d[key] for d in rows if d.get(key) is not None]
    return statistics.median(values) if values else None


def spread(rows, key, unit=""):
    values = [d[key] for d in rows if d.get(key) is not None]
    return f" [{fmt(min(values), unit)} – {fmt(max(values), unit)}]" if len(values) > 1 else ""


def fmt(value, unit="", digits=3):
    if value is None:
        return "n/a"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.2f} M{unit}"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.0f} k{unit}"
    return f"{value:.{digits}g}{unit}"


def ratio_text(value):
    return "n/a" if value is None else f"{value:.2f}x"


def met_text(value):
    return "n/a" if value is None else ("yes" if value else "**no**")


def rows_for(runs):
    table, details = [], []

    pp, py = ok(runs, "throughput", "processpool"), ok(runs, "throughput", "python")
    if pp or py:
        a, b = med(pp, "items_per_s"), med(py, "items_per_s")
        r = a / b if a and b else None
        table.append(["a. throughput, 1M trivial items, one pool item per item (`pool.Map`), default chunking (items/s)",
                      f"{fmt(a, '/s')} ({fmt(med(pp, 'seconds'), ' s')}){spread(pp, 'items_per_s', '/s')}",
                      f"{fmt(b, '/s')} ({fmt(med(py, 'seconds'), ' s')}){spread(py, 'items_per_s', '/s')}",
                      ratio_text(r), "reference", "n/a", len(pp), len(py)])
        details.append(("throughput", pp, py, ["seconds", "first_pass_seconds", "parent_cpu_seconds", "workers_cpu_seconds", "parent_json_codec_seconds",
                                                "gc_pause_ms", "gc_gen0", "gc_gen2", "chunks"]))

    pp, py = ok(runs, "batches", "processpool"), ok(runs, "batches", "python")
    if pp or py:
        a, b = med(pp, "items_per_s"), med(py, "items_per_s")
        r = a / b if a and b else None
        table.append(["a'. throughput, 1M trivial items, `MethodBatch.MapArray` (default batches) vs `pool.map` (items/s)",
                      f"{fmt(a, '/s')} ({fmt(med(pp, 'seconds'), ' s')}){spread(pp, 'items_per_s', '/s')}",
                      f"{fmt(b, '/s')} ({fmt(med(py, 'seconds'), ' s')}){spread(py, 'items_per_s', '/s')}",
                      ratio_text(r), ">= 2x", met_text(None if r is None else r >= 2), len(pp), len(py)])
        details.append(("batches", pp, py, ["seconds", "first_pass_seconds", "parent_cpu_seconds", "workers_cpu_seconds", "gc_pause_ms", "chunks", "batch_size"]))

    pp, py = ok(runs, "overhead", "processpool"), ok(runs, "overhead", "python")
    if pp or py:
        a, b = med(pp, "per_item_us"), med(py, "per_item_us")
        r = a / b if a and b else None
        table.append(["b. per-item overhead, 20k items, chunk size 1 (µs/item)", fmt(a, " µs") + spread(pp, "per_item_us", " µs"),
                      fmt(b, " µs") + spread(py, "per_item_us", " µs"),
                      ratio_text(r), "<= 0.5x", met_text(None if r is None else r <= 0.5), len(pp), len(py)])
        details.append(("overhead", pp, py, ["seconds", "first_pass_seconds", "parent_cpu_seconds", "workers_cpu_seconds", "gc_pause_ms"]))

    pp, py = ok(runs, "cpu", "processpool"), ok(runs, "cpu", "python")
    if pp or py:
        a, b = med(pp, "speedup"), med(py, "speedup")
        r = a / b if a and b else None
        table.append(["c. CPU-bound, 64 x SHA-256 chain of 20k rounds (speedup of 2-worker pool over serial, same language)",
                      f"{fmt(a, 'x')} ({fmt(med(pp, 'pool_seconds'), ' s')} vs {fmt(med(pp, 'serial_seconds'), ' s')} serial){spread(pp, 'speedup', 'x')}",
                      f"{fmt(b, 'x')} ({fmt(med(py, 'pool_seconds'), ' s')} vs {fmt(med(py, 'serial_seconds'), ' s')} serial){spread(py, 'speedup', 'x')}",
                      ratio_text(r), "ProcessPool >= 95% of the ceiling", met_text(None if med(pp, "ceiling_fraction") is None else med(pp, "ceiling_fraction") >= 0.95), len(pp), len(py)])
        c = med(pp, "ceiling_speedup")
        if c is not None:
            f = med(pp, "ceiling_fraction")
            table.append(["c'. CPU ceiling: two serial processes at once (speedup over one), and the pool's speedup as a share of it",
                          f"ceiling {fmt(c, 'x')}{spread(pp, 'ceiling_speedup', 'x')}; pool {f * 100:.0f}% of it{spread(pp, 'ceiling_fraction')}",
                          "", "", ">= 95%", met_text(f >= 0.95), len(pp), 0])
        details.append(("cpu", pp, py, ["serial_seconds", "pool_seconds", "speedup", "ceiling_speedup", "ceiling_fraction", "first_pass_seconds", "threads_speedup",
                                         "item_seconds_sum", "parent_cpu_seconds", "workers_cpu_seconds"]))

    pp, py = ok(runs, "memory", "processpool"), ok(runs, "memory", "python")
    if pp or py:
        a, b = med(pp, "peak_rss_growth_mb"), med(py, "peak_rss_growth_mb")
        r = a / b if a is not None and b else None
        worst = max((d["peak_rss_growth_mb"] for d in pp), default=None)
        table.append(["d. memory, 10M items streamed through an ordered map (peak parent RSS growth)",
                      f"{fmt(a, ' MB')} ({fmt(med(pp, 'items_per_s'), '/s')}){spread(pp, 'peak_rss_growth_mb', ' MB')}",
                      f"{fmt(b, ' MB')} ({fmt(med(py, 'items_per_s'), '/s')}){spread(py, 'peak_rss_growth_mb', ' MB')}",
                      ratio_text(r), "ProcessPool < 100 MB", met_text(None if worst is None else worst < 100), len(pp), len(py)])
        details.append(("memory", pp, py, ["seconds", "items_per_s", "baseline_rss_mb", "peak_rss_growth_mb", "peak_heap_growth_mb",
                                            "parent_cpu_seconds", "workers_cpu_seconds", "gc_pause_ms", "gc_gen2"]))

    pp, py = ok(runs, "cold", "processpool"), ok(runs, "cold", "python")
    if pp or py:
        a, b = med(pp, "first_result_ms"), med(py, "first_result_ms")
        r = a / b if a and b else None
        table.append(["e. cold start, new pool of 2 -> first result (ms)", fmt(a, " ms") + spread(pp, "first_result_ms", " ms"),
                      fmt(b, " ms") + spread(py, "first_result_ms", " ms"),
                      ratio_text(r), "<= 120 ms", met_text(None if a is None else a <= 120), len(pp), len(py)])
        details.append(("cold", pp, py, ["first_result_ms", "workers_ready_ms", "second_pool_first_result_ms"]))
    return table, details


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    try:
        dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        dotnet = "?"
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, .NET SDK {dotnet}, Python {platform.python_version()}"


def render(runs, command, repeat, memory_repeat, raw, load=None):
    table, details = rows_for(runs)
    out = []
    out.append(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}.")
    out.append(f"Command: `{command}`; {repeat} runs per side per workload ({memory_repeat} for memory), each a fresh process, "
               "sides alternating. Medians, [min – max] over runs; ratio = ProcessPool / Python (of the medians).")
    if load:
        out.append(f"Load average (1, 5, 15 min): {load}.")
    out.append("")
    out.append("| workload | ProcessPool median | peer (multiprocessing) median | ratio | target | met? | runs (PP/py) |")
    out.append("|---|---|---|---|---|---|---|")
    for row in table:
        cells = row[:6] + [f"{row[6]}/{row[7]}"]
        out.append("| " + " | ".join(str(c) for c in cells) + " |")
    out.append("")
    out.append("Per-run detail (medians of the fields each side reports; blank where a side does not measure it):")
    out.append("")
    out.append("| workload | field | ProcessPool | Python |")
    out.append("|---|---|---|---|")
    for workload, pp, py, keys in details:
        for key in keys:
            a, b = med(pp, key), med(py, key)
            if a is None and b is None:
                continue
            out.append(f"| {workload} | {key} | {'' if a is None else f'{a:.4g}'} | {'' if b is None else f'{b:.4g}'} |")
    hashes = {d.get("hash") for side in ("processpool", "python") for d in ok(runs, "cpu", side)}
    if hashes:
        out.append("")
        out.append("CPU workload hashes agree across sides." if len(hashes) == 1 else f"**CPU workload hashes differ across sides: {sorted(hashes)}**")
    failed = errors(runs)
    if failed:
        out.append("")
        out.append("**Failed runs:**")
        for d in failed:
            out.append(f"- {d['side']} {d['workload']} run {d['run']}: {d['error']}" + "".join(f"; {k}={d[k]}" for k in ("map", "pool") if k in d))
    out.append("")
    out.append(f"Raw JSON lines: `{os.path.relpath(raw)}`.")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("--out")
    parser.add_argument("--command", default="bash bench/run.sh")
    parser.add_argument("--repeat", default="?")
    parser.add_argument("--memory-repeat", default="?")
    parser.add_argument("--load", help="the load average at the start and end of the run, as text")
    args = parser.parse_args()
    text = render(load(args.raw), args.command, args.repeat, args.memory_repeat, args.raw, args.load)
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
