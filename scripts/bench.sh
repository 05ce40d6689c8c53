#!/usr/bin/env bash
# fmi-bench with its baselines in the same run: libfmi (direct channel) and Open MPI over TCP,
# interleaved ABAB, merged into one table where every libfmi figure has its ratio to the raw-TCP
# ping-pong (measured by fmi-bench itself between the same peers) and to Open MPI.
#
#   scripts/bench.sh [--nps "2 4 8"] [--rounds 2] [--sizes LIST] [--budget-ms 300] [--out DIR]
#                    [--ops LIST] [--no-mpi] [--no-prio] [--ab REV | --encrypt-ab]
#
# libfmi's peer links run unencrypted here (FMI_ENCRYPT=0), as Open MPI's TCP transport does,
# although fmi-bench's self-launch sets a job secret (with one, links are encrypted by default).
# --encrypt-ab measures the cost of the encryption instead: A is the work tree's fmi-bench with
# plaintext links (labelled "libfmi-plain"), B the same binary with encrypted links
# (FMI_ENCRYPT=1), in alternating order, without MPI and the raw-TCP baselines.
#
# --ab REV compares two builds of libfmi instead of libfmi with Open MPI: A is git revision REV
# (checked out in a temporary git worktree and built there with cargo build --release --bin
# fmi-bench, in this tree's target directory), B is the work tree. The two fmi-bench binaries run
# alternately (A B in odd rounds, B A in even ones) with the same sizes, peers and ops, without
# the raw-TCP baselines; A's records are labelled "libfmi@<short hash>". OUT/report-ab.txt has one
# row per test: each build's median per round, B/A (below 1: B is faster) and its round-to-round
# spread; OUT/report.txt the usual table with A as the baseline ("x libfmi@<hash>" = B/A).
#
# 1. installs openmpi-bin + libopenmpi-dev (apt-get) when mpicc.openmpi is missing (not with --no-mpi);
# 2. builds fmi-bench (cargo build --release) and bench/mpi/osu_like.c with mpicc.openmpi;
# 3. for each round and peer count runs fmi-bench and the MPI program, alternating which goes
#    first (ABAB). Open MPI runs with these flags: TCP-only on
#    loopback (--mca pml ob1 --mca btl self,tcp --mca btl_tcp_if_include lo), oversubscribed
#    (--oversubscribe --bind-to none, and --mca mpi_yield_when_idle 1 when N > 2);
#    point-to-point tests (pingpong, bw, bibw) run at 2 peers only;
# 4. merges everything: OUT/report.txt (table), OUT/report.csv, OUT/report.json,
#    OUT/pingpong.svg and OUT/allreduce-npN.svg; OUT/conditions.txt holds the load seen.
# Without MPI (--no-mpi, or no mpicc after the install) the report has the raw-TCP baseline only.
# As root, every measured command runs in a session of its own with autogroup nice -20 and
# nice -n -20, so that other jobs on a shared machine disturb the peers less; --no-prio turns
# that off.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${HOME}/.cargo/bin:${PATH}"
NPS="2 4 8"
ROUNDS=2
SIZES="1,8,1K,64K,1M,16M,64M"
BUDGET=300
OUT="$ROOT/target/bench/$(date -u +%Y%m%dT%H%M%SZ)"
P2P_OPS="pingpong,bw,bibw"
OPS_ALL="$P2P_OPS,bcast,barrier,gather,scatter,reduce,allreduce,iallreduce,scan,allgather,alltoall"
OPS=""
MPI=1
PRIO=1
AB_REV=""
ENC_AB=0
# Plaintext peer links unless --encrypt-ab says otherwise for a run.
export FMI_ENCRYPT=0
while (($#)); do
    case "$1" in
    --nps) NPS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --budget-ms) BUDGET="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --ops) OPS="$2"; shift 2 ;;
    --no-mpi) MPI=0; shift ;;
    --no-prio) PRIO=0; shift ;;
    --ab) AB_REV="$2"; shift 2 ;;
    --encrypt-ab) ENC_AB=1; shift ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT"
say() { printf '\n== %s\n' "$*"; }
if [[ -n "$AB_REV" ]]; then
    AB_HASH="$(git rev-parse --short "$AB_REV^{commit}")" || { echo "bench.sh: no revision $AB_REV" >&2; exit 2; }
    AB_LABEL="libfmi@$AB_HASH"
    MPI=0
fi
if ((ENC_AB)); then
    [[ -z "$AB_REV" ]] || { echo "bench.sh: --ab and --encrypt-ab exclude each other" >&2; exit 2; }
    AB_LABEL="libfmi-plain"
    MPI=0
fi

if ((MPI)) && ! command -v mpicc.openmpi >/dev/null; then
    say "installing Open MPI (openmpi-bin libopenmpi-dev)"
    SUDO=""
    [[ "$(id -u)" == 0 ]] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q openmpi-bin libopenmpi-dev
fi
if ((MPI)) && ! command -v mpicc.openmpi >/dev/null; then
    echo "bench.sh: mpicc.openmpi not found: reporting the raw-TCP baseline only" >&2
    MPI=0
fi

say "building fmi-bench"
cargo build --release --bin fmi-bench
BENCH="$ROOT/target/release/fmi-bench"
BENCH_A="$BENCH"
if [[ -n "$AB_REV" ]]; then
    # Both builds write target/release/fmi-bench: keep a copy of each.
    cp "$BENCH" "$OUT/fmi-bench-B"
    BENCH="$OUT/fmi-bench-B"
    AB_TREE="$(mktemp -d "${TMPDIR:-/tmp}/fmi-ab.XXXXXX")/$AB_HASH"
    trap 'git -C "$ROOT" worktree remove --force "$AB_TREE" 2>/dev/null || true; rmdir "$(dirname "$AB_TREE")" 2>/dev/null || true' EXIT
    say "building fmi-bench at $AB_REV ($AB_HASH) in $AB_TREE"
    git worktree add --detach "$AB_TREE" "$AB_HASH"
    # At the revision's root: works whether fmi-bench is in the root package or in tools/. The
    # shared target directory saves building the dependencies again.
    (cd "$AB_TREE" && CARGO_TARGET_DIR="$ROOT/target" cargo build --release --bin fmi-bench)
    cp "$ROOT/target/release/fmi-bench" "$OUT/fmi-bench-A"
    BENCH_A="$OUT/fmi-bench-A"
    # A's build replaced target/release/fmi-bench, and cargo still takes the work tree's build as
    # fresh (it would not copy it there again): put the work tree's binary back, so that what
    # runs it next (bench-profile.sh, fmi-bench by hand) measures the work tree, not A.
    cp "$OUT/fmi-bench-B" "$ROOT/target/release/fmi-bench"
    {
        echo "A $AB_REV $(git rev-parse "$AB_HASH")"
        echo "B work tree at $(git rev-parse HEAD)$(git diff --quiet HEAD || echo ' with uncommitted changes')"
    } >"$OUT/ab-revisions.txt"
fi
if ((MPI)); then
    say "building bench/mpi/osu_like.c"
    mpicc.openmpi -O2 -Wall -o "$OUT/osu_like" bench/mpi/osu_like.c -lm
    mpirun.openmpi --version | head -1 | tee "$OUT/mpi-version.txt"
fi

# measure CMD...: with priority when root (scripts/lib/measure.sh).
source "$ROOT/scripts/lib/measure.sh"

conditions() {
    {
        echo "--- $1 ($(date -u +%FT%TZ))"
        uptime
        top -bn1 | head -15
    } >>"$OUT/conditions.txt"
}

ops_for() { # peer count -> ops (point-to-point only at 2 peers)
    if [[ -n "$OPS" ]]; then
        echo "$OPS"
    elif (($1 == 2)); then
        echo "$OPS_ALL"
    else
        echo "${OPS_ALL#"$P2P_OPS",}"
    fi
}

run_fmi() { # np round
    local np="$1" r="$2"
    say "fmi-bench, $np peers, round $r"
    measure timeout -k 10 3600 "$BENCH" -n "$np" --ops "$(ops_for "$np")" --sizes "$SIZES" \
        --allreduce-algos auto,ring,recursive_doubling --budget-ms "$BUDGET" --round "$r" \
        --format json -o "$OUT/fmi-np$np-r$r.json"
}

run_mpi() { # np round
    local np="$1" r="$2"
    local yield=()
    ((np > 2)) && yield=(--mca mpi_yield_when_idle 1)
    say "Open MPI (TCP), $np peers, round $r"
    measure timeout -k 10 3600 mpirun.openmpi --allow-run-as-root --oversubscribe --bind-to none \
        -np "$np" --mca pml ob1 --mca btl self,tcp --mca btl_tcp_if_include lo "${yield[@]}" \
        "$OUT/osu_like" --ops "$(ops_for "$np")" --sizes "$SIZES" --budget-ms "$BUDGET" \
        --round "$r" --impl openmpi --channel tcp >"$OUT/mpi-np$np-r$r.jsonl"
}

# A/B: one build's fmi-bench (the same plan for both; no raw-TCP baselines). With --encrypt-ab
# both are the work tree's, A with plaintext links and B with encrypted ones.
run_ab() { # A|B np round
    local which="$1" np="$2" r="$3" exe="$BENCH" out="$OUT/fmi-np$np-r$r.json" what="work tree"
    local enc=$ENC_AB
    if [[ "$which" == A ]]; then
        exe="$BENCH_A"
        out="$OUT/a-np$np-r$r.raw.json"
        what="$AB_LABEL"
        enc=0
    fi
    say "fmi-bench $which ($what), $np peers, round $r"
    FMI_ENCRYPT=$enc measure timeout -k 10 3600 "$exe" -n "$np" --ops "$(ops_for "$np")" --sizes "$SIZES" \
        --allreduce-algos auto --baseline none --budget-ms "$BUDGET" --round "$r" \
        --format json -o "$out"
    if [[ "$which" == A ]]; then
        "$BENCH" merge --relabel "$AB_LABEL" "$out" --format json -o "$OUT/a-np$np-r$r.json"
    fi
}

conditions "before"
for ((r = 1; r <= ROUNDS; r++)); do
    for np in $NPS; do
        if [[ -n "$AB_REV" ]] || ((ENC_AB)); then
            if ((r % 2 == 1)); then
                run_ab A "$np" "$r"
                run_ab B "$np" "$r"
            else
                run_ab B "$np" "$r"
                run_ab A "$np" "$r"
            fi
        elif ((MPI == 0)); then
            run_fmi "$np" "$r"
        elif ((r % 2 == 1)); then
            run_fmi "$np" "$r"
            run_mpi "$np" "$r"
        else
            run_mpi "$np" "$r"
            run_fmi "$np" "$r"
        fi
        conditions "after $np peers, round $r"
    done
done

say "report"
shopt -s nullglob
files=("$OUT"/fmi-np*.json "$OUT"/mpi-np*.jsonl "$OUT"/a-np*-r*[0-9].json)
"$BENCH" merge "${files[@]}" --plot "$OUT/pingpong.svg" -o "$OUT/report.txt"
"$BENCH" merge "${files[@]}" --format csv -o "$OUT/report.csv"
"$BENCH" merge "${files[@]}" --format json -o "$OUT/report.json"
for np in $NPS; do
    "$BENCH" merge "${files[@]}" --plot "$OUT/allreduce-np$np.svg" --plot-op allreduce \
        --plot-peers "$np" -o /dev/null
done
{
    echo "# scripts/bench.sh --nps \"$NPS\" --rounds $ROUNDS --sizes $SIZES --budget-ms $BUDGET$( ((MPI)) || echo ' --no-mpi')"
    echo "# medians of $ROUNDS interleaved rounds; x = libfmi median / baseline median (lower is better)"
    cat "$OUT/report.txt"
} >"$OUT/report.md.txt"
if [[ -n "$AB_REV" ]] || ((ENC_AB)); then
    "$BENCH" merge --ab "$AB_LABEL" "${files[@]}" -o "$OUT/report-ab.txt"
    {
        if ((ENC_AB)); then
            echo "# scripts/bench.sh --encrypt-ab --nps \"$NPS\" --rounds $ROUNDS --sizes $SIZES --budget-ms $BUDGET --ops $OPS"
            echo "# A = $AB_LABEL (plaintext links), B = encrypted links (Noise, AES-GCM); rounds alternate A B / B A; B/A above 1: encryption costs"
        else
            echo "# scripts/bench.sh --ab $AB_REV --nps \"$NPS\" --rounds $ROUNDS --sizes $SIZES --budget-ms $BUDGET"
            echo "# A = $AB_LABEL, B = the work tree; rounds alternate A B / B A; B/A below 1: B is faster"
        fi
        cat "$OUT/report-ab.txt"
    } >"$OUT/report-ab.md.txt"
    cat "$OUT/report-ab.md.txt"
else
    cat "$OUT/report.md.txt"
fi
echo
echo "bench.sh: results in $OUT"
