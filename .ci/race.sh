#!/usr/bin/env bash
# The Go tests under the race detector (make race): for a nightly job, not
# for every push. It takes about 35 minutes on 2 cores (packages run side
# by side: policies about 15, cmd/liaison about 25), over the 15 minutes a
# push's CI may take, so .ci/run does not include it. Same services and
# browser as .ci/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${LIAISON_CACHE:-$HOME/.cache/liaison}"
mkdir -p "$CACHE"
start=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(($(date +%s) - start))"; }

step "services: a throwaway PostgreSQL cluster and a Vault dev server on loopback"
. .ci/tools.sh
. .ci/postgres.sh
start_postgres
. .ci/vault.sh
start_vault

step "tools: chromium (Debian's) and axe-core, for the console's browser tests"
ensure_chromium
ensure_axe
export LIAISON_BROWSER_TESTS=required LIAISON_AXE="$AXE"

step "go test -race"
go test -race -count=1 -timeout 90m ./...

step "no race found"
