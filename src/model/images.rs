//! Where container images are used in manifests: the containers of pod templates
//! of any kind and the `images:` entries of kustomization files. Pure: parsed
//! YAML in, image uses out.
//!
//! **Containers**, as kustomize's images transformer finds them: the `image`
//! string of every item of a `containers`, `initContainers` or
//! `ephemeralContainers` sequence, at any depth, in a document of any kind —
//! Deployments and CronJobs, but also Argo Rollouts, Knative Services, custom
//! workloads, and the items of `kind: List` documents
//! (`items[0].spec.template.spec.containers[name=web].image`). Only a mapping
//! item with a string `image` is a container; other keys of a document (a
//! kustomization's, a Helm values file's) never are.
//!
//! **Kustomization `images:` entries** (`name`, `newName`, `newTag`, `digest`,
//! `tagSuffix`), with kustomize's meaning: `newName` renames, `newTag` replaces
//! the tag, `digest` pins (with `newTag`, both are set; alone, the tag is
//! dropped), and `tagSuffix` appends to the tag the resource already has — it
//! is ignored when `newTag` or `digest` is present.
//!
//! **Which uses a tag policy judges** ([`TagSource`]): a use that writes a tag
//! (a container `image`, tagged or not — an untagged image breaks every policy
//! but `any` — or an entry's `newTag`) is judged. A use pinned by digest with no
//! tag (`app@sha256:…`, an entry with `digest` only) is not: a digest is exact.
//! Nor is an entry that sets no tag (only `newName`, only `tagSuffix`, or
//! nothing but `name`): the tag is the resource's, judged where it is written.

use yaml_serde::Value;

use crate::model::image::ImageRef;
use crate::model::manifest::Document;

/// Where a use's tag comes from, and so whether tag policies judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagSource {
    /// The use writes the tag, or writes an image with no tag at all: a
    /// container's `image` (`app:1.2.3`, `app`) or a kustomization entry's
    /// `newTag`. Judged by the environment's tag policy.
    Written,
    /// Pinned by digest, no tag: a container's `app@sha256:…`, a kustomization
    /// entry with `digest` and no `newTag`. Not judged by tag policies.
    Digest,
    /// Sets no tag: a kustomization entry with only `newName` and/or
    /// `tagSuffix` (or only `name`); the tag is the one of the resources it
    /// applies to. Not judged by tag policies.
    Inherited,
}

/// One place a manifest sets an image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageUse {
    /// The effective reference (for a kustomization entry: `newName` or `name`,
    /// with `newTag` and `digest`; a `tagSuffix` alone adds no tag).
    pub image: ImageRef,
    /// Path of the tag-bearing field in `crate::model::manifest::flatten`'s notation, e.g.
    /// `spec.template.spec.containers[name=web].image` or `images[name=cart].newTag`.
    ///
    /// For a container it is always a leaf of `flatten(doc)`. For a kustomization
    /// entry it is always `images[name=<name>].newTag`, the field a new tag goes
    /// to, so it is not a leaf while the entry has no `newTag` yet.
    pub field: String,
    /// The container's name (`None` for an unnamed container and for
    /// kustomization entries).
    pub container: Option<String>,
    /// The document's kind (`Deployment`, `Rollout`, ...), for an item of a
    /// `kind: List` (or `*List`) document the item's kind; `Kustomization` for a
    /// kustomization file without a `kind`; empty for a document without a kind.
    pub kind: String,
    /// Where the tag comes from; see [`TagSource`].
    pub tag_source: TagSource,
}

impl ImageUse {
    /// Whether an environment's tag policy judges this use: it writes a tag (or
    /// an image without one), it is not pinned by digest alone nor a
    /// kustomization entry that sets no tag.
    pub fn judged_by_policy(&self) -> bool {
        self.tag_source == TagSource::Written
    }
}

/// The built-in workload kinds. A document of one of them is never a
/// kustomization, so its top-level `images[name=..]` fields are not image fields.
const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
];

/// The fields that hold containers, at any depth.
const CONTAINER_LISTS: &[&str] = &["initContainers", "containers", "ephemeralContainers"];

/// The fields of a kustomization `images:` entry that set the image.
const KUSTOMIZE_FIELDS: &[&str] = &["newTag", "newName", "digest", "tagSuffix"];

const KUSTOMIZE_API_PREFIX: &str = "kustomize.config.k8s.io/";

/// The images a document uses, in document order.
///
/// Reports the `image` of every item of a `containers`, `initContainers` or
/// `ephemeralContainers` sequence at any depth, and, in a kustomization, the
/// entries of its `images:`. A container whose `image` is missing, not a string
/// or does not parse is skipped, and so is a kustomization entry without a
/// string `name` or with a reference that does not parse.
pub fn images(doc: &Value) -> Vec<ImageUse> {
    let kind = doc.get("kind").and_then(Value::as_str);
    let kustomization = is_kustomization(doc, kind);
    let kind_text = match kind {
        Some(k) => k,
        None if kustomization => "Kustomization",
        None => "",
    };
    let mut walk = Walk {
        out: Vec::new(),
        kustomization,
        path: String::new(),
    };
    walk.value(doc, kind_text, true);
    walk.out
}

/// The images of every document of a file, in order.
pub fn file_images(docs: &[Document]) -> Vec<ImageUse> {
    docs.iter().flat_map(|doc| images(&doc.value)).collect()
}

/// Whether `field_path` (in `crate::model::manifest::flatten`'s notation) is a field
/// that sets an image in a document of kind `kind`: a container's `image`
/// anywhere (a path ending in `containers[..].image`, `initContainers[..].image`
/// or `ephemeralContainers[..].image`, whatever the kind), or, for a kind that
/// is not a built-in workload (Deployment, StatefulSet, DaemonSet, ReplicaSet,
/// Job, CronJob, Pod) or no kind, a kustomization entry's
/// `images[name=..].newTag`, `.newName`, `.digest` or `.tagSuffix`.
///
/// It sees the path only: it is true for every field `images` reports, and for
/// the other fields of the same kustomization entries, whether or not the value
/// there parses. A container name holding `[` or `]` cannot be told from the
/// path's structure and is not recognised.
pub fn is_image_field(kind: Option<&str>, field_path: &str) -> bool {
    if is_container_image_field(field_path) {
        return true;
    }
    if kind.is_some_and(|k| WORKLOAD_KINDS.contains(&k)) {
        return false;
    }
    let Some(rest) = field_path.strip_prefix("images[name=") else {
        return false;
    };
    KUSTOMIZE_FIELDS
        .iter()
        .any(|field| rest.strip_suffix(field).is_some_and(|r| r.ends_with("].")))
}

/// `…<list>[<item>].image`, `<list>` a container list that starts the path or
/// follows a `.`.
fn is_container_image_field(field_path: &str) -> bool {
    let Some(head) = field_path.strip_suffix(".image") else {
        return false;
    };
    let Some(open) = head.rfind('[') else {
        return false;
    };
    if !is_item_segment(&head[open..]) {
        return false;
    }
    let list_path = &head[..open];
    CONTAINER_LISTS.iter().any(|list| {
        list_path
            .strip_suffix(list)
            .is_some_and(|before| before.is_empty() || before.ends_with('.'))
    })
}

/// `[name=<anything but brackets>]` or `[<index>]`, as flatten addresses
/// sequence items.
fn is_item_segment(segment: &str) -> bool {
    segment
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .is_some_and(|inner| {
            !inner.contains(']')
                && (inner.starts_with("name=")
                    || (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit())))
        })
}

/// One step of a path: a mapping key, or a sequence item (by its `name`, else
/// its index).
enum Segment<'a> {
    Key(&'a str),
    Item(&'a Value, usize),
}

/// A mapping or a sequence (possibly tagged): something images can be under.
fn is_collection(value: &Value) -> bool {
    match value {
        Value::Mapping(_) | Value::Sequence(_) => true,
        Value::Tagged(tagged) => is_collection(&tagged.value),
        _ => false,
    }
}

/// A walk through a document in flatten's order, collecting image uses. `path`
/// is the path of the node being visited, in flatten's notation, grown and cut
/// back as the walk goes (one buffer for the whole walk).
struct Walk {
    out: Vec<ImageUse>,
    kustomization: bool,
    path: String,
}

impl Walk {
    /// Runs `visit` with `segment` appended to the path (after a `.` for a key
    /// below the root), then restores the path.
    fn under(&mut self, segment: Segment<'_>, visit: impl FnOnce(&mut Walk)) {
        let len = self.path.len();
        match segment {
            Segment::Key(key) => {
                if len > 0 {
                    self.path.push('.');
                }
                self.path.push_str(key);
            }
            Segment::Item(item, i) => match item.get("name").and_then(Value::as_str) {
                Some(name) => {
                    self.path.push_str("[name=");
                    self.path.push_str(name);
                    self.path.push(']');
                }
                None => self.path.push_str(&format!("[{i}]")),
            },
        }
        visit(self);
        self.path.truncate(len);
    }

    /// `value` at the current path, in a resource of kind `kind`; `top` at the
    /// document's root.
    fn value(&mut self, value: &Value, kind: &str, top: bool) {
        match value {
            Value::Tagged(tagged) => self.value(&tagged.value, kind, top),
            Value::Mapping(map) => {
                for (key, item) in map {
                    // Image fields sit under string keys only.
                    let Some(key) = key.as_str() else { continue };
                    if top && key == "images" && self.kustomization {
                        self.kustomization_images(item, kind);
                    } else if CONTAINER_LISTS.contains(&key) {
                        self.under(Segment::Key(key), |w| w.containers(item, kind));
                    } else if top && key == "items" && kind.ends_with("List") {
                        self.under(Segment::Key(key), |w| w.list_items(item));
                    } else if is_collection(item) {
                        self.under(Segment::Key(key), |w| w.value(item, kind, false));
                    }
                }
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    if is_collection(item) {
                        self.under(Segment::Item(item, i), |w| w.value(item, kind, false));
                    }
                }
            }
            _ => {}
        }
    }

    /// The items of a `kind: List` document: each a resource of its own kind.
    fn list_items(&mut self, items: &Value) {
        let Some(items) = items.as_sequence() else {
            return self.value(items, "", false);
        };
        for (i, item) in items.iter().enumerate() {
            let kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
            self.under(Segment::Item(item, i), |w| w.value(item, kind, false));
        }
    }

    /// A container list: each mapping item with a string `image` is a container;
    /// any other item is walked like any value.
    fn containers(&mut self, list: &Value, kind: &str) {
        let Some(items) = list.as_sequence() else {
            return self.value(list, kind, false);
        };
        for (i, item) in items.iter().enumerate() {
            let Some(written) = item.get("image").and_then(Value::as_str) else {
                self.under(Segment::Item(item, i), |w| w.value(item, kind, false));
                continue;
            };
            let Ok(image) = ImageRef::parse(written) else {
                continue;
            };
            let tag_source = if image.tag.is_none() && image.digest.is_some() {
                TagSource::Digest
            } else {
                TagSource::Written
            };
            self.under(Segment::Item(item, i), |w| {
                w.out.push(ImageUse {
                    image,
                    field: format!("{}.image", w.path),
                    container: item.get("name").and_then(Value::as_str).map(str::to_owned),
                    kind: kind.to_owned(),
                    tag_source,
                });
            });
        }
    }

    fn kustomization_images(&mut self, entries: &Value, kind: &str) {
        let Some(entries) = entries.as_sequence() else {
            return;
        };
        for entry in entries {
            let Some(name) = entry.get("name").and_then(Value::as_str) else {
                continue;
            };
            // An empty newTag, digest or newName makes a reference that does not
            // parse: the entry is skipped.
            let new_tag = scalar_text(entry.get("newTag"));
            let digest = scalar_text(entry.get("digest"));
            let mut reference =
                scalar_text(entry.get("newName")).unwrap_or_else(|| name.to_owned());
            if let Some(tag) = &new_tag {
                reference = format!("{reference}:{tag}");
            }
            if let Some(digest) = &digest {
                reference = format!("{reference}@{digest}");
            }
            let Ok(image) = ImageRef::parse(&reference) else {
                continue;
            };
            let tag_source = match (&new_tag, &digest) {
                (Some(_), _) => TagSource::Written,
                (None, Some(_)) => TagSource::Digest,
                (None, None) => TagSource::Inherited,
            };
            self.out.push(ImageUse {
                image,
                field: format!("images[name={name}].newTag"),
                container: None,
                kind: kind.to_owned(),
                tag_source,
            });
        }
    }
}

/// A kustomization by kind or apiVersion, or by shape: a top-level `images:`
/// whose entries all have a string `name` and one of `newTag`, `newName`,
/// `digest`, `tagSuffix`, in a document with `resources:` or `bases:` or without
/// a `kind`.
fn is_kustomization(doc: &Value, kind: Option<&str>) -> bool {
    if kind == Some("Kustomization")
        || doc
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with(KUSTOMIZE_API_PREFIX))
    {
        return true;
    }
    let Some(entries) = doc.get("images").and_then(Value::as_sequence) else {
        return false;
    };
    let entries_look_right = !entries.is_empty()
        && entries.iter().all(|entry| {
            entry.get("name").and_then(Value::as_str).is_some()
                && KUSTOMIZE_FIELDS.iter().any(|f| entry.get(*f).is_some())
        });
    entries_look_right
        && (kind.is_none() || doc.get("resources").is_some() || doc.get("bases").is_some())
}

/// A string, or a number as YAML wrote it unquoted (`newTag: 42`).
fn scalar_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Tagged(t) => scalar_text(Some(&t.value)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::{flatten, parse_documents};

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// An expected image use.
    struct Want {
        kind: &'static str,
        name: &'static str,
        tag: Option<&'static str>,
        digest: Option<&'static str>,
        field: &'static str,
        container: Option<&'static str>,
        source: TagSource,
    }

    /// A container image use (no digest).
    const fn ctr(
        kind: &'static str,
        name: &'static str,
        tag: Option<&'static str>,
        field: &'static str,
        container: &'static str,
    ) -> Want {
        Want {
            kind,
            name,
            tag,
            digest: None,
            field,
            container: Some(container),
            source: TagSource::Written,
        }
    }

    /// A kustomization entry (no digest, no container).
    const fn kus(
        kind: &'static str,
        name: &'static str,
        tag: Option<&'static str>,
        field: &'static str,
    ) -> Want {
        Want {
            kind,
            name,
            tag,
            digest: None,
            field,
            container: None,
            source: TagSource::Written,
        }
    }

    const fn unnamed(mut w: Want) -> Want {
        w.container = None;
        w
    }

    /// Pinned by digest, no tag: not judged.
    const fn pinned(mut w: Want) -> Want {
        w.digest = Some(SHA);
        w.source = TagSource::Digest;
        w
    }

    /// With a digest and a tag: judged by the tag.
    const fn tag_and_digest(mut w: Want) -> Want {
        w.digest = Some(SHA);
        w
    }

    /// A kustomization entry that sets no tag.
    const fn inherited(mut w: Want) -> Want {
        w.source = TagSource::Inherited;
        w
    }

    struct Case {
        name: &'static str,
        /// A YAML file, indented as a whole; `<sha>` stands for `SHA`.
        yaml: &'static str,
        want: &'static [Want],
    }

    /// The case's YAML with the common indentation removed and `<sha>` filled in.
    fn yaml(case: &Case) -> String {
        let lines: Vec<&str> = case.yaml.lines().filter(|l| !l.trim().is_empty()).collect();
        let indent = lines
            .iter()
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        let mut out = String::new();
        for line in lines {
            out.push_str(&line[indent..]);
            out.push('\n');
        }
        out.replace("<sha>", SHA)
    }

    const CASES: &[Case] = &[
        Case {
            name: "deployment with init container and sidecar",
            yaml: "
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 2
                  template:
                    spec:
                      initContainers:
                      - name: migrate
                        image: shop/migrate:7
                      containers:
                      - name: web
                        image: nginx:1.25
                        ports: [{containerPort: 80}]
                      - name: sidecar
                        image: envoyproxy/envoy:v1.30.1
            ",
            want: &[
                ctr(
                    "Deployment",
                    "shop/migrate",
                    Some("7"),
                    "spec.template.spec.initContainers[name=migrate].image",
                    "migrate",
                ),
                ctr(
                    "Deployment",
                    "nginx",
                    Some("1.25"),
                    "spec.template.spec.containers[name=web].image",
                    "web",
                ),
                ctr(
                    "Deployment",
                    "envoyproxy/envoy",
                    Some("v1.30.1"),
                    "spec.template.spec.containers[name=sidecar].image",
                    "sidecar",
                ),
            ],
        },
        Case {
            name: "containers listed before initContainers keep document order",
            yaml: "
                kind: Deployment
                spec:
                  template:
                    spec:
                      containers:
                      - {name: web, image: 'web:2'}
                      initContainers:
                      - {name: init, image: 'init:1'}
            ",
            want: &[
                ctr(
                    "Deployment",
                    "web",
                    Some("2"),
                    "spec.template.spec.containers[name=web].image",
                    "web",
                ),
                ctr(
                    "Deployment",
                    "init",
                    Some("1"),
                    "spec.template.spec.initContainers[name=init].image",
                    "init",
                ),
            ],
        },
        Case {
            name: "deployment with a registry port",
            yaml: "
                kind: Deployment
                spec:
                  template:
                    spec:
                      containers:
                      - name: cart
                        image: registry.example.com:5000/shop/cart:1.2.3
            ",
            want: &[ctr(
                "Deployment",
                "registry.example.com:5000/shop/cart",
                Some("1.2.3"),
                "spec.template.spec.containers[name=cart].image",
                "cart",
            )],
        },
        Case {
            name: "digest-pinned image",
            yaml: "
                kind: Deployment
                spec:
                  template:
                    spec:
                      containers:
                      - name: app
                        image: ghcr.io/org/app@<sha>
            ",
            want: &[pinned(ctr(
                "Deployment",
                "ghcr.io/org/app",
                None,
                "spec.template.spec.containers[name=app].image",
                "app",
            ))],
        },
        Case {
            name: "unnamed containers are addressed by index",
            yaml: "
                kind: Deployment
                spec:
                  template:
                    spec:
                      containers:
                      - image: a:1
                      - name: b
                        image: b:2
                      - image: c:3
            ",
            want: &[
                unnamed(ctr(
                    "Deployment",
                    "a",
                    Some("1"),
                    "spec.template.spec.containers[0].image",
                    "",
                )),
                ctr(
                    "Deployment",
                    "b",
                    Some("2"),
                    "spec.template.spec.containers[name=b].image",
                    "b",
                ),
                unnamed(ctr(
                    "Deployment",
                    "c",
                    Some("3"),
                    "spec.template.spec.containers[2].image",
                    "",
                )),
            ],
        },
        Case {
            name: "containers with a bad, missing or non-string image are skipped",
            yaml: "
                kind: Deployment
                spec:
                  template:
                    spec:
                      containers:
                      - name: templated
                        image: '{{ .Values.image }}'
                      - name: none
                      - name: number
                        image: 5
                      - name: upper
                        image: Shop/App:1
                      - name: ok
                        image: ok:1
            ",
            want: &[ctr(
                "Deployment",
                "ok",
                Some("1"),
                "spec.template.spec.containers[name=ok].image",
                "ok",
            )],
        },
        Case {
            name: "statefulset",
            yaml: "
                kind: StatefulSet
                spec:
                  template:
                    spec:
                      containers:
                      - {name: db, image: 'postgres:16'}
            ",
            want: &[ctr(
                "StatefulSet",
                "postgres",
                Some("16"),
                "spec.template.spec.containers[name=db].image",
                "db",
            )],
        },
        Case {
            name: "daemonset",
            yaml: "
                kind: DaemonSet
                spec:
                  template:
                    spec:
                      containers:
                      - {name: agent, image: 'docker.io/library/fluentd:latest'}
            ",
            want: &[ctr(
                "DaemonSet",
                "docker.io/library/fluentd",
                Some("latest"),
                "spec.template.spec.containers[name=agent].image",
                "agent",
            )],
        },
        Case {
            name: "replicaset",
            yaml: "
                kind: ReplicaSet
                spec:
                  template:
                    spec:
                      containers:
                      - {name: web, image: nginx}
            ",
            want: &[ctr(
                "ReplicaSet",
                "nginx",
                None,
                "spec.template.spec.containers[name=web].image",
                "web",
            )],
        },
        Case {
            name: "job",
            yaml: "
                apiVersion: batch/v1
                kind: Job
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      containers:
                      - {name: once, image: 'localhost:5000/tools/once:0.1'}
            ",
            want: &[ctr(
                "Job",
                "localhost:5000/tools/once",
                Some("0.1"),
                "spec.template.spec.containers[name=once].image",
                "once",
            )],
        },
        Case {
            name: "cronjob",
            yaml: "
                apiVersion: batch/v1
                kind: CronJob
                spec:
                  schedule: '0 * * * *'
                  jobTemplate:
                    spec:
                      template:
                        spec:
                          initContainers:
                          - {name: wait, image: 'busybox:1.36'}
                          containers:
                          - {name: report, image: 'shop/report:2024.1'}
            ",
            want: &[
                ctr(
                    "CronJob",
                    "busybox",
                    Some("1.36"),
                    "spec.jobTemplate.spec.template.spec.initContainers[name=wait].image",
                    "wait",
                ),
                ctr(
                    "CronJob",
                    "shop/report",
                    Some("2024.1"),
                    "spec.jobTemplate.spec.template.spec.containers[name=report].image",
                    "report",
                ),
            ],
        },
        Case {
            name: "pod with ephemeral containers",
            yaml: "
                apiVersion: v1
                kind: Pod
                spec:
                  containers:
                  - {name: app, image: 'app:1'}
                  ephemeralContainers:
                  - {name: debug, image: busybox}
            ",
            want: &[
                ctr(
                    "Pod",
                    "app",
                    Some("1"),
                    "spec.containers[name=app].image",
                    "app",
                ),
                ctr(
                    "Pod",
                    "busybox",
                    None,
                    "spec.ephemeralContainers[name=debug].image",
                    "debug",
                ),
            ],
        },
        Case {
            name: "multi-document file",
            yaml: "
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  ports: [{port: 80}]
                ---
                kind: Deployment
                spec:
                  template:
                    spec:
                      containers:
                      - {name: web, image: 'web:1'}
                ---
                # nothing
                ---
                kind: CronJob
                spec:
                  jobTemplate:
                    spec:
                      template:
                        spec:
                          containers:
                          - {name: job, image: 'job:2'}
            ",
            want: &[
                ctr(
                    "Deployment",
                    "web",
                    Some("1"),
                    "spec.template.spec.containers[name=web].image",
                    "web",
                ),
                ctr(
                    "CronJob",
                    "job",
                    Some("2"),
                    "spec.jobTemplate.spec.template.spec.containers[name=job].image",
                    "job",
                ),
            ],
        },
        Case {
            name: "kustomization with kind",
            yaml: "
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [deployment.yaml]
                images:
                - name: cart
                  newTag: 1.2.3
                - name: nginx
                  newName: registry.example.com:5000/mirror/nginx
                  newTag: '1.25'
            ",
            want: &[
                kus(
                    "Kustomization",
                    "cart",
                    Some("1.2.3"),
                    "images[name=cart].newTag",
                ),
                kus(
                    "Kustomization",
                    "registry.example.com:5000/mirror/nginx",
                    Some("1.25"),
                    "images[name=nginx].newTag",
                ),
            ],
        },
        Case {
            name: "kustomization without kind",
            yaml: "
                resources:
                - ../../base
                images:
                - name: cart
                  newTag: v2
            ",
            want: &[kus(
                "Kustomization",
                "cart",
                Some("v2"),
                "images[name=cart].newTag",
            )],
        },
        Case {
            name: "kustomization with bases and a kind of its own",
            yaml: "
                kind: Overlay
                bases: [../base]
                images:
                - {name: cart, newTag: v3}
            ",
            want: &[kus(
                "Overlay",
                "cart",
                Some("v3"),
                "images[name=cart].newTag",
            )],
        },
        Case {
            name: "kustomize component by apiVersion",
            yaml: "
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                images:
                - {name: cart, newTag: v4}
            ",
            want: &[kus(
                "Component",
                "cart",
                Some("v4"),
                "images[name=cart].newTag",
            )],
        },
        Case {
            name: "kustomization entries: digest only, newName only, numeric tag, bad ones",
            yaml: "
                kind: Kustomization
                images:
                - name: pinned
                  digest: <sha>
                - name: moved
                  newName: ghcr.io/org/moved
                - name: numbered
                  newTag: 42
                - newTag: no-name
                - name: bad
                  newTag: 'a b'
                - name: empty
                  newTag: ''
            ",
            want: &[
                pinned(kus(
                    "Kustomization",
                    "pinned",
                    None,
                    "images[name=pinned].newTag",
                )),
                inherited(kus(
                    "Kustomization",
                    "ghcr.io/org/moved",
                    None,
                    "images[name=moved].newTag",
                )),
                kus(
                    "Kustomization",
                    "numbered",
                    Some("42"),
                    "images[name=numbered].newTag",
                ),
            ],
        },
        Case {
            name:
                "kustomization entries: tagSuffix, newTag with digest, rename with tag, name only",
            yaml: "
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [../base]
                images:
                - name: debug
                  tagSuffix: -debug
                - name: renamed
                  newName: registry.example.com/mirror/renamed
                  tagSuffix: -slim
                - name: both
                  newTag: 1.2.3
                  digest: <sha>
                - name: suffix-ignored
                  newTag: 1.2.4
                  tagSuffix: -debug
                - name: docker.io/library/redis
                  newName: registry.example.com/mirror/redis
                  newTag: 7.2.4
                - name: nothing
            ",
            want: &[
                inherited(kus(
                    "Kustomization",
                    "debug",
                    None,
                    "images[name=debug].newTag",
                )),
                inherited(kus(
                    "Kustomization",
                    "registry.example.com/mirror/renamed",
                    None,
                    "images[name=renamed].newTag",
                )),
                tag_and_digest(kus(
                    "Kustomization",
                    "both",
                    Some("1.2.3"),
                    "images[name=both].newTag",
                )),
                kus(
                    "Kustomization",
                    "suffix-ignored",
                    Some("1.2.4"),
                    "images[name=suffix-ignored].newTag",
                ),
                kus(
                    "Kustomization",
                    "registry.example.com/mirror/redis",
                    Some("7.2.4"),
                    "images[name=docker.io/library/redis].newTag",
                ),
                inherited(kus(
                    "Kustomization",
                    "nothing",
                    None,
                    "images[name=nothing].newTag",
                )),
            ],
        },
        Case {
            name: "a kustomization by shape with tagSuffix only",
            yaml: "
                resources: [../base]
                images:
                - {name: cart, tagSuffix: -debug}
            ",
            want: &[inherited(kus(
                "Kustomization",
                "cart",
                None,
                "images[name=cart].newTag",
            ))],
        },
        Case {
            name: "a kustomization's other keys are not containers",
            yaml: "
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [deployment.yaml]
                patches:
                - target: {kind: Deployment}
                  patch: |-
                    - op: replace
                      path: /spec/template/spec/containers/0/image
                      value: web:9
                replacements:
                - source: {kind: ConfigMap, fieldPath: data.image}
                  targets:
                  - select: {kind: Deployment}
                    fieldPaths: ['spec.template.spec.containers.[name=web].image']
                images:
                - {name: web, newTag: '1.0.0'}
            ",
            want: &[kus(
                "Kustomization",
                "web",
                Some("1.0.0"),
                "images[name=web].newTag",
            )],
        },
        Case {
            name: "service has no images",
            yaml: "
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  selector: {app: web}
                  ports: [{port: 80}]
            ",
            want: &[],
        },
        Case {
            name: "configmap mentioning an image",
            yaml: "
                apiVersion: v1
                kind: ConfigMap
                data:
                  image: nginx:1.25
                  containers: '- image: nginx:1.25'
            ",
            want: &[],
        },
        Case {
            name: "helm values file",
            yaml: "
                replicaCount: 2
                image:
                  repository: shop/cart
                  tag: 1.2.3
            ",
            want: &[],
        },
        Case {
            name: "helm values with an images list that is not a kustomization",
            yaml: "
                images:
                - repository: shop/cart
                  tag: 1.2.3
            ",
            want: &[],
        },
        Case {
            name: "a kind with images but no resources is not a kustomization",
            yaml: "
                kind: Catalog
                images:
                - {name: cart, newTag: v1}
            ",
            want: &[],
        },
        Case {
            name: "argo rollout",
            yaml: "
                apiVersion: argoproj.io/v1alpha1
                kind: Rollout
                spec:
                  strategy: {canary: {steps: [{setWeight: 20}]}}
                  template:
                    spec:
                      containers:
                      - {name: web, image: 'registry.example.com/shop/web:3f9c2ab'}
            ",
            want: &[ctr(
                "Rollout",
                "registry.example.com/shop/web",
                Some("3f9c2ab"),
                "spec.template.spec.containers[name=web].image",
                "web",
            )],
        },
        Case {
            name: "knative service",
            yaml: "
                apiVersion: serving.knative.dev/v1
                kind: Service
                metadata: {name: hello}
                spec:
                  template:
                    spec:
                      containers:
                      - image: ghcr.io/knative/helloworld-go:1.2.3
                        env: [{name: TARGET, value: World}]
            ",
            want: &[unnamed(ctr(
                "Service",
                "ghcr.io/knative/helloworld-go",
                Some("1.2.3"),
                "spec.template.spec.containers[0].image",
                "",
            ))],
        },
        Case {
            name: "custom workload with containers deep down",
            yaml: "
                apiVersion: example.com/v1
                kind: Pipeline
                spec:
                  stages:
                  - name: build
                    runner:
                      podTemplate:
                        initContainers:
                        - {name: fetch, image: 'alpine/git:2.43.0'}
                        containers:
                        - {name: make, image: 'shop/builder:7'}
            ",
            want: &[
                ctr(
                    "Pipeline",
                    "alpine/git",
                    Some("2.43.0"),
                    "spec.stages[name=build].runner.podTemplate.initContainers[name=fetch].image",
                    "fetch",
                ),
                ctr(
                    "Pipeline",
                    "shop/builder",
                    Some("7"),
                    "spec.stages[name=build].runner.podTemplate.containers[name=make].image",
                    "make",
                ),
            ],
        },
        Case {
            name: "items of a List, each with its own kind",
            yaml: "
                apiVersion: v1
                kind: List
                items:
                - apiVersion: v1
                  kind: Service
                  metadata: {name: web}
                - apiVersion: apps/v1
                  kind: Deployment
                  metadata: {name: web}
                  spec:
                    template:
                      spec:
                        containers:
                        - {name: web, image: 'web:1.2.3'}
                - kind: CronJob
                  metadata: {name: report}
                  spec:
                    jobTemplate:
                      spec:
                        template:
                          spec:
                            containers:
                            - {name: report, image: 'report:2'}
            ",
            want: &[
                ctr(
                    "Deployment",
                    "web",
                    Some("1.2.3"),
                    "items[1].spec.template.spec.containers[name=web].image",
                    "web",
                ),
                ctr(
                    "CronJob",
                    "report",
                    Some("2"),
                    "items[2].spec.jobTemplate.spec.template.spec.containers[name=report].image",
                    "report",
                ),
            ],
        },
        Case {
            name: "a DeploymentList's items",
            yaml: "
                kind: DeploymentList
                items:
                - kind: Deployment
                  metadata: {name: a}
                  spec: {template: {spec: {containers: [{name: a, image: 'a:1'}]}}}
            ",
            want: &[ctr(
                "Deployment",
                "a",
                Some("1"),
                "items[0].spec.template.spec.containers[name=a].image",
                "a",
            )],
        },
        Case {
            name: "containers that are not a list of mappings with an image",
            yaml: "
                kind: Widget
                spec:
                  containers: {web: {image: 'web:1'}}
                  initContainers: [web, 'api:2']
                  ephemeralContainers: 'debug:1'
                  sidecars:
                  - {name: proxy, image: 'envoy:1'}
            ",
            want: &[],
        },
        Case {
            name: "a values file with a real containers list",
            yaml: "
                replicaCount: 2
                extra:
                  containers:
                  - name: proxy
                    image: envoyproxy/envoy:v1.30.1
            ",
            want: &[ctr(
                "",
                "envoyproxy/envoy",
                Some("v1.30.1"),
                "extra.containers[name=proxy].image",
                "proxy",
            )],
        },
        Case {
            name: "deployment without a pod spec",
            yaml: "
                kind: Deployment
                spec:
                  template: oops
            ",
            want: &[],
        },
    ];

    #[test]
    fn finds_images_in_manifests() {
        for c in CASES {
            let case = c.name;
            let docs = parse_documents(yaml(c).as_bytes())
                .unwrap_or_else(|e| panic!("case {case:?}: YAML does not parse: {e}"));
            let got = file_images(&docs);
            assert_eq!(
                got.len(),
                c.want.len(),
                "case {case:?}: wrong number of images: {got:#?}"
            );
            for (i, (g, w)) in got.iter().zip(c.want).enumerate() {
                assert_eq!(g.kind, w.kind, "case {case:?}, image {i}: kind");
                assert_eq!(g.image.name, w.name, "case {case:?}, image {i}: name");
                assert_eq!(
                    g.image.tag.as_deref(),
                    w.tag,
                    "case {case:?}, image {i}: tag"
                );
                assert_eq!(
                    g.image.digest.as_deref(),
                    w.digest,
                    "case {case:?}, image {i}: digest"
                );
                assert_eq!(g.field, w.field, "case {case:?}, image {i}: field");
                assert_eq!(
                    g.container.as_deref(),
                    w.container,
                    "case {case:?}, image {i}: container"
                );
                assert_eq!(g.tag_source, w.source, "case {case:?}, image {i}: source");
                assert_eq!(
                    g.judged_by_policy(),
                    w.source == TagSource::Written,
                    "case {case:?}, image {i}: judged"
                );
            }
        }
    }

    /// Every reported field is a leaf of `flatten(doc)` holding the image (or, for
    /// a kustomization entry, its tag), and `is_image_field` agrees. A kustomization
    /// entry without a `newTag` is the exception: its field is where a tag would go.
    #[test]
    fn fields_are_flatten_leaves() {
        for c in CASES {
            let case = c.name;
            let docs = parse_documents(yaml(c).as_bytes())
                .unwrap_or_else(|e| panic!("case {case:?}: YAML does not parse: {e}"));
            for doc in &docs {
                let kind = doc.value.get("kind").and_then(Value::as_str);
                let flat = flatten(&doc.value);
                for found in images(&doc.value) {
                    assert!(
                        is_image_field(kind, &found.field),
                        "case {case:?}: is_image_field({kind:?}, {:?}) is false",
                        found.field
                    );
                    assert!(
                        is_image_field(Some(&found.kind), &found.field),
                        "case {case:?}: is_image_field({:?}, {:?}) is false",
                        found.kind,
                        found.field
                    );
                    let is_container = found.container.is_some() || found.field.ends_with(".image");
                    if !is_container && found.image.tag.is_none() {
                        continue;
                    }
                    let leaf = flat.iter().find(|(path, _)| *path == found.field);
                    let Some((_, value)) = leaf else {
                        panic!("case {case:?}: no leaf at {:?} in {flat:?}", found.field);
                    };
                    let text = match value {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if is_container {
                        assert_eq!(text, found.image.to_string(), "case {case:?}: image leaf");
                    } else {
                        assert_eq!(
                            Some(text.as_str()),
                            found.image.tag.as_deref(),
                            "case {case:?}: tag leaf"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn image_fields() {
        // (kind, field path, is an image field)
        let cases: &[(Option<&str>, &str, bool)] = &[
            (
                Some("Deployment"),
                "spec.template.spec.containers[name=web].image",
                true,
            ),
            (
                Some("Deployment"),
                "spec.template.spec.containers[0].image",
                true,
            ),
            (
                Some("Deployment"),
                "spec.template.spec.initContainers[name=init].image",
                true,
            ),
            (
                Some("Deployment"),
                "spec.template.spec.ephemeralContainers[name=d].image",
                true,
            ),
            (
                Some("Deployment"),
                "spec.template.spec.containers[name=a.b].image",
                true,
            ),
            (
                Some("StatefulSet"),
                "spec.template.spec.containers[name=db].image",
                true,
            ),
            (
                Some("DaemonSet"),
                "spec.template.spec.containers[name=x].image",
                true,
            ),
            (
                Some("ReplicaSet"),
                "spec.template.spec.containers[name=x].image",
                true,
            ),
            (
                Some("Job"),
                "spec.template.spec.containers[name=x].image",
                true,
            ),
            (
                Some("CronJob"),
                "spec.jobTemplate.spec.template.spec.containers[name=x].image",
                true,
            ),
            (
                Some("CronJob"),
                "spec.template.spec.containers[name=x].image",
                true,
            ),
            (Some("Pod"), "spec.containers[name=x].image", true),
            (
                Some("Pod"),
                "spec.template.spec.containers[name=x].image",
                true,
            ),
            (
                Some("Deployment"),
                "spec.template.spec.containers[name=web].imagePullPolicy",
                false,
            ),
            (
                Some("Deployment"),
                "spec.template.spec.containers[name=web].env[name=IMAGE].value",
                false,
            ),
            (
                Some("Deployment"),
                "spec.template.spec.containers[x].image",
                false,
            ),
            (
                Some("Deployment"),
                "spec.template.spec.containers.image",
                false,
            ),
            (
                Some("Deployment"),
                "spec.template.spec.volumes[name=web].image",
                false,
            ),
            (Some("Deployment"), "spec.replicas", false),
            (Some("Deployment"), "images[name=cart].newTag", false),
            (
                Some("Rollout"),
                "spec.template.spec.containers[name=x].image",
                true,
            ),
            (None, "spec.template.spec.containers[name=x].image", true),
            (
                Some("List"),
                "items[0].spec.template.spec.containers[name=web].image",
                true,
            ),
            (
                Some("Pipeline"),
                "spec.stages[name=build].runner.podTemplate.initContainers[name=a.b].image",
                true,
            ),
            (Some("Widget"), "containers[0].image", true),
            (Some("Widget"), "spec.xcontainers[0].image", false),
            (Some("Widget"), "spec.containersx[0].image", false),
            (Some("Widget"), "spec.containers[0].image.name", false),
            (Some("Widget"), "spec.containers[0]image", false),
            (Some("Widget"), "spec.containers[].image", false),
            (Some("Widget"), "spec.containers[name=a]b].image", false),
            (
                Some("Widget"),
                "spec.containers[name=web].env[name=IMAGE].image",
                false,
            ),
            (Some("Widget"), "spec.sidecars[name=proxy].image", false),
            (Some("Kustomization"), "images[name=cart].tagSuffix", true),
            (Some("Overlay"), "images[name=cart].newTag", true),
            (Some("Kustomization"), "images[name=cart].newTag", true),
            (Some("Kustomization"), "images[name=cart].newName", true),
            (Some("Kustomization"), "images[name=cart].digest", true),
            (Some("Kustomization"), "images[name=cart].name", false),
            (Some("Kustomization"), "images[0].newTag", false),
            (Some("Kustomization"), "resources[0]", false),
            (None, "images[name=cart].newTag", true),
            (None, "image.tag", false),
            (None, "images[name=cart]newTag", false),
        ];
        for &(kind, path, expected) in cases {
            assert_eq!(
                is_image_field(kind, path),
                expected,
                "case {kind:?} {path:?}"
            );
        }
    }
}
