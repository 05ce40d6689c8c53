#!/usr/bin/env bash
# fmi-bench smoke run, one step of scripts/test.sh: every operation at small sizes on
# the direct channel with 2 peers (fmi-bench starts them itself) and 3 peers (under fmirun); the
# JSON must parse and hold a positive figure for every operation and size, the raw-TCP baselines
# for ping-pong, and the table, CSV, merge and SVG outputs must be produced. No timing assertions.
#   FMI_PREFIX  the installed libfmi package (its bin/fmirun), FMI_WORK  a scratch directory.
# The CMake package does not install fmi-bench, so it is taken from the
# repo's cargo tree (target/release, built by the test command's cargo build --bins).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${FMI_PREFIX:?FMI_PREFIX must name the installed libfmi}"
: "${FMI_WORK:?FMI_WORK must name a scratch directory}"
W="$FMI_WORK/bench"
mkdir -p "$W"
BENCH="$ROOT/target/release/fmi-bench"
FMIRUN="$FMI_PREFIX/bin/fmirun"
[[ -x "$BENCH" ]] || { echo "error: $BENCH is missing (cargo build --release --bins)" >&2; exit 1; }
[[ -x "$FMIRUN" ]] || { echo "error: $FMIRUN is missing" >&2; exit 1; }
run() { echo "+ $*"; "$@"; }

SIZES="1,8,1K,64K"
OPS="pingpong,bw,bibw,bcast,barrier,gather,scatter,reduce,allreduce,iallreduce,scan,allgather,alltoall"
COMMON=(--ops "$OPS" --sizes "$SIZES" --allreduce-algos auto,ring,recursive_doubling
    --budget-ms 20 --iter-scale 0.1 --warmup-ms 20 -q)

# 2 peers, self-launched; 3 peers under fmirun (rank 0 writes the file).
run timeout -k 5 120 "$BENCH" -n 2 "${COMMON[@]}" --format json -o "$W/np2.json"
run timeout -k 5 120 "$FMIRUN" -n 3 --timeout 110 "$BENCH" "${COMMON[@]}" --format json -o "$W/np3.json"

check() { # check FILE PEERS: every op and size has a libfmi figure; ping-pong has both TCP baselines
    python3 - "$1" "$2" "$OPS" "$SIZES" <<'PY'
import json, sys
path, peers, ops, sizes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4]
def size(s):
    return int(s[:-1]) << 10 if s.endswith("K") else int(s)
sizes = [size(s) for s in sizes.split(",")]
doc = json.load(open(path))
recs = doc["records"]
assert doc["tool"] == "fmi-bench", doc["tool"]
assert not doc["skipped"], doc["skipped"]
have = {}
for r in recs:
    for k in ("impl", "channel", "op", "bytes", "peers", "iters", "median_us", "p90_us", "min_us", "mbps"):
        assert k in r, (k, r)
    assert r["peers"] == peers, r
    assert r["iters"] >= 1 and r["median_us"] > 0 and r["min_us"] <= r["median_us"] <= r["p90_us"], r
    have.setdefault((r["impl"], r["op"], r["algo"]), set()).add(r["bytes"])
missing = []
for op in ops:
    algos = ["auto", "ring", "recursive_doubling"] if op == "allreduce" else [""]
    want = {0} if op == "barrier" else set(sizes)
    for a in algos:
        got = have.get(("libfmi", op, a), set())
        if got != want:
            missing.append(f"libfmi {op} {a}: sizes {sorted(want - got)}")
for base in ("tcp-block", "tcp-spin"):
    if have.get((base, "pingpong", ""), set()) != set(sizes):
        missing.append(f"{base} pingpong")
if missing:
    sys.exit(f"{path}: missing figures: {missing}")
print(f"{path}: {len(recs)} records, every operation and size has a figure")
PY
}
check "$W/np2.json" 2
check "$W/np3.json" 3

# The other outputs: table (default), CSV, merge of both runs with a chart.
run "$BENCH" -n 2 --ops pingpong,allreduce --sizes 8 --budget-ms 5 --iter-scale 0.02 --warmup-ms 5 -q \
    -o "$W/table.txt"
cat "$W/table.txt"
grep -q 'x tcp-block' "$W/table.txt" || { echo "error: the table has no tcp-block ratio" >&2; exit 1; }
run "$BENCH" -n 2 --ops barrier --budget-ms 5 --iter-scale 0.02 --warmup-ms 5 -q --format csv -o "$W/t.csv"
head -1 "$W/t.csv" | grep -q '^impl,channel,op,algo,bytes,peers' || { echo "error: bad CSV header" >&2; exit 1; }
run "$BENCH" merge "$W/np2.json" "$W/np3.json" --plot "$W/pingpong.svg" -o "$W/merged.txt"
grep -q '^pingpong ' "$W/merged.txt" || { echo "error: the merged table has no ping-pong row" >&2; exit 1; }
grep -q '<svg' "$W/pingpong.svg" && grep -q '<polyline' "$W/pingpong.svg" ||
    { echo "error: the SVG chart is empty" >&2; exit 1; }
echo "fmi-bench smoke run: ok"
