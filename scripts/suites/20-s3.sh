#!/usr/bin/env bash
# The S3 channel from C, C++ and fmi-bench, one step of scripts/test.sh: a private
# moto_server (scripts/s3-local.sh) with an S3-only configuration; the C and C++ examples under
# fmirun with 1, 3 and 4 peers; an fmi-bench smoke run on channel s3 whose JSON must hold libfmi
# and bare PUT + GET figures; and afterwards the bucket must hold no object. Fails (never skips)
# when the server cannot start.
#   FMI_PREFIX  the installed libfmi package (its bin/fmirun), FMI_WORK  a scratch directory
#   (with the consumer builds of scripts/test.sh under build/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${FMI_PREFIX:?FMI_PREFIX must name the installed libfmi}"
: "${FMI_WORK:?FMI_WORK must name a scratch directory}"
W="$FMI_WORK/s3"
FMIRUN="$FMI_PREFIX/bin/fmirun"
BENCH="$ROOT/target/release/fmi-bench"
run() { echo "+ $*"; "$@"; }

run bash "$ROOT/scripts/s3-local.sh" start "$W" fmi-ci
trap 'bash "$ROOT/scripts/s3-local.sh" stop "$W"' EXIT
# shellcheck disable=SC1091
. "$W/env"
ENDPOINT="$(cat "$W/endpoint")"

for n in 1 3 4; do
    for e in hello ring allreduce kmeans; do
        run timeout -k 5 300 "$FMIRUN" -n "$n" --timeout 290 --config "$W/s3.json" \
            "$FMI_WORK/build/examples-c/$e"
    done
done
if [[ -x "$FMI_WORK/build/examples-cpp/allreduce" ]]; then
    run timeout -k 5 300 "$FMIRUN" -n 3 --timeout 290 --config "$W/s3.json" \
        "$FMI_WORK/build/examples-cpp/allreduce"
fi

run timeout -k 5 300 "$BENCH" -n 2 --config "$W/s3.json" --channel s3 --baseline none \
    --ops pingpong,bcast,allreduce,barrier --sizes 8,1K --budget-ms 50 --iter-scale 0.1 \
    --warmup-ms 20 -q --format json -o "$W/bench.json"
python3 - "$W/bench.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
recs = doc["records"]
def has(impl, op, size):
    return any(r["impl"] == impl and r["op"] == op and r["bytes"] == size and r["median_us"] > 0
               and (impl != "libfmi" or r["channel"] == "s3") for r in recs)
missing = [(i, o, s) for i in ["libfmi"] for o in ["pingpong", "bcast", "allreduce"] for s in [8, 1024]
           if not has(i, o, s)]
missing += [("s3-bare", "pingpong", s) for s in [8, 1024] if not has("s3-bare", "pingpong", s)]
if missing:
    sys.exit(f"fmi-bench s3: missing figures {missing}")
print(f"fmi-bench s3: {len(recs)} records, libfmi and s3-bare figures present")
PY

# Every run above finalized: no object may be left in the bucket.
left="$(curl -sf "$ENDPOINT/fmi-ci?list-type=2" | grep -o '<Key>[^<]*</Key>' || true)"
if [[ -n "$left" ]]; then
    echo "error: objects left in the bucket:" >&2
    echo "$left" | head -20 >&2
    exit 1
fi
echo "bucket fmi-ci is empty after every run"
