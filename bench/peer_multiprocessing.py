#!/usr/bin/env python3
"""The Python peer of ProcessPool.Bench: the same workloads on multiprocessing.Pool(2).

    python3 bench/peer_multiprocessing.py --workload throughput|overhead|cpu|memory|cold [--repeat N] [--items N]

Prints one JSON line per run with the same fields as the C# side (bench/run.sh pairs them up). Standard library only.
Start method: the platform default (fork on Linux with Python 3.11).
"""
import argparse
import hashlib
import json
import multiprocessing
import os
import struct
import sys
import threading
import time

WORKERS = 2
WARM_ITEMS, WARM_ROUNDS = 64, 20_000  # CPU warm-up: one full untimed pass, the same as the C# side
CPU_ROUNDS = 3  # timed serial/pool alternations per CPU run; the best of each is kept, as on the C# side


def double(x):
    return 2 * x


def sha(rounds):
    """SHA-256 chain of `rounds` rounds from the 4 little-endian bytes of `rounds` (the seed); lowercase hex.
    Identical to ProcessPool.BenchMethods.Work.Sha."""
    data = struct.pack("<i", rounds)
    h = hashlib.sha256
    for _ in range(rounds):
        data = h(data).digest()
    return data.hex()


def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_cpu(pool):
    return sum(cpu_seconds(p.pid) for p in pool._pool)  # noqa: SLF001 (reference measurement only)


def run_double(pool, count, chunksize):
    results = pool.map(double, range(count)) if chunksize is None else pool.map(double, range(count), chunksize)
    if len(results) != count:
        raise RuntimeError(f"got {len(results)} results for {count} items")
    for i, v in enumerate(results):
        if v != 2 * i:
            raise RuntimeError(f"item {i}: got {v}")


def trivial(count, chunksize):
    with multiprocessing.Pool(WORKERS) as pool:
        t0 = time.perf_counter()
        run_double(pool, count, chunksize)  # warm-up: one full untimed pass, as on the C# side
        first_pass = time.perf_counter() - t0
        parent0, workers0 = time.process_time(), workers_cpu(pool)
        t0 = time.perf_counter()
        run_double(pool, count, chunksize)
        seconds = time.perf_counter() - t0
        parent, workers = time.process_time() - parent0, workers_cpu(pool) - workers0
    return {
        "items": count,
        "seconds": seconds,
        "items_per_s": count / seconds,
        "per_item_us": seconds * 1e6 / count,
        "first_pass_seconds": first_pass,
        "chunk_size": chunksize,
        "parent_cpu_seconds": parent,
        "workers_cpu_seconds": workers,
    }


def cpu(count, rounds):
    """Serial loop vs Pool(2), each warmed by one untimed pass, then timed CPU_ROUNDS times alternating; best of each."""
    t0 = time.perf_counter()
    for _ in range(WARM_ITEMS):
        sha(WARM_ROUNDS)
    serial_first_pass = time.perf_counter() - t0
    serial_times, pool_times = [], []
    with multiprocessing.Pool(WORKERS) as pool:
        t0 = time.perf_counter()
        pool.map(sha, [WARM_ROUNDS] * WARM_ITEMS)  # warm-up, untimed
        first_pass = time.perf_counter() - t0
        for _ in range(CPU_ROUNDS):
            t0 = time.perf_counter()
            serial = [sha(rounds) for _ in range(count)]
            serial_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            pooled = pool.map(sha, [rounds] * count)
            pool_times.append(time.perf_counter() - t0)
            if pooled != serial:
                raise RuntimeError("pool hashes differ from serial hashes")
    serial_best, pool_best = min(serial_times), min(pool_times)
    return {
        "items": count,
        "rounds": rounds,
        "serial_seconds": serial_best,
        "pool_seconds": pool_best,
        "speedup": serial_best / pool_best,
        "serial_times": serial_times,
        "pool_times": pool_times,
        "serial_first_pass_seconds": serial_first_pass,
        "first_pass_seconds": first_pass,
        "hash": serial[0],
    }


def memory(count):
    with multiprocessing.Pool(WORKERS) as pool:
        run_double(pool, 1_000_000, None)  # warm-up, as in the throughput workload
        import gc
        gc.collect()
        baseline = rss()
        peak = [baseline]
        samples = [0]
        stop = threading.Event()

        def sample():
            while not stop.wait(0.05):
                peak[0] = max(peak[0], rss())
                samples[0] += 1

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.perf_counter()
        expected = 0
        for v in pool.imap(double, range(count), chunksize=10_000):
            if v != 2 * expected:
                raise RuntimeError(f"item {expected}: got {v}")
            expected += 1
        seconds = time.perf_counter() - t0
        stop.set()
        sampler.join()
        if expected != count:
            raise RuntimeError(f"got {expected} results for {count} items")
    mb = 1024.0 * 1024.0
    return {
        "items": count,
        "seconds": seconds,
        "items_per_s": count / seconds,
        "baseline_rss_mb": baseline / mb,
        "peak_rss_growth_mb": (peak[0] - baseline) / mb,
        "samples": samples[0],
    }


def cold_once():
    t0 = time.perf_counter()
    with multiprocessing.Pool(WORKERS) as pool:
        value = pool.apply(double, (21,))
        first = (time.perf_counter() - t0) * 1000
    if value != 42:
        raise RuntimeError("cold item: wrong result")
    return first


def cold(run):
    first = cold_once()
    second = cold_once()
    return {"first_result_ms": first, "second_pool_first_result_ms": second, "parent_was_cold": run == 1}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", required=True, choices=["throughput", "overhead", "cpu", "memory", "cold"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--items", type=int)
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    runs = {
        "throughput": lambda r: trivial(args.items or 1_000_000, None),
        "overhead": lambda r: trivial(args.items or 20_000, 1),
        "cpu": lambda r: cpu(args.items or 64, args.rounds),
        "memory": lambda r: memory(args.items or 10_000_000),
        "cold": cold,
    }
    for r in range(1, args.repeat + 1):
        line = {"side": "python", "workload": args.workload, "run": r, "python": sys.version.split()[0],
                "start_method": multiprocessing.get_start_method()}
        try:
            line.update(runs[args.workload](r))
        except Exception as error:  # report, then fail the run
            line["error"] = f"{type(error).__name__}: {error}"
            print(json.dumps(line), flush=True)
            return 1
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
