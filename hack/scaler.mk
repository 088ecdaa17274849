# The scaler's code generation (CRD, RBAC, deepcopy). Included by the
# top-level Makefile: `include hack/scaler.mk`.

SCALER_MK_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
CONTROLLER_GEN_VERSION ?= v0.19.0
# controller-gen is installed with `go install` at exactly this version into
# bin/ of this repository, so another version on PATH does not drift the output.
CONTROLLER_GEN ?= $(abspath $(SCALER_MK_DIR)..)/bin/controller-gen-$(CONTROLLER_GEN_VERSION)

.PHONY: controller-gen manifests generate

controller-gen: ## Install controller-gen (CONTROLLER_GEN_VERSION, v0.19.0) into bin/ with go install
	@test -x $(CONTROLLER_GEN) || { \
		tmp=$$(mktemp -d) && GOBIN=$$tmp go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION) && \
		mkdir -p $(dir $(CONTROLLER_GEN)) && mv $$tmp/controller-gen $(CONTROLLER_GEN) && rmdir $$tmp; }

manifests: controller-gen ## Regenerate the CRD (deploy/crd, and the chart's crds/) and the scaler's RBAC (deploy/rbac/scaler) from markers
	$(CONTROLLER_GEN) crd:crdVersions=v1 rbac:roleName=redis-autoscaler-scaler paths=./scaler/... \
		output:crd:artifacts:config=deploy/crd output:rbac:artifacts:config=deploy/rbac/scaler
	cp deploy/crd/redisautoscaler.io_redisreplicationgroups.yaml deploy/crd/redisautoscaler.io_redisclusters.yaml deploy/helm/redis-autoscaler/crds/

generate: controller-gen ## Regenerate zz_generated.deepcopy.go of the scaler's API types
	$(CONTROLLER_GEN) object paths=./scaler/api/...

.PHONY: test-scaler
test-scaler: ## Run the scaler's tests (decisions, Redis operations, control plane, the bounded fault tests; about ten minutes)
	go test -race -count=1 -timeout 25m ./scaler/...

# The randomized fault tests: `make chaos DURATION=10m SEED=…` (SEED empty:
# a new one, printed in the output; the same SEED replays the schedule).
# make test runs them bounded (45 s and 40 s of faults).
DURATION ?= 10m
SEED ?=
CHAOS_TIMEOUT ?= 3h

.PHONY: chaos
chaos: deps k8s-binaries ## Randomized fault tests of the scaler, a group's (TestChaos) and a Redis Cluster's (TestClusterChaos), for DURATION each (10m), SEED to replay
	CHAOS_DURATION=$(DURATION) CLUSTER_CHAOS_DURATION=$(DURATION) CHAOS_SEED=$(SEED) go test -race -count=1 -timeout $(CHAOS_TIMEOUT) -run '^(TestChaos|TestClusterChaos)$$' -v ./scaler/
