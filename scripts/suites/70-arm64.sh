#!/usr/bin/env bash
# libfmi for arm64 (AWS Graviton), one step of scripts/test.sh: cross-builds the library and its
# MPI library libmpi_abi (release, the libraries only: no tools) for aarch64-unknown-linux-gnu, builds the C examples and
# tests/c/bad_args and bad_args_peers for arm64 against it with Debian's aarch64-linux-gnu-gcc, and runs them under
# qemu-user (qemu-aarch64-static) with 2 peers over loopback, launched by this machine's fmirun
# with the project's own rendezvous server (FMI_PREFIX/bin); then packs the arm64 Python wheel from
# the same library and checks its tag and glibc needs.
#   FMI_PREFIX  the installed libfmi package (its bin/fmirun), FMI_WORK  a scratch directory.
# Needs (scripts/install-deps.sh installs them): the Rust target aarch64-unknown-linux-gnu,
# gcc-aarch64-linux-gnu (with libc6-dev-arm64-cross) and qemu-user-static. Fails (never skips)
# when any is missing. The cross build reuses target/aarch64-unknown-linux-gnu between runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${FMI_PREFIX:?FMI_PREFIX must name the installed libfmi}"
: "${FMI_WORK:?FMI_WORK must name a scratch directory}"
export PATH="${HOME}/.cargo/bin:${PATH}"
W="$FMI_WORK/arm64"
FMIRUN="$FMI_PREFIX/bin/fmirun"
TRIPLE=aarch64-unknown-linux-gnu
GNU=aarch64-linux-gnu
SYSROOT="/usr/$GNU"
QEMU=qemu-aarch64-static
run() { echo "+ $*"; "$@"; }
die() { echo "70-arm64: $*" >&2; exit 1; }

missing=()
rustup target list --installed 2>/dev/null | grep -qx "$TRIPLE" ||
    missing+=("the Rust target $TRIPLE (rustup target add $TRIPLE)")
command -v "$GNU-gcc" >/dev/null || missing+=("$GNU-gcc (apt-get install gcc-$GNU libc6-dev-arm64-cross)")
command -v "$QEMU" >/dev/null || missing+=("$QEMU (apt-get install qemu-user-static)")
[[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ]] || missing+=("$SYSROOT/lib/ld-linux-aarch64.so.1 (libc6-arm64-cross)")
command -v readelf >/dev/null || missing+=("readelf (binutils)")
command -v unzip >/dev/null || missing+=("unzip")
[[ -x "$FMIRUN" && -x "$FMI_PREFIX/bin/fmi-rendezvous" ]] || missing+=("fmirun and fmi-rendezvous in $FMI_PREFIX/bin")
if ((${#missing[@]})); then
    printf '70-arm64: missing %s\n' "${missing[@]}" >&2
    exit 1
fi
rm -rf "$W"
mkdir -p "$W/lib" "$W/bin"

# The same command and environment as scripts/build-layers.sh --arch arm64 (which the Python suite
# runs before this one), so that cargo finds that build up to date instead of building it again.
echo "---- arm64: cargo build --release --lib --bins --target $TRIPLE"
start=$SECONDS
run env "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$GNU-gcc" \
    cargo build --manifest-path "$ROOT/Cargo.toml" --release --lib --bins --target "$TRIPLE"
echo "(cross build: $((SECONDS - start)) s)"
SO="$ROOT/target/$TRIPLE/release/libfmi.so"
MPI_SO="$ROOT/target/$TRIPLE/release/libmpi_abi.so"
machine="$(readelf -h "$SO" | awk -F: '/Machine:/ { gsub(/^ +/, "", $2); print $2 }')"
echo "libfmi.so machine: $machine"
[[ "$machine" == *AArch64* ]] || die "$SO is not an AArch64 library ($machine)"
soname="$(readelf -d "$SO" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[[ "$soname" == libfmi.so.0 ]] || die "arm64 libfmi.so has SONAME '$soname', expected libfmi.so.0"
grep -q AArch64 <<<"$(readelf -h "$MPI_SO")" || die "$MPI_SO is not an AArch64 library"
cp "$SO" "$W/lib/libfmi.so.0"
cp "$MPI_SO" "$W/lib/libmpi_abi.so.1"
ln -s libfmi.so.0 "$W/lib/libfmi.so"

echo "---- arm64: C examples and tests/c/bad_args, bad_args_peers with $GNU-gcc"
CFLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -I"$ROOT/include")
LDFLAGS=(-L"$W/lib" -lfmi -lm -Wl,-rpath,"$W/lib")
EXAMPLES=(hello ring allreduce kmeans)
for e in "${EXAMPLES[@]}"; do
    run "$GNU-gcc" "${CFLAGS[@]}" "$ROOT/examples-c/$e.c" -o "$W/bin/$e" "${LDFLAGS[@]}"
done
for t in bad_args bad_args_peers; do
    run "$GNU-gcc" "${CFLAGS[@]}" "$ROOT/tests/c/$t.c" "$ROOT/tests/c/check.c" -o "$W/bin/$t" "${LDFLAGS[@]}"
done
grep -q AArch64 <<<"$(readelf -h "$W/bin/hello")" || die "hello is not an AArch64 program"

# qemu-user runs each arm64 program (its own loader and libc from the cross sysroot); the
# rendezvous server and the launcher are this machine's. Traffic stays on loopback.
echo "---- arm64: the programs under qemu-user, 2 peers"
run env -u FMI_PEER_ID -u FMI_NUM_PEERS -u FMI_COMM_NAME -u FMI_CONFIG -u FMI_TIMEOUT_MS \
    timeout -k 5 120 "$QEMU" -L "$SYSROOT" "$W/bin/bad_args"
for e in "${EXAMPLES[@]}" bad_args_peers; do
    run timeout -k 5 300 "$FMIRUN" -n 2 --timeout 280 "$QEMU" -L "$SYSROOT" "$W/bin/$e" | tee "$W/$e.out"
done
grep -q 'hello from rank 0 of 2' "$W/hello.out" || die "hello: rank 0 did not greet"
grep -q 'hello from rank 1 of 2' "$W/hello.out" || die "hello: rank 1 did not greet"

echo "---- arm64: the Python wheel from the same library"
whl="$(run "$ROOT/python/build-wheel.sh" --lib "$SO" --mpi-lib "$W/lib/libmpi_abi.so.1" --out "$W/wheel" | tail -1)"
echo "wheel: $whl"
[[ "$(basename "$whl")" == fmi-*-py3-none-manylinux_2_*_aarch64.whl ]] || die "unexpected wheel name $whl"
unzip -p "$whl" fmi/libfmi.so >"$W/libfmi-from-wheel.so"
grep -q AArch64 <<<"$(readelf -h "$W/libfmi-from-wheel.so")" || die "the wheel's libfmi.so is not AArch64"
listing="$(unzip -Z1 "$whl")"
grep -qx 'fmi/libmpi_abi.so.1' <<<"$listing" || die "the wheel has no fmi/libmpi_abi.so.1"
glibc="$(readelf --dyn-syms -W "$W/libfmi-from-wheel.so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -1)"
echo "arm64 libfmi.so needs glibc $glibc (Amazon Linux 2023 has 2.34)"
[[ "$(printf '%s\n2.34\n' "$glibc" | sort -V | tail -1)" == 2.34 ]] || die "needs glibc $glibc > 2.34"
echo "70-arm64: ok"
