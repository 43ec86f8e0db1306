//! A snapshot of a configuration repository, what every command that reads
//! environments starts from (`status`, `diff`, `promote`, `image set`, `check`): the repository, `origin`
//! fetched (or not), the configuration, each environment's remote branch, and
//! per-blob knowledge that environments share: a summary of every manifest blob
//! (its images, whether it parses), made once per blob and kept in
//! `.git/gitops/` between runs, and the parsed documents of the few blobs a
//! semantic comparison needs.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::error::refused;
use crate::git::{self, CommitInfo, History, Oid, Repo};
use crate::model::manifest::{self, Document, ParseError, ResourceKey, TextHash};
use crate::model::semdiff;
use crate::model::summary::{self, Summary};
use crate::promotion::graph::Graph;
use crate::ui::Ui;

use super::repo_config::{checkout_config_note, load_config_text, require_origin, REMOTE};

/// The summary cache in `.git/gitops/`. Its version is that of
/// [`summary::summarize`] and of the encoding (bump it when either changes) and
/// gitops's own: another build never trusts this one's summaries.
const SUMMARY_CACHE: git::cache::Format = git::cache::Format {
    name: "summaries",
    version: concat!("7-", env!("CARGO_PKG_VERSION")),
};

/// The documents of files of many by identity ([`Snapshot::pieces`]), kept in
/// `.git/gitops/` between runs, by blob. Its version is that of
/// [`manifest::encode_pieces`] and of [`manifest::DocCache::pieces`] (bump it
/// when either changes), and gitops's own.
const PIECES_CACHE: git::cache::Format = git::cache::Format {
    name: "pieces",
    version: concat!("1-", env!("CARGO_PKG_VERSION")),
};

/// How the summary cache names the summary of one document of a file of many
/// ([`Snapshot::changed_docs`]): this prefix and the hex of its text's
/// [`TextHash`]. A blob is named by its id.
const DOC_PREFIX: &str = "doc:";

/// A line's key in the summary cache: a blob's id, or a document's text hash
/// after [`DOC_PREFIX`].
enum CacheKey {
    Blob(Oid),
    Doc(u128),
}

impl summary::Key for CacheKey {
    fn push_to(&self, out: &mut String) {
        match self {
            CacheKey::Blob(id) => out.push_str(id.hex_to_buf(&mut [0; 64])),
            CacheKey::Doc(hash) => {
                use std::fmt::Write;
                let _ = write!(out, "{DOC_PREFIX}{hash:032x}");
            }
        }
    }
}

/// The lines of the summary cache for the summaries known at some point of a
/// run, written on another thread while the run goes on
/// ([`Snapshot::encode_summaries_so_far`]); [`Snapshot::save_cache`] adds the
/// lines of those made later.
pub struct EarlySummaries {
    lines: String,
    ids: gix::hashtable::HashSet<Oid>,
}

/// The summaries a summary cache holds: of blobs, by id, and of single
/// documents of files of many, by the hash of their text.
#[derive(Default)]
struct Decoded {
    blobs: gix::hashtable::HashMap<Oid, Summary>,
    docs: foldhash::HashMap<TextHash, Summary>,
    /// From the pieces cache.
    pieces: gix::hashtable::HashMap<Oid, Option<Arc<manifest::Pieces>>>,
    /// The pieces cache passed its checks but its content did not decode.
    pieces_damaged: bool,
}

/// The summaries read from the cache: decoded on another thread while the run
/// reads the history and lists the trees, and waited for when first needed.
struct Cached {
    decoding: Option<std::thread::JoinHandle<Decoded>>,
    decoded: gix::hashtable::HashMap<Oid, Summary>,
    /// The documents' summaries, taken from here by [`Snapshot::changed_docs`].
    docs: std::cell::RefCell<foldhash::HashMap<TextHash, Summary>>,
    /// The pieces of blobs, taken from here by [`Snapshot::pieces`].
    pieces: gix::hashtable::HashMap<Oid, Option<Arc<manifest::Pieces>>>,
    /// The pieces cache's content did not decode: write it again.
    pieces_damaged: bool,
}

impl Cached {
    fn get_pieces(&mut self) -> &mut gix::hashtable::HashMap<Oid, Option<Arc<manifest::Pieces>>> {
        self.get();
        &mut self.pieces
    }

    fn get(&mut self) -> &mut gix::hashtable::HashMap<Oid, Summary> {
        if let Some(handle) = self.decoding.take() {
            let decoded = handle.join().unwrap_or_default();
            self.decoded = decoded.blobs;
            self.docs = decoded.docs.into();
            self.pieces = decoded.pieces;
            self.pieces_damaged = decoded.pieces_damaged;
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

/// The manifests of a tree: path and blob, sorted by path.
pub type Manifests = Arc<Vec<(String, Oid)>>;

/// A blob's documents, or why it does not parse.
pub type Docs = Arc<Result<Vec<Document>, ParseError>>;

pub struct Snapshot {
    pub repo: Repo,
    pub config: Config,
    /// Where the configuration came from, for messages.
    pub config_source: String,
    /// The text of the configuration in use (`None`: the defaults).
    config_text: Option<Vec<u8>>,
    /// Why `origin` was not fetched, when it was not.
    pub not_fetched: Option<String>,
    pub branches: Vec<EnvBranch>,
    /// The history of the environment branches, once read ([`Snapshot::graph`]).
    history: std::cell::OnceCell<History>,
    /// The history being read on another thread, while the branches' files
    /// are listed and summarised.
    history_loading: std::cell::RefCell<HistoryLoading>,
    /// Commits decoded for display.
    infos: HashMap<Oid, CommitInfo>,
    summaries: gix::hashtable::HashMap<Oid, Arc<Summary>>,
    /// Summaries read from the cache, not yet used in this run.
    cached: Cached,
    /// Whether this run summarised blobs the cache did not have.
    cache_grew: bool,
    docs: HashMap<Oid, Docs>,
    /// The documents of many-document files, by their text: read once per run
    /// whatever version of the file they are in.
    pub doc_cache: manifest::DocCache,
    /// Summaries of single documents of files of many used in this run, by
    /// the hash of their text (for [`Snapshot::changed_docs`]; kept in the
    /// summary cache with the blobs').
    doc_summaries: std::cell::RefCell<foldhash::HashMap<TextHash, Arc<Summary>>>,
    /// Whether this run summarised documents the cache did not have.
    doc_cache_grew: std::cell::Cell<bool>,
    /// Whether this run found the pieces of blobs the cache did not have.
    pieces_grew: bool,
    /// The documents of files of many, by identity ([`Snapshot::pieces`]).
    pieces: HashMap<Oid, Option<Arc<manifest::Pieces>>>,
    /// The text of the blobs compared document by document.
    texts: HashMap<Oid, Arc<Vec<u8>>>,
    manifests: HashMap<Oid, Manifests>,
}

/// The history of the environment branches being read on another thread.
/// Joined when dropped unread (and so the `git commit-graph write` it may
/// have started waited for).
struct HistoryLoading(Option<std::thread::JoinHandle<Result<History>>>);

impl Drop for HistoryLoading {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}

impl Snapshot {
    /// What the repository's forge calls a change request ("pull request",
    /// "merge request"), for wording ([`super::pull_request::forge_kind`]).
    pub fn change_word(&self) -> &'static str {
        super::pull_request::forge_kind(&self.repo, &self.config).change()
    }

    /// Opens the repository, fetches `origin` (unless `fetch` is false; a failed
    /// fetch is a warning and the last fetched state is used), reads the
    /// configuration and resolves every environment branch on `origin`.
    pub fn open(dir: &std::path::Path, ui: &Ui, fetch: bool) -> Result<Snapshot> {
        let repo = Repo::discover(dir)?;
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
        let snapshot = Snapshot::load(repo, not_fetched)?;
        let note = checkout_config_note(
            &snapshot.repo,
            snapshot.config_text.as_deref(),
            &snapshot.config_source,
        );
        if let Some(note) = note {
            ui.note(&note);
        }
        Ok(snapshot)
    }

    /// A workspace over an already fetched repository (what `check` uses for each
    /// repository it checks): the configuration and the environment branches.
    pub fn load(repo: Repo, not_fetched: Option<String>) -> Result<Snapshot> {
        Self::load_with(repo, not_fetched, None)
    }

    /// [`Snapshot::load`] with a configuration given rather than read from
    /// origin (`gitops check --config FILE`): the configuration, where it came
    /// from, and its text.
    pub fn load_with(
        repo: Repo,
        not_fetched: Option<String>,
        config: Option<(Config, String, Option<Vec<u8>>)>,
    ) -> Result<Snapshot> {
        let (config, config_source, config_text) = match config {
            Some(given) => given,
            None => load_config_text(&repo)?,
        };
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
        let pieces_content = repo.read_cache(&PIECES_CACHE);
        // A file there that is not believed is written again, sound, even by
        // a run that has no pieces to keep.
        let pieces_unread = pieces_content.is_none() && repo.cache_path(PIECES_CACHE.name).exists();
        let decoding = std::thread::spawn(move || {
            let mut decoded = cache_content
                .and_then(|content| decode_summaries(&content))
                .unwrap_or_default();
            match pieces_content.map(|content| decode_pieces(&content)) {
                Some(Some(pieces)) => decoded.pieces = pieces,
                Some(None) => decoded.pieces_damaged = true,
                None => {}
            }
            decoded
        });
        // The history on another thread (in a fresh clone, thousands of commits
        // read from the packs), while the branches' files are listed.
        let loading = {
            let repo = repo.for_thread();
            let tips = tips.clone();
            std::thread::spawn(move || {
                let history = repo
                    .load_graph(&tips)
                    .context("reading the history of the environment branches")?;
                // What `status` and promotions ask of it first, worked out here
                // too (kept in the graph): each pair of environments' merge
                // base, and so each branch's ancestors.
                for pair in tips.windows(2) {
                    history.graph.merge_base(pair[1], pair[0]);
                }
                Ok(history)
            })
        };
        let loading = HistoryLoading(Some(loading));
        let branches = tips
            .iter()
            .map(|tip| {
                Ok(EnvBranch {
                    tip: *tip,
                    tree: repo
                        .commit(*tip)
                        .context("reading the history of the environment branches")?
                        .tree,
                })
            })
            .collect::<Result<_>>()?;
        let cached = Cached {
            decoding: Some(decoding),
            decoded: Default::default(),
            docs: Default::default(),
            pieces: Default::default(),
            pieces_damaged: false,
        };
        repo.adopt_kept_trees(kept_trees.join().unwrap_or_default());
        Ok(Snapshot {
            repo,
            config,
            config_source,
            config_text,
            not_fetched,
            branches,
            history: Default::default(),
            history_loading: std::cell::RefCell::new(loading),
            infos: HashMap::new(),
            summaries: Default::default(),
            cached,
            cache_grew: false,
            docs: HashMap::new(),
            doc_cache: manifest::DocCache::default(),
            doc_summaries: Default::default(),
            doc_cache_grew: Default::default(),
            pieces_grew: pieces_unread,
            pieces: HashMap::default(),
            texts: HashMap::new(),
            manifests: HashMap::new(),
        })
    }

    /// A loaded commit's tree.
    pub fn tree_of(&self, commit: Oid) -> Oid {
        let history = self.history.get();
        history
            .expect("commits come from the history (Snapshot::graph)")
            .trees[&commit]
    }

    /// Ends the snapshot without freeing its memory, for a command about to
    /// exit (freeing tens of thousands of small allocations is wasted time
    /// then). What works in the background for it is waited for first: the
    /// history's thread, and git writing the commit-graph.
    pub fn end_without_freeing(mut self) {
        drop(self.history_loading.replace(HistoryLoading(None)));
        if let Some(history) = self.history.get_mut() {
            drop(history.writer.take());
        }
        std::mem::forget(self);
    }

    /// The history of the environment branches: every commit reachable from
    /// them, with its parents and time. Waits for the thread reading it; its
    /// error, when it failed.
    pub fn graph(&self) -> Result<&Graph<Oid>> {
        if let Some(history) = self.history.get() {
            return Ok(&history.graph);
        }
        let loading = self.history_loading.borrow_mut().0.take();
        let history = match loading.map(|h| h.join()) {
            Some(Ok(read)) => read?,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => anyhow::bail!("the history of the environment branches could not be read"),
        };
        Ok(&self.history.get_or_init(|| history).graph)
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

    /// The manifests of several trees, listed in parallel (a thread each).
    pub fn manifests_of(&mut self, trees: &[Oid]) -> Result<Vec<Manifests>> {
        let mut todo: Vec<Oid> = trees
            .iter()
            .copied()
            .filter(|t| !self.manifests.contains_key(t))
            .collect();
        todo.sort();
        todo.dedup();
        let config = &self.config;
        let lists = self.repo.par_map_few(&todo, |repo, tree| {
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
        let cache = &self.doc_cache;
        // Made ready to keep on the threads that read them (25,000 and more
        // in a fresh clone's first run).
        let made = self.repo.map_blobs(&todo, |bytes| {
            Arc::new(match too_large(bytes) {
                Some(error) => Summary {
                    error: Some(error),
                    ..Summary::default()
                },
                None => summary::summarize_with(bytes, Some(cache)),
            })
        })?;
        self.summaries.reserve(todo.len());
        self.summaries.extend(todo.into_iter().zip(made));
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
        let (sa, sb) = (self.summary(a)?, self.summary(b)?);
        Ok(self.summaries_tags_only(path, &sa, &sb))
    }

    /// [`Snapshot::tags_only`] for two summaries of versions of the text at
    /// `path` (of a file, or of one of its documents).
    fn summaries_tags_only(&self, path: &str, sa: &Summary, sb: &Summary) -> Option<bool> {
        if self
            .config
            .pinned_rules
            .rules
            .iter()
            .any(|r| r.files.is_match(path))
        {
            return None;
        }
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
            if third_party(sa) != third_party(sb) {
                return None;
            }
        }
        summary::same_but_tags_hashed(sa, sb)
    }

    /// Writes the summaries and trees used in this run back to `.git/gitops/`, when it
    /// made new ones. A cache that cannot be written is not an error.
    pub fn save_cache(&mut self, early: Option<EarlySummaries>) {
        // The kept trees are written on another thread meanwhile.
        let trees = self.repo.trees_to_keep();
        std::thread::scope(|scope| {
            if let Some(keep) = trees {
                scope.spawn(keep);
            }
            self.save_summaries(early);
        });
    }

    /// A job, for another thread, that writes the summary cache's lines for
    /// the summaries made or read so far; give what it returns to
    /// [`Snapshot::save_cache`], which then writes only the later ones.
    /// `None` when the cache has nothing new to keep so far.
    pub fn encode_summaries_so_far(
        &self,
    ) -> Option<impl FnOnce() -> EarlySummaries + Send + 'static> {
        if !self.cache_grew {
            return None;
        }
        let known: Vec<(Oid, Arc<Summary>)> = self
            .summaries
            .iter()
            .map(|(id, s)| (*id, s.clone()))
            .collect();
        Some(move || {
            let mut lines = String::new();
            summary::encode_into(
                &mut lines,
                known.iter().map(|(id, s)| (CacheKey::Blob(*id), &**s)),
            );
            EarlySummaries {
                lines,
                ids: known.into_iter().map(|(id, _)| id).collect(),
            }
        })
    }

    /// [`Snapshot::save_cache`]'s pieces and summaries.
    fn save_summaries(&mut self, early: Option<EarlySummaries>) {
        self.cached.get();
        if self.pieces_grew || self.cached.pieces_damaged {
            let content = manifest::encode_pieces(
                self.pieces
                    .iter()
                    .filter_map(|(id, p)| Some((id.as_bytes(), Some(&**p.as_ref()?))))
                    .filter(|(_, p)| p.is_some_and(kept)),
            );
            let _ = self.repo.write_cache(&PIECES_CACHE, &content);
            self.pieces_grew = false;
            self.cached.pieces_damaged = false;
        }
        if !self.cache_grew && !self.doc_cache_grew.get() {
            return;
        }
        let docs = self.doc_summaries.borrow();
        let (mut lines, known) = match early {
            Some(early) => (early.lines, early.ids),
            None => Default::default(),
        };
        summary::encode_into(
            &mut lines,
            self.summaries
                .iter()
                .filter(|(id, _)| !known.contains(*id))
                .map(|(id, s)| (CacheKey::Blob(*id), &**s))
                .chain(docs.iter().map(|(hash, s)| (CacheKey::Doc(*hash), &**s))),
        );
        drop(docs);
        let _ = self.repo.write_cache(&SUMMARY_CACHE, lines.as_bytes());
        self.cache_grew = false;
        self.doc_cache_grew.set(false);
    }

    /// A blob's documents (parsed once per run).
    pub fn docs(&mut self, id: Oid) -> Result<Docs> {
        if let Some(d) = self.docs.get(&id) {
            return Ok(d.clone());
        }
        let bytes = self.repo.blob(id)?;
        let d: Docs = Arc::new(match too_large(&bytes) {
            Some(error) => Err(error),
            None => self.doc_cache.parse(&bytes),
        });
        self.docs.insert(id, d.clone());
        Ok(d)
    }

    /// The documents two versions of the manifest at `path`, both known to
    /// parse, do not share, when comparing those alone gives every difference
    /// of the two versions — by position (`manifest::DocCache::parse_changed`,
    /// `manifest::same_identities`), else by identity when documents were
    /// added, removed or moved (`manifest::DocCache::parse_moved`): the
    /// documents both have word for word are not parsed. `None`: compare them
    /// whole. `values_only`: for a comparison of values apart from pinned
    /// ones, documents that differ by image tags only (told as
    /// [`Snapshot::tags_only`] tells files) are left out too.
    pub fn changed_docs(
        &mut self,
        path: &str,
        a: Oid,
        b: Oid,
        values_only: bool,
    ) -> Result<Option<(Vec<Document>, Vec<Document>)>> {
        for id in [a, b] {
            if self.summary(id)?.error.is_some() {
                return Ok(None);
            }
        }
        let (ta, tb) = (self.text(a)?, self.text(b)?);
        let plain = self.plain(path);
        let (pa, pb) = (self.pieces(path, a)?, self.pieces(path, b)?);
        if values_only {
            self.cached.get();
            let same = |x: &[u8], y: &[u8]| self.docs_tags_only(path, x, y) == Some(true);
            if let (Some(pa), Some(pb)) = (&pa, &pb) {
                let moved = self
                    .doc_cache
                    .parse_moved((&ta, pa), (&tb, pb), Some(&same));
                if moved.is_some() {
                    return Ok(moved);
                }
            }
        }
        if let Some((da, db)) = self.doc_cache.parse_changed(&ta, &tb) {
            if manifest::same_identities(path, &da, &db, plain) {
                return Ok(Some((da, db)));
            }
        }
        let (Some(pa), Some(pb)) = (&pa, &pb) else {
            return Ok(None);
        };
        Ok(self.doc_cache.parse_moved((&ta, pa), (&tb, pb), None))
    }

    /// The documents of the blob `id` at `path` that hold a resource of one
    /// of `keys`, the others unparsed, when its documents can be told apart by
    /// identity ([`Snapshot::pieces`]); `None`: read it whole.
    pub fn docs_of_keys(
        &mut self,
        path: &str,
        id: Oid,
        keys: &foldhash::HashSet<ResourceKey>,
    ) -> Result<Option<Vec<Document>>> {
        if self.summary(id)?.error.is_some() {
            return Ok(None);
        }
        let Some(pieces) = self.pieces(path, id)? else {
            return Ok(None);
        };
        let text = self.text(id)?;
        Ok(self.doc_cache.docs_with_keys(&text, &pieces, keys))
    }

    /// The summary of one document of a file of many, by its text: made once,
    /// and kept between runs with the blobs' summaries. The cache must have
    /// been decoded (`self.cached.get()`).
    fn doc_summary(&self, text: &[u8]) -> Arc<Summary> {
        let hash = manifest::text_hash(text);
        let mut used = self.doc_summaries.borrow_mut();
        if let Some(s) = used.get(&hash) {
            return s.clone();
        }
        let s = match self.cached.docs.borrow_mut().remove(&hash) {
            Some(s) => Arc::new(s),
            None => {
                self.doc_cache_grew.set(true);
                Arc::new(summary::summarize(text))
            }
        };
        used.insert(hash, s.clone());
        s
    }

    /// [`Snapshot::tags_only`] for two texts of one document of the file at
    /// `path`. The cache must have been decoded (`self.cached.get()`).
    fn docs_tags_only(&self, path: &str, x: &[u8], y: &[u8]) -> Option<bool> {
        if x == y {
            return Some(true);
        }
        let (sx, sy) = (self.doc_summary(x), self.doc_summary(y));
        self.summaries_tags_only(path, &sx, &sy)
    }

    /// Whether promoting `from` into `to` surely changes the values of a
    /// resource of the file of many documents at `path` (`base`: the merge
    /// base's version), told document by document from their summaries as
    /// `status` tells files apart (see `pending_apps`): a document the source
    /// changed in more than image tags since the base, that the target has
    /// apart from tags as the base had it (or has not, with the base not
    /// having it either), travels. `false`: none surely does; compare the
    /// values ([`Snapshot::promotion_file`]). Every version must parse and be
    /// told apart by identity ([`Snapshot::pieces`]), each document holding one
    /// resource; otherwise `false`.
    pub fn surely_travels(&mut self, path: &str, base: Oid, to: Oid, from: Oid) -> Result<bool> {
        let Some([pb, pt, pf]) = self.versions_by_identity(path, [base, to, from])? else {
            return Ok(false);
        };
        if pf.documents().len() < 2 {
            return Ok(false);
        }
        let (tb, tt, tf) = (self.text(base)?, self.text(to)?, self.text(from)?);
        self.cached.get();
        let (Some(kb), Some(kt), Some(kf)) = (by_identity(&pb), by_identity(&pt), by_identity(&pf))
        else {
            return Ok(false);
        };
        for (key, (_, hash, range)) in &kf {
            let ours = &tf[range.clone()];
            let travels = match (kb.get(key), kt.get(key)) {
                (Some((_, hb, _)), _) if hb == hash => false,
                // Added by the source; the target has no such resource either.
                (None, None) => true,
                (Some((_, _, rb)), Some((_, _, rt))) => {
                    let (theirs, before) = (&tt[rt.clone()], &tb[rb.clone()]);
                    self.docs_tags_only(path, theirs, ours) != Some(true)
                        && self.docs_tags_only(path, before, ours) == Some(false)
                        && self.docs_tags_only(path, before, theirs) == Some(true)
                }
                _ => false,
            };
            if travels {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The identities of the resources of the documents that differ between
    /// two versions of the file at `path` (in any way, image tags included),
    /// when the versions can be compared document by document
    /// ([`Snapshot::changed_docs`]); `None`: they cannot.
    pub fn changed_keys(
        &mut self,
        path: &str,
        a: Oid,
        b: Oid,
    ) -> Result<Option<foldhash::HashSet<ResourceKey>>> {
        let Some((da, db)) = self.changed_docs(path, a, b, false)? else {
            return Ok(None);
        };
        let plain = self.plain(path);
        Ok(Some(
            manifest::resources(path, &da, plain)
                .into_iter()
                .chain(manifest::resources(path, &db, plain))
                .map(|r| r.key)
                .collect(),
        ))
    }

    /// The pieces of each version of the file at `path`
    /// ([`Snapshot::pieces`]) when every version parses and has them; `None`
    /// otherwise.
    fn versions_by_identity<const N: usize>(
        &mut self,
        path: &str,
        ids: [Oid; N],
    ) -> Result<Option<[Arc<manifest::Pieces>; N]>> {
        let mut out = Vec::with_capacity(N);
        for id in ids {
            if self.summary(id)?.error.is_some() {
                return Ok(None);
            }
            match self.pieces(path, id)? {
                Some(p) => out.push(p),
                None => return Ok(None),
            }
        }
        Ok(out.try_into().ok())
    }

    /// The documents of a file of many by identity
    /// ([`manifest::DocCache::pieces`]), once per blob; `None` when they cannot
    /// be told apart by identity. Callers must know that the blob parses.
    pub fn pieces(&mut self, path: &str, id: Oid) -> Result<Option<Arc<manifest::Pieces>>> {
        let plain = self.plain(path);
        if plain || manifest::is_kustomization_file(path) {
            return Ok(None);
        }
        if let Some(p) = self.pieces.get(&id) {
            return Ok(p.clone());
        }
        let text = self.text(id)?;
        let p = match self.cached.get_pieces().remove(&id) {
            // Kept by an earlier run, and still this text's.
            Some(kept) if kept.as_ref().is_none_or(|p| p.fit(&text)) => kept,
            _ => {
                let made = self.doc_cache.pieces(path, plain, &text).map(Arc::new);
                self.pieces_grew |= made.as_deref().is_some_and(kept);
                made
            }
        };
        self.pieces.insert(id, p.clone());
        Ok(p)
    }

    /// The documents of two versions of the manifest at `path` that a
    /// comparison needs: those they do not share ([`Snapshot::changed_docs`]),
    /// else all. `None` for an absent version; an error for one that does not
    /// parse. `values_only`: as for [`Snapshot::changed_docs`].
    #[allow(clippy::type_complexity)]
    pub fn docs_to_compare(
        &mut self,
        path: &str,
        a: Option<Oid>,
        b: Option<Oid>,
        values_only: bool,
    ) -> Result<(
        Option<Result<Vec<Document>, ParseError>>,
        Option<Result<Vec<Document>, ParseError>>,
    )> {
        if let (Some(a), Some(b)) = (a, b) {
            if let Some((da, db)) = self.changed_docs(path, a, b, values_only)? {
                return Ok((Some(Ok(da)), Some(Ok(db))));
            }
        }
        let whole = |d: Option<Docs>| d.map(|d| (*d).clone());
        Ok((whole(self.optional_docs(a)?), whole(self.optional_docs(b)?)))
    }

    /// A blob's text (read once per run).
    pub(super) fn text(&mut self, id: Oid) -> Result<Arc<Vec<u8>>> {
        if let Some(t) = self.texts.get(&id) {
            return Ok(t.clone());
        }
        let t = Arc::new(self.repo.blob(id)?);
        self.texts.insert(id, t.clone());
        Ok(t)
    }

    pub(super) fn optional_docs(&mut self, id: Option<Oid>) -> Result<Option<Docs>> {
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
        if let Some(same) = self.same_values_by_document(path, a, b)? {
            return Ok(same);
        }
        match self.docs_to_compare(path, Some(a), Some(b), true)? {
            (Some(Ok(da)), Some(Ok(db))) => {
                let plain = self.plain(path);
                Ok(
                    semdiff::diff_file(
                        path,
                        Some(&da),
                        Some(&db),
                        &self.config.pinned_rules,
                        plain,
                    )
                    .resources
                    .is_empty(),
                )
            }
            _ => Ok(false),
        }
    }

    /// [`Snapshot::same_values`] for two versions of a file of many documents,
    /// compared a few documents at a time and only until one differs: the
    /// documents of each identity that the versions do not have word for word
    /// nor apart from image tags ([`Snapshot::changed_docs`]' `values_only`),
    /// each pair on its own. `None` unless both versions parse and are told
    /// apart by identity ([`Snapshot::pieces`]) with one resource a document,
    /// and every document compared parses on its own: compare them whole.
    fn same_values_by_document(&mut self, path: &str, a: Oid, b: Oid) -> Result<Option<bool>> {
        /// Pairs parsed at once (on every core) before looking for a difference.
        const BATCH: usize = 32;
        let Some([pa, pb]) = self.versions_by_identity(path, [a, b])? else {
            return Ok(None);
        };
        if pa.documents().len().max(pb.documents().len()) < 2 {
            return Ok(None);
        }
        let (ta, tb) = (self.text(a)?, self.text(b)?);
        self.cached.get();
        let (Some(ka), Some(kb)) = (by_identity(&pa), by_identity(&pb)) else {
            return Ok(None);
        };
        // Each identity whose documents differ in more than image tags: its
        // text in each version that has it.
        type Side<'t> = Option<(usize, &'t [u8])>;
        let mut pairs: Vec<(Side, Side)> = Vec::new();
        for (key, (ia, hash, range)) in &ka {
            let x = &ta[range.clone()];
            match kb.get(key) {
                Some((_, other, _)) if other == hash => {}
                Some((ib, _, rb)) => {
                    let y = &tb[rb.clone()];
                    if self.docs_tags_only(path, x, y) != Some(true) {
                        pairs.push((Some((*ia, x)), Some((*ib, y))));
                    }
                }
                None => pairs.push((Some((*ia, x)), None)),
            }
        }
        for (key, (ib, _, range)) in &kb {
            if !ka.contains_key(key) {
                pairs.push((None, Some((*ib, &tb[range.clone()]))));
            }
        }
        let plain = self.plain(path);
        for batch in pairs.chunks(BATCH) {
            let texts: Vec<&[u8]> = batch
                .iter()
                .flat_map(|(x, y)| [*x, *y])
                .flatten()
                .map(|(_, text)| text)
                .collect();
            let parsed = self.doc_cache.parse_each(&texts);
            if parsed.iter().any(Option::is_none) {
                return Ok(None);
            }
            let mut parsed = parsed.into_iter().flatten();
            for (x, y) in batch {
                let mut doc = |side: Side| {
                    side.map(|(index, _)| {
                        let value = parsed.next().expect("one value a text");
                        Some(Document { index, value })
                            .filter(|d| !d.value.is_null())
                            .into_iter()
                            .collect::<Vec<_>>()
                    })
                };
                let (da, db) = (doc(*x), doc(*y));
                let diff = semdiff::diff_file(
                    path,
                    Some(da.as_deref().unwrap_or(&[])),
                    Some(db.as_deref().unwrap_or(&[])),
                    &self.config.pinned_rules,
                    plain,
                );
                if !diff.resources.is_empty() {
                    return Ok(Some(false));
                }
            }
        }
        Ok(Some(true))
    }

    /// The semantic changes promoting `from` into `to` makes to the manifest at
    /// `path`, three-way against the merge base's version `base`: the values
    /// that travel, pinned ones aside. The kept values are not all listed:
    /// documents that differ by image tags only are not compared.
    pub fn promotion_file(
        &mut self,
        path: &str,
        base: Option<Oid>,
        to: Option<Oid>,
        from: Option<Oid>,
    ) -> Result<Result<semdiff::FileDiff, (String, ParseError)>> {
        // The first version that does not parse, in this order, is the answer.
        for id in [base, to, from].into_iter().flatten() {
            if let Err(e) = &*self.docs_for_error(id)? {
                return Ok(Err((path.to_owned(), e.clone())));
            }
        }
        let plain = self.plain(path);
        // Each comparison on the documents its two versions do not share.
        let diff = |ws: &mut Snapshot, old: Option<Oid>, new: Option<Oid>| {
            let (old, new) = ws.docs_to_compare(path, old, new, true)?;
            let (old, new) = (old.and_then(Result::ok), new.and_then(Result::ok));
            anyhow::Ok(semdiff::diff_file(
                path,
                old.as_deref(),
                new.as_deref(),
                &ws.config.pinned_rules,
                plain,
            ))
        };
        let two = diff(self, to, from)?;
        let since = diff(self, base, from)?;
        Ok(Ok(semdiff::promotion_of(two, since)))
    }

    /// A blob's documents when it does not parse; when it does, told by its
    /// summary without parsing it (an empty list).
    fn docs_for_error(&mut self, id: Oid) -> Result<Docs> {
        if self.summary(id)?.error.is_none() && !self.docs.contains_key(&id) {
            return Ok(Arc::new(Ok(Vec::new())));
        }
        self.docs(id)
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
}

/// Whether the pieces of a blob are kept between runs: those of a file of
/// many documents (a file of one is read again at no cost).
fn kept(pieces: &manifest::Pieces) -> bool {
    pieces.documents().len() > 1
}

/// The documents of a file of many by the identity of the one resource each
/// holds: index, hash of its text, byte range. `None` when a document holds
/// more than one resource.
type ByIdentity<'p> = foldhash::HashMap<&'p ResourceKey, (usize, TextHash, std::ops::Range<usize>)>;

fn by_identity(pieces: &manifest::Pieces) -> Option<ByIdentity<'_>> {
    let mut out = ByIdentity::default();
    out.reserve(pieces.documents().len());
    for (index, (keys, hash, range)) in pieces.documents().enumerate() {
        let [key] = keys else {
            return None;
        };
        out.insert(key, (index, hash, range));
    }
    Some(out)
}

/// Why a manifest is not read: over [`crate::limits::MAX_FILE_BYTES`] (what it
/// would cost to parse is out of proportion); `None` for any other.
fn too_large(bytes: &[u8]) -> Option<ParseError> {
    let size = bytes.len() as u64;
    (size > crate::limits::MAX_FILE_BYTES).then(|| ParseError {
        line: 0,
        column: 0,
        message: format!(
            "not read: {} is over the {} limit for a manifest",
            crate::limits::megabytes(size),
            crate::limits::megabytes(crate::limits::MAX_FILE_BYTES)
        ),
    })
}

/// The pieces of a pieces cache's content, by blob; `None` when it is damaged.
fn decode_pieces(
    content: &[u8],
) -> Option<gix::hashtable::HashMap<Oid, Option<Arc<manifest::Pieces>>>> {
    let mut map = gix::hashtable::HashMap::default();
    for (id, pieces) in manifest::decode_pieces(content)? {
        map.insert(Oid::try_from(id).ok()?, pieces.map(Arc::new));
    }
    Some(map)
}

/// The summaries of a summary cache's content, by blob and by document;
/// `None` when any line is damaged.
fn decode_summaries(content: &[u8]) -> Option<Decoded> {
    let decoded = summary::decode(content)?;
    let mut out = Decoded::default();
    out.blobs.reserve(decoded.len());
    for (id, s) in decoded {
        match id.strip_prefix(DOC_PREFIX) {
            Some(hex) if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                out.docs.insert(TextHash::from_str_radix(hex, 16).ok()?, s);
            }
            Some(_) => return None,
            None => {
                out.blobs.insert(Oid::from_hex(id.as_bytes()).ok()?, s);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use git::cache;

    /// A pieces cache as `save_cache` writes it, damaged in every way
    /// `cache::damaged` knows, is rejected whole; one sealed as this build
    /// seals but holding pieces of another text is not used for this one.
    #[test]
    fn a_damaged_pieces_cache_is_never_believed() {
        let sha1 = gix::hash::Kind::Sha1;
        let text =
            b"---\nkind: Service\nmetadata: {name: a}\n---\nkind: Service\nmetadata: {name: b}\n";
        let pieces = manifest::DocCache::default()
            .pieces("all.yaml", false, text)
            .unwrap();
        let id = Oid::from_hex(&[b'a'; 40]).unwrap();
        let content = manifest::encode_pieces([(id.as_bytes(), Some(&pieces))].into_iter());
        let file = cache::seal(&PIECES_CACHE, sha1, &content);
        let read = |file: &[u8]| cache::open(&PIECES_CACHE, sha1, file).and_then(decode_pieces);
        let good = read(&file).expect("a sound file reads back");
        assert!(good[&id].as_ref().unwrap().fit(text));
        for (how, bytes) in cache::damaged(&file) {
            assert!(read(&bytes).is_none(), "{how}");
        }
        let summaries = cache::seal(&SUMMARY_CACHE, sha1, &content);
        assert!(read(&summaries).is_none(), "the summaries' file");
        let other = summary::replace_all(text, b"name: b", b"name: c");
        assert!(!good[&id].as_ref().unwrap().fit(&other));
    }

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
        let doc = manifest::text_hash(b"kind: Service\n");
        let content = summary::encode(
            [
                (CacheKey::Blob(ids[0]), &web),
                (CacheKey::Blob(ids[1]), &broken),
                (CacheKey::Doc(doc), &web),
            ]
            .into_iter(),
        );
        let file = cache::seal(&SUMMARY_CACHE, sha1, &content);
        let read = |file: &[u8]| cache::open(&SUMMARY_CACHE, sha1, file).and_then(decode_summaries);
        let good = read(&file).expect("a sound file reads back");
        assert_eq!(good.blobs[&ids[0]], web);
        assert_eq!(good.blobs[&ids[1]].error, broken.error);
        assert_eq!(good.docs[&doc], web);
        assert_eq!((good.blobs.len(), good.docs.len()), (2, 1));

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
        // Sealed as this build seals, but naming a document by no hash.
        for bad in ["doc:12", "doc:+0000000000000000000000000000001", "doc:"] {
            let named = String::from_utf8(content.clone()).unwrap().replacen(
                &format!("{DOC_PREFIX}{doc:032x}"),
                bad,
                1,
            );
            cases.push((
                format!("a document named {bad:?}"),
                cache::seal(&SUMMARY_CACHE, sha1, named.as_bytes()),
            ));
        }
        for (how, bytes) in &cases {
            assert!(read(bytes).is_none(), "{how}");
        }
    }
}
