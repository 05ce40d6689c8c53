#!/usr/bin/env bash
# The installed MPI standard-ABI library (FMI_PREFIX): lib/libmpi_abi.so.1 with its SONAME and
# no libfmi dependency, the lib/libmpi_abi.so link, include/mpi.h, bin/fmicc; a program built
# with the installed fmicc runs under the installed fmirun and, unchanged, under MPICH's mpiexec
# with MPICH's library (the project venv, scripts/mpi-venv.sh); a find_package(FMI) consumer
# links FMI::mpi. (The MPI layer's own tests run in `cargo test`: mpi/tests/.)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${FMI_PREFIX:?}" "${FMI_WORK:?}"
W="$FMI_WORK/mpi"
mkdir -p "$W"
run() {
    echo "+ $*"
    "$@"
}
fail() {
    echo "error: $*" >&2
    exit 1
}
VENV="$("$ROOT/scripts/mpi-venv.sh")"

for f in lib/libmpi_abi.so.1 include/mpi.h bin/fmicc; do
    [[ -e "$FMI_PREFIX/$f" ]] || fail "missing $FMI_PREFIX/$f"
done
[[ -L "$FMI_PREFIX/lib/libmpi_abi.so" && "$(readlink "$FMI_PREFIX/lib/libmpi_abi.so")" == libmpi_abi.so.1 ]] ||
    fail "lib/libmpi_abi.so is not a symlink to libmpi_abi.so.1"
soname="$(objdump -p "$FMI_PREFIX/lib/libmpi_abi.so.1" | awk '$1 == "SONAME" { print $2 }')"
[[ "$soname" == libmpi_abi.so.1 ]] || fail "libmpi_abi.so.1 has SONAME '$soname'"
if objdump -p "$FMI_PREFIX/lib/libmpi_abi.so.1" | grep -q 'NEEDED.*libfmi'; then
    fail "libmpi_abi.so.1 needs libfmi.so: the core must be linked in"
fi

echo "--- fmicc (installed) builds tests/mpi/init.c; fmirun and MPICH's mpiexec run it"
run "$FMI_PREFIX/bin/fmicc" -show -o "$W/init" "$ROOT/tests/mpi/init.c"
run "$FMI_PREFIX/bin/fmicc" -O1 -Wall -Werror -o "$W/init" "$ROOT/tests/mpi/init.c"
needed="$(objdump -p "$W/init" | awk '$1 == "NEEDED" { print $2 }' | tr '\n' ' ')"
[[ " $needed " == *" libmpi_abi.so.1 "* ]] || fail "init does not record NEEDED libmpi_abi.so.1 ($needed)"
for n in 1 3; do
    run timeout -k 10 300 "$FMI_PREFIX/bin/fmirun" -np "$n" "$W/init" "$n" | tee "$W/out"
    grep -q "PASS init" "$W/out" || fail "no PASS from init on $n processes"
done
run env LD_LIBRARY_PATH="$VENV/lib" MPIEXEC_TIMEOUT=120 "$VENV/bin/mpiexec" -n 2 "$W/init" 2 | tee "$W/out"
grep -q "PASS init" "$W/out" || fail "no PASS from the fmicc-built init under MPICH"

echo "--- find_package(FMI) consumer linking FMI::mpi"
mkdir -p "$W/consumer"
cp "$ROOT/tests/mpi/init.c" "$ROOT/tests/mpi/check.h" "$W/consumer/"
cat >"$W/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(fmi_mpi_consumer LANGUAGES C)
find_package(FMI 0.1 REQUIRED)
add_executable(init init.c)
target_link_libraries(init PRIVATE FMI::mpi)
CMAKE
run cmake -S "$W/consumer" -B "$W/consumer-build" -DCMAKE_PREFIX_PATH="$FMI_PREFIX"
run cmake --build "$W/consumer-build"
run env LD_LIBRARY_PATH="$FMI_PREFIX/lib" timeout -k 10 300 "$FMI_PREFIX/bin/fmirun" -n 2 \
    "$W/consumer-build/init" 2 | tee "$W/out"
grep -q "PASS init" "$W/out" || fail "no PASS from the FMI::mpi consumer"
echo "mpi suite: ok"
