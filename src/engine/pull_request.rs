//! Opening or refreshing the one pull request a branch has — what `promote` and
//! `feature finish` share.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::repo_config::REMOTE;
use crate::config::Config;
use crate::forge::github::{self, AutoMerge, GitHub, MergeMethod, RepoId, RepoSource};
use crate::git::Repo;
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

/// What a command that publishes a branch did (`promote`, `image set`, `feature
/// finish`): the `action` of its `--json` document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Nothing to do: nothing pending, or the tag already in place.
    Nothing,
    /// `--dry-run`: what would be pushed; nothing was.
    Planned,
    /// The branch was pushed; no pull request could be opened (no token, or
    /// origin is not on GitHub).
    Pushed,
    /// The branch, and its pull request if any, were already up to date.
    Unchanged,
    /// The pull request was opened.
    Opened,
    /// The open pull request's title or body was refreshed.
    Updated,
}

impl Action {
    /// The action once the pull request was opened or refreshed (`None`: none
    /// could be). The pull request's news replaces the branch's, except that the
    /// branch's own news (pushed) matters more than an unchanged pull request.
    pub fn then(self, pull: Option<PullAction>) -> Action {
        match (self, pull) {
            (_, None) => self,
            (Action::Pushed, Some(PullAction::Unchanged)) => Action::Pushed,
            (_, Some(pull)) => pull.into(),
        }
    }

    /// The name `--json` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Nothing => "nothing",
            Action::Planned => "planned",
            Action::Pushed => "pushed",
            Action::Unchanged => "unchanged",
            Action::Opened => "opened",
            Action::Updated => "updated",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`upsert`] did to the pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullAction {
    Opened,
    Updated,
    /// Open already, with this title and body.
    Unchanged,
}

impl From<PullAction> for Action {
    fn from(pull: PullAction) -> Action {
        match pull {
            PullAction::Opened => Action::Opened,
            PullAction::Updated => Action::Updated,
            PullAction::Unchanged => Action::Unchanged,
        }
    }
}

/// A pull request, as `--json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// `None` when no pull request could be opened (no token, or no GitHub
    /// repository).
    pub action: Option<PullAction>,
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
                outcome.action = Some(PullAction::Unchanged);
                pull
            } else {
                outcome.action = Some(PullAction::Updated);
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
            outcome.action = Some(PullAction::Opened);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pull_request_news_replaces_the_branch_news_unless_it_is_unchanged_after_a_push() {
        use Action::*;
        let cases = [
            (Pushed, None, Pushed),
            (Unchanged, None, Unchanged),
            (Pushed, Some(PullAction::Unchanged), Pushed),
            (Pushed, Some(PullAction::Opened), Opened),
            (Pushed, Some(PullAction::Updated), Updated),
            (Unchanged, Some(PullAction::Unchanged), Unchanged),
            (Unchanged, Some(PullAction::Opened), Opened),
            (Unchanged, Some(PullAction::Updated), Updated),
        ];
        for (branch, pull, want) in cases {
            assert_eq!(branch.then(pull), want, "{branch} then {pull:?}");
        }
    }

    #[test]
    fn actions_are_named_in_json_as_the_readme_documents() {
        use Action::*;
        for action in [Nothing, Planned, Pushed, Unchanged, Opened, Updated] {
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
            assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), action);
        }
    }
}
