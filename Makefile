# redis-autoscaler: `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/redis-autoscaler/redis-autoscaler/exporter.Version=$(VERSION)
FUZZTIME ?= 20s
BENCHTIME ?= 1s
STATICCHECK_VERSION ?= v0.8.2

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## Install the Debian packages tests need (redis-server, redis-sentinel, prometheus) when missing
	@hack/deps.sh

.PHONY: build
build: ## Build bin/redis-autoscaler (static)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/redis-autoscaler ./cmd/redis-autoscaler

# The demo is a module of its own (its charts' gonum/plot stays out of the
# product's go.sum); GOWORK=off: a go.work must not merge it into this one.
DEMO_DIR := hack/demo

.PHONY: run
run: deps k8s-binaries tools ## The demo: local control plane, the bundle and an example group, load up and down, live view; ends with a summary and redis-autoscaler-demo.png/.json (DEMO_ARGS="-ramp 60s -peak 8000")
	cd $(DEMO_DIR) && GOWORK=off $(GO) build -o $(CURDIR)/bin/demo .
	bin/demo $(DEMO_ARGS)

.PHONY: run-exporter
run-exporter: deps ## Run the exporter alone against localhost:6379, or a throwaway redis-server
	$(GO) run ./hack/devrun

# The adapter's integration tests run the aggregated API server in this
# process, and k8s.io/apiserver v0.34's client-certificate authenticator
# writes a shared histogram field on every request (component-base metrics
# Histogram.WithContext, unchanged through v0.34.13): the race detector
# flags that library race at random. That one package runs without -race;
# the adapter's own concurrent code (adapter/embedded, provider, promsource,
# upstream) is raced in its own packages.
NO_RACE_PKGS := github.com/redis-autoscaler/redis-autoscaler/adapter

.PHONY: test
test: deps k8s-binaries tools ## Install what tests need and run every test
	$(GO) test -race -count=1 -timeout 25m $$($(GO) list ./... | grep -vxF '$(NO_RACE_PKGS)')
	$(GO) test -count=1 -timeout 25m $(NO_RACE_PKGS)
	cd $(DEMO_DIR) && GOWORK=off $(GO) test -race -count=1 -timeout 25m ./...

# Where `make image` writes the assembled archives without a Docker engine.
IMAGE_DIR ?= $(HOME)/.cache/redis-autoscaler/images
IMAGE ?= ghcr.io/redis-autoscaler/redis-autoscaler:0.1.0
# A containerd socket to import the assembled images into (optional).
CONTAINERD_ADDRESS ?=

.PHONY: image
image: ## The product image: docker build where a Docker engine answers, else assembled without one (hack/image: docker archives in IMAGE_DIR, imported into CONTAINERD_ADDRESS if set)
	@if docker info >/dev/null 2>&1; then \
		docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) . ; \
	else \
		echo "[image] no Docker engine: assembling the Dockerfile's final stage with hack/image" >&2; \
		$(GO) run ./hack/image -out $(IMAGE_DIR) -version $(VERSION) $(if $(CONTAINERD_ADDRESS),-import -address $(CONTAINERD_ADDRESS)); \
	fi

.PHONY: e2e-node
e2e-node: deps k8s-binaries tools ## The real-node proofs at length: the bundle, the chart and the example cluster on a kubelet with containerd, 10 rollout restarts under WAIT 1 writes (make test runs 3)
	REALNODE_ROUNDS=10 $(GO) test -count=1 -v -timeout 60m ./test/realnode/
	$(GO) test -count=1 -v -timeout 20m -run RealNode ./test/cluster/

.PHONY: unfixed
unfixed: deps k8s-binaries ## Known failures still open (issue 25), each a test that fails until its fix lands
	UNFIXED=1 $(GO) test -count=1 -v -timeout 10m -run 'TestClusterFailoverMidMigration/destination' ./scaler/

.PHONY: tools
tools: ## Install kustomize v5.7.1 and helm v3.22.0 (go install) for the deploy tests
	@hack/tools.sh

.PHONY: dashboards
dashboards: ## Write the Grafana dashboards (Go code in dashboards/) as JSON into dashboards/
	$(GO) run ./hack/dashboards

.PHONY: alerts
alerts: ## Write dashboards/alerts.yaml as the PrometheusRule of the monitoring component and the chart
	$(GO) run ./hack/prometheusrule

.PHONY: bench
bench: deps k8s-binaries build ## Run the benchmarks (exporter: INFO parse, /metrics, 200 targets; the lean binary's RSS at 1/200/1000 targets; adapter: provider, through the aggregator; backup: RDB verify, 200 MB backup and restore beside redis-cli --rdb; Redis Cluster slot migration; a cluster client's latency while the scaler reshards 3 -> 4 shards)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count 5 ./exporter/... ./adapter/...
	$(GO) test -run '^$$' -bench LeanExporter -benchtime 5x -count 3 -timeout 30m ./cmd/redis-exporter/
	$(GO) test -run '^$$' -bench Read -benchtime 20x -count 5 ./backup/
	BACKUP_BIN=$(CURDIR)/bin/redis-autoscaler $(GO) test -run '^$$' -bench BackupRestore -benchtime 1x -count 3 -timeout 20m ./backup/
	$(GO) test -run '^$$' -bench MoveSlots -benchtime 2x -count 3 ./scaler/clusterops/
	$(GO) test -run '^$$' -bench ClusterResharding -benchtime 1x -count 3 -timeout 30m ./scaler/

.PHONY: bench-adapter-scale
bench-adapter-scale: deps k8s-binaries build ## The adapter at 500 pods as its own process: latency and CPU through the aggregator, 50 req/s for 60 s, RSS beside 4,500 unrelated pods (minutes; 500 redis-servers)
	ADAPTER_BIN=$(CURDIR)/bin/redis-autoscaler BENCH_PODS=500 $(GO) test -run '^$$' -bench ThroughAggregator -benchtime 300x -count 3 -timeout 30m ./adapter/
	SUSTAINED=1 ADAPTER_BIN=$(CURDIR)/bin/redis-autoscaler BENCH_PODS=500 $(GO) test -run '^$$' -bench Sustained -benchtime 1x -timeout 30m ./adapter/
	ADAPTER_BIN=$(CURDIR)/bin/redis-autoscaler $(GO) test -run '^$$' -bench MemoryWithUnrelatedPods -benchtime 1x -timeout 30m ./adapter/

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (seed corpora in testdata/)
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | cut -d' ' -f2); do \
			echo "fuzz $$dir $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

.PHONY: lint
lint: ## gofmt check, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'run make fmt'; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	cd $(DEMO_DIR) && GOWORK=off $(GO) vet ./... && GOWORK=off $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

.PHONY: fmt
fmt: ## Format the Go code
	gofmt -w $$(git ls-files '*.go')

include hack/cluster.mk
include hack/scaler.mk
