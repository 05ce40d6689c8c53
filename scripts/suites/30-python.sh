#!/usr/bin/env bash
# Python binding and AWS Lambda packaging, one step of scripts/test.sh.
#   FMI_PREFIX  the installed libfmi package (cmake --install), FMI_WORK  a scratch directory.
# 1. a venv in FMI_WORK/python with pytest, numpy, cfn-lint, auditwheel, boto3, setuptools, wheel (PyPI);
# 2. the wheel (python/build-wheel.sh) from FMI_PREFIX's libfmi.so.0: its glibc needs (<= 2.34,
#    Amazon Linux 2023), auditwheel's verdict, an install into a fresh venv without numpy that runs
#    the example under fmirun, and an install into the test venv;
# 3. the Lambda artifacts (scripts/build-layers.sh --prefix FMI_PREFIX) and cfn-lint of the template;
# 4. pytest tests/python with the installed wheel and the fmirun of FMI_PREFIX: the collective
#    matrix, zero-copy, GIL, errors, the layer zips and the example functions under fmirun.
# Fails (never skips) when anything is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${FMI_PREFIX:?FMI_PREFIX must name the installed libfmi}"
: "${FMI_WORK:?FMI_WORK must name a scratch directory}"
W="$FMI_WORK/python"
FMIRUN="$FMI_PREFIX/bin/fmirun"
unset PYTHONPATH FMI_LIBRARY
say() { printf '\n---- python: %s\n' "$*"; }
run() { echo "+ $*"; "$@"; }

# zip/unzip (layers) and readelf (binutils) are not among scripts/install-deps.sh's packages
need=()
command -v zip >/dev/null || need+=(zip)
command -v unzip >/dev/null || need+=(unzip)
command -v readelf >/dev/null || need+=(binutils)
if ((${#need[@]})); then
    SUDO=""
    [[ "$(id -u)" == 0 ]] || SUDO=sudo
    echo "30-python: installing ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for tool in python3 readelf unzip zip sha256sum cmake c++; do
    command -v "$tool" >/dev/null || { echo "30-python: $tool is required" >&2; exit 1; }
done
[[ -x "$FMIRUN" && -e "$FMI_PREFIX/lib/libfmi.so.0" ]] || { echo "30-python: no libfmi in $FMI_PREFIX" >&2; exit 1; }
rm -rf "$W"
mkdir -p "$W"

say "venv with the test tools (PyPI)"
run python3 -m venv "$W/venv"
PY="$W/venv/bin/python"
run "$PY" -m pip install -q --disable-pip-version-check "setuptools>=70.1" wheel pytest numpy cfn-lint auditwheel boto3
"$PY" -m pip list --disable-pip-version-check 2>/dev/null | grep -iE "^(numpy|pytest|cfn-lint|auditwheel|setuptools|wheel|boto3) "

say "wheel"
WHL="$(PYTHON="$PY" run "$ROOT/python/build-wheel.sh" --lib "$FMI_PREFIX/lib/libfmi.so.0" --out "$W/dist" | tail -1)"
echo "wheel: $WHL"
unzip -l "$WHL"
unzip -p "$WHL" fmi/libfmi.so >"$W/libfmi-from-wheel.so"
glibc="$(readelf --dyn-syms -W "$W/libfmi-from-wheel.so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -1)"
echo "libfmi.so in the wheel needs glibc $glibc (Amazon Linux 2023 has 2.34)"
[[ "$(printf '%s\n2.34\n' "$glibc" | sort -V | tail -1)" == 2.34 ]] || { echo "30-python: needs glibc $glibc > 2.34" >&2; exit 1; }
run "$W/venv/bin/auditwheel" show "$WHL" | tee "$W/auditwheel.txt"
grep -q 'consistent with the' "$W/auditwheel.txt"

say "pip install of the wheel into a fresh venv (no numpy), the example under fmirun"
run python3 -m venv "$W/plain"
run "$W/plain/bin/python" -m pip install -q --disable-pip-version-check "$WHL"
(cd "$W" && run "$W/plain/bin/python" -c 'import sys, fmi; assert "numpy" not in sys.modules; print(fmi.__file__, fmi.version())')
(cd "$W" && run timeout -k 10 120 "$FMIRUN" -n 3 "$W/plain/bin/python" "$ROOT/python/examples/allreduce.py")

say "install the wheel into the test venv"
run "$PY" -m pip install -q --disable-pip-version-check --no-deps "$WHL"

say "Lambda artifacts (scripts/build-layers.sh)"
PYTHON="$PY" run "$ROOT/scripts/build-layers.sh" --out "$W/layers" --prefix "$FMI_PREFIX"
for z in "$W"/layers/*.zip; do echo "== $(basename "$z")"; unzip -l "$z" | tail -n +4 | head -n -2; done

say "cfn-lint lambda/template.yaml"
run "$W/venv/bin/cfn-lint" "$ROOT/lambda/template.yaml"
echo "cfn-lint: no findings"

say "pytest tests/python"
cd "$W"
FMI_FMIRUN="$FMIRUN" FMI_PREFIX="$FMI_PREFIX" FMI_EXPECT_INSTALLED=1 FMI_LAYER_DIR="$W/layers" \
    run "$PY" -m pytest -p no:cacheprovider -q -rfEs --durations=5 "$ROOT/tests/python"
