//! Drift, as `status` finds it: the commits on an environment branch that brought
//! values its upstream does not have and that the branch still carries. The
//! decisions are [`crate::promotion::drift`]'s; this walks the history for them.

use anyhow::Result;

use super::snapshot::Snapshot;
use crate::git::{CommitInfo, Oid};
use crate::model::manifest::{resources, ResourceKey};
use crate::promotion::drift::{self, DriftField, FileChange, Parsed};

/// A commit on an environment branch that brings values its upstream lacks.
#[derive(Debug, Clone)]
pub struct DriftCommit {
    pub commit: CommitInfo,
    pub fields: Vec<DriftField>,
}

impl Snapshot {
    fn drift_parsed(&mut self, id: Option<Oid>) -> Result<Option<Parsed>> {
        Ok(self.optional_docs(id)?.map(|d| match &*d {
            Ok(docs) => Parsed::Docs(docs.clone()),
            Err(_) => Parsed::Unparseable,
        }))
    }

    /// A version of the file at `path` for judging the resources of `keys`
    /// alone: in a file of many documents, only the documents of those
    /// resources ([`crate::model::manifest::DocCache::docs_with_keys`]); else whole.
    fn drift_parsed_of(
        &mut self,
        path: &str,
        id: Option<Oid>,
        keys: &foldhash::HashSet<ResourceKey>,
    ) -> Result<Option<Parsed>> {
        let Some(id) = id else {
            return Ok(None);
        };
        if let Some(docs) = self.docs_of_keys(path, id, keys)? {
            return Ok(Some(Parsed::Docs(docs)));
        }
        self.drift_parsed(Some(id))
    }

    /// Commits on environment `env` (index), absent from `upstream`, that brought
    /// values the upstream does not have and that the branch still carries (the
    /// ones a promotion keeps through its three-way merge, or conflicts with when
    /// the upstream changed the same lines), newest first.
    ///
    /// First the branch's tip is compared with its merge base with the upstream:
    /// what the branch changed on its own since they last met, pinned values
    /// aside, and the upstream's tip does not have. Only the files found there are
    /// then followed through the branch's own commits to name the commits, each
    /// judged field by field ([`drift::judge`]).
    pub fn drift(&mut self, env: usize, upstream: usize) -> Result<Vec<DriftCommit>> {
        let env_b = self.branches[env].clone();
        let up_b = self.branches[upstream].clone();
        let base_tree = self
            .graph()?
            .merge_base(env_b.tip, up_b.tip)
            .map(|b| self.tree_of(b));
        let deltas = self.repo.changes(base_tree, Some(env_b.tree))?;
        let delta_paths: Vec<&str> = deltas.iter().map(|d| d.path.as_str()).collect();
        let up_blobs = self.repo.files_at(up_b.tree, &delta_paths)?;
        // The versions compared below, summarised together on every core
        // rather than one by one (in a fresh clone the merge base's are not).
        let compared: Vec<Oid> = deltas
            .iter()
            .zip(&up_blobs)
            .filter(|(delta, _)| self.config.is_manifest(&delta.path))
            .flat_map(|(delta, up)| [delta.old, delta.new, *up])
            .flatten()
            .collect();
        self.summarize(compared)?;
        let mut paths = Vec::new();
        let mut upstream_blobs = Vec::new();
        for (delta, up_blob) in deltas.iter().zip(up_blobs) {
            if !self.config.is_manifest(&delta.path) {
                continue;
            }
            let versions = drift::Versions {
                base: delta.old,
                branch: delta.new,
                upstream: up_blob,
            };
            if !drift::may_drift(versions, |a, b| self.same_values(&delta.path, a, b))? {
                continue;
            }
            paths.push(delta.path.clone());
            upstream_blobs.push(up_blob);
        }
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let path_refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let up_ancestors = self.graph()?.ancestors(up_b.tip);
        // Where the drifted files were in every commit involved, looked up on
        // every core: each commit's tree, its parents' trees.
        let candidates = self.graph()?.only_in(env_b.tip, up_b.tip);
        let mut trees: Vec<Oid> = Vec::new();
        for id in &candidates {
            trees.push(self.tree_of(*id));
            trees.extend(
                self.graph()?.nodes[id]
                    .parents
                    .iter()
                    .map(|p| self.tree_of(*p)),
            );
        }
        trees.sort();
        trees.dedup();
        let found = self
            .repo
            .par_map(&trees, 8, |repo, tree| repo.files_at(*tree, &path_refs))?;
        // Every version of the drifted files in those commits, summarised
        // together too.
        self.summarize(found.iter().flatten().flatten().copied())?;
        let at: gix::hashtable::HashMap<Oid, Vec<Option<Oid>>> =
            trees.into_iter().zip(found).collect();
        let mut out = Vec::new();
        for id in candidates {
            let tree = self.tree_of(id);
            let parents = self.graph()?.nodes[&id].parents.clone();
            let before_tree = parents.first().map(|p| self.tree_of(*p));
            if before_tree == Some(tree) {
                continue;
            }
            let merged_trees: Vec<Oid> = parents
                .iter()
                .skip(1)
                .filter(|p| up_ancestors.contains(*p))
                .map(|p| self.tree_of(*p))
                .collect();

            let mut changes = Vec::new();
            for (k, path) in paths.iter().enumerate() {
                let after = at[&tree][k];
                let before = before_tree.and_then(|t| at[&t][k]);
                let merged_blobs: Vec<Option<Oid>> =
                    merged_trees.iter().map(|t| at[t][k]).collect();
                if !drift::commit_changed(before, after, &merged_blobs, |a, b| {
                    self.same_values(path, a, b)
                })? {
                    continue;
                }
                // In a file of many documents, those the commit changed in
                // values, and the other versions' documents of the same
                // resources; else whole.
                let plain = self.plain(path);
                let changed = match (before, after) {
                    (Some(b), Some(a)) => self.changed_docs(path, b, a, true)?,
                    _ => None,
                };
                let change = match changed {
                    Some((db, da)) => {
                        let keys: foldhash::HashSet<ResourceKey> = resources(path, &db, plain)
                            .into_iter()
                            .chain(resources(path, &da, plain))
                            .map(|r| r.key)
                            .collect();
                        let mut merged = Vec::new();
                        for blob in merged_blobs {
                            merged.push(self.drift_parsed_of(path, blob, &keys)?);
                        }
                        FileChange {
                            path: path.clone(),
                            before: Some(Parsed::Docs(db)),
                            after: Some(Parsed::Docs(da)),
                            upstream: self.drift_parsed_of(path, upstream_blobs[k], &keys)?,
                            merged,
                            plain,
                        }
                    }
                    None => {
                        let mut merged = Vec::new();
                        for blob in merged_blobs {
                            merged.push(self.drift_parsed(blob)?);
                        }
                        FileChange {
                            path: path.clone(),
                            before: self.drift_parsed(before)?,
                            after: self.drift_parsed(after)?,
                            upstream: self.drift_parsed(upstream_blobs[k])?,
                            merged,
                            plain,
                        }
                    }
                };
                changes.push(change);
            }
            if changes.is_empty() {
                continue;
            }
            let fields = drift::judge(&changes, &self.config.pinned_rules);
            if !fields.is_empty() {
                out.push(DriftCommit {
                    commit: self.commit(id)?,
                    fields,
                });
            }
        }
        Ok(out)
    }
}
