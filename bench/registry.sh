#!/usr/bin/env bash
# Benchmark `gitops image update --dry-run --json` against a loop of
# `skopeo list-tags` over the same images, on a real registry (Debian's
# docker-registry, CNCF Distribution) on 127.0.0.1 holding IMAGES images of TAGS
# tags each, and count the registry requests gitops makes (the registry's access
# log).
#
# Usage: bench/registry.sh [WORKDIR]        (default /tmp/gitops-bench-registry)
#
# Environment:
#   RUNS=10         timed runs of each side
#   IMAGES=50 TAGS=300 COMMITS=10
#                   images, tags per image, and how many of those tags are
#                   commit ids (the rest: releases and release candidates)
#   BIN=path        a gitops binary to use instead of building one
#
# The registry's storage is made once per WORKDIR and these numbers, and reused.
# Targets (issue 11): gitops takes at most half the loop's time, and asks the
# registry for the tag-list pages and the candidates' manifests only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORKDIR=$(mkdir -p "${1:-/tmp/gitops-bench-registry}" && cd "${1:-/tmp/gitops-bench-registry}" && pwd)
RUNS=${RUNS:-10}
IMAGES=${IMAGES:-50}
TAGS=${TAGS:-300}
COMMITS=${COMMITS:-10}

say() { printf '\n== %s\n' "$*"; }
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null NO_COLOR=1
for tool in docker-registry skopeo python3 git; do
    command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install docker-registry skopeo)" >&2; exit 2; }
done

# --- 1. build --------------------------------------------------------------------
if [[ -z ${BIN:-} ]]; then
    say "building gitops (release)"
    (cd "$ROOT" && cargo build --release --locked)
    TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    mkdir -p "$WORKDIR/bin"
    cp "$TARGET_DIR/release/gitops" "$WORKDIR/bin/gitops"
    BIN=$WORKDIR/bin/gitops
fi
echo "binary: $BIN"

# --- 2. the registry -----------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1:$PORT
STAMP="$IMAGES $TAGS $COMMITS v1"  # the pushed images' shape; bump when tags.py changes
if [[ ! -f $WORKDIR/.stored || "$(cat "$WORKDIR/.stored")" != "$STAMP" ]]; then
    rm -rf "$WORKDIR/storage" "$WORKDIR/.stored"
fi
cat >"$WORKDIR/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $WORKDIR/storage
http:
  addr: $HOST
  secret: gitops-bench-only
EOF
ACCESS=$WORKDIR/access.log
: >"$ACCESS"
docker-registry serve "$WORKDIR/registry.yml" >"$ACCESS" 2>"$WORKDIR/registry.err" &
REGISTRY_PID=$!
trap 'kill $REGISTRY_PID 2>/dev/null || true' EXIT
for _ in $(seq 200); do
    curl -fsS "http://$HOST/v2/" >/dev/null 2>&1 && break
    sleep 0.05
done
curl -fsS "http://$HOST/v2/" >/dev/null

# Tags of image i: COMMITS commit ids (40 hex digits, a creation time each),
# then releases 1.M.P and release candidates 1.M.P-rc.N.
cat >"$WORKDIR/tags.py" <<'EOF'
import hashlib, sys
def tags(i, total, commits):
    out = []
    for c in range(commits):
        out.append((hashlib.sha1(f"img{i}-commit{c}".encode()).hexdigest()[:12],
                    f"2026-11-{1 + c % 28:02d}T{c % 24:02d}:00:00Z"))
    n = 0
    while len(out) < total:
        minor, patch = divmod(n, 10)
        out.append((f"1.{minor}.{patch}", "2026-10-01T00:00:00Z"))
        if len(out) < total:
            out.append((f"1.{minor}.{patch}-rc.{1 + n % 12}", "2026-09-01T00:00:00Z"))
        n += 1
    return out
EOF

if [[ ! -f $WORKDIR/.stored ]]; then
    say "pushing $IMAGES images x $TAGS tags to $HOST (once per WORKDIR)"
    python3 - "$HOST" "$IMAGES" "$TAGS" "$COMMITS" "$WORKDIR" <<'EOF'
import hashlib, http.client, json, sys, threading
sys.path.insert(0, sys.argv[5])
from tags import tags
host, images, total, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def digest(b): return "sha256:" + hashlib.sha256(b).hexdigest()

def push(images_of_worker):
    conn = http.client.HTTPConnection(host)
    def req(method, target, body=b"", headers=None):
        conn.request(method, target, body=body, headers=headers or {})
        r = conn.getresponse(); data = r.read()
        return r.status, r.getheader("Location"), data
    for i in images_of_worker:
        repo = f"bench/img-{i:02d}"
        def blob(b):
            st, loc, data = req("POST", f"/v2/{repo}/blobs/uploads/")
            assert st == 202, data
            path = loc.split("://", 1)[-1]; path = path[path.index("/"):]
            sep = "&" if "?" in path else "?"
            st, _, data = req("PUT", f"{path}{sep}digest={digest(b)}", b,
                              {"Content-Type": "application/octet-stream"})
            assert st == 201, data
            return digest(b)
        layer = f"layer of {repo}".encode()
        layer_d = blob(layer)
        configs = {}
        for tag, created in tags(i, total, commits):
            if created not in configs:
                cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": created,
                                  "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}}).encode()
                configs[created] = (blob(cfg), len(cfg))
            cd, cl = configs[created]
            manifest = json.dumps({"schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cl},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_d, "size": len(layer)}]}).encode()
            st, _, data = req("PUT", f"/v2/{repo}/manifests/{tag}", manifest,
                              {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
            assert st == 201, data

workers = [threading.Thread(target=push, args=(range(w, images, 4),)) for w in range(4)]
for w in workers: w.start()
for w in workers: w.join()
EOF
    echo "$STAMP" >"$WORKDIR/.stored"
else
    say "reusing the registry's storage in $WORKDIR/storage"
fi

# --- 3. the configuration repository: dev, stage and prod run every image ---------------
say "writing the configuration repository"
rm -rf "$WORKDIR/origin.git" "$WORKDIR/work"
git init -q --bare -b dev "$WORKDIR/origin.git"
git init -q -b dev "$WORKDIR/work"
python3 - "$HOST" "$IMAGES" "$TAGS" "$COMMITS" "$WORKDIR" <<'EOF'
import os, subprocess, sys
sys.path.insert(0, sys.argv[5])
from tags import tags
host, images, total, commits, workdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
work = os.path.join(workdir, "work")
def git(*args): subprocess.run(["git", "-C", work, "-c", "user.name=bench", "-c", "user.email=bench@invalid", *args], check=True, stdout=subprocess.DEVNULL)
def write(pick):
    for i in range(images):
        all_tags = [t for t, _ in tags(i, total, commits)]
        tag = pick(all_tags)
        d = os.path.join(work, "apps", f"img-{i:02d}"); os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "deployment.yaml"), "w") as f:
            f.write(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: img-{i:02d}
spec:
  template:
    spec:
      containers:
        - name: app
          image: {host}/bench/img-{i:02d}:{tag}
""")
with open(os.path.join(work, ".gitops.yaml"), "w") as f:
    f.write(f'images: ["{host}/bench/*"]\n')
# dev runs an older commit id, stage an older release candidate, prod an older release.
write(lambda ts: ts[0])
git("add", "-A"); git("commit", "-qm", "dev")
git("branch", "stage"); git("branch", "prod")
git("checkout", "-q", "stage"); write(lambda ts: [t for t in ts if "-rc." in t][0]); git("commit", "-qam", "stage")
git("checkout", "-q", "prod"); write(lambda ts: [t for t in ts if "." in t and "-" not in t][0]); git("commit", "-qam", "prod")
git("remote", "add", "origin", os.path.join(workdir, "origin.git"))
git("push", "-q", "origin", "dev", "stage", "prod")
git("checkout", "-q", "dev")
EOF

# --- 4. the answer, cold and warm, and the requests ---------------------------------------
export XDG_CACHE_HOME=$WORKDIR/cache
GITOPS_CMD="$BIN -C $WORKDIR/work image update --dry-run --json"
requests() { wc -l <"$ACCESS"; }
count_run() {
    local before after
    before=$(requests)
    $GITOPS_CMD >"$WORKDIR/update.json"
    sleep 0.2
    after=$(requests)
    echo $((after - before))
}
say "a cold run (no creation-time cache), then a warm one"
rm -rf "$XDG_CACHE_HOME"
COLD_REQUESTS=$(count_run)
START_LINE=$(requests)
WARM_REQUESTS=$(count_run)
sed -n "$((START_LINE + 1)),\$p" "$ACCESS" >"$WORKDIR/warm-requests.log"
python3 - "$WORKDIR/update.json" "$IMAGES" <<'EOF'
import json, sys
out = json.load(open(sys.argv[1])); images = int(sys.argv[2])
rows = out["updates"]
by = {}
for r in rows: by.setdefault(r["env"], []).append(r)
for env, rs in by.items():
    planned = sum(r["action"] == "planned" for r in rs)
    print(f"{env:6} {len(rs):3} images, {planned:3} updates planned, e.g. {rs[0]['running'][0]} -> {rs[0]['pick']}")
bad = [r for r in rows if r["action"] != "planned"]
if len(rows) != 3 * images or bad:
    sys.exit(f"sanity check failed: {len(rows)} rows, {len(bad)} not planned: {bad[:2]}")
EOF
TAG_PAGES=$(grep -c '/tags/list' "$WORKDIR/warm-requests.log" || true)
MANIFESTS=$(grep -c '/manifests/' "$WORKDIR/warm-requests.log" || true)
BLOBS=$(grep -c '/blobs/' "$WORKDIR/warm-requests.log" || true)

# --- 5. timing -------------------------------------------------------------------
cat >"$WORKDIR/skopeo-loop.sh" <<EOF
#!/usr/bin/env bash
# What a user would script: each image's tags, one skopeo run per image.
for i in \$(seq -f '%02g' 0 $((IMAGES - 1))); do
    skopeo list-tags --tls-verify=false docker://$HOST/bench/img-\$i >/dev/null
done
EOF
chmod +x "$WORKDIR/skopeo-loop.sh"
say "timing: $RUNS runs each (gitops warm: its creation-time cache filled)"
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORKDIR/hyperfine.json" \
        -n gitops "$GITOPS_CMD" -n skopeo-loop "$WORKDIR/skopeo-loop.sh"
    read -r GITOPS_MEAN SKOPEO_MEAN < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["mean"], r[1]["mean"])' "$WORKDIR/hyperfine.json")
else
    t() { local t0 t1; t0=$(date +%s.%N); for ((i = 0; i < RUNS; i++)); do bash -c "$1" >/dev/null; done; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" -v n="$RUNS" 'BEGIN { printf "%.6f", (b - a) / n }'; }
    GITOPS_MEAN=$(t "$GITOPS_CMD"); SKOPEO_MEAN=$(t "$WORKDIR/skopeo-loop.sh")
fi
COLD_T0=$(date +%s.%N); rm -rf "$XDG_CACHE_HOME"; $GITOPS_CMD >/dev/null; COLD_T1=$(date +%s.%N)

say "report"
awk -v g="$GITOPS_MEAN" -v s="$SKOPEO_MEAN" -v c0="$COLD_T0" -v c1="$COLD_T1" 'BEGIN {
    printf "gitops image update --dry-run --json (warm): %.3f s\n", g
    printf "skopeo list-tags loop:                       %.3f s\n", s
    printf "ratio: %.2f (target <= 0.50)\n", g / s
    printf "gitops, cold (no creation-time cache):       %.3f s\n", c1 - c0 }'
echo "registry requests, warm run: $WARM_REQUESTS ($TAG_PAGES tag-list pages, $MANIFESTS manifests, $BLOBS blobs)"
echo "  target: tag-list pages + candidate manifests = $IMAGES + $((IMAGES * COMMITS)) = $((IMAGES + IMAGES * COMMITS))"
echo "registry requests, cold run: $COLD_REQUESTS (adds the candidates' image configs)"
