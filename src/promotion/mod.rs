//! Promotion as plain data. [`pin`] sets the target environment's pinned values
//! into the versions of a file that are merged, [`plan`] decides what the merged
//! tree still needs (tags for new images) and when to refuse; here: the conflict
//! hunks git leaves that a line-by-line three-way merge resolves, and the pull
//! request's title and body; [`drift`] judges what an environment carries that its
//! upstream lacks, and [`graph`] answers what is pending and where branches
//! meet. Pure: texts and lists in, texts and lists out; uses [`crate::model`]
//! and [`crate::config`], never git, the forge or the terminal.

pub mod drift;
pub mod graph;
pub mod pin;
pub mod plan;

use crate::model::summary::{mask_images as mask, SeenImage};

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
    /// What the reviewer should know: third-party upgrades held back, pinned
    /// values that could not be kept.
    pub warnings: Vec<String>,
}

/// GitHub's limit on a pull request body.
pub const BODY_LIMIT: usize = 65_536;

/// The pull request body: commits, apps and resources that change, pinned values
/// kept, drift warnings and the hidden marker — shortened section by section to
/// stay within GitHub's limit rather than fail on a huge promotion. `change` is
/// what the forge calls it ("pull request", "merge request").
pub fn body(input: &BodyInput, change: &str) -> String {
    for cap in [usize::MAX, 200, 50, 10, 0] {
        let text = render_body(input, change, cap);
        if text.len() <= BODY_LIMIT {
            return text;
        }
    }
    render_body(input, change, 0)
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

fn render_body(input: &BodyInput, change: &str, cap: usize) -> String {
    let mut out = format!(
        "Promotes `{}` to `{}`: {} commit{}.\n",
        input.from,
        input.to,
        input.commits.len(),
        if input.commits.len() == 1 { "" } else { "s" }
    );
    if !input.drift.is_empty() {
        out.push_str(&format!(
            "\n> [!WARNING]\n> `{}` carries changes `{}` does not have (drift). This promotion keeps them (a three-way merge), but `{}` never got them: bring them to `{}` through a {change} so they are not lost.\n",
            input.to, input.from, input.from, input.from
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
    section(&mut out, "Warnings", &input.warnings, cap);
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
        let body = body(&input, "pull request");
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
            let got = resolve_pinned_conflicts(text.as_bytes(), &images, |l| {
                l.trim_ascii_start()
                    .starts_with(format!("{}:", keys[0]).as_bytes())
            });
            assert_eq!(
                got.ok().map(|v| String::from_utf8(v).unwrap()).as_deref(),
                *want,
                "{text}"
            );
        }
    }
}
