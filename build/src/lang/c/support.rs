//! What C builds need besides the compiler: a lock so two builds of one project never share a
//! folder, scripts for build systems that take one program per tool, the compiler wrapper Make
//! builds go through, and the small objects wasmforge links in (the setjmp tag, stubs).

use std::fs::File;
use std::path::{Path, PathBuf};

use super::Job;
use crate::error::{Error, Result};
use crate::files::{sha256_hex, write_atomic};
use crate::lang::c::toolchain::{self as probe, CFlavor, CToolchain, SearchEnv};
use crate::process::Tool;
use crate::report::Reporter;
use crate::text::shell_quote;

/// An exclusive lock on the project's C build folder, held for the whole build (as cargo holds
/// its build directory lock): a second build of the same project waits instead of racing.
#[derive(Debug)]
pub struct BuildLock {
    _file: File,
}

impl BuildLock {
    pub fn acquire(work_dir: &Path, reporter: &dyn Reporter) -> Result<BuildLock> {
        fs_err::create_dir_all(work_dir)?;
        let path = work_dir.join(".c-build.lock");
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?
            .into_parts()
            .0;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                reporter.status(
                    "Blocking",
                    &format!(
                        "waiting for another build of this project ({})",
                        path.display()
                    ),
                );
                file.lock().map_err(|e| {
                    Error::Io(std::io::Error::new(
                        e.kind(),
                        format!("{e} (path: {})", path.display()),
                    ))
                })?;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("{e} (path: {})", path.display()),
                )));
            }
        }
        Ok(BuildLock { _file: file })
    }
}

#[cfg(unix)]
pub fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(not(unix))]
pub fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

pub fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}

/// Writes an executable shell script (only when its text changed).
/// Writes an executable script (when its text changed).
pub fn write_executable(path: &Path, text: &str) -> Result<()> {
    write_script(path, text)
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        write_atomic(path, text.as_bytes())?;
        make_executable(path)?;
    }
    Ok(())
}

fn quoted(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Single programs for build systems that take one path per tool (zig from PyPI is three words).
#[derive(Debug, Clone)]
pub struct Programs {
    pub cc: String,
    pub ar: String,
    pub ranlib: String,
}

pub fn programs(toolchain: &CToolchain, dir: &Path) -> Result<Programs> {
    fs_err::create_dir_all(dir)?;
    let wrap = |name: &str, words: &[String]| -> Result<String> {
        if words.len() == 1 {
            return Ok(words[0].clone());
        }
        let script = dir.join(name);
        write_script(
            &script,
            &format!("#!/bin/sh\nexec {} \"$@\"\n", quoted(words)),
        )?;
        Ok(script.display().to_string())
    };
    Ok(Programs {
        cc: wrap(&format!("{}-cc", toolchain.flavor.name()), &toolchain.cc)?,
        ar: wrap(&format!("{}-ar", toolchain.flavor.name()), &toolchain.ar)?,
        ranlib: wrap(
            &format!("{}-ranlib", toolchain.flavor.name()),
            &toolchain.ranlib,
        )?,
    })
}

/// The compiler Make builds run: it adds the target and wasmforge's compile flags to every
/// compile, the link flags to every link, and records each call (one line, arguments separated
/// by U+001F) in `log`, so wasmforge knows what make compiled and linked.
pub fn compiler_wrapper(
    path: &Path,
    log: &Path,
    toolchain: &CToolchain,
    compile: &[String],
    target: &[String],
    link: &[String],
) -> Result<()> {
    compiler_wrapper_with(path, log, toolchain, compile, target, link, None)
}

/// [`compiler_wrapper`] for a test tree (`wasmforge test`): each program it links is moved to
/// `OUT.wasm` and `OUT` becomes a copy of `launcher`, which runs it in the sandbox.
pub fn compiler_wrapper_with(
    path: &Path,
    log: &Path,
    toolchain: &CToolchain,
    compile: &[String],
    target: &[String],
    link: &[String],
    launcher: Option<&Path>,
) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent)?;
    }
    let text = format!(
        r#"#!/bin/sh
# Written by wasmforge: the C compiler of this build. It adds the WebAssembly target and
# wasmforge's flags, and records what it is asked to do.
log={log}
mode=link
asm=
prev=
for arg in "$@"; do
  case "$arg" in
    -c|-E|-S|-M|-MM|-fsyntax-only) mode=compile ;;
    --version|-v|-dumpversion|-dumpmachine|-print-*) [ "$mode" = link ] && mode=query ;;
    *.S|*.s|*.sx) asm=1 ;;
    assembler*) [ "$prev" = -x ] && asm=1 ;;
  esac
  prev=$arg
done
us=$(printf '\037')
line="$mode$us$PWD"
for arg in "$@"; do line="$line$us$arg"; done
printf '%s\n' "$line" >> "$log"
if [ -n "$asm" ]; then
  # `-include HEADER` is for C sources (`[c] cflags` reach assembler files through CFLAGS too):
  # an assembler file cannot read a C header.
  skip=
  for arg in "$@"; do
    shift
    if [ -n "$skip" ]; then skip=; continue; fi
    case "$arg" in
      -include) skip=1; continue ;;
      -include*) continue ;;
    esac
    set -- "$@" "$arg"
  done
fi
case "$mode" in
  compile) exec {cc} {compile} "$@" ;;
  link) {link_step} ;;
  *) exec {cc} {target} "$@" ;;
esac
"#,
        log = shell_quote(log.as_os_str()),
        cc = quoted(&toolchain.cc),
        compile = quoted(compile),
        target = quoted(target),
        link_step = match launcher {
            None => format!(
                "exec {} {} \"$@\" {}",
                quoted(&toolchain.cc),
                quoted(compile),
                quoted(link)
            ),
            Some(launcher) => format!(
                "out=a.out; prev=\n    for arg in \"$@\"; do [ \"$prev\" = -o ] && out=$arg; prev=$arg; done\n    \
                 {} {} \"$@\" {} || exit $?\n    \
                 mv -f \"$out\" \"$out.wasm\" && cp -f {} \"$out\" && chmod +x \"$out\"",
                quoted(&toolchain.cc),
                quoted(compile),
                quoted(link),
                shell_quote(launcher.as_os_str())
            ),
        },
    );
    write_script(path, &text)
}

/// One call recorded by [`compiler_wrapper`]: `args` starts with the folder it ran in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub mode: String,
    pub args: Vec<String>,
}

/// A folder with `ar` and `ranlib` for the toolchain, to put first on make's PATH: makefiles
/// spell the archiver in many ways (`AR = ar rc`, `$(AR) rcs`, make's default `ar`), and all of
/// them must reach an archiver that writes the index wasm-ld reads.
pub fn archiver_dir(toolchain: &CToolchain, dir: &Path) -> Result<PathBuf> {
    fs_err::create_dir_all(dir)?;
    for (name, words) in [("ar", &toolchain.ar), ("ranlib", &toolchain.ranlib)] {
        write_script(
            &dir.join(name),
            &format!("#!/bin/sh\nexec {} \"$@\"\n", quoted(words)),
        )?;
    }
    Ok(dir.to_owned())
}

/// The calls in a wrapper's log.
pub fn read_log(log: &Path) -> Vec<Recorded> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split('\u{1f}');
            let mode = parts.next()?.to_string();
            Some(Recorded {
                mode,
                args: parts.map(str::to_string).collect(),
            })
        })
        .collect()
}

/// The flags that build setjmp/longjmp on WebAssembly exception handling.
#[derive(Debug, Clone)]
pub struct SetjmpFlags {
    pub compile: Vec<String>,
    pub link: Vec<String>,
}

/// The LLVM major version of a toolchain's clang (`clang version 22.1.8`), cached.
fn llvm_major(tc: &CToolchain, reporter: &dyn Reporter) -> Option<u32> {
    if tc.flavor == CFlavor::Clang {
        return tc
            .version
            .strip_prefix("clang ")
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse().ok());
    }
    let key = format!("llvm-major {:?}", tc.cc);
    if let Some(major) = crate::cache::load::<u32>(crate::cache::Section::Probes, &key) {
        return Some(major);
    }
    let mut tool = Tool::new(&tc.cc[0], "");
    tool.args(&tc.cc[1..]).arg("--version");
    let out = tool.output(reporter).ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let major: u32 = text
        .lines()
        .find_map(|l| l.split("clang version ").nth(1))
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.trim().parse().ok())?;
    let stamp = which::which(&tc.cc[0])
        .map(|p| vec![crate::cache::Stamp::of(&p)])
        .unwrap_or_default();
    crate::cache::store(crate::cache::Section::Probes, &key, stamp, &major);
    Some(major)
}

/// Whether a toolchain can build setjmp/longjmp for Wasmtime, and with which flags; else why not.
///
/// LLVM lowers them to exception handling (`-mllvm -wasm-enable-sjlj`); only LLVM 20 and newer
/// emit the standard `exnref` instructions Wasmtime runs (older ones the legacy proposal). The
/// runtime (`__wasm_setjmp`, `__wasm_longjmp`) is in zig's bundled wasi-libc, and in
/// `libsetjmp.a` of newer wasi-libc sysroots.
pub fn setjmp_flags(
    tc: &CToolchain,
    reporter: &dyn Reporter,
) -> std::result::Result<SetjmpFlags, String> {
    let major = llvm_major(tc, reporter).ok_or("its LLVM version is unknown")?;
    if major < 20 {
        return Err(format!(
            "LLVM {major} has no setjmp/longjmp for WebAssembly that Wasmtime runs (LLVM 20+ is needed)"
        ));
    }
    let compile: Vec<String> = [
        "-mllvm",
        "-wasm-enable-sjlj",
        "-mllvm",
        "-wasm-use-legacy-eh=false",
        "-mexception-handling",
    ]
    .map(String::from)
    .to_vec();
    let mut link = compile.clone();
    if tc.flavor != CFlavor::Zig {
        let sysroot = tc.sysroot.clone().unwrap_or_else(|| PathBuf::from("/usr"));
        let has_runtime = [
            "lib/wasm32-wasi",
            "lib/wasm32-wasip1",
            "lib/wasm32-wasi/lib",
        ]
        .iter()
        .any(|d| sysroot.join(d).join("libsetjmp.a").is_file());
        if !has_runtime {
            return Err(format!(
                "its wasi-libc ({}) has no setjmp runtime (libsetjmp.a)",
                sysroot.display()
            ));
        }
        link.push("-lsetjmp".into());
    }
    Ok(SetjmpFlags { compile, link })
}

/// The first installed toolchain that builds setjmp/longjmp, in discovery order.
pub fn setjmp_toolchain(reporter: &dyn Reporter) -> Option<CToolchain> {
    let env = SearchEnv::from_process();
    ["wasi-sdk", "clang", "zig"].iter().find_map(|name| {
        let tc = probe::discover(Some(name), &env, reporter).ok()?;
        setjmp_flags(&tc, reporter).is_ok().then_some(tc)
    })
}

/// Compiles `source` (C or assembly, written under `dir` by content) into an object once.
fn support_object(
    job: &Job<'_>,
    tc: &CToolchain,
    triple: &str,
    file_name: &str,
    source: &str,
    flags: &[String],
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    let dir = job
        .work_dir()
        .join("c-support")
        .join(format!("{}-{triple}", tc.flavor.name()));
    fs_err::create_dir_all(&dir)?;
    let hash = &sha256_hex(format!("{source}\n{:?}\n{flags:?}", tc.cc).as_bytes())[..16];
    let (stem, ext) = file_name.rsplit_once('.').unwrap_or((file_name, "c"));
    let object = dir.join(format!("{stem}-{hash}.o"));
    if object.is_file() {
        return Ok(object);
    }
    let src = dir.join(format!("{stem}-{hash}.{ext}"));
    write_if_changed(&src, source)?;
    let tmp = dir.join(format!("{stem}-{hash}.o.{}.tmp", std::process::id()));
    let mut cc = Tool::new(&tc.cc[0], "");
    cc.args(&tc.cc[1..])
        .args(tc.target_args(triple))
        .args(flags)
        .args(["-O2", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&tmp);
    cc.output(reporter)?;
    fs_err::rename(&tmp, &object)?;
    Ok(object)
}

/// The exception tag `longjmp` throws, defined weakly: LLVM 22 stopped defining it in every
/// object and left it to the C library, which zig's bundled wasi-libc does not yet do (its link
/// fails with "undefined symbol: __c_longjmp"). A library that defines it wins over this one.
pub fn longjmp_tag_object(
    job: &Job<'_>,
    tc: &CToolchain,
    triple: &str,
    flags: &[String],
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    const TAG: &str = "\t.tagtype __c_longjmp i32\n\t.weak __c_longjmp\n__c_longjmp:\n";
    support_object(job, tc, triple, "c_longjmp.s", TAG, flags, reporter)
}

/// What code compiled with common hardening flags expects from the C library and Debian's
/// wasi-libc lacks: `-fstack-protector*` (CMake projects such as cJSON add it) needs
/// `__stack_chk_guard` and `__stack_chk_fail`. Weak, so a C library that has them wins; unused,
/// the linker drops them. The guard is a constant: in WebAssembly a smashed stack cannot redirect
/// a return (return addresses are not in linear memory), so the canary only detects corruption.
pub fn compat_object(
    job: &Job<'_>,
    tc: &CToolchain,
    triple: &str,
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    const COMPAT: &str = "/* Written by wasmforge: runtime support wasi-libc lacks (weak). */\n\
__attribute__((weak)) unsigned long __stack_chk_guard = 0x9e3779b9UL;\n\
__attribute__((weak, noreturn)) void __stack_chk_fail(void) {\n    __builtin_trap(); /* stack smashing detected */\n}\n";
    support_object(job, tc, triple, "compat.c", COMPAT, &[], reporter)
}

/// `cabi_realloc` over the program's own `malloc`, exported, for a C program that becomes a
/// WASI 0.2 component: the preview 1 adapter then takes its memory from the C heap. Without it
/// the adapter grows the memory for itself before the program starts, and a wasi-libc whose
/// `malloc` takes everything up to the initial memory size as its own (Debian's, which has no
/// `__heap_end`) hands out the adapter's page: a large enough allocation overwrites the
/// adapter's state, and the next WASI call traps ("assertion failed at adapter line …"). Weak:
/// a definition of the program's own (wit-bindgen's, a newer wasi-libc's) wins.
pub fn cabi_realloc_object(
    job: &Job<'_>,
    tc: &CToolchain,
    triple: &str,
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    const CABI_REALLOC: &str = "/* Written by wasmforge: the component model's allocator over malloc, for the WASI 0.2\n   adapter (weak: the program's own wins). */\n#include <stdlib.h>\n__attribute__((weak, export_name(\"cabi_realloc\")))\nvoid *cabi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {\n    (void)old_size;\n    if (new_size == 0) return (void *)align;\n    void *ret = realloc(ptr, new_size);\n    if (!ret) abort();\n    return ret;\n}\n";
    support_object(
        job,
        tc,
        triple,
        "cabi-realloc.c",
        CABI_REALLOC,
        &[],
        reporter,
    )
}

/// A folder whose `wasm-opt` does nothing, for clang's link (`-B DIR`): an optimizing clang
/// runs the first `wasm-opt` it finds on the module it links, which strips the names wasmforge's
/// own optimizer and a trap's backtrace use, and an old one (Debian's Binaryen 108) rejects
/// features the compiler emits. wasmforge optimizes afterwards with the features read from the
/// code. (clang 20 has `--no-wasm-opt`; this works with every clang.)
pub fn no_wasm_opt_dir(job: &Job<'_>) -> Result<PathBuf> {
    const SHIM: &str = "#!/bin/sh\n# Written by wasmforge: clang's link runs `wasm-opt` when it finds one; wasmforge\n# optimizes the module itself afterwards.\nexit 0\n";
    let dir = job.work_dir().join("c-support").join("no-wasm-opt");
    let shim = dir.join("wasm-opt");
    if std::fs::read_to_string(&shim).ok().as_deref() != Some(SHIM) {
        fs_err::create_dir_all(&dir)?;
        crate::files::write_atomic_mode(&shim, SHIM.as_bytes(), 0o755)?;
    }
    Ok(dir)
}

/// Stubs for functions wasi-libc declares but cannot define, each failing the way the C
/// standard allows, so the program runs until it calls one.
pub fn stubs_object(
    job: &Job<'_>,
    tc: &CToolchain,
    triple: &str,
    names: &[String],
    reporter: &dyn Reporter,
) -> Result<PathBuf> {
    let mut source = String::from(
        "/* Written by wasmforge: `[c] stubs` in wasmforge.toml. WASI preview 1 cannot provide\n   these; each fails as the C standard allows. */\n#include <errno.h>\n#include <stddef.h>\ntypedef struct _IO_FILE FILE;\n",
    );
    for name in names {
        source.push_str(match name.as_str() {
            "system" => "int system(const char *command) {\n    if (command == NULL) return 0; /* no command processor */\n    errno = ENOSYS;\n    return -1;\n}\n",
            "tmpfile" => "FILE *tmpfile(void) {\n    errno = ENOTSUP;\n    return NULL;\n}\n",
            "tmpnam" => "char *tmpnam(char *s) {\n    (void)s;\n    errno = ENOTSUP;\n    return NULL;\n}\n",
            _ => "",
        });
    }
    support_object(job, tc, triple, "stubs.c", &source, &[], reporter)
}
