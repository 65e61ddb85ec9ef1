# fraise — build, test and demo. "make test" is what CI runs.

GO          ?= go

# The tools make runs, pinned here and nowhere else. Each is built once
# from the Go module proxy into bin/tools (staticcheck about a minute on
# two cores, go-licenses half a minute, GoReleaser three), then reused;
# a version changed here builds it again.
TOOLS             := $(CURDIR)/bin/tools
STATICCHECK_PKG   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GO_LICENSES_PKG   := github.com/google/go-licenses@v1.6.0
GORELEASER_PKG    := github.com/goreleaser/goreleaser/v2@v2.15.1
STATICCHECK       := $(TOOLS)/staticcheck
GO_LICENSES       := $(TOOLS)/go-licenses
GORELEASER        := $(TOOLS)/goreleaser
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE        ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS     := -s -w -X github.com/fraiseql/fraise/internal/cli.version=$(VERSION) \
               -X github.com/fraiseql/fraise/internal/cli.commit=$(COMMIT) \
               -X github.com/fraiseql/fraise/internal/cli.date=$(DATE)

# Packages whose tests need no server.
UNIT        := ./internal/query/... ./internal/output/... ./internal/filter/... ./internal/wire/pgconf/... ./internal/wire/scram/... ./internal/rooms/ ./internal/units/ ./internal/suggest/ ./internal/pgtest/tryout/ ./tools/... ./bench/
# Packages whose tests run against the throwaway PostgreSQL of internal/pgtest.
INTEGRATION := ./internal/pgtest/ ./internal/pgtest/demo/ ./internal/pgtest/sandbox/ ./internal/wire/ ./internal/pushdown/ ./internal/cli/

.PHONY: all build test release-checks tools lint cross generate check-generated licenses licenses-report release-check release-snapshot unit integration scripts fuzz bench-smoke bench demo sandbox clean pg-servers compat compat-servers compat-poolers

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/fraise ./cmd/fraise

# What a change must pass: the checks of this platform, the tests and the
# benchmark harness's smoke run. The release checks (every platform, the
# licenses, GoReleaser) are release-checks: CI runs both.
test: lint check-generated unit integration scripts fuzz bench-smoke

release-checks: cross licenses release-check

# Each tool of the block above, built into bin/tools when missing or when
# the Makefile (its version) changed.
$(TOOLS)/%: Makefile
	@mkdir -p $(TOOLS)
	@pkg=$$(case $* in staticcheck) echo $(STATICCHECK_PKG);; go-licenses) echo $(GO_LICENSES_PKG);; \
		goreleaser) echo $(GORELEASER_PKG);; esac); \
	echo "tools: building $$pkg into bin/tools"; \
	GOBIN="$(TOOLS)" GOOS= GOARCH= $(GO) install "$$pkg"
	@touch $@

tools: $(STATICCHECK) $(GO_LICENSES) $(GORELEASER)

lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Every release platform: go vet (tests included) and the binary, with
# CGO off as the release builds it (seconds once the build cache is warm).
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
cross:
	@set -e; for p in $(PLATFORMS); do \
		echo "cross $$p"; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet ./...; \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -o /dev/null ./cmd/fraise; \
	done

# The man pages (man/) and completion scripts (completions/), generated
# from the command definitions and committed. Their date is gendocs' own
# (SOURCE_DATE_EPOCH is cleared), so that they depend on the sources only.
generate:
	SOURCE_DATE_EPOCH= $(GO) run ./tools/gendocs -man man -completions completions

# Fails when the committed man/ or completions/ differ from what generate
# writes now, and when groff warns about a page.
check-generated:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	SOURCE_DATE_EPOCH= $(GO) run ./tools/gendocs -man "$$tmp/man" -completions "$$tmp/completions" || exit 1; \
	if ! diff -r man "$$tmp/man" >/dev/null 2>&1 || ! diff -r completions "$$tmp/completions" >/dev/null 2>&1; then \
		diff -ru man "$$tmp/man" | head -40; diff -ru completions "$$tmp/completions" | head -40; \
		echo "man/ or completions/ is out of date: run make generate and commit the result"; exit 1; \
	fi
	@if command -v groff >/dev/null 2>&1; then \
		out=$$(env -u SOURCE_DATE_EPOCH groff -man -Tutf8 -ww -z man/*.1 2>&1); \
		if [ -n "$$out" ]; then echo "$$out"; echo "groff warns about man/: fix tools/gendocs"; exit 1; fi; \
	elif [ "$$CI" = true ]; then echo "groff is needed to check man/ (apt-get install groff-base)"; exit 1; \
	else echo "groff not found: man/ not checked (apt-get install groff-base)"; fi

# Every package linked into fraise, on every release platform (not the
# tests, tools or benchmarks), must carry a license file that
# google/go-licenses identifies as one of these: permissive licenses whose
# terms an MIT binary can meet by shipping the notices; MPL-2.0 is
# file-level copyleft, met as long as those files' sources stay available
# (they do, in the module proxy). Anything else, or no license, fails.
ALLOWED_LICENSES := MIT,BSD-2-Clause,BSD-3-Clause,Apache-2.0,ISC,MPL-2.0

licenses: $(GO_LICENSES)
	@set -e; for p in $(PLATFORMS); do \
		echo "licenses $$p"; \
		if ! out=$$(CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO_LICENSES) check ./cmd/fraise \
			--allowed_licenses=$(ALLOWED_LICENSES) 2>&1); then \
			echo "$$out" | grep -v -e 'contains non-Go code' -e '^/'; \
			echo "licenses: a dependency of fraise on $$p has a license outside $(ALLOWED_LICENSES), or none"; exit 1; \
		fi; \
	done

# Each package linked into fraise on any release platform: its license file
# and the license found there, as CSV.
licenses-report: $(GO_LICENSES)
	@for p in $(PLATFORMS); do \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO_LICENSES) report ./cmd/fraise 2>/dev/null; \
	done | sort -u

# GoReleaser (bin/tools, pinned above). release-snapshot builds every
# archive, package and checksum into dist/ as a release would, publishing
# nothing. CI is cleared for it: with CI set it colours its log even into
# a file or pipe, and NO_COLOR does not stop it.
release-check: $(GORELEASER)
	CI= $(GORELEASER) check

release-snapshot: $(GORELEASER)
	CI= $(GORELEASER) release --snapshot --clean --skip=publish

# Every go test runs through tools/testsummary: failures in full, then per
# package how many tests ran, passed, failed and were skipped, and why each
# skip was.
TESTSUM     := $(GO) run ./tools/testsummary

unit:
	$(TESTSUM) -race -count=1 $(UNIT)

integration:
	$(TESTSUM) -race -count=1 $(INTEGRATION)

scripts:
	$(TESTSUM) -count=1 ./testscripts/

# The PostgreSQL majors of the compatibility runs, each a build pinned in
# tools/pgservers/servers.txt (arm64: 15 and later). make compat
# COMPAT_MAJORS="12 18" runs a subset.
COMPAT_MAJORS ?= 12 13 14 15 16 17 18

# Installs the pinned server builds into bin/pg/<major> (once; checked
# against their sha512).
pg-servers:
	$(GO) run ./tools/pgservers $(COMPAT_MAJORS)

# The integration tests and the CLI scripts against each major in turn,
# then through each pooler (PgBouncer's transaction and session modes, in
# front of the system's PostgreSQL). make compat COMPAT_POOLERS= skips them.
COMPAT_POOLERS ?= pgbouncer-transaction pgbouncer-session

compat: compat-servers compat-poolers

# The demo and the sandbox start servers of their own, never behind the
# pooler: the pooler runs leave them out.
POOLED := $(filter-out ./internal/pgtest/demo/ ./internal/pgtest/sandbox/,$(INTEGRATION))

compat-poolers:
	@set -e; for p in $(COMPAT_POOLERS); do \
		echo "compat: $$p"; start=$$(date +%s); \
		PGTEST_POOLER=$$p $(TESTSUM) -count=1 $(POOLED) ./testscripts/; \
		echo "compat: $$p passed in $$(( $$(date +%s) - start )) s"; \
	done

compat-servers:
	@set -e; for m in $(COMPAT_MAJORS); do \
		bindir=$$($(GO) run ./tools/pgservers $$m); \
		echo "compat: PostgreSQL $$m ($$bindir)"; start=$$(date +%s); \
		PG_BINDIR=$$bindir $(TESTSUM) -count=1 $(INTEGRATION) ./testscripts/; \
		echo "compat: PostgreSQL $$m passed in $$(( $$(date +%s) - start )) s"; \
	done

# Every fuzz target, briefly (FUZZTIME each), beyond its seed corpus, which
# "unit" already runs. Longer: make fuzz FUZZTIME=5m.
FUZZTIME ?= 4s
FUZZ := ./internal/wire/pgconf:FuzzParse ./internal/wire/pgconf:FuzzParsePassfile \
        ./internal/wire/pgconf:FuzzParseServiceFile ./internal/wire/pgconf:FuzzURIUserInfo \
        ./internal/wire/scram:FuzzServerFirst ./internal/wire/scram:FuzzServerFinal \
        ./internal/wire/scram:FuzzSASLprep \
        ./internal/wire:FuzzMsgReader ./internal/wire:FuzzDataRowValue ./internal/wire:FuzzDataRowValues \
        ./internal/wire:FuzzErrorResponse ./internal/wire:FuzzPlanRows \
        ./internal/filter:FuzzDecode ./internal/filter:FuzzEncode ./internal/filter:FuzzDemand \
        ./internal/filter:FuzzExprDepth ./internal/filter:FuzzErrorKind \
        ./internal/query:FuzzParseRelation ./internal/query:FuzzParseColumn ./internal/query:FuzzFormatIdent \
        ./internal/cli:FuzzParseSize ./internal/cli:FuzzParseDuration
# Go 1.26's fuzz coordinator can report a bare "context deadline exceeded"
# when -fuzztime ends while a worker is busy (go.dev/issue/75804, fixed in
# Go 1.27); such a run, with no failing input written, is retried (twice at
# most). Anything else fails.
fuzz:
	@set -e; for t in $(FUZZ); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		for try in 1 2 3; do \
			echo "fuzz $$fn ($$pkg, $(FUZZTIME))"; \
			if out=$$($(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) "$$pkg" 2>&1); then break; fi; \
			if [ $$try -lt 3 ] && echo "$$out" | grep -q 'context deadline exceeded' && \
				! echo "$$out" | grep -q 'Failing input written'; then \
				echo "fuzz $$fn: Go's fuzz deadline race (go.dev/issue/75804), no failing input; again"; continue; fi; \
			echo "$$out" | tail -40; exit 1; \
		done; \
	done

# The benchmark harness on tiny data, one round: keeps it from rotting. It
# prints one line (or, failing, its last steps and the error); the report
# and its charts are in the -out directory.
bench-smoke:
	$(GO) run ./bench -smoke -out "$${TMPDIR:-/tmp}/fraise-bench-smoke"

# The full benchmarks against psql and pgx (minutes; the data sets are
# seeded once into /var/tmp/fraise-bench). Report in bench/results/.
bench:
	$(GO) run ./bench $(BENCHFLAGS)

# A tour of fraise against a throwaway PostgreSQL, stopped at the end.
demo: build
	$(GO) run ./internal/pgtest/demo -fraise bin/fraise

# A throwaway PostgreSQL with the sample relations, kept running until
# Ctrl-C; it prints the FRAISE_DSN and commands to try from another shell.
# Built, not go run: go run exits 1 when interrupted, whatever the program
# exits with.
sandbox: build
	$(GO) build -o bin/sandbox ./internal/pgtest/sandbox
	@bin/sandbox -fraise bin/fraise

clean:
	rm -rf bin dist .release
