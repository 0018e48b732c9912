#!/usr/bin/env bash
# Installs wasmforge from this checkout and the Rust WebAssembly targets it builds for.
# Safe to run again: an up-to-date install is left as it is.
set -euo pipefail

usage() {
    cat <<'USAGE'
install.sh: install wasmforge from this checkout

Usage: ./install.sh [OPTIONS]

Options:
  --prefix DIR    install into DIR/bin (default: $CARGO_INSTALL_ROOT, else cargo's ~/.cargo)
  --debug         build without optimisations (quicker to build; what the tests use)
  --no-targets    do not add the Rust Wasm targets with rustup
  --shim          also build the containerd shim into wasmforge and link it as
                  containerd-shim-wasmforge-v1 (the runtime io.containerd.wasmforge.v1);
                  needs protoc and libseccomp, installed with apt-get when missing
  --shim-dir DIR  where the link goes (default: /usr/local/bin when writable, which
                  containerd's PATH reaches; else beside wasmforge)
  -h, --help      show this help

Environment:
  CARGO_INSTALL_ROOT   install root when --prefix is not given (as `cargo install` uses it)
  CARGO_TARGET_DIR     build folder to reuse (e.g. an existing `cargo build` target folder)

Installs with `cargo install --locked --path cli`, then runs
`rustup target add wasm32-wasip1 wasm32-wasip2 wasm32-unknown-unknown`.
USAGE
}

prefix="${CARGO_INSTALL_ROOT:-}"
debug=0
targets=1
shim=0
shim_dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || { echo "error: --prefix needs a folder" >&2; exit 2; }; prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --debug) debug=1; shift ;;
        --no-targets) targets=0; shift ;;
        --shim) shim=1; shift ;;
        --shim-dir) [ $# -ge 2 ] || { echo "error: --shim-dir needs a folder" >&2; exit 2; }; shim=1; shim_dir="$2"; shift 2 ;;
        --shim-dir=*) shim=1; shim_dir="${1#--shim-dir=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option '$1'" >&2; echo "hint: ./install.sh --help lists the options" >&2; exit 2 ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# rustup installs cargo into ~/.cargo/bin, which a fresh shell may not have on PATH yet.
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
    PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo was not found on PATH" >&2
    echo "hint: install Rust with rustup: curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" >&2
    echo "      (see https://rustup.rs), then open a new shell and run ./install.sh again" >&2
    exit 1
fi

# The shim's library (runwasi) needs protoc and libseccomp to build.
if [ "$shim" = 1 ]; then
    need=()
    command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
    { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libseccomp; } || need+=(libseccomp-dev pkg-config)
    if [ ${#need[@]} -gt 0 ]; then
        if command -v apt-get >/dev/null 2>&1; then
            sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
            echo "==> Installing what the shim builds with: apt-get install ${need[*]}"
            $sudo apt-get update -qq
            $sudo apt-get install -y -qq "${need[@]}" >/dev/null
        else
            echo "error: the containerd shim needs protoc and libseccomp to build (missing: ${need[*]})" >&2
            echo "hint: install them with your package manager (Fedora: protobuf-compiler libseccomp-devel), then run ./install.sh --shim again" >&2
            exit 1
        fi
    fi
fi

args=(install --locked --path "$here/cli")
[ "$debug" = 1 ] && args+=(--debug)
[ "$shim" = 1 ] && args+=(--features containerd)
[ -n "$prefix" ] && args+=(--root "$prefix")

echo "==> Building and installing wasmforge: cargo ${args[*]}"
cargo "${args[@]}"

if [ -n "$prefix" ]; then bindir="$prefix/bin"; else bindir="${CARGO_HOME:-$HOME/.cargo}/bin"; fi
echo "==> Installed wasmforge $("$bindir/wasmforge" --version | awk '{print $2}') to $bindir/wasmforge"

if [ "$shim" = 1 ]; then
    if [ -z "$shim_dir" ]; then
        if [ -w /usr/local/bin ]; then shim_dir=/usr/local/bin; else shim_dir="$bindir"; fi
    fi
    mkdir -p "$shim_dir"
    ln -sf "$bindir/wasmforge" "$shim_dir/containerd-shim-wasmforge-v1"
    echo "==> Linked $shim_dir/containerd-shim-wasmforge-v1 -> $bindir/wasmforge (runtime io.containerd.wasmforge.v1)"
    echo "    check the machine with: wasmforge doctor --containerd"
fi

if [ "$targets" = 1 ]; then
    if command -v rustup >/dev/null 2>&1; then
        echo "==> Adding the Rust WebAssembly targets: rustup target add wasm32-wasip1 wasm32-wasip2 wasm32-unknown-unknown"
        rustup target add wasm32-wasip1 wasm32-wasip2 wasm32-unknown-unknown
    else
        echo "warning: rustup not found: install the wasm32-wasip1, wasm32-wasip2 and wasm32-unknown-unknown" >&2
        echo "         standard libraries for your rustc another way, or wasmforge cannot build Rust" >&2
    fi
fi

case ":$PATH:" in
    *":$bindir:"*) ;;
    *) echo "note: $bindir is not on your PATH; add it: export PATH=\"$bindir:\$PATH\"" ;;
esac
echo "Next: wasmforge run $here/examples/hello-rust   (builds the example, then runs it)"
