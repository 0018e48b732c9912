//! `wasmforge test`: a Rust crate's unit, integration and example tests built for WASI and run
//! in the sandbox — failures with their messages, a trap and a timeout as failures of their own
//! tests, the tests after them still run, JUnit and JSON reports.

use serde_json::Value;

use crate::support::*;

fn tests_of<'a>(doc: &'a Value, binary: &str) -> &'a Vec<Value> {
    doc["binaries"]
        .as_array()
        .expect("binaries")
        .iter()
        .find(|b| b["name"] == binary)
        .unwrap_or_else(|| panic!("no binary `{binary}`: {doc}"))["tests"]
        .as_array()
        .expect("tests")
}

/// What a test printed, as the report keeps it for a failure ("" when nothing).
fn printed(tests: &[Value], name: &str) -> String {
    tests
        .iter()
        .find(|t| t["name"] == name)
        .and_then(|t| t["output"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The files under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            {
                found.push(path);
            }
        }
    }
    found
}

fn status<'a>(tests: &'a [Value], name: &str) -> &'a str {
    tests
        .iter()
        .find(|t| t["name"] == name)
        .and_then(|t| t["status"].as_str())
        .unwrap_or_else(|| panic!("no test `{name}`: {tests:?}"))
}

#[test]
fn rust_tests_run_in_the_sandbox_each_failure_its_own() {
    if !require_rust_targets() {
        return;
    }
    let (_tmp, dir) = project("rust-tests");
    for target in ["wasip1", "wasip2"] {
        let junit = dir.join(format!("junit-{target}.xml"));
        // SPIN makes one test loop: the timeout stops it, and the harness goes on after it.
        // EXIT makes one end the harness with exit code 0: a failure too, never a pass.
        let output = run(wasmforge()
            .args([
                "test",
                "--format",
                "json",
                "--target",
                target,
                "--timeout",
                "2s",
            ])
            .args(["--env", "SPIN=1", "--env", "EXIT=1", "--junit"])
            .arg(&junit)
            .arg(&dir));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let doc = json(&output);
        assert_eq!(
            (&doc["passed"], &doc["failed"], &doc["ignored"]),
            (&Value::from(4), &Value::from(4), &Value::from(1)),
            "{target}: {doc}"
        );
        let lib = tests_of(&doc, "rust-tests (lib)");
        assert_eq!(status(lib, "tests::adds"), "passed");
        assert_eq!(status(lib, "tests::fails"), "failed");
        assert_eq!(status(lib, "tests::traps"), "failed");
        assert_eq!(status(lib, "tests::spins"), "failed");
        assert_eq!(status(lib, "tests::exits"), "failed");
        assert_eq!(status(lib, "tests::slow"), "ignored");
        // A panic aborts a Wasm test harness: the tests after it ran all the same.
        assert_eq!(status(lib, "tests::runs_after_the_failures"), "passed");
        let output_of = |name: &str| printed(lib, name);
        assert!(
            output_of("tests::fails").contains("two and two make four"),
            "{target}: the panic's message: {doc}"
        );
        assert!(output_of("tests::traps").contains("trapped"), "{doc}");
        assert!(output_of("tests::spins").contains("--timeout 2s"), "{doc}");
        assert!(
            output_of("tests::exits").contains("ended its harness"),
            "{doc}"
        );
        // The integration test reads its fixture (the package folder is granted read-only, at
        // its path and as the current folder), and cannot write there.
        let files = tests_of(&doc, "rust-tests (test files)");
        assert_eq!(status(files, "reads_its_fixture"), "passed", "{doc}");
        assert_eq!(status(files, "cannot_write_the_package"), "passed", "{doc}");
        assert!(!dir.join("tests/data/written.txt").exists());

        // JUnit as CI reporters read it: the failure with its message.
        let xml = std::fs::read_to_string(&junit).expect("junit");
        assert!(xml.starts_with("<?xml"), "{xml}");
        assert!(
            xml.contains(r#"<testcase classname="rust-tests (lib)::tests" name="fails">"#)
                && xml.contains(
                    r#"<failure message="assertion `left == right` failed: two and two make four">"#
                ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"name="slow">"#) && xml.contains("<skipped/>"),
            "{xml}"
        );
    }

    // Selection as cargo's: one integration test, and the examples; all pass.
    let output = run(wasmforge()
        .args(["test", "--test", "files", "-q"])
        .arg(&dir));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ok: 2 passed, 0 failed, 0 ignored in 1 test binary"),
        "{}",
        stderr(&output)
    );
    let output = run(wasmforge().args(["test", "--examples", "-q"]).arg(&dir));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("rust-tests (example demo) — 1 passed"),
        "{}",
        stderr(&output)
    );
    // Harness arguments pass through: a filter.
    let output = run(wasmforge()
        .args(["test", "--lib", "-q"])
        .arg(&dir)
        .args(["--", "adds"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("test tests::adds ... ok"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn go_tests_run_under_wasip1_with_their_testdata() {
    if !have_go(21) {
        return;
    }
    let (_tmp, dir) = project("go-tests");
    let junit = dir.join("junit.xml");
    let output = run(wasmforge()
        .args(["test", "--format", "json", "--junit"])
        .arg(&junit)
        .arg(&dir));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let doc = json(&output);
    let calc = tests_of(&doc, "example.com/gotests");
    assert_eq!(status(calc, "TestAdds"), "passed");
    assert_eq!(status(calc, "TestFails"), "failed");
    // testdata/ read relative to the package folder, as a native `go test` does.
    assert_eq!(status(calc, "TestReadsTestdata"), "passed", "{doc}");
    assert_eq!(status(calc, "TestSkipped"), "ignored");
    let sub = tests_of(&doc, "example.com/gotests/sub");
    assert_eq!(status(sub, "TestTwice"), "passed");
    assert_eq!(status(sub, "TestTwice/#01"), "passed");
    assert_eq!(
        (&doc["failed"], &doc["ignored"]),
        (&Value::from(1), &Value::from(1)),
        "{doc}"
    );
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(
        xml.contains(r#"<failure message="    calc_test.go:17: Add(2, 2) = 4, want 5">"#),
        "{xml}"
    );
    // One package, selected as go selects it; a filter reaches the test binary.
    let output = run(wasmforge()
        .args(["test", "-q", "-p", "./sub"])
        .arg(&dir)
        .args(["--", "-run", "TestTwice"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ok: 3 passed, 0 failed, 0 ignored in 1 test binary"),
        "{}",
        stderr(&output)
    );
    // Go has no wasip2 port.
    let output = run(wasmforge().args(["test", "--target", "wasip2"]).arg(&dir));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

/// A CMake project's CTest suite: every form of add_test (a target, a path, a script of the
/// project's own given `$<TARGET_FILE>`) runs in the sandbox, for wasip1 and as components.
#[test]
fn c_ctest_suites_run_every_test_in_the_sandbox() {
    if !have_clang() || !require(on_path("ctest"), "CMake (ctest) is not installed") {
        return;
    }
    let (_tmp, dir) = project("c-ctest");
    for target in ["wasip1", "wasip2"] {
        let junit = dir.join(format!("junit-{target}.xml"));
        let output = run(wasmforge()
            .args(["test", "--format", "json", "--target", target])
            .args(["--env", "CTEST_SECRET=hunter2-not-in-files"])
            .args(["--timeout", "3s", "--junit"])
            .arg(&junit)
            .arg(&dir));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let doc = json(&output);
        let tests = tests_of(&doc, "c-ctest (ctest)");
        for name in [
            "adds",
            "by_path",
            "through_script",
            "reads_source",
            "writes_here",
            "gets_env",
        ] {
            assert_eq!(status(tests, name), "passed", "{target} {name}: {doc}");
        }
        // Passes only where /etc is out of reach: each form ran in the sandbox, not natively.
        assert_eq!(status(tests, "sandboxed"), "passed", "{target}: {doc}");
        for name in ["fails", "traps", "spins"] {
            assert_eq!(status(tests, name), "failed", "{target} {name}: {doc}");
        }
        assert_eq!(status(tests, "not_yet"), "ignored", "{target}: {doc}");
        assert_eq!(
            (&doc["passed"], &doc["failed"], &doc["ignored"]),
            (&Value::from(7), &Value::from(3), &Value::from(1)),
            "{target}: {doc}"
        );
        // The --env value reached the guests through the environment: no file of the test
        // build (CMake's cache, the launchers) holds it.
        let build = doc["binaries"][0]["path"].as_str().expect("path");
        let holders = files_containing(std::path::Path::new(build), b"hunter2-not-in-files");
        assert!(holders.is_empty(), "{holders:?}");
        let output_of = |name: &str| printed(tests, name);
        assert_eq!(output_of("fails"), "expected 5, got 4", "{doc}");
        assert!(output_of("traps").contains("the guest trapped"), "{doc}");
        assert!(output_of("spins").contains("--timeout 3s"), "{doc}");
        let xml = std::fs::read_to_string(&junit).expect("junit");
        assert!(
            xml.contains(r#"<failure message="expected 5, got 4">"#),
            "{target}: {xml}"
        );
        // The test's working folder (its build folder) was writable.
        assert!(
            std::path::Path::new(build).join("written.txt").is_file(),
            "{build}"
        );
    }
    // `-- ARGS`: -D reaches CMake's configure, the rest ctest (a selection).
    let output = run(wasmforge().args(["test", "-q"]).arg(&dir).args([
        "--",
        "-DWITH_EXTRA=ON",
        "-R",
        "^extra$",
    ]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ok: 1 passed, 0 failed, 0 ignored in 1 test binary"),
        "{}",
        stderr(&output)
    );
    // Rust's selections mean nothing to CTest: said, not ignored.
    let output = run(wasmforge().args(["test", "--lib"]).arg(&dir));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("-- -R REGEX"),
        "{}",
        stderr(&output)
    );
}

/// A C project without CMake: wasmforge.toml's [test] — commands run in the build's tree of a
/// Make project (`make check`, its programs in the sandbox), and cases, each a program the build
/// makes (a make target) run in the sandbox — exit code, output, grants of its own.
#[test]
fn c_make_tests_are_the_declared_ones() {
    if !have_clang() {
        return;
    }
    let (_tmp, dir) = project("c-make-tests");
    for target in ["wasip1", "wasip2"] {
        let output = run(wasmforge()
            .args(["test", "--format", "json", "--target", target])
            .arg(&dir));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let doc = json(&output);
        let tests = tests_of(&doc, "c-make-tests (wasmforge.toml)");
        // The project's program (`calc`) and its test program (`make check_calc`), each run.
        for name in ["adds", "usage", "checks", "reads data", "env", "make check"] {
            assert_eq!(status(tests, name), "passed", "{target} {name}: {doc}");
        }
        for name in ["fails", "wrong sum", "make check-broken"] {
            assert_eq!(status(tests, name), "failed", "{target} {name}: {doc}");
        }
        let output_of = |name: &str| printed(tests, name);
        assert!(
            output_of("wrong sum").starts_with("its output does not contain `5`"),
            "{doc}"
        );
        assert!(
            output_of("fails").contains("add(2, 2) = 4, want 5"),
            "{doc}"
        );
    }
    // Picked by name; the artifact of each program is its own (named after its make target).
    let output = run(wasmforge()
        .args(["test", "-q"])
        .arg(&dir)
        .args(["--", "checks"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ok: 1 passed, 0 failed, 0 ignored"),
        "{}",
        stderr(&output)
    );
    assert!(
        dir.join("target/wasmforge/wasip1/debug/check_calc.wasm")
            .is_file()
    );
    assert!(
        dir.join("target/wasmforge/wasip1/debug/calc.wasm")
            .is_file()
    );
}

#[test]
fn test_refuses_what_it_cannot_run() {
    let (_tmp, dir) = project("hello-c");
    let output = run(wasmforge().arg("test").arg(&dir));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("declares no tests") && stderr(&output).contains("[test]"),
        "{}",
        stderr(&output)
    );
    // Test commands need a Makefile to run in; a case's env must be NAME=VALUE — both said
    // before anything is built or run.
    let config = std::fs::read_to_string(dir.join("wasmforge.toml")).unwrap_or_default();
    std::fs::write(
        dir.join("wasmforge.toml"),
        format!("{config}\n[test]\ncommands = [\"make check\"]\n"),
    )
    .expect("write");
    let output = run(wasmforge().arg("test").arg(&dir));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("this project has no Makefile")
            && stderr(&output).contains("[[test.case]]"),
        "{}",
        stderr(&output)
    );
    std::fs::write(
        dir.join("wasmforge.toml"),
        format!("{config}\n[[test.case]]\nname = \"greets\"\nenv = [\"NOVALUE\"]\n"),
    )
    .expect("write");
    let output = run(wasmforge().arg("test").arg(&dir));
    assert_ne!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("[[test.case]] `greets`") && err.contains("is not KEY=VALUE"),
        "{err}"
    );
    assert!(!err.contains("Building"), "said before the build: {err}");
    let (_tmp, dir) = project("hello-rust");
    let output = run(wasmforge().args(["test", "--target", "unknown"]).arg(&dir));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}
