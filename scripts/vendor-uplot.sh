#!/usr/bin/env bash
# vendor-uplot.sh - refresh the dashboard's charting library from the npm
# registry: `npm pack uplot@VERSION`, check the tarball against the
# registry's sha512 integrity, copy the minified build, its CSS, LICENSE and
# package.json into src/dashboard/vendor/uplot/. Run by hand when upgrading;
# the build never fetches anything.
set -euo pipefail
version=${1:?usage: scripts/vendor-uplot.sh VERSION (e.g. 1.6.32)}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=$(dirname "$here")/src/dashboard/vendor/uplot
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "uplot@$version" >/dev/null
tarball=uplot-$version.tgz
want=$(npm view "uplot@$version" dist.integrity)
got=sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)
if [ "$want" != "$got" ]; then
  echo "vendor-uplot: $tarball is $got, the registry says $want" >&2
  exit 1
fi
tar xzf "$tarball"
cp package/dist/uPlot.iife.min.js package/dist/uPlot.min.css package/LICENSE package/package.json "$dest/"
echo "vendor-uplot: uPlot $version in $dest ($want); update VENDORED.md"
