#!/usr/bin/env bash
# Times playdoc and Hugo building the same synthetic corpus, side by side.
#
#   bench/hugo.sh [PAGES] [RUNS] [SECTIONS]   (defaults: 1000 pages, 5 runs, 0 = one flat folder)
#
# It installs Debian's hugo if missing, writes the corpus in both forms
# (go run ./bench/corpus), then times, alternating the two tools so that
# both see the same machine load:
#   cold: no output folder, no caches (playdoc's highlight cache and staging
#         folder removed, Hugo's resources and public removed);
#   warm: playdoc again, its highlight cache and last output kept.
# Both write their output to disk. Prints ms/page and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

pages=${1:-1000}
runs=${2:-5}
sections=${3:-0}
out=bench/out

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v hugo >/dev/null 2>&1; then
	echo "== installing hugo (Debian)"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hugo >/dev/null
fi

echo "== corpus: $pages pages in $sections sections"
go run ./bench/corpus -form playdoc -n "$pages" -sections "$sections" -out "$out/playdoc"
go run ./bench/corpus -form hugo -n "$pages" -sections "$sections" -out "$out/hugo"
go build -o "$out/playdoc-bin" ./cmd/playdoc
echo "hugo: $(hugo version | cut -d' ' -f1-2)"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
playdoc_cold() { rm -rf "$out/cache" "$out/playdoc-public" "$out/.playdoc-public.staging"; "$out/playdoc-bin" build --content "$out/playdoc" --out "$out/playdoc-public" --cache "$out/cache" >/dev/null; }
playdoc_warm() { "$out/playdoc-bin" build --content "$out/playdoc" --out "$out/playdoc-public" --cache "$out/cache" >/dev/null; }
hugo_build() { rm -rf "$out/hugo/resources" "$out/hugo-public"; hugo --quiet --source "$out/hugo" --destination "$PWD/$out/hugo-public" >/dev/null; }

# One untimed round to warm the file cache and the Go build cache.
playdoc_cold; hugo_build

if command -v hyperfine >/dev/null 2>&1; then
	export -f playdoc_cold playdoc_warm hugo_build
	export out
	hyperfine --runs "$runs" --shell bash playdoc_cold playdoc_warm hugo_build
	exit 0
fi

declare -A total=([cold]=0 [warm]=0 [hugo]=0)
for i in $(seq "$runs"); do
	t0=$(now_ms); playdoc_cold; t1=$(now_ms); playdoc_warm; t2=$(now_ms); hugo_build; t3=$(now_ms)
	printf "run %d: playdoc cold %5d ms, playdoc warm %5d ms, hugo %5d ms\n" "$i" $((t1 - t0)) $((t2 - t1)) $((t3 - t2))
	total[cold]=$((total[cold] + t1 - t0)); total[warm]=$((total[warm] + t2 - t1)); total[hugo]=$((total[hugo] + t3 - t2))
done

awk -v c="${total[cold]}" -v w="${total[warm]}" -v h="${total[hugo]}" -v n="$runs" -v p="$pages" 'BEGIN {
	printf "\nmean over %d runs, %d pages (wall time, output on disk):\n", n, p
	printf "  playdoc cold   %8.1f ms  %6.2f ms/page\n", c / n, c / n / p
	printf "  playdoc warm   %8.1f ms  %6.2f ms/page\n", w / n, w / n / p
	printf "  hugo           %8.1f ms  %6.2f ms/page\n", h / n, h / n / p
	printf "  ratio playdoc cold / hugo: %.2f   warm / hugo: %.2f\n", c / h, w / h
}'
bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.1f MB", s / 1e6}'; }
echo "  output (bytes of files): playdoc $(bytes "$out/playdoc-public"), hugo $(bytes "$out/hugo-public")"
