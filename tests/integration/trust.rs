//! Trust boundaries: what a cache folder, a module, a project or a file system gives wasmforge is
//! checked before it is used, and what wasmforge writes is written the way a user expects.
//! (Registries and pulls: `registry.rs` and `forged.rs`.)

use std::path::{Path, PathBuf};

use crate::support::*;

/// A module whose `_start` exits with `code` (WASI preview 1).
fn exits_with(code: i32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const {code}))))"#
    ))
    .expect("wat")
}

/// `run` with Cranelift, whose code is what the cache holds (`auto` would run a fresh module on
/// Winch and leave the cache to a background process).
fn run_in(cache: &Path, module: &Path, extra: &[&str]) -> std::process::Output {
    run(wasmforge()
        .env("WASMFORGE_CACHE_DIR", cache)
        .args(["run", "--compiler", "cranelift"])
        .args(extra)
        .arg(module))
}

#[test]
fn cache_clean_removes_only_wasmforges_folders_of_a_tagged_cache() {
    // A folder that is not wasmforge's cache: nothing in it is touched.
    let folder = tempfile::tempdir().expect("tempdir");
    std::fs::write(folder.path().join("precious.txt"), "keep me").expect("write");
    let output = run(wasmforge()
        .env("WASMFORGE_CACHE_DIR", folder.path())
        .args(["cache", "clean"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("CACHEDIR.TAG"),
        "{}",
        stderr(&output)
    );
    assert!(folder.path().join("precious.txt").is_file());

    // wasmforge's own cache: tagged when made, and only its folders go.
    let cache = tempfile::tempdir().expect("tempdir");
    let root = cache.path().join("wasmforge");
    let module = cache.path().join("seven.wasm");
    std::fs::write(&module, exits_with(7)).expect("write");
    assert_eq!(run_in(&root, &module, &[]).status.code(), Some(7));
    let tag = std::fs::read_to_string(root.join("CACHEDIR.TAG")).expect("tagged");
    assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
    std::fs::write(root.join("mine.txt"), "not wasmforge's").expect("write");
    let output = run(wasmforge()
        .env("WASMFORGE_CACHE_DIR", &root)
        .args(["cache", "clean"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!root.join("compiled").exists());
    assert!(root.join("mine.txt").is_file() && root.join("CACHEDIR.TAG").is_file());
}

#[cfg(unix)]
#[test]
fn compiled_code_is_bound_to_its_module_and_loaded_only_from_a_private_folder() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    let (seven, nine) = (tmp.path().join("seven.wasm"), tmp.path().join("nine.wasm"));
    std::fs::write(&seven, exits_with(7)).expect("write");
    std::fs::write(&nine, exits_with(9)).expect("write");
    assert_eq!(run_in(&cache, &seven, &[]).status.code(), Some(7));
    let compiled = cache.join("compiled");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&cache), 0o700, "the cache folder is private");
    assert_eq!(mode(&compiled), 0o700);
    let seven_entry: PathBuf = std::fs::read_dir(&compiled)
        .expect("compiled")
        .map(|e| e.expect("entry").path())
        .next()
        .expect("one entry");
    assert_eq!(run_in(&cache, &nine, &[]).status.code(), Some(9));
    let nine_entry: PathBuf = std::fs::read_dir(&compiled)
        .expect("compiled")
        .map(|e| e.expect("entry").path())
        .find(|p| *p != seven_entry)
        .expect("a second entry");
    // Module 7's compiled code copied over module 9's entry: refused, 9 runs.
    std::fs::copy(&seven_entry, &nine_entry).expect("copy");
    let output = run_in(&cache, &nine, &["--timings"]);
    assert_eq!(output.status.code(), Some(9), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("damaged or stale"),
        "{}",
        stderr(&output)
    );

    // A cache others can write is not trusted with native code: compiled, with a warning.
    std::fs::set_permissions(&compiled, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let output = run_in(&cache, &nine, &["--timings"]);
    assert_eq!(output.status.code(), Some(9));
    let err = stderr(&output);
    assert!(err.contains("can be written by other users"), "{err}");
    assert!(err.contains("cache folder not private"), "{err}");
    // `auto` says so too, and runs on Winch without caching anything.
    let output = run(wasmforge()
        .env("WASMFORGE_CACHE_DIR", &cache)
        .args(["run", "--timings"])
        .arg(&nine));
    assert_eq!(output.status.code(), Some(9));
    let err = stderr(&output);
    assert!(err.contains("can be written by other users"), "{err}");
    assert!(err.contains("compiled with Winch, not cached"), "{err}");
}

#[test]
fn optimized_output_is_bound_to_its_input() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    let module = |n: i32| {
        wat::parse_str(format!(
            "(module (func (export \"f\") (result i32) (i32.add (i32.const {n}) (i32.const 1))))"
        ))
        .expect("wat")
    };
    let (a, b) = (tmp.path().join("a.wasm"), tmp.path().join("b.wasm"));
    std::fs::write(&a, module(40)).expect("write");
    std::fs::write(&b, module(1)).expect("write");
    let opt = |input: &Path, out: &Path| {
        let output = run(wasmforge()
            .env("WASMFORGE_CACHE_DIR", &cache)
            .arg("opt")
            .arg(input)
            .arg("-o")
            .arg(out));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        std::fs::read(out).expect("read")
    };
    let entries = || -> Vec<PathBuf> {
        let mut list: Vec<PathBuf> = std::fs::read_dir(cache.join("optimized"))
            .map(|d| d.map(|e| e.expect("entry").path()).collect())
            .unwrap_or_default();
        list.sort();
        list
    };
    let a_out = opt(&a, &tmp.path().join("a.opt.wasm"));
    let a_entry = entries()[0].clone();
    let b_out = opt(&b, &tmp.path().join("b.opt.wasm"));
    let b_entry = entries()
        .into_iter()
        .find(|e| *e != a_entry)
        .expect("b's entry");
    assert!(a_out != b_out);
    std::fs::copy(&a_entry, &b_entry).expect("copy a's output over b's");
    assert!(
        opt(&b, &tmp.path().join("b2.opt.wasm")) == b_out,
        "b's optimized code, not a's"
    );
}

#[cfg(unix)]
#[test]
fn files_get_the_usual_mode_and_links_are_written_through() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("tempdir");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    // What a file created here gets: 0666 minus this process's umask.
    let probe = tmp.path().join("probe");
    std::fs::File::create(&probe).expect("create");
    let usual = mode(&probe);
    let input = tmp.path().join("in.wasm");
    std::fs::write(
        &input,
        wat::parse_str("(module (func (export \"f\")))").expect("wat"),
    )
    .expect("write");
    for (args, out) in [
        (vec!["opt"], "in.opt.wasm"),
        (vec!["strip", "-o"], "stripped.wasm"),
        (vec!["precompile", "-o"], "in.cwasm"),
    ] {
        let dest = tmp.path().join(out);
        let mut cmd = wasmforge();
        cmd.arg(args[0]).arg(&input);
        if args.len() > 1 {
            cmd.arg(args[1]).arg(&dest);
        }
        let output = run(&mut cmd);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(mode(&dest), usual, "{out}: {:o}", mode(&dest));
    }
    // An `oci:` layout folder (shared with other users) and what `pull` writes from it.
    let layout = tmp.path().join("layout");
    let output = run(wasmforge()
        .arg("push")
        .arg(&input)
        .arg(format!("oci:{}:v1", layout.display())));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(mode(&layout.join("index.json")), usual);
    let pulled = tmp.path().join("pulled.wasm");
    let output = run(wasmforge()
        .arg("pull")
        .arg(format!("oci:{}:v1", layout.display()))
        .arg("-o")
        .arg(&pulled));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(mode(&pulled), usual);
    // `new`'s files too.
    let project = tmp.path().join("hello");
    let output = run(wasmforge()
        .args(["new", "--lang", "c", "--ci", "none"])
        .arg(&project));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(mode(&project.join("src/main.c")), usual);

    // A file rewritten in place keeps its mode.
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let output = run(wasmforge().arg("strip").arg(&input));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(mode(&input), 0o640);

    // `opt --in-place` on a symlink writes the file it points at, and the link stays a link.
    let link = tmp.path().join("link.wasm");
    std::os::unix::fs::symlink(&input, &link).expect("symlink");
    let output = run(wasmforge().arg("opt").arg("--in-place").arg(&link));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    assert_eq!(mode(&input), 0o640);
}

#[test]
fn binary_output_never_replaces_hand_written_text() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("a.wat");
    let text = ";; hand-written\n(module (func (export \"f\")))\n";
    std::fs::write(&source, text).expect("write");
    for args in [vec!["strip"], vec!["opt", "--in-place"]] {
        let output = run(wasmforge().args(&args).arg(&source));
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let err = stderr(&output);
        assert!(err.contains("is WebAssembly text"), "{err}");
        assert!(err.contains("-o "), "the hint says where to write: {err}");
        assert_eq!(std::fs::read_to_string(&source).expect("read"), text);
    }
    // Written elsewhere, it works.
    let output = run(wasmforge()
        .arg("strip")
        .arg(&source)
        .arg("-o")
        .arg(tmp.path().join("a.wasm")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn names_a_module_chooses_cannot_drive_the_terminal() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let module = tmp.path().join("evil.wasm");
    // An export name that erases the line and prints a fake verdict, an import from a module
    // named with a colour escape, a custom section that sets the window title.
    let bytes = wat::parse_str(
        r#"(module
  (import "env\1b[35;7m" "x\1b[2K" (func))
  (func (export "run\1b[2K\0d\0a warning: module verified, signature OK"))
  (@custom "title\1b]0;pwned\07" "x"))"#,
    )
    .expect("wat");
    std::fs::write(&module, bytes).expect("write");
    let hostile = |text: &str| {
        text.contains("\u{1b}[2K")
            || text.contains("\u{1b}]0;")
            || text.contains("\u{1b}[35;7m")
            || text
                .lines()
                .any(|l| l.starts_with(" warning: module verified"))
    };
    for args in [
        vec!["inspect"],
        vec!["validate", "--profile", "wasip1-command"],
        vec!["strip", "-o"],
    ] {
        let mut cmd = wasmforge();
        cmd.args(["--color", "always"]).args(&args).arg(&module);
        if args[0] == "strip" {
            cmd.arg(tmp.path().join("out.wasm"));
        }
        let output = run(&mut cmd);
        let (out, err) = (stdout(&output), stderr(&output));
        assert!(!hostile(&out) && !hostile(&err), "{args:?}: {out}{err}");
    }
    let output = run(wasmforge()
        .args(["--color", "always", "inspect"])
        .arg(&module));
    assert!(
        stdout(&output).contains("run\\u{1b}[2K\\r\\n warning: module verified"),
        "shown, escaped: {}",
        stdout(&output)
    );
}

#[test]
fn a_toolchain_named_by_a_project_is_one_word_and_never_a_safe_fix_unless_valid() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("p");
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .expect("write");
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("write");
    std::fs::write(
        dir.join("rust-toolchain.toml"),
        "[toolchain]\nchannel = \"stable --force\"\n",
    )
    .expect("write");
    let output = run(wasmforge()
        .arg("doctor")
        .arg(&dir)
        .args(["--format", "json"]));
    let doc = json(&output);
    let fix = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .flat_map(|c| c["diagnostics"].as_array().cloned().unwrap_or_default())
        .find(|d| d["code"] == "WF1002")
        .expect("WF1002")["fix"]
        .clone();
    assert_eq!(fix["safe"], false, "{fix}");
    assert_eq!(
        fix["argv"][0],
        serde_json::json!([
            "rustup",
            "toolchain",
            "install",
            "stable --force",
            "--target",
            "wasm32-wasip1"
        ])
    );
    let output = run(wasmforge().arg("doctor").arg(&dir).arg("--fix"));
    let err = stderr(&output);
    assert!(err.contains("nothing to fix unattended"), "{err}");
    assert!(!err.contains("Running"), "{err}");
}

#[test]
fn max_memory_bounds_the_guest_not_each_memory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Four memories of 20 MiB (320 pages of 64 KiB): 80 MiB in all, each under 64 MiB.
    let module = tmp.path().join("many.wasm");
    let memories: String = (0..4).map(|_| "(memory 320)").collect();
    std::fs::write(
        &module,
        wat::parse_str(format!(
            "(module {memories} (memory (export \"memory\") 1) (func (export \"_start\")))"
        ))
        .expect("wat"),
    )
    .expect("write");
    let output = run(wasmforge()
        .args(["run", "--max-memory", "64MiB"])
        .arg(&module));
    assert_eq!(output.status.code(), Some(123), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("all its memories together"),
        "{}",
        stderr(&output)
    );
    let output = run(wasmforge()
        .args(["run", "--max-memory", "96MiB"])
        .arg(&module));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_folder_wasmforge_did_not_make_is_never_claimed_as_its_cache() {
    // WASMFORGE_CACHE_DIR names a folder of the user's that happens to hold folders with
    // wasmforge's section names. It is not tagged, not written into, and `cache clean` keeps
    // refusing it (before, the next run tagged it and the following clean deleted them).
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = tmp.path().join("mine");
    for section in ["artifacts", "checks", "oci", "compiled"] {
        std::fs::create_dir_all(folder.join(section)).expect("mkdir");
        std::fs::write(folder.join(section).join("notes.txt"), "mine").expect("write");
    }
    let module = tmp.path().join("seven.wasm");
    std::fs::write(&module, exits_with(7)).expect("write");
    let output = run_in(&folder, &module, &[]);
    assert_eq!(output.status.code(), Some(7));
    let err = stderr(&output);
    assert!(
        err.contains("holds files wasmforge did not make") && err.contains("not used as a cache"),
        "{err}"
    );
    assert!(!folder.join("CACHEDIR.TAG").exists(), "not tagged");
    let output = run(wasmforge()
        .env("WASMFORGE_CACHE_DIR", &folder)
        .args(["cache", "clean"]));
    assert_eq!(output.status.code(), Some(1));
    for section in ["artifacts", "checks", "oci", "compiled"] {
        let entries = std::fs::read_dir(folder.join(section))
            .expect("still there")
            .count();
        assert_eq!(entries, 1, "{section}/ holds only the user's file");
    }
    // An empty folder is claimed: tagged, used.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    assert_eq!(run_in(&empty, &module, &[]).status.code(), Some(7));
    assert!(empty.join("CACHEDIR.TAG").is_file());
    let output = run_in(&empty, &module, &["--timings"]);
    assert!(stderr(&output).contains("cache hit"), "{}", stderr(&output));
}

#[cfg(unix)]
#[test]
fn an_entry_refused_for_its_mode_or_a_link_is_replaced_by_a_private_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    let module = tmp.path().join("seven.wasm");
    std::fs::write(&module, exits_with(7)).expect("write");
    assert_eq!(run_in(&cache, &module, &[]).status.code(), Some(7));
    let entry: PathBuf = std::fs::read_dir(cache.join("compiled"))
        .expect("compiled")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("an entry");
    let timings = |extra: &[&str]| {
        let mut args = vec!["--timings"];
        args.extend_from_slice(extra);
        stderr(&run_in(&cache, &module, &args))
    };
    // Others may write it: refused, compiled again, and written back private — so the next
    // run is a hit (before, the rewrite kept the mode and every run recompiled).
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    assert!(timings(&[]).contains("damaged or stale"));
    let mode = std::fs::metadata(&entry)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert!(timings(&[]).contains("cache hit"));
    // A link in its place: refused, and replaced (not written through to what it names).
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::write(&elsewhere, "not a cache entry").expect("write");
    std::fs::remove_file(&entry).expect("rm");
    std::os::unix::fs::symlink(&elsewhere, &entry).expect("symlink");
    assert!(timings(&[]).contains("damaged or stale"));
    assert_eq!(
        std::fs::read_to_string(&elsewhere).expect("read"),
        "not a cache entry"
    );
    assert!(
        !std::fs::symlink_metadata(&entry)
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    assert!(timings(&[]).contains("cache hit"));
}

#[test]
fn simultaneous_warms_compile_once_and_cleaning_never_trips_on_them() {
    // A module that takes a while to compile: thousands of functions.
    let tmp = tempfile::tempdir().expect("tempdir");
    let wasm = tmp.path().join("big.wasm");
    let mut text = String::from("(module (memory (export \"memory\") 1)");
    for i in 0..4000 {
        text.push_str(&format!(
            "(func (export \"f{i}\") (param i32) (result i32) local.get 0 i32.const {i} i32.mul \
             i32.const 7 i32.rotl local.get 0 i32.xor i32.const 3 i32.shr_u i32.const {i} i32.add)"
        ));
    }
    text.push_str("(func (export \"_start\")))");
    std::fs::write(&wasm, wat::parse_str(&text).expect("wat")).expect("write");
    let cache = tempfile::tempdir().expect("tempdir");
    let warm = || {
        wasmforge()
            .env("WASMFORGE_CACHE_DIR", cache.path())
            .args(["--format", "json", "cache", "warm"])
            .arg(&wasm)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    // Six at once (as six runs of a fresh module start six): one compiles, the others find
    // the entry's lock taken (or, coming late, the entry there).
    let children: Vec<_> = (0..6).map(|_| warm()).collect();
    let events: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("wait");
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            doc["warmed"][0]["cache"]
                .as_str()
                .expect("event")
                .to_string()
        })
        .collect();
    assert_eq!(
        events.iter().filter(|e| *e == "miss").count(),
        1,
        "one compile: {events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| ["miss", "busy", "hit"].contains(&e.as_str())),
        "{events:?}"
    );
    // `cache clean` while a compile writes its entry: never "Directory not empty".
    for _ in 0..4 {
        let mut child = warm();
        let output = run(wasmforge()
            .env("WASMFORGE_CACHE_DIR", cache.path())
            .args(["cache", "clean"]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let _ = child.wait();
    }
}
