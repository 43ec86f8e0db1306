//! `gitops init`: write `.gitops.yaml` and create the missing environment branches.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};

use crate::cli::Global;
use crate::config::policy::TagPolicy;
use crate::config::{self, default_environment, Config, Promotion};
use crate::engine::repo_config::{change_by_origin, require_origin, REMOTE};
use crate::error::{refused, Failure};
use crate::git::{self, Oid, Repo};
use crate::model::summary;
use crate::ui::Ui;

/// Set up an existing repository: `.gitops.yaml` and the environment branches.
///
/// Set up an existing repository: ask for the environments, branches, tag
/// policies and promotion modes, write `.gitops.yaml`, create the missing
/// environment branches from the default branch and push them on confirmation.
///
/// Every answer has a flag; `--yes` accepts the defaults for the rest. Without a
/// terminal and without `--yes` it prints what it would do and exits 2.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environments, in promotion order.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub environments: Option<Vec<String>>,
    /// An environment's branch, when not its name (repeatable).
    #[arg(long = "branch", value_name = "ENV=BRANCH")]
    pub branches: Vec<String>,
    /// An environment's tag policy: commit-sha, semver-rc, semver, any, regex:<p> (repeatable).
    #[arg(long = "tags", value_name = "ENV=POLICY")]
    pub tags: Vec<String>,
    /// An environment's promotion mode: auto-merge or pull-request (repeatable).
    #[arg(long = "promotion", value_name = "ENV=MODE")]
    pub promotions: Vec<String>,
    /// The team's images, as name patterns (registry.example.com/shop/*); the
    /// default is proposed from the images the default branch runs. An empty
    /// value writes no `images:` (every image is then the team's).
    #[arg(long, value_delimiter = ',', value_name = "PATTERN,...")]
    pub images: Option<Vec<String>>,
    /// Accept the defaults for every question not answered by a flag, and push.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

fn pairs(
    flag: &str,
    values: &[String],
    names: &[String],
) -> Result<BTreeMap<String, String>, Failure> {
    let mut out = BTreeMap::new();
    for v in values {
        let Some((env, value)) = v.split_once('=') else {
            return Err(refused(format!("--{flag} `{v}` is not ENV=VALUE"))
                .hint(format!("e.g. --{flag} stage=...")));
        };
        if !names.iter().any(|n| n == env) {
            return Err(refused(format!(
                "--{flag} names `{env}`, which is not one of the environments"
            ))
            .hint(format!("environments: {}", names.join(", "))));
        }
        out.insert(env.to_owned(), value.to_owned());
    }
    Ok(out)
}

pub fn run(global: &Global, args: Args, ui: &Ui) -> Result<()> {
    let repo = Repo::discover(&global.dir())?;
    if !repo.has_workdir() {
        return Err(
            refused("init needs a working tree to write .gitops.yaml in")
                .hint("run it in a clone")
                .into(),
        );
    }
    let path = repo.dir.join(config::FILE);
    if path.exists() {
        return Err(refused(format!("{} already exists", path.display()))
            .hint(format!(
                "edit it through a {}; `gitops status` shows what it configures",
                change_by_origin(&repo)
            ))
            .into());
    }
    require_origin(&repo)?;
    ui.spin("fetching origin", || git::cli::fetch(&repo.dir, REMOTE))?;
    let ask = ui.interactive() && !args.yes;

    let names: Vec<String> = match &args.environments {
        Some(names) => names
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        None if ask => ui
            .ask("Environments, in promotion order", "dev,stage,prod")?
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        None => Config::default()
            .environments
            .iter()
            .map(|e| e.name.clone())
            .collect(),
    };
    if names.is_empty() {
        return Err(refused("no environments given")
            .hint("e.g. --environments dev,stage,prod")
            .into());
    }
    for (i, name) in names.iter().enumerate() {
        if let Err(why) = config::valid_branch_name(name) {
            return Err(refused(format!("--environments: {why}"))
                .hint("environment names follow branch-name rules, e.g. --environments dev,stage,prod")
                .into());
        }
        if names[..i].contains(name) {
            return Err(refused(format!("--environments names `{name}` twice"))
                .hint("list each environment once, in promotion order")
                .into());
        }
    }
    let branches = pairs("branch", &args.branches, &names)?;
    let tags = pairs("tags", &args.tags, &names)?;
    let promotions = pairs("promotion", &args.promotions, &names)?;

    let policies = ["commit-sha", "semver-rc", "semver", "any"];
    let mut environments = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut env = default_environment(name, i, names.len());
        env.branch = match branches.get(name) {
            Some(b) => b.clone(),
            None if ask => ui.ask(&format!("{name}: branch"), name)?,
            None => name.clone(),
        };
        if let Err(why) = config::valid_branch_name(&env.branch) {
            return Err(refused(format!("--branch {name}: {why}"))
                .hint(format!("e.g. --branch {name}=release/{name}"))
                .into());
        }
        env.tags = match tags.get(name) {
            Some(p) => TagPolicy::parse(p).map_err(|e| {
                refused(format!("--tags {name}={p}: {e}"))
                    .hint(format!("e.g. --tags {name}=semver; the policies are commit-sha, semver-rc, semver, any, regex:<pattern>"))
            })?,
            None if ask => {
                let current = env.tags.to_string();
                let default = policies.iter().position(|p| *p == current).unwrap_or(3);
                TagPolicy::parse(
                    policies
                        [ui.choose(&format!("{name}: image tag policy"), &policies, default)?],
                )
                .map_err(refused)?
            }
            None => env.tags,
        };
        env.promotion = match promotions.get(name).map(String::as_str) {
            Some("auto-merge") => Promotion::AutoMerge,
            Some("pull-request") => Promotion::PullRequest,
            Some(other) => {
                return Err(refused(format!("--promotion {name}={other}: unknown mode"))
                    .hint("the modes are auto-merge and pull-request")
                    .into())
            }
            None if ask => {
                let modes = ["auto-merge", "pull-request"];
                let default = usize::from(env.promotion == Promotion::PullRequest);
                if ui.choose(&format!("{name}: promotion"), &modes, default)? == 0 {
                    Promotion::AutoMerge
                } else {
                    Promotion::PullRequest
                }
            }
            None => env.promotion,
        };
        environments.push(env);
    }
    let (base_label, base) = match repo.remote_default_branch(REMOTE) {
        Some(b) => (format!("{REMOTE}/{b}"), repo.remote_branch(REMOTE, &b)?),
        None => ("HEAD".to_owned(), repo.head_commit()),
    };
    let Some(base) = base else {
        return Err(
            refused("the repository has no commits to create environment branches from")
                .hint("commit something first, e.g. your manifests, and push it")
                .into(),
        );
    };

    // The team's images: given, else proposed from what the default branch runs.
    let draft = Config::from_environments(environments);
    let images = match &args.images {
        Some(patterns) => patterns
            .iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        None => {
            let proposed = propose_images(&repo, &draft, base)?;
            if ask {
                ui.ask(
                    "The team's images, as patterns (empty: every image is the team's)",
                    &proposed.join(","),
                )?
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
            } else {
                if !proposed.is_empty() {
                    ui.note(&format!(
                        "images: proposed from the images on {base_label} whose tags look like {}'s policy ({}); --images overrides.",
                        draft.environments[0].name, draft.environments[0].tags
                    ));
                }
                proposed
            }
        }
    };
    let images = (!images.is_empty()).then_some(images);
    let draft = draft.with_images(images).map_err(|e| {
        refused(format!("--images: {e}")).hint("e.g. --images 'registry.example.com/shop/*'")
    })?;

    // Validate what we are about to write exactly as it will be read back.
    let yaml = draft.to_yaml();
    let config = Config::parse(&yaml, config::FILE).map_err(|e| {
        refused(format!(
            "the answers do not make a valid configuration: {}",
            e.message
        ))
        .hint("check the --environments, --branch, --tags, --promotion and --images values")
    })?;
    let mut missing = Vec::new();
    for env in &config.environments {
        if repo.remote_branch(REMOTE, &env.branch)?.is_none() {
            missing.push(env.branch.clone());
        }
    }

    ui.note(&format!("Will write {}:", config::FILE));
    ui.note(&indent(&yaml));
    if missing.is_empty() {
        ui.note("Every environment branch already exists on origin: nothing to push.");
    } else {
        ui.note(&format!(
            "Will create {} from {base_label} ({}) and push {} to origin.",
            missing.join(", "),
            git::short(&base),
            if missing.len() == 1 { "it" } else { "them" }
        ));
    }
    let go = if args.yes {
        true
    } else if ui.interactive() {
        ui.confirm("Proceed?", true)?
    } else {
        return Err(refused("gitops init needs answers and there is no terminal to ask on")
            .hint("rerun with --yes to accept the plan above (and flags such as --environments to change it)")
            .into());
    };
    if !go {
        ui.note("Nothing written, nothing pushed.");
        return Ok(());
    }
    // Branches first, the file last: a push origin refuses leaves nothing
    // behind (the branches this run created are deleted again), and a rerun
    // starts from the same place.
    if !missing.is_empty() {
        let base_hex = base.to_string();
        let mut created = Vec::new();
        for branch in &missing {
            if repo.local_branch(branch)?.is_none() {
                git::cli::run(&repo.dir, &["branch", "--no-track", branch, &base_hex])?;
                created.push(branch.clone());
            }
        }
        let refspecs: Vec<String> = missing
            .iter()
            .map(|b| format!("{base_hex}:refs/heads/{b}"))
            .collect();
        if let Err(err) = ui.spin("pushing", || git::cli::push(&repo.dir, REMOTE, &refspecs)) {
            for branch in &created {
                let _ = git::cli::run(&repo.dir, &["branch", "--delete", "--force", branch]);
            }
            ui.note(&format!(
                "Nothing was left behind: no {} written, no branch created.",
                config::FILE
            ));
            return Err(err);
        }
        git::cli::fetch(&repo.dir, REMOTE)?;
        ui.note(&format!("Pushed {} to origin.", missing.join(", ")));
    }
    write_atomically(&path, &yaml)?;
    ui.note(&format!("Wrote {}.", path.display()));
    ui.note(&format!(
        "Next: commit {} through a {} into {}, then `gitops status`.",
        config::FILE,
        change_by_origin(&repo),
        config.environments[0].branch
    ));
    Ok(())
}

/// The `images:` patterns proposed for a repository: the images its manifests
/// at `commit` run (see [`propose_patterns`]).
fn propose_images(repo: &Repo, config: &Config, commit: Oid) -> Result<Vec<String>> {
    let tree = repo.commit(commit)?.tree;
    let mut seen = Vec::new();
    for (path, blob) in repo.tree_files(tree)? {
        if !config.is_manifest(&path) {
            continue;
        }
        let s = summary::summarize(&repo.blob(blob)?);
        seen.extend(s.images.into_iter().map(|i| (i.name, i.tag)));
    }
    Ok(propose_patterns(&seen, &config.environments[0].tags))
}

/// Which images are the team's, guessed from what a repository runs: those
/// whose tag follows the first environment's policy (commit ids, by default)
/// are built by the team. One pattern per distinct `registry/namespace/`
/// prefix of theirs (`registry.example.com/shop/cart` →
/// `registry.example.com/shop/*`), or the name itself when it has no `/`.
/// Nothing under policy `any` (every tag would qualify) nor for untagged
/// images.
pub fn propose_patterns(images: &[(String, Option<String>)], policy: &TagPolicy) -> Vec<String> {
    if *policy == TagPolicy::Any {
        return Vec::new();
    }
    let mut patterns = BTreeSet::new();
    for (name, tag) in images {
        let Some(tag) = tag else { continue };
        if policy.check(Some(tag)).is_err() {
            continue;
        }
        patterns.insert(match name.rsplit_once('/') {
            Some((prefix, _)) => format!("{prefix}/*"),
            None => name.clone(),
        });
    }
    patterns.into_iter().collect()
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes a file so that it is either whole or absent: a temporary file beside it,
/// then a rename.
pub fn write_atomically(path: &std::path::Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("gitops-tmp");
    crate::interrupt::uninterrupted(|| {
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_proposed_from_tags_that_follow_the_first_policy() {
        let seen = |list: &[(&str, Option<&str>)]| -> Vec<(String, Option<String>)> {
            list.iter()
                .map(|(n, t)| (n.to_string(), t.map(str::to_owned)))
                .collect()
        };
        // (images seen, first environment's policy, proposed patterns)
        type Case<'a> = (&'a [(&'a str, Option<&'a str>)], &'a str, &'a [&'a str]);
        let cases: &[Case] = &[
            (
                &[
                    ("registry.example.com/shop/cart", Some("3f9c2ab")),
                    ("registry.example.com/shop/web", Some("d31f8a2")),
                    ("redis", Some("7.2.4")),
                    ("busybox", Some("latest")),
                ],
                "commit-sha",
                &["registry.example.com/shop/*"],
            ),
            (
                &[
                    ("registry.example.com/shop/cart", Some("3f9c2ab")),
                    ("ghcr.io/shop/tools/migrate", Some("0123456789abcdef")),
                    ("worker", Some("abcdef0")),
                    ("registry.example.com/shop/db", None),
                ],
                "commit-sha",
                &[
                    "ghcr.io/shop/tools/*",
                    "registry.example.com/shop/*",
                    "worker",
                ],
            ),
            (
                &[("registry.example.com/shop/cart", Some("1.2.3"))],
                "commit-sha",
                &[],
            ),
            (
                &[
                    ("registry.example.com/shop/cart", Some("1.2.3")),
                    ("redis", Some("7.2.4")),
                ],
                "semver",
                &["redis", "registry.example.com/shop/*"],
            ),
            (
                &[("registry.example.com/shop/cart", Some("3f9c2ab"))],
                "any",
                &[],
            ),
            (&[], "commit-sha", &[]),
        ];
        for (images, policy, want) in cases {
            let policy = TagPolicy::parse(policy).unwrap();
            assert_eq!(
                propose_patterns(&seen(images), &policy),
                *want,
                "{images:?} under {policy}"
            );
        }
    }
}
