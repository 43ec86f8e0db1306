//! Where container images are used in Kubernetes manifests: the containers of
//! workloads and the `images:` entries of kustomization files. Pure: parsed YAML
//! in, image uses out.

use serde_norway::Value;

use crate::image::ImageRef;
use crate::manifest::Document;

/// One place a manifest sets an image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageUse {
    /// The effective reference (for a kustomization entry: `newName` or `name`,
    /// with `newTag` and `digest`).
    pub image: ImageRef,
    /// Path of the tag-bearing field in `crate::manifest::flatten`'s notation, e.g.
    /// `spec.template.spec.containers[name=web].image` or `images[name=cart].newTag`.
    ///
    /// For a container it is always a leaf of `flatten(doc)`. For a kustomization
    /// entry it is always `images[name=<name>].newTag`, the field a new tag goes
    /// to, so it is not a leaf while the entry has no `newTag` yet.
    pub field: String,
    /// The container's name, for workloads (`None` for an unnamed container and
    /// for kustomization entries).
    pub container: Option<String>,
    /// The document's kind (`Deployment`, `CronJob`, ...); `Kustomization` for a
    /// kustomization file without a `kind`.
    pub kind: String,
}

/// Workload kinds and the path of their pod spec.
const POD_SPECS: &[(&str, &[&str])] = &[
    ("Deployment", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    (
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
    ("Pod", &["spec"]),
];

/// The pod spec fields that hold containers.
const CONTAINER_LISTS: &[&str] = &["initContainers", "containers", "ephemeralContainers"];

/// The fields of a kustomization `images:` entry that set the image.
const KUSTOMIZE_FIELDS: &[&str] = &["newTag", "newName", "digest"];

const KUSTOMIZE_API_PREFIX: &str = "kustomize.config.k8s.io/";

fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    POD_SPECS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, path)| *path)
}

/// The images a document uses, in document order.
///
/// Reports the `image` of every container, init container and ephemeral
/// container of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or
/// Pod, and the entries of a kustomization's `images:`. A container whose `image`
/// is missing or does not parse is skipped, and so is a kustomization entry
/// without a string `name` or with a reference that does not parse. Anything else
/// (Services, ConfigMaps, Helm values files, other kinds) has no images.
pub fn images(doc: &Value) -> Vec<ImageUse> {
    let kind = doc.get("kind").and_then(Value::as_str);
    if let Some((kind, path)) = kind.and_then(|k| pod_spec_path(k).map(|p| (k, p))) {
        return container_images(doc, kind, path);
    }
    if is_kustomization(doc, kind) {
        return kustomization_images(doc, kind.unwrap_or("Kustomization"));
    }
    Vec::new()
}

/// The images of every document of a file, in order.
pub fn file_images(docs: &[Document]) -> Vec<ImageUse> {
    docs.iter().flat_map(|doc| images(&doc.value)).collect()
}

/// Whether `field_path` (in `crate::manifest::flatten`'s notation) is a field
/// that sets an image in a document of kind `kind`: a container's `image` under
/// the pod spec of the workload kinds `images` knows, or, for any other kind (or
/// none), a kustomization entry's `images[name=..].newTag`, `.newName` or
/// `.digest`.
///
/// It sees the path only: it is true for every field `images` reports, and for
/// the other fields of the same kustomization entries, whether or not the value
/// there parses.
pub fn is_image_field(kind: Option<&str>, field_path: &str) -> bool {
    match kind.and_then(pod_spec_path) {
        Some(spec) => {
            let prefix = spec.join(".");
            let Some(rest) = field_path
                .strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_prefix('.'))
            else {
                return false;
            };
            CONTAINER_LISTS.iter().any(|list| {
                rest.strip_prefix(list)
                    .and_then(|r| r.strip_suffix(".image"))
                    .is_some_and(is_item_segment)
            })
        }
        None => {
            let Some(rest) = field_path.strip_prefix("images[name=") else {
                return false;
            };
            KUSTOMIZE_FIELDS
                .iter()
                .any(|field| rest.strip_suffix(field).is_some_and(|r| r.ends_with("].")))
        }
    }
}

/// `[name=<anything>]` or `[<index>]`, as flatten addresses sequence items.
fn is_item_segment(segment: &str) -> bool {
    segment
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .is_some_and(|inner| {
            inner.starts_with("name=")
                || (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// flatten's address of a sequence item: by its string `name`, else by index.
fn item_segment(item: &Value, index: usize) -> String {
    match item.get("name").and_then(Value::as_str) {
        Some(name) => format!("[name={name}]"),
        None => format!("[{index}]"),
    }
}

fn container_images(doc: &Value, kind: &str, spec_path: &[&str]) -> Vec<ImageUse> {
    let mut spec = doc;
    for key in spec_path {
        match spec.get(*key) {
            Some(v) => spec = v,
            None => return Vec::new(),
        }
    }
    let Some(spec) = spec.as_mapping() else {
        return Vec::new();
    };
    let prefix = spec_path.join(".");
    let mut out = Vec::new();
    // Walk the pod spec's keys in document order, as flatten does.
    for (key, value) in spec {
        let Some(list) = key.as_str().filter(|k| CONTAINER_LISTS.contains(k)) else {
            continue;
        };
        let Some(containers) = value.as_sequence() else {
            continue;
        };
        for (i, container) in containers.iter().enumerate() {
            let Some(image) = container
                .get("image")
                .and_then(Value::as_str)
                .and_then(|s| ImageRef::parse(s).ok())
            else {
                continue;
            };
            out.push(ImageUse {
                image,
                field: format!("{prefix}.{list}{}.image", item_segment(container, i)),
                container: container
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                kind: kind.to_owned(),
            });
        }
    }
    out
}

/// A kustomization by kind or apiVersion, or by shape: a top-level `images:`
/// whose entries all have a string `name` and one of `newTag`, `newName`,
/// `digest`, in a document with `resources:` or `bases:` or without a `kind`.
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

fn kustomization_images(doc: &Value, kind: &str) -> Vec<ImageUse> {
    let Some(entries) = doc.get("images").and_then(Value::as_sequence) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries {
        let Some(name) = entry.get("name").and_then(Value::as_str) else {
            continue;
        };
        let mut reference = scalar_text(entry.get("newName")).unwrap_or_else(|| name.to_owned());
        if let Some(tag) = scalar_text(entry.get("newTag")) {
            reference = format!("{reference}:{tag}");
        }
        if let Some(digest) = scalar_text(entry.get("digest")) {
            reference = format!("{reference}@{digest}");
        }
        let Ok(image) = ImageRef::parse(&reference) else {
            continue;
        };
        out.push(ImageUse {
            image,
            field: format!("images[name={name}].newTag"),
            container: None,
            kind: kind.to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{flatten, parse_documents};

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// An expected image use.
    struct Want {
        kind: &'static str,
        name: &'static str,
        tag: Option<&'static str>,
        digest: Option<&'static str>,
        field: &'static str,
        container: Option<&'static str>,
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
        }
    }

    const fn unnamed(mut w: Want) -> Want {
        w.container = None;
        w
    }

    const fn pinned(mut w: Want) -> Want {
        w.digest = Some(SHA);
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
            ",
            want: &[
                pinned(kus(
                    "Kustomization",
                    "pinned",
                    None,
                    "images[name=pinned].newTag",
                )),
                kus(
                    "Kustomization",
                    "ghcr.io/org/moved",
                    None,
                    "images[name=moved].newTag",
                ),
                kus(
                    "Kustomization",
                    "numbered",
                    Some("42"),
                    "images[name=numbered].newTag",
                ),
            ],
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
            name: "unknown workload kind",
            yaml: "
                apiVersion: argoproj.io/v1alpha1
                kind: Rollout
                spec:
                  template:
                    spec:
                      containers:
                      - {name: web, image: 'web:1'}
            ",
            want: &[],
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
                false,
            ),
            (Some("Pod"), "spec.containers[name=x].image", true),
            (
                Some("Pod"),
                "spec.template.spec.containers[name=x].image",
                false,
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
                false,
            ),
            (None, "spec.template.spec.containers[name=x].image", false),
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
