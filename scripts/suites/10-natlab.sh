#!/usr/bin/env bash
# NAT traversal against real Linux NATs (network namespaces + conntrack masquerade, see
# scripts/natlab.sh): every peer runs fmi-selftest inside its own host namespace, which checks its
# namespace and source subnet before opening a socket, reports direct/relayed links, and runs
# every collective with result checks. The rendezvous server runs in the "pub" namespace.
#
# Scenarios: 4 port-preserving NATs (all direct, no relay); one random-port NAT among 4
# (its pairs relayed); the same with max_timeout equal to the communicator timeout (the punch
# budget is bounded so the relay still connects inside the init deadline); two hosts behind one NAT; RST-answering NATs (connect or relay, never hang);
# wrong and missing job secrets refused (FMI_ERR_AUTH) while a stranger using the job's pairing
# names gets nothing. Needs root (CI runs as root); fails, never skips.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${FMI_PREFIX:?FMI_PREFIX must point to the installed package}/bin"
WORK="${FMI_WORK:-$(mktemp -d)}/natlab"
mkdir -p "$WORK"
# shellcheck source=scripts/natlab.sh
source "$ROOT/scripts/natlab.sh"

if [[ "$(id -u)" != 0 ]]; then
    echo "natlab: needs root (network namespaces, iptables)" >&2
    exit 1
fi
trap natlab_down EXIT

TOKEN="natlab-secret-$RANDOM$RANDOM"
SERVER=10.99.0.1:7000
cat >"$WORK/fmi.json" <<'JSON'
{ "backends": { "Direct": { "enabled": true, "host": "10.99.0.1", "port": 7000, "max_timeout": 3000 } },
  "communicator": { "timeout_ms": 30000 } }
JSON

start_server() {
    ip netns exec "$(_nl_ns pub)" env FMI_AUTH_TOKEN="$TOKEN" FMI_LOG=info \
        "$BIN/fmi-rendezvous" --listen "$SERVER" >"$WORK/server-$1.log" 2>&1 &
    SERVER_PID=$!
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# peer NAME HOST RANK SIZE TOKEN [selftest args...]: one peer in host namespace h<HOST>, in background.
peer() {
    local name=$1 host=$2 rank=$3 size=$4 token=$5
    shift 5
    local subnet="192.168.$(_nl_nat_of "$host").0/24"
    ip netns exec "$(_nl_ns "h$host")" env FMI_PEER_ID="$rank" FMI_NUM_PEERS="$size" \
        FMI_COMM_NAME="natlab-$name" FMI_CONFIG="${CONFIG:-$WORK/fmi.json}" FMI_RENDEZVOUS="$SERVER" FMI_AUTH_TOKEN="$token" FMI_LOG=info \
        timeout -k 5 90 "$BIN/fmi-selftest" --expect-netns "$(_nl_ns "h$host")" \
        --expect-subnet "$subnet" --max-bytes 262144 "$@" >"$WORK/$name-$rank.log" 2>&1 &
    PIDS+=($!)
}

# wait_peers NAME EXPECTED_EXIT: waits for all PIDS, prints their logs, checks exit codes.
wait_peers() {
    local name=$1 want=$2 pid rc bad=0 i=0
    for pid in "${PIDS[@]}"; do
        rc=0
        wait "$pid" || rc=$?
        echo "---- $name peer $i (exit $rc)"
        sed 's/^/    /' "$WORK/$name-$i.log" | tail -n 12
        [[ "$rc" == "$want" ]] || bad=1
        i=$((i + 1))
    done
    PIDS=()
    return $bad
}

scenario() {
    echo
    echo "==== natlab scenario: $1"
}

# 1. Four hosts behind their own port-preserving NATs: all pairs direct, every collective passes.
#    A stranger (wrong secret) registers the job's pairing names at the same time and gets nothing.
scenario "4 port-preserving NATs, direct only; a stranger with the pairing names is refused"
natlab_up 4
start_server preserve
PIDS=()
for i in 1 2 3 4; do peer preserve "$i" $((i - 1)) 4 "$TOKEN" --expect-link direct; done
wait_peers preserve 0
for r in 0 1; do peer stranger 4 "$r" 4 "wrong-$TOKEN" --mesh-only; done
wait_peers stranger 4
grep -q "authentication failed" "$WORK/stranger-0.log"
stop_server
if grep -q "relaying" "$WORK/server-preserve.log"; then echo "a relay was used" >&2; exit 1; fi
echo "ok: 4 NATs, all direct, no relay; stranger refused (FMI_ERR_AUTH)"

# 2. One host behind a random-port (symmetric-like) NAT among four: its pairs fall back to the relay.
scenario "one random-port NAT among 4: relay fallback"
NL_NAT_MODE_1=random natlab_up 4
start_server random
PIDS=()
for i in 1 2 3 4; do peer random "$i" $((i - 1)) 4 "$TOKEN" --expect-link direct --relayed-peers 0; done
wait_peers random 0
stop_server
grep -q "relaying" "$WORK/server-random.log"
echo "ok: rank 0's pairs relayed, the others direct, every collective passed"

# 2b. The same with backends.Direct.max_timeout equal to the communicator timeout (the original
#     FMI's 30000 ms default case, here 10000 ms): punching alone would use the whole init
#     deadline; the bounded punch budget leaves the relay time, and init passes inside it.
scenario "random-port NAT, max_timeout = timeout: relayed inside the init deadline"
cat >"$WORK/fmi-deadline.json" <<'JSON'
{ "backends": { "Direct": { "enabled": true, "host": "10.99.0.1", "port": 7000, "max_timeout": 10000 } },
  "communicator": { "timeout_ms": 10000 } }
JSON
NL_NAT_MODE_1=random natlab_up 3
start_server deadline
PIDS=()
for i in 1 2 3; do
    CONFIG="$WORK/fmi-deadline.json" peer deadline "$i" $((i - 1)) 3 "$TOKEN" --expect-link direct --relayed-peers 0
done
wait_peers deadline 0
stop_server
grep -q "relaying" "$WORK/server-deadline.log"
for i in 0 1 2; do
    ms=$(sed -n 's/.*mesh_ms=\([0-9.]*\).*/\1/p' "$WORK/deadline-$i.log")
    echo "    rank $i: mesh in ${ms} ms (deadline 10000 ms)"
done
echo "ok: max_timeout = timeout, rank 0's pairs relayed inside the init deadline"

# 3a. Two hosts behind the same NAT (private endpoints first), one behind its own.
scenario "two hosts behind one NAT"
export NL_NAT_OF_2=1
natlab_up 3
start_server samenat
PIDS=()
for i in 1 2 3; do peer samenat "$i" $((i - 1)) 3 "$TOKEN" --expect-link direct; done
wait_peers samenat 0
stop_server
unset NL_NAT_OF_2
echo "ok: two hosts behind one NAT connected"

# 3b. NATs that answer unsolicited SYNs with RST: connect or fall back, never hang.
scenario "RST-answering NATs"
NL_INBOUND=reject natlab_up 3
start_server rst
PIDS=()
for i in 1 2 3; do peer rst "$i" $((i - 1)) 3 "$TOKEN" --expect-link any; done
wait_peers rst 0
stop_server
echo "ok: RST NATs connected or relayed within the timeout"

# 4. Missing and wrong secrets are refused with FMI_ERR_AUTH (fmi-selftest exit code 4).
scenario "missing and wrong job secret"
natlab_up 2
start_server auth
PIDS=()
peer noauth 1 0 2 "" --mesh-only
wait_peers noauth 4
peer badauth 1 0 2 "not-the-secret" --mesh-only
wait_peers badauth 4
stop_server
echo "ok: unauthenticated and wrongly authenticated registrations refused"

echo
echo "natlab: all scenarios passed"
