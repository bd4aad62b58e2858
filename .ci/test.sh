#!/usr/bin/env bash
# The whole test suite, as the README gives it (make test) and CI runs it:
# formatting, a tidy go.mod and vet, the protos (lint and a no-diff regeneration), the Rego
# under the stock opa tools, the Go tests (the console's in a real browser), and the two demos
# (one gateway; two across a border). Tools and caches: see .ci/common.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/common.sh

step "tools: buf"
ensure_buf

step "gofmt"
unformatted=$(git ls-files -z -- '*.go' | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
  echo "not gofmt'd:"; echo "$unformatted"; exit 1
fi

step "go mod tidy: go.mod and go.sum must need no change"
if ! go mod tidy -diff; then
  echo "go.mod or go.sum is not tidy; run go mod tidy and commit"; exit 1
fi

step "go vet"
go vet ./...

step "buf lint"
"$BUF" lint

step "buf generate: the committed code must match the protos"
"$BUF" generate
if [ -n "$(git status --porcelain -- proto)" ]; then
  echo "generated code differs from what is committed; run make generate and commit:"
  git status --porcelain -- proto
  git diff --stat -- proto
  exit 1
fi

step "opa fmt, check --strict, test (stock opa, pinned in go.mod)"
fmt_out=$(go tool opa fmt --list policies/)
if [ -n "$fmt_out" ]; then
  echo "not opa fmt'd:"; echo "$fmt_out"; exit 1
fi
go tool opa check --strict policies/
go tool opa test policies/

services
browser

step "go test"
go test -count=1 -timeout 25m ./...

step "deploy/: the manifests against the Kubernetes API types, the image's command, the systemd unit (a module of its own)"
(cd deploy && go mod tidy -diff && go vet ./... && go test -count=1 ./...)

step "demo"
go run ./cmd/liaison demo

step "demo cross-border: two gateways as peers"
go run ./cmd/liaison demo cross-border

step "all checks passed"
