//! The `git` binary, for what gitops does not do with gix: fetch, checkout,
//! merge (`git merge-tree`), push. Never prompts: `GIT_TERMINAL_PROMPT=0`, no
//! standard input.

use std::path::Path;
use std::process::{Command, Output, Stdio};

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
    cmd.output().map_err(|e| {
        refused(format!("could not run `git`: {e}"))
            .hint("install git (2.38 or newer) and make sure it is on PATH")
            .into()
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
    let out = output(cmd)?;
    if !out.status.success() {
        anyhow::bail!("`git {}` failed: {}", args.join(" "), reason(&out));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Fetches a remote, pruning branches deleted there. A failure is a remote failure
/// (exit 3) that names the remote and git's reason.
pub fn fetch(dir: &Path, remote_name: &str) -> Result<()> {
    let mut cmd = command(dir);
    cmd.args(["fetch", "--prune", "--quiet", remote_name]);
    let out = output(cmd)?;
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
    let out = output(cmd)?;
    if !out.status.success() {
        return Err(remote(format!("could not push to `{remote_name}`: {}", reason(&out)))
            .hint("check that origin is reachable and that you may push there, then run the command again")
            .into());
    }
    Ok(())
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
        anyhow::bail!(
            "`git merge-tree` failed: {} (git 2.38 or newer is needed)",
            reason(&out)
        );
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
    let out = output(cmd)?;
    if !out.status.success() {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let (why, hint) = if all.contains("stale info")
            || all.contains("fetch first")
            || all.contains("non-fast-forward")
        {
            (
                format!("`{branch}` changed on {remote_name} since it was fetched"),
                "run the command again: it fetches and builds the branch afresh".to_owned(),
            )
        } else if all.contains("rotected branch") || all.contains("GH006") {
            (
                format!("`{branch}` is protected on {remote_name}"),
                format!("let gitops push `{branch}`: exempt `gitops/*` from the branch protection rule that matches it"),
            )
        } else {
            (
                reason(&out),
                "check that origin is reachable and that you may push there, then run the command again".to_owned(),
            )
        };
        return Err(remote(format!("could not push `{branch}`: {why}"))
            .hint(hint)
            .into());
    }
    Ok(())
}
