//! A sealed environment for running the real `gitops` binary and the real `git`
//! on temporary repositories: a temporary HOME, no global or system git config,
//! fixed identities and dates, a fixed "now", no colour, no GitHub token and no
//! proxy (the environment is cleared: a developer's `HTTPS_PROXY` does not reach
//! the doubles on 127.0.0.1).

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// A GitHub response body as GitHub documents it: `tests/fixtures/github/NAME.json`
/// (the sources are in that folder's README).
pub fn github_fixture(name: &str) -> serde_json::Value {
    let file = format!(
        "{}/tests/fixtures/github/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

pub mod github;
pub mod gitlab;

/// A wiremock server on its own small runtime: the binary under test blocks,
/// so a double cannot share the test's thread. The forge doubles deref to it.
pub struct Served {
    pub runtime: tokio::runtime::Runtime,
    pub server: wiremock::MockServer,
}

impl Served {
    pub fn start() -> Served {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(wiremock::MockServer::start());
        Served { runtime, server }
    }

    pub fn mount(&self, mock: wiremock::Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<wiremock::Request> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap()
    }

    /// `METHOD /path` of every request received so far (the path as sent).
    pub fn calls(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect()
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }
}
pub mod proxy;
pub mod registry;
pub mod shapes;
pub mod verify;

// Not every test binary promotes.
#[allow(unused_imports)]
pub use verify::promote_and_verify;

/// "Now" for the binary (`GITOPS_NOW`); quickstart dates its commits from it.
pub const NOW: &str = "1790000000";
/// The date of every commit the tests make themselves.
pub const DATE: &str = "1789990000 +0000";

/// A temporary directory with its own HOME; every process runs sealed in it.
pub struct TestEnv {
    dir: TempDir,
    home: PathBuf,
}

/// What a process did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Parses stdout as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Parses stdout into the command's own output type
    /// (`gitops::engine::overview::Status`, ...), and checks that the type is the
    /// whole document: written back, it is the same JSON, field for field.
    pub fn parse<T: serde::de::DeserializeOwned + serde::Serialize>(&self) -> T {
        let value = self.json();
        let typed: T = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not a {} ({e}):\n{}\nstderr:\n{}",
                std::any::type_name::<T>(),
                self.stdout,
                self.stderr
            )
        });
        assert_eq!(
            serde_json::to_value(&typed).expect("serializes"),
            value,
            "{} written back is not the document printed",
            std::any::type_name::<T>()
        );
        typed
    }

    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code {} (want {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Asserts a refusal: exit 2, exactly one `error:` line first on stderr, and a
    /// `hint:` line. Returns the error line.
    pub fn refused(&self) -> String {
        self.expect(2);
        self.error_line()
    }

    /// The one `error:` line of stderr, with a `hint:` line after it.
    pub fn error_line(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let errors: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with("error:"))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "one `error:` line on stderr:\n{}",
            self.stderr
        );
        let at = errors[0];
        assert!(
            lines[at + 1..]
                .iter()
                .any(|l| l.trim_start().starts_with("hint:")),
            "a `hint:` line after the error:\n{}",
            self.stderr
        );
        lines[at].to_owned()
    }

    /// The text of the `hint:` line.
    pub fn hint(&self) -> String {
        self.stderr
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("hint:"))
            .unwrap_or_else(|| panic!("no hint on stderr:\n{}", self.stderr))
            .trim()
            .to_owned()
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("gitops-test")
            .tempdir()
            .expect("temporary directory");
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".config")).expect("HOME");
        TestEnv { dir, home }
    }

    /// The temporary directory everything lives in.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The sealed HOME (where `~/.docker/config.json` is read).
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// A new empty directory under the temporary root.
    pub fn mkdir(&self, name: &str) -> PathBuf {
        let path = self.root().join(name);
        std::fs::create_dir_all(&path).expect("mkdir");
        path
    }

    /// A new empty directory that is in no git repository.
    pub fn plain_dir(&self, name: &str) -> PathBuf {
        let dir = self.mkdir(name);
        let probe = self.try_git(&dir, &["rev-parse", "--git-dir"]);
        assert_ne!(
            probe.code,
            0,
            "{} is inside a git repository: set TMPDIR outside any repository",
            dir.display()
        );
        dir
    }

    /// A command with nothing from the caller's environment but PATH.
    pub fn command(&self, program: impl AsRef<OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_AUTHOR_DATE", DATE)
            .env("GIT_COMMITTER_NAME", "Test Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.com")
            .env("GIT_COMMITTER_DATE", DATE)
            .env("GITOPS_NOW", NOW)
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C")
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_API_URL")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `gitops ARGS` in `dir`.
    pub fn gitops(&self, dir: &Path, args: &[&str]) -> Run {
        let out = self
            .command(env!("CARGO_BIN_EXE_gitops"), dir)
            .args(args)
            .output()
            .expect("running gitops");
        Run::from(out)
    }

    /// Runs `gitops ARGS` in `dir` with extra environment variables (a token, a
    /// GitHub double's URL).
    #[allow(dead_code)]
    pub fn gitops_with(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_gitops"), dir);
        cmd.args(args).env("GITOPS_RETRY_BASE_MS", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("running gitops"))
    }

    /// Runs `git ARGS` in `dir`, whatever its outcome.
    pub fn try_git(&self, dir: &Path, args: &[&str]) -> Run {
        let out = self
            .command("git", dir)
            .args(args)
            .output()
            .expect("running git");
        Run::from(out)
    }

    /// Runs `git ARGS` in `dir`; it must succeed. Returns stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let run = self.try_git(dir, args);
        assert_eq!(
            run.code,
            0,
            "git {} failed in {}:\n{}",
            args.join(" "),
            dir.display(),
            run.stderr
        );
        run.stdout
    }

    /// `git rev-parse REV`, trimmed.
    pub fn rev(&self, dir: &Path, rev: &str) -> String {
        self.git(dir, &["rev-parse", "--verify", rev])
            .trim()
            .to_owned()
    }

    /// The quickstart sample: `root/sample/origin.git` and `root/sample/shop-config`.
    pub fn quickstart(&self) -> Sample {
        let base = self.root().join("sample");
        self.gitops(
            self.root(),
            &["quickstart", base.to_str().expect("UTF-8 path")],
        )
        .expect(0);
        Sample {
            repo: base.join("shop-config"),
            origin: base.join("origin.git"),
        }
    }

    /// A second clone of `origin`, on `branch`.
    pub fn clone(&self, origin: &Path, name: &str, branch: &str) -> PathBuf {
        let path = self.root().join(name);
        self.git(
            self.root(),
            &[
                "clone",
                "--quiet",
                "--branch",
                branch,
                origin.to_str().expect("UTF-8 path"),
                path.to_str().expect("UTF-8 path"),
            ],
        );
        path
    }

    /// Writes `text` to `path` under `repo`, commits everything and returns the commit.
    /// Names octocat/Hello-World (the GitHub double's repository) in the
    /// `.gitops.yaml` on `origin`'s dev, through a clone called `clone`.
    pub fn name_github_repository(&self, origin: &Path, clone: &str) {
        let dev = self.clone(origin, clone, "dev");
        let config = self.git(&dev, &["show", "HEAD:.gitops.yaml"]);
        self.commit_file(
            &dev,
            ".gitops.yaml",
            &format!("{config}github:\n  repository: octocat/Hello-World\n"),
            "Name the GitHub repository",
        );
        self.git(&dev, &["push", "--quiet", "origin", "dev"]);
    }

    pub fn commit_file(&self, repo: &Path, path: &str, text: &str, message: &str) -> String {
        let file = repo.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&file, text).expect("write");
        self.git(repo, &["add", "--all"]);
        self.git(repo, &["commit", "--quiet", "--no-gpg-sign", "-m", message]);
        self.rev(repo, "HEAD")
    }

    /// Everything a refusal must leave as it was: every ref, HEAD, the state of the
    /// working tree (with untracked files).
    pub fn state(&self, repo: &Path) -> String {
        let refs = self.git(repo, &["for-each-ref", "--format=%(refname) %(objectname)"]);
        let head = self.try_git(repo, &["symbolic-ref", "-q", "HEAD"]).stdout;
        let head_id = self.try_git(repo, &["rev-parse", "HEAD"]).stdout;
        let status = self.git(repo, &["status", "--porcelain", "--untracked-files=all"]);
        format!("{refs}\nHEAD {head}{head_id}\n{status}")
    }

    /// Every ref of a (bare) repository.
    pub fn refs(&self, repo: &Path) -> String {
        self.git(repo, &["for-each-ref", "--format=%(refname) %(objectname)"])
    }
}

/// The quickstart sample.
pub struct Sample {
    /// The clone, on `dev`.
    pub repo: PathBuf,
    /// The bare origin.
    pub origin: PathBuf,
}

/// The environments of a `status --json` document, by name.
pub fn env<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["environments"]
        .as_array()
        .expect("environments is an array")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no environment `{name}` in {status:#}"))
}

/// The strings of a JSON array.
pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("not a string: {v}"))
                .to_owned()
        })
        .collect()
}

/// A server on 127.0.0.1 that accepts every connection and never answers (an
/// origin or a GitHub that hangs), as `http://127.0.0.1:PORT`. It lives as long
/// as the test process.
pub fn silent_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a local port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // accepted, never answered
        }
    });
    url
}

/// Installs a pre-receive hook in the bare repository `origin` that prints
/// `message` (as `remote:` lines reach the pusher) and refuses every push.
pub fn refuse_pushes(origin: &Path, message: &str) {
    use std::os::unix::fs::PermissionsExt;
    let hook = origin.join("hooks/pre-receive");
    std::fs::write(&hook, format!("#!/bin/sh\necho '{message}' >&2\nexit 1\n")).expect("hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
