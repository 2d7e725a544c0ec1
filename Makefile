# Houqin — the only entry point people need.
#   make run    start the whole district on this host and print the dashboard URL
#   make test   every test, lint and generated-code check, starting what it needs itself
#   make bench  throughput and latency against this machine's raw limits
# Whatever the machine lacks is installed here: PostgreSQL and Chromium from Debian's
# packages, buf, protoc plugins and staticcheck from the Go module proxy, pinned.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN        := $(CURDIR)/.bin
export PATH := $(BIN):$(PATH)
export GOFLAGS := -buildvcs=false

BUF_VERSION                := v1.75.0
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
STATICCHECK_VERSION        := v0.8.2
PG_MAJOR                   := 15

PKGS := houqin.dev/...
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT  := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# ---------------------------------------------------------------------------------------
# What a fresh machine lacks.

.PHONY: deps
deps: deps-os tools ## install everything missing (OS packages, pinned Go tools)

.PHONY: deps-os
deps-os:
	@need=""; \
	[ -x /usr/lib/postgresql/$(PG_MAJOR)/bin/initdb ] || need="$$need postgresql-$(PG_MAJOR)"; \
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || need="$$need chromium"; \
	if [ -n "$$need" ]; then \
		echo "installing from Debian packages:$$need"; \
		$(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$need; \
	fi

.PHONY: tools
tools: $(BIN)/.buf-$(BUF_VERSION) $(BIN)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION) \
	$(BIN)/.protoc-gen-go-grpc-$(PROTOC_GEN_GO_GRPC_VERSION) $(BIN)/.staticcheck-$(STATICCHECK_VERSION)

# Each tool is installed at its pinned version outside the workspace, so it does not touch
# our go.mod files; the stamp file records the version.
$(BIN)/.buf-%:
	@mkdir -p $(BIN) && cd /tmp && GOWORK=off GOBIN=$(BIN) go install github.com/bufbuild/buf/cmd/buf@$* && touch $@
$(BIN)/.protoc-gen-go-%:
	@mkdir -p $(BIN) && cd /tmp && GOWORK=off GOBIN=$(BIN) go install google.golang.org/protobuf/cmd/protoc-gen-go@$* && touch $@
$(BIN)/.protoc-gen-go-grpc-%:
	@mkdir -p $(BIN) && cd /tmp && GOWORK=off GOBIN=$(BIN) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$* && touch $@
$(BIN)/.staticcheck-%:
	@mkdir -p $(BIN) && cd /tmp && GOWORK=off GOBIN=$(BIN) go install honnef.co/go/tools/cmd/staticcheck@$* && touch $@

# ---------------------------------------------------------------------------------------
# Run.

.PHONY: run
run: deps-os ## start the district: private PostgreSQL, embedded NATS, all services, demo data
	@go build -o $(BIN)/houqin ./tools/cmd/houqin
	@$(BIN)/houqin dev

.PHONY: build
build: ## build every binary into .bin/
	@go build -o $(BIN)/ ./services/assets/cmd/assets ./services/procurement/cmd/procurement ./services/projector/cmd/projector \
		./services/gateway/cmd/gateway ./tools/cmd/houqin ./tools/cmd/loadgen

# ---------------------------------------------------------------------------------------
# Test.

.PHONY: test
test: deps check ## run every test (real PostgreSQL, embedded NATS, headless Chromium) and every check
	go test -count=1 -timeout 20m $(PKGS)

.PHONY: check
check: tools fmt-check vet staticcheck proto-check ## static checks only

.PHONY: fmt-check
fmt-check:
	@out=$$(gofmt -l proto services tools); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet:
	go vet $(PKGS)

.PHONY: staticcheck
staticcheck: tools
	staticcheck $(PKGS)

.PHONY: proto-check
proto-check: tools ## buf lint, buf breaking against main, generated code current
	cd proto && buf lint
	@if git rev-parse --verify -q main:proto/buf.yaml >/dev/null; then \
		echo "buf breaking --against main"; \
		g=$$(git rev-parse --path-format=absolute --git-common-dir); \
		cd proto && buf breaking --against "$$g#branch=main,subdir=proto"; \
	else echo "buf breaking: no proto on main yet, nothing to compare"; fi
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	(cd proto && buf generate -o $$tmp); \
	if ! diff -r -q proto/gen $$tmp/gen; then \
		echo "generated code in proto/gen is stale: run make proto and commit"; exit 1; fi; \
	echo "generated code is current"

.PHONY: proto
proto: tools ## regenerate proto/gen from the .proto files
	cd proto && buf lint && rm -rf gen && buf generate

.PHONY: fmt
fmt: ## gofmt every Go file
	gofmt -w proto services tools

# ---------------------------------------------------------------------------------------
# Measure.

.PHONY: bench
bench: deps-os ## benchmarks: ratios against this machine's raw PostgreSQL and JetStream limits
	go run ./tools/cmd/loadgen

.PHONY: clean
clean: ## remove built binaries and the dev data folder (.houqin)
	rm -rf $(BIN)/houqin $(BIN)/assets $(BIN)/projector $(BIN)/gateway $(BIN)/loadgen .houqin
