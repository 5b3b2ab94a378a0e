#!/usr/bin/env bash
# Times playdoc and Hugo building the same synthetic corpus, side by side.
#
#   bench/hugo.sh [PAGES] [RUNS] [SECTIONS]   (defaults: 1000 pages, 5 runs, 20 sections; 0 = one flat folder)
#
# Hugo $HUGO_VERSION (default v0.165.0) is built once with `go install` into
# bench/out/_gopath (a leading _ keeps it out of ./... patterns) and kept there (a few minutes of CPU the first time).
# Debian's hugo is timed beside it when it is installed (or HUGO_DEBIAN=1
# installs it). GNU time measures each run; the script installs the Debian
# `time` package when /usr/bin/time is missing.
#
# It writes the corpus in both forms (go run ./bench/corpus), then times,
# alternating the tools in every round so that all see the same load:
#   cold: no output folder, no caches (playdoc's highlight cache and staging
#         folder removed, Hugo's resources and public removed);
#   warm: playdoc again, its highlight cache and last output kept.
# Every tool writes its output to disk. It prints, per tool, the median over
# the runs of wall time, CPU time (user + sys), peak RSS, and the output size
# (du -sb), as a Markdown table, and the ratios to the newest Hugo.
#
# WARMUP=0 skips the untimed first round; BENCH_OUT=DIR works in DIR instead of
# bench/out. BEFORE=<git revision> also times playdoc as built from that revision
# (before-cold, before-warm), for before/after tables in one run.
set -euo pipefail
cd "$(dirname "$0")/.."

pages=${1:-1000}
runs=${2:-5}
sections=${3:-20}
hugo_version=${HUGO_VERSION:-v0.165.0}
# BENCH_OUT puts the corpus and outputs elsewhere (for runs side by side);
# Hugo's build stays in bench/out.
out=${BENCH_OUT:-bench/out}
mkdir -p "$out" bench/out

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
if [ ! -x /usr/bin/time ]; then
	echo "== installing GNU time (Debian)"
	apt_install time
fi
if [ "${HUGO_DEBIAN:-0}" = 1 ] && [ ! -x /usr/bin/hugo ]; then
	echo "== installing hugo (Debian)"
	apt_install hugo
fi

hugo_new=$PWD/bench/out/bin/hugo-$hugo_version
if [ ! -x "$hugo_new" ]; then
	echo "== building Hugo $hugo_version with go install (once; kept in $out/bin)"
	GOPATH=$PWD/bench/out/_gopath GOBIN=$PWD/bench/out/gobin GOFLAGS=-modcacherw \
		go install "github.com/gohugoio/hugo@$hugo_version"
	mkdir -p bench/out/bin
	mv bench/out/gobin/hugo "$hugo_new"
fi

echo "== corpus: $pages pages in $sections sections"
go run ./bench/corpus -form playdoc -n "$pages" -sections "$sections" -out "$out/playdoc"
go run ./bench/corpus -form hugo -n "$pages" -sections "$sections" -out "$out/hugo"
go build -o "$out/playdoc-bin" ./cmd/playdoc
declare -A bin=([playdoc]=$out/playdoc-bin)
tools=(playdoc-cold playdoc-warm)
if [ -n "${BEFORE:-}" ]; then
	src=$(mktemp -d)
	git archive "$BEFORE" | tar -x -C "$src"
	(cd "$src" && go build -o "$OLDPWD/$out/before-bin" ./cmd/playdoc)
	rm -rf "$src"
	bin[before]=$out/before-bin
	tools+=(before-cold before-warm)
	echo "before: $(git log -1 --format='%h %s' "$BEFORE" | cut -c1-80)"
fi
tools+=("hugo-${hugo_version#v}")
declare -A hugo_bin=(["hugo-${hugo_version#v}"]=$hugo_new)
if [ -x /usr/bin/hugo ]; then
	deb="hugo-$(/usr/bin/hugo version | grep -o 'v[0-9.]*' | head -1 | tr -d v)-debian"
	tools+=("$deb")
	hugo_bin[$deb]=/usr/bin/hugo
fi
for t in "${tools[@]}"; do
	if [ -n "${hugo_bin[$t]:-}" ]; then echo "$t: $("${hugo_bin[$t]}" version | cut -d' ' -f1-2)"; fi
done

# run TOOL LOG: one build, its wall, user, sys (s) and peak RSS (KB) appended to LOG.
run() {
	local tool=$1 log=$2
	case $tool in
	playdoc-* | before-*)
		local v=${tool%-*} # playdoc or before
		if [ "${tool#*-}" = cold ]; then
			rm -rf "$out/$v-cache" "$out/$v-public" "$out/.$v-public.staging"
		fi
		/usr/bin/time -a -o "$log" -f '%e %U %S %M' "${bin[$v]}" build --content "$out/playdoc" --out "$out/$v-public" --cache "$out/$v-cache" --base-url https://example.org/ >/dev/null
		;;
	*)
		rm -rf "$out/hugo/resources" "$out/$tool-public"
		/usr/bin/time -a -o "$log" -f '%e %U %S %M' "${hugo_bin[$tool]}" --quiet --source "$out/hugo" --destination "$PWD/$out/$tool-public" >/dev/null
		;;
	esac
}

# One untimed round to warm the file cache (WARMUP=0 skips it, for long runs).
if [ "${WARMUP:-1}" != 0 ]; then
	for t in "${tools[@]}"; do run "$t" /dev/null; done
fi
logs=$(mktemp -d)
for i in $(seq "$runs"); do
	for t in "${tools[@]}"; do run "$t" "$logs/$t"; done
	printf "run %d:" "$i"
	for t in "${tools[@]}"; do printf "  %s %ss" "$t" "$(tail -1 "$logs/$t" | cut -d' ' -f1)"; done
	echo
done

size() { # output bytes of TOOL
	case $1 in
	playdoc-* | before-*) du -sb "$out/${1%-*}-public" | cut -f1 ;;
	*) du -sb "$out/$1-public" | cut -f1 ;;
	esac
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ref=hugo-${hugo_version#v}
ref_wall=$(cut -d' ' -f1 "$logs/$ref" | median)
echo
echo "$pages pages, $sections sections, medians of $runs alternating runs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg):"
echo
echo "| | wall | per page | CPU (user+sys) | peak RSS | output | wall / $ref |"
echo "|---|---|---|---|---|---|---|"
for t in "${tools[@]}"; do
	wall=$(cut -d' ' -f1 "$logs/$t" | median)
	cpu=$(awk '{print $2 + $3}' "$logs/$t" | median)
	rss=$(cut -d' ' -f4 "$logs/$t" | median)
	awk -v t="$t" -v w="$wall" -v c="$cpu" -v r="$rss" -v o="$(size "$t")" -v p="$pages" -v h="$ref_wall" 'BEGIN {
		printf "| %s | %.2f s | %.2f ms | %.2f s | %.0f MB | %.1f MB | %.2f× |\n", t, w, w * 1000 / p, c, r / 1024, o / 1e6, w / h
	}'
done
rm -rf "$logs"
