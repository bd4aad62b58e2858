# Sourced by the scripts: fetches the tools that are not Go modules of the
# project, into $CACHE, once.

BUF_VERSION=1.75.0

# ensure_buf sets BUF to a buf binary, installing the npm package
# @bufbuild/buf (a static binary) on first use. buf stays out of go.mod: it
# would move protobuf to a pseudo-version.
ensure_buf() {
  local dir="$CACHE/buf-$BUF_VERSION"
  BUF="$dir/node_modules/.bin/buf"
  if [ ! -x "$BUF" ]; then
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "@bufbuild/buf@$BUF_VERSION" >/dev/null
  fi
  "$BUF" --version >/dev/null
}

VAULT_VERSION=1.14.2   # MPL-2.0; later versions are BUSL-1.1
VAULT_SDK_VERSION=0.9.2
VAULT_API_VERSION=1.9.2

# ensure_vault sets VAULT to a Vault server binary, building it from the Go
# module proxy on first use (about 7 minutes and 6 GiB of Go caches on 2
# cores; the binary is cached, keyed on this recipe). Vault 1.14 was
# released against an unpublished in-tree sdk; the published sdk v0.9.2
# compiles with it but added one start-up assertion that the 1.14 backends
# trip, so that one panic is removed from a private copy of the sdk.
ensure_vault() {
  local key
  key=$(printf '%s %s %s v2' "$VAULT_VERSION" "$VAULT_SDK_VERSION" "$VAULT_API_VERSION" | sha256sum | cut -c1-12)
  # (the key names the recipe; bump the trailing tag when the recipe changes)
  local dir="$CACHE/vault-$VAULT_VERSION-$key"
  VAULT="$dir/vault"
  if [ -x "$VAULT" ]; then return 0; fi
  echo "building Vault $VAULT_VERSION (MPL-2.0) into $dir; this happens once per machine"
  local work
  work=$(mktemp -d)
  local vsrc ssrc
  vsrc=$(GOFLAGS=-mod=mod go mod download -json "github.com/hashicorp/vault@v$VAULT_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  ssrc=$(GOFLAGS=-mod=mod go mod download -json "github.com/hashicorp/vault/sdk@v$VAULT_SDK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  cp -r "$vsrc" "$work/vault" && cp -r "$ssrc" "$work/vault/_sdk" && chmod -R u+w "$work/vault"
  (
    set -e
    cd "$work/vault"
    grep -q 'defines a CreateOperation but no ExistenceCheck' _sdk/framework/backend.go
    sed -i 's/^\(\s*\)panic(fmt.Sprintf("Pattern %v defines a CreateOperation but no ExistenceCheck"/\1_ = (fmt.Sprintf("Pattern %v defines a CreateOperation but no ExistenceCheck"/' _sdk/framework/backend.go
    if grep -q 'panic(fmt.Sprintf("Pattern %v defines a CreateOperation' _sdk/framework/backend.go; then
      echo "ensure_vault: the sdk patch no longer applies" >&2; exit 1
    fi
    go mod edit -dropreplace github.com/hashicorp/vault/api \
      -dropreplace github.com/hashicorp/vault/api/auth/approle \
      -dropreplace github.com/hashicorp/vault/api/auth/kubernetes \
      -dropreplace github.com/hashicorp/vault/api/auth/userpass \
      -replace github.com/hashicorp/vault/sdk=./_sdk \
      -require "github.com/hashicorp/vault/api@v$VAULT_API_VERSION"
    CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off go build -trimpath -ldflags "-s -w" -o "$work/vault.bin" .
  ) || { echo "ensure_vault: build failed" >&2; rm -rf "$work"; return 1; }
  mkdir -p "$dir" && mv "$work/vault.bin" "$VAULT" && rm -rf "$work"
  "$VAULT" version
}

AXE_VERSION=4.14.1     # MPL-2.0; console/browser_test.go names the same version

# ensure_axe sets AXE to axe-core's axe.min.js, installing the npm package
# axe-core on first use. The console's browser tests inject it into each
# page to check accessibility; it is never committed or served.
ensure_axe() {
  local dir="$CACHE/axe-core-$AXE_VERSION"
  AXE="$dir/node_modules/axe-core/axe.min.js"
  if [ ! -f "$AXE" ]; then
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION" >/dev/null
  fi
  test -f "$AXE"
}

# ensure_chromium installs Debian's chromium, which the console's browser
# tests drive, where it is missing (it needs root, as apt-get does).
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "tools.sh: chromium is missing; install Debian's chromium package (apt-get install chromium)" >&2
    return 1
  fi
  echo "installing chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  command -v chromium >/dev/null 2>&1
}
