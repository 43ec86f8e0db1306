#!/usr/bin/env python3
"""Generate a large branch-per-environment configuration repository for benchmarks.

Writes a `git fast-import` stream (no git process per commit) into a bare
repository OUTDIR/origin.git, then clones it to OUTDIR/work so that
refs/remotes/origin/{dev,stage,prod} exist, as `gitops status` expects.

Layout: apps/app-NNNN/<kind>.yaml, --apps apps x 10 kinds (20,000 manifests by
default, about 1 KB each). No .gitops.yaml: the defaults apply (dev/stage/prod,
commit-sha / semver-rc / semver tag policies).

History (--commits commits in total, 5,000 by default):
  * one root commit on dev with every manifest;
  * stage and prod branch from the root, each with one commit pinning its own
    image tags (x.y.z-rc.N on stage, x.y.z on prod) in every deployment;
  * dev gets most commits, each changing 1-5 files of one app (replicas, env
    values, resources, config data) and sometimes a new dev image tag (7 hex);
  * every --every dev commits, a promotion: a merge commit on stage (parents: stage,
    dev) whose tree is dev's with stage's image tags kept, then a commit bumping
    stage's tags of the apps whose dev tag changed since the last promotion;
  * every third stage promotion is followed by the same from stage to prod
    (merge, then a bump to the released x.y.z tags);
  * the last stage promotion happens --stage-lag dev commits before the end and
    the last prod promotion --prod-lag stage promotions before the last one, so
    dev is hundreds of commits ahead of stage and stage hundreds ahead of prod;
  * --hotfixes commits straight on prod after its last promotion (drift).

Everything (names, dates, tags, choices) is derived from --seed: the same
arguments always give the same commit ids.

Usage: gen_repo.py OUTDIR [--apps 2000] [--commits 5000] ...
       gen_repo.py --stream [options] > stream   (only print the fast-import stream)
"""

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import time

KINDS = [
    "deployment",
    "service",
    "configmap",
    "hpa",
    "pdb",
    "serviceaccount",
    "ingress",
    "networkpolicy",
    "servicemonitor",
    "rbac",
]
DEPLOYMENT = 0
HOTFIX = 1_000_000  # revisions at or above this only ever exist on prod
EPOCH = 1_700_000_000
STEP = 600  # seconds between two commits
AUTHORS = [
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Linus Torvalds", "linus@example.com"),
    ("Margaret Hamilton", "margaret@example.com"),
    ("Ken Thompson", "ken@example.com"),
]
RELEASE_BOT = ("Release Bot", "release-bot@example.com")
LOG_LEVELS = ["info", "warn", "debug", "error"]
MEMORY = ["128Mi", "192Mi", "256Mi", "384Mi", "512Mi"]
CPU = ["100m", "150m", "200m", "250m", "300m", "400m"]


def app_name(app):
    return f"app-{app:04d}"


def path_of(app, kind):
    return f"apps/{app_name(app)}/{KINDS[kind]}.yaml"


def dev_tag(app, n):
    return hashlib.sha1(f"{app}/{n}".encode()).hexdigest()[:7]


def stage_tag(version, rc):
    return f"1.{version}.0-rc.{rc}"


def prod_tag(version):
    return f"1.{version}.0"


def labels(name, indent):
    pad = " " * indent
    return (
        f"{pad}app.kubernetes.io/name: {name}\n"
        f"{pad}app.kubernetes.io/part-of: shop\n"
        f"{pad}app.kubernetes.io/managed-by: gitops\n"
    )


def render(app, kind, rev, tag):
    """The bytes of one manifest: a pure function of (app, kind, revision, tag)."""
    name = app_name(app)
    ns = f"team-{app % 40:02d}"
    hot = rev >= HOTFIX
    head = f"metadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n{labels(name, 4)}"
    if kind == 0:
        replicas = 12 if hot else 2 + rev % 4
        log_level = "trace" if hot else LOG_LEVELS[rev % len(LOG_LEVELS)]
        limit = "2Gi" if hot else MEMORY[rev % len(MEMORY)]
        return f"""apiVersion: apps/v1
kind: Deployment
{head}spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      serviceAccountName: {name}
      containers:
        - name: app
          image: registry.example.com/team/{name}:{tag}
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: {log_level}
            - name: CONFIG_REVISION
              value: "{rev}"
            - name: FEATURE_FLAGS
              value: "checkout-v2,search-v{rev % 7}"
          resources:
            requests:
              cpu: {CPU[rev % len(CPU)]}
              memory: 128Mi
            limits:
              cpu: "1"
              memory: {limit}
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
          livenessProbe:
            httpGet:
              path: /livez
              port: http
            initialDelaySeconds: 15
"""
    if kind == 1:
        return f"""apiVersion: v1
kind: Service
{head}  annotations:
    example.com/revision: "{rev}"
    prometheus.io/scrape: "true"
    prometheus.io/port: "9090"
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
    - name: metrics
      port: 9090
      targetPort: 9090
      protocol: TCP
  sessionAffinity: None
"""
    if kind == 2:
        value = "hotfix" if hot else f"v{rev}"
        return f"""apiVersion: v1
kind: ConfigMap
{head}data:
  APP_NAME: {name}
  CONFIG_VERSION: "{value}"
  CACHE_TTL_SECONDS: "{60 + rev % 5 * 30}"
  MAX_CONNECTIONS: "{50 + rev % 9 * 10}"
  UPSTREAM_URL: http://{name}-upstream.{ns}.svc.cluster.local:8080
  RETRY_BACKOFF: exponential
  RETRY_MAX: "{3 + rev % 3}"
  TRACING_SAMPLE_RATE: "0.{1 + rev % 9}"
  app.properties: |
    server.port=8080
    server.shutdown=graceful
    management.endpoints.web.exposure.include=health,info,prometheus
    feature.search.variant={rev % 7}
    feature.recommendations.enabled={str(rev % 2 == 0).lower()}
"""
    if kind == 3:
        return f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
{head}spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {name}
  minReplicas: {2 + rev % 3}
  maxReplicas: {10 + rev % 5 * 2}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {60 + rev % 4 * 5}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: 80
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
"""
    if kind == 4:
        return f"""apiVersion: policy/v1
kind: PodDisruptionBudget
{head}  annotations:
    example.com/revision: "{rev}"
    example.com/owner: team-{app % 40:02d}@example.com
    example.com/runbook: https://runbooks.example.com/{name}/disruptions
spec:
  minAvailable: {1 + rev % 2}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
      app.kubernetes.io/part-of: shop
  unhealthyPodEvictionPolicy: AlwaysAllow
"""
    if kind == 5:
        return f"""apiVersion: v1
kind: ServiceAccount
{head}  annotations:
    example.com/revision: "{rev}"
    example.com/owner: team-{app % 40:02d}@example.com
    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/{name}-{rev % 3}
    iam.gke.io/gcp-service-account: {name}@example-project.iam.gserviceaccount.com
automountServiceAccountToken: {str(rev % 2 == 1).lower()}
imagePullSecrets:
  - name: registry-example-com
"""
    if kind == 6:
        return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
{head}  annotations:
    cert-manager.io/cluster-issuer: letsencrypt
    nginx.ingress.kubernetes.io/proxy-body-size: {1 + rev % 8}m
    nginx.ingress.kubernetes.io/proxy-read-timeout: "{30 + rev % 4 * 15}"
spec:
  ingressClassName: nginx
  tls:
    - hosts:
        - {name}.example.com
      secretName: {name}-tls
  rules:
    - host: {name}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {name}
                port:
                  name: http
"""
    if kind == 7:
        return f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
{head}spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {name}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress-nginx
      ports:
        - port: 8080
  egress:
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {ns}
      ports:
        - port: {8080 + rev % 3}
"""
    if kind == 8:
        return f"""apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
{head}spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  namespaceSelector:
    matchNames:
      - {ns}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {15 + rev % 4 * 15}s
      scrapeTimeout: 10s
      honorLabels: true
      metricRelabelings:
        - sourceLabels: [__name__]
          regex: go_gc_.*
          action: drop
"""
    return f"""apiVersion: rbac.authorization.k8s.io/v1
kind: Role
{head}rules:
  - apiGroups: [""]
    resources: ["configmaps", "secrets"]
    verbs: ["get", "list", "watch"]
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {name}
  namespace: {ns}
  annotations:
    example.com/revision: "{rev}"
subjects:
  - kind: ServiceAccount
    name: {name}
    namespace: {ns}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {name}
"""


class Branch:
    """One branch as generated: its tip mark and each file's (revision, tag)."""

    def __init__(self, name, revs, tags, tip):
        self.name = name
        self.revs = revs  # index app * len(KINDS) + kind -> revision
        self.tags = tags  # app -> image tag
        self.tip = tip


class Writer:
    def __init__(self, out, apps):
        self.out = out
        self.apps = apps
        self.mark = 0
        self.blobs = {}  # (app, kind, rev, tag) -> mark
        self.commits = 0
        self.clock = EPOCH

    def new_mark(self):
        self.mark += 1
        return self.mark

    def blob(self, app, kind, rev, tag):
        key = (app, kind, rev, tag if kind == DEPLOYMENT else None)
        mark = self.blobs.get(key)
        if mark is None:
            data = render(app, kind, rev, tag).encode()
            mark = self.new_mark()
            self.out.write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
            self.blobs[key] = mark
        return mark

    def file_mark(self, branch, index):
        app, kind = divmod(index, len(KINDS))
        return self.blob(app, kind, branch.revs[index], branch.tags[app])

    def commit(self, branch, message, author, changed, parent=None, merge=None):
        """Commits the files at `changed` (indexes) of `branch`'s state."""
        lines = []
        for index in sorted(changed):
            app, kind = divmod(index, len(KINDS))
            lines.append(b"M 100644 :%d %s\n" % (self.file_mark(branch, index), path_of(app, kind).encode()))
        mark = self.new_mark()
        self.clock += STEP
        msg = message.encode()
        who = b"%s <%s> %d +0000" % (author[0].encode(), author[1].encode(), self.clock)
        self.out.write(b"commit refs/heads/%s\nmark :%d\nauthor %s\ncommitter %s\ndata %d\n%s\n"
                       % (branch.name.encode(), mark, who, who, len(msg), msg))
        base = parent if parent is not None else branch.tip
        if base is not None:
            self.out.write(b"from :%d\n" % base)
        if merge is not None:
            self.out.write(b"merge :%d\n" % merge)
        self.out.write(b"".join(lines))
        self.out.write(b"\n")
        branch.tip = mark
        self.commits += 1
        return mark


def plan(dev_commits, args):
    """The dev-commit counts after which stage (and prod) promotions happen."""
    last = dev_commits - args.stage_lag
    stage = list(range(args.every, last + 1, args.every))
    if not stage or stage[-1] != last:
        stage.append(last)
    last_prod = len(stage) - 1 - args.prod_lag
    prod = {i for i in range(len(stage)) if i % 3 == 2 and i <= last_prod}
    if last_prod >= 0:
        prod.add(last_prod)
    return stage, prod


def total(dev_commits, args):
    stage, prod = plan(dev_commits, args)
    # root + stage/prod pinning commits + dev + (merge + bump) per promotion + hotfixes
    return 3 + dev_commits + 2 * len(stage) + 2 * len(prod) + args.hotfixes


def generate(out, args):
    rng = random.Random(args.seed)
    nk = len(KINDS)
    apps = args.apps
    dev_n = args.commits
    while dev_n > 0 and total(dev_n, args) > args.commits:
        dev_n -= 1
    if total(dev_n, args) != args.commits or dev_n <= args.stage_lag:
        sys.exit(f"cannot lay out {args.commits} commits with these options")
    stage_at, prod_after = plan(dev_n, args)
    stage_points = {n: i for i, n in enumerate(stage_at)}
    # Hotfixes on prod, spread over the dev commits after prod's last promotion.
    last_prod_n = stage_at[max(prod_after)] if prod_after else 0
    span = dev_n - last_prod_n
    hotfix_at = {last_prod_n + span * (k + 1) // (args.hotfixes + 1) for k in range(args.hotfixes)}

    w = Writer(out, apps)
    tag_counter = [0] * apps
    version = [1] * apps
    rc = [1] * apps
    dev = Branch("dev", [0] * (apps * nk), [dev_tag(a, 0) for a in range(apps)], None)
    w.commit(dev, "Import the shop configuration", AUTHORS[0], range(apps * nk))
    root = dev.tip
    deployments = [a * nk + DEPLOYMENT for a in range(apps)]
    stage = Branch("stage", list(dev.revs), [stage_tag(1, 1) for _ in range(apps)], None)
    w.commit(stage, "stage: pin release-candidate image tags", RELEASE_BOT, deployments, parent=root)
    prod = Branch("prod", list(dev.revs), [prod_tag(1) for _ in range(apps)], None)
    w.commit(prod, "prod: pin release image tags", RELEASE_BOT, deployments, parent=root)

    dev_tags_changed = set()  # apps whose dev tag changed since the last stage promotion
    stage_tags_changed = set()  # apps whose stage tag changed since the last prod promotion
    hotfixes = 0

    def promote(src, dst, bump):
        changed = [i for i in range(apps * nk) if dst.revs[i] != src.revs[i]]
        dst.revs[:] = src.revs
        w.commit(dst, f"Promote {src.name} to {dst.name}\n\nMerge branch '{src.name}' into {dst.name}",
                 RELEASE_BOT, changed, merge=src.tip)
        bump()

    for n in range(1, dev_n + 1):
        app = rng.randrange(apps)
        author = AUTHORS[rng.randrange(len(AUTHORS))]
        changed = []
        if rng.random() < 0.35:
            tag_counter[app] += 1
            dev.tags[app] = dev_tag(app, tag_counter[app])
            dev_tags_changed.add(app)
            changed.append(app * nk + DEPLOYMENT)
            what = f"deploy {dev.tags[app]}"
            extra = rng.randrange(0, 3)
        else:
            what = "tune"
            extra = rng.randrange(1, 6)
        kinds = rng.sample(range(nk), extra)
        for kind in kinds:
            dev.revs[app * nk + kind] += 1
            changed.append(app * nk + kind)
        names = sorted({KINDS[k] for k in kinds})
        if names:
            what += (" and " if what.startswith("deploy") else " ") + ", ".join(names)
        w.commit(dev, f"{app_name(app)}: {what}", author, set(changed))

        if n in hotfix_at:
            hotfixes += 1
            happ = rng.randrange(apps)
            kind = DEPLOYMENT if hotfixes % 2 else 2
            prod.revs[happ * nk + kind] = HOTFIX + hotfixes
            w.commit(prod, f"HOTFIX {app_name(happ)}: emergency {KINDS[kind]} change in production",
                     AUTHORS[hotfixes % len(AUTHORS)], [happ * nk + kind])

        if n in stage_points:
            i = stage_points[n]

            def bump_stage():
                for a in sorted(dev_tags_changed):
                    version[a] += 1
                    rc[a] = 1 + (version[a] % 3)
                    stage.tags[a] = stage_tag(version[a], rc[a])
                    stage_tags_changed.add(a)
                if dev_tags_changed:
                    w.commit(stage, f"stage: release candidates for {len(dev_tags_changed)} apps",
                             RELEASE_BOT, [a * nk + DEPLOYMENT for a in dev_tags_changed])
                else:
                    w.commit(stage, "stage: no new release candidates", RELEASE_BOT, [])
                dev_tags_changed.clear()

            promote(dev, stage, bump_stage)
            if i in prod_after:

                def bump_prod():
                    for a in sorted(stage_tags_changed):
                        prod.tags[a] = prod_tag(version[a])
                    if stage_tags_changed:
                        w.commit(prod, f"prod: release {len(stage_tags_changed)} apps",
                                 RELEASE_BOT, [a * nk + DEPLOYMENT for a in stage_tags_changed])
                    else:
                        w.commit(prod, "prod: nothing to release", RELEASE_BOT, [])
                    stage_tags_changed.clear()

                promote(stage, prod, bump_prod)
    out.write(b"done\n")
    return w, dev_n, stage_at, prod_after


def run(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("outdir", nargs="?", help="where to create origin.git and work/")
    p.add_argument("--stream", action="store_true", help="only write the fast-import stream to stdout")
    p.add_argument("--apps", type=int, default=2000, help="apps, 10 manifests each (default 2000)")
    p.add_argument("--commits", type=int, default=5000, help="commits in total (default 5000)")
    p.add_argument("--every", type=int, default=50, help="dev commits between stage promotions (default 50)")
    p.add_argument("--stage-lag", type=int, default=400, help="dev commits after the last stage promotion (default 400)")
    p.add_argument("--prod-lag", type=int, default=6, help="stage promotions after the last prod promotion (default 6)")
    p.add_argument("--hotfixes", type=int, default=5, help="hotfix commits straight on prod (default 5)")
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    if args.stream:
        generate(sys.stdout.buffer, args)
        return
    if not args.outdir:
        p.error("OUTDIR is required (or --stream)")
    started = time.time()
    outdir = os.path.abspath(args.outdir)
    origin = os.path.join(outdir, "origin.git")
    work = os.path.join(outdir, "work")
    for d in (origin, work):
        if os.path.exists(d):
            shutil.rmtree(d)
    os.makedirs(outdir, exist_ok=True)
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    run(["git", "init", "-q", "--bare", "-b", "dev", origin], env=env)
    fi = subprocess.Popen(["git", "-C", origin, "fast-import", "--quiet", "--done"],
                          stdin=subprocess.PIPE, env=env)
    w, dev_n, stage_at, prod_after = generate(fi.stdin, args)
    fi.stdin.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    # fast-import's deltas are poor (each blob against the one written before it);
    # recompute them as git gc would on a long-lived origin. The clone reuses them.
    run(["git", "-C", origin, "repack", "-a", "-d", "-f", "-q"], env=env)
    # --no-local: a pack made by fetching, as a user's clone has (no hardlinks, no bitmap).
    run(["git", "clone", "-q", "--no-local", "--branch", "dev", origin, work], env=env)
    print(f"generated {w.commits} commits ({dev_n} on dev, {len(stage_at)} stage promotions, "
          f"{len(prod_after)} prod promotions, {args.hotfixes} prod hotfixes), "
          f"{args.apps * len(KINDS)} manifests, {len(w.blobs)} distinct blobs in history, "
          f"in {time.time() - started:.1f}s: {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
