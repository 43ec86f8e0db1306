//! The `git` binary, for what the object store alone cannot do: fetch, checkout,
//! commit, push. Never prompts: `GIT_TERMINAL_PROMPT=0`, no standard input.

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
