//! `gitops image update [--env ENV]... [--image NAME]... [--dry-run] [--json]`:
//! the registry half of the practice. For every team image the environments
//! run, its tags are listed once, all images at once within each registry's
//! cap; [`crate::engine::image_tags::decide_all`] picks, per environment, the
//! tag `image tags` would; and [`super::set_one`] (the work of
//! `image set`) edits, pushes and opens the pull request for each pick. One
//! image's failure is reported on its rows and the others go on.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::cli::Global;
use crate::config::newest::Why;
use crate::engine::image_tags::{self, Ask};
use crate::engine::pull_request::{Action, PullOut};
use crate::engine::snapshot::Snapshot;
use crate::error::{self, refused, remote, Failure, Kind};
use crate::model::image::ImageRef;
use crate::ui::{self, Progress, Tone, Ui};

/// Update every team image (config `images:`) each environment runs to the
/// newest tag its policy accepts in the registry, when newer than the one it
/// runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and
/// one pull request per environment and image, auto-merge per the
/// environment's promotion mode). Each image's tags are listed once for all
/// environments. Exits 3 when a registry or the forge could not be reached, after
/// doing the rest.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Only this environment (repeat for several); all by default.
    #[arg(long = "env", value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::cli::environments))]
    pub envs: Vec<String>,
    /// Only this image: a full name or its last path part, as `image set`
    /// takes it (repeat for several); every team image by default.
    #[arg(long = "image", value_name = "NAME")]
    pub images: Vec<String>,
    /// Show what would be updated; push nothing (no branch, no pull request).
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON document: a row per environment and image.
    #[arg(long)]
    pub json: bool,
}

/// What `image update --json` prints.
#[derive(Debug, Serialize, Deserialize)]
pub struct UpdateOut {
    pub dry_run: bool,
    /// One per environment and image it runs, images in name order,
    /// environments in the config's order.
    pub updates: Vec<UpdateRow>,
}

/// What happened to one image on one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowAction {
    /// No newer tag (see `why`).
    Nothing,
    /// `--dry-run`: would be pushed.
    Planned,
    /// Pushed; no pull request could be opened (no project on a forge, or no token).
    Pushed,
    /// The branch and its pull request were already up to date.
    Unchanged,
    /// Pull request opened.
    Opened,
    /// The open pull request was refreshed.
    Updated,
    /// The registry, the forge or the edit failed: see `error`.
    Failed,
}

impl From<Action> for RowAction {
    fn from(a: Action) -> RowAction {
        match a {
            Action::Nothing => RowAction::Nothing,
            Action::Planned => RowAction::Planned,
            Action::Pushed => RowAction::Pushed,
            Action::Unchanged => RowAction::Unchanged,
            Action::Opened => RowAction::Opened,
            Action::Updated => RowAction::Updated,
        }
    }
}

/// A row of `image update`.
#[derive(Debug, Serialize, Deserialize)]
pub struct UpdateRow {
    pub env: String,
    /// The image's name, as the manifests write it.
    pub image: String,
    /// The tags the environment runs.
    pub running: Vec<String>,
    /// The newest tag its policy accepts (`null`: none, or no order).
    pub newest: Option<String>,
    /// The tag set: the newest, when newer than every tag that runs.
    pub pick: Option<String>,
    /// As `image tags`: `newer`, `current`, `none-accepted`, `unordered`
    /// (`null` when the registry failed).
    pub why: Option<Why>,
    pub action: RowAction,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub pull_request: Option<PullOut>,
    pub compare_url: Option<String>,
    /// What failed, when `action` is `failed`.
    pub error: Option<String>,
}

/// An image in scope: its written name and, per environment index, its tags.
struct InScope {
    name: String,
    running: BTreeMap<usize, BTreeSet<String>>,
}

pub fn run(global: &Global, args: UpdateArgs, ui: &Ui) -> Result<()> {
    let mut ws = Snapshot::open(&global.dir(), ui, true)?;
    if let (false, Some(why)) = (args.dry_run, &ws.not_fetched) {
        return Err(remote(format!(
            "cannot update images without reaching origin: {why}"
        ))
        .hint("check the network; --dry-run shows the updates from what was fetched last")
        .into());
    }
    let mut envs = Vec::new();
    if args.envs.is_empty() {
        envs.extend(0..ws.config.environments.len());
    } else {
        for name in &args.envs {
            let (index, _) = ws.config.environment(name)?;
            if !envs.contains(&index) {
                envs.push(index);
            }
        }
        envs.sort_unstable();
    }

    // The team's images each environment runs, by canonical name.
    let mut scope: BTreeMap<String, InScope> = BTreeMap::new();
    for &index in &envs {
        let tree = ws.branches[index].tree;
        let manifests = ws.manifests(tree)?;
        ws.summarize(manifests.iter().map(|(_, id)| *id))?;
        for (_, id) in manifests.iter() {
            for image in &ws.summary(*id)?.images {
                if !ws.config.is_team_image(&image.name) {
                    continue;
                }
                let r = ImageRef {
                    name: image.name.clone(),
                    tag: None,
                    digest: None,
                };
                let entry = scope.entry(r.canonical_name()).or_insert_with(|| InScope {
                    name: image.name.clone(),
                    running: BTreeMap::new(),
                });
                // The form written, the first in order when there are several.
                if image.name < entry.name {
                    entry.name = image.name.clone();
                }
                let tags = entry.running.entry(index).or_default();
                if let Some(tag) = &image.tag {
                    tags.insert(tag.clone());
                }
            }
        }
    }
    // `--image` narrows, each naming exactly one image.
    if !args.images.is_empty() {
        let mut keep = BTreeSet::new();
        for given in &args.images {
            let matching: Vec<&String> = scope
                .iter()
                .filter(|(_, s)| {
                    ImageRef {
                        name: s.name.clone(),
                        tag: None,
                        digest: None,
                    }
                    .matches(given)
                })
                .map(|(k, _)| k)
                .collect();
            match matching.as_slice() {
                [one] => {
                    keep.insert((*one).clone());
                }
                [] => {
                    let names: Vec<&str> = scope.values().map(|s| s.name.as_str()).collect();
                    return Err(refused(format!(
                        "no environment in scope runs a team image `{given}`"
                    ))
                    .hint(format!(
                        "team images: {}",
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ))
                    .into());
                }
                _ => {
                    return Err(refused(format!("`{given}` names several images"))
                        .hint(format!(
                            "name one in full: {}",
                            matching
                                .iter()
                                .map(|k| scope[*k].name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                        .into())
                }
            }
        }
        scope.retain(|k, _| keep.contains(k));
    }

    // Every image's tags and verdicts at once, within each registry's cap.
    let images: Vec<&InScope> = scope.values().collect();
    let running: Vec<Vec<(usize, Vec<String>)>> = images
        .iter()
        .map(|image| {
            image
                .running
                .iter()
                .map(|(i, tags)| (*i, tags.iter().cloned().collect()))
                .collect()
        })
        .collect();
    let asks: Vec<Ask> = images
        .iter()
        .zip(&running)
        .map(|(image, running)| Ask {
            image: image.name.clone(),
            judged: running
                .iter()
                .map(|(i, tags)| (ws.config.environments[*i].tags.clone(), tags.clone()))
                .collect(),
        })
        .collect();
    // A bar while the registries answer, on a terminal only and never with
    // --json; gone before the updates, whose pushes show their own spinners.
    let progress = if args.json {
        Progress::hidden()
    } else {
        ui.progress(asks.len() as u64, "checking the registries")
    };
    let decided = image_tags::decide_all(&asks, &progress);
    progress.finish();

    let mut rows = Vec::new();
    let mut failed: Vec<Kind> = Vec::new();
    for ((image, running), decided) in images.iter().zip(&running).zip(decided) {
        let row = |index: usize, tags: &[String]| UpdateRow {
            env: ws.config.environments[index].name.clone(),
            image: image.name.clone(),
            running: tags.to_vec(),
            newest: None,
            pick: None,
            why: None,
            action: RowAction::Nothing,
            branch: None,
            commit: None,
            pull_request: None,
            compare_url: None,
            error: None,
        };
        let choices = match decided {
            Ok(d) => d.choices,
            Err(e) => {
                failed.push(e.kind);
                let e = anyhow::Error::new(e);
                for (index, tags) in running {
                    let mut r = row(*index, tags);
                    r.action = RowAction::Failed;
                    r.error = Some(format!("{e:#}"));
                    rows.push(r);
                }
                continue;
            }
        };
        let mut picks = Vec::new();
        for ((index, tags), choice) in running.iter().zip(choices) {
            let mut r = row(*index, tags);
            r.newest = choice.newest;
            r.pick = choice.pick;
            r.why = Some(choice.why);
            if r.pick.is_some() {
                picks.push(rows.len());
            }
            rows.push(r);
        }
        for at in picks {
            let r = &mut rows[at];
            let tag = r.pick.clone().expect("a pick");
            let done = super::set_one(
                &mut ws,
                ui,
                &super::SetRequest {
                    env: &r.env,
                    image: &image.name,
                    tag: &tag,
                    dry_run: args.dry_run,
                    allow_downgrade: false,
                },
            );
            match done {
                Ok(done) => {
                    r.action = done.out.action.into();
                    r.branch = done.out.branch;
                    r.commit = done.out.commit;
                    r.pull_request = done.out.pull_request;
                    r.compare_url = done.out.compare_url;
                }
                Err(e) => {
                    failed.push(kind(&e));
                    r.action = RowAction::Failed;
                    r.error = Some(format!("{e:#}"));
                }
            }
        }
    }

    let out = UpdateOut {
        dry_run: args.dry_run,
        updates: rows,
    };
    if args.json {
        ui.json(&out)?;
    } else {
        ui.out(&render(ui, &out))?;
    }
    if failed.is_empty() {
        return Ok(());
    }
    let failures = out
        .updates
        .iter()
        .filter(|r| r.action == RowAction::Failed)
        .count();
    let message = if failures == out.updates.len() {
        format!("all {failures} updates failed (see their rows)")
    } else {
        format!(
            "{failures} of {} updates failed (see their rows); the others were done",
            out.updates.len()
        )
    };
    // Unreachable registries or GitHub decide the exit code (3) first.
    Err(if failed.contains(&Kind::Remote) {
        remote(message).hint("run `gitops image update` again once they answer")
    } else {
        refused(message).hint("fix what the rows say and run `gitops image update` again")
    }
    .into())
}

/// The kind of a failure: remote (exit 3) or refused (2); an unforeseen error
/// counts as refused here, its message on its row.
fn kind(e: &anyhow::Error) -> Kind {
    match e.chain().find_map(|c| c.downcast_ref::<Failure>()) {
        Some(f) => f.kind,
        None if error::exit_code(e) == error::exit::REMOTE => Kind::Remote,
        None => Kind::Refused,
    }
}

/// The table: env, image, running, newest eligible, action.
pub fn render(ui: &Ui, out: &UpdateOut) -> String {
    if out.updates.is_empty() {
        return "No environment runs a team image.\n".to_owned();
    }
    let mut rows = vec![["ENV", "IMAGE", "RUNNING", "NEWEST ELIGIBLE", "ACTION"]
        .iter()
        .map(|h| (h.to_string(), Tone::Dim))
        .collect::<Vec<_>>()];
    // An image's registry failing fails each of its rows alike: each error is
    // said once, under the table, and the rows point at it.
    let mut errors: Vec<&str> = Vec::new();
    for r in &out.updates {
        let action = match (r.action, &r.pick, r.why) {
            (RowAction::Failed, _, _) => {
                let error = r.error.as_deref().unwrap_or_default();
                let n = match errors.iter().position(|e| *e == error) {
                    Some(i) => i + 1,
                    None => {
                        errors.push(error);
                        errors.len()
                    }
                };
                (format!("failed ({n})"), Tone::Bad)
            }
            (RowAction::Nothing, None, Some(Why::Current)) => ("up to date".to_owned(), Tone::Dim),
            (RowAction::Nothing, None, Some(Why::NoneAccepted)) => {
                ("no tag fits the policy".to_owned(), Tone::Dim)
            }
            (RowAction::Nothing, None, _) => ("nothing newer".to_owned(), Tone::Dim),
            (RowAction::Nothing, Some(tag), _) => (format!("already {tag}"), Tone::Dim),
            (action, Some(tag), _) => {
                let verb = match action {
                    RowAction::Planned => "would set",
                    RowAction::Unchanged => "up to date on branch:",
                    _ => "set",
                };
                let mut text = format!("{verb} {tag}");
                if let Some(branch) = &r.branch {
                    text.push_str(&format!(" on {branch}"));
                }
                match (action, &r.pull_request) {
                    (RowAction::Opened, Some(pr)) => {
                        text.push_str(&format!(", opened {}", pr.forge.reference(pr.number)))
                    }
                    (RowAction::Updated, Some(pr)) => {
                        text.push_str(&format!(", updated {}", pr.forge.reference(pr.number)))
                    }
                    (_, Some(pr)) => text.push_str(&format!(", {}", pr.forge.reference(pr.number))),
                    (RowAction::Pushed, None) => text.push_str(", pushed"),
                    _ => {}
                }
                (text, Tone::Good)
            }
            (_, None, _) => ("nothing newer".to_owned(), Tone::Dim),
        };
        rows.push(vec![
            (r.env.clone(), Tone::Bold),
            (r.image.clone(), Tone::Plain),
            (
                if r.running.is_empty() {
                    "(untagged)".to_owned()
                } else {
                    r.running.join(", ")
                },
                Tone::Plain,
            ),
            (
                r.newest.clone().unwrap_or_else(|| "-".to_owned()),
                Tone::Plain,
            ),
            action,
        ]);
    }
    let mut text = ui::table(ui, &rows);
    if !errors.is_empty() {
        text.push('\n');
        for (i, error) in errors.iter().enumerate() {
            text.push_str(&format!("({}) {error}\n", i + 1));
        }
    }
    if out.dry_run {
        text.push_str("\nDry run: nothing was pushed.\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::Kind;

    fn row(env: &str, image: &str, action: RowAction) -> UpdateRow {
        UpdateRow {
            env: env.to_owned(),
            image: image.to_owned(),
            running: vec!["1.2.0".to_owned()],
            newest: None,
            pick: None,
            why: None,
            action,
            branch: None,
            commit: None,
            pull_request: None,
            compare_url: None,
            error: None,
        }
    }

    #[test]
    fn a_registry_failure_is_said_once_under_the_table_and_merge_requests_read_as_gitlab_writes_them(
    ) {
        let unreachable = "could not reach the registry 127.0.0.1:1: Connection refused";
        let mut updates = Vec::new();
        for env in ["dev", "stage"] {
            let mut failed = row(env, "127.0.0.1:1/shop/web", RowAction::Failed);
            failed.error = Some(unreachable.to_owned());
            updates.push(failed);
        }
        let mut opened = row("stage", "registry.example.com/shop/cart", RowAction::Opened);
        opened.newest = Some("1.3.0-rc.2".to_owned());
        opened.pick = opened.newest.clone();
        opened.branch = Some("gitops/image-stage-cart".to_owned());
        opened.pull_request = Some(PullOut {
            number: 2,
            url: "https://git.example.com/shop/config/-/merge_requests/2".to_owned(),
            forge: Kind::GitLab,
        });
        updates.push(opened);
        let text = render(
            &Ui::plain(),
            &UpdateOut {
                dry_run: false,
                updates,
            },
        );
        assert_eq!(text.matches(unreachable).count(), 1, "{text}");
        assert_eq!(text.matches("failed (1)").count(), 2, "{text}");
        assert!(text.contains(&format!("\n(1) {unreachable}\n")), "{text}");
        assert!(
            text.contains("set 1.3.0-rc.2 on gitops/image-stage-cart, opened !2"),
            "{text}"
        );
    }
}
