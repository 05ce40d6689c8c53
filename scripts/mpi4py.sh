#!/usr/bin/env bash
# mpi4py 4.1.2, unchanged, on the MPI 5.0 standard ABI: its source distribution from PyPI, built
# with MPI4PY_BUILD_MPIABI=1 against MPICH's mpicc_abi (flavor `mpich`) or against libfmi's own
# include/mpi.h with fmicc (flavor `fmi`), and its test suite (test/main.py) run under fmirun on
# libfmi's libmpi_abi.so.1 or under MPICH's mpiexec on MPICH's.
#
#   scripts/mpi4py.sh build FLAVOR              # build (when missing or stale); prints the site dir
#   scripts/mpi4py.sh suite FLAVOR LAUNCHER N [main.py args...]
#                                               # LAUNCHER: fmirun or mpiexec; N processes
#
# The suite runs with MPI4PY_TEST_SPAWN=0 and excludes the one-sided, I/O, dynamic-process, ULFM
# and intercommunicator modules (-e "test_(rma|win|io|file|dynproc|spawn|ulfm)|_inter"), as the
# yardstick in docs/mpi4py.md; extra arguments go to main.py after those. Exit status: main.py's
# (non-zero on any failure or error), 124 on timeout.
#
# Environment: FMI_MPI_VENV (the project MPI venv, made by scripts/mpi-venv.sh); FMI_MPI4PY_DIR
# (where the source, wheels and builds go, default $FMI_MPI_VENV/mpi4py); FMICC (default: mpi/fmicc, which finds include/ and target/*);
# FMIRUN (default: target/debug/fmirun, else target/release/fmirun); FMI_MPI4PY_TIMEOUT (seconds
# for one suite run, default 1800); FMI_MPI4PY_EXCLUDE (main.py's -e pattern instead of the
# yardstick's, e.g. to run the intercommunicator modules).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=4.1.2
EXCLUDE="${FMI_MPI4PY_EXCLUDE:-test_(rma|win|io|file|dynproc|spawn|ulfm)|_inter}"

usage() {
    sed -n '2,20p' "$0" >&2
    exit 2
}
fail() {
    echo "mpi4py: $*" >&2
    exit 1
}

VENV="$("$ROOT/scripts/mpi-venv.sh")"
PY="$VENV/bin/python"
TOP="${FMI_MPI4PY_DIR:-$VENV/mpi4py}/$VERSION"
SRC="$TOP/mpi4py-$VERSION"

# The source distribution, unpacked (test/ is the suite).
source_tree() {
    if [[ ! -f "$SRC/test/main.py" ]]; then
        mkdir -p "$TOP/dl"
        "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
            "mpi4py==$VERSION" -d "$TOP/dl" >&2
        tar -xzf "$TOP/dl/mpi4py-$VERSION.tar.gz" -C "$TOP"
        [[ -f "$SRC/test/main.py" ]] || fail "no test/main.py in the mpi4py $VERSION sdist"
    fi
}

# The compiler of a flavor.
compiler() {
    case "$1" in
        mpich) echo "$VENV/bin/mpicc_abi" ;;
        fmi) echo "${FMICC:-$ROOT/mpi/fmicc}" ;;
        *) fail "unknown flavor '$1' (mpich or fmi)" ;;
    esac
}
# What a build depends on: the version, the flavor and the header its compiler uses (a build
# from the source tree's fmicc serves an installed fmicc with the same mpi.h: the library is
# found through LD_LIBRARY_PATH, which fmirun sets, before the extension's RUNPATH).
stamp() {
    local cc d
    cc="$(compiler "$1")"
    echo "$VERSION $1"
    for d in $("$cc" -show -c x.c | grep -o -- '-I[^ ]*' | sed 's/^-I//'); do
        [[ -f "$d/mpi.h" ]] && sha256sum <"$d/mpi.h"
    done
    return 0
}

build() {
    local flavor="$1" cc site
    cc="$(compiler "$flavor")"
    [[ -x "$cc" ]] || fail "compiler $cc not found"
    site="$TOP/site-$flavor"
    if [[ -f "$site/.stamp" && "$(cat "$site/.stamp")" == "$(stamp "$flavor")" ]] &&
        "$PY" -c "import sys; sys.path.insert(0, '$site'); import mpi4py" 2>/dev/null; then
        echo "$site"
        return
    fi
    source_tree
    echo "mpi4py: building $VERSION for the standard ABI with $cc" >&2
    rm -rf "$site" "$TOP/wheel-$flavor" "$TOP/build-$flavor"
    # pip builds in the tree it is given: a copy per flavor keeps the suite's tree pristine.
    cp -R "$SRC" "$TOP/build-$flavor"
    MPI4PY_BUILD_MPIABI=1 MPICC="$cc" "$PY" -m pip wheel -q --disable-pip-version-check \
        --no-deps -w "$TOP/wheel-$flavor" "$TOP/build-$flavor" >&2
    rm -rf "$TOP/build-$flavor"
    "$PY" -m pip install -q --disable-pip-version-check --no-deps --target "$site" \
        "$TOP/wheel-$flavor"/mpi4py-*.whl >&2
    # The extension must want the standard ABI's library, by its SONAME.
    local ext
    ext="$(ls "$site"/mpi4py/MPI*.so | head -1)"
    objdump -p "$ext" | grep -q 'NEEDED *libmpi_abi.so.1' ||
        fail "$ext does not need libmpi_abi.so.1 (not a standard-ABI build)"
    stamp "$flavor" >"$site/.stamp"
    echo "$site"
}

suite() {
    local flavor="$1" launcher="$2" n="$3"
    shift 3
    local site
    site="$(build "$flavor")"
    source_tree
    local timeout="${FMI_MPI4PY_TIMEOUT:-1800}"
    # --no-builddir: the mpi4py of PYTHONPATH, never a build/ directory of the source tree.
    local -a cmd=("$PY" "$SRC/test/main.py" --no-builddir -e "$EXCLUDE" "$@")
    export PYTHONPATH="$site" MPI4PY_TEST_SPAWN=0
    case "$launcher" in
        fmirun)
            local fmirun="${FMIRUN:-}"
            if [[ -z "$fmirun" ]]; then
                for f in "$ROOT/target/debug/fmirun" "$ROOT/target/release/fmirun"; do
                    [[ -x "$f" ]] && { fmirun="$f"; break; }
                done
            fi
            [[ -x "$fmirun" ]] || fail "fmirun not found (cargo build -p fmi-tools, or set FMIRUN)"
            echo "+ fmirun -n $n ${cmd[*]}" >&2
            # fmirun puts the libmpi_abi.so.1 beside it first on LD_LIBRARY_PATH.
            timeout -k 10 "$((timeout + 30))" "$fmirun" --timeout "$timeout" -n "$n" "${cmd[@]}"
            ;;
        mpiexec)
            echo "+ mpiexec -n $n ${cmd[*]}" >&2
            LD_LIBRARY_PATH="$VENV/lib" MPIEXEC_TIMEOUT="$timeout" MPIR_CVAR_ENABLE_HEAVY_YIELD=1 \
                timeout -k 10 "$((timeout + 30))" "$VENV/bin/mpiexec" -n "$n" "${cmd[@]}"
            ;;
        *) fail "unknown launcher '$launcher' (fmirun or mpiexec)" ;;
    esac
}

case "${1:-}" in
    build)
        (($# == 2)) || usage
        build "$2"
        ;;
    suite)
        (($# >= 4)) || usage
        shift
        suite "$@"
        ;;
    *) usage ;;
esac
