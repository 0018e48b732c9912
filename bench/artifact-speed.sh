#!/usr/bin/env bash
# Benchmark: how fast what wasmforge builds runs. Release artifacts of three real-world projects
# (../shared/realworld) against native builds of the same source, on the same input, side by
# side in one hyperfine run each — zstd -19 of 8 MiB, decompression of 64 MiB, a Lua script,
# xmlwf over a 64 MiB document — each built without and with `--simd` (Wasm SIMD128).
# The modules run through `wasmforge run` with their compiled code cached (hyperfine's warmup
# compiles it once); every command runs through the shell (stdin from a file). `wasmforge run`
# costs ~15 ms to start (process, cached code): the inputs outweigh it. Aim: ≤ 1.3× native.
# Not part of the test suite: timings on shared machines are noisy, ratios are what count.
# Usage: bench/artifact-speed.sh [hyperfine options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
realworld="${WASMFORGE_REALWORLD:-$PWD/../shared/realworld}"
for a in zstd-1.5.6-2dddf09 lua-5.4.8 expat-2.8.3; do
    [ -f "$realworld/$a.tar.gz" ] || { echo "needs $realworld/$a.tar.gz" >&2; exit 1; }
done

cargo build --release --locked -p wasmforge --quiet
wf="$PWD/target/release/wasmforge"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export WASMFORGE_CACHE_DIR="$work/cache"
jobs=$(nproc)

# Each project twice: one tree for native builds, one for wasmforge (which never writes into it).
unpack() { mkdir -p "$work/$2" && tar xzf "$realworld/$1.tar.gz" -C "$work/$2"; }
unpack zstd-1.5.6-2dddf09 native; unpack zstd-1.5.6-2dddf09 wasm
unpack lua-5.4.8 native; unpack lua-5.4.8 wasm
unpack expat-2.8.3 native; unpack expat-2.8.3 wasm

echo "== native builds (the host's cc, -O2 / the projects' own release flags)" >&2
make -s -C "$work/native/zstd-1.5.6-2dddf09" -j"$jobs" zstd-release >/dev/null
# (its makefile links readline for the REPL; the benchmark runs a script)
make -s -C "$work/native/lua-5.4.8" -j"$jobs" MYLIBS=-ldl MYCFLAGS="-std=c99 -DLUA_USE_LINUX" >/dev/null
cmake -S "$work/native/expat-2.8.3" -B "$work/native/expat-build" -DCMAKE_BUILD_TYPE=Release \
    -DEXPAT_BUILD_TESTS=OFF -DEXPAT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$work/native/expat-build" -j"$jobs" --target xmlwf >/dev/null
native_zstd="$work/native/zstd-1.5.6-2dddf09/programs/zstd"
native_lua="$work/native/lua-5.4.8/lua"
native_xmlwf="$work/native/expat-build/xmlwf/xmlwf"

echo "== wasmforge release builds, without and with --simd" >&2
zstd_dir="$work/wasm/zstd-1.5.6-2dddf09"
# What zstd's diagnoses point to (tests/integration/realworld.rs follows them the same way).
cat > "$zstd_dir/wasmforge.toml" <<'TOML'
[c]
bin = "zstd"
cflags = ["-include", "stdio.h"]
defines = ["chmod(...)=0", "chown(...)=0"]
TOML
lua_dir="$work/wasm/lua-5.4.8"
cat > "$lua_dir/wasmforge.toml" <<'TOML'
[c]
bin = "lua"
defines = ["L_tmpnam=32"]
stubs = ["system", "tmpfile", "tmpnam"]
TOML
expat_dir="$work/wasm/expat-2.8.3"
module() { # DIR NAME [--simd]: builds, prints the module's path
    local dir=$1 name=$2; shift 2
    local extra=()
    [ "$name" = xmlwf ] && extra=(--bin xmlwf)
    [ "$name" = lua ] && extra=(-- MYLIBS=)
    "$wf" --format json build -q --release "$dir" "$@" "${extra[@]}" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["artifacts"][0]["path"])'
}
save() { cp "$1" "$work/$2.wasm"; echo "$work/$2.wasm"; }
zstd_plain=$(save "$(module "$zstd_dir" zstd)" zstd)
zstd_simd=$(save "$(module "$zstd_dir" zstd --simd)" zstd-simd)
lua_plain=$(save "$(module "$lua_dir" lua)" lua)
lua_simd=$(save "$(module "$lua_dir" lua --simd)" lua-simd)
xmlwf_plain=$(save "$(module "$expat_dir" xmlwf)" xmlwf)
xmlwf_simd=$(save "$(module "$expat_dir" xmlwf --simd)" xmlwf-simd)

echo "== inputs" >&2
python3 - "$work" <<'PY'
import random, sys
work = sys.argv[1]
rng = random.Random(7)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
         for _ in range(4000)]
with open(f"{work}/input.txt", "wb") as f:  # text-like: compresses as logs and sources do
    size = 0
    while size < 8 << 20:
        line = b" ".join(rng.choice(words) for _ in range(12)) + b"\n"
        f.write(line); size += len(line)
with open(f"{work}/big.txt", "wb") as f:  # for decompression: long enough to outweigh start-up
    for _ in range(8):
        f.write(open(f"{work}/input.txt", "rb").read())
with open(f"{work}/big.xml", "wb") as f:
    f.write(b'<?xml version="1.0"?>\n<catalog>\n')
    size, i = 0, 0
    while size < 64 << 20:
        item = (b'  <item id="%d" kind="%s"><name>%s</name><text>%s</text></item>\n'
                % (i, rng.choice(words), rng.choice(words),
                   b" ".join(rng.choice(words) for _ in range(10))))
        f.write(item); size += len(item); i += 1
    f.write(b"</catalog>\n")
with open(f"{work}/bench.lua", "w") as f:
    f.write("""
local t = {}
for i = 1, 300000 do t[i] = (i * 7919) % 1000003 end
table.sort(t)
local parts = {}
for i = 1, 50000 do parts[#parts + 1] = string.format("%d:%x", i, t[i]) end
local s = table.concat(parts, ",")
local n = 0
for _ in s:gmatch("%d+:") do n = n + 1 end
local function fib(k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end
print(n, fib(27), #s)
""")
PY
"$native_zstd" -q -3 -c "$work/big.txt" > "$work/input.zst"

runs=(--warmup 2 --min-runs 5)
results=()
bench() { # NAME STDIN-FILE|"" NATIVE-CMD WASM-CMD WASM-SIMD-CMD [hyperfine options]
    local name=$1 input=$2 native=$3 wasm=$4 simd=$5; shift 5
    local from=""
    [ -n "$input" ] && from=" < $input"
    # Through the shell (hyperfine 1.15 has no --input): a few ms on runs of 100s of ms.
    hyperfine "${runs[@]}" --export-json "$work/$name.json" "$@" \
        -n native "$native$from" -n wasm "$wasm$from" -n wasm-simd "$simd$from" >&2
    results+=("$name")
}
grant="--dir $work"
bench zstd-compress "$work/input.txt" "$native_zstd -q -19 -c" \
    "$wf run $zstd_plain -- -q -19 -c" "$wf run $zstd_simd -- -q -19 -c" "$@"
bench zstd-decompress "$work/input.zst" "$native_zstd -q -d -c" \
    "$wf run $zstd_plain -- -q -d -c" "$wf run $zstd_simd -- -q -d -c" "$@"
bench lua "" "$native_lua $work/bench.lua" \
    "$wf run $grant $lua_plain -- $work/bench.lua" "$wf run $grant $lua_simd -- $work/bench.lua" "$@"
bench xmlwf "" "$native_xmlwf $work/big.xml" \
    "$wf run $grant $xmlwf_plain -- $work/big.xml" "$wf run $grant $xmlwf_simd -- $work/big.xml" "$@"

python3 - "$work" "${results[@]}" <<'PY'
import json, sys
work, names = sys.argv[1], sys.argv[2:]
print(f"{'workload':<18}{'native':>10}{'wasm':>10}{'ratio':>8}{'simd':>10}{'ratio':>8}")
for name in names:
    r = {x["command"]: x["mean"] for x in json.load(open(f"{work}/{name}.json"))["results"]}
    n, w, s = r["native"], r["wasm"], r["wasm-simd"]
    print(f"{name:<18}{n*1000:>8.0f}ms{w*1000:>8.0f}ms{w/n:>7.2f}x{s*1000:>8.0f}ms{s/n:>7.2f}x")
PY
