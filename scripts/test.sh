#!/usr/bin/env bash
# libfmi's whole test suite, from a fresh Debian machine to a green summary line:
#   Rust: fmt, clippy, release build, cargo test (includes the header-drift test), a short pass of
#   every fuzz target (scripts/fuzz.sh);
#   CMake package: build + install to a temporary prefix, layout and SONAME checks;
#   consumers through find_package(FMI): examples-c, examples-cpp, tests/c, tests/cpp,
#   a static-link build, a relocated prefix, a refused find_package(FMI 1.0), a pkg-config build;
#   every example under fmirun with 1, 2, 3, 4 and 8 peers; tests/c/bad_args solo and
#   tests/c/bad_args_peers with 2 peers; the ring example under valgrind; the suites in scripts/suites/ (70-arm64: the library
#   cross-built for arm64, its C examples under qemu-user; 50-mpi: the installed
#   MPI standard-ABI library; 60-mpi4py: mpi4py built for it, a mpi4py Lambda function, and mpi4py's
#   own suite at 1 and 2 processes; the MPI layer's C tests under MPICH and fmirun run in cargo test).
# Each step prints a header; the first failure stops the run. The last line is `N passed, M failed`.
#
# Environment: FMI_TEST_NPS (default "1 2 3 4 8") peer counts for the examples;
#              FMI_TEST_KEEP=1 keeps the temporary directory;
#              FMI_TEST_SKIP_RUST=1 skips fmt, clippy, cargo test and the fuzz pass (for work on
#              the C side only; CI never sets it);
#              FMI_TEST_FUZZ_SECONDS (default 15) seconds per fuzz target.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${HOME}/.cargo/bin:${PATH}"
export CARGO_TERM_COLOR=never
NPS="${FMI_TEST_NPS:-1 2 3 4 8}"
JOBS="$(nproc 2>/dev/null || echo 2)"
RUN_TIMEOUT=300 # seconds for one launcher run; fmirun has its own timeouts, this only stops a hang

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fmi-test.XXXXXX")"
PREFIX="$WORK/prefix"
BUILD="$WORK/build"
PASSED=0
CURRENT="(setup)"
STEP_START=$SECONDS

on_exit() {
    local rc=$?
    if [[ "${FMI_TEST_KEEP:-0}" == 1 ]]; then
        echo "(kept $WORK)"
    else
        rm -rf "$WORK"
    fi
    if ((rc != 0)); then
        printf '\n**** FAILED in step: %s (exit %d)\n' "$CURRENT" "$rc"
        printf '%d passed, 1 failed\n' "$PASSED"
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

step() {
    CURRENT="$1"
    STEP_START=$SECONDS
    printf '\n==== [%d] %s ====\n' "$((PASSED + 1))" "$1"
}
ok() {
    PASSED=$((PASSED + 1))
    printf -- '---- ok: %s (%ds)\n' "$CURRENT" "$((SECONDS - STEP_START))"
}
fail() {
    echo "error: $*" >&2
    exit 1
}
# Runs a command and prints it first.
run() {
    echo "+ $*"
    "$@"
}
# Runs an FMI program under the launcher: launch N PROGRAM [ARGS...]
launch() {
    local n="$1"
    shift
    echo "+ fmirun -n $n $*"
    timeout -k 10 "$RUN_TIMEOUT" "$PREFIX/bin/fmirun" -n "$n" "$@"
}
# Configures and builds a consumer project against the installed prefix: consumer SRC DIR [cmake args]
consumer() {
    local src="$1" dir="$2"
    shift 2
    run cmake -S "$src" -B "$dir" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release "$@"
    run cmake --build "$dir" -j "$JOBS"
}
# The executables that a consumer build produced (top level of its build directory).
executables() {
    find "$1" -maxdepth 1 -type f -perm -u+x -printf '%f\n' | sort
}

echo "libfmi test suite: $ROOT (work dir $WORK, $JOBS cores)"

# --- dependencies and Rust ------------------------------------------------------------------------

step "install dependencies (scripts/install-deps.sh)"
run "$ROOT/scripts/install-deps.sh"
ok

if [[ "${FMI_TEST_SKIP_RUST:-0}" != 1 ]]; then
    step "cargo fmt --check"
    run cargo fmt --all -- --check --color never
    ok

    step "cargo clippy --all-targets -- -D warnings"
    run cargo clippy --all-targets -- -D warnings
    ok
fi

step "cargo build --release --bins --lib"
run cargo build --release --bins --lib
ok

step "a program linked against target/release runs (libfmi.so.0 beside libfmi.so)"
[[ -L "$ROOT/target/release/libfmi.so.0" ]] || fail "target/release/libfmi.so.0 is missing"
run cc "$ROOT/examples-c/hello.c" -I"$ROOT/include" -L"$ROOT/target/release" -lfmi \
    -Wl,-rpath,"$ROOT/target/release" -o "$WORK/hello-build-tree"
echo "+ target/release/fmirun -n 2 hello-build-tree"
timeout -k 10 "$RUN_TIMEOUT" "$ROOT/target/release/fmirun" -n 2 "$WORK/hello-build-tree"
ok

if [[ "${FMI_TEST_SKIP_RUST:-0}" != 1 ]]; then
    step "cargo test --release"
    run cargo test --release
    ok

    step "fuzz: every target for ${FMI_TEST_FUZZ_SECONDS:-15} s (scripts/fuzz.sh, nightly)"
    run bash "$ROOT/scripts/fuzz.sh" "${FMI_TEST_FUZZ_SECONDS:-15}"
    ok
else
    echo "(FMI_TEST_SKIP_RUST=1: skipped cargo fmt, clippy and test)"
fi

# --- CMake package ----------------------------------------------------------------------------------

step "CMake package: configure, build, install to a temporary prefix"
# Reuse the release tree that cargo just built: the cargo step inside CMake is then a no-op.
run cmake -S "$ROOT" -B "$BUILD/fmi" -DCMAKE_INSTALL_PREFIX="$PREFIX" -DFMI_CARGO_TARGET_DIR="$ROOT/target"
run cmake --build "$BUILD/fmi"
run cmake --install "$BUILD/fmi"
ok

step "CMake package: installed layout and SONAME"
(cd "$PREFIX" && find . \( -type f -o -type l \) | sort)
for f in lib/libfmi.so.0 lib/libfmi.a include/fmi.h bin/fmirun bin/fmi-rendezvous \
    lib/cmake/FMI/FMIConfig.cmake lib/cmake/FMI/FMIConfigVersion.cmake lib/pkgconfig/fmi.pc; do
    [[ -e "$PREFIX/$f" ]] || fail "missing $PREFIX/$f"
done
[[ -L "$PREFIX/lib/libfmi.so" && "$(readlink "$PREFIX/lib/libfmi.so")" == libfmi.so.0 ]] ||
    fail "lib/libfmi.so is not a symlink to libfmi.so.0"
[[ -x "$PREFIX/bin/fmirun" && -x "$PREFIX/bin/fmi-rendezvous" ]] || fail "bin/ programs are not executable"
if [[ -e "$ROOT/include/fmi.hpp" ]]; then
    [[ -e "$PREFIX/include/fmi.hpp" ]] || fail "include/fmi.hpp exists but was not installed"
    for h in "$ROOT"/include/fmi/*.hpp; do
        [[ -e "$PREFIX/include/fmi/${h##*/}" ]] || fail "include/fmi/${h##*/} (a part of fmi.hpp) was not installed"
    done
fi
soname="$(objdump -p "$PREFIX/lib/libfmi.so.0" | awk '$1 == "SONAME" { print $2 }')"
echo "SONAME: ${soname:-(none)}"
[[ "$soname" == libfmi.so.0 ]] || fail "libfmi.so.0 has SONAME '${soname}', expected libfmi.so.0"
ok

# --- consumers ----------------------------------------------------------------------------------------

step "build examples-c via find_package(FMI)"
consumer "$ROOT/examples-c" "$BUILD/examples-c"
C_EXAMPLES=(hello ring allreduce kmeans)
for e in "${C_EXAMPLES[@]}"; do [[ -x "$BUILD/examples-c/$e" ]] || fail "examples-c/$e was not built"; done
needed="$(objdump -p "$BUILD/examples-c/hello" | awk '$1 == "NEEDED" { print $2 }' | tr '\n' ' ')"
echo "hello NEEDED: $needed"
[[ " $needed " == *" libfmi.so.0 "* ]] || fail "hello does not record NEEDED libfmi.so.0"
ok

HAVE_CPP_EXAMPLES=0
if [[ -f "$ROOT/examples-cpp/CMakeLists.txt" ]]; then
    step "build examples-cpp via find_package(FMI)"
    consumer "$ROOT/examples-cpp" "$BUILD/examples-cpp" -DFMI_EXAMPLES_WERROR=ON
    HAVE_CPP_EXAMPLES=1
    ok
else
    echo "(examples-cpp/ not present: skipped)"
fi

step "build tests/c via find_package(FMI)"
consumer "$ROOT/tests/c" "$BUILD/tests-c"
for t in bad_args bad_args_peers; do
    [[ -x "$BUILD/tests-c/$t" ]] || fail "tests/c/$t was not built"
done
ok

HAVE_CPP_TESTS=0
if [[ -f "$ROOT/tests/cpp/CMakeLists.txt" ]]; then
    step "build tests/cpp via find_package(FMI)"
    consumer "$ROOT/tests/cpp" "$BUILD/tests-cpp"
    HAVE_CPP_TESTS=1
    ok
else
    echo "(tests/cpp/ not present: skipped)"
fi

step "consumer: static link (FMI_USE_STATIC=ON)"
consumer "$ROOT/examples-c" "$BUILD/examples-c-static" -DFMI_USE_STATIC=ON
if objdump -p "$BUILD/examples-c-static/hello" | grep -q 'NEEDED.*libfmi'; then
    fail "the static build of hello still needs libfmi.so"
fi
launch 2 "$BUILD/examples-c-static/hello"
launch 2 "$BUILD/examples-c-static/allreduce"
ok

step "consumer: find_package(FMI 1.0) is refused, a relocated prefix works"
mkdir -p "$WORK/consumer-new" "$WORK/consumer"
cat >"$WORK/consumer-new/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(fmi_wants_1_0 LANGUAGES C)
find_package(FMI 1.0 REQUIRED)
EOF
if cmake -S "$WORK/consumer-new" -B "$BUILD/consumer-new" -DCMAKE_PREFIX_PATH="$PREFIX" \
    >"$WORK/consumer-new.log" 2>&1; then
    cat "$WORK/consumer-new.log"
    fail "find_package(FMI 1.0 REQUIRED) was accepted by FMI 0.1.0"
fi
grep -E 'version: 0\.1\.0|0\.1\.0' "$WORK/consumer-new.log" || fail "the refusal does not name version 0.1.0"
echo "find_package(FMI 1.0 REQUIRED) refused, as it must be"
# The prefix is relocatable: copy it, and build and run a consumer against the copy only.
cp -a "$PREFIX" "$WORK/moved-prefix"
cat >"$WORK/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(fmi_consumer LANGUAGES C)
find_package(FMI 0.1 REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE FMI::fmi)
EOF
cat >"$WORK/consumer/app.c" <<'EOF'
#include <fmi.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    printf("libfmi %s, FMI_DOUBLE is %zu bytes\n", fmi_version(), fmi_datatype_size(FMI_DOUBLE));
    return strcmp(fmi_version(), "0.1.0") == 0 && fmi_datatype_size(FMI_DOUBLE) == 8 ? 0 : 1;
}
EOF
run cmake -S "$WORK/consumer" -B "$BUILD/consumer" -DCMAKE_PREFIX_PATH="$WORK/moved-prefix"
grep -q "moved-prefix" "$BUILD/consumer/CMakeCache.txt" || fail "the consumer did not find the moved prefix"
run cmake --build "$BUILD/consumer"
run "$BUILD/consumer/app"
rm -rf "$WORK/moved-prefix"
ok

step "consumer: pkg-config build of hello"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
run pkg-config --modversion fmi
[[ "$(pkg-config --modversion fmi)" == 0.1.0 ]] || fail "pkg-config reports a version other than 0.1.0"
libdir="$(pkg-config --variable=libdir fmi)"
# shellcheck disable=SC2046
run cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L $(pkg-config --cflags fmi) \
    -o "$WORK/hello-pkgconfig" "$ROOT/examples-c/hello.c" $(pkg-config --libs fmi) -Wl,-rpath,"$libdir"
launch 2 "$WORK/hello-pkgconfig"
ok

# --- runs ---------------------------------------------------------------------------------------------

for e in "${C_EXAMPLES[@]}"; do
    step "run examples-c/$e under fmirun -n {${NPS// /,}}"
    for n in $NPS; do launch "$n" "$BUILD/examples-c/$e"; done
    ok
done

if ((HAVE_CPP_EXAMPLES)); then
    for e in $(executables "$BUILD/examples-cpp"); do
        step "run examples-cpp/$e under fmirun -n {${NPS// /,}}"
        for n in $NPS; do launch "$n" "$BUILD/examples-cpp/$e"; done
        ok
    done
fi

step "tests/c/bad_args: single process"
run env -u FMI_PEER_ID -u FMI_NUM_PEERS -u FMI_COMM_NAME -u FMI_CONFIG -u FMI_TIMEOUT_MS \
    timeout -k 10 "$RUN_TIMEOUT" "$BUILD/tests-c/bad_args"
ok

step "tests/c/bad_args_peers: two peers (fmirun -n 2)"
launch 2 "$BUILD/tests-c/bad_args_peers"
ok

if ((HAVE_CPP_TESTS)); then
    for t in $(executables "$BUILD/tests-cpp"); do
        step "tests/cpp/$t under fmirun -n {${NPS// /,}}"
        for n in $NPS; do launch "$n" "$BUILD/tests-cpp/$t"; done
        ok
    done
fi

# --- further suites ----------------------------------------------------------------------------
# Each scripts/suites/NN-name.sh is one step, run in name order with the installed prefix in
# FMI_PREFIX and the scratch directory in FMI_WORK. A suite that needs a server starts it itself
# and fails (never skips) when it cannot.
for suite in "$ROOT"/scripts/suites/*.sh; do
    [[ -e "$suite" ]] || continue
    step "suite $(basename "$suite" .sh)"
    FMI_PREFIX="$PREFIX" FMI_WORK="$WORK" run bash "$suite"
    ok
done

step "valgrind: examples-c/ring under fmirun -n 2"
launch 2 valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    "$BUILD/examples-c/ring" 2>&1 | tee "$WORK/valgrind.log"
clean="$(grep -c 'ERROR SUMMARY: 0 errors' "$WORK/valgrind.log" || true)"
[[ "$clean" == 2 ]] || fail "expected 2 valgrind reports with 0 errors, found $clean"
ok

printf '\n==== summary: all %d steps passed (%ds) ====\n' "$PASSED" "$SECONDS"
printf '%d passed, 0 failed\n' "$PASSED"
