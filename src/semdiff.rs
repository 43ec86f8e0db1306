//! The semantic diff of manifests: what promoting one environment into the next
//! would change, resource by resource and field by field, and which of the target
//! environment's pinned values (image tags, per-environment keys) it keeps.
//!
//! Pure: parsed files in, plain data out. Rendering is done elsewhere.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value as Json;

use crate::glob::GlobSet;
use crate::image::{same_image, ImagePatterns, ImageRef};
use crate::images::is_image_field;
use crate::manifest::{flatten, resource_key, Document, ResourceKey};

/// Values pinned per environment in the files matching `files`: each key is a dot
/// path (`replicaCount`, `ingress.host`) and pins that field and everything under it.
#[derive(Debug, Clone)]
pub struct PinnedRule {
    pub files: GlobSet,
    pub keys: Vec<String>,
}

/// What an environment keeps when its upstream is promoted into it: the tags of
/// the team's images, plus the keys of its rules.
#[derive(Debug, Clone, Default)]
pub struct Pinned {
    pub rules: Vec<PinnedRule>,
    /// The team's images (`.gitops.yaml`'s `images:`): only their tags are
    /// pinned; any other image's tag travels with promotions like any value.
    /// `None` (no `images:` key): every image is the team's.
    pub team: Option<ImagePatterns>,
}

impl Pinned {
    /// True when the field is pinned: an image field (`crate::images::is_image_field`,
    /// image tags are pinned per environment), or a field of a file matching a rule's
    /// glob whose path equals one of the rule's keys or lies under it (key `ingress`
    /// pins `ingress.host`; key `ingress.host` pins `ingress.host` and
    /// `ingress.host[0]`, not `ingress.hostname`).
    ///
    /// This looks at the path only; whether a given difference is kept also
    /// depends on the values and on whether the image is the team's, see
    /// [`Pinned::keeps`].
    pub fn is_pinned(&self, file: &str, kind: Option<&str>, field_path: &str) -> bool {
        is_image_field(kind, field_path) || self.rule_pins(file, field_path)
    }

    /// True when the difference between `a` and `b` at this field is one the
    /// environment keeps rather than a real change: the field is pinned
    /// ([`Pinned::is_pinned`]) and, when it is pinned only for being a full image
    /// reference (a field named `image`, such as `containers[name=web].image`),
    /// both values are image references naming the same image
    /// ([`crate::image::same_image`]: `redis` is `docker.io/library/redis`), so
    /// they differ by tag or digest only. A different image name, or an image on
    /// one side only, is a real change, and so is any difference in a
    /// kustomization's `newName`. Tag-only image fields (a kustomization's
    /// `newTag`, `digest`, `tagSuffix`) and rule keys are kept whatever the
    /// values, a side's absence included.
    ///
    /// An image field is kept only for one of the team's images ([`Pinned::team`];
    /// for a kustomization entry, the image its `name` names): a third-party
    /// image's tag change is a real change and travels.
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
            Some("image") => match same_image_name(a, b) {
                Some(name) => self.is_team_image(&name),
                None => false,
            },
            Some("newName") => false,
            _ => kustomize_entry_name(field_path).is_none_or(|name| self.is_team_image(name)),
        }
    }

    /// Whether an image (name without tag) is one of the team's: always without
    /// a `team` list.
    pub fn is_team_image(&self, name: &str) -> bool {
        self.team.as_ref().is_none_or(|team| team.is_match(name))
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

/// The name, when both values are references to the same image.
fn same_image_name(a: Option<&Json>, b: Option<&Json>) -> Option<String> {
    match (a, b) {
        (Some(Json::String(a)), Some(Json::String(b))) => {
            match (ImageRef::parse(a), ImageRef::parse(b)) {
                (Ok(a), Ok(b)) if same_image(&a.name, &b.name) => Some(a.name),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The `name` of the kustomization entry a field path such as
/// `images[name=redis].newTag` lies in.
fn kustomize_entry_name(field_path: &str) -> Option<&str> {
    let rest = field_path.strip_prefix("images[name=")?;
    let (name, _) = rest.rsplit_once("].")?;
    Some(name)
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
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: String,
    pub change: Change,
    pub fields: Vec<FieldChange>,
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
/// - Resources are matched by [`resource_key`] (apiVersion, kind, namespace, name)
///   within the file, whatever their document order; a key that occurs more than
///   once is matched occurrence by occurrence.
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
) -> FileDiff {
    let mut diff = FileDiff::default();
    for (key, old, new) in pair_resources(path, to.unwrap_or(&[]), from.unwrap_or(&[])) {
        let change = match (old, new) {
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (Some(old), Some(new)) => {
                let kind = key.kind.as_deref();
                let mut fields = Vec::new();
                for leaf in diff_leaves(&old.value, &new.value) {
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
                diff.resources
                    .push(resource_change(path, key, Change::Changed, fields));
                continue;
            }
            (None, None) => continue,
        };
        diff.resources
            .push(resource_change(path, key, change, Vec::new()));
    }
    diff
}

/// What promoting `from` into `to` changes in one file, judged three-way against
/// their merge base `base`: only what `from` changed since `base` travels with a
/// promotion, so a value that `to` changed on its own (drift) and `from` never
/// touched is not listed as a change (drift is reported apart).
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
) -> FileDiff {
    let two = diff_file(path, to, from, pinned);
    let since = diff_file(path, base, from, pinned);
    let same = |a: &ResourceChange, b: &ResourceChange| {
        a.api_version == b.api_version
            && a.kind == b.kind
            && a.namespace == b.namespace
            && a.name == b.name
    };
    let mut resources = Vec::new();
    for mut r in two.resources {
        let Some(s) = since.resources.iter().find(|s| same(s, &r)) else {
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

fn resource_change(
    file: &str,
    key: ResourceKey,
    change: Change,
    fields: Vec<FieldChange>,
) -> ResourceChange {
    ResourceChange {
        file: file.to_owned(),
        api_version: key.api_version,
        kind: key.kind,
        namespace: key.namespace,
        name: key.name,
        change,
        fields,
    }
}

/// The resources of two versions of the file at `path`, matched by key
/// (occurrence by occurrence when a key repeats): those of `new` in its order with
/// their `old` match, then those only `old` has, in its order.
pub(crate) fn pair_resources<'a>(
    path: &str,
    old: &'a [Document],
    new: &'a [Document],
) -> Vec<(ResourceKey, Option<&'a Document>, Option<&'a Document>)> {
    let mut old: Vec<Option<(ResourceKey, &Document)>> = old
        .iter()
        .map(|doc| Some((resource_key(path, doc), doc)))
        .collect();
    let mut pairs = Vec::new();
    for doc in new {
        let key = resource_key(path, doc);
        let matched = old
            .iter_mut()
            .find(|slot| slot.as_ref().is_some_and(|(k, _)| *k == key))
            .and_then(Option::take)
            .map(|(_, d)| d);
        pairs.push((key, matched, Some(doc)));
    }
    pairs.extend(
        old.into_iter()
            .flatten()
            .map(|(key, doc)| (key, Some(doc), None)),
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
        diff_file("f.yaml", to.as_deref(), from.as_deref(), pinned)
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
            .map(|r| {
                let key = ResourceKey {
                    api_version: r.api_version.clone(),
                    kind: r.kind.clone(),
                    namespace: r.namespace.clone(),
                    name: r.name.clone(),
                };
                format!("{:?} {key}", r.change)
            })
            .collect()
    }

    #[test]
    fn is_pinned_by_image_field_and_rule_keys() {
        let pinned = Pinned {
            rules: vec![rule(
                "apps/*/values.yaml",
                &["replicaCount", "ingress.host"],
            )],
            ..Pinned::default()
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
            ..Pinned::default()
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
    fn only_the_team_images_tags_are_kept() {
        let team = Pinned {
            team: Some(ImagePatterns::new(&["registry.example.com/shop/*".to_owned()]).unwrap()),
            ..Pinned::default()
        };
        let everyone = Pinned::default();
        let image = "spec.template.spec.containers[name=web].image";
        let rollout = "items[0].spec.template.spec.containers[name=web].image";
        let v = |s: &str| Some(json!(s));
        // (kind, field path, one side, the other side, kept with `team`, kept without)
        type Case<'a> = (
            Option<&'a str>,
            &'a str,
            Option<Json>,
            Option<Json>,
            bool,
            bool,
        );
        let cases: &[Case] = &[
            (
                Some("Deployment"),
                image,
                v("registry.example.com/shop/web:1.0"),
                v("registry.example.com/shop/web:1.1"),
                true,
                true,
            ),
            (
                Some("Deployment"),
                image,
                v("redis:7.2.4"),
                v("redis:7.2.5"),
                false,
                true,
            ),
            // One image, written two ways: a tag change all the same.
            (
                Some("Deployment"),
                image,
                v("redis:7.2.4"),
                v("docker.io/library/redis:7.2.5"),
                false,
                true,
            ),
            (
                Some("List"),
                rollout,
                v("registry.example.com/shop/web:1.0"),
                v("registry.example.com/shop/web:1.1"),
                true,
                true,
            ),
            (
                Some("Rollout"),
                image,
                v("busybox:1.36"),
                v("busybox:1.37"),
                false,
                true,
            ),
            (
                None,
                "images[name=registry.example.com/shop/web].newTag",
                v("1.0"),
                v("1.1"),
                true,
                true,
            ),
            (
                None,
                "images[name=redis].newTag",
                v("7.2.4"),
                v("7.2.5"),
                false,
                true,
            ),
            (
                None,
                "images[name=redis].tagSuffix",
                v("-a"),
                v("-b"),
                false,
                true,
            ),
        ];
        for (kind, path, a, b, with_team, without) in cases {
            let got = team.keeps("k.yaml", *kind, path, a.as_ref(), b.as_ref());
            assert_eq!(got, *with_team, "team: {path} {a:?} {b:?}");
            let got = everyone.keeps("k.yaml", *kind, path, a.as_ref(), b.as_ref());
            assert_eq!(got, *without, "no images list: {path} {a:?} {b:?}");
        }
        assert!(team.is_team_image("registry.example.com/shop/cart"));
        assert!(!team.is_team_image("redis"));
        assert!(everyone.is_team_image("redis"));
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
            ..Pinned::default()
        };
        let to = docs("replicaCount: 3\nimage: {tag: '1.0'}\n");
        let from = docs("replicaCount: 1\nimage: {tag: '1.0'}\n");
        let d = diff_file("apps/web/values.yaml", Some(&to), Some(&from), &pinned);
        assert!(d.resources.is_empty());
        assert_eq!(d.kept.len(), 1);
        assert_eq!(
            (d.kept[0].value.clone(), d.kept[0].upstream.clone()),
            (json!(3), json!(1))
        );
        assert_eq!(d.kept[0].name, "apps/web/values.yaml");

        let d = diff_file("apps/web/other.yaml", Some(&to), Some(&from), &pinned);
        assert!(d.kept.is_empty());
        assert_eq!(d.resources.len(), 1);
        assert_eq!(d.resources[0].fields[0].path, "replicaCount");

        // A pinned key the source lacks is kept, the missing side as null.
        let from = docs("image: {tag: '1.0'}\n");
        let d = diff_file("apps/web/values.yaml", Some(&to), Some(&from), &pinned);
        assert!(d.resources.is_empty());
        assert_eq!(d.kept[0].upstream, Json::Null);
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
        );
        assert!(d.resources.is_empty());
        // A resource the target deleted on its own is not re-added by promotion.
        let d = promotion_file("a.yaml", Some(&base), None, Some(&base), &Pinned::default());
        assert!(d.resources.is_empty());
        // A resource the source added is.
        let d = promotion_file("a.yaml", None, None, Some(&from), &Pinned::default());
        assert_eq!(d.resources[0].change, Change::Added);
    }
}
