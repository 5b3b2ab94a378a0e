#!/usr/bin/env bash
# Bounded fuzzing of the content loader (front matter, Markdown, fence
# attributes, raw HTML) and of link resolution: 10 s each (FUZZTIME to
# change it), seeded with the tutorial and site/testdata/authors (see
# site/fuzz_test.go). CI runs it after the test suite (.ci/run). Not part of
# scripts/test.sh: the seeds already run there as ordinary tests (go test
# ./site), while fuzzing builds every dependency again with coverage
# instrumentation, ~180 s of CPU on a new 2-core machine (process
# accounting of a fresh-clone run), a tenth of the whole suite's (issue 8).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
for target in FuzzPage FuzzLink; do
	echo "== fuzz $target for $fuzztime"
	go test -vet=off -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" -timeout 10m ./site
done
