#!/usr/bin/env bash
# Install what libfmi's build and tests need, only when missing (idempotent).
# Debian packages: cmake, build-essential, pkg-config, valgrind, python3 (+venv, pip, headers), redis-server,
# iproute2 and iptables (the NAT lab); for arm64 (scripts/suites/70-arm64.sh, build-layers.sh
# --arch arm64): gcc/g++/binutils-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user-static, unzip.
# Python: a private venv with moto_server (the S3-compatible server of the S3 tests), pinned;
# the MPI layer's venv (scripts/mpi-venv.sh: mpich 5.0.2 and pympistandard, pinned).
# Rust: the toolchain is expected under ~/.cargo/bin (rustup); adds rustfmt and clippy if missing,
# and the nightly toolchain and cargo-fuzz for the fuzz targets (scripts/fuzz.sh), and the
# aarch64-unknown-linux-gnu standard library (the arm64 cross build).
set -euo pipefail

export PATH="${HOME}/.cargo/bin:${PATH}"

need_pkgs=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }

have_cmd cmake      || need_pkgs+=(cmake)
{ have_cmd cc && have_cmd c++ && have_cmd make; } || need_pkgs+=(build-essential)
have_cmd pkg-config || need_pkgs+=(pkg-config)
have_cmd valgrind   || need_pkgs+=(valgrind)
have_cmd python3    || need_pkgs+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_pkgs+=(python3-venv)
# Python's C headers: mpi4py is built from source for the MPI standard ABI (scripts/mpi4py.sh)
python3 -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' \
    >/dev/null 2>&1 || need_pkgs+=(python3-dev)
have_cmd redis-server || need_pkgs+=(redis-server)
have_cmd redis-cli  || need_pkgs+=(redis-tools)
have_cmd curl       || need_pkgs+=(curl)
have_cmd ip         || need_pkgs+=(iproute2)
have_cmd iptables   || need_pkgs+=(iptables)
have_cmd unzip      || need_pkgs+=(unzip)
have_cmd aarch64-linux-gnu-gcc   || need_pkgs+=(gcc-aarch64-linux-gnu)
have_cmd aarch64-linux-gnu-g++   || need_pkgs+=(g++-aarch64-linux-gnu)
have_cmd aarch64-linux-gnu-strip || need_pkgs+=(binutils-aarch64-linux-gnu)
[[ -e /usr/aarch64-linux-gnu/lib/libc.so ]] || need_pkgs+=(libc6-dev-arm64-cross)
have_cmd qemu-aarch64-static     || need_pkgs+=(qemu-user-static)

if ((${#need_pkgs[@]} > 0)); then
    if ! have_cmd apt-get; then
        echo "install-deps: missing ${need_pkgs[*]} and apt-get is not available" >&2
        exit 1
    fi
    SUDO=""
    if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi
    echo "install-deps: installing ${need_pkgs[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
else
    echo "install-deps: system packages present"
fi

if ! have_cmd cargo; then
    echo "install-deps: cargo not found (expected a rustup toolchain in ~/.cargo/bin)" >&2
    exit 1
fi
if have_cmd rustup; then
    comps=()
    cargo fmt --version >/dev/null 2>&1 || comps+=(rustfmt)
    cargo clippy --version >/dev/null 2>&1 || comps+=(clippy)
    if ((${#comps[@]} > 0)); then
        echo "install-deps: rustup component add ${comps[*]}"
        rustup component add "${comps[@]}"
    fi
fi
if have_cmd rustup && ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
    echo "install-deps: rustup target add aarch64-unknown-linux-gnu"
    rustup target add aarch64-unknown-linux-gnu
fi
if have_cmd rustup && ! cargo +nightly --version >/dev/null 2>&1; then
    echo "install-deps: rustup toolchain install nightly"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "install-deps: cargo install cargo-fuzz"
    cargo install cargo-fuzz --version 0.13.2 --locked
fi
# The S3 tests' server: moto (pure Python wheels, ~10 s), in its own venv; the tests run it
# with this venv's python (FMI_MOTO_PYTHON overrides) through tests/s3_harness/moto_atomic.py.
MOTO_VENV="${FMI_MOTO_VENV:-${HOME}/.cache/fmi/moto-5.2.5}"
if [[ ! -x "$MOTO_VENV/bin/moto_server" ]]; then
    echo "install-deps: installing moto 5.2.5 into $MOTO_VENV"
    rm -rf "$MOTO_VENV"
    python3 -m venv "$MOTO_VENV"
    "$MOTO_VENV/bin/pip" install -q --disable-pip-version-check 'moto[s3]==5.2.5' flask flask-cors
fi
"$MOTO_VENV/bin/moto_server" --help >/dev/null || { echo "install-deps: moto_server does not run" >&2; exit 1; }
# The MPI layer's venv (MPICH's standard-ABI build and pympistandard, from PyPI).
"$(dirname "${BASH_SOURCE[0]}")/mpi-venv.sh" >/dev/null
echo "install-deps: done"
