//! Drift, judged field by field: the values an environment branch has that did
//! not come from its upstream.
//!
//! Drift is a commit on an environment branch, absent from its upstream, that
//! brings a value the upstream does not have, other than this environment's
//! pinned values: a hotfix made straight on stage or prod that was never made in
//! dev. The git layer gathers the files each candidate commit changed, parsed;
//! [`judge`] decides. Pure: parsed files in, drift fields out.

use serde::Serialize;
use serde_json::Value as Json;

use crate::manifest::{flatten, resource_key, to_json, Document, ResourceKey};
use crate::semdiff::{diff_file, diff_leaves, pair_resources, LeafDiff, Pinned};

/// One version of a file.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// The file parses as YAML.
    Docs(Vec<Document>),
    /// YAML that does not parse, or a file that is not YAML. Its contents cannot be
    /// compared: an `Unparseable` version never equals another version.
    Unparseable,
}

impl Parsed {
    fn docs(&self) -> Option<&[Document]> {
        match self {
            Parsed::Docs(docs) => Some(docs),
            Parsed::Unparseable => None,
        }
    }
}

/// A file a candidate commit changed, in every version [`judge`] needs.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: String,
    /// In the commit's first parent (`None`: the commit adds the file).
    pub before: Option<Parsed>,
    /// In the commit (`None`: the commit deletes the file).
    pub after: Option<Parsed>,
    /// At the same path on the upstream branch's tip (`None`: upstream lacks it).
    pub upstream: Option<Parsed>,
    /// At the same path in the commit's other parents that are reachable from the
    /// upstream (a promotion merge); empty for ordinary commits.
    pub merged: Vec<Option<Parsed>>,
}

/// A value a commit brought that its upstream does not have.
///
/// `path` is a leaf field path of [`crate::manifest::flatten`], or `""` for a
/// whole resource or a whole file. `value` is what the commit set (`None`: it
/// removed the field, resource or file), `upstream` what the upstream has
/// (`None`: it lacks it, or it cannot be read). Whole-resource entries carry the
/// whole resource as JSON; whole-file entries (an unparseable file) carry
/// neither value. Absent values are left out of the JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftField {
    pub file: String,
    pub kind: Option<String>,
    pub name: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Json>,
}

/// The drift a commit brings, from the files it changed; empty when it brings
/// none. A value "comes from upstream" when the upstream tip or a promotion-merged
/// parent (`merged`) has it; drift is a change whose new value comes from neither.
/// Versions that cannot be read (unparseable) prove nothing, so a change judged
/// against them is drift.
///
/// For each file, when `before` and `after` both parse (or are absent), resource
/// by resource, resources matched by [`resource_key`] (in `after`'s order, then
/// the ones `after` lacks):
///
/// - A resource in both: each leaf whose value differs between `before` and
///   `after` (added, changed or removed) is skipped when the difference is pinned
///   ([`Pinned::keeps`]: an image tag or digest, a rule key), and is otherwise
///   drift unless the after-value (`None` when removed) equals the value at the
///   same resource and path in `upstream` or in a `merged` version. For an image
///   reference, "equals" ignores the tag and digest: the commit's image must name
///   the same image as the upstream's. Each drifting leaf is one [`DriftField`].
/// - A resource only in `after` (added, a file the commit adds included): its
///   leaves are judged as above, all of them new. When neither `upstream` nor a
///   `merged` version has the resource, and it has an unpinned leaf, it is one
///   whole-resource [`DriftField`] (`path` `""`, `value` the resource) rather than
///   one per leaf; a resource of pinned values only is not drift.
/// - A resource only in `before` (removed, a file the commit deletes included):
///   drift when `upstream` still has the resource (or cannot be read) and no
///   `merged` version lacks it; one [`DriftField`] with `path` `""`, `value` `None`
///   and `upstream` the upstream's resource.
///
/// When `before` or `after` is unparseable, the file is judged whole, as one
/// [`DriftField`] (`kind` `None`, `name` and `file` the path, `path` `""`):
///
/// - a parsed `after` is drift unless it equals `upstream` or a `merged` version,
///   pinned values aside (no unpinned difference, same resources);
/// - a deleted file is drift unless `upstream` or a `merged` version lacks it;
/// - an unparseable `after` is always drift: its contents cannot be compared. The
///   caller skips files whose blob equals the upstream's or a merged parent's
///   blob (that covers unchanged unparseable files and non-YAML files alike).
pub fn judge(files: &[FileChange], pinned: &Pinned) -> Vec<DriftField> {
    let mut out = Vec::new();
    for file in files {
        let before = readable(file.before.as_ref());
        let after = readable(file.after.as_ref());
        match (before, after) {
            (Some(before), Some(after)) => judge_resources(file, before, after, pinned, &mut out),
            _ => {
                if whole_file_drifts(file, pinned) {
                    out.push(DriftField {
                        file: file.path.clone(),
                        kind: None,
                        name: file.path.clone(),
                        path: String::new(),
                        value: None,
                        upstream: None,
                    });
                }
            }
        }
    }
    out
}

/// The documents of a version: none when absent, `None` when unparseable.
fn readable(version: Option<&Parsed>) -> Option<&[Document]> {
    match version {
        None => Some(&[]),
        Some(parsed) => parsed.docs(),
    }
}

/// The whole-file rule, for a file unparseable before or after the commit.
fn whole_file_drifts(file: &FileChange, pinned: &Pinned) -> bool {
    let mut sources = std::iter::once(&file.upstream).chain(&file.merged);
    match &file.after {
        None => !sources.any(Option::is_none),
        Some(Parsed::Unparseable) => true,
        Some(Parsed::Docs(after)) => !sources.any(|source| match source {
            Some(Parsed::Docs(source)) => diff_file(&file.path, Some(source), Some(after), pinned)
                .resources
                .is_empty(),
            _ => false,
        }),
    }
}

/// What a version of the file has for a resource: `Unknown` when the version
/// cannot be read, else the resource (flattened once) or its absence.
enum Found<'a> {
    Unknown,
    Absent,
    Resource(&'a Document, Vec<(String, Json)>),
}

fn find<'a>(path: &str, version: Option<&'a Parsed>, key: &ResourceKey) -> Found<'a> {
    match version {
        None => Found::Absent,
        Some(Parsed::Unparseable) => Found::Unknown,
        Some(Parsed::Docs(docs)) => docs
            .iter()
            .find(|doc| resource_key(path, doc) == *key)
            .map_or(Found::Absent, |doc| {
                Found::Resource(doc, flatten(&doc.value))
            }),
    }
}

/// The value of a leaf in a found resource: `None` when unknown, `Some(None)` when
/// absent.
fn leaf_value(found: &Found<'_>, field: &str) -> Option<Option<Json>> {
    match found {
        Found::Unknown => None,
        Found::Absent => Some(None),
        Found::Resource(_, leaves) => Some(
            leaves
                .iter()
                .find(|(path, _)| path == field)
                .map(|(_, value)| value.clone()),
        ),
    }
}

fn judge_resources(
    file: &FileChange,
    before: &[Document],
    after: &[Document],
    pinned: &Pinned,
    out: &mut Vec<DriftField>,
) {
    let path = file.path.as_str();
    for (key, old, new) in pair_resources(path, before, after) {
        let upstream = find(path, file.upstream.as_ref(), &key);
        let merged: Vec<Found<'_>> = file
            .merged
            .iter()
            .map(|m| find(path, m.as_ref(), &key))
            .collect();
        let entry = |path: String, value: Option<Json>, upstream: Option<Json>| DriftField {
            file: file.path.clone(),
            kind: key.kind.clone(),
            name: key.name.clone(),
            path,
            value,
            upstream,
        };
        let leaves = match (old, new) {
            (None, None) => continue,
            (Some(_), None) => {
                let from_upstream = matches!(upstream, Found::Absent)
                    || merged.iter().any(|m| matches!(m, Found::Absent));
                if !from_upstream {
                    let theirs = match upstream {
                        Found::Resource(doc, _) => Some(to_json(&doc.value)),
                        _ => None,
                    };
                    out.push(entry(String::new(), None, theirs));
                }
                continue;
            }
            (Some(old), Some(new)) => diff_leaves(&old.value, &new.value),
            (None, Some(new)) => {
                let leaves: Vec<LeafDiff> = flatten(&new.value)
                    .into_iter()
                    .map(|(path, value)| LeafDiff {
                        path,
                        old: None,
                        new: Some(value),
                    })
                    .collect();
                let known_elsewhere = std::iter::once(&upstream)
                    .chain(&merged)
                    .any(|f| matches!(f, Found::Resource(..)));
                if !known_elsewhere {
                    let unpinned = leaves.iter().any(|leaf| {
                        !pinned.keeps(
                            path,
                            key.kind.as_deref(),
                            &leaf.path,
                            None,
                            leaf.new.as_ref(),
                        )
                    });
                    if unpinned {
                        out.push(entry(String::new(), Some(to_json(&new.value)), None));
                    }
                    continue;
                }
                leaves
            }
        };
        let kind = key.kind.as_deref();
        // The after-value agrees with a version's value, pinned differences aside.
        let agrees =
            |field: &str, found: &Found<'_>, value: Option<&Json>| match leaf_value(found, field) {
                None => false,
                Some(theirs) => {
                    theirs.as_ref() == value
                        || pinned.keeps(path, kind, field, theirs.as_ref(), value)
                }
            };
        for leaf in leaves {
            let new_value = leaf.new.as_ref();
            if pinned.keeps(path, kind, &leaf.path, leaf.old.as_ref(), new_value)
                || agrees(&leaf.path, &upstream, new_value)
                || merged.iter().any(|m| agrees(&leaf.path, m, new_value))
            {
                continue;
            }
            let theirs = leaf_value(&upstream, &leaf.path).flatten();
            out.push(entry(leaf.path, leaf.new, theirs));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glob::GlobSet;
    use crate::manifest::parse_documents;
    use crate::semdiff::PinnedRule;
    use serde_json::json;

    fn parsed(yaml: &str) -> Parsed {
        match parse_documents(yaml.as_bytes()) {
            Ok(docs) => Parsed::Docs(docs),
            Err(_) => Parsed::Unparseable,
        }
    }

    fn deploy(replicas: u32, image: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\n\
             spec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n      \
             - name: web\n        image: {image}\n"
        )
    }

    const SERVICE: &str =
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {port: 80}\n";
    const IMAGE: &str = "spec.template.spec.containers[name=web].image";
    const BROKEN: &str = "a: [1, 2\nb: 3\n";

    struct Case {
        name: &'static str,
        path: &'static str,
        before: Option<String>,
        after: Option<String>,
        upstream: Option<String>,
        merged: Vec<Option<String>>,
        /// (resource name, field path, value, upstream value)
        want: Vec<(&'static str, &'static str, Option<Json>, Option<Json>)>,
    }

    fn case(
        name: &'static str,
        before: Option<String>,
        after: Option<String>,
        upstream: Option<String>,
    ) -> Case {
        Case {
            name,
            path: "apps/web/deploy.yaml",
            before,
            after,
            upstream,
            merged: Vec::new(),
            want: Vec::new(),
        }
    }

    impl Case {
        fn merged(mut self, merged: Vec<Option<String>>) -> Case {
            self.merged = merged;
            self
        }
        fn path(mut self, path: &'static str) -> Case {
            self.path = path;
            self
        }
        fn want(
            mut self,
            name: &'static str,
            path: &'static str,
            value: Option<Json>,
            upstream: Option<Json>,
        ) -> Case {
            self.want.push((name, path, value, upstream));
            self
        }
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    fn pinned() -> Pinned {
        Pinned {
            rules: vec![PinnedRule {
                files: GlobSet::new(&["apps/*/values.yaml".to_owned()]).unwrap(),
                keys: vec!["replicaCount".to_owned()],
            }],
            ..Pinned::default()
        }
    }

    fn run(case: &Case) -> Vec<DriftField> {
        let file = FileChange {
            path: case.path.to_owned(),
            before: case.before.as_deref().map(parsed),
            after: case.after.as_deref().map(parsed),
            upstream: case.upstream.as_deref().map(parsed),
            merged: case
                .merged
                .iter()
                .map(|m| m.as_deref().map(parsed))
                .collect(),
        };
        judge(&[file], &pinned())
    }

    #[test]
    fn judges_commits_field_by_field() {
        let d = |replicas: u32, image: &str| s(&deploy(replicas, image));
        let with_service = |image: &str| s(&format!("{}---\n{SERVICE}", deploy(1, image)));
        let two_docs = |port: u32| {
            let service = SERVICE.replace("80", &port.to_string());
            s(&format!("{}---\n{service}", deploy(1, "web:1")))
        };
        let kust =
            |field: &str, value: &str| s(&format!("images:\n- {{name: web, {field}: {value}}}\n"));
        // A whole resource as JSON, as whole-resource entries carry it.
        let whole = |yaml: &Option<String>, i: usize| {
            let docs = parse_documents(yaml.as_deref().unwrap().as_bytes()).unwrap();
            Some(to_json(&docs[i].value))
        };
        let service_json = whole(&s(SERVICE), 0);
        let upstream_deploy_json = whole(&with_service("web:2"), 0);
        let values = "apps/web/values.yaml";
        let cases = vec![
            case(
                "only an image tag",
                d(1, "web:1"),
                d(1, "web:2"),
                d(1, "web:9"),
            ),
            case(
                "replicas 1 -> 3, upstream 1",
                d(1, "web:1"),
                d(3, "web:1"),
                d(1, "web:1"),
            )
            .want("web", "spec.replicas", Some(json!(3)), Some(json!(1))),
            case(
                "replicas 1 -> 3, upstream 3",
                d(1, "web:1"),
                d(3, "web:1"),
                d(3, "web:7"),
            ),
            case(
                "replicas and tag, upstream 3",
                d(1, "web:1"),
                d(3, "web:2"),
                d(3, "web:7"),
            ),
            case(
                "added file, upstream has it, other tag",
                None,
                d(2, "web:5"),
                d(2, "web:6"),
            ),
            case(
                "added file, upstream other replicas",
                None,
                d(2, "web:5"),
                d(1, "web:6"),
            )
            .want("web", "spec.replicas", Some(json!(2)), Some(json!(1))),
            case("added file upstream lacks", None, s(SERVICE), None).want(
                "web",
                "",
                service_json.clone(),
                None,
            ),
            case(
                "promotion merge, upstream moved on",
                d(1, "web:1"),
                d(3, "web:1"),
                d(5, "web:1"),
            )
            .merged(vec![d(3, "web:1")]),
            case(
                "merge resolved to a new value",
                d(1, "web:1"),
                d(4, "web:1"),
                d(5, "web:1"),
            )
            .merged(vec![d(3, "web:1")])
            .want("web", "spec.replicas", Some(json!(4)), Some(json!(5))),
            case(
                "pinned key, pinned file",
                s("replicaCount: 1\n"),
                s("replicaCount: 3\n"),
                None,
            )
            .path(values),
            case(
                "pinned key, other file",
                s("replicaCount: 1\n"),
                s("replicaCount: 3\n"),
                None,
            )
            .path("apps/web/other.yaml")
            .want("apps/web/other.yaml", "replicaCount", Some(json!(3)), None),
            case(
                "added file of pinned values only",
                None,
                s("replicaCount: 3\n"),
                None,
            )
            .path(values),
            case(
                "deleted file still upstream",
                with_service("web:1"),
                None,
                with_service("web:2"),
            )
            .want("web", "", None, upstream_deploy_json)
            .want("web", "", None, service_json),
            case(
                "deleted file, upstream deleted it",
                d(1, "web:1"),
                None,
                None,
            ),
            case(
                "deleted file, merge deleted it",
                d(1, "web:1"),
                None,
                d(1, "web:1"),
            )
            .merged(vec![None]),
            case(
                "resource removed upstream too",
                with_service("web:1"),
                d(1, "web:1"),
                d(1, "web:1"),
            ),
            case(
                "second document only",
                two_docs(80),
                two_docs(8080),
                two_docs(80),
            )
            .want("web", "spec.port", Some(json!(8080)), Some(json!(80))),
            case(
                "image name change",
                d(1, "r.io/web:1"),
                d(1, "r.io/debug:1"),
                d(1, "r.io/web:1"),
            )
            .want(
                "web",
                IMAGE,
                Some(json!("r.io/debug:1")),
                Some(json!("r.io/web:1")),
            ),
            case(
                "image name upstream has",
                d(1, "r.io/web:1"),
                d(1, "r.io/v2:1"),
                d(1, "r.io/v2:8"),
            ),
            case(
                "field removed, upstream has it",
                s("a: 1\nb: 2\n"),
                s("a: 1\n"),
                s("b: 2\n"),
            )
            .path("values.yaml")
            .want("values.yaml", "b", None, Some(json!(2))),
            case(
                "field removed, upstream lacks it",
                s("a: 1\nb: 2\n"),
                s("a: 1\n"),
                s("a: 1\n"),
            )
            .path("values.yaml"),
            case(
                "kustomization tag",
                kust("newTag", "'1'"),
                kust("newTag", "'2'"),
                kust("newTag", "'3'"),
            )
            .path("kustomization.yaml"),
            case(
                "kustomization newName",
                kust("newName", "a"),
                kust("newName", "b"),
                kust("newName", "a"),
            )
            .path("kustomization.yaml")
            .want(
                "kustomization.yaml",
                "images[name=web].newName",
                Some(json!("b")),
                Some(json!("a")),
            ),
            case("upstream unparseable", s("a: 1\n"), s("a: 2\n"), s(BROKEN))
                .path("values.yaml")
                .want("values.yaml", "a", Some(json!(2)), None),
            case("unparseable after", s("a: 1\n"), s(BROKEN), s("a: 1\n"))
                .path("values.yaml")
                .want("values.yaml", "", None, None),
            case(
                "fixed to upstream's content, tag aside",
                s(BROKEN),
                d(1, "web:1"),
                d(1, "web:2"),
            ),
            case(
                "fixed to a value upstream lacks",
                s(BROKEN),
                d(3, "web:1"),
                d(1, "web:2"),
            )
            .want("apps/web/deploy.yaml", "", None, None),
            case(
                "deleted unparseable, upstream has it",
                s(BROKEN),
                None,
                s(BROKEN),
            )
            .want("apps/web/deploy.yaml", "", None, None),
            case(
                "deleted unparseable, upstream lacks it",
                s(BROKEN),
                None,
                None,
            ),
        ];
        for case in &cases {
            let got: Vec<_> = run(case)
                .into_iter()
                .map(|d| {
                    assert_eq!(d.file, case.path, "{}", case.name);
                    (d.name, d.path, d.value, d.upstream)
                })
                .collect();
            let want: Vec<_> = case
                .want
                .iter()
                .map(|(n, p, v, u)| ((*n).to_owned(), (*p).to_owned(), v.clone(), u.clone()))
                .collect();
            assert_eq!(got, want, "{}", case.name);
        }
    }

    #[test]
    fn reports_kind_and_resource_of_each_field_across_files() {
        let files = [
            FileChange {
                path: "a.yaml".into(),
                before: Some(parsed(&deploy(1, "web:1"))),
                after: Some(parsed(&deploy(2, "web:1"))),
                upstream: Some(parsed(&deploy(1, "web:1"))),
                merged: Vec::new(),
            },
            FileChange {
                path: "b.yaml".into(),
                before: Some(parsed(SERVICE)),
                after: Some(parsed(&SERVICE.replace("80", "81"))),
                upstream: None,
                merged: Vec::new(),
            },
        ];
        let got = judge(&files, &Pinned::default());
        assert_eq!(
            got,
            [
                DriftField {
                    file: "a.yaml".into(),
                    kind: Some("Deployment".into()),
                    name: "web".into(),
                    path: "spec.replicas".into(),
                    value: Some(json!(2)),
                    upstream: Some(json!(1)),
                },
                DriftField {
                    file: "b.yaml".into(),
                    kind: Some("Service".into()),
                    name: "web".into(),
                    path: "spec.port".into(),
                    value: Some(json!(81)),
                    upstream: None,
                },
            ]
        );
        assert_eq!(
            serde_json::to_value(&got[1]).unwrap(),
            json!({
                "file": "b.yaml", "kind": "Service", "name": "web", "path": "spec.port", "value": 81,
            })
        );
    }
}
