# The README's commands. `make test` is what CI runs (.ci/run).
GO            ?= go
BIN           := $(CURDIR)/bin
BUILDER       := $(BIN)/builder
MDATAGEN      := $(BIN)/mdatagen
BUILDER_VER   := v0.165.0
OTELCOL       := $(CURDIR)/_build/otelcol-pcm
FUZZTIME      ?= 15s
GO_SOURCES    := $(shell find . -name '*.go' -not -path './_build/*' -not -path './.dev/*') go.mod go.sum

.PHONY: all build tools run test unit e2e fuzz rules dashboard-png bench bench-mapping bench-throughput lint fmt vet generate clean

all: build

## build: install ocb and build the otelcol-pcm collector into _build/
build: $(OTELCOL)

$(BUILDER):
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(BUILDER_VER)

$(OTELCOL): $(BUILDER) builder-config.yaml $(GO_SOURCES)
	$(BUILDER) --config builder-config.yaml
	@touch $(OTELCOL)

## tools: the operator and simulator binaries, bin/pcmctl and bin/pcmsim
tools:
	$(GO) build -o $(BIN)/pcmctl ./cmd/pcmctl
	$(GO) build -o $(BIN)/pcmsim ./cmd/pcmsim

## run: the two-command quickstart: build, dev certificates, pcmsim, collector, two demo banks, reconciliation summary
##      (RUN_ARGS="-keep-running" keeps it all up; "-duration 30s" or "-count 50" for more traffic)
run: $(OTELCOL)
	$(GO) run ./cmd/pcmdemo run -collector $(OTELCOL) $(RUN_ARGS)

## test: everything CI checks: format, vet, unit tests (race), fuzz smoke, end-to-end with the real collector
test: lint unit fuzz rules e2e

## unit: unit and component tests with the race detector
unit:
	$(GO) test -race -count=1 ./...

## e2e: end-to-end tests that run the ocb-built collector binary
e2e: $(OTELCOL)
	OTELCOL_BINARY=$(OTELCOL) $(GO) test -count=1 -tags e2e -timeout 20m ./e2e/...

## fuzz: run each fuzz target for FUZZTIME (bounded; CI uses the default)
fuzz:
	$(GO) test ./mapping/ -run '^$$' -fuzz '^FuzzMap$$' -fuzztime $(FUZZTIME)
	$(GO) test ./mapping/ -run '^$$' -fuzz '^FuzzLookup$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/directory/ -run '^$$' -fuzz '^FuzzParseAndResolve$$' -fuzztime $(FUZZTIME)

## rules: unit tests of the Prometheus alert rules (promtool, from Debian's prometheus package)
rules:
	promtool check rules deploy/prometheus/pcm-alerts.yaml
	promtool test rules deploy/prometheus/pcm-alerts_test.yaml

## dashboard-png: redraw docs/img/dashboard.png, the README's picture of the Grafana dashboard, from a
##                two-minute run of the built collector scraped by a real Prometheus
dashboard-png: $(OTELCOL)
	PCM_DASHBOARD_PNG=$(CURDIR)/docs/img/dashboard.png OTELCOL_BINARY=$(OTELCOL) \
	  $(GO) test -count=1 -tags e2e -run '^TestDashboardPicture$$' -timeout 10m ./e2e/faults/

## bench: mapping micro-benchmarks, then the collector throughput benchmark (pcm vs otlphttp)
bench: bench-mapping bench-throughput

## bench-mapping: map + encode per span vs ptrace.JSONMarshaler (compare runs with benchstat)
bench-mapping:
	$(GO) test ./mapping/ -run '^$$' -bench . -benchmem -count 6 | tee bench-mapping.out

## bench-throughput: otelcol-pcm with pcm → pcmsim vs otlphttp → a sink, at increasing rates (~2 min)
bench-throughput: $(OTELCOL)
	$(GO) run ./cmd/pcmload -collector $(OTELCOL) -out bench-throughput.md $(BENCH_ARGS)

## lint: gofmt and go vet
lint: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...

## generate: regenerate internal/metadata from metadata.yaml with mdatagen v0.159.0
generate: $(MDATAGEN)
	@# mdatagen names the package after the directory, so run it through a link named like the package.
	tmp=$$(mktemp -d) && ln -s $(CURDIR) $$tmp/pcmexporter && \
	  (cd $$tmp/pcmexporter && $(MDATAGEN) $$tmp/pcmexporter/metadata.yaml); rc=$$?; rm -rf $$tmp; exit $$rc

$(MDATAGEN):
	cd internal/tools && GOFLAGS=-mod=mod $(GO) build -o $(MDATAGEN) go.opentelemetry.io/collector/cmd/mdatagen

clean:
	rm -rf _build bin .dev bench-mapping.out bench-throughput.md
