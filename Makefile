# flexcp: build, run and test. Every target that needs packages or
# hugepages calls `deps` first, so a fresh Debian 12 machine needs only
# `make demo` or `make test` (as root).

SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c
export PATH := /usr/local/go/bin:$(PATH)
GO        ?= go
BIN       := bin
FUZZTIME  ?= 5s
# Pure-Go packages: they must build and test without cgo (DESIGN.md 1).
PURE_PKGS := ./translate/... ./dtree/... ./steering/... ./config/... ./metrics/... ./dataplane/fwd/... ./internal/...

.PHONY: all deps build test unit purego fuzz-short integration demo bench bench-forward compare test-stress lint fuzz clean

all: build

deps:
	@bash scripts/deps.sh

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./cmd/...

# test: everything CI runs (unit tests, a short fuzz pass, then the
# end-to-end tests on network namespaces, which need root).
test: deps build unit purego fuzz-short integration

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

purego:
	CGO_ENABLED=0 $(GO) test -count=1 $(PURE_PKGS)

fuzz-short:
	@bash scripts/fuzz.sh $(FUZZTIME)

integration: build
	$(GO) test -tags integration -count=1 -timeout 40m -v ./tests/integration/

# test-stress: the end-to-end stress cases that still stall intermittently
# (64 concurrent connections, path cut mid-transfer); not part of `test`.
test-stress: deps build
	$(GO) test -tags 'integration stress' -count=1 -timeout 40m -v -run 'TestE2EConcurrent|TestE2EPathDown|TestMulticorePathDown' ./tests/integration/

demo: deps build
	@bash scripts/demo.sh

# bench: Go micro-benchmarks (ns/packet, allocations) and the harness's
# engine mode (results/engine.md); see results/README.md.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./translate/... ./dtree/... ./steering/... ./dataplane/...
	@mkdir -p results
	$(BIN)/flexcp-pktgen engine --duration 5s --connections 1000 --subflows 2 --mix 64:1,1432:3 --direction both --workers 1 --json results/engine.json --md results/engine.md

bench-forward: deps build
	@bash scripts/bench-forward.sh

# compare: flexcp vs kernel end-to-end MPTCP vs nginx/haproxy split proxies
# (results/compare.md); SECS and RUNS override the defaults (10, 3).
compare: deps build
	@bash scripts/compare.sh

fuzz:
	@bash scripts/fuzz.sh $${FUZZTIME:-10m}

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build $(PURE_PKGS)
	@bash scripts/check-imports.sh

clean:
	rm -rf $(BIN)
