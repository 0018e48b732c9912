#!/usr/bin/env python3
"""Plays a GitHub Actions runner for a composite action: runs its `run:` steps in order with the
inputs given, evaluating the `${{ … }}` expressions and `if:` conditions the action uses, with
GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_PATH files as the runner provides them.

Usage: play_action.py ACTION_DIR WORKDIR INPUTS_JSON
Prints one JSON document: {"steps": [{"name", "id", "ran", "run", "exit", "stdout", "stderr",
"outputs"}], "summary": "…", "outputs": {…}} and exits 1 if a step failed; every step of the
action is listed, those after a failure with `ran: false`, as a runner shows them skipped.
"""
import json, os, re, subprocess, sys

from ruamel.yaml import YAML

action_dir, workdir, inputs_json = sys.argv[1:4]
given = json.loads(inputs_json)
action = YAML(typ="safe").load(open(os.path.join(action_dir, "action.yml")))
inputs = {k: str(given.get(k, (v or {}).get("default", ""))) for k, v in action["inputs"].items()}
temp = os.path.join(workdir, ".runner")
os.makedirs(temp, exist_ok=True)
summary = os.path.join(temp, "summary.md")
open(summary, "w").close()
steps_outputs = {}
context = {"github.action_path": action_dir, "runner.os": "Linux", "runner.arch": "X64"}


def lookup(expr):
    expr = expr.strip()
    if expr.startswith("inputs."):
        return inputs.get(expr[len("inputs."):], "")
    m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
    if m:
        return steps_outputs.get(m.group(1), {}).get(m.group(2), "")
    if expr in context:
        return context[expr]
    raise SystemExit(f"play_action: unsupported expression {expr!r}")


def substitute(text):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: lookup(m.group(1)), str(text))


def condition(expr):
    m = re.fullmatch(r"\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*", expr)
    if not m:
        raise SystemExit(f"play_action: unsupported condition {expr!r}")
    value = lookup(m.group(1))
    return (value == m.group(3)) if m.group(2) == "==" else (value != m.group(3))


results = []
path = os.environ["PATH"]
failed = False
for step in action["runs"]["steps"]:
    name, sid = step.get("name", ""), step.get("id", "")
    ran = not failed and ("if" not in step or condition(step["if"]))
    record = {"name": name, "id": sid, "ran": ran and "run" in step, "uses": step.get("uses"),
              "run": step.get("run")}
    if not ran or "run" not in step:
        results.append(record)
        continue
    output_file = os.path.join(temp, f"output-{len(results)}")
    path_file = os.path.join(temp, f"path-{len(results)}")
    open(output_file, "w").close()
    open(path_file, "w").close()
    env = dict(os.environ)
    env.update({k: substitute(v) for k, v in (step.get("env") or {}).items()})
    env.update({
        "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_ACTION_PATH": action_dir,
        "GITHUB_OUTPUT": output_file, "GITHUB_STEP_SUMMARY": summary, "GITHUB_PATH": path_file,
        "RUNNER_TEMP": temp, "PATH": path,
    })
    proc = subprocess.run(["bash", "-e", "-c", substitute(step["run"])], cwd=workdir, env=env,
                          capture_output=True, text=True)
    outputs = {}
    for line in open(output_file).read().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            outputs[k] = v
    steps_outputs[sid] = outputs
    for extra in open(path_file).read().splitlines():
        path = extra + os.pathsep + path
    record.update({"exit": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr, "outputs": outputs})
    results.append(record)
    if proc.returncode != 0:
        # Later steps are still listed (`ran: false`), as a runner shows them skipped.
        failed = True

outputs = {k: substitute(v["value"]) for k, v in action.get("outputs", {}).items()}
print(json.dumps({"steps": results, "summary": open(summary).read(), "outputs": outputs}))
sys.exit(1 if failed else 0)
