//! Publishing a branch gitops owns (a promotion, an image update): one commit
//! pushed with a lease, and never over a person's commits — what `promote` and
//! `image set` share.

use anyhow::Result;

use super::repo_config::REMOTE;
use super::snapshot::Snapshot;
use crate::error::refused;
use crate::git::{self, Oid};
use crate::ui::Ui;

/// Puts `tree` on the branch gitops owns: a commit with `parents` and `message`
/// (which carries `trailer`), pushed with a lease. The branch may be replaced only
/// while every commit on it (beyond `base`) carries the trailer; a person's commit
/// stops it. When the branch already holds that tree on those parents, nothing is
/// pushed. Returns the branch's commit and whether it was pushed.
/// A commit gitops wants on a branch it owns.
pub struct Publish<'a> {
    pub branch: &'a str,
    /// The environment's tip: commits beyond it are the branch's own.
    pub base: Oid,
    pub tree: Oid,
    pub parents: &'a [Oid],
    pub message: &'a str,
    /// The trailer every gitops commit on the branch carries.
    pub trailer: &'a str,
}

pub fn publish(ws: &mut Snapshot, ui: &Ui, p: &Publish) -> Result<(Oid, bool)> {
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
    // Dated now (`GITOPS_NOW` in tests, so that their commit ids are reproducible).
    let id = ws
        .repo
        .write_commit(tree, parents, message, Some(super::now()))?;
    let expected = remote_tip.map(|t| t.to_string());
    ui.spin("pushing", || {
        git::cli::push_with_lease(
            &ws.repo.dir,
            REMOTE,
            &id.to_string(),
            branch,
            expected.as_deref(),
        )
    })?;
    Ok((id, true))
}

/// Commits reachable from `tip` and not from `to_tip` whose message lacks
/// `trailer`: the ones a person made on a branch gitops owns.
pub fn foreign_commits(
    ws: &mut Snapshot,
    tip: Oid,
    to_tip: Oid,
    trailer: &str,
) -> Result<Vec<git::CommitInfo>> {
    let known = ws.graph()?.ancestors(to_tip);
    let mut out = Vec::new();
    let mut stack = vec![tip];
    let mut seen = std::collections::HashSet::new();
    while let Some(id) = stack.pop() {
        if known.contains(&id) || !seen.insert(id) || ws.graph()?.nodes.contains_key(&id) {
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
