//! `gitops image`: the image tags environments run. `set IMAGE TAG --env ENV`
//! (here) is the step CI runs after pushing an image; `tags` ([`tags`]) reads
//! the registry's.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::cli::Global;
use crate::config::policy;
use crate::config::Promotion;
use crate::engine::publish::{publish, Publish};
use crate::engine::pull_request::{self, Action, PullOut, Wanted};
use crate::engine::snapshot::Snapshot;
use crate::error::{refused, remote};
use crate::git;
use crate::model::edit;
use crate::model::image::{same_image, ImageRef};
use crate::model::images::TagSource;
use crate::ui::Ui;

/// The trailer that marks gitops's commits on an image branch.
pub const TRAILER: &str = "Gitops-Image:";

pub mod tags;
pub mod update;

pub use tags::{TagsArgs, TagsOut};
pub use update::{UpdateArgs, UpdateOut};

/// Work with the image tags an environment runs.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Set(SetArgs),
    Tags(TagsArgs),
    Update(UpdateArgs),
}

/// Set IMAGE's tag to TAG on ENV's branch, through a pull request: checks TAG
/// against ENV's policy and refuses a downgrade, changes only the bytes of the tag
/// in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from
/// `origin/<env>`, pushes and opens (or refreshes) the pull request — with
/// auto-merge for `auto-merge` environments. One branch and one pull request per
/// environment and image: a newer tag refreshes them.
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The image: a full name (registry.example.com/shop/cart) or its last path part (cart).
    pub image: String,
    /// The new tag.
    pub tag: String,
    /// The environment.
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::cli::environments))]
    pub env: String,
    /// Show the change; push nothing (no token needed).
    #[arg(long)]
    pub dry_run: bool,
    /// Allow a tag older than the one the environment runs.
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Print one JSON document: action, branch, pull_request, ...
    #[arg(long)]
    pub json: bool,
}

/// What `image set --json` prints.
#[derive(Debug, Serialize, Deserialize)]
pub struct SetOut {
    pub action: Action,
    pub env: String,
    pub image: String,
    pub tag: String,
    /// The tags ENV ran before.
    pub from: Vec<String>,
    pub files: Vec<String>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub pull_request: Option<PullOut>,
    pub compare_url: Option<String>,
}

pub fn run(global: &Global, cmd: Command, ui: &Ui) -> Result<()> {
    match cmd {
        Command::Set(args) => set(global, args, ui),
        Command::Tags(args) => tags::run(global, args, ui),
        Command::Update(args) => update::run(global, args, ui),
    }
}

/// The branch for an image on an environment.
pub fn branch(env: &str, short_name: &str) -> String {
    format!("gitops/image-{env}-{short_name}")
}

/// A unified diff of two versions of a file whose lines correspond one to one
/// (a tag edit never adds or removes a line).
fn line_diff(path: &str, old: &[u8], new: &[u8]) -> String {
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let old_lines: Vec<&[u8]> = old.split_inclusive(|b| *b == b'\n').collect();
    let new_lines: Vec<&[u8]> = new.split_inclusive(|b| *b == b'\n').collect();
    for (i, (a, b)) in old_lines.iter().zip(&new_lines).enumerate() {
        if a != b {
            out.push_str(&format!(
                "@@ -{n},1 +{n},1 @@\n-{}\n+{}\n",
                String::from_utf8_lossy(a).trim_end_matches(['\r', '\n']),
                String::from_utf8_lossy(b).trim_end_matches(['\r', '\n']),
                n = i + 1
            ));
        }
    }
    out
}

/// Refuses text that is no image tag.
fn check_tag(tag: &str) -> Result<()> {
    if !policy::is_valid_tag(tag) {
        return Err(refused(format!("`{tag}` is not a valid image tag"))
            .hint("a tag is letters, digits, `_`, `.` and `-`, up to 128 characters, not starting with `.` or `-`")
            .into());
    }
    Ok(())
}

fn set(global: &Global, args: SetArgs, ui: &Ui) -> Result<()> {
    // The tag itself first: nothing else happens for a string that is no tag.
    check_tag(&args.tag)?;
    let mut ws = Snapshot::open(&global.dir(), ui, true)?;
    if let (false, Some(why)) = (args.dry_run, &ws.not_fetched) {
        return Err(remote(format!(
            "cannot set an image without reaching origin: {why}"
        ))
        .hint("check the network; --dry-run shows the change from what was fetched last")
        .into());
    }
    let done = set_one(
        &mut ws,
        ui,
        &SetRequest {
            env: &args.env,
            image: &args.image,
            tag: &args.tag,
            dry_run: args.dry_run,
            allow_downgrade: args.allow_downgrade,
        },
    )?;
    let out = done.out;
    if args.json {
        return ui.json(&out);
    }
    match (out.action, &done.commit, &out.branch) {
        (Action::Nothing, _, _) => ui.note(&format!(
            "{} already runs {}:{}: nothing to change.",
            out.env, out.image, out.tag
        )),
        (Action::Planned, _, Some(branch)) => {
            ui.out(&done.diffs)?;
            ui.note(&format!(
                "Dry run: would commit on {branch} and open a {} into {}.",
                ws.change_word(),
                done.base
            ));
        }
        (action, Some(commit), Some(branch)) => ui.note(&format!(
            "{branch} {} ({}).",
            if action == Action::Unchanged {
                "is up to date"
            } else {
                "pushed"
            },
            git::short(commit)
        )),
        _ => {}
    }
    Ok(())
}

/// What `image set` is asked: the tag for an image on an environment.
pub struct SetRequest<'a> {
    /// The environment's name.
    pub env: &'a str,
    /// The image, as `image set` takes it: a full name or its last path part.
    pub image: &'a str,
    pub tag: &'a str,
    /// Plan only: no commit, no push, no pull request.
    pub dry_run: bool,
    pub allow_downgrade: bool,
}

/// What [`set_one`] did.
pub struct SetDone {
    pub out: SetOut,
    /// The unified diff of the edit (empty when nothing changes).
    pub diffs: String,
    /// The commit on the image branch, when one was published.
    pub commit: Option<git::Oid>,
    /// The environment's branch, the pull request's base.
    pub base: String,
}

/// `image set`'s work for one image on one environment, on an open snapshot:
/// the checks, the byte-exact edit and, unless a dry run, the commit on the
/// image branch, its push and the pull request (auto-merge per the
/// environment's promotion mode). `image update` calls it for every tag it
/// picks. Prints nothing but progress: the caller renders the result.
pub fn set_one(ws: &mut Snapshot, ui: &Ui, args: &SetRequest) -> Result<SetDone> {
    check_tag(args.tag)?;
    let (index, env) = ws.config.environment(args.env)?;
    let env = env.clone();
    let tip = ws.branches[index].tip;
    let tree = ws.branches[index].tree;
    let change = ws.change_word();

    // Where ENV runs IMAGE. One image may be written several ways (`redis`,
    // `docker.io/library/redis`): the names are grouped by canonical name.
    let manifests = ws.manifests(tree)?;
    ws.summarize(manifests.iter().map(|(_, id)| *id))?;
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut all_names = BTreeSet::new();
    let mut broken = Vec::new();
    for (path, id) in manifests.iter() {
        let summary = ws.summary(*id)?;
        // A template (`{{`, does not parse) is never an error, and not edited.
        if let Some(e) = summary.reported_error() {
            broken.push((
                path.clone(),
                *id,
                format!("{path}:{}: {}", e.line, e.message),
            ));
        }
        for image in &summary.images {
            all_names.insert(image.name.clone());
            let r = ImageRef {
                name: image.name.clone(),
                tag: None,
                digest: None,
            };
            if r.matches(args.image) {
                names
                    .entry(r.canonical_name())
                    .or_default()
                    .insert(image.name.clone());
            }
        }
    }
    let name = match names.len() {
        // The form written, the first in order when there are several.
        1 => names
            .into_values()
            .next()
            .and_then(|written| written.into_iter().next())
            .expect("one"),
        // A manifest that does not parse and mentions the image may be the one
        // that runs it: say so rather than that the environment runs no such image.
        0 if !mentioning(ws, &broken, args.image)?.is_empty() => {
            let hiding = mentioning(ws, &broken, args.image)?;
            return Err(refused(format!(
                "no manifest of {} that parses runs an image `{}`; these mention it and do not parse: {}",
                env.name,
                args.image,
                hiding.join("; ")
            ))
            .hint(format!(
                "fix them on {} through a {change}, then set the image again",
                env.branch
            ))
            .into());
        }
        0 => {
            return Err(
                refused(format!("{} runs no image `{}`", env.name, args.image))
                    .hint(format!(
                        "images on {}: {}",
                        env.name,
                        if all_names.is_empty() {
                            "none".to_owned()
                        } else {
                            all_names.into_iter().collect::<Vec<_>>().join(", ")
                        }
                    ))
                    .into(),
            )
        }
        _ => {
            return Err(refused(format!(
                "`{}` names several images on {}",
                args.image, env.name
            ))
            .hint(format!(
                "name one in full: {}",
                names.into_values().flatten().collect::<Vec<_>>().join(", ")
            ))
            .into())
        }
    };
    let short = name.rsplit('/').next().unwrap_or(&name).to_owned();
    // A manifest that does not parse could be hiding a use of the image: it
    // stops the edit only when its text mentions the image (its last path part).
    let hiding = mentioning(ws, &broken, &name)?;
    if !hiding.is_empty() {
        return Err(refused(format!(
            "{} has manifests that mention {short} and do not parse: {}",
            env.name,
            hiding.join("; ")
        ))
        .hint(format!(
            "fix them through a {change} first; nothing was changed"
        ))
        .into());
    }
    // Tag policies judge the team's images only (`images:` in the config).
    let team = ws.config.is_team_image(&name);
    if team {
        if let Err(why) = env.tags.check(Some(args.tag)) {
            return Err(refused(format!("{}: {why}", env.name))
                .hint(format!(
                    "{} takes tags like {}",
                    env.name,
                    env.tags.accepts()
                ))
                .into());
        }
    }

    // Edit every site, byte for byte.
    let mut updates = Vec::new();
    let mut files = Vec::new();
    let mut from_tags = BTreeSet::new();
    let mut diffs = String::new();
    let mut inherited = Vec::new();
    for (path, id) in manifests.iter() {
        let summary = ws.summary(*id)?;
        if summary.error.is_some() || !summary.images.iter().any(|i| same_image(&i.name, &name)) {
            continue;
        }
        let bytes = ws.repo.blob(*id)?;
        let (sites, sets_none): (Vec<edit::TagSite>, Vec<edit::TagSite>) = edit::tag_sites(&bytes)
            .map_err(|e| refused(format!("{path}:{}: {}", e.line, e.message)))?
            .into_iter()
            .filter(|s| same_image(&s.image.name, &name))
            // A kustomization entry that sets no tag (a rename, a tagSuffix)
            // is left alone: the tag is set where the resource's image is.
            .partition(|s| s.tag_source != TagSource::Inherited);
        inherited.extend(sets_none.into_iter().map(|s| (path.clone(), s)));
        if let Some(b) = sites.iter().find(|s| s.blocked.is_some()) {
            let why = b.blocked.as_ref().map(|r| r.reason()).unwrap_or_default();
            return Err(refused(format!(
                "{path}:{}: {name} cannot be edited there: {why}",
                b.line
            ))
            .hint(format!(
                "change that line by hand through a {change}; nothing was changed"
            ))
            .into());
        }
        for s in &sites {
            from_tags.insert(
                s.image
                    .tag
                    .clone()
                    .unwrap_or_else(|| "(untagged)".to_owned()),
            );
        }
        let edited = edit::set_tag(&bytes, &sites, args.tag).map_err(|e| {
            refused(format!("{path}: {e}")).hint(format!(
                "change it by hand through a {change}; nothing was changed"
            ))
        })?;
        if edited != bytes {
            diffs.push_str(&line_diff(path, &bytes, &edited));
            updates.push((path.clone(), Some(ws.repo.write_blob(&edited)?)));
            files.push(path.clone());
        }
    }
    // Only entries that set no tag: there is nowhere to write one.
    if files.is_empty() && from_tags.is_empty() {
        if let Some((path, s)) = inherited.first() {
            let why = s.blocked.unwrap_or(edit::Blocked::NoNewTag).reason();
            return Err(refused(format!(
                "{path}:{}: {name} cannot be edited there: {why}",
                s.line
            ))
            .hint(format!(
                "change that line by hand through a {change}; nothing was changed"
            ))
            .into());
        }
    }
    let from: Vec<String> = from_tags.into_iter().collect();
    // Refuse a downgrade: a tag older than one ENV runs. A third-party image
    // follows no policy of ours: its tags compare as versions when they are.
    let order = if team {
        env.tags.clone()
    } else {
        policy::TagPolicy::Any
    };
    if !args.allow_downgrade {
        if let Some(newer) = from
            .iter()
            .find(|t| order.compare(args.tag, t) == Some(std::cmp::Ordering::Less))
        {
            return Err(refused(format!(
                "{} runs {name}:{newer}, newer than {}: that would be a downgrade",
                env.name, args.tag
            ))
            .hint("pass --allow-downgrade to roll back on purpose")
            .into());
        }
    }
    let branch = branch(&env.name, &short);
    let out = SetOut {
        action: Action::Nothing,
        env: env.name.clone(),
        image: name.clone(),
        tag: args.tag.to_owned(),
        from,
        files: files.clone(),
        branch: None,
        commit: None,
        pull_request: None,
        compare_url: None,
    };
    let mut done = SetDone {
        out,
        diffs,
        commit: None,
        base: env.branch.clone(),
    };
    if updates.is_empty() {
        return Ok(done);
    }
    done.out.branch = Some(branch.clone());
    if args.dry_run {
        done.out.action = Action::Planned;
        return Ok(done);
    }
    let out = &mut done.out;
    let new_tree = ws.repo.edit_tree(tree, &updates)?;
    let title = format!("Set {short} to {} on {}", args.tag, env.name);
    let message = format!("{title}\n\n{TRAILER} {} {name}\n", env.name);
    let (commit, pushed) = publish(
        ws,
        ui,
        &Publish {
            branch: &branch,
            base: tip,
            tree: new_tree,
            parents: &[tip],
            message: &message,
            trailer: TRAILER,
        },
    )?;
    out.action = if pushed {
        Action::Pushed
    } else {
        Action::Unchanged
    };
    out.commit = Some(commit.to_string());
    let mut body = format!("Sets `{name}` to `{}` on `{}`", args.tag, env.name);
    if !out.from.is_empty() {
        body.push_str(&format!(" (was `{}`)", out.from.join("`, `")));
    }
    body.push_str(".\n\n### Files\n\n");
    for f in &files {
        body.push_str(&format!("- `{f}`\n"));
    }
    body.push_str(&format!("\n<!-- gitops:image {} {name} -->\n", env.name));
    let outcome = pull_request::upsert(
        &ws.repo,
        &ws.config,
        ui,
        &Wanted {
            head: &branch,
            base: &env.branch,
            title: &title,
            body: &body,
            draft: false,
            labels: &ws.config.forge.options.labels,
            reviewers: &ws.config.forge.options.reviewers,
            auto_merge: env.promotion == Promotion::AutoMerge,
        },
    )?;
    out.action = out.action.then(outcome.action);
    out.pull_request = outcome.pull;
    out.compare_url = outcome.compare_url;
    done.commit = Some(commit);
    Ok(done)
}

/// The messages of the manifests in `broken` (path, blob, message) whose text
/// mentions `image` (its last path part).
fn mentioning(
    ws: &Snapshot,
    broken: &[(String, crate::git::Oid, String)],
    image: &str,
) -> Result<Vec<String>> {
    let short = image.rsplit('/').next().unwrap_or(image);
    let mut out = Vec::new();
    for (_, id, message) in broken {
        let bytes = ws.repo.blob(*id)?;
        if memchr::memmem::find(&bytes, short.as_bytes()).is_some() {
            out.push(message.clone());
        }
    }
    Ok(out)
}
