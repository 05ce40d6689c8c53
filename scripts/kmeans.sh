#!/usr/bin/env bash
# One-command demo: distributed K-means on 4 peers over the direct channel.
#   scripts/kmeans.sh [points_per_peer [dim [clusters [max_iters]]]]
#   FMI_DEMO_PEERS=8 scripts/kmeans.sh      # another peer count
# Builds libfmi (cargo, release) and installs it to build/prefix, builds examples-c into
# build/examples-c, then runs `fmirun -n 4 build/examples-c/kmeans`. fmirun starts the rendezvous
# server itself; nothing has to be started by hand.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${HOME}/.cargo/bin:${PATH}"
PEERS="${FMI_DEMO_PEERS:-4}"
PREFIX="$ROOT/build/prefix"

"$ROOT/scripts/install-deps.sh"

echo "==== building libfmi (cargo build --release) and installing it to build/prefix"
cmake -S "$ROOT" -B "$ROOT/build/fmi" -DCMAKE_INSTALL_PREFIX="$PREFIX" -DFMI_CARGO_TARGET_DIR="$ROOT/target" >/dev/null
cmake --build "$ROOT/build/fmi"
cmake --install "$ROOT/build/fmi" >/dev/null

echo "==== building examples-c (release)"
cmake -S "$ROOT/examples-c" -B "$ROOT/build/examples-c" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$ROOT/build/examples-c" -j "$(nproc 2>/dev/null || echo 2)"

echo "==== fmirun -n $PEERS build/examples-c/kmeans $*"
exec "$PREFIX/bin/fmirun" -n "$PEERS" "$ROOT/build/examples-c/kmeans" "$@"
