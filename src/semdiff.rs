//! The semantic diff of manifests: what promoting one environment into the next
//! would change, resource by resource and field by field, and which of the target
//! environment's pinned values (image tags, per-environment keys) it keeps.
//!
//! Pure: parsed files in, plain data out. Rendering is done elsewhere.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value as Json;

use crate::glob::GlobSet;
use crate::image::ImageRef;
use crate::images::is_image_field;
use crate::manifest::{api_group, flatten, resources, Document, Resource, ResourceKey};

/// Values pinned per environment in the files matching `files`: each key is a dot
/// path (`replicaCount`, `ingress.host`) and pins that field and everything under it.
#[derive(Debug, Clone)]
pub struct PinnedRule {
    pub files: GlobSet,
    pub keys: Vec<String>,
}

/// What an environment keeps when its upstream is promoted into it: image tags
/// always, plus the keys of its rules.
#[derive(Debug, Clone, Default)]
pub struct Pinned {
    pub rules: Vec<PinnedRule>,
}

impl Pinned {
    /// True when the field is pinned: an image field (`crate::images::is_image_field`,
    /// image tags are pinned per environment), or a field of a file matching a rule's
    /// glob whose path equals one of the rule's keys or lies under it (key `ingress`
    /// pins `ingress.host`; key `ingress.host` pins `ingress.host` and
    /// `ingress.host[0]`, not `ingress.hostname`).
    ///
    /// This looks at the path only; whether a given difference is kept also
    /// depends on the values, see [`Pinned::keeps`].
    pub fn is_pinned(&self, file: &str, kind: Option<&str>, field_path: &str) -> bool {
        is_image_field(kind, field_path) || self.rule_pins(file, field_path)
    }

    /// True when the difference between `a` and `b` at this field is one the
    /// environment keeps rather than a real change: the field is pinned
    /// ([`Pinned::is_pinned`]) and, when it is pinned only for being a full image
    /// reference (a field named `image`, such as `containers[name=web].image`),
    /// both values are image references naming the same image, so they differ by
    /// tag or digest only. A different image name, or an image on one side only,
    /// is a real change, and so is any difference in a kustomization's `newName`.
    /// Tag-only image fields (a kustomization's `newTag`, `digest`) and rule keys
    /// are kept whatever the values, a side's absence included.
    pub fn keeps(
        &self,
        file: &str,
        kind: Option<&str>,
        field_path: &str,
        a: Option<&Json>,
        b: Option<&Json>,
    ) -> bool {
        if self.rule_pins(file, field_path) {
            return true;
        }
        if !is_image_field(kind, field_path) {
            return false;
        }
        match field_path.rsplit('.').next() {
            Some("image") => same_image_name(a, b),
            Some("newName") => false,
            _ => true,
        }
    }

    fn rule_pins(&self, file: &str, field_path: &str) -> bool {
        self.rules.iter().any(|rule| {
            rule.keys.iter().any(|key| under_key(field_path, key)) && rule.files.is_match(file)
        })
    }
}

/// `path` is `key` or lies under it: the key is followed by `.` or `[`.
fn under_key(path: &str, key: &str) -> bool {
    !key.is_empty()
        && path
            .strip_prefix(key)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// Both values are image references with the same name.
fn same_image_name(a: Option<&Json>, b: Option<&Json>) -> bool {
    match (a, b) {
        (Some(Json::String(a)), Some(Json::String(b))) => {
            match (ImageRef::parse(a), ImageRef::parse(b)) {
                (Ok(a), Ok(b)) => a.name == b.name,
                _ => false,
            }
        }
        _ => false,
    }
}

/// What happens to a resource when the source environment is promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only the source has it: promotion creates it.
    Added,
    /// Only the target has it: promotion deletes it.
    Removed,
    /// Both have it, with differing (unpinned) fields.
    Changed,
}

/// One leaf field that promotion changes. `from` is the value the target
/// environment has now, `to` the value it has after promotion; a side that lacks
/// the field is `None`, and is left out of the JSON (a JSON `null` is a YAML null).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Json>,
}

/// One resource that promotion adds, removes or changes. `fields` lists the
/// changed leaves of a `changed` resource and is empty for `added` and `removed`
/// ones (the whole resource is the change).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    pub file: String,
    /// The source's `apiVersion` (what the target has after promotion); for a
    /// removed resource, the target's. A migration (`autoscaling/v2beta2` →
    /// `autoscaling/v2`) is a `changed` resource with an `apiVersion` field.
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: String,
    pub change: Change,
    pub fields: Vec<FieldChange>,
}

impl ResourceChange {
    /// The resource's identity (its API group taken from `api_version`).
    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            group: self.api_version.as_deref().map(|v| api_group(v).to_owned()),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// A pinned value that differs between the environments and that promotion
/// keeps: `value` is the target environment's (it stays), `upstream` the source's.
/// A side that lacks the field (possible for rule keys and tag-only image fields)
/// shows as `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kept {
    pub file: String,
    pub kind: Option<String>,
    pub name: String,
    pub path: String,
    pub value: Json,
    pub upstream: Json,
}

/// The semantic diff of one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileDiff {
    pub resources: Vec<ResourceChange>,
    pub kept: Vec<Kept>,
}

/// What promoting `from` (the source environment's file, the new state) into `to`
/// (the target environment's file, the old state) changes in the file at `path`;
/// `None` is an absent file.
///
/// - The resources of each version are those of [`resources`]: Kubernetes
///   objects, kustomizations and `List` items; other documents (CI workflows,
///   `Chart.yaml`, arbitrary YAML) only when `plain` is true, which the caller
///   says of files that hold plain values (Helm values files, the files of the
///   config's `pinned` rules). A file without resources has no changes.
/// - Resources are matched by [`ResourceKey`] (API group, kind, namespace, name;
///   not the API version) within the file, whatever their document order; a key
///   that occurs more than once is matched occurrence by occurrence.
/// - A resource only in `from` is [`Change::Added`], one only in `to` is
///   [`Change::Removed`]; both have empty `fields` and no kept values (the caller
///   handles new workloads).
/// - A resource in both compares the leaves of [`flatten`]: each leaf whose value
///   differs, or that one side lacks, is a [`FieldChange`] unless the difference is
///   kept ([`Pinned::keeps`]: a pinned field, an image differing by tag or digest
///   only), which gives a [`Kept`] entry instead. A resource whose only
///   differences are kept is not a [`ResourceChange`].
/// - Order: resources in the order of `from`, then the removed ones in the order
///   of `to`; fields in the flatten order of `from`, then the leaves only `to` has,
///   in its order. Kept entries follow the same order.
pub fn diff_file(
    path: &str,
    to: Option<&[Document]>,
    from: Option<&[Document]>,
    pinned: &Pinned,
    plain: bool,
) -> FileDiff {
    let mut diff = FileDiff::default();
    let old = resources(path, to.unwrap_or(&[]), plain);
    let new = resources(path, from.unwrap_or(&[]), plain);
    for (key, old, new) in pair_resources(&old, &new) {
        let (change, fields) = match (old, new) {
            (None, Some(_)) => (Change::Added, Vec::new()),
            (Some(_), None) => (Change::Removed, Vec::new()),
            (Some(old), Some(new)) => {
                let kind = key.kind.as_deref();
                let mut fields = Vec::new();
                for leaf in diff_leaves(old.value, new.value) {
                    if pinned.keeps(path, kind, &leaf.path, leaf.old.as_ref(), leaf.new.as_ref()) {
                        diff.kept.push(Kept {
                            file: path.to_owned(),
                            kind: key.kind.clone(),
                            name: key.name.clone(),
                            path: leaf.path,
                            value: leaf.old.unwrap_or(Json::Null),
                            upstream: leaf.new.unwrap_or(Json::Null),
                        });
                    } else {
                        fields.push(FieldChange {
                            path: leaf.path,
                            from: leaf.old,
                            to: leaf.new,
                        });
                    }
                }
                if fields.is_empty() {
                    continue;
                }
                (Change::Changed, fields)
            }
            (None, None) => continue,
        };
        let api_version = new.or(old).and_then(|r| r.api_version.clone());
        diff.resources.push(ResourceChange {
            file: path.to_owned(),
            api_version,
            kind: key.kind,
            namespace: key.namespace,
            name: key.name,
            change,
            fields,
        });
    }
    diff
}

/// What promoting `from` into `to` changes in one file, judged three-way against
/// their merge base `base`: only what `from` changed since `base` travels with a
/// promotion, so a value that `to` changed on its own (drift) and `from` never
/// touched is not listed as a change (drift is reported apart). `plain` as for
/// [`diff_file`].
///
/// - A changed resource keeps only the fields that `from` changed since `base`
///   (every differing field when `base` lacks the resource).
/// - A resource only in `from` is listed when `from` added it since `base`; one
///   only in `to` when `from` removed it since `base`.
/// - Kept values are those of the two-way diff of `to` and `from`.
pub fn promotion_file(
    path: &str,
    base: Option<&[Document]>,
    to: Option<&[Document]>,
    from: Option<&[Document]>,
    pinned: &Pinned,
    plain: bool,
) -> FileDiff {
    let two = diff_file(path, to, from, pinned, plain);
    let since = diff_file(path, base, from, pinned, plain);
    let mut resources = Vec::new();
    for mut r in two.resources {
        let key = r.key();
        let Some(s) = since.resources.iter().find(|s| s.key() == key) else {
            continue;
        };
        match (r.change, s.change) {
            (Change::Changed, Change::Changed) => {
                r.fields
                    .retain(|f| s.fields.iter().any(|g| g.path == f.path));
                if r.fields.is_empty() {
                    continue;
                }
            }
            (Change::Changed, Change::Added)
            | (Change::Added, Change::Added)
            | (Change::Removed, Change::Removed) => {}
            _ => continue,
        }
        resources.push(r);
    }
    FileDiff {
        resources,
        kept: two.kept,
    }
}

/// One resource of two versions of a file, matched by key; `None` where a
/// version lacks it.
pub(crate) type Pair<'r, 'a> = (
    ResourceKey,
    Option<&'r Resource<'a>>,
    Option<&'r Resource<'a>>,
);

/// The resources of two versions of a file, matched by key (occurrence by
/// occurrence when a key repeats): those of `new` in its order with their `old`
/// match, then those only `old` has, in its order.
pub(crate) fn pair_resources<'r, 'a>(
    old: &'r [Resource<'a>],
    new: &'r [Resource<'a>],
) -> Vec<Pair<'r, 'a>> {
    let mut old: Vec<Option<&Resource<'a>>> = old.iter().map(Some).collect();
    let mut pairs = Vec::new();
    for r in new {
        let matched = old
            .iter_mut()
            .find(|slot| slot.is_some_and(|o| o.key == r.key))
            .and_then(Option::take);
        pairs.push((r.key.clone(), matched, Some(r)));
    }
    pairs.extend(
        old.into_iter()
            .flatten()
            .map(|r| (r.key.clone(), Some(r), None)),
    );
    pairs
}

/// A leaf that differs between two versions of a resource; `None` where a side
/// lacks it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LeafDiff {
    pub path: String,
    pub old: Option<Json>,
    pub new: Option<Json>,
}

/// The leaves of [`flatten`] that differ between `old` and `new`: in the order of
/// `new`, then those only `old` has, in its order. A path that occurs more than
/// once (two list items with the same `name`) is matched occurrence by occurrence.
pub(crate) fn diff_leaves(old: &serde_norway::Value, new: &serde_norway::Value) -> Vec<LeafDiff> {
    let old = flatten(old);
    let new = flatten(new);
    let mut old_at: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (path, _)) in old.iter().enumerate() {
        old_at.entry(path.as_str()).or_default().push(i);
    }
    let mut used = vec![false; old.len()];
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    for (path, value) in &new {
        let nth = seen.entry(path.as_str()).or_default();
        let matched = old_at
            .get(path.as_str())
            .and_then(|ix| ix.get(*nth))
            .copied();
        *nth += 1;
        match matched {
            Some(i) => {
                used[i] = true;
                if old[i].1 != *value {
                    out.push(LeafDiff {
                        path: path.clone(),
                        old: Some(old[i].1.clone()),
                        new: Some(value.clone()),
                    });
                }
            }
            None => out.push(LeafDiff {
                path: path.clone(),
                old: None,
                new: Some(value.clone()),
            }),
        }
    }
    for ((path, value), used) in old.into_iter().zip(used) {
        if !used {
            out.push(LeafDiff {
                path,
                old: Some(value),
                new: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_documents;
    use serde_json::json;

    fn docs(yaml: &str) -> Vec<Document> {
        parse_documents(yaml.as_bytes()).unwrap()
    }

    fn rule(files: &str, keys: &[&str]) -> PinnedRule {
        PinnedRule {
            files: GlobSet::new(&[files.to_owned()]).unwrap(),
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    fn diff(to: Option<&str>, from: Option<&str>, pinned: &Pinned) -> FileDiff {
        let to = to.map(docs);
        let from = from.map(docs);
        diff_file("f.yaml", to.as_deref(), from.as_deref(), pinned, true)
    }

    fn deploy(name: &str, replicas: u32, image: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\n\
             spec:\n  replicas: {replicas}\n  template:\n    spec:\n      containers:\n      \
             - name: web\n        image: {image}\n"
        )
    }

    const SERVICE: &str =
        "apiVersion: v1\nkind: Service\nmetadata: {name: old}\nspec: {port: 80}\n";
    const CONFIGMAP: &str =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new}\ndata: {a: b}\n";

    fn summary(d: &FileDiff) -> Vec<String> {
        d.resources
            .iter()
            .map(|r| format!("{:?} {}", r.change, r.key()))
            .collect()
    }

    #[test]
    fn is_pinned_by_image_field_and_rule_keys() {
        let pinned = Pinned {
            rules: vec![rule(
                "apps/*/values.yaml",
                &["replicaCount", "ingress.host"],
            )],
        };
        let cases: &[(&str, Option<&str>, &str, bool)] = &[
            (
                "x.yaml",
                Some("Deployment"),
                "spec.template.spec.containers[name=web].image",
                true,
            ),
            (
                "x.yaml",
                Some("Deployment"),
                "spec.template.spec.initContainers[0].image",
                true,
            ),
            (
                "x.yaml",
                Some("Deployment"),
                "spec.template.spec.containers[name=web].name",
                false,
            ),
            ("kustomization.yaml", None, "images[name=web].newTag", true),
            (
                "kustomization.yaml",
                Some("Kustomization"),
                "images[name=web].digest",
                true,
            ),
            ("kustomization.yaml", None, "images[name=web].newName", true),
            ("apps/web/values.yaml", None, "replicaCount", true),
            ("apps/web/values.yaml", None, "ingress.host", true),
            ("apps/web/values.yaml", None, "ingress.host[0]", true),
            ("apps/web/values.yaml", None, "ingress.host.name", true),
            ("apps/web/values.yaml", None, "ingress.hostname", false),
            ("apps/web/values.yaml", None, "ingress", false),
            ("apps/web/values.yaml", None, "replicaCountMax", false),
            ("apps/web/other.yaml", None, "replicaCount", false),
        ];
        for &(file, kind, path, want) in cases {
            assert_eq!(pinned.is_pinned(file, kind, path), want, "{file} {path}");
        }
        let whole = Pinned {
            rules: vec![rule("v.yaml", &["ingress"])],
        };
        assert!(whole.is_pinned("v.yaml", None, "ingress.host"));
        assert!(!whole.is_pinned("v.yaml", None, "ingressClass"));
    }

    #[test]
    fn keeps_image_tag_changes_but_not_image_name_changes() {
        let pinned = Pinned::default();
        let deploy = Some("Deployment");
        let image = "spec.template.spec.containers[name=web].image";
        let v = |s: &str| Some(json!(s));
        let digest = format!("reg.io/web@sha256:{}", "ab".repeat(32));
        // (kind, field path, one side, the other side, kept)
        type Case<'a> = (Option<&'a str>, &'a str, Option<Json>, Option<Json>, bool);
        let cases: &[Case] = &[
            (
                deploy,
                image,
                v("reg.io/web:1.0"),
                v("reg.io/web:1.1"),
                true,
            ),
            (deploy, image, v("reg.io/web:1.0"), v(&digest), true),
            (
                deploy,
                image,
                v("reg.io:5000/web:1"),
                v("reg.io:5000/web:2"),
                true,
            ),
            (
                deploy,
                image,
                v("reg.io/web:1.0"),
                v("reg.io/api:1.0"),
                false,
            ),
            (deploy, image, None, v("reg.io/web:1.0"), false),
            (deploy, image, Some(json!(3)), v("reg.io/web:1.0"), false),
            (None, "images[name=web].newTag", v("1.0"), v("1.1"), true),
            (None, "images[name=web].newTag", None, v("1.1"), true),
            (
                None,
                "images[name=web].digest",
                v("sha256:a"),
                v("sha256:b"),
                true,
            ),
            (
                None,
                "images[name=web].newName",
                v("reg.io/web"),
                v("reg.io/api"),
                false,
            ),
            (
                deploy,
                "spec.replicas",
                Some(json!(1)),
                Some(json!(2)),
                false,
            ),
        ];
        for (kind, path, a, b, want) in cases {
            let got = pinned.keeps("k.yaml", *kind, path, a.as_ref(), b.as_ref());
            assert_eq!(got, *want, "{path} {a:?} {b:?}");
        }
    }

    #[test]
    fn added_removed_and_changed_resources_in_order() {
        let to = format!("{}---\n{SERVICE}", deploy("web", 1, "web:1"));
        let from = format!("{}---\n{CONFIGMAP}", deploy("web", 3, "web:1"));
        let d = diff(Some(&to), Some(&from), &Pinned::default());
        assert_eq!(
            summary(&d),
            [
                "Changed Deployment/shop/web",
                "Added ConfigMap/new",
                "Removed Service/old"
            ]
        );
        assert_eq!(
            d.resources[0].fields,
            [FieldChange {
                path: "spec.replicas".into(),
                from: Some(json!(1)),
                to: Some(json!(3)),
            }]
        );
        assert!(d.resources[1].fields.is_empty());
        assert!(d.resources[2].fields.is_empty());
        assert_eq!(d.resources[0].api_version.as_deref(), Some("apps/v1"));
        assert_eq!(d.resources[0].namespace.as_deref(), Some("shop"));
        assert!(d.kept.is_empty());
    }

    #[test]
    fn absent_files_add_or_remove_every_resource() {
        let file = format!("{}---\n{SERVICE}", deploy("web", 1, "web:1"));
        let cases: &[(Option<&str>, Option<&str>, &[&str])] = &[
            (
                None,
                Some(&file),
                &["Added Deployment/shop/web", "Added Service/old"],
            ),
            (
                Some(&file),
                None,
                &["Removed Deployment/shop/web", "Removed Service/old"],
            ),
            (None, None, &[]),
            (Some(&file), Some(&file), &[]),
        ];
        for (to, from, want) in cases {
            let d = diff(*to, *from, &Pinned::default());
            assert_eq!(summary(&d), *want);
            assert!(d.kept.is_empty(), "added resources keep nothing");
        }
    }

    #[test]
    fn field_paths_present_on_one_side_only() {
        let to = "a: 1\nold: x\nlist: [1, 2, 3]\nsame: s\n";
        let from = "a: 2\nlist: [1, 2]\nnew: {k: v}\nsame: s\n";
        let d = diff(Some(to), Some(from), &Pinned::default());
        assert_eq!(summary(&d), ["Changed f.yaml"]);
        let fields: Vec<_> = d.resources[0]
            .fields
            .iter()
            .map(|f| (f.path.as_str(), f.from.clone(), f.to.clone()))
            .collect();
        assert_eq!(
            fields,
            [
                ("a", Some(json!(1)), Some(json!(2))),
                ("new.k", None, Some(json!("v"))),
                ("old", Some(json!("x")), None),
                ("list[2]", Some(json!(3)), None),
            ]
        );
    }

    #[test]
    fn image_tags_are_kept_and_a_tag_only_resource_is_not_a_change() {
        let d = diff(
            Some(&deploy("web", 1, "reg.io/web:1.0")),
            Some(&deploy("web", 1, "reg.io/web:1.1")),
            &Pinned::default(),
        );
        assert!(d.resources.is_empty());
        assert_eq!(
            d.kept,
            [Kept {
                file: "f.yaml".into(),
                kind: Some("Deployment".into()),
                name: "web".into(),
                path: "spec.template.spec.containers[name=web].image".into(),
                value: json!("reg.io/web:1.0"),
                upstream: json!("reg.io/web:1.1"),
            }]
        );

        // A tag change alongside a real change: the resource changes, the tag is kept.
        let d = diff(
            Some(&deploy("web", 1, "reg.io/web:1.0")),
            Some(&deploy("web", 2, "reg.io/web:1.1")),
            &Pinned::default(),
        );
        assert_eq!(summary(&d), ["Changed Deployment/shop/web"]);
        assert_eq!(d.resources[0].fields.len(), 1);
        assert_eq!(d.kept.len(), 1);
    }

    #[test]
    fn an_image_name_change_is_a_real_change() {
        let d = diff(
            Some(&deploy("web", 1, "reg.io/web:1.0")),
            Some(&deploy("web", 1, "reg.io/web-v2:1.0")),
            &Pinned::default(),
        );
        assert!(d.kept.is_empty());
        assert_eq!(
            d.resources[0].fields,
            [FieldChange {
                path: "spec.template.spec.containers[name=web].image".into(),
                from: Some(json!("reg.io/web:1.0")),
                to: Some(json!("reg.io/web-v2:1.0")),
            }]
        );
    }

    #[test]
    fn pinned_rule_keys_are_kept_only_in_matching_files() {
        let pinned = Pinned {
            rules: vec![rule("apps/*/values.yaml", &["replicaCount"])],
        };
        let to = docs("replicaCount: 3\nimage: {tag: '1.0'}\n");
        let from = docs("replicaCount: 1\nimage: {tag: '1.0'}\n");
        let d = diff_file(
            "apps/web/values.yaml",
            Some(&to),
            Some(&from),
            &pinned,
            true,
        );
        assert!(d.resources.is_empty());
        assert_eq!(d.kept.len(), 1);
        assert_eq!(
            (d.kept[0].value.clone(), d.kept[0].upstream.clone()),
            (json!(3), json!(1))
        );
        assert_eq!(d.kept[0].name, "apps/web/values.yaml");

        let d = diff_file("apps/web/other.yaml", Some(&to), Some(&from), &pinned, true);
        assert!(d.kept.is_empty());
        assert_eq!(d.resources.len(), 1);
        assert_eq!(d.resources[0].fields[0].path, "replicaCount");

        // A pinned key the source lacks is kept, the missing side as null.
        let from = docs("image: {tag: '1.0'}\n");
        let d = diff_file(
            "apps/web/values.yaml",
            Some(&to),
            Some(&from),
            &pinned,
            true,
        );
        assert!(d.resources.is_empty());
        assert_eq!(d.kept[0].upstream, Json::Null);
    }

    #[test]
    fn resources_are_matched_by_group_kind_namespace_and_name() {
        let hpa = |api: &str, max: u32| {
            format!("apiVersion: {api}\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web}}\nspec: {{maxReplicas: {max}}}\n")
        };
        let ingress =
            |api: &str| format!("apiVersion: {api}\nkind: Ingress\nmetadata: {{name: web}}\n");
        let cm = |x: u32| {
            format!(
                "{{apiVersion: v1, kind: ConfigMap, metadata: {{name: a}}, data: {{x: '{x}'}}}}"
            )
        };
        let list = |x: u32| format!("apiVersion: v1\nkind: List\nitems:\n- {}\n", cm(x));
        let workflow = |on: &str| format!("name: ci\non: {on}\njobs: {{}}\n");
        type Case<'a> = (
            &'a str,
            String,
            String,
            bool,
            &'a [&'a str],
            Vec<(&'a str, Json, Json)>,
        );
        // (path, to, from, plain, resources as "change key api_version", fields of the first)
        let cases: Vec<Case> = vec![
            (
                "hpa.yaml",
                hpa("autoscaling/v2beta2", 3),
                hpa("autoscaling/v2", 5),
                false,
                &["Changed HorizontalPodAutoscaler/web autoscaling/v2"],
                vec![
                    (
                        "apiVersion",
                        json!("autoscaling/v2beta2"),
                        json!("autoscaling/v2"),
                    ),
                    ("spec.maxReplicas", json!(3), json!(5)),
                ],
            ),
            (
                "deploy.yaml",
                deploy("web", 1, "web:1").replace("apps/v1", "apps/v1beta2"),
                deploy("web", 1, "web:1"),
                false,
                &["Changed Deployment/shop/web apps/v1"],
                vec![("apiVersion", json!("apps/v1beta2"), json!("apps/v1"))],
            ),
            // Another API group is another resource; a removed one shows its old version.
            (
                "ingress.yaml",
                ingress("extensions/v1beta1"),
                ingress("networking.k8s.io/v1"),
                false,
                &[
                    "Added Ingress/web networking.k8s.io/v1",
                    "Removed Ingress/web extensions/v1beta1",
                ],
                vec![],
            ),
            // Not resources unless the caller says the file holds plain values.
            (
                ".github/workflows/ci.yaml",
                workflow("push"),
                workflow("pull_request"),
                false,
                &[],
                vec![],
            ),
            (
                "values.yaml",
                workflow("push"),
                workflow("pull_request"),
                true,
                &["Changed values.yaml -"],
                vec![("on", json!("push"), json!("pull_request"))],
            ),
            // A List item is a resource of its own, whether in a List or not.
            (
                "list.yaml",
                list(1),
                list(2),
                false,
                &["Changed ConfigMap/a v1"],
                vec![("data.x", json!("1"), json!("2"))],
            ),
            (
                "list.yaml",
                list(1),
                format!("{}\n", cm(1)),
                false,
                &[],
                vec![],
            ),
        ];
        for (path, to, from, plain, want, fields) in cases {
            let (to, from) = (docs(&to), docs(&from));
            let d = diff_file(path, Some(&to), Some(&from), &Pinned::default(), plain);
            let got: Vec<String> = d
                .resources
                .iter()
                .map(|r| {
                    let api = r.api_version.as_deref().unwrap_or("-");
                    format!("{:?} {} {api}", r.change, r.key())
                })
                .collect();
            assert_eq!(got, want, "{path}");
            let want_fields: Vec<FieldChange> = fields
                .iter()
                .map(|(p, a, b)| FieldChange {
                    path: (*p).into(),
                    from: Some(a.clone()),
                    to: Some(b.clone()),
                })
                .collect();
            let got_fields = d
                .resources
                .first()
                .map(|r| r.fields.clone())
                .unwrap_or_default();
            assert_eq!(got_fields, want_fields, "{path}");
        }
    }

    #[test]
    fn resources_match_across_document_reordering() {
        let a = deploy("a", 1, "a:1");
        let b = deploy("b", 1, "b:1");
        let d = diff(
            Some(&format!("{a}---\n{b}---\n{SERVICE}")),
            Some(&format!("{SERVICE}---\n{b}---\n{a}")),
            &Pinned::default(),
        );
        assert_eq!(d, FileDiff::default());
    }

    #[test]
    fn a_different_namespace_is_a_different_resource() {
        let to = deploy("web", 1, "web:1");
        let from = to.replace("namespace: shop", "namespace: shop-v2");
        let d = diff(Some(&to), Some(&from), &Pinned::default());
        assert_eq!(
            summary(&d),
            [
                "Added Deployment/shop-v2/web",
                "Removed Deployment/shop/web"
            ]
        );
    }

    #[test]
    fn repeated_keys_and_paths_match_occurrence_by_occurrence() {
        let to = "env:\n- {name: A, value: '1'}\n- {name: A, value: '2'}\n";
        let from = "env:\n- {name: A, value: '1'}\n- {name: A, value: '3'}\n";
        let d = diff(Some(to), Some(from), &Pinned::default());
        assert_eq!(
            d.resources[0].fields,
            [FieldChange {
                path: "env[name=A].value".into(),
                from: Some(json!("2")),
                to: Some(json!("3")),
            }]
        );
    }

    #[test]
    fn serializes_with_lowercase_changes_and_snake_case_fields() {
        let d = diff(
            Some("a: 1\n"),
            Some(&format!("{CONFIGMAP}---\na: 2\n")),
            &Pinned::default(),
        );
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json,
            json!({
                "resources": [
                    {"file": "f.yaml", "api_version": "v1", "kind": "ConfigMap", "namespace": null,
                     "name": "new", "change": "added", "fields": []},
                    {"file": "f.yaml", "api_version": null, "kind": null, "namespace": null,
                     "name": "f.yaml#1", "change": "added", "fields": []},
                    {"file": "f.yaml", "api_version": null, "kind": null, "namespace": null,
                     "name": "f.yaml", "change": "removed", "fields": []},
                ],
                "kept": [],
            })
        );
        let field = FieldChange {
            path: "a".into(),
            from: None,
            to: Some(Json::Null),
        };
        assert_eq!(
            serde_json::to_value(&field).unwrap(),
            json!({"path": "a", "to": null})
        );
    }

    #[test]
    fn promotion_keeps_only_what_the_source_changed_since_the_merge_base() {
        let doc = |replicas: u32, extra: &str| {
            parse_documents(
                format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n{extra}")
                    .as_bytes(),
            )
            .unwrap()
        };
        let base = doc(1, "");
        // The source raised replicas; the target carries a hotfix the source lacks.
        let from = doc(2, "");
        let to = doc(1, "  paused: true\n");
        let d = promotion_file(
            "a.yaml",
            Some(&base),
            Some(&to),
            Some(&from),
            &Pinned::default(),
            false,
        );
        assert_eq!(d.resources.len(), 1);
        let paths: Vec<_> = d.resources[0]
            .fields
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(paths, ["spec.replicas"]);
        // Only the hotfix differs: nothing travels.
        let d = promotion_file(
            "a.yaml",
            Some(&base),
            Some(&to),
            Some(&base),
            &Pinned::default(),
            false,
        );
        assert!(d.resources.is_empty());
        // A resource the target deleted on its own is not re-added by promotion.
        let d = promotion_file(
            "a.yaml",
            Some(&base),
            None,
            Some(&base),
            &Pinned::default(),
            false,
        );
        assert!(d.resources.is_empty());
        // A resource the source added is.
        let d = promotion_file("a.yaml", None, None, Some(&from), &Pinned::default(), false);
        assert_eq!(d.resources[0].change, Change::Added);
    }
}
