#!/usr/bin/env bash
# Builds libfmi's AWS Lambda artifacts, per architecture (Lambda names: x86_64, arm64):
#   fmi-cpp-layer-<arch>.zip     C/C++ layer (mounted at /opt): lib/libfmi.so.0, lib/libfmi.so ->
#                                libfmi.so.0, include/fmi.h, include/fmi.hpp (+ fmi/), lib/cmake/FMI/ (the
#                                package of the top-level CMakeLists.txt), lib/pkgconfig/fmi.pc,
#                                bin/fmirun, bin/fmi-rendezvous. Debug info stripped; no libfmi.a.
#   fmi-python-layer-<arch>.zip  Python layer: python/fmi/ (with libfmi.so) and its dist-info,
#                                unpacked from the wheel
#   fmi-0.1.0-py3-none-manylinux_2_<G>_<march>.whl   the Python wheel (python/build-wheel.sh)
#   fmi-example-cpp-<arch>.zip   the C++ example function (bootstrap), built with CMake against the
#                                C/C++ layer's own contents
#   fmi-example-python.zip       the Python example function (handler.py)
#   SHA256SUMS
#
#   scripts/build-layers.sh [--arch ARCHS] [--out DIR] [--prefix DIR]
#
#   --arch    x86_64, arm64, "x86_64,arm64" or all (default: this machine's architecture). A
#             foreign architecture is cross-compiled; that needs the Rust standard library of the
#             target (rustup target add ...) and a cross C/C++ toolchain. When something is
#             missing the script names it and fails before building anything: no artifact of an
#             architecture is ever produced without building it for that architecture.
#   --out     output directory (default: build/lambda); DIR/work holds intermediate files.
#   --prefix  an installed libfmi of this machine's architecture (cmake --install) to package
#             instead of building one with cargo + CMake (scripts/suites/30-python.sh passes the
#             test suite's prefix).
# Environment: PYTHON (for the wheel build, see python/build-wheel.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${HOME}/.cargo/bin:${PATH}"
OUT="$ROOT/build/lambda"
PREFIX_IN=""
case "$(uname -m)" in
    x86_64) HOST=x86_64 ;;
    aarch64|arm64) HOST=arm64 ;;
    *) echo "build-layers: unsupported host $(uname -m)" >&2; exit 1 ;;
esac
ARCHS="$HOST"
while (($#)); do
    case "$1" in
        --arch) ARCHS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --prefix) PREFIX_IN="$(cd "$2" && pwd)"; shift 2 ;;
        -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
        *) echo "build-layers: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ "$ARCHS" == all ]] && ARCHS="x86_64,arm64"
IFS=',' read -r -a ARCH_LIST <<<"$ARCHS"

triple_of() { case "$1" in x86_64) echo x86_64-unknown-linux-gnu ;; arm64) echo aarch64-unknown-linux-gnu ;; esac; }
gnu_of() { case "$1" in x86_64) echo x86_64-linux-gnu ;; arm64) echo aarch64-linux-gnu ;; esac; }

# --- check every requested architecture before building anything -----------------------------
for arch in "${ARCH_LIST[@]}"; do
    case "$arch" in x86_64|arm64) ;; *) echo "build-layers: unknown architecture '$arch' (x86_64, arm64)" >&2; exit 2 ;; esac
    [[ "$arch" == "$HOST" ]] && continue
    triple="$(triple_of "$arch")"
    gnu="$(gnu_of "$arch")"
    missing=()
    if ! rustup target list --installed 2>/dev/null | grep -qx "$triple"; then
        missing+=("the Rust standard library for $triple (installed targets: $(rustup target list --installed 2>/dev/null | tr '\n' ' ')); install: rustup target add $triple")
    fi
    for tool in gcc g++ strip; do
        command -v "$gnu-$tool" >/dev/null 2>&1 ||
            missing+=("$gnu-$tool (Debian: apt-get install gcc-$gnu g++-$gnu binutils-$gnu)")
    done
    if [[ -n "$PREFIX_IN" ]]; then
        missing+=("--prefix is an install for $HOST only; omit it when building $arch")
    fi
    if ((${#missing[@]})); then
        echo "build-layers: cannot build the $arch artifacts on this $HOST machine. Missing:" >&2
        printf '  - %s\n' "${missing[@]}" >&2
        echo "build-layers: either install those, or run this same command on an $arch machine (a native build)." >&2
        echo "build-layers: nothing was built." >&2
        exit 1
    fi
done

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
WORK="$OUT/work"
rm -rf "$WORK"
mkdir -p "$WORK"
rm -f "$OUT"/fmi-*.zip "$OUT"/fmi-*.whl "$OUT/SHA256SUMS"

run() { echo "+ $*"; "$@"; }

for arch in "${ARCH_LIST[@]}"; do
    W="$WORK/$arch"
    mkdir -p "$W"
    echo "==== build-layers: $arch"
    STRIP=strip
    CMAKE_CROSS=()
    if [[ "$arch" != "$HOST" ]]; then
        triple="$(triple_of "$arch")"
        gnu="$(gnu_of "$arch")"
        STRIP="$gnu-strip"
        upper="$(echo "$triple" | tr 'a-z-' 'A-Z_')"
        run env "CARGO_TARGET_${upper}_LINKER=$gnu-gcc" cargo build --manifest-path "$ROOT/Cargo.toml" --release --lib --bins --target "$triple"
        # The CMake package takes <FMI_CARGO_TARGET_DIR>/release: point it at the target's tree.
        mkdir -p "$W/cargo"
        ln -sfn "$ROOT/target/$triple/release" "$W/cargo/release"
        CMAKE_CROSS=(-DCMAKE_SYSTEM_NAME=Linux "-DCMAKE_SYSTEM_PROCESSOR=${triple%%-*}"
            "-DCMAKE_C_COMPILER=$gnu-gcc" "-DCMAKE_CXX_COMPILER=$gnu-g++")
        run cmake -S "$ROOT" -B "$W/cmake" -DFMI_CARGO_BUILD=OFF -DFMI_CARGO_TARGET_DIR="$W/cargo" \
            -DCMAKE_INSTALL_PREFIX="$W/prefix" "${CMAKE_CROSS[@]}"
        run cmake --build "$W/cmake"
        run cmake --install "$W/cmake"
        PREFIX="$W/prefix"
    elif [[ -n "$PREFIX_IN" ]]; then
        PREFIX="$PREFIX_IN"
    else
        run cmake -S "$ROOT" -B "$W/cmake" -DFMI_CARGO_TARGET_DIR="$ROOT/target" -DCMAKE_INSTALL_PREFIX="$W/prefix"
        run cmake --build "$W/cmake"
        run cmake --install "$W/cmake"
        PREFIX="$W/prefix"
    fi

    # --- C/C++ layer -----------------------------------------------------------------------
    L="$W/cpp-layer"
    mkdir -p "$L/lib" "$L/include" "$L/bin" "$L/lib/pkgconfig"
    install -m 0755 "$PREFIX/lib/libfmi.so.0" "$L/lib/libfmi.so.0"
    "$STRIP" --strip-debug "$L/lib/libfmi.so.0"
    ln -s libfmi.so.0 "$L/lib/libfmi.so"
    # libfmi's MPI library (the MPI standard ABI): MPI binaries and mpi4py find it in /opt/lib
    install -m 0755 "$PREFIX/lib/libmpi_abi.so.1" "$L/lib/libmpi_abi.so.1"
    "$STRIP" --strip-debug "$L/lib/libmpi_abi.so.1"
    cp "$PREFIX/include/fmi.h" "$PREFIX/include/fmi.hpp" "$L/include/"
    cp -R "$PREFIX/include/fmi" "$L/include/"  # the parts of fmi.hpp
    cp -R "$PREFIX/lib/cmake" "$L/lib/"
    cp "$PREFIX/lib/pkgconfig/fmi.pc" "$L/lib/pkgconfig/"
    for b in fmirun fmi-rendezvous; do
        install -m 0755 "$PREFIX/bin/$b" "$L/bin/$b"
        "$STRIP" --strip-debug "$L/bin/$b"
    done
    (cd "$L" && zip -qry -X "$OUT/fmi-cpp-layer-$arch.zip" .)

    # --- wheel and Python layer --------------------------------------------------------------
    whl="$("$ROOT/python/build-wheel.sh" --lib "$PREFIX/lib/libfmi.so.0" --out "$W/wheel" | tail -1)"
    cp "$whl" "$OUT/"
    P="$W/python-layer"
    mkdir -p "$P/python"
    (cd "$P/python" && unzip -q "$whl")
    (cd "$P" && zip -qr -X "$OUT/fmi-python-layer-$arch.zip" python)

    # --- C++ example function, built against the layer's contents ------------------------------
    run cmake -S "$ROOT/lambda/cpp" -B "$W/cpp-example" -DCMAKE_PREFIX_PATH="$L" -DCMAKE_BUILD_TYPE=Release \
        "${CMAKE_CROSS[@]}"
    run cmake --build "$W/cpp-example"
    run cmake --install "$W/cpp-example" --prefix "$W/cpp-function"
    "$STRIP" --strip-debug "$W/cpp-function/bootstrap"
    (cd "$W/cpp-function" && zip -q -X "$OUT/fmi-example-cpp-$arch.zip" bootstrap)
done

(cd "$ROOT/lambda/python" && zip -q -X "$OUT/fmi-example-python.zip" handler.py)
(cd "$OUT" && sha256sum fmi-*.zip fmi-*.whl >SHA256SUMS)

echo "==== build-layers: artifacts in $OUT"
(cd "$OUT" && ls -l fmi-*.zip fmi-*.whl)
for arch in "${ARCH_LIST[@]}"; do
    so="$WORK/$arch/cpp-layer/lib/libfmi.so.0"
    echo "$arch: libfmi.so.0 needs glibc $(readelf --dyn-syms -W "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -1)" \
        "(Amazon Linux 2023, the base of provided.al2023 and python3.12+, has 2.34)"
done
