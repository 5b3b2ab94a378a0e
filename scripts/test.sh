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
# Built as the sandbox builds (-trimpath, and CGO_ENABLED=0: no test needs
# cgo on the host; race builds set it inside the sandbox), a package has the
# same action ID on the host and in the sandbox, whose warm-up is seeded
# below from what the host compiled.
export CGO_ENABLED=0

phase "go mod download"
go mod download

phase "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi

# templ's generated files are checked by a test (templates/generated_test.go)
# that links only templ's parser and generator: running the templ command
# here built its whole CLI first, about a minute on a new machine.

# One playdoc binary for the e2e tests (e2e/main_test.go takes it from
# PLAYDOC_E2E_BIN instead of building its own) and the check below, which
# `go run` linked a second time.
phase "go build ./cmd/playdoc (for the e2e tests and the check)"
bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
touch "$bindir/before-build"
go build -ldflags=-w -o "$bindir/playdoc" ./cmd/playdoc
export PLAYDOC_E2E_BIN="$bindir/playdoc"

# Seed the sandbox's build cache with what that build just compiled: the
# standard library and modernc.org/sqlite, which the sandbox's warm-up
# compiled a second time on a new machine (issue 8: ~140 CPU-s of ~1000).
# With -trimpath no path enters an action ID, so the warm-up finds them
# under its own GOROOT and module cache paths (its first stage took 4.3 s
# on a seeded cache against 95 s cold). Only this build's new entries are
# copied (none on a machine whose caches are warm), and they are given to
# the sandbox's user (sandbox.sandboxUID), as the warm-up's own are: the
# sandbox's overlay cannot copy up a file owned by a user its namespace
# does not map. A sandbox without root runs as the caller: nothing to seed.
if [ "$(id -u)" = 0 ]; then
	seed="$PLAYDOC_TEST_DATA/gocache"
	mkdir -p "$seed"
	(cd "$(go env GOCACHE)" && find . -type f -name '*-[ad]' -newer "$bindir/before-build" -exec cp --parents -t "$seed" {} +)
	chown -R 65534:65534 "$seed"
	chmod 0777 "$seed"
fi

# Every snippet of content/ in the sandbox, its output against the recorded
# one, on the data folder the test packages share (internal/testenv): the
# sandbox's build cache is warmed once per machine, not once per command.
# It runs beside go test, not after it: most of its time is the snippets'
# own sleeping (the tutorial's 2-s tasks), and its expectations hold on a
# busy machine (check -under-load proves it), so it fills the cores that go test's
# last package leaves idle, and it starts the sandbox's warm-up while the
# test binaries are still being built (issue 8: it took the suite's last
# 26 s alone). Bounded fuzzing is scripts/fuzz.sh, which CI runs after this
# script (.ci/run). Beside go test, vet and the e2e tests' Chromium on two
# cores, a program is sometimes held off the CPU for seconds (a 300-ms
# worker pool once took 2.1 s, a 1-s Python gather 2.4 s, each matching
# at the next try; such misses come in bursts, several snippets late within
# the same half second): a mismatch is run again up to twice (-retries 2),
# 3 s and then 6 s later (-retry-pause), and a snippet that fails three
# times is reported.
phase "playdoc check (every snippet of content/ in the sandbox, beside go test)"
"$PLAYDOC_E2E_BIN" check -retries 2 -data "$PLAYDOC_TEST_DATA" >"$bindir/check.log" 2>&1 &
check_pid=$!
trap 'kill "$check_pid" 2>/dev/null || true; rm -rf "$bindir"' EXIT

# The e2e tests are the suite's longest package (~400 s on a new machine,
# mostly one browser's work in sequence) and went last among equals: in go
# test they started 105 s after the other packages' first tests, once their
# binary was compiled and vetted behind the rest. Their binary is built
# here, first, and run beside go test from the package's folder, as go test
# runs it.
phase "e2e tests (beside go test)"
go test -c -vet=off -ldflags=-w -o "$bindir/e2e.test" ./e2e
(cd e2e && exec "$bindir/e2e.test" -test.count=1 -test.timeout=40m) >"$bindir/e2e.log" 2>&1 &
e2e_pid=$!
e2e_start=$SECONDS
trap 'kill "$check_pid" "$e2e_pid" 2>/dev/null || true; rm -rf "$bindir"' EXIT

# Every analyzer on every package, test files included, while the e2e tests
# and the check run. Inside go test (-vet=all) the same vet cost 122 CPU-s
# against 62 for go vet ./... (fresh-clone runs at 36bdda8 and 5e796e2,
# process accounting): go test vets its recompiled test variants too.
phase "go vet"
go vet ./...

# -vet=off: go vet above ran every analyzer; go test's own vet (a subset)
# would compute every dependency's facts again.
# -p 4: four packages' tests at once, not GOMAXPROCS (2). The long ones
# (playground, cmd/playdoc, and e2e before it ran beside) mostly wait: on
# sandboxed programs that sleep, on the sandbox's warm-up, on the browser.
# With two slots, two of them held both while the CPUs idled, and the short
# packages (sandbox, share, site) ran only after them.
# -ldflags=-w: no DWARF in the test binaries (nothing here reads it;
# stack traces use the pcln table). Linking about 15 binaries of 40-50 MB
# costs ~25% less CPU without it.
# The sandbox tests probe the kernel (ia32 entry, Landlock ABI, cgroup version
# and controllers, seccomp actions, user namespaces, open_tree) and assert the
# strongest containment it allows; their line naming what they found is
# printed at the end (go test hides a passing package's output).
export PLAYDOC_HOST_FEATURES_REPORT="$bindir/host-features.txt"
phase "go test"
go test -count=1 -vet=off -p 4 -ldflags=-w -timeout 40m $(go list ./... | grep -vx 'playdoc/e2e')

e2e_status=0
wait "$e2e_pid" || e2e_status=$?
if [ "$e2e_status" != 0 ]; then
	cat "$bindir/e2e.log"
	echo "FAIL	playdoc/e2e (exit $e2e_status)"
	exit 1
fi
echo "ok  	playdoc/e2e	$((SECONDS - e2e_start)) s"

check_status=0
wait "$check_pid" || check_status=$?
phase "playdoc check's output"
cat "$bindir/check.log"
if [ "$check_status" != 0 ]; then
	echo "playdoc check failed (exit $check_status)"
	exit 1
fi
cat "$PLAYDOC_HOST_FEATURES_REPORT" 2>/dev/null || echo "(the sandbox tests wrote no host features line)"
phase "done"
