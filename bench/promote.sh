#!/usr/bin/env bash
# Benchmark `gitops promote ENV --dry-run --json` against `git merge-tree
# --write-tree` of the same two branches, on the generated configuration
# repository of bench/status.sh (20,000 manifests, 5,000 commits, stage hundreds
# of commits behind dev and prod hundreds behind stage, hotfixes on prod).
#
# Usage: bench/promote.sh [WORKDIR]       (default /tmp/gitops-bench-promote)
#
# Environment:
#   RUNS=5          timed runs of each side
#   GEN_ARGS=...    extra options for bench/gen_repo.py (e.g. "--apps 200 --commits 1000")
#
# A dry run plans the whole promotion: it fetches origin, merges the upstream into
# the target in the object store (what `git merge-tree` does), puts back the
# target's pinned values, and diffs the built tree semantically against the
# target. `git merge-tree --write-tree` is the floor: the merge alone, no fetch,
# no pinned values, no semantic diff. The ratio says what the rest costs.
#
# The repository is generated once per WORKDIR (and again when gen_repo.py or
# GEN_ARGS change); WORKDIR may be bench/status.sh's to share its repository.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORKDIR=$(mkdir -p "${1:-/tmp/gitops-bench-promote}" && cd "${1:-/tmp/gitops-bench-promote}" && pwd)
RUNS=${RUNS:-5}
GEN_ARGS=${GEN_ARGS:-}
REPO=$WORKDIR/work
BIN=$WORKDIR/bin/gitops

say() { printf '\n== %s\n' "$*"; }
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export NO_COLOR=1

# --- 1. build ----------------------------------------------------------------
say "building gitops (release)"
(cd "$ROOT" && cargo build --release --locked)
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
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
# The git user a merge needs; gitops commits as itself.
git -C "$REPO" config user.name bench
git -C "$REPO" config user.email bench@example.com

# --- 3. warm up and look at the answer ----------------------------------------
# ENV FROM EXTRA-ARGS...: one run of each side, and what it answered.
probe() {
    local env=$1 from=$2 code
    shift 2
    set +e
    "$BIN" -C "$REPO" promote "$env" --dry-run --json "$@" >"$WORKDIR/promote-$env.json" 2>"$WORKDIR/promote-$env.err"
    code=$?
    set -e
    python3 - "$WORKDIR/promote-$env.json" "$code" "$env" "$WORKDIR/promote-$env.err" <<'EOF'
import json, sys
path, code, env, err = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if code != 0:
    print(f"gitops promote {env}: exit {code} (a refusal is timed as it is)")
    print(open(err).read().strip()[:2000])
    sys.exit(0)
plan = json.load(open(path))
fields = sum(len(r.get("fields") or []) for r in plan.get("resources") or [])
print(f"gitops promote {env}: action {plan.get('action')}, {plan.get('commits')} commits, "
      f"{len(plan.get('files') or [])} files, {len(plan.get('resources') or [])} resources "
      f"({fields} fields), {len(plan.get('kept') or [])} kept, {len(plan.get('warnings') or [])} warnings")
EOF
    set +e
    git -C "$REPO" merge-tree --write-tree --name-only "origin/$env" "origin/$from" >"$WORKDIR/merge-tree-$env.out"
    code=$?
    set -e
    if [[ $code == 1 ]]; then
        echo "git merge-tree origin/$env origin/$from: conflicts in $(awk 'NR > 1 && $0 == "" { exit } NR > 1 && !seen[$0]++ { n++ } END { print n + 0 }' "$WORKDIR/merge-tree-$env.out") files (gitops resolves the pinned ones)"
    else
        echo "git merge-tree origin/$env origin/$from: exit $code"
    fi
}

say "warm-up runs and what they answered"
probe stage dev
probe prod stage --yes
echo "pending: stage $(git -C "$REPO" rev-list --count origin/stage..origin/dev) behind dev," \
    "prod $(git -C "$REPO" rev-list --count origin/prod..origin/stage) behind stage"

# --- 4. timing -------------------------------------------------------------------
time_loop() {
    local total=0 t0 t1 i
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s.%N)
        bash -c "$1" >/dev/null 2>&1 || true
        t1=$(date +%s.%N)
        total=$(awk -v a="$total" -v b="$t0" -v c="$t1" 'BEGIN { printf "%.6f", a + c - b }')
    done
    awk -v t="$total" -v n="$RUNS" 'BEGIN { printf "%.6f", t / n }'
}

# time_pair NAME1 CMD1 NAME2 CMD2 -> sets MEAN_1 and MEAN_2 (seconds)
time_pair() {
    if command -v hyperfine >/dev/null 2>&1; then
        local json=$WORKDIR/hyperfine-$1.json
        hyperfine --style basic --warmup 1 --runs "$RUNS" --ignore-failure --export-json "$json" \
            -n "$1" "$2" -n "$3" "$4"
        read -r MEAN_1 MEAN_2 < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["mean"], r[1]["mean"])' "$json")
    else
        echo "(hyperfine not found: a bash loop of $RUNS runs each; apt-get install hyperfine for statistics)"
        MEAN_1=$(time_loop "$2")
        MEAN_2=$(time_loop "$4")
        printf '%s: %.3f s\n%s: %.3f s\n' "$1" "$MEAN_1" "$3" "$MEAN_2"
    fi
}

say "timing promote stage (dev -> stage): $RUNS runs each"
time_pair promote-stage "$BIN -C $REPO promote stage --dry-run --json" \
    merge-tree-stage "git -C $REPO merge-tree --write-tree origin/stage origin/dev"
STAGE_GITOPS=$MEAN_1 STAGE_GIT=$MEAN_2

say "timing promote prod (stage -> prod): $RUNS runs each"
time_pair promote-prod "$BIN -C $REPO promote prod --dry-run --yes --json" \
    merge-tree-prod "git -C $REPO merge-tree --write-tree origin/prod origin/stage"
PROD_GITOPS=$MEAN_1 PROD_GIT=$MEAN_2

say "peak memory"
peak() {
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }'
}
if [[ -x /usr/bin/time ]]; then
    STAGE_PEAK_KB=$(peak "$BIN" -C "$REPO" promote stage --dry-run --json || true)
    PROD_PEAK_KB=$(peak "$BIN" -C "$REPO" promote prod --dry-run --yes --json || true)
else
    STAGE_PEAK_KB=0 PROD_PEAK_KB=0
fi
echo "promote stage: ${STAGE_PEAK_KB:-?} KB, promote prod: ${PROD_PEAK_KB:-?} KB"

# --- 5. report ----------------------------------------------------------------------
say "report"
python3 - <<EOF
rows = [("stage", $STAGE_GITOPS, $STAGE_GIT, ${STAGE_PEAK_KB:-0}), ("prod", $PROD_GITOPS, $PROD_GIT, ${PROD_PEAK_KB:-0})]
for env, gitops, git, peak in rows:
    print(f"promote {env:5}  gitops {gitops:.3f} s   git merge-tree {git:.3f} s   "
          f"ratio {gitops / git:.2f}   peak {peak / 1024:.1f} MB")
EOF
