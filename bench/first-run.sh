#!/usr/bin/env bash
# A new reader's first Run on a new machine: how long after `playdoc serve`
# prints its URL the three-task program (fmt, sync, time: the standard
# library only) prints its first line and exits, with an empty playground
# data folder and an empty Go build cache (issue 8: within 20 s). Then a
# program that imports modernc.org/sqlite, which must wait for the modules'
# warm-up and be told so (its own exit, minutes later, is not waited for).
#
#   bench/first-run.sh [RUNS]     (default 1; each run starts from empty folders)
#
# Needs root (the sandbox) and curl. Prints one line per run, in seconds from
# the URL: the first stdout line and the exit, and the sqlite program's
# first message.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}

work=$(mktemp -d "${TMPDIR:-/tmp}/first-run.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/playdoc" ./cmd/playdoc

ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# post CODE: streams /api/run, printing "<ms> <line>" per NDJSON event.
post() {
	jq -n --arg code "$1" '{code: $code}' |
		curl -sN --max-time 600 -H 'Content-Type: application/json' --data-binary @- "$base/api/run" |
		while IFS= read -r line; do echo "$(ms) $line"; done
}

three='package main

import (
	"fmt"
	"sync"
	"time"
)

func main() {
	var wg sync.WaitGroup
	for _, name := range []string{"A", "B", "C"} {
		wg.Go(func() {
			fmt.Println("Task", name, "started")
			time.Sleep(2 * time.Second)
			fmt.Println("Task", name, "completed")
		})
	}
	wg.Wait()
}
'
sqlite='package main

import (
	"database/sql"
	"fmt"

	_ "modernc.org/sqlite"
)

func main() {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	var v string
	if err := db.QueryRow("select sqlite_version()").Scan(&v); err != nil {
		panic(err)
	}
	fmt.Println("sqlite", v)
}
'

command -v jq >/dev/null || { echo "bench/first-run.sh needs jq (apt-get install jq)"; exit 2; }
for i in $(seq "$runs"); do
	rm -rf "$work/data" "$work/gocache" "$work/log"
	mkdir -p "$work/data" "$work/gocache"
	port=$(( 20000 + RANDOM % 20000 ))
	base="http://127.0.0.1:$port"
	GOCACHE="$work/gocache" "$work/playdoc" serve --addr "127.0.0.1:$port" --data "$work/data" \
		--share-db "$work/data/shares.db" >"$work/log" 2>&1 &
	pid=$!
	until grep -q "$base" "$work/log" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || { cat "$work/log"; exit 1; }
		sleep 0.05
	done
	t0=$(ms)
	post "$sqlite" >"$work/sqlite" &
	sqlite_pid=$!
	post "$three" >"$work/three"
	kill "$sqlite_pid" 2>/dev/null || true
	first=$(grep -m1 '"kind":"stdout"' "$work/three" | cut -d' ' -f1)
	exit3=$(grep -m1 '"kind":"exit"' "$work/three" | cut -d' ' -f1)
	if [ -z "$first" ] || [ -z "$exit3" ]; then
		echo "run $i: the three-task program did not finish"; cat "$work/three"; exit 1
	fi
	told=$(grep -m1 '"kind":"compile-start"' "$work/sqlite" | cut -d' ' -f1)
	say=$(grep -m1 -o '"message":"[^"]*' "$work/sqlite" | cut -d'"' -f4)
	echo "run $i: three-task program: first stdout $(secs "$t0" "$first") s, exit $(secs "$t0" "$exit3") s;" \
		"sqlite program told at $(secs "$t0" "${told:-$t0}") s: ${say:-(no message)}"
	# Where the time went: the server's own milestones (ms since it started).
	awk '/msg="[^"]*ready/ && / ms=/ {
		match($0, /msg="[^"]*"/); m = substr($0, RSTART + 5, RLENGTH - 6)
		st = ""; if (match($0, /stage="[^"]*"/)) st = " (" substr($0, RSTART + 7, RLENGTH - 8) ")"
		match($0, / ms=[0-9]+/); print "  " m st ": " substr($0, RSTART + 4, RLENGTH - 4) " ms"
	}' "$work/log"
	if [ -n "${FIRST_RUN_LOG:-}" ]; then cp "$work/log" "$FIRST_RUN_LOG.$i"; fi
	kill -INT "$pid"; wait "$pid" || true; pid=
done
