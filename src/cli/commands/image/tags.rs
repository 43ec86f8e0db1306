//! `gitops image tags IMAGE [--env ENV]... [--json]`: the registry's tags of an
//! image and, per environment, which its policy accepts and which one an update
//! would take. Gathers what each environment runs from its branch and the tags
//! (and, for `commit-sha` policies, the candidates' creation times) from the
//! registry ([`crate::engine::image_tags`]); [`crate::config::newest::decide`]
//! decides; then renders.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::cli::Global;
use crate::config::newest::Why;
use crate::config::policy::TagPolicy;
use crate::engine::image_tags::{self, Ask};
use crate::engine::snapshot::Snapshot;
use crate::error::refused;
use crate::model::image::{same_image, ImageRef};
use crate::registry;
use crate::ui::{self, Progress, Tone, Ui};

/// List IMAGE's tags in its registry and, for each environment, which ones its
/// tag policy accepts and which one `image update` would take: the newest
/// accepted tag that is newer than every tag the environment runs (1.3.0-rc.10
/// is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered
/// by their images' creation times, read from the registry for the accepted
/// tags only. Credentials come from ~/.docker/config.json (or
/// $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential
/// helpers; anonymous otherwise.
#[derive(Debug, clap::Args)]
pub struct TagsArgs {
    /// The image: its full name (registry.example.com/shop/cart), or its last
    /// path part (cart) when an environment runs it.
    pub image: String,
    /// Only this environment (repeat for several); all by default.
    #[arg(long = "env", value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::cli::environments))]
    pub envs: Vec<String>,
    /// Print one JSON document: the tags, and per environment what it accepts
    /// and would take.
    #[arg(long)]
    pub json: bool,
}

/// What `image tags --json` prints.
#[derive(Debug, Serialize, Deserialize)]
pub struct TagsOut {
    /// The image's name, as the manifests write it (or as given).
    pub image: String,
    /// Its registry (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// Its repository there (`library/redis`, `shop/cart`).
    pub repository: String,
    /// The registry's tags, newest versions first.
    pub tags: Vec<TagOut>,
    pub environments: Vec<EnvTagsOut>,
}

impl TagsOut {
    /// The view of the environment called `name`, if it was asked for.
    pub fn environment(&self, name: &str) -> Option<&EnvTagsOut> {
        self.environments.iter().find(|e| e.env == name)
    }
}

/// A tag of the registry.
#[derive(Debug, Serialize, Deserialize)]
pub struct TagOut {
    pub tag: String,
    /// Its image's creation time (RFC 3339), when it was read: the tags a
    /// `commit-sha` environment accepts, and the ones it runs.
    pub created: Option<String>,
}

/// One environment's view of the tags.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnvTagsOut {
    pub env: String,
    /// The policy the tags are judged by: the environment's for the team's
    /// images, `any` for another image (whose tags still compare as versions).
    pub policy: String,
    pub team_image: bool,
    /// The tags the environment's manifests run (empty: it runs no such image).
    pub running: Vec<String>,
    /// The registry's tags the policy accepts, in `tags`' order.
    pub accepted: Vec<String>,
    /// The newest accepted tag (`null` when none, or when they have no order).
    pub newest: Option<String>,
    /// The tag `image update` would set: the newest, when newer than every tag
    /// that runs.
    pub pick: Option<String>,
    /// `newer` (there is a pick), `current`, `none-accepted`, `not-running` or
    /// `unordered`.
    pub why: Why,
}

pub fn run(global: &Global, args: TagsArgs, ui: &Ui) -> Result<()> {
    // The name first: nothing else happens for text that is no image name.
    let given = ImageRef::parse(&args.image).map_err(|why| {
        refused(format!("`{}` is not an image name: {why}", args.image))
            .hint("name it as the manifests do, e.g. registry.example.com/shop/cart, or its last path part")
    })?;
    if given.tag.is_some() || given.digest.is_some() {
        return Err(refused(format!(
            "`{}` has a tag or digest: name the image alone, as in `{}`",
            args.image, given.name
        ))
        .hint(format!(
            "`gitops image tags {}` lists every tag",
            given.name
        ))
        .into());
    }
    let mut ws = Snapshot::open(&global.dir(), ui, true)?;
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
    }

    // What each environment runs, by the names that match the one given.
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut seen = Vec::new();
    for &index in &envs {
        let tree = ws.branches[index].tree;
        let manifests = ws.manifests(tree)?;
        ws.summarize(manifests.iter().map(|(_, id)| *id))?;
        let mut images = Vec::new();
        for (_, id) in manifests.iter() {
            for image in &ws.summary(*id)?.images {
                let r = ImageRef {
                    name: image.name.clone(),
                    tag: None,
                    digest: None,
                };
                if r.matches(&given.name) {
                    names
                        .entry(r.canonical_name())
                        .or_default()
                        .insert(image.name.clone());
                    images.push((image.name.clone(), image.tag.clone()));
                }
            }
        }
        seen.push((index, images));
    }
    let name = match names.len() {
        0 => given.name.clone(),
        1 => names
            .into_values()
            .next()
            .and_then(|written| written.into_iter().next())
            .expect("one"),
        _ => {
            return Err(refused(format!(
                "`{}` names several images in the manifests",
                args.image
            ))
            .hint(format!(
                "name one in full: {}",
                names.into_values().flatten().collect::<Vec<_>>().join(", ")
            ))
            .into())
        }
    };
    let location = registry::locate(&name).map_err(|why| {
        refused(format!("`{name}` is not an image name: {why}"))
            .hint("fix the image name in the manifests, then run the command again")
    })?;

    // Each environment's policy and running tags.
    let mut judged = Vec::new();
    for (index, images) in seen {
        let env = &ws.config.environments[index];
        let team = ws.config.is_team_image(&name);
        let policy = if team {
            env.tags.clone()
        } else {
            TagPolicy::Any
        };
        let running: Vec<String> = images
            .iter()
            .filter(|(n, _)| same_image(n, &name))
            .filter_map(|(_, tag)| tag.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        judged.push((env.name.clone(), policy, team, running));
    }

    let ask = Ask {
        image: name.clone(),
        judged: judged
            .iter()
            .map(|(_, policy, _, running)| (policy.clone(), running.clone()))
            .collect(),
    };
    let decided = ui
        .spin(&format!("listing the tags of {name}"), || {
            image_tags::decide_all(std::slice::from_ref(&ask), &Progress::hidden())
        })
        .pop()
        .expect("one answer per image")?;
    let created = decided.created;
    let ordered = decided.ordered;
    let environments: Vec<EnvTagsOut> = judged
        .into_iter()
        .zip(decided.choices)
        .map(|((env, policy, team, running), choice)| EnvTagsOut {
            env,
            policy: policy.to_string(),
            team_image: team,
            running,
            accepted: choice.accepted,
            newest: choice.newest,
            pick: choice.pick,
            why: choice.why,
        })
        .collect();
    let out = TagsOut {
        image: name,
        registry: location.registry.clone(),
        repository: location.repository.clone(),
        tags: ordered
            .into_iter()
            .map(|tag| TagOut {
                created: created.get(&tag).map(|c| c.text.clone()),
                tag,
            })
            .collect(),
        environments,
    };
    if args.json {
        ui.json(&out)
    } else {
        ui.out(&render(ui, &out))
    }
}

/// The table (a row per tag, a column per environment: `runs`, `pick`, `yes`
/// for accepted, `-`), then a line per environment saying what it would take.
pub fn render(ui: &Ui, out: &TagsOut) -> String {
    let mut text = format!(
        "{}: {} tag{} in {} ({})\n",
        ui.paint(Tone::Bold, &out.image),
        out.tags.len(),
        if out.tags.len() == 1 { "" } else { "s" },
        out.registry,
        out.repository
    );
    let with_times = out.tags.iter().any(|t| t.created.is_some());
    if !out.tags.is_empty() {
        let mut header = vec![("TAG".to_owned(), Tone::Dim)];
        if with_times {
            header.push(("CREATED".to_owned(), Tone::Dim));
        }
        header.extend(out.environments.iter().map(|e| (e.env.clone(), Tone::Dim)));
        let mut rows = vec![header];
        for tag in &out.tags {
            let mut row = vec![(tag.tag.clone(), Tone::Plain)];
            if with_times {
                row.push((tag.created.clone().unwrap_or_default(), Tone::Dim));
            }
            for env in &out.environments {
                row.push(if env.running.contains(&tag.tag) {
                    ("runs".to_owned(), Tone::Id)
                } else if env.pick.as_ref() == Some(&tag.tag) {
                    ("pick".to_owned(), Tone::Good)
                } else if env.accepted.contains(&tag.tag) {
                    ("yes".to_owned(), Tone::Plain)
                } else {
                    ("-".to_owned(), Tone::Dim)
                });
            }
            rows.push(row);
        }
        text.push('\n');
        text.push_str(&ui::table(ui, &rows));
    }
    text.push('\n');
    for env in &out.environments {
        let policy = if env.team_image {
            env.policy.clone()
        } else {
            "not a team image, no policy".to_owned()
        };
        let runs = match env.running.as_slice() {
            [] => "runs no such image".to_owned(),
            tags => format!("runs {}", tags.join(", ")),
        };
        let verdict = match (env.why, &env.pick, &env.newest) {
            (Why::Newer, Some(pick), _) => {
                format!("update would take {}", ui.paint(Tone::Good, pick))
            }
            (Why::Current, _, Some(newest)) => {
                format!("the newest it accepts is {newest}: nothing newer to take")
            }
            (Why::NoneAccepted, _, _) => "no tag in the registry satisfies its policy".to_owned(),
            (Why::NotRunning, _, Some(newest)) => {
                format!("the newest it accepts is {newest}, but there is nothing to update")
            }
            (Why::Unordered, _, None) => {
                "its accepted commit tags carry no creation time, so none is newer: nothing to take"
                    .to_owned()
            }
            _ => {
                "what it runs does not compare with the registry's tags: nothing to take".to_owned()
            }
        };
        text.push_str(&format!(
            "{} ({policy}): {runs}; {verdict}\n",
            ui.paint(Tone::Bold, &env.env)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(
        env: &str,
        policy: &str,
        running: &[&str],
        accepted: &[&str],
        newest: Option<&str>,
        pick: Option<&str>,
        why: Why,
    ) -> EnvTagsOut {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        EnvTagsOut {
            env: env.into(),
            policy: policy.into(),
            team_image: policy != "any",
            running: strings(running),
            accepted: strings(accepted),
            newest: newest.map(Into::into),
            pick: pick.map(Into::into),
            why,
        }
    }

    #[test]
    fn renders_each_environments_verdict() {
        let tag = |t: &str, created: Option<&str>| TagOut {
            tag: t.into(),
            created: created.map(Into::into),
        };
        let out = TagsOut {
            image: "registry.example.com/shop/cart".into(),
            registry: "registry.example.com".into(),
            repository: "shop/cart".into(),
            tags: vec![
                tag("1.3.0", None),
                tag("1.3.0-rc.10", None),
                tag("1.3.0-rc.9", None),
                tag("9e1d2c4", Some("2026-11-20T08:00:00Z")),
                tag("3f9c2ab", None),
                tag("latest", None),
            ],
            environments: vec![
                env(
                    "dev",
                    "commit-sha",
                    &["3f9c2ab"],
                    &["9e1d2c4", "3f9c2ab"],
                    Some("9e1d2c4"),
                    Some("9e1d2c4"),
                    Why::Newer,
                ),
                env(
                    "qa",
                    "commit-sha",
                    &["3f9c2ab"],
                    &["9e1d2c4", "3f9c2ab"],
                    None,
                    None,
                    Why::Unordered,
                ),
                env(
                    "stage",
                    "semver-rc",
                    &["1.3.0-rc.10"],
                    &["1.3.0-rc.10", "1.3.0-rc.9"],
                    Some("1.3.0-rc.10"),
                    None,
                    Why::Current,
                ),
                env(
                    "perf",
                    "regex:nightly-.*",
                    &["nightly-1"],
                    &[],
                    None,
                    None,
                    Why::NoneAccepted,
                ),
                env(
                    "prod",
                    "semver",
                    &[],
                    &["1.3.0"],
                    Some("1.3.0"),
                    None,
                    Why::NotRunning,
                ),
                env(
                    "lab",
                    "any",
                    &["latest"],
                    &["1.3.0", "latest"],
                    Some("1.3.0"),
                    None,
                    Why::Unordered,
                ),
            ],
        };
        insta::assert_snapshot!(render(&Ui::plain(), &out));
    }
}
