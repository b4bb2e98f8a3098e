# The README's commands. `make test` is what CI runs (.ci/run).
GO            ?= go
BIN           := $(CURDIR)/bin
BUILDER       := $(BIN)/builder
MDATAGEN      := $(BIN)/mdatagen
BUILDER_VER   := v0.165.0
OTELCOL       := $(CURDIR)/_build/otelcol-pcm
# A count, not a duration: a duration races Go's fuzz coordinator at the deadline and fails
# spuriously with "context deadline exceeded" (golang/go#75804, not fixed in go1.26).
FUZZTIME      ?= 100000x
# The two Go modules: the component (the collector builds only this one) and tools/ (simulator,
# operator tool, demo, load generator, integration and end-to-end tests).
MODULES       := . tools
# The collector is rebuilt when the component changes; tools/ and internal/tools are not in it.
GO_SOURCES    := $(shell find . -name '*.go' -not -path './_build/*' -not -path './.dev/*' -not -path './tools/*' -not -path './internal/tools/*') go.mod go.sum

.PHONY: all build tools run test unit unit-race unit-allocs e2e fuzz rules dashboard-png bench bench-push bench-mapping bench-throughput lint fmt vet generate clean

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
	cd tools && $(GO) build -o $(BIN)/pcmctl ./cmd/pcmctl
	cd tools && $(GO) build -o $(BIN)/pcmsim ./cmd/pcmsim

## run: the two-command quickstart: build, dev certificates, pcmsim, collector, two demo banks, reconciliation summary
##      (RUN_ARGS="-keep-running" keeps it all up; "-duration 30s" or "-count 50" for more traffic)
run: $(OTELCOL)
	cd tools && $(GO) run ./cmd/pcmdemo run -collector $(OTELCOL) -dir $(CURDIR)/.dev $(RUN_ARGS)

## test: everything CI checks: format, vet, unit tests (race, then allocations), fuzz smoke, alert-rule tests,
##       end-to-end with the real collector (and a real Prometheus)
test: lint unit fuzz rules e2e

## unit: the unit, component and integration tests of both modules
unit: unit-race unit-allocs

## unit-race: every test of both modules with the race detector
unit-race:
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && $(GO) test -race -count=1 ./...); done

## unit-allocs: the allocation tests (testing.AllocsPerRun, "Alloc" in the name) without the race
##   detector, which changes what allocates (sync.Pool drops items); files that must not run
##   under it carry //go:build !race
unit-allocs:
	@set -e; for m in $(MODULES); do echo "== $$m"; (cd $$m && $(GO) test -count=1 -run 'Alloc' ./...); done

## e2e: end-to-end tests that run the ocb-built collector binary
e2e: $(OTELCOL)
	cd tools && OTELCOL_BINARY=$(OTELCOL) $(GO) test -count=1 -tags e2e -timeout 20m ./e2e/...

## fuzz: run every fuzz target of both modules (go test -list '^Fuzz') for FUZZTIME each
fuzz:
	@set -e; for m in $(MODULES); do \
	  list=$$(cd $$m && $(GO) test -list '^Fuzz' ./...) || { echo "$$list"; exit 1; }; \
	  echo "$$list" | awk '/^Fuzz/ { t[++n] = $$1 } /^ok/ { for (i = 1; i <= n; i++) print $$2, t[i]; n = 0 }' | \
	  while read -r pkg target; do \
	    echo "== $$target ($$pkg)"; \
	    (cd $$m && $(GO) test "$$pkg" -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME)) || exit 1; \
	  done; \
	done

## rules: unit tests of the Prometheus alert rules (promtool, from Debian's prometheus package)
rules:
	promtool check rules deploy/prometheus/pcm-alerts.yaml
	promtool test rules deploy/prometheus/pcm-alerts_test.yaml

## dashboard-png: redraw docs/img/dashboard.png, the README's picture of the Grafana dashboard, from a
##                two-minute run of the built collector scraped by a real Prometheus
dashboard-png: $(OTELCOL)
	cd tools && PCM_DASHBOARD_PNG=$(CURDIR)/docs/img/dashboard.png OTELCOL_BINARY=$(OTELCOL) \
	  $(GO) test -count=1 -tags e2e -run '^TestDashboardPicture$$' -timeout 10m ./e2e/faults/

## bench: mapping micro-benchmarks, the in-process push, then the collector throughput benchmark
bench: bench-mapping bench-push bench-throughput

## bench-push: in-process push of 5,000 spans to a TLS fake PCM (door, queue request, POST, answer
##             parsing), the cost of skipping a span that is not a report, and queue bytes per report
bench-push:
	$(GO) test . -run '^$$' -bench 'Push5000|DoorSkip|QueueBytes' -benchmem -count 6 | tee bench-push.out

## bench-mapping: map + encode per span vs ptrace.JSONMarshaler (compare runs with benchstat)
bench-mapping:
	$(GO) test ./mapping/ -run '^$$' -bench . -benchmem -count 6 | tee bench-mapping.out

## bench-throughput: otelcol-pcm as the receiver floor (debug exporter), with pcm → pcmsim and with
##                   otlphttp → a sink, each exporter at its defaults, at 25k, 50k and 100k spans/s, in 3 rounds
##                   whose medians make the report (~12 min)
bench-throughput: $(OTELCOL)
	cd tools && $(GO) run ./cmd/pcmload -collector $(OTELCOL) -out $(CURDIR)/bench-throughput.md $(BENCH_ARGS)

## lint: gofmt and go vet
lint: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd tools && $(GO) vet ./...
	cd tools && $(GO) vet -tags e2e ./e2e/...

## generate: regenerate internal/metadata from metadata.yaml with mdatagen v0.159.0
generate: $(MDATAGEN)
	@# mdatagen names the package after the directory, so run it through a link named like the package.
	tmp=$$(mktemp -d) && ln -s $(CURDIR) $$tmp/pcmexporter && \
	  (cd $$tmp/pcmexporter && $(MDATAGEN) $$tmp/pcmexporter/metadata.yaml); rc=$$?; rm -rf $$tmp; exit $$rc

$(MDATAGEN):
	cd internal/tools && GOFLAGS=-mod=mod $(GO) build -o $(MDATAGEN) go.opentelemetry.io/collector/cmd/mdatagen

clean:
	rm -rf _build bin .dev bench-mapping.out bench-push.out bench-throughput.md
