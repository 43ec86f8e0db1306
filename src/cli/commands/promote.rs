//! `gitops promote ENV`: build the promotion branch in the object store, push it
//! and open (or refresh) its pull request. The plan it shows and pushes is
//! `crate::engine::plan`'s, read from the tree it builds.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::cli::Global;
use crate::config::Promotion;
use crate::engine::plan::{self, source_and_target, Plan};
use crate::engine::publish::{publish, Publish};
use crate::engine::pull_request::{self, Action, PullOut, Wanted};
use crate::engine::snapshot::Snapshot;
use crate::engine::{app_of, now};
use crate::error::{refused, remote, Failure};
use crate::git;
use crate::promotion::{self, BodyCommit, BodyInput};
use crate::ui::{Tone, Ui};

/// Promote into ENV: build the promotion branch and open its pull request.
///
/// Promote the next environment: merge its upstream (or `--from`) into it on the
/// branch `gitops/promote-<from>-to-<env>`, built in the object store — never in
/// your checkout — keeping ENV's pinned values (the team's image tags, the
/// config's pinned keys), then push it and open or refresh the pull request into
/// ENV.
///
/// Any conflict besides pinned values stops the promotion and names the files and
/// ENV's commits on them. An image of the team's that ENV does not run yet (new,
/// or renamed) needs a tag valid under ENV's policy, or `--set-image NAME=TAG`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment to promote into.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::environments))]
    pub env: String,
    /// Promote from this environment instead of ENV's upstream.
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::cli::environments))]
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
    /// The tag for an image ENV does not run yet (repeatable), e.g. `--set-image search=1.0.0`.
    #[arg(long = "set-image", value_name = "NAME=TAG")]
    pub set_images: Vec<String>,
    /// Print one JSON document (see the README).
    #[arg(long)]
    pub json: bool,
}

/// What `promote --json` prints: the outcome, then the plan read from the tree
/// it built (as `diff --json` has it).
#[derive(Debug, Serialize, Deserialize)]
pub struct PromoteOut {
    pub action: Action,
    pub from: String,
    pub to: String,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub pull_request: Option<PullOut>,
    /// How many commits the promotion brings.
    pub commits: usize,
    pub title: Option<String>,
    pub body: Option<String>,
    /// Where to open the pull request, when it was not opened (no token).
    pub compare_url: Option<String>,
    pub files: Vec<plan::FileOut>,
    pub resources: Vec<crate::model::semdiff::ResourceChange>,
    pub kept: Vec<crate::model::semdiff::Kept>,
    pub warnings: Vec<String>,
}

fn body_input(plan: &Plan) -> BodyInput {
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
                let change = format!("{:?}", r.change).to_lowercase();
                let mut head = format!("`{name}` {change}");
                if !r.images.is_empty() {
                    let images: Vec<String> = r.images.iter().map(|i| format!("`{i}`")).collect();
                    head.push_str(&format!(", runs {}", images.join(", ")));
                }
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
                let name = match &k.kind {
                    Some(kind) => format!("`{kind}/{}` in `{}`", k.name, k.file),
                    None => format!("`{}`", k.file),
                };
                format!(
                    "{name} `{}`: {} ({} has {})",
                    k.path, k.value, plan.from, k.upstream
                )
            })
            .collect(),
        drift: plan
            .drift
            .iter()
            .map(|d| format!("`{}` {} ({})", &d.id[..7], d.summary, d.author))
            .collect(),
        warnings: plan.warnings.clone(),
    }
}

pub fn run(global: &Global, args: Args, ui: &Ui) -> Result<()> {
    let mut ws = Snapshot::open(&global.dir(), ui, true)?;
    if let (false, Some(why)) = (args.dry_run, &ws.not_fetched) {
        return Err(
            remote(format!("cannot promote without reaching origin: {why}"))
                .hint("check the network; --dry-run shows the plan from what was fetched last")
                .into(),
        );
    }
    let (from, to) = source_and_target(&ws, &args.env, args.from.as_deref(), "promote")?;
    let set_images = promotion::plan::parse_set_images(&args.set_images).map_err(Failure::from)?;
    let from_name = ws.config.environments[from].name.clone();
    let to_env = ws.config.environments[to].clone();
    let (plan, built) = plan::plan(&mut ws, from, to, &set_images)?;
    let kind = pull_request::forge_kind(&ws.repo, &ws.config);
    let change = kind.change();
    let mut out = PromoteOut {
        action: Action::Nothing,
        from: from_name.clone(),
        to: to_env.name.clone(),
        branch: None,
        commit: None,
        pull_request: None,
        commits: plan.commits.len(),
        title: None,
        body: None,
        compare_url: None,
        files: plan.files.clone(),
        resources: plan.resources.clone(),
        kept: plan.kept.clone(),
        warnings: plan.warnings.clone(),
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
    let built = match (built, &plan.blocked) {
        (Some(built), None) => built,
        (_, Some(blocked)) => return Err(plan::refusal(blocked).into()),
        (None, None) => anyhow::bail!("the promotion tree was not built"),
    };
    let title = promotion::title(&from_name, &to_env.name);
    let body = promotion::body(&body_input(&plan), change);
    let branch = promotion::branch(&from_name, &to_env.name);
    out.branch = Some(branch.clone());
    out.title = Some(title.clone());
    out.body = Some(body.clone());

    if args.dry_run {
        out.action = Action::Planned;
        if args.json {
            return ui.json(&out);
        }
        ui.out(&plan::render(&plan, ui, now(), change))?;
        ui.out(&format!(
            "\n{} {branch} → {}\n{}\n\n{body}",
            ui.paint(Tone::Bold, &format!("{}:", kind.change_title())),
            to_env.branch,
            ui.paint(Tone::Bold, &title)
        ))?;
        ui.note("Dry run: nothing pushed.");
        return Ok(());
    }
    // A manifest that does not parse cannot have the target's pinned values set
    // in it: promoting it would hand the target the source's values (and a
    // broken file). Named, never pushed.
    let broken: Vec<String> = plan
        .unparseable
        .iter()
        .filter(|u| {
            plan.files
                .iter()
                .any(|f| f.path == u.file && f.change != plan::FileChange::Deleted)
        })
        .map(|u| format!("{}:{}: {}", u.file, u.line, u.message))
        .collect();
    if !broken.is_empty() {
        let files = broken;
        return Err(refused(format!(
            "manifests this promotion changes do not parse, so {}'s pinned values cannot be kept in them: {}",
            to_env.name,
            files.join("; ")
        ))
        .hint(format!(
            "fix them on {from_name} through a {change}, then promote again (gitops diff {} shows the rest of the plan)",
            to_env.name
        ))
        .into());
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
        ui.out(&plan::render(&plan, ui, now(), change))?;
        if !ui.confirm(&format!("Promote {from_name} to {}?", to_env.name), false)? {
            ui.note("Nothing pushed.");
            return Ok(());
        }
    }

    let (to_tip, from_tip) = (built.target_tip, built.source_tip);
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
    out.action = if pushed {
        Action::Pushed
    } else {
        Action::Unchanged
    };
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
            labels: &ws.config.forge.options.labels,
            reviewers: &ws.config.forge.options.reviewers,
            auto_merge: to_env.promotion == Promotion::AutoMerge,
        },
    )?;
    out.action = out.action.then(outcome.action);
    out.pull_request = outcome.pull;
    out.compare_url = outcome.compare_url;
    if args.json {
        ui.json(&out)?;
    } else {
        ui.note(&format!(
            "{branch} {} ({}).",
            match out.action {
                Action::Unchanged => "is up to date",
                _ => "pushed",
            },
            git::short(&commit)
        ));
    }
    Ok(())
}
