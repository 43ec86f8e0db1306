//! Opening or refreshing the one pull request a branch has — what `promote` and
//! `feature finish` share.

use anyhow::Result;
use serde::Serialize;

use super::workspace::REMOTE;
use crate::config::Config;
use crate::git::Repo;
use crate::github::{self, AutoMerge, GitHub, MergeMethod, RepoId, RepoSource};
use crate::ui::Ui;

/// The GitHub repository: `github.repository` in the config, else the one the
/// `origin` URL names. `None` when neither names one (a local origin, say).
pub fn repository(repo: &Repo, config: &Config) -> Result<Option<(RepoId, RepoSource)>> {
    let from_origin = repo
        .remote_url(REMOTE)
        .and_then(|url| github::parse_remote(&url));
    if let Some(value) = &config.github.repository {
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

/// A pull request, as `--json` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct PullOut {
    pub number: u64,
    pub url: String,
}

/// The pull request wanted.
pub struct Wanted<'a> {
    pub head: &'a str,
    pub base: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub draft: bool,
    pub labels: &'a [String],
    pub reviewers: &'a [String],
    pub auto_merge: bool,
}

/// What happened on GitHub.
pub struct Outcome {
    /// `opened`, `updated` or `unchanged`; `None` when no pull request could be
    /// opened (no token, or no GitHub repository).
    pub action: Option<&'static str>,
    pub pull: Option<PullOut>,
    /// Where to open it by hand, without a token.
    pub compare_url: Option<String>,
}

/// Opens the pull request from `head` into `base`, or refreshes the open one
/// (title and body, only when they changed): one request when nothing changed,
/// two when something did. Without a token it says where to open it, as `git
/// push` does on GitHub.
pub fn upsert(repo: &Repo, config: &Config, ui: &Ui, want: &Wanted) -> Result<Outcome> {
    let mut outcome = Outcome {
        action: None,
        pull: None,
        compare_url: None,
    };
    let Some((id, source)) = repository(repo, config)? else {
        ui.note(&format!(
            "origin is not on GitHub and .gitops.yaml names no github.repository: open the pull request from {} into {} by hand.",
            want.head, want.base
        ));
        return Ok(outcome);
    };
    let Some(gh) = GitHub::from_env(id.clone(), source)? else {
        let url = id.compare_url(want.base, want.head);
        ui.note(&format!(
            "No GitHub token (GH_TOKEN, GITHUB_TOKEN or `gh auth login`): open the pull request at\n  {url}"
        ));
        outcome.compare_url = Some(url);
        return Ok(outcome);
    };
    let pull = match gh.find_open_pull(want.head, want.base)? {
        Some(pull) => {
            let pull = if pull.title == want.title && pull.body.trim_end() == want.body.trim_end() {
                outcome.action = Some("unchanged");
                pull
            } else {
                outcome.action = Some("updated");
                gh.update_pull(pull.number, want.title, want.body)?
            };
            // Labels go on last when a pull request is opened: missing ones mean an
            // earlier run stopped part-way, so finish what it started.
            let missing_labels = want.labels.iter().any(|l| !pull.labels.contains(l));
            if missing_labels {
                request_reviews(&gh, &pull, want)?;
            }
            if want.auto_merge && !pull.auto_merge {
                enable_auto_merge(&gh, ui, &pull)?;
            }
            if missing_labels {
                gh.add_labels(pull.number, want.labels)?;
            }
            pull
        }
        None => {
            let pull = gh.create_pull(want.title, want.body, want.head, want.base, want.draft)?;
            request_reviews(&gh, &pull, want)?;
            if want.auto_merge {
                enable_auto_merge(&gh, ui, &pull)?;
            }
            gh.add_labels(pull.number, want.labels)?;
            outcome.action = Some("opened");
            pull
        }
    };
    ui.note(&format!("Pull request #{}: {}", pull.number, pull.url));
    outcome.pull = Some(PullOut {
        number: pull.number,
        url: pull.url,
    });
    Ok(outcome)
}

fn request_reviews(gh: &GitHub, pull: &github::Pull, want: &Wanted) -> Result<()> {
    let reviewers: Vec<String> = want
        .reviewers
        .iter()
        .filter(|r| !r.eq_ignore_ascii_case(&pull.author))
        .cloned()
        .collect();
    gh.request_reviewers(pull.number, &reviewers)
}

fn enable_auto_merge(gh: &GitHub, ui: &Ui, pull: &github::Pull) -> Result<()> {
    match gh.enable_auto_merge(&pull.node_id, MergeMethod::Merge)? {
        AutoMerge::Enabled => ui.note("Auto-merge enabled: GitHub merges it once checks and reviews pass."),
        AutoMerge::NotAllowed(why) => ui.warn(&format!(
            "auto-merge could not be enabled ({why}); allow it in the repository's settings (General → Pull Requests → Allow auto-merge)"
        )),
        AutoMerge::Clean(_) => ui.note("The pull request can be merged now."),
    }
    Ok(())
}
