//! Promotion as plain data: resolving the conflicts that only pinned values cause,
//! putting the target environment's image tags back, and the pull request's title
//! and body. Pure: texts and lists in, texts and lists out.

use std::collections::BTreeMap;

use crate::summary::{mask_images as mask, replace_all as replace, SeenImage};

/// The hidden marker that identifies a pull request made by gitops.
pub fn marker(from: &str, to: &str) -> String {
    format!("<!-- gitops:promotion {from}->{to} -->")
}

/// The trailer that marks every commit gitops makes on a promotion branch, so a
/// rerun can tell its own commits from a person's.
pub const TRAILER: &str = "Gitops-Promotion:";

/// The promotion branch.
pub fn branch(from: &str, to: &str) -> String {
    format!("gitops/promote-{from}-to-{to}")
}

/// The pull request's title.
pub fn title(from: &str, to: &str) -> String {
    format!("Promote {from} to {to}")
}

/// A conflict hunk that is more than pinned values: its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealConflict {
    pub line: usize,
}

/// Resolves a file that `git merge-tree` left with conflict markers (`<<<<<<<`,
/// an optional `|||||||` base section, `=======`, `>>>>>>>`; ours is the target
/// environment). A hunk whose two sides differ only by image tags takes ours —
/// the target keeps its pinned values. A hunk with a base section whose three
/// sides have the same number of lines is merged line by line, three-way: a line
/// only one side changed takes that side; a line both changed takes ours when the
/// two differ only by image tags or when `pinned_line` says it sets a pinned key.
/// Anything else is a real conflict, reported by line.
pub fn resolve_pinned_conflicts(
    text: &[u8],
    images: &[SeenImage],
    pinned_line: impl Fn(&[u8]) -> bool,
) -> Result<Vec<u8>, Vec<RealConflict>> {
    let mut out = Vec::with_capacity(text.len());
    let mut real = Vec::new();
    let mut lines = text.split_inclusive(|b| *b == b'\n').enumerate();
    let is = |l: &[u8], marker: &[u8]| {
        l.trim_ascii_end() == marker
            || (l.starts_with(marker) && l.get(marker.len()) == Some(&b' '))
    };
    while let Some((n, line)) = lines.next() {
        if !is(line, b"<<<<<<<") {
            out.extend_from_slice(line);
            continue;
        }
        let mut ours: Vec<&[u8]> = Vec::new();
        let mut base: Option<Vec<&[u8]>> = None;
        let mut theirs: Vec<&[u8]> = Vec::new();
        let mut section = 0; // 0 ours, 1 base, 2 theirs
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if section == 0 && is(l, b"|||||||") {
                section = 1;
                base = Some(Vec::new());
            } else if section < 2 && l.trim_ascii_end() == b"=======" {
                section = 2;
            } else if section == 2 && is(l, b">>>>>>>") {
                closed = true;
                break;
            } else {
                match section {
                    0 => ours.push(l),
                    1 => base.get_or_insert_with(Vec::new).push(l),
                    _ => theirs.push(l),
                }
            }
        }
        let joined = |v: &[&[u8]]| v.concat();
        if closed && mask(&joined(&ours), images) == mask(&joined(&theirs), images) {
            out.extend_from_slice(&joined(&ours));
            continue;
        }
        let merged = match (&base, closed) {
            (Some(base), true) if base.len() == ours.len() && base.len() == theirs.len() => {
                let mut merged = Vec::new();
                let mut ok = true;
                for ((o, b), t) in ours.iter().zip(base).zip(&theirs) {
                    let line: &[u8] = if o == t || t == b {
                        o
                    } else if o == b {
                        t
                    } else if mask(o, images) == mask(t, images)
                        || (pinned_line(o) && pinned_line(t))
                    {
                        o
                    } else {
                        ok = false;
                        break;
                    };
                    merged.extend_from_slice(line);
                }
                ok.then_some(merged)
            }
            _ => None,
        };
        match merged {
            Some(m) => out.extend_from_slice(&m),
            None => real.push(RealConflict { line: n + 1 }),
        }
    }
    if real.is_empty() {
        Ok(out)
    } else {
        Err(real)
    }
}

/// Whether a YAML line sets one of `keys` (dot paths; the last part is matched:
/// `ingress.host` → a `host:` line): what [`resolve_pinned_conflicts`] keeps from
/// the target in a file the config pins keys of.
pub fn sets_key(line: &[u8], keys: &[String]) -> bool {
    let text = String::from_utf8_lossy(line);
    let t = text.trim_start().trim_start_matches("- ").trim_start();
    keys.iter().any(|k| {
        let last = k.rsplit('.').next().unwrap_or(k);
        !last.is_empty()
            && (t.starts_with(&format!("{last}:"))
                || t.starts_with(&format!("\"{last}\":"))
                || t.starts_with(&format!("'{last}':")))
    })
}

/// Puts the target's lines for the config's pinned `keys` back into a merged
/// file: the i-th line of `merged` that sets a key (by its last part, see
/// [`sets_key`]) takes the i-th such line of `target`. `None` when the two files
/// do not set the keys the same number of times (the lines cannot be paired with
/// confidence); the caller then refuses rather than guess.
pub fn restore_keys(merged: &[u8], target: &[u8], keys: &[String]) -> Option<Vec<u8>> {
    let mut out = merged.to_vec();
    for key in keys {
        let one = std::slice::from_ref(key);
        let theirs: Vec<&[u8]> = target
            .split_inclusive(|b| *b == b'\n')
            .filter(|l| sets_key(l, one))
            .collect();
        let lines: Vec<&[u8]> = out.split_inclusive(|b| *b == b'\n').collect();
        let ours = lines.iter().filter(|l| sets_key(l, one)).count();
        if ours != theirs.len() {
            return None;
        }
        let mut next = theirs.into_iter();
        let mut rebuilt = Vec::with_capacity(out.len());
        for line in lines {
            if sets_key(line, one) {
                let mut keep = next.next().expect("counted").to_vec();
                // Keep the merged file's line ending.
                if line.ends_with(b"\n") && !keep.ends_with(b"\n") {
                    keep.push(b'\n');
                } else if !line.ends_with(b"\n") && keep.ends_with(b"\n") {
                    keep.pop();
                }
                rebuilt.extend_from_slice(&keep);
            } else {
                rebuilt.extend_from_slice(line);
            }
        }
        out = rebuilt;
    }
    Some(out)
}

/// An image the target environment does not run yet: it has no pinned tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImage {
    pub name: String,
    pub tag: Option<String>,
}

/// Puts the target environment's tags back into a merged file: each inline image
/// (`name:tag` in a container's `image`) whose name the target runs (`pinned`:
/// name → tag) gets the target's tag. Images the target does not run are
/// returned, for the caller to check against the target's policy or `--set-image`.
pub fn restore_tags(
    text: &[u8],
    images: &[SeenImage],
    pinned: &BTreeMap<String, String>,
) -> (Vec<u8>, Vec<NewImage>) {
    let mut out = text.to_vec();
    let mut new = Vec::new();
    for image in images.iter().filter(|i| i.inline) {
        match (pinned.get(&image.name), &image.tag) {
            (Some(keep), Some(tag)) if keep != tag => {
                out = replace(
                    &out,
                    format!("{}:{tag}", image.name).as_bytes(),
                    format!("{}:{keep}", image.name).as_bytes(),
                );
            }
            (Some(_), _) => {}
            (None, tag) => new.push(NewImage {
                name: image.name.clone(),
                tag: tag.clone(),
            }),
        }
    }
    (out, new)
}

/// A commit, as the pull request body lists it.
#[derive(Debug, Clone)]
pub struct BodyCommit {
    pub short: String,
    pub summary: String,
    pub author: String,
}

/// What the body says.
#[derive(Debug, Clone, Default)]
pub struct BodyInput {
    pub from: String,
    pub to: String,
    pub commits: Vec<BodyCommit>,
    pub apps: Vec<String>,
    /// `Kind/name path: from → to` lines.
    pub changes: Vec<String>,
    /// `Kind/name path: value (upstream has other)` lines.
    pub kept: Vec<String>,
    /// `short summary (author)` lines.
    pub drift: Vec<String>,
}

/// GitHub's limit on a pull request body.
pub const BODY_LIMIT: usize = 65_536;

/// The pull request body: commits, apps and resources that change, pinned values
/// kept, drift warnings and the hidden marker — shortened section by section to
/// stay within GitHub's limit rather than fail on a huge promotion.
pub fn body(input: &BodyInput) -> String {
    for cap in [usize::MAX, 200, 50, 10, 0] {
        let text = render_body(input, cap);
        if text.len() <= BODY_LIMIT {
            return text;
        }
    }
    render_body(input, 0)
}

fn section(out: &mut String, heading: &str, lines: &[String], cap: usize) {
    if lines.is_empty() {
        return;
    }
    out.push_str(&format!("\n### {heading}\n\n"));
    for line in lines.iter().take(cap) {
        out.push_str(&format!("- {line}\n"));
    }
    if lines.len() > cap {
        out.push_str(&format!("- … and {} more\n", lines.len() - cap));
    }
}

fn render_body(input: &BodyInput, cap: usize) -> String {
    let mut out = format!(
        "Promotes `{}` to `{}`: {} commit{}.\n",
        input.from,
        input.to,
        input.commits.len(),
        if input.commits.len() == 1 { "" } else { "s" }
    );
    if !input.drift.is_empty() {
        out.push_str(&format!(
            "\n> [!WARNING]\n> `{}` carries changes `{}` does not have (drift); this promotion may overwrite them.\n",
            input.to, input.from
        ));
    }
    let commits: Vec<String> = input
        .commits
        .iter()
        .map(|c| {
            format!(
                "`{}` {} ({})",
                c.short,
                c.summary.replace('\n', " "),
                c.author
            )
        })
        .collect();
    section(&mut out, "Commits", &commits, cap);
    if !input.apps.is_empty() {
        out.push_str(&format!("\n### Apps\n\n{}\n", input.apps.join(", ")));
    }
    section(&mut out, "Changes", &input.changes, cap);
    section(
        &mut out,
        &format!("Kept on {} (pinned)", input.to),
        &input.kept,
        cap,
    );
    section(
        &mut out,
        &format!("Drift on {}", input.to),
        &input.drift,
        cap,
    );
    out.push('\n');
    out.push_str(&marker(&input.from, &input.to));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(name: &str, tag: &str) -> SeenImage {
        SeenImage {
            name: name.into(),
            tag: Some(tag.into()),
            digest: None,
            inline: true,
        }
    }

    #[test]
    fn conflicts_on_image_tags_keep_the_targets_tag() {
        let text = b"a: 1\n<<<<<<< ours\n    image: shop/web:1.2.3\n=======\n    image: shop/web:4f2c9ab\n>>>>>>> theirs\nb: 2\n";
        let images = [img("shop/web", "1.2.3"), img("shop/web", "4f2c9ab")];
        let out = resolve_pinned_conflicts(text, &images, |_| false).unwrap();
        assert_eq!(out, b"a: 1\n    image: shop/web:1.2.3\nb: 2\n");
    }

    #[test]
    fn other_conflicts_are_real_and_named_by_line() {
        let text = b"a: 1\n<<<<<<< ours\nreplicas: 3\n=======\nreplicas: 2\n>>>>>>> theirs\n";
        assert_eq!(
            resolve_pinned_conflicts(text, &[], |_| false),
            Err(vec![RealConflict { line: 2 }])
        );
        let unclosed = b"<<<<<<< ours\nx\n=======\ny\n";
        assert!(resolve_pinned_conflicts(unclosed, &[], |_| false).is_err());
    }

    #[test]
    fn restoring_tags_keeps_the_targets_and_reports_new_images() {
        let text = b"image: shop/web:4f2c9ab\n---\nimage: shop/redis:7.2\n";
        let images = [img("shop/web", "4f2c9ab"), img("shop/redis", "7.2")];
        let pinned = BTreeMap::from([("shop/web".to_owned(), "1.2.3".to_owned())]);
        let (out, new) = restore_tags(text, &images, &pinned);
        assert_eq!(out, b"image: shop/web:1.2.3\n---\nimage: shop/redis:7.2\n");
        assert_eq!(
            new,
            [NewImage {
                name: "shop/redis".into(),
                tag: Some("7.2".into())
            }]
        );
    }

    #[test]
    fn the_body_has_the_marker_and_stays_within_githubs_limit() {
        let mut input = BodyInput {
            from: "dev".into(),
            to: "stage".into(),
            ..Default::default()
        };
        input.commits = (0..5000)
            .map(|i| BodyCommit {
                short: format!("{i:07x}"),
                summary: "x".repeat(100),
                author: "Ada".into(),
            })
            .collect();
        let body = body(&input);
        assert!(body.len() <= BODY_LIMIT, "{}", body.len());
        assert!(body.contains("more"));
        assert!(body.trim_end().ends_with(&marker("dev", "stage")));
        assert_eq!(title("dev", "stage"), "Promote dev to stage");
        assert_eq!(branch("dev", "stage"), "gitops/promote-dev-to-stage");
    }

    #[test]
    fn a_hunk_with_its_base_merges_line_by_line() {
        let images = [img("shop/web", "1.2.3"), img("shop/web", "4f2c9ab")];
        let keys = ["replicaCount".to_owned()];
        let cases: &[(&str, Option<&str>)] = &[
            // Tag line changed on both sides, the next line only by the source.
            (
                "<<<<<<< ours\nimage: shop/web:1.2.3\npull: IfNotPresent\n||||||| base\nimage: shop/web:0.9.0\npull: IfNotPresent\n=======\nimage: shop/web:4f2c9ab\npull: Always\n>>>>>>> theirs\n",
                Some("image: shop/web:1.2.3\npull: Always\n"),
            ),
            // A pinned key both changed keeps ours; the neighbour takes theirs.
            (
                "<<<<<<< ours\nreplicaCount: 2\nlogLevel: info\n||||||| base\nreplicaCount: 1\nlogLevel: info\n=======\nreplicaCount: 1\nlogLevel: debug\n>>>>>>> theirs\n",
                Some("replicaCount: 2\nlogLevel: debug\n"),
            ),
            (
                "<<<<<<< ours\nreplicaCount: 2\n||||||| base\nreplicaCount: 1\n=======\nreplicaCount: 5\n>>>>>>> theirs\n",
                Some("replicaCount: 2\n"),
            ),
            // Both changed an ordinary line differently: a real conflict.
            (
                "<<<<<<< ours\nlogLevel: warn\n||||||| base\nlogLevel: info\n=======\nlogLevel: debug\n>>>>>>> theirs\n",
                None,
            ),
            // Line counts differ: no line-by-line merge.
            (
                "<<<<<<< ours\na: 1\n||||||| base\na: 0\n=======\na: 2\nb: 3\n>>>>>>> theirs\n",
                None,
            ),
        ];
        for (text, want) in cases {
            let got = resolve_pinned_conflicts(text.as_bytes(), &images, |l| sets_key(l, &keys));
            assert_eq!(
                got.ok().map(|v| String::from_utf8(v).unwrap()).as_deref(),
                *want,
                "{text}"
            );
        }
        assert!(sets_key(b"  - replicaCount: 3\n", &keys));
        assert!(!sets_key(b"replicaCountMax: 3\n", &keys));
    }

    #[test]
    fn pinned_key_lines_come_back_from_the_target() {
        let keys = ["replicaCount".to_owned(), "ingress.host".to_owned()];
        let merged = b"replicaCount: 5\nlogLevel: debug\ningress:\n  host: dev.shop.example\n";
        let target = b"replicaCount: 2\nlogLevel: info\ningress:\n  host: shop.example\n";
        assert_eq!(
            restore_keys(merged, target, &keys).unwrap(),
            b"replicaCount: 2\nlogLevel: debug\ningress:\n  host: shop.example\n"
        );
        // A key set a different number of times: no guessing.
        assert_eq!(
            restore_keys(
                b"replicaCount: 1\nx:\n  replicaCount: 2\n",
                b"replicaCount: 1\n",
                &keys
            ),
            None
        );
    }
}
