# make run   install what is missing, build the collector, start a Pushgateway and the collector
# make demo  run the example batch job and show what the Pushgateway stored
# make test  vet, unit, integration (real Pushgateway), short fuzz and end-to-end (built collector) tests; the gateway's suites against every Pushgateway version
# make gateway-matrix  the gateway's suites again, against each Pushgateway release built into _build (GATEWAY_SUITES=e2e: that suite alone)
# make fuzz  the fuzz targets for longer (FUZZTIME each, default 2m)
# make bench  the benchmarks (bench/, its own module): the exporter against client_golang and contrib's translator
# make test-faults  only the fault-injection suite (make test runs it too), with its results
# make dedicated  the proof for a gateway run with --push.disable-consistency-check (make test runs it too)
# make bench-e2e  the built collector under load against a real Pushgateway: points/s, CPU of both, their ratio; then bench-fleet
# make bench-fleet  a fleet of short jobs, hand-written pushes against the collector path (FLEET_JOBS, BENCH_COUNT)
# make image  the collector's container image (deploy/Dockerfile) from the built binary, with buildah, pulling nothing
# make sizing  resident memory of the built collector and a real Pushgateway holding 100,000 series (docs/OPERATIONS.md)
# make build-tier1  tier 1 of the scale-out layout (docs/SCALING.md): ocb, the load-balancing exporter
# make test-scale  only the scale-out tests (make test runs them too)
# make bench-scale  one fleet through tier 1 into one gateway, then two: points/s and CPU of each tier
# make pushgateway-releases  the Pushgateway releases of the version matrix, built into _build from their release trees
# make prometheus3  Prometheus 3 installed into _build with go install (Debian's is 2.42), for the deploy tests

GO          ?= go
BUILD_DIR   := _build
BIN_DIR     := $(BUILD_DIR)/bin
OCB_VERSION := v0.165.0
OCB         := $(BIN_DIR)/builder
COLLECTOR   := $(BUILD_DIR)/otelcol-pushgateway
TIER1       := $(BUILD_DIR)/tier1/otelcol-tier1
TIER1_CONFIG := deploy/tier1/builder-config.yaml
SOURCES     := $(wildcard *.go internal/*/*.go) go.mod go.sum builder-config.yaml
# Each fuzz target as package:name.
FUZZ_TARGETS := .:FuzzTranslate ./internal/state:FuzzFold ./internal/exposition:FuzzEncode ./internal/gateway:FuzzGroupKeyURL
FUZZTIME    ?= 2m
# Pushgateway releases the tests also run against, each built from its
# release tree, PUSHGATEWAY_SOURCE/<version>, by PUSHGATEWAY_SOURCE/build.sh:
# by default the tree beside the checkout's folder, shared/pushgateway.
PUSHGATEWAY_SOURCE   ?= $(abspath ../shared/pushgateway)
PUSHGATEWAY_RELEASES := 1.11.3
RELEASE_GATEWAYS     := $(PUSHGATEWAY_RELEASES:%=$(BUILD_DIR)/pushgateway-%/prometheus-pushgateway)
# Prometheus 3, beside Debian's 2.42, for the deploy tests.
PROMETHEUS3_VERSION := 3.16.0
PROMETHEUS3         := $(BUILD_DIR)/prometheus-$(PROMETHEUS3_VERSION)/prometheus

.PHONY: all tools test-tools pushgateway pushgateway-releases container-tools prometheus prometheus3 build build-tier1 run demo image sizing test gateway-matrix test-faults test-scale vet unit bench-check bench bench-e2e bench-load bench-fleet bench-scale fuzz-short fuzz e2e dedicated deploy-test rules generate clean

all: build

# What make run needs; the tests need more (test-tools).
tools: $(OCB) pushgateway

test-tools: tools container-tools prometheus prometheus3

$(OCB):
	GOBIN=$(abspath $(BIN_DIR)) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

pushgateway:
	@scripts/install-pushgateway.sh

pushgateway-releases: $(RELEASE_GATEWAYS)

$(BUILD_DIR)/pushgateway-%/prometheus-pushgateway:
	@PUSHGATEWAY_SOURCE=$(PUSHGATEWAY_SOURCE) scripts/build-pushgateway.sh $* $(@D)

container-tools:
	@scripts/install-container-tools.sh

prometheus:
	@scripts/install-prometheus.sh

prometheus3: $(PROMETHEUS3)

$(PROMETHEUS3):
	@scripts/install-prometheus3.sh $(PROMETHEUS3_VERSION) $(@D)

build: $(COLLECTOR)

$(COLLECTOR): $(OCB) $(SOURCES)
	$(OCB) --config builder-config.yaml
	@touch $@

# Tier 1 routes jobs to tier-2 collectors (the collector above); it has
# none of this repository's code, only contrib's load-balancing exporter.
build-tier1: $(TIER1)

$(TIER1): $(OCB) $(TIER1_CONFIG)
	$(OCB) --config $(TIER1_CONFIG)
	@touch $@

run: tools build
	@scripts/run.sh

demo: tools build
	@scripts/demo.sh

IMAGE ?= localhost/otelcol-pushgateway:dev
image: container-tools build
	IMAGE=$(IMAGE) scripts/build-image.sh

test: test-tools build build-tier1 vet unit bench-check fuzz-short e2e dedicated rules deploy-test gateway-matrix

# The version matrix. The suites that run a real Pushgateway
# (GATEWAY_SUITES) run once per gateway:
#   1.5.1, Debian's, on PATH (make pushgateway):  unit dedicated e2e deploy-test, as make test runs them
#   each of PUSHGATEWAY_RELEASES (1.11.3):        gateway-matrix, the same targets with PUSHGATEWAY_BIN set
# unit runs the pure unit tests again too (all of unit takes under a
# minute).
GATEWAY_SUITES := unit dedicated e2e deploy-test

gateway-matrix: $(RELEASE_GATEWAYS) test-tools build build-tier1
	@set -e; for gateway in $(abspath $(RELEASE_GATEWAYS)); do \
		echo "== $(GATEWAY_SUITES) against $$gateway"; \
		$(MAKE) --no-print-directory $(GATEWAY_SUITES) PUSHGATEWAY_BIN=$$gateway; \
	done

vet:
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...
	cd examples/batchjob && $(GO) vet ./...
	cd deploy && $(GO) vet ./...

# The TestDedicated* tests run in make dedicated.
unit:
	$(GO) test -race -count=1 -skip '^TestDedicated' ./...

# The benchmarks' own checks (same series as client_golang, every point
# pushed), so the benchmarks cannot drift from what they claim to measure.
bench-check:
	cd bench && $(GO) vet ./... && $(GO) test -count=1 ./...

BENCHTIME ?= 2s
bench:
	cd bench && $(GO) test -run '^$$' -bench . -benchtime=$(BENCHTIME) -count=1

# Both end-to-end benchmarks, one after the other (never in parallel: each
# measures CPU), each run with fresh processes.
bench-e2e:
	$(MAKE) bench-load
	$(MAKE) bench-fleet

# One fixed load (e2e/load_test.go; LOAD_ROUNDS changes its size) through
# the built collector into a real Pushgateway.
bench-load: build
	cd e2e && COLLECTOR_BIN=$(abspath $(COLLECTOR)) $(GO) test -run '^$$' -bench BenchmarkE2ELoad -benchtime=1x -count=1 ./...

# A fleet of short jobs (e2e/fleet_test.go), hand-written pushes and the
# collector path side by side, with and without the gateway's consistency
# check. FLEET_JOBS picks the sizes (default 100,500,1000), BENCH_COUNT the
# runs of each (make bench-fleet BENCH_COUNT=3 for medians of three); the
# other FLEET_* settings are listed in e2e/fleet_test.go. The raw output is
# kept in _build/bench-fleet.txt, and summarised as a table.
BENCH_COUNT ?= 1
bench-fleet: build
	cd e2e && COLLECTOR_BIN=$(abspath $(COLLECTOR)) bash -o pipefail -c "$(GO) test -run '^$$' -bench BenchmarkE2EFleet -benchtime=1x -count=$(BENCH_COUNT) -timeout=90m ./... | tee $(abspath $(BUILD_DIR))/bench-fleet.txt"
	@scripts/fleet-table.sh $(BUILD_DIR)/bench-fleet.txt

# Each fuzz target runs alone (go test -fuzz takes one); new crashers land
# in <package>/testdata/fuzz/<target> and become regression cases of make
# unit.
fuzz-short:
	$(MAKE) fuzz FUZZTIME=10s

fuzz:
	@for spec in $(FUZZ_TARGETS); do \
		pkg=$${spec%%:*}; target=$${spec#*:}; \
		echo "$(GO) test -run=^$$ -fuzz=^$$target\$$ -fuzztime=$(FUZZTIME) $$pkg"; \
		$(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

# The fault suite is part of unit and e2e; this runs it alone and prints
# the fault-result lines docs/RELIABILITY.md quotes.
FAULT_LINES := grep -E '^(---|ok|FAIL)|fault-result|Error'
test-faults: tools build
	bash -o pipefail -c "$(GO) test -race -count=1 -run '^TestFault' -v . | $(FAULT_LINES)"
	cd e2e && COLLECTOR_BIN=$(abspath $(COLLECTOR)) bash -o pipefail -c "$(GO) test -count=1 -run '^TestFault' -v ./... | $(FAULT_LINES)"

E2E_BINS = COLLECTOR_BIN=$(abspath $(COLLECTOR)) TIER1_BIN=$(abspath $(TIER1))

e2e: build build-tier1
	cd e2e && $(E2E_BINS) $(GO) test -count=1 ./...

# A dedicated gateway: one only the exporter writes to, run with
# --push.disable-consistency-check, behind a proxy that checks the gateway's
# /metrics after every write (internal/testgateway/dedicated.go). The golden
# cases, a replay of the fuzz inputs (FUZZ_REPLAY_CACHE=1 adds those make
# fuzz kept in the build cache), cases across groups, then the end-to-end
# suite with every gateway dedicated (docs/notes/dedicated-gateway-checks.md).
dedicated: pushgateway prometheus build build-tier1
	$(GO) test -race -count=1 -run '^TestDedicated' ./...
	cd e2e && PUSHGATEWAY_DEDICATED=1 $(E2E_BINS) $(GO) test -count=1 ./...

# The scale-out layout's tests alone (e2e/scaleout_test.go).
test-scale: tools build build-tier1
	cd e2e && $(E2E_BINS) $(GO) test -count=1 -v -run '^TestScaleOut' ./...

# deploy/: the container image built and run, the Kubernetes manifests and
# Helm values decoded and wired, the scrape configuration and alerting
# rules against a real Prometheus (2.42 and 3), the built collector and a
# real gateway.
deploy-test: test-tools build
	cd deploy && COLLECTOR_BIN=$(abspath $(COLLECTOR)) PROMETHEUS3_BIN=$(abspath $(PROMETHEUS3)) $(GO) test -count=1 ./...

sizing: build
	cd deploy && COLLECTOR_BIN=$(abspath $(COLLECTOR)) $(GO) test -run '^$$' -bench BenchmarkSizing -benchtime=1x -count=1 ./...

# The alerting rules: syntax and style (promtool check), and a unit test
# of every alert firing and not firing (promtool test).
rules: prometheus
	promtool check rules deploy/prometheus/alerts.yaml
	promtool test rules deploy/prometheus/alerts_test.yaml
	promtool check config deploy/prometheus/prometheus.yaml

# One fleet through tier 1 into one tier-2 collector and gateway, then into
# two of each, fresh processes each time (SCALE_ROUNDS changes its size).
bench-scale: build build-tier1
	cd e2e && $(E2E_BINS) $(GO) test -run '^$$' -bench BenchmarkTwoTier -benchtime=1x -count=1 ./...

# Regenerates internal/metadata and the generated tests from metadata.yaml.
# mdatagen names the package after the folder, hence the link.
generate:
	cd tools/mdatagen && $(GO) build -o $(abspath $(BIN_DIR))/mdatagen go.opentelemetry.io/collector/cmd/mdatagen
	ln -sfn $(CURDIR) $(BUILD_DIR)/pushgatewayexporter
	cd $(BUILD_DIR)/pushgatewayexporter && $(abspath $(BIN_DIR))/mdatagen metadata.yaml
	rm -f $(BUILD_DIR)/pushgatewayexporter

clean:
	rm -rf $(BUILD_DIR)
