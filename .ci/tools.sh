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
