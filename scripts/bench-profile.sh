#!/usr/bin/env bash
# A profile of each benchmark cell where libfmi is slower than Open MPI: the same test, alone, run
# by fmi-bench and by the Open MPI program of scripts/bench.sh, each once plainly (its time, and
# the CPU time and context switches both programs measure around their timed iterations) and once
# under `perf record` (where the samples fall).
#
#   scripts/bench-profile.sh --from OUT/report.txt [--min-ratio 1.0] [--budget-ms 1000] [--out DIR]
#   scripts/bench-profile.sh --cells "allgather:8:1K scatter:4:8" [...]
#
# --from takes a report of scripts/bench.sh and profiles every cell of the automatic algorithm whose
# "x openmpi" ratio is above --min-ratio; --cells names cells as op:peers:size. Each test runs for
# --budget-ms, with the flags and priority of scripts/bench.sh (plaintext links; Open MPI over TCP
# on loopback, oversubscribed, yielding when idle above 2 peers).
#
# OUT/profile.txt has one row per cell and implementation: the median time of this run, the timed
# iterations, the CPU time of all ranks per iteration (user+system, every thread), "busy" = that
# CPU time / (peers x the wall time of an iteration, untimed barrier included), i.e. the share of
# the peers' time they spent on a CPU (near 1 when every peer spins or works throughout, low
# when peers sleep while they wait; at most 2 / peers on these 2 vCPUs), context
# switches of all ranks per iteration, the share of perf's samples in the kernel, and the three
# hottest symbols. OUT/<op>-<peers>-<size>-<impl>.* keep the raw output.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${HOME}/.cargo/bin:${PATH}"
export FMI_ENCRYPT=0
FROM=""
CELLS=""
MIN_RATIO=1.0
BUDGET=1000
OUT="$ROOT/target/bench-profile/$(date -u +%Y%m%dT%H%M%SZ)"
while (($#)); do
    case "$1" in
    --from) FROM="$2"; shift 2 ;;
    --cells) CELLS="$2"; shift 2 ;;
    --min-ratio) MIN_RATIO="$2"; shift 2 ;;
    --budget-ms) BUDGET="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench-profile.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ -n "$FROM$CELLS" ]] || { echo "bench-profile.sh: give --from REPORT or --cells LIST" >&2; exit 2; }
for tool in perf mpicc.openmpi mpirun.openmpi; do
    command -v "$tool" >/dev/null || { echo "bench-profile.sh: $tool is missing (scripts/install-deps.sh, scripts/bench.sh install it)" >&2; exit 2; }
done
mkdir -p "$OUT"

if [[ -n "$FROM" ]]; then
    # Columns of the report: op algo channel peers bytes ... and "x openmpi" last. bw's sizes read
    # "64x8" (window x bytes): the size is after the x.
    CELLS="$(python3 - "$FROM" "$MIN_RATIO" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
limit = float(sys.argv[2])
cells = []
for r in rows[1:]:
    if r[1] != "-" or r[-1] in ("-", ""):
        continue
    try:
        x = float(r[-1])
    except ValueError:
        continue
    if x > limit:
        cells.append(f"{r[0]}:{r[3]}:{r[4].split('x')[-1]}")
print(" ".join(cells))
EOF
)"
    echo "cells above ${MIN_RATIO}x Open MPI in $FROM: ${CELLS:-none}"
fi
[[ -n "$CELLS" ]] || exit 0

cargo build --release --bin fmi-bench
BENCH="$ROOT/target/release/fmi-bench"
mpicc.openmpi -O2 -Wall -o "$OUT/osu_like" bench/mpi/osu_like.c -lm

run() { # impl op np size budget-ms json-out
    local impl="$1" op="$2" np="$3" size="$4" budget="$5" json="$6"
    if [[ "$impl" == libfmi ]]; then
        "$BENCH" -n "$np" --ops "$op" --sizes "$size" --baseline none --budget-ms "$budget" \
            --format json -o "$json"
    else
        local yield=()
        ((np > 2)) && yield=(--mca mpi_yield_when_idle 1)
        mpirun.openmpi --allow-run-as-root --oversubscribe --bind-to none -np "$np" --mca pml ob1 \
            --mca btl self,tcp --mca btl_tcp_if_include lo "${yield[@]}" "$OUT/osu_like" --ops "$op" \
            --sizes "$size" --budget-ms "$budget" --impl openmpi --channel tcp >"$json"
    fi
}

# measure CMD...: with priority when root (scripts/lib/measure.sh).
source "$ROOT/scripts/lib/measure.sh"

printf '%-10s %5s %6s %-8s %11s %8s %12s %5s %10s %7s  %s\n' op peers bytes impl median_us iters \
    cpu_us/iter busy ctxsw/iter kernel "hottest symbols" >"$OUT/profile.txt"
for cell in $CELLS; do
    IFS=: read -r op np size <<<"$cell"
    for impl in libfmi openmpi; do
        base="$OUT/$op-$np-$size-$impl"
        echo "== $cell $impl"
        measure bash -c "$(declare -f run); BENCH='$BENCH' OUT='$OUT' run $impl $op $np $size $BUDGET '$base.json'" \
            >/dev/null 2>"$base.err" || { echo "  failed: see $base.err"; continue; }
        measure perf record -q -F 999 -e cpu-clock -o "$base.data" -- \
            bash -c "$(declare -f run); BENCH='$BENCH' OUT='$OUT' run $impl $op $np $size $BUDGET '$base.rec.json'" \
            >/dev/null 2>>"$base.err" || true
        perf report -i "$base.data" --stdio --no-inline --sort dso,sym --percent-limit 0.5 2>/dev/null \
            | grep -v '^#' | sed '/^$/d' >"$base.perf.txt" || true
        rm -f "$base.data" "$base.rec.json"
        python3 - "$base" "$op" "$np" "$size" "$impl" >>"$OUT/profile.txt" <<'EOF'
import json, sys
base, op, np, size, impl = sys.argv[1:]
text = open(base + ".json").read().strip()
try:
    recs = json.loads(text)["records"]  # fmi-bench: one document
except (ValueError, KeyError):
    recs = [json.loads(l) for l in text.splitlines()]  # the MPI program: JSON lines
rec = next(r for r in recs if r["op"] == op and r.get("algo", "") in ("", "auto"))
iters, cpu_us, ctx = rec["iters"], rec.get("cpu_us", 0.0), rec.get("ctxsw", 0.0)
wall = rec.get("wall_us", 0.0)
busy = cpu_us / (int(np) * wall) if wall else 0
kernel, syms = 0.0, []
for line in open(base + ".perf.txt"):
    f = line.split()
    if len(f) < 3 or not f[0].endswith("%"):
        continue
    pct = float(f[0].rstrip("%"))
    if "[kernel" in f[1]:
        kernel += pct
    sym = " ".join(f[3:]) if len(f) > 3 else f[-1]
    if len(syms) < 3:
        syms.append(f"{sym.split('(')[0][:28]} {pct:.0f}%")
print(f"{op:<10} {np:>5} {size:>6} {impl:<8} {rec['median_us']:>11.2f} {iters:>8} {cpu_us:>12.2f} "
      f"{busy:>5.2f} {ctx:>10.2f} {kernel:>6.0f}%  {'; '.join(syms)}")
EOF
    done
done
echo
cat "$OUT/profile.txt"
echo "raw output in $OUT"
