# Tollgate: the two commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
# The image infra/k8s and docker-compose.yml run.
IMAGE ?= ghcr.io/tollgate-dev/tollgate
TAG ?= $(VERSION)
# make dist DIST_TARGETS="linux/amd64" builds one target; empty builds all.
DIST_TARGETS ?=
GO_TEST_FLAGS ?= -count=1 -timeout 15m
# Build tags of every shipped binary (also in scripts/dist.sh, infra/Dockerfile and
# the bench scripts): nomsgpack leaves out gin's MessagePack codec, which nothing
# uses, 9 MB of binary and ~8 MB of resident pages at start.
GO_TAGS ?= nomsgpack

.PHONY: run build console binary test test-go test-console e2e test-packaging dist image bench bench-routing bench-scale vet fmt-check lint clean

## run: build the console and the binary, then serve in self-host mode on :8080
run: build
	./bin/tollgate serve

## build: console bundle + binary (the console is embedded with go:embed)
build: console binary

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

console: frontend/node_modules/.package-lock.json
	cd frontend && npm run build

binary:
	$(GO) build -trimpath -tags "$(GO_TAGS)" -ldflags "$(LDFLAGS)" -o bin/tollgate ./cmd/tollgate

## test: the whole suite against real Postgres, Redis Cluster and stripe-mock
test: lint test-console build
	./scripts/test-services.sh $(MAKE) --no-print-directory test-go e2e
	$(MAKE) --no-print-directory test-packaging

## test-packaging: linux/amd64 + windows/amd64 dist checked (tarball, .deb installed
## into a throwaway root, .rpm, PE32+), then the desktop tray under Xvfb and D-Bus
test-packaging: build
	./scripts/dist-test.sh
	./scripts/desktop-test.sh

## dist: release artifacts in dist/ (Linux amd64/arm64 tar.gz, .deb, .rpm; Windows zip; SHA256SUMS)
dist: console
	VERSION=$(VERSION) COMMIT=$(COMMIT) DATE=$(DATE) ./scripts/dist.sh $(DIST_TARGETS)

## image: build and tag $(IMAGE):$(TAG) with a local Docker engine (push: docs/deploy.md)
image:
	@docker info >/dev/null 2>&1 || { echo "make image: no Docker engine answers (docker info failed); nothing was built. Build where one runs, or in CI."; exit 1; }
	docker build -f infra/Dockerfile --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) \
		-t $(IMAGE):$(TAG) .

test-go:
	./scripts/go-test.sh

test-console: frontend/node_modules/.package-lock.json
	cd frontend && npm run typecheck && npm test

## e2e: the console in headless Chromium against a real `tollgate serve`
e2e:
	./scripts/e2e.sh

## bench: Go benchmarks and the loopback load run
bench:
	./scripts/test-services.sh ./scripts/bench.sh

## bench-routing: the labelled routing set's held-out split sent live through
## tollgate serve (loopback upstream reporting true usage); prints savings vs the
## reference mix, easy/hard/premium shares, the confusion matrix, the split
## between routing and caching savings, and replay-vs-live disagreements
bench-routing:
	go test -tags benchrouting -count=1 -run 'TestBenchRouting$$' -v ./cmd/tollgate/ | grep -v '^=== '
	go test -count=1 -run XXX -bench BenchmarkClassifierScore4k -cpu 1 ./routing/

## bench-scale: the tenant-scale benchmark of docs/scale.md on a fresh Postgres
## database (dropped afterwards): TOLLGATE_BENCH_TENANTS tenants (default 1000)
bench-scale:
	./scripts/test-services.sh bash -c "go test -tags benchscale -count=1 -run 'TestTenantScale$$' -v -timeout 3h ./cmd/tollgate/ | grep -v '^=== '"

lint: vet fmt-check

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './frontend/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin dist data/*.db*
