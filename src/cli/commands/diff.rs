//! `gitops diff ENV`: what `gitops promote ENV` would change, read from the
//! promotion tree it would push.

use anyhow::Result;

use crate::cli::Global;
use crate::engine::now;
use crate::engine::plan::{self, source_and_target};
use crate::engine::snapshot::Snapshot;
use crate::error::Exit;
use crate::git;
use crate::ui::Ui;

/// Show what promoting ENV would change.
///
/// Show what promoting ENV would change: the commits waiting in its upstream, the
/// files, and a semantic diff of the manifests (resources matched by API group,
/// kind, namespace and name; each changed field with its old and new value), all
/// read from the promotion tree `gitops promote` would push. Pinned values (the
/// team's image tags and the config's `pinned` keys) are listed apart as kept.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment to promote into.
    #[arg(add = clap_complete::ArgValueCandidates::new(crate::cli::environments))]
    pub env: String,
    /// Promote from this environment instead of ENV's upstream.
    #[arg(long, value_name = "ENV", add = clap_complete::ArgValueCandidates::new(crate::cli::environments))]
    pub from: Option<String>,
    /// The tag for an image ENV does not run yet (repeatable), as `promote` takes it.
    #[arg(long = "set-image", value_name = "NAME=TAG")]
    pub set_images: Vec<String>,
    /// Also print the unified text diff of the changed files.
    #[arg(long)]
    pub patch: bool,
    /// Print one JSON document (see the README for its shape).
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when there is something to promote.
    #[arg(long)]
    pub exit_code: bool,
    /// Do not fetch origin; use what was fetched last.
    #[arg(long)]
    pub no_fetch: bool,
}

pub fn run(global: &Global, args: Args, ui: &Ui) -> Result<()> {
    let mut ws = Snapshot::open(&global.dir(), ui, !args.no_fetch)?;
    let (from, to) = source_and_target(&ws, &args.env, args.from.as_deref(), "diff")?;
    let set_images = crate::promotion::plan::parse_set_images(&args.set_images)
        .map_err(crate::error::Failure::from)?;
    let (plan, built) = plan::plan(&mut ws, from, to, &set_images)?;
    let repo_dir = ws.repo.dir.clone();
    let change = ws.change_word();
    let target_tree = ws.branches[to].tree;
    // Freeing the workspace just before exiting is wasted time.
    ws.end_without_freeing();
    if args.json {
        ui.json(&plan)?;
    } else {
        ui.out(&plan::render(&plan, ui, now(), change))?;
        if let (true, Some(built)) = (args.patch && !plan.files.is_empty(), built) {
            let (old, new) = (target_tree.to_string(), built.tree.to_string());
            let mut argv = vec![
                "diff",
                "--no-color",
                "--no-ext-diff",
                old.as_str(),
                new.as_str(),
                "--",
            ];
            argv.extend(plan.files.iter().map(|f| f.path.as_str()));
            ui.out("\n")?;
            ui.out(&git::cli::run(&repo_dir, &argv)?)?;
        }
    }
    if args.exit_code && !plan.commits.is_empty() {
        return Err(Exit(crate::error::exit::FOUND).into());
    }
    Ok(())
}
