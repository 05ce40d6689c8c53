#!/usr/bin/env bash
# The MPI layer's speed table: one OSU-style MPI program (bench/mpi/osu_like.c), compiled once
# with MPICH's standard-ABI wrapper (mpicc_abi), run unchanged with
#   libfmi   libfmi's libmpi_abi.so.1 under fmirun (direct channel, plaintext links);
#   mpich-tcp   MPICH's own libmpi_abi.so.1 under its mpiexec, forced onto TCP
#               (MPIR_CVAR_NOLOCAL=1 UCX_TLS=tcp,self);
#   mpich-shm   MPICH's library with its defaults: shared memory, the one-host ceiling;
# and libfmi's native API for the same operations (fmi-bench, relabelled "libfmi-native"), all
# interleaved in one session (the order rotates every round), merged by `fmi-bench merge` into
# one table: each MPI-layer figure with its ratio to MPICH over TCP, to MPICH's shared memory
# and to the native API.
#
#   scripts/bench-mpi.sh [--nps "2 4"] [--rounds 4] [--sizes LIST] [--ops LIST]
#                        [--budget-ms 250] [--out DIR] [--no-build] [--shm-nps LIST]
#
# --shm-nps: the rank counts at which MPICH's shared memory runs (default: those at most the
# cores; oversubscribed, its shared-memory path spins or yields per message and a 4-rank run on 2
# vCPUs took more than 8 minutes, without being a ceiling for anything).
# --no-build: measure the release build already in target/release (the two cargo commands
# below each rebuild the core with their own features when run in turn).
#
# MPIR_CVAR_ENABLE_HEAVY_YIELD=1 is set for MPICH only when ranks outnumber the cores (it costs
# about 100 us a message). libfmi's links run unencrypted (FMI_ENCRYPT=0), as MPICH's TCP does.
# Point-to-point tests (pingpong, bw, bibw) run at 2 ranks only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${HOME}/.cargo/bin:${PATH}"
NPS="2 4"
ROUNDS=4
SIZES="8,1K,64K,1M,16M"
BUDGET=250
OPS_P2P="pingpong,bw,bibw"
OPS_COLL="allreduce,bcast,alltoall"
OPS=""
OUT="$ROOT/target/bench-mpi/$(date -u +%Y%m%dT%H%M%SZ)"
BUILD=1
SHM_NPS=""
while (($#)); do
    case "$1" in
    --nps) NPS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --ops) OPS="$2"; shift 2 ;;
    --budget-ms) BUDGET="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --shm-nps) SHM_NPS="$2"; shift 2 ;;
    -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "bench-mpi.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
say() { echo "== $*" >&2; }
mkdir -p "$OUT"
export FMI_ENCRYPT=0

VENV="$("$ROOT/scripts/mpi-venv.sh")"
if ((BUILD)); then
    say "building libmpi_abi.so, fmirun and fmi-bench (release)"
    # Two commands: with --bin, cargo would build no library target of fmi-mpi.
    cargo build --release -p fmi-mpi
    cargo build --release -p fmi-tools --bin fmirun --bin fmi-bench
fi
REL="$ROOT/target/release"
BENCH="$REL/fmi-bench"
say "building bench/mpi/osu_like.c with mpicc_abi"
"$VENV/bin/mpicc_abi" -O2 -Wall -o "$OUT/osu_like" bench/mpi/osu_like.c -lm
CORES="$(nproc)"

ops_for() { # ranks -> ops (point-to-point at 2 ranks only)
    if [[ -n "$OPS" ]]; then
        echo "$OPS"
    elif (($1 == 2)); then
        echo "$OPS_P2P,$OPS_COLL"
    else
        echo "$OPS_COLL"
    fi
}

# measure CMD...: with priority when root (scripts/lib/measure.sh).
source "$ROOT/scripts/lib/measure.sh"

run_libfmi() { # np round
    say "osu_like on libfmi's libmpi_abi.so.1, $1 ranks, round $2"
    measure timeout -k 10 3600 "$REL/fmirun" --no-prefix --mpi-lib "$REL/libmpi_abi.so.1" -n "$1" "$OUT/osu_like" \
        --ops "$(ops_for "$1")" --sizes "$SIZES" --budget-ms "$BUDGET" --round "$2" \
        --impl libfmi --channel mpi-abi >"$OUT/libfmi-np$1-r$2.jsonl"
}

run_mpich() { # tcp|shm np round
    local how="$1" np="$2" r="$3" env=(LD_LIBRARY_PATH="$VENV/lib")
    [[ "$how" == tcp ]] && env+=(MPIR_CVAR_NOLOCAL=1 UCX_TLS=tcp,self)
    ((np > CORES)) && env+=(MPIR_CVAR_ENABLE_HEAVY_YIELD=1)
    say "osu_like on MPICH ($how), $np ranks, round $r"
    measure env "${env[@]}" timeout -k 10 3600 "$VENV/bin/mpiexec" -n "$np" "$OUT/osu_like" \
        --ops "$(ops_for "$np")" --sizes "$SIZES" --budget-ms "$BUDGET" --round "$r" \
        --impl "mpich-$how" --channel "$how" >"$OUT/mpich-$how-np$np-r$r.jsonl"
}

shm_at() { # np -> whether MPICH's shared memory runs at np ranks
    if [[ -n "$SHM_NPS" ]]; then
        [[ " $SHM_NPS " == *" $1 "* ]]
    else
        (($1 <= CORES))
    fi
}

run_native() { # np round
    say "fmi-bench (libfmi's native API), $1 ranks, round $2"
    measure timeout -k 10 3600 "$BENCH" -n "$1" --ops "$(ops_for "$1")" --sizes "$SIZES" \
        --allreduce-algos auto --baseline none --budget-ms "$BUDGET" --round "$2" \
        --format json -o "$OUT/native-np$1-r$2.raw.json"
    "$BENCH" merge --relabel libfmi-native "$OUT/native-np$1-r$2.raw.json" --format json \
        -o "$OUT/native-np$1-r$2.json"
}

{
    echo "cores: $CORES; $(uname -srm)"
    "$VENV/bin/mpiexec" --version 2>&1 | head -3
    git -C "$ROOT" rev-parse HEAD
} >"$OUT/conditions.txt"
runs=(run_libfmi "run_mpich tcp" run_native "run_mpich shm")
for ((r = 1; r <= ROUNDS; r++)); do
    for np in $NPS; do
        # Rotate the order every round, so that no implementation always runs first.
        for ((k = 0; k < ${#runs[@]}; k++)); do
            run="${runs[$(((k + r - 1) % ${#runs[@]}))]}"
            [[ "$run" == "run_mpich shm" ]] && ! shm_at "$np" && continue
            $run "$np" "$r"
        done
        { echo "--- after $np ranks, round $r"; uptime; } >>"$OUT/conditions.txt"
    done
done

shopt -s nullglob
files=("$OUT"/libfmi-np*.jsonl "$OUT"/mpich-*.jsonl "$OUT"/native-np*-r*[0-9].json)
"$BENCH" merge "${files[@]}" -o "$OUT/report.txt"
"$BENCH" merge "${files[@]}" --format csv -o "$OUT/report.csv"
{
    echo "# scripts/bench-mpi.sh --nps \"$NPS\" --rounds $ROUNDS --sizes $SIZES --budget-ms $BUDGET"
    echo "# the same osu_like binary (mpicc_abi); rows: libfmi's libmpi_abi.so.1 under fmirun;"
    echo "# medians of $ROUNDS rounds; x = libfmi median / column median (lower is better)"
    cat "$OUT/report.txt"
} >"$OUT/report.md.txt"
cat "$OUT/report.md.txt"
echo
echo "bench-mpi.sh: results in $OUT"
