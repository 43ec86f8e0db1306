//! `gitops promote ENV`: build the promotion branch in the object store, push it
//! and open (or refresh) its pull request.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::Serialize;

use super::diff::{self, source_and_target, Diff};
use super::pull_request::{self, PullOut, Wanted};
use super::workspace::{Workspace, REMOTE};
use super::{app_of, now};
use crate::cli::Global;
use crate::config::Promotion;
use crate::error::{refused, remote};
use crate::git::{self, Oid};
use crate::policy;
use crate::promotion::{self, BodyCommit, BodyInput};
use crate::summary;
use crate::ui::{Tone, Ui};

/// Promote the next environment: merge its upstream (or `--from`) into it on the
/// branch `gitops/promote-<from>-to-<env>`, built in the object store — never in
/// your checkout — keeping ENV's own image tags, then push it and open or refresh
/// the pull request into ENV.
///
/// Conflicts on pinned values resolve to ENV's value; any other conflict stops the
/// promotion and names the files and the drift commits. A workload new to ENV
/// needs a tag valid under ENV's policy, or `--set-image NAME=TAG`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment to promote into.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    pub env: String,
    /// Promote from this environment instead of ENV's upstream.
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(super::completions::environments))]
    pub from: Option<String>,
    /// Print the plan, the title and the body; push nothing (no token needed).
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed without a terminal for `confirm: true` environments).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Open the pull request as a draft.
    #[arg(long)]
    pub draft: bool,
    /// The tag for an image ENV does not run yet (repeatable), e.g. `--set-image redis=7.2.4`.
    #[arg(long = "set-image", value_name = "NAME=TAG")]
    pub set_images: Vec<String>,
    /// Print one JSON document (see the README).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct PromoteOut {
    /// nothing | planned | pushed | unchanged | opened | updated
    pub action: &'static str,
    pub from: String,
    pub to: String,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub pull_request: Option<PullOut>,
    pub commits: usize,
    pub title: Option<String>,
    pub body: Option<String>,
    /// Where to open the pull request, when it was not opened (no token).
    pub compare_url: Option<String>,
}

/// The promotion commit's tree, built from the merge.
struct Built {
    tree: Oid,
}

fn parse_set_images(values: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for v in values {
        let Some((name, tag)) = v.split_once('=') else {
            return Err(refused(format!("--set-image `{v}` is not NAME=TAG"))
                .hint("e.g. --set-image registry.example.com/shop/redis=7.2.4 (or the last path part: redis=7.2.4)")
                .into());
        };
        if name.is_empty() || !policy::is_valid_tag(tag) {
            return Err(refused(format!(
                "--set-image `{v}`: `{tag}` is not a valid image tag"
            ))
            .hint("a tag is letters, digits, `_`, `.` and `-`, up to 128 characters, e.g. 1.2.3")
            .into());
        }
        out.push((name.to_owned(), tag.to_owned()));
    }
    Ok(out)
}

fn body_input(plan: &Diff) -> BodyInput {
    let show =
        |v: &Option<serde_json::Value>| v.as_ref().map_or("(absent)".to_owned(), |v| v.to_string());
    let mut apps: Vec<String> = plan.resources.iter().map(|r| app_of(&r.file)).collect();
    apps.sort();
    apps.dedup();
    BodyInput {
        from: plan.from.clone(),
        to: plan.to.clone(),
        commits: plan
            .commits
            .iter()
            .map(|c| BodyCommit {
                short: c.id[..7].to_owned(),
                summary: c.summary.clone(),
                author: c.author.clone(),
            })
            .collect(),
        apps,
        changes: plan
            .resources
            .iter()
            .flat_map(|r| {
                let name = format!("{}/{}", r.kind.as_deref().unwrap_or("File"), r.name);
                let head = format!("`{name}` {:?}", r.change).to_lowercase();
                if r.fields.is_empty() {
                    vec![head]
                } else {
                    r.fields
                        .iter()
                        .map(|f| {
                            format!("`{name}` `{}`: {} → {}", f.path, show(&f.from), show(&f.to))
                        })
                        .collect()
                }
            })
            .collect(),
        kept: plan
            .kept
            .iter()
            .map(|k| {
                format!(
                    "`{}/{}` `{}`: {} ({} has {})",
                    k.kind.as_deref().unwrap_or("File"),
                    k.name,
                    k.path,
                    k.value,
                    plan.from,
                    k.upstream
                )
            })
            .collect(),
        drift: plan
            .drift
            .iter()
            .map(|d| format!("`{}` {} ({})", &d.id[..7], d.summary, d.author))
            .collect(),
    }
}

/// Merges `from` into `to` in the object store and puts `to`'s pinned values back.
fn build(
    ws: &mut Workspace,
    from: usize,
    to: usize,
    set_images: &[(String, String)],
) -> Result<Built> {
    let to_b = ws.branches[to].clone();
    let from_b = ws.branches[from].clone();
    let to_env = ws.config.environments[to].clone();
    let from_name = ws.config.environments[from].name.clone();
    let merge = git::cli::merge_tree(&ws.repo.dir, &to_b.tip.to_string(), &from_b.tip.to_string())
        .context("merging in the object store")?;
    let merged = Oid::from_hex(merge.tree.as_bytes()).context("reading the merged tree")?;

    // What the target runs, image by image: the tags it keeps.
    let manifests = ws.manifests(to_b.tree)?;
    ws.summarize(manifests.iter().map(|(_, id)| *id))?;
    let mut env_tags: BTreeMap<String, String> = BTreeMap::new();
    for (_, id) in manifests.iter() {
        for image in &ws.summary(*id)?.images {
            if let Some(tag) = &image.tag {
                env_tags
                    .entry(image.name.clone())
                    .or_insert_with(|| tag.clone());
            }
        }
    }

    let mut updates: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut real = Vec::new();
    let conflicted: Vec<&str> = merge.conflicts.iter().map(String::as_str).collect();
    let in_result = ws.repo.files_at(merged, &conflicted)?;
    let in_to = ws.repo.files_at(to_b.tree, &conflicted)?;
    let in_from = ws.repo.files_at(from_b.tree, &conflicted)?;
    for (k, path) in merge.conflicts.iter().enumerate() {
        let content_only = merge
            .kinds
            .iter()
            .filter(|(p, _)| p == path)
            .all(|(_, kind)| kind.contains("contents") || kind.contains("Auto-merging"));
        let (Some(result), true) = (in_result[k], content_only) else {
            real.push(path.clone());
            continue;
        };
        let mut images = Vec::new();
        for id in [in_to[k], in_from[k]].into_iter().flatten() {
            images.extend(ws.summary(id)?.images.iter().cloned());
        }
        let keys: Vec<String> = ws
            .config
            .pinned_rules
            .rules
            .iter()
            .filter(|r| r.files.is_match(path))
            .flat_map(|r| r.keys.iter().cloned())
            .collect();
        match promotion::resolve_pinned_conflicts(&ws.repo.blob(result)?, &images, |line| {
            promotion::sets_key(line, &keys)
        }) {
            Ok(text) => {
                let blob = git::cli::hash_object(&ws.repo.dir, &text)?;
                updates.insert(path.clone(), Some(blob));
            }
            Err(_) => real.push(path.clone()),
        }
    }
    if !real.is_empty() {
        let drift = ws.drift(to, from)?;
        let mut hint = format!(
            "the conflicts are not only image tags: make the same change on {from_name} (usually: bring {}'s hotfix to {from_name} through a pull request), then promote again",
            to_env.name
        );
        if !drift.is_empty() {
            let list: Vec<String> = drift
                .iter()
                .map(|d| {
                    format!(
                        "{} {} ({})",
                        d.commit.short(),
                        d.commit.summary,
                        d.commit.author
                    )
                })
                .collect();
            hint = format!("drift on {}: {}; {hint}", to_env.name, list.join("; "));
        }
        return Err(refused(format!(
            "promoting {from_name} into {} conflicts in {}",
            to_env.name,
            real.join(", ")
        ))
        .hint(hint)
        .into());
    }

    // Put the target's tags back wherever the merge brought the source's.
    let mut new_images = Vec::new();
    for delta in ws.repo.changes(Some(to_b.tree), Some(merged))? {
        if !ws.config.is_manifest(&delta.path) {
            continue;
        }
        let Some(new) = delta.new else { continue };
        let text = match updates.get(&delta.path) {
            Some(Some(blob)) => ws.repo.blob(Oid::from_hex(blob.as_bytes())?)?,
            _ => ws.repo.blob(new)?,
        };
        let summary = summary::summarize(&text);
        if summary.images.iter().any(|i| !i.inline) {
            // A kustomization sets tags apart from names: keep the target's file
            // when the source changed nothing but pinned values.
            if !ws.same_values(&delta.path, delta.old, Some(new))? {
                return Err(refused(format!(
                    "{} sets image tags with `newTag` and changes more than tags: gitops cannot yet keep {}'s tags in it",
                    delta.path, to_env.name
                ))
                .hint("promote this file by hand for now, or use image: name:tag in the workloads")
                .into());
            }
            updates.insert(delta.path.clone(), delta.old.map(|o| o.to_string()));
            continue;
        }
        let (mut restored, new) = promotion::restore_tags(&text, &summary.images, &env_tags);
        for image in new {
            let short = image
                .name
                .rsplit('/')
                .next()
                .unwrap_or(&image.name)
                .to_owned();
            if let Some((_, tag)) = set_images
                .iter()
                .find(|(n, _)| *n == image.name || *n == short)
            {
                if let Some(old) = &image.tag {
                    restored = String::from_utf8_lossy(&restored)
                        .replace(
                            &format!("{}:{old}", image.name),
                            &format!("{}:{tag}", image.name),
                        )
                        .into_bytes();
                }
                if let Err(why) = to_env.tags.check(Some(tag)) {
                    return Err(refused(format!("--set-image {}={tag}: {why}", image.name))
                        .hint(format!(
                            "{} takes tags like {}",
                            to_env.name,
                            to_env.tags.accepts()
                        ))
                        .into());
                }
            } else if let Err(why) = to_env.tags.check(image.tag.as_deref()) {
                new_images.push(format!("{} ({}): {why}", image.name, delta.path));
            }
        }
        if restored != text {
            updates.insert(
                delta.path.clone(),
                Some(git::cli::hash_object(&ws.repo.dir, &restored)?),
            );
        } else if updates.contains_key(&delta.path) {
            // Already resolved above.
        }
    }
    if !new_images.is_empty() {
        return Err(refused(format!(
            "{} would get image{} it does not run yet, with tags its policy ({}) refuses: {}",
            to_env.name,
            if new_images.len() == 1 { "" } else { "s" },
            to_env.tags,
            new_images.join("; ")
        ))
        .hint("give each one a tag: --set-image NAME=TAG")
        .into());
    }
    let updates: Vec<(String, Option<String>)> = updates.into_iter().collect();
    let tree = if updates.is_empty() {
        merged
    } else {
        let tree = git::cli::edit_tree(
            &ws.repo.dir,
            ws.repo.git_dir(),
            &merged.to_string(),
            &updates,
        )?;
        Oid::from_hex(tree.as_bytes())?
    };
    // The config's pinned keys (besides image tags): where the merge brought the
    // source's line for one, the target's line goes back; what still differs after
    // that is refused rather than let through unseen.
    let mut tree = tree;
    if !ws.config.pinned_rules.rules.is_empty() {
        let mut key_updates = Vec::new();
        for delta in ws.repo.changes(Some(to_b.tree), Some(tree))? {
            let keys: Vec<String> = ws
                .config
                .pinned_rules
                .rules
                .iter()
                .filter(|r| r.files.is_match(&delta.path))
                .flat_map(|r| r.keys.iter().cloned())
                .collect();
            let (Some(old), Some(new), false) = (delta.old, delta.new, keys.is_empty()) else {
                continue;
            };
            let (merged_text, target_text) = (ws.repo.blob(new)?, ws.repo.blob(old)?);
            if let Some(restored) = promotion::restore_keys(&merged_text, &target_text, &keys) {
                if restored != merged_text {
                    key_updates.push((
                        delta.path.clone(),
                        Some(git::cli::hash_object(&ws.repo.dir, &restored)?),
                    ));
                }
            }
        }
        if !key_updates.is_empty() {
            let edited = git::cli::edit_tree(
                &ws.repo.dir,
                ws.repo.git_dir(),
                &tree.to_string(),
                &key_updates,
            )?;
            tree = Oid::from_hex(edited.as_bytes())?;
        }
        for delta in ws.repo.changes(Some(to_b.tree), Some(tree))? {
            let pinned_file = ws
                .config
                .pinned_rules
                .rules
                .iter()
                .any(|r| r.files.is_match(&delta.path));
            let (Some(old), Some(new)) = (delta.old, delta.new) else {
                continue;
            };
            if !pinned_file {
                continue;
            }
            let (a, b) = (ws.docs(old)?, ws.docs(new)?);
            if let (Ok(a), Ok(b)) = (&*a, &*b) {
                // A file of a pinned rule holds plain values.
                let d = crate::semdiff::diff_file(
                    &delta.path,
                    Some(a),
                    Some(b),
                    &ws.config.pinned_rules,
                    true,
                );
                if let Some(k) = d
                    .kept
                    .iter()
                    .find(|k| !k.path.ends_with(".image") && !k.path.ends_with(".newTag"))
                {
                    return Err(refused(format!(
                        "promoting would change {}'s pinned `{}` in {} ({} → {}): gitops could not pair its lines to keep {}'s value",
                        to_env.name, k.path, delta.path, k.value, k.upstream, to_env.name
                    ))
                    .hint("promote that file by hand for now, keeping the value; image tags are kept automatically")
                    .into());
                }
            }
        }
    }
    Ok(Built { tree })
}

/// Commits on the promotion branch (not in the target) that gitops did not make.
/// Puts `tree` on the branch gitops owns: a commit with `parents` and `message`
/// (which carries `trailer`), pushed with a lease. The branch may be replaced only
/// while every commit on it (beyond `base`) carries the trailer; a person's commit
/// stops it. When the branch already holds that tree on those parents, nothing is
/// pushed. Returns the branch's commit and whether it was pushed.
/// A commit gitops wants on a branch it owns.
pub(super) struct Publish<'a> {
    pub branch: &'a str,
    /// The environment's tip: commits beyond it are the branch's own.
    pub base: Oid,
    pub tree: Oid,
    pub parents: &'a [Oid],
    pub message: &'a str,
    /// The trailer every gitops commit on the branch carries.
    pub trailer: &'a str,
}

pub(super) fn publish(ws: &mut Workspace, ui: &Ui, p: &Publish) -> Result<(Oid, bool)> {
    let Publish {
        branch,
        base,
        tree,
        parents,
        message,
        trailer,
    } = *p;
    let remote_tip = ws.repo.remote_branch(REMOTE, branch)?;
    if let Some(tip) = remote_tip {
        if let Some(c) = foreign_commits(ws, tip, base, trailer)?.first() {
            return Err(refused(format!(
                "{} pushed {} \"{}\" to {branch}: gitops will not overwrite a person's work",
                c.author,
                c.short(),
                c.summary
            ))
            .hint(format!("merge or close that work first, or delete the branch (git push origin --delete {branch}) to start over"))
            .into());
        }
        let existing = ws.repo.commit(tip)?;
        if existing.tree == tree && existing.parents == parents {
            return Ok((tip, false));
        }
    }
    let parents: Vec<String> = parents.iter().map(Oid::to_string).collect();
    let id = git::cli::commit_tree(
        &ws.repo.dir,
        &tree.to_string(),
        &parents,
        message,
        &[
            ("GIT_AUTHOR_NAME", "gitops"),
            ("GIT_AUTHOR_EMAIL", "gitops@users.noreply.github.com"),
            ("GIT_COMMITTER_NAME", "gitops"),
            ("GIT_COMMITTER_EMAIL", "gitops@users.noreply.github.com"),
        ],
    )?;
    let expected = remote_tip.map(|t| t.to_string());
    ui.spin("pushing", || {
        git::cli::push_with_lease(&ws.repo.dir, REMOTE, &id, branch, expected.as_deref())
    })?;
    Ok((Oid::from_hex(id.as_bytes())?, true))
}

/// Commits reachable from `tip` and not from `to_tip` whose message lacks
/// `trailer`: the ones a person made on a branch gitops owns.
pub(super) fn foreign_commits(
    ws: &mut Workspace,
    tip: Oid,
    to_tip: Oid,
    trailer: &str,
) -> Result<Vec<git::CommitInfo>> {
    let known = ws.graph.ancestors(to_tip);
    let mut out = Vec::new();
    let mut stack = vec![tip];
    let mut seen = std::collections::HashSet::new();
    while let Some(id) = stack.pop() {
        if known.contains(&id) || !seen.insert(id) || ws.graph.nodes.contains_key(&id) {
            continue;
        }
        let c = ws.repo.commit(id)?;
        if !c.message.contains(trailer) {
            out.push(c.clone());
        }
        stack.extend(c.parents.iter().copied());
    }
    Ok(out)
}

pub fn run(global: &Global, args: Args, ui: &Ui) -> Result<()> {
    let mut ws = Workspace::open(global, ui, true)?;
    if let (false, Some(why)) = (args.dry_run, &ws.not_fetched) {
        return Err(
            remote(format!("cannot promote without reaching origin: {why}"))
                .hint("check the network; --dry-run shows the plan from what was fetched last")
                .into(),
        );
    }
    let (from, to) = source_and_target(&ws, &args.env, args.from.as_deref(), "promote")?;
    let set_images = parse_set_images(&args.set_images)?;
    let from_name = ws.config.environments[from].name.clone();
    let to_env = ws.config.environments[to].clone();
    let plan = diff::gather(&mut ws, from, to)?;
    let mut out = PromoteOut {
        action: "nothing",
        from: from_name.clone(),
        to: to_env.name.clone(),
        branch: None,
        commit: None,
        pull_request: None,
        commits: plan.commits.len(),
        title: None,
        body: None,
        compare_url: None,
    };
    if plan.commits.is_empty() {
        if args.json {
            ui.json(&out)?;
        } else {
            ui.note(&format!(
                "Nothing to promote: {} has everything {from_name} has.",
                to_env.name
            ));
        }
        return Ok(());
    }
    let built = build(&mut ws, from, to, &set_images)?;
    let title = promotion::title(&from_name, &to_env.name);
    let body = promotion::body(&body_input(&plan));
    let branch = promotion::branch(&from_name, &to_env.name);
    out.branch = Some(branch.clone());
    out.title = Some(title.clone());
    out.body = Some(body.clone());

    if args.dry_run {
        out.action = "planned";
        if args.json {
            return ui.json(&out);
        }
        ui.out(&diff::render(&plan, ui, now()));
        ui.out(&format!(
            "\n{} {branch} → {}\n{}\n\n{body}",
            ui.paint(Tone::Bold, "Pull request:"),
            to_env.branch,
            ui.paint(Tone::Bold, &title)
        ));
        ui.note("Dry run: nothing pushed.");
        return Ok(());
    }
    if to_env.confirm && !args.yes {
        if !ui.interactive() {
            return Err(refused(format!(
                "promoting {} needs confirmation and there is no terminal to ask on",
                to_env.name
            ))
            .hint(format!(
                "rerun with --yes: gitops promote {} --yes (see --dry-run first)",
                to_env.name
            ))
            .into());
        }
        ui.out(&diff::render(&plan, ui, now()));
        if !ui.confirm(&format!("Promote {from_name} to {}?", to_env.name), false)? {
            ui.note("Nothing pushed.");
            return Ok(());
        }
    }

    let to_tip = ws.branches[to].tip;
    let from_tip = ws.branches[from].tip;
    let message = format!(
        "{title}\n\n{} {from_name} -> {}\n",
        promotion::TRAILER,
        to_env.name
    );
    let (commit, pushed) = publish(
        &mut ws,
        ui,
        &Publish {
            branch: &branch,
            base: to_tip,
            tree: built.tree,
            parents: &[to_tip, from_tip],
            message: &message,
            trailer: promotion::TRAILER,
        },
    )?;
    out.action = if pushed { "pushed" } else { "unchanged" };
    out.commit = Some(commit.to_string());
    let outcome = pull_request::upsert(
        &ws.repo,
        &ws.config,
        ui,
        &Wanted {
            head: &branch,
            base: &to_env.branch,
            title: &title,
            body: &body,
            draft: args.draft,
            labels: &ws.config.github.labels,
            reviewers: &ws.config.github.reviewers,
            auto_merge: to_env.promotion == Promotion::AutoMerge,
        },
    )?;
    // The branch's own news (pushed) matters more than an unchanged pull request.
    if let Some(action) = outcome.action {
        if !(action == "unchanged" && out.action == "pushed") {
            out.action = action;
        }
    }
    out.pull_request = outcome.pull;
    out.compare_url = outcome.compare_url;
    if args.json {
        ui.json(&out)?;
    } else {
        ui.note(&format!(
            "{branch} {} ({}).",
            match out.action {
                "unchanged" => "is up to date",
                _ => "pushed",
            },
            git::short(&commit)
        ));
    }
    Ok(())
}
