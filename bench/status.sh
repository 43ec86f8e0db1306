#!/usr/bin/env bash
# Benchmark `gitops status --no-fetch --json` against the git CLI pipeline a user
# would script for the same questions, on a generated configuration repository
# (20,000 manifests, 5,000 commits, dev/stage/prod hundreds of commits apart).
#
# Usage: bench/status.sh [WORKDIR]        (default /tmp/gitops-bench-status)
#
# Environment:
#   RUNS=5          timed runs of each side
#   GEN_ARGS=...    extra options for bench/gen_repo.py (e.g. "--apps 200 --commits 1000")
#   SCALING=1       also time gitops on 1 environment vs 3 identical ones (0: skip)
#
# The repository is generated once per WORKDIR (and again when gen_repo.py or
# GEN_ARGS change); later runs reuse it. Target (from the issue): gitops takes at
# most half the pipeline's time, peaks under 200 MB, and its cost grows with the
# number of distinct blobs, not with environments x files.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORKDIR=$(mkdir -p "${1:-/tmp/gitops-bench-status}" && cd "${1:-/tmp/gitops-bench-status}" && pwd)
RUNS=${RUNS:-5}
GEN_ARGS=${GEN_ARGS:-}
SCALING=${SCALING:-1}
REPO=$WORKDIR/work
BIN=$WORKDIR/bin/gitops
BENCH_START=$(date +%s.%N)

say() { printf '\n== %s\n' "$*"; }
# Quiet, reproducible git: no user or system configuration.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export NO_COLOR=1

# --- 1. build ----------------------------------------------------------------
say "building gitops (release)"
(cd "$ROOT" && cargo build --release --locked)
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# A private copy: another cargo run in the project cannot swap it mid-benchmark.
mkdir -p "$WORKDIR/bin"
cp "$TARGET_DIR/release/gitops" "$BIN"
echo "binary: $BIN ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ', with uncommitted changes'))"

# --- 2. the repository ---------------------------------------------------------
STAMP="$(sha1sum "$ROOT/bench/gen_repo.py" | cut -d' ' -f1) $GEN_ARGS"
if [[ ! -f $WORKDIR/.generated || "$(cat "$WORKDIR/.generated")" != "$STAMP" || ! -d $REPO/.git ]]; then
    say "generating the repository in $WORKDIR"
    rm -f "$WORKDIR/.generated"
    rm -rf "$WORKDIR/variants"
    # shellcheck disable=SC2086 # GEN_ARGS is a list of options
    python3 "$ROOT/bench/gen_repo.py" "$WORKDIR" $GEN_ARGS
    echo "$STAMP" >"$WORKDIR/.generated"
else
    say "reusing the repository in $WORKDIR"
fi

# The same questions, asked of the git CLI.
cat >"$WORKDIR/pipeline.sh" <<'EOF'
#!/usr/bin/env bash
# What a user would script for `gitops status`: pending commits both ways and the
# files that differ for each promotion pair, and the image lines of each branch.
set -euo pipefail
cd "$1"
for pair in dev:stage stage:prod; do
    a=${pair%%:*} b=${pair##*:}
    git rev-list --count "origin/$a..origin/$b" >/dev/null
    git rev-list --count "origin/$b..origin/$a" >/dev/null
    git diff --name-only "origin/$a...origin/$b" >/dev/null
done
for branch in dev stage prod; do
    git grep -h -E 'image:' "origin/$branch" -- '*.yaml' '*.yml' >/dev/null
done
EOF
chmod +x "$WORKDIR/pipeline.sh"

# --- 3. warm up and check the answer ------------------------------------------
say "warm-up run and sanity check"
"$BIN" -C "$REPO" status --no-fetch --json >"$WORKDIR/status.json"
STAGE_BEHIND=$(git -C "$REPO" rev-list --count origin/stage..origin/dev)
PROD_BEHIND=$(git -C "$REPO" rev-list --count origin/prod..origin/stage)
python3 - "$WORKDIR/status.json" "$STAGE_BEHIND" "$PROD_BEHIND" <<'EOF'
import json, sys
status = json.load(open(sys.argv[1]))
want = {"stage": int(sys.argv[2]), "prod": int(sys.argv[3]), "dev": 0}
envs = status["environments"]
print(f"{'env':6} {'pending':>8} {'(git)':>6} {'apps':>5} {'drift':>6} {'images':>7} {'violations':>11}")
for e in envs:
    print(f"{e['name']:6} {e['pending']:>8} {want.get(e['name'], '?'):>6} {len(e['pending_apps']):>5} "
          f"{e['drift']:>6} {len(e['images']):>7} {len(e['policy_violations']):>11}")
problems = []
if [e["name"] for e in envs] != ["dev", "stage", "prod"]:
    problems.append(f"expected environments dev, stage, prod, got {[e['name'] for e in envs]}")
for e in envs:
    if e["name"] in want and e["pending"] != want[e["name"]]:
        problems.append(f"{e['name']}: pending {e['pending']}, git rev-list says {want[e['name']]}")
    if e["name"] != "dev" and e["pending"] == 0:
        problems.append(f"{e['name']}: nothing pending, expected commits waiting")
    elif e["name"] != "dev" and e["pending"] < 100:
        print(f"note: {e['name']} has only {e['pending']} pending commits (hundreds with the default GEN_ARGS)")
    if not e["images"]:
        problems.append(f"{e['name']}: no images found")
if problems:
    sys.exit("sanity check failed:\n  " + "\n  ".join(problems))
print("ok: 3 environments, pending counts match git rev-list")
EOF

# --- 4. timing -------------------------------------------------------------------
GITOPS_CMD="$BIN -C $REPO status --no-fetch --json"
PIPELINE_CMD="$WORKDIR/pipeline.sh $REPO"

# mean seconds of RUNS runs of a command (fallback when hyperfine is missing)
time_loop() {
    local total=0 t0 t1 i
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s.%N)
        bash -c "$1" >/dev/null
        t1=$(date +%s.%N)
        total=$(awk -v a="$total" -v b="$t0" -v c="$t1" 'BEGIN { printf "%.6f", a + c - b }')
    done
    awk -v t="$total" -v n="$RUNS" 'BEGIN { printf "%.6f", t / n }'
}

# time_pair NAME1 CMD1 NAME2 CMD2 -> sets MEAN_1 and MEAN_2 (seconds)
time_pair() {
    if command -v hyperfine >/dev/null 2>&1; then
        local json=$WORKDIR/hyperfine-$1.json
        hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$json" \
            -n "$1" "$2" -n "$3" "$4"
        read -r MEAN_1 MEAN_2 < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["mean"], r[1]["mean"])' "$json")
    else
        echo "(hyperfine not found: a bash loop of $RUNS runs each; apt-get install hyperfine for statistics)"
        bash -c "$2" >/dev/null
        bash -c "$4" >/dev/null
        MEAN_1=$(time_loop "$2")
        MEAN_2=$(time_loop "$4")
        printf '%s: %.3f s\n%s: %.3f s\n' "$1" "$MEAN_1" "$3" "$MEAN_2"
    fi
}

say "timing: $RUNS runs each"
time_pair gitops "$GITOPS_CMD" pipeline "$PIPELINE_CMD"
GITOPS_MEAN=$MEAN_1 PIPELINE_MEAN=$MEAN_2

# The first run, two ways, each in the same rounds as the pipeline it is compared
# with (the machine's speed moves by 15-30% from one minute to the next here, so
# runs measured apart are not compared):
# - cold: no .git/gitops caches (summaries, kept trees), git's commit-graph
#   present (written by the runs above), against the pipeline on the same
#   repository;
# - fresh clone: no caches and no commit-graph either, as `git clone` leaves a
#   repository (gitops reads the commits from the packs and has git write the
#   graph), against the pipeline on a repository with no commit-graph.
# Rounds alternate the order of the four runs.
say "timing: first runs (cold, and fresh clone), $RUNS rounds"
read -r COLD_MEAN COLD_PIPE FRESH_MEAN FRESH_PIPE < <(python3 - "$REPO" "$BIN" "$WORKDIR/pipeline.sh" "$RUNS" <<'PY'
import os, shutil, statistics, subprocess, sys, time
repo, gitops, pipeline, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
info = os.path.join(repo, ".git/objects/info")
def no_caches():
    shutil.rmtree(os.path.join(repo, ".git/gitops"), ignore_errors=True)
def no_graph():
    for name in ("commit-graph", "commit-graphs"):
        path = os.path.join(info, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
def graph():
    if not os.path.exists(os.path.join(info, "commit-graph")):
        subprocess.run(["git", "-C", repo, "commit-graph", "write", "--reachable", "--no-progress"], check=True)
status = [gitops, "-C", repo, "status", "--no-fetch", "--json"]
runs_of = {
    "cold": (lambda: (graph(), no_caches()), status),
    "cold-pipeline": (graph, ["bash", pipeline, repo]),
    "fresh": (lambda: (no_graph(), no_caches()), status),
    "fresh-pipeline": (no_graph, ["bash", pipeline, repo]),
}
times = {name: [] for name in runs_of}
for i in range(runs):
    names = list(runs_of) if i % 2 == 0 else list(runs_of)[::-1]
    for name in names:
        prepare, cmd = runs_of[name]
        prepare()
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times[name].append(time.perf_counter() - t)
graph()
for name, ts in times.items():
    print(f"{name:15} mean {statistics.mean(ts):.3f} s, median {statistics.median(ts):.3f} s", file=sys.stderr)
print(*(f"{statistics.mean(times[n]):.6f}" for n in runs_of))
PY
)
rm -rf "$REPO/.git/gitops"
COLD_PEAK_KB=$( (/usr/bin/time -v $GITOPS_CMD >/dev/null) 2>&1 | awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }')
echo "cold: $COLD_MEAN s against the pipeline's $COLD_PIPE s, peak ${COLD_PEAK_KB:-?} KB"
echo "fresh clone: $FRESH_MEAN s against the pipeline's $FRESH_PIPE s (no commit-graph)"

# --- 5. peak memory ---------------------------------------------------------------
say "peak memory"
if [[ -x /usr/bin/time ]]; then
    PEAK_KB=$(/usr/bin/time -v "$BIN" -C "$REPO" status --no-fetch --json 2>&1 >/dev/null |
        awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }')
else
    PEAK_KB=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$BIN" -C "$REPO" status --no-fetch --json)
fi
echo "maximum resident set size: $PEAK_KB KB"

# --- 6. shape of the repository -------------------------------------------------
FILES=$(git -C "$REPO" ls-tree -r --name-only origin/dev | wc -l)
COMMITS=$(git -C "$REPO" rev-list --count origin/dev origin/stage origin/prod)
read -r ENTRIES DISTINCT < <(for b in dev stage prod; do git -C "$REPO" ls-tree -r "origin/$b"; done |
    awk '$2 == "blob" { n++; if (!seen[$3]++) d++ } END { print n, d }')

# --- 7. scaling: 1 environment vs 3 identical ones -------------------------------
# Two repositories sharing the generated objects (alternates), each whose
# origin/HEAD has a .gitops.yaml on top of dev's tree: one with the environment
# dev only, one with dev, stage and prod all at that same commit (3 x the
# environment-files, the same distinct blobs). Same tag policy everywhere.
variant() { # NAME ENVS...
    local dir=$WORKDIR/variants/$1 blob tree commit env
    shift
    rm -rf "$dir"
    git init -q "$dir"
    echo "$REPO/.git/objects" >"$dir/.git/objects/info/alternates"
    git -C "$dir" remote add origin "$WORKDIR/origin.git"
    blob=$({
        echo "environments:"
        for env in "$@"; do printf '  - name: %s\n    tags: commit-sha\n' "$env"; done
    } | git -C "$dir" hash-object -w --stdin)
    export GIT_INDEX_FILE=$dir/.git/bench-index
    git -C "$dir" read-tree "$(git -C "$REPO" rev-parse origin/dev^{tree})"
    git -C "$dir" update-index --add --cacheinfo "100644,$blob,.gitops.yaml"
    tree=$(git -C "$dir" write-tree)
    unset GIT_INDEX_FILE
    commit=$(GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_AUTHOR_DATE=2000000000 \
        GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com GIT_COMMITTER_DATE=2000000000 \
        git -C "$dir" commit-tree -p "$(git -C "$REPO" rev-parse origin/dev)" -m "bench: $*" "$tree")
    for env in "$@"; do git -C "$dir" update-ref "refs/remotes/origin/$env" "$commit"; done
    git -C "$dir" symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/dev
}

if [[ $SCALING != 0 ]]; then
    say "scaling: 1 environment vs 3 environments on identical trees"
    variant one dev
    variant three dev stage prod
    "$BIN" -C "$WORKDIR/variants/three" status --no-fetch --json |
        python3 -c 'import json,sys; e=json.load(sys.stdin)["environments"]; assert [x["name"] for x in e]==["dev","stage","prod"], e; assert all(len(x["images"]) for x in e)'
    time_pair one-env "$BIN -C $WORKDIR/variants/one status --no-fetch --json" \
        three-identical "$BIN -C $WORKDIR/variants/three status --no-fetch --json"
    ONE_MEAN=$MEAN_1 THREE_MEAN=$MEAN_2
fi

# --- 8. report ----------------------------------------------------------------------
BENCH_END=$(date +%s.%N)
say "report"
python3 - <<EOF
gitops, pipeline = $GITOPS_MEAN, $PIPELINE_MEAN
peak_mb = $PEAK_KB / 1024
ratio = gitops / pipeline
entries, distinct = $ENTRIES, $DISTINCT
print(f"repository        {$FILES} files per branch, {$COMMITS} commits")
print(f"                  pending: stage {$STAGE_BEHIND} behind dev, prod {$PROD_BEHIND} behind stage")
print(f"blobs             {distinct} distinct of {entries} entries (3 environments x files), {distinct / entries:.0%}")
print(f"gitops status     {gitops:.3f} s mean of $RUNS")
print(f"git pipeline      {pipeline:.3f} s mean of $RUNS")
print(f"ratio             {ratio:.2f}  (target <= 0.50: {'PASS' if ratio <= 0.5 else 'FAIL'})")
print(f"peak memory       {peak_mb:.1f} MB  (target < 200 MB: {'PASS' if peak_mb < 200 else 'FAIL'})")
cold = $COLD_MEAN / $COLD_PIPE
fresh = $FRESH_MEAN / $FRESH_PIPE
print(f"cold gitops       {$COLD_MEAN:.3f} s mean of $RUNS, no .git/gitops caches, commit-graph present; "
      f"pipeline {$COLD_PIPE:.3f} s in the same rounds; peak {${COLD_PEAK_KB:-0} / 1024:.1f} MB")
print(f"cold ratio        {cold:.2f}  (target <= 0.50: {'PASS' if cold <= 0.5 else 'FAIL'})")
print(f"fresh clone       {$FRESH_MEAN:.3f} s mean of $RUNS, no caches and no commit-graph; "
      f"pipeline {$FRESH_PIPE:.3f} s with no commit-graph, same rounds")
print(f"fresh ratio       {fresh:.2f}  (target <= 0.50: {'PASS' if fresh <= 0.5 else 'FAIL'})")
if "$SCALING" != "0":
    one, three = ${ONE_MEAN:-0}, ${THREE_MEAN:-0}
    print(f"scaling           1 env {one:.3f} s, 3 identical envs {three:.3f} s: x{three / one:.2f} "
          f"for x3 environment-files, same distinct blobs (blob-bound: close to x1)")
print(f"benchmark wall    {$BENCH_END - $BENCH_START:.0f} s")
EOF
