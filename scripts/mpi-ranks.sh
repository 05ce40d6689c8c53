#!/usr/bin/env bash
# The MPI layer's C tests (tests/mpi/*.c) at more ranks than CI runs (CI: 1-4): each program,
# compiled once with MPICH's mpicc_abi, runs unchanged
#   fmi    under fmirun with libfmi's libmpi_abi.so.1 (this checkout's build);
#   mpich  under MPICH's mpiexec with MPICH's own libmpi_abi.so.1 (so the tests are right;
#          MPIR_CVAR_ENABLE_HEAVY_YIELD=1 when ranks outnumber the cores);
# at each rank count. Prints a table test x ranks x library (pass/FAIL and seconds) and exits
# non-zero when any run failed. Outside CI (16 ranks on 2 cores take minutes).
#
#   scripts/mpi-ranks.sh [--ranks "5 6 7 8 16"] [--tests "coll p2p_order ..."]
#                        [--libs "fmi mpich"] [--release] [--timeout SECONDS] [--out DIR]
#
# A run passes when it exits 0 and prints "PASS <test>", except:
#   abort, fatal   must end the job with a non-zero exit and never print "survived";
#   unsupported    must exit 0 with one "rc=error" line per rank;
#   p2p_timeout, win_timeout (libfmi only: the bound is libfmi's) run with FMI_MPI_TIMEOUT=3;
#   p2p_busy       (libfmi only: it checks libfmi's truthful MPI_THREAD_SERIALIZED);
#   init           gets the rank count, tool (libfmi only) the argument "errors", as in CI.
# FMI_MPI_TIMEOUT (the MPI layer's bound on a blocking call) defaults to 600 here: the machine
# may be loaded. Logs of every run go to --out (default target/mpi-ranks/<time>).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${HOME}/.cargo/bin:${PATH}"
RANKS="5 6 7 8 16"
TESTS=""
LIBS="fmi mpich"
PROFILE=debug
TIMEOUT=900
OUT=""
while (($#)); do
    case "$1" in
    --ranks) RANKS="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --libs) LIBS="$2"; shift 2 ;;
    --release) PROFILE=release; shift ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "mpi-ranks.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
OUT="${OUT:-$ROOT/target/mpi-ranks/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
export FMI_MPI_TIMEOUT="${FMI_MPI_TIMEOUT:-600}"
say() { echo "== $*" >&2; }

VENV="$("$ROOT/scripts/mpi-venv.sh")"
cargo_profile=()
[[ "$PROFILE" == release ]] && cargo_profile=(--release)
say "building libmpi_abi.so and fmirun ($PROFILE)"
# Two commands: with --bin, cargo would build no library target of fmi-mpi.
cargo build "${cargo_profile[@]}" -p fmi-mpi
cargo build "${cargo_profile[@]}" -p fmi-tools --bin fmirun
BIN="$ROOT/target/$PROFILE"
ln -sf libmpi_abi.so "$BIN/libmpi_abi.so.1"
CORES="$(nproc)"

if [[ -z "$TESTS" ]]; then
    TESTS="$(cd tests/mpi && ls ./*.c | sed 's|^\./||; s|\.c$||' | tr '\n' ' ')"
fi
say "compiling with mpicc_abi into $OUT"
for t in $TESTS; do
    "$VENV/bin/mpicc_abi" -O1 -Wall -Werror -o "$OUT/$t" "tests/mpi/$t.c"
done

# Whether one run passed: test lib ranks exit-code log-file.
judge() {
    local t="$1" n="$3" rc="$4" log="$5"
    case "$t" in
    abort | fatal) ((rc != 0 && rc != 124)) && ! grep -q survived "$log" ;;
    unsupported) ((rc == 0)) && (($(grep -c 'rc=error' "$log") == n)) ;;
    *) ((rc == 0)) && grep -q "PASS $t" "$log" ;;
    esac
}

# Runs one test on one library at one rank count; prints "pass SECONDS", "FAIL SECONDS" or "-".
run_one() {
    local t="$1" lib="$2" n="$3" log="$OUT/$1.$2.$3.log" args=() env=() rc=0
    [[ "$t" == init ]] && args=("$n")
    # tool's refusals only with libfmi (MPICH 5.0.2 crashes on them; see tests/mpi/tool.c).
    [[ "$t" == tool && "$lib" == fmi ]] && args=(errors)
    case "$t" in
    p2p_timeout | p2p_busy | win_timeout) [[ "$lib" == fmi ]] || { echo "-"; return; } ;;
    esac
    [[ "$t" == p2p_timeout || "$t" == win_timeout ]] && env=(FMI_MPI_TIMEOUT=3)
    local t0 t1
    t0="$(date +%s.%N)"
    if [[ "$lib" == fmi ]]; then
        env "${env[@]}" timeout -k 10 "$((TIMEOUT + 30))" "$BIN/fmirun" --no-prefix \
            --mpi-lib "$BIN/libmpi_abi.so.1" --timeout "$TIMEOUT" -n "$n" \
            "$OUT/$t" "${args[@]}" >"$log" 2>&1 || rc=$?
    else
        local y=()
        ((n > CORES)) && y=(MPIR_CVAR_ENABLE_HEAVY_YIELD=1)
        env -u LD_LIBRARY_PATH "${env[@]}" "${y[@]}" MPIEXEC_TIMEOUT="$TIMEOUT" \
            timeout -k 10 "$((TIMEOUT + 30))" "$VENV/bin/mpiexec" -n "$n" \
            "$OUT/$t" "${args[@]}" >"$log" 2>&1 || rc=$?
    fi
    t1="$(date +%s.%N)"
    local secs
    secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
    if judge "$t" "$lib" "$n" "$rc" "$log"; then
        echo "pass $secs"
    else
        echo "FAIL $secs"
    fi
}

declare -A RESULT
failed=0
for t in $TESTS; do
    for n in $RANKS; do
        for lib in $LIBS; do
            r="$(run_one "$t" "$lib" "$n")"
            RESULT["$t.$lib.$n"]="$r"
            say "$t $lib $n: $r"
            [[ "$r" == FAIL* ]] && failed=$((failed + 1))
        done
    done
done

# The table: one row per test and library, one column per rank count.
{
    printf '| test | library |'
    for n in $RANKS; do printf ' %s ranks |' "$n"; done
    printf '\n|---|---|'
    for _ in $RANKS; do printf -- '---|'; done
    printf '\n'
    for t in $TESTS; do
        for lib in $LIBS; do
            printf '| %s | %s |' "$t" "$lib"
            for n in $RANKS; do
                r="${RESULT["$t.$lib.$n"]}"
                if [[ "$r" == "-" ]]; then printf ' - |'; else printf ' %s s |' "$r"; fi
            done
            printf '\n'
        done
    done
} | tee "$OUT/table.md"
if ((failed)); then
    echo "mpi-ranks.sh: $failed run(s) failed; logs in $OUT" >&2
    exit 1
fi
echo "mpi-ranks.sh: every run passed; logs in $OUT" >&2
