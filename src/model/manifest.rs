//! Kubernetes manifests as plain data: YAML documents, resource identity and the
//! flattening of a document into leaf field paths. Pure: bytes in, values out.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::Value as Json;
use yaml_serde::Value;

use crate::model::nesting;

/// One YAML document of a (possibly multi-document) file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Position of the document in its file, counting from 0 (empty documents count).
    pub index: usize,
    /// Shared: the documents of a file read through a [`DocCache`] are the very
    /// values of every other version holding the same text, so comparing them is
    /// comparing two pointers.
    pub value: Arc<Value>,
}

/// A YAML file that does not parse: where and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParseError {
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "line {} column {}: {}",
                self.line, self.column, self.message
            )
        } else {
            write!(f, "{}", self.message)
        }
    }
}

/// A manifest that does not parse, as `status --json` and `diff --json` report
/// it: `{"file", "line", "message"}` (`line` 1-based, 0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unparseable {
    /// The file's path in the repository.
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl Unparseable {
    pub fn new(file: &str, error: &ParseError) -> Unparseable {
        Unparseable {
            file: file.to_owned(),
            line: error.line,
            message: error.message.clone(),
        }
    }
}

impl std::fmt::Display for Unparseable {
    /// `apps/web/deploy.yaml:3: did not find expected key`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

fn parse_error(err: &yaml_serde::Error) -> ParseError {
    let (line, column) = err
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    // yaml_serde appends " at line X column Y" to its message; keep the cause only.
    let mut message = err.to_string();
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    ParseError {
        line,
        column,
        message,
    }
}

/// Refuses a file nested deeper than [`nesting::MAX_DEPTH`] before the parser
/// spends minutes on it (see [`nesting`]).
fn check_nesting(bytes: &[u8]) -> Result<(), ParseError> {
    nesting::check(bytes).map_err(|too_deep| ParseError {
        line: too_deep.line,
        column: too_deep.column,
        message: too_deep.message(),
    })
}

/// Parses every document of a YAML file. Empty documents (`---` alone, comments
/// only) are skipped but still counted in `index`. A file nested deeper than
/// [`nesting::MAX_DEPTH`] is refused unparsed.
pub fn parse_documents(bytes: &[u8]) -> Result<Vec<Document>, ParseError> {
    check_nesting(bytes)?;
    let mut docs = Vec::new();
    for (index, de) in yaml_serde::Deserializer::from_slice(bytes).enumerate() {
        let value = Value::deserialize(de).map_err(|e| parse_error(&e))?;
        if !value.is_null() {
            docs.push(Document {
                index,
                value: Arc::new(value),
            });
        }
    }
    Ok(docs)
}

/// Where the documents of a YAML file are, by its document-start markers:
/// the byte range of each document, in order, as [`parse_documents`] counts
/// them — text before the first `---` line is a document only when it holds
/// more than comments and blank lines, and each `---` line starts one, empty or
/// not. A marker is a line that is `---` alone (trailing spaces or a comment
/// aside) at column 0: YAML forbids such a line inside any scalar, so it never
/// splits a block scalar (whose lines are indented) nor a quoted one.
///
/// `None` when the file cannot be split by its lines with certainty, and must
/// be parsed whole: it has a directive (`%YAML`, `%TAG`) or a document-end
/// marker (`...`), a document that starts on its marker's line (`--- {a: 1}`,
/// `--- |`), a line at column 0 that starts a block scalar, or a byte order mark.
pub fn split_documents(bytes: &[u8]) -> Option<Vec<Range<usize>>> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return None;
    }
    let mut starts = Vec::new();
    let mut content_before_first = false;
    // Each line's start: 0, then after each line break (one pass over the text).
    let line_starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
    for line_start in line_starts.take_while(|&i| i < bytes.len()) {
        // Only a line that starts with one of these bytes is a marker, or
        // refused; the others matter before the first marker alone.
        let first_byte = bytes[line_start];
        if !matches!(first_byte, b'-' | b'.' | b'%' | b'|' | b'>')
            && (content_before_first || !starts.is_empty())
        {
            continue;
        }
        let line_end =
            memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i + 1);
        let line = &bytes[line_start..line_end];
        let marker = |m: &[u8]| {
            line.starts_with(m)
                && line
                    .get(3)
                    .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        };
        if marker(b"---") {
            let rest = line[3..].trim_ascii();
            if !rest.is_empty() && !rest.starts_with(b"#") {
                return None;
            }
            starts.push(line_start);
        } else if marker(b"...") || matches!(line.first(), Some(b'%' | b'|' | b'>')) {
            return None;
        } else if starts.is_empty() && !content_before_first {
            let text = line.trim_ascii();
            content_before_first = !text.is_empty() && !text.starts_with(b"#");
        }
    }
    let mut pieces = Vec::with_capacity(starts.len() + 1);
    let first = starts.first().copied().unwrap_or(bytes.len());
    if content_before_first {
        pieces.push(0..first);
    }
    for (k, &start) in starts.iter().enumerate() {
        pieces.push(start..starts.get(k + 1).copied().unwrap_or(bytes.len()));
    }
    Some(pieces)
}

/// The documents of every file read in one run, by their text: a file of many
/// documents is parsed document by document, and a document whose text was
/// parsed before — in another version of the file, or in the same version read
/// by another part of the run — is not parsed again. Files of one document are
/// parsed as [`parse_documents`] does, and not kept.
///
/// The answer is always [`parse_documents`]'s: a file that
/// [`split_documents`] cannot split, or any of whose documents does not parse
/// on its own as exactly one document, is parsed whole (which also gives the
/// error, with its line in the file).
#[derive(Default)]
pub struct DocCache {
    parsed: Mutex<foldhash::HashMap<TextHash, Arc<Value>>>,
    /// Where each document sets image tags and scalars, for the tag editor
    /// (`crate::model::edit::Sites`), by its text and whether scalars were
    /// listed; `None`: the document cannot be read on its own.
    pub(crate) sites: Mutex<PieceSites>,
    /// The identities of documents ([`DocCache::placeless_keys`]), by text.
    keys: Mutex<KeysByText>,
}

/// The identities of documents read on their own, by text
/// ([`DocCache::placeless_keys`]).
type KeysByText = foldhash::HashMap<TextHash, Option<Arc<[ResourceKey]>>>;

/// What the [`DocCache`] knows a document's text by: its 128-bit XXH3 hash
/// ([`text_hash`]), as the summaries know a text with image tags masked.
/// Keeping the hash rather than the text spares hashing and comparing every
/// text again at each lookup, and copying it into the map.
pub type TextHash = u128;

/// A text's [`TextHash`].
pub fn text_hash(text: &[u8]) -> TextHash {
    xxhash_rust::xxh3::xxh3_128(text)
}

/// Whether two texts of a document of the same identity hold the same values
/// for a comparison ([`DocCache::parse_moved`]).
pub type SameText<'a> = dyn Fn(&[u8], &[u8]) -> bool + 'a;

/// The documents of a file, by identity ([`DocCache::pieces`]).
#[derive(Debug)]
pub struct Pieces {
    pieces: Vec<Piece>,
}

/// One document of a file: its index, its bytes, a hash of its text, the
/// identities of its resources.
#[derive(Debug)]
struct Piece {
    index: usize,
    range: Range<usize>,
    hash: u128,
    keys: Arc<[ResourceKey]>,
}

impl Pieces {
    /// Each document: the identities of its resources, the hash of its text
    /// and its byte range, in order.
    pub fn documents(
        &self,
    ) -> impl ExactSizeIterator<Item = (&[ResourceKey], TextHash, Range<usize>)> {
        self.pieces
            .iter()
            .map(|p| (&*p.keys, p.hash, p.range.clone()))
    }

    /// Whether these pieces are those of `text`: each document's range lies in
    /// it, in order, and its text has the hash kept for it. What a run reads
    /// back from a cache is checked so before it is used.
    pub fn fit(&self, text: &[u8]) -> bool {
        let mut end = 0;
        self.pieces.iter().enumerate().all(|(k, p)| {
            let fits = p.index == k
                && p.range.start >= end
                && p.range.end >= p.range.start
                && text
                    .get(p.range.clone())
                    .is_some_and(|piece| text_hash(piece) == p.hash);
            end = p.range.end;
            fits
        })
    }
}

/// Encodes the pieces of blobs ([`DocCache::pieces`]; `None`: a blob that has
/// none), each under its id's bytes, for a cache file: the sets of identities
/// once, then each blob's documents (range, hash, set of identities).
/// [`decode_pieces`] reads it back.
pub fn encode_pieces<'a>(entries: impl Iterator<Item = (&'a [u8], Option<&'a Pieces>)>) -> Vec<u8> {
    let entries: Vec<_> = entries.collect();
    let mut sets: foldhash::HashMap<&[ResourceKey], u32> = foldhash::HashMap::default();
    let mut set_list: Vec<&[ResourceKey]> = Vec::new();
    for piece in entries.iter().filter_map(|e| e.1).flat_map(|p| &p.pieces) {
        sets.entry(&piece.keys).or_insert_with(|| {
            set_list.push(&piece.keys);
            (set_list.len() - 1) as u32
        });
    }
    let mut out = Vec::new();
    let u32_of = |out: &mut Vec<u8>, n: usize| out.extend_from_slice(&(n as u32).to_le_bytes());
    let str_of = |out: &mut Vec<u8>, text: Option<&str>| match text {
        Some(text) => {
            u32_of(out, text.len());
            out.extend_from_slice(text.as_bytes());
        }
        None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
    };
    u32_of(&mut out, set_list.len());
    for set in &set_list {
        u32_of(&mut out, set.len());
        for key in *set {
            str_of(&mut out, key.group.as_deref());
            str_of(&mut out, key.kind.as_deref());
            str_of(&mut out, key.namespace.as_deref());
            str_of(&mut out, Some(&key.name));
        }
    }
    u32_of(&mut out, entries.len());
    for (id, pieces) in &entries {
        u32_of(&mut out, id.len());
        out.extend_from_slice(id);
        match pieces {
            None => out.push(0),
            Some(pieces) => {
                out.push(1);
                u32_of(&mut out, pieces.pieces.len());
                for p in &pieces.pieces {
                    u32_of(&mut out, p.range.start);
                    u32_of(&mut out, p.range.end);
                    out.extend_from_slice(&p.hash.to_le_bytes());
                    u32_of(&mut out, sets[&*p.keys] as usize);
                }
            }
        }
    }
    out
}

/// The blobs' pieces [`encode_pieces`] wrote, by id bytes; `None` when the
/// bytes are not such an encoding. The ranges are not checked against any
/// text: check each with [`Pieces::fit`] before using it.
pub fn decode_pieces(bytes: &[u8]) -> Option<Vec<(&[u8], Option<Pieces>)>> {
    struct Reader<'b>(&'b [u8]);
    impl<'b> Reader<'b> {
        fn take(&mut self, n: usize) -> Option<&'b [u8]> {
            let (head, rest) = self.0.split_at_checked(n)?;
            self.0 = rest;
            Some(head)
        }
        fn u32(&mut self) -> Option<u32> {
            Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
        }
        fn len(&mut self) -> Option<usize> {
            // No count is larger than the bytes left: a damaged one fails here
            // rather than asking for memory.
            let n = self.u32()? as usize;
            (n <= self.0.len()).then_some(n)
        }
        fn str(&mut self) -> Option<Option<String>> {
            match self.u32()? {
                u32::MAX => Some(None),
                n => Some(Some(
                    std::str::from_utf8(self.take(n as usize)?).ok()?.to_owned(),
                )),
            }
        }
    }
    let mut r = Reader(bytes);
    let count = r.len()?;
    let mut sets: Vec<Arc<[ResourceKey]>> = Vec::with_capacity(count);
    for _ in 0..count {
        let n = r.len()?;
        let mut keys = Vec::with_capacity(n);
        for _ in 0..n {
            keys.push(ResourceKey {
                group: r.str()?,
                kind: r.str()?,
                namespace: r.str()?,
                name: r.str()??,
            });
        }
        sets.push(keys.into());
    }
    let blobs = r.len()?;
    let mut out = Vec::with_capacity(blobs);
    for _ in 0..blobs {
        let id_len = r.len()?;
        let id = r.take(id_len)?;
        let pieces = match r.take(1)? {
            [0] => None,
            [1] => {
                let n = r.len()?;
                let mut pieces = Vec::with_capacity(n);
                for index in 0..n {
                    let (start, end) = (r.u32()? as usize, r.u32()? as usize);
                    let hash = u128::from_le_bytes(r.take(16)?.try_into().ok()?);
                    let keys = sets.get(r.u32()? as usize)?.clone();
                    pieces.push(Piece {
                        index,
                        range: start..end,
                        hash,
                        keys,
                    });
                }
                Some(Pieces { pieces })
            }
            _ => return None,
        };
        out.push((id, pieces));
    }
    r.0.is_empty().then_some(out)
}

/// The [`DocCache`]'s sites of documents read on their own, by text and whether
/// scalars were listed.
pub(crate) type PieceSites =
    foldhash::HashMap<(TextHash, bool), Option<Arc<crate::model::edit::Sites>>>;

impl std::fmt::Debug for DocCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.parsed.lock().map_or(0, |m| m.len());
        write!(f, "DocCache({n} documents)")
    }
}

impl DocCache {
    /// [`parse_documents`], through the cache.
    pub fn parse(&self, bytes: &[u8]) -> Result<Vec<Document>, ParseError> {
        let pieces = match split_documents(bytes) {
            Some(pieces) if pieces.len() > 1 => pieces,
            _ => return parse_documents(bytes),
        };
        check_nesting(bytes)?;
        self.parse_new(pieces.iter().map(|p| &bytes[p.clone()]));
        let mut docs = Vec::with_capacity(pieces.len());
        for (index, piece) in pieces.into_iter().enumerate() {
            let Some(value) = self.one(&bytes[piece]) else {
                return parse_documents(bytes);
            };
            if !value.is_null() {
                docs.push(Document { index, value });
            }
        }
        Ok(docs)
    }

    /// The documents two versions of a file do not share: those whose text
    /// differs at the same position, parsed (through the cache); the documents
    /// both versions have word for word are left out, unparsed. `None` when the
    /// versions do not have the same number of documents, cannot be split
    /// ([`split_documents`]), or hold fewer than two, or a differing document
    /// does not parse on its own: compare them whole.
    ///
    /// Callers must know that both versions parse ([`parse_documents`]). Whether
    /// the documents left out can be is [`same_identities`]' question.
    pub fn parse_changed(&self, a: &[u8], b: &[u8]) -> Option<(Vec<Document>, Vec<Document>)> {
        let (pa, pb) = (split_documents(a)?, split_documents(b)?);
        if pa.len() != pb.len() || pa.len() < 2 {
            return None;
        }
        let (mut da, mut db) = (Vec::new(), Vec::new());
        for (index, (ra, rb)) in pa.into_iter().zip(pb).enumerate() {
            let (ta, tb) = (&a[ra], &b[rb]);
            if ta == tb {
                continue;
            }
            for (text, docs) in [(ta, &mut da), (tb, &mut db)] {
                let value = self.one(text)?;
                if !value.is_null() {
                    docs.push(Document { index, value });
                }
            }
        }
        Some((da, db))
    }

    /// The documents two versions of a file do not share, when documents are
    /// added, removed or moved: every document of either version whose text the
    /// other version does not have, parsed (through the cache); the others are
    /// left out, unparsed. `None` (compare them whole, or by position:
    /// [`DocCache::parse_changed`]) unless comparing these alone gives every
    /// difference of the two versions: every resource of both versions has an
    /// identity that does not depend on its place in the file (a `kind` and a
    /// `metadata.name`; read off the text by [`quick_check::identity`] when it
    /// can tell, else from the parsed document), and no identity repeats within
    /// a version. Then a resource pairs with the one of the same identity in the
    /// other version ([`crate::model::semdiff`] pairs them by key), a document
    /// both versions have word for word pairs with itself and differs nowhere,
    /// and the others pair as they would in the whole files.
    ///
    /// `same(a, b)`, when given, is asked of the two texts of each identity
    /// whose document differs: when it answers yes, the pair is left out too
    /// (for a comparison that sets aside what `same` does, such as image tags).
    ///
    /// Callers must know that both versions parse ([`parse_documents`]).
    pub fn parse_moved(
        &self,
        (a, ia): (&[u8], &Pieces),
        (b, ib): (&[u8], &Pieces),
        same: Option<&SameText<'_>>,
    ) -> Option<(Vec<Document>, Vec<Document>)> {
        if ia.pieces.len().max(ib.pieces.len()) < 2 {
            return None;
        }
        let hashes =
            |p: &Pieces| -> foldhash::HashSet<u128> { p.pieces.iter().map(|x| x.hash).collect() };
        let (in_a, in_b) = (hashes(ia), hashes(ib));
        // The documents only one version has.
        let only_a: Vec<&Piece> = ia
            .pieces
            .iter()
            .filter(|p| !in_b.contains(&p.hash))
            .collect();
        let only_b: Vec<&Piece> = ib
            .pieces
            .iter()
            .filter(|p| !in_a.contains(&p.hash))
            .collect();
        // Pairs of the same (single) identity that `same` calls equal are left out.
        let mut left_out: foldhash::HashSet<&ResourceKey> = foldhash::HashSet::default();
        if let Some(same) = same {
            let by_key: foldhash::HashMap<&ResourceKey, &Piece> = only_b
                .iter()
                .filter(|p| p.keys.len() == 1)
                .map(|p| (&p.keys[0], *p))
                .collect();
            for p in only_a.iter().filter(|p| p.keys.len() == 1) {
                if let Some(other) = by_key.get(&p.keys[0]) {
                    if same(&a[p.range.clone()], &b[other.range.clone()]) {
                        left_out.insert(&p.keys[0]);
                    }
                }
            }
        }
        let wanted = |p: &&&Piece| !(p.keys.len() == 1 && left_out.contains(&p.keys[0]));
        self.parse_new(only_a.iter().filter(wanted).map(|p| &a[p.range.clone()]));
        self.parse_new(only_b.iter().filter(wanted).map(|p| &b[p.range.clone()]));
        Some((
            self.parse_pieces(a, only_a.iter().copied().filter(|p| wanted(&p)))?,
            self.parse_pieces(b, only_b.iter().copied().filter(|p| wanted(&p)))?,
        ))
    }

    /// The documents of a file, each with a hash of its text and its
    /// resources' identities, when every identity is independent of its
    /// document's place in the file and none repeats ([`DocCache::parse_moved`]'s
    /// requirement). `None`: the file cannot be split ([`split_documents`]), is
    /// plain or a kustomization, or has an identity that depends on its place
    /// (no `kind` or no `metadata.name`) or repeats, or a document that does
    /// not parse on its own.
    ///
    /// Callers must know that the file parses ([`parse_documents`]): its
    /// documents' identities are read off their first lines.
    pub fn pieces(&self, path: &str, plain: bool, text: &[u8]) -> Option<Pieces> {
        if plain || is_kustomization_file(path) {
            return None;
        }
        let ranges = split_documents(text)?;
        let mut pieces = Vec::with_capacity(ranges.len());
        for (index, range) in ranges.into_iter().enumerate() {
            let piece = &text[range.clone()];
            let hash = text_hash(piece);
            let keys = self.placeless_keys(piece, hash)?;
            pieces.push(Piece {
                index,
                range,
                hash,
                keys,
            });
        }
        let mut seen = foldhash::HashSet::default();
        seen.reserve(pieces.len());
        for key in pieces.iter().flat_map(|p| p.keys.iter()) {
            if !seen.insert(key) {
                return None;
            }
        }
        Some(Pieces { pieces })
    }

    /// The documents of a file (its [`DocCache::pieces`]) that hold a resource
    /// of one of `keys`, parsed (through the cache); the others are not parsed.
    /// `None` when one of those does not parse on its own.
    ///
    /// Callers must know that the file parses ([`parse_documents`]).
    pub fn docs_with_keys(
        &self,
        text: &[u8],
        pieces: &Pieces,
        keys: &foldhash::HashSet<ResourceKey>,
    ) -> Option<Vec<Document>> {
        let wanted = pieces
            .pieces
            .iter()
            .filter(|p| p.keys.iter().any(|key| keys.contains(key)));
        self.parse_pieces(text, wanted)
    }

    /// The documents of `text` at `pieces`, parsed (through the cache); `None`
    /// when one does not parse on its own.
    fn parse_pieces<'p>(
        &self,
        text: &[u8],
        pieces: impl Iterator<Item = &'p Piece>,
    ) -> Option<Vec<Document>> {
        let mut docs = Vec::new();
        for p in pieces {
            let value = self.one_hashed(&text[p.range.clone()], p.hash)?;
            if !value.is_null() {
                docs.push(Document {
                    index: p.index,
                    value,
                });
            }
        }
        Some(docs)
    }

    /// The identities of the resources of one document of a file that is not
    /// plain and is known to parse, when none depends on the document's place
    /// in the file; `None` when one does (no `kind` or no `metadata.name`), or
    /// the document does not parse on its own.
    fn placeless_keys(&self, text: &[u8], hash: TextHash) -> Option<Arc<[ResourceKey]>> {
        let lock = || self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(keys) = lock().get(&hash) {
            return keys.clone();
        }
        let keys = self.read_placeless_keys(text).map(Arc::from);
        lock().insert(hash, keys.clone());
        keys
    }

    /// [`DocCache::placeless_keys`], not cached.
    fn read_placeless_keys(&self, text: &[u8]) -> Option<Vec<ResourceKey>> {
        if let Some(id) = super::quick_check::identity_of_valid(text) {
            let kind = std::str::from_utf8(id.kind?).ok()?;
            let api_version = std::str::from_utf8(id.api_version?).ok()?;
            let listed = kind.ends_with("List")
                || matches!(kind, "Kustomization" | "Component")
                || api_version.starts_with(KUSTOMIZE_API_PREFIX);
            if !listed {
                let namespace = match id.namespace {
                    Some(ns) => Some(std::str::from_utf8(ns).ok()?.to_owned()),
                    None => None,
                };
                return Some(vec![ResourceKey {
                    group: Some(api_group(api_version).to_owned()),
                    kind: Some(kind.to_owned()),
                    namespace,
                    name: std::str::from_utf8(id.name?).ok()?.to_owned(),
                }]);
            }
        }
        // Parsed: the keys it has at two places in the file must be the same.
        let value = self.one(text)?;
        let at = |index: usize| -> Vec<ResourceKey> {
            let doc = [Document {
                index,
                value: value.clone(),
            }];
            // Any file name: it names only the documents this refuses.
            resources("-", &doc, false)
                .into_iter()
                .map(|r| r.key)
                .collect()
        };
        let keys = at(1);
        (keys == at(2)).then_some(keys)
    }

    /// Parses the documents among `texts` not parsed yet, on every core when
    /// they are many, into the cache ([`DocCache::one`] then finds them).
    fn parse_new<'t>(&self, texts: impl Iterator<Item = &'t [u8]>) {
        let new: Vec<(&[u8], TextHash)> = {
            let parsed = self.lock();
            let mut seen = foldhash::HashSet::default();
            texts
                .map(|t| (t, text_hash(t)))
                .filter(|(_, h)| !parsed.contains_key(h) && seen.insert(*h))
                .collect()
        };
        let values = super::par_map(&new, 64, |(text, _)| parse_one(text));
        let mut parsed = self.lock();
        for ((_, hash), value) in new.into_iter().zip(values) {
            if let Some(value) = value {
                parsed.insert(hash, Arc::new(value));
            }
        }
    }

    /// The one document of each of `texts`, parsed once (on every core when
    /// they are many); `None` for one that does not parse on its own as
    /// exactly one document.
    pub fn parse_each(&self, texts: &[&[u8]]) -> Vec<Option<Arc<Value>>> {
        self.parse_new(texts.iter().copied());
        texts.iter().map(|t| self.one(t)).collect()
    }

    /// The one document of `text`, parsed once.
    fn one(&self, text: &[u8]) -> Option<Arc<Value>> {
        self.one_hashed(text, text_hash(text))
    }

    /// [`DocCache::one`] of a text whose hash is known.
    fn one_hashed(&self, text: &[u8], hash: TextHash) -> Option<Arc<Value>> {
        if let Some(value) = self.lock().get(&hash) {
            return Some(value.clone());
        }
        let value = Arc::new(parse_one(text)?);
        self.lock().insert(hash, value.clone());
        Some(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, foldhash::HashMap<TextHash, Arc<Value>>> {
        // A thread that panicked holding the lock left a map that is still sound.
        self.parsed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The one document of `text`; `None` when it does not parse or does not hold
/// exactly one document.
fn parse_one(text: &[u8]) -> Option<Value> {
    let mut documents = yaml_serde::Deserializer::from_slice(text);
    let value = Value::deserialize(documents.next()?).ok()?;
    documents.next().is_none().then_some(value)
}

/// Checks that every document of a YAML file parses, without building values:
/// the cheap way to find the files that do not.
pub fn validate(bytes: &[u8]) -> Result<(), ParseError> {
    if super::quick_check::surely_valid(bytes) {
        return Ok(());
    }
    check_nesting(bytes)?;
    for de in yaml_serde::Deserializer::from_slice(bytes) {
        serde::de::IgnoredAny::deserialize(de).map_err(|e| parse_error(&e))?;
    }
    Ok(())
}

/// What identifies a resource across branches: API group, kind, namespace and
/// name. Not the API version: `apps/v1beta2` and `apps/v1` Deployment `web` are
/// one resource, and an apiVersion migration is a change of that resource (its
/// `apiVersion` field), not a removal and an addition.
///
/// A document named by its file rather than by `metadata.name` (a kustomization,
/// an object without a name, a plain values document) has `name` set to the
/// file's path, `#index` appended for documents after the first
/// (`apps/web/values.yaml#1`); plain values documents have no group and no kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ResourceKey {
    /// The API group: `apiVersion` before its `/` (`apps` for `apps/v1`), `""` for
    /// the core group (`v1`); `None` without an `apiVersion`.
    pub group: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Some(kind) => {
                write!(f, "{kind}/")?;
                if let Some(ns) = &self.namespace {
                    write!(f, "{ns}/")?;
                }
                write!(f, "{}", self.name)
            }
            None => write!(f, "{}", self.name),
        }
    }
}

/// The API group of an `apiVersion`: the part before `/`, `""` for the core
/// group (`v1`).
pub fn api_group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// One resource of a file: a document, or one item of a `List` document.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource<'a> {
    pub key: ResourceKey,
    /// Its `apiVersion` as written (a typed list's item without one has the
    /// list's), for output; `None` when it has none. Not part of the identity.
    pub api_version: Option<String>,
    /// The resource itself: the document, or the list item.
    pub value: &'a Value,
    /// The position of its document in the file ([`Document::index`]).
    pub doc: usize,
    /// Where the resource is in its document, as a [`flatten`] path: `""` for a
    /// whole document, `items[3]` for the fourth item of a `List`. Field paths of
    /// the resource (`flatten(value)`) are relative to it.
    pub prefix: String,
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = value;
    for key in path {
        v = v.get(*key)?;
    }
    v.as_str()
}

const KUSTOMIZE_API_PREFIX: &str = "kustomize.config.k8s.io/";
const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A file kustomize reads as a kustomization: `kustomization.yaml`,
/// `kustomization.yml` or `Kustomization`, in any directory.
pub fn is_kustomization_file(path: &str) -> bool {
    KUSTOMIZATION_FILES.contains(&file_name(path))
}

/// A Helm values file by its name: `values.yaml`, `values-prod.yaml`,
/// `values.stage.yml` (`values*.yaml` or `values*.yml`), in any directory.
pub fn is_helm_values_file(path: &str) -> bool {
    let name = file_name(path);
    name.starts_with("values") && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// The resources of a parsed file at `path`, in document order.
///
/// Only documents that look like Kubernetes objects (string `apiVersion` and
/// `kind`) or kustomizations (kind `Kustomization` or `Component`, an
/// `apiVersion` of `kustomize.config.k8s.io/…`, or any document of a
/// [kustomization file](is_kustomization_file)) are resources:
///
/// - an object with a `metadata.name` is identified by its API group, kind,
///   `metadata.namespace` and name; one without (a kustomization, usually) by its
///   file, as [`ResourceKey`] says;
/// - a `List`, or any kind ending in `List`, with an `items` sequence is not a
///   resource itself: each of its items is, with `prefix` `items[i]`. An item
///   needs its own `apiVersion` and `kind`, except in a typed list
///   (`DeploymentList`), whose items default to the list's `apiVersion` and the
///   kind it names; other items are skipped. An item without a
///   `metadata.name` is named `<file>/items[i]`.
///
/// Every other document (a Helm values file, a CI workflow, `Chart.yaml`,
/// arbitrary configuration) is a resource only when `plain` is true — the
/// caller says the file holds plain values (Helm values files, the files of the
/// config's `pinned` rules) — and is then named by the file, with no group and
/// no kind. Objects and kustomizations in a `plain` file are still identified as
/// such.
pub fn resources<'a>(path: &str, docs: &'a [Document], plain: bool) -> Vec<Resource<'a>> {
    let kustomization_file = is_kustomization_file(path);
    let mut out = Vec::new();
    for doc in docs {
        let value = &doc.value;
        let api_version = str_at(value, &["apiVersion"]);
        let kind = str_at(value, &["kind"]);
        let by_file = if doc.index == 0 {
            path.to_owned()
        } else {
            format!("{path}#{}", doc.index)
        };
        if let (Some(list_kind), Some(items)) = (
            kind.filter(|k| k.ends_with("List")),
            value.get("items").and_then(Value::as_sequence),
        ) {
            // `DeploymentList` items are Deployments; `List` items say what they are.
            let element = list_kind.strip_suffix("List").filter(|k| !k.is_empty());
            for (i, item) in items.iter().enumerate() {
                let item_version =
                    str_at(item, &["apiVersion"]).or_else(|| element.and(api_version));
                let item_kind = str_at(item, &["kind"]).or(element);
                let (Some(item_version), Some(item_kind)) = (item_version, item_kind) else {
                    continue;
                };
                let prefix = format!("items{}", item_address(item, i));
                out.push(Resource {
                    key: object_key(
                        item,
                        Some(item_version),
                        Some(item_kind),
                        format!("{by_file}/{prefix}"),
                    ),
                    api_version: Some(item_version.to_owned()),
                    value: item,
                    doc: doc.index,
                    prefix,
                });
            }
            continue;
        }
        let object = api_version.is_some() && kind.is_some();
        let kustomization = kustomization_file
            || matches!(kind, Some("Kustomization" | "Component"))
            || api_version.is_some_and(|v| v.starts_with(KUSTOMIZE_API_PREFIX));
        let key = if object || kustomization {
            object_key(value, api_version, kind, by_file)
        } else if plain {
            ResourceKey {
                group: None,
                kind: None,
                namespace: None,
                name: by_file,
            }
        } else {
            continue;
        };
        out.push(Resource {
            key,
            api_version: api_version
                .filter(|_| object || kustomization)
                .map(str::to_owned),
            value,
            doc: doc.index,
            prefix: String::new(),
        });
    }
    out
}

/// Whether the documents of `a` and those of `b` (of two versions of the file
/// at `path`, documents at the same positions: [`DocCache::parse_changed`])
/// hold resources of the same identities, document by document, in the same
/// order. Then every resource of either version pairs with the one at the same
/// place in the other (as [`crate::model::semdiff`] pairs them, by key,
/// occurrence by occurrence, whatever the documents both versions share), so
/// comparing these documents alone gives every difference of the two versions.
pub fn same_identities(path: &str, a: &[Document], b: &[Document], plain: bool) -> bool {
    let by_doc = |docs: &[Document]| -> Vec<(usize, ResourceKey)> {
        resources(path, docs, plain)
            .into_iter()
            .map(|r| (r.doc, r.key))
            .collect()
    };
    by_doc(a) == by_doc(b)
}

/// The key of an object: by `metadata.name` when it has a kind and a name, else
/// named `by_file`.
fn object_key(
    value: &Value,
    api_version: Option<&str>,
    kind: Option<&str>,
    by_file: String,
) -> ResourceKey {
    let group = api_version.map(|v| api_group(v).to_owned());
    match (kind, str_at(value, &["metadata", "name"])) {
        (Some(kind), Some(name)) => ResourceKey {
            group,
            kind: Some(kind.to_owned()),
            namespace: str_at(value, &["metadata", "namespace"]).map(str::to_owned),
            name: name.to_owned(),
        },
        (kind, _) => ResourceKey {
            group,
            kind: kind.map(str::to_owned),
            namespace: None,
            name: by_file,
        },
    }
}

/// A YAML value as JSON, for output (mapping keys as text, tags looked through).
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Json::Number)
                    .unwrap_or_else(|| Json::String(n.to_string()))
            }
        }
        Value::String(s) => Json::String(s.clone()),
        Value::Sequence(seq) => Json::Array(seq.iter().map(to_json).collect()),
        Value::Mapping(map) => {
            Json::Object(map.iter().map(|(k, v)| (key_text(k), to_json(v))).collect())
        }
        Value::Tagged(t) => to_json(&t.value),
    }
}

/// A mapping key as [`flatten`] paths spell it.
pub fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => yaml_serde::to_string(other)
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_default(),
    }
}

/// Flattens a document into `(field path, leaf value)` pairs, in document order.
///
/// Paths join mapping keys with `.`; a sequence item that is a mapping with a
/// string `name` is addressed by it (`containers[name=web]`), any other item by its
/// index (`args[0]`). Empty mappings and sequences are leaves.
pub fn flatten(value: &Value) -> Vec<(String, Json)> {
    let mut out = Vec::new();
    flatten_into(value, String::new(), &mut out);
    out
}

fn flatten_into(value: &Value, prefix: String, out: &mut Vec<(String, Json)>) {
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = key_text(k);
                let path = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                flatten_into(v, path, out);
            }
        }
        Value::Sequence(seq) if !seq.is_empty() => {
            for (i, item) in seq.iter().enumerate() {
                flatten_into(item, format!("{prefix}{}", item_address(item, i)), out);
            }
        }
        Value::Tagged(t) => flatten_into(&t.value, prefix, out),
        leaf => out.push((prefix, to_json(leaf))),
    }
}

/// How [`flatten`] addresses the sequence item at `index`: `[name=x]` for a
/// mapping with a string `name`, else `[index]`.
pub fn item_address(item: &Value, index: usize) -> String {
    match item_name(item) {
        Some(name) => format!("[name={name}]"),
        None => format!("[{index}]"),
    }
}

/// The string `name` of a sequence item that is a mapping, by which [`flatten`]
/// addresses it.
pub fn item_name(item: &Value) -> Option<&str> {
    item.get("name").and_then(Value::as_str)
}

/// The value under its YAML tags (`!!map`, `!Ref`), as [`flatten`] sees it.
pub fn untag(value: &Value) -> &Value {
    match value {
        Value::Tagged(t) => untag(&t.value),
        other => other,
    }
}

/// The node at a [`flatten`] path (a leaf or a whole subtree): the first one,
/// in document order, whose path is `path`; `""` is the value itself.
pub fn at_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    at_path_from(value, String::new(), path)
}

fn at_path_from<'a>(value: &'a Value, prefix: String, path: &str) -> Option<&'a Value> {
    if prefix == path {
        return Some(value);
    }
    // Only descend towards `path`: the child's path must be a prefix of it.
    let leads = |child: &str| {
        path.strip_prefix(child)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
    };
    match value {
        Value::Mapping(map) => map.iter().find_map(|(k, v)| {
            let key = key_text(k);
            let child = if prefix.is_empty() {
                key
            } else {
                format!("{prefix}.{key}")
            };
            if leads(&child) {
                at_path_from(v, child, path)
            } else {
                None
            }
        }),
        Value::Sequence(seq) => seq.iter().enumerate().find_map(|(i, item)| {
            let child = format!("{prefix}{}", item_address(item, i));
            if leads(&child) {
                at_path_from(item, child, path)
            } else {
                None
            }
        }),
        Value::Tagged(t) => at_path_from(&t.value, prefix, path),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_files_skip_empty_documents_but_count_them() {
        let docs = parse_documents(b"---\n# only a comment\n---\na: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].index, 1);
        assert_eq!(docs[1].index, 2);
    }

    #[test]
    fn documents_split_at_their_markers_only() {
        fn pieces(text: &str) -> Option<Vec<&str>> {
            split_documents(text.as_bytes())
                .map(|p| p.into_iter().map(|r| &text[r]).collect::<Vec<_>>())
        }
        // (text, documents)
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("", Some(&[])),
            ("# only a comment\n\n", Some(&[])),
            ("a: 1\n", Some(&["a: 1\n"])),
            ("a: 1\n---\nb: 2", Some(&["a: 1\n", "---\nb: 2"])),
            (
                "# head\n---\na: 1\n--- # two\n---\n",
                Some(&["---\na: 1\n", "--- # two\n", "---\n"]),
            ),
            // Not markers: indented, inside a block scalar, longer dashes.
            (
                "a: |\n  ---\n  x\nb: ----\n---x: 1\n",
                Some(&["a: |\n  ---\n  x\nb: ----\n---x: 1\n"]),
            ),
            (
                "a: 1\r\n---\r\nb: 2\r\n",
                Some(&["a: 1\r\n", "---\r\nb: 2\r\n"]),
            ),
            // Parsed whole: what lines alone cannot tell.
            ("%YAML 1.2\n---\na: 1\n", None),
            ("a: 1\n...\n---\nb: 2\n", None),
            ("--- {a: 1}\n---\nb: 2\n", None),
            ("--- |\n  text\n---\nb: 2\n", None),
            ("\u{feff}a: 1\n---\nb: 2\n", None),
        ];
        for (text, want) in cases {
            assert_eq!(pieces(text).as_deref(), *want, "{text:?}");
        }
    }

    /// The cache gives what `parse_documents` gives — documents, indexes, errors
    /// and their lines — and the same value, shared, for the same text.
    #[test]
    fn the_document_cache_answers_as_a_whole_parse() {
        let cache = DocCache::default();
        let texts = [
            "a: 1\n---\nb: 2\n",
            "---\n# only a comment\n---\na: 1\n---\nb: 2\n",
            "# head\n---\na: 1\n---\n---\n",
            "a: 1\n---\nb: [1, 2\n---\nc: 3\n",
            "a: 1\n---\nb: 2\n---\nc: d: e\n",
            "a: |\n  ---\n  x\n---\nb: &x 1\nc: *x\n",
            "a: 1\n---\nb: *nowhere\n",
            "a: 1\n---\n- x\n---\n'quoted\n  scalar'\n",
            "a: \"x\n---\ny\"\n",
            "a: 1\n---\nb: 2\n---\nc: 3\n",
        ];
        for text in texts {
            let whole = parse_documents(text.as_bytes());
            // Twice: the second time from the cache.
            for _ in 0..2 {
                assert_eq!(cache.parse(text.as_bytes()), whole, "{text:?}");
            }
        }
        let deep = format!("a: 1\n---\nb: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            cache.parse(deep.as_bytes()),
            parse_documents(deep.as_bytes())
        );
        let one = cache.parse(b"a: 1\n---\nb: 2\n").unwrap();
        let other = cache.parse(b"c: 3\n---\nb: 2\n").unwrap();
        assert!(Arc::ptr_eq(&one[1].value, &other[1].value));
        assert!(!Arc::ptr_eq(&one[0].value, &other[0].value));
    }

    /// Two versions compared on the documents they do not share give every
    /// difference of the whole versions, when their identities line up; they
    /// are not compared so when documents were added, removed or renamed.
    #[test]
    fn documents_added_removed_or_moved_compare_by_identity() {
        let obj = |kind: &str, name: &str, data: &str| {
            format!("---\napiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: shop\ndata:\n  a: \"{data}\"\n")
        };
        let docs = [
            obj("ConfigMap", "one", "1"),
            obj("ConfigMap", "two", "2"),
            obj("Secret", "two", "2"),
            obj("ConfigMap", "three", "3"),
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - image: shop/web:1.0.0\n".to_owned(),
        ];
        let base: String = docs.concat();
        // Moved, removed, added, changed, and all at once.
        let variants: Vec<String> = vec![
            [&docs[3], &docs[0], &docs[1], &docs[2], &docs[4]]
                .map(String::as_str)
                .concat(),
            [&docs[0], &docs[2], &docs[3], &docs[4]]
                .map(String::as_str)
                .concat(),
            base.clone() + &obj("ConfigMap", "four", "4"),
            base.replace("\"2\"", "\"22\""),
            base.replace("web:1.0.0", "web:1.1.0"),
            [
                &docs[4],
                &obj("ConfigMap", "one", "9"),
                &docs[2],
                &obj("Secret", "new", "1"),
            ]
            .map(String::as_str)
            .concat(),
        ];
        let cache = DocCache::default();
        let pinned = crate::model::semdiff::Pinned::default();
        let diff = |x: &[Document], y: &[Document]| {
            crate::model::semdiff::diff_file("all.yaml", Some(x), Some(y), &pinned, false)
        };
        let whole = |t: &str| parse_documents(t.as_bytes()).unwrap();
        let pieces = |t: &str| cache.pieces("all.yaml", false, t.as_bytes()).unwrap();
        for variant in &variants {
            for (a, b) in [(&base, variant), (variant, &base)] {
                let (pa, pb) = (pieces(a), pieces(b));
                let (da, db) = cache
                    .parse_moved((a.as_bytes(), &pa), (b.as_bytes(), &pb), None)
                    .unwrap();
                assert_eq!(diff(&da, &db), diff(&whole(a), &whole(b)), "{a}\n=>\n{b}");
                assert!(da.len() + db.len() < whole(a).len() + whole(b).len());
            }
        }
        // A pair `same` calls equal is left out; the others are compared.
        let retagged = base
            .replace("web:1.0.0", "web:1.1.0")
            .replace("\"3\"", "\"33\"");
        let (pa, pb) = (pieces(&base), pieces(&retagged));
        let same = |x: &[u8], y: &[u8]| {
            x.windows(3).any(|w| w == b"web") && y.windows(3).any(|w| w == b"web")
        };
        let (da, db) = cache
            .parse_moved(
                (base.as_bytes(), &pa),
                (retagged.as_bytes(), &pb),
                Some(&same),
            )
            .unwrap();
        let names = |d: &[Document]| -> Vec<String> {
            resources("all.yaml", d, false)
                .into_iter()
                .map(|r| r.key.name)
                .collect()
        };
        assert_eq!(
            (names(&da), names(&db)),
            (vec!["three".to_owned()], vec!["three".to_owned()])
        );
        // Only the documents of the asked identities are parsed.
        let keys: foldhash::HashSet<ResourceKey> = resources("all.yaml", &db, false)
            .into_iter()
            .map(|r| r.key)
            .collect();
        let found = cache.docs_with_keys(base.as_bytes(), &pa, &keys).unwrap();
        assert_eq!(names(&found), ["three"]);
        // What cannot be compared by identity: an identity that depends on the
        // document's place, one that repeats, a kustomization, plain values.
        let nameless = base.clone() + "---\napiVersion: v1\nkind: ConfigMap\ndata: {}\n";
        assert!(cache
            .pieces("all.yaml", false, nameless.as_bytes())
            .is_none());
        let twice = base.clone() + &docs[0];
        assert!(cache.pieces("all.yaml", false, twice.as_bytes()).is_none());
        assert!(cache
            .pieces("kustomization.yaml", false, base.as_bytes())
            .is_none());
        assert!(cache.pieces("values.yaml", true, base.as_bytes()).is_none());
    }

    #[test]
    fn versions_compare_on_the_documents_they_do_not_share() {
        let cm = |name: &str, data: &str| {
            format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{a: {data}}}\n")
        };
        let file =
            |docs: &[(&str, &str)]| -> String { docs.iter().map(|(n, d)| cm(n, d)).collect() };
        let a = file(&[("one", "1"), ("two", "2"), ("three", "3")]);
        let b = file(&[("one", "1"), ("two", "22"), ("three", "3")]);
        let cache = DocCache::default();
        let (da, db) = cache.parse_changed(a.as_bytes(), b.as_bytes()).unwrap();
        assert_eq!((da.len(), db.len()), (1, 1));
        assert_eq!((da[0].index, db[0].index), (1, 1));
        assert!(same_identities("all.yaml", &da, &db, false));
        let pinned = crate::model::semdiff::Pinned::default();
        let diff = |x: &[Document], y: &[Document]| {
            crate::model::semdiff::diff_file("all.yaml", Some(x), Some(y), &pinned, false)
        };
        let whole = |t: &str| parse_documents(t.as_bytes()).unwrap();
        assert_eq!(diff(&da, &db), diff(&whole(&a), &whole(&b)));
        assert_eq!(diff(&da, &db).resources.len(), 1);
        // A renamed resource: the identities differ, compare whole.
        let renamed = file(&[("one", "1"), ("deux", "2"), ("three", "3")]);
        let (da, dr) = cache
            .parse_changed(a.as_bytes(), renamed.as_bytes())
            .unwrap();
        assert!(!same_identities("all.yaml", &da, &dr, false));
        // A document added or removed: not compared by position.
        let shorter = file(&[("one", "1"), ("three", "3")]);
        assert_eq!(cache.parse_changed(a.as_bytes(), shorter.as_bytes()), None);
        // One document: nothing to set aside.
        assert_eq!(
            cache.parse_changed(cm("one", "1").as_bytes(), cm("one", "2").as_bytes()),
            None
        );
    }

    /// Pieces read back from their encoding are the same pieces; they fit
    /// their own text and no other; a cut or lengthened encoding is refused.
    #[test]
    fn pieces_read_back_from_their_encoding() {
        let doc = |kind: &str, name: &str, ns: &str| {
            format!("---\napiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n{ns}spec: {{}}\n")
        };
        let a = [
            doc("Deployment", "web", "  namespace: shop\n"),
            doc("Service", "web", ""),
            doc("Deployment", "api", ""),
        ]
        .concat();
        let b = [doc("Service", "web", ""), doc("ConfigMap", "x", "")].concat();
        let cache = DocCache::default();
        let (pa, pb) = (
            cache.pieces("all.yaml", false, a.as_bytes()).unwrap(),
            cache.pieces("all.yaml", false, b.as_bytes()).unwrap(),
        );
        let encoded = encode_pieces(
            [
                (&b"blob-a"[..], Some(&pa)),
                (&b"blob-b"[..], Some(&pb)),
                (&b"none"[..], None),
            ]
            .into_iter(),
        );
        let decoded = decode_pieces(&encoded).expect("a sound encoding reads back");
        let ids: Vec<&[u8]> = decoded.iter().map(|d| d.0).collect();
        assert_eq!(ids, [&b"blob-a"[..], b"blob-b", b"none"]);
        let shown = |p: &Pieces| format!("{:?}", p.pieces);
        assert_eq!(shown(decoded[0].1.as_ref().unwrap()), shown(&pa));
        assert_eq!(shown(decoded[1].1.as_ref().unwrap()), shown(&pb));
        assert!(decoded[2].1.is_none());
        // The identities (with their namespace) came back whole.
        assert_eq!(
            decoded[0].1.as_ref().unwrap().pieces[0].keys[0]
                .namespace
                .as_deref(),
            Some("shop")
        );
        assert!(pa.fit(a.as_bytes()) && pb.fit(b.as_bytes()));
        assert!(!pa.fit(b.as_bytes()) && !pb.fit(a.as_bytes()));
        // Another text of the same length: the hashes tell.
        let retold = a.replace("api", "apx");
        assert!(!pa.fit(retold.as_bytes()));
        for len in 0..encoded.len() {
            assert!(decode_pieces(&encoded[..len]).is_none(), "cut at {len}");
        }
        assert!(decode_pieces(&[encoded.as_slice(), b"x"].concat()).is_none());
        // A count far beyond the bytes left asks for no memory.
        let mut huge = encoded.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_pieces(&huge).is_none());
    }

    #[test]
    fn parse_errors_carry_line_and_column() {
        let err = parse_documents(b"a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        assert!(!err.message.contains(" at line "), "{err:?}");
    }

    /// The nesting limit is the parser's own: a document of
    /// `nesting::MAX_DEPTH` nested collections parses, one more is refused
    /// before parsing, which the parser would have refused too, only slower.
    #[test]
    fn files_nested_too_deep_are_refused_before_parsing() {
        let nested =
            |brackets: usize| format!("x: {}{}\n", "[".repeat(brackets), "]".repeat(brackets));
        let deepest = nested(nesting::MAX_DEPTH - 1);
        assert_eq!(parse_documents(deepest.as_bytes()).unwrap().len(), 1);
        assert_eq!(validate(deepest.as_bytes()), Ok(()));

        let deeper = nested(nesting::MAX_DEPTH);
        let parser = yaml_serde::from_str::<Value>(&deeper).unwrap_err();
        assert!(parser.to_string().contains("recursion limit"), "{parser}");
        for err in [
            parse_documents(deeper.as_bytes()).unwrap_err(),
            validate(deeper.as_bytes()).unwrap_err(),
        ] {
            assert_eq!((err.line, err.column), (1, 3 + nesting::MAX_DEPTH));
            assert!(err.message.contains("more than 128 levels"), "{err:?}");
        }
        // Later documents too, on their own line.
        let text = format!("a: 1\n---\n{}", "- ".repeat(200));
        assert_eq!(parse_documents(text.as_bytes()).unwrap_err().line, 3);
    }

    #[test]
    fn unparseable_files_have_one_json_shape() {
        let err = parse_documents(b"a: 1\nb: [1, 2\n").unwrap_err();
        let u = Unparseable::new("apps/web/broken.yaml", &err);
        let json = serde_json::to_value(&u).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"file": "apps/web/broken.yaml", "line": err.line, "message": err.message})
        );
        assert_eq!(serde_json::from_value::<Unparseable>(json).unwrap(), u);
        assert_eq!(
            u.to_string(),
            format!("apps/web/broken.yaml:{}: {}", err.line, err.message)
        );
    }

    #[test]
    fn validate_agrees_with_parse() {
        for text in [
            "a: 1\n---\nb: [1, 2]\n",
            "a: [1, 2\n",
            "",
            "---\n---\n",
            "a: b: c\n",
            "\tx: 1\n",
        ] {
            let parsed = parse_documents(text.as_bytes()).map(|_| ());
            assert_eq!(validate(text.as_bytes()), parsed, "{text:?}");
        }
    }

    /// Each resource of a file as `display group api_version doc prefix`.
    fn listed(path: &str, yaml: &str, plain: bool) -> Vec<String> {
        let docs = parse_documents(yaml.as_bytes()).unwrap();
        resources(path, &docs, plain)
            .iter()
            .map(|r| {
                format!(
                    "{} {:?} {:?} {} {}",
                    r.key, r.key.group, r.api_version, r.doc, r.prefix
                )
                .trim_end()
                .to_owned()
            })
            .collect()
    }

    #[test]
    fn which_documents_are_resources() {
        const DEPLOY: &str =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n";
        let list = "apiVersion: v1\nkind: List\nitems:\n\
                    - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n\
                    - {metadata: {name: no-kind}}\n\
                    - {apiVersion: apps/v1, kind: Deployment, metadata: {name: b, namespace: shop}}\n\
                    - {apiVersion: v1, kind: Secret, metadata: {generateName: s-}}\n";
        let typed = "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: a}\n";
        // (path, YAML, plain, resources)
        let cases: &[(&str, &str, bool, &[&str])] = &[
            (
                "apps/web/deploy.yaml",
                DEPLOY,
                false,
                &["Deployment/shop/web Some(\"apps\") Some(\"apps/v1\") 0"],
            ),
            (
                "svc.yaml",
                "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
                false,
                &["Service/web Some(\"\") Some(\"v1\") 0"],
            ),
            // Not Kubernetes objects: resources only in a plain-values file.
            ("apps/web/values.yaml", "replicaCount: 2\n", false, &[]),
            (
                "apps/web/values.yaml",
                "replicaCount: 2\n",
                true,
                &["apps/web/values.yaml None None 0"],
            ),
            (
                ".github/workflows/ci.yaml",
                "name: ci\non: push\njobs: {}\n",
                false,
                &[],
            ),
            (
                "charts/web/Chart.yaml",
                "apiVersion: v2\nname: web\nversion: 1.0.0\n",
                false,
                &[],
            ),
            ("config/kind-only.yaml", "kind: Deployment\n", false, &[]),
            // Kustomizations: by file name, kind or apiVersion; named by the file.
            (
                "apps/web/kustomization.yaml",
                "resources: [deploy.yaml]\n",
                false,
                &["apps/web/kustomization.yaml None None 0"],
            ),
            (
                "apps/web/Kustomization",
                "resources: [deploy.yaml]\n",
                false,
                &["apps/web/Kustomization None None 0"],
            ),
            (
                "base/k.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
                false,
                &["Kustomization/base/k.yaml Some(\"kustomize.config.k8s.io\") Some(\"kustomize.config.k8s.io/v1beta1\") 0"],
            ),
            (
                "base/c.yaml",
                "kind: Component\nresources: []\n",
                false,
                &["Component/base/c.yaml None None 0"],
            ),
            (
                "base/k.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nresources: []\n",
                false,
                &["base/k.yaml Some(\"kustomize.config.k8s.io\") Some(\"kustomize.config.k8s.io/v1beta1\") 0"],
            ),
            // Lists: each item with apiVersion and kind is a resource.
            (
                "list.yaml",
                list,
                false,
                &[
                    "ConfigMap/a Some(\"\") Some(\"v1\") 0 items[0]",
                    "Deployment/shop/b Some(\"apps\") Some(\"apps/v1\") 0 items[2]",
                    "Secret/list.yaml/items[3] Some(\"\") Some(\"v1\") 0 items[3]",
                ],
            ),
            (
                "list.yaml",
                typed,
                false,
                &["Deployment/a Some(\"apps\") Some(\"apps/v1\") 0 items[0]"],
            ),
            // Multi-document files: documents are counted, empty ones included.
            (
                "apps/web/values.yaml",
                "---\n# nothing\n---\na: 1\n---\nb: 2\n",
                true,
                &[
                    "apps/web/values.yaml#1 None None 1",
                    "apps/web/values.yaml#2 None None 2",
                ],
            ),
            // A plain file's Kubernetes objects are still objects.
            (
                "apps/web/values.yaml",
                &format!("a: 1\n---\n{DEPLOY}"),
                true,
                &[
                    "apps/web/values.yaml None None 0",
                    "Deployment/shop/web Some(\"apps\") Some(\"apps/v1\") 1",
                ],
            ),
        ];
        for (path, yaml, plain, want) in cases {
            assert_eq!(
                listed(path, yaml, *plain),
                *want,
                "{path} {yaml:?} plain={plain}"
            );
        }
    }

    #[test]
    fn identity_is_group_kind_namespace_name_not_version() {
        let key = |yaml: &str| {
            let docs = parse_documents(yaml.as_bytes()).unwrap();
            resources("a.yaml", &docs, false).remove(0).key
        };
        let object = |api: &str, kind: &str, name: &str, ns: &str| {
            key(&format!(
                "apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\n"
            ))
        };
        // (one, the other, same resource)
        let cases = [
            (
                object("apps/v1beta2", "Deployment", "web", "shop"),
                object("apps/v1", "Deployment", "web", "shop"),
                true,
            ),
            (
                object(
                    "autoscaling/v2beta2",
                    "HorizontalPodAutoscaler",
                    "web",
                    "shop",
                ),
                object("autoscaling/v2", "HorizontalPodAutoscaler", "web", "shop"),
                true,
            ),
            (
                object("v1", "Service", "web", "shop"),
                object("v1", "Service", "web", "shop"),
                true,
            ),
            (
                object("extensions/v1beta1", "Ingress", "web", "shop"),
                object("networking.k8s.io/v1", "Ingress", "web", "shop"),
                false,
            ),
            (
                object("apps/v1", "Deployment", "web", "shop"),
                object("apps/v1", "StatefulSet", "web", "shop"),
                false,
            ),
            (
                object("apps/v1", "Deployment", "web", "shop"),
                object("apps/v1", "Deployment", "web", "prod"),
                false,
            ),
            (
                object("apps/v1", "Deployment", "web", "shop"),
                object("apps/v1", "Deployment", "api", "shop"),
                false,
            ),
        ];
        for (a, b, same) in cases {
            assert_eq!(a == b, same, "{a:?} {b:?}");
            assert_eq!(a.cmp(&b) == std::cmp::Ordering::Equal, same, "{a:?} {b:?}");
        }
        assert_eq!(api_group("apps/v1"), "apps");
        assert_eq!(api_group("v1"), "");
        assert_eq!(
            api_group("kustomize.config.k8s.io/v1beta1"),
            "kustomize.config.k8s.io"
        );
    }

    #[test]
    fn helm_values_and_kustomization_files_by_name() {
        for (path, values, kustomization) in [
            ("values.yaml", true, false),
            ("charts/web/values-prod.yaml", true, false),
            ("apps/web/values.stage.yml", true, false),
            ("apps/web/my-values.yaml", false, false),
            ("apps/web/values.json", false, false),
            ("apps/web/kustomization.yaml", false, true),
            ("kustomization.yml", false, true),
            ("overlays/prod/Kustomization", false, true),
            ("overlays/prod/kustomization.yaml.bak", false, false),
        ] {
            assert_eq!(is_helm_values_file(path), values, "{path}");
            assert_eq!(is_kustomization_file(path), kustomization, "{path}");
        }
    }

    #[test]
    fn at_path_finds_leaves_and_subtrees_as_flatten_names_them() {
        let docs = parse_documents(
            b"spec:\n  containers:\n  - name: web\n    args: [x, y]\n  - image: b\n  a.b: 1\n",
        )
        .unwrap();
        let v = &docs[0].value;
        let cases: &[(&str, Option<Json>)] = &[
            (
                "spec.containers[name=web].args[1]",
                Some(serde_json::json!("y")),
            ),
            ("spec.containers[1].image", Some(serde_json::json!("b"))),
            (
                "spec.containers[name=web]",
                Some(serde_json::json!({"name": "web", "args": ["x", "y"]})),
            ),
            ("spec.a.b", Some(serde_json::json!(1))),
            ("spec.containers[name=api]", None),
            ("spec.containers[0]", None),
            ("spec.container", None),
        ];
        for (path, want) in cases {
            assert_eq!(at_path(v, path).map(to_json), *want, "{path}");
        }
        assert_eq!(at_path(v, ""), Some(&**v));
    }

    #[test]
    fn flatten_names_list_items_by_name_else_index() {
        let docs = parse_documents(
            b"spec:\n  replicas: 2\n  containers:\n  - name: web\n    image: a:1\n    args: [x, y]\n  empty: {}\n",
        )
        .unwrap();
        let flat = flatten(&docs[0].value);
        let paths: Vec<_> = flat.iter().map(|(p, v)| format!("{p}={v}")).collect();
        assert_eq!(
            paths,
            [
                "spec.replicas=2",
                "spec.containers[name=web].name=\"web\"",
                "spec.containers[name=web].image=\"a:1\"",
                "spec.containers[name=web].args[0]=\"x\"",
                "spec.containers[name=web].args[1]=\"y\"",
                "spec.empty={}",
            ]
        );
    }
}
