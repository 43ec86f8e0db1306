//! What each environment runs, what is waiting in its upstream, what drifted:
//! the answer of `status` (also part of `check`'s and `quickstart`'s), gathered
//! from a [`Snapshot`] and rendered for people.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::app_of;
use super::drift::DriftCommit;
use super::snapshot::{Manifests, Snapshot};
use crate::config::Config;
use crate::git;
use crate::model::manifest::Unparseable;
use crate::model::summary::Summary;
use crate::promotion::drift::DriftField;
use crate::ui::{self, age, Tone, Ui};

#[derive(Debug, Serialize, Deserialize)]
pub struct Status {
    pub environments: Vec<EnvStatus>,
    /// Why origin was not fetched (`--no-fetch`, or the fetch error), else null.
    pub not_fetched: Option<String>,
    pub config: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EnvStatus {
    pub name: String,
    pub branch: String,
    pub head: String,
    pub head_summary: String,
    pub head_author: String,
    pub head_time: i64,
    pub upstream: Option<String>,
    pub pending: usize,
    pub pending_apps: Vec<String>,
    pub drift: usize,
    pub drift_commits: Vec<DriftOut>,
    pub images: BTreeMap<String, String>,
    pub policy: String,
    pub policy_violations: Vec<Violation>,
    pub unparseable: Vec<Unparseable>,
    /// The open promotion pull request into this environment, when GitHub was asked.
    pub pull_request: Option<crate::forge::ChangeChecks>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DriftOut {
    pub id: String,
    pub summary: String,
    pub author: String,
    pub fields: Vec<DriftField>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Violation {
    pub image: String,
    pub tag: Option<String>,
    pub file: String,
    pub message: String,
}

/// Gathers the status of every environment.
pub fn gather(ws: &mut Snapshot) -> Result<Status> {
    let envs = ws.config.environments.clone();
    // Summarise every manifest of every environment once: environments share
    // most blobs, and the summaries are kept between runs.
    let trees: Vec<_> = ws.branches.iter().map(|b| b.tree).collect();
    let manifests = ws.manifests_of(&trees)?;
    ws.summarize(manifests.iter().flat_map(|m| m.iter()).map(|(_, id)| *id))?;

    // Each environment's images, policy violations and unparseable files are
    // worked out on another thread while this one follows the history.
    let summaries = manifests
        .iter()
        .map(|m| m.iter().map(|(_, id)| ws.summary(*id)).collect())
        .collect::<Result<Vec<Vec<_>>>>()?;
    let config = ws.config.clone();
    // So are the summary cache's lines for what is summarised so far.
    let encode = ws.encode_summaries_so_far();
    let (history, tables, early) = std::thread::scope(|scope| {
        let tables = scope.spawn(|| tables(&config, &manifests, &summaries));
        let early = encode.map(|job| scope.spawn(job));
        let history = history(ws, &envs);
        (
            history,
            tables.join().expect("the image tables' thread panicked"),
            early.map(|e| e.join().expect("the summary cache's thread panicked")),
        )
    });
    let environments = history?
        .into_iter()
        .zip(tables)
        .zip(&envs)
        .map(|((h, table), env)| EnvStatus {
            name: env.name.clone(),
            branch: env.branch.clone(),
            head: h.head.id.to_string(),
            head_summary: h.head.summary,
            head_author: h.head.author,
            head_time: h.head.time,
            upstream: h.upstream,
            pending: h.pending,
            pending_apps: h.pending_apps,
            drift: h.drift.len(),
            drift_commits: h.drift.into_iter().map(drift_out).collect(),
            images: table.images,
            policy: env.tags.to_string(),
            policy_violations: table.violations,
            unparseable: table.unparseable,
            pull_request: None,
        })
        .collect();
    ws.save_cache(early);
    Ok(Status {
        environments,
        not_fetched: ws.not_fetched.clone(),
        config: ws.config_source.clone(),
    })
}

/// What an environment's history says: its head and, against the
/// environment before it, the commits waiting, the apps they change and the
/// drift.
struct History {
    head: git::CommitInfo,
    upstream: Option<String>,
    pending: usize,
    pending_apps: Vec<String>,
    drift: Vec<DriftCommit>,
}

/// The [`History`] of each environment, in order.
fn history(ws: &mut Snapshot, envs: &[crate::config::Environment]) -> Result<Vec<History>> {
    let mut out = Vec::new();
    for (i, branch) in ws.branches.clone().into_iter().enumerate() {
        let mut h = History {
            head: ws.commit(branch.tip)?,
            upstream: None,
            pending: 0,
            pending_apps: Vec::new(),
            drift: Vec::new(),
        };
        if let Some(u) = i.checked_sub(1) {
            h.upstream = Some(envs[u].name.clone());
            h.pending = ws.graph()?.only_in(ws.branches[u].tip, branch.tip).len();
            h.pending_apps = pending_apps(ws, i, u)?;
            h.drift = ws.drift(i, u)?;
        }
        out.push(h);
    }
    Ok(out)
}

/// What an environment's files say, whatever its history: the tags of each
/// image, the files that break its tag policy, the files that do not parse.
struct Table {
    images: BTreeMap<String, String>,
    violations: Vec<Violation>,
    unparseable: Vec<Unparseable>,
}

/// The [`Table`] of each environment, from its manifests and their summaries
/// (in the same order). An image is shown as first written in any
/// environment, in their order: one row however it is spelled (`redis`,
/// `docker.io/library/redis`).
fn tables(config: &Config, manifests: &[Manifests], summaries: &[Vec<Arc<Summary>>]) -> Vec<Table> {
    let mut display: BTreeMap<String, String> = BTreeMap::new();
    // Per image name as written: the name shown and whether it is the team's
    // (a glob match), worked out once for every environment and file.
    let mut names: HashMap<String, (String, bool)> = HashMap::new();
    let mut out = Vec::new();
    for ((env, manifests), summaries) in config.environments.iter().zip(manifests).zip(summaries) {
        let mut images: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut violations = Vec::new();
        let mut unparseable = Vec::new();
        let by_kustomize = tagged_by_kustomize(summaries);
        for ((path, _), summary) in manifests.iter().zip(summaries) {
            // A template (a file with `{{` that does not parse) is not a manifest.
            if let Some(e) = summary.reported_error() {
                unparseable.push(Unparseable::new(path, e));
            }
            for image in &summary.images {
                // A kustomization entry that only renames or adds a tagSuffix
                // runs with the tag of the resource it applies to: nothing to show.
                if image.sets_no_tag() {
                    continue;
                }
                // A resource that names the image without a tag where a
                // kustomization sets it runs with that tag: nothing untagged.
                if image.inline
                    && image.tag.is_none()
                    && image.digest.is_none()
                    && by_kustomize.contains(&crate::model::image::canonical_name(&image.name))
                {
                    continue;
                }
                if !names.contains_key(&image.name) {
                    let shown = display
                        .entry(crate::model::image::canonical_name(&image.name))
                        .or_insert_with(|| image.name.clone())
                        .clone();
                    let team = config.is_team_image(&image.name);
                    names.insert(image.name.clone(), (shown, team));
                }
                let (shown, team) = &names[&image.name];
                let tag = image.tag.clone().or_else(|| image.digest.clone());
                images
                    .entry(shown.clone())
                    .or_default()
                    .insert(tag.unwrap_or_else(|| "(untagged)".to_owned()));
                // Policies judge the team's images, where a tag is written.
                if image.judged_by_policy() && *team {
                    if let Err(message) = env.tags.check(image.tag.as_deref()) {
                        violations.push(Violation {
                            image: image.name.clone(),
                            tag: image.tag.clone(),
                            file: path.clone(),
                            message,
                        });
                    }
                }
            }
        }
        out.push(Table {
            images: images
                .into_iter()
                .map(|(name, tags)| (name, tags.into_iter().collect::<Vec<_>>().join(", ")))
                .collect(),
            violations,
            unparseable,
        });
    }
    out
}

/// The images (canonical names) an environment's kustomizations give a tag
/// or digest in their `images:`: kustomize sets it on every container of the
/// build that names the image, bases included, so a resource that names one
/// without a tag is not untagged.
fn tagged_by_kustomize(summaries: &[Arc<Summary>]) -> std::collections::HashSet<String> {
    summaries
        .iter()
        .flat_map(|s| &s.images)
        .filter(|i| !i.inline && (i.tag.is_some() || i.digest.is_some()))
        .map(|i| crate::model::image::canonical_name(&i.name))
        .collect()
}

/// A drift commit as the JSON output and the renderers show it.
pub fn drift_out(d: DriftCommit) -> DriftOut {
    DriftOut {
        id: d.commit.id.to_string(),
        summary: d.commit.summary,
        author: d.commit.author,
        fields: d.fields,
    }
}

/// The apps whose files a promotion from `upstream` into `env` would change,
/// pinned values aside.
fn pending_apps(ws: &mut Snapshot, env: usize, upstream: usize) -> Result<Vec<String>> {
    let to = ws.branches[env].clone();
    let from = ws.branches[upstream].clone();
    let Some(base) = ws.graph()?.merge_base(to.tip, from.tip) else {
        return Ok(Vec::new());
    };
    let base_tree = ws.tree_of(base);
    let deltas = ws.repo.changes(Some(base_tree), Some(from.tree))?;
    let paths: Vec<&str> = deltas.iter().map(|d| d.path.as_str()).collect();
    let in_to_blobs = ws.repo.files_at(to.tree, &paths)?;
    // The versions the loop below may compare, summarised together on every
    // core rather than one by one as it asks (in a fresh clone the merge base's
    // versions are not summarised yet).
    let compared: Vec<git::Oid> = deltas
        .iter()
        .zip(&in_to_blobs)
        .filter(|(delta, in_to)| **in_to != delta.new && ws.config.is_manifest(&delta.path))
        .flat_map(|(delta, in_to)| [delta.old, delta.new, *in_to])
        .flatten()
        .collect();
    ws.summarize(compared)?;
    let mut apps = BTreeSet::new();
    for (delta, in_to) in deltas.iter().zip(in_to_blobs) {
        if in_to == delta.new {
            continue;
        }
        let app = app_of(&delta.path);
        if apps.contains(&app) {
            continue;
        }
        if ws.config.is_manifest(&delta.path) {
            // Told from the blobs' summaries where they can tell: the upstream
            // changed only image tags since they met, or the target already has
            // its text apart from tags — nothing of this file travels.
            let path = delta.path.as_str();
            if ws.tags_only(path, delta.old, delta.new)? == Some(true)
                || ws.tags_only(path, in_to, delta.new)? == Some(true)
            {
                continue;
            }
            // The target changed more than tags since they met too, or the
            // summaries cannot tell what the upstream changed (a kustomization's
            // `newTag`, pinned keys): judge field by field, three-way.
            // Otherwise the upstream's change travels as it is.
            if ws.tags_only(path, delta.old, in_to)? != Some(true)
                || ws.tags_only(path, delta.old, delta.new)?.is_none()
            {
                // A file of many documents: first told the same way document
                // by document.
                if let (Some(old), Some(to), Some(new)) = (delta.old, in_to, delta.new) {
                    if ws.surely_travels(path, old, to, new)? {
                        apps.insert(app);
                        continue;
                    }
                }
                if let Ok(d) = ws.promotion_file(path, delta.old, in_to, delta.new)? {
                    if d.resources.is_empty() {
                        continue;
                    }
                }
            }
        }
        apps.insert(app);
    }
    Ok(apps.into_iter().collect())
}

/// The human view: one row per environment, the images as a matrix, then the
/// details of drift, policy violations and files that do not parse.
pub fn render(status: &Status, ui: &Ui, now: i64, change: &str) -> String {
    let mut rows = vec![[
        "ENV", "BRANCH", "HEAD", "AGE", "PENDING", "DRIFT", "SUBJECT",
    ]
    .iter()
    .map(|h| (h.to_string(), Tone::Bold))
    .collect::<Vec<_>>()];
    for env in &status.environments {
        let pending = match &env.upstream {
            None => ("-".to_owned(), Tone::Dim),
            Some(_) if env.pending == 0 => ("up to date".to_owned(), Tone::Good),
            Some(up) => {
                let apps = if env.pending_apps.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", env.pending_apps.join(", "))
                };
                (format!("{} from {up}{apps}", env.pending), Tone::Warn)
            }
        };
        let drift = match (&env.upstream, env.drift) {
            (None, _) => ("-".to_owned(), Tone::Dim),
            (Some(_), 0) => ("none".to_owned(), Tone::Good),
            (Some(_), n) => (
                format!("{n} commit{}", if n == 1 { "" } else { "s" }),
                Tone::Bad,
            ),
        };
        rows.push(vec![
            (env.name.clone(), Tone::Bold),
            (env.branch.clone(), Tone::Plain),
            (env.head[..7.min(env.head.len())].to_owned(), Tone::Id),
            (age(now, env.head_time), Tone::Dim),
            pending,
            drift,
            (env.head_summary.clone(), Tone::Plain),
        ]);
    }
    if status.environments.iter().any(|e| e.pull_request.is_some()) {
        let gitlab = status.environments.iter().any(|e| {
            e.pull_request
                .as_ref()
                .is_some_and(|p| p.forge == crate::forge::Kind::GitLab)
        });
        let header = if gitlab {
            "MERGE REQUEST"
        } else {
            "PULL REQUEST"
        };
        rows[0].push((header.to_owned(), Tone::Bold));
        for (row, env) in rows.iter_mut().skip(1).zip(&status.environments) {
            row.push(match &env.pull_request {
                Some(p) => {
                    let checks = p.checks.as_deref().unwrap_or("no checks");
                    let tone = match checks {
                        "success" => Tone::Good,
                        "failure" | "error" => Tone::Bad,
                        _ => Tone::Warn,
                    };
                    (
                        format!(
                            "{} {}{}",
                            p.forge.reference(p.number),
                            if p.draft { "draft, " } else { "" },
                            checks
                        ),
                        tone,
                    )
                }
                None => ("-".to_owned(), Tone::Dim),
            });
        }
        // Keep the subject last: it is the widest column.
        for row in rows.iter_mut() {
            let subject = row.remove(6);
            row.push(subject);
        }
    }
    let mut out = ui::table(ui, &rows);

    let names: BTreeSet<&String> = status
        .environments
        .iter()
        .flat_map(|e| e.images.keys())
        .collect();
    if !names.is_empty() {
        out.push('\n');
        let mut header = vec![("IMAGE".to_owned(), Tone::Bold)];
        header.extend(
            status
                .environments
                .iter()
                .map(|e| (e.name.to_uppercase(), Tone::Bold)),
        );
        let mut rows = vec![header];
        for name in names {
            let mut row = vec![(name.clone(), Tone::Plain)];
            for env in &status.environments {
                let bad = env.policy_violations.iter().any(|v| &v.image == name);
                row.push(match env.images.get(name) {
                    Some(tag) if bad => (format!("{tag} !"), Tone::Bad),
                    Some(tag) => (tag.clone(), Tone::Plain),
                    None => ("-".to_owned(), Tone::Dim),
                });
            }
            rows.push(row);
        }
        out.push_str(&ui::table(ui, &rows));
    }

    for env in &status.environments {
        if env.drift_commits.is_empty() {
            continue;
        }
        let up = env.upstream.as_deref().unwrap_or("?");
        out.push_str(&format!(
            "\n{} on {}: changes {up} does not have. A promotion keeps them (a three-way merge) unless {up} changed the same lines, which conflicts; bring them to {up} through a {change} so they are not lost.\n",
            ui.paint(Tone::Bad, "Drift"),
            env.name
        ));
        out.push_str(&drift_commits(ui, &env.drift_commits, up));
    }
    for env in &status.environments {
        for v in &env.policy_violations {
            out.push_str(&format!(
                "\n{} {} on {} ({}): {}",
                ui.paint(Tone::Bad, "!"),
                v.image,
                env.name,
                v.file,
                v.message
            ));
        }
    }
    if status
        .environments
        .iter()
        .any(|e| !e.policy_violations.is_empty())
    {
        out.push('\n');
    }
    let mut bad_files = BTreeMap::new();
    for env in &status.environments {
        for u in &env.unparseable {
            bad_files
                .entry((u.file.clone(), u.line, u.message.clone()))
                .or_insert_with(Vec::new)
                .push(env.name.clone());
        }
    }
    if !bad_files.is_empty() {
        out.push('\n');
        for ((file, line, message), envs) in bad_files {
            out.push_str(&format!(
                "{} {file}:{line}: does not parse on {}: {message}\n",
                ui.paint(Tone::Bad, "!"),
                envs.join(", ")
            ));
        }
    }
    out
}

/// Drift commits, one line each, with the fields each brings under it.
pub fn drift_commits(ui: &Ui, commits: &[DriftOut], upstream: &str) -> String {
    let mut out = String::new();
    for c in commits {
        out.push_str(&format!(
            "  {}  {} ({})\n",
            ui.paint(Tone::Id, &c.id[..7]),
            c.summary,
            c.author
        ));
        for f in &c.fields {
            out.push_str(&format!("      {}\n", drift_line(f, upstream)));
        }
    }
    out
}

/// `Deployment/shop/cart spec.replicas: 3 (stage has 1)`.
pub fn drift_line(f: &DriftField, upstream: &str) -> String {
    let show = |v: &Option<serde_json::Value>| match v {
        None => "(absent)".to_owned(),
        Some(v) => v.to_string(),
    };
    let resource = match &f.kind {
        Some(kind) => format!("{kind}/{}", f.name),
        None => f.name.clone(),
    };
    if f.path.is_empty() {
        // A whole resource (or a file that does not parse): say what happened to it
        // rather than printing it.
        return match (&f.value, &f.upstream) {
            (Some(_), None) => format!("{resource}: added ({upstream} does not have it)"),
            (None, Some(_)) => format!("{resource}: deleted ({upstream} still has it)"),
            (Some(_), Some(_)) => format!("{resource}: changed as a whole"),
            (None, None) => format!(
                "{}: changed (the file does not parse, so it is compared as a whole)",
                f.file
            ),
        };
    }
    format!(
        "{resource} {}: {} ({upstream} has {})",
        f.path,
        show(&f.value),
        show(&f.upstream)
    )
}

#[doc(hidden)]
pub fn short(id: &git::Oid) -> String {
    git::short(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(
        name: &str,
        upstream: Option<&str>,
        pending: usize,
        drift: Vec<DriftOut>,
        tag: &str,
    ) -> EnvStatus {
        EnvStatus {
            name: name.into(),
            branch: name.into(),
            head: "3f9c2ab4e0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5".into(),
            head_summary: format!("Latest on {name}"),
            head_author: "Ada".into(),
            head_time: 1_000_000_000,
            upstream: upstream.map(str::to_owned),
            pending,
            pending_apps: if pending > 0 {
                vec!["cart".into()]
            } else {
                vec![]
            },
            drift: drift.len(),
            drift_commits: drift,
            images: [("registry.example.com/shop/cart".to_owned(), tag.to_owned())].into(),
            policy: "semver".into(),
            policy_violations: if tag == "latest" {
                vec![Violation {
                    image: "registry.example.com/shop/cart".into(),
                    tag: Some("latest".into()),
                    file: "apps/cart/deployment.yaml".into(),
                    message: "\"latest\" is not allowed by policy semver".into(),
                }]
            } else {
                vec![]
            },
            unparseable: vec![],
            pull_request: None,
        }
    }

    #[test]
    fn renders_environments_images_drift_and_violations() {
        let hotfix = DriftOut {
            id: "8bf511e77feb59b9214be195983f82654f3eb447".into(),
            summary: "Hotfix: timeout".into(),
            author: "Chloé".into(),
            fields: vec![DriftField {
                file: "apps/cart/deployment.yaml".into(),
                kind: Some("Deployment".into()),
                name: "cart".into(),
                path: "spec.replicas".into(),
                value: Some(serde_json::json!(3)),
                upstream: Some(serde_json::json!(1)),
            }],
        };
        let status = Status {
            environments: vec![
                env("dev", None, 0, vec![], "3f9c2ab"),
                env("stage", Some("dev"), 2, vec![], "1.2.3-rc.1"),
                env("prod", Some("stage"), 0, vec![hotfix], "latest"),
            ],
            not_fetched: None,
            config: "defaults".into(),
        };
        insta::assert_snapshot!(render(
            &status,
            &Ui::plain(),
            1_000_000_000 + 7200,
            "pull request"
        ));
    }

    #[test]
    fn drift_lines_say_what_happened_without_dumping_resources() {
        let field = |path: &str,
                     value: Option<serde_json::Value>,
                     upstream: Option<serde_json::Value>| DriftField {
            file: "apps/cart/deployment.yaml".into(),
            kind: Some("Deployment".into()),
            name: "cart".into(),
            path: path.into(),
            value,
            upstream,
        };
        let big = serde_json::json!({"spec": {"replicas": 1}});
        let cases = [
            (field("spec.replicas", Some(3.into()), Some(1.into())), "Deployment/cart spec.replicas: 3 (dev has 1)"),
            (field("spec.paused", Some(true.into()), None), "Deployment/cart spec.paused: true (dev has (absent))"),
            (field("", Some(big.clone()), None), "Deployment/cart: added (dev does not have it)"),
            (field("", None, Some(big)), "Deployment/cart: deleted (dev still has it)"),
            (field("", None, None), "apps/cart/deployment.yaml: changed (the file does not parse, so it is compared as a whole)"),
        ];
        for (f, want) in cases {
            assert_eq!(drift_line(&f, "dev"), want);
        }
    }

    #[test]
    fn renders_the_promotion_pull_requests_when_github_was_asked() {
        let mut stage = env("stage", Some("dev"), 2, vec![], "1.2.3-rc.1");
        stage.pull_request = Some(crate::forge::ChangeChecks {
            forge: crate::forge::Kind::GitHub,
            number: 42,
            url: "https://github.com/shop/config/pull/42".into(),
            state: "open".into(),
            draft: false,
            checks: Some("success".into()),
        });
        let status = Status {
            environments: vec![env("dev", None, 0, vec![], "3f9c2ab"), stage],
            not_fetched: None,
            config: "defaults".into(),
        };
        insta::assert_snapshot!(render(&status, &Ui::plain(), 1_000_000_000 + 60, "pull request"), @r"
        ENV    BRANCH  HEAD     AGE           PENDING            DRIFT  PULL REQUEST  SUBJECT
        dev    dev     3f9c2ab  1 minute ago  -                  -      -             Latest on dev
        stage  stage   3f9c2ab  1 minute ago  2 from dev (cart)  none   #42 success   Latest on stage

        IMAGE                           DEV      STAGE
        registry.example.com/shop/cart  3f9c2ab  1.2.3-rc.1
        ");
    }
}
