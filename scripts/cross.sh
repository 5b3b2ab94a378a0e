#!/usr/bin/env bash
# playdoc build and serve must also build on authors' macOS and Windows
# machines (README, "Live reload"): CI cross-compiles for both after the
# test suite (.ci/run). Not part of scripts/test.sh: on an empty build cache
# each target costs ~2 min of CPU (the standard library and every
# dependency compiled again), which a 2-core machine's test run should not
# pay for a check that needs no test.
set -euo pipefail
cd "$(dirname "$0")/.."
for target in darwin/arm64 windows/amd64; do
	echo "== cross-compile for $target"
	GOOS=${target%/*} GOARCH=${target#*/} go build -o /dev/null ./cmd/playdoc
done
