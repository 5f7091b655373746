#!/usr/bin/env bash
# Benchmarks ProcessPool against Python's multiprocessing.Pool, both in the same run, alternating.
#
#   bash bench/run.sh [--quick] [--repeat N] [--memory-repeat N] [--only w1,w2,...] [--no-build]
#
# Each workload runs N times per side (default 5, --quick 3; the 10M-item memory workload at most 3), every run in a
# fresh process, the two sides alternating (ProcessPool first on odd runs, Python first on even ones) so that drift on
# a shared machine hits both. The table reports medians and ratios; raw JSON lines go to bench/results/raw-*.jsonl and
# the table to bench/results/latest.md.
set -euo pipefail

ARGS="$*"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
REPEAT=5
MEMORY_REPEAT=""
ONLY="throughput,batches,overhead,cpu,memory,cold"
BUILD=1

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) REPEAT=3; shift ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --memory-repeat) MEMORY_REPEAT="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$MEMORY_REPEAT" ]] || MEMORY_REPEAT=$(( REPEAT < 3 ? REPEAT : 3 ))

command -v dotnet >/dev/null || { echo "run.sh: dotnet (SDK 10) is required" >&2; exit 2; }
command -v python3 >/dev/null || { echo "run.sh: python3 is required" >&2; exit 2; }

# Build into bench/out (artifacts layout) so the benchmark never touches the obj/bin folders of src/.
ARTIFACTS="$HERE/out"
BENCH_DLL="$ARTIFACTS/bin/PoolBench/release/ProcessPool.Bench.dll"
if [[ $BUILD == 1 ]]; then
  for attempt in 1 2 3; do
    echo "== building PoolBench (Release), attempt $attempt" >&2
    if dotnet build "$HERE/PoolBench/PoolBench.csproj" -c Release --artifacts-path "$ARTIFACTS" -nologo -v q -clp:ErrorsOnly >&2; then
      break
    fi
    if [[ $attempt == 3 ]]; then echo "run.sh: build failed three times" >&2; exit 1; fi
    echo "run.sh: build failed (src/ may be mid-edit); retrying in 60 s" >&2
    sleep 60
  done
fi
[[ -f "$BENCH_DLL" ]] || { echo "run.sh: $BENCH_DLL is missing; build first" >&2; exit 1; }

RESULTS="$HERE/results"
mkdir -p "$RESULTS"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$RESULTS/raw-$STAMP.jsonl"
LOG="$RESULTS/stderr-$STAMP.log"
: > "$RAW"
: > "$LOG"

# One run of one side; its JSON line goes to $RAW. A run that fails or times out leaves an error line instead.
run_side() {
  local side="$1" workload="$2" run="$3" limit="$4"
  local out rc=0
  if [[ $side == processpool ]]; then
    out="$(timeout -k 10 "$limit" dotnet exec "$BENCH_DLL" --workload "$workload" 2>>"$LOG")" || rc=$?
  else
    # The batch API's peer is Pool.map itself: the same throughput run, filed under the batches workload.
    local peer_workload="$workload"; [[ $workload == batches ]] && peer_workload=throughput
    out="$(timeout -k 10 "$limit" python3 "$HERE/peer_multiprocessing.py" --workload "$peer_workload" 2>>"$LOG")" || rc=$?
  fi
  if [[ -n "$out" ]]; then
    printf '%s\n' "$out" | python3 -c '
import json, sys
run, rc = int(sys.argv[1]), int(sys.argv[2])
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        d = json.loads(line)
    except ValueError:
        continue
    d["run"] = run
    d["workload"] = sys.argv[3]
    if rc and "error" not in d:
        d["error"] = f"exit code {rc}"
    print(json.dumps(d))
' "$run" "$rc" "$workload" >> "$RAW"
  fi
  if [[ $rc != 0 && -z "$out" ]]; then
    printf '{"side":"%s","workload":"%s","run":%d,"error":"exit code %d%s"}\n' "$side" "$workload" "$run" "$rc" \
      "$([[ $rc == 124 || $rc == 137 ]] && echo " (timed out after ${limit} s)")" >> "$RAW"
  fi
  if [[ $rc != 0 ]]; then echo "   $side run $run: FAILED (exit $rc), see $RAW and $LOG" >&2; fi
  tail -n 1 "$RAW" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
keys = ["seconds", "items_per_s", "per_item_us", "speedup", "ceiling_fraction", "peak_rss_growth_mb", "first_result_ms", "error"]
print("   %-11s run %d: %s" % (d["side"], d["run"], ", ".join(f"{k}={d[k]:.4g}" if isinstance(d[k], float) else f"{k}={d[k]}" for k in keys if k in d)))
' >&2
}

START=$SECONDS
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
echo "== load average at start: $LOAD_START" >&2
IFS=',' read -r -a WORKLOADS <<< "$ONLY"
for workload in "${WORKLOADS[@]}"; do
  case "$workload" in
    memory) n=$MEMORY_REPEAT; limit=420 ;;
    throughput|batches|overhead|cpu|cold) n=$REPEAT; limit=200 ;;
    *) echo "run.sh: unknown workload $workload" >&2; exit 2 ;;
  esac
  echo "== $workload: $n runs per side" >&2
  for (( i = 1; i <= n; i++ )); do
    if (( i % 2 == 1 )); then
      run_side processpool "$workload" "$i" "$limit"; run_side python "$workload" "$i" "$limit"
    else
      run_side python "$workload" "$i" "$limit"; run_side processpool "$workload" "$i" "$limit"
    fi
  done
done
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
echo "== done in $(( SECONDS - START )) s; load average at end: $LOAD_END; raw results: $RAW" >&2

python3 "$HERE/summarize.py" "$RAW" --out "$RESULTS/latest.md" \
  --command "bash bench/run.sh${ARGS:+ $ARGS}" --repeat "$REPEAT" --memory-repeat "$MEMORY_REPEAT" \
  --load "$LOAD_START at the start, $LOAD_END at the end"
