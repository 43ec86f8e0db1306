//! What `status` needs to know of a manifest blob — its images and whether it
//! parses — small enough to keep for every blob and to cache between runs, and a
//! fast test of "these two versions differ only by their image tags".
//!
//! Pure: bytes in, plain data out. Environments share most blobs, so callers
//! summarise each distinct blob once.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::images;
use crate::manifest::{self, ParseError};

/// An image as a manifest sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenImage {
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// Set in a container's `image` field as one `name:tag` string (not split
    /// over a kustomization's `name`/`newTag`).
    pub inline: bool,
}

/// A manifest blob, summarised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub images: Vec<SeenImage>,
    pub error: Option<ParseError>,
    /// A 128-bit FNV-1a hash (hex) of the text with image tags masked
    /// ([`masked`]); `None` when the text cannot be masked. Two blobs with the same
    /// value differ by image tags only.
    pub masked: Option<String>,
}

/// Summarises a manifest. A file that cannot mention an image (no `image` in its
/// text) is only checked for syntax, which is several times cheaper than building
/// its values.
pub fn summarize(bytes: &[u8]) -> Summary {
    let mut summary = if !contains(bytes, b"image") {
        Summary {
            images: Vec::new(),
            error: manifest::validate(bytes).err(),
            masked: None,
        }
    } else {
        match manifest::parse_documents(bytes) {
            Ok(docs) => Summary {
                images: images::file_images(&docs)
                    .into_iter()
                    .map(|u| SeenImage {
                        inline: u.field.ends_with(".image"),
                        name: u.image.name,
                        tag: u.image.tag,
                        digest: u.image.digest,
                    })
                    .collect(),
                error: None,
                masked: None,
            },
            Err(error) => Summary {
                images: Vec::new(),
                error: Some(error),
                masked: None,
            },
        }
    };
    summary.masked = masked(bytes, &summary).map(|text| format!("{:032x}", fnv1a128(&text)));
    summary
}

/// FNV-1a, 128 bits: stable across builds and platforms, so it can be cached.
fn fnv1a128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u128::from(*b)).wrapping_mul(PRIME))
}

/// Whether two summarised blobs differ by image tags only, from their masked
/// hashes: `Some(true)` the same text once tags are set aside, `Some(false)` more
/// differs (values, or only formatting — parse to tell), `None` cannot tell.
pub fn same_but_tags_hashed(a: &Summary, b: &Summary) -> Option<bool> {
    match (&a.masked, &b.masked) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn replace_all(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut last = 0;
    for i in memchr::memmem::find_iter(text, from) {
        out.extend_from_slice(&text[last..i]);
        out.extend_from_slice(to);
        last = i + from.len();
    }
    out.extend_from_slice(&text[last..]);
    out
}

/// The text with every `name:tag` and `name@digest` of its images reduced to
/// `name:` and `name@`, so that two versions that differ only by image tags
/// compare equal. `None` when that cannot be told from the text: the file does not
/// parse, or sets a tag apart from its image name (a kustomization's `newTag`).
pub fn masked<'a>(bytes: &'a [u8], summary: &Summary) -> Option<Cow<'a, [u8]>> {
    if summary.error.is_some() || summary.images.iter().any(|i| !i.inline) {
        return None;
    }
    let mut text = Cow::Borrowed(bytes);
    for image in &summary.images {
        if let Some(tag) = &image.tag {
            let from = format!("{}:{tag}", image.name);
            let to = format!("{}:", image.name);
            text = Cow::Owned(replace_all(&text, from.as_bytes(), to.as_bytes()));
        }
        if let Some(digest) = &image.digest {
            let from = format!("@{digest}");
            text = Cow::Owned(replace_all(&text, from.as_bytes(), b"@"));
        }
    }
    Some(text)
}

/// `Some(true)` when the two versions are the same text once image tags are set
/// aside; `Some(false)` when they differ in more than that (values or merely
/// formatting — parse to tell); `None` when masking cannot tell.
pub fn same_but_tags(a: &[u8], a_summary: &Summary, b: &[u8], b_summary: &Summary) -> Option<bool> {
    let a = masked(a, a_summary)?;
    let b = masked(b, b_summary)?;
    Some(a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(image: &str, replicas: u32) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n        - name: web\n          image: {image}\n"
        )
    }

    #[test]
    fn summaries_list_images_and_parse_errors() {
        let s = summarize(deployment("registry.example.com:5000/shop/web:1.2.3", 1).as_bytes());
        assert_eq!(
            s.images,
            [SeenImage {
                name: "registry.example.com:5000/shop/web".into(),
                tag: Some("1.2.3".into()),
                digest: None,
                inline: true
            }]
        );
        assert!(s.error.is_none());
        assert_eq!(s.masked.as_deref().map(str::len), Some(32));
        let s = summarize(b"kind: Service\nmetadata: {name: web\n");
        assert!(s.images.is_empty());
        assert_eq!(s.error.as_ref().map(|e| e.line), Some(3));
        let s = summarize(b"images:\n  - name: web\n    newTag: 1.2.3\nresources: [a.yaml]\n");
        assert!(!s.images[0].inline);
    }

    #[test]
    fn tag_only_differences_mask_away() {
        let cases = [
            (
                deployment("shop/web:1.2.3", 1),
                deployment("shop/web:1.3.0-rc.1", 1),
                Some(true),
            ),
            (
                deployment("shop/web:1.2.3", 1),
                deployment("shop/web:1.2.3", 2),
                Some(false),
            ),
            (
                deployment("shop/web:1.2.3", 1),
                deployment("shop/api:1.2.3", 1),
                Some(false),
            ),
            (
                deployment(&format!("shop/web@sha256:{}", "a".repeat(64)), 1),
                deployment(&format!("shop/web@sha256:{}", "b".repeat(64)), 1),
                Some(true),
            ),
            (deployment("shop/web:1", 1), "a: [\n".to_owned(), None),
        ];
        for (a, b, want) in cases {
            let (sa, sb) = (summarize(a.as_bytes()), summarize(b.as_bytes()));
            assert_eq!(
                same_but_tags(a.as_bytes(), &sa, b.as_bytes(), &sb),
                want,
                "{a}\n---\n{b}"
            );
        }
        for (a, b, want) in [
            (
                deployment("shop/web:1", 1),
                deployment("shop/web:2", 1),
                Some(true),
            ),
            (
                deployment("shop/web:1", 1),
                deployment("shop/web:1", 3),
                Some(false),
            ),
            (deployment("shop/web:1", 1), "a: [\n".to_owned(), None),
        ] {
            let (sa, sb) = (summarize(a.as_bytes()), summarize(b.as_bytes()));
            assert_eq!(same_but_tags_hashed(&sa, &sb), want, "{a}\n---\n{b}");
        }
        let k = b"images:\n  - name: web\n    newTag: 1.2.3\n";
        assert_eq!(masked(k, &summarize(k)), None);
    }
}
