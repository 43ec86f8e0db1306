//! Opening or refreshing the one pull request a promotion branch has — the part
//! `promote` (and later `feature finish` and `image set`) share.

use anyhow::Result;

use super::promote::{PromoteOut, PullOut};
use super::workspace::{Workspace, REMOTE};
use crate::config::{Environment, Promotion};
use crate::github::{self, AutoMerge, GitHub, MergeMethod, RepoId, RepoSource};
use crate::ui::Ui;

/// The GitHub repository: `github.repository` in the config, else the one the
/// `origin` URL names. `None` when neither names one (a local origin, say).
pub fn repository(ws: &Workspace) -> Result<Option<(RepoId, RepoSource)>> {
    let from_origin = ws
        .repo
        .remote_url(REMOTE)
        .and_then(|url| github::parse_remote(&url));
    if let Some(value) = &ws.config.github.repository {
        let host = from_origin
            .as_ref()
            .map_or("github.com", |r| r.host.as_str());
        return Ok(Some((
            RepoId::from_config(value, host)?,
            RepoSource::Config,
        )));
    }
    Ok(from_origin.map(|r| (r, RepoSource::Origin)))
}

/// Opens the pull request from `out.branch` into `to`, or refreshes the open one
/// (title and body, only when they changed). Without a token it says where to open
/// it, as `git push` does on GitHub.
pub fn open_or_refresh(
    ws: &mut Workspace,
    ui: &Ui,
    out: &mut PromoteOut,
    body: &str,
    to: &Environment,
    draft: bool,
) -> Result<()> {
    let branch = out.branch.clone().expect("a pushed branch");
    let title = out.title.clone().unwrap_or_default();
    let Some((repo, source)) = repository(ws)? else {
        ui.note(&format!(
            "origin is not on GitHub and .gitops.yaml names no github.repository: open the pull request from {branch} into {} by hand.",
            to.branch
        ));
        return Ok(());
    };
    let Some(gh) = GitHub::from_env(repo.clone(), source)? else {
        let url = repo.compare_url(&to.branch, &branch);
        ui.note(&format!(
            "No GitHub token (GH_TOKEN, GITHUB_TOKEN or `gh auth login`): open the pull request at\n  {url}"
        ));
        out.compare_url = Some(url);
        return Ok(());
    };
    let pull = match gh.find_open_pull(&branch, &to.branch)? {
        Some(pull) => {
            if pull.title != title || pull.body.trim_end() != body.trim_end() {
                let pull = gh.update_pull(pull.number, &title, body)?;
                out.action = "updated";
                pull
            } else {
                pull
            }
        }
        None => {
            let pull = gh.create_pull(&title, body, &branch, &to.branch, draft)?;
            gh.add_labels(pull.number, &ws.config.github.labels)?;
            let reviewers: Vec<String> = ws
                .config
                .github
                .reviewers
                .iter()
                .filter(|r| !r.eq_ignore_ascii_case(&pull.author))
                .cloned()
                .collect();
            gh.request_reviewers(pull.number, &reviewers)?;
            if to.promotion == Promotion::AutoMerge {
                match gh.enable_auto_merge(&pull.node_id, MergeMethod::Merge)? {
                    AutoMerge::Enabled => ui.note("Auto-merge enabled: GitHub merges it once checks and reviews pass."),
                    AutoMerge::NotAllowed(why) => ui.warn(&format!(
                        "auto-merge could not be enabled ({why}); allow it in the repository's settings (General → Pull Requests → Allow auto-merge)"
                    )),
                    AutoMerge::Clean(_) => ui.note("The pull request can be merged now."),
                }
            }
            out.action = "opened";
            pull
        }
    };
    ui.note(&format!("Pull request #{}: {}", pull.number, pull.url));
    out.pull_request = Some(PullOut {
        number: pull.number,
        url: pull.url,
    });
    Ok(())
}
