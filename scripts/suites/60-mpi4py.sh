#!/usr/bin/env bash
# mpi4py 4.1.2, unchanged, on the installed libmpi_abi.so.1 (FMI_PREFIX), one step of
# scripts/test.sh: built once for the MPI standard ABI against the installed include/mpi.h with
# the installed fmicc (scripts/mpi4py.sh, into the project venv of scripts/mpi-venv.sh), checked
# to load libfmi's library under the installed fmirun with no LD_LIBRARY_PATH of ours; a mpi4py
# program as AWS Lambda functions (lambda/mpi4py/handler.py) with 3 local peers; then mpi4py's
# own test suite (test/main.py with MPI4PY_TEST_SPAWN=0, excluding the one-sided, I/O,
# dynamic-process, ULFM and intercommunicator modules) under fmirun at 1 and 2 processes. Fails
# when the build fails or the suite reports any failure or error.
#   FMI_PREFIX  the installed libfmi package, FMI_WORK  a scratch directory.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${FMI_PREFIX:?}" "${FMI_WORK:?}"
W="$FMI_WORK/mpi4py"
mkdir -p "$W"
fail() {
    echo "error: $*" >&2
    exit 1
}
export FMICC="$FMI_PREFIX/bin/fmicc" FMIRUN="$FMI_PREFIX/bin/fmirun"
export FMI_MPI4PY_TIMEOUT="${FMI_MPI4PY_TIMEOUT:-900}"
unset LD_LIBRARY_PATH MPI4PY_LIBMPI PYTHONPATH

echo "--- build mpi4py against $FMI_PREFIX/include/mpi.h"
site="$("$ROOT/scripts/mpi4py.sh" build fmi)"
VENV="$("$ROOT/scripts/mpi-venv.sh")"

echo "--- the library mpi4py loads under fmirun"
PYTHONPATH="$site" timeout -k 10 300 "$FMIRUN" -n 1 "$VENV/bin/python" -c \
    'from mpi4py import MPI; print("LIB", MPI.Get_library_version().splitlines()[0])' | tee "$W/lib"
grep -q "LIB .*libfmi" "$W/lib" || fail "mpi4py did not load libfmi's libmpi_abi.so.1"

echo "--- a mpi4py program as AWS Lambda functions (lambda/mpi4py/handler.py), 3 local peers"
# The Python layer is the wheel's content under python/ (scripts/build-layers.sh makes it so);
# mpi4py and the program go into the function's directory. local_peer.py drops fmirun's
# MPI4PY_LIBMPI: the handler must find libfmi's library in the layer.
rm -rf "$W/lambda"
mkdir -p "$W/lambda/opt/python" "$W/lambda/task"
whl="$(PYTHON="$VENV/bin/python" "$ROOT/python/build-wheel.sh" --lib "$FMI_PREFIX/lib/libfmi.so.0" \
    --mpi-lib "$FMI_PREFIX/lib/libmpi_abi.so.1" --out "$W/lambda/dist" | tail -1)"
(cd "$W/lambda/opt/python" && unzip -q "$whl")
cp -R "$site"/. "$W/lambda/task/"
cp "$ROOT/lambda/mpi4py/handler.py" "$ROOT/examples-mpi/mpi4py_pi.py" "$W/lambda/task/"
cat >"$W/lambda/task/which_lib.py" <<'PY'
# Which libmpi_abi.so.1 this process mapped: the layer's ($FMI_TEST_LAYER_LIB), and only it.
import os, sys
from mpi4py import MPI
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "libmpi_abi" in l})
MPI.COMM_WORLD.Barrier()
print("LIBS", libs, MPI.Get_library_version().splitlines()[0])
want = os.path.realpath(os.environ["FMI_TEST_LAYER_LIB"])
sys.exit(0 if libs == [want] and "libfmi" in MPI.Get_library_version() else 1)
PY
for prog in mpi4py_pi.py which_lib.py; do
    FMI_MPI_PROGRAM="$prog" FMI_TEST_LAYER_LIB="$W/lambda/opt/python/fmi/libmpi_abi.so.1" \
        PYTHONPATH="$W/lambda/opt/python" timeout -k 10 300 "$VENV/bin/python" "$ROOT/lambda/invoke.py" \
        -n 3 --local python --handler-dir "$W/lambda/task" --fmirun "$FMIRUN" | tee "$W/lambda/$prog.log"
    grep -q "3/3 peers ok" "$W/lambda/$prog.log" || fail "the mpi4py Lambda function failed with $prog"
done
grep -q "check OK" "$W/lambda/mpi4py_pi.py.log" || fail "the mpi4py example's check did not pass"

for n in 1 2; do
    echo "--- mpi4py's suite at $n processes"
    start=$SECONDS
    rc=0
    "$ROOT/scripts/mpi4py.sh" suite fmi fmirun "$n" >"$W/suite-$n.log" 2>&1 || rc=$?
    # unittest's summary of every rank (fmirun prefixes lines with the rank)
    grep -E '^\[[0-9]+\] (Ran [0-9]+ tests|OK|FAILED)' "$W/suite-$n.log" || true
    echo "(exit $rc, $((SECONDS - start)) s)"
    if ((rc != 0)); then
        grep -E '^\[[0-9]+\] (ERROR|FAIL):' "$W/suite-$n.log" | sort | uniq -c | head -60 >&2 || true
        tail -40 "$W/suite-$n.log" >&2
        fail "mpi4py's suite failed at $n processes"
    fi
    [[ "$(grep -cE '^\[[0-9]+\] OK' "$W/suite-$n.log")" == "$n" ]] ||
        fail "mpi4py's suite: not every one of the $n ranks reported OK"
done
echo "mpi4py suite: ok"
