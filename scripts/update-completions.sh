#!/usr/bin/env bash
# Regenerates the shell completion scripts kept in completions/ and the man page
# man/gitops.1 from the current command line definition. tests/completions.rs
# fails when they are stale.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build first, so a compile error is not mistaken for an empty script.
cargo build --quiet --locked
mkdir -p completions

generate() {
    local shell=$1 file=$2
    # COMPLETE would switch gitops to dynamic completion: keep it out.
    env -u COMPLETE NO_COLOR=1 cargo run --quiet --locked -- completions "$shell" > "completions/$file.tmp"
    mv "completions/$file.tmp" "completions/$file"
    echo "completions/$file"
}

generate bash gitops.bash
generate zsh _gitops
generate fish gitops.fish
generate powershell _gitops.ps1
generate elvish gitops.elv

# The man page: written by its staleness test.
GITOPS_UPDATE_MAN=1 cargo test --quiet --locked --test completions the_kept_man_page_is_up_to_date >/dev/null
echo "man/gitops.1"
