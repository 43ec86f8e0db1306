//! Byte-exact image tag edits in YAML manifests: where a file sets an image's tag
//! (as exact byte ranges), and the file with only those bytes replaced. Pure:
//! bytes in, bytes and plain data out.
//!
//! Which fields hold images is `crate::model::images`'s call, made on the documents as
//! `crate::model::manifest::parse_documents` reads them (yaml_serde). Where their text
//! is comes from a second parse with `saphyr_parser`, whose events carry source
//! positions, walked in step with the first so that each image use is tied to the
//! node it came from. Those positions are not taken on trust (saphyr counts them
//! in characters, not bytes, and lets a quoted scalar's span run on through a
//! trailing comment): only the start of a scalar is used, turned into a byte
//! offset, and the scalar's text there must be its value exactly, quotes
//! included, or the site is not edited.
//!
//! A site that cannot be edited in place is still reported, with the reason in
//! [`TagSite::blocked`], so a caller can say so instead of silently missing it:
//!
//! - an image given by an alias (`image: *web`) — its text is the anchor's;
//! - an image whose node, or a collection holding it, has an anchor that an alias
//!   refers to — editing it would change the alias's value too, and that may be a
//!   mention of the image outside an image field;
//! - a scalar whose source text is not its value verbatim (escape sequences,
//!   folded lines, block scalars): rather than guess, it is left alone;
//! - a kustomization entry without `newTag`: adding one means adding a line, which
//!   is not a tag edit.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};
use yaml_serde::Value;

use crate::config::policy::is_valid_tag;
use crate::model::image::ImageRef;
use crate::model::images;
use crate::model::manifest::{
    parse_documents, split_documents, text_hash, DocCache, Document, ParseError, TextHash,
};

/// Where a manifest sets an image's tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSite {
    /// The document's position in its file, counting from 0 (empty documents count),
    /// as `crate::model::manifest::Document::index`.
    pub doc: usize,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// The tag-bearing field in `crate::model::manifest::flatten`'s notation, as
    /// `crate::model::images` reports it: `spec.template.spec.containers[name=web].image`
    /// or `images[name=cart].newTag`.
    pub field: String,
    /// The image as the field sets it (for a kustomization entry: `newName` or
    /// `name`, with `newTag` and `digest`).
    pub image: ImageRef,
    /// The document's kind (`Deployment`, ...; `Kustomization` for a kustomization
    /// file without one).
    pub kind: String,
    /// The container's name, for workloads.
    pub container: Option<String>,
    /// Where the tag comes from, as `crate::model::images` says: a site whose source is
    /// [`images::TagSource::Inherited`] (a kustomization entry that sets no tag)
    /// is blocked with [`Blocked::NoNewTag`], and callers that set a tag
    /// elsewhere can leave it alone.
    pub tag_source: images::TagSource,
    /// Byte range of the tag in the file.
    ///
    /// For a container's `image: name:tag` it is the part after the `:` that
    /// follows the name, inside the quotes if any (before an `@digest`). For an
    /// image without a tag it is empty, right after the name: where `:TAG` goes.
    /// For a kustomization entry it is the `newTag` scalar's text, inside the
    /// quotes if any. For a blocked site it is empty at the start of the value (of
    /// the alias, of the entry for [`Blocked::NoNewTag`]) unless the tag's bytes
    /// are known.
    pub span: Range<usize>,
    /// Why the tag cannot be replaced in place, if it cannot.
    pub blocked: Option<Blocked>,
}

/// Why a tag site cannot be edited in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Blocked {
    /// The image is given by an alias (`image: *web`); its text is the anchor's.
    Alias,
    /// The image's node, or a collection holding it, has an anchor an alias refers
    /// to: editing it would change the alias's value too.
    Shared,
    /// The scalar's source text is not its value verbatim (escape sequences, folded
    /// lines, a block scalar).
    NotVerbatim,
    /// A kustomization entry without `newTag`, or with an empty one.
    NoNewTag,
    /// A kustomization entry whose `newTag` is a list or a map (`newTag: [1]`),
    /// which kustomize refuses too.
    NotScalar,
}

impl Blocked {
    /// Why, as said after the field: "spec.template.spec.containers[name=web].image is set through a YAML alias".
    pub fn reason(self) -> &'static str {
        match self {
            Blocked::Alias => "is set through a YAML alias (*name); edit the anchor by hand",
            Blocked::Shared => {
                "is inside a YAML anchor (&name) that an alias refers to; editing it would change the alias too"
            }
            Blocked::NotVerbatim => {
                "is written with escape sequences, folded lines or a block scalar; edit it by hand"
            }
            Blocked::NoNewTag => "has no newTag in its kustomization entry; add one by hand",
            Blocked::NotScalar => {
                "is a list or a map, not a tag; write it as a string (newTag: \"1.2.3\")"
            }
        }
    }
}

/// Why `set_tag` refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The new tag is not a valid image tag.
    InvalidTag(String),
    /// The file does not parse.
    Parse(ParseError),
    /// The site cannot be edited in place.
    Blocked {
        line: usize,
        field: String,
        why: Blocked,
    },
    /// The site is not one `tag_sites` finds in these bytes (it came from another
    /// version of the file).
    Stale { line: usize, field: String },
    /// After the edit, the field does not read back as the image with the new tag
    /// (a plain `newTag: 1.10` reads back as the number 1.1, say).
    Unverified {
        line: usize,
        field: String,
        found: Option<String>,
    },
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::InvalidTag(tag) => write!(
                f,
                "{tag:?} is not a valid image tag (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')"
            ),
            EditError::Parse(e) => write!(f, "the YAML does not parse: {e}"),
            EditError::Blocked { line, field, why } => {
                write!(f, "line {line}: {field} {}", why.reason())
            }
            EditError::Stale { line, field } => {
                write!(f, "line {line}: {field} is not where the file sets it")
            }
            EditError::Unverified { line, field, found } => match found {
                Some(found) => write!(
                    f,
                    "line {line}: after the edit {field} reads back as {found:?}; quote the value by hand"
                ),
                None => write!(
                    f,
                    "line {line}: after the edit {field} no longer reads back as an image tag"
                ),
            },
        }
    }
}

impl std::error::Error for EditError {}

/// Every place `bytes` sets an image's tag, in all documents, in document order:
/// the `image` of each item of a `containers`, `initContainers` or
/// `ephemeralContainers` list at any depth of a document of any kind (Deployments,
/// CronJobs, Argo Rollouts, the items of a `kind: List`, ...), and each
/// kustomization `images:` entry's `newTag` — exactly the uses
/// `crate::model::images::images` reports, one site each.
///
/// Mentions of an image anywhere else (annotations, comments, environment
/// variables, ConfigMap data, Helm values files) are not sites. Sites that cannot
/// be edited in place are reported with [`TagSite::blocked`] set.
///
/// Fails when the file does not parse (as `parse_documents` says), or, for a file
/// that sets images, when saphyr_parser cannot read it (it refuses a tab right
/// after `:`, which libyaml takes) or the two parsers disagree about where an
/// image field is written: such a file is never edited by guess.
pub fn tag_sites(bytes: &[u8]) -> Result<Vec<TagSite>, ParseError> {
    Ok(Sites::read(bytes, false)?.tags)
}

/// [`tag_sites`], the documents read through `cache`.
pub fn tag_sites_with(bytes: &[u8], cache: &DocCache) -> Result<Vec<TagSite>, ParseError> {
    Ok(Sites::read_with(bytes, false, Some(cache))?.tags)
}

/// A file read once for editing: its documents, where it sets image tags
/// ([`tag_sites`]) and, when asked, where every scalar is ([`scalar_sites`]).
/// yaml_serde and saphyr_parser each read it once.
#[derive(Debug, Clone)]
pub struct Sites {
    pub docs: Vec<Document>,
    pub tags: Vec<TagSite>,
    /// Empty unless asked for.
    pub scalars: Vec<ScalarSite>,
}

impl Sites {
    /// Reads `bytes`; `scalars`: also list every scalar. Fails as [`tag_sites`]
    /// and [`scalar_sites`] do.
    pub fn read(bytes: &[u8], scalars: bool) -> Result<Sites, ParseError> {
        Sites::read_with(bytes, scalars, None)
    }

    /// [`Sites::read`], the documents read through `cache` when given.
    pub fn read_with(
        bytes: &[u8],
        scalars: bool,
        cache: Option<&DocCache>,
    ) -> Result<Sites, ParseError> {
        let docs = match cache {
            Some(cache) => {
                let docs = cache.parse(bytes)?;
                if let Some(sites) = Sites::read_by_document(bytes, &docs, scalars, cache) {
                    return Ok(sites);
                }
                docs
            }
            None => parse_documents(bytes)?,
        };
        Sites::of(bytes, docs, scalars, false)
    }

    /// The sites of a file of several documents, put together from those of each
    /// document read on its own (once per run for each text: [`DocCache`]).
    /// `None` when the file cannot be split ([`split_documents`]) or a document
    /// cannot be read on its own: the file is then read whole, which gives the
    /// same sites, or the error with its place in the file.
    fn read_by_document(
        bytes: &[u8],
        docs: &[Document],
        scalars: bool,
        cache: &DocCache,
    ) -> Option<Sites> {
        let pieces = split_documents(bytes).filter(|p| p.len() > 1)?;
        let mut sites = Sites {
            docs: docs.to_vec(),
            tags: Vec::new(),
            scalars: Vec::new(),
        };
        // The documents not read yet, read on every core first.
        {
            let known = lock(&cache.sites);
            let mut values = docs.iter().peekable();
            let mut seen = foldhash::HashSet::default();
            // A document's text, its value when known, its hash.
            type New<'t> = (&'t [u8], Option<Arc<Value>>, TextHash);
            let new: Vec<New> = pieces
                .iter()
                .enumerate()
                .map(|(index, piece)| {
                    let value = values
                        .next_if(|d| d.index == index)
                        .map(|d| d.value.clone());
                    (&bytes[piece.clone()], value)
                })
                .map(|(text, value)| (text, value, text_hash(text)))
                .filter(|(_, _, hash)| !known.contains_key(&(*hash, scalars)) && seen.insert(*hash))
                .collect();
            drop(known);
            let read = crate::model::par_map(&new, 64, |(text, value, _)| {
                let docs: Vec<Document> = value
                    .clone()
                    .map(|value| Document { index: 0, value })
                    .into_iter()
                    .collect();
                Sites::of(text, docs, scalars, must_read(text, scalars))
                    .ok()
                    .map(Arc::new)
            });
            let mut known = lock(&cache.sites);
            for ((_, _, hash), alone) in new.into_iter().zip(read) {
                known.insert((hash, scalars), alone);
            }
        }
        let mut docs = docs.iter().peekable();
        // Lines before the current document, counted up to `counted`.
        let (mut lines_before, mut counted) = (0, 0);
        for (index, piece) in pieces.into_iter().enumerate() {
            let value = docs.next_if(|d| d.index == index).map(|d| d.value.clone());
            let text = &bytes[piece.clone()];
            let key = (text_hash(text), scalars);
            let known = lock(&cache.sites).get(&key).cloned();
            let alone = match known {
                Some(alone) => alone,
                None => {
                    let docs: Vec<Document> = value
                        .map(|value| Document { index: 0, value })
                        .into_iter()
                        .collect();
                    let alone = Sites::of(text, docs, scalars, must_read(text, scalars))
                        .ok()
                        .map(Arc::new);
                    lock(&cache.sites).insert(key, alone.clone());
                    alone
                }
            }?;
            lines_before += memchr::memchr_iter(b'\n', &bytes[counted..piece.start]).count();
            counted = piece.start;
            let at = |span: &Range<usize>| span.start + piece.start..span.end + piece.start;
            sites.tags.extend(alone.tags.iter().map(|t| TagSite {
                doc: index,
                line: t.line + lines_before,
                span: at(&t.span),
                ..t.clone()
            }));
            sites
                .scalars
                .extend(alone.scalars.iter().map(|s| ScalarSite {
                    doc: index,
                    line: s.line + lines_before,
                    span: at(&s.span),
                    ..s.clone()
                }));
        }
        Some(sites)
    }

    /// The sites of `bytes`, whose documents are `docs`. `always`: read where
    /// every scalar is even when no document sets an image (and scalars are not
    /// asked for), which checks that saphyr_parser can read the text.
    fn of(
        bytes: &[u8],
        docs: Vec<Document>,
        scalars: bool,
        always: bool,
    ) -> Result<Sites, ParseError> {
        let uses: Vec<(usize, Vec<images::ImageUse>)> = docs
            .iter()
            .map(|doc| (doc.index, images::images(&doc.value)))
            .filter(|(_, uses)| !uses.is_empty())
            .collect();
        if !always && uses.is_empty() && (!scalars || docs.is_empty()) {
            return Ok(Sites {
                docs,
                tags: Vec::new(),
                scalars: Vec::new(),
            });
        }
        // parse_documents read it, so it is UTF-8.
        let text = std::str::from_utf8(bytes).map_err(|e| ParseError {
            line: 0,
            column: 0,
            message: format!("the file is not UTF-8: {e}"),
        })?;
        let tree = Tree::parse(text)?;
        let lines = LineIndex::new(text);
        let mut tags = Vec::new();
        let mut all_scalars = Vec::new();
        let mut uses = uses.into_iter().peekable();
        for doc in &docs {
            let index = doc.index;
            let doc_uses = match uses.peek() {
                Some((i, _)) if *i == index => uses.next().map(|(_, u)| u).unwrap_or_default(),
                _ => Vec::new(),
            };
            if doc_uses.is_empty() && !scalars {
                continue;
            }
            let disagree = |field: &str| ParseError {
                line: 0,
                column: 0,
                message: format!(
                    "document {}: cannot find where {field} is written (the YAML parsers disagree)",
                    index + 1
                ),
            };
            let Some(&root) = tree.docs.get(index) else {
                if doc_uses.is_empty() {
                    continue;
                }
                return Err(disagree("the document"));
            };
            let mut visits = Vec::new();
            tree.walk(root, &doc.value, String::new(), &mut visits);
            let mut used = vec![false; visits.len()];
            for found in doc_uses {
                let site = locate(text, &tree, &visits, &mut used, &found)
                    .ok_or_else(|| disagree(&found.field))?;
                tags.push(TagSite {
                    doc: index,
                    line: lines.line(site.span.start),
                    field: found.field,
                    image: found.image,
                    kind: found.kind,
                    container: found.container,
                    tag_source: found.tag_source,
                    span: site.span,
                    blocked: site.blocked,
                });
            }
            if scalars {
                all_scalars.extend(scalars_of(text, &tree, &lines, index, visits));
            }
        }
        Ok(Sites {
            docs,
            tags,
            scalars: all_scalars,
        })
    }
}

/// Whether a document read on its own ([`Sites::read_by_document`]) must be
/// read by saphyr_parser even when it sets no image: a whole file is read by
/// it when any document sets one, and fails when any document cannot be read,
/// so each document must be known to be readable. A document without the
/// word `image` sets none, and one in plain block YAML
/// ([`quick_check::surely_valid`]) is known to be readable: it is not read.
fn must_read(text: &[u8], scalars: bool) -> bool {
    scalars || super::mentions_image(text) || !crate::model::quick_check::surely_valid(text)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A thread that panicked holding the lock left a map that is still sound.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// `bytes` with the tag of each of `sites` set to `new_tag`: the bytes of each
/// site's span are replaced by `new_tag` (an image without a tag gets `:new_tag`
/// inserted after its name) and every other byte is kept.
///
/// `sites` must come from `tag_sites(bytes)` (any subset, in any order) and must
/// not be blocked. The result is checked by reading it again: every site must
/// read back with the new tag and nothing else may have moved, or nothing is
/// returned. A plain scalar keeps its style, so a plain `newTag` given a tag
/// such as `1.10`, which YAML reads as a number, is refused rather than quoted.
pub fn set_tag(bytes: &[u8], sites: &[TagSite], new_tag: &str) -> Result<Vec<u8>, EditError> {
    if !is_valid_tag(new_tag) {
        return Err(EditError::InvalidTag(new_tag.to_owned()));
    }
    let current = tag_sites(bytes).map_err(EditError::Parse)?;
    let mut chosen = vec![false; current.len()];
    for site in sites {
        if let Some(why) = site.blocked {
            return Err(EditError::Blocked {
                line: site.line,
                field: site.field.clone(),
                why,
            });
        }
        match current.iter().position(|c| c == site) {
            Some(i) => chosen[i] = true,
            None => {
                return Err(EditError::Stale {
                    line: site.line,
                    field: site.field.clone(),
                })
            }
        }
    }

    let mut edits: Vec<&TagSite> = current
        .iter()
        .zip(&chosen)
        .filter_map(|(site, &c)| c.then_some(site))
        .collect();
    edits.sort_by_key(|site| (site.span.start, site.span.end));
    let mut out = Vec::with_capacity(bytes.len() + edits.len() * (new_tag.len() + 1));
    let mut at = 0;
    for site in edits {
        // Sites never share bytes; refuse rather than splice if they do.
        if site.span.start < at {
            return Err(EditError::Stale {
                line: site.line,
                field: site.field.clone(),
            });
        }
        out.extend_from_slice(&bytes[at..site.span.start]);
        if site.image.tag.is_none() && site.span.is_empty() {
            out.push(b':');
        }
        out.extend_from_slice(new_tag.as_bytes());
        at = site.span.end;
    }
    out.extend_from_slice(&bytes[at..]);

    let after = tag_sites(&out).map_err(EditError::Parse)?;
    if after.len() != current.len() {
        let first = &current[chosen.iter().position(|&c| c).unwrap_or(0)];
        return Err(EditError::Unverified {
            line: first.line,
            field: first.field.clone(),
            found: None,
        });
    }
    for ((before, after), &edited) in current.iter().zip(&after).zip(&chosen) {
        let mut want = before.image.clone();
        if edited {
            want.tag = Some(new_tag.to_owned());
        }
        if after.doc != before.doc || after.field != before.field || after.image != want {
            return Err(EditError::Unverified {
                line: before.line,
                field: before.field.clone(),
                found: if before.field.ends_with(".newTag") {
                    after.image.tag.clone()
                } else {
                    Some(after.image.to_string())
                },
            });
        }
    }
    Ok(out)
}

/// Where one image use is, before its line is known.
/// A scalar as the file writes it: the byte range of its whole token (quotes
/// included), to copy it from one version of a file into another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalarSite {
    /// The document's position in its file, as `crate::model::manifest::Document::index`.
    pub doc: usize,
    /// The field in `crate::model::manifest::flatten`'s notation.
    pub path: String,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// The token's bytes: `"1.2.3"` with its quotes, `3` for a plain scalar.
    pub span: Range<usize>,
    /// Why the token cannot be copied or replaced whole, if it cannot (an alias, a
    /// shared anchor, escapes or a block scalar).
    pub blocked: Option<Blocked>,
}

/// Every scalar value of every document of `bytes`, with its field path and the
/// byte range of its token, in document order. Mapping keys are not listed.
///
/// Fails when the file does not parse, or when saphyr_parser cannot read it.
pub fn scalar_sites(bytes: &[u8]) -> Result<Vec<ScalarSite>, ParseError> {
    Ok(Sites::read(bytes, true)?.scalars)
}

fn scalars_of(
    text: &str,
    tree: &Tree,
    lines: &LineIndex,
    doc: usize,
    visits: Vec<Visit<'_>>,
) -> Vec<ScalarSite> {
    let mut out = Vec::new();
    for visit in visits {
        let Node::Scalar {
            value,
            style,
            start,
            ..
        } = &tree.nodes[visit.node]
        else {
            continue;
        };
        let (span, blocked) = if let Some(alias) = visit.alias_start {
            (alias..alias, Some(Blocked::Alias))
        } else {
            match verbatim(text, *start, value, *style) {
                Some(p) => {
                    let quoted = usize::from(*style != ScalarStyle::Plain);
                    (
                        p - quoted..p + value.len() + quoted,
                        visit.shared.then_some(Blocked::Shared),
                    )
                }
                None => (*start..*start, Some(Blocked::NotVerbatim)),
            }
        };
        out.push(ScalarSite {
            doc,
            path: visit.path,
            line: lines.line(span.start),
            span,
            blocked,
        });
    }
    out
}

/// `bytes` with each range replaced by its new bytes; ranges must not overlap
/// (overlapping ones after the first are skipped).
pub fn replace_spans(bytes: &[u8], edits: &[(Range<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut sorted: Vec<&(Range<usize>, Vec<u8>)> = edits.iter().collect();
    sorted.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for (range, new) in sorted {
        if range.start < at || range.end > bytes.len() {
            continue;
        }
        out.extend_from_slice(&bytes[at..range.start]);
        out.extend_from_slice(new);
        at = range.end;
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

struct Located {
    span: Range<usize>,
    blocked: Option<Blocked>,
}

/// Finds the node `found` came from among `visits` (the first not yet used with
/// its field path) and the tag's bytes in it. `None` when the two parsers
/// disagree about the document.
fn locate(
    text: &str,
    tree: &Tree,
    visits: &[Visit<'_>],
    used: &mut [bool],
    found: &images::ImageUse,
) -> Option<Located> {
    let is_kustomize = found.container.is_none() && !found.field.ends_with(".image");
    let index = visits
        .iter()
        .enumerate()
        .position(|(i, v)| !used[i] && v.path == found.field);
    // A kustomization entry without a newTag (or with an empty one): its field is
    // where a tag would go.
    let no_new_tag = || {
        let entry_path = found.field.strip_suffix(".newTag")?;
        let entry = visits.iter().find(|v| v.path == entry_path)?;
        let start = tree.start(entry.node);
        Some(Located {
            span: start..start,
            blocked: Some(Blocked::NoNewTag),
        })
    };
    let Some(index) = index else {
        return no_new_tag();
    };
    used[index] = true;
    let visit = &visits[index];
    if let Some(alias_start) = visit.alias_start {
        return Some(Located {
            span: alias_start..alias_start,
            blocked: Some(Blocked::Alias),
        });
    }
    let Node::Scalar {
        value,
        style,
        start,
        ..
    } = &tree.nodes[visit.node]
    else {
        // `newTag: [1]`: a collection where a tag belongs.
        return is_kustomize.then(|| {
            let start = tree.start(visit.node);
            Located {
                span: start..start,
                blocked: Some(Blocked::NotScalar),
            }
        });
    };
    // The saphyr value must be what yaml_serde read (a number for a newTag).
    let agrees = match visit.value {
        Value::String(s) => s == value,
        Value::Number(_) => is_kustomize && *style == ScalarStyle::Plain,
        _ if is_kustomize && found.image.tag.is_none() => return no_new_tag(),
        _ => false,
    };
    if !agrees {
        return None;
    }
    let not_verbatim = Located {
        span: *start..*start,
        blocked: Some(Blocked::NotVerbatim),
    };
    let Some(content) = verbatim(text, *start, value, *style) else {
        return Some(not_verbatim);
    };
    let span = if is_kustomize {
        content..content + value.len()
    } else {
        if *value != found.image.to_string() {
            return None;
        }
        let name_end = content + found.image.name.len();
        match &found.image.tag {
            Some(tag) => {
                if text.as_bytes().get(name_end) != Some(&b':') {
                    return None;
                }
                name_end + 1..name_end + 1 + tag.len()
            }
            None => name_end..name_end,
        }
    };
    Some(Located {
        span,
        blocked: visit.shared.then_some(Blocked::Shared),
    })
}

/// The byte offset where a scalar's content starts, if its source text from
/// `start` (where the parser puts the node, properties included) is the value
/// verbatim: optional `&anchor` and `!tag`, the opening quote of a quoted scalar,
/// the value's exact bytes, then the closing quote or, for a plain scalar, the
/// end of the scalar.
fn verbatim(text: &str, start: usize, value: &str, style: ScalarStyle) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = match style {
        ScalarStyle::Plain => None,
        ScalarStyle::SingleQuoted => Some(b'\''),
        ScalarStyle::DoubleQuoted => Some(b'"'),
        _ => return None,
    };
    // A quote (or a backslash) in the value is written escaped: never verbatim.
    if quote.is_some_and(|q| value.bytes().any(|b| b == q || (q == b'"' && b == b'\\'))) {
        return None;
    }
    let mut p = skip_properties(bytes, start);
    if let Some(q) = quote {
        if bytes.get(p) != Some(&q) {
            return None;
        }
        p += 1;
    }
    if value.is_empty() || text.get(p..p + value.len()) != Some(value) {
        return None;
    }
    let next = bytes.get(p + value.len()).copied();
    let ends = match quote {
        Some(q) => next == Some(q),
        None => matches!(
            next,
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}')
        ),
    };
    ends.then_some(p)
}

/// Skips a node's properties (`&anchor`, `!tag`) and the white space and
/// comments after them.
fn skip_properties(bytes: &[u8], mut p: usize) -> usize {
    loop {
        match bytes.get(p) {
            Some(b'&' | b'!') => {
                while p < bytes.len() && !matches!(bytes[p], b' ' | b'\t' | b'\r' | b'\n') {
                    p += 1;
                }
            }
            Some(b' ' | b'\t' | b'\r' | b'\n') => p += 1,
            Some(b'#') if p > 0 && matches!(bytes[p - 1], b' ' | b'\t' | b'\r' | b'\n') => {
                while p < bytes.len() && !matches!(bytes[p], b'\r' | b'\n') {
                    p += 1;
                }
            }
            _ => return p,
        }
    }
}

/// Byte offsets of line starts, for 1-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

type NodeId = usize;

/// A YAML node as saphyr_parser reads it, with the byte offset where it starts.
#[derive(Debug)]
enum Node {
    Scalar {
        value: String,
        style: ScalarStyle,
        anchor: usize,
        start: usize,
    },
    Sequence {
        anchor: usize,
        items: Vec<NodeId>,
        start: usize,
    },
    Mapping {
        anchor: usize,
        entries: Vec<(NodeId, NodeId)>,
        start: usize,
    },
    Alias {
        anchor: usize,
        start: usize,
    },
}

impl Node {
    fn anchor(&self) -> usize {
        match self {
            Node::Scalar { anchor, .. }
            | Node::Sequence { anchor, .. }
            | Node::Mapping { anchor, .. } => *anchor,
            Node::Alias { .. } => 0,
        }
    }
}

/// The documents of a file as saphyr_parser reads them.
#[derive(Debug, Default)]
struct Tree {
    nodes: Vec<Node>,
    /// The root of each document, in order (empty documents included).
    docs: Vec<NodeId>,
    /// Anchored nodes by anchor id (saphyr numbers anchors across the stream).
    anchors: Vec<(usize, NodeId)>,
    /// The anchor ids some alias refers to.
    aliased: HashSet<usize>,
}

/// A node reached while walking a document in step with yaml_serde's value.
struct Visit<'v> {
    /// flatten's path to the node.
    path: String,
    /// The node (for an alias: the anchored node it stands for).
    node: NodeId,
    /// yaml_serde's value there.
    value: &'v Value,
    /// Where the alias is, when the node was reached through one.
    alias_start: Option<usize>,
    /// Whether the node or a collection above it has an anchor an alias refers to.
    shared: bool,
}

fn scan_error(e: &ScanError) -> ParseError {
    ParseError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: format!("{} (while locating image tags)", e.info()),
    }
}

impl Tree {
    fn parse(text: &str) -> Result<Tree, ParseError> {
        // saphyr's marks count characters; this turns them into byte offsets.
        let offsets: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .collect();
        let byte = |index: usize| offsets.get(index).copied().unwrap_or(text.len());

        let mut tree = Tree::default();
        // Open collections, with a mapping's key waiting for its value.
        let mut open: Vec<(NodeId, Option<NodeId>)> = Vec::new();
        for event in Parser::new_from_str(text) {
            let (event, span) = event.map_err(|e| scan_error(&e))?;
            let start = byte(span.start.index());
            let node = match event {
                Event::Scalar(value, style, anchor, _) => Node::Scalar {
                    value: value.into_owned(),
                    style,
                    anchor,
                    start,
                },
                Event::Alias(anchor) => {
                    tree.aliased.insert(anchor);
                    Node::Alias { anchor, start }
                }
                Event::SequenceStart(anchor, _) => Node::Sequence {
                    anchor,
                    items: Vec::new(),
                    start,
                },
                Event::MappingStart(anchor, _) => Node::Mapping {
                    anchor,
                    entries: Vec::new(),
                    start,
                },
                Event::SequenceEnd | Event::MappingEnd => {
                    open.pop();
                    continue;
                }
                Event::StreamStart
                | Event::StreamEnd
                | Event::DocumentStart(_)
                | Event::DocumentEnd
                | Event::Nothing => continue,
            };
            let id = tree.nodes.len();
            let anchor = node.anchor();
            let is_collection = matches!(node, Node::Sequence { .. } | Node::Mapping { .. });
            tree.nodes.push(node);
            if anchor != 0 {
                tree.anchors.push((anchor, id));
            }
            match open.last_mut() {
                None => tree.docs.push(id),
                Some((parent, pending)) => match &mut tree.nodes[*parent] {
                    Node::Sequence { items, .. } => items.push(id),
                    Node::Mapping { entries, .. } => match pending.take() {
                        Some(key) => entries.push((key, id)),
                        None => *pending = Some(id),
                    },
                    _ => unreachable!("only collections are open"),
                },
            }
            if is_collection {
                open.push((id, None));
            }
        }
        Ok(tree)
    }

    fn start(&self, id: NodeId) -> usize {
        match &self.nodes[id] {
            Node::Scalar { start, .. }
            | Node::Sequence { start, .. }
            | Node::Mapping { start, .. }
            | Node::Alias { start, .. } => *start,
        }
    }

    /// Walks the node `id` and yaml_serde's `value` for it in step, recording
    /// every node reached with its path in `crate::model::manifest::flatten`'s notation.
    /// Where the two disagree (which they should not), that branch is left out.
    fn walk<'v>(&self, id: NodeId, value: &'v Value, path: String, out: &mut Vec<Visit<'v>>) {
        self.walk_from(id, value, path, None, false, out);
    }

    fn walk_from<'v>(
        &self,
        mut id: NodeId,
        mut value: &'v Value,
        path: String,
        mut alias_start: Option<usize>,
        mut shared: bool,
        out: &mut Vec<Visit<'v>>,
    ) {
        if let Node::Alias { anchor, start } = &self.nodes[id] {
            let Some(&(_, target)) = self.anchors.iter().rev().find(|(a, _)| a == anchor) else {
                return;
            };
            id = target;
            alias_start = alias_start.or(Some(*start));
        }
        let anchor = self.nodes[id].anchor();
        shared |= anchor != 0 && self.aliased.contains(&anchor);
        // flatten looks through tags.
        while let Value::Tagged(tagged) = value {
            value = &tagged.value;
        }
        let children: Vec<(NodeId, &'v Value, String)> = match (&self.nodes[id], value) {
            (Node::Mapping { entries, .. }, Value::Mapping(map)) if entries.len() == map.len() => {
                let mut children = Vec::new();
                for (&(key_id, value_id), (key, item)) in entries.iter().zip(map) {
                    // Image fields sit under string keys only.
                    let Value::String(key) = key else { continue };
                    let same_key =
                        matches!(&self.nodes[key_id], Node::Scalar { value, .. } if value == key);
                    if !same_key {
                        return;
                    }
                    let child = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    children.push((value_id, item, child));
                }
                children
            }
            (Node::Sequence { items, .. }, Value::Sequence(seq)) if items.len() == seq.len() => {
                items
                    .iter()
                    .zip(seq)
                    .enumerate()
                    .map(|(i, (&item_id, item))| {
                        let child = match item.get("name").and_then(Value::as_str) {
                            Some(name) => format!("{path}[name={name}]"),
                            None => format!("{path}[{i}]"),
                        };
                        (item_id, item, child)
                    })
                    .collect()
            }
            (Node::Scalar { .. }, _) => Vec::new(),
            _ => return,
        };
        out.push(Visit {
            path,
            node: id,
            value,
            alias_start,
            shared,
        });
        for (child, item, path) in children {
            self.walk_from(child, item, path, alias_start, shared, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn verbatim_scalars() {
        use ScalarStyle::{DoubleQuoted, Folded, Literal, Plain, SingleQuoted};
        // (source from the node's start, value, style, where the content starts)
        let cases: &[(&str, &str, ScalarStyle, Option<usize>)] = &[
            ("app:1\n", "app:1", Plain, Some(0)),
            ("app:1", "app:1", Plain, Some(0)),
            ("app:1 # c", "app:1", Plain, Some(0)),
            ("app:1}", "app:1", Plain, Some(0)),
            ("app:1,", "app:1", Plain, Some(0)),
            ("app:1\r\n", "app:1", Plain, Some(0)),
            ("'app:1' # 'app:1'", "app:1", SingleQuoted, Some(1)),
            ("\"app:1\" # c", "app:1", DoubleQuoted, Some(1)),
            ("&a app:1", "app:1", Plain, Some(3)),
            ("&a !!str 'app:1'", "app:1", SingleQuoted, Some(10)),
            ("!!str # c\n  \"app:1\"", "app:1", DoubleQuoted, Some(13)),
            // Not the value verbatim, or not where the parser said.
            ("\"app:\\x31\"", "app:1", DoubleQuoted, None),
            ("'app:1'", "app:1", DoubleQuoted, None),
            ("app:1x", "app:1", Plain, None),
            ("app:\n  1", "app: 1", Plain, None),
            ("'app:1'''", "app:1'", SingleQuoted, None),
            (r#""app:1\\""#, "app:1\\", DoubleQuoted, None),
            ("app:1\n", "app:1\n", Literal, None),
            ("app:1\n", "app:1", Folded, None),
            ("x: app:1", "app:1", Plain, None),
            ("", "", Plain, None),
        ];
        for &(source, value, style, want) in cases {
            assert_eq!(verbatim(source, 0, value, style), want, "{source:?}");
        }
    }

    #[test]
    fn scalar_sites_give_whole_tokens() {
        let text = "a: 1\nb: \"x y\" # c\nd: &x plain\nc:\n  - 'q'\n  - name: n\n    v: *x\n";
        let sites = scalar_sites(text.as_bytes()).unwrap();
        let got: Vec<(String, String, bool)> = sites
            .iter()
            .map(|s| {
                (
                    s.path.clone(),
                    text[s.span.clone()].to_owned(),
                    s.blocked.is_some(),
                )
            })
            .collect();
        let want = [
            ("a", "1", false),
            ("b", "\"x y\"", false),
            ("d", "plain", true),
            ("c[0]", "'q'", false),
            ("c[name=n].name", "n", false),
            ("c[name=n].v", "", true),
        ];
        let want: Vec<(String, String, bool)> = want
            .iter()
            .map(|(p, t, b)| ((*p).to_owned(), (*t).to_owned(), *b))
            .collect();
        assert_eq!(got, want);
        let edited = replace_spans(
            text.as_bytes(),
            &[
                (sites[0].span.clone(), b"2".to_vec()),
                (sites[1].span.clone(), b"'z'".to_vec()),
            ],
        );
        assert!(String::from_utf8(edited)
            .unwrap()
            .starts_with("a: 2\nb: 'z' # c\n"));
    }

    #[test]
    fn lines_count_from_one() {
        let lines = LineIndex::new("a\r\nb\n\nc");
        let got: Vec<usize> = (0..8).map(|i| lines.line(i)).collect();
        assert_eq!(got, [1, 1, 1, 2, 2, 3, 4, 4]);
    }

    /// Both parsers count the same documents, so an index from one names a
    /// document of the other (files without any document aside: both have no
    /// images).
    #[test]
    fn the_parsers_agree_on_documents() {
        for input in [
            "a: 1\n",
            "---\n",
            "a: 1\n---\n",
            "a: 1\n...\n",
            "--- # c\n...\n---\nb: 1\n",
            "%YAML 1.1\n---\na: 1\n",
            "# c\n---\na: 1\n---\n# d\n",
            "---\n---\n---\na: 1\n",
            "a: 1\r\n--- \r\nb: 2\r\n",
            "--- a\n--- |\n  b\n",
            "---\n...\n---\n...\n",
        ] {
            let serde = yaml_serde::Deserializer::from_str(input)
                .map(|de| Value::deserialize(de).map(|_| ()))
                .collect::<Result<Vec<()>, _>>()
                .unwrap();
            let tree = Tree::parse(input).unwrap();
            assert_eq!(tree.docs.len(), serde.len(), "{input:?}");
        }
    }

    /// saphyr refuses a tab right after `:`, which libyaml reads. A file that
    /// sets no image is not read by saphyr at all; one that does is reported as
    /// unreadable, never edited by guess.
    #[test]
    fn files_only_saphyr_refuses() {
        assert_eq!(
            tag_sites(b"kind: ConfigMap\ndata:\n  a:\tb\n"),
            Ok(Vec::new())
        );
        let err = tag_sites(b"kind: Pod\nspec:\n  containers:\n  - image:\tapp:1\n").unwrap_err();
        assert_eq!(err.line, 4, "{err:?}");
        assert!(err.message.contains("while locating image tags"), "{err:?}");
    }
}
