# Liaison's developer commands. `make help` lists them.
CACHE ?= $(HOME)/.cache/liaison
export LIAISON_CACHE := $(CACHE)

.PHONY: help demo test race generate checkgenerate lint build

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' Makefile | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

demo: ## run the demo on the embedded default
	go run ./cmd/liaison demo

test: ## the whole test suite, integration tests included (what CI runs)
	bash .ci/test.sh

race: ## the Go tests under the race detector (about 35 minutes: a nightly job, not in CI)
	bash .ci/race.sh

build: ## build the liaison binary into ./bin
	go build -o bin/liaison ./cmd/liaison

generate: ## regenerate the Go code from the protos
	bash -c '. .ci/tools.sh && CACHE=$(CACHE) ensure_buf && $$BUF format -w && $$BUF generate'

lint: ## gofmt, go mod tidy -diff, go vet, buf lint, opa fmt and check
	test -z "$$(git ls-files -z -- '*.go' | xargs -0 gofmt -l)"
	go mod tidy -diff
	go vet ./...
	bash -c '. .ci/tools.sh && CACHE=$(CACHE) ensure_buf && $$BUF lint'
	test -z "$$(go tool opa fmt --list policies/)"
	go tool opa check --strict policies/
