#!/usr/bin/env bash
# Runs the fuzz targets in fuzz/ (cargo-fuzz, libFuzzer, nightly Rust), each for a given time,
# one after the other, and fails on the first crash, leak, timeout or out-of-memory.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 60 s, every target)
# Installs the nightly toolchain (rustup) and cargo-fuzz when missing. Each target starts from
# its seeds (fuzz/seeds/TARGET, committed) and the corpus earlier runs grew (fuzz/corpus/TARGET,
# not committed). A crash leaves its input in fuzz/artifacts/TARGET/; reproduce it with
#   cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...
# Environment: FMI_FUZZ_RSS_MB (default 2048) memory limit per target; FMI_FUZZ_NICE (default 0).
# The last line is `N passed, M failed` (one per target).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"
export PATH="${HOME}/.cargo/bin:${PATH}"
export CARGO_TERM_COLOR=never
SECONDS_PER="${1:-60}"
shift || true
RSS_MB="${FMI_FUZZ_RSS_MB:-2048}"
NICE="${FMI_FUZZ_NICE:-0}"
[[ "$SECONDS_PER" =~ ^[0-9]+$ && "$SECONDS_PER" -gt 0 ]] ||
    { echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: installing the nightly toolchain (rustup)"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

mapfile -t ALL < <(cargo +nightly fuzz list)
TARGETS=("$@")
((${#TARGETS[@]} > 0)) || TARGETS=("${ALL[@]}")
((${#TARGETS[@]} > 0)) || { echo "fuzz: no targets found" >&2; exit 1; }

start=$SECONDS
echo "fuzz: building ${#ALL[@]} targets (${ALL[*]})"
nice -n "$NICE" cargo +nightly fuzz build
echo "fuzz: built in $((SECONDS - start)) s"

passed=0
failed=0
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="$(mktemp "${TMPDIR:-/tmp}/fmi-fuzz-$t.XXXXXX")"
    echo "==== fuzz $t for $SECONDS_PER s"
    seeds=()
    [[ -d "seeds/$t" ]] && seeds=("seeds/$t")
    # -timeout: one input taking longer than 10 s is a hang; -rss_limit_mb: a runaway allocation.
    if nice -n "$NICE" cargo +nightly fuzz run "$t" "corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb="$RSS_MB" \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
        runs="$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)"
        echo "ok: $t: ${runs:-done} ($(find "corpus/$t" -type f | wc -l) corpus inputs), no crash"
        rm -f "$log"
        passed=$((passed + 1))
    else
        tail -n 60 "$log"
        echo "FAILED: $t: crash input in fuzz/artifacts/$t/ (full log: $log)"
        failed=$((failed + 1))
    fi
done
echo "fuzz: $((SECONDS - start)) s in all"
echo "$passed passed, $failed failed"
((failed == 0))
