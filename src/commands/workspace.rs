//! What `status` and `diff` gather before they plan: the repository, `origin`
//! fetched (or not), the configuration, each environment's remote branch, and a
//! cache of parsed manifests keyed by blob id, so each blob is parsed once however
//! many environments share it.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cli::Global;
use crate::config::{self, Config};
use crate::drift::{self, DriftField, FileChange, Parsed};
use crate::error::refused;
use crate::git::{self, CommitInfo, Oid, Repo};
use crate::graph::Graph;
use crate::images::{self, ImageUse};
use crate::manifest::{self, Document, ParseError};
use crate::ui::Ui;

pub const REMOTE: &str = "origin";

/// A manifest blob, parsed once.
#[derive(Debug)]
pub struct ParsedBlob {
    pub docs: Result<Vec<Document>, ParseError>,
    pub images: Vec<ImageUse>,
}

fn parse_blob(bytes: &[u8]) -> ParsedBlob {
    let docs = manifest::parse_documents(bytes);
    let images = docs
        .as_ref()
        .map(|d| images::file_images(d))
        .unwrap_or_default();
    ParsedBlob { docs, images }
}

/// One environment's branch as fetched.
#[derive(Debug, Clone)]
pub struct EnvBranch {
    pub tip: Oid,
    pub tree: Oid,
}

/// A commit on an environment branch that brings values its upstream lacks.
#[derive(Debug, Clone)]
pub struct DriftCommit {
    pub commit: CommitInfo,
    pub fields: Vec<DriftField>,
}

pub struct Workspace {
    pub repo: Repo,
    pub config: Config,
    /// Where the configuration came from, for messages.
    pub config_source: String,
    /// Why `origin` was not fetched, when it was not.
    pub not_fetched: Option<String>,
    pub branches: Vec<EnvBranch>,
    pub graph: Graph<Oid>,
    pub commits: HashMap<Oid, CommitInfo>,
    parsed: HashMap<Oid, Arc<ParsedBlob>>,
    files: HashMap<Oid, Arc<HashMap<String, Oid>>>,
}

impl Workspace {
    /// Opens the repository, fetches `origin` (unless `fetch` is false; a failed
    /// fetch is a warning and the last fetched state is used), reads the
    /// configuration and resolves every environment branch on `origin`.
    pub fn open(global: &Global, ui: &Ui, fetch: bool) -> Result<Workspace> {
        let repo = Repo::discover(&global.dir())?;
        if repo.remote_url(REMOTE).is_none() {
            return Err(refused("this repository has no remote named `origin`")
                .hint("add it with `git remote add origin URL`, then `git fetch origin`")
                .into());
        }
        let mut not_fetched = None;
        if fetch {
            if let Err(err) = ui.spin("fetching origin", || git::cli::fetch(&repo.dir, REMOTE)) {
                ui.warn(&format!("{err}; showing what was fetched last"));
                not_fetched = Some(err.to_string());
            }
        } else {
            not_fetched = Some("--no-fetch".to_owned());
        }
        let (config, config_source) = load_config(&repo)?;
        let mut tips = Vec::new();
        let mut missing = Vec::new();
        for env in &config.environments {
            match repo.remote_branch(REMOTE, &env.branch)? {
                Some(tip) => tips.push(tip),
                None => missing.push(env.branch.clone()),
            }
        }
        if !missing.is_empty() {
            return Err(refused(format!(
                "environment branch{} {} not found on origin",
                if missing.len() == 1 { "" } else { "es" },
                missing.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")
            ))
            .hint("create them with `gitops init`, or fetch with `git fetch origin` if they were pushed since")
            .into());
        }
        let (graph, commits) = repo
            .load_graph(&tips)
            .context("reading the history of the environment branches")?;
        let branches = tips
            .iter()
            .map(|tip| EnvBranch {
                tip: *tip,
                tree: commits[tip].tree,
            })
            .collect();
        Ok(Workspace {
            repo,
            config,
            config_source,
            not_fetched,
            branches,
            graph,
            commits,
            parsed: HashMap::new(),
            files: HashMap::new(),
        })
    }

    /// Every file of a tree (cached).
    pub fn files(&mut self, tree: Oid) -> Result<Arc<HashMap<String, Oid>>> {
        if let Some(files) = self.files.get(&tree) {
            return Ok(files.clone());
        }
        let files: HashMap<String, Oid> = self.repo.tree_files(tree)?.into_iter().collect();
        let files = Arc::new(files);
        self.files.insert(tree, files.clone());
        Ok(files)
    }

    /// Parses the blobs not parsed yet, in parallel.
    pub fn parse(&mut self, ids: impl IntoIterator<Item = Oid>) -> Result<()> {
        let mut todo: Vec<Oid> = ids
            .into_iter()
            .filter(|id| !self.parsed.contains_key(id))
            .collect();
        todo.sort();
        todo.dedup();
        let parsed = self.repo.map_blobs(&todo, parse_blob)?;
        for (id, blob) in todo.into_iter().zip(parsed) {
            self.parsed.insert(id, Arc::new(blob));
        }
        Ok(())
    }

    /// A parsed blob (parsing it if needed).
    pub fn parsed(&mut self, id: Oid) -> Result<Arc<ParsedBlob>> {
        if !self.parsed.contains_key(&id) {
            self.parse([id])?;
        }
        Ok(self.parsed[&id].clone())
    }

    /// The manifests of a tree: path and blob, sorted by path.
    pub fn manifests(&mut self, tree: Oid) -> Result<Vec<(String, Oid)>> {
        let files = self.files(tree)?;
        let mut out: Vec<(String, Oid)> = files
            .iter()
            .filter(|(path, _)| self.config.is_manifest(path))
            .map(|(p, id)| (p.clone(), *id))
            .collect();
        out.sort();
        Ok(out)
    }

    fn drift_parsed(&mut self, id: Option<Oid>) -> Result<Option<Parsed>> {
        Ok(match id {
            None => None,
            Some(id) => Some(match &self.parsed(id)?.docs {
                Ok(docs) => Parsed::Docs(docs.clone()),
                Err(_) => Parsed::Unparseable,
            }),
        })
    }

    /// Commits on `env` (index) absent from its upstream that bring values the
    /// upstream does not have, newest first. The first environment has none.
    pub fn drift(&mut self, env: usize, upstream: usize) -> Result<Vec<DriftCommit>> {
        let env_tip = self.branches[env].tip;
        let up = self.branches[upstream].clone();
        let up_files = self.files(up.tree)?;
        let mut out = Vec::new();
        for id in self.graph.only_in(env_tip, up.tip) {
            let commit = self.commits[&id].clone();
            let before_tree = match commit.parents.first() {
                Some(p) => Some(self.commits[p].tree),
                None => None,
            };
            let merged_trees: Vec<Oid> = commit
                .parents
                .iter()
                .skip(1)
                .filter(|p| self.graph.is_ancestor(**p, up.tip))
                .map(|p| self.commits[p].tree)
                .collect();
            let deltas = self.repo.changes(before_tree, Some(commit.tree))?;
            let mut changes = Vec::new();
            for delta in deltas {
                if !self.config.is_manifest(&delta.path) {
                    continue;
                }
                let upstream_blob = up_files.get(&delta.path).copied();
                if delta.new.is_some() && delta.new == upstream_blob {
                    continue;
                }
                let mut merged_blobs = Vec::new();
                for tree in &merged_trees {
                    merged_blobs.push(self.repo.file_at(*tree, &delta.path)?);
                }
                if merged_blobs.contains(&delta.new) {
                    continue;
                }
                let mut merged = Vec::new();
                for blob in merged_blobs {
                    merged.push(self.drift_parsed(blob)?);
                }
                changes.push(FileChange {
                    path: delta.path.clone(),
                    before: self.drift_parsed(delta.old)?,
                    after: self.drift_parsed(delta.new)?,
                    upstream: self.drift_parsed(upstream_blob)?,
                    merged,
                });
            }
            let fields = drift::judge(&changes, &self.config.pinned_rules);
            if !fields.is_empty() {
                out.push(DriftCommit { commit, fields });
            }
        }
        Ok(out)
    }
}

/// Reads `.gitops.yaml` from what `origin` has, never from the user's working
/// tree: `origin/HEAD`, else the first default environment branch on origin, else
/// the committed HEAD, else the defaults.
pub fn load_config(repo: &Repo) -> Result<(Config, String)> {
    let mut candidates: Vec<(String, Option<Oid>)> = Vec::new();
    if let Some(branch) = repo.remote_default_branch(REMOTE) {
        candidates.push((
            format!("{REMOTE}/{branch}"),
            repo.remote_branch(REMOTE, &branch)?,
        ));
    }
    let first = &Config::default().environments[0].branch;
    candidates.push((
        format!("{REMOTE}/{first}"),
        repo.remote_branch(REMOTE, first)?,
    ));
    candidates.push(("HEAD".to_owned(), repo.head_commit()));
    for (label, commit) in candidates {
        let Some(commit) = commit else { continue };
        let tree = repo.commit(commit)?.tree;
        if let Some(blob) = repo.file_at(tree, config::FILE)? {
            let bytes = repo.blob(blob)?;
            let text = String::from_utf8_lossy(&bytes);
            let source = format!("{label}:{}", config::FILE);
            let cfg = Config::parse(&text, &source).map_err(|e| {
                refused(e.to_string()).hint(format!(
                    "fix {} on {label} through a pull request",
                    config::FILE
                ))
            })?;
            return Ok((cfg, source));
        }
    }
    Ok((Config::default(), "defaults (no .gitops.yaml)".to_owned()))
}
