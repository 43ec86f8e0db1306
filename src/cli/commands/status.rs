//! `gitops status`: what each environment runs, what is waiting, what drifted.

use anyhow::Result;

use crate::cli::Global;
use crate::engine::overview::{gather, render, Status};
use crate::engine::{now, snapshot::Snapshot};
use crate::ui::Ui;

/// Show what each environment runs, what is waiting and what drifted.
///
/// Show each environment in promotion order: its branch and head, the commits
/// waiting in its upstream and the apps they touch, drift, and every image tag.
///
/// Reads `origin/<branch>` after fetching origin: your checkout, dirty or on a
/// feature branch, does not change the answer.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON document (see the README for its shape).
    #[arg(long)]
    pub json: bool,
    /// Do not fetch origin; use what was fetched last.
    #[arg(long)]
    pub no_fetch: bool,
}

pub fn run(global: &Global, args: Args, ui: &Ui) -> Result<()> {
    let mut ws = Snapshot::open(&global.dir(), ui, !args.no_fetch)?;
    let mut status = gather(&mut ws)?;
    let kind = crate::engine::pull_request::forge_kind(&ws.repo, &ws.config);
    ask_pull_requests(&ws, kind, ui, &mut status);
    // Freeing tens of thousands of small allocations just before exiting is
    // wasted time; the process is about to end.
    ws.end_without_freeing();
    if args.json {
        return ui.json(&status);
    }
    ui.out(&render(&status, ui, now(), kind.change()))?;
    if let Some(reason) = &status.not_fetched {
        if reason != "--no-fetch" {
            ui.note("origin was not reached: this is the state fetched last");
        }
    }
    Ok(())
}

/// Fills in each environment's open promotion pull (merge) request — one
/// request per environment on GitHub, two on GitLab — when there is a token and
/// the forge can be reached; otherwise says once, on stderr, what was not
/// asked. The forge failing is a warning here: the local answer still comes.
fn ask_pull_requests(ws: &Snapshot, kind: crate::forge::Kind, ui: &Ui, status: &mut Status) {
    let offline = status
        .not_fetched
        .as_deref()
        .is_some_and(|r| r != "--no-fetch");
    if offline {
        ui.note(&format!(
            "Promotion {}s: not asked (origin was not reached; the forge likely is not either).",
            kind.change()
        ));
        return;
    }
    use crate::forge::Connection;
    let forge = match crate::engine::pull_request::connect(&ws.repo, &ws.config) {
        Ok(Connection::Ready(forge)) => forge,
        Ok(Connection::NoProject) => return,
        Ok(Connection::NoToken(l)) => {
            ui.note(&format!(
                "Promotion {}s: not asked ({}: set {}).",
                l.kind.change(),
                l.kind.no_token(),
                l.kind.token_places()
            ));
            return;
        }
        Err(e) => {
            ui.warn(&format!("promotion {}s not asked: {e}", kind.change()));
            return;
        }
    };
    for env in status.environments.iter_mut() {
        let Some(upstream) = env.upstream.clone() else {
            continue;
        };
        let branch = crate::promotion::branch(&upstream, &env.name);
        match forge.open_with_checks(&branch, &env.branch) {
            Ok(pull) => env.pull_request = pull,
            Err(e) => {
                ui.warn(&format!(
                    "could not ask {} for the promotion {}s: {e}",
                    forge.kind(),
                    forge.kind().change()
                ));
                return;
            }
        }
    }
}
