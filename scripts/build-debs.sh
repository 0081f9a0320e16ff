#!/usr/bin/env bash
# build-debs.sh - build the Debian packages of this tree (debian/) and check them.
#
#   scripts/build-debs.sh [OUTDIR]     default OUTDIR: build-deb
#
# dpkg-buildpackage writes into debian/ and into the directory above the
# tree, so the packages are built in a copy of the tree (the tracked files
# and any uncommitted changes to them) under a temporary directory; OUTDIR
# receives the .deb files, the .changes and .buildinfo files, the build log
# and lintian's report. Then scripts/check-debs.sh checks the packages.
# Needs HS_DEPS_PACKAGING=1 scripts/deps.sh (debhelper, dh-python, lintian).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build-deb}")
jobs=${JOBS:-2}

work=$(mktemp -d "${TMPDIR:-/tmp}/hashspace-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
version=$(dpkg-parsechangelog -S Version)
src="$work/hashspace-$version"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  # Files deleted in the working tree but not yet in the index are skipped.
  [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
done | tar -c --null -T - | tar -x -C "$src"

echo "build-debs: building hashspace $version in $src" >&2
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
  dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  echo "build-debs: dpkg-buildpackage failed (log above)" >&2
  mkdir -p "$out" && cp "$work/build.log" "$out/"
  exit 1
}
rm -rf "$out"
mkdir -p "$out"
cp "$work/build.log" "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out/"
echo "build-debs: packages in $out:" >&2
(cd "$out" && ls -1 ./*.deb) >&2

# lintian: errors fail the build; warnings and information are reported.
lintian --display-info "$out"/*.changes >"$out/lintian.txt" 2>&1 || true
cat "$out/lintian.txt" >&2
if grep -q '^E: ' "$out/lintian.txt"; then
  echo "build-debs: lintian reports errors" >&2
  exit 1
fi

scripts/check-debs.sh "$out"
