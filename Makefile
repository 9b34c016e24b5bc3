# mullet: a durable Redis-protocol queue server that drains into MySQL.

GO      ?= go
BIN     := bin/mullet
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
ARGS    ?=

.PHONY: all build run test test-short vet fmt fuzz bench bench-consumer bench-sink clean node-deps difftest

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mullet

# make run: the server plus the embedded consumer on the bbolt default,
# with mullet.conf (dir ./data, route order_queue -> orders).
# Extra directives pass through: make run ARGS="--port 7000"
run: build
	@mkdir -p data # mullet.conf's dir; like Redis, mullet refuses a missing one
	./$(BIN) serve mullet.conf $(ARGS)

# staticcheck at a pinned version, fetched from the Go module proxy on
# first use (checks: staticcheck.conf).
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) ./...

# make test: what CI runs. Real redis-server, redis-cli, MariaDB and
# PostgreSQL 15 must be installed (.ci/run installs them); tests fail, never skip, without them.
test: vet node-deps
	$(GO) test -race -timeout 20m ./...
	GOMAXPROCS=1 $(GO) test -timeout 10m ./queue/ ./server/
	$(MAKE) fuzz FUZZTIME=20000x

# node-redis 3, the article's client, for server/noderedis_test.go.
node-deps: server/testdata/node/node_modules/redis
server/testdata/node/node_modules/redis: server/testdata/node/package-lock.json
	npm ci --prefix server/testdata/node --no-audit --no-fund

# make fuzz: every Fuzz target in the module for FUZZTIME each (one target
# per go test run, as go test -fuzz requires). Failing inputs land in the
# package's testdata/fuzz and become regression tests. Minimizing is capped
# so a run stays near its budget. make test gives a count (Nx), not a
# duration: with a duration, Go 1.26's fuzz coordinator can report its own
# deadline as "context deadline exceeded", a failure with no failing input
# (golang/go#75804, fixed in Go 1.27); it failed a CI dry run here.
FUZZTIME ?= 10s
fuzz:
	@$(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ {f[n++] = $$1} /^ok/ {for (i = 0; i < n; i++) print $$2, f[i]; n = 0}' | \
	{ status=0; while read pkg fn; do \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg | grep -v '^fuzz: elapsed' || status=1; \
	done; exit $$status; }

# make difftest: the differential tester's long run, mullet against
# redis-server 7.0 for DIFFTEST_DURATION (docs/difftest.md). The seed is
# printed; DIFFTEST_SEED=N replays a run. (make test runs a short,
# fixed-seed one.)
DIFFTEST_DURATION ?= 10m
DIFFTEST_SEED ?=
difftest:
	DIFFTEST_DURATION=$(DIFFTEST_DURATION) DIFFTEST_SEED=$(DIFFTEST_SEED) \
		$(GO) test -count=1 -v -timeout 0 -run '^TestDifferential$$' ./internal/difftest/

test-short: vet
	$(GO) test -short ./...

# The consumer's end-to-end figures: 200k orders LPUSHed in process and
# committed into a local MariaDB (the bar is 100,000 rows/s on 2 cores)
# and a local PostgreSQL 15 with synchronous_commit on (150,000 rows/s).
bench-consumer:
	$(GO) test -run '^$$' -bench 'Drain(MySQL|Postgres)$$' -benchtime 200000x ./consumer/

# mullet bench --sink through the binary into a fresh MariaDB: the rows/s
# a user measures against their own database.
bench-sink:
	$(GO) test -run '^$$' -bench 'BenchSinkMariaDB' -benchtime 200000x ./cmd/mullet/

# make bench: mullet and redis-server 7.0 side by side on this machine, with
# identical settings, interleaved rounds (~9 minutes). Writes
# bench/results/latest.md and latest.svg. BENCH_QUICK=1 make bench is a
# one-round smoke run with tiny sizes.
bench: build
	$(GO) run ./bench/sidebyside -mullet $(BIN)

clean:
	rm -rf bin
