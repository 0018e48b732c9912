#!/usr/bin/env bash
# Benchmark: `wasmforge test` against the same suites run natively and, for Rust, against
# `cargo test` with the Wasmtime CLI as the target runner — side by side in one hyperfine run per
# suite, everything built first (hyperfine's warmup), so the times are running the tests (plus
# cargo's/go's no-op build checks, which every command pays alike).
# Suites: the fixtures rust-tests (its failing tests left out with a filter, so every command
# runs the same passing set) and go-tests (likewise), and cJSON's CTest suite (19 tests, from
# ../shared/realworld; native: CMake + the host's cc, then ctest). Aim (issue 28): ≤ 1.5× the native suite's
# time and ≤ 0.8× the Wasmtime-CLI runner's.
# Not part of the test suite: timings on shared machines are noisy, ratios are what count.
# Usage: bench/test.sh [hyperfine options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/common.sh
need_hyperfine
need_wasmtime
release_wasmforge
realworld="${WASMFORGE_REALWORLD:-$PWD/../shared/realworld}"
cp -r tests/fixtures/rust-tests tests/fixtures/go-tests "$work/"

# The passing tests only (libtest: skip the failing ones, and the one that only the sandbox
# passes — it may not write the package folder; go: -run the passing ones).
rust_filter=(--skip fails --skip traps --skip spins --skip cannot_write_the_package)
cd "$work/rust-tests"
echo "== rust-tests (unit + integration tests)" >&2
hyperfine --warmup 2 --min-runs 10 --export-json "$work/rust.json" "$@" \
    -n "cargo test (native)" "cargo test -q -- ${rust_filter[*]}" \
    -n "cargo test + wasmtime runner" "CARGO_TARGET_WASM32_WASIP1_RUNNER='$wasmtime run --dir . --dir $work/rust-tests' cargo test -q --target wasm32-wasip1 -- ${rust_filter[*]}" \
    -n "wasmforge test" "$wf test -q -- ${rust_filter[*]}" >&2
cd "$work/go-tests"
echo "== go-tests (two packages)" >&2
# -count=1: go test would otherwise answer from its result cache.
go_run=(-count=1 -run "'TestAdds|TestReadsTestdata|TestSkipped|TestTwice'")
hyperfine --warmup 5 --min-runs 10 --export-json "$work/go.json" "$@" \
    -n "go test (native)" "go test ./... ${go_run[*]}" \
    -n "wasmforge test" "$wf test -q -- ${go_run[*]}" >&2
cjson="$realworld/cJSON-1.7.18.tar.gz"
mkdir -p "$work/c" && tar xzf "$cjson" -C "$work/c"
cd "$work/c/cJSON-1.7.18"
echo "== cJSON (CTest, 19 tests)" >&2
cmake -S . -B "$work/c/native" -DCMAKE_BUILD_TYPE=Debug >/dev/null
# Both rebuild nothing after the warm-up (cmake --build is a no-op check for each).
hyperfine --warmup 3 --min-runs 10 --export-json "$work/c.json" "$@" \
    -n "ctest (native)" "cmake --build '$work/c/native' -j2 >/dev/null && ctest --test-dir '$work/c/native' >/dev/null" \
    -n "wasmforge test" "$wf test -q >/dev/null" >&2
python3 - "$work/rust.json" "$work/go.json" "$work/c.json" <<'PY'
import json, sys
def means(path):
    return {x["command"]: x["mean"] * 1000 for x in json.load(open(path))["results"]}
r = means(sys.argv[1]); g = means(sys.argv[2]); c = means(sys.argv[3])
wf, native, wt = r["wasmforge test"], r["cargo test (native)"], r["cargo test + wasmtime runner"]
print(f"rust-tests: wasmforge {wf:.0f} ms, native {native:.0f} ms, wasmtime runner {wt:.0f} ms — "
      f"{wf/native:.2f}x native, {wf/wt:.2f}x the wasmtime runner")
wf, native = g["wasmforge test"], g["go test (native)"]
print(f"go-tests: wasmforge {wf:.0f} ms, native {native:.0f} ms — {wf/native:.2f}x native")
wf, native = c["wasmforge test"], c["ctest (native)"]
print(f"cJSON ctest: wasmforge {wf:.0f} ms, native {native:.0f} ms — {wf/native:.2f}x native")
PY
