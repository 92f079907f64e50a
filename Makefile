# tubo's build, test and benchmark entry points. `make run` and `make test`
# are the two commands the README gives for a fresh machine.

GO       ?= go
BIN      := bin
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/tubo-pipes/tubo/cli.Version=$(VERSION)
EXAMPLES := esclavo maestro fifo-producer fifo-consumer pipe-message lssort-dup lssort-dup2
MUTANTS  ?= 100000
FUZZTIME ?= 200000x

.PHONY: build deps run test test-race test-long test-kill fuzz fuzz-explore bench lint clean web

# build puts tubo and the example programs into bin/.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/tubo ./cmd/tubo
	$(GO) build -trimpath -o $(BIN)/ $(addprefix ./examples/,$(EXAMPLES))

# run is the main job: the primes of 1000–2000 found by esclavo workers,
# merged in order by tubo.
run: build
	$(BIN)/tubo run pipelines/primes.yaml

# deps installs the Debian packages and npm modules the tests need, when
# missing (as root, with apt-get); elsewhere it says what is missing.
deps:
	@.ci/deps

# test runs every test, with real processes and pipes.
test: build deps
	$(GO) test -count=1 ./...

# test-race runs every test again under the race detector.
test-race: build deps
	$(GO) test -race -count=1 ./...

# test-long runs the soak test and the random-SIGKILL test at full size
# (make test runs them with 300 and 150 runs).
test-long: build
	TUBO_SOAK=5000 $(GO) test -count=1 -run Soak -timeout 30m ./...
	$(MAKE) test-kill

# test-kill SIGKILLs tubo at 1000 random moments for each of a shell line,
# a FIFO pipeline and a tee/merge pipeline (issue 9's figure; about a
# minute on 2 cores): no survivor, no leftover directory. CI runs it.
test-kill: build
	TUBO_KILL_RUNS=1000 $(GO) test -count=1 -run TestSIGKILLAtAnyMoment -v -timeout 10m ./reliability/

# fuzz checks each fuzz target's property on MUTANTS inputs made from its
# seeds by a fixed sequence of mutations (internal/mutants): the same
# inputs on every run, so its result depends only on the commit. CI runs it.
fuzz:
	TUBO_MUTANTS=$(MUTANTS) $(GO) test -count=1 -run Mutants ./parser/shell/ ./runner/ ./parser/pipeline/ ./convert/

# fuzz-explore runs Go's coverage-guided fuzzer on each target for FUZZTIME
# executions (Nx). Its inputs are random, so two runs differ: it is for
# finding new bugs, not for CI; keep what it finds in testdata/fuzz. The
# fuzzer instruments every function, which the forked guardian's code
# cannot take (executor/guard_nofork.go): its builds have no guardian.
fuzz-explore:
	$(GO) test -tags noforkguard -run XXX -fuzz FuzzParse -fuzztime $(FUZZTIME) ./parser/shell/
	$(GO) test -tags noforkguard -run XXX -fuzz FuzzEval -fuzztime $(FUZZTIME) ./runner/
	$(GO) test -tags noforkguard -run XXX -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./parser/pipeline/
	$(GO) test -tags noforkguard -run XXX -fuzz FuzzConvert -fuzztime $(FUZZTIME) ./convert/

# bench compares tubo with dash, bash, GNU parallel and coreutils, side by
# side in one run, and prints ratios.
bench: build
	@command -v dash >/dev/null && command -v parallel >/dev/null && command -v cc >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq dash parallel gcc >/dev/null; }
	$(GO) run ./bench

# web rebuilds web/dist/, the browser side of --ui and --report-html, from
# web/src/ with the esbuild and @viz-js/viz that web/package-lock.json
# pins. dist/ is committed, so building tubo needs no Node; the web test
# checks that dist/ is what the sources build to.
web:
	cd web && npm ci --no-audit --no-fund && npm run build

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf $(BIN)
