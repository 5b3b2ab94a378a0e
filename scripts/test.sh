#!/usr/bin/env bash
# The whole test suite, as CI runs it. It installs what the tests need first
# (Debian's chromium for the browser tests), so it passes on a new machine.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Each phase's start, in seconds since the script began: where a new
# machine's time goes (issue 8).
start=$SECONDS
phase() { echo "== $* (at $((SECONDS - start)) s)"; }

if ! command -v chromium >/dev/null 2>&1; then
	phase "installing chromium (browser tests)"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x /usr/bin/python3 ]; then
	phase "installing python3 (Python snippets run in the sandbox on Debian's python3)"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null
fi

if ! command -v gcc >/dev/null 2>&1 || [ ! -f /usr/include/stdlib.h ]; then
	echo "== installing gcc and libc6-dev (race builds: -race needs cgo; Debian's gcc runs read-only in the build sandbox)"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	phase "installing postgresql (the shared snippets' multi-instance store: share and e2e tests start their own cluster)"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# axe-core and html-validate for the audit tests (e2e/audit_test.go), into a
# gitignored cache folder; pinned versions (html-validate 10 is the last line
# that runs on Debian's Node 20).
audit=.cache/audit
if [ ! -f "$audit/node_modules/axe-core/axe.min.js" ] || [ ! -f "$audit/node_modules/html-validate/package.json" ]; then
	phase "installing axe-core and html-validate (audit tests)"
	if ! command -v npm >/dev/null 2>&1; then
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
	fi
	mkdir -p "$audit"
	npm install --prefix "$audit" --no-audit --no-fund --loglevel=error axe-core@4.14.1 html-validate@10.9.0
fi

# One playground data folder for every test package and the check below
# (internal/testenv): the sandbox's build cache is warmed once.
export PLAYDOC_TEST_DATA="${PLAYDOC_TEST_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/playdoc-test}"

# Every build of the suite with -trimpath, the tests' own go commands too
# (they inherit GOFLAGS): the builds the tests run themselves (the
# sandbox's hostile program and init, the traced programs) use it, and
# -trimpath changes every package's archive, the standard library's
# included: without it here a new machine compiled most of the standard
# library twice (issue 8).
GOFLAGS="$(go env GOFLAGS) -trimpath"
export GOFLAGS

phase "go mod download"
go mod download

phase "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi

# templ's generated files are checked by a test (templates/generated_test.go)
# that links only templ's parser and generator: running the templ command
# here built its whole CLI first, about a minute on a new machine.

phase "go vet"
go vet ./...

# One playdoc binary for the e2e tests (e2e/main_test.go takes it from
# PLAYDOC_E2E_BIN instead of building its own) and the check below, which
# `go run` linked a second time.
phase "go build ./cmd/playdoc (for the e2e tests and the check)"
bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
go build -ldflags=-w -o "$bindir/playdoc" ./cmd/playdoc
export PLAYDOC_E2E_BIN="$bindir/playdoc"

# go vet above ran every analyzer on every package, test files included:
# go test's own vet (a subset) would compute the same facts for every
# dependency again, about a minute of CPU on a new machine (issue 8).
# -ldflags=-w: no DWARF in the test binaries (nothing here reads it;
# stack traces use the pcln table). Linking about 15 binaries of 40-50 MB
# costs ~25% less CPU without it.
phase "go test"
go test -count=1 -vet=off -ldflags=-w -timeout 40m ./...

# Every snippet of content/ in the sandbox, its output against the recorded
# one, on the data folder the test packages warmed (e2e/serve_test.go
# testDataDir): the sandbox's build cache is warmed once per machine, not
# once per command. Bounded fuzzing is scripts/fuzz.sh, which CI runs after
# this script (.ci/run).
phase "playdoc check (every snippet of content/ in the sandbox)"
"$PLAYDOC_E2E_BIN" check -data "$PLAYDOC_TEST_DATA"
phase "done"
