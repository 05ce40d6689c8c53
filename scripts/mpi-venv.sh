#!/usr/bin/env bash
# The project venv of the MPI layer (idempotent): MPICH's standard-ABI build from PyPI
# (mpich==5.0.2: bin/mpicc_abi, bin/mpiexec, include/mpi_abi.h, lib/libmpi_abi.so.1), the
# header the generator reads and the reference the MPI tests run against, and pympistandard
# (the MPI Forum's signatures, the generator's cross-check).
# Location: $FMI_MPI_VENV, default <repo>/.venv-mpi. Prints the venv's path last.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FMI_MPI_VENV:-$ROOT/.venv-mpi}"
MPICH=5.0.2
PYMPISTANDARD=0.2.0

ready() {
    [[ -x "$VENV/bin/mpicc_abi" && -x "$VENV/bin/mpiexec" && -f "$VENV/include/mpi_abi.h" \
        && -e "$VENV/lib/libmpi_abi.so.1" ]] \
        && "$VENV/bin/python" -c 'import pympistandard' >/dev/null 2>&1 \
        && [[ "$("$VENV/bin/python" -m pip show mpich 2>/dev/null | sed -n 's/^Version: //p')" == "$MPICH" ]]
}

if ! ready; then
    echo "mpi-venv: installing mpich==$MPICH and pympistandard==$PYMPISTANDARD into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "mpich==$MPICH" "pympistandard==$PYMPISTANDARD"
    ready || { echo "mpi-venv: $VENV is incomplete after the install" >&2; exit 1; }
fi
echo "$VENV"
