# Shared by .ci/test.sh and .ci/race.sh (sourced from the repository's
# root): the cache folder, the step timer, and the services and browser
# the Go tests talk to.
#
# Tools and caches live in $LIAISON_CACHE (default ~/.cache/liaison), so
# that a second run on the same machine downloads and builds nothing.

CACHE="${LIAISON_CACHE:-$HOME/.cache/liaison}"
mkdir -p "$CACHE"
start=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(($(date +%s) - start))"; }

. .ci/tools.sh

# services starts a throwaway PostgreSQL cluster and a Vault dev server on
# loopback; both stop when the script exits.
services() {
  step "services: a throwaway PostgreSQL cluster and a Vault dev server on loopback"
  . .ci/postgres.sh
  start_postgres
  . .ci/vault.sh
  start_vault
}

# browser installs (once) Debian's chromium and axe-core, and makes the
# console's browser tests required.
browser() {
  step "tools: chromium (Debian's) and axe-core, for the console's browser tests"
  ensure_chromium
  ensure_axe
  export LIAISON_BROWSER_TESTS=required LIAISON_AXE="$AXE"
}
