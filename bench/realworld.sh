#!/usr/bin/env bash
# Benchmark: `wasmforge build` of the real-world projects (../shared/realworld: cJSON through its
# CMake, Lua through its makefile, ivy through go) against the same commands run directly, side by
# side in one hyperfine run each, and what the source checks cost on a no-op rebuild
# (`build` vs `build --no-checks` vs the build tool's own no-op).
#
# The direct commands are the ones wasmforge runs: its CMake configure line (read from `-v`)
# replayed into a folder of its own, make with wasmforge's compiler wrapper as CC, `go build`
# with GOOS=wasip1. Full builds start from the project without build outputs (compiler caches
# warm: zig's, go's; wasmforge's own cache warm); a last row per project empties wasmforge's
# cache too (probes, scans: the first build on a machine).
# Needs hyperfine, cmake, make, clang-16/wasi-libc, zig (pip install ziglang), go. Not a test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
realworld="${WASMFORGE_REALWORLD:-../shared/realworld}"
[ -f "$realworld/cJSON-1.7.18.tar.gz" ] || { echo "no $realworld/cJSON-1.7.18.tar.gz" >&2; exit 1; }
if [ -z "${WF:-}" ]; then
    cargo build --release --locked -p wasmforge --quiet
    WF="$PWD/target/release/wasmforge"
fi
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export WASMFORGE_CACHE_DIR="$work/cache"
for a in cJSON-1.7.18 lua-5.4.8 ivy-0.5.7; do tar xzf "$realworld/$a.tar.gz" -C "$work"; done
hf() { hyperfine --warmup 1 --min-runs "${RUNS:-5}" -N --style basic "$@"; }
# The files wasmforge wrote for a build (toolchain file, compiler wrapper, support objects), copied
# out of the project so the direct commands still find them after `rm -rf target`.
keep_support() {
    local project="$1" copy="$2"
    cp -r "$project/target/wasmforge" "$copy"
    grep -rlI "$project/target/wasmforge" "$copy" | xargs -r sed -i "s#$project/target/wasmforge#$copy#g"
}

# --- cJSON (CMake): wasmforge's configure and build lines, replayed into another folder.
cj="$work/cJSON-1.7.18"
"$WF" -v build "$cj" --bin cJSON_test 2> "$work/cjson.log" >/dev/null
unquote() { sed 's/^ *Running `//; s/`$//'; }
keep_support "$cj" "$work/cj-support"
configure=$(grep -m1 -- 'Running `cmake -S' "$work/cjson.log" | unquote | sed "s#-B [^ ]*#-B $work/cj-direct#; s#$cj/target/wasmforge#$work/cj-support#g")
cat > "$work/cjson-direct.sh" <<SH
#!/usr/bin/env bash
set -e
$configure >/dev/null
cmake --build $work/cj-direct --target cJSON_test -j "\$(nproc)" >/dev/null
SH
chmod +x "$work/cjson-direct.sh"
echo "## cJSON: full build (configure + compile + link)"
hf --prepare "rm -rf $work/cj-direct $cj/target" \
    -n "cmake (same commands)" "$work/cjson-direct.sh" \
    -n "wasmforge build" "$WF -q build $cj --bin cJSON_test"
hf --prepare "rm -rf $cj/target $WASMFORGE_CACHE_DIR" \
    -n "wasmforge build (wasmforge's cache empty)" "$WF -q build $cj --bin cJSON_test"
echo "## cJSON: no-op rebuild"
"$work/cjson-direct.sh"; "$WF" -q build "$cj" --bin cJSON_test >/dev/null
hf -n "cmake --build" "cmake --build $work/cj-direct --target cJSON_test" \
    -n "wasmforge build --no-checks" "$WF -q build $cj --bin cJSON_test --no-checks" \
    -n "wasmforge build" "$WF -q build $cj --bin cJSON_test"

# --- Lua (makefile, zig for setjmp): make with wasmforge's wrapper as CC, everything rebuilt.
lua="$work/lua-5.4.8"
printf '[c]\nbin = "lua"\ndefines = ["L_tmpnam=32"]\nstubs = ["system", "tmpfile", "tmpnam"]\n' > "$lua/wasmforge.toml"
"$WF" -v build "$lua" -- MYLIBS= 2> "$work/lua.log" >/dev/null
keep_support "$lua" "$work/lua-support"
make_line=$(grep -- " make -C " "$work/lua.log" | grep -v -- " -n " | tail -n 1 | unquote | sed "s/ -B / /; s#$lua/target/wasmforge#$work/lua-support#g")
cat > "$work/lua-direct.sh" <<SH
#!/usr/bin/env bash
set -e
$make_line -B >/dev/null 2>&1
SH
chmod +x "$work/lua-direct.sh"
echo "## Lua: full build (every object, link)"
hf --prepare "rm -rf $lua/target" \
    -n "make (same commands, -B)" "$work/lua-direct.sh" \
    -n "wasmforge build" "$WF -q build $lua -- MYLIBS="
hf --prepare "rm -rf $lua/target $WASMFORGE_CACHE_DIR" \
    -n "wasmforge build (wasmforge's cache empty)" "$WF -q build $lua -- MYLIBS="
echo "## Lua: no-op rebuild"
"$WF" -q build "$lua" -- MYLIBS= >/dev/null
no_b=$(echo "$make_line" | sed 's/ -j[0-9]*//')
hf -n "make (nothing to do)" "bash -c '$no_b >/dev/null 2>&1'" \
    -n "wasmforge build --no-checks" "$WF -q build $lua --no-checks -- MYLIBS=" \
    -n "wasmforge build" "$WF -q build $lua -- MYLIBS="

# --- ivy (Go): go build with GOOS=wasip1, go's build cache warm for both.
ivy="$work/ivy-0.5.7"
"$WF" -q build "$ivy" >/dev/null
echo "## ivy: build (go's cache warm; the output removed each time)"
hf --prepare "rm -f $work/ivy.wasm $ivy/target/wasmforge/go/wasip1/debug/ivy.wasm" \
    -n "go build" "env GOOS=wasip1 GOARCH=wasm go -C $ivy build -trimpath -o $work/ivy.wasm ." \
    -n "wasmforge build" "$WF -q build $ivy"
echo "## ivy: no-op rebuild (checks cached) and the checks cold"
hf -n "go build" "env GOOS=wasip1 GOARCH=wasm go -C $ivy build -trimpath -o $work/ivy.wasm ." \
    -n "wasmforge build --no-checks" "$WF -q build $ivy --no-checks" \
    -n "wasmforge build" "$WF -q build $ivy"
hf --prepare "rm -rf $WASMFORGE_CACHE_DIR/go-list" -n "wasmforge build (go list not cached)" "$WF -q build $ivy"
