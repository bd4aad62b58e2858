# Sourced by the test script: builds (once; cached) and starts a Vault
# server in dev mode on loopback for the integration tests, and stops it
# when the shell exits.
#
#   . .ci/vault.sh
#   start_vault   # exports LIAISON_TEST_VAULT_ADDR, LIAISON_TEST_VAULT_TOKEN
#                 # and LIAISON_TEST_VAULT_BIN (tests that stop and restart
#                 # a Vault of their own use the binary)
#
# Dev mode keeps everything in memory; it is for tests only.

. "$(dirname "${BASH_SOURCE[0]}")/tools.sh"

start_vault() {
  if [ -n "${_LIAISON_VAULT_PID:-}" ]; then return 0; fi
  CACHE="${CACHE:-${LIAISON_CACHE:-$HOME/.cache/liaison}}"
  ensure_vault || return 1
  local dir port token
  dir=$(mktemp -d)
  token="root-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  for port in $(seq 58200 2 58300); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/$((port + 1))) 2>/dev/null; then
      break
    fi
  done
  "$VAULT" server -dev -dev-root-token-id="$token" -dev-listen-address="127.0.0.1:$port" -dev-no-store-token \
    >"$dir/vault.log" 2>&1 &
  _LIAISON_VAULT_PID=$!
  _LIAISON_VAULT_DIR=$dir
  local prev
  prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT$//")
  # shellcheck disable=SC2064
  trap "stop_vault; $prev" EXIT
  local i
  for i in $(seq 1 100); do
    if VAULT_ADDR="http://127.0.0.1:$port" "$VAULT" status >/dev/null 2>&1; then
      export LIAISON_TEST_VAULT_ADDR="http://127.0.0.1:$port"
      export LIAISON_TEST_VAULT_TOKEN="$token"
      export LIAISON_TEST_VAULT_BIN="$VAULT"
      echo "Vault $("$VAULT" version | head -1) (dev mode) on $LIAISON_TEST_VAULT_ADDR"
      return 0
    fi
    sleep 0.1
  done
  echo "start_vault: Vault did not become ready:" >&2
  cat "$dir/vault.log" >&2
  stop_vault
  return 1
}

stop_vault() {
  if [ -n "${_LIAISON_VAULT_PID:-}" ]; then
    kill "$_LIAISON_VAULT_PID" 2>/dev/null
    wait "$_LIAISON_VAULT_PID" 2>/dev/null
    rm -rf "$_LIAISON_VAULT_DIR"
    unset _LIAISON_VAULT_PID _LIAISON_VAULT_DIR
  fi
}
