#!/usr/bin/env bash
# Benchmark: how small release artifacts are. For the six `wasmforge new` projects and the
# examples, side by side in bytes:
#   compiled   what the compiler wrote (release, `--no-opt --strip none`)
#   release    `wasmforge build --release` (DWARF stripped, Binaryen -Oz)
#   --size     `wasmforge build --release --size`
#   wasm-opt   Debian's `wasm-opt -Oz` (Binaryen 108) on `compiled`, features enabled explicitly
#   by hand    the smallest the same toolchain makes by hand: C `clang -Oz -flto -ffunction-sections
#              -fdata-sections -Wl,--gc-sections,--strip-all`; Rust the --size profile by
#              environment, then `wasm-opt -Oz`; Go `-trimpath -ldflags=-s -w`, then `wasm-opt -Oz`
# and the run-time cost of --size on a compute-heavy program (Lua, from ../shared/realworld,
# running a loop): hyperfine, release vs --size, side by side.
# Needs clang-16/wasi-libc, go, binaryen (wasm-opt), jq, hyperfine, zig (Lua's setjmp). Not a test.
# WF=path/to/wasmforge skips building wasmforge in release.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in jq wasm-opt hyperfine clang-16 go; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
if [ -z "${WF:-}" ]; then
    cargo build --release --locked -p wasmforge --quiet
    WF="$PWD/target/release/wasmforge"
fi
repo="$PWD"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export WASMFORGE_CACHE_DIR="$work/cache"

artifact() { "$WF" -q --format json build "$@" | jq -r '.artifacts[0].path'; }
bytes() { stat -c %s "$1"; }
# Debian's wasm-opt with the features the module uses, named explicitly.
debian_oz() {
    local flags
    flags=$("$WF" --format json inspect "$1" | jq -r '.features[] | "--enable-" + .' | tr '\n' ' ')
    # shellcheck disable=SC2086
    wasm-opt -Oz $flags "$1" -o "$2" 2>/dev/null || { echo "-"; return; }
    bytes "$2"
}
by_hand() {
    local lang="$1" kind="$2" dir="$3" out="$work/hand.wasm"
    case "$lang" in
        c)
            # The project's own settings, read from its wasmforge.toml: includes, defines, exports.
            local extra=() toml="$dir/wasmforge.toml" word
            [ -d "$dir/include" ] && extra+=("-I$dir/include")
            for word in $(sed -n 's/^defines *= *\[\(.*\)\]/\1/p' "$toml" | tr -d ' ' | sed 's/^"//; s/"$//; s/","/ /g'); do
                extra+=("-D${word//\\\"/\"}")
            done
            if [ "$kind" = library ]; then
                extra+=(-mexec-model=reactor)
                for word in $(sed -n 's/^exports *= *\[\(.*\)\]/\1/p' "$toml" | tr -d '" ' | tr ',' ' '); do
                    extra+=("-Wl,--export=$word")
                done
            fi
            clang-16 --target=wasm32-wasi -Oz -flto -ffunction-sections -fdata-sections \
                -Wl,--gc-sections,--strip-all "${extra[@]}" "$dir"/src/*.c -o "$out" || { echo "-"; return; } ;;
        rust)
            (cd "$dir" && CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=fat \
                CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort \
                CARGO_PROFILE_RELEASE_STRIP=symbols cargo build -q --release \
                --target wasm32-wasip1 --target-dir "$work/hand-target")
            cp "$(find "$work/hand-target/wasm32-wasip1/release" -maxdepth 1 -name '*.wasm' | head -1)" "$work/hand-pre.wasm"
            rm -rf "$work/hand-target"
            debian_oz "$work/hand-pre.wasm" "$out" >/dev/null ;;
        go)
            local mode=()
            [ "$kind" = library ] && mode=(-buildmode=c-shared)
            (cd "$dir" && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -trimpath \
                -ldflags='-s -w' "${mode[@]}" -o "$work/hand-pre.wasm" .)
            debian_oz "$work/hand-pre.wasm" "$out" >/dev/null ;;
    esac
    bytes "$out"
}

row() {
    local name="$1" lang="$2" kind="$3" dir="$4"
    local compiled release size oz hand
    compiled=$(artifact "$dir" --release --no-opt --strip none); cp "$compiled" "$work/compiled.wasm"
    release=$(bytes "$(artifact "$dir" --release)")
    size=$(bytes "$(artifact "$dir" --release --size)")
    oz=$(debian_oz "$work/compiled.wasm" "$work/oz.wasm")
    hand=$(by_hand "$lang" "$kind" "$dir")
    printf '| %-16s | %10s | %10s | %10s | %10s | %10s |\n' "$name" "$(bytes "$work/compiled.wasm")" \
        "$release" "$size" "$oz" "$hand"
}

echo "| project          |   compiled |    release |     --size | wasm-opt -Oz |    by hand |"
echo "|------------------|-----------:|-----------:|-----------:|-----------:|-----------:|"
for lang in rust c go; do
    for kind in command library; do
        flag=(); [ "$kind" = library ] && flag=(--kind library)
        (cd "$work" && "$WF" -q new "new-$lang-$kind" --lang "$lang" "${flag[@]}" --ci none >/dev/null)
        row "new $lang $kind" "$lang" "$kind" "$work/new-$lang-$kind"
    done
done
for example in hello-rust hello-rust-lib hello-c hello-c-lib hello-go hello-go-lib; do
    cp -r "$repo/examples/$example" "$work/$example"; rm -rf "$work/$example/target"
    case "$example" in *rust*) lang=rust ;; *-c*) lang=c ;; *) lang=go ;; esac
    case "$example" in *-lib) kind=library ;; *) kind=command ;; esac
    row "$example" "$lang" "$kind" "$work/$example"
done

# Run-time cost of --size: Lua (C, built with zig for setjmp) running a loop.
realworld="${WASMFORGE_REALWORLD:-../shared/realworld}"
if [ -f "$realworld/lua-5.4.8.tar.gz" ]; then
    tar xzf "$realworld/lua-5.4.8.tar.gz" -C "$work"
    lua="$work/lua-5.4.8"
    printf '[c]\nbin = "lua"\ndefines = ["L_tmpnam=32"]\nstubs = ["system", "tmpfile", "tmpnam"]\n' > "$lua/wasmforge.toml"
    cp "$(artifact "$lua" --release -- MYLIBS=)" "$work/lua-release.wasm"
    cp "$(artifact "$lua" --release --size -- MYLIBS=)" "$work/lua-size.wasm"
    echo
    echo "Lua: release $(bytes "$work/lua-release.wasm") bytes, --size $(bytes "$work/lua-size.wasm") bytes"
    script='local s = 0 for i = 1, 3e7 do s = s + (i * i) % 7 end local t = {} for i = 1, 2e5 do t[i] = tostring(i) end print(s, #t)'
    "$WF" run "$work/lua-release.wasm" -- -e "$script" >/dev/null   # compiled-code cache warm
    "$WF" run "$work/lua-size.wasm" -- -e "$script" >/dev/null
    hyperfine --warmup 1 --min-runs "${RUNS:-10}" -N --style basic \
        -n "release" "$WF run $work/lua-release.wasm -- -e '$script'" \
        -n "size" "$WF run $work/lua-size.wasm -- -e '$script'"
fi
