//! Drift, judged field by field: the values an environment branch has that did
//! not come from its upstream.
//!
//! Drift is a commit on an environment branch, absent from its upstream, that
//! brings a value the upstream does not have, other than this environment's
//! pinned values: a hotfix made straight on stage or prod that was never made in
//! dev. Three pure decisions, fed by a thin gatherer (`Snapshot::drift`):
//! [`may_drift`] picks the files the branch still carries changes of,
//! [`commit_changed`] the candidate commits' own changes to them, and [`judge`]
//! decides, field by field, which of those are drift. Pure: blob ids, answers
//! and parsed files in, drift fields out.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use yaml_serde::Value;

use crate::model::manifest::{at_path, flatten, resources, to_json, Document, ResourceKey};
use crate::model::semdiff::{diff_file, diff_values, overlaps, pair_resources, Keeps, Pinned};

/// The versions of a file the branch changed since it last met its upstream:
/// at the merge base, on the branch's tip and on the upstream's tip (`None`:
/// absent), by blob id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions<Id> {
    pub base: Option<Id>,
    pub branch: Option<Id>,
    pub upstream: Option<Id>,
}

/// Whether the branch may carry drift in this file: it does not have the
/// upstream's version, and it holds values neither the merge base nor the
/// upstream has. `same_values(a, b)` says whether two versions hold the same
/// values apart from pinned ones (asked only when the ids do not settle it).
pub fn may_drift<Id: Copy + Eq, E>(
    v: Versions<Id>,
    mut same_values: impl FnMut(Option<Id>, Option<Id>) -> Result<bool, E>,
) -> Result<bool, E> {
    if v.branch == v.upstream {
        return Ok(false);
    }
    Ok(!same_values(v.base, v.branch)? && !same_values(v.branch, v.upstream)?)
}

/// Whether a candidate commit changed a drifted file on its own: the file differs
/// from the commit's first parent (`before`) in values, and the commit did not
/// take it from one of its other parents that the upstream has (`merged`: a
/// promotion merge brings the upstream's version, which is not drift).
pub fn commit_changed<Id: Copy + Eq, E>(
    before: Option<Id>,
    after: Option<Id>,
    merged: &[Option<Id>],
    same_values: impl FnOnce(Option<Id>, Option<Id>) -> Result<bool, E>,
) -> Result<bool, E> {
    if after == before || merged.contains(&after) {
        return Ok(false);
    }
    Ok(!same_values(before, after)?)
}

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
    /// The file holds plain values: its documents that are not Kubernetes objects
    /// are resources too (see [`crate::model::manifest::resources`]).
    pub plain: bool,
}

/// A value a commit brought that its upstream does not have.
///
/// `path` is a field path in [`crate::model::manifest::flatten`]'s notation — a leaf,
/// or a whole list item or mapping key the commit added or removed
/// (`env[name=X]`, with the whole item as the value) — or `""` for a whole
/// resource or a whole file. `value` is what the commit set (`None`: it
/// removed the field, resource or file), `upstream` what the upstream has
/// (`None`: it lacks it, or it cannot be read). Whole-resource entries carry the
/// whole resource as JSON; whole-file entries (an unparseable file) carry
/// neither value. Absent values are left out of the JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftField {
    pub file: String,
    pub kind: Option<String>,
    pub name: String,
    pub path: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "crate::model::semdiff::present"
    )]
    pub value: Option<Json>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "crate::model::semdiff::present"
    )]
    pub upstream: Option<Json>,
}

/// The drift a commit brings, from the files it changed; empty when it brings
/// none. A value "comes from upstream" when the upstream tip or a promotion-merged
/// parent (`merged`) has it; drift is a change whose new value comes from neither.
/// Versions that cannot be read (unparseable) prove nothing, so a change judged
/// against them is drift.
///
/// For each file, when `before` and `after` both parse (or are absent), resource
/// by resource — the resources of [`resources`] (plain documents only when the
/// file is `plain`), matched by [`ResourceKey`] (API group, kind, namespace and
/// name, so an apiVersion migration is a change of its `apiVersion` field, drift
/// only when the upstream has not made it), in `after`'s order, then the ones
/// `after` lacks:
///
/// - A resource in both: each difference between `before` and `after` (of
///   `crate::model::semdiff`'s structural diff: a changed leaf, or a whole list item or
///   mapping key added or removed, list items aligned) is skipped when it is
///   pinned ([`Pinned::keeps`]: an image tag or digest, a rule key), and is
///   otherwise drift unless `upstream` or a `merged` version agrees with `after`
///   there: that version has the resource and differs from `after` nowhere at,
///   under or above the difference's path, pinned differences aside (so for an
///   image reference the commit's image must name the same image as the
///   upstream's, whatever the tag); a version without the resource agrees with
///   removals only. Each drifting difference is one [`DriftField`], `upstream`
///   the upstream's value at its path.
/// - A resource only in `after` (added, a file the commit adds included): when
///   `upstream` or a `merged` version has it, the differences that bring a value
///   (from the first of those versions to `after`) are judged as above. When
///   none has the resource, and it has an unpinned leaf, it is one
///   whole-resource [`DriftField`] (`path` `""`, `value` the resource); a
///   resource of pinned values only is not drift.
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
            Some(Parsed::Docs(source)) => {
                diff_file(&file.path, Some(source), Some(after), pinned, file.plain)
                    .resources
                    .is_empty()
            }
            _ => false,
        }),
    }
}

/// What a version of the file has for a resource: `Unknown` when the version
/// cannot be read, else the resource or its absence.
enum Found<'a> {
    Unknown,
    Absent,
    Resource(&'a Value),
}

/// A version of a file, its resources looked up by key (read once: a file of
/// thousands of resources is asked about each of them).
enum Index<'a> {
    Absent,
    Unknown,
    /// The first resource of each key.
    Resources(HashMap<ResourceKey, &'a Value>),
}

impl<'a> Index<'a> {
    fn new(file: &FileChange, version: Option<&'a Parsed>) -> Index<'a> {
        match version {
            None => Index::Absent,
            Some(Parsed::Unparseable) => Index::Unknown,
            Some(Parsed::Docs(docs)) => {
                let mut map = HashMap::new();
                for r in resources(&file.path, docs, file.plain) {
                    map.entry(r.key).or_insert(r.value);
                }
                Index::Resources(map)
            }
        }
    }

    fn find(&self, key: &ResourceKey) -> Found<'a> {
        match self {
            Index::Absent => Found::Absent,
            Index::Unknown => Found::Unknown,
            Index::Resources(map) => map.get(key).map_or(Found::Absent, |v| Found::Resource(v)),
        }
    }
}

/// How a version (upstream, merged parent) of a resource compares with the
/// commit's: unknown, absent, or the paths where they differ, pinned
/// differences aside.
enum Source<'a> {
    Unknown,
    Absent,
    Differs(&'a Value, Vec<String>),
}

impl Source<'_> {
    /// The version has what the commit set at `path` (`None`: the commit removed
    /// it): they differ nowhere at or under or above `path`; an absent resource
    /// has only removals.
    fn agrees(&self, path: &str, value: Option<&Json>) -> bool {
        match self {
            Source::Unknown => false,
            Source::Absent => value.is_none(),
            Source::Differs(_, paths) => !paths.iter().any(|p| overlaps(p, path)),
        }
    }
}

/// Where a version of a resource differs from the commit's (`after`), kept
/// values aside.
fn source<'a>(found: &Found<'a>, after: &Value, keeps: &Keeps<'_>) -> Source<'a> {
    match *found {
        Found::Unknown => Source::Unknown,
        Found::Absent => Source::Absent,
        Found::Resource(value) => Source::Differs(
            value,
            diff_values(value, after, keeps)
                .into_iter()
                .filter(|d| !keeps(&d.path, d.old.as_ref(), d.new.as_ref()))
                .map(|d| d.path)
                .collect(),
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
    let before = resources(path, before, file.plain);
    let after = resources(path, after, file.plain);
    let upstream_index = Index::new(file, file.upstream.as_ref());
    let merged_index: Vec<Index<'_>> = file
        .merged
        .iter()
        .map(|m| Index::new(file, m.as_ref()))
        .collect();
    for (key, old, new) in pair_resources(&before, &after) {
        if let (Some(old), Some(new)) = (old, new) {
            // The same document in both versions (read once): nothing changed.
            if std::ptr::eq(old.value, new.value) {
                continue;
            }
        }
        let upstream = upstream_index.find(&key);
        let merged: Vec<Found<'_>> = merged_index.iter().map(|m| m.find(&key)).collect();
        let entry = |path: String, value: Option<Json>, upstream: Option<Json>| DriftField {
            file: file.path.clone(),
            kind: key.kind.clone(),
            name: key.name.clone(),
            path,
            value,
            upstream,
        };
        let kind = key.kind.as_deref();
        let keeps =
            |field: &str, a: Option<&Json>, b: Option<&Json>| pinned.keeps(path, kind, field, a, b);
        let changes = match (old, new) {
            (None, None) => continue,
            (Some(_), None) => {
                let from_upstream = matches!(upstream, Found::Absent)
                    || merged.iter().any(|m| matches!(m, Found::Absent));
                if !from_upstream {
                    let theirs = match upstream {
                        Found::Resource(value) => Some(to_json(value)),
                        _ => None,
                    };
                    out.push(entry(String::new(), None, theirs));
                }
                continue;
            }
            (Some(old), Some(new)) => diff_values(old.value, new.value, &keeps),
            (None, Some(new)) => {
                let Some(reference) =
                    std::iter::once(&upstream)
                        .chain(&merged)
                        .find_map(|f| match f {
                            Found::Resource(value) => Some(*value),
                            _ => None,
                        })
                else {
                    let unpinned = flatten(new.value)
                        .iter()
                        .any(|(leaf, value)| !keeps(leaf, None, Some(value)));
                    if unpinned {
                        out.push(entry(String::new(), Some(to_json(new.value)), None));
                    }
                    continue;
                };
                // Judged against a version that has it: what the commit brought,
                // not what it lacks.
                let mut changes = diff_values(reference, new.value, &keeps);
                changes.retain(|c| c.new.is_some());
                changes
            }
        };
        let Some(after) = new.map(|r| r.value) else {
            continue;
        };
        let mut sources: Option<Vec<Source<'_>>> = None;
        for change in changes {
            let value = change.new.as_ref();
            if keeps(&change.path, change.old.as_ref(), value) {
                continue;
            }
            let sources = sources.get_or_insert_with(|| {
                std::iter::once(&upstream)
                    .chain(&merged)
                    .map(|found| source(found, after, &keeps))
                    .collect()
            });
            if sources.iter().any(|s| s.agrees(&change.path, value)) {
                continue;
            }
            let theirs = match &sources[0] {
                Source::Differs(value, _) => at_path(value, &change.path).map(to_json),
                _ => None,
            };
            out.push(entry(change.path, change.new, theirs));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::glob::GlobSet;
    use crate::model::manifest::parse_documents;
    use crate::model::semdiff::PinnedRule;
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
        plain: bool,
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
            plain: false,
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
        /// The file holds plain values (a Helm values file, a pinned rule's file).
        fn plain(mut self, path: &'static str) -> Case {
            self.path = path;
            self.plain = true;
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
            plain: case.plain,
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
        let hpa = |api: &str, max: u32| {
            s(&format!(
                "apiVersion: {api}\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web}}\nspec: {{maxReplicas: {max}}}\n"
            ))
        };
        let env = |items: &str| {
            s(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: web}}\nspec: {{env: [{items}]}}\n"
            ))
        };
        let args = |items: &str| {
            s(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: web}}\nspec: {{args: {items}}}\n"
            ))
        };
        let list = |x: &str| {
            s(&format!(
                "apiVersion: v1\nkind: List\nitems:\n- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: a}}, data: {{x: {x}}}}}\n"
            ))
        };
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
            .plain(values),
            case(
                "pinned key, other file",
                s("replicaCount: 1\n"),
                s("replicaCount: 3\n"),
                None,
            )
            .plain("apps/web/other.yaml")
            .want("apps/web/other.yaml", "replicaCount", Some(json!(3)), None),
            case(
                "added file of pinned values only",
                None,
                s("replicaCount: 3\n"),
                None,
            )
            .plain(values),
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
            .plain("values.yaml")
            .want("values.yaml", "b", None, Some(json!(2))),
            case(
                "field removed, upstream lacks it",
                s("a: 1\nb: 2\n"),
                s("a: 1\n"),
                s("a: 1\n"),
            )
            .plain("values.yaml"),
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
                .plain("values.yaml")
                .want("values.yaml", "a", Some(json!(2)), None),
            case("unparseable after", s("a: 1\n"), s(BROKEN), s("a: 1\n"))
                .plain("values.yaml")
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
            case(
                "apiVersion migration upstream made",
                hpa("autoscaling/v2beta2", 3),
                hpa("autoscaling/v2", 3),
                hpa("autoscaling/v2", 3),
            )
            .path("hpa.yaml"),
            case(
                "apiVersion migration upstream lacks",
                hpa("autoscaling/v2beta2", 3),
                hpa("autoscaling/v2", 3),
                hpa("autoscaling/v2beta2", 3),
            )
            .path("hpa.yaml")
            .want(
                "web",
                "apiVersion",
                Some(json!("autoscaling/v2")),
                Some(json!("autoscaling/v2beta2")),
            ),
            case(
                "a CI workflow is not a resource",
                s("on: push\njobs: {a: 1}\n"),
                s("on: push\njobs: {a: 2}\n"),
                s("on: push\njobs: {a: 1}\n"),
            )
            .path(".github/workflows/ci.yaml"),
            case(
                "an env var added, upstream lacks it",
                env("{name: A, value: '1'}"),
                env("{name: A, value: '1'}, {name: X, value: 30s}"),
                env("{name: A, value: '1'}"),
            )
            .want(
                "web",
                "spec.env[name=X]",
                Some(json!({"name": "X", "value": "30s"})),
                None,
            ),
            case(
                "an env var added, upstream has it",
                env("{name: A, value: '1'}"),
                env("{name: A, value: '1'}, {name: X, value: 30s}"),
                env("{name: X, value: 30s}, {name: A, value: '1'}"),
            ),
            case(
                "an env var added, upstream has another value",
                env("{name: A, value: '1'}"),
                env("{name: A, value: '1'}, {name: X, value: 30s}"),
                env("{name: A, value: '1'}, {name: X, value: 10s}"),
            )
            .want(
                "web",
                "spec.env[name=X]",
                Some(json!({"name": "X", "value": "30s"})),
                Some(json!({"name": "X", "value": "10s"})),
            ),
            case(
                "an arg inserted, upstream has it",
                args("[a, b]"),
                args("[z, a, b]"),
                args("[z, a, b]"),
            ),
            case(
                "an arg removed, upstream removed it",
                args("[a, b, c]"),
                args("[b, c]"),
                args("[b, c]"),
            ),
            case(
                "an arg removed, upstream has it",
                args("[a, b, c]"),
                args("[b, c]"),
                args("[a, b, c]"),
            )
            .want("web", "spec.args[0]", None, Some(json!("a"))),
            case("a List item", list("'1'"), list("'2'"), list("'1'"))
                .path("list.yaml")
                .want("a", "data.x", Some(json!("2")), Some(json!("1"))),
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
                plain: false,
            },
            FileChange {
                path: "b.yaml".into(),
                before: Some(parsed(SERVICE)),
                after: Some(parsed(&SERVICE.replace("80", "81"))),
                upstream: None,
                merged: Vec::new(),
                plain: false,
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

    #[test]
    fn files_that_may_drift_and_commits_that_changed_them() {
        // Blob ids as integers; "same values" for the pairs listed.
        let same = |pairs: &'static [(Option<u8>, Option<u8>)]| {
            move |a: Option<u8>, b: Option<u8>| -> Result<bool, ()> {
                Ok(a == b || pairs.contains(&(a, b)) || pairs.contains(&(b, a)))
            }
        };
        let v = |base, branch, upstream| Versions {
            base,
            branch,
            upstream,
        };
        // The branch has the upstream's version: no drift.
        assert_eq!(
            may_drift(v(Some(1), Some(2), Some(2)), same(&[])),
            Ok(false)
        );
        // Changed since the base, and unlike the upstream: maybe drift.
        assert_eq!(may_drift(v(Some(1), Some(2), Some(3)), same(&[])), Ok(true));
        // Only pinned values changed since the base (a retag): not drift.
        assert_eq!(
            may_drift(v(Some(1), Some(2), Some(3)), same(&[(Some(1), Some(2))])),
            Ok(false)
        );
        // The same values as the upstream, told apart only by tags: not drift.
        assert_eq!(
            may_drift(v(Some(1), Some(2), Some(3)), same(&[(Some(2), Some(3))])),
            Ok(false)
        );
        // A file the branch added that the upstream lacks: maybe drift.
        assert_eq!(may_drift(v(None, Some(2), None), same(&[])), Ok(true));

        // A commit that did not touch the file, or took it from a merged parent.
        assert_eq!(commit_changed(Some(1), Some(1), &[], same(&[])), Ok(false));
        assert_eq!(
            commit_changed(Some(1), Some(2), &[Some(2)], same(&[])),
            Ok(false)
        );
        // A retag only.
        assert_eq!(
            commit_changed(Some(1), Some(2), &[], same(&[(Some(1), Some(2))])),
            Ok(false)
        );
        // Its own change, or a deletion.
        assert_eq!(
            commit_changed(Some(1), Some(2), &[Some(3)], same(&[])),
            Ok(true)
        );
        assert_eq!(commit_changed(Some(1), None, &[], same(&[])), Ok(true));
    }
}
