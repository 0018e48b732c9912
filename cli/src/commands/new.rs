//! `wasmforge new`: a project that builds, validates and runs out of the box, with CI.

use std::path::{Path, PathBuf};

use wasmforge_build::project::Lang;

use crate::exit::ExitStatus;
use crate::output::Ctx;

/// Where the GitHub Action lives (`uses: OWNER/REPO@v1`): the one place it is named.
pub const GITHUB_ACTION: &str = "wasmforge/wasmforge";
/// Where the GitLab CI/CD component lives (`component: HOST/PROJECT/NAME@1`).
pub const GITLAB_COMPONENT: &str = "gitlab.com/wasmforge/wasmforge/wasmforge";

/// Create a new project: Rust, Go or C, a command or a library, with CI
///
/// The project builds, validates and runs with wasmforge as it is, and has a wasmforge.toml, a
/// .gitignore and (unless --ci none) a CI file that uses the wasmforge GitHub Action or GitLab
/// CI component. A folder that exists and is not empty is refused unless --force (which
/// writes the template's files and leaves the others alone).
///
/// Examples:
///   wasmforge new hello --lang rust
///   wasmforge new plugin --lang go --kind library --ci gitlab
///   wasmforge new tool --lang c --name my-tool --ci none
///   wasmforge new api --lang rust --kind http
///   wasmforge new shop --kind app          a gateway (Rust) and services in C and Go
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The folder to create
    #[arg(value_name = "PATH")]
    path: PathBuf,
    /// Language: rust, go or c (not for an app, whose services use all three)
    #[arg(long, value_name = "LANG")]
    lang: Option<Lang>,
    /// command (with `_start`), library (exported functions), plugin (a WASI 0.2 component
    /// exporting a WIT world: wit/world.wit), http (a WASI 0.2 HTTP component) or app (HTTP
    /// services in Rust, C and Go served together; --lang does not apply)
    #[arg(long, value_name = "KIND", default_value = "command", value_parser = ["command", "library", "plugin", "http", "app"])]
    kind: String,
    /// Project name (default: the folder's name)
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// CI file to add: github (.github/workflows/wasm.yml), gitlab (.gitlab-ci.yml) or none
    /// (an app gets none: its services are projects of their own)
    #[arg(long, value_name = "CI", default_value = "github", value_parser = ["github", "gitlab", "none"])]
    ci: String,
    /// Write into a folder that is not empty
    #[arg(long)]
    force: bool,
}

/// A template file: its path in the project and its text.
type File = (String, &'static str);

macro_rules! template {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../templates/", $path))
    };
}

/// `files` and, in `folder`, the WIT of an HTTP component made without a generator of its own
/// (C, Go): the world (`include wasi:http/proxy`) and the WASI packages it uses.
fn with_http_wit(folder: &str, mut files: Vec<File>) -> Vec<File> {
    let wit: [(&str, &'static str); 8] = [
        ("world.wit", template!("projects/http-wit/world.wit")),
        ("deps/cli.wit", template!("projects/http-wit/deps/cli.wit")),
        (
            "deps/clocks.wit",
            template!("projects/http-wit/deps/clocks.wit"),
        ),
        (
            "deps/filesystem.wit",
            template!("projects/http-wit/deps/filesystem.wit"),
        ),
        (
            "deps/http.wit",
            template!("projects/http-wit/deps/http.wit"),
        ),
        ("deps/io.wit", template!("projects/http-wit/deps/io.wit")),
        (
            "deps/random.wit",
            template!("projects/http-wit/deps/random.wit"),
        ),
        (
            "deps/sockets.wit",
            template!("projects/http-wit/deps/sockets.wit"),
        ),
    ];
    files.extend(
        wit.into_iter()
            .map(|(path, text)| (format!("{folder}wit/{path}"), text)),
    );
    files
}

/// The files of an app (`--kind app`): a gateway in Rust, a service in C and one in Go.
fn app_files() -> Vec<File> {
    let files: [(&str, &'static str); 10] = [
        ("wasmforge.toml", template!("projects/app/wasmforge.toml")),
        ("README.md", template!("projects/app/README.md")),
        (
            "gateway/Cargo.toml",
            template!("projects/app/gateway/Cargo.toml"),
        ),
        (
            "gateway/src/main.rs",
            template!("projects/app/gateway/src/main.rs"),
        ),
        (
            "gateway/wasmforge.toml",
            template!("projects/app/gateway/wasmforge.toml"),
        ),
        (
            "users/src/users.c",
            template!("projects/app/users/src/users.c"),
        ),
        (
            "users/wasmforge.toml",
            template!("projects/app/users/wasmforge.toml"),
        ),
        ("greet/go.mod", template!("projects/app/greet/go.mod")),
        ("greet/main.go", template!("projects/app/greet/main.go")),
        (
            "greet/wasmforge.toml",
            template!("projects/app/greet/wasmforge.toml"),
        ),
    ];
    let files = files.map(|(path, text)| (path.to_string(), text)).to_vec();
    with_http_wit("greet/", with_http_wit("users/", files))
}

fn project_files(lang: Lang, kind: &str) -> Vec<File> {
    if kind == "app" {
        return app_files();
    }
    let files: Vec<File> = language_files(lang, kind)
        .into_iter()
        .map(|(path, text)| (path.to_string(), text))
        .collect();
    if kind == "http" && lang != Lang::Rust {
        with_http_wit("", files)
    } else {
        files
    }
}

fn language_files(lang: Lang, kind: &str) -> Vec<(&'static str, &'static str)> {
    match (lang, kind) {
        (Lang::Rust, "plugin") => vec![
            ("Cargo.toml", template!("projects/rust-plugin/Cargo.toml")),
            ("src/lib.rs", template!("projects/rust-plugin/src/lib.rs")),
            (
                "wit/world.wit",
                template!("projects/rust-plugin/wit/world.wit"),
            ),
            (
                "wasmforge.toml",
                template!("projects/rust-plugin/wasmforge.toml"),
            ),
            ("README.md", template!("projects/rust-plugin/README.md")),
        ],
        (Lang::C, "http") => vec![
            ("src/http.c", template!("projects/c-http/src/http.c")),
            (
                "wasmforge.toml",
                template!("projects/c-http/wasmforge.toml"),
            ),
            ("README.md", template!("projects/c-http/README.md")),
        ],
        (Lang::Go, "http") => vec![
            ("go.mod", template!("projects/go-http/go.mod")),
            ("main.go", template!("projects/go-http/main.go")),
            ("main_test.go", template!("projects/go-http/main_test.go")),
            (
                "wasmforge.toml",
                template!("projects/go-http/wasmforge.toml"),
            ),
            ("README.md", template!("projects/go-http/README.md")),
        ],
        (Lang::C, "plugin") => vec![
            ("src/plugin.c", template!("projects/c-plugin/src/plugin.c")),
            (
                "wit/world.wit",
                template!("projects/c-plugin/wit/world.wit"),
            ),
            (
                "wasmforge.toml",
                template!("projects/c-plugin/wasmforge.toml"),
            ),
            ("README.md", template!("projects/c-plugin/README.md")),
        ],
        (Lang::Go, "plugin") => vec![
            ("go.mod", template!("projects/go-plugin/go.mod")),
            ("main.go", template!("projects/go-plugin/main.go")),
            ("main_test.go", template!("projects/go-plugin/main_test.go")),
            (
                "wit/world.wit",
                template!("projects/go-plugin/wit/world.wit"),
            ),
            (
                "wasmforge.toml",
                template!("projects/go-plugin/wasmforge.toml"),
            ),
            ("README.md", template!("projects/go-plugin/README.md")),
        ],
        (Lang::Rust, "http") => vec![
            ("Cargo.toml", template!("projects/rust-http/Cargo.toml")),
            ("src/main.rs", template!("projects/rust-http/src/main.rs")),
            (
                "wasmforge.toml",
                template!("projects/rust-http/wasmforge.toml"),
            ),
            ("README.md", template!("projects/rust-http/README.md")),
        ],
        (Lang::Rust, "command") => vec![
            ("Cargo.toml", template!("projects/rust-command/Cargo.toml")),
            (
                "src/main.rs",
                template!("projects/rust-command/src/main.rs"),
            ),
            (
                "wasmforge.toml",
                template!("projects/rust-command/wasmforge.toml"),
            ),
            ("README.md", template!("projects/rust-command/README.md")),
        ],
        (Lang::Rust, _) => vec![
            ("Cargo.toml", template!("projects/rust-library/Cargo.toml")),
            ("src/lib.rs", template!("projects/rust-library/src/lib.rs")),
            (
                "wasmforge.toml",
                template!("projects/rust-library/wasmforge.toml"),
            ),
            ("README.md", template!("projects/rust-library/README.md")),
        ],
        (Lang::Go, "command") => vec![
            ("go.mod", template!("projects/go-command/go.mod")),
            ("main.go", template!("projects/go-command/main.go")),
            (
                "main_test.go",
                template!("projects/go-command/main_test.go"),
            ),
            (
                "wasmforge.toml",
                template!("projects/go-command/wasmforge.toml"),
            ),
            ("README.md", template!("projects/go-command/README.md")),
        ],
        (Lang::Go, _) => vec![
            ("go.mod", template!("projects/go-library/go.mod")),
            ("main.go", template!("projects/go-library/main.go")),
            (
                "main_test.go",
                template!("projects/go-library/main_test.go"),
            ),
            (
                "wasmforge.toml",
                template!("projects/go-library/wasmforge.toml"),
            ),
            ("README.md", template!("projects/go-library/README.md")),
        ],
        (Lang::C, "command") => vec![
            ("src/main.c", template!("projects/c-command/src/main.c")),
            (
                "wasmforge.toml",
                template!("projects/c-command/wasmforge.toml"),
            ),
            ("README.md", template!("projects/c-command/README.md")),
        ],
        (Lang::C, _) => vec![
            ("src/lib.c", template!("projects/c-library/src/lib.c")),
            (
                "wasmforge.toml",
                template!("projects/c-library/wasmforge.toml"),
            ),
            ("README.md", template!("projects/c-library/README.md")),
        ],
    }
}

/// Why `name` cannot name a project in `lang`, if it cannot (the language's own rule).
fn check_name(name: &str, lang: Lang) -> Result<(), String> {
    wasmforge_build::lang::of(lang).check_name(name)?;
    if name.len() > 64 {
        return Err("at most 64 characters".into());
    }
    Ok(())
}

fn fill(text: &str, name: &str) -> String {
    text.replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('-', "_"))
        .replace("{{github_action}}", GITHUB_ACTION)
        .replace("{{github_repo}}", GITHUB_ACTION)
        .replace("{{gitlab_component}}", GITLAB_COMPONENT)
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let lang = match (args.lang, args.kind == "app") {
        (Some(lang), false) => lang,
        (None, true) => Lang::C,
        (None, false) => {
            return Err(usage(
                "the project's language is missing",
                "say it with --lang rust, --lang go or --lang c",
            ));
        }
        (Some(_), true) => {
            return Err(usage(
                "--lang does not apply to an app: its services are in Rust, C and Go",
                "leave out --lang (or make a single service with --kind http --lang LANG)",
            ));
        }
    };
    let name = match &args.name {
        Some(name) => name.clone(),
        // `new .` (or `new ../x/`) is named after the folder it really is.
        None => std::path::absolute(&args.path)
            .ok()
            .and_then(|p| {
                p.components()
                    .filter(|c| !matches!(c, std::path::Component::CurDir))
                    .fold(Vec::new(), |mut acc, c| {
                        match c {
                            std::path::Component::ParentDir => {
                                acc.pop();
                            }
                            other => acc.push(other.as_os_str().to_owned()),
                        }
                        acc
                    })
                    .pop()
            })
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if let Err(why) = check_name(&name, lang) {
        return Err(usage(
            format!(
                "`{name}` cannot name a {} project: {why}",
                if args.kind == "app" {
                    "an app's"
                } else {
                    lang.display_name()
                }
            ),
            "pass another name with --name NAME",
        ));
    }
    if args.path.exists() {
        if !args.path.is_dir() {
            return Err(usage(
                format!("`{}` exists and is not a folder", args.path.display()),
                "choose a new folder",
            ));
        }
        let empty = std::fs::read_dir(&args.path)?.next().is_none();
        if !empty && !args.force {
            return Err(usage(
                format!("`{}` is not empty", args.path.display()),
                "choose a new folder, or pass --force to add the template's files to it (others are left alone)",
            ));
        }
    }
    let mut files: Vec<(String, String)> = project_files(lang, &args.kind)
        .into_iter()
        .map(|(path, text)| (path.to_string(), fill(text, &name)))
        .collect();
    files.push((
        ".gitignore".into(),
        template!("projects/gitignore").to_string(),
    ));
    // An app's folder is not one project: the CI templates build one.
    let ci = if args.kind == "app" {
        "none"
    } else {
        args.ci.as_str()
    };
    match ci {
        "github" => files.push((
            ".github/workflows/wasm.yml".into(),
            fill(template!("ci/github.yml"), &name),
        )),
        "gitlab" => files.push((
            ".gitlab-ci.yml".into(),
            fill(template!("ci/gitlab.yml"), &name),
        )),
        _ => {}
    }
    // Everything is checked before anything is written: no half-made project.
    for (relative, _) in &files {
        let path = args.path.join(relative);
        if path.is_dir() {
            return Err(usage(
                format!(
                    "`{}` is a folder, and the template has a file there",
                    path.display()
                ),
                "move it away, or create the project in a new folder",
            ));
        }
        let mut parent = path.parent();
        while let Some(dir) = parent {
            if dir == args.path.as_path() || dir.as_os_str().is_empty() {
                break;
            }
            if dir.exists() && !dir.is_dir() {
                return Err(usage(
                    format!(
                        "`{}` is a file, and the template needs a folder there",
                        dir.display()
                    ),
                    "move it away, or create the project in a new folder",
                ));
            }
            parent = dir.parent();
        }
    }
    for (relative, text) in &files {
        let path = args.path.join(relative);
        // A folder's own README is the user's: --force adds the template's files, never
        // replaces that one.
        if *relative == "README.md" && path.exists() {
            ctx.status(
                "Kept",
                &format!(
                    "{} (the template's README.md is not written)",
                    path.display()
                ),
            );
            continue;
        }
        write(&path, text)?;
    }
    let what = if args.kind == "app" {
        "app (Rust, C and Go services)".to_string()
    } else {
        format!("{} {}", lang.display_name(), args.kind)
    };
    ctx.status(
        "Created",
        &format!("{what} `{name}` in {}", args.path.display()),
    );
    if !ctx.quiet {
        let run = match args.kind.as_str() {
            "library" => "wasmforge run --invoke add … 2 40",
            "plugin" => "wasmforge run --invoke 'wasmforge:plugin/transform#transform' . '\"abc\"'",
            "http" | "app" => "wasmforge serve",
            _ => "wasmforge run .",
        };
        let cd = if args.path == Path::new(".") {
            String::new()
        } else {
            format!("cd {} && ", args.path.display())
        };
        if args.kind == "http" || args.kind == "app" {
            anstream::eprintln!(
                "{:>12} {cd}{run}    (or `wasmforge dev`: rebuilt on every change)",
                "Next:"
            );
        } else {
            anstream::eprintln!("{:>12} {cd}wasmforge build && {run}", "Next:");
        }
    }
    Ok(ExitStatus::Success)
}

/// A usage error (exit 2), reported as every error is (text, and JSON with --format json).
fn usage(message: impl Into<String>, hint: &str) -> anyhow::Error {
    crate::exit::UsageError {
        message: message.into(),
        hint: hint.into(),
    }
    .into()
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    wasmforge_build::files::write_atomic(path, text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The action's and component's location is this file's constants, and the files that name
    /// it agree.
    #[test]
    fn ci_files_name_the_action_defined_here() {
        let workflow = template!("ci/github-workflow.yml");
        assert!(workflow.contains(&format!("uses: {GITHUB_ACTION}@v1")));
        let script = template!("github/action.sh");
        assert!(
            script.contains(&format!(":-{GITHUB_ACTION}}}")),
            "action.sh's default repository"
        );
        assert!(
            fill(template!("ci/github.yml"), "x").contains(&format!("uses: {GITHUB_ACTION}@v1"))
        );
        assert!(
            fill(template!("ci/gitlab.yml"), "x")
                .contains(&format!("component: {GITLAB_COMPONENT}@1"))
        );
    }

    #[test]
    fn names_are_checked_per_language() {
        assert!(check_name("hello-world", Lang::Rust).is_ok());
        assert!(check_name("fn", Lang::Rust).is_err());
        assert!(check_name("1abc", Lang::Rust).is_err());
        assert!(check_name("my tool", Lang::C).is_err());
        assert!(check_name("MyMod", Lang::Go).is_err());
        assert!(check_name("my.mod", Lang::Go).is_ok());
        assert!(check_name("my.mod", Lang::Rust).is_err());
    }

    #[test]
    fn every_template_fills_without_leftover_placeholders() {
        for lang in [Lang::Rust, Lang::Go, Lang::C] {
            for kind in ["command", "library", "plugin", "http", "app"] {
                for (path, text) in project_files(lang, kind) {
                    let filled = fill(text, "demo-app");
                    assert!(
                        !filled.contains("{{name")
                            && !filled.contains("{{crate")
                            && !filled.contains("{{git"),
                        "{path}"
                    );
                }
            }
        }
    }
}
