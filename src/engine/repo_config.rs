//! The configuration and the remote as a repository has them: `.gitops.yaml`
//! read from what `origin` has (never the working tree), `origin` required,
//! branches tracking it.

use anyhow::Result;

use crate::config::{self, Config};
use crate::error::refused;
use crate::git::{self, Oid, Repo};

pub const REMOTE: &str = "origin";

/// Refuses a repository without an `origin` remote (exit 2).
pub fn require_origin(repo: &Repo) -> Result<()> {
    if repo.remote_url(REMOTE).is_none() {
        return Err(refused("this repository has no remote named `origin`")
            .hint("add it with `git remote add origin URL`, then `git fetch origin`")
            .into());
    }
    Ok(())
}

/// Sets `branch` to push to and pull from `origin/<branch>`, as `git push -u` does.
pub fn track(repo: &Repo, branch: &str) -> Result<()> {
    git::cli::run(
        &repo.dir,
        &["config", &format!("branch.{branch}.remote"), REMOTE],
    )?;
    git::cli::run(
        &repo.dir,
        &[
            "config",
            &format!("branch.{branch}.merge"),
            &format!("refs/heads/{branch}"),
        ],
    )?;
    Ok(())
}

/// Reads `.gitops.yaml` from what `origin` has, never from the user's working
/// tree: `origin/HEAD`, else the first default environment branch on origin, else
/// the committed HEAD, else the defaults.
pub fn load_config(repo: &Repo) -> Result<(Config, String)> {
    let mut candidates: Vec<(String, Option<Oid>)> = Vec::new();
    if let Some(branch) = repo.remote_default_branch(REMOTE) {
        candidates.push((
            format!("{REMOTE}/{branch}"),
            repo.remote_branch(REMOTE, &branch)?,
        ));
    }
    let first = &Config::default().environments[0].branch;
    candidates.push((
        format!("{REMOTE}/{first}"),
        repo.remote_branch(REMOTE, first)?,
    ));
    candidates.push(("HEAD".to_owned(), repo.head_commit()));
    for (label, commit) in candidates {
        let Some(commit) = commit else { continue };
        if let Some(parsed) = config_at(repo, commit, &label)? {
            let cfg = parsed.map_err(|e| {
                refused(e.to_string()).hint(format!(
                    "fix {} on {label} through a pull request",
                    config::FILE
                ))
            })?;
            return Ok((cfg, format!("{label}:{}", config::FILE)));
        }
    }
    Ok((Config::default(), "defaults (no .gitops.yaml)".to_owned()))
}

/// `.gitops.yaml` as committed in `commit` (`label` names it in errors, e.g.
/// `origin/dev`): `None` when the commit has no such file.
pub fn config_at(
    repo: &Repo,
    commit: Oid,
    label: &str,
) -> Result<Option<Result<Config, config::ConfigError>>> {
    let tree = repo.commit(commit)?.tree;
    let Some(blob) = repo.file_at(tree, config::FILE)? else {
        // Something else than a file by that name is a mistake to name, not a
        // missing file to fall back from.
        if let Some(kind) = repo.entry_kind_at(tree, config::FILE)? {
            return Err(
                refused(format!("{label}:{} is a {kind}, not a file", config::FILE))
                    .hint(format!(
                        "make {} a plain YAML file on {label} (through a pull request)",
                        config::FILE
                    ))
                    .into(),
            );
        }
        return Ok(None);
    };
    let size = repo.blob_size(blob)?;
    if size > crate::limits::MAX_FILE_BYTES {
        return Err(refused(format!(
            "{label}:{} is {}, over the {} limit for a configuration",
            config::FILE,
            crate::limits::megabytes(size),
            crate::limits::megabytes(crate::limits::MAX_FILE_BYTES),
        ))
        .hint("a configuration is a few kilobytes: check what was committed")
        .into());
    }
    let bytes = repo.blob(blob)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(Some(Config::parse(
        &text,
        &format!("{label}:{}", config::FILE),
    )))
}
