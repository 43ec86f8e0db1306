//! What `status` needs to know of a manifest blob — its images and whether it
//! parses — small enough to keep for every blob and to cache between runs, and a
//! fast test of "these two versions differ only by their image tags".
//!
//! Pure: bytes in, plain data out. Environments share most blobs, so callers
//! summarise each distinct blob once.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::model::image::ImageRef;
use crate::model::manifest::{self, ParseError};
use crate::model::{images, quick_check};

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

impl SeenImage {
    /// Whether an environment's tag policy judges this image, as
    /// `crate::model::images::ImageUse::judged_by_policy` says of the use it was made
    /// from: it writes a tag, or is a container image with neither tag nor digest
    /// (untagged). Not judged: an image pinned by digest alone, and a
    /// kustomization entry that sets no tag (only `newName` or `tagSuffix`).
    pub fn judged_by_policy(&self) -> bool {
        self.tag.is_some() || (self.inline && self.digest.is_none())
    }

    /// Whether this use sets no tag at all: a kustomization entry without
    /// `newTag` or `digest` (a rename, a `tagSuffix`); the tag it runs with is
    /// the one of the resource it applies to.
    pub fn sets_no_tag(&self) -> bool {
        !self.inline && self.tag.is_none() && self.digest.is_none()
    }
}

/// A manifest blob, summarised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub images: Vec<SeenImage>,
    pub error: Option<ParseError>,
    /// A 128-bit XXH3 hash (hex) of the text with image tags masked
    /// ([`masked`]); `None` when the text cannot be masked. Two blobs with the same
    /// value differ by image tags only.
    pub masked: Option<String>,
    /// The file does not parse and contains `{{`: a Helm (or other Go) template,
    /// not a manifest. Its `error` is kept, but it is never reported as one.
    pub template: bool,
}

impl Summary {
    /// The parse error worth reporting: `error`, unless the file is a template.
    pub fn reported_error(&self) -> Option<&ParseError> {
        self.error.as_ref().filter(|_| !self.template)
    }
}

/// Summarises a manifest. A file that cannot mention an image (no `image` in its
/// text) is only checked for syntax, which is several times cheaper than building
/// its values; a file in plain block YAML has its images read off the text
/// ([`quick_check::container_images`]); the others are parsed.
pub fn summarize(bytes: &[u8]) -> Summary {
    summarize_with(bytes, None)
}

/// [`summarize`], documents read through `cache` when given.
pub fn summarize_with(bytes: &[u8], cache: Option<&manifest::DocCache>) -> Summary {
    let summary = if !super::mentions_image(bytes) {
        Summary {
            images: Vec::new(),
            error: manifest::validate(bytes).err(),
            masked: None,
            template: false,
        }
    } else if let Some(found) = quick_check::container_images(bytes) {
        // Plain block YAML: its containers' images are read off the text.
        Summary {
            images: found
                .into_iter()
                .filter_map(|written| ImageRef::parse(std::str::from_utf8(written).ok()?).ok())
                .map(|image| SeenImage {
                    inline: true,
                    name: image.name,
                    tag: image.tag,
                    digest: image.digest,
                })
                .collect(),
            error: None,
            masked: None,
            template: false,
        }
    } else {
        parsed(bytes, cache)
    };
    finish(bytes, summary)
}

/// A summary made by parsing the text: what [`summarize`]'s shortcuts must equal.
fn parsed(bytes: &[u8], cache: Option<&manifest::DocCache>) -> Summary {
    let parsed = match cache {
        Some(cache) => cache.parse(bytes),
        None => manifest::parse_documents(bytes),
    };
    match parsed {
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
            template: false,
        },
        Err(error) => Summary {
            images: Vec::new(),
            error: Some(error),
            masked: None,
            template: false,
        },
    }
}

/// Fills in what follows from the images and the error: `template`, `masked`.
fn finish(bytes: &[u8], mut summary: Summary) -> Summary {
    summary.template = summary.error.is_some() && has_template(bytes);
    summary.masked = masked(bytes, &summary).map(|text| format!("{:032x}", hash128(&text)));
    summary
}

/// XXH3, 128 bits: specified, so stable across builds and platforms, and it can
/// be cached.
fn hash128(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
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

/// Whether `text` holds a template's `{{` (the finder built once).
fn has_template(text: &[u8]) -> bool {
    static TEMPLATE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"{{"));
    TEMPLATE.find(text).is_some()
}

/// `text` with every occurrence of `from` replaced by `to`.
pub fn replace_all(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
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
    if summary.images.is_empty() {
        return Some(Cow::Borrowed(bytes));
    }
    Some(Cow::Owned(mask_images(bytes, &summary.images)))
}

/// `text` with every `name:tag` (and `name@digest`) of `images` reduced to
/// `name:` (`name@`), in one pass: at each place, the longest of them that
/// starts there.
pub fn mask_images(text: &[u8], images: &[SeenImage]) -> Vec<u8> {
    let mut patterns: Vec<(Vec<u8>, usize)> = Vec::new();
    for image in images {
        if let Some(tag) = &image.tag {
            // Kept: the name and the colon.
            patterns.push((
                format!("{}:{tag}", image.name).into_bytes(),
                image.name.len() + 1,
            ));
        }
        if let Some(digest) = &image.digest {
            patterns.push((format!("@{digest}").into_bytes(), 1));
        }
    }
    patterns.sort_unstable();
    patterns.dedup();
    if patterns.is_empty() {
        return text.to_vec();
    }
    if patterns.len() <= FEW_PATTERNS {
        return mask_few(text, &patterns);
    }
    let Ok(matcher) = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(patterns.iter().map(|(p, _)| p))
    else {
        // Too many patterns for the automaton: one image at a time.
        let mut out = text.to_vec();
        for (from, keep) in &patterns {
            out = replace_all(&out, from, &from[..*keep]);
        }
        return out;
    };
    let mut out = Vec::with_capacity(text.len());
    let mut last = 0;
    for m in matcher.find_iter(text) {
        let keep = patterns[m.pattern().as_usize()].1;
        out.extend_from_slice(&text[last..m.start() + keep]);
        last = m.end();
    }
    out.extend_from_slice(&text[last..]);
    out
}

/// Up to how many patterns [`mask_images`] looks for each on its own rather
/// than building an automaton (which costs more than a small file's search).
const FEW_PATTERNS: usize = 8;

/// [`mask_images`]' pass for a few patterns (bytes, how many to keep): at each
/// place, the longest pattern that starts there, as the automaton finds them.
fn mask_few(text: &[u8], patterns: &[(Vec<u8>, usize)]) -> Vec<u8> {
    let finders: Vec<memchr::memmem::Finder<'_>> = patterns
        .iter()
        .map(|(p, _)| memchr::memmem::Finder::new(p))
        .collect();
    let find = |k: usize, from: usize| finders[k].find(&text[from..]).map(|i| i + from);
    let mut next: Vec<Option<usize>> = (0..patterns.len()).map(|k| find(k, 0)).collect();
    let mut out = Vec::with_capacity(text.len());
    let mut last = 0;
    // The leftmost match, the longest of those starting there.
    while let Some((start, k)) = next
        .iter()
        .enumerate()
        .filter_map(|(k, at)| at.map(|at| (at, k)))
        .min_by_key(|&(at, k)| (at, std::cmp::Reverse(patterns[k].0.len())))
    {
        out.extend_from_slice(&text[last..start + patterns[k].1]);
        last = start + patterns[k].0.len();
        for (j, at) in next.iter_mut().enumerate() {
            if at.is_some_and(|at| at < last) {
                *at = find(j, last);
            }
        }
    }
    out.extend_from_slice(&text[last..]);
    out
}

/// `Some(true)` when the two versions are the same text once image tags are set
/// aside; `Some(false)` when they differ in more than that (values or merely
/// formatting — parse to tell); `None` when masking cannot tell.
pub fn same_but_tags(a: &[u8], a_summary: &Summary, b: &[u8], b_summary: &Summary) -> Option<bool> {
    let a = masked(a, a_summary)?;
    let b = masked(b, b_summary)?;
    Some(a == b)
}

/// What names a line of the summary cache: written by [`Key::push_to`], as
/// plain text (a blob's id in hex is pushed without `Display`'s machinery:
/// a fresh clone's first run writes 25,000 keys or more).
pub trait Key {
    fn push_to(&self, out: &mut String);
}

impl Key for String {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

/// Writes summaries as lines of tab-separated fields — `id`, masked hash or `-`,
/// `line:column:message` or `-`, images as `name|tag|digest|inline` joined by
/// `;`, `t` for a template or `-`. Faster to read back than JSON, which matters
/// when a repository has tens of thousands of manifests. The version of the
/// format and a checksum are the cache file's header (`crate::git::cache`).
pub fn encode<'a, K: Key>(entries: impl Iterator<Item = (K, &'a Summary)>) -> Vec<u8> {
    let mut out = String::new();
    encode_into(&mut out, entries);
    out.into_bytes()
}

/// [`encode`], appending to `out`: the lines of a file may be written in
/// parts, on different threads, and joined.
pub fn encode_into<'a, K: Key>(out: &mut String, entries: impl Iterator<Item = (K, &'a Summary)>) {
    use std::fmt::Write;
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    // Written in place, about 90 bytes a line.
    out.reserve(entries.size_hint().0 * 96);
    // Text is pushed as it is; only the numbers go through `write!`.
    for (id, s) in entries {
        id.push_to(out);
        out.push('\t');
        out.push_str(s.masked.as_deref().unwrap_or("-"));
        out.push('\t');
        match &s.error {
            Some(e) => {
                let _ = write!(out, "{}:{}:{}", e.line, e.column, clean(&e.message));
            }
            None => out.push('-'),
        }
        out.push('\t');
        for (n, i) in s.images.iter().enumerate() {
            if n > 0 {
                out.push(';');
            }
            out.push_str(&i.name);
            out.push('|');
            out.push_str(i.tag.as_deref().unwrap_or(""));
            out.push('|');
            out.push_str(i.digest.as_deref().unwrap_or(""));
            out.push('|');
            out.push(if i.inline { '1' } else { '0' });
        }
        out.push('\t');
        out.push(if s.template { 't' } else { '-' });
        out.push('\n');
    }
}

/// Reads what [`encode`] wrote; `None` when a line is damaged (the caller then
/// starts afresh).
pub fn decode(bytes: &[u8]) -> Option<Vec<(&str, Summary)>> {
    let text = std::str::from_utf8(bytes).ok()?;
    if !(text.is_empty() || text.ends_with('\n')) {
        return None;
    }
    let lines = text.lines();
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let mut out = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count());
    for line in lines {
        let mut fields = line.split('\t');
        let (id, masked, error, images, template) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        if fields.next().is_some() {
            return None;
        }
        let error = match error {
            "-" => None,
            e => {
                let mut parts = e.splitn(3, ':');
                Some(ParseError {
                    line: parts.next()?.parse().ok()?,
                    column: parts.next()?.parse().ok()?,
                    message: parts.next()?.to_owned(),
                })
            }
        };
        let mut seen = Vec::new();
        for image in images.split(';').filter(|i| !i.is_empty()) {
            let mut parts = image.split('|');
            let (name, tag, digest, inline) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            seen.push(SeenImage {
                name: name.to_owned(),
                tag: some(tag),
                digest: some(digest),
                inline: inline == "1",
            });
        }
        out.push((
            id,
            Summary {
                images: seen,
                error,
                masked: (masked != "-").then(|| masked.to_owned()),
                template: match template {
                    "t" => true,
                    "-" => false,
                    _ => return None,
                },
            },
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deployment, a job and a pod in one file, written the many ways
    /// manifests are: nested and indentless sequences, init containers, quoted
    /// and commented images, a digest.
    const WORKLOADS: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {}
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        image: 'registry.example.com/shop/migrate:1.2.3'
      containers:
        - name: web
          image: registry.example.com/shop/web:1.2.3 # the app
          args: [--port, \"8080\"]
          env:
            - name: IMAGE
              value: not-an-image
        -
          name: sidecar
          image: \"docker.io/library/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - image: busybox
            name: tick
          - name: bad
            image: not a reference
---
kind: Pod
spec:
  ephemeralContainers:
    - name: debug
      image: debian:12
  script: |
    image: in a block scalar
    containers:
";

    /// Each line of `text` deleted, doubled, indented two more and two less.
    fn variants(text: &str) -> Vec<String> {
        let lines: Vec<&str> = text.lines().collect();
        let mut out = vec![text.to_owned()];
        for i in 0..lines.len() {
            let with = |replacement: Vec<String>| {
                let mut v: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
                v.splice(i..=i, replacement);
                v.join("\n") + "\n"
            };
            let line = lines[i].to_owned();
            out.push(with(vec![]));
            out.push(with(vec![line.clone(), line.clone()]));
            out.push(with(vec![format!("  {line}")]));
            out.push(with(vec![line
                .strip_prefix("  ")
                .unwrap_or(&line)
                .to_owned()]));
        }
        out
    }

    /// The shortcuts of [`summarize`] give what parsing gives: for the
    /// workloads above, every one-line variant of them, other values of their
    /// images, and every YAML fixture of the editor's tests.
    #[test]
    fn shortcuts_equal_parsing() {
        let mut texts = variants(WORKLOADS);
        for value in [
            "123",
            "null",
            "True",
            "\"a\\tb\"",
            "'it''s'",
            "x:",
            "[a]",
            "{}",
            "|",
            "&a x",
            "",
            "web # c",
            "web:1 #c",
            "on",
        ] {
            texts.push(WORKLOADS.replace("image: busybox", &format!("image: {value}")));
        }
        texts.push(WORKLOADS.replace("name: tick", "name: tick\n            image: dup"));
        texts.push(WORKLOADS.replace("labels: {}", "images:\n  - name: web"));
        texts.push(WORKLOADS.replace(
            "  script: |",
            "  containers:\n    - image: nested\n  script: |",
        ));
        texts.push(WORKLOADS.replace(
            "      name: debug",
            "      name: debug\n      initContainers:\n        - image: inside:1",
        ));
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for dir in ["edit", "github"] {
            for entry in std::fs::read_dir(fixtures.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    texts.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut quick = 0;
        for text in &texts {
            let bytes = text.as_bytes();
            if quick_check::container_images(bytes).is_some() {
                quick += 1;
            }
            assert_eq!(
                summarize(bytes),
                finish(bytes, parsed(bytes, None)),
                "{text}"
            );
        }
        // The shortcut is taken often enough for the comparison to mean something.
        assert!(quick * 3 > texts.len(), "{quick} of {}", texts.len());
        let base = summarize(WORKLOADS.as_bytes());
        let names: Vec<&str> = base.images.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "registry.example.com/shop/migrate",
                "registry.example.com/shop/web",
                "docker.io/library/nginx",
                "busybox",
                "debian"
            ]
        );
        assert!(quick_check::container_images(WORKLOADS.as_bytes()).is_some());
    }

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
        assert!(!s.template);
        assert!(s.reported_error().is_some());
        let s = summarize(b"images:\n  - name: web\n    newTag: 1.2.3\nresources: [a.yaml]\n");
        assert!(!s.images[0].inline);
    }

    #[test]
    fn templates_that_do_not_parse_are_not_errors() {
        // (text, a template)
        let cases: &[(&str, bool)] = &[
            (
                "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"shop/web:{{ .Values.image.tag }}\"\n{{- with .Values.env }}\n          env: {{ toYaml . | nindent 12 }}\n{{- end }}\n",
                true,
            ),
            ("metadata:\n  name: {{ .Release.Name }\n  x: [\n", true),
            (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.fullname\" . }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"registry.example.com/shop/web:{{ .Values.image.tag }}\"\n{{- with .Values.env }}\n          env:\n            {{- toYaml . | nindent 12 }}\n{{- end }}\n",
                true,
            ),
            // Parses: not a template, whatever it contains.
            ("metadata:\n  annotations: {a: '{{ x }}'}\n", false),
            // Does not parse, no template syntax: an error.
            ("metadata: {name: web\n", false),
        ];
        for (text, template) in cases {
            let s = summarize(text.as_bytes());
            assert_eq!(s.template, *template, "{text}");
            assert_eq!(
                s.reported_error().is_some(),
                s.error.is_some() && !template,
                "{text}"
            );
        }
    }

    #[test]
    fn which_images_policies_judge() {
        let sha = format!("sha256:{}", "a".repeat(64));
        // (a file, for each image: judged, sets no tag)
        let cases: Vec<(String, Vec<(bool, bool)>)> = vec![
            (deployment("shop/web:1.2.3", 1), vec![(true, false)]),
            (deployment("shop/web", 1), vec![(true, false)]),
            (deployment(&format!("shop/web@{sha}"), 1), vec![(false, false)]),
            (deployment(&format!("shop/web:1@{sha}"), 1), vec![(true, false)]),
            (
                format!(
                    "resources: [a.yaml]\nimages:\n- {{name: a, newTag: 1.2.3}}\n- {{name: b, newName: reg.io/b}}\n- {{name: c, tagSuffix: -debug}}\n- {{name: d, digest: '{sha}'}}\n- {{name: e, newTag: '2', digest: '{sha}'}}\n"
                ),
                vec![
                    (true, false),
                    (false, true),
                    (false, true),
                    (false, false),
                    (true, false),
                ],
            ),
        ];
        for (text, want) in cases {
            let s = summarize(text.as_bytes());
            let got: Vec<(bool, bool)> = s
                .images
                .iter()
                .map(|i| (i.judged_by_policy(), i.sets_no_tag()))
                .collect();
            assert_eq!(got, want, "{text}");
            // The summary agrees with the uses it was made from.
            let docs = manifest::parse_documents(text.as_bytes()).unwrap();
            let uses = images::file_images(&docs);
            for (u, i) in uses.iter().zip(&s.images) {
                assert_eq!(u.judged_by_policy(), i.judged_by_policy(), "{text}");
            }
        }
    }

    /// Masking in one pass gives what masking one image at a time gives, for
    /// many images, repeated names, digests, and a name that another extends.
    #[test]
    fn images_mask_in_one_pass() {
        let image = |name: &str, tag: Option<&str>, digest: Option<&str>| SeenImage {
            name: name.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
            inline: true,
        };
        let digest = format!("sha256:{}", "c".repeat(64));
        let mut images = vec![
            image("shop/web", Some("1.2.3"), None),
            image("shop/web", Some("1.2.3"), None),
            image("shop/web-api", Some("1.2.3-rc.1"), None),
            image("redis", None, Some(&digest)),
        ];
        let mut text = format!(
            "image: shop/web:1.2.3\nimage: shop/web-api:1.2.3-rc.1\nimage: redis@{digest}\nnote: shop/web:1.2.3 again\n"
        );
        for i in 0..300 {
            let tag = format!("{i:07x}");
            text.push_str(&format!(
                "image: registry.example.com/team/app-{i:04}:{tag}\n"
            ));
            images.push(image(
                &format!("registry.example.com/team/app-{i:04}"),
                Some(&tag),
                None,
            ));
        }
        let mut one_at_a_time = text.clone().into_bytes();
        for i in &images {
            if let Some(tag) = &i.tag {
                let (from, to) = (format!("{}:{tag}", i.name), format!("{}:", i.name));
                one_at_a_time = replace_all(&one_at_a_time, from.as_bytes(), to.as_bytes());
            }
            if let Some(d) = &i.digest {
                one_at_a_time = replace_all(&one_at_a_time, format!("@{d}").as_bytes(), b"@");
            }
        }
        let masked = mask_images(text.as_bytes(), &images);
        assert_eq!(
            String::from_utf8(masked.clone()).unwrap(),
            String::from_utf8(one_at_a_time).unwrap()
        );
        assert!(String::from_utf8(masked).unwrap().starts_with(
            "image: shop/web:\nimage: shop/web-api:\nimage: redis@\nnote: shop/web: again\nimage: registry.example.com/team/app-0000:\n"
        ));
        assert_eq!(mask_images(b"a: 1\n", &[]), b"a: 1\n");
        // A few patterns, searched each on its own, mask as the automaton does.
        let few = &images[..4];
        let patterns: Vec<(Vec<u8>, usize)> = [
            ("shop/web:1.2.3", 9),
            ("shop/web-api:1.2.3-rc.1", 13),
            (&*format!("@{digest}"), 1),
        ]
        .iter()
        .map(|(p, k)| (p.as_bytes().to_vec(), *k))
        .collect();
        let matcher = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|(p, _)| p))
            .unwrap();
        let mut by_automaton = Vec::new();
        let mut last = 0;
        for m in matcher.find_iter(text.as_bytes()) {
            by_automaton.extend_from_slice(
                &text.as_bytes()[last..m.start() + patterns[m.pattern().as_usize()].1],
            );
            last = m.end();
        }
        by_automaton.extend_from_slice(&text.as_bytes()[last..]);
        assert_eq!(mask_images(text.as_bytes(), few), by_automaton);
        // Overlapping patterns: the longest at the leftmost place.
        let overlap = [image("a", Some("1"), None), image("a", Some("10"), None)];
        assert_eq!(mask_images(b"a:10 a:1 a:100", &overlap), b"a: a: a:0");
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

    /// The summaries keyed `id0`, `id1`, … for the cache's encoder.
    fn numbered(summaries: &[Summary]) -> impl Iterator<Item = (String, &Summary)> {
        summaries
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("id{i}"), s))
    }

    #[test]
    fn a_cache_file_written_in_parts_reads_as_one() {
        let summaries = [
            summarize(deployment("shop/web:1.2.3", 1).as_bytes()),
            summarize(b"a: [1,\n"),
            summarize(b"kind: Service\n"),
        ];
        let mut parts = String::new();
        encode_into(&mut parts, numbered(&summaries).take(2));
        encode_into(&mut parts, numbered(&summaries).skip(2));
        assert_eq!(parts.as_bytes(), encode(numbered(&summaries)));
        let back = decode(parts.as_bytes()).expect("reads back");
        assert_eq!(back.len(), 3);
        assert_eq!((back[2].0, &back[2].1), ("id2", &summaries[2]));
    }

    #[test]
    fn the_cache_format_round_trips_and_rejects_damage() {
        let summaries = [
            summarize(deployment("registry.example.com:5000/shop/web:1.2.3", 1).as_bytes()),
            summarize(b"a: [1,\tb\n"),
            summarize(b"images:\n  - name: web\n    newTag: 1.2.3\n    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n"),
            summarize(b"kind: Service\n"),
            summarize(b"kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n"),
        ];
        let bytes = encode(numbered(&summaries));
        let back = decode(&bytes).expect("round trip");
        let mut want: Vec<Summary> = summaries.to_vec();
        for s in &mut want {
            if let Some(e) = &mut s.error {
                e.message = e.message.replace(['\t', '\n', '\r'], " ");
            }
        }
        assert_eq!(
            back.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
            want
        );
        assert_eq!(back[2].0, "id2");
        assert_eq!(decode(b""), Some(Vec::new()));
        assert!(decode(b"id\t-\n").is_none(), "a damaged line is rejected");
        assert!(decode(b"id\t-\tx:1:m\t\t-\n").is_none());
        assert!(decode(b"id\t-\t-\t\n").is_none(), "no template field");
        assert!(decode(b"id\t-\t-\t\t-").is_none(), "cut short");
        assert!(back[4].1.template, "{:?}", back[4]);
    }
}
