//! The only code that touches repositories.
//!
//! Reading (refs, commits, trees, blobs, tree diffs) goes through gix, straight
//! from the object store: no checkout is needed and the user's working tree never
//! changes an answer. Writing blobs, trees and commits goes through gix too, into
//! the object store (no index, no ref moved). What gix is not used for here
//! (fetch, checkout, merge, push) goes through the `git` binary in [`cli`].

pub mod cache;
pub mod cli;
mod tree_cache;

use std::cell::RefCell;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};

use crate::error::refused;
use crate::interrupt::uninterrupted;
use crate::promotion::graph::Graph;
use std::io::Write as _;

pub type Oid = gix::ObjectId;

/// The name and email of the commits gitops writes ([`Repo::write_commit`]).
pub const COMMITTER: (&str, &str) = ("gitops", "gitops@users.noreply.github.com");

/// A commit, decoded.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: Oid,
    pub parents: Vec<Oid>,
    pub tree: Oid,
    pub summary: String,
    /// The whole message.
    pub message: String,
    pub author: String,
    pub email: String,
    /// Commit time, seconds since the epoch.
    pub time: i64,
}

impl CommitInfo {
    pub fn short(&self) -> String {
        short(&self.id)
    }
}

/// The abbreviated id users see.
pub fn short(id: &Oid) -> String {
    id.to_hex_with_len(7).to_string()
}

/// A file that differs between two trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDelta {
    pub path: String,
    pub old: Option<Oid>,
    pub new: Option<Oid>,
}

/// The trees of the repository that gitops has read, by id: in this run, and
/// in earlier runs (kept in `.git/gitops/trees`). Environments, their merge
/// bases and the commits between them share most subtrees, and a tree read from
/// a pack costs its inflation and its delta chain each time: each is read once.
#[derive(Default)]
struct TreeStore {
    trees: RwLock<gix::hashtable::HashMap<Oid, KeptTree>>,
    /// Whether this run read trees from the object store.
    grew: AtomicBool,
}

struct KeptTree {
    data: TreeBytes,
    /// Whether this run used it: only those are kept for the next.
    used: AtomicBool,
}

/// A tree's raw content: a range of a shared buffer (the kept file's content,
/// or one tree read from the object store).
#[derive(Clone)]
struct TreeBytes {
    buf: Arc<Vec<u8>>,
    range: Range<usize>,
}

impl std::ops::Deref for TreeBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[self.range.clone()]
    }
}

/// Trees kept by an earlier run, as read from `.git/gitops/trees`.
pub struct KeptTrees(gix::hashtable::HashMap<Oid, KeptTree>);

/// The trees kept between runs in `.git/gitops/`.
pub const TREE_CACHE: cache::Format = cache::Format {
    name: "trees",
    version: concat!("1-", env!("CARGO_PKG_VERSION")),
};

/// An open repository.
pub struct Repo {
    repo: gix::Repository,
    sync: gix::ThreadSafeRepository,
    trees: Arc<TreeStore>,
    /// On a [`Repo::par_map`] thread, the trees it read, shared when it ends:
    /// threads never wait on each other.
    read_here: Option<RefCell<gix::hashtable::HashMap<Oid, TreeBytes>>>,
    /// The working tree, or the git dir of a bare repository: where `git` runs.
    pub dir: PathBuf,
}

/// Every commit reachable from some tips ([`Repo::load_graph`]).
pub struct History {
    /// Parents and commit time.
    pub graph: Graph<Oid>,
    /// Each commit's tree.
    pub trees: gix::hashtable::HashMap<Oid, Oid>,
    /// git writing the commit-graph meanwhile, when it had to: waited for
    /// when dropped.
    pub writer: Option<cli::Background>,
}

impl Repo {
    /// Finds the repository containing `dir`.
    pub fn discover(dir: &Path) -> Result<Repo> {
        if !dir.is_dir() {
            return Err(refused(format!("`{}` is not a directory", dir.display()))
                .hint("pass an existing directory with -C DIR")
                .into());
        }
        let repo = gix::discover_with_environment_overrides(dir).map_err(|_| {
            refused(format!("`{}` is not in a git repository", dir.display()))
                .hint("cd into a configuration repository, or pass -C DIR")
        })?;
        Ok(Self::wrap(repo, Arc::default()))
    }

    /// Opens the repository at exactly `path` (a bare one, say).
    pub fn open(path: &Path) -> Result<Repo> {
        let repo = gix::open(path)
            .with_context(|| format!("opening the repository at {}", path.display()))?;
        Ok(Self::wrap(repo, Arc::default()))
    }

    fn wrap(mut repo: gix::Repository, trees: Arc<TreeStore>) -> Repo {
        // No object cache: gix would copy every object read into it, and what
        // gitops reads more than once it keeps itself (trees in the tree store,
        // texts and documents in the snapshot). Without it a first `status` on
        // a large repository takes a tenth less CPU and 8 MB less memory, and a
        // cached one is as fast (bench/README.md, stop 24).
        repo.object_cache_size(None);
        // A delta base cache by size, as git's (core.deltaBaseCacheLimit, 96 MB
        // in git), instead of gix's default of 64 entries: reading every blob of
        // a repacked history resolves long delta chains, and with 64 entries
        // their bases were inflated again and again. Only when the user set none.
        if repo
            .config_snapshot()
            .integer("core.deltaBaseCacheLimit")
            .is_none()
        {
            repo.objects.set_pack_cache(|| {
                Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                    PACK_CACHE_BYTES,
                ))
            });
        }
        let dir = repo
            .workdir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| repo.git_dir().to_path_buf());
        let sync = repo.clone().into_sync();
        Repo {
            repo,
            sync,
            trees,
            read_here: None,
            dir,
        }
    }

    /// A tree's raw content: kept, or read from the object store once.
    fn tree(&self, id: Oid) -> Result<TreeBytes> {
        if let Some(kept) = self.trees.trees.read().expect("tree store").get(&id) {
            kept.used.store(true, Ordering::Relaxed);
            return Ok(kept.data.clone());
        }
        if let Some(data) = self
            .read_here
            .as_ref()
            .and_then(|h| h.borrow().get(&id).cloned())
        {
            return Ok(data);
        }
        let object = self
            .repo
            .find_object(id)
            .with_context(|| format!("reading tree {id}"))?;
        if object.kind != gix::object::Kind::Tree {
            anyhow::bail!("object {id} is a {}, not a tree", object.kind);
        }
        // Taken, not copied: the `apps/` tree of a large repository is 70 KB,
        // and drift reads it in a hundred commits.
        let buf = Arc::new(object.detach().data);
        let data = TreeBytes {
            range: 0..buf.len(),
            buf,
        };
        match &self.read_here {
            Some(here) => {
                here.borrow_mut().insert(id, data.clone());
            }
            None => self.keep_read([(id, data.clone())]),
        }
        Ok(data)
    }

    /// Adds trees read from the object store to the store.
    fn keep_read(&self, read: impl IntoIterator<Item = (Oid, TreeBytes)>) {
        let mut trees = self.trees.trees.write().expect("tree store");
        for (id, data) in read {
            let used = AtomicBool::new(true);
            trees.insert(id, KeptTree { data, used });
            self.trees.grew.store(true, Ordering::Relaxed);
        }
    }

    /// Reads the trees kept by earlier runs, on another thread: join the handle
    /// and give its result to [`Repo::adopt_kept_trees`].
    pub fn read_kept_trees(&self) -> std::thread::JoinHandle<Option<KeptTrees>> {
        let path = self.cache_path(TREE_CACHE.name);
        let hash = self.repo.object_hash();
        std::thread::spawn(move || {
            let file = std::fs::read(path).ok()?;
            let content = cache::open(&TREE_CACHE, hash, &file)?;
            let entries = tree_cache::decode(content, hash)?;
            let start = file.len() - content.len();
            let buf = Arc::new(file);
            Some(KeptTrees(
                entries
                    .into_iter()
                    .map(|(id, r)| {
                        let range = start + r.start..start + r.end;
                        let data = TreeBytes {
                            buf: buf.clone(),
                            range,
                        };
                        let used = AtomicBool::new(false);
                        (id, KeptTree { data, used })
                    })
                    .collect(),
            ))
        })
    }

    /// Uses the trees [`Repo::read_kept_trees`] read (none, when the file was
    /// absent or not sound).
    pub fn adopt_kept_trees(&self, kept: Option<KeptTrees>) {
        let Some(KeptTrees(mut kept)) = kept else {
            return;
        };
        let mut trees = self.trees.trees.write().expect("tree store");
        // Trees read before (the configuration's) are new only if not kept.
        let mut grew = false;
        for (id, tree) in trees.drain() {
            match kept.get(&id) {
                Some(k) => k.used.store(true, Ordering::Relaxed),
                None => {
                    grew = true;
                    kept.insert(id, tree);
                }
            }
        }
        *trees = kept;
        self.trees.grew.store(grew, Ordering::Relaxed);
    }

    /// Keeping the trees this run used for the next run, when it read some from
    /// the object store: a job for any thread (encoding and writing the file
    /// takes a while), so the caller can do other work meanwhile. A file that
    /// cannot be written is not an error.
    pub fn trees_to_keep(&self) -> Option<impl FnOnce() + Send + 'static> {
        if !self.trees.grew.swap(false, Ordering::Relaxed) {
            return None;
        }
        let (store, path, hash) = (
            self.trees.clone(),
            self.cache_path(TREE_CACHE.name),
            self.repo.object_hash(),
        );
        Some(move || {
            let trees = store.trees.read().expect("tree store");
            let entries: Vec<(&Oid, &[u8])> = trees
                .iter()
                .filter(|(_, t)| t.used.load(Ordering::Relaxed))
                .map(|(id, t)| (id, &*t.data))
                .collect();
            let (size, crc) = tree_cache::size_and_crc(&entries);
            let header = cache::seal_header(&TREE_CACHE, hash, size, crc);
            let _ = write_cache_with(&path, &TREE_CACHE, header, |out| {
                tree_cache::write(&entries, out)
            });
        })
    }

    /// The repository's git directory (`.git`).
    pub fn git_dir(&self) -> &Path {
        self.repo.git_dir()
    }

    /// Whether this repository has a working tree.
    pub fn has_workdir(&self) -> bool {
        self.repo.workdir().is_some()
    }

    /// The URL of a remote, when it is configured.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        let config = self.repo.config_snapshot();
        config
            .string(format!("remote.{name}.url").as_str())
            .map(|s| s.to_string())
    }

    /// The commit a reference points to (peeled through tags), if it exists.
    pub fn resolve(&self, name: &str) -> Result<Option<Oid>> {
        let Some(mut reference) = self
            .repo
            .try_find_reference(name)
            .with_context(|| format!("reading reference {name}"))?
        else {
            return Ok(None);
        };
        let id = reference
            .peel_to_id()
            .with_context(|| format!("resolving reference {name}"))?;
        Ok(Some(id.detach()))
    }

    /// The commit of the remote-tracking branch `origin/<branch>`.
    pub fn remote_branch(&self, remote: &str, branch: &str) -> Result<Option<Oid>> {
        self.resolve(&format!("refs/remotes/{remote}/{branch}"))
    }

    /// Every remote-tracking branch of `remote`: name (without `refs/remotes/<remote>/`) and commit.
    pub fn remote_branches(&self, remote: &str) -> Result<Vec<(String, Oid)>> {
        let prefix = format!("refs/remotes/{remote}/");
        let platform = self.repo.references().context("listing references")?;
        let mut out = Vec::new();
        for r in platform
            .prefixed(prefix.as_str())
            .context("listing remote branches")?
        {
            let Ok(mut r) = r else { continue };
            let name = r.name().as_bstr().to_string();
            let Some(short) = name.strip_prefix(&prefix) else {
                continue;
            };
            if short == "HEAD" {
                continue;
            }
            if let Ok(id) = r.peel_to_id() {
                out.push((short.to_owned(), id.detach()));
            }
        }
        Ok(out)
    }

    /// The commit of the local branch.
    pub fn local_branch(&self, branch: &str) -> Result<Option<Oid>> {
        self.resolve(&format!("refs/heads/{branch}"))
    }

    /// The branch `refs/remotes/<remote>/HEAD` points to, e.g. `dev`.
    pub fn remote_default_branch(&self, remote: &str) -> Option<String> {
        let reference = self
            .repo
            .try_find_reference(format!("refs/remotes/{remote}/HEAD").as_str())
            .ok()??;
        let target = reference.target().try_name()?.as_bstr().to_string();
        target
            .strip_prefix(&format!("refs/remotes/{remote}/"))
            .map(str::to_owned)
    }

    /// The checked-out branch, `None` when HEAD is detached or unborn.
    pub fn current_branch(&self) -> Option<String> {
        let name = self.repo.head_name().ok()??;
        name.as_bstr()
            .to_string()
            .strip_prefix("refs/heads/")
            .map(str::to_owned)
    }

    /// The commit HEAD points to, if any.
    pub fn head_commit(&self) -> Option<Oid> {
        self.repo.head_id().ok().map(|id| id.detach())
    }

    /// A handle on the same repository for another thread, sharing the kept
    /// trees.
    pub fn for_thread(&self) -> Repo {
        Repo::wrap(self.sync.to_thread_local(), self.trees.clone())
    }

    /// Decodes a commit.
    pub fn commit(&self, id: Oid) -> Result<CommitInfo> {
        let object = self
            .repo
            .find_object(id)
            .with_context(|| format!("reading commit {id}"))?;
        decode_commit(id, &object.data, self.repo.object_hash())
    }

    /// Loads every commit reachable from `tips` into a graph (parents and commit
    /// time), with each commit's tree. Messages and authors are not decoded here:
    /// [`Repo::commit`] does that for the few commits that are shown.
    ///
    /// Commits come from git's commit-graph when the repository has one that
    /// passes its checksums ([`CommitGraph`]), else from the object store. When
    /// many had to come from the object store (no commit-graph, or one far behind)
    /// or the commit-graph is damaged, git writes it afresh, as `git maintenance`
    /// would, so the next run reads it; a failed write only costs time.
    pub fn load_graph(&self, tips: &[Oid]) -> Result<History> {
        let hash = self.repo.object_hash();
        let commit_graph = self.commit_graph();
        let sound = match &commit_graph {
            CommitGraph::Sound(g) => Some(g),
            _ => None,
        };
        let mut graph = Graph::new();
        let mut trees: gix::hashtable::HashMap<Oid, Oid> = Default::default();
        let mut stack: Vec<Oid> = tips.to_vec();
        let mut from_objects = 0usize;
        while let Some(id) = stack.pop() {
            if trees.contains_key(&id) {
                continue;
            }
            let (tree, time, parents) = match sound.and_then(|g| graph_entry(g, id)) {
                Some(entry) => entry,
                None => {
                    from_objects += 1;
                    let object = self
                        .repo
                        .find_object(id)
                        .with_context(|| format!("reading commit {id}"))?;
                    let commit = gix::objs::CommitRef::from_bytes(&object.data, hash)
                        .with_context(|| format!("decoding commit {id}"))?;
                    let time = commit.time().map(|t| t.seconds).unwrap_or(0);
                    (commit.tree(), time, commit.parents().collect::<Vec<Oid>>())
                }
            };
            stack.extend(parents.iter().filter(|p| !trees.contains_key(*p)));
            trees.insert(id, tree);
            graph.insert(id, parents, time);
        }
        let behind = from_objects >= COMMIT_GRAPH_BEHIND;
        let writer = match commit_graph {
            CommitGraph::Off => None,
            CommitGraph::Damaged => self.write_commit_graph(true, false),
            CommitGraph::Absent if behind => self.write_commit_graph(false, false),
            CommitGraph::Sound(_) if behind => self.write_commit_graph(false, true),
            CommitGraph::Absent | CommitGraph::Sound(_) => None,
        };
        Ok(History {
            graph,
            trees,
            writer,
        })
    }

    /// Git's commit-graph, when git would read one: `core.commitGraph` is not
    /// off and no replace refs are in use.
    fn commit_graph(&self) -> CommitGraph {
        let on = self
            .repo
            .config_snapshot()
            .boolean("core.commitGraph")
            .unwrap_or(true);
        let store = self.repo.objects.store_ref();
        if !on || store.replacements().next().is_some() {
            return CommitGraph::Off;
        }
        open_commit_graph(&store.path().join("info"), self.repo.object_hash())
    }

    /// Has git write the commit-graph of every reachable commit: afresh, after
    /// removing a damaged one (git would read it while writing the new one), or
    /// as a new layer on top of a sound one (`split`). git writes it while this
    /// run goes on (40-70 ms for 5,000 commits, the first run in a clone), and
    /// is waited for when what this returns is dropped. Failing only costs time.
    fn write_commit_graph(&self, damaged: bool, split: bool) -> Option<cli::Background> {
        if damaged {
            let info = self.repo.objects.store_ref().path().join("info");
            let _ = std::fs::remove_file(info.join("commit-graph"));
            let _ = std::fs::remove_dir_all(info.join("commit-graphs"));
        }
        let mut args = vec!["commit-graph", "write", "--reachable", "--no-progress"];
        if split {
            args.push("--split");
        }
        cli::spawn_quiet(&self.dir, &args)
    }

    /// The blobs at several paths of one tree, reading each tree on the way once.
    pub fn files_at(&self, tree: Oid, paths: &[&str]) -> Result<Vec<Option<Oid>>> {
        Ok(self
            .entries_at(tree, paths)?
            .into_iter()
            .map(|e| e.map(|(id, _)| id))
            .collect())
    }

    /// The blobs at several paths of one tree with their modes.
    fn entries_at(
        &self,
        tree: Oid,
        paths: &[&str],
    ) -> Result<Vec<Option<(Oid, gix::objs::tree::EntryMode)>>> {
        let mut out = vec![None; paths.len()];
        self.lookup_paths(
            tree,
            paths,
            &(0..paths.len()).collect::<Vec<_>>(),
            0,
            &mut out,
        )?;
        Ok(out)
    }

    fn lookup_paths(
        &self,
        tree: Oid,
        paths: &[&str],
        which: &[usize],
        depth: usize,
        out: &mut [Option<(Oid, gix::objs::tree::EntryMode)>],
    ) -> Result<()> {
        use gix::objs::tree::name_order;
        use std::cmp::Ordering::Less;
        let data = self.tree(tree)?;
        // The wanted names at this depth, each as a tree (more components follow)
        // or a file, in git's tree order: one walk beside the tree's entries,
        // which ends once every wanted name is behind.
        let mut wanted: Vec<(&[u8], bool, usize)> = which
            .iter()
            .filter_map(|&i| {
                let mut parts = paths[i].split('/');
                let part = parts.nth(depth)?;
                Some((part.as_bytes(), parts.next().is_some(), i))
            })
            .collect();
        wanted.sort_unstable_by(|a, b| name_order(a.0, a.1, b.0, b.1).then(a.2.cmp(&b.2)));
        let mut next = 0;
        let mut subtrees: Vec<(Oid, Vec<usize>)> = Vec::new();
        for entry in gix::objs::TreeRefIter::from_bytes(&data, self.repo.object_hash()) {
            if next == wanted.len() {
                break;
            }
            let entry = entry.with_context(|| format!("decoding tree {tree}"))?;
            let (name, is_tree) = (<&[u8]>::from(entry.filename), entry.mode.is_tree());
            while next < wanted.len()
                && name_order(wanted[next].0, wanted[next].1, name, is_tree) == Less
            {
                next += 1;
            }
            let mut into_tree = Vec::new();
            while next < wanted.len() && wanted[next].0 == name && wanted[next].1 == is_tree {
                let i = wanted[next].2;
                if is_tree {
                    into_tree.push(i);
                } else if entry.mode.is_blob() {
                    out[i] = Some((entry.oid.to_owned(), entry.mode));
                }
                next += 1;
            }
            if !into_tree.is_empty() {
                subtrees.push((entry.oid.to_owned(), into_tree));
            }
        }
        drop(data);
        for (id, which) in subtrees {
            self.lookup_paths(id, paths, &which, depth + 1, out)?;
        }
        Ok(())
    }

    /// Every file (blob) of a tree, with its repository-relative path.
    pub fn tree_files(&self, tree: Oid) -> Result<Vec<(String, Oid)>> {
        let mut out = Vec::new();
        self.collect_files(tree, "", &mut out)?;
        Ok(out)
    }

    fn collect_files(&self, tree: Oid, prefix: &str, out: &mut Vec<(String, Oid)>) -> Result<()> {
        let data = self.tree(tree)?;
        for entry in gix::objs::TreeRefIter::from_bytes(&data, self.repo.object_hash()) {
            let entry = entry.with_context(|| format!("decoding tree {tree}"))?;
            if !(entry.mode.is_tree() || entry.mode.is_blob()) {
                continue;
            }
            let name = String::from_utf8_lossy(entry.filename);
            let mut path = String::with_capacity(prefix.len() + 1 + name.len());
            if !prefix.is_empty() {
                path.push_str(prefix);
                path.push('/');
            }
            path.push_str(&name);
            if entry.mode.is_tree() {
                self.collect_files(entry.oid.to_owned(), &path, out)?;
            } else {
                out.push((path, entry.oid.to_owned()));
            }
        }
        Ok(())
    }

    /// The blob at `path` in `tree`, if there is one. Reads one tree per path
    /// component and stops at the matching entry.
    pub fn file_at(&self, tree: Oid, path: &str) -> Result<Option<Oid>> {
        Ok(self
            .entry_at(tree, path)?
            .filter(|(mode, _)| mode.is_blob())
            .map(|(_, id)| id))
    }

    /// What the entry at `path` in `tree` is, whatever its kind: a file
    /// (`"file"`), an executable file, a symbolic link, a directory or a
    /// submodule; `None` when there is no entry.
    pub fn entry_kind_at(&self, tree: Oid, path: &str) -> Result<Option<&'static str>> {
        use gix::objs::tree::EntryKind;
        Ok(self
            .entry_at(tree, path)?
            .map(|(mode, _)| match mode.kind() {
                EntryKind::Blob => "file",
                EntryKind::BlobExecutable => "executable file",
                EntryKind::Link => "symbolic link",
                EntryKind::Tree => "directory",
                EntryKind::Commit => "submodule",
            }))
    }

    /// The entry at `path` in `tree`, of any kind: reads one tree per path
    /// component and stops at the matching entry.
    fn entry_at(&self, tree: Oid, path: &str) -> Result<Option<(gix::objs::tree::EntryMode, Oid)>> {
        let mut current = tree;
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            let data = self.tree(current)?;
            let mut found = None;
            for entry in gix::objs::TreeRefIter::from_bytes(&data, self.repo.object_hash()) {
                let entry = entry.with_context(|| format!("decoding tree {current}"))?;
                if entry.filename == part {
                    found = Some((entry.mode, entry.oid.to_owned()));
                    break;
                }
            }
            let Some((mode, id)) = found else {
                return Ok(None);
            };
            if parts.peek().is_none() {
                return Ok(Some((mode, id)));
            }
            if !mode.is_tree() {
                return Ok(None);
            }
            current = id;
        }
        Ok(None)
    }

    /// A blob's size in bytes, without reading it.
    pub fn blob_size(&self, id: Oid) -> Result<u64> {
        Ok(self
            .repo
            .find_header(id)
            .with_context(|| format!("reading blob {id}"))?
            .size())
    }

    /// The files that differ between two trees (`None`: the empty tree). Subtrees
    /// with the same id are skipped without being read.
    pub fn changes(&self, old: Option<Oid>, new: Option<Oid>) -> Result<Vec<FileDelta>> {
        let mut out = Vec::new();
        self.diff_trees(old, new, "", &mut out)?;
        Ok(out)
    }

    fn diff_trees(
        &self,
        old: Option<Oid>,
        new: Option<Oid>,
        prefix: &str,
        out: &mut Vec<FileDelta>,
    ) -> Result<()> {
        if old == new {
            return Ok(());
        }
        let hash = self.repo.object_hash();
        let read = |id: Option<Oid>| id.map(|id| self.tree(id)).transpose();
        let (old_data, new_data) = (read(old)?, read(new)?);
        let (a, b) = (
            tree_list(old_data.as_deref(), hash)?,
            tree_list(new_data.as_deref(), hash)?,
        );
        // Both lists are in git's tree order: walk them side by side.
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let order = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => gix::objs::tree::name_order(x.0, x.1, y.0, y.1),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            let (left, right) = match order {
                std::cmp::Ordering::Less => {
                    i += 1;
                    (Some(a[i - 1]), None)
                }
                std::cmp::Ordering::Greater => {
                    j += 1;
                    (None, Some(b[j - 1]))
                }
                std::cmp::Ordering::Equal => {
                    i += 1;
                    j += 1;
                    if a[i - 1].2 == b[j - 1].2 {
                        continue;
                    }
                    (Some(a[i - 1]), Some(b[j - 1]))
                }
            };
            let (name, is_tree) = left.or(right).map(|(n, t, _)| (n, t)).expect("one side");
            let path = join(prefix, &String::from_utf8_lossy(name));
            if is_tree {
                self.diff_trees(left.map(|e| e.2), right.map(|e| e.2), &path, out)?;
            } else {
                out.push(FileDelta {
                    path,
                    old: left.map(|e| e.2),
                    new: right.map(|e| e.2),
                });
            }
        }
        Ok(())
    }

    /// Where gitops keeps its caches for this repository: `.git/gitops/NAME`
    /// (shared by all worktrees).
    pub fn cache_path(&self, name: &str) -> PathBuf {
        self.repo.common_dir().join("gitops").join(name)
    }

    /// The content of a cache file, when it is there and passes its checks (made
    /// for `format` and this repository's object format, the length and checksum
    /// of its content as its header says: see [`cache`]). A damaged or outdated
    /// file is as good as none; the next [`Repo::write_cache`] replaces it.
    pub fn read_cache(&self, format: &cache::Format) -> Option<Vec<u8>> {
        let mut file = std::fs::read(self.cache_path(format.name)).ok()?;
        let header = file.len() - cache::open(format, self.repo.object_hash(), &file)?.len();
        file.drain(..header);
        Some(file)
    }

    /// Replaces a cache file whole with `content` under its header
    /// ([`write_cache_file`]).
    pub fn write_cache(&self, format: &cache::Format, content: &[u8]) -> Result<()> {
        write_cache_file(
            &self.cache_path(format.name),
            format,
            self.repo.object_hash(),
            content,
        )
    }

    /// The empty tree, written into the object store.
    pub fn empty_tree(&self) -> Result<Oid> {
        Ok(
            uninterrupted(|| self.repo.write_object(gix::objs::Tree::empty()))
                .context("writing the empty tree")?
                .detach(),
        )
    }

    /// Writes a blob into the object store (nothing is written when it is there).
    pub fn write_blob(&self, bytes: &[u8]) -> Result<Oid> {
        Ok(uninterrupted(|| self.repo.write_blob(bytes))
            .context("writing a blob into the object store")?
            .detach())
    }

    /// A new tree: `base` with the files in `updates` replaced (blob id) or removed
    /// (`None`). A replaced file keeps its mode (an executable stays executable); a
    /// new one is a regular file. Written with gix: no index file, nothing to leave
    /// behind if the run is killed.
    pub fn edit_tree(&self, base: Oid, updates: &[(String, Option<Oid>)]) -> Result<Oid> {
        use gix::objs::tree::EntryKind;
        if updates.is_empty() {
            return Ok(base);
        }
        let paths: Vec<&str> = updates.iter().map(|(p, _)| p.as_str()).collect();
        let modes = self.file_modes_at(base, &paths)?;
        let mut editor = self
            .repo
            .edit_tree(base)
            .with_context(|| format!("reading tree {base}"))?;
        for ((path, blob), mode) in updates.iter().zip(modes) {
            match blob {
                Some(id) => {
                    let kind = match mode {
                        Some(m) if m.is_executable() => EntryKind::BlobExecutable,
                        _ => EntryKind::Blob,
                    };
                    editor
                        .upsert(path.as_str(), kind, *id)
                        .with_context(|| format!("putting {path} into a tree"))?;
                }
                None => {
                    editor
                        .remove(path.as_str())
                        .with_context(|| format!("removing {path} from a tree"))?;
                }
            }
        }
        Ok(uninterrupted(|| editor.write())
            .context("writing a tree into the object store")?
            .detach())
    }

    /// A new commit of `tree` with `parents` and `message`, by gitops (author and
    /// committer), at `when` (seconds since the epoch, UTC) or now. The object is
    /// the one `git commit-tree -p PARENT... -m MESSAGE TREE` writes with the same
    /// identity and date: the message ends with a newline (git adds one when it
    /// lacks it), no encoding header, no signature. No ref moves.
    pub fn write_commit(
        &self,
        tree: Oid,
        parents: &[Oid],
        message: &str,
        when: Option<i64>,
    ) -> Result<Oid> {
        let time = match when {
            Some(seconds) => gix::date::Time::new(seconds, 0),
            None => gix::date::Time::now_utc(),
        };
        let gitops = gix::actor::Signature {
            name: COMMITTER.0.into(),
            email: COMMITTER.1.into(),
            time,
        };
        let mut message = message.to_owned();
        if !message.is_empty() && !message.ends_with('\n') {
            message.push('\n');
        }
        let commit = gix::objs::Commit {
            tree,
            parents: parents.iter().copied().collect(),
            author: gitops.clone(),
            committer: gitops,
            encoding: None,
            message: message.into(),
            extra_headers: Vec::new(),
        };
        Ok(uninterrupted(|| self.repo.write_object(commit))
            .context("writing a commit into the object store")?
            .detach())
    }

    /// The modes of the files at `paths` in `tree` (`None` where there is none).
    fn file_modes_at(
        &self,
        tree: Oid,
        paths: &[&str],
    ) -> Result<Vec<Option<gix::objs::tree::EntryMode>>> {
        Ok(self
            .entries_at(tree, paths)?
            .into_iter()
            .map(|e| e.map(|(_, mode)| mode))
            .collect())
    }

    /// A blob's bytes.
    pub fn blob(&self, id: Oid) -> Result<Vec<u8>> {
        let object = self
            .repo
            .find_object(id)
            .with_context(|| format!("reading blob {id}"))?;
        Ok(object.detach().data)
    }

    /// Reads each blob once and maps it with `f`, on every core. The result is in
    /// the order of `ids`.
    pub fn map_blobs<T: Send>(&self, ids: &[Oid], f: impl Fn(&[u8]) -> T + Sync) -> Result<Vec<T>> {
        self.par_map_on(ids, 64, crate::parallel::threads(), |repo, id| {
            Ok(f(&repo
                .repo
                .find_object(*id)
                .with_context(|| format!("reading blob {id}"))?
                .data))
        })
    }

    /// Maps `items` with `f` on every core, each thread with its own handle on the
    /// repository; in order. Fewer than `min` items are done on this thread.
    pub fn par_map<I: Sync, T: Send>(
        &self,
        items: &[I],
        min: usize,
        f: impl Fn(&Repo, &I) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        self.par_map_on(items, min, crate::parallel::threads(), f)
    }

    /// [`Repo::par_map`] for a few items of about the same size (the trees of
    /// the environments): a thread for each, up to [`FEW`]. Three equal jobs on
    /// two threads leave a core idle while the third runs; three threads
    /// share both cores to the end (a first `status` on a large repository
    /// lists its three environments in 25 ms instead of 31).
    pub fn par_map_few<I: Sync, T: Send>(
        &self,
        items: &[I],
        f: impl Fn(&Repo, &I) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let threads = crate::parallel::threads().max(items.len().min(FEW));
        self.par_map_on(items, 2, threads, f)
    }

    /// [`Repo::par_map`] on `threads` threads.
    fn par_map_on<I: Sync, T: Send>(
        &self,
        items: &[I],
        min: usize,
        threads: usize,
        f: impl Fn(&Repo, &I) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let threads = if SINGLE_THREADED.load(std::sync::atomic::Ordering::Relaxed) {
            1
        } else {
            threads
        };
        if items.len() < min.max(2) || threads == 1 {
            return items.iter().map(|i| f(self, i)).collect();
        }
        let (sync, trees) = (&self.sync, &self.trees);
        crate::parallel::map_with(
            items,
            threads,
            // Each thread its own handle, sharing the kept trees; what it read
            // joins them when it is done.
            || {
                let mut local = Repo::wrap(sync.to_thread_local(), trees.clone());
                local.read_here = Some(RefCell::default());
                local
            },
            |local, item| f(local, item),
            |mut local| {
                if let Some(here) = local.read_here.take() {
                    local.keep_read(here.into_inner());
                }
            },
        )
    }
}

/// The most threads [`Repo::par_map_few`] starts.
const FEW: usize = 8;

/// The delta base cache of each thread reading the repository.
const PACK_CACHE_BYTES: usize = 32 * 1024 * 1024;

static SINGLE_THREADED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Reads one repository on one thread: for callers that already work on several
/// repositories in parallel (`check`), where more threads only cost.
pub fn single_threaded(on: bool) {
    SINGLE_THREADED.store(on, std::sync::atomic::Ordering::Relaxed);
}
/// How many commits read from the object store make git's commit-graph worth
/// writing (they take about 16 µs each to read; writing takes a `git` process).
const COMMIT_GRAPH_BEHIND: usize = 200;

/// Git's commit-graph (`objects/info/commit-graph`, or the chain of files in
/// `objects/info/commit-graphs/`) as gitops found it. Git writes a checksum at
/// the end of each file but does not check it when reading; gitops does (SHA-1
/// over the file: about 0.35 ms for 5,000 commits) and believes only a file
/// that passes.
enum CommitGraph {
    /// Git would not read one either (`core.commitGraph` is off, or replace
    /// refs are in use): commits come from the object store.
    Off,
    Absent,
    /// A file that does not open, fails its checksum or does not fit the chain.
    Damaged,
    Sound(Box<gix::commitgraph::Graph>),
}

/// Opens the commit-graph in `info` (a repository's `objects/info`): the file
/// `commit-graph`, else the chain in `commit-graphs/`, each file checked against
/// its checksum, and a chain's files against the chain.
fn open_commit_graph(info: &Path, hash: gix::hash::Kind) -> CommitGraph {
    use gix::commitgraph::File;
    let single = info.join("commit-graph");
    let files: Vec<(PathBuf, Option<Oid>)> = if single.symlink_metadata().is_ok() {
        vec![(single, None)]
    } else {
        let dir = info.join("commit-graphs");
        match std::fs::read_to_string(dir.join("commit-graph-chain")) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return CommitGraph::Absent,
            Err(_) => return CommitGraph::Damaged,
            Ok(chain) => {
                let ids: Option<Vec<Oid>> = chain
                    .lines()
                    .map(|line| Oid::from_hex(line.as_bytes()).ok())
                    .collect();
                let Some(ids) = ids else {
                    return CommitGraph::Damaged;
                };
                ids.into_iter()
                    .map(|id| (dir.join(format!("graph-{id}.graph")), Some(id)))
                    .collect()
            }
        }
    };
    let mut opened: Vec<File> = Vec::with_capacity(files.len());
    for (path, id) in files {
        let Ok(file) = File::at(&path) else {
            return CommitGraph::Damaged;
        };
        let sound = file.object_hash() == hash
            && id.is_none_or(|id| file.checksum() == id)
            && file
                .iter_base_graph_ids()
                .eq(opened.iter().map(File::checksum))
            && file.verify_checksum().is_ok();
        if !sound {
            return CommitGraph::Damaged;
        }
        opened.push(file);
    }
    gix::commitgraph::Graph::new(opened)
        .map_or(CommitGraph::Damaged, |g| CommitGraph::Sound(Box::new(g)))
}

/// What [`Repo::load_graph`] needs of a commit: tree, commit time, parents.
type CommitEntry = (Oid, i64, Vec<Oid>);

/// A commit as the commit-graph has it; `None` when it is not there.
fn graph_entry(graph: &gix::commitgraph::Graph, id: Oid) -> Option<CommitEntry> {
    let commit = graph.commit_by_id(id)?;
    let parents = commit
        .iter_parents()
        .map(|p| p.ok().map(|pos| graph.id_at(pos).to_owned()))
        .collect::<Option<Vec<Oid>>>()?;
    let time = i64::try_from(commit.committer_timestamp()).ok()?;
    Some((commit.root_tree_id().to_owned(), time, parents))
}

/// The entries of a tree that name a tree or a file (submodules and symlinks are
/// skipped): name, whether it is a tree, id — in git's tree order.
fn tree_list(data: Option<&[u8]>, hash: gix::hash::Kind) -> Result<Vec<(&[u8], bool, Oid)>> {
    let mut v = Vec::new();
    if let Some(data) = data {
        for entry in gix::objs::TreeRefIter::from_bytes(data, hash) {
            let entry = entry.context("decoding a tree")?;
            if entry.mode.is_tree() || entry.mode.is_blob() {
                v.push((
                    <&[u8]>::from(entry.filename),
                    entry.mode.is_tree(),
                    entry.oid.to_owned(),
                ));
            }
        }
    }
    Ok(v)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

fn decode_commit(id: Oid, data: &[u8], hash: gix::hash::Kind) -> Result<CommitInfo> {
    let commit = gix::objs::CommitRef::from_bytes(data, hash)
        .with_context(|| format!("decoding commit {id}"))?;
    let author = commit
        .author()
        .with_context(|| format!("decoding the author of {id}"))?;
    let time = commit.time().map(|t| t.seconds).unwrap_or(0);
    let message = commit.message();
    Ok(CommitInfo {
        id,
        parents: commit.parents().collect(),
        tree: commit.tree(),
        summary: message.summary().to_string(),
        message: commit.message.to_string(),
        author: author.name.to_string().trim().to_owned(),
        email: author.email.to_string().trim().to_owned(),
        time,
    })
}

/// Replaces the cache file at `path` whole with `content` under its header (a
/// temporary file, then a rename), so a reader never sees half of one.
fn write_cache_file(
    path: &Path,
    format: &cache::Format,
    hash: gix::hash::Kind,
    content: &[u8],
) -> Result<()> {
    let header = cache::seal_header(format, hash, content.len(), crc32fast::hash(content));
    write_cache_with(path, format, header, |out| out.write_all(content))
}

/// Writes a cache file that belongs to no repository (in the user's cache
/// directory: [`cache::seal_unbound`]), as [`Repo::write_cache`] writes a
/// repository's.
pub fn write_unbound_cache(path: &Path, format: &cache::Format, content: &[u8]) -> Result<()> {
    let header = cache::seal_unbound_header(format, content.len(), crc32fast::hash(content));
    write_cache_with(path, format, header, |out| out.write_all(content))
}

/// Writes the cache file at `path`: `header` (which gives the content's size
/// and CRC-32), then the content as `write` writes it (a 10 MB file is not
/// put together in memory first). A temporary file, then a rename.
fn write_cache_with(
    path: &Path,
    format: &cache::Format,
    header: String,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let dir = path.parent().expect("cache files live in a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.{}.tmp", format.name, std::process::id()));
    uninterrupted(|| {
        let written = std::fs::File::create(&tmp)
            .and_then(|file| {
                let mut out = std::io::BufWriter::with_capacity(1 << 18, file);
                out.write_all(header.as_bytes())?;
                write(&mut out)?;
                out.into_inner().map_err(|e| e.into_error())?;
                Ok(())
            })
            .with_context(|| format!("writing {}", tmp.display()))
            .and_then(|()| {
                std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs git in `dir` with no user or system configuration.
    fn git(dir: &Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "A")
            .env("GIT_AUTHOR_EMAIL", "a@example.com")
            .env("GIT_AUTHOR_DATE", "1789990000 +0000")
            .env("GIT_COMMITTER_NAME", "C")
            .env("GIT_COMMITTER_EMAIL", "c@example.com")
            .env("GIT_COMMITTER_DATE", "1789990000 +0000")
            .output()
            .expect("running git");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    /// `git commit-tree TREE -p PARENT... -m MESSAGE` in `dir` by gitops at
    /// `seconds`, with no user or system configuration: the commit's id.
    fn git_commit_tree(dir: &Path, tree: Oid, parents: &[Oid], message: &str, seconds: i64) -> Oid {
        let date = format!("@{seconds} +0000");
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", COMMITTER.0)
            .env("GIT_AUTHOR_EMAIL", COMMITTER.1)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_NAME", COMMITTER.0)
            .env("GIT_COMMITTER_EMAIL", COMMITTER.1)
            .env("GIT_COMMITTER_DATE", &date)
            .args(["commit-tree", &tree.to_string()]);
        for p in parents {
            cmd.args(["-p", &p.to_string()]);
        }
        let out = cmd.args(["-m", message]).output().expect("running git");
        assert!(out.status.success(), "git commit-tree: {out:?}");
        Oid::from_hex(String::from_utf8(out.stdout).unwrap().trim().as_bytes()).unwrap()
    }

    /// The commits gitops writes are the very objects `git commit-tree` writes
    /// for the same tree, parents, message, identity and date: the same ids,
    /// with no parent, one or two, whatever the message ends with, dated or now.
    #[test]
    fn commits_are_the_ones_git_commit_tree_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        git(path, &["init", "--quiet", "--initial-branch=main"]);
        let repo = Repo::open(path).unwrap();
        let empty = repo.empty_tree().unwrap();
        let blob = repo.write_blob(b"replicas: 2\n").unwrap();
        let tree = repo
            .edit_tree(empty, &[("apps/web/deployment.yaml".into(), Some(blob))])
            .unwrap();

        let root = repo.write_commit(empty, &[], "base", Some(1)).unwrap();
        assert_eq!(root, git_commit_tree(path, empty, &[], "base", 1));
        let side = repo.write_commit(tree, &[root], "source", Some(1)).unwrap();
        assert_eq!(side, git_commit_tree(path, tree, &[root], "source", 1));
        let messages = [
            "",
            "one line",
            "one line\n",
            "Promote dev to stage\n\nGitops-Promotion: dev -> stage\n",
            "trailing blank lines\n\n\n",
            "  spaces kept  \n\n# not a comment\n  ",
            "ünïcødé: ✓",
        ];
        for (k, message) in messages.iter().enumerate() {
            let at = 1_789_990_000 + k as i64;
            let ours = repo
                .write_commit(tree, &[root, side], message, Some(at))
                .unwrap();
            let git = git_commit_tree(path, tree, &[root, side], message, at);
            assert_eq!(ours, git, "message {message:?}");
        }

        // Now: the commit's own time, which git then writes alike.
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let now = repo.write_commit(tree, &[side], "now", None).unwrap();
        let time = repo.commit(now).unwrap().time;
        assert!(time >= before && time <= before + 60, "{time} vs {before}");
        assert_eq!(now, git_commit_tree(path, tree, &[side], "now", time));

        git(path, &["fsck", "--strict", "--no-dangling"]);
    }

    /// Replaces a file's bytes in place. Not `fs::write`: on ext4, a file
    /// truncated to nothing and written again is flushed to disk on close, which
    /// made this test wait 30 s for thousands of small writes.
    fn overwrite(path: &Path, bytes: &[u8]) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        file.write_all(bytes).unwrap();
        file.set_len(bytes.len() as u64).unwrap();
    }

    /// Every commit of a commit-graph: id → (tree, time, parents).
    fn entries(graph: &CommitGraph) -> Option<Vec<(Oid, CommitEntry)>> {
        let CommitGraph::Sound(g) = graph else {
            return None;
        };
        let ids: Vec<Oid> = g.iter_ids().map(|id| id.to_owned()).collect();
        ids.into_iter()
            .map(|id| Some((id, graph_entry(g, id)?)))
            .collect()
    }

    /// A commit-graph damaged in any way `cache::damaged` knows (every byte
    /// changed, every truncation, junk appended, emptied), as one file or as a
    /// chain (the chain file or a layer damaged, a layer missing), is never read
    /// as other commits: it is `Damaged`, or (a chain cut after a layer) reads as
    /// fewer of the same commits.
    #[test]
    fn a_damaged_commit_graph_is_never_believed() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        git(repo, &["init", "--quiet", "--initial-branch=main"]);
        git(repo, &["commit", "--quiet", "--allow-empty", "-m", "one"]);
        git(repo, &["checkout", "--quiet", "-b", "side"]);
        git(repo, &["commit", "--quiet", "--allow-empty", "-m", "two"]);
        git(repo, &["checkout", "--quiet", "main"]);
        git(repo, &["commit", "--quiet", "--allow-empty", "-m", "three"]);
        git(repo, &["merge", "--quiet", "--no-edit", "side"]);
        let info = repo.join(".git/objects/info");
        let sha1 = gix::hash::Kind::Sha1;
        assert!(matches!(
            open_commit_graph(&info, sha1),
            CommitGraph::Absent
        ));

        // One file.
        git(
            repo,
            &["commit-graph", "write", "--reachable", "--no-progress"],
        );
        let path = info.join("commit-graph");
        let good = std::fs::read(&path).unwrap();
        let want = entries(&open_commit_graph(&info, sha1)).expect("a sound commit-graph");
        assert_eq!(want.len(), 4);
        assert!(want.iter().any(|(_, (_, _, parents))| parents.len() == 2));
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&path, permissions).unwrap();
        let mut tried = 0;
        for (how, bytes) in cache::damaged(&good) {
            overwrite(&path, &bytes);
            assert!(entries(&open_commit_graph(&info, sha1)).is_none(), "{how}");
            tried += 1;
        }
        std::fs::remove_file(&path).unwrap();

        // A chain of two layers.
        git(repo, &["commit", "--quiet", "--allow-empty", "-m", "four"]);
        git(
            repo,
            &[
                "commit-graph",
                "write",
                "--reachable",
                "--split",
                "--no-progress",
            ],
        );
        git(repo, &["commit", "--quiet", "--allow-empty", "-m", "five"]);
        git(
            repo,
            &[
                "commit-graph",
                "write",
                "--reachable",
                "--split=no-merge",
                "--no-progress",
            ],
        );
        let chain_dir = info.join("commit-graphs");
        let chain_path = chain_dir.join("commit-graph-chain");
        let chain = std::fs::read(&chain_path).unwrap();
        assert_eq!(
            chain.iter().filter(|b| **b == b'\n').count(),
            2,
            "two layers"
        );
        let want = entries(&open_commit_graph(&info, sha1)).expect("a sound chain");
        assert_eq!(want.len(), 6);
        let mut cases = cache::damaged(&chain);
        let lines: Vec<&[u8]> = chain.split_inclusive(|b| *b == b'\n').collect();
        cases.push(("layers swapped".into(), [lines[1], lines[0]].concat()));
        cases.push(("the base layer alone".into(), lines[0].to_vec()));
        cases.push(("the top layer alone".into(), lines[1].to_vec()));
        for (how, bytes) in cases {
            overwrite(&chain_path, &bytes);
            // A chain cut to its first layers is still sound, with fewer commits:
            // the others come from the object store.
            if let Some(got) = entries(&open_commit_graph(&info, sha1)) {
                assert!(got.iter().all(|e| want.contains(e)), "chain: {how}");
            }
            tried += 1;
        }
        overwrite(&chain_path, &chain);
        let top = chain_dir.join(format!(
            "graph-{}.graph",
            std::str::from_utf8(lines[1]).unwrap().trim()
        ));
        let layer = std::fs::read(&top).unwrap();
        let mut permissions = std::fs::metadata(&top).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&top, permissions).unwrap();
        for (how, bytes) in cache::damaged(&layer) {
            overwrite(&top, &bytes);
            assert!(
                entries(&open_commit_graph(&info, sha1)).is_none(),
                "top layer: {how}"
            );
            tried += 1;
        }
        std::fs::remove_file(&top).unwrap();
        assert!(
            matches!(open_commit_graph(&info, sha1), CommitGraph::Damaged),
            "a layer missing"
        );
        assert!(tried > 8_000, "{tried} damaged files tried");
    }
}
