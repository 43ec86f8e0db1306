//! The promotion plan that `diff` shows and `promote` pushes, computed from the
//! tree of the promotion commit actually built: what you review is what merges.
//!
//! Gather → build → plan:
//! 1. the files the source changed since the environments last met, each pinned
//!    to the target's values in the source's and the merge base's versions
//!    ([`crate::promotion::pin`]);
//! 2. `git merge-tree` of the target and the pinned source against the pinned
//!    base (three throwaway commits in the object store), conflict hunks a
//!    line-by-line three-way merge resolves resolved, real conflicts refused;
//! 3. tags for the team's images new to the target ([`crate::promotion::plan`]),
//!    written byte-exactly;
//! 4. the plan: the changes are the semantic diff of `origin/<env>` and the built
//!    tree, the kept values those of the source and the built tree.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::overview::{drift_commits, drift_out, DriftOut};
use super::snapshot::Snapshot;
use crate::error::{refused, Failure};
use crate::git::{self, Oid};
use crate::model::edit;
use crate::model::image::canonical_name;
use crate::model::manifest::Unparseable;
use crate::model::semdiff::{self, Change, Kept, Pinned, ResourceChange};
use crate::promotion::pin::{self, PinRules};
use crate::promotion::plan::{self as decide, NewImage, Refusal, SetImage};
use crate::ui::age;
use crate::ui::{Tone, Ui};

/// The plan, as `diff --json` and `promote --json` print it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Plan {
    pub from: String,
    pub to: String,
    pub commits: Vec<CommitOut>,
    pub files: Vec<FileOut>,
    pub resources: Vec<ResourceChange>,
    pub kept: Vec<Kept>,
    pub drift: Vec<DriftOut>,
    pub unparseable: Vec<Unparseable>,
    pub warnings: Vec<String>,
    /// Why the promotion cannot be built as things are, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<BlockedOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitOut {
    pub id: String,
    pub summary: String,
    pub author: String,
    pub time: i64,
}

/// How a promotion changes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileChange {
    Added,
    Modified,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOut {
    pub path: String,
    pub change: FileChange,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockedOut {
    pub message: String,
    pub hint: String,
}

/// Bytes to put in place of a range of a file.
type Edit = (std::ops::Range<usize>, Vec<u8>);

/// The promotion commit's tree and its parents.
#[derive(Debug, Clone, Copy)]
pub struct Built {
    pub tree: Oid,
    pub target_tip: Oid,
    pub source_tip: Oid,
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Failure {
        refused(r.message).hint(r.hint)
    }
}

/// Plans the promotion of environment `from` into `to` (indexes): the pending
/// commits, then — when there are any — the promotion tree built and the plan
/// read from it. A promotion that cannot be built is `Ok` with `blocked` set and
/// no tree, so `diff` can show why; `promote` refuses with it.
pub fn plan(
    ws: &mut Snapshot,
    from: usize,
    to: usize,
    set_images: &[SetImage],
) -> Result<(Plan, Option<Built>)> {
    let from_b = ws.branches[from].clone();
    let to_b = ws.branches[to].clone();
    let mut plan = Plan {
        from: ws.config.environments[from].name.clone(),
        to: ws.config.environments[to].name.clone(),
        ..Plan::default()
    };
    for id in ws.graph()?.only_in(from_b.tip, to_b.tip) {
        let c = ws.commit(id)?;
        plan.commits.push(CommitOut {
            id: id.to_string(),
            summary: c.summary,
            author: c.author,
            time: c.time,
        });
    }
    if from + 1 == to {
        plan.drift = ws.drift(to, from)?.into_iter().map(drift_out).collect();
    }
    if plan.commits.is_empty() {
        ws.save_cache(None);
        return Ok((plan, None));
    }
    let drift = (from + 1 == to).then_some(plan.drift.as_slice());
    let built = match build(ws, from, to, set_images, drift, &mut plan.warnings)? {
        Ok(built) => built,
        Err(refusal) => {
            plan.blocked = Some(BlockedOut {
                message: refusal.message,
                hint: refusal.hint,
            });
            ws.save_cache(None);
            return Ok((plan, None));
        }
    };
    read_plan(ws, from, to, &built, &mut plan)?;
    ws.save_cache(None);
    Ok((plan, Some(built)))
}

/// Whether the file at `path` takes part in pinning and the semantic diff.
fn is_yaml_of_interest(ws: &Snapshot, path: &str) -> bool {
    ws.config.is_manifest(path)
        || ws
            .config
            .pinned_rules
            .rules
            .iter()
            .any(|r| r.files.is_match(path))
}

/// The tag the target runs for each of the team's images, by [`canonical_name`].
fn target_tags(ws: &mut Snapshot, tree: Oid) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let manifests = ws.manifests(tree)?;
    ws.summarize(manifests.iter().map(|(_, id)| *id))?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, id) in manifests.iter() {
        for image in &ws.summary(*id)?.images {
            if let (Some(tag), true) = (&image.tag, ws.config.is_team_image(&image.name)) {
                out.entry(canonical_name(&image.name))
                    .or_default()
                    .insert(tag.clone());
            }
        }
    }
    Ok(out)
}

fn build(
    ws: &mut Snapshot,
    from: usize,
    to: usize,
    set_images: &[SetImage],
    drift: Option<&[DriftOut]>,
    warnings: &mut Vec<String>,
) -> Result<Result<Built, Refusal>> {
    let from_b = ws.branches[from].clone();
    let to_b = ws.branches[to].clone();
    let to_env = ws.config.environments[to].clone();
    let from_name = ws.config.environments[from].name.clone();
    let base = ws.graph()?.merge_base(to_b.tip, from_b.tip);
    let base_tree = base.map(|b| ws.tree_of(b));

    // 1. Pin the files the source changed to the target's values.
    let runs = target_tags(ws, to_b.tree)?;
    // One tag per image for pinning: the one the target runs (the first, when it
    // runs several; the same site's tag is preferred in the file itself).
    let env_tags: BTreeMap<String, String> = runs
        .iter()
        .filter_map(|(k, tags)| Some((k.clone(), tags.iter().next()?.clone())))
        .collect();
    let deltas = ws.repo.changes(base_tree, Some(from_b.tree))?;
    let deltas: Vec<_> = deltas
        .into_iter()
        .filter(|d| is_yaml_of_interest(ws, &d.path))
        .collect();
    let paths: Vec<&str> = deltas.iter().map(|d| d.path.as_str()).collect();
    let in_target = ws.repo.files_at(to_b.tree, &paths)?;
    let config = ws.config.clone();
    let is_team = |name: &str| config.is_team_image(name);
    let rules = PinRules {
        pinned: &config.pinned_rules,
        is_team: &is_team,
    };
    // Each file pinned on its own, on every core: (source's pinned blob, base's
    // pinned blob, what could not be kept), each `None` when unchanged.
    struct Pinned {
        source: Option<Oid>,
        base: Option<Oid>,
        missed: Vec<pin::Missed>,
    }
    let work: Vec<(&git::FileDelta, Option<Oid>)> = deltas
        .iter()
        .zip(in_target.iter().copied())
        // A file the target has as the source has it merges as it is.
        .filter(|(delta, target)| delta.new != *target)
        .collect();
    let cache = &ws.doc_cache;
    let done = ws.repo.par_map(&work, 16, |repo, (delta, target)| {
        let target_text = target.map(|t| repo.blob(t)).transpose()?;
        let target_read = target_text
            .as_deref()
            .and_then(|t| pin::Target::read_with(&delta.path, t, &rules, Some(cache)));
        let mut out = Pinned {
            source: None,
            base: None,
            missed: Vec::new(),
        };
        if let Some(new) = delta.new {
            let text = repo.blob(new)?;
            let pinned = pin::pin_to_with(
                &delta.path,
                &text,
                target_read.as_ref(),
                &env_tags,
                &rules,
                Some(cache),
            );
            out.missed = pinned.missed;
            if pinned.text != text {
                out.source = Some(repo.write_blob(&pinned.text)?);
            }
        }
        // The base's version needs pinning only where the target changed it.
        if let (Some(old), Some(_)) = (delta.old, target) {
            if Some(old) != *target {
                let text = repo.blob(old)?;
                let pinned = pin::pin_to_with(
                    &delta.path,
                    &text,
                    target_read.as_ref(),
                    &env_tags,
                    &rules,
                    Some(cache),
                );
                if pinned.text != text {
                    out.base = Some(repo.write_blob(&pinned.text)?);
                }
            }
        }
        Ok(out)
    })?;
    let mut source_updates = Vec::new();
    let mut base_updates = Vec::new();
    for ((delta, _), pinned) in work.iter().zip(done) {
        for m in &pinned.missed {
            warnings.push(format!(
                "{}: {} line {}: {} {}; {} gets {from_name}'s value",
                to_env.name, delta.path, m.line, m.field, m.why, to_env.name
            ));
        }
        if let Some(blob) = pinned.source {
            source_updates.push((delta.path.clone(), Some(blob)));
        }
        if let Some(blob) = pinned.base {
            base_updates.push((delta.path.clone(), Some(blob)));
        }
    }
    let source_tree = ws.repo.edit_tree(from_b.tree, &source_updates)?;
    let empty = ws.repo.empty_tree()?;
    let base_tree = ws
        .repo
        .edit_tree(base_tree.unwrap_or(empty), &base_updates)?;

    // 2. Merge: three throwaway commits so that git merges against the pinned base
    // (dated 1 s after the epoch: the same inputs make the same ids).
    let at = Some(1);
    let base_commit = ws.repo.write_commit(base_tree, &[], "base", at)?;
    let ours = ws
        .repo
        .write_commit(to_b.tree, &[base_commit], "target", at)?;
    let theirs = ws
        .repo
        .write_commit(source_tree, &[base_commit], "source", at)?;
    let dir = ws.repo.dir.clone();
    let merge = git::cli::merge_tree(&dir, &ours.to_string(), &theirs.to_string())
        .context("merging in the object store")?;
    let mut merged = Oid::from_hex(merge.tree.as_bytes()).context("reading the merged tree")?;

    // Conflict hunks that a line-by-line three-way merge resolves (each line
    // changed on one side only) are resolved; the rest are real.
    let mut real = Vec::new();
    let mut resolved = Vec::new();
    let conflicted: Vec<&str> = merge.conflicts.iter().map(String::as_str).collect();
    let in_result = ws.repo.files_at(merged, &conflicted)?;
    for (k, path) in merge.conflicts.iter().enumerate() {
        let content_only = merge
            .kinds
            .iter()
            .filter(|(p, _)| p == path)
            .all(|(_, kind)| kind.contains("contents") || kind.contains("Auto-merging"));
        let Some(result) = in_result[k].filter(|_| content_only) else {
            real.push(path.clone());
            continue;
        };
        match crate::promotion::resolve_pinned_conflicts(&ws.repo.blob(result)?, &[], |_| false) {
            Ok(text) => resolved.push((path.clone(), Some(ws.repo.write_blob(&text)?))),
            Err(_) => real.push(path.clone()),
        }
    }
    real.sort();
    real.dedup();
    if !real.is_empty() {
        let change = ws.change_word();
        // Name the drift `status` shows on those files (the plan's, when it
        // computed it); else the target's own commits on them since the
        // environments met.
        let computed;
        let drift = match drift {
            Some(d) => d,
            None => {
                computed = ws
                    .drift(to, from)?
                    .into_iter()
                    .map(drift_out)
                    .collect::<Vec<_>>();
                &computed
            }
        };
        let drift: Vec<String> = drift
            .iter()
            .filter(|d| d.fields.iter().any(|f| real.contains(&f.file)))
            .map(|d| format!("{} {} ({})", &d.id[..7], d.summary, d.author))
            .collect();
        if !drift.is_empty() {
            return Ok(Err(decide::conflict_refusal(
                &from_name,
                &to_env.name,
                &real,
                &drift,
                change,
            )));
        }
        let mut args = vec![
            "log".to_owned(),
            "--format=%h %s (%an)".to_owned(),
            match base {
                Some(b) => format!("{b}..{}", to_b.tip),
                None => to_b.tip.to_string(),
            },
            "--".to_owned(),
        ];
        args.extend(real.iter().cloned());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let commits: Vec<String> = git::cli::run(&dir, &argv)
            .map(|out| out.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        return Ok(Err(decide::conflict_refusal(
            &from_name,
            &to_env.name,
            &real,
            &commits,
            change,
        )));
    }
    merged = ws.repo.edit_tree(merged, &resolved)?;

    // 3. The team's images the target does not run with this tag.
    let changed = ws.repo.changes(Some(to_b.tree), Some(merged))?;
    // The texts of the files with such images, and their sites (by text).
    let mut texts: Vec<Vec<u8>> = Vec::new();
    let mut sites: Vec<(String, usize, edit::TagSite)> = Vec::new();
    for delta in &changed {
        let Some(new) = delta.new else { continue };
        if !ws.config.is_manifest(&delta.path) {
            continue;
        }
        // The summary (cached) tells whether the file runs any image of the
        // team's with a tag the target does not run; only then are its sites read.
        let summary = ws.summary(new)?;
        let candidate = summary.images.iter().any(|i| {
            i.tag.as_ref().is_some_and(|tag| {
                ws.config.is_team_image(&i.name)
                    && !runs
                        .get(&canonical_name(&i.name))
                        .is_some_and(|tags| tags.contains(tag))
            })
        });
        if !candidate {
            continue;
        }
        let text = ws.repo.blob(new)?;
        let Ok(found) = edit::tag_sites_with(&text, &ws.doc_cache) else {
            continue;
        };
        texts.push(text);
        let text = texts.len() - 1;
        for site in found {
            let Some(tag) = &site.image.tag else { continue };
            if !ws.config.is_team_image(&site.image.name)
                || runs
                    .get(&canonical_name(&site.image.name))
                    .is_some_and(|tags| tags.contains(tag))
            {
                continue;
            }
            sites.push((delta.path.clone(), text, site));
        }
    }
    let new: Vec<NewImage> = sites
        .iter()
        .map(|(file, _, site)| NewImage {
            file: file.clone(),
            line: site.line,
            name: site.image.name.clone(),
            tag: site.image.tag.clone(),
            blocked: site.blocked,
        })
        .collect();
    let tags = match decide::new_image_tags(&to_env.name, &to_env.tags, &new, set_images) {
        Ok(tags) => tags,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let mut by_file: BTreeMap<&str, (&[u8], Vec<Edit>)> = BTreeMap::new();
    for ((file, text, site), tag) in sites.iter().zip(tags) {
        let Some(tag) = tag else { continue };
        let entry = by_file
            .entry(file.as_str())
            .or_insert_with(|| (texts[*text].as_slice(), Vec::new()));
        entry.1.push((site.span.clone(), tag.into_bytes()));
    }
    let mut updates = Vec::new();
    for (file, (text, edits)) in by_file {
        let out = edit::replace_spans(text, &edits);
        updates.push((file.to_owned(), Some(ws.repo.write_blob(&out)?)));
    }
    let tree = ws.repo.edit_tree(merged, &updates)?;
    Ok(Ok(Built {
        tree,
        target_tip: to_b.tip,
        source_tip: from_b.tip,
    }))
}

fn read_plan(
    ws: &mut Snapshot,
    from: usize,
    to: usize,
    built: &Built,
    plan: &mut Plan,
) -> Result<()> {
    let from_b = ws.branches[from].clone();
    let to_b = ws.branches[to].clone();
    let nothing = Pinned::nothing();
    // What merges: the target's tree against the built one.
    for delta in ws.repo.changes(Some(to_b.tree), Some(built.tree))? {
        plan.files.push(FileOut {
            path: delta.path.clone(),
            change: match (delta.old, delta.new) {
                (None, _) => FileChange::Added,
                (_, None) => FileChange::Deleted,
                _ => FileChange::Modified,
            },
        });
        if !ws.config.is_manifest(&delta.path) {
            continue;
        }
        let (old, new) = ws.docs_to_compare(&delta.path, delta.old, delta.new, false)?;
        match (old, new) {
            (_, Some(Err(e))) | (Some(Err(e)), None) => {
                // A template (`{{`, does not parse) is no manifest, as in `status`.
                let blob = delta.new.or(delta.old).expect("a side that does not parse");
                if !ws.summary(blob)?.template {
                    plan.unparseable.push(Unparseable::new(&delta.path, &e));
                }
            }
            (Some(Err(_)), Some(Ok(_))) => {}
            (old, new) => {
                let old = old.and_then(Result::ok);
                let new = new.and_then(Result::ok);
                let plain = ws.plain(&delta.path);
                let d = semdiff::diff_file(
                    &delta.path,
                    old.as_deref(),
                    new.as_deref(),
                    &nothing,
                    plain,
                );
                plan.resources.extend(d.resources);
            }
        }
    }
    // What the target keeps: the source's version against the built one, in the
    // files the source changed since the environments met.
    let base = ws.graph()?.merge_base(to_b.tip, from_b.tip);
    let base_tree = base.map(|b| ws.tree_of(b));
    let deltas = ws.repo.changes(base_tree, Some(from_b.tree))?;
    let paths: Vec<&str> = deltas.iter().map(|d| d.path.as_str()).collect();
    let in_built = ws.repo.files_at(built.tree, &paths)?;
    let scoped = ws.config.images.is_some();
    let source_policy = ws.config.environments[from].tags.clone();
    // The resources new to the target, by file, kind and name.
    let added: std::collections::HashSet<(String, Option<String>, String)> = plan
        .resources
        .iter()
        .filter(|r| r.change == Change::Added)
        .map(|r| (r.file.clone(), r.kind.clone(), r.name.clone()))
        .collect();
    for (delta, built_blob) in deltas.iter().zip(in_built) {
        if delta.new == built_blob || !ws.config.is_manifest(&delta.path) {
            continue;
        }
        // In a file of many documents, the documents the source changed
        // since the environments met, as files are: the others keep nothing.
        let since = match (delta.old, delta.new, built_blob) {
            (Some(old), Some(new), Some(built)) => match ws.changed_keys(&delta.path, old, new)? {
                Some(keys) => match (
                    ws.docs_of_keys(&delta.path, new, &keys)?,
                    ws.docs_of_keys(&delta.path, built, &keys)?,
                ) {
                    (Some(source), Some(result)) => Some((source, result)),
                    _ => None,
                },
                None => None,
            },
            _ => None,
        };
        let (source, result) = match since {
            Some(docs) => docs,
            None => {
                let (Some(Ok(source)), Some(Ok(result))) =
                    ws.docs_to_compare(&delta.path, delta.new, built_blob, false)?
                else {
                    continue;
                };
                (source, result)
            }
        };
        let d = semdiff::diff_file(
            &delta.path,
            Some(&result),
            Some(&source),
            &ws.config.pinned_rules,
            ws.plain(&delta.path),
        );
        for k in d.kept {
            if k.value.is_null() || k.upstream.is_null() {
                continue;
            }
            // A resource new to the target keeps nothing of its own: its values
            // (a `--set-image` tag) are in the changes.
            if added.contains(&(k.file.clone(), k.kind.clone(), k.name.clone())) {
                continue;
            }
            if !scoped && (k.path.ends_with(".image") || k.path.ends_with(".newTag")) {
                let tag = |v: &serde_json::Value| {
                    let s = v
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string());
                    match crate::model::image::ImageRef::parse(&s) {
                        Ok(r) if k.path.ends_with(".image") => {
                            (r.name.clone(), r.tag.unwrap_or_default())
                        }
                        _ => (k.path.clone(), s),
                    }
                };
                let ((name, kept), (_, upstream)) = (tag(&k.value), tag(&k.upstream));
                if let Some(w) = decide::held_back(
                    &name,
                    &kept,
                    &upstream,
                    &plan.from,
                    &plan.to,
                    &source_policy,
                ) {
                    plan.warnings.push(w);
                }
            }
            plan.kept.push(k);
        }
    }
    plan.warnings.dedup();
    Ok(())
}

/// The refusal a blocked plan stands for.
pub fn refusal(blocked: &BlockedOut) -> Failure {
    refused(blocked.message.clone()).hint(blocked.hint.clone())
}

/// The environments a promotion goes from and to (indexes): `env`, from its
/// upstream or from `from`. `command` names the command in hints.
pub fn source_and_target(
    ws: &Snapshot,
    env: &str,
    from: Option<&str>,
    command: &str,
) -> Result<(usize, usize)> {
    let (to, _) = ws.config.environment(env)?;
    let from = match from {
        Some(name) => {
            let (from, _) = ws.config.environment(name)?;
            if from == to {
                return Err(refused(format!("cannot promote `{name}` into itself"))
                    .hint(format!(
                        "name another source: gitops {command} {env} --from ENV"
                    ))
                    .into());
            }
            from
        }
        None => match to.checked_sub(1) {
            Some(u) => u,
            None => {
                return Err(refused(format!(
                    "`{env}` is the first environment: it has no upstream to promote from"
                ))
                .hint(match ws.config.environments.get(1) {
                    Some(next) => format!(
                        "gitops {command} {} brings {} what {env} has",
                        next.name, next.name
                    ),
                    None => "add environments to .gitops.yaml".to_owned(),
                })
                .into())
            }
        },
    };
    Ok((from, to))
}

fn show(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(v) => v.to_string(),
    }
}

fn resource_name(r: &ResourceChange) -> String {
    let mut s = String::new();
    if let Some(kind) = &r.kind {
        s.push_str(kind);
        s.push(' ');
    }
    if let Some(ns) = &r.namespace {
        s.push_str(ns);
        s.push('/');
    }
    s.push_str(&r.name);
    s
}

/// The human view of a promotion plan.
pub fn render(d: &Plan, ui: &Ui, now: i64, change: &str) -> String {
    let mut out = String::new();
    if d.commits.is_empty() {
        out.push_str(&format!(
            "Nothing to promote: {} has everything {} has.\n",
            d.to, d.from
        ));
    } else {
        out.push_str(&format!(
            "{} {} → {}: {} commit{}\n",
            ui.paint(Tone::Bold, "Promote"),
            d.from,
            d.to,
            d.commits.len(),
            if d.commits.len() == 1 { "" } else { "s" }
        ));
        for c in &d.commits {
            out.push_str(&format!(
                "  {}  {}  {}\n",
                ui.paint(Tone::Id, &c.id[..7]),
                c.summary,
                ui.paint(Tone::Dim, &format!("({}, {})", c.author, age(now, c.time)))
            ));
        }
    }
    if !d.files.is_empty() {
        out.push_str(&format!("\n{}\n", ui.paint(Tone::Bold, "Files")));
        for f in &d.files {
            let (mark, tone) = match f.change {
                FileChange::Added => ("A", Tone::Good),
                FileChange::Deleted => ("D", Tone::Bad),
                FileChange::Modified => ("M", Tone::Warn),
            };
            out.push_str(&format!("  {} {}\n", ui.paint(tone, mark), f.path));
        }
    }
    if !d.resources.is_empty() {
        out.push_str(&format!("\n{}\n", ui.paint(Tone::Bold, "Resources")));
        for r in &d.resources {
            let (mark, tone) = match r.change {
                Change::Added => ("+", Tone::Good),
                Change::Removed => ("-", Tone::Bad),
                Change::Changed => ("~", Tone::Warn),
            };
            out.push_str(&format!(
                "  {} {}  {}\n",
                ui.paint(tone, mark),
                resource_name(r),
                ui.paint(Tone::Dim, &format!("({})", r.file))
            ));
            for image in &r.images {
                out.push_str(&format!("      runs {image}\n"));
            }
            for f in &r.fields {
                out.push_str(&format!(
                    "      {}: {} → {}\n",
                    f.path,
                    show(&f.from),
                    show(&f.to)
                ));
            }
        }
    }
    if !d.kept.is_empty() {
        out.push_str(&format!(
            "\n{} ({}'s own values, not promoted)\n",
            ui.paint(Tone::Bold, "Kept"),
            d.to
        ));
        for k in &d.kept {
            let kind = k
                .kind
                .as_deref()
                .map(|k| format!("{k} "))
                .unwrap_or_default();
            let file = if k.name == k.file {
                String::new()
            } else {
                format!("{}; ", k.file)
            };
            out.push_str(&format!(
                "  {kind}{} {}: {}  {}\n",
                k.name,
                k.path,
                k.value,
                ui.paint(Tone::Dim, &format!("({file}{} has {})", d.from, k.upstream))
            ));
        }
    }
    if !d.drift.is_empty() {
        out.push_str(&format!(
            "\n{} on {}: changes {} does not have. {}; bring them to {} through a {change} so they are not lost.\n",
            ui.paint(Tone::Bad, "Drift"),
            d.to,
            d.from,
            if d.blocked.is_none() {
                "This promotion keeps them (a three-way merge)"
            } else {
                "A promotion keeps them unless it changes the same lines"
            },
            d.from
        ));
        out.push_str(&drift_commits(ui, &d.drift, &d.from));
    }
    if !d.warnings.is_empty() {
        out.push_str(&format!("\n{}\n", ui.paint(Tone::Warn, "Warnings")));
        for w in &d.warnings {
            out.push_str(&format!("  {} {w}\n", ui.paint(Tone::Warn, "!")));
        }
    }
    if let Some(b) = &d.blocked {
        out.push_str(&format!(
            "\n{} {}\n  {} {}\n",
            ui.paint(Tone::Bad, "Cannot promote:"),
            b.message,
            ui.paint(Tone::Dim, "hint:"),
            b.hint
        ));
    }
    for u in &d.unparseable {
        out.push_str(&format!(
            "{} {}:{}: does not parse: {}\n",
            ui.paint(Tone::Bad, "!"),
            u.file,
            u.line,
            u.message
        ));
    }
    out
}
