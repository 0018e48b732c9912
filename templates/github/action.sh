#!/usr/bin/env bash
# The steps of the wasmforge GitHub Action (action.yml). Every input comes from the environment
# (INPUT_*), never pasted into the script: a value is data, not shell.
# Usage: action.sh install|toolchains|doctor|test|build|push
set -euo pipefail

step="${1:?usage: action.sh install|toolchains|doctor|test|build|push}"
out="${GITHUB_OUTPUT:-/dev/null}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
state_dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/wasmforge-action"
mkdir -p "$state_dir"
path="${INPUT_PATH:-.}"
target_args=()
[ -n "${INPUT_TARGET:-}" ] && target_args=(--target "$INPUT_TARGET")

# The repository the action (and its releases) come from; the one place it is named here.
action_repo="${WASMFORGE_ACTION_REPOSITORY:-wasmforge/wasmforge}"
release_base="${WASMFORGE_RELEASE_URL:-https://github.com/$action_repo/releases/download}"

json_get() { # json_get FILE PYTHON-EXPRESSION-ON-d
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

case "$step" in
install)
    want="${INPUT_WASMFORGE_VERSION:-}"
    if command -v wasmforge >/dev/null 2>&1; then
        have="$(wasmforge --version | awk '{print $2}')"
        if [ -z "$want" ] || [ "$want" = "$have" ]; then
            echo "wasmforge $have is already on PATH"
            echo "version=$have" >> "$out"
            echo "needs-build=false" >> "$out"
            exit 0
        fi
    fi
    version="${want:-$(sed -n 's/^version = "\(.*\)"/\1/p' "${GITHUB_ACTION_PATH:-.}/Cargo.toml" | head -1)}"
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) platform=x86_64-unknown-linux-gnu ;;
        Linux-aarch64) platform=aarch64-unknown-linux-gnu ;;
        Darwin-arm64) platform=aarch64-apple-darwin ;;
        Darwin-x86_64) platform=x86_64-apple-darwin ;;
        *) platform="" ;;
    esac
    dest="${RUNNER_TOOL_CACHE:-$HOME/.cache}/wasmforge/$version/bin"
    if [ -n "$platform" ]; then
        archive="wasmforge-$version-$platform.tar.gz"
        url="$release_base/v$version/$archive"
        if curl -fsSL --retry 3 -o "$state_dir/$archive" "$url" \
            && curl -fsSL --retry 3 -o "$state_dir/$archive.sha256" "$url.sha256"; then
            expected="$(awk '{print $1}' "$state_dir/$archive.sha256")"
            actual="$(sha256sum "$state_dir/$archive" 2>/dev/null | awk '{print $1}' || shasum -a 256 "$state_dir/$archive" | awk '{print $1}')"
            if [ "$expected" != "$actual" ]; then
                echo "::error title=wasmforge install::checksum mismatch for $archive (expected $expected, got $actual)"
                exit 1
            fi
            mkdir -p "$dest"
            tar -xzf "$state_dir/$archive" -C "$dest"
            echo "$dest" >> "${GITHUB_PATH:-/dev/null}"
            echo "installed wasmforge $version from $url (sha256 verified)"
            echo "version=$version" >> "$out"
            echo "needs-build=false" >> "$out"
            exit 0
        fi
        echo "no release binary at $url; building from source"
    fi
    # From the action's own checkout (cached by the next step, keyed on version and OS).
    echo "version=$version" >> "$out"
    echo "needs-build=true" >> "$out"
    echo "prefix=$HOME/.wasmforge-build/$version" >> "$out"
    ;;
build-from-source)
    prefix="${INPUT_PREFIX:?}"
    if [ ! -x "$prefix/bin/wasmforge" ]; then
        "${GITHUB_ACTION_PATH:-.}/install.sh" --prefix "$prefix" --no-targets
    fi
    echo "$prefix/bin" >> "${GITHUB_PATH:-/dev/null}"
    ;;
toolchains)
    # What the project needs, installed when missing (Go comes from actions/setup-go).
    if [ -f "$path/Cargo.toml" ] && command -v rustup >/dev/null 2>&1; then
        triple="wasm32-wasip1"
        case "${INPUT_TARGET:-}" in wasip2|wasm32-wasip2) triple=wasm32-wasip2 ;; unknown|wasm32-unknown-unknown) triple=wasm32-unknown-unknown ;; esac
        (cd "$path" && rustup target add "$triple")
    fi
    # C: when doctor finds no usable C toolchain (runner images have clang but no WASI sysroot),
    # install clang, lld, wasi-libc and compiler-rt's wasm32 builtins for that clang.
    if ! [ -f "$path/go.mod" ] && ! [ -f "$path/Cargo.toml" ] && command -v apt-get >/dev/null 2>&1 \
        && ! wasmforge doctor "$path" --format json >/dev/null 2>&1; then
        sudo apt-get update -qq
        sudo apt-get install -y -qq clang lld wasi-libc >/dev/null
        major="$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)"
        sudo apt-get install -y -qq "libclang-rt-$major-dev-wasm32" >/dev/null \
            || echo "::warning title=wasmforge::no libclang-rt-$major-dev-wasm32 package: 128-bit arithmetic may not link (wasmforge explain WF3004)"
    fi
    ;;
doctor)
    # Findings become annotations on the right file and line; errors fail the step.
    wasmforge doctor "$path" "${target_args[@]}" --format github
    ;;
test)
    # The project's tests in the sandbox: a JUnit report, each failure an annotation, a table
    # in the step summary; a failure fails the step.
    status=0
    wasmforge test "$path" "${target_args[@]}" --format json --junit "$state_dir/junit.xml" \
        > "$state_dir/test.json" || status=$?
    [ -f "$state_dir/junit.xml" ] && echo "junit-path=$state_dir/junit.xml" >> "$out"
    python3 - "$state_dir/test.json" "$summary" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    d = {}
def clean(text):  # a workflow command's data: one line, `%` and line ends escaped
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
def prop(text):  # … and a property's value: `:` and `,` too
    return clean(text).replace(":", "%3A").replace(",", "%2C")
with open(sys.argv[2], "a") as summary:
    summary.write("### wasmforge test\n\n")
    if "binaries" not in d:
        message = d.get("error", {}).get("message", "the tests did not run")
        print(f"::error title=wasmforge test::{clean(message)}")
        summary.write(f"The tests did not run: {message}\n")
        sys.exit(0)
    summary.write(f"{d['passed']} passed, {d['failed']} failed, {d['ignored']} ignored ({d['target']})\n\n")
    summary.write("| test binary | passed | failed | ignored |\n| --- | --- | --- | --- |\n")
    for b in d["binaries"]:
        summary.write(f"| {b['name']} | {b['passed']} | {b['failed']} | {b['ignored']} |\n")
        for t in b["tests"]:
            if t["status"] == "failed":
                first = next((l for l in t.get("output", "").splitlines()
                              if l.strip() and "panicked at" not in l
                              and not l.startswith(("=== ", "--- "))), "failed")
                print(f"::error title={prop('test failed: ' + b['name'] + ' ' + t['name'])}::{clean(first)}")
    failed = [(b["name"], t["name"]) for b in d["binaries"] for t in b["tests"] if t["status"] == "failed"]
    if failed:
        summary.write("\nFailed:\n\n" + "".join(f"- `{n}` in {b}\n" for b, n in failed))
PY
    exit "$status"
    ;;
build)
    args=(build "$path" "${target_args[@]}" --format json)
    [ "${INPUT_RELEASE:-true}" = "true" ] && args+=(--release)
    [ -n "${INPUT_OPT:-}" ] && args+=(--opt "$INPUT_OPT")
    wasmforge "${args[@]}" > "$state_dir/build.json"
    count="$(json_get "$state_dir/build.json" 'len(d["artifacts"])')"
    first="$(json_get "$state_dir/build.json" 'd["artifacts"][0]["path"]')"
    {
        echo "wasm-path=$first"
        echo "size=$(json_get "$state_dir/build.json" 'd["artifacts"][0]["size"]')"
        echo "sha256=$(json_get "$state_dir/build.json" 'd["artifacts"][0]["sha256"]')"
    } >> "$out"
    validation="—"
    if [ -n "${INPUT_VALIDATE_PROFILE:-}" ]; then
        for i in $(seq 0 $((count - 1))); do
            wasmforge validate --profile "$INPUT_VALIDATE_PROFILE" "$(json_get "$state_dir/build.json" "d['artifacts'][$i]['path']")"
        done
        validation="$INPUT_VALIDATE_PROFILE ✓"
    fi
    python3 - "$state_dir/build.json" "$validation" >> "$summary" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("### wasmforge build\n")
print("| artifact | target | kind | size | before optimizing | validated | sha256 |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for a in d["artifacts"]:
    before = a.get("unoptimized_size")
    optimized = f"{before:,} B (-{a.get('opt_level')})" if before else "—"
    valid = a.get("validated") or sys.argv[2]
    print(f"| `{a['name']}.wasm` | {a['target']} | {a['kind']} | {a['size']:,} B | "
          f"{optimized} | {valid} | `{a['sha256'][:16]}…` |")
PY
    ;;
push)
    [ -n "${INPUT_PUSH:-}" ] || { echo "no push reference: nothing to push"; exit 0; }
    if [ -n "${INPUT_REGISTRY_PASSWORD:-}" ]; then
        # `::add-mask::` masks one line: a secret of several lines (a key, a JSON token) is
        # masked line by line.
        while IFS= read -r secret_line; do
            secret_line="${secret_line%$'\r'}"
            [ -n "$secret_line" ] && echo "::add-mask::$secret_line"
        done <<< "$INPUT_REGISTRY_PASSWORD"
        # The credentials are for the push's registry and no other host.
        first="${INPUT_PUSH%%/*}"
        case "$first" in
            *.*|*:*|localhost) export WASMFORGE_REGISTRY="$first" ;;
            *) export WASMFORGE_REGISTRY=docker.io ;;
        esac
        export WASMFORGE_REGISTRY_USERNAME="${INPUT_REGISTRY_USERNAME:-}"
        export WASMFORGE_REGISTRY_PASSWORD="$INPUT_REGISTRY_PASSWORD"
    fi
    wasm="${WASM_PATH:-}"
    [ -n "$wasm" ] || wasm="$(json_get "$state_dir/build.json" 'd["artifacts"][0]["path"]')"
    args=(push "$wasm" "$INPUT_PUSH" --format json)
    while IFS= read -r line; do
        line="${line%$'\r'}"
        [ -n "$line" ] && args+=(--annotation "$line")
    done <<< "$(printf '%s' "${INPUT_ANNOTATIONS:-}" | tr ',' '\n')"
    wasmforge "${args[@]}" > "$state_dir/push.json"
    digest="$(json_get "$state_dir/push.json" 'd["digest"]')"
    reference="$(json_get "$state_dir/push.json" 'd["references"][0]')"
    { echo "digest=$digest"; echo "reference=$reference"; } >> "$out"
    {
        echo
        echo "### wasmforge push"
        echo
        echo "Pushed \`$reference\` — \`$digest\` ($(json_get "$state_dir/push.json" 'd["uploaded"]') blob(s) uploaded, $(json_get "$state_dir/push.json" 'd["skipped"]') already there)"
    } >> "$summary"
    ;;
*)
    echo "unknown step: $step" >&2
    exit 2
    ;;
esac
