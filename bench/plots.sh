#!/bin/sh
# plots.sh - run every benchmark and draw the pictures of docs/benchmarks.md.
#
#   bench/plots.sh [--bin PATH] [--data DIR] [--img DIR] [--png] [--replot] [--quick] [--doc]
#
# Runs `hashspace bench all --out DIR` (CSV per table, plus the text report
# in DIR/report.txt), then gnuplot bench/plots.gp on that data. --replot
# skips the run and draws from the CSVs already in DIR; --doc also rewrites
# the generated sections of docs/benchmarks.md (bench/benchmarks_md.py).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
bin="$top/build/hashspace"
data="$top/docs/data"
img="$top/docs/img"
ext=svg
run=1
quick=
doc=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --img) img=$2; shift 2 ;;
    --png) ext=png; shift ;;
    --replot) run=0; shift ;;
    --quick) quick=--quick; shift ;;
    --doc) doc=1; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "plots.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
command -v gnuplot >/dev/null || { echo "plots.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$data" "$img"
if [ "$run" = 1 ]; then
  [ -x "$bin" ] || { echo "plots.sh: no hashspace binary at $bin (build it, or pass --bin)" >&2; exit 1; }
  "$bin" bench all $quick --out "$data" > "$data/report.txt"
fi
gnuplot -e "data='$data'; out='$img'; ext='$ext'" "$here/plots.gp"
if [ "$doc" = 1 ]; then
  /usr/bin/python3 "$here/benchmarks_md.py" "$data" "$top/docs/benchmarks.md" \
    "bench/plots.sh --doc (hashspace bench all --out docs/data)"
fi
echo "plots.sh: pictures in $img, data in $data"
