#!/usr/bin/env bash
# The Go tests under the race detector (make race): for a nightly job, not
# for every push. It takes about 35 minutes on 2 cores (packages run side
# by side: policies about 15, cmd/liaison about 25), over the 15 minutes a
# push's CI may take, so .ci/run does not include it. Same services and
# browser as .ci/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/common.sh

services
browser

step "go test -race"
go test -race -count=1 -timeout 90m ./...

step "no race found"
