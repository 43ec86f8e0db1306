//! The `git` binary, for what gitops does not do with gix: fetch, checkout,
//! merge (`git merge-tree`), push. Never prompts: `GIT_TERMINAL_PROMPT=0`, no
//! standard input.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::error::{refused, remote};

/// A `git` command run in `dir`.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .env("GCM_INTERACTIVE", "never")
        .stdin(Stdio::null());
    cmd
}

fn output(mut cmd: Command) -> Result<Output> {
    cmd.output().map_err(not_run)
}

/// The error for a `git` that could not be started.
fn not_run(e: std::io::Error) -> anyhow::Error {
    refused(format!("could not run `git`: {e}"))
        .hint("install git (2.38 or newer) and make sure it is on PATH")
        .into()
}

/// Runs a `git` that talks to `remote_name` (fetch, push), for at most the
/// network time limit ([`crate::limits`]). git's own HTTP low-speed limit is set
/// to the same (give up when under 1 byte/s for that long); past the limit the
/// command is stopped with every process it started (it runs in a process group
/// of its own, which also gets Ctrl-C) and fails as a remote failure.
fn network_output(cmd: Command, remote_name: &str) -> Result<Output> {
    let limit = crate::limits::network_timeout();
    network_output_within(cmd, remote_name, limit)
}

fn network_output_within(mut cmd: Command, remote_name: &str, limit: Duration) -> Result<Output> {
    use std::os::unix::process::CommandExt;
    let secs = limit.as_secs().max(1).to_string();
    cmd.env("GIT_HTTP_LOW_SPEED_LIMIT", "1")
        .env("GIT_HTTP_LOW_SPEED_TIME", &secs)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(not_run)?;
    let group = crate::interrupt::Group::register(child.id());
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let id = child.id();
    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    let status = match wait.recv_timeout(limit) {
        Ok(status) => status.context("waiting for `git`")?,
        Err(_) => {
            let pid =
                nix::unistd::Pid::from_raw(i32::try_from(id).expect("process ids fit in i32"));
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = wait.recv();
            drop(group);
            return Err(remote(format!(
                "`{remote_name}` did not answer within {secs} s"
            ))
            .hint(format!(
                "check the network and `git remote get-url {remote_name}`; {} sets the limit in seconds",
                crate::limits::TIMEOUT_VAR
            ))
            .into());
        }
    };
    drop(group);
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// The last non-empty line of git's stderr: usually the one that says why.
pub fn reason(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or(lines.last())
        .map(|l| l.to_string())
        .unwrap_or_else(|| format!("git exited with {}", out.status))
}

/// A `git` working in the background while the run goes on, its output
/// discarded: waited for when dropped, so that none outlives gitops.
pub struct Background(std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.wait();
    }
}

/// Starts git with `args` in the background: for work whose failure only
/// costs time (see [`super::Repo::load_graph`]). None when git could not be
/// started.
pub fn spawn_quiet(dir: &Path, args: &[&str]) -> Option<Background> {
    let mut cmd = command(dir);
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    cmd.spawn().ok().map(Background)
}

/// Runs git with `args`; stdout on success, an error with git's reason otherwise.
pub fn run(dir: &Path, args: &[&str]) -> Result<String> {
    run_env(dir, args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<String> {
    let mut cmd = command(dir);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    stdout_of(output(cmd)?, args)
}

/// git's stdout when it succeeded, else an error with git's reason.
fn stdout_of(out: Output, args: &[&str]) -> Result<String> {
    if !out.status.success() {
        anyhow::bail!("`git {}` failed: {}", args.join(" "), reason(&out));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// [`run`] for a command that talks to `remote_name`, within the network time
/// limit (see [`network_output`]).
pub fn run_remote(dir: &Path, args: &[&str], remote_name: &str) -> Result<String> {
    let mut cmd = command(dir);
    cmd.args(args);
    stdout_of(network_output(cmd, remote_name)?, args)
}

/// Fetches a remote, pruning branches deleted there. A failure is a remote failure
/// (exit 3) that names the remote and git's reason.
pub fn fetch(dir: &Path, remote_name: &str) -> Result<()> {
    let mut cmd = command(dir);
    cmd.args(["fetch", "--prune", "--quiet", remote_name]);
    let out = network_output(cmd, remote_name)?;
    if !out.status.success() {
        return Err(remote(format!("could not fetch `{remote_name}`: {}", reason(&out)))
            .hint(format!("check the network and `git remote get-url {remote_name}`; --no-fetch (or --offline) uses what was fetched last"))
            .into());
    }
    Ok(())
}

/// Paths with uncommitted changes to tracked files (staged or not).
pub fn dirty_tracked_files(dir: &Path) -> Result<Vec<String>> {
    let text = run(
        dir,
        &["status", "--porcelain=v1", "-z", "--untracked-files=no"],
    )?;
    let mut out = Vec::new();
    let mut fields = text.split('\0');
    while let Some(entry) = fields.next() {
        if entry.len() < 4 {
            continue;
        }
        let status = &entry[..2];
        out.push(entry[3..].to_owned());
        if status.starts_with('R') || status.starts_with('C') {
            // Renames carry the original path as the next field.
            if let Some(orig) = fields.next() {
                out.push(orig.to_owned());
            }
        }
    }
    Ok(out)
}

/// Whether `git check-ref-format --branch` accepts `name`.
pub fn check_branch_name(dir: &Path, name: &str) -> Result<bool> {
    let mut cmd = command(dir);
    cmd.args(["check-ref-format", "--branch", name]);
    let out = output(cmd).context("checking the branch name")?;
    Ok(out.status.success())
}

/// Pushes `refspecs` to `remote_name`. Rejections are remote failures with git's reason.
pub fn push(dir: &Path, remote_name: &str, refspecs: &[String]) -> Result<()> {
    let mut cmd = command(dir);
    cmd.arg("push")
        .arg("--porcelain")
        .arg(remote_name)
        .args(refspecs);
    let out = network_output(cmd, remote_name)?;
    if !out.status.success() {
        let refused = push_refusal(&out, remote_name, None);
        return Err(remote(format!(
            "could not push to `{remote_name}`: {}",
            refused.why
        ))
        .hint(refused.hint)
        .into());
    }
    Ok(())
}

/// Why a push was refused, in the remote's own words where it gave some, and
/// what to do about it.
#[derive(Debug, PartialEq, Eq)]
pub struct PushRefusal {
    pub why: String,
    pub hint: String,
}

/// The `remote:` lines of a push's output: what the server (a hook, a rule)
/// said, without the prefix, blank lines and rulers. At most `max` lines of at
/// most 200 characters each.
pub fn remote_lines(text: &str, max: usize) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim_end().strip_prefix("remote:"))
        .map(str::trim)
        .filter(|l| l.chars().any(char::is_alphanumeric))
        .take(max)
        .map(|l| {
            if l.chars().count() > 200 {
                format!("{}…", l.chars().take(200).collect::<String>())
            } else {
                l.to_owned()
            }
        })
        .collect()
}

/// Classifies a refused push from everything git printed (`all`): a race
/// (another push came first), a protected branch, a hook that declined, or
/// another refusal; `branch` is the branch gitops owns and pushed with a lease.
pub fn classify_push_refusal(
    all: &str,
    last: &str,
    remote_name: &str,
    branch: Option<&str>,
) -> PushRefusal {
    let said = remote_lines(all, 3);
    let words = if said.is_empty() {
        String::new()
    } else {
        format!(" ({remote_name} said: {})", said.join(" / "))
    };
    let what = branch.map_or("the branch".to_owned(), |b| format!("`{b}`"));
    if all.contains("stale info")
        || all.contains("fetch first")
        || all.contains("non-fast-forward")
        || all.contains("cannot lock ref")
        || all.contains("failed to update ref")
    {
        return match branch {
            Some(_) => PushRefusal {
                why: format!("{what} changed on {remote_name} while this run was pushing: another push came first{words}"),
                hint: "run the command again: it fetches and builds on what is there now".to_owned(),
            },
            None => PushRefusal {
                why: format!("{remote_name} has commits this push does not{words}"),
                hint: "bring them in (`git pull --rebase` on your branch), then run the command again".to_owned(),
            },
        };
    }
    if all.contains("rotected branch") || all.contains("GH006") || all.contains("GH013") {
        return PushRefusal {
            why: format!("{what} is protected on {remote_name}{words}"),
            hint: match branch {
                Some(b) => format!("let gitops push `{b}`: exempt `gitops/*` from the branch protection rule or ruleset that matches it"),
                None => "ask an administrator to let you push these branches, or create them on the forge".to_owned(),
            },
        };
    }
    if all.contains("hook declined") || all.contains("pre-receive") || all.contains("update hook") {
        return PushRefusal {
            why: format!("a hook on {remote_name} declined the push{words}"),
            hint: "do what the hook's message asks (or ask who runs the server), then run the command again".to_owned(),
        };
    }
    PushRefusal {
        why: if said.is_empty() {
            last.to_owned()
        } else {
            format!("{last}{words}")
        },
        hint: "check that you may push to origin, then run the command again".to_owned(),
    }
}

fn push_refusal(out: &Output, remote_name: &str, branch: Option<&str>) -> PushRefusal {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    classify_push_refusal(&all, &reason(out), remote_name, branch)
}

/// The result of merging two commits in the object store (`git merge-tree
/// --write-tree`): the merged tree (with conflict markers in conflicted files)
/// and the paths that conflict. Nothing is checked out.
#[derive(Debug, Clone)]
pub struct MergeTree {
    pub tree: String,
    pub conflicts: Vec<String>,
    /// The kinds of conflict git reported (`content`, `modify/delete`, ...), by path.
    pub kinds: Vec<(String, String)>,
}

/// Merges `theirs` into `ours` without a working tree (git 2.38 or newer).
pub fn merge_tree(dir: &Path, ours: &str, theirs: &str) -> Result<MergeTree> {
    let mut cmd = command(dir);
    cmd.args([
        "-c",
        "merge.conflictStyle=diff3",
        "merge-tree",
        "--write-tree",
        "--name-only",
        "-z",
        ours,
        theirs,
    ]);
    let out = output(cmd)?;
    // 0: clean, 1: conflicts; anything else is a failure.
    if !matches!(out.status.code(), Some(0 | 1)) {
        let why = reason(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Name the real cause: an old git does not know `--write-tree`; a
        // repository gitops may not write to fails with the system's words.
        if stderr.contains("write-tree") || stderr.contains("usage: git merge-tree") {
            return Err(refused(format!(
                "`git merge-tree --write-tree` is not known to this git: {why}"
            ))
            .hint("install git 2.38 or newer")
            .into());
        }
        anyhow::bail!("`git merge-tree` failed: {why}");
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut parts = text.split('\0');
    let tree = parts.next().unwrap_or_default().trim().to_owned();
    let mut conflicts = Vec::new();
    for name in parts.by_ref() {
        if name.is_empty() {
            break;
        }
        conflicts.push(name.to_owned());
    }
    // Then: <count> NUL <path>... NUL <type> NUL <message> NUL, repeated.
    let rest: Vec<&str> = parts.collect();
    let mut kinds = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let Ok(count) = rest[i].trim_start_matches('\n').parse::<usize>() else {
            break;
        };
        let paths = &rest[i + 1..(i + 1 + count).min(rest.len())];
        let kind = rest.get(i + 1 + count).copied().unwrap_or_default();
        for p in paths {
            kinds.push((p.to_string(), kind.to_owned()));
        }
        i += count + 3;
    }
    Ok(MergeTree {
        tree,
        conflicts,
        kinds,
    })
}

/// Pushes `commit` to `refs/heads/<branch>` on the remote, only if the remote
/// branch is still at `expected` (`None`: it must not exist) — never over
/// someone's work pushed in between.
pub fn push_with_lease(
    dir: &Path,
    remote_name: &str,
    commit: &str,
    branch: &str,
    expected: Option<&str>,
) -> Result<()> {
    let lease = format!(
        "--force-with-lease=refs/heads/{branch}:{}",
        expected.unwrap_or("")
    );
    let refspec = format!("{commit}:refs/heads/{branch}");
    let mut cmd = command(dir);
    cmd.args(["push", "--porcelain", &lease, remote_name, &refspec]);
    let out = network_output(cmd, remote_name)?;
    if !out.status.success() {
        let refused = push_refusal(&out, remote_name, Some(branch));
        return Err(
            remote(format!("could not push `{branch}`: {}", refused.why))
                .hint(refused.hint)
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What git 2.47 prints for a push a pre-receive hook declines (stderr,
    /// then the porcelain lines on stdout).
    const HOOK: &str = "remote: Pushes to stage are frozen until the 2.4 release.        \nremote: \nremote: ----\nTo /srv/git/shop-config.git\n!\tHEAD:refs/heads/gitops/promote-dev-to-stage\t[remote rejected] (pre-receive hook declined)\nDone\nerror: failed to push some refs to '/srv/git/shop-config.git'\n";
    const GH006: &str = "remote: error: GH006: Protected branch update failed for refs/heads/stage.\nremote: error: Changes must be made through a pull request.\nTo github.com:shop/config.git\n!\trefs/heads/stage:refs/heads/stage\t[remote rejected] (protected branch hook declined)\nerror: failed to push some refs to 'github.com:shop/config.git'\n";
    const RACE: &str = "To /srv/git/shop-config.git\n!\tHEAD:refs/heads/gitops/promote-dev-to-stage\t[rejected] (stale info)\nDone\nerror: failed to push some refs to '/srv/git/shop-config.git'\n";
    const LOCK: &str = "To /srv/git/shop-config.git\n!\tHEAD:refs/heads/gitops/promote-dev-to-stage\t[remote rejected] (cannot lock ref 'refs/heads/gitops/promote-dev-to-stage': is at 1234567 but expected 89abcde)\nerror: failed to push some refs to '/srv/git/shop-config.git'\n";

    #[test]
    fn remote_lines_are_the_servers_words() {
        assert_eq!(
            remote_lines(HOOK, 3),
            ["Pushes to stage are frozen until the 2.4 release."]
        );
        assert_eq!(
            remote_lines(GH006, 1),
            ["error: GH006: Protected branch update failed for refs/heads/stage."]
        );
        assert!(remote_lines(RACE, 3).is_empty());
        let long = format!("remote: {}\n", "x".repeat(500));
        assert_eq!(remote_lines(&long, 3)[0].chars().count(), 201);
    }

    #[test]
    fn refusals_say_why_and_what_to_do() {
        let branch = Some("gitops/promote-dev-to-stage");
        let hook = classify_push_refusal(HOOK, "error: failed to push some refs", "origin", branch);
        assert_eq!(
            hook.why,
            "a hook on origin declined the push (origin said: Pushes to stage are frozen until the 2.4 release.)"
        );
        assert!(
            hook.hint.starts_with("do what the hook's message asks"),
            "{}",
            hook.hint
        );

        let protected = classify_push_refusal(GH006, "", "origin", branch);
        assert!(
            protected.why.starts_with(
                "`gitops/promote-dev-to-stage` is protected on origin (origin said: error: GH006"
            ),
            "{}",
            protected.why
        );
        assert!(
            protected.hint.contains("exempt `gitops/*`"),
            "{}",
            protected.hint
        );
        let protected = classify_push_refusal(GH006, "", "origin", None);
        assert!(
            protected.hint.starts_with("ask an administrator"),
            "{}",
            protected.hint
        );

        for race in [RACE, LOCK] {
            let r = classify_push_refusal(race, "", "origin", branch);
            assert!(r.why.contains("another push came first"), "{}", r.why);
            assert!(r.hint.starts_with("run the command again"), "{}", r.hint);
            let mine = classify_push_refusal(race, "", "origin", None);
            assert_eq!(mine.why, "origin has commits this push does not");
            assert!(mine.hint.contains("git pull --rebase"), "{}", mine.hint);
        }

        let other = classify_push_refusal(
            "remote: quota exceeded\n",
            "error: failed to push some refs",
            "origin",
            None,
        );
        assert_eq!(
            other.why,
            "error: failed to push some refs (origin said: quota exceeded)"
        );
    }
}
