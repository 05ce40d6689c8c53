#!/usr/bin/env bash
# Builds the fmi Python wheel: the package python/fmi plus libfmi.so and libfmi's MPI library
# libmpi_abi.so.1 (for mpi4py: fmi.mpi; debug info stripped) in one platform wheel, fmi-0.1.0-py3-none-<platform>.whl, where <platform> is
# manylinux_2_<G>_<arch> with G the newest glibc symbol version the library needs (or
# linux_<arch> if it needs a library outside the manylinux set).
#
#   python/build-wheel.sh [--lib PATH] [--mpi-lib PATH] [--out DIR]
#
#   --lib PATH   libfmi.so to pack (default: target/release/libfmi.so; run
#                `cargo build --release --lib` first). Any architecture: the tag follows the ELF.
#   --mpi-lib PATH  libmpi_abi.so.1 to pack (default: the one beside --lib; `cargo build
#                --release` builds both). Same architecture as --lib.
#   --out DIR    where the wheel goes (default: python/dist). The staging copy is DIR/stage.
# Environment: PYTHON (default python3) builds the wheel; when it lacks setuptools>=70.1 and
# wheel, a private venv DIR/buildenv gets them from PyPI. STRIP (default: strip, or
# aarch64-linux-gnu-strip for arm64 libraries).
# Prints the wheel's path as its last line.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB="$ROOT/target/release/libfmi.so"
OUT="$ROOT/python/dist"
MPILIB=""
while (($#)); do
    case "$1" in
        --lib) LIB="$2"; shift 2 ;;
        --mpi-lib) MPILIB="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "build-wheel: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ -f "$LIB" ]] || { echo "build-wheel: $LIB not found (cargo build --release --lib)" >&2; exit 1; }
MPILIB="${MPILIB:-$(dirname "$LIB")/libmpi_abi.so.1}"
[[ -f "$MPILIB" ]] || { echo "build-wheel: $MPILIB not found (cargo build --release, or --mpi-lib)" >&2; exit 1; }
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# --- platform tag from the ELF file -----------------------------------------------------------
machine="$(readelf -h "$LIB" | awk -F: '/Machine:/ { gsub(/^ +/, "", $2); print $2 }')"
case "$machine" in
    *X86-64*) arch=x86_64 ;;
    *AArch64*) arch=aarch64 ;;
    *) echo "build-wheel: unsupported machine '$machine' in $LIB" >&2; exit 1 ;;
esac
mpimachine="$(readelf -h "$MPILIB" | awk -F: '/Machine:/ { gsub(/^ +/, "", $2); print $2 }')"
[[ "$mpimachine" == "$machine" ]] || { echo "build-wheel: $MPILIB is $mpimachine, $LIB is $machine" >&2; exit 1; }
glibc="$(readelf --dyn-syms -W "$LIB" "$MPILIB" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -1)"
needed="$(readelf -d "$LIB" "$MPILIB" | awk '/NEEDED/ { gsub(/[\[\]]/, "", $NF); print $NF }' | sort -u | tr '\n' ' ')"
plat="manylinux_${glibc//./_}_${arch}"
for lib in $needed; do
    case "$lib" in
        libc.so.6|libm.so.6|libgcc_s.so.1|libpthread.so.0|libdl.so.2|librt.so.1|libutil.so.1|ld-linux-x86-64.so.2|ld-linux-aarch64.so.1) ;;
        *) echo "build-wheel: $LIB needs $lib (outside the manylinux set): tagging linux_$arch" >&2
           plat="linux_${arch}" ;;
    esac
done
echo "build-wheel: $LIB and $MPILIB: $arch, needs glibc $glibc and: $needed-> $plat"

# --- staging copy: sources + stripped library -------------------------------------------------
STAGE="$OUT/stage"
rm -rf "$STAGE"
mkdir -p "$STAGE/fmi"
cp "$ROOT/python/pyproject.toml" "$ROOT/python/setup.py" "$ROOT/python/README.md" "$STAGE/"
cp "$ROOT"/python/fmi/*.py "$STAGE/fmi/"
STRIP="${STRIP:-}"
if [[ -z "$STRIP" ]]; then
    STRIP=strip
    [[ "$arch" == aarch64 && "$(uname -m)" != aarch64 ]] && STRIP=aarch64-linux-gnu-strip
fi
cp "$LIB" "$STAGE/fmi/libfmi.so"
chmod 0755 "$STAGE/fmi/libfmi.so"
"$STRIP" --strip-debug "$STAGE/fmi/libfmi.so"
cp "$MPILIB" "$STAGE/fmi/libmpi_abi.so.1"
chmod 0755 "$STAGE/fmi/libmpi_abi.so.1"
"$STRIP" --strip-debug "$STAGE/fmi/libmpi_abi.so.1"

# --- build -------------------------------------------------------------------------------------
PY="${PYTHON:-python3}"
if ! "$PY" - <<'PYEOF' 2>/dev/null; then
import setuptools, wheel, sys
v = tuple(int(x) for x in setuptools.__version__.split(".")[:2])
sys.exit(0 if v >= (70, 1) else 1)
PYEOF
    echo "build-wheel: $PY lacks setuptools>=70.1 + wheel: creating $OUT/buildenv"
    [[ -x "$OUT/buildenv/bin/python" ]] || "$PY" -m venv "$OUT/buildenv"
    "$OUT/buildenv/bin/python" -m pip install -q --disable-pip-version-check "setuptools>=70.1" wheel
    PY="$OUT/buildenv/bin/python"
fi
rm -f "$OUT"/fmi-*.whl
(cd "$STAGE" && FMI_WHEEL_PLAT="$plat" "$PY" -m pip wheel -q --no-deps --no-build-isolation \
    --disable-pip-version-check -w "$OUT" .)
whl="$(ls "$OUT"/fmi-*.whl)"
[[ "$whl" == *"-py3-none-$plat.whl" ]] || { echo "build-wheel: unexpected wheel name $whl" >&2; exit 1; }
echo "$whl"
