#!/usr/bin/env bash
# Benchmark: `wasmforge build` of hello-go and of a generated 20-file C project vs calling
# `go build` / the clang commands directly, side by side in one hyperfine run each (Go's build
# cache warm for both), plus the C project's no-op rebuild against its full build.
# Needs hyperfine, go (>= 1.21) and clang-16 + lld-16 + wasi-libc. Not part of the test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
cargo build --release --locked -p wasmforge --quiet
wf="$PWD/target/release/wasmforge"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export WASMFORGE_CACHE_DIR="$work/cache"

# --- Go: full build with a warm Go cache (the output file removed each time).
cp -r examples/hello-go "$work/"
go_dir="$work/hello-go"
(cd "$go_dir" && GOOS=wasip1 GOARCH=wasm go build -trimpath -o "$work/direct.wasm" . && "$wf" -q build >/dev/null)
hyperfine --warmup 3 --min-runs 15 -N --export-json "$work/go.json" \
    --prepare "rm -f $work/direct.wasm $go_dir/target/wasmforge/go/wasip1/debug/hello-go.wasm" \
    -n "go build" "env GOOS=wasip1 GOARCH=wasm go -C $go_dir build -trimpath -o $work/direct.wasm ." \
    -n "wasmforge build (go)" "$wf -q build $go_dir"

# --- C: a 20-file project; full build = objects removed; plain clang driven the same way
# (parallel compiles with -MMD, then one link).
c_dir="$work/c20"; mkdir -p "$c_dir/src" "$c_dir/include"
for i in $(seq 1 19); do
    printf 'int f%d(int x);\n' "$i" >> "$c_dir/include/funcs.h"
    printf '#include "funcs.h"\nint f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s; }\n' "$i" "$i" > "$c_dir/src/f$i.c"
done
{ echo '#include <stdio.h>'; echo '#include "funcs.h"'; echo 'int main(void) { int s = 0;'
  for i in $(seq 1 19); do echo "  s += f$i(10);"; done; echo '  printf("%d\n", s); return 0; }'; } > "$c_dir/src/main.c"
printf '[c]\ninclude = ["include"]\n' > "$c_dir/wasmforge.toml"
cat > "$work/direct-c.sh" <<SH
#!/usr/bin/env bash
set -e
mkdir -p $work/direct-obj
ls $c_dir/src/*.c | xargs -P "\$(nproc)" -I{} sh -c 'clang-16 --target=wasm32-wasi -g -O0 -I$c_dir/include -MMD -MF $work/direct-obj/\$(basename {}).d -c {} -o $work/direct-obj/\$(basename {}).o'
clang-16 --target=wasm32-wasi -g -O0 $work/direct-obj/*.o -o $work/direct-c.wasm
SH
chmod +x "$work/direct-c.sh"
"$work/direct-c.sh"; "$wf" -q build "$c_dir" >/dev/null
hyperfine --warmup 2 --min-runs 10 -N --export-json "$work/c.json" \
    --prepare "rm -rf $work/direct-obj $c_dir/target/wasmforge/c" \
    -n "clang commands" "$work/direct-c.sh" \
    -n "wasmforge build (c)" "$wf -q build $c_dir"
hyperfine --warmup 3 --min-runs 30 -N --export-json "$work/noop.json" -n "wasmforge no-op (c)" "$wf -q build $c_dir"

python3 - "$work" <<'PY'
import json, sys, os
w = sys.argv[1]
def load(name):
    return {x["command"]: x["mean"] for x in json.load(open(os.path.join(w, name)))["results"]}
go, c, noop = load("go.json"), load("c.json"), load("noop.json")
print(f"Go full build (warm cache): go {go['go build']*1000:.0f} ms, wasmforge {go['wasmforge build (go)']*1000:.0f} ms, "
      f"ratio {go['wasmforge build (go)']/go['go build']:.2f}x")
print(f"C 20 files full build: clang {c['clang commands']*1000:.0f} ms, wasmforge {c['wasmforge build (c)']*1000:.0f} ms, "
      f"ratio {c['wasmforge build (c)']/c['clang commands']:.2f}x")
print(f"C no-op rebuild: {noop['wasmforge no-op (c)']*1000:.1f} ms "
      f"({noop['wasmforge no-op (c)']/c['wasmforge build (c)']:.3f} of the full build)")
PY
