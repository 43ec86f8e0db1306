//! `gitops feature start`: branch off the freshest first environment.

use anyhow::Result;

use crate::cli::Global;
use crate::config::valid_branch_name;
use crate::engine::pull_request::{self, Action, PullOut};
use crate::engine::repo_config::{load_config, require_origin, track, REMOTE};
use crate::error::refused;
use crate::git::{self, Repo};
use crate::ui::Ui;

/// Work on feature branches cut from the first environment.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Start(StartArgs),
    Finish(FinishArgs),
}

/// Push the current feature branch and open its pull request into the first
/// environment, or refresh the one already open. Refuses on an environment branch.
#[derive(Debug, clap::Args)]
pub struct FinishArgs {
    /// Open the pull request as a draft.
    #[arg(long)]
    pub draft: bool,
    /// Show what would be pushed and the pull request; push nothing (no token needed).
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON document: action, branch, pull_request.
    #[arg(long)]
    pub json: bool,
}

/// What `feature finish --json` prints.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct FinishOut {
    /// Planned, pushed, unchanged, opened or updated.
    pub action: Action,
    pub branch: String,
    pub base: String,
    pub commits: usize,
    pub pull_request: Option<PullOut>,
    pub compare_url: Option<String>,
    pub title: String,
}

/// Fetch origin, create NAME from `origin/<first environment>` (not from a stale
/// local branch), check it out and set it to push to `origin/NAME`.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// The new branch.
    pub name: String,
    /// Branch off this environment instead of the first one.
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::cli::environments))]
    pub from: Option<String>,
    /// Do not fetch: branch off the local environment branch.
    #[arg(long)]
    pub offline: bool,
}

pub fn run(global: &Global, cmd: Command, ui: &Ui) -> Result<()> {
    match cmd {
        Command::Start(args) => start(global, args, ui),
        Command::Finish(args) => finish(global, args, ui),
    }
}

fn start(global: &Global, args: StartArgs, ui: &Ui) -> Result<()> {
    let repo = Repo::discover(&global.dir())?;
    let name = args.name.as_str();
    let name_hint = "branch names follow `git check-ref-format --branch`: no spaces, `..`, `~^:?*[\\`, leading `-` or `/`, e.g. add-redis or feature/add-redis";
    if let Err(why) = valid_branch_name(name) {
        return Err(refused(why).hint(name_hint).into());
    }
    if !git::cli::check_branch_name(&repo.dir, name)? {
        return Err(refused(format!("`{name}` is not a valid branch name"))
            .hint(name_hint)
            .into());
    }
    if !repo.has_workdir() {
        return Err(
            refused("this repository has no working tree to check a branch out in")
                .hint("run it in a clone with a working tree")
                .into(),
        );
    }
    require_origin(&repo)?;
    if !args.offline {
        ui.spin("fetching origin", || git::cli::fetch(&repo.dir, REMOTE)).map_err(|e| match e.downcast::<crate::error::Failure>() {
            Ok(f) => anyhow::Error::new(
                crate::error::remote(format!("origin cannot be reached: {}", f.message))
                    .hint(format!("gitops feature start {name} --offline branches off your local copy instead")),
            ),
            Err(e) => e,
        })?;
    }
    let (config, _) = load_config(&repo)?;
    let env = match &args.from {
        Some(from) => config.environment(from)?.1.clone(),
        None => config.environments[0].clone(),
    };
    if config
        .environments
        .iter()
        .any(|e| e.branch == name || e.name == name)
    {
        return Err(
            refused(format!("`{name}` is an environment branch, not a feature"))
                .hint("pick a feature name, e.g. add-redis")
                .into(),
        );
    }
    if repo.local_branch(name)?.is_some() {
        return Err(
            refused(format!("a branch named `{name}` already exists here"))
                .hint(format!(
                    "switch to it with `git switch {name}`, or pick another name"
                ))
                .into(),
        );
    }
    if repo.remote_branch(REMOTE, name)?.is_some() {
        return Err(
            refused(format!("a branch named `{name}` already exists on origin"))
                .hint(format!(
                    "work on it with `git switch {name}`, or pick another name"
                ))
                .into(),
        );
    }
    let (base_label, base) = if args.offline {
        match repo.local_branch(&env.branch)? {
            Some(id) => (env.branch.clone(), id),
            None => match repo.remote_branch(REMOTE, &env.branch)? {
                Some(id) => (format!("{REMOTE}/{}", env.branch), id),
                None => {
                    return Err(refused(format!(
                        "there is no local `{}` branch to start from",
                        env.branch
                    ))
                    .hint(format!("fetch it first: git fetch {REMOTE} {}", env.branch))
                    .into())
                }
            },
        }
    } else {
        match repo.remote_branch(REMOTE, &env.branch)? {
            Some(id) => (format!("{REMOTE}/{}", env.branch), id),
            None => {
                return Err(refused(format!(
                    "environment branch `{}` not found on origin",
                    env.branch
                ))
                .hint("create the environment branches with `gitops init`")
                .into())
            }
        }
    };
    // Uncommitted work the checkout would lose: a tracked file changed here that
    // also differs between HEAD and the base. Git would carry anything else along.
    let dirty = git::cli::dirty_tracked_files(&repo.dir)?;
    if !dirty.is_empty() {
        let differing: std::collections::HashSet<String> = match repo.head_commit() {
            Some(head) => {
                let head_tree = repo.commit(head)?.tree;
                let base_tree = repo.commit(base)?.tree;
                repo.changes(Some(head_tree), Some(base_tree))?
                    .into_iter()
                    .map(|d| d.path)
                    .collect()
            }
            None => dirty.iter().cloned().collect(),
        };
        let lost: Vec<&String> = dirty.iter().filter(|p| differing.contains(*p)).collect();
        if !lost.is_empty() {
            return Err(refused(format!(
                "uncommitted changes to {} would be lost by checking out {base_label}",
                lost.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .hint("commit them (`git commit -am ...`) or stash them (`git stash`), then run this again")
            .into());
        }
    }
    let base_hex = base.to_string();
    git::cli::run(
        &repo.dir,
        &["checkout", "--quiet", "--no-track", "-b", name, &base_hex],
    )
    .map_err(|e| {
        refused(format!("could not check out `{name}`: {e}"))
            .hint("commit or stash your changes (`git stash`), then run this again")
    })?;
    track(&repo, name)?;
    ui.note(&format!(
        "Switched to a new branch `{name}` from {base_label} ({}); it pushes to {REMOTE}/{name}.",
        git::short(&base)
    ));
    ui.note(&format!(
        "Commit your change, then push it and open a {} into the first environment.",
        pull_request::forge_kind(&repo, &config).change()
    ));
    Ok(())
}

fn finish(global: &Global, args: FinishArgs, ui: &Ui) -> Result<()> {
    let repo = Repo::discover(&global.dir())?;
    let Some(branch) = repo.current_branch() else {
        return Err(refused("HEAD is not on a branch")
            .hint("switch to your feature branch first: git switch NAME")
            .into());
    };
    require_origin(&repo)?;
    let (config, _) = load_config(&repo)?;
    let change = pull_request::forge_kind(&repo, &config).change();
    if let Some(env) = config.environments.iter().find(|e| e.branch == branch) {
        return Err(refused(format!(
            "`{branch}` is the branch of environment {}: changes reach it through {}s, not pushes",
            env.name, change
        ))
        .hint("start a feature branch: gitops feature start NAME")
        .into());
    }
    let Some(head) = repo.head_commit() else {
        return Err(refused(format!("`{branch}` has no commits yet"))
            .hint("commit your change first")
            .into());
    };
    if !args.dry_run {
        ui.spin("fetching origin", || git::cli::fetch(&repo.dir, REMOTE))?;
    }
    let base = config.environments[0].branch.clone();
    let Some(base_tip) = repo.remote_branch(REMOTE, &base)? else {
        return Err(
            refused(format!("environment branch `{base}` not found on origin"))
                .hint("create the environment branches with `gitops init`")
                .into(),
        );
    };
    let history = repo.load_graph(&[head, base_tip])?;
    let ahead = history.graph.only_in(head, base_tip);
    if ahead.is_empty() {
        return Err(refused(format!(
            "`{branch}` has no commits that {base} does not have"
        ))
        .hint("commit your change, then run gitops feature finish again")
        .into());
    }
    let mut commits = Vec::new();
    for id in &ahead {
        commits.push(repo.commit(*id)?);
    }
    // Like `gh pr create --fill`: one commit gives its subject, several the branch name.
    let title = if commits.len() == 1 {
        commits[0].summary.clone()
    } else {
        branch.replace(['-', '_'], " ")
    };
    let mut body = format!("Merges `{branch}` into `{base}`.\n\n### Commits\n\n");
    for c in commits.iter().rev() {
        body.push_str(&format!("- `{}` {} ({})\n", c.short(), c.summary, c.author));
    }
    body.push_str(&format!("\n<!-- gitops:feature {branch} -->\n"));
    let mut out = FinishOut {
        action: Action::Planned,
        branch: branch.clone(),
        base: base.clone(),
        commits: commits.len(),
        pull_request: None,
        compare_url: None,
        title: title.clone(),
    };
    if args.dry_run {
        if args.json {
            return ui.json(&out);
        }
        ui.out(&format!(
            "Would push {branch} ({} commit{}) and open a {} into {base}:\n\n{title}\n\n{body}",
            commits.len(),
            if commits.len() == 1 { "" } else { "s" },
            change
        ))?;
        ui.note("Dry run: nothing pushed.");
        return Ok(());
    }
    let remote_tip = repo.remote_branch(REMOTE, &branch)?;
    if remote_tip != Some(head) {
        let refspec = format!("HEAD:refs/heads/{branch}");
        ui.spin("pushing", || {
            git::cli::push(&repo.dir, REMOTE, std::slice::from_ref(&refspec))
        })?;
        track(&repo, &branch)?;
        out.action = Action::Pushed;
    } else {
        out.action = Action::Unchanged;
    }
    let outcome = pull_request::upsert(
        &repo,
        &config,
        ui,
        &pull_request::Wanted {
            head: &branch,
            base: &base,
            title: &title,
            body: &body,
            draft: args.draft,
            labels: &[],
            reviewers: &[],
            auto_merge: false,
        },
    )?;
    out.action = out.action.then(outcome.action);
    out.pull_request = outcome.pull;
    out.compare_url = outcome.compare_url;
    if args.json {
        ui.json(&out)?;
    }
    Ok(())
}
