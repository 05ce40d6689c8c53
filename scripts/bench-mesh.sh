#!/usr/bin/env bash
# Time to a full mesh: N peers connecting all pairs, in parallel (libfmi) versus one pairing at a
# time in a fixed global order (backends.Direct.sequential_mesh, the original FMI's way).
# Loopback for 8, 16, 32 and 64 peers; and 8 peers through the NAT lab (needs root).
# Each figure: from the last peer's start of init to the last peer's end of init (fmi-selftest
# --mesh-only; process launch skew excluded), median of RUNS runs.
#   scripts/bench-mesh.sh [RUNS=5]        (build first: cargo build --release)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${FMI_BIN:-$ROOT/target/release}"
RUNS="${1:-5}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

for mode in false true; do
    cat >"$TMP/seq-$mode.json" <<JSON
{ "backends": { "Direct": { "enabled": true, "host": "10.99.0.1", "port": 7000, "sequential_mesh": $mode } },
  "communicator": { "timeout_ms": 120000 } }
JSON
done

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }
# Time from the moment the last peer started its init until the last peer finished it (so the
# launch skew of the processes is not counted).
slowest() {
    grep -o 'start_ms=[0-9.]* end_ms=[0-9.]*' | tr '=' ' ' |
        awk '{ if ($2 > s) s = $2; if ($4 > e) e = $4 } END { printf "%.1f\n", e - s }'
}

echo "| peers | where | parallel (ms) | one pair at a time (ms) | ratio |"
echo "|---|---|---|---|---|"
for n in 8 16 32 64; do
    declare -A res=()
    for mode in false true; do
        for _ in $(seq "$RUNS"); do
            "$BIN/fmirun" -n "$n" --config "$TMP/seq-$mode.json" "$BIN/fmi-selftest" --mesh-only | slowest
        done | median >"$TMP/m"
        res[$mode]=$(cat "$TMP/m")
    done
    echo "| $n | loopback | ${res[false]} | ${res[true]} | $(awk -v a="${res[true]}" -v b="${res[false]}" 'BEGIN{printf "%.1fx", a/b}') |"
done

if [[ "$(id -u)" == 0 ]]; then
    # shellcheck source=scripts/natlab.sh
    source "$ROOT/scripts/natlab.sh"
    trap 'natlab_down; rm -rf "$TMP"' EXIT
    natlab_up 8 >/dev/null
    ip netns exec pub "$BIN/fmi-rendezvous" --listen 10.99.0.1:7000 >/dev/null 2>&1 &
    declare -A res=()
    for mode in false true; do
        for r in $(seq "$RUNS"); do
            pids=()
            for i in $(seq 1 8); do
                ip netns exec "h$i" env FMI_PEER_ID=$((i - 1)) FMI_NUM_PEERS=8 FMI_COMM_NAME="bench-$mode-$r" \
                    FMI_CONFIG="$TMP/seq-$mode.json" "$BIN/fmi-selftest" --expect-netns "h$i" --mesh-only \
                    >"$TMP/nat-$i.log" 2>&1 &
                pids+=($!)
            done
            for p in "${pids[@]}"; do wait "$p"; done
            cat "$TMP"/nat-*.log | slowest
        done | median >"$TMP/m"
        res[$mode]=$(cat "$TMP/m")
    done
    echo "| 8 | NAT lab (8 NATs) | ${res[false]} | ${res[true]} | $(awk -v a="${res[true]}" -v b="${res[false]}" 'BEGIN{printf "%.1fx", a/b}') |"
fi
