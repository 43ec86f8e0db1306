//! What `status` and `diff` gather before they plan: the repository, `origin`
//! fetched (or not), the configuration, each environment's remote branch, and
//! per-blob knowledge that environments share: a summary of every manifest blob
//! (its images, whether it parses), made once per blob and kept in
//! `.git/gitops/` between runs, and the parsed documents of the few blobs a
//! semantic comparison needs.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cli::Global;
use crate::config::{self, Config};
use crate::drift::{self, DriftField, FileChange, Parsed};
use crate::error::refused;
use crate::git::{self, CommitInfo, Oid, Repo};
use crate::graph::Graph;
use crate::manifest::{self, Document, ParseError};
use crate::semdiff;
use crate::summary::{self, Summary};
use crate::ui::Ui;

pub const REMOTE: &str = "origin";

/// The summary cache in `.git/gitops/`. Its version is that of
/// [`summary::summarize`] and of the encoding (bump it when either changes) and
/// gitops's own: another build never trusts this one's summaries.
const SUMMARY_CACHE: git::cache::Format = git::cache::Format {
    name: "summaries",
    version: concat!("4-", env!("CARGO_PKG_VERSION")),
};

/// The summaries read from the cache: decoded on another thread while the run
/// reads the history and lists the trees, and waited for when first needed.
struct Cached {
    decoding: Option<std::thread::JoinHandle<gix::hashtable::HashMap<Oid, Summary>>>,
    decoded: gix::hashtable::HashMap<Oid, Summary>,
}

impl Cached {
    fn get(&mut self) -> &mut gix::hashtable::HashMap<Oid, Summary> {
        if let Some(handle) = self.decoding.take() {
            self.decoded = handle.join().unwrap_or_default();
        }
        &mut self.decoded
    }
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

/// The manifests of a tree: path and blob, sorted by path.
pub type Manifests = Arc<Vec<(String, Oid)>>;

/// A blob's documents, or why it does not parse.
pub type Docs = Arc<Result<Vec<Document>, ParseError>>;

pub struct Workspace {
    pub repo: Repo,
    pub config: Config,
    /// Where the configuration came from, for messages.
    pub config_source: String,
    /// Why `origin` was not fetched, when it was not.
    pub not_fetched: Option<String>,
    pub branches: Vec<EnvBranch>,
    pub graph: Graph<Oid>,
    /// Each loaded commit's tree.
    trees: gix::hashtable::HashMap<Oid, Oid>,
    /// Commits decoded for display.
    infos: HashMap<Oid, CommitInfo>,
    summaries: gix::hashtable::HashMap<Oid, Arc<Summary>>,
    /// Summaries read from the cache, not yet used in this run.
    cached: Cached,
    /// Whether this run summarised blobs the cache did not have.
    cache_grew: bool,
    docs: HashMap<Oid, Docs>,
    manifests: HashMap<Oid, Manifests>,
}

impl Workspace {
    /// Opens the repository, fetches `origin` (unless `fetch` is false; a failed
    /// fetch is a warning and the last fetched state is used), reads the
    /// configuration and resolves every environment branch on `origin`.
    pub fn open(global: &Global, ui: &Ui, fetch: bool) -> Result<Workspace> {
        let repo = Repo::discover(&global.dir())?;
        require_origin(&repo)?;
        let mut not_fetched = None;
        if fetch {
            if let Err(err) = ui.spin("fetching origin", || git::cli::fetch(&repo.dir, REMOTE)) {
                ui.warn(&format!("{err}; showing what was fetched last"));
                not_fetched = Some(err.to_string());
            }
        } else {
            not_fetched = Some("--no-fetch".to_owned());
        }
        Workspace::load(repo, not_fetched)
    }

    /// A workspace over an already fetched repository (what `check` uses for each
    /// repository it checks): the configuration and the environment branches.
    pub fn load(repo: Repo, not_fetched: Option<String>) -> Result<Workspace> {
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
        // Read what earlier runs kept while the history loads.
        let kept_trees = repo.read_kept_trees();
        let cache_content = repo.read_cache(&SUMMARY_CACHE);
        let decoding = std::thread::spawn(move || {
            cache_content
                .and_then(|content| decode_summaries(&content))
                .unwrap_or_default()
        });
        let (graph, trees) = repo
            .load_graph(&tips)
            .context("reading the history of the environment branches")?;
        let branches = tips
            .iter()
            .map(|tip| EnvBranch {
                tip: *tip,
                tree: trees[tip],
            })
            .collect();
        let cached = Cached {
            decoding: Some(decoding),
            decoded: Default::default(),
        };
        repo.adopt_kept_trees(kept_trees.join().unwrap_or_default());
        Ok(Workspace {
            repo,
            config,
            config_source,
            not_fetched,
            branches,
            graph,
            trees,
            infos: HashMap::new(),
            summaries: Default::default(),
            cached,
            cache_grew: false,
            docs: HashMap::new(),
            manifests: HashMap::new(),
        })
    }

    /// A loaded commit's tree.
    pub fn tree_of(&self, commit: Oid) -> Oid {
        self.trees[&commit]
    }

    /// A commit, decoded (once).
    pub fn commit(&mut self, id: Oid) -> Result<CommitInfo> {
        if let Some(info) = self.infos.get(&id) {
            return Ok(info.clone());
        }
        let info = self.repo.commit(id)?;
        self.infos.insert(id, info.clone());
        Ok(info)
    }

    /// The manifests of a tree: path and blob, sorted by path (cached).
    pub fn manifests(&mut self, tree: Oid) -> Result<Manifests> {
        Ok(self.manifests_of(&[tree])?.remove(0))
    }

    /// The manifests of several trees, listed in parallel.
    pub fn manifests_of(&mut self, trees: &[Oid]) -> Result<Vec<Manifests>> {
        let mut todo: Vec<Oid> = trees
            .iter()
            .copied()
            .filter(|t| !self.manifests.contains_key(t))
            .collect();
        todo.sort();
        todo.dedup();
        let config = &self.config;
        let lists = self.repo.par_map(&todo, 2, |repo, tree| {
            let mut list: Vec<(String, Oid)> = repo
                .tree_files(*tree)?
                .into_iter()
                .filter(|(path, _)| config.is_manifest(path))
                .collect();
            list.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            Ok(list)
        })?;
        for (tree, list) in todo.into_iter().zip(lists) {
            self.manifests.insert(tree, Arc::new(list));
        }
        Ok(trees.iter().map(|t| self.manifests[t].clone()).collect())
    }

    /// Summarises the blobs not summarised yet: from the cache when it has them,
    /// else by reading them, in parallel.
    pub fn summarize(&mut self, ids: impl IntoIterator<Item = Oid>) -> Result<()> {
        let mut todo = Vec::new();
        let mut seen = gix::hashtable::HashSet::default();
        for id in ids {
            if self.summaries.contains_key(&id) {
                continue;
            }
            match self.cached.get().remove(&id) {
                Some(s) => {
                    self.summaries.insert(id, Arc::new(s));
                }
                None if seen.insert(id) => todo.push(id),
                None => {}
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        self.cache_grew = true;
        let made = self.repo.map_blobs(&todo, summary::summarize)?;
        for (id, s) in todo.into_iter().zip(made) {
            self.summaries.insert(id, Arc::new(s));
        }
        Ok(())
    }

    /// A blob's summary.
    pub fn summary(&mut self, id: Oid) -> Result<Arc<Summary>> {
        if let Some(s) = self.summaries.get(&id) {
            return Ok(s.clone());
        }
        self.summarize([id])?;
        Ok(self.summaries[&id].clone())
    }

    /// Whether two versions of the manifest at `path` differ by image tags only,
    /// told from their summaries alone: `Some(true)` yes, `Some(false)` they differ
    /// in more (values, or only formatting), `None` when the summaries cannot tell
    /// (a file that does not parse, a kustomization's `newTag`, a file with
    /// pinned keys in the config, or third-party images whose tags differ: with
    /// an `images:` list, only the team's tags are pinned).
    pub fn tags_only(
        &mut self,
        path: &str,
        a: Option<Oid>,
        b: Option<Oid>,
    ) -> Result<Option<bool>> {
        if a == b {
            return Ok(Some(true));
        }
        let (Some(a), Some(b)) = (a, b) else {
            return Ok(Some(false));
        };
        if self
            .config
            .pinned_rules
            .rules
            .iter()
            .any(|r| r.files.is_match(path))
        {
            return Ok(None);
        }
        let (sa, sb) = (self.summary(a)?, self.summary(b)?);
        // The masked hashes set every image's tag aside; a third-party image's
        // tag is a value like any other, so they tell only when those are equal.
        if self.config.images.is_some() {
            let third_party = |s: &Summary| -> Vec<(String, Option<String>, Option<String>)> {
                s.images
                    .iter()
                    .filter(|i| !self.config.is_team_image(&i.name))
                    .map(|i| (i.name.clone(), i.tag.clone(), i.digest.clone()))
                    .collect()
            };
            if third_party(&sa) != third_party(&sb) {
                return Ok(None);
            }
        }
        Ok(summary::same_but_tags_hashed(&sa, &sb))
    }

    /// Writes the summaries used in this run back to `.git/gitops/`, when this run
    /// made new ones. A cache that cannot be written is not an error.
    pub fn save_cache(&mut self) {
        self.repo.keep_trees();
        if !self.cache_grew {
            return;
        }
        let content = summary::encode(self.summaries.iter().map(|(id, s)| (id.to_string(), &**s)));
        let _ = self.repo.write_cache(&SUMMARY_CACHE, &content);
        self.cache_grew = false;
    }

    /// A blob's documents (parsed once per run).
    pub fn docs(&mut self, id: Oid) -> Result<Docs> {
        if let Some(d) = self.docs.get(&id) {
            return Ok(d.clone());
        }
        let bytes = self.repo.blob(id)?;
        let d: Docs = Arc::new(manifest::parse_documents(&bytes));
        self.docs.insert(id, d.clone());
        Ok(d)
    }

    fn optional_docs(&mut self, id: Option<Oid>) -> Result<Option<Docs>> {
        id.map(|id| self.docs(id)).transpose()
    }

    /// Whether two versions of the manifest at `path` hold the same values apart
    /// from pinned ones (image tags, the config's pinned keys), formatting and
    /// comments aside. The text is compared with image tags masked first; only
    /// when that cannot tell are both versions parsed and compared field by field.
    pub fn same_values(&mut self, path: &str, a: Option<Oid>, b: Option<Oid>) -> Result<bool> {
        if a == b {
            return Ok(true);
        }
        let (Some(a), Some(b)) = (a, b) else {
            return Ok(false);
        };
        if self.tags_only(path, Some(a), Some(b))? == Some(true) {
            return Ok(true);
        }
        let (da, db) = (self.docs(a)?, self.docs(b)?);
        match (&*da, &*db) {
            (Ok(da), Ok(db)) => {
                let plain = self.plain(path);
                Ok(
                    semdiff::diff_file(path, Some(da), Some(db), &self.config.pinned_rules, plain)
                        .resources
                        .is_empty(),
                )
            }
            _ => Ok(false),
        }
    }

    /// The semantic changes promoting `from` into `to` makes to the manifest at
    /// `path`, three-way against the merge base's version `base`.
    pub fn promotion_file(
        &mut self,
        path: &str,
        base: Option<Oid>,
        to: Option<Oid>,
        from: Option<Oid>,
    ) -> Result<Result<semdiff::FileDiff, (String, ParseError)>> {
        let mut docs = Vec::new();
        for id in [base, to, from] {
            let d = self.optional_docs(id)?;
            if let Some(d) = &d {
                if let Err(e) = &**d {
                    return Ok(Err((path.to_owned(), e.clone())));
                }
            }
            docs.push(d);
        }
        let get = |d: &Option<Docs>| -> Option<Vec<Document>> {
            d.as_ref().and_then(|d| (**d).as_ref().ok().cloned())
        };
        let (base, to, from) = (get(&docs[0]), get(&docs[1]), get(&docs[2]));
        Ok(Ok(semdiff::promotion_file(
            path,
            base.as_deref(),
            to.as_deref(),
            from.as_deref(),
            &self.config.pinned_rules,
            self.plain(path),
        )))
    }

    /// Whether the manifest at `path` holds plain values, whose documents are
    /// resources even when they are not Kubernetes objects
    /// ([`manifest::resources`]): a Helm values file (`values*.yaml`), or a file
    /// of one of the config's `pinned` rules.
    pub fn plain(&self, path: &str) -> bool {
        manifest::is_helm_values_file(path)
            || self
                .config
                .pinned_rules
                .rules
                .iter()
                .any(|r| r.files.is_match(path))
    }

    fn drift_parsed(&mut self, id: Option<Oid>) -> Result<Option<Parsed>> {
        Ok(self.optional_docs(id)?.map(|d| match &*d {
            Ok(docs) => Parsed::Docs(docs.clone()),
            Err(_) => Parsed::Unparseable,
        }))
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
            .graph
            .merge_base(env_b.tip, up_b.tip)
            .map(|b| self.tree_of(b));
        let deltas = self.repo.changes(base_tree, Some(env_b.tree))?;
        let delta_paths: Vec<&str> = deltas.iter().map(|d| d.path.as_str()).collect();
        let up_blobs = self.repo.files_at(up_b.tree, &delta_paths)?;
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
        let up_ancestors = self.graph.ancestors(up_b.tip);
        // Where the drifted files were in every commit involved, looked up on
        // every core: each commit's tree, its parents' trees.
        let candidates = self.graph.only_in(env_b.tip, up_b.tip);
        let mut trees: Vec<Oid> = Vec::new();
        for id in &candidates {
            trees.push(self.tree_of(*id));
            trees.extend(
                self.graph.nodes[id]
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
        let at: gix::hashtable::HashMap<Oid, Vec<Option<Oid>>> =
            trees.into_iter().zip(found).collect();
        let mut out = Vec::new();
        for id in candidates {
            let tree = self.tree_of(id);
            let parents = self.graph.nodes[&id].parents.clone();
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
                let mut merged = Vec::new();
                for blob in merged_blobs {
                    merged.push(self.drift_parsed(blob)?);
                }
                changes.push(FileChange {
                    path: path.clone(),
                    before: self.drift_parsed(before)?,
                    after: self.drift_parsed(after)?,
                    upstream: self.drift_parsed(upstream_blobs[k])?,
                    merged,
                    plain: self.plain(path),
                });
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

/// The summaries of a summary cache's content, by blob; `None` when any line is
/// damaged.
fn decode_summaries(content: &[u8]) -> Option<gix::hashtable::HashMap<Oid, Summary>> {
    let decoded = summary::decode(content)?;
    let mut map = gix::hashtable::HashMap::default();
    map.reserve(decoded.len());
    for (id, s) in decoded {
        map.insert(Oid::from_hex(id.as_bytes()).ok()?, s);
    }
    Some(map)
}

/// Refuses a repository without an `origin` remote (exit 2).
pub fn require_origin(repo: &Repo) -> Result<()> {
    if repo.remote_url(REMOTE).is_none() {
        return Err(refused("this repository has no remote named `origin`")
            .hint("add it with `git remote add origin URL`, then `git fetch origin`")
            .into());
    }
    Ok(())
}

/// Sets `branch` to push to and pull from `origin/<branch>`, as `git push -u` does.
pub fn track(repo: &Repo, branch: &str) -> Result<()> {
    git::cli::run(
        &repo.dir,
        &["config", &format!("branch.{branch}.remote"), REMOTE],
    )?;
    git::cli::run(
        &repo.dir,
        &[
            "config",
            &format!("branch.{branch}.merge"),
            &format!("refs/heads/{branch}"),
        ],
    )?;
    Ok(())
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
        if let Some(parsed) = config_at(repo, commit, &label)? {
            let cfg = parsed.map_err(|e| {
                refused(e.to_string()).hint(format!(
                    "fix {} on {label} through a pull request",
                    config::FILE
                ))
            })?;
            return Ok((cfg, format!("{label}:{}", config::FILE)));
        }
    }
    Ok((Config::default(), "defaults (no .gitops.yaml)".to_owned()))
}

/// `.gitops.yaml` as committed in `commit` (`label` names it in errors, e.g.
/// `origin/dev`): `None` when the commit has no such file.
pub fn config_at(
    repo: &Repo,
    commit: Oid,
    label: &str,
) -> Result<Option<Result<Config, config::ConfigError>>> {
    let tree = repo.commit(commit)?.tree;
    let Some(blob) = repo.file_at(tree, config::FILE)? else {
        return Ok(None);
    };
    let bytes = repo.blob(blob)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(Some(Config::parse(
        &text,
        &format!("{label}:{}", config::FILE),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use git::cache;

    /// A summary cache as `save_cache` writes it, damaged in every way
    /// `cache::damaged` knows and a few of its own, never reads back as other
    /// summaries: it is rejected whole.
    #[test]
    fn a_damaged_summary_cache_is_never_believed() {
        let sha1 = gix::hash::Kind::Sha1;
        let web = summary::summarize(
            b"kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: shop/web:1.2.3-rc.1\n",
        );
        let broken = summary::summarize(b"a: [1,\n");
        let ids = [
            Oid::from_hex(&[b'a'; 40]).unwrap(),
            Oid::from_hex(&[b'7'; 40]).unwrap(),
        ];
        let content = summary::encode(
            [(ids[0].to_string(), &web), (ids[1].to_string(), &broken)].into_iter(),
        );
        let file = cache::seal(&SUMMARY_CACHE, sha1, &content);
        let read = |file: &[u8]| cache::open(&SUMMARY_CACHE, sha1, file).and_then(decode_summaries);
        let good = read(&file).expect("a sound file reads back");
        assert_eq!(good[&ids[0]], web);
        assert_eq!(good[&ids[1]].error, broken.error);

        let mut cases = cache::damaged(&file);
        let old = format!("gitops summaries 3 {}\n", env!("CARGO_PKG_VERSION"));
        cases.push((
            "the format before checksums".into(),
            [old.as_bytes(), &content].concat(),
        ));
        let older = cache::Format {
            version: "3",
            ..SUMMARY_CACHE
        };
        cases.push((
            "an older version".into(),
            cache::seal(&older, sha1, &content),
        ));
        let sha256 = String::from_utf8(file.clone())
            .unwrap()
            .replacen(" sha1 ", " sha256 ", 1);
        cases.push(("a SHA-256 repository's".into(), sha256.into_bytes()));
        let commits = cache::Format {
            name: "commits",
            version: "2",
        };
        cases.push((
            "another cache".into(),
            cache::seal(&commits, sha1, &content),
        ));
        let tag = content.windows(5).position(|w| w == b"1.2.3").unwrap();
        let mut retagged = file.clone();
        retagged[file.len() - content.len() + tag] = b'2';
        cases.push(("another stage tag".into(), retagged));
        for (how, bytes) in &cases {
            assert_eq!(read(bytes), None, "{how}");
        }
    }
}
