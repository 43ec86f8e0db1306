//! The creation times of images, kept by digest in the user's cache directory
//! (`$XDG_CACHE_HOME/gitops/image-created`, else `~/.cache/gitops/`): a
//! digest names one image for ever, so its time never goes stale, and
//! `image update`'s `commit-sha` candidates cost one manifest each (to learn
//! the digest the tag points at now) instead of a manifest and an image config.
//!
//! The file is [`crate::git::cache`]'s envelope (its object-format field `-`:
//! it belongs to no repository) around one `<digest> <RFC 3339 time>` line per
//! image, sorted. A damaged or outdated file is as good as none and is
//! rewritten whole (a temporary file, then a rename), as is a file that grew.
//! It holds at most [`KEEP`] images, the newest by creation time: the
//! candidates `update` reads are recent ones, and the file stays small
//! (about 100 bytes a line) however many runs and registries it has seen.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::git::cache;
use crate::registry::{protocol, Created};

const FORMAT: cache::Format = cache::Format {
    name: "image-created",
    version: "1",
};

/// The most images the file keeps (about 5 MB).
const KEEP: usize = 50_000;

/// Where gitops keeps caches that belong to no repository:
/// `$XDG_CACHE_HOME/gitops` (an absolute path only, as the XDG spec says),
/// else `$HOME/.cache/gitops`; `None` without either.
pub fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .map(|base| base.join("gitops"))
}

/// The times known, and those learnt during this run.
pub struct Times {
    path: Option<PathBuf>,
    known: Mutex<BTreeMap<String, Created>>,
    /// The file must be written: it grew, or it was damaged.
    dirty: Mutex<bool>,
}

impl Times {
    /// The times in the cache file (none when it is missing or damaged).
    pub fn load() -> Times {
        let path = cache_dir().map(|d| d.join(FORMAT.name));
        let file = path.as_ref().and_then(|p| std::fs::read(p).ok());
        let content = file
            .as_deref()
            .and_then(|f| cache::open_unbound(&FORMAT, f));
        let known = content.map(decode).unwrap_or_default();
        Times {
            // A file that is there but does not open is rewritten.
            dirty: Mutex::new(file.is_some() && content.is_none()),
            path,
            known: Mutex::new(known),
        }
    }

    /// The creation time of the image `digest` names, if known.
    pub fn get(&self, digest: &str) -> Option<Created> {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(digest)
            .cloned()
    }

    /// Learns the creation time of the image `digest` names.
    pub fn insert(&self, digest: &str, created: &Created) {
        if !is_digest(digest) {
            return;
        }
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.insert(digest.to_owned(), created.clone()).is_none() {
            *self.dirty.lock().unwrap_or_else(|e| e.into_inner()) = true;
        }
    }

    /// Writes the file when it grew or was damaged. A cache that cannot be
    /// written is no error: the next run reads the registry again.
    pub fn save(&self) -> Result<(), String> {
        let dirty = *self.dirty.lock().unwrap_or_else(|e| e.into_inner());
        let Some(path) = self.path.as_ref().filter(|_| dirty) else {
            return Ok(());
        };
        let content = encode(&self.known.lock().unwrap_or_else(|e| e.into_inner()));
        crate::git::write_unbound_cache(path, &FORMAT, content.as_bytes())
            .map_err(|e| format!("could not write {}: {e:#}", path.display()))
    }
}

/// `sha256:<hex>` and the like: an algorithm, a colon, and hex digits; no
/// space or line break can get into the file.
fn is_digest(text: &str) -> bool {
    match text.split_once(':') {
        Some((algo, hex)) => {
            !algo.is_empty()
                && algo
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
                && hex.len() >= 32
                && hex.len() <= 128
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }
        None => false,
    }
}

/// The file's lines: the [`KEEP`] newest images, sorted by digest.
fn encode(known: &BTreeMap<String, Created>) -> String {
    let mut kept: Vec<(&String, &Created)> = known.iter().collect();
    if kept.len() > KEEP {
        kept.select_nth_unstable_by(KEEP, |a, b| b.1.epoch.cmp(&a.1.epoch));
        kept.truncate(KEEP);
        kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    let mut out = String::new();
    for (digest, created) in kept {
        out.push_str(digest);
        out.push(' ');
        out.push_str(&created.text);
        out.push('\n');
    }
    out
}

/// The lines of a file that opened; a line that does not read is skipped.
fn decode(content: &[u8]) -> BTreeMap<String, Created> {
    let text = String::from_utf8_lossy(content);
    text.lines()
        .filter_map(|line| {
            let (digest, time) = line.split_once(' ')?;
            let created = protocol::parse_created(time)?;
            is_digest(digest).then(|| (digest.to_owned(), created))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_damage_is_rejected() {
        let mut known = BTreeMap::new();
        for (digest, time) in [
            (format!("sha256:{}", "a".repeat(64)), "2026-11-01T08:00:00Z"),
            (
                format!("sha256:{}", "b".repeat(64)),
                "2026-11-02T08:00:00.5+02:00",
            ),
        ] {
            known.insert(digest, protocol::parse_created(time).unwrap());
        }
        let content = encode(&known);
        assert_eq!(decode(content.as_bytes()), known);
        let file = cache::seal_unbound(&FORMAT, content.as_bytes());
        assert_eq!(
            cache::open_unbound(&FORMAT, &file),
            Some(content.as_bytes())
        );
        for (how, bytes) in cache::damaged(&file) {
            assert_eq!(cache::open_unbound(&FORMAT, &bytes), None, "{how}");
        }
        // A repository's cache is not this one.
        let sha1 = cache::seal(&FORMAT, gix::hash::Kind::Sha1, content.as_bytes());
        assert_eq!(cache::open_unbound(&FORMAT, &sha1), None);
        for bad in ["sha256:", "sha256:xyz", "nocolon", "sha256:aa aa", ""] {
            assert!(!is_digest(bad), "{bad}");
        }
    }

    #[test]
    fn the_file_keeps_the_newest_images_only() {
        // KEEP + 10 images, one a second from 2026-01-01: the ten oldest go.
        let start = protocol::parse_created("2026-01-01T00:00:00Z")
            .unwrap()
            .epoch
            .0;
        let known: BTreeMap<String, Created> = (0..KEEP + 10)
            .map(|i| {
                let text = "2026-01-01T00:00:00Z".to_owned();
                let created = Created {
                    epoch: (start + i as i64, 0),
                    text,
                };
                (format!("sha256:{:064x}", (i * 7919) % (KEEP + 10)), created)
            })
            .collect();
        assert_eq!(known.len(), KEEP + 10);
        let content = encode(&known);
        let lines: Vec<&str> = content.lines().collect();
        assert_eq!(lines.len(), KEEP);
        let mut sorted = lines.clone();
        sorted.sort_unstable();
        assert_eq!(lines, sorted, "sorted by digest");
        let oldest_kept = lines
            .iter()
            .map(|line| known[line.split_once(' ').unwrap().0].epoch.0)
            .min();
        assert_eq!(oldest_kept, Some(start + 10));
    }
}
