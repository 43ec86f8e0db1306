//! Opening or refreshing the one pull (GitLab: merge) request a branch has —
//! what `promote`, `feature finish` and `image set` share — through the forge
//! seam ([`crate::forge`]), whichever forge the repository is on.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::repo_config::REMOTE;
use crate::config::Config;
use crate::forge::{self, AutoMerge, Change, Connection, Forge, Kind, NewChange};
use crate::git::Repo;
use crate::ui::Ui;

/// The forge's client for the repository (from `.gitops.yaml`, the `origin`
/// URL and the environment; see [`forge::connect`]), or why there is none.
pub fn connect(repo: &Repo, config: &Config) -> Result<Connection> {
    forge::connect(repo.remote_url(REMOTE).as_deref(), &config.forge)
}

/// The forge the repository is on ([`forge::kind`]), for wording.
pub fn forge_kind(repo: &Repo, config: &Config) -> Kind {
    forge::kind(repo.remote_url(REMOTE).as_deref(), &config.forge)
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

/// A pull (or merge) request, as `--json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullOut {
    pub number: u64,
    pub url: String,
    /// `github` or `gitlab`.
    pub forge: Kind,
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

/// What happened on the forge.
pub struct Outcome {
    /// `None` when no pull request could be opened (no token, or no project on
    /// a forge).
    pub action: Option<PullAction>,
    pub pull: Option<PullOut>,
    /// Where to open it by hand, without a token.
    pub compare_url: Option<String>,
}

/// Opens the pull (GitLab: merge) request from `head` into `base`, or
/// refreshes the open one (title and body, only when they changed): one request
/// when nothing changed, two when something did. Without a token it says where
/// to open it, as `git push` does.
pub fn upsert(repo: &Repo, config: &Config, ui: &Ui, want: &Wanted) -> Result<Outcome> {
    let mut outcome = Outcome {
        action: None,
        pull: None,
        compare_url: None,
    };
    let forge = match connect(repo, config)? {
        Connection::Ready(forge) => forge,
        Connection::NoProject => {
            ui.note(&format!(
                "origin is not on GitHub or GitLab and .gitops.yaml names no repository: open the {} from {} into {} by hand.",
                forge_kind(repo, config).change(),
                want.head,
                want.base
            ));
            return Ok(outcome);
        }
        Connection::NoToken(located) => {
            let url = located.open_by_hand_url(want.base, want.head);
            ui.note(&format!(
                "No {} token ({}): open the {} at\n  {url}",
                located.kind,
                located.kind.token_places(),
                located.kind.change()
            ));
            outcome.compare_url = Some(url);
            return Ok(outcome);
        }
    };
    let forge = forge.as_ref();
    let change = match forge.find_open(want.head, want.base)? {
        Some(change) => {
            let change =
                if change.title == want.title && change.body.trim_end() == want.body.trim_end() {
                    outcome.action = Some(PullAction::Unchanged);
                    change
                } else {
                    outcome.action = Some(PullAction::Updated);
                    forge.retitle(&change, want.title, want.body)?
                };
            // Labels go on last when a pull request is opened: missing ones mean an
            // earlier run stopped part-way, so finish what it started.
            let missing_labels = want.labels.iter().any(|l| !change.labels.contains(l));
            if missing_labels {
                request_reviews(forge, ui, &change, want)?;
            }
            if want.auto_merge && !change.auto_merge {
                enable_auto_merge(forge, ui, &change)?;
            }
            if missing_labels {
                forge.add_labels(&change, want.labels)?;
            }
            change
        }
        None => {
            let change = forge.open(&NewChange {
                title: want.title,
                body: want.body,
                head: want.head,
                base: want.base,
                draft: want.draft,
            })?;
            request_reviews(forge, ui, &change, want)?;
            if want.auto_merge {
                enable_auto_merge(forge, ui, &change)?;
            }
            forge.add_labels(&change, want.labels)?;
            outcome.action = Some(PullAction::Opened);
            change
        }
    };
    let kind = forge.kind();
    let noun = kind.change();
    ui.note(&format!(
        "{}{} {}: {}",
        noun[..1].to_ascii_uppercase(),
        &noun[1..],
        kind.reference(change.number),
        change.url
    ));
    outcome.pull = Some(PullOut {
        number: change.number,
        url: change.url,
        forge: kind,
    });
    Ok(outcome)
}

fn request_reviews(forge: &dyn Forge, ui: &Ui, change: &Change, want: &Wanted) -> Result<()> {
    let reviewers: Vec<String> = want
        .reviewers
        .iter()
        .filter(|r| !r.eq_ignore_ascii_case(&change.author))
        .cloned()
        .collect();
    for skipped in forge.request_reviewers(change, &reviewers)? {
        ui.warn(&format!("review not requested from {skipped}"));
    }
    Ok(())
}

fn enable_auto_merge(forge: &dyn Forge, ui: &Ui, change: &Change) -> Result<()> {
    let kind = forge.kind();
    match (forge.enable_auto_merge(change)?, kind) {
        (AutoMerge::Enabled, Kind::GitHub) => ui.note("Auto-merge enabled: GitHub merges it once checks and reviews pass."),
        (AutoMerge::Enabled, Kind::GitLab) => ui.note("Set to merge when the pipeline succeeds."),
        (AutoMerge::NotAllowed(why), Kind::GitHub) => ui.warn(&format!(
            "auto-merge could not be enabled ({why}); allow it in the repository's settings (General → Pull Requests → Allow auto-merge)"
        )),
        (AutoMerge::NotAllowed(why), Kind::GitLab) => ui.warn(&format!(
            "GitLab would not merge {} when the pipeline succeeds ({why}); check the project's merge settings (Settings → Merge requests) and that it runs a pipeline",
            kind.reference(change.number)
        )),
        (AutoMerge::Clean(_), _) => ui.note(&format!("The {} can be merged now.", kind.change())),
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
