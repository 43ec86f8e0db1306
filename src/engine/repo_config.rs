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
    let (config, source, _) = load_config_text(repo)?;
    Ok((config, source))
}

/// [`load_config`], with the text of the file in use (`None`: the defaults).
pub fn load_config_text(repo: &Repo) -> Result<(Config, String, Option<Vec<u8>>)> {
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
        if let Some((parsed, text)) = config_text_at(repo, commit, &label)? {
            let cfg = parsed.map_err(|e| {
                refused(e.to_string()).hint(format!(
                    "fix {} on {label} through a {}",
                    config::FILE,
                    change_by_origin(repo)
                ))
            })?;
            return Ok((cfg, format!("{label}:{}", config::FILE), Some(text)));
        }
    }
    Ok((
        Config::default(),
        "defaults (no .gitops.yaml)".to_owned(),
        None,
    ))
}

/// What the forge that `origin` names calls a change request, for messages
/// about the configuration itself (which may be the thing that is broken).
pub fn change_by_origin(repo: &Repo) -> &'static str {
    crate::forge::kind(repo.remote_url(REMOTE).as_deref(), &Default::default()).change()
}

/// A note for a checkout whose `.gitops.yaml` is not the configuration in use
/// (`in_use`: its text, `None` for the defaults; `source` names it): gitops
/// reads the configuration from origin, so a local edit changes nothing until
/// it is merged. `None` when they are the same or there is no local file.
pub fn checkout_config_note(repo: &Repo, in_use: Option<&[u8]>, source: &str) -> Option<String> {
    if !repo.has_workdir() {
        return None;
    }
    let local = std::fs::read(repo.dir.join(config::FILE)).ok()?;
    if in_use == Some(local.as_slice()) {
        return None;
    }
    Some(format!(
        "Your checkout's {0} differs from the configuration in use ({source}): gitops reads it from origin, so a local edit counts once it is merged through a {1} (and `git pull` brings origin's here); to try it first: gitops check --config {0}",
        config::FILE,
        change_by_origin(repo)
    ))
}

/// `.gitops.yaml` as committed in `commit` (`label` names it in errors, e.g.
/// `origin/dev`): `None` when the commit has no such file.
pub fn config_at(
    repo: &Repo,
    commit: Oid,
    label: &str,
) -> Result<Option<Result<Config, config::ConfigError>>> {
    Ok(config_text_at(repo, commit, label)?.map(|(parsed, _)| parsed))
}

/// [`config_at`], with the file's text.
#[allow(clippy::type_complexity)]
fn config_text_at(
    repo: &Repo,
    commit: Oid,
    label: &str,
) -> Result<Option<(Result<Config, config::ConfigError>, Vec<u8>)>> {
    let tree = repo.commit(commit)?.tree;
    let Some(blob) = repo.file_at(tree, config::FILE)? else {
        // Something else than a file by that name is a mistake to name, not a
        // missing file to fall back from.
        if let Some(kind) = repo.entry_kind_at(tree, config::FILE)? {
            return Err(
                refused(format!("{label}:{} is a {kind}, not a file", config::FILE))
                    .hint(format!(
                        "make {} a plain YAML file on {label} (through a {})",
                        config::FILE,
                        change_by_origin(repo)
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
    let parsed = Config::parse(&text, &format!("{label}:{}", config::FILE));
    Ok(Some((parsed, bytes)))
}
