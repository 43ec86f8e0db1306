//! The semantic diff of manifests: what promoting one environment into the next
//! would change, resource by resource and field by field, and which of the target
//! environment's pinned values (image tags, per-environment keys) it keeps.
//!
//! Pure: parsed files in, plain data out. Rendering is done elsewhere.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as Json;

use crate::config::glob::GlobSet;
use crate::model::image::{same_image, ImagePatterns, ImageRef};
use crate::model::images::is_image_field;
use yaml_serde::Value;

use crate::model::manifest::{
    api_group, flatten, item_address, item_name, key_text, resources, to_json, untag, Document,
    Resource, ResourceKey,
};

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
    /// True when the field is pinned: an image field (`crate::model::images::is_image_field`,
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
    /// ([`crate::model::image::same_image`]: `redis` is `docker.io/library/redis`), so
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
            _ => match kustomize_entry_name(field_path) {
                Some(name) => self.is_team_image(name),
                None => self.team.is_none(),
            },
        }
    }

    /// Pins nothing: every difference is a change. What a promotion's plan
    /// compares the target with the built tree by — what merges is what it lists.
    pub fn nothing() -> Pinned {
        Pinned {
            rules: Vec::new(),
            team: Some(ImagePatterns::new(&[]).expect("an empty list of patterns")),
        }
    }

    /// Whether an image (name without tag) is one of the team's: always without
    /// a `team` list.
    pub fn is_team_image(&self, name: &str) -> bool {
        self.team.as_ref().is_none_or(|team| team.is_match(name))
    }

    /// Whether a rule of the config pins `field_path` in `file` ([`key_pins`]).
    pub fn rule_pins(&self, file: &str, field_path: &str) -> bool {
        self.rules.iter().any(|rule| {
            rule.keys.iter().any(|key| key_pins(key, field_path)) && rule.files.is_match(file)
        })
    }
}

/// Whether `path` (flatten's notation) is `key` or lies under it. A key is a dot
/// path from the document's root (`image.tag` pins that field only, never
/// `redis.tag`); a `*` part matches any one field (`*.image.tag` pins the
/// `image.tag` of every top-level entry) and `**` any number of them.
pub fn key_pins(key: &str, path: &str) -> bool {
    let key: Vec<&str> = key.split('.').filter(|s| !s.is_empty()).collect();
    let path: Vec<&str> = split_path(path);
    !key.is_empty() && prefix_match(&key, &path)
}

fn split_path(path: &str) -> Vec<&str> {
    // Dots inside `[name=a.b]` do not split.
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in path.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&path[start..]);
    out
}

fn prefix_match(key: &[&str], path: &[&str]) -> bool {
    let Some((first, rest)) = key.split_first() else {
        return true;
    };
    if *first == "**" {
        return (0..=path.len()).any(|skip| prefix_match(rest, &path[skip..]));
    }
    let Some((segment, path_rest)) = path.split_first() else {
        return false;
    };
    let field = segment.split('[').next().unwrap_or(segment);
    let matches = *first == "*" || *first == *segment || *first == field;
    // `env[name=X]` is matched by `env` only as the key's last part (the whole list).
    let whole = *first == *segment || *first == "*" || rest.is_empty();
    matches && whole && prefix_match(rest, path_rest)
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only the source has it: promotion creates it.
    Added,
    /// Only the target has it: promotion deletes it.
    Removed,
    /// Both have it, with differing (unpinned) fields.
    Changed,
}

/// One field that promotion changes: a leaf, or a whole list item or mapping key
/// that one side lacks (`env[name=X]`, the whole item as a JSON object). `from`
/// is the value the target environment has now, `to` the value it has after
/// promotion; a side that lacks the field is `None`, and is left out of the JSON
/// (a JSON `null` is a YAML null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "present"
    )]
    pub from: Option<Json>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "present"
    )]
    pub to: Option<Json>,
}

/// Reads a value that is left out of the JSON when absent: a field that is there
/// is `Some`, even a JSON `null` (which is a YAML null, not a missing side). Use
/// with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

/// One resource that promotion adds, removes or changes. `fields` lists the
/// changed fields of a `changed` resource and is empty for `added` and `removed`
/// ones (the whole resource is the change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// For an added resource, the images it runs (`name:tag` as written): what
    /// the new workload will run is part of what a reviewer approves.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub images: Vec<String>,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    pub file: String,
    pub kind: Option<String>,
    pub name: String,
    pub path: String,
    pub value: Json,
    pub upstream: Json,
}

/// The semantic diff of one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
/// - A resource in both is compared structurally (`diff_values`): a leaf whose
///   value differs, or a whole list item or mapping key that one side lacks (one
///   change, the whole subtree its value), list items matched by `name` or else
///   aligned by value. Each difference is a [`FieldChange`] unless it is kept
///   ([`Pinned::keeps`]: a pinned field, an image differing by tag or digest
///   only), which gives a [`Kept`] entry instead. A resource whose only
///   differences are kept is not a [`ResourceChange`].
/// - Order: resources in the order of `from`, then the removed ones in the order
///   of `to`; fields in the document order of `from`, then the removals (what
///   only `to` has). Kept entries follow the same order.
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
                let keeps = |field: &str, a: Option<&Json>, b: Option<&Json>| {
                    pinned.keeps(path, kind, field, a, b)
                };
                for leaf in diff_values(old.value, new.value, &keeps) {
                    if keeps(&leaf.path, leaf.old.as_ref(), leaf.new.as_ref()) {
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
        let images = match (change, new) {
            (Change::Added, Some(new)) => crate::model::images::images(new.value)
                .into_iter()
                .map(|u| u.image.to_string())
                .collect(),
            _ => Vec::new(),
        };
        diff.resources.push(ResourceChange {
            file: path.to_owned(),
            api_version,
            kind: key.kind,
            namespace: key.namespace,
            name: key.name,
            change,
            fields,
            images,
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
///   (every differing field when `base` lacks the resource): those whose path
///   overlaps a path `from` changed (the same path, or one under the
///   other: `from` added `env[name=X]`, `to` has another `env[name=X].value`).
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
    promotion_of(two, since)
}

/// [`promotion_file`] from its two comparisons: `two`, the diff of `to` and
/// `from`, and `since`, that of `base` and `from`.
pub fn promotion_of(two: FileDiff, since: FileDiff) -> FileDiff {
    // The first change of each resource since the base.
    let mut since_by_key: HashMap<ResourceKey, &ResourceChange> = HashMap::new();
    for s in &since.resources {
        since_by_key.entry(s.key()).or_insert(s);
    }
    let mut resources = Vec::new();
    for mut r in two.resources {
        let Some(s) = since_by_key.get(&r.key()) else {
            continue;
        };
        match (r.change, s.change) {
            (Change::Changed, Change::Changed) => {
                r.fields
                    .retain(|f| s.fields.iter().any(|g| overlaps(&g.path, &f.path)));
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

/// Two field paths overlap when they are equal or one lies under the other:
/// `spec` and `spec.replicas`, `env[name=X]` and `env[name=X].value`; `""`, the
/// whole resource, overlaps every path.
pub(crate) fn overlaps(a: &str, b: &str) -> bool {
    fn under(path: &str, top: &str) -> bool {
        top.is_empty()
            || path.strip_prefix(top).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')
            })
    }
    under(a, b) || under(b, a)
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
    // Each key's resources in `old`, in order; taken from the front.
    let mut by_key: HashMap<&ResourceKey, std::collections::VecDeque<usize>> = HashMap::new();
    for (i, r) in old.iter().enumerate() {
        by_key.entry(&r.key).or_default().push_back(i);
    }
    let mut taken = vec![false; old.len()];
    let mut pairs = Vec::with_capacity(new.len());
    for r in new {
        let matched = by_key.get_mut(&r.key).and_then(|queue| queue.pop_front());
        if let Some(i) = matched {
            taken[i] = true;
        }
        pairs.push((r.key.clone(), matched.map(|i| &old[i]), Some(r)));
    }
    pairs.extend(
        old.iter()
            .zip(taken)
            .filter(|(_, taken)| !taken)
            .map(|(r, _)| (r.key.clone(), Some(r), None)),
    );
    pairs
}

/// A difference between two versions of a resource at one field path: a leaf
/// whose value differs, or a whole mapping key or list item that one side lacks
/// (the whole subtree as the value); `None` where a side lacks it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LeafDiff {
    pub path: String,
    pub old: Option<Json>,
    pub new: Option<Json>,
}

/// Whether the difference between two values at a field path is one the
/// environment keeps (`Pinned::keeps` for a file and kind): the path, the old
/// value, the new value.
pub(crate) type Keeps<'k> = dyn Fn(&str, Option<&Json>, Option<&Json>) -> bool + 'k;

/// Most cells the list alignment may fill (old items × new items, after the
/// common ends are set aside); longer lists are paired position by position.
const ALIGN_CELLS: usize = 1 << 22;

/// The differences between two versions of a resource, structurally, with paths
/// in [`flatten`]'s notation:
///
/// - Mappings are compared key by key. A key only one side has is one
///   difference at its path, with the whole subtree as the value
///   (`ingress: (absent) → {"host": …}`).
/// - Lists: items with a string `name` are matched by name, whatever their
///   order (`env[name=X]`; a name that repeats, occurrence by occurrence). The
///   other items are aligned by value, as a longest common subsequence, so that
///   inserting or removing an item is one difference at that item's path, with
///   the whole item as the value, and the items after it do not shift; an item
///   that differs at the same aligned place is compared field by field. Items
///   are addressed by index (`args[2]`): the index in `new`, or in `old` for a
///   removed item. No other key than `name` identifies an item: container ports
///   and volume mounts are aligned by value too, which handles insertions and
///   removals, while a changed port number shows as that field's change.
/// - Anything else (scalars, or a mapping on one side and a scalar or list on
///   the other) is one difference when the values differ.
///
/// A subtree that one side lacks is split into its keys or items, recursively,
/// when it holds a leaf that `keeps` would keep on its own (a pinned key under
/// it, a kustomization `newTag`) and `keeps` does not keep the subtree as a
/// whole: the kept leaves then stand alone and the rest stays as coarse as it
/// can. `keeps` is only asked about those splits: the caller still decides what
/// each difference is.
///
/// Order: the differences in `new`'s document order, then the ones only `old`
/// has (removed keys and items), in the order they were met.
pub(crate) fn diff_values(old: &Value, new: &Value, keeps: &Keeps<'_>) -> Vec<LeafDiff> {
    // The very same value: a document whose text both versions share, read
    // once (`crate::model::manifest::DocCache`).
    if std::ptr::eq(old, new) {
        return Vec::new();
    }
    let mut walk = Walk {
        keeps,
        changed: Vec::new(),
        removed: Vec::new(),
    };
    walk.node(String::new(), old, new);
    let Walk {
        mut changed,
        removed,
        ..
    } = walk;
    changed.extend(removed);
    changed
}

struct Walk<'k> {
    keeps: &'k Keeps<'k>,
    changed: Vec<LeafDiff>,
    removed: Vec<LeafDiff>,
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// One step of a list alignment: indexes into the old and the new list.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Same(usize, usize),
    Pair(usize, usize),
    Added(usize),
    Removed(usize),
}

impl Walk<'_> {
    fn node(&mut self, path: String, old: &Value, new: &Value) {
        match (untag(old), untag(new)) {
            (Value::Mapping(a), Value::Mapping(b)) => {
                for (k, vb) in b {
                    let p = join(&path, &key_text(k));
                    match a.get(k) {
                        Some(va) => self.node(p, va, vb),
                        None => self.one_side(p, None, Some(vb)),
                    }
                }
                for (k, va) in a {
                    if !b.contains_key(k) {
                        self.one_side(join(&path, &key_text(k)), Some(va), None);
                    }
                }
            }
            (Value::Sequence(a), Value::Sequence(b)) => self.sequence(&path, a, b),
            (a, b) => {
                let (a, b) = (to_json(a), to_json(b));
                if a != b {
                    self.changed.push(LeafDiff {
                        path,
                        old: Some(a),
                        new: Some(b),
                    });
                }
            }
        }
    }

    /// A subtree only one side has: one difference, or its parts (see
    /// [`diff_values`] on splitting).
    fn one_side(&mut self, path: String, old: Option<&Value>, new: Option<&Value>) {
        let Some(value) = old.or(new) else {
            return;
        };
        let removed = old.is_some();
        let (o, n) = sides(removed, to_json(value));
        if !(self.keeps)(&path, o.as_ref(), n.as_ref()) {
            let mut leaves = Vec::new();
            flatten_at(value, &path, &mut leaves);
            let split = leaves.into_iter().any(|(leaf, v)| {
                let (o, n) = sides(removed, v);
                leaf != path && (self.keeps)(&leaf, o.as_ref(), n.as_ref())
            });
            if split {
                match untag(value) {
                    Value::Mapping(map) => {
                        for (k, v) in map {
                            let (o, n) = sides(removed, v);
                            self.one_side(join(&path, &key_text(k)), o, n);
                        }
                    }
                    Value::Sequence(seq) => {
                        for (i, item) in seq.iter().enumerate() {
                            let (o, n) = sides(removed, item);
                            self.one_side(format!("{path}{}", item_address(item, i)), o, n);
                        }
                    }
                    _ => {}
                }
                return;
            }
        }
        let diff = LeafDiff {
            path,
            old: o,
            new: n,
        };
        if removed {
            self.removed.push(diff);
        } else {
            self.changed.push(diff);
        }
    }

    fn sequence(&mut self, path: &str, old: &[Value], new: &[Value]) {
        // Named items, by name, occurrence by occurrence.
        let mut old_named: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, item) in old.iter().enumerate() {
            if let Some(name) = item_name(item) {
                old_named.entry(name).or_default().push(i);
            }
        }
        let mut used = vec![false; old.len()];
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut match_of: Vec<Option<usize>> = vec![None; new.len()];
        for (j, item) in new.iter().enumerate() {
            if let Some(name) = item_name(item) {
                let nth = seen.entry(name).or_default();
                if let Some(&i) = old_named.get(name).and_then(|ix| ix.get(*nth)) {
                    match_of[j] = Some(i);
                    used[i] = true;
                }
                *nth += 1;
            }
        }
        // The other items, aligned by value.
        let old_rest: Vec<usize> = (0..old.len())
            .filter(|&i| item_name(&old[i]).is_none())
            .collect();
        let new_rest: Vec<usize> = (0..new.len())
            .filter(|&j| item_name(&new[j]).is_none())
            .collect();
        let a: Vec<&Value> = old_rest.iter().map(|&i| &old[i]).collect();
        let b: Vec<&Value> = new_rest.iter().map(|&j| &new[j]).collect();
        let mut unnamed: Vec<Option<Step>> = vec![None; new.len()];
        let mut unnamed_removed = Vec::new();
        for step in align(&a, &b) {
            match step {
                Step::Same(i, j) => {
                    used[old_rest[i]] = true;
                    unnamed[new_rest[j]] = Some(Step::Same(old_rest[i], new_rest[j]));
                }
                Step::Pair(i, j) => {
                    used[old_rest[i]] = true;
                    unnamed[new_rest[j]] = Some(Step::Pair(old_rest[i], new_rest[j]));
                }
                Step::Added(j) => unnamed[new_rest[j]] = Some(Step::Added(new_rest[j])),
                Step::Removed(i) => unnamed_removed.push(old_rest[i]),
            }
        }
        for (j, item) in new.iter().enumerate() {
            let at = format!("{path}{}", item_address(item, j));
            if item_name(item).is_some() {
                match match_of[j] {
                    Some(i) => self.node(at, &old[i], item),
                    None => self.one_side(at, None, Some(item)),
                }
                continue;
            }
            match unnamed[j] {
                Some(Step::Same(..)) | Some(Step::Removed(_)) => {}
                Some(Step::Pair(i, _)) => self.node(at, &old[i], item),
                Some(Step::Added(_)) | None => self.one_side(at, None, Some(item)),
            }
        }
        for (i, item) in old.iter().enumerate() {
            if !used[i] {
                self.one_side(format!("{path}{}", item_address(item, i)), Some(item), None);
            }
        }
    }
}

/// A value on the old side (`removed`) or on the new one.
fn sides<T>(removed: bool, value: T) -> (Option<T>, Option<T>) {
    if removed {
        (Some(value), None)
    } else {
        (None, Some(value))
    }
}

/// The leaves of a value as [`flatten`] gives them, under `prefix`.
fn flatten_at(value: &Value, prefix: &str, out: &mut Vec<(String, Json)>) {
    out.extend(flatten(value).into_iter().map(|(p, v)| {
        let path = if p.is_empty() {
            prefix.to_owned()
        } else if prefix.is_empty() || p.starts_with('[') {
            format!("{prefix}{p}")
        } else {
            format!("{prefix}.{p}")
        };
        (path, v)
    }));
}

/// Aligns two lists by value: the longest common subsequence as `Same` steps;
/// between two of them, the items left on both sides are paired in order
/// (`Pair`), and the rest are `Removed` or `Added`. In the order of the lists.
fn align(a: &[&Value], b: &[&Value]) -> Vec<Step> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    // Matched (i, j) pairs of the middle, by dynamic programming when small enough.
    let mut matched = Vec::new();
    if !ma.is_empty() && !mb.is_empty() && ma.len() * mb.len() <= ALIGN_CELLS {
        let (n, m) = (ma.len(), mb.len());
        // lcs[i][j]: the LCS length of ma[i..] and mb[j..].
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * (m + 1) + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n && j < m {
            if ma[i] == mb[j] {
                matched.push((i, j));
                i += 1;
                j += 1;
            } else if lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1] {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
    let mut steps: Vec<Step> = (0..head).map(|k| Step::Same(k, k)).collect();
    let (mut i, mut j) = (0, 0);
    let gap = |steps: &mut Vec<Step>, i: &mut usize, j: &mut usize, to_i: usize, to_j: usize| {
        while *i < to_i && *j < to_j {
            steps.push(Step::Pair(head + *i, head + *j));
            *i += 1;
            *j += 1;
        }
        while *i < to_i {
            steps.push(Step::Removed(head + *i));
            *i += 1;
        }
        while *j < to_j {
            steps.push(Step::Added(head + *j));
            *j += 1;
        }
    };
    for (mi, mj) in matched {
        gap(&mut steps, &mut i, &mut j, mi, mj);
        steps.push(Step::Same(head + mi, head + mj));
        i = mi + 1;
        j = mj + 1;
    }
    gap(&mut steps, &mut i, &mut j, ma.len(), mb.len());
    let (sa, sb) = (a.len() - tail, b.len() - tail);
    steps.extend((0..tail).map(|k| Step::Same(sa + k, sb + k)));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::parse_documents;
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
        // A key one side lacks is one change, the whole subtree its value; the
        // removals come last.
        assert_eq!(
            fields,
            [
                ("a", Some(json!(1)), Some(json!(2))),
                ("new", None, Some(json!({"k": "v"}))),
                ("list[2]", Some(json!(3)), None),
                ("old", Some(json!("x")), None),
            ]
        );
    }

    #[test]
    fn lists_align_items_and_an_added_or_removed_item_is_one_change() {
        let x = json!({"name": "X", "value": "30s"});
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            Vec<(&'a str, Option<Json>, Option<Json>)>,
        );
        let v = |j: Json| Some(j);
        // (what, target, source, the fields)
        let cases: Vec<Case> = vec![
            (
                "insert at the front",
                "args: [a, b, c]",
                "args: [z, a, b, c]",
                vec![("args[0]", None, v(json!("z")))],
            ),
            (
                "remove in the middle",
                "args: [a, b, c]",
                "args: [a, c]",
                vec![("args[1]", v(json!("b")), None)],
            ),
            (
                "change in place",
                "args: [a, b, c]",
                "args: [a, x, c]",
                vec![("args[1]", v(json!("b")), v(json!("x")))],
            ),
            (
                "insert and change",
                "args: [a, b, c]",
                "args: [z, a, x, c]",
                vec![
                    ("args[0]", None, v(json!("z"))),
                    ("args[2]", v(json!("b")), v(json!("x"))),
                ],
            ),
            (
                "a repeated item removed",
                "args: [a, a]",
                "args: [a]",
                vec![("args[1]", v(json!("a")), None)],
            ),
            (
                "into an empty list",
                "args: []",
                "args: [a]",
                vec![("args[0]", None, v(json!("a")))],
            ),
            ("the same", "args: [a, b]", "args: [a, b]", vec![]),
            (
                "a named item added",
                "env: [{name: A, value: '1'}]",
                "env: [{name: A, value: '1'}, {name: X, value: 30s}]",
                vec![("env[name=X]", None, v(x.clone()))],
            ),
            (
                "a named item removed",
                "env: [{name: X, value: 30s}, {name: A, value: '1'}]",
                "env: [{name: A, value: '1'}]",
                vec![("env[name=X]", v(x.clone()), None)],
            ),
            (
                "named items reordered",
                "env: [{name: X, value: 30s}, {name: A, value: '1'}]",
                "env: [{name: A, value: '1'}, {name: X, value: 30s}]",
                vec![],
            ),
            (
                "a named item's field",
                "env: [{name: A, value: '1'}]",
                "env: [{name: A, value: '2'}]",
                vec![("env[name=A].value", v(json!("1")), v(json!("2")))],
            ),
            (
                "a field of an unnamed item",
                "ports: [{containerPort: 80}, {containerPort: 443}]",
                "ports: [{containerPort: 8080}, {containerPort: 443}]",
                vec![("ports[0].containerPort", v(json!(80)), v(json!(8080)))],
            ),
            (
                "an unnamed item inserted",
                "ports: [{containerPort: 80}]",
                "ports: [{containerPort: 9090, protocol: TCP}, {containerPort: 80}]",
                vec![(
                    "ports[0]",
                    None,
                    v(json!({"containerPort": 9090, "protocol": "TCP"})),
                )],
            ),
            (
                "unnamed items among named ones",
                "l: [{name: a, v: 1}, x, y]",
                "l: [w, {name: a, v: 2}, x, y]",
                vec![
                    ("l[0]", None, v(json!("w"))),
                    ("l[name=a].v", v(json!(1)), v(json!(2))),
                ],
            ),
            (
                "a whole mapping removed",
                "x: 1\na: {b: 1, c: {d: 2}}",
                "x: 1",
                vec![("a", v(json!({"b": 1, "c": {"d": 2}})), None)],
            ),
            (
                "a scalar becomes a mapping",
                "a: 1",
                "a: {b: 1}",
                vec![("a", v(json!(1)), v(json!({"b": 1})))],
            ),
            (
                "an empty mapping filled",
                "a: {}",
                "a: {b: 1}",
                vec![("a.b", None, v(json!(1)))],
            ),
        ];
        for (what, to, from, want) in cases {
            let d = diff(Some(to), Some(from), &Pinned::default());
            let got: Vec<_> = d
                .resources
                .iter()
                .flat_map(|r| &r.fields)
                .map(|f| (f.path.as_str(), f.from.clone(), f.to.clone()))
                .collect();
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn align_keeps_the_longest_common_subsequence_and_pairs_the_rest() {
        let values = |text: &str| -> Vec<Value> {
            text.chars().map(|c| Value::String(c.to_string())).collect()
        };
        use Step::*;
        let cases: &[(&str, &str, &[Step])] = &[
            ("abc", "abc", &[Same(0, 0), Same(1, 1), Same(2, 2)]),
            (
                "abc",
                "zabc",
                &[Added(0), Same(0, 1), Same(1, 2), Same(2, 3)],
            ),
            ("abc", "axc", &[Same(0, 0), Pair(1, 1), Same(2, 2)]),
            (
                "abcd",
                "xbdy",
                &[Pair(0, 0), Same(1, 1), Removed(2), Same(3, 2), Added(3)],
            ),
            ("", "ab", &[Added(0), Added(1)]),
            ("ab", "", &[Removed(0), Removed(1)]),
            ("ab", "ba", &[Removed(0), Same(1, 0), Added(1)]),
        ];
        for (a, b, want) in cases {
            let (a, b) = (values(a), values(b));
            let a: Vec<&Value> = a.iter().collect();
            let b: Vec<&Value> = b.iter().collect();
            assert_eq!(align(&a, &b), *want, "{a:?} {b:?}");
        }
        // Lists too long to align are paired in order, their common ends aside.
        let n = 3000;
        let a: Vec<Value> = (0..n).map(|i| Value::from(i as u64)).collect();
        let mut b = a.clone();
        b.insert(1, Value::from("new"));
        b[n] = Value::from("last");
        let (ra, rb): (Vec<&Value>, Vec<&Value>) = (a.iter().collect(), b.iter().collect());
        let steps = align(&ra, &rb);
        assert_eq!(steps.len(), n + 1);
        assert_eq!(steps[0], Same(0, 0));
        assert!(steps.contains(&Added(n)));
    }

    #[test]
    fn paths_overlap_when_one_lies_under_the_other() {
        for (a, b, want) in [
            ("spec", "spec.replicas", true),
            ("env[name=X]", "env[name=X].value", true),
            ("args", "args[0]", true),
            ("a.b", "a.b", true),
            ("", "a", true),
            ("spec", "specs", false),
            ("env[name=X]", "env[name=XY]", false),
            ("a.b", "a.c", false),
        ] {
            assert_eq!(overlaps(a, b), want, "{a} {b}");
            assert_eq!(overlaps(b, a), want, "{b} {a}");
        }
    }

    #[test]
    fn promotion_compares_an_added_item_with_the_targets_own_fields() {
        let env = |items: &str| {
            docs(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{env: [{items}]}}\n"
            ))
        };
        let base = env("{name: A, value: '1'}");
        // The source adds X; the target added its own X on its own (drift).
        let from = env("{name: A, value: '1'}, {name: X, value: 10s}");
        let to = env("{name: A, value: '1'}, {name: X, value: 30s}");
        let d = promotion_file(
            "p.yaml",
            Some(&base),
            Some(&to),
            Some(&from),
            &Pinned::default(),
            false,
        );
        assert_eq!(
            d.resources[0].fields,
            [FieldChange {
                path: "spec.env[name=X].value".into(),
                from: Some(json!("30s")),
                to: Some(json!("10s")),
            }]
        );
    }

    #[test]
    fn a_new_subtree_is_split_only_around_the_values_kept() {
        let values = Pinned {
            rules: vec![rule("values.yaml", &["ingress.host"])],
            ..Pinned::default()
        };
        let d = diff_file(
            "values.yaml",
            Some(&docs("a: 1\n")),
            Some(&docs("a: 1\ningress: {host: x.io, tls: {enabled: true}}\n")),
            &values,
            true,
        );
        assert_eq!(
            d.resources[0].fields,
            [FieldChange {
                path: "ingress.tls".into(),
                from: None,
                to: Some(json!({"enabled": true})),
            }]
        );
        assert_eq!(
            d.kept
                .iter()
                .map(|k| (k.path.as_str(), &k.value, &k.upstream))
                .collect::<Vec<_>>(),
            [("ingress.host", &Json::Null, &json!("x.io"))]
        );

        // A kustomization's new image entry: its tag is kept apart.
        let d = diff_file(
            "kustomization.yaml",
            Some(&docs("images: [{name: a, newTag: '1'}]\n")),
            Some(&docs(
                "images: [{name: a, newTag: '1'}, {name: b, newTag: '2'}]\n",
            )),
            &Pinned::default(),
            false,
        );
        let paths: Vec<_> = d.resources[0]
            .fields
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(paths, ["images[name=b].name"]);
        assert_eq!(d.kept[0].path, "images[name=b].newTag");

        // A new container is one change, its image included.
        let sidecar = "      - name: sidecar\n        image: reg.io/proxy:2\n";
        let d = diff(
            Some(&deploy("web", 1, "reg.io/web:1")),
            Some(&format!("{}{sidecar}", deploy("web", 1, "reg.io/web:1"))),
            &Pinned::default(),
        );
        assert_eq!(
            d.resources[0].fields,
            [FieldChange {
                path: "spec.template.spec.containers[name=sidecar]".into(),
                from: None,
                to: Some(json!({"name": "sidecar", "image": "reg.io/proxy:2"})),
            }]
        );
        assert!(d.kept.is_empty());
        assert_eq!(
            serde_json::to_value(&d.resources[0].fields[0]).unwrap(),
            json!({
                "path": "spec.template.spec.containers[name=sidecar]",
                "to": {"name": "sidecar", "image": "reg.io/proxy:2"},
            })
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
        // Read back, a side left out is absent and a null is a YAML null.
        let back: FieldChange =
            serde_json::from_value(serde_json::to_value(&field).unwrap()).unwrap();
        assert_eq!(back, field);
        let back: FileDiff = serde_json::from_value(json).unwrap();
        assert_eq!(back, d);
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
