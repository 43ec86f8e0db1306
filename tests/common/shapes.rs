//! Small configuration repositories of the shapes found in real open-source
//! GitOps repositories: Helm values, kustomizations, charts with templates and CI
//! workflows, `kind: List` files, apiVersion migrations, third-party sidecars.
//!
//! Every shape is a bare `origin` with `dev`, `stage` and `prod` branches that
//! start from one commit (dev's image tags), then one commit on stage and one on
//! prod that pin their own image tags, as a team does after its first promotion.
//! The user's clone is on `dev`; the history is made in a second clone, so the
//! user's clone is only ever changed by gitops.

use std::path::{Path, PathBuf};

use super::TestEnv;

/// dev's image tag in the first commit (commit-sha policy).
pub const DEV_TAG: &str = "3f9c2ab";
/// A later dev build (commit-sha policy); not a YAML number.
pub const NEW_DEV_TAG: &str = "9e1d2c4";
/// stage's image tag (semver-rc policy).
pub const STAGE_TAG: &str = "1.4.0-rc.2";
/// prod's image tag (semver policy).
pub const PROD_TAG: &str = "1.3.0";

/// The three environments with the default policies, written out as a team does.
pub const ENVIRONMENTS: &str = "\
environments:
  - name: dev
    tags: commit-sha
    promotion: auto-merge
  - name: stage
    tags: semver-rc
    promotion: pull-request
  - name: prod
    tags: semver
    promotion: pull-request
";

/// `.gitops.yaml`: the three environments, then `extra` (more top-level keys).
pub fn config(extra: &str) -> String {
    format!(
        "# gitops: branch-per-environment promotion dev -> stage -> prod\n{ENVIRONMENTS}{extra}"
    )
}

/// A repository of some shape: its bare origin, the user's clone and the clone
/// where its history is made.
pub struct Shape<'t> {
    t: &'t TestEnv,
    /// The bare origin; its HEAD is `dev`.
    pub origin: PathBuf,
    /// The user's clone, on `dev`, where gitops runs.
    pub repo: PathBuf,
    author: PathBuf,
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

impl<'t> Shape<'t> {
    /// `files` committed on dev, and stage and prod created at that commit.
    pub fn new(t: &'t TestEnv, name: &str, files: &[(&str, &str)]) -> Shape<'t> {
        let base = t.mkdir(name);
        let origin = base.join("origin.git");
        let author = base.join("author");
        let repo = base.join("config");
        t.git(&base, &["init", "--quiet", "--bare", s(&origin)]);
        t.git(&origin, &["symbolic-ref", "HEAD", "refs/heads/dev"]);
        t.git(&base, &["init", "--quiet", s(&author)]);
        t.git(&author, &["remote", "add", "origin", s(&origin)]);
        t.git(&author, &["checkout", "--quiet", "-B", "dev"]);
        for (path, text) in files {
            write(&author, path, text);
        }
        t.git(&author, &["add", "--all"]);
        t.git(
            &author,
            &[
                "commit",
                "--quiet",
                "--no-gpg-sign",
                "-m",
                "Add the shop's configuration",
            ],
        );
        t.git(
            &author,
            &["push", "--quiet", "origin", "dev", "dev:stage", "dev:prod"],
        );
        t.git(
            &base,
            &["clone", "--quiet", "--branch", "dev", s(&origin), s(&repo)],
        );
        Shape {
            t,
            origin,
            repo,
            author,
        }
    }

    /// [`Shape::new`], then stage and prod pin their own image tags: every
    /// `DEV_TAG` becomes `STAGE_TAG` on stage and `PROD_TAG` on prod.
    pub fn pinned(t: &'t TestEnv, name: &str, files: &[(&str, &str)]) -> Shape<'t> {
        let shape = Shape::new(t, name, files);
        shape.retag(
            "stage",
            DEV_TAG,
            STAGE_TAG,
            "Pin stage images to release candidates",
        );
        shape.retag("prod", DEV_TAG, PROD_TAG, "Pin prod images to releases");
        shape
    }

    /// Commits `files` (path, new text) on `branch` of origin and pushes. Returns
    /// the commit.
    pub fn commit(&self, branch: &str, files: &[(&str, &str)], message: &str) -> String {
        let t = self.t;
        self.checkout(branch);
        for (path, text) in files {
            write(&self.author, path, text);
        }
        t.git(&self.author, &["add", "--all"]);
        t.git(
            &self.author,
            &["commit", "--quiet", "--no-gpg-sign", "-m", message],
        );
        t.git(&self.author, &["push", "--quiet", "origin", branch]);
        t.rev(&self.author, "HEAD")
    }

    /// Commits `edit(text)` of the file at `path` on `branch`; the edit must
    /// change something.
    pub fn edit(
        &self,
        branch: &str,
        path: &str,
        edit: impl FnOnce(&str) -> String,
        message: &str,
    ) -> String {
        let before = self.show(branch, path);
        let after = edit(&before);
        assert_ne!(before, after, "the edit of {path} on {branch} changes it");
        self.commit(branch, &[(path, &after)], message)
    }

    /// Commits, on `branch`, every file containing `from` with each `from`
    /// replaced by `to`.
    pub fn retag(&self, branch: &str, from: &str, to: &str, message: &str) -> String {
        let files = self
            .t
            .git(&self.origin, &["ls-tree", "-r", "--name-only", branch]);
        let mut changed = Vec::new();
        for path in files.lines() {
            let text = self.show(branch, path);
            if text.contains(from) {
                changed.push((path.to_owned(), text.replace(from, to)));
            }
        }
        assert!(!changed.is_empty(), "no file on {branch} has {from}");
        let changed: Vec<(&str, &str)> = changed
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        self.commit(branch, &changed, message)
    }

    /// The file at `rev:path` on origin.
    pub fn show(&self, rev: &str, path: &str) -> String {
        self.t
            .git(&self.origin, &["show", &format!("{rev}:{path}")])
    }

    /// The file `path` on the promotion branch `gitops/promote-<from>-to-<to>`
    /// as pushed to origin.
    pub fn promoted(&self, from: &str, to: &str, path: &str) -> String {
        self.show(&format!("gitops/promote-{from}-to-{to}"), path)
    }

    /// Every ref of origin.
    pub fn refs(&self) -> String {
        self.t.refs(&self.origin)
    }

    fn checkout(&self, branch: &str) {
        let t = self.t;
        t.git(&self.author, &["fetch", "--quiet", "origin"]);
        t.git(
            &self.author,
            &[
                "checkout",
                "--quiet",
                "-B",
                branch,
                &format!("origin/{branch}"),
            ],
        );
    }
}

/// Writes a file of a shape. A YAML file must parse (a Helm template need not):
/// a shape is realistic, never broken by accident.
fn write(dir: &Path, path: &str, text: &str) {
    let yaml = path.ends_with(".yaml") || path.ends_with(".yml");
    if yaml && !path.contains("/templates/") {
        if let Err(e) = gitops::model::manifest::parse_documents(text.as_bytes()) {
            panic!("{path} of the shape is not YAML ({e}):\n{text}");
        }
    }
    let file = dir.join(path);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&file, text).expect("write");
}

// --- Kubernetes objects -----------------------------------------------------------

/// A Deployment `name` in namespace `shop` whose containers are `containers`
/// (YAML list items, indented for `spec.template.spec.containers`).
pub fn deployment(api_version: &str, name: &str, containers: &str) -> String {
    format!(
        "\
apiVersion: {api_version}
kind: Deployment
metadata:
  name: {name}
  namespace: shop
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      containers:
{containers}"
    )
}

/// One container list item for [`deployment`].
pub fn container(name: &str, image: &str) -> String {
    format!(
        "        - name: {name}
          image: {image}
          ports:
            - containerPort: 8080
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
"
    )
}

/// A Service for the app `name`.
pub fn service(name: &str) -> String {
    format!(
        "\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: shop
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - port: 80
      targetPort: 8080
"
    )
}

/// The team's image `app` at `tag`.
pub fn shop_image(app: &str, tag: &str) -> String {
    format!("registry.example.com/shop/{app}:{tag}")
}

// --- The shapes --------------------------------------------------------------------

/// Plain manifests: `web` and `cart`, each a Deployment and a Service, running
/// the team's images. `extra_config` is added to `.gitops.yaml`.
pub fn plain_shop<'t>(t: &'t TestEnv, name: &str, extra_config: &str) -> Shape<'t> {
    let web = deployment(
        "apps/v1",
        "web",
        &container("web", &shop_image("web", DEV_TAG)),
    );
    let cart = deployment(
        "apps/v1",
        "cart",
        &container("cart", &shop_image("cart", DEV_TAG)),
    );
    Shape::pinned(
        t,
        name,
        &[
            (".gitops.yaml", &config(extra_config)),
            ("apps/web/deployment.yaml", &web),
            ("apps/web/service.yaml", &service("web")),
            ("apps/cart/deployment.yaml", &cart),
            ("apps/cart/service.yaml", &service("cart")),
        ],
    )
}

/// The pinned-key rule of a Helm values layout.
pub const HELM_PINNED: &str = "\
pinned:
  - files: \"charts/*/values*.yaml\"
    keys: [\"image.tag\"]
";

/// `charts/shop/values.yaml` as a chart's author writes it: comments, blank
/// lines, the team's image and a redis dependency with its own tag, and a metrics
/// exporter whose tag sits at `metrics.image.tag`.
pub fn helm_values(tag: &str, redis: &str, exporter: &str) -> String {
    format!(
        "\
# Default values for the shop chart.
# This is a YAML-formatted file; gitops keeps each environment's image.tag.

replicaCount: 2

image:
  repository: registry.example.com/shop/web
  # Set per environment (dev: commit ids, stage: release candidates).
  tag: {tag}
  pullPolicy: IfNotPresent

redis:
  enabled: true
  # The redis server the chart deploys beside the shop.
  tag: {redis}

metrics:
  enabled: true
  image:
    repository: quay.io/oliver006/redis_exporter
    tag: {exporter}  # upgraded with the chart, like any value

service:
  type: ClusterIP
  port: 80
"
    )
}

/// A chart `charts/shop` (Chart.yaml and values) pinning `image.tag`.
pub fn helm_chart(t: &TestEnv) -> Shape<'_> {
    Shape::pinned(
        t,
        "helm",
        &[
            (".gitops.yaml", &config(HELM_PINNED)),
            (
                "charts/shop/Chart.yaml",
                "apiVersion: v2\nname: shop\ndescription: The online shop\ntype: application\nversion: 0.3.0\nappVersion: \"1.4.0\"\n",
            ),
            (
                "charts/shop/values.yaml",
                &helm_values(DEV_TAG, "8.6.3", "v1.62.0"),
            ),
        ],
    )
}

/// `charts/web/templates/deployment.yaml`: Go templates, not YAML.
pub const HELM_TEMPLATE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include \"web.fullname\" . }}
  labels:
    {{- include \"web.labels\" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  selector:
    matchLabels:
      {{- include \"web.selectorLabels\" . | nindent 6 }}
  template:
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"
";

/// The CI workflow of the repository: YAML, not a manifest.
pub fn workflow(kubeconform: &str) -> String {
    format!(
        "\
name: validate
on:
  pull_request:
    branches: [dev, stage, prod]
jobs:
  kubeconform:
    runs-on: ubuntu-latest
    container:
      image: ghcr.io/yannh/kubeconform:{kubeconform}
    steps:
      - uses: actions/checkout@v4
      - run: kubeconform -strict -summary apps/
"
    )
}

/// Plain manifests for `web` beside a local chart `charts/web` (Chart.yaml,
/// values, a template that is not YAML) and a CI workflow.
pub fn chart_and_workflow(t: &TestEnv) -> Shape<'_> {
    let web = deployment(
        "apps/v1",
        "web",
        &container("web", &shop_image("web", DEV_TAG)),
    );
    Shape::pinned(
        t,
        "chart",
        &[
            (
                ".gitops.yaml",
                &config(HELM_PINNED),
            ),
            ("apps/web/deployment.yaml", &web),
            ("apps/web/service.yaml", &service("web")),
            (
                "charts/web/Chart.yaml",
                "apiVersion: v2\nname: web\ntype: application\nversion: 0.1.0\nappVersion: \"1.4.0\"\n",
            ),
            (
                "charts/web/values.yaml",
                &format!(
                    "replicaCount: 2\nautoscaling:\n  enabled: false\nimage:\n  repository: registry.example.com/shop/web\n  tag: {DEV_TAG}\n"
                ),
            ),
            ("charts/web/templates/deployment.yaml", HELM_TEMPLATE),
            (".github/workflows/ci.yaml", &workflow("v0.6.7")),
        ],
    )
}

/// A kustomization for `web` whose `images:` sets the team's tag.
pub fn kustomization(tag: &str) -> String {
    format!(
        "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop
resources:
  - deployment.yaml
  - service.yaml
images:
  - name: registry.example.com/shop/web
    newTag: {tag}
"
    )
}

/// `apps/web` as a kustomization: the Deployment names the image without a tag,
/// the kustomization's `images:` sets each environment's tag.
pub fn kustomize_web(t: &TestEnv) -> Shape<'_> {
    let web = deployment(
        "apps/v1",
        "web",
        &container("web", "registry.example.com/shop/web"),
    );
    Shape::pinned(
        t,
        "kustomize",
        &[
            (".gitops.yaml", &config("")),
            ("apps/web/kustomization.yaml", &kustomization(DEV_TAG)),
            ("apps/web/deployment.yaml", &web),
            ("apps/web/service.yaml", &service("web")),
        ],
    )
}

/// A kustomization whose `images:` has an entry with only `newName` and one with
/// only `tagSuffix`: the tags come from the Deployment, which runs each
/// environment's tags.
pub fn kustomize_rename_and_suffix(t: &TestEnv) -> Shape<'_> {
    let containers = [
        container("web", &shop_image("web", DEV_TAG)),
        container("log-shipper", &shop_image("log-shipper", DEV_TAG)),
        container("metrics-agent", &shop_image("metrics-agent", DEV_TAG)),
    ]
    .concat();
    let web = deployment("apps/v1", "web", &containers);
    let kustomization = format!(
        "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop
resources:
  - deployment.yaml
images:
  - name: registry.example.com/shop/web
    newTag: {DEV_TAG}
  # Moved to the new build of the shipper; the tag stays the Deployment's.
  - name: registry.example.com/shop/log-shipper
    newName: registry.example.com/shop/log-shipper-ng
  # The agent's distroless flavour of the same tag.
  - name: registry.example.com/shop/metrics-agent
    tagSuffix: -distroless
"
    );
    Shape::pinned(
        t,
        "kustomize-entries",
        &[
            (
                ".gitops.yaml",
                &config("images:\n  - \"registry.example.com/shop/*\"\n"),
            ),
            ("apps/web/kustomization.yaml", &kustomization),
            ("apps/web/deployment.yaml", &web),
        ],
    )
}

/// `apps/workers/list.yaml`: a `kind: List` of two Deployments, as `kubectl get
/// -o yaml` writes them.
pub fn workers_list(mailer: &str, indexer: &str) -> String {
    let item = |name: &str, image: &str| {
        format!(
            "  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: {name}
      namespace: shop
    spec:
      replicas: 1
      selector:
        matchLabels:
          app.kubernetes.io/name: {name}
      template:
        metadata:
          labels:
            app.kubernetes.io/name: {name}
        spec:
          containers:
            - name: {name}
              image: {image}
"
        )
    };
    format!(
        "apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n{}{}",
        item("mailer", &shop_image("mailer", mailer)),
        item("indexer", &shop_image("indexer", indexer)),
    )
}

/// `web` as plain manifests beside `apps/workers/list.yaml`.
pub fn list_of_workers(t: &TestEnv) -> Shape<'_> {
    let web = deployment(
        "apps/v1",
        "web",
        &container("web", &shop_image("web", DEV_TAG)),
    );
    Shape::pinned(
        t,
        "list",
        &[
            (".gitops.yaml", &config("")),
            ("apps/web/deployment.yaml", &web),
            ("apps/workers/list.yaml", &workers_list(DEV_TAG, DEV_TAG)),
        ],
    )
}

/// `apps/web/hpa.yaml` at `api_version`, scaling on CPU at `cpu` percent.
pub fn hpa(api_version: &str, cpu: u32) -> String {
    format!(
        "\
apiVersion: {api_version}
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {cpu}
"
    )
}

/// An old Deployment at `apps/v1beta2` (no selector: v1beta2 defaulted it).
pub fn old_worker(api_version: &str, tag: &str) -> String {
    format!(
        "\
apiVersion: {api_version}
kind: Deployment
metadata:
  name: worker
  namespace: shop
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app.kubernetes.io/name: worker
    spec:
      containers:
        - name: worker
          image: {}
",
        shop_image("worker", tag)
    )
}

/// `web` with an `autoscaling/v2beta2` HPA and a `worker` Deployment still at
/// `apps/v1beta2`: a repository that predates Kubernetes 1.23.
pub fn old_api_versions(t: &TestEnv) -> Shape<'_> {
    let web = deployment(
        "apps/v1",
        "web",
        &container("web", &shop_image("web", DEV_TAG)),
    );
    Shape::pinned(
        t,
        "api-versions",
        &[
            (".gitops.yaml", &config("")),
            ("apps/web/deployment.yaml", &web),
            ("apps/web/hpa.yaml", &hpa("autoscaling/v2beta2", 70)),
            (
                "apps/worker/deployment.yaml",
                &old_worker("apps/v1beta2", DEV_TAG),
            ),
        ],
    )
}

/// `cart`'s Deployment: the team's image and a redis sidecar at `redis`.
pub fn cart_with_redis(tag: &str, redis: &str) -> String {
    let containers = [
        container("cart", &shop_image("cart", tag)),
        container("redis", &format!("redis:{redis}")),
    ]
    .concat();
    deployment("apps/v1", "cart", &containers)
}

/// `cart` with a redis sidecar (redis:7.2.4 everywhere); `extra_config` is added
/// to `.gitops.yaml` (`images:` or nothing).
pub fn sidecar_shop<'t>(t: &'t TestEnv, name: &str, extra_config: &str) -> Shape<'t> {
    Shape::pinned(
        t,
        name,
        &[
            (".gitops.yaml", &config(extra_config)),
            (
                "apps/cart/deployment.yaml",
                &cart_with_redis(DEV_TAG, "7.2.4"),
            ),
            ("apps/cart/service.yaml", &service("cart")),
        ],
    )
}

/// The team's images, for `.gitops.yaml`.
pub const SHOP_IMAGES: &str = "images:\n  - \"registry.example.com/shop/*\"\n";

/// `app` running `old-registry.example.com/shop/app` in every environment, and
/// its ConfigMap; `extra_config` is added to `.gitops.yaml`.
pub fn old_registry_shop<'t>(t: &'t TestEnv, name: &str, extra_config: &str) -> Shape<'t> {
    let app = deployment(
        "apps/v1",
        "app",
        &container(
            "app",
            &format!("old-registry.example.com/shop/app:{DEV_TAG}"),
        ),
    );
    Shape::pinned(
        t,
        name,
        &[
            (".gitops.yaml", &config(extra_config)),
            ("apps/app/deployment.yaml", &app),
            ("apps/app/configmap.yaml", APP_CONFIG),
            ("apps/app/service.yaml", &service("app")),
        ],
    )
}

/// `app`'s ConfigMap.
pub const APP_CONFIG: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: shop
data:
  LOG_LEVEL: info
  CACHE_TTL: \"300\"
";

/// A StatefulSet `name` with one container running `image`.
pub fn statefulset(name: &str, image: &str) -> String {
    format!(
        "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {name}
  namespace: shop
spec:
  serviceName: {name}
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      containers:
        - name: {name}
          image: {image}
"
    )
}

/// redis spelled three ways in three files: `redis:7.2.4` (cache),
/// `docker.io/redis:7.2.4` (sessions) and `docker.io/library/redis:7.2.4`
/// (queue), beside the team's `web`.
pub fn redis_three_ways(t: &TestEnv) -> Shape<'_> {
    let web = deployment(
        "apps/v1",
        "web",
        &container("web", &shop_image("web", DEV_TAG)),
    );
    Shape::pinned(
        t,
        "redis",
        &[
            (".gitops.yaml", &config(SHOP_IMAGES)),
            ("apps/web/deployment.yaml", &web),
            (
                "apps/cache/deployment.yaml",
                &deployment("apps/v1", "cache", &container("redis", "redis:7.2.4")),
            ),
            (
                "apps/sessions/statefulset.yaml",
                &statefulset("sessions", "docker.io/redis:7.2.4"),
            ),
            (
                "apps/queue/deployment.yaml",
                &deployment(
                    "apps/v1",
                    "queue",
                    &container("redis", "docker.io/library/redis:7.2.4"),
                ),
            ),
        ],
    )
}

/// `web`'s container with arguments and environment variables, for field-level
/// diffs of lists.
pub fn web_with_args(tag: &str) -> String {
    let web = format!(
        "{}          args: [--port=8080, --log-format=json]\n          env:\n            - name: LOG_LEVEL\n              value: info\n",
        container("web", &shop_image("web", tag))
    );
    deployment("apps/v1", "web", &web)
}

/// `web` with arguments and environment variables.
pub fn args_shop(t: &TestEnv) -> Shape<'_> {
    Shape::pinned(
        t,
        "args",
        &[
            (".gitops.yaml", &config("")),
            ("apps/web/deployment.yaml", &web_with_args(DEV_TAG)),
            ("apps/web/service.yaml", &service("web")),
        ],
    )
}
