#!/usr/bin/env bash
# Benchmark: one manifest file of DOCS Kubernetes documents against the same
# documents as DOCS separate files (issue 9, item 8: the one file must cost no
# more than twice the separate files).
#
#   bench/manydocs.sh [WORKDIR]       # default WORKDIR: /tmp/gitops-bench-manydocs
#
# Environment: DOCS (4000), RUNS (5), BIN (a gitops binary to time; default:
# build this checkout with `cargo build --release --locked`), BASE_BIN (a second
# binary, e.g. the one before a change: its answers must be the same, and it is
# timed too), SKIP_BASE_TIMING=1 (only compare BASE_BIN's answers).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKDIR=${1:-/tmp/gitops-bench-manydocs}
DOCS=${DOCS:-4000}
RUNS=${RUNS:-5}
BENCH_START=$(date +%s)
say() { printf '\n== %s\n' "$*"; }
mkdir -p "$WORKDIR/bin" "$WORKDIR/out"

# --- 1. the binary -------------------------------------------------------------
if [[ -z ${BIN:-} ]]; then
    say "building gitops (release)"
    (cd "$ROOT" && cargo build --release --locked --quiet)
    cp "${CARGO_TARGET_DIR:-$ROOT/target}/release/gitops" "$WORKDIR/bin/gitops"
    BIN=$WORKDIR/bin/gitops
fi
echo "binary: $BIN"
[[ -n ${BASE_BIN:-} ]] && echo "base binary: $BASE_BIN"

# --- 2. the repositories ---------------------------------------------------------
STAMP="$(sha1sum "$ROOT/bench/gen_manydocs.py" | cut -d' ' -f1) $DOCS"
if [[ ! -f $WORKDIR/.generated || "$(cat "$WORKDIR/.generated")" != "$STAMP" ]]; then
    say "generating two repositories of $DOCS documents in $WORKDIR"
    rm -f "$WORKDIR/.generated"
    python3 "$ROOT/bench/gen_manydocs.py" "$WORKDIR" --docs "$DOCS"
    echo "$STAMP" >"$WORKDIR/.generated"
else
    say "reusing the repositories in $WORKDIR"
fi
SINGLE=$WORKDIR/single/work
SEPARATE=$WORKDIR/separate/work

COMMANDS=(
    "status:status --no-fetch --json"
    "diff:diff stage --no-fetch --json"
    "promote:promote stage --dry-run --json"
)

# --- 3. the answers: the same resources, images and changes in both layouts ------
# (and the same as BASE_BIN's, byte for byte, when it is given)
say "checking the answers"
for entry in "${COMMANDS[@]}"; do
    name=${entry%%:*} args=${entry#*:}
    for layout in single separate; do
        # shellcheck disable=SC2086 # args is a list of arguments
        "$BIN" -C "$WORKDIR/$layout/work" $args >"$WORKDIR/out/$name-$layout.json"
        if [[ -n ${BASE_BIN:-} ]]; then
            # shellcheck disable=SC2086
            "$BASE_BIN" -C "$WORKDIR/$layout/work" $args >"$WORKDIR/out/$name-$layout-base.json"
            if cmp -s "$WORKDIR/out/$name-$layout.json" "$WORKDIR/out/$name-$layout-base.json"; then
                echo "$name ($layout): the same output as the base binary"
            else
                echo "$name ($layout): DIFFERS from the base binary's output" >&2
                diff <(head -c 100000 "$WORKDIR/out/$name-$layout-base.json") \
                    <(head -c 100000 "$WORKDIR/out/$name-$layout.json") | head -20 >&2
                exit 1
            fi
        fi
    done
    python3 - "$name" "$WORKDIR/out/$name-single.json" "$WORKDIR/out/$name-separate.json" <<'EOF'
import json, re, sys
name, single, separate = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))

def strip(v):
    """The answer with file names, commit ids and file lists set aside, and
    the apps pending (named by directory). The kept values (and the warnings
    about them) are compared: those of the resources the source changed since
    the environments met, whether each is a file or a document."""
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items()
                if k not in ("file", "files", "id", "head", "commit", "pending_apps", "tip",
                          "branch_url", "compare_url", "body", "title")}
    if isinstance(v, list):
        out = [strip(x) for x in v]
        return sorted(out, key=lambda x: json.dumps(x, sort_keys=True))
    if isinstance(v, str):
        return re.sub(r"apps/[^ :]*\.yaml(#\d+)?", "FILE", v)
    return v

a, b = strip(single), strip(separate)
if a != b:
    sys.exit(f"{name}: the single file and the separate files give different answers")
sizes = {k: len(v) for k, v in single.items() if isinstance(v, list)}
print(f"{name}: same answer in both layouts {sizes}")
EOF
done

# --- 4. timing ---------------------------------------------------------------------
# mean seconds of RUNS runs (fallback when hyperfine is missing)
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

# time_one NAME CMD -> prints the mean seconds
time_one() {
    if command -v hyperfine >/dev/null 2>&1; then
        local json=$WORKDIR/out/hyperfine-$1.json
        hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$json" -n "$1" "$2" >/dev/null
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["mean"], r["stddev"] or 0)' "$json"
    else
        bash -c "$2" >/dev/null
        echo "$(time_loop "$2") 0"
    fi
}

peak_kb() {
    # shellcheck disable=SC2086
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }'
}

REPORT=$WORKDIR/out/report.tsv
: >"$REPORT"
BINS=("new:$BIN")
if [[ -n ${BASE_BIN:-} && -z ${SKIP_BASE_TIMING:-} ]]; then
    BINS+=("base:$BASE_BIN")
fi
for b in "${BINS[@]}"; do
    which_bin=${b%%:*} bin=${b#*:}
    for entry in "${COMMANDS[@]}"; do
        name=${entry%%:*} args=${entry#*:}
        for layout in single separate; do
            say "timing $which_bin $name ($layout): $RUNS runs"
            read -r mean sd < <(time_one "$which_bin-$name-$layout" "$bin -C $WORKDIR/$layout/work $args")
            # shellcheck disable=SC2086
            kb=$(peak_kb "$bin" -C "$WORKDIR/$layout/work" $args)
            printf '%.3f s ± %.3f, peak %.1f MB\n' "$mean" "$sd" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$which_bin" "$name" "$layout" "$mean" "$sd" "$kb" >>"$REPORT"
        done
    done
done

# --- 5. report ------------------------------------------------------------------
say "report ($DOCS documents: one file against $DOCS files; target ratio <= 2)"
python3 - "$REPORT" "$DOCS" "$(($(date +%s) - BENCH_START))" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
t = {(b, n, l): (float(m), float(s), int(k)) for b, n, l, m, s, k in rows}
print(f"{'binary':6} {'command':8} {'one file':>16} {'separate files':>16} {'ratio':>6} {'peak MB (one/separate)':>24}")
fails = 0
for b in ("new", "base"):
    for n in ("status", "diff", "promote"):
        if (b, n, "single") not in t:
            continue
        (ms, ss, ks), (mp, sp, kp) = t[(b, n, "single")], t[(b, n, "separate")]
        ratio = ms / mp
        verdict = "" if b != "new" else ("PASS" if ratio <= 2 else "FAIL")
        fails += b == "new" and ratio > 2
        print(f"{b:6} {n:8} {ms:>8.3f} s ±{ss:5.3f} {mp:>8.3f} s ±{sp:5.3f} {ratio:>6.2f} {ks/1024:>11.1f} / {kp/1024:<10.1f} {verdict}")
print(f"benchmark wall {sys.argv[3]} s")
EOF
