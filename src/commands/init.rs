//! `gitops init`: write `.gitops.yaml` and create the missing environment branches.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use super::workspace::{require_origin, REMOTE};
use crate::cli::Global;
use crate::config::{self, default_environment, Config, Promotion};
use crate::error::{refused, Failure};
use crate::git::{self, Repo};
use crate::policy::TagPolicy;
use crate::ui::Ui;

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
            .hint("edit it through a pull request; `gitops status` shows what it configures")
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
    // Validate what we are about to write exactly as it will be read back.
    let yaml = Config::from_environments(environments).to_yaml();
    let config = Config::parse(&yaml, config::FILE).map_err(|e| {
        refused(format!(
            "the answers do not make a valid configuration: {}",
            e.message
        ))
        .hint("check the --environments, --branch, --tags and --promotion values")
    })?;

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
    write_atomically(&path, &yaml)?;
    ui.note(&format!("Wrote {}.", path.display()));
    if !missing.is_empty() {
        let base_hex = base.to_string();
        for branch in &missing {
            if repo.local_branch(branch)?.is_none() {
                git::cli::run(&repo.dir, &["branch", "--no-track", branch, &base_hex])?;
            }
        }
        let refspecs: Vec<String> = missing
            .iter()
            .map(|b| format!("{base_hex}:refs/heads/{b}"))
            .collect();
        ui.spin("pushing", || git::cli::push(&repo.dir, REMOTE, &refspecs))?;
        git::cli::fetch(&repo.dir, REMOTE)?;
        ui.note(&format!("Pushed {} to origin.", missing.join(", ")));
    }
    ui.note(&format!(
        "Next: commit {} through a pull request into {}, then `gitops status`.",
        config::FILE,
        config.environments[0].branch
    ));
    Ok(())
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
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
