#!/usr/bin/env bash
# Build libzmq with the draft API, for tests/interop/test_draft_sockets.py: pyzmq's wheels and
# Debian's libzmq5 are built without it, so neither has the draft socket types to talk to.
# The source is Debian's (zeromq3 4.3.4, from the deb-src side of the same archive), built with
# cmake (no CURVE: the tests do not need it; ws, and wss when GnuTLS is there) into
# ~/.cache/purezmq/libzmq-draft/, where the tests look for it.
# Needs root (a deb-src entry is added to apt's sources while it runs), a C++ compiler and cmake.
set -euo pipefail

dest="${HOME}/.cache/purezmq/libzmq-draft"
[ -f "$dest/libzmq.so" ] && exit 0
for tool in c++ cmake make apt-get; do
    command -v "$tool" >/dev/null || { echo "build_draft_libzmq: $tool is missing" >&2; exit 1; }
done
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || { echo "build_draft_libzmq: no $sources (not Debian?)" >&2; exit 1; }

work="$(mktemp -d)"
extra=/etc/apt/sources.list.d/purezmq-deb-src.sources
trap 'rm -rf "$work"; rm -f "$extra"' EXIT
sed 's/^Types: deb$/Types: deb-src/' "$sources" > "$extra"
apt-get update -qq -o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts=/etc/apt/sources.list.d >/dev/null
(cd "$work" && apt-get source --download-only -qq zeromq3 >/dev/null 2>&1)
tar xzf "$work"/zeromq3_*.orig.tar.gz -C "$work"
cmake -S "$(echo "$work"/libzmq-*/)" -B "$work/build" -DENABLE_DRAFTS=ON -DWITH_LIBSODIUM=OFF \
    -DENABLE_CURVE=OFF -DBUILD_TESTS=OFF -DWITH_DOCS=OFF -DBUILD_STATIC=OFF \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
make -C "$work/build" -j"$(nproc)" libzmq >/dev/null
mkdir -p "$dest"
cp "$(ls "$work"/build/lib/libzmq.so.5.* | head -n 1)" "$dest/libzmq.so"
echo "build_draft_libzmq: $dest/libzmq.so"
