#!/usr/bin/env python3
"""Generate two configuration repositories holding the same Kubernetes documents:
one as a single many-document file (`apps/all.yaml`), one as one file per
document (`apps/app-NNNN/<kind>.yaml`), with the same history.

Usage: gen_manydocs.py OUTDIR [--docs 4000]

Writes OUTDIR/single/{origin.git,work} and OUTDIR/separate/{origin.git,work}:
a bare origin (HEAD dev) and a clone of it on dev. No .gitops.yaml: the
defaults apply (dev/stage/prod, commit-sha / semver-rc / semver tag policies).

Documents: document i belongs to app i // 3 and is its Deployment (i % 3 == 0,
image registry.example.com/team/app-NNNN:<tag>), Service (1) or ConfigMap (2).

History (the same in both repositories, fixed dates: the same arguments give
the same commit ids):
  * root, on dev: every document, dev's image tags (7 hex);
  * stage and prod branch from it, each with one commit setting its own tags
    (x.y.0-rc.1 on stage, x.y.0 on prod) in every Deployment;
  * stage hotfix: memory limits of a few Deployments (drift in `diff stage`);
  * prod hotfix: replicas of a few Deployments (drift in `status`);
  * dev, three commits: replicas of every 10th app's Deployment and the data of
    every 10th app's ConfigMap; new dev tags for every 5th app; three new
    ConfigMaps and one Service removed.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys

EPOCH = 1_700_000_000
KINDS = ["deployment", "service", "configmap"]


def dev_tag(app, rev):
    return hashlib.sha1(f"app-{app}-{rev}".encode()).hexdigest()[:7]


def deployment(app, tag, replicas=2, memory="256Mi"):
    name = f"app-{app:04d}"
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: team
  labels:
    app: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: app
          image: registry.example.com/team/{name}:{tag}
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
          resources:
            limits:
              memory: {memory}
              cpu: 500m
"""


def service(app):
    name = f"app-{app:04d}"
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: team
spec:
  selector:
    app: {name}
  ports:
    - port: 80
      targetPort: 8080
"""


def configmap(app, rev=0, suffix=""):
    name = f"app-{app:04d}{suffix}"
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: team
data:
  greeting: hello from {name}
  revision: "{rev}"
  settings.yaml: |
    ---
    feature: {"on" if rev % 2 else "off"}
    limit: {100 + rev}
"""


class State:
    """The documents of one branch: an ordered list of (path, text)."""

    def __init__(self, docs):
        self.apps = (docs + 2) // 3
        self.docs = docs
        self.tags = {a: dev_tag(a, 0) for a in range(self.apps)}
        self.replicas = {}
        self.memory = {}
        self.config_rev = {}
        self.removed = set()
        self.extra = []

    def copy(self):
        s = State.__new__(State)
        s.__dict__ = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in self.__dict__.items()}
        return s

    def documents(self):
        out = []
        for i in range(self.docs):
            app, kind = divmod(i, 3)
            if i in self.removed:
                continue
            if kind == 0:
                text = deployment(app, self.tags[app], self.replicas.get(app, 2), self.memory.get(app, "256Mi"))
            elif kind == 1:
                text = service(app)
            else:
                text = configmap(app, self.config_rev.get(app, 0))
            out.append((f"apps/app-{app:04d}/{KINDS[kind]}.yaml", text))
        for app in self.extra:
            out.append((f"apps/app-{app:04d}/extra.yaml", configmap(app, 1, "-extra")))
        return out


def git(cwd, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(["git", *args], cwd=cwd, check=True, env=e, capture_output=True, text=True).stdout


def write_tree(work, state, layout):
    """Replaces the work tree's apps/ with the state's documents."""
    shutil.rmtree(os.path.join(work, "apps"), ignore_errors=True)
    docs = state.documents()
    if layout == "single":
        os.makedirs(os.path.join(work, "apps"))
        with open(os.path.join(work, "apps", "all.yaml"), "w") as f:
            f.write("---\n".join(text for _, text in docs))
    else:
        for path, text in docs:
            full = os.path.join(work, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)


class Repo:
    def __init__(self, base, layout):
        self.layout = layout
        self.origin = os.path.join(base, "origin.git")
        self.author = os.path.join(base, "author")
        self.work = os.path.join(base, "work")
        self.clock = EPOCH
        os.makedirs(base)
        git(base, "init", "--quiet", "--bare", self.origin)
        git(self.origin, "symbolic-ref", "HEAD", "refs/heads/dev")
        git(base, "init", "--quiet", self.author)
        git(self.author, "config", "user.name", "bench")
        git(self.author, "config", "user.email", "bench@example.com")
        git(self.author, "remote", "add", "origin", self.origin)

    def commit(self, branch, state, message, start=None):
        if start is not None:
            git(self.author, "checkout", "--quiet", "-B", branch, start)
        elif git(self.author, "branch", "--list", branch).strip():
            git(self.author, "checkout", "--quiet", branch)
        else:
            git(self.author, "symbolic-ref", "HEAD", f"refs/heads/{branch}")
        write_tree(self.author, state, self.layout)
        git(self.author, "add", "--all")
        self.clock += 600
        date = f"{self.clock} +0000"
        git(self.author, "commit", "--quiet", "--no-gpg-sign", "-m", message,
            env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})

    def finish(self):
        git(self.author, "push", "--quiet", "--force", "origin", "dev", "stage", "prod")
        git(os.path.dirname(self.work), "clone", "--quiet", "--branch", "dev", self.origin, self.work)
        shutil.rmtree(self.author)


def generate(outdir, docs, layout):
    repo = Repo(os.path.join(outdir, layout), layout)
    root = State(docs)
    repo.commit("dev", root, "Add every app")

    stage = root.copy()
    stage.tags = {a: f"1.{a % 10}.0-rc.1" for a in range(root.apps)}
    repo.commit("stage", stage, "Pin stage images to release candidates", start="dev")
    for app in range(7, stage.apps, 200):
        stage.memory[app] = "512Mi"
    repo.commit("stage", stage, "Hotfix: more memory on stage")

    prod = root.copy()
    prod.tags = {a: f"1.{a % 10}.0" for a in range(root.apps)}
    repo.commit("prod", prod, "Pin prod images to releases", start="dev")
    for app in range(9, prod.apps, 100):
        prod.replicas[app] = 4
    repo.commit("prod", prod, "Hotfix: more replicas on prod")

    dev = root.copy()
    for app in range(0, dev.apps, 10):
        dev.replicas[app] = 3
    for app in range(3, dev.apps, 10):
        dev.config_rev[app] = 1
    repo.commit("dev", dev, "Scale out and reconfigure every 10th app")
    for app in range(1, dev.apps, 5):
        dev.tags[app] = dev_tag(app, 1)
    repo.commit("dev", dev, "New builds of every 5th app")
    dev.extra = [11, 22, 33]
    dev.removed.add(3 * 50 + 1)  # app 50's Service
    repo.commit("dev", dev, "Extra config for three apps; drop app-0050's Service")
    repo.finish()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("outdir")
    p.add_argument("--docs", type=int, default=4000)
    a = p.parse_args()
    if a.docs < 600:
        sys.exit("--docs: at least 600 (the history touches apps up to 200)")
    for layout in ("single", "separate"):
        shutil.rmtree(os.path.join(a.outdir, layout), ignore_errors=True)
        generate(a.outdir, a.docs, layout)


if __name__ == "__main__":
    main()
